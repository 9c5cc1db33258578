/*
 * NAME
 *	smtp_tls - TLS for SMTP sessions: smtp-tls.conf, client and server side
 * SUMMARY
 *	Reads the TLS client configuration, builds one client SSL_CTX, and
 *	runs the handshake on an open SMTP session; checks the certificate
 *	chain and names as the mode asks (Postfix's levels).  The server
 *	side builds a context from a certificate and key and accepts the
 *	handshake.
 * SYNOPSIS
 *	int smtp_tls_load(const char *path, smtp_tls_conf *tc, zbuf *err)
 *	int smtp_tls_setup(const char *path, smtp_tls_conf *tc, zbuf *err)
 *	int smtp_tls_build(smtp_tls_conf *tc, zbuf *err)
 *	int smtp_tls_parse(const char *name, const char *data, size_t len,
 *	                   smtp_tls_conf *tc, zbuf *err)
 *	void smtp_tls_free(smtp_tls_conf *tc)
 *	int smtp_tls_refs(const smtp_tls_conf *tc, enum tls_mode mode,
 *	                  const char *mxhost, const char *nexthop, zbuf *out,
 *	                  zbuf *err)
 *	int smtp_tls_cert_match(const void *x509, const char *refs)
 *	int smtp_tls_start(smtp_tls_conf *tc, smtp_session *ss, const char *mxhost,
 *	                   const char *nexthop, long timeout_ms, zbuf *info,
 *	                   zbuf *err)
 *	const char *smtp_tls_mode_name(enum tls_mode m)
 *	int smtp_tls_server_ctx(const char *certfile, const char *keyfile,
 *	                        void **ctx, zbuf *err)
 *	void smtp_tls_ctx_free(void *ctx)
 *	int smtp_tls_accept(void *ctx, smtp_session *ss, long timeout_ms,
 *	                    zbuf *info, zbuf *err)
 *	int smtp_host_norm(const char *in, char *out, size_t outsz)
 * DESCRIPTION
 *	One "keyword [value]" per line, '#' and ';' start comments.  Keys:
 *	tls-cert-file, tls-key-file, tls-CAfile, tls-CApath, tls-loglevel,
 *	tls-cipher-list, demand-tls-mode (= tls-verify encrypt),
 *	tls-verify none|may|encrypt|verify|secure, tls-verify-name name,
 *	tls-verify-match list, tls-secure-match list; the old keys
 *	tls-dcert-file, tls-dkey-file, tls-random-source, tls-use-scache,
 *	tls-scache-timeout, no-tls-readahead and tls-strict-rfc2487 are
 *	accepted and ignored.  Without tls-verify the mode is "may" (or
 *	"encrypt" with demand-tls-mode); without a file (no -S) the
 *	defaults apply, so opportunistic TLS is always on unless a file
 *	says "tls-verify none".
 *
 *	Modes: none never starts TLS; may uses TLS when offered; encrypt
 *	requires TLS; neither checks the certificate for delivery, but the
 *	result of the verify-level check is kept (AUTH sends secrets only
 *	over a verified session).  verify requires a chain that verifies
 *	against the CA file/path (or the system store) and a name matching
 *	tls-verify-match (default "hostname", the MX host); secure requires
 *	the chain and a name matching tls-secure-match (default "nexthop,
 *	dot-nexthop": the destination domain or a name below it), because
 *	MX names from DNS are not authenticated.  List elements: hostname
 *	(not in tls-secure-match), nexthop, dot-nexthop, a name, ".domain",
 *	"[address]".  An address destination is matched against the
 *	certificate's IP addresses.  tls-verify-name replaces both lists by
 *	one name (and is sent as SNI; otherwise the MX host name is).
 *	Names are matched by OpenSSL's X509_check_host with partial
 *	wildcards refused: "*" only as the whole leftmost label, matching
 *	exactly one label (RFC 6125).  TLS 1.2 is the minimum.  Without
 *	tls-CAfile/tls-CApath the system CA store is read at the first
 *	handshake (smtp_tls_start), not by smtp_tls_load: an agent that
 *	never meets STARTTLS does not pay for parsing it.
 *
 *	smtp_tls_load parses the file and builds the client SSL_CTX.
 *	smtp_tls_setup only parses it and checks that the files it names
 *	can be read; smtp_tls_build (called by smtp_tls_start when there is
 *	no context yet) does the rest, so OpenSSL's own initialisation and
 *	the context are paid for at the first STARTTLS, not by every agent
 *	start (the smtp agent uses smtp_tls_setup).  Errors only OpenSSL
 *	can see (a bad tls-cipher-list, a certificate or key that does not
 *	parse or match) then show at that handshake, as a TLS failure.
 *
 *	Server side (for now): smtp_tls_server_ctx() loads a PEM chain and
 *	its key; smtp_tls_accept() runs the handshake after the 220 reply
 *	to STARTTLS and refuses when the client pipelined anything behind
 *	STARTTLS (RFC 3207 section 6).  Client certificates are not asked
 *	for.  Every wait of a handshake goes through the session's poll
 *	hook.  smtp_host_norm() gives the comparable form of a host name or
 *	address (also used by the agent's -A matching).
 * DIAGNOSTICS
 *	Unknown keys, bad values and unreadable files are errors naming the
 *	file and line.  Handshake and verification failures return Z_ERR
 *	with the OpenSSL reason or the expected and presented names; the
 *	caller defers (never falls back to clear text in the required
 *	modes).
 * SECURITY
 *	The key file is read by OpenSSL; nothing of it is logged.  The
 *	certificate is checked only by OpenSSL's chain and name matchers.
 * BUGS
 *	No session cache, no DANE, no MTA-STS.
 * SEE ALSO
 *	smtp(8), RFC 3207, RFC 6125
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "smtp_tls.h"
#include "zerr.h"
#include "zutil.h"

/* is_digits - non-empty, digits only */
static int is_digits(const char *p, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* addr_canon - "[canonical address]" if s[n] is an IPv4/IPv6 address */
static int addr_canon(const char *s, size_t n, char *out, size_t outsz)
{
	char tmp[INET6_ADDRSTRLEN + 8], txt[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	int af;

	if (n >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		s += 5;
		n -= 5;
	}
	if (n == 0 || n >= sizeof(tmp))
		return Z_EPARSE;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, bin) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, tmp, bin) == 1)
		af = AF_INET6;
	else
		return Z_EPARSE;
	if (inet_ntop(af, bin, txt, sizeof(txt)) == NULL)
		return Z_EPARSE;
	if ((size_t)snprintf(out, outsz, "[%s]", txt) >= outsz)
		return Z_ETOOBIG;
	return Z_OK;
}

/* smtp_host_norm - comparable form of a host: a name in lower case
 * without trailing dot and ":port", an address as "[canonical]" */
int smtp_host_norm(const char *in, char *out, size_t outsz)
{
	size_t n = strlen(in);
	const char *colon;

	if (outsz == 0)
		return Z_ETOOBIG;
	out[0] = '\0';
	if (in[0] == '[') {
		const char *end = strchr(in, ']');
		if (end == NULL)
			return Z_EPARSE;
		/* "[ip]" or "[ip]:port" */
		if (end[1] != '\0' && !(end[1] == ':' && is_digits(end + 2, strlen(end + 2))))
			return Z_EPARSE;
		return addr_canon(in + 1, (size_t)(end - in - 1), out, outsz);
	}
	if (addr_canon(in, n, out, outsz) == Z_OK)
		return Z_OK;
	colon = strrchr(in, ':');
	if (colon != NULL && strchr(in, ':') == colon && is_digits(colon + 1, strlen(colon + 1)))
		n = (size_t)(colon - in);        /* "host:port" */
	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n >= outsz)
		return n == 0 ? Z_EPARSE : Z_ETOOBIG;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c <= ' ' || c == 0x7f)
			return Z_EPARSE;
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[n] = '\0';
	return Z_OK;
}

/* smtp_tls_mode_name - name of a verification mode */
const char *smtp_tls_mode_name(enum tls_mode m)
{
	switch (m) {
	case TLSM_NONE: return "none";
	case TLSM_MAY: return "may";
	case TLSM_ENCRYPT: return "encrypt";
	case TLSM_VERIFY: return "verify";
	case TLSM_SECURE: return "secure";
	}
	return "?";
}

/* set_str - copy a value into a fixed field */
static int set_str(char *dst, size_t dsz, zspan v, const char *name, int lineno,
		   const char *key, zbuf *err)
{
	if (v.n == 0) {
		zbuf_printf(err, "%s:%d: %s needs a value", name, lineno, key);
		return Z_EPARSE;
	}
	if (zspan_copy(v, dst, dsz) != Z_OK) {
		zbuf_printf(err, "%s:%d: %s value too long", name, lineno, key);
		return Z_EPARSE;
	}
	return Z_OK;
}

/* next_elem - next element of a match list (commas and blanks separate) */
static int next_elem(zcur *c, zspan *out)
{
	size_t start;

	while (!zcur_eof(c) && (zcur_peek(c) == ',' || zcur_peek(c) == ' ' ||
				zcur_peek(c) == '\t'))
		c->pos++;
	if (zcur_eof(c))
		return 0;
	start = c->pos;
	while (!zcur_eof(c) && zcur_peek(c) != ',' && zcur_peek(c) != ' ' &&
	       zcur_peek(c) != '\t')
		c->pos++;
	out->p = c->p + start;
	out->n = c->pos - start;
	return 1;
}

/* elem_ok - a literal list element: name, ".domain" or "[address]" */
static int elem_ok(zspan e)
{
	char buf[300], norm[300];

	if (zspan_copy(e, buf, sizeof(buf)) != Z_OK || buf[0] == '\0')
		return 0;
	if (buf[0] == '[')
		return smtp_host_norm(buf, norm, sizeof(norm)) == Z_OK && norm[0] == '[';
	for (size_t i = buf[0] == '.' ? 1 : 0; buf[i]; i++) {
		unsigned char ch = (unsigned char)buf[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_'))
			return 0;
	}
	return buf[0] != '.' || buf[1] != '\0';
}

/* match_list_check - validate tls-verify-match / tls-secure-match */
static int match_list_check(const char *list, int secure, zbuf *err)
{
	zcur c;
	zspan e;
	int n = 0;

	zcur_init(&c, list, strlen(list));
	while (next_elem(&c, &e)) {
		n++;
		if (zspan_eq(e, "hostname")) {
			if (secure) {
				zbuf_puts(err, "hostname is not allowed in tls-secure-match (MX names "
					  "from DNS are not authenticated; use verify)");
				return Z_EPARSE;
			}
		} else if (!zspan_eq(e, "nexthop") && !zspan_eq(e, "dot-nexthop") && !elem_ok(e)) {
			zbuf_printf(err, "bad match list element '%.*s' (hostname, nexthop, "
				    "dot-nexthop, a name, .domain or [address])",
				    (int)(e.n > 60 ? 60 : e.n), e.p);
			return Z_EPARSE;
		}
	}
	if (n == 0) {
		zbuf_puts(err, "empty match list");
		return Z_EPARSE;
	}
	return Z_OK;
}

/* add_ref - one reference identity (normalised) to out, once */
static int add_ref(zbuf *out, const char *dot, const char *host)
{
	char norm[300], ref[304];
	const char *p;

	if (host == NULL || host[0] == '\0' || smtp_host_norm(host, norm, sizeof(norm)) != Z_OK)
		return Z_OK;
	if (dot[0] != '\0' && norm[0] == '[')
		return Z_OK;            /* no "below" for an address */
	if ((size_t)snprintf(ref, sizeof(ref), "%s%s", dot, norm) >= sizeof(ref))
		return Z_ETOOBIG;
	/* already there? */
	p = zbuf_cstr(out);
	for (;;) {
		size_t n = strcspn(p, " ");
		if (n == strlen(ref) && strncmp(p, ref, n) == 0)
			return Z_OK;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	if (out->len > 0 && zbuf_putc(out, ' ') != Z_OK)
		return Z_ETOOBIG;
	return zbuf_puts(out, ref);
}

/* smtp_tls_refs - reference identities for the mode */
int smtp_tls_refs(const smtp_tls_conf *tc, enum tls_mode mode, const char *mxhost,
		  const char *nexthop, zbuf *out, zbuf *err)
{
	const char *list;
	zcur c;
	zspan e;
	int rc = Z_OK;

	if (tc->verifyname[0] != '\0')
		return add_ref(out, "", tc->verifyname);
	if (mode == TLSM_SECURE)
		list = tc->securematch[0] ? tc->securematch : "nexthop, dot-nexthop";
	else
		list = tc->verifymatch[0] ? tc->verifymatch : "hostname";
	zcur_init(&c, list, strlen(list));
	while (rc == Z_OK && next_elem(&c, &e)) {
		char buf[300];
		if (zspan_eq(e, "hostname"))
			rc = add_ref(out, "", mxhost);
		else if (zspan_eq(e, "nexthop"))
			rc = add_ref(out, "", nexthop);
		else if (zspan_eq(e, "dot-nexthop"))
			rc = add_ref(out, ".", nexthop);
		else if (zspan_copy(e, buf, sizeof(buf)) == Z_OK)
			rc = buf[0] == '.' ? add_ref(out, ".", buf + 1) : add_ref(out, "", buf);
	}
	if (rc != Z_OK)
		zbuf_puts(err, "reference identities too long");
	else if (out->len == 0) {
		zbuf_printf(err, "no name to match the certificate against (MX host %s, "
			    "next hop %s)", mxhost ? mxhost : "-", nexthop ? nexthop : "-");
		rc = Z_ERR;
	}
	return rc;
}

/* smtp_tls_cert_match - one of the blank-separated refs matches */
int smtp_tls_cert_match(const void *x509, const char *refs)
{
	X509 *x = (X509 *)x509;
	const char *p = refs;
	char ref[304];

	while (*p) {
		size_t n = strcspn(p, " ");
		if (n > 0 && n < sizeof(ref)) {
			memcpy(ref, p, n);
			ref[n] = '\0';
			if (ref[0] == '[') {
				ref[n - 1] = '\0';
				if (X509_check_ip_asc(x, ref + 1, 0) == 1)
					return 1;
			} else if (X509_check_host(x, ref, n, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
						   NULL) == 1) {
				return 1;
			}
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	return 0;
}

/* cert_names - the DNS and IP names of a certificate, for diagnostics */
static void cert_names(X509 *x, zbuf *out)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int shown = 0;

	if (gens != NULL) {
		for (int i = 0; i < sk_GENERAL_NAME_num(gens) && shown < 6; i++) {
			const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
			if (g->type == GEN_DNS) {
				const ASN1_IA5STRING *d = g->d.dNSName;
				int len = ASN1_STRING_length(d);
				zbuf_printf(out, "%s%.*s", shown++ ? " " : "", len > 100 ? 100 : len,
					    (const char *)ASN1_STRING_get0_data(d));
			} else if (g->type == GEN_IPADD) {
				const ASN1_OCTET_STRING *a = g->d.iPAddress;
				char txt[INET6_ADDRSTRLEN] = "?";
				int len = ASN1_STRING_length(a);
				if (len == 4 || len == 16)
					(void)inet_ntop(len == 4 ? AF_INET : AF_INET6,
							ASN1_STRING_get0_data(a), txt, sizeof(txt));
				zbuf_printf(out, "%s[%s]", shown++ ? " " : "", txt);
			}
		}
		GENERAL_NAMES_free(gens);
	}
	if (shown == 0) {
		char cn[256] = "";
		if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
					      sizeof(cn)) > 0)
			zbuf_printf(out, "CN=%s", cn);
		else
			zbuf_puts(out, "no names");
	}
	for (size_t i = 0; i < out->len; i++)
		if ((unsigned char)out->data[i] < 0x20 || out->data[i] == 0x7f)
			out->data[i] = '?';
}

/* smtp_tls_parse - parse the configuration text */
int smtp_tls_parse(const char *name, const char *data, size_t len, smtp_tls_conf *tc, zbuf *err)
{
	zcur all;
	int lineno = 0, have_mode = 0, demand = 0;

	memset(tc, 0, sizeof(*tc));
	tc->mode = TLSM_MAY;
	zcur_init(&all, data, len);
	while (!zcur_eof(&all)) {
		zspan line, key, val;
		zcur lc;

		lineno++;
		if (zcur_take_until(&all, '\n', &line) != Z_OK)
			zcur_take_rest(&all, &line);
		line = zspan_trim(line);
		if (line.n == 0 || line.p[0] == '#' || line.p[0] == ';')
			continue;
		if (memchr(line.p, '\0', line.n) != NULL) {
			zbuf_printf(err, "%s:%d: NUL byte", name, lineno);
			return Z_EPARSE;
		}
		zcur_init(&lc, line.p, line.n);
		(void)zcur_take_token(&lc, &key);
		zcur_skip_ws(&lc);
		zcur_take_rest(&lc, &val);
		val = zspan_trim(val);
		if (zspan_eq(key, "tls-cert-file")) {
			if (set_str(tc->certfile, sizeof(tc->certfile), val, name, lineno, "tls-cert-file", err))
				return Z_EPARSE;
		} else if (zspan_eq(key, "tls-key-file")) {
			if (set_str(tc->keyfile, sizeof(tc->keyfile), val, name, lineno, "tls-key-file", err))
				return Z_EPARSE;
		} else if (zspan_eq(key, "tls-CAfile")) {
			if (set_str(tc->cafile, sizeof(tc->cafile), val, name, lineno, "tls-CAfile", err))
				return Z_EPARSE;
		} else if (zspan_eq(key, "tls-CApath")) {
			if (set_str(tc->capath, sizeof(tc->capath), val, name, lineno, "tls-CApath", err))
				return Z_EPARSE;
		} else if (zspan_eq(key, "tls-cipher-list")) {
			if (set_str(tc->ciphers, sizeof(tc->ciphers), val, name, lineno, "tls-cipher-list", err))
				return Z_EPARSE;
		} else if (zspan_eq(key, "tls-verify-name")) {
			if (set_str(tc->verifyname, sizeof(tc->verifyname), val, name, lineno, "tls-verify-name", err))
				return Z_EPARSE;
		} else if (zspan_eq(key, "tls-verify-match") || zspan_eq(key, "tls-secure-match")) {
			int sec = zspan_eq(key, "tls-secure-match");
			char *dst = sec ? tc->securematch : tc->verifymatch;
			size_t dsz = sec ? sizeof(tc->securematch) : sizeof(tc->verifymatch);
			zbuf why = ZBUF_INIT(256);
			if (set_str(dst, dsz, val, name, lineno, sec ? "tls-secure-match" :
				    "tls-verify-match", err))
				return Z_EPARSE;
			if (match_list_check(dst, sec, &why) != Z_OK) {
				zbuf_printf(err, "%s:%d: %s", name, lineno, zbuf_cstr(&why));
				zbuf_free(&why);
				return Z_EPARSE;
			}
			zbuf_free(&why);
		} else if (zspan_eq(key, "tls-loglevel")) {
			unsigned long v;
			if (zspan_to_ulong(val, 4, &v) != Z_OK) {
				zbuf_printf(err, "%s:%d: tls-loglevel must be 0..4", name, lineno);
				return Z_EPARSE;
			}
			tc->loglevel = (int)v;
		} else if (zspan_eq(key, "demand-tls-mode")) {
			demand = 1;
		} else if (zspan_eq(key, "tls-verify")) {
			have_mode = 1;
			if (zspan_eq(val, "none"))
				tc->mode = TLSM_NONE;
			else if (zspan_eq(val, "may"))
				tc->mode = TLSM_MAY;
			else if (zspan_eq(val, "encrypt"))
				tc->mode = TLSM_ENCRYPT;
			else if (zspan_eq(val, "verify"))
				tc->mode = TLSM_VERIFY;
			else if (zspan_eq(val, "secure"))
				tc->mode = TLSM_SECURE;
			else {
				zbuf_printf(err, "%s:%d: tls-verify must be none, may, encrypt, verify "
					    "or secure", name, lineno);
				return Z_EPARSE;
			}
		} else if (zspan_eq(key, "tls-dcert-file") || zspan_eq(key, "tls-dkey-file") ||
			   zspan_eq(key, "tls-random-source") || zspan_eq(key, "tls-use-scache") ||
			   zspan_eq(key, "tls-scache-timeout") || zspan_eq(key, "no-tls-readahead") ||
			   zspan_eq(key, "tls-strict-rfc2487")) {
			/* accepted for compatibility, no effect */
		} else {
			zbuf_printf(err, "%s:%d: unknown keyword '%.*s'", name, lineno,
				    (int)(key.n > 60 ? 60 : key.n), key.p);
			return Z_EPARSE;
		}
	}
	if (demand && (!have_mode || tc->mode < TLSM_ENCRYPT))
		tc->mode = have_mode && tc->mode > TLSM_ENCRYPT ? tc->mode : TLSM_ENCRYPT;
	if ((tc->keyfile[0] != '\0') != (tc->certfile[0] != '\0')) {
		zbuf_printf(err, "%s: tls-cert-file and tls-key-file go together", name);
		return Z_EPARSE;
	}
	return Z_OK;
}

/* ssl_reason - newest OpenSSL error text */
static const char *ssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	return r ? r : "unknown TLS error";
}

/* file_ok - a configured file (or directory) can be read: the errors
 * OpenSSL would give for a missing one, without OpenSSL */
static int file_ok(const char *path, const char *what, const char *file, int amode, zbuf *err)
{
	if (file[0] == '\0' || access(file, amode) == 0)
		return 1;
	zbuf_printf(err, "%s: %s %s: %s", path, what, file, strerror(errno));
	return 0;
}

/* smtp_tls_setup - read and check the file; no OpenSSL yet */
int smtp_tls_setup(const char *path, smtp_tls_conf *tc, zbuf *err)
{
	zbuf data = ZBUF_INIT(1024u * 1024u);
	int rc = Z_ERR;

	if (path != NULL && zread_file(path, data.max, &data, err) != Z_OK)
		goto done;
	if (path == NULL)
		path = "(built-in TLS defaults)";
	if (smtp_tls_parse(path, data.data ? data.data : "", data.len, tc, err) != Z_OK)
		goto done;
	if (!file_ok(path, "tls-cert-file", tc->certfile, R_OK, err) ||
	    !file_ok(path, "tls-key-file", tc->keyfile, R_OK, err) ||
	    !file_ok(path, "tls-CAfile", tc->cafile, R_OK, err) ||
	    !file_ok(path, "tls-CApath", tc->capath, R_OK | X_OK, err))
		goto done;
	if (zstrlcpy(tc->confname, path, sizeof(tc->confname)) != Z_OK)
		tc->confname[0] = '\0';
	tc->ctx = NULL;
	rc = Z_OK;
done:
	zbuf_free(&data);
	return rc;
}

/* smtp_tls_build - the client context for the parsed configuration */
int smtp_tls_build(smtp_tls_conf *tc, zbuf *err)
{
	const char *path = tc->confname[0] ? tc->confname : "(TLS configuration)";
	SSL_CTX *ctx;
	int rc = Z_ERR;

	if (tc->ctx != NULL)
		return Z_OK;
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		zbuf_printf(err, "SSL_CTX_new: %s", ssl_reason());
		goto done;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (tc->ciphers[0] && SSL_CTX_set_cipher_list(ctx, tc->ciphers) != 1) {
		zbuf_printf(err, "%s: tls-cipher-list '%s': %s", path, tc->ciphers, ssl_reason());
		goto done;
	}
	if (tc->certfile[0]) {
		if (SSL_CTX_use_certificate_chain_file(ctx, tc->certfile) != 1) {
			zbuf_printf(err, "%s: %s", tc->certfile, ssl_reason());
			goto done;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, tc->keyfile, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			zbuf_printf(err, "%s: %s", tc->keyfile, ssl_reason());
			goto done;
		}
	}
	if (tc->cafile[0] || tc->capath[0]) {
		if (SSL_CTX_load_verify_locations(ctx, tc->cafile[0] ? tc->cafile : NULL,
						  tc->capath[0] ? tc->capath : NULL) != 1) {
			zbuf_printf(err, "%s: CA file/path: %s", path, ssl_reason());
			goto done;
		}
	} else if (tc->mode != TLSM_NONE) {
		/* also for may/encrypt: a verified session may carry AUTH
		 * secrets.  Reading the system store (a bundle of some hundred
		 * certificates) costs an agent more CPU than a short queue of
		 * deliveries: it waits for the first handshake */
		tc->defpaths = 1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	tc->ctx = ctx;
	ctx = NULL;
	rc = Z_OK;
done:
	if (ctx != NULL)
		SSL_CTX_free(ctx);
	return rc;
}

/* smtp_tls_load - read the file and build the context */
int smtp_tls_load(const char *path, smtp_tls_conf *tc, zbuf *err)
{
	if (smtp_tls_setup(path, tc, err) != Z_OK)
		return Z_ERR;
	return smtp_tls_build(tc, err);
}

/* smtp_tls_free - release the context */
void smtp_tls_free(smtp_tls_conf *tc)
{
	if (tc->ctx != NULL)
		SSL_CTX_free((SSL_CTX *)tc->ctx);
	tc->ctx = NULL;
}

/* sni_name - a host name usable for SNI, or NULL */
static const char *sni_name(const char *name, char *buf, size_t bufsz)
{
	if (name == NULL || smtp_host_norm(name, buf, bufsz) != Z_OK || buf[0] == '[' ||
	    strchr(buf, '.') == NULL || strchr(buf, '/') != NULL)
		return NULL;
	return buf;
}

/* handshake - drive SSL_connect/SSL_accept until done or the deadline */
static int handshake(smtp_session *ss, SSL *ssl, int server, long long deadline, zbuf *err)
{
	for (;;) {
		int r = server ? SSL_accept(ssl) : SSL_connect(ssl), e;
		struct pollfd p;
		long long now;
		if (r == 1)
			return Z_OK;
		e = SSL_get_error(ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			zbuf_printf(err, "handshake failed: %s",
				    e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 ?
				    "connection closed" : ssl_reason());
			return Z_ERR;
		}
		now = zmono_ms();
		if (now >= deadline) {
			zbuf_puts(err, "handshake timed out");
			return Z_ERR;
		}
		p.fd = ss->fd;
		p.events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		p.revents = 0;
		if (smtp_session_poll(ss, &p, 1, (int)(deadline - now)) < 0 && errno != EINTR) {
			zbuf_printf(err, "poll: %s", strerror(errno));
			return Z_ERR;
		}
	}
}

/* smtp_tls_start - handshake and verification */
int smtp_tls_start(smtp_tls_conf *tc, smtp_session *ss, const char *mxhost, const char *nexthop,
		   long timeout_ms, zbuf *info, zbuf *err)
{
	SSL *ssl = NULL;
	X509 *peer = NULL;
	long long deadline = zmono_ms() + timeout_ms;
	zbuf refs = ZBUF_INIT(2048), why = ZBUF_INIT(512), names = ZBUF_INIT(1024);
	char sni[300];
	const char *sn;
	long vr;
	int rc = Z_ERR, name_ok = 0, required = tc->mode >= TLSM_VERIFY, state;

	ss->tls = STLS_OFF;
	/* verify/secure need names; may/encrypt use the verify-level names to
	 * tell a verified session (for AUTH), and go on without them */
	if (smtp_tls_refs(tc, required ? tc->mode : TLSM_VERIFY, mxhost, nexthop, &refs,
			  &why) != Z_OK && required) {
		zbuf_printf(err, "%s", zbuf_cstr(&why));
		goto done;
	}
	ERR_clear_error();
	/* smtp_tls_setup left OpenSSL alone: its set-up happens here, once */
	if (tc->ctx == NULL && smtp_tls_build(tc, err) != Z_OK)
		goto done;
	if (tc->defpaths) {
		tc->defpaths = 0;
		(void)SSL_CTX_set_default_verify_paths((SSL_CTX *)tc->ctx);
	}
	ssl = SSL_new((SSL_CTX *)tc->ctx);
	if (ssl == NULL || SSL_set_fd(ssl, ss->fd) != 1) {
		zbuf_printf(err, "SSL_new: %s", ssl_reason());
		goto done;
	}
	sn = sni_name(tc->verifyname[0] ? tc->verifyname : mxhost, sni, sizeof(sni));
	if (sn != NULL)
		(void)SSL_set_tlsext_host_name(ssl, sn);
	if (handshake(ss, ssl, 0, deadline, err) != Z_OK)
		goto done;
	peer = SSL_get1_peer_certificate(ssl);
	vr = SSL_get_verify_result(ssl);
	if (peer != NULL && refs.len > 0)
		name_ok = smtp_tls_cert_match(peer, zbuf_cstr(&refs));
	if (peer != NULL)
		cert_names(peer, &names);
	if (required) {
		if (peer == NULL) {
			zbuf_puts(err, "server sent no certificate");
			goto done;
		}
		if (vr != X509_V_OK) {
			zbuf_printf(err, "certificate verification failed: %s",
				    X509_verify_cert_error_string(vr));
			goto done;
		}
		if (!name_ok) {
			zbuf_printf(err, "certificate name mismatch (mode %s): expected %s, "
				    "certificate has %s", smtp_tls_mode_name(tc->mode),
				    zbuf_cstr(&refs), zbuf_cstr(&names));
			goto done;
		}
	}
	state = peer != NULL && vr == X509_V_OK && name_ok ? STLS_VERIFIED : STLS_UNVERIFIED;
	ss->ssl = ssl;
	ss->tls = state;
	ssl = NULL;
	zbuf_reset(&ss->rbuf);
	zbuf_printf(info, "%s %s, ", SSL_get_version((SSL *)ss->ssl),
		    SSL_get_cipher_name((SSL *)ss->ssl));
	if (state == STLS_VERIFIED)
		zbuf_printf(info, "verified (chain and name %s)", zbuf_cstr(&refs));
	else if (peer == NULL)
		zbuf_puts(info, "not verified (no certificate)");
	else if (vr != X509_V_OK)
		zbuf_printf(info, "not verified (%s)", X509_verify_cert_error_string(vr));
	else
		zbuf_printf(info, "not verified (certificate has %s, expected %s)",
			    zbuf_cstr(&names), refs.len ? zbuf_cstr(&refs) : "a name");
	rc = Z_OK;
done:
	if (peer != NULL)
		X509_free(peer);
	if (ssl != NULL)
		SSL_free(ssl);
	zbuf_free(&refs);
	zbuf_free(&why);
	zbuf_free(&names);
	return rc;
}

/* smtp_tls_server_ctx - server context from certificate and key */
int smtp_tls_server_ctx(const char *certfile, const char *keyfile, void **ctxp, zbuf *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int rc = Z_ERR;

	*ctxp = NULL;
	if (ctx == NULL) {
		zbuf_printf(err, "SSL_CTX_new: %s", ssl_reason());
		goto done;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(ctx, certfile) != 1) {
		zbuf_printf(err, "%s: %s", certfile, ssl_reason());
		goto done;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, keyfile, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		zbuf_printf(err, "%s: %s", keyfile, ssl_reason());
		goto done;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	*ctxp = ctx;
	ctx = NULL;
	rc = Z_OK;
done:
	if (ctx != NULL)
		SSL_CTX_free(ctx);
	return rc;
}

/* smtp_tls_ctx_free - release a context */
void smtp_tls_ctx_free(void *ctx)
{
	if (ctx != NULL)
		SSL_CTX_free((SSL_CTX *)ctx);
}

/* smtp_tls_accept - the server's handshake */
int smtp_tls_accept(void *ctx, smtp_session *ss, long timeout_ms, zbuf *info, zbuf *err)
{
	SSL *ssl = NULL;
	int rc = Z_ERR;

	if (ss->rbuf.len > 0) {
		zbuf_puts(err, "client sent data before the TLS handshake (injection?)");
		return Z_ERR;
	}
	ERR_clear_error();
	ssl = SSL_new((SSL_CTX *)ctx);
	if (ssl == NULL || SSL_set_fd(ssl, ss->fd) != 1) {
		zbuf_printf(err, "SSL_new: %s", ssl_reason());
		goto done;
	}
	if (handshake(ss, ssl, 1, zmono_ms() + timeout_ms, err) != Z_OK)
		goto done;
	ss->ssl = ssl;
	ss->tls = STLS_UNVERIFIED;
	ssl = NULL;
	zbuf_printf(info, "%s %s", SSL_get_version((SSL *)ss->ssl),
		    SSL_get_cipher_name((SSL *)ss->ssl));
	rc = Z_OK;
done:
	if (ssl != NULL)
		SSL_free(ssl);
	return rc;
}
