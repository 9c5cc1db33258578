/*
 * NAME
 *	mq2auth - the MAILQ v2 authenticator, shared by mailq(1) and the scheduler
 * SUMMARY
 *	hex MD5 of the whole challenge line followed by the password.
 * SYNOPSIS
 *	#include "mq2proto.h"
 *	int mq2_authenticator(const char *challenge, const char *password, char out[33]);
 * DESCRIPTION
 *	The client computes it to answer the challenge; the server computes
 *	it to check the answer.  One implementation, so both sides agree.
 * DIAGNOSTICS
 *	Z_OK, or Z_ERR when OpenSSL's digest fails (no text: the callers say
 *	"authentication failed").
 * SECURITY
 *	Inputs are NUL-terminated strings of bounded length chosen by the
 *	callers.  MD5 here is the legacy protocol's; over the UNIX socket no
 *	authentication is used at all (file permissions decide).  Must never
 *	log the password.
 * BUGS
 *	MD5 challenge/response is weak; TCP mailq is off by default.
 * SEE ALSO
 *	mailq(1), scheduler(8), mq2proto.h
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "mq2proto.h"
#include "zerr.h"

/* mq2_authenticator - lowercase hex MD5(challenge || password) */
int mq2_authenticator(const char *challenge, const char *password, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1 &&
		 EVP_DigestUpdate(ctx, challenge, strlen(challenge)) == 1 &&
		 EVP_DigestUpdate(ctx, password, strlen(password)) == 1 &&
		 EVP_DigestFinal_ex(ctx, d, &dl) == 1 && dl == 16;

	EVP_MD_CTX_free(ctx);
	if (!ok)
		return Z_ERR;
	for (unsigned i = 0; i < 16; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[32] = '\0';
	return Z_OK;
}
