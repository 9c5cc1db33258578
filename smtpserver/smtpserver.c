/*
 * NAME
 *	smtpserver - zmta's SMTP server daemon: libzmsmtpd with the spool,
 *	router and policy wiring
 * SUMMARY
 *	Listens (25, 587, 465 by default), drops privileges, validates
 *	recipients with librouter, writes accepted messages as submission
 *	files into router/.
 * SYNOPSIS
 *	smtpserver [-FinaDfgpr] [-C smtpserver.conf] [-P postoffice]
 *		[-L logfile] [-l addr:port[/smtp|/submission|/smtps]]...
 *		[-c certfile] [-h hostname] [-k ip[/len]]... [-m program]
 *		[-s quarantine-dir] [-d transcript-dir] [-w workers]
 * DESCRIPTION
 *	See smtpserver(8) and smtpserver.conf(5).  Each accepted message
 *	becomes a submission file (spool/submit.h) with the envelope words
 *	external, rcvdfrom, via, with, bodytype, from, envid, notaryret,
 *	todsn and to; the 250 to the final dot is sent only after the
 *	file was fsynced, renamed into router/ and router/ fsynced.  The
 *	loop only gathers envelope and message (submit_begin); the commit
 *	pool (commitq.c, COMMIT_THREADS threads) creates, writes, fsyncs
 *	and renames the file, its syncer thread fsyncs router/ once for
 *	many messages (none of public/), and the loop answers from commit_done
 *	(zmsmtpd_deliver_async); smtpserver -i commits in place.  ETRN asks
 *	the scheduler over its mailq socket (cb_etrn).  A recipient is resolved with librouter at RCPT
 *	time: an error quad (unknown user) gives 550 with its status; a
 *	domain that is not ours is accepted only from a trusted network or
 *	an authenticated client.  Then the policy service (pol_policy,
 *	Postfix's delegation protocol, policy-service) and greylisting
 *	(pol_grey, LMDB under $POSTOFFICE/greylist or Redis; untrusted
 *	unauthenticated clients only, 450 4.7.1).  A second policy service
 *	(policy-service-eom) is asked at END-OF-MESSAGE with size and
 *	recipient_count, before the submission is written; its refusal is
 *	the reply to the final dot.  What an answer asks of the whole
 *	message counts once the recipient (or the message) is taken:
 *	PREPENDed headers go on top of the message; HOLD commits the
 *	submission into freezer/ instead of router/ (the router never
 *	looks there; moving the file to router/ releases it); DISCARD
 *	answers 250 and writes nothing, with a log line naming the reason.
 *	FILTER and REDIRECT are not done: the message is held instead; BCC
 *	is logged and ignored; 421/521 do not hang up (450/554).  AUTH
 *	uses the password file of pol_passwd (CRAM-MD5 with {plain} entries
 *	and auth-plain-secrets; a CRAM-MD5 attempt for a user with a hashed
 *	entry gets 535 and a log line saying so).  Listeners may be marked proxy-protocol
 *	(libzmsmtpd's ZMSMTPD_L_PROXY).  The Plan 9 knobs are
 *	smtpserver.conf keys, and each flag is read as one more line after
 *	the file (so it wins): -a auth-required, -c tls-cert, -D tarpit,
 *	-g greylist, -h hostname, -p auth-plaintext go to the engine or the
 *	greylist; -k drop-networks, -f tag-outside-local, -r
 *	sender-must-resolve, -m deliver-program, -s quarantine-dir and -d
 *	transcript-dir are pol_knobs.c (hooks: cb_drop, cb_transcript,
 *	knobs_mail at MAIL, cb_refused, the quarantine and program calls
 *	at end of data).  workers N (-w N, N > 1): after the listeners,
 *	the privilege drop and the pid lock, smtpd_workers_run forks N
 *	worker processes that each run the rest of main (greylist store,
 *	commit pool, loop) on the same listeners; the parent supervises
 *	them; max-connections and max-per-ip are counted across them in
 *	a pol_conn table (cb_admit, cb_release).  SIGHUP reloads smtpserver.conf, the router tables and the
 *	TLS certificate and key (a new context for new sessions); SIGTERM
 *	closes the listeners, lets sessions finish for at most 30 seconds
 *	and exits.
 * DIAGNOSTICS
 *	sysexits(3) codes; -n prints "file:line: reason" and exits 78 on a
 *	bad configuration.  Log lines through zlog.
 * SECURITY
 *	The listeners are bound and the password file read first; then,
 *	when started as root, the process becomes ZMTA_USER for good
 *	(zpriv_drop) before any client byte is read.  Never an open relay:
 *	relaying needs trusted-networks or AUTH.
 * BUGS
 *	FILTER, REDIRECT and BCC of the policy service are not implemented
 *	(see above); Postfix restriction names as actions give 451 4.3.5.
 *	The request carries no TLS, SASL method or client name attributes.
 *	ETRN blocks the loop while the scheduler answers (3 s at most).
 *	The AUTH mechanisms offered do not change on SIGHUP, and removing
 *	tls-cert keeps the old certificate until a restart.  -m and -r run
 *	inside the event loop (bounded by deliver-program-timeout and the
 *	DNS timeouts).  -s keeps only the part of a too-big message that
 *	fit under max-size.
 * SEE ALSO
 *	smtpserver(8), smtpserver.conf(5), libzmsmtpd(3), router(8),
 *	smtpserver_conf.c, pol_knobs.c, pol_grey.h, pol_policy.h, pol_passwd.h
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "zbuf.h"
#include "zsecret.h"
#include "zconf.h"
#include "zerr.h"
#include "zlog.h"
#include "zpriv.h"
#include "zutil.h"
#include "xtext.h"
#include "route.h"
#include "submit.h"
#include "pol_grey.h"
#include "pol_knobs.h"
#include "pol_passwd.h"
#include "pol_policy.h"
#include "smtpserver_conf.h"
#include "zmsmtpd.h"
#include "commitq.h"
#include "pol_limit.h"
#include "smtpd_workers.h"

#define MAX_CLI_KEYS 64

/* per-session state of the daemon (zmsmtpd_set_data) */
typedef struct sdata {
	zbuf prepend;   /* PREPENDed header lines of this transaction */
	/* policy HOLD / DISCARD of this transaction, with the first reason */
	int hold, discard;
	char hold_why[POL_TEXT_MAX + 32], discard_why[POL_TEXT_MAX + 32];
	pol_trans *tr;  /* -d: this connection's transcript */
	int tr_tried;   /* its file was opened (or could not be) */
} sdata;

static struct {
	zmsmtpd *d;
	sconf c;
	rt_config *rt;
	pol_passwd *af;
	pol_grey *grey;       /* opened after the privileges are dropped */
	pol_policy *pol;      /* asked at RCPT */
	pol_policy *pol_eom;  /* asked at END-OF-MESSAGE */
	const char *confpath;
	const char *po;
	int cli_nlis;
	char cli_lis[MAX_LISTENERS][128];
	commitq *cq;          /* the commit pool (daemon only; NULL: commit in the loop) */
	int cli_nkeys;                            /* flags as smtpserver.conf keys */
	const char *cli_keys[MAX_CLI_KEYS][2];    /* (key, value), after the file */
	pol_conn *conns;      /* workers > 1: connection table shared by the workers */
	int wid;              /* this worker's index */
} S;

/* commit workers: enough for the fsyncs of many sessions to overlap */
#define COMMIT_THREADS 12

static volatile sig_atomic_t got_hup, got_term;

static void on_hup(int sig) { (void)sig; got_hup = 1; }
static void on_term(int sig) { (void)sig; got_term = 1; }

/* ---- callbacks ---- */

/* cb_admit, cb_release - with workers, the limits count every worker */
static int cb_admit(void *arg, const char *ip, unsigned long max_conns, unsigned long max_per_ip)
{
	(void)arg;
	if (S.conns == NULL)
		return ZMSMTPD_ADMIT_OK;
	return pol_conn_admit(S.conns, S.wid, ip, max_conns, max_per_ip);
}

/* parent_stop - SIGTERM in the workers' parent: close its listeners */
static void parent_stop(void *arg)
{
	(void)arg;
	zmsmtpd_stop(S.d, 0);
}

static void cb_release(void *arg, const char *ip)
{
	(void)arg;
	if (S.conns != NULL)
		pol_conn_release(S.conns, S.wid, ip);
}

static void cb_log(void *arg, zmsmtpd_sess *s, const char *line)
{
	(void)arg;
	zlog_info(NULL, "[%s] %s", s ? zmsmtpd_client_ip(s) : "", line);
}

/* sess_data - this session's sdata, made on first use; NULL on ENOMEM */
static sdata *sess_data(zmsmtpd_sess *s)
{
	sdata *sd = zmsmtpd_get_data(s);

	if (sd == NULL && (sd = calloc(1, sizeof(*sd))) != NULL) {
		zbuf_init(&sd->prepend, 16 * POL_HEADER_MAX);
		zmsmtpd_set_data(s, sd);
	}
	return sd;
}

static void cb_session_end(void *arg, zmsmtpd_sess *s)
{
	sdata *sd = zmsmtpd_get_data(s);

	(void)arg;
	if (sd != NULL) {
		zbuf_free(&sd->prepend);
		pol_trans_close(sd->tr);
		free(sd);
		zmsmtpd_set_data(s, NULL);
	}
}

/* cb_drop - -k: close at once, no reply, no log line */
static int cb_drop(void *arg, const char *ip)
{
	(void)arg;
	return pol_knobs_drop(&S.c.k, ip);
}

/* cb_refused - -s: a copy of what the engine refused at end of data */
static void cb_refused(void *arg, zmsmtpd_sess *s, const zmsmtpd_env *e, FILE *msg,
		       const zmsmtpd_verdict *why)
{
	(void)arg;
	(void)s;
	pol_knobs_quarantine(&S.c.k, e, msg, why);
}

/* cb_transcript - -d: the connection's bytes into its transcript file */
static void cb_transcript(void *arg, zmsmtpd_sess *s, int out, const char *p, size_t n)
{
	sdata *sd;

	(void)arg;
	if (S.c.k.transcripts[0] == '\0' || (sd = sess_data(s)) == NULL)
		return;
	if (!sd->tr_tried) {
		sd->tr_tried = 1;
		sd->tr = pol_trans_open(&S.c.k, zmsmtpd_client_ip(s), zmsmtpd_local_port(s));
	}
	pol_trans_write(sd->tr, out, p, n);
}

/* knobs_mail - -r and -f at MAIL FROM for a client from outside (not
 * trusted, not authenticated): 1 when v now refuses the sender */
static int knobs_mail(zmsmtpd_sess *s, const char *addr, zmsmtpd_verdict *v)
{
	const char *at = strrchr(addr, '@');
	sdata *sd;

	if (*addr == '\0' || sconf_trusted(&S.c, zmsmtpd_client_ip(s)) || zmsmtpd_auth_user(s) != NULL)
		return 0;
	if (pol_knobs_sender(&S.c.k, addr, v))
		return 1;
	if (S.c.k.tag_outside_local && at != NULL && rt_is_local_domain(S.rt, at + 1) &&
	    (sd = sess_data(s)) != NULL)
		(void)pol_knobs_tag(&S.c.k, addr, zmsmtpd_client_ip(s), &sd->prepend);
	return 0;
}

/* cb_mail - a new transaction: forget the last one's PREPENDs */
static void cb_mail(void *arg, zmsmtpd_sess *s, const char *addr, zmsmtpd_verdict *v)
{
	sdata *sd = zmsmtpd_get_data(s);

	(void)arg;
	(void)addr;
	(void)v;
	if (sd != NULL) {
		zbuf_reset(&sd->prepend);
		sd->hold = sd->discard = 0;
		sd->hold_why[0] = sd->discard_why[0] = '\0';
	}
	(void)knobs_mail(s, addr, v);
}

/* policy_query - ask policy service p (named ep) about session s at
 * protocol stage state: rcpt is RCPT's address, e the envelope at
 * END-OF-MESSAGE (NULL before).  r gets the answer; WARN/INFO and
 * actions not done as asked are logged here. */
static void policy_query(pol_policy *p, const char *ep, zmsmtpd_sess *s, const char *state,
			 const char *rcpt, const zmsmtpd_env *e, pol_result *r)
{
	pol_policy_req q;
	zbuf req = ZBUF_INIT(POL_POLICY_REQ_MAX), err = ZBUF_INIT(512);
	char port[16];
	const char *ip = zmsmtpd_client_ip(s);

	memset(&q, 0, sizeof(q));
	snprintf(port, sizeof(port), "%d", zmsmtpd_local_port(s));
	q.protocol_state = state;
	q.protocol_name = e != NULL && strncmp(e->with, "ESMTP", 5) != 0 ? "SMTP" : "ESMTP";
	q.helo_name = zmsmtpd_helo(s);
	q.queue_id = "";
	q.sender = e != NULL ? e->sender : zmsmtpd_sender(s);
	/* at END-OF-MESSAGE Postfix names the recipient only when there is one */
	q.recipient = rcpt != NULL ? rcpt : e != NULL && e->nrcpts == 1 ? e->rcpts[0].addr : "";
	q.client_address = ip;
	q.client_name = "unknown";
	q.reverse_client_name = "unknown";
	q.server_port = port;
	q.sasl_username = zmsmtpd_auth_user(s);
	q.instance = "";
	if (e != NULL) {
		q.recipient_count = e->nrcpts;
		q.size = e->size;
	}
	if (pol_policy_request(&q, &req, &err) != Z_OK) {
		zlog_warn(NULL, "[%s] policy request: %s", ip, zbuf_cstr(&err));
		pol_result_accept(r);
		r->verdict = POL_DEFER;
		r->code = 451;
		zstrlcpy(r->enh, "4.3.5", sizeof(r->enh));
		zstrlcpy(r->text, "Server configuration problem", sizeof(r->text));
	} else if (pol_policy_query(p, &req, r, &err) != Z_OK)
		zlog_warn(NULL, "[%s] policy service %s: %s", ip, ep, zbuf_cstr(&err));
	if (r->flags & POL_F_WARN)
		zlog_warn(NULL, "[%s] policy warning at %s for <%s>: %s", ip, state, q.recipient, r->text);
	if (r->flags & POL_F_UNSUPPORTED)
		zlog_warn(NULL, "[%s] policy action \"%s\" at %s not supported: %s", ip, r->orig, state,
			  (r->flags & POL_F_HOLD) ? "the message is held instead" :
			  r->verdict == POL_DEFER ? "deferred without hanging up" :
			  r->verdict == POL_REJECT ? "rejected without hanging up" : "taken as DUNNO");
	zbuf_free(&req);
	zbuf_free(&err);
}

/* policy_refusal - a defer or reject in r into v: 1, else 0.  The checks
 * after the policy service only defer or accept, so DEFER_IF_PERMIT
 * defers and DEFER_IF_REJECT never applies. */
static int policy_refusal(pol_result *r, zmsmtpd_verdict *v)
{
	if (r->verdict == POL_ACCEPT && (r->flags & POL_F_DEFER_IF_PERMIT))
		r->verdict = POL_DEFER;
	if (r->verdict == POL_ACCEPT)
		return 0;
	v->action = r->verdict == POL_REJECT ? ZMSMTPD_REJECT : ZMSMTPD_DEFER;
	v->code = r->code;
	zstrlcpy(v->enh, r->enh, sizeof(v->enh));
	zstrlcpy(v->text, r->text, sizeof(v->text));
	return 1;
}

/* txn_keep - what an accepting answer r asks of the whole transaction:
 * PREPEND, HOLD, DISCARD (the first reason of each is kept).  0, or -1
 * when it cannot be recorded (then the caller defers) */
static int txn_keep(zmsmtpd_sess *s, const pol_result *r, const char *state)
{
	sdata *sd;
	const char *why = r->text[0] ? r->text : r->orig;

	if (!(r->flags & (POL_F_PREPEND | POL_F_HOLD | POL_F_DISCARD)))
		return 0;
	if ((sd = sess_data(s)) == NULL)
		return -1;
	if ((r->flags & POL_F_PREPEND) && strstr(zbuf_cstr(&sd->prepend), r->header) == NULL &&
	    zbuf_printf(&sd->prepend, "%s\n", r->header) != Z_OK)
		zlog_warn(NULL, "[%s] too many PREPENDed headers", zmsmtpd_client_ip(s));
	if ((r->flags & POL_F_HOLD) && !sd->hold) {
		sd->hold = 1;
		snprintf(sd->hold_why, sizeof(sd->hold_why), "policy HOLD at %s%s%s", state,
			 why[0] ? ": " : "", why);
	}
	if ((r->flags & POL_F_DISCARD) && !sd->discard) {
		sd->discard = 1;
		snprintf(sd->discard_why, sizeof(sd->discard_why), "policy DISCARD at %s%s%s", state,
			 why[0] ? ": " : "", why);
	}
	return 0;
}

/* grey_rcpt - greylisting of one recipient; 1 when v now holds a defer */
static int grey_rcpt(zmsmtpd_sess *s, const char *addr, zmsmtpd_verdict *v)
{
	zbuf err = ZBUF_INIT(512);
	long remaining = 0;
	int rc = pol_grey_check(S.grey, zmsmtpd_client_ip(s), zmsmtpd_sender(s), addr, time(NULL),
				&remaining, &err);

	if (rc < 0)   /* a store failure never makes mail bounce: accept */
		zlog_error(NULL, "[%s] greylist store: %s (accepting)", zmsmtpd_client_ip(s),
			   zbuf_cstr(&err));
	zbuf_free(&err);
	if (rc != POL_GREY_NEW && rc != POL_GREY_EARLY)
		return 0;
	v->action = ZMSMTPD_DEFER;
	v->code = 450;
	zstrlcpy(v->enh, "4.7.1", sizeof(v->enh));
	snprintf(v->text, sizeof(v->text), "<%.200s>: Greylisted, please try again in %ld second%s",
		 addr, remaining, remaining == 1 ? "" : "s");
	zlog_info(NULL, "[%s] greylisted <%s> -> <%s>", zmsmtpd_client_ip(s), zmsmtpd_sender(s), addr);
	return 1;
}

static void cb_rcpt(void *arg, zmsmtpd_sess *s, const char *addr, zmsmtpd_verdict *v)
{
	rt_result r = { NULL, 0, 0 };
	zbuf err = ZBUF_INIT(512);
	const char *at = strrchr(addr, '@');
	int local = at == NULL || rt_is_local_domain(S.rt, at + 1);
	pol_result pr;

	(void)arg;
	pol_result_accept(&pr);
	if (!local) {
		if (sconf_trusted(&S.c, zmsmtpd_client_ip(s)) || zmsmtpd_auth_user(s) != NULL)
			goto policy;   /* relaying for our own clients */
		v->action = ZMSMTPD_REJECT;
		v->code = 554;
		zstrlcpy(v->enh, "5.7.1", sizeof(v->enh));
		snprintf(v->text, sizeof(v->text), "<%.200s>: Relay access denied", addr);
		goto done;
	}
	if (rt_resolve(S.rt, addr, &r, &err) != Z_OK) {
		v->action = ZMSMTPD_REJECT;
		v->code = 550;
		zstrlcpy(v->enh, "5.1.3", sizeof(v->enh));
		snprintf(v->text, sizeof(v->text), "<%.200s>: %.40s", addr, zbuf_cstr(&err));
		goto done;
	}
	for (size_t i = 0; i < r.n; i++) {
		if (strcmp(r.v[i].channel, "error") != 0)
			continue;
		v->action = r.v[i].status[0] == '4' ? ZMSMTPD_DEFER : ZMSMTPD_REJECT;
		v->code = r.v[i].status[0] == '4' ? 450 : 550;
		zstrlcpy(v->enh, r.v[i].status[0] ? r.v[i].status : "5.1.1", sizeof(v->enh));
		snprintf(v->text, sizeof(v->text), "<%.100s>: %.140s", addr,
			 r.v[i].reason[0] ? r.v[i].reason : "Recipient address rejected");
		goto done;
	}
policy:
	if (S.pol != NULL) {
		policy_query(S.pol, S.c.policy, s, "RCPT", addr, NULL, &pr);
		if (policy_refusal(&pr, v))
			goto done;
	}
	if (S.grey != NULL && !sconf_trusted(&S.c, zmsmtpd_client_ip(s)) && zmsmtpd_auth_user(s) == NULL)
		(void)grey_rcpt(s, addr, v);
	/* PREPEND, HOLD, DISCARD count only for a recipient that is taken */
	if (v->action == ZMSMTPD_ACCEPT && txn_keep(s, &pr, "RCPT") != 0) {
		v->action = ZMSMTPD_DEFER;
		v->code = 451;
		zstrlcpy(v->enh, "4.3.0", sizeof(v->enh));
		zstrlcpy(v->text, "Temporary failure, try again later", sizeof(v->text));
	}
done:
	rt_result_free(&r);
	zbuf_free(&err);
}

/* held_dir - the spool directory of the submission: freezer/ for a
 * message the policy service put on HOLD, else NULL (router/) */
static const char *held_dir(zmsmtpd_sess *s)
{
	sdata *sd = zmsmtpd_get_data(s);

	return sd != NULL && sd->hold ? "freezer" : NULL;
}

/* held_log - the log line of a held message */
static void held_log(zmsmtpd_sess *s, unsigned long ino)
{
	sdata *sd = zmsmtpd_get_data(s);

	if (sd != NULL && sd->hold)
		zlog_info(NULL, "%lu: held in freezer/ (%s)", ino, sd->hold_why);
}

/* cb_deliver - the submission file; 250 only after submit_commit */
static void cb_deliver(void *arg, zmsmtpd_sess *s, const zmsmtpd_env *e, FILE *msg,
		       zmsmtpd_verdict *v)
{
	submit sb;
	zbuf err = ZBUF_INIT(1024), t = ZBUF_INIT(4096);
	char buf[65536];
	size_t n;
	unsigned long ino = 0;
	int rc;
	/* for the commit pool the file is created and written by a worker
	 * (submit_begin: the loop only gathers the bytes); a HOLD goes to
	 * freezer/ here, synchronously */
	int pool = S.cq != NULL && held_dir(s) == NULL;

	(void)arg;
	if ((pool ? submit_begin(&sb, S.po, &err) : submit_open(&sb, S.po, &err)) != Z_OK) {
		zlog_error(NULL, "cannot queue a message: %s", zbuf_cstr(&err));
		goto tempfail;
	}
	/* the fsync of public/ after the rename is not needed for the
	 * message's durability (zmta-spool(5)); the pool never does it */
	submit_no_scratch_sync(&sb);
	zbuf_printf(&t, "%s (%s [%s]%s%s%s%s)", e->helo, e->helo,
		    e->client_ip[0] ? e->client_ip : "local", e->tls ? " " : "", e->tls ? e->tls : "",
		    e->auth_user ? " auth=" : "", e->auth_user ? e->auth_user : "");
	rc = e->client_ip[0] ? submit_env(&sb, "external", NULL) : Z_OK;
	if (rc == Z_OK)
		rc = submit_env(&sb, "rcvdfrom", zbuf_cstr(&t));
	if (rc == Z_OK)
		rc = submit_env(&sb, "via", "smtp");
	if (rc == Z_OK)
		rc = submit_env(&sb, "with", e->with);
	if (rc == Z_OK && e->body != NULL)
		rc = submit_env(&sb, "bodytype", e->body);
	zbuf_reset(&t);
	if (e->sender[0] == '\0')
		rc = rc == Z_OK ? submit_env(&sb, "channel", "error") : rc;
	else {
		zbuf_printf(&t, "<%s>", e->sender);
		rc = rc == Z_OK ? submit_env(&sb, "from", zbuf_cstr(&t)) : rc;
	}
	if (rc == Z_OK && e->envid != NULL)
		rc = submit_env(&sb, "envid", e->envid);
	if (rc == Z_OK && e->ret != NULL)
		rc = submit_env(&sb, "notaryret", e->ret);
	for (size_t i = 0; rc == Z_OK && i < e->nrcpts; i++) {
		const zmsmtpd_rcpt *r = &e->rcpts[i];
		zbuf_reset(&t);
		if (r->notify != 0) {
			zbuf_puts(&t, "NOTIFY=");
			if (r->notify & ZMSMTPD_NOTIFY_NEVER)
				zbuf_puts(&t, "NEVER");
			else {
				const char *sep = "";
				if (r->notify & ZMSMTPD_NOTIFY_SUCCESS) { zbuf_printf(&t, "%sSUCCESS", sep); sep = ","; }
				if (r->notify & ZMSMTPD_NOTIFY_FAILURE) { zbuf_printf(&t, "%sFAILURE", sep); sep = ","; }
				if (r->notify & ZMSMTPD_NOTIFY_DELAY)
					zbuf_printf(&t, "%sDELAY", sep);
			}
			zbuf_putc(&t, ' ');
		}
		if (r->orcpt != NULL)
			zbuf_printf(&t, "ORCPT=%s", r->orcpt);
		else {
			zbuf_puts(&t, "ORCPT=rfc822;");
			xtext_encode(&t, zspan_from(r->addr));
		}
		rc = submit_env(&sb, "todsn", zbuf_cstr(&t));
		zbuf_reset(&t);
		zbuf_printf(&t, "<%s>", r->addr);
		if (rc == Z_OK)
			rc = submit_env(&sb, "to", zbuf_cstr(&t));
	}
	if (rc == Z_OK)
		rc = submit_env(&sb, "env-end", NULL);
	{
		sdata *sd = zmsmtpd_get_data(s);
		if (rc == Z_OK && sd != NULL && sd->prepend.len > 0) {
			rc = submit_write(&sb, sd->prepend.data, sd->prepend.len);
			zbuf_reset(&sd->prepend);
		}
	}
	if (rc == Z_OK && pool && fileno(msg) >= 0) {
		/* a big message, in the engine's unlinked (and flushed)
		 * scratch file: the worker reads it through a descriptor of
		 * its own, which outlives the engine's stream */
		int fd = fcntl(fileno(msg), F_DUPFD_CLOEXEC, 0);
		rc = fd >= 0 ? submit_source_fd(&sb, fd) : Z_EIO;
	} else {
		while (rc == Z_OK && (n = fread(buf, 1, sizeof(buf), msg)) > 0)
			rc = submit_write(&sb, buf, n);
		if (rc == Z_OK && ferror(msg))
			rc = Z_EIO;
	}
	if (rc != Z_OK) {
		zlog_error(NULL, "cannot write the submission file: %s", strerror(errno));
		submit_abort(&sb);
		goto tempfail;
	}
	zbuf_reset(&err);
	if (pool && zmsmtpd_deliver_async(s) == 0) {
		/* (a HOLD goes to freezer/ synchronously below) */
		/* the commit pool creates, writes, fsyncs and renames the
		 * file and group-commits router/;
		 * the 250 comes with its result (commit_done) */
		char note[512];
		snprintf(note, sizeof(note), "from <%s> [%s] %zu recipient%s, %lu bytes, %s",
			 e->sender, e->client_ip, e->nrcpts, e->nrcpts == 1 ? "" : "s", e->size,
			 e->with);
		if (commitq_push(S.cq, &sb, s, note) == Z_OK)
			goto done;
		/* no memory for the job: commit here after all */
		zmsmtpd_verdict nv;
		memset(&nv, 0, sizeof(nv));
		if (submit_commit(&sb, held_dir(s), 0, &ino, &err) != Z_OK) {
			zlog_error(NULL, "cannot queue a message: %s", zbuf_cstr(&err));
			nv.action = ZMSMTPD_DEFER;
			nv.code = 452;
			zstrlcpy(nv.enh, "4.3.1", sizeof(nv.enh));
			zstrlcpy(nv.text, "Insufficient system storage", sizeof(nv.text));
		} else {
			zlog_info(NULL, "%lu: accepted %s", ino, note);
			snprintf(nv.text, sizeof(nv.text), "Ok: queued as %lu", ino);
		}
		zmsmtpd_deliver_done(s, &nv);
		goto done;
	}
	if (submit_commit(&sb, held_dir(s), 0, &ino, &err) != Z_OK) {
		zlog_error(NULL, "cannot queue a message: %s", zbuf_cstr(&err));
		goto tempfail;
	}
	zlog_info(NULL, "%lu: accepted from <%s> [%s] %zu recipient%s, %lu bytes, %s", ino,
		  e->sender, e->client_ip, e->nrcpts, e->nrcpts == 1 ? "" : "s", e->size, e->with);
	held_log(s, ino);
	v->action = ZMSMTPD_ACCEPT;
	snprintf(v->text, sizeof(v->text), "Ok: queued as %lu", ino);
	goto done;
tempfail:
	v->action = ZMSMTPD_DEFER;
	v->code = 452;
	zstrlcpy(v->enh, "4.3.1", sizeof(v->enh));
	zstrlcpy(v->text, "Insufficient system storage", sizeof(v->text));
done:
	zbuf_free(&err);
	zbuf_free(&t);
}

/* cb_end_of_data - END-OF-MESSAGE: the policy service's last word, then
 * DISCARD (250, nothing queued, a log line with the reason) or the
 * submission (cb_deliver; into freezer/ on HOLD) */
static void cb_end_of_data(void *arg, zmsmtpd_sess *s, const zmsmtpd_env *e, FILE *msg,
			   zmsmtpd_verdict *v)
{
	sdata *sd = zmsmtpd_get_data(s);

	if (S.pol_eom != NULL && !(sd != NULL && sd->discard)) {
		pol_result r;

		policy_query(S.pol_eom, S.c.policy_eom, s, "END-OF-MESSAGE", NULL, e, &r);
		if (policy_refusal(&r, v)) {
			zlog_info(NULL, "[%s] message from <%s> refused at END-OF-MESSAGE: %d %s %s",
				  e->client_ip, e->sender, r.code, r.enh, r.text);
			pol_knobs_quarantine(&S.c.k, e, msg, v);   /* -s */
			return;
		}
		if (txn_keep(s, &r, "END-OF-MESSAGE") != 0) {
			v->action = ZMSMTPD_DEFER;
			v->code = 451;
			zstrlcpy(v->enh, "4.3.0", sizeof(v->enh));
			zstrlcpy(v->text, "Temporary failure, try again later", sizeof(v->text));
			return;
		}
		sd = zmsmtpd_get_data(s);
	}
	if (sd != NULL && sd->discard) {
		zlog_info(NULL, "[%s] discarded a message from <%s>, %zu recipient%s, %lu bytes (%s)",
			  e->client_ip, e->sender, e->nrcpts, e->nrcpts == 1 ? "" : "s", e->size,
			  sd->discard_why);
		zbuf_reset(&sd->prepend);
		v->action = ZMSMTPD_ACCEPT;
		zstrlcpy(v->text, "Ok: message accepted", sizeof(v->text));
		return;
	}
	if (S.c.k.program[0] != '\0') {   /* -m: not the router */
		pol_knobs_program(&S.c.k, S.d, e, sd != NULL ? &sd->prepend : NULL, msg, v);
		return;
	}
	cb_deliver(arg, s, e, msg, v);
}

/* commit_done - the commit pool finished messages: their replies */
static void commit_done(void *arg)
{
	commitq_done r;

	(void)arg;
	while (S.cq != NULL && commitq_pop(S.cq, &r) == 1) {
		zmsmtpd_verdict v;
		memset(&v, 0, sizeof(v));
		if (r.rc == Z_OK) {
			if (r.dirsync_failed)
				zlog_warn(NULL, "%lu: fsync of router/ failed; the message is queued"
					  " but a crash before the next sync could lose it", r.ino);
			zlog_info(NULL, "%lu: accepted %s", r.ino, r.note);
			v.action = ZMSMTPD_ACCEPT;
			snprintf(v.text, sizeof(v.text), "Ok: queued as %lu", r.ino);
		} else {
			zlog_error(NULL, "cannot queue a message: %s", r.err);
			v.action = ZMSMTPD_DEFER;
			v.code = 452;
			zstrlcpy(v.enh, "4.3.1", sizeof(v.enh));
			zstrlcpy(v.text, "Insufficient system storage", sizeof(v.text));
		}
		zmsmtpd_deliver_done(r.tag, &v);
	}
}

/* mq_line - read one line from the scheduler's socket into buf before
 * the deadline (ms); 0, or -1 */
static int mq_line(int fd, char *buf, size_t bufsz, long long deadline)
{
	size_t n = 0;

	while (n + 1 < bufsz) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		long long left = deadline - zmono_ms();
		ssize_t r;
		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			return -1;
		r = read(fd, buf + n, 1);
		if (r <= 0)
			return -1;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return 0;
		}
		n++;
	}
	return -1;
}

/* cb_etrn - RFC 1985: ask the scheduler (its mailq socket, the ETRN
 * command of mailq(1)) to start the threads of the node now.  "@domain"
 * and "#queue" name the same threads as "domain" / "queue".  250 when it
 * started something, 251 when nothing waits, 458 when the scheduler
 * cannot be asked.  Bounded: 3 seconds in all (the loop waits). */
static int cb_etrn(void *arg, const char *node)
{
	struct sockaddr_un sa;
	char line[512], cmd[300];
	const char *host = node[0] == '@' || node[0] == '#' ? node + 1 : node;
	long long deadline = zmono_ms() + 3000;
	int fd = -1, rc = ZMSMTPD_ETRN_FAILED, k;

	(void)arg;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	k = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/.mailq.sock", S.po);
	if (k < 0 || (size_t)k >= sizeof(sa.sun_path) ||
	    snprintf(cmd, sizeof(cmd), "ETRN %s\nQUIT\n", host) >= (int)sizeof(cmd))
		goto done;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		zlog_warn(NULL, "ETRN %s: cannot reach the scheduler at %s: %s", node, sa.sun_path,
			  strerror(errno));
		goto done;
	}
	/* "version zmta 2.0", then the answer to ETRN */
	if (mq_line(fd, line, sizeof(line), deadline) != 0 || strncmp(line, "version ", 8) != 0 ||
	    zwrite_all(fd, cmd, strlen(cmd)) != Z_OK ||
	    mq_line(fd, line, sizeof(line), deadline) != 0) {
		zlog_warn(NULL, "ETRN %s: no answer from the scheduler", node);
		goto done;
	}
	if (strstr(line, "started something") != NULL)
		rc = ZMSMTPD_ETRN_STARTED;
	else if (strncmp(line, "+OK", 3) == 0)
		rc = ZMSMTPD_ETRN_NONE;
	else
		zlog_warn(NULL, "ETRN %s: the scheduler said: %.200s", node, line);
	zlog_info(NULL, "ETRN %s: %s", node, rc == ZMSMTPD_ETRN_STARTED ? "queue run started" :
		  rc == ZMSMTPD_ETRN_NONE ? "nothing waiting" : "refused");
done:
	if (fd >= 0)
		close(fd);
	return rc;
}

static int cb_verify(void *arg, const char *user, const char *pw)
{
	(void)arg;
	return S.af != NULL && pol_passwd_verify(S.af, user, pw, strlen(pw)) == 1 ? 0 : -1;
}

/* cb_secret - CRAM-MD5: the {plain} secret of user.  A user with a
 * hashed entry only cannot use CRAM-MD5 (the server needs the secret
 * itself): the engine answers 535, the log says why. */
static int cb_secret(void *arg, const char *user, char *buf, size_t bufsz)
{
	zbuf sec = ZBUF_INIT(POL_PW_LINE_MAX);
	int rc = -1, prc = S.af != NULL ? pol_passwd_plain(S.af, user, &sec) : Z_ENOENT;

	(void)arg;
	if (prc == Z_OK && zstrlcpy(buf, zbuf_cstr(&sec), bufsz) == Z_OK)
		rc = 0;
	else if (prc == Z_ERR)
		zlog_warn(NULL, "CRAM-MD5 for %s refused: the password file has a hashed entry for"
			  " this user, CRAM-MD5 needs a {plain} one", user);
	else if (prc == Z_ENOENT)
		zlog_info(NULL, "CRAM-MD5 for %s refused: no such user in the password file", user);
	zsecret_wipe(&sec);
	return rc;
}

/* passwd_has_plain - does pw hold a {plain} entry */
static int passwd_has_plain(const char *path)
{
	zbuf data = ZBUF_INIT(POL_PW_FILE_MAX), e = ZBUF_INIT(256);
	int yes = zread_file(path, POL_PW_FILE_MAX, &data, &e) == Z_OK && data.len > 0 &&
		  memmem(data.data, data.len, ":{plain}", 8) != NULL;

	zsecret_wipe(&data);
	zbuf_free(&e);
	return yes;
}

/* engine_new - an engine with the callbacks (AUTH ones when auth) and
 * the options of the configuration file read into c */
static zmsmtpd *engine_new(sconf *c, int auth, int cram, zbuf *err)
{
	zmsmtpd_callbacks cb;
	zmsmtpd *d;
	char tmp[4200], ebuf[256];

	memset(&cb, 0, sizeof(cb));
	cb.validate_sender = cb_mail;
	cb.validate_recipient = cb_rcpt;
	cb.deliver = cb_end_of_data;
	cb.etrn = cb_etrn;
	cb.log = cb_log;
	cb.session_end = cb_session_end;
	cb.drop_host = cb_drop;
	cb.transcript = cb_transcript;
	cb.refused = cb_refused;
	cb.admit = cb_admit;
	cb.release = cb_release;
	if (auth)
		cb.auth_verify = cb_verify;
	if (cram)
		cb.auth_secret = cb_secret;
	d = zmsmtpd_new(&cb);
	if (d == NULL) {
		zbuf_puts(err, "out of memory");
		return NULL;
	}
	snprintf(tmp, sizeof(tmp), "%s/public", S.po);
	if (zmsmtpd_configure(d, "tmpdir", tmp, ebuf, sizeof(ebuf)) != 0) {
		zbuf_puts(err, ebuf);
		goto bad;
	}
	if (sconf_load(S.confpath, c, d, S.cli_keys, S.cli_nkeys, err) != Z_OK)
		goto bad;
	return d;
bad:
	zmsmtpd_free(d);
	return NULL;
}

/* load_all - configuration, router tables, password file, policy client
 * into fresh objects; installed only when all are good */
static int load_all(zmsmtpd **dp, sconf *c, rt_config **rtp, pol_passwd **afp, pol_policy **polp,
		    pol_policy **eomp, zbuf *err)
{
	zmsmtpd *d;
	char rcbuf[4200];
	const char *rc;

	*rtp = NULL;
	*afp = NULL;
	*polp = NULL;
	*eomp = NULL;
	d = engine_new(c, 0, 0, err);
	if (d == NULL)
		return Z_EPARSE;
	rc = c->routerconf[0] ? c->routerconf : zconf_get("ROUTERCONF");
	if (rc == NULL || *rc == '\0') {
		snprintf(rcbuf, sizeof(rcbuf), "%s/router.conf",
			 zconf_get_default("MAILSHARE", ZMTA_SYSCONFDIR));
		rc = rcbuf;
	}
	if (rt_load(rc, rtp, err) != Z_OK)
		goto bad;
	if (c->authfile[0] != '\0') {
		int cram;
		if (pol_passwd_load(c->authfile, c->pwflags, afp, err) != Z_OK)
			goto bad;
		/* CRAM-MD5 only with {plain} entries that we may use */
		cram = (c->pwflags & POL_PW_ALLOW_PLAIN) && passwd_has_plain(c->authfile);
		zmsmtpd_free(d);
		d = engine_new(c, 1, cram, err);
		if (d == NULL)
			goto bad;
	}
	if (c->policy[0] != '\0' && (*polp = pol_policy_new(c->policy, c->policy_timeout_ms, err)) == NULL)
		goto bad;
	if (c->policy_eom[0] != '\0' &&
	    (*eomp = pol_policy_new(c->policy_eom, c->policy_timeout_ms, err)) == NULL)
		goto bad;
	for (int i = 0; i < S.cli_nlis; i++) {
		if (i == 0)
			c->nlis = 0;
		if (sconf_listen(c, S.cli_lis[i], NULL) != 0) {
			zbuf_printf(err, "-l %s: expected address:port[/smtp|/submission|/smtps][,proxy-protocol]",
				    S.cli_lis[i]);
			goto bad;
		}
	}
	*dp = d;
	return Z_OK;
bad:
	zmsmtpd_free(d);
	rt_free(*rtp);
	pol_passwd_free(*afp);
	pol_policy_free(*polp);
	pol_policy_free(*eomp);
	*rtp = NULL;
	*afp = NULL;
	*polp = NULL;
	*eomp = NULL;
	return Z_EPARSE;
}

/* grey_open - the greylist store of the configuration (after the
 * privileges are dropped: LMDB files belong to the server's user) */
static int grey_open(const sconf *c, pol_grey **out, zbuf *err)
{
	char dir[4200];

	*out = NULL;
	if (!c->greylist)
		return Z_OK;
	if (c->grey_redis)
		return pol_grey_open_redis(out, c->grey_redis_ep, c->grey_redis_prefix,
					   c->grey_redis_timeout_ms, &c->gcfg, err);
	if (c->grey_lmdb_dir[0] != '\0')
		zstrlcpy(dir, c->grey_lmdb_dir, sizeof(dir));
	else if (snprintf(dir, sizeof(dir), "%s/greylist", S.po) >= (int)sizeof(dir)) {
		zbuf_puts(err, "POSTOFFICE path too long");
		return Z_ETOOBIG;
	}
	return pol_grey_open_lmdb(out, dir, c->grey_mapsize, &c->gcfg, err);
}

/* take_pidlock - $POSTOFFICE/.pid.smtpserver, flock'ed while we run */
static int take_pidlock(void)
{
	char path[4200];
	char pid[32];
	int fd, n;

	if (snprintf(path, sizeof(path), "%s/.pid.smtpserver", S.po) >= (int)sizeof(path))
		zlog_fatal(EX_USAGE, NULL, "POSTOFFICE path too long");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
	if (fd < 0)
		zlog_fatal(EX_OSERR, NULL, "cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		zlog_fatal(EX_TEMPFAIL, NULL, "another smtpserver is running (lock %s)", path);
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		zlog_warn(NULL, "cannot write %s", path);
	return fd;
}

static void usage(void)
{
	fputs("usage: smtpserver [-FinaDfgpr] [-C smtpserver.conf] [-P postoffice] [-L logfile]"
	      " [-l addr:port[/kind]]...\n"
	      "\t[-c certfile] [-h hostname] [-k ip[/len]]... [-m program] [-s quarantine-dir]"
	      " [-d transcript-dir] [-w workers]\n", stderr);
	exit(EX_USAGE);
}

/* cli_key - a flag as an smtpserver.conf line read after the file */
static void cli_key(const char *key, const char *val)
{
	if (S.cli_nkeys >= MAX_CLI_KEYS || strpbrk(val, "\r\n#") != NULL || *val == '\0') {
		fprintf(stderr, "smtpserver: -%s: too many flags, or an empty value or one with a"
			" line break or '#'\n", key);
		usage();
	}
	S.cli_keys[S.cli_nkeys][0] = key;
	S.cli_keys[S.cli_nkeys][1] = val;
	S.cli_nkeys++;
}

int main(int argc, char **argv)
{
	zbuf err = ZBUF_INIT(4096);
	char confbuf[4200];
	int opt, checkonly = 0, inetd = 0, lockfd = -1;
	const char *logpath = NULL;

	zlog_open("smtpserver", ZLOG_TO_STDERR);
	/* the Plan 9 knobs are smtpserver.conf keys (cli_key); a flag wins
	 * over the file because its line is read last */
	while ((opt = getopt(argc, argv, "aC:c:Dd:fFgh:iL:l:k:m:nP:prs:w:")) != -1) {
		switch (opt) {
		case 'F': break;   /* always in the foreground */
		case 'C': S.confpath = optarg; break;
		case 'i': inetd = 1; break;
		case 'L': logpath = optarg; break;
		case 'l':
			if (S.cli_nlis >= MAX_LISTENERS ||
			    zstrlcpy(S.cli_lis[S.cli_nlis++], optarg, sizeof(S.cli_lis[0])) != Z_OK)
				usage();
			break;
		case 'n': checkonly = 1; break;
		case 'P': S.po = optarg; break;
		case 'w': cli_key("workers", optarg); break;
		default: {
			const char *v, *k = pol_knobs_flag(opt, optarg, &v);
			if (k == NULL)
				usage();
			cli_key(k, v);
		}
		}
	}
	if (optind != argc) {
		if (optind + 1 == argc && access(argv[optind], F_OK) == 0)
			fprintf(stderr, "smtpserver: -f takes no file (it is the Plan 9 knob"
				" tag-outside-local); name the configuration file with -C %s\n", argv[optind]);
		usage();
	}
	if (zconf_load(NULL, &err) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "%s", zbuf_cstr(&err));
	if (S.po == NULL)
		S.po = zconf_get_default("POSTOFFICE", ZMTA_LOCALSTATEDIR "/spool/postoffice");
	if (S.confpath == NULL) {
		snprintf(confbuf, sizeof(confbuf), "%s/smtpserver.conf",
			 zconf_get_default("MAILSHARE", ZMTA_SYSCONFDIR));
		S.confpath = confbuf;
	}
	if (logpath != NULL && !inetd && zlog_set_file(logpath) != Z_OK)
		zlog_fatal(EX_CANTCREAT, NULL, "cannot open log file %s", logpath);
	if (load_all(&S.d, &S.c, &S.rt, &S.af, &S.pol, &S.pol_eom, &err) != Z_OK) {
		if (checkonly || inetd) {
			fprintf(stderr, "smtpserver: %s\n", zbuf_cstr(&err));
			zbuf_free(&err);
			return EX_CONFIG;
		}
		zlog_fatal(EX_CONFIG, NULL, "%s", zbuf_cstr(&err));
	}
	if (checkonly) {
		zmsmtpd_free(S.d);
		rt_free(S.rt);
		pol_passwd_free(S.af);
		pol_policy_free(S.pol);
		pol_policy_free(S.pol_eom);
		zbuf_free(&err);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (inetd) {
		/* sendmail -bs and inetd: one session, the caller's privileges */
		/* a local user: trusted, never greylisted (no store opened) */
		zmsmtpd_serve_fds(S.d, 0, 1, NULL);
		goto out;
	}
	for (int i = 0; i < S.c.nlis; i++) {
		char ebuf[512];
		if (zmsmtpd_start(S.d, S.c.lis[i].addr, S.c.lis[i].port, S.c.lis[i].flags, ebuf,
				  sizeof(ebuf)) != 0)
			zlog_fatal(EX_OSERR, NULL, "%s", ebuf);
		zlog_info(NULL, "listening on [%s]:%d%s%s", S.c.lis[i].addr, zmsmtpd_port(S.d),
			  S.c.lis[i].flags & ZMSMTPD_L_TLS ? " (TLS)" :
			  S.c.lis[i].flags & ZMSMTPD_L_AUTH ? " (submission)" : "",
			  S.c.lis[i].flags & ZMSMTPD_L_PROXY ? " (PROXY protocol)" : "");
	}
	if (getuid() == 0 || geteuid() == 0) {
		zbuf_reset(&err);
		if (zpriv_drop(zconf_get_default("ZMTA_USER", "zmta"), NULL, &err) != Z_OK)
			zlog_fatal(EX_NOPERM, NULL, "cannot drop privileges: %s", zbuf_cstr(&err));
	}
	lockfd = take_pidlock();
	if (S.c.workers > 1) {
		unsigned hups = 0;
		zbuf_reset(&err);
		if ((S.conns = pol_conn_new(&err)) == NULL)
			zlog_fatal(EX_OSERR, NULL, "%s", zbuf_cstr(&err));
		zlog_info(NULL, "started, %d workers", S.c.workers);
		S.wid = smtpd_workers_run(S.c.workers, S.conns, &hups, parent_stop, NULL);
		if (S.wid < 0) {
			zlog_info(NULL, "stopped");
			pol_conn_free(S.conns);
			S.conns = NULL;
			goto out;
		}
		/* a worker: its own event loop; the parent holds the pid lock */
		if (zmsmtpd_after_fork(S.d) != 0)
			zlog_fatal(EX_OSERR, NULL, "worker %d: cannot make its event loop", S.wid);
		close(lockfd);
		lockfd = -1;
		if (hups > 0)
			got_hup = 1;   /* started after a SIGHUP: reload first */
	}
	zbuf_reset(&err);
	if (grey_open(&S.c, &S.grey, &err) != Z_OK)
		zlog_fatal(EX_UNAVAILABLE, NULL, "greylist store: %s", zbuf_cstr(&err));
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_hup;
		sigaction(SIGHUP, &sa, NULL);
		sa.sa_handler = on_term;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		if (S.conns != NULL)
			smtpd_workers_unblock();
	}
	zbuf_reset(&err);
	if ((S.cq = commitq_new(S.po, COMMIT_THREADS, &err)) == NULL ||
	    zmsmtpd_watch_fd(S.d, commitq_fd(S.cq), commit_done, NULL) != 0) {
		/* commits run in the event loop then, one at a time */
		zlog_warn(NULL, "no commit pool (%s): committing in the loop",
			  err.len ? zbuf_cstr(&err) : "cannot watch its pipe");
		commitq_free(S.cq);
		S.cq = NULL;
	}
	if (S.conns != NULL)
		zlog_info(NULL, "worker %d started", S.wid);
	else
		zlog_info(NULL, "started");
	{
		long long stop_at = 0;
		/* info lines are held and written once per round of the loop */
		zlog_hold(1);
		for (;;) {
			zmsmtpd_run_once(S.d, 1000);
			zlog_flush();
			if (got_term && stop_at == 0) {
				got_term = 0;
				zlog_info(NULL, "SIGTERM: no new connections; %lu session(s) to finish",
					  zmsmtpd_sessions(S.d));
				zmsmtpd_stop(S.d, 1);
				stop_at = zmono_ms() + 30000;
			}
			if (stop_at != 0 && (zmsmtpd_sessions(S.d) == 0 || zmono_ms() > stop_at))
				break;
			if (got_hup) {
				sconf nc;
				rt_config *nrt = NULL;
				pol_passwd *naf = NULL;
				pol_policy *npol = NULL, *neom = NULL;

				zmsmtpd *nd = NULL;
				got_hup = 0;
				zbuf_reset(&err);
				/* the listeners stay; options, tables and passwords are new */
				if (load_all(&nd, &nc, &nrt, &naf, &npol, &neom, &err) != Z_OK) {
					zlog_error(NULL, "reload failed, keeping the old configuration: %s",
						   zbuf_cstr(&err));
				} else {
					char v[1100];
					static const char *const keep[] = { "hostname", "greeting",
						"max-line", "max-rcpts", "max-size", "max-errors",
						"max-commands", "max-connections", "max-per-ip", "timeout-command", "timeout-data",
						"auth-required", "auth-plaintext", "vrfy", "pipelining",
						"bare-lf", "tarpit", "tarpit-greeting-delay", "tarpit-initial",
						"tarpit-factor", "tarpit-max", "tarpit-max-rejects",
						"tls-cert", "tls-key", NULL };
					char eb[256];
					for (int i = 0; keep[i]; i++)
						if (zmsmtpd_cget(nd, keep[i], v, sizeof(v)) == 0)
							zmsmtpd_configure(S.d, keep[i], v, eb, sizeof(eb));
					zmsmtpd_free(nd);
					rt_free(S.rt);
					S.rt = nrt;
					pol_passwd_free(S.af);
					S.af = naf;
					pol_policy_free(S.pol);
					S.pol = npol;
					pol_policy_free(S.pol_eom);
					S.pol_eom = neom;
					/* close before opening again: one LMDB
					 * environment per process at a time */
					pol_grey_close(S.grey);
					zbuf_reset(&err);
					if (grey_open(&nc, &S.grey, &err) != Z_OK)
						zlog_error(NULL, "greylisting off: %s", zbuf_cstr(&err));
					{
						/* the listeners stay as they are */
						int nlis = S.c.nlis;
						char lis[sizeof(S.c.lis)];
						memcpy(lis, S.c.lis, sizeof(lis));
						S.c = nc;
						memcpy(S.c.lis, lis, sizeof(lis));
						S.c.nlis = nlis;
					}
					zlog_info(NULL, "reloaded %s and the router tables", S.confpath);
				}
			}
		}
	}
	zlog_info(NULL, S.conns != NULL ? "worker stopped" : "stopped");
out:
	/* commits in flight finish (their files are the router's) first */
	commitq_free(S.cq);
	S.cq = NULL;
	zmsmtpd_free(S.d);
	rt_free(S.rt);
	pol_passwd_free(S.af);
	pol_policy_free(S.pol);
	pol_policy_free(S.pol_eom);
	pol_grey_close(S.grey);
	zbuf_free(&err);
	if (lockfd >= 0)
		close(lockfd);
	return 0;
}
