# spool/local.mk - libspool: layout, submission, control files, TA protocol codec
noinst_LIBRARIES += spool/libspool.a
spool_libspool_a_SOURCES = \
	spool/spool.h spool/spool.c \
	spool/ctlfile.h spool/ctlfile.c \
	spool/submit.h spool/submit.c \
	spool/taproto.h spool/taproto.c

# zmta(8): administration command (postoffice-init, ...)
sbin_PROGRAMS += spool/zmta
spool_zmta_SOURCES = spool/zmta.c
spool_zmta_LDADD = spool/libspool.a lib/libzmta.a
