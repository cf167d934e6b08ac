/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * No core dumps from kcourierd: every command holds decrypted keys (the CA
 * key, the TLS and seal keys, session keys), and a core file would write
 * them to disk where any later reader of the dump directory finds them.
 */
#ifndef KC_AGENT_NOCORE_H
#define KC_AGENT_NOCORE_H

/*
 * PR_SET_DUMPABLE 0 (no core, no ptrace attach by the same uid, /proc/PID
 * files owned by root) and RLIMIT_CORE 0 (so a later setuid or a
 * dumpable-again kernel path still writes nothing). Returns 0 or -errno of
 * the first call that failed; both are always tried.
 */
int kcd_no_core_dumps(void);

#endif
