// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reused RSA test keys: see keycache.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "keycache.h"

#define KEY_FILE_MAX 4096 /* an RSA-2048 PKCS#8 DER is about 1.2 KiB */

static int key_path(const char *name, char *path, size_t cap)
{
	char dir[64];

	if (!name[0] || strlen(name) > 64 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") !=
		    strlen(name) ||
	    name[0] == '.')
		return -EINVAL;
	snprintf(dir, sizeof(dir), "/tmp/kc-test-keys-%u", (unsigned)getuid());
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	snprintf(path, cap, "%s/%s.p8", dir, name);
	return 0;
}

static int read_key(const char *path, EVP_PKEY **out)
{
	uint8_t der[KEY_FILE_MAX];
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, der, sizeof(der));
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (!ret)
		ret = n > 0 ? kc_rsa_parse_pkcs8(der, (size_t)n, out) : -EINVAL;
	explicit_bzero(der, sizeof(der));
	return ret;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Stores key at path: a temporary file first, then rename. */
static int write_key(const char *path, EVP_PKEY *key)
{
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(key);
	char tmp[PATH_MAX + 32];
	unsigned char *der = NULL;
	int len, fd, ret;

	len = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &der) : -1;
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (len <= 0)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ret = fd < 0 ? -errno : write_all(fd, der, (size_t)len);
	if (fd >= 0 && close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret && fd >= 0)
		unlink(tmp);
	OPENSSL_clear_free(der, (size_t)len);
	return ret;
}

int test_cached_rsa_key(const char *name, EVP_PKEY **out)
{
	char path[PATH_MAX];
	int ret;

	*out = NULL;
	ret = key_path(name, path, sizeof(path));
	if (ret)
		return ret;
	if (!read_key(path, out))
		return 0;
	ret = kc_rsa_generate(out);
	if (ret)
		return ret;
	/* A key that cannot be cached is still a good key for this test. */
	write_key(path, *out);
	return 0;
}
