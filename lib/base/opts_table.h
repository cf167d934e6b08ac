/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The tables of base/opts.h: an option is a row (struct kc_opt), a word
 * after the options a struct kc_arg, and a command line a struct kc_opts.
 * Parsing is base/opts.h, the help made from the rows base/opts_text.h.
 */
#ifndef KC_OPTS_TABLE_H
#define KC_OPTS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Rows a table may have (the parser keeps per-row state on the stack). */
#define KC_OPTS_MAX 48

enum kc_opt_kind {
	KC_OPT_FLAG,	/* no value; sets a bool */
	KC_OPT_STRING,	/* the text as given, after an optional check */
	KC_OPT_UINT,	/* decimal digits, a whole number in [min, max] */
	KC_OPT_REAL,	/* a number (strtod's forms) in [min, max] */
	KC_OPT_MSEC,	/* seconds in [min, max], kept as ms, at least 1 */
	KC_OPT_CHOICE,	/* one word of a list; keeps the list's entry */
	KC_OPT_PRINT,	/* prints its text and ends the parse, exit 0 */
	KC_OPT_HEADING, /* no option: a heading above the rows after it */
};

/*
 * A check of a value before it is kept: NULL when it is good, else what
 * was expected, for "--opt 'ARG' is not <that>". ctx is the row's.
 */
typedef const char *kc_opt_check_fn(const char *arg, void *ctx);

struct kc_opt {
	const char *name; /* long name without "--" */
	char letter;	  /* short option, or 0 ('h' is --help's) */
	enum kc_opt_kind kind;
	union {
		bool *flag;
		const char **str;
		void *uint; /* unsigned int, unsigned long (long) or int */
		double *real;
		unsigned int *msec;
	} to;
	size_t size; /* of one target element */
	bool required;
	const char *metavar; /* the value's name; for a choice, a|b|c if NULL */
	const char *help;    /* wrapped to the terminal's 80 columns */
	double min, max;     /* the closed range, within the target type */
	bool above_min;	     /* min itself is not allowed ("above 0") */
	const char *unit;    /* "bytes", "seconds": in help and messages */
	const char *const *choices; /* KC_OPT_CHOICE: NULL-terminated */
	kc_opt_check_fn *check;	    /* KC_OPT_STRING */
	void *ctx;		    /* for check */
	/*
	 * The default as help shows it, where the target's value before
	 * parsing would not say it (computed later, or "0 means none").
	 */
	const char *def;
	unsigned int repeat; /* > 0: up to this many, into to[0], to[1], ... */
	unsigned int *count; /* if set: how many times it was given */
	const char *text;    /* KC_OPT_PRINT, KC_OPT_HEADING */
};

#define KC_OPT_FLAG(p) \
	.kind = KC_OPT_FLAG, .to.flag = (p), .size = sizeof(*(p))
#define KC_OPT_STRING(p) \
	.kind = KC_OPT_STRING, .to.str = (p), .size = sizeof(*(p))
#define KC_OPT_UINT(p)                                                 \
	.kind = KC_OPT_UINT, .size = sizeof(*(p)),                     \
	.to.uint = _Generic((p), unsigned int *: (p),                  \
			    unsigned long *: (p),                      \
			    unsigned long long *: (p), int *: (p))
#define KC_OPT_REAL(p) \
	.kind = KC_OPT_REAL, .to.real = (p), .size = sizeof(*(p))
#define KC_OPT_MSEC(p) \
	.kind = KC_OPT_MSEC, .to.msec = (p), .size = sizeof(*(p))
#define KC_OPT_CHOICE(p, list)                                      \
	.kind = KC_OPT_CHOICE, .to.str = (p), .size = sizeof(*(p)), \
	.choices = (list)
#define KC_OPT_PRINT(t) .kind = KC_OPT_PRINT, .text = (t)
#define KC_OPT_HEADING(t) .kind = KC_OPT_HEADING, .text = (t)

/* A word after the options: "ID", "[TEXT]". */
struct kc_arg {
	const char *name;
	const char **to;
	bool optional;
	kc_opt_check_fn *check; /* as for options: "'ARG' is not <that>" */
	void *ctx;
};

struct kc_opts {
	const char *prog; /* first word of messages and of the usage line */
	const char *cmd;  /* the command's name, or NULL */
	const char *pre;  /* usage words between prog and cmd */
	/* The usage after "usage: ", where the generated one will not do. */
	const char *synopsis;
	const char *description; /* printed as written, after the usage */
	const char *footer;	 /* printed as written, after the options */
	const struct kc_opt *opts;
	size_t n_opts;
	const struct kc_arg *args;
	size_t n_args;
	/*
	 * Set: options end at the first other word, which with the words
	 * after it is left to the caller from index *rest on (a command).
	 */
	int *rest;
	int error_exit; /* exit code of a usage error; 0 means 1 */
	/* Printed between the description and the options (command lists). */
	void (*more_help)(FILE *f, const void *arg);
	const void *more_arg;
};

/* .opts and .n_opts, .args and .n_args, from arrays. */
#define KC_OPTS_TABLE(rows) \
	.opts = (rows), .n_opts = sizeof(rows) / sizeof((rows)[0])
#define KC_OPTS_ARGS(list) \
	.args = (list), .n_args = sizeof(list) / sizeof((list)[0])

static inline bool kc_opt_is_option(const struct kc_opt *o)
{
	return o->kind != KC_OPT_HEADING;
}

static inline bool kc_opt_takes_value(const struct kc_opt *o)
{
	return o->kind != KC_OPT_FLAG && o->kind != KC_OPT_PRINT &&
	       o->kind != KC_OPT_HEADING;
}

#endif
