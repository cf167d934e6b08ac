/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Log lines of the running agent: stderr, one line per event, prefixed
 * "kcourierd: ". Events a peer can trigger (bad frames, failed handshakes,
 * timeouts) go through kc_log_peer, which lets a burst through and then
 * at most a few lines per second, and says how many it dropped, so a
 * flood of bad clients cannot flood the log. Never pass keys or plaintext.
 */
#ifndef KC_RATELOG_H
#define KC_RATELOG_H

__attribute__((format(printf, 1, 2))) void kc_log(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void kc_log_peer(const char *fmt, ...);

#endif
