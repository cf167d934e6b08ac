// SPDX-License-Identifier: GPL-2.0
/*
 * KCOURIER_IOC_OPEN and KCOURIER_IOC_SEAL: a batch of messages, one call.
 *
 * Each op is checked on its own and gets its own status; a bad op never
 * stops the batch. Opening is MAC first: the tag over aad || ct is
 * compared with crypto_memneq before a byte is decrypted, and a length
 * or padding that is wrong after a good tag is -EILSEQ, which callers
 * answer like -EBADMSG (the agent needs the difference only to use up a
 * sequence number, PROTOCOL.md). Plaintext is wiped from kernel memory
 * before it is freed.
 */
#include <crypto/algapi.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kc_internal.h"

#define KC_BLOCK 16

/* What one op needs in kernel memory: its aad and its data. */
struct kc_op_bufs {
	u8 *aad;
	u8 *data;
	size_t data_room;
};

static int kc_op_check(const struct kcourier_op *op)
{
	if (op->flags & ~KCOURIER_OP_FLAGS || op->pad)
		return -EINVAL;
	if (op->aad_len > KCOURIER_MAX_AAD || op->in_len > KCOURIER_MAX_DATA ||
	    op->out_len > KCOURIER_MAX_DATA)
		return -EINVAL;
	return 0;
}

/* aad and in copied in; data has room for in_len plus a padding block. */
static int kc_op_load(const struct kcourier_op *op, struct kc_op_bufs *b)
{
	b->data_room = op->in_len + KC_BLOCK;
	b->aad = kmalloc(op->aad_len ? op->aad_len : 1, GFP_KERNEL);
	b->data = kvmalloc(b->data_room, GFP_KERNEL);
	if (!b->aad || !b->data)
		return -ENOMEM;
	if (copy_from_user(b->aad, u64_to_user_ptr(op->aad), op->aad_len) ||
	    copy_from_user(b->data, u64_to_user_ptr(op->in), op->in_len))
		return -EFAULT;
	return 0;
}

static void kc_op_unload(struct kc_op_bufs *b)
{
	kfree(b->aad);
	kvfree_sensitive(b->data, b->data_room);
}

/*
 * The PKCS#7 pad length of a decrypted buffer, or 0 when it is bad. Looks
 * at the last 16 bytes whatever the pad byte says.
 */
static u32 kc_pkcs7_len(const u8 *buf, u32 len)
{
	u32 pad = buf[len - 1], bad, i;

	bad = (pad == 0) | (pad > KC_BLOCK);
	for (i = 1; i <= KC_BLOCK; i++)
		bad |= (i <= pad) & (buf[len - i] != pad);
	return bad ? 0 : pad;
}

static int kc_open_one(struct kc_session *s, struct kcourier_op *op,
		       struct kc_op_bufs *b)
{
	u8 tag[KCOURIER_TAG_LEN];
	u32 pad;
	int ret;

	if (op->out_len < op->in_len)
		return -EMSGSIZE;
	ret = kc_session_mac(s, b->aad, op->aad_len, b->data, op->in_len, tag);
	if (ret)
		return ret;
	ret = crypto_memneq(tag, op->tag, sizeof(tag)) ? -EBADMSG : 0;
	memzero_explicit(tag, sizeof(tag));
	if (ret)
		return ret;
	if (!op->in_len || op->in_len % KC_BLOCK)
		return -EILSEQ;
	ret = kc_session_cbc(s, false, op->iv, b->data, op->in_len);
	if (ret)
		return ret;
	pad = kc_pkcs7_len(b->data, op->in_len);
	if (!pad)
		return -EILSEQ;
	op->out_len = op->in_len - pad;
	if (copy_to_user(u64_to_user_ptr(op->out), b->data, op->out_len))
		return -EFAULT;
	return 0;
}

static int kc_seal_one(struct kc_session *s, struct kcourier_op *op,
		       struct kc_op_bufs *b)
{
	u32 ct_len = op->in_len / KC_BLOCK * KC_BLOCK + KC_BLOCK;
	u32 pad = ct_len - op->in_len;
	int ret;

	if (op->out_len < ct_len)
		return -EMSGSIZE;
	memset(b->data + op->in_len, pad, pad);
	ret = kc_session_cbc(s, true, op->iv, b->data, ct_len);
	if (!ret)
		ret = kc_session_mac(s, b->aad, op->aad_len, b->data, ct_len,
				     op->tag);
	if (ret)
		return ret;
	op->out_len = ct_len;
	if (copy_to_user(u64_to_user_ptr(op->out), b->data, ct_len))
		return -EFAULT;
	return 0;
}

/* Under f->lock: one op, start to end. */
static int kc_op_run(struct kc_file *f, bool seal, struct kcourier_op *op)
{
	struct kc_op_bufs b = {};
	struct kc_session *s;
	int ret;

	ret = kc_op_check(op);
	if (ret)
		return ret;
	ret = kc_session_get(f, op->enc_key, op->mac_key, &s);
	if (ret)
		return ret;
	ret = kc_op_load(op, &b);
	if (!ret)
		ret = seal ? kc_seal_one(s, op, &b) : kc_open_one(s, op, &b);
	kc_op_unload(&b);
	return ret;
}

static int kc_batch_check(const struct kcourier_batch *bt)
{
	if (bt->flags || bt->reserved[0] || bt->reserved[1] || bt->reserved[2])
		return -EINVAL;
	if (!bt->count || bt->count > KCOURIER_MAX_BATCH)
		return -EINVAL;
	return 0;
}

int kc_batch(struct kc_file *f, bool seal, void __user *arg)
{
	struct kcourier_batch bt;
	struct kcourier_op *ops;
	void __user *uops;
	u32 i;
	int ret;

	if (copy_from_user(&bt, arg, sizeof(bt)))
		return -EFAULT;
	ret = kc_batch_check(&bt);
	if (ret)
		return ret;
	uops = u64_to_user_ptr(bt.ops);
	ops = memdup_array_user(uops, bt.count, sizeof(*ops));
	if (IS_ERR(ops))
		return PTR_ERR(ops);
	mutex_lock(&f->lock);
	for (i = 0; i < bt.count; i++) {
		ops[i].status = kc_op_run(f, seal, &ops[i]);
		if (ops[i].status)
			ops[i].out_len = 0;
		/* A full batch is up to 512 MiB of work: let others run. */
		cond_resched();
	}
	mutex_unlock(&f->lock);
	bt.done = bt.count;
	ret = 0;
	if (copy_to_user(uops, ops, array_size(bt.count, sizeof(*ops))) ||
	    copy_to_user(arg, &bt, sizeof(bt)))
		ret = -EFAULT;
	kvfree(ops);
	return ret;
}
