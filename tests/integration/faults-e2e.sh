#!/bin/sh
# faults-e2e.sh - the fault matrix through the whole system: each message
# goes in by the built sendmail, through the router and the scheduler
# ("zmta start") to the smtp agent, which meets a scripted peer
# (tests/peers/aiosmtpd-peer.py, raw mode for 421s and resets) or a DNS
# fault (tests/peers/dns-faulty.py).  One recipient per message;
# for each, the end state is checked:
#   delivered  the peer logged the transaction with that recipient
#   bounced    a delivery report (multipart/report, Status 5.x.x,
#              Final-Recipient) reached the sender's mailbox on the peer
#   deferred   the control file is still queued with the recipient's tag
#              ' ' (not locked, not done) after the scheduler tried it
# Cases: 4xx and 5xx at RCPT and after DATA; 421 at the greeting, EHLO,
# MAIL, RCPT, DATA and after the dot; the connection closed mid-DATA; a
# peer that stalls (-T cmd=5s); DNS SERVFAIL, NXDOMAIN, null MX and a DNS
# timeout; a full disk under sendmail (tests/tools/enospc.c: exit 75
# EX_TEMPFAIL, nothing left in the spool) and under the router (the
# submission goes to deferred/, no control file, routed once there is
# room).  After "zmta stop": no stale
# lock, no body without a control file.  doc/reliability.md lists what is
# covered where.
ZT_TIMEOUT=${ZT_TIMEOUT:-180}
. "${top_srcdir:-.}/tests/integration/testlib.sh"
. "$top_srcdir/tests/integration/crash-lib.sh"
need_py_module aiosmtpd dnslib
need_cmd jq

# --- peers ----------------------------------------------------------------------
start_aiosmtpd --dsn
P_OK=$AIO_PORT LOG_OK=$AIO_LOG SAVE_OK=$AIO_SAVE
# raw peers: addr -> "name|args"
RAW=(
	"127.0.0.4|g421|--reply GREETING=421 4.3.2 closing at greeting"
	"127.0.0.5|e421|--reply EHLO=421 4.3.2 closing at EHLO"
	"127.0.0.6|m421|--reply MAIL=421 4.3.2 closing at MAIL"
	"127.0.0.7|r421|--reply RCPT=421 4.3.2 closing at RCPT"
	"127.0.0.8|d421|--reply DATA=421 4.3.2 closing at DATA"
	"127.0.0.9|t421|--reply DOT=421 4.3.2 closing after the dot"
	"127.0.0.10|reset|--close-in-data 100"
	"127.0.0.11|stall|--stall MAIL"
)
MAP="127.0.0.3=127.0.0.1:$P_OK"
declare -A RAWLOG
ZONE=$ZT_W/faults.zone
{
	printf '$ORIGIN mta.test.\n$TTL 60\n@ IN SOA ns.mta.test. h.mta.test. ( 1 3600 600 86400 60 )\n'
	printf '@ IN NS ns.mta.test.\nns IN A 127.0.0.1\nlive1 IN A 127.0.0.3\n'
	printf 'ok IN MX 10 pok.mta.test.\npok IN A 127.0.0.3\nnullmx IN MX 0 .\n'
} > "$ZONE"
for r in "${RAW[@]}"; do
	a=${r%%|*} rest=${r#*|}
	name=${rest%%|*} args=${rest#*|}
	read -r -a argv <<< "${args%%=*}"
	if [ "${args#*=}" != "$args" ]; then
		# --reply VERB=TEXT: the text has blanks
		start_aiosmtpd --raw "${argv[0]}" "${argv[1]}=${args#*=}"
	else
		start_aiosmtpd --raw $args
	fi
	MAP="$MAP $a=127.0.0.1:$AIO_PORT"
	RAWLOG[$name]=$AIO_LOG
	printf '%s IN MX 10 p%s.mta.test.\np%s IN A %s\n' "$name" "$name" "$name" "$a" >> "$ZONE"
done
start_dns_faulty "$ZONE"
CRASH_SMTP_ARGS="-T cmd=5s"
crash_setup "DNS_SERVERS=127.0.0.1:$DNS_PORT" "SMTP_TEST_ADDRMAP=$MAP" "ROUTER_DEFER_RETRY=1"
crash_start || { crash_logs; zt_done; }

# --- the matrix: "case|recipient|expected" ------------------------------------
M=(
	"ok|u1@ok.mta.test|delivered"
	"rcpt-4xx|rcpt-temp1@ok.mta.test|deferred"
	"rcpt-5xx|rcpt-perm1@ok.mta.test|bounced"
	"data-4xx|data-temp1@ok.mta.test|deferred"
	"data-5xx|data-perm1@ok.mta.test|bounced"
	"421-greeting|u@g421.mta.test|deferred"
	"421-ehlo|u@e421.mta.test|raw-delivered"
	"421-mail|u@m421.mta.test|deferred"
	"421-rcpt|u@r421.mta.test|deferred"
	"421-data|u@d421.mta.test|deferred"
	"421-dot|u@t421.mta.test|deferred"
	"reset-mid-data|u@reset.mta.test|deferred"
	"stall|u@stall.mta.test|deferred"
	"dns-servfail|u@servfail.mta.test|deferred"
	"dns-timeout|u@drop.mta.test|deferred"
	"dns-nxdomain|u@nosuchname.mta.test|bounced"
	"null-mx|u@nullmx.mta.test|bounced"
)
SENDER=sender@ok.mta.test
for m in "${M[@]}"; do
	IFS='|' read -r c r e <<< "$m"
	printf 'Subject: fault %s\nMessage-ID: <%s@faults.test>\n\nbody\n' "$c" "$c" |
		crash_sm -i -f "$SENDER" "$r"
	check_eq "$c: sendmail accepts" 0 "$?"
done

# delivered_to ADDR - the main peer logged a transaction to ADDR that it
# answered with 250
delivered_to() {
	[ "$(jq_count "$LOG_OK" ".ev == \"msg\" and (.rcpt_tos | index(\"$1\")) and ((.replies // []) | map(startswith(\"250\")) | any)")" -ge 1 ]
}
# raw_delivered NAME - the raw peer NAME took a message (its dot got 250)
raw_delivered() { [ "$(jq_count "${RAWLOG[$1]}" '.ev == "msg"')" -ge 1 ]; }
# bounce_for ADDR - a report to SENDER about ADDR, Status 5.x.x
bounce_for() {
	local f
	for f in "$SAVE_OK"/*.eml; do
		[ -f "$f" ] || continue
		grep -aqi "^Final-Recipient: rfc822; *$1" "$f" || continue
		grep -aqi '^Content-Type: multipart/report' "$f" || continue
		grep -aq '^Status: 5\.[0-9]*\.[0-9]*' "$f" && return 0
	done
	return 1
}
# rcpt_line ADDR - the r line for ADDR in a queued control file ("" if none)
rcpt_line() { find "$PO/transport" -type f -name '[0-9]*' -exec grep -ah "^r.* $1 " {} + 2>/dev/null | head -1; }
# tried ADDR - an agent reported ADDR deferred (the scheduler logs it)
tried() { grep -Eaq "to=<$1>.*stat=(defer|retryat)" "$LOG/scheduler" 2>/dev/null; }

# --- wait until every expected end state is reached (or 90 s) ------------------
state_of() {
	local r=$1 e=$2 l
	case $e in
	delivered) delivered_to "$r" && echo delivered ;;
	raw-delivered)
		# the agent answers a 421 to EHLO with a new connection and HELO
		# (RFC 5321 4.1.4 fallback); this raw peer takes HELO: delivered
		raw_delivered "$(echo "$r" | sed 's/^u@\([a-z0-9]*\)\..*/\1/')" && echo raw-delivered
		;;
	bounced) bounce_for "$r" && echo bounced ;;
	deferred)
		l=$(rcpt_line "$r")
		# ' ' = waiting for its retry; '~' = an agent retries it now
		case "${l:1:1}" in ' '|'~') tried "$r" && echo deferred ;; esac
		;;
	esac
}
for i in $(seq 1 90); do
	all=1
	for m in "${M[@]}"; do
		IFS='|' read -r c r e <<< "$m"
		[ "$(state_of "$r" "$e")" = "$e" ] || { all=0; break; }
	done
	[ "$all" = 1 ] && break
	sleep 1
done
for m in "${M[@]}"; do
	IFS='|' read -r c r e <<< "$m"
	s=$(state_of "$r" "$e")
	check_eq "$c ($r): $e" "$e" "${s:-not $e (queue: '$(rcpt_line "$r" | cut -c1-60)')}"
	# nothing may be both delivered and bounced, or bounced and still queued
	if [ "$e" = bounced ]; then
		check_eq "$c: not delivered" no "$(delivered_to "$r" && echo yes || echo no)"
		check_eq "$c: not queued" "" "$(rcpt_line "$r")"
	fi
	[ "$e" = deferred ] && check_eq "$c: not bounced" no "$(bounce_for "$r" && echo yes || echo no)"
done
# the reports give the peer's reason where there was one
f=$(grep -al '^Final-Recipient: rfc822; *rcpt-perm1@' "$SAVE_OK"/*.eml 2>/dev/null | head -1)
[ -n "$f" ] && check_match "rcpt-5xx: report has 5.1.1" '^Status: 5\.1\.1' "$(cat "$f")"
[ -n "$f" ] && check_match "rcpt-5xx: Diagnostic-Code smtp" '^Diagnostic-Code: smtp; *550' "$(cat "$f")"
f=$(grep -al '^Final-Recipient: rfc822; *u@nullmx' "$SAVE_OK"/*.eml 2>/dev/null | head -1)
[ -n "$f" ] && check_match "null-mx: report says 5.1.10 or 5.7.27" '^Status: 5\.(1\.10|7\.27)' "$(cat "$f")"

# --- a full disk during submission: sendmail refuses with EX_TEMPFAIL ----------
if command -v cc > /dev/null 2>&1 && ! nm -D "$SENDMAIL" 2>/dev/null | grep -q __asan_init &&
   cc -shared -fPIC -o "$ZT_W/enospc.so" "$top_srcdir/tests/tools/enospc.c" -ldl > "$ZT_W/cc.out" 2>&1; then
	before=$(find "$PO/router" "$PO/public" "$PO/queue" "$PO/transport" -type f | sort)
	for how in "ENOSPC_GROW=1" "ENOSPC_AFTER=40" "ENOSPC_FSYNC=1 ENOSPC_NTH=99999"; do
		: > "$ZT_W/enospc.log"
		printf 'Subject: fault disk-full\n\n%s\n' "$(head -c 3000 /dev/zero | tr '\0' 'x')" |
			env $how ENOSPC_MATCH="$PO/" ENOSPC_LOG="$ZT_W/enospc.log" LD_PRELOAD="$ZT_W/enospc.so" \
			ZCONFIG="$ZCONFIG" "$SENDMAIL" -i -f "$SENDER" "u2@ok.mta.test" > "$ZT_W/sm-enospc.out" 2>&1
		rc=$?
		if [ -s "$ZT_W/enospc.log" ]; then
			check_eq "disk full ($how): sendmail exit 75" 75 "$rc"
			check_eq "disk full ($how): nothing left in the spool" "$before" \
				"$(find "$PO/router" "$PO/public" "$PO/queue" "$PO/transport" -type f | sort)"
		else
			info "disk full ($how): the shim did not fire (exit $rc)"
		fi
	done
else
	info "no cc or a sanitizer build: the full-disk submission case is not run"
fi

# --- the spool after a stop ---------------------------------------------------------
# agents of the scheduler (our $BIN/ta programs) before the stop
AGENTS=$(for p in $(ps -e -o pid=); do
	case "$(tr '\0' ' ' 2>/dev/null < "/proc/$p/cmdline")" in "$BIN/ta/"*) echo "$p" ;; esac
done)
crash_stop
# an agent waiting for a peer or DNS may outlive the stop until its wait
# ends (it then finds its input closed): give it the stall bound, then
# report (and stop) any that is left
left=
for i in $(seq 1 100); do
	left=
	for p in $AGENTS; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
	[ -z "$left" ] && break
	sleep 0.1
done
if [ -n "$left" ]; then
	info "agents still running 10 s after zmta stop:$left (stopped by the test; known: an agent in a DNS wait)"
	for p in $left; do kill -KILL "$p" 2>/dev/null; done
	sleep 0.2
	CRASH_DEAD_AGENTS=$left
fi
crash_spool_check
NDEF=0
for m in "${M[@]}"; do case $m in *"|deferred") NDEF=$((NDEF + 1)) ;; esac; done
check_eq "spool: exactly the deferred messages stay queued" "$NDEF" "$SPOOL_LEFT"
NDEF=$((NDEF + 1))   # the message of the routing case below stays queued

# --- a full disk while routing: the router keeps the submission and
# finishes it once the disk has room (zmta is stopped; the router runs
# alone, first under the shim)
if [ -f "$ZT_W/enospc.so" ]; then
	before_t=$(find "$PO/transport" -type f -name '[0-9]*' | sort)
	printf 'Subject: fault route-disk-full\n\nbody\n' | crash_sm -i -f "$SENDER" u3@ok.mta.test
	check_eq "route disk full: sendmail accepts" 0 "$?"
	SUB=$(basename "$(find "$PO/router" -type f -name '[0-9]*' | head -1)")
	: > "$ZT_W/enospc.log"
	ENOSPC_MATCH="$PO/transport/" ENOSPC_GROW=0 ENOSPC_FSYNC=1 ENOSPC_LOG="$ZT_W/enospc.log" \
		LD_PRELOAD="$ZT_W/enospc.so" ZCONFIG="$ZCONFIG" "$top_builddir/router/router" -L "$ZT_W/router-full.log" &
	RP=$!
	track "$RP"
	for i in $(seq 1 60); do [ -s "$ZT_W/enospc.log" ] && break; sleep 0.1; done
	sleep 1
	stop_pid "$RP"
	if [ -s "$ZT_W/enospc.log" ]; then
		check_eq "route disk full: no new control file" "$before_t" \
			"$(find "$PO/transport" -type f -name '[0-9]*' | sort)"
		check_eq "route disk full: no temp control file" 0 \
			"$(find "$PO/transport" -name '.[0-9]*' -type f | wc -l)"
		check_eq "route disk full: the submission is kept (router/ or deferred/)" yes \
			"$([ -n "$SUB" ] && { [ -f "$PO/router/$SUB" ] || [ -f "$PO/deferred/$SUB.deferred" ]; } && echo yes || echo no)"
		ZCONFIG="$ZCONFIG" "$top_builddir/router/router" -L "$ZT_W/router-after.log" &
		RP=$!
		track "$RP"
		# deferred/ goes back to router/ every ROUTER_DEFER_RETRY (1 s here)
		for i in $(seq 1 150); do
			[ -z "$(find "$PO/router" "$PO/deferred" -type f -name '[0-9]*')" ] && break
			sleep 0.1
		done
		sleep 0.3
		stop_pid "$RP"
		check_eq "route disk full: routed once there is room" 1 \
			"$(comm -13 <(printf '%s\n' "$before_t") <(find "$PO/transport" -type f -name '[0-9]*' | sort) | grep -c .)"
	else
		info "route disk full: the shim did not fire in the router"
		show "$ZT_W/router-full.log"
	fi
	crash_spool_check
fi
if grep -Eqs 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$LOG"/*; then
	fail "sanitizer report in $LOG"
fi
[ "$ZT_FAILS" = 0 ] || crash_logs | tail -120
zt_done
