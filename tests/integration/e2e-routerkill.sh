#!/bin/sh
# e2e-routerkill.sh - the whole system under "zmta start" while 500
# messages flow in through the built sendmail (5 submitters, run as a
# throwaway local user): the router is killed with SIGKILL again and again
# (every second time with its workers); the supervisor restarts it.  At the
# end every message is in the recipient's Maildir: none lost (each Subject
# number 1..N present) and none twice; nothing is left in the spool and
# nothing is set aside in postman/.  Needs root.
ZT_TIMEOUT=${ZT_TIMEOUT:-400}
. "${top_srcdir:-.}/tests/integration/testlib.sh"
. "$top_srcdir/tests/integration/e2e-lib.sh"
N=${E2E_KILL_N:-500}
e2e_setup
e2e_user A
e2e_user B
e2e_start || { e2e_logs; zt_done; }

# router_pid - the router "zmta status" reports running
router_pid() {
	"$ZT_ZMTA" status 2>/dev/null | sed -n 's/^router: running, pid \([0-9][0-9]*\),.*/\1/p'
}
# wait_router OLDPID - until a router other than OLDPID runs (the restart)
wait_router() {
	local i p
	for i in $(seq 1 1200); do
		p=$(router_pid)
		[ -n "$p" ] && [ "$p" != "$1" ] && { echo "$p"; return 0; }
		sleep 0.05
	done
	return 1
}

# 5 submitters of N/5 messages each
for k in 1 2 3 4 5; do
	(
		for i in $(seq 1 $((N / 5))); do
			n=$(((k - 1) * (N / 5) + i))
			printf 'Subject: kill-%d\n\nmessage %d\n' "$n" "$n" |
				as_user "$A" env ZCONFIG="$ZCONFIG" "$SENDMAIL" -i "$B@localhost.test" ||
				echo "sendmail failed for $n" >> "$ZT_W/subfail"
		done
	) &
	track $!
	eval "SUB$k=\$!"
done

kills=0
p=$(router_pid)
while :; do
	running=0
	for k in 1 2 3 4 5; do
		eval "s=\$SUB$k"
		kill -0 "$s" 2>/dev/null && running=1
	done
	[ "$running" = 0 ] && [ "$kills" -ge 3 ] && break
	[ "$kills" -ge 6 ] && break
	sleep "0.$((RANDOM % 3 + 1))"
	[ -n "$p" ] || p=$(router_pid)
	[ -n "$p" ] || { fail "no router running"; break; }
	kids=$(ps -o pid= --ppid "$p" 2>/dev/null | tr -d ' ')
	kill -KILL "$p" 2>/dev/null
	kills=$((kills + 1))
	if [ $((kills % 2)) = 0 ]; then
		for c in $kids; do kill -KILL "$c" 2>/dev/null; done
	fi
	p=$(wait_router "$p") || { fail "the supervisor did not restart the router"; break; }
done
info "router killed $kills times"
for k in 1 2 3 4 5; do eval "wait \$SUB$k"; done
check_eq "every sendmail succeeded" "" "$(cat "$ZT_W/subfail" 2>/dev/null)"

# wait for the last deliveries
for i in $(seq 1 240); do
	c=$(maildir_count "$B")
	[ "$c" -ge "$N" ] && break
	sleep 0.5
done
sleep 1
maildir_files "$B" | xargs -r grep -h '^Subject: kill-' | sed 's/^Subject: kill-//' | sort -n > "$ZT_W/got"
check_eq "messages delivered" "$N" "$(sort -u "$ZT_W/got" | wc -l)"
check_eq "none missing" "" "$(comm -23 <(seq 1 "$N" | sort) <(sort -u "$ZT_W/got") | sort -n | head -5 | tr '\n' ' ')"
check_eq "none delivered twice" "" "$(uniq -d "$ZT_W/got" | head -5 | tr '\n' ' ')"
check_eq "spool empty" 0 "$(find "$PO/router" "$PO/public" "$PO/transport" "$PO/deferred" -type f -name '[0-9]*' | wc -l)"
check_eq "postman/ empty" 0 "$(find "$PO/postman" -type f | wc -l)"
e2e_sancheck
[ "$ZT_FAILS" = 0 ] || { ls -R "$PO" | head -50; tail -n 40 "$LOG/router" "$LOG/zmta"; }
zt_done
