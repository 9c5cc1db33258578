# tests/integration/faults.mk - fault-injection tests: a full disk
# (tests/tools/enospc.c, an LD_PRELOAD shim the test script compiles itself)
# under the smtp agent, the scheduler and the submission library.
TESTS += tests/integration/faults-disk.sh
EXTRA_DIST += tests/integration/faults-disk.sh tests/tools/enospc.c
# the fault matrix end to end: sendmail -> router -> scheduler -> smtp agent
# against scripted peers and a faulty DNS server (doc/reliability.md)
TESTS += tests/integration/faults-e2e.sh
EXTRA_DIST += tests/integration/faults-e2e.sh
