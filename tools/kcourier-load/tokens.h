/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Enrollment tokens for new load clients: the lines of --tokens FILE, or
 * fresh ones from `kcourierd token --dir DIR` (run next to this binary, else
 * from PATH), fetched in batches as they are needed.
 */
#ifndef KC_LOAD_TOKENS_H
#define KC_LOAD_TOKENS_H

#include <stddef.h>
#include <stdio.h>

#include "load.h"

#define TOKEN_MAX 512

struct token_source {
	const struct load_opts *o;
	FILE *file;
	char **batch;
	size_t n, next;
};

void tokens_init(struct token_source *ts, const struct load_opts *o);
/*
 * The next token into out; want is how many more are likely needed (the
 * batch size for kcourierd). 0, or -1 after a message (none left).
 */
int tokens_next(struct token_source *ts, size_t want, char out[TOKEN_MAX]);
void tokens_close(struct token_source *ts);

#endif
