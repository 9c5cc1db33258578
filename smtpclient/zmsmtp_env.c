/*
 * NAME
 *	zmsmtp_env - the envelope steps every SMTP client of zmta shares
 * SUMMARY
 *	MAIL and RCPT command lines with their ESMTP parameters (BODY, SIZE,
 *	RET, ENVID, NOTIFY, ORCPT), the meaning of a RCPT reply, reply codes
 *	to sysexits and a default enhanced status.
 * SYNOPSIS
 *	#include "zmsmtp_env.h"
 *	int zmsmtp_addr_ok(const char *a);
 *	int zmsmtp_param_ok(zspan v, int alnum_comma);
 *	int zmsmtp_mail_cmd(zbuf *cmd, const zmsmtp_mailp *p, const smtp_caps *caps);
 *	int zmsmtp_rcpt_cmd(zbuf *cmd, const char *rcpt, const smtp_caps *caps,
 *	                    zspan notify, zspan orcpt);
 *	int zmsmtp_rcpt_verdict(const smtp_reply *r);
 *	int zmsmtp_auth_exchange(unsigned mech, const char *user, const char *secret,
 *	                         const zmsmtp_io *io, zbuf *err);
 *	int zmsmtp_hello(const zmsmtp_io *io, const char *name, unsigned flags,
 *	                 const char *banner, const char *peer, smtp_caps *caps, zbuf *err);
 *	int zmsmtp_starttls(const zmsmtp_io *io, struct smtp_session *ss,
 *	                    struct smtp_tls_conf *tc, const char *mxhost, const char *nexthop,
 *	                    long tls_ms, const char *peer, zbuf *info, zbuf *err);
 *	int zmsmtp_group_replies(const zmsmtp_group *g, smtp_reply *mailrep, int *data354);
 *	int smtp_code_map(int code, const char *enh, char *status, size_t statussz);
 * DESCRIPTION
 *	Part of libzmsmtp (libzmsmtp(3)).  The smtp agent's transaction
 *	(transport/smtp/smtp_xact.c) and the library's session
 *	(smtpclient/zmsmtp.c) build every envelope command here, so that
 *	both speak the same protocol.  Parameters go out only when the
 *	server's EHLO offered the extension.  ENVID and ORCPT values that
 *	are not valid xtext are encoded; ENVID longer than 100 bytes encoded
 *	is left out (RFC 3461).  The greeting dialogue (zmsmtp_hello: LHLO,
 *	EHLO, HELO and their fallbacks) and the AUTH dialogue (which
 *	mechanism may be used is the caller's policy) run over the caller's
 *	command and reply hooks (zmsmtp_io); so does the STARTTLS step
 *	(zmsmtp_starttls; whether to go on without TLS is the caller's
 *	policy: the agent's TLS modes, the library's tlspolicy callback),
 *	and the reading of a pipelined envelope's replies
 *	(zmsmtp_group_replies: RFC 2920 order, MAIL refused voids the rest).
 * DIAGNOSTICS
 *	Z_EPARSE for an address that must not go into a command line;
 *	Z_ETOOBIG for a line over SMTP_CMD_MAX.
 * SECURITY
 *	Addresses come from control files, headers and callers: anything
 *	with control characters or angle brackets is refused before a
 *	command is built, so no command injection through CR/LF.
 * BUGS
 *	SMTPUTF8 is not offered.
 * SEE ALSO
 *	libzmsmtp(3), smtp(8), RFC 5321, 1652, 1870, 3461
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include "zerr.h"
#include "zutil.h"
#include "xtext.h"
#include "smtp_sasl.h"
#include "smtp_state.h"
#include "smtp_session.h"
#include "smtp_tls.h"
#include "zmsmtp_env.h"

/* zmsmtp_addr_ok - no control characters, no angle brackets, bounded */
int zmsmtp_addr_ok(const char *a)
{
	size_t n = strlen(a);
	if (n > 512)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c < 0x20 || c == 0x7f || c == '<' || c == '>')
			return 0;
	}
	return 1;
}

/* zmsmtp_param_ok - DSN parameter values: printable ASCII without space */
int zmsmtp_param_ok(zspan v, int alnum_comma)
{
	if (v.n == 0 || v.n > 500)
		return 0;
	for (size_t i = 0; i < v.n; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (alnum_comma ? !(isalnum(c) || c == ',') : (c < 33 || c > 126))
			return 0;
	}
	return 1;
}

/* zmsmtp_mail_cmd - the MAIL line for p and the server's capabilities */
int zmsmtp_mail_cmd(zbuf *cmd, const zmsmtp_mailp *p, const smtp_caps *caps)
{
	zbuf_reset(cmd);
	if (!zmsmtp_addr_ok(p->sender))
		return Z_EPARSE;
	zbuf_printf(cmd, "MAIL From:<%s>", p->sender);
	if (p->body8 && (caps->flags & CAP_8BITMIME))
		zbuf_puts(cmd, " BODY=8BITMIME");
	if ((caps->flags & CAP_SIZE) && p->size > 0)
		zbuf_printf(cmd, " SIZE=%zu", p->size);
	if (caps->flags & CAP_DSN) {
		if (zspan_caseeq(p->ret, "FULL") || zspan_caseeq(p->ret, "HDRS"))
			zbuf_printf(cmd, " RET=%.*s", (int)p->ret.n, p->ret.p);
		if (p->envid.n > 0) {
			zbuf e = ZBUF_INIT(1024);
			if (xtext_valid(p->envid))
				zbuf_append(&e, p->envid.p, p->envid.n);
			else
				xtext_encode(&e, p->envid);
			if (e.len > 0 && e.len <= 100)     /* RFC 3461: at most 100 */
				zbuf_printf(cmd, " ENVID=%s", zbuf_cstr(&e));
			zbuf_free(&e);
		}
	}
	return cmd->len + 2 > SMTP_CMD_MAX ? Z_ETOOBIG : Z_OK;
}

/* zmsmtp_rcpt_cmd - the RCPT line for rcpt and the server's capabilities */
int zmsmtp_rcpt_cmd(zbuf *cmd, const char *rcpt, const smtp_caps *caps, zspan notify,
		    zspan orcpt)
{
	zbuf_reset(cmd);
	if (!zmsmtp_addr_ok(rcpt))
		return Z_EPARSE;
	zbuf_printf(cmd, "RCPT To:<%s>", rcpt);
	if (caps->flags & CAP_DSN) {
		if (zmsmtp_param_ok(notify, 1))
			zbuf_printf(cmd, " NOTIFY=%.*s", (int)notify.n, notify.p);
		else
			zbuf_puts(cmd, " NOTIFY=FAILURE,DELAY");
		if (orcpt.n > 0 && zmsmtp_param_ok(orcpt, 0) && zspan_chr(orcpt, ';') > 0) {
			/* addr-type ";" xtext; re-encode a raw address */
			long semi = zspan_chr(orcpt, ';');
			zspan rest = { orcpt.p + semi + 1, orcpt.n - (size_t)semi - 1 };
			zbuf_printf(cmd, " ORCPT=%.*s", (int)semi + 1, orcpt.p);
			if (xtext_valid(rest))
				zbuf_append(cmd, rest.p, rest.n);
			else
				xtext_encode(cmd, rest);
		} else {
			zbuf_puts(cmd, " ORCPT=rfc822;");
			xtext_encode(cmd, zspan_from(rcpt));
		}
	}
	return cmd->len + 2 > SMTP_CMD_MAX ? Z_ETOOBIG : Z_OK;
}

/* zmsmtp_rcpt_verdict - accepted, retry later (too many recipients), refused */
int zmsmtp_rcpt_verdict(const smtp_reply *r)
{
	if (r->code / 100 == 2)
		return ZMV_ACCEPT;
	if (r->code == 452 || strcmp(r->enh, "4.5.3") == 0)
		return ZMV_RETRY;
	return ZMV_REFUSE;
}

/* smtp_code_map - reply code to sysexits code and notary status */
int smtp_code_map(int code, const char *enh, char *status, size_t statussz)
{
	const char *st;
	int ex;

	if (code >= 200 && code < 400) {
		ex = EX_OK; st = "2.0.0";
	} else {
		switch (code) {
		case 421: case 450: case 451: case 452:
			ex = EX_TEMPFAIL; st = "4.0.0"; break;
		case 455: ex = EX_USAGE; st = "5.5.4"; break;
		case 500: case 502: ex = EX_PROTOCOL; st = "5.5.1"; break;
		case 501: ex = EX_USAGE; st = "5.5.2"; break;
		case 503: ex = EX_TEMPFAIL; st = "4.5.0"; break;
		case 504: ex = EX_PROTOCOL; st = "5.5.4"; break;
		case 550: ex = EX_NOUSER; st = "5.1.1"; break;
		case 551: ex = EX_NOUSER; st = "5.1.6"; break;
		case 552: ex = EX_UNAVAILABLE; st = "5.2.3"; break;
		case 553: ex = EX_NOUSER; st = "5.1.3"; break;
		case 554: ex = EX_NOUSER; st = "5.1.1"; break;
		case 555: ex = EX_USAGE; st = "5.5.4"; break;
		case 571: ex = EX_NOUSER; st = "5.7.1"; break;
		default:
			if (code >= 400 && code < 500) {
				ex = EX_TEMPFAIL; st = "4.0.0";
			} else if (code >= 500 && code < 600) {
				ex = EX_UNAVAILABLE; st = "5.0.0";
			} else {
				ex = EX_TEMPFAIL; st = "4.5.0";   /* 1xx or nonsense */
			}
		}
	}
	if (enh != NULL && enh[0] != '\0' && enh[0] == st[0])
		st = enh;
	if (status != NULL && statussz > 0)
		(void)zstrlcpy(status, st, statussz);
	return ex;
}

/* zmsmtp_auth_exchange - one AUTH dialogue over the caller's hooks */
int zmsmtp_auth_exchange(unsigned mech, const char *user, const char *secret,
			 const zmsmtp_io *io, zbuf *err)
{
	zbuf b = ZBUF_INIT(4096), d = ZBUF_INIT(4096), line = ZBUF_INIT(SMTP_CMD_MAX);
	const smtp_reply *rep = NULL;
	int rc = Z_EIO;

	/* the buffers holding secrets never grow (no copies left by realloc) */
	if (zbuf_reserve(&b, 2048) != Z_OK || zbuf_reserve(&d, 2048) != Z_OK ||
	    zbuf_reserve(&line, SMTP_CMD_MAX) != Z_OK) {
		zbuf_puts(err, "AUTH: out of memory");
		rc = Z_ENOMEM;
		goto done;
	}
	if (mech == AUTHM_PLAIN) {
		if (smtp_sasl_plain(user, secret, &b) != Z_OK ||
		    zbuf_printf(&line, "AUTH PLAIN %s", zbuf_cstr(&b)) != Z_OK ||
		    line.len + 2 > SMTP_CMD_MAX || io->cmd(io->arg, 10, zbuf_cstr(&line)) != Z_OK) {
			zbuf_puts(err, "AUTH PLAIN: user and secret too long");
			rc = Z_ETOOBIG;
			goto done;
		}
		if (io->reply(io->arg, S_AUTH, &rep) != Z_OK)
			goto done;
	} else if (mech == AUTHM_LOGIN) {
		io->cmd(io->arg, 0, "AUTH LOGIN");
		if (io->reply(io->arg, S_AUTH, &rep) != Z_OK)
			goto done;
		for (int step = 0; step < 2 && rep->code == 334; step++) {
			const char *v = step == 0 ? user : secret;
			zbuf_reset(&b);
			if (smtp_b64_encode(v, strlen(v), &b) != Z_OK ||
			    io->cmd(io->arg, step == 0 ? 0 : -1, zbuf_cstr(&b)) != Z_OK) {
				zbuf_puts(err, "AUTH LOGIN: user or secret too long");
				rc = Z_ETOOBIG;
				goto done;
			}
			if (io->reply(io->arg, S_AUTH, &rep) != Z_OK)
				goto done;
		}
	} else if (mech == AUTHM_CRAMMD5) {
		io->cmd(io->arg, 0, "AUTH CRAM-MD5");
		if (io->reply(io->arg, S_AUTH, &rep) != Z_OK)
			goto done;
		if (rep->code == 334) {
			zspan ch = zspan_trim(smtp_reply_last(rep));
			if (smtp_b64_decode(ch, &d) != Z_OK || d.len > 1024 ||
			    smtp_cram_md5(user, secret, d.data ? d.data : "", d.len, &b) != Z_OK) {
				io->cmd(io->arg, 0, "*");
				(void)io->reply(io->arg, S_AUTH, &rep);
				zbuf_puts(err, "bad CRAM-MD5 challenge from the server");
				rc = Z_EPARSE;
				goto done;
			}
			zbuf_reset(&d);
			if (smtp_b64_encode(b.data, b.len, &d) != Z_OK ||
			    io->cmd(io->arg, -1, zbuf_cstr(&d)) != Z_OK) {
				zbuf_puts(err, "AUTH CRAM-MD5: response too long");
				rc = Z_ETOOBIG;
				goto done;
			}
			if (io->reply(io->arg, S_AUTH, &rep) != Z_OK)
				goto done;
		}
	} else {
		zbuf_puts(err, "AUTH: unknown mechanism");
		rc = Z_EPARSE;
		goto done;
	}
	rc = Z_OK;
done:
	smtp_zbuf_wipe(&b);
	smtp_zbuf_wipe(&d);
	smtp_zbuf_wipe(&line);
	return rc;
}

/* zmsmtp_hello - LHLO/EHLO/HELO with the fallbacks */
int zmsmtp_hello(const zmsmtp_io *io, const char *name, unsigned flags, const char *banner,
		 const char *peer, smtp_caps *caps, zbuf *err)
{
	const smtp_reply *rep = NULL;
	zbuf line = ZBUF_INIT(SMTP_CMD_MAX);
	int use_ehlo = !(flags & (ZMH_NOESMTP | ZMH_FORCE_HELO)), rc = -1;

	memset(caps, 0, sizeof(*caps));
	caps->rcptlimit = SMTP_RCPTLIMIT_DEFAULT;
	if (flags & ZMH_LMTP) {
		zbuf_printf(&line, "LHLO %s", name);
		io->cmd(io->arg, 0, zbuf_cstr(&line));
		if (io->reply(io->arg, S_LHLO, &rep) != Z_OK)
			goto done;
		if (rep->code / 100 != 2) {
			zbuf_reset(err);
			zbuf_printf(err, "LHLO refused by %s: %s", peer, zbuf_cstr(&rep->text));
			goto done;
		}
		smtp_caps_parse(rep, caps);
		goto caps_done;
	}
	if (use_ehlo && (flags & ZMH_ESMTP_IF_BANNER) && (banner == NULL || strcasestr(banner, "ESMTP") == NULL))
		use_ehlo = 0;
	if (use_ehlo) {
		zbuf_printf(&line, "EHLO %s", name);
		io->cmd(io->arg, 0, zbuf_cstr(&line));
		if (io->reply(io->arg, S_EHLO, &rep) != Z_OK) {
			rc = 1;      /* dropped on EHLO: reconnect, HELO */
			goto done;
		}
		if (rep->code / 100 == 2) {
			smtp_caps_parse(rep, caps);
			goto caps_done;
		}
		if (rep->code / 100 == 4) {
			rc = 1;
			goto done;
		}
		/* 5xx: HELO on the same connection */
	}
	zbuf_reset(&line);
	zbuf_printf(&line, "HELO %s", name);
	io->cmd(io->arg, 0, zbuf_cstr(&line));
	if (io->reply(io->arg, S_HELO, &rep) != Z_OK)
		goto done;
	if (rep->code / 100 != 2) {
		zbuf_reset(err);
		zbuf_printf(err, "HELO refused by %s: %s", peer, zbuf_cstr(&rep->text));
		goto done;
	}
caps_done:
	if (flags & ZMH_SEVENBIT)
		caps->flags &= ~(unsigned)(CAP_8BITMIME | CAP_BINARYMIME);
	rc = 0;
done:
	zbuf_free(&line);
	return rc;
}

/* zmsmtp_starttls - the STARTTLS step up to a checked TLS session */
int zmsmtp_starttls(const zmsmtp_io *io, struct smtp_session *ss, struct smtp_tls_conf *tc,
		    const char *mxhost, const char *nexthop, long tls_ms, const char *peer,
		    zbuf *info, zbuf *err)
{
	const smtp_reply *rep = NULL;

	io->cmd(io->arg, 0, "STARTTLS");
	if (io->reply(io->arg, S_STARTTLS, &rep) != Z_OK)
		return ZMT_LOST;
	if (rep->code != 220)
		return ZMT_REFUSED;
	if (ss->rbuf.len > 0) {
		zbuf_reset(err);
		zbuf_printf(err, "%s sent data after the STARTTLS reply (injection?)", peer);
		return ZMT_INJECTED;
	}
	smtp_session_state(ss, S_TLS);
	if (smtp_tls_start(tc, ss, mxhost, nexthop, tls_ms, info, err) != Z_OK)
		return ZMT_HANDSHAKE;
	return ZMT_OK;
}

/* zmsmtp_group_replies - the replies of a pipelined envelope, in order */
int zmsmtp_group_replies(const zmsmtp_group *g, smtp_reply *mailrep, int *data354)
{
	const smtp_reply *rep = NULL;

	*data354 = 0;
	if (g->reply(g->arg, S_MAIL, ZMG_ITEM_MAIL, &rep) != Z_OK)
		return ZMG_LOST_MAIL;
	if (rep->code / 100 != 2) {
		int lost = 0;
		if (smtp_reply_copy(mailrep, rep) != Z_OK) {
			mailrep->code = rep->code;
			memcpy(mailrep->enh, rep->enh, sizeof(mailrep->enh));
		}
		for (size_t i = 0; i < g->n && !lost; i++)
			if (g->sent[i] && g->reply(g->arg, S_RCPT, (long)i, &rep) != Z_OK)
				lost = 1;
		if (g->data_sent && !lost && g->reply(g->arg, S_DATA, ZMG_ITEM_DATA, &rep) == Z_OK &&
		    rep->code == 354)
			*data354 = 1;
		return ZMG_MAILFAIL;
	}
	for (size_t i = 0; i < g->n; i++) {
		if (!g->sent[i])
			continue;
		if (g->reply(g->arg, S_RCPT, (long)i, &rep) != Z_OK)
			return ZMG_LOST;
		g->rcpt(g->arg, i, rep, zmsmtp_rcpt_verdict(rep));
	}
	return ZMG_OK;
}
