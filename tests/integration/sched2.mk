# tests/integration/sched2.mk - scheduler integration tests: signals,
# the mailq client, retry wait versus new arrivals, statistics log.
SCHED2_ITESTS = \
	tests/integration/sched-signals.sh \
	tests/integration/sched-mailq.sh \
	tests/integration/sched-mailqsec.sh \
	tests/integration/sched-wait.sh \
	tests/integration/sched-notify.sh \
	tests/integration/sched-privs.sh
TESTS += $(SCHED2_ITESTS)
EXTRA_DIST += $(SCHED2_ITESTS)
# the scheduler's system calls per delivered message stay few (strace -c)
TESTS += tests/integration/sched-syscalls.sh
EXTRA_DIST += tests/integration/sched-syscalls.sh
