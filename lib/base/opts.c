// SPDX-License-Identifier: GPL-2.0-only
/*
 * Command lines from tables; see opts.h.
 *
 * getopt_long does the scanning (abbreviations, "--", "--opt=value",
 * argument order); the rows decide what a value must be. The scan runs
 * twice: the first pass only looks for --help and getopt's own errors,
 * so help shows every default before any option changed a target; the
 * second stores the values.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h> /* isfinite: a macro, no libm */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/opts.h"

#define HELP_CODE 'h'
#define LONG_CODE 256 /* getopt's value for row i without a letter */

/* Messages. */

void kc_cmd_verr(const char *prog, const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void kc_cmd_err(const char *prog, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kc_cmd_verr(prog, NULL, fmt, ap);
	va_end(ap);
}

void kc_opts_err(const struct kc_opts *spec, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kc_cmd_verr(spec->prog, spec->cmd, fmt, ap);
	va_end(ap);
}

static int error_exit(const struct kc_opts *spec)
{
	return spec->error_exit ? spec->error_exit : 1;
}

int kc_opts_fail(const struct kc_opts *spec, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kc_cmd_verr(spec->prog, spec->cmd, fmt, ap);
	va_end(ap);
	kc_opts_usage(spec, stderr);
	return error_exit(spec);
}

/* Targets. */

static void *slot(const struct kc_opt *o, unsigned int i)
{
	return (char *)o->to.uint + (size_t)i * o->size;
}

/* Within [min, max], which the table keeps inside the target's type. */
static void store_uint(const struct kc_opt *o, void *dst, uint64_t v)
{
	uint32_t v32 = (uint32_t)v;

	if (o->size == sizeof(v32))
		memcpy(dst, &v32, sizeof(v32));
	else
		memcpy(dst, &v, sizeof(v));
}

/* Rounded up, so a wait is never shorter than asked; 0 means none. */
static unsigned int to_msec(double seconds)
{
	double ms = seconds * 1000;
	unsigned int v = (unsigned int)ms;

	if (v < ms)
		v++;
	return v ? v : 1;
}

/* Values. */

static int bad_value(const struct kc_opts *spec, const struct kc_opt *o,
		     const char *arg, const char *wanted)
{
	kc_opts_err(spec, "--%s '%s' is not %s", o->name, arg, wanted);
	return -EINVAL;
}

/* Decimal digits only: no sign, no blanks, no hex, no overflow. */
static int parse_whole(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static int parse_real(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end || !isfinite(*out) ? -EINVAL : 0;
}

static bool in_range(const struct kc_opt *o, double v)
{
	return (o->above_min ? v > o->min : v >= o->min) && v <= o->max;
}

static int take_number(const struct kc_opts *spec, const struct kc_opt *o,
		       void *dst, const char *arg)
{
	char wanted[160];
	uint64_t whole = 0;
	double v = 0;
	int ret;

	if (o->kind == KC_OPT_UINT) {
		ret = parse_whole(arg, &whole);
		v = (double)whole;
	} else {
		ret = parse_real(arg, &v);
	}
	if (ret || !in_range(o, v)) {
		kc_opt_wanted(o, wanted, sizeof(wanted));
		return bad_value(spec, o, arg, wanted);
	}
	if (o->kind == KC_OPT_UINT)
		store_uint(o, dst, whole);
	else if (o->kind == KC_OPT_MSEC)
		*(unsigned int *)dst = to_msec(v);
	else
		*(double *)dst = v;
	return 0;
}

static int take_choice(const struct kc_opts *spec, const struct kc_opt *o,
		       void *dst, const char *arg)
{
	const char *const *c;
	char wanted[256];

	for (c = o->choices; *c; c++) {
		if (!strcmp(*c, arg)) {
			*(const char **)dst = *c;
			return 0;
		}
	}
	kc_opt_wanted(o, wanted, sizeof(wanted));
	return bad_value(spec, o, arg, wanted);
}

static int take_value(const struct kc_opts *spec, const struct kc_opt *o,
		      void *dst, const char *arg)
{
	const char *why;

	switch (o->kind) {
	case KC_OPT_FLAG:
		*(bool *)dst = true;
		return 0;
	case KC_OPT_STRING:
		why = o->check ? o->check(arg, o->ctx) : NULL;
		if (why)
			return bad_value(spec, o, arg, why);
		*(const char **)dst = arg;
		return 0;
	case KC_OPT_CHOICE:
		return take_choice(spec, o, dst, arg);
	default:
		return take_number(spec, o, dst, arg);
	}
}

/* Parsing. */

struct parse {
	const struct kc_opts *spec;
	struct option longopts[KC_OPTS_MAX + 2];
	char shorts[2 * KC_OPTS_MAX + 4];
	unsigned int given[KC_OPTS_MAX];
};

/* getopt_long's view of the rows, and of --help. */
static void build_getopt(struct parse *p)
{
	const struct kc_opts *spec = p->spec;
	char *s = p->shorts;
	size_t i, n = 0;

	if (spec->rest)
		*s++ = '+';
	*s++ = ':';
	for (i = 0; i < spec->n_opts; i++) {
		const struct kc_opt *o = &spec->opts[i];

		if (!kc_opt_is_option(o))
			continue;
		p->longopts[n++] = (struct option){
			o->name,
			kc_opt_takes_value(o) ? required_argument : no_argument,
			NULL, o->letter ? o->letter : LONG_CODE + (int)i
		};
		if (!o->letter)
			continue;
		*s++ = o->letter;
		if (kc_opt_takes_value(o))
			*s++ = ':';
	}
	p->longopts[n++] =
		(struct option){ "help", no_argument, NULL, HELP_CODE };
	p->longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	*s++ = HELP_CODE;
	*s = '\0';
}

static long row_of(const struct kc_opts *spec, int code)
{
	size_t i;

	if (code >= LONG_CODE)
		return code - LONG_CODE;
	for (i = 0; i < spec->n_opts; i++)
		if (kc_opt_is_option(&spec->opts[i]) &&
		    spec->opts[i].letter == code)
			return (long)i;
	return -1;
}

/* getopt's ':' and '?', which report through optind and optopt. */
static void bad_option(const struct kc_opts *spec, int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		kc_opts_err(spec, "option '%s' needs a value", arg);
	else if (optopt && !strncmp(arg, "--", 2))
		kc_opts_err(spec, "option '%.*s' takes no value",
			    (int)strcspn(arg, "="), arg);
	else if (optopt)
		kc_opts_err(spec, "unknown option '-%c'", optopt);
	else
		kc_opts_err(spec, "unknown option '%s'", arg);
}

static int next_option(struct parse *p, int argc, char **argv)
{
	return getopt_long(argc, argv, p->shorts, p->longopts, NULL);
}

/*
 * The first pass: --help, KC_OPT_PRINT rows and getopt's own errors, in
 * the order given. True when the second pass is to follow.
 */
static bool first_pass(struct parse *p, int argc, char **argv, int *rc)
{
	const struct kc_opts *spec = p->spec;
	const struct kc_opt *o;
	int c;

	optind = 0; /* 0, not 1: glibc then forgets all of the last scan */
	opterr = 0;
	while ((c = next_option(p, argc, argv)) != -1) {
		if (c == ':' || c == '?') {
			bad_option(spec, c, argv);
			kc_opts_usage(spec, stderr);
			*rc = error_exit(spec);
			return false;
		}
		o = c == HELP_CODE ? NULL : &spec->opts[row_of(spec, c)];
		if (o && o->kind != KC_OPT_PRINT)
			continue;
		if (o)
			fputs(o->text, stdout);
		else
			kc_opts_help(spec, stdout);
		*rc = 0;
		return false;
	}
	return true;
}

static int take(struct parse *p, size_t i, const char *arg)
{
	const struct kc_opt *o = &p->spec->opts[i];
	unsigned int n = o->repeat ? p->given[i] : 0;
	int ret;

	if (o->repeat && n == o->repeat) {
		kc_opts_err(p->spec, "--%s may be given at most %u times",
			    o->name, o->repeat);
		return -EINVAL;
	}
	ret = take_value(p->spec, o, slot(o, n), arg);
	if (ret)
		return ret;
	p->given[i]++;
	if (o->count)
		*o->count = p->given[i];
	return 0;
}

static int second_pass(struct parse *p, int argc, char **argv)
{
	int c, ret = 0;

	optind = 0;
	while (!ret && (c = next_option(p, argc, argv)) != -1)
		ret = take(p, (size_t)row_of(p->spec, c), optarg);
	return ret;
}

static int check_required(const struct parse *p)
{
	const struct kc_opt *o;
	char words[300];
	size_t i;

	for (i = 0; i < p->spec->n_opts; i++) {
		o = &p->spec->opts[i];
		if (!kc_opt_is_option(o) || !o->required || p->given[i])
			continue;
		kc_opt_words(o, words, sizeof(words));
		kc_opts_err(p->spec, "%s is required", words);
		return -EINVAL;
	}
	return 0;
}

/* The words after the options, one per kc_arg, optional ones last. */
static int take_args(const struct kc_opts *spec, int argc, char **argv)
{
	const struct kc_arg *a;
	int at = optind;
	const char *why;
	size_t i;

	for (i = 0; i < spec->n_args && at < argc; i++, at++) {
		a = &spec->args[i];
		why = a->check ? a->check(argv[at], a->ctx) : NULL;
		if (why) {
			kc_opts_err(spec, "'%s' is not %s", argv[at], why);
			return -EINVAL;
		}
		*a->to = argv[at];
	}
	if (i < spec->n_args && !spec->args[i].optional) {
		kc_opts_err(spec, "%s is required", spec->args[i].name);
		return -EINVAL;
	}
	if (at < argc) {
		kc_opts_err(spec, "unexpected argument '%s'", argv[at]);
		return -EINVAL;
	}
	return 0;
}

bool kc_opts_parse(const struct kc_opts *spec, int argc, char **argv, int *rc)
{
	struct parse p = { .spec = spec };

	if (spec->n_opts > KC_OPTS_MAX) {
		kc_opts_err(spec, "internal error: more than %d options",
			    KC_OPTS_MAX);
		*rc = error_exit(spec);
		return false;
	}
	build_getopt(&p);
	if (!first_pass(&p, argc, argv, rc))
		return false;
	if (second_pass(&p, argc, argv) || check_required(&p) ||
	    (!spec->rest && take_args(spec, argc, argv))) {
		kc_opts_usage(spec, stderr);
		*rc = error_exit(spec);
		return false;
	}
	if (spec->rest)
		*spec->rest = optind;
	return true;
}
