// SPDX-License-Identifier: GPL-2.0-only
/*
 * The "auto" choice (crypto_auto.h): when the kernel can run the afalg
 * or the kmod tier, which of them and user opens messages fastest here? Which one
 * wins depends on the CPU, the kernel's AES and SHA-256 drivers and the
 * cost of a syscall, so it is measured rather than assumed: one batch of
 * KC_PICK_BATCH messages of KC_PICK_SIZE bytes is opened by each tier in
 * turn, and each tier's best round counts. Every open must succeed too: a
 * tier that cannot open the batch is not picked.
 *
 * The tiers are created and destroyed through their own ops tables, not by
 * name: opening by name (crypto_ops.c) is what uses this file.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "crypto/afalg_probe.h"
#include "crypto/crypto.h"
#include "crypto/crypto_afalg.h"
#include "crypto/crypto_auto.h"
#include "crypto/crypto_kmod.h"
#include "crypto/crypto_tier.h"
#include "crypto/crypto_user.h"

#define ROUNDS 5
#define AAD_LEN KC_SEQ_AAD_MAX

struct batch {
	uint8_t k[KC_KEY_LEN];
	uint8_t aad[AAD_LEN];
	uint8_t iv[KC_PICK_BATCH][KC_IV_LEN];
	uint8_t pt[KC_PICK_BATCH][KC_PICK_SIZE];
	uint8_t ct[KC_PICK_BATCH][KC_PICK_SIZE + 16];
	uint8_t out[KC_PICK_BATCH][KC_PICK_SIZE + 16];
	/* Aimed once (batch_aim); each run sets the session (batch_session). */
	struct kc_seal_req seal[KC_PICK_BATCH];
	struct kc_open_req open[KC_PICK_BATCH];
};

/* Message i: sealed from pt[i] into ct[i], opened from there into out[i]. */
static void batch_aim(struct batch *b)
{
	size_t i;

	for (i = 0; i < KC_PICK_BATCH; i++) {
		b->seal[i] = (struct kc_seal_req){
			.aad = b->aad,
			.aad_len = AAD_LEN,
			.iv = b->iv[i],
			.pt = b->pt[i],
			.pt_len = KC_PICK_SIZE,
			.ct = b->ct[i],
		};
		b->open[i] = (struct kc_open_req){
			.aad = b->aad,
			.aad_len = AAD_LEN,
			.iv = b->iv[i],
			.ct = b->ct[i],
			.mac = b->seal[i].mac,
			.pt = b->out[i],
		};
	}
}

/* Each contender has its own session under the same K. */
static void batch_session(struct batch *b, kc_handle_t s)
{
	size_t i;

	for (i = 0; i < KC_PICK_BATCH; i++)
		b->seal[i].session = b->open[i].session = s;
}

static int seal_batch(struct kc_crypto *c, kc_handle_t s, struct batch *b)
{
	size_t i;
	int ret;

	batch_session(b, s);
	ret = kc_seal_batch(c, b->seal, KC_PICK_BATCH);
	for (i = 0; !ret && i < KC_PICK_BATCH; i++) {
		ret = b->seal[i].status;
		b->open[i].ct_len = b->seal[i].ct_len;
	}
	return ret;
}

/* One open batch; -EIO unless every message opens to its plaintext. */
static int open_batch(struct kc_crypto *c, kc_handle_t s, struct batch *b)
{
	size_t i;
	int ret;

	batch_session(b, s);
	ret = kc_open_batch(c, b->open, KC_PICK_BATCH);
	for (i = 0; !ret && i < KC_PICK_BATCH; i++)
		if (b->open[i].status || b->open[i].pt_len != KC_PICK_SIZE ||
		    memcmp(b->out[i], b->pt[i], KC_PICK_SIZE))
			ret = -EIO;
	return ret;
}

/* One tier in the race: its instance, its session under the shared K. */
struct contender {
	const struct kc_crypto_ops *ops;
	struct kc_crypto *c;
	kc_handle_t s;
	double best;
	int err;
};

static int contender_open(struct contender *t, struct batch *b)
{
	int ret = t->ops->create(&t->c);

	if (!ret)
		ret = kc_session_install(t->c, NULL, b->k, &t->s);
	return ret;
}

static void contender_close(struct contender *t)
{
	if (t->c)
		t->c->ops->destroy(t->c);
}

/* One timed batch; keeps the best time, or the first error. */
static void race_round(struct contender *t, struct batch *b)
{
	double start;

	if (t->err)
		return;
	start = kc_mono_s();
	t->err = open_batch(t->c, t->s, b);
	start = kc_mono_s() - start;
	if (!t->err && (t->best == 0 || start < t->best))
		t->best = start;
}

/*
 * Both tiers open the same batch, sealed once by the user tier, so afalg
 * proves at start that it reads what user writes. Rounds alternate
 * between the tiers, so that a burst of other load hits both alike; the
 * first round of each only warms up.
 */
static void race(struct contender *t, size_t n, struct batch *b)
{
	size_t i, round;

	for (i = 0; i < n; i++)
		if (!t[i].err)
			t[i].err = open_batch(t[i].c, t[i].s, b);
	for (round = 0; round < ROUNDS; round++)
		for (i = 0; i < n; i++)
			race_round(&t[i], b);
}

static struct kc_crypto_pick picked;
static int pick_ret;
static pthread_once_t pick_once = PTHREAD_ONCE_INIT;

static void note(const struct contender *t)
{
	picked.measured[picked.nmeasured].name = t->ops->name;
	picked.measured[picked.nmeasured++].opens_per_s =
		t->best > 0 ? KC_PICK_BATCH / t->best : 0;
}

/* The kernel tiers that can run here, after user (always first). */
static size_t contenders(struct contender *t)
{
	size_t n = 0;

	t[n++] = (struct contender){ .ops = &kc_crypto_user_ops };
	if (!kc_afalg_probe(NULL, 0))
		t[n++] = (struct contender){ .ops = &kc_crypto_afalg_ops };
	if (!kc_kmod_probe(NULL, 0))
		t[n++] = (struct contender){ .ops = &kc_crypto_kmod_ops };
	return n;
}

static int pick_by_speed(struct batch *b)
{
	struct contender t[KC_PICK_TIERS];
	size_t n = contenders(t), i, best = 0;
	int ret;

	ret = contender_open(&t[0], b);
	if (!ret)
		ret = seal_batch(t[0].c, t[0].s, b);
	for (i = 1; !ret && i < n; i++)
		t[i].err = contender_open(&t[i], b);
	if (!ret)
		race(t, n, b);
	if (!ret)
		ret = t[0].err;
	for (i = 0; !ret && i < n; i++) {
		if (t[i].err) {
			snprintf(picked.why, sizeof(picked.why),
				 "%s failed its start-up run (%s)",
				 t[i].ops->name, strerror(-t[i].err));
			continue;
		}
		note(&t[i]);
		if (t[i].best < t[best].best)
			best = i;
	}
	if (!ret)
		picked.tier = t[best].ops->name;
	for (i = 0; i < n; i++)
		contender_close(&t[i]);
	return ret;
}

static void pick_run(void)
{
	struct batch *b;

	picked.tier = "user";
	if (kc_afalg_probe(picked.why, sizeof(picked.why)) &&
	    kc_kmod_probe(NULL, 0))
		return;
	picked.why[0] = 0;
	b = calloc(1, sizeof(*b));
	if (!b) {
		pick_ret = -ENOMEM;
		return;
	}
	kc_random(b->k, sizeof(b->k));
	kc_random(b->aad, sizeof(b->aad));
	kc_random(b->iv, sizeof(b->iv));
	kc_random(b->pt, sizeof(b->pt));
	batch_aim(b);
	pick_ret = pick_by_speed(b);
	/* A throwaway key and random text, but scratch is wiped as a rule. */
	explicit_bzero(b, sizeof(*b));
	free(b);
}

int kc_crypto_pick(struct kc_crypto_pick *out)
{
	pthread_once(&pick_once, pick_run);
	*out = picked;
	return pick_ret;
}

void kc_crypto_pick_describe(const struct kc_crypto_pick *p, char *buf,
			     size_t cap)
{
	char nums[KC_PICK_TIERS * 40] = "";
	size_t len = 0;
	unsigned int i;

	if (!p->nmeasured) {
		snprintf(buf, cap, "%s (afalg not available: %s)", p->tier,
			 p->why);
		return;
	}
	for (i = 0; i < p->nmeasured && len < sizeof(nums); i++)
		len += (size_t)snprintf(nums + len, sizeof(nums) - len,
					"%s%s %.0f opens/s", i ? ", " : "",
					p->measured[i].name,
					p->measured[i].opens_per_s);
	snprintf(buf, cap, "%s (%s in batches of %d x %d B%s%s)", p->tier, nums,
		 KC_PICK_BATCH, KC_PICK_SIZE, p->why[0] ? "; " : "", p->why);
}
