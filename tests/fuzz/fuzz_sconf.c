/*
 * NAME
 *	fuzz_sconf - fuzz target for the scheduler.conf parser
 * SUMMARY
 *	Feeds arbitrary bytes to sconf_parse(); on success also exercises
 *	sconf_match(), sconf_expand_command() and sconf_dump().
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	Any input must either parse or be refused with a "name:line: reason"
 *	message; never crash, leak or hang.
 * DIAGNOSTICS
 *	Aborts (and so fails the replay test) when a refusal comes without a
 *	message or a parse succeeds without a configuration.
 * SECURITY
 *	Test code.
 * BUGS
 *	None known.
 * SEE ALSO
 *	sconf.h, tests/fuzz/replay_main.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - one input */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zbuf err = ZBUF_INIT(4096), dump = ZBUF_INIT(1u << 22);
	sconf *cfg = NULL;
	static const char *const probes[][2] = {
		{ "smtp", "mx.example.com" }, { "local", "" }, { "SMTP", "A.SE" },
		{ "error", "x" }, { "", "" },
	};

	if (sconf_parse("fuzz", (const char *)data, size, &cfg, &err) != Z_OK) {
		if (cfg != NULL || err.len == 0 || strncmp(zbuf_cstr(&err), "fuzz:", 5) != 0)
			abort();
		goto out;
	}
	if (cfg == NULL)
		abort();
	for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
		const sconf_clause *c = sconf_match(cfg, probes[i][0], probes[i][1]);
		char **argv = NULL;
		zbuf e2 = ZBUF_INIT(512);
		if (c != NULL && c->command != NULL &&
		    sconf_expand_command(c, probes[i][0], probes[i][1], "/mailbin", &argv, &e2) == Z_OK)
			sconf_argv_free(argv);
		zbuf_free(&e2);
	}
	sconf_dump(cfg, &dump);
out:
	sconf_free(cfg);
	zbuf_free(&err);
	zbuf_free(&dump);
	return 0;
}
