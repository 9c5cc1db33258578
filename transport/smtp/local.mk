# transport/smtp/local.mk - the smtp transport agent (libexecdir/zmta/ta/smtp)
ta_PROGRAMS += transport/smtp/smtp
transport_smtp_smtp_SOURCES = \
	transport/smtp/smtp.h \
	transport/smtp/smtp_main.c \
	transport/smtp/smtp_dns.h transport/smtp/smtp_dns.c \
	transport/smtp/smtp_conn.h transport/smtp/smtp_conn.c
transport_smtp_smtp_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS) $(SSL_CFLAGS)
transport_smtp_smtp_LDADD = transport/libta/libta.a spool/libspool.a lib/libzmta.a $(CARES_LIBS) $(SSL_LIBS)
