/*
 * NAME
 *	fuzz_mparam - libFuzzer target for ESMTP parameters (mail/mparam.c)
 * SUMMARY
 *	Parses arbitrary bytes as a MAIL or RCPT parameter list (allowed
 *	mask from the first byte) and checks the promises of the result.
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	Promises checked: only allowed keywords are seen; value spans lie
 *	inside the input and hold only bytes 33..126 except '='; xtext
 *	values are strict xtext; ENVID decodes to at most 100 bytes; NOTIFY
 *	NEVER stands alone; an error has a reason, a 5.x.x code and a reply
 *	of 501, 552 or 555 matching the status.
 * DIAGNOSTICS
 *	Crashes, sanitizer reports and abort() on a broken promise.
 * SECURITY
 *	Input is arbitrary; nothing is kept between runs.
 * BUGS
 *	None known.
 * SEE ALSO
 *	mail/mparam.h, tests/fuzz/replay_main.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mparam.h"
#include "xtext.h"
#include "zbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* inside - span lies in [s, s+n) and holds esmtp-value bytes */
static int inside(zspan v, const char *s, size_t n)
{
	if (v.n == 0)
		return 1;
	if (v.p < s || v.p + v.n > s + n)
		return 0;
	for (size_t i = 0; i < v.n; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (c < 33 || c > 126 || c == '=')
			return 0;
	}
	return 1;
}

/* LLVMFuzzerTestOneInput - one parse, promises checked */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zbuf err = ZBUF_INIT(512);
	const char *s = (const char *)data + 1;
	mparams p;
	unsigned allowed;
	size_t n;
	int rc;

	if (size == 0)
		return 0;
	allowed = data[0];
	n = size - 1;
	rc = mparam_parse(s, n, allowed, &p, &err);
	if (rc != Z_OK) {
		if (err.len == 0 || p.enh == NULL || p.enh[0] != '5')
			abort();
		if ((rc == Z_EPARSE && p.reply != 501) || (rc == Z_ENOENT && p.reply != 555) ||
		    (rc == Z_ETOOBIG && p.reply != 552))
			abort();
		if (rc != Z_EPARSE && rc != Z_ENOENT && rc != Z_ETOOBIG)
			abort();
		goto done;
	}
	if ((p.seen & ~allowed) != 0)
		abort();
	if (!inside(p.envid, s, n) || !inside(p.orcpt, s, n) || !inside(p.orcpt_type, s, n) ||
	    !inside(p.auth, s, n))
		abort();
	if ((p.seen & MPARAM_ENVID) && (!xtext_valid(p.envid) ||
	    xtext_decoded_len(p.envid) > MPARAM_ENVID_MAX))
		abort();
	if ((p.seen & MPARAM_ORCPT) && (!xtext_valid(p.orcpt) || p.orcpt.n == 0 ||
	    p.orcpt_type.n == 0))
		abort();
	if ((p.seen & MPARAM_AUTH) && !p.auth_null && !xtext_valid(p.auth))
		abort();
	if ((p.notify & MNOTIFY_NEVER) && p.notify != MNOTIFY_NEVER)
		abort();
	if ((p.seen & MPARAM_NOTIFY) && p.notify == 0)
		abort();
done:
	zbuf_free(&err);
	return 0;
}
