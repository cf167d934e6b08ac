// SPDX-License-Identifier: GPL-2.0-only
/*
 * tier-bench: the crypto tiers (crypto_ops.h) side by side on this kernel.
 * For each tier available here it measures, in wall-clock operations per
 * second:
 *
 *   open    MAC check and decrypt of sealed messages of 256 B, 1 KiB and
 *           16 KiB, in batches of 1 and of 64; a batch of 64 comes from one
 *           session or from 64 (the afalg tier re-keys its sockets at every
 *           change of session);
 *   unwrap  OPEN_SESSION's session_unwrap plus session_drop: RSA-OAEP and
 *           installing K and Km (for afalg, two logon keys in and out of
 *           the keyring).
 *
 * Beside user it prints afalg/user and kmod/user per case (kmod: one
 * ioctl per batch on kcourier.ko). Under TCG (the VM lab) only those
 * ratios mean anything; absolute numbers need real hardware.
 *
 * Usage: tier-bench [--tier user|afalg|kmod] [--seconds S]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/clock.h"
#include "base/opts.h"
#include "crypto/crypto.h"
#include "crypto/crypto_ops.h"

#define PROG "tier-bench"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BATCH_MAX 64
#define SIZE_MAX_BENCH 16384
#define AAD_LEN KC_SEQ_AAD_MAX

static const char *const tiers[] = { "user", "afalg", "kmod" };

struct bench_case {
	const char *op;
	size_t size, batch, sessions;
};

static const struct bench_case cases[] = {
	{ "open", 256, 1, 1 },	   { "open", 256, 64, 1 },
	{ "open", 256, 64, 64 },   { "open", 1024, 1, 1 },
	{ "open", 1024, 64, 1 },   { "open", 1024, 64, 64 },
	{ "open", 16384, 1, 1 },   { "open", 16384, 64, 1 },
	{ "open", 16384, 64, 64 }, { "unwrap", KC_KEY_LEN, 1, 1 },
};

/* One tier's prepared messages: message i belongs to session i % n. */
struct bench {
	struct kc_crypto *c;
	kc_handle_t s[BATCH_MAX];
	uint8_t aad[AAD_LEN];
	uint8_t iv[BATCH_MAX][KC_IV_LEN];
	uint8_t mac[BATCH_MAX][KC_MAC_LEN];
	uint8_t pt[BATCH_MAX][SIZE_MAX_BENCH];
	uint8_t ct[BATCH_MAX][SIZE_MAX_BENCH + 16];
	uint8_t out[BATCH_MAX][SIZE_MAX_BENCH + 16];
	struct kc_open_req req[BATCH_MAX];
	uint8_t k[BATCH_MAX * KC_KEY_LEN]; /* K of session i at i * 32 */
	EVP_PKEY *rsa;
	kc_handle_t rsa_h;
	uint8_t wrapped[KC_RSA_LEN];
};

static int install_sessions(struct bench *b)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < BATCH_MAX; i++) {
		kc_random(b->k + i * KC_KEY_LEN, KC_KEY_LEN);
		ret = kc_session_install(b->c, NULL, b->k + i * KC_KEY_LEN,
					 &b->s[i]);
	}
	return ret;
}

/* Seals message i of `size` bytes under session i % sessions. */
static int seal_all(struct bench *b, const struct bench_case *bc)
{
	struct kc_seal_req r = { .aad = b->aad, .aad_len = AAD_LEN };
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < bc->batch; i++) {
		r.session = b->s[i % bc->sessions];
		r.iv = b->iv[i];
		r.pt = b->pt[i];
		r.pt_len = bc->size;
		r.ct = b->ct[i];
		ret = kc_seal_batch(b->c, &r, 1);
		if (!ret)
			ret = r.status;
		memcpy(b->mac[i], r.mac, KC_MAC_LEN);
		b->req[i] = (struct kc_open_req){
			.session = r.session, .aad = b->aad, .aad_len = AAD_LEN,
			.iv = b->iv[i], .ct = b->ct[i], .ct_len = r.ct_len,
			.mac = b->mac[i], .pt = b->out[i],
		};
	}
	return ret;
}

static int open_round(struct bench *b, size_t n)
{
	size_t i;
	int ret;

	ret = kc_open_batch(b->c, b->req, n);
	for (i = 0; !ret && i < n; i++)
		ret = b->req[i].status ? -EIO : 0;
	return ret;
}

static int unwrap_round(struct bench *b, size_t n)
{
	kc_handle_t s;
	int ret;

	ret = kc_session_unwrap(b->c, b->rsa_h, NULL, b->wrapped, &s);
	if (!ret)
		kc_session_drop(b->c, s);
	return ret;
}

/* Runs rounds of bc->batch operations for `seconds`; ops per second. */
static int time_case(struct bench *b, const struct bench_case *bc,
		     double seconds, double *ops_per_s)
{
	int (*round)(struct bench *, size_t) =
		strcmp(bc->op, "unwrap") ? open_round : unwrap_round;
	double start, elapsed;
	unsigned long ops = 0;
	int ret;

	ret = round(b, bc->batch); /* warm-up: sockets, caches */
	start = kc_mono_s();
	do {
		if (!ret)
			ret = round(b, bc->batch);
		ops += bc->batch;
		elapsed = kc_mono_s() - start;
	} while (!ret && elapsed < seconds);
	*ops_per_s = ops / elapsed;
	return ret;
}

static int load_rsa(struct bench *b)
{
	PKCS8_PRIV_KEY_INFO *p8;
	uint8_t *der = NULL;
	int len, ret;

	ret = kc_rsa_generate(&b->rsa);
	if (ret)
		return ret;
	p8 = EVP_PKEY2PKCS8(b->rsa); /* what the agent loads: PKCS#8 */
	len = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &der) : -1;
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (len <= 0)
		return -EIO;
	ret = b->c->ops->load_unwrap_key(b->c, der, (size_t)len, &b->rsa_h);
	OPENSSL_clear_free(der, (size_t)len);
	if (!ret)
		ret = kc_oaep_wrap(b->rsa, b->k, KC_KEY_LEN, b->wrapped);
	return ret;
}

static int bench_open(struct bench *b, const char *tier)
{
	int ret = kc_crypto_open(tier, &b->c);

	if (ret)
		return ret;
	kc_random(b->aad, sizeof(b->aad));
	kc_random(b->iv, sizeof(b->iv));
	kc_random(b->pt, sizeof(b->pt));
	ret = install_sessions(b);
	if (!ret)
		ret = load_rsa(b);
	return ret;
}

static void bench_close(struct bench *b)
{
	kc_crypto_close(b->c);
	EVP_PKEY_free(b->rsa);
	explicit_bzero(b->k, sizeof(b->k));
}

/*
 * Cases outside, tiers inside: under a noisy host (or TCG), a burst of
 * other load then lands on both tiers of a case rather than on one tier.
 */
static int run_cases(struct bench **b, const bool *have, double seconds,
		     double r[][ARRAY_SIZE(cases)])
{
	size_t i, t;
	int ret = 0;

	for (i = 0; !ret && i < ARRAY_SIZE(cases); i++) {
		for (t = 0; !ret && t < ARRAY_SIZE(tiers); t++) {
			if (!have[t])
				continue;
			if (strcmp(cases[i].op, "unwrap"))
				ret = seal_all(b[t], &cases[i]);
			if (!ret)
				ret = time_case(b[t], &cases[i], seconds,
						&r[t][i]);
			if (ret)
				fprintf(stderr, PROG ": %s %s %zu B: %s\n",
					tiers[t], cases[i].op, cases[i].size,
					strerror(-ret));
		}
	}
	return ret;
}

static void print_table(const bool *have, double r[][ARRAY_SIZE(cases)],
			double seconds)
{
	char ratio[32];
	size_t i, t;

	printf("# tier-bench: ops/s, wall clock, %.1f s a case\n", seconds);
	printf("%-7s %6s %6s %9s", "op", "bytes", "batch", "sessions");
	for (t = 0; t < ARRAY_SIZE(tiers); t++)
		if (have[t])
			printf(" %10s", tiers[t]);
	for (t = 1; t < ARRAY_SIZE(tiers); t++)
		if (have[0] && have[t]) {
			snprintf(ratio, sizeof(ratio), "%s/user", tiers[t]);
			printf(" %11s", ratio);
		}
	printf("\n");
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		printf("%-7s %6zu %6zu %9zu", cases[i].op, cases[i].size,
		       cases[i].batch, cases[i].sessions);
		for (t = 0; t < ARRAY_SIZE(tiers); t++)
			if (have[t])
				printf(" %10.0f", r[t][i]);
		for (t = 1; t < ARRAY_SIZE(tiers); t++)
			if (have[0] && have[t])
				printf(" %11.2f", r[t][i] / r[0][i]);
		printf("\n");
	}
}

/* True to run; false when done (help, or exit 2 after a message). */
static bool parse_opts(int argc, char **argv, const char **only,
		       double *seconds, int *rc)
{
	static const char *const tier_names[] = { "user", "afalg", "kmod",
						   NULL };
	const struct kc_opt rows[] = {
		{ .name = "tier", KC_OPT_CHOICE(only, tier_names),
		  .def = "every one available",
		  .help = "only this crypto tier" },
		{ .name = "seconds", KC_OPT_REAL(seconds), .metavar = "S",
		  .min = 0, .above_min = true, .max = 600, .unit = "seconds",
		  .help = "wall-clock time per case and tier" },
	};
	const struct kc_opts spec = {
		.prog = PROG,
		.description = "Opens and unwraps per second for each crypto "
			       "tier available here.\n",
		KC_OPTS_TABLE(rows),
		.error_exit = 2,
	};

	return kc_opts_parse(&spec, argc, argv, rc);
}

/* Opens every tier asked for that this kernel has. */
static int open_tiers(const char *only, struct bench **b, bool *have)
{
	char why[256];
	size_t t;
	int ret;

	for (t = 0; t < ARRAY_SIZE(tiers); t++) {
		if (only && strcmp(only, tiers[t]))
			continue;
		if (kc_crypto_available(tiers[t], why, sizeof(why))) {
			printf("# %s: not available: %s\n", tiers[t], why);
			continue;
		}
		b[t] = calloc(1, sizeof(*b[t]));
		if (!b[t])
			return -ENOMEM;
		ret = bench_open(b[t], tiers[t]);
		if (ret) {
			fprintf(stderr, PROG ": %s: %s\n", tiers[t],
				strerror(-ret));
			return ret;
		}
		have[t] = true;
	}
	return have[0] || have[1] ? 0 : -ENOENT;
}

int main(int argc, char **argv)
{
	double r[ARRAY_SIZE(tiers)][ARRAY_SIZE(cases)], seconds = 1.0;
	struct bench *b[ARRAY_SIZE(tiers)] = { NULL };
	bool have[ARRAY_SIZE(tiers)] = { false };
	const char *only = NULL;
	size_t t;
	int ret;

	if (!parse_opts(argc, argv, &only, &seconds, &ret))
		return ret;
	ret = open_tiers(only, b, have);
	if (!ret)
		ret = run_cases(b, have, seconds, r);
	if (!ret)
		print_table(have, r, seconds);
	for (t = 0; t < ARRAY_SIZE(tiers); t++) {
		if (b[t])
			bench_close(b[t]);
		free(b[t]);
	}
	return ret ? 1 : 0;
}
