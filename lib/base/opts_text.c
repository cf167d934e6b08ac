// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the rows of an option table say about themselves: the usage line,
 * the help, and the words messages use; see opts_text.h.
 */
#include <stdint.h>
#include <string.h>

#include "base/opts_text.h"

#define WIDTH 79	/* help lines end before the 80th column */
#define COLUMN_MAX 28	/* option help starts here at the latest */
#define USAGE_INDENT 11 /* under the program name of "usage: prog" */

/* Words. */

static bool is_number(const struct kc_opt *o)
{
	return o->kind == KC_OPT_UINT || o->kind == KC_OPT_REAL ||
	       o->kind == KC_OPT_MSEC;
}

/* Whole numbers in full (1000000000000, not 1e+12), others as %g. */
static void num_text(double v, char *buf, size_t cap)
{
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		snprintf(buf, cap, "%lld", (long long)v);
	else
		snprintf(buf, cap, "%g", v);
}

static const char *unit_of(const struct kc_opt *o)
{
	return o->kind == KC_OPT_MSEC ? "seconds" : o->unit;
}

/* "1 to 1000" or "above 0, up to 3600"; with_from: "from 1 to 1000". */
static void range_text(const struct kc_opt *o, bool with_from, char *buf,
		       size_t cap)
{
	char lo[32], hi[32];

	num_text(o->min, lo, sizeof(lo));
	num_text(o->max, hi, sizeof(hi));
	if (o->above_min)
		snprintf(buf, cap, "above %s, up to %s", lo, hi);
	else
		snprintf(buf, cap, "%s%s to %s", with_from ? "from " : "", lo,
			 hi);
}

/* "a whole number of bytes from 24 to 16777216" */
static void number_wanted(const struct kc_opt *o, char *buf, size_t cap)
{
	const char *unit = unit_of(o);
	char range[80];

	range_text(o, true, range, sizeof(range));
	snprintf(buf, cap, "a %s%s%s %s",
		 o->kind == KC_OPT_UINT ? "whole number" : "number",
		 unit ? " of " : "", unit ? unit : "", range);
}

/* "a|b|c" (sep "|") or "a, b, c" (sep ", "). */
static void choices_text(const struct kc_opt *o, const char *sep, char *buf,
			 size_t cap)
{
	const char *const *c;
	size_t n = 0;

	buf[0] = '\0';
	for (c = o->choices; *c && n < cap; c++)
		n += (size_t)snprintf(buf + n, cap - n, "%s%s",
				      c == o->choices ? "" : sep, *c);
}

static const char *metavar_of(const struct kc_opt *o, char *buf, size_t cap)
{
	if (o->metavar)
		return o->metavar;
	if (o->kind != KC_OPT_CHOICE)
		return "VALUE";
	choices_text(o, "|", buf, cap);
	return buf;
}

void kc_opt_words(const struct kc_opt *o, char *buf, size_t cap)
{
	char list[256];

	if (kc_opt_takes_value(o))
		snprintf(buf, cap, "--%s %s", o->name,
			 metavar_of(o, list, sizeof(list)));
	else
		snprintf(buf, cap, "--%s", o->name);
}

void kc_opt_wanted(const struct kc_opt *o, char *buf, size_t cap)
{
	size_t n;

	if (o->kind != KC_OPT_CHOICE) {
		number_wanted(o, buf, cap);
		return;
	}
	n = (size_t)snprintf(buf, cap, "one of ");
	if (n < cap)
		choices_text(o, ", ", buf + n, cap - n);
}

/* Defaults. */

static uint64_t read_uint(const struct kc_opt *o)
{
	uint32_t v32;
	uint64_t v64;

	if (o->size == sizeof(v32)) {
		memcpy(&v32, o->to.uint, sizeof(v32));
		return v32;
	}
	memcpy(&v64, o->to.uint, sizeof(v64));
	return v64;
}

/* The default as the target holds it before parsing, or the row's text. */
static bool default_text(const struct kc_opt *o, char *buf, size_t cap)
{
	if (o->def) {
		snprintf(buf, cap, "%s", o->def);
		return true;
	}
	if (o->repeat)
		return false;
	if ((o->kind == KC_OPT_STRING || o->kind == KC_OPT_CHOICE) &&
	    *o->to.str)
		snprintf(buf, cap, "%s", *o->to.str);
	else if (o->kind == KC_OPT_UINT && read_uint(o))
		snprintf(buf, cap, "%llu", (unsigned long long)read_uint(o));
	else if (o->kind == KC_OPT_REAL && *o->to.real)
		num_text(*o->to.real, buf, cap);
	else if (o->kind == KC_OPT_MSEC && *o->to.msec)
		num_text(*o->to.msec / 1000.0, buf, cap);
	else
		return false;
	return true;
}

/* Help. */

/* Words out to a stream, wrapped at WIDTH; continued lines at indent. */
struct wrap {
	FILE *f;
	int col, indent;
	bool fresh; /* nothing on this line yet after the indent */
};

static void wrap_break(struct wrap *w)
{
	fprintf(w->f, "\n%*s", w->indent, "");
	w->col = w->indent;
	w->fresh = true;
}

static void wrap_word(struct wrap *w, const char *word, size_t n)
{
	if (!w->fresh && w->col + 1 + (int)n > WIDTH)
		wrap_break(w);
	if (!w->fresh) {
		fputc(' ', w->f);
		w->col++;
	}
	fwrite(word, 1, n, w->f);
	w->col += (int)n;
	w->fresh = false;
}

/* Text split at blanks; a newline in it starts a new line. */
static void wrap_text(struct wrap *w, const char *text)
{
	size_t n;

	while (*text) {
		if (*text == '\n')
			wrap_break(w);
		if (*text == '\n' || *text == ' ') {
			text++;
			continue;
		}
		n = strcspn(text, " \n");
		wrap_word(w, text, n);
		text += n;
	}
}

static void usage_token(struct wrap *w, const struct kc_opt *o)
{
	char words[300], token[320];

	kc_opt_words(o, words, sizeof(words));
	snprintf(token, sizeof(token), o->required ? "%s%s" : "[%s]%s", words,
		 o->repeat ? "..." : "");
	wrap_word(w, token, strlen(token));
}

static void usage_args(struct wrap *w, const struct kc_opts *spec)
{
	char token[80];
	size_t i;

	for (i = 0; i < spec->n_args; i++) {
		snprintf(token, sizeof(token),
			 spec->args[i].optional ? "[%s]" : "%s",
			 spec->args[i].name);
		wrap_word(w, token, strlen(token));
	}
}

void kc_opts_usage(const struct kc_opts *spec, FILE *f)
{
	struct wrap w = { .f = f };
	size_t i;

	if (spec->synopsis) {
		fprintf(f, "usage: %s\n", spec->synopsis);
		return;
	}
	w.col = fprintf(f, "usage: %s%s%s%s%s", spec->prog,
			spec->pre ? " " : "", spec->pre ? spec->pre : "",
			spec->cmd ? " " : "", spec->cmd ? spec->cmd : "");
	/* Continued lines under the first option, if that leaves room. */
	w.indent = w.col < 32 ? w.col + 1 : USAGE_INDENT;
	for (i = 0; i < spec->n_opts; i++)
		if (kc_opt_takes_value(&spec->opts[i]) ||
		    spec->opts[i].kind == KC_OPT_FLAG)
			usage_token(&w, &spec->opts[i]);
	usage_args(&w, spec);
	fputc('\n', f);
}

/* "  -x, --name META" */
static int lead_text(const struct kc_opt *o, char *buf, size_t cap)
{
	char words[300];

	kc_opt_words(o, words, sizeof(words));
	if (o->letter)
		return snprintf(buf, cap, "  -%c, %s", o->letter, words);
	return snprintf(buf, cap, "  %s", words);
}

static int help_column(const struct kc_opts *spec)
{
	int col = (int)strlen("  -h, --help") + 2, n;
	char lead[320];
	size_t i;

	for (i = 0; i < spec->n_opts; i++) {
		if (!kc_opt_is_option(&spec->opts[i]))
			continue;
		n = lead_text(&spec->opts[i], lead, sizeof(lead)) + 2;
		if (n > col)
			col = n;
	}
	return col < COLUMN_MAX ? col : COLUMN_MAX;
}

/* "(required)", "(1 to 1000, default 1)", or nothing. */
static void help_suffix(const struct kc_opt *o, char *buf, size_t cap)
{
	char range[80], def[200];
	size_t n = 0;

	buf[0] = '\0';
	if (o->required)
		n += (size_t)snprintf(buf + n, cap - n, ", required");
	if (is_number(o) && n < cap) {
		range_text(o, false, range, sizeof(range));
		n += (size_t)snprintf(buf + n, cap - n, ", %s%s%s", range,
				      unit_of(o) ? " " : "",
				      unit_of(o) ? unit_of(o) : "");
	}
	if (o->repeat && n < cap)
		n += (size_t)snprintf(buf + n, cap - n, ", up to %u times",
				      o->repeat);
	if (n < cap && default_text(o, def, sizeof(def)))
		snprintf(buf + n, cap - n, ", default %s", def);
	if (buf[0]) {
		buf[0] = '(';
		memmove(buf + 1, buf + 2, strlen(buf + 2) + 1);
		strncat(buf, ")", cap - strlen(buf) - 1);
	}
}

static void help_row(FILE *f, const struct kc_opt *o, int col)
{
	char lead[320], suffix[400];
	struct wrap w = { .f = f, .indent = col, .fresh = true };
	int n = lead_text(o, lead, sizeof(lead));

	fputs(lead, f);
	if (n + 2 > col) {
		fputc('\n', f);
		n = 0;
	}
	fprintf(f, "%*s", col - n, "");
	w.col = col;
	wrap_text(&w, o->help ? o->help : "");
	help_suffix(o, suffix, sizeof(suffix));
	wrap_text(&w, suffix);
	fputc('\n', f);
}

static void help_options(const struct kc_opts *spec, FILE *f)
{
	static const struct kc_opt help = {
		.name = "help",
		.letter = 'h',
		.kind = KC_OPT_FLAG,
		.help = "this text",
	};
	int col = help_column(spec);
	size_t i;

	if (!spec->n_opts || kc_opt_is_option(&spec->opts[0]))
		fputs("\nOptions:\n", f);
	else
		fputc('\n', f);
	for (i = 0; i < spec->n_opts; i++) {
		if (kc_opt_is_option(&spec->opts[i]))
			help_row(f, &spec->opts[i], col);
		else
			fprintf(f, "%s\n", spec->opts[i].text);
	}
	help_row(f, &help, col);
}

/* Text as written, after a blank line and ending with a newline. */
static void print_paragraphs(FILE *f, const char *text)
{
	size_t n = strlen(text);

	fprintf(f, "\n%s%s", text, n && text[n - 1] == '\n' ? "" : "\n");
}

void kc_opts_help(const struct kc_opts *spec, FILE *f)
{
	kc_opts_usage(spec, f);
	if (spec->description)
		print_paragraphs(f, spec->description);
	if (spec->more_help) {
		fputc('\n', f);
		spec->more_help(f, spec->more_arg);
	}
	help_options(spec, f);
	if (spec->footer)
		print_paragraphs(f, spec->footer);
}
