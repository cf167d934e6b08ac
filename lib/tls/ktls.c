// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel TLS by hand for GnuTLS sessions (see ktls.h): key hand-over,
 * the ULP probe, and record-type aware receive and alert send.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/tls.h>

#include "tls/ktls.h"

#define SEQ_SIZE 8
/* RFC 8446 5.3: every suite here has a 12-byte per-record nonce. */
#define NONCE_SIZE 12

union ktls_info {
	struct tls_crypto_info info;
	struct tls12_crypto_info_aes_gcm_128 aes128;
	struct tls12_crypto_info_aes_gcm_256 aes256;
	struct tls12_crypto_info_chacha20_poly1305 chacha;
};

/* Where one kernel crypto_info struct keeps each part. */
struct suite {
	gnutls_cipher_algorithm_t cipher;
	uint16_t kernel_cipher;
	size_t len;
	size_t iv_off, iv_len;
	size_t key_off, key_len;
	size_t salt_off, salt_len;
	size_t seq_off;
};

#define SUITE(gnutls_id, kernel_id, type)                                      \
	{                                                                      \
		.cipher = gnutls_id, .kernel_cipher = kernel_id,               \
		.len = sizeof(struct type),                                    \
		.iv_off = offsetof(struct type, iv),                           \
		.iv_len = sizeof(((struct type *)0)->iv),                      \
		.key_off = offsetof(struct type, key),                         \
		.key_len = sizeof(((struct type *)0)->key),                    \
		.salt_off = offsetof(struct type, salt),                       \
		.salt_len = sizeof(((struct type *)0)->salt),                  \
		.seq_off = offsetof(struct type, rec_seq),                     \
	}

static const struct suite suites[] = {
	SUITE(GNUTLS_CIPHER_AES_128_GCM, TLS_CIPHER_AES_GCM_128,
	      tls12_crypto_info_aes_gcm_128),
	SUITE(GNUTLS_CIPHER_AES_256_GCM, TLS_CIPHER_AES_GCM_256,
	      tls12_crypto_info_aes_gcm_256),
	SUITE(GNUTLS_CIPHER_CHACHA20_POLY1305, TLS_CIPHER_CHACHA20_POLY1305,
	      tls12_crypto_info_chacha20_poly1305),
};

/* Set once the kernel said it has no tls ULP: asking again costs a modprobe. */
static atomic_bool ulp_missing;

static const struct suite *find_suite(gnutls_session_t session)
{
	gnutls_cipher_algorithm_t cipher = gnutls_cipher_get(session);
	size_t i;

	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i].cipher == cipher)
			return &suites[i];
	return NULL;
}

/*
 * RFC 8446 5.3: the nonce is the 12-byte write IV XORed with the record
 * sequence number. The kernel keeps that IV as salt || iv (AES-GCM: 4 + 8
 * bytes; ChaCha20-Poly1305: 0 + 12) and the next sequence number as
 * rec_seq, big-endian like GnuTLS gives it.
 */
static int fill_info(const struct suite *s, gnutls_session_t session,
		     unsigned int read, union ktls_info *u)
{
	gnutls_datum_t mac, iv, key;
	uint8_t seq[SEQ_SIZE];
	uint8_t *p = (uint8_t *)u;
	int ret = -EPROTO;

	memset(u, 0, sizeof(*u));
	if (gnutls_record_get_state(session, read, &mac, &iv, &key, seq) < 0)
		goto cleanup;
	if (key.size != s->key_len || iv.size != NONCE_SIZE ||
	    s->salt_len + s->iv_len != NONCE_SIZE)
		goto cleanup;
	u->info.version = TLS_1_3_VERSION;
	u->info.cipher_type = s->kernel_cipher;
	memcpy(p + s->salt_off, iv.data, s->salt_len);
	memcpy(p + s->iv_off, iv.data + s->salt_len, s->iv_len);
	memcpy(p + s->key_off, key.data, s->key_len);
	memcpy(p + s->seq_off, seq, SEQ_SIZE);
	ret = 0;
cleanup:
	explicit_bzero(seq, sizeof(seq));
	return ret;
}

/* One direction: TLS_TX from GnuTLS's write state, TLS_RX from its read. */
static int install_direction(int fd, const struct suite *s,
			     gnutls_session_t session, int dir)
{
	union ktls_info u;
	int ret;

	ret = fill_info(s, session, dir == TLS_RX, &u);
	if (!ret && setsockopt(fd, SOL_TLS, dir, &u, (socklen_t)s->len) < 0)
		ret = -errno;
	explicit_bzero(&u, sizeof(u));
	return ret;
}

static int attach_ulp(int fd)
{
	static const char ulp[] = "tls";

	if (atomic_load(&ulp_missing))
		return -ENOENT;
	if (!setsockopt(fd, IPPROTO_TCP, TCP_ULP, ulp, sizeof(ulp)))
		return 0;
	if (errno == ENOENT)
		atomic_store(&ulp_missing, true);
	return -errno;
}

int kc_ktls_install(int fd, gnutls_session_t session)
{
	const struct suite *s;
	int ret;

	if (gnutls_protocol_get_version(session) != GNUTLS_TLS1_3)
		return -EOPNOTSUPP;
	s = find_suite(session);
	if (!s)
		return -EOPNOTSUPP;
	if (gnutls_record_check_pending(session))
		return -EBUSY;
	ret = attach_ulp(fd);
	if (!ret)
		ret = install_direction(fd, s, session, TLS_TX);
	if (ret)
		return ret;
	ret = install_direction(fd, s, session, TLS_RX);
	return ret ? -ENOTRECOVERABLE : 0;
}

/* Probe */

static int loopback_pair(int *a, int *b)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int lfd, ret = 0;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*a = *b = -1;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -errno;
	if (bind(lfd, (struct sockaddr *)&sin, len) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len))
		goto fail;
	*a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*a < 0 || connect(*a, (struct sockaddr *)&sin, len))
		goto fail;
	*b = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (*b < 0)
		goto fail;
	close(lfd);
	return 0;
fail:
	ret = -errno;
	if (*a >= 0)
		close(*a);
	*a = -1;
	close(lfd);
	return ret;
}

int kc_ktls_probe(void)
{
	static const char ulp[] = "tls";
	int a, b, ret;

	/* The ULP attaches only to an established connection. */
	ret = loopback_pair(&a, &b);
	if (ret)
		return ret;
	if (setsockopt(a, IPPROTO_TCP, TCP_ULP, ulp, sizeof(ulp)))
		ret = -errno;
	close(a);
	close(b);
	return ret;
}

/* Records */

union record_type_cmsg {
	char buf[CMSG_SPACE(sizeof(uint8_t))];
	struct cmsghdr align;
};

ssize_t kc_ktls_recv(int fd, void *buf, size_t cap, int flags, uint8_t *type)
{
	union record_type_cmsg control;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	*type = KC_TLS_CT_APPDATA;
	n = recvmsg(fd, &msg, flags);
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_TLS &&
		    cm->cmsg_type == TLS_GET_RECORD_TYPE)
			*type = *CMSG_DATA(cm);
	return n;
}

int kc_ktls_send_alert(int fd, uint8_t level, uint8_t desc, int flags)
{
	uint8_t alert[2] = { level, desc };
	union record_type_cmsg control;
	struct iovec iov = { .iov_base = alert, .iov_len = sizeof(alert) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	ssize_t n;

	cm->cmsg_level = SOL_TLS;
	cm->cmsg_type = TLS_SET_RECORD_TYPE;
	cm->cmsg_len = CMSG_LEN(sizeof(uint8_t));
	*CMSG_DATA(cm) = KC_TLS_CT_ALERT;
	msg.msg_controllen = cm->cmsg_len;
	n = sendmsg(fd, &msg, flags | MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(alert) ? 0 : -EIO;
}

const char *kc_ktls_alert_name(uint8_t desc)
{
	const char *name = gnutls_alert_get_name(desc);

	return name ? name : "unknown alert";
}
