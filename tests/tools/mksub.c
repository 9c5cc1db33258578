/*
 * NAME
 *	mksub - write submission files through libspool (router tests and
 *	benchmarks)
 * SUMMARY
 *	The sendmail side of the spool in miniature: submit_open, envelope
 *	lines, header and body, submit_commit (fsync, rename, notify).
 * SYNOPSIS
 *	mksub -P postoffice [-f sender] [-N notify] [-R ret] [-V envid]
 *	      [-h 'Field: value']... [-r received-count] [-m count]
 *	      [-e 'keyword value']... [-b body-text] rcpt...
 * DESCRIPTION
 *	Writes count (default 1) files, each with "from <sender>" (when -f
 *	is given), "todsn" and "to" lines per recipient, env-end, the -h
 *	fields (plus Subject), -r copies of a Received field, an empty line
 *	and a body.  Prints each message's inode number.
 * DIAGNOSTICS
 *	Exit 0, EX_USAGE, EX_TEMPFAIL when a submission fails.
 * SECURITY
 *	A test tool; not installed.
 * BUGS
 *	None known.
 * SEE ALSO
 *	submit.h, router(8)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "submit.h"
#include "zbuf.h"
#include "zutil.h"

int main(int argc, char **argv)
{
	const char *po = NULL, *from = NULL, *notify = NULL, *ret = NULL, *envid = NULL;
	const char *body = "Test body line one.\n8-bit: caf\xc3\xa9\n";
	const char *hdrs[64], *envs[64];
	int nh = 0, ne = 0, ch;
	unsigned long count = 1, rcvd = 0;

	while ((ch = getopt(argc, argv, "P:f:N:R:V:h:r:m:e:b:")) != -1) {
		switch (ch) {
		case 'P': po = optarg; break;
		case 'f': from = optarg; break;
		case 'N': notify = optarg; break;
		case 'R': ret = optarg; break;
		case 'V': envid = optarg; break;
		case 'h': if (nh < 64) hdrs[nh++] = optarg; break;
		case 'e': if (ne < 64) envs[ne++] = optarg; break;
		case 'b': body = optarg; break;
		case 'r': if (zparse_ulong(optarg, 10000, &rcvd) != Z_OK) return EX_USAGE; break;
		case 'm': if (zparse_ulong(optarg, 10000000, &count) != Z_OK) return EX_USAGE; break;
		default: return EX_USAGE;
		}
	}
	if (po == NULL || optind >= argc) {
		fputs("usage: mksub -P po [-f from] [-N notify] [-R ret] [-V envid] [-h hdr]... "
		      "[-e env]... [-r n] [-m count] [-b body] rcpt...\n", stderr);
		return EX_USAGE;
	}
	for (unsigned long i = 0; i < count; i++) {
		submit s;
		zbuf err = ZBUF_INIT(1024), line = ZBUF_INIT(8192);
		unsigned long ino;
		int rc;
		if (submit_open(&s, po, &err) != Z_OK) {
			fprintf(stderr, "mksub: %s\n", zbuf_cstr(&err));
			return EX_TEMPFAIL;
		}
		rc = Z_OK;
		for (int k = 0; k < ne; k++) {
			char kw[64];
			const char *sp = strchr(envs[k], ' ');
			size_t kn = sp ? (size_t)(sp - envs[k]) : strlen(envs[k]);
			if (kn >= sizeof(kw))
				kn = sizeof(kw) - 1;
			memcpy(kw, envs[k], kn);
			kw[kn] = '\0';
			rc |= submit_env(&s, kw, sp ? sp + 1 : NULL);
		}
		if (from) {
			zbuf_reset(&line);
			zbuf_printf(&line, "<%s>", from);
			rc |= submit_env(&s, "from", zbuf_cstr(&line));
		}
		if (envid)
			rc |= submit_env(&s, "envid", envid);
		if (ret)
			rc |= submit_env(&s, "notaryret", ret);
		for (int k = optind; k < argc; k++) {
			if (notify) {
				zbuf_reset(&line);
				zbuf_printf(&line, "NOTIFY=%s ORCPT=rfc822;%s", notify, argv[k]);
				rc |= submit_env(&s, "todsn", zbuf_cstr(&line));
			}
			zbuf_reset(&line);
			zbuf_printf(&line, "<%s>", argv[k]);
			rc |= submit_env(&s, "to", zbuf_cstr(&line));
		}
		rc |= submit_env(&s, "env-end", NULL);
		zbuf_reset(&line);
		for (unsigned long r = 0; r < rcvd; r++)
			zbuf_printf(&line, "Received: from hop%lu.test by hop%lu.test; Thu, 1 Jan 2026 00:00:00 +0000\n",
				    r, r + 1);
		for (int k = 0; k < nh; k++)
			zbuf_printf(&line, "%s\n", hdrs[k]);
		zbuf_printf(&line, "Subject: mksub %lu\n\n", i);
		rc |= submit_write(&s, line.data, line.len);
		rc |= submit_write(&s, body, strlen(body));
		if (rc != Z_OK) {
			submit_abort(&s);
			fprintf(stderr, "mksub: write failed\n");
			return EX_TEMPFAIL;
		}
		if (submit_commit(&s, NULL, 0, &ino, &err) != Z_OK) {
			fprintf(stderr, "mksub: %s\n", zbuf_cstr(&err));
			return EX_TEMPFAIL;
		}
		printf("%lu\n", ino);
		zbuf_free(&err);
		zbuf_free(&line);
	}
	return 0;
}
