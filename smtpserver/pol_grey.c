/*
 * NAME
 *	pol_grey - greylisting on (client network, sender, recipient)
 * SUMMARY
 *	The store-independent part: triplet keys, the decision, the record
 *	format, the SMTP answer; the stores are pol_grey_lmdb.c and
 *	pol_grey_redis.c.
 * SYNOPSIS
 *	void pol_grey_defaults(pol_grey_cfg *cfg)
 *	int pol_grey_open_lmdb(pol_grey **out, const char *dir, size_t mapsize,
 *	                       const pol_grey_cfg *cfg, zbuf *err)
 *	int pol_grey_open_redis(pol_grey **out, const char *endpoint,
 *	                        const char *prefix, long timeout_ms,
 *	                        const pol_grey_cfg *cfg, zbuf *err)
 *	void pol_grey_close(pol_grey *g)
 *	int pol_grey_check(pol_grey *g, const char *client_ip,
 *	                   const char *sender, const char *rcpt, time_t now,
 *	                   long *remaining, zbuf *err)
 *	long pol_grey_expire(pol_grey *g, time_t now, zbuf *err)
 *	void pol_grey_result(int verdict, long remaining, pol_result *r)
 *	int pol_grey_key(const pol_grey_cfg *cfg, const char *client_ip,
 *	                 const char *sender, const char *rcpt, zbuf *out)
 * DESCRIPTION
 *	The client address is cut to its network (IPv4 /24, IPv6 /64 by
 *	default; IPv4-mapped IPv6 counts as IPv4) so that a sender's pool
 *	of outgoing servers retries as one; sender and recipient are
 *	compared in lower case; the null sender is "<>".  The store key is
 *	the SHA-256 of "net/len,sender,rcpt" in hex (fixed length, fits
 *	LMDB's key limit, reveals no addresses).
 *	A triplet seen for the first time is recorded and deferred (NEW).
 *	A retry sooner than delay seconds after the first sight is deferred
 *	again (EARLY).  A retry after delay and within retry_window moves
 *	the triplet to the allow-list (PASSED); later mail passes at once
 *	(ALLOWED) and refreshes it.  A pending triplet older than
 *	retry_window, or an allowed one not seen for allow_ttl, counts as
 *	new.  Time is the caller's `now` (tests inject a clock).
 *	Records are text "v1 first last A|P passes".
 * DIAGNOSTICS
 *	Verdicts >= 0; Z_EPARSE (bad client address), Z_EIO (store failed)
 *	with a reason in err.
 * SECURITY
 *	Addresses are the client's own words: they only select a hash key.
 *	A client can fill the store with new triplets; entries expire and
 *	the LMDB map is bounded (a full map is an error, not a crash).
 * BUGS
 *	No auto-allow of whole clients after N passed triplets (postgrey's
 *	--auto-whitelist-clients).
 * SEE ALSO
 *	smtpserver.conf(5) greylist_*, postgrey(8)
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pol_grey_int.h"
#include "zutil.h"

/* pol_grey_defaults - 5 min delay, 2 day retry window, 35 day allow-list */
void pol_grey_defaults(pol_grey_cfg *cfg)
{
	cfg->delay = 300;
	cfg->retry_window = 2 * 86400;
	cfg->allow_ttl = 35 * 86400;
	cfg->v4_prefix = 24;
	cfg->v6_prefix = 64;
}

/* mask - keep the first bits of a */
static void mask(unsigned char *a, size_t len, unsigned bits)
{
	for (size_t i = 0; i < len; i++) {
		if (bits >= 8) {
			bits -= 8;
			continue;
		}
		a[i] &= (unsigned char)(0xff << (8 - bits));
		bits = 0;
	}
}

/* put_lower - append s in lower case (empty as "<>") */
static int put_lower(zbuf *out, const char *s)
{
	int rc = Z_OK;

	if (s == NULL || *s == '\0')
		return zbuf_puts(out, "<>");
	for (; rc == Z_OK && *s; s++)
		rc = zbuf_putc(out, tolower((unsigned char)*s));
	return rc;
}

/* pol_grey_key - normalised triplet text */
int pol_grey_key(const pol_grey_cfg *cfg, const char *client_ip, const char *sender, const char *rcpt, zbuf *out)
{
	unsigned char a[16];
	char txt[INET6_ADDRSTRLEN];
	int rc;

	zbuf_reset(out);
	if (client_ip == NULL)
		return Z_EPARSE;
	if (inet_pton(AF_INET, client_ip, a) == 1) {
		mask(a, 4, cfg->v4_prefix > 32 ? 32 : cfg->v4_prefix);
		inet_ntop(AF_INET, a, txt, sizeof(txt));
		rc = zbuf_printf(out, "%s/%u,", txt, cfg->v4_prefix > 32 ? 32 : cfg->v4_prefix);
	} else if (inet_pton(AF_INET6, client_ip, a) == 1) {
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(a, mapped, 12) == 0) {
			mask(a + 12, 4, cfg->v4_prefix > 32 ? 32 : cfg->v4_prefix);
			inet_ntop(AF_INET, a + 12, txt, sizeof(txt));
			rc = zbuf_printf(out, "%s/%u,", txt, cfg->v4_prefix > 32 ? 32 : cfg->v4_prefix);
		} else {
			mask(a, 16, cfg->v6_prefix > 128 ? 128 : cfg->v6_prefix);
			inet_ntop(AF_INET6, a, txt, sizeof(txt));
			rc = zbuf_printf(out, "%s/%u,", txt, cfg->v6_prefix > 128 ? 128 : cfg->v6_prefix);
		}
	} else {
		return Z_EPARSE;
	}
	if (rc == Z_OK)
		rc = put_lower(out, sender);
	if (rc == Z_OK)
		rc = zbuf_putc(out, ',');
	if (rc == Z_OK)
		rc = put_lower(out, rcpt);
	return rc;
}

/* hash_key - SHA-256 of the triplet in hex */
static int hash_key(const zbuf *trip, char hex[GREY_HASH_HEX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const char digits[] = "0123456789abcdef";

	if (EVP_Digest(zbuf_cstr(trip), trip->len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return Z_ERR;
	for (unsigned i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[GREY_HASH_HEX] = '\0';
	return Z_OK;
}

/* grey_expired - pending past the retry window, or allowed and unseen too long */
int grey_expired(const pol_grey_cfg *cfg, const grey_rec *r, time_t now)
{
	if (r->allowed)
		return (long long)now - r->last > cfg->allow_ttl;
	return (long long)now - r->first > cfg->retry_window;
}

/* grey_decide - the state machine */
int grey_decide(const pol_grey_cfg *cfg, const grey_rec *old, time_t now, grey_rec *nr, long *ttl, long *remaining)
{
	long long el;

	*remaining = 0;
	if (old == NULL || grey_expired(cfg, old, now)) {
		nr->first = nr->last = now;
		nr->allowed = 0;
		nr->passes = 0;
		*ttl = cfg->retry_window;
		*remaining = cfg->delay;
		return POL_GREY_NEW;
	}
	*nr = *old;
	nr->last = now;
	if (old->allowed) {
		nr->passes++;
		*ttl = cfg->allow_ttl;
		return POL_GREY_ALLOWED;
	}
	el = (long long)now - old->first;
	if (el < 0)
		el = 0; /* a clock that went back: wait the full delay */
	if (el < cfg->delay) {
		*remaining = (long)(cfg->delay - el);
		*ttl = (long)(cfg->retry_window - el);
		return POL_GREY_EARLY;
	}
	nr->allowed = 1;
	nr->passes = 1;
	*ttl = cfg->allow_ttl;
	return POL_GREY_PASSED;
}

/* grey_rec_encode - record as text */
int grey_rec_encode(const grey_rec *r, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "v1 %lld %lld %c %lu", r->first, r->last, r->allowed ? 'A' : 'P', r->passes);

	return n < 0 || (size_t)n >= outsz ? Z_ETOOBIG : Z_OK;
}

/* grey_rec_decode - text into a record; Z_EPARSE if malformed */
int grey_rec_decode(const char *p, size_t n, grey_rec *r)
{
	zcur c;
	zspan f, l, s, k;
	long v1, v2;
	unsigned long ps;

	zcur_init(&c, p, n);
	if (zcur_expect(&c, "v1 ") != Z_OK || zcur_take_until(&c, ' ', &f) != Z_OK ||
	    zcur_take_until(&c, ' ', &l) != Z_OK || zcur_take_until(&c, ' ', &s) != Z_OK)
		return Z_EPARSE;
	zcur_take_rest(&c, &k);
	if (zspan_to_long(f, 0, 1L << 40, &v1) != Z_OK || zspan_to_long(l, 0, 1L << 40, &v2) != Z_OK ||
	    zspan_to_ulong(k, 1ul << 40, &ps) != Z_OK || s.n != 1 || (s.p[0] != 'A' && s.p[0] != 'P'))
		return Z_EPARSE;
	r->first = v1;
	r->last = v2;
	r->allowed = s.p[0] == 'A';
	r->passes = ps;
	return Z_OK;
}

/* open_common - allocate the handle */
static pol_grey *open_common(const pol_grey_cfg *cfg, zbuf *err)
{
	pol_grey *g = calloc(1, sizeof(*g));

	if (g == NULL) {
		zbuf_puts(err, "out of memory");
		return NULL;
	}
	if (cfg != NULL)
		g->cfg = *cfg;
	else
		pol_grey_defaults(&g->cfg);
	return g;
}

/* pol_grey_open_lmdb - handle on an LMDB environment */
int pol_grey_open_lmdb(pol_grey **out, const char *dir, size_t mapsize, const pol_grey_cfg *cfg, zbuf *err)
{
	pol_grey *g = open_common(cfg, err);
	int rc;

	*out = NULL;
	if (g == NULL)
		return Z_ENOMEM;
	rc = grey_open_lmdb(g, dir, mapsize ? mapsize : POL_GREY_LMDB_MAPSIZE_DEFAULT, err);
	if (rc != Z_OK) {
		free(g);
		return rc;
	}
	*out = g;
	return Z_OK;
}

/* pol_grey_open_redis - handle on a Redis server */
int pol_grey_open_redis(pol_grey **out, const char *endpoint, const char *prefix, long timeout_ms,
			const pol_grey_cfg *cfg, zbuf *err)
{
	pol_grey *g = open_common(cfg, err);
	int rc;

	*out = NULL;
	if (g == NULL)
		return Z_ENOMEM;
	rc = grey_open_redis(g, endpoint, prefix ? prefix : "zmta:grey:", timeout_ms > 0 ? timeout_ms : 2000, err);
	if (rc != Z_OK) {
		free(g);
		return rc;
	}
	*out = g;
	return Z_OK;
}

/* pol_grey_close - release the handle and its store */
void pol_grey_close(pol_grey *g)
{
	if (g == NULL)
		return;
	g->ops->close(g);
	free(g);
}

/* pol_grey_check - key the triplet and let the store decide atomically */
int pol_grey_check(pol_grey *g, const char *client_ip, const char *sender, const char *rcpt, time_t now,
		   long *remaining, zbuf *err)
{
	zbuf trip = ZBUF_INIT(2048);
	char hex[GREY_HASH_HEX + 1];
	int rc;

	*remaining = 0;
	rc = pol_grey_key(&g->cfg, client_ip, sender, rcpt, &trip);
	if (rc != Z_OK) {
		zbuf_printf(err, "greylist: %s", rc == Z_EPARSE ? "bad client address" : "address too long");
		goto done;
	}
	if (hash_key(&trip, hex) != Z_OK) {
		zbuf_puts(err, "greylist: SHA-256 failed");
		rc = Z_ERR;
		goto done;
	}
	rc = g->ops->check(g, hex, now, remaining, err);
done:
	zbuf_free(&trip);
	return rc;
}

/* pol_grey_expire - sweep the store */
long pol_grey_expire(pol_grey *g, time_t now, zbuf *err)
{
	return g->ops->expire(g, now, err);
}

/* pol_grey_result - accept, or the 451 greylisting answer */
void pol_grey_result(int verdict, long remaining, pol_result *r)
{
	pol_result_accept(r);
	if (verdict != POL_GREY_NEW && verdict != POL_GREY_EARLY)
		return;
	r->verdict = POL_DEFER;
	r->code = 451;
	zstrlcpy(r->enh, "4.7.1", sizeof(r->enh));
	snprintf(r->text, sizeof(r->text), "Greylisted, please try again in %ld seconds", remaining > 0 ? remaining : 1);
}
