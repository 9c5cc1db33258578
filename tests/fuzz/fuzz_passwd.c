/*
 * NAME
 *	fuzz_passwd - fuzz the SMTP AUTH password file parser
 * SUMMARY
 *	Parses the input as a password file with every flag combination and,
 *	when it loads, looks up a few users.
 * SECURITY
 *	Inputs are arbitrary bytes; the target must never crash or leak.
 *	Hash checks are skipped to keep runs fast (crypt_rn is costly).
 * SEE ALSO
 *	smtpserver/pol_passwd.c
 */
#include <stdint.h>
#include "pol_passwd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zbuf err = ZBUF_INIT(512), sec = ZBUF_INIT(2048);

	for (unsigned f = 0; f < 4; f++) {
		pol_passwd *pw = NULL;
		zbuf_reset(&err);
		if (pol_passwd_parse((const char *)data, size, f, &pw, &err) == Z_OK) {
			(void)pol_passwd_count(pw);
			(void)pol_passwd_extra(pw, "alice");
			(void)pol_passwd_plain(pw, "alice", &sec);
			pol_passwd_free(pw);
		}
	}
	zbuf_free(&err);
	zbuf_free(&sec);
	return 0;
}
