# bench/deliver.mk - bench/sched-deliver.sh (scheduler + smtp agents to
# smtp-sink) and its Postfix anchor bench/postfix-drain.sh (make bench).
# Both need scheduler/scheduler, transport/smtp/smtp and tests/tools/mkjob
# (already in bench_targets / all).
EXTRA_DIST += bench/sched-deliver.sh bench/postfix-drain.sh \
	bench/postfix/lib-postfix.sh bench/postfix/reaper.py
