/*
 * zpriv.h - give up root for good: resolve a user/group pair and switch
 * the whole process (supplementary groups, real/effective/saved ids) to it.
 */
#ifndef ZMTA_ZPRIV_H
#define ZMTA_ZPRIV_H

#include <sys/types.h>
#include "zbuf.h"

#define ZPRIV_MAXGROUPS 256

typedef struct zpriv_ids {
	uid_t uid;
	gid_t gid;
	int named;            /* the user has a passwd entry (groups from the group db) */
	char name[256];       /* user name (or the number as written) */
} zpriv_ids;

/* zpriv_resolve - user (name or decimal number) and group (name, number, or
 * NULL = the user's primary group) into ids.  A number without a passwd
 * entry needs a group.  Z_OK, Z_ENOENT (unknown) or Z_EPARSE with a reason
 * in err. */
int zpriv_resolve(const char *user, const char *group, zpriv_ids *ids, zbuf *err);

/* zpriv_is_self - ids are this process's real and effective uid and gid */
int zpriv_is_self(const zpriv_ids *ids);

/* zpriv_drop_ids - become ids for good: supplementary groups = the user's
 * groups from the group database (or just gid), setresgid, setresuid, then
 * verify every id and, unless uid is 0, that uid 0 and gid 0 cannot be
 * taken back.  Needs root unless ids are our own.  Z_OK or Z_ERR with the
 * reason in err; after a failure the process must exit. */
int zpriv_drop_ids(const zpriv_ids *ids, zbuf *err);

/* zpriv_group_list - the supplementary groups zpriv_drop_ids gives ids
 * (the user's groups from the group database, or just gid) into list
 * (ZPRIV_MAXGROUPS entries): the count, or -1 with the reason in err.
 * For a caller that switches ids itself (the scheduler's agent start). */
int zpriv_group_list(const zpriv_ids *ids, gid_t *list, zbuf *err);

/* zpriv_drop - zpriv_resolve + zpriv_drop_ids */
int zpriv_drop(const char *user, const char *group, zbuf *err);

/* zpriv_describe - "uid=R/E/S gid=R/E/S groups=a,b" of this process */
int zpriv_describe(zbuf *out);

#endif
