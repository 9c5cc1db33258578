#!/bin/bash
# client-lib.sh - libzmsmtp: N messages through one library session
# (zmsmtp_open, N x zmsmtp_send, zmsmtp_close; tests/integration/zmsmtp-drive
# --count N) vs Python's smtplib doing the same (one SMTP object, N
# sendmail calls) to the same smtp-sink in the same run.  RUNS runs; prints
# both rates per run and `ratio client-lib <zmta/smtplib>` (median).
# Env: N (1000) RUNS (3) SIZE (1000) BENCH_KEEP=1 keeps the work dir.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/benchlib.sh"
N=${N:-1000}; RUNS=${RUNS:-3}; SIZE=${SIZE:-1000}
DRV=$top_builddir/tests/integration/zmsmtp-drive
PY=${SYS_PYTHON3:-/usr/bin/python3}
need smtp-sink "$DRV" "$PY"
start_sink || { echo "smtp-sink did not start"; exit 1; }
MSG=$BL_W/msg
{ printf 'From: s@src.test\nTo: r@dst.test\nSubject: bench\nDate: Mon, 7 Dec 2026 00:00:00 +0000\nMessage-ID: <b@src.test>\n\n'
  head -c "$SIZE" /dev/zero | tr '\0' 'x' | fold -w 70; echo; } > "$MSG"
cat > "$BL_W/lib.py" <<'PYEOF'
import smtplib, sys
port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
msg = open(path, "rb").read()
s = smtplib.SMTP("127.0.0.1", port)
s.ehlo("bench.test")
for i in range(n):
    s.sendmail("s@src.test", ["r@dst.test"], msg)
s.quit()
PYEOF
echo "# client-lib: N=$N msgs x ${SIZE}B, one session, RUNS=$RUNS, sink 127.0.0.1:$SINK_PORT ($(nproc) cpus)"
ratios=(); zr=(); pr=()
for r in $(seq 1 "$RUNS"); do
	m0=$(sink_mesg)
	t0=$(now)
	"$DRV" --server 127.0.0.1 --port "$SINK_PORT" --notls --client bench.test --count "$N" \
		--from s@src.test --rcpt r@dst.test < "$MSG" > "$BL_W/drv.out" 2>&1
	rc=$?
	t1=$(now)
	sleep 0.3
	m1=$(sink_mesg)
	[ "$rc" -ne 0 ] && echo "  WARN run $r: zmsmtp-drive exit $rc: $(tail -1 "$BL_W/drv.out")"
	[ $((m1 - m0)) -ne "$N" ] && echo "  WARN run $r: sink counted $((m1 - m0)) of $N from the library"
	z=$(calc "$N / ($t1 - $t0)")
	m0=$(sink_mesg)
	t0=$(now)
	"$PY" "$BL_W/lib.py" "$SINK_PORT" "$N" "$MSG"
	prc=$?
	t1=$(now)
	sleep 0.3
	m1=$(sink_mesg)
	[ "$prc" -ne 0 ] && echo "  WARN run $r: smtplib exit $prc"
	[ $((m1 - m0)) -ne "$N" ] && echo "  WARN run $r: sink counted $((m1 - m0)) of $N from smtplib"
	p=$(calc "$N / ($t1 - $t0)")
	ratio=$(calc "$z / $p")
	printf 'run %d: libzmsmtp %8.0f msg/s  smtplib %8.0f msg/s  ratio %5.2f\n' "$r" "$z" "$p" "$ratio"
	zr+=("$z"); pr+=("$p"); ratios+=("$ratio")
done
printf 'SUMMARY client-lib N=%d size=%d runs=%d: libzmsmtp median %.0f msg/s, smtplib median %.0f msg/s\n' \
	"$N" "$SIZE" "$RUNS" "$(median "${zr[@]}")" "$(median "${pr[@]}")"
printf 'ratio client-lib %.2f\n' "$(median "${ratios[@]}")"
