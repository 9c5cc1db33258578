#!/bin/bash
# route.sh - routing throughput (make bench): N one-recipient submissions
# (default 10,000), one process per message as sendmail(8) does, LANES at a
# time, through
#   zmta:    sendmail/sendmail (libspool submit: fsync, rename, directory
#            fsync, notify) -> router -> transport/ control file + queue/
#            body (no scheduler runs: deliveries held)
#   Postfix: sendmail -> postdrop -> maildrop -> pickup -> cleanup
#            (trivial-rewrite) -> hold queue (header_checks HOLD: deliveries
#            held), a private instance, fsync at Postfix defaults
# and prints the rates and "ratio route <zmta/Postfix>".  The clock runs
# from the first submission until all N are routed (N control files / N
# files in Postfix's hold queue).  Also counts zmta's fsync calls per
# message (sendmail and router, strace over 50 messages) when strace is
# installed.  Postfix needs root; without it
# only zmta is measured.
# Env: N (10000) LANES (4) RUNS (1) BENCH_KEEP=1
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/benchlib.sh"
N=${N:-10000}; LANES=${LANES:-4}; RUNS=${RUNS:-1}
ROUTER=$top_builddir/router/router
ZMTA=$top_builddir/zmtactl/zmta
SENDMAIL=$top_builddir/sendmail/sendmail
for f in "$ROUTER" "$SENDMAIL" "$ZMTA"; do
	[ -x "$f" ] || { echo "SKIP route: not built: $f"; exit 77; }
done
ME=$(id -un)

# zmta_submit PO I - one submission through the real sendmail, one process
SUBMITTER="sendmail"
zmta_submit() { printf 'Subject: bench %s\n\nbody\n' "$2" | ZCONFIG=$BL_W/zmta.conf "$SENDMAIL" -i -f "bench@src.test" "rcpt@dst.test"; }
# lanes FN ARGS - N calls of FN ARGS i, LANES at a time
lanes() {
	local fn=$1 a=$2 l p pids=()
	for l in $(seq 0 $((LANES - 1))); do
		( for i in $(seq "$l" "$LANES" $((N - 1))); do "$fn" "$a" "$i" || exit 1; done ) &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done   # not the daemons
}
# count DIR NAMEGLOB - regular files
count() { find "$1" -type f -name "$2" 2>/dev/null | wc -l; }

zmta_run() {
	local po=$BL_W/zpo$1 t0 t1
	scratch_po -p "$po" -c "$BL_W/zmta.conf" "ROUTERCONF=$BL_W/router.conf" "ROUTER_RESCAN=1" ||
		{ echo "postoffice-init failed"; return 1; }
	printf 'myhostname src.test\n' > "$BL_W/router.conf"
	ZCONFIG=$BL_W/zmta.conf "$ROUTER" -L "$BL_W/router$1.log" &
	local rp=$!
	track "$rp"
	for i in $(seq 1 100); do [ -S "$po/.router.notify" ] && break; sleep 0.05; done
	t0=$(now)
	lanes zmta_submit "$po"
	while [ "$(count "$po/transport" '[0-9]*')" -lt "$N" ]; do
		sleep 0.02
		over "$t0" && { echo "zmta: timeout" >&2; break; }
	done
	t1=$(now)
	kill -TERM "$rp"; wait "$rp" 2>/dev/null
	ZRATE=$(calc "$N / ($t1 - $t0)")
	echo "run $1: zmta ($SUBMITTER -> router): $(count "$po/transport" '[0-9]*') routed in $(calc "$t1 - $t0") s = $ZRATE msg/s"
	rm -rf "$po"
}
over() { awk -v a="$1" -v b="$(now)" -v t=$((60 + N / 20)) 'BEGIN { exit !(b - a > t) }'; }

pfx_submit() { printf 'Subject: bench %s\n\nbody\n' "$2" | /usr/sbin/sendmail -C "$1/etc" -i -f bench@src.test rcpt@dst.test; }
pfx_run() {
	local D=$BL_W/pfx$1 t0 t1
	mkdir -p "$D"
	local port
	port=$(pick_port) || return 1
	pfx_build "$D" "$port" "[127.0.0.1]:9" "header_checks = regexp:$D/etc/hold" > /dev/null || return 1
	printf '/^Subject:/ HOLD\n' > "$D/etc/hold"
	pfx_start "$D" || return 1
	t0=$(now)
	lanes pfx_submit "$D"
	while [ "$(count "$D/queue/hold" '*')" -lt "$N" ]; do
		sleep 0.02
		over "$t0" && { echo "postfix: timeout" >&2; break; }
	done
	t1=$(now)
	local held
	held=$(count "$D/queue/hold" '*')
	pfx_stop
	PRATE=$(calc "$N / ($t1 - $t0)")
	echo "run $1: postfix (sendmail -> postdrop -> pickup -> cleanup -> hold): $held held in $(calc "$t1 - $t0") s = $PRATE msg/s"
	rm -rf "$D"
}

echo "# route: N=$N one-recipient messages, one submitting process each, $LANES lanes, RUNS=$RUNS ($(nproc) cpus)"
zr=(); pr=()
have_pfx=1
if [ "$(id -u)" != 0 ] || ! command -v postfix > /dev/null || [ ! -x /usr/lib/postfix/sbin/master ] ||
   ! getent passwd postfix > /dev/null; then
	have_pfx=0
	echo "# Postfix not measured (needs root, postfix and its user)"
else
	. "$top_srcdir/bench/postfix/lib-postfix.sh"
fi
for run in $(seq 1 "$RUNS"); do
	zmta_run "$run" && zr+=("$ZRATE")
	[ "$have_pfx" = 1 ] && pfx_run "$run" && pr+=("$PRATE")
done

# fsyncs per message on the zmta path (strace over 50 messages)
if command -v strace > /dev/null; then
	po=$BL_W/spo
	scratch_po -p "$po" -c "$BL_W/zmta.conf" "ROUTERCONF=$BL_W/router.conf"
	: > "$BL_W/sub.st"
	for i in $(seq 1 50); do
		printf 'Subject: bench %s\n\nbody\n' "$i" |
			strace -f -qq -e trace=fsync,fdatasync -o "$BL_W/sub1.st" "$SENDMAIL" -i -f bench@src.test rcpt@dst.test
		cat "$BL_W/sub1.st" >> "$BL_W/sub.st"
	done
	strace -f -qq -e trace=fsync,fdatasync -o "$BL_W/rtr.st" "$ROUTER" -1 > /dev/null 2>&1
	fs=$(grep -c 'fsync(' "$BL_W/sub.st"); fr=$(grep -c 'fsync(' "$BL_W/rtr.st")
	echo "fsyncs per message: submission (sendmail) $(calc "$fs / 50"), router $(calc "$fr / 50"), total $(calc "($fs + $fr) / 50")"
fi
zm=$(median "${zr[@]}")
echo "SUMMARY route zmta=$zm msg/s${pr[*]:+ postfix=$(median "${pr[@]}") msg/s}"
if [ "${#pr[@]}" -gt 0 ]; then
	echo "ratio route $(calc "$zm / $(median "${pr[@]}")")"
fi
