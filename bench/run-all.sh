#!/bin/sh
# run-all.sh - run every benchmark script in order (make bench).
# The list is $BENCH_SCRIPTS when set, else every bench/*.sh except this
# file and benchlib.sh.  A script exiting 77 is reported as skipped.
# top_srcdir/top_builddir default to this script's tree and the cwd.
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/.." && pwd)}"
: "${top_builddir:=$(pwd)}"
export top_srcdir top_builddir
list=${BENCH_SCRIPTS:-}
if [ -z "$list" ]; then
	for f in "$top_srcdir"/bench/*.sh; do
		case "$(basename "$f")" in run-all.sh|benchlib.sh) continue ;; esac
		list="$list bench/$(basename "$f")"
	done
fi
fails=0
for s in $list; do
	echo "=== $s"
	bash "$top_srcdir/$s"
	rc=$?
	case $rc in
	0) ;;
	77) echo "=== $s: skipped" ;;
	*) echo "=== $s: exit $rc"; fails=$((fails + 1)) ;;
	esac
done
exit $fails
