/*
 * runsuite.h - the one main() body of a libcheck unit test: run a suite,
 * exit status 0 only when every case passed.
 */
#ifndef ZMTA_TESTS_RUNSUITE_H
#define ZMTA_TESTS_RUNSUITE_H

#include <check.h>

/* run_suite - run every case of s (CK_NORMAL output), free it; 0 or 1 */
static inline int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

#endif
