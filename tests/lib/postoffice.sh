# tests/lib/postoffice.sh - the one way tests and benches make a scratch
# postoffice (source it; tests/integration/testlib.sh and bench/benchlib.sh do).
#
#   scratch_po [-p PODIR] [-c CONFFILE] [-H LEVELS] [NAME=value...]
#       a fresh spool tree PODIR (default $ZT_W/po) and a zmta.conf
#       CONFFILE (default $ZT_W/zmta.conf) that names it (POSTOFFICE=) plus
#       the settings given.  Sets PO, exports ZCONFIG=CONFFILE; a PODIR
#       outside $ZT_W is added to ZT_SCAN (testlib's sanitizer-report scan).
#   mk_postoffice DIR [HASHLEVELS]   the spool tree alone
#   write_zconf FILE NAME=value...   the zmta.conf alone
#   dead_port                        a port where nothing listens
#
# Needs from the sourcing file: pick_port, top_builddir, and ZT_W (the
# private work directory) unless every call names its paths.  ZT_ZMTA is
# the built zmtactl program (postoffice-init); without it the tree is made
# with mkdir.  Every zmta.conf sets DNS_SERVERS: a test or bench that names
# none gets a dead local port, so a stray lookup fails fast and never
# reaches the system resolver.

: "${ZT_ZMTA:=$top_builddir/zmtactl/zmta}"

# dead_port - a port where nothing listens now (DNS_SERVERS of literal
# tests: UDP to it fails at once with "connection refused")
dead_port() { pick_port; }

# mk_postoffice DIR [HASHLEVELS] - create the spool tree
mk_postoffice() {
	local d=$1 h=${2:-0} s
	mkdir -p "$d"
	# -u: the tree belongs to the test's own user (never useradd in tests)
	if [ -x "$ZT_ZMTA" ] && "$ZT_ZMTA" postoffice-init -P "$d" -H "$h" -u "$(id -un)" >/dev/null 2>&1; then
		return 0
	fi
	for s in public router queue transport deferred postman freezer; do
		mkdir -p "$d/$s"
	done
	if [ "$h" -ge 1 ]; then
		for s in A B C D E F G H I J K L M N O P Q R S T U V W X Y Z; do
			mkdir -p "$d/queue/$s" "$d/transport/$s"
		done
	fi
}
# write_zconf FILE NAME=value... - zmta.conf; DNS_SERVERS defaults to a
# dead local port so a stray lookup fails fast and never leaves the box.
# The smtp agent treats MX (and -x) addresses on loopback as itself ("MX
# points back to us"): a test whose DNS names resolve to 127.0.0.x without
# SMTP_TEST_ADDRMAP mapping them passes "SMTP_TEST_ALLOW_LOOPBACK=yes".
# Exports ZCONFIG=FILE.
write_zconf() {
	local f=$1 kv have_dns=0
	shift
	: > "$f"
	for kv in "$@"; do
		case "$kv" in DNS_SERVERS=*) have_dns=1 ;; esac
		printf '%s\n' "$kv" >> "$f"
	done
	if [ "$have_dns" = 0 ]; then
		printf 'DNS_SERVERS=127.0.0.1:%s\n' "$(dead_port)" >> "$f"
	fi
	# the scheduler drops root to ZMTA_USER: tests keep their own user
	# unless they name one
	case " $* " in *" ZMTA_USER="*) ;; *) printf 'ZMTA_USER=%s\n' "$(id -un)" >> "$f" ;; esac
	ZCONFIG=$f
	export ZCONFIG
}
# scratch_po [-p PODIR] [-c CONFFILE] [-H LEVELS] [NAME=value...] - see above
scratch_po() {
	local conf=${ZT_W:-.}/zmta.conf h=${ZT_HASH:-0}
	PO=${ZT_W:-.}/po
	while [ $# -gt 0 ]; do
		case "$1" in
		-p) PO=$2; shift 2 ;;
		-c) conf=$2; shift 2 ;;
		-H) h=$2; shift 2 ;;
		*) break ;;
		esac
	done
	mk_postoffice "$PO" "$h" || return 1
	# testlib's exit scan for sanitizer reports covers $ZT_W; a postoffice
	# (log/, daemons' output) elsewhere is added to it
	case "$PO/" in "${ZT_W:-/nonexistent}"/*) ;; *) ZT_SCAN+=("$PO") ;; esac
	write_zconf "$conf" "POSTOFFICE=$PO" "$@"
}
