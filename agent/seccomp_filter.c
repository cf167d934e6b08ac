// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's system-call allow-list: see seccomp_filter.h.
 */
#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

#include <seccomp.h>

#include "seccomp_filter.h"

/* gcc says __SANITIZE_ADDRESS__, clang (SANITIZE=1 builds) only this. */
#if defined(__SANITIZE_ADDRESS__)
#define KC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KC_ASAN 1
#endif
#endif

/* What the agent's threads call once it is up, grouped by why. */
static const int allowed[] = {
	/* memory */
	SCMP_SYS(brk),
	SCMP_SYS(mmap),
	SCMP_SYS(munmap),
	SCMP_SYS(mremap),
	SCMP_SYS(mprotect),
	SCMP_SYS(madvise),
	SCMP_SYS(mlock),
	SCMP_SYS(munlock),
	/* threads, locks, signals, leaving */
	SCMP_SYS(futex),
	SCMP_SYS(set_robust_list),
	SCMP_SYS(rseq),
	SCMP_SYS(sched_yield),
	SCMP_SYS(sched_getaffinity),
	SCMP_SYS(getpid),
	SCMP_SYS(gettid),
	SCMP_SYS(tgkill),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigtimedwait),
	SCMP_SYS(sigaltstack),
	SCMP_SYS(signalfd4),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	SCMP_SYS(getuid),
	SCMP_SYS(geteuid),
	SCMP_SYS(getgid),
	SCMP_SYS(getegid),
	SCMP_SYS(prlimit64),
	SCMP_SYS(getrlimit),
	SCMP_SYS(uname),
	SCMP_SYS(sysinfo),
	/* clocks and randomness */
	SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(getrandom),
	/* files: the state directory, SQLite, the message log, logs */
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(pread64),
	SCMP_SYS(pwrite64),
	SCMP_SYS(readv),
	SCMP_SYS(writev),
	SCMP_SYS(openat),
	SCMP_SYS(close),
	SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),
	SCMP_SYS(statx),
	SCMP_SYS(lseek),
	SCMP_SYS(fsync),
	SCMP_SYS(fdatasync),
	SCMP_SYS(fallocate),
	SCMP_SYS(ftruncate),
	SCMP_SYS(unlink),
	SCMP_SYS(unlinkat),
	SCMP_SYS(rename),
	SCMP_SYS(renameat),
	SCMP_SYS(renameat2),
	SCMP_SYS(mkdir),
	SCMP_SYS(mkdirat),
	SCMP_SYS(getdents64),
	SCMP_SYS(fcntl),
	SCMP_SYS(flock),
	SCMP_SYS(dup),
	SCMP_SYS(dup3),
	SCMP_SYS(fchmod),
	SCMP_SYS(fchown),
	SCMP_SYS(access),
	SCMP_SYS(faccessat),
	SCMP_SYS(faccessat2),
	SCMP_SYS(readlink),
	SCMP_SYS(readlinkat),
	SCMP_SYS(chmod),
	SCMP_SYS(fchmodat),
	SCMP_SYS(fstatfs),
	SCMP_SYS(getrusage),
	SCMP_SYS(fadvise64),
	SCMP_SYS(getcwd),
	SCMP_SYS(umask),
	SCMP_SYS(ioctl),
	/* sockets (their families: socket_families below) */
	SCMP_SYS(bind),
	SCMP_SYS(listen),
	SCMP_SYS(accept),
	SCMP_SYS(accept4),
	SCMP_SYS(connect),
	SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt),
	SCMP_SYS(getsockname),
	SCMP_SYS(getpeername),
	SCMP_SYS(sendto),
	SCMP_SYS(recvfrom),
	SCMP_SYS(sendmsg),
	SCMP_SYS(recvmsg),
	SCMP_SYS(shutdown),
	SCMP_SYS(poll),
	/* the metrics endpoint (libmicrohttpd: epoll, its wake-up eventfd) */
	SCMP_SYS(epoll_create1),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(eventfd2),
	SCMP_SYS(ppoll),
	/* io_uring and the keyring */
	SCMP_SYS(io_uring_setup),
	SCMP_SYS(io_uring_enter),
	SCMP_SYS(io_uring_register),
	SCMP_SYS(add_key),
	SCMP_SYS(keyctl),
	SCMP_SYS(request_key),
};

/* Code running in the agent that calls these is an attacker's: die. */
static const int fatal[] = {
	SCMP_SYS(execve),	    SCMP_SYS(execveat),
	SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
#ifndef KC_ASAN
	SCMP_SYS(ptrace),
#endif
};

/* LeakSanitizer's stop-the-world at exit (see seccomp_filter.h). */
static const int sanitizer_only[] = {
#ifdef KC_ASAN
	SCMP_SYS(clone),
	SCMP_SYS(clone3),
	SCMP_SYS(ptrace),
	SCMP_SYS(wait4),
	SCMP_SYS(waitid),
	SCMP_SYS(prctl),
	SCMP_SYS(getppid),
	SCMP_SYS(kill),
	SCMP_SYS(open),
	SCMP_SYS(stat),
	SCMP_SYS(getdents),
	SCMP_SYS(pipe2),
	SCMP_SYS(sched_getparam),
#endif
	-1,
};

/* The families the agent opens: TCP, AF_UNIX (control.h), AF_ALG. */
static const int socket_families[] = { AF_UNIX, AF_INET, AF_INET6, AF_ALG };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int add_all(scmp_filter_ctx ctx, uint32_t action, const int *calls,
		   size_t n)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < n; i++)
		if (calls[i] >= 0)
			ret = seccomp_rule_add(ctx, action, calls[i], 0);
	return ret;
}

static int add_sockets(scmp_filter_ctx ctx)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < COUNT(socket_families); i++) {
		/* Spelt out: SCMP_A0 leaves datum_b to clang's -Wextra. */
		const struct scmp_arg_cmp family = {
			.arg = 0,
			.op = SCMP_CMP_EQ,
			.datum_a = (scmp_datum_t)socket_families[i],
			.datum_b = 0,
		};

		ret = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW,
					     SCMP_SYS(socket), 1, &family);
	}
	return ret;
}

static int build(scmp_filter_ctx ctx, bool all_threads)
{
	int ret = add_all(ctx, SCMP_ACT_ALLOW, allowed, COUNT(allowed));

	if (!ret)
		ret = add_all(ctx, SCMP_ACT_ALLOW, sanitizer_only,
			      COUNT(sanitizer_only));
	if (!ret)
		ret = add_all(ctx, SCMP_ACT_KILL_PROCESS, fatal, COUNT(fatal));
	if (!ret)
		ret = add_sockets(ctx);
	if (!ret && all_threads)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	return ret;
}

int kcd_seccomp_install(bool all_threads)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int ret;

	if (!ctx)
		return -ENOMEM;
	ret = build(ctx, all_threads);
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret;
}
