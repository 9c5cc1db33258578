#!/bin/sh
# smtpd-example.sh - the example program of libzmsmtpd(3) (built by make
# check from tests/tools/zmsmtpd-example.c, the same text as the man page):
# it runs, refuses a foreign recipient, takes one message with swaks and
# python smtplib, writes it with a Received line, and stops by itself.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
EX=$top_builddir/tests/tools/zmsmtpd-example
need_built "$EX"
need_cmd swaks

# the man page shows the program as it is
sed -n '/^#include <stdio.h>/,$p' "$top_srcdir/tests/tools/zmsmtpd-example.c" > "$ZT_W/src.c"
sed -n '/^\.SH EXAMPLE/,/^\.fi/p' "$top_srcdir/man/libzmsmtpd.3" | sed -n '/^\.nf/,/^\.fi/p' |
	sed '1d;$d' | sed 's/\\e/\\/g' > "$ZT_W/man.c"
if cmp -s "$ZT_W/src.c" "$ZT_W/man.c"; then pass "man page example = tests/tools/zmsmtpd-example.c"
else fail "man page example differs from the program"; diff "$ZT_W/src.c" "$ZT_W/man.c" | head; fi

"$EX" 0 "$ZT_W/mbox" -1 > "$ZT_W/port" 2> "$ZT_W/ex.err" &
EPID=$!
track "$EPID"
wait_file "$ZT_W/port" 5
for i in $(seq 1 50); do [ -s "$ZT_W/port" ] && break; sleep 0.1; done
PORT=$(head -1 "$ZT_W/port")
[ -n "$PORT" ] || { show "$ZT_W/ex.err"; fail "no port"; zt_done; }
out=$(swaks --server "127.0.0.1:$PORT" --from a@client.test --helo client.test \
	--to someone@else.test 2>&1)
check_match "foreign recipient refused" '550 5.7.1 no such user here' "$out"
out=$("$ZT_PY" "$ZT_PEERS/smtp-client.py" send "$PORT" bob@example.org 2>&1)
check_match "smtplib: message accepted" 'sent \{\}' "$out"
for i in $(seq 1 50); do kill -0 "$EPID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$EPID" 2>/dev/null; then fail "example did not stop after one message"; fi
wait "$EPID"
check_eq "example exit status" 0 "$?"
m=$(cat "$ZT_W/mbox" 2>/dev/null)
check_match "mbox From line" '^From a@client.test' "$m"
check_match "Received with ESMTP" 'Received: from client.test \(\[127.0.0.1\]\)' "$m"
check_match "by mx.example.org with ESMTP" 'by mx.example.org \(zmta\) with ESMTP id example' "$m"
check_match "body" 'hello' "$m"
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$ZT_W/ex.err"; then
	fail "sanitizer report"; show "$ZT_W/ex.err"
fi
zt_done
