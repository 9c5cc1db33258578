/*
 * NAME
 *	rcommit - the router's group commit: a batch of messages into queue/
 *	and transport/ with one directory fsync each per batch
 * SUMMARY
 *	A worker takes a batch of submission files, stages the control file
 *	of each (rjob.c), makes them durable, renames every message into
 *	queue/ and every control file into transport/, fsyncs each touched
 *	directory once, and only then tells the scheduler.  Also the
 *	set-aside moves (postman/, deferred/) and the start-up recovery of
 *	temp control files.
 * SYNOPSIS
 *	#include "router_int.h"
 *	int rtr_work_batch(const struct rtr_ctx *cx, char (*rels)[RTR_REL_MAX], size_t n);
 *	int rtr_stage(const char *rel, unsigned long ino, const char *id,
 *	              int hashlevels, const zbuf *ctl, struct rtr_staged *out);
 *	int rtr_to_postman(const char *rel, unsigned long ino, const char *id,
 *	                   const char *tag, const char *reason);
 *	int rtr_to_deferred(const char *rel, unsigned long ino, const char *id,
 *	                    const char *reason);
 *	void rtr_recover(int hashlevels, int (*busy)(unsigned long ino));
 *	void rtr_notify_scheduler(const char *relname);
 * DESCRIPTION
 *	rtr_work_batch runs in a worker process (one per batch, forked by
 *	the master).  Phases, each over the whole batch:
 *	1. stage: rtr_prepare + rtr_stage write transport/<X/>.<ino> (temp
 *	   name, flocked: a restarted master's recovery leaves it alone) and
 *	   start its writeback (sync_file_range), without waiting;
 *	2. fsync every temp control file: the writeback of all of them is
 *	   under way, so the file system commits them together and the
 *	   fsyncs after the first mostly find their data on disk;
 *	3. rename router/<ino> (or public/<ino>) to queue/<X/><ino>, then
 *	   transport/<X/>.<ino> to transport/<X/><ino>;
 *	4. fsync each distinct queue/, transport/ and source directory once;
 *	5. "NEW <X/><ino>" to the scheduler for each message, one line each,
 *	   all in one datagram (a new one only past SUBMIT_NOTIFY_MAX bytes,
 *	   the most the scheduler reads), then the locks are dropped.
 *	Crash guarantees (doc/reliability.md): until phase 3 the message is
 *	in router/ (or public/) and a temp control file at most, removed by
 *	recovery after a minute when no live worker holds it; the body goes
 *	to queue/ only after its control file is durable, and a temp control
 *	file with its body in queue/ is finished by recovery (rtr_recover,
 *	at start-up and every sixth scan).  The scheduler hears of a
 *	message only after the directory fsyncs, so a message it may deliver
 *	(and remove) is never undone by a crash.  A crash between phases 3
 *	and 5 leaves committed messages the scheduler finds at its scan.
 *	Duplicates are possible (a message routed again after a crash that
 *	lost its rename), loss is not.
 * DIAGNOSTICS
 *	W_* codes; rtr_work_batch returns W_FAILED if any file of the batch
 *	failed so that it stays where it was, else W_DONE.  Log lines carry
 *	the spool id.
 * SECURITY
 *	Never unlinks a message: set-aside files are renamed.  Temp files are
 *	created O_EXCL|O_NOFOLLOW; a leftover of a dead worker is replaced.
 * BUGS
 *	A lost datagram loses the notes of a whole batch: the scheduler
 *	finds those messages at its next rescan.
 * SEE ALSO
 *	router(8), zmta-spool(5), doc/reliability.md, rjob.c
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "router_int.h"
#include "spool.h"
#include "submit.h"
#include "zbuf.h"
#include "zconf.h"
#include "zerr.h"
#include "zlog.h"
#include "zutil.h"

/* notify_send - the datagram text to the scheduler's socket */
static void notify_send(const char *text)
{
	const char *sn = zconf_get("SCHEDULERNOTIFY");
	(void)submit_notify(sn && *sn ? sn : ".scheduler.notify", text);
}

/* rtr_notify_scheduler - "NEW <relname>" to the scheduler (a lost one: its scan) */
void rtr_notify_scheduler(const char *relname)
{
	char msg[128];
	int n = snprintf(msg, sizeof(msg), "NEW %s", relname);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	notify_send(msg);
}

/* notify_add - append "NEW <relname>\n" to the batch's datagram text in
 * buf (cap SUBMIT_NOTIFY_MAX + 1); a full one is sent first */
static void notify_add(char *buf, size_t *len, const char *relname)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "NEW %s\n", relname);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	if (*len + (size_t)n > SUBMIT_NOTIFY_MAX) {
		notify_send(buf);
		*len = 0;
		buf[0] = '\0';
	}
	memcpy(buf + *len, line, (size_t)n + 1);
	*len += (size_t)n;
}

/* rtr_to_postman - move the file to postman/<ino>.<tag> with a .reason file */
int rtr_to_postman(const char *rel, unsigned long ino, const char *id, const char *tag,
		   const char *reason)
{
	char dst[200], rpath[220];
	snprintf(dst, sizeof(dst), "postman/%lu.%s", ino, tag);
	snprintf(rpath, sizeof(rpath), "%s.reason", dst);
	int fd = open(rpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd >= 0) {
		char line[600];
		int n = snprintf(line, sizeof(line), "%s: %s\n", id, reason);
		if (n > 0)
			(void)zwrite_all(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
		(void)fsync(fd);
		close(fd);
	}
	if (rename(rel, dst) != 0) {
		zlog_error(id, "cannot move %s to %s: %s (left in place)", rel, dst, strerror(errno));
		return W_FAILED;
	}
	(void)zfsync_dir("postman");
	zlog_warn(id, "moved to %s: %s", dst, reason);
	return W_POSTMAN;
}

/* rtr_to_deferred - move the file to deferred/<ino>.deferred */
int rtr_to_deferred(const char *rel, unsigned long ino, const char *id, const char *reason)
{
	char dst[200];
	snprintf(dst, sizeof(dst), "deferred/%lu.deferred", ino);
	if (rename(rel, dst) != 0) {
		zlog_error(id, "%s; cannot move it to %s: %s (left in place)", reason, dst,
			   strerror(errno));
		return W_FAILED;
	}
	(void)zfsync_dir("deferred");
	zlog_warn(id, "deferred: %s", reason);
	return W_DEFERRED;
}


/* staged_paths - the temp, final and queue names of a staged message */
static void staged_paths(const struct rtr_staged *s, char *tmp, char *dst, char *qdst, size_t sz)
{
	snprintf(tmp, sz, "transport/%s.%lu", s->prefix, s->ino);
	snprintf(dst, sz, "transport/%s%lu", s->prefix, s->ino);
	snprintf(qdst, sz, "queue/%s%lu", s->prefix, s->ino);
}

/* staged_close - release a staged message's descriptors and log line */
static void staged_close(struct rtr_staged *s)
{
	if (s->tmpfd >= 0)
		close(s->tmpfd);
	if (s->srcfd >= 0)
		close(s->srcfd);   /* drops the submission's lock */
	s->tmpfd = s->srcfd = -1;
	free(s->logline);
	s->logline = NULL;
}

/* staged_defer - drop a staged control file, set the submission aside */
static int staged_defer(struct rtr_staged *s, const char *reason)
{
	char tmp[64], dst[64], qdst[64];
	staged_paths(s, tmp, dst, qdst, sizeof(tmp));
	(void)unlink(tmp);
	int rc = rtr_to_deferred(s->rel, s->ino, s->id, reason);
	staged_close(s);
	return rc;
}

/* rtr_stage - write transport/<X/>.<ino> and start its writeback */
int rtr_stage(const char *rel, unsigned long ino, const char *id, int hashlevels,
	      const zbuf *ctl, struct rtr_staged *out)
{
	char tmp[64], dst[64], qdst[64];
	zbuf err = ZBUF_INIT(512);
	int fd = -1, rc;

	if (zstrlcpy(out->rel, rel, sizeof(out->rel)) != Z_OK) {
		zbuf_printf(&err, "name too long");
		goto fail;
	}
	out->ino = ino;
	zstrlcpy(out->id, id, sizeof(out->id));
	spool_hash_prefix(ino, hashlevels, out->prefix, sizeof(out->prefix));
	staged_paths(out, tmp, dst, qdst, sizeof(tmp));
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
	if (zwrite_all(fd, ctl->data, ctl->len) != Z_OK) {
		zbuf_printf(&err, "cannot write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	/* start the writeback now; the batch's fsyncs then wait together */
	(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	out->tmpfd = fd;
	zbuf_free(&err);
	return W_DONE;
fail:
	if (fd >= 0) {
		close(fd);
		(void)unlink(tmp);
	}
	rc = rtr_to_deferred(rel, ino, id, zbuf_cstr(&err));
	zbuf_free(&err);
	return rc;
}

/* dirset_add - remember a directory to fsync once (dirs: n entries of 64) */
static void dirset_add(char (*dirs)[64], size_t *n, size_t cap, const char *path)
{
	char d[64];
	if (zstrlcpy(d, path, sizeof(d)) != Z_OK)
		return;
	char *sl = strrchr(d, '/');
	if (sl == NULL)
		return;
	*sl = '\0';
	for (size_t i = 0; i < *n; i++)
		if (strcmp(dirs[i], d) == 0)
			return;
	if (*n < cap)
		memcpy(dirs[(*n)++], d, sizeof(d));
	else
		(void)zfsync_dir(d);   /* no room in the set: at once */
}

/* rtr_work_batch - a worker's batch: stage, fsync, rename, fsync dirs, notify */
int rtr_work_batch(const struct rtr_ctx *cx, char (*rels)[RTR_REL_MAX], size_t n)
{
	struct rtr_staged *st = calloc(n ? n : 1, sizeof(*st));
	size_t ns = 0, dcap = 3 * n + 3, nd = 0;
	char (*dirs)[64] = calloc(dcap, sizeof(*dirs));
	int worst = W_DONE;

	if (st == NULL || dirs == NULL)
		zlog_panic(NULL, "out of memory");
	/* 1. stage every control file (written, writeback started) */
	for (size_t i = 0; i < n; i++) {
		memset(&st[ns], 0, sizeof(st[ns]));
		st[ns].srcfd = st[ns].tmpfd = -1;
		int rc = rtr_prepare(cx, rels[i], &st[ns]);
		if (rc == W_DONE)
			ns++;
		else if (rc == W_FAILED)
			worst = W_FAILED;
	}
	/* 2. the control files durable before any body moves */
	for (size_t k = 0; k < ns; k++) {
		if (fsync(st[k].tmpfd) != 0) {
			char why[200];
			snprintf(why, sizeof(why), "cannot fsync its control file: %s", strerror(errno));
			if (staged_defer(&st[k], why) == W_FAILED)
				worst = W_FAILED;
			st[k].ino = 0;
		}
	}
	/* 3. the renames: body into queue/, then the control file */
	for (size_t k = 0; k < ns; k++) {
		char tmp[64], dst[64], qdst[64], why[300];
		struct stat qs;
		if (st[k].ino == 0)
			continue;
		staged_paths(&st[k], tmp, dst, qdst, sizeof(tmp));
		if (lstat(qdst, &qs) == 0) {
			snprintf(why, sizeof(why), "%s exists already", qdst);
			goto defer;
		}
		/* from here on the temp control file is what makes the message
		 * findable: recovery finishes the rename */
		if (rename(st[k].rel, qdst) != 0) {
			snprintf(why, sizeof(why), "cannot move %s to %s: %s", st[k].rel, qdst, strerror(errno));
			goto defer;
		}
		if (rename(tmp, dst) != 0) {
			zlog_error(st[k].id, "cannot rename %s to %s: %s (finished by recovery)", tmp, dst,
				   strerror(errno));
			dirset_add(dirs, &nd, dcap, qdst);
			dirset_add(dirs, &nd, dcap, st[k].rel);
			staged_close(&st[k]);
			st[k].ino = 0;
			worst = W_FAILED;
			continue;
		}
		dirset_add(dirs, &nd, dcap, qdst);
		dirset_add(dirs, &nd, dcap, dst);
		dirset_add(dirs, &nd, dcap, st[k].rel);
		continue;
defer:
		if (staged_defer(&st[k], why) == W_FAILED)
			worst = W_FAILED;
		st[k].ino = 0;
	}
	/* 4. each touched directory once (queue/ and transport/ come first) */
	for (size_t i = 0; i < nd; i++)
		if (zfsync_dir(dirs[i]) != Z_OK)
			zlog_warn(NULL, "directory fsync of %s failed: %s", dirs[i], strerror(errno));
	/* 5. only now may the scheduler deliver (and remove) them: one
	 * datagram for the batch (more only past SUBMIT_NOTIFY_MAX bytes) */
	size_t ndone = 0, nlen = 0;
	static char note[SUBMIT_NOTIFY_MAX + 1];
	note[0] = '\0';
	for (size_t k = 0; k < ns; k++) {
		if (st[k].ino != 0) {
			char rn[64];
			snprintf(rn, sizeof(rn), "%s%lu", st[k].prefix, st[k].ino);
			notify_add(note, &nlen, rn);
			zlog_info(st[k].id, "%s", st[k].logline ? st[k].logline : "routed");
			ndone++;
		}
	}
	if (nlen > 0)
		notify_send(note);
	/* the locks go only after the scheduler was told */
	for (size_t k = 0; k < ns; k++)
		staged_close(&st[k]);
	if (n > 1)
		zlog_info(NULL, "batch: %zu of %zu files committed, %zu directory fsyncs", ndone, n, nd);
	free(st);
	free(dirs);
	return worst;
}

/* recover_dir - finish or drop temp control files ".<ino>" in dir */
static void recover_dir(const char *tdir, const char *prefix, int (*busy)(unsigned long))
{
	DIR *d = opendir(tdir);
	struct dirent *de;
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || !rtr_is_digits(de->d_name + 1) || strlen(de->d_name) > 24)
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
				snprintf(msg, sizeof(msg), "%s%s", prefix, de->d_name + 1);
				rtr_notify_scheduler(msg);
			}
		} else if (fstat(lfd, &st) == 0 && st.st_mtime + 60 < time(NULL) &&
			   !busy(strtoul(de->d_name + 1, NULL, 10)) && unlink(tmp) == 0) {
			/* the message is still in router/ (or done): a worker
			 * that takes it again would replace this file anyway */
			zlog_info(NULL, "removed unfinished temp control file %s", tmp);
		}
		close(lfd);
	}
	closedir(d);
}

/* rtr_recover - every transport/ directory */
void rtr_recover(int hashlevels, int (*busy)(unsigned long ino))
{
	recover_dir("transport", "", busy);
	for (char a = 'A'; a <= 'Z' && hashlevels > 0; a++) {
		char d[32], p[8];
		if (hashlevels == 1) {
			snprintf(d, sizeof(d), "transport/%c", a);
			snprintf(p, sizeof(p), "%c/", a);
			recover_dir(d, p, busy);
		} else {
			for (char b = 'A'; b <= 'Z'; b++) {
				snprintf(d, sizeof(d), "transport/%c/%c", a, b);
				snprintf(p, sizeof(p), "%c/%c/", a, b);
				recover_dir(d, p, busy);
			}
		}
	}
}

