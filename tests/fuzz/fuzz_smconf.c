/*
 * NAME
 *	fuzz_smconf - libFuzzer target for the sm.conf parser and argv macros
 * SUMMARY
 *	Feeds arbitrary bytes to smconf_parse; every mailer that parsed has
 *	its program and argv expanded with fixed values.
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	A successful parse must give words that smconf_expand accepts (the
 *	parser checked every macro); a failure there aborts.  Mailer names
 *	must be found again by smconf_find.
 * DIAGNOSTICS
 *	Crashes, sanitizer reports and abort() on a broken promise.
 * SECURITY
 *	Input is arbitrary; everything is freed after each run.
 * BUGS
 *	None known.
 * SEE ALSO
 *	tests/fuzz/replay_main.c, transport/sm/smconf.h
 */
#include <stdint.h>
#include <stdlib.h>
#include "smconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* zenv - a fixed value for ${NAME} */
static const char *zenv(const char *name)
{
	(void)name;
	return "/zenv";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sm_conf c;
	zbuf err = ZBUF_INIT(512), out = ZBUF_INIT(1u << 20);
	sm_vars v = { "user@example.org", "example.org", "sender@example.net", zenv };
	char fl[32];

	if (smconf_parse("fuzz", (const char *)data, size, &c, &err) == Z_OK) {
		for (size_t i = 0; i < c.n; i++) {
			if (smconf_find(&c, c.m[i].name) != &c.m[i])
				abort();
			if (smconf_flags_format(c.m[i].flags, fl, sizeof(fl)) != Z_OK)
				abort();
			zbuf_reset(&out);
			if (smconf_expand(c.m[i].program, &v, &out) != Z_OK)
				abort();
			for (size_t k = 0; k < c.m[i].argc; k++) {
				zbuf_reset(&out);
				if (smconf_expand(c.m[i].argv[k], &v, &out) != Z_OK)
					abort();
			}
		}
	}
	smconf_free(&c);
	zbuf_free(&err);
	zbuf_free(&out);
	return 0;
}
