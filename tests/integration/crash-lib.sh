# crash-lib.sh - a whole zmta system delivering to smtp-sink, for
# crash-e2e.sh and faults-e2e.sh (source it after testlib.sh).
# crash_setup [extra zmta.conf NAME=value...] builds in $ZT_W:
#   bin/   MAILBIN: scheduler, router, ta/{smtp,errormail,hold}, and the
#          smtpserver when it is built (links into the build tree)
#   etc/   zmta.conf, scheduler.conf, router.conf, aliases, forms/
#   po/    the postoffice; log/ LOGDIR
# Routes: sink.test -> smtp![127.0.0.1]; other domains by MX through
# DNS_SERVERS (set it in the extra arguments, else the dead port of
# scratch_po).  The smtp agent runs with CRASH_SMTP_ARGS (default
# "-p <sink port>").  CRASH_SCHED_EXTRA: more
# scheduler.conf lines.  crash_start / crash_stop run "zmta start|stop";
# crash_pid NAME is the pid "zmta status" reports; crash_spool_check
# checks the spool after a stop; SMTPD_PORT is set when the smtpserver was
# built and listens (the SMTP-in parts are skipped otherwise).

CRASH_STARTED=0
# crash_stop - zmta stop (only our postoffice) when it was started
crash_stop() {
	if [ "$CRASH_STARTED" = 1 ]; then
		with_timeout 40 "$ZT_ZMTA" stop > "$ZT_W/zmta-stop.out" 2>&1
		CRASH_STARTED=0
	fi
}
trap 'zt_rc=$?; crash_stop; (exit $zt_rc); zt_cleanup' EXIT

# crash_setup [NAME=value...]
crash_setup() {
	need_built "$ZT_ZMTA" "$top_builddir/scheduler/scheduler" "$top_builddir/router/router" \
		"$top_builddir/sendmail/sendmail" "$top_builddir/transport/errormail/errormail" \
		"$top_builddir/transport/hold/hold" "$ZT_SMTP"
	BIN=$ZT_W/bin ETC=$ZT_W/etc LOG=$ZT_W/log PO=$ZT_W/po
	SENDMAIL=$top_builddir/sendmail/sendmail
	mkdir -p "$BIN/ta" "$ETC/forms" "$LOG"
	chmod 755 "$BIN" "$BIN/ta" "$ETC" "$ETC/forms" "$LOG"
	ln -s "$top_builddir/scheduler/scheduler" "$BIN/scheduler"
	ln -s "$top_builddir/router/router" "$BIN/router"
	local a
	for a in errormail hold; do
		ln -s "$top_builddir/transport/$a/$a" "$BIN/ta/$a"
	done
	ln -s "$ZT_SMTP" "$BIN/ta/smtp"
	cp "$top_srcdir"/transport/errormail/forms/* "$ETC/forms/" 2>/dev/null
	SMTPD_PORT=
	if [ -x "$top_builddir/smtpserver/smtpserver" ]; then
		ln -s "$top_builddir/smtpserver/smtpserver" "$BIN/smtpserver"
		SMTPD_PORT=$(pick_port)
		# the listener line of smtpserver.conf(5)
		printf 'listen 127.0.0.1:%s\n' "$SMTPD_PORT" > "$ETC/smtpserver.conf"
	else
		info "smtpserver not built: the SMTP-in parts are skipped (they run once it exists)"
	fi
	start_sink || fail "smtp-sink did not start"
	scratch_po -p "$PO" -c "$ETC/zmta.conf" "MAILBIN=$BIN" "MAILSHARE=$ETC" \
		"MAILVAR=$ETC" "LOGDIR=$LOG" "ROUTERCONF=$ETC/router.conf" "ROUTER_RESCAN=1" \
		"MYHOSTNAME=mail.crash.test" "SMTP_TEST_ALLOW_LOOPBACK=yes" "$@"
	cat > "$ETC/scheduler.conf" <<EOC
*/*	interval=1s
	retries="1 1 2"
	expiry=10m expiry2=10m
	idlemax=5s
	maxta=20 maxchannel=10 maxring=10 maxthr=1
error/*	command="errormail -c \$channel"
hold/*	command="hold -c \$channel"
smtp/*	command="smtp -c \$channel ${CRASH_SMTP_ARGS:--p $SINK_PORT}"
	maxthr=3
${CRASH_SCHED_EXTRA:-}
EOC
	cat > "$ETC/router.conf" <<EOC
myhostname mail.crash.test
localdomains crash.test
aliases aliases
route sink.test smtp![127.0.0.1]
default_privilege nobody
hop_limit 30
EOC
	: > "$ETC/aliases"
	chmod 644 "$ETC"/*.conf "$ETC/aliases"
}
# crash_pid NAME - the pid "zmta status" gives for a running daemon
crash_pid() {
	"$ZT_ZMTA" status 2>/dev/null | sed -n "s/^$1: running, pid \\([0-9][0-9]*\\),.*/\\1/p"
}
# crash_start - zmta start; fails the test when it does not come up
crash_start() {
	if [ -n "$SMTPD_PORT" ] && ! with_timeout 30 "$ZT_ZMTA" check > "$ZT_W/zmta-check.out" 2>&1; then
		info "zmta check fails with the smtpserver: SMTP-in parts skipped"
		sed 's/^/    /' "$ZT_W/zmta-check.out" | head -5
		rm -f "$BIN/smtpserver"
		SMTPD_PORT=
	fi
	if ! with_timeout 60 "$ZT_ZMTA" start > "$ZT_W/zmta-start.out" 2>&1; then
		show "$ZT_W/zmta-start.out"
		fail "zmta start"
		return 1
	fi
	CRASH_STARTED=1
	wait_file "$PO/.router.notify" 20 || { fail "router socket"; show "$ZT_W/zmta-start.out" "$LOG"/*; }
	if [ -n "$SMTPD_PORT" ] && ! wait_port "$SMTPD_PORT" 10 2>/dev/null; then
		info "the smtpserver does not listen on $SMTPD_PORT: SMTP-in parts skipped"
		SMTPD_PORT=
	fi
}
# crash_logs - the daemons' logs (failure diagnosis)
crash_logs() { show "$LOG"/*; }
# crash_sm ARGS... - the built sendmail, message on stdin
crash_sm() { ZCONFIG=$ZCONFIG "$SENDMAIL" "$@"; }
# crash_smtp_send FROM RCPT ID... - one SMTP session per ID into the
# smtpserver; prints "ID CODE" per message (CODE = final reply, 0 = none)
crash_smtp_send() {
	local from=$1 rcpt=$2
	shift 2
	"$ZT_PY" "$ZT_PEERS/smtp-client.py" send-retry "$SMTPD_PORT" "$from" "$rcpt" "$@"
}
# crash_spool_check - after a stop: no body without a control file, no
# temp file, no stale lock (a recipient tagged '~'; locks of the agents in
# CRASH_DEAD_AGENTS, which the test itself stopped, are only reported).
# Sets SPOOL_LEFT (control files still queued).
crash_spool_check() {
	local f b orphans=0 locks=0
	for f in $(find "$PO/queue" -type f -name '[0-9]*' 2>/dev/null); do
		b=$(basename "$f")
		[ -n "$(find "$PO/transport" -name "$b" -type f 2>/dev/null)" ] && continue
		ls "$PO/router/$b" "$PO/deferred/$b".* "$PO/postman/$b".* > /dev/null 2>&1 && continue
		orphans=$((orphans + 1))
		info "body without control file: $f"
	done
	check_eq "spool: no body without a control file" 0 "$orphans"
	check_eq "spool: no temp control files" 0 \
		"$(find "$PO/transport" "$PO/router" "$PO/public" -name '.[0-9]*' -type f 2>/dev/null | wc -l)"
	local l pid
	for f in $(find "$PO/transport" -type f -name '[0-9]*' 2>/dev/null); do
		while IFS= read -r l; do
			pid=$(printf '%s' "${l:2:6}" | tr -d ' ')
			case " ${CRASH_DEAD_AGENTS:-} " in
			*" $pid "*) info "lock of agent $pid (stopped by the test; the next scheduler clears it) in $f" ;;
			*) locks=$((locks + 1)); info "stale lock in $f: $l" ;;
			esac
		done < <(grep -a '^r~' "$f")
	done
	check_eq "spool: no stale recipient lock" 0 "$locks"
	SPOOL_LEFT=$(find "$PO/transport" -type f -name '[0-9]*' 2>/dev/null | wc -l)
}
