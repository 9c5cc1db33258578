/*
 * NAME
 *	rjob - the router's work on one submission file, up to its control file
 * SUMMARY
 *	Opens and locks router/<ino> or public/<ino>, reads the envelope and
 *	header, applies the trust rules, resolves every recipient with
 *	librouter and builds the ZMailer control file, which rcommit.c then
 *	stages (written, not yet fsynced) for the batch commit.
 * SYNOPSIS
 *	#include "router_int.h"
 *	int rtr_prepare(const struct rtr_ctx *cx, const char *rel,
 *	                struct rtr_staged *out);
 * DESCRIPTION
 *	rtr_prepare locks the file (flock; a file someone else holds, or
 *	one replaced under its name, is W_SKIPPED), parses the envelope
 *	(zmailer-notes section 3) and the header (mail/mheader), applies the
 *	trust rules (owner uid; root, the router's own uid, ZMTA_USER and
 *	TRUSTED may set the sender, others get a forced sender and
 *	X-Authentication-Warning), adds Received, Message-ID and Date,
 *	counts Received fields against hop_limit and resolves recipients
 *	(duplicates dropped across the message).  Recipients that fail at
 *	routing time (unknown user, loop, hop limit) are written already
 *	failed ('-' tag) with a 'd' line, so the scheduler sends the RFC
 *	3464 report.  On W_DONE, *out holds the locked submission and the
 *	staged control file plus the line to log once committed; any other
 *	code means the file was set aside (postman/, deferred/) or skipped.
 * DIAGNOSTICS
 *	W_* codes (router_int.h); log lines carry the spool id.
 * SECURITY
 *	The submitter is the file's owner uid, never its content.  Every
 *	size read from a file is bounded (HEAD_MAX envelope + header,
 *	ENV_LINE_MAX, MAX_FIELDS, MAX_RCPTS); NUL bytes in the header are
 *	replaced, 8-bit bytes are kept.  Malformed files go to postman/,
 *	never unlinked.
 * BUGS
 *	getpwuid per file.
 * SEE ALSO
 *	router(8), zmta-spool(5), rcommit.c, route.h
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctlfile.h"
#include "maddr.h"
#include "mheader.h"
#include "route.h"
#include "router_int.h"
#include "spool.h"
#include "zbuf.h"
#include "zconf.h"
#include "zerr.h"
#include "zlog.h"
#include "zutil.h"

#define HEAD_MAX (4u * 1024u * 1024u)   /* envelope + header */
#define MAX_FIELDS 2000
#define MAX_RCPTS 10000
#define ENV_LINE_MAX 8192

struct env_rcpt {
	char *addr;
	char *todsn;     /* NULL or the todsn value */
};

struct job {
	const struct rtr_ctx *cx;
	struct rtr_staged *out;  /* filled when the control file is staged */
	const char *rel;          /* router/123 or public/123 */
	unsigned long ino;
	char id[SPOOL_ID_MAX];
	uid_t owner;
	char login[64];
	int trusted;
	struct stat st;
	zbuf head;                /* envelope + header bytes read */
	size_t env_end;           /* first header byte */
	size_t body_off;
	/* envelope */
	char *from;               /* NULL: none given */
	int null_sender;
	char *rcvdfrom, *with, *via, *envid, *ret, *verbose;
	struct env_rcpt *rcpts;
	size_t nrcpts;
	int external;
};

/* job_free - release a job */
static void job_free(struct job *j)
{
	free(j->from);
	free(j->rcvdfrom);
	free(j->with);
	free(j->via);
	free(j->envid);
	free(j->ret);
	free(j->verbose);
	for (size_t i = 0; i < j->nrcpts; i++) {
		free(j->rcpts[i].addr);
		free(j->rcpts[i].todsn);
	}
	free(j->rcpts);
	zbuf_free(&j->head);
}


/* sdupn - malloc'd copy */
static char *sdupn(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s == NULL)
		zlog_panic(NULL, "out of memory");
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* strip_angle - "<x>" -> "x" in place */
static void strip_angle(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
}

/* is_trusted - root, ourselves, ZMTA_USER, or a name in TRUSTED */
static int is_trusted(uid_t self_uid, uid_t uid, const char *login)
{
	if (uid == 0 || uid == self_uid)
		return 1;
	const char *zu = zconf_get_default("ZMTA_USER", "zmta");
	if (login[0] && strcmp(login, zu) == 0)
		return 1;
	const char *t = zconf_get("TRUSTED");
	if (t == NULL || login[0] == '\0')
		return 0;
	size_t ln = strlen(login);
	for (const char *p = t; *p;) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		const char *e = p;
		while (*e && *e != ' ' && *e != ',' && *e != '\t')
			e++;
		if ((size_t)(e - p) == ln && strncmp(p, login, ln) == 0)
			return 1;
		p = e;
	}
	return 0;
}

/* parse_envelope - envelope lines into j; Z_OK or Z_EPARSE with why */
static int parse_envelope(struct job *j, zbuf *why)
{
	const char *d = j->head.data ? j->head.data : "";
	size_t n = j->head.len, pos = 0;
	char *pending_dsn = NULL;
	size_t cap = 0;

	while (pos < n) {
		const char *nl = memchr(d + pos, '\n', n - pos);
		size_t e = nl ? (size_t)(nl - d) : n, ln = e - pos;
		const char *l = d + pos;
		if (ln && l[ln - 1] == '\r')
			ln--;
		if (ln > ENV_LINE_MAX) {
			zbuf_puts(why, "envelope line too long");
			goto bad;
		}
		size_t k = 0;
		while (k < ln && l[k] != ' ' && l[k] != '\t')
			k++;
		if (k > 0 && l[k - 1] == ':') {
			/* a header: the envelope ended without env-end */
			j->env_end = pos;
			free(pending_dsn);
			return Z_OK;
		}
		char kw[32];
		if (k == 0 || k >= sizeof(kw)) {
			zbuf_printf(why, "bad envelope line \"%.40s\"", l);
			goto bad;
		}
		memcpy(kw, l, k);
		kw[k] = '\0';
		while (k < ln && (l[k] == ' ' || l[k] == '\t'))
			k++;
		const char *v = l + k;
		size_t vn = ln - k;
		if (memchr(v, '\0', vn) != NULL) {
			zbuf_puts(why, "NUL byte in the envelope");
			goto bad;
		}
		pos = nl ? e + 1 : n;
		if (strcmp(kw, "env-end") == 0 || strcmp(kw, "env-eof") == 0) {
			j->env_end = pos;
			free(pending_dsn);
			return Z_OK;
		}
		char **slot = NULL;
		if (strcmp(kw, "from") == 0) {
			slot = &j->from;
		} else if (strcmp(kw, "rcvdfrom") == 0) {
			slot = &j->rcvdfrom;
		} else if (strcmp(kw, "with") == 0) {
			slot = &j->with;
		} else if (strcmp(kw, "via") == 0) {
			slot = &j->via;
		} else if (strcmp(kw, "envid") == 0) {
			slot = &j->envid;
		} else if (strcmp(kw, "notaryret") == 0) {
			slot = &j->ret;
		} else if (strcmp(kw, "verbose") == 0) {
			slot = &j->verbose;
		} else if (strcmp(kw, "external") == 0) {
			j->external = 1;
		} else if (strcmp(kw, "channel") == 0) {
			if (vn == 5 && strncmp(v, "error", 5) == 0)
				j->null_sender = 1;
		} else if (strcmp(kw, "todsn") == 0) {
			free(pending_dsn);
			pending_dsn = sdupn(v, vn);
		} else if (strcmp(kw, "to") == 0) {
			if (j->nrcpts >= MAX_RCPTS) {
				zbuf_printf(why, "more than %d envelope recipients", MAX_RCPTS);
				goto bad;
			}
			if (j->nrcpts == cap) {
				cap = cap ? cap * 2 : 8;
				struct env_rcpt *nr = realloc(j->rcpts, cap * sizeof(*nr));
				if (nr == NULL)
					zlog_panic(NULL, "out of memory");
				j->rcpts = nr;
			}
			j->rcpts[j->nrcpts].addr = sdupn(v, vn);
			strip_angle(j->rcpts[j->nrcpts].addr);
			j->rcpts[j->nrcpts].todsn = pending_dsn;
			pending_dsn = NULL;
			j->nrcpts++;
		} else if (strcmp(kw, "identinfo") == 0 || strcmp(kw, "authinfo") == 0 ||
			   strcmp(kw, "comment") == 0 || strcmp(kw, "bodytype") == 0 ||
			   strcmp(kw, "errormsg") == 0 || strcmp(kw, "user") == 0 ||
			   strcmp(kw, "loginname") == 0 || strcmp(kw, "fullname") == 0 ||
			   strcmp(kw, "type") == 0) {
			/* informational */
		} else {
			zbuf_printf(why, "unknown envelope keyword \"%s\"", kw);
			goto bad;
		}
		if (slot) {
			free(*slot);
			*slot = sdupn(v, vn);
		}
	}
	j->env_end = n;
	free(pending_dsn);
	return Z_OK;
bad:
	free(pending_dsn);
	return Z_EPARSE;
}

/* put_field - append a header field, CRLF -> LF, NUL -> space */
static int put_field(zbuf *h, zspan raw)
{
	int rc = Z_OK;
	for (size_t i = 0; i < raw.n && rc == Z_OK; i++) {
		char ch = raw.p[i];
		if (ch == '\r' && i + 1 < raw.n && raw.p[i + 1] == '\n')
			continue;
		if (ch == '\0' || ch == '\r')
			ch = ' ';
		rc = zbuf_putc(h, ch);
	}
	return rc == Z_OK ? zbuf_putc(h, '\n') : rc;
}

/* todsn_clean - keep known DSN keywords of a todsn value (no TAB/NL) */
static void todsn_clean(const char *in, zbuf *out)
{
	static const char *keys[] = { "NOTIFY=", "ORCPT=", "INRCPT=", "INFROM=", "BY=", "EZMLM=", NULL };
	const char *p = in;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *e = p;
		while (*e && *e != ' ' && *e != '\t')
			e++;
		for (int i = 0; keys[i]; i++)
			if ((size_t)(e - p) > strlen(keys[i]) && strncasecmp(p, keys[i], strlen(keys[i])) == 0) {
				if (out->len)
					zbuf_putc(out, ' ');
				zbuf_append(out, p, (size_t)(e - p));
				break;
			}
		p = e;
	}
}

/* notary_text - a d-line text: no TAB, NL, \001 */
static void clean_text(char *s)
{
	for (; *s; s++)
		if (*s == '\t' || *s == '\n' || *s == '\r' || *s == '\001')
			*s = ' ';
}

struct outr {
	rt_dest d;
	size_t env;       /* index of its envelope recipient */
	size_t off;
	long noff;
};

/* route_job - the worker's work on an opened, locked, read file */
static int route_job(struct job *j)
{
	zbuf why = ZBUF_INIT(512), hdr = ZBUF_INIT(HEAD_MAX + 65536), ctl = ZBUF_INIT(64u * 1024 * 1024);
	zbuf sender = ZBUF_INIT(600), awarn = ZBUF_INIT(1024), msgid = ZBUF_INIT(1024);
	struct outr *out = NULL;
	size_t nout = 0, capout = 0;
	int rc = W_FAILED, have_date = 0, have_mid = 0;
	unsigned long received = 0;
	const rt_config *rt = j->cx->rt;
	const char *myhost = rt_myhostname(rt);
	char date[64];

	if (parse_envelope(j, &why) != Z_OK) {
		rc = rtr_to_postman(j->rel, j->ino, j->id, "badsubmit", zbuf_cstr(&why));
		goto out;
	}
	/* the header */
	zcur c;
	zcur_init(&c, j->head.data + j->env_end, j->head.len - j->env_end);
	zbuf fields = ZBUF_INIT(HEAD_MAX + 65536);
	size_t nf = 0;
	for (;;) {
		mhdr_field f;
		zbuf_reset(&why);
		int r = mhdr_next(&c, MHDR_FIELD_MAX, &f, &why);
		if (r == Z_ENOENT)
			break;
		if (r == Z_EPARSE) {
			/* not a field: the body starts here (the header is repaired
			 * by the empty line that ends the m block) */
			zlog_info(j->id, "header ends at a line that is not a field: %s", zbuf_cstr(&why));
			break;
		}
		if (r == Z_ETOOBIG) {
			zlog_warn(j->id, "dropped an over-long header field");
			continue;
		}
		if (++nf > MAX_FIELDS) {
			zbuf_free(&fields);
			rc = rtr_to_postman(j->rel, j->ino, j->id, "badheader", "too many header fields");
			goto out;
		}
		if (mhdr_name_is(&f, "Received"))
			received++;
		if (mhdr_name_is(&f, "Date"))
			have_date = 1;
		if (mhdr_name_is(&f, "Message-ID") && !have_mid) {
			have_mid = 1;
			mhdr_unfold(f.value, &msgid);
		}
		if (put_field(&fields, f.raw) != Z_OK) {
			zbuf_free(&fields);
			rc = rtr_to_postman(j->rel, j->ino, j->id, "badheader", "header too big");
			goto out;
		}
	}
	j->body_off = j->env_end + c.pos;
	if (c.pos >= c.n && (off_t)j->head.len < j->st.st_size) {
		zbuf_free(&fields);
		rc = rtr_to_postman(j->rel, j->ino, j->id, "badheader", "envelope and header larger than the limit");
		goto out;
	}
	/* sender and trust */
	if (j->from)
		strip_angle(j->from);
	if (j->trusted) {
		if (j->null_sender || (j->from && j->from[0] == '\0'))
			j->null_sender = 1;
		else if (j->from)
			zbuf_puts(&sender, j->from);
		else
			zbuf_printf(&sender, "%s@%s", j->login, myhost);
	} else {
		zbuf_printf(&sender, "%s@%s", j->login, myhost);
		if ((j->from && strcasecmp(j->from, zbuf_cstr(&sender)) != 0 &&
		     strcasecmp(j->from, j->login) != 0) || j->null_sender) {
			zbuf_printf(&awarn, "X-Authentication-Warning: %s: %s set sender to <%s> using -f\n",
				    myhost, j->login, j->from ? j->from : "");
		}
		j->null_sender = 0;
	}
	if (!j->null_sender && sender.len) {
		maddr m;
		zbuf e2 = ZBUF_INIT(256);
		if (strchr(zbuf_cstr(&sender), '@') == NULL) {
			zbuf_printf(&sender, "@%s", myhost);
		} else if (maddr_parse_addr(sender.data, sender.len, MADDR_UTF8, &m, &e2) != Z_OK) {
			zlog_warn(j->id, "bad sender <%s>: %s; using <%s@%s>", zbuf_cstr(&sender),
				  zbuf_cstr(&e2), j->login, myhost);
			zbuf_reset(&sender);
			zbuf_printf(&sender, "%s@%s", j->login, myhost);
		}
		zbuf_free(&e2);
	}
	/* headers we add: Received first */
	if (ztime_rfc5322(time(NULL), date, sizeof(date)) != Z_OK)
		zstrlcpy(date, "Thu, 01 Jan 1970 00:00:00 +0000", sizeof(date));
	{
		char from[600];
		if (j->trusted && j->rcvdfrom) {
			snprintf(from, sizeof(from), "%s", j->rcvdfrom);
			clean_text(from);
		} else
			snprintf(from, sizeof(from), "localhost (user %s uid#%lu)", j->login,
				 (unsigned long)j->owner);
		zbuf_printf(&hdr, "Received: from %s\n\tby %s (zmta)", from, myhost);
		if (j->via && strpbrk(j->via, " \t") == NULL)
			zbuf_printf(&hdr, " via %s", j->via);
		zbuf_printf(&hdr, " with %s id %s;\n\t%s\n",
			    (j->with && *j->with && strpbrk(j->with, " \t") == NULL) ? j->with : "local",
			    j->id, date);
	}
	zbuf_append(&hdr, awarn.data ? awarn.data : "", awarn.len);
	zbuf_append(&hdr, fields.data ? fields.data : "", fields.len);
	zbuf_free(&fields);
	if (!have_mid || msgid.len == 0 || strpbrk(zbuf_cstr(&msgid), "\t\r\n") != NULL) {
		zbuf_reset(&msgid);
		zbuf_printf(&msgid, "<%s@%s>", j->id, myhost);
		if (!have_mid)
			zbuf_printf(&hdr, "Message-ID: %s\n", zbuf_cstr(&msgid));
	}
	if (!have_date) {
		char fdate[64];
		if (ztime_rfc5322(j->st.st_mtime, fdate, sizeof(fdate)) == Z_OK)
			zbuf_printf(&hdr, "Date: %s\n", fdate);
	}
	if (j->nrcpts == 0) {
		rc = rtr_to_postman(j->rel, j->ino, j->id, "norecipients", "no envelope recipient (\"to\" line)");
		goto out;
	}
	/* resolve */
	for (size_t i = 0; i < j->nrcpts; i++) {
		rt_result res = { 0 };
		zbuf e2 = ZBUF_INIT(512);
		const char *a = j->rcpts[i].addr;
		int r;
		if (received >= rt_hop_limit(rt)) {
			rt_dest d;
			memset(&d, 0, sizeof(d));
			zstrlcpy(d.channel, "error", sizeof(d.channel));
			zstrlcpy(d.host, "loopexceeded", sizeof(d.host));
			if (strchr(a, '@') == NULL && *a)
				snprintf(d.user, sizeof(d.user), "%.300s@%.300s", a, myhost);
			else
				zstrlcpy(d.user, *a ? a : "-", sizeof(d.user));
			zstrlcpy(d.status, "5.4.6", sizeof(d.status));
			snprintf(d.reason, sizeof(d.reason), "mail loop: %lu Received header fields (limit %lu)",
				 received, rt_hop_limit(rt));
			res.v = malloc(sizeof(d));
			if (res.v == NULL)
				zlog_panic(j->id, "out of memory");
			res.v[0] = d;
			res.n = res.cap = 1;
			r = Z_OK;
		} else
			r = rt_resolve(rt, a, &res, &e2);
		if (r != Z_OK && res.n == 0) {
			rt_dest d;
			memset(&d, 0, sizeof(d));
			zstrlcpy(d.channel, "error", sizeof(d.channel));
			zstrlcpy(d.host, "badaddress", sizeof(d.host));
			zstrlcpy(d.user, *a ? a : "-", sizeof(d.user));
			zstrlcpy(d.status, r == Z_ETOOBIG ? "5.3.4" : "5.1.3", sizeof(d.status));
			zstrlcpy(d.reason, zbuf_cstr(&e2), sizeof(d.reason));
			rt_result_free(&res);
			res.v = malloc(sizeof(d));
			if (res.v == NULL)
				zlog_panic(j->id, "out of memory");
			res.v[0] = d;
			res.n = res.cap = 1;
		}
		zbuf_free(&e2);
		for (size_t k = 0; k < res.n; k++) {
			int dup = 0;
			/* duplicate suppression across the whole message */
			for (size_t m = 0; m < nout && !dup; m++)
				dup = strcmp(out[m].d.user, res.v[k].user) == 0 &&
				      strcmp(out[m].d.host, res.v[k].host) == 0 &&
				      strcmp(out[m].d.channel, res.v[k].channel) == 0;
			if (dup)
				continue;
			if (nout == capout) {
				capout = capout ? capout * 2 : 8;
				struct outr *no = realloc(out, capout * sizeof(*no));
				if (no == NULL)
					zlog_panic(j->id, "out of memory");
				out = no;
			}
			out[nout].d = res.v[k];
			out[nout].env = i;
			out[nout].noff = -1;
			nout++;
		}
		rt_result_free(&res);
	}
	/* the control file */
	{
		char num[64];
		int w = ctlw_features(&ctl, CTL_FEATURES_WRITE);
		snprintf(num, sizeof(num), "%lu", j->ino);
		w |= ctlw_record(&ctl, 'i', num);
		snprintf(num, sizeof(num), "%zu", j->body_off);
		w |= ctlw_record(&ctl, 'o', num);
		w |= ctlw_record(&ctl, 'l', zbuf_cstr(&msgid));
		const char *cur = NULL;   /* sender of the current 's' */
		for (size_t k = 0; k < nout && w == Z_OK; k++) {
			struct outr *o = &out[k];
			const char *snd = o->d.sender[0] ? o->d.sender
				: j->null_sender ? "" : zbuf_cstr(&sender);
			if (cur == NULL || strcmp(cur, snd) != 0) {
				if (*snd) {
					const char *at = strrchr(snd, '@');
					ctl_quadv s = { "smtp", at && at[1] ? at + 1 : myhost, snd, (long)j->owner };
					w |= ctlw_record(&ctl, 'e', snd);
					w |= ctlw_sender(&ctl, &s);
				} else {
					ctl_quadv s = { "error", "-", "-", 0 };
					w |= ctlw_sender(&ctl, &s);
				}
				cur = snd;
			}
			ctl_quadv q = { o->d.channel, o->d.host[0] ? o->d.host : "-", o->d.user, o->d.priv };
			if (strcmp(o->d.channel, "error") == 0)
				q.privilege = 0;
			w |= ctlw_rcpt(&ctl, &q, &o->off);
			const char *td = j->rcpts[o->env].todsn;
			zbuf nl = ZBUF_INIT(ENV_LINE_MAX);
			if (td)
				todsn_clean(td, &nl);
			if (nl.len) {
				o->noff = (long)ctl.len;
				w |= ctlw_record(&ctl, 'N', zbuf_cstr(&nl));
			}
			zbuf_free(&nl);
			if (j->ret && (strcasecmp(j->ret, "FULL") == 0 || strcasecmp(j->ret, "HDRS") == 0))
				w |= ctlw_record(&ctl, 'R', j->ret);
			if (j->envid && *j->envid && strpbrk(j->envid, " \t") == NULL)
				w |= ctlw_record(&ctl, 'n', j->envid);
		}
		size_t moff = ctl.len;
		w |= ctlw_headers(&ctl, hdr.data ? hdr.data : "", hdr.len);
		/* recipients that failed at routing time: '-' and a 'd' line */
		unsigned nfail = 0;
		for (size_t k = 0; k < nout && w == Z_OK; k++) {
			struct outr *o = &out[k];
			if (strcmp(o->d.channel, "error") != 0)
				continue;
			ctl.data[o->off + 1] = CTL_TAG_NOTOK;
			char notary[1400], line[3000];
			clean_text(o->d.reason);
			char u[1024];
			zstrlcpy(u, o->d.user, sizeof(u));
			clean_text(u);
			snprintf(notary, sizeof(notary), "%s\001failed\001%s (%s)\001x-local; 550 %s %s\001",
				 u, o->d.status[0] ? o->d.status : "5.0.0", o->d.reason, o->d.status, o->d.reason);
			int ln = snprintf(line, sizeof(line), "%zu:%zu:%ld::%lld\t%s\t%s: %s", o->off,
					  moff + 2, o->noff, (long long)time(NULL), notary, u, o->d.reason);
			if (ln < 0 || (size_t)ln >= sizeof(line))
				line[sizeof(line) - 1] = '\0';   /* a shorter text is fine */
			w |= ctlw_record(&ctl, 'd', line);
			nfail++;
			zlog_info(j->id, "<%s>: %s %s", u, o->d.status, o->d.reason);
		}
		if (w != Z_OK) {
			rc = rtr_to_postman(j->rel, j->ino, j->id, "ctrlfile", "cannot build the control file (record too long?)");
			goto out;
		}
		rc = rtr_stage(j->rel, j->ino, j->id, j->cx->hashlevels, &ctl, j->out);
		if (rc == W_DONE) {
			zbuf ll = ZBUF_INIT(8192);
			zbuf_printf(&ll, "from=<%s>, size=%lld, nrcpts=%zu, failed=%u, msgid=%s",
				    j->null_sender ? "" : zbuf_cstr(&sender), (long long)j->st.st_size, nout,
				    nfail, zbuf_cstr(&msgid));
			j->out->logline = sdupn(ll.data ? ll.data : "", ll.len);
			zbuf_free(&ll);
		}
	}
out:
	free(out);
	zbuf_free(&why);
	zbuf_free(&hdr);
	zbuf_free(&ctl);
	zbuf_free(&sender);
	zbuf_free(&awarn);
	zbuf_free(&msgid);
	return rc;
}

/* rtr_prepare - one file up to its staged control file (W_DONE: *out
 * holds it, locked, for rtr_work_batch's commit); else what became of it */
int rtr_prepare(const struct rtr_ctx *cx, const char *rel, struct rtr_staged *out)
{
	struct job j;
	struct stat st2;
	int fd, rc;

	memset(&j, 0, sizeof(j));
	zbuf_init(&j.head, HEAD_MAX);
	j.cx = cx;
	j.out = out;
	j.rel = rel;
	fd = open(rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		rc = W_SKIPPED;   /* taken by someone else already */
		goto out;
	}
	if (fstat(fd, &j.st) != 0 || !S_ISREG(j.st.st_mode)) {
		rc = W_SKIPPED;
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		rc = W_SKIPPED;
		goto out;
	}
	/* still the same file under that name after the lock? */
	if (lstat(rel, &st2) != 0 || st2.st_ino != j.st.st_ino || st2.st_dev != j.st.st_dev) {
		rc = W_SKIPPED;
		goto out;
	}
	j.ino = (unsigned long)j.st.st_ino;
	spool_id_format(j.ino, j.st.st_mtime, j.st.st_mtim.tv_nsec, j.id, sizeof(j.id));
	if (rtr_ino_of_rel(rel) != j.ino) {
		/* a name that is not its inode: keep it out of the way */
		rc = rtr_to_postman(j.rel, j.ino, j.id, "badname", "file name is not its inode number");
		goto out;
	}
	j.owner = j.st.st_uid;
	struct passwd *pw = getpwuid(j.owner);
	if (pw)
		zstrlcpy(j.login, pw->pw_name, sizeof(j.login));
	else
		snprintf(j.login, sizeof(j.login), "uid%lu", (unsigned long)j.owner);
	j.trusted = is_trusted(cx->self_uid, j.owner, pw ? pw->pw_name : "");
	/* read up to HEAD_MAX */
	size_t want = (size_t)j.st.st_size < HEAD_MAX ? (size_t)j.st.st_size : HEAD_MAX;
	if (zbuf_reserve(&j.head, want + 1) != Z_OK) {
		rc = rtr_to_deferred(j.rel, j.ino, j.id, "out of memory");
		goto out;
	}
	while (j.head.len < want) {
		ssize_t n = pread(fd, j.head.data + j.head.len, want - j.head.len, (off_t)j.head.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		j.head.len += (size_t)n;
	}
	if (j.head.len < want) {
		rc = rtr_to_deferred(j.rel, j.ino, j.id, "short read");
		goto out;
	}
	rc = route_job(&j);
	if (rc == W_DONE) {
		out->srcfd = fd;   /* the lock is held until the batch is committed */
		fd = -1;
	}
out:
	if (fd >= 0)
		close(fd);   /* drops the lock */
	job_free(&j);
	return rc;
}
