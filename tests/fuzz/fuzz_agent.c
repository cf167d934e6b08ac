// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the agent's path from decrypted TLS records to
 * requests: the input is what a peer's TLS records decrypt to, and it
 * goes through the agent's own layers as a running kcourierd takes it:
 * the worker's io_uring receives it (multishot recv into provided
 * buffers), the connection cuts it into frames under its frame limit,
 * the request layer decodes and handles each frame (sessions, SEND's
 * checks, the group commit on the committer thread with its message log,
 * delivery through the router and the inbox), and the answers go back
 * out through the output queue with its holds.
 *
 * The only thing left out is TLS itself: the connection comes from
 * kc_tls_server_new_plain (conn/tls.h), an engine that is past its
 * handshake and in pass-through from the start, as kTLS leaves it, and
 * that names the client a certificate would have named. Everything else
 * is the agent's code on real parts: io_uring, a socket pair, SQLite,
 * the message log (in /dev/shm, where fdatasync costs nothing), the
 * user crypto tier.
 *
 * Input: one mode byte, then records of u8 op, u16 len (big-endian) and
 * len bytes:
 *   mode bit 0  the peer has a certificate for "fuzz" (else no
 *               certificate: register-only, PROTOCOL.md section 3)
 *   mode bit 1  an agent session is open before the first byte, with a
 *               K the harness knows (as OPEN_SESSION would leave it,
 *               without an RSA operation per run)
 *   op 0, 3     the bytes as the peer's plaintext stream
 *   op 1        the bytes as a SEND plaintext, sealed under that session
 *               with the next seq, so the fuzzer reaches the steps after
 *               the MAC (PROTOCOL.md section 4, SEND steps 3 to 8)
 *   op 2        the agent's loop turns until its groups came back
 * At the end the peer closes its side and the loop runs until the
 * connection is gone.
 *
 * What must hold, or abort() keeps the input: every byte the agent sends
 * is a whole frame of an agent-to-client type that decodes; ACKs of the
 * sealed SENDs come in seq order; the connection ends within
 * END_LIMIT_MS of the peer's close and leaves nothing behind (connection
 * count, its session id, groups at the committer).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "base/clock.h"
#include "conn/conns.h"
#include "crypto/crypto.h"
#include "crypto/crypto_ops.h"
#include "loop/worker.h"
#include "proto/committer.h"
#include "proto/context.h"
#include "proto/proto.h"
#include "proto/router.h"
#include "proto/sessions.h"
#include "store/msglog.h"
#include "store/sqlite.h"
#include "store/store.h"

#define PEER_ID "fuzz"
#define RECIPIENT_ID "peer"
#define RING_ENTRIES 256
#define RECV_BUFS 64
#define RECV_BUF_SIZE (16u * 1024)
#define SEGMENT_BYTES (64u * 1024)
/* The message log starts over this often, so it stays small. */
#define RUNS_PER_LOG 20000
#define END_LIMIT_MS 10000
#define OUT_KEEP (8u << 20)

static const uint8_t fuzz_sid[KC_SID_LEN] = "fuzz-session-sid";

struct world {
	char dir[64];
	struct kc_agent_config cfg;
	struct kc_proto p;
	struct kc_loop loop;
	struct kc_worker *w;
	struct kc_worker *workers[1];
	struct kc_tls_server *authed, *unauthed;
	uint8_t *seal_pkcs8, *seal_spki;
	int seal_pkcs8_len, seal_spki_len;
	struct kc_crypto *peer_crypto; /* the harness's side of the session */
	uint8_t k[KC_KEY_LEN];
	kc_handle_t peer_session;
	unsigned long runs;
};

/* One run: the peer's end of the socket pair and what it read. */
struct run {
	int fd;
	uint64_t seq;	/* last seq sealed */
	uint64_t acked; /* last ACK seq seen for fuzz_sid */
	uint8_t *out;	/* agent output not yet cut into frames */
	size_t out_len;
	bool eof;
};

static struct world W;

static void die(const char *what, int err)
{
	fprintf(stderr, "fuzz_agent: %s: %s\n", what,
		strerror(err < 0 ? -err : err));
	abort();
}

/* --- the world, made once --- */

static void make_seal_key(void)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	PKCS8_PRIV_KEY_INFO *p8;

	if (!key)
		die("RSA key", EIO);
	p8 = EVP_PKEY2PKCS8(key);
	W.seal_pkcs8_len = i2d_PKCS8_PRIV_KEY_INFO(p8, &W.seal_pkcs8);
	W.seal_spki_len = i2d_PUBKEY(key, &W.seal_spki);
	if (W.seal_pkcs8_len <= 0 || W.seal_spki_len <= 0)
		die("RSA key DER", EIO);
	PKCS8_PRIV_KEY_INFO_free(p8);
	EVP_PKEY_free(key);
}

/* Registers id with a token of its own, as REGISTER would. */
static void register_client(struct kc_store *st, const char *id)
{
	char tok[1][KC_TOKEN_TEXT_LEN + 1];
	static const uint8_t stand_in[] =
		"a certificate the harness never reads";
	struct kc_client_reg reg = {
		.id = id,
		.cert = { stand_in, sizeof(stand_in) },
		.enc_spki = { W.seal_spki, (size_t)W.seal_spki_len },
		.enc_sig = { stand_in, sizeof(stand_in) },
	};
	int ret;

	ret = kc_store_tokens_new(st, kc_wall_ms(), 3600, 1, tok);
	if (!ret)
		ret = kc_store_register(
			st,
			(struct kc_bytes){ (const uint8_t *)tok[0],
					   strlen(tok[0]) },
			kc_wall_ms(), &reg);
	if (ret)
		die("registering a client", ret);
}

static void open_store(void)
{
	char path[128];
	int ret;

	snprintf(path, sizeof(path), "%s/store.db", W.dir);
	ret = kc_sqlite_open(path, true, &W.p.store);
	if (ret)
		die("store", ret);
	register_client(W.p.store, PEER_ID);
	register_client(W.p.store, RECIPIENT_ID);
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
			struct FTW *ftw)
{
	return remove(path);
}

/* A fresh, empty message log under its committer. */
static void start_committer(void)
{
	struct kc_msglog_opts opts = { .segment_bytes = SEGMENT_BYTES };
	struct kc_msglog_report rep;
	struct kc_msglog *log;
	char path[128];
	int ret;

	snprintf(path, sizeof(path), "%s/log", W.dir);
	nftw(path, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	ret = kc_msglog_open(path, &opts, &log, &rep);
	if (!ret)
		ret = kc_committer_start(&W.p, &W.loop, log, &W.p.committer);
	if (ret)
		die("message log", ret);
}

/* REGISTER never gets this far: no run knows a valid token. */
static int issue_none(void *ctx, const char *id, const uint8_t *spki,
		      size_t spki_len, gnutls_datum_t *der)
{
	return -EACCES;
}

static void make_proto(void)
{
	struct kc_proto *p = &W.p;
	int ret;

	p->cfg = &W.cfg;
	p->crypto_tier = "user";
	p->seal_der =
		(gnutls_datum_t){ W.seal_spki, (unsigned int)W.seal_spki_len };
	p->ca_der = p->seal_der;
	p->seal_pkcs8 = W.seal_pkcs8;
	p->seal_pkcs8_len = (size_t)W.seal_pkcs8_len;
	p->issue_client = issue_none;
	pthread_mutex_init(&p->store_lock, NULL);
	atomic_init(&p->bad_keys, 0);
	ret = kc_sid_set_create(&p->sids);
	if (!ret)
		ret = kc_router_create(&p->router);
	if (ret)
		die("sessions and router", ret);
}

/* What worker.c's worker_init does, on this thread instead of its own. */
static void make_worker(void)
{
	struct kc_worker *w = calloc(1, sizeof(*w));
	struct kc_conn_setup setup;
	int ret;

	if (!w)
		die("worker", ENOMEM);
	W.w = w;
	W.workers[0] = w;
	w->loop = &W.loop;
	w->listen_fd = -1;
	kc_inbox_init(&w->inbox);
	ret = kc_ring_init(&w->ring, RING_ENTRIES);
	if (ret)
		die("io_uring", ret);
	w->inbox.ring_fd = w->ring.fd;
	ret = kc_bufring_init(&w->bufs, &w->ring.ring, 1, RECV_BUFS,
			      RECV_BUF_SIZE);
	if (!ret)
		ret = kc_proto_ops.init(w);
	if (ret)
		die("worker state", ret);
	setup = (struct kc_conn_setup){
		.ring = &w->ring,
		.bufs = &w->bufs,
		.shared = &W.loop.conns,
		.events = kc_proto_ops.conn_events,
		.priv_size = kc_proto_ops.conn_priv_size,
		.upper = w->upper,
	};
	kc_conns_init(&w->conns, &setup);
}

static void make_peer_session(void)
{
	int ret = kc_crypto_open("user", &W.peer_crypto);

	kc_random(W.k, sizeof(W.k));
	if (!ret)
		ret = kc_session_install(W.peer_crypto, NULL, W.k,
					 &W.peer_session);
	if (ret)
		die("the peer's session", ret);
}

/* The state directory goes with the process (libFuzzer ends by exit()). */
static void remove_world(void)
{
	nftw(W.dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int ret;

	snprintf(W.dir, sizeof(W.dir), "/dev/shm/kc-fuzz-agent.XXXXXX");
	if (!mkdtemp(W.dir)) {
		snprintf(W.dir, sizeof(W.dir), "/tmp/kc-fuzz-agent.XXXXXX");
		if (!mkdtemp(W.dir))
			die("mkdtemp", errno);
	}
	atexit(remove_world);
	kc_config_defaults(&W.cfg);
	make_seal_key();
	open_store();
	make_proto();
	ret = kc_tls_server_new_plain(PEER_ID, &W.authed);
	if (!ret)
		ret = kc_tls_server_new_plain(NULL, &W.unauthed);
	if (ret)
		die("plain engines", ret);
	W.loop.conns.cfg = &W.cfg;
	atomic_init(&W.loop.conns.nconns, 0);
	W.loop.ops = &kc_proto_ops;
	W.loop.ops_ctx = &W.p;
	W.loop.workers = W.workers;
	W.loop.nworkers = 1;
	make_worker();
	start_committer();
	make_peer_session();
	return 0;
}

/* --- the worker's turn (worker.c) and the peer's side --- */

static void turn(unsigned int wait_s)
{
	struct kc_worker *w = W.w;

	kc_ring_turn(&w->ring, kc_proto_ops.pending(w) ? 0 : wait_s);
	kc_conns_process(&w->conns);
	kc_worker_drain_inbox(w);
	kc_proto_ops.after_turn(w);
	kc_conns_flush(&w->conns);
	kc_bufring_publish(&w->bufs);
}

static bool is_answer_type(uint8_t type)
{
	switch (type) {
	case KC_T_REGISTERED:
	case KC_T_KEYS:
	case KC_T_SESSION:
	case KC_T_ACK:
	case KC_T_DELIVER:
	case KC_T_RECEIPT:
	case KC_T_PONG:
	case KC_T_SEAL:
	case KC_T_ERROR:
		return true;
	default:
		return false;
	}
}

/*
 * Raw bytes may name the harness's session too, but never with a MAC
 * that passes: their ACKs say BAD_MAC or UNKNOWN_SESSION, and only those
 * of the sealed SENDs say anything else.
 */
static bool acks_sealed(const struct kc_frame *f)
{
	return f->type == KC_T_ACK &&
	       !memcmp(f->u.ack.sid, fuzz_sid, KC_SID_LEN) &&
	       f->u.ack.status != KC_BAD_MAC &&
	       f->u.ack.status != KC_UNKNOWN_SESSION;
}

/* FUZZ_AGENT_TRACE=1: each answer on stderr, to see what a seed reaches. */
static void trace_answer(const struct kc_frame *f)
{
	if (f->type == KC_T_ACK)
		fprintf(stderr, "answer ACK seq %llu status %u\n",
			(unsigned long long)f->u.ack.seq, f->u.ack.status);
	else if (f->type == KC_T_ERROR)
		fprintf(stderr, "answer ERROR %u\n", f->u.error.code);
	else
		fprintf(stderr, "answer type 0x%02x\n", f->type);
}

/* One frame from the agent: it must decode, and ACKs come in order. */
static void check_answer(struct run *r, const uint8_t *p, size_t len)
{
	struct kc_frame f;

	if (kc_frame_decode(p, len, &f) || !is_answer_type(f.type))
		abort();
	if (getenv("FUZZ_AGENT_TRACE"))
		trace_answer(&f);
	if (!acks_sealed(&f))
		return;
	if (f.u.ack.seq <= r->acked || f.u.ack.seq > r->seq)
		abort();
	r->acked = f.u.ack.seq;
}

static void cut_answers(struct run *r)
{
	size_t at = 0;
	long n;

	while ((n = kc_frame_peek(r->out + at, r->out_len - at, OUT_KEEP)) >
	       0) {
		check_answer(r, r->out + at, (size_t)n);
		at += (size_t)n;
	}
	if (n < 0)
		abort();
	memmove(r->out, r->out + at, r->out_len - at);
	r->out_len -= at;
}

/* Whatever the agent sent so far, without waiting. */
static void read_answers(struct run *r)
{
	while (!r->eof) {
		ssize_t n;

		if (r->out_len == OUT_KEEP)
			abort(); /* no frame of the agent's is this long */
		n = read(r->fd, r->out + r->out_len, OUT_KEEP - r->out_len);
		if (n > 0) {
			r->out_len += (size_t)n;
			cut_answers(r);
		} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			r->eof = true;
		} else if (errno == EAGAIN) {
			return;
		}
	}
}

/* The agent always reads on: a write that never gets through is a hang. */
static void peer_write(struct run *r, const uint8_t *p, size_t len)
{
	uint64_t until = kc_mono_ms() + END_LIMIT_MS;

	while (len) {
		ssize_t n = send(r->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return; /* the agent closed: the rest goes nowhere */
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (kc_mono_ms() > until) {
			abort();
		}
		turn(0);
		read_answers(r);
	}
}

/* The groups this run handed to the committer are all back. */
static void settle(struct run *r)
{
	uint64_t until = kc_mono_ms() + END_LIMIT_MS;

	turn(0);
	read_answers(r);
	while (kc_proto_ops.busy(W.w)) {
		if (kc_mono_ms() > until)
			abort(); /* the committer never gave a group back */
		turn(1);
		read_answers(r);
	}
}

/* A SEND under the harness's session, its plaintext the fuzzer's bytes. */
static void send_sealed(struct run *r, const uint8_t *pt, size_t pt_len)
{
	uint8_t aad[KC_SEQ_AAD_MAX], iv[KC_IV_LEN];
	size_t ct_len = kc_cbc_ct_len(pt_len);
	uint8_t *ct = malloc(ct_len), *frame = NULL;
	struct kc_frame f = { .type = KC_T_SEND };
	struct kc_seal_req req = {
		.session = W.peer_session,
		.aad = aad,
		.iv = iv,
		.pt = pt,
		.pt_len = pt_len,
		.ct = ct,
	};
	size_t len;

	if (!ct)
		return;
	memset(iv, (int)r->seq, sizeof(iv));
	f.u.send =
		(struct kc_send){ .sid = fuzz_sid, .seq = ++r->seq, .iv = iv };
	req.aad_len = kc_seq_aad(aad, KC_LABEL_SEND, fuzz_sid, f.u.send.seq, iv,
				 (uint32_t)ct_len);
	if (kc_seal_batch(W.peer_crypto, &req, 1) || req.status)
		die("sealing a SEND", EIO);
	f.u.send.ct = (struct kc_bytes){ ct, req.ct_len };
	f.u.send.mac = req.mac;
	len = kc_frame_size(&f);
	frame = malloc(len);
	if (frame && kc_frame_encode(&f, frame, len) == len)
		peer_write(r, frame, len);
	free(frame);
	free(ct);
}

/* --- one run --- */

static struct kc_conn *the_connection(void)
{
	struct kc_conn_table *t = &W.w->conns;

	for (uint32_t i = 0; i < t->used; i++)
		if (t->v[i]->state != KC_CONN_FREE)
			return t->v[i];
	return NULL;
}

/* As OPEN_SESSION leaves it (handlers.c), K being the harness's. */
static void open_session(struct kc_conn *c)
{
	struct kc_proto_worker *pw = kc_pw(c);
	struct kc_conn_sessions *l = &kc_peer(c)->sessions;
	struct kc_conn_session *s;

	if (kc_sid_claim(W.p.sids, fuzz_sid))
		abort(); /* an earlier run's session outlived its connection */
	l->v = calloc(1, sizeof(*l->v));
	if (!l->v)
		die("session", ENOMEM);
	l->cap = 1;
	s = &l->v[l->n++];
	memcpy(s->sid, fuzz_sid, KC_SID_LEN);
	s->expires_ms = kc_mono_ms() + W.cfg.session_ttl * 1000ull;
	if (pw->crypto->ops->session_install(pw->crypto, fuzz_sid, W.k,
					     &s->handle))
		die("session install", EIO);
}

static struct kc_conn *connect_peer(struct run *r, uint8_t mode)
{
	int sv[2];
	struct kc_conn *c;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair", errno);
	r->fd = sv[1];
	fcntl(r->fd, F_SETFL, O_NONBLOCK);
	W.loop.conns.tls = mode & 1 ? W.authed : W.unauthed;
	if (kc_conn_accept(&W.w->conns, sv[0]))
		die("accept", EIO);
	c = the_connection();
	if (c && (mode & 3) == 3)
		open_session(c);
	return c;
}

static void play(struct run *r, const uint8_t *data, size_t size)
{
	while (size >= 3) {
		uint8_t op = data[0];
		size_t len = (size_t)data[1] << 8 | data[2];

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		if ((op & 3) == 1)
			send_sealed(r, data, len);
		else if ((op & 3) == 2)
			settle(r);
		else
			peer_write(r, data, len);
		data += len;
		size -= len;
	}
	if (size)
		peer_write(r, data, size);
}

/* The peer closes; the connection must be gone, leaving nothing behind. */
static void hang_up(struct run *r)
{
	uint64_t until = kc_mono_ms() + END_LIMIT_MS;

	shutdown(r->fd, SHUT_WR);
	while (!kc_conns_idle(&W.w->conns) || kc_proto_ops.busy(W.w)) {
		if (kc_mono_ms() > until)
			abort(); /* the connection never ended */
		turn(1);
		read_answers(r);
	}
	read_answers(r);
	if (r->out_len || atomic_load(&W.loop.conns.nconns))
		abort(); /* a torn frame at the end, or a connection counted */
	if (kc_sid_claim(W.p.sids, fuzz_sid))
		abort(); /* the session id outlived its connection */
	kc_sid_release(W.p.sids, fuzz_sid);
	close(r->fd);
}

/* Now and then the log starts over, so it stays a few segments. */
static void maybe_new_log(void)
{
	if (++W.runs % RUNS_PER_LOG)
		return;
	kc_committer_stop(W.p.committer);
	W.p.committer = NULL;
	start_committer();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *out;
	struct run r = { .fd = -1 };

	if (!size)
		return 0;
	if (!out)
		out = malloc(OUT_KEEP);
	if (!out)
		die("output buffer", ENOMEM);
	r.out = out;
	connect_peer(&r, data[0]);
	turn(0);
	play(&r, data + 1, size - 1);
	hang_up(&r);
	maybe_new_log();
	return 0;
}
