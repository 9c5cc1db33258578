/*
 * NAME
 *	ctlfile - control files in transport/: strict parser, exact writer,
 *	lock-byte patching, 'd' line appends
 * SUMMARY
 *	The one place that knows the byte layout of a ZMailer control file.
 * SYNOPSIS
 *	int ctl_parse(const char *data, size_t len, unsigned flags,
 *		ctl_file *out, zbuf *err);
 *	int ctl_read(int fd, unsigned flags, ctl_file *out, zbuf *err);
 *	void ctl_free(ctl_file *cf);
 *	const ctl_rcpt *ctl_find_rcpt(const ctl_file *cf, size_t off);
 *	long ctl_diag_dsn_line(const ctl_file *cf, const ctl_diag *d);
 *	int ctl_unquote_user(zspan user, zbuf *out);
 *	int ctlw_features(zbuf *o, unsigned long features);
 *	int ctlw_record(zbuf *o, char type, const char *value);
 *	int ctlw_sender(zbuf *o, const ctl_quadv *q);
 *	int ctlw_rcpt(zbuf *o, const ctl_quadv *q, size_t *off);
 *	int ctlw_headers(zbuf *o, const char *hdrs, size_t len);
 *	int ctl_commit(const char *transport_dir, const char *prefix,
 *		unsigned long ino, const zbuf *content, zbuf *err);
 *	int ctl_lock(int fd, size_t rcpt_off, char expected, char newtag,
 *		int pid, zbuf *err);
 *	int ctl_lock_hold(int fd, size_t rcpt_off, char expected, char newtag,
 *		int pid, ctl_hold *h, zbuf *err);
 *	int ctl_hold_set(int fd, size_t rcpt_off, const ctl_hold *h,
 *		char newtag, zbuf *err);
 *	void ctl_hold_drop(int fd, size_t rcpt_off, ctl_hold *h);
 *	int ctl_set_tag(int fd, size_t off, char expected, char newtag);
 *	int ctl_append_diag(int fd, const ctl_diagv *d, zbuf *err);
 * DESCRIPTION
 *	ctl_parse splits a control file into records (zmta-spool(5)) and
 *	builds the offset table: senders, recipients (with their N/R/n DSN
 *	data and the header block they use), diagnostics, T and x values.
 *	It refuses anything it does not understand with one line of text;
 *	the caller quarantines such a file, it never deletes it.
 *
 *	The writer functions produce byte-exact ZMailer records into a zbuf;
 *	ctl_commit makes the result durable (temp file, fsync, rename, fsync
 *	of the directory).  ctl_lock and ctl_set_tag patch tag bytes in
 *	place, each under an open-file-description range lock (F_OFD_SETLK)
 *	on the tag and pid slot, so the check of the old value and the write
 *	of the new one are one atomic step against every other process that
 *	uses them (agents and the scheduler).  Releasing a lock ('~' to
 *	anything) with a pid checks that the slot holds that pid: an agent or
 *	the scheduler settling an agent clears only that agent's locks; pid 0
 *	clears whoever's lock it is (stale locks).  ctl_lock_hold does what
 *	ctl_lock does and keeps the range lock: an agent holds it from taking
 *	a recipient to its report, so its report (ctl_hold_set) is one pwrite
 *	with no re-check, and the kernel drops the range lock when the agent
 *	closes the file or dies (a dead agent's '~' bytes stay for the
 *	scheduler to clear, as before; it waits for a dying holder up to the
 *	usual ~0.5 s).  ctl_append_diag appends
 *	one 'd' line with one write(2).  ctl_read reads a file shorter than
 *	4 KB with a single pread (a short count is the end of a regular
 *	file); a longer file, or one pread cannot read, is sized and checked
 *	with fstat first.
 * DIAGNOSTICS
 *	Z_OK; Z_EPARSE with the reason in err for a malformed file (and only
 *	then: the caller quarantines it); Z_ENOMEM / Z_EIO for system errors
 *	(the caller retries later); Z_ESTALE when a tag byte is not the
 *	expected one or a lock belongs to another pid; Z_EAGAIN when another
 *	process keeps the range lock of a tag for more than about 0.5 s.
 * SECURITY
 *	The file contents are outside data: every length is checked, NUL
 *	bytes and over-long files are refused, spans never leave cf->data.
 *	The body name from 'i' must be a plain file name (no '/').
 * BUGS
 *	A TA pid above 999999 does not fit the 6-byte slot; it is written
 *	modulo 1000000 (as wide as the ZMailer format allows).
 * SEE ALSO
 *	zmta-spool(5), spool(3)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zbuf.h"
#include "zlog.h"
#include "zutil.h"
#include "ctlfile.h"

/* ctl_read's first pread: a control file shorter than this is read and
 * parsed with one system call and no fstat */
#define CTL_READ_FIRST 4096

/* grow - make room for element n of a growable array */
static int grow(void **arr, size_t *cap, size_t n, size_t elsz)
{
	void *p;
	size_t ncap, bytes;

	if (n < *cap)
		return Z_OK;
	ncap = *cap ? *cap * 2 : 8;
	if (zsize_mul(ncap, elsz, &bytes) != Z_OK)
		return Z_ENOMEM;
	p = realloc(*arr, bytes);
	if (p == NULL)
		return Z_ENOMEM;
	*arr = p;
	*cap = ncap;
	return Z_OK;
}

/* parse state that is not part of the public result */
struct pstate {
	ctl_file *cf;
	zbuf *err;
	size_t cap_s, cap_r, cap_d, cap_t, cap_x;
	long cur_rcpt;       /* index of rcpt N/R/n attach to, -1 none */
	size_t group_start;  /* first rcpt without an 'm' block */
	zspan cur_err;       /* last 'e' value */
	int have_i, have_l, have_o, nrec;
};

static int perr(struct pstate *ps, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* perr - set the one-line reason "offset N: ..." */
static int perr(struct pstate *ps, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (ps->err) {
		zbuf_reset(ps->err);
		zbuf_printf(ps->err, "offset %zu: ", off);
		va_start(ap, fmt);
		zbuf_vprintf(ps->err, fmt, ap);
		va_end(ap);
	}
	return Z_EPARSE;
}

/* perr_nomem - "out of memory" is no parse error: Z_ENOMEM, retry later */
static int perr_nomem(struct pstate *ps, size_t off)
{
	(void)perr(ps, off, "out of memory");
	return Z_ENOMEM;
}

/* is_sp - space or TAB */
static int is_sp(char c)
{
	return c == ' ' || c == '\t';
}

/* take_field - token up to an unquoted, unescaped space/TAB; quotes kept */
static int take_field(const char *p, size_t n, size_t *pos, zspan *out, int quoting)
{
	size_t i = *pos, start = i;
	int inq = 0, depth = 0;

	while (i < n) {
		char c = p[i];
		if (quoting && c == '\\') {
			if (i + 1 >= n)
				return -1;
			i += 2;
			continue;
		}
		if (quoting && c == '"') {
			inq = !inq;
		} else if (!quoting && c == '(') {
			depth++;
		} else if (!quoting && c == ')') {
			if (depth > 0)
				depth--;
		} else if (is_sp(c) && !inq && depth == 0) {
			break;
		}
		i++;
	}
	if (inq || depth != 0 || i == start)
		return -1;
	out->p = p + start;
	out->n = i - start;
	*pos = i;
	return 0;
}

/* parse_quad - "channel host user privilege" over the whole span */
static int parse_quad(struct pstate *ps, size_t off, zspan v, ctl_quad *q)
{
	size_t pos = 0;
	zspan priv;

	memset(q, 0, sizeof(*q));
	if (take_field(v.p, v.n, &pos, &q->channel, 0) != 0)
		return perr(ps, off, "bad quad: empty channel");
	while (pos < v.n && is_sp(v.p[pos]))
		pos++;
	if (take_field(v.p, v.n, &pos, &q->host, 0) != 0)
		return perr(ps, off, "bad quad: missing or unbalanced host");
	while (pos < v.n && is_sp(v.p[pos]))
		pos++;
	if (take_field(v.p, v.n, &pos, &q->user, 1) != 0)
		return perr(ps, off, "bad quad: missing user or unterminated quote");
	while (pos < v.n && is_sp(v.p[pos]))
		pos++;
	if (take_field(v.p, v.n, &pos, &priv, 0) != 0)
		return perr(ps, off, "bad quad: missing privilege (4 fields needed)");
	if (pos != v.n)
		return perr(ps, off, "bad quad: more than 4 fields");
	if (zspan_to_long(priv, -2147483647L - 1, 2147483647L, &q->privilege) != Z_OK)
		return perr(ps, off, "bad quad: privilege \"%.*s\" is not a number",
			    (int)(priv.n > 20 ? 20 : priv.n), priv.p);
	return Z_OK;
}

/* parse_slot_pid - 6-byte "%6d" or blank slot */
static int parse_slot_pid(const char *p, int *pid)
{
	int i = 0, v = 0;

	while (i < 6 && p[i] == ' ')
		i++;
	for (; i < 6; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*pid = v;
	return 0;
}

/* slot_byte - a byte that may appear in a pid or delay slot */
static int slot_byte(char c)
{
	return c == ' ' || (c >= '0' && c <= '9');
}

/* parse_rcpt - 'r' or 'X' line; v starts after the tag */
static int parse_rcpt(struct pstate *ps, size_t off, char type, char tag, zspan v)
{
	ctl_file *cf = ps->cf;
	ctl_rcpt r;
	size_t pos = 0;
	int rc;

	if (cf->nsenders == 0)
		return perr(ps, off, "'%c' recipient before any 's' sender", type);
	memset(&r, 0, sizeof(r));
	r.off = off;
	r.tag = tag;
	r.xor_group = -1;
	r.sender = cf->nsenders - 1;
	r.dsn_off = -1;
	r.hdr_off = -1;
	/* pid slot: by feature bit, or (old files) by its first byte */
	if ((cf->features & 0x1ul) || (v.n > 0 && slot_byte(v.p[0]))) {
		if (v.n < 6 || parse_slot_pid(v.p, &r.pid) != 0)
			return perr(ps, off, "bad pid slot in '%c' line", type);
		pos = 6;
	}
	if ((cf->features & 0x2ul) || (pos < v.n && slot_byte(v.p[pos]))) {
		if (v.n - pos < 4)
			return perr(ps, off, "bad delay slot in '%c' line", type);
		for (size_t i = 0; i < 4; i++)
			if (!slot_byte(v.p[pos + i]))
				return perr(ps, off, "bad delay slot in '%c' line", type);
		pos += 4;
	}
	if (type == 'X') {
		unsigned long g = 0;
		size_t s = pos;
		while (pos < v.n && v.p[pos] >= '0' && v.p[pos] <= '9')
			pos++;
		if (pos == s || pos >= v.n || v.p[pos] != ' ' ||
		    zspan_to_ulong((zspan){ v.p + s, pos - s }, 1000000ul, &g) != Z_OK)
			return perr(ps, off, "bad XOR group number in 'X' line");
		r.xor_group = (int)g;
		pos++;
	}
	rc = parse_quad(ps, off, (zspan){ v.p + pos, v.n - pos }, &r.quad);
	if (rc != Z_OK)
		return rc;
	if ((rc = grow((void **)&cf->rcpts, &ps->cap_r, cf->nrcpts, sizeof(r))) != Z_OK)
		return perr_nomem(ps, off);
	cf->rcpts[cf->nrcpts] = r;
	ps->cur_rcpt = (long)cf->nrcpts;
	cf->nrcpts++;
	return Z_OK;
}

/* parse_dsn - 'N' line: NOTIFY= ORCPT= INRCPT= INFROM= BY= (others ignored) */
static int parse_dsn(struct pstate *ps, size_t off, zspan v)
{
	ctl_rcpt *r;
	size_t pos = 0;

	if (ps->cur_rcpt < 0)
		return perr(ps, off, "'N' line without a preceding recipient");
	r = &ps->cf->rcpts[ps->cur_rcpt];
	if (r->dsn_off >= 0)
		return perr(ps, off, "second 'N' line for the recipient at %zu", r->off);
	r->dsn_off = (long)off;
	while (pos < v.n) {
		size_t s;
		zspan tok, val;
		long eq;
		while (pos < v.n && is_sp(v.p[pos]))
			pos++;
		if (pos >= v.n)
			break;
		s = pos;
		while (pos < v.n && !is_sp(v.p[pos]))
			pos++;
		tok = (zspan){ v.p + s, pos - s };
		eq = zspan_chr(tok, '=');
		if (eq <= 0)
			return perr(ps, off, "bad 'N' parameter \"%.*s\" (no KEY=)",
				    (int)(tok.n > 30 ? 30 : tok.n), tok.p);
		val = (zspan){ tok.p + eq + 1, tok.n - (size_t)eq - 1 };
		tok.n = (size_t)eq;
		if (zspan_caseeq(tok, "NOTIFY"))
			r->notify = val;
		else if (zspan_caseeq(tok, "ORCPT"))
			r->orcpt = val;
		else if (zspan_caseeq(tok, "INRCPT"))
			r->inrcpt = val;
		else if (zspan_caseeq(tok, "INFROM"))
			r->infrom = val;
		else if (zspan_caseeq(tok, "BY"))
			r->by = val;
	}
	return Z_OK;
}

/* parse_long_field - signed decimal up to delim at *pos */
static int parse_long_field(zspan v, size_t *pos, char delim, long long *out)
{
	size_t s = *pos, i = *pos;
	long long x = 0;
	int neg = 0;

	if (i < v.n && v.p[i] == '-') {
		neg = 1;
		i++;
	}
	if (i >= v.n || v.p[i] < '0' || v.p[i] > '9')
		return -1;
	for (; i < v.n && v.p[i] >= '0' && v.p[i] <= '9'; i++) {
		if (x > (999999999999999999LL - 9) / 10)
			return -1;
		x = x * 10 + (v.p[i] - '0');
	}
	if (i >= v.n || v.p[i] != delim || i == s)
		return -1;
	*out = neg ? -x : x;
	*pos = i + 1;
	return 0;
}

/* parse_diag - "<r>:<h>:<n>:<dns>:<time>\t<notary>\t<text>" */
static int parse_diag(struct pstate *ps, size_t off, char tag, zspan v)
{
	ctl_file *cf = ps->cf;
	ctl_diag d;
	size_t pos = 0;
	long long x;
	long t2;

	memset(&d, 0, sizeof(d));
	d.off = off;
	d.tag = tag;
	if (parse_long_field(v, &pos, ':', &x) != 0 || x < 0 || x > 0x7fffffffffffLL)
		return perr(ps, off, "bad recipient offset in 'd' line");
	d.rcpt_off = (long)x;
	if (parse_long_field(v, &pos, ':', &x) != 0 || x < -1 || x > 0x7fffffffffffLL)
		return perr(ps, off, "bad header offset in 'd' line");
	d.hdr_off = (long)x;
	if (parse_long_field(v, &pos, ':', &x) != 0 || x < -1 || x > 0x7fffffffffffLL)
		return perr(ps, off, "bad DSN offset in 'd' line");
	d.dsn_off = (long)x;
	/* the unused "DNS recipient" field */
	while (pos < v.n && v.p[pos] != ':' && v.p[pos] != '\t')
		pos++;
	if (pos >= v.n || v.p[pos] != ':')
		return perr(ps, off, "'d' line lacks the \"::\" field");
	pos++;
	if (parse_long_field(v, &pos, '\t', &x) != 0 || x < 0)
		return perr(ps, off, "bad time in 'd' line");
	d.when = x;
	t2 = zspan_chr((zspan){ v.p + pos, v.n - pos }, '\t');
	if (t2 < 0)
		return perr(ps, off, "'d' line lacks the TAB before its text");
	d.notary = (zspan){ v.p + pos, (size_t)t2 };
	pos += (size_t)t2 + 1;
	d.text = (zspan){ v.p + pos, v.n - pos };
	if (grow((void **)&cf->diags, &ps->cap_d, cf->ndiags, sizeof(d)) != Z_OK)
		return perr_nomem(ps, off);
	cf->diags[cf->ndiags++] = d;
	return Z_OK;
}

/* parse_features - "0x%08lx" */
static int parse_features(struct pstate *ps, size_t off, zspan v)
{
	unsigned long f = 0;

	if (ps->nrec != 0)
		return perr(ps, off, "'@' line is not the first record");
	if (v.n < 3 || v.n > 18 || v.p[0] != '0' || (v.p[1] != 'x' && v.p[1] != 'X'))
		return perr(ps, off, "bad '@' feature line");
	for (size_t i = 2; i < v.n; i++) {
		char c = v.p[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return perr(ps, off, "bad '@' feature line");
		f = (f << 4) | (unsigned long)d;
	}
	if (f & ~CTL_FEATURES_KNOWN)
		return perr(ps, off, "unknown '@' feature bits 0x%08lx (known 0x%08lx)",
			    f & ~CTL_FEATURES_KNOWN, CTL_FEATURES_KNOWN);
	ps->cf->features = f;
	return Z_OK;
}

/* add_span - append to a zspan array */
static int add_span(zspan **arr, size_t *n, size_t *cap, zspan v)
{
	if (grow((void **)arr, cap, *n, sizeof(zspan)) != Z_OK)
		return Z_ENOMEM;
	(*arr)[(*n)++] = v;
	return Z_OK;
}

/* parse_block - 'm'/'M' block from off; *next = offset after the empty line */
static int parse_block(struct pstate *ps, size_t off, size_t *next)
{
	ctl_file *cf = ps->cf;
	size_t pos = off + 2;

	for (;;) {
		const char *nl;
		if (pos >= cf->len)
			return perr(ps, off, "unterminated '%c' block (no empty line)", cf->data[off]);
		if (cf->data[pos] == '\n') {
			pos++;
			break;
		}
		nl = memchr(cf->data + pos, '\n', cf->len - pos);
		if (nl == NULL)
			return perr(ps, off, "unterminated '%c' block (no empty line)", cf->data[off]);
		pos = (size_t)(nl - cf->data) + 1;
	}
	if (cf->data[off] == 'm') {
		for (size_t i = ps->group_start; i < cf->nrcpts; i++) {
			cf->rcpts[i].hdr_off = (long)(off + 2);
			cf->rcpts[i].hdr_len = pos - (off + 2);
		}
		ps->group_start = cf->nrcpts;
	}
	ps->cur_rcpt = -1;
	*next = pos;
	return Z_OK;
}

/* tag_ok - one of the four tag bytes */
static int tag_ok(char c)
{
	return c == ' ' || c == '~' || c == '+' || c == '-';
}

/* ctl_parse - copy data and build the offset table */
int ctl_parse(const char *data, size_t len, unsigned flags, ctl_file *out, zbuf *err)
{
	struct pstate ps;
	ctl_file *cf = out;
	size_t pos = 0;
	int rc = Z_EPARSE;

	memset(cf, 0, sizeof(*cf));
	memset(&ps, 0, sizeof(ps));
	ps.cf = cf;
	ps.err = err;
	ps.cur_rcpt = -1;
	cf->body_off = -1;
	if (len > CTL_MAX_SIZE)
		return perr(&ps, 0, "control file larger than %u bytes", CTL_MAX_SIZE);
	if (len == 0)
		return perr(&ps, 0, "empty control file");
	if (data == NULL)
		return perr(&ps, 0, "no data");
	if (memchr(data, '\0', len) != NULL)
		return perr(&ps, (size_t)((const char *)memchr(data, '\0', len) - data),
			    "NUL byte in control file");
	if (data[len - 1] != '\n')
		return perr(&ps, len, "last line lacks its newline (truncated file?)");
	cf->data = malloc(len + 1);
	if (cf->data == NULL)
		return perr_nomem(&ps, 0);
	memcpy(cf->data, data, len);
	cf->data[len] = '\0';
	cf->len = len;

	while (pos < len) {
		size_t off = pos, eol;
		char type = cf->data[pos], tag;
		const char *nl = memchr(cf->data + pos, '\n', len - pos);
		zspan v;

		eol = (size_t)(nl - cf->data);   /* a '\n' exists: last byte is one */
		if (type == 'm' || type == 'M') {
			if (eol != off + 1)
				return perr(&ps, off, "'%c' line must be just \"%c\"", type, type);
			if ((rc = parse_block(&ps, off, &pos)) != Z_OK)
				return rc;
			ps.nrec++;
			continue;
		}
		if (eol == off)
			return perr(&ps, off, "empty line outside an 'm' block");
		if (eol < off + 2)
			return perr(&ps, off, "record '%c' has no tag byte", type);
		tag = cf->data[off + 1];
		if (!tag_ok(tag))
			return perr(&ps, off, "bad tag byte 0x%02x in '%c' record",
				    (unsigned char)tag, type);
		v = (zspan){ cf->data + off + 2, eol - off - 2 };
		pos = eol + 1;
		switch (type) {
		case '@':
			rc = parse_features(&ps, off, v);
			break;
		case 'i':
			if (ps.have_i)
				return perr(&ps, off, "second 'i' record");
			if (v.n == 0 || v.n > 64 || zspan_chr(v, '/') >= 0 ||
			    zspan_eq(v, ".") || zspan_eq(v, ".."))
				return perr(&ps, off, "bad body file name in 'i' record");
			for (size_t i = 0; i < v.n; i++)
				if ((unsigned char)v.p[i] <= ' ' || (unsigned char)v.p[i] >= 127)
					return perr(&ps, off, "bad body file name in 'i' record");
			cf->body = v;
			ps.have_i = 1;
			rc = Z_OK;
			break;
		case 'o': {
			unsigned long o;
			if (ps.have_o)
				return perr(&ps, off, "second 'o' record");
			if (zspan_to_ulong(v, 0x7fffffffffffUL, &o) != Z_OK)
				return perr(&ps, off, "bad body offset in 'o' record");
			cf->body_off = (long)o;
			ps.have_o = 1;
			rc = Z_OK;
			break;
		}
		case 'l':
			if (ps.have_l)
				return perr(&ps, off, "second 'l' record");
			cf->logid = v;
			ps.have_l = 1;
			rc = Z_OK;
			break;
		case 'v':
			cf->verbose = v;
			rc = Z_OK;
			break;
		case 'e':
			if (cf->erraddr.p == NULL)
				cf->erraddr = v;
			ps.cur_err = v;
			rc = Z_OK;
			break;
		case 'x':
			rc = add_span(&cf->obsoletes, &cf->nobsoletes, &ps.cap_x, v);
			break;
		case 'T':
			if (v.n == 0)
				return perr(&ps, off, "empty 'T' record");
			rc = add_span(&cf->turnme, &cf->nturnme, &ps.cap_t, v);
			break;
		case 'b':
			rc = Z_OK;      /* reserved: alternate body, ignored */
			break;
		case 's': {
			ctl_sender s;
			memset(&s, 0, sizeof(s));
			s.off = off;
			s.erraddr = ps.cur_err;
			if ((rc = parse_quad(&ps, off, v, &s.quad)) != Z_OK)
				return rc;
			if (grow((void **)&cf->senders, &ps.cap_s, cf->nsenders, sizeof(s)) != Z_OK)
				return perr_nomem(&ps, off);
			cf->senders[cf->nsenders++] = s;
			ps.cur_rcpt = -1;
			break;
		}
		case 'r':
		case 'X':
			rc = parse_rcpt(&ps, off, type, tag, v);
			break;
		case 'N':
			rc = parse_dsn(&ps, off, v);
			break;
		case 'R':
		case 'n':
			if (ps.cur_rcpt < 0)
				return perr(&ps, off, "'%c' line without a preceding recipient", type);
			if (type == 'R')
				cf->rcpts[ps.cur_rcpt].ret = v;
			else
				cf->rcpts[ps.cur_rcpt].envid = v;
			rc = Z_OK;
			break;
		case 'd':
			rc = parse_diag(&ps, off, tag, v);
			break;
		default:
			if ((unsigned char)type >= ' ' && (unsigned char)type < 127)
				return perr(&ps, off, "unknown record type '%c'", type);
			return perr(&ps, off, "unknown record type 0x%02x", (unsigned char)type);
		}
		if (rc != Z_OK) {
			if (rc == Z_ENOMEM)
				return perr_nomem(&ps, off);
			return rc;
		}
		ps.nrec++;
	}
	if (!(flags & CTL_PARSE_ETRN) || cf->nturnme == 0 || ps.have_i || ps.have_l) {
		if (!ps.have_i)
			return perr(&ps, len, "no 'i' (body file) record");
		if (!ps.have_l)
			return perr(&ps, len, "no 'l' (log id) record");
	}
	return Z_OK;
}

/* ctl_read - read the whole file behind fd and parse it */
int ctl_read(int fd, unsigned flags, ctl_file *out, zbuf *err)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0, size;
	int rc, first_errno = 0;

	memset(out, 0, sizeof(*out));
	out->body_off = -1;
	{
		/* most control files are small: one pread of a short buffer,
		 * and a short count means the whole file (a regular file only
		 * reads short at its end), without an fstat; a file that fills
		 * it, or a read that fails (a directory, a FIFO), goes the
		 * fstat way below, which also tells what kind of file it is */
		char first[CTL_READ_FIRST];
		ssize_t n;
		do
			n = pread(fd, first, sizeof(first), 0);
		while (n < 0 && errno == EINTR);
		if (n >= 0 && (size_t)n < sizeof(first))
			return ctl_parse(first, (size_t)n, flags, out, err);
		if (n < 0)
			first_errno = errno;
	}
	if (fstat(fd, &st) != 0) {
		zbuf_printf(err, "fstat: %s", strerror(errno));
		return Z_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		zbuf_puts(err, "control file is not a regular file");
		return Z_EPARSE;
	}
	if (first_errno != 0) {
		/* a regular file that cannot be read: try again later */
		zbuf_printf(err, "read: %s", strerror(first_errno));
		return Z_EIO;
	}
	if ((unsigned long long)st.st_size > CTL_MAX_SIZE) {
		zbuf_printf(err, "offset 0: control file larger than %u bytes", CTL_MAX_SIZE);
		return Z_EPARSE;
	}
	size = (size_t)st.st_size;
	buf = malloc(size + 1);
	if (buf == NULL) {
		zbuf_puts(err, "out of memory");
		return Z_ENOMEM;
	}
	while (got < size) {
		ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			zbuf_printf(err, "read: %s", strerror(errno));
			free(buf);
			return Z_EIO;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	rc = ctl_parse(buf, got, flags, out, err);
	free(buf);
	return rc;
}

/* ctl_free - release a parsed file */
void ctl_free(ctl_file *cf)
{
	if (cf == NULL)
		return;
	free(cf->data);
	free(cf->senders);
	free(cf->rcpts);
	free(cf->diags);
	free(cf->turnme);
	free(cf->obsoletes);
	memset(cf, 0, sizeof(*cf));
	cf->body_off = -1;
}

/* ctl_find_rcpt - recipient whose line starts at off */
const ctl_rcpt *ctl_find_rcpt(const ctl_file *cf, size_t off)
{
	size_t lo = 0, hi = cf->nrcpts;

	while (lo < hi) {       /* rcpts are in file order */
		size_t mid = lo + (hi - lo) / 2;
		if (cf->rcpts[mid].off == off)
			return &cf->rcpts[mid];
		if (cf->rcpts[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ctl_diag_dsn_line - start of the N line a 'd' line names (either variant) */
long ctl_diag_dsn_line(const ctl_file *cf, const ctl_diag *d)
{
	const ctl_rcpt *r = ctl_find_rcpt(cf, (size_t)d->rcpt_off);

	if (d->dsn_off < 0)
		return -1;
	if (r != NULL && r->dsn_off >= 0 &&
	    (d->dsn_off == r->dsn_off || d->dsn_off == r->dsn_off + 2))
		return r->dsn_off;
	for (size_t i = 0; i < cf->nrcpts; i++) {
		long n = cf->rcpts[i].dsn_off;
		if (n >= 0 && (d->dsn_off == n || d->dsn_off == n + 2))
			return n;
	}
	return -1;
}

/* ctl_unquote_user - undo the writer's "..." wrapping */
int ctl_unquote_user(zspan user, zbuf *out)
{
	size_t i;

	zbuf_reset(out);
	if (user.n < 2 || user.p[0] != '"' || user.p[user.n - 1] != '"')
		return zbuf_append(out, user.p, user.n);
	/* the closing quote must be the last byte, with no unescaped quote before */
	for (i = 1; i < user.n - 1; i++) {
		if (user.p[i] == '\\') {
			if (i + 1 >= user.n - 1)
				break;
			i++;
		} else if (user.p[i] == '"') {
			break;
		}
	}
	if (i != user.n - 1)
		return zbuf_append(out, user.p, user.n);
	for (i = 1; i < user.n - 1; i++) {
		int rc;
		if (user.p[i] == '\\')
			i++;
		if ((rc = zbuf_putc(out, user.p[i])) != Z_OK)
			return rc;
	}
	return Z_OK;
}

/* ---------------------------------------------------------------- writer */

/* ctlw_features - "@ 0x%08lx\n" */
int ctlw_features(zbuf *o, unsigned long features)
{
	return zbuf_printf(o, "@ 0x%08lx\n", features);
}

/* ctlw_record - "<type> <value>\n" */
int ctlw_record(zbuf *o, char type, const char *value)
{
	size_t old = o->len;
	int rc;

	if (value == NULL)
		value = "";
	if (strchr(value, '\n') != NULL || type == 'm' || type == 'M' || type == '\n' ||
	    type == '\0')
		return Z_EPARSE;
	if ((rc = zbuf_putc(o, type)) == Z_OK && (rc = zbuf_putc(o, ' ')) == Z_OK &&
	    (rc = zbuf_puts(o, value)) == Z_OK && (rc = zbuf_putc(o, '\n')) == Z_OK)
		return Z_OK;
	zbuf_truncate(o, old);
	return rc;
}

/* token_ok - channel/host: non-empty, no space, TAB, NL */
static int token_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s; s++)
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			return 0;
	return 1;
}

/* put_quad - "channel host user priv", user quoted when needed */
static int put_quad(zbuf *o, const ctl_quadv *q)
{
	const char *u = q->user;
	int quote = 0, rc;

	if (!token_ok(q->channel) || !token_ok(q->host) || u == NULL || *u == '\0' ||
	    strchr(u, '\n') != NULL || strchr(u, '\r') != NULL)
		return Z_EPARSE;
	if (strpbrk(u, " \t\"") != NULL || u[strlen(u) - 1] == '\\')
		quote = 1;
	rc = zbuf_printf(o, "%s %s ", q->channel, q->host);
	if (rc != Z_OK)
		return rc;
	if (!quote) {
		rc = zbuf_puts(o, u);
	} else {
		rc = zbuf_putc(o, '"');
		for (; *u && rc == Z_OK; u++) {
			if (*u == '"' || *u == '\\')
				rc = zbuf_putc(o, '\\');
			if (rc == Z_OK)
				rc = zbuf_putc(o, *u);
		}
		if (rc == Z_OK)
			rc = zbuf_putc(o, '"');
	}
	if (rc != Z_OK)
		return rc;
	return zbuf_printf(o, " %ld\n", q->privilege);
}

/* ctlw_sender - "s channel host user priv\n" */
int ctlw_sender(zbuf *o, const ctl_quadv *q)
{
	size_t old = o->len;
	int rc;

	if ((rc = zbuf_puts(o, "s ")) == Z_OK && (rc = put_quad(o, q)) == Z_OK)
		return Z_OK;
	zbuf_truncate(o, old);
	return rc;
}

/* ctlw_rcpt - "r" tag, 6-byte pid slot, 4-byte delay slot, quad */
int ctlw_rcpt(zbuf *o, const ctl_quadv *q, size_t *off)
{
	size_t old = o->len;
	int rc;

	if ((rc = zbuf_puts(o, "r           ")) == Z_OK && (rc = put_quad(o, q)) == Z_OK) {
		if (off)
			*off = old;
		return Z_OK;
	}
	zbuf_truncate(o, old);
	return rc;
}

/* ctlw_headers - "m\n" + headers ending in exactly one empty line */
int ctlw_headers(zbuf *o, const char *hdrs, size_t len)
{
	size_t old = o->len;
	int rc;

	if (hdrs == NULL)
		len = 0;
	if (len > 0 && memchr(hdrs, '\0', len) != NULL)
		return Z_EPARSE;
	/* drop a final empty line; an empty line inside would end the block */
	if (len >= 2 && hdrs[len - 1] == '\n' && hdrs[len - 2] == '\n')
		len--;
	if (len == 1 && hdrs[0] == '\n')
		len = 0;
	if (len > 0 && (hdrs[0] == '\n' || memmem(hdrs, len, "\n\n", 2) != NULL))
		return Z_EPARSE;
	rc = zbuf_puts(o, "m\n");
	if (rc == Z_OK && len > 0)
		rc = zbuf_append(o, hdrs, len);
	if (rc == Z_OK && len > 0 && hdrs[len - 1] != '\n')
		rc = zbuf_putc(o, '\n');
	if (rc == Z_OK)
		rc = zbuf_putc(o, '\n');
	if (rc != Z_OK)
		zbuf_truncate(o, old);
	return rc;
}

/* ctl_commit - transport/<prefix>.<ino> -> fsync -> rename -> fsync dir */
int ctl_commit(const char *transport_dir, const char *prefix, unsigned long ino,
	       const zbuf *content, zbuf *err)
{
	char tmp[4500], dst[4500], dir[4100];
	int fd = -1, rc = Z_EIO, n;

	if (prefix == NULL)
		prefix = "";
	if (transport_dir == NULL || strlen(transport_dir) > 4000 || strlen(prefix) > 4 ||
	    strstr(prefix, "..") != NULL || ino == 0) {
		zbuf_puts(err, "ctl_commit: bad arguments");
		return Z_ERR;
	}
	n = snprintf(dir, sizeof(dir), "%s/%s", transport_dir, prefix);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return Z_ETOOBIG;
	n = snprintf(tmp, sizeof(tmp), "%s.%lu", dir, ino);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return Z_ETOOBIG;
	n = snprintf(dst, sizeof(dst), "%s%lu", dir, ino);
	if (n < 0 || (size_t)n >= sizeof(dst))
		return Z_ETOOBIG;
	for (int tries = 0; fd < 0; tries++) {
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (fd >= 0)
			break;
		/* a temp file left by a crashed writer of this very id is ours */
		if (errno == EEXIST && tries == 0 && unlink(tmp) == 0)
			continue;
		zbuf_printf(err, "%s: %s", tmp, strerror(errno));
		return Z_EIO;
	}
	if (content != NULL && content->len > 0 &&
	    zwrite_all(fd, content->data, content->len) != Z_OK) {
		zbuf_printf(err, "write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fsync(fd) != 0) {
		zbuf_printf(err, "fsync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		zbuf_printf(err, "close %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, dst) != 0) {
		zbuf_printf(err, "rename %s to %s: %s", tmp, dst, strerror(errno));
		goto fail;
	}
	if (zfsync_parent(dst) != Z_OK) {
		/* renamed: the file is complete and handed over; failing now
		 * would make the caller write it twice */
		zlog_warn(NULL, "fsync of the directory of %s failed: %s; the control file"
			  " is in place but a crash before the next sync could lose the rename",
			  dst, strerror(errno));
	}
	return Z_OK;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);            /* our own scratch, never handed over */
	return rc;
}

/* ------------------------------------------------------- in-place patches */

/* range_lock - take (F_WRLCK) or drop (F_UNLCK) an open-file-description
 * lock on bytes [off, off+len) of fd.  OFD locks exclude every other open
 * of the file, in this process too; where they are missing (EINVAL) a
 * classic record lock is used.  Taking waits at most ~0.5 s for a holder
 * (the critical sections are one pread and one pwrite); Z_EAGAIN after
 * that.  A file system without byte-range locks (ENOLCK) is used unlocked:
 * *held is 0 then and nothing must be dropped. */
static int range_lock(int fd, off_t off, off_t len, short type, int *held)
{
	struct flock fl;
	int cmd = F_OFD_SETLK, tries = 0;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = off;
	fl.l_len = len;
	if (type == F_UNLCK) {
		if (!*held)
			return Z_OK;
		*held = 0;
		if (fcntl(fd, F_OFD_SETLK, &fl) != 0)
			(void)fcntl(fd, F_SETLK, &fl);
		return Z_OK;
	}
	*held = 0;
	for (;;) {
		if (fcntl(fd, cmd, &fl) == 0) {
			*held = 1;
			return Z_OK;
		}
		if (errno == EINVAL && cmd == F_OFD_SETLK) {
			cmd = F_SETLK;
			continue;
		}
		if (errno == ENOLCK || errno == EINVAL || errno == EBADF)
			return Z_OK;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return Z_EIO;
		if (++tries > 500)
			return Z_EAGAIN;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}

/* slot_write - write newtag and the pid slot (wlen 7) or the tag alone
 * (wlen 1) at rcpt_off+1 */
static int slot_write(int fd, size_t rcpt_off, size_t wlen, char newtag, int pid, zbuf *err)
{
	char nb[8];
	ssize_t n;

	nb[0] = newtag;
	if (newtag == CTL_TAG_LOCK) {
		int k = snprintf(nb + 1, sizeof(nb) - 1, "%6d", pid < 0 ? 0 : pid % 1000000);
		if (k != 6) {
			if (err)
				zbuf_puts(err, "pid does not fit the slot");
			return Z_ERR;
		}
	} else {
		memcpy(nb + 1, "      ", 6);
	}
	do
		n = pwrite(fd, nb, wlen, (off_t)rcpt_off + 1);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)wlen) {
		if (err)
			zbuf_printf(err, "write at %zu: %s", rcpt_off + 1,
				    n < 0 ? strerror(errno) : "short write");
		return Z_EIO;
	}
	return Z_OK;
}

/* tag_patch - under a range lock on the tag and pid slot: check the tag
 * (and, to release a lock, its owner) and write tag + pid slot; with h
 * the range lock stays held on success (h filled), else it is dropped */
static int tag_patch(int fd, size_t rcpt_off, char expected, char newtag, int pid,
		     ctl_hold *h, zbuf *err)
{
	char cur[7];
	ssize_t n;
	size_t wlen = 7;
	int held = 0, rc;

	rc = range_lock(fd, (off_t)rcpt_off + 1, 7, F_WRLCK, &held);
	if (rc != Z_OK) {
		if (err)
			zbuf_printf(err, "lock bytes at %zu are busy%s", rcpt_off + 1,
				    rc == Z_EIO ? " (fcntl failed)" : "");
		return rc;
	}
	do
		n = pread(fd, cur, sizeof(cur), (off_t)rcpt_off + 1);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (err)
			zbuf_printf(err, "read at %zu: %s", rcpt_off + 1, strerror(errno));
		rc = Z_EIO;
		goto done;
	}
	if (n < 1) {
		if (err)
			zbuf_printf(err, "offset %zu is past the end of the file", rcpt_off);
		rc = Z_EIO;
		goto done;
	}
	if (cur[0] != expected) {
		if (err)
			zbuf_printf(err, "expected '%c' found '%c'", expected,
				    (unsigned char)cur[0] >= ' ' && (unsigned char)cur[0] < 127 ? cur[0] : '?');
		rc = Z_ESTALE;
		goto done;
	}
	/* old-format line without a pid slot: patch the tag only */
	if (n < 7)
		wlen = 1;
	for (size_t i = 1; i < wlen; i++)
		if (!slot_byte(cur[i]))
			wlen = 1;
	/* releasing a lock: only its owner may (pid 0 = whoever holds it) */
	if (expected == CTL_TAG_LOCK && pid > 0 && wlen == 7) {
		int owner = 0;
		if (parse_slot_pid(cur + 1, &owner) != 0 || owner != pid % 1000000) {
			if (err)
				zbuf_printf(err, "lock at %zu is held by pid %d, not %d", rcpt_off,
					    owner, pid);
			rc = Z_ESTALE;
			goto done;
		}
	}
	rc = slot_write(fd, rcpt_off, wlen, newtag, pid, err);
	if (rc == Z_OK && h != NULL) {
		h->held = held;		/* kept: ctl_hold_set / ctl_hold_drop */
		h->wlen = (unsigned char)wlen;
		h->pid = pid;
		return Z_OK;
	}
done:
	(void)range_lock(fd, (off_t)rcpt_off + 1, 7, F_UNLCK, &held);
	return rc;
}

/* ctl_lock - check and patch a tag under a range lock, dropped after */
int ctl_lock(int fd, size_t rcpt_off, char expected, char newtag, int pid, zbuf *err)
{
	return tag_patch(fd, rcpt_off, expected, newtag, pid, NULL, err);
}

/* ctl_lock_hold - as ctl_lock, and the range lock stays held in h */
int ctl_lock_hold(int fd, size_t rcpt_off, char expected, char newtag, int pid,
		  ctl_hold *h, zbuf *err)
{
	memset(h, 0, sizeof(*h));
	return tag_patch(fd, rcpt_off, expected, newtag, pid, h, err);
}

/* ctl_hold_set - write newtag (and the slot) under the range lock h holds
 * since ctl_lock_hold: no re-check, nobody else could change the bytes */
int ctl_hold_set(int fd, size_t rcpt_off, const ctl_hold *h, char newtag, zbuf *err)
{
	if (!h->held)	/* no byte-range locks here: check as ctl_lock does */
		return tag_patch(fd, rcpt_off, CTL_TAG_LOCK, newtag, h->pid, NULL, err);
	return slot_write(fd, rcpt_off, h->wlen ? h->wlen : 7, newtag, h->pid, err);
}

/* ctl_hold_drop - give up the range lock of h (no-op when none is held) */
void ctl_hold_drop(int fd, size_t rcpt_off, ctl_hold *h)
{
	int held = h->held;

	(void)range_lock(fd, (off_t)rcpt_off + 1, 7, F_UNLCK, &held);
	h->held = 0;
}


/* ctl_set_tag - patch the tag byte only (under the same range lock) */
int ctl_set_tag(int fd, size_t off, char expected, char newtag)
{
	char c;
	ssize_t n;
	int held = 0, rc;

	rc = range_lock(fd, (off_t)off + 1, 7, F_WRLCK, &held);
	if (rc != Z_OK)
		return rc;
	do
		n = pread(fd, &c, 1, (off_t)off + 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		rc = Z_EIO;
	else if (c != expected)
		rc = Z_ESTALE;
	else {
		do
			n = pwrite(fd, &newtag, 1, (off_t)off + 1);
		while (n < 0 && errno == EINTR);
		rc = n == 1 ? Z_OK : Z_EIO;
	}
	(void)range_lock(fd, (off_t)off + 1, 7, F_UNLCK, &held);
	return rc;
}

/* ctl_append_diag - one write of a 'd' line at the end, fsync, undo on error */
int ctl_append_diag(int fd, const ctl_diagv *d, zbuf *err)
{
	zbuf line = ZBUF_INIT(CTL_MAX_SIZE);
	struct stat st;
	const char *notary = d->notary ? d->notary : "";
	const char *text = d->text ? d->text : "";
	int rc = Z_EIO, fl;
	ssize_t n;

	if (strpbrk(notary, "\t\n\r") != NULL) {
		zbuf_puts(err, "notary string contains TAB or newline");
		return Z_EPARSE;
	}
	if (d->rcpt_off < 0 || d->hdr_off < -1 || d->dsn_off < -1 || d->when < 0) {
		zbuf_puts(err, "bad offsets or time for 'd' line");
		return Z_EPARSE;
	}
	if (zbuf_printf(&line, "d %ld:%ld:%ld::%lld\t%s\t", d->rcpt_off, d->hdr_off,
			d->dsn_off, d->when, notary) != Z_OK)
		goto nomem;
	for (const char *p = text; *p; p++) {
		char c = *p;
		if (c == '\n')
			c = '\r';
		else if (c == '\t' || c == '\001')
			c = ' ';
		if (zbuf_putc(&line, c) != Z_OK)
			goto nomem;
	}
	if (zbuf_putc(&line, '\n') != Z_OK)
		goto nomem;
	if (fstat(fd, &st) != 0) {
		zbuf_printf(err, "fstat: %s", strerror(errno));
		goto done;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0) {
		zbuf_printf(err, "fcntl: %s", strerror(errno));
		goto done;
	}
	do {
		if (fl & O_APPEND)
			n = write(fd, line.data, line.len);
		else
			n = pwrite(fd, line.data, line.len, st.st_size);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)line.len) {
		zbuf_printf(err, "diagnostic writeout failed: %s",
			    n < 0 ? strerror(errno) : "short write");
		goto undo;
	}
	if (fsync(fd) != 0) {
		zbuf_printf(err, "fsync after diagnostic: %s", strerror(errno));
		goto undo;
	}
	rc = Z_OK;
	goto done;
undo:
	if (ftruncate(fd, st.st_size) != 0 && errno != EBADF && errno != EINVAL)
		zbuf_printf(err, "; truncate back failed: %s", strerror(errno));
	rc = Z_EIO;
	goto done;
nomem:
	zbuf_puts(err, "diagnostic line too long or out of memory");
	rc = Z_ETOOBIG;
done:
	zbuf_free(&line);
	return rc;
}
