/*
 * NAME
 *	fuzz_routerconf - fuzz target for the router.conf(5) parser and the
 *	route/virtual map parser
 * SUMMARY
 *	Parses the input as router.conf (no file is read: rt_set_noload),
 *	then as a routes and a virtual map, and resolves a few addresses.
 * SECURITY
 *	Must never crash, leak or run past a bound on any input.
 * SEE ALSO
 *	route.h, router.conf(5)
 */
#include <stddef.h>
#include <stdint.h>
#include "route.h"
#include "zbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* nousers - no local user exists */
static int nousers(const char *login, uid_t *uid)
{
	(void)login;
	(void)uid;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *addrs[] = { "u@example.org", "u@a.b.lan", "x@hosted.test", "local",
				       "<q@[10.0.0.1]>", "a+b@localhost", NULL };
	zbuf err = ZBUF_INIT(4096);
	for (int pass = 0; pass < 3; pass++) {
		rt_config *c = rt_new();
		if (c == NULL)
			break;
		rt_set_noload(c, 1);
		rt_set_userdb(c, nousers);
		int rc;
		zbuf_reset(&err);
		if (pass == 0)
			rc = rt_parse_conf(c, "fuzz", NULL, (const char *)data, size, &err);
		else
			rc = rt_parse_map(c, pass == 1 ? 'r' : 'v', "fuzz", (const char *)data, size, &err);
		if (rc == Z_OK && rt_finish(c, &err) == Z_OK) {
			zbuf rep = ZBUF_INIT(4096);
			(void)rt_report(c, &rep);
			zbuf_free(&rep);
			for (int i = 0; addrs[i]; i++) {
				rt_result r = { 0 };
				(void)rt_resolve(c, addrs[i], &r, &err);
				rt_result_free(&r);
			}
		}
		rt_free(c);
	}
	zbuf_free(&err);
	return 0;
}
