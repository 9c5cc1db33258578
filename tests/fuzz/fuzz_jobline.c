/*
 * NAME
 *	fuzz_jobline - fuzz target for ta_parse_job_line()
 * SUMMARY
 *	Feeds arbitrary bytes as one scheduler -> agent job line.
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	Parses the input as a job line and checks the result's invariants:
 *	spans of a TAK_JOB lie inside the input, the host is 1..255 bytes
 *	when present, the path round-trips through ta_format_job().
 * DIAGNOSTICS
 *	abort() on a broken invariant; sanitizers report memory errors.
 * SECURITY
 *	The input is untrusted by design.
 * BUGS
 *	None known.
 * SEE ALSO
 *	zmta-ta(7), spool/taproto.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "taproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* inside - span s lies within [base, base+n) */
static int inside(zspan s, const char *base, size_t n)
{
	return s.n == 0 || (s.p >= base && s.p + s.n <= base + n);
}

/* LLVMFuzzerTestOneInput - one job line */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	ta_job job;
	zbuf why = ZBUF_INIT(1024);
	enum ta_kind k = ta_parse_job_line(line, size, &job, &why);

	if (k == TAK_BAD && why.len == 0)
		abort();
	if (k == TAK_JOB) {
		zbuf out = ZBUF_INIT(TAPROTO_LINE_MAX + 1);
		char *p, *h = NULL;
		if (!inside(job.path, line, size) || !inside(job.host, line, size) ||
		    job.path.n == 0 || job.host.n > 255)
			abort();
		p = zspan_dup(job.path);
		if (job.host.n)
			h = zspan_dup(job.host);
		if (p != NULL && (job.host.n == 0 || h != NULL)) {
			if (ta_format_job(&out, p, h) != Z_OK || out.len != size + 1 ||
			    memcmp(out.data, line, size) != 0)
				abort();
		}
		free(p);
		free(h);
		zbuf_free(&out);
	}
	zbuf_free(&why);
	return 0;
}
