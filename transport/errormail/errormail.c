/*
 * NAME
 *	errormail - the canned-bounce transport agent (libexecdir/zmta/ta/errormail)
 *
 * SUMMARY
 *	The router sends a recipient it cannot accept (unknown user, loop,
 *	bad envelope or header, no recipients ...) to channel error with the
 *	name of a form in the host field.  errormail turns the recipients of
 *	a message into one bounce to the sender: the form's text, an RFC 3464
 *	delivery-status part and the original message.
 *
 * SYNOPSIS
 *	errormail [-V] [-c channel] [-F formsdir] [host]
 *
 * DESCRIPTION
 *	Runs the libta job loop in $POSTOFFICE/transport.  Recipients are
 *	grouped by sender.  A group whose sender is the null sender (channel
 *	error) is reported ok "error bounce dropped" (a bounce is never
 *	bounced).  Otherwise one submission is written through
 *	spool/submit.h: envelope "channel error", "errormsg", "todsn
 *	NOTIFY=NEVER ORCPT=rfc822;<xtext sender>", "to <sender>", plus one
 *	NOTIFY=NEVER recipient for every address of the form's ADR lines;
 *	then From/To/Date/Message-Id/Auto-Submitted, the form's HDR, SUB
 *	and ADR lines as headers, and a multipart/report: the form text
 *	followed by the failing addresses, a message/delivery-status part
 *	(Action: failed, a status per form), and the original message
 *	(message/rfc822, or text/rfc822-headers with RET=HDRS or when the
 *	body is over 1 MiB).  After the commit every recipient of the group
 *	is reported ok (ok3: the bounce carries the failure; notary action
 *	failed with the form's status), so the scheduler sends no second
 *	report.  A failed submission defers the group.
 *
 *	Forms: MAILSHARE/forms/<name> (-F overrides the directory).  Leading
 *	lines "HDR <header>", "SUB <Subject: ...>", "ADR <header with
 *	addresses>"; the first other line starts the text.  A form name is
 *	letters, digits, . _ - (no leading dot); a missing form gives a
 *	built-in text and a warning.
 *
 * DIAGNOSTICS
 *	Report lines per recipient (zmta-ta(7)); exit EX_USAGE for bad
 *	options, EX_CONFIG for a bad zmta.conf.
 *
 * SECURITY
 *	Runs as the mail system's user; the submission it writes is owned by
 *	it, which lets the router believe "channel error".  Form names come
 *	from control files: they can never name a file outside the forms
 *	directory.  Addresses going into header and envelope lines are
 *	cleaned of control bytes and newlines.
 *
 * BUGS
 *	Form text is used as written (no substitutions).
 *
 * SEE ALSO
 *	errormail(8), zmta-ta(7), spool/submit.h, transport/libta/tagroup.c (the
 *	grouping by sender), RFC 3464
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "submit.h"
#include "ta.h"
#include "tagroup.h"
#include "tasubmit.h"
#include "xtext.h"
#include "zconf.h"
#include "zlog.h"
#include "zutil.h"

#define FORM_MAX (64u * 1024u)
#define BODY_CAP (1024u * 1024u)
#define MSG_MAX (8u * 1024u * 1024u)

static struct {
	char formsdir[4096];
	char hostname[256];
} G;

/* form statuses (RFC 3463) by name; others 5.0.0 */
static const struct { const char *form, *status; } statuses[] = {
	{ "nosuchuser", "5.1.1" }, { "unknown-user", "5.1.1" }, { "wrongname", "5.1.1" },
	{ "unresolvable", "5.1.2" }, { "localhost", "5.1.2" }, { "loopexceeded", "5.4.6" },
	{ "envelope", "5.6.0" }, { "header", "5.6.0" }, { "norecipients", "5.1.3" },
	{ "expansion", "5.3.0" }, { "database", "5.3.0" }
};

/* usage - synopsis and exit */
static _Noreturn void usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "errormail: %s\n", why);
	fprintf(stderr, "usage: errormail [-V] [-c channel] [-F formsdir] [host]\n");
	exit(EX_USAGE);
}

/* form_status - the enhanced status code of a form */
static const char *form_status(const char *form)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (strcmp(statuses[i].form, form) == 0)
			return statuses[i].status;
	return "5.0.0";
}

/* form_name_ok - letters, digits, . _ -; not empty, no leading dot */
static int form_name_ok(const char *s)
{
	if (*s == '\0' || *s == '.' || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* put_clean - append s[0..n) with control bytes and newlines as '?' */
static int put_clean(zbuf *b, const char *s, size_t n)
{
	int rc = Z_OK;
	for (size_t i = 0; i < n && rc == Z_OK; i++) {
		unsigned char c = (unsigned char)s[i];
		rc = zbuf_putc(b, (c < ' ' || c == 0x7f) ? '?' : c);
	}
	return rc;
}

typedef struct form {
	zbuf hdrs;     /* HDR, SUB and ADR lines as header lines */
	zbuf text;
	zbuf adrs;     /* addresses of ADR lines, NUL-separated */
	int has_subject, has_from;
} form;

/* adr_addresses - addresses of one "Name: a, <b>" header into f->adrs */
static int adr_addresses(form *f, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);
	size_t i;
	int rc = Z_OK;

	if (colon == NULL)
		return Z_OK;
	i = (size_t)(colon - line) + 1;
	while (i < n && rc == Z_OK) {
		size_t s, e;
		while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == ','))
			i++;
		s = i;
		while (i < n && line[i] != ',')
			i++;
		e = i;
		while (e > s && (line[e - 1] == ' ' || line[e - 1] == '\t'))
			e--;
		{
			const char *lt = memchr(line + s, '<', e - s);
			if (lt != NULL) {
				const char *gt = memchr(lt, '>', (size_t)(line + e - lt));
				if (gt != NULL) {
					s = (size_t)(lt - line) + 1;
					e = (size_t)(gt - line);
				}
			}
		}
		if (e > s && memchr(line + s, ' ', e - s) == NULL) {
			rc = put_clean(&f->adrs, line + s, e - s);
			if (rc == Z_OK)
				rc = zbuf_putc(&f->adrs, '\0');
		}
	}
	return rc;
}

/* form_load - read and split a form; a missing one gives a built-in text */
static int form_load(const char *name, form *f, zbuf *why)
{
	zbuf raw = ZBUF_INIT(FORM_MAX);
	char path[4200];
	size_t pos = 0;
	int in_text = 0, rc = Z_OK, k;

	zbuf_init(&f->hdrs, FORM_MAX);
	zbuf_init(&f->text, FORM_MAX);
	zbuf_init(&f->adrs, FORM_MAX);
	f->has_subject = f->has_from = 0;
	k = snprintf(path, sizeof(path), "%s/%s", G.formsdir, name);
	if (!form_name_ok(name) || k < 0 || (size_t)k >= sizeof(path) ||
	    zread_file(path, FORM_MAX, &raw, why) != Z_OK) {
		if (!form_name_ok(name)) {
			zbuf_reset(why);
			zbuf_puts(why, "not a valid form name");
		} else if (why->len == 0) {
			zbuf_printf(why, "form %s cannot be read", path);
		}
		rc = zbuf_puts(&f->text, "Your message could not be delivered to the addresses below.\n");
		zbuf_free(&raw);
		return rc == Z_OK ? Z_ENOENT : rc;
	}
	while (pos < raw.len && rc == Z_OK) {
		const char *p = raw.data + pos, *nl = memchr(p, '\n', raw.len - pos);
		size_t n = nl ? (size_t)(nl - p) : raw.len - pos;
		pos += n + (nl ? 1 : 0);
		if (!in_text && n >= 4 && (memcmp(p, "HDR ", 4) == 0 || memcmp(p, "SUB ", 4) == 0 ||
					  memcmp(p, "ADR ", 4) == 0)) {
			if (memchr(p + 4, ':', n - 4) == NULL)
				continue;   /* not a header: ignore */
			if (memcmp(p, "SUB ", 4) == 0 || (n >= 12 && strncasecmp(p + 4, "Subject:", 8) == 0))
				f->has_subject = 1;
			if (n >= 9 && strncasecmp(p + 4, "From:", 5) == 0)
				f->has_from = 1;
			if (memcmp(p, "ADR ", 4) == 0)
				rc = adr_addresses(f, p + 4, n - 4);
			if (rc == Z_OK)
				rc = put_clean(&f->hdrs, p + 4, n - 4);
			if (rc == Z_OK)
				rc = zbuf_putc(&f->hdrs, '\n');
			continue;
		}
		in_text = 1;
		rc = zbuf_append(&f->text, p, n);
		if (rc == Z_OK)
			rc = zbuf_putc(&f->text, '\n');
	}
	zbuf_free(&raw);
	return rc;
}

/* form_free - release a form */
static void form_free(form *f)
{
	zbuf_free(&f->hdrs);
	zbuf_free(&f->text);
	zbuf_free(&f->adrs);
}

/* has_8bit - any byte >= 0x80 */
static int has_8bit(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

/* env_to - "todsn NOTIFY=NEVER ORCPT=rfc822;<xtext>" + "to <addr>" */
static int env_to(submit *s, const char *addr)
{
	zbuf v = ZBUF_INIT(8192);
	int rc = zbuf_puts(&v, "NOTIFY=NEVER ORCPT=rfc822;");

	if (rc == Z_OK)
		rc = xtext_encode(&v, zspan_from(addr));
	if (rc == Z_OK)
		rc = submit_env(s, "todsn", zbuf_cstr(&v));
	zbuf_reset(&v);
	if (rc == Z_OK)
		rc = zbuf_printf(&v, "<%s>", addr);
	if (rc == Z_OK)
		rc = submit_env(s, "to", zbuf_cstr(&v));
	zbuf_free(&v);
	return rc;
}

typedef struct acc {
	zbuf *b;
	size_t cap;
	int over;
} acc;

/* acc_put - collect the body up to cap (for the attachment) */
static int acc_put(void *arg, const void *p, size_t n)
{
	acc *a = arg;
	if (a->b->len + n > a->cap) {
		a->over = 1;
		return Z_ETOOBIG;
	}
	return zbuf_append(a->b, p, n);
}

/* compose - the whole bounce (headers + multipart body) into msg */
static int compose(ta_msg *m, ta_rcpt **rs, size_t n, const char *sender, const form *fp,
		   zbuf *msg)
{
	zbuf bnd = ZBUF_INIT(512), body = ZBUF_INIT(BODY_CAP + 1);
	zspan hdr = ta_rcpt_headers(m, rs[0]);
	char date[64], arrival[64];
	const form f = *fp;
	int rc = Z_OK, want_body, eightbit;
	acc a = { &body, BODY_CAP, 0 };
	time_t now = time(NULL);

	if (ztime_rfc5322(now, date, sizeof(date)) != Z_OK)
		zstrlcpy(date, "Thu, 01 Jan 1970 00:00:00 +0000", sizeof(date));
	if (m->arrival <= 0 || ztime_rfc5322(m->arrival, arrival, sizeof(arrival)) != Z_OK)
		zstrlcpy(arrival, date, sizeof(arrival));
	while (hdr.n > 0 && hdr.p[hdr.n - 1] == '\n')
		hdr.n--;
	want_body = hdr.n > 0 && !zspan_caseeq(rs[0]->r->ret, "HDRS");
	if (want_body) {
		int brc = ta_body_each(m, acc_put, &a);
		if (brc != Z_OK)
			want_body = 0;
	}
	eightbit = has_8bit(hdr.p ? hdr.p : "", hdr.n) || (want_body && has_8bit(body.data ? body.data : "", body.len)) ||
		   has_8bit(f.text.data ? f.text.data : "", f.text.len);
	rc |= zbuf_printf(&bnd, "%s.%lld=_/errmail/%s", m->spoolid, (long long)now, G.hostname);

	/* headers */
	if (!f.has_from)
		rc |= zbuf_printf(msg, "From: Mail Delivery System <MAILER-DAEMON@%s>\n", G.hostname);
	rc |= zbuf_puts(msg, "To: <");
	rc |= put_clean(msg, sender, strlen(sender));
	rc |= zbuf_printf(msg, ">\nDate: %s\nMessage-Id: <%lld.%s.errormail@%s>\n", date,
			  (long long)now, m->spoolid, G.hostname);
	rc |= zbuf_append(msg, f.hdrs.data ? f.hdrs.data : "", f.hdrs.len);
	if (!f.has_subject)
		rc |= zbuf_puts(msg, "Subject: Undeliverable mail\n");
	rc |= zbuf_printf(msg, "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
			  "Content-Type: multipart/report; report-type=delivery-status;\n"
			  "\tboundary=\"%s\"\n", zbuf_cstr(&bnd));
	if (eightbit)
		rc |= zbuf_puts(msg, "Content-Transfer-Encoding: 8bit\n");
	rc |= zbuf_puts(msg, "\nThis is a MIME-formatted delivery status notification.\n");

	/* 1: the form text and the failing addresses */
	rc |= zbuf_printf(msg, "\n--%s\nContent-Type: text/plain; charset=%s\n"
			  "Content-Description: Notification\n\n", zbuf_cstr(&bnd),
			  has_8bit(f.text.data ? f.text.data : "", f.text.len) ? "utf-8" : "us-ascii");
	rc |= zbuf_append(msg, f.text.data ? f.text.data : "", f.text.len);
	rc |= zbuf_puts(msg, "\nThe failing address(es):\n\n");
	for (size_t i = 0; i < n; i++) {
		rc |= zbuf_puts(msg, "\t");
		rc |= put_clean(msg, rs[i]->user ? rs[i]->user : "", rs[i]->user ? strlen(rs[i]->user) : 0);
		rc |= zbuf_puts(msg, "\n");
	}
	if (hdr.n > 0 && !want_body)
		rc |= zbuf_puts(msg, "\nOnly the headers of your message are attached.\n");

	/* 2: delivery status */
	rc |= zbuf_printf(msg, "\n--%s\nContent-Type: message/delivery-status\n"
			  "Content-Description: Delivery report\n\n", zbuf_cstr(&bnd));
	if (rs[0]->r->envid.n > 0) {
		rc |= zbuf_puts(msg, "Original-Envelope-Id: ");
		rc |= put_clean(msg, rs[0]->r->envid.p, rs[0]->r->envid.n);
		rc |= zbuf_puts(msg, "\n");
	}
	rc |= zbuf_printf(msg, "Reporting-MTA: dns; %s\nArrival-Date: %s\n", G.hostname, arrival);
	for (size_t i = 0; i < n; i++) {
		char fname[256];
		if (zspan_copy(rs[i]->r->quad.host, fname, sizeof(fname)) != Z_OK)
			zstrlcpy(fname, "-", sizeof(fname));
		rc |= zbuf_puts(msg, "\n");
		if (rs[i]->r->orcpt.n > 0) {
			rc |= zbuf_puts(msg, "Original-Recipient: ");
			rc |= put_clean(msg, rs[i]->r->orcpt.p, rs[i]->r->orcpt.n);
			rc |= zbuf_puts(msg, "\n");
		}
		rc |= zbuf_puts(msg, "Final-Recipient: rfc822; ");
		rc |= put_clean(msg, rs[i]->user ? rs[i]->user : "", rs[i]->user ? strlen(rs[i]->user) : 0);
		rc |= zbuf_printf(msg, "\nAction: failed\nStatus: %s\n", form_status(fname));
		rc |= zbuf_puts(msg, "Diagnostic-Code: X-Zmta; ");
		rc |= put_clean(msg, fname, strlen(fname));
		rc |= zbuf_printf(msg, "\nLast-Attempt-Date: %s\n", date);
	}

	/* 3: the original */
	if (hdr.n > 0) {
		rc |= zbuf_printf(msg, "\n--%s\nContent-Type: %s\n", zbuf_cstr(&bnd),
				  want_body ? "message/rfc822" : "text/rfc822-headers");
		rc |= zbuf_printf(msg, "Content-Description: Undelivered message%s\n",
				  want_body ? "" : " headers");
		if (eightbit)
			rc |= zbuf_puts(msg, "Content-Transfer-Encoding: 8bit\n");
		rc |= zbuf_puts(msg, "\n");
		rc |= zbuf_append(msg, hdr.p, hdr.n);
		rc |= zbuf_puts(msg, "\n");
		if (want_body) {
			rc |= zbuf_puts(msg, "\n");
			rc |= zbuf_append(msg, body.data ? body.data : "", body.len);
			if (body.len > 0 && body.data[body.len - 1] != '\n')
				rc |= zbuf_puts(msg, "\n");
		}
	}
	rc |= zbuf_printf(msg, "\n--%s--\n", zbuf_cstr(&bnd));
	zbuf_free(&bnd);
	zbuf_free(&body);
	return rc == Z_OK ? Z_OK : Z_ETOOBIG;
}

/* bounce - one submission for rs[0..n) (one sender); *ino set on Z_OK */
static int bounce(ta_msg *m, ta_rcpt **rs, size_t n, const char *sender, unsigned long *ino, zbuf *err)
{
	zbuf msg = ZBUF_INIT(MSG_MAX);
	submit s;
	form f;
	zbuf why = ZBUF_INIT(512);
	char formname[256];
	int rc;

	if (zspan_copy(rs[0]->r->quad.host, formname, sizeof(formname)) != Z_OK)
		zstrlcpy(formname, "-", sizeof(formname));
	if (form_load(formname, &f, &why) == Z_ENOENT)
		zlog_warn(m->spoolid, "form \"%s\": %s; using the built-in text", formname, zbuf_cstr(&why));
	rc = compose(m, rs, n, sender, &f, &msg);
	if (rc != Z_OK) {
		zbuf_puts(err, "the bounce is too large");
		form_free(&f);
		goto out;
	}
	rc = submit_open(&s, "..", err);
	if (rc != Z_OK) {
		form_free(&f);
		goto out;
	}
	rc = submit_env(&s, "channel", "error");
	if (rc == Z_OK)
		rc = submit_env(&s, "errormsg", NULL);
	if (rc == Z_OK)
		rc = env_to(&s, sender);
	for (size_t p = 0; rc == Z_OK && p < f.adrs.len; p += strlen(f.adrs.data + p) + 1)
		rc = env_to(&s, f.adrs.data + p);
	if (rc == Z_OK)
		rc = submit_env(&s, "env-end", NULL);
	if (rc == Z_OK)
		rc = submit_write(&s, msg.data, msg.len);
	form_free(&f);
	if (rc != Z_OK) {
		zbuf_printf(err, "writing the bounce failed (%s)", zerr_str(rc));
		submit_abort(&s);
		goto out;
	}
	rc = submit_commit(&s, NULL, 0, ino, err);
out:
	zbuf_free(&msg);
	zbuf_free(&why);
	return rc;
}

/* errormail_deliver - one bounce per sender of the locked recipients */
static int errormail_deliver(ta_ctx *ctx, ta_msg *m, const char *host)
{
	zbuf sender = ZBUF_INIT(2048), err = ZBUF_INIT(1024);
	ta_groups g;
	ta_rcpt **grp;
	size_t n;

	(void)host;
	if (ta_groups_init(&g, ctx, m, ta_same_sender, NULL) != Z_OK)
		goto out;
	while ((n = ta_groups_next(&g)) > 0) {
		unsigned long ino = 0;
		int rc;

		grp = g.grp;
		zbuf_reset(&sender);
		if (ta_sender_addr(m, grp[0], &sender) != Z_OK || sender.len == 0) {
			for (size_t k = 0; k < n; k++) {
				grp[k]->dsn_passed_on = 1;
				ta_notary(grp[k], "failed", NULL, "x-local; error bounce dropped", NULL);
				ta_diagnostic(ctx, m, grp[k], EX_OK, 0, "error bounce dropped");
			}
			zlog_info(m->spoolid, "%s: sender is the null sender: %zu error bounce(s) dropped",
				  m->relpath, n);
			continue;
		}
		zbuf_reset(&err);
		rc = bounce(m, grp, n, zbuf_cstr(&sender), &ino, &err);
		for (size_t k = 0; k < n; k++) {
			char fname[256];
			if (zspan_copy(grp[k]->r->quad.host, fname, sizeof(fname)) != Z_OK)
				zstrlcpy(fname, "-", sizeof(fname));
			if (rc == Z_OK) {
				grp[k]->dsn_passed_on = 1;
				ta_notary(grp[k], "failed", form_status(fname), "x-local; bounced with form", NULL);
				ta_diagnostic(ctx, m, grp[k], EX_OK, 0,
					      "failed (form %s); bounce sent to <%s> as %lu", fname,
					      zbuf_cstr(&sender), ino);
			} else {
				ta_diagnostic(ctx, m, grp[k], EX_TEMPFAIL, 0,
					      "bounce (form %s) could not be submitted: %s", fname,
					      zbuf_cstr(&err));
			}
		}
		if (rc == Z_OK)
			zlog_info(m->spoolid, "%s: bounce for %zu recipient(s) to <%s> submitted as %lu",
				  m->relpath, n, zbuf_cstr(&sender), ino);
		else
			zlog_warn(m->spoolid, "%s: bounce not submitted: %s", m->relpath, zbuf_cstr(&err));
	}
	ta_groups_free(&g);
out:
	zbuf_free(&sender);
	zbuf_free(&err);
	return EX_OK;
}

int main(int argc, char **argv)
{
	ta_ctx ctx;
	ta_agent_ops ops;
	const char *channel = "error", *formsdir = NULL;
	zbuf err = ZBUF_INIT(1024);
	int c, k;

	zproctitle_init(argc, argv);
	zlog_open("errormail", ZLOG_TO_STDERR);
	while ((c = getopt(argc, argv, "Vc:F:")) != -1) {
		switch (c) {
		case 'V':
			printf("errormail (zmta) %s\n", ZMTA_VERSION);
			return EX_OK;
		case 'c': channel = optarg; break;
		case 'F': formsdir = optarg; break;
		default: usage(NULL);
		}
	}
	if (argc - optind > 1)
		usage("at most one host argument");
	if (zconf_load(NULL, &err) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "zmta.conf: %s", zbuf_cstr(&err));
	if (formsdir != NULL)
		k = snprintf(G.formsdir, sizeof(G.formsdir), "%s", formsdir);
	else
		k = snprintf(G.formsdir, sizeof(G.formsdir), "%s/forms",
			     zconf_get_default("MAILSHARE", ZMTA_SYSCONFDIR));
	if (k < 0 || (size_t)k >= sizeof(G.formsdir))
		usage("forms directory path too long");
	{
		const char *hn = zconf_get("MYHOSTNAME");
		if (hn == NULL || *hn == '\0' || zstrlcpy(G.hostname, hn, sizeof(G.hostname)) != Z_OK) {
			if (gethostname(G.hostname, sizeof(G.hostname) - 1) != 0)
				zstrlcpy(G.hostname, "localhost", sizeof(G.hostname));
			G.hostname[sizeof(G.hostname) - 1] = '\0';
		}
		for (char *p = G.hostname; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\\' || (unsigned char)*p >= 0x7f)
				*p = '-';
	}
	ta_init(&ctx, "errormail", channel);
	ctx.fixed_host = optind < argc ? argv[optind] : NULL;
	memset(&ops, 0, sizeof(ops));
	ops.deliver = errormail_deliver;
	c = ta_jobloop(&ctx, &ops);
	zbuf_free(&err);
	return c;
}
