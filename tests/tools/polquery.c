/*
 * NAME
 *	polquery - send one policy delegation request, print the result
 * SUMMARY
 *	Test tool for tests/integration/smtpd-policy.sh.
 * SYNOPSIS
 *	polquery ENDPOINT TIMEOUT_MS name=value ...
 * DESCRIPTION
 *	Sends request=smtpd_access_policy and the given attributes to the
 *	policy server at ENDPOINT (see pol_policy_new) and prints one line:
 *	"verdict=accept|reject|defer code=N enh=X flags=0xF text=T header=H".
 * DIAGNOSTICS
 *	Exit 0 when the server answered (whatever the verdict), 1 when the
 *	query failed (the line then shows the 451 4.3.5 fallback), 64 usage.
 * SECURITY
 *	Test tool; arguments are trusted.
 * BUGS
 *	One request per run.
 * SEE ALSO
 *	smtpserver/pol_policy.h
 */
#include <stdio.h>
#include <string.h>
#include "pol_policy.h"
#include "zutil.h"

int main(int argc, char **argv)
{
	zbuf req = ZBUF_INIT(POL_POLICY_REQ_MAX), err = ZBUF_INIT(512);
	unsigned long to;
	pol_policy *p;
	pol_result r;
	int rc;

	if (argc < 3 || zparse_ulong(argv[2], 600000, &to) != Z_OK) {
		fprintf(stderr, "usage: polquery ENDPOINT TIMEOUT_MS name=value ...\n");
		return 64;
	}
	rc = pol_policy_attr(&req, "request", "smtpd_access_policy", &err);
	for (int i = 3; rc == Z_OK && i < argc; i++) {
		char name[80];
		const char *eq = strchr(argv[i], '=');
		if (eq == NULL || (size_t)(eq - argv[i]) >= sizeof(name)) {
			fprintf(stderr, "polquery: bad attribute %s\n", argv[i]);
			return 64;
		}
		memcpy(name, argv[i], (size_t)(eq - argv[i]));
		name[eq - argv[i]] = '\0';
		rc = pol_policy_attr(&req, name, eq + 1, &err);
	}
	if (rc != Z_OK) {
		fprintf(stderr, "polquery: %s\n", zbuf_cstr(&err));
		return 64;
	}
	p = pol_policy_new(argv[1], (long)to, &err);
	if (p == NULL) {
		fprintf(stderr, "polquery: %s\n", zbuf_cstr(&err));
		return 64;
	}
	rc = pol_policy_query(p, &req, &r, &err);
	printf("verdict=%s code=%d enh=%s flags=0x%x text=%s header=%s\n",
	       r.verdict == POL_ACCEPT ? "accept" : r.verdict == POL_REJECT ? "reject" : "defer", r.code, r.enh,
	       r.flags, r.text, r.header);
	if (rc != Z_OK)
		fprintf(stderr, "polquery: %s\n", zbuf_cstr(&err));
	pol_policy_free(p);
	zbuf_free(&req);
	zbuf_free(&err);
	return rc == Z_OK ? 0 : 1;
}
