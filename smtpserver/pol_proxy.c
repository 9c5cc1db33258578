/*
 * NAME
 *	pol_proxy - HAProxy PROXY protocol v1/v2 header parser
 * SUMMARY
 *	Tells a listener behind a load balancer who the real client is.
 * SYNOPSIS
 *	int pol_proxy_parse(const void *buf, size_t len, pol_proxy_info *out,
 *	                    size_t *consumed, zbuf *err)
 *	int pol_proxy_addr_str(const struct sockaddr_storage *ss, char *out,
 *	                       size_t outsz)
 * DESCRIPTION
 *	The header must be the first bytes of the connection.  Version 1 is
 *	one text line "PROXY TCP4|TCP6 src dst sport dport\r\n" or
 *	"PROXY UNKNOWN ...\r\n", at most 107 bytes including CRLF; single
 *	spaces, addresses in the family's canonical text form accepted by
 *	inet_pton(3), ports 0..65535 in decimal without leading zeros.
 *	Version 2 is the 12-byte signature, a version/command byte (0x20
 *	LOCAL, 0x21 PROXY), a family/transport byte and a 16-bit length;
 *	TCP over IPv4 (0x11) needs 12 address bytes, TCP over IPv6 (0x21)
 *	36; UNSPEC and AF_UNIX families are taken as "unknown" (the socket's
 *	own addresses stay in use), UDP is refused.  TLVs after the
 *	addresses are skipped, but the whole header may not exceed
 *	POL_PROXY_V2_MAX bytes.  A LOCAL command (health checks) and
 *	UNKNOWN set out->local.
 *	The parser is incremental in the simplest way: call it again with
 *	the longer buffer after Z_EAGAIN.
 * DIAGNOSTICS
 *	Z_OK, Z_EAGAIN (incomplete), Z_EPARSE with a reason in err.
 * SECURITY
 *	Input is raw network bytes from the (trusted) balancer's connection;
 *	every length is checked before use and nothing is copied beyond the
 *	bound.  Only listeners configured for PROXY must call this: the
 *	header lets the peer choose the address every policy decision uses.
 * BUGS
 *	v2 TLVs (ALPN, SSL, unique id) are not reported.
 * SEE ALSO
 *	HAProxy's proxy-protocol.txt, smtpserver.conf(5) proxy_protocol
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include "pol_proxy.h"

static const unsigned char v2sig[12] = {
	0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A
};

/* perr - set a reason, return Z_EPARSE */
static int perr(zbuf *err, const char *why)
{
	if (err != NULL) {
		zbuf_reset(err);
		zbuf_printf(err, "PROXY header: %s", why);
	}
	return Z_EPARSE;
}

/* take_port - decimal 0..65535, no leading zero */
static int take_port(zspan s, unsigned *port)
{
	unsigned long v;

	if (s.n == 0 || s.n > 5 || (s.n > 1 && s.p[0] == '0'))
		return Z_EPARSE;
	if (zspan_to_ulong(s, 65535, &v) != Z_OK)
		return Z_EPARSE;
	*port = (unsigned)v;
	return Z_OK;
}

/* set_addr - fill ss from text address of family af and port */
static int set_addr(struct sockaddr_storage *ss, int af, zspan a, unsigned port)
{
	char tmp[INET6_ADDRSTRLEN + 1];

	if (a.n == 0 || zspan_copy(a, tmp, sizeof(tmp)) != Z_OK)
		return Z_EPARSE;
	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, tmp, &s4->sin_addr) != 1)
			return Z_EPARSE;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, tmp, &s6->sin6_addr) != 1)
			return Z_EPARSE;
	}
	return Z_OK;
}

/* parse_v1 - the text form; buf starts with a prefix of "PROXY " */
static int parse_v1(const char *p, size_t len, pol_proxy_info *out, size_t *consumed, zbuf *err)
{
	size_t lim = len < POL_PROXY_V1_MAX ? len : POL_PROXY_V1_MAX;
	size_t i, end = 0;
	zcur c;
	zspan fam, a1, a2, p1, p2;
	unsigned sport, dport;
	int af;

	for (i = 0; i < lim; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch == '\r') {
			if (i + 1 == lim) {
				if (lim == POL_PROXY_V1_MAX)
					return perr(err, "v1 line longer than 107 bytes");
				return Z_EAGAIN;
			}
			if (p[i + 1] != '\n')
				return perr(err, "v1 bare CR");
			end = i;
			break;
		}
		if (ch < 0x20 || ch > 0x7e)
			return perr(err, "v1 control or 8-bit byte");
	}
	if (i == lim) {
		if (lim == POL_PROXY_V1_MAX)
			return perr(err, "v1 line longer than 107 bytes");
		if (memcmp(p, "PROXY ", lim < 6 ? lim : 6) != 0)
			return perr(err, "no PROXY signature");
		return Z_EAGAIN;
	}
	zcur_init(&c, p, end);
	if (zcur_expect(&c, "PROXY ") != Z_OK)
		return perr(err, "no PROXY signature");
	memset(out, 0, sizeof(*out));
	out->version = 1;
	if (zcur_take_until(&c, ' ', &fam) != Z_OK) {
		zcur_take_rest(&c, &fam);
		if (!zspan_eq(fam, "UNKNOWN"))
			return perr(err, "v1 truncated line");
	}
	if (zspan_eq(fam, "UNKNOWN")) {
		out->local = 1;
		out->family = AF_UNSPEC;
		*consumed = end + 2;
		return Z_OK;
	}
	if (zspan_eq(fam, "TCP4"))
		af = AF_INET;
	else if (zspan_eq(fam, "TCP6"))
		af = AF_INET6;
	else
		return perr(err, "v1 unknown protocol family");
	if (zcur_take_until(&c, ' ', &a1) != Z_OK || zcur_take_until(&c, ' ', &a2) != Z_OK ||
	    zcur_take_until(&c, ' ', &p1) != Z_OK)
		return perr(err, "v1 missing fields");
	zcur_take_rest(&c, &p2);
	if (take_port(p1, &sport) != Z_OK || take_port(p2, &dport) != Z_OK)
		return perr(err, "v1 bad port");
	if (set_addr(&out->src, af, a1, sport) != Z_OK || set_addr(&out->dst, af, a2, dport) != Z_OK)
		return perr(err, af == AF_INET ? "v1 bad IPv4 address" : "v1 bad IPv6 address");
	out->family = af;
	*consumed = end + 2;
	return Z_OK;
}

/* parse_v2 - the binary form; buf starts with a prefix of the signature */
static int parse_v2(const unsigned char *p, size_t len, pol_proxy_info *out, size_t *consumed, zbuf *err)
{
	size_t hl, total;
	unsigned cmd, fam;

	if (len < 16)
		return Z_EAGAIN;
	if ((p[12] & 0xF0) != 0x20)
		return perr(err, "v2 unsupported version");
	cmd = p[12] & 0x0F;
	if (cmd > 1)
		return perr(err, "v2 unknown command");
	fam = p[13];
	hl = ((size_t)p[14] << 8) | p[15];
	total = 16 + hl;
	if (total > POL_PROXY_V2_MAX)
		return perr(err, "v2 header longer than the configured bound");
	if (len < total)
		return Z_EAGAIN;
	memset(out, 0, sizeof(*out));
	out->version = 2;
	out->family = AF_UNSPEC;
	switch (fam) {
	case 0x00: /* UNSPEC */
	case 0x31: /* UNIX stream */
		if (fam == 0x31 && hl < 216)
			return perr(err, "v2 address block too short");
		out->local = 1;
		break;
	case 0x11: {
		struct sockaddr_in *s = (struct sockaddr_in *)&out->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&out->dst;
		if (hl < 12)
			return perr(err, "v2 address block too short for TCP4");
		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, p + 16, 4);
		memcpy(&d->sin_addr, p + 20, 4);
		memcpy(&s->sin_port, p + 24, 2);
		memcpy(&d->sin_port, p + 26, 2);
		out->family = AF_INET;
		break;
	}
	case 0x21: {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&out->dst;
		if (hl < 36)
			return perr(err, "v2 address block too short for TCP6");
		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, p + 16, 16);
		memcpy(&d->sin6_addr, p + 32, 16);
		memcpy(&s->sin6_port, p + 48, 2);
		memcpy(&d->sin6_port, p + 50, 2);
		out->family = AF_INET6;
		break;
	}
	default:
		if (cmd == 1)
			return perr(err, "v2 unsupported family/transport (not TCP)");
		break; /* LOCAL: the address block is ignored */
	}
	if (cmd == 0) {
		out->local = 1;
		out->family = AF_UNSPEC;
		memset(&out->src, 0, sizeof(out->src));
		memset(&out->dst, 0, sizeof(out->dst));
	}
	*consumed = total;
	return Z_OK;
}

/* pol_proxy_parse - parse a v1 or v2 header at the start of buf */
int pol_proxy_parse(const void *buf, size_t len, pol_proxy_info *out, size_t *consumed, zbuf *err)
{
	const unsigned char *p = buf;
	size_t n;

	*consumed = 0;
	if (len == 0)
		return Z_EAGAIN;
	if (p[0] == 'P')
		return parse_v1((const char *)p, len, out, consumed, err);
	n = len < sizeof(v2sig) ? len : sizeof(v2sig);
	if (memcmp(p, v2sig, n) != 0)
		return perr(err, "no PROXY signature");
	if (len < sizeof(v2sig))
		return Z_EAGAIN;
	return parse_v2(p, len, out, consumed, err);
}

/* pol_proxy_addr_str - the address of ss as text */
int pol_proxy_addr_str(const struct sockaddr_storage *ss, char *out, size_t outsz)
{
	const void *a;

	if (ss->ss_family == AF_INET)
		a = &((const struct sockaddr_in *)ss)->sin_addr;
	else if (ss->ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	else
		return Z_EPARSE;
	if (inet_ntop(ss->ss_family, a, out, (socklen_t)outsz) == NULL)
		return Z_ETOOBIG;
	return Z_OK;
}
