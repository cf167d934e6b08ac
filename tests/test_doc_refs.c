// SPDX-License-Identifier: GPL-2.0-only
/*
 * References from the source to the documentation stay true. In every
 * *.c, *.h, *.sh and Makefile of the tree:
 *   - a Markdown file named by path (docs/OPERATIONS.md) or by bare name
 *     (PROTOCOL.md: at the top, in docs/, or anywhere in the tree) exists;
 *   - a Markdown file name followed by a quoted string cites a heading of
 *     that file, which must exist word for word (docs/DESIGN.md's
 *     "Loop turn", say);
 *   - "PROTOCOL.md section N" and "sections N-M" cite numbered sections
 *     ("## N. ...") of that file, which must exist.
 * Comments wrap, so a newline and the comment leader after it (" * ",
 * "//", "#") read as one space. Names that are no file of the tree are
 * left alone: absolute paths, names built on a variable ($out/...) and
 * paths through a placeholder in capitals (BUILD/bench/...).
 *
 * scan.*: the checker on a small made-up tree, so that it cannot pass by
 * finding nothing. tree.*: the real tree at $KC_SRC (tests/run-tests.sh
 * sets it), without build/ and .git.
 */
#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define NAME_MAX_LEN 256
#define QUOTE_MAX 200
#define SECTION_SPAN_MAX 20

struct strv {
	char **v;
	size_t n, cap;
};

struct md_file {
	char *rel;
	struct strv headings;
};

struct ctx {
	const char *root;
	struct strv sources; /* relative paths */
	struct strv mds;     /* every .md of the tree, relative */
	struct md_file *md;
	size_t nmd, capmd;
	unsigned int problems;
	bool quiet;
};

static int strv_add(struct strv *s, const char *str, size_t len)
{
	char *copy;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	copy = strndup(str, len);
	if (!copy)
		return -ENOMEM;
	s->v[s->n++] = copy;
	return 0;
}

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void ctx_free(struct ctx *c)
{
	strv_free(&c->sources);
	strv_free(&c->mds);
	for (size_t i = 0; i < c->nmd; i++) {
		free(c->md[i].rel);
		strv_free(&c->md[i].headings);
	}
	free(c->md);
	memset(c, 0, sizeof(*c));
}

__attribute__((format(printf, 4, 5))) static void problem(struct ctx *c,
							  const char *file,
							  unsigned int line,
							  const char *fmt, ...)
{
	va_list ap;

	c->problems++;
	if (c->quiet)
		return;
	fprintf(stderr, "# %s:%u: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n > t && !strcmp(s + n - t, tail);
}

/* --- the tree --- */

static struct ctx *walking;

static int walk_one(const char *path, const struct stat *sb, int type,
		    struct FTW *ftw)
{
	const char *rel = path + strlen(walking->root);
	const char *base = path + ftw->base;
	int ret = 0;

	while (*rel == '/')
		rel++;
	if (type == FTW_D) {
		if (ftw->level == 1 &&
		    (!strcmp(base, "build") || !strcmp(base, ".git")))
			return FTW_SKIP_SUBTREE;
		return FTW_CONTINUE;
	}
	if (type != FTW_F)
		return FTW_CONTINUE;
	if (ends_with(base, ".md"))
		ret = strv_add(&walking->mds, rel, strlen(rel));
	else if (!strcmp(base, "Makefile") || ends_with(base, ".c") ||
		 ends_with(base, ".h") || ends_with(base, ".sh"))
		ret = strv_add(&walking->sources, rel, strlen(rel));
	return ret ? FTW_STOP : FTW_CONTINUE;
}

static int walk_tree(struct ctx *c)
{
	int ret;

	walking = c;
	ret = nftw(c->root, walk_one, 16, FTW_PHYS | FTW_ACTIONRETVAL);
	walking = NULL;
	return ret ? -EIO : 0;
}

static bool is_file(const char *root, const char *rel)
{
	char path[4096];
	struct stat sb;

	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >=
	    (int)sizeof(path))
		return false;
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The tree's file a name refers to (relative path), or NULL. */
static const char *resolve(struct ctx *c, const char *name, char *buf,
			   size_t cap)
{
	snprintf(buf, cap, "%s", name);
	if (strchr(name, '/'))
		return is_file(c->root, buf) ? buf : NULL;
	if (is_file(c->root, buf))
		return buf;
	snprintf(buf, cap, "docs/%s", name);
	if (is_file(c->root, buf))
		return buf;
	for (size_t i = 0; i < c->mds.n; i++) {
		const char *slash = strrchr(c->mds.v[i], '/');

		if (!strcmp(slash ? slash + 1 : c->mds.v[i], name)) {
			snprintf(buf, cap, "%s", c->mds.v[i]);
			return buf;
		}
	}
	return NULL;
}

/* --- Markdown headings --- */

static int load_headings(struct ctx *c, const char *rel, struct strv *out)
{
	char path[4096], *line = NULL;
	bool fenced = false;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", c->root, rel);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *p = line, *end;

		while (n > 0 && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		while (*p == ' ')
			p++;
		if (!strncmp(p, "```", 3)) {
			fenced = !fenced;
			continue;
		}
		if (fenced || *p != '#')
			continue;
		end = p;
		while (*end == '#')
			end++;
		if (end - p > 6 || *end != ' ')
			continue;
		while (*end == ' ')
			end++;
		if (strv_add(out, end, strlen(end))) {
			free(line);
			fclose(f);
			return -ENOMEM;
		}
	}
	free(line);
	fclose(f);
	return 0;
}

static const struct strv *headings_of(struct ctx *c, const char *rel)
{
	struct md_file *m;

	for (size_t i = 0; i < c->nmd; i++)
		if (!strcmp(c->md[i].rel, rel))
			return &c->md[i].headings;
	if (c->nmd == c->capmd) {
		size_t cap = c->capmd ? 2 * c->capmd : 8;

		m = realloc(c->md, cap * sizeof(*m));
		if (!m)
			return NULL;
		c->md = m;
		c->capmd = cap;
	}
	m = &c->md[c->nmd];
	memset(m, 0, sizeof(*m));
	m->rel = strdup(rel);
	if (!m->rel || load_headings(c, rel, &m->headings)) {
		free(m->rel);
		strv_free(&m->headings);
		return NULL;
	}
	c->nmd++;
	return &m->headings;
}

static bool has_heading(const struct strv *h, const char *text, size_t len)
{
	for (size_t i = 0; i < h->n; i++)
		if (strlen(h->v[i]) == len && !memcmp(h->v[i], text, len))
			return true;
	return false;
}

static bool has_section(const struct strv *h, unsigned int n)
{
	char prefix[16];

	snprintf(prefix, sizeof(prefix), "%u. ", n);
	for (size_t i = 0; i < h->n; i++)
		if (!strncmp(h->v[i], prefix, strlen(prefix)))
			return true;
	return false;
}

/* --- scanning one source file --- */

/*
 * The text with wrapped lines joined: a newline, the indentation and a
 * comment leader become one space. line[i] is the source line of out[i].
 */
static size_t join_lines(const char *s, size_t len, char *out,
			 unsigned int *line)
{
	unsigned int ln = 1;
	size_t i = 0, o = 0;

	while (i < len) {
		if (s[i] != '\n') {
			line[o] = ln;
			out[o++] = s[i++];
			continue;
		}
		ln++;
		i++;
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i + 1 < len && s[i] == '/' && s[i + 1] == '/')
			i += 2;
		else if (i < len && s[i] == '*' &&
			 !(i + 1 < len && s[i + 1] == '/'))
			i++;
		else if (i < len && s[i] == '#')
			i++;
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t'))
			o--;
		line[o] = ln;
		out[o++] = ' ';
	}
	out[o] = '\0';
	return o;
}

static bool name_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == '-' ||
	       ch == '.' || ch == '/';
}

/* A directory in capitals (BUILD/, DIR/) stands for a path, not a file. */
static bool through_placeholder(const char *name)
{
	const char *p = name, *slash;

	while ((slash = strchr(p, '/'))) {
		bool caps = slash - p >= 2;

		for (const char *q = p; q < slash; q++)
			if (!isupper((unsigned char)*q) && *q != '_' &&
			    !isdigit((unsigned char)*q))
				caps = false;
		if (caps)
			return true;
		p = slash + 1;
	}
	return false;
}

/*
 * After a Markdown name that ends at t[k]: a section number, or a space
 * and a quoted heading, checked. (A quote right after the name is the end
 * of a C string, not a citation.)
 */
static void check_citation(struct ctx *c, const char *file, const char *t,
			   const unsigned int *line, size_t len, size_t k,
			   const char *rel)
{
	const struct strv *h;
	unsigned long a, b;
	size_t start = k, spaces;
	char *end;

	if (k < len && t[k] == ',')
		k++;
	spaces = k;
	while (k < len && t[k] == ' ')
		k++;
	spaces = k - spaces;
	if (!strncmp(t + k, "section ", 8) || !strncmp(t + k, "sections ", 9)) {
		k += t[k + 7] == 's' ? 9 : 8;
		if (!isdigit((unsigned char)t[k]))
			return;
		a = b = strtoul(t + k, &end, 10);
		if (*end == '-' && isdigit((unsigned char)end[1]))
			b = strtoul(end + 1, &end, 10);
		if (!a || b < a || b - a > SECTION_SPAN_MAX)
			return;
		h = headings_of(c, rel);
		if (!h) {
			problem(c, file, line[start], "cannot read %s", rel);
			return;
		}
		for (unsigned long n = a; n <= b; n++)
			if (!has_section(h, (unsigned int)n))
				problem(c, file, line[start],
					"%s has no section %lu (\"## %lu. "
					"...\")",
					rel, n, n);
		return;
	}
	if (!spaces || k >= len || t[k] != '"')
		return;
	end = memchr(t + k + 1, '"', len - k - 1);
	if (!end || end - (t + k + 1) > QUOTE_MAX)
		return;
	h = headings_of(c, rel);
	if (!h)
		problem(c, file, line[start], "cannot read %s", rel);
	else if (!has_heading(h, t + k + 1, (size_t)(end - (t + k + 1))))
		problem(c, file, line[start], "%s has no heading \"%.*s\"", rel,
			(int)(end - (t + k + 1)), t + k + 1);
}

static void scan_text(struct ctx *c, const char *file, const char *t,
		      const unsigned int *line, size_t len)
{
	char name[NAME_MAX_LEN], buf[NAME_MAX_LEN + 8];

	for (size_t i = 0; i + 3 <= len; i++) {
		const char *rel, *p;
		size_t j = i, n;

		if (memcmp(t + i, ".md", 3) ||
		    (i + 3 < len &&
		     (isalnum((unsigned char)t[i + 3]) || t[i + 3] == '_')))
			continue;
		while (j > 0 && name_char(t[j - 1]))
			j--;
		n = i + 3 - j;
		if (j == i || n >= sizeof(name))
			continue;
		memcpy(name, t + j, n);
		name[n] = '\0';
		p = name;
		while (!strncmp(p, "./", 2))
			p += 2;
		if (*p == '/' || *p == '.' ||
		    (j &&
		     (t[j - 1] == '$' || t[j - 1] == '}' || t[j - 1] == ')')))
			continue;
		if (through_placeholder(p))
			continue;
		rel = resolve(c, p, buf, sizeof(buf));
		if (!rel) {
			problem(c, file, line[j],
				"names %s, which does not exist", p);
			continue;
		}
		check_citation(c, file, t, line, len, i + 3, rel);
	}
}

static int scan_file(struct ctx *c, const char *rel)
{
	char path[4096], *src = NULL, *text = NULL;
	unsigned int *line = NULL;
	size_t len = 0, n;
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/%s", c->root, rel);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (getdelim(&src, &len, '\0', f) < 0 && ferror(f))
		ret = -EIO;
	fclose(f);
	len = src ? strlen(src) : 0;
	text = malloc(len + 1);
	line = malloc((len + 1) * sizeof(*line));
	if (!ret && (!text || !line))
		ret = -ENOMEM;
	if (!ret) {
		n = join_lines(src, len, text, line);
		scan_text(c, rel, text, line, n);
	}
	free(src);
	free(text);
	free(line);
	return ret;
}

static int check_tree(struct ctx *c)
{
	int ret = walk_tree(c);

	for (size_t i = 0; !ret && i < c->sources.n; i++)
		ret = scan_file(c, c->sources.v[i]);
	return ret;
}

/* --- scan.*: a made-up tree --- */

static int put_file(const char *dir, const char *rel, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

/*
 * Names are split ("NOPE" ".md") so that the real tree's scan, which
 * reads this file too, sees none of them.
 */
/* clang-format off */
static const char design_md[] = "# D\n\n## Real heading\n\n```\n"
				"# inside a fence\n```\n";
static const char protocol_md[] = "# P\n\n## 1. First\n\n### 2. Not top\n";
static const char good_c[] =
	"/* docs/DESIGN" ".md \"Real heading\", DESIGN" ".md, \"Real\n"
	" * heading\", PROTOCOL" ".md section 1, ./docs/PROTOCOL" ".md\n"
	" * section 1. */\n"
	"// $out/summary" ".md BUILD/bench/summary" ".md /usr/x" ".md\n";
static const char good_sh[] = "# see PROTOCOL" ".md section 1\n"
			      "# and docs/DESIGN" ".md \"Real\n"
			      "#   heading\"\n";
static const char bad_c[] =
	"/* docs/NOPE" ".md, DESIGN" ".md \"inside a fence\",\n"
	" * PROTOCOL" ".md section 3, DESIGN" ".md \"Real\" */\n";
/* clang-format on */

FIXTURE(scan)
{
	char dir[64];
	struct ctx c;
};

FIXTURE_SETUP(scan)
{
	char sub[128];

	strcpy(self->dir, "/tmp/kc-docrefs-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(sub, sizeof(sub), "%s/docs", self->dir);
	ASSERT_EQ(0, mkdir(sub, 0700));
	ASSERT_EQ(0, put_file(self->dir,
			      "docs/DESIGN"
			      ".md",
			      design_md));
	ASSERT_EQ(0, put_file(self->dir,
			      "docs/PROTOCOL"
			      ".md",
			      protocol_md));
	memset(&self->c, 0, sizeof(self->c));
	self->c.root = self->dir;
	self->c.quiet = true;
}

FIXTURE_TEARDOWN(scan)
{
	char cmd[128];

	ctx_free(&self->c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->dir);
	if (self->dir[0] == '/')
		EXPECT_EQ(0, system(cmd));
}

TEST_F(scan, true_references_pass)
{
	ASSERT_EQ(0, put_file(self->dir, "a.c", good_c));
	ASSERT_EQ(0, put_file(self->dir, "b.sh", good_sh));
	ASSERT_EQ(0, check_tree(&self->c));
	EXPECT_EQ(2, self->c.sources.n);
	EXPECT_EQ(0, self->c.problems);
}

/* A missing file, a fenced "heading", a missing section, a partial name. */
TEST_F(scan, false_references_fail)
{
	ASSERT_EQ(0, put_file(self->dir, "Makefile", bad_c));
	ASSERT_EQ(0, check_tree(&self->c));
	EXPECT_EQ(1, self->c.sources.n);
	EXPECT_EQ(4, self->c.problems);
}

/* A numbered heading below the top level counts too: "### 2. Not top". */
TEST_F(scan, sections_at_any_level)
{
	ASSERT_EQ(0, put_file(self->dir, "c.h",
			      "/* PROTOCOL"
			      ".md sections 1-2 */\n"));
	ASSERT_EQ(0, check_tree(&self->c));
	EXPECT_EQ(0, self->c.problems);
}

/* --- tree.*: this source tree --- */

TEST(tree_references_are_true)
{
	const char *root = getenv("KC_SRC");
	struct ctx c = { 0 };

	if (!root || !is_file(root, "Makefile") ||
	    !is_file(root, "docs/DESIGN.md"))
		SKIP(return, "KC_SRC is not a kcourier tree: run through "
			     "tests/run-tests.sh");
	c.root = root;
	ASSERT_EQ(0, check_tree(&c));
	TH_LOG("%zu source files, %zu Markdown files", c.sources.n, c.mds.n);
	EXPECT_LT(100, c.sources.n);
	EXPECT_EQ(0, c.problems);
	ctx_free(&c);
}

TEST_HARNESS_MAIN
