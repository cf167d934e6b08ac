// SPDX-License-Identifier: GPL-2.0-only
/*
 * A fuzz target without libFuzzer: runs its LLVMFuzzerTestOneInput once
 * on each file named, or on each file in each directory named, and says
 * how many it ran. make check builds every target this way with the
 * ordinary compiler and replays the committed corpora
 * (tests/test_fuzz_replay.sh), so an input that once crashed a target
 * stays in the corpus as a regression test. A target's own checks
 * abort(), which ends the replay with the file's name already printed.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Only the targets with a world to make define it. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define INPUT_MAX (1u << 20)

static int replay_file(const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int ret = kc_file_read(path, INPUT_MAX, &data, &len);

	if (ret) {
		fprintf(stderr, "%s: cannot read\n", path);
		return -1;
	}
	fprintf(stderr, "replay %s\n", path);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 1;
}

/* Every regular file in dir, in no particular order; -1 on a failure. */
static int replay_dir(const char *dir)
{
	struct dirent *de;
	char path[4096];
	int n = 0, ret;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ret = replay_file(path);
		if (ret < 0) {
			n = -1;
			break;
		}
		n += ret;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	int total = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		int n;

		if (stat(argv[i], &st)) {
			fprintf(stderr, "%s: no such file\n", argv[i]);
			return 1;
		}
		n = S_ISDIR(st.st_mode) ? replay_dir(argv[i])
					: replay_file(argv[i]);
		if (n < 0)
			return 1;
		total += n;
	}
	printf("%d inputs replayed\n", total);
	return 0;
}
