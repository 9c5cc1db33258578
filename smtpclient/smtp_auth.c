/*
 * NAME
 *	smtp_auth - the AUTH secrets file and SMTP AUTH helpers (libzmsmtp;
 *	the smtp agent's -A, smtpsend -a)
 * SUMMARY
 *	Reads ZMailer's secrets file (base64 user and secret), matches a
 *	line against the server (MX name, destination, address), decides
 *	which SASL mechanism may carry the secret over the session at hand;
 *	the mechanisms themselves are in smtp/smtp_sasl.c.
 * SYNOPSIS
 *	int smtp_auth_lookup(const char *path, const smtp_auth_target *t,
 *	                     smtp_auth_entry *out, zbuf *err)
 *	int smtp_auth_find(const char *name, const char *data, size_t len,
 *	                   const smtp_auth_target *t, smtp_auth_entry *out,
 *	                   zbuf *err)
 *	int smtp_auth_parse_line(zspan line, smtp_auth_entry *out, zbuf *err)
 *	int smtp_auth_check_mode(mode_t mode, uid_t owner, uid_t me, zbuf *err)
 *	int smtp_auth_entry_match(const smtp_auth_entry *e,
 *	                          const smtp_auth_target *t)
 *	int smtp_auth_host_match(const char *pattern, const char *host)
 *	unsigned smtp_auth_pick(unsigned offered, int tls, unsigned flags)
 *	const char *smtp_auth_refusal(unsigned offered, int tls, unsigned flags)
 * DESCRIPTION
 *	File format (ZMailer's), one entry per line, fields separated by
 *	blanks:
 *	    channel  remotehost  base64(user)  base64(secret)  [flags]
 *	'#' lines and blank lines are ignored.  channel is a channel name or
 *	'*'.  remotehost is '*' (any server), '*.domain' (any name below
 *	domain), a host name, or an address ("[192.0.2.1]", "192.0.2.1",
 *	"[IPv6:2001:db8::1]"); a trailing ":port" is ignored.  It is
 *	compared without regard to case with the MX host name, the
 *	destination (the next-hop domain or the -F target, without port)
 *	and the address connected to, with or without brackets.  The first
 *	matching line wins.  flags is a comma-separated list:
 *	    tls=verified  (default) secrets only over TLS whose certificate
 *	                  verified (chain and name);
 *	    tls=any       also over unverified TLS (may/encrypt sessions);
 *	    clear         CRAM-MD5 also without TLS;
 *	    plain-clear   PLAIN and LOGIN also without TLS (implies the
 *	                  others; the secret travels readable).
 *	Preference among the allowed mechanisms: CRAM-MD5, PLAIN, LOGIN.
 *	The file must be a regular file owned by the agent's user or root
 *	with no permission bits for group or others.
 * DIAGNOSTICS
 *	Z_ENOENT when no line matches; Z_EPARSE with file and line for a
 *	bad line; Z_ERR for an unsafe file (not a regular file, mode or
 *	owner), Z_ETOOBIG over 1 MB, Z_EIO when it cannot be opened (a
 *	symlink included) or read (lib/zsecret.c does the opening and
 *	reading).  The reasons never contain a secret.
 * SECURITY
 *	Secrets never reach a log, a diagnostic or a report; every buffer
 *	that held one (the file data, decoded fields, encoded responses) is
 *	cleared with explicit_bzero before it is freed.  A decoded user with
 *	control characters and any field with a NUL byte are refused.
 * BUGS
 *	No SCRAM.  The file is read again for every connection.
 * SEE ALSO
 *	smtp(8), RFC 4954, RFC 4616, RFC 2195
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "zerr.h"
#include "smtp_session.h"
#include "smtp_tls.h"
#include "smtp_sasl.h"
#include "smtp_auth.h"
#include "zutil.h"
#include "zsecret.h"

/* allowed - which mechanisms may carry the secret on this session */
static void allowed(int tls, unsigned flags, int *cram, int *plain)
{
	int trusted = tls == STLS_VERIFIED ||
		(tls == STLS_UNVERIFIED && (flags & (AUTHF_TLS_ANY | AUTHF_PLAIN_CLEAR)));

	*cram = trusted || (flags & (AUTHF_CLEAR | AUTHF_PLAIN_CLEAR)) != 0;
	*plain = trusted || (flags & AUTHF_PLAIN_CLEAR) != 0;
}

/* smtp_auth_pick - strongest mechanism the line allows on this session */
unsigned smtp_auth_pick(unsigned offered, int tls, unsigned flags)
{
	int cram, plain;

	allowed(tls, flags, &cram, &plain);
	if (cram && (offered & AUTHM_CRAMMD5))
		return AUTHM_CRAMMD5;
	if (plain && (offered & AUTHM_PLAIN))
		return AUTHM_PLAIN;
	if (plain && (offered & AUTHM_LOGIN))
		return AUTHM_LOGIN;
	return 0;
}

/* smtp_auth_refusal - why smtp_auth_pick() found nothing */
const char *smtp_auth_refusal(unsigned offered, int tls, unsigned flags)
{
	int cram, plain;

	allowed(tls, flags, &cram, &plain);
	if (!(offered & (AUTHM_CRAMMD5 | AUTHM_PLAIN | AUTHM_LOGIN)))
		return "none of CRAM-MD5 PLAIN LOGIN offered";
	if (tls == STLS_UNVERIFIED)
		return "TLS certificate not verified, secrets withheld "
			"(flag tls=any in the secrets file allows it)";
	if (tls == STLS_OFF && cram)
		return "no TLS and only PLAIN/LOGIN offered, secrets withheld "
			"(flag plain-clear in the secrets file allows it)";
	return "no TLS, secrets withheld (flags clear or plain-clear in the secrets "
		"file allow it)";
}

/* smtp_auth_host_match - 1 if the remotehost field matches host */
int smtp_auth_host_match(const char *pattern, const char *host)
{
	char p[300], h[300];
	size_t pn, hn;

	if (host == NULL || host[0] == '\0')
		return 0;
	if (strcmp(pattern, "*") == 0)
		return 1;
	if (smtp_host_norm(host, h, sizeof(h)) != Z_OK)
		return 0;
	if (pattern[0] == '*' && pattern[1] == '.') {
		if (smtp_host_norm(pattern + 1, p, sizeof(p)) != Z_OK || h[0] == '[')
			return 0;
		pn = strlen(p);
		hn = strlen(h);
		return hn > pn && strcmp(h + hn - pn, p) == 0;
	}
	if (smtp_host_norm(pattern, p, sizeof(p)) != Z_OK)
		return 0;
	return strcmp(p, h) == 0;
}

/* smtp_auth_entry_match - channel and one of the target's hosts */
int smtp_auth_entry_match(const smtp_auth_entry *e, const smtp_auth_target *t)
{
	if (strcmp(e->channel, "*") != 0 &&
	    (t->channel == NULL || strcmp(e->channel, t->channel) != 0))
		return 0;
	return smtp_auth_host_match(e->host, t->mxname) ||
		smtp_auth_host_match(e->host, t->dest) ||
		smtp_auth_host_match(e->host, t->ip);
}

/* field - next blank-separated field into dst */
static int field(zcur *c, char *dst, size_t dsz)
{
	zspan t;
	zcur_skip_ws(c);
	if (zcur_take_token(c, &t) != Z_OK)
		return Z_EPARSE;
	return zspan_copy(t, dst, dsz);
}

/* b64_field - next field, base64-decoded into dst (NUL-free) */
static int b64_field(zcur *c, char *dst, size_t dsz, const char *what, zbuf *err)
{
	zbuf d = ZBUF_INIT(1024);
	zspan t;
	int rc = Z_EPARSE;

	zcur_skip_ws(c);
	if (zcur_take_token(c, &t) != Z_OK) {
		zbuf_printf(err, "%s missing", what);
		goto done;
	}
	if (zbuf_reserve(&d, t.n + 4) != Z_OK || smtp_b64_decode(t, &d) != Z_OK) {
		zbuf_printf(err, "%s is not valid base64", what);
		goto done;
	}
	if (d.len == 0 || d.len >= dsz) {
		zbuf_printf(err, "%s is empty or too long", what);
		goto done;
	}
	if (memchr(d.data, '\0', d.len) != NULL) {
		zbuf_printf(err, "%s contains a NUL byte", what);
		goto done;
	}
	memcpy(dst, d.data, d.len);
	dst[d.len] = '\0';
	rc = Z_OK;
done:
	smtp_zbuf_wipe(&d);
	return rc;
}

/* parse_flags - the comma-separated fifth field */
static int parse_flags(zspan f, unsigned *flags, zbuf *err)
{
	zcur c;

	zcur_init(&c, f.p, f.n);
	while (!zcur_eof(&c)) {
		zspan w;
		if (zcur_take_until(&c, ',', &w) != Z_OK)
			zcur_take_rest(&c, &w);
		if (zspan_caseeq(w, "tls=verified"))
			*flags &= ~(unsigned)AUTHF_TLS_ANY;
		else if (zspan_caseeq(w, "tls=any"))
			*flags |= AUTHF_TLS_ANY;
		else if (zspan_caseeq(w, "clear"))
			*flags |= AUTHF_CLEAR;
		else if (zspan_caseeq(w, "plain-clear"))
			*flags |= AUTHF_PLAIN_CLEAR | AUTHF_CLEAR | AUTHF_TLS_ANY;
		else {
			zbuf_printf(err, "unknown flag '%.*s' (known: tls=verified, tls=any, clear, "
				    "plain-clear)", (int)(w.n > 40 ? 40 : w.n), w.p);
			return Z_EPARSE;
		}
	}
	return Z_OK;
}

/* smtp_auth_parse_line - one non-comment line */
int smtp_auth_parse_line(zspan line, smtp_auth_entry *out, zbuf *err)
{
	zcur c;
	zspan f;
	int rc = Z_EPARSE;

	memset(out, 0, sizeof(*out));
	if (memchr(line.p, '\0', line.n) != NULL) {
		zbuf_puts(err, "NUL byte in the line");
		goto done;
	}
	zcur_init(&c, line.p, line.n);
	if (field(&c, out->channel, sizeof(out->channel)) != Z_OK ||
	    field(&c, out->host, sizeof(out->host)) != Z_OK) {
		zbuf_puts(err, "expected: channel remotehost base64(user) base64(secret) [flags]");
		goto done;
	}
	if (strcmp(out->host, "*") != 0) {
		char tmp[300];
		const char *h = out->host[0] == '*' && out->host[1] == '.' ? out->host + 1 : out->host;
		if (smtp_host_norm(h, tmp, sizeof(tmp)) != Z_OK) {
			zbuf_puts(err, "bad remotehost (a name, *.domain, [address] or *)");
			goto done;
		}
	}
	if (b64_field(&c, out->user, sizeof(out->user), "user", err) != Z_OK ||
	    b64_field(&c, out->secret, sizeof(out->secret), "secret", err) != Z_OK)
		goto done;
	for (const char *p = out->user; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			zbuf_puts(err, "control character in user");
			goto done;
		}
	zcur_skip_ws(&c);
	if (!zcur_eof(&c)) {
		(void)zcur_take_token(&c, &f);
		zcur_skip_ws(&c);
		if (!zcur_eof(&c)) {
			zbuf_puts(err, "too many fields (flags are one comma-separated field)");
			goto done;
		}
		if (parse_flags(f, &out->flags, err) != Z_OK)
			goto done;
	}
	rc = Z_OK;
done:
	if (rc != Z_OK)
		OPENSSL_cleanse(out, sizeof(*out));
	return rc;
}

/* smtp_auth_find - first matching line of the file's text */
int smtp_auth_find(const char *name, const char *data, size_t len,
		   const smtp_auth_target *t, smtp_auth_entry *out, zbuf *err)
{
	zsecret_lines all;
	zspan line;

	memset(out, 0, sizeof(*out));
	zsecret_lines_init(&all, data, len);
	while (zsecret_next(&all, &line)) {
		zbuf why = ZBUF_INIT(256);
		int lineno = (int)all.lineno;

		line = zspan_trim(line);
		if (smtp_auth_parse_line(line, out, &why) != Z_OK) {
			zbuf_printf(err, "%s:%d: %s", name, lineno, zbuf_cstr(&why));
			zbuf_free(&why);
			return Z_EPARSE;
		}
		zbuf_free(&why);
		if (smtp_auth_entry_match(out, t)) {
			out->lineno = lineno;
			return Z_OK;
		}
	}
	OPENSSL_cleanse(out, sizeof(*out));
	return Z_ENOENT;
}

/* smtp_auth_check_mode - the file must be ours (or root's), no group/other bits */
int smtp_auth_check_mode(mode_t mode, uid_t owner, uid_t me, zbuf *err)
{
	return zsecret_check_mode(mode, owner, me, err);
}

/* smtp_auth_lookup - first matching line of the file */
int smtp_auth_lookup(const char *path, const smtp_auth_target *t,
		     smtp_auth_entry *out, zbuf *err)
{
	zbuf data = ZBUF_INIT(1024u * 1024u);
	int rc;

	memset(out, 0, sizeof(*out));
	rc = zsecret_read(path, data.max - 2, 0, &data, err);
	if (rc == Z_OK)
		rc = smtp_auth_find(path, data.data, data.len, t, out, err);
	zsecret_wipe(&data);
	return rc;
}
