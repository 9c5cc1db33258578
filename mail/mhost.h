/*
 * mhost.h - RFC 5321 host grammar: domain names and address literals.
 *
 * The one check every program applies to a host that came from outside
 * (a control file, a job line, an SMTP path) before the host is used as
 * an argv element, a DNS name or a connect target.  No I/O.
 */
#ifndef ZMTA_MHOST_H
#define ZMTA_MHOST_H

#include <stddef.h>
#include <netinet/in.h>
#include "zbuf.h"

enum mhost_kind {
	MHOST_DOMAIN = 1,   /* sub-domain *("." sub-domain), LDH labels */
	MHOST_IPV4 = 2,     /* "[" IPv4-address-literal "]" */
	MHOST_IPV6 = 3      /* "[IPv6:" IPv6-addr "]" */
};

#define MHOST_MAX 255       /* RFC 5321 4.5.3.1.2: domain names */
#define MHOST_LABEL_MAX 63  /* RFC 1035 label length */

typedef struct mhost {
	enum mhost_kind kind;
	struct in_addr v4;      /* MHOST_IPV4 */
	struct in6_addr v6;     /* MHOST_IPV6 */
} mhost;

/* mhost_parse - check s[0..n) against the host grammar; on success fill
   *out (may be NULL) and return Z_OK, else Z_EPARSE with a reason in err */
int mhost_parse(const char *s, size_t n, mhost *out, zbuf *err);
/* mhost_valid - NUL-terminated convenience form: 1 valid, 0 not */
int mhost_valid(const char *s);

#endif
