// SPDX-License-Identifier: GPL-2.0-only
/*
 * Canonical base64 (lib/b64.c): the RFC 4648 section 10 vectors, round
 * trips across the encoder's chunk boundaries, and every way text can be
 * valid-looking but not canonical.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "kselftest_harness.h"

#include "base/b64.h"
#include "crypto/crypto.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int decode_str(const char *s, uint8_t *out, size_t *out_len)
{
	return kc_b64_decode(s, strlen(s), out, out_len);
}

TEST(rfc4648_vectors)
{
	static const struct {
		const char *raw, *b64;
	} v[] = {
		{ "", "" },	    { "f", "Zg==" },	    { "fo", "Zm8=" },
		{ "foo", "Zm9v" },  { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	uint8_t out[16];
	char text[16];
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		kc_b64_encode((const uint8_t *)v[i].raw, strlen(v[i].raw), text);
		EXPECT_STREQ(v[i].b64, text);
		EXPECT_EQ(strlen(v[i].b64) + 1, kc_b64_len(strlen(v[i].raw)));
		ASSERT_EQ(0, decode_str(v[i].b64, out, &n));
		ASSERT_EQ(strlen(v[i].raw), n);
		EXPECT_EQ(0, memcmp(v[i].raw, out, n));
	}
}

/*
 * Lengths around the 3072-byte chunks of the encoder and the 4096-char
 * chunks of the decoder; the reference is one EVP_EncodeBlock call over
 * the whole buffer.
 */
TEST(round_trip_across_chunks)
{
	static const size_t sizes[] = { 0,    1,    2,    3,    4,    5,
					3071, 3072, 3073, 6143, 6144, 6145,
					9216, 9217, 1 << 20 };
	size_t i, len, got;
	uint8_t *raw, *back;
	char *text, *ref;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		len = sizes[i];
		raw = malloc(len + 1);
		back = malloc(len + 3);
		text = malloc(kc_b64_len(len));
		ref = malloc(kc_b64_len(len));
		ASSERT_TRUE(raw && back && text && ref);
		kc_random(raw, len);
		kc_b64_encode(raw, len, text);
		EVP_EncodeBlock((unsigned char *)ref, raw, (int)len);
		EXPECT_STREQ(ref, text);
		ASSERT_EQ(0, kc_b64_decode(text, strlen(text), back, &got));
		EXPECT_EQ(len, got);
		EXPECT_EQ(0, memcmp(raw, back, len));
		free(raw);
		free(back);
		free(text);
		free(ref);
	}
}

TEST(rejects_non_canonical)
{
	static const char *const bad[] = {
		"Zg",	      "Zg=",	     "Zg===",	   "=Zg=",   "Z=g=",
		"====",	      "Zm9v=",	     " Zg==",	   "Zg== ",  "Zg==\n",
		"Z g==",      "Zm9v\nYmFy", "Zm9v\rYmFy", "Zg==Zg==", "Zm8=Zm9v",
		"Zm9-",	      "Zm9_",	     "Zm9v.",	   "Zm9\tv", "Zh==",
		"Zm9=",	      "Zm+=",	     "Zg=a",	   "A",	     "AB",
		"ABC",	      "ABCDE",
	};
	uint8_t out[16];
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 999;
		EXPECT_EQ(-EBADMSG, decode_str(bad[i], out, &n))
			TH_LOG("accepted \"%s\"", bad[i]);
		EXPECT_EQ(999, n);
	}
}

/* One byte leaves 4 unused bits in the second char, two bytes leave 2. */
TEST(rejects_nonzero_unused_bits)
{
	uint8_t raw[2], out[3];
	char text[5], *pos;
	size_t n, len;
	int b, bits, rejected = 0, accepted = 0;

	for (len = 1; len <= 2; len++) {
		for (b = 0; b < 256; b++) {
			raw[0] = raw[1] = (uint8_t)b;
			kc_b64_encode(raw, len, text);
			ASSERT_EQ(0, kc_b64_decode(text, 4, out, &n));
			pos = &text[len]; /* the char holding unused bits */
			for (bits = 1; bits < (len == 1 ? 16 : 4); bits++) {
				char save = *pos;

				*pos = alphabet[(strchr(alphabet, save) - alphabet) |
						bits];
				if (kc_b64_decode(text, 4, out, &n) == -EBADMSG)
					rejected++;
				else
					accepted++;
				*pos = save;
			}
		}
	}
	EXPECT_EQ(0, accepted);
	EXPECT_EQ(256 * 15 + 256 * 3, rejected);
}

/* Any byte outside the alphabet, at any place of a quad. */
TEST(rejects_foreign_characters)
{
	char text[9] = "Zm9vYmFy";
	uint8_t out[6];
	int c, i, accepted = 0;
	size_t n;

	for (i = 0; i < 8; i++) {
		for (c = 1; c < 256; c++) {
			char save = text[i];

			if (memchr(alphabet, c, 64))
				continue;
			text[i] = (char)c;
			if (kc_b64_decode(text, 8, out, &n) != -EBADMSG)
				accepted++;
			text[i] = save;
		}
		/* NUL inside the counted length, too. */
		text[i] = '\0';
		EXPECT_EQ(-EBADMSG, kc_b64_decode(text, 8, out, &n));
		text[i] = "Zm9vYmFy"[i];
	}
	EXPECT_EQ(0, accepted);
}

/* Padding in the middle must fail even when it falls on a chunk boundary. */
TEST(padding_only_at_the_end)
{
	size_t len = 3 * 4096, text_len = kc_b64_len(len) - 1, n, at;
	uint8_t *raw = malloc(len), *out = malloc(len);
	char *text = malloc(text_len + 1);
	static const size_t places[] = { 4094, 4095, 4098, 4099, 8190, 8191 };
	size_t i;

	ASSERT_TRUE(raw && out && text);
	kc_random(raw, len);
	kc_b64_encode(raw, len, text);
	ASSERT_EQ(0, kc_b64_decode(text, text_len, out, &n));
	for (i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		char save;

		at = places[i];
		save = text[at];
		text[at] = '=';
		EXPECT_EQ(-EBADMSG, kc_b64_decode(text, text_len, out, &n))
			TH_LOG("'=' at %zu accepted", at);
		text[at] = save;
	}
	free(raw);
	free(out);
	free(text);
}

TEST_HARNESS_MAIN
