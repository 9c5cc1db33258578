#!/bin/sh
# sched-logfiles.sh - the scheduler's log (-L), statistics log (-l) and pid
# lock file ($POSTOFFICE/.pid.scheduler) are never opened through a
# symbolic link (the scheduler may run as root): it refuses to start and
# the link's target is untouched; files it creates are not world-readable.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
ZT_SCHED=${ZT_SCHED:-$top_builddir/scheduler/scheduler}
need_built "$ZT_SCHED"
scratch_po
printf '*/*\tinterval=1m\nsmtp/*\tcommand="/bin/true"\n' > "$ZT_W/s.conf"
echo precious > "$ZT_W/target"

# -L log through a symlink
ln -s "$ZT_W/target" "$ZT_W/log.link"
timeout -k 3 20 "$ZT_SCHED" -i -f "$ZT_W/s.conf" -P "$PO" -L "$ZT_W/log.link" > "$ZT_W/t1.out" 2>&1
rc=$?
check_eq "-L symlink: refused (EX_CANTCREAT)" 73 "$rc"
check_eq "-L symlink: target untouched" precious "$(cat "$ZT_W/target")"

# -l statistics log through a symlink
ln -s "$ZT_W/target" "$ZT_W/stat.link"
timeout -k 3 20 "$ZT_SCHED" -i -f "$ZT_W/s.conf" -P "$PO" -L "$ZT_W/s2.log" -l "$ZT_W/stat.link" > "$ZT_W/t2.out" 2>&1
rc=$?
check_eq "-l symlink: refused (EX_CANTCREAT)" 73 "$rc"
check_eq "-l symlink: target untouched" precious "$(cat "$ZT_W/target")"
check_eq "-L file created without world read" 0 "$(( 0$(stat -c %a "$ZT_W/s2.log") & 7 ))"

# the pid lock file as a symlink
rm -f "$PO/.pid.scheduler"
ln -s "$ZT_W/target" "$PO/.pid.scheduler"
timeout -k 3 20 "$ZT_SCHED" -i -f "$ZT_W/s.conf" -P "$PO" -L "$ZT_W/s3.log" > "$ZT_W/t3.out" 2>&1
rc=$?
check_match "pid file symlink: refused" '^7[0-9]$' "$rc"
check_eq "pid file symlink: target untouched" precious "$(cat "$ZT_W/target")"
zt_done
