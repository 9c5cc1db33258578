# etc/local.mk - sample configuration, installed without overwriting
zmtaconfdir = $(sysconfdir)/zmta
sample_confs = etc/zmta.conf etc/scheduler.conf etc/smtp-tls.conf
sample_confs += etc/router.conf etc/aliases
EXTRA_DIST += $(sample_confs)

install-data-local:
	$(MKDIR_P) '$(DESTDIR)$(zmtaconfdir)'
	for f in $(sample_confs); do \
		b=`basename $$f`; \
		$(INSTALL_DATA) '$(srcdir)/'$$f '$(DESTDIR)$(zmtaconfdir)/'$$b.sample || exit 1; \
		if test ! -f '$(DESTDIR)$(zmtaconfdir)/'$$b; then \
			$(INSTALL_DATA) '$(srcdir)/'$$f '$(DESTDIR)$(zmtaconfdir)/'$$b || exit 1; \
		fi; \
	done

# the mail system's user (zmta.conf(5) ZMTA_USER, default zmta): created by
# a real install as root (not with DESTDIR, not with ZMTA_NO_USERADD=1 or
# configure --disable-install-user, which distcheck uses); otherwise say
# what to do.  The spool is made by "zmta postoffice-init".
AM_DISTCHECK_CONFIGURE_FLAGS = --disable-install-user
install-exec-hook:
	@if test -n '$(DESTDIR)' || test '$(ZMTA_NO_USERADD)' = 1 || \
	    test '$(ZMTA_INSTALL_USER)' != yes; then \
		echo "zmta: as root, run: $(sbindir)/zmta postoffice-init (creates the zmta user and the spool)"; \
	elif test "`id -u`" != 0; then \
		echo "zmta: not root: as root, run: $(sbindir)/zmta postoffice-init (creates the zmta user and the spool)"; \
	elif id zmta >/dev/null 2>&1; then \
		echo "zmta: user zmta exists; create or repair the spool with: $(sbindir)/zmta postoffice-init"; \
	else \
		PATH="$$PATH:/usr/sbin:/sbin"; \
		useradd --system --no-create-home --user-group --home-dir /nonexistent \
			--shell /usr/sbin/nologin zmta || { echo "zmta: useradd zmta failed" >&2; exit 1; }; \
		echo "zmta: created user zmta; now run: $(sbindir)/zmta postoffice-init"; \
	fi

# a configuration file is removed only if it is still the unmodified sample
uninstall-local:
	for f in $(sample_confs); do \
		b='$(DESTDIR)$(zmtaconfdir)/'`basename $$f`; \
		if test -f $$b && cmp -s $$b '$(srcdir)/'$$f; then rm -f $$b; fi; \
		rm -f $$b.sample; \
	done
# sm.conf(5): the sm agent mailer table (transport/sm/local.mk)
sample_confs += etc/sm.conf
# smtpserver.conf(5): the SMTP server (smtpserver/local.mk)
sample_confs += etc/smtpserver.conf
