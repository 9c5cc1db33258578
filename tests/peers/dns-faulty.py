#!/usr/bin/python3
"""dns-faulty.py - small authoritative DNS server (python3-dnslib) for fault tests.

Serves mta.test.zone (beside this script in tests/peers, WKS lines skipped: dnslib cannot
parse them) on 127.0.0.1:PORT over UDP and TCP, plus names that misbehave:
  servfail.mta.test   SERVFAIL for any type
  refused.mta.test    REFUSED for any type
  drop.mta.test       never answered (the client times out)
  slow.mta.test       MX 10 live1, answered after --delay seconds
  tc.mta.test         UDP: TC=1 and no answer; TCP: MX 10 live1
  mxfail.mta.test     MX 10 servfail.mta.test (the MX host's lookup fails)
Names outside mta.test get REFUSED.  Prints one line "dns-faulty: pid N port P"
once both sockets listen.  --port 0 picks a free port.  Stop with SIGTERM.
"""
import argparse, os, signal, socket, threading, time
from dnslib import RR, QTYPE, RCODE, DNSLabel, MX
from dnslib.server import DNSServer, BaseResolver, DNSLogger, DNSError, TCPServer

TCPServer.allow_reuse_address = True

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--zone", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "mta.test.zone"))
ap.add_argument("--delay", type=float, default=2.0)
args = ap.parse_args()

ORIGIN = DNSLabel("mta.test.")
text = "\n".join(l for l in open(args.zone) if " WKS " not in l)
zone = RR.fromZone(text)
special = {
    "slow.mta.test.": [RR("slow.mta.test.", QTYPE.MX, ttl=60, rdata=MX("live1.mta.test.", 10))],
    "tc.mta.test.": [RR("tc.mta.test.", QTYPE.MX, ttl=60, rdata=MX("live1.mta.test.", 10))],
    "mxfail.mta.test.": [RR("mxfail.mta.test.", QTYPE.MX, ttl=60, rdata=MX("servfail.mta.test.", 10))],
}


class Faulty(BaseResolver):
    def resolve(self, request, handler):
        q = request.q
        qname = str(q.qname).lower()
        reply = request.reply()
        if not q.qname.matchSuffix(ORIGIN):
            reply.header.rcode = RCODE.REFUSED
            return reply
        if qname == "servfail.mta.test.":
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        if qname == "refused.mta.test.":
            reply.header.rcode = RCODE.REFUSED
            return reply
        if qname == "drop.mta.test.":
            raise DNSError("no answer on purpose")
        if qname == "slow.mta.test.":
            time.sleep(args.delay)
        if qname == "tc.mta.test." and handler.protocol == "udp":
            reply.header.tc = 1
            return reply
        rrs = special.get(qname) or [r for r in zone if str(r.rname).lower() == qname]
        if not rrs:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for r in rrs:
            if r.rtype == q.qtype:
                reply.add_answer(r)
            elif r.rtype == QTYPE.CNAME:
                reply.add_answer(r)
                target = str(r.rdata.label).lower()
                for t in zone:
                    if str(t.rname).lower() == target and t.rtype == q.qtype:
                        reply.add_answer(t)
        if handler.protocol == "udp":
            opt = [r for r in request.ar if r.rtype == QTYPE.OPT]
            limit = max(512, opt[0].rclass) if opt else 512
            if len(reply.pack()) > limit:
                # keep the question section: c-ares ignores a reply without it
                reply = request.reply()
                reply.header.tc = 1
        return reply


class Quiet(DNSLogger):
    def __init__(self):
        super().__init__("-recv,-send,-request,-reply,-truncated,-data,-error")


port = args.port
if port == 0:
    # a port free for both UDP and TCP
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        cand = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", cand))
        except OSError:
            u.close(); t.close(); continue
        u.close(); t.close(); port = cand; break
servers = [DNSServer(Faulty(), port=port, address="127.0.0.1", tcp=tcp, logger=Quiet()) for tcp in (False, True)]
for s in servers:
    s.start_thread()
print("dns-faulty: pid %d port %d" % (os.getpid(), port), flush=True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())
stop.wait()
for s in servers:
    s.stop()
