/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Command lines from tables. A program (or one of its commands) describes
 * each option in one row: its long name, short letter, the kind of value
 * it takes, where the value goes, its bounds, whether it is required, the
 * name of its value and one line of help. kc_opts_parse() builds
 * getopt_long's arguments from the rows, checks every value against its
 * row and stores it; `--help` prints help made from the same rows, so the
 * two cannot drift apart.
 *
 * Messages name the option and quote the input, the same way for every
 * program ("kcourier: recv: --count 'x' is not a whole number from 0 to
 * 1000000000000"), and are followed by the usage lines on stderr. A usage
 * error exits with the spec's error_exit; help exits 0.
 *
 * An option given twice keeps its last value (scripts build command lines
 * from pieces and override earlier ones); a repeatable option stores each
 * value in the next element of its array, up to its limit.
 *
 * A row's target is a pointer, so tables are built where the targets
 * live, usually in the function that parses. The KC_OPT_* macros of
 * opts_table.h set kind, target and size together and let the compiler
 * check the target's type. The help is opts_text.h.
 */
#ifndef KC_OPTS_H
#define KC_OPTS_H

#include <stdarg.h>
#include <stdbool.h>

#include "base/opts_table.h"
#include "base/opts_text.h"

/*
 * Parses argv[1..] into the rows' targets (getopt's state is reset
 * first). True to go on; false when done, with *rc the exit code: 0 after
 * --help (or a KC_OPT_PRINT row), error_exit after a message.
 */
bool kc_opts_parse(const struct kc_opts *spec, int argc, char **argv, int *rc);

/* "<prog>: [<cmd>: ]<message>\n" on stderr. */
void kc_opts_err(const struct kc_opts *spec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * A usage error found after parsing (options that do not go together):
 * the message, the usage lines, and the exit code to return.
 */
int kc_opts_fail(const struct kc_opts *spec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "<prog>: <message>\n" on stderr: every message for humans. */
void kc_cmd_err(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same with "<cmd>: " after the prefix when cmd is set. */
void kc_cmd_verr(const char *prog, const char *cmd, const char *fmt,
		 va_list ap);

#endif
