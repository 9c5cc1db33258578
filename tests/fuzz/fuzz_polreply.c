/*
 * NAME
 *	fuzz_polreply - fuzz the policy delegation reply parser and action map
 * SUMMARY
 *	Runs pol_policy_parse_reply() over the input, then each line as a
 *	bare action through pol_policy_action(); checks the result's strings
 *	carry no CR or LF (they end up in SMTP replies and headers).
 * SECURITY
 *	Inputs are arbitrary bytes; the target must never crash or leak.
 * SEE ALSO
 *	smtpserver/pol_policy.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pol_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - result strings are single lines */
static void check(const pol_result *r)
{
	if (strpbrk(r->text, "\r\n") != NULL || strpbrk(r->header, "\r\n") != NULL || strlen(r->enh) > 15)
		abort();
	if (r->verdict != POL_ACCEPT && (r->code < 400 || r->code > 599))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	pol_result r;
	zbuf err = ZBUF_INIT(512);
	size_t used, off = 0;

	(void)pol_policy_parse_reply(p, size, &r, &used, &err);
	check(&r);
	while (off < size) {
		const char *nl = memchr(p + off, '\n', size - off);
		size_t n = nl ? (size_t)(nl - (p + off)) : size - off;
		zbuf_reset(&err);
		(void)pol_policy_action(p + off, n, &r, &err);
		check(&r);
		off += n + 1;
	}
	zbuf_free(&err);
	return 0;
}
