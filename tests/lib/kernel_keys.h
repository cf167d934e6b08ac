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

#endif
