/*
 * NAME
 *	fuzz_zconf - libFuzzer target for the zmta.conf, interval and glob parsers
 * SUMMARY
 *	Feeds arbitrary bytes to zconf_parse, and NUL-terminated copies of
 *	them to zinterval_parse, zconf_expand and zglob_match.
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	The input is parsed as a whole file; then the first line is used as
 *	an interval and as a glob pattern matched against the rest (split at
 *	the first newline), with and without ZGLOB_NOCASE.  (xtext is
 *	fuzzed by fuzz_mxtext.)
 * DIAGNOSTICS
 *	Crashes and sanitizer reports.
 * SECURITY
 *	Input is arbitrary; everything is freed after each run.
 * BUGS
 *	None known.
 * SEE ALSO
 *	tests/fuzz/replay_main.c, lib/zconf.h, lib/zutil.h
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "zbuf.h"
#include "zconf.h"
#include "zutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zbuf err = ZBUF_INIT(512);
	zbuf out = ZBUF_INIT(8192);
	char *copy, *nl;
	const char *pat, *str;
	long secs;

	zconf_parse("fuzz.conf", (const char *)data, size, &err);
	if (size > 65536)
		goto done;
	copy = malloc(size + 1);
	if (copy == NULL)
		goto done;
	if (size)
		memcpy(copy, data, size);
	copy[size] = '\0';
	(void)zinterval_parse(copy, &secs);
	(void)zconf_expand(copy, &out);
	nl = strchr(copy, '\n');
	pat = copy;
	str = "";
	if (nl != NULL) {
		*nl = '\0';
		str = nl + 1;
	}
	(void)zinterval_parse(pat, &secs);
	(void)zglob_match(pat, str, 0);
	(void)zglob_match(pat, str, ZGLOB_NOCASE);
	free(copy);
done:
	zconf_free();
	zbuf_free(&err);
	zbuf_free(&out);
	return 0;
}
