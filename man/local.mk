# man/local.mk - owned by the man area
