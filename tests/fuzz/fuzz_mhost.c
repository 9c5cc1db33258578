/*
 * NAME
 *	fuzz_mhost - libFuzzer target for the RFC 5321 host grammar
 * SUMMARY
 *	Feeds arbitrary bytes to mhost_parse and checks the promises the
 *	grammar makes to its callers.
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	A host accepted by mhost_parse must not start with '-', must hold no
 *	byte below 0x21, no '/', and no ':' outside an "[IPv6:" literal;
 *	otherwise the target aborts.
 * DIAGNOSTICS
 *	Crashes, sanitizer reports and abort() on a broken promise.
 * SECURITY
 *	Input is arbitrary; nothing is kept between runs.
 * BUGS
 *	None known.
 * SEE ALSO
 *	mail/mhost.h, tests/fuzz/replay_main.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "mhost.h"
#include "zbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - one parse, promises checked */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zbuf err = ZBUF_INIT(256);
	const char *s = (const char *)data;
	mhost h;

	if (mhost_parse(s, size, &h, &err) == Z_OK) {
		if (s[0] == '-')
			abort();
		for (size_t i = 0; i < size; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c <= 0x20 || c == '/' || c >= 0x7f)
				abort();
			if (c == ':' && h.kind != MHOST_IPV6)
				abort();
		}
	}
	zbuf_free(&err);
	return 0;
}
