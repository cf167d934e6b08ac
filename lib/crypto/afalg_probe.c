// SPDX-License-Identifier: GPL-2.0-only
/*
 * Can this kernel run the afalg tier? Checked once per process, in the
 * order an operator would fix things: AF_ALG itself, the two algorithms,
 * the keyring, ALG_SET_KEY_BY_KEY_SERIAL. Last, a throwaway logon key
 * keys our sockets by serial while libkcapi keys its own with the same
 * bytes: both must give the same HMAC and the same CBC output, or the
 * kernel did not use the key we named.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kcapi.h>

#include "crypto/afalg_probe.h"
#include "crypto/afalg_sock.h"
#include "crypto/keyring.h"

#define WHY_MAX 200

static struct {
	int ret;
	char why[WHY_MAX];
} probe;
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

static const uint8_t probe_msg[2 * KC_AES_BLOCK] =
	"kcourier/1 afalg probe message";
static const uint8_t probe_iv[KC_IV_LEN] = "kcourier/1 iv..";

static int unavailable(const char *what, int err)
{
	snprintf(probe.why, sizeof(probe.why), "%s (%s)", what, strerror(-err));
	return -ENOENT;
}

static int check_socket(void)
{
	int fd = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0 && errno == EAFNOSUPPORT)
		return unavailable("no AF_ALG in this kernel", -errno);
	if (fd < 0)
		return unavailable("cannot open an AF_ALG socket", -errno);
	close(fd);
	return 0;
}

/* libkcapi's answer with the raw key: what the kernel must reproduce. */
static int kcapi_reference(const uint8_t key[KC_KEY_LEN],
			   uint8_t tag[KC_MAC_LEN],
			   uint8_t ct[sizeof(probe_msg)])
{
	struct kcapi_handle *md = NULL, *cbc = NULL;
	int ret;

	ret = kcapi_md_init(&md, "hmac(sha256)", 0);
	if (ret) {
		unavailable("no hmac(sha256) over AF_ALG (algif_hash?)", ret);
		goto cleanup;
	}
	ret = kcapi_cipher_init(&cbc, "cbc(aes)", 0);
	if (ret) {
		unavailable("no cbc(aes) over AF_ALG (algif_skcipher?)", ret);
		goto cleanup;
	}
	if (kcapi_md_setkey(md, key, KC_KEY_LEN) ||
	    kcapi_md_digest(md, probe_msg, sizeof(probe_msg), tag,
			    KC_MAC_LEN) != KC_MAC_LEN ||
	    kcapi_cipher_setkey(cbc, key, KC_KEY_LEN) ||
	    kcapi_cipher_encrypt(cbc, probe_msg, sizeof(probe_msg), probe_iv,
				 ct, sizeof(probe_msg),
				 KCAPI_ACCESS_SENDMSG) != sizeof(probe_msg))
		ret = unavailable("libkcapi self-test failed", -EIO);
cleanup:
	kcapi_md_destroy(md);
	kcapi_cipher_destroy(cbc);
	return ret;
}

/* The same two operations on our sockets, keyed by the key's serial. */
static int serial_keyed(key_serial_t serial, uint8_t tag[KC_MAC_LEN],
			uint8_t ct[sizeof(probe_msg)])
{
	struct kc_alg md = KC_ALG_INIT, cbc = KC_ALG_INIT;
	const struct kc_iov in = { probe_msg, sizeof(probe_msg) };
	int ret;

	ret = kc_alg_open(&md, "hash", "hmac(sha256)");
	if (!ret)
		ret = kc_alg_open(&cbc, "skcipher", "cbc(aes)");
	if (ret) {
		unavailable("cannot bind AF_ALG sockets", ret);
		goto cleanup;
	}
	ret = kc_alg_key_serial(&md, serial, kc_afalg_key_id());
	if (!ret)
		ret = kc_alg_key_serial(&cbc, serial, kc_afalg_key_id());
	if (ret == -ENOPROTOOPT) {
		unavailable("AF_ALG cannot take keys from the keyring "
			    "(ALG_SET_KEY_BY_KEY_SERIAL needs Linux 6.2)",
			    ret);
		goto cleanup;
	}
	if (!ret)
		ret = kc_alg_hmac(&md, &in, 1, tag);
	if (!ret)
		ret = kc_alg_cbc(&cbc, true, probe_iv, &in, 1, ct);
	if (ret)
		unavailable("AF_ALG keyed from the keyring failed", ret);
cleanup:
	kc_alg_close(&md);
	kc_alg_close(&cbc);
	return ret;
}

static int compare(key_serial_t serial, const uint8_t key[KC_KEY_LEN])
{
	uint8_t tag[2][KC_MAC_LEN], ct[2][sizeof(probe_msg)];
	int ret;

	ret = kcapi_reference(key, tag[0], ct[0]);
	if (!ret)
		ret = serial_keyed(serial, tag[1], ct[1]);
	if (!ret && (memcmp(tag[0], tag[1], KC_MAC_LEN) ||
		     memcmp(ct[0], ct[1], sizeof(probe_msg))))
		ret = unavailable("keyed by serial, the kernel disagrees with "
				  "libkcapi",
				  -EIO);
	return ret;
}

static int check_keyring(void)
{
	uint8_t key[KC_KEY_LEN], sid[KC_SID_LEN];
	struct kc_keyring kr;
	key_serial_t serial;
	int ret;

	ret = kc_keyring_open(&kr);
	if (ret)
		return unavailable("no access to the kernel keyring", ret);
	kc_random(key, sizeof(key));
	kc_random(sid, sizeof(sid));
	/* A crash before the unlink leaves a key that soon expires. */
	ret = kc_keyring_add(&kr, "logon", sid, "probe", key, sizeof(key), 60,
			     &serial);
	if (ret) {
		unavailable("cannot add logon keys to the keyring", ret);
		goto cleanup;
	}
	ret = compare(serial, key);
	kc_keyring_unlink(&kr, serial);
cleanup:
	explicit_bzero(key, sizeof(key));
	return ret;
}

static void probe_run(void)
{
	/* Reasons are ours; libkcapi would print its own to stderr. */
	kcapi_set_verbosity(KCAPI_LOG_NONE);
	probe.ret = check_socket();
	if (!probe.ret)
		probe.ret = check_keyring();
	/* Whatever went wrong, to callers the tier is just not here. */
	if (probe.ret)
		probe.ret = -ENOENT;
}

int kc_afalg_probe(char *why, size_t cap)
{
	pthread_once(&probe_once, probe_run);
	if (probe.ret && why && cap)
		snprintf(why, cap, "%s", probe.why);
	return probe.ret;
}
