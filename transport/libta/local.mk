# transport/libta/local.mk - transport agent library (libta.a)
noinst_LIBRARIES += transport/libta/libta.a
transport_libta_libta_a_SOURCES = \
	transport/libta/ta.h transport/libta/ta.c \
	transport/libta/mime.h transport/libta/mime.c
