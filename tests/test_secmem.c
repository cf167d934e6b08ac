// SPDX-License-Identifier: GPL-2.0-only
/*
 * The locked pool's one loud line (base/secmem.h): where mlock is refused
 * (RLIMIT_MEMLOCK 0, and no CAP_IPC_LOCK: as root the child becomes
 * nobody first), the pools still work, unlocked, and standard error gets
 * exactly one WARNING for the whole process, however many chunks and
 * pools fail.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "base/secmem.h"

#define WARNING "WARNING: mlock failed"

/* Without the right to lock: 0, or why not. */
static int lose_mlock(void)
{
	const struct rlimit none = { 0, 0 };
	struct passwd *pw = getpwnam("nobody");

	if (setrlimit(RLIMIT_MEMLOCK, &none))
		return 1;
	if (geteuid() == 0 &&
	    (!pw || setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid)))
		return 2;
	return 0;
}

/* Two pools, three slots each time: several chunks refused. */
static int use_pools(void)
{
	struct kc_secmem *a = NULL, *b = NULL;
	uint32_t idx;
	int ret = 0;

	if (kc_secmem_create(4096, 64, &a) || kc_secmem_create(32, 8, &b))
		return 3;
	for (int i = 0; i < 40 && !ret; i++)
		ret = kc_secmem_alloc(a, &idx) ? 4 : 0;
	if (!ret && kc_secmem_alloc(b, &idx))
		ret = 5;
	if (!ret && (kc_secmem_locked(a) || kc_secmem_locked(b)))
		ret = 6;
	kc_secmem_destroy(a);
	kc_secmem_destroy(b);
	return ret;
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KC_ASAN 1
#endif
#endif

TEST(mlock_refused_said_once)
{
#if defined(KC_ASAN) || defined(__SANITIZE_ADDRESS__)
	SKIP(return, "ASan's mlock is a no-op that always succeeds: the "
		     "refusal cannot happen in this build");
#endif
	char buf[4096] = "";
	int fds[2], st, warnings = 0;
	ssize_t n, got = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(fds));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ret;

		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		ret = lose_mlock();
		_exit(ret ? ret : use_pools());
	}
	close(fds[1]);
	while ((n = read(fds[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	buf[got] = '\0';
	close(fds[0]);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st)) TH_LOG("%s", buf);
	for (const char *p = strstr(buf, WARNING); p;
	     p = strstr(p + 1, WARNING))
		warnings++;
	EXPECT_EQ(1, warnings) TH_LOG("stderr: %s", buf);
	EXPECT_NE(NULL, strstr(buf, "RLIMIT_MEMLOCK"));
}

TEST_HARNESS_MAIN
