/*
 * zerr.h - status codes shared by every zmta library.
 *
 * Library functions return Z_OK (0) or one of the negative codes below and
 * never exit; only a program's main() decides to die.
 */
#ifndef ZMTA_ZERR_H
#define ZMTA_ZERR_H

enum {
	Z_OK = 0,
	Z_ERR = -1,      /* generic failure, detail in the caller's zbuf */
	Z_ETOOBIG = -2,  /* a bound was hit (line, buffer, count) */
	Z_ENOMEM = -3,   /* allocation failed */
	Z_EPARSE = -4,   /* malformed input */
	Z_EIO = -5,      /* system call failed, errno is kept */
	Z_ENOENT = -6,   /* nothing there (file, key, selected recipient) */
	Z_EAGAIN = -7,   /* try again later (would block, locked by other) */
	Z_ESTALE = -8    /* expected byte/state not found (lock race) */
};

/* zerr_str - short English name of a status code */
const char *zerr_str(int code);

#endif
