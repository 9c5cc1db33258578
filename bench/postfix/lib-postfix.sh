# lib-postfix.sh - build/start/stop a private Postfix instance for bench/*.sh (source after
# bench/benchlib.sh).  Adapted from the peers lib-postfix.sh; needs PFX_LIBDIR (this directory).
# pfx_build DIR SMTPD_PORT RELAYHOST [extra main.cf lines...]
#   DIR gets etc/ (main.cf, master.cf, transport, virtual), queue/, data/, maillog.
#   RELAYHOST like "[127.0.0.1]:2525"; no DNS anywhere; chroot off; logs via postlogd to DIR/maillog.
# pfx_start DIR  -> starts master in the foreground under reaper.py (CPU of the whole tree ends
#   up in DIR/postfix.ru when it stops); sets PFX_REAPER, PFX_MASTER; waits for the smtpd port.
# pfx_stop       -> SIGTERM to the master we started; waits until every daemon is gone.
PFX_PY=${PFX_PY:-/usr/bin/python3}
: "${PFX_LIBDIR:=$top_srcdir/bench/postfix}"
pfx_build() {
  local D=$1 port=$2 relay=$3; shift 3
  chmod 755 "$D"              # mktemp -d gives 0700; daemons running as 'postfix' must traverse it
  mkdir -p "$D/etc" "$D/queue" "$D/data"
  chown postfix:postfix "$D/data"   # data_directory must belong to mail_owner, or the master won't start
  cat > "$D/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $D/queue
data_directory = $D/data
mail_owner = postfix
setgid_group = postdrop
myhostname = pfx-bench.test
mydomain = test
myorigin = \$myhostname
mydestination =
local_transport = error:local delivery is disabled
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = $relay
transport_maps = texthash:$D/etc/transport
virtual_alias_maps = regexp:$D/etc/virtual
# no DNS at all (the system resolver is not on loopback)
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
# log to a file through postlogd: there is no syslogd on these machines
maillog_file = $D/maillog
maillog_file_prefixes = $D
biff = no
CF
  local l; for l in "$@"; do printf '%s\n' "$l" >> "$D/etc/main.cf"; done
  : > "$D/etc/transport"; : > "$D/etc/virtual"
  cat > "$D/etc/master.cf" <<CF
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$port inet n - n - - smtpd
pickup     unix  n       -       n       60      1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
tlsmgr     unix  -       -       n       1000?   1       tlsmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
verify     unix  -       -       n       -       1       verify
flush      unix  n       -       n       1000?   0       flush
proxymap   unix  -       -       n       -       -       proxymap
proxywrite unix  -       -       n       -       1       proxymap
smtp       unix  -       -       n       -       -       smtp
relay      unix  -       -       n       -       -       smtp
showq      unix  n       -       n       -       -       showq
error      unix  -       -       n       -       -       error
retry      unix  -       -       n       -       -       error
discard    unix  -       -       n       -       -       discard
local      unix  -       n       n       -       -       local
lmtp       unix  -       -       n       -       -       lmtp
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
CF
  # creates the queue tree with the right owners (post-install create-missing).  postfix(1)
  # prints errors on stderr only when stderr is a tty, else to syslog (absent here): so on
  # failure re-run it under script(1) to see the reason.
  postfix -c "$D/etc" check > "$D/check.log" 2>&1 || {
    echo "postfix check failed:" >&2; script -qec "postfix -c $D/etc check" /dev/null >&2; return 1; }
}
pfx_start() {
  local D=$1 port
  port=$(awk '/ inet /{split($1,a,":"); print a[2]; exit}' "$D/etc/master.cf")
  "$PFX_PY" "$PFX_LIBDIR/reaper.py" "$D/postfix.ru" "$D/master.pid" -- /usr/lib/postfix/sbin/master -c "$D/etc" &
  PFX_REAPER=$!; track $PFX_REAPER
  wait_port "$port" 15 || { echo "postfix did not come up:" >&2; tail "$D/maillog" >&2 2>/dev/null; return 1; }
  PFX_MASTER=$(cat "$D/master.pid")
}
pfx_stop() {
  # TERM to our master; it passes TERM to its children; reaper.py reaps them all
  [ -n "${PFX_MASTER:-}" ] && kill -TERM "$PFX_MASTER" 2>/dev/null
  [ -n "${PFX_REAPER:-}" ] && wait "$PFX_REAPER" 2>/dev/null
  PFX_MASTER=""; PFX_REAPER=""
}
