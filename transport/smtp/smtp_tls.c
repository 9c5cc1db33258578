/*
 * NAME
 *	smtp_tls - smtp-tls.conf and the client side of STARTTLS
 * SUMMARY
 *	Reads the TLS client configuration, builds one SSL_CTX, and runs
 *	the handshake on an open SMTP connection with the configured
 *	verification mode.
 * SYNOPSIS
 *	int smtp_tls_load(const char *path, smtp_tls_conf *tc, zbuf *err)
 *	int smtp_tls_parse(const char *name, const char *data, size_t len,
 *	                   smtp_tls_conf *tc, zbuf *err)
 *	void smtp_tls_free(smtp_tls_conf *tc)
 *	int smtp_tls_start(smtp_tls_conf *tc, smtp_io *io, const char *peername,
 *	                   long timeout_ms, zbuf *info, zbuf *err)
 *	const char *smtp_tls_mode_name(enum tls_mode m)
 * DESCRIPTION
 *	One "keyword [value]" per line, '#' and ';' start comments.  Keys:
 *	tls-cert-file, tls-key-file, tls-CAfile, tls-CApath, tls-loglevel,
 *	tls-cipher-list, demand-tls-mode (= tls-verify encrypt),
 *	tls-verify none|may|encrypt|verify|secure, tls-verify-name name;
 *	the old keys tls-dcert-file, tls-dkey-file, tls-random-source,
 *	tls-use-scache, tls-scache-timeout, no-tls-readahead and
 *	tls-strict-rfc2487 are accepted and ignored.  Without tls-verify the
 *	mode is "may" (or "encrypt" with demand-tls-mode).
 *
 *	Modes: none never starts TLS; may uses TLS when offered without
 *	checking the certificate; encrypt requires TLS, no checks; verify
 *	requires a chain that verifies against the CA file/path (or the
 *	system store); secure also requires the certificate to match the
 *	MX name (or tls-verify-name), which is sent as SNI too.  TLS 1.2 is
 *	the minimum protocol version.
 * DIAGNOSTICS
 *	Unknown keys, bad values and unreadable files are errors naming the
 *	file and line.  Handshake and verification failures return Z_ERR
 *	with the OpenSSL reason; the caller defers (never falls back to
 *	clear text in the required modes).
 * SECURITY
 *	The key file is read by OpenSSL; nothing of it is logged.
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
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "smtp.h"
#include "zutil.h"

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

/* smtp_tls_load - read the file and build the context */
int smtp_tls_load(const char *path, smtp_tls_conf *tc, zbuf *err)
{
	zbuf data = ZBUF_INIT(1024u * 1024u);
	SSL_CTX *ctx = NULL;
	int rc = Z_ERR;

	if (zread_file(path, data.max, &data, err) != Z_OK)
		goto done;
	if (smtp_tls_parse(path, data.data ? data.data : "", data.len, tc, err) != Z_OK)
		goto done;
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
	} else if (tc->mode >= TLSM_VERIFY) {
		(void)SSL_CTX_set_default_verify_paths(ctx);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	tc->ctx = ctx;
	ctx = NULL;
	rc = Z_OK;
done:
	if (ctx != NULL)
		SSL_CTX_free(ctx);
	zbuf_free(&data);
	return rc;
}

/* smtp_tls_free - release the context */
void smtp_tls_free(smtp_tls_conf *tc)
{
	if (tc->ctx != NULL)
		SSL_CTX_free((SSL_CTX *)tc->ctx);
	tc->ctx = NULL;
}

/* is_ip_literal - address, not a name (no SNI then) */
static int is_ip_literal(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* smtp_tls_start - handshake and verification */
int smtp_tls_start(smtp_tls_conf *tc, smtp_io *io, const char *peername,
		   long timeout_ms, zbuf *info, zbuf *err)
{
	SSL *ssl;
	long long deadline = zmono_ms() + timeout_ms;
	char lit[80] = "";
	int usable_name = peername != NULL && peername[0] != '\0' && peername[0] != '/' &&
		peername[0] != '[' && !is_ip_literal(peername);

	/* "[192.0.2.1]" / "[IPv6:2001:db8::1]": match the certificate's IP */
	if (peername != NULL && peername[0] == '[') {
		const char *p = peername + 1;
		size_t n;
		if (strncasecmp(p, "IPv6:", 5) == 0)
			p += 5;
		n = strcspn(p, "]");
		if (n < sizeof(lit)) {
			memcpy(lit, p, n);
			lit[n] = '\0';
		}
	} else if (peername != NULL && is_ip_literal(peername)) {
		(void)zstrlcpy(lit, peername, sizeof(lit));
	}

	ERR_clear_error();
	ssl = SSL_new((SSL_CTX *)tc->ctx);
	if (ssl == NULL || SSL_set_fd(ssl, io->fd) != 1) {
		zbuf_printf(err, "SSL_new: %s", ssl_reason());
		if (ssl)
			SSL_free(ssl);
		return Z_ERR;
	}
	if (usable_name)
		(void)SSL_set_tlsext_host_name(ssl, peername);
	if (tc->mode == TLSM_SECURE && !usable_name && lit[0] != '\0') {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), lit) != 1) {
			zbuf_printf(err, "cannot set expected address %s", lit);
			SSL_free(ssl);
			return Z_ERR;
		}
	} else if (tc->mode == TLSM_SECURE) {
		if (!usable_name) {
			zbuf_puts(err, "secure mode needs a host name to match (tls-verify-name)");
			SSL_free(ssl);
			return Z_ERR;
		}
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
		X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (X509_VERIFY_PARAM_set1_host(vp, peername, 0) != 1) {
			zbuf_printf(err, "cannot set expected name: %s", ssl_reason());
			SSL_free(ssl);
			return Z_ERR;
		}
	}
	for (;;) {
		int r = SSL_connect(ssl), e;
		struct pollfd p;
		long long now;
		if (r == 1)
			break;
		e = SSL_get_error(ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			zbuf_printf(err, "handshake failed: %s",
				    e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 ?
				    "connection closed" : ssl_reason());
			SSL_free(ssl);
			return Z_ERR;
		}
		now = zmono_ms();
		if (now >= deadline) {
			zbuf_puts(err, "handshake timed out");
			SSL_free(ssl);
			return Z_ERR;
		}
		p.fd = io->fd;
		p.events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		p.revents = 0;
		if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR) {
			zbuf_printf(err, "poll: %s", strerror(errno));
			SSL_free(ssl);
			return Z_ERR;
		}
	}
	if (tc->mode >= TLSM_VERIFY) {
		X509 *peer = SSL_get1_peer_certificate(ssl);
		long vr = SSL_get_verify_result(ssl);
		if (peer == NULL) {
			zbuf_puts(err, "server sent no certificate");
			SSL_free(ssl);
			return Z_ERR;
		}
		X509_free(peer);
		if (vr != X509_V_OK) {
			zbuf_printf(err, "certificate verification failed: %s%s%s",
				    X509_verify_cert_error_string(vr),
				    tc->mode == TLSM_SECURE ? " (expected name " : "",
				    tc->mode == TLSM_SECURE ? peername : "");
			if (tc->mode == TLSM_SECURE)
				zbuf_putc(err, ')');
			SSL_free(ssl);
			return Z_ERR;
		}
	}
	io->ssl = ssl;
	zbuf_reset(&io->rbuf);
	zbuf_printf(info, "%s %s, verify %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl),
		    tc->mode >= TLSM_VERIFY ? (tc->mode == TLSM_SECURE ? "ok (chain and name)" :
					      "ok (chain)") : "not checked");
	return Z_OK;
}
