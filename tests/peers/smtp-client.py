#!/usr/bin/python3
# smtp-client.py - THE scripted SMTP client of the tests: edge cases against
# zmta's smtpserver (tests/integration/smtpd-*.sh, crash-lib.sh).
# Usage: smtp-client.py CASE PORT [ARG...]
# Prints one line per reply received: "CODE text" (last line of the
# reply), so the shell test can compare the sequence of codes.
#   dialog PORT [--header LINE] [--stop] [--body TEXT] [--timeout S] CMD...
#       greeting, then each CMD: "greeting REPLY", "CMD => REPLY"; after a
#       354 to DATA the body (default a one-line message) and "dot => REPLY";
#       --header sends LINE before the greeting is read (PROXY protocol);
#       --stop ends at the first reply that is not 2xx/3xx (a command
#       starting with PROXY excepted); a QUIT is sent at the end.
#   sigterm PORT RCPT PID     a transaction up to DATA, SIGTERM to PID, wait
#                             until the listener is closed, finish the message
#   send-retry PORT FROM RCPT ID...  one message per ID, retried like an MTA
#                             (refused connection, lost session, 4xx); "ID CODE"
#   send PORT RCPT / auth PORT RCPT USER PW [CAFILE]   smtplib transactions
#   smuggle, pipeline100, starttls-inject, bdat, misc, errors: protocol cases
import os
import signal
import smtplib
import socket
import ssl
import sys
import time

HOST = "127.0.0.1"


class Raw:
    """a raw SMTP connection that reads replies one at a time"""

    def __init__(self, port, sock=None):
        self.s = sock or socket.create_connection((HOST, port), timeout=20)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def reply(self):
        lines = []
        while True:
            while b"\n" not in self.buf:
                d = self.s.recv(65536)
                if not d:
                    raise EOFError("closed; partial %r" % lines)
                self.buf += d
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.rstrip(b"\r").decode("utf-8", "replace")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return line

    def replies(self, n):
        out = []
        for _ in range(n):
            out.append(self.reply())
        return out


def say(lines):
    for l in lines:
        print(l)
    sys.stdout.flush()


def smuggle(port, variant, rcpt):
    """DATA with a fake end-of-data sequence and a smuggled transaction"""
    v = {"lf-dot-lf": b"\n.\n", "lf-dot-crlf": b"\n.\r\n",
         "cr-dot-crlf": b"\r.\r\n", "crlf-dot-lf": b"\r\n.\n"}[variant]
    c = Raw(port)
    say([c.reply()])
    c.send(b"EHLO client.test\r\n")
    say([c.reply()])
    c.send(b"MAIL FROM:<a@client.test>\r\nRCPT TO:<%s>\r\nDATA\r\n" % rcpt.encode())
    say(c.replies(3))
    c.send(b"Subject: smuggling\r\n\r\nfirst" + v +
           b"MAIL FROM:<evil@client.test>\r\nRCPT TO:<%s>\r\nDATA\r\n"
           b"Subject: smuggled\r\n\r\nsmuggled\r\n.\r\n" % rcpt.encode())
    c.send(b"QUIT\r\n")
    # everything up to QUIT: the server must see one message only
    while True:
        r = c.reply()
        say([r])
        if r.startswith("221"):
            break


def pipeline100(port, rcpt, bad):
    """MAIL + 100 RCPT (one unknown) + DATA + body + the next transaction
    + QUIT in one write"""
    c = Raw(port)
    say([c.reply()])
    c.send(b"EHLO client.test\r\n")
    c.reply()
    w = b"MAIL FROM:<a@client.test>\r\n"
    for i in range(99):
        w += b"RCPT TO:<%s>\r\n" % rcpt.encode()
    w += b"RCPT TO:<%s>\r\n" % bad.encode()
    w += b"DATA\r\nSubject: one\r\n\r\nbody one\r\n.\r\n"
    w += b"MAIL FROM:<b@client.test>\r\nRCPT TO:<%s>\r\nDATA\r\nSubject: two\r\n\r\nbody two\r\n.\r\n" % rcpt.encode()
    w += b"QUIT\r\n"
    c.send(w)
    codes = []
    while True:
        r = c.reply()
        codes.append(r[:3])
        if r.startswith("221"):
            break
    print(" ".join(codes))


def starttls_inject(port, cafile):
    """STARTTLS with a command pipelined behind it in the same packet"""
    c = Raw(port)
    say([c.reply()])
    c.send(b"EHLO client.test\r\n")
    say([c.reply()])
    c.send(b"STARTTLS\r\nRSET\r\nMAIL FROM:<injected@client.test>\r\n")
    say([c.reply()])
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False
    t = ctx.wrap_socket(c.s, server_hostname="peer.test")
    c2 = Raw(port, t)
    # state is reset: MAIL before EHLO must be refused
    c2.send(b"MAIL FROM:<a@client.test>\r\n")
    say([c2.reply()])
    c2.send(b"EHLO client.test\r\n")
    say([c2.reply()])
    c2.send(b"QUIT\r\n")
    say([c2.reply()])


def bdat(port, rcpt):
    """BDAT chunks counted exactly; command text inside a chunk is data"""
    c = Raw(port)
    say([c.reply()])
    c.send(b"EHLO client.test\r\n")
    c.reply()
    c.send(b"MAIL FROM:<a@client.test>\r\nRCPT TO:<%s>\r\n" % rcpt.encode())
    say(c.replies(2))
    for chunk, last in ((b"Subject: b\r\n\r\nQUIT\r\nRS", b""), (b"ET\r\n.\r\nx", b" LAST")):
        c.send(b"BDAT %d%s\r\n%s" % (len(chunk), last, chunk))
        say([c.reply()])
    # mixing: BDAT then DATA in one transaction
    c.send(b"MAIL FROM:<a@client.test>\r\nRCPT TO:<%s>\r\nBDAT 4\r\nabcdDATA\r\nRSET\r\n" % rcpt.encode())
    say(c.replies(5))
    # BDAT without a transaction: the chunk is read and refused
    c.send(b"BDAT 6 LAST\r\nQUIT\r\nNOOP\r\n")
    say(c.replies(2))
    c.send(b"QUIT\r\n")
    say([c.reply()])


def misc(port):
    """unknown, unimplemented, VRFY, HELP, bad parameters, second EHLO"""
    c = Raw(port)
    say([c.reply()])
    for cmd in [b"MAIL FROM:<a@b.test>", b"EHLO client.test", b"FOO bar", b"EXPN staff",
                b"VRFY root", b"HELP", b"NOOP", b"MAIL FROM:<a@b.test> FOO=bar",
                b"MAIL FROM:<a@b.test> SIZE=999999999999", b"MAIL FROM:<a@b.test> BODY=8BITMIME RET=HDRS ENVID=x1",
                b"RCPT TO:<postmaster> NOTIFY=BOGUS", b"RCPT TO:<postmaster> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+40y",
                b"EHLO again.test", b"RCPT TO:<postmaster>", b"DATA x", b"RSET x", b"QUIT"]:
        c.send(cmd + b"\r\n")
        r = c.reply()
        print("%s => %s" % (cmd.decode(), r))


def errors(port):
    """error limit: 421 and close"""
    c = Raw(port)
    c.reply()
    c.send(b"BOGUS\r\n" * 30)
    last = ""
    try:
        while True:
            last = c.reply()
            if last.startswith("421"):
                break
    except EOFError:
        pass
    print(last)


def smtplib_send(port, rcpt, user=None, pw=None, cafile=None, tls=False):
    s = smtplib.SMTP(HOST, port, timeout=20)
    s.ehlo("client.test")
    if tls:
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.check_hostname = False
        s.starttls(context=ctx)
        s.ehlo("client.test")
    print("AUTH " + ("offered" if s.has_extn("auth") else "absent") + " " + str(s.esmtp_features.get("auth", "")))
    if user:
        try:
            s.login(user, pw)
            print("login ok")
        except smtplib.SMTPException as e:
            print("login failed %s" % (e,))
    try:
        r = s.sendmail("a@client.test", [rcpt], b"Subject: lib\r\n\r\nhello\r\n")
        print("sent %r" % (r,))
    except smtplib.SMTPException as e:
        print("refused %s" % (e,))
    s.quit()


def dialog(port, a):
    """one scripted session, every reply printed after its command"""
    header, stop, timeout = None, False, 20.0
    body = b"Subject: dialog\r\n\r\nhi\r\n"
    while a and a[0].startswith("--"):
        opt = a.pop(0)
        if opt == "--stop":
            stop = True
        elif opt == "--header":
            header = os.fsencode(a.pop(0))
        elif opt == "--body":
            body = os.fsencode(a.pop(0)).replace(b"\\r\\n", b"\r\n")
        elif opt == "--timeout":
            timeout = float(a.pop(0))
        else:
            sys.exit("dialog: unknown option " + opt)
    out = sys.stdout.buffer
    r = Raw(port, socket.create_connection((HOST, port), timeout=timeout))
    if header is not None:
        r.send(header + b"\r\n")
    out.write(b"greeting " + r.reply().encode("utf-8", "replace") + b"\n")
    for c in a:
        cb = os.fsencode(c)
        r.send(cb + b"\r\n")
        rep = r.reply()
        out.write(cb + b" => " + rep.encode("utf-8", "replace") + b"\n")
        if c.upper() == "DATA" and rep.startswith("354"):
            r.send(body + b".\r\n")
            rep = r.reply()
            out.write(b"dot => " + rep.encode("utf-8", "replace") + b"\n")
        if stop and not rep.startswith(("2", "3")) and not c.startswith("PROXY"):
            break
    out.flush()
    try:
        r.send(b"QUIT\r\n")
    except OSError:
        pass


def sigterm(port, rcpt, pid):
    """SIGTERM in the middle of a transaction: the listener closes, the
    message in flight is still accepted"""
    r = Raw(port)
    say([r.reply()])
    r.send(b"EHLO t\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<%s>\r\nDATA\r\n" % rcpt.encode())
    say(r.replies(4))
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        try:
            c = socket.create_connection((HOST, port), timeout=2)
            c.close()
            time.sleep(0.05)
        except OSError:
            say(["listener closed"])
            break
    r.send(b"Subject: t\r\n\r\nin flight\r\n.\r\nQUIT\r\n")
    say(r.replies(2))


def send_retry(port, frm, rcpt, ids):
    """one message per id; like any SMTP client a refused connection, a lost
    session or a 4xx is tried again a little later (the server may be
    restarting)"""
    for mid in ids:
        msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: crash %s\r\nMessage-ID: <%s@crash.test>\r\n\r\n"
               "body of %s\r\n" % (frm, rcpt, mid, mid, mid))
        code = 0
        for _ in range(40):
            code = 0
            try:
                s = smtplib.SMTP(HOST, port, timeout=20)
                s.ehlo("client.test")
                s.mail(frm)
                c, _ = s.rcpt(rcpt)
                if c == 250:
                    c, _ = s.data(msg.encode())
                code = c
                s.quit()
            except smtplib.SMTPResponseException as e:
                code = e.smtp_code
            except Exception:
                pass
            if code == 250 or code >= 500:
                break
            time.sleep(0.25)
        print(mid, code, flush=True)


def main():
    case, port = sys.argv[1], int(sys.argv[2])
    a = sys.argv[3:]
    if case == "dialog":
        dialog(port, list(a))
    elif case == "sigterm":
        sigterm(port, a[0], int(a[1]))
    elif case == "send-retry":
        send_retry(port, a[0], a[1], a[2:])
    elif case == "smuggle":
        smuggle(port, a[0], a[1])
    elif case == "pipeline100":
        pipeline100(port, a[0], a[1])
    elif case == "starttls-inject":
        starttls_inject(port, a[0])
    elif case == "bdat":
        bdat(port, a[0])
    elif case == "misc":
        misc(port)
    elif case == "errors":
        errors(port)
    elif case == "send":
        smtplib_send(port, a[0])
    elif case == "auth":
        smtplib_send(port, a[0], a[1], a[2], a[3] if len(a) > 3 else None, len(a) > 3)
    else:
        sys.exit("unknown case " + case)


if __name__ == "__main__":
    main()
