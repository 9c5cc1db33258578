/*
 * NAME
 *	pol_limit - connections per client address, and the tarpit delay
 * SUMMARY
 *	Counts live connections in total and per client address with a
 *	bounded table; computes the delay before a reply from the number of
 *	rejections so far.
 * SYNOPSIS
 *	pol_conn_table *pol_conn_new(unsigned max_total, unsigned max_per_ip,
 *	                             zbuf *err)
 *	void pol_conn_free(pol_conn_table *t)
 *	int pol_conn_acquire(pol_conn_table *t, const char *ip)
 *	int pol_conn_release(pol_conn_table *t, const char *ip)
 *	unsigned pol_conn_count(const pol_conn_table *t, const char *ip)
 *	unsigned pol_conn_total(const pol_conn_table *t)
 *	void pol_tarpit_defaults(pol_tarpit_cfg *cfg)
 *	long pol_tarpit_delay(const pol_tarpit_cfg *cfg, unsigned rejects)
 *	int pol_tarpit_drop(const pol_tarpit_cfg *cfg, unsigned rejects)
 * DESCRIPTION
 *	The table holds one slot per distinct address with a live
 *	connection, so it never needs more than max_total slots; it is
 *	allocated once.  Addresses are kept as 16 bytes (IPv4 as
 *	v4-mapped IPv6), so "192.0.2.1" and "::ffff:192.0.2.1" count
 *	together.  Lookup is a linear scan: fine for the few thousand
 *	connections one server holds.
 *	The tarpit delay after n >= 1 rejections is
 *	min(max_ms, initial_ms * factor^(n-1)); before any rejection 0.
 *	The greeting delay is cfg->greet_ms, applied by the caller.
 * DIAGNOSTICS
 *	pol_conn_acquire returns Z_OK or the limit that was hit
 *	(POL_LIMIT_TOTAL, POL_LIMIT_PER_IP) or Z_EPARSE.
 * SECURITY
 *	Addresses come from accept(2) or a PROXY header; the table cannot
 *	grow beyond max_total entries whatever a client does.
 * BUGS
 *	Not shared between processes: a pre-forked server keeps it in the
 *	process that accepts.
 * SEE ALSO
 *	smtpserver.conf(5) max_connections, max_connections_per_ip, tarpit_*
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pol_limit.h"

struct slot {
	unsigned char addr[16];
	unsigned n;
};

struct pol_conn_table {
	unsigned max_total, max_per_ip;
	unsigned total;
	size_t used;
	struct slot *slots; /* max_total of them */
};

/* ip_key - 16-byte form of a text address */
static int ip_key(const char *ip, unsigned char key[16])
{
	unsigned char v4[4];

	if (ip == NULL)
		return Z_EPARSE;
	if (inet_pton(AF_INET, ip, v4) == 1) {
		memset(key, 0, 10);
		key[10] = key[11] = 0xff;
		memcpy(key + 12, v4, 4);
		return Z_OK;
	}
	if (inet_pton(AF_INET6, ip, key) == 1)
		return Z_OK;
	return Z_EPARSE;
}

/* find - slot index of key or -1 */
static long find(const pol_conn_table *t, const unsigned char key[16])
{
	for (size_t i = 0; i < t->used; i++)
		if (memcmp(t->slots[i].addr, key, 16) == 0)
			return (long)i;
	return -1;
}

/* pol_conn_new - allocate the table */
pol_conn_table *pol_conn_new(unsigned max_total, unsigned max_per_ip, zbuf *err)
{
	pol_conn_table *t;

	if (max_total == 0 || max_total > 1000000) {
		zbuf_puts(err, "max_connections must be 1..1000000");
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->slots = calloc(max_total, sizeof(struct slot))) == NULL) {
		free(t);
		zbuf_puts(err, "out of memory");
		return NULL;
	}
	t->max_total = max_total;
	t->max_per_ip = max_per_ip;
	return t;
}

/* pol_conn_free - release the table */
void pol_conn_free(pol_conn_table *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t);
}

/* pol_conn_acquire - count a new connection if the limits allow it */
int pol_conn_acquire(pol_conn_table *t, const char *ip)
{
	unsigned char key[16];
	long i;

	if (ip_key(ip, key) != Z_OK)
		return Z_EPARSE;
	if (t->total >= t->max_total)
		return POL_LIMIT_TOTAL;
	i = find(t, key);
	if (i >= 0) {
		if (t->max_per_ip != 0 && t->slots[i].n >= t->max_per_ip)
			return POL_LIMIT_PER_IP;
		t->slots[i].n++;
	} else {
		/* used <= total < max_total: there is a free slot */
		memcpy(t->slots[t->used].addr, key, 16);
		t->slots[t->used].n = 1;
		t->used++;
	}
	t->total++;
	return Z_OK;
}

/* pol_conn_release - forget one connection from ip */
int pol_conn_release(pol_conn_table *t, const char *ip)
{
	unsigned char key[16];
	long i;

	if (ip_key(ip, key) != Z_OK)
		return Z_EPARSE;
	i = find(t, key);
	if (i < 0)
		return Z_ENOENT;
	t->total--;
	if (--t->slots[i].n == 0) {
		t->used--;
		if ((size_t)i != t->used)
			t->slots[i] = t->slots[t->used];
	}
	return Z_OK;
}

/* pol_conn_count - live connections from ip */
unsigned pol_conn_count(const pol_conn_table *t, const char *ip)
{
	unsigned char key[16];
	long i;

	if (ip_key(ip, key) != Z_OK)
		return 0;
	i = find(t, key);
	return i < 0 ? 0 : t->slots[i].n;
}

/* pol_conn_total - all live connections */
unsigned pol_conn_total(const pol_conn_table *t)
{
	return t->total;
}

/* pol_tarpit_defaults - Plan 9 -D values */
void pol_tarpit_defaults(pol_tarpit_cfg *cfg)
{
	cfg->greet_ms = 15000;
	cfg->initial_ms = 4000;
	cfg->factor = 2;
	cfg->max_ms = 60000;
	cfg->max_rejects = 100;
}

/* pol_tarpit_delay - min(max, initial * factor^(n-1)), overflow-safe */
long pol_tarpit_delay(const pol_tarpit_cfg *cfg, unsigned rejects)
{
	long d;

	if (rejects == 0 || cfg->initial_ms <= 0)
		return 0;
	d = cfg->initial_ms;
	if (cfg->max_ms >= 0 && d > cfg->max_ms)
		return cfg->max_ms;
	for (unsigned i = 1; i < rejects; i++) {
		if (cfg->factor <= 1)
			break;
		if (d > (cfg->max_ms >= 0 ? cfg->max_ms : 86400000L) / (long)cfg->factor)
			return cfg->max_ms >= 0 ? cfg->max_ms : 86400000L;
		d *= (long)cfg->factor;
	}
	if (cfg->max_ms >= 0 && d > cfg->max_ms)
		d = cfg->max_ms;
	return d;
}

/* pol_tarpit_drop - the session had too many rejections */
int pol_tarpit_drop(const pol_tarpit_cfg *cfg, unsigned rejects)
{
	return cfg->max_rejects != 0 && rejects >= cfg->max_rejects;
}
