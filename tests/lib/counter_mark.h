/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A home's message counter mark (lib/client/counter.h) as the tests see
 * it: read with stdio, not with the code under test, and exact about the
 * form (20 digits and a newline).
 */
#ifndef KC_TEST_COUNTER_MARK_H
#define KC_TEST_COUNTER_MARK_H

/* HOME/send-counter's mark; -1 when missing, empty or not one mark line. */
long long counter_mark(const char *home);

#endif
