# e2e-lib.sh - a whole zmta system for the e2e-*.sh tests (source it after
# testlib.sh).  e2e_setup builds, in $ZT_W:
#   bin/        MAILBIN: scheduler, router, ta/{mailbox,errormail,hold,smtp}
#               (links to the build tree)
#   etc/        zmta.conf, scheduler.conf, router.conf, aliases, forms/
#   po/         the postoffice; log/ LOGDIR; home/ the users' homes
# with local/* = mailbox (user=root, MAILBOX=%h/Maildir/), error/* =
# errormail, smtp/* = the smtp agent on the sink's port (-p), the route
# "demo.test smtp![127.0.0.1]", DNS_SERVERS = an nsd the test starts.
# e2e_user NAME-VAR makes a throwaway user (home below home/, removed at
# exit).  e2e_start / e2e_stop run "zmta start|stop".  as_user USER CMD
# runs CMD with USER's ids (setpriv).

E2E_USERS=()
# e2e_deluser - remove the users we made
e2e_deluser() {
	local u
	for u in "${E2E_USERS[@]:-}"; do
		[ -n "$u" ] || continue
		userdel "$u" > /dev/null 2>&1
		getent group "$u" > /dev/null 2>&1 && groupdel "$u" > /dev/null 2>&1
		[ -e "/var/mail/$u" ] && [ ! -s "/var/mail/$u" ] && rm -f "/var/mail/$u"
	done
	E2E_USERS=()
}
# e2e_stop - zmta stop (only our postoffice) when it was started
E2E_STARTED=0
e2e_stop() {
	if [ "$E2E_STARTED" = 1 ]; then
		with_timeout 30 "$ZT_ZMTA" stop > "$ZT_W/zmta-stop.out" 2>&1
		E2E_STARTED=0
	fi
}
trap 'zt_rc=$?; e2e_stop; e2e_deluser; (exit $zt_rc); zt_cleanup' EXIT

# e2e_user VAR - a throwaway user; its name in VAR, home $ZT_W/home/<name>
e2e_user() {
	local u=ze$$${RANDOM}x${#E2E_USERS[@]}
	u=${u:0:30}
	useradd -M -U -d "$ZT_W/home/$u" -s /bin/sh "$u" > "$ZT_W/useradd.out" 2>&1 ||
		{ show "$ZT_W/useradd.out"; skip "useradd failed"; }
	E2E_USERS+=("$u")
	mkdir -p "$ZT_W/home/$u"
	chown "$u:$u" "$ZT_W/home/$u"
	chmod 711 "$ZT_W/home/$u"
	eval "$1=\$u"
}
# as_user USER CMD... - run CMD as USER (its uid, gid and groups)
as_user() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups "$@"
}
# maildir_files USER - files delivered to USER's Maildir (new/)
maildir_files() { find "$ZT_W/home/$1/Maildir/new" -type f 2>/dev/null | sort; }
maildir_count() { maildir_files "$1" | wc -l; }
# wait_maildir USER N [SECS]
wait_maildir() {
	local i
	for i in $(seq 1 $((${3:-30} * 10))); do
		[ "$(maildir_count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# maildir_grep USER ERE - the Maildir files of USER that match
maildir_grep() {
	local f
	for f in $(maildir_files "$1"); do grep -Eq -- "$2" "$f" && echo "$f"; done
}

# e2e_setup [extra zmta.conf NAME=value...]
e2e_setup() {
	[ "$(id -u)" = 0 ] || skip "needs root (throwaway users, mailbox as root)"
	need_cmd useradd userdel setpriv
	need_built "$ZT_ZMTA" "$top_builddir/scheduler/scheduler" "$top_builddir/router/router" \
		"$top_builddir/sendmail/sendmail" "$top_builddir/transport/mailbox/mailbox" \
		"$top_builddir/transport/errormail/errormail" "$top_builddir/transport/hold/hold" "$ZT_SMTP"
	BIN=$ZT_W/bin ETC=$ZT_W/etc LOG=$ZT_W/log PO=$ZT_W/po
	SENDMAIL=$top_builddir/sendmail/sendmail
	mkdir -p "$BIN/ta" "$ETC/forms" "$LOG" "$ZT_W/home"
	chmod 755 "$BIN" "$BIN/ta" "$ETC" "$ETC/forms" "$LOG" "$ZT_W/home"
	ln -s "$top_builddir/scheduler/scheduler" "$BIN/scheduler"
	ln -s "$top_builddir/router/router" "$BIN/router"
	local a
	for a in mailbox errormail hold; do
		ln -s "$top_builddir/transport/$a/$a" "$BIN/ta/$a"
	done
	ln -s "$ZT_SMTP" "$BIN/ta/smtp"
	cp "$top_srcdir"/transport/errormail/forms/* "$ETC/forms/"
	start_nsd "$ZT_PEERS/mta.test.zone" || fail "nsd did not start"
	start_sink || fail "smtp-sink did not start"
	scratch_po -p "$PO" -c "$ETC/zmta.conf" "MAILBIN=$BIN" "MAILSHARE=$ETC" \
		"MAILVAR=$ETC" "LOGDIR=$LOG" "ROUTERCONF=$ETC/router.conf" "ROUTER_RESCAN=1" \
		"MAILBOX=%h/Maildir/" "MYHOSTNAME=mail.localhost.test" \
		"DNS_SERVERS=127.0.0.1:$DNS_PORT" "$@"
	cat > "$ETC/scheduler.conf" <<EOC
*/*	interval=2s
	retries="1 1 2"
	expiry=10m expiry2=10m
	idlemax=10s
	maxta=20 maxchannel=10 maxring=10 maxthr=1
local/*	command="mailbox -c \$channel"
	user=root
error/*	command="errormail -c \$channel"
hold/*	command="hold -c \$channel"
smtp/*	command="smtp -c \$channel -p $SINK_PORT"
	maxthr=2
EOC
	cat > "$ETC/router.conf" <<EOC
myhostname mail.localhost.test
localdomains localhost.test
aliases aliases
route demo.test smtp![127.0.0.1]
default_privilege nobody
hop_limit 30
EOC
	: > "$ETC/aliases"
	chmod 644 "$ETC"/*.conf "$ETC/aliases"
}
# e2e_start - zmta start; fails the test when it does not come up
e2e_start() {
	if ! with_timeout 60 "$ZT_ZMTA" start > "$ZT_W/zmta-start.out" 2>&1; then
		show "$ZT_W/zmta-start.out"
		fail "zmta start"
		return 1
	fi
	E2E_STARTED=1
	wait_file "$PO/.router.notify" 20 || { fail "router socket"; show "$ZT_W/zmta-start.out" "$LOG"/*; }
}
# e2e_logs - show the daemons' logs (failure diagnosis)
e2e_logs() { show "$LOG"/*; }
# e2e_sancheck - no sanitizer report in the daemons' logs
e2e_sancheck() {
	zt_sancheck "$LOG" || fail "sanitizer report in $LOG"
}
