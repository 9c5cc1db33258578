# lib/local.mk - generic library, no mail knowledge (libzmta.a)
noinst_LIBRARIES += lib/libzmta.a
lib_libzmta_a_SOURCES = \
	lib/zerr.h lib/zerr.c \
	lib/zbuf.h lib/zbuf.c \
	lib/zlog.h lib/zlog.c \
	lib/zconf.h lib/zconf.c \
	lib/zutil.h lib/zutil.c lib/zglob.c lib/zproctitle.c \
	lib/zline.h lib/zline.c \
	lib/zevent.h lib/zevent.c
