/*
 * NAME
 *	mailq - show the scheduler's queue, start ETRN runs, kill messages
 * SUMMARY
 *	Client of the scheduler's MAILQ v2 socket (mq2proto.h, mailq(1)).
 * SYNOPSIS
 *	mailq [-46Qsv] [--json] [-h host [-c channel]] [-E host] [-K spoolid]
 *	      [-p socket|[host:]port] [-U user:password] [-T secs]
 *	      [-P postoffice] [-Z zmta.conf] [server]
 * DESCRIPTION
 *	Connects to $POSTOFFICE/.mailq.sock (or the -p address), reads the
 *	"version ..." greeting, answers the AUTH challenge when the server
 *	sends one (TCP only: HMAC-SHA-256 of the challenge line and the user
 *	name keyed with the password, mq2proto.h), sends one command, prints
 *	the reply, sends QUIT.  Listings are dot-stuffed and end with "."; they are printed
 *	line by line with the stuffing removed.  With --json the command
 *	gets the JSON modifier and the lines (one JSON object each) are
 *	printed unchanged.  A version 1 server (greeting "version zmailer
 *	1.0") just sends a dump and closes; it is printed as is.
 * DIAGNOSTICS
 *	Exit 0 on success; EX_UNAVAILABLE when the scheduler cannot be
 *	reached ("mailq: cannot connect to the scheduler at PATH: REASON (is
 *	it running?)"); EX_PROTOCOL for a malformed or over-long reply or a
 *	timeout; EX_NOPERM when authentication is refused; 1 when the server
 *	answers a command with -ERR / -MAILQ2 (the reason is printed on
 *	stderr, e.g. "permission denied" for ETRN or KILL by a user who is not
 *	an admin); EX_UNAVAILABLE also when the server refuses the connection
 *	("too many clients", back-off after failed AUTHs); EX_USAGE for bad
 *	options.
 * SECURITY
 *	The reply carries addresses and diagnostics from remote peers: every
 *	byte outside printable ASCII (except TAB) is printed as '?', so no
 *	terminal escape sequence reaches the user's terminal (with --json,
 *	bytes >= 128 pass through as UTF-8; control bytes are still '?').  Lines are
 *	bounded by MQ2_REPLY_LINE_MAX; every read has a timeout.  The
 *	password given with -U is visible in ps; prefer $MAILQ_AUTH.  The
 *	password is only used as the HMAC key; it is never sent.
 * BUGS
 *	One command per run.
 * SEE ALSO
 *	mailq(1), scheduler(8), mq2proto.h
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "mq2proto.h"
#include "zbuf.h"
#include "zconf.h"
#include "zutil.h"

static int verbose;
static int family = AF_UNSPEC; /* -4 / -6 for TCP */
static int allow8;     /* --json: UTF-8 passes through */
static int timeout_ms = 60000;

/* connection with a bounded input buffer */
typedef struct mqconn {
	int fd;
	zbuf in;
	int tcp;
} mqconn;

/* usage - print the synopsis and exit */
static _Noreturn void usage(void)
{
	fprintf(stderr,
		"usage: mailq [-46Qsv] [--json] [-h host [-c channel]] [-E host] [-K spoolid]\n"
		"             [-p socket|[host:]port] [-U user:password] [-T secs]\n"
		"             [-P postoffice] [-Z zmta.conf] [server]\n");
	exit(EX_USAGE);
}

/* die - message on stderr, exit code */
static _Noreturn void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static _Noreturn void die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("mailq: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* connect_unix - AF_UNIX stream socket to path; -1 with errno */
static int connect_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (zstrlcpy(sun.sun_path, path, sizeof sun.sun_path) != Z_OK) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* connect_tcp - "port", "host:port" or "[v6]:port"; -1 with why set */
static int connect_tcp(const char *spec, zbuf *why)
{
	char host[256] = "localhost", port[64];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, rc, e = 0;

	if (colon == NULL) {
		if (zstrlcpy(port, spec, sizeof port) != Z_OK)
			goto bad;
	} else {
		const char *h = spec;
		size_t hl = (size_t)(colon - spec);
		if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
			h++;
			hl -= 2;
		}
		if (hl == 0 || hl >= sizeof host || zstrlcpy(port, colon + 1, sizeof port) != Z_OK)
			goto bad;
		memcpy(host, h, hl);
		host[hl] = '\0';
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		zbuf_printf(why, "%s", gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		zbuf_printf(why, "%s", strerror(e ? e : ECONNREFUSED));
	return fd;
bad:
	zbuf_printf(why, "bad address '%s' (want /path, port or host:port)", spec);
	return -1;
}

/* mq_readline - next line without "\n" (and "\r") into line; Z_OK, Z_ENOENT
 * at EOF before any byte, Z_ETOOBIG, Z_EIO (timeout or error) */
static int mq_readline(mqconn *c, zbuf *line)
{
	for (;;) {
		char *nl = c->in.len ? memchr(c->in.data, '\n', c->in.len) : NULL;
		if (nl != NULL) {
			size_t n = (size_t)(nl - c->in.data);
			size_t keep = n;
			if (keep > 0 && c->in.data[keep - 1] == '\r')
				keep--;
			if (zbuf_set(line, c->in.data, keep) != Z_OK)
				return Z_ETOOBIG;
			zbuf_consume(&c->in, n + 1);
			if (verbose)
				fprintf(stderr, "<<< %s\n", zbuf_cstr(line));
			return Z_OK;
		}
		if (c->in.len >= MQ2_REPLY_LINE_MAX)
			return Z_ETOOBIG;
		struct pollfd p = { c->fd, POLLIN, 0 };
		int pr = poll(&p, 1, timeout_ms);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			errno = pr == 0 ? ETIMEDOUT : errno;
			return Z_EIO;
		}
		/* never read past the one-line bound: what is buffered is a
		 * partial line, and the rest of it plus the next lines may
		 * arrive in one read (an 8 KB read onto a 60 KB partial line
		 * used to overflow the buffer although the line was legal) */
		char buf[8192];
		size_t room = MQ2_REPLY_LINE_MAX - c->in.len;
		ssize_t k = read(c->fd, buf, room < sizeof buf ? room : sizeof buf);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return Z_EIO;
		if (k == 0) {
			if (c->in.len == 0)
				return Z_ENOENT;
			/* a last line without "\n" */
			if (zbuf_set(line, c->in.data, c->in.len) != Z_OK)
				return Z_ETOOBIG;
			zbuf_reset(&c->in);
			return Z_OK;
		}
		if (zbuf_append(&c->in, buf, (size_t)k) != Z_OK)
			return Z_ETOOBIG;
	}
}

/* mq_send - one command line */
static void mq_send(mqconn *c, const char *line)
{
	zbuf b = ZBUF_INIT(MQ2_LINE_MAX);

	if (zbuf_puts(&b, line) != Z_OK || zbuf_putc(&b, '\n') != Z_OK)
		die(EX_USAGE, "command too long (max %d bytes)", MQ2_LINE_MAX);
	if (verbose)
		fprintf(stderr, ">>> %s\n", line);
	if (zwrite_all(c->fd, b.data, b.len) != Z_OK)
		die(EX_UNAVAILABLE, "write to the scheduler failed: %s", strerror(errno));
	zbuf_free(&b);
}

/* print_clean - a line to f with control bytes as '?' */
static void print_clean(FILE *f, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		int ok = ch == '\t' || (ch >= 32 && ch < 127) || (allow8 && ch >= 128);
		putc(ok ? ch : '?', f);
	}
	putc('\n', f);
}

/* must_line - read a line or die with a protocol error */
static void must_line(mqconn *c, zbuf *line, const char *what)
{
	int rc = mq_readline(c, line);

	if (rc == Z_ENOENT)
		die(EX_PROTOCOL, "the scheduler closed the connection (waiting for %s)", what);
	if (rc == Z_ETOOBIG)
		die(EX_PROTOCOL, "over-long line from the scheduler (waiting for %s)", what);
	if (rc != Z_OK)
		die(EX_PROTOCOL, "reading %s from the scheduler: %s", what, strerror(errno));
}

/* do_auth - answer the challenge with user:password (HMAC-SHA-256,
 * mq2proto.h); the password never goes on the wire */
static void do_auth(mqconn *c, const char *challenge, const char *cred)
{
	char user[128], hex[MQ2_HEX_LEN + 1];
	const char *colon = strpbrk(cred, ":/,");
	zbuf cmd = ZBUF_INIT(MQ2_LINE_MAX), line = ZBUF_INIT(MQ2_REPLY_LINE_MAX);

	if (colon == NULL || (size_t)(colon - cred) >= sizeof user || colon == cred)
		die(EX_USAGE, "credentials must be user:password (or user/password)");
	memcpy(user, cred, (size_t)(colon - cred));
	user[colon - cred] = '\0';
	if (strpbrk(user, " \t\r\n") != NULL)
		die(EX_USAGE, "bad user name '%s' (one word expected)", user);
	if (mq2_auth_response(challenge, user, colon + 1, hex) != Z_OK)
		die(EX_SOFTWARE, "HMAC-SHA-256 is not available");
	if (zbuf_printf(&cmd, "%s %s %s", MQ2_CMD_AUTH, user, hex) != Z_OK)
		die(EX_USAGE, "user name too long");
	mq_send(c, zbuf_cstr(&cmd));
	OPENSSL_cleanse(hex, sizeof hex);
	must_line(c, &line, "the AUTH reply");
	if (strncmp(zbuf_cstr(&line), MQ2_OK, 3) != 0)
		die(EX_NOPERM, "authentication refused: %s", zbuf_cstr(&line));
	zbuf_free(&cmd);
	zbuf_free(&line);
}

/* run_command - send cmd, print the reply; returns the exit code */
static int run_command(mqconn *c, const char *cmd, int listing, int empty_note)
{
	zbuf line = ZBUF_INIT(MQ2_REPLY_LINE_MAX);
	size_t n = 0;

	mq_send(c, cmd);
	must_line(c, &line, "the reply");
	if (line.len == 0 || line.data[0] != '+') {
		fprintf(stderr, "mailq: the scheduler refused '%s': ", cmd);
		print_clean(stderr, line.data ? line.data : "", line.len);
		zbuf_free(&line);
		return 1;
	}
	if (!listing) {
		print_clean(stdout, line.data, line.len);
		zbuf_free(&line);
		return 0;
	}
	for (;;) {
		zcur cur;
		zspan text;

		must_line(c, &line, "the end of the listing");
		/* "." alone ends the listing; a leading "." is stuffing */
		zcur_init(&cur, zbuf_cstr(&line), line.len);
		if (zcur_skip_char(&cur, '.') && zcur_eof(&cur))
			break;
		zcur_take_rest(&cur, &text);
		print_clean(stdout, text.p, text.n);
		n++;
	}
	if (n == 0 && empty_note)
		puts("Mail queue is empty");
	zbuf_free(&line);
	return 0;
}

/* main - parse options, connect, run one command */
int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, '?' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sockspec = NULL, *postoffice = NULL, *zcfg = NULL, *host = NULL;
	const char *channel = "smtp", *etrn = NULL, *kill = NULL, *cred = NULL;
	int threads = 0, counters = 0, json = 0, opt, nmodes, rc, qlevel = 0, sflag = 0;
	const char *server = NULL;
	zbuf err = ZBUF_INIT(1024), path = ZBUF_INIT(4096), cmd = ZBUF_INIT(MQ2_LINE_MAX);
	zbuf line = ZBUF_INIT(MQ2_REPLY_LINE_MAX);
	mqconn c;

	while ((opt = getopt_long(argc, argv, "46Qsvh:c:E:K:p:U:T:P:Z:", longopts, NULL)) != -1) {
		switch (opt) {
		case '4': family = AF_INET; break;
		case '6': family = AF_INET6; break;
		case 'Q': qlevel++; break;
		case 's': sflag = 1; break;
		case 'v': verbose = 1; break;
		case 'h': host = optarg; break;
		case 'c': channel = optarg; break;
		case 'E': etrn = optarg; break;
		case 'K': kill = optarg; break;
		case 'p': sockspec = optarg; break;
		case 'U': cred = optarg; break;
		case 'P': postoffice = optarg; break;
		case 'Z': zcfg = optarg; break;
		case 'j': json = allow8 = 1; break;
		case 'T': {
			long t;
			if (zparse_long(optarg, 1, 3600, &t) != Z_OK)
				die(EX_USAGE, "bad -T value '%s' (1..3600 seconds)", optarg);
			timeout_ms = (int)t * 1000;
			break;
		}
		default:
			usage();
		}
	}
	if (optind + 1 == argc)
		server = argv[optind];   /* ZMailer: the scheduler's host, over TCP */
	else if (optind != argc)
		usage();
	/* ZMailer: -Q threads, -QQ the queue, -QQQ and more: counters */
	if (qlevel == 1)
		threads = 1;
	else if (qlevel >= 3 || sflag)
		counters = 1;
	nmodes = (qlevel > 0) + sflag + (host != NULL) + (etrn != NULL) + (kill != NULL);
	if (nmodes > 1)
		die(EX_USAGE, "choose one of -Q, -s, -h, -E, -K");
	/* arguments are single words on the wire */
	const char *words[] = { host, channel, etrn, kill };
	for (size_t i = 0; i < 4; i++)
		if (words[i] != NULL && (*words[i] == '\0' || strpbrk(words[i], " \t\r\n") != NULL))
			die(EX_USAGE, "bad argument '%s' (one word expected)", words[i]);

	if (zcfg != NULL && zconf_load(zcfg, &err) != Z_OK)
		die(EX_CONFIG, "%s", zbuf_cstr(&err));
	if (zcfg == NULL && zconf_load(NULL, &err) != Z_OK && err.len > 0)
		fprintf(stderr, "mailq: warning: %s\n", zbuf_cstr(&err));
	if (postoffice == NULL)
		postoffice = zconf_get_default("POSTOFFICE", ZMTA_LOCALSTATEDIR "/spool/postoffice");
	if (cred == NULL)
		cred = getenv("MAILQ_AUTH");

	signal(SIGPIPE, SIG_IGN);
	memset(&c, 0, sizeof c);
	zbuf_init(&c.in, MQ2_REPLY_LINE_MAX);
	zbuf_reset(&err);
	if (server != NULL) {
		/* "host" + -p port (default 174, the mailq service) */
		const char *port = sockspec != NULL && strchr(sockspec, '/') == NULL ? sockspec : "174";
		zbuf_printf(&path, strchr(server, ':') != NULL ? "[%s]:%s" : "%s:%s", server, port);
		c.tcp = 1;
		c.fd = connect_tcp(zbuf_cstr(&path), &err);
	} else if (sockspec != NULL && strchr(sockspec, '/') == NULL) {
		zbuf_puts(&path, sockspec);
		c.tcp = 1;
		c.fd = connect_tcp(sockspec, &err);
	} else {
		if (sockspec != NULL)
			zbuf_puts(&path, sockspec);
		else
			zbuf_printf(&path, "%s/%s", postoffice, MQ2_SOCK_NAME);
		c.fd = connect_unix(zbuf_cstr(&path));
		if (c.fd < 0)
			zbuf_puts(&err, strerror(errno));
	}
	if (c.fd < 0)
		die(EX_UNAVAILABLE, "cannot connect to the scheduler at %s: %s (is it running?)",
		    zbuf_cstr(&path), zbuf_cstr(&err));

	must_line(&c, &line, "the greeting");
	if (line.len > 0 && (line.data[0] == '-' || line.data[0] == '5')) {
		fprintf(stderr, "mailq: the scheduler refused the connection: ");
		print_clean(stderr, line.data, line.len);
		exit(EX_UNAVAILABLE);   /* like die(): main's buffers stay reachable */
	}
	if (strncmp(zbuf_cstr(&line), MQ2_GREETING_PREFIX, strlen(MQ2_GREETING_PREFIX)) != 0)
		die(EX_PROTOCOL, "unexpected greeting '%s'", zbuf_cstr(&line));
	if (strstr(zbuf_cstr(&line), " 1.") != NULL) {
		/* version 1: a dump follows, then the server closes */
		while ((rc = mq_readline(&c, &line)) == Z_OK)
			print_clean(stdout, line.data ? line.data : "", line.len);
		close(c.fd);
		return rc == Z_ENOENT ? 0 : EX_PROTOCOL;
	}
	if (c.tcp) {
		must_line(&c, &line, "the AUTH challenge");
		if (strncmp(zbuf_cstr(&line), "220 MAILQ-V2-CHALLENGE:", 23) == 0)
			die(EX_PROTOCOL, "the scheduler offers only the old MD5 challenge, "
			    "which this mailq no longer answers");
		if (strncmp(zbuf_cstr(&line), MQ2_CHALLENGE_PREFIX, strlen(MQ2_CHALLENGE_PREFIX)) != 0)
			die(EX_PROTOCOL, "expected an AUTH challenge, got '%s'", zbuf_cstr(&line));
		do_auth(&c, zbuf_cstr(&line), cred != NULL ? cred : "nobody:nobody");
	}

	const char *js = json ? MQ2_JSON_SUFFIX : "";
	int listing = 1, empty_note = 0;
	if (threads)
		zbuf_printf(&cmd, "%s%s", MQ2_CMD_QUEUE_THREADS, js);
	else if (counters)
		zbuf_printf(&cmd, "%s%s", MQ2_CMD_COUNTERS, js);
	else if (host != NULL)
		zbuf_printf(&cmd, "%s %s %s%s", MQ2_CMD_THREAD, channel, host, js);
	else if (etrn != NULL) {
		zbuf_printf(&cmd, "%s %s", MQ2_CMD_ETRN, etrn);
		listing = 0;
	} else if (kill != NULL) {
		zbuf_printf(&cmd, "%s %s", MQ2_CMD_KILL_MSG, kill);
		listing = 0;
	} else {
		zbuf_printf(&cmd, "%s%s", MQ2_CMD_QUEUE_SHORT, js);
		empty_note = !json;
	}
	rc = run_command(&c, zbuf_cstr(&cmd), listing, empty_note);
	/* best effort: the server may already have closed */
	if (zwrite_all(c.fd, MQ2_CMD_QUIT "\n", strlen(MQ2_CMD_QUIT) + 1) == Z_OK)
		(void)mq_readline(&c, &line); /* "+Bye bye" or EOF: either is fine */
	close(c.fd);
	fflush(stdout);
	zbuf_free(&c.in);
	zbuf_free(&err);
	zbuf_free(&path);
	zbuf_free(&cmd);
	zbuf_free(&line);
	return rc;
}
