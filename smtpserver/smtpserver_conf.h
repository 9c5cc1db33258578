/*
 * smtpserver_conf.h - smtpserver's configuration: smtpserver.conf read
 * into an sconf (listeners, trusted networks, AUTH, greylisting, policy
 * services, the Plan 9 knobs) and the engine's options.  See
 * smtpserver_conf.c and smtpserver.conf(5).
 */
#ifndef ZMTA_SMTPSERVER_CONF_H
#define ZMTA_SMTPSERVER_CONF_H

#include "pol_grey.h"
#include "pol_knobs.h"
#include "pol_limit.h"
#include "zbuf.h"
#include "zmsmtpd.h"

#define MAX_NETS POL_NETS_MAX
#define MAX_LISTENERS 16
/* workers: event-loop processes; the shared connection table has a
 * column per worker (pol_limit.h), so the bound is its width */
#define SCONF_MAX_WORKERS POL_CONN_WORKERS

typedef pol_net net;

typedef struct sconf {
	net nets[MAX_NETS];
	int nnets;
	struct { char addr[64]; int port; unsigned flags; } lis[MAX_LISTENERS];
	int nlis;
	char authfile[1024];
	char routerconf[1024];
	unsigned pwflags;             /* POL_PW_ALLOW_* */
	int greylist;                 /* greylist on */
	pol_grey_cfg gcfg;
	int grey_redis;               /* store: 0 LMDB, 1 Redis */
	char grey_lmdb_dir[1024];     /* "" = $POSTOFFICE/greylist */
	unsigned long grey_mapsize;
	char grey_redis_ep[256], grey_redis_prefix[64];
	long grey_redis_timeout_ms;
	char policy[1024];            /* policy-service endpoint or "" (RCPT) */
	char policy_eom[1024];        /* policy-service-eom endpoint or "" */
	long policy_timeout_ms;
	pol_knobs k;                  /* -k -f -r -m -s -d (pol_knobs.h) */
	int workers;                  /* event-loop processes; 0 or 1: one, no parent */
} sconf;

/* sconf_load - smtpserver.conf at path (missing = the defaults) into c
 * and the engine d, then the command-line flags cli[0..ncli) as more
 * (key, value) lines.  Z_OK or Z_EPARSE with "file:line: reason" */
int sconf_load(const char *path, sconf *c, zmsmtpd *d, const char *const cli[][2], int ncli,
	       zbuf *err);
/* sconf_listen - add listener "addr:port[/kind]" (kind words smtp,
 * submission, smtps, proxy-protocol); 0 or -1 */
int sconf_listen(sconf *c, const char *spec, const char *kind);
/* sconf_trusted - is ip in trusted-networks ("" = -i: yes) */
int sconf_trusted(const sconf *c, const char *ip);

#endif
