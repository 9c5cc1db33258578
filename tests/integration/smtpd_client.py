#!/usr/bin/python3
# smtpd_client.py - scripted SMTP edge cases against zmta's smtpserver
# (tests/integration/smtpd-*.sh).  Usage: smtpd_client.py CASE PORT [ARG...]
# Prints one line per reply received: "CODE text" (last line of the
# reply), so the shell test can compare the sequence of codes.
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


def main():
    case, port = sys.argv[1], int(sys.argv[2])
    a = sys.argv[3:]
    if case == "smuggle":
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
