#!/bin/sh
# client-postfix.sh - libzmsmtp and smtpsend(1) against a private Postfix
# smtpd (a real MTA: PIPELINING, its own reply texts) that relays to an
# aiosmtpd sink: the refused list with Postfix's codes, atleastone, ping,
# and the copy that arrives at the far end (Bcc removed, headers added).
# Skipped (77) without Postfix or without root (Postfix's daemons run as
# the postfix user).
. "${top_srcdir:-.}/tests/integration/testlib.sh"
SS=$top_builddir/smtpclient/smtpsend
DRV=$top_builddir/tests/integration/zmsmtp-drive
need_built "$SS" "$DRV"
need_cmd jq
[ -x /usr/lib/postfix/sbin/master ] && command -v postfix >/dev/null 2>&1 || skip "no Postfix"
[ "$(id -u)" = 0 ] && id postfix >/dev/null 2>&1 || skip "Postfix needs root and the postfix user"
PFX_LIBDIR=$top_srcdir/bench/postfix
. "$PFX_LIBDIR/lib-postfix.sh"

start_aiosmtpd; P=$AIO_PORT; L=$AIO_LOG; S=$AIO_SAVE
SP=$(pick_port)
D=$ZT_W/pfx
mkdir -p "$D"
pfx_build "$D" "$SP" "[127.0.0.1]:$P" \
	"smtpd_recipient_restrictions = check_recipient_access texthash:$D/etc/rcpt, permit_mynetworks, reject" \
	"smtpd_helo_required = yes" || { fail "postfix build"; zt_done; }
printf 'bad@b.test 550 5.1.1 no such user here\nlater@b.test 450 4.2.0 try later\n' > "$D/etc/rcpt"
pfx_start "$D" || { fail "postfix start"; zt_done; }

MSG=$ZT_W/msg
printf 'From: alice@a.test\nTo: good@b.test\nBcc: secret@b.test\nSubject: via postfix\n\nhello\n' > "$MSG"

# refused recipient with Postfix's code and text; atleastone off: nothing sent
"$SS" "tcp!127.0.0.1!$SP" alice@a.test good@b.test bad@b.test < "$MSG" 2> "$ZT_W/e1"; rc=$?
check_eq "smtpsend: refused recipient -> EX_NOUSER" 67 "$rc"
check_match "smtpsend: Postfix's reply on stderr" '^smtpsend: refused bad@b.test: 550 5\.1\.1 .*no such user here' "$(cat "$ZT_W/e1")"

# atleastone: the good recipients get it, through Postfix to the sink
out=$("$DRV" --server 127.0.0.1 --port "$SP" --notls --atleastone --rcpt good@b.test --rcpt bad@b.test \
	--rcpt secret@b.test < "$MSG")
check_match "library: refused list" '^refused bad@b.test 550 5\.1\.1 ' "$out"
check_match "library: sent to the two others" '^status 0 exit 0 accepted 2 ' "$out"
for i in $(seq 1 200); do [ "$(jq_count "$L" '.ev=="msg"')" -ge 1 ] && break; sleep 0.1; done
check_eq "relayed by Postfix to the sink" 'good@b.test secret@b.test' \
	"$(jq_get "$L" 'select(.ev=="msg") | .rcpt_tos | sort | join(" ")' | head -1)"
check_nomatch "Bcc not in the copy" '^Bcc:' "$(cat "$S"/* 2>/dev/null)"
check_match "Message-ID added" '^Message-ID: ' "$(cat "$S"/* 2>/dev/null)"
check_match "sender from From" alice@a.test "$(jq_get "$L" 'select(.ev=="msg") | .mail_from' | head -1)"

# ping: a 4xx from Postfix is temporary
"$SS" -p "tcp!127.0.0.1!$SP" alice@a.test good@b.test later@b.test < /dev/null 2>/dev/null; rc=$?
check_eq "ping: 450 -> EX_TEMPFAIL" 75 "$rc"
"$SS" -p "tcp!127.0.0.1!$SP" alice@a.test good@b.test < /dev/null 2>/dev/null; rc=$?
check_eq "ping: valid" 0 "$rc"
pfx_stop
zt_done
