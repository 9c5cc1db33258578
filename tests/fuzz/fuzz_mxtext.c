/*
 * NAME
 *	fuzz_mxtext - libFuzzer target for RFC 3461 xtext (mail/xtext.c)
 * SUMMARY
 *	Round-trips arbitrary bytes through xtext and checks the lenient
 *	decoder's status and output.
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	Promises checked: encode(x) is strict xtext and decodes back to x;
 *	xtext_decode gives Z_OK or Z_EPARSE (output untouched on error);
 *	strict-valid input always decodes, to xtext_decoded_len bytes.
 * DIAGNOSTICS
 *	Crashes, sanitizer reports and abort() on a broken promise.
 * SECURITY
 *	Input is arbitrary; nothing is kept between runs.
 * BUGS
 *	None known.
 * SEE ALSO
 *	mail/xtext.h, tests/fuzz/replay_main.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "xtext.h"
#include "zbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - round trip and decoder promises */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zspan in = { (const char *)data, size };
	zbuf e = ZBUF_INIT(3 * size + 16), d = ZBUF_INIT(size + 16);
	int rd;

	if (xtext_encode(&e, in) != Z_OK)
		abort();
	if (!xtext_valid((zspan){ e.data ? e.data : "", e.len }))
		abort();
	if (xtext_decode(&d, (zspan){ e.data ? e.data : "", e.len }) != Z_OK || d.len != size ||
	    (size && memcmp(d.data, data, size) != 0))
		abort();
	zbuf_reset(&d);
	rd = xtext_decode(&d, in);
	if (rd != Z_OK && rd != Z_EPARSE)
		abort();
	if (rd != Z_OK && d.len != 0)
		abort();                /* output unchanged on error */
	if (xtext_valid(in) && (rd != Z_OK || xtext_decoded_len(in) != d.len))
		abort();
	if ((rd == Z_OK) != (xtext_decoded_len(in) != (size_t)-1))
		abort();
	zbuf_free(&e);
	zbuf_free(&d);
	return 0;
}
