/*
 * smtpserver.h - pieces of the smtpserver daemon shared between its files.
 */
#ifndef ZMTA_SMTPSERVER_H
#define ZMTA_SMTPSERVER_H

#include "zbuf.h"

typedef struct authfile authfile;

/* authfile_load - read "user:crypt-hash" lines; Z_OK or Z_EIO/Z_EPARSE
 * with "file:line: reason" in err */
int authfile_load(const char *path, authfile **out, zbuf *err);
/* authfile_verify - 0 when password matches user's hash, -1 if not */
int authfile_verify(const authfile *a, const char *user, const char *password);
void authfile_free(authfile *a);

#endif
