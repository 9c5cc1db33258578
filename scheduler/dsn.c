/*
 * NAME
 *	dsn - delivery status notifications: NOTIFY rules, report routing,
 *	notary strings and RFC 3464 report rendering
 * SUMMARY
 *	Builds the envelope lines and the multipart/report message of one
 *	delivery status notification from plain inputs, deterministically.
 * SYNOPSIS
 *	int dsn_render(const dsn_report *r, zbuf *env, zbuf *msg, zbuf *err);
 *	int dsn_notify_allows(zspan notify, enum dsn_action action);
 *	int dsn_should_report(const char *erraddr, int sender_is_error_channel);
 *	enum dsn_disp dsn_disposition(const char *erraddr,
 *			int sender_is_error_channel, int is_errormsg);
 *	int dsn_action_parse(zspan s);
 *	const char *dsn_action_name(enum dsn_action a);
 *	int dsn_notary_parse(zspan notary, dsn_notary *out);
 *	int dsn_status_valid(zspan s);
 *	int dsn_xtext_encode(zbuf *out, const char *s);
 *	int dsn_xtext_decode(zspan in, zbuf *out);
 * DESCRIPTION
 *	The report follows RFC 3464 / RFC 6522: a human part, a
 *	message/delivery-status part whose fields appear in the order of the
 *	RFC 3464 grammar (per message: Original-Envelope-Id, Reporting-MTA,
 *	Arrival-Date, then the extension X-Zmta-Spool-Id; per recipient:
 *	Original-Recipient, Final-Recipient, Action, Status, Remote-MTA,
 *	Diagnostic-Code, Last-Attempt-Date, Will-Retry-Until), and the
 *	returned message.  The whole message (body included) is returned
 *	only when RET is not HDRS, some recipient failed, and the body fits
 *	body_cap; otherwise text/rfc822-headers, and the human part says why.
 *	ENVID and ORCPT are xtext in the envelope and are decoded for the
 *	report (RFC 3461 section 6.3).  Lines end with "\n" as in the spool.
 * DIAGNOSTICS
 *	Z_EPARSE with a reason in err for missing inputs (no recipient, no
 *	report address, no reporting host); Z_ETOOBIG when msg's limit is hit.
 * SECURITY
 *	Addresses, diagnostics, ENVID and ORCPT come from remote peers: in
 *	headers and in the delivery-status part every byte outside printable
 *	ASCII becomes '?', so no header or field can be injected; each
 *	diagnostic is cut at DSN_DIAG_MAX bytes.  The returned body is read
 *	with pread() and never more than body_cap bytes.
 * BUGS
 *	The MIME boundary is derived from the spool id and time; a returned
 *	message that contains exactly that line would confuse readers.
 *	message/global-delivery-status (RFC 6533) is not produced.
 * SEE ALSO
 *	RFC 3461, RFC 3464, RFC 6522, dsn.h, retry.h
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dsn.h"
#include "xtext.h"
#include "zutil.h"

#define DSN_DIAG_MAX 2000   /* bytes of one diagnostic kept in a report */

/* ST - run an append, keep the first failure in rc (appends after a
 * failure must not hide it) */
#define ST(x) do { int st_ = (x); if (st_ != Z_OK && rc == Z_OK) rc = st_; } while (0)

static const char *const dsn_names[] = { "failed", "delayed", "delivered", "relayed", "expanded" };

/* dsn_action_name - the RFC 3464 action word */
const char *dsn_action_name(enum dsn_action a)
{
	if ((unsigned)a < sizeof dsn_names / sizeof dsn_names[0])
		return dsn_names[a];
	return "failed";
}

/* dsn_action_parse - action word -> enum, -1 if unknown */
int dsn_action_parse(zspan s)
{
	s = zspan_trim(s);
	for (size_t i = 0; i < sizeof dsn_names / sizeof dsn_names[0]; i++)
		if (zspan_caseeq(s, dsn_names[i]))
			return (int)i;
	return -1;
}

/* dsn_status_valid - class "." subject "." detail */
int dsn_status_valid(zspan s)
{
	size_t i = 0, digits;

	if (s.n < 5 || s.p == NULL || (s.p[0] != '2' && s.p[0] != '4' && s.p[0] != '5') ||
	    s.p[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		digits = 0;
		while (i < s.n && isdigit((unsigned char)s.p[i]) && digits < 4) {
			i++;
			digits++;
		}
		if (digits == 0 || digits > 3)
			return 0;
		if (part == 0) {
			if (i >= s.n || s.p[i] != '.')
				return 0;
			i++;
		}
	}
	return i == s.n;
}

/* dsn_notary_parse - split on \001 into the six fields */
int dsn_notary_parse(zspan notary, dsn_notary *out)
{
	zspan *f[6] = { &out->final_recipient, &out->action, &out->status,
			&out->diagnostic, &out->remote_mta, &out->taname };
	size_t start = 0, k = 0;

	for (size_t i = 0; i < 6; i++)
		*f[i] = (zspan){ "", 0 };
	if (notary.p == NULL)
		return Z_OK;
	for (size_t i = 0; i <= notary.n && k < 6; i++) {
		if (i == notary.n || notary.p[i] == '\001') {
			*f[k++] = (zspan){ notary.p + start, i - start };
			start = i + 1;
		}
	}
	return Z_OK;
}

/* dsn_notify_allows - NOTIFY filter */
int dsn_notify_allows(zspan notify, enum dsn_action action)
{
	int failure = 0, delay = 0, success = 0;

	notify = zspan_trim(notify);
	if (zspan_startswith_case(notify, "NOTIFY=")) {
		notify.p += 7;
		notify.n -= 7;
	}
	if (notify.n == 0 || notify.p == NULL) {
		failure = 1;
	} else {
		zcur c;
		zspan item;
		zcur_init(&c, notify.p, notify.n);
		while (!zcur_eof(&c)) {
			if (zcur_take_until(&c, ',', &item) != Z_OK)
				zcur_take_rest(&c, &item);
			item = zspan_trim(item);
			if (zspan_caseeq(item, "NEVER"))
				return 0;
			if (zspan_caseeq(item, "FAILURE"))
				failure = 1;
			else if (zspan_caseeq(item, "DELAY"))
				delay = 1;
			else if (zspan_caseeq(item, "SUCCESS"))
				success = 1;
		}
		if (!failure && !delay && !success)
			failure = 1; /* nothing recognisable: the RFC 3461 default */
	}
	switch (action) {
	case DSN_FAILED:
		return failure;
	case DSN_DELAYED:
		return delay;
	case DSN_DELIVERED:
	case DSN_RELAYED:
	case DSN_EXPANDED:
		return success;
	}
	return 0;
}

/* dsn_should_report - may a report go to erraddr? */
int dsn_should_report(const char *erraddr, int sender_is_error_channel)
{
	zspan a;

	if (sender_is_error_channel || erraddr == NULL)
		return 0;
	a = zspan_trim(zspan_from(erraddr));
	if (a.n == 0 || zspan_eq(a, "<>"))
		return 0;
	return 1;
}

/* dsn_disposition - sender, postmaster, or nobody */
enum dsn_disp dsn_disposition(const char *erraddr, int sender_is_error_channel, int is_errormsg)
{
	if (is_errormsg)
		return DSN_DISCARD;
	if (dsn_should_report(erraddr, sender_is_error_channel))
		return DSN_TO_SENDER;
	return DSN_TO_POSTMASTER;
}

/* dsn_xtext_encode - RFC 3461 xtext of the C string s (mail/xtext.h) */
int dsn_xtext_encode(zbuf *out, const char *s)
{
	return xtext_encode(out, zspan_from(s));
}

/* dsn_xtext_decode - undo xtext (mail/xtext.h); out unchanged on Z_EPARSE */
int dsn_xtext_decode(zspan in, zbuf *out)
{
	return xtext_decode(out, in);
}

/* put_clean - append bytes with everything outside printable ASCII as '?' */
static int put_clean(zbuf *out, const char *p, size_t n)
{
	int rc = Z_OK;

	for (size_t i = 0; i < n && rc == Z_OK; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\t')
			c = ' ';
		rc = zbuf_putc(out, (c >= 32 && c <= 126) ? c : '?');
	}
	return rc;
}

/* puts_clean - put_clean of a C string */
static int puts_clean(zbuf *out, const char *s)
{
	return put_clean(out, s, strlen(s));
}

/* bare_addr - the address without surrounding <> and blanks */
static zspan bare_addr(const char *a)
{
	zspan s = zspan_trim(zspan_from(a != NULL ? a : ""));

	if (s.n >= 2 && s.p[0] == '<' && s.p[s.n - 1] == '>') {
		s.p++;
		s.n -= 2;
	}
	return zspan_trim(s);
}

/* put_date - RFC 5322 date */
static int put_date(zbuf *out, time_t t)
{
	char b[64];

	if (ztime_rfc5322(t, b, sizeof b) != Z_OK)
		return Z_ERR;
	return zbuf_puts(out, b);
}

/* has_type_prefix - "word;" at the start (diagnostic-type / mta-name-type) */
static int has_type_prefix(const char *s)
{
	const char *p = s;

	while (isalnum((unsigned char)*p) || *p == '-')
		p++;
	return p > s && *p == ';';
}

/* status_of - the status to print for a recipient */
static const char *status_of(const dsn_rcpt *rc)
{
	if (rc->status != NULL && dsn_status_valid(zspan_from(rc->status)))
		return rc->status;
	switch (rc->action) {
	case DSN_FAILED:
		return "5.0.0";
	case DSN_DELAYED:
		return "4.0.0";
	default:
		return "2.0.0";
	}
}

/* put_diag_lines - the CR-separated diagnostic, each line prefixed */
static int put_diag_lines(zbuf *out, const char *diag, const char *prefix, int clean)
{
	size_t n = strlen(diag), start = 0;
	int rc = Z_OK;

	if (n > DSN_DIAG_MAX)
		n = DSN_DIAG_MAX;
	for (size_t i = 0; i <= n && rc == Z_OK; i++) {
		if (i == n || diag[i] == '\r' || diag[i] == '\n') {
			if (i > start) {
				ST(zbuf_puts(out, prefix));
				if (clean)
					ST(put_clean(out, diag + start, i - start));
				else
					ST(zbuf_append(out, diag + start, i - start));
				ST(zbuf_putc(out, '\n'));
			}
			start = i + 1;
		}
	}
	return rc;
}

/* put_field_value - a delivery-status value with folded continuation lines */
static int put_folded(zbuf *out, const char *v)
{
	size_t n = strlen(v), start = 0;
	int first = 1, rc = Z_OK;

	if (n > DSN_DIAG_MAX)
		n = DSN_DIAG_MAX;
	for (size_t i = 0; i <= n && rc == Z_OK; i++) {
		if (i == n || v[i] == '\r' || v[i] == '\n') {
			zspan line = zspan_trim((zspan){ v + start, i - start });
			if (line.n > 0) {
				if (!first)
					ST(zbuf_puts(out, "\n    "));
				ST(put_clean(out, line.p, line.n));
				first = 0;
			}
			start = i + 1;
		}
	}
	ST(zbuf_putc(out, '\n'));
	return rc;
}

/* strip_smtp_type - "smtp; 550 x" -> "550 x" for the human part */
static const char *strip_type(const char *d)
{
	if (has_type_prefix(d)) {
		d = strchr(d, ';') + 1;
		while (*d == ' ')
			d++;
	}
	return d;
}

/* human_intro - first paragraph per action */
static const char *human_intro(enum dsn_action a, int double_fault)
{
	switch (a) {
	case DSN_FAILED:
		if (double_fault)
			return "A returned message (a notification without a return address)\n"
			       "could not be delivered to the recipient(s) below.  This is a\n"
			       "permanent failure; nothing more will be tried.\n";
		return "Your message could not be delivered to the recipient(s) below.\n"
		       "This is a permanent failure: the mail system has given up on\n"
		       "these addresses and will not try again.\n";
	case DSN_DELAYED:
		return "Your message has not been delivered yet to the recipient(s) below.\n"
		       "The mail system keeps trying; you do not need to send it again.\n";
	case DSN_DELIVERED:
		return "Your message was delivered to the recipient(s) below, as you asked\n"
		       "to be told.\n";
	case DSN_RELAYED:
		return "Your message was passed on to the recipient(s) below through a\n"
		       "system that does not send delivery notifications; you will not be\n"
		       "told more about its delivery.\n";
	case DSN_EXPANDED:
		return "Your message reached the mailing list or alias below, which passed\n"
		       "it on to its members.\n";
	}
	return "";
}

/* human_advice - what to do, per action (NULL: nothing) */
static const char *human_advice(enum dsn_action a, int double_fault)
{
	switch (a) {
	case DSN_FAILED:
		if (double_fault)
			return "What you can do: check why the address above does not accept\n"
			       "mail; the original notification is attached.\n";
		return "What you can do: check the address for typing mistakes and read the\n"
		       "remote server's reply above.  If you cannot fix the problem\n"
		       "yourself, reach the recipient another way or show this report to\n"
		       "your mail administrator.\n";
	case DSN_DELAYED:
		return "What you can do: nothing yet.  If the message cannot be delivered in\n"
		       "the end you will get another report.\n";
	default:
		return NULL;
	}
}

/* render_human - part 1 */
static int render_human(const dsn_report *r, zbuf *m, const char *ret_note)
{
	static const enum dsn_action order[] = { DSN_FAILED, DSN_DELAYED, DSN_RELAYED,
						 DSN_DELIVERED, DSN_EXPANDED };
	int rc = Z_OK;

	ST(zbuf_puts(m, "This is the mail system at "));
	ST(puts_clean(m, r->reporting_host));
	ST(zbuf_puts(m, ".\n"));
	if (r->double_fault)
		ST(zbuf_puts(m, "\nThis report goes to the postmaster because the message it is\n"
			     "about had no return address.\n"));
	for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
		int any = 0;
		for (size_t i = 0; i < r->nrcpts; i++) {
			const dsn_rcpt *rc1 = &r->rcpts[i];
			if (rc1->action != order[k])
				continue;
			if (!any) {
				ST(zbuf_putc(m, '\n'));
				ST(zbuf_puts(m, human_intro(order[k], r->double_fault)));
				any = 1;
			}
			ST(zbuf_puts(m, "\n  <"));
			ST(put_clean(m, bare_addr(rc1->addr).p, bare_addr(rc1->addr).n));
			ST(zbuf_printf(m, ">: %s (status %s)\n", dsn_action_name(rc1->action),
				    status_of(rc1)));
			if (rc1->remote_mta != NULL && *rc1->remote_mta) {
				ST(zbuf_puts(m, "    Remote server: "));
				ST(puts_clean(m, strip_type(rc1->remote_mta)));
				ST(zbuf_putc(m, '\n'));
			}
			if (rc1->diagnostic != NULL && *rc1->diagnostic) {
				ST(zbuf_puts(m, has_type_prefix(rc1->diagnostic) &&
						     strncasecmp(rc1->diagnostic, "smtp;", 5) == 0
					     ? "    The remote server said:\n"
					     : "    Reason:\n"));
				ST(put_diag_lines(m, strip_type(rc1->diagnostic), "      ", 1));
			}
			if (rc1->text != NULL && *rc1->text)
				ST(put_diag_lines(m, rc1->text, "    ", 1));
			if (rc1->last_attempt != 0) {
				ST(zbuf_puts(m, "    Last attempt: "));
				ST(put_date(m, rc1->last_attempt));
				ST(zbuf_putc(m, '\n'));
			}
			if (rc1->action == DSN_DELAYED && rc1->will_retry_until != 0) {
				ST(zbuf_puts(m, "    Will keep trying until: "));
				ST(put_date(m, rc1->will_retry_until));
				ST(zbuf_putc(m, '\n'));
			}
		}
		if (any && human_advice(order[k], r->double_fault) != NULL) {
			ST(zbuf_putc(m, '\n'));
			ST(zbuf_puts(m, human_advice(order[k], r->double_fault)));
		}
	}
	if (ret_note != NULL) {
		ST(zbuf_putc(m, '\n'));
		ST(zbuf_puts(m, ret_note));
	}
	ST(zbuf_putc(m, '\n'));
	return rc;
}

/* render_status - part 2 */
static int render_status(const dsn_report *r, zbuf *m)
{
	zbuf tmp = ZBUF_INIT(4096);
	int rc = Z_OK;

	if (r->envid != NULL && *r->envid) {
		ST(zbuf_puts(m, "Original-Envelope-Id: "));
		if (dsn_xtext_decode(zspan_from(r->envid), &tmp) == Z_OK)
			ST(put_clean(m, tmp.data ? tmp.data : "", tmp.len));
		else
			ST(puts_clean(m, r->envid));
		ST(zbuf_putc(m, '\n'));
	}
	ST(zbuf_puts(m, "Reporting-MTA: dns; "));
	ST(puts_clean(m, r->reporting_host));
	ST(zbuf_putc(m, '\n'));
	if (r->arrival != 0) {
		ST(zbuf_puts(m, "Arrival-Date: "));
		ST(put_date(m, r->arrival));
		ST(zbuf_putc(m, '\n'));
	}
	if (r->spoolid != NULL && *r->spoolid) {
		ST(zbuf_puts(m, "X-Zmta-Spool-Id: "));
		ST(puts_clean(m, r->spoolid));
		ST(zbuf_putc(m, '\n'));
	}
	for (size_t i = 0; i < r->nrcpts; i++) {
		const dsn_rcpt *rc1 = &r->rcpts[i];
		zspan a = bare_addr(rc1->addr);

		ST(zbuf_putc(m, '\n'));
		if (rc1->orcpt != NULL && *rc1->orcpt) {
			zspan o = zspan_trim(zspan_from(rc1->orcpt));
			long semi = zspan_chr(o, ';');
			zspan type = semi >= 0 ? zspan_trim((zspan){ o.p, (size_t)semi })
					       : zspan_from("rfc822");
			zspan val = semi >= 0 ? zspan_trim((zspan){ o.p + semi + 1, o.n - (size_t)semi - 1 })
					      : o;
			zbuf_reset(&tmp);
			ST(zbuf_puts(m, "Original-Recipient: "));
			ST(put_clean(m, type.p, type.n));
			ST(zbuf_putc(m, ';'));
			if (dsn_xtext_decode(val, &tmp) == Z_OK)
				ST(put_clean(m, tmp.data ? tmp.data : "", tmp.len));
			else
				ST(put_clean(m, val.p, val.n));
			ST(zbuf_putc(m, '\n'));
		}
		ST(zbuf_puts(m, "Final-Recipient: rfc822; "));
		ST(put_clean(m, a.p, a.n));
		ST(zbuf_printf(m, "\nAction: %s\nStatus: %s\n", dsn_action_name(rc1->action),
			    status_of(rc1)));
		if (rc1->remote_mta != NULL && *rc1->remote_mta) {
			ST(zbuf_puts(m, "Remote-MTA: "));
			if (!has_type_prefix(rc1->remote_mta))
				ST(zbuf_puts(m, "dns; "));
			ST(puts_clean(m, rc1->remote_mta));
			ST(zbuf_putc(m, '\n'));
		}
		if (rc1->diagnostic != NULL && *rc1->diagnostic) {
			ST(zbuf_puts(m, "Diagnostic-Code: "));
			if (!has_type_prefix(rc1->diagnostic))
				ST(zbuf_puts(m, "X-Zmta; "));
			ST(put_folded(m, rc1->diagnostic));
		}
		if (rc1->last_attempt != 0) {
			ST(zbuf_puts(m, "Last-Attempt-Date: "));
			ST(put_date(m, rc1->last_attempt));
			ST(zbuf_putc(m, '\n'));
		}
		if (rc1->action == DSN_DELAYED && rc1->will_retry_until != 0) {
			ST(zbuf_puts(m, "Will-Retry-Until: "));
			ST(put_date(m, rc1->will_retry_until));
			ST(zbuf_putc(m, '\n'));
		}
	}
	zbuf_free(&tmp);
	return rc;
}

/* read_body - pread the body into b (exactly len bytes) */
static int read_body(int fd, off_t off, size_t len, zbuf *b)
{
	char chunk[65536];
	size_t got = 0;

	while (got < len) {
		size_t want = len - got < sizeof chunk ? len - got : sizeof chunk;
		ssize_t k = pread(fd, chunk, want, off + (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return Z_EIO;
		if (zbuf_append(b, chunk, (size_t)k) != Z_OK)
			return Z_ETOOBIG;
		got += (size_t)k;
	}
	return Z_OK;
}

/* has_8bit - any byte > 127? */
static int has_8bit(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] > 127)
			return 1;
	return 0;
}

/* dsn_render - the whole report */
int dsn_render(const dsn_report *r, zbuf *env, zbuf *msg, zbuf *err)
{
	zbuf body = ZBUF_INIT(DSN_BODY_CAP);
	zbuf bnd = ZBUF_INIT(512);
	const char *ret_note = NULL;
	int rc = Z_OK, any_failed = 0, any_delayed = 0, any_relayed = 0, want_body;
	size_t cap;
	zspan hdr = ZSPAN_NULL, to;
	const char *subject;
	char bignote[160];

	if (r == NULL || r->reporting_host == NULL || *r->reporting_host == '\0') {
		if (err != NULL)
			zbuf_puts(err, "dsn: no reporting host");
		return Z_EPARSE;
	}
	to = bare_addr(r->to);
	if (to.n == 0) {
		if (err != NULL)
			zbuf_puts(err, "dsn: no address to send the report to");
		return Z_EPARSE;
	}
	if (r->nrcpts == 0 || r->rcpts == NULL) {
		if (err != NULL)
			zbuf_puts(err, "dsn: no recipients to report on");
		return Z_EPARSE;
	}
	for (size_t i = 0; i < r->nrcpts; i++) {
		if (r->rcpts[i].addr == NULL || bare_addr(r->rcpts[i].addr).n == 0) {
			if (err != NULL)
			zbuf_printf(err, "dsn: recipient %zu has no address", i);
			return Z_EPARSE;
		}
		any_failed |= r->rcpts[i].action == DSN_FAILED;
		any_delayed |= r->rcpts[i].action == DSN_DELAYED;
		any_relayed |= r->rcpts[i].action == DSN_RELAYED;
	}
	subject = any_failed ? "Delivery Status Notification (Failure)"
		: any_delayed ? "Delivery Status Notification (Delay)"
		: any_relayed ? "Delivery Status Notification (Relay)"
		: "Delivery Status Notification (Success)";

	/* the returned content */
	if (r->headers.p != NULL) {
		hdr = r->headers;
		while (hdr.n > 0 && (hdr.p[hdr.n - 1] == '\n' || hdr.p[hdr.n - 1] == '\r'))
			hdr.n--;
	}
	cap = r->body_cap ? r->body_cap : DSN_BODY_CAP;
	want_body = hdr.n > 0 && r->ret != DSN_RET_HDRS && any_failed && r->body_fd >= 0;
	if (hdr.n > 0 && r->ret == DSN_RET_HDRS)
		ret_note = "Only the headers of your message are attached, as you asked.\n";
	if (want_body && r->body_len > cap) {
		want_body = 0;
		snprintf(bignote, sizeof bignote,
			 "The original message was larger than %zu bytes, so only its\n"
			 "headers are attached.\n", cap);
		ret_note = bignote;
	}
	if (want_body) {
		body.max = cap + 1;
		if (read_body(r->body_fd, r->body_off, r->body_len, &body) != Z_OK) {
			want_body = 0;
			zbuf_reset(&body);
			ret_note = "The body of your message could not be read; only its headers\n"
				   "are attached.\n";
		}
	}

	/* envelope */
	ST(zbuf_puts(env, "channel error\nerrormsg\ntodsn NOTIFY=NEVER ORCPT=rfc822;"));
	{
		char *t = zspan_dup(to);
		if (t == NULL) {
			rc = Z_ENOMEM;
			goto out;
		}
		ST(dsn_xtext_encode(env, t));
		free(t);
	}
	ST(zbuf_puts(env, "\nto <"));
	ST(put_clean(env, to.p, to.n));
	ST(zbuf_puts(env, ">\n"));
	if (rc != Z_OK)
		goto out;

	/* boundary */
	ST(zbuf_printf(&bnd, "%s.%lld/", r->spoolid && *r->spoolid ? r->spoolid : "dsn",
		    (long long)r->now));
	ST(puts_clean(&bnd, r->reporting_host));

	/* headers */
	ST(zbuf_puts(msg, "From: Mail Delivery System <MAILER-DAEMON@"));
	ST(puts_clean(msg, r->reporting_host));
	ST(zbuf_puts(msg, ">\nTo: <"));
	ST(put_clean(msg, to.p, to.n));
	ST(zbuf_printf(msg, ">\nSubject: %s%s\nDate: ", r->double_fault ? "Double-fault: " : "",
		    subject));
	ST(put_date(msg, r->now));
	ST(zbuf_printf(msg, "\nMessage-Id: <%lld.", (long long)r->now));
	ST(puts_clean(msg, r->spoolid && *r->spoolid ? r->spoolid : "dsn"));
	ST(zbuf_puts(msg, ".DSN@"));
	ST(puts_clean(msg, r->reporting_host));
	ST(zbuf_puts(msg, ">\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
		       "Content-Type: multipart/report; report-type=delivery-status;\n"
		       "\tboundary=\""));
	ST(zbuf_append(msg, bnd.data, bnd.len));
	ST(zbuf_puts(msg, "\"\n"));
	int eightbit = (hdr.n > 0 && has_8bit(hdr.p, hdr.n)) ||
		       (want_body && has_8bit(body.data ? body.data : "", body.len));
	if (eightbit)
		ST(zbuf_puts(msg, "Content-Transfer-Encoding: 8bit\n"));
	ST(zbuf_puts(msg, "\nThis is a MIME-formatted delivery status notification.\n"));

	/* part 1 */
	ST(zbuf_printf(msg, "\n--%s\n", zbuf_cstr(&bnd)));
	ST(zbuf_puts(msg, "Content-Type: text/plain; charset=us-ascii\n"
		       "Content-Description: Notification\n\n"));
	ST(render_human(r, msg, ret_note));
	if (rc != Z_OK)
		goto out;

	/* part 2 */
	ST(zbuf_printf(msg, "--%s\n", zbuf_cstr(&bnd)));
	ST(zbuf_puts(msg, "Content-Type: message/delivery-status\n"
		       "Content-Description: Delivery report\n\n"));
	ST(render_status(r, msg));
	if (rc != Z_OK)
		goto out;

	/* part 3 */
	if (hdr.n > 0) {
		ST(zbuf_printf(msg, "\n--%s\n", zbuf_cstr(&bnd)));
		if (want_body) {
			ST(zbuf_puts(msg, "Content-Type: message/rfc822\n"
				       "Content-Description: Undelivered message\n"));
		} else {
			ST(zbuf_puts(msg, "Content-Type: text/rfc822-headers\n"));
			ST(zbuf_printf(msg, "Content-Description: %s\n",
				    any_failed ? "Undelivered message headers" : "Message headers"));
		}
		if (eightbit)
			ST(zbuf_puts(msg, "Content-Transfer-Encoding: 8bit\n"));
		ST(zbuf_putc(msg, '\n'));
		ST(zbuf_append(msg, hdr.p, hdr.n));
		ST(zbuf_putc(msg, '\n'));
		if (want_body) {
			ST(zbuf_putc(msg, '\n'));
			ST(zbuf_append(msg, body.data ? body.data : "", body.len));
			if (body.len > 0 && body.data[body.len - 1] != '\n')
				ST(zbuf_putc(msg, '\n'));
		}
	}
	ST(zbuf_printf(msg, "\n--%s--\n", zbuf_cstr(&bnd)));
out:
	if (rc == Z_ETOOBIG && err != NULL && err->len == 0)
		zbuf_puts(err, "dsn: report too large for the message buffer");
	zbuf_free(&body);
	zbuf_free(&bnd);
	return rc;
}
