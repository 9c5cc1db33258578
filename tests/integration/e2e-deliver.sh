#!/bin/sh
# e2e-deliver.sh - the whole system: "zmta start" runs the scheduler and the
# router of a scratch postoffice; messages go in through the built sendmail
# (run as throwaway local users) and come out:
#   1. to a local user -> one file in the user's Maildir (Return-Path,
#      Delivered-To, Received with the spool id, Date/Message-ID added)
#   2. -t with To/Cc/Bcc -> every recipient gets it, no Bcc header in any copy
#   3. an alias expanding to two users -> both Maildirs
#   4. a list with owner-list -> members get it with Return-Path <owner-list@...>
#   5. a "|program" alias (root-owned aliases file) -> runs as nobody
#      (default_privilege) and writes a file; a "/file" alias -> an mbox
#      append (From_ line, >From quoting) as nobody
#   6. demo.test (route smtp![127.0.0.1]) -> the smtp agent delivers to smtp-sink
#   7. an unknown local user -> an RFC 3464 report (multipart/report,
#      Status 5.1.1, Final-Recipient) delivered to the sender's Maildir
#   8. .forward: the user's own file ("\user" keeps a copy, a "|program"
#      runs as the user); a group-writable one, or one owned by another
#      user, is ignored (the mail goes to the mailbox)
# Needs root (throwaway users, the mailbox agent as root).
ZT_TIMEOUT=${ZT_TIMEOUT:-180}
. "${top_srcdir:-.}/tests/integration/testlib.sh"
. "$top_srcdir/tests/integration/e2e-lib.sh"
e2e_setup
e2e_user A      # the sender
e2e_user B
e2e_user C
e2e_user F      # has a .forward
e2e_user G      # has an unsafe .forward
D=mail.localhost.test
PIPEOUT=$ZT_W/pipeout
mkdir -p "$PIPEOUT" && chmod 1777 "$PIPEOUT"
cat > "$ETC/aliases" <<EOC
pair: $B, $C
list: $B, $C
owner-list: $A
piper: "|/bin/sh -c 'id -un > $PIPEOUT/who; cat > $PIPEOUT/msg'"
tofile: $PIPEOUT/mbox
EOC
e2e_start || { e2e_logs; zt_done; }

# sm USER ARGS... - the built sendmail as USER, message on stdin
sm() {
	local u=$1
	shift
	as_user "$u" env ZCONFIG="$ZCONFIG" "$SENDMAIL" "$@"
}

# 1. a local user
printf 'Subject: one\n\nhello local\n' | sm "$A" -i "$B@localhost.test"
check_eq "1: sendmail exit" 0 "$?"
wait_maildir "$B" 1 30 || { fail "1: not delivered to $B"; e2e_logs; }
f=$(maildir_grep "$B" '^Subject: one')
check_eq "1: one copy" 1 "$(printf '%s' "$f" | grep -c .)"
if [ -n "$f" ]; then
	check_eq "1: Return-Path first" "Return-Path: <$A@$D>" "$(head -1 "$f")"
	check_match "1: Delivered-To" "^Delivered-To: $B@" "$(cat "$f")"
	check_match "1: Received" '^Received: ' "$(cat "$f")"
	check_match "1: Message-ID added" '^Message-ID: <' "$(cat "$f")"
	check_match "1: Date added" '^Date: ' "$(cat "$f")"
	check_match "1: body" 'hello local' "$(cat "$f")"
	check_eq "1: owned by the user" "$B" "$(stat -c %U "$f")"
fi

# 2. -t with Bcc
printf 'To: %s@localhost.test\nCc: %s\nBcc: %s@localhost.test\nSubject: two\n\nblind\n' \
	"$B" "$C" "$A" | sm "$A" -t -oi
check_eq "2: sendmail -t exit" 0 "$?"
for u in "$A" "$B" "$C"; do
	for i in $(seq 1 300); do [ -n "$(maildir_grep "$u" '^Subject: two')" ] && break; sleep 0.1; done
	f=$(maildir_grep "$u" '^Subject: two')
	[ -n "$f" ] && pass "2: $u got the -t message" || fail "2: $u did not get the -t message"
	[ -n "$f" ] && check_nomatch "2: no Bcc header for $u" '^Bcc:' "$(sed '/^$/q' $f)"
done

# 3. an alias with two users
printf 'Subject: three\n\npair\n' | sm "$A" pair
check_eq "3: exit" 0 "$?"
for u in "$B" "$C"; do
	for i in $(seq 1 300); do [ -n "$(maildir_grep "$u" '^Subject: three')" ] && break; sleep 0.1; done
	[ -n "$(maildir_grep "$u" '^Subject: three')" ] && pass "3: alias reached $u" || fail "3: alias missed $u"
done

# 4. a list with owner-
printf 'Subject: four\n\nlist\n' | sm "$A" "list@localhost.test"
for u in "$B" "$C"; do
	for i in $(seq 1 300); do [ -n "$(maildir_grep "$u" '^Subject: four')" ] && break; sleep 0.1; done
	f=$(maildir_grep "$u" '^Subject: four')
	if [ -n "$f" ]; then
		check_match "4: $u: envelope sender is owner-list" '^Return-Path: <owner-list@' "$(head -1 "$f")"
	else
		fail "4: list missed $u"
	fi
done

# 5. a pipe recipient
printf 'Subject: five\n\npiped body\n' | sm "$A" piper
wait_file "$PIPEOUT/msg" 30 || fail "5: the program did not run"
for i in $(seq 1 50); do grep -q 'piped body' "$PIPEOUT/msg" 2>/dev/null && break; sleep 0.1; done
check_eq "5: program ran as nobody" nobody "$(cat "$PIPEOUT/who" 2>/dev/null)"
check_match "5: program got the message" 'piped body' "$(cat "$PIPEOUT/msg" 2>/dev/null)"
check_eq "5: output owned by nobody" nobody "$(stat -c %U "$PIPEOUT/msg" 2>/dev/null)"

printf 'Subject: five-b\n\nFrom the start\n' | sm "$A" tofile
for i in $(seq 1 300); do grep -q '^>From the start' "$PIPEOUT/mbox" 2>/dev/null && break; sleep 0.1; done
check_match "5: /file: From_ line first" "^From $A@$D " "$(head -1 "$PIPEOUT/mbox" 2>/dev/null)"
check_match "5: /file: body quoted" '^>From the start' "$(cat "$PIPEOUT/mbox" 2>/dev/null)"
check_eq "5: /file: written as nobody" nobody "$(stat -c %U "$PIPEOUT/mbox" 2>/dev/null)"

# 6. demo.test to the sink
printf 'Subject: six\n\nremote\n' | sm "$A" "someone@demo.test"
wait_sink_msgs 1 30 || { fail "6: nothing reached the sink"; e2e_logs; }
s=$(cat "$SINK_DUMP"/* 2>/dev/null)
check_match "6: sink got the message" 'Subject: six' "$s"
check_match "6: RCPT TO" 'someone@demo\.test' "$s"
check_match "6: MAIL FROM" "$A@$D" "$s"

# 7. an unknown local user bounces to the sender's Maildir
printf 'Subject: seven\n\nto nobody here\n' | sm "$A" "nosuch$$@localhost.test"
check_eq "7: sendmail accepts (the router decides)" 0 "$?"
for i in $(seq 1 600); do [ -n "$(maildir_grep "$A" 'report-type=delivery-status')" ] && break; sleep 0.1; done
f=$(maildir_grep "$A" 'report-type=delivery-status' | head -1)
if [ -n "$f" ]; then
	m=$(cat "$f")
	check_eq "7: null envelope sender" "Return-Path: <>" "$(head -1 "$f")"
	check_match "7: multipart/report" 'Content-Type: multipart/report; *report-type=delivery-status' "$m"
	check_match "7: message/delivery-status part" 'Content-Type: message/delivery-status' "$m"
	check_match "7: Final-Recipient" "Final-Recipient: rfc822; *nosuch$$@localhost\\.test" "$m"
	check_match "7: Action failed" 'Action: failed' "$m"
	check_match "7: Status 5.1.1" 'Status: 5\.1\.1' "$m"
	check_match "7: Reporting-MTA" 'Reporting-MTA: dns; *' "$m"
	check_match "7: original subject returned" 'Subject: seven' "$m"
else
	fail "7: no delivery status report in $A's Maildir"
	e2e_logs
fi

# 8. .forward files
printf '# keep a copy, run a program, send one on\n\\%s, "|/bin/sh -c '"'"'id -un > %s/fwd-who'"'"'"\n%s\n' \
	"$F" "$PIPEOUT" "$C" > "$ZT_W/home/$F/.forward"
chown "$F:$F" "$ZT_W/home/$F/.forward"
chmod 644 "$ZT_W/home/$F/.forward"
printf '%s\n' "$C" > "$ZT_W/home/$G/.forward"
chown "$G:$G" "$ZT_W/home/$G/.forward"
chmod 664 "$ZT_W/home/$G/.forward"
printf 'Subject: eight-f\n\nforwarded\n' | sm "$A" "$F@localhost.test"
printf 'Subject: eight-g\n\nnot forwarded\n' | sm "$A" "$G@localhost.test"
for i in $(seq 1 300); do
	[ -n "$(maildir_grep "$F" '^Subject: eight-f')" ] && [ -n "$(maildir_grep "$C" '^Subject: eight-f')" ] &&
		[ -n "$(maildir_grep "$G" '^Subject: eight-g')" ] && [ -s "$PIPEOUT/fwd-who" ] && break
	sleep 0.1
done
check_eq "8: .forward \\user keeps a copy" 1 "$(maildir_grep "$F" '^Subject: eight-f' | wc -l)"
check_eq "8: .forward sends one on" 1 "$(maildir_grep "$C" '^Subject: eight-f' | wc -l)"
check_eq "8: .forward program runs as the user" "$F" "$(cat "$PIPEOUT/fwd-who" 2>/dev/null)"
check_eq "8: group-writable .forward ignored: mailbox" 1 "$(maildir_grep "$G" '^Subject: eight-g' | wc -l)"
check_eq "8: group-writable .forward ignored: not sent on" 0 "$(maildir_grep "$C" '^Subject: eight-g' | wc -l)"
chmod 644 "$ZT_W/home/$G/.forward"
chown "$B" "$ZT_W/home/$G/.forward"
printf 'Subject: eight-h\n\nnot forwarded either\n' | sm "$A" "$G@localhost.test"
for i in $(seq 1 300); do [ -n "$(maildir_grep "$G" '^Subject: eight-h')" ] && break; sleep 0.1; done
check_eq "8: .forward of another owner ignored: mailbox" 1 "$(maildir_grep "$G" '^Subject: eight-h' | wc -l)"
check_eq "8: .forward of another owner ignored: not sent on" 0 "$(maildir_grep "$C" '^Subject: eight-h' | wc -l)"

# nothing left in the spool, nothing set aside
for i in $(seq 1 100); do
	[ "$(find "$PO/router" "$PO/public" "$PO/transport" -type f -name '[0-9]*' | wc -l)" = 0 ] && break
	sleep 0.1
done
check_eq "spool empty at the end" 0 "$(find "$PO/router" "$PO/public" "$PO/transport" "$PO/deferred" -type f -name '[0-9]*' | wc -l)"
check_eq "postman/ empty" 0 "$(find "$PO/postman" -type f | wc -l)"
e2e_sancheck
[ "$ZT_FAILS" = 0 ] || e2e_logs
zt_done
