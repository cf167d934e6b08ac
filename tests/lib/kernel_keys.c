// SPDX-License-Identifier: GPL-2.0-only
/*
 * Keyring probes for tests: see kernel_keys.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel_keys.h"

bool test_kernel_lacks_parser(int err)
{
	return err == -EBADMSG || err == -ENODEV || err == -ENOPKG ||
	       err == -EOPNOTSUPP || err == -ENOSYS;
}

bool test_parser_module_loaded(void)
{
	return access("/sys/module/pkcs8_key_parser", F_OK) == 0;
}

bool test_ring_links(key_serial_t ring, key_serial_t key)
{
	key_serial_t *ids = NULL;
	long n = keyctl_read_alloc(ring, (void **)&ids);
	bool found = false;

	for (long i = 0; i < n / (long)sizeof(*ids); i++)
		found |= ids[i] == key;
	free(ids);
	return found;
}

/* "type;uid;gid;perm;name": type and name match. */
static bool described_as(key_serial_t key, const char *type, const char *name)
{
	char *desc = NULL;
	const char *last;
	bool same;

	if (keyctl_describe_alloc(key, &desc) < 0)
		return false;
	last = strrchr(desc, ';');
	same = last && !strcmp(last + 1, name) &&
	       !strncmp(desc, type, strlen(type)) && desc[strlen(type)] == ';';
	free(desc);
	return same;
}

key_serial_t test_ring_find(key_serial_t ring, const char *type,
			    const char *name)
{
	key_serial_t *ids = NULL, found = -1;
	long n = keyctl_read_alloc(ring, (void **)&ids);

	if (n < 0)
		return -1;
	for (long i = 0; i < n / (long)sizeof(*ids) && found < 0; i++)
		if (described_as(ids[i], type, name))
			found = ids[i];
	free(ids);
	if (found < 0)
		errno = ENOKEY;
	return found;
}

bool test_key_timeout(key_serial_t key, char out[32])
{
	char line[512], timeout[32];
	bool found = false;
	unsigned int serial;
	FILE *f = fopen("/proc/keys", "re");

	/* "serial flags usage timeout perm uid gid type desc", serial in hex */
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%x %*s %*s %31s", &serial, timeout) == 2 &&
		    serial == (unsigned int)key) {
			memcpy(out, timeout, sizeof(timeout));
			found = true;
		}
	if (f)
		fclose(f);
	return found;
}

bool test_key_expires(key_serial_t key)
{
	char timeout[32];

	return test_key_timeout(key, timeout) && strcmp(timeout, "perm");
}
