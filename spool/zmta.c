/*
 * NAME
 *	zmta - spool administration command
 * SUMMARY
 *	postoffice-init, spoolid, ctlcheck, quarantine.
 * SYNOPSIS
 *	zmta postoffice-init [-P postoffice] [-H levels] [-u user]
 *	zmta spoolid INODE EPOCH [NSEC]
 *	zmta ctlcheck [-e] FILE...
 *	zmta quarantine [-P postoffice] RELPATH REASON
 * DESCRIPTION
 *	See zmta(8).  POSTOFFICE comes from -P, else from zmta.conf
 *	(zconf), else the compiled-in default.
 * DIAGNOSTICS
 *	sysexits(3) exit codes: EX_USAGE for bad arguments, EX_DATAERR for
 *	a control file that does not parse, EX_IOERR/EX_CANTCREAT for
 *	spool errors, EX_CONFIG for a broken zmta.conf.
 * SECURITY
 *	Run by the postmaster, as root or as the mail system's user; keeps
 *	the ids it was started with.  postoffice-init as root creates
 *	ZMTA_USER (-u) with useradd(8) when it is missing and gives every
 *	spool directory (never a file) to it; as another user it only says
 *	what root has to do.  ctlcheck reads only the files named and
 *	prints their values with non-printable bytes replaced by '?'.
 *	quarantine must never delete: it only renames into postman/, and
 *	moves only the body with the control file's own id (never the one
 *	a forged 'i' line names).
 * BUGS
 *	None known.
 * SEE ALSO
 *	zmta(8), zmta-spool(5)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zbuf.h"
#include "zconf.h"
#include "zlog.h"
#include "zpriv.h"
#include "zutil.h"
#include "spool.h"
#include "ctlfile.h"

/* usage - print the synopsis and exit EX_USAGE */
static _Noreturn void usage(void)
{
	fputs("usage: zmta postoffice-init [-P postoffice] [-H 0|1|2] [-u user]\n"
	      "       zmta spoolid INODE EPOCH [NSEC]\n"
	      "       zmta ctlcheck [-e] FILE...\n"
	      "       zmta quarantine [-P postoffice] RELPATH REASON\n", stderr);
	exit(EX_USAGE);
}

/* postoffice - -P value or configured POSTOFFICE */
static const char *postoffice(const char *opt)
{
	zbuf err = ZBUF_INIT(1024);
	const char *po;

	if (opt != NULL)
		return opt;
	if (zconf_load(NULL, &err) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "%s", zbuf_cstr(&err));
	zbuf_free(&err);
	po = zconf_get("POSTOFFICE");
	if (po == NULL || *po == '\0')
		zlog_fatal(EX_CONFIG, NULL, "POSTOFFICE is not set");
	return po;
}

/* note_created - print one created directory */
static void note_created(void *arg, const char *path, unsigned mode)
{
	(void)arg;
	printf("created %s (mode %04o)\n", path, mode);
}

/* add_user - run useradd for a system user without home or shell */
static int add_user(const char *user)
{
	static const char *const paths[] = { "/usr/sbin/useradd", "/sbin/useradd", "useradd" };
	const char *const argv[] = { "useradd", "--system", "--no-create-home", "--user-group",
				     "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", user,
				     NULL };
	int st;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
			if (strchr(paths[i], '/') && access(paths[i], X_OK) != 0)
				continue;
			execvp(paths[i], (char *const *)argv);
		}
		fprintf(stderr, "zmta: cannot run useradd: %s\n", strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* mail_user - the mail system's ids for the tree: ZMTA_USER (or -u),
 * created when missing and we are root.  0 with *ids, or -1 when the
 * tree keeps the caller as owner. */
static int mail_user(const char *user, const char *po, zpriv_ids *ids)
{
	zbuf why = ZBUF_INIT(300);
	int rc = -1;
	if (zpriv_resolve(user, NULL, ids, &why) != Z_OK) {
		if (geteuid() != 0) {
			fprintf(stderr, "zmta: ZMTA_USER %s does not exist (%s).  As root run\n"
				"  useradd --system --no-create-home --user-group --shell "
				"/usr/sbin/nologin %s\n"
				"and then \"zmta postoffice-init\" again (as root) to give the spool to it.\n",
				user, zbuf_cstr(&why), user);
			goto out;
		}
		if (add_user(user) != 0)
			zlog_fatal(EX_NOUSER, NULL, "cannot create ZMTA_USER %s with useradd", user);
		zbuf_reset(&why);
		if (zpriv_resolve(user, NULL, ids, &why) != Z_OK)
			zlog_fatal(EX_NOUSER, NULL, "ZMTA_USER %s: %s after useradd", user,
				   zbuf_cstr(&why));
		printf("created user %s (uid %ld gid %ld)\n", ids->name, (long)ids->uid,
		       (long)ids->gid);
	}
	if (geteuid() != 0 && ids->uid != geteuid()) {
		fprintf(stderr, "zmta: not root: the spool stays owned by uid %ld; run "
			"\"zmta postoffice-init\" as root to give it to %s\n", (long)geteuid(), user);
		goto out;
	}
	rc = 0;
out:
	zbuf_free(&why);
	return rc;
}

/* cmd_init - zmta postoffice-init */
static int cmd_init(int argc, char **argv)
{
	const char *po = NULL, *user = NULL;
	unsigned long lv = 0;
	zbuf err = ZBUF_INIT(1024);
	zpriv_ids ids;
	int c, owned;

	optind = 1;
	while ((c = getopt(argc, argv, "P:H:u:")) != -1) {
		switch (c) {
		case 'P':
			po = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'H':
			if (zparse_ulong(optarg, 2, &lv) != Z_OK)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (zconf_load(NULL, &err) != Z_OK)
		zlog_fatal(EX_CONFIG, NULL, "%s", zbuf_cstr(&err));
	po = postoffice(po);
	if (user == NULL)
		user = zconf_get_default("ZMTA_USER", "zmta");
	owned = mail_user(user, po, &ids) == 0;
	if (spool_init_owned(po, (int)lv, owned ? ids.uid : (uid_t)-1, owned ? ids.gid : (gid_t)-1,
			     note_created, NULL, &err) != Z_OK)
		zlog_fatal(EX_CANTCREAT, NULL, "%s", zbuf_cstr(&err));
	if (spool_verify(po, &err) != Z_OK)
		zlog_fatal(EX_IOERR, NULL, "%s", zbuf_cstr(&err));
	if (owned)
		printf("directories owned by %s (uid %ld gid %ld), modes set\n", ids.name,
		       (long)ids.uid, (long)ids.gid);
	printf("postoffice %s ready (hash levels %lu)\n", po, lv);
	zbuf_free(&err);
	return EX_OK;
}

/* cmd_spoolid - zmta spoolid INODE EPOCH [NSEC] */
static int cmd_spoolid(int argc, char **argv)
{
	unsigned long ino, ns = 0;
	long t;
	char id[SPOOL_ID_MAX];

	if (argc < 3 || argc > 4)
		usage();
	if (zparse_ulong(argv[1], ~0ul, &ino) != Z_OK ||
	    zparse_long(argv[2], 0, 0x7fffffffffL, &t) != Z_OK ||
	    (argc == 4 && zparse_ulong(argv[3], 999999999ul, &ns) != Z_OK))
		usage();
	if (spool_id_format(ino, (time_t)t, (long)ns, id, sizeof(id)) != Z_OK)
		zlog_fatal(EX_SOFTWARE, NULL, "cannot format spool id");
	printf("%s\n", id);
	return EX_OK;
}

/* show - print a span with non-printables as '?' */
static void show(zspan s)
{
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		putchar(c >= ' ' && c < 127 ? c : '?');
	}
}

/* show_quad - print channel host user privilege */
static void show_quad(const ctl_quad *q)
{
	show(q->channel);
	putchar(' ');
	show(q->host);
	putchar(' ');
	show(q->user);
	printf(" %ld", q->privilege);
}

/* dump - print the offset table of a parsed file */
static void dump(const char *name, const ctl_file *cf)
{
	printf("%s: ok, %zu bytes, features 0x%08lx\n", name, cf->len, cf->features);
	printf("  body ");
	show(cf->body);
	printf(" (offset %ld)\n  logid ", cf->body_off);
	show(cf->logid);
	putchar('\n');
	if (cf->erraddr.n) {
		printf("  erraddr ");
		show(cf->erraddr);
		putchar('\n');
	}
	for (size_t i = 0; i < cf->nsenders; i++) {
		printf("  %zu s ", cf->senders[i].off);
		show_quad(&cf->senders[i].quad);
		putchar('\n');
	}
	for (size_t i = 0; i < cf->nrcpts; i++) {
		const ctl_rcpt *r = &cf->rcpts[i];
		printf("  %zu r tag '%c' pid %d ", r->off, r->tag, r->pid);
		show_quad(&r->quad);
		printf(" sender %zu N %ld headers %ld+%zu", cf->senders[r->sender].off,
		       r->dsn_off, r->hdr_off, r->hdr_len);
		if (r->xor_group >= 0)
			printf(" xor %d", r->xor_group);
		putchar('\n');
	}
	for (size_t i = 0; i < cf->ndiags; i++) {
		const ctl_diag *d = &cf->diags[i];
		printf("  %zu d tag '%c' rcpt %ld hdr %ld dsn %ld time %lld ", d->off, d->tag,
		       d->rcpt_off, d->hdr_off, d->dsn_off, d->when);
		show(d->notary);
		putchar('\n');
	}
	for (size_t i = 0; i < cf->nturnme; i++) {
		printf("  T ");
		show(cf->turnme[i]);
		putchar('\n');
	}
}

/* cmd_ctlcheck - parse files and print their tables or the reason */
static int cmd_ctlcheck(int argc, char **argv)
{
	unsigned flags = 0;
	int c, ex = EX_OK;

	optind = 1;
	while ((c = getopt(argc, argv, "e")) != -1) {
		if (c == 'e')
			flags |= CTL_PARSE_ETRN;
		else
			usage();
	}
	if (optind >= argc)
		usage();
	for (int i = optind; i < argc; i++) {
		zbuf err = ZBUF_INIT(1024);
		ctl_file cf;
		int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			ex = EX_NOINPUT;
			continue;
		}
		if (ctl_read(fd, flags, &cf, &err) == Z_OK) {
			dump(argv[i], &cf);
		} else {
			printf("%s: refused: %s\n", argv[i], zbuf_cstr(&err));
			if (ex == EX_OK)
				ex = EX_DATAERR;
		}
		ctl_free(&cf);
		close(fd);
		zbuf_free(&err);
	}
	return ex;
}

/* cmd_quarantine - move a control file and its body into postman/ */
static int cmd_quarantine(int argc, char **argv)
{
	const char *po = NULL;
	zbuf err = ZBUF_INIT(2048);
	char path[4400];
	ctl_file cf;
	const char *body = NULL;
	char bodyname[80];
	int c, fd;

	optind = 1;
	while ((c = getopt(argc, argv, "P:")) != -1) {
		if (c == 'P')
			po = optarg;
		else
			usage();
	}
	if (argc - optind != 2)
		usage();
	po = postoffice(po);
	if (strlen(po) > 4000)
		zlog_fatal(EX_USAGE, NULL, "POSTOFFICE path too long");
	/* the body is the message's own: queue/<prefix><the file's own id>
	 * (the 'i' line must say the same; a file whose 'i' line names another
	 * message's body must not take that body along) */
	int k = snprintf(path, sizeof(path), "%s/transport/%s", po, argv[optind]);
	if (k < 0 || (size_t)k >= sizeof(path))
		zlog_fatal(EX_USAGE, NULL, "control file path too long");
	const char *b = strrchr(argv[optind], '/');
	b = b ? b + 1 : argv[optind];
	if (zstrlcpy(bodyname, b, sizeof(bodyname)) == Z_OK)
		body = bodyname;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	memset(&cf, 0, sizeof(cf));
	if (fd >= 0 && ctl_read(fd, 0, &cf, &err) == Z_OK && body != NULL &&
	    (cf.body.n != strlen(body) || memcmp(cf.body.p, body, cf.body.n) != 0))
		fprintf(stderr, "zmta: note: the 'i' line names another body (%.*s); "
			"only queue/%s is moved\n", (int)(cf.body.n > 60 ? 60 : cf.body.n),
			cf.body.p, body);
	ctl_free(&cf);
	if (fd >= 0)
		close(fd);
	zbuf_reset(&err);
	if (spool_quarantine(po, argv[optind], body, "admin", argv[optind + 1], &err) != Z_OK)
		zlog_fatal(EX_IOERR, NULL, "%s", zbuf_cstr(&err));
	printf("moved transport/%s into %s/postman\n", argv[optind], po);
	zbuf_free(&err);
	return EX_OK;
}

/* main - dispatch to the sub-command named by argv[1] */
int main(int argc, char **argv)
{
	zlog_open("zmta", ZLOG_TO_STDERR);
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "postoffice-init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (strcmp(argv[1], "spoolid") == 0)
		return cmd_spoolid(argc - 1, argv + 1);
	if (strcmp(argv[1], "ctlcheck") == 0)
		return cmd_ctlcheck(argc - 1, argv + 1);
	if (strcmp(argv[1], "quarantine") == 0)
		return cmd_quarantine(argc - 1, argv + 1);
	usage();
}
