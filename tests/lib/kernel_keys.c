// SPDX-License-Identifier: GPL-2.0-only
/*
 * Keyring probes for tests: see kernel_keys.h.
 */
#include <errno.h>
#include <stdlib.h>
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
