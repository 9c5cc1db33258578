/*
 * NAME
 *	route_resolve - librouter's resolver: an address to quads
 * SUMMARY
 *	Walks the tables route.c parsed: local domains, aliases, forward
 *	files, virtual maps, routes, smarthost.
 * SYNOPSIS
 *	int rt_is_local_domain(const rt_config *c, const char *dom);
 *	int rt_resolve(const rt_config *c, const char *addr, rt_result *res,
 *		zbuf *err);
 *	void rt_result_free(rt_result *r);
 * DESCRIPTION
 *	The resolution rules are described in route.c's contract and in
 *	router.conf(5).
 * DIAGNOSTICS
 *	Resolution problems become error quads with an RFC 3463 status, not
 *	failures of the call.
 * SECURITY
 *	Addresses come from outside: bounded, nesting bounded by
 *	RT_MAX_DEPTH, results by RT_MAX_RESULTS; "|program" and "/file" only
 *	from alias, :include: and forward files, never with uid 0; forward
 *	files opened with O_NOFOLLOW|O_NONBLOCK and checked on the descriptor.
 * BUGS
 *	See route.c.
 * SEE ALSO
 *	route.c, router.conf(5), aliases(5)
 */
#include "route_int.h"

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
	rt_lower(name);
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
	while (rc == Z_OK && rt_target_next(v, vn, &pos, &t, &tn)) {
		if (rt_unquote_target(t, tn, tgt, sizeof(tgt)) != Z_OK)
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
	    rt_table_get(&x->c->aliases, okey) != NULL) {
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
	rt_lower(key);
	zstrlcpy(base, key, sizeof(base));
	if (x->c->subsep) {
		char *s = strchr(base, x->c->subsep);
		if (s && s != base && strncmp(base, "owner-", 6) != 0)
			*s = '\0';
	}
	if (!noalias) {
		const rt_entry *e = rt_table_get(&x->c->aliases, key);
		if (e == NULL && strcmp(base, key) != 0)
			e = rt_table_get(&x->c->aliases, base);
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
	const rt_entry *e = rt_table_get(&c->routes, dom);
	if (e)
		return e;
	for (const char *p = strchr(dom, '.'); p; p = strchr(p + 1, '.'))
		if ((e = rt_table_get(&c->routes, p)) != NULL)
			return e;
	return rt_table_get(&c->routes, ".");
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
	rt_lower(dom);
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
		rt_lower(lk);
		snprintf(vkey, sizeof(vkey), "%s@%s", lk, dom);
		const rt_entry *e = rt_table_get(&x->c->virt, vkey);
		if (e == NULL && x->c->subsep) {
			char *s = strchr(lk, x->c->subsep);
			if (s && s != lk) {
				*s = '\0';
				snprintf(vkey, sizeof(vkey), "%s@%s", lk, dom);
				e = rt_table_get(&x->c->virt, vkey);
			}
		}
		if (e == NULL) {
			snprintf(vkey, sizeof(vkey), "@%s", dom);
			e = rt_table_get(&x->c->virt, vkey);
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
