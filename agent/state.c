// SPDX-License-Identifier: GPL-2.0-only
/*
 * State directory helpers shared by init, load and the commands.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "state_int.h"

/* docs/DESIGN.md "Keys": the agent's own variable before the client's. */
static const char *const agent_pass_env[] = {
	"KCOURIERD_PASSPHRASE",
	"KCOURIER_PASSPHRASE",
	NULL,
};

int kc_state_path(const char *dir, const char *name, char out[PATH_MAX])
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

int kc_state_passphrase(const char *file, bool confirm,
			struct kc_passphrase *out)
{
	const struct kc_passphrase_src src = {
		.file = file,
		.env = agent_pass_env,
		.prompt = confirm ? "New passphrase for the agent keys: "
				  : "Passphrase for the agent keys: ",
		.confirm = confirm,
		.strict = true,
	};

	return kc_passphrase_get(&src, out);
}

static void vsay(struct state_ctx *c, const char *fmt, va_list ap)
{
	if (c->err && c->err_len)
		vsnprintf(c->err, c->err_len, fmt, ap);
}

int state_fail(struct state_ctx *c, int ret, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsay(c, fmt, ap);
	va_end(ap);
	if (!c->err || !c->err_len)
		return ret;
	n = strlen(c->err);
	snprintf(c->err + n, c->err_len - n, ": %s", strerror(-ret));
	return ret;
}

int state_fail_plain(struct state_ctx *c, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(c, fmt, ap);
	va_end(ap);
	return ret;
}

const char *state_path(struct state_ctx *c, const char *name)
{
	if (kc_state_path(c->dir, name, c->path))
		c->path[0] = '\0';
	return c->path;
}
