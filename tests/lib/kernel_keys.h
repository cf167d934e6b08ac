/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What tests of the seal key in the kernel keyring (rsa_keyring.h) need to
 * tell a kernel that cannot hold the key from a real failure, and to look
 * into a keyring.
 */
#ifndef KC_TEST_KERNEL_KEYS_H
#define KC_TEST_KERNEL_KEYS_H

#include <stdbool.h>

#include <keyutils.h>

/*
 * What add_key("asymmetric", PKCS#8) says where the kernel has no PKCS#8
 * key parser or no asymmetric key type.
 */
bool test_kernel_lacks_parser(int err);
/*
 * Whether pkcs8_key_parser is loaded (the VM lab loads it): then such an
 * error is a real failure, not a SKIP.
 */
bool test_parser_module_loaded(void);
/* Whether ring links key directly. */
bool test_ring_links(key_serial_t ring, key_serial_t key);
/*
 * The key of that type and name linked in ring, by listing and describing
 * (what a process that does not possess the ring may do: keyctl_search
 * needs search permission, which the agent grants only its possessor).
 * The serial, or -1 with errno ENOKEY or the kernel's.
 */
/* The time key has left as /proc/keys shows it ("perm", "5m", "4s"). */
bool test_key_timeout(key_serial_t key, char out[32]);
/* Whether /proc/keys shows key with a timeout (not "perm"). */
bool test_key_expires(key_serial_t key);
key_serial_t test_ring_find(key_serial_t ring, const char *type,
			    const char *name);

#endif
