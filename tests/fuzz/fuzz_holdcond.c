/*
 * NAME
 *	fuzz_holdcond - libFuzzer target for the hold agent's condition parser
 * SUMMARY
 *	Feeds arbitrary bytes to hold_cond_parse as a control file's host
 *	field.
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	The result must be Z_OK, Z_ENOENT or Z_EPARSE, with a reason for the
 *	two failures; a SCRIPT: name that parsed never holds '/' or starts
 *	with '.', and its argument never starts with '-'.
 * DIAGNOSTICS
 *	Crashes, sanitizer reports and abort() on a broken promise.
 * SECURITY
 *	Input is arbitrary; everything is freed after each run.
 * BUGS
 *	None known.
 * SEE ALSO
 *	tests/fuzz/replay_main.c, transport/hold/holdcond.h
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "holdcond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hold_cond c;
	zbuf err = ZBUF_INIT(512);
	int rc = hold_cond_parse((const char *)data, size, &c, &err);

	if (rc != Z_OK && rc != Z_ENOENT && rc != Z_EPARSE)
		abort();
	if (rc != Z_OK && err.len == 0)
		abort();
	if (rc == Z_OK && c.cls == HOLD_SCRIPT &&
	    (strchr(c.name, '/') != NULL || c.name[0] == '.' || c.name[0] == '\0' || c.arg[0] == '-'))
		abort();
	zbuf_free(&err);
	return 0;
}
