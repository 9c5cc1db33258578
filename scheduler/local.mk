# scheduler/local.mk - the scheduler daemon (libexecdir/zmta/scheduler) and mailq(1)
