# bench/local.mk - owned by the bench area
