/*
 * NAME
 *	mkjob - make queued messages the way the router would (test tool)
 * SUMMARY
 *	Writes queue/<prefix><ino> (a submission-format file) and
 *	transport/<prefix><ino> (a control file) for one or more messages,
 *	and prints each job's relative path, one per line.
 * SYNOPSIS
 *	mkjob -P postoffice [-H hashlevels] [-f sender] [-c channel]
 *	      [-N notify] [-O orcpt] [-R FULL|HDRS] [-n envid]
 *	      [-b bodyfile | -z bodybytes] [-8] [-h 'Header: value']...
 *	      [-x rcpthost] [-u privilege] [-m count] [-q] rcpt@host...
 * DESCRIPTION
 *	For each message: the submission file (envelope lines, "env-end",
 *	headers, empty line, body) is created O_EXCL in public/ and renamed
 *	into queue/<prefix><ino>, where ino is its inode number.  Then the
 *	control file is built with the libspool writer (ctlw_*) and committed
 *	with ctl_commit() into transport/<prefix><ino>:
 *	  @ features, i <ino>, o <body offset in the queue file>,
 *	  l <Message-Id>, e <sender> (not for the null sender),
 *	  s smtp <sender-domain> <sender> 0   (s error - - 0 for -f ''),
 *	  per recipient: r <channel> <rcpt-domain> <rcpt> 0, then N (when -N
 *	  or -O: NOTIFY=... ORCPT=...; ORCPT defaults to rfc822;<rcpt>),
 *	  R (-R) and n (-n), then the m block with the headers.
 *	-f sender (default mkjob@src.test; '' = null sender), -c channel of
 *	the recipients (default smtp), -b a body file (sent as is), -z N a
 *	generated body of exactly N bytes (lines of text; with -8 UTF-8
 *	text), -8 adds MIME headers for 8-bit UTF-8 text, -h adds a header,
 *	-x host puts that host in every recipient quad instead of the
 *	recipient's domain and -u N the privilege N instead of 0 (local
 *	quads the way the router writes them: "-c local -x alice -u 1001
 *	alice", or a "|program args" recipient, which may then contain
 *	blanks), -m N makes N messages, -H 0|1|2 hash levels (the spool is initialised
 *	with spool_init first), -q skips fsync (ctl_commit is replaced by a
 *	plain write + rename: for benchmarks that make 100k jobs).
 *	-X is another name for -x (channel error: a form name; channel hold:
 *	a condition such as NS:example.org).
 * DIAGNOSTICS
 *	Exit 0, or 64 (usage) / 73 (cannot create) / 74 (I/O) with a message
 *	on stderr.
 * SECURITY
 *	A test tool: trusts its arguments, but refuses newlines in any value
 *	that ends up in a file.
 * BUGS
 *	Recipient addresses are not xtext-encoded in ORCPT.
 * SEE ALSO
 *	zmta-spool(5), ctlfile.h, tests/integration/testlib.sh
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ctlfile.h"
#include "spool.h"
#include "submit.h"
#include "zbuf.h"
#include "zutil.h"

#define MAXHDRS 64

struct opts {
	const char *po;
	int hash;
	const char *sender;
	const char *channel;
	const char *rcpthost;
	long privilege;
	const char *notify, *orcpt, *ret, *envid;
	const char *bodyfile;
	long bodybytes;
	int eight;
	const char *hdrs[MAXHDRS];
	int nhdrs;
	unsigned long count;
	int quick;
	char **rcpts;
	int nrcpts;
};

/* usage - print the synopsis and exit */
static _Noreturn void usage(const char *why)
{
	if (why)
		fprintf(stderr, "mkjob: %s\n", why);
	fputs("usage: mkjob -P postoffice [-H hashlevels] [-f sender] [-c channel] [-N notify]\n"
	      "             [-O orcpt] [-R FULL|HDRS] [-n envid] [-b bodyfile | -z bodybytes] [-8]\n"
	      "             [-h 'Header: value']... [-x rcpthost] [-u privilege] [-m count] [-q]\n"
	      "             rcpt@host...\n", stderr);
	exit(EX_USAGE);
}

/* die - message and exit code */
static _Noreturn void die(int code, const char *what, const char *detail)
{
	fprintf(stderr, "mkjob: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(code);
}

/* domain_of - the part after the last '@', or "-" */
static const char *domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return (at && at[1]) ? at + 1 : "-";
}

/* has_nl - 1 if s contains a newline */
static int has_nl(const char *s)
{
	return s != NULL && strchr(s, '\n') != NULL;
}

/* user_has_header - 1 if -h gave a header with this name */
static int user_has_header(const struct opts *o, const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < o->nhdrs; i++)
		if (strncasecmp(o->hdrs[i], name, n) == 0 && o->hdrs[i][n] == ':')
			return 1;
	return 0;
}

/* make_body - the message body shared by every message */
static void make_body(const struct opts *o, zbuf *body)
{
	static const char *ascii = "The quick brown fox jumps over the lazy dog, again and again.";
	static const char *utf8 = "Caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9""e, na\xc3\xafve \xc3\xa5ngstr\xc3\xb6m \xe2\x82\xac 42.";
	char line[200];

	if (o->bodyfile) {
		zbuf err = ZBUF_INIT(1024);
		if (zread_file(o->bodyfile, 64u * 1024 * 1024, body, &err) != Z_OK)
			die(EX_NOINPUT, o->bodyfile, zbuf_cstr(&err));
		zbuf_free(&err);
		return;
	}
	if (o->bodybytes < 0) {
		if (zbuf_puts(body, o->eight ? "Test message from mkjob: caf\xc3\xa9 cr\xc3\xa8me.\n"
					     : "Test message from mkjob.\n") != Z_OK)
			die(EX_SOFTWARE, "out of memory", NULL);
		return;
	}
	for (long i = 1; (long)body->len < o->bodybytes; i++) {
		size_t left = (size_t)o->bodybytes - body->len;
		int n = snprintf(line, sizeof(line), "%06ld %s\n", i, o->eight ? utf8 : ascii);
		if (n < 0 || (size_t)n >= sizeof(line))
			die(EX_SOFTWARE, "line too long", NULL);
		if ((size_t)n > left) {
			/* pad the last line with ASCII so no UTF-8 sequence is cut */
			memset(line, 'x', left);
			if (left > 0)
				line[left - 1] = '\n';
			n = (int)left;
		}
		if (zbuf_append(body, line, (size_t)n) != Z_OK)
			die(EX_SOFTWARE, "body too big", NULL);
	}
}

/* make_headers - header block (ends with one '\n' per line, no empty line) */
static void make_headers(const struct opts *o, unsigned long seq, const char *msgid, zbuf *h)
{
	char date[64];
	int rc = Z_OK;

	if (ztime_rfc5322(time(NULL), date, sizeof(date)) != Z_OK)
		zstrlcpy(date, "Thu, 01 Jan 1970 00:00:00 +0000", sizeof(date));
	if (!user_has_header(o, "From"))
		rc |= zbuf_printf(h, "From: %s\n", *o->sender ? o->sender : "MAILER-DAEMON@src.test");
	if (!user_has_header(o, "To")) {
		if (o->nrcpts <= 4) {
			rc |= zbuf_puts(h, "To: ");
			for (int i = 0; i < o->nrcpts; i++)
				rc |= zbuf_printf(h, "%s%s", i ? ", " : "", o->rcpts[i]);
			rc |= zbuf_puts(h, "\n");
		} else {
			rc |= zbuf_puts(h, "To: undisclosed-recipients:;\n");
		}
	}
	if (!user_has_header(o, "Subject"))
		rc |= zbuf_printf(h, "Subject: mkjob test message %lu\n", seq);
	if (!user_has_header(o, "Message-Id"))
		rc |= zbuf_printf(h, "Message-Id: %s\n", msgid);
	if (!user_has_header(o, "Date"))
		rc |= zbuf_printf(h, "Date: %s\n", date);
	if (o->eight) {
		if (!user_has_header(o, "MIME-Version"))
			rc |= zbuf_puts(h, "MIME-Version: 1.0\n");
		if (!user_has_header(o, "Content-Type"))
			rc |= zbuf_puts(h, "Content-Type: text/plain; charset=UTF-8\n");
		if (!user_has_header(o, "Content-Transfer-Encoding"))
			rc |= zbuf_puts(h, "Content-Transfer-Encoding: 8bit\n");
	}
	for (int i = 0; i < o->nhdrs; i++)
		rc |= zbuf_printf(h, "%s\n", o->hdrs[i]);
	if (rc != Z_OK)
		die(EX_SOFTWARE, "headers too big", NULL);
}

/* write_queue_file - public/ scratch file renamed to queue/<prefix><ino>;
 * returns ino, *bodyoff gets the body offset */
static unsigned long write_queue_file(const struct opts *o, const zbuf *hdrs, const zbuf *body,
				      char *prefix, size_t prefixsz, size_t *bodyoff)
{
	zbuf env = ZBUF_INIT(16u * 1024 * 1024);
	char tmp[4200], dst[4300];
	struct stat st;
	static unsigned long serial;
	int fd, rc = Z_OK;

	if (*o->sender)
		rc |= zbuf_printf(&env, "from <%s>\n", o->sender);
	else
		rc |= zbuf_puts(&env, "channel error\nfrom <>\n");
	if (o->envid)
		rc |= zbuf_printf(&env, "envid %s\n", o->envid);
	if (o->ret)
		rc |= zbuf_printf(&env, "notaryret %s\n", o->ret);
	for (int i = 0; i < o->nrcpts; i++) {
		if (o->notify || o->orcpt) {
			rc |= zbuf_puts(&env, "todsn");
			if (o->notify)
				rc |= zbuf_printf(&env, " NOTIFY=%s", o->notify);
			if (o->orcpt)
				rc |= zbuf_printf(&env, " ORCPT=%s", o->orcpt);
			else
				rc |= zbuf_printf(&env, " ORCPT=rfc822;%s", o->rcpts[i]);
			rc |= zbuf_puts(&env, "\n");
		}
		rc |= zbuf_printf(&env, "to <%s>\n", o->rcpts[i]);
	}
	rc |= zbuf_puts(&env, "env-end\n");
	rc |= zbuf_append(&env, hdrs->data ? hdrs->data : "", hdrs->len);
	rc |= zbuf_puts(&env, "\n");
	if (rc != Z_OK)
		die(EX_SOFTWARE, "envelope too big", NULL);
	*bodyoff = env.len;

	snprintf(tmp, sizeof(tmp), "%s/public/mkjob:%ld.%lu", o->po, (long)getpid(), serial++);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		die(EX_CANTCREAT, tmp, strerror(errno));
	if (zwrite_all(fd, env.data, env.len) != Z_OK ||
	    (body->len && zwrite_all(fd, body->data, body->len) != Z_OK))
		die(EX_IOERR, tmp, strerror(errno));
	if (!o->quick && fsync(fd) != 0)
		die(EX_IOERR, tmp, strerror(errno));
	if (fstat(fd, &st) != 0)
		die(EX_IOERR, tmp, strerror(errno));
	close(fd);
	if (spool_hash_prefix((unsigned long)st.st_ino, o->hash, prefix, prefixsz) != Z_OK)
		die(EX_SOFTWARE, "hash prefix", NULL);
	snprintf(dst, sizeof(dst), "%s/queue/%s%lu", o->po, prefix, (unsigned long)st.st_ino);
	if (rename(tmp, dst) != 0)
		die(EX_CANTCREAT, dst, strerror(errno));
	zbuf_free(&env);
	return (unsigned long)st.st_ino;
}

/* quick_commit - like ctl_commit without any fsync */
static void quick_commit(const char *tdir, const char *prefix, unsigned long ino, const zbuf *c)
{
	char tmp[4400], dst[4400];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s/%s.%lu", tdir, prefix, ino);
	snprintf(dst, sizeof(dst), "%s/%s%lu", tdir, prefix, ino);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		die(EX_CANTCREAT, tmp, strerror(errno));
	if (zwrite_all(fd, c->data, c->len) != Z_OK)
		die(EX_IOERR, tmp, strerror(errno));
	close(fd);
	if (rename(tmp, dst) != 0)
		die(EX_CANTCREAT, dst, strerror(errno));
}

/* make_one - one message: queue file + control file; prints the relpath */
static void make_one(const struct opts *o, unsigned long seq, const zbuf *body)
{
	zbuf hdrs = ZBUF_INIT(1024u * 1024);
	zbuf ctl = ZBUF_INIT(64u * 1024 * 1024);
	zbuf err = ZBUF_INIT(1024);
	char msgid[160], prefix[8], num[32], tdir[4200], nline[1200];
	unsigned long ino;
	size_t bodyoff, roff;
	int rc = Z_OK;

	snprintf(msgid, sizeof(msgid), "<mkjob.%ld.%lu.%ld@src.test>", (long)getpid(), seq, (long)time(NULL));
	make_headers(o, seq, msgid, &hdrs);
	ino = write_queue_file(o, &hdrs, body, prefix, sizeof(prefix), &bodyoff);

	rc |= ctlw_features(&ctl, CTL_FEATURES_WRITE);
	snprintf(num, sizeof(num), "%lu", ino);
	rc |= ctlw_record(&ctl, 'i', num);
	snprintf(num, sizeof(num), "%zu", bodyoff);
	rc |= ctlw_record(&ctl, 'o', num);
	rc |= ctlw_record(&ctl, 'l', msgid);
	if (*o->sender) {
		ctl_quadv s = { "smtp", domain_of(o->sender), o->sender, 0 };
		rc |= ctlw_record(&ctl, 'e', o->sender);
		rc |= ctlw_sender(&ctl, &s);
	} else {
		ctl_quadv s = { "error", "-", "-", 0 };
		rc |= ctlw_sender(&ctl, &s);
	}
	for (int i = 0; i < o->nrcpts; i++) {
		ctl_quadv r = { o->channel, o->rcpthost ? o->rcpthost : domain_of(o->rcpts[i]),
				o->rcpts[i], o->privilege };
		rc |= ctlw_rcpt(&ctl, &r, &roff);
		if (o->notify || o->orcpt) {
			int n;
			if (o->orcpt)
				n = snprintf(nline, sizeof(nline), "%s%s%sORCPT=%s",
					     o->notify ? "NOTIFY=" : "", o->notify ? o->notify : "",
					     o->notify ? " " : "", o->orcpt);
			else
				n = snprintf(nline, sizeof(nline), "%s%s%sORCPT=rfc822;%s",
					     o->notify ? "NOTIFY=" : "", o->notify ? o->notify : "",
					     o->notify ? " " : "", o->rcpts[i]);
			if (n < 0 || (size_t)n >= sizeof(nline))
				die(EX_USAGE, "DSN parameters too long", NULL);
			rc |= ctlw_record(&ctl, 'N', nline);
		}
		if (o->ret)
			rc |= ctlw_record(&ctl, 'R', o->ret);
		if (o->envid)
			rc |= ctlw_record(&ctl, 'n', o->envid);
	}
	rc |= ctlw_headers(&ctl, hdrs.data ? hdrs.data : "", hdrs.len);
	if (rc != Z_OK)
		die(EX_SOFTWARE, "control file writer failed", NULL);

	snprintf(tdir, sizeof(tdir), "%s/transport", o->po);
	if (o->quick)
		quick_commit(tdir, prefix, ino, &ctl);
	else if (ctl_commit(tdir, prefix, ino, &ctl, &err) != Z_OK)
		die(EX_IOERR, "ctl_commit", zbuf_cstr(&err));
	printf("%s%lu\n", prefix, ino);
	{
		/* tell a running scheduler, as the router does (loss is harmless) */
		char sock[4200], msg[64];
		snprintf(sock, sizeof(sock), "%s/.scheduler.notify", o->po);
		snprintf(msg, sizeof(msg), "NEW %s%lu", prefix, ino);
		(void)submit_notify(sock, msg);
	}
	zbuf_free(&hdrs);
	zbuf_free(&ctl);
	zbuf_free(&err);
}

int main(int argc, char **argv)
{
	struct opts o = { .sender = "mkjob@src.test", .channel = "smtp", .bodybytes = -1, .count = 1 };
	zbuf body = ZBUF_INIT(64u * 1024 * 1024);
	zbuf err = ZBUF_INIT(1024);
	unsigned long v;
	int c;

	while ((c = getopt(argc, argv, "P:H:f:c:N:O:R:n:b:z:8h:m:qx:X:u:")) != -1) {
		switch (c) {
		case 'P': o.po = optarg; break;
		case 'H':
			if (zparse_ulong(optarg, 2, &v) != Z_OK)
				usage("-H takes 0, 1 or 2");
			o.hash = (int)v;
			break;
		case 'f': o.sender = optarg; break;
		case 'c': o.channel = optarg; break;
		case 'N': o.notify = optarg; break;
		case 'O': o.orcpt = optarg; break;
		case 'R': o.ret = optarg; break;
		case 'n': o.envid = optarg; break;
		case 'b': o.bodyfile = optarg; break;
		case 'z':
			if (zparse_ulong(optarg, 64ul * 1024 * 1024, &v) != Z_OK)
				usage("-z takes a byte count");
			o.bodybytes = (long)v;
			break;
		case '8': o.eight = 1; break;
		case 'h':
			if (o.nhdrs >= MAXHDRS)
				usage("too many -h");
			if (strchr(optarg, ':') == NULL)
				usage("-h wants 'Name: value'");
			o.hdrs[o.nhdrs++] = optarg;
			break;
		case 'm':
			if (zparse_ulong(optarg, 10000000ul, &v) != Z_OK || v == 0)
				usage("-m takes a count");
			o.count = v;
			break;
		case 'q': o.quick = 1; break;
		case 'x':
		case 'X': o.rcpthost = optarg; break;
		case 'u':
			if (zparse_long(optarg, -1, 2147483647L, &o.privilege) != Z_OK)
				usage("-u takes a uid");
			break;
		default: usage(NULL);
		}
	}
	if (o.po == NULL)
		usage("-P postoffice is required");
	if (optind >= argc)
		usage("no recipients");
	o.rcpts = argv + optind;
	o.nrcpts = argc - optind;
	if (o.rcpthost != NULL && (*o.rcpthost == '\0' || strpbrk(o.rcpthost, " \t\n") != NULL))
		usage("bad -x host");
	if (has_nl(o.sender) || has_nl(o.channel) || has_nl(o.notify) || has_nl(o.orcpt) ||
	    has_nl(o.ret) || has_nl(o.envid))
		usage("newline in an argument");
	for (int i = 0; i < o.nrcpts; i++)
		if (has_nl(o.rcpts[i]) || (strchr(o.rcpts[i], ' ') && o.rcpthost == NULL))
			usage("bad recipient");
	for (int i = 0; i < o.nhdrs; i++)
		if (has_nl(o.hdrs[i]))
			usage("newline in -h");
	if (spool_init(o.po, o.hash, &err) != Z_OK)
		die(EX_CANTCREAT, o.po, zbuf_cstr(&err));
	make_body(&o, &body);
	for (unsigned long i = 1; i <= o.count; i++)
		make_one(&o, i, &body);
	if (fflush(stdout) != 0)
		die(EX_IOERR, "stdout", strerror(errno));
	zbuf_free(&body);
	zbuf_free(&err);
	return 0;
}
