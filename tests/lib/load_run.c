// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourier-load for tests: see load_run.h.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/load_run.h"
#include "lib/run_cmd.h"

int load_run_init(struct load_run *l, struct agent_proc *a, int clients)
{
	char dir[sizeof(a->dir)], token[65];
	FILE *f;
	int ret = 0;

	memset(l, 0, sizeof(*l));
	snprintf(dir, sizeof(dir), "%s", a->dir);
	snprintf(l->tokens, sizeof(l->tokens), "%s/tokens", dirname(dir));
	snprintf(dir, sizeof(dir), "%s", a->dir);
	snprintf(l->cache, sizeof(l->cache), "%s/cache", dirname(dir));
	f = fopen(l->tokens, "w");
	if (!f)
		return -errno;
	while (!ret && clients--) {
		ret = agent_proc_token(a, token);
		if (!ret && fprintf(f, "%s\n", token) < 0)
			ret = -EIO;
	}
	if (fclose(f) && !ret)
		ret = -EIO;
	return ret;
}

int load_run_start(struct load_run *l, struct agent_proc *a,
		   const char *const *extra)
{
	char *const common[] = {
		l->bin,	    "--agent", a->addr,	  "--ca-fingerprint", a->pin,
		"--tokens", l->tokens, "--cache", l->cache,	      "--json"
	};
	int n = sizeof(common) / sizeof(common[0]);

	snprintf(l->bin, sizeof(l->bin), "%s/kcourier-load", getenv("KC_BIN"));
	memcpy(l->argv, common, sizeof(common));
	while (*extra && n < 31)
		l->argv[n++] = (char *)*extra++;
	l->argv[n] = NULL;
	int in = memfd_with(NULL, 0);

	l->out = memfd_with(NULL, 0);
	if (l->out < 0 || in < 0)
		return -EMFILE;
	l->pid = spawn(l->argv, in, l->out, STDERR_FILENO);
	close(in);
	return l->pid > 0 ? 0 : -ECHILD;
}

json_t *load_run_wait(struct load_run *l)
{
	int status;
	char *text;
	json_t *doc = NULL;
	size_t len;

	if (waitpid(l->pid, &status, 0) < 0 || exit_code(status)) {
		close(l->out);
		return NULL;
	}
	lseek(l->out, 0, SEEK_SET);
	text = read_fd_all(l->out, &len);
	close(l->out);
	if (text)
		doc = json_loads(text, 0, NULL);
	free(text);
	return doc;
}

static json_t *at_path(json_t *doc, const char *path)
{
	char buf[256], *save, *key;
	json_t *o = doc;

	snprintf(buf, sizeof(buf), "%s", path);
	for (key = strtok_r(buf, ".", &save); o && key;
	     key = strtok_r(NULL, ".", &save))
		o = json_object_get(o, key);
	return o;
}

long long json_path_int(json_t *doc, const char *path)
{
	json_t *o = at_path(doc, path);

	return json_is_integer(o) ? json_integer_value(o) : -1;
}

double json_path_num(json_t *doc, const char *path)
{
	json_t *o = at_path(doc, path);

	return json_is_number(o) ? json_number_value(o) : -1;
}
