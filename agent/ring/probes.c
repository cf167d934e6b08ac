// SPDX-License-Identifier: GPL-2.0-only
/*
 * The probes' semaphores and the sampling knob: see probes.h.
 */
#include <stdatomic.h>

#include "ring/counters.h"
#include "ring/probes.h"

#define KC_PROBE_SEMAPHORE_DEF(name)                                           \
	volatile unsigned short kcourier_##name##_semaphore                    \
		__attribute__((section(".probes"), used))

KC_PROBE_SEMAPHORE_DEF(msg_done);
KC_PROBE_SEMAPHORE_DEF(msg_deliver);
KC_PROBE_SEMAPHORE_DEF(msg_delivered);
KC_PROBE_SEMAPHORE_DEF(commit_done);
KC_PROBE_SEMAPHORE_DEF(session_open);
KC_PROBE_SEMAPHORE_DEF(session_close);
KC_PROBE_SEMAPHORE_DEF(mac_fail);
KC_PROBE_SEMAPHORE_DEF(replay);
KC_PROBE_SEMAPHORE_DEF(duplicate);
KC_PROBE_SEMAPHORE_DEF(tls_mode);
KC_PROBE_SEMAPHORE_DEF(keyring_quota);

/* Written from outside the process: `used` keeps its symbol. */
volatile uint32_t kc_probe_sample __attribute__((used));

/* What automatic sampling settled on last second. */
static _Atomic uint32_t auto_every = 1;

uint32_t kc_probe_every(void)
{
	uint32_t n = kc_probe_sample;

	return n ? n : atomic_load_explicit(&auto_every, memory_order_relaxed);
}

static uint64_t acked_total(void)
{
	struct kc_counter_sum sum;
	uint64_t n = 0;

	kc_counters_sum(&sum);
	for (int i = 0; i < KC_CTR_STATUSES; i++)
		n += sum.acked[i];
	return n;
}

void kc_probe_auto_tick(uint64_t now_ms)
{
	static uint64_t last_ms, last_acked; /* one caller: worker 0 */
	uint64_t acked, every;

	if (now_ms < last_ms + 1000)
		return;
	acked = acked_total();
	every = (acked - last_acked) * 1000 / (now_ms - last_ms + !last_ms) /
			KC_PROBE_AUTO_RATE +
		1;
	last_ms = now_ms;
	last_acked = acked;
	atomic_store_explicit(&auto_every,
			      every > UINT32_MAX ? UINT32_MAX : (uint32_t)every,
			      memory_order_relaxed);
}
