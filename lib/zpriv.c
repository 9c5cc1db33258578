/*
 * NAME
 *	zpriv - resolve a user/group and drop root completely
 * SUMMARY
 *	The one privilege drop of zmta: the scheduler uses it for itself
 *	(ZMTA_USER) and in every agent child (user=/group=); the router,
 *	smtpserver and mailbox agent are to use the same code.
 * SYNOPSIS
 *	int zpriv_resolve(const char *user, const char *group, zpriv_ids *ids,
 *		zbuf *err);
 *	int zpriv_is_self(const zpriv_ids *ids);
 *	int zpriv_drop_ids(const zpriv_ids *ids, zbuf *err);
 *	int zpriv_group_list(const zpriv_ids *ids, gid_t *list, zbuf *err);
 *	int zpriv_drop(const char *user, const char *group, zbuf *err);
 *	int zpriv_describe(zbuf *out);
 * DESCRIPTION
 *	A user is a passwd name or a decimal uid; a group a group name or a
 *	decimal gid.  Without a group the user's primary group is used (a
 *	bare uid without a passwd entry therefore needs a group).
 *	zpriv_drop_ids sets the supplementary groups first (getgrouplist of
 *	a named user with the chosen gid, else just the gid; never root's
 *	groups), then setresgid and setresuid with the same value three
 *	times, then reads every id back (getresuid, getresgid, getgroups
 *	compared with what was set) and, when the target uid is not 0, checks
 *	that setuid(0), seteuid(0) and setgid(0) all fail.
 * DIAGNOSTICS
 *	Z_OK, or Z_ENOENT/Z_EPARSE/Z_ERR with one line of text in err naming
 *	the user and the call that failed.
 * SECURITY
 *	After a failed zpriv_drop_ids the process may hold any mix of ids:
 *	the caller must exit and must not run anything.  Name lookups go
 *	through NSS (getpwnam, getgrnam, getgrouplist): call it where that
 *	is safe (single-threaded after fork is fine in zmta).
 * BUGS
 *	More than ZPRIV_MAXGROUPS supplementary groups is an error.
 * SEE ALSO
 *	setresuid(2), setgroups(2), getgrouplist(3), scheduler(8)
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zbuf.h"
#include "zerr.h"
#include "zpriv.h"

/* id_number - a decimal id that is not (id_t)-1 */
static int id_number(const char *s, unsigned long *out)
{
	return zparse_ulong(s, 0xfffffffeul, out);
}

/* zpriv_resolve - see zpriv.h */
int zpriv_resolve(const char *user, const char *group, zpriv_ids *ids, zbuf *err)
{
	unsigned long n;
	struct passwd *pw;
	struct group *gr;

	memset(ids, 0, sizeof *ids);
	if (user == NULL || *user == '\0') {
		zbuf_puts(err, "empty user name");
		return Z_EPARSE;
	}
	if (zstrlcpy(ids->name, user, sizeof ids->name) != Z_OK) {
		zbuf_puts(err, "user name too long");
		return Z_EPARSE;
	}
	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL && id_number(user, &n) == Z_OK)
		pw = getpwuid((uid_t)n);
	if (pw != NULL) {
		ids->uid = pw->pw_uid;
		ids->gid = pw->pw_gid;
		ids->named = 1;
		if (zstrlcpy(ids->name, pw->pw_name, sizeof ids->name) != Z_OK) {
			zbuf_puts(err, "user name too long");
			return Z_EPARSE;
		}
	} else if (id_number(user, &n) == Z_OK) {
		ids->uid = (uid_t)n;
		if (group == NULL) {
			zbuf_printf(err, "uid %lu has no passwd entry: a group must be given", n);
			return Z_ENOENT;
		}
	} else {
		zbuf_printf(err, "no such user: %s", user);
		return Z_ENOENT;
	}
	if (group == NULL)
		return Z_OK;
	if (*group == '\0') {
		zbuf_puts(err, "empty group name");
		return Z_EPARSE;
	}
	gr = getgrnam(group);
	if (gr != NULL)
		ids->gid = gr->gr_gid;
	else if (id_number(group, &n) == Z_OK)
		ids->gid = (gid_t)n;
	else {
		zbuf_printf(err, "no such group: %s", group);
		return Z_ENOENT;
	}
	return Z_OK;
}

/* zpriv_is_self - see zpriv.h */
int zpriv_is_self(const zpriv_ids *ids)
{
	return getuid() == ids->uid && geteuid() == ids->uid &&
	       getgid() == ids->gid && getegid() == ids->gid;
}

/* group_list - the supplementary groups ids should have; count or -1 */
static int group_list(const zpriv_ids *ids, gid_t *list, zbuf *err)
{
	int n = ZPRIV_MAXGROUPS;
	if (!ids->named) {
		list[0] = ids->gid;
		return 1;
	}
	if (getgrouplist(ids->name, ids->gid, list, &n) < 0) {
		zbuf_printf(err, "user %s is in more than %d groups", ids->name, ZPRIV_MAXGROUPS);
		return -1;
	}
	return n;
}

/* zpriv_group_list - see zpriv.h */
int zpriv_group_list(const zpriv_ids *ids, gid_t *list, zbuf *err)
{
	return group_list(ids, list, err);
}

/* same_set - the groups of the process are exactly want[0..nwant) */
static int same_set(const gid_t *want, int nwant, const gid_t *have, int nhave)
{
	for (int i = 0; i < nhave; i++) {
		int found = 0;
		for (int j = 0; j < nwant && !found; j++)
			found = have[i] == want[j];
		if (!found)
			return 0;
	}
	for (int j = 0; j < nwant; j++) {
		int found = 0;
		for (int i = 0; i < nhave && !found; i++)
			found = have[i] == want[j];
		if (!found)
			return 0;
	}
	return 1;
}

/* zpriv_drop_ids - see zpriv.h */
int zpriv_drop_ids(const zpriv_ids *ids, zbuf *err)
{
	gid_t want[ZPRIV_MAXGROUPS], have[ZPRIV_MAXGROUPS];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int nwant = 0, nhave, rc = Z_ERR;
	int root = geteuid() == 0;

	if (!root && !zpriv_is_self(ids)) {
		zbuf_printf(err, "running as uid %ld, not root: cannot switch to user %s (uid %ld gid %ld)",
			    (long)geteuid(), ids->name, (long)ids->uid, (long)ids->gid);
		goto out;
	}
	if (root) {
		if ((nwant = group_list(ids, want, err)) < 0)
			goto out;
		if (setgroups((size_t)nwant, want) != 0) {
			zbuf_printf(err, "setgroups for user %s: %s", ids->name, strerror(errno));
			goto out;
		}
	}
	if (setresgid(ids->gid, ids->gid, ids->gid) != 0) {
		zbuf_printf(err, "setresgid(%ld): %s", (long)ids->gid, strerror(errno));
		goto out;
	}
	if (setresuid(ids->uid, ids->uid, ids->uid) != 0) {
		zbuf_printf(err, "setresuid(%ld): %s", (long)ids->uid, strerror(errno));
		goto out;
	}
	if (getresuid(&ru, &eu, &su) != 0 || ru != ids->uid || eu != ids->uid || su != ids->uid) {
		zbuf_printf(err, "uid check failed after switching to %s", ids->name);
		goto out;
	}
	if (getresgid(&rg, &eg, &sg) != 0 || rg != ids->gid || eg != ids->gid || sg != ids->gid) {
		zbuf_printf(err, "gid check failed after switching to %s", ids->name);
		goto out;
	}
	if (root) {
		nhave = getgroups(ZPRIV_MAXGROUPS, have);
		if (nhave < 0 || !same_set(want, nwant, have, nhave)) {
			zbuf_printf(err, "supplementary groups check failed after switching to %s",
				    ids->name);
			goto out;
		}
	}
	if (ids->uid != 0) {
		if (setuid(0) == 0 || seteuid(0) == 0) {
			zbuf_printf(err, "uid 0 could be taken back after switching to %s", ids->name);
			goto out;
		}
		if (ids->gid != 0 && (setgid(0) == 0 || setegid(0) == 0)) {
			zbuf_printf(err, "gid 0 could be taken back after switching to %s", ids->name);
			goto out;
		}
	}
	rc = Z_OK;
out:
	return rc;
}

/* zpriv_drop - see zpriv.h */
int zpriv_drop(const char *user, const char *group, zbuf *err)
{
	zpriv_ids ids;
	int rc = zpriv_resolve(user, group, &ids, err);
	if (rc == Z_OK)
		rc = zpriv_drop_ids(&ids, err);
	return rc;
}

/* zpriv_describe - see zpriv.h */
int zpriv_describe(zbuf *out)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, g[ZPRIV_MAXGROUPS];
	int n;

	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0)
		return Z_EIO;
	n = getgroups(ZPRIV_MAXGROUPS, g);
	if (n < 0)
		return Z_EIO;
	zbuf_printf(out, "uid=%ld/%ld/%ld gid=%ld/%ld/%ld groups=", (long)ru, (long)eu, (long)su,
		    (long)rg, (long)eg, (long)sg);
	for (int i = 0; i < n; i++)
		zbuf_printf(out, "%s%ld", i ? "," : "", (long)g[i]);
	return Z_OK;
}
