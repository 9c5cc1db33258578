/*
 * sconf.h - scheduler.conf: clause parser, first-match lookup, command
 * expansion, builtin default configuration (scheduler.conf(5)).
 *
 * Syntax (ZMailer compatible, notes 6.2):
 *   - '#' to end of line is a comment; tokens are separated by white space.
 *   - A line whose first byte (column 0) is not white space starts a clause
 *     with the selector "channel/hostglob" ("channel" alone = channel with host glob "*").
 *     A selector line may carry keywords after the selector.
 *   - A column-0 token starting with "PARAM" is a global assignment
 *     "PARAMname = value" (spaces around '=' optional, value may be quoted).
 *   - Indented tokens are "keyword" or "keyword=value" (white space allowed
 *     around '='); a value may be "double quoted" (backslash escapes the
 *     next byte; backslash-newline inside quotes continues the value on the
 *     next line, the newline and the following line's leading white space
 *     are dropped).  Keywords are case-insensitive.
 *   - "* / *" (written without spaces; also "*" alone) is the defaults clause:
 *     its settings are copied into every clause that follows it; it never
 *     matches by itself.  A later defaults clause starts from the earlier
 *     defaults and overrides them for the clauses after it.
 *   - An empty clause (no keywords of its own) shares the whole body of the
 *     next non-empty clause.  Empty clauses at the end of the file keep only
 *     the defaults.
 *   - Matching: clauses in file order, first one whose channel glob and host
 *     glob both match (zglob_match on the lower-cased channel and host).
 *
 * Errors: unknown keyword, bad value, unterminated quote, over-long line or
 * token, keyword before any selector, unknown PARAM: sconf_parse() fails and
 * err holds exactly one line "file:LINE: reason", e.g.
 *     scheduler.conf:12: unknown keyword 'foo'
 * The scheduler must then refuse to start.
 *
 * Effective defaults (applied when neither the clause nor a defaults clause
 * set the value; sconf_clause always holds effective values after parsing):
 *   interval 3600      idlemax 3*interval   maxthr 1     overfeed 0
 *   skew 5             nice 0               expiry 0 (off)
 *   expiry2 86400 when expiry is set and expiry2 is 0 (else as given)
 *   maxta/maxchannel/maxring 0 = no clause limit (the daemon applies its own
 *   fd-derived global cap; a negative value in the file is stored as 0)
 *   retries: none (nretries 0; retry.h then waits one interval per retry)
 */
#ifndef ZMTA_SCONF_H
#define ZMTA_SCONF_H

#include <stddef.h>
#include <time.h>
#include "zbuf.h"

#define SCONF_MAX_SIZE (1024u * 1024u)  /* refuse larger files */
#define SCONF_LINE_MAX 4096             /* one logical line (after continuation) */
#define SCONF_MAX_RETRIES 64            /* entries in "retries" */
#define SCONF_MAX_REPORTTIMES 4
#define SCONF_MAX_ARGS 64               /* words in "command" (env + argv) */
#define SCONF_MAX_CLAUSES 10000

/* clause flags */
#define SCF_QUEUEONLY         0x01u /* no timer start; only ETRN / turnme */
#define SCF_WAKEUPRESTARTONLY 0x02u /* arrival does not start a thread with a TA */
#define SCF_AGEORDER          0x04u /* feed oldest first (else random order) */
#define SCF_BYCHANNEL         0x08u /* accepted, no effect */
#define SCF_WITHHOST          0x10u /* a command word is exactly "$host" */

/* bits of sconf_clause.setmask: which keywords were given (own or from
 * the defaults clause); used by sconf_dump() and the empty-clause rule */
enum sconf_kw {
	SK_INTERVAL = 0, SK_RETRIES, SK_EXPIRY, SK_EXPIRY2, SK_IDLEMAX,
	SK_MAXTA, SK_MAXCHANNEL, SK_MAXRING, SK_MAXTHR, SK_OVERFEED,
	SK_COMMAND, SK_USER, SK_GROUP, SK_PRIORITY, SK_NICE, SK_SKEW,
	SK_QUEUEONLY, SK_WAKEUPRESTARTONLY, SK_AGEORDER, SK_BYCHANNEL,
	SK_REPORTTIMES, SK_DELIVERYFORM, SK_EXPIRYFORM, SK_SYSPRIORITY,
	SK_SYSNICE, SK__COUNT
};

typedef struct sconf_clause {
	char *selector;          /* as written, e.g. "smtp/mx?.example.{se,dk}" */
	char *changlob;          /* lower-cased channel glob */
	char *hostglob;          /* lower-cased host glob ("*" if none) */
	int line;                /* line of the selector */
	unsigned long setmask;   /* 1ul << SK_* for every keyword that was set */

	long interval;           /* seconds, > 0 */
	int nretries;            /* 0 = none */
	long retries[SCONF_MAX_RETRIES]; /* multipliers of interval, >= 1 */
	long expiry;             /* seconds after arrival, 0 = never */
	long expiry2;            /* extra grace after expiry (effective) */
	long idlemax;            /* idle TA lifetime, seconds */
	int maxta, maxchannel, maxring; /* 0 = no clause limit */
	int maxthr;              /* >= 1 */
	int overfeed;            /* >= 0 */
	int skew;                /* >= 1 */

	char *command;           /* raw value, NULL = none (thread cannot start) */
	int envc;                /* leading NAME=value words of command */
	char **env;              /* envc strings "NAME=value", NULL-terminated */
	int argc;                /* program + arguments (argv[0] as written) */
	char **argv;             /* argc strings, NULL-terminated */

	char *user, *group;      /* name or number, NULL = unset */
	int has_priority;
	int priority;            /* -20..19, absolute setpriority() */
	int nice;                /* -40..39 increment */
	unsigned flags;          /* SCF_* */
	int nreporttimes;
	long reporttimes[SCONF_MAX_REPORTTIMES]; /* [0] = first interim report delay */
	char *deliveryform, *expiryform; /* parsed, informational */
} sconf_clause;

typedef struct sconf {
	char *name;              /* file name used in messages */
	sconf_clause **clauses;  /* matchable clauses in file order */
	size_t nclauses;
	sconf_clause *defaults;  /* effective "* / *" settings (never NULL after parse) */

	/* PARAM settings (global) */
	char *authfile;          /* PARAMauthfile: MAILQv2 TCP auth file, NULL = none */
	char *mailqsock;         /* PARAMmailqsock (alias PARAMmailqpath):
	                          * "UNIX:/path", "/path", "TCP:port[@addr]" or a
	                          * bare port; NULL = $POSTOFFICE/.mailq.sock */
	char *notifysock;        /* PARAMnotifysock: overrides SCHEDULERNOTIFY */
	long global_report_interval; /* PARAMglobal-report-interval, default 300 */
	int msgwriteasync;       /* PARAMmsgwriteasync 0/1: no fsync on reports */
	int store_error_on_error;/* PARAMstore-error-on-error 0/1: keep double
	                          * faults in postman/ (default 0: discard) */
	long delay_warning;      /* PARAMdelay-warning: send a delay DSN this long
	                          * after arrival (NOTIFY=DELAY only); default 4h,
	                          * 0 = never */
	long max_ta_silence;     /* PARAMmax-ta-silence: a TA silent this long with
	                          * work outstanding is shut down; default 600 */
	long max_ta_comments;    /* PARAMmax-ta-comments: comment lines a second
	                          * an agent may write beyond 4 per report before
	                          * it is killed as flooding; default 2000 */
	int fork_rate;           /* PARAMfork-rate: max TA forks per second,
	                          * default 30 (command line -R overrides) */
	long expire_sweep;       /* PARAMexpire-sweep: hard-expiry sweep period,
	                          * default 900 */
	long mailq_timeout;      /* PARAMmailq-timeout: idle mailq connection
	                          * lifetime, default 300 */
	char *mailq_admins;      /* PARAMmailq-admins: "user1,user2" (names or
	                          * uids) who may ETRN/KILL over the UNIX socket */
	long mailq_auth_timeout; /* PARAMmailq-auth-timeout: TCP client must
	                          * AUTH within this, default 10 */
	long mailq_auth_failures;/* PARAMmailq-auth-failures: failed AUTHs
	                          * before the connection is closed, default 3 */
	long retryat_max;        /* PARAMretryat-max: how far ahead an agent's
	                          * "retryat" may put a thread, default 86400,
	                          * at most 30 days */
	int has_syspriority, syspriority; /* syspriority/sysnice keywords (any */
	int has_sysnice, sysnice;         /* clause, last wins): for the daemon
	                                   * itself; sconf never applies them */
} sconf;

/* The builtin configuration used when no scheduler.conf exists. */
extern const char sconf_default_text[];

/* sconf_parse - parse text (len bytes) named name; *out on success.
 * Z_OK, or Z_EPARSE/Z_ETOOBIG/Z_ENOMEM with "name:line: reason" in err. */
int sconf_parse(const char *name, const char *text, size_t len, sconf **out, zbuf *err);
/* sconf_load - read and parse a file; Z_ENOENT (with message) if missing,
 * so the caller can fall back to sconf_load_default() */
int sconf_load(const char *path, sconf **out, zbuf *err);
/* sconf_load_default - parse sconf_default_text (name "builtin") */
int sconf_load_default(sconf **out, zbuf *err);
/* sconf_free - release everything (NULL is fine) */
void sconf_free(sconf *cfg);

/* sconf_match - first clause matching channel and host (compared
 * lower-cased; host NULL = ""), or NULL when none matches (also for
 * names of 4096 bytes or more) */
const sconf_clause *sconf_match(const sconf *cfg, const char *channel, const char *host);

/* sconf_expand_command - build the TA argv for (channel, host):
 * (when the last word is exactly "$host" and the word before it is not
 * "--", a "--" word is inserted before the host, so that no host can
 * be read as an option by a getopt-style agent)
 * argv words exactly "$host"/"$channel" are replaced by the value; inside
 * other words "${host}", "${channel}" and "${NAME}" (zconf_expand: zmta.conf
 * then environment, unknown = "") are expanded; a program name without '/'
 * becomes "<mailbin>/ta/<prog>" (mailbin NULL: zconf MAILBIN).
 * *argv_out is a malloc'd NULL-terminated vector, free with sconf_argv_free.
 * Z_ENOENT if the clause has no command, Z_ETOOBIG / Z_ENOMEM otherwise. */
int sconf_expand_command(const sconf_clause *c, const char *channel, const char *host,
			 const char *mailbin, char ***argv_out, zbuf *err);
/* sconf_argv_free - free a vector from sconf_expand_command */
void sconf_argv_free(char **argv);

/* sconf_dump - append a human-readable listing of the effective settings
 * (PARAMs, defaults, every clause in match order) to out */
int sconf_dump(const sconf *cfg, zbuf *out);

#endif
