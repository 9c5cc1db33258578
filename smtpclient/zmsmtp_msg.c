/*
 * NAME
 *	zmsmtp_msg - the message a libzmsmtp call sends, and a MIME builder
 * SUMMARY
 *	Envelope from options or headers; the copy sent without Bcc and
 *	with Date, Message-ID and From added; the Bcc recipients' digest;
 *	addresses qualified; a small
 *	builder for a text body with attachments.
 * SYNOPSIS
 *	#include "zmsmtp_int.h"
 *	int zmsmtp_env_build(const zmsmtp_opts *o, const char *msg, size_t len,
 *	                     zmsmtp_env *e, zbuf *err);
 *	int zmsmtp_prepare(const zmsmtp_opts *o, const char *msg, size_t len,
 *	                   char **out, size_t *outlen, char *err, size_t errsz);
 *	zmsmtp_mime *zmsmtp_mime_new(const char *text, const char *charset);
 *	int zmsmtp_mime_header(zmsmtp_mime *m, const char *name, const char *value);
 *	int zmsmtp_mime_attach(zmsmtp_mime *m, const char *filename, const char *type,
 *	                       const void *data, size_t len);
 *	int zmsmtp_mime_render(zmsmtp_mime *m, char **out, size_t *outlen);
 *	void zmsmtp_mime_free(zmsmtp_mime *m);
 * DESCRIPTION
 *	The originator is o->originator, else the first address of an extra
 *	From header (o->headers), else of the message's Resent-From, else
 *	its From.  The recipients are o->recipients, else the extra To, Cc
 *	and Bcc headers, else the message's Resent-To/-Cc/-Bcc when it has
 *	any, else its To, Cc and Bcc; the Bcc (Resent-Bcc) ones taken from
 *	headers go to e->bcc and get, instead of the copy, a digest
 *	(Tcllib's rule): Subject "[Bcc] <subject>", the copy's From, To
 *	"undisclosed-recipients:;", Date and Message-ID, and a
 *	multipart/digest body whose one part is the copy as message/rfc822,
 *	under a boundary that does not occur in it.  The copy sent keeps the message's
 *	fields in order except Bcc and Resent-Bcc, and except a field that
 *	an extra header of the same name replaces; extra headers follow;
 *	then Date, Message-ID and From when missing (unless
 *	o->no_addheaders).  With o->qualify, an address without a domain
 *	in the envelope, From, To and Cc gets "@domain".  The builder
 *	encodes the text as 7bit or quoted-printable and an attachment as
 *	7bit (short-lined ASCII), quoted-printable (text types) or base64.
 * DIAGNOSTICS
 *	Z_EPARSE for a header that does not parse, an extra header with CR,
 *	LF or a bad name, no originator or no recipient; Z_ETOOBIG for too
 *	many recipients or a message over ZMSMTP_MSG_MAX.
 * SECURITY
 *	Header values and caller strings are untrusted: names and values
 *	with CR/LF are refused; addresses are parsed by mail/mheader.c and
 *	rejected by zmsmtp_addr_ok() later when unusable.
 * BUGS
 *	Qualifying re-writes an address-list field as "name <addr>" and
 *	drops comments.  Group syntax keeps the addresses, not the group.
 * SEE ALSO
 *	libzmsmtp(3), smtpsend(1), RFC 5322, 2045, 2046 (multipart/digest)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "zerr.h"
#include "zutil.h"
#include "mheader.h"
#include "mime.h"
#include "smtp_sasl.h"
#include "zmsmtp_int.h"

#define FIELDS_MAX 1000
#define ADDRS_MAX 1000

/* zmsmtp_env_init - empty envelope */
void zmsmtp_env_init(zmsmtp_env *e)
{
	memset(e, 0, sizeof(*e));
	zbuf_init(&e->sender, 1024);
	zbuf_init(&e->msg, ZMSMTP_MSG_MAX + 65536);
	zbuf_init(&e->digest, ZMSMTP_MSG_MAX + 2 * 65536);
}

/* zmsmtp_env_free - release the envelope */
void zmsmtp_env_free(zmsmtp_env *e)
{
	for (size_t i = 0; i < e->nrcpt; i++)
		free(e->rcpt[i]);
	free(e->rcpt);
	for (size_t i = 0; i < e->nbcc; i++)
		free(e->bcc[i]);
	free(e->bcc);
	zbuf_free(&e->sender);
	zbuf_free(&e->msg);
	zbuf_free(&e->digest);
	memset(e, 0, sizeof(*e));
}

/* qualify - addr, with "@dom" appended when it has no domain and dom is set */
static int qualify(const char *addr, size_t n, const char *dom, zbuf *out)
{
	zbuf_reset(out);
	if (zbuf_append(out, addr, n) != Z_OK)
		return Z_ETOOBIG;
	if (dom != NULL && dom[0] != '\0' && n > 0 && memchr(addr, '@', n) == NULL)
		return zbuf_printf(out, "@%s", dom);
	return Z_OK;
}

/* add_rcpt - append one recipient (qualified) */
static int add_rcpt(zmsmtp_env *e, const char *a, size_t n, const char *dom, int bcc, zbuf *err)
{
	zbuf q = ZBUF_INIT(1024);
	char **nv, ***list = bcc ? &e->bcc : &e->rcpt;
	size_t *cnt = bcc ? &e->nbcc : &e->nrcpt;
	int rc = Z_ETOOBIG;

	if (e->nrcpt + e->nbcc >= ZMSMTP_RCPT_MAX) {
		zbuf_printf(err, "more than %d recipients", ZMSMTP_RCPT_MAX);
		goto done;
	}
	if (qualify(a, n, dom, &q) != Z_OK) {
		zbuf_puts(err, "recipient address too long");
		goto done;
	}
	nv = realloc(*list, (*cnt + 1) * sizeof(*nv));
	if (nv == NULL) {
		zbuf_puts(err, "out of memory");
		goto done;
	}
	*list = nv;
	nv[*cnt] = strdup(zbuf_cstr(&q));
	if (nv[*cnt] == NULL) {
		zbuf_puts(err, "out of memory");
		goto done;
	}
	(*cnt)++;
	rc = Z_OK;
done:
	zbuf_free(&q);
	return rc;
}

/* addrs_of - every address of an address-list value into e's recipients
 * (ADDR_RCPT) or Bcc recipients (ADDR_BCC), or the first into e->sender
 * (ADDR_SENDER) */
enum { ADDR_RCPT = 0, ADDR_SENDER, ADDR_BCC };
static int addrs_of(zspan value, zmsmtp_env *e, int mode, const char *dom, zbuf *err)
{
	zbuf text = ZBUF_INIT(1u << 20);
	mhdr_addr *a = calloc(ADDRS_MAX, sizeof(*a));
	size_t n = 0;
	int rc = Z_EPARSE;

	if (a == NULL) {
		zbuf_puts(err, "out of memory");
		goto done;
	}
	if (mhdr_addrlist(value, &text, a, ADDRS_MAX, &n, err) != Z_OK)
		goto done;
	for (size_t i = 0; i < n; i++) {
		const char *p = text.data + a[i].addr_off;
		if (mode == ADDR_SENDER) {
			rc = qualify(p, a[i].addr_len, dom, &e->sender);
			goto done;
		}
		if ((rc = add_rcpt(e, p, a[i].addr_len, dom, mode == ADDR_BCC, err)) != Z_OK)
			goto done;
	}
	rc = Z_OK;
done:
	free(a);
	zbuf_free(&text);
	return rc;
}

/* requalify - an address-list field with every address qualified */
static int requalify(const mhdr_field *f, const char *dom, zbuf *out, zbuf *err)
{
	zbuf text = ZBUF_INIT(1u << 20), q = ZBUF_INIT(1024);
	mhdr_addr *a = calloc(ADDRS_MAX, sizeof(*a));
	size_t n = 0;
	int rc = Z_EPARSE;

	if (a == NULL || mhdr_addrlist(f->value, &text, a, ADDRS_MAX, &n, err) != Z_OK)
		goto keep;
	zbuf_append(out, f->name.p, f->name.n);
	zbuf_puts(out, ":");
	for (size_t i = 0; i < n; i++) {
		qualify(text.data + a[i].addr_off, a[i].addr_len, dom, &q);
		zbuf_puts(out, i ? ",\r\n " : " ");
		if (a[i].name_len > 0)
			zbuf_printf(out, "\"%.*s\" ", (int)a[i].name_len, text.data + a[i].name_off);
		zbuf_printf(out, "<%s>", zbuf_cstr(&q));
	}
	zbuf_puts(out, "\r\n");
	rc = Z_OK;
	goto done;
keep:
	zbuf_reset(err);
	zbuf_append(out, f->raw.p, f->raw.n);
	zbuf_puts(out, "\r\n");
	rc = Z_OK;
done:
	free(a);
	zbuf_free(&text);
	zbuf_free(&q);
	return rc;
}

/* extra - the value of extra header name (last one), or NULL */
static const char *extra(const zmsmtp_opts *o, const char *name)
{
	const char *v = NULL;
	for (size_t i = 0; i < o->nheaders; i++)
		if (strcasecmp(o->headers[2 * i], name) == 0)
			v = o->headers[2 * i + 1];
	return v;
}

/* has_field - the message has a field of that name */
static int has_field(const mhdr_field *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (mhdr_name_is(&f[i], name))
			return 1;
	return 0;
}

/* safe_text - no CR, LF or NUL */
static int safe_text(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

/* safe_name - a field name: printable ASCII, no colon, no blank */
static int safe_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s <= 32 || *s >= 127 || *s == ':')
			return 0;
	return 1;
}

/* digest - the Bcc recipients' message (Tcllib's): a multipart/digest
 * whose one part is the copy as message/rfc822, Subject "[Bcc] <the
 * copy's subject>", From as the copy's */
static int digest(const zmsmtp_opts *o, const mhdr_field *f, size_t nf, zmsmtp_env *e, zbuf *err)
{
	unsigned long seq = 0;	/* per call: the library keeps no process state */
	zbuf *d = &e->digest;
	char b[128];
	const char *ev;
	zspan subj = { "", 0 };
	int found = 0;

	/* a boundary that does not occur in the copy */
	do {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(b, sizeof(b), "=_zmsmtp_bcc_%lld.%ld.%ld.%lu", (long long)ts.tv_sec, ts.tv_nsec,
			 (long)getpid(), ++seq);
	} while (memmem(e->msg.data, e->msg.len, b, strlen(b)) != NULL);
	zbuf_reset(d);
	if ((ev = extra(o, "From")) != NULL) {
		zbuf_printf(d, "From: %s\r\n", ev);
	} else {
		for (size_t i = 0; i < nf && !found; i++)
			if (mhdr_name_is(&f[i], "From")) {
				zbuf_append(d, f[i].raw.p, f[i].raw.n);
				zbuf_puts(d, "\r\n");
				found = 1;
			}
		if (!found)
			zbuf_printf(d, "From: <%s>\r\n", zbuf_cstr(&e->sender));
	}
	zbuf_puts(d, "To: undisclosed-recipients:;\r\n");
	if ((ev = extra(o, "Subject")) != NULL) {
		subj = zspan_from(ev);
	} else {
		for (size_t i = 0; i < nf; i++)
			if (mhdr_name_is(&f[i], "Subject")) {
				subj = f[i].value;
				break;
			}
	}
	while (subj.n > 0 && (subj.p[0] == ' ' || subj.p[0] == '\t')) {
		subj.p++;
		subj.n--;
	}
	zbuf_puts(d, "Subject: [Bcc]");
	if (subj.n > 0) {
		zbuf_putc(d, ' ');
		zbuf_append(d, subj.p, subj.n);
	}
	zbuf_puts(d, "\r\n");
	if (!o->no_addheaders) {
		char date[64], host[256] = "localhost";
		struct timespec ts;
		if (o->client != NULL)
			(void)zstrlcpy(host, o->client, sizeof(host));
		else if (gethostname(host, sizeof(host) - 1) != 0)
			(void)zstrlcpy(host, "localhost", sizeof(host));
		if (ztime_rfc5322(time(NULL), date, sizeof(date)) == Z_OK)
			zbuf_printf(d, "Date: %s\r\n", date);
		clock_gettime(CLOCK_REALTIME, &ts);
		zbuf_printf(d, "Message-ID: <%lld.%ld.%ld.bcc@%s>\r\n", (long long)ts.tv_sec,
			    ts.tv_nsec, (long)getpid(), host);
	}
	zbuf_printf(d, "MIME-Version: 1.0\r\nContent-Type: multipart/digest; boundary=\"%s\"\r\n\r\n"
		    "--%s\r\nContent-Type: message/rfc822\r\n\r\n", b, b);
	zbuf_append(d, e->msg.data, e->msg.len);
	if (e->msg.len > 0 && e->msg.data[e->msg.len - 1] != '\n')
		zbuf_puts(d, "\r\n");
	if (zbuf_printf(d, "\r\n--%s--\r\n", b) != Z_OK) {
		zbuf_puts(err, "message too large for the Bcc digest");
		return Z_ETOOBIG;
	}
	return Z_OK;
}

/* zmsmtp_env_build - envelope and the copy to send */
int zmsmtp_env_build(const zmsmtp_opts *o, const char *msg, size_t len, zmsmtp_env *e, zbuf *err)
{
	mhdr_field *f = calloc(FIELDS_MAX, sizeof(*f));
	size_t nf = 0, body = 0;
	const char *dom = o->qualify;
	int rc = Z_EPARSE, resent = 0;
	const char *ev;

	if (f == NULL) {
		zbuf_puts(err, "out of memory");
		rc = Z_ENOMEM;
		goto done;
	}
	if (len > ZMSMTP_MSG_MAX) {
		zbuf_printf(err, "message larger than %u bytes", ZMSMTP_MSG_MAX);
		rc = Z_ETOOBIG;
		goto done;
	}
	if (mhdr_split(msg, len, MHDR_FIELD_MAX, f, FIELDS_MAX, &nf, &body, err) != Z_OK)
		goto done;
	for (size_t i = 0; i < o->nheaders; i++) {
		if (!safe_name(o->headers[2 * i]) || !safe_text(o->headers[2 * i + 1])) {
			zbuf_printf(err, "extra header %zu: bad name or CR/LF in value", i + 1);
			goto done;
		}
	}
	/* originator */
	if (o->originator != NULL) {
		if (qualify(o->originator, strlen(o->originator), dom, &e->sender) != Z_OK)
			goto done;
	} else if ((ev = extra(o, "From")) != NULL) {
		if (addrs_of(zspan_from(ev), e, ADDR_SENDER, dom, err) != Z_OK)
			goto done;
	} else {
		for (size_t i = 0; i < nf && e->sender.len == 0; i++)
			if (mhdr_name_is(&f[i], "Resent-From") &&
			    addrs_of(f[i].value, e, ADDR_SENDER, dom, err) != Z_OK)
				goto done;
		for (size_t i = 0; i < nf && e->sender.len == 0; i++)
			if (mhdr_name_is(&f[i], "From") && addrs_of(f[i].value, e, ADDR_SENDER, dom, err) != Z_OK)
				goto done;
	}
	if (o->originator == NULL && e->sender.len == 0) {
		zbuf_puts(err, "no originator: give one or a From header");
		goto done;
	}
	/* recipients */
	if (o->recipients != NULL) {
		for (size_t i = 0; i < o->nrecipients; i++)
			if ((rc = add_rcpt(e, o->recipients[i], strlen(o->recipients[i]), dom, 0,
					   err)) != Z_OK)
				goto done;
	} else if (extra(o, "To") || extra(o, "Cc") || extra(o, "Bcc")) {
		static const char *const names[] = { "To", "Cc", "Bcc" };
		for (size_t k = 0; k < 3; k++)
			if ((ev = extra(o, names[k])) != NULL &&
			    (rc = addrs_of(zspan_from(ev), e, k == 2 ? ADDR_BCC : ADDR_RCPT, dom,
					   err)) != Z_OK)
				goto done;
	} else {
		resent = has_field(f, nf, "Resent-To") || has_field(f, nf, "Resent-Cc") ||
			 has_field(f, nf, "Resent-Bcc");
		for (size_t i = 0; i < nf; i++) {
			int take = resent ? (mhdr_name_is(&f[i], "Resent-To") || mhdr_name_is(&f[i], "Resent-Cc"))
				   : (mhdr_name_is(&f[i], "To") || mhdr_name_is(&f[i], "Cc"));
			int bcc = mhdr_name_is(&f[i], resent ? "Resent-Bcc" : "Bcc");
			if ((take || bcc) &&
			    (rc = addrs_of(f[i].value, e, bcc ? ADDR_BCC : ADDR_RCPT, dom, err)) != Z_OK)
				goto done;
		}
	}
	rc = Z_EPARSE;
	if (e->nrcpt + e->nbcc == 0) {
		zbuf_puts(err, "no recipients: give some or To/Cc/Bcc headers");
		goto done;
	}
	/* the copy */
	for (size_t i = 0; i < nf; i++) {
		char nm[128];
		size_t k = f[i].name.n < sizeof(nm) - 1 ? f[i].name.n : sizeof(nm) - 1;
		memcpy(nm, f[i].name.p, k);
		nm[k] = '\0';
		if (mhdr_name_is(&f[i], "Bcc") || mhdr_name_is(&f[i], "Resent-Bcc") || extra(o, nm))
			continue;
		if (dom != NULL && dom[0] != '\0' &&
		    (mhdr_name_is(&f[i], "From") || mhdr_name_is(&f[i], "To") || mhdr_name_is(&f[i], "Cc"))) {
			requalify(&f[i], dom, &e->msg, err);
			continue;
		}
		zbuf_append(&e->msg, f[i].raw.p, f[i].raw.n);
		zbuf_puts(&e->msg, "\r\n");
	}
	for (size_t i = 0; i < o->nheaders; i++) {
		if (strcasecmp(o->headers[2 * i], "Bcc") == 0)
			continue;
		zbuf_printf(&e->msg, "%s: %s\r\n", o->headers[2 * i], o->headers[2 * i + 1]);
	}
	if (!o->no_addheaders) {
		char host[256] = "localhost", date[64];
		if (o->client != NULL)
			(void)zstrlcpy(host, o->client, sizeof(host));
		else if (gethostname(host, sizeof(host) - 1) != 0)
			(void)zstrlcpy(host, "localhost", sizeof(host));
		if (!has_field(f, nf, "Date") && !extra(o, "Date") &&
		    ztime_rfc5322(time(NULL), date, sizeof(date)) == Z_OK)
			zbuf_printf(&e->msg, "Date: %s\r\n", date);
		if (!has_field(f, nf, "Message-ID") && !extra(o, "Message-ID")) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			zbuf_printf(&e->msg, "Message-ID: <%lld.%ld.%ld@%s>\r\n", (long long)ts.tv_sec,
				    ts.tv_nsec, (long)getpid(), host);
		}
		if (!has_field(f, nf, "From") && !extra(o, "From"))
			zbuf_printf(&e->msg, "From: <%s>\r\n", zbuf_cstr(&e->sender));
	}
	zbuf_puts(&e->msg, "\r\n");
	if (body < len && zbuf_append(&e->msg, msg + body, len - body) != Z_OK) {
		zbuf_puts(err, "message too large");
		rc = Z_ETOOBIG;
		goto done;
	}
	rc = e->msg.len > 0 ? Z_OK : Z_ENOMEM;
	if (rc == Z_OK && e->nbcc > 0)
		rc = digest(o, f, nf, e, err);
done:
	free(f);
	return rc;
}

/* zmsmtp_prepare - the copy zmsmtp_sendmessage would send */
int zmsmtp_prepare(const zmsmtp_opts *o, const char *msg, size_t len, char **out,
		   size_t *outlen, char *errbuf, size_t errsz)
{
	zmsmtp_env e;
	zbuf err = ZBUF_INIT(1024);
	int rc = -1;

	zmsmtp_env_init(&e);
	*out = NULL;
	*outlen = 0;
	if (zmsmtp_env_build(o, msg, len, &e, &err) != Z_OK)
		goto done;
	*out = malloc(e.msg.len + 1);
	if (*out == NULL) {
		zbuf_puts(&err, "out of memory");
		goto done;
	}
	memcpy(*out, e.msg.data, e.msg.len);
	(*out)[e.msg.len] = '\0';
	*outlen = e.msg.len;
	rc = 0;
done:
	if (errsz > 0)
		(void)zstrlcpy(errbuf, rc == 0 ? "" : zbuf_cstr(&err), errsz);
	zbuf_free(&err);
	zmsmtp_env_free(&e);
	return rc;
}

/* ---- the builder ---- */

struct zmsmtp_part {
	char *filename, *type;
	zbuf data;
};

struct zmsmtp_mime {
	zbuf hdrs;
	zbuf text;
	char charset[64];
	struct zmsmtp_part *parts;
	size_t nparts;
};

/* zmsmtp_mime_new - a message with a text body */
zmsmtp_mime *zmsmtp_mime_new(const char *text, const char *charset)
{
	zmsmtp_mime *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	zbuf_init(&m->hdrs, 1u << 20);
	zbuf_init(&m->text, ZMSMTP_MSG_MAX);
	(void)zstrlcpy(m->charset, charset && safe_text(charset) && strlen(charset) < 60 ?
		       charset : "utf-8", sizeof(m->charset));
	if (text != NULL && zbuf_puts(&m->text, text) != Z_OK) {
		zmsmtp_mime_free(m);
		return NULL;
	}
	return m;
}

/* zmsmtp_mime_header - add a header field */
int zmsmtp_mime_header(zmsmtp_mime *m, const char *name, const char *value)
{
	if (!safe_name(name) || !safe_text(value))
		return -1;
	return zbuf_printf(&m->hdrs, "%s: %s\r\n", name, value) == Z_OK ? 0 : -1;
}

/* zmsmtp_mime_attach - add an attachment */
int zmsmtp_mime_attach(zmsmtp_mime *m, const char *filename, const char *type,
		       const void *data, size_t len)
{
	struct zmsmtp_part *np;
	const char *fn = filename ? filename : "attachment";
	const char *ty = type ? type : "application/octet-stream";

	if (!safe_text(fn) || strchr(fn, '"') || !safe_text(ty) || strchr(ty, ';'))
		return -1;
	np = realloc(m->parts, (m->nparts + 1) * sizeof(*np));
	if (np == NULL)
		return -1;
	m->parts = np;
	np = &m->parts[m->nparts];
	memset(np, 0, sizeof(*np));
	zbuf_init(&np->data, ZMSMTP_MSG_MAX);
	np->filename = strdup(fn);
	np->type = strdup(ty);
	if (np->filename == NULL || np->type == NULL || zbuf_append(&np->data, data, len) != Z_OK) {
		free(np->filename);
		free(np->type);
		zbuf_free(&np->data);
		return -1;
	}
	m->nparts++;
	return 0;
}

enum { ENC_7BIT, ENC_QP, ENC_B64 };

/* pick_enc - 7bit for short-lined ASCII text, QP for other text, else base64 */
static int pick_enc(const char *p, size_t n, int text)
{
	size_t col = 0;
	int ascii = 1, longl = 0, ctl = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\n') {
			col = 0;
			continue;
		}
		if (++col > 998)
			longl = 1;
		if (c >= 0x80)
			ascii = 0;
		else if (c == 0 || (c < 32 && c != '\t' && c != '\r'))
			ctl = 1;
	}
	if (ascii && !longl && !ctl)
		return ENC_7BIT;
	return text && !ctl ? ENC_QP : ENC_B64;
}

/* put_body - data in encoding enc, CRLF line ends */
static int put_body(zbuf *out, const char *p, size_t n, int enc)
{
	zbuf tmp = ZBUF_INIT(ZMSMTP_MSG_MAX * 2);
	int rc = Z_OK, bol = 1;

	if (enc == ENC_B64) {
		rc = smtp_b64_encode(p, n, &tmp);
		for (size_t i = 0; rc == Z_OK && i < tmp.len; i += 76) {
			size_t k = tmp.len - i < 76 ? tmp.len - i : 76;
			if (zbuf_append(out, tmp.data + i, k) != Z_OK || zbuf_puts(out, "\r\n") != Z_OK)
				rc = Z_ETOOBIG;
		}
	} else {
		if (enc == ENC_QP)
			rc = mime_qp_encode(p, n, &tmp);
		else
			rc = zbuf_append(&tmp, p, n);
		if (rc == Z_OK)
			rc = mime_wire(tmp.data ? tmp.data : "", tmp.len, 0, &bol, out);
		if (rc == Z_OK && out->len > 0 && out->data[out->len - 1] != '\n')
			rc = zbuf_puts(out, "\r\n");
	}
	zbuf_free(&tmp);
	return rc;
}

static const char *const enc_name[] = { "7bit", "quoted-printable", "base64" };

/* zmsmtp_mime_render - the whole message */
int zmsmtp_mime_render(zmsmtp_mime *m, char **out, size_t *outlen)
{
	zbuf o = ZBUF_INIT(ZMSMTP_MSG_MAX * 2);
	const char *tp = m->text.data ? m->text.data : "";
	int te = pick_enc(tp, m->text.len, 1), rc = -1;
	char bnd[80];

	zbuf_append(&o, m->hdrs.data ? m->hdrs.data : "", m->hdrs.len);
	zbuf_puts(&o, "MIME-Version: 1.0\r\n");
	if (m->nparts == 0) {
		zbuf_printf(&o, "Content-Type: text/plain; charset=%s\r\n"
			    "Content-Transfer-Encoding: %s\r\n\r\n", m->charset, enc_name[te]);
		if (put_body(&o, tp, m->text.len, te) != Z_OK)
			goto done;
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(bnd, sizeof(bnd), "=_zmsmtp_%lld_%ld_%ld", (long long)ts.tv_sec, ts.tv_nsec,
			 (long)getpid());
		zbuf_printf(&o, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
			    "This is a MIME message.\r\n", bnd);
		zbuf_printf(&o, "--%s\r\nContent-Type: text/plain; charset=%s\r\n"
			    "Content-Transfer-Encoding: %s\r\n\r\n", bnd, m->charset, enc_name[te]);
		if (put_body(&o, tp, m->text.len, te) != Z_OK)
			goto done;
		for (size_t i = 0; i < m->nparts; i++) {
			struct zmsmtp_part *p = &m->parts[i];
			const char *d = p->data.data ? p->data.data : "";
			int e = pick_enc(d, p->data.len, strncasecmp(p->type, "text/", 5) == 0);
			if (e == ENC_7BIT && strncasecmp(p->type, "text/", 5) != 0)
				e = ENC_B64;
			zbuf_printf(&o, "--%s\r\nContent-Type: %s; name=\"%s\"\r\n"
				    "Content-Disposition: attachment; filename=\"%s\"\r\n"
				    "Content-Transfer-Encoding: %s\r\n\r\n", bnd, p->type, p->filename,
				    p->filename, enc_name[e]);
			if (put_body(&o, d, p->data.len, e) != Z_OK)
				goto done;
		}
		zbuf_printf(&o, "--%s--\r\n", bnd);
	}
	*out = malloc(o.len + 1);
	if (*out == NULL)
		goto done;
	memcpy(*out, o.data, o.len);
	(*out)[o.len] = '\0';
	*outlen = o.len;
	rc = 0;
done:
	zbuf_free(&o);
	return rc;
}

/* zmsmtp_mime_free - release a builder */
void zmsmtp_mime_free(zmsmtp_mime *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nparts; i++) {
		free(m->parts[i].filename);
		free(m->parts[i].type);
		zbuf_free(&m->parts[i].data);
	}
	free(m->parts);
	zbuf_free(&m->hdrs);
	zbuf_free(&m->text);
	free(m);
}
