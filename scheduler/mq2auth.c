/*
 * NAME
 *	mq2auth - the MAILQ v2 HMAC-SHA-256 challenge-response, shared by
 *	mailq(1) and the scheduler
 * SUMMARY
 *	response = lowercase hex HMAC-SHA-256(key = password,
 *	message = challenge line "\n" user); checked in constant time.
 * SYNOPSIS
 *	#include "mq2proto.h"
 *	int mq2_hmac_hex(const void *key, size_t keylen, const void *msg,
 *	                 size_t msglen, char out[MQ2_HEX_LEN + 1]);
 *	int mq2_auth_response(const char *challenge, const char *user,
 *	                      const char *password, char out[MQ2_HEX_LEN + 1]);
 *	int mq2_auth_verify(const char *challenge, const char *user,
 *	                    const char *password, const char *hex);
 * DESCRIPTION
 *	The client computes mq2_auth_response to answer the server's
 *	challenge line (mq2proto.h); the server computes the same value and
 *	compares it with mq2_auth_verify.  The challenge carries 32 random
 *	bytes from the server, so a response is good for one connection
 *	only; the user name is part of the MAC, so a response for one user
 *	cannot be replayed for another.  One implementation, so both sides
 *	agree.
 * DIAGNOSTICS
 *	mq2_hmac_hex and mq2_auth_response: Z_OK, or Z_ERR when OpenSSL's
 *	HMAC fails or a message is over-long.  mq2_auth_verify: Z_OK when
 *	the response matches, Z_ERR otherwise (no text: the
 *	callers say "authentication failed").
 * SECURITY
 *	Inputs are NUL-terminated strings of bounded length chosen by the
 *	callers; the client's hex is untrusted (any length, any bytes): it
 *	is decoded strictly (exactly 64 hex digits) and compared with
 *	CRYPTO_memcmp, so the time taken does not tell how many bytes
 *	matched.  Intermediate MACs are wiped with OPENSSL_cleanse.  Must
 *	never log the password or the expected response.
 * BUGS
 *	The password is a shared secret kept in plain text in the server's
 *	auth file (ZMailer's format); the file's mode is checked by the
 *	scheduler.  TCP is still cleartext: the commands and listings are
 *	not encrypted, only the password is never sent.
 * SEE ALSO
 *	mailq(1), scheduler(8), mq2proto.h
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "mq2proto.h"
#include "zerr.h"

#define MQ2_MSG_MAX 2048

/* hexval - value of one hex digit, -1 if none */
static int hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* mac_raw - HMAC-SHA-256 of (challenge "\n" user) keyed with password */
static int mac_raw(const char *challenge, const char *user, const char *password,
		   unsigned char out[MQ2_MAC_LEN])
{
	unsigned char msg[MQ2_MSG_MAX];
	size_t cl = strlen(challenge), ul = strlen(user);
	unsigned int ol = 0;
	int rc = Z_ERR;

	if (cl + 1 + ul > sizeof msg)
		return Z_ERR;
	memcpy(msg, challenge, cl);
	msg[cl] = '\n';
	memcpy(msg + cl + 1, user, ul);
	if (HMAC(EVP_sha256(), password, (int)strlen(password), msg, cl + 1 + ul, out, &ol) != NULL &&
	    ol == MQ2_MAC_LEN)
		rc = Z_OK;
	OPENSSL_cleanse(msg, sizeof msg);
	return rc;
}

/* mq2_hmac_hex - lowercase hex HMAC-SHA-256(key, msg) */
int mq2_hmac_hex(const void *key, size_t keylen, const void *msg, size_t msglen,
		 char out[MQ2_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;

	if (keylen > 4096 || HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, d, &dl) == NULL ||
	    dl != MQ2_MAC_LEN)
		return Z_ERR;
	for (unsigned i = 0; i < MQ2_MAC_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[MQ2_HEX_LEN] = '\0';
	OPENSSL_cleanse(d, sizeof d);
	return Z_OK;
}

/* mq2_auth_response - the client's answer to a challenge line */
int mq2_auth_response(const char *challenge, const char *user, const char *password,
		      char out[MQ2_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[MQ2_MAC_LEN];

	if (mac_raw(challenge, user, password, d) != Z_OK)
		return Z_ERR;
	for (unsigned i = 0; i < MQ2_MAC_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[MQ2_HEX_LEN] = '\0';
	OPENSSL_cleanse(d, sizeof d);
	return Z_OK;
}

/* mq2_auth_verify - Z_OK when hex is the right response; constant time in
 * the compared bytes */
int mq2_auth_verify(const char *challenge, const char *user, const char *password,
		    const char *hex)
{
	unsigned char want[MQ2_MAC_LEN], have[MQ2_MAC_LEN];
	int rc = Z_ERR;

	if (strlen(hex) != MQ2_HEX_LEN)
		return Z_ERR;
	for (unsigned i = 0; i < MQ2_MAC_LEN; i++) {
		int hi = hexval((unsigned char)hex[2 * i]), lo = hexval((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return Z_ERR;
		have[i] = (unsigned char)(hi << 4 | lo);
	}
	if (mac_raw(challenge, user, password, want) == Z_OK &&
	    CRYPTO_memcmp(want, have, MQ2_MAC_LEN) == 0)
		rc = Z_OK;
	OPENSSL_cleanse(want, sizeof want);
	return rc;
}
