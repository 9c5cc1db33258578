/*
 * pol_grey_int.h - what the greylist front end shares with its stores
 * (private to smtpserver/pol_grey*.c).
 */
#ifndef ZMTA_POL_GREY_INT_H
#define ZMTA_POL_GREY_INT_H

#include "pol_grey.h"

#define GREY_REC_MAX 96   /* encoded record */
#define GREY_HASH_HEX 64  /* SHA-256 in hex */

typedef struct grey_rec {
	long long first, last;
	int allowed;
	unsigned long passes;
} grey_rec;

struct grey_ops {
	/* check: one atomic look-up-decide-store of key */
	int (*check)(pol_grey *g, const char *key, time_t now, long *remaining, zbuf *err);
	long (*expire)(pol_grey *g, time_t now, zbuf *err);
	void (*close)(pol_grey *g);
};

struct pol_grey {
	pol_grey_cfg cfg;
	const struct grey_ops *ops;
	void *be; /* the store's state */
};

/* grey_decide - next record and verdict from the old one (NULL: none) */
int grey_decide(const pol_grey_cfg *cfg, const grey_rec *old, time_t now, grey_rec *nr, long *ttl, long *remaining);
/* grey_expired - would this record be dropped at now */
int grey_expired(const pol_grey_cfg *cfg, const grey_rec *r, time_t now);
/* grey_rec_encode / grey_rec_decode - "v1 first last A|P passes" */
int grey_rec_encode(const grey_rec *r, char *out, size_t outsz);
int grey_rec_decode(const char *p, size_t n, grey_rec *r);

int grey_open_lmdb(pol_grey *g, const char *dir, size_t mapsize, zbuf *err);
int grey_open_redis(pol_grey *g, const char *endpoint, const char *prefix, long timeout_ms, zbuf *err);

#endif
