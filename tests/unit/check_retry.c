/*
 * NAME
 *	check_retry - unit tests for the retry/expiry arithmetic (scheduler/retry.c)
 * SUMMARY
 *	Walks the retry table with a fixed clock and a seeded generator,
 *	checks the skew alignment table, random re-entry range, retryat
 *	hints, queueonly, expiry with and without attempts, expiry2 and the
 *	delay-warning rule.
 * SYNOPSIS
 *	check_retry (run by make check)
 * DESCRIPTION
 *	All times are relative to T0, a multiple of 60 (so that alignment
 *	does not move the exact table walk).
 * DIAGNOSTICS
 *	libcheck output; non-zero exit on failure.
 * SECURITY
 *	Test program.
 * BUGS
 *	None known.
 * SEE ALSO
 *	retry.h, scheduler.conf(5)
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "retry.h"

#define T0 ((time_t)1789999980)  /* a multiple of 60 */
#define DAY 86400L

/* clause - a clause with interval/retries/skew/expiry set directly */
static sconf_clause clause(long interval, const char *retries, int skew, long expiry, long expiry2)
{
	sconf_clause c;
	const char *p = retries;

	memset(&c, 0, sizeof c);
	c.interval = interval;
	c.skew = skew;
	c.expiry = expiry;
	c.expiry2 = expiry2;
	while (p != NULL && *p) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		c.retries[c.nretries++] = v;
		p = end;
	}
	return c;
}

/* exact walk: retries "1 1 2 3 5", interval 60, woken exactly on time */
START_TEST(test_walk_exact)
{
	sconf_clause c = clause(60, "1 1 2 3 5", 5, 0, 0);
	static const long expect[] = { 60, 120, 240, 420, 720 };
	retry_state st;
	retry_rng rng;
	time_t now = T0;

	retry_rng_seed(&rng, 42);
	retry_init(&st, &c, now);
	ck_assert_int_eq(st.wakeup, T0);
	ck_assert(retry_due(&st, &c, now));
	for (size_t i = 0; i < 5; i++) {
		time_t w = retry_next(&c, &st, now, &rng, 0);
		ck_assert_int_eq(w - T0, expect[i]);
		ck_assert_int_eq(st.wakeup, w);
		ck_assert_int_eq(st.retryindex, (int)i + 1);
		ck_assert(!retry_due(&st, &c, now));
		ck_assert(!retry_due(&st, &c, w - 1));
		ck_assert(retry_due(&st, &c, w));
		now = w;
	}
}
END_TEST

/* after the end: re-entry index in [0, n-2], every such index used */
START_TEST(test_reentry_range)
{
	sconf_clause c = clause(60, "1 2 4 8 16", 5, 0, 0);
	retry_state st;
	retry_rng rng;
	int seen[5] = { 0 };
	time_t now = T0;

	retry_rng_seed(&rng, 7);
	retry_init(&st, &c, now);
	for (int i = 0; i < 5; i++)
		now = retry_next(&c, &st, now, &rng, 0);
	ck_assert_int_eq(st.retryindex, 5);
	for (int i = 0; i < 400; i++) {
		retry_state before;
		st.retryindex = 5; /* at the end again */
		before = st;
		time_t w = retry_next(&c, &st, now, &rng, 0);
		long mult = (w - now) / 60;
		int idx = st.retryindex - 1;
		ck_assert_int_ge(idx, 0);
		ck_assert_int_le(idx, 3);
		ck_assert_int_eq(mult, c.retries[idx]);
		ck_assert_int_eq(before.attempts, st.attempts);
		seen[idx]++;
		now = w;
	}
	for (int i = 0; i < 4; i++)
		ck_assert_msg(seen[i] > 0, "re-entry index %d never chosen", i);
	ck_assert_int_eq(seen[4], 0);
}
END_TEST

/* the same seed gives the same sequence */
START_TEST(test_seeded_repeatable)
{
	sconf_clause c = clause(60, "1 1 2 3 5", 5, 0, 0);
	retry_state a, b;
	retry_rng ra, rb;
	time_t na = T0 + 7, nb = T0 + 7;

	retry_rng_seed(&ra, 99);
	retry_rng_seed(&rb, 99);
	retry_init(&a, &c, na);
	retry_init(&b, &c, nb);
	for (int i = 0; i < 50; i++) {
		na = retry_next(&c, &a, na + 3, &ra, 0);
		nb = retry_next(&c, &b, nb + 3, &rb, 0);
		ck_assert_int_eq(na, nb);
		ck_assert_int_eq(a.retryindex, b.retryindex);
	}
}
END_TEST

/* one retry entry: re-entry is always index 0 */
START_TEST(test_single_entry)
{
	sconf_clause c = clause(60, "3", 5, 0, 0);
	retry_state st;
	retry_rng rng;
	time_t now = T0;

	retry_rng_seed(&rng, 1);
	retry_init(&st, &c, now);
	for (int i = 0; i < 10; i++) {
		time_t w = retry_next(&c, &st, now, &rng, 0);
		ck_assert_int_eq(w - now, 180);
		ck_assert_int_eq(st.retryindex, 1);
		now = w;
	}
}
END_TEST

/* no retries list: one interval per retry */
START_TEST(test_no_retries)
{
	sconf_clause c = clause(600, NULL, 5, 0, 0);
	retry_state st;
	time_t now = T0 * 10;   /* a multiple of 600 */

	retry_init(&st, &c, now);
	ck_assert_int_eq(retry_next(&c, &st, now, NULL, 0) - now, 600);
	ck_assert_int_eq(st.retryindex, 0);
}
END_TEST

/* skew alignment table: interval, skew, t mod interval -> shift */
static const struct {
	long interval;
	int skew;
	long r, shift;
} align_tab[] = {
	{ 60, 5, 0, 0 },     { 60, 5, 5, -5 },    { 60, 5, 12, -12 },  { 60, 5, 20, -12 },
	{ 60, 5, 30, -12 },  { 60, 5, 31, 12 },   { 60, 5, 48, 12 },   { 60, 5, 55, 5 },
	{ 60, 5, 59, 1 },    { 60, 1, 20, -20 },  { 60, 1, 40, 20 },   { 60, 1, 30, -30 },
	{ 3600, 5, 100, -100 }, { 3600, 5, 1000, -720 }, { 3600, 5, 3000, 600 },
	{ 3600, 100, 1000, -36 }, { 1, 5, 0, 0 },   { 7, 10, 3, 0 },  /* interval/skew == 0 */
};

/* test_align_table - the skew rule over a table of times */
START_TEST(test_align_table)
{
	time_t base = T0 * 420; /* a multiple of every interval in the table */
	time_t t = base + align_tab[_i].r;

	ck_assert_int_eq(retry_align(t, align_tab[_i].interval, align_tab[_i].skew) - t,
			 align_tab[_i].shift);
}
END_TEST

/* unaligned clock: each wakeup moves towards a multiple by <= interval/skew */
START_TEST(test_walk_unaligned)
{
	sconf_clause c = clause(60, "1 1 2 3 5", 5, 0, 0);
	static const long expect[] = { 72, 120, 240, 420, 720 };
	retry_state st;
	retry_rng rng;
	time_t now = T0 + 24; /* 24 s past a full minute */

	retry_rng_seed(&rng, 3);
	retry_init(&st, &c, now);
	/* T0+24 +60 = T0+84: r = 24 <= 30 -> down by 12 -> T0+72;
	 * T0+72 +60 = T0+132: r = 12 -> down by 12 -> T0+120 (aligned from here) */
	for (size_t i = 0; i < 5; i++) {
		time_t w = retry_next(&c, &st, now, &rng, 0);
		ck_assert_int_eq(w - T0, expect[i]);
		now = w;
	}
}
END_TEST

/* never in the past, and never more than step + interval/skew away */
START_TEST(test_never_past)
{
	sconf_clause c = clause(60, "1 1 2 3 5 8", 1, 0, 0);
	retry_state st;
	retry_rng rng;

	retry_rng_seed(&rng, 11);
	retry_init(&st, &c, T0);
	for (int i = 0; i < 2000; i++) {
		time_t now = T0 + (time_t)retry_rng_below(&rng, 100000);
		int idx = st.retryindex >= c.nretries ? -1 : st.retryindex;
		time_t w = retry_next(&c, &st, now, &rng, 0);
		ck_assert_int_gt(w, now);
		if (idx >= 0)
			ck_assert_int_le(w - now, c.retries[idx] * 60 + 60);
	}
	c.skew = 5;
	for (int i = 0; i < 2000; i++) {
		time_t now = T0 + (time_t)retry_rng_below(&rng, 100000);
		time_t w = retry_next(&c, &st, now, &rng, 0);
		ck_assert_int_gt(w, now);
		ck_assert_int_le(w - now, 8 * 60 + 12);
	}
}
END_TEST

/* retry_hint_bound: global maximum and expiry, nothing else */
START_TEST(test_hint_bound)
{
	time_t now = T0;
	static const struct {
		long hint_in;   /* seconds ahead, or <= 0 */
		long max;       /* configured maximum (<= 0: default) */
		long expiry_in; /* seconds ahead, 0 = none, < 0 = past */
		long want_in;   /* -1: 0 returned */
	} tab[] = {
		{ 8, 0, 0, 8 },                      /* short hint: as asked */
		{ 3600, 0, 0, 3600 },
		{ 2 * DAY, 0, 0, DAY },              /* default maximum 1 day */
		{ 2 * DAY, 3 * DAY, 0, 2 * DAY },    /* configured larger */
		{ 2 * DAY, 60, 0, 60 },              /* configured smaller */
		{ 400 * DAY, 400 * DAY, 0, 30 * DAY },/* hard ceiling */
		{ 600, 0, 300, 300 },                /* not past the expiry */
		{ 200, 0, 300, 200 },
		{ 600, 0, -10, -1 },                 /* expiry already past: table */
		{ 600, 0, 1, 1 },
		{ 0, 0, 0, -1 },                     /* now: no hint */
		{ -5, 0, 0, -1 },                    /* past: no hint */
	};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		time_t hint = tab[i].hint_in > 0 ? now + tab[i].hint_in : now + tab[i].hint_in;
		time_t exp = tab[i].expiry_in == 0 ? 0 : now + tab[i].expiry_in;
		time_t got = retry_hint_bound(now, hint, tab[i].max, exp);
		time_t want = tab[i].want_in < 0 ? 0 : now + tab[i].want_in;
		ck_assert_msg(got == want, "row %zu: got %lld want %lld", i,
			      (long long)(got ? got - now : -1), (long long)(want ? want - now : -1));
	}
}
END_TEST

/* retryat +8 with interval=1s: the hint, not the table, sets the time */
START_TEST(test_hint_short_interval)
{
	sconf_clause c = clause(1, "1", 5, 0, 0);
	retry_state st;
	retry_rng rng;
	time_t now = T0;

	retry_rng_seed(&rng, 9);
	retry_init(&st, &c, now);
	time_t h = retry_hint_bound(now, retry_hint_abs(now, 8, 1), 0, 0);
	ck_assert_int_eq(h, now + 8);
	ck_assert_int_eq(retry_next(&c, &st, now, &rng, h), now + 8);
}
END_TEST

/* retryat hints */
START_TEST(test_retryat)
{
	sconf_clause c = clause(60, "1 1 2 3 5", 5, 0, 0);
	retry_state st;
	retry_rng rng;
	time_t now = T0;

	retry_rng_seed(&rng, 5);
	ck_assert_int_eq(retry_hint_abs(now, 300, 1), now + 300);
	ck_assert_int_eq(retry_hint_abs(now, (long)(now + 50), 0), now + 50);
	ck_assert_int_eq(retry_hint_abs(now, (long)(now - 50), 0), 0);
	ck_assert_int_eq(retry_hint_abs(now, (long)now, 0), 0);
	ck_assert_int_eq(retry_hint_abs(now, 0, 1), 0);
	ck_assert_int_eq(retry_hint_abs(now, -5, 1), 0);

	retry_init(&st, &c, now);
	/* later than the table: honoured */
	ck_assert_int_eq(retry_next(&c, &st, now, &rng, retry_hint_abs(now, 300, 1)), now + 300);
	ck_assert_int_eq(st.retryindex, 1);
	/* earlier than the table but in the future: honoured too */
	ck_assert_int_eq(retry_next(&c, &st, now, &rng, now + 10), now + 10);
	ck_assert_int_eq(st.retryindex, 2);
	/* longer than the table's longest step: honoured */
	ck_assert_int_eq(retry_next(&c, &st, now, &rng, now + 10 * DAY), now + 10 * DAY);
	ck_assert_int_eq(st.retryindex, 3);
	st.retryindex = 2;
	/* absurdly far: the hard ceiling */
	ck_assert_int_eq(retry_next(&c, &st, now, &rng, now + 400 * DAY), now + RETRY_HINT_CEIL);
	/* in the past or absent: the table decides (index 3 -> 3 * 60) */
	ck_assert_int_eq(retry_next(&c, &st, now, &rng, 0), now + 180);
}
END_TEST

/* attempts are counted only by retry_attempted: one per report */
START_TEST(test_attempts_single_increment)
{
	sconf_clause c = clause(60, "1 1 2 3 5", 5, 0, 0);
	retry_state st;
	retry_rng rng;

	retry_rng_seed(&rng, 5);
	retry_init(&st, &c, T0);
	retry_attempted(&st);
	retry_attempted(&st);
	retry_attempted(&st);
	retry_next(&c, &st, T0, &rng, 0);
	ck_assert_uint_eq(st.attempts, 3);
	ck_assert_int_eq(st.retryindex, 1);
	retry_next(&c, &st, T0, &rng, 0);
	ck_assert_uint_eq(st.attempts, 3);
	ck_assert_int_eq(st.retryindex, 2);
}
END_TEST

/* queueonly: no timer wakeups until kicked */
START_TEST(test_queueonly)
{
	sconf_clause c = clause(60, "1 2", 5, 0, 0);
	retry_state st;
	retry_rng rng;

	c.flags |= SCF_QUEUEONLY;
	retry_rng_seed(&rng, 5);
	retry_init(&st, &c, T0);
	ck_assert_int_eq(st.wakeup, RETRY_NEVER);
	ck_assert(!retry_due(&st, &c, T0 + 100 * DAY));
	retry_kick(&st, T0 + 5);
	ck_assert(retry_due(&st, &c, T0 + 5));
	ck_assert_int_eq(retry_next(&c, &st, T0 + 5, &rng, 0), RETRY_NEVER);
	ck_assert_int_eq(st.retryindex, 1);
	ck_assert(!retry_due(&st, &c, T0 + 100 * DAY));
	/* even a retryat hint does not start a queueonly thread */
	ck_assert_int_eq(retry_next(&c, &st, T0, &rng, T0 + 60), RETRY_NEVER);
}
END_TEST

/* expiry decisions: expiry 3d, expiry2 default (1 day) */
static const struct {
	long expiry, expiry2;
	long now;            /* seconds after arrival */
	unsigned long attempts;
	long next;           /* next wakeup after arrival, 0 = unknown, -1 = RETRY_NEVER */
	enum retry_expiry want;
} exp_tab[] = {
	{ 3 * DAY, 0, 1 * DAY, 0, 0, RETRY_KEEP },
	{ 3 * DAY, 0, 3 * DAY, 0, 0, RETRY_KEEP },            /* no attempt yet */
	{ 3 * DAY, 0, 3 * DAY, 1, 0, RETRY_EXPIRE_SOFT },
	{ 3 * DAY, 0, 3 * DAY - 1, 1, 0, RETRY_KEEP },
	{ 3 * DAY, 0, 2 * DAY, 1, 3 * DAY + 1, RETRY_EXPIRE_SOFT }, /* next retry too late */
	{ 3 * DAY, 0, 2 * DAY, 0, 3 * DAY + 1, RETRY_KEEP },
	{ 3 * DAY, 0, 2 * DAY, 1, 3 * DAY, RETRY_KEEP },      /* exactly at expiry: still tried */
	{ 3 * DAY, 0, 2 * DAY, 1, -1, RETRY_KEEP },
	{ 3 * DAY, 0, 4 * DAY, 0, 0, RETRY_EXPIRE_HARD },
	{ 3 * DAY, 0, 4 * DAY - 1, 0, 0, RETRY_KEEP },
	{ 3 * DAY, 0, 4 * DAY, 5, 0, RETRY_EXPIRE_HARD },
	{ 3 * DAY, 7200, 3 * DAY + 7200, 0, 0, RETRY_EXPIRE_HARD },
	{ 3 * DAY, 7200, 3 * DAY + 7199, 0, 0, RETRY_KEEP },
	{ 0, 0, 100 * DAY, 9, 0, RETRY_KEEP },                 /* expiry off */
	{ 0, 7200, 100 * DAY, 0, 0, RETRY_KEEP },
};

/* test_expiry_table - soft and hard expiry decisions over a table */
START_TEST(test_expiry_table)
{
	sconf_clause c = clause(60, "1", 5, exp_tab[_i].expiry, exp_tab[_i].expiry2);
	time_t arrival = T0;
	time_t next = exp_tab[_i].next == 0 ? 0
		    : exp_tab[_i].next < 0 ? RETRY_NEVER : arrival + exp_tab[_i].next;

	ck_assert_int_eq(retry_expiry_check(&c, arrival, exp_tab[_i].attempts,
					    arrival + exp_tab[_i].now, next),
			 exp_tab[_i].want);
}
END_TEST

/* test_expiry_times - expiry and expiry2 instants, expiry 0 is off */
START_TEST(test_expiry_times)
{
	sconf_clause c = clause(60, "1", 5, 3 * DAY, 0);

	ck_assert_int_eq(retry_expiry_time(&c, T0), T0 + 3 * DAY);
	ck_assert_int_eq(retry_expiry2_time(&c, T0), T0 + 4 * DAY);
	c.expiry2 = 3600;
	ck_assert_int_eq(retry_expiry2_time(&c, T0), T0 + 3 * DAY + 3600);
	c.expiry = 0;
	ck_assert_int_eq(retry_expiry_time(&c, T0), 0);
	ck_assert_int_eq(retry_expiry2_time(&c, T0), 0);
}
END_TEST

/* test_delay_warning - due from arrival + delay_warning on, never when warned or off */
START_TEST(test_delay_warning)
{
	ck_assert(retry_delay_warning_due(4 * 3600, T0, 0, T0 + 4 * 3600));
	ck_assert(retry_delay_warning_due(4 * 3600, T0, 0, T0 + 5 * 3600));
	ck_assert(!retry_delay_warning_due(4 * 3600, T0, 0, T0 + 4 * 3600 - 1));
	ck_assert(!retry_delay_warning_due(4 * 3600, T0, 1, T0 + 5 * 3600));
	ck_assert(!retry_delay_warning_due(0, T0, 0, T0 + 100 * DAY));
}
END_TEST

static const struct {
	long secs;
	const char *want;
} age_tab[] = {
	{ 0, "0 seconds" }, { 1, "1 second" }, { 42, "42 seconds" }, { 61, "1 minute 1 second" },
	{ 7260, "2 hours 1 minute" }, { 90061, "1 day 1 hour" }, { 3 * DAY, "3 days" },
	{ DAY + 60, "1 day" }, { 5 * DAY + 3 * 3600 + 59, "5 days 3 hours" },
};

/* test_format_age - "N unit" texts for ages */
START_TEST(test_format_age)
{
	char b[64];

	ck_assert_int_eq(retry_format_age(age_tab[_i].secs, b, sizeof b), Z_OK);
	ck_assert_str_eq(b, age_tab[_i].want);
	ck_assert_int_eq(retry_format_age(age_tab[_i].secs, b, 3), Z_ETOOBIG);
}
END_TEST

/* test_rng_below - rng values stay below n, 0 for n <= 1 */
START_TEST(test_rng_below)
{
	retry_rng r;

	retry_rng_seed(&r, 0);
	ck_assert_uint_eq(retry_rng_below(&r, 0), 0);
	ck_assert_uint_eq(retry_rng_below(&r, 1), 0);
	for (int i = 0; i < 1000; i++)
		ck_assert_uint_lt(retry_rng_below(&r, 3), 3);
}
END_TEST

/* retry_suite - all test cases */
static Suite *retry_suite(void)
{
	Suite *s = suite_create("retry");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_walk_exact);
	tcase_add_test(tc, test_reentry_range);
	tcase_add_test(tc, test_seeded_repeatable);
	tcase_add_test(tc, test_single_entry);
	tcase_add_test(tc, test_no_retries);
	tcase_add_loop_test(tc, test_align_table, 0, (int)(sizeof align_tab / sizeof align_tab[0]));
	tcase_add_test(tc, test_walk_unaligned);
	tcase_add_test(tc, test_never_past);
	tcase_add_test(tc, test_retryat);
	tcase_add_test(tc, test_hint_bound);
	tcase_add_test(tc, test_hint_short_interval);
	tcase_add_test(tc, test_attempts_single_increment);
	tcase_add_test(tc, test_queueonly);
	tcase_add_loop_test(tc, test_expiry_table, 0, (int)(sizeof exp_tab / sizeof exp_tab[0]));
	tcase_add_test(tc, test_expiry_times);
	tcase_add_test(tc, test_delay_warning);
	tcase_add_loop_test(tc, test_format_age, 0, (int)(sizeof age_tab / sizeof age_tab[0]));
	tcase_add_test(tc, test_rng_below);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite, exit 0 when all pass */
int main(void)
{
	SRunner *sr = srunner_create(retry_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
