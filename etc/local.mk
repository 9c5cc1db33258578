# etc/local.mk - sample configuration, installed without overwriting
zmtaconfdir = $(sysconfdir)/zmta
sample_confs = etc/zmta.conf etc/scheduler.conf etc/smtp-tls.conf
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

# a configuration file is removed only if it is still the unmodified sample
uninstall-local:
	for f in $(sample_confs); do \
		b='$(DESTDIR)$(zmtaconfdir)/'`basename $$f`; \
		if test -f $$b && cmp -s $$b '$(srcdir)/'$$f; then rm -f $$b; fi; \
		rm -f $$b.sample; \
	done
