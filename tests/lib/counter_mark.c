// SPDX-License-Identifier: GPL-2.0-only
/*
 * A home's counter mark for tests: see counter_mark.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/home.h"
#include "counter_mark.h"

#define MARK_LINE_LEN 21

long long counter_mark(const char *home)
{
	char path[4096], buf[64];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", home, KC_HOME_COUNTER);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (n != MARK_LINE_LEN || buf[MARK_LINE_LEN - 1] != '\n')
		return -1;
	return strtoll(buf, NULL, 10);
}
