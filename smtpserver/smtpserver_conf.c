/*
 * NAME
 *	smtpserver_conf - smtpserver.conf for the smtpserver daemon
 * SUMMARY
 *	Reads smtpserver.conf (and the command-line flags as more lines)
 *	into an sconf and the engine's options; listener specs; the
 *	trusted-networks test.
 * SYNOPSIS
 *	int sconf_load(const char *path, sconf *c, zmsmtpd *d,
 *		       const char *const cli[][2], int ncli, zbuf *err);
 *	int sconf_listen(sconf *c, const char *spec, const char *kind);
 *	int sconf_trusted(const sconf *c, const char *ip);
 * DESCRIPTION
 *	One "key value" per line, '#' comments.  Keys of the daemon
 *	(listen, trusted-networks, auth-*, greylist*, policy-*, router-conf,
 *	max-connections-per-ip) are kept in the sconf, the Plan 9 knobs go
 *	to pol_knobs_conf, everything else to zmsmtpd_configure.  The flags
 *	of smtpserver(8) come after the file's lines, so they win; errors
 *	in them are reported as "command line:N".  Defaults: trusted
 *	127.0.0.0/8 and ::1; listeners *:25, *:587 submission, and *:465
 *	smtps with a certificate.
 * DIAGNOSTICS
 *	Z_EPARSE with "file:line: reason" in err; Z_EIO when the file
 *	cannot be read.
 * SECURITY
 *	The file is the administrator's; every line is bounded (2 KB) and
 *	the file (1 MB).
 * BUGS
 *	None known.
 * SEE ALSO
 *	smtpserver.conf(5), smtpserver.c, pol_knobs.c, libzmsmtpd(3)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "smtpserver_conf.h"
#include "pol_passwd.h"
#include "zerr.h"
#include "zutil.h"

/* net_parse - "10.0.0.0/8", "::1", "127.0.0.1" */
static int net_parse(const char *s, net *n)
{
	return pol_net_parse(s, n);
}

/* sconf_trusted - ip (text) inside one of the trusted networks; "" is
 * -i, a local user on stdin */
int sconf_trusted(const sconf *c, const char *ip)
{
	return ip == NULL || *ip == '\0' || pol_net_match(c->nets, c->nnets, ip);
}

/* sconf_listen - "addr:port[/kind]" ("[v6]:port" too) */
int sconf_listen(sconf *c, const char *spec, const char *kind)
{
	char buf[128];
	char *colon, *addr = buf;
	unsigned long port;
	unsigned flags = 0;
	const char *slash = strchr(spec, '/');

	if (c->nlis >= MAX_LISTENERS || zstrlcpy(buf, spec, sizeof(buf)) != Z_OK)
		return -1;
	if (slash != NULL) {
		buf[slash - spec] = '\0';
		kind = slash + 1;
	}
	colon = strrchr(buf, ':');
	if (colon == NULL)
		return -1;
	*colon = '\0';
	if (zparse_ulong(colon + 1, 65535, &port) != Z_OK)
		return -1;
	if (*addr == '[') {
		addr++;
		if (addr[0] != '\0' && addr[strlen(addr) - 1] == ']')
			addr[strlen(addr) - 1] = '\0';
	}
	/* kind: words (blank or ',' separated) smtp|submission|smtps and
	 * proxy-protocol */
	while (kind != NULL && *kind != '\0') {
		size_t k = strcspn(kind, " \t,");
		if (k == 4 && strncmp(kind, "smtp", k) == 0)
			flags &= ~(ZMSMTPD_L_AUTH | ZMSMTPD_L_TLS);
		else if (k == 10 && strncmp(kind, "submission", k) == 0)
			flags = (flags & ~ZMSMTPD_L_TLS) | ZMSMTPD_L_AUTH;
		else if (k == 5 && strncmp(kind, "smtps", k) == 0)
			flags = (flags & ~ZMSMTPD_L_AUTH) | ZMSMTPD_L_TLS;
		else if (k == 14 && strncmp(kind, "proxy-protocol", k) == 0)
			flags |= ZMSMTPD_L_PROXY;
		else
			return -1;
		kind += k;
		kind += strspn(kind, " \t,");
	}
	zstrlcpy(c->lis[c->nlis].addr, addr, sizeof(c->lis[c->nlis].addr));
	c->lis[c->nlis].port = (int)port;
	c->lis[c->nlis].flags = flags;
	c->nlis++;
	return 0;
}

/* sconf_load - read smtpserver.conf into c and the engine d, then the
 * ncli command-line flags cli[] as (key, value) lines.  A missing
 * file means the defaults.  Z_OK or Z_EPARSE with "file:line: reason" */
int sconf_load(const char *path, sconf *c, zmsmtpd *d, const char *const cli[][2], int ncli,
	       zbuf *err)
{
	zbuf data = ZBUF_INIT(1024 * 1024), kerr = ZBUF_INIT(512);
	size_t off = 0, filelen;
	int lineno = 0, rc = Z_OK, nets_set = 0, kr, oncli = 0;
	struct stat st;

	memset(c, 0, sizeof(*c));
	pol_knobs_defaults(&c->k);
	pol_grey_defaults(&c->gcfg);
	c->grey_redis_timeout_ms = 2000;
	c->policy_timeout_ms = 10000;
	c->workers = 1;
	zstrlcpy(c->grey_redis_ep, "127.0.0.1:6379", sizeof(c->grey_redis_ep));
	zstrlcpy(c->grey_redis_prefix, "zmta:grey:", sizeof(c->grey_redis_prefix));
	if (path != NULL && stat(path, &st) == 0) {
		if (zread_file(path, 1024 * 1024, &data, err) != Z_OK) {
			rc = Z_EIO;
			goto done;
		}
	}
	/* the command-line flags: more lines after the file's */
	if (data.len > 0 && data.data[data.len - 1] != '\n')
		zbuf_putc(&data, '\n');
	filelen = data.len;
	for (int i = 0; i < ncli; i++)
		zbuf_printf(&data, "%s %s\n", cli[i][0], cli[i][1]);
	while (off < data.len) {
		const char *p = data.data + off, *nl = memchr(p, '\n', data.len - off);
		size_t n = nl ? (size_t)(nl - p) : data.len - off;
		char line[2048], *key, *val, *e, ebuf[512];

		if (!oncli && off >= filelen) {
			oncli = 1;   /* errors name the flag's place: "command line:N" */
			path = "command line";
			lineno = 0;
		}
		off += n + (nl != NULL);
		lineno++;
		if (n >= sizeof(line)) {
			zbuf_printf(err, "%s:%d: line too long", path, lineno);
			rc = Z_EPARSE;
			goto done;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		if ((e = strchr(line, '#')) != NULL)
			*e = '\0';
		key = line + strspn(line, " \t");
		e = key + strlen(key);
		while (e > key && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = '\0';
		if (*key == '\0')
			continue;
		val = key + strcspn(key, " \t");
		if (*val != '\0') {
			*val++ = '\0';
			val += strspn(val, " \t");
		}
		if (strcmp(key, "listen") == 0) {
			char *kind = val + strcspn(val, " \t");
			if (*kind != '\0') {
				*kind++ = '\0';
				kind += strspn(kind, " \t");
			}
			if (sconf_listen(c, val, *kind ? kind : NULL) != 0) {
				zbuf_printf(err, "%s:%d: listen: expected address:port [smtp|submission|smtps] [proxy-protocol]",
					    path, lineno);
				rc = Z_EPARSE;
				goto done;
			}
		} else if (strcmp(key, "trusted-networks") == 0) {
			char *tok = val, *sp;
			nets_set = 1;
			while (*tok != '\0') {
				sp = tok + strcspn(tok, " \t,");
				if (*sp != '\0')
					*sp++ = '\0';
				if (*tok != '\0') {
					if (c->nnets >= MAX_NETS || net_parse(tok, &c->nets[c->nnets]) != 0) {
						zbuf_printf(err, "%s:%d: bad network \"%s\"", path, lineno, tok);
						rc = Z_EPARSE;
						goto done;
					}
					c->nnets++;
				}
				tok = sp + strspn(sp, " \t,");
			}
		} else if (strcmp(key, "auth-file") == 0) {
			zstrlcpy(c->authfile, val, sizeof(c->authfile));
		} else if (strcmp(key, "auth-plain-secrets") == 0 || strcmp(key, "auth-legacy-hashes") == 0 ||
			   strcmp(key, "greylist") == 0) {
			int on = strcmp(val, "yes") == 0 || strcmp(val, "on") == 0;
			unsigned bit = key[5] == 'p' ? POL_PW_ALLOW_PLAIN : POL_PW_ALLOW_LEGACY;
			if (!on && strcmp(val, "no") != 0 && strcmp(val, "off") != 0) {
				zbuf_printf(err, "%s:%d: %s: expected yes or no", path, lineno, key);
				rc = Z_EPARSE;
				goto done;
			}
			if (key[0] == 'g')
				c->greylist = on;
			else
				c->pwflags = on ? (c->pwflags | bit) : (c->pwflags & ~bit);
		} else if (strcmp(key, "greylist-store") == 0) {
			if (strcmp(val, "lmdb") == 0)
				c->grey_redis = 0;
			else if (strncmp(val, "lmdb:", 5) == 0) {
				c->grey_redis = 0;
				zstrlcpy(c->grey_lmdb_dir, val + 5, sizeof(c->grey_lmdb_dir));
			} else if (strcmp(val, "redis") == 0)
				c->grey_redis = 1;
			else if (strncmp(val, "redis:", 6) == 0) {
				c->grey_redis = 1;
				zstrlcpy(c->grey_redis_ep, val + 6, sizeof(c->grey_redis_ep));
			} else {
				zbuf_printf(err, "%s:%d: greylist-store: expected lmdb[:dir] or redis[:endpoint]",
					    path, lineno);
				rc = Z_EPARSE;
				goto done;
			}
		} else if (strcmp(key, "greylist-lmdb-dir") == 0) {
			zstrlcpy(c->grey_lmdb_dir, val, sizeof(c->grey_lmdb_dir));
		} else if (strcmp(key, "greylist-redis") == 0) {
			zstrlcpy(c->grey_redis_ep, val, sizeof(c->grey_redis_ep));
		} else if (strcmp(key, "greylist-redis-prefix") == 0) {
			zstrlcpy(c->grey_redis_prefix, val, sizeof(c->grey_redis_prefix));
		} else if (strcmp(key, "greylist-lmdb-mapsize") == 0) {
			if (zparse_ulong(val, 1ul << 40, &c->grey_mapsize) != Z_OK || c->grey_mapsize < (1ul << 20)) {
				zbuf_printf(err, "%s:%d: greylist-lmdb-mapsize: bytes, at least 1048576", path, lineno);
				rc = Z_EPARSE;
				goto done;
			}
		} else if (strcmp(key, "greylist-delay") == 0 || strcmp(key, "greylist-retry-window") == 0 ||
			   strcmp(key, "greylist-max-age") == 0 || strcmp(key, "greylist-redis-timeout") == 0 ||
			   strcmp(key, "policy-timeout") == 0) {
			long sec;
			if (zinterval_parse(val, &sec) != Z_OK || sec < 0 || sec > 400L * 86400) {
				zbuf_printf(err, "%s:%d: %s: bad interval \"%s\"", path, lineno, key, val);
				rc = Z_EPARSE;
				goto done;
			}
			if (strcmp(key, "greylist-delay") == 0)
				c->gcfg.delay = sec;
			else if (strcmp(key, "greylist-retry-window") == 0)
				c->gcfg.retry_window = sec;
			else if (strcmp(key, "greylist-max-age") == 0)
				c->gcfg.allow_ttl = sec;
			else if (strcmp(key, "greylist-redis-timeout") == 0)
				c->grey_redis_timeout_ms = sec > 0 ? sec * 1000 : 1;
			else
				c->policy_timeout_ms = sec > 0 ? sec * 1000 : 1;
		} else if (strcmp(key, "greylist-ipv4-prefix") == 0 || strcmp(key, "greylist-ipv6-prefix") == 0) {
			unsigned long b;
			int v6 = key[12] == '6';   /* greylist-ipv6-prefix */
			if (zparse_ulong(val, v6 ? 128 : 32, &b) != Z_OK) {
				zbuf_printf(err, "%s:%d: %s: bad prefix length", path, lineno, key);
				rc = Z_EPARSE;
				goto done;
			}
			if (v6)
				c->gcfg.v6_prefix = (unsigned)b;
			else
				c->gcfg.v4_prefix = (unsigned)b;
		} else if (strcmp(key, "policy-service") == 0) {
			zstrlcpy(c->policy, strcmp(val, "none") == 0 ? "" : val, sizeof(c->policy));
		} else if (strcmp(key, "policy-service-eom") == 0) {
			zstrlcpy(c->policy_eom, strcmp(val, "none") == 0 ? "" : val, sizeof(c->policy_eom));
		} else if (strcmp(key, "max-connections-per-ip") == 0) {
			if (zmsmtpd_configure(d, "max-per-ip", val, ebuf, sizeof(ebuf)) != 0) {
				zbuf_printf(err, "%s:%d: %s", path, lineno, ebuf);
				rc = Z_EPARSE;
				goto done;
			}
		} else if (strcmp(key, "router-conf") == 0) {
			zstrlcpy(c->routerconf, val, sizeof(c->routerconf));
		} else if (strcmp(key, "workers") == 0) {
			char *end;
			long w;
			errno = 0;
			w = strtol(val, &end, 10);
			if (errno != 0 || end == val || *end != '\0' || w < 1 || w > SCONF_MAX_WORKERS) {
				zbuf_printf(err, "%s:%d: workers: expected a number from 1 to %d", path,
					    lineno, SCONF_MAX_WORKERS);
				rc = Z_EPARSE;
				goto done;
			}
			c->workers = (int)w;
		} else if ((kr = pol_knobs_conf(&c->k, key, val, &kerr)) != 0) {
			if (kr < 0) {
				zbuf_printf(err, "%s:%d: %s", path, lineno, zbuf_cstr(&kerr));
				rc = Z_EPARSE;
				goto done;
			}
		} else if (zmsmtpd_configure(d, key, val, ebuf, sizeof(ebuf)) != 0) {
			zbuf_printf(err, "%s:%d: %s", path, lineno, ebuf);
			rc = Z_EPARSE;
			goto done;
		}
	}
	if (!nets_set) {
		net_parse("127.0.0.0/8", &c->nets[c->nnets++]);
		net_parse("::1", &c->nets[c->nnets++]);
	}
	if (c->nlis == 0) {
		char v[8];
		sconf_listen(c, "*:25", "smtp");
		sconf_listen(c, "*:587", "submission");
		if (zmsmtpd_cget(d, "tls-cert", v, sizeof(v)) == 0 && v[0] != '\0')
			sconf_listen(c, "*:465", "smtps");
	}
done:
	zbuf_free(&data);
	zbuf_free(&kerr);
	return rc;
}
