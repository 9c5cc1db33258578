/*
 * NAME
 *	smlib - option parsing, input filtering, header rewriting and the
 *	envelope of sendmail(8)
 * SUMMARY
 *	Everything sendmail does to its arguments and its input that can be
 *	decided without the file system, so that unit tests can drive it.
 * SYNOPSIS
 *	int sm_opts_parse(int argc, char **argv, sm_opts *o, zbuf *err);
 *	int sm_notify_parse(const char *s, unsigned *bits, zbuf *err);
 *	void sm_in_init(sm_in *in, int iflag);
 *	int sm_in_feed(sm_in *in, const char *p, size_t n, zbuf *out);
 *	int sm_in_finish(sm_in *in, zbuf *out);
 *	int sm_header_end(const char *t, size_t n, int eof, size_t *skip,
 *		size_t *hdr_len, size_t *body_off, int *need_blank);
 *	void sm_rcpts_init(sm_rcpts *r, size_t max);
 *	void sm_rcpts_free(sm_rcpts *r);
 *	int sm_rcpts_add_list(sm_rcpts *r, zspan list, zbuf *err);
 *	int sm_header_rewrite(const sm_hctx *h, const char *hdr, size_t n,
 *		zbuf *out, sm_rcpts *r, zbuf *err);
 *	int sm_from_value(const char *name, const char *addr, zbuf *out);
 *	int sm_gecos_name(const char *gecos, const char *login, zbuf *out);
 *	int sm_sender_parse(const char *s, zbuf *out, zbuf *err);
 *	int sm_name_in_list(const char *list, const char *login);
 *	int sm_envelope(const sm_env *e, zbuf *out, zbuf *err);
 * DESCRIPTION
 *	Options follow sendmail 8 and ZMailer's sendmail (getopt string
 *	"A:B:b:C:D:d:Ee:F:f:Gh:iJL:mN:nO:o:p:q::R:r:stUV:vX:x", options end
 *	at the first operand); those zmta has no use for are accepted and
 *	counted in o->ignored (sendmail(8) lists them).  The input filter
 *	turns CRLF into LF and, without -i, stops at a line holding only
 *	"."; other lines are kept as they are (no dot unstuffing, as in
 *	sendmail and Postfix).  sm_header_end finds the end of the header:
 *	an empty line, or the first line that is neither a field nor a
 *	continuation (that line starts the body).  A leading mbox "From "
 *	line is dropped.  sm_header_rewrite removes Bcc and Resent-Bcc
 *	(always, as Postfix does; with -t their addresses still receive
 *	the message), collects -t recipients with the mail/mheader
 *	address-list parser, and adds the missing fields.  Recipients are
 *	kept once each, in order.
 * DIAGNOSTICS
 *	Z_OK; Z_EPARSE, Z_ETOOBIG or Z_ENOMEM with a one-line reason in the
 *	caller's err.  Reasons never echo more than the option letter.
 * SECURITY
 *	argv and the message are untrusted.  Every buffer is a bounded zbuf;
 *	the header is bounded by the caller (SM_HEADER_MAX), a field by
 *	SM_FIELD_MAX, the field count by SM_FIELDS_MAX and the recipients by
 *	SM_RCPT_MAX.  Addresses with control bytes are refused, so no
 *	envelope line can be forged through a value.  Whether a sender may
 *	be believed is the caller's decision (trusted users); this file only
 *	formats.
 * BUGS
 *	The Date: added is in UTC.  Encoded words in -F names are not
 *	produced: 8-bit names are written as they are.
 * SEE ALSO
 *	sendmail(8), zmta-spool(5), mail/mheader.h, mail/maddr.h
 */
#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "maddr.h"
#include "mheader.h"
#include "mparam.h"
#include "xtext.h"
#include "smlib.h"

/* opt_usage - "sendmail: <what>" into err, Z_EPARSE */
static int opt_usage(zbuf *err, const char *what, int letter)
{
	if (letter)
		zbuf_printf(err, "%s -%c", what, letter);
	else
		zbuf_puts(err, what);
	return Z_EPARSE;
}

/* truthy - a -O value that means yes ("" counts as yes) */
static int truthy(const char *v)
{
	return v == NULL || *v == '\0' || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
	       strcmp(v, "1") == 0 || strcasecmp(v, "t") == 0 || strcasecmp(v, "y") == 0;
}

/* errmode_ok - an -oe / -e letter */
static int errmode_ok(int c)
{
	return c == 'p' || c == 'q' || c == 'm' || c == 'w' || c == 'e';
}

/* sm_opts_parse - sendmail's command line */
int sm_opts_parse(int argc, char **argv, sm_opts *o, zbuf *err)
{
	static const char optstring[] = "+:A:B:b:C:D:d:Ee:F:f:Gh:iJL:mN:nO:o:p:q::R:r:stUV:vX:x";
	int c;

	memset(o, 0, sizeof(*o));
	o->mode = SM_MODE_DELIVER;
	o->errmode = 'p';
	optind = 0;     /* glibc: full re-initialisation */
	opterr = 0;
	while ((c = getopt(argc, argv, optstring)) != -1) {
		switch (c) {
		case 'b':
			if (strcmp(optarg, "m") == 0)
				o->mode = SM_MODE_DELIVER;
			else if (strcmp(optarg, "s") == 0)
				o->mode = SM_MODE_SMTP;
			else if (strcmp(optarg, "p") == 0)
				o->mode = SM_MODE_PRINTQ;
			else if (strcmp(optarg, "i") == 0)
				o->mode = SM_MODE_NEWALIASES;
			else if (strcmp(optarg, "d") == 0 || strcmp(optarg, "D") == 0)
				return opt_usage(err, "-bd: zmta has no sendmail daemon mode; "
					      "start the mail system with \"zmta start\"", 0);
			else {
				zbuf_printf(err, "unsupported mode -b%.20s: only -bm, -bs, -bp and "
					    "-bi are supported", optarg);
				return Z_EPARSE;
			}
			break;
		case 't': o->tflag = 1; break;
		case 'i': o->iflag = 1; break;
		case 'v': o->verbose = 1; break;
		case 'E': o->external = 1; break;
		case 'f':
		case 'r':
			if (o->from != NULL)
				return opt_usage(err, "more than one sender given with", c);
			o->from = optarg;
			break;
		case 'F': o->fullname = optarg; break;
		case 'N':
			if (sm_notify_parse(optarg, &o->notify, err) != Z_OK)
				return Z_EPARSE;
			break;
		case 'R':
			if (strcasecmp(optarg, "full") == 0)
				o->ret = "FULL";
			else if (strcasecmp(optarg, "hdrs") == 0)
				o->ret = "HDRS";
			else
				return opt_usage(err, "-R takes \"full\" or \"hdrs\"", 0);
			break;
		case 'V':
			if (*optarg == '\0')
				return opt_usage(err, "empty envelope id given with", c);
			o->envid = optarg;
			break;
		case 'B':
			if (strcasecmp(optarg, "8bitmime") == 0)
				o->bodytype = "8BITMIME";
			else if (strcasecmp(optarg, "7bit") == 0)
				o->bodytype = "7BIT";
			else
				o->ignored++;
			break;
		case 'e':
			if (!errmode_ok((unsigned char)optarg[0]) || optarg[1] != '\0')
				return opt_usage(err, "error mode must be one of p q m w e:", c);
			o->errmode = optarg[0];
			break;
		case 'o':
			switch (optarg[0]) {
			case 'i':
				o->iflag = truthy(optarg + 1);
				break;
			case 'e':
				if (!errmode_ok((unsigned char)optarg[1]) || optarg[2] != '\0')
					return opt_usage(err, "error mode must be one of p q m w e: -oe", 0);
				o->errmode = optarg[1];
				break;
			case 'Q':
				if (optarg[1] == '\0')
					return opt_usage(err, "-oQ needs a postoffice directory", 0);
				o->postoffice = optarg + 1;
				break;
			default:
				o->ignored++;
				break;
			}
			break;
		case 'O': {
			size_t k = strcspn(optarg, "=");
			const char *v = optarg[k] == '=' ? optarg + k + 1 : NULL;

			if (k == 10 && strncasecmp(optarg, "IgnoreDots", 10) == 0)
				o->iflag = truthy(v);
			else if (k == 9 && strncasecmp(optarg, "ErrorMode", 9) == 0 && v != NULL &&
				 errmode_ok((unsigned char)v[0]))
				o->errmode = v[0];
			else
				o->ignored++;
			break;
		}
		case 'q':
			o->mode = SM_MODE_QUEUERUN;
			break;
		case 'A': case 'C': case 'D': case 'd': case 'G': case 'h': case 'J':
		case 'L': case 'm': case 'n': case 'p': case 's': case 'U': case 'X':
		case 'x':
			o->ignored++;
			break;
		case ':':
			return opt_usage(err, "missing argument for option", optopt);
		default:
			if (optopt > 32 && optopt < 127)
				return opt_usage(err, "unknown option", optopt);
			return opt_usage(err, "unknown option", 0);
		}
	}
	o->rcpts = argv + optind;
	o->nrcpts = argc - optind;
	return Z_OK;
}

/* sm_notify_parse - -N list: blanks dropped, then mail/'s NOTIFY rule */
int sm_notify_parse(const char *s, unsigned *bits, zbuf *err)
{
	char v[128];
	size_t n = 0;

	for (const char *p = s; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\t')
			continue;
		if (n + 1 >= sizeof v)
			goto bad;	/* longer than any list without repeats */
		v[n++] = *p;
	}
	if (mparam_notify_parse((zspan){ v, n }, bits) == Z_OK)
		return Z_OK;
bad:
	zbuf_puts(err, "-N takes \"never\" or a comma list of success, failure, delay "
		  "(\"never\" alone)");
	return Z_EPARSE;
}

/* sm_in_init - fresh filter */
void sm_in_init(sm_in *in, int iflag)
{
	memset(in, 0, sizeof(*in));
	in->iflag = iflag;
	in->bol = 1;
}

/* sm_in_feed - CRLF -> LF, a lone "." ends the input unless -i */
int sm_in_feed(sm_in *in, const char *p, size_t n, zbuf *out)
{
	size_t start = out->len, i = 0;
	int rc = Z_OK;

	while (i < n && !in->done && rc == Z_OK) {
		unsigned char ch = (unsigned char)p[i];

		if (!in->cr && !in->dot && !in->bol && ch != '\r' && ch != '\n') {
			/* a run of ordinary bytes in mid-line */
			size_t j = i;
			while (j < n && p[j] != '\r' && p[j] != '\n')
				j++;
			rc = zbuf_append(out, p + i, j - i);
			i = j;
			continue;
		}
		i++;
		if (in->cr) {
			in->cr = 0;
			if (ch == '\n') {
				if (in->dot) {          /* ".\r\n" */
					in->dot = 0;
					in->done = 1;
					break;
				}
				rc = zbuf_putc(out, '\n');
				in->bol = 1;
				continue;
			}
			if (in->dot) {
				rc = zbuf_putc(out, '.');
				in->dot = 0;
			}
			if (rc == Z_OK)
				rc = zbuf_putc(out, '\r');
			in->bol = 0;
			if (rc != Z_OK)
				break;
		}
		if (in->dot) {
			if (ch == '\n') {
				in->dot = 0;
				in->done = 1;
				break;
			}
			if (ch == '\r') {
				in->cr = 1;
				continue;
			}
			in->dot = 0;
			rc = zbuf_putc(out, '.');
			in->bol = 0;
			if (rc != Z_OK)
				break;
		}
		if (ch == '\r') {
			in->cr = 1;
			continue;
		}
		if (ch == '\n') {
			rc = zbuf_putc(out, '\n');
			in->bol = 1;
			continue;
		}
		if (in->bol && ch == '.' && !in->iflag) {
			in->dot = 1;
			in->bol = 0;
			continue;
		}
		rc = zbuf_putc(out, ch);
		in->bol = 0;
	}
	if (out->len > start)
		in->bytes += out->len - start;
	return rc == Z_OK ? Z_OK : Z_ETOOBIG;
}

/* sm_in_finish - flush pending bytes, end with a newline */
int sm_in_finish(sm_in *in, zbuf *out)
{
	size_t start = out->len;
	int rc = Z_OK;

	if (!in->done) {
		if (in->dot) {
			/* "." or ".\r" as the last line: the end marker */
			in->dot = 0;
			in->cr = 0;
			in->bol = 1;    /* the output ends with the line before */
		} else if (in->cr) {
			rc = zbuf_putc(out, '\r');
			in->cr = 0;
			in->bol = 0;
		}
		if (rc == Z_OK && !in->bol)
			rc = zbuf_putc(out, '\n');
	}
	in->done = 1;
	in->bol = 1;
	if (out->len > start)
		in->bytes += out->len - start;
	return rc == Z_OK ? Z_OK : Z_ETOOBIG;
}

/* field_line - line s[0..n) starts a header field (name, blanks, ':') */
static int field_line(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (unsigned char)s[i] >= 33 && (unsigned char)s[i] <= 126 && s[i] != ':')
		i++;
	if (i == 0)
		return 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i < n && s[i] == ':';
}

/* sm_header_end - where the header block ends */
int sm_header_end(const char *t, size_t n, int eof, size_t *skip, size_t *hdr_len,
		  size_t *body_off, int *need_blank)
{
	size_t i = 0;
	int have_field = 0;

	*skip = 0;
	*need_blank = 0;
	if (n >= 5 && memcmp(t, "From ", 5) == 0) {
		const char *nl = memchr(t, '\n', n);

		if (nl == NULL && !eof)
			return 0;
		*skip = nl != NULL ? (size_t)(nl - t) + 1 : n;
		i = *skip;
	} else if (n < 5 && !eof && memcmp(t, "From ", n) == 0) {
		return 0;       /* cannot tell yet */
	}
	while (i < n) {
		const char *nl = memchr(t + i, '\n', n - i);
		size_t len, next;

		if (nl == NULL) {
			if (!eof)
				return 0;
			len = n - i;
			next = n;
		} else {
			len = (size_t)(nl - (t + i));
			next = i + len + 1;
		}
		if (len == 0) {
			*hdr_len = i;
			*body_off = next;
			return 1;
		}
		if ((t[i] == ' ' || t[i] == '\t') && have_field) {
			i = next;
			continue;
		}
		if (field_line(t + i, len)) {
			have_field = 1;
			i = next;
			continue;
		}
		*hdr_len = i;
		*body_off = i;
		*need_blank = 1;
		return 1;
	}
	if (!eof)
		return 0;
	*hdr_len = n;
	*body_off = n;
	return 1;
}

/* sm_rcpts_init - empty list bounded by max */
void sm_rcpts_init(sm_rcpts *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

/* sm_rcpts_free - release the list */
void sm_rcpts_free(sm_rcpts *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* has_ctl - a control byte (or DEL) in s[0..n) */
static int has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 32 || (unsigned char)s[i] == 127)
			return 1;
	return 0;
}

/* check_addr - an addr-spec from mheader is fit for the envelope */
static int check_addr(const char *a, size_t n, int has_domain, zbuf *err)
{
	maddr m;

	if (n == 0 || n > MADDR_PATH_MAX - 2 || has_ctl(a, n)) {
		zbuf_puts(err, "address is empty, too long or holds control characters");
		return Z_EPARSE;
	}
	if (has_domain && maddr_parse_addr(a, n, MADDR_UTF8, &m, err) != Z_OK)
		return Z_EPARSE;
	return Z_OK;
}

/* rcpts_add - one address, once */
static int rcpts_add(sm_rcpts *r, const char *a, size_t n)
{
	char *d;

	for (size_t i = 0; i < r->n; i++)
		if (strlen(r->v[i]) == n && memcmp(r->v[i], a, n) == 0)
			return Z_OK;
	if (r->n >= r->max)
		return Z_ETOOBIG;
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 16;
		char **nv;

		if (nc > r->max)
			nc = r->max;
		nv = realloc(r->v, nc * sizeof(*nv));
		if (nv == NULL)
			return Z_ENOMEM;
		r->v = nv;
		r->cap = nc;
	}
	d = zspan_dup((zspan){ a, n });
	if (d == NULL)
		return Z_ENOMEM;
	r->v[r->n++] = d;
	return Z_OK;
}

/* sm_rcpts_add_list - parse an address list, add each address once */
int sm_rcpts_add_list(sm_rcpts *r, zspan list, zbuf *err)
{
	size_t max = list.n / 2 + 1, na = 0;
	zbuf text = ZBUF_INIT(list.n * 2 + 64);
	mhdr_addr *addrs;
	int rc;

	if (max > SM_RCPT_MAX + 1)
		max = SM_RCPT_MAX + 1;
	addrs = calloc(max, sizeof(*addrs));
	if (addrs == NULL)
		return Z_ENOMEM;
	rc = mhdr_addrlist(list, &text, addrs, max, &na, err);
	for (size_t i = 0; rc == Z_OK && i < na; i++) {
		const char *a = text.data + addrs[i].addr_off;

		rc = check_addr(a, addrs[i].addr_len, addrs[i].has_domain, err);
		if (rc == Z_OK)
			rc = rcpts_add(r, a, addrs[i].addr_len);
		if (rc == Z_ETOOBIG)
			zbuf_printf(err, "more than %zu recipients", r->max);
	}
	free(addrs);
	zbuf_free(&text);
	return rc;
}

/* put_field - "Name: value\n" */
static int put_field(zbuf *out, const char *name, const char *value)
{
	return zbuf_printf(out, "%s: %s\n", name, value);
}

/* sm_header_rewrite - drop Bcc, add what is missing, collect -t recipients */
int sm_header_rewrite(const sm_hctx *h, const char *hdr, size_t n, zbuf *out, sm_rcpts *r,
		      zbuf *err)
{
	static const char *const plain[] = { "To", "Cc", "Bcc" };
	static const char *const resent[] = { "Resent-To", "Resent-Cc", "Resent-Bcc" };
	const char *const *which = plain;
	mhdr_field *f = NULL;
	size_t nf = 0;
	int have_from = 0, have_date = 0, have_msgid = 0, rc;

	f = calloc(SM_FIELDS_MAX, sizeof(*f));
	if (f == NULL)
		return Z_ENOMEM;
	rc = mhdr_split(hdr, n, SM_FIELD_MAX, f, SM_FIELDS_MAX, &nf, NULL, err);
	if (rc != Z_OK)
		goto out;
	for (size_t i = 0; i < nf; i++) {
		if (mhdr_name_is(&f[i], "From"))
			have_from = 1;
		else if (mhdr_name_is(&f[i], "Date"))
			have_date = 1;
		else if (mhdr_name_is(&f[i], "Message-ID"))
			have_msgid = 1;
		else if (mhdr_name_is(&f[i], "Resent-To") || mhdr_name_is(&f[i], "Resent-Cc") ||
			 mhdr_name_is(&f[i], "Resent-Bcc"))
			which = resent;
	}
	if (h->auth_warning != NULL)
		rc = put_field(out, "X-Authentication-Warning", h->auth_warning);
	for (size_t i = 0; i < nf && rc == Z_OK; i++) {
		int bcc = mhdr_name_is(&f[i], "Bcc") || mhdr_name_is(&f[i], "Resent-Bcc");

		if (h->tflag && (mhdr_name_is(&f[i], which[0]) || mhdr_name_is(&f[i], which[1]) ||
				 mhdr_name_is(&f[i], which[2]))) {
			zbuf why = ZBUF_INIT(512);

			rc = sm_rcpts_add_list(r, f[i].value, &why);
			if (rc != Z_OK) {
				zbuf_printf(err, "%.*s: header: %s", (int)(f[i].name.n < 40 ? f[i].name.n : 40),
					    f[i].name.p, zbuf_cstr(&why));
				zbuf_free(&why);
				break;
			}
			zbuf_free(&why);
		}
		if (bcc)
			continue;
		rc = zbuf_append(out, f[i].raw.p, f[i].raw.n);
		if (rc == Z_OK)
			rc = zbuf_putc(out, '\n');
	}
	if (rc == Z_OK && !have_from && h->from_hdr != NULL)
		rc = put_field(out, "From", h->from_hdr);
	if (rc == Z_OK && !have_date && h->date != NULL)
		rc = put_field(out, "Date", h->date);
	if (rc == Z_OK && !have_msgid && h->msgid != NULL)
		rc = put_field(out, "Message-ID", h->msgid);
	if (rc == Z_ETOOBIG && err != NULL && err->len == 0)
		zbuf_puts(err, "header too large");
out:
	free(f);
	return rc;
}

/* atext_or_space - byte needs no quoting in a display name */
static int atext_or_space(unsigned char c)
{
	return isalnum(c) || c >= 128 || c == ' ' || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* sm_from_value - display name and address for From: */
int sm_from_value(const char *name, const char *addr, zbuf *out)
{
	zbuf nm = ZBUF_INIT(1024);
	int rc = Z_OK, quote = 0;

	for (const char *p = name ? name : ""; *p && rc == Z_OK; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 32 || c == 127)
			continue;
		if (!atext_or_space(c))
			quote = 1;
		rc = zbuf_putc(&nm, c);
	}
	if (rc == Z_ETOOBIG)
		rc = Z_OK;      /* an absurd name is cut */
	{
		zspan t = zspan_trim((zspan){ nm.data ? nm.data : "", nm.len });

		if (rc == Z_OK && t.n == 0) {
			rc = zbuf_puts(out, addr);
		} else if (rc == Z_OK && !quote) {
			rc = zbuf_printf(out, "%.*s <%s>", (int)t.n, t.p, addr);
		} else if (rc == Z_OK) {
			rc = zbuf_putc(out, '"');
			for (size_t i = 0; i < t.n && rc == Z_OK; i++) {
				if (t.p[i] == '"' || t.p[i] == '\\')
					rc = zbuf_putc(out, '\\');
				if (rc == Z_OK)
					rc = zbuf_putc(out, (unsigned char)t.p[i]);
			}
			if (rc == Z_OK)
				rc = zbuf_printf(out, "\" <%s>", addr);
		}
	}
	zbuf_free(&nm);
	return rc;
}

/* sm_gecos_name - full name from a gecos field */
int sm_gecos_name(const char *gecos, const char *login, zbuf *out)
{
	int rc = Z_OK;

	for (const char *p = gecos ? gecos : ""; *p && *p != ',' && rc == Z_OK; p++) {
		if (*p == '&') {
			for (const char *l = login; *l && rc == Z_OK; l++)
				rc = zbuf_putc(out, l == login ? toupper((unsigned char)*l)
							      : (unsigned char)*l);
		} else {
			rc = zbuf_putc(out, (unsigned char)*p);
		}
	}
	return rc;
}

/* sm_sender_parse - -f address into an addr-spec ("" for <>) */
int sm_sender_parse(const char *s, zbuf *out, zbuf *err)
{
	zspan v = zspan_trim(zspan_from(s));
	zbuf text = ZBUF_INIT(v.n * 2 + 64);
	mhdr_addr a[2];
	size_t na = 0;
	int rc;

	if (v.n == 0 || zspan_eq(v, "<>"))
		return zbuf_set(out, "", 0);
	rc = mhdr_addrlist(v, &text, a, 2, &na, err);
	if (rc == Z_OK && na != 1) {
		zbuf_puts(err, "the sender must be exactly one address");
		rc = Z_EPARSE;
	}
	if (rc == Z_ETOOBIG) {
		zbuf_puts(err, "the sender must be exactly one address");
		rc = Z_EPARSE;
	}
	if (rc == Z_OK)
		rc = check_addr(text.data + a[0].addr_off, a[0].addr_len, a[0].has_domain, err);
	if (rc == Z_OK)
		rc = zbuf_set(out, text.data + a[0].addr_off, a[0].addr_len);
	zbuf_free(&text);
	return rc;
}

/* sm_name_in_list - login in a comma/blank separated list */
int sm_name_in_list(const char *list, const char *login)
{
	size_t ln = strlen(login);

	if (list == NULL || ln == 0)
		return 0;
	for (const char *p = list; *p;) {
		size_t k;

		p += strspn(p, ", \t");
		k = strcspn(p, ", \t");
		if (k == ln && memcmp(p, login, k) == 0)
			return 1;
		p += k;
	}
	return 0;
}

/* sm_envelope - the envelope lines of the submission file */
int sm_envelope(const sm_env *e, zbuf *out, zbuf *err)
{
	int rc = Z_OK;

	if (e->sender == NULL || has_ctl(e->sender, strlen(e->sender))) {
		zbuf_puts(err, "bad envelope sender");
		return Z_EPARSE;
	}
	if (e->external)
		rc = zbuf_puts(out, "external\n");
	if (rc == Z_OK && e->bodytype != NULL)
		rc = zbuf_printf(out, "bodytype %s\n", e->bodytype);
	if (rc == Z_OK)
		rc = e->sender[0] == '\0' ? zbuf_puts(out, "channel error\n")
					  : zbuf_printf(out, "from <%s>\n", e->sender);
	if (rc == Z_OK && e->envid != NULL) {
		zbuf x = ZBUF_INIT(4 * MPARAM_ENVID_MAX);
		size_t dl;

		rc = xtext_put(&x, zspan_from(e->envid));
		dl = rc == Z_OK ? xtext_decoded_len((zspan){ x.data, x.len }) : (size_t)-1;
		if (rc != Z_OK || dl == (size_t)-1 || dl > MPARAM_ENVID_MAX) {
			zbuf_printf(err, "the envelope id (-V) is longer than %d characters",
				    MPARAM_ENVID_MAX);
			zbuf_free(&x);
			return Z_EPARSE;
		}
		rc = zbuf_printf(out, "envid %s\n", zbuf_cstr(&x));
		zbuf_free(&x);
	}
	if (rc == Z_OK && e->ret != NULL)
		rc = zbuf_printf(out, "notaryret %s\n", e->ret);
	for (size_t i = 0; rc == Z_OK && i < e->rcpts->n; i++) {
		const char *a = e->rcpts->v[i];

		rc = zbuf_puts(out, "todsn ");
		if (rc == Z_OK && e->notify != 0) {
			rc = zbuf_puts(out, "NOTIFY=");
			if (rc == Z_OK)
				rc = mparam_notify_format(e->notify, out);
			if (rc == Z_OK)
				rc = zbuf_putc(out, ' ');
		}
		if (rc == Z_OK)
			rc = zbuf_puts(out, "ORCPT=rfc822;");
		if (rc == Z_OK)
			rc = xtext_encode(out, zspan_from(a));
		if (rc == Z_OK)
			rc = zbuf_printf(out, "\nto <%s>\n", a);
	}
	if (rc == Z_OK)
		rc = zbuf_puts(out, "env-end\n");
	if (rc != Z_OK && err != NULL && err->len == 0)
		zbuf_puts(err, "envelope too large");
	return rc;
}
