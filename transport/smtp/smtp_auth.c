/*
 * NAME
 *	smtp_auth - the -A secrets file and SMTP AUTH helpers
 * SUMMARY
 *	Finds the credentials for a channel and server, chooses a SASL
 *	mechanism, computes CRAM-MD5 responses, base64.
 * SYNOPSIS
 *	int smtp_auth_lookup(const char *path, const char *channel,
 *	                     const char *host, smtp_auth_entry *out, zbuf *err)
 *	int smtp_auth_parse_line(zspan line, smtp_auth_entry *out, zbuf *err)
 *	unsigned smtp_auth_pick(unsigned offered, int tls_on, int clear_ok)
 *	const char *smtp_auth_mech_name(unsigned m)
 *	int smtp_cram_md5(const char *user, const char *secret,
 *	                  const char *chal, size_t chlen, zbuf *out)
 *	int smtp_b64_encode(const void *p, size_t n, zbuf *out)
 *	int smtp_b64_decode(zspan in, zbuf *out)
 * DESCRIPTION
 *	File format, one entry per line, fields separated by blanks:
 *	    channel  host  user  secret  [plain-ok]
 *	'#' lines and blank lines are ignored.  channel may be '*'; host is
 *	compared without regard to case (the MX host name first, then the
 *	destination domain).  user and secret are taken literally (no
 *	blanks inside).  The first matching line wins.  "plain-ok" allows
 *	PLAIN and LOGIN over a connection without TLS; otherwise only
 *	CRAM-MD5 is used in clear.  Preference: CRAM-MD5, PLAIN, LOGIN.
 *	The file must be a regular file not readable or writable by others.
 * DIAGNOSTICS
 *	Z_ENOENT when no line matches; Z_EPARSE/Z_EIO with file and line.
 * SECURITY
 *	Secrets never reach a log or a diagnostic; buffers holding them are
 *	cleared after use.
 * BUGS
 *	No SCRAM.
 * SEE ALSO
 *	smtp(8), RFC 4954, RFC 4616, RFC 2195
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "smtp.h"
#include "zutil.h"

/* smtp_auth_mech_name - SASL name */
const char *smtp_auth_mech_name(unsigned m)
{
	switch (m) {
	case AUTHM_PLAIN: return "PLAIN";
	case AUTHM_LOGIN: return "LOGIN";
	case AUTHM_CRAMMD5: return "CRAM-MD5";
	}
	return "?";
}

/* smtp_auth_pick - strongest acceptable mechanism */
unsigned smtp_auth_pick(unsigned offered, int tls_on, int clear_ok)
{
	if (offered & AUTHM_CRAMMD5)
		return AUTHM_CRAMMD5;
	if (!tls_on && !clear_ok)
		return 0;
	if (offered & AUTHM_PLAIN)
		return AUTHM_PLAIN;
	if (offered & AUTHM_LOGIN)
		return AUTHM_LOGIN;
	return 0;
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

/* smtp_auth_parse_line - one non-comment line */
int smtp_auth_parse_line(zspan line, smtp_auth_entry *out, zbuf *err)
{
	zcur c;
	zspan rest;

	memset(out, 0, sizeof(*out));
	zcur_init(&c, line.p, line.n);
	if (field(&c, out->channel, sizeof(out->channel)) != Z_OK ||
	    field(&c, out->host, sizeof(out->host)) != Z_OK ||
	    field(&c, out->user, sizeof(out->user)) != Z_OK ||
	    field(&c, out->secret, sizeof(out->secret)) != Z_OK) {
		zbuf_puts(err, "expected: channel host user secret [plain-ok]");
		return Z_EPARSE;
	}
	zcur_skip_ws(&c);
	zcur_take_rest(&c, &rest);
	rest = zspan_trim(rest);
	if (rest.n > 0) {
		if (!zspan_eq(rest, "plain-ok")) {
			zbuf_puts(err, "unknown flag (only plain-ok is known)");
			return Z_EPARSE;
		}
		out->clear_ok = 1;
	}
	for (const char *p = out->user; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			zbuf_puts(err, "control character in user");
			return Z_EPARSE;
		}
	return Z_OK;
}

/* smtp_auth_lookup - first matching line of the file */
int smtp_auth_lookup(const char *path, const char *channel, const char *host,
		     smtp_auth_entry *out, zbuf *err)
{
	zbuf data = ZBUF_INIT(1024u * 1024u);
	struct stat st;
	int fd, rc = Z_ENOENT, lineno = 0;
	zcur all;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		zbuf_printf(err, "%s: %s", path, strerror(errno));
		return Z_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		zbuf_printf(err, "%s: not a regular file", path);
		close(fd);
		return Z_EIO;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		zbuf_printf(err, "%s: readable or writable by others, refusing to use it", path);
		close(fd);
		return Z_EIO;
	}
	if (zread_fd(fd, data.max, &data) != Z_OK) {
		zbuf_printf(err, "%s: cannot read (or larger than 1 MB)", path);
		close(fd);
		zbuf_free(&data);
		return Z_EIO;
	}
	close(fd);
	zcur_init(&all, data.data ? data.data : "", data.len);
	while (!zcur_eof(&all)) {
		zspan line;
		zbuf why = ZBUF_INIT(256);
		lineno++;
		if (zcur_take_until(&all, '\n', &line) != Z_OK)
			zcur_take_rest(&all, &line);
		line = zspan_trim(line);
		if (line.n == 0 || line.p[0] == '#')
			continue;
		if (smtp_auth_parse_line(line, out, &why) != Z_OK) {
			zbuf_printf(err, "%s:%d: %s", path, lineno, zbuf_cstr(&why));
			zbuf_free(&why);
			rc = Z_EPARSE;
			break;
		}
		zbuf_free(&why);
		if ((strcmp(out->channel, "*") == 0 || strcmp(out->channel, channel) == 0) &&
		    strcasecmp(out->host, host) == 0) {
			rc = Z_OK;
			break;
		}
	}
	if (rc != Z_OK)
		explicit_bzero(out, sizeof(*out));
	if (data.data)
		explicit_bzero(data.data, data.len);
	zbuf_free(&data);
	return rc;
}

/* smtp_b64_encode - base64 of p[n] appended to out */
int smtp_b64_encode(const void *p, size_t n, zbuf *out)
{
	size_t need;
	int rc;

	if (n > 3u * 1024u * 1024u)
		return Z_ETOOBIG;
	need = 4 * ((n + 2) / 3) + 1;
	rc = zbuf_reserve(out, need);
	if (rc != Z_OK)
		return rc;
	rc = EVP_EncodeBlock((unsigned char *)out->data + out->len, p, (int)n);
	out->len += (size_t)rc;
	out->data[out->len] = '\0';
	return Z_OK;
}

/* smtp_b64_decode - strict base64 decoding */
int smtp_b64_decode(zspan in, zbuf *out)
{
	size_t pad = 0;
	int rc, n;

	if (in.n % 4 != 0 || in.n > 64u * 1024u)
		return Z_EPARSE;
	for (size_t i = 0; i < in.n; i++) {
		unsigned char c = (unsigned char)in.p[i];
		if (c == '=') {
			if (i < in.n - 2)
				return Z_EPARSE;
			pad++;
		} else if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				    (c >= '0' && c <= '9') || c == '+' || c == '/')) {
			return Z_EPARSE;
		}
	}
	if (in.n == 0)
		return Z_OK;
	rc = zbuf_reserve(out, in.n);
	if (rc != Z_OK)
		return rc;
	n = EVP_DecodeBlock((unsigned char *)out->data + out->len, (const unsigned char *)in.p,
			    (int)in.n);
	if (n < 0 || (size_t)n < pad)
		return Z_EPARSE;
	out->len += (size_t)n - pad;
	out->data[out->len] = '\0';
	return Z_OK;
}

/* smtp_cram_md5 - "user hex(HMAC-MD5(secret, challenge))" */
int smtp_cram_md5(const char *user, const char *secret, const char *chal,
		  size_t chlen, zbuf *out)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	static const char hex[] = "0123456789abcdef";

	if (HMAC(EVP_md5(), secret, (int)strlen(secret), (const unsigned char *)chal, chlen,
		 mac, &maclen) == NULL)
		return Z_ERR;
	if (zbuf_puts(out, user) != Z_OK || zbuf_putc(out, ' ') != Z_OK)
		return Z_ETOOBIG;
	for (unsigned i = 0; i < maclen; i++) {
		char h[2] = { hex[mac[i] >> 4], hex[mac[i] & 15] };
		if (zbuf_append(out, h, 2) != Z_OK)
			return Z_ETOOBIG;
	}
	explicit_bzero(mac, sizeof(mac));
	return Z_OK;
}
