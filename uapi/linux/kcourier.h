/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kcourier.h - the ABI of /dev/kcourier (kcourier.ko)
 *
 * The module keeps kcourier's session keys in the kernel: the agent hands
 * it an RSA-OAEP wrapped session key and the serial of its seal key (an
 * asymmetric key in the kernel keyring), the module unwraps it and leaves
 * K and its MAC key Km in a keyring as `logon` keys, which user space can
 * name but never read. Messages are then opened and sealed in batches
 * that name those keys by serial (docs/PROTOCOL.md: AES-256-CBC with
 * PKCS#7 padding, HMAC-SHA256 encrypt-then-MAC).
 *
 * Every request is an ioctl on an open /dev/kcourier, or the same request
 * as an io_uring IORING_OP_URING_CMD on it (cmd_op is the ioctl number,
 * and the SQE's command area holds a struct kcourier_uring_cmd).
 *
 * Conventions, for every structure here:
 *  - sizes are fixed and padding is explicit; structures are 8-byte
 *    aligned so 32- and 64-bit callers share one layout;
 *  - pointers travel as __u64 (cast through uintptr_t);
 *  - a field named reserved or pad must be zero, and a flags field may
 *    hold only the bits its mask names: anything else is -EINVAL, so
 *    later versions can give them meaning;
 *  - "in" fields are read by the module, "out" fields written by it.
 *
 * Usable from C and C++ with no kernel headers installed: only
 * <linux/ioctl.h> and <linux/types.h> are needed, or their libc copies.
 */
#ifndef _UAPI_LINUX_KCOURIER_H
#define _UAPI_LINUX_KCOURIER_H

#include <linux/ioctl.h>
#include <linux/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI described here; KCOURIER_IOC_VERSION reports the module's. */
#define KCOURIER_API_VERSION	1

/* Protocol sizes (docs/PROTOCOL.md). */
#define KCOURIER_RSA_LEN	256	/* RSA-2048 wrapped key */
#define KCOURIER_SID_LEN	16	/* session id, names the keys */
#define KCOURIER_IV_LEN		16	/* AES-CBC IV */
#define KCOURIER_TAG_LEN	32	/* HMAC-SHA256 tag */

/* Bounds; a request past any of them is -EINVAL (or the op's -EMSGSIZE). */
#define KCOURIER_MAX_BATCH	256		/* ops per OPEN or SEAL */
#define KCOURIER_MAX_DATA	(2u << 20)	/* in_len and out_len */
#define KCOURIER_MAX_AAD	4096		/* aad_len */

/**
 * struct kcourier_version - KCOURIER_IOC_VERSION
 * @api_version: out: KCOURIER_API_VERSION of the module
 * @max_batch:   out: KCOURIER_MAX_BATCH of the module
 * @max_data:    out: KCOURIER_MAX_DATA of the module
 * @max_aad:     out: KCOURIER_MAX_AAD of the module
 * @reserved:    in: zero
 */
struct kcourier_version {
	__u32 api_version;
	__u32 max_batch;
	__u32 max_data;
	__u32 max_aad;
	__u64 reserved[2];
};

/* kcourier_unwrap.flags: none yet. */
#define KCOURIER_UNWRAP_FLAGS	0u

/* kcourier_unwrap.result bits. */
#define KCOURIER_UNWRAP_RANDOM	0x1u	/* K is random: OAEP failed */

/**
 * struct kcourier_unwrap - KCOURIER_IOC_UNWRAP
 * @seal_key:    in: serial of the RSA-2048 private key, an "asymmetric"
 *               key the caller may search (keyctl padd asymmetric ...
 *               with pkcs8_key_parser loaded)
 * @keyring:     in: serial of the keyring K and Km go to, which the
 *               caller may write (KEY_SPEC_* values work)
 * @timeout_s:   in: seconds K and Km live (0: until unlinked)
 * @flags:       in: KCOURIER_UNWRAP_FLAGS bits
 * @sid:         in: names the keys "kcourier:<sid in hex>:enc" (K) and
 *               "kcourier:<sid in hex>:mac" (Km)
 * @wrapped:     in: pointer to KCOURIER_RSA_LEN bytes, RSA-OAEP-SHA256
 *               of the 32-byte K under the seal key, empty label
 * @wrapped_len: in: KCOURIER_RSA_LEN
 * @pad:         in: zero
 * @enc_key:     out: serial of K's logon key
 * @mac_key:     out: serial of Km's logon key
 * @result:      out: KCOURIER_UNWRAP_RANDOM when the OAEP decoding did not
 *               give exactly 32 bytes. K is then random and Km derived
 *               from it, so every MAC fails later (PROTOCOL.md section 1):
 *               the keys and the time taken are the same either way.
 * @reserved:    in: zero
 *
 * The RSA private operation is blinded with a fresh random r per call.
 * A wrapped value not below the modulus is treated as a failed decoding.
 */
struct kcourier_unwrap {
	__s32 seal_key;
	__s32 keyring;
	__u32 timeout_s;
	__u32 flags;
	__u8 sid[KCOURIER_SID_LEN];
	__u64 wrapped;
	__u32 wrapped_len;
	__u32 pad;
	__s32 enc_key;
	__s32 mac_key;
	__u32 result;
	__u32 reserved[3];
};

/* kcourier_op.flags: none yet. */
#define KCOURIER_OP_FLAGS	0u

/**
 * struct kcourier_op - one message of an OPEN or SEAL batch
 * @enc_key: in: serial of the session's K (logon, from UNWRAP or add_key)
 * @mac_key: in: serial of the session's Km
 * @aad:     in: pointer to the bytes MACed before the ciphertext
 * @in:      in: pointer to the ciphertext (OPEN) or plaintext (SEAL)
 * @out:     in: pointer to where the result goes
 * @aad_len: in: at most KCOURIER_MAX_AAD
 * @in_len:  in: at most KCOURIER_MAX_DATA; OPEN needs a non-zero multiple
 *           of 16 (else the op fails as a bad tag would)
 * @out_len: in: room at out: in_len (OPEN) or in_len / 16 * 16 + 16
 *           (SEAL); out: bytes written
 * @flags:   in: KCOURIER_OP_FLAGS bits
 * @iv:      in: the CBC IV (not MACed on its own: aad must hold it)
 * @tag:     OPEN in: the HMAC to check; SEAL out: HMAC(Km, aad || ct)
 * @status:  out: 0, or a negative errno for this op alone:
 *           -EBADMSG   tag mismatch (OPEN: nothing decrypted)
 *           -EILSEQ    tag matched, but length or padding is bad
 *           -ENOKEY    a key is missing, expired, revoked or not logon
 *           -EACCES    a key the caller may not search
 *           -EMSGSIZE  out_len too small
 *           -EFAULT    a pointer that cannot be read or written
 *           -EINVAL    a length past its bound, flags or pad set
 * @pad:     in: zero
 */
struct kcourier_op {
	__s32 enc_key;
	__s32 mac_key;
	__u64 aad;
	__u64 in;
	__u64 out;
	__u32 aad_len;
	__u32 in_len;
	__u32 out_len;
	__u32 flags;
	__u8 iv[KCOURIER_IV_LEN];
	__u8 tag[KCOURIER_TAG_LEN];
	__s32 status;
	__u32 pad;
};

/**
 * struct kcourier_batch - KCOURIER_IOC_OPEN and KCOURIER_IOC_SEAL
 * @ops:      in: pointer to @count struct kcourier_op, whose out fields
 *            the module writes back
 * @count:    in: 1 to KCOURIER_MAX_BATCH
 * @flags:    in: zero
 * @done:     out: ops with a status written (all of them, unless the
 *            ioctl itself failed)
 * @reserved: in: zero
 *
 * The ioctl returns 0 when every op has its status, whatever they are.
 */
struct kcourier_batch {
	__u64 ops;
	__u32 count;
	__u32 flags;
	__u32 done;
	__u32 reserved[3];
};

/**
 * struct kcourier_stats - KCOURIER_IOC_STATS: what the module holds now,
 * counted over every open file, so a test can see that closing gives it
 * all back
 * @files:    out: open /dev/kcourier files
 * @sessions: out: cached sessions (each with its two transforms)
 * @tfms:     out: live crypto transforms
 * @keys:     out: key references held (the keys UNWRAP made, until the
 *            file that made them is closed)
 * @reserved: in: zero
 */
struct kcourier_stats {
	__u32 files;
	__u32 sessions;
	__u32 tfms;
	__u32 keys;
	__u64 reserved[2];
};

/**
 * struct kcourier_uring_cmd - the command area of an IORING_OP_URING_CMD
 * @arg:      in: pointer to the struct the same ioctl takes
 * @reserved: in: zero
 *
 * The CQE's res is what the ioctl would have returned.
 */
struct kcourier_uring_cmd {
	__u64 arg;
	__u64 reserved;
};

#define KCOURIER_IOC_MAGIC	0xC6

#define KCOURIER_IOC_VERSION	_IOWR(KCOURIER_IOC_MAGIC, 0, struct kcourier_version)
#define KCOURIER_IOC_UNWRAP	_IOWR(KCOURIER_IOC_MAGIC, 1, struct kcourier_unwrap)
#define KCOURIER_IOC_OPEN	_IOWR(KCOURIER_IOC_MAGIC, 2, struct kcourier_batch)
#define KCOURIER_IOC_SEAL	_IOWR(KCOURIER_IOC_MAGIC, 3, struct kcourier_batch)
#define KCOURIER_IOC_STATS	_IOWR(KCOURIER_IOC_MAGIC, 4, struct kcourier_stats)

#ifdef __cplusplus
}
#endif

#endif /* _UAPI_LINUX_KCOURIER_H */
