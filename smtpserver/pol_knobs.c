/*
 * NAME
 *	pol_knobs - the Plan 9 smtpd knobs of smtpserver: drop by address,
 *	tag outside claims of our domains, sender domains that must
 *	resolve, hand-off to a program, quarantine, transcripts
 * SUMMARY
 *	The policy of -k, -f, -r, -m, -s and -d (smtpserver(8)) with their
 *	smtpserver.conf keys, and the network lists of the daemon.  The
 *	engine's own knobs (-c -D -g -h -a -p) are engine options.
 * SYNOPSIS
 *	int pol_net_parse(const char *s, pol_net *n);
 *	int pol_net_match(const pol_net *nets, int n, const char *ip);
 *	int pol_net_list(const char *list, pol_net *nets, int *n, int max, zbuf *err);
 *	void pol_knobs_defaults(pol_knobs *k);
 *	int pol_knobs_conf(pol_knobs *k, const char *key, const char *val, zbuf *err);
 *	int pol_knobs_drop(const pol_knobs *k, const char *ip);
 *	int pol_knobs_sender(const pol_knobs *k, const char *addr, zmsmtpd_verdict *v);
 *	int pol_knobs_tag(const pol_knobs *k, const char *sender, const char *ip, zbuf *hdr);
 *	void pol_knobs_program(const pol_knobs *k, zmsmtpd *d, const zmsmtpd_env *e,
 *			       zbuf *added, FILE *msg, zmsmtpd_verdict *v);
 *	const char *pol_knobs_flag(int opt, const char *arg, const char **val);
 *	void pol_knobs_quarantine(const pol_knobs *k, const zmsmtpd_env *e, FILE *msg,
 *				  const zmsmtpd_verdict *why);
 *	pol_trans *pol_trans_open(const pol_knobs *k, const char *ip, int port);
 *	void pol_trans_write(pol_trans *t, int out, const char *p, size_t n);
 *	void pol_trans_close(pol_trans *t);
 * DESCRIPTION
 *	Keys: drop-networks (-k, the list grows with each line or flag),
 *	tag-outside-local (-f), sender-must-resolve (-r), deliver-program
 *	(-m), deliver-program-timeout, quarantine-dir (-s), transcript-dir
 *	(-d).  -r asks the dns/ layer (c-ares, DNS_SERVERS) for the MX of
 *	the sender's domain, then its A/AAAA: NXDOMAIN or no address is
 *	550 5.1.8, a null MX 550 5.7.27, SERVFAIL or a timeout 451 4.1.8.
 *	-m runs "program sender rcpt..." (no shell; the null sender is the
 *	empty string) with the Received field, the added header fields
 *	(PREPEND, -f) and the message on stdin: exit 0 is 250, 75 EX_TEMPFAIL, 71, 73,
 *	74, a signal, a failed exec or the time bound is 451 4.3.0, any
 *	other status 554 5.3.0.  -s (messages refused at end of data: by
 *	the engine, the END-OF-MESSAGE policy service or the program) writes "X-Zmta-Quarantine:" (the
 *	refusal), "X-Zmta-Envelope-From:", one "X-Zmta-Envelope-To:" per
 *	recipient, then the message, into quarantine-dir/<time>.<pid>.<n>
 *	(written, fsynced, renamed, directory fsynced).  -d writes one
 *	file per connection, transcript-dir/<time>.<pid>.<n>.<ip>, lines
 *	"C: " (from the client) and "S: " (ours).
 * DIAGNOSTICS
 *	pol_knobs_conf: "key: reason" in err.  Failures of -m, -s and -d
 *	are logged (zlog) and never lose mail: -m defers, -s and -d only
 *	lose the copy.
 * SECURITY
 *	Everything here sees client bytes.  Header text built from an
 *	address keeps printable ASCII only (no header injection).  The
 *	program of -m gets addresses as single arguments without a shell;
 *	an address may begin with '-', the program must not read options
 *	after its own.  Transcripts mask AUTH responses (the initial
 *	response and every line after a 334), but hold message bodies:
 *	files are 0600, the folder should be too.
 * BUGS
 *	-r and -m block the event loop while they run (each bounded).
 *	On a proxy-protocol listener the transcript file is named after
 *	the balancer (it opens at the first byte, the PROXY header).
 * SEE ALSO
 *	smtpserver(8), smtpserver.conf(5), zmta-dns(3), pol_knobs.h
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "pol_knobs.h"
#include "zconf.h"
#include "zdns.h"
#include "zerr.h"
#include "zlog.h"
#include "zutil.h"

struct pol_trans {
	int fd;
	int bol[2];       /* at the beginning of a line, per direction */
	int mask_next;    /* the next client line answers a 334 */
	int masking;      /* dropping the rest of a client line */
};

static unsigned long seq;   /* file names of this process */

/* pol_net_parse - "10.0.0.0/8", "::1", "127.0.0.1" into n; 0 or -1 */
int pol_net_parse(const char *s, pol_net *n)
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

/* pol_net_match - ip (text) inside one of nets[0..n) */
int pol_net_match(const pol_net *nets, int n, const char *ip)
{
	unsigned char a[16];
	int fam;

	if (ip == NULL || *ip == '\0')
		return 0;
	if (inet_pton(AF_INET, ip, a) == 1)
		fam = AF_INET;
	else if (inet_pton(AF_INET6, ip, a) == 1)
		fam = AF_INET6;
	else
		return 0;
	for (int i = 0; i < n; i++) {
		const pol_net *m = &nets[i];
		int b = m->bits, k = 0;
		if (m->family != fam)
			continue;
		for (; b >= 8; b -= 8, k++)
			if (a[k] != m->addr[k])
				break;
		if (b >= 8)
			continue;
		if (b == 0 || ((a[k] ^ m->addr[k]) & (0xff00 >> b) & 0xff) == 0)
			return 1;
	}
	return 0;
}

/* pol_net_list - networks of list appended to nets */
int pol_net_list(const char *list, pol_net *nets, int *n, int max, zbuf *err)
{
	const char *p = list;

	while (*p != '\0') {
		char w[128];
		size_t l;

		p += strspn(p, " \t,");
		l = strcspn(p, " \t,");
		if (l == 0)
			break;
		if (l >= sizeof(w) || *n >= max) {
			zbuf_printf(err, "too many networks or a word too long near \"%.40s\"", p);
			return Z_EPARSE;
		}
		memcpy(w, p, l);
		w[l] = '\0';
		if (pol_net_parse(w, &nets[*n]) != 0) {
			zbuf_printf(err, "bad network \"%s\"", w);
			return Z_EPARSE;
		}
		(*n)++;
		p += l;
	}
	return Z_OK;
}

/* pol_knobs_defaults - everything off */
void pol_knobs_defaults(pol_knobs *k)
{
	memset(k, 0, sizeof(*k));
	k->dns_servers = zconf_get("DNS_SERVERS");
	if (k->dns_servers == NULL)
		k->dns_servers = getenv("DNS_SERVERS");
	k->program_timeout_ms = 300000;
	k->dns_timeout_ms = 3000;
}

/* yesno - "yes"/"on" 1, "no"/"off" 0, else -1 */
static int yesno(const char *v)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "on") == 0)
		return 1;
	if (strcmp(v, "no") == 0 || strcmp(v, "off") == 0)
		return 0;
	return -1;
}

/* dir_ok - an absolute directory path that fits */
static int dir_key(char *dst, size_t sz, const char *key, const char *val, zbuf *err)
{
	if (strcmp(val, "none") == 0 || *val == '\0') {
		dst[0] = '\0';
		return 1;
	}
	if (val[0] != '/' || zstrlcpy(dst, val, sz) != Z_OK) {
		zbuf_printf(err, "%s: expected an absolute path", key);
		return -1;
	}
	return 1;
}

/* pol_knobs_conf - one key of smtpserver.conf */
int pol_knobs_conf(pol_knobs *k, const char *key, const char *val, zbuf *err)
{
	int b;

	if (strcmp(key, "drop-networks") == 0) {
		if (pol_net_list(val, k->drop, &k->ndrop, POL_NETS_MAX, err) != Z_OK)
			return -1;
		return 1;
	}
	if (strcmp(key, "tag-outside-local") == 0 || strcmp(key, "sender-must-resolve") == 0) {
		if ((b = yesno(val)) < 0) {
			zbuf_printf(err, "%s: expected yes or no", key);
			return -1;
		}
		if (key[0] == 't')
			k->tag_outside_local = b;
		else
			k->sender_resolve = b;
		return 1;
	}
	if (strcmp(key, "deliver-program") == 0)
		return dir_key(k->program, sizeof(k->program), key, val, err);
	if (strcmp(key, "quarantine-dir") == 0)
		return dir_key(k->quarantine, sizeof(k->quarantine), key, val, err);
	if (strcmp(key, "transcript-dir") == 0)
		return dir_key(k->transcripts, sizeof(k->transcripts), key, val, err);
	if (strcmp(key, "deliver-program-timeout") == 0) {
		long sec;
		if (zinterval_parse(val, &sec) != Z_OK || sec < 1 || sec > 86400) {
			zbuf_printf(err, "%s: bad interval \"%s\" (1s..1d)", key, val);
			return -1;
		}
		k->program_timeout_ms = sec * 1000;
		return 1;
	}
	return 0;
}

/* pol_knobs_drop - -k */
int pol_knobs_drop(const pol_knobs *k, const char *ip)
{
	return k->ndrop > 0 && pol_net_match(k->drop, k->ndrop, ip);
}

/* refuse - v becomes a reject or defer */
static int refuse(zmsmtpd_verdict *v, int code, const char *enh, const char *fmt, const char *a,
		  const char *b)
{
	char t[800];
	size_t l;

	v->action = code >= 500 ? ZMSMTPD_REJECT : ZMSMTPD_DEFER;
	v->code = code;
	zstrlcpy(v->enh, enh, sizeof(v->enh));
	snprintf(t, sizeof(t), fmt, a, b);
	l = strlen(t);
	if (l >= sizeof(v->text))
		l = sizeof(v->text) - 1;   /* cut, never overflow */
	memcpy(v->text, t, l);
	v->text[l] = '\0';
	return 1;
}

/* pol_knobs_sender - -r */
int pol_knobs_sender(const pol_knobs *k, const char *addr, zmsmtpd_verdict *v)
{
	const char *at = strrchr(addr, '@');
	const char *dom = at != NULL ? at + 1 : "";
	zdns_opts o;
	zdns *d = NULL;
	zdns_mxset *mx = NULL;
	zdns_addrset *as = NULL;
	zbuf err = ZBUF_INIT(512);
	int st, rc = 0;

	if (!k->sender_resolve || *dom == '\0' || *dom == '[')
		return 0;   /* the null path, a local name, an address literal */
	memset(&o, 0, sizeof(o));
	o.servers = k->dns_servers;
	o.timeout_ms = (int)k->dns_timeout_ms;
	o.tries = 2;
	mx = calloc(1, sizeof(*mx));
	as = calloc(1, sizeof(*as));
	if (mx == NULL || as == NULL || zdns_init(&d, &o, &err) != Z_OK) {
		zlog_error(NULL, "sender-must-resolve: %s", mx && as ? zbuf_cstr(&err) : "out of memory");
		rc = refuse(v, 451, "4.3.0", "<%.200s>: Temporary failure, try again later%s", addr, "");
		goto done;
	}
	st = zdns_mx(d, dom, mx);
	if (st == ZDNS_OK && mx->nullmx && mx->n == 0) {
		rc = refuse(v, 550, "5.7.27", "<%.200s>: Sender address rejected: %.100s does not accept mail",
			    addr, dom);
		goto done;
	}
	if (st == ZDNS_NODATA)
		st = zdns_addrs(d, mx->canon[0] ? mx->canon : dom, as);
	if (st == ZDNS_OK)
		goto done;
	if (st == ZDNS_NXDOMAIN || st == ZDNS_NODATA)
		rc = refuse(v, 550, "5.1.8", "<%.200s>: Sender address rejected: Domain %.100s not found",
			    addr, dom);
	else
		rc = refuse(v, 451, "4.1.8", "<%.200s>: Sender address rejected: cannot look up %.100s",
			    addr, dom);
	zlog_info(NULL, "sender <%s>: domain %s: %s", addr, dom, zdns_status_text(st));
done:
	zdns_free(d);
	free(mx);
	free(as);
	zbuf_free(&err);
	return rc;
}

/* put_clean - s with printable ASCII only, at most max bytes */
static void put_clean(zbuf *b, const char *s, size_t max)
{
	for (size_t i = 0; s[i] != '\0' && i < max; i++)
		zbuf_putc(b, s[i] >= ' ' && s[i] < 127 ? s[i] : '?');
}

/* pol_knobs_tag - -f */
int pol_knobs_tag(const pol_knobs *k, const char *sender, const char *ip, zbuf *hdr)
{
	if (!k->tag_outside_local)
		return Z_OK;
	zbuf_puts(hdr, "X-Zmta-Warning: sender <");
	put_clean(hdr, sender, 300);
	zbuf_puts(hdr, "> claims a local domain but came from outside [");
	put_clean(hdr, ip, 64);
	return zbuf_puts(hdr, "]\n");
}

/* temp_exit - an exit status that means "try again later" */
static int temp_exit(int st)
{
	return st == EX_TEMPFAIL || st == EX_OSERR || st == EX_CANTCREAT || st == EX_IOERR;
}

/* feed - write p[0..n) to fd before deadline; 0, or -1 (EPIPE, time) */
static int feed(int fd, const char *p, size_t n, long long deadline)
{
	while (n > 0) {
		struct pollfd pf = { fd, POLLOUT, 0 };
		long long left = deadline - zmono_ms();
		ssize_t w;

		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			return -1;
		w = write(fd, p, n);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* pol_knobs_program - -m */
void pol_knobs_program(const pol_knobs *k, zmsmtpd *d, const zmsmtpd_env *e, zbuf *added,
		       FILE *msg, zmsmtpd_verdict *v)
{
	zbuf hb = ZBUF_INIT(64 * 1024 + 4096);
	char rcvd[2048], id[48];
	const char *head;
	size_t hlen;
	char **argv = calloc(e->nrcpts + 3, sizeof(char *));
	int pfd[2] = { -1, -1 }, status = 0, fed = 0;
	long long deadline = zmono_ms() + k->program_timeout_ms;
	pid_t pid = -1, w;
	char buf[16384];
	size_t n;

	/* on stdin: Received, the added header fields, the message */
	snprintf(id, sizeof(id), "P%ld.%lu", (long)getpid(), ++seq);
	if (zmsmtpd_received(d, e, id, rcvd, sizeof(rcvd)) == 0)
		zbuf_printf(&hb, "%s\n", rcvd);
	if (added != NULL && added->len > 0) {
		zbuf_append(&hb, added->data, added->len);
		zbuf_reset(added);
	}
	head = hb.data != NULL ? hb.data : "";
	hlen = hb.len;
	if (argv == NULL || pipe2(pfd, O_CLOEXEC) != 0) {
		zlog_error(NULL, "deliver-program: %s", strerror(errno));
		goto temp;
	}
	argv[0] = (char *)k->program;
	argv[1] = (char *)e->sender;
	for (size_t i = 0; i < e->nrcpts; i++)
		argv[2 + i] = (char *)e->rcpts[i].addr;
	pid = fork();
	if (pid < 0) {
		zlog_error(NULL, "deliver-program: fork: %s", strerror(errno));
		goto temp;
	}
	if (pid == 0) {
		struct sigaction sa;
		int nul = open("/dev/null", O_WRONLY);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(SIGPIPE, &sa, NULL);
		if (dup2(pfd[0], 0) < 0 || nul < 0 || dup2(nul, 1) < 0)
			_exit(EX_OSERR);
		execv(argv[0], argv);
		_exit(EX_OSERR);
	}
	close(pfd[0]);
	pfd[0] = -1;
	(void)fcntl(pfd[1], F_SETFL, O_NONBLOCK);
	rewind(msg);
	fed = feed(pfd[1], head, hlen, deadline) == 0;
	while (fed && (n = fread(buf, 1, sizeof(buf), msg)) > 0)
		fed = feed(pfd[1], buf, n, deadline) == 0;
	close(pfd[1]);
	pfd[1] = -1;
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && zmono_ms() < deadline)
		(void)poll(NULL, 0, 20);
	if (w == 0) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		zlog_error(NULL, "deliver-program %s: no exit after %lds, killed", k->program,
			   k->program_timeout_ms / 1000);
		goto temp;
	}
	if (w < 0 || !WIFEXITED(status)) {
		zlog_error(NULL, "deliver-program %s: %s", k->program,
			   w < 0 ? strerror(errno) : "killed by a signal");
		goto temp;
	}
	if (WEXITSTATUS(status) == 0 && fed) {
		zlog_info(NULL, "accepted from <%s> [%s] %zu recipient%s, %lu bytes, %s: handed to %s",
			  e->sender, e->client_ip, e->nrcpts, e->nrcpts == 1 ? "" : "s", e->size, e->with,
			  k->program);
		v->action = ZMSMTPD_ACCEPT;
		zstrlcpy(v->text, "Ok: delivered", sizeof(v->text));
		goto done;
	}
	zlog_info(NULL, "deliver-program %s: exit %d%s for a message from <%s> [%s]", k->program,
		  WEXITSTATUS(status), fed ? "" : " (it did not read the whole message)", e->sender,
		  e->client_ip);
	if (WEXITSTATUS(status) == 0 || temp_exit(WEXITSTATUS(status)))
		goto temp;
	v->action = ZMSMTPD_REJECT;
	v->code = 554;
	zstrlcpy(v->enh, "5.3.0", sizeof(v->enh));
	snprintf(v->text, sizeof(v->text), "Delivery program refused the message (exit %d)",
		 WEXITSTATUS(status));
	pol_knobs_quarantine(k, e, msg, v);   /* -s */
	goto done;
temp:
	v->action = ZMSMTPD_DEFER;
	v->code = 451;
	zstrlcpy(v->enh, "4.3.0", sizeof(v->enh));
	zstrlcpy(v->text, "Temporary failure of the delivery program, try again later", sizeof(v->text));
done:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	free(argv);
	zbuf_free(&hb);
}

/* pol_knobs_flag - the smtpserver.conf key of Plan 9 flag opt, its value
 * (arg, or "yes" for a flag without one) in *val; NULL if not a knob */
const char *pol_knobs_flag(int opt, const char *arg, const char **val)
{
	static const struct { int opt; const char *key; int arg; } t[] = {
		{ 'a', "auth-required", 0 }, { 'c', "tls-cert", 1 }, { 'D', "tarpit", 0 },
		{ 'd', "transcript-dir", 1 }, { 'f', "tag-outside-local", 0 }, { 'g', "greylist", 0 },
		{ 'h', "hostname", 1 }, { 'k', "drop-networks", 1 }, { 'm', "deliver-program", 1 },
		{ 'p', "auth-plaintext", 0 }, { 'r', "sender-must-resolve", 0 },
		{ 's', "quarantine-dir", 1 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].opt == opt) {
			*val = t[i].arg ? arg : "yes";
			return t[i].key;
		}
	return NULL;
}

/* pol_knobs_quarantine - -s */
void pol_knobs_quarantine(const pol_knobs *k, const zmsmtpd_env *e, FILE *msg,
			  const zmsmtpd_verdict *why)
{
	char tmp[1200], dst[1200], buf[16384];
	zbuf h = ZBUF_INIT(64 * 1024);
	int fd = -1, ok = 0;
	size_t n;
	unsigned long id = ++seq;

	if (k->quarantine[0] == '\0' || msg == NULL)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s/.tmp.%ld.%ld.%lu", k->quarantine, (long)time(NULL),
		     (long)getpid(), id) >= (int)sizeof(tmp) ||
	    snprintf(dst, sizeof(dst), "%s/%ld.%ld.%lu", k->quarantine, (long)time(NULL),
		     (long)getpid(), id) >= (int)sizeof(dst))
		goto done;
	zbuf_printf(&h, "X-Zmta-Quarantine: %d %s ", why->code, why->enh);
	put_clean(&h, why->text, 300);
	zbuf_puts(&h, "\nX-Zmta-Envelope-From: <");
	put_clean(&h, e->sender, 600);
	zbuf_printf(&h, "> [%s]\n", e->client_ip[0] ? e->client_ip : "local");
	for (size_t i = 0; i < e->nrcpts; i++) {
		zbuf_puts(&h, "X-Zmta-Envelope-To: <");
		put_clean(&h, e->rcpts[i].addr, 600);
		zbuf_puts(&h, ">\n");
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || zwrite_all(fd, h.data, h.len) != Z_OK)
		goto done;
	rewind(msg);
	while ((n = fread(buf, 1, sizeof(buf), msg)) > 0)
		if (zwrite_all(fd, buf, n) != Z_OK)
			goto done;
	if (ferror(msg) || fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto done;
	}
	fd = -1;
	ok = zrename_durable(tmp, dst) == Z_OK;
	if (ok)
		zlog_info(NULL, "quarantined a message from <%s> [%s] (%d %s): %s", e->sender,
			  e->client_ip, why->code, why->enh, dst);
done:
	if (fd >= 0)
		close(fd);
	if (!ok) {
		zlog_error(NULL, "quarantine-dir %s: cannot keep a copy: %s", k->quarantine,
			   strerror(errno));
		(void)unlink(tmp);
	}
	zbuf_free(&h);
}

/* pol_trans_open - -d */
pol_trans *pol_trans_open(const pol_knobs *k, const char *ip, int port)
{
	char path[1200], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	pol_trans *t;
	int fd;

	if (k->transcripts[0] == '\0')
		return NULL;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (snprintf(path, sizeof(path), "%s/%s.%ld.%lu.%s", k->transcripts, stamp, (long)getpid(),
		     ++seq, ip != NULL && *ip ? ip : "local") >= (int)sizeof(path))
		return NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_APPEND, 0600);
	if (fd < 0) {
		zlog_error(NULL, "transcript-dir: %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		close(fd);
		return NULL;
	}
	t->fd = fd;
	t->bol[0] = t->bol[1] = 1;
	{
		char l[200];
		int m = snprintf(l, sizeof(l), "# connection from [%s] to port %d\n",
				 ip != NULL && *ip ? ip : "local", port);
		if (m > 0 && (size_t)m < sizeof(l))
			(void)zwrite_all(fd, l, (size_t)m);
	}
	return t;
}

/* pol_trans_write - line by line, "C: " or "S: " in front */
void pol_trans_write(pol_trans *t, int out, const char *p, size_t n)
{
	zbuf b = ZBUF_INIT(4 * n + 64);

	if (t == NULL)
		return;
	out = out != 0;
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t l = nl ? (size_t)(nl - p) + 1 : n;

		if (t->bol[out]) {
			zbuf_puts(&b, out ? "S: " : "C: ");
			if (out && l >= 3 && memcmp(p, "334", 3) == 0)
				t->mask_next = 1;
			else if (!out && t->mask_next) {
				t->mask_next = 0;
				t->masking = 1;
				zbuf_puts(&b, "[AUTH data masked]\n");
			} else if (!out && l > 5 && strncasecmp(p, "AUTH ", 5) == 0) {
				/* keep the mechanism name, mask an initial response */
				size_t m = 5 + strcspn(p + 5, " \r\n");
				m = m < l ? m : l;
				zbuf_append(&b, p, m);
				zbuf_puts(&b, p[m] == ' ' ? " [masked]\n" : "\n");
				t->masking = 1;
			}
		}
		if (!(!out && t->masking))
			zbuf_append(&b, p, l);
		t->bol[out] = nl != NULL;
		if (!out && nl != NULL)
			t->masking = 0;
		p += l;
		n -= l;
	}
	if (b.len > 0)
		(void)zwrite_all(t->fd, b.data, b.len);
	zbuf_free(&b);
}

/* pol_trans_close - close and free */
void pol_trans_close(pol_trans *t)
{
	if (t == NULL)
		return;
	close(t->fd);
	free(t);
}
