/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The directory in one SQLite 3 file (docs/DESIGN.md "Storage"), WAL with
 * synchronous=FULL, so every write's commit is one fsync of the WAL and
 * survives a crash or power loss. Other processes
 * may use the file at the same time; SQLite's locks and a busy timeout
 * cover that.
 */
#ifndef KC_STORE_SQLITE_H
#define KC_STORE_SQLITE_H

#include <stdbool.h>

/* PRAGMA user_version of the file this kcourierd writes. */
#define KC_SQLITE_SCHEMA_VERSION 2

struct kc_store;

/*
 * Opens the store at path; with create, makes the file (mode 0600) and its
 * schema when missing, else a missing file is -ENOENT. A store of an
 * older schema is brought up to date; a newer one is -EPROTO; one of
 * schema 1 with messages still queued in it is -ENOTEMPTY (a kcourierd
 * of protocol version 1 must deliver them first).
 */
int kc_sqlite_open(const char *path, bool create, struct kc_store **out);

#endif
