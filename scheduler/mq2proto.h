/*
 * mq2proto.h - the MAILQ v2 line protocol between mailq(1) and the
 * scheduler's mailq listener (shared by both sides; see mailq(1)).
 *
 * Transport: a stream socket.  Default: the UNIX socket
 * $POSTOFFICE/.mailq.sock (MQ2_SOCK_NAME), mode 0660 owned by the
 * scheduler's group.  There is no AUTH step over it: the server reads the
 * peer's uid with SO_PEERCRED.  Every member of the group may list (SHOW
 * ...); commands that change state (ETRN, KILL MSG) are for root, the
 * scheduler's own uid and the users of PARAMmailq-admins only, anyone else
 * gets "-ERR permission denied ...".
 * Optionally TCP (PARAMmailqsock = TCP:port[@addr]); TCP always requires
 * AUTH and is only enabled when PARAMauthfile names a file readable and
 * writable by its owner only (mode 0600 or 0400).
 * Lines end in "\n" (a client may send "\r\n"; the server strips "\r").
 * A command line is at most MQ2_LINE_MAX bytes.
 *
 * Conversation:
 *   S: version zmta 2.0                                 (MQ2_GREETING)
 *   TCP only:
 *   S: 220 MAILQ-V2-HMAC-SHA256 <64 hex digits: 32 random bytes>
 *   C: AUTH <user> <hex>     hex = lowercase (any case accepted) hex of
 *                            HMAC-SHA-256(key = the user's password,
 *                            message = the challenge line without its "\n",
 *                            then one "\n", then the user name)
 *   S: +OK  |  -BAD USER OR PASSWORD
 *   (any other command before AUTH on TCP: "-BAD; USER MUST AUTHENTICATE")
 *   After PARAMmailq-auth-failures (default 3) failed AUTHs the server
 *   closes the connection, and the client's address is refused for a
 *   back-off time that doubles with every further round of failures
 *   (30 s up to 1 h; "-BAD too many failed attempts, try later").  A TCP
 *   client that has not authenticated within PARAMmailq-auth-timeout
 *   (default 10 s) is closed.  TCP clients get at most MQ2_TCP_CLIENTS of
 *   the server's MQ2_CLIENTS slots, and clients that are not root or an
 *   admin at most MQ2_CLIENTS - MQ2_ADMIN_RESERVE, so local admins are
 *   never locked out; a client over its limit gets "-ERR too many
 *   clients" instead of the greeting.
 *   The old MD5 challenge ("220 MAILQ-V2-CHALLENGE: ...") is gone.
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
 *   ETRN <host>                  (admins) "+OK; an ETRN started something." or
 *                                "+OK; an ETRN didn't start anything."
 *   KILL MSG <spoolid|msgid>     (admins) remove the message without a report:
 *                                "+OK killed <spoolid>" or "-ERR no such message"
 *   QUIT (or EXIT)               "+Bye bye", server closes
 *
 * JSON modifier: the data lines are then one JSON object per line (UTF-8,
 * RFC 8259 string escapes), the "+OK" and "." framing is unchanged.
 *   SHOW QUEUE SHORT JSON:
 *     {"spoolid":"S1A2B","msgid":"81234","arrival":1790000000,"size":1234,
 *      "sender":"a@b","rcpts":[{"addr":"c@d","channel":"smtp","host":"d",
 *      "attempts":2,"wakeup":1790000600,"diag":"..."}]}
 *     A message whose line would pass MQ2_REPLY_LINE_MAX lists the
 *     recipients that fit and ends in ],"omitted":<count of the others>}
 *     (SHOW THREAD JSON has one line per recipient).
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
#include <stddef.h>

#define MQ2_GREETING "version zmta 2.0"
#define MQ2_GREETING_PREFIX "version "
#define MQ2_CHALLENGE_PREFIX "220 MAILQ-V2-HMAC-SHA256 "
#define MQ2_NONCE_LEN 32                 /* random bytes in a challenge */
#define MQ2_MAC_LEN 32                   /* HMAC-SHA-256 */
#define MQ2_HEX_LEN 64                   /* its hex form */
#define MQ2_CLIENTS 32                   /* server: clients at a time */
#define MQ2_TCP_CLIENTS 24               /* server: TCP clients at most */
#define MQ2_ADMIN_RESERVE 2              /* server: slots only root/admins get */
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

/* mq2_hmac_hex - lowercase hex HMAC-SHA-256(key, msg) (scheduler/mq2auth.c) */
int mq2_hmac_hex(const void *key, size_t keylen, const void *msg, size_t msglen,
		 char out[MQ2_HEX_LEN + 1]);
/* mq2_auth_response - hex HMAC-SHA-256(password, challenge "\n" user):
 * what the client sends after "AUTH <user> "; Z_OK or Z_ERR */
int mq2_auth_response(const char *challenge, const char *user, const char *password,
		      char out[MQ2_HEX_LEN + 1]);
/* mq2_auth_verify - Z_OK when hex is the right response (constant-time
 * compare), Z_ERR otherwise */
int mq2_auth_verify(const char *challenge, const char *user, const char *password,
		    const char *hex);

#endif
