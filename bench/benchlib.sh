# benchlib.sh - helpers for bench/*.sh (source it).  Loopback only; only
# PIDs we started are ever signalled; work dirs under /tmp are removed.
set -u
PATH=$PATH:/usr/sbin:/sbin
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$(pwd)}"
BL_PIDS=()
BL_W=$(mktemp -d "/tmp/zbench-$(basename "$0" .sh).XXXXXX") || exit 1
chmod 755 "$BL_W"
CLK_TCK=$(getconf CLK_TCK)

bl_cleanup() {
	local p
	for p in "${BL_PIDS[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null; done
	for p in "${BL_PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
	[ "${BENCH_KEEP:-0}" = 1 ] && echo "kept $BL_W" || rm -rf "$BL_W"
}
trap bl_cleanup EXIT
trap 'exit 143' TERM INT

# track PID - a process we started (stopped at exit)
track() { BL_PIDS+=("$1"); }
# now - seconds with nanoseconds
now() { date +%s.%N; }
# median N... - median of the numbers
median() {
	printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END { if (NR == 0) { print "nan"; exit }
		if (NR % 2) print a[(NR+1)/2]; else printf "%.6g\n", (a[NR/2] + a[NR/2+1]) / 2 }'
}
# calc EXPR - awk arithmetic
calc() { awk "BEGIN { printf \"%.6g\", $* }"; }
# pick_port - a free TCP port on 127.0.0.1
pick_port() {
	local p i
	for i in $(seq 1 200); do
		p=$((20000 + (RANDOM * 7 + $$ + i) % 12000))
		[ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return 0; }
	done
	return 1
}
# wait_port PORT [SECS]
wait_port() {
	local i
	for i in $(seq 1 $((${2:-10} * 20))); do
		[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	return 1
}
# need CMD... - exit 77 (skipped) when a tool is missing
need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] || { echo "SKIP $(basename "$0"): missing $c"; exit 77; }
	done
}
SINK_USER=()
[ "$(id -u)" = 0 ] && SINK_USER=(-u nobody)
# start_sink - smtp-sink -c on a fresh port: SINK_PORT SINK_PID SINK_OUT
start_sink() {
	SINK_PORT=$(pick_port) || return 1
	SINK_OUT=$BL_W/sink.out
	smtp-sink "${SINK_USER[@]}" -c "$@" "127.0.0.1:$SINK_PORT" 256 > "$SINK_OUT" 2>&1 &
	SINK_PID=$!
	track "$SINK_PID"
	wait_port "$SINK_PORT"
}
# sink_mesg - smtp-sink's message counter
sink_mesg() { local v; v=$(tr '\r' '\n' < "$SINK_OUT" | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2); echo "${v:-0}"; }
# scratch_po, mk_postoffice, write_zconf: the tests' one scratch postoffice
. "$top_srcdir/tests/lib/postoffice.sh"
# cpu_ticks PID - utime+stime of a live process
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
