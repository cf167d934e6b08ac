// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exact byte strings that MACs and signatures cover (PROTOCOL.md
 * sections 4 and 5). Each starts with an ASCII label, without NUL, so a
 * MAC or signature made for one purpose can never be replayed as another.
 */
#include <string.h>

#include "wire/wire.h"
#include "wire/wire_buf.h"

#define LABEL_MAX 32 /* the room KC_SEQ_AAD_MAX leaves for a label */

static void write_label(struct kc_writer *w, const char *label)
{
	kc_wr_fixed(w, label, strlen(label));
}

/*
 * SEND:  "kcourier/1 send" || sid || u64 seq || iv || blob ct
 * E2E:   "kcourier/1 e2e"  || sid || u64 seq || iv || blob ct
 * Everything up to and including blob's u32 length; the caller MACs the
 * ciphertext bytes after it.
 */
size_t kc_seq_aad(uint8_t out[KC_SEQ_AAD_MAX], const char *label,
		  const uint8_t sid[KC_SID_LEN], uint64_t seq,
		  const uint8_t iv[KC_IV_LEN], uint32_t ct_len)
{
	struct kc_writer w;

	if (!label || strlen(label) > LABEL_MAX)
		return 0;
	kc_writer_init(&w, out, KC_SEQ_AAD_MAX);
	write_label(&w, label);
	kc_wr_fixed(&w, sid, KC_SID_LEN);
	kc_wr_u64(&w, seq);
	kc_wr_fixed(&w, iv, KC_IV_LEN);
	kc_wr_u32(&w, ct_len);
	return kc_writer_finish(&w);
}

/* out == NULL counts instead of writing, so callers can size a buffer. */
static void writer_for(struct kc_writer *w, uint8_t *out, size_t cap)
{
	if (out)
		kc_writer_init(w, out, cap);
	else
		kc_writer_init_count(w);
}

/* Section 4: "kcourier/1 enc-key" || str client_id || str enc_spki */
size_t kc_enc_sig_msg(uint8_t *out, size_t cap, struct kc_bytes client_id,
		      struct kc_bytes enc_spki)
{
	struct kc_writer w;

	writer_for(&w, out, cap);
	write_label(&w, KC_LABEL_ENC_KEY);
	kc_wr_str(&w, client_id);
	kc_wr_str(&w, enc_spki);
	return kc_writer_finish(&w);
}

/*
 * Section 5: "kcourier/1 e2e-init" || 16 sid || str sender ||
 * str recipient || u64 created_ms || 256 wrapped
 */
size_t kc_e2e_init_sig_msg(uint8_t *out, size_t cap,
			   const struct kc_session_init *init)
{
	struct kc_writer w;

	writer_for(&w, out, cap);
	write_label(&w, KC_LABEL_E2E_INIT);
	kc_wr_fixed(&w, init->sid, KC_SID_LEN);
	kc_wr_str(&w, init->sender);
	kc_wr_str(&w, init->recipient);
	kc_wr_u64(&w, init->created_ms);
	kc_wr_fixed(&w, init->wrapped, KC_RSA_LEN);
	return kc_writer_finish(&w);
}
