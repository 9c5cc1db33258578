#!/bin/sh
# pkg-install.sh - packaging of the two libraries: `make install DESTDIR=`
# puts both archives, both headers and the pkg-config files libzmsmtp.pc,
# libzmsmtpd.pc and zmsmtpd.pc (the old name of libzmsmtpd.pc) into the
# tree; the example programs, cut from the EXAMPLE sections of
# libzmsmtp(3) and libzmsmtpd(3), compile and link against the installed
# tree with nothing but `pkg-config --cflags --libs` (and are the very
# programs make check builds from the source tree); and the two talk to
# each other: the libzmsmtp example sends one message to the libzmsmtpd
# example, which refuses a foreign recipient and writes the message.
ZT_TIMEOUT=${ZT_TIMEOUT:-400}
. "${top_srcdir:-.}/tests/integration/testlib.sh"
need_cmd pkg-config make
[ -f "$top_builddir/Makefile" ] || skip "no Makefile in $top_builddir"

# mkvar NAME - a variable of the build's Makefile (the compiler and the
# sanitizer flags the libraries were built with)
mkvar() { sed -n "s/^$1 = //p" "$top_builddir/Makefile" | head -1; }
CC=$(mkvar CC)
SAN_CFLAGS=$(mkvar SAN_CFLAGS)
SAN_LDFLAGS=$(mkvar SAN_LDFLAGS)
[ -n "$CC" ] || CC=cc

# 1. make install into a private DESTDIR (not the parent make's job server
# or its TESTS=)
D=$ZT_W/dest
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u TESTS \
	make -s -C "$top_builddir" install DESTDIR="$D" > "$ZT_W/install.log" 2>&1; then
	show "$ZT_W/install.log"
	fail "make install DESTDIR failed"
	zt_done
fi
pass "make install DESTDIR=..."

# 2. the files are there
inst() { find "$D" -name "$1" \( -type f -o -type l \) | head -1; }
for f in zmsmtp.h zmsmtpd.h libzmsmtp.pc libzmsmtpd.pc zmsmtpd.pc libzmsmtpd.a libzmsmtp.a libzmsmtp.so; do
	if [ -n "$(inst "$f")" ]; then pass "installed: $f"; else fail "not installed: $f"; fi
done
pc=$(inst libzmsmtp.pc)
[ -n "$pc" ] || zt_done
so=$(inst libzmsmtp.so)

# 3. pkg-config finds all three names (PKG_CONFIG_SYSROOT_DIR puts DESTDIR
# in front of the -I and -L paths)
export PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_SYSROOT_DIR=$D
for m in libzmsmtp libzmsmtpd zmsmtpd; do
	if pkg-config --exists --print-errors "$m" 2> "$ZT_W/pc.err"; then pass "pkg-config --exists $m"
	else fail "pkg-config --exists $m"; show "$ZT_W/pc.err"; fi
done
check_match "libzmsmtpd version = package version" \
	"^$(sed -n 's/^PACKAGE_VERSION = //p' "$top_builddir/Makefile")\$" "$(pkg-config --modversion libzmsmtpd)"
check_match "the old name zmsmtpd gives libzmsmtpd's flags" '-lzmsmtpd' "$(pkg-config --libs zmsmtpd)"

# 4. the man-page examples build against the installed tree only
# manex PAGE OUT - the program in PAGE's EXAMPLE section
manex() {
	sed -n '/^\.SH EXAMPLE/,/^\.SH /p' "$top_srcdir/man/$1" | sed -n '/^\.nf/,/^\.fi/p' |
		sed '/^\.nf/d;/^\.fi/d;/^\.ft/d;s/\\e/\\/g' > "$2"
}
# build SRC OUT MODULE - compile and link with pkg-config's flags
build() {
	# shellcheck disable=SC2046,SC2086
	if $CC $SAN_CFLAGS $(pkg-config --cflags "$3") -o "$2" "$1" $SAN_LDFLAGS \
		$(pkg-config --libs "$3") > "$2.log" 2>&1; then
		pass "$(basename "$1") builds with pkg-config $3"
	else
		fail "$(basename "$1") does not build with pkg-config $3"; show "$2.log"
	fi
}
manex libzmsmtp.3 "$ZT_W/client.c"
manex libzmsmtpd.3 "$ZT_W/server.c"
# the man pages show the programs make check builds and runs
for ex in "client.c smtpclient/zmsmtp-example.c" "server.c tests/tools/zmsmtpd-example.c"; do
	set -- $ex
	if sed -n '/^#include <stdio.h>/,$p' "$top_srcdir/$2" | cmp -s - "$ZT_W/$1"; then
		pass "man page example = $2"
	else
		fail "man page example differs from $2"
		sed -n '/^#include <stdio.h>/,$p' "$top_srcdir/$2" | diff - "$ZT_W/$1" | head
	fi
done
check_match "libzmsmtp(3) has an example program" 'zmsmtp_sendmessage' "$(cat "$ZT_W/client.c")"
check_match "libzmsmtpd(3) has an example program" 'zmsmtpd_run' "$(cat "$ZT_W/server.c")"
build "$ZT_W/client.c" "$ZT_W/client" libzmsmtp
build "$ZT_W/server.c" "$ZT_W/server" libzmsmtpd
build "$ZT_W/server.c" "$ZT_W/server-old" zmsmtpd
[ -x "$ZT_W/client" ] && [ -x "$ZT_W/server" ] || zt_done

# the client takes the installed shared libzmsmtp, not one from the build
export LD_LIBRARY_PATH="$(dirname "$so")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
check_match "client runs with the installed libzmsmtp.so" "=> $D/" "$(ldd "$ZT_W/client" | grep libzmsmtp)"

# 5. the client example sends to the server example
"$ZT_W/server" 0 "$ZT_W/mbox" -1 > "$ZT_W/port" 2> "$ZT_W/server.err" &
SPID=$!
track "$SPID"
for i in $(seq 1 100); do [ -s "$ZT_W/port" ] && break; sleep 0.1; done
PORT=$(head -1 "$ZT_W/port")
[ -n "$PORT" ] || { show "$ZT_W/server.err"; fail "server example gave no port"; zt_done; }
out=$(with_timeout 60 "$ZT_W/client" 127.0.0.1 "$PORT" a@client.test bob@example.org \
	someone@else.test 2> "$ZT_W/client.err")
check_eq "client example exit status" 0 "$?"
check_match "client: foreign recipient refused" '^refused someone@else.test 550 ' "$out"
check_match "client: sent to one" '^status 0 accepted 1' "$out"
for i in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SPID" 2>/dev/null; then fail "server example did not stop after one message"; fi
m=$(cat "$ZT_W/mbox" 2>/dev/null)
check_match "mbox: From line" '^From a@client.test' "$m"
check_match "mbox: Received by the server example" 'by mx.example.org \(zmta\) with ESMTP' "$m"
check_match "mbox: the client's Subject" '^Subject: libzmsmtp example' "$m"
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$ZT_W/server.err" "$ZT_W/client.err"; then
	fail "sanitizer report"; show "$ZT_W/server.err"; show "$ZT_W/client.err"
fi
zt_done
