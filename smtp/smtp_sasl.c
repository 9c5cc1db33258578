/*
 * NAME
 *	smtp_sasl - SASL PLAIN, LOGIN and CRAM-MD5 for SMTP AUTH, both sides
 * SUMMARY
 *	Mechanism names, strict base64, the client's responses and the
 *	server's verification of them against a secret lookup callback.
 * SYNOPSIS
 *	const char *smtp_sasl_mech_name(unsigned m)
 *	unsigned smtp_sasl_mech_parse(zspan name)
 *	int smtp_b64_encode(const void *p, size_t n, zbuf *out)
 *	int smtp_b64_decode(zspan in, zbuf *out)
 *	void smtp_zbuf_wipe(zbuf *b)
 *	int smtp_sasl_plain(const char *user, const char *secret, zbuf *out)
 *	int smtp_cram_md5(const char *user, const char *secret,
 *	                  const char *chal, size_t chlen, zbuf *out)
 *	int smtp_sasl_server_start(smtp_sasl_server *sv, unsigned mech,
 *	                           const char *hostname, smtp_sasl_secret_fn fn,
 *	                           void *arg)
 *	int smtp_sasl_server_step(smtp_sasl_server *sv, zspan in, int have_in,
 *	                          zbuf *out, zbuf *err)
 *	void smtp_sasl_server_end(smtp_sasl_server *sv)
 * DESCRIPTION
 *	PLAIN (RFC 4616): base64 of authzid NUL user NUL secret; the server
 *	takes an empty authzid or one equal to the user.  LOGIN: base64 of
 *	the user, then of the secret, each after a 334 challenge
 *	("Username:", "Password:").  CRAM-MD5 (RFC 2195): the server sends
 *	"<random.time@hostname>", the client answers "user " and the
 *	lower-case hex HMAC-MD5 of the challenge keyed with the secret.
 *	The server compares in constant time (CRYPTO_memcmp).
 *
 *	The server side is a small state machine: start with the mechanism
 *	named on the AUTH line, feed each answer (the initial response of
 *	the AUTH line, if any, with have_in set); SMTP_SASL_CONTINUE means
 *	"send 334 and the challenge in out".
 * DIAGNOSTICS
 *	Z_EPARSE for bad base64, a malformed answer or "*" (the client
 *	cancelled: RFC 4954 says 501); Z_ERR for a wrong user or secret;
 *	Z_ETOOBIG for over-long values.  The reason never holds a secret.
 * SECURITY
 *	Secrets are wiped (zsecret_wipe, OPENSSL_cleanse) from every buffer that held
 *	them before it is freed; the looked-up secret too.  Users with
 *	control characters are refused.
 * BUGS
 *	No SCRAM; no authorization identity other than the user.
 * SEE ALSO
 *	zmta-smtp(3), RFC 4954, RFC 4616, RFC 2195
 */
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include "smtp_sasl.h"
#include "zerr.h"
#include "zutil.h"
#include "zsecret.h"

/* smtp_zbuf_wipe - clear everything a buffer ever held, then free it
 * (lib's zsecret_wipe: one wipe in the tree) */
void smtp_zbuf_wipe(zbuf *b)
{
	zsecret_wipe(b);
}

/* smtp_sasl_mech_name - SASL name */
const char *smtp_sasl_mech_name(unsigned m)
{
	switch (m) {
	case AUTHM_PLAIN: return "PLAIN";
	case AUTHM_LOGIN: return "LOGIN";
	case AUTHM_CRAMMD5: return "CRAM-MD5";
	}
	return "?";
}

/* smtp_sasl_mech_parse - AUTHM_* of a name */
unsigned smtp_sasl_mech_parse(zspan name)
{
	if (zspan_caseeq(name, "PLAIN"))
		return AUTHM_PLAIN;
	if (zspan_caseeq(name, "LOGIN"))
		return AUTHM_LOGIN;
	if (zspan_caseeq(name, "CRAM-MD5"))
		return AUTHM_CRAMMD5;
	return 0;
}

/* smtp_sasl_plain - the PLAIN initial response */
int smtp_sasl_plain(const char *user, const char *secret, zbuf *out)
{
	zbuf raw = ZBUF_INIT(1024);
	int rc = zbuf_reserve(&raw, 600);

	if (rc == Z_OK && (zbuf_putc(&raw, '\0') != Z_OK || zbuf_puts(&raw, user) != Z_OK ||
			   zbuf_putc(&raw, '\0') != Z_OK || zbuf_puts(&raw, secret) != Z_OK))
		rc = Z_ETOOBIG;
	if (rc == Z_OK)
		rc = smtp_b64_encode(raw.data, raw.len, out);
	smtp_zbuf_wipe(&raw);
	return rc;
}

/* user_ok - a user name without control characters, bounded */
static int user_ok(const char *p, size_t n, size_t max)
{
	if (n == 0 || n >= max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

/* smtp_sasl_server_start - begin a mechanism */
int smtp_sasl_server_start(smtp_sasl_server *sv, unsigned mech, const char *hostname,
			   smtp_sasl_secret_fn fn, void *arg)
{
	memset(sv, 0, sizeof(*sv));
	if (mech != AUTHM_PLAIN && mech != AUTHM_LOGIN && mech != AUTHM_CRAMMD5)
		return Z_EPARSE;
	sv->mech = mech;
	sv->secret = fn;
	sv->arg = arg;
	if (mech == AUTHM_CRAMMD5) {
		unsigned char rnd[8];
		unsigned long long v = 0;
		int n;
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return Z_ERR;
		for (size_t i = 0; i < sizeof(rnd); i++)
			v = v << 8 | rnd[i];
		n = snprintf(sv->chal, sizeof(sv->chal), "<%llu.%lld@%s>", v,
			     (long long)time(NULL), hostname ? hostname : "localhost");
		if (n < 0 || (size_t)n >= sizeof(sv->chal))
			return Z_ETOOBIG;
	}
	return Z_OK;
}

/* check_secret - compare a presented secret with the looked-up one */
static int check_secret(smtp_sasl_server *sv, const char *pw, size_t pwlen, zbuf *err)
{
	zbuf sec = ZBUF_INIT(1024);
	int rc = sv->secret != NULL ? sv->secret(sv->arg, sv->user, &sec) : Z_ENOENT;

	if (rc == Z_OK && (sec.len != pwlen ||
			   CRYPTO_memcmp(sec.data ? sec.data : "", pw, pwlen) != 0))
		rc = Z_ERR;
	else if (rc != Z_OK)
		rc = Z_ERR;
	if (rc != Z_OK) {
		zbuf_reset(err);
		zbuf_puts(err, "authentication failed");
	}
	smtp_zbuf_wipe(&sec);
	return rc;
}

/* check_cram - verify "user hexdigest" */
static int check_cram(smtp_sasl_server *sv, const char *p, size_t n, zbuf *err)
{
	const char *sp = memchr(p, ' ', n);
	zbuf sec = ZBUF_INIT(1024), want = ZBUF_INIT(1024);
	int rc;

	if (sp == NULL || !user_ok(p, (size_t)(sp - p), sizeof(sv->user))) {
		zbuf_reset(err);
		zbuf_puts(err, "malformed CRAM-MD5 response");
		return Z_EPARSE;
	}
	memcpy(sv->user, p, (size_t)(sp - p));
	sv->user[sp - p] = '\0';
	rc = sv->secret != NULL ? sv->secret(sv->arg, sv->user, &sec) : Z_ENOENT;
	if (rc == Z_OK && zbuf_puts(&sec, "") == Z_OK &&
	    smtp_cram_md5(sv->user, zbuf_cstr(&sec), sv->chal, strlen(sv->chal), &want) == Z_OK &&
	    want.len == n && CRYPTO_memcmp(want.data, p, n) == 0)
		rc = Z_OK;
	else
		rc = Z_ERR;
	if (rc != Z_OK) {
		zbuf_reset(err);
		zbuf_puts(err, "authentication failed");
	}
	smtp_zbuf_wipe(&sec);
	smtp_zbuf_wipe(&want);
	return rc;
}

/* smtp_sasl_server_step - one answer of the client */
int smtp_sasl_server_step(smtp_sasl_server *sv, zspan in, int have_in, zbuf *out, zbuf *err)
{
	zbuf d = ZBUF_INIT(4096);
	int rc = Z_EPARSE;

	if (have_in && in.n == 1 && in.p[0] == '*') {
		zbuf_reset(err);
		zbuf_puts(err, "authentication cancelled");
		goto done;
	}
	if (have_in && !(in.n == 1 && in.p[0] == '=') && smtp_b64_decode(in, &d) != Z_OK) {
		zbuf_reset(err);
		zbuf_puts(err, "bad base64 in the AUTH answer");
		goto done;
	}
	switch (sv->mech) {
	case AUTHM_PLAIN: {
		const char *p = d.data ? d.data : "", *u, *pw;
		size_t ulen;
		if (!have_in && sv->step == 0) {
			sv->step = 1;
			rc = SMTP_SASL_CONTINUE;    /* "334 " and an empty challenge */
			goto done;
		}
		u = memchr(p, '\0', d.len);
		pw = u != NULL ? memchr(u + 1, '\0', d.len - (size_t)(u + 1 - p)) : NULL;
		if (u == NULL || pw == NULL) {
			zbuf_reset(err);
			zbuf_puts(err, "malformed PLAIN response");
			goto done;
		}
		u++;
		ulen = (size_t)(pw - u);
		pw++;
		if (!user_ok(u, ulen, sizeof(sv->user)) ||
		    (u - 1 > p && ((size_t)(u - 1 - p) != ulen || memcmp(p, u, ulen) != 0))) {
			zbuf_reset(err);
			zbuf_puts(err, "unusable PLAIN user or authorization identity");
			goto done;
		}
		memcpy(sv->user, u, ulen);
		sv->user[ulen] = '\0';
		rc = check_secret(sv, pw, d.len - (size_t)(pw - p), err);
		break;
	}
	case AUTHM_LOGIN:
		if (sv->step == 0 && !have_in) {
			sv->step = 1;
			rc = smtp_b64_encode("Username:", 9, out) == Z_OK ? SMTP_SASL_CONTINUE : Z_ERR;
			goto done;
		}
		if (sv->step <= 1) {
			if (!user_ok(d.data ? d.data : "", d.len, sizeof(sv->user))) {
				zbuf_reset(err);
				zbuf_puts(err, "unusable LOGIN user");
				goto done;
			}
			memcpy(sv->user, d.data, d.len);
			sv->user[d.len] = '\0';
			sv->step = 2;
			rc = smtp_b64_encode("Password:", 9, out) == Z_OK ? SMTP_SASL_CONTINUE : Z_ERR;
			goto done;
		}
		rc = check_secret(sv, d.data ? d.data : "", d.len, err);
		break;
	case AUTHM_CRAMMD5:
		if (sv->step == 0) {
			if (have_in) {
				zbuf_reset(err);
				zbuf_puts(err, "CRAM-MD5 takes no initial response");
				goto done;
			}
			sv->step = 1;
			rc = smtp_b64_encode(sv->chal, strlen(sv->chal), out) == Z_OK ?
				SMTP_SASL_CONTINUE : Z_ERR;
			goto done;
		}
		rc = check_cram(sv, d.data ? d.data : "", d.len, err);
		break;
	default:
		zbuf_reset(err);
		zbuf_puts(err, "no mechanism started");
		break;
	}
done:
	smtp_zbuf_wipe(&d);
	return rc;
}

/* smtp_sasl_server_end - forget the exchange */
void smtp_sasl_server_end(smtp_sasl_server *sv)
{
	OPENSSL_cleanse(sv, sizeof(*sv));
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
