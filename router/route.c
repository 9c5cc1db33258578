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
 *	This file parses the tables; route_resolve.c walks them.
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

#include "route_int.h"

/* rt_lower - ASCII lower case in place */
void rt_lower(char *s)
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
	rt_lower(c->myhostname);
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
	rt_lower(e->key);
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

/* rt_table_get - entry for key (lower case expected) or NULL */
const rt_entry *rt_table_get(const rt_table *t, const char *key)
{
	rt_entry k;
	if (t->n == 0)
		return NULL;
	k.key = (char *)key;
	return bsearch(&k, t->v, t->n, sizeof(*t->v), key_cmp);
}

/* liter - logical lines of a table file: a cursor over its text, the
 * joined line in buf, its first physical line number in lineno, the
 * number of physical lines read so far in next */
struct liter {
	zcur c;
	unsigned lineno, next;
	zbuf buf;
};

#define LITER_INIT(data, len, max) { { (data), (len), 0 }, 0, 0, ZBUF_INIT(max) }

/* line_next - next non-empty, non-comment logical line into it->buf:
 * returns 1 with the line in it->buf and its number in it->lineno, 0 at
 * the end, -1 on an error (in err); continuation lines (leading blank)
 * are joined when cont is set */
static int line_next(struct liter *it, int cont, zbuf *err, const char *name)
{
	zbuf_reset(&it->buf);
	for (;;) {
		zcur before = it->c, lc;
		zspan l, body;

		if (zcur_eof(&it->c))
			return it->buf.len ? 1 : 0;
		if (zcur_take_until(&it->c, '\n', &l) != Z_OK)
			zcur_take_rest(&it->c, &l);
		if (l.n && l.p[l.n - 1] == '\r')
			l.n--;
		zcur_init(&lc, l.p, l.n);
		int blank_start = zcur_skip_span(&lc, " \t") > 0;
		int comment = !blank_start && zcur_peek(&lc) == '#';
		int empty = zcur_eof(&lc);
		zcur_take_rest(&lc, &body);   /* the line without its leading blanks */
		if (it->buf.len) {
			/* have a line: a continuation joins, anything else ends it */
			if (cont && blank_start && !empty) {
				it->next++;
				if (zbuf_putc(&it->buf, ' ') != Z_OK ||
				    zbuf_append(&it->buf, body.p, body.n) != Z_OK) {
					zbuf_printf(err, "%s:%u: line too long", name, it->lineno);
					return -1;
				}
				continue;
			}
			if (cont && comment) {   /* comments inside a continued entry */
				it->next++;
				continue;
			}
			it->c = before;   /* this line starts the next entry */
			return 1;
		}
		it->next++;
		if (empty || comment || body.p[0] == '#')
			continue;
		if (zspan_chr(l, '\0') >= 0) {
			zbuf_printf(err, "%s:%u: NUL byte", name, it->next);
			return -1;
		}
		if (cont && blank_start) {
			zbuf_printf(err, "%s:%u: continuation line without an entry", name, it->next);
			return -1;
		}
		it->lineno = it->next;
		if (zbuf_append(&it->buf, body.p, body.n) != Z_OK) {
			zbuf_printf(err, "%s:%u: line too long", name, it->lineno);
			return -1;
		}
	}
}

/* split_kv - "key<blanks>value" of a C string, cut in place: the key
 * ends at the first blank, the value is the rest without the blanks
 * around it (may be "") */
static void split_kv(char *line, char **key, char **val)
{
	zcur c;
	zspan k, v;

	zcur_init(&c, line, strlen(line));
	zcur_take_cspan(&c, " \t", &k);
	zcur_skip_span(&c, " \t");
	zcur_take_rest(&c, &v);
	v = zspan_rtrim_set(v, " \t");
	*key = line;
	*val = line + (v.p - line);
	line[k.n] = '\0';
	(*val)[v.n] = '\0';
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
	rt_lower(c->locals[c->nlocals++]);
	return Z_OK;
}

/* rt_parse_conf - router.conf text */
int rt_parse_conf(rt_config *c, const char *name, const char *dir, const char *data, size_t len,
		  zbuf *err)
{
	struct liter it = LITER_INIT(data, len, RT_LINE_MAX);
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
			rt_lower(dst);
		} else if (strcmp(key, "localdomains") == 0 || strcmp(key, "localdomain") == 0) {
			/* domains separated by blanks and commas */
			zcur lc;
			zspan dom;
			zcur_init(&lc, val, strlen(val));
			for (;;) {
				zcur_skip_span(&lc, " \t,");
				if (zcur_take_cspan(&lc, " \t,", &dom) == 0)
					break;
				char *p = zspan_dup(dom);
				if (p == NULL) {
					rc = Z_ENOMEM;
					goto nomem;
				}
				if (!domain_ok(p)) {
					zbuf_printf(err, "%s:%u: \"%s\" is not a domain name", name, ln, p);
					free(p);
					rc = Z_EPARSE;
					goto out;
				}
				rc = add_local(c, p);
				free(p);
				if (rc != Z_OK)
					goto nomem;
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

/* rt_target_next - next comma-separated target of an alias value (quotes
 * respected, a backslash inside quotes escapes the next byte); *t and *tn
 * get it without blanks at its end; returns 0 at the end */
int rt_target_next(const char *v, size_t n, size_t *pos, const char **t, size_t *tn)
{
	zcur c;
	zspan tok, one;
	size_t start;
	int q = 0, ch;

	zcur_init(&c, v, n);
	if (zcur_take_n(&c, *pos < n ? *pos : n, &one) != Z_OK)
		return 0;
	zcur_skip_span(&c, " \t,");
	if (zcur_eof(&c)) {
		*pos = n;
		return 0;
	}
	start = n - zcur_left(&c);
	while ((ch = zcur_peek(&c)) != -1 && (q || ch != ',')) {
		(void)zcur_take_n(&c, 1, &one);
		if (q && ch == '\\')
			(void)zcur_take_n(&c, 1, &one);   /* the escaped byte, if any */
		else if (ch == '"')
			q = !q;
	}
	tok.p = v + start;
	tok.n = n - zcur_left(&c) - start;
	tok = zspan_rtrim_set(tok, " \t");
	*t = tok.p;
	*tn = tok.n;
	*pos = n - zcur_left(&c);
	return 1;
}

/* rt_unquote_target - drop outer quotes and backslash escapes into out */
int rt_unquote_target(const char *t, size_t n, char *out, size_t outsz)
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
	struct liter it = LITER_INIT(data, len, RT_FILE_MAX);
	int rc = Z_OK, r;
	zbuf why = ZBUF_INIT(512);
	char tgt[RT_LINE_MAX];

	while ((r = line_next(&it, 1, err, name)) == 1) {
		const char *l = it.buf.data;
		unsigned ln = it.lineno;
		zcur ac;
		zspan key, v;
		zcur_init(&ac, l, strlen(l));
		if (zcur_take_until(&ac, ':', &key) != Z_OK) {
			zbuf_printf(err, "%s:%u: missing ':' after the alias name", name, ln);
			rc = Z_EPARSE;
			goto out;
		}
		key = zspan_rtrim_set(key, " \t");
		size_t kn = key.n;
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
		/* the targets, without the blanks in front (rt_target_next skips them too) */
		zcur_skip_span(&ac, " \t");
		zcur_take_rest(&ac, &v);
		size_t pos = 0, tn;
		const char *t;
		int count = 0;
		while (rt_target_next(v.p, v.n, &pos, &t, &tn)) {
			zbuf_reset(&why);
			if (rt_unquote_target(t, tn, tgt, sizeof(tgt)) != Z_OK) {
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
		if ((rc = table_add(&c->aliases, l, kn, v.p, v.n, name, ln, owner)) != Z_OK) {
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
	struct liter it = LITER_INIT(data, len, RT_LINE_MAX);
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
		while (rt_target_next(val, strlen(val), &pos, &t, &tn)) {
			zbuf_reset(&why);
			if (rt_unquote_target(t, tn, tgt, sizeof(tgt)) != Z_OK ||
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
		rt_lower(dom);
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
