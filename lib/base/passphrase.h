/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Passphrases for private keys at rest, shared by kcourier and kcourierd.
 *
 * Sources are tried in a fixed order and never include the command line
 * (argv is visible to every user through /proc):
 *   1. the first line of a file (--passphrase-file), "\n" or "\r\n" cut;
 *   2. environment variables, in the order given (an empty one is skipped);
 *   3. the controlling terminal (/dev/tty), read without echo, asked twice
 *      when `confirm` is set (a new passphrase, so a typo is caught before
 *      it locks a key away for good).
 * An empty passphrase is refused everywhere: keyfile.c cannot encrypt
 * with one, and a file that has lost its contents must not silently open
 * nothing.
 */
#ifndef KC_PASSPHRASE_H
#define KC_PASSPHRASE_H

#include <stdbool.h>
#include <stddef.h>

#define KC_PASSPHRASE_MAX 1024

struct kc_passphrase_src {
	const char *file;	/* or NULL */
	const char *const *env; /* NULL-terminated list, or NULL */
	const char *prompt;	/* terminal prompt, e.g. "Passphrase: " */
	bool confirm;
	/*
	 * For a daemon's keys: refuse a file that group or others may read
	 * (-EPERM), and wipe a variable's value in place and unset it once
	 * read, so neither a later getenv() nor /proc/PID/environ sees it.
	 */
	bool strict;
};

/* Wipe with kc_passphrase_wipe() once the keys are loaded or saved. */
struct kc_passphrase {
	size_t len;
	char text[KC_PASSPHRASE_MAX + 1]; /* NUL-terminated */
};

/*
 * Returns 0, the file's -errno (-EPERM for a strict source's file with
 * group or other permissions), -ENXIO when no source is available (no
 * file, no variable, no terminal), -EINVAL for an empty or too long
 * passphrase, -EKEYREJECTED when the confirmation differs. `out` is wiped
 * on failure.
 */
int kc_passphrase_get(const struct kc_passphrase_src *src,
		      struct kc_passphrase *out);
void kc_passphrase_wipe(struct kc_passphrase *p);

/* A kc_pass_fn (keyfile.h) handing out a struct kc_passphrase given as arg. */
int kc_passphrase_supply(char *buf, size_t cap, void *arg);

/* Operator-facing text for an error of kc_passphrase_get(). */
const char *kc_passphrase_strerror(int err);

#endif
