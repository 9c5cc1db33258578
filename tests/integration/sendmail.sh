#!/bin/sh
# sendmail.sh - the built sendmail(8) against a scratch postoffice:
#   -t            To/Cc/Bcc recipients in the envelope, Bcc gone from the
#                 copy; the whole submission file compared byte for byte;
#                 Resent-* recipients instead of To/Cc when present;
#   -f            as root: the envelope sender as given, no warning; as
#                 nobody (setpriv): the file lands in public/<ino> owned by
#                 nobody, the envelope names nobody@MYHOSTNAME and an
#                 X-Authentication-Warning: heads the header; nobody's own
#                 address gives no warning; TRUSTED_USERS makes nobody
#                 trusted;
#   -i / -oi      a lone "." is data; without them it ends the message;
#                 CRLF input is stored with LF;
#   -N -R -V -E   the todsn NOTIFY=, notaryret, envid and external lines;
#   added fields  From (gecos / -F, login@MYHOSTNAME), Date, Message-ID
#                 (with the message's inode number);
#   notify        "NEW router <ino>" reaches $POSTOFFICE/.router.notify;
#   durability    as nobody, public/<ino> is fsynced after the rename
#                 (seen with strace when it works here);
#   SIGTERM       while the body is read: exit 75, the scratch file gone;
#   failures      ENOSPC in public/ (write and fsync, through the
#                 tests/tools/enospc.c shim), a missing spool and a public/
#                 nobody may not write: exit EX_TEMPFAIL (75), a clear
#                 message, no file left; EX_USAGE (64) for bad options and
#                 no recipients; EX_NOINPUT (66) for a closed stdin and -t
#                 without recipients; EX_DATAERR (65) for a bad address, a
#                 message over MESSAGE_SIZE_LIMIT and an oversized header;
#   modes         -bp runs mailq (MAILQ=), -bs says "not available yet"
#                 (69) or runs $MAILBIN/smtpserver -i, -bi runs
#                 newaliases (NEWALIASES=), -q does not read stdin.
ZT_TIMEOUT=${ZT_TIMEOUT:-100}
. "${top_srcdir:-.}/tests/integration/testlib.sh"
SM=$top_builddir/sendmail/sendmail
MAILQ=$top_builddir/scheduler/mailq
need_built "$SM"
H=mx.example.test
scratch_po "MYHOSTNAME=$H"
CONF0=$(cat "$ZCONFIG")
# conf NAME=value... - the base zmta.conf plus these lines
conf() {
	local kv
	printf '%s\n' "$CONF0" > "$ZCONFIG"
	for kv in "$@"; do printf '%s\n' "$kv" >> "$ZCONFIG"; done
}
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
	AS_NOBODY=(setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups)
else
	AS_NOBODY=()
fi

clean_spool() { find "$PO/router" "$PO/public" -mindepth 1 -delete 2>/dev/null; return 0; }
spool_files() { find "$PO/router" "$PO/public" -type f | wc -l; }
the_file() { find "$PO/router" "$PO/public" -type f | head -1; }
# input NAME - stdin becomes $ZT_W/NAME.in
input() { cat > "$ZT_W/$1.in"; }
# sm NAME [ARGS...] - run sendmail with $ZT_W/NAME.in (or /dev/null) on
# stdin; RC, $ZT_W/NAME.out, $ZT_W/NAME.err
sm() {
	local n=$1 in=/dev/null
	shift
	[ -f "$ZT_W/$n.in" ] && in=$ZT_W/$n.in
	with_timeout 20 "${SM_PREFIX[@]}" "$SM" "$@" < "$in" > "$ZT_W/$n.out" 2> "$ZT_W/$n.err"
	RC=$?
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$ZT_W/$n.err"; then
		fail "$n: sanitizer report"
		head -30 "$ZT_W/$n.err"
	fi
}
SM_PREFIX=()
# check_file WHAT EXPECTED-FILE ACTUAL-FILE
check_file() {
	if cmp -s "$2" "$3"; then
		pass "$1"
	else
		fail "$1: file differs"
		diff -u "$2" "$3" | head -40
	fi
}

# --- -t: To, Cc, Bcc ------------------------------------------------------
clean_spool
input t1 <<'EOF'
From: Alice <alice@src.test>
To: a@dst.test, "Bee" <b@dst.test>
Cc: c@dst.test,
 a@dst.test
Bcc: hidden@dst.test
Subject: t
Date: Mon, 7 Dec 2026 00:00:00 +0000
Message-ID: <fixed1@src.test>

line 1
EOF
sm t1 -t
check_eq "-t: exit 0" 0 "$RC"
f=$(the_file)
check_eq "-t: one file, in router/ by inode number" "$PO/router/$(stat -c %i "$f" 2>/dev/null)" "$f"
check_eq "-t: mode 0640" 640 "$(stat -c %a "$f" 2>/dev/null)"
cat > "$ZT_W/t1.exp" <<EOF
from <root@$H>
todsn ORCPT=rfc822;a@dst.test
to <a@dst.test>
todsn ORCPT=rfc822;b@dst.test
to <b@dst.test>
todsn ORCPT=rfc822;c@dst.test
to <c@dst.test>
todsn ORCPT=rfc822;hidden@dst.test
to <hidden@dst.test>
env-end
From: Alice <alice@src.test>
To: a@dst.test, "Bee" <b@dst.test>
Cc: c@dst.test,
 a@dst.test
Subject: t
Date: Mon, 7 Dec 2026 00:00:00 +0000
Message-ID: <fixed1@src.test>

line 1
EOF
[ "$(id -u)" = 0 ] || sed -i "1s/.*/from <$(id -un)@$H>/" "$ZT_W/t1.exp"
check_file "-t: submission file byte for byte (Bcc removed, all recipients)" "$ZT_W/t1.exp" "$f"
check_eq "-t: nothing else in the spool" 1 "$(spool_files)"

# -t plus command-line addresses: both; no Bcc in the copy even without -t
clean_spool
input t2 <<'EOF'
To: a@dst.test
Bcc: b@dst.test

x
EOF
sm t2 -t extra@dst.test
f=$(the_file)
check_eq "-t + operand: envelope" "extra@dst.test a@dst.test b@dst.test" \
	"$(sed -n 's/^to <\(.*\)>$/\1/p' "$f" | tr '\n' ' ' | sed 's/ $//')"
clean_spool
sm t2 only@dst.test
f=$(the_file)
check_eq "no -t: only the operand" "only@dst.test" "$(sed -n 's/^to <\(.*\)>$/\1/p' "$f")"
check_nomatch "no -t: Bcc still removed" '^Bcc:' "$(cat "$f")"

# --- Resent-* ---------------------------------------------------------------
clean_spool
input r1 <<'EOF'
From: a@src.test
To: orig@dst.test
Resent-From: fwd@src.test
Resent-To: new1@dst.test
Resent-Cc: new2@dst.test
Resent-Bcc: new3@dst.test
Date: Mon, 7 Dec 2026 00:00:00 +0000
Message-ID: <r@src.test>

x
EOF
sm r1 -t
f=$(the_file)
check_eq "Resent-*: exit 0" 0 "$RC"
check_eq "Resent-*: only the Resent- recipients" "new1@dst.test new2@dst.test new3@dst.test" \
	"$(sed -n 's/^to <\(.*\)>$/\1/p' "$f" | tr '\n' ' ' | sed 's/ $//')"
check_nomatch "Resent-*: Resent-Bcc removed" '^Resent-Bcc:' "$(cat "$f")"
check_match "Resent-*: To: kept" '^To: orig@dst.test' "$(cat "$f")"

# --- -f: root, nobody --------------------------------------------------------
input f1 <<'EOF'
Subject: f
Date: Mon, 7 Dec 2026 00:00:00 +0000
Message-ID: <f@src.test>
From: Boss <boss@src.test>

x
EOF
if [ "$(id -u)" = 0 ]; then
	clean_spool
	sm f1 -f '<bounce@src.test>' r@dst.test
	f=$(the_file)
	check_eq "-f as root: exit 0" 0 "$RC"
	check_eq "-f as root: envelope sender believed" "from <bounce@src.test>" "$(head -1 "$f")"
	check_nomatch "-f as root: no warning" 'X-Authentication-Warning' "$(cat "$f")"
	clean_spool
	sm f1 -f daemon r@dst.test
	check_eq "-f bare local part as root: qualified with MYHOSTNAME" "from <daemon@$H>" \
		"$(head -1 "$(the_file)")"
	clean_spool
	sm f1 -f '<>' r@dst.test
	f=$(the_file)
	check_eq "-f <> as root: channel error" "channel error" "$(head -1 "$f")"
fi
if [ "${#AS_NOBODY[@]}" -gt 0 ]; then
	chmod 644 "$ZT_W/f1.in" "$ZCONFIG"
	clean_spool
	SM_PREFIX=("${AS_NOBODY[@]}")
	sm f1 -f boss@src.test r@dst.test
	f=$(the_file)
	check_eq "-f as nobody: exit 0" 0 "$RC"
	check_eq "-f as nobody: finished file in public/<ino>" "$PO/public/$(stat -c %i "$f" 2>/dev/null)" "$f"
	check_eq "-f as nobody: owned by nobody" nobody "$(stat -c %U "$f" 2>/dev/null)"
	check_eq "-f as nobody: group of the spool, 0640" "$(stat -c %G "$PO/public") 640" \
		"$(stat -c '%G %a' "$f" 2>/dev/null)"
	cat > "$ZT_W/f1.exp" <<EOF
from <nobody@$H>
todsn ORCPT=rfc822;r@dst.test
to <r@dst.test>
env-end
X-Authentication-Warning: $H: nobody set sender to boss@src.test using -f
Subject: f
Date: Mon, 7 Dec 2026 00:00:00 +0000
Message-ID: <f@src.test>
From: Boss <boss@src.test>

x
EOF
	check_file "-f as nobody: real user in the envelope, X-Authentication-Warning" "$ZT_W/f1.exp" "$f"
	clean_spool
	for a in "nobody@$H" nobody; do
		clean_spool
		sm f1 -f "$a" r@dst.test
		f=$(the_file)
		check_nomatch "-f own address ($a) as nobody: no warning" 'X-Authentication-Warning' "$(cat "$f")"
		check_eq "-f own address ($a) as nobody: sender" "from <nobody@$H>" "$(head -1 "$f")"
	done
	# the rename into public/<ino> is committed by an fsync of the file
	# (nobody cannot open public/ to sync the directory)
	if command -v strace >/dev/null 2>&1; then
		clean_spool
		# (LeakSanitizer cannot run under ptrace)
		SM_PREFIX=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
			   strace -f -e trace=openat,rename,renameat,renameat2,fsync -o "$ZT_W/strace.out" "${AS_NOBODY[@]}")
		sm f1 r@dst.test
		SM_PREFIX=("${AS_NOBODY[@]}")
		check_eq "under strace as nobody: exit 0" 0 "$RC"
		ino=$(basename "$(the_file)")
		if grep -q 'fsync' "$ZT_W/strace.out"; then
			check_match "public/<ino> fsynced after the rename (as nobody)" \
				"rename[a-z0-9]*\\([^)]*/public/$ino\"\\) += 0 .*fsync\\([0-9]+\\) += 0" \
				"$(tr '\n' ' ' < "$ZT_W/strace.out")"
			# every submitter gets it from spool/submit.c, not only sendmail
			if [ -x "$top_builddir/tests/tools/mksub" ]; then
				clean_spool
				env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
					strace -f -e trace=rename,renameat,renameat2,fsync -o "$ZT_W/strace2.out" \
					"${AS_NOBODY[@]}" "$top_builddir/tests/tools/mksub" -P "$PO" r@dst.test \
					> "$ZT_W/mksub.out" 2>&1
				ino=$(tail -1 "$ZT_W/mksub.out")
				check_match "another submitter (mksub) as nobody: fsync after the rename" \
					"rename[a-z0-9]*\\([^)]*/public/$ino\"\\) += 0 .*fsync\\([0-9]+\\) += 0" \
					"$(tr '\n' ' ' < "$ZT_W/strace2.out")"
			fi
		else
			info "strace does not work here: the public/<ino> fsync check is skipped"
		fi
	fi
	conf "TRUSTED_USERS=daemon, nobody"
	clean_spool
	sm f1 -f boss@src.test r@dst.test
	f=$(the_file)
	check_eq "-f as nobody in TRUSTED_USERS: believed" "from <boss@src.test>" "$(head -1 "$f")"
	check_nomatch "-f as nobody in TRUSTED_USERS: no warning" 'X-Authentication-Warning' "$(cat "$f")"
	conf
	# nobody cannot write public/ when it is not world-writable: EX_TEMPFAIL
	chmod 2750 "$PO/public"
	clean_spool
	sm f1 r@dst.test
	check_eq "unwritable public/: EX_TEMPFAIL" 75 "$RC"
	check_match "unwritable public/: clear message" 'cannot queue the message: .*Permission denied' \
		"$(cat "$ZT_W/f1.err")"
	chmod 3733 "$PO/public"
	check_eq "unwritable public/: nothing left" 0 "$(spool_files)"
	SM_PREFIX=()
else
	info "not root or no setpriv/nobody: the untrusted -f cases are skipped"
fi

# --- -i, dots, CRLF ------------------------------------------------------------
printf 'Subject: d\r\n\r\na\r\n.\r\nb\n' > "$ZT_W/d1.in"
clean_spool
sm d1 r@dst.test
f=$(the_file)
check_eq "no -i: a lone dot ends the message (CRLF -> LF)" "$(printf 'Subject: d\n')" \
	"$(sed -n '/^env-end$/,$p' "$f" | sed -n 2p)"
check_eq "no -i: body" "a" "$(sed '1,/^$/d' "$f")"
for opt in -i -oi; do
	clean_spool
	cp "$ZT_W/d1.in" "$ZT_W/d2.in"
	sm d2 "$opt" r@dst.test
	f=$(the_file)
	check_eq "$opt: the dot is data" "$(printf 'a\n.\nb')" "$(sed '1,/^$/d' "$f")"
done
# a body line ".." is kept as it is (no SMTP unstuffing)
printf 'S: x\n\n..\n.x\n' > "$ZT_W/d3.in"
clean_spool
sm d3 r@dst.test
check_eq "no -i: .. kept" "$(printf '..\n.x')" "$(sed '1,/^$/d' "$(the_file)")"

# --- DSN options -----------------------------------------------------------
input n1 <<'EOF'
Date: Mon, 7 Dec 2026 00:00:00 +0000
Message-ID: <n@src.test>
From: x@src.test

x
EOF
clean_spool
sm n1 -N success,failure -R hdrs -V 'ENV+2Bid1' -E -f x@src.test a@dst.test "Bob <b@dst.test>"
f=$(the_file)
[ "$(id -u)" = 0 ] && s="x@src.test" || s="$(id -un)@$H"
cat > "$ZT_W/n1.exp" <<EOF
external
from <$s>
envid ENV+2Bid1
notaryret HDRS
todsn NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@dst.test
to <a@dst.test>
todsn NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@dst.test
to <b@dst.test>
env-end
EOF
sed -n '1,/^env-end$/p' "$f" > "$ZT_W/n1.env"
check_file "-N -R -V -E: envelope lines" "$ZT_W/n1.exp" "$ZT_W/n1.env"
clean_spool
sm n1 -N never -R FULL -V 'a b' x@dst.test
f=$(the_file)
check_match "-N never" '^todsn NOTIFY=NEVER ORCPT=rfc822;x@dst.test$' "$(cat "$f")"
check_match "-R FULL" '^notaryret FULL$' "$(cat "$f")"
check_match "-V raw text is xtext-encoded" '^envid a\+20b$' "$(cat "$f")"

# --- added From, Date, Message-ID ---------------------------------------------
input a1 <<'EOF'
Subject: no origin fields

body
EOF
clean_spool
sm a1 -F 'Test "T" User' r@dst.test
f=$(the_file)
ino=$(basename "$f")
hdr=$(sed -n '/^env-end$/,/^$/p' "$f")
check_match "added From: with -F (quoted)" "^From: \"Test \\\\\"T\\\\\" User\" <$(id -un)@$H>\$" "$hdr"
check_match "added Date:" '^Date: [A-Z][a-z][a-z], [0-9]{1,2} [A-Z][a-z][a-z] 20[0-9][0-9] [0-9:]{8} \+0000$' "$hdr"
check_match "added Message-ID: with the inode" "^Message-ID: <[0-9]{14}\\.$ino\\.[0-9]+@$H>\$" "$hdr"
if [ "${#AS_NOBODY[@]}" -gt 0 ]; then
	chmod 644 "$ZT_W/a1.in"
	clean_spool
	SM_PREFIX=("${AS_NOBODY[@]}")
	sm a1 r@dst.test
	SM_PREFIX=()
	check_match "added From: from the gecos" "^From: nobody <nobody@$H>\$" "$(cat "$(the_file)")"
fi

# --- the router is notified --------------------------------------------------
clean_spool
rm -f "$PO/.router.notify"
"$ZT_PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2], "w").close()
s.settimeout(20)
d = s.recv(512)
open(sys.argv[3], "wb").write(d)' "$PO/.router.notify" "$ZT_W/notify.ready" "$ZT_W/notify.got" &
track $!
if wait_file "$ZT_W/notify.ready" 10; then
	sm a1 r@dst.test
	wait_file "$ZT_W/notify.got" 10
	check_eq "router notified" "NEW router $(basename "$(the_file)")" "$(cat "$ZT_W/notify.got" 2>/dev/null)"
else
	fail "notify listener did not start"
fi
rm -f "$PO/.router.notify"

# --- exit codes ------------------------------------------------------------------
clean_spool
sm u1 -t
check_eq "-t and no To/Cc/Bcc: EX_NOINPUT" 66 "$RC"
check_match "-t and no recipients: message" 'no recipient' "$(cat "$ZT_W/u1.err")"
check_eq "-t and no recipients: nothing left" 0 "$(spool_files)"
sm u2
check_eq "no recipients, no -t: EX_USAGE" 64 "$RC"
sm u3 -Y r@dst.test
check_eq "unknown option: EX_USAGE" 64 "$RC"
check_match "unknown option: usage line" 'usage: sendmail' "$(cat "$ZT_W/u3.err")"
sm u4 -N sometimes r@dst.test
check_eq "bad -N: EX_USAGE" 64 "$RC"
sm u5 -R body r@dst.test
check_eq "bad -R: EX_USAGE" 64 "$RC"
sm u6 -f
check_eq "-f without argument: EX_USAGE" 64 "$RC"
sm u7 -bt
check_eq "-bt: EX_USAGE" 64 "$RC"
sm u8 -oeq -Y
check_eq "-oeq: still EX_USAGE" 64 "$RC"
check_eq "-oeq: nothing on stderr" "" "$(cat "$ZT_W/u8.err")"
with_timeout 20 "$SM" r@dst.test <&- > "$ZT_W/u9.out" 2> "$ZT_W/u9.err"
check_eq "stdin closed: EX_NOINPUT" 66 "$?"
with_timeout 20 "$SM" r@dst.test < "$ZT_W" > "$ZT_W/u10.out" 2> "$ZT_W/u10.err"
check_eq "stdin a directory: EX_NOINPUT" 66 "$?"
check_match "stdin a directory: message" 'cannot read' "$(cat "$ZT_W/u10.err")"
sm u11 'a@' < /dev/null
check_eq "bad recipient: EX_DATAERR" 65 "$RC"
input u12 <<'EOF'
To: <broken@dst.test

x
EOF
sm u12 -t
check_eq "bad To: with -t: EX_DATAERR" 65 "$RC"
check_eq "bad To: nothing left" 0 "$(spool_files)"
conf MESSAGE_SIZE_LIMIT=2000
head -c 5000 /dev/zero | tr '\0' 'x' | fold -w 70 > "$ZT_W/big.body"
{ printf 'Subject: big\n\n'; cat "$ZT_W/big.body"; } > "$ZT_W/u13.in"
sm u13 r@dst.test
check_eq "over MESSAGE_SIZE_LIMIT: EX_DATAERR" 65 "$RC"
check_match "over MESSAGE_SIZE_LIMIT: message" 'MESSAGE_SIZE_LIMIT' "$(cat "$ZT_W/u13.err")"
check_eq "over MESSAGE_SIZE_LIMIT: nothing left" 0 "$(spool_files)"
conf MESSAGE_SIZE_LIMIT=20000
sm u13 r@dst.test
check_eq "under MESSAGE_SIZE_LIMIT: accepted" "0 1" "$RC $(spool_files)"
conf MESSAGE_SIZE_LIMIT=lots
sm u13 r@dst.test
check_eq "bad MESSAGE_SIZE_LIMIT: EX_CONFIG" 78 "$RC"
conf
clean_spool
{ printf 'Subject: huge header\n'; for i in $(seq 1 20); do printf 'X-Filler-%d: ' "$i"; head -c 60000 /dev/zero | tr '\0' 'y'; printf '\n'; done; printf '\nbody\n'; } > "$ZT_W/u14.in"
sm u14 r@dst.test
check_eq "header over 1 MiB: EX_DATAERR" 65 "$RC"
check_match "header over 1 MiB: message" 'header is larger' "$(cat "$ZT_W/u14.err")"
check_eq "header over 1 MiB: nothing left" 0 "$(spool_files)"
# no spool at all: EX_TEMPFAIL
conf "POSTOFFICE=$ZT_W/no-such-spool"
sm u15 r@dst.test
check_eq "missing spool: EX_TEMPFAIL" 75 "$RC"
check_match "missing spool: clear message" 'cannot queue the message' "$(cat "$ZT_W/u15.err")"
conf

# --- SIGTERM while the body is read: the scratch file goes away ---------------
clean_spool
mkfifo "$ZT_W/fifo"
"$SM" r@dst.test < "$ZT_W/fifo" > "$ZT_W/s1.out" 2> "$ZT_W/s1.err" &
spid=$!
track "$spid"
exec 7> "$ZT_W/fifo"
printf 'Subject: slow\n\nfirst line\n' >&7
for i in $(seq 1 100); do
	[ "$(find "$PO/public" -type f -name '*:*' | wc -l)" -ge 1 ] && break
	sleep 0.05
done
check_eq "SIGTERM: the scratch file exists while reading" 1 "$(find "$PO/public" -type f -name '*:*' | wc -l)"
kill -TERM "$spid"
wait "$spid"
check_eq "SIGTERM: exit EX_TEMPFAIL" 75 "$?"
exec 7>&-
check_eq "SIGTERM: scratch file removed, nothing queued" 0 "$(spool_files)"

# --- ENOSPC -------------------------------------------------------------------
SHIM=$ZT_W/enospc.so
FLOG=$ZT_W/enospc.log
if command -v cc >/dev/null 2>&1 &&
   cc -shared -fPIC -o "$SHIM" "$top_srcdir/tests/tools/enospc.c" -ldl > "$ZT_W/cc.out" 2>&1; then
	if ldd "$SM" 2>/dev/null | grep -q libasan; then
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
		export ASAN_OPTIONS
	fi
	{ printf 'Subject: full\n\n'; cat "$ZT_W/big.body" "$ZT_W/big.body"; } > "$ZT_W/e1.in"
	for mode in write fsync; do
		clean_spool
		: > "$FLOG"
		if [ $mode = write ]; then
			SM_PREFIX=(env ENOSPC_MATCH=/po/public/ ENOSPC_AFTER=3000 ENOSPC_LOG="$FLOG" LD_PRELOAD="$SHIM")
		else
			SM_PREFIX=(env ENOSPC_MATCH=/po/public/ ENOSPC_NTH=1000000 ENOSPC_FSYNC=1 ENOSPC_LOG="$FLOG" LD_PRELOAD="$SHIM")
		fi
		sm e1 r@dst.test
		SM_PREFIX=()
		if [ ! -s "$FLOG" ]; then
			info "ENOSPC ($mode): the shim did not take effect in $SM; skipped"
			continue
		fi
		check_eq "ENOSPC ($mode): EX_TEMPFAIL" 75 "$RC"
		check_match "ENOSPC ($mode): clear message" 'cannot queue the message: .*No space left on device' \
			"$(cat "$ZT_W/e1.err")"
		check_eq "ENOSPC ($mode): no file left in public/ or router/" 0 "$(spool_files)"
	done
else
	info "no cc: the ENOSPC cases are skipped"
fi
clean_spool
sm e1 r@dst.test
check_eq "without the fault the same message is queued" "0 1" "$RC $(spool_files)"

# --- other modes -------------------------------------------------------------------
mkdir -p "$ZT_W/bin"
cat > "$ZT_W/bin/fake" <<'EOF'
#!/bin/sh
echo "$(basename "$0") argv:$* ZCONFIG:$ZCONFIG"
EOF
chmod 755 "$ZT_W/bin/fake"
ln -sf fake "$ZT_W/bin/mailq"
ln -sf fake "$ZT_W/bin/smtpserver"
ln -sf fake "$ZT_W/bin/newaliases"
conf "MAILQ=$ZT_W/bin/mailq"
sm b1 -bp
check_eq "-bp runs MAILQ with no arguments" "mailq argv: ZCONFIG:$ZCONFIG 0" "$(cat "$ZT_W/b1.out") $RC"
if [ -x "$MAILQ" ]; then
	conf "MAILQ=$MAILQ"
	sm b2 -bp
	check_eq "-bp with the real mailq and no scheduler: its exit 69" 69 "$RC"
	check_match "-bp: mailq's message" 'cannot connect to the scheduler' "$(cat "$ZT_W/b2.err")"
fi
conf "MAILBIN=$ZT_W/no-such-dir"
sm b3 -bs
check_eq "-bs without smtpserver: EX_UNAVAILABLE" 69 "$RC"
check_match "-bs without smtpserver: says not yet" 'not available yet' "$(cat "$ZT_W/b3.err")"
conf "MAILBIN=$ZT_W/bin"
sm b4 -bs
check_eq "-bs runs MAILBIN/smtpserver -i" "smtpserver argv:-i ZCONFIG:$ZCONFIG 0" "$(cat "$ZT_W/b4.out") $RC"
conf "NEWALIASES=$ZT_W/bin/newaliases"
sm b5 -bi
check_eq "-bi runs newaliases" "newaliases argv: ZCONFIG:$ZCONFIG 0" "$(cat "$ZT_W/b5.out") $RC"
conf "NEWALIASES=$ZT_W/no-such-newaliases"
sm b6 -bi
check_eq "-bi without newaliases: EX_UNAVAILABLE" 69 "$RC"
conf
# -q must not wait for stdin: the writer never closes it
clean_spool
exec 8< <(sleep 40)
track $!
with_timeout 10 "$SM" -q <&8 > "$ZT_W/q1.out" 2>&1
check_eq "-q: exit 0 without reading stdin" 0 "$?"
exec 8<&-
check_eq "-q: nothing queued" 0 "$(spool_files)"

[ "$ZT_FAILS" = 0 ] || show "$ZT_W"/*.err
zt_done
