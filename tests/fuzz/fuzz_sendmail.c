/*
 * NAME
 *	fuzz_sendmail - libFuzzer target for sendmail's input handling
 *	(sendmail/smlib.c)
 * SUMMARY
 *	Runs arbitrary bytes through the input filter, the header-end
 *	finder, the header rewrite with -t and the envelope writer.
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	The first byte chooses -i and the block size the input is fed in.
 *	Promises checked: the filtered text is no longer than the input,
 *	ends in a newline (or is empty); feeding in blocks gives the same text as
 *	feeding at once; the header block lies inside the text; the
 *	rewritten header has no Bcc or Resent-Bcc field; every envelope line
 *	starts with a known keyword and the envelope ends with "env-end".
 * DIAGNOSTICS
 *	Crashes, sanitizer reports and abort() on a broken promise.
 * SECURITY
 *	Input is arbitrary; nothing is kept between runs.
 * BUGS
 *	None known.
 * SEE ALSO
 *	sendmail/smlib.h, tests/fuzz/replay_main.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "smlib.h"
#include "zbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* filter - the whole input through sm_in in blocks of step bytes */
static void filter(const char *p, size_t n, int iflag, size_t step, zbuf *out)
{
	sm_in in;

	sm_in_init(&in, iflag);
	for (size_t i = 0; i < n; i += step)
		if (sm_in_feed(&in, p + i, n - i < step ? n - i : step, out) != Z_OK)
			abort();
	if (sm_in_finish(&in, out) != Z_OK || in.bytes != out->len)
		abort();
}

/* line_ok - an envelope line starts with a keyword sendmail writes */
static int line_ok(const char *s, size_t n)
{
	static const char *const kw[] = { "external", "bodytype ", "from <", "channel error",
					   "envid ", "notaryret ", "todsn ", "to <", "env-end" };

	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		if (n >= strlen(kw[i]) && memcmp(s, kw[i], strlen(kw[i])) == 0)
			return 1;
	return 0;
}

/* is_bcc - the line starts a Bcc: or Resent-Bcc: field */
static int is_bcc(const char *l)
{
	size_t k = strcspn(l, ": \t\n");
	size_t j = k + strspn(l + k, " \t");

	if (l[j] != ':')
		return 0;
	return (k == 3 && strncasecmp(l, "bcc", 3) == 0) ||
	       (k == 10 && strncasecmp(l, "resent-bcc", 10) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zbuf a = ZBUF_INIT(4 * size + 16), b = ZBUF_INIT(4 * size + 16);
	zbuf out = ZBUF_INIT(SM_HEADER_MAX * 2), env = ZBUF_INIT(1u << 22), err = ZBUF_INIT(1024);
	size_t skip, hl, bo;
	int nb, iflag;
	size_t step;
	sm_rcpts r;

	if (size < 1)
		return 0;
	iflag = data[0] & 1;
	step = (size_t)(data[0] >> 1) + 1;
	filter((const char *)data + 1, size - 1, iflag, size, &a);
	filter((const char *)data + 1, size - 1, iflag, step, &b);
	if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
		abort();
	if (a.len > 0 && a.data[a.len - 1] != '\n')
		abort();
	if (a.len > size)
		abort();
	if (!sm_header_end(a.data ? a.data : "", a.len, 1, &skip, &hl, &bo, &nb))
		abort();
	if (skip > hl || hl > bo || bo > a.len)
		abort();
	sm_rcpts_init(&r, 200);
	{
		sm_hctx h = { 1, "U <u@h.test>", "Mon, 7 Dec 2026 00:00:00 +0000", "<i@h.test>",
			      "h.test: u set sender to x using -f" };

		if (hl - skip <= SM_HEADER_MAX &&
		    sm_header_rewrite(&h, a.data ? a.data + skip : "", hl - skip, &out, &r, &err) ==
			    Z_OK) {
			const char *s = zbuf_cstr(&out);

			for (const char *l = s; *l;) {
				const char *nl = strchr(l, '\n');

				if (is_bcc(l))
					abort();
				if (nl == NULL)
					break;
				l = nl + 1;
			}
			sm_env e = { 1, "8BITMIME", "s@h.test", "id", "FULL", MNOTIFY_FAILURE, &r };

			if (sm_envelope(&e, &env, &err) == Z_OK) {
				const char *p = env.data;
				size_t n = env.len;

				if (n < 8 || memcmp(p + n - 8, "env-end\n", 8) != 0)
					abort();
				for (size_t i = 0; i < n;) {
					const char *nl = memchr(p + i, '\n', n - i);

					if (nl == NULL || !line_ok(p + i, (size_t)(nl - (p + i))))
						abort();
					i = (size_t)(nl - p) + 1;
				}
			}
		}
	}
	sm_rcpts_free(&r);
	zbuf_free(&a);
	zbuf_free(&b);
	zbuf_free(&out);
	zbuf_free(&env);
	zbuf_free(&err);
	return 0;
}
