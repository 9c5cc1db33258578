/*
 * NAME
 *	fuzz_ctlfile - libFuzzer target for the control-file parser
 * SUMMARY
 *	Arbitrary bytes through ctl_parse; every offset and span checked.
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	Parses the input with ctl_parse() with and without CTL_PARSE_ETRN,
 *	then walks every table entry and checks that each span lies inside
 *	the parsed copy and each offset inside the file, and that
 *	ctl_find_rcpt() finds every recipient by its offset.
 * DIAGNOSTICS
 *	Crashes, sanitizer reports and abort() on a broken invariant.
 * SECURITY
 *	Input is arbitrary bytes; a crash, sanitizer report or abort() from
 *	a broken invariant is a bug in ctlfile.c.
 * BUGS
 *	The writer functions are not fuzzed here.
 * SEE ALSO
 *	spool/ctlfile.c, tests/fuzz/replay_main.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "zbuf.h"
#include "ctlfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* in_file - span lies inside cf->data (empty spans are always fine) */
static void in_file(const ctl_file *cf, zspan s)
{
	if (s.n == 0)
		return;
	if (s.p < cf->data || s.p + s.n > cf->data + cf->len)
		abort();
}

/* walk - touch every part of the result */
static void walk(const ctl_file *cf)
{
	zbuf u = ZBUF_INIT(1u << 20);
	volatile size_t sum = 0;

	in_file(cf, cf->body);
	in_file(cf, cf->logid);
	in_file(cf, cf->verbose);
	in_file(cf, cf->erraddr);
	for (size_t i = 0; i < cf->nsenders; i++) {
		const ctl_sender *s = &cf->senders[i];
		if (s->off >= cf->len || cf->data[s->off] != 's')
			abort();
		in_file(cf, s->quad.channel);
		in_file(cf, s->quad.host);
		in_file(cf, s->quad.user);
		in_file(cf, s->erraddr);
	}
	for (size_t i = 0; i < cf->nrcpts; i++) {
		const ctl_rcpt *r = &cf->rcpts[i];
		if (r->off >= cf->len || (cf->data[r->off] != 'r' && cf->data[r->off] != 'X'))
			abort();
		if (r->sender >= cf->nsenders || ctl_find_rcpt(cf, r->off) != r)
			abort();
		if (r->hdr_off >= 0 && (size_t)r->hdr_off + r->hdr_len > cf->len)
			abort();
		if (r->dsn_off >= 0 && cf->data[r->dsn_off] != 'N')
			abort();
		in_file(cf, r->quad.channel);
		in_file(cf, r->quad.host);
		in_file(cf, r->quad.user);
		in_file(cf, r->notify);
		in_file(cf, r->orcpt);
		in_file(cf, r->ret);
		in_file(cf, r->envid);
		if (ctl_unquote_user(r->quad.user, &u) == Z_OK)
			sum += u.len;
	}
	for (size_t i = 0; i < cf->ndiags; i++) {
		const ctl_diag *d = &cf->diags[i];
		if (d->off >= cf->len || cf->data[d->off] != 'd')
			abort();
		in_file(cf, d->notary);
		in_file(cf, d->text);
		sum += (size_t)ctl_diag_dsn_line(cf, d);
	}
	for (size_t i = 0; i < cf->nturnme; i++)
		in_file(cf, cf->turnme[i]);
	for (size_t i = 0; i < cf->nobsoletes; i++)
		in_file(cf, cf->obsoletes[i]);
	zbuf_free(&u);
	(void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned flags[] = { 0, CTL_PARSE_ETRN };

	for (size_t k = 0; k < 2; k++) {
		ctl_file cf;
		zbuf err = ZBUF_INIT(1024);
		if (ctl_parse((const char *)data, size, flags[k], &cf, &err) == Z_OK)
			walk(&cf);
		else if (err.len == 0 || memchr(err.data, '\n', err.len) != NULL)
			abort();        /* a refusal always has a one-line reason */
		ctl_free(&cf);
		zbuf_free(&err);
	}
	return 0;
}
