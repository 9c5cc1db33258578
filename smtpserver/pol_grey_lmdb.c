/*
 * NAME
 *	pol_grey_lmdb - the greylist store in an LMDB environment
 * SUMMARY
 *	One environment (data.mdb, lock.mdb) in a directory, shared by every
 *	smtpserver process on the host.
 * SYNOPSIS
 *	int grey_open_lmdb(pol_grey *g, const char *dir, size_t mapsize,
 *	                   zbuf *err)
 * DESCRIPTION
 *	The environment is opened with MDB_NOTLS (a process's transactions
 *	are not tied to threads) and the main database holds key = hex hash,
 *	value = record text.  Each check is one write transaction: get,
 *	decide, put, commit; LMDB serialises writers across processes with
 *	its lock file, so two servers seeing the same triplet at once cannot
 *	both create it.  On open, stale reader slots of dead processes are
 *	cleared (mdb_reader_check).  When the map is full, expired entries
 *	are swept and the check tried once more.
 * DIAGNOSTICS
 *	Z_EIO with "greylist lmdb DIR: <mdb_strerror>" in err.
 * SECURITY
 *	The directory is made 0700 and the files 0600: only the mail system's
 *	user reads who mails whom (hashed anyway).  A handle must not cross
 *	fork(2): open it in the process that uses it.
 * BUGS
 *	The map size is fixed at open; raising it needs a restart.
 * SEE ALSO
 *	lmdb(3) (mdb_env_open), pol_grey.c
 */
#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "pol_grey_int.h"

struct lmdb_be {
	MDB_env *env;
	MDB_dbi dbi;
	char dir[512];
};

/* lerr - format an LMDB error */
static int lerr(zbuf *err, const struct lmdb_be *b, const char *what, int e)
{
	zbuf_printf(err, "greylist lmdb %s: %s: %s", b->dir, what, mdb_strerror(e));
	return Z_EIO;
}

/* once - one look-up-decide-store transaction */
static int once(pol_grey *g, const char *key, time_t now, long *remaining, int *full, zbuf *err)
{
	struct lmdb_be *b = g->be;
	MDB_txn *txn = NULL;
	MDB_val k = { strlen(key), (void *)key }, v;
	grey_rec old, nr;
	char enc[GREY_REC_MAX];
	long ttl;
	int e, verdict, have = 0;

	*full = 0;
	if ((e = mdb_txn_begin(b->env, NULL, 0, &txn)) != 0)
		return lerr(err, b, "begin", e);
	e = mdb_get(txn, b->dbi, &k, &v);
	if (e == 0)
		have = grey_rec_decode(v.mv_data, v.mv_size, &old) == Z_OK; /* a bad record counts as none */
	else if (e != MDB_NOTFOUND)
		goto fail;
	verdict = grey_decide(&g->cfg, have ? &old : NULL, now, &nr, &ttl, remaining);
	if (grey_rec_encode(&nr, enc, sizeof(enc)) != Z_OK) {
		mdb_txn_abort(txn);
		zbuf_puts(err, "greylist: record too long");
		return Z_ERR;
	}
	v.mv_data = enc;
	v.mv_size = strlen(enc);
	if ((e = mdb_put(txn, b->dbi, &k, &v, 0)) != 0)
		goto fail;
	e = mdb_txn_commit(txn);
	txn = NULL;
	if (e != 0)
		goto fail;
	return verdict;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	*full = e == MDB_MAP_FULL;
	return lerr(err, b, "update", e);
}

/* lmdb_check - check, sweeping and retrying once when the map is full */
static int lmdb_check(pol_grey *g, const char *key, time_t now, long *remaining, zbuf *err)
{
	int full, rc = once(g, key, now, remaining, &full, err);

	if (rc < 0 && full && g->ops->expire(g, now, NULL) > 0) {
		zbuf_reset(err);
		rc = once(g, key, now, remaining, &full, err);
	}
	return rc;
}

/* lmdb_expire - delete expired (and undecodable) records */
static long lmdb_expire(pol_grey *g, time_t now, zbuf *err)
{
	struct lmdb_be *b = g->be;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	long removed = 0;
	int e;

	if ((e = mdb_txn_begin(b->env, NULL, 0, &txn)) != 0)
		return lerr(err, b, "begin", e);
	if ((e = mdb_cursor_open(txn, b->dbi, &cur)) != 0)
		goto fail;
	for (e = mdb_cursor_get(cur, &k, &v, MDB_FIRST); e == 0; e = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		grey_rec r;
		if (grey_rec_decode(v.mv_data, v.mv_size, &r) != Z_OK || grey_expired(&g->cfg, &r, now)) {
			if ((e = mdb_cursor_del(cur, 0)) != 0)
				goto fail;
			removed++;
		}
	}
	if (e != MDB_NOTFOUND)
		goto fail;
	mdb_cursor_close(cur);
	cur = NULL;
	e = mdb_txn_commit(txn);
	txn = NULL;
	if (e != 0)
		goto fail;
	return removed;
fail:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	return lerr(err, b, "expire", e);
}

/* lmdb_close - close the environment */
static void lmdb_close(pol_grey *g)
{
	struct lmdb_be *b = g->be;

	if (b == NULL)
		return;
	if (b->env != NULL)
		mdb_env_close(b->env);
	free(b);
	g->be = NULL;
}

static const struct grey_ops lmdb_ops = { lmdb_check, lmdb_expire, lmdb_close };

/* grey_open_lmdb - create/open the environment in dir */
int grey_open_lmdb(pol_grey *g, const char *dir, size_t mapsize, zbuf *err)
{
	struct lmdb_be *b = calloc(1, sizeof(*b));
	MDB_txn *txn = NULL;
	int e, dead = 0;

	if (b == NULL) {
		zbuf_puts(err, "out of memory");
		return Z_ENOMEM;
	}
	g->be = b;
	g->ops = &lmdb_ops;
	if (zstrlcpy(b->dir, dir, sizeof(b->dir)) != Z_OK) {
		zbuf_puts(err, "greylist lmdb: directory name too long");
		lmdb_close(g);
		return Z_ETOOBIG;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		zbuf_printf(err, "greylist lmdb %s: mkdir: %s", dir, strerror(errno));
		lmdb_close(g);
		return Z_EIO;
	}
	if ((e = mdb_env_create(&b->env)) != 0) {
		b->env = NULL;
		goto fail;
	}
	if ((e = mdb_env_set_mapsize(b->env, mapsize)) != 0 || (e = mdb_env_set_maxdbs(b->env, 1)) != 0 ||
	    (e = mdb_env_open(b->env, dir, MDB_NOTLS, 0600)) != 0)
		goto fail;
	(void)mdb_reader_check(b->env, &dead);
	if ((e = mdb_txn_begin(b->env, NULL, 0, &txn)) != 0)
		goto fail;
	if ((e = mdb_dbi_open(txn, NULL, 0, &b->dbi)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((e = mdb_txn_commit(txn)) != 0)
		goto fail;
	return Z_OK;
fail:
	lerr(err, b, "open", e);
	lmdb_close(g);
	return Z_EIO;
}
