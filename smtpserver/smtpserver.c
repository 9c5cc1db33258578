/*
 * NAME
 *	smtpserver - zmta's SMTP server daemon: libzmsmtpd with the spool,
 *	router and policy wiring
 * SUMMARY
 *	Listens (25, 587, 465 by default), drops privileges, validates
 *	recipients with librouter, writes accepted messages as submission
 *	files into router/.
 * SYNOPSIS
 *	smtpserver [-F] [-i] [-n] [-f smtpserver.conf] [-P postoffice]
 *		[-L logfile] [-l addr:port[/smtp|/submission|/smtps]]...
 * DESCRIPTION
 *	See smtpserver(8) and smtpserver.conf(5).  Each accepted message
 *	becomes a submission file (spool/submit.h) with the envelope words
 *	external, rcvdfrom, via, with, bodytype, from, envid, notaryret,
 *	todsn and to; the 250 to the final dot is sent only after
 *	submit_commit returned (file fsynced, renamed into router/,
 *	directory fsynced).  A recipient is resolved with librouter at RCPT
 *	time: an error quad (unknown user) gives 550 with its status; a
 *	domain that is not ours is accepted only from a trusted network or
 *	an authenticated client.  SIGHUP reloads smtpserver.conf and the
 *	router tables; SIGTERM closes the listeners, lets sessions finish
 *	for at most 30 seconds and exits.
 * DIAGNOSTICS
 *	sysexits(3) codes; -n prints "file:line: reason" and exits 78 on a
 *	bad configuration.  Log lines through zlog.
 * SECURITY
 *	The listeners are bound and the password file read first; then,
 *	when started as root, the process becomes ZMTA_USER for good
 *	(zpriv_drop) before any client byte is read.  Never an open relay:
 *	relaying needs trusted-networks or AUTH.
 * BUGS
 *	Greylisting, policy delegation and the PROXY protocol are not here
 *	yet (smtpserver/pol_*.c).
 * SEE ALSO
 *	smtpserver(8), smtpserver.conf(5), libzmsmtpd(3), router(8)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "zbuf.h"
#include "zconf.h"
#include "zerr.h"
#include "zlog.h"
#include "zpriv.h"
#include "zutil.h"
#include "xtext.h"
#include "route.h"
#include "submit.h"
#include "smtpserver.h"
#include "zmsmtpd.h"

#define MAX_NETS 64
#define MAX_LISTENERS 16

typedef struct net {
	int family;
	unsigned char addr[16];
	int bits;
} net;

typedef struct sconf {
	net nets[MAX_NETS];
	int nnets;
	struct { char addr[64]; int port; unsigned flags; } lis[MAX_LISTENERS];
	int nlis;
	char authfile[1024];
	char routerconf[1024];
} sconf;

static struct {
	zmsmtpd *d;
	sconf c;
	rt_config *rt;
	authfile *af;
	const char *confpath;
	const char *po;
	int cli_nlis;
	char cli_lis[MAX_LISTENERS][128];
} S;

static volatile sig_atomic_t got_hup, got_term;

static void on_hup(int sig) { (void)sig; got_hup = 1; }
static void on_term(int sig) { (void)sig; got_term = 1; }

/* net_parse - "10.0.0.0/8", "::1", "127.0.0.1" */
static int net_parse(const char *s, net *n)
{
	char a[128];
	const char *sl = strchr(s, '/');
	size_t al = sl ? (size_t)(sl - s) : strlen(s);
	unsigned long bits;

	if (al >= sizeof(a))
		return -1;
	memcpy(a, s, al);
	a[al] = '\0';
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, a, n->addr) == 1) {
		n->family = AF_INET;
		n->bits = 32;
	} else if (inet_pton(AF_INET6, a, n->addr) == 1) {
		n->family = AF_INET6;
		n->bits = 128;
	} else
		return -1;
	if (sl != NULL) {
		if (zparse_ulong(sl + 1, (unsigned long)n->bits, &bits) != Z_OK)
			return -1;
		n->bits = (int)bits;
	}
	return 0;
}

/* net_match - ip (text) inside one of the trusted networks */
static int net_match(const sconf *c, const char *ip)
{
	unsigned char a[16];
	int fam;

	if (ip == NULL || *ip == '\0')
		return 1;   /* -i: a local user on stdin */
	if (inet_pton(AF_INET, ip, a) == 1)
		fam = AF_INET;
	else if (inet_pton(AF_INET6, ip, a) == 1)
		fam = AF_INET6;
	else
		return 0;
	for (int i = 0; i < c->nnets; i++) {
		const net *n = &c->nets[i];
		int b = n->bits, k = 0;
		if (n->family != fam)
			continue;
		for (; b >= 8; b -= 8, k++)
			if (a[k] != n->addr[k])
				break;
		if (b >= 8)
			continue;
		if (b == 0 || ((a[k] ^ n->addr[k]) & (0xff00 >> b) & 0xff) == 0)
			return 1;
	}
	return 0;
}

/* lis_parse - "addr:port[/kind]" ("[v6]:port" too) */
static int lis_parse(sconf *c, const char *spec, const char *kind)
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
	if (kind == NULL || strcmp(kind, "smtp") == 0)
		flags = 0;
	else if (strcmp(kind, "submission") == 0)
		flags = ZMSMTPD_L_AUTH;
	else if (strcmp(kind, "smtps") == 0)
		flags = ZMSMTPD_L_TLS;
	else
		return -1;
	zstrlcpy(c->lis[c->nlis].addr, addr, sizeof(c->lis[c->nlis].addr));
	c->lis[c->nlis].port = (int)port;
	c->lis[c->nlis].flags = flags;
	c->nlis++;
	return 0;
}

/* conf_load - read smtpserver.conf into c and the engine d.  A missing
 * file means the defaults.  Z_OK or Z_EPARSE with "file:line: reason" */
static int conf_load(const char *path, sconf *c, zmsmtpd *d, zbuf *err)
{
	zbuf data = ZBUF_INIT(1024 * 1024);
	size_t off = 0;
	int lineno = 0, rc = Z_OK, nets_set = 0;
	struct stat st;

	memset(c, 0, sizeof(*c));
	if (path != NULL && stat(path, &st) == 0) {
		if (zread_file(path, 1024 * 1024, &data, err) != Z_OK) {
			rc = Z_EIO;
			goto done;
		}
	}
	while (off < data.len) {
		const char *p = data.data + off, *nl = memchr(p, '\n', data.len - off);
		size_t n = nl ? (size_t)(nl - p) : data.len - off;
		char line[2048], *key, *val, *e, ebuf[512];

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
			if (lis_parse(c, val, *kind ? kind : NULL) != 0) {
				zbuf_printf(err, "%s:%d: listen: expected address:port [smtp|submission|smtps]",
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
		} else if (strcmp(key, "router-conf") == 0) {
			zstrlcpy(c->routerconf, val, sizeof(c->routerconf));
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
		lis_parse(c, "*:25", "smtp");
		lis_parse(c, "*:587", "submission");
		if (zmsmtpd_cget(d, "tls-cert", v, sizeof(v)) == 0 && v[0] != '\0')
			lis_parse(c, "*:465", "smtps");
	}
done:
	zbuf_free(&data);
	return rc;
}

/* ---- callbacks ---- */

static void cb_log(void *arg, zmsmtpd_sess *s, const char *line)
{
	(void)arg;
	zlog_info(NULL, "[%s] %s", s ? zmsmtpd_client_ip(s) : "", line);
}

static void cb_rcpt(void *arg, zmsmtpd_sess *s, const char *addr, zmsmtpd_verdict *v)
{
	rt_result r = { NULL, 0, 0 };
	zbuf err = ZBUF_INIT(512);
	const char *at = strrchr(addr, '@');
	int local = at == NULL || rt_is_local_domain(S.rt, at + 1);

	(void)arg;
	if (!local) {
		if (net_match(&S.c, zmsmtpd_client_ip(s)) || zmsmtpd_auth_user(s) != NULL)
			goto done;   /* relaying for our own clients */
		v->action = ZMSMTPD_REJECT;
		v->code = 554;
		zstrlcpy(v->enh, "5.7.1", sizeof(v->enh));
		snprintf(v->text, sizeof(v->text), "<%.200s>: Relay access denied", addr);
		goto done;
	}
	if (rt_resolve(S.rt, addr, &r, &err) != Z_OK) {
		v->action = ZMSMTPD_REJECT;
		v->code = 550;
		zstrlcpy(v->enh, "5.1.3", sizeof(v->enh));
		snprintf(v->text, sizeof(v->text), "<%.200s>: %.40s", addr, zbuf_cstr(&err));
		goto done;
	}
	for (size_t i = 0; i < r.n; i++) {
		if (strcmp(r.v[i].channel, "error") != 0)
			continue;
		v->action = r.v[i].status[0] == '4' ? ZMSMTPD_DEFER : ZMSMTPD_REJECT;
		v->code = r.v[i].status[0] == '4' ? 450 : 550;
		zstrlcpy(v->enh, r.v[i].status[0] ? r.v[i].status : "5.1.1", sizeof(v->enh));
		snprintf(v->text, sizeof(v->text), "<%.100s>: %.140s", addr,
			 r.v[i].reason[0] ? r.v[i].reason : "Recipient address rejected");
		break;
	}
done:
	rt_result_free(&r);
	zbuf_free(&err);
}

/* cb_deliver - the submission file; 250 only after submit_commit */
static void cb_deliver(void *arg, zmsmtpd_sess *s, const zmsmtpd_env *e, FILE *msg,
		       zmsmtpd_verdict *v)
{
	submit sb;
	zbuf err = ZBUF_INIT(1024), t = ZBUF_INIT(4096);
	char buf[65536];
	size_t n;
	unsigned long ino = 0;
	int rc;

	(void)arg;
	(void)s;
	if (submit_open(&sb, S.po, &err) != Z_OK) {
		zlog_error(NULL, "cannot queue a message: %s", zbuf_cstr(&err));
		goto tempfail;
	}
	zbuf_printf(&t, "%s (%s [%s]%s%s%s%s)", e->helo, e->helo,
		    e->client_ip[0] ? e->client_ip : "local", e->tls ? " " : "", e->tls ? e->tls : "",
		    e->auth_user ? " auth=" : "", e->auth_user ? e->auth_user : "");
	rc = e->client_ip[0] ? submit_env(&sb, "external", NULL) : Z_OK;
	if (rc == Z_OK)
		rc = submit_env(&sb, "rcvdfrom", zbuf_cstr(&t));
	if (rc == Z_OK)
		rc = submit_env(&sb, "via", "smtp");
	if (rc == Z_OK)
		rc = submit_env(&sb, "with", e->with);
	if (rc == Z_OK && e->body != NULL)
		rc = submit_env(&sb, "bodytype", e->body);
	zbuf_reset(&t);
	if (e->sender[0] == '\0')
		rc = rc == Z_OK ? submit_env(&sb, "channel", "error") : rc;
	else {
		zbuf_printf(&t, "<%s>", e->sender);
		rc = rc == Z_OK ? submit_env(&sb, "from", zbuf_cstr(&t)) : rc;
	}
	if (rc == Z_OK && e->envid != NULL)
		rc = submit_env(&sb, "envid", e->envid);
	if (rc == Z_OK && e->ret != NULL)
		rc = submit_env(&sb, "notaryret", e->ret);
	for (size_t i = 0; rc == Z_OK && i < e->nrcpts; i++) {
		const zmsmtpd_rcpt *r = &e->rcpts[i];
		zbuf_reset(&t);
		if (r->notify != 0) {
			zbuf_puts(&t, "NOTIFY=");
			if (r->notify & ZMSMTPD_NOTIFY_NEVER)
				zbuf_puts(&t, "NEVER");
			else {
				const char *sep = "";
				if (r->notify & ZMSMTPD_NOTIFY_SUCCESS) { zbuf_printf(&t, "%sSUCCESS", sep); sep = ","; }
				if (r->notify & ZMSMTPD_NOTIFY_FAILURE) { zbuf_printf(&t, "%sFAILURE", sep); sep = ","; }
				if (r->notify & ZMSMTPD_NOTIFY_DELAY)
					zbuf_printf(&t, "%sDELAY", sep);
			}
			zbuf_putc(&t, ' ');
		}
		if (r->orcpt != NULL)
			zbuf_printf(&t, "ORCPT=%s", r->orcpt);
		else {
			zbuf_puts(&t, "ORCPT=rfc822;");
			xtext_encode(&t, zspan_from(r->addr));
		}
		rc = submit_env(&sb, "todsn", zbuf_cstr(&t));
		zbuf_reset(&t);
		zbuf_printf(&t, "<%s>", r->addr);
		if (rc == Z_OK)
			rc = submit_env(&sb, "to", zbuf_cstr(&t));
	}
	if (rc == Z_OK)
		rc = submit_env(&sb, "env-end", NULL);
	while (rc == Z_OK && (n = fread(buf, 1, sizeof(buf), msg)) > 0)
		rc = submit_write(&sb, buf, n);
	if (rc == Z_OK && ferror(msg))
		rc = Z_EIO;
	if (rc != Z_OK) {
		zlog_error(NULL, "cannot write the submission file: %s", strerror(errno));
		submit_abort(&sb);
		goto tempfail;
	}
	zbuf_reset(&err);
	if (submit_commit(&sb, NULL, 0, &ino, &err) != Z_OK) {
		zlog_error(NULL, "cannot queue a message: %s", zbuf_cstr(&err));
		goto tempfail;
	}
	zlog_info(NULL, "%lu: accepted from <%s> [%s] %zu recipient%s, %lu bytes, %s", ino,
		  e->sender, e->client_ip, e->nrcpts, e->nrcpts == 1 ? "" : "s", e->size, e->with);
	v->action = ZMSMTPD_ACCEPT;
	snprintf(v->text, sizeof(v->text), "Ok: queued as %lu", ino);
	goto done;
tempfail:
	v->action = ZMSMTPD_DEFER;
	v->code = 452;
	zstrlcpy(v->enh, "4.3.1", sizeof(v->enh));
	zstrlcpy(v->text, "Insufficient system storage", sizeof(v->text));
done:
	zbuf_free(&err);
	zbuf_free(&t);
}

static int cb_verify(void *arg, const char *user, const char *pw)
{
	(void)arg;
	return authfile_verify(S.af, user, pw);
}

/* load_all - configuration, router tables, password file into fresh
 * objects; installed only when all are good */
static int load_all(zmsmtpd **dp, sconf *c, rt_config **rtp, authfile **afp, zbuf *err)
{
	zmsmtpd_callbacks cb;
	zmsmtpd *d;
	char rcbuf[4200];
	const char *rc;
	char ebuf[256];

	memset(&cb, 0, sizeof(cb));
	cb.validate_recipient = cb_rcpt;
	cb.deliver = cb_deliver;
	cb.log = cb_log;
	d = zmsmtpd_new(&cb);
	if (d == NULL) {
		zbuf_puts(err, "out of memory");
		return Z_ENOMEM;
	}
	snprintf(rcbuf, sizeof(rcbuf), "%s/public", S.po);
	if (zmsmtpd_configure(d, "tmpdir", rcbuf, ebuf, sizeof(ebuf)) != 0)
		goto bad_ebuf;
	if (conf_load(S.confpath, c, d, err) != Z_OK)
		goto bad;
	rc = c->routerconf[0] ? c->routerconf : zconf_get("ROUTERCONF");
	if (rc == NULL || *rc == '\0') {
		snprintf(rcbuf, sizeof(rcbuf), "%s/router.conf",
			 zconf_get_default("MAILSHARE", ZMTA_SYSCONFDIR));
		rc = rcbuf;
	}
	if (rt_load(rc, rtp, err) != Z_OK)
		goto bad;
	*afp = NULL;
	if (c->authfile[0] != '\0') {
		if (authfile_load(c->authfile, afp, err) != Z_OK) {
			rt_free(*rtp);
			goto bad;
		}
		/* AUTH through the callback; the engine offers it */
		zmsmtpd_free(d);
		cb.auth_verify = cb_verify;
		d = zmsmtpd_new(&cb);
		if (d == NULL || zmsmtpd_configure(d, "tmpdir", rcbuf, ebuf, sizeof(ebuf)) != 0) {
			rt_free(*rtp);
			authfile_free(*afp);
			zbuf_puts(err, "out of memory");
			zmsmtpd_free(d);
			return Z_ENOMEM;
		}
		snprintf(rcbuf, sizeof(rcbuf), "%s/public", S.po);
		zmsmtpd_configure(d, "tmpdir", rcbuf, ebuf, sizeof(ebuf));
		if (conf_load(S.confpath, c, d, err) != Z_OK) {
			rt_free(*rtp);
			authfile_free(*afp);
			goto bad;
		}
	}
	for (int i = 0; i < S.cli_nlis; i++) {
		if (i == 0)
			c->nlis = 0;
		if (lis_parse(c, S.cli_lis[i], NULL) != 0) {
			zbuf_printf(err, "-l %s: expected address:port[/smtp|/submission|/smtps]",
				    S.cli_lis[i]);
			goto bad;
		}
	}
	*dp = d;
	return Z_OK;
bad_ebuf:
	zbuf_puts(err, ebuf);
bad:
	zmsmtpd_free(d);
	return Z_EPARSE;
}

/* take_pidlock - $POSTOFFICE/.pid.smtpserver, flock'ed while we run */
static int take_pidlock(void)
{
	char path[4200];
	char pid[32];
	int fd, n;

	if (snprintf(path, sizeof(path), "%s/.pid.smtpserver", S.po) >= (int)sizeof(path))
		zlog_fatal(EX_USAGE, NULL, "POSTOFFICE path too long");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
	if (fd < 0)
		zlog_fatal(EX_OSERR, NULL, "cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		zlog_fatal(EX_TEMPFAIL, NULL, "another smtpserver is running (lock %s)", path);
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		zlog_warn(NULL, "cannot write %s", path);
	return fd;
}

static void usage(void)
{
	fputs("usage: smtpserver [-F] [-i] [-n] [-f smtpserver.conf] [-P postoffice] [-L logfile]"
	      " [-l addr:port[/kind]]...\n", stderr);
	exit(EX_USAGE);
}

int main(int argc, char **argv)
{
	zbuf err = ZBUF_INIT(4096);
	char confbuf[4200];
	int opt, checkonly = 0, inetd = 0, lockfd = -1;
	const char *logpath = NULL;

	zlog_open("smtpserver", ZLOG_TO_STDERR);
	while ((opt = getopt(argc, argv, "Ff:iL:l:nP:")) != -1) {
		switch (opt) {
		case 'F': break;   /* always in the foreground */
		case 'f': S.confpath = optarg; break;
		case 'i': inetd = 1; break;
		case 'L': logpath = optarg; break;
		case 'l':
			if (S.cli_nlis >= MAX_LISTENERS ||
			    zstrlcpy(S.cli_lis[S.cli_nlis++], optarg, sizeof(S.cli_lis[0])) != Z_OK)
				usage();
			break;
		case 'n': checkonly = 1; break;
		case 'P': S.po = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (zconf_load(NULL, &err) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "%s", zbuf_cstr(&err));
	if (S.po == NULL)
		S.po = zconf_get_default("POSTOFFICE", ZMTA_LOCALSTATEDIR "/spool/postoffice");
	if (S.confpath == NULL) {
		snprintf(confbuf, sizeof(confbuf), "%s/smtpserver.conf",
			 zconf_get_default("MAILSHARE", ZMTA_SYSCONFDIR));
		S.confpath = confbuf;
	}
	if (logpath != NULL && !inetd && zlog_set_file(logpath) != Z_OK)
		zlog_fatal(EX_CANTCREAT, NULL, "cannot open log file %s", logpath);
	if (load_all(&S.d, &S.c, &S.rt, &S.af, &err) != Z_OK) {
		if (checkonly || inetd) {
			fprintf(stderr, "smtpserver: %s\n", zbuf_cstr(&err));
			zbuf_free(&err);
			return EX_CONFIG;
		}
		zlog_fatal(EX_CONFIG, NULL, "%s", zbuf_cstr(&err));
	}
	if (checkonly) {
		zmsmtpd_free(S.d);
		rt_free(S.rt);
		authfile_free(S.af);
		zbuf_free(&err);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (inetd) {
		/* sendmail -bs and inetd: one session, the caller's privileges */
		zmsmtpd_serve_fds(S.d, 0, 1, NULL);
		goto out;
	}
	for (int i = 0; i < S.c.nlis; i++) {
		char ebuf[512];
		if (zmsmtpd_start(S.d, S.c.lis[i].addr, S.c.lis[i].port, S.c.lis[i].flags, ebuf,
				  sizeof(ebuf)) != 0)
			zlog_fatal(EX_OSERR, NULL, "%s", ebuf);
		zlog_info(NULL, "listening on [%s]:%d%s", S.c.lis[i].addr, zmsmtpd_port(S.d),
			  S.c.lis[i].flags & ZMSMTPD_L_TLS ? " (TLS)" :
			  S.c.lis[i].flags & ZMSMTPD_L_AUTH ? " (submission)" : "");
	}
	if (getuid() == 0 || geteuid() == 0) {
		zbuf_reset(&err);
		if (zpriv_drop(zconf_get_default("ZMTA_USER", "zmta"), NULL, &err) != Z_OK)
			zlog_fatal(EX_NOPERM, NULL, "cannot drop privileges: %s", zbuf_cstr(&err));
	}
	lockfd = take_pidlock();
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_hup;
		sigaction(SIGHUP, &sa, NULL);
		sa.sa_handler = on_term;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	zlog_info(NULL, "started");
	{
		long long stop_at = 0;
		for (;;) {
			zmsmtpd_run_once(S.d, 1000);
			if (got_term && stop_at == 0) {
				got_term = 0;
				zlog_info(NULL, "SIGTERM: no new connections; %lu session(s) to finish",
					  zmsmtpd_sessions(S.d));
				zmsmtpd_stop(S.d, 1);
				stop_at = zmono_ms() + 30000;
			}
			if (stop_at != 0 && (zmsmtpd_sessions(S.d) == 0 || zmono_ms() > stop_at))
				break;
			if (got_hup) {
				sconf nc;
				rt_config *nrt = NULL;
				authfile *naf = NULL;
				zmsmtpd *nd = NULL;
				got_hup = 0;
				zbuf_reset(&err);
				/* the listeners stay; options, tables and passwords are new */
				if (load_all(&nd, &nc, &nrt, &naf, &err) != Z_OK) {
					zlog_error(NULL, "reload failed, keeping the old configuration: %s",
						   zbuf_cstr(&err));
				} else {
					char v[1100];
					static const char *const keep[] = { "hostname", "greeting",
						"max-line", "max-rcpts", "max-size", "max-errors",
						"max-commands", "max-connections", "max-per-ip", "timeout-command", "timeout-data",
						"auth-required", "auth-plaintext", "vrfy", "pipelining",
						"bare-lf", NULL };
					char eb[256];
					for (int i = 0; keep[i]; i++)
						if (zmsmtpd_cget(nd, keep[i], v, sizeof(v)) == 0)
							zmsmtpd_configure(S.d, keep[i], v, eb, sizeof(eb));
					zmsmtpd_free(nd);
					rt_free(S.rt);
					S.rt = nrt;
					authfile_free(S.af);
					S.af = naf;
					memcpy(S.c.nets, nc.nets, sizeof(nc.nets));
					S.c.nnets = nc.nnets;
					zlog_info(NULL, "reloaded %s and the router tables", S.confpath);
				}
			}
		}
	}
	zlog_info(NULL, "stopped");
out:
	zmsmtpd_free(S.d);
	rt_free(S.rt);
	authfile_free(S.af);
	zbuf_free(&err);
	if (lockfd >= 0)
		close(lockfd);
	return 0;
}
