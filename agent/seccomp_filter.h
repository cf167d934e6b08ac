/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The system-call allow-list of `kcourierd run` (libseccomp). It goes on
 * once the agent is up (workers started, keys loaded, privileges dropped)
 * and covers every thread: the workers, the committer and the main thread
 * (SECCOMP_FILTER_FLAG_TSYNC), since they share one address space and a
 * hole in one is a hole in all.
 *
 * What is allowed is what the running agent calls: memory, threads and
 * their signals, clocks, files in the state directory, TCP, AF_UNIX (the
 * control socket) and AF_ALG sockets, io_uring, the keyring. Everything
 * else fails with EPERM (so does socket() of any other family); a few
 * calls that only an attacker running code in the agent would make
 * (execve, execveat, ptrace, process_vm_readv and _writev) kill the whole
 * process at once. io_uring's own operations do not pass through seccomp; the
 * ring only carries what the agent itself queues.
 *
 * Under ASan (SANITIZE=1) LeakSanitizer stops the world at exit with a
 * clone()d tracer that ptraces every thread: those calls are allowed in
 * that build only.
 */
#ifndef KC_AGENT_SECCOMP_FILTER_H
#define KC_AGENT_SECCOMP_FILTER_H

#include <stdbool.h>

/*
 * Loads the filter into every thread of the process (all_threads, the
 * agent) or the calling thread only (tests). 0 or -errno.
 */
int kcd_seccomp_install(bool all_threads);

#endif
