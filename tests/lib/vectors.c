// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test vectors from the source tree (vectors.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "vectors.h"

/* Set by the Makefile to the tree the tests were built from. */
#ifndef KC_TEST_SRC_DIR
#define KC_TEST_SRC_DIR "."
#endif

json_t *wycheproof_load(const char *file, char *why, size_t cap)
{
	const char *src = getenv("KC_SRC");
	char path[4096];
	json_error_t err;
	json_t *root;

	if (!src || !*src)
		src = KC_TEST_SRC_DIR;
	snprintf(path, sizeof(path), "%s/tests/vectors/wycheproof/%s", src,
		 file);
	root = json_load_file(path, 0, &err);
	if (!root)
		snprintf(why, cap, "%s: %s (line %d)", path, err.text,
			 err.line);
	return root;
}
