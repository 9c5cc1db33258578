/*
 * NAME
 *	mqsrv_cmd.c - one MAILQ v2 command: rights check and dispatch
 * SUMMARY
 *	Splits a client's command line into words and answers it: AUTH,
 *	SHOW QUEUE THREADS|SHORT, SHOW THREAD, SHOW COUNTERS, ETRN, KILL
 *	MSG, QUIT/EXIT, each listing optionally as JSON (a last word JSON).
 * SYNOPSIS
 *	#include "mqsrv_int.h"
 *	void mq_cli_command(mqcli *c, char *line);
 * DESCRIPTION
 *	A line is at most eight words; the eighth keeps the rest.  A TCP
 *	client may only AUTH or QUIT until AUTH succeeded.  Each command
 *	needs an attribute (MQA_*): SHOW COUNTERS SNMP, SHOW QUEUE SHORT
 *	QQ, other SHOWs TT, ETRN and KILL their own.  UNIX-socket admins
 *	have all, other local users only the listing ones; a TCP client
 *	has those of its auth file line.  A listing is started here and
 *	produced by mqsrv_list.c.  ETRN asks for the matching
 *	threads (turnme, agents.c); KILL MSG takes a spool id or an inode
 *	number and removes the message (file_kill, complete.c).
 * DIAGNOSTICS
 *	Answers MQ2_UNKNOWN for unknown or refused-by-attribute commands
 *	(verb and rest echoed cleaned, 64 bytes a word), MQ2_ERR for a
 *	refused ETRN/KILL, an unknown thread or message, lack of memory.
 *	Logged: refused ETRN/KILL, and ETRN and KILL done, with who did
 *	them (uid or TCP peer).
 * SECURITY
 *	The line is untrusted; words are cut in place in a buffer the
 *	caller bounded (MQ2_LINE_MAX) and echoed only through
 *	mq_clean_append.  Rights are checked before any command acts.
 * BUGS
 *	KILL MSG by spool id walks every file of the model.
 * SEE ALSO
 *	mqsrv.c, mqsrv_int.h, mq2proto.h, mailq(1)
 */
#include <string.h>
#include <strings.h>

#include "mqsrv_int.h"
#include "spool.h"
#include "zerr.h"
#include "zlog.h"
#include "zutil.h"

/* find_file_by_id - spool id or inode number */
static sfile *find_file_by_id(const char *w)
{
	unsigned long ino;
	if (zparse_ulong(w, ~0ul, &ino) == Z_OK)
		return model_file_find(mqsrv_q->m, ino);
	char id[SPOOL_ID_MAX];
	for (size_t i = 0; i < mqsrv_q->m->fcap; i++)
		for (sfile *f = mqsrv_q->m->ftab[i]; f; f = f->hnext) {
			file_spoolid(f, id, sizeof id);
			if (strcmp(id, w) == 0)
				return f;
		}
	return NULL;
}

/* refuse - "-ERR permission denied" for a command the client may not use */
static void refuse(mqcli *c, zbuf *o, const char *verb)
{
	if (c->tcp) {
		zbuf_puts(o, MQ2_ERR " permission denied: refused by access control (auth file attributes)\n");
		zlog_warn(NULL, "mailq: %s refused for %s (auth file attributes)", verb, c->peername);
	} else {
		zbuf_puts(o, MQ2_ERR " permission denied: only root and PARAMmailq-admins users may do that\n");
		zlog_warn(NULL, "mailq: %s refused for uid %ld (not an admin)", verb, c->uid);
	}
}

/* lst_begin - answer a listing command whose snapshot start returned rc:
 * the first piece of the listing, or the out-of-memory error */
static void lst_begin(mqcli *c, zbuf *o, int rc, int json)
{
	if (rc != Z_OK) {
		zbuf_puts(o, MQ2_ERR " out of memory, try again\n");
		return;
	}
	c->json = json;
	zbuf_puts(o, MQ2_OK " until LF.LF\n");
	mq_produce(c);
}

/* mq_cli_command - one command line; the answer goes to c->out (a listing
 * is started and produced piecewise) */
void mq_cli_command(mqcli *c, char *line)
{
	char *w[8];
	zspan tok[8];
	int n = 0;
	zcur cur;
	/* at most eight words; the eighth keeps the rest of the line */
	zcur_init(&cur, line, strlen(line));
	while (n < 8) {
		zcur_skip_ws(&cur);
		if (zcur_eof(&cur))
			break;
		if (n == 7)
			zcur_take_rest(&cur, &tok[n]);
		else
			(void)zcur_take_token(&cur, &tok[n]);
		n++;
	}
	for (int i = 0; i < n; i++) {
		w[i] = line + (tok[i].p - line);
		w[i][tok[i].n] = '\0';
	}
	zbuf *o = &c->out;
	int json = n > 0 && strcasecmp(w[n - 1], "JSON") == 0;
	if (json)
		n--;
	if (n == 0)
		return;
	if (n == 3 && !strcasecmp(w[0], "AUTH") && c->tcp && !c->authed) {
		mq_cli_auth(c, w[1], w[2]);
		return;
	}
	int quit = n == 1 && (!strcasecmp(w[0], "QUIT") || !strcasecmp(w[0], "EXIT"));
	if (c->tcp && !c->authed && !quit) {
		zbuf_puts(o, MQ2_BAD "; USER MUST AUTHENTICATE\n");
		return;
	}
	unsigned need = 0;
	if (n >= 2 && !strcasecmp(w[0], "SHOW"))
		need = !strcasecmp(w[1], "COUNTERS") ? MQA_SNMP :
		       (n == 3 && !strcasecmp(w[2], "SHORT")) ? MQA_QQ : MQA_TT;
	else if (!strcasecmp(w[0], "ETRN"))
		need = MQA_ETRN;
	else if (!strcasecmp(w[0], "KILL"))
		need = MQA_KILL;
	if (need && !(c->attrs & need)) {
		if (need & (MQA_ETRN | MQA_KILL)) {
			refuse(c, o, need == MQA_ETRN ? "ETRN" : "KILL");
		} else {
			zbuf_puts(o, MQ2_UNKNOWN " Unknown command, or refused by access control; VERB='");
			mq_clean_append(o, w[0], strlen(w[0]) > 64 ? 64 : strlen(w[0]));
			zbuf_puts(o, "' REST=''\n");
		}
	} else if (n == 3 && !strcasecmp(w[0], "SHOW") && !strcasecmp(w[1], "QUEUE") &&
	    (!strcasecmp(w[2], "THREADS") || !strcasecmp(w[2], "THREADS2"))) {
		lst_begin(c, o, mq_lst_start_threads(c), json);
	} else if (n == 3 && !strcasecmp(w[0], "SHOW") && !strcasecmp(w[1], "QUEUE") &&
		   !strcasecmp(w[2], "SHORT")) {
		lst_begin(c, o, mq_lst_start_files(c), json);
	} else if (n == 2 && !strcasecmp(w[0], "SHOW") && !strcasecmp(w[1], "COUNTERS")) {
		zbuf_puts(o, MQ2_OK " until LF.LF\n");
		mq_show_counters(o, json);
		zbuf_puts(o, MQ2_END "\n");
	} else if (n == 4 && !strcasecmp(w[0], "SHOW") && !strcasecmp(w[1], "THREAD")) {
		thread *t = model_thread_find(mqsrv_q->m, w[2], w[3]);
		if (t == NULL)
			zbuf_puts(o, MQ2_ERR " no such thread\n");
		else
			lst_begin(c, o, mq_lst_start_thread(c, t), json);
	} else if (n == 2 && !strcasecmp(w[0], "ETRN")) {
		int any = turnme(mqsrv_q->pool, w[1]);
		if (c->tcp)
			zlog_info(NULL, "mailq: ETRN %.256s by %s: %s", w[1], c->peername,
				  any ? "started" : "nothing to start");
		else
			zlog_info(NULL, "mailq: ETRN %.256s by uid %ld: %s", w[1], c->uid,
				  any ? "started" : "nothing to start");
		zbuf_printf(o, "%s; an ETRN %s\n", MQ2_OK, any ? "started something." : "didn't start anything.");
	} else if (n == 3 && !strcasecmp(w[0], "KILL") && !strcasecmp(w[1], "MSG")) {
		sfile *f = find_file_by_id(w[2]);
		char id[SPOOL_ID_MAX];
		if (f == NULL) {
			zbuf_puts(o, MQ2_ERR " no such message\n");
		} else {
			file_spoolid(f, id, sizeof id);
			if (c->tcp)
				zlog_info(id, "mailq: KILL by %s", c->peername);
			else
				zlog_info(id, "mailq: KILL by uid %ld", c->uid);
			int rc = file_kill(mqsrv_q->cc, f);
			if (rc == Z_OK)
				zbuf_printf(o, "%s killed %s\n", MQ2_OK, id);
			else if (rc == Z_EAGAIN)
				zbuf_puts(o, MQ2_ERR " message is being delivered right now, try again\n");
			else
				zbuf_puts(o, MQ2_ERR " cannot remove the message (see the log)\n");
		}
	} else if (quit) {
		zbuf_puts(o, MQ2_BYE "\n");
		c->closing = 1;
	} else {
		zbuf_puts(o, MQ2_UNKNOWN " Unknown command, or refused by access control; VERB='");
		mq_clean_append(o, w[0], strlen(w[0]) > 64 ? 64 : strlen(w[0]));
		zbuf_puts(o, "' REST='");
		for (int i = 1; i < n; i++) {
			if (i > 1)
				zbuf_putc(o, ' ');
			mq_clean_append(o, w[i], strlen(w[i]) > 64 ? 64 : strlen(w[i]));
		}
		zbuf_puts(o, "'\n");
	}
}

