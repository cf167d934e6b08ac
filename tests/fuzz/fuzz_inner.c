// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the records inside ciphertext: the SEND plaintext
 * and the end-to-end inner records. Both decoders see every input; what
 * decodes must re-encode to the same bytes.
 */
#include "codec_check.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_inner(data, size);
	check_send_plain(data, size);
	return 0;
}
