/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Key files in the standard PEM forms, read and written with OpenSSL so
 * keys made by `openssl genpkey` or Python's cryptography work as they are:
 *   private: PKCS#8 "PRIVATE KEY" or "ENCRYPTED PRIVATE KEY" (and the
 *            traditional "RSA PRIVATE KEY")
 *   public:  SPKI "PUBLIC KEY", an X.509 "CERTIFICATE", or a private key file
 * Private keys are written as PKCS#8 encrypted with PBES2: PBKDF2-HMAC-SHA256
 * at KC_PBKDF2_ITER iterations and AES-256-CBC, file mode 0600.
 */
#ifndef KC_KEYFILE_H
#define KC_KEYFILE_H

#include <stddef.h>

#include <openssl/evp.h>

#define KC_PBKDF2_ITER 600000

/*
 * Supplies a passphrase when an encrypted key needs one: writes at most
 * cap bytes into buf and returns the length, or -errno.
 */
typedef int (*kc_pass_fn)(char *buf, size_t cap, void *arg);

/*
 * Returns 0, -ENOENT/-EACCES etc. for the file (-EFBIG above 256 KiB),
 * -EBADMSG when the contents are not a key of the expected form (or the
 * passphrase is wrong). A negative value returned by the passphrase
 * callback is passed back as is; with no callback (pass NULL), an
 * encrypted private key gives -ENOKEY. The callback runs at most once per
 * load. kc_key_load_public() on an encrypted private key file gives
 * -ENOKEY too: the caller may then load it as a private key with a
 * passphrase and use its public half.
 */
int kc_key_load_private(const char *path, kc_pass_fn pass, void *arg,
			EVP_PKEY **out);
int kc_key_load_public(const char *path, EVP_PKEY **out);
/* A new key holding only the public half of key, so no private copy lingers. */
int kc_key_public_half(EVP_PKEY *key, EVP_PKEY **out);
/* Same as the file forms, from PEM text in memory. */
int kc_key_parse_private(const char *pem, size_t len, kc_pass_fn pass,
			 void *arg, EVP_PKEY **out);
int kc_key_parse_public(const char *pem, size_t len, EVP_PKEY **out);

/*
 * Encrypted PKCS#8 (pass non-empty, else -EINVAL), created with O_EXCL and
 * mode 0600: -EEXIST if path exists. Nothing is left behind on failure.
 */
int kc_key_save_private(const char *path, EVP_PKEY *key, const char *pass,
			size_t pass_len);
/*
 * The same at another PBKDF2 iteration count (readers take the count from
 * the file). Only the test harness uses it, to make throwaway agent keys
 * cheap to open in the VM lab; every key the tools write is at
 * KC_PBKDF2_ITER.
 */
int kc_key_save_private_iter(const char *path, EVP_PKEY *key,
			     const char *pass, size_t pass_len,
			     unsigned int iter);
/* SPKI "PUBLIC KEY" PEM, mode 0644, O_EXCL as above. */
int kc_key_save_public(const char *path, EVP_PKEY *key);

/*
 * Unencrypted PKCS#8 DER for handing to a crypto tier; release it with
 * OPENSSL_clear_free(*der, *len). -EINVAL when key has no private half.
 */
int kc_key_pkcs8_der(EVP_PKEY *key, unsigned char **der, size_t *len);

#endif
