#!/usr/bin/python3
"""aiosmtpd-peer.py - scriptable SMTP/LMTP peer for zmta's integration tests.

Run it with /usr/bin/python3 (Debian's python3-aiosmtpd 1.4.3).

  aiosmtpd-peer.py --port P [--lmtp] [--unix PATH] [--tls CERT KEY [--require-tls]]
        [--no-8bitmime] [--strict-7bit] [--no-pipelining] [--no-esmtp] [--banner TEXT]
        [--dsn] [--size-limit N] [--auth USER:PASS] [--auth-mechs PLAIN,LOGIN,CRAM-MD5]
        [--auth-clear] [--stall VERB] [--slow SECS] [--log FILE.jsonl] [--save DIR]
  aiosmtpd-peer.py --raw [...] --port P   scripted raw server for broken peers (below)

JSONL log (--log), one object per line, field "ev":
  "conn"  a connection was accepted
  "cmd"   a command line: verb, arg, tls, pipelined (more client bytes were already
          buffered when the command was taken: the client did not wait for our reply)
  "auth"  an AUTH exchange: mech, tls, ok, user
  "msg"   a transaction at end of data: helo, proto, tls, mail_from, mail_options,
          rcpt_tos, rcpt_options, dsn (ENVID/RET/NOTIFY/ORCPT seen), size, body_8bit,
          body_param, sha256, replies
--save DIR writes each accepted message as DIR/NNNNNN.eml (bytes after DATA, CRLF kept).

Failure injection by recipient local part (case-insensitive prefix):
  rcpt-temp*  451 at RCPT            rcpt-perm*  550 5.1.1 at RCPT
  data-temp*  451 after DATA         data-perm*  554 after DATA  (LMTP: per recipient)
  slow*       sleep --slow seconds before the DATA reply
  drop*       close the connection after the body, no reply
  full*       452 4.5.3 at RCPT ("too many recipients"); --rcpt-limit N does the
              same for every recipient after the N-th of a transaction
Peer kinds:
  --no-8bitmime   hides 8BITMIME and SMTPUTF8 and refuses BODY=8BITMIME (555)
  --strict-7bit   rejects 8-bit bodies without BODY=8BITMIME (554)
  --no-pipelining does not announce PIPELINING (announced by default; aiosmtpd
                  itself never does)
  --no-esmtp      banner without "ESMTP" and EHLO refused with 502 (HELO only)
  --banner TEXT   greeting text after the host name (default "ESMTP zmta test peer")
  --dsn           announces DSN and accepts ENVID/RET/NOTIFY/ORCPT
  --size-limit N  SIZE N announced and enforced
  --auth U:P      announces AUTH (mechanisms --auth-mechs) and checks U/P; AUTH is
                  offered only after STARTTLS unless --auth-clear
  --auth-required MAIL needs a successful AUTH (530 otherwise)
  --stall VERB    never answer VERB (EHLO, MAIL, RCPT, DATA, DOT, QUIT...)
Raw mode (--raw): a hand-written line server for broken peers:
  --reply VERB=TEXT  answer VERB with TEXT (\\r\\n inside TEXT separates lines, sent
                     as is: may be malformed); VERB may be GREETING, EHLO, HELO, MAIL,
                     RCPT, DATA, DOT, RSET, NOOP, QUIT
  --split            write every reply one byte at a time with small pauses
  --close-in-data N  close the connection after N bytes of message data
  --chunking         announce CHUNKING and take BDAT (RFC 3030)
  --stall VERB       never answer VERB (GREETING stalls the banner)
Stop it with SIGTERM/SIGINT to its PID."""
import argparse, asyncio, base64, hashlib, hmac, json, os, signal, ssl, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--host", default="127.0.0.1"); ap.add_argument("--port", type=int, default=0)
ap.add_argument("--unix")
ap.add_argument("--lmtp", action="store_true")
ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY")); ap.add_argument("--require-tls", action="store_true")
ap.add_argument("--no-8bitmime", action="store_true"); ap.add_argument("--strict-7bit", action="store_true")
ap.add_argument("--no-pipelining", action="store_true"); ap.add_argument("--no-esmtp", action="store_true")
ap.add_argument("--banner", default=None)
ap.add_argument("--dsn", action="store_true")
ap.add_argument("--size-limit", type=int, default=0)
ap.add_argument("--rcpt-limit", type=int, default=0)
ap.add_argument("--auth"); ap.add_argument("--auth-mechs", default="PLAIN,LOGIN,CRAM-MD5")
ap.add_argument("--auth-clear", action="store_true"); ap.add_argument("--auth-required", action="store_true")
ap.add_argument("--stall", action="append", default=[])
ap.add_argument("--log"); ap.add_argument("--save"); ap.add_argument("--slow", type=float, default=5.0)
ap.add_argument("--hostname", default="peer.test")
ap.add_argument("--raw", action="store_true")
ap.add_argument("--reply", action="append", default=[])
ap.add_argument("--split", action="store_true")
ap.add_argument("--close-in-data", type=int, default=-1)
ap.add_argument("--chunking", action="store_true")
a = ap.parse_args()
a.stall = [s.upper() for s in a.stall]
logf = None if not a.log else (sys.stdout if a.log == "-" else open(a.log, "a", buffering=1))
count = 0


def log(rec):
    if logf:
        rec.setdefault("t", round(time.time(), 3))
        logf.write(json.dumps(rec) + "\n")


def save(body):
    if a.save:
        os.makedirs(a.save, exist_ok=True)
        with open(os.path.join(a.save, "%06d.eml" % count), "wb") as fh:
            fh.write(body)


async def serve(factory):
    loop = asyncio.get_running_loop()
    if a.unix:
        try: os.unlink(a.unix)
        except FileNotFoundError: pass
        srv = await loop.create_unix_server(factory, a.unix)
    else:
        srv = await loop.create_server(factory, a.host, a.port)
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    print("aiosmtpd-peer pid %d: %s on %s" % (os.getpid(), "raw" if a.raw else ("LMTP" if a.lmtp else "SMTP"),
          a.unix or "%s:%d" % (a.host, a.port)), file=sys.stderr, flush=True)
    await stop.wait()
    srv.close()
    print("aiosmtpd-peer: %d transactions" % count, file=sys.stderr)


# ---------------------------------------------------------------- raw mode
def run_raw():
    replies = {"GREETING": "220 %s %s" % (a.hostname, a.banner or "ESMTP raw test peer"),
               "EHLO": "250-%s\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES" % a.hostname,
               "HELO": "250 %s" % a.hostname, "MAIL": "250 2.1.0 OK", "RCPT": "250 2.1.5 OK",
               "DATA": "354 go ahead", "DOT": "250 2.0.0 OK queued", "RSET": "250 2.0.0 OK",
               "NOOP": "250 2.0.0 OK", "QUIT": "221 2.0.0 bye", "LHLO": None}
    if a.chunking:
        replies["EHLO"] = replies["EHLO"].replace("250-8BITMIME", "250-8BITMIME\r\n250-CHUNKING")
    replies["BDAT"] = "250 2.0.0 OK chunk"
    replies["LHLO"] = replies["EHLO"]
    for r in a.reply:
        k, _, v = r.partition("=")
        replies[k.upper()] = v.replace("\\r\\n", "\r\n")

    async def handle(reader, writer):
        global count
        log({"ev": "conn"})
        bdat_buf = b""

        async def send(verb):
            if verb in a.stall:
                log({"ev": "stall", "verb": verb})
                await asyncio.sleep(3600)
            data = (replies.get(verb) or "500 5.5.1 unknown command").encode("latin-1") + b"\r\n"
            if a.split:
                for i in range(len(data)):
                    writer.write(data[i:i + 1]); await writer.drain(); await asyncio.sleep(0.003)
            else:
                writer.write(data); await writer.drain()
        try:
            await send("GREETING")
            while True:
                line = await reader.readline()
                if not line:
                    break
                verb = line.split(b" ", 1)[0].strip().upper().decode("latin-1")
                log({"ev": "cmd", "verb": verb, "arg": line.decode("latin-1").strip()[len(verb):].strip()[:200],
                     "pipelined": len(reader._buffer) > 0})
                if verb == "DATA" and (replies.get("DATA") or "").startswith("354"):
                    await send("DATA")
                    got = b""
                    while not got.endswith(b"\r\n.\r\n") and got != b".\r\n":
                        chunk = await reader.read(4096)
                        if not chunk:
                            return
                        got += chunk
                        if a.close_in_data >= 0 and len(got) >= a.close_in_data:
                            log({"ev": "close-in-data", "bytes": len(got)})
                            writer.close(); return
                    count += 1
                    log({"ev": "msg", "size": len(got)})
                    save(got)
                    await send("DOT")
                    continue
                if verb == "BDAT":
                    parts = line.decode("latin-1").split()
                    try:
                        n = int(parts[1])
                    except (IndexError, ValueError):
                        await send("UNKNOWN"); continue
                    chunk = await reader.readexactly(n)
                    bdat_buf += chunk
                    if len(parts) > 2 and parts[2].upper() == "LAST":
                        count += 1
                        log({"ev": "msg", "size": len(bdat_buf), "bdat": True})
                        save(bdat_buf); bdat_buf = b""
                    await send("BDAT")
                    continue
                await send(verb if verb in replies else "UNKNOWN")
                if verb == "QUIT":
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            try: writer.close()
            except Exception: pass

    async def main():
        if a.unix:
            await serve_streams(handle, unix=True)
        else:
            await serve_streams(handle)
    asyncio.run(main())


async def serve_streams(handle, unix=False):
    loop = asyncio.get_running_loop()
    if unix:
        try: os.unlink(a.unix)
        except FileNotFoundError: pass
        srv = await asyncio.start_unix_server(handle, a.unix)
    else:
        srv = await asyncio.start_server(handle, a.host, a.port)
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    print("aiosmtpd-peer pid %d: raw on %s" % (os.getpid(), a.unix or "%s:%d" % (a.host, a.port)),
          file=sys.stderr, flush=True)
    await stop.wait()
    srv.close()


if a.raw:
    run_raw()
    sys.exit(0)

# ---------------------------------------------------------------- aiosmtpd mode
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword  # noqa: E402
from aiosmtpd.lmtp import LMTP  # noqa: E402

USER, PASS = (a.auth.split(":", 1) if a.auth else (None, None))
DSN_MAIL = ("ENVID", "RET")
DSN_RCPT = ("NOTIFY", "ORCPT")


def fate(addr):
    lp = addr.split("@")[0].lower()
    for p in ("rcpt-temp", "rcpt-perm", "data-temp", "data-perm", "slow", "drop", "full"):
        if lp.startswith(p):
            return p
    return None


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER and auth_data.password.decode() == PASS
    log({"ev": "auth", "mech": mechanism, "tls": session.ssl is not None, "ok": ok,
         "user": auth_data.login.decode(errors="replace") if isinstance(auth_data, LoginPassword) else None})
    return AuthResult(success=ok, handled=False)


class Handler:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if a.no_8bitmime:
            responses = [r for r in responses if "8BITMIME" not in r and "SMTPUTF8" not in r]
        # aiosmtpd's own AUTH line is replaced by ours (mechanism list and order)
        responses = [r for r in responses if not r[4:].startswith("AUTH")]
        extra = []
        if not a.no_pipelining: extra.append("250-PIPELINING")
        if a.dsn: extra.append("250-DSN")
        extra.append("250-ENHANCEDSTATUSCODES")
        if a.auth and (a.auth_clear or session.ssl is not None):
            extra.append("250-AUTH " + " ".join(m for m in a.auth_mechs.split(",") if m))
        if a.size_limit:
            responses = [r for r in responses if not r[4:].startswith("SIZE")]
            extra.append("250-SIZE %d" % a.size_limit)
        return responses[:1] + extra + responses[1:]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if a.auth_required and not session.authenticated:
            return "530 5.7.0 Authentication required"
        if a.no_8bitmime and any(o.upper() == "BODY=8BITMIME" for o in mail_options):
            return "555 5.5.4 BODY=8BITMIME not supported here (7-bit peer)"
        if getattr(server, "_null_sender", False):
            address = "<>"
        envelope.mail_from = address; envelope.mail_options.extend(mail_options)
        envelope.nrcpt = 0
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        f = fate(address)
        envelope.nrcpt = getattr(envelope, "nrcpt", 0) + 1
        if f == "rcpt-temp": return "451 4.3.0 <%s> temporary failure (injected)" % address
        if f == "rcpt-perm": return "550 5.1.1 <%s> no such user (injected)" % address
        if f == "full" or (a.rcpt_limit and len(envelope.rcpt_tos) >= a.rcpt_limit):
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address); envelope.rcpt_options.append(rcpt_options)
        if not hasattr(envelope, "rcpt_dsn"): envelope.rcpt_dsn = []
        envelope.rcpt_dsn.append(getattr(server, "_pending_rcpt_dsn", {}))
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        global count
        body = envelope.original_content or envelope.content
        eight = any(b > 127 for b in body)
        body_opt = next((o.split("=", 1)[1].upper() for o in envelope.mail_options if o.upper().startswith("BODY=")), None)
        tls = session.ssl is not None
        rec = {"ev": "msg", "peer": str(session.peer), "helo": session.host_name,
               "proto": "LMTP" if a.lmtp else ("ESMTP" if session.extended_smtp else "SMTP"),
               "tls": tls, "cipher": (session.ssl.get("cipher") if tls else None),
               "auth": session.authenticated,
               "mail_from": envelope.mail_from, "mail_options": envelope.mail_options,
               "mail_dsn": getattr(server, "_mail_dsn", {}),
               "rcpt_tos": envelope.rcpt_tos, "rcpt_options": envelope.rcpt_options,
               "rcpt_dsn": getattr(envelope, "rcpt_dsn", []),
               "size": len(body), "body_8bit": eight, "body_param": body_opt,
               "bare_lf": b"\n" in body.replace(b"\r\n", b""),
               "max_line": max((len(l) for l in body.split(b"\r\n")), default=0),
               "sha256": hashlib.sha256(body).hexdigest()}
        fates = [fate(r) for r in envelope.rcpt_tos]
        if "slow" in fates: await asyncio.sleep(a.slow)
        if "drop" in fates:
            rec["replies"] = ["(dropped)"]; log(rec)
            server.transport.close(); return "421 4.3.0 closing (injected)"
        if a.strict_7bit and eight and body_opt != "8BITMIME":
            replies = ["554 5.6.1 8-bit content without BODY=8BITMIME (strict 7-bit peer)"] * (len(fates) if a.lmtp else 1)
        elif a.lmtp:
            replies = [("451 4.3.0 <%s> temporary failure (injected)" if f == "data-temp" else
                        "554 5.3.0 <%s> rejected (injected)" if f == "data-perm" else
                        "250 2.0.0 <%s> delivered") % r for r, f in zip(envelope.rcpt_tos, fates)]
        else:
            replies = ["451 4.3.0 temporary failure (injected)" if "data-temp" in fates else
                       "554 5.3.0 rejected (injected)" if "data-perm" in fates else "250 2.0.0 OK queued"]
        rec["replies"] = replies; count += 1
        log(rec)
        if replies[0].startswith("250") or a.lmtp:
            save(body)
        return "\r\n".join(replies)


def strip_params(arg, names):
    """remove NAME=value parameters (after the <address>) from a MAIL/RCPT argument"""
    if not arg or ">" not in arg:
        return arg, {}
    head, _, tail = arg.rpartition(">")
    kept, found = [], {}
    for p in tail.split():
        k, _, v = p.partition("=")
        if k.upper() in names:
            found[k.upper()] = v
        else:
            kept.append(p)
    return head + ">" + ("" if not kept else " " + " ".join(kept)), found


def cram_md5_auth():
    async def auth_CRAM__MD5(self, server, args):
        challenge = ("<%d.%d@%s>" % (os.getpid(), int(time.time() * 1000), a.hostname)).encode()
        resp = await server.challenge_auth(challenge)
        if not isinstance(resp, bytes):
            return AuthResult(success=False, handled=True)
        user, _, digest = resp.decode(errors="replace").rpartition(" ")
        want = hmac.new((PASS or "").encode(), challenge, hashlib.md5).hexdigest()
        ok = user == USER and hmac.compare_digest(digest, want)
        log({"ev": "auth", "mech": "CRAM-MD5", "tls": server.session.ssl is not None, "ok": ok, "user": user})
        return AuthResult(success=ok, handled=False)
    return auth_CRAM__MD5


if a.auth and "CRAM-MD5" in a.auth_mechs.split(","):
    Handler.auth_CRAM__MD5 = cram_md5_auth()


def make_class(base):
    class Peer(base):
        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            for verb, meth in list(self._smtp_methods.items()):
                self._smtp_methods[verb] = self._wrap(verb, meth)

        def _wrap(self, verb, meth):
            async def w(arg):
                buffered = len(self._reader._buffer) > 0
                shown = arg if verb != "AUTH" else (arg or "").split(" ")[0]
                log({"ev": "cmd", "verb": verb, "arg": (shown or "")[:300], "tls": self.session.ssl is not None,
                     "pipelined": buffered})
                if verb in a.stall or (verb == "EHLO" and "LHLO" in a.stall):
                    log({"ev": "stall", "verb": verb})
                    await asyncio.sleep(3600)
                if verb in ("EHLO", "LHLO") and a.no_esmtp:
                    return await self.push("502 5.5.1 EHLO not implemented")
                if verb == "MAIL":
                    self._mail_dsn = {}
                    # aiosmtpd refuses MAIL FROM:<>; take it as a marked null sender
                    self._null_sender = bool(arg) and arg.replace(" ", "").upper().startswith("FROM:<>")
                    if self._null_sender:
                        arg = "FROM:<null-sender@peer.invalid>" + arg.split(">", 1)[1]
                    if a.dsn:
                        arg, self._mail_dsn = strip_params(arg, DSN_MAIL)
                elif verb == "RCPT":
                    self._pending_rcpt_dsn = {}
                    if a.dsn:
                        arg, self._pending_rcpt_dsn = strip_params(arg, DSN_RCPT)
                return await meth(arg)
            return w

        async def smtp_DATA(self, arg):
            if "DOT" in a.stall and self.envelope.rcpt_tos:
                # take the data, then never answer the final dot
                log({"ev": "stall", "verb": "DOT"})
                await self.push("354 End data with <CR><LF>.<CR><LF>")
                while True:
                    line = await self._reader.readuntil(b"\r\n")
                    if line == b".\r\n":
                        break
                await asyncio.sleep(3600)
            return await super().smtp_DATA(arg)

    return Peer


ctx = None
if a.tls:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH); ctx.load_cert_chain(*a.tls)
cls = make_class(LMTP if a.lmtp else SMTP)
kw = dict(hostname=a.hostname, decode_data=False, enable_SMTPUTF8=not a.no_8bitmime,
          data_size_limit=(a.size_limit or 50 * 1024 * 1024),
          ident=a.banner or ("zmta test peer" if a.no_esmtp else "ESMTP zmta test peer"))
if ctx: kw.update(tls_context=ctx, require_starttls=a.require_tls)
if a.auth:
    kw.update(authenticator=authenticator, auth_require_tls=not a.auth_clear)
    kw["auth_exclude_mechanism"] = [m for m in ("PLAIN", "LOGIN") if m not in a.auth_mechs.split(",")]
if a.save: os.makedirs(a.save, exist_ok=True)


def factory():
    log({"ev": "conn"})
    return cls(Handler(), **kw)


asyncio.run(serve(factory))
