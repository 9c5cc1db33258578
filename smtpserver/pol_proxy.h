/*
 * pol_proxy.h - HAProxy PROXY protocol v1 (text) and v2 (binary) header parser.
 *
 * Strict and bounded: a v1 line is at most POL_PROXY_V1_MAX bytes with its
 * CRLF, a v2 header at most POL_PROXY_V2_MAX bytes.  No I/O: the caller
 * feeds what it has read so far and learns how many bytes the header took.
 */
#ifndef ZMTA_POL_PROXY_H
#define ZMTA_POL_PROXY_H

#include <stddef.h>
#include <sys/socket.h>
#include "zbuf.h"

#define POL_PROXY_V1_MAX 107u   /* "PROXY ... \r\n", the spec's bound */
#define POL_PROXY_V2_MAX 1024u  /* 16-byte header + addresses + TLVs */

typedef struct pol_proxy_info {
	int version;                 /* 1 or 2 */
	int local;                   /* 1: LOCAL / UNKNOWN / unsupported family:
	                                keep the socket's own addresses */
	int family;                  /* AF_INET, AF_INET6, or AF_UNSPEC when local */
	struct sockaddr_storage src; /* the real client (when !local) */
	struct sockaddr_storage dst; /* the address the client connected to */
} pol_proxy_info;

/* pol_proxy_parse - parse a header at the start of buf[len]: Z_OK with
 * *consumed set, Z_EAGAIN when buf is a valid but incomplete prefix (read
 * more, up to the bound), Z_EPARSE when it is not a PROXY header */
int pol_proxy_parse(const void *buf, size_t len, pol_proxy_info *out,
		    size_t *consumed, zbuf *err);

/* pol_proxy_addr_str - "ip" text of src or dst into out[outsz]; Z_ETOOBIG
 * or Z_EPARSE (not an inet address) */
int pol_proxy_addr_str(const struct sockaddr_storage *ss, char *out, size_t outsz);

#endif
