/*
 * NAME
 *	fuzz_smtpauth - fuzz the smtp agent's AUTH secrets-file parser and
 *	its host matcher
 * SUMMARY
 *	Runs the input as a whole secrets file through smtp_auth_find()
 *	against a few fixed servers (names, -F [ip]:port, an IPv6 address),
 *	and each line through smtp_host_norm() and smtp_auth_host_match().
 * SECURITY
 *	Inputs are arbitrary bytes; the target must never crash or leak.
 * SEE ALSO
 *	smtpclient/smtp_auth.c, smtp(8) AUTH FILE
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const smtp_auth_target targets[] = {
		{ "smtp", "mx.example.net", "example.net", "192.0.2.1" },
		{ "relay", "[127.0.0.1]:2525", "[127.0.0.1]:2525", "127.0.0.1" },
		{ "smtp", "mx6.example.org.", "example.org", "2001:db8::1" },
	};
	smtp_auth_entry e;
	const char *p = (const char *)data;
	size_t left = size;

	if (size > 65536)
		return 0;
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		zbuf err = ZBUF_INIT(1024);
		(void)smtp_auth_find("fuzz", p, size, &targets[i], &e, &err);
		zbuf_free(&err);
	}
	while (left > 0) {
		const char *nl = memchr(p, '\n', left);
		size_t n = nl ? (size_t)(nl - p) : left;
		char line[300], norm[300];
		if (n < sizeof(line) && memchr(p, '\0', n) == NULL) {
			memcpy(line, p, n);
			line[n] = '\0';
			(void)smtp_host_norm(line, norm, sizeof(norm));
			(void)smtp_auth_host_match(line, "mx.example.net");
			(void)smtp_auth_host_match("*.example.net", line);
			(void)smtp_auth_host_match("[127.0.0.1]", line);
		}
		if (nl == NULL)
			break;
		p += n + 1;
		left -= n + 1;
	}
	return 0;
}
