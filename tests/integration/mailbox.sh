#!/bin/sh
# mailbox.sh - the mailbox agent run by hand the ZMailer way: cwd
# $POSTOFFICE/transport, job lines on stdin, reports on stdout.  Jobs are
# made by tests/tools/mkjob with channel-local quads (host = login name,
# privilege = uid) for a throwaway user created here (useradd, removed at
# exit, home below the work dir).  Checks:
#   1. mbox in a root:mail 2775 spool dir: From line, >From quoting, -l log,
#      Return-Path/Delivered-To, owner is the user, mode 0600, lock gone
#   2. Maildir (-d %h/Maildir/): one file in new/, owned by the user
#   3. |program runs as the user (id -u), in its home, clean environment,
#      message on stdin; exit codes 67 -> error2, 75 -> deferred
#   4. /file append as the user; privilege 0 refused (nothing runs)
#   5. unknown user -> error2 with 5.1.1; Delivered-To loop -> error2 5.4.6
#   6. a full disk (tests/tools/enospc.c) while appending -> deferred and
#      the mailbox truncated back to its old size
#   7. a program over the time limit (-T) -> deferred, process group killed
# Needs root (exit 77 otherwise).
ZT_TIMEOUT=${ZT_TIMEOUT:-120}
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_MAILBOX=${ZT_MAILBOX:-$top_builddir/transport/mailbox/mailbox}
need_built "$ZT_MAILBOX" "$ZT_MKJOB"
[ "$(id -u)" = 0 ] || skip "needs root (creates a throwaway user)"
need_cmd useradd userdel
T=$'\t'

# --- the throwaway user -------------------------------------------------------
U=zmb$$r$RANDOM
U=${U:0:30}
UHOME=$ZT_W/home-$U
MADE_USER=0
SPOOL_BY_USERADD=0
del_user() {
	if [ "$MADE_USER" = 1 ]; then
		userdel "$U" > /dev/null 2>&1
		# an empty mail spool file useradd may have made (CREATE_MAIL_SPOOL)
		[ "$SPOOL_BY_USERADD" = 1 ] && [ ! -s "/var/mail/$U" ] && rm -f "/var/mail/$U"
		getent group "$U" > /dev/null 2>&1 && groupdel "$U" > /dev/null 2>&1
		MADE_USER=0
	fi
}
trap 'zt_rc=$?; del_user; (exit $zt_rc); zt_cleanup' EXIT
useradd -M -U -d "$UHOME" -s /bin/sh "$U" > "$ZT_W/useradd.out" 2>&1 ||
	{ show "$ZT_W/useradd.out"; skip "useradd failed"; }
MADE_USER=1
[ -e "/var/mail/$U" ] && SPOOL_BY_USERADD=1
UUID=$(id -u "$U")
UGID=$(id -g "$U")
mkdir -p "$UHOME" && chown "$U:$U" "$UHOME" && chmod 700 "$UHOME"
PROG=$ZT_W/prog
mkdir -p "$PROG" && chown "$U:$U" "$PROG"
# a spool directory like Debian's /var/mail (root:mail 2775); without a
# mail group, a sticky world-writable one
SPOOL=$ZT_W/mail
mkdir -p "$SPOOL"
if getent group mail > /dev/null 2>&1; then
	chgrp mail "$SPOOL" && chmod 2775 "$SPOOL"
else
	chmod 1777 "$SPOOL"
fi
MB=$SPOOL/$U

scratch_po "MAILBOX=$SPOOL/%u" "MYHOSTNAME=host.test" \
	"MAILBOX_LOCKWAIT=5s"

# run_mb OUTBASE JOBTEXT ARGS... - the agent in $PO/transport (TA_RC)
run_mb() {
	local base=$1 jobs=$2
	shift 2
	( cd "$PO/transport" && printf '%s' "$jobs" |
		timeout -k 3 60 "$ZT_MAILBOX" "$@" ) > "$base.out" 2> "$base.err"
	TA_RC=$?
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$base.err" 2>/dev/null; then
		fail "sanitizer report from the agent in $base.err"
		grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$base.err" | head -30
	fi
	return 0
}
# ljob ARGS... - a local job for $U (privilege $UUID) in $PO
ljob() { mkjob -P "$PO" -c local -x "$U" -u "$UUID" "$@"; }
fsize() { stat -c %s "$1" 2>/dev/null || echo missing; }

# --- 1. mbox -----------------------------------------------------------------
printf 'From the start\nnormal line\nFrom here too\n>From quoted already\n' > "$ZT_W/body1"
j=$(ljob -b "$ZT_W/body1" "$U")
run_mb "$ZT_W/t1" "$j$T$U"$'\n' -c local
check_eq "mbox: exit 0" 0 "$TA_RC"
check_eq "mbox: ok3" ok3 "$(report_word "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
check_eq "mbox: tag +" + "$(ctl_tags "$(ctlpath "$j")")"
check_match "mbox: From line first" '^From mkjob@src\.test [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] ' \
	"$(head -1 "$MB" 2>/dev/null)"
check_eq "mbox: Return-Path second" "Return-Path: <mkjob@src.test>" "$(sed -n 2p "$MB" 2>/dev/null)"
check_eq "mbox: Delivered-To" "Delivered-To: $U@host.test" "$(sed -n 3p "$MB" 2>/dev/null)"
check_eq "mbox: body quoted, empty line after" ">From the start|normal line|>From here too|>From quoted already||" \
	"$(sed -n '/^$/,$p' "$MB" 2>/dev/null | sed 1d | tr '\n' '|')"
check_eq "mbox: owner is the user" "$U" "$(stat -c %U "$MB" 2>/dev/null)"
check_eq "mbox: mode 0600" 600 "$(stat -c %a "$MB" 2>/dev/null)"
check_eq "mbox: lock file gone" no "$([ -e "$MB.lock" ] && echo yes || echo no)"
# a second message is appended after an empty line
j=$(ljob "$U")
run_mb "$ZT_W/t1b" "$j$T$U"$'\n' -c local -l "$ZT_W/mb.log"
check_match "mbox: -l log line" "^<mkjob\\.[^ ]*>: [0-9]+ \\+ [0-9]+ : $MB \\(pid [0-9]+ user $U\\)\$" \
	"$(cat "$ZT_W/mb.log" 2>/dev/null)"
check_eq "mbox: second ok3" ok3 "$(report_word "$ZT_W/t1b.out" "$(rcpt_id "$j" 1)")"
check_eq "mbox: two From lines" 2 "$(grep -c '^From ' "$MB")"
check_eq "mbox: empty line before the second" "<>" \
	"$(awk '/^From / { if (++n == 2) print "<" prev ">" } { prev = $0 }' "$MB")"

# --- 2. Maildir ----------------------------------------------------------------
j=$(ljob "$U")
run_mb "$ZT_W/t2" "$j$T$U"$'\n' -c local -d '%h/Maildir/'
check_eq "maildir: ok3" ok3 "$(report_word "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"
f=$(find "$UHOME/Maildir/new" -type f 2>/dev/null | head -1)
check_eq "maildir: one file in new/" 1 "$(find "$UHOME/Maildir/new" -type f 2>/dev/null | wc -l)"
check_eq "maildir: tmp/ empty" 0 "$(find "$UHOME/Maildir/tmp" -type f 2>/dev/null | wc -l)"
check_eq "maildir: owner is the user" "$U" "$(stat -c %U "$f" 2>/dev/null)"
check_eq "maildir: Maildir owned by the user" "$U" "$(stat -c %U "$UHOME/Maildir" 2>/dev/null)"
check_eq "maildir: no From line, Return-Path first" "Return-Path: <mkjob@src.test>" "$(head -1 "$f" 2>/dev/null)"
check_match "maildir: name time.pid_seq.host" '^[0-9]+\.M[0-9]+P[0-9]+Q[0-9]+\.host\.test,S=[0-9]+$' \
	"$(basename "$f")"

# --- 3. programs ------------------------------------------------------------------
cmd="|id -u > $PROG/uid; pwd > $PROG/cwd; env > $PROG/env; cat > $PROG/msg"
j=$(ljob "$cmd")
ZCONFIG_LEAK=leak run_mb "$ZT_W/t3" "$j$T$U"$'\n' -c local
check_eq "program: ok3" ok3 "$(report_word "$ZT_W/t3.out" "$(rcpt_id "$j" 1)")"
check_eq "program: ran as the user's uid" "$UUID" "$(cat "$PROG/uid" 2>/dev/null)"
check_eq "program: cwd is the home" "$UHOME" "$(cat "$PROG/cwd" 2>/dev/null)"
check_match "program: SENDER set" '^SENDER=mkjob@src\.test$' "$(cat "$PROG/env" 2>/dev/null)"
check_match "program: PATH clean" '^PATH=/usr/bin:/bin$' "$(cat "$PROG/env" 2>/dev/null)"
check_match "program: HOME and USER" "^HOME=$UHOME"$'\n'".*^USER=$U\$|^USER=$U"$'\n'".*^HOME=$UHOME\$" \
	"$(grep -E '^(HOME|USER)=' "$PROG/env" 2>/dev/null)"
check_nomatch "program: no inherited environment" '^(ZCONFIG|ZCONFIG_LEAK)=' "$(cat "$PROG/env" 2>/dev/null)"
check_match "program: message on stdin with a From line" '^From mkjob@src\.test ' "$(head -1 "$PROG/msg" 2>/dev/null)"
check_match "program: Return-Path in the message" '^Return-Path: <mkjob@src\.test>$' "$(cat "$PROG/msg" 2>/dev/null)"
j=$(ljob "|echo no such mailbox here; exit 67")
run_mb "$ZT_W/t3b" "$j$T$U"$'\n' -c local
check_eq "program exit 67: error2" error2 "$(report_word "$ZT_W/t3b.out" "$(rcpt_id "$j" 1)")"
check_match "program exit 67: output in the report" 'no such mailbox here' \
	"$(report_line "$ZT_W/t3b.out" "$(rcpt_id "$j" 1)")"
check_eq "program exit 67: tag -" - "$(ctl_tags "$(ctlpath "$j")")"
j=$(ljob "|exit 75")
run_mb "$ZT_W/t3c" "$j$T$U"$'\n' -c local
check_eq "program exit 75: deferred" deferred "$(report_word "$ZT_W/t3c.out" "$(rcpt_id "$j" 1)")"
check_eq "program exit 75: tag back to ' '" _ "$(ctl_tags "$(ctlpath "$j")")"

# --- 4. files, and privilege 0 --------------------------------------------------------
j=$(ljob "$PROG/file")
run_mb "$ZT_W/t4" "$j$T$U"$'\n' -c local
check_eq "file: ok3" ok3 "$(report_word "$ZT_W/t4.out" "$(rcpt_id "$j" 1)")"
check_eq "file: owned by the privilege user" "$U" "$(stat -c %U "$PROG/file" 2>/dev/null)"
check_match "file: mbox format" '^From mkjob@src\.test ' "$(head -1 "$PROG/file" 2>/dev/null)"
j=$(mkjob -P "$PO" -c local -x root -u 0 "|touch $PROG/asroot" "$PROG/rootfile")
run_mb "$ZT_W/t4b" "$j${T}root"$'\n' -c local
check_eq "privilege 0: both error2" "error2 error2" "$(words "$ZT_W/t4b.out")"
check_match "privilege 0: says refused" 'refused' "$(report_line "$ZT_W/t4b.out" "$(rcpt_id "$j" 1)")"
check_eq "privilege 0: program did not run" no "$([ -e "$PROG/asroot" ] && echo yes || echo no)"
check_eq "privilege 0: file not written" no "$([ -e "$PROG/rootfile" ] && echo yes || echo no)"

# --- 5. unknown user, Delivered-To loop ---------------------------------------------------
nu=nosuchuser$$x
j=$(mkjob -P "$PO" -c local -x "$nu" -u 0 "$nu")
run_mb "$ZT_W/t5" "$j$T$nu"$'\n' -c local
check_eq "unknown user: error2" error2 "$(report_word "$ZT_W/t5.out" "$(rcpt_id "$j" 1)")"
check_match "unknown user: 5.1.1" '5\.1\.1' "$(report_line "$ZT_W/t5.out" "$(rcpt_id "$j" 1)")"
check_match "unknown user: d line with 5.1.1" '5\.1\.1' "$(ctl_dlines "$(ctlpath "$j")")"
size0=$(fsize "$MB")
j=$(ljob -h "Delivered-To: $U@host.test" "$U")
run_mb "$ZT_W/t5b" "$j$T$U"$'\n' -c local
check_eq "loop: error2" error2 "$(report_word "$ZT_W/t5b.out" "$(rcpt_id "$j" 1)")"
check_match "loop: 5.4.6 mail forwarding loop" '5\.4\.6.*loop|loop.*5\.4\.6' \
	"$(report_line "$ZT_W/t5b.out" "$(rcpt_id "$j" 1)")"
check_eq "loop: mailbox unchanged" "$size0" "$(fsize "$MB")"
# two recipients in one job: the user and a program
j=$(ljob "$U" "|cat > $PROG/two")
run_mb "$ZT_W/t5c" "$j$T$U"$'\n' -c local
check_eq "two recipients: two ok3" "ok3 ok3" "$(words "$ZT_W/t5c.out")"
check_eq "two recipients: tags" "++" "$(ctl_tags "$(ctlpath "$j")")"

# --- 6. a full disk while appending ------------------------------------------------------------
SHIM=$ZT_W/enospc.so
if ! command -v cc > /dev/null 2>&1 ||
   ! cc -shared -fPIC -o "$SHIM" "$top_srcdir/tests/tools/enospc.c" -ldl > "$ZT_W/cc.out" 2>&1; then
	info "SKIP part 6: cannot build the enospc shim"
elif nm "$ZT_MAILBOX" 2>/dev/null | grep -q ' [TW] write$'; then
	info "SKIP part 6: $ZT_MAILBOX defines write itself (static sanitizer runtime)"
else
	FLOG=$ZT_W/faults.log
	: > "$FLOG"
	chmod 666 "$FLOG"   # the shim writes it from the child (the user)
	if ldd "$ZT_MAILBOX" 2>/dev/null | grep -q libasan; then
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
		export ASAN_OPTIONS
	fi
	size0=$(fsize "$MB")
	j=$(ljob -z 20000 "$U")
	ENOSPC_MATCH=$MB ENOSPC_AFTER=3000 ENOSPC_LOG=$FLOG LD_PRELOAD=$SHIM \
		run_mb "$ZT_W/t6" "$j$T$U"$'\n' -c local
	if [ "$(grep -c '^enospc ' "$FLOG")" -ge 1 ]; then
		pass "enospc: the fault fired"
		check_eq "enospc: deferred" deferred "$(report_word "$ZT_W/t6.out" "$(rcpt_id "$j" 1)")"
		check_match "enospc: reason" 'No space left on device' \
			"$(report_line "$ZT_W/t6.out" "$(rcpt_id "$j" 1)")"
		check_eq "enospc: mailbox truncated back" "$size0" "$(fsize "$MB")"
		check_eq "enospc: lock file gone" no "$([ -e "$MB.lock" ] && echo yes || echo no)"
		check_eq "enospc: tag back to ' '" _ "$(ctl_tags "$(ctlpath "$j")")"
		run_mb "$ZT_W/t6b" "$j$T$U"$'\n' -c local
		check_eq "enospc: retry without the fault ok3" ok3 \
			"$(report_word "$ZT_W/t6b.out" "$(rcpt_id "$j" 1)")"
		check_eq "enospc: mailbox grew" yes "$([ "$(fsize "$MB")" -gt "$size0" ] && echo yes || echo no)"
	else
		info "SKIP part 6: the enospc shim did not take effect in $ZT_MAILBOX"
	fi
fi

# --- 7. the time limit ---------------------------------------------------------------------------
j=$(ljob "|echo \$\$ > $PROG/sleeper; exec sleep 60")
run_mb "$ZT_W/t7" "$j$T$U"$'\n' -c local -T 2s
check_eq "time limit: deferred" deferred "$(report_word "$ZT_W/t7.out" "$(rcpt_id "$j" 1)")"
check_match "time limit: reason" 'time limit' "$(report_line "$ZT_W/t7.out" "$(rcpt_id "$j" 1)")"
sp=$(cat "$PROG/sleeper" 2>/dev/null)
if [ -n "$sp" ]; then
	# gone, or a zombie nobody reaped yet (PID 1 of a container may be slow)
	st=$(awk '{ print $3 }' "/proc/$sp/stat" 2>/dev/null)
	check_eq "time limit: program killed" gone "$([ -z "$st" ] || [ "$st" = Z ] && echo gone || echo "alive ($st)")"
else
	fail "time limit: the program did not start"
fi

[ "$ZT_FAILS" = 0 ] || show "$ZT_W"/t*.out "$ZT_W"/t*.err
zt_done
