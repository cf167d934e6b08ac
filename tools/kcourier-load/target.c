// SPDX-License-Identifier: GPL-2.0-only
/*
 * --dir DIR: the agent's address from its kcourierd.conf (read by the
 * agent's own parser, so both agree on defaults) and its CA pin from
 * ca.crt, as `kcourierd init` printed it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentconf/agentconf.h"
#include "client/home.h"
#include "agentconf/statedir.h"
#include "target.h"

static int read_listen(struct load_opts *o)
{
	struct kc_agent_config cfg;
	char path[PATH_MAX], err[256];

	kc_config_defaults(&cfg);
	snprintf(path, sizeof(path), "%s/%s", o->dir, KC_STATE_CONFIG);
	if (kc_config_load(path, &cfg, err, sizeof(err))) {
		load_err("%s", err);
		return -1;
	}
	snprintf(o->agent_buf, sizeof(o->agent_buf), "%s", cfg.listen);
	o->agent = o->agent_buf;
	return 0;
}

static int read_pin(struct load_opts *o)
{
	struct kc_home h = { .dir = (char *)o->dir };
	uint8_t *der = NULL;
	size_t len = 0;
	int ret;

	ret = kc_home_load_cert(&h, KC_STATE_CA_CRT, &der, &len);
	if (!ret)
		ret = kc_cert_pin(der, len, o->pin);
	free(der);
	if (ret)
		load_err("%s/%s: %s", o->dir, KC_STATE_CA_CRT,
			 ret == -EBADMSG ? "not a certificate" :
					   strerror(-ret));
	return ret ? -1 : 0;
}

int load_resolve_dir(struct load_opts *o)
{
	if (!o->dir)
		return 0;
	return read_listen(o) || read_pin(o) ? -1 : 0;
}
