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

static const char *const unimpl[] = { "EXPN", "TURN", "SEND", "SOML", "SAML", "ATRN", NULL };

/* word_is - the command verb of line is w (any case), followed by end or SP */
static int word_is(const char *line, size_t n, const char *w)
{
	size_t k = strlen(w);

	return n >= k && strncasecmp(line, w, k) == 0 && (n == k || line[k] == ' ');
}

/* arg_after - what follows "VERB " */
static zspan arg_after(const char *line, size_t n, size_t verblen)
{
	zspan a = { line + verblen, n - verblen };

	while (a.n > 0 && a.p[0] == ' ') {
		a.p++;
		a.n--;
	}
	while (a.n > 0 && a.p[a.n - 1] == ' ')
		a.n--;
	return a;
}

/* prefix_is - line starts with "MAIL FROM:" etc. (any case) */
static int prefix_is(const char *line, size_t n, const char *p)
{
	size_t k = strlen(p);
	return n >= k && strncasecmp(line, p, k) == 0;
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

static void do_mail(zmsmtpd_sess *s, const char *line, size_t n)
{
	zmsmtpd *d = s->d;
	maddr a;
	mparams mp;
	size_t used = 0;
	zbuf err = ZBUF_INIT(512);
	zmsmtpd_verdict v;
	zspan rest = { line + 10, n - 10 };

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
	while (rest.n > 0 && rest.p[0] == ' ') {
		rest.p++;
		rest.n--;
	}
	memset(&mp, 0, sizeof(mp));
	{
		/* parameters first: SMTPUTF8 decides how the path is read */
		const char *gt = memchr(rest.p, '>', rest.n);
		size_t off = gt ? (size_t)(gt - rest.p) + 1 : rest.n;
		unsigned allowed = MPARAM_MAIL;
		if (mparam_parse(rest.p + off, rest.n - off, allowed, &mp, &err) != Z_OK) {
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

static void do_rcpt(zmsmtpd_sess *s, const char *line, size_t n)
{
	zmsmtpd *d = s->d;
	maddr a;
	mparams mp;
	size_t used = 0;
	zbuf err = ZBUF_INIT(512), f = ZBUF_INIT(MADDR_PATH_MAX + 8);
	zmsmtpd_verdict v;
	zspan rest = { line + 8, n - 8 };

	if (!s->have_mail || s->bdat_used) {
		zms_reply(s, 503, "5.5.1", "Need MAIL before RCPT");
		goto out;
	}
	while (rest.n > 0 && rest.p[0] == ' ') {
		rest.p++;
		rest.n--;
	}
	if (maddr_parse_path(rest.p, rest.n, MADDR_POSTMASTER_OK |
			     (s->smtputf8 ? MADDR_UTF8 : 0), &a, &used, &err) != Z_OK) {
		zms_reply(s, 501, a.enh ? a.enh : "5.1.3", "Bad recipient address: %s", zbuf_cstr(&err));
		goto out;
	}
	memset(&mp, 0, sizeof(mp));
	zbuf_reset(&err);
	if (mparam_parse(rest.p + used, rest.n - used, MPARAM_RCPT, &mp, &err) != Z_OK) {
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
	size_t i = 0;

	if (a.n == 0)
		return 0;
	if (a.p[0] == '@' || a.p[0] == '#')
		i = 1;
	if (i >= a.n)
		return 0;
	for (; i < a.n; i++) {
		unsigned char c = (unsigned char)a.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_' || c == ':' || c == '[' || c == ']'))
			return 0;
	}
	return 1;
}

/* zms_command - one command line */
void zms_command(zmsmtpd_sess *s, const char *line, size_t n)
{
	zmsmtpd *d = s->d;

	s->ncmds++;
	if (word_is(line, n, "QUIT")) {
		zms_reply(s, 221, "2.0.0", "%s closing connection", d->o.hostname);
		s->state = ST_CLOSE;
		return;
	}
	if (s->refused) {
		zms_reply(s, 503, "5.5.1", "Refused: only QUIT is accepted");
		return;
	}
	if (word_is(line, n, "EHLO"))
		do_ehlo(s, arg_after(line, n, 4), 1);
	else if (word_is(line, n, "HELO"))
		do_ehlo(s, arg_after(line, n, 4), 0);
	else if (prefix_is(line, n, "MAIL FROM:"))
		do_mail(s, line, n);
	else if (prefix_is(line, n, "RCPT TO:"))
		do_rcpt(s, line, n);
	else if (word_is(line, n, "DATA")) {
		if (n != 4)
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
	} else if (word_is(line, n, "BDAT"))
		zms_do_bdat(s, arg_after(line, n, 4));
	else if (word_is(line, n, "RSET")) {
		if (n != 4)
			zms_reply(s, 501, "5.5.4", "RSET takes no argument");
		else {
			zms_txn_reset(s);
			zms_reply(s, 250, "2.0.0", "Reset state");
		}
	} else if (word_is(line, n, "NOOP"))
		zms_reply(s, 250, "2.0.0", "OK");
	else if (word_is(line, n, "HELP"))
		zms_reply(s, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT"
		      " HELP VRFY%s%s%s", d->tlsctx ? " STARTTLS" : "",
		      (d->cb.auth_verify || d->cb.auth_secret) ? " AUTH" : "",
		      d->cb.etrn ? " ETRN" : "");
	else if (word_is(line, n, "VRFY")) {
		zspan a = arg_after(line, n, 4);
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
	} else if (word_is(line, n, "STARTTLS")) {
		if (n != 8)
			zms_reply(s, 501, "5.5.4", "STARTTLS takes no argument");
		else if (s->have_mail)
			zms_reply(s, 503, "5.5.1", "STARTTLS not allowed during a mail transaction");
		else
			zms_do_starttls(s);
	} else if (word_is(line, n, "AUTH") && (d->cb.auth_verify || d->cb.auth_secret))
		zms_do_auth(s, arg_after(line, n, 4));
	else if (word_is(line, n, "ETRN") && d->cb.etrn != NULL) {
		zspan a = arg_after(line, n, 4);
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
	} else {
		for (int i = 0; unimpl[i] != NULL; i++)
			if (word_is(line, n, unimpl[i]) || word_is(line, n, "ETRN") ||
			    word_is(line, n, "AUTH")) {
				zms_reply(s, 502, "5.5.1", "Command not implemented");
				return;
			}
		zms_reply(s, 500, "5.5.2", "Command unrecognized");
	}
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
			const char *nl = s->rbuf.len ? memchr(s->rbuf.data, '\n', s->rbuf.len) : NULL;
			size_t n, k;
			char line[SMTP_CMD_MAX + 1];

			if (nl == NULL) {
				if (s->rbuf.len > d->o.max_line + 2) {
					/* drop the over-long line up to its end */
					zbuf_reset(&s->rbuf);
					s->skipline = 1;
				}
				break;
			}
			k = (size_t)(nl - s->rbuf.data);
			n = k > 0 && nl[-1] == '\r' ? k - 1 : k;
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

