/*
 * smlib.h - the testable part of sendmail(8): command-line options, the
 * input filter (line ends, the lone "." line), header scanning and
 * rewriting (-t recipients, Bcc removal, added From/Date/Message-ID and
 * X-Authentication-Warning), and the envelope lines of the submission
 * file.  No I/O except what the caller passes in.
 */
#ifndef ZMTA_SMLIB_H
#define ZMTA_SMLIB_H

#include <stddef.h>
#include "zbuf.h"
#include "mparam.h"

#define SM_HEADER_MAX (1024u * 1024u)   /* whole header block */
#define SM_FIELD_MAX SM_HEADER_MAX       /* one field, folded: only the header bound */
#define SM_FIELDS_MAX 4096u             /* fields in a header */
#define SM_RCPT_MAX 10000u              /* envelope recipients */
#define SM_SIZE_DEFAULT 10240000ul      /* MESSAGE_SIZE_LIMIT default */

enum sm_mode {
	SM_MODE_DELIVER = 0,  /* -bm (default): read a message, submit it */
	SM_MODE_SMTP,         /* -bs */
	SM_MODE_PRINTQ,       /* -bp */
	SM_MODE_NEWALIASES,   /* -bi */
	SM_MODE_QUEUERUN      /* -q...: the scheduler runs the queue */
};

typedef struct sm_opts {
	enum sm_mode mode;
	int tflag;            /* -t */
	int iflag;            /* -i, -oi: a lone "." is data */
	int verbose;          /* -v */
	int external;         /* -E */
	char errmode;         /* -oe? / -e?: 'p' (default) 'q' 'm' 'w' 'e' */
	const char *from;     /* -f / -r, as given (NULL: none) */
	const char *fullname; /* -F */
	unsigned notify;      /* -N: MNOTIFY_* bits (mparam.h), 0 = not given */
	const char *ret;      /* -R: "FULL" or "HDRS", NULL = not given */
	const char *envid;    /* -V, as given */
	const char *bodytype; /* -B: "7BIT" or "8BITMIME", NULL otherwise */
	const char *postoffice; /* -oQ dir */
	char **rcpts;         /* operands (argv after the options) */
	int nrcpts;
	unsigned ignored;     /* how many options were accepted and ignored */
} sm_opts;

/* sm_opts_parse - parse argv (getopt(3) state is reset first).  Z_OK, or
   Z_EPARSE with a usage message in err (the caller exits EX_USAGE) */
int sm_opts_parse(int argc, char **argv, sm_opts *o, zbuf *err);
/* sm_notify_parse - -N: "never" or a comma list of success, failure, delay
   (any case; blanks ignored) into MNOTIFY_* bits by mail/'s NOTIFY rule
   (mparam_notify_parse); Z_EPARSE with a reason.  The envelope writes
   them back with mparam_notify_format. */
int sm_notify_parse(const char *s, unsigned *bits, zbuf *err);

/* The input filter: CRLF becomes LF, and without -i a line holding only
   "." (or ".\r") ends the input.  Feed it blocks as they are read. */
typedef struct sm_in {
	int iflag;
	int bol;        /* at the start of a line */
	int dot;        /* a "." at the start of the line is pending */
	int cr;         /* a "\r" is pending */
	int done;       /* the lone "." line was seen: ignore the rest */
	unsigned long long bytes;  /* bytes of output produced */
} sm_in;

/* sm_in_init - fresh filter state */
void sm_in_init(sm_in *in, int iflag);
/* sm_in_feed - filter p[0..n) and append to out; Z_OK or Z_ETOOBIG (out
   full: out holds what fitted; the caller has hit its limit) */
int sm_in_feed(sm_in *in, const char *p, size_t n, zbuf *out);
/* sm_in_finish - at the end of input: append what is pending and a final
   newline if the text does not end in one */
int sm_in_finish(sm_in *in, zbuf *out);

/* sm_header_end - find where the header block of the (filtered, LF)
   text t[0..n) ends.  Returns 1 when found: *hdr_len = bytes of header
   fields (each ending in "\n"), *body_off = where the body starts,
   *need_blank = 1 when no empty line separated them (a non-field line
   began the body), *skip = bytes of a leading mbox "From " line to
   drop (counted inside the header, before the first field).  Returns 0
   when more input is needed (eof = 0) or, with eof = 1, the whole text
   is header. */
int sm_header_end(const char *t, size_t n, int eof, size_t *skip, size_t *hdr_len,
		  size_t *body_off, int *need_blank);

/* One envelope recipient (canonical addr-spec, NUL-terminated). */
typedef struct sm_rcpts {
	char **v;
	size_t n, cap, max;
} sm_rcpts;

/* sm_rcpts_init / sm_rcpts_free */
void sm_rcpts_init(sm_rcpts *r, size_t max);
void sm_rcpts_free(sm_rcpts *r);
/* sm_rcpts_add_list - parse an address list (command-line operand or
   header value) and add each address once; Z_EPARSE (bad syntax, a
   reason in err), Z_ETOOBIG (too many), Z_ENOMEM */
int sm_rcpts_add_list(sm_rcpts *r, zspan list, zbuf *err);

/* What the header rewrite needs to know. */
typedef struct sm_hctx {
	int tflag;                /* collect To/Cc/Bcc (or Resent-*) */
	const char *from_hdr;     /* value for an added From: (NULL: never add) */
	const char *date;         /* value for an added Date: */
	const char *msgid;        /* value for an added Message-ID: ("<...>") */
	const char *auth_warning; /* X-Authentication-Warning value or NULL */
} sm_hctx;

/* sm_header_rewrite - the header fields hdr[0..n) (as sm_header_end
   found them) into out: X-Authentication-Warning first when given, the
   fields without Bcc/Resent-Bcc, then From, Date, Message-ID when
   missing.  With tflag the recipients of Resent-To/Cc/Bcc (when any
   Resent- recipient field exists) or else To/Cc/Bcc go into r.  Z_OK;
   Z_EPARSE / Z_ETOOBIG with a reason in err */
int sm_header_rewrite(const sm_hctx *h, const char *hdr, size_t n, zbuf *out, sm_rcpts *r,
		      zbuf *err);

/* sm_from_value - "Full Name <addr>" (the name quoted when needed) or
   just addr when name is NULL or empty; control bytes in name dropped */
int sm_from_value(const char *name, const char *addr, zbuf *out);
/* sm_gecos_name - the full name in a passwd gecos field: up to the first
   ',', '&' replaced by the login with its first letter in upper case */
int sm_gecos_name(const char *gecos, const char *login, zbuf *out);
/* sm_sender_parse - an -f address: "<>", "<addr>" or "addr" into its
   canonical addr-spec ("" for the null sender); Z_EPARSE with a reason */
int sm_sender_parse(const char *s, zbuf *out, zbuf *err);
/* sm_name_in_list - login appears in a list separated by commas or
   blanks (TRUSTED_USERS) */
int sm_name_in_list(const char *list, const char *login);

/* The envelope of the submission file (zmta-spool(5)). */
typedef struct sm_env {
	int external;
	const char *bodytype;   /* NULL: none */
	const char *sender;     /* canonical addr-spec, "" = null sender */
	const char *envid;      /* xtext or raw (encoded when needed), NULL */
	const char *ret;        /* "FULL" / "HDRS" / NULL */
	unsigned notify;        /* MNOTIFY_* or 0 */
	const sm_rcpts *rcpts;
} sm_env;

/* sm_envelope - the envelope lines, "env-end" included, into out;
   Z_EPARSE when a value is not acceptable (reason in err) */
int sm_envelope(const sm_env *e, zbuf *out, zbuf *err);

#endif
