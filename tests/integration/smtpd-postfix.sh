#!/bin/sh
# smtpd-postfix.sh - a private Postfix instance (its own config and queue
# under the test's work dir, listening on 127.0.0.1 only) relays to our
# smtpserver: swaks -> Postfix smtpd -> Postfix smtp client (STARTTLS
# "may", pipelining) -> smtpserver -> router/.  Needs root (the Postfix
# master starts as root) and postfix; skipped otherwise.
. "${top_srcdir:-.}/tests/integration/testlib.sh"
SMTPD=$top_builddir/smtpserver/smtpserver
need_built "$SMTPD"
need_cmd swaks openssl postfix
[ "$(id -u)" = 0 ] || skip "the Postfix master must start as root"
[ -x /usr/lib/postfix/sbin/master ] || skip "no /usr/lib/postfix/sbin/master"
id postfix > /dev/null 2>&1 || skip "no postfix user"

scratch_po "ROUTERCONF=$ZT_W/router.conf"
ME=$(id -un)
printf 'myhostname mail.local.test\nlocaldomains local.test\n' > "$ZT_W/router.conf"
make_certs "$ZT_W/certs" || fail "make_certs"
ZPORT=$(pick_port)
PPORT=$(pick_port)
{
	echo "hostname mail.local.test"
	echo "tls-cert $ZT_W/certs/server.pem"
	echo "tls-key $ZT_W/certs/server.key"
} > "$ZT_W/smtpserver.conf"
"$SMTPD" -F -C "$ZT_W/smtpserver.conf" -l "127.0.0.1:$ZPORT" -L "$ZT_W/smtpd.log" 2> "$ZT_W/smtpd.err" &
SPID=$!
track "$SPID"
wait_port "$ZPORT" || { show "$ZT_W/smtpd.err"; exit 1; }

# the Postfix instance
D=$ZT_W/pfx
mkdir -p "$D/etc" "$D/queue" "$D/data"
chmod 755 "$ZT_W" "$D"
chown postfix:postfix "$D/data"
{
	echo "compatibility_level = 3.6"
	echo "queue_directory = $D/queue"
	echo "data_directory = $D/data"
	echo "mail_owner = postfix"
	echo "setgid_group = postdrop"
	echo "myhostname = pfx.client.test"
	echo "mydestination ="
	echo "local_transport = error:no local delivery"
	echo "alias_maps ="
	echo "alias_database ="
	echo "inet_interfaces = 127.0.0.1"
	echo "inet_protocols = ipv4"
	echo "mynetworks = 127.0.0.0/8"
	echo "smtpd_relay_restrictions = permit_mynetworks, reject"
	echo "relayhost = [127.0.0.1]:$ZPORT"
	echo "smtp_dns_support_level = disabled"
	echo "smtp_host_lookup = native"
	echo "smtp_tls_security_level = may"
	echo "maillog_file = $D/maillog"
	echo "maillog_file_prefixes = $D"
	echo "biff = no"
} > "$D/etc/main.cf"
{
	echo "127.0.0.1:$PPORT inet n - n - - smtpd"
	for s in "pickup unix n - n 60 1 pickup" "cleanup unix n - n - 0 cleanup" \
		"qmgr unix n - n 1 1 qmgr" "tlsmgr unix - - n 1000? 1 tlsmgr" \
		"rewrite unix - - n - - trivial-rewrite" "bounce unix - - n - 0 bounce" \
		"defer unix - - n - 0 bounce" "trace unix - - n - 0 bounce" \
		"verify unix - - n - 1 verify" "flush unix n - n 1000? 0 flush" \
		"proxymap unix - - n - - proxymap" "smtp unix - - n - - smtp" \
		"relay unix - - n - - smtp" "showq unix n - n - - showq" \
		"error unix - - n - - error" "retry unix - - n - - error" \
		"discard unix - - n - - discard" "anvil unix - - n - 1 anvil" \
		"scache unix - - n - 1 scache" "postlog unix-dgram n - n - 1 postlogd"; do
		echo "$s"
	done
} > "$D/etc/master.cf"
postfix -c "$D/etc" check > "$D/check.log" 2>&1 || skip "postfix check failed here"
/usr/lib/postfix/sbin/master -d -c "$D/etc" > "$D/master.out" 2>&1 &
MPID=$!
track "$MPID"
wait_port "$PPORT" 15 || { show "$D/maillog" "$D/master.out"; fail "postfix did not start"; zt_done; }

for i in 1 2 3; do
	out=$(swaks --server "127.0.0.1:$PPORT" --from "sender@client.test" --to "$ME@local.test" \
		--header "Subject: through postfix $i" 2>&1)
	check_match "postfix took message $i" '250 2.0.0 Ok: queued' "$out"
done
for i in $(seq 1 150); do
	[ "$(grep -l '^Subject: through postfix' "$PO"/router/* 2>/dev/null | wc -l)" -ge 3 ] && break
	sleep 0.2
done
check_eq "three messages relayed by Postfix into router/" 3 \
	"$(grep -l '^Subject: through postfix' "$PO"/router/* 2>/dev/null | wc -l)"
f=$(grep -l '^Subject: through postfix 1' "$PO"/router/* 2>/dev/null | head -1)
check_match "from Postfix over TLS: with ESMTPS" '^with ESMTPS$' "$(cat "${f:-/dev/null}")"
check_match "rcvdfrom names Postfix and the TLS session" '^rcvdfrom pfx.client.test \(pfx.client.test \[127.0.0.1\] TLSv1' "$(cat "${f:-/dev/null}")"
check_match "envelope sender kept" '^from <sender@client.test>$' "$(cat "${f:-/dev/null}")"
check_match "Postfix logged status=sent" 'status=sent' "$(cat "$D/maillog" 2>/dev/null)"
kill -TERM "$MPID" 2>/dev/null
for i in $(seq 1 50); do kill -0 "$MPID" 2>/dev/null || break; sleep 0.1; done
zt_done
