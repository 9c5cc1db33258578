/*
 * mq2proto.h - the MAILQ v2 line protocol between mailq(1) and the
 * scheduler's mailq listener (shared by both sides; see mailq(1)).
 *
 * Transport: a stream socket.  Default: the UNIX socket
 * $POSTOFFICE/.mailq.sock (MQ2_SOCK_NAME), mode 0660 owned by the zmta
 * group - access is by file permission, there is NO AUTH step over it.
 * Optionally TCP (PARAMmailqsock = TCP:port[@addr]); TCP always requires
 * AUTH and is only enabled when PARAMauthfile names a readable file.
 * Lines end in "\n" (a client may send "\r\n"; the server strips "\r").
 * A command line is at most MQ2_LINE_MAX bytes.
 *
 * Conversation:
 *   S: version zmta 2.0                                 (MQ2_GREETING)
 *   TCP only:
 *   S: 220 MAILQ-V2-CHALLENGE: <sec>.<usec>.<counter>
 *   C: AUTH <user> <hex>     hex = lowercase hex MD5(challenge line without
 *                            the "\n", immediately followed by the password)
 *   S: +OK  |  -BAD USER OR PASSWORD
 *   (any other command before AUTH on TCP: "-BAD; USER MUST AUTHENTICATE")
 *
 *   C: <command>[ JSON]
 *   S: +OK<text>                 then data lines, dot-stuffed (a line that
 *                                starts with "." is sent with one more "."),
 *                                ended by a line "."            (listings)
 *   S: +OK<text>                 single line, no data          (ETRN, KILL, QUIT)
 *   S: -ERR <reason>             refused / failed
 *   S: -MAILQ2 Unknown command, or refused by access control; VERB='..' REST='..'
 *
 * Commands (verbs are case-insensitive; arguments are single words):
 *   SHOW QUEUE SHORT [JSON]      one block per queued message (see below)
 *   SHOW QUEUE THREADS [JSON]    one line per thread, then summary lines
 *   SHOW THREAD <channel> <host> [JSON]  vertices of one thread
 *   SHOW COUNTERS [JSON]         "name value" lines (uptime, kids, idle,
 *                                msgs, threads, rcpts, forks, delivered,
 *                                failed, deferred, expired, reports)
 *   ETRN <host>                  "+OK; an ETRN started something." or
 *                                "+OK; an ETRN didn't start anything."
 *   KILL MSG <spoolid|msgid>     remove the message without a report:
 *                                "+OK killed <spoolid>" or "-ERR no such message"
 *   QUIT (or EXIT)               "+Bye bye", server closes
 *
 * JSON modifier: the data lines are then one JSON object per line (UTF-8,
 * RFC 8259 string escapes), the "+OK" and "." framing is unchanged.
 *   SHOW QUEUE SHORT JSON:
 *     {"spoolid":"S1A2B","msgid":"81234","arrival":1790000000,"size":1234,
 *      "sender":"a@b","rcpts":[{"addr":"c@d","channel":"smtp","host":"d",
 *      "attempts":2,"wakeup":1790000600,"diag":"..."}]}
 *   SHOW QUEUE THREADS JSON:
 *     {"channel":"smtp","host":"d","rcpts":3,"attempts":2,"procs":[4711],
 *      "state":"IDLE","unfed":0,"age":620,"wakeup_in":540,"pending":""}
 *     and a last object {"summary":{"threads":..,"msgs":..,"procs":..,
 *      "idle":..,"uptime":..}}
 *   SHOW THREAD JSON: {"path":"E/K/81234","addr":"c@d","offset":324,
 *      "expiry":..,"wakeup":..,"lastfeed":..,"attempts":..,"diag":".."}
 *   SHOW COUNTERS JSON: a single object {"uptime":..,"kids":..,...}
 *
 * Text formats (for humans; mailq(1) prints them unchanged):
 *   SHOW QUEUE SHORT: per message a line
 *       "<spoolid> <msgid> <size> <arrival RFC 5322 date> <sender>"
 *     then one line per pending recipient, starting with a TAB:
 *       "\t<channel>/<host> <addr> A=<attempts> W=<secs until wakeup>[ <diag>]"
 *   SHOW QUEUE THREADS: notes 6.10 thread-report fields
 *       "<channel>/<host>/<withhost> R=.. A=.. P={..} HA={..}s FA={..}s
 *        OF=.. S=.. UF=.. QA=.. W=..[ <pending reason>]"
 *     then "Threads: .. Msgs: .. Procs: .. Idle: .. Plim: .. Flim: .. Tlim: .."
 *     and  "Kids: .. Idle: .. Msgs: .. Thrds: .. Rcpnts: .. Uptime: .."
 *   SHOW THREAD: TAB-separated fields of notes 6.10.
 */
#ifndef ZMTA_MQ2PROTO_H
#define ZMTA_MQ2PROTO_H

#define MQ2_GREETING "version zmta 2.0"
#define MQ2_GREETING_PREFIX "version "
#define MQ2_CHALLENGE_PREFIX "220 MAILQ-V2-CHALLENGE: "
#define MQ2_SOCK_NAME ".mailq.sock"      /* under $POSTOFFICE */
#define MQ2_LINE_MAX 1024                /* a command line, with "\n" */
#define MQ2_REPLY_LINE_MAX 65536         /* one data/reply line, with "\n" */

#define MQ2_CMD_QUEUE_SHORT "SHOW QUEUE SHORT"
#define MQ2_CMD_QUEUE_THREADS "SHOW QUEUE THREADS"
#define MQ2_CMD_THREAD "SHOW THREAD"     /* + " <channel> <host>" */
#define MQ2_CMD_COUNTERS "SHOW COUNTERS"
#define MQ2_CMD_ETRN "ETRN"              /* + " <host>" */
#define MQ2_CMD_KILL_MSG "KILL MSG"      /* + " <spoolid>" */
#define MQ2_CMD_AUTH "AUTH"              /* + " <user> <hex>" (TCP only) */
#define MQ2_CMD_QUIT "QUIT"
#define MQ2_JSON_SUFFIX " JSON"

#define MQ2_OK "+OK"
#define MQ2_ERR "-ERR"
#define MQ2_BAD "-BAD"
#define MQ2_UNKNOWN "-MAILQ2"
#define MQ2_BYE "+Bye bye"
#define MQ2_END "."

/* mq2_authenticator - lowercase hex MD5 of the whole challenge line
 * followed by the password (scheduler/mq2auth.c); out gets 32 hex + NUL */
int mq2_authenticator(const char *challenge, const char *password, char out[33]);

#endif
