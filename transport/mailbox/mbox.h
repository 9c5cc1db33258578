/*
 * mbox.h - the delivery library of mailbox(8): mailbox templates, header
 * edits and the Delivered-To loop check, a "From "-quoting writer, and
 * locked appends to mbox files and Maildir deliveries.
 *
 * Nothing here changes ids or forks: the agent calls these functions in a
 * child process that already runs as the recipient (transport/mailbox/
 * mailbox_main.c).  Functions return Z_OK or a negative Z_E* code; the
 * delivery functions fill an mbx_result with a sysexits code, an enhanced
 * status code and a one-line reason.
 */
#ifndef ZMTA_MBOX_H
#define ZMTA_MBOX_H

#include <sys/types.h>
#include <time.h>
#include "zbuf.h"

#define MBX_PATH_MAX 4096
#define MBX_HDR_MAX (4u * 1024 * 1024)   /* edited header block bound */

/* mbx_expand - the mailbox template with %u (user), %h (home) and %%
 * replaced into out.  A trailing '/' means Maildir: *maildir is set to 1
 * and the trailing slashes are not copied.  The user must be non-empty,
 * not start with '.' and contain no '/'; %h needs an absolute home; the
 * result must be an absolute path shorter than MBX_PATH_MAX without "/../"
 * steps.  Z_OK or Z_EPARSE with the reason in err. */
int mbx_expand(const char *tmpl, const char *user, const char *home, zbuf *out,
	       int *maildir, zbuf *err);

typedef struct mbx_hdropts {
	const char *return_path;   /* envelope sender; "" = the null sender <> */
	const char *delivered_to;  /* NULL: no Delivered-To line */
	const char *envelope_to;   /* NULL: no X-Envelope-To line */
} mbx_hdropts;

/* mbx_headers - the header block h[0..n) (with or without its final empty
 * line) with "Return-Path: <sender>" (when return_path is not NULL),
 * "Delivered-To: <addr>" and "X-Envelope-To: <addr>" put first; every old
 * Return-Path (and old X-Envelope-To when a new one is written) is
 * dropped, the other fields are copied byte for byte.  out gets the
 * fields and the empty line.  Z_EPARSE for a line that is not a field,
 * Z_ETOOBIG over MBX_HDR_MAX. */
int mbx_headers(const char *h, size_t n, const mbx_hdropts *o, zbuf *out, zbuf *err);

/* mbx_delivered_to - 1 when a Delivered-To field of h equals addr (ASCII
 * case ignored, surrounding blanks and one pair of <> ignored), else 0 */
int mbx_delivered_to(const char *h, size_t n, const char *addr);

/* mbx_header_value - the first field named name, unfolded, into out
 * (Z_OK) or Z_ENOENT */
int mbx_header_value(const char *h, size_t n, const char *name, zbuf *out);

/* A buffered writer to a file descriptor that can insert '>' before body
 * lines starting "From " (mbox quoting), also across buffer boundaries. */
typedef struct mbx_writer {
	int fd;
	int quote_from;            /* quote body lines starting "From " */
	int bol;                   /* next body byte starts a line */
	size_t held;               /* bytes of "From " matched at bol, held back */
	int lastc;                 /* last byte written (-1: none) */
	int prevc;                 /* the byte before it */
	unsigned long long total;  /* bytes handed to write(2) */
	size_t n;
	char buf[16384];
} mbx_writer;

/* mbx_w_init - writer to fd */
void mbx_w_init(mbx_writer *w, int fd, int quote_from);
/* mbx_w_raw - bytes as they are (separator, header) */
int mbx_w_raw(mbx_writer *w, const void *p, size_t n);
/* mbx_w_body - body bytes, quoted when w->quote_from */
int mbx_w_body(mbx_writer *w, const void *p, size_t n);
/* mbx_w_flush - write held and buffered bytes; Z_OK or Z_EIO (errno kept) */
int mbx_w_flush(mbx_writer *w);

enum mbx_format {
	MBX_FMT_MBOX = 0,  /* "From " line, quoted body, empty line after */
	MBX_FMT_MMDF,      /* ^A^A^A^A lines around the message, no quoting */
	MBX_FMT_PLAIN,     /* the message alone (Maildir) */
	MBX_FMT_PIPE       /* "From " line, body not quoted (programs) */
};

typedef struct mbx_msg {
	const char *sender;        /* "" = null sender (MAILER-DAEMON) */
	time_t when;               /* for the "From " line */
	const char *hdrs;          /* edited header block incl. the empty line */
	size_t hlen;
	int bodyfd;                /* the queue file; -1 = no body */
	off_t bodyoff, bodysize;
	enum mbx_format format;
	int decode_qp;             /* -8: quoted-printable text parts stored as 8bit */
} mbx_msg;

/* mbx_from_line - "From <sender|MAILER-DAEMON> <ctime>" with a '\n' into
 * out; blanks and control bytes of the sender become '_' */
int mbx_from_line(const char *sender, time_t when, zbuf *out);

/* mbx_write_msg - the whole message through w in m->format and flush.
 * The body always ends with a line end.  With m->decode_qp, a MIME
 * message with quoted-printable text parts is written with those parts
 * decoded to 8bit (transport/libta/mime.c rules: never with a
 * DKIM-Signature).  Z_OK, Z_EIO (errno kept). */
int mbx_write_msg(mbx_writer *w, const mbx_msg *m);

typedef struct mbx_result {
	int ex;                    /* sysexits code for ta_diagnostic */
	char status[12];           /* "2.0.0", "4.2.2", "5.1.1" ... */
	char text[480];            /* one line */
	long long oldsize;         /* mailbox size before (-1: n/a) */
	long long added;           /* bytes appended */
} mbx_result;

typedef struct mbx_fileopts {
	int dotlock;               /* take "<path>.lock" (O_EXCL) */
	int create;                /* create a missing file (mode 0600) / Maildir */
	long owner;                /* required owner uid of the file, -1: any */
	int edquot_perm;           /* EDQUOT is a permanent failure */
	long lock_wait;            /* seconds to wait for the locks */
	long stale_after;          /* a dot-lock older than this is removed */
	const char *hostname;      /* Maildir file names */
} mbx_fileopts;

/* mbx_result_set - fill res (text printf-style) */
void mbx_result_set(mbx_result *res, int ex, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* mbx_result_errno - res for a failed system call: ENOSPC / EDQUOT are
 * temporary (EDQUOT permanent with edquot_perm), the rest temporary */
void mbx_result_errno(mbx_result *res, int e, int edquot_perm, const char *what, const char *path);

/* mbx_append - append m to the mbox file path under the locks: dot-lock
 * (fo->dotlock), then fcntl write lock; the file must be a regular file
 * (or /dev/null) with one link, not a symlink, owned by fo->owner; a
 * missing file is created (fo->create) with mode 0600.  A mailbox that
 * does not end in an empty line gets line ends first.  Written data is
 * fsynced; a failed write or fsync truncates the file back to its old
 * size.  Z_OK (res ok) or Z_ERR with res filled. */
int mbx_append(const char *path, const mbx_fileopts *fo, const mbx_msg *m, mbx_result *res);

/* mbx_maildir - deliver m (format forced to MBX_FMT_PLAIN) into the
 * Maildir dir: tmp/<unique> written and fsynced, linked to new/<unique>,
 * new/ fsynced.  Missing dir, tmp, new, cur are made (mode 0700) when
 * fo->create.  Z_OK or Z_ERR with res filled. */
int mbx_maildir(const char *dir, const mbx_fileopts *fo, const mbx_msg *m, mbx_result *res);

/* mbx_program_exit - a program's exit status (from waitpid) mapped per
 * mailbox(8): 0 ok; EX_NOPERM EX_UNAVAILABLE EX_NOHOST EX_NOUSER EX_DATAERR
 * permanent; everything else, and a signal, temporary.  Fills ex/status. */
void mbx_program_exit(int wstatus, mbx_result *res);

#endif
