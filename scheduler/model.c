/*
 * NAME
 *	model.c - the scheduler's in-memory model: symbols, files, vertices,
 *	threads and thread rings
 * SUMMARY
 *	Hash tables (chained, doubling) keyed by interned strings and inode
 *	numbers; doubly linked vertex lists per thread.  Pure bookkeeping:
 *	no I/O, no clock except what callers pass in.
 * SYNOPSIS
 *	model_init, model_free, model_sym, model_sym_find, model_file_find,
 *	model_file_new, model_file_remove, model_thread_get, model_thread_lookup,
 *	model_thread_find,
 *	model_thread_delete, model_ring_get, vlist_push, vlist_remove,
 *	vlist_pop, thread_add_vertex, thread_unlink_vertex, thread_new_round,
 *	vertex_new, vertex_find_rcpt, notify_bits, file_relpath, file_spoolid
 * DESCRIPTION
 *	Channel and host strings are interned once (sym) so a recipient costs
 *	only its srcpt record (8 bytes) plus its share of a vertex and its
 *	address in the file's strs (sender and recipient addresses kept for
 *	mailq(1), so listings never re-read control files).  A thread
 *	is keyed by (clause, channel, host); a ring by (clause, channel) and
 *	also host when the clause is with-host.  Threads keep two lists:
 *	pending (not yet fed in this round) and done (fed or reported in this
 *	round); thread_new_round splices done back in front of pending.
 *	Every operation is O(1) except lookups by channel/host string
 *	(hash) and vertex_find_rcpt (linear in the file's recipients).
 * DIAGNOSTICS
 *	Out of memory is a panic (the model cannot be half-built).
 * SECURITY
 *	Strings come from control files that were already parsed by
 *	ctl_parse (bounded); lengths are carried, never trusted to be NUL-free
 *	beyond what the parser guarantees.
 * BUGS
 *	Symbols are never freed while the daemon runs.
 * SEE ALSO
 *	scheduler(8), model.h, agents.c, agent_io.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model.h"
#include "spool.h"
#include "zerr.h"
#include "zlog.h"

/* xcalloc - calloc or panic */
static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n, sz);
	if (p == NULL)
		zlog_panic(NULL, "out of memory (%zu x %zu)", n, sz);
	return p;
}

/* hash_bytes - FNV-1a */
static size_t hash_bytes(const char *s, size_t n, size_t seed)
{
	size_t h = 1469598103934665603ull ^ seed;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* hash_ptr - mix a pointer value */
static size_t hash_ptr(const void *p)
{
	size_t x = (size_t)p;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

/* model_init - empty model */
void model_init(model *m)
{
	memset(m, 0, sizeof *m);
	m->symcap = 256;
	m->symtab = xcalloc(m->symcap, sizeof *m->symtab);
	m->fcap = 1024;
	m->ftab = xcalloc(m->fcap, sizeof *m->ftab);
	m->tcap = 256;
	m->ttab = xcalloc(m->tcap, sizeof *m->ttab);
	m->rcap = 64;
	m->rtab = xcalloc(m->rcap, sizeof *m->rtab);
}

/* free_vertices - release a file's vertices */
static void free_vertices(sfile *f)
{
	vertex *v = f->vertices, *n;
	for (; v; v = n) {
		n = v->fnext;
		free(v->lastdiag);
		free(v);
	}
	f->vertices = NULL;
}

/* model_free - release everything */
void model_free(model *m)
{
	for (size_t i = 0; i < m->symcap; i++) {
		sym *s = m->symtab[i], *n;
		for (; s; s = n) { n = s->next; free(s); }
	}
	for (size_t i = 0; i < m->fcap; i++) {
		sfile *f = m->ftab[i], *n;
		for (; f; f = n) { n = f->hnext; free_vertices(f); free(f->strs); free(f); }
	}
	thread *t = m->threads, *tn;
	for (; t; t = tn) { tn = t->all_next; free(t); }
	ring *r = m->rings, *rn;
	for (; r; r = rn) { rn = r->all_next; free(r); }
	free(m->symtab);
	free(m->ftab);
	free(m->ttab);
	free(m->rtab);
	memset(m, 0, sizeof *m);
}

/* sym_grow - double the symbol table */
static void sym_grow(model *m)
{
	size_t ncap = m->symcap * 2;
	sym **nt = xcalloc(ncap, sizeof *nt);
	for (size_t i = 0; i < m->symcap; i++) {
		sym *s = m->symtab[i], *n;
		for (; s; s = n) {
			n = s->next;
			size_t h = hash_bytes(s->s, strlen(s->s), 0) & (ncap - 1);
			s->next = nt[h];
			nt[h] = s;
		}
	}
	free(m->symtab);
	m->symtab = nt;
	m->symcap = ncap;
}

/* model_sym - intern a string (stored lower-cased: hosts compare caselessly) */
sym *model_sym(model *m, const char *s, size_t n)
{
	char tmp[1024];
	if (n >= sizeof tmp)
		n = sizeof tmp - 1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		tmp[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	tmp[n] = '\0';
	size_t h = hash_bytes(tmp, n, 0) & (m->symcap - 1);
	for (sym *y = m->symtab[h]; y; y = y->next)
		if (strcmp(y->s, tmp) == 0)
			return y;
	if (m->nsym + 1 > m->symcap) {
		sym_grow(m);
		h = hash_bytes(tmp, n, 0) & (m->symcap - 1);
	}
	sym *y = xcalloc(1, sizeof *y + n + 1);
	memcpy(y->s, tmp, n + 1);
	y->next = m->symtab[h];
	m->symtab[h] = y;
	m->nsym++;
	return y;
}

/* model_sym_find - lookup without creating */
sym *model_sym_find(model *m, const char *s)
{
	char tmp[1024];
	size_t n = strlen(s);
	if (n >= sizeof tmp)
		return NULL;
	for (size_t i = 0; i <= n; i++)
		tmp[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
	size_t h = hash_bytes(tmp, n, 0) & (m->symcap - 1);
	for (sym *y = m->symtab[h]; y; y = y->next)
		if (strcmp(y->s, tmp) == 0)
			return y;
	return NULL;
}

/* model_file_find - by inode number */
sfile *model_file_find(model *m, unsigned long ino)
{
	size_t h = hash_ptr((void *)ino) & (m->fcap - 1);
	for (sfile *f = m->ftab[h]; f; f = f->hnext)
		if (f->ino == ino)
			return f;
	return NULL;
}

/* file_grow - double the file table */
static void file_grow(model *m)
{
	size_t ncap = m->fcap * 2;
	sfile **nt = xcalloc(ncap, sizeof *nt);
	for (size_t i = 0; i < m->fcap; i++) {
		sfile *f = m->ftab[i], *n;
		for (; f; f = n) {
			n = f->hnext;
			size_t h = hash_ptr((void *)f->ino) & (ncap - 1);
			f->hnext = nt[h];
			nt[h] = f;
		}
	}
	free(m->ftab);
	m->ftab = nt;
	m->fcap = ncap;
}

/* model_file_new - add an empty file record */
sfile *model_file_new(model *m, unsigned long ino, const char *prefix)
{
	if (m->nfile + 1 > m->fcap)
		file_grow(m);
	sfile *f = xcalloc(1, sizeof *f);
	f->ino = ino;
	size_t pl = strlen(prefix);
	if (pl >= sizeof f->prefix)
		pl = sizeof f->prefix - 1;
	memcpy(f->prefix, prefix, pl);
	size_t h = hash_ptr((void *)ino) & (m->fcap - 1);
	f->hnext = m->ftab[h];
	m->ftab[h] = f;
	m->nfile++;
	return f;
}

/* model_file_remove - unlink a file and free it with its vertices; the
 * vertices must already be out of their threads and agents */
void model_file_remove(model *m, sfile *f)
{
	size_t h = hash_ptr((void *)f->ino) & (m->fcap - 1);
	for (sfile **pp = &m->ftab[h]; *pp; pp = &(*pp)->hnext) {
		if (*pp == f) {
			*pp = f->hnext;
			m->nfile--;
			break;
		}
	}
	for (vertex *v = f->vertices; v; v = v->fnext)
		m->nvertex--;
	free_vertices(f);
	free(f->strs);
	free(f);
}

/* thread_hash - key (clause, channel, host) */
static size_t thread_hash(const sconf_clause *c, const sym *ch, const sym *host)
{
	return hash_ptr(c) ^ (hash_ptr(ch) * 31) ^ (hash_ptr(host) * 131);
}

/* thread_grow - double the thread table */
static void thread_grow(model *m)
{
	size_t ncap = m->tcap * 2;
	thread **nt = xcalloc(ncap, sizeof *nt);
	for (size_t i = 0; i < m->tcap; i++) {
		thread *t = m->ttab[i], *n;
		for (; t; t = n) {
			n = t->next;
			size_t h = thread_hash(t->clause, t->channel, t->host) & (ncap - 1);
			t->next = nt[h];
			nt[h] = t;
		}
	}
	free(m->ttab);
	m->ttab = nt;
	m->tcap = ncap;
}

/* ring_hash - key (clause, channel, host-or-NULL) */
static size_t ring_hash(const sconf_clause *c, const sym *ch, const sym *host)
{
	return hash_ptr(c) ^ (hash_ptr(ch) * 7) ^ (hash_ptr(host) * 17);
}

/* model_ring_get - find or create a ring */
ring *model_ring_get(model *m, const sconf_clause *c, sym *channel, sym *host)
{
	sym *rh = (c->flags & SCF_WITHHOST) ? host : NULL;
	size_t h = ring_hash(c, channel, rh) & (m->rcap - 1);
	for (ring *r = m->rtab[h]; r; r = r->next)
		if (r->clause == c && r->channel == channel && r->host == rh)
			return r;
	if (m->nring + 1 > m->rcap) {
		size_t ncap = m->rcap * 2;
		ring **nt = xcalloc(ncap, sizeof *nt);
		for (size_t i = 0; i < m->rcap; i++) {
			ring *r = m->rtab[i], *n;
			for (; r; r = n) {
				n = r->next;
				size_t hh = ring_hash(r->clause, r->channel, r->host) & (ncap - 1);
				r->next = nt[hh];
				nt[hh] = r;
			}
		}
		free(m->rtab);
		m->rtab = nt;
		m->rcap = ncap;
		h = ring_hash(c, channel, rh) & (m->rcap - 1);
	}
	ring *r = xcalloc(1, sizeof *r);
	r->clause = c;
	r->channel = channel;
	r->host = rh;
	r->next = m->rtab[h];
	m->rtab[h] = r;
	r->all_next = m->rings;
	m->rings = r;
	m->nring++;
	return r;
}

/* model_thread_lookup - see model.h */
thread *model_thread_lookup(model *m, const sconf_clause *c, const sym *channel, const sym *host)
{
	if (m->tcap == 0)
		return NULL;
	size_t h = thread_hash(c, channel, host) & (m->tcap - 1);
	for (thread *t = m->ttab[h]; t; t = t->next)
		if (t->clause == c && t->channel == channel && t->host == host)
			return t;
	return NULL;
}

/* model_thread_get - find or create a thread */
thread *model_thread_get(model *m, const sconf_clause *c, sym *channel, sym *host, time_t now)
{
	size_t h = thread_hash(c, channel, host) & (m->tcap - 1);
	for (thread *t = m->ttab[h]; t; t = t->next)
		if (t->clause == c && t->channel == channel && t->host == host)
			return t;
	if (m->nthr + 1 > m->tcap) {
		thread_grow(m);
		h = thread_hash(c, channel, host) & (m->tcap - 1);
	}
	thread *t = xcalloc(1, sizeof *t);
	t->clause = c;
	t->channel = channel;
	t->host = host;
	retry_init(&t->rs, c, now);
	t->ring = model_ring_get(m, c, channel, host);
	t->ring->nthreads++;
	t->next = m->ttab[h];
	m->ttab[h] = t;
	t->all_next = m->threads;
	if (m->threads)
		m->threads->all_prev = t;
	m->threads = t;
	m->nthr++;
	return t;
}

/* model_thread_find - first thread with this channel and host */
thread *model_thread_find(model *m, const char *channel, const char *host)
{
	sym *ch = model_sym_find(m, channel), *ho = model_sym_find(m, host);
	if (ch == NULL || ho == NULL)
		return NULL;
	for (thread *t = m->threads; t; t = t->all_next)
		if (t->channel == ch && t->host == ho)
			return t;
	return NULL;
}

/* model_thread_delete - remove an empty, agent-less thread */
void model_thread_delete(model *m, thread *t)
{
	size_t h = thread_hash(t->clause, t->channel, t->host) & (m->tcap - 1);
	for (thread **pp = &m->ttab[h]; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	if (t->all_prev)
		t->all_prev->all_next = t->all_next;
	else
		m->threads = t->all_next;
	if (t->all_next)
		t->all_next->all_prev = t->all_prev;
	if (t->ring && t->ring->nthreads)
		t->ring->nthreads--;
	m->nthr--;
	free(t);
}

/* vlist_push - append v to l and remember which list it is on */
void vlist_push(vlist *l, vertex *v, int which)
{
	v->tnext = NULL;
	v->tprev = l->tail;
	if (l->tail)
		l->tail->tnext = v;
	else
		l->head = v;
	l->tail = v;
	l->n++;
	v->onlist = (uint8_t)which;
}

/* vlist_push_front - prepend v to l */
void vlist_push_front(vlist *l, vertex *v, int which)
{
	v->tprev = NULL;
	v->tnext = l->head;
	if (l->head)
		l->head->tprev = v;
	else
		l->tail = v;
	l->head = v;
	l->n++;
	v->onlist = (uint8_t)which;
}

/* vlist_remove - unlink v from l */
void vlist_remove(vlist *l, vertex *v)
{
	if (v->tprev)
		v->tprev->tnext = v->tnext;
	else
		l->head = v->tnext;
	if (v->tnext)
		v->tnext->tprev = v->tprev;
	else
		l->tail = v->tprev;
	v->tnext = v->tprev = NULL;
	l->n--;
	v->onlist = 0;
}

/* vlist_pop - first element or NULL */
vertex *vlist_pop(vlist *l)
{
	vertex *v = l->head;
	if (v)
		vlist_remove(l, v);
	return v;
}

/* thread_add_vertex - new vertex goes to the pending list */
void thread_add_vertex(thread *t, vertex *v)
{
	v->thr = t;
	vlist_push(&t->pending, v, 1);
	t->nrcpt += v->npending;
}

/* thread_unlink_vertex - take v out of its thread's lists */
void thread_unlink_vertex(vertex *v)
{
	thread *t = v->thr;
	if (t == NULL)
		return;
	if (v->onlist == 1)
		vlist_remove(&t->pending, v);
	else if (v->onlist == 2)
		vlist_remove(&t->done, v);
	t->nrcpt = t->nrcpt >= v->npending ? t->nrcpt - v->npending : 0;
	v->thr = NULL;
}

/* thread_new_round - done vertices become pending again (in front) */
void thread_new_round(thread *t)
{
	if (t->done.head == NULL)
		return;
	for (vertex *v = t->done.head; v; v = v->tnext)
		v->onlist = 1;
	if (t->pending.head) {
		t->done.tail->tnext = t->pending.head;
		t->pending.head->tprev = t->done.tail;
		t->pending.head = t->done.head;
	} else {
		t->pending.head = t->done.head;
		t->pending.tail = t->done.tail;
	}
	t->pending.n += t->done.n;
	t->done.head = t->done.tail = NULL;
	t->done.n = 0;
}

/* vertex_new - allocate with room for nrcpt records */
vertex *vertex_new(uint32_t nrcpt)
{
	vertex *v = xcalloc(1, sizeof *v + (size_t)nrcpt * sizeof(srcpt));
	v->nrcpt = nrcpt;
	return v;
}

/* vertex_find_rcpt - linear search over the file's vertices */
srcpt *vertex_find_rcpt(sfile *f, uint32_t off, vertex **vout)
{
	for (vertex *v = f->vertices; v; v = v->fnext)
		for (uint32_t i = 0; i < v->nrcpt; i++)
			if (v->r[i].off == off) {
				if (vout)
					*vout = v;
				return &v->r[i];
			}
	return NULL;
}

/* notify_bits - parse "SUCCESS,FAILURE,DELAY" / "NEVER" */
unsigned notify_bits(zspan n)
{
	unsigned bits = 0;
	if (n.n == 0)
		return 0;
	size_t i = 0;
	if (n.n >= 7 && strncasecmp(n.p, "NOTIFY=", 7) == 0)
		i = 7;
	bits |= RF_NOTIFY_SET;
	while (i < n.n) {
		size_t j = i;
		while (j < n.n && n.p[j] != ',')
			j++;
		size_t l = j - i;
		if (l == 7 && strncasecmp(n.p + i, "SUCCESS", 7) == 0) bits |= RF_SUCCESS;
		else if (l == 7 && strncasecmp(n.p + i, "FAILURE", 7) == 0) bits |= RF_FAILURE;
		else if (l == 5 && strncasecmp(n.p + i, "DELAY", 5) == 0) bits |= RF_DELAY;
		else if (l == 5 && strncasecmp(n.p + i, "NEVER", 5) == 0) bits |= RF_NEVER;
		i = j + 1;
	}
	return bits;
}

/* file_relpath - prefix + inode ("" when it would not fit: a cut path
 * would name another file) */
void file_relpath(const sfile *f, char *buf, size_t bufsz)
{
	int k = snprintf(buf, bufsz, "%s%lu", f->prefix, f->ino);
	if ((k < 0 || (size_t)k >= bufsz) && bufsz > 0)
		buf[0] = '\0';
}

/* file_spoolid - "S..." */
void file_spoolid(const sfile *f, char *buf, size_t bufsz)
{
	if (spool_id_format(f->ino, f->arrival, 0, buf, bufsz) != Z_OK)
		snprintf(buf, bufsz, "%lu", f->ino);
}
