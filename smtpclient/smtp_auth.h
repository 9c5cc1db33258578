/*
 * smtp_auth.h - the AUTH secrets file (ZMailer's format) and which SASL
 * mechanism may carry a secret over a session (libzmsmtp, internal; used
 * by the smtp agent's -A and smtpsend -a).
 */
#ifndef ZMTA_SMTP_AUTH_H
#define ZMTA_SMTP_AUTH_H

#include <sys/types.h>
#include "zbuf.h"

/* per-line flags of the secrets file (smtp(8) AUTH FILE) */
enum { AUTHF_TLS_ANY = 1u << 0, AUTHF_CLEAR = 1u << 1, AUTHF_PLAIN_CLEAR = 1u << 2 };

typedef struct smtp_auth_entry {
	char channel[64], host[256];
	char user[256], secret[256];    /* decoded; wipe after use */
	unsigned flags;                 /* AUTHF_* */
	int lineno;
} smtp_auth_entry;

/* the server a line must match: any of mxname, dest, ip (ports ignored) */
typedef struct smtp_auth_target {
	const char *channel;
	const char *mxname;             /* MX host name (or the literal) */
	const char *dest;               /* next-hop domain or -F target */
	const char *ip;                 /* numeric address connected to */
} smtp_auth_target;

/* smtp_auth_lookup - find the entry for t in the file; Z_OK, Z_ENOENT
 * (none), Z_EPARSE (bad line), Z_ERR (unsafe mode/owner), Z_EIO; the
 * reason (never a secret) in err */
int smtp_auth_lookup(const char *path, const smtp_auth_target *t,
		     smtp_auth_entry *out, zbuf *err);
/* smtp_auth_find - the same over the file's text */
int smtp_auth_find(const char *name, const char *data, size_t len,
		   const smtp_auth_target *t, smtp_auth_entry *out, zbuf *err);
int smtp_auth_parse_line(zspan line, smtp_auth_entry *out, zbuf *err);
/* smtp_auth_check_mode - Z_OK if the file is safe to use */
int smtp_auth_check_mode(mode_t mode, uid_t owner, uid_t me, zbuf *err);
int smtp_auth_entry_match(const smtp_auth_entry *e, const smtp_auth_target *t);
/* smtp_auth_host_match - remotehost field ("*", "*.dom", name, address) vs host */
int smtp_auth_host_match(const char *pattern, const char *host);
/* smtp_auth_pick - mechanism to use (AUTHM_*), 0 if none allowed */
unsigned smtp_auth_pick(unsigned offered, int tls, unsigned flags);
/* smtp_auth_refusal - the reason when smtp_auth_pick() returned 0 */
const char *smtp_auth_refusal(unsigned offered, int tls, unsigned flags);

#endif
