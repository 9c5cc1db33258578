/*
 * NAME
 *	fuzz_mxtext - libFuzzer target for RFC 3461 xtext (mail/xtext.c)
 * SUMMARY
 *	Round-trips arbitrary bytes through xtext and compares the decoder
 *	with lib/zbuf.c's.
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	Promises checked: encode(x) is strict xtext and decodes back to x;
 *	xtext_decode and zbuf_xtext_decode agree on status and output;
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

/* LLVMFuzzerTestOneInput - round trip and equivalence */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zspan in = { (const char *)data, size };
	zbuf e = ZBUF_INIT(3 * size + 16), d = ZBUF_INIT(size + 16), l = ZBUF_INIT(size + 16);
	int rd, rl;

	if (xtext_encode(&e, in) != Z_OK)
		abort();
	if (!xtext_valid((zspan){ e.data ? e.data : "", e.len }))
		abort();
	if (xtext_decode(&d, (zspan){ e.data ? e.data : "", e.len }) != Z_OK || d.len != size ||
	    (size && memcmp(d.data, data, size) != 0))
		abort();
	zbuf_reset(&d);
	rd = xtext_decode(&d, in);
	rl = zbuf_xtext_decode(&l, in);
	if (rd != rl || d.len != l.len || (d.len && memcmp(d.data, l.data, d.len) != 0))
		abort();
	if (xtext_valid(in) && (rd != Z_OK || xtext_decoded_len(in) != d.len))
		abort();
	if ((rd == Z_OK) != (xtext_decoded_len(in) != (size_t)-1))
		abort();
	zbuf_free(&e);
	zbuf_free(&d);
	zbuf_free(&l);
	return 0;
}
