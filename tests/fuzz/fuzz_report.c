/*
 * NAME
 *	fuzz_report - fuzz target for ta_parse_agent_line() and ta_notary_split()
 * SUMMARY
 *	Feeds arbitrary bytes as one agent -> scheduler line.
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	Parses the input as an agent line; for a report, splits the notary
 *	and re-formats the report, which must parse back to the same numbers
 *	and word.
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

/* LLVMFuzzerTestOneInput - one agent line */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	ta_report rep, back;
	zspan arg, f[TAPROTO_NOTARY_FIELDS];
	zbuf why = ZBUF_INIT(1024);
	int nf = -1;
	enum ta_kind k = ta_parse_agent_line(line, size, &rep, &arg, &why);

	if (k == TAK_BAD && why.len == 0)
		abort();
	if (k == TAK_REPORT) {
		size_t tot = 0;
		char *notary, *text;
		zbuf out = ZBUF_INIT(2 * TAPROTO_LINE_MAX);
		(void)ta_notary_split(rep.notary, f, &nf);
		if (nf < 0 || nf > TAPROTO_NOTARY_FIELDS)
			abort();
		for (int i = 0; i < nf; i++)
			tot += f[i].n;
		if (tot > rep.notary.n)
			abort();
		notary = zspan_dup(rep.notary);
		text = zspan_dup(rep.text);
		if (notary != NULL && text != NULL && strlen(notary) == rep.notary.n &&
		    strchr(notary, '\r') == NULL &&
		    ta_format_report(&out, rep.inum, rep.offset, notary, rep.word,
				     rep.retry, rep.retry_relative, text) == Z_OK) {
			if (out.len == 0 || out.len > TAPROTO_LINE_MAX ||
			    out.data[out.len - 1] != '\n')
				abort();
			if (ta_parse_agent_line(out.data, out.len - 1, &back, NULL, NULL) != TAK_REPORT ||
			    back.inum != rep.inum || back.offset != rep.offset ||
			    back.word != rep.word)
				abort();
		}
		free(notary);
		free(text);
		zbuf_free(&out);
	}
	zbuf_free(&why);
	return 0;
}
