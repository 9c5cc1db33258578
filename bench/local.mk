# bench/local.mk - benchmarks run by `make bench` (not by make check).
# Each benchmark is a script bench/<name>.sh listed in BENCH_SCRIPTS;
# bench/run-all.sh runs them in order.
BENCH_SCRIPTS =
EXTRA_DIST += bench/run-all.sh bench/benchlib.sh
