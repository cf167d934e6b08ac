// SPDX-License-Identifier: GPL-2.0-only
/*
 * Seal-key rotation in a running agent: see seal_rotate.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "proto/context.h"
#include "proto/seal_rotate.h"
#include "ring/ratelog.h"

const gnutls_datum_t *kc_seal_cert(struct kc_proto *p)
{
	struct kc_seal_cert *now = atomic_load(&p->seal_now);

	return now ? &now->der : &p->seal_der;
}

static struct kc_proto_worker *worker_of(struct kc_loop *loop, unsigned int i)
{
	return loop->workers[i] ? loop->workers[i]->upper : NULL;
}

static void unload(struct kc_proto_worker *pw, kc_handle_t key)
{
	if (key != KC_HANDLE_NONE)
		pw->crypto->ops->unload_key(pw->crypto, key);
}

/* Unloads what load_all loaded so far (handles[0..n)). */
static void unload_all(struct kc_loop *loop, const kc_handle_t *handles,
		       unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		unload(worker_of(loop, i), handles[i]);
}

/* Every worker's tier takes the key first, so a failure changes nothing. */
static int load_all(struct kc_loop *loop, const uint8_t *pkcs8, size_t len,
		    kc_handle_t *handles)
{
	int ret = 0;
	unsigned int i;

	for (i = 0; !ret && i < loop->nworkers; i++) {
		struct kc_proto_worker *pw = worker_of(loop, i);

		ret = pw ? pw->crypto->ops->load_unwrap_key(pw->crypto, pkcs8,
							    len, &handles[i])
			 : -ESRCH;
	}
	if (ret)
		unload_all(loop, handles, i - 1);
	return ret;
}

static int publish_cert(struct kc_proto *p, const uint8_t *cert,
			size_t cert_len)
{
	struct kc_seal_cert *c = calloc(1, sizeof(*c));

	if (!c || !(c->der.data = gnutls_malloc(cert_len))) {
		free(c);
		return -ENOMEM;
	}
	memcpy(c->der.data, cert, cert_len);
	c->der.size = (unsigned int)cert_len;
	c->older = atomic_load(&p->seal_now);
	atomic_store(&p->seal_now, c);
	return 0;
}

int kc_seal_rotate(struct kc_proto *p, struct kc_loop *loop,
		   const uint8_t *pkcs8, size_t len, const uint8_t *cert,
		   size_t cert_len, uint64_t now_ms)
{
	kc_handle_t *handles = calloc(loop->nworkers, sizeof(*handles));
	int ret;

	if (!handles)
		return -ENOMEM;
	ret = load_all(loop, pkcs8, len, handles);
	if (!ret) {
		ret = publish_cert(p, cert, cert_len);
		if (ret)
			unload_all(loop, handles, loop->nworkers);
	}
	for (unsigned int i = 0; !ret && i < loop->nworkers; i++) {
		struct kc_session_ctx *s = &worker_of(loop, i)->sctx;
		kc_handle_t was = atomic_exchange(&s->unwrap_key, handles[i]);

		/* Two rotations within a TTL: the oldest key goes now. */
		unload(worker_of(loop, i), atomic_exchange(&s->old_key, was));
	}
	if (!ret)
		p->seal_retire_ms =
			now_ms + (uint64_t)p->cfg->session_ttl * 1000;
	free(handles);
	return ret;
}

bool kc_seal_retire(struct kc_proto *p, struct kc_loop *loop, uint64_t now_ms)
{
	if (!p->seal_retire_ms || now_ms < p->seal_retire_ms)
		return false;
	for (unsigned int i = 0; i < loop->nworkers; i++) {
		struct kc_proto_worker *pw = worker_of(loop, i);

		if (pw)
			unload(pw, atomic_exchange(&pw->sctx.old_key,
						   KC_HANDLE_NONE));
	}
	p->seal_retire_ms = 0;
	return true;
}

void kc_seal_certs_free(struct kc_proto *p)
{
	struct kc_seal_cert *c = atomic_exchange(&p->seal_now, NULL), *older;

	for (; c; c = older) {
		older = c->older;
		gnutls_free(c->der.data);
		free(c);
	}
}
