# transport/errormail/local.mk - the errormail agent (libexecdir/zmta/ta/errormail)
# and its forms (MAILSHARE/forms = sysconfdir/zmta/forms)
ta_PROGRAMS += transport/errormail/errormail
transport_errormail_errormail_SOURCES = transport/errormail/errormail.c
transport_errormail_errormail_LDADD = transport/libta/libta.a spool/libspool.a mail/libmail.a lib/libzmta.a

formsdir = $(sysconfdir)/zmta/forms
dist_forms_DATA = \
	transport/errormail/forms/nosuchuser \
	transport/errormail/forms/unknown-user \
	transport/errormail/forms/loopexceeded \
	transport/errormail/forms/envelope \
	transport/errormail/forms/header \
	transport/errormail/forms/norecipients \
	transport/errormail/forms/unresolvable \
	transport/errormail/forms/expansion

dist_man_MANS += man/errormail.8
TESTS += tests/integration/ta-errormail.sh
EXTRA_DIST += tests/integration/ta-errormail.sh
