/* replay: feeds files to the fuzz target's entry point without libFuzzer,
 * so the seed corpus and every input the fuzzer once broke (fuzz/regressions)
 * are checked in every build, sanitizers or not. Arguments are files or
 * directories (walked recursively). Exit 0 when every input ended well; an
 * input that breaks an invariant aborts (the file name is printed first). */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path, size_t *count)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;
	int ret = 0;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (cap - len < 4096) {
			uint8_t *grown = realloc(buf, cap + 65536);

			if (!grown) {
				ret = -1;
				goto out;
			}
			buf = grown;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fprintf(stderr, "replay: %s\n", path);
	LLVMFuzzerTestOneInput(buf, len);
	(*count)++;
out:
	free(buf);
	fclose(f);
	return ret;
}

static int replay_path(const char *path, size_t *count, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int ret = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? replay_file(path, count) : 0;
	if (depth > 8 || !(d = opendir(path)))
		return -1;
	while (ret == 0 && (de = readdir(d))) {
		char sub[4096];

		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		ret = replay_path(sub, count, depth + 1);
	}
	closedir(d);
	return ret;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int i;

	for (i = 1; i < argc; i++)
		if (replay_path(argv[i], &count, 0) < 0)
			return 1;
	if (count == 0) {
		fprintf(stderr, "replay: no input files\n");
		return 1;
	}
	printf("replay: %zu input(s), every one loaded or refused with a located error\n", count);
	return 0;
}
