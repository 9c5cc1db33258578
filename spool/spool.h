/*
 * spool.h - the POSTOFFICE tree: layout, hash prefixes, spool ids, job-path
 * validation, quarantine into postman/.
 *
 * Layout (zmta-spool(5)): $POSTOFFICE/{public,router,queue,transport,
 * deferred,postman,freezer}; optional A-Z (one level) or A-Z/A-Z (two
 * levels) hash subdirectories under queue/ and transport/.
 */
#ifndef ZMTA_SPOOL_H
#define ZMTA_SPOOL_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include "zbuf.h"

#define SPOOL_ID_MAX 40          /* "S" + 20 digits + 13 chars + NUL = 35 fits */
#define SPOOL_JOBPATH_MAX 64

/* spool_init - create/verify every directory with its mode (see
 * zmta-spool(5)); hashlevels 0..2 also creates queue/ and transport/ hash
 * subdirectories.  Idempotent.  Z_OK or Z_EIO with text in err. */
int spool_init(const char *postoffice, int hashlevels, zbuf *err);
/* spool_init_report - spool_init that calls note(arg, path, mode) for every
 * directory it creates (zmta postoffice-init prints them); note may be NULL */
typedef void (*spool_note_fn)(void *arg, const char *path, unsigned mode);
int spool_init_report(const char *postoffice, int hashlevels, spool_note_fn note,
		      void *arg, zbuf *err);
/* spool_init_owned - spool_init_report that also chowns every directory
 * (not files) to uid:gid and re-applies the modes; uid (uid_t)-1 leaves
 * owners alone */
int spool_init_owned(const char *postoffice, int hashlevels, uid_t uid, gid_t gid,
		     spool_note_fn note, void *arg, zbuf *err);
/* spool_verify - every directory exists and is a directory */
int spool_verify(const char *postoffice, zbuf *err);

/* spool_hash_prefix - "" (0), "K/" (1) or "E/K/" (2) for ino; out >= 5 bytes */
int spool_hash_prefix(unsigned long ino, int levels, char *out, size_t outsz);

/* spool_id_format - ZMailer spool id: "S" ino + 8 chars of mtime (+5 if nsec) */
int spool_id_format(unsigned long ino, time_t mtime, long nsec, char *out, size_t outsz);

/* spool_jobpath_check - a job path is [A-Z/[A-Z/]]<digits> (first digit 1-9),
 * at most SPOOL_JOBPATH_MAX bytes, relative, no "..".  On Z_OK *ino is the
 * numeric basename and prefix_len the length of the hash prefix. */
int spool_jobpath_check(const char *path, size_t len, unsigned long *ino,
			size_t *prefix_len, zbuf *why);
/* spool_open_in_tree - open relpath below the directory fd dirfd without
 * following symlinks in any component (O_NOFOLLOW per component); flags as
 * for open(2).  Returns fd or Z_EIO/Z_ENOENT with text in why. */
int spool_open_in_tree(int dirfd, const char *relpath, int flags, zbuf *why);

/* spool_quarantine - move transport/<rel> (and queue/<prefix><body> when
 * body is not NULL and exists) into postman/ as <ino>.<tag> and write
 * postman/<ino>.<tag>.reason with the reason text; fsync files and dirs.
 * postoffice may be NULL when the cwd is $POSTOFFICE/transport. Never
 * unlinks anything. */
int spool_quarantine(const char *postoffice, const char *rel, const char *body,
		     const char *tag, const char *reason, zbuf *err);

#endif
