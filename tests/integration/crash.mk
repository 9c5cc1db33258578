# tests/integration/crash.mk - crash safety of the whole system (issue 13):
# SIGKILL of the router, the scheduler, the smtpserver and agents while
# mail flows (crash-e2e.sh), and the scheduler's start-up removal of bodies
# a crash left without a control file (crash-orphans.sh).  The fault
# matrix through sendmail+router+scheduler: faults-e2e.sh; what is covered
# where: doc/reliability.md.
TESTS += tests/integration/crash-orphans.sh tests/integration/crash-e2e.sh
EXTRA_DIST += tests/integration/crash-lib.sh tests/integration/crash-orphans.sh \
	tests/integration/crash-e2e.sh doc/reliability.md
