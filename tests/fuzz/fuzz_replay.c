/* fuzz_replay.c - runs a fuzz target once on every file of the folders
 * given on the command line, without libFuzzer (the ctest form of every
 * target, in the gcc and the sanitizer builds).
 *
 * NOTES: files are run in name order, so a failure names the same file
 * each time; the name is printed before the run, so the last line before
 * an abort is the reproducer. A folder that does not exist counts as empty
 * (git keeps no empty folder, and a target may have no crashers yet), but
 * a run that found no file at all fails: a mistyped path must not pass.
 * Exit codes: 0 every file ran, 1 usage or I/O error; a failed check
 * aborts.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf = NULL;
	size_t n;

	if (f == NULL || fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	n = (size_t) st.st_size;
	/* a buffer of exactly the input's size, so ASan sees any overread */
	buf = malloc(n > 0 ? n : 1);
	if (buf == NULL || fread(buf, 1, n, f) != n) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	printf("replay: %s (%zu bytes)\n", path, n);
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FOLDER...\n", argv[0]);
		return 1;
	}
	for (int a = 1; a < argc; a++) {
		struct dirent **ents;
		int n = scandir(argv[a], &ents, NULL, by_name);
		if (n < 0) {
			if (errno == ENOENT)
				continue;
			fprintf(stderr, "replay: %s: %s\n", argv[a], strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++) {
			char path[4096];
			struct stat st;
			snprintf(path, sizeof(path), "%s/%s", argv[a], ents[i]->d_name);
			if (ents[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				if (run_file(path) != 0)
					return 1;
				files++;
			}
			free(ents[i]);
		}
		free(ents);
	}
	if (files == 0) {
		fprintf(stderr, "replay: no input file found\n");
		return 1;
	}
	printf("replay: %d files, every check passed\n", files);
	return 0;
}
