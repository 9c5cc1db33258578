/*
 * sconf_int.h - what the scheduler.conf modules share (users include
 * sconf.h only).
 *
 * sconf.c         tokenizer and clause structure: sconf_parse, _load
 * sconf_kw.c      one "keyword=value" or "PARAMname value": checks and
 *                 stores it
 * sconf_clause.c  clause bodies: overlay, built-in defaults, freeing
 * sconf_match.c   selector matching and agent command expansion
 * sconf_dump.c    the effective configuration as text (-C)
 */
#ifndef ZMTA_SCHED_SCONF_INT_H
#define ZMTA_SCHED_SCONF_INT_H
#include "sconf.h"
#include "zbuf.h"

#define SK_BIT(k) (1ul << (k))

/* parser state */
typedef struct sp {
	const char *name;
	zcur c;                   /* the text (lib/zbuf.h cursor) */
	int line;
	zbuf *err;
	sconf *cfg;
	sconf_clause *own;        /* settings of the clause being read */
	sconf_clause *cur;        /* its slot in cfg->clauses, NULL = defaults clause */
	int in_clause;            /* a selector was seen */
	int cur_is_defaults;
	sconf_clause *defaults;   /* raw (not finalized) defaults */
	sconf_clause **pending;   /* empty clauses waiting for a body */
	size_t npending;
	size_t cap;               /* allocated slots in cfg->clauses */
} sp;

/* sconf.c */
/* sconf_err - record "name:line: reason" once; returns code */
int sconf_err(sp *s, int line, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* sconf_kw.c */
/* sconf_keyword - apply one keyword (value may be NULL) to s->own */
int sconf_keyword(sp *s, int line, const char *kw, const char *v);
/* sconf_param - apply "PARAMname = value" */
int sconf_param(sp *s, int line, const char *name, const char *v);

/* sconf_clause.c */
/* sconf_clause_new - zeroed clause */
sconf_clause *sconf_clause_new(void);
/* sconf_clause_free - release one clause */
void sconf_clause_free(sconf_clause *c);
/* sconf_overlay - copy every setting of src whose bit is in src->setmask into dst */
int sconf_overlay(sconf_clause *dst, const sconf_clause *src);
/* sconf_finalize - apply the built-in defaults to unset values */
void sconf_finalize(sconf_clause *c);
/* sconf_set_str - replace an owned string */
int sconf_set_str(char **dst, const char *src);
/* sconf_clear_command - drop the command and its word vectors */
void sconf_clear_command(sconf_clause *c);
/* sconf_vec_free - free a NULL-terminated string vector */
void sconf_vec_free(char **v);

#endif
