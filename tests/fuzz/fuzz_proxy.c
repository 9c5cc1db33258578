/*
 * NAME
 *	fuzz_proxy - fuzz the PROXY protocol v1/v2 header parser
 * SUMMARY
 *	Feeds the input whole and then every prefix of it (as a listener
 *	would after each read) to pol_proxy_parse(); checks that a success
 *	never claims more bytes than given or than the bound, and prints the
 *	addresses it found.
 * SECURITY
 *	Inputs are arbitrary bytes; the target must never crash or leak.
 * SEE ALSO
 *	smtpserver/pol_proxy.c
 */
#include <stdint.h>
#include <stdlib.h>
#include "pol_proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pol_proxy_info pi;
	zbuf err = ZBUF_INIT(256);
	size_t used;
	char a[64];

	for (size_t n = 0; n <= size && n <= 2 * POL_PROXY_V2_MAX; n++) {
		int rc = pol_proxy_parse(data, n, &pi, &used, &err);
		if (rc == Z_OK) {
			if (used > n || used > POL_PROXY_V2_MAX || used == 0)
				abort();
			if (!pi.local && (pol_proxy_addr_str(&pi.src, a, sizeof(a)) != Z_OK ||
					  pol_proxy_addr_str(&pi.dst, a, sizeof(a)) != Z_OK))
				abort();
		} else if (rc != Z_EAGAIN && rc != Z_EPARSE) {
			abort();
		}
	}
	zbuf_free(&err);
	return 0;
}
