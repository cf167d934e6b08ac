/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Protocol status codes (PROTOCOL.md section 4): carried in ACK.status and
 * ERROR.code. Library functions that judge peer input return 0 or the
 * negated code (-KC_BAD_FRAME, ...) so the caller can answer with it as is.
 */
#ifndef KC_STATUS_H
#define KC_STATUS_H

enum kc_status {
	KC_OK = 0,
	KC_BAD_FRAME = 1,
	KC_UNKNOWN_TYPE = 2,
	KC_TOO_LARGE = 3,
	KC_BAD_MAC = 4,
	KC_REPLAY = 5,
	KC_UNKNOWN_SESSION = 6,
	KC_NOT_FOUND = 7,
	KC_UNAUTHORIZED = 8,
	KC_BAD_TOKEN = 9,
	KC_EXISTS = 10,
	KC_TRY_LATER = 11,
	KC_INTERNAL = 12,
	KC_RATE_LIMITED = 13,
	KC_EXPIRED = 14,
	KC_BAD_REQUEST = 15,
	KC_STATUS_MAX = KC_BAD_REQUEST,
};

/* "BAD_MAC" etc.; "UNKNOWN(n)" style text is the caller's job for n > max. */
const char *kc_status_name(unsigned int code);

#endif
