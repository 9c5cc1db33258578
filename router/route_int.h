/*
 * route_int.h - librouter's internals shared by its two modules: the table
 * parser (route.c) and the resolver (route_resolve.c).  Not installed, not
 * for programs: they use route.h.
 */
#ifndef ZMTA_ROUTE_INT_H
#define ZMTA_ROUTE_INT_H

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maddr.h"
#include "mhost.h"
#include "route.h"
#include "zbuf.h"
#include "zutil.h"

typedef struct rt_entry {
	char *key;          /* lower case */
	char *val;
	const char *file;   /* points into c->files */
	unsigned line;
	uid_t owner;        /* aliases: file owner */
} rt_entry;

typedef struct rt_table {
	rt_entry *v;
	size_t n, cap;
	int sorted;
} rt_table;

typedef struct rt_file {
	char *path;
	struct stat st;
	int exists;
} rt_file;

struct rt_config {
	char myhostname[256];
	char mydomain[256];
	char **locals; size_t nlocals;
	rt_table aliases, virt, routes;
	char **vdomains; size_t nvdomains;
	char smarthost[300];
	char subsep;                 /* 0: no sub-addressing */
	char defpriv_user[64];
	uid_t defpriv_uid;
	unsigned long hop_limit;
	char forward[64];            /* "" : .forward files are not read */
	rt_file *files; size_t nfiles;
	int depth;                   /* include nesting while loading */
	int noload;                  /* fuzzing: name files, never read them */
	rt_userdb_fn userdb;
};

/* rt_lower - ASCII lower case in place */
void rt_lower(char *s);
/* rt_table_get - entry for key (lower case expected) or NULL */
const rt_entry *rt_table_get(const rt_table *t, const char *key);
/* rt_target_next - next comma-separated target of an alias value */
int rt_target_next(const char *v, size_t n, size_t *pos, const char **t, size_t *tn);
/* rt_unquote_target - drop outer quotes and backslash escapes into out */
int rt_unquote_target(const char *t, size_t n, char *out, size_t outsz);

#endif
