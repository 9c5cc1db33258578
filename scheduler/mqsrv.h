/*
 * mqsrv.h - the scheduler's MAILQ v2 listener (mq2proto.h): a UNIX
 * socket $POSTOFFICE/.mailq.sock (mode 0660; rights by SO_PEERCRED), TCP
 * with HMAC-SHA-256 AUTH only when configured.
 */
#ifndef ZMTA_SCHED_MQSRV_H
#define ZMTA_SCHED_MQSRV_H
#include "ctlfile.h"
#include "model.h"
#include "zbuf.h"

/* mqsrv_open - start listening; spec = PARAMmailqsock or NULL.
 * Z_OK or an error with text in err. */
int mqsrv_open(const char *postoffice, const char *spec, zbuf *err);
/* mqsrv_close - stop listening, drop clients, remove the socket file */
void mqsrv_close(void);
/* mqsrv_tick - close clients idle past PARAMmailq-timeout and TCP
 * clients without AUTH past PARAMmailq-auth-timeout */
void mqsrv_tick(void);
/* mqsrv_file_note - keep f's sender, size and recipient addresses (from
 * its parsed control file; f's vertices built) for mailq listings */
void mqsrv_file_note(sfile *f, const ctl_file *cf);

#endif
