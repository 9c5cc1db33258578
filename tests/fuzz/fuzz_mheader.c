/*
 * NAME
 *	fuzz_mheader - libFuzzer target for RFC 5322 headers (mail/mheader.c)
 * SUMMARY
 *	Splits arbitrary bytes into header fields, unfolds and tokenizes
 *	each value and parses it as an address list.
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	Promises checked: fields lie inside the input, in order, within
 *	max_field; names hold no ':' or blank; an unfolded value holds no
 *	line end; the tokenizer always advances and its tokens lie inside
 *	the value; every address returned has its offsets inside the text
 *	buffer, NUL-terminated, and no blank or line end outside quotes in
 *	its addr-spec (domain literals included).
 * DIAGNOSTICS
 *	Crashes, sanitizer reports and abort() on a broken promise.
 * SECURITY
 *	Input is arbitrary; nothing is kept between runs.
 * BUGS
 *	None known.
 * SEE ALSO
 *	mail/mheader.h, tests/fuzz/replay_main.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mheader.h"
#include "zbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXF 64
#define MAXA 32

/* check_tokens - walk the tokens of v */
static void check_tokens(zspan v)
{
	zcur c;
	mtok t;

	zcur_init(&c, v.p, v.n);
	for (;;) {
		size_t before = c.pos;

		if (mtok_next(&c, &t, NULL) != Z_OK || t.kind == MTOK_END)
			break;
		if (c.pos <= before || t.raw.p < v.p || t.raw.p + t.raw.n > v.p + v.n || t.raw.n == 0)
			abort();
	}
}

/* check_addrs - parse v as an address list */
static void check_addrs(zspan v)
{
	zbuf text = ZBUF_INIT(8192), err = ZBUF_INIT(256);
	mhdr_addr a[MAXA];
	size_t n = 0;

	(void)mhdr_addrlist(v, &text, a, MAXA, &n, &err);
	if (n > MAXA)
		abort();
	for (size_t i = 0; i < n; i++) {
		const char *s;
		int q = 0;

		if (a[i].addr_off + a[i].addr_len >= text.len + 1 || text.data == NULL)
			abort();
		s = text.data + a[i].addr_off;
		if (s[a[i].addr_len] != '\0' || a[i].addr_len == 0)
			abort();
		for (size_t k = 0; k < a[i].addr_len; k++) {
			if (s[k] == '"' && (k == 0 || s[k - 1] != '\\'))
				q = !q;
			if (!q && (s[k] == ' ' || s[k] == '\r' || s[k] == '\n'))
				abort();
		}
		if (a[i].name_len && text.data[a[i].name_off + a[i].name_len] != '\0')
			abort();
		if (a[i].in_group && text.data[a[i].group_off + a[i].group_len] != '\0')
			abort();
	}
	zbuf_free(&text);
	zbuf_free(&err);
}

/* LLVMFuzzerTestOneInput - split, unfold, tokenize, parse */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	mhdr_field f[MAXF];
	size_t nf = 0, body = 0;
	const char *prev = s;

	(void)mhdr_split(s, size, 4096, f, MAXF, &nf, &body, NULL);
	if (nf > MAXF || body > size)
		abort();
	for (size_t i = 0; i < nf; i++) {
		zbuf u = ZBUF_INIT(8192);

		if (f[i].raw.p < prev || f[i].raw.p + f[i].raw.n > s + size || f[i].raw.n > 4096)
			abort();
		prev = f[i].raw.p + f[i].raw.n;
		for (size_t k = 0; k < f[i].name.n; k++)
			if (f[i].name.p[k] == ':' || f[i].name.p[k] == ' ' || f[i].name.p[k] == '\t')
				abort();
		if (mhdr_unfold(f[i].value, &u) == Z_OK)
			for (size_t k = 0; k < u.len; k++)
				if (u.data[k] == '\n')
					abort();
		check_tokens(f[i].value);
		check_addrs(f[i].value);
		zbuf_free(&u);
	}
	/* the whole input as one value too */
	check_tokens((zspan){ s, size });
	check_addrs((zspan){ s, size });
	return 0;
}
