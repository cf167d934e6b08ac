// SPDX-License-Identifier: GPL-2.0-only
/*
 * What every kcourierd command shares beyond lib/cmdtab.c: option
 * checks, and opening the state directory's configuration and store.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "kcourierd_cmd.h"
#include "state.h"
#include "store/sqlite.h"

int kcd_need_dir(const char *cmd, const char *usage, const char *dir)
{
	if (dir)
		return 0;
	kcd_err("%s: --dir DIR is required (the agent state directory)", cmd);
	return kc_cmd_usage(usage, true);
}

int kcd_parse_u32(const char *cmd, const char *opt, const char *text,
		  uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	const char *p;

	for (p = text; *p >= '0' && *p <= '9' && v <= max; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (p == text || *p || v < min || v > max) {
		kcd_err("%s: bad value '%s' for %s (expected an integer from "
			"%u to %u)",
			cmd, text, opt, min, max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

int kcd_load_config(const char *cmd, const char *dir,
		    struct kc_agent_config *cfg)
{
	char path[PATH_MAX], err[KC_STATE_ERR_MAX];
	int ret;

	ret = kc_state_path(dir, KC_STATE_CONFIG, path);
	if (ret) {
		kcd_err("%s: directory name too long: %s", cmd, dir);
		return ret;
	}
	kc_config_defaults(cfg);
	ret = kc_config_load(path, cfg, err, sizeof(err));
	if (ret == -ENOENT)
		kcd_err("%s: %s is not initialised (no %s); run 'kcourierd "
			"init --dir %s' first",
			cmd, dir, KC_STATE_CONFIG, dir);
	else if (ret)
		kcd_err("%s: %s", cmd, err);
	return ret;
}

int kcd_open_store(const char *cmd, const char *dir, struct kc_store **out)
{
	char path[PATH_MAX];
	int ret;

	ret = kc_state_path(dir, KC_STATE_STORE, path);
	if (!ret)
		ret = kc_sqlite_open(path, false, out);
	if (ret == -EPROTO)
		kcd_err("%s: %s was written by a newer kcourierd", cmd, path);
	else if (ret)
		kcd_err("%s: cannot open %s: %s", cmd, path, strerror(-ret));
	return ret;
}

