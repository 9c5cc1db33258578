/*
 * NAME
 *	fuzz_aliases - fuzz target for the aliases(5) parser and expansion
 * SUMMARY
 *	Parses the input as an alias table, then resolves a few names
 *	through it (loops, owner-, duplicates, limits).
 * DESCRIPTION
 *	Local users come from a fixed table; :include: targets name files
 *	that may not exist (they become hold quads).
 * SECURITY
 *	Must never crash, leak or run past a bound on any input.
 * SEE ALSO
 *	route.h, aliases(5)
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "route.h"
#include "zbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* users - root and alice only */
static int users(const char *login, uid_t *uid)
{
	if (strcmp(login, "root") == 0 || strcmp(login, "alice") == 0) {
		*uid = login[0] == 'r' ? 0 : 1001;
		return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *names[] = { "a", "list", "staff", "root", "postmaster", "x+y",
				       "owner-list", "b@localhost", NULL };
	zbuf err = ZBUF_INIT(4096);
	rt_config *c = rt_new();
	if (c == NULL)
		return 0;
	rt_set_userdb(c, users);
	if (rt_parse_aliases(c, "fuzz", (const char *)data, size, 0, &err) == Z_OK &&
	    rt_finish(c, &err) == Z_OK) {
		for (int i = 0; names[i]; i++) {
			rt_result r = { 0 };
			zbuf_reset(&err);
			(void)rt_resolve(c, names[i], &r, &err);
			rt_result_free(&r);
		}
	}
	rt_free(c);
	zbuf_free(&err);
	return 0;
}
