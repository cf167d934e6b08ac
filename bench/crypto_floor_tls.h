/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TLS 1.3 application-data records (RFC 8446 5.2-5.3) on OpenSSL EVP
 * AES-256-GCM, for the crypto floor: the per-record work GnuTLS or kTLS
 * does for the agent, without the handshake or a socket. A frame is
 * sealed on its own, split at 2^14 bytes, with no padding, so its records
 * take exactly cf_tls_wire_len() bytes (crypto_floor_sizes.h).
 *
 * Returns 0 or -errno: -EIO for a library failure, -EBADMSG for a record
 * that does not authenticate or parse, -EMSGSIZE when the plaintext
 * buffer is too small.
 */
#ifndef KC_BENCH_CRYPTO_FLOOR_TLS_H
#define KC_BENCH_CRYPTO_FLOOR_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define CF_TLS_IV_LEN 12 /* RFC 8446 5.3: per-record nonce length */

struct cf_buf {
	uint8_t *p;
	size_t len;
};

/* One direction of one connection: traffic key, iv, next sequence. */
struct cf_tls_dir {
	EVP_CIPHER_CTX *ctx;
	uint8_t iv[CF_TLS_IV_LEN];
	uint64_t seq;
};

/* Fetches AES-256-GCM once for every direction; 0 or -EIO. */
int cf_tls_setup(void);
void cf_tls_teardown(void);

/*
 * Both ends of one direction under a fresh random key; opener may be
 * NULL when only the sealing end is needed.
 */
int cf_tls_link(struct cf_tls_dir *sealer, struct cf_tls_dir *opener);
/* Wipes the key schedule and iv; safe on a zeroed struct. */
void cf_tls_dir_free(struct cf_tls_dir *d);

/* Seals frame into out, which must hold cf_tls_wire_len(frame->len). */
int cf_tls_seal(struct cf_tls_dir *d, const struct cf_buf *frame, uint8_t *out);
/*
 * Opens every record of wire in order into pt; *len is the plaintext
 * total. pt needs one byte beyond it: each record decrypts its content
 * type byte just past its content.
 */
int cf_tls_open(struct cf_tls_dir *d, const struct cf_buf *wire,
		const struct cf_buf *pt, size_t *len);

#endif
