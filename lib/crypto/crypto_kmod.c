// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kmod crypto tier (docs/DESIGN.md "Crypto backends"): kcourier.ko
 * does the work, this file only talks to /dev/kcourier.
 *
 * Sessions are two logon keys, kcourier:<sid-hex>:enc (K) and :mac (Km),
 * as in the afalg tier. A session from a wrapped key is made by the
 * module (KCOURIER_IOC_UNWRAP) when the seal key is in the kernel
 * (tier_core's unwrap keys put it there when pkcs8_key_parser is loaded):
 * the RSA, the OAEP decoding and Km all happen in the kernel, and this
 * process never holds K. Where the kernel does not have the seal key the
 * unwrap runs here as in the other tiers and K goes to the keyring as
 * for session_install.
 *
 * Batches go to the module whole: one KCOURIER_IOC_OPEN or _SEAL per
 * batch of up to 64 requests (tier_core hands them over in such chunks),
 * from a file of the calling thread's own, so worker threads never wait
 * on each other in the module; the module caches the transforms of each
 * session on that file. The instance's own file makes the keys of
 * UNWRAP, which the module invalidates when that file is closed: a dead
 * agent leaves no session key behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kcourier.h>

#include "base/status.h"
#include "crypto/crypto.h"
#include "crypto/crypto_kmod.h"
#include "crypto/crypto_tier.h"
#include "crypto/keyring.h"
#include "crypto/tier_core.h"

#define DEFAULT_TTL 3600 /* s: the agent's default session_ttl */
#define CHUNK 64	 /* tier_core.c's ALL_CHUNK */

struct kmod_session {
	key_serial_t enc, mac;
	struct kc_keyring *ring;
};

struct kmod_crypto {
	struct kc_tier tier; /* first */
	struct kc_keyring own_ring;
	int fd; /* makes UNWRAP's keys; closing it invalidates them */
};

/* A thread's file and op array, for every instance it runs batches of. */
struct kmod_thread {
	int fd;
	struct kcourier_op ops[CHUNK];
};

static const struct kc_tier_primitives kmod_primitives;

static int dev_open(int *fd)
{
	struct kcourier_version v = { 0 };

	*fd = open(KC_KMOD_DEV, O_RDWR | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	if (ioctl(*fd, KCOURIER_IOC_VERSION, &v) ||
	    v.api_version != KCOURIER_API_VERSION) {
		close(*fd);
		*fd = -1;
		return -EPROTO;
	}
	return 0;
}

int kc_kmod_probe(char *why, size_t cap)
{
	int fd, ret = dev_open(&fd);

	if (!ret) {
		close(fd);
		return 0;
	}
	if (why && cap)
		snprintf(why, cap, "%s",
			 ret == -EPROTO ?
				 "/dev/kcourier speaks another API version" :
			 ret == -ENOENT ?
				 "no /dev/kcourier: kcourier.ko is not loaded "
				 "(modprobe kcourier)" :
				 strerror(-ret));
	return -ENOENT;
}

static int kmod_create(struct kc_crypto **out)
{
	struct kmod_crypto *m;
	int ret;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	ret = dev_open(&m->fd);
	if (ret) {
		free(m);
		return ret == -EPROTO ? -ENOENT : ret;
	}
	ret = kc_keyring_open(&m->own_ring);
	if (!ret)
		ret = kc_tier_init(&m->tier, &kc_crypto_kmod_ops,
				   &kmod_primitives, &m->own_ring, DEFAULT_TTL);
	if (ret) {
		close(m->fd);
		free(m);
		return ret;
	}
	*out = &m->tier.base;
	return 0;
}

static void kmod_destroy(struct kc_crypto *c)
{
	struct kmod_crypto *m = (struct kmod_crypto *)c;

	if (!c)
		return;
	kc_tier_fini(&m->tier);
	close(m->fd);
	free(m);
}

/* Keys. */

static const uint8_t *sid_or_random(const uint8_t *sid,
				    uint8_t random_sid[KC_SID_LEN])
{
	if (sid)
		return sid;
	kc_random(random_sid, KC_SID_LEN);
	return random_sid;
}

/* From raw K (the client's own, or an unwrap done in this process). */
static int kmod_keys_install(struct kc_tier *t, void *session,
			     const struct kc_tier_keys *keys)
{
	struct kmod_session *s = session;
	uint8_t random_sid[KC_SID_LEN];
	const uint8_t *sid = sid_or_random(keys->sid, random_sid);

	s->ring = keys->ring;
	return kc_keyring_add_pair(s->ring, "logon", sid, keys->k, keys->km,
				   KC_KEY_LEN, keys->ttl, &s->enc, &s->mac);
}

/* The module unwraps; K and Km are made and kept in the kernel. */
static int kmod_keys_unwrap(struct kc_tier *t, void *session, int32_t seal,
			    const uint8_t wrapped[KC_RSA_LEN],
			    const struct kc_tier_keys *keys)
{
	struct kmod_crypto *m = (struct kmod_crypto *)t;
	struct kmod_session *s = session;
	uint8_t random_sid[KC_SID_LEN];
	struct kcourier_unwrap u = {
		.seal_key = seal,
		.keyring = keys->ring ? keys->ring->ring : 0,
		.timeout_s = keys->ttl,
		.wrapped = (uintptr_t)wrapped,
		.wrapped_len = KC_RSA_LEN,
	};

	memcpy(u.sid, sid_or_random(keys->sid, random_sid), KC_SID_LEN);
	if (ioctl(m->fd, KCOURIER_IOC_UNWRAP, &u))
		return -errno;
	s->enc = u.enc_key;
	s->mac = u.mac_key;
	s->ring = keys->ring;
	return u.result & KCOURIER_UNWRAP_RANDOM ? -EBADMSG : 0;
}

static void kmod_keys_uninstall(struct kc_tier *t, void *session)
{
	const struct kmod_session *s = session;

	kc_keyring_unlink(s->ring, s->enc);
	kc_keyring_unlink(s->ring, s->mac);
}

/* Batches. */

static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;

static void thread_free(void *p)
{
	struct kmod_thread *th = p;

	close(th->fd);
	free(th);
}

static void thread_key_make(void)
{
	pthread_key_create(&thread_key, thread_free);
}

static void *kmod_batch_begin(int *err)
{
	struct kmod_thread *th;

	pthread_once(&thread_once, thread_key_make);
	th = pthread_getspecific(thread_key);
	if (th)
		return th;
	th = calloc(1, sizeof(*th));
	if (!th) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = dev_open(&th->fd);
	if (!*err)
		*err = -pthread_setspecific(thread_key, th);
	if (*err) {
		if (th->fd >= 0)
			close(th->fd);
		free(th);
		return NULL;
	}
	return th;
}

/* The module's per-op status as the tier's (crypto_tier.h). */
static int op_status(int status)
{
	switch (status) {
	case -EBADMSG:
	case -EILSEQ:
		return -KC_BAD_MAC;
	case -ENOKEY:
	case -EACCES:
		return -KC_UNKNOWN_SESSION;
	default:
		return status;
	}
}

/* One ioctl for ops[i] where aimed[i]; the rest keep their status. */
static void submit(struct kmod_thread *th, unsigned long cmd, size_t n,
		   const bool *aimed)
{
	struct kcourier_op packed[CHUNK];
	struct kcourier_batch b = { .ops = (uintptr_t)packed };
	size_t i, j;

	for (i = 0; i < n; i++)
		if (aimed[i])
			packed[b.count++] = th->ops[i];
	if (!b.count)
		return;
	if (ioctl(th->fd, cmd, &b)) {
		for (j = 0; j < b.count; j++)
			packed[j].status = -errno;
	}
	for (i = 0, j = 0; i < n; i++)
		if (aimed[i])
			th->ops[i] = packed[j++];
}

/* Whether a request goes to the module; else its status says why not. */
static bool can_aim(const void *session, size_t aad_len, size_t len,
		    int *status)
{
	if (!session)
		*status = -KC_UNKNOWN_SESSION;
	else if (aad_len > KCOURIER_MAX_AAD || len > KCOURIER_MAX_DATA)
		*status = -EMSGSIZE;
	else
		return true;
	return false;
}

/* One op under session's keys: in to out (room out_len), MAC over aad. */
static void aim_op(struct kcourier_op *op, const void *session,
		   const uint8_t *aad, size_t aad_len, const void *in,
		   size_t in_len, void *out, size_t out_len, const uint8_t *iv)
{
	const struct kmod_session *s = session;

	*op = (struct kcourier_op){
		.enc_key = s->enc,
		.mac_key = s->mac,
		.aad = (uintptr_t)aad,
		.aad_len = (uint32_t)aad_len,
		.in = (uintptr_t)in,
		.in_len = (uint32_t)in_len,
		.out = (uintptr_t)out,
		.out_len = (uint32_t)out_len,
	};
	memcpy(op->iv, iv, KC_IV_LEN);
}

static void kmod_open_all(void *batch, const void *const *sessions,
			  struct kc_open_req *r, size_t n)
{
	struct kmod_thread *th = batch;
	bool aimed[CHUNK] = { false };
	size_t i;

	for (i = 0; i < n; i++) {
		r[i].pt_len = 0;
		r[i].mac_ok = false;
		aimed[i] = can_aim(sessions[i], r[i].aad_len, r[i].ct_len,
				   &r[i].status);
		if (!aimed[i])
			continue;
		aim_op(&th->ops[i], sessions[i], r[i].aad, r[i].aad_len,
		       r[i].ct, r[i].ct_len, r[i].pt, r[i].ct_len, r[i].iv);
		memcpy(th->ops[i].tag, r[i].mac, KC_MAC_LEN);
	}
	submit(th, KCOURIER_IOC_OPEN, n, aimed);
	for (i = 0; i < n; i++) {
		if (!aimed[i])
			continue;
		r[i].status = op_status(th->ops[i].status);
		r[i].mac_ok = !th->ops[i].status || th->ops[i].status == -EILSEQ;
		r[i].pt_len = r[i].status ? 0 : th->ops[i].out_len;
	}
}

static void kmod_seal_all(void *batch, const void *const *sessions,
			  struct kc_seal_req *r, size_t n)
{
	struct kmod_thread *th = batch;
	bool aimed[CHUNK] = { false };
	size_t i;

	for (i = 0; i < n; i++) {
		r[i].ct_len = 0;
		aimed[i] = can_aim(sessions[i], r[i].aad_len, r[i].pt_len,
				   &r[i].status);
		if (!aimed[i])
			continue;
		aim_op(&th->ops[i], sessions[i], r[i].aad, r[i].aad_len,
		       r[i].pt, r[i].pt_len, r[i].ct,
		       kc_cbc_ct_len(r[i].pt_len), r[i].iv);
	}
	submit(th, KCOURIER_IOC_SEAL, n, aimed);
	for (i = 0; i < n; i++) {
		if (!aimed[i])
			continue;
		r[i].status = op_status(th->ops[i].status);
		if (r[i].status)
			continue;
		r[i].ct_len = th->ops[i].out_len;
		memcpy(r[i].mac, th->ops[i].tag, KC_MAC_LEN);
	}
}

_Static_assert(sizeof(struct kmod_session) <= KC_TIER_SESSION_MAX,
	       "a kmod session record must fit tier_core.h's slots");

/* No mac or cbc: open_all and seal_all take every batch whole. */
static const struct kc_tier_primitives kmod_primitives = {
	.session_size = sizeof(struct kmod_session),
	.keys_install = kmod_keys_install,
	.keys_uninstall = kmod_keys_uninstall,
	.keys_unwrap = kmod_keys_unwrap,
	.batch_begin = kmod_batch_begin,
	.open_all = kmod_open_all,
	.seal_all = kmod_seal_all,
};

const struct kc_crypto_ops kc_crypto_kmod_ops = {
	.name = "kmod",
	.create = kmod_create,
	.destroy = kmod_destroy,
	KC_TIER_SHARED_OPS,
};
