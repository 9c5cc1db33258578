/*
 * NAME
 *	replay_main - run a fuzz target over its stored corpus (make check)
 * SYNOPSIS
 *	replay_<target> [corpus-dir-or-file ...]
 * DESCRIPTION
 *	Links with one fuzz_<target>.c and feeds every file of the corpus
 *	directory (compiled in as FUZZ_CORPUS, or given as arguments) to
 *	LLVMFuzzerTestOneInput().  A crash or sanitizer report fails the
 *	test; an empty or missing corpus fails it too, so a target cannot
 *	silently replay nothing.
 * SECURITY
 *	Reads only the files named; inputs are whatever the corpus holds.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "zbuf.h"
#include "zutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* replay_file - feed one file; returns 1 if fed */
static int replay_file(const char *path)
{
	zbuf b = ZBUF_INIT(16u * 1024u * 1024u);
	zbuf err = ZBUF_INIT(512);
	int fed = 0;

	if (zread_file(path, b.max, &b, &err) == Z_OK) {
		/* a private copy of exactly len bytes so ASan sees overreads */
		uint8_t *copy = malloc(b.len ? b.len : 1);
		if (copy != NULL) {
			if (b.len)
				memcpy(copy, b.data, b.len);
			LLVMFuzzerTestOneInput(copy, b.len);
			free(copy);
			fed = 1;
		}
	} else {
		fprintf(stderr, "replay: %s: %s\n", path, zbuf_cstr(&err));
	}
	zbuf_free(&b);
	zbuf_free(&err);
	return fed;
}

/* replay_dir - feed every regular file in dir */
static int replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	char path[4096];

	if (d == NULL) {
		perror(dir);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			n += replay_file(path);
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	int n = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			struct stat st;
			if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
				n += replay_dir(argv[i]);
			else
				n += replay_file(argv[i]);
		}
	} else {
		n = replay_dir(FUZZ_CORPUS);
	}
	printf("replayed %d inputs\n", n);
	return n > 0 ? 0 : 1;
}
