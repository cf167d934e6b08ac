// SPDX-License-Identifier: GPL-2.0-only
/*
 * kcourierd status: what a running agent counts, from DIR/metrics.sock
 * (metrics/metrics.h), as a table or, with --json, one JSON object of
 * metric -> value. The socket answers the Prometheus text format; each
 * sample line is "name{labels} value", which is all this reads of it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "agentconf/statedir.h"
#include "kcourierd_cmd.h"
#include "metrics/metrics.h"
#include "state.h"

#define PREFIX "kcourier_"

static bool parse_status(int argc, char **argv, const char **dir, bool *json,
			 int *rc)
{
	const struct kc_opt rows[] = {
		KCD_OPT_DIR(dir),
		{ .name = "json",
		  KC_OPT_FLAG(json),
		  .help = "one JSON object: metric name (with its labels) "
			  "to value" },
	};
	const struct kc_opts spec = {
		KCD_OPTS("status"),
		KC_OPTS_TABLE(rows),
		.description = "Prints the counters of the agent running on "
			       "DIR, read from DIR/metrics.sock\n"
			       "(the same as its Prometheus endpoint).\n",
	};

	return kc_opts_parse(&spec, argc, argv, rc);
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa;
	int fd = kc_metrics_sockaddr(path, &sa);

	if (fd)
		return fd;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Everything the agent writes, until it closes. */
static int read_all(int fd, char **text)
{
	size_t len = 0;
	FILE *f = open_memstream(text, &len);
	char buf[4096];
	ssize_t n;

	if (!f)
		return -ENOMEM;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, f);
	fclose(f);
	return n < 0 ? -errno : 0;
}

/* One sample line into name and value; false for comments and blanks. */
static bool sample(char *line, const char **name, const char **value)
{
	char *sp = strrchr(line, ' ');

	if (!*line || *line == '#' || !sp)
		return false;
	*sp = '\0';
	*name = strncmp(line, PREFIX, strlen(PREFIX)) ? line
						      : line + strlen(PREFIX);
	*value = sp + 1;
	return true;
}

/* Histogram buckets stay out of the table; --json has them. */
static void print_table(char *text)
{
	const char *name, *value;

	printf("%-52s %s\n", "metric", "value");
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (sample(line, &name, &value) && !strstr(name, "_bucket{"))
			printf("%-52s %s\n", name, value);
}

static void print_json(char *text)
{
	json_t *o = json_object();
	const char *name, *value;

	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (sample(line, &name, &value))
			json_object_set_new(o, name,
					    json_real(strtod(value, NULL)));
	json_dumpf(o, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(o);
}

int cmd_status(void *ctx, int argc, char **argv)
{
	const char *dir = NULL;
	char path[PATH_MAX], *text = NULL;
	bool json = false;
	int rc, fd, ret;

	if (!parse_status(argc, argv, &dir, &json, &rc))
		return rc;
	ret = kc_state_path(dir, KC_STATE_METRICS_SOCK, path);
	fd = ret ? ret : connect_unix(path);
	if (fd < 0) {
		kcd_err("status: %s: %s (is the agent running?)", path,
			strerror(-fd));
		return 1;
	}
	ret = read_all(fd, &text);
	close(fd);
	if (ret) {
		kcd_err("status: reading %s: %s", path, strerror(-ret));
		free(text);
		return 1;
	}
	if (json)
		print_json(text);
	else
		print_table(text);
	free(text);
	return 0;
}
