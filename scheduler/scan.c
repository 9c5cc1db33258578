/*
 * NAME
 *	scan.c - read transport/ and its control files into the model
 * SUMMARY
 *	The scan of transport/ and its hash directories, the reading of one
 *	control file into sfile/vertex records linked into threads, ETRN
 *	files, stale locks, and the host check (recipients whose host is no
 *	host fail at once).
 * SYNOPSIS
 *	scan_tree, scan_file, scan_etrn, scan_is_etrn, sched_host_check,
 *	rcpt_fail_at_scan
 * DESCRIPTION
 *	Works on a scan_ctx the daemon owns (model, configuration,
 *	counters) from the current directory, transport/.  A file already in
 *	the model, or finished and still being removed (removal_busy), is
 *	skipped.  Pending recipients are grouped by (channel,
 *	host) into vertices (open addressing, linear in the recipients),
 *	attempts and the delay-warning flag come back from the DELAY slot,
 *	each vertex joins the thread of the clause matching its channel and
 *	host.  What happens next is the owner's: the note hook keeps the
 *	addresses for mailq, the loaded hook completes, expires and starts,
 *	the turnme hook runs "T" lines, the early hook is called once when
 *	the initial scan has queued SCAN_EARLY_FILES files (the daemon
 *	starts the first agents then).  Without hooks (tests, -X) the scan
 *	only builds the model.
 * DIAGNOSTICS
 *	"queued ..." per new file (not during the initial scan unless
 *	frozen); quarantines and cleared stale locks are logged; read errors
 *	are warnings and the file is read again at a later scan.
 * SECURITY
 *	Control files are untrusted input: parsed by the strict ctl_parse;
 *	a file that does not parse, lacks its body, or whose 'i' line names
 *	another message's body (a body belongs to one message: 'i' must be
 *	the file's own id) is moved to postman/ with a reason
 *	(spool_quarantine), never unlinked.  A system error while reading
 *	(ENOMEM, EIO, EMFILE...) is no parse error: the file is read again
 *	later.  Every recipient host must pass sched_host_check (the RFC 5321
 *	host grammar, or "-"); one that does not is failed at once with a
 *	"5.1.2 invalid host" 'd' line and never reaches an agent.  Locks found
 *	in a file being read are stale whoever holds them (no agent of this
 *	scheduler can hold them): cleared, so retries and expiry apply.
 *	Paths are built only from validated numeric names (spool_jobpath_check)
 *	and opened without following symbolic links in any component; every
 *	path snprintf is checked for truncation.
 * BUGS
 *	Files are found at any hash level; none is moved between levels.
 * SEE ALSO
 *	scheduler(8), zmta-spool(5), ctlfile.h, model.h, tests/unit/check_scan.c
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mhost.h"
#include "removal.h"
#include "scan.h"
#include "spool.h"
#include "zerr.h"
#include "zlog.h"

/* slot_attempts - attempts (and warned flag) from the DELAY slot */
static unsigned slot_attempts(const ctl_file *cf, const ctl_rcpt *r, int *warned)
{
	*warned = 0;
	if (r->off + 12 > cf->len)
		return 0;
	const char *p = cf->data + r->off + 8;
	unsigned v = 0;
	int digits = 0;
	for (int i = 0; i < 4; i++) {
		if (p[i] >= '0' && p[i] <= '9') {
			v = v * 10 + (unsigned)(p[i] - '0');
			digits++;
		} else if (p[i] != ' ' || digits) {
			return 0;
		}
	}
	if (v >= 5000) {
		*warned = 1;
		v -= 5000;
	}
	return v;
}

/* quarantine - move a bad control file (and body) to postman/ */
static void quarantine(scan_ctx *sc, const char *rel, unsigned long ino, const char *tag, const char *reason)
{
	zbuf err = ZBUF_INIT(512);
	char body[32];
	struct stat st;
	unsigned long fino = lstat(rel, &st) == 0 ? (unsigned long)st.st_ino : 0;
	snprintf(body, sizeof body, "%lu", ino);   /* 20 digits at most: fits */
	if (spool_quarantine(NULL, rel, body, tag, reason, &err) == Z_OK) {
		sc->st->c_quarantined++;
		zlog_error(NULL, "%s: %s: moved to postman/%lu.%s (with a .reason file)", rel, reason,
			   fino, tag);
	} else {
		zlog_error(NULL, "%s: %s; quarantine failed: %s", rel, reason, zbuf_cstr(&err));
	}
	zbuf_free(&err);
}

/* pid_alive - does a process with this pid exist? */
static int pid_alive(int pid)
{
	if (pid <= 0)
		return 0;
	if (kill(pid, 0) == 0)
		return 1;
	return errno == EPERM;
}

/* scan_etrn - "<n>-etrn" file: T lines start threads, then it goes */
void scan_etrn(scan_ctx *sc, const char *rel)
{
	int fd = spool_open_in_tree(AT_FDCWD, rel, O_RDONLY, NULL);
	if (fd < 0)
		return;
	ctl_file cf;
	zbuf err = ZBUF_INIT(512);
	int rc = ctl_read(fd, CTL_PARSE_ETRN, &cf, &err);
	close(fd);
	if (rc == Z_OK) {
		for (size_t i = 0; i < cf.nturnme; i++) {
			char host[256];
			zspan_copy(cf.turnme[i], host, sizeof host);
			zlog_info(NULL, "ETRN file %s: turnme %s", rel, host);
			if (sc->hooks.turnme != NULL)
				sc->hooks.turnme(sc->hooks.arg, host);
		}
		if (unlink(rel) != 0)
			zlog_warn(NULL, "cannot remove ETRN file %s: %s", rel, strerror(errno));
	} else {
		zlog_error(NULL, "ETRN file %s: %s", rel, zbuf_cstr(&err));
		zbuf err2 = ZBUF_INIT(512);
		if (spool_quarantine(NULL, rel, NULL, "badetrn", zbuf_cstr(&err), &err2) != Z_OK)
			zlog_error(NULL, "%s", zbuf_cstr(&err2));
		zbuf_free(&err2);
	}
	ctl_free(&cf);
	zbuf_free(&err);
}

/* tmp group while building the vertices of one file */
typedef struct vgroup {
	sym *ch, *host;
	uint32_t n;
	vertex *v;
} vgroup;

/* group_slot - hash of a (channel, host) pair */
static size_t group_slot(const sym *ch, const sym *ho, size_t hcap)
{
	size_t x = (size_t)ch * 31u ^ (size_t)ho;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return x & (hcap - 1);
}

/* group_find - index of the group for (ch, ho), or ng when there is none
 * yet (gidx holds index+1, 0 = empty slot) */
static size_t group_find(const vgroup *g, const size_t *gidx, size_t hcap, const sym *ch,
			 const sym *ho, size_t ng)
{
	for (size_t h = group_slot(ch, ho, hcap);; h = (h + 1) & (hcap - 1)) {
		if (gidx[h] == 0)
			return ng;
		const vgroup *e = &g[gidx[h] - 1];
		if (e->ch == ch && e->host == ho)
			return gidx[h] - 1;
	}
}

/* group_put - remember group k for (ch, ho) */
static void group_put(size_t *gidx, size_t hcap, const sym *ch, const sym *ho, size_t k)
{
	size_t h = group_slot(ch, ho, hcap);
	while (gidx[h] != 0)
		h = (h + 1) & (hcap - 1);
	gidx[h] = k + 1;
}

/* scan_file - see scan.h */
int scan_file(scan_ctx *sc, const char *rel)
{
	unsigned long ino;
	size_t plen;
	zbuf why = ZBUF_INIT(512);
	int ret = -1, fd = -1;
	struct stat st, qst;
	ctl_file cf;
	vgroup *g = NULL;
	size_t *gidx = NULL, hcap = 0;
	size_t ng = 0, hostfail = 0;
	char (*tm)[256] = NULL;
	char prefix[8], body[80], qpath[200];

	memset(&cf, 0, sizeof cf);
	if (spool_jobpath_check(rel, strlen(rel), &ino, &plen, &why) != Z_OK)
		goto out;
	if (model_file_find(sc->m, ino)) {
		ret = 1;
		goto out;
	}
	/* finished, its removal not done yet: the control file there may
	 * still be the old one; once its body is gone the number is free
	 * and a file under it is a new message (removal.c) */
	if (sc->rm != NULL && removal_busy(sc->rm, ino)) {
		ret = 1;
		goto out;
	}
	sc->files++;
	/* no symlink in any component (a hash directory included) */
	fd = spool_open_in_tree(AT_FDCWD, rel, O_RDWR, &why);
	if (fd < 0) {
		if (fd != Z_ENOENT)
			zlog_warn(NULL, "cannot open %s", zbuf_cstr(&why));
		fd = -1;
		goto out;
	}
	memcpy(prefix, rel, plen);
	prefix[plen] = '\0';
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	int rrc = ctl_read(fd, 0, &cf, &why);
	if (rrc == Z_EPARSE) {
		sc->bad++;
		quarantine(sc, rel, ino, "badctl", zbuf_cstr(&why));
		goto out;
	}
	if (rrc != Z_OK) {
		/* out of memory, an I/O error...: the file is not at fault */
		zlog_warn(NULL, "%s: cannot read now (%s): retrying at a later scan", rel,
			  zbuf_cstr(&why));
		ret = 0;
		goto out;
	}
	/* the body is the message's own: 'i' names the control file's id */
	const char *own = rel + plen;
	if (cf.body.n != strlen(own) || memcmp(cf.body.p, own, cf.body.n) != 0) {
		char shown[64];
		zspan_copy(cf.body, body, sizeof body);
		for (size_t i = 0; body[i]; i++)
			if ((unsigned char)body[i] < ' ' || (unsigned char)body[i] >= 127)
				body[i] = '?';
		int k = snprintf(shown, sizeof shown, "%s", body);
		sc->bad++;
		zbuf_reset(&why);
		zbuf_printf(&why, "'i' line names body \"%s%s\", not this message's own id %s",
			    shown, (k < 0 || (size_t)k >= sizeof shown) ? "..." : "", own);
		quarantine(sc, rel, ino, "badbody", zbuf_cstr(&why));
		goto out;
	}
	/* the body and arrival */
	int k = snprintf(qpath, sizeof qpath, "../queue/%s%s", prefix, own);
	if (k < 0 || (size_t)k >= sizeof qpath)
		goto out;   /* cannot happen: rel passed spool_jobpath_check */
	int bst = lstat(qpath, &qst);
	if (bst != 0 && errno != ENOENT && errno != ENOTDIR) {
		zlog_warn(NULL, "%s: cannot stat its body %s (%s): retrying at a later scan", rel,
			  qpath, strerror(errno));
		ret = 0;
		goto out;
	}
	if (bst != 0 || !S_ISREG(qst.st_mode)) {
		sc->bad++;
		quarantine(sc, rel, ino, "nobody", "message body file is missing from queue/");
		goto out;
	}
	/* Locks: no agent of this scheduler works on a file that is not in
	 * the model yet, so every lock found here is stale, whoever holds it
	 * (a dead agent, an agent of a previous scheduler, a pid reused
	 * after a reboot, pid 1): cleared, so that retries and expiry apply */
	for (size_t i = 0; i < cf.nrcpts; i++) {
		ctl_rcpt *r = &cf.rcpts[i];
		if (r->tag != CTL_TAG_LOCK)
			continue;
		zbuf_reset(&why);
		if (ctl_lock(fd, r->off, CTL_TAG_LOCK, CTL_TAG_NORMAL, 0, &why) != Z_OK) {
			zlog_warn(NULL, "%s: cannot clear stale lock at %zu (%s): retrying at a later scan",
				  rel, r->off, zbuf_cstr(&why));
			ret = 0;
			goto out;
		}
		zlog_info(NULL, "%s: cleared stale lock of %s process %d at %zu", rel,
			  pid_alive(r->pid) ? "foreign" : "dead", r->pid, r->off);
		r->tag = CTL_TAG_NORMAL;
	}
	/* recipients whose host is not a host fail now, with a diagnostic;
	 * they never reach an agent (nor its argv) */
	for (size_t i = 0; i < cf.nrcpts; i++) {
		ctl_rcpt *r = &cf.rcpts[i];
		if (r->tag != CTL_TAG_NORMAL || r->xor_group >= 0)
			continue;
		zbuf_reset(&why);
		if (sched_host_check(r->quad.channel, r->quad.host, &why) == Z_OK)
			continue;
		if (rcpt_fail_at_scan(sc, fd, rel, r, zbuf_cstr(&why)) != Z_OK) {
			ret = 0;
			goto out;
		}
		r->tag = CTL_TAG_NOTOK;
		hostfail++;
	}
	close(fd);
	fd = -1;
	sfile *f = model_file_new(sc->m, ino, prefix);
	f->arrival = qst.st_mtime;
	f->ctime = st.st_ctime;
	f->nrcpt = (uint32_t)cf.nrcpts;
	if (hostfail)
		f->haderror = 1;
	/* completion may skip reading the file again while nothing is to
	 * be reported: no 'd' line waits for a report */
	f->quick = hostfail == 0;
	for (size_t i = 0; i < cf.ndiags && f->quick; i++)
		if (cf.diags[i].tag == ' ')
			f->quick = 0;
	for (size_t i = 0; i < cf.nrcpts; i++)
		if (cf.rcpts[i].tag == CTL_TAG_NOTOK)
			f->nfail0++;
	/* group pending recipients by (channel, host) */
	/* group index: open addressing on (channel, host) so that a file
	 * with very many distinct destinations stays linear */
	hcap = 16;
	while (hcap < cf.nrcpts * 2)
		hcap *= 2;
	g = calloc(cf.nrcpts ? cf.nrcpts : 1, sizeof *g);
	gidx = calloc(hcap, sizeof *gidx);
	if (g == NULL || gidx == NULL)
		zlog_panic(NULL, "out of memory");
	for (size_t i = 0; i < cf.nrcpts; i++) {
		ctl_rcpt *r = &cf.rcpts[i];
		if (r->tag != CTL_TAG_NORMAL || r->xor_group >= 0)
			continue;
		sym *ch = model_sym(sc->m, r->quad.channel.p, r->quad.channel.n);
		sym *ho = model_sym(sc->m, r->quad.host.p, r->quad.host.n);
		size_t k = group_find(g, gidx, hcap, ch, ho, ng);
		if (k == ng) {
			g[ng].ch = ch;
			g[ng].host = ho;
			group_put(gidx, hcap, ch, ho, ng);
			ng++;
		}
		g[k].n++;
	}
	for (size_t k = 0; k < ng; k++) {
		g[k].v = vertex_new(g[k].n);
		g[k].v->file = f;
		g[k].v->fnext = f->vertices;
		f->vertices = g[k].v;
		g[k].v->nrcpt = 0;
		sc->m->nvertex++;
	}
	time_t now = time(NULL);
	for (size_t i = 0; i < cf.nrcpts; i++) {
		ctl_rcpt *r = &cf.rcpts[i];
		if (r->tag != CTL_TAG_NORMAL || r->xor_group >= 0)
			continue;
		sym *ch = model_sym(sc->m, r->quad.channel.p, r->quad.channel.n);
		sym *ho = model_sym(sc->m, r->quad.host.p, r->quad.host.n);
		size_t k = group_find(g, gidx, hcap, ch, ho, ng);
		vertex *v = g[k].v;
		srcpt *sr = &v->r[v->nrcpt++];
		int warned;
		sr->off = (uint32_t)r->off;
		sr->attempts = (uint16_t)slot_attempts(&cf, r, &warned);
		sr->flags = (uint8_t)notify_bits(r->notify);
		if (warned) {
			sr->flags |= RF_WARNED;
			v->warned = 1;
		}
		if (sr->attempts > v->attempts)
			v->attempts = sr->attempts;
		v->npending++;
		f->npending++;
		sc->m->nrcpt++;
	}
	if (sc->hooks.note != NULL)
		sc->hooks.note(sc->hooks.arg, f, &cf);     /* addresses for mailq listings */
	/* link into threads */
	for (size_t k = 0; k < ng; k++) {
		const sconf_clause *c = sconf_match(sc->cfg, g[k].ch->s, g[k].host->s);
		if (c == NULL)
			c = sc->cfg->defaults;
		thread *t = model_thread_get(sc->m, c, g[k].ch, g[k].host, now);
		thread_add_vertex(t, g[k].v);
	}
	sc->added++;
	char id[SPOOL_ID_MAX];
	file_spoolid(f, id, sizeof id);
	if (!sc->scanning || sc->freeze)
		zlog_info(id, "queued %s: %u recipient%s pending of %u", rel, f->npending,
			  f->npending == 1 ? "" : "s", f->nrcpt);
	/* turnme lines */
	size_t ntm = cf.nturnme;
	if (ntm) {
		tm = calloc(ntm, sizeof *tm);
		for (size_t i = 0; tm && i < ntm; i++)
			zspan_copy(cf.turnme[i], tm[i], sizeof tm[i]);
	}
	ctl_free(&cf);
	ret = 1;
	if (sc->hooks.loaded != NULL && sc->hooks.loaded(sc->hooks.arg, f, now))
		goto out;       /* finished at once (nothing pending, expired) */
	for (size_t i = 0; tm && i < ntm; i++)
		if (sc->hooks.turnme != NULL)
			sc->hooks.turnme(sc->hooks.arg, tm[i]);
out:
	if (fd >= 0)
		close(fd);
	ctl_free(&cf);
	free(tm);
	free(g);
	free(gidx);
	zbuf_free(&why);
	return ret;
}

/* is_number - all digits, first 1-9 */
static int is_number(const char *s)
{
	if (*s < '1' || *s > '9')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* scan_is_etrn - "<digits>-etrn" */
int scan_is_etrn(const char *s)
{
	if (*s < '0' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9')
		s++;
	return strcmp(s, "-etrn") == 0;
}

/* scan_dir - one directory level ("" or "K/" or "E/K/") */
static void scan_dir(scan_ctx *sc, const char *prefix, int depth)
{
	char dir[16];
	int k = snprintf(dir, sizeof dir, "./%s", prefix);
	if (k < 0 || (size_t)k >= sizeof dir)
		return;
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		char rel[64];
		if (n[0] >= 'A' && n[0] <= 'Z' && n[1] == '\0') {
			if (depth < 2 && (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN)) {
				char sub[16];
				int ks = snprintf(sub, sizeof sub, "%s%c/", prefix, n[0]);
				if (ks > 0 && (size_t)ks < sizeof sub)
					scan_dir(sc, sub, depth + 1);
			}
			continue;
		}
		if (strlen(n) > 40)
			continue;
		int kr = snprintf(rel, sizeof rel, "%s%s", prefix, n);
		if (kr < 0 || (size_t)kr >= sizeof rel)
			continue;
		if (is_number(n)) {
			(void)scan_file(sc, rel);
			if (sc->scanning && !sc->early_done && sc->added >= SCAN_EARLY_FILES &&
			    sc->hooks.early != NULL) {
				sc->early_done = 1;
				sc->hooks.early(sc->hooks.arg);
			}
		} else if (scan_is_etrn(n))
			scan_etrn(sc, rel);
	}
	closedir(d);
}

/* scan_tree - see scan.h */
void scan_tree(scan_ctx *sc)
{
	scan_dir(sc, "", 0);
}

/* hold_cond_shape - "CLASS:param": CLASS upper-case letters, param
 * printable ASCII without blanks (hold(8) parses the rest) */
static int hold_cond_shape(zspan host, zbuf *why)
{
	size_t i = 0;

	while (i < host.n && host.p[i] >= 'A' && host.p[i] <= 'Z')
		i++;
	if (i == 0 || i >= host.n || host.p[i] != ':') {
		zbuf_puts(why, "a hold condition is CLASS:parameter (e.g. NS:example.org)");
		return Z_EPARSE;
	}
	for (i++; i < host.n; i++) {
		unsigned char c = (unsigned char)host.p[i];
		if (c <= ' ' || c >= 0x7f) {
			zbuf_printf(why, "byte 0x%02x not allowed in a hold condition", c);
			return Z_EPARSE;
		}
	}
	return Z_OK;
}

/* sched_host_check - see scan.h */
int sched_host_check(zspan channel, zspan host, zbuf *why)
{
	if (host.n == 1 && host.p[0] == '-')
		return Z_OK;
	if (channel.n == 4 && memcmp(channel.p, "hold", 4) == 0 &&
	    mhost_parse(host.p, host.n, NULL, NULL) != Z_OK)
		return hold_cond_shape(host, why);
	return mhost_parse(host.p, host.n, NULL, why);
}

/* rcpt_fail_at_scan - see scan.h */
int rcpt_fail_at_scan(scan_ctx *sc, int fd, const char *rel, const ctl_rcpt *r, const char *reason)
{
	char shown[120], text[600];
	size_t n = r->quad.host.n < sizeof shown - 4 ? r->quad.host.n : sizeof shown - 4;
	zbuf err = ZBUF_INIT(512);
	int rc;

	/* the host as it may be shown: bytes outside printable ASCII become '?' */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)r->quad.host.p[i];
		shown[i] = (c < ' ' || c >= 127 || c == '"') ? '?' : (char)c;
	}
	memcpy(shown + n, n < r->quad.host.n ? "..." : "", n < r->quad.host.n ? 4 : 1);
	int k = snprintf(text, sizeof text, "5.1.2 invalid host \"%s\": %s", shown, reason);
	if (k < 0 || (size_t)k >= sizeof text)
		k = snprintf(text, sizeof text, "5.1.2 invalid host \"%s\"", shown);
	if (k < 0)
		text[0] = '\0';
	ctl_diagv d = { .rcpt_off = (long)r->off, .hdr_off = -1, .dsn_off = -1,
			.when = (long long)time(NULL),
			.notary = "\003\001failed\0015.1.2\001X-Zmta; invalid host in the control file\001",
			.text = text };
	rc = ctl_append_diag(fd, &d, &err);
	if (rc == Z_OK) {
		zbuf_reset(&err);
		rc = ctl_lock(fd, r->off, CTL_TAG_NORMAL, CTL_TAG_NOTOK, 0, &err);
	}
	if (rc != Z_OK) {
		zlog_error(NULL, "%s: cannot fail recipient at %zu with an invalid host: %s", rel,
			   r->off, zbuf_cstr(&err));
	} else {
		sc->st->c_failed++;
		zlog_info(NULL, "%s: recipient at %zu failed: %s", rel, r->off, text);
	}
	zbuf_free(&err);
	return rc;
}
