/*
 * NAME
 *	fuzz_maddr - libFuzzer target for RFC 5321 paths (mail/maddr.c)
 * SUMMARY
 *	Parses arbitrary bytes as a path (flags from the first byte) and
 *	checks the promises an accepted address makes.
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	Promises checked: the path used is at most 256 octets and the local
 *	part at most 64; no control byte or NUL in local part or domain, no
 *	'<' '>' in the domain, and a local part with specials is quoted; the canonical path is no longer than the input path and
 *	parses back to the same kind, local part and domain; a rejected
 *	path has a reason and a 5.x.x code suggestion.
 * DIAGNOSTICS
 *	Crashes, sanitizer reports and abort() on a broken promise.
 * SECURITY
 *	Input is arbitrary; nothing is kept between runs.
 * BUGS
 *	None known.
 * SEE ALSO
 *	mail/maddr.h, tests/fuzz/replay_main.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "maddr.h"
#include "zbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* clean - no control bytes, DEL, '<' or '>' (for the domain) */
static int clean(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 32 || c == 127 || c == '<' || c == '>')
			return 0;
	}
	return 1;
}

/* LLVMFuzzerTestOneInput - parse, format, parse again */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zbuf err = ZBUF_INIT(256), out = ZBUF_INIT(1024);
	const char *s = (const char *)data + 1;
	maddr a, b;
	unsigned flags;
	size_t used = 0, n;
	int rc;

	if (size == 0)
		return 0;
	flags = data[0] & 0x0f;
	n = size - 1;
	rc = maddr_parse_path(s, n, flags, &a, &used, &err);
	if (rc != Z_OK) {
		if (rc != Z_EPARSE || err.len == 0 || a.enh == NULL || a.enh[0] != '5' || used != 0)
			abort();
		goto done;
	}
	if (used == 0 || used > n || used > MADDR_PATH_MAX || a.local_len > MADDR_LOCAL_MAX ||
	    (used < n && s[used] != ' '))
		abort();
	if (!clean(a.domain, a.domain_len) || strlen(a.domain) != a.domain_len ||
	    strlen(a.local) != a.local_len)
		abort();
	/* a local part with specials in it is always quoted on output */
	for (size_t i = 0; i < a.local_len; i++) {
		unsigned char c = (unsigned char)a.local[i];
		if (c < 32 || c == 127)
			abort();
		if (strchr(" \"\\<>@,;:()[]", c) != NULL && !maddr_local_needs_quote(a.local, a.local_len))
			abort();
	}
	if (maddr_format_path(&a, &out) != Z_OK)
		abort();
	if (out.len > used && !(flags & MADDR_NO_ANGLE_OK))
		abort();
	if (maddr_parse_path(out.data, out.len, flags & ~MADDR_NO_ANGLE_OK, &b, NULL, &err) != Z_OK)
		abort();
	if (b.kind != a.kind || b.local_len != a.local_len || strcmp(b.local, a.local) != 0 ||
	    strcmp(b.domain, a.domain) != 0)
		abort();
	/* the bare form of a mailbox parses too */
	if (a.kind == MADDR_MAILBOX) {
		zbuf_reset(&out);
		if (maddr_format(&a, &out) != Z_OK)
			abort();
		if (maddr_parse_addr(out.data, out.len, flags, &b, NULL) != Z_OK ||
		    strcmp(b.local, a.local) != 0)
			abort();
	}
done:
	zbuf_free(&err);
	zbuf_free(&out);
	return 0;
}
