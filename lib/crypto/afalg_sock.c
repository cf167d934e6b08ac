// SPDX-License-Identifier: GPL-2.0-only
/*
 * AF_ALG socket pairs for the afalg tier (afalg_sock.h): keying from the
 * keyring, HMAC, raw CBC and CBC with PKCS#7, and the per-thread pairs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if_alg.h>

#include "crypto/afalg_sock.h"

#ifndef SOL_ALG
#define SOL_ALG 279
#endif

/*
 * Bytes handed to the kernel per sendmsg before their output is read: the
 * TX queue of an skcipher socket is bounded by its send buffer (about
 * 208 KiB by default) and a send that does not fit waits for a read that
 * this same thread would have to make. A multiple of the block size.
 */
#define CBC_CHUNK (64 * 1024)
#define CBC_IOV_MAX 8

int kc_alg_open(struct kc_alg *a, const char *type, const char *name)
{
	struct sockaddr_alg sa = { .salg_family = AF_ALG };
	int fd;

	a->tfm = a->op = -1;
	a->key_id = 0;
	if (strlen(type) >= sizeof(sa.salg_type) ||
	    strlen(name) >= sizeof(sa.salg_name))
		return -EINVAL;
	memcpy(sa.salg_type, type, strlen(type));
	memcpy(sa.salg_name, name, strlen(name));
	fd = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = errno;

		close(fd);
		return -err;
	}
	a->tfm = fd;
	return 0;
}

static void close_op(struct kc_alg *a)
{
	if (a->op >= 0)
		close(a->op);
	a->op = -1;
	a->key_id = 0;
}

void kc_alg_close(struct kc_alg *a)
{
	if (!a)
		return;
	close_op(a);
	if (a->tfm >= 0)
		close(a->tfm);
	a->tfm = -1;
}

/* setsockopt(optname, key, len) on the tfm socket, then a fresh op one. */
static int key_pair(struct kc_alg *a, int optname, const void *key,
		    socklen_t len, uint64_t key_id)
{
	int fd;

	/* An op socket accepted after keying pins the key (EBUSY). */
	close_op(a);
	if (setsockopt(a->tfm, SOL_ALG, optname, key, len))
		return -errno;
	fd = accept4(a->tfm, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	a->op = fd;
	a->key_id = key_id;
	return 0;
}

int kc_alg_key_serial(struct kc_alg *a, key_serial_t serial, uint64_t key_id)
{
	return key_pair(a, ALG_SET_KEY_BY_KEY_SERIAL, &serial, sizeof(serial),
			key_id);
}

int kc_alg_key_raw(struct kc_alg *a, const uint8_t *key, size_t len,
		   uint64_t key_id)
{
	return key_pair(a, ALG_SET_KEY, key, (socklen_t)len, key_id);
}

static int send_all(int fd, struct msghdr *msg, size_t len, int flags)
{
	ssize_t n;

	do
		n = sendmsg(fd, msg, flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* Every send here fits the socket's buffer: short means broken. */
	return (size_t)n == len ? 0 : -EIO;
}

static int read_all(int fd, uint8_t *out, size_t len)
{
	ssize_t n;

	while (len) {
		n = read(fd, out, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		out += n;
		len -= (size_t)n;
	}
	return 0;
}

int kc_alg_hmac(struct kc_alg *a, const struct kc_iov *iov, size_t n,
		uint8_t out[KC_MAC_LEN])
{
	struct iovec v[4];
	struct msghdr msg = { .msg_iov = v };
	size_t i, total = 0;
	int ret;

	if (a->op < 0)
		return -ENOKEY;
	if (n > sizeof(v) / sizeof(v[0]))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		v[i] = (struct iovec){ (void *)iov[i].p, iov[i].len };
		total += iov[i].len;
	}
	msg.msg_iovlen = n;
	/* No MSG_MORE: the kernel finishes the digest with this send. */
	ret = total ? send_all(a->op, &msg, total, 0) : 0;
	if (!ret)
		ret = read_all(a->op, out, KC_MAC_LEN);
	if (ret)
		close_op(a);
	return ret;
}

/* Where kc_alg_cbc is in its input. */
struct cursor {
	const struct kc_iov *in;
	size_t n, i, off;
};

/* The next up to CBC_CHUNK bytes of input as iovecs; returns their length. */
static size_t next_chunk(struct cursor *c, struct iovec *v, size_t *nv)
{
	size_t total = 0, take;

	*nv = 0;
	while (c->i < c->n && total < CBC_CHUNK && *nv < CBC_IOV_MAX) {
		take = c->in[c->i].len - c->off;
		if (take > CBC_CHUNK - total)
			take = CBC_CHUNK - total;
		if (take) {
			v[*nv].iov_base = (uint8_t *)c->in[c->i].p + c->off;
			v[(*nv)++].iov_len = take;
			total += take;
		}
		c->off += take;
		if (c->off == c->in[c->i].len) {
			c->i++;
			c->off = 0;
		}
	}
	return total;
}

static bool more_input(const struct cursor *c)
{
	size_t i;

	for (i = c->i; i < c->n; i++)
		if (c->in[i].len > (i == c->i ? c->off : 0))
			return true;
	return false;
}

/* The operation and IV travel as control messages with the first send. */
static void set_op_iv(struct msghdr *msg, char *cbuf, size_t cap, bool encrypt,
		      const uint8_t iv[KC_IV_LEN])
{
	struct cmsghdr *cm;
	struct af_alg_iv *aiv;
	uint32_t op = encrypt ? ALG_OP_ENCRYPT : ALG_OP_DECRYPT;

	memset(cbuf, 0, cap);
	msg->msg_control = cbuf;
	msg->msg_controllen = cap;
	cm = CMSG_FIRSTHDR(msg);
	cm->cmsg_level = SOL_ALG;
	cm->cmsg_type = ALG_SET_OP;
	cm->cmsg_len = CMSG_LEN(sizeof(op));
	memcpy(CMSG_DATA(cm), &op, sizeof(op));
	cm = CMSG_NXTHDR(msg, cm);
	cm->cmsg_level = SOL_ALG;
	cm->cmsg_type = ALG_SET_IV;
	cm->cmsg_len = CMSG_LEN(sizeof(*aiv) + KC_IV_LEN);
	aiv = (struct af_alg_iv *)CMSG_DATA(cm);
	aiv->ivlen = KC_IV_LEN;
	memcpy(aiv->iv, iv, KC_IV_LEN);
}

int kc_alg_cbc(struct kc_alg *a, bool encrypt, const uint8_t iv[KC_IV_LEN],
	       const struct kc_iov *in, size_t n, uint8_t *out)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t)) +
			 CMSG_SPACE(sizeof(struct af_alg_iv) + KC_IV_LEN)];
		struct cmsghdr align;
	} cbuf;
	struct cursor c = { .in = in, .n = n };
	struct iovec v[CBC_IOV_MAX];
	struct msghdr msg = { .msg_iov = v };
	size_t len, nv;
	int ret = 0;

	if (a->op < 0)
		return -ENOKEY;
	for (nv = 0; nv < n; nv++)
		if (in[nv].len % KC_AES_BLOCK)
			return -EINVAL;
	set_op_iv(&msg, cbuf.buf, sizeof(cbuf.buf), encrypt, iv);
	/* The kernel carries the CBC chain from one chunk to the next. */
	while (!ret && (len = next_chunk(&c, v, &nv)) > 0) {
		msg.msg_iovlen = nv;
		ret = send_all(a->op, &msg, len, more_input(&c) ? MSG_MORE : 0);
		if (!ret)
			ret = read_all(a->op, out, len);
		out += len;
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
	}
	if (ret)
		close_op(a);
	return ret;
}

int kc_alg_cbc_encrypt_pkcs7(struct kc_alg *a, const uint8_t iv[KC_IV_LEN],
			     const uint8_t *pt, size_t pt_len, uint8_t *ct,
			     size_t *ct_len)
{
	size_t full = pt_len - pt_len % KC_AES_BLOCK;
	size_t pad = KC_AES_BLOCK - pt_len % KC_AES_BLOCK;
	uint8_t last[KC_AES_BLOCK];
	const struct kc_iov in[2] = { { pt, full }, { last, sizeof(last) } };
	int ret;

	/* PKCS#7: 1..16 bytes, each the count, after what is left of pt. */
	if (pad < KC_AES_BLOCK)
		memcpy(last, pt + full, KC_AES_BLOCK - pad);
	memset(last + KC_AES_BLOCK - pad, (int)pad, pad);
	ret = kc_alg_cbc(a, true, iv, in, 2, ct);
	explicit_bzero(last, sizeof(last));
	if (!ret)
		*ct_len = full + KC_AES_BLOCK;
	return ret;
}

int kc_alg_cbc_decrypt_pkcs7(struct kc_alg *a, const uint8_t iv[KC_IV_LEN],
			     const uint8_t *ct, size_t ct_len, uint8_t *pt,
			     size_t *pt_len)
{
	const struct kc_iov in = { ct, ct_len };
	size_t pad;
	int ret;

	if (!ct_len || ct_len % KC_AES_BLOCK)
		return -EBADMSG;
	ret = kc_alg_cbc(a, false, iv, &in, 1, pt);
	if (ret)
		return ret;
	pad = kc_pkcs7_pad_len(pt, ct_len);
	if (!pad) {
		explicit_bzero(pt, ct_len);
		return -EBADMSG;
	}
	*pt_len = ct_len - pad;
	return 0;
}

/* Per-thread pairs. */

static pthread_key_t thread_key;
static int thread_key_err;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;
static __thread struct kc_afalg_thread *this_thread;

static void thread_free(void *p)
{
	struct kc_afalg_thread *t = p;

	if (!t)
		return;
	kc_alg_close(&t->cbc);
	kc_alg_close(&t->hmac);
	free(t);
}

static void thread_key_make(void)
{
	/* Threads that exit close their sockets with them. */
	thread_key_err = -pthread_key_create(&thread_key, thread_free);
}

static int thread_open(struct kc_afalg_thread *t)
{
	int ret;

	ret = kc_alg_open(&t->cbc, "skcipher", "cbc(aes)");
	if (!ret)
		ret = kc_alg_open(&t->hmac, "hash", "hmac(sha256)");
	if (!ret)
		ret = -pthread_setspecific(thread_key, t);
	return ret;
}

struct kc_afalg_thread *kc_afalg_thread_get(int *err)
{
	struct kc_afalg_thread *t = this_thread;

	if (t)
		return t;
	pthread_once(&thread_once, thread_key_make);
	*err = thread_key_err;
	if (*err)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		*err = -ENOMEM;
		return NULL;
	}
	t->cbc = t->hmac = (struct kc_alg)KC_ALG_INIT;
	*err = thread_open(t);
	if (*err) {
		thread_free(t);
		return NULL;
	}
	this_thread = t;
	return t;
}

uint64_t kc_afalg_key_id(void)
{
	static atomic_uint_fast64_t next = 1;

	return atomic_fetch_add(&next, 1);
}
