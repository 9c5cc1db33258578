#!/bin/sh
# ta-sm.sh - the sm agent run by hand in $POSTOFFICE/transport (as root, with
# a throwaway user): Debian's dovecot-lda as the mailer delivers into a
# Maildir owned by that user (a private dovecot instance serves only its
# passwd-file userdb); dovecot-lda's EX_NOUSER is error2 5.1.1 and its
# EX_TEMPFAIL (unwritable mail directory) deferred; scripted mailers show
# the sysexits mapping, the time limit, flags m f E P, the argv macros, the
# clean environment, DEFAULT_PRIVILEGE for privilege 0, and that a
# recipient starting with '-' is refused.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
SM=$top_builddir/transport/sm/sm
LDA=/usr/lib/dovecot/dovecot-lda
need_built "$SM" "$ZT_MKJOB"
[ "$(id -u)" = 0 ] || skip "sm changes to the recipient's uid: needs root"
need_cmd useradd userdel dovecot
[ -x "$LDA" ] || skip "no $LDA (dovecot-core)"
id dovecot >/dev/null 2>&1 && id dovenull >/dev/null 2>&1 || skip "dovecot users missing"
id nobody >/dev/null 2>&1 || skip "no user nobody"

# a throwaway user, removed at the end
U=zsm$$
useradd -M -d "$ZT_W/home/$U" -s /usr/sbin/nologin "$U" >/dev/null 2>&1 || skip "useradd failed"
trap 'zt_rc=$?; userdel "$U" >/dev/null 2>&1; (exit $zt_rc); zt_cleanup' EXIT
UID_U=$(id -u "$U"); GID_U=$(id -g "$U")
mkdir -p "$ZT_W/home/$U"
chown "$U" "$ZT_W/home/$U"

# a private dovecot: no protocols, only auth for the passwd-file userdb
D=$ZT_W/dovecot
mkdir -p "$D/run" "$D/state" "$D/mail/ro"
chmod 755 "$D" "$D/mail"
chown "$U" "$D/mail"
chmod 555 "$D/mail/ro"          # root-owned, read-only: dovecot-lda cannot deliver there
: > "$D/dovecot.log"
chmod 666 "$D/dovecot.log"
cat > "$D/users" <<EOF
$U:x:$UID_U:$GID_U::$ZT_W/home/$U::
ro:x:$UID_U:$GID_U::$ZT_W/home/$U::
EOF
cat > "$D/dovecot.conf" <<EOF
base_dir = $D/run
state_dir = $D/state
log_path = $D/dovecot.log
protocols = none
ssl = no
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
mail_location = maildir:$D/mail/%u
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = passwd-file
  args = username_format=%n $D/users
}
service auth {
  unix_listener auth-userdb {
    mode = 0666
  }
}
EOF
dovecot -F -c "$D/dovecot.conf" > "$D/dovecot.out" 2>&1 &
track $!
wait_file "$D/run/auth-userdb" 15 || { show "$D/dovecot.out" "$D/dovecot.log"; fail "dovecot did not start"; zt_done; }

# scripted mailers
B=$ZT_W/bin
REC=$ZT_W/rec
mkdir -p "$B" "$REC"
chmod 755 "$B"
chmod 1777 "$REC"
printf '#!/bin/sh\necho "try again later" >&2\nexit 75\n' > "$B/exit75"
printf '#!/bin/sh\necho "mailbox disabled" >&2\nexit 69\n' > "$B/exit69"
printf '#!/bin/sh\necho $$ > %s/sleeper.pid\nexec sleep 30\n' "$REC" > "$B/sleeper"
cat > "$B/record" <<'EOF'
#!/bin/sh
# record: argv, environment, ids and stdin of one run into $REC
out=REC_DIR/run.$$
{ echo "ARGV $*"; echo "UID $(id -u)"; echo "PWD $(pwd)"; env | sed 's/^/ENV /'; echo DATA; cat; } > "$out"
EOF
sed -i "s#REC_DIR#$REC#" "$B/record"
chmod 755 "$B"/*
cat > "$ZT_W/sm.conf" <<EOF
# test mailers
dovecot  nP  $LDA  $LDA -c $D/dovecot.conf -e -f \$g -d \$u
exit75   n   $B/exit75  exit75 \$u
exit69   n   $B/exit69  exit69 \$u
sleeper  n   $B/sleeper sleeper
multi    mEP $B/record  record -h \$h -- \$u
fromflag fn  $B/record  record \$u
stuff    nX7 $B/record  record \$u
envhdr   nRe $B/record  record \$u
EOF
scratch_po "DEFAULT_PRIVILEGE=nobody"
T=$'\t'
# run_sm OUTBASE JOBTEXT ARGS... - the sm agent instead of smtp
run_sm() { ZT_SMTP=$SM run_ta "$@"; }
maildir_new() { find "$D/mail/$1/new" -type f 2>/dev/null; }

# 1. dovecot-lda delivers into the user's Maildir, as the user
j=$(mkjob -P "$PO" -c local -X "$U" -u "$UID_U" -f alice@src.test -h 'Subject: via lda' "$U")
run_sm "$ZT_W/t1" "$j$T$U"$'\n' -f "$ZT_W/sm.conf" -c local dovecot
check_eq "lda: exit 0" 0 "$TA_RC"
check_eq "lda: ok3" ok3 "$(report_word "$ZT_W/t1.out" "$(rcpt_id "$j" 1)")"
check_eq "lda: tag +" + "$(ctl_tags "$(ctlpath "$j")")"
check_eq "lda: one message in new/" 1 "$(maildir_new "$U" | wc -l)"
M=$(maildir_new "$U" | head -1)
check_match "lda: headers" '^Subject: via lda' "$(cat "$M" 2>/dev/null)"
check_match "lda: Return-Path (flag P)" '^Return-Path: <alice@src\.test>' "$(cat "$M" 2>/dev/null)"
check_match "lda: body" '^Test message from mkjob\.' "$(cat "$M" 2>/dev/null)"
check_eq "lda: file owned by the user" "$UID_U" "$(stat -c %u "$M" 2>/dev/null)"

# 2. unknown user: dovecot-lda exits EX_NOUSER -> error2 5.1.1
j=$(mkjob -P "$PO" -c local -X nosuchuser -u "$UID_U" nosuchuser)
run_sm "$ZT_W/t2" "$j${T}nosuchuser"$'\n' -f "$ZT_W/sm.conf" -c local dovecot
check_eq "lda unknown user: error2" error2 "$(report_word "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"
check_match "lda unknown user: 5.1.1 and EX_NOUSER" '5\.1\.1.*EX_NOUSER|EX_NOUSER.*5\.1\.1' \
	"$(report_line "$ZT_W/t2.out" "$(rcpt_id "$j" 1)")"
check_eq "lda unknown user: tag -" - "$(ctl_tags "$(ctlpath "$j")")"

# 3. the mail directory is not writable: dovecot-lda tempfails -> deferred
j=$(mkjob -P "$PO" -c local -X ro -u "$UID_U" ro)
run_sm "$ZT_W/t3" "$j${T}ro"$'\n' -f "$ZT_W/sm.conf" -c local dovecot
check_eq "lda tempfail: deferred" deferred "$(report_word "$ZT_W/t3.out" "$(rcpt_id "$j" 1)")"
check_eq "lda tempfail: tag back to blank" _ "$(ctl_tags "$(ctlpath "$j")")"

# 4. sysexits mapping with scripted mailers
j=$(mkjob -P "$PO" -c local -X "$U" -u "$UID_U" "$U")
run_sm "$ZT_W/t4" "$j$T$U"$'\n' -f "$ZT_W/sm.conf" -c local exit75
check_eq "exit 75: deferred" deferred "$(report_word "$ZT_W/t4.out" "$(rcpt_id "$j" 1)")"
check_match "exit 75: output in the text" 'try again later' "$(report_line "$ZT_W/t4.out" "$(rcpt_id "$j" 1)")"
run_sm "$ZT_W/t5" "$j$T$U"$'\n' -f "$ZT_W/sm.conf" -c local exit69
check_eq "exit 69: error2" error2 "$(report_word "$ZT_W/t5.out" "$(rcpt_id "$j" 1)")"
check_match "exit 69: output in the text" 'mailbox disabled' "$(report_line "$ZT_W/t5.out" "$(rcpt_id "$j" 1)")"

# 5. the time limit: killed and deferred
j=$(mkjob -P "$PO" -c local -X "$U" -u "$UID_U" "$U")
run_sm "$ZT_W/t6" "$j$T$U"$'\n' -f "$ZT_W/sm.conf" -c local -t 2 sleeper
check_eq "time limit: deferred" deferred "$(report_word "$ZT_W/t6.out" "$(rcpt_id "$j" 1)")"
check_match "time limit: said so" 'ran longer than 2s' "$(report_line "$ZT_W/t6.out" "$(rcpt_id "$j" 1)")"
sp=$(cat "$REC/sleeper.pid" 2>/dev/null)
if [ -n "$sp" ] && kill -0 "$sp" 2>/dev/null; then
	fail "time limit: the mailer process $sp still runs"; stop_pid "$sp"
else
	pass "time limit: the mailer process is gone"
fi
rm -f "$REC/sleeper.pid"

# 6. flag m: one run for two recipients, $u repeated; E escapes "From "; P
printf 'line one\nFrom the start\n.dot line\n' > "$ZT_W/body"
j=$(mkjob -P "$PO" -c local -X "$U" -u "$UID_U" -f bob@src.test -b "$ZT_W/body" u1 u2)
run_sm "$ZT_W/t7" "$j$T$U"$'\n' -f "$ZT_W/sm.conf" -c local multi
check_eq "m: both ok3" "ok3 ok3" "$(words "$ZT_W/t7.out")"
check_eq "m: one program run" 1 "$(ls "$REC" | wc -l)"
R=$(ls "$REC"/* 2>/dev/null | head -1)
check_eq "m: argv" "ARGV -h $U -- u1 u2" "$(grep '^ARGV' "$R" 2>/dev/null)"
check_eq "m: ran as the user" "UID $UID_U" "$(grep '^UID' "$R" 2>/dev/null)"
check_eq "m: cwd is the home" "PWD $ZT_W/home/$U" "$(grep '^PWD' "$R" 2>/dev/null)"
check_match "m: From_ line (no n)" '^From bob@src\.test ' "$(sed -n '/^DATA$/{n;p;q}' "$R" 2>/dev/null)"
check_match "E: >From in the body" '^>From the start$' "$(cat "$R" 2>/dev/null)"
check_match "no X: dot line as is" '^\.dot line$' "$(cat "$R" 2>/dev/null)"
check_match "P: Return-Path" '^Return-Path: <bob@src\.test>$' "$(cat "$R" 2>/dev/null)"
check_match "env: HOME" "^ENV HOME=$ZT_W/home/$U\$" "$(cat "$R" 2>/dev/null)"
check_match "env: SENDER" '^ENV SENDER=bob@src\.test$' "$(cat "$R" 2>/dev/null)"
check_nomatch "env: clean (no ZCONFIG)" '^ENV ZCONFIG=' "$(cat "$R" 2>/dev/null)"
rm -f "$REC"/*

# 7. flag f: "-f sender" after argv[0]; privilege 0 runs as DEFAULT_PRIVILEGE
j=$(mkjob -P "$PO" -c local -X "$U" -u 0 -f carol@src.test "$U")
run_sm "$ZT_W/t8" "$j$T$U"$'\n' -f "$ZT_W/sm.conf" -c local fromflag
check_eq "f: ok3" ok3 "$(report_word "$ZT_W/t8.out" "$(rcpt_id "$j" 1)")"
R=$(ls "$REC"/* 2>/dev/null | head -1)
check_eq "f: argv" "ARGV -f carol@src.test $U" "$(grep '^ARGV' "$R" 2>/dev/null)"
check_eq "privilege 0: ran as nobody" "UID $(id -u nobody)" "$(grep '^UID' "$R" 2>/dev/null)"
rm -f "$REC"/*

# 7b. X: dot stuffing and a final dot; 7: 8th bit cleared in the body
printf 'caf\xc3\xa9\n.hidden\n' > "$ZT_W/body8"
j=$(mkjob -P "$PO" -c local -X "$U" -u "$UID_U" -b "$ZT_W/body8" "$U")
run_sm "$ZT_W/t8b" "$j$T$U"$'\n' -f "$ZT_W/sm.conf" -c local stuff
check_eq "X7: ok3" ok3 "$(report_word "$ZT_W/t8b.out" "$(rcpt_id "$j" 1)")"
R=$(ls "$REC"/* 2>/dev/null | head -1)
check_match "X: leading dot doubled" '^\.\.hidden$' "$(cat "$R" 2>/dev/null)"
check_eq "X: ends with a lone dot" "." "$(tail -1 "$R" 2>/dev/null)"
check_eq "7: no 8-bit byte left" 0 "$(LC_ALL=C grep -c $'[\x80-\xff]' "$R" 2>/dev/null)"
rm -f "$REC"/*

# 7c. R: CRLF line ends; e: Envelope-Id, X-Envelope-To, Original-Recipient
j=$(mkjob -P "$PO" -c local -X "$U" -u "$UID_U" -n ENV77 -N FAILURE -O rfc822\;orig@src.test "$U")
run_sm "$ZT_W/t8c" "$j$T$U"$'\n' -f "$ZT_W/sm.conf" -c local envhdr
check_eq "Re: ok3" ok3 "$(report_word "$ZT_W/t8c.out" "$(rcpt_id "$j" 1)")"
R=$(ls "$REC"/* 2>/dev/null | head -1)
D=$(sed -n '/^DATA$/,$p' "$R" 2>/dev/null | tail -n +2)
check_match "R: CRLF line ends" $'^Subject: .*\r$' "$D"
check_match "e: Envelope-Id" $'^Envelope-Id: ENV77\r$' "$D"
check_match "e: X-Envelope-To" "^X-Envelope-To: <$U>"$'\r$' "$D"
check_match "e: Original-Recipient" $'^Original-Recipient: rfc822;orig@src\\.test\r$' "$D"
rm -f "$REC"/*

# 8. a recipient that would be an option is refused, nothing runs
j=$(mkjob -P "$PO" -c local -X "$U" -u "$UID_U" -- -oQ/tmp)
run_sm "$ZT_W/t9" "$j$T$U"$'\n' -f "$ZT_W/sm.conf" -c local fromflag
check_eq "leading '-': error2" error2 "$(report_word "$ZT_W/t9.out" "$(rcpt_id "$j" 1)")"
check_eq "leading '-': nothing ran" 0 "$(ls "$REC" | wc -l)"

# 9. a bad sm.conf or unknown mailer: exit EX_CONFIG before any job
printf 'x 9 /bin/true true\n' > "$ZT_W/bad.conf"
( cd "$PO/transport" && printf '' | timeout 10 "$SM" -f "$ZT_W/bad.conf" -c local x ) 2> "$ZT_W/t10.err"
check_eq "bad sm.conf: EX_CONFIG" 78 "$?"
( cd "$PO/transport" && printf '' | timeout 10 "$SM" -f "$ZT_W/sm.conf" -c local nosuchmailer ) 2> "$ZT_W/t11.err"
check_eq "unknown mailer: EX_CONFIG" 78 "$?"

[ "$ZT_FAILS" -gt 0 ] && show "$ZT_W/t1.out" "$ZT_W/t1.err" "$D/dovecot.log" "$ZT_W/t2.out" "$ZT_W/t3.out"
zt_done
