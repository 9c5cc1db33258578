/*
 * NAME
 *	fuzz_mime - fuzz target for transport/libta/mime*.c (the MIME converter)
 * SUMMARY
 *	Input is a message: header block up to the first empty line, body
 *	after it.  The body goes to a memfd; mime_analyse and mime_send run
 *	with several option sets into a counting sink that checks the wire
 *	form.  The input is also pushed through mime_qp_encode/decode
 *	(round trip must be exact) and mime_hdr_encode.
 * SYNOPSIS
 *	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * DESCRIPTION
 *	Each option set is one peer (7-bit or 8-bit, -8, -H).  It aborts
 *	on a bare LF on the wire, output not ending in CRLF, a byte count
 *	other than res.bytes_out, or BODY=8BITMIME asked of a 7-bit peer.
 * DIAGNOSTICS
 *	Crashes, sanitizer reports and abort() on a broken invariant.
 * SECURITY
 *	Input is arbitrary bytes; the target writes only to its memfd.
 * BUGS
 *	Option sets are fixed, not derived from the input.
 * SEE ALSO
 *	transport/libta/mime.c, tests/fuzz/replay_main.c
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "mime.h"
#include "zbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct count {
	size_t n;
	int cr; /* last byte was CR */
	char last;
};

/* count_sink - count bytes, check there is no bare LF and no 8-bit byte
 * where conversion promised 7-bit output */
static int count_sink(void *arg, const char *p, size_t n)
{
	struct count *c = arg;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' && !c->cr)
			abort(); /* bare LF on the wire */
		c->cr = p[i] == '\r';
		c->last = p[i];
	}
	c->n += n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *sep = size >= 2 ? memmem(in, size, "\n\n", 2) : NULL;
	size_t hlen = sep ? (size_t)(sep - in) + 2 : size;
	size_t blen = size - hlen;
	static const mime_opts opts[] = {
		{ 0, 0, 0, 1, "UTF-8" },
		{ 1, 0, 0, 1, "UTF-8" },
		{ 1, 1, 0, 0, "ISO-8859-1" },
		{ 0, 0, 1, 1, NULL },
	};

	int fd = memfd_create("fuzz_mime", 0);
	if (fd < 0)
		return 0;
	if (blen && write(fd, "XX", 2) == 2 && write(fd, in + hlen, blen) != (ssize_t)blen) {
		close(fd);
		return 0;
	}
	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		mime_result res;
		if (mime_analyse(in, hlen, fd, 2, (off_t)blen, &opts[k], &res) != Z_OK)
			continue;
		if (res.send_8bitmime && !opts[k].peer_8bit)
			abort();
		if (res.cvt == MIME_REFUSE)
			continue;
		struct count c = { 0, 0, 0 };
		if (mime_send(in, hlen, fd, 2, (off_t)blen, &opts[k], &res, count_sink, &c) == Z_OK) {
			if (res.bytes_out != c.n || c.n < 2 || c.last != '\n')
				abort(); /* must end with CRLF */
		}
	}
	close(fd);

	/* QP round trip */
	zbuf e = ZBUF_INIT(8 * size + 64), d = ZBUF_INIT(size + 64);
	if (mime_qp_encode(in, size, &e) == Z_OK &&
	    mime_qp_decode(e.data ? e.data : "", e.len, &d) == Z_OK) {
		if (d.len != size || (size && memcmp(d.data, in, size) != 0))
			abort();
	}
	/* decoder on raw input never fails except on size */
	zbuf_reset(&d);
	(void)mime_qp_decode(in, size, &d);
	/* header encoder on the first line, output must be 7-bit */
	const char *nl = memchr(in, '\n', size);
	size_t l1 = nl ? (size_t)(nl - in) + 1 : size;
	zbuf h = ZBUF_INIT(16 * l1 + 64);
	if (mime_hdr_encode(in, l1, "UTF-8", &h) == Z_OK) {
		const char *colon = memchr(in, ':', l1);
		size_t from = colon ? (size_t)(colon - in) : h.len;
		for (size_t i = from; i < h.len; i++)
			if ((unsigned char)h.data[i] >= 0x80)
				abort();
	}
	zbuf_free(&e);
	zbuf_free(&d);
	zbuf_free(&h);
	return 0;
}
