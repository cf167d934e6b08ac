/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Flow control of a connection's input against its output and the
 * worker's turn (docs/OPERATIONS.md "Limits and hardening"):
 *
 * - a connection whose unsent output is above output_pause_bytes, or
 *   above 64 KiB while every connection's together is above
 *   output_memory_mb, has no more frames handled and its recv stopped
 *   until its peer reads: answers cannot pile up faster than they leave;
 * - a connection gets at most frames_per_turn frames handled in one loop
 *   turn; the rest wait for the next turn, after every other connection
 *   had its share;
 * - bytes the kernel hands over after the pause began go to `stash` and
 *   are fed first when the connection resumes.
 */
#ifndef KC_CONN_FLOW_H
#define KC_CONN_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn/conn.h"

/* Whether one more frame may be handled now (sets the flags that say why not).
 */
bool kc_conn_flow_may_take(struct kc_conn *c);
/*
 * Input the TLS engine cannot take while frames wait: kept for later and
 * the recv stopped. 0, or -ENOBUFS past the stash's cap.
 */
int kc_conn_flow_stash(struct kc_conn *c, const uint8_t *p, size_t len);
/* Step 2, first: the stash into the engine, and the recv back on. */
void kc_conn_flow_unstash(struct kc_conn *c);
/* Step 5, last: output went down far enough to take requests again. */
void kc_conn_flow_resume(struct kc_conn *c);
/* Brings shared->out_bytes up to date with c's backlog. */
void kc_conn_flow_account(struct kc_conn *c);
#endif
