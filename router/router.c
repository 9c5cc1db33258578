/*
 * NAME
 *	router - the zmta router daemon: submission files to control files
 * SUMMARY
 *	Takes router/<ino> and public/<ino> files (notification datagrams and
 *	a periodic rescan), resolves every recipient with librouter, writes
 *	the ZMailer control file into transport/, moves the message into
 *	queue/ and tells the scheduler.
 * SYNOPSIS
 *	router [-n] [-1] [-f router.conf] [-P postoffice] [-L logfile]
 *	       [-w workers] [-H hashlevels]
 * DESCRIPTION
 *	The master process keeps an event loop (notify socket, signalfd,
 *	rescan timer) and forks one short-lived worker per file, at most -w
 *	(ROUTER_WORKERS, default 4) at a time, so a slow file never stalls
 *	the others.  A worker locks the file (flock), parses the envelope
 *	(zmailer-notes §3) and the header (mail/mheader), applies the trust
 *	rules (owner uid; root, ZMTA_USER and TRUSTED may set the sender),
 *	adds Received, Message-ID and Date, counts Received fields against
 *	hop_limit, resolves recipients, and commits: transport/.<ino>
 *	written and fsynced; the message renamed into queue/; the control
 *	file renamed to transport/<ino>; directories fsynced; "NEW <ino>" to
 *	the scheduler.  Recipients that fail at routing time (unknown user,
 *	loop, hop limit) are written already failed ('-' tag) with a 'd'
 *	line, so the scheduler sends the RFC 3464 report.  At start-up and
 *	every sixth scan, temp control files that no live worker holds
 *	(workers flock them; a master killed alone leaves its workers
 *	running) are finished when the body is in queue/, or removed after a
 *	minute when the message is still in router/.
 *	Files that cannot be finished for a passing reason go to
 *	deferred/<ino>.deferred and are moved back every ROUTER_DEFER_RETRY
 *	seconds; malformed submissions go to postman/<ino>.<why> with a
 *	.reason file.  Nothing is unlinked.  router -n checks router.conf
 *	and prints the table sizes.  Tables are reloaded on SIGHUP, on a
 *	"RELOAD" datagram (newaliases) and when a file changed; a table
 *	that does not load keeps the old one and the error is logged (an
 *	automatic retry at most once a minute).
 * DIAGNOSTICS
 *	Log lines carry the spool id.  Exit codes: sysexits.
 * SECURITY
 *	Runs as ZMTA_USER (drops root at start).  The submitter is the
 *	file's owner uid, never its content; untrusted users get a forced
 *	sender and X-Authentication-Warning.  Every size read from a file is
 *	bounded (HEAD_MAX envelope + header, field and field-count limits);
 *	NUL bytes in the header are replaced, 8-bit bytes are kept.
 * BUGS
 *	One worker process per file (fork per message).  The deferred/
 *	retry is a plain timer, not a backoff.
 * SEE ALSO
 *	router(8), router.conf(5), aliases(5), zmta-spool(5), route.h
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ctlfile.h"
#include "maddr.h"
#include "mheader.h"
#include "route.h"
#include "spool.h"
#include "submit.h"
#include "zbuf.h"
#include "zconf.h"
#include "zerr.h"
#include "zevent.h"
#include "zlog.h"
#include "zpriv.h"
#include "zutil.h"

#define HEAD_MAX (4u * 1024u * 1024u)   /* envelope + header */
#define MAX_FIELDS 2000
#define MAX_RCPTS 10000
#define ENV_LINE_MAX 8192

/* worker exit codes */
enum { W_DONE = 0, W_DEFERRED = 1, W_POSTMAN = 2, W_SKIPPED = 3, W_FAILED = 4 };

static struct {
	const char *postoffice;
	const char *confpath;
	rt_config *rt;
	int hashlevels;
	unsigned workers;
	long rescan_s, defer_s;
	zev_loop *loop;
	int sigfd, notifyfd;
	int stopping;
	int once;
	uid_t self_uid;
	/* work queue */
	char (*q)[80];
	size_t qhead, qlen, qcap;
	unsigned long *busy;     /* open-addressing set of inos queued or running */
	size_t busycap, nbusy;
	struct { pid_t pid; unsigned long ino; } *run;
	size_t nrun;
	long long next_defer_ms;
	long long next_auto_reload_ms;   /* after a failed reload: not before */
} R;

/* ---- small helpers ---------------------------------------------------- */

/* is_digits - a name of digits, first 1-9 */
static int is_digits(const char *s)
{
	if (*s < '1' || *s > '9')
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* busy_slot - index for ino in R.busy */
static size_t busy_slot(unsigned long ino)
{
	size_t h = (size_t)(ino * 2654435761u) & (R.busycap - 1);
	while (R.busy[h] != 0 && R.busy[h] != ino)
		h = (h + 1) & (R.busycap - 1);
	return h;
}

/* busy_has / busy_add / busy_del - the set of inos in flight */
static int busy_has(unsigned long ino)
{
	return R.busycap && R.busy[busy_slot(ino)] == ino;
}

static void busy_add(unsigned long ino)
{
	if ((R.nbusy + 1) * 2 > R.busycap) {
		size_t oc = R.busycap;
		unsigned long *old = R.busy;
		R.busycap = oc ? oc * 2 : 1024;
		R.busy = calloc(R.busycap, sizeof(*R.busy));
		if (R.busy == NULL)
			zlog_panic(NULL, "out of memory");
		for (size_t i = 0; i < oc; i++)
			if (old[i] != 0)
				R.busy[busy_slot(old[i])] = old[i];
		free(old);
	}
	size_t h = busy_slot(ino);
	if (R.busy[h] == 0) {
		R.busy[h] = ino;
		R.nbusy++;
	}
}

static void busy_del(unsigned long ino)
{
	if (!busy_has(ino))
		return;
	size_t h = busy_slot(ino);
	R.busy[h] = 0;
	R.nbusy--;
	/* re-insert the rest of the cluster */
	for (size_t j = (h + 1) & (R.busycap - 1); R.busy[j] != 0; j = (j + 1) & (R.busycap - 1)) {
		unsigned long v = R.busy[j];
		R.busy[j] = 0;
		R.busy[busy_slot(v)] = v;
	}
}

/* enqueue - "dir/[X/]ino" unless already in flight */
static void enqueue(const char *rel, unsigned long ino)
{
	if (busy_has(ino) || strlen(rel) >= sizeof(R.q[0]))
		return;
	if (R.qlen == R.qcap) {
		size_t nc = R.qcap ? R.qcap * 2 : 256;
		char (*nq)[80] = malloc(nc * sizeof(*nq));
		if (nq == NULL)
			zlog_panic(NULL, "out of memory");
		for (size_t i = 0; i < R.qlen; i++)
			memcpy(nq[i], R.q[(R.qhead + i) % R.qcap], sizeof(nq[0]));
		free(R.q);
		R.q = nq;
		R.qcap = nc;
		R.qhead = 0;
	}
	zstrlcpy(R.q[(R.qhead + R.qlen) % R.qcap], rel, sizeof(R.q[0]));
	R.qlen++;
	busy_add(ino);
}

/* ino_of_rel - the number at the end of rel */
static unsigned long ino_of_rel(const char *rel)
{
	const char *b = strrchr(rel, '/');
	unsigned long v = 0;
	(void)zparse_ulong(b ? b + 1 : rel, ~0UL, &v);
	return v;
}

/* scan_dir - queue every finished file of dir (and A-Z subdirs for router) */
static void scan_dir(const char *dir, int sub)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char rel[80];
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (sub && de->d_name[0] >= 'A' && de->d_name[0] <= 'Z' && de->d_name[1] == '\0') {
			char sd[16];
			snprintf(sd, sizeof(sd), "%s/%c", dir, de->d_name[0]);
			DIR *d2 = opendir(sd);
			struct dirent *e2;
			if (d2 == NULL)
				continue;
			while ((e2 = readdir(d2)) != NULL)
				if (is_digits(e2->d_name) && strlen(e2->d_name) < 24) {
					snprintf(rel, sizeof(rel), "%s/%s", sd, e2->d_name);
					enqueue(rel, ino_of_rel(rel));
				}
			closedir(d2);
			continue;
		}
		if (!is_digits(de->d_name) || strlen(de->d_name) >= 24)
			continue;
		snprintf(rel, sizeof(rel), "%s/%s", dir, de->d_name);
		enqueue(rel, ino_of_rel(rel));
	}
	closedir(d);
}

/* ---- the worker: one submission file ---------------------------------- */

struct env_rcpt {
	char *addr;
	char *todsn;     /* NULL or the todsn value */
};

struct job {
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

/* to_postman - move the file to postman/<ino>.<tag> with a .reason file */
static int to_postman(struct job *j, const char *tag, const char *reason)
{
	char dst[200], rpath[220];
	snprintf(dst, sizeof(dst), "postman/%lu.%s", j->ino, tag);
	snprintf(rpath, sizeof(rpath), "%s.reason", dst);
	int fd = open(rpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd >= 0) {
		char line[600];
		int n = snprintf(line, sizeof(line), "%s: %s\n", j->id, reason);
		if (n > 0)
			(void)zwrite_all(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
		(void)fsync(fd);
		close(fd);
	}
	if (rename(j->rel, dst) != 0) {
		zlog_error(j->id, "cannot move %s to %s: %s (left in place)", j->rel, dst, strerror(errno));
		return W_FAILED;
	}
	(void)zfsync_dir("postman");
	zlog_warn(j->id, "moved to %s: %s", dst, reason);
	return W_POSTMAN;
}

/* to_deferred - move the file to deferred/<ino>.deferred */
static int to_deferred(struct job *j, const char *reason)
{
	char dst[200];
	snprintf(dst, sizeof(dst), "deferred/%lu.deferred", j->ino);
	if (rename(j->rel, dst) != 0) {
		zlog_error(j->id, "%s; cannot move it to %s: %s (left in place)", reason, dst,
			   strerror(errno));
		return W_FAILED;
	}
	(void)zfsync_dir("deferred");
	zlog_warn(j->id, "deferred: %s", reason);
	return W_DEFERRED;
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
static int is_trusted(uid_t uid, const char *login)
{
	if (uid == 0 || uid == R.self_uid)
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

/* commit_job - write the control file and move the message */
static int commit_job(struct job *j, const zbuf *ctl)
{
	char prefix[8], tmp[64], dst[64], qdst[64], msg[96];
	zbuf err = ZBUF_INIT(512);
	int fd = -1;

	spool_hash_prefix(j->ino, R.hashlevels, prefix, sizeof(prefix));
	snprintf(tmp, sizeof(tmp), "transport/%s.%lu", prefix, j->ino);
	snprintf(dst, sizeof(dst), "transport/%s%lu", prefix, j->ino);
	snprintf(qdst, sizeof(qdst), "queue/%s%lu", prefix, j->ino);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)   /* a dead worker's leftover */
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		zbuf_printf(&err, "cannot create %s: %s", tmp, strerror(errno));
		goto fail;
	}
	/* the lock tells a restarted master's recovery that a worker still
	 * owns this temp file (a master killed alone leaves its workers) */
	(void)flock(fd, LOCK_EX);
	if (zwrite_all(fd, ctl->data, ctl->len) != Z_OK || fsync(fd) != 0) {
		zbuf_printf(&err, "cannot write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	struct stat qs;
	if (lstat(qdst, &qs) == 0) {
		zbuf_printf(&err, "%s exists already", qdst);
		goto fail;
	}
	/* from here on the temp control file is what makes the message
	 * findable: recovery at start-up finishes the rename */
	if (rename(j->rel, qdst) != 0) {
		zbuf_printf(&err, "cannot move %s to %s: %s", j->rel, qdst, strerror(errno));
		goto fail;
	}
	if (rename(tmp, dst) != 0) {
		/* the body is in queue/: the temp file stays for recovery */
		zlog_error(j->id, "cannot rename %s to %s: %s (finished by recovery)", tmp, dst,
			   strerror(errno));
		close(fd);
		zbuf_free(&err);
		return W_FAILED;
	}
	close(fd);
	fd = -1;
	char srcdir[64];
	zstrlcpy(srcdir, j->rel, sizeof(srcdir));
	*strrchr(srcdir, '/') = '\0';
	if (zfsync_parent(qdst) != Z_OK || zfsync_parent(dst) != Z_OK || zfsync_dir(srcdir) != Z_OK)
		zlog_warn(j->id, "directory fsync failed: %s", strerror(errno));
	const char *sn = zconf_get("SCHEDULERNOTIFY");
	char sock[4200];
	if (sn && *sn)
		zstrlcpy(sock, sn, sizeof(sock));
	else
		snprintf(sock, sizeof(sock), ".scheduler.notify");
	snprintf(msg, sizeof(msg), "NEW %s%lu", prefix, j->ino);
	(void)submit_notify(sock, msg);
	zbuf_free(&err);
	return W_DONE;
fail:
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	{
		int rc = to_deferred(j, zbuf_cstr(&err));
		zbuf_free(&err);
		return rc;
	}
}

/* route_job - the worker's work on an opened, locked, read file */
static int route_job(struct job *j)
{
	zbuf why = ZBUF_INIT(512), hdr = ZBUF_INIT(HEAD_MAX + 65536), ctl = ZBUF_INIT(64u * 1024 * 1024);
	zbuf sender = ZBUF_INIT(600), awarn = ZBUF_INIT(1024), msgid = ZBUF_INIT(1024);
	struct outr *out = NULL;
	size_t nout = 0, capout = 0;
	int rc = W_FAILED, have_date = 0, have_mid = 0;
	unsigned long received = 0;
	const rt_config *rt = R.rt;
	const char *myhost = rt_myhostname(rt);
	char date[64];

	if (parse_envelope(j, &why) != Z_OK) {
		rc = to_postman(j, "badsubmit", zbuf_cstr(&why));
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
			rc = to_postman(j, "badheader", "too many header fields");
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
			rc = to_postman(j, "badheader", "header too big");
			goto out;
		}
	}
	j->body_off = j->env_end + c.pos;
	if (c.pos >= c.n && (off_t)j->head.len < j->st.st_size) {
		zbuf_free(&fields);
		rc = to_postman(j, "badheader", "envelope and header larger than the limit");
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
		rc = to_postman(j, "norecipients", "no envelope recipient (\"to\" line)");
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
			rc = to_postman(j, "ctrlfile", "cannot build the control file (record too long?)");
			goto out;
		}
		rc = commit_job(j, &ctl);
		if (rc == W_DONE)
			zlog_info(j->id, "from=<%s>, size=%lld, nrcpts=%zu, failed=%u, msgid=%s",
				  j->null_sender ? "" : zbuf_cstr(&sender), (long long)j->st.st_size, nout,
				  nfail, zbuf_cstr(&msgid));
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

/* work_file - the worker's entry: returns a W_* code */
static int work_file(const char *rel)
{
	struct job j;
	struct stat st2;
	int fd, rc;

	memset(&j, 0, sizeof(j));
	zbuf_init(&j.head, HEAD_MAX);
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
	if (ino_of_rel(rel) != j.ino) {
		/* a name that is not its inode: keep it out of the way */
		rc = to_postman(&j, "badname", "file name is not its inode number");
		goto out;
	}
	j.owner = j.st.st_uid;
	struct passwd *pw = getpwuid(j.owner);
	if (pw)
		zstrlcpy(j.login, pw->pw_name, sizeof(j.login));
	else
		snprintf(j.login, sizeof(j.login), "uid%lu", (unsigned long)j.owner);
	j.trusted = is_trusted(j.owner, pw ? pw->pw_name : "");
	/* read up to HEAD_MAX */
	size_t want = (size_t)j.st.st_size < HEAD_MAX ? (size_t)j.st.st_size : HEAD_MAX;
	if (zbuf_reserve(&j.head, want + 1) != Z_OK) {
		rc = to_deferred(&j, "out of memory");
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
		rc = to_deferred(&j, "short read");
		goto out;
	}
	rc = route_job(&j);
out:
	if (fd >= 0)
		close(fd);   /* drops the lock */
	job_free(&j);
	return rc;
}

/* ---- recovery and deferred retries -------------------------------------- */

/* recover_dir - finish or drop temp control files ".<ino>" in dir */
static void recover_dir(const char *tdir, const char *prefix)
{
	DIR *d = opendir(tdir);
	struct dirent *de;
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || !is_digits(de->d_name + 1) || strlen(de->d_name) > 24)
			continue;
		char tmp[96], dst[96], q[96], msg[96];
		snprintf(tmp, sizeof(tmp), "%s/%s", tdir, de->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", tdir, de->d_name + 1);
		snprintf(q, sizeof(q), "queue/%s%s", prefix, de->d_name + 1);
		struct stat st;
		int lfd = open(tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (lfd < 0)
			continue;
		if (flock(lfd, LOCK_EX | LOCK_NB) != 0) {
			close(lfd);   /* a live worker (of a killed master) owns it */
			continue;
		}
		if (lstat(q, &st) == 0 && lstat(dst, &st) != 0) {
			if (rename(tmp, dst) == 0) {
				(void)zfsync_dir(tdir);
				zlog_info(NULL, "recovered %s (the router stopped between two renames)", dst);
				snprintf(msg, sizeof(msg), "NEW %s%s", prefix, de->d_name + 1);
				const char *sn = zconf_get("SCHEDULERNOTIFY");
				(void)submit_notify(sn && *sn ? sn : ".scheduler.notify", msg);
			}
		} else if (fstat(lfd, &st) == 0 && st.st_mtime + 60 < time(NULL) &&
			   !busy_has(strtoul(de->d_name + 1, NULL, 10)) && unlink(tmp) == 0) {
			/* the message is still in router/ (or done): a worker
			 * that takes it again would replace this file anyway */
			zlog_info(NULL, "removed unfinished temp control file %s", tmp);
		}
		close(lfd);
	}
	closedir(d);
}

/* recover - every transport/ directory */
static void recover(void)
{
	recover_dir("transport", "");
	for (char a = 'A'; a <= 'Z' && R.hashlevels > 0; a++) {
		char d[32], p[8];
		if (R.hashlevels == 1) {
			snprintf(d, sizeof(d), "transport/%c", a);
			snprintf(p, sizeof(p), "%c/", a);
			recover_dir(d, p);
		} else {
			for (char b = 'A'; b <= 'Z'; b++) {
				snprintf(d, sizeof(d), "transport/%c/%c", a, b);
				snprintf(p, sizeof(p), "%c/%c/", a, b);
				recover_dir(d, p);
			}
		}
	}
}

/* retry_deferred - deferred/<ino>.deferred back to router/<ino> */
static void retry_deferred(void)
{
	DIR *d = opendir("deferred");
	struct dirent *de;
	int moved = 0;
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char num[32], src[96], dst[96];
		const char *dot = strchr(de->d_name, '.');
		if (dot == NULL || strcmp(dot, ".deferred") != 0 || (size_t)(dot - de->d_name) >= sizeof(num))
			continue;
		memcpy(num, de->d_name, (size_t)(dot - de->d_name));
		num[dot - de->d_name] = '\0';
		if (!is_digits(num))
			continue;
		int n1 = snprintf(src, sizeof(src), "deferred/%s", de->d_name);
		int n2 = snprintf(dst, sizeof(dst), "router/%s", num);
		if (n1 < 0 || (size_t)n1 >= sizeof(src) || n2 < 0 || (size_t)n2 >= sizeof(dst))
			continue;
		struct stat st;
		if (lstat(dst, &st) == 0)
			continue;
		if (rename(src, dst) == 0) {
			moved++;
			enqueue(dst, ino_of_rel(dst));
		}
	}
	closedir(d);
	if (moved) {
		(void)zfsync_dir("router");
		(void)zfsync_dir("deferred");
		zlog_info(NULL, "%d deferred message%s back to router/", moved, moved == 1 ? "" : "s");
	}
}

/* ---- master ------------------------------------------------------------ */

/* reload - load the tables again; keep the old ones on error */
static void reload(const char *why)
{
	rt_config *nc;
	zbuf err = ZBUF_INIT(2048);
	if (rt_load(R.confpath, &nc, &err) != Z_OK) {
		zlog_error(NULL, "%s: reload failed, old tables kept: %s", why, zbuf_cstr(&err));
		/* a file that stays broken is not retried (and logged) at
		 * every scan: once a minute, or at SIGHUP / RELOAD */
		R.next_auto_reload_ms = zmono_ms() + 60000;
	} else {
		R.next_auto_reload_ms = 0;
		rt_free(R.rt);
		R.rt = nc;
		zlog_info(NULL, "%s: tables reloaded from %s", why, R.confpath);
	}
	zbuf_free(&err);
}

/* start_work - fork workers while there is room */
static void start_work(void)
{
	while (R.qlen > 0 && R.nrun < R.workers && !R.stopping) {
		char rel[80];
		zstrlcpy(rel, R.q[R.qhead], sizeof(rel));
		R.qhead = (R.qhead + 1) % R.qcap;
		R.qlen--;
		unsigned long ino = ino_of_rel(rel);
		pid_t pid = fork();
		if (pid < 0) {
			zlog_warn(NULL, "fork: %s (retried at the next scan)", strerror(errno));
			busy_del(ino);
			return;
		}
		if (pid == 0) {
			sigset_t ss;
			sigemptyset(&ss);
			sigprocmask(SIG_SETMASK, &ss, NULL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGHUP, SIG_IGN);
			_exit(work_file(rel));
		}
		R.run[R.nrun].pid = pid;
		R.run[R.nrun].ino = ino;
		R.nrun++;
	}
}

/* reap - collect finished workers */
static void reap(void)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (size_t i = 0; i < R.nrun; i++) {
			if (R.run[i].pid != pid)
				continue;
			busy_del(R.run[i].ino);
			if (!WIFEXITED(st) || WEXITSTATUS(st) == W_FAILED)
				zlog_warn(NULL, "worker %ld for %lu ended with %s %d", (long)pid, R.run[i].ino,
					  WIFEXITED(st) ? "status" : "signal",
					  WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			R.run[i] = R.run[--R.nrun];
			break;
		}
	}
}

/* rescan - every input directory; tables changed? deferred due? */
static void rescan(void)
{
	static unsigned n;
	if (++n % 6 == 0)
		recover();   /* temp files of workers that died since */
	scan_dir("router", 1);
	scan_dir("public", 0);
	if (R.rt && zmono_ms() >= R.next_auto_reload_ms && rt_changed(R.rt))
		reload("a table file changed");
	if (zmono_ms() >= R.next_defer_ms) {
		retry_deferred();
		R.next_defer_ms = zmono_ms() + R.defer_s * 1000;
	}
}

static void tick(zev_loop *loop, void *arg);

/* tick - periodic rescan */
static void tick(zev_loop *loop, void *arg)
{
	(void)arg;
	if (!R.stopping) {
		rescan();
		start_work();
		zev_timer_add(loop, zmono_ms() + R.rescan_s * 1000, tick, NULL);
	}
}

/* signal_io - HUP reload, TERM/INT stop, CHLD reap */
static void signal_io(zev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)events; (void)arg;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			reload("SIGHUP");
			break;
		case SIGTERM:
		case SIGINT:
			if (!R.stopping)
				zlog_info(NULL, "stopping: waiting for %zu worker%s", R.nrun, R.nrun == 1 ? "" : "s");
			R.stopping = 1;
			break;
		case SIGCHLD:
			break;
		}
	}
	reap();
	start_work();
	if (R.stopping && R.nrun == 0)
		zev_stop(loop);
}

/* notify_io - "NEW <dir> <name>" and "RELOAD" datagrams */
static void notify_io(zev_loop *loop, int fd, unsigned events, void *arg)
{
	(void)loop; (void)events; (void)arg;
	char buf[256];
	for (int i = 0; i < 512; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n <= 0)
			break;
		buf[n] = '\0';
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		if (strcmp(buf, "RELOAD") == 0) {
			reload("RELOAD request");
			continue;
		}
		char dir[16], name[64], rel[96];
		if (sscanf(buf, "NEW %15s %63s", dir, name) != 2)
			continue;
		const char *base = name;
		if (strcmp(dir, "router") == 0 && base[0] >= 'A' && base[0] <= 'Z' && base[1] == '/')
			base += 2;
		if ((strcmp(dir, "router") != 0 && strcmp(dir, "public") != 0) || !is_digits(base) ||
		    (strcmp(dir, "public") == 0 && base != name))
			continue;
		snprintf(rel, sizeof(rel), "%s/%s", dir, name);
		enqueue(rel, ino_of_rel(rel));
	}
	start_work();
}

/* open_notify - bind the router's datagram socket (0666: any submitter) */
static int open_notify(void)
{
	const char *p = zconf_get("ROUTERNOTIFY");
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (zstrlcpy(sa.sun_path, p && *p ? p : ".router.notify", sizeof(sa.sun_path)) != Z_OK)
		return -1;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	(void)unlink(sa.sun_path);
	mode_t old = umask(0111);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0) {
		zlog_warn(NULL, "notify socket %s: %s (rescans only)", sa.sun_path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* usage - synopsis */
static _Noreturn void usage(void)
{
	fputs("usage: router [-n] [-1] [-f router.conf] [-P postoffice] [-L logfile] [-w workers]"
	      " [-H hashlevels]\n", stderr);
	exit(EX_USAGE);
}

/* long_conf - a number from zmta.conf with a default */
static long long_conf(const char *name, long def, long min, long max)
{
	const char *v = zconf_get(name);
	long x;
	if (v == NULL || zparse_long(v, min, max, &x) != Z_OK)
		return def;
	return x;
}

int main(int argc, char **argv)
{
	int ch, checkonly = 0, hash_given = 0;
	const char *po = NULL, *logpath = NULL, *conf = NULL;
	zbuf err = ZBUF_INIT(4096);
	char confbuf[4200];
	unsigned long w = 0;

	zproctitle_init(argc, argv);
	zlog_open("router", ZLOG_TO_STDERR);
	while ((ch = getopt(argc, argv, "n1f:P:L:w:H:")) != -1) {
		switch (ch) {
		case 'n': checkonly = 1; break;
		case '1': R.once = 1; break;
		case 'f': conf = optarg; break;
		case 'P': po = optarg; break;
		case 'L': logpath = optarg; break;
		case 'w':
			if (zparse_ulong(optarg, 64, &w) != Z_OK || w == 0)
				usage();
			break;
		case 'H': {
			unsigned long h;
			if (zparse_ulong(optarg, 2, &h) != Z_OK)
				usage();
			R.hashlevels = (int)h;
			hash_given = 1;
			break;
		}
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (zconf_load(NULL, &err) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "%s", zbuf_cstr(&err));
	if (conf == NULL) {
		conf = zconf_get("ROUTERCONF");
		if (conf == NULL || *conf == '\0') {
			const char *ms = zconf_get_default("MAILSHARE", ZMTA_SYSCONFDIR);
			snprintf(confbuf, sizeof(confbuf), "%s/router.conf", ms);
			conf = confbuf;
		}
	}
	static char absconf[PATH_MAX];
	if (realpath(conf, absconf) != NULL)
		conf = absconf;   /* reloads happen after chdir(POSTOFFICE) */
	R.confpath = conf;
	if (rt_load(conf, &R.rt, &err) != Z_OK) {
		if (checkonly) {
			fprintf(stderr, "router: %s\n", zbuf_cstr(&err));
			zbuf_free(&err);
			return EX_CONFIG;
		}
		zlog_fatal(EX_CONFIG, NULL, "%s", zbuf_cstr(&err));
	}
	if (checkonly) {
		zbuf rep = ZBUF_INIT(8192);
		rt_report(R.rt, &rep);
		printf("%s: ok\n%s", conf, zbuf_cstr(&rep));
		zbuf_free(&rep);
		rt_free(R.rt);
		zbuf_free(&err);
		return 0;
	}
	if (logpath && zlog_set_file(logpath) != Z_OK)
		zlog_fatal(EX_CANTCREAT, NULL, "cannot open log file %s", logpath);
	/* drop root for good */
	if (geteuid() == 0) {
		zpriv_ids zu;
		const char *u = zconf_get_default("ZMTA_USER", "zmta");
		if (zpriv_resolve(u, NULL, &zu, &err) != Z_OK)
			zlog_fatal(EX_NOUSER, NULL, "ZMTA_USER %s: %s", u, zbuf_cstr(&err));
		if (zu.uid == 0)
			zlog_warn(NULL, "ZMTA_USER %s is uid 0: the router keeps root", u);
		else if (zpriv_drop_ids(&zu, &err) != Z_OK)
			zlog_fatal(EX_OSERR, NULL, "cannot drop root to %s: %s", u, zbuf_cstr(&err));
	}
	R.self_uid = geteuid();
	if (po == NULL)
		po = zconf_get("POSTOFFICE");
	if (po == NULL || chdir(po) != 0)
		zlog_fatal(EX_OSFILE, NULL, "POSTOFFICE %s: %s", po ? po : "(unset)", strerror(errno));
	R.postoffice = po;
	if (!hash_given)
		R.hashlevels = (int)long_conf("SCHEDULERDIRHASH", 0, 0, 2);
	R.workers = w ? (unsigned)w : (unsigned)long_conf("ROUTER_WORKERS", 4, 1, 64);
	R.rescan_s = long_conf("ROUTER_RESCAN", 10, 1, 3600);
	R.defer_s = long_conf("ROUTER_DEFER_RETRY", 300, 1, 86400);
	R.next_defer_ms = zmono_ms() + R.defer_s * 1000;
	R.run = calloc(R.workers, sizeof(*R.run));
	if (R.run == NULL)
		zlog_fatal(EX_OSERR, NULL, "out of memory");
	int pidfd = open(".pid.router", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (pidfd < 0 || flock(pidfd, LOCK_EX | LOCK_NB) != 0)
		zlog_fatal(EX_TEMPFAIL, NULL, "another router runs on %s (or .pid.router: %s)", po,
			   strerror(errno));
	{
		char pb[32];
		int n = snprintf(pb, sizeof(pb), "%ld\n", (long)getpid());
		if (ftruncate(pidfd, 0) != 0 || zwrite_all(pidfd, pb, (size_t)n) != Z_OK)
			zlog_warn(NULL, "cannot write .pid.router");
	}
	recover();
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGCHLD);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	R.loop = zev_new();
	R.sigfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	if (R.loop == NULL || R.sigfd < 0)
		zlog_fatal(EX_OSERR, NULL, "event loop: %s", strerror(errno));
	zev_io_add(R.loop, R.sigfd, ZEV_READ, signal_io, NULL);
	if (!R.once) {
		R.notifyfd = open_notify();
		if (R.notifyfd >= 0)
			zev_io_add(R.loop, R.notifyfd, ZEV_READ, notify_io, NULL);
	}
	zlog_info(NULL, "started on %s with %u workers, tables from %s", po, R.workers, conf);
	if (R.once) {
		/* process what is there now, then stop */
		rescan();
		R.stopping = 0;
		start_work();
		while (R.nrun > 0 || R.qlen > 0) {
			zev_run_once(R.loop, 1000);
			reap();
			start_work();
		}
	} else {
		tick(R.loop, NULL);
		zev_run(R.loop);
	}
	zlog_info(NULL, "stopped");
	rt_free(R.rt);
	zbuf_free(&err);
	return 0;
}
