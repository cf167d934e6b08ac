// SPDX-License-Identifier: GPL-2.0
/*
 * The RSA private operation of UNWRAP, blinded.
 *
 * The private key stays an asymmetric key of the keyring (public_key
 * subtype, parsed by pkcs8_key_parser); the module never reads d. The raw
 * RSA runs as keyctl pkey_decrypt does it, through decrypt_blob() with
 * the "raw" encoding, which is the kernel's "rsa" akcipher: CRT with
 * variable-time bignums and no blinding of its own. So the input is
 * blinded here with a fresh random r per call:
 *
 *     c' = c * r^e mod n,  m' = raw(c') = m * r mod n,  m = m' * r^-1 mod n
 *
 * and what the private exponent sees is uniformly random whatever c is.
 * Only n and e are read from the key (rsa_parse_priv_key), to blind and
 * unblind. r^-1 comes from a binary extended Euclid on the exported MPI
 * operations (the kernel exports no modular inverse); its timing depends
 * on r alone, which is fresh and never leaves this function.
 */
#include <crypto/internal/rsa.h>
#include <crypto/public_key.h>
#include <keys/asymmetric-subtype.h>
#include <keys/asymmetric-type.h>
#include <linux/mpi.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "kc_internal.h"

/* Tries for an r with an inverse; a miss is a factor of n found by luck. */
#define KC_BLIND_TRIES 4

struct kc_rsa_work {
	u8 buf[KCOURIER_RSA_LEN];	/* r's bytes, then c' */
	u8 out[KCOURIER_RSA_LEN];	/* m' */
	MPI n, e, c, r, rinv, t;
};

/* a as exactly len big-endian bytes (left-padded with zeros). */
static int kc_mpi_to_bytes(MPI a, u8 *buf, unsigned int len)
{
	struct scatterlist sg;

	sg_init_one(&sg, buf, len);
	return mpi_write_to_sgl(a, &sg, len, NULL);
}

static MPI kc_mpi_small(u8 v)
{
	return mpi_read_raw_data(&v, 1);
}

/* *a = *a / 2 mod n (n odd): halve, adding n first when *a is odd. */
static int kc_mpi_half_mod(MPI *a, MPI n, MPI *tmp)
{
	int ret;

	if (mpi_test_bit(*a, 0)) {
		ret = mpi_add(*tmp, *a, n);
		if (ret)
			return ret;
		swap(*a, *tmp);
	}
	return mpi_rshift(*a, *a, 1);
}

/* Strips factors of 2 from *u, halving *x mod n alongside. */
static int kc_mpi_strip_twos(MPI *u, MPI *x, MPI n, MPI *tmp)
{
	int ret = 0;

	while (!ret && !mpi_test_bit(*u, 0)) {
		ret = mpi_rshift(*u, *u, 1);
		if (!ret)
			ret = kc_mpi_half_mod(x, n, tmp);
	}
	return ret;
}

/*
 * inv = a^-1 mod n for odd n and 0 < a < n, by the binary extended Euclid
 * (u = x1 * a, v = x2 * a mod n throughout). -EAGAIN when gcd(a, n) > 1.
 */
static int kc_mpi_inverse(MPI inv, MPI a, MPI n)
{
	MPI u = NULL, v = NULL, x1 = NULL, x2 = NULL, tmp = NULL, zero;
	int ret = -ENOMEM;

	zero = mpi_alloc(0);
	u = mpi_alloc(0);
	v = mpi_alloc(0);
	x1 = kc_mpi_small(1);
	x2 = mpi_alloc(0);
	tmp = mpi_alloc(0);
	if (!zero || !u || !v || !x1 || !x2 || !tmp)
		goto out;
	ret = mpi_add(u, a, zero);
	if (!ret)
		ret = mpi_add(v, n, zero);
	while (!ret && mpi_cmp_ui(u, 1) && mpi_cmp_ui(v, 1)) {
		if (!mpi_cmp_ui(u, 0) || !mpi_cmp_ui(v, 0)) {
			ret = -EAGAIN;
			break;
		}
		ret = kc_mpi_strip_twos(&u, &x1, n, &tmp);
		if (!ret)
			ret = kc_mpi_strip_twos(&v, &x2, n, &tmp);
		if (ret)
			break;
		if (mpi_cmp(u, v) >= 0) {
			ret = mpi_sub(u, u, v);
			if (!ret)
				ret = mpi_subm(x1, x1, x2, n);
		} else {
			ret = mpi_sub(v, v, u);
			if (!ret)
				ret = mpi_subm(x2, x2, x1, n);
		}
	}
	if (!ret)
		ret = mpi_add(inv, mpi_cmp_ui(u, 1) ? x2 : x1, zero);
out:
	mpi_free(zero);
	mpi_free(u);
	mpi_free(v);
	mpi_free(x1);
	mpi_free(x2);
	mpi_free(tmp);
	return ret;
}

/* A fresh r in [2, n) with its inverse; wipes its random bytes. */
static int kc_blind_pick(struct kc_rsa_work *w)
{
	MPI raw, one = kc_mpi_small(1);
	int ret = -EAGAIN, i;

	if (!one)
		return -ENOMEM;

	for (i = 0; i < KC_BLIND_TRIES && ret == -EAGAIN; i++) {
		get_random_bytes(w->buf, sizeof(w->buf));
		raw = mpi_read_raw_data(w->buf, sizeof(w->buf));
		memzero_explicit(w->buf, sizeof(w->buf));
		if (!raw) {
			ret = -ENOMEM;
			break;
		}
		/* raw * 1 mod n: mpi_mod itself is not exported. */
		ret = mpi_mulm(w->r, raw, one, w->n);
		mpi_free(raw);
		if (ret)
			break;
		if (mpi_cmp_ui(w->r, 1) <= 0) {
			ret = -EAGAIN;
			continue;
		}
		ret = kc_mpi_inverse(w->rinv, w->r, w->n);
	}
	mpi_free(one);
	return ret;
}

/* n and e of the seal key, which must be an RSA-2048 private key. */
static int kc_rsa_public_part(struct key *seal, struct kc_rsa_work *w)
{
	const struct asymmetric_key_subtype *sub = asymmetric_key_subtype(seal);
	const struct public_key *pk = asymmetric_key_public_key(seal);
	struct rsa_key rk = {};
	int ret;

	if (!sub || strcmp(sub->name, "public_key") || !pk ||
	    strcmp(pk->pkey_algo, "rsa") || !pk->key_is_private)
		return -EKEYREJECTED;
	ret = rsa_parse_priv_key(&rk, pk->key, pk->keylen);
	if (ret)
		return -EKEYREJECTED;
	w->n = mpi_read_raw_data(rk.n, rk.n_sz);
	w->e = mpi_read_raw_data(rk.e, rk.e_sz);
	if (!w->n || !w->e)
		return -ENOMEM;
	if (mpi_get_nbits(w->n) != KCOURIER_RSA_LEN * 8 ||
	    !mpi_test_bit(w->n, 0))
		return -EKEYREJECTED;
	return 0;
}

/* c' = c * r^e mod n into w->buf. */
static int kc_blind(struct kc_rsa_work *w)
{
	int ret;

	/* r itself is not needed past here: it takes c' (no aliasing). */
	ret = mpi_powm(w->t, w->r, w->e, w->n);
	if (!ret)
		ret = mpi_mulm(w->r, w->t, w->c, w->n);
	if (!ret)
		ret = kc_mpi_to_bytes(w->r, w->buf, sizeof(w->buf));
	return ret;
}

/* The raw private operation, keyctl pkey_decrypt's way. */
static int kc_raw_decrypt(struct key *seal, struct kc_rsa_work *w)
{
	struct kernel_pkey_params params = {
		.key = seal,
		.encoding = "raw",
		.in_len = sizeof(w->buf),
		.out_len = sizeof(w->out),
	};
	int ret;

	ret = decrypt_blob(&params, w->buf, w->out);
	return ret < 0 ? ret : 0;
}

/* em = m' * r^-1 mod n. */
static int kc_unblind(struct kc_rsa_work *w, u8 *em)
{
	MPI mb = mpi_read_raw_data(w->out, sizeof(w->out));
	int ret;

	if (!mb)
		return -ENOMEM;
	ret = mpi_mulm(w->t, mb, w->rinv, w->n);
	mpi_free(mb);
	if (!ret)
		ret = kc_mpi_to_bytes(w->t, em, KCOURIER_RSA_LEN);
	return ret;
}

static void kc_rsa_work_free(struct kc_rsa_work *w)
{
	/* mpi_free wipes the limbs (kfree_sensitive). */
	mpi_free(w->n);
	mpi_free(w->e);
	mpi_free(w->c);
	mpi_free(w->r);
	mpi_free(w->rinv);
	mpi_free(w->t);
	kfree_sensitive(w);
}

/*
 * em = c^d mod n, blinded. -ERANGE when c is not in [2, n) (the modulus
 * is public: PROTOCOL.md lets such a value be refused early), -EKEYREJECTED
 * when seal is not an RSA-2048 private key. em must be kmalloc'ed.
 */
int kc_rsa_decrypt_blinded(struct key *seal, const u8 *c, u8 *em)
{
	struct kc_rsa_work *w;
	int ret;

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	ret = kc_rsa_public_part(seal, w);
	if (ret)
		goto out;
	ret = -ENOMEM;
	w->c = mpi_read_raw_data(c, KCOURIER_RSA_LEN);
	w->r = mpi_alloc(0);
	w->rinv = mpi_alloc(0);
	w->t = mpi_alloc(0);
	if (!w->c || !w->r || !w->rinv || !w->t)
		goto out;
	/* The kernel's RSA refuses 0 and 1 too; c' would be 0 for c = 0. */
	ret = -ERANGE;
	if (mpi_cmp(w->c, w->n) >= 0 || mpi_cmp_ui(w->c, 1) <= 0)
		goto out;
	ret = kc_blind_pick(w);
	if (!ret)
		ret = kc_blind(w);
	if (!ret)
		ret = kc_raw_decrypt(seal, w);
	if (!ret)
		ret = kc_unblind(w, em);
out:
	kc_rsa_work_free(w);
	return ret;
}
