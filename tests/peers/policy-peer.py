#!/usr/bin/python3
"""policy-peer.py PORT [LOGFILE] - a scripted Postfix policy-delegation
server (name=value lines, an empty line ends a request, the answer is
"action=...") for the smtpserver tests.  Each request and the action chosen
are appended to LOGFILE as one JSON object per line.

Rules, by the local part of the sender unless said otherwise:
  RCPT stage:   recipient holdme@...  -> HOLD; hold, discard, redirect,
                filter, bcc, bye      -> the action named in RCPT below
  END-OF-MESSAGE: sender spam@...     -> 554 5.7.1; size > 4000 -> 552
                5.3.4; eomhold, eomdiscard, eomprepend, eomwarn -> EOM below
  anything else -> DUNNO
"""
import json
import socketserver
import sys

RCPT = {"hold": "HOLD suspicious sender", "discard": "DISCARD spam trap",
        "redirect": "REDIRECT quarantine@local.test", "filter": "FILTER smtp:[127.0.0.1]:10025",
        "bcc": "BCC archive@local.test", "bye": "421 4.7.0 go away"}
EOM = {"eomhold": "HOLD looked at the body", "eomdiscard": "DISCARD body is spam",
       "eomprepend": "PREPEND X-Policy-EOM: seen", "eomwarn": "WARN odd body"}


def decide(a):
    sender = a.get("sender", "")
    local = sender.split("@")[0]
    if a.get("protocol_state") == "RCPT":
        if a.get("recipient", "").startswith("holdme@"):
            return "HOLD only for holdme"
        return RCPT.get(local, "DUNNO")
    if a.get("protocol_state") == "END-OF-MESSAGE":
        if sender.startswith("spam@"):
            return "554 5.7.1 Policy says no"
        if int(a.get("size", "0") or "0") > 4000:
            return "552 5.3.4 Message too big for the policy"
        return EOM.get(local, "DUNNO")
    return "DUNNO"


class H(socketserver.StreamRequestHandler):
    def handle(self):
        a = {}
        for raw in self.rfile:
            line = raw.decode("ascii", "replace").rstrip("\r\n")
            if line == "":
                act = decide(a)
                if LOG:
                    with open(LOG, "a") as f:
                        f.write(json.dumps({"req": a, "action": act}) + "\n")
                self.wfile.write(("action=%s\n\n" % act).encode())
                self.wfile.flush()
                a = {}
                continue
            k, _, v = line.partition("=")
            a[k] = v


class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


LOG = sys.argv[2] if len(sys.argv) > 2 else None
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
