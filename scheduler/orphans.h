/*
 * orphans.h - start-up removal of bodies in queue/ that no control file
 * names any more (see orphans.c).
 */
#ifndef ZMTA_SCHED_ORPHANS_H
#define ZMTA_SCHED_ORPHANS_H

/* orphans_sweep - remove unreferenced bodies below ../queue (the caller runs
 * in transport/, before anything removes a control file); number removed */
unsigned long orphans_sweep(void);

#endif
