# bench/local.mk - benchmarks run by `make bench` (not by make check).
# Each benchmark is a script bench/<name>.sh; bench/run-all.sh runs them.
# (Do not name a variable *_SCRIPTS here: automake takes that as an install primary.)
EXTRA_DIST += bench/run-all.sh bench/benchlib.sh
# smtpd-accept.sh: smtpserver vs a private Postfix smtpd, acceptance only
# (needs smtpserver/smtpserver and zmtactl/zmta, both built by `all`)
EXTRA_DIST += bench/smtpd-accept.sh
# make bench-e2e: the whole system against a private Postfix (bench/e2e.sh;
# E2E_N, RUNS, E2E_CASES, E2E_FSYNC_N scale it).  Not part of make bench.
EXTRA_DIST += bench/e2e.sh
bench-e2e: all
	ZBENCH_E2E=1 top_srcdir=$(abs_top_srcdir) top_builddir=$(abs_top_builddir) \
		$(SHELL) $(srcdir)/bench/e2e.sh
# make bench-e2e-scale: the same at 5000 then 50000 messages (submit and
# smtp-in; E2E_SCALE, E2E_CASES, RUNS override): how cost per message moves
bench-e2e-scale: all
	ZBENCH_E2E=1 E2E_SCALE="$${E2E_SCALE:-5000 50000}" top_srcdir=$(abs_top_srcdir) \
		top_builddir=$(abs_top_builddir) $(SHELL) $(srcdir)/bench/e2e.sh
.PHONY: bench-e2e bench-e2e-scale
