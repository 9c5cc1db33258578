# scheduler/daemon.mk - scheduler daemon (owned by the daemon developer)
