/*
 * NAME
 *	scratch.h - one scratch directory per unit-test run
 * SUMMARY
 *	scratch_begin() makes $TMPDIR/<name>.XXXXXX and points TMPDIR at it,
 *	so every mkdtemp() of the tests lands below it; scratch_end() removes
 *	the whole tree from the parent process after srunner_run_all().
 * DESCRIPTION
 *	libcheck runs each test in a child that exits at its first failed
 *	assertion, before its own clean-up; the parent still removes what
 *	the child left.
 * DIAGNOSTICS
 *	scratch_begin returns -1 (with a perror line) when the directory
 *	cannot be made; scratch_end returns -1 when it cannot be removed.
 * SECURITY
 *	The path is ours from mkdtemp(); it is quoted for the shell.
 * BUGS
 *	A TMPDIR containing a single quote is refused (it would need shell
 *	quoting).
 * SEE ALSO
 *	mkdtemp(3), check(3)
 */
#ifndef ZMTA_TESTS_SCRATCH_H
#define ZMTA_TESTS_SCRATCH_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char scratch_dir[400];

/* scratch_begin - make the run's scratch directory and export it as TMPDIR */
static int scratch_begin(const char *name)
{
	const char *t = getenv("TMPDIR");
	int n = snprintf(scratch_dir, sizeof(scratch_dir), "%s/%s.XXXXXX",
			 t && *t ? t : "/tmp", name);

	if (n < 0 || (size_t)n >= sizeof(scratch_dir) || strchr(scratch_dir, '\'') != NULL ||
	    mkdtemp(scratch_dir) == NULL || setenv("TMPDIR", scratch_dir, 1) != 0) {
		perror("scratch directory");
		scratch_dir[0] = '\0';
		return -1;
	}
	return 0;
}

/* scratch_end - remove the scratch tree, whatever the tests left in it */
static int scratch_end(void)
{
	char cmd[460];

	if (scratch_dir[0] == '\0')
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* scratch_run - run suite s inside one scratch directory; main's exit code
 * (99 when the directory cannot be made, failure when it cannot be removed) */
static inline int scratch_run(Suite *s, const char *name)
{
	SRunner *sr = srunner_create(s);
	int nf;

	if (scratch_begin(name) != 0) {
		srunner_free(sr);
		return 99;
	}
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (scratch_end() != 0)
		nf++;
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
