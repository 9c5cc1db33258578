/*
 * mqsrv.h - the scheduler's MAILQ v2 listener (mq2proto.h): a UNIX
 * socket $POSTOFFICE/.mailq.sock (mode 0660), TCP only when configured.
 */
#ifndef ZMTA_SCHED_MQSRV_H
#define ZMTA_SCHED_MQSRV_H
#include "zbuf.h"

/* mqsrv_open - start listening; spec = PARAMmailqsock or NULL.
 * Z_OK or an error with text in err. */
int mqsrv_open(const char *postoffice, const char *spec, zbuf *err);
/* mqsrv_close - stop listening, drop clients, remove the socket file */
void mqsrv_close(void);
/* mqsrv_tick - close clients idle past PARAMmailq-timeout */
void mqsrv_tick(void);

#endif
