// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier.ko through its ABI (uapi/linux/kcourier.h), one fixture per
 * request: VERSION, UNWRAP (with Wycheproof's RSA-OAEP-2048-SHA-256
 * vectors under their own key), OPEN and SEAL (variants per batch size), the
 * same batch as an io_uring IORING_OP_URING_CMD, the bounds of every
 * length and count, reserved fields, a random fuzz of the arguments for
 * KC_FUZZ_SECONDS, and after every test the module is unloaded and
 * loaded again, with its counters (KCOURIER_IOC_STATS) at zero first.
 *
 * The expected bytes come from OpenSSL in this process (libkcourier's
 * user tier, which test_crypto_ops checks against Python): K is known to
 * the test because the test wrapped it, never because it read it back.
 *
 * Needs a kernel that loads the module (the VM lab's 6.12); elsewhere
 * every test SKIPs with the reason. The module is taken from KC_KMOD or
 * kmod/kcourier.ko under the working directory (make kmod).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <keyutils.h>
#include <liburing.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <linux/kcourier.h>

#include "kselftest_harness.h"
#include "lib/hex.h"
#include "lib/kernel_keys.h"
#include "lib/vectors.h"

#include "crypto/crypto.h"
#include "crypto/keyfile.h"

#define DEV "/dev/kcourier"
#define AAD_LEN 40
#define TEST_TIMEOUT 600

/* Loads the module unless it is there; 0, or -errno with why. */
static int kmod_load(char *why, size_t cap)
{
	const char *path = getenv("KC_KMOD") ? getenv("KC_KMOD") :
					       "kmod/kcourier.ko";
	int fd, ret = 0;

	if (!access(DEV, F_OK))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, cap, "%s: %s (make kmod)", path, strerror(errno));
		return -errno;
	}
	if (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST) {
		ret = -errno;
		snprintf(why, cap, "this kernel does not load %s: %s", path,
			 strerror(errno));
	}
	close(fd);
	return ret;
}

static int kmod_unload(void)
{
	return syscall(SYS_delete_module, "kcourier", O_NONBLOCK) ? -errno : 0;
}

static int stats(struct kcourier_stats *st)
{
	int fd = open(DEV, O_RDWR | O_CLOEXEC), ret = 0;

	memset(st, 0, sizeof(*st));
	if (fd < 0)
		return -errno;
	if (ioctl(fd, KCOURIER_IOC_STATS, st))
		ret = -errno;
	close(fd);
	return ret;
}

FIXTURE(kmod)
{
	int fd;
	key_serial_t ring, seal;
	EVP_PKEY *pkey;
	uint8_t k[KC_KEY_LEN], km[KC_KEY_LEN], sid[KCOURIER_SID_LEN];
};

/* The seal key as an asymmetric key in the test's own session keyring. */
static int add_seal_key(FIXTURE_DATA(kmod) *self, char *why, size_t cap)
{
	unsigned char *der = NULL;
	size_t len;

	if (kc_rsa_generate(&self->pkey) ||
	    kc_key_pkcs8_der(self->pkey, &der, &len))
		return -EIO;
	self->seal = add_key("asymmetric", "kc-kmod-seal", der, len,
			     self->ring);
	OPENSSL_clear_free(der, len);
	if (self->seal < 0 && test_kernel_lacks_parser(errno) &&
	    !test_parser_module_loaded()) {
		snprintf(why, cap, "no PKCS#8 key parser (pkcs8_key_parser)");
		return -ENOENT;
	}
	return self->seal < 0 ? -errno : 0;
}

FIXTURE_SETUP(kmod)
{
	char why[256] = "";
	int ret;

	self->fd = -1;
	if (kmod_load(why, sizeof(why)))
		SKIP(return, "%s", why);
	/* A session keyring of this test's own: its keys die with it. */
	ASSERT_LT(0, keyctl_join_session_keyring(NULL));
	self->ring = keyctl_get_keyring_ID(KEY_SPEC_SESSION_KEYRING, 0);
	ASSERT_LT(0, self->ring);
	ret = add_seal_key(self, why, sizeof(why));
	if (ret == -ENOENT)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret) TH_LOG("add_key asymmetric: %s", strerror(-ret));
	self->fd = open(DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("%s: %s", DEV, strerror(errno));
	kc_random(self->k, sizeof(self->k));
	kc_random(self->sid, sizeof(self->sid));
	ASSERT_EQ(0, kc_derive_km(self->k, self->km));
}

/* Closing gives everything back, and the module unloads and reloads. */
FIXTURE_TEARDOWN(kmod)
{
	struct kcourier_stats st;
	char why[256];

	if (self->fd < 0)
		return;
	close(self->fd);
	EVP_PKEY_free(self->pkey);
	ASSERT_EQ(0, stats(&st));
	EXPECT_EQ(1, st.files);
	EXPECT_EQ(0, st.sessions);
	EXPECT_EQ(0, st.tfms);
	EXPECT_EQ(0, st.keys);
	ASSERT_EQ(0, kmod_unload()) TH_LOG("rmmod: %s", strerror(errno));
	ASSERT_EQ(0, kmod_load(why, sizeof(why))) TH_LOG("%s", why);
}

static struct kcourier_unwrap unwrap_args(FIXTURE_DATA(kmod) *self,
					  const uint8_t *wrapped)
{
	struct kcourier_unwrap u = {
		.seal_key = self->seal,
		.keyring = self->ring,
		.timeout_s = 600,
		.wrapped = (uintptr_t)wrapped,
		.wrapped_len = KCOURIER_RSA_LEN,
	};

	memcpy(u.sid, self->sid, sizeof(u.sid));
	return u;
}

/* K wrapped to the seal key, unwrapped by the module: its two serials. */
static int unwrap_k(FIXTURE_DATA(kmod) *self, const uint8_t *m, size_t len,
		    struct kcourier_unwrap *u)
{
	uint8_t wrapped[KC_RSA_LEN];

	if (kc_oaep_wrap(self->pkey, m, len, wrapped))
		return -EIO;
	*u = unwrap_args(self, wrapped);
	return ioctl(self->fd, KCOURIER_IOC_UNWRAP, u) ? -errno : 0;
}

/* A message and what the module must make of it under K and Km. */
struct msg {
	uint8_t aad[AAD_LEN], iv[KC_IV_LEN], mac[KC_MAC_LEN];
	uint8_t *pt, *ct, *out;
	size_t pt_len, ct_len;
};

static void msg_make(struct msg *m, const uint8_t *k, const uint8_t *km,
		     size_t len)
{
	struct kc_iov iov[2];

	kc_random(m->aad, sizeof(m->aad));
	kc_random(m->iv, sizeof(m->iv));
	m->pt_len = len;
	m->pt = malloc(len + 1);
	m->ct = malloc(kc_cbc_ct_len(len));
	m->out = malloc(kc_cbc_ct_len(len));
	kc_random(m->pt, len);
	kc_cbc_encrypt(k, KC_KEY_LEN, m->iv, m->pt, len, m->ct, &m->ct_len);
	iov[0] = (struct kc_iov){ m->aad, sizeof(m->aad) };
	iov[1] = (struct kc_iov){ m->ct, m->ct_len };
	kc_hmac_sha256(km, KC_KEY_LEN, iov, 2, m->mac);
}

static void msg_free(struct msg *m)
{
	free(m->pt);
	free(m->ct);
	free(m->out);
}

static struct kcourier_op op_for(const struct kcourier_unwrap *u,
				 const struct msg *m, bool seal)
{
	struct kcourier_op op = {
		.enc_key = u->enc_key,
		.mac_key = u->mac_key,
		.aad = (uintptr_t)m->aad,
		.aad_len = AAD_LEN,
		.in = (uintptr_t)(seal ? m->pt : m->ct),
		.in_len = (uint32_t)(seal ? m->pt_len : m->ct_len),
		.out = (uintptr_t)m->out,
		.out_len = (uint32_t)kc_cbc_ct_len(m->pt_len),
	};

	memcpy(op.iv, m->iv, KC_IV_LEN);
	if (!seal)
		memcpy(op.tag, m->mac, KC_MAC_LEN);
	return op;
}

static int run(int fd, unsigned long cmd, struct kcourier_op *ops, size_t n)
{
	struct kcourier_batch b = { .ops = (uintptr_t)ops, .count = n };

	if (ioctl(fd, cmd, &b))
		return -errno;
	return b.done == n ? 0 : -EIO;
}

TEST_F_TIMEOUT(kmod, version, TEST_TIMEOUT)
{
	struct kcourier_version v = { 0 };

	ASSERT_EQ(0, ioctl(self->fd, KCOURIER_IOC_VERSION, &v));
	EXPECT_EQ(KCOURIER_API_VERSION, v.api_version);
	EXPECT_EQ(KCOURIER_MAX_BATCH, v.max_batch);
	EXPECT_EQ(KCOURIER_MAX_DATA, v.max_data);
	EXPECT_EQ(KCOURIER_MAX_AAD, v.max_aad);
	v.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, KCOURIER_IOC_VERSION, &v));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO(KCOURIER_IOC_MAGIC, 99), &v));
	EXPECT_EQ(ENOTTY, errno);
}

/* K is right (SEAL gives OpenSSL's bytes) and cannot be read back. */
TEST_F_TIMEOUT(kmod, unwrap_installs_logon_keys, TEST_TIMEOUT)
{
	struct kcourier_unwrap u;
	struct kcourier_op op;
	char *desc = NULL, name[80];
	uint8_t buf[64];
	struct msg m;

	ASSERT_EQ(0, unwrap_k(self, self->k, KC_KEY_LEN, &u));
	EXPECT_EQ(0, u.result);
	ASSERT_LT(0, u.enc_key);
	ASSERT_LT(0, u.mac_key);
	ASSERT_LT(0, keyctl_describe_alloc(u.enc_key, &desc));
	snprintf(name, sizeof(name), "kcourier:");
	for (size_t i = 0; i < KCOURIER_SID_LEN; i++)
		snprintf(name + 9 + 2 * i, 3, "%02x", self->sid[i]);
	EXPECT_EQ(0, strncmp(desc, "logon;", 6)) TH_LOG("%s", desc);
	EXPECT_NE(NULL, strstr(desc, name)) TH_LOG("%s", desc);
	EXPECT_NE(NULL, strstr(desc, ":enc")) TH_LOG("%s", desc);
	free(desc);
	/* K and Km never come back to user space. */
	errno = 0;
	EXPECT_EQ(-1, keyctl_read(u.enc_key, (char *)buf, sizeof(buf)));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, keyctl_read(u.mac_key, (char *)buf, sizeof(buf)));
	EXPECT_EQ(EOPNOTSUPP, errno);

	msg_make(&m, self->k, self->km, 100);
	op = op_for(&u, &m, true);
	ASSERT_EQ(0, run(self->fd, KCOURIER_IOC_SEAL, &op, 1));
	ASSERT_EQ(0, op.status);
	ASSERT_EQ(m.ct_len, op.out_len);
	EXPECT_EQ(0, memcmp(m.ct, m.out, m.ct_len));
	EXPECT_EQ(0, memcmp(m.mac, op.tag, KC_MAC_LEN));
	msg_free(&m);
}

/* Every failed decoding: random keys, same shape, every MAC fails. */
TEST_F_TIMEOUT(kmod, unwrap_failures_give_random_keys, TEST_TIMEOUT)
{
	uint8_t wrapped[KC_RSA_LEN], m31[31], m33[33];
	struct kcourier_unwrap u;
	struct kcourier_op op;
	struct msg m;
	int i;

	msg_make(&m, self->k, self->km, 64);
	kc_random(m31, sizeof(m31));
	kc_random(m33, sizeof(m33));
	for (i = 0; i < 4; i++) {
		switch (i) {
		case 0: /* one bit of the wrap flipped */
			ASSERT_EQ(0, kc_oaep_wrap(self->pkey, self->k,
						  KC_KEY_LEN, wrapped));
			wrapped[100] ^= 0x04;
			break;
		case 1: /* 31 bytes */
			ASSERT_EQ(0, kc_oaep_wrap(self->pkey, m31, 31,
						  wrapped));
			break;
		case 2: /* 33 bytes */
			ASSERT_EQ(0, kc_oaep_wrap(self->pkey, m33, 33,
						  wrapped));
			break;
		default: /* not below the modulus */
			memset(wrapped, 0xff, sizeof(wrapped));
			break;
		}
		u = unwrap_args(self, wrapped);
		ASSERT_EQ(0, ioctl(self->fd, KCOURIER_IOC_UNWRAP, &u))
			TH_LOG("case %d: %s", i, strerror(errno));
		EXPECT_EQ(KCOURIER_UNWRAP_RANDOM, u.result) TH_LOG("case %d", i);
		EXPECT_LT(0, u.enc_key);
		EXPECT_LT(0, u.mac_key);
		op = op_for(&u, &m, false);
		ASSERT_EQ(0, run(self->fd, KCOURIER_IOC_OPEN, &op, 1));
		EXPECT_EQ(-EBADMSG, op.status) TH_LOG("case %d", i);
		EXPECT_EQ(0, op.out_len);
	}
	msg_free(&m);
}

TEST_F_TIMEOUT(kmod, unwrap_arguments, TEST_TIMEOUT)
{
	uint8_t wrapped[KC_RSA_LEN] = { 0 };
	struct kcourier_unwrap u;
	int i;

	for (i = 0; i < 8; i++) {
		u = unwrap_args(self, wrapped);
		switch (i) {
		case 0: u.flags = 1; break;
		case 1: u.pad = 1; break;
		case 2: u.reserved[2] = 1; break;
		case 3: u.wrapped_len = 255; break;
		case 4: u.wrapped_len = 257; break;
		case 5: u.wrapped = 8; break;
		case 6: u.seal_key = self->ring; break;
		default: u.seal_key = 0x7ffffff0; break;
		}
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, KCOURIER_IOC_UNWRAP, &u))
			TH_LOG("case %d", i);
		EXPECT_EQ(i < 5 ? EINVAL : i == 5 ? EFAULT : ENOKEY, errno)
			TH_LOG("case %d: %s", i, strerror(errno));
	}
	/* Into a keyring the caller cannot name: refused. */
	u = unwrap_args(self, wrapped);
	u.keyring = 0x7ffffff0;
	EXPECT_EQ(-1, ioctl(self->fd, KCOURIER_IOC_UNWRAP, &u));
	EXPECT_EQ(ENOKEY, errno);
}

/*
 * One Wycheproof OAEP vector through UNWRAP under seal: the one kind the
 * protocol carries (valid, 32 bytes, empty label) gives K = msg, which
 * SEAL shows; every other vector, valid or not, gets the same answer as
 * a broken wrap: serials of random keys. Wrong lengths are -EINVAL.
 */
static bool oaep_vector(FIXTURE_DATA(kmod) *self, key_serial_t seal,
			json_t *t, int *decoded)
{
	size_t ct_len = 0, msg_len = 0, label_len = 0;
	uint8_t *ct = test_json_hex(t, "ct", &ct_len);
	uint8_t *msg = test_json_hex(t, "msg", &msg_len);
	uint8_t *label = test_json_hex(t, "label", &label_len);
	const char *result = json_string_value(json_object_get(t, "result"));
	struct kcourier_unwrap u = unwrap_args(self, ct);
	uint8_t km[KC_KEY_LEN];
	struct kcourier_op op;
	struct msg m;
	bool ok, carried;

	u.seal_key = seal;
	u.wrapped_len = (uint32_t)ct_len;
	carried = result && !strcmp(result, "valid") &&
		  msg_len == KC_KEY_LEN && !label_len;
	if (ct_len != KC_RSA_LEN) {
		ok = ioctl(self->fd, KCOURIER_IOC_UNWRAP, &u) && errno == EINVAL;
		goto out;
	}
	ok = !ioctl(self->fd, KCOURIER_IOC_UNWRAP, &u) && u.enc_key > 0 &&
	     u.mac_key > 0;
	ok = ok && u.result == (carried ? 0 : KCOURIER_UNWRAP_RANDOM);
	if (ok && carried) {
		kc_derive_km(msg, km);
		msg_make(&m, msg, km, 50);
		op = op_for(&u, &m, true);
		ok = !run(self->fd, KCOURIER_IOC_SEAL, &op, 1) && !op.status &&
		     !memcmp(m.out, m.ct, m.ct_len) &&
		     !memcmp(op.tag, m.mac, KC_MAC_LEN);
		*decoded += ok;
		msg_free(&m);
	}
out:
	free(ct);
	free(msg);
	free(label);
	return ok;
}

TEST_F_TIMEOUT(kmod, wycheproof_oaep, TEST_TIMEOUT)
{
	char why[512];
	json_t *root = wycheproof_load("rsa_oaep_2048_sha256_mgf1sha256_test.json",
				       why, sizeof(why));
	json_t *group, *t, *groups;
	size_t gi, ti, len, n = 0;
	key_serial_t seal;
	uint8_t *der;
	int decoded = 0;

	ASSERT_NE(NULL, root) TH_LOG("%s", why);
	groups = json_object_get(root, "testGroups");
	json_array_foreach(groups, gi, group) {
		der = test_json_hex(group, "privateKeyPkcs8", &len);
		ASSERT_NE(NULL, der);
		seal = add_key("asymmetric", "kc-wycheproof", der, len,
			       self->ring);
		free(der);
		ASSERT_LT(0, seal) TH_LOG("add_key: %s", strerror(errno));
		json_array_foreach(json_object_get(group, "tests"), ti, t) {
			EXPECT_TRUE(oaep_vector(self, seal, t, &decoded))
				TH_LOG("tcId %lld",
				       json_integer_value(json_object_get(t, "tcId")));
			n++;
		}
	}
	ksft_print_msg("wycheproof OAEP: %zu vectors, %d decoded to K\n", n,
		       decoded);
	EXPECT_EQ(1, decoded);
	EXPECT_LT(30, n);
	json_decref(root);
}

/*
 * OPEN and SEAL per batch size: the kmod fixture's setup and teardown
 * around a variant.
 */
FIXTURE(batch)
{
	FIXTURE_DATA(kmod) k;
};

FIXTURE_VARIANT(batch)
{
	size_t n;
};

FIXTURE_VARIANT_ADD(batch, one)
{
	.n = 1,
};

FIXTURE_VARIANT_ADD(batch, sixteen)
{
	.n = 16,
};

FIXTURE_VARIANT_ADD(batch, max)
{
	.n = KCOURIER_MAX_BATCH,
};

FIXTURE_SETUP(batch)
{
	kmod_setup(_metadata, &self->k, NULL);
}

FIXTURE_TEARDOWN(batch)
{
	kmod_teardown(_metadata, &self->k, NULL);
}

static size_t size_of(size_t i)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 255, 1000, 4096 };

	return sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
}

/* Sealed bytes equal OpenSSL's, opened back; bad tags and pads refused. */
TEST_F_TIMEOUT(batch, seal_open, TEST_TIMEOUT)
{
	FIXTURE_DATA(kmod) *kd = &self->k;
	size_t n = variant->n, i;
	struct kcourier_op *ops = calloc(n, sizeof(*ops));
	struct msg *m = calloc(n, sizeof(*m));
	struct kcourier_unwrap u;

	ASSERT_EQ(0, unwrap_k(kd, kd->k, KC_KEY_LEN, &u));
	for (i = 0; i < n; i++) {
		msg_make(&m[i], kd->k, kd->km, size_of(i));
		ops[i] = op_for(&u, &m[i], true);
	}
	ASSERT_EQ(0, run(kd->fd, KCOURIER_IOC_SEAL, ops, n));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, ops[i].status) TH_LOG("seal %zu", i);
		ASSERT_EQ(m[i].ct_len, ops[i].out_len);
		EXPECT_EQ(0, memcmp(m[i].ct, m[i].out, m[i].ct_len));
		EXPECT_EQ(0, memcmp(m[i].mac, ops[i].tag, KC_MAC_LEN));
		ops[i] = op_for(&u, &m[i], false);
		/* Every third tag is wrong: nothing may come out. */
		if (i % 3 == 2)
			ops[i].tag[i % KC_MAC_LEN] ^= 0x20;
		memset(m[i].out, 0xa5, m[i].ct_len);
	}
	ASSERT_EQ(0, run(kd->fd, KCOURIER_IOC_OPEN, ops, n));
	for (i = 0; i < n; i++) {
		if (i % 3 == 2) {
			EXPECT_EQ(-EBADMSG, ops[i].status) TH_LOG("open %zu", i);
			EXPECT_EQ(0, ops[i].out_len);
			EXPECT_EQ(0xa5, m[i].out[0]);
			continue;
		}
		ASSERT_EQ(0, ops[i].status) TH_LOG("open %zu", i);
		ASSERT_EQ(m[i].pt_len, ops[i].out_len);
		EXPECT_EQ(0, memcmp(m[i].pt, m[i].out, m[i].pt_len));
	}
	for (i = 0; i < n; i++)
		msg_free(&m[i]);
	free(m);
	free(ops);
}

/* A good tag over a bad length or padding: -EILSEQ, nothing out. */
TEST_F_TIMEOUT(kmod, open_bad_padding, TEST_TIMEOUT)
{
	uint8_t block[48], ct[48], tmp[64];
	struct kcourier_unwrap u;
	struct kcourier_op op;
	struct kc_iov iov[2];
	struct msg m;
	size_t len, lens[] = { 48, 15, 0 };
	int i;

	ASSERT_EQ(0, unwrap_k(self, self->k, KC_KEY_LEN, &u));
	msg_make(&m, self->k, self->km, 40);
	memset(block, 0x05, sizeof(block));
	block[47] = 0x04;
	/* Raw CBC of a bad pad: encrypt 48 bytes, drop the pad block. */
	kc_cbc_encrypt(self->k, KC_KEY_LEN, m.iv, block, 48, tmp, &len);
	memcpy(ct, tmp, 48);
	for (i = 0; i < 3; i++) {
		iov[0] = (struct kc_iov){ m.aad, AAD_LEN };
		iov[1] = (struct kc_iov){ ct, lens[i] };
		ASSERT_EQ(0, kc_hmac_sha256(self->km, KC_KEY_LEN, iov, 2,
					    m.mac));
		memcpy(m.ct, ct, lens[i]);
		m.ct_len = lens[i];
		op = op_for(&u, &m, false);
		op.out_len = 64;
		ASSERT_EQ(0, run(self->fd, KCOURIER_IOC_OPEN, &op, 1));
		EXPECT_EQ(-EILSEQ, op.status) TH_LOG("len %zu", lens[i]);
		EXPECT_EQ(0, op.out_len);
	}
	msg_free(&m);
}

/* Every count and length at its bound and one past it. */
TEST_F_TIMEOUT(kmod, bounds, TEST_TIMEOUT)
{
	struct kcourier_op *ops = calloc(KCOURIER_MAX_BATCH + 1, sizeof(*ops));
	struct kcourier_batch b = { .ops = (uintptr_t)ops };
	size_t big = KCOURIER_MAX_DATA;
	uint8_t *in = calloc(1, big + 16), *out = calloc(1, big + 32);
	struct kcourier_unwrap u;
	struct kcourier_op op;
	struct msg m;
	int i;

	ASSERT_EQ(0, unwrap_k(self, self->k, KC_KEY_LEN, &u));
	/* Batch counts and batch fields. */
	b.count = 0;
	EXPECT_EQ(-1, ioctl(self->fd, KCOURIER_IOC_SEAL, &b));
	EXPECT_EQ(EINVAL, errno);
	b.count = KCOURIER_MAX_BATCH + 1;
	EXPECT_EQ(-1, ioctl(self->fd, KCOURIER_IOC_SEAL, &b));
	EXPECT_EQ(EINVAL, errno);
	b.count = 1;
	b.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, KCOURIER_IOC_SEAL, &b));
	EXPECT_EQ(EINVAL, errno);
	b.flags = 0;
	b.reserved[0] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, KCOURIER_IOC_OPEN, &b));
	EXPECT_EQ(EINVAL, errno);
	b.ops = 8;
	b.reserved[0] = 0;
	EXPECT_EQ(-1, ioctl(self->fd, KCOURIER_IOC_OPEN, &b));
	EXPECT_EQ(EFAULT, errno);

	/* Per op: each bad field fails its op alone. */
	msg_make(&m, self->k, self->km, 32);
	for (i = 0; i < 9; i++) {
		op = op_for(&u, &m, true);
		switch (i) {
		case 0: op.aad_len = KCOURIER_MAX_AAD + 1; break;
		case 1: op.in_len = KCOURIER_MAX_DATA + 1; break;
		case 2: op.out_len = KCOURIER_MAX_DATA + 1; break;
		case 3: op.flags = 1; break;
		case 4: op.pad = 1; break;
		case 5: op.out_len = 47; break;
		case 6: op.enc_key = 0x7ffffff0; break;
		case 7: op.mac_key = self->seal; break;
		default: op.in = 8; break;
		}
		ASSERT_EQ(0, run(self->fd, KCOURIER_IOC_SEAL, &op, 1));
		EXPECT_EQ(i < 5 ? -EINVAL : i == 5 ? -EMSGSIZE :
			  i < 8 ? -ENOKEY : -EFAULT, op.status)
			TH_LOG("case %d: %d", i, op.status);
		EXPECT_EQ(0, op.out_len);
	}
	/* At the bounds: the largest aad and the largest plaintext. */
	op = op_for(&u, &m, true);
	op.aad = (uintptr_t)in;
	op.aad_len = KCOURIER_MAX_AAD;
	op.in = (uintptr_t)in;
	op.in_len = (uint32_t)(big - 16);
	op.out = (uintptr_t)out;
	op.out_len = (uint32_t)big;
	ASSERT_EQ(0, run(self->fd, KCOURIER_IOC_SEAL, &op, 1));
	EXPECT_EQ(0, op.status);
	EXPECT_EQ(big, op.out_len);
	msg_free(&m);
	free(in);
	free(out);
	free(ops);
}

/* The same batch through io_uring gives the ioctl's bytes. */
TEST_F_TIMEOUT(kmod, uring_cmd, TEST_TIMEOUT)
{
	struct kcourier_op ops[4], again[4];
	struct kcourier_batch b = { .ops = (uintptr_t)ops, .count = 4 };
	struct kcourier_uring_cmd uc = { .arg = (uintptr_t)&b };
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct kcourier_unwrap u;
	struct io_uring ring;
	struct msg m[4];
	int i;

	ASSERT_EQ(0, unwrap_k(self, self->k, KC_KEY_LEN, &u));
	for (i = 0; i < 4; i++) {
		msg_make(&m[i], self->k, self->km, size_of(i + 3));
		ops[i] = op_for(&u, &m[i], true);
	}
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));
	sqe = io_uring_get_sqe(&ring);
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = self->fd;
	sqe->cmd_op = KCOURIER_IOC_SEAL;
	sqe->user_data = 42;
	memcpy(sqe->cmd, &uc, sizeof(uc));
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ(42, cqe->user_data);
	if (cqe->res == -EOPNOTSUPP || cqe->res == -EINVAL)
		TH_LOG("uring_cmd refused: %s", strerror(-cqe->res));
	EXPECT_EQ(0, cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0, ops[i].status);
		EXPECT_EQ(0, memcmp(m[i].out, m[i].ct, m[i].ct_len));
		EXPECT_EQ(0, memcmp(ops[i].tag, m[i].mac, KC_MAC_LEN));
		again[i] = op_for(&u, &m[i], false);
	}
	/* And an OPEN the same way. */
	b.ops = (uintptr_t)again;
	sqe = io_uring_get_sqe(&ring);
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = self->fd;
	sqe->cmd_op = KCOURIER_IOC_OPEN;
	memcpy(sqe->cmd, &uc, sizeof(uc));
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ(0, cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0, again[i].status);
		EXPECT_EQ(m[i].pt_len, again[i].out_len);
		EXPECT_EQ(0, memcmp(m[i].out, m[i].pt, m[i].pt_len));
		msg_free(&m[i]);
	}
	io_uring_queue_exit(&ring);
}

/* Random arguments for a fixed time: refused or done, never a crash. */
TEST_F_TIMEOUT(kmod, fuzz_arguments, TEST_TIMEOUT)
{
	static const unsigned long cmds[] = {
		KCOURIER_IOC_VERSION, KCOURIER_IOC_UNWRAP, KCOURIER_IOC_OPEN,
		KCOURIER_IOC_SEAL, KCOURIER_IOC_STATS,
	};
	const char *env = getenv("KC_FUZZ_SECONDS");
	double seconds = env ? atof(env) : 10;
	uint8_t arg[128], buf[4096], wrapped[KC_RSA_LEN];
	struct kcourier_op ops[4];
	struct kcourier_unwrap u;
	struct timespec t0, t;
	unsigned long calls = 0, ok = 0;
	uint32_t pick;

	ASSERT_EQ(0, unwrap_k(self, self->k, KC_KEY_LEN, &u));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		kc_random(arg, sizeof(arg));
		kc_random(ops, sizeof(ops));
		kc_random(&pick, sizeof(pick));
		/* Half the time, aim some fields at real keys and memory. */
		if (pick & 1) {
			struct kcourier_batch *b = (void *)arg;

			b->ops = (uintptr_t)ops;
			b->count = pick >> 29;
			for (int i = 0; i < 4; i++) {
				ops[i].enc_key = u.enc_key;
				ops[i].mac_key = u.mac_key;
				ops[i].aad = (uintptr_t)buf;
				ops[i].in = (uintptr_t)buf;
				ops[i].out = (uintptr_t)buf;
				ops[i].aad_len %= 64;
				ops[i].in_len %= 2048;
				ops[i].out_len %= 4096;
				if (pick & 2)
					ops[i].flags = ops[i].pad = 0;
			}
		}
		if (pick & 4) {
			struct kcourier_unwrap *w = (void *)arg;

			kc_random(wrapped, sizeof(wrapped));
			*w = unwrap_args(self, wrapped);
			w->flags = (pick & 8) ? pick : 0;
		}
		if (!ioctl(self->fd, cmds[(pick >> 8) % 5], arg))
			ok++;
		calls++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 <
		 seconds);
	ksft_print_msg("fuzz: %lu calls in %.0f s, %lu accepted\n", calls,
		       seconds, ok);
	EXPECT_LT(0, calls);
	EXPECT_LT(0, ok);
}

/* A closed file takes its keys with it: invalidated, gone from the ring. */
TEST_F_TIMEOUT(kmod, close_invalidates_keys, TEST_TIMEOUT)
{
	struct kcourier_unwrap u;
	struct kcourier_stats st;
	int fd2 = open(DEV, O_RDWR | O_CLOEXEC), keep;

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ioctl(fd2, KCOURIER_IOC_STATS, &st));
	EXPECT_EQ(2, st.files);
	/* Made through fd2. */
	keep = self->fd;
	self->fd = fd2;
	ASSERT_EQ(0, unwrap_k(self, self->k, KC_KEY_LEN, &u));
	self->fd = keep;
	ASSERT_EQ(0, ioctl(fd2, KCOURIER_IOC_STATS, &st));
	EXPECT_EQ(2, st.keys);
	close(fd2);
	ASSERT_EQ(0, ioctl(self->fd, KCOURIER_IOC_STATS, &st));
	EXPECT_EQ(0, st.keys);
	EXPECT_EQ(1, st.files);
	/* Invalidation is asynchronous; it is gone for lookups at once. */
	EXPECT_EQ(-1, keyctl_describe_alloc(u.enc_key, &(char *){ NULL }));
	EXPECT_TRUE(errno == ENOKEY || errno == EKEYREVOKED);
}

TEST_HARNESS_MAIN
