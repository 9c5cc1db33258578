/*
 * smconf.h - sm.conf, the mailer table of the sm transport agent, and the
 * argv macro expansion ($u $h $g $f $$ ${NAME}).  No I/O: the agent reads
 * the file, this module parses bytes (sm.conf(5)).
 */
#ifndef ZMTA_SMCONF_H
#define ZMTA_SMCONF_H

#include <stddef.h>
#include "zbuf.h"

#define SMCONF_ARGV_MAX 64       /* words of one argv (argv[0] included) */
#define SMCONF_LINE_MAX 4096     /* bytes of one line */
#define SMCONF_NAME_MAX 63       /* mailer name */
#define SMCONF_MAX_SIZE (1024u * 1024u)
#define SMCONF_MAILERS_MAX 1024

/* flag bits (sm.conf(5) FLAGS) */
enum {
	SMF_7 = 1u << 0,   /* '7' strip the 8th bit of the body */
	SMF_8 = 1u << 1,   /* '8' 8-bit clean (no conversion; the default) */
	SMF_E = 1u << 2,   /* 'E' ">From " escaping of body lines */
	SMF_e = 1u << 3,   /* 'e' Envelope-Id:, X-Envelope-To:, Original-Recipient: */
	SMF_f = 1u << 4,   /* 'f' "-f sender" after argv[0] */
	SMF_r = 1u << 5,   /* 'r' "-r sender" after argv[0] */
	SMF_m = 1u << 6,   /* 'm' all recipients in one run ($u word repeated) */
	SMF_n = 1u << 7,   /* 'n' no "From " line */
	SMF_O = 1u << 8,   /* 'O' Original-Recipient: header */
	SMF_P = 1u << 9,   /* 'P' Return-Path: header */
	SMF_R = 1u << 10,  /* 'R' CRLF line ends */
	SMF_X = 1u << 11   /* 'X' SMTP dot stuffing */
};

typedef struct sm_mailer {
	char name[SMCONF_NAME_MAX + 1];
	unsigned flags;
	char *program;             /* as written (may hold ${NAME}) */
	char *argv[SMCONF_ARGV_MAX + 1];  /* NULL-terminated, as written */
	size_t argc;
	int has_u;                 /* some argv word contains $u */
	int lineno;
} sm_mailer;

typedef struct sm_conf {
	sm_mailer *m;
	size_t n;
} sm_conf;

/* smconf_parse - parse a whole sm.conf; name is used in messages.  Z_OK,
 * or Z_EPARSE/Z_ETOOBIG with "name:line: reason" in err.  out is zeroed
 * first; release it with smconf_free() in both cases. */
int smconf_parse(const char *name, const char *data, size_t len, sm_conf *out, zbuf *err);
/* smconf_find - the mailer called name, or NULL */
const sm_mailer *smconf_find(const sm_conf *c, const char *name);
/* smconf_free - release everything */
void smconf_free(sm_conf *c);
/* smconf_flag_bit - bit of a flag letter; 0 for unknown, -1 for a
 * ZMailer flag this implementation refuses */
long smconf_flag_bit(int c);
/* smconf_flags_format - the flag letters of bits into buf ("-" for none) */
int smconf_flags_format(unsigned flags, char *buf, size_t bufsz);

typedef struct sm_vars {
	const char *u, *h, *g;     /* recipient, host, sender ($f is $g) */
	const char *(*zenv)(const char *name);  /* ${NAME}; NULL: "" */
} sm_vars;

/* smconf_expand - word with macros replaced into out (appended).  A '$'
 * not followed by u h g f $ or {NAME} is Z_EPARSE. */
int smconf_expand(const char *word, const sm_vars *v, zbuf *out);

#endif
