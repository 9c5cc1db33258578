/*
 * NAME
 *	fuzz_smtpreply - fuzz the smtp agent's reply assembler and EHLO parser
 * SUMMARY
 *	Splits the input at '\n' (an optional '\r' before it is dropped, as
 *	the socket reader does), feeds each line to smtp_reply_line(), and
 *	runs every complete reply through smtp_caps_parse(), smtp_code_map()
 *	and smtp_reply_last(); lines over SMTP_REPLY_LINE_MAX are skipped as
 *	the reader would refuse them..
 * SECURITY
 *	Inputs are arbitrary bytes; the target must never crash or leak.
 * SEE ALSO
 *	smtp/smtp_reply.c, smtp/smtp_ehlo.c, transport/smtp/smtp_sess.c
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	smtp_reply r;
	smtp_caps c;
	zbuf err = ZBUF_INIT(512);
	const char *p = (const char *)data;
	size_t left = size;
	char st[24];

	smtp_reply_init(&r);
	while (left > 0) {
		const char *nl = memchr(p, '\n', left);
		size_t n = nl ? (size_t)(nl - p) : left;
		size_t ln = n > 0 && p[n - 1] == '\r' ? n - 1 : n;
		if (ln + 1 <= SMTP_REPLY_LINE_MAX) {
			int rc = smtp_reply_line(&r, p, ln, &err);
			if (rc == 1) {
				zspan last = smtp_reply_last(&r);
				(void)last;
				smtp_caps_parse(&r, &c);
				(void)smtp_code_map(r.code, r.enh, st, sizeof(st));
			} else if (rc < 0) {
				smtp_reply_reset(&r);
			}
		}
		if (nl == NULL)
			break;
		p += n + 1;
		left -= n + 1;
	}
	smtp_reply_free(&r);
	zbuf_free(&err);
	return 0;
}
