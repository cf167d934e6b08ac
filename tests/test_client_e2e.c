// SPDX-License-Identifier: GPL-2.0-only
/*
 * The client side: the end-to-end layer (lib/e2e*.c, PROTOCOL.md section
 * 5), its sealed state (lib/home_store.c), the certificate checks
 * (lib/certcheck.c, lib/peer.c), then the kcourier CLI against a real
 * kcourierd.
 *
 * Unit part: three identities (alice, bob, carol), each with an id
 * certificate from a throwaway CA (tests/lib/testpki.c) and an enc key.
 * The sender key callback goes through the same certificate checks the
 * CLI uses, so a test that hands in the wrong certificate exercises them.
 * Records are made by one kc_e2e and opened by another, in one process;
 * tampering works on the encoded bytes, as the agent would see them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * The 6.12 harness keeps fork()'s result in a local across setjmp; GCC's
 * -Wclobbered flags it in TEST_F wrappers (harness code, not ours).
 */
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wclobbered"
#endif
#include "kselftest_harness.h"

#include "base/b64.h"
#include "crypto/certcheck.h"
#include "crypto/crypto.h"
#include "crypto/crypto_ops.h"
#include "client/e2e.h"
#include "client/home.h"
#include "crypto/keyfile.h"
#include "lib/counter_mark.h"
#include "lib/run_cmd.h"
#include "lib/testpki.h"
#include "client/peer.h"

enum { ALICE, BOB, CAROL, N_IDENT };
static const char *const names[N_IDENT] = { "alice", "bob", "carol" };

struct ident {
	struct testpki_cert cert; /* id certificate and id key */
	EVP_PKEY *id, *enc;
	struct kc_e2e *e;
};

/* What the sender-key callback does, so tests can make it lie or fail. */
struct keysrc {
	struct testpki_cert *ca;
	struct ident *who;
	int swap_to;	  /* >= 0: hand out this identity's certificate */
	bool fail;	  /* no key at all */
	int calls, fresh_calls;
};

static EVP_PKEY *pkcs8_to_pkey(const gnutls_datum_t *der)
{
	const unsigned char *p = der->data;

	return d2i_AutoPrivateKey(NULL, &p, der->size);
}

static int ident_init(struct ident *id, struct kc_crypto *c,
		      struct testpki_cert *ca, const char *name)
{
	int ret;

	ret = testpki_make_client(&id->cert, ca, name);
	if (ret)
		return ret;
	id->id = pkcs8_to_pkey(&id->cert.key_der);
	if (!id->id)
		return -EINVAL;
	ret = kc_rsa_generate(&id->enc);
	if (ret)
		return ret;
	return kc_e2e_create(c, name, id->id, id->enc, &id->e);
}

static void ident_fini(struct ident *id)
{
	kc_e2e_free(id->e);
	EVP_PKEY_free(id->id);
	EVP_PKEY_free(id->enc);
	testpki_free(&id->cert);
}

/* The CLI's check: certificate from the CA with CN = sender, then its key. */
static int key_from_cert(void *arg, const char *sender, bool fresh,
			 EVP_PKEY **pub)
{
	struct keysrc *ks = arg;
	char why[KC_CERT_WHY_MAX];
	struct kc_bytes ca = { ks->ca->der.data, ks->ca->der.size };
	struct kc_bytes cert;
	int i;

	ks->calls++;
	ks->fresh_calls += fresh;
	if (ks->fail)
		return -ENOENT;
	for (i = 0; i < N_IDENT && strcmp(names[i], sender); i++)
		;
	if (i == N_IDENT)
		return -ENOENT;
	if (ks->swap_to >= 0)
		i = ks->swap_to;
	cert = (struct kc_bytes){ ks->who[i].cert.der.data,
				  ks->who[i].cert.der.size };
	if (kc_cert_check(cert, ca, KC_CERT_CLIENT, sender, why))
		return -EKEYREJECTED;
	return kc_cert_public_key(cert, pub);
}

static struct kc_bytes id_of(int who)
{
	return (struct kc_bytes){ (const uint8_t *)names[who],
				  strlen(names[who]) };
}

FIXTURE(e2e)
{
	struct kc_crypto *c;
	struct testpki_cert ca;
	struct ident p[N_IDENT];
	struct keysrc ks;
	uint64_t now;
};

FIXTURE_SETUP(e2e)
{
	int i;

	memset(self, 0, sizeof(*self));
	ASSERT_EQ(0, kc_crypto_open("user", &self->c));
	ASSERT_EQ(0, testpki_make_ca(&self->ca, "kcourier test CA"));
	for (i = 0; i < N_IDENT; i++)
		ASSERT_EQ(0, ident_init(&self->p[i], self->c, &self->ca,
					names[i]));
	self->ks = (struct keysrc){ .ca = &self->ca, .who = self->p,
				    .swap_to = -1 };
	self->now = 1700000000000ull;
}

FIXTURE_TEARDOWN(e2e)
{
	int i;

	for (i = 0; i < N_IDENT; i++)
		ident_fini(&self->p[i]);
	testpki_free(&self->ca);
	kc_crypto_close(self->c);
}

/* Helpers that keep the tests to what they check. */

struct rec {
	uint8_t *p;
	size_t len;
};

static void rec_free(struct rec *r)
{
	free(r->p);
	r->p = NULL;
}

static int start(FIXTURE_DATA(e2e) *self, int from, int to, struct rec *init)
{
	return kc_e2e_start(self->p[from].e, names[to], self->p[to].enc,
			    self->now, &init->p, &init->len);
}

static int seal(FIXTURE_DATA(e2e) *self, int from, int to, const char *text,
		struct rec *msg)
{
	return kc_e2e_seal(self->p[from].e, names[to], (const uint8_t *)text,
			   strlen(text), &msg->p, &msg->len);
}

/* Opens as `to` a record delivered "from" someone; returns the verdict. */
static int open_as(FIXTURE_DATA(e2e) *self, int to, int from,
		   const struct rec *r, char *text, size_t cap)
{
	uint8_t *pt = NULL;
	size_t pt_len = 0;
	int ret;

	ret = kc_e2e_open(self->p[to].e, id_of(from), r->p, r->len,
			  key_from_cert, &self->ks, &pt, &pt_len);
	if (text && cap) {
		snprintf(text, cap, "%.*s", (int)pt_len, pt ? (char *)pt : "");
	}
	if (pt) {
		explicit_bzero(pt, pt_len);
		free(pt);
	}
	return ret;
}

/* Decoded view of a record, to build tampered variants. */
static struct kc_inner decode(const struct rec *r)
{
	struct kc_inner in;

	memset(&in, 0, sizeof(in));
	kc_inner_decode(r->p, r->len, &in);
	return in;
}

/* Re-signs a (modified) SESSION_INIT with the sender's id key. */
static int resign(FIXTURE_DATA(e2e) *self, int from, struct rec *r)
{
	struct kc_inner in = decode(r);
	uint8_t msg[1024];
	size_t len = kc_e2e_init_sig_msg(msg, sizeof(msg), &in.u.init);

	if (!len)
		return -EINVAL;
	return kc_pss_sign(self->p[from].id, msg, len,
			   (uint8_t *)in.u.init.sig);
}

/* Offset of a field inside an encoded record. */
static size_t off_of(const struct rec *r, const void *field)
{
	return (const uint8_t *)field - r->p;
}

TEST_F(e2e, roundtrip)
{
	struct rec init = { 0 }, m1 = { 0 }, m2 = { 0 };
	char text[64];

	ASSERT_TRUE(kc_e2e_needs_init(self->p[ALICE].e, "bob", self->now));
	ASSERT_EQ(0, start(self, ALICE, BOB, &init));
	ASSERT_FALSE(kc_e2e_needs_init(self->p[ALICE].e, "bob", self->now));
	ASSERT_EQ(0, seal(self, ALICE, BOB, "hello bob", &m1));
	ASSERT_EQ(0, seal(self, ALICE, BOB, "", &m2));
	EXPECT_EQ(KC_INNER_SESSION_INIT, init.p[0]);
	EXPECT_EQ(KC_INNER_MESSAGE, m1.p[0]);
	EXPECT_EQ(1, decode(&m1).u.msg.seq);
	EXPECT_EQ(2, decode(&m2).u.msg.seq);
	EXPECT_EQ(0, memcmp(decode(&init).u.init.sid, decode(&m1).u.msg.sid,
			    KC_SID_LEN));

	EXPECT_EQ(KC_E2E_SESSION_OPENED,
		  open_as(self, BOB, ALICE, &init, NULL, 0));
	EXPECT_EQ(KC_E2E_MESSAGE,
		  open_as(self, BOB, ALICE, &m1, text, sizeof(text)));
	EXPECT_STREQ("hello bob", text);
	EXPECT_EQ(KC_E2E_MESSAGE,
		  open_as(self, BOB, ALICE, &m2, text, sizeof(text)));
	EXPECT_STREQ("", text);
	EXPECT_EQ(1, self->ks.calls);
	rec_free(&init);
	rec_free(&m1);
	rec_free(&m2);
}

TEST_F(e2e, no_session_no_seal)
{
	struct rec m = { 0 };

	EXPECT_EQ(-ENOENT, seal(self, ALICE, BOB, "x", &m));
	EXPECT_EQ(NULL, m.p);
	EXPECT_EQ(-EINVAL, kc_e2e_start(self->p[ALICE].e, "Not-An-Id",
					self->p[BOB].enc, self->now, &m.p,
					&m.len));
}

TEST_F(e2e, wrong_recipient)
{
	struct rec init = { 0 }, m = { 0 };

	ASSERT_EQ(0, start(self, ALICE, BOB, &init));
	ASSERT_EQ(0, seal(self, ALICE, BOB, "for bob", &m));
	/* Carol got bob's records (a misrouting agent). */
	EXPECT_EQ(KC_E2E_NOT_FOR_ME, open_as(self, CAROL, ALICE, &init,
					     NULL, 0));
	EXPECT_EQ(KC_E2E_UNKNOWN_SESSION, open_as(self, CAROL, ALICE, &m,
						  NULL, 0));
	EXPECT_EQ(0, self->ks.calls);
	rec_free(&init);
	rec_free(&m);
}

TEST_F(e2e, wrong_sender)
{
	struct rec init = { 0 }, m = { 0 };

	ASSERT_EQ(0, start(self, ALICE, BOB, &init));
	ASSERT_EQ(0, seal(self, ALICE, BOB, "from alice", &m));
	/* Carol replays alice's SESSION_INIT as her own. */
	EXPECT_EQ(KC_E2E_WRONG_SENDER, open_as(self, BOB, CAROL, &init,
					       NULL, 0));
	ASSERT_EQ(KC_E2E_SESSION_OPENED, open_as(self, BOB, ALICE, &init,
						 NULL, 0));
	/* ... and alice's message inside alice's session. */
	EXPECT_EQ(KC_E2E_WRONG_SENDER, open_as(self, BOB, CAROL, &m, NULL, 0));
	EXPECT_EQ(KC_E2E_MESSAGE, open_as(self, BOB, ALICE, &m, NULL, 0));
	rec_free(&init);
	rec_free(&m);
}

TEST_F(e2e, bad_signature)
{
	struct rec init = { 0 };
	struct kc_inner in;

	ASSERT_EQ(0, start(self, ALICE, BOB, &init));
	in = decode(&init);
	init.p[off_of(&init, in.u.init.sig) + 100] ^= 0x01;
	EXPECT_EQ(KC_E2E_BAD_SIGNATURE, open_as(self, BOB, ALICE, &init,
						NULL, 0));
	/* A bad signature is retried once with a fresh key. */
	EXPECT_EQ(2, self->ks.calls);
	EXPECT_EQ(1, self->ks.fresh_calls);
	init.p[off_of(&init, in.u.init.sig) + 100] ^= 0x01;

	/* Signed data changed after signing: created_ms. */
	init.p[off_of(&init, in.u.init.wrapped) - 1] ^= 0x01;
	EXPECT_EQ(KC_E2E_BAD_SIGNATURE, open_as(self, BOB, ALICE, &init,
						NULL, 0));
	init.p[off_of(&init, in.u.init.wrapped) - 1] ^= 0x01;

	/* Carol's certificate offered for alice fails the CN check. */
	self->ks.swap_to = CAROL;
	EXPECT_EQ(KC_E2E_NO_KEY, open_as(self, BOB, ALICE, &init, NULL, 0));
	self->ks.swap_to = -1;
	self->ks.fail = true;
	EXPECT_EQ(KC_E2E_NO_KEY, open_as(self, BOB, ALICE, &init, NULL, 0));
	self->ks.fail = false;

	/* Nothing above left a session behind: the real one still opens. */
	EXPECT_EQ(KC_E2E_SESSION_OPENED, open_as(self, BOB, ALICE, &init,
						 NULL, 0));
	rec_free(&init);
}

TEST_F(e2e, signed_by_someone_else)
{
	struct rec init = { 0 };
	struct kc_inner in;

	/* Carol signs a SESSION_INIT that claims to come from alice. */
	ASSERT_EQ(0, start(self, CAROL, BOB, &init));
	in = decode(&init);
	/* "carol" -> "alice": same length, so offsets hold. */
	memcpy(init.p + off_of(&init, in.u.init.sender.p), "alice", 5);
	ASSERT_EQ(0, resign(self, CAROL, &init));
	EXPECT_EQ(KC_E2E_BAD_SIGNATURE, open_as(self, BOB, ALICE, &init,
						NULL, 0));
	rec_free(&init);
}

TEST_F(e2e, replay)
{
	struct rec init = { 0 }, m1 = { 0 }, m2 = { 0 };

	ASSERT_EQ(0, start(self, ALICE, BOB, &init));
	ASSERT_EQ(0, seal(self, ALICE, BOB, "one", &m1));
	ASSERT_EQ(0, seal(self, ALICE, BOB, "two", &m2));
	ASSERT_EQ(KC_E2E_SESSION_OPENED, open_as(self, BOB, ALICE, &init,
						 NULL, 0));
	EXPECT_EQ(KC_E2E_SESSION_REUSED, open_as(self, BOB, ALICE, &init,
						 NULL, 0));
	EXPECT_EQ(KC_E2E_MESSAGE, open_as(self, BOB, ALICE, &m2, NULL, 0));
	/* Older than the highest accepted, even if never seen. */
	EXPECT_EQ(KC_E2E_REPLAY, open_as(self, BOB, ALICE, &m1, NULL, 0));
	EXPECT_EQ(KC_E2E_REPLAY, open_as(self, BOB, ALICE, &m2, NULL, 0));
	rec_free(&init);
	rec_free(&m1);
	rec_free(&m2);
}

TEST_F(e2e, tampered)
{
	struct rec init = { 0 }, m = { 0 };
	struct kc_inner in;
	size_t offs[4], i;
	char text[32];

	ASSERT_EQ(0, start(self, ALICE, BOB, &init));
	ASSERT_EQ(0, seal(self, ALICE, BOB, "sixteen bytes!!!", &m));
	ASSERT_EQ(KC_E2E_SESSION_OPENED, open_as(self, BOB, ALICE, &init,
						 NULL, 0));
	in = decode(&m);
	offs[0] = off_of(&m, in.u.msg.mac) + 31;
	offs[1] = off_of(&m, in.u.msg.ct.p);
	offs[2] = off_of(&m, in.u.msg.iv) + 5;
	offs[3] = off_of(&m, in.u.msg.iv) - 1; /* seq's low byte */
	for (i = 0; i < 4; i++) {
		m.p[offs[i]] ^= 0x40;
		EXPECT_EQ(KC_E2E_BAD_MAC, open_as(self, BOB, ALICE, &m, NULL,
						  0))
			TH_LOG("byte at offset %zu", offs[i]);
		m.p[offs[i]] ^= 0x40;
	}
	/* Truncated record: no longer decodes. */
	m.len--;
	EXPECT_EQ(KC_E2E_MALFORMED, open_as(self, BOB, ALICE, &m, NULL, 0));
	m.len++;
	m.p[0] = 9;
	EXPECT_EQ(KC_E2E_MALFORMED, open_as(self, BOB, ALICE, &m, NULL, 0));
	m.p[0] = KC_INNER_MESSAGE;
	/* No failed attempt advanced the session. */
	EXPECT_EQ(KC_E2E_MESSAGE, open_as(self, BOB, ALICE, &m, text,
					  sizeof(text)));
	EXPECT_STREQ("sixteen bytes!!!", text);
	rec_free(&init);
	rec_free(&m);
}

TEST_F(e2e, message_before_init)
{
	struct rec init = { 0 }, m = { 0 };

	ASSERT_EQ(0, start(self, ALICE, BOB, &init));
	ASSERT_EQ(0, seal(self, ALICE, BOB, "early", &m));
	EXPECT_EQ(KC_E2E_UNKNOWN_SESSION, open_as(self, BOB, ALICE, &m, NULL,
						  0));
	rec_free(&init);
	rec_free(&m);
}

/* Garbage wrapped key, validly signed: accepted, and then every MAC fails. */
TEST_F(e2e, bad_wrap_fails_at_mac)
{
	struct rec init = { 0 }, m = { 0 };
	struct kc_inner in;

	ASSERT_EQ(0, start(self, ALICE, BOB, &init));
	ASSERT_EQ(0, seal(self, ALICE, BOB, "lost", &m));
	in = decode(&init);
	memset((uint8_t *)in.u.init.wrapped, 0x5a, KC_RSA_LEN);
	ASSERT_EQ(0, resign(self, ALICE, &init));
	EXPECT_EQ(KC_E2E_SESSION_OPENED, open_as(self, BOB, ALICE, &init,
						 NULL, 0));
	EXPECT_EQ(KC_E2E_BAD_MAC, open_as(self, BOB, ALICE, &m, NULL, 0));
	rec_free(&init);
	rec_free(&m);
}

TEST_F(e2e, rotation_after_1000_messages)
{
	struct rec init1 = { 0 }, init2 = { 0 }, m = { 0 };
	int i, opened = 0;

	ASSERT_EQ(0, start(self, ALICE, BOB, &init1));
	ASSERT_EQ(KC_E2E_SESSION_OPENED, open_as(self, BOB, ALICE, &init1,
						 NULL, 0));
	for (i = 1; i <= KC_E2E_ROTATE_MSGS; i++) {
		ASSERT_FALSE(kc_e2e_needs_init(self->p[ALICE].e, "bob",
					       self->now));
		ASSERT_EQ(0, seal(self, ALICE, BOB, "m", &m));
		ASSERT_EQ(i, decode(&m).u.msg.seq);
		opened += open_as(self, BOB, ALICE, &m, NULL, 0) ==
			  KC_E2E_MESSAGE;
		rec_free(&m);
	}
	EXPECT_EQ(KC_E2E_ROTATE_MSGS, opened);
	ASSERT_TRUE(kc_e2e_needs_init(self->p[ALICE].e, "bob", self->now));
	ASSERT_EQ(0, start(self, ALICE, BOB, &init2));
	EXPECT_NE(0, memcmp(decode(&init1).u.init.sid,
			    decode(&init2).u.init.sid, KC_SID_LEN));
	ASSERT_EQ(0, seal(self, ALICE, BOB, "after", &m));
	EXPECT_EQ(1, decode(&m).u.msg.seq);
	EXPECT_EQ(KC_E2E_SESSION_OPENED, open_as(self, BOB, ALICE, &init2,
						 NULL, 0));
	EXPECT_EQ(KC_E2E_MESSAGE, open_as(self, BOB, ALICE, &m, NULL, 0));
	rec_free(&init1);
	rec_free(&init2);
	rec_free(&m);
}

TEST_F(e2e, rotation_after_a_day)
{
	struct rec init = { 0 };
	struct kc_e2e *a = self->p[ALICE].e;

	ASSERT_EQ(0, start(self, ALICE, BOB, &init));
	EXPECT_FALSE(kc_e2e_needs_init(a, "bob",
				       self->now + KC_E2E_ROTATE_MS - 1));
	EXPECT_TRUE(kc_e2e_needs_init(a, "bob", self->now + KC_E2E_ROTATE_MS));
	/* A clock that went back cannot vouch for the session's age. */
	EXPECT_TRUE(kc_e2e_needs_init(a, "bob", self->now - 1));
	EXPECT_TRUE(kc_e2e_needs_init(a, "carol", self->now));
	kc_e2e_forget(a, "bob");
	EXPECT_TRUE(kc_e2e_needs_init(a, "bob", self->now));
	rec_free(&init);
}

/* Old sessions beyond the per-sender limit leave a floor behind. */
TEST_F(e2e, pruned_session_cannot_come_back)
{
	struct rec first = { 0 }, r = { 0 };
	int i;

	ASSERT_EQ(0, start(self, ALICE, BOB, &first));
	ASSERT_EQ(KC_E2E_SESSION_OPENED, open_as(self, BOB, ALICE, &first,
						 NULL, 0));
	for (i = 1; i <= KC_E2E_IN_PER_SENDER; i++) {
		self->now += 1000;
		ASSERT_EQ(0, start(self, ALICE, BOB, &r));
		ASSERT_EQ(KC_E2E_SESSION_OPENED,
			  open_as(self, BOB, ALICE, &r, NULL, 0));
		rec_free(&r);
	}
	/* The first was dropped; its init must not be accepted again. */
	EXPECT_EQ(KC_E2E_SESSION_REUSED, open_as(self, BOB, ALICE, &first,
						 NULL, 0));
	rec_free(&first);
}

TEST_F(e2e, duplicates_by_sender_and_msg_id)
{
	uint8_t id1[KC_MSGID_LEN], id2[KC_MSGID_LEN];
	struct kc_e2e *b = self->p[BOB].e;
	int i;

	kc_random(id1, sizeof(id1));
	memcpy(id2, id1, sizeof(id2));
	id2[15] ^= 1;
	EXPECT_FALSE(kc_e2e_seen(b, id_of(ALICE), id1));
	kc_e2e_remember(b, id_of(ALICE), id1);
	EXPECT_TRUE(kc_e2e_seen(b, id_of(ALICE), id1));
	EXPECT_FALSE(kc_e2e_seen(b, id_of(CAROL), id1));
	EXPECT_FALSE(kc_e2e_seen(b, id_of(ALICE), id2));
	/* The window is bounded: the oldest entry falls out. */
	for (i = 0; i < KC_E2E_SEEN_MAX; i++) {
		kc_random(id2, sizeof(id2));
		kc_e2e_remember(b, id_of(CAROL), id2);
	}
	EXPECT_FALSE(kc_e2e_seen(b, id_of(ALICE), id1));
	EXPECT_TRUE(kc_e2e_seen(b, id_of(CAROL), id2));
}

/* Export, import into fresh instances, and carry on where we were. */
TEST_F(e2e, state_roundtrip)
{
	struct rec init = { 0 }, m1 = { 0 }, m2 = { 0 };
	uint8_t msg_id[KC_MSGID_LEN];
	struct kc_e2e *a2 = NULL, *b2 = NULL;
	json_t *out = NULL, *in = NULL;
	char text[32];

	ASSERT_EQ(0, start(self, ALICE, BOB, &init));
	ASSERT_EQ(0, seal(self, ALICE, BOB, "one", &m1));
	ASSERT_EQ(KC_E2E_SESSION_OPENED, open_as(self, BOB, ALICE, &init,
						 NULL, 0));
	ASSERT_EQ(KC_E2E_MESSAGE, open_as(self, BOB, ALICE, &m1, NULL, 0));
	kc_random(msg_id, sizeof(msg_id));
	kc_e2e_remember(self->p[BOB].e, id_of(ALICE), msg_id);

	ASSERT_EQ(0, kc_e2e_export_out(self->p[ALICE].e, &out));
	ASSERT_EQ(0, kc_e2e_export_in(self->p[BOB].e, &in));
	/* Each half refuses the other's document. */
	ASSERT_EQ(0, kc_e2e_create(self->c, "alice", self->p[ALICE].id,
				   self->p[ALICE].enc, &a2));
	ASSERT_EQ(0, kc_e2e_create(self->c, "bob", self->p[BOB].id,
				   self->p[BOB].enc, &b2));
	EXPECT_EQ(-EBADMSG, kc_e2e_import_in(b2, out));
	EXPECT_EQ(-EBADMSG, kc_e2e_import_out(a2, in));
	ASSERT_EQ(0, kc_e2e_import_out(a2, out));
	ASSERT_EQ(0, kc_e2e_import_in(b2, in));

	EXPECT_FALSE(kc_e2e_needs_init(a2, "bob", self->now));
	ASSERT_EQ(0, kc_e2e_seal(a2, "bob", (const uint8_t *)"two", 3, &m2.p,
				 &m2.len));
	EXPECT_EQ(2, decode(&m2).u.msg.seq);
	self->p[BOB].e = b2;
	EXPECT_EQ(KC_E2E_REPLAY, open_as(self, BOB, ALICE, &m1, NULL, 0));
	EXPECT_EQ(KC_E2E_SESSION_REUSED, open_as(self, BOB, ALICE, &init,
						 NULL, 0));
	EXPECT_EQ(KC_E2E_MESSAGE, open_as(self, BOB, ALICE, &m2, text,
					  sizeof(text)));
	EXPECT_STREQ("two", text);
	EXPECT_TRUE(kc_e2e_seen(b2, id_of(ALICE), msg_id));
	self->p[BOB].e = NULL;

	kc_e2e_json_free(out);
	kc_e2e_json_free(in);
	kc_e2e_free(a2);
	kc_e2e_free(b2);
	rec_free(&init);
	rec_free(&m1);
	rec_free(&m2);
}

TEST_F(e2e, state_import_rejects_damage)
{
	struct rec init = { 0 };
	json_t *out = NULL, *s;
	struct kc_e2e *a2 = NULL;

	ASSERT_EQ(0, start(self, ALICE, BOB, &init));
	ASSERT_EQ(0, kc_e2e_export_out(self->p[ALICE].e, &out));
	ASSERT_EQ(0, kc_e2e_create(self->c, "alice", self->p[ALICE].id,
				   self->p[ALICE].enc, &a2));
	s = json_array_get(json_object_get(out, "sessions"), 0);
	ASSERT_NE(NULL, s);
	/* A key one byte short. */
	json_object_set_new(s, "k", json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="));
	EXPECT_EQ(-EBADMSG, kc_e2e_import_out(a2, out));
	json_object_set_new(s, "k", json_string("not base64"));
	EXPECT_EQ(-EBADMSG, kc_e2e_import_out(a2, out));
	kc_e2e_json_free(out);
	kc_e2e_free(a2);
	rec_free(&init);
}

/* The sealed state file: nothing of K readable, and it opens again. */
TEST_F(e2e, sealed_state_file)
{
	char dir[] = "/tmp/kc-home-XXXXXX", path[4200];
	struct rec init = { 0 };
	struct kc_home h = { 0 };
	unsigned char *der = NULL;
	json_t *out = NULL, *back = NULL, *k;
	kc_handle_t unwrap = KC_HANDLE_NONE;
	uint8_t *file = NULL;
	size_t der_len = 0, file_len = 0;

	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, kc_home_create(&h, dir));
	ASSERT_EQ(0, start(self, ALICE, BOB, &init));
	ASSERT_EQ(0, kc_e2e_export_out(self->p[ALICE].e, &out));
	k = json_object_get(json_array_get(json_object_get(out, "sessions"),
					   0),
			    "k");
	ASSERT_TRUE(json_is_string(k));
	ASSERT_EQ(0, kc_home_state_save(&h, KC_HOME_STATE_OUT, self->c,
					self->p[ALICE].enc, out));
	ASSERT_EQ(0, kc_home_read(&h, KC_HOME_STATE_OUT, 1 << 20, &file,
				  &file_len));
	EXPECT_EQ(NULL, memmem(file, file_len, json_string_value(k),
			       json_string_length(k)));
	EXPECT_EQ(NULL, memmem(file, file_len, "\"sessions\"", 10));

	ASSERT_EQ(0, kc_key_pkcs8_der(self->p[ALICE].enc, &der, &der_len));
	ASSERT_EQ(0, self->c->ops->load_unwrap_key(self->c, der, der_len,
						   &unwrap));
	ASSERT_EQ(0, kc_home_state_load(&h, KC_HOME_STATE_OUT, self->c,
					unwrap, &back));
	EXPECT_TRUE(json_equal(out, back));
	EXPECT_EQ(-ENOENT, kc_home_state_load(&h, KC_HOME_STATE_IN, self->c,
					      unwrap, &back));
	ASSERT_EQ(0, kc_home_path(&h, KC_HOME_STATE_OUT, path, sizeof(path)));
	unlink(path);
	rmdir(dir);
	OPENSSL_clear_free(der, der_len);
	free(file);
	kc_e2e_json_free(out);
	kc_e2e_json_free(back);
	kc_home_release(&h);
	rec_free(&init);
}

/* LOOKUP results: certificate chain, CN, enc_sig (lib/peer.c). */
TEST_F(e2e, peer_checks)
{
	struct testpki_cert other_ca = { 0 }, imposter = { 0 };
	struct kc_bytes ca = { self->ca.der.data, self->ca.der.size };
	struct kc_bytes cert = { self->p[BOB].cert.der.data,
				 self->p[BOB].cert.der.size };
	uint8_t *spki = NULL, sig[KC_RSA_LEN], msg[1024];
	struct kc_peer p = { 0 };
	size_t spki_len = 0, len;

	ASSERT_EQ(0, kc_spki_der(self->p[BOB].enc, &spki, &spki_len));
	len = kc_enc_sig_msg(msg, sizeof(msg), id_of(BOB),
			     (struct kc_bytes){ spki, spki_len });
	ASSERT_NE(0, len);
	ASSERT_EQ(0, kc_pss_sign(self->p[BOB].id, msg, len, sig));

	ASSERT_EQ(0, kc_peer_set(&p, "bob", cert,
				 (struct kc_bytes){ spki, spki_len },
				 (struct kc_bytes){ sig, sizeof(sig) }));
	EXPECT_EQ(0, kc_peer_verify(&p, ca));
	EXPECT_TRUE(p.cert_ok && p.enc_sig_ok);

	/* enc_sig made by someone else's id key. */
	ASSERT_EQ(0, kc_pss_sign(self->p[CAROL].id, msg, len, p.enc_sig));
	EXPECT_EQ(-EKEYREJECTED, kc_peer_verify(&p, ca));
	EXPECT_TRUE(p.cert_ok);
	EXPECT_FALSE(p.enc_sig_ok);
	kc_peer_clear(&p);

	/* Bob's certificate presented as carol's. */
	ASSERT_EQ(0, kc_peer_set(&p, "carol", cert,
				 (struct kc_bytes){ spki, spki_len },
				 (struct kc_bytes){ sig, sizeof(sig) }));
	EXPECT_EQ(-EKEYREJECTED, kc_peer_verify(&p, ca));
	EXPECT_FALSE(p.cert_ok);
	TH_LOG("why: %s", p.why);
	kc_peer_clear(&p);

	/* A "bob" certificate from another CA. */
	ASSERT_EQ(0, testpki_make_ca(&other_ca, "other CA"));
	ASSERT_EQ(0, testpki_make_client(&imposter, &other_ca, "bob"));
	ASSERT_EQ(0, kc_peer_set(&p, "bob",
				 (struct kc_bytes){ imposter.der.data,
						    imposter.der.size },
				 (struct kc_bytes){ spki, spki_len },
				 (struct kc_bytes){ sig, sizeof(sig) }));
	EXPECT_EQ(-EKEYREJECTED, kc_peer_verify(&p, ca));
	EXPECT_FALSE(p.cert_ok);
	kc_peer_clear(&p);

	/* A server certificate is not an id certificate. */
	testpki_free(&imposter);
	ASSERT_EQ(0, testpki_make_server(&imposter, &self->ca, "bob"));
	EXPECT_EQ(-EKEYREJECTED,
		  kc_cert_check((struct kc_bytes){ imposter.der.data,
						   imposter.der.size },
				ca, KC_CERT_CLIENT, "bob", NULL));
	testpki_free(&imposter);
	testpki_free(&other_ca);
	OPENSSL_free(spki);
}

/*
 * The CLI against a real agent: kcourierd init, tokens and run in a
 * temporary directory, then alice and bob registered through
 * `kcourier register`. Commands run as child processes with their output
 * captured in memfds; waiting (for the agent to listen, for a follower to
 * print) is bounded but never asserted on.
 */

#define PASSPHRASE "kcourier test passphrase"
#define N_TOKENS 4
#define WAIT_MS 30000

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static bool port_open(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof(a));
	if (fd >= 0)
		close(fd);
	return ok;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	return remove(path);
}

static bool kcourierd_runs(char *why, size_t cap)
{
	struct result r;
	char path[4096];

	snprintf(path, sizeof(path), "%s/kcourierd", getenv("KC_BIN"));
	if (access(path, X_OK)) {
		snprintf(why, cap, "kcourierd not built in KC_BIN");
		return false;
	}
	if (run(&r, NULL, "kcourierd", "run", "--help", NULL) || r.status) {
		snprintf(why, cap, "kcourierd has no 'run' command yet");
		result_free(&r);
		return false;
	}
	result_free(&r);
	return true;
}

FIXTURE(cli)
{
	char dir[64];
	char agent_dir[128], alice[128], bob[128], addr[32];
	char pin[80];
	char tokens[N_TOKENS][80];
	pid_t agent;
};

/* Splits text into at most max lines of width bytes each (cut to fit). */
static int split_lines(const char *text, char *lines, size_t width, int max)
{
	int n = 0;

	while (n < max && text && *text) {
		const char *nl = strchrnul(text, '\n');

		snprintf(lines + n++ * width, width, "%.*s", (int)(nl - text),
			 text);
		text = *nl ? nl + 1 : nl;
	}
	return n;
}

#define read_lines(text, lines, max) \
	split_lines(text, (char *)(lines), sizeof((lines)[0]), max)

static pid_t start_agent(FIXTURE_DATA(cli) *self)
{
	char log[160], path[4096];
	char *argv[] = { path, "run", "--dir", self->agent_dir, NULL };
	int fd, devnull = open("/dev/null", O_RDONLY);
	pid_t pid;

	snprintf(path, sizeof(path), "%s/kcourierd", getenv("KC_BIN"));
	snprintf(log, sizeof(log), "%s/agent.log", self->dir);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	pid = spawn(argv, devnull, fd, fd);
	close(fd);
	close(devnull);
	return pid;
}

/* Bounded wait until the agent accepts connections (or died). */
static bool agent_ready(FIXTURE_DATA(cli) *self, int port)
{
	int waited;

	for (waited = 0; waited < WAIT_MS; waited += 50) {
		if (port_open(port))
			return true;
		if (waitpid(self->agent, NULL, WNOHANG) == self->agent) {
			self->agent = 0;
			return false;
		}
		sleep_ms(50);
	}
	return false;
}

static int do_register(FIXTURE_DATA(cli) *self, const char *home,
		       const char *id, const char *token, struct result *r)
{
	return run(r, NULL, "kcourier", "--home", home, "register", "--agent",
		   self->addr, "--ca-fingerprint", self->pin, "--token", token,
		   "--id", id, NULL);
}

FIXTURE_SETUP(cli)
{
	char why[256], listen[32];
	struct result r;
	int port;

	self->agent = 0;
	if (!getenv("KC_BIN"))
		SKIP(return, "KC_BIN not set (run through tests/run-tests.sh)");
	if (!kcourierd_runs(why, sizeof(why)))
		SKIP(return, "%s", why);
	setenv("KCOURIER_PASSPHRASE", PASSPHRASE, 1);
	unsetenv("KCOURIERD_PASSPHRASE");
	strcpy(self->dir, "/tmp/kc-cli-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->agent_dir, sizeof(self->agent_dir), "%s/agent", self->dir);
	snprintf(self->alice, sizeof(self->alice), "%s/alice", self->dir);
	snprintf(self->bob, sizeof(self->bob), "%s/bob", self->dir);
	port = free_port();
	ASSERT_GT(port, 0);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	strcpy(self->addr, listen);

	ASSERT_EQ(0, run(&r, NULL, "kcourierd", "init", "--dir",
			 self->agent_dir, "--listen", listen, NULL));
	ASSERT_EQ(0, r.status) TH_LOG("init: %s", r.err);
	ASSERT_EQ(1, read_lines(r.out, &self->pin, 1));
	ASSERT_EQ(64, strlen(self->pin));
	result_free(&r);
	ASSERT_EQ(0, run(&r, NULL, "kcourierd", "token", "--dir",
			 self->agent_dir, "--count", "4", NULL));
	ASSERT_EQ(0, r.status) TH_LOG("token: %s", r.err);
	ASSERT_EQ(N_TOKENS, read_lines(r.out, self->tokens, N_TOKENS));
	result_free(&r);

	self->agent = start_agent(self);
	ASSERT_GT(self->agent, 0);
	ASSERT_TRUE(agent_ready(self, port));

	ASSERT_EQ(0, do_register(self, self->alice, "alice", self->tokens[0], &r));
	ASSERT_EQ(0, r.status) TH_LOG("register alice: %s", r.err);
	result_free(&r);
	ASSERT_EQ(0, do_register(self, self->bob, "bob", self->tokens[1], &r));
	ASSERT_EQ(0, r.status) TH_LOG("register bob: %s", r.err);
	result_free(&r);
}

/* A failed test shows what the agent said. */
static void show_agent_log(struct __test_metadata *_metadata,
			   FIXTURE_DATA(cli) *self)
{
	char path[160], *log;
	size_t len = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/agent.log", self->dir);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	log = read_fd_all(fd, &len);
	TH_LOG("agent log:\n%s", log ? log : "");
	free(log);
	close(fd);
}

FIXTURE_TEARDOWN(cli)
{
	if (self->agent > 0) {
		kill(self->agent, SIGTERM);
		waitpid(self->agent, NULL, 0);
	}
	if (self->dir[0] && _metadata->exit_code != KSFT_PASS)
		show_agent_log(_metadata, self);
	if (self->dir[0])
		nftw(self->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int send_text(FIXTURE_DATA(cli) *self, const char *home, const char *to,
		     const char *text, struct result *r)
{
	return run(r, NULL, "kcourier", "--home", home, "send", to, text,
		   NULL);
}

static int recv_json(const char *home, const char *count, struct result *r)
{
	return run(r, NULL, "kcourier", "--home", home, "recv", "--json",
		   "--count", count, "--timeout", "5", NULL);
}

/* One --json line: checks the members and returns the decoded body. */
static int parse_message(const char *line, char *from, char *msg_id,
			 uint8_t *body, size_t *body_len, uint64_t *stored)
{
	const char *f, *id, *b64;
	json_int_t at;
	json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
	int ret = -1;

	if (o && !json_unpack(o, "{s:s, s:s, s:I, s:s !}", "from", &f,
			      "msg_id", &id, "stored_at_ms", &at, "body_b64",
			      &b64) &&
	    !kc_b64_decode(b64, strlen(b64), body, body_len)) {
		strcpy(from, f);
		strcpy(msg_id, id);
		*stored = (uint64_t)at;
		ret = 0;
	}
	json_decref(o);
	return ret;
}

TEST_F_TIMEOUT(cli, both_ways, 300)
{
	char from[80], id[80];
	uint8_t body[256];
	size_t len;
	uint64_t at;
	struct result s, r;

	ASSERT_EQ(0, send_text(self, self->alice, "bob", "hello bob", &s));
	ASSERT_EQ(0, s.status) TH_LOG("%s", s.err);
	ASSERT_EQ(33, s.out_len); /* 32 hex digits and a newline */
	ASSERT_EQ(0, recv_json(self->bob, "1", &r));
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	ASSERT_EQ(0, parse_message(r.out, from, id, body, &len, &at));
	EXPECT_STREQ("alice", from);
	EXPECT_EQ(0, strncmp(s.out, id, 32));
	EXPECT_EQ(9, len);
	EXPECT_EQ(0, memcmp(body, "hello bob", 9));
	EXPECT_GT(at, 1600000000000ull);
	result_free(&s);
	result_free(&r);

	ASSERT_EQ(0, send_text(self, self->bob, "alice", "hi alice", &s));
	ASSERT_EQ(0, s.status) TH_LOG("%s", s.err);
	/* Plain output: the body as it is, the header on stderr. */
	ASSERT_EQ(0, run(&r, NULL, "kcourier", "--home", self->alice, "recv",
			 "--count", "1", "--timeout", "5", NULL));
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_STREQ("hi alice\n", r.out);
	EXPECT_NE(NULL, strstr(r.err, "from bob msg_id "));
	result_free(&s);
	result_free(&r);
}

TEST_F_TIMEOUT(cli, offline_then_recv_with_receipts, 300)
{
	char ids[3][80], from[80], id[80], lines[3][256], want[160];
	uint8_t body[256];
	struct result s, r;
	size_t len;
	uint64_t at;
	int i;

	/* Bob is not connected while alice sends. */
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "offline %d", i);
		ASSERT_EQ(0, send_text(self, self->alice, "bob", want, &s));
		ASSERT_EQ(0, s.status) TH_LOG("%s", s.err);
		ASSERT_EQ(1, read_lines(s.out, &ids[i], 1));
		result_free(&s);
	}
	ASSERT_EQ(0, recv_json(self->bob, "3", &r));
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	ASSERT_EQ(3, read_lines(r.out, lines, 3));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, parse_message(lines[i], from, id, body, &len,
					   &at));
		snprintf(want, sizeof(want), "offline %d", i);
		EXPECT_EQ(strlen(want), len);
		EXPECT_EQ(0, memcmp(body, want, len));
		EXPECT_STREQ(ids[i], id);
	}
	result_free(&r);

	/* Nothing is delivered twice. */
	ASSERT_EQ(0, run(&r, NULL, "kcourier", "--home", self->bob, "recv",
			 "--timeout", "1", NULL));
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(0, r.out_len);
	result_free(&r);

	/* Alice's next connection brings the receipts. */
	ASSERT_EQ(0, run(&r, NULL, "kcourier", "--home", self->alice, "recv",
			 "--timeout", "2", NULL));
	EXPECT_EQ(0, r.status);
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "receipt: msg %.32s delivered to bob",
			 ids[i]);
		EXPECT_NE(NULL, strstr(r.err, want)) TH_LOG("%s", r.err);
	}
	result_free(&r);
}

/*
 * The race behind a flaky `make demo`: `recv --count 1` printed the
 * message, wrote its DELIVERED and exited; the agent dropped a frame that
 * arrived with the connection's end, and the sender's RECEIPT never came.
 * Every short run must now leave its DELIVERED with the agent.
 */
TEST_F_TIMEOUT(cli, receipt_after_every_short_recv, 600)
{
	char id[80], want[160], text[32];
	struct result s, r;
	int i;

	for (i = 0; i < 6; i++) {
		snprintf(text, sizeof(text), "short run %d", i);
		ASSERT_EQ(0, send_text(self, self->alice, "bob", text, &s));
		ASSERT_EQ(0, s.status) TH_LOG("%s", s.err);
		ASSERT_EQ(1, read_lines(s.out, &id, 1));
		result_free(&s);
		ASSERT_EQ(0, run(&r, NULL, "kcourier", "--home", self->bob,
				 "recv", "--count", "1", "--timeout", "5", NULL));
		ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
		snprintf(want, sizeof(want), "%s\n", text);
		ASSERT_STREQ(want, r.out);
		result_free(&r);
		/* The receipt is waiting for alice when she next connects. */
		ASSERT_EQ(0, run(&r, NULL, "kcourier", "--home", self->alice,
				 "recv", "--timeout", "1", NULL));
		EXPECT_EQ(0, r.status);
		snprintf(want, sizeof(want), "receipt: msg %.32s delivered to bob",
			 id);
		ASSERT_NE(NULL, strstr(r.err, want))
			TH_LOG("round %d: %s", i, r.err);
		result_free(&r);
	}
}

TEST_F_TIMEOUT(cli, thousand_in_order, 600)
{
	char from[80], id[80], want[32], (*ids)[80];
	uint8_t body[64];
	struct result s, r;
	char *input, *line, *save = NULL;
	size_t len, pos = 0;
	uint64_t at;
	int i, n;

	input = malloc(1000 * 16);
	ids = calloc(1000, sizeof(*ids));
	ASSERT_NE(NULL, input);
	ASSERT_NE(NULL, ids);
	for (i = 1; i <= 1000; i++)
		pos += sprintf(input + pos, "message %d\n", i);
	ASSERT_EQ(0, run(&s, input, "kcourier", "--home", self->alice, "send",
			 "--lines", "bob", NULL));
	ASSERT_EQ(0, s.status) TH_LOG("%s", s.err);
	ASSERT_EQ(1000, read_lines(s.out, ids, 1000));
	ASSERT_EQ(0, recv_json(self->bob, "1000", &r));
	ASSERT_EQ(0, r.status) TH_LOG("%.300s", r.err);
	n = 0;
	for (line = strtok_r(r.out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		ASSERT_LT(n, 1000);
		ASSERT_EQ(0, parse_message(line, from, id, body, &len, &at));
		snprintf(want, sizeof(want), "message %d", n + 1);
		ASSERT_EQ(strlen(want), len);
		ASSERT_EQ(0, memcmp(body, want, len)) TH_LOG("line %d", n);
		ASSERT_STREQ(ids[n], id);
		n++;
	}
	EXPECT_EQ(1000, n);
	result_free(&s);
	result_free(&r);
	free(input);
	free(ids);
}

/*
 * DELIVERs reach every connection of their recipient, from the handshake
 * on: bob's `send` gets his queued messages between its requests and their
 * answers. It must set them aside, succeed, and leave them for `recv`.
 */
TEST_F_TIMEOUT(cli, deliveries_during_requests, 300)
{
	char lines[5][256], from[80], id[80], want[32];
	uint8_t body[64];
	struct result s, r;
	size_t len;
	uint64_t at;
	int i;

	ASSERT_EQ(0, run(&s, "q0\nq1\nq2\nq3\nq4\n", "kcourier", "--home",
			 self->alice, "send", "--lines", "bob", NULL));
	ASSERT_EQ(0, s.status) TH_LOG("%s", s.err);
	result_free(&s);
	ASSERT_EQ(0, send_text(self, self->bob, "alice", "busy", &s));
	EXPECT_EQ(0, s.status) TH_LOG("%s", s.err);
	result_free(&s);
	ASSERT_EQ(0, recv_json(self->bob, "5", &r));
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	ASSERT_EQ(5, read_lines(r.out, lines, 5));
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, parse_message(lines[i], from, id, body, &len,
					   &at));
		snprintf(want, sizeof(want), "q%d", i);
		EXPECT_EQ(0, memcmp(body, want, len));
	}
	result_free(&r);
}

TEST_F_TIMEOUT(cli, used_token_refused, 300)
{
	char carol[160], path[200];
	struct result r;

	snprintf(carol, sizeof(carol), "%s/carol", self->dir);
	ASSERT_EQ(0, do_register(self, carol, "carol", self->tokens[0], &r));
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("kcourier: registration refused: BAD_TOKEN (token unknown or already used)\n",
		     r.err);
	snprintf(path, sizeof(path), "%s/id.key.pem", carol);
	EXPECT_NE(0, access(path, F_OK));
	result_free(&r);

	/* The failure did not spend anything: a fresh token works. */
	ASSERT_EQ(0, do_register(self, carol, "carol", self->tokens[2], &r));
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	result_free(&r);
	/* ... once: the id is now taken. */
	snprintf(carol, sizeof(carol), "%s/carol2", self->dir);
	ASSERT_EQ(0, do_register(self, carol, "carol", self->tokens[3], &r));
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "EXISTS")) TH_LOG("%s", r.err);
	result_free(&r);
}

TEST_F_TIMEOUT(cli, wrong_pin_refused, 300)
{
	char carol[160];
	struct result r;

	snprintf(carol, sizeof(carol), "%s/carol", self->dir);
	self->pin[0] = self->pin[0] == '0' ? '1' : '0';
	ASSERT_EQ(0, do_register(self, carol, "carol", self->tokens[2], &r));
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "pinned CA")) TH_LOG("%s", r.err);
	result_free(&r);
}

TEST_F_TIMEOUT(cli, lookup_and_fingerprints, 300)
{
	char own[2][80], seen[5][80], cached[2][80];
	struct result r;

	ASSERT_EQ(0, run(&r, NULL, "kcourier", "--home", self->bob,
			 "fingerprint", NULL));
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	ASSERT_EQ(2, read_lines(r.out, own, 2));
	result_free(&r);
	ASSERT_EQ(0, run(&r, NULL, "kcourier", "--home", self->alice, "lookup",
			 "bob", NULL));
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	ASSERT_EQ(5, read_lines(r.out, seen, 5));
	EXPECT_STREQ("id\tbob", seen[0]);
	EXPECT_STREQ(own[0] + 3, seen[1] + 7); /* "id\t", "id_key\t" */
	EXPECT_STREQ(own[1] + 4, seen[2] + 8); /* "enc\t", "enc_key\t" */
	EXPECT_STREQ("certificate\tok", seen[3]);
	EXPECT_STREQ("enc_sig\tok", seen[4]);
	result_free(&r);
	/* The lookup was cached: alice can show bob's fingerprints offline. */
	ASSERT_EQ(0, run(&r, NULL, "kcourier", "--home", self->alice,
			 "fingerprint", "bob", NULL));
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	ASSERT_EQ(2, read_lines(r.out, cached, 2));
	EXPECT_STREQ(own[0], cached[0]);
	EXPECT_STREQ(own[1], cached[1]);
	result_free(&r);

	ASSERT_EQ(0, run(&r, NULL, "kcourier", "--home", self->alice, "lookup",
			 "nobody", NULL));
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "NOT_FOUND")) TH_LOG("%s", r.err);
	result_free(&r);
}

TEST_F_TIMEOUT(cli, send_to_unknown_fails, 300)
{
	struct result r;

	ASSERT_EQ(0, send_text(self, self->alice, "nobody", "hello?", &r));
	EXPECT_EQ(1, r.status);
	EXPECT_EQ(0, r.out_len);
	EXPECT_NE(NULL, strstr(r.err, "NOT_FOUND")) TH_LOG("%s", r.err);
	result_free(&r);
}

/* A follower gets a message while connected, and stops on SIGTERM. */
/*
 * The agent closes a connection whose first frame has not come within
 * handshake_timeout (10 s by default): a receiver with nothing to read
 * pings, so it can wait longer than that, and still stops when idle.
 */
TEST_F_TIMEOUT(cli, recv_waits_longer_than_the_first_frame_timeout, 300)
{
	struct result r;

	ASSERT_EQ(0, run(&r, NULL, "kcourier", "--home", self->bob, "recv",
			 "--timeout", "12", NULL));
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_STREQ("", r.out);
	EXPECT_STREQ("", r.err);
	result_free(&r);
}

/*
 * Message counters across commands: every `kcourier send` starts a block
 * of its own (the rest of the last one is skipped), two at once take
 * turns on the out-state lock and so take different blocks, and a
 * damaged counter file stops a send before anything goes out.
 */
TEST_F_TIMEOUT(cli, counter_blocks_across_sends, 300)
{
	char path[4096], *argv[] = { path, "--home", self->alice, "send",
				     "bob", "at the same time", NULL };
	int in = memfd_with(NULL, 0), out = memfd_with(NULL, 0);
	int err = memfd_with(NULL, 0), status = 0;
	struct result s, r;
	char lines[4][256];
	pid_t pid;

	EXPECT_EQ(-1, counter_mark(self->alice));
	ASSERT_EQ(0, send_text(self, self->alice, "bob", "first", &s));
	ASSERT_EQ(0, s.status) TH_LOG("%s", s.err);
	EXPECT_EQ(1000, counter_mark(self->alice));
	result_free(&s);
	ASSERT_EQ(0, send_text(self, self->alice, "bob", "second", &s));
	ASSERT_EQ(0, s.status) TH_LOG("%s", s.err);
	EXPECT_EQ(2000, counter_mark(self->alice));
	result_free(&s);

	snprintf(path, sizeof(path), "%s/kcourier", getenv("KC_BIN"));
	pid = spawn(argv, in, out, err);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, send_text(self, self->alice, "bob", "meanwhile", &s));
	EXPECT_EQ(0, s.status) TH_LOG("%s", s.err);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, exit_code(status));
	EXPECT_EQ(4000, counter_mark(self->alice));
	result_free(&s);

	ASSERT_EQ(0, recv_json(self->bob, "4", &r));
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_EQ(4, read_lines(r.out, lines, 4));
	result_free(&r);

	snprintf(path, sizeof(path), "%s/%s", self->alice, KC_HOME_COUNTER);
	ASSERT_EQ(0, truncate(path, 5));
	ASSERT_EQ(0, send_text(self, self->alice, "bob", "not sent", &s));
	EXPECT_EQ(1, s.status);
	EXPECT_EQ(0, s.out_len);
	EXPECT_NE(NULL, strstr(s.err, KC_HOME_COUNTER ": damaged"))
		TH_LOG("%s", s.err);
	result_free(&s);
	close(in);
	close(out);
	close(err);
}

TEST_F_TIMEOUT(cli, follow, 300)
{
	char path[4096], *argv[] = { path, "--home", self->bob, "recv",
				     "--follow", NULL };
	int in = memfd_with(NULL, 0), out = memfd_with(NULL, 0);
	int err = memfd_with(NULL, 0), status = 0, waited;
	struct result s;
	char *text = NULL, *errors = NULL;
	size_t len = 0;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/kcourier", getenv("KC_BIN"));
	pid = spawn(argv, in, out, err);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, send_text(self, self->alice, "bob", "while you wait", &s));
	EXPECT_EQ(0, s.status) TH_LOG("%s", s.err);
	for (waited = 0; waited < WAIT_MS; waited += 100) {
		free(text);
		text = read_fd_all(out, &len);
		if (text && strstr(text, "while you wait"))
			break;
		sleep_ms(100);
	}
	kill(pid, SIGTERM);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	free(errors);
	errors = read_fd_all(err, &len);
	EXPECT_EQ(0, exit_code(status)) TH_LOG("%s", errors);
	EXPECT_STREQ("while you wait\n", text);
	free(text);
	free(errors);
	result_free(&s);
	close(in);
	close(out);
	close(err);
}

TEST_HARNESS_MAIN
