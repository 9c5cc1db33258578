# bench/deliver.mk - bench/sched-deliver.sh (scheduler + smtp agents to
# smtp-sink) and its Postfix anchor bench/postfix-drain.sh (make bench).
EXTRA_DIST += bench/sched-deliver.sh bench/postfix-drain.sh \
	bench/postfix/lib-postfix.sh bench/postfix/reaper.py
# the benchmarks generate their queues with the mkjob test tool
bench_targets += tests/tools/mkjob$(EXEEXT)
