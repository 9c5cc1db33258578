# tests/integration/e2e.mk - whole-system tests: zmta start, sendmail in,
# router, scheduler, mailbox / errormail / smtp out (tests/integration/e2e-lib.sh)
E2E_ITESTS = tests/integration/e2e-deliver.sh tests/integration/e2e-routerkill.sh
TESTS += $(E2E_ITESTS)
EXTRA_DIST += $(E2E_ITESTS) tests/integration/e2e-lib.sh
