/*
 * smtp_sasl.h - SASL PLAIN, LOGIN and CRAM-MD5 for SMTP AUTH, both sides
 * (smtp/ layer).  Which secret goes where is the caller's policy; this
 * only encodes, computes and verifies.
 */
#ifndef ZMTA_SMTP_SASL_H
#define ZMTA_SMTP_SASL_H

#include "zbuf.h"

enum { AUTHM_PLAIN = 1u << 0, AUTHM_LOGIN = 1u << 1, AUTHM_CRAMMD5 = 1u << 2 };

/* smtp_sasl_mech_name - "PLAIN", "LOGIN", "CRAM-MD5" or "?" */
const char *smtp_sasl_mech_name(unsigned m);
/* smtp_sasl_mech_parse - AUTHM_* for a mechanism name (any case), 0 if unknown */
unsigned smtp_sasl_mech_parse(zspan name);

int smtp_b64_encode(const void *p, size_t n, zbuf *out);
/* smtp_b64_decode - strict base64 (padding required, no blanks) */
int smtp_b64_decode(zspan in, zbuf *out);
/* smtp_zbuf_wipe - clear a buffer's whole allocation, then free it */
void smtp_zbuf_wipe(zbuf *b);

/* ---- client ---- */
/* smtp_sasl_plain - base64("\0user\0secret") appended to out */
int smtp_sasl_plain(const char *user, const char *secret, zbuf *out);
/* smtp_cram_md5 - "user hexdigest" response for a decoded challenge */
int smtp_cram_md5(const char *user, const char *secret, const char *chal,
		  size_t chlen, zbuf *out);

/* ---- server ---- */
/* the server's secret lookup: Z_OK with the user's secret put into secret
 * (the caller wipes it), Z_ENOENT for an unknown user */
typedef int (*smtp_sasl_secret_fn)(void *arg, const char *user, zbuf *secret);

#define SMTP_SASL_CONTINUE 1     /* send "334 " + out, feed the answer */

typedef struct smtp_sasl_server {
	unsigned mech;               /* AUTHM_* */
	int step;
	smtp_sasl_secret_fn secret;
	void *arg;
	char user[256];              /* the authenticated (or claimed) user */
	char chal[300];              /* CRAM-MD5 challenge sent */
} smtp_sasl_server;

/* smtp_sasl_server_start - begin mech for a client; hostname goes into the
 * CRAM-MD5 challenge */
int smtp_sasl_server_start(smtp_sasl_server *sv, unsigned mech, const char *hostname,
			   smtp_sasl_secret_fn fn, void *arg);
/* smtp_sasl_server_step - feed the client's base64 answer (have_in 0: no
 * initial response on the AUTH line).  SMTP_SASL_CONTINUE with the base64
 * challenge in out; Z_OK authenticated (sv->user); Z_EPARSE malformed
 * answer or "*" (cancelled); Z_ERR wrong credentials; reason in err
 * (never a secret) */
int smtp_sasl_server_step(smtp_sasl_server *sv, zspan in, int have_in, zbuf *out, zbuf *err);
/* smtp_sasl_server_end - forget everything */
void smtp_sasl_server_end(smtp_sasl_server *sv);

#endif
