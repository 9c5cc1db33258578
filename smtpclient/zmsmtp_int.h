/*
 * zmsmtp_int.h - libzmsmtp internals shared by zmsmtp.c and zmsmtp_msg.c.
 */
#ifndef ZMTA_ZMSMTP_INT_H
#define ZMTA_ZMSMTP_INT_H

#include "zbuf.h"
#include "zmsmtp.h"

#define ZMSMTP_RCPT_MAX 1000          /* recipients of one call */
#define ZMSMTP_MSG_MAX (64u << 20)    /* a message the library takes */

/* the envelope and the copy to send */
typedef struct zmsmtp_env {
	zbuf sender;
	char **rcpt;
	size_t nrcpt;
	zbuf msg;                     /* header (Bcc removed, fields added) and body */
	char **bcc;                   /* Bcc recipients (from the headers): the digest's */
	size_t nbcc;
	zbuf digest;                  /* for them: multipart/digest wrapping msg */
} zmsmtp_env;

void zmsmtp_env_init(zmsmtp_env *e);
void zmsmtp_env_free(zmsmtp_env *e);
/* zmsmtp_env_build - envelope and copy for msg per o; Z_OK or Z_EPARSE /
 * Z_ETOOBIG with the reason in err */
int zmsmtp_env_build(const zmsmtp_opts *o, const char *msg, size_t len, zmsmtp_env *e, zbuf *err);

#endif
