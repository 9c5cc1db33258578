/*
 * state.h - the supervisor's status file ($POSTOFFICE/.zmta.status).
 *
 * Written by the supervisor (write to a temporary name, rename) whenever a
 * daemon starts, dies or is found missing; read by "zmta status".  Text:
 *     supervisor <pid> <started-epoch>
 *     daemon <name> <state> <pid> <since-epoch> <restarts> <last>
 * state: running (since = start time), waiting (since = when the restart
 * is due), absent (binary not installed), stopped; pid 0 when none;
 * last: "-", "exit:<code>" or "signal:<number>" (the previous death).
 */
#ifndef ZMTA_STATE_H
#define ZMTA_STATE_H

#include <stddef.h>
#include "zbuf.h"

#define SV_MAXD 8
#define SV_NAME_MAX 32
#define SV_FILE_MAX 4096

enum sv_dstate { SV_ABSENT = 0, SV_RUNNING, SV_WAITING, SV_STOPPED };

typedef struct sv_daemon {
	char name[SV_NAME_MAX];
	int state;		/* enum sv_dstate */
	long pid;
	long long since;	/* epoch seconds */
	unsigned long restarts;
	int last_kind;		/* 0 none, 1 exit, 2 signal */
	int last_code;
} sv_daemon;

typedef struct sv_state {
	long pid;		/* the supervisor */
	long long started;
	size_t n;
	sv_daemon d[SV_MAXD];
} sv_state;

/* sv_state_name - "running", ... */
const char *sv_state_name(int state);
/* sv_state_format - the file's text for st, appended to out */
int sv_state_format(const sv_state *st, zbuf *out);
/* sv_state_parse - strict parse of the file's text; Z_OK or Z_EPARSE with
 * "line N: reason" in err */
int sv_state_parse(const char *text, size_t len, sv_state *st, zbuf *err);

#endif
