/*
 * supervise.h - "zmta start|stop|status|reload|check": the supervisor of
 * one postoffice's daemons (router, scheduler, smtpserver) and its
 * control commands.  Each returns a sysexits(3) code.
 */
#ifndef ZMTA_SUPERVISE_H
#define ZMTA_SUPERVISE_H

/* zmta_usage - print the synopsis of every sub-command and exit EX_USAGE */
_Noreturn void zmta_usage(void);

int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_check(int argc, char **argv);

#endif
