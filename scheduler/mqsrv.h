/*
 * mqsrv.h - the scheduler's MAILQ v2 listener (mq2proto.h): a UNIX
 * socket $POSTOFFICE/.mailq.sock (mode 0660; rights by SO_PEERCRED), TCP
 * with HMAC-SHA-256 AUTH only when configured.
 */
#ifndef ZMTA_SCHED_MQSRV_H
#define ZMTA_SCHED_MQSRV_H
#include <time.h>
#include "agents.h"
#include "complete.h"
#include "ctlfile.h"
#include "model.h"
#include "stats.h"
#include "zbuf.h"
#include "zevent.h"

/* mqsrv_ctx - what the listener shows and acts upon (owned by the
 * daemon; cfg follows reloads) */
typedef struct mqsrv_ctx {
	model *m;
	agent_pool *pool;              /* agents, limits, ETRN (turnme) */
	complete_ctx *cc;              /* KILL MSG (file_kill) */
	sched_stats *st;
	const sconf *cfg;
	zev_loop *loop;
	time_t started;
} mqsrv_ctx;

/* mqsrv_open - start listening with ctx (kept until mqsrv_close);
 * spec = PARAMmailqsock or NULL.  Z_OK or an error with text in err. */
int mqsrv_open(mqsrv_ctx *ctx, const char *postoffice, const char *spec, zbuf *err);
/* mqsrv_close - stop listening, drop clients, remove the socket file */
void mqsrv_close(void);
/* mqsrv_tick - close clients idle past PARAMmailq-timeout and TCP
 * clients without AUTH past PARAMmailq-auth-timeout */
void mqsrv_tick(void);
/* mqsrv_file_note - keep f's sender, size and recipient addresses (from
 * its parsed control file; f's vertices built) for mailq listings */
void mqsrv_file_note(sfile *f, const ctl_file *cf);

#endif
