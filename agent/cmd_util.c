// SPDX-License-Identifier: GPL-2.0-only
/*
 * What every kcourierd command shares beyond lib/base/cmdtab.c: checks of
 * option values, the passphrase, and opening the state directory's
 * configuration and store.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "kcourierd_cmd.h"
#include "state.h"
#include "store/sqlite.h"

const char *kcd_check_client_id(const char *arg, void *ctx)
{
	if (kc_client_id_valid((const uint8_t *)arg, strlen(arg)))
		return NULL;
	return "a client id ([a-z0-9][a-z0-9._-]{0,63})";
}

const char *kcd_check_listen(const char *arg, void *ctx)
{
	struct kcd_listen l;

	if (kc_listen_parse(arg, &l.addr, &l.len))
		return "an address A.B.C.D:PORT or [IPV6]:PORT";
	if (ctx)
		*(struct kcd_listen *)ctx = l;
	return NULL;
}

int kcd_passphrase(const char *cmd, const char *file, bool confirm,
		   struct kc_passphrase *out)
{
	int ret = kc_state_passphrase(file, confirm, out);

	if (ret && file && ret != -EINVAL)
		kcd_err("%s: cannot read passphrase file %s: %s", cmd, file,
			kc_passphrase_strerror(ret));
	else if (ret)
		kcd_err("%s: %s", cmd, kc_passphrase_strerror(ret));
	return ret;
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
	else if (ret == -ENOTEMPTY)
		kcd_err("%s: %s still queues messages of protocol version 1; "
			"let the kcourierd that stored them deliver them first",
			cmd, path);
	else if (ret)
		kcd_err("%s: cannot open %s: %s", cmd, path, strerror(-ret));
	return ret;
}

