/*
 * NAME
 *	zmsmtpd_auth - libzmsmtpd: STARTTLS and AUTH
 * SUMMARY
 *	STARTTLS (discarding what was pipelined behind it, then resetting the
 *	session) and AUTH PLAIN, LOGIN, CRAM-MD5.
 * SYNOPSIS
 *	void zms_do_starttls(zmsmtpd_sess *s);  void zms_tls_reset(zmsmtpd_sess *s);
 *	void zms_do_auth(zmsmtpd_sess *s, zspan arg);
 *	void zms_auth_step(zmsmtpd_sess *s, zspan in, int have);
 * DESCRIPTION
 *	With auth_secret every mechanism runs through the smtp/ SASL server;
 *	with auth_verify PLAIN and LOGIN are decoded here and the password
 *	handed to the callback.
 * DIAGNOSTICS
 *	Replies to the client and log callback lines.
 * SECURITY
 *	PLAIN/LOGIN only under TLS unless auth-plaintext; secrets are wiped;
 *	commands pipelined behind STARTTLS are discarded (CVE-2011-0411).
 * BUGS
 *	None known.
 * SEE ALSO
 *	zmsmtpd.c, zmsmtpd_int.h, libzmsmtpd(3)
 */
#include "zmsmtpd_int.h"

void zms_do_starttls(zmsmtpd_sess *s)
{
	zmsmtpd *d = s->d;
	smtp_session ss;
	zbuf info = ZBUF_INIT(512), err = ZBUF_INIT(512);

	if (d->tlsctx == NULL || s->ssl != NULL) {
		zms_reply(s, 502, "5.5.1", "STARTTLS not available");
		return;
	}
	if (s->rbuf.len > 0) {
		zms_slog(s, "discarding %zu bytes pipelined after STARTTLS", s->rbuf.len);
		zbuf_reset(&s->rbuf);
	}
	zms_reply(s, 220, "2.0.0", "Ready to start TLS");
	if (s->loopmode) {
		/* the handshake runs in the event loop once the 220 is out */
		s->state = ST_TLS;
		s->tls_implicit = 0;
		return;
	}
	if (zms_io_flush(s, 1) != 0) {
		s->state = ST_CLOSE;
		return;
	}
	smtp_session_init(&ss, NULL);
	smtp_session_attach(&ss, s->infd);
	if (smtp_tls_accept(d->tlsctx, &ss, d->o.timeout_cmd * 1000, &info, &err) != Z_OK) {
		zms_slog(s, "TLS handshake failed: %s", zbuf_cstr(&err));
		s->state = ST_CLOSE;
	} else {
		s->ssl = ss.ssl;
		zstrlcpy(s->tlsinfo, zbuf_cstr(&info), sizeof(s->tlsinfo));
		zms_slog(s, "TLS: %s", s->tlsinfo);
		/* RFC 3207 4.2: forget everything learnt before */
		zms_txn_reset(s);
		s->helo[0] = '\0';
		s->esmtp = 0;
		s->auth_user[0] = '\0';
	}
	ss.ssl = NULL;
	ss.fd = -1;
	smtp_session_free(&ss);
	zbuf_free(&info);
	zbuf_free(&err);
}

/* zms_tls_reset - RFC 3207 4.2: after the handshake, forget everything */
void zms_tls_reset(zmsmtpd_sess *s)
{
	zms_txn_reset(s);
	s->helo[0] = '\0';
	s->esmtp = 0;
	s->auth_user[0] = '\0';
}

/* auth_done - the AUTH exchange ended with rc (0 ok, -1 bad creds, -2 cancelled/malformed) */
static void auth_done(zmsmtpd_sess *s, int rc)
{
	s->state = ST_CMD;
	smtp_sasl_server_end(&s->sasl);
	if (rc == 0) {
		zstrlcpy(s->auth_user, s->auser, sizeof(s->auth_user));
		zms_slog(s, "authenticated as %s (%s)", s->auth_user, smtp_sasl_mech_name(s->amech));
		zms_reply(s, 235, "2.7.0", "Authentication successful");
	} else if (rc == -2) {
		zms_reply(s, 501, "5.5.2", "Authentication cancelled or malformed");
	} else {
		zms_slog(s, "authentication failed for %s", s->auser);
		zms_reply(s, 535, "5.7.8", "Authentication credentials invalid");
	}
}

/* secret_cb - CRAM-MD5 secrets through the library user's callback */
static int secret_cb(void *arg, const char *user, zbuf *secret)
{
	zmsmtpd_sess *s = arg;
	char buf[512];
	int rc;

	if (s->d->cb.auth_secret == NULL || s->d->cb.auth_secret(s->d->cb.arg, user, buf, sizeof(buf)) != 0)
		return Z_ENOENT;
	rc = zbuf_puts(secret, buf);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* zms_auth_step - one client answer in (have: given) for the current mechanism */
void zms_auth_step(zmsmtpd_sess *s, zspan in, int have)
{
	zmsmtpd *d = s->d;
	zbuf dec = ZBUF_INIT(2048), out = ZBUF_INIT(2048), err = ZBUF_INIT(256);

	if (have && in.n == 1 && in.p[0] == '*') {
		auth_done(s, -2);
		goto out;
	}
	if (s->asasl) {
		int rc = smtp_sasl_server_step(&s->sasl, in, have, &out, &err);
		if (rc == SMTP_SASL_CONTINUE) {
			s->state = ST_AUTH;
			zms_reply(s, 334, NULL, "%s", zbuf_cstr(&out));
		} else {
			zstrlcpy(s->auser, s->sasl.user, sizeof(s->auser));
			auth_done(s, rc == Z_OK ? 0 : rc == Z_EPARSE ? -2 : -1);
		}
		goto out;
	}
	if (!have) {
		s->state = ST_AUTH;
		if (s->amech == AUTHM_PLAIN)
			zms_reply(s, 334, NULL, " ");
		else
			zms_reply(s, 334, NULL, "%s", s->astep == 0 ? "VXNlcm5hbWU6" : "UGFzc3dvcmQ6");
		goto out;
	}
	if (!(in.n == 1 && in.p[0] == '=') && smtp_b64_decode(in, &dec) != Z_OK) {
		auth_done(s, -2);
		goto out;
	}
	if (s->amech == AUTHM_PLAIN) {
		/* RFC 4616: [authzid] NUL authcid NUL passwd; an authzid must be
		 * the authcid, a NUL in passwd fails the login */
		zcur c;
		zspan authz, authc, pwd;
		char pw[512];

		zcur_init(&c, dec.data ? dec.data : "", dec.len);
		if (zcur_take_until(&c, '\0', &authz) != Z_OK ||
		    zcur_take_until(&c, '\0', &authc) != Z_OK ||
		    authc.n >= sizeof(s->auser) || zcur_left(&c) >= sizeof(pw)) {
			auth_done(s, -2);
			goto out;
		}
		zcur_take_rest(&c, &pwd);
		zspan_copy(authc, s->auser, sizeof(s->auser));
		zspan_copy(pwd, pw, sizeof(pw));
		if ((authz.n != 0 && !zspan_eq(authz, s->auser)) || zspan_chr(pwd, '\0') >= 0)
			auth_done(s, -1);
		else
			auth_done(s, d->cb.auth_verify(d->cb.arg, s->auser, pw) == 0 ? 0 : -1);
		explicit_bzero(pw, sizeof(pw));
	} else {
		if (s->astep == 0) {
			if (dec.len >= sizeof(s->auser) || memchr(dec.data ? dec.data : "", '\0', dec.len)) {
				auth_done(s, -2);
				goto out;
			}
			memcpy(s->auser, dec.data ? dec.data : "", dec.len);
			s->auser[dec.len] = '\0';
			s->astep = 1;
			s->state = ST_AUTH;
			zms_reply(s, 334, NULL, "UGFzc3dvcmQ6");
		} else {
			char pw[512];
			if (dec.len >= sizeof(pw) || memchr(dec.data ? dec.data : "", '\0', dec.len)) {
				auth_done(s, -2);
				goto out;
			}
			memcpy(pw, dec.data ? dec.data : "", dec.len);
			pw[dec.len] = '\0';
			auth_done(s, d->cb.auth_verify(d->cb.arg, s->auser, pw) == 0 ? 0 : -1);
			explicit_bzero(pw, sizeof(pw));
		}
	}
out:
	smtp_zbuf_wipe(&dec);
	zbuf_free(&out);
	zbuf_free(&err);
}

void zms_do_auth(zmsmtpd_sess *s, zspan arg)
{
	zmsmtpd *d = s->d;
	zspan mech, init = ZSPAN_NULL;
	zcur c;
	unsigned m;

	/* "mechanism" or "mechanism SP initial-response" */
	zcur_init(&c, arg.p, arg.n);
	zcur_take_cspan(&c, " ", &mech);
	if (zcur_skip_char(&c, ' '))
		zcur_take_rest(&c, &init);
	if (!s->esmtp) {
		zms_reply(s, 503, "5.5.1", "Send EHLO first");
		return;
	}
	if (s->auth_user[0]) {
		zms_reply(s, 503, "5.5.1", "Already authenticated");
		return;
	}
	if (s->have_mail) {
		zms_reply(s, 503, "5.5.1", "AUTH not allowed during a mail transaction");
		return;
	}
	m = smtp_sasl_mech_parse(mech);
	if (m == 0 || (m == AUTHM_CRAMMD5 && d->cb.auth_secret == NULL) ||
	    (m != AUTHM_CRAMMD5 && d->cb.auth_verify == NULL && d->cb.auth_secret == NULL)) {
		zms_reply(s, 504, "5.5.4", "Unrecognized authentication type");
		return;
	}
	if (m != AUTHM_CRAMMD5 && s->ssl == NULL && !d->o.auth_plaintext) {
		zms_reply(s, 538, "5.7.11", "Encryption required for requested authentication mechanism");
		return;
	}
	s->amech = m;
	s->astep = 0;
	s->auser[0] = '\0';
	/* clear-text secrets (auth_secret): every mechanism through the smtp/
	 * SASL server; a verify callback (hashes) decodes PLAIN/LOGIN here */
	s->asasl = m == AUTHM_CRAMMD5 || d->cb.auth_verify == NULL;
	if (s->asasl) {
		if (m == AUTHM_CRAMMD5 && init.n > 0) {
			zms_reply(s, 501, "5.5.2", "CRAM-MD5 takes no initial response");
			return;
		}
		if (smtp_sasl_server_start(&s->sasl, m, d->o.hostname, secret_cb, s) != Z_OK) {
			zms_reply(s, 454, "4.7.0", "Temporary authentication failure");
			return;
		}
	}
	zms_auth_step(s, init, init.n > 0);
}

