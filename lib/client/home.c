// SPDX-License-Identifier: GPL-2.0-only
/*
 * The client home directory: location, config, whole-file I/O, locks; see
 * home.h. The peers cache and the sealed state are in home_store.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/certcheck.h"
#include "base/fileio.h"
#include "client/home.h"

#define CONFIG_MAX 65536
#define CERT_FILE_MAX 65536
#define CONFIG_VERSION 1

/* $XDG_CONFIG_HOME, else $HOME/.config (XDG Base Directory spec). */
static int config_base(char **out)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (xdg && xdg[0] == '/')
		return asprintf(out, "%s", xdg) < 0 ? -ENOMEM : 0;
	if (!home || home[0] != '/') {
		pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home)
		return -ENOENT;
	return asprintf(out, "%s/.config", home) < 0 ? -ENOMEM : 0;
}

int kc_home_default_dir(const char *id, char **dir)
{
	char *base = NULL;
	int ret;

	*dir = NULL;
	ret = config_base(&base);
	if (ret)
		return ret;
	if (asprintf(dir, "%s/kcourier%s%s", base, id ? "/" : "",
		     id ? id : "") < 0) {
		*dir = NULL;
		ret = -ENOMEM;
	}
	free(base);
	return ret;
}

static bool is_registered_home(const char *base, const char *name)
{
	char path[4096];

	if (name[0] == '.' ||
	    snprintf(path, sizeof(path), "%s/%s/%s", base, name,
		     KC_HOME_CONFIG) >= (int)sizeof(path))
		return false;
	return access(path, R_OK) == 0;
}

/* The only registered home in base: *name malloc'ed, or -errno. */
static int only_home_in(const char *base, char **name)
{
	struct dirent *de;
	int count = 0;
	DIR *d;

	*name = NULL;
	d = opendir(base);
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		if (!is_registered_home(base, de->d_name))
			continue;
		if (!count++)
			*name = strdup(de->d_name);
	}
	closedir(d);
	if (count != 1) {
		free(*name);
		*name = NULL;
		return count ? -ENOTUNIQ : -ENOENT;
	}
	return *name ? 0 : -ENOMEM;
}

int kc_home_find_default(char **dir)
{
	char *base = NULL, *name = NULL;
	int ret;

	*dir = NULL;
	ret = kc_home_default_dir(NULL, &base);
	if (!ret)
		ret = only_home_in(base, &name);
	if (!ret && asprintf(dir, "%s/%s", base, name) < 0) {
		*dir = NULL;
		ret = -ENOMEM;
	}
	free(name);
	free(base);
	return ret;
}

/* mkdir -p; every directory made here is 0700. */
static int make_dirs(const char *dir)
{
	char *path = strdup(dir), *p, c;
	int ret = 0;

	if (!path)
		return -ENOMEM;
	for (p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			ret = -errno;
		*p = c;
		if (ret || c == '\0')
			break;
	}
	free(path);
	return ret;
}

/*
 * Keys and session state live here: nobody else may look in. A directory
 * made here is 0700; an existing one must already be private to its
 * owner, us (changing the mode of, say, a shared directory named by
 * mistake would do harm elsewhere).
 */
int kc_home_create(struct kc_home *h, const char *dir)
{
	struct stat st;
	int ret;

	memset(h, 0, sizeof(*h));
	ret = make_dirs(dir);
	if (ret)
		return ret;
	if (stat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid() || (st.st_mode & 077))
		return -EPERM;
	h->dir = strdup(dir);
	return h->dir ? 0 : -ENOMEM;
}

void kc_home_release(struct kc_home *h)
{
	free(h->dir);
	memset(h, 0, sizeof(*h));
}

static bool pin_valid(const char *pin)
{
	size_t i;

	if (strlen(pin) != KC_PIN_HEX_LEN)
		return false;
	for (i = 0; i < KC_PIN_HEX_LEN; i++) {
		if (!strchr("0123456789abcdef", pin[i]))
			return false;
	}
	return true;
}

static int parse_config(struct kc_home *h, const uint8_t *buf, size_t len)
{
	const char *id, *agent, *pin;
	json_t *doc;
	int v = 0, ret = -EBADMSG;

	doc = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (!doc)
		return -EBADMSG;
	if (json_unpack(doc, "{s:i, s:s, s:s, s:s}", "v", &v, "id", &id,
			"agent", &agent, "ca_pin", &pin) ||
	    v != CONFIG_VERSION || !pin_valid(pin) ||
	    !kc_client_id_valid((const uint8_t *)id, strlen(id)) ||
	    !agent[0] || strlen(agent) > KC_HOME_AGENT_MAX)
		goto cleanup;
	strcpy(h->id, id);
	strcpy(h->agent, agent);
	strcpy(h->pin, pin);
	ret = 0;
cleanup:
	json_decref(doc);
	return ret;
}

int kc_home_open(struct kc_home *h, const char *dir)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	memset(h, 0, sizeof(*h));
	h->dir = strdup(dir);
	if (!h->dir)
		return -ENOMEM;
	ret = kc_home_read(h, KC_HOME_CONFIG, CONFIG_MAX, &buf, &len);
	if (!ret)
		ret = parse_config(h, buf, len);
	free(buf);
	if (ret)
		kc_home_release(h);
	return ret;
}

int kc_home_save_config(const struct kc_home *h)
{
	json_t *doc;
	char *text = NULL;
	int ret = -ENOMEM;

	doc = json_pack("{s:i, s:s, s:s, s:s}", "v", CONFIG_VERSION, "id",
			h->id, "agent", h->agent, "ca_pin", h->pin);
	if (doc)
		text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text) {
		size_t len = strlen(text);

		/* A text file ends with a newline. */
		text[len] = '\n';
		ret = kc_home_write(h, KC_HOME_CONFIG, text, len + 1, 0600);
	}
	free(text);
	json_decref(doc);
	return ret;
}

int kc_home_path(const struct kc_home *h, const char *name, char *out,
		 size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", h->dir, name);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int kc_home_read(const struct kc_home *h, const char *name, size_t max,
		 uint8_t **buf, size_t *len)
{
	char path[4096];
	int ret;

	*buf = NULL;
	ret = kc_home_path(h, name, path, sizeof(path));
	if (ret)
		return ret;
	return kc_file_read(path, max, buf, len);
}

/* The rename itself must be durable too: fsync the directory. */
int kc_home_write(const struct kc_home *h, const char *name, const void *buf,
		  size_t len, mode_t mode)
{
	char path[4096];
	int ret;

	ret = kc_home_path(h, name, path, sizeof(path));
	if (!ret)
		ret = kc_file_write_atomic(path, mode, buf, len);
	if (!ret)
		ret = kc_file_sync_dir(h->dir);
	return ret;
}

int kc_home_save_cert(const struct kc_home *h, const char *name,
		      struct kc_bytes der)
{
	char *pem = NULL;
	size_t len = 0;
	int ret;

	ret = kc_cert_to_pem(der, &pem, &len);
	if (!ret)
		ret = kc_home_write(h, name, pem, len, 0644);
	free(pem);
	return ret;
}

int kc_home_load_cert(const struct kc_home *h, const char *name,
		      uint8_t **der, size_t *len)
{
	uint8_t *buf = NULL;
	size_t buf_len = 0;
	int ret;

	ret = kc_home_read(h, name, CERT_FILE_MAX, &buf, &buf_len);
	if (!ret)
		ret = kc_cert_to_der(buf, buf_len, der, len);
	free(buf);
	return ret == -EINVAL ? -EBADMSG : ret;
}

static int lock_file(const struct kc_home *h, const char *name, int how,
		     int *fd)
{
	char lock[4096];
	int ret;

	*fd = -1;
	if (snprintf(lock, sizeof(lock), "%s/.%s.lock", h->dir, name) >=
	    (int)sizeof(lock))
		return -ENAMETOOLONG;
	*fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return -errno;
	do
		ret = flock(*fd, how);
	while (ret && errno == EINTR);
	if (ret) {
		ret = -errno;
		close(*fd);
		*fd = -1;
	}
	return ret;
}

int kc_home_lock(const struct kc_home *h, const char *name, int *fd)
{
	return lock_file(h, name, LOCK_EX, fd);
}

int kc_home_trylock(const struct kc_home *h, const char *name, int *fd)
{
	return lock_file(h, name, LOCK_EX | LOCK_NB, fd);
}

void kc_home_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
