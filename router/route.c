/*
 * NAME
 *	route - librouter: router.conf, aliases, virtual and route tables,
 *	and address resolution to (channel, host, user, privilege) quads
 * SUMMARY
 *	Declarative routing data parsed at load; rt_resolve walks it.
 * SYNOPSIS
 *	rt_config *rt_new(void);
 *	void rt_free(rt_config *c);
 *	int rt_load(const char *path, rt_config **out, zbuf *err);
 *	int rt_parse_conf(rt_config *c, const char *name, const char *dir,
 *		const char *data, size_t len, zbuf *err);
 *	int rt_parse_aliases(rt_config *c, const char *name, const char *data,
 *		size_t len, uid_t owner, zbuf *err);
 *	int rt_parse_map(rt_config *c, int which, const char *name,
 *		const char *data, size_t len, zbuf *err);
 *	int rt_finish(rt_config *c, zbuf *err);
 *	int rt_changed(const rt_config *c);
 *	int rt_report(const rt_config *c, zbuf *out);
 *	int rt_resolve(const rt_config *c, const char *addr, rt_result *res,
 *		zbuf *err);
 *	void rt_result_free(rt_result *r);
 * DESCRIPTION
 *	router.conf(5): "keyword value..." lines, '#' comments, "include
 *	path".  Tables: aliases(5) files, virtual maps ("address targets")
 *	and routes ("pattern channel!host").  Every table is kept as a sorted
 *	array of lower-cased keys; lookups are binary searches.
 *
 *	rt_resolve: an address whose domain is ours (myhostname, localhost,
 *	localdomain entries, or a route to channel local) goes through the
 *	aliases (whole local part, then without the +tag), then the user
 *	database; postmaster falls back to root.  A virtual domain goes
 *	through its map (address, address without the tag, @domain).  Other
 *	domains take the longest matching route (domain, .parent..., "."),
 *	else the smarthost, else channel smtp with the domain as host.
 *	Alias expansion: :include: files, "|program" and "/file" targets
 *	(privilege = the table file's owner, root-owned files give
 *	default_privilege), "\user" (no further aliasing), owner-<list> as
 *	the envelope sender of the list's members, a self reference means
 *	the user itself, any other cycle is an error (5.4.6), duplicates are
 *	suppressed.  Unknown local users give channel error, status 5.1.1.
 *	A local user (not "\user", not inside its own file) with a forward
 *	file (router.conf "forward", default .forward in the home directory)
 *	gets its targets instead, with the user's uid as the privilege of
 *	its "|program" and "/file" targets; "\user" or the user itself in
 *	the file keeps a copy in the mailbox.  The file is used only when it
 *	is a regular file (not a symbolic link), owned by the user or root,
 *	not group or world writable and at most 64 KiB; an empty, absent,
 *	unreadable or unsafe file means plain delivery, an I/O error a hold
 *	quad (IO:forward).
 * DIAGNOSTICS
 *	Parse errors read "file:line: reason".  Resolution problems become
 *	error quads with an RFC 3463 status, not failures of the call.
 * SECURITY
 *	Table files are trusted configuration, but their text is bounded
 *	(RT_FILE_MAX, RT_LINE_MAX) and parsed without recursion beyond
 *	RT_INCLUDE_DEPTH.  Addresses come from outside: bounded, nesting
 *	bounded by RT_MAX_DEPTH, results by RT_MAX_RESULTS.  "|program"
 *	and "/file" are accepted only from alias, :include: and forward
 *	files, never from an envelope address or a virtual map, and never
 *	get uid 0 (a root-owned forward file of a user runs as that user;
 *	root's own runs as default_privilege).  Forward files are opened
 *	with O_NOFOLLOW|O_NONBLOCK and checked on the open descriptor.
 * BUGS
 *	:include: and forward files are read at each resolution (as sendmail
 *	does), not watched for changes.  The router runs as ZMTA_USER: a
 *	home directory it cannot search hides the forward file (the mail
 *	goes to the mailbox).  Tests that replace the user database
 *	(rt_set_userdb) get no forward files.
 * SEE ALSO
 *	router.conf(5), aliases(5), router(8)
 */
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

/* lower - ASCII lower case in place */
static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* sdup - strdup of n bytes */
static char *sdup(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

/* rt_new - empty configuration */
rt_config *rt_new(void)
{
	rt_config *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	if (gethostname(c->myhostname, sizeof(c->myhostname) - 1) != 0 || c->myhostname[0] == '\0')
		zstrlcpy(c->myhostname, "localhost", sizeof(c->myhostname));
	lower(c->myhostname);
	c->subsep = '+';
	zstrlcpy(c->defpriv_user, "nobody", sizeof(c->defpriv_user));
	c->defpriv_uid = 65534;
	c->hop_limit = 50;
	zstrlcpy(c->forward, ".forward", sizeof(c->forward));
	return c;
}

/* table_free - release a table */
static void table_free(rt_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].key);
		free(t->v[i].val);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* rt_free - release everything */
void rt_free(rt_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nlocals; i++)
		free(c->locals[i]);
	free(c->locals);
	for (size_t i = 0; i < c->nvdomains; i++)
		free(c->vdomains[i]);
	free(c->vdomains);
	table_free(&c->aliases);
	table_free(&c->virt);
	table_free(&c->routes);
	for (size_t i = 0; i < c->nfiles; i++)
		free(c->files[i].path);
	free(c->files);
	free(c);
}

/* note_file - remember a file for rt_changed; returns its stored name */
static const char *note_file(rt_config *c, const char *path)
{
	for (size_t i = 0; i < c->nfiles; i++)
		if (strcmp(c->files[i].path, path) == 0)
			return c->files[i].path;
	rt_file *nf = realloc(c->files, (c->nfiles + 1) * sizeof(*nf));
	if (nf == NULL)
		return "?";
	c->files = nf;
	rt_file *f = &c->files[c->nfiles];
	memset(f, 0, sizeof(*f));
	f->path = sdup(path, strlen(path));
	if (f->path == NULL)
		return "?";
	f->exists = stat(path, &f->st) == 0;
	c->nfiles++;
	return f->path;
}

/* rt_changed - any remembered file changed (mtime, size, inode) or vanished */
int rt_changed(const rt_config *c)
{
	for (size_t i = 0; i < c->nfiles; i++) {
		struct stat st;
		const rt_file *f = &c->files[i];
		int ex = stat(f->path, &st) == 0;
		if (ex != f->exists)
			return 1;
		if (ex && (st.st_ino != f->st.st_ino || st.st_dev != f->st.st_dev ||
			   st.st_size != f->st.st_size ||
			   st.st_mtim.tv_sec != f->st.st_mtim.tv_sec ||
			   st.st_mtim.tv_nsec != f->st.st_mtim.tv_nsec))
			return 1;
	}
	return 0;
}

/* table_add - append key (lower-cased) and value */
static int table_add(rt_table *t, const char *key, size_t kn, const char *val, size_t vn,
		     const char *file, unsigned line, uid_t owner)
{
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		rt_entry *nv = realloc(t->v, nc * sizeof(*nv));
		if (nv == NULL)
			return Z_ENOMEM;
		t->v = nv;
		t->cap = nc;
	}
	rt_entry *e = &t->v[t->n];
	e->key = sdup(key, kn);
	e->val = sdup(val, vn);
	if (e->key == NULL || e->val == NULL) {
		free(e->key);
		free(e->val);
		return Z_ENOMEM;
	}
	lower(e->key);
	e->file = file;
	e->line = line;
	e->owner = owner;
	t->n++;
	t->sorted = 0;
	return Z_OK;
}

/* key_cmp - bsearch on keys */
static int key_cmp(const void *a, const void *b)
{
	return strcmp(((const rt_entry *)a)->key, ((const rt_entry *)b)->key);
}

/* ent_cmp - qsort on keys, stable by line for duplicates */
static int ent_cmp(const void *a, const void *b)
{
	const rt_entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c == 0 && x->line != y->line)   /* duplicates: report the later line */
		c = x->line < y->line ? -1 : 1;
	return c;
}

/* table_sort - sort and refuse duplicate keys (named by file:line) */
static int table_sort(rt_table *t, const char *what, zbuf *err)
{
	if (t->n > 1)
		qsort(t->v, t->n, sizeof(*t->v), ent_cmp);
	for (size_t i = 1; i < t->n; i++)
		if (strcmp(t->v[i - 1].key, t->v[i].key) == 0) {
			zbuf_printf(err, "%s:%u: duplicate %s \"%s\" (also %s:%u)", t->v[i].file,
				    t->v[i].line, what, t->v[i].key, t->v[i - 1].file, t->v[i - 1].line);
			return Z_EPARSE;
		}
	t->sorted = 1;
	return Z_OK;
}

/* table_get - entry for key (lower case expected) or NULL */
static const rt_entry *table_get(const rt_table *t, const char *key)
{
	rt_entry k;
	if (t->n == 0)
		return NULL;
	k.key = (char *)key;
	return bsearch(&k, t->v, t->n, sizeof(*t->v), key_cmp);
}

/* lines - iterate logical lines: returns 1 with the line in it->buf and its
 * number in it->lineno; continuation lines (leading blank) are joined when
 * cont is set.  *pos advances. */
struct liter {
	const char *d;
	size_t n, pos;
	unsigned lineno, next;
	zbuf buf;
};

/* line_next - next non-empty, non-comment logical line into it->buf */
static int line_next(struct liter *it, int cont, zbuf *err, const char *name)
{
	zbuf_reset(&it->buf);
	for (;;) {
		if (it->pos >= it->n) {
			return it->buf.len ? 1 : 0;
		}
		size_t s = it->pos, e = s;
		while (e < it->n && it->d[e] != '\n')
			e++;
		size_t ln = e - s;
		const char *l = it->d + s;
		if (ln && l[ln - 1] == '\r')
			ln--;
		int blank_start = ln && (l[0] == ' ' || l[0] == '\t');
		int comment = ln && l[0] == '#';
		size_t k = 0;
		while (k < ln && (l[k] == ' ' || l[k] == '\t'))
			k++;
		int empty = k == ln;
		if (it->buf.len) {
			/* have a line: a continuation joins, anything else ends it */
			if (cont && blank_start && !empty) {
				it->pos = e < it->n ? e + 1 : e;
				it->next++;
				if (zbuf_putc(&it->buf, ' ') != Z_OK ||
				    zbuf_append(&it->buf, l + k, ln - k) != Z_OK) {
					zbuf_printf(err, "%s:%u: line too long", name, it->lineno);
					return -1;
				}
				continue;
			}
			if (cont && comment) {   /* comments inside a continued entry */
				it->pos = e < it->n ? e + 1 : e;
				it->next++;
				continue;
			}
			return 1;
		}
		it->pos = e < it->n ? e + 1 : e;
		it->next++;
		if (empty || comment || (k < ln && l[k] == '#'))
			continue;
		if (memchr(l, '\0', ln) != NULL) {
			zbuf_printf(err, "%s:%u: NUL byte", name, it->next);
			return -1;
		}
		if (cont && blank_start) {
			zbuf_printf(err, "%s:%u: continuation line without an entry", name, it->next);
			return -1;
		}
		it->lineno = it->next;
		if (zbuf_append(&it->buf, l + k, ln - k) != Z_OK) {
			zbuf_printf(err, "%s:%u: line too long", name, it->lineno);
			return -1;
		}
	}
}

/* split_kv - "key<blanks>value" of a C string; value trimmed (may be "") */
static void split_kv(char *line, char **key, char **val)
{
	char *p = line;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	char *v = p;
	if (*p)
		*p = '\0', v = p + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		v[--n] = '\0';
	*key = line;
	*val = v;
}

/* domain_ok - a domain name we accept in tables */
static int domain_ok(const char *d)
{
	return *d && mhost_valid(d);
}

/* route_dest_ok - "channel", "channel!", "channel!host" syntax */
static int route_dest_ok(const char *v, zbuf *why)
{
	const char *bang = strchr(v, '!');
	size_t cn = bang ? (size_t)(bang - v) : strlen(v);
	if (cn == 0 || cn >= 32) {
		zbuf_puts(why, "channel name missing or too long");
		return 0;
	}
	for (size_t i = 0; i < cn; i++)
		if (!(isalnum((unsigned char)v[i]) || v[i] == '-' || v[i] == '_')) {
			zbuf_puts(why, "bad character in channel name");
			return 0;
		}
	if (bang && bang[1]) {
		const char *h = bang + 1;
		if (cn == 5 && strncmp(v, "error", 5) == 0) {
			for (const char *p = h; *p; p++)
				if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_')) {
					zbuf_puts(why, "bad error form name");
					return 0;
				}
			return 1;
		}
		if (!mhost_valid(h) || strlen(h) >= 300) {
			zbuf_printf(why, "bad next hop \"%s\"", h);
			return 0;
		}
	}
	return 1;
}

/* full_path - name relative to dir (when not absolute) */
static int full_path(const char *dir, const char *name, char *out, size_t outsz)
{
	int n;
	if (name[0] == '/' || dir == NULL || *dir == '\0')
		n = snprintf(out, outsz, "%s", name);
	else
		n = snprintf(out, outsz, "%s/%s", dir, name);
	return (n < 0 || (size_t)n >= outsz) ? Z_ETOOBIG : Z_OK;
}

/* dir_of - directory part of path into out ("." if none) */
static void dir_of(const char *path, char *out, size_t outsz)
{
	const char *s = strrchr(path, '/');
	if (s == NULL)
		zstrlcpy(out, ".", outsz);
	else if (s == path)
		zstrlcpy(out, "/", outsz);
	else {
		size_t n = (size_t)(s - path);
		if (n >= outsz)
			n = outsz - 1;
		memcpy(out, path, n);
		out[n] = '\0';
	}
}

/* load_file - read and parse one file of the given kind:
 * 'c' router.conf, 'a' aliases, 'v' virtual, 'r' routes */
static int load_file(rt_config *c, int kind, const char *path, const char *from, unsigned fline,
		     zbuf *err)
{
	zbuf data = ZBUF_INIT(RT_FILE_MAX);
	zbuf why = ZBUF_INIT(512);
	struct stat st;
	int rc;
	const char *name = note_file(c, path);

	if (c->noload) {
		rc = Z_OK;
		goto out;
	}
	if (c->depth >= RT_INCLUDE_DEPTH) {
		zbuf_printf(err, "%s:%u: includes nested too deep", from ? from : path, fline);
		rc = Z_EPARSE;
		goto out;
	}
	if (stat(path, &st) != 0 || zread_file(path, RT_FILE_MAX, &data, &why) != Z_OK) {
		if (from)
			zbuf_printf(err, "%s:%u: cannot read %s: %s", from, fline, path,
				    why.len ? zbuf_cstr(&why) : strerror(errno));
		else
			zbuf_printf(err, "%s: %s", path, why.len ? zbuf_cstr(&why) : strerror(errno));
		rc = Z_EIO;
		goto out;
	}
	c->depth++;
	if (kind == 'c') {
		char dir[4096];
		dir_of(path, dir, sizeof(dir));
		rc = rt_parse_conf(c, name, dir, data.data ? data.data : "", data.len, err);
	} else if (kind == 'a') {
		rc = rt_parse_aliases(c, name, data.data ? data.data : "", data.len, st.st_uid, err);
	} else {
		rc = rt_parse_map(c, kind, name, data.data ? data.data : "", data.len, err);
	}
	c->depth--;
out:
	zbuf_free(&data);
	zbuf_free(&why);
	return rc;
}

/* add_local - one more local domain */
static int add_local(rt_config *c, const char *d)
{
	char **nl = realloc(c->locals, (c->nlocals + 1) * sizeof(*nl));
	if (nl == NULL)
		return Z_ENOMEM;
	c->locals = nl;
	if ((c->locals[c->nlocals] = sdup(d, strlen(d))) == NULL)
		return Z_ENOMEM;
	lower(c->locals[c->nlocals++]);
	return Z_OK;
}

/* rt_parse_conf - router.conf text */
int rt_parse_conf(rt_config *c, const char *name, const char *dir, const char *data, size_t len,
		  zbuf *err)
{
	struct liter it = { data, len, 0, 0, 0, ZBUF_INIT(RT_LINE_MAX) };
	int rc = Z_OK, r;
	char path[4096];

	while ((r = line_next(&it, 0, err, name)) == 1) {
		char *key, *val;
		unsigned ln = it.lineno;
		split_kv(it.buf.data, &key, &val);
		if (*val == '\0') {
			zbuf_printf(err, "%s:%u: \"%s\" needs a value", name, ln, key);
			rc = Z_EPARSE;
			goto out;
		}
		if (strcmp(key, "include") == 0 || strcmp(key, "aliases") == 0 ||
		    strcmp(key, "virtual") == 0 || strcmp(key, "routes") == 0) {
			if (full_path(dir, val, path, sizeof(path)) != Z_OK) {
				zbuf_printf(err, "%s:%u: path too long", name, ln);
				rc = Z_EPARSE;
				goto out;
			}
			int kind = key[0] == 'i' ? 'c' : key[0];
			if ((rc = load_file(c, kind, path, name, ln, err)) != Z_OK)
				goto out;
		} else if (strcmp(key, "myhostname") == 0 || strcmp(key, "mydomain") == 0) {
			if (!domain_ok(val) || strlen(val) >= 256) {
				zbuf_printf(err, "%s:%u: %s: \"%s\" is not a domain name", name, ln, key, val);
				rc = Z_EPARSE;
				goto out;
			}
			char *dst = key[2] == 'h' ? c->myhostname : c->mydomain;
			zstrlcpy(dst, val, 256);
			lower(dst);
		} else if (strcmp(key, "localdomains") == 0 || strcmp(key, "localdomain") == 0) {
			char *p = val;
			while (*p) {
				char *e = p;
				while (*e && *e != ' ' && *e != '\t' && *e != ',')
					e++;
				char save = *e;
				*e = '\0';
				if (*p) {
					if (!domain_ok(p)) {
						zbuf_printf(err, "%s:%u: \"%s\" is not a domain name", name, ln, p);
						rc = Z_EPARSE;
						goto out;
					}
					if ((rc = add_local(c, p)) != Z_OK)
						goto nomem;
				}
				*e = save;
				p = *e ? e + 1 : e;
			}
		} else if (strcmp(key, "route") == 0) {
			char *pat, *dest;
			split_kv(val, &pat, &dest);
			zbuf why = ZBUF_INIT(256);
			if (*dest == '\0' || !route_dest_ok(dest, &why)) {
				zbuf_printf(err, "%s:%u: route %s: %s", name, ln, pat,
					    why.len ? zbuf_cstr(&why) : "needs a destination");
				zbuf_free(&why);
				rc = Z_EPARSE;
				goto out;
			}
			zbuf_free(&why);
			if ((rc = table_add(&c->routes, pat, strlen(pat), dest, strlen(dest), name, ln, 0)) != Z_OK)
				goto nomem;
		} else if (strcmp(key, "smarthost") == 0) {
			zbuf why = ZBUF_INIT(256);
			char dest[300];
			int n = strchr(val, '!') ? snprintf(dest, sizeof(dest), "%s", val)
						 : snprintf(dest, sizeof(dest), "smtp!%s", val);
			if (n < 0 || (size_t)n >= sizeof(dest) || !route_dest_ok(dest, &why)) {
				zbuf_printf(err, "%s:%u: smarthost: %s", name, ln,
					    why.len ? zbuf_cstr(&why) : "too long");
				zbuf_free(&why);
				rc = Z_EPARSE;
				goto out;
			}
			zbuf_free(&why);
			zstrlcpy(c->smarthost, dest, sizeof(c->smarthost));
		} else if (strcmp(key, "subaddress") == 0) {
			if (strcmp(val, "none") == 0)
				c->subsep = 0;
			else if (strlen(val) == 1 && strchr("+-=_", val[0]))
				c->subsep = val[0];
			else {
				zbuf_printf(err, "%s:%u: subaddress: one of + - = _ or \"none\"", name, ln);
				rc = Z_EPARSE;
				goto out;
			}
		} else if (strcmp(key, "default_privilege") == 0) {
			struct passwd *pw = getpwnam(val);
			unsigned long u;
			if (pw != NULL) {
				c->defpriv_uid = pw->pw_uid;
				zstrlcpy(c->defpriv_user, pw->pw_name, sizeof(c->defpriv_user));
			} else if (zparse_ulong(val, 0x7fffffffUL, &u) == Z_OK && u != 0) {
				c->defpriv_uid = (uid_t)u;
				zstrlcpy(c->defpriv_user, val, sizeof(c->defpriv_user));
			} else {
				zbuf_printf(err, "%s:%u: default_privilege: unknown user \"%s\"", name, ln, val);
				rc = Z_EPARSE;
				goto out;
			}
			if (c->defpriv_uid == 0) {
				zbuf_printf(err, "%s:%u: default_privilege must not be root", name, ln);
				rc = Z_EPARSE;
				goto out;
			}
		} else if (strcmp(key, "forward") == 0) {
			if (strcmp(val, "none") == 0)
				c->forward[0] = '\0';
			else if (strchr(val, '/') != NULL || val[0] == '\0' || strcmp(val, "..") == 0 ||
				 zstrlcpy(c->forward, val, sizeof(c->forward)) != Z_OK) {
				zbuf_printf(err, "%s:%u: forward: a file name in the home directory (no '/') or \"none\"",
					    name, ln);
				rc = Z_EPARSE;
				goto out;
			}
		} else if (strcmp(key, "hop_limit") == 0) {
			if (zparse_ulong(val, 1000, &c->hop_limit) != Z_OK || c->hop_limit == 0) {
				zbuf_printf(err, "%s:%u: hop_limit: a number 1..1000", name, ln);
				rc = Z_EPARSE;
				goto out;
			}
		} else {
			zbuf_printf(err, "%s:%u: unknown keyword \"%s\"", name, ln, key);
			rc = Z_EPARSE;
			goto out;
		}
	}
	if (r < 0)
		rc = Z_EPARSE;
	goto out;
nomem:
	zbuf_printf(err, "%s: out of memory", name);
	rc = Z_ENOMEM;
out:
	zbuf_free(&it.buf);
	return rc;
}

/* target_next - next comma-separated target of an alias value (quotes
 * respected); *t and *tn get it trimmed; returns 0 at the end */
static int target_next(const char *v, size_t n, size_t *pos, const char **t, size_t *tn)
{
	size_t i = *pos;
	while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
		i++;
	if (i >= n) {
		*pos = i;
		return 0;
	}
	size_t s = i;
	int q = 0;
	for (; i < n; i++) {
		if (q && v[i] == '\\' && i + 1 < n) {
			i++;
			continue;
		}
		if (v[i] == '"')
			q = !q;
		else if (!q && v[i] == ',')
			break;
	}
	size_t e = i;
	while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
		e--;
	*t = v + s;
	*tn = e - s;
	*pos = i;
	return 1;
}

/* unquote_target - drop outer quotes and backslash escapes into out */
static int unquote_target(const char *t, size_t n, char *out, size_t outsz)
{
	size_t o = 0;
	if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
		for (size_t i = 1; i + 1 < n; i++) {
			if (t[i] == '\\' && i + 2 < n)
				i++;
			if (o + 1 >= outsz)
				return Z_ETOOBIG;
			out[o++] = t[i];
		}
	} else {
		if (n >= outsz)
			return Z_ETOOBIG;
		memcpy(out, t, n);
		o = n;
	}
	out[o] = '\0';
	return Z_OK;
}

/* target_check - syntax of one alias target (unquoted) */
static int target_check(const char *t, zbuf *why)
{
	if (*t == '\0') {
		zbuf_puts(why, "empty target");
		return 0;
	}
	if (strncmp(t, ":include:", 9) == 0) {
		if (t[9] != '/') {
			zbuf_puts(why, ":include: needs an absolute path");
			return 0;
		}
		return 1;
	}
	if (t[0] == '|') {
		if (t[1] == '\0') {
			zbuf_puts(why, "empty program");
			return 0;
		}
		return 1;
	}
	if (t[0] == '/')
		return 1;
	if (t[0] == '\\')
		t++;
	const char *at = strrchr(t, '@');
	if (at == NULL) {
		for (const char *p = t; *p; p++)
			if ((unsigned char)*p <= ' ' || strchr("<>()[]:;@\\,\"", *p)) {
				zbuf_printf(why, "bad local name \"%s\"", t);
				return 0;
			}
		return strlen(t) <= MADDR_LOCAL_MAX ? 1 : (zbuf_puts(why, "local name too long"), 0);
	}
	maddr a;
	zbuf e2 = ZBUF_INIT(256);
	const char *s = t;
	size_t n = strlen(t);
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
		s++, n -= 2;
	int ok = maddr_parse_addr(s, n, MADDR_UTF8, &a, &e2) == Z_OK;
	if (!ok)
		zbuf_printf(why, "bad address \"%s\": %s", t, zbuf_cstr(&e2));
	zbuf_free(&e2);
	return ok;
}

/* rt_parse_aliases - aliases(5) */
int rt_parse_aliases(rt_config *c, const char *name, const char *data, size_t len, uid_t owner,
		     zbuf *err)
{
	struct liter it = { data, len, 0, 0, 0, ZBUF_INIT(RT_FILE_MAX) };
	int rc = Z_OK, r;
	zbuf why = ZBUF_INIT(512);
	char tgt[RT_LINE_MAX];

	while ((r = line_next(&it, 1, err, name)) == 1) {
		char *l = it.buf.data;
		unsigned ln = it.lineno;
		char *colon = strchr(l, ':');
		if (colon == NULL) {
			zbuf_printf(err, "%s:%u: missing ':' after the alias name", name, ln);
			rc = Z_EPARSE;
			goto out;
		}
		size_t kn = (size_t)(colon - l);
		while (kn && (l[kn - 1] == ' ' || l[kn - 1] == '\t'))
			kn--;
		if (kn == 0 || kn > MADDR_LOCAL_MAX) {
			zbuf_printf(err, "%s:%u: empty or over-long alias name", name, ln);
			rc = Z_EPARSE;
			goto out;
		}
		for (size_t i = 0; i < kn; i++)
			if ((unsigned char)l[i] <= ' ' || strchr("<>()[];@\\,\"|/", l[i])) {
				zbuf_printf(err, "%s:%u: bad character in alias name", name, ln);
				rc = Z_EPARSE;
				goto out;
			}
		const char *v = colon + 1;
		size_t vn = strlen(v), pos = 0, tn;
		const char *t;
		int count = 0;
		while (target_next(v, vn, &pos, &t, &tn)) {
			zbuf_reset(&why);
			if (unquote_target(t, tn, tgt, sizeof(tgt)) != Z_OK) {
				zbuf_printf(err, "%s:%u: target too long", name, ln);
				rc = Z_EPARSE;
				goto out;
			}
			if (!target_check(tgt, &why)) {
				zbuf_printf(err, "%s:%u: %s", name, ln, zbuf_cstr(&why));
				rc = Z_EPARSE;
				goto out;
			}
			count++;
		}
		if (count == 0) {
			zbuf_printf(err, "%s:%u: alias \"%.*s\" has no targets", name, ln, (int)kn, l);
			rc = Z_EPARSE;
			goto out;
		}
		while (*v == ' ' || *v == '\t')
			v++;
		if ((rc = table_add(&c->aliases, l, kn, v, strlen(v), name, ln, owner)) != Z_OK) {
			zbuf_printf(err, "%s: out of memory", name);
			goto out;
		}
	}
	if (r < 0)
		rc = Z_EPARSE;
out:
	zbuf_free(&it.buf);
	zbuf_free(&why);
	return rc;
}

/* add_vdomain - remember the domain of a virtual key */
static int add_vdomain(rt_config *c, const char *d)
{
	for (size_t i = 0; i < c->nvdomains; i++)
		if (strcmp(c->vdomains[i], d) == 0)
			return Z_OK;
	char **nv = realloc(c->vdomains, (c->nvdomains + 1) * sizeof(*nv));
	if (nv == NULL)
		return Z_ENOMEM;
	c->vdomains = nv;
	if ((c->vdomains[c->nvdomains] = sdup(d, strlen(d))) == NULL)
		return Z_ENOMEM;
	c->nvdomains++;
	return Z_OK;
}

/* rt_parse_map - "key value" tables: virtual ('v') or routes ('r') */
int rt_parse_map(rt_config *c, int which, const char *name, const char *data, size_t len,
		 zbuf *err)
{
	struct liter it = { data, len, 0, 0, 0, ZBUF_INIT(RT_LINE_MAX) };
	int rc = Z_OK, r;
	zbuf why = ZBUF_INIT(512);
	char path[4096], dir[4096], tgt[RT_LINE_MAX];

	while ((r = line_next(&it, which == 'v', err, name)) == 1) {
		char *key, *val;
		unsigned ln = it.lineno;
		split_kv(it.buf.data, &key, &val);
		zbuf_reset(&why);
		if (*val == '\0') {
			zbuf_printf(err, "%s:%u: \"%s\" needs a value", name, ln, key);
			rc = Z_EPARSE;
			goto out;
		}
		if (strcmp(key, "include") == 0) {
			dir_of(name, dir, sizeof(dir));
			if (full_path(dir, val, path, sizeof(path)) != Z_OK) {
				zbuf_printf(err, "%s:%u: path too long", name, ln);
				rc = Z_EPARSE;
				goto out;
			}
			if ((rc = load_file(c, which, path, name, ln, err)) != Z_OK)
				goto out;
			continue;
		}
		if (which == 'r') {
			const char *k = key[0] == '.' ? key + 1 : key;
			if (!(strcmp(key, ".") == 0 || domain_ok(k))) {
				zbuf_printf(err, "%s:%u: \"%s\" is not a domain pattern", name, ln, key);
				rc = Z_EPARSE;
				goto out;
			}
			if (strchr(val, ' ') || strchr(val, '\t') || !route_dest_ok(val, &why)) {
				zbuf_printf(err, "%s:%u: route %s: %s", name, ln, key,
					    why.len ? zbuf_cstr(&why) : "one destination expected");
				rc = Z_EPARSE;
				goto out;
			}
			if ((rc = table_add(&c->routes, key, strlen(key), val, strlen(val), name, ln, 0)) != Z_OK)
				goto nomem;
			continue;
		}
		/* virtual: key is user@domain or @domain */
		char *at = strrchr(key, '@');
		if (at == NULL || !domain_ok(at + 1) || (at != key && !target_check(key, &why))) {
			zbuf_printf(err, "%s:%u: \"%s\" is not user@domain or @domain", name, ln, key);
			rc = Z_EPARSE;
			goto out;
		}
		size_t pos = 0, tn;
		const char *t;
		int count = 0;
		while (target_next(val, strlen(val), &pos, &t, &tn)) {
			zbuf_reset(&why);
			if (unquote_target(t, tn, tgt, sizeof(tgt)) != Z_OK ||
			    tgt[0] == '|' || tgt[0] == '/' || tgt[0] == ':' || !target_check(tgt, &why)) {
				zbuf_printf(err, "%s:%u: %s: bad target%s%s", name, ln, key,
					    why.len ? ": " : " (addresses only)", zbuf_cstr(&why));
				rc = Z_EPARSE;
				goto out;
			}
			count++;
		}
		if (count == 0) {
			zbuf_printf(err, "%s:%u: \"%s\" has no targets", name, ln, key);
			rc = Z_EPARSE;
			goto out;
		}
		char dom[300];
		zstrlcpy(dom, at + 1, sizeof(dom));
		lower(dom);
		if ((rc = add_vdomain(c, dom)) != Z_OK ||
		    (rc = table_add(&c->virt, key, strlen(key), val, strlen(val), name, ln, 0)) != Z_OK)
			goto nomem;
	}
	if (r < 0)
		rc = Z_EPARSE;
	goto out;
nomem:
	zbuf_printf(err, "%s: out of memory", name);
	rc = Z_ENOMEM;
out:
	zbuf_free(&it.buf);
	zbuf_free(&why);
	return rc;
}

/* rt_finish - defaults and sorted tables */
int rt_finish(rt_config *c, zbuf *err)
{
	int rc;
	if (c->mydomain[0] == '\0') {
		const char *dot = strchr(c->myhostname, '.');
		zstrlcpy(c->mydomain, dot && dot[1] ? dot + 1 : c->myhostname, sizeof(c->mydomain));
	}
	if ((rc = table_sort(&c->aliases, "alias", err)) != Z_OK ||
	    (rc = table_sort(&c->virt, "virtual address", err)) != Z_OK ||
	    (rc = table_sort(&c->routes, "route", err)) != Z_OK)
		return rc;
	return Z_OK;
}

/* rt_load - router.conf and everything it names */
int rt_load(const char *path, rt_config **out, zbuf *err)
{
	rt_config *c = rt_new();
	int rc;
	*out = NULL;
	if (c == NULL) {
		zbuf_puts(err, "out of memory");
		return Z_ENOMEM;
	}
	rc = load_file(c, 'c', path, NULL, 0, err);
	if (rc == Z_OK)
		rc = rt_finish(c, err);
	if (rc != Z_OK) {
		rt_free(c);
		return rc;
	}
	*out = c;
	return Z_OK;
}

/* rt_report - table sizes */
int rt_report(const rt_config *c, zbuf *out)
{
	int rc = zbuf_printf(out, "myhostname %s\nmydomain %s\nlocaldomains %zu\n", c->myhostname,
			     c->mydomain, c->nlocals + 2);
	rc |= zbuf_printf(out, "aliases %zu\nvirtual %zu (%zu domains)\nroutes %zu\n", c->aliases.n,
			  c->virt.n, c->nvdomains, c->routes.n);
	rc |= zbuf_printf(out, "smarthost %s\nsubaddress %c\nhop_limit %lu\nforward %s\n",
			  c->smarthost[0] ? c->smarthost : "-", c->subsep ? c->subsep : '-', c->hop_limit,
			  c->forward[0] ? c->forward : "none");
	return rc == Z_OK ? Z_OK : Z_ETOOBIG;
}

const char *rt_myhostname(const rt_config *c) { return c->myhostname; }
const char *rt_mydomain(const rt_config *c) { return c->mydomain; }
unsigned long rt_hop_limit(const rt_config *c) { return c->hop_limit; }
void rt_set_userdb(rt_config *c, rt_userdb_fn fn) { c->userdb = fn; }
void rt_set_noload(rt_config *c, int on) { c->noload = on; }

/* rt_is_local_domain - ours? */
int rt_is_local_domain(const rt_config *c, const char *dom)
{
	if (strcasecmp(dom, c->myhostname) == 0 || strcasecmp(dom, "localhost") == 0)
		return 1;
	for (size_t i = 0; i < c->nlocals; i++)
		if (strcasecmp(dom, c->locals[i]) == 0)
			return 1;
	return 0;
}

/* ---- resolution ---- */

struct rctx {
	const rt_config *c;
	rt_result *res;
	zbuf *err;
	const char *stack[RT_MAX_DEPTH + 2];
	int sp;
	int full;
};

/* add_dest - append a quad unless the same (channel, host, user) is there */
static int add_dest(struct rctx *x, const char *ch, const char *host, const char *user, long priv,
		    const char *sender, const char *status, const char *reason)
{
	rt_result *r = x->res;
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].channel, ch) == 0 && strcmp(r->v[i].host, host) == 0 &&
		    strcmp(r->v[i].user, user) == 0)
			return Z_OK;
	if (r->n >= RT_MAX_RESULTS) {
		x->full = 1;
		return Z_ETOOBIG;
	}
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 4;
		rt_dest *nv = realloc(r->v, nc * sizeof(*nv));
		if (nv == NULL)
			return Z_ENOMEM;
		r->v = nv;
		r->cap = nc;
	}
	rt_dest *d = &r->v[r->n];
	memset(d, 0, sizeof(*d));
	if (zstrlcpy(d->channel, ch, sizeof(d->channel)) != Z_OK ||
	    zstrlcpy(d->host, host, sizeof(d->host)) != Z_OK ||
	    zstrlcpy(d->user, user, sizeof(d->user)) != Z_OK)
		return Z_ETOOBIG;
	d->priv = priv;
	zstrlcpy(d->sender, sender ? sender : "", sizeof(d->sender));
	zstrlcpy(d->status, status ? status : "", sizeof(d->status));
	zstrlcpy(d->reason, reason ? reason : "", sizeof(d->reason));
	r->n++;
	return Z_OK;
}

/* add_error - an error quad for addr */
static int add_error(struct rctx *x, const char *form, const char *addr, const char *status,
		     const char *reason)
{
	return add_dest(x, "error", form, addr, 0, NULL, status, reason);
}

/* user_lookup - 1 and *uid when login exists */
static int user_lookup(const rt_config *c, const char *login, uid_t *uid)
{
	if (c->userdb)
		return c->userdb(login, uid);
	struct passwd *pw = getpwnam(login);
	if (pw == NULL)
		return 0;
	*uid = pw->pw_uid;
	return 1;
}

/* priv_of - privilege uid and its login name for a table owner */
static void priv_of(const rt_config *c, uid_t owner, long *uid, char *name, size_t namesz)
{
	struct passwd *pw = owner != 0 ? getpwuid(owner) : NULL;
	if (owner == 0 || pw == NULL) {
		*uid = (long)(owner != 0 ? owner : c->defpriv_uid);
		if (owner != 0)
			snprintf(name, namesz, "%lu", (unsigned long)owner);
		else
			zstrlcpy(name, c->defpriv_user, namesz);
		return;
	}
	*uid = (long)pw->pw_uid;
	zstrlcpy(name, pw->pw_name, namesz);
	lower(name);
}

static int resolve_rec(struct rctx *x, const char *addr, int depth, const char *sender,
		       int from_table, uid_t owner);

/* expand_list - every target of a value string */
static int expand_list(struct rctx *x, const char *v, int depth, const char *sender, int from_table,
		       uid_t owner)
{
	size_t pos = 0, tn, vn = strlen(v);
	const char *t;
	char tgt[RT_LINE_MAX];
	int rc = Z_OK;
	while (rc == Z_OK && target_next(v, vn, &pos, &t, &tn)) {
		if (unquote_target(t, tn, tgt, sizeof(tgt)) != Z_OK)
			continue;
		rc = resolve_rec(x, tgt, depth + 1, sender, from_table, owner);
	}
	return rc;
}

/* on_stack - 1 when key is being expanded */
static int on_stack(const struct rctx *x, const char *key)
{
	for (int i = 0; i < x->sp; i++)
		if (strcmp(x->stack[i], key) == 0)
			return 1;
	return 0;
}

/* expand_alias - the alias entry e; self-references go to the user */
static int expand_alias(struct rctx *x, const rt_entry *e, int depth, const char *sender)
{
	char owner[400], okey[80];
	const char *snd = sender;
	int n = snprintf(okey, sizeof(okey), "owner-%s", e->key);
	if (n > 0 && (size_t)n < sizeof(okey) && strncmp(e->key, "owner-", 6) != 0 &&
	    table_get(&x->c->aliases, okey) != NULL) {
		n = snprintf(owner, sizeof(owner), "%s@%s", okey, x->c->myhostname);
		if (n > 0 && (size_t)n < sizeof(owner))
			snd = owner;
	}
	if (x->sp >= RT_MAX_DEPTH)
		return add_error(x, "loop", e->key, "5.4.6", "alias expansion nested too deep");
	x->stack[x->sp++] = e->key;
	int rc = expand_list(x, e->val, depth, snd, 1, e->owner);
	x->sp--;
	return rc;
}

/* expand_lines - the targets of an :include: or .forward file: one or
 * more per line, '#' comments; data is NUL-free and gets a NUL appended */
static int expand_lines(struct rctx *x, zbuf *data, int depth, const char *sender, uid_t owner)
{
	int rc = zbuf_putc(data, '\0');
	char *p = data->data;
	while (rc == Z_OK && p && *p) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		char *s = p;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s && *s != '#')
			rc = expand_list(x, s, depth, sender, 1, owner);
		p = nl ? nl + 1 : NULL;
	}
	return rc;
}

#define RT_FORWARD_MAX (64u * 1024u)

/* read_forward - the user's forward file into data: 1 read, 0 none to use
 * (absent, unreadable to us, unsafe: not a regular file, not owned by the
 * user or root, group/world writable), -1 a passing failure (I/O) */
static int read_forward(const rt_config *c, const struct passwd *pw, zbuf *data)
{
	char path[4096];
	struct stat st;
	int n = snprintf(path, sizeof(path), "%s/%s", pw->pw_dir, c->forward);
	if (n <= 0 || (size_t)n >= sizeof(path) || pw->pw_dir[0] != '/')
		return 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return (errno == ENOENT || errno == ENOTDIR || errno == EACCES || errno == ELOOP ||
			errno == EPERM) ? 0 : -1;
	int rc = 0;
	if (fstat(fd, &st) != 0) {
		rc = -1;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (st.st_uid != pw->pw_uid && st.st_uid != 0) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 || st.st_size > (off_t)RT_FORWARD_MAX)
		goto out;
	for (;;) {
		if (zbuf_reserve(data, 4096) != Z_OK) {
			rc = -1;
			goto out;
		}
		ssize_t r = read(fd, data->data + data->len, 4096);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -1;
			goto out;
		}
		if (r == 0)
			break;
		data->len += (size_t)r;
		if (data->len > RT_FORWARD_MAX)
			goto out;
	}
	rc = memchr(data->data ? data->data : "", '\0', data->len) == NULL ? 1 : 0;
out:
	close(fd);
	return rc;
}

/* forward_user - login's forward file, if it has a usable one: *done = 1
 * and its targets resolved (programs and files as the user) */
static int forward_user(struct rctx *x, const char *login, const char *addr, int depth,
			const char *sender, int *done)
{
	char key[80];
	*done = 0;
	if (x->c->forward[0] == '\0' || x->c->userdb != NULL || x->c->noload)
		return Z_OK;
	int n = snprintf(key, sizeof(key), "~%s", login);
	if (n <= 0 || (size_t)n >= sizeof(key) || on_stack(x, key))
		return Z_OK;   /* the user in its own forward file: the mailbox */
	struct passwd *pw = getpwnam(login);
	if (pw == NULL)
		return Z_OK;
	uid_t owner = pw->pw_uid;
	zbuf data = ZBUF_INIT(RT_FORWARD_MAX + 4096);
	int r = read_forward(x->c, pw, &data), rc = Z_OK;
	if (r < 0) {
		*done = 1;
		rc = add_dest(x, "hold", "IO:forward", addr, 0, sender, "4.3.0",
			      "cannot read the user's forward file");
	} else if (r > 0) {
		if (x->sp >= RT_MAX_DEPTH || depth >= RT_MAX_DEPTH) {
			rc = add_error(x, "loop", addr, "5.4.6", "forward files nested too deep");
		} else {
			size_t before = x->res->n;
			x->stack[x->sp++] = key;
			rc = expand_lines(x, &data, depth, sender, owner);
			x->sp--;
			/* an empty forward file is no forward file */
			if (rc == Z_OK && x->res->n == before) {
				zbuf_free(&data);
				return Z_OK;
			}
		}
		*done = 1;
	}
	zbuf_free(&data);
	return rc;
}

/* local_user - final local delivery of login (already lower case) */
static int local_user(struct rctx *x, const char *login, const char *addr, const char *sender,
		      int depth, int noalias)
{
	uid_t uid;
	if (user_lookup(x->c, login, &uid)) {
		if (!noalias) {
			int done, rc = forward_user(x, login, addr, depth, sender, &done);
			if (done || rc != Z_OK)
				return rc;
		}
		return add_dest(x, "local", login, login, (long)uid, sender, NULL, NULL);
	}
	if (strcmp(login, "postmaster") == 0 && user_lookup(x->c, "root", &uid))
		return add_dest(x, "local", "root", "root", (long)uid, sender, NULL, NULL);
	return add_error(x, "nouser", addr, "5.1.1", "user unknown");
}

/* resolve_local - local part of one of our domains */
static int resolve_local(struct rctx *x, const char *local, const char *addr, int depth,
			 const char *sender, int noalias)
{
	char key[MADDR_LOCAL_MAX + 1], base[MADDR_LOCAL_MAX + 1];
	if (strlen(local) > MADDR_LOCAL_MAX || *local == '\0')
		return add_error(x, "nouser", addr, "5.1.3", "bad local part");
	zstrlcpy(key, local, sizeof(key));
	lower(key);
	zstrlcpy(base, key, sizeof(base));
	if (x->c->subsep) {
		char *s = strchr(base, x->c->subsep);
		if (s && s != base && strncmp(base, "owner-", 6) != 0)
			*s = '\0';
	}
	if (!noalias) {
		const rt_entry *e = table_get(&x->c->aliases, key);
		if (e == NULL && strcmp(base, key) != 0)
			e = table_get(&x->c->aliases, base);
		if (e != NULL) {
			if (!on_stack(x, e->key))
				return expand_alias(x, e, depth, sender);
			/* a name expanding to itself means the user; any other
			 * cycle is a loop */
			if (x->sp == 0 || strcmp(x->stack[x->sp - 1], e->key) != 0)
				return add_error(x, "loop", addr, "5.4.6", "alias loop");
		}
	}
	return local_user(x, base, addr, sender, depth, noalias);
}

/* route_lookup - longest match: domain, .parents, "." */
static const rt_entry *route_lookup(const rt_config *c, const char *dom)
{
	const rt_entry *e = table_get(&c->routes, dom);
	if (e)
		return e;
	for (const char *p = strchr(dom, '.'); p; p = strchr(p + 1, '.'))
		if ((e = table_get(&c->routes, p)) != NULL)
			return e;
	return table_get(&c->routes, ".");
}

/* use_dest - apply a "channel[!host]" destination to addr */
static int use_dest(struct rctx *x, const char *dest, const char *local, const char *dom,
		    const char *addr, int depth, const char *sender, int noalias)
{
	char ch[32];
	const char *bang = strchr(dest, '!');
	size_t cn = bang ? (size_t)(bang - dest) : strlen(dest);
	if (cn >= sizeof(ch))
		cn = sizeof(ch) - 1;
	memcpy(ch, dest, cn);
	ch[cn] = '\0';
	const char *host = bang && bang[1] ? bang + 1 : dom;
	if (strcmp(ch, "local") == 0)
		return resolve_local(x, local, addr, depth, sender, noalias);
	if (strcmp(ch, "error") == 0)
		return add_error(x, bang && bang[1] ? bang + 1 : "norelay", addr, "5.1.2",
				 "routing table: no delivery to this domain");
	return add_dest(x, ch, host, addr, 0, sender, NULL, NULL);
}

/* resolve_rec - one address or alias target */
static int resolve_rec(struct rctx *x, const char *in, int depth, const char *sender,
		       int from_table, uid_t owner)
{
	char a[MADDR_PATH_MAX + 8], local[MADDR_LOCAL_MAX + 1], dom[MADDR_PATH_MAX], vkey[MADDR_PATH_MAX + 80];
	int noalias = 0;
	size_t n = strlen(in);

	if (depth > RT_MAX_DEPTH)
		return add_error(x, "loop", in, "5.4.6", "alias expansion nested too deep");
	if (from_table && (in[0] == '|' || in[0] == '/')) {
		long uid;
		char name[64];
		priv_of(x->c, owner, &uid, name, sizeof(name));
		return add_dest(x, "local", name, in, uid, sender, NULL, NULL);
	}
	if (from_table && strncmp(in, ":include:", 9) == 0) {
		zbuf data = ZBUF_INIT(1024 * 1024), why = ZBUF_INIT(256);
		struct stat st;
		int rc;
		if (stat(in + 9, &st) != 0 || zread_file(in + 9, 1024 * 1024, &data, &why) != Z_OK) {
			char host[300];
			snprintf(host, sizeof(host), "IO:include");
			rc = add_dest(x, "hold", host, in, 0, sender, "4.3.0", "cannot read :include: file");
		} else if (memchr(data.data ? data.data : "", '\0', data.len)) {
			rc = add_error(x, "include", in, "5.3.5", ":include: file holds a NUL byte");
		} else {
			rc = expand_lines(x, &data, depth, sender, st.st_uid);
		}
		zbuf_free(&data);
		zbuf_free(&why);
		return rc;
	}
	if (in[0] == '|' || in[0] == '/' || in[0] == ':')
		return add_error(x, "badaddress", in, "5.1.3", "programs and files are not addresses");
	if (in[0] == '\\' && from_table) {
		noalias = 1;
		in++;
		n--;
	}
	if (n >= 2 && in[0] == '<' && in[n - 1] == '>') {
		in++;
		n -= 2;
	}
	if (n == 0 || n >= MADDR_PATH_MAX)
		return add_error(x, "badaddress", "<>", "5.1.3", "empty or over-long address");
	memcpy(a, in, n);
	a[n] = '\0';
	char *at = strrchr(a, '@');
	if (at == NULL) {
		char q[MADDR_PATH_MAX + 300];
		if (zstrlcpy(local, a, sizeof(local)) != Z_OK)
			return add_error(x, "badaddress", a, "5.1.3", "local part too long");
		int qn = snprintf(q, sizeof(q), "%s@%s", a, x->c->myhostname);
		return resolve_local(x, local, (qn > 0 && (size_t)qn < sizeof(q)) ? q : a, depth,
				     sender, noalias);
	}
	maddr m;
	zbuf why = ZBUF_INIT(256);
	if (maddr_parse_addr(a, n, MADDR_UTF8, &m, &why) != Z_OK) {
		char r[256];
		snprintf(r, sizeof(r), "bad address: %s", zbuf_cstr(&why));
		zbuf_free(&why);
		return add_error(x, "badaddress", a, "5.1.3", r);
	}
	zbuf_free(&why);
	zstrlcpy(local, m.local, sizeof(local));
	zstrlcpy(dom, m.domain, sizeof(dom));
	lower(dom);
	/* the canonical form for remote users */
	zbuf canon = ZBUF_INIT(MADDR_PATH_MAX + 8);
	if (maddr_put_local(&canon, m.local, m.local_len) != Z_OK ||
	    zbuf_printf(&canon, "@%s", dom) != Z_OK) {
		zbuf_free(&canon);
		return add_error(x, "badaddress", a, "5.1.3", "address too long");
	}
	zstrlcpy(a, zbuf_cstr(&canon), sizeof(a));
	zbuf_free(&canon);

	if (rt_is_local_domain(x->c, dom))
		return resolve_local(x, local, a, depth, sender, noalias);

	/* virtual domains */
	for (size_t i = 0; i < x->c->nvdomains; i++) {
		if (strcmp(x->c->vdomains[i], dom) != 0)
			continue;
		char lk[MADDR_LOCAL_MAX + 1];
		zstrlcpy(lk, local, sizeof(lk));
		lower(lk);
		snprintf(vkey, sizeof(vkey), "%s@%s", lk, dom);
		const rt_entry *e = table_get(&x->c->virt, vkey);
		if (e == NULL && x->c->subsep) {
			char *s = strchr(lk, x->c->subsep);
			if (s && s != lk) {
				*s = '\0';
				snprintf(vkey, sizeof(vkey), "%s@%s", lk, dom);
				e = table_get(&x->c->virt, vkey);
			}
		}
		if (e == NULL) {
			snprintf(vkey, sizeof(vkey), "@%s", dom);
			e = table_get(&x->c->virt, vkey);
		}
		if (e == NULL)
			return add_error(x, "nouser", a, "5.1.1", "no such user in this virtual domain");
		if (on_stack(x, e->key))
			return add_error(x, "loop", a, "5.4.6", "virtual map loop");
		if (x->sp >= RT_MAX_DEPTH)
			return add_error(x, "loop", a, "5.4.6", "virtual map nested too deep");
		x->stack[x->sp++] = e->key;
		int rc = expand_list(x, e->val, depth, sender, 0, 0);
		x->sp--;
		return rc;
	}
	const rt_entry *r = route_lookup(x->c, dom);
	if (r)
		return use_dest(x, r->val, local, dom, a, depth, sender, noalias);
	if (x->c->smarthost[0])
		return use_dest(x, x->c->smarthost, local, dom, a, depth, sender, noalias);
	if (m.host.kind != MHOST_DOMAIN)
		return add_dest(x, "smtp", dom, a, 0, sender, NULL, NULL);
	return add_dest(x, "smtp", dom, a, 0, sender, NULL, NULL);
}

/* rt_resolve - public entry */
int rt_resolve(const rt_config *c, const char *addr, rt_result *res, zbuf *err)
{
	struct rctx x;
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.res = res;
	x.err = err;
	if (addr == NULL || strlen(addr) > MADDR_PATH_MAX + 2 || strpbrk(addr, "\r\n") != NULL) {
		zbuf_puts(err, "address missing, over-long or holding a line end");
		return Z_EPARSE;
	}
	int rc = resolve_rec(&x, addr, 0, NULL, 0, 0);
	if (x.full) {
		zbuf_printf(err, "more than %d recipients from one address", RT_MAX_RESULTS);
		return Z_ETOOBIG;
	}
	if (rc != Z_OK && rc != Z_ETOOBIG)
		zbuf_printf(err, "resolution failed: %s", zerr_str(rc));
	return rc;
}

/* rt_result_free - release and empty */
void rt_result_free(rt_result *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}
