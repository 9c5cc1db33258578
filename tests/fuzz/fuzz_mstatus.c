/*
 * NAME
 *	fuzz_mstatus - libFuzzer target for enhanced status codes
 * SUMMARY
 *	Feeds arbitrary bytes to the mstatus parsers and checks they agree.
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	Promises checked: a prefix found is at most the input, is followed
 *	by a blank or the end, and parses on its own to the same value,
 *	which formats back to a valid code; mstatus_from_reply never
 *	yields a class that disagrees with a 2xx/4xx/5xx code; Action and
 *	Status field parsers stay in range.
 * DIAGNOSTICS
 *	Crashes, sanitizer reports and abort() on a broken promise.
 * SECURITY
 *	Input is arbitrary; nothing is kept between runs.
 * BUGS
 *	None known.
 * SEE ALSO
 *	mail/mstatus.h, tests/fuzz/replay_main.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mstatus.h"
#include "zbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - parsers agree */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zspan in = { (const char *)data, size };
	mstatus a, b;
	char buf[MSTATUS_TEXT_MAX];
	size_t n = mstatus_prefix(in, &a);
	int act;

	if (n > size)
		abort();
	if (n > 0) {
		if (n < size && data[n] != ' ' && data[n] != '\t')
			abort();
		if (mstatus_parse((zspan){ in.p, n }, &b, NULL) != Z_OK ||
		    memcmp(&a, &b, sizeof a) != 0)
			abort();
		if (mstatus_format(&a, buf, sizeof buf) != Z_OK || !mstatus_valid(zspan_from(buf)))
			abort();
	}
	if (mstatus_valid(in) && n != size)
		abort();
	for (int code = 200; code < 600; code += 100) {
		if (code == 300)
			continue;
		if (mstatus_from_reply(code + 50, in, &b) != Z_OK || !mstatus_agrees(&b, code + 50))
			abort();
	}
	act = maction_parse(in);
	if (act < -1 || act > MACTION_EXPANDED)
		abort();
	if (mstatus_field_parse(in, &b, NULL) == Z_OK && (b.cls < 2 || b.cls > 5 ||
	    b.subject > 999 || b.detail > 999))
		abort();
	return 0;
}
