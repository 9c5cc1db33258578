/*
 * NAME
 *	smtp_open - resolve, connect and get a session ready for MAIL
 * SUMMARY
 *	The MX walk (at most SMTP_MX_ADDRESS_LIMIT addresses, stop after
 *	SMTP_MX_SESSION_LIMIT failed sessions), greeting, EHLO with the HELO
 *	fallbacks or LHLO, STARTTLS per the TLS mode (may: retry in clear
 *	when the handshake fails), AUTH per the -A file.
 * SYNOPSIS
 *	int smtp_probe(smtp_sess *s, const char *host)
 *	(internal: open_conn)
 * DESCRIPTION
 *	Internal to the smtp agent; the state it shares is smtp_agent.h.
 *	See smtp_xact.c for the whole protocol picture.  The dialogues are
 *	libzmsmtp's (smtpclient/zmsmtp_env.c: zmsmtp_hello, zmsmtp_auth_exchange)
 *	run over this agent's send_cmd/wait_reply; connect, MX walk and the
 *	-A file are libzmsmtp's too (smtp_conn.c, smtp_mx.c, smtp_auth.c).
 * DIAGNOSTICS
 *	A failed attempt leaves cf_code/cf_status/cf_text for the job's
 *	recipients (DNS: deferall; connect: retryat +60; bad host: 5.1.2).
 * SECURITY
 *	A job host passes the strict grammar; -F the operator's.  Nothing
 *	is sent in clear text when the TLS mode requires TLS; data after
 *	the STARTTLS reply is refused; secrets only where -A allows.
 * BUGS
 *	None known.
 * SEE ALSO
 *	smtp(8), smtp_agent.h, smtp/smtp_tls.h, smtp/smtp_sasl.h
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "smtp_agent.h"
#include "mime.h"
#include "xtext.h"
#include "zutil.h"

/* io_cmd - the shared dialogues' command hook: send_cmd into the transcript */
static int io_cmd(void *arg, int hide, const char *line)
{
	smtp_sess *s = arg;
	return send_cmd(s, &s->tr, hide, "%s", line);
}

/* io_reply - the shared dialogues' reply hook: wait_reply (window, timeouts) */
static int io_reply(void *arg, int st, const smtp_reply **rep)
{
	smtp_sess *s = arg;
	*rep = &s->rep;
	return wait_reply(s, st, &s->tr);
}

/* hello - LHLO/EHLO/HELO by libzmsmtp's zmsmtp_hello; 0 ok, 1 reconnect
 * and use HELO, -1 failed (reason in s->err) */
static int hello(smtp_sess *s, int force_helo)
{
	zmsmtp_io io = { s, io_cmd, io_reply };
	unsigned fl = (s->o->lmtp ? ZMH_LMTP : 0) | (s->o->noesmtp ? ZMH_NOESMTP : 0) |
		      (force_helo ? ZMH_FORCE_HELO : 0) |
		      (s->o->esmtp_if_banner ? ZMH_ESMTP_IF_BANNER : 0) |
		      (s->o->sevenbit ? ZMH_SEVENBIT : 0);
	int rc = zmsmtp_hello(&io, s->o->heloname, fl, s->banner, s->mxname, &s->caps, &s->err);

	if (rc == 0 || (rc == 1 && s->connected))
		smtp_log('#', "%s rc=%d", s->o->lmtp ? "LHLO" : "EHLO/HELO", s->rep.code);
	return rc;
}

/* do_auth - AUTH when -A has a line for this server; 0 ok/skipped, -1 failed */
static int do_auth(smtp_sess *s)
{
	smtp_auth_entry e;
	smtp_auth_target t = { s->o->channel, s->mxname, s->host, s->ip };
	zbuf why = ZBUF_INIT(512);
	unsigned mech;
	int rc = 0, lr;

	memset(&e, 0, sizeof(e));
	if (s->o->authfile == NULL || !(s->caps.flags & CAP_AUTH))
		goto done;
	lr = smtp_auth_lookup(s->o->authfile, &t, &e, &why);
	if (lr == Z_ENOENT) {
		DBG(s, 1, "AUTH: no line of %s for %s / %s [%s]", s->o->authfile, s->mxname,
		    s->host, s->ip);
		goto done;
	}
	if (lr != Z_OK) {
		zlog_error(NULL, "AUTH secrets file %s", zbuf_cstr(&why));
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "AUTH secrets: %s", zbuf_cstr(&why));
		rc = -1;
		goto done;
	}
	mech = smtp_auth_pick(s->caps.auth, s->tls_state, e.flags);
	DBG(s, 1, "AUTH: line %d of %s matches %s [%s]; TLS %s; mechanism %s", e.lineno,
	    s->o->authfile, s->mxname, s->ip,
	    s->tls_state == STLS_VERIFIED ? "verified" : s->tls_state == STLS_UNVERIFIED ?
	    "not verified" : "off", mech ? smtp_sasl_mech_name(mech) : "none");
	if (mech == 0) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "no acceptable AUTH mechanism at %s [%s] (%s)", s->mxname,
			    s->ip, smtp_auth_refusal(s->caps.auth, s->tls_state, e.flags));
		smtp_log('#', "%s", zbuf_cstr(&s->err));
		rc = -1;
		goto done;
	}
	{
		/* the dialogue is libzmsmtp's (zmsmtp_auth_exchange); the
		 * hooks send and read through this session's transcript */
		zmsmtp_io io = { s, io_cmd, io_reply };
		int xr = zmsmtp_auth_exchange(mech, e.user, e.secret, &io, &why);
		if (xr != Z_OK) {
			if (xr != Z_EIO) {
				zbuf_reset(&s->err);
				zbuf_printf(&s->err, "%s", zbuf_cstr(&why));
			}
			rc = -1;
			goto done;
		}
	}
	if (s->rep.code != 235) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "AUTH %s failed at %s: %s", smtp_sasl_mech_name(mech),
			    s->mxname, zbuf_cstr(&s->rep.text));
		rc = -1;
		goto done;
	}
	smtp_log('#', "AUTH %s ok", smtp_sasl_mech_name(mech));
done:
	explicit_bzero(&e, sizeof(e));
	smtp_session_wipe(&s->io);
	zbuf_free(&why);
	return rc;
}

/* do_starttls - 0 ok or not needed, -1 failed (connection dropped),
 * -2 failed in "may" mode: retry this address without TLS */
static int do_starttls(smtp_sess *s, int notls)
{
	smtp_tls_conf *tc = &s->o->tls;
	zbuf why = ZBUF_INIT(512), info = ZBUF_INIT(512);
	const char *name;
	int rc = 0;

	if (!s->o->tls_loaded || tc->mode == TLSM_NONE)
		goto done;
	if (notls && tc->mode == TLSM_MAY)
		goto done;
	if (!(s->caps.flags & CAP_STARTTLS)) {
		if (tc->mode >= TLSM_ENCRYPT) {
			zbuf_reset(&s->err);
			zbuf_printf(&s->err, "%s [%s] does not offer STARTTLS; TLS mode '%s' "
				    "requires it (4.7.0)", s->mxname, s->ip,
				    smtp_tls_mode_name(tc->mode));
			rc = -1;
		}
		goto done;
	}
	{
		/* the step is libzmsmtp's (zmsmtp_starttls); the mode is ours */
		zmsmtp_io io = { s, io_cmd, io_reply };
		char peer[400];
		int t;

		snprintf(peer, sizeof(peer), "%.255s [%.63s]", s->mxname, s->ip);
		name = tc->verifyname[0] ? tc->verifyname : s->mxname;
		t = zmsmtp_starttls(&io, &s->io, tc, s->mxname, s->host, tmo_ms(s, S_TLS), peer,
				    &info, &why);
		switch (t) {
		case ZMT_OK:
			break;
		case ZMT_LOST:
			rc = tc->mode == TLSM_MAY ? -2 : -1;
			goto done;
		case ZMT_REFUSED:
			if (tc->mode >= TLSM_ENCRYPT) {
				zbuf_reset(&s->err);
				zbuf_printf(&s->err, "STARTTLS refused by %s [%s]: %s", s->mxname, s->ip,
					    zbuf_cstr(&s->rep.text));
				rc = -1;
			}
			goto done;      /* may: continue in clear on this connection */
		case ZMT_INJECTED:
			zbuf_reset(&s->err);
			zbuf_append(&s->err, why.data, why.len);
			rc = -1;
			goto done;
		default:
			zbuf_reset(&s->err);
			zbuf_printf(&s->err, "TLS with %s [%s] failed: %s", s->mxname, s->ip,
				    zbuf_cstr(&why));
			tr_add(&s->tr, "--- ", zbuf_cstr(&s->err), strlen(zbuf_cstr(&s->err)));
			rc = tc->mode == TLSM_MAY ? -2 : -1;
			goto done;
		}
	}
	s->tls_on = 1;
	s->tls_state = s->io.tls;
	DBG(s, 1, "TLS with %s [%s] (MX host %s, next hop %s, mode %s): %s", s->mxname, s->ip,
	    name, s->host, smtp_tls_mode_name(tc->mode), zbuf_cstr(&info));
	smtp_log('#', "TLS: %s", zbuf_cstr(&info));
	tr_add(&s->tr, "--- TLS: ", zbuf_cstr(&info), info.len);
	/* forget everything learnt before TLS */
	if (hello(s, 0) != 0) {
		rc = -1;
		goto done;
	}
done:
	zbuf_free(&why);
	zbuf_free(&info);
	if (rc != 0 && s->connected)
		drop_conn(s, "TLS policy");
	return rc;
}

/* try_addr - connect to one address and get to "ready for MAIL";
 * 0 ok, -1 failed (text in s->err) */
static int try_addr(smtp_sess *s, const smtp_dest *d, const smtp_mxaddr *a)
{
	smtp_bind b = { s->o->localident, s->o->reserved_port, s->o->sndbuf,
			smtp_poll, &s->o->alive };
	int force_helo = 0, notls = 0;
	int attempts = 0;

again:
	if (++attempts > 3)
		return -1;
	zbuf_reset(&s->err);
	zbuf_reset(&s->tr);
	set_state(s, S_CONNECT);
	{
		int fd;
		if (d->kind == SDEST_UNIX) {
			smtp_log('#', "smtpopen: connecting to UNIX:%s", d->path);
			fd = smtp_connect_unix(d->path, &b, (int)tmo_ms(s, S_CONNECT), &s->err);
		} else {
			smtp_log('#', "smtpopen: connecting to %s [%s]:%d", a->name, a->ip, a->port);
			fd = smtp_connect((const struct sockaddr *)&a->sa, a->salen, &b,
					  (int)tmo_ms(s, S_CONNECT), &s->err);
		}
		if (fd < 0) {
			if (s->err.len == 0)
				zbuf_puts(&s->err, "connect failed");
			smtp_log('#', "%s", zbuf_cstr(&s->err));
			DBG(s, 1, "connect to %s [%s]:%d failed: %s", a->name, a->ip, a->port,
			    zbuf_cstr(&s->err));
			return -1;
		}
		smtp_session_attach(&s->io, fd);
		s->io.tcpw_ms = tmo_ms(s, S_BODY);
		s->connected = 1;
		s->conn_up = 1;
	}
	if (wait_reply(s, S_GREET, &s->tr) != Z_OK)
		return -1;
	{
		zspan l = smtp_reply_last(&s->rep);
		size_t n = l.n < sizeof(s->banner) - 1 ? l.n : sizeof(s->banner) - 1;
		/* first line holds the ESMTP word; use the whole text */
		zspan all = { s->rep.text.data, s->rep.text.len };
		n = all.n < sizeof(s->banner) - 1 ? all.n : sizeof(s->banner) - 1;
		memcpy(s->banner, all.p, n);
		s->banner[n] = '\0';
		(void)l;
	}
	if (s->rep.code != 220) {
		zbuf_reset(&s->err);
		zbuf_printf(&s->err, "%s [%s] greeted with: %s", s->mxname, s->ip,
			    zbuf_cstr(&s->rep.text));
		quit_close(s);
		return -1;
	}
	switch (hello(s, force_helo)) {
	case 0:
		break;
	case 1:
		drop_conn(s, "EHLO failed, retrying with HELO");
		if (force_helo)
			return -1;
		force_helo = 1;
		goto again;
	default:
		if (s->connected)
			quit_close(s);
		return -1;
	}
	switch (do_starttls(s, notls)) {
	case 0:
		break;
	case -2:
		notls = 1;
		goto again;
	default:
		if (s->connected)
			quit_close(s);
		return -1;
	}
	if (do_auth(s) != 0) {
		if (s->connected)
			quit_close(s);
		return -1;
	}
	return 0;
}

/* open_conn - resolve and connect; Z_OK or Z_ERR with cf_* filled */
int open_conn(smtp_sess *s, const char *dest)
{
	smtp_dest d;
	smtp_mxlist *mx = NULL;
	zbuf why = ZBUF_INIT(1024), all = ZBUF_INIT(4096);
	int rc = Z_ERR;
	long sessions = 0;

	(void)zstrlcpy(s->host, dest, sizeof(s->host));
	s->remote[0] = '\0';
	s->ip[0] = '\0';
	s->mxname[0] = '\0';
	s->port = s->o->port;
	/* -F is the operator's: the trusted grammar; a job host only the
	 * strict one (no port, no UNIX:) */
	if (s->o->forcedest != NULL && dest == s->o->forcedest) {
		if (smtp_dest_parse(dest, s->o->port, &d, &why) != Z_OK) {
			zbuf_printf(&all, "bad destination '%s': %s", dest, zbuf_cstr(&why));
			cf_set(s, EX_NOHOST, 0, "5.1.2", zbuf_cstr(&all));
			goto done;
		}
	} else if (smtp_dest_parse_job(dest, s->o->port, &d, &why) != Z_OK) {
		smtp_log('#', "%s", zbuf_cstr(&why));
		cf_set(s, EX_NOHOST, 0, "5.1.2", zbuf_cstr(&why));
		goto done;
	}
	mx = calloc(1, sizeof(*mx));
	if (mx == NULL) {
		cf_set(s, EX_TEMPFAIL, 60, "4.3.0", "out of memory");
		goto done;
	}
	if (d.kind == SDEST_UNIX) {
		mx->n = 1;
		(void)zstrlcpy(mx->a[0].name, d.path, sizeof(mx->a[0].name));
		(void)zstrlcpy(mx->a[0].ip, "UNIX", sizeof(mx->a[0].ip));
	} else if (d.kind == SDEST_LITERAL) {
		mx->n = 1;
		mx->a[0].sa = d.sa;
		mx->a[0].salen = d.salen;
		mx->a[0].port = d.port ? d.port : s->o->port;
		smtp_addrmap_apply(&s->dopts, &mx->a[0].sa, &mx->a[0].salen, &mx->a[0].port);
		(void)zstrlcpy(mx->a[0].name, dest, sizeof(mx->a[0].name));
		{
			char ipbuf[64] = "";
			const struct sockaddr *sa = (const struct sockaddr *)&d.sa;
			if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ipbuf, sizeof(ipbuf));
			else
				inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ipbuf, sizeof(ipbuf));
			(void)zstrlcpy(mx->a[0].ip, ipbuf, sizeof(mx->a[0].ip));
		}
	} else {
		int st;
		smtp_title(s->o->progress, "MX-lookup: %s", d.host);
		if (s->dns == NULL) {
			if (smtp_dns_init(&s->dns, &s->dopts, &why) != Z_OK) {
				zbuf_printf(&all, "DNS set-up failed: %s", zbuf_cstr(&why));
				cf_set(s, EX_DEFERALL, 0, "4.4.3", zbuf_cstr(&all));
				goto done;
			}
		}
		if (s->o->no_mx || s->o->forcedest != NULL)
			st = s->o->no_mx ? smtp_dns_host_addrs(s->dns, d.host, mx, &why) :
				smtp_dns_resolve(s->dns, d.host, mx, &why);
		else
			st = smtp_dns_resolve(s->dns, d.host, mx, &why);
		switch (st) {
		case SDNS_OK:
			break;
		case SDNS_TEMPFAIL:
			cf_set(s, EX_DEFERALL, 0, "4.4.3", zbuf_cstr(&why));
			goto done;
		case SDNS_NXDOMAIN:
			cf_set(s, EX_NOHOST, 0, "5.1.2", zbuf_cstr(&why));
			goto done;
		case SDNS_NULLMX:
			zbuf_printf(&all, "556 5.1.10 %s: %s", d.host, why.len ? zbuf_cstr(&why) :
				    "domain does not accept mail (null MX)");
			cf_set(s, EX_UNAVAILABLE, 0, "5.1.10", zbuf_cstr(&all));
			goto done;
		case SDNS_SELF:
			cf_set(s, EX_NOHOST, 0, "5.4.6", why.len ? zbuf_cstr(&why) :
			       "configuration inconsistency: we are the best MX");
			goto done;
		case SDNS_NOWKS:
			cf_set(s, EX_UNAVAILABLE, 0, "5.4.4", zbuf_cstr(&why));
			goto done;
		case SDNS_NOADDR:
		default:
			cf_set(s, EX_NOHOST, 0, "5.4.4", why.len ? zbuf_cstr(&why) : "no address");
			goto done;
		}
		if (mx->n == 0) {
			cf_set(s, EX_NOHOST, 0, "5.4.4", "no address to connect to");
			goto done;
		}
	}
	{
		size_t cut = smtp_mxlist_cap(mx, (size_t)s->o->mx_address_limit);
		if (cut > 0)
			DBG(s, 1, "destination %s: %zu address%s over SMTP_MX_ADDRESS_LIMIT %ld not tried",
			    dest, cut, cut == 1 ? "" : "es", s->o->mx_address_limit);
	}
	DBG(s, 1, "destination %s: %zu address%s to try", dest, mx->n, mx->n == 1 ? "" : "es");
	for (size_t i = 0; i < mx->n; i++)
		DBG(s, 1, "  #%zu %s [%s]:%d", i + 1, mx->a[i].name, mx->a[i].ip,
		    mx->a[i].port ? mx->a[i].port : s->o->port);
	for (size_t i = 0; i < mx->n; i++) {
		smtp_mxaddr *a = &mx->a[i];
		(void)zstrlcpy(s->mxname, a->name, sizeof(s->mxname));
		(void)zstrlcpy(s->ip, a->ip, sizeof(s->ip));
		s->port = a->port ? a->port : s->o->port;
		if (d.kind == SDEST_UNIX)
			snprintf(s->remote, sizeof(s->remote), "x-local; %s", a->name);
		else
			snprintf(s->remote, sizeof(s->remote), "dns; %.255s (%s|%d)", a->name, a->ip,
				 s->port);
		if (d.kind == SDEST_HOST && s->o->no_mx && !s->o->allow_self && s->port == 25 &&
		    smtp_is_self_addr((const struct sockaddr *)&a->sa, s->o->selfaddrs)) {
			zbuf_printf(&all, "%s[%s] is one of our own addresses (use -X)\n", a->name, a->ip);
			continue;
		}
		if (s->o->mx_session_limit > 0 && sessions >= s->o->mx_session_limit) {
			zbuf_printf(&all, "%ld session%s failed: SMTP_MX_SESSION_LIMIT reached\n",
				    sessions, sessions == 1 ? "" : "s");
			break;
		}
		DBG(s, 1, "trying %s [%s]:%d", a->name, a->ip, s->port);
		s->conn_up = 0;
		if (try_addr(s, &d, a) == 0) {
			DBG(s, 1, "connected to %s [%s]:%d%s, caps 0x%x, rcpt limit %lu", s->mxname,
			    s->ip, s->port, s->tls_on ? " with TLS" : "", s->caps.flags,
			    s->caps.rcptlimit);
			smtp_log('#', "connected to %s [%s]:%d", s->mxname, s->ip, s->port);
			rc = Z_OK;
			goto done;
		}
		if (s->conn_up)
			sessions++;
		if (all.len + s->err.len + 2 < all.max)
			zbuf_printf(&all, "%s\n", zbuf_cstr(&s->err));
	}
	while (all.len > 0 && all.data[all.len - 1] == '\n')
		zbuf_truncate(&all, all.len - 1);
	cf_set(s, EX_TEMPFAIL, 60, "4.4.1", all.len ? zbuf_cstr(&all) : "no server reachable");
done:
	free(mx);
	zbuf_free(&why);
	zbuf_free(&all);
	return rc;
}

/* smtp_probe - -D */
int smtp_probe(smtp_sess *s, const char *host)
{
	if (open_conn(s, host) != Z_OK) {
		printf("%s: %s\n", host, zbuf_cstr(&s->cf_text));
		return s->cf_code == EX_DEFERALL ? EX_TEMPFAIL : s->cf_code;
	}
	printf("%s: connected to %s [%s]:%d%s\n", host, s->mxname, s->ip, s->port,
	       s->tls_on ? " (TLS)" : "");
	quit_close(s);
	return EX_OK;
}
