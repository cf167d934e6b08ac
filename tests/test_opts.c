// SPDX-License-Identifier: GPL-2.0-only
/*
 * The table-driven option parser (lib/base/opts.c): every kind of value
 * and its bounds, required options and arguments, getopt's own errors,
 * repeats, the words after the options, and help made from the rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "base/opts.h"

#define OUT_MAX 8192

/* What one parse printed and returned. */
struct run {
	bool go;
	int rc;
	char out[OUT_MAX], err[OUT_MAX];
};

static void slurp(FILE *f, char *buf)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, OUT_MAX - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Parses a NULL-terminated word list with stdout and stderr captured. */
static void parse_words(const struct kc_opts *spec, const char *const *words,
			struct run *r)
{
	FILE *out = tmpfile(), *err = tmpfile();
	char *argv[32];
	int argc = 0, saved_out, saved_err;

	while (words[argc] && argc < 31) {
		argv[argc] = strdup(words[argc]);
		argc++;
	}
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	dup2(fileno(out), 1);
	dup2(fileno(err), 2);
	r->rc = -1;
	r->go = kc_opts_parse(spec, argc, argv, &r->rc);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	slurp(out, r->out);
	slurp(err, r->err);
	/* argv's strings stay: the targets point into them. */
}

#define PARSE(spec, r, ...)                                                \
	parse_words(spec, (const char *const[]){ "prog", __VA_ARGS__, NULL }, \
		    r)

/* Every kind of row, with targets of every width. */
struct all {
	bool flag;
	const char *str, *checked, *choice;
	unsigned int u32;
	unsigned long u64;
	int pid;
	double real, above;
	unsigned int ms;
	size_t list[3];
	unsigned int n_list, n_str;
	char upper[16];
};

static const char *const colours[] = { "red", "green", "blue", NULL };

/* Short lowercase words only; the copy in ctx is upper-cased. */
static const char *check_word(const char *arg, void *ctx)
{
	size_t i, n = strlen(arg);

	if (!n || n >= 16)
		return "a word of 1 to 15 letters";
	for (i = 0; i < n; i++) {
		if (arg[i] < 'a' || arg[i] > 'z')
			return "a word of 1 to 15 letters";
		((char *)ctx)[i] = (char)(arg[i] - 'a' + 'A');
	}
	((char *)ctx)[n] = '\0';
	return NULL;
}

FIXTURE(opts)
{
	struct all a;
	struct kc_opt rows[13];
	struct kc_opts spec;
	struct run r;
};

FIXTURE_SETUP(opts)
{
	struct all *a = &self->a;
	const struct kc_opt rows[] = {
		{ KC_OPT_HEADING("Things:") },
		{ .name = "flag", .letter = 'f', KC_OPT_FLAG(&a->flag),
		  .help = "a flag" },
		{ .name = "str", .letter = 's', KC_OPT_STRING(&a->str),
		  .metavar = "TEXT", .required = true, .count = &a->n_str,
		  .help = "some text" },
		{ .name = "word", KC_OPT_STRING(&a->checked), .metavar = "WORD",
		  .check = check_word, .ctx = a->upper, .help = "a word" },
		{ .name = "colour", KC_OPT_CHOICE(&a->choice, colours),
		  .help = "a colour" },
		{ .name = "count", .letter = 'c', KC_OPT_UINT(&a->u32),
		  .metavar = "N", .min = 1, .max = 1000, .help = "how many" },
		{ .name = "big", KC_OPT_UINT(&a->u64), .metavar = "N",
		  .min = 0, .max = 1e12, .unit = "bytes", .help = "how much" },
		{ .name = "pid", KC_OPT_UINT(&a->pid), .metavar = "PID",
		  .min = 1, .max = 4194304, .help = "a process" },
		{ KC_OPT_HEADING("Numbers:") },
		{ .name = "real", KC_OPT_REAL(&a->real), .metavar = "R",
		  .min = 0.5, .max = 1e9, .unit = "msgs/s", .help = "a rate" },
		{ .name = "above", KC_OPT_REAL(&a->above), .metavar = "T",
		  .min = 0, .above_min = true, .max = 60, .help = "a time" },
		{ .name = "wait", KC_OPT_MSEC(&a->ms), .metavar = "S", .min = 0,
		  .max = 3600, .def = "forever", .help = "a wait" },
		{ .name = "item", KC_OPT_UINT(&a->list[0]), .metavar = "I",
		  .min = 0, .max = 99, .repeat = 3, .count = &a->n_list,
		  .help = "an item" },
	};

	memset(a, 0, sizeof(*a));
	a->u32 = 7;
	a->choice = colours[0];
	memcpy(self->rows, rows, sizeof(rows));
	self->spec = (struct kc_opts){
		.prog = "prog",
		.cmd = "cmd",
		.description = "Does things.",
		.footer = "Footnote.\n",
		KC_OPTS_TABLE(self->rows),
		.error_exit = 2,
	};
}

FIXTURE_TEARDOWN(opts)
{
}

TEST_F(opts, every_kind_stores_its_value)
{
	struct all *a = &self->a;

	PARSE(&self->spec, &self->r, "--flag", "--str", "hello", "--word",
	      "abc", "--colour", "blue", "--count", "1000", "--big",
	      "1000000000000", "--pid", "4194304", "--real", "1e3", "--above",
	      "0.25", "--wait", "1.5", "--item", "4");
	ASSERT_TRUE(self->r.go) TH_LOG("%s", self->r.err);
	EXPECT_STREQ("", self->r.err);
	EXPECT_TRUE(a->flag);
	EXPECT_STREQ("hello", a->str);
	EXPECT_STREQ("abc", a->checked);
	EXPECT_STREQ("ABC", a->upper);
	EXPECT_EQ(colours[2], a->choice);
	EXPECT_EQ(1000, a->u32);
	EXPECT_EQ(1000000000000ul, a->u64);
	EXPECT_EQ(4194304, a->pid);
	EXPECT_TRUE(a->real == 1000.0);
	EXPECT_TRUE(a->above == 0.25);
	EXPECT_EQ(1500, a->ms);
	EXPECT_EQ(1, a->n_list);
	EXPECT_EQ(4, a->list[0]);
	EXPECT_EQ(1, a->n_str);
}

TEST_F(opts, defaults_stay_and_short_letters_and_forms)
{
	struct all *a = &self->a;

	PARSE(&self->spec, &self->r, "-s", "x", "-fc5", "--colo=green",
	      "--big=0");
	ASSERT_TRUE(self->r.go) TH_LOG("%s", self->r.err);
	EXPECT_TRUE(a->flag);
	EXPECT_EQ(5, a->u32);
	EXPECT_EQ(colours[1], a->choice);
	EXPECT_EQ(0, a->u64);
	EXPECT_EQ(0, a->ms);
	EXPECT_EQ(NULL, a->checked);
}

static void expect_refused(struct __test_metadata *_metadata,
			   const struct kc_opts *spec, const char *opt,
			   const char *value, const char *message)
{
	struct run r;

	PARSE(spec, &r, "--str", "x", opt, value);
	EXPECT_FALSE(r.go);
	EXPECT_EQ(2, r.rc);
	EXPECT_NE(NULL, strstr(r.err, message))
	TH_LOG("%s %s: %s", opt, value, r.err);
	EXPECT_NE(NULL, strstr(r.err, "\nusage: prog cmd "));
	EXPECT_STREQ("", r.out);
}

TEST_F(opts, whole_numbers_in_bounds_and_nothing_else)
{
	static const char *const bad[] = {
		"0", "1001", "", "-1", "+5", " 5", "5 ", "1e3", "0x10", "2.0",
		"five", "99999999999999999999999",
	};
	char want[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(want, sizeof(want),
			 "prog: cmd: --count '%s' is not a whole number "
			 "from 1 to 1000\n",
			 bad[i]);
		expect_refused(_metadata, &self->spec, "--count", bad[i], want);
	}
	expect_refused(_metadata, &self->spec, "--big", "1000000000001",
		       "--big '1000000000001' is not a whole number of bytes "
		       "from 0 to 1000000000000");
	expect_refused(_metadata, &self->spec, "--pid", "0",
		       "--pid '0' is not a whole number from 1 to 4194304");
	PARSE(&self->spec, &self->r, "--str", "x", "--count", "1");
	EXPECT_TRUE(self->r.go);
	EXPECT_EQ(1, self->a.u32);
}

TEST_F(opts, real_numbers_in_bounds)
{
	static const char *const bad[] = { "0.4", "1e10", "nan", "inf",
					   "",	  "1x",	  "-1" };
	char want[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(want, sizeof(want),
			 "--real '%s' is not a number of msgs/s from 0.5 to "
			 "1000000000",
			 bad[i]);
		expect_refused(_metadata, &self->spec, "--real", bad[i], want);
	}
	expect_refused(_metadata, &self->spec, "--above", "0",
		       "--above '0' is not a number above 0, up to 60");
	expect_refused(_metadata, &self->spec, "--wait", "3600.5",
		       "--wait '3600.5' is not a number of seconds from 0 to "
		       "3600");
	PARSE(&self->spec, &self->r, "--str", "x", "--real", "0.5", "--above",
	      "60");
	ASSERT_TRUE(self->r.go);
	EXPECT_TRUE(self->a.real == 0.5);
	EXPECT_TRUE(self->a.above == 60);
}

/* Seconds into whole ms, rounded up: 0 is the least wait, 1 ms. */
TEST_F(opts, seconds_into_milliseconds)
{
	static const struct {
		const char *arg;
		unsigned int ms;
	} v[] = { { "0", 1 },	   { "0.0001", 1 },	 { "0.001", 1 },
		  { "0.0015", 2 }, { "2", 2000 },	 { "3600", 3600000 } };
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		PARSE(&self->spec, &self->r, "--str", "x", "--wait", v[i].arg);
		ASSERT_TRUE(self->r.go);
		EXPECT_EQ(v[i].ms, self->a.ms) TH_LOG("%s", v[i].arg);
	}
}

TEST_F(opts, choices_and_checks)
{
	expect_refused(_metadata, &self->spec, "--colour", "Red",
		       "--colour 'Red' is not one of red, green, blue");
	expect_refused(_metadata, &self->spec, "--word", "Abc",
		       "--word 'Abc' is not a word of 1 to 15 letters");
	expect_refused(_metadata, &self->spec, "--word", "",
		       "--word '' is not a word");
}

TEST_F(opts, required_option)
{
	PARSE(&self->spec, &self->r, "--flag");
	EXPECT_FALSE(self->r.go);
	EXPECT_EQ(2, self->r.rc);
	EXPECT_NE(NULL,
		  strstr(self->r.err, "prog: cmd: --str TEXT is required"))
	TH_LOG("%s", self->r.err);
}

TEST_F(opts, getopt_errors_name_the_option)
{
	static const struct {
		const char *words[3], *message;
	} v[] = {
		{ { "--frob" }, "prog: cmd: unknown option '--frob'\n" },
		{ { "-x" }, "prog: cmd: unknown option '-x'\n" },
		{ { "--count" }, "prog: cmd: option '--count' needs a value" },
		{ { "-c" }, "prog: cmd: option '-c' needs a value\n" },
		{ { "--flag=1" }, "prog: cmd: option '--flag' takes no value" },
		{ { "--help=1" }, "prog: cmd: option '--help' takes no value" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		PARSE(&self->spec, &self->r, "--str", "x", v[i].words[0]);
		EXPECT_FALSE(self->r.go);
		EXPECT_EQ(2, self->r.rc);
		EXPECT_EQ(0, strncmp(self->r.err, v[i].message,
				     strlen(v[i].message)))
		TH_LOG("%s: %s", v[i].words[0], self->r.err);
	}
}

/* Later values win; a repeatable row fills its array up to its limit. */
TEST_F(opts, repeats)
{
	struct all *a = &self->a;

	PARSE(&self->spec, &self->r, "--str", "one", "--count", "3", "--str",
	      "two", "--count", "4", "--item", "1", "--item", "2", "--item",
	      "3");
	ASSERT_TRUE(self->r.go) TH_LOG("%s", self->r.err);
	EXPECT_STREQ("two", a->str);
	EXPECT_EQ(2, a->n_str);
	EXPECT_EQ(4, a->u32);
	EXPECT_EQ(3, a->n_list);
	EXPECT_EQ(1, a->list[0]);
	EXPECT_EQ(2, a->list[1]);
	EXPECT_EQ(3, a->list[2]);

	PARSE(&self->spec, &self->r, "--str", "x", "--item", "1", "--item",
	      "2", "--item", "3", "--item", "4");
	EXPECT_FALSE(self->r.go);
	EXPECT_NE(NULL, strstr(self->r.err, "--item may be given at most 3 "
					    "times"));
}

TEST(positional_arguments)
{
	const char *id = NULL, *text = NULL;
	char upper[16];
	const struct kc_arg args[] = {
		{ .name = "ID", .to = &id, .check = check_word, .ctx = upper },
		{ .name = "TEXT", .to = &text, .optional = true },
	};
	const struct kc_opts spec = { .prog = "prog", KC_OPTS_ARGS(args) };
	struct run r;

	PARSE(&spec, &r, "bob");
	ASSERT_TRUE(r.go);
	EXPECT_STREQ("bob", id);
	EXPECT_EQ(NULL, text);
	PARSE(&spec, &r, "bob", "hi there");
	ASSERT_TRUE(r.go);
	EXPECT_STREQ("hi there", text);

	parse_words(&spec, (const char *const[]){ "prog", NULL }, &r);
	EXPECT_FALSE(r.go);
	EXPECT_EQ(1, r.rc);
	EXPECT_NE(NULL, strstr(r.err, "prog: ID is required\n"));
	EXPECT_NE(NULL, strstr(r.err, "usage: prog ID [TEXT]\n"));
	PARSE(&spec, &r, "bob", "hi", "extra");
	EXPECT_FALSE(r.go);
	EXPECT_NE(NULL, strstr(r.err, "prog: unexpected argument 'extra'"));
	PARSE(&spec, &r, "Bob");
	EXPECT_FALSE(r.go);
	EXPECT_NE(NULL, strstr(r.err, "prog: 'Bob' is not a word of 1 to 15"));
	/* Options end at "--": a word that looks like one is an argument. */
	PARSE(&spec, &r, "--", "bob", "--help");
	ASSERT_TRUE(r.go);
	EXPECT_STREQ("--help", text);
}

/* A program's own options stop at its command, which is left as it is. */
TEST(rest_is_left_to_the_caller)
{
	const char *home = NULL;
	const struct kc_opt rows[] = {
		{ .name = "home", KC_OPT_STRING(&home), .metavar = "HOME" },
		{ .name = "version", KC_OPT_PRINT("prog 1.0\n") },
	};
	int rest = -1;
	const struct kc_opts spec = { .prog = "prog", KC_OPTS_TABLE(rows),
				      .rest = &rest };
	struct run r;

	PARSE(&spec, &r, "--home", "h", "send", "--home", "x", "bob");
	ASSERT_TRUE(r.go);
	EXPECT_STREQ("h", home);
	EXPECT_EQ(3, rest);
	PARSE(&spec, &r, "--version", "send");
	EXPECT_FALSE(r.go);
	EXPECT_EQ(0, r.rc);
	EXPECT_STREQ("prog 1.0\n", r.out);
	PARSE(&spec, &r, "--home", "h");
	ASSERT_TRUE(r.go);
	EXPECT_EQ(3, rest);
}

/* Every row's option, value name, help and bounds, and the defaults. */
TEST_F(opts, help_has_every_row)
{
	static const char *const want[] = {
		"usage: prog cmd [--flag] --str TEXT [--word WORD]",
		"\nDoes things.\n\nThings:\n",
		"\n  -f, --flag ",
		"\n  -s, --str TEXT ",
		"some text (required)",
		"\n  --word WORD ",
		"\n  --colour red|green|blue ",
		"a colour (default red)",
		"\n  -c, --count N ",
		"how many (1 to 1000, default 7)",
		"how much (0 to 1000000000000 bytes)",
		"a process (1 to 4194304)",
		"\nNumbers:\n",
		"a rate (0.5 to 1000000000 msgs/s)",
		"a time (above 0, up to 60)",
		"a wait (0 to 3600 seconds, default forever)",
		"an item (0 to 99, up to 3 times)",
		"[--item I]...",
		"\n  -h, --help ",
		"this text\n\nFootnote.\n",
	};
	const char *line;
	size_t i;

	/* The defaults are shown as they were before any option. */
	PARSE(&self->spec, &self->r, "--count", "9", "--help");
	EXPECT_FALSE(self->r.go);
	EXPECT_EQ(0, self->r.rc);
	EXPECT_STREQ("", self->r.err);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		EXPECT_NE(NULL, strstr(self->r.out, want[i]))
	TH_LOG("no '%s' in\n%s", want[i], self->r.out);
	for (i = 0; i < sizeof(self->rows) / sizeof(self->rows[0]); i++) {
		if (self->rows[i].kind == KC_OPT_HEADING)
			continue;
		EXPECT_NE(NULL, strstr(self->r.out, self->rows[i].name));
		EXPECT_NE(NULL, strstr(self->r.out, self->rows[i].help));
	}
	for (line = self->r.out; *line; line += strcspn(line, "\n") + 1)
		EXPECT_GE(79, (int)strcspn(line, "\n")) TH_LOG("%.100s", line);

	PARSE(&self->spec, &self->r, "-h");
	EXPECT_FALSE(self->r.go);
	EXPECT_EQ(0, self->r.rc);
	EXPECT_NE(NULL, strstr(self->r.out, "\n  -h, --help "));
}

TEST_F(opts, failing_after_the_parse)
{
	FILE *err = tmpfile();
	char text[OUT_MAX];
	int saved = dup(2), rc;

	fflush(stderr);
	dup2(fileno(err), 2);
	rc = kc_opts_fail(&self->spec, "--%s and --%s do not go together",
			  "flag", "word");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	slurp(err, text);
	EXPECT_EQ(2, rc);
	EXPECT_EQ(0, strncmp(text,
			     "prog: cmd: --flag and --word do not go together\n"
			     "usage: prog cmd [--flag]",
			     strlen("prog: cmd: --flag and --word do not go "
				    "together\nusage: prog cmd [--flag]")))
	TH_LOG("%s", text);
}

TEST(given_synopsis_and_no_rows)
{
	const struct kc_opts spec = {
		.prog = "prog",
		.synopsis = "prog (A | B)\n       prog C",
	};
	struct run r;

	PARSE(&spec, &r, "--help");
	EXPECT_FALSE(r.go);
	EXPECT_EQ(0, r.rc);
	EXPECT_STREQ("usage: prog (A | B)\n       prog C\n\n"
		     "Options:\n  -h, --help  this text\n",
		     r.out);
	PARSE(&spec, &r, "word");
	EXPECT_FALSE(r.go);
	EXPECT_EQ(1, r.rc);
	EXPECT_NE(NULL, strstr(r.err, "prog: unexpected argument 'word'"));
}

TEST_HARNESS_MAIN
