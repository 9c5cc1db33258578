#!/bin/sh
# smtpd-policy.sh - smtpserver policy blocks against real peers:
#   - greylisting in Redis: a redis-server started here on 127.0.0.1 at a
#     free port with its own directory runs check_pol_grey's Redis cases
#     (state machine, two processes, TTLs on every key);
#   - the policy delegation client against Debian's postgrey (TCP and UNIX
#     socket): first DEFER_IF_PERMIT / DEFER, after postgrey's delay a
#     pass with its PREPENDed X-Greylist header;
#   - a policy service that is down gives the 451 4.3.5 fallback.
. "${top_srcdir:-.}/tests/integration/testlib.sh"

need_cmd redis-server postgrey ss
POLQ=$top_builddir/tests/tools/polquery
GREY=$top_builddir/tests/unit/check_pol_grey
[ -x "$POLQ" ] || skip "tests/tools/polquery not built"
[ -x "$GREY" ] || skip "tests/unit/check_pol_grey not built"

# --- Redis -------------------------------------------------------------------
rport=$(pick_port)
mkdir -p "$ZT_W/redis"
redis-server --port "$rport" --bind 127.0.0.1 --dir "$ZT_W/redis" --save '' --appendonly no \
	--daemonize no --logfile "$ZT_W/redis/log" >/dev/null 2>&1 &
track $!
wait_port "$rport" 15 || { show "$ZT_W/redis/log"; fail "redis-server did not start"; zt_done; }
if ZT_REDIS=127.0.0.1:$rport TMPDIR=$ZT_W "$GREY" >"$ZT_W/grey.out" 2>&1; then
	if grep -q 'ZT_REDIS not set' "$ZT_W/grey.out"; then
		fail "check_pol_grey did not run the Redis cases"
	else
		pass "greylisting in Redis (check_pol_grey with ZT_REDIS)"
	fi
else
	show "$ZT_W/grey.out"
	fail "check_pol_grey against redis-server"
fi

# --- postgrey ------------------------------------------------------------------
u=$(id -un) g=$(id -gn)
: >"$ZT_W/wl_clients"
: >"$ZT_W/wl_rcpts"
# start_postgrey NAME LISTEN-OPTION [extra options] - postgrey in the foreground
start_postgrey() {
	local name=$1 listen=$2
	shift 2
	mkdir -p "$ZT_W/$name"
	postgrey "$listen" --dbdir="$ZT_W/$name" --delay=2 --user="$u" --group="$g" \
		--hostname=pg.test --auto-whitelist-clients=0 \
		--whitelist-clients="$ZT_W/wl_clients" --whitelist-recipients="$ZT_W/wl_rcpts" \
		"$@" >"$ZT_W/$name.log" 2>&1 &
	track $!
}
pport=$(pick_port)
start_postgrey pg-tcp --inet=127.0.0.1:"$pport"
start_postgrey pg-unix --unix="$ZT_W/pg.sock" --greylist-action=DEFER
wait_port "$pport" 20 || { show "$ZT_W/pg-tcp.log"; fail "postgrey (tcp) did not start"; zt_done; }
wait_file "$ZT_W/pg.sock" 20 || { show "$ZT_W/pg-unix.log"; fail "postgrey (unix) did not start"; zt_done; }

req="protocol_state=RCPT protocol_name=ESMTP client_address=192.0.2.1 client_name=mx.example.org
 reverse_client_name=mx.example.org helo_name=mx.example.org sender=alice@example.org
 recipient=bob@example.net queue_id= instance=1.2.3 size=100"
# shellcheck disable=SC2086
q() { "$POLQ" "$1" 10000 $req; }

out=$(q inet:127.0.0.1:"$pport")
check_match "postgrey first try: DEFER_IF_PERMIT (accept + flag)" \
	'^verdict=accept code=450 enh=4.7.1 flags=0x2 text=Greylisted' "$out"
out=$(q unix:"$ZT_W/pg.sock")
check_match "postgrey --greylist-action=DEFER over a UNIX socket: defer 450" \
	'^verdict=defer code=450 enh=4.7.1 flags=0x0 text=Greylisted' "$out"

# after postgrey's 2 s delay the retry passes (polled, not timed)
# retry EP - poll until the answer is no longer a greylisting one
retry() {
	local i out=""
	for i in $(seq 1 15); do
		sleep 1
		out=$(q "$1")
		case "$out" in *text=Greylisted*) continue ;; esac
		break
	done
	printf '%s' "$out"
}
out=$(retry inet:127.0.0.1:"$pport")
check_match "postgrey retry after the delay: PREPEND X-Greylist" \
	'^verdict=accept code=0 enh= flags=0x8 text= header=X-Greylist: delayed [0-9]+ seconds by postgrey' "$out"
out=$(retry unix:"$ZT_W/pg.sock")
check_match "postgrey (unix) retry passes" '^verdict=accept .*header=X-Greylist: ' "$out"

# --- a policy service that is not there ---------------------------------------
dport=$(pick_port)
out=$(q inet:127.0.0.1:"$dport"); rc=$?
check_eq "polquery to a closed port fails" 1 "$rc"
check_match "closed port: 451 4.3.5 fallback" '^verdict=defer code=451 enh=4.3.5 ' "$out"

[ "$ZT_FAILS" -gt 0 ] && show "$ZT_W/pg-tcp.log" "$ZT_W/pg-unix.log"
zt_done
