/*
 * NAME
 *	check_model - unit tests for the scheduler's model bookkeeping
 * SUMMARY
 *	Symbols, the inode table (with growth), threads and rings keyed by
 *	clause/channel/host (with-host rings), vertex lists, rounds, NOTIFY
 *	parsing and recipient lookup.
 * SYNOPSIS
 *	tests/unit/check_model (run by make check)
 * DESCRIPTION
 *	Tables of names and inode numbers exercise hash growth; threads and
 *	rings are built from a parsed scheduler.conf so clause identity and
 *	the with-host rule are the real ones; list tests check both link
 *	directions after every kind of move.
 * DIAGNOSTICS
 *	libcheck output; exit 1 when a check fails.
 * SECURITY
 *	No outside input.
 * BUGS
 *	The agent and completion code (agents.c, complete.c) is covered by
 *	the integration tests tests/integration/sched-*.sh, not here.
 * SEE ALSO
 *	scheduler/model.c
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "sconf.h"
#include "zerr.h"

static sconf *cfg;

/* load - a config with a normal and a with-host clause */
static void load(void)
{
	static const char text[] =
		"*/*\tinterval=1m retries=\"1 2\"\n"
		"smtp/*\tcommand=\"smtp -c $channel\"\n"
		"local/*\tcommand=\"mailbox -c $channel $host\"\n"
		"queued/*\tcommand=\"smtp\" queueonly\n";
	zbuf err = ZBUF_INIT(1024);
	ck_assert_int_eq(sconf_parse("t.conf", text, sizeof text - 1, &cfg, &err), Z_OK);
	zbuf_free(&err);
}

/* unload - free the config */
static void unload(void)
{
	sconf_free(cfg);
	cfg = NULL;
}

/* t_sym - symbols are interned case-insensitively and survive growth */
START_TEST(t_sym)
{
	model m;
	model_init(&m);
	sym *a = model_sym(&m, "Example.COM", 11);
	sym *b = model_sym(&m, "example.com", 11);
	ck_assert_ptr_eq(a, b);
	ck_assert_str_eq(a->s, "example.com");
	ck_assert_ptr_eq(model_sym_find(&m, "EXAMPLE.com"), a);
	ck_assert_ptr_null(model_sym_find(&m, "other"));
	/* growth keeps every symbol findable */
	char name[32];
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(name, sizeof name, "host%d.test", i);
		model_sym(&m, name, (size_t)n);
	}
	for (int i = 0; i < 5000; i += 97) {
		snprintf(name, sizeof name, "host%d.test", i);
		ck_assert_ptr_nonnull(model_sym_find(&m, name));
	}
	ck_assert_ptr_eq(model_sym_find(&m, "example.com"), a);
	model_free(&m);
}
END_TEST

/* t_files - the inode table grows and removes */
START_TEST(t_files)
{
	model m;
	model_init(&m);
	for (unsigned long i = 1; i <= 10000; i++)
		model_file_new(&m, i * 7, i % 2 ? "K/" : "");
	ck_assert_uint_eq(m.nfile, 10000);
	sfile *f = model_file_find(&m, 7 * 4321);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->ino, 7 * 4321);
	ck_assert_str_eq(f->prefix, "K/");
	ck_assert_ptr_null(model_file_find(&m, 5));
	model_file_remove(&m, f);
	ck_assert_ptr_null(model_file_find(&m, 7 * 4321));
	ck_assert_uint_eq(m.nfile, 9999);
	model_free(&m);
}
END_TEST

/* t_threads_rings - threads and rings keyed by clause/channel/host */
START_TEST(t_threads_rings)
{
	model m;
	model_init(&m);
	const sconf_clause *cs = sconf_match(cfg, "smtp", "a.test");
	const sconf_clause *cl = sconf_match(cfg, "local", "x");
	ck_assert_ptr_nonnull(cs);
	ck_assert_ptr_nonnull(cl);
	ck_assert(cl->flags & SCF_WITHHOST);
	sym *smtp = model_sym(&m, "smtp", 4), *local = model_sym(&m, "local", 5);
	sym *ha = model_sym(&m, "a.test", 6), *hb = model_sym(&m, "b.test", 6);
	thread *t1 = model_thread_get(&m, cs, smtp, ha, 1000);
	thread *t2 = model_thread_get(&m, cs, smtp, hb, 1000);
	ck_assert_ptr_eq(model_thread_get(&m, cs, smtp, ha, 1000), t1);
	ck_assert_ptr_ne(t1, t2);
	/* one ring per clause/channel: both smtp threads share it */
	ck_assert_ptr_eq(t1->ring, t2->ring);
	ck_assert_uint_eq(t1->ring->nthreads, 2);
	/* with-host clause: a ring per host */
	thread *l1 = model_thread_get(&m, cl, local, ha, 1000);
	thread *l2 = model_thread_get(&m, cl, local, hb, 1000);
	ck_assert_ptr_ne(l1->ring, l2->ring);
	ck_assert_ptr_ne(l1->ring, t1->ring);
	ck_assert_uint_eq(m.nthr, 4);
	ck_assert_ptr_eq(model_thread_find(&m, "SMTP", "B.test"), t2);
	ck_assert_ptr_null(model_thread_find(&m, "smtp", "c.test"));
	/* exact-key lookup (mailq listings): never creates */
	ck_assert_ptr_eq(model_thread_lookup(&m, cs, smtp, hb), t2);
	ck_assert_ptr_eq(model_thread_lookup(&m, cl, local, ha), l1);
	ck_assert_ptr_null(model_thread_lookup(&m, cl, smtp, ha));
	ck_assert_ptr_null(model_thread_lookup(&m, cs, smtp, model_sym(&m, "c.test", 6)));
	ck_assert_uint_eq(m.nthr, 4);
	/* new threads are due at once */
	ck_assert_int_eq((long)t1->rs.wakeup, 1000);
	model_thread_delete(&m, t2);
	ck_assert_uint_eq(m.nthr, 3);
	ck_assert_uint_eq(t1->ring->nthreads, 1);
	ck_assert_ptr_null(model_thread_find(&m, "smtp", "b.test"));
	ck_assert_ptr_null(model_thread_lookup(&m, cs, smtp, hb));
	/* a queueonly clause is never due by timer */
	const sconf_clause *cq = sconf_match(cfg, "queued", "q");
	thread *q = model_thread_get(&m, cq, model_sym(&m, "queued", 6), ha, 1000);
	ck_assert(q->rs.wakeup == RETRY_NEVER);
	model_free(&m);
}
END_TEST

/* t_vertex_lists - pending/done lists, rounds, removal from the middle */
START_TEST(t_vertex_lists)
{
	model m;
	model_init(&m);
	const sconf_clause *cs = sconf_match(cfg, "smtp", "a.test");
	thread *t = model_thread_get(&m, cs, model_sym(&m, "smtp", 4), model_sym(&m, "a", 1), 0);
	vertex *v[5];
	for (int i = 0; i < 5; i++) {
		v[i] = vertex_new(2);
		v[i]->npending = 2;
		thread_add_vertex(t, v[i]);
	}
	ck_assert_uint_eq(t->pending.n, 5);
	ck_assert_uint_eq(t->nrcpt, 10);
	/* feed two: pending -> done */
	for (int i = 0; i < 2; i++) {
		vertex *x = vlist_pop(&t->pending);
		ck_assert_ptr_eq(x, v[i]);
		vlist_push(&t->done, x, 2);
	}
	ck_assert_uint_eq(t->pending.n, 3);
	ck_assert_uint_eq(t->done.n, 2);
	/* a vertex leaves from the middle of a list */
	thread_unlink_vertex(v[3]);
	ck_assert_uint_eq(t->pending.n, 2);
	ck_assert_ptr_null(v[3]->thr);
	ck_assert_uint_eq(t->nrcpt, 8);
	/* front insertion (not tried: first next round) */
	vlist_remove(&t->pending, v[4]);
	vlist_push_front(&t->done, v[4], 2);
	ck_assert_ptr_eq(t->done.head, v[4]);
	/* new round: done in front of pending, order kept */
	thread_new_round(t);
	ck_assert_uint_eq(t->done.n, 0);
	ck_assert_uint_eq(t->pending.n, 4);
	vertex *order[4] = { v[4], v[0], v[1], v[2] };
	int k = 0;
	for (vertex *x = t->pending.head; x; x = x->tnext, k++) {
		ck_assert_ptr_eq(x, order[k]);
		ck_assert_int_eq(x->onlist, 1);
	}
	ck_assert_ptr_eq(t->pending.tail, v[2]);
	/* backwards links are consistent */
	k = 3;
	for (vertex *x = t->pending.tail; x; x = x->tprev, k--)
		ck_assert_ptr_eq(x, order[k]);
	while ((order[0] = vlist_pop(&t->pending)) != NULL)
		free(order[0]);
	free(v[3]);
	ck_assert_uint_eq(t->pending.n, 0);
	ck_assert_ptr_null(t->pending.tail);
	model_free(&m);
}
END_TEST

/* t_find_rcpt - recipient lookup by offset */
START_TEST(t_find_rcpt)
{
	model m;
	model_init(&m);
	sfile *f = model_file_new(&m, 42, "");
	vertex *a = vertex_new(2), *b = vertex_new(1);
	a->r[0].off = 100; a->r[1].off = 200; b->r[0].off = 300;
	a->file = b->file = f;
	a->fnext = b;
	f->vertices = a;
	vertex *got = NULL;
	srcpt *r = vertex_find_rcpt(f, 300, &got);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_eq(got, b);
	ck_assert_ptr_eq(vertex_find_rcpt(f, 200, &got), &a->r[1]);
	ck_assert_ptr_null(vertex_find_rcpt(f, 150, &got));
	ck_assert_uint_le(sizeof(srcpt), 8);
	model_free(&m);
}
END_TEST

/* t_notify - NOTIFY parameter parsing */
START_TEST(t_notify)
{
	static const struct { const char *in; unsigned bits; } tab[] = {
		{ "", 0 },
		{ "SUCCESS", RF_NOTIFY_SET | RF_SUCCESS },
		{ "NOTIFY=FAILURE,DELAY", RF_NOTIFY_SET | RF_FAILURE | RF_DELAY },
		{ "notify=never", RF_NOTIFY_SET | RF_NEVER },
		{ "success,failure,delay", RF_NOTIFY_SET | RF_SUCCESS | RF_FAILURE | RF_DELAY },
		{ "BOGUS,,DELAYED", RF_NOTIFY_SET },
	};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		ck_assert_uint_eq(notify_bits(zspan_from(tab[i].in)), tab[i].bits);
}
END_TEST

/* t_file_names - relative path and spool id of a file */
START_TEST(t_file_names)
{
	model m;
	char buf[64], small[6], id[64];
	model_init(&m);
	sfile *f = model_file_new(&m, 4711, "E/K/");
	f->arrival = 1700000000;
	file_relpath(f, buf, sizeof buf);
	ck_assert_str_eq(buf, "E/K/4711");
	file_relpath(f, small, sizeof small);   /* a cut path would name another file */
	ck_assert_str_eq(small, "");
	file_spoolid(f, id, sizeof id);
	ck_assert(id[0] == 'S' && strncmp(id + 1, "4711", 4) == 0);
	file_spoolid(f, small, sizeof small);   /* too small for an id: the inode */
	ck_assert_str_eq(small, "4711");
	model_free(&m);
}
END_TEST

/* model_suite - all cases */
static Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, load, unload);
	tcase_add_test(tc, t_sym);
	tcase_add_test(tc, t_files);
	tcase_add_test(tc, t_threads_rings);
	tcase_add_test(tc, t_vertex_lists);
	tcase_add_test(tc, t_find_rcpt);
	tcase_add_test(tc, t_notify);
	tcase_add_test(tc, t_file_names);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite */
int main(void)
{
	SRunner *sr = srunner_create(model_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
