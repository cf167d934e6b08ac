// SPDX-License-Identifier: GPL-2.0-only
#include "base/status.h"

static const char *const status_names[] = {
	[KC_OK] = "OK",
	[KC_BAD_FRAME] = "BAD_FRAME",
	[KC_UNKNOWN_TYPE] = "UNKNOWN_TYPE",
	[KC_TOO_LARGE] = "TOO_LARGE",
	[KC_BAD_MAC] = "BAD_MAC",
	[KC_REPLAY] = "REPLAY",
	[KC_UNKNOWN_SESSION] = "UNKNOWN_SESSION",
	[KC_NOT_FOUND] = "NOT_FOUND",
	[KC_UNAUTHORIZED] = "UNAUTHORIZED",
	[KC_BAD_TOKEN] = "BAD_TOKEN",
	[KC_EXISTS] = "EXISTS",
	[KC_TRY_LATER] = "TRY_LATER",
	[KC_INTERNAL] = "INTERNAL",
	[KC_RATE_LIMITED] = "RATE_LIMITED",
	[KC_EXPIRED] = "EXPIRED",
	[KC_BAD_REQUEST] = "BAD_REQUEST",
};

const char *kc_status_name(unsigned int code)
{
	if (code > KC_STATUS_MAX)
		return "UNKNOWN";
	return status_names[code];
}
