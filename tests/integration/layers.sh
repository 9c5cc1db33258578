#!/bin/sh
# layers.sh - every library layer includes only its own and lower layers
# (HACKING.md): lib <- mail <- dns, smtp, spool <- transport/libta.  The
# build enforces this with per-layer include paths; this test says which
# file broke the rule, and also catches a header that only happens to be
# found.  Exit 0 when every quoted #include resolves in an allowed folder.
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 99
bad=0
allowed() {
	case $1 in
	lib) echo "lib" ;;
	mail) echo "lib mail" ;;
	dns) echo "lib mail dns" ;;
	smtp) echo "lib mail smtp" ;;
	spool) echo "lib mail spool" ;;
	transport/libta) echo "lib mail spool transport/libta" ;;
	esac
}
for layer in lib mail dns smtp spool transport/libta; do
	dirs=$(allowed "$layer")
	for f in "$layer"/*.c "$layer"/*.h; do
		[ -f "$f" ] || continue
		for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
			found=0
			for d in $dirs; do
				[ -f "$d/$h" ] && found=1
			done
			if [ $found = 0 ]; then
				echo "layers: $f includes \"$h\", which is not in its layer or below ($dirs)"
				bad=1
			fi
		done
	done
done
[ $bad = 0 ] && echo "layers: ok"
exit $bad
