# zmtactl/local.mk - zmta(8), the postmaster's command: spool administration
# (postoffice-init, spoolid, ctlcheck, quarantine) and the supervisor of the
# daemons (start, stop, status, reload, check), plus the systemd unit.

# libzmtactl.a: the supervisor's pure parts (unit-tested): restart back-off,
# pid files, the status file format
noinst_LIBRARIES += zmtactl/libzmtactl.a
zmtactl_libzmtactl_a_SOURCES = \
	zmtactl/backoff.h zmtactl/backoff.c \
	zmtactl/pidfile.h zmtactl/pidfile.c \
	zmtactl/state.h zmtactl/state.c

sbin_PROGRAMS += zmtactl/zmta
zmtactl_zmta_SOURCES = zmtactl/zmta.c zmtactl/supervise.h zmtactl/supervise.c
zmtactl_zmta_LDADD = zmtactl/libzmtactl.a spool/libspool.a lib/libzmta.a

dist_man_MANS += man/zmta.8

if HAVE_CHECK
check_PROGRAMS += tests/unit/check_zmtactl
TESTS += tests/unit/check_zmtactl
tests_unit_check_zmtactl_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_zmtactl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/zmtactl
tests_unit_check_zmtactl_LDADD = zmtactl/libzmtactl.a lib/libzmta.a $(CHECK_LIBS)
endif

ZMTACTL_ITESTS = tests/integration/zmta-ctl.sh
TESTS += $(ZMTACTL_ITESTS)
EXTRA_DIST += $(ZMTACTL_ITESTS)

# systemd: never installed by "make install".  "make install-systemd"
# writes zmta.service into $(systemdunitdir) (override on the command line,
# e.g. make install-systemd systemdunitdir=/lib/systemd/system).
systemdunitdir = /etc/systemd/system
EXTRA_DIST += etc/zmta.service.in
CLEANFILES += etc/zmta.service

etc/zmta.service: $(srcdir)/etc/zmta.service.in Makefile
	$(MKDIR_P) etc
	sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(srcdir)/etc/zmta.service.in > $@.tmp && mv $@.tmp $@

install-systemd: etc/zmta.service
	$(MKDIR_P) '$(DESTDIR)$(systemdunitdir)'
	$(INSTALL_DATA) etc/zmta.service '$(DESTDIR)$(systemdunitdir)/zmta.service'
	@echo "zmta: installed $(DESTDIR)$(systemdunitdir)/zmta.service; now: systemctl daemon-reload && systemctl enable --now zmta"

uninstall-systemd:
	rm -f '$(DESTDIR)$(systemdunitdir)/zmta.service'

.PHONY: install-systemd uninstall-systemd
