/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * USDT probes (provider "kcourier"), for bpftrace, perf and kcourier-lat
 * (docs/OPERATIONS.md "Probes"). Debian's systemtap-sdt-dev gives the
 * notes (sys/sdt.h): each probe is a nop and an ELF note until a tracer
 * attaches, and each has a semaphore the tracer raises while attached, so
 * the arguments are not even computed while nobody listens:
 *
 *	if (KC_PROBE_ON(msg_done))
 *		KC_PROBE8(msg_done, ...);
 *
 * A traced hit costs about a microsecond (a uprobe trap), so the per-message
 * probes fire for one message in N (kc_probe_every()); the rare-event ones
 * always.
 */
#ifndef KC_PROBES_H
#define KC_PROBES_H

#include <stdbool.h>
#include <stdint.h>

#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

/*
 * One semaphore per probe, in the .probes section where tracers look for
 * them (they are what sys/sdt.h's notes point at); probes.c defines them.
 */
#define KC_PROBE_SEMAPHORE(name)                                               \
	extern volatile unsigned short kcourier_##name##_semaphore

KC_PROBE_SEMAPHORE(msg_done);
KC_PROBE_SEMAPHORE(msg_deliver);
KC_PROBE_SEMAPHORE(msg_delivered);
KC_PROBE_SEMAPHORE(commit_done);
KC_PROBE_SEMAPHORE(session_open);
KC_PROBE_SEMAPHORE(session_close);
KC_PROBE_SEMAPHORE(mac_fail);
KC_PROBE_SEMAPHORE(replay);
KC_PROBE_SEMAPHORE(duplicate);
KC_PROBE_SEMAPHORE(tls_mode);
KC_PROBE_SEMAPHORE(keyring_quota);

#define KC_PROBE_ON(name) __builtin_expect(kcourier_##name##_semaphore, 0)

#define KC_PROBE1(n, a) STAP_PROBE1(kcourier, n, a)
#define KC_PROBE2(n, a, b) STAP_PROBE2(kcourier, n, a, b)
#define KC_PROBE3(n, a, b, c) STAP_PROBE3(kcourier, n, a, b, c)
#define KC_PROBE4(n, a, b, c, d) STAP_PROBE4(kcourier, n, a, b, c, d)
#define KC_PROBE8(n, a, b, c, d, e, f, g, h)                                   \
	STAP_PROBE8(kcourier, n, a, b, c, d, e, f, g, h)

/*
 * The sampling knob: the per-message probes fire for one message in N.
 * It is a plain global so that a tracer can change it in the running
 * agent without a restart (kcourier-lat --sample writes it through
 * process_vm_writev; bpftrace can read it as a symbol): 1 is every
 * message, 0 (the default) is automatic: every message while the agent
 * acknowledges fewer than KC_PROBE_AUTO_RATE a second, else a stride
 * that keeps the traced hits near that rate per probe. commit_done is
 * sampled the same way by round: rounds come often under load.
 */
extern volatile uint32_t kc_probe_sample;
#define KC_PROBE_AUTO_RATE 100u

/* The stride in force: kc_probe_sample, or the automatic one. */
uint32_t kc_probe_every(void);
/*
 * One thread (worker 0) calls this at its tick: it sets the automatic
 * stride from the messages acknowledged since the last call.
 */
void kc_probe_auto_tick(uint64_t now_ms);
/*
 * Whether the message at this position (a counter each worker keeps, or a
 * queue position, so that a message's DELIVER and DELIVERED pick alike)
 * is one the per-message probes report.
 */
static inline bool kc_probe_pick(uint64_t n)
{
	uint32_t every = kc_probe_every();

	return every <= 1 || n % every == 0;
}

#endif
