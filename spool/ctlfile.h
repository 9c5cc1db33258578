/*
 * ctlfile.h - control files in transport/: strict parser, exact writer,
 * in-place lock-byte patching and 'd' line appends (zmta-spool(5)).
 *
 * Records: one per line, byte 0 = type, byte 1 = tag (' ' '~' '+' '-'),
 * value from byte 2 to '\n'.  'm' starts a header block ended by an empty
 * line.  'r' (and 'X') lines carry a 6-byte pid slot and a 4-byte delay
 * slot after the tag.  A record's identity is its byte offset.
 */
#ifndef ZMTA_CTLFILE_H
#define ZMTA_CTLFILE_H

#include <stddef.h>
#include <time.h>
#include "zbuf.h"

#define CTL_MAX_SIZE (64u * 1024u * 1024u)  /* refuse larger control files */
#define CTL_FEATURES_KNOWN 0x7ul            /* pid slot, delay slot, M block */
#define CTL_FEATURES_WRITE 0x7ul

#define CTL_TAG_NORMAL ' '
#define CTL_TAG_LOCK '~'
#define CTL_TAG_OK '+'
#define CTL_TAG_NOTOK '-'

/* a (channel, host, user, privilege) quad; spans point into the file data */
typedef struct ctl_quad {
	zspan channel;
	zspan host;
	zspan user;          /* as written (may be "quoted") */
	long privilege;
} ctl_quad;

typedef struct ctl_sender {
	size_t off;          /* offset of the 's' line */
	ctl_quad quad;       /* channel "error" means null sender */
	zspan erraddr;       /* last 'e' before it, may be empty */
} ctl_sender;

typedef struct ctl_rcpt {
	size_t off;          /* offset of 'r' (or 'X'): the recipient's id */
	char tag;
	int pid;             /* from the pid slot, 0 when blank */
	int xor_group;       /* -1 for 'r' lines */
	ctl_quad quad;
	size_t sender;       /* index into ctl_file.senders */
	long dsn_off;        /* offset of the following 'N' line, -1 if none */
	zspan notify, orcpt, inrcpt, infrom, by; /* from N, empty if absent */
	zspan ret;           /* 'R' value (FULL/HDRS) or empty */
	zspan envid;         /* 'n' value or empty */
	long hdr_off;        /* first header byte of its 'm' block, -1 if none */
	size_t hdr_len;      /* header bytes, including the final empty line */
} ctl_rcpt;

typedef struct ctl_diag {
	size_t off;          /* offset of the 'd' line */
	char tag;            /* ' ' not yet reported, '+' reported */
	long rcpt_off, hdr_off, dsn_off;
	long long when;
	zspan notary;        /* \001-separated fields */
	zspan text;          /* CR is the line separator */
} ctl_diag;

typedef struct ctl_file {
	char *data;          /* owned copy of the file */
	size_t len;
	unsigned long features;
	zspan body;          /* 'i' */
	long body_off;       /* 'o', -1 if absent */
	zspan logid;         /* 'l' */
	zspan verbose;       /* 'v' or empty */
	zspan erraddr;       /* first 'e' or empty */
	ctl_sender *senders; size_t nsenders;
	ctl_rcpt *rcpts; size_t nrcpts;
	ctl_diag *diags; size_t ndiags;
	zspan *turnme; size_t nturnme;       /* 'T' values */
	zspan *obsoletes; size_t nobsoletes; /* 'x' values */
} ctl_file;

#define CTL_PARSE_ETRN 1u   /* accept a file with only T lines */

/* ctl_parse - copy data and parse it.  Z_OK, or Z_EPARSE with a one-line
 * reason in err (unknown '@' bits, missing 'i' or 'l', bad record, bad
 * quad, truncated 'm' block, over-long file...).  out is zeroed first and
 * must be released with ctl_free() in both cases. */
int ctl_parse(const char *data, size_t len, unsigned flags, ctl_file *out, zbuf *err);
/* ctl_read - read the file at fd (from offset 0) and parse it */
int ctl_read(int fd, unsigned flags, ctl_file *out, zbuf *err);
/* (ctl_parse/ctl_read: Z_EPARSE only for a file that does not parse;
 * Z_ENOMEM and Z_EIO mean "try again later", never quarantine) */
void ctl_free(ctl_file *cf);
/* ctl_find_rcpt - recipient with offset off, or NULL */
const ctl_rcpt *ctl_find_rcpt(const ctl_file *cf, size_t off);
/* ctl_diag_dsn_line - offset of the 'N' line a 'd' line refers to, accepting
 * both the TA variant (line start) and the scheduler variant (start + 2);
 * -1 if none matches */
long ctl_diag_dsn_line(const ctl_file *cf, const ctl_diag *d);
/* ctl_unquote_user - user field without RFC 821 quoting into out */
int ctl_unquote_user(zspan user, zbuf *out);

/* Writer: append records to a zbuf (in memory) then ctl_commit() it. */
typedef struct ctl_quadv {
	const char *channel, *host, *user;
	long privilege;
} ctl_quadv;

int ctlw_features(zbuf *o, unsigned long features);      /* "@ 0x00000007" */
/* ctlw_record - "<type> <value>\n"; value must not contain '\n' */
int ctlw_record(zbuf *o, char type, const char *value);
/* ctlw_sender - "s channel host user priv" */
int ctlw_sender(zbuf *o, const ctl_quadv *q);
/* ctlw_rcpt - "r" + tag ' ' + 6+4 blank slots + quad; *off gets its offset */
int ctlw_rcpt(zbuf *o, const ctl_quadv *q, size_t *off);
/* ctlw_headers - "m\n" + header block, ensured to end with "\n\n" */
int ctlw_headers(zbuf *o, const char *hdrs, size_t len);
/* ctl_commit - write transport/<prefix>.<ino>, fsync, rename to
 * transport/<prefix><ino>, fsync dir.  transport_dir is a path. */
int ctl_commit(const char *transport_dir, const char *prefix, unsigned long ino,
	       const zbuf *content, zbuf *err);

/* ctl_lock - at rcpt_off+1 expect tag 'expected'; write newtag + pid
 * ("%6d" when newtag is '~', else 6 spaces).  Check and write happen under
 * a byte-range lock (F_OFD_SETLK) on the tag and pid slot: atomic against
 * other users of ctl_lock/ctl_set_tag.  Z_ESTALE if the tag differs, or
 * when expected is '~', pid > 0 and the slot holds another pid (only the
 * owner releases a lock; pid 0 releases anyone's).  Z_EAGAIN when the
 * range stays locked by someone else. */
int ctl_lock(int fd, size_t rcpt_off, char expected, char newtag, int pid, zbuf *err);
/* a range lock kept by ctl_lock_hold (the owner's pid, the slot width) */
typedef struct ctl_hold {
	int held;                 /* a byte-range lock is held (0: none, or the
				     file system has no byte-range locks) */
	unsigned char wlen;       /* 7: tag + pid slot; 1: old format, tag only */
	int pid;
} ctl_hold;
/* ctl_lock_hold - ctl_lock that keeps the range lock on success: until
 * ctl_hold_drop or the close of fd (the kernel drops it at the last close
 * of the open file description, also when the process dies) no other
 * ctl_lock/ctl_set_tag user gets at these bytes; they wait (Z_EAGAIN
 * after ~0.5 s). */
int ctl_lock_hold(int fd, size_t rcpt_off, char expected, char newtag, int pid,
		  ctl_hold *h, zbuf *err);
/* ctl_hold_set - write newtag (+ the pid slot, or spaces) under h's range
 * lock, with no re-check: one pwrite.  Without a held lock (a file system
 * without byte-range locks) it checks as ctl_lock(fd, off, '~', newtag,
 * pid) does.  The lock stays held. */
int ctl_hold_set(int fd, size_t rcpt_off, const ctl_hold *h, char newtag, zbuf *err);
/* ctl_hold_drop - release h's range lock (nothing when none is held) */
void ctl_hold_drop(int fd, size_t rcpt_off, ctl_hold *h);
/* ctl_set_tag - patch only the tag byte at off+1 (e.g. 'd' line ' ' -> '+') */
int ctl_set_tag(int fd, size_t off, char expected, char newtag);

typedef struct ctl_diagv {
	long rcpt_off, hdr_off, dsn_off;
	long long when;
	const char *notary;  /* \001-separated, no TAB/NL */
	const char *text;    /* NL mapped to CR, TAB to space */
} ctl_diagv;
/* ctl_append_diag - one write(2) of "d <r>:<h>:<n>::<t>\t<notary>\t<text>\n"
 * at end of file, then fsync; on failure truncate back and return Z_EIO. */
int ctl_append_diag(int fd, const ctl_diagv *d, zbuf *err);

#endif
