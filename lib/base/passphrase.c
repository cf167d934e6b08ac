// SPDX-License-Identifier: GPL-2.0-only
/*
 * Passphrase sources; see passphrase.h for the order and the rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/passphrase.h"

/*
 * Reads one line (up to "\n" or end of file) into p, one byte at a time so
 * nothing after the line is consumed. A longer line is read to its end, so
 * the rest of a typed line does not spill into the shell, and refused.
 */
static int read_line(int fd, struct kc_passphrase *p)
{
	size_t seen = 0;
	ssize_t got;
	char c;

	p->len = 0;
	for (;;) {
		got = read(fd, &c, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0 || c == '\n')
			break;
		if (seen++ < KC_PASSPHRASE_MAX)
			p->text[p->len++] = c;
	}
	explicit_bzero(&c, sizeof(c));
	if (seen > KC_PASSPHRASE_MAX)
		return -EINVAL;
	/* A file written on another system may end its lines with CRLF. */
	if (p->len && p->text[p->len - 1] == '\r')
		p->len--;
	p->text[p->len] = '\0';
	return p->len ? 0 : -EINVAL;
}

/* Checked on the open file, so a rename in between cannot fool it. */
static int check_private(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	return st.st_mode & (S_IRWXG | S_IRWXO) ? -EPERM : 0;
}

static int from_file(const char *path, bool strict, struct kc_passphrase *p)
{
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (strict)
		ret = check_private(fd);
	if (!ret)
		ret = read_line(fd, p);
	close(fd);
	return ret;
}

/*
 * unsetenv() alone only drops the pointer: the bytes stay where they
 * were, in the initial environment block that /proc/PID/environ shows.
 * So the whole "NAME=value" entry is wiped too, once unset (unsetenv
 * finds the entry by its name).
 */
static void scrub_env(const char *name, char *value)
{
	char *entry = value - strlen(name) - 1;

	unsetenv(name);
	explicit_bzero(entry, strlen(entry));
}

static int from_env(const char *name, bool strict, struct kc_passphrase *p)
{
	char *v = getenv(name);
	size_t len;
	int ret = 0;

	if (!v || !*v)
		return -ENOENT;
	len = strlen(v);
	if (len > KC_PASSPHRASE_MAX) {
		ret = -EINVAL;
	} else {
		memcpy(p->text, v, len + 1);
		p->len = len;
	}
	if (strict)
		scrub_env(name, v);
	return ret;
}

static void tty_say(int fd, const char *s)
{
	ssize_t put = write(fd, s, strlen(s));

	(void)put; /* a prompt that cannot be shown still gets its answer */
}

/* One line from the terminal with echo off; the old mode comes back. */
static int ask(int tty, const char *prompt, struct kc_passphrase *p)
{
	struct termios old, quiet;
	int ret;

	if (tcgetattr(tty, &old))
		return -ENXIO;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (tcsetattr(tty, TCSAFLUSH, &quiet))
		return -ENXIO;
	tty_say(tty, prompt);
	ret = read_line(tty, p);
	tcsetattr(tty, TCSAFLUSH, &old);
	tty_say(tty, "\n");
	return ret;
}

static int from_tty(const char *prompt, bool confirm, struct kc_passphrase *p)
{
	struct kc_passphrase *again = NULL;
	int tty, ret;

	tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty < 0)
		return -ENXIO;
	ret = ask(tty, prompt ? prompt : "Passphrase: ", p);
	if (ret || !confirm)
		goto cleanup;
	ret = -ENOMEM;
	again = malloc(sizeof(*again));
	if (!again)
		goto cleanup;
	ret = ask(tty, "Again: ", again);
	if (!ret &&
	    (again->len != p->len || memcmp(again->text, p->text, p->len)))
		ret = -EKEYREJECTED;
cleanup:
	if (again) {
		kc_passphrase_wipe(again);
		free(again);
	}
	close(tty);
	return ret;
}

int kc_passphrase_get(const struct kc_passphrase_src *src,
		      struct kc_passphrase *out)
{
	const char *const *name;
	int ret = -ENOENT;

	if (src->file) {
		ret = from_file(src->file, src->strict, out);
		goto done;
	}
	for (name = src->env; name && *name && ret == -ENOENT; name++)
		ret = from_env(*name, src->strict, out);
	if (ret == -ENOENT)
		ret = from_tty(src->prompt, src->confirm, out);
done:
	if (ret)
		kc_passphrase_wipe(out);
	return ret;
}

void kc_passphrase_wipe(struct kc_passphrase *p)
{
	if (p)
		explicit_bzero(p, sizeof(*p));
}

int kc_passphrase_supply(char *buf, size_t cap, void *arg)
{
	const struct kc_passphrase *p = arg;

	if (!p || !p->len)
		return -ENOKEY;
	if (p->len > cap)
		return -EINVAL;
	memcpy(buf, p->text, p->len);
	return (int)p->len;
}

const char *kc_passphrase_strerror(int err)
{
	switch (err) {
	case -ENXIO:
		return "no passphrase given (no file, no environment variable, "
		       "no terminal)";
	case -EINVAL:
		return "passphrase is empty or longer than 1024 bytes";
	case -EKEYREJECTED:
		return "the two passphrases differ";
	case -EPERM:
		return "readable by group or others: refused, chmod 600 it";
	default:
		return strerror(-err);
	}
}
