/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * user_data of every SQE a worker submits: op:8 | generation:24 | slot:32.
 *
 * The generation is the connection slot's counter at submission time; a
 * slot bumps it when it is reused, so a completion that arrives for a
 * connection already closed (a stale CQE) no longer matches and is
 * dropped. Ops without a connection use slot 0 and generation 0.
 */
#ifndef KC_UDATA_H
#define KC_UDATA_H

#include <stdint.h>

enum kc_op {
	KC_OP_NONE = 0, /* completions nobody waits for */
	KC_OP_ACCEPT,
	KC_OP_RECV,
	KC_OP_SEND,
	KC_OP_TICK,
	KC_OP_WAKE, /* MSG_RING from another thread: look at the inbox */
	KC_OP_LOG_WRITE, /* the committer's round: its records... */
	KC_OP_LOG_SYNC,	 /* ... and the fdatasync linked after them */
	KC_OP_COUNT,
};

#define KC_GEN_MASK 0xffffffu

static inline uint64_t kc_udata(enum kc_op op, uint32_t gen, uint32_t slot)
{
	return (uint64_t)op << 56 | (uint64_t)(gen & KC_GEN_MASK) << 32 | slot;
}

static inline enum kc_op kc_udata_op(uint64_t ud)
{
	return (enum kc_op)(ud >> 56);
}

static inline uint32_t kc_udata_gen(uint64_t ud)
{
	return (uint32_t)(ud >> 32) & KC_GEN_MASK;
}

static inline uint32_t kc_udata_slot(uint64_t ud)
{
	return (uint32_t)ud;
}

#endif
