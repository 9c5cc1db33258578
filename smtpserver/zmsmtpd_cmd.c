/*
 * NAME
 *	zmsmtpd_cmd - libzmsmtpd: command parser and dispatch
 * SUMMARY
 *	One command line at a time from rbuf: EHLO HELO MAIL RCPT DATA BDAT
 *	RSET NOOP QUIT HELP VRFY STARTTLS AUTH ETRN; limits and errors.
 * SYNOPSIS
 *	void zms_process(zmsmtpd_sess *s);
 *	void zms_command(zmsmtpd_sess *s, const char *line, size_t n);
 * DESCRIPTION
 *	zms_process takes every complete command (or DATA/BDAT bytes) out of
 *	rbuf while the session may go on: not while a delivery is in flight
 *	(waiting), a tarpit hold is on, or the write buffer is over its soft
 *	limit.  MAIL and RCPT parameters go through mail/mparam (unknown
 *	555); EXPN TURN SEND SOML SAML ATRN get 502, unknown verbs 500.
 *	ETRN (RFC 1985): "domain", "@domain" or "#queue", checked for
 *	syntax (501), not inside a transaction (503), answered from the
 *	etrn callback with 250, 251, 458 or 459.
 *	A command line is read with one zcur (lib/zbuf.h): the verb runs to
 *	the first space and is compared in any case ("MAIL" and "RCPT" then
 *	need " FROM:" / " TO:"); the argument is the rest without the spaces
 *	around it.
 * DIAGNOSTICS
 *	Replies to the client and log callback lines.
 * SECURITY
 *	Lines over max-line are dropped (500); NUL bytes refused; errors and
 *	commands per session bounded (then 421).
 * BUGS
 *	None known.
 * SEE ALSO
 *	zmsmtpd.c, zmsmtpd_int.h, libzmsmtpd(3)
 */
#include "zmsmtpd_int.h"

/* ---------- commands ---------- */

static const char *const unimpl[] = { "EXPN", "TURN", "SEND", "SOML", "SAML", "ATRN", "ETRN",
				       "AUTH", NULL };

/* arg_rest - the rest of the line after the verb, without the spaces
 * around it (tabs are kept: they are not separators in SMTP commands) */
static zspan arg_rest(zcur *c)
{
	zspan a;

	zcur_skip_span(c, " ");
	zcur_take_rest(c, &a);
	return zspan_rtrim_set(a, " ");
}

/* verb_in - verb is one of the NULL-terminated list (any case) */
static int verb_in(zspan verb, const char *const *list)
{
	for (int i = 0; list[i] != NULL; i++)
		if (zspan_caseeq(verb, list[i]))
			return 1;
	return 0;
}

static void do_ehlo(zmsmtpd_sess *s, zspan arg, int esmtp)
{
	zmsmtpd *d = s->d;

	if (arg.n == 0 || arg.n >= sizeof(s->helo)) {
		zms_reply(s, 501, "5.5.4", "Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
		return;
	}
	zms_txn_reset(s);
	memcpy(s->helo, arg.p, arg.n);
	s->helo[arg.n] = '\0';
	s->esmtp = esmtp;
	if (!esmtp) {
		zms_reply(s, 250, NULL, "%s", d->o.hostname);
		return;
	}
	{
		smtp_caps c;
		zbuf t = ZBUF_INIT(8192);
		char greet[600];

		memset(&c, 0, sizeof(c));
		c.flags = CAP_8BITMIME | CAP_DSN | CAP_ENHSTATUS | CAP_CHUNKING | CAP_SIZE;
		if (d->o.pipelining)
			c.flags |= CAP_PIPELINING;
		c.size_max = d->o.max_size;
		if (d->tlsctx != NULL && s->ssl == NULL)
			c.flags |= CAP_STARTTLS;
		if (d->cb.auth_verify != NULL || d->cb.auth_secret != NULL) {
			if (s->ssl != NULL || d->o.auth_plaintext)
				c.auth |= AUTHM_PLAIN | AUTHM_LOGIN;
			if (d->cb.auth_secret != NULL)
				c.auth |= AUTHM_CRAMMD5;
			if (c.auth != 0)
				c.flags |= CAP_AUTH;
		}
		snprintf(greet, sizeof(greet), "%s Hello %.256s [%s]", d->o.hostname, s->helo,
			 s->ip[0] ? s->ip : "local");
		if (smtp_ehlo_format(&c, greet, &t) != Z_OK ||
		    zbuf_puts(&t, "\nSMTPUTF8") != Z_OK ||
		    (d->cb.etrn != NULL && zbuf_puts(&t, "\nETRN") != Z_OK) ||
		    zbuf_puts(&t, "\nHELP") != Z_OK ||
		    smtp_reply_format(&s->wbuf, 250, NULL, (zspan){ t.data, t.len }) != Z_OK)
			zms_reply(s, 451, "4.3.0", "Internal error formatting EHLO");
		zbuf_free(&t);
	}
}

/* do_mail - MAIL FROM:; c is just after the colon */
static void do_mail(zmsmtpd_sess *s, zcur *c)
{
	zmsmtpd *d = s->d;
	maddr a;
	mparams mp;
	size_t used = 0;
	zbuf err = ZBUF_INIT(512);
	zmsmtpd_verdict v;
	zspan rest;

	if (s->helo[0] == '\0') {
		zms_reply(s, 503, "5.5.1", "Send EHLO/HELO first");
		goto out;
	}
	if (s->have_mail || s->bdat_used) {
		zms_reply(s, 503, "5.5.1", "Nested MAIL command");
		goto out;
	}
	if ((d->o.auth_required || (s->lflags & ZMSMTPD_L_AUTH)) && s->auth_user[0] == '\0') {
		zms_reply(s, 530, "5.7.0", "Authentication required");
		goto out;
	}
	zcur_skip_span(c, " ");
	zcur_take_rest(c, &rest);
	memset(&mp, 0, sizeof(mp));
	{
		/* parameters first: SMTPUTF8 decides how the path is read; they
		 * follow the first '>' (no '>': no parameters) */
		zcur pc;
		zspan path, params;
		unsigned allowed = MPARAM_MAIL;

		zcur_init(&pc, rest.p, rest.n);
		if (zcur_take_until(&pc, '>', &path) != Z_OK)
			zcur_take_rest(&pc, &path);
		zcur_take_rest(&pc, &params);
		if (mparam_parse(params.p, params.n, allowed, &mp, &err) != Z_OK) {
			zms_reply(s, mp.reply ? mp.reply : 501, mp.enh ? mp.enh : "5.5.4", "%s",
			      zbuf_cstr(&err));
			goto out;
		}
	}
	if (maddr_parse_path(rest.p, rest.n, MADDR_NULL_OK |
			     ((mp.seen & MPARAM_SMTPUTF8) ? MADDR_UTF8 : 0), &a, &used, &err) != Z_OK) {
		zms_reply(s, 501, a.enh ? a.enh : "5.1.7", "Bad sender address: %s", zbuf_cstr(&err));
		goto out;
	}
	if ((mp.seen & MPARAM_SIZE) && d->o.max_size > 0 && mp.size > d->o.max_size) {
		zms_reply(s, 552, "5.3.4", "Message size exceeds fixed maximum message size (%lu)",
		      d->o.max_size);
		goto out;
	}
	if (mp.body == MBODY_BINARYMIME) {
		zms_reply(s, 555, "5.5.4", "BODY=BINARYMIME is not supported");
		goto out;
	}
	{
		zbuf f = ZBUF_INIT(sizeof(s->sender) - 1);
		if (maddr_format(&a, &f) != Z_OK) {
			zbuf_free(&f);
			zms_reply(s, 501, "5.1.7", "Sender address too long");
			goto out;
		}
		zstrlcpy(s->sender, zbuf_cstr(&f), sizeof(s->sender));
		zbuf_free(&f);
	}
	if (mp.seen & MPARAM_ENVID) {
		if (mp.envid.n >= sizeof(s->envid)) {
			zms_reply(s, 501, "5.5.4", "ENVID too long");
			goto out;
		}
		memcpy(s->envid, mp.envid.p, mp.envid.n);
		s->envid[mp.envid.n] = '\0';
	}
	if (mp.ret == MRET_FULL)
		zstrlcpy(s->ret, "FULL", sizeof(s->ret));
	else if (mp.ret == MRET_HDRS)
		zstrlcpy(s->ret, "HDRS", sizeof(s->ret));
	if (mp.body != MBODY_NONE)
		zstrlcpy(s->body, mparam_body_name(mp.body), sizeof(s->body));
	s->smtputf8 = (mp.seen & MPARAM_SMTPUTF8) != 0;
	zms_verdict_init(&v);
	if (d->cb.validate_sender != NULL)
		d->cb.validate_sender(d->cb.arg, s, s->sender, &v);
	if (v.action == ZMSMTPD_ACCEPT)
		s->have_mail = 1;
	zms_verdict_reply(s, &v, 250, "2.1.0", "Sender OK");
out:
	zbuf_free(&err);
}

/* do_rcpt - RCPT TO:; c is just after the colon */
static void do_rcpt(zmsmtpd_sess *s, zcur *c)
{
	zmsmtpd *d = s->d;
	maddr a;
	mparams mp;
	size_t used = 0;
	zbuf err = ZBUF_INIT(512), f = ZBUF_INIT(MADDR_PATH_MAX + 8);
	zmsmtpd_verdict v;
	zspan rest, path, params;
	zcur pc;

	if (!s->have_mail || s->bdat_used) {
		zms_reply(s, 503, "5.5.1", "Need MAIL before RCPT");
		goto out;
	}
	zcur_skip_span(c, " ");
	zcur_take_rest(c, &rest);
	zcur_init(&pc, rest.p, rest.n);
	/* used <= rest.n when the path parsed (maddr_parse_path) */
	if (maddr_parse_path(rest.p, rest.n, MADDR_POSTMASTER_OK |
			     (s->smtputf8 ? MADDR_UTF8 : 0), &a, &used, &err) != Z_OK ||
	    zcur_take_n(&pc, used, &path) != Z_OK) {
		zms_reply(s, 501, a.enh ? a.enh : "5.1.3", "Bad recipient address: %s", zbuf_cstr(&err));
		goto out;
	}
	zcur_take_rest(&pc, &params);
	memset(&mp, 0, sizeof(mp));
	zbuf_reset(&err);
	if (mparam_parse(params.p, params.n, MPARAM_RCPT, &mp, &err) != Z_OK) {
		zms_reply(s, mp.reply ? mp.reply : 501, mp.enh ? mp.enh : "5.5.4", "%s", zbuf_cstr(&err));
		goto out;
	}
	if (s->nrcpts >= d->o.max_rcpts) {
		zms_reply(s, 452, "4.5.3", "Too many recipients");
		goto out;
	}
	if (maddr_format(&a, &f) != Z_OK) {
		zms_reply(s, 501, "5.1.3", "Recipient address too long");
		goto out;
	}
	zms_verdict_init(&v);
	if (a.kind != MADDR_POSTMASTER && d->cb.validate_recipient != NULL)
		d->cb.validate_recipient(d->cb.arg, s, zbuf_cstr(&f), &v);
	if (a.kind == MADDR_POSTMASTER)
		v.action = ZMSMTPD_ACCEPT;   /* RFC 5321 4.5.1 */
	if (v.action == ZMSMTPD_ACCEPT) {
		zmsmtpd_rcpt *nr = realloc(s->rcpts, (s->nrcpts + 1) * sizeof(*nr));
		char **nm = nr ? realloc(s->rcptmem, (s->nrcpts + 1) * sizeof(*nm)) : NULL;
		char *mem;
		size_t al = f.len, ol = (mp.seen & MPARAM_ORCPT) ? mp.orcpt_type.n + 1 + mp.orcpt.n : 0;

		if (nr != NULL)
			s->rcpts = nr;
		if (nm != NULL)
			s->rcptmem = nm;
		mem = (nr && nm) ? malloc(al + 1 + ol + 1) : NULL;
		if (mem == NULL) {
			zms_reply(s, 452, "4.3.0", "Out of memory");
			goto out;
		}
		memcpy(mem, f.data, al);
		mem[al] = '\0';
		s->rcpts[s->nrcpts].addr = mem;
		s->rcpts[s->nrcpts].notify = mp.notify;
		s->rcpts[s->nrcpts].orcpt = NULL;
		if (ol > 0) {
			char *o = mem + al + 1;
			memcpy(o, mp.orcpt_type.p, mp.orcpt_type.n);
			o[mp.orcpt_type.n] = ';';
			memcpy(o + mp.orcpt_type.n + 1, mp.orcpt.p, mp.orcpt.n);
			o[ol] = '\0';
			s->rcpts[s->nrcpts].orcpt = o;
		}
		s->rcptmem[s->nrcpts] = mem;
		s->nrcpts++;
	}
	zms_verdict_reply(s, &v, 250, "2.1.5", "Recipient OK");
out:
	zbuf_free(&err);
	zbuf_free(&f);
}

/* etrn_node_ok - RFC 1985: "domain", "@domain" (and its subdomains) or
 * "#queue"; letters, digits, "-", ".", "_", ":" and "[]" (an address
 * literal, as the scheduler names such hosts) only */
static int etrn_node_ok(zspan a)
{
	static const char node_chars[] = "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:[]";
	zcur c;
	zspan name;

	zcur_init(&c, a.p, a.n);
	if (!zcur_skip_char(&c, '@'))
		zcur_skip_char(&c, '#');
	return zcur_take_span(&c, node_chars, &name) > 0 && zcur_eof(&c);
}

/* zms_command - one command line */
void zms_command(zmsmtpd_sess *s, const char *line, size_t n)
{
	zmsmtpd *d = s->d;
	zcur c;
	zspan verb;

	s->ncmds++;
	/* the verb runs up to the first space (or the end): "QUIT\t" is no QUIT */
	zcur_init(&c, line, n);
	zcur_take_cspan(&c, " ", &verb);
	if (zspan_caseeq(verb, "QUIT")) {
		zms_reply(s, 221, "2.0.0", "%s closing connection", d->o.hostname);
		s->state = ST_CLOSE;
		return;
	}
	if (s->refused) {
		zms_reply(s, 503, "5.5.1", "Refused: only QUIT is accepted");
		return;
	}
	if (zspan_caseeq(verb, "EHLO"))
		do_ehlo(s, arg_rest(&c), 1);
	else if (zspan_caseeq(verb, "HELO"))
		do_ehlo(s, arg_rest(&c), 0);
	else if (zspan_caseeq(verb, "MAIL") && zcur_expect_case(&c, " FROM:") == Z_OK)
		do_mail(s, &c);
	else if (zspan_caseeq(verb, "RCPT") && zcur_expect_case(&c, " TO:") == Z_OK)
		do_rcpt(s, &c);
	else if (zspan_caseeq(verb, "DATA")) {
		if (!zcur_eof(&c))
			zms_reply(s, 501, "5.5.4", "DATA takes no argument");
		else if (s->bdat_used)
			zms_reply(s, 503, "5.5.1", "DATA not allowed after BDAT");
		else if (!s->have_mail)
			zms_reply(s, 503, "5.5.1", "Need MAIL command");
		else if (s->nrcpts == 0)   /* RFC 2920 3.1: 554 when pipelined */
			zms_reply(s, s->rbuf.len > 0 ? 554 : 503, "5.5.1", "No valid recipients");
		else {
			if (zms_msg_open(s) != 0)
				s->body_bad = 2;
			s->state = ST_DATA;
			s->prev_crlf = 1;
			s->bol = 1;
			zms_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
		}
	} else if (zspan_caseeq(verb, "BDAT"))
		zms_do_bdat(s, arg_rest(&c));
	else if (zspan_caseeq(verb, "RSET")) {
		if (!zcur_eof(&c))
			zms_reply(s, 501, "5.5.4", "RSET takes no argument");
		else {
			zms_txn_reset(s);
			zms_reply(s, 250, "2.0.0", "Reset state");
		}
	} else if (zspan_caseeq(verb, "NOOP"))
		zms_reply(s, 250, "2.0.0", "OK");
	else if (zspan_caseeq(verb, "HELP"))
		zms_reply(s, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT"
		      " HELP VRFY%s%s%s", d->tlsctx ? " STARTTLS" : "",
		      (d->cb.auth_verify || d->cb.auth_secret) ? " AUTH" : "",
		      d->cb.etrn ? " ETRN" : "");
	else if (zspan_caseeq(verb, "VRFY")) {
		zspan a = arg_rest(&c);
		if (a.n == 0)
			zms_reply(s, 501, "5.5.4", "Syntax: VRFY address");
		else if (!d->o.vrfy)
			zms_reply(s, 252, "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery");
		else {
			zmsmtpd_verdict v;
			char addr[MADDR_PATH_MAX];
			size_t k = a.n < sizeof(addr) - 1 ? a.n : sizeof(addr) - 1;
			memcpy(addr, a.p, k);
			addr[k] = '\0';
			zms_verdict_init(&v);
			if (d->cb.validate_recipient)
				d->cb.validate_recipient(d->cb.arg, s, addr, &v);
			zms_verdict_reply(s, &v, 250, "2.1.5", addr);
		}
	} else if (zspan_caseeq(verb, "STARTTLS")) {
		if (!zcur_eof(&c))
			zms_reply(s, 501, "5.5.4", "STARTTLS takes no argument");
		else if (s->have_mail)
			zms_reply(s, 503, "5.5.1", "STARTTLS not allowed during a mail transaction");
		else
			zms_do_starttls(s);
	} else if (zspan_caseeq(verb, "AUTH") && (d->cb.auth_verify || d->cb.auth_secret))
		zms_do_auth(s, arg_rest(&c));
	else if (zspan_caseeq(verb, "ETRN") && d->cb.etrn != NULL) {
		zspan a = arg_rest(&c);
		char dom[256];
		if (!etrn_node_ok(a) || a.n >= sizeof(dom))
			zms_reply(s, 501, "5.5.4", "Syntax: ETRN domain, @domain or #queue");
		else if (s->have_mail)
			zms_reply(s, 503, "5.5.1", "ETRN not allowed during a mail transaction");
		else {
			memcpy(dom, a.p, a.n);
			dom[a.n] = '\0';
			/* RFC 1985 section 5 */
			switch (d->cb.etrn(d->cb.arg, dom)) {
			case ZMSMTPD_ETRN_STARTED:
				zms_reply(s, 250, NULL, "Queuing for node %s started", dom);
				break;
			case ZMSMTPD_ETRN_NONE:
				zms_reply(s, 251, NULL, "OK, no messages waiting for node %s", dom);
				break;
			case ZMSMTPD_ETRN_DENIED:
				zms_reply(s, 459, NULL, "Node %s not allowed", dom);
				break;
			default:
				zms_reply(s, 458, NULL, "Unable to queue messages for node %s", dom);
				break;
			}
		}
	} else if (verb_in(verb, unimpl))   /* also ETRN, AUTH without their callbacks */
		zms_reply(s, 502, "5.5.1", "Command not implemented");
	else
		zms_reply(s, 500, "5.5.2", "Command unrecognized");
}

/* zms_process - handle every complete command / data in rbuf */
void zms_process(zmsmtpd_sess *s)
{
	zmsmtpd *d = s->d;

	while (s->state != ST_CLOSE && s->state != ST_TLS && !s->closing) {
		if (s->waiting)
			return;   /* nothing after the final dot before its reply */
		if (s->hold_until != 0) {
			if (s->hold_until > zmono_ms())
				return;   /* tarpit: the next command waits */
			s->hold_until = 0;
		}
		if (d->o.tarpit && s->state == ST_CMD && pol_tarpit_drop(&d->o.tp, s->rejects)) {
			zms_reply(s, 421, "4.7.0", "%s Too many rejected commands, closing connection",
			      d->o.hostname);
			zms_slog(s, "tarpit: %u rejections, dropped", s->rejects);
			s->state = ST_CLOSE;
			return;
		}
		if (s->wbuf.len > WBUF_SOFT) {
			s->blocked = 1;   /* let the client read first */
			return;
		}
		s->blocked = 0;
		if (s->state == ST_DATA) {
			if (!zms_data_input(s))
				break;
			continue;
		}
		if (s->state == ST_BDAT) {
			if (!zms_bdat_input(s))
				break;
			continue;
		}
		{
			zcur rc;
			zspan l;
			size_t n, k;
			char line[SMTP_CMD_MAX + 1];

			zcur_init(&rc, s->rbuf.data, s->rbuf.len);
			if (zcur_take_until(&rc, '\n', &l) != Z_OK) {
				if (s->rbuf.len > d->o.max_line + 2) {
					/* drop the over-long line up to its end */
					zbuf_reset(&s->rbuf);
					s->skipline = 1;
				}
				break;
			}
			k = l.n;
			n = k > 0 && l.p[k - 1] == '\r' ? k - 1 : k;
			if (s->skipline || k + 1 > d->o.max_line + 2 || n > SMTP_CMD_MAX) {
				s->skipline = 0;
				zbuf_consume(&s->rbuf, k + 1);
				zms_reply(s, 500, "5.5.2", "Line too long");
			} else if (memchr(s->rbuf.data, '\0', n) != NULL) {
				zbuf_consume(&s->rbuf, k + 1);
				zms_reply(s, 500, "5.5.2", "NUL byte in command");
			} else {
				memcpy(line, s->rbuf.data, n);
				line[n] = '\0';
				zbuf_consume(&s->rbuf, k + 1);
				if (s->state == ST_AUTH)
					zms_auth_step(s, (zspan){ line, n }, 1);
				else
					zms_command(s, line, n);
				explicit_bzero(line, n);
			}
		}
		if (s->nerrors >= d->o.max_errors || s->ncmds > d->o.max_cmds) {
			zms_reply(s, 421, "4.7.0", "%s Too many %s, closing connection", d->o.hostname,
			      s->nerrors >= d->o.max_errors ? "errors" : "commands");
			s->state = ST_CLOSE;
		}
	}
	if (s->closing) {
		zms_reply(s, 421, "4.7.0", "%s closing connection", d->o.hostname);
		s->state = ST_CLOSE;
	}
	if (s->eof && s->state == ST_DATA && s->rbuf.len > 0 && !s->waiting)
		zms_data_input(s);
}

