/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The clocks, in the units the code uses. Wall time is for the protocol's
 * `*_ms` fields and for what people read (milliseconds since the Unix
 * epoch, UTC); monotonic time is for every deadline, interval and
 * measurement, since the wall clock can jump.
 */
#ifndef KC_CLOCK_H
#define KC_CLOCK_H

#include <stdint.h>

/* CLOCK_REALTIME in milliseconds since the epoch. */
int64_t kc_wall_ms(void);
/* CLOCK_MONOTONIC in milliseconds, nanoseconds and seconds. */
uint64_t kc_mono_ms(void);
uint64_t kc_mono_ns(void);
double kc_mono_s(void);

#endif
