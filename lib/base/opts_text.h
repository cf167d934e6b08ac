/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the rows of an option table (base/opts_table.h) say about
 * themselves: the usage line, the help, and the words messages use, so
 * that help, usage and messages all come from the same rows.
 *
 * Help is the usage, the description, more_help, then one line per row:
 * "  -x, --name VALUE  help (bounds, default)", wrapped to 80 columns,
 * headings where the table has them, -h/--help last, and the footer.
 * The default shown is the target's value as it is when help is printed
 * (kc_opts_parse prints it before storing any value), or the row's def.
 */
#ifndef KC_OPTS_TEXT_H
#define KC_OPTS_TEXT_H

#include <stddef.h>
#include <stdio.h>

#include "base/opts_table.h"

/* The whole help: usage, description, more_help, options, footer. */
void kc_opts_help(const struct kc_opts *spec, FILE *f);
/* Only the usage line(s): the spec's synopsis, or one made from the rows. */
void kc_opts_usage(const struct kc_opts *spec, FILE *f);

/* "--dir DIR", "--json": the option as the usage shows it. */
void kc_opt_words(const struct kc_opt *o, char *buf, size_t cap);
/*
 * What a value of a number or choice row must be, for "--opt 'ARG' is
 * not <that>": "a whole number of bytes from 24 to 16777216", "one of
 * auto, afalg, user".
 */
void kc_opt_wanted(const struct kc_opt *o, char *buf, size_t cap);

#endif
