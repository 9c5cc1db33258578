/*
 * smtp_tls.h - TLS for SMTP sessions, client and server (smtp/ layer).
 *
 * Client: smtp-tls.conf (modes none/may/encrypt/verify/secure and the
 * reference identities), one client SSL_CTX, STARTTLS handshake with the
 * certificate checks.  Server: a context from a certificate and key, and
 * the handshake after "220 ready to start TLS".  The handshake result goes
 * into the session (ss->ssl, ss->tls).
 */
#ifndef ZMTA_SMTP_TLS_H
#define ZMTA_SMTP_TLS_H

#include "zbuf.h"
#include "smtp_session.h"

enum tls_mode { TLSM_NONE = 0, TLSM_MAY, TLSM_ENCRYPT, TLSM_VERIFY, TLSM_SECURE };

typedef struct smtp_tls_conf {
	char certfile[1024], keyfile[1024], cafile[1024], capath[1024];
	char ciphers[512];
	char verifyname[256];
	char verifymatch[512];  /* tls-verify-match, "" = "hostname" */
	char securematch[512];  /* tls-secure-match, "" = "nexthop, dot-nexthop" */
	int loglevel;
	enum tls_mode mode;
	void *ctx;              /* SSL_CTX * */
	int defpaths;           /* the system CA store is still to be loaded
				 * into ctx (at the first handshake) */
	char confname[1024];    /* the file, for smtp_tls_build's messages */
} smtp_tls_conf;

/* smtp_tls_load - parse smtp-tls.conf (path NULL: built-in defaults, mode
 * may) and build the client SSL_CTX */
int smtp_tls_load(const char *path, smtp_tls_conf *tc, zbuf *err);
/* smtp_tls_setup - smtp_tls_load without the SSL_CTX (no OpenSSL call):
 * parse, check the named files can be read; smtp_tls_start builds the
 * context at the first handshake (smtp_tls_build) */
int smtp_tls_setup(const char *path, smtp_tls_conf *tc, zbuf *err);
/* smtp_tls_build - the client SSL_CTX for a parsed configuration (none
 * yet); Z_OK or Z_ERR with the file and OpenSSL's reason */
int smtp_tls_build(smtp_tls_conf *tc, zbuf *err);
int smtp_tls_parse(const char *name, const char *data, size_t len, smtp_tls_conf *tc, zbuf *err);
void smtp_tls_free(smtp_tls_conf *tc);
/* smtp_tls_refs - the reference identities a certificate must match for
 * mode, blank-separated into out: names, ".domain" (any name below),
 * "[address]".  mxhost is the MX host name, nexthop the destination */
int smtp_tls_refs(const smtp_tls_conf *tc, enum tls_mode mode, const char *mxhost,
		  const char *nexthop, zbuf *out, zbuf *err);
/* smtp_tls_cert_match - 1 if the X509 * matches one of refs (RFC 6125:
 * DNS-IDs, "*" only as the whole leftmost label), 0 if not */
int smtp_tls_cert_match(const void *x509, const char *refs);
/* smtp_tls_start - client handshake on ss (after 220 to STARTTLS) and the
 * certificate check: chain and the names smtp_tls_refs() gives for the
 * mode.  verify/secure: Z_ERR unless both pass; may/encrypt: ss->tls says
 * STLS_VERIFIED or STLS_UNVERIFIED.  Z_OK or Z_ERR with reason */
int smtp_tls_start(smtp_tls_conf *tc, smtp_session *ss, const char *mxhost, const char *nexthop,
		   long timeout_ms, zbuf *info, zbuf *err);
const char *smtp_tls_mode_name(enum tls_mode m);

/* smtp_tls_server_ctx - a server SSL_CTX (TLS 1.2 or newer) from a PEM
 * certificate chain and key; *ctx is an SSL_CTX *, free with
 * smtp_tls_ctx_free.  Z_OK or Z_ERR with the file and OpenSSL's reason */
int smtp_tls_server_ctx(const char *certfile, const char *keyfile, void **ctx, zbuf *err);
void smtp_tls_ctx_free(void *ctx);
/* smtp_tls_accept - server handshake on ss (after the 220 to STARTTLS was
 * flushed; rbuf must be empty); ss->tls becomes STLS_UNVERIFIED (client
 * certificates are not asked for).  The caller ignores SIGPIPE (OpenSSL
 * writes with write(2)).  Z_OK or Z_ERR with reason */
int smtp_tls_accept(void *ctx, smtp_session *ss, long timeout_ms, zbuf *info, zbuf *err);

/* smtp_host_norm - lower-case name without trailing dot and ":port", or
 * "[canonical address]" for any address form */
int smtp_host_norm(const char *in, char *out, size_t outsz);

#endif
