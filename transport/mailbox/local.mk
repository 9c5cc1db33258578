# transport/mailbox/local.mk - the local delivery agent mailbox(8)
# (libexecdir/zmta/ta/mailbox).  Everything but main() is in a private
# library so that the unit test links the same objects.
noinst_LIBRARIES += transport/mailbox/libmailbox.a
transport_mailbox_libmailbox_a_SOURCES = \
	transport/mailbox/mbox.h transport/mailbox/mbox.c
MAILBOX_LIBS = transport/mailbox/libmailbox.a transport/libta/libta.a spool/libspool.a \
	mail/libmail.a lib/libzmta.a

ta_PROGRAMS += transport/mailbox/mailbox
transport_mailbox_mailbox_SOURCES = transport/mailbox/mailbox_main.c
transport_mailbox_mailbox_LDADD = $(MAILBOX_LIBS)

dist_man_MANS += man/mailbox.8

if HAVE_CHECK
check_PROGRAMS += tests/unit/check_mailbox
TESTS += tests/unit/check_mailbox
tests_unit_check_mailbox_SOURCES = tests/unit/check_mailbox.c tests/unit/scratch.h
tests_unit_check_mailbox_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/transport/mailbox
tests_unit_check_mailbox_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_mailbox_LDADD = $(MAILBOX_LIBS) $(CHECK_LIBS)
endif

# integration: the agent run by hand in $POSTOFFICE/transport (root: a
# throwaway user is created; skipped otherwise)
TESTS += tests/integration/mailbox.sh
EXTRA_DIST += tests/integration/mailbox.sh
