#!/usr/bin/env python3
"""reaper.py RUSAGE_OUT PIDFILE -- cmd args...
Adapted from the project's peers/reaper.py.  Runs cmd as a child while this
process is a Linux child subreaper (prctl PR_SET_CHILD_SUBREAPER), so every
descendant that gets orphaned (Postfix daemons after the master exits,
transport agents after the scheduler exits) is re-parented to us and reaped
here.  When the last descendant is gone, the summed CPU time of the whole
tree ("user_s sys_s maxrss_kb") is written to RUSAGE_OUT.
SIGUSR1 writes a snapshot "cpu_s" of the tree's CPU so far (reaped
descendants plus utime+stime+cutime+cstime of every live descendant) to
RUSAGE_OUT.snap, so a caller can time one phase of a run.
The child's PID is written to PIDFILE; SIGTERM/SIGINT to us are forwarded
to that child only."""
import ctypes, os, resource, signal, sys
out, pidfile = sys.argv[1], sys.argv[2]
cmd = sys.argv[sys.argv.index("--") + 1:]
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0) != 0:          # PR_SET_CHILD_SUBREAPER
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
pid = os.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
with open(pidfile + ".tmp", "w") as f:
    f.write(f"{pid}\n")
os.rename(pidfile + ".tmp", pidfile)
tck = os.sysconf("SC_CLK_TCK")
me = os.getpid()

def live_descendants_cpu():
    parent, ticks = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        # rest[0] = state (field 3); ppid field 4; utime..cstime fields 14..17
        parent[int(d)] = int(rest[1])
        ticks[int(d)] = sum(int(x) for x in rest[11:15])
    tot = 0
    for p in ticks:
        q, seen = p, 0
        while q in parent and seen < 64:
            q = parent[q]; seen += 1
            if q == me:
                tot += ticks[p]; break
    return tot / tck

def snap(sig, _):
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    v = ru.ru_utime + ru.ru_stime + live_descendants_cpu()
    with open(out + ".snap.tmp", "w") as f:
        f.write(f"{v:.3f}\n")
    os.rename(out + ".snap.tmp", out + ".snap")

def fwd(sig, _):
    try: os.kill(pid, sig)
    except ProcessLookupError: pass
signal.signal(signal.SIGTERM, fwd); signal.signal(signal.SIGINT, fwd)
signal.signal(signal.SIGUSR1, snap)
rc = 0
while True:
    try:
        p, st = os.wait()
        if p == pid: rc = os.waitstatus_to_exitcode(st)
    except ChildProcessError:
        break
    except InterruptedError:
        continue
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out, "w") as f:
    f.write(f"{ru.ru_utime:.3f} {ru.ru_stime:.3f} {ru.ru_maxrss}\n")
sys.exit(rc if rc >= 0 else 128 - rc)
