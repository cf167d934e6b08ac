/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The public test vectors the tests read, kept in the repository under
 * tests/vectors/ (tests/vectors/wycheproof/README.md says which files and
 * from where). They are part of the tree, so a missing or unreadable file
 * is a failure, never a skip.
 */
#ifndef KC_TEST_VECTORS_H
#define KC_TEST_VECTORS_H

#include <stddef.h>

#include <jansson.h>

/*
 * Loads tests/vectors/wycheproof/<file> from the source tree ($KC_SRC,
 * which tests/run-tests.sh sets, else the tree the test was built in).
 * NULL on failure, with the path and the reason in why.
 */
json_t *wycheproof_load(const char *file, char *why, size_t cap);

#endif
