# tests/integration/local.mk - owned by the tests/integration area
