#!/bin/bash
# smtpd-greyredis.sh - the smtpserver daemon greylisting in Redis, end to
# end: a redis-server started here on 127.0.0.1 at a free port (its own
# directory, no persistence), smtpserver with "greylist-store redis:" and a
# 2 s delay, swaks as the client from an untrusted address:
#   - first attempt 450 4.7.1 Greylisted, nothing queued, the triplet is a
#     key under the configured prefix in Redis (a hash, not the addresses);
#   - a retry after the delay (polled, not timed) is accepted and queued;
#   - the allowed triplet passes at once, a new sender is greylisted again;
#   - a second smtpserver (another node) on the same Redis sees the same
#     state: the allowed triplet passes there at once;
#   - Redis stopped: mail is accepted (a store failure never makes mail
#     bounce) and the failure is logged.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
SMTPD=$top_builddir/smtpserver/smtpserver
need_built "$SMTPD"
need_cmd swaks redis-server redis-cli

ME=$(id -un)
PO=$ZT_W/n1.po
printf 'myhostname mail.local.test\nlocaldomains local.test\n' > "$ZT_W/router.conf"

rport=$(pick_port)
mkdir -p "$ZT_W/redis"
redis-server --port "$rport" --bind 127.0.0.1 --dir "$ZT_W/redis" --save '' --appendonly no \
	--daemonize no --logfile "$ZT_W/redis/log" >/dev/null 2>&1 &
RPID=$!
track "$RPID"
wait_port "$rport" 15 || { show "$ZT_W/redis/log"; fail "redis-server did not start"; zt_done; }
rcli() { timeout 10 redis-cli -h 127.0.0.1 -p "$rport" "$@"; }

# start_smtpd NAME PORT - one smtpserver node on the shared Redis; 127.0.0.1
# is not trusted here, so swaks is an outside client
start_smtpd() {
	{
		echo "hostname $1.local.test"
		echo "trusted-networks 198.51.100.0/24"
		echo "greylist on"
		echo "greylist-store redis:127.0.0.1:$rport"
		echo "greylist-redis-prefix zt:grey:"
		echo "greylist-redis-timeout 2s"
		echo "greylist-delay 2s"
		echo "listen 127.0.0.1:$2 smtp"
	} > "$ZT_W/$1.conf"
	# each node has its own postoffice (one smtpserver per postoffice)
	mk_postoffice "$ZT_W/$1.po"
	write_zconf "$ZT_W/$1.zconf" "POSTOFFICE=$ZT_W/$1.po" "ROUTERCONF=$ZT_W/router.conf"
	ZCONFIG=$ZT_W/$1.zconf "$SMTPD" -F -C "$ZT_W/$1.conf" -L "$ZT_W/$1.log" 2> "$ZT_W/$1.err" &
	track $!
	wait_port "$2" || { show "$ZT_W/$1.err" "$ZT_W/$1.log"; fail "smtpserver $1 did not start"; zt_done; }
}
PORT=$(pick_port)
start_smtpd n1 "$PORT"
SW=(timeout 30 swaks --server "127.0.0.1:$PORT" --from a@client.test --helo client.test)

out=$("${SW[@]}" --to "$ME@local.test" 2>&1)
check_match "Redis greylisting: first attempt 450 4.7.1" '<\*\* +450 4\.7\.1 .*Greylisted' "$out"
check_nomatch "Redis greylisting: nothing queued" 'queued as' "$out"
keys=$(rcli --scan --pattern 'zt:grey:*')
check_match "the triplet is a key under the configured prefix" '^zt:grey:' "$keys"
check_nomatch "keys do not show the addresses" 'client\.test|local\.test' "$keys"

for i in $(seq 1 20); do
	sleep 1
	out=$("${SW[@]}" --to "$ME@local.test" 2>&1)
	case "$out" in *Greylisted*) continue ;; esac
	break
done
check_match "Redis greylisting: retry after the delay accepted" '250 2.0.0 Ok: queued as [0-9]+' "$out"
id=$(printf '%s\n' "$out" | sed -n 's/.*Ok: queued as \([0-9][0-9]*\).*/\1/p' | head -1)
[ -n "$id" ] && [ -f "$PO/router/$id" ] && pass "the accepted message is in router/" ||
	fail "router/$id missing"
out=$("${SW[@]}" --to "$ME@local.test" 2>&1)
check_match "Redis greylisting: allowed triplet passes at once" '250 2.0.0 Ok: queued' "$out"
out=$("${SW[@]}" --from other@client.test --to "$ME@local.test" 2>&1)
check_match "Redis greylisting: a new triplet 450" '<\*\* +450 4\.7\.1 .*Greylisted' "$out"

# another node on the same Redis shares the state
PORT2=$(pick_port)
start_smtpd n2 "$PORT2"
out=$(timeout 30 swaks --server "127.0.0.1:$PORT2" --from a@client.test --helo client.test \
	--to "$ME@local.test" 2>&1)
check_match "second node: the allowed triplet passes at once" '250 2.0.0 Ok: queued' "$out"

# Redis down: accept, log
stop_pid "$RPID"
for i in $(seq 1 50); do kill -0 "$RPID" 2>/dev/null || break; sleep 0.2; done
out=$("${SW[@]}" --from third@client.test --to "$ME@local.test" 2>&1)
check_match "Redis down: accepted" '250 2.0.0 Ok: queued' "$out"
check_match "Redis down: logged" 'greylist store: .*\(accepting\)' "$(cat "$ZT_W/n1.log")"

for f in n1 n2; do
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$ZT_W/$f.err"; then
		show "$ZT_W/$f.err"
		fail "sanitizer report from smtpserver $f"
	fi
done
[ "$ZT_FAILS" -gt 0 ] && show "$ZT_W/n1.log" "$ZT_W/n2.log" "$ZT_W/redis/log"
zt_done
