/*
 * NAME
 *	zmsmtpd_data - libzmsmtpd: the message - DATA and BDAT readers, end of data
 * SUMMARY
 *	Reads message bytes for DATA (dot-unstuffing, strict line ends) and
 *	BDAT (exact chunk counts), keeps them in memory or a scratch file and
 *	hands them to deliver at the end.
 * SYNOPSIS
 *	void zms_txn_reset(zmsmtpd_sess *s);  int zms_msg_open(zmsmtpd_sess *s);
 *	int zms_data_input(zmsmtpd_sess *s);  int zms_bdat_input(zmsmtpd_sess *s);
 *	void zms_do_bdat(zmsmtpd_sess *s, zspan arg);
 * DESCRIPTION
 *	DATA lines end in CRLF; a bare LF or CR ends a line too but such a
 *	line and the one after it can never be the end of data (SMTP
 *	smuggling), and the message is refused (550 5.6.11) unless bare-lf
 *	is "normalise".  The message (LF line ends) stays in memory up to
 *	MSG_MEM_MAX (deliver then reads an fmemopen stream) and then moves
 *	to an unlinked scratch file in tmpdir.  finish_msg builds the
 *	envelope (env_fill) and calls deliver; with zmsmtpd_deliver_async
 *	the reply is left to zmsmtpd_deliver_done.  A message refused here
 *	at its end (too big: the part that fit; bare LF/CR) goes to the
 *	refused callback after its reply (msg_refused), read through the
 *	same stream as deliver's (msg_stream: fmemopen while in memory).
 * DIAGNOSTICS
 *	Replies to the client and log callback lines.
 * SECURITY
 *	Message size is bounded by max-size (552); memory per message by
 *	MSG_MEM_MAX.  BDAT never mixes with DATA in one transaction.
 * BUGS
 *	An fmemopen stream has no file descriptor.
 * SEE ALSO
 *	zmsmtpd.c, zmsmtpd_int.h, libzmsmtpd(3)
 */
#include "zmsmtpd_int.h"

/* zms_txn_reset - forget the transaction */
void zms_txn_reset(zmsmtpd_sess *s)
{
	for (size_t i = 0; i < s->nrcpts; i++)
		free(s->rcptmem[i]);
	free(s->rcptmem);
	free(s->rcpts);
	s->rcptmem = NULL;
	s->rcpts = NULL;
	s->nrcpts = 0;
	if (s->msg != NULL)
		fclose(s->msg);
	s->msg = NULL;
	zbuf_free(&s->mem);
	s->inmem = 0;
	s->have_mail = s->smtputf8 = s->bdat_used = s->body_bad = s->body_toobig = 0;
	s->sender[0] = s->envid[0] = s->ret[0] = s->body[0] = '\0';
	s->msgsize = 0;
	s->bdat_left = s->bdat_wire = 0;
	s->bdat_last = s->bdat_skip = s->pend_cr = 0;
}

/* zms_msg_open - a new message: in memory until it outgrows MSG_MEM_MAX */
int zms_msg_open(zmsmtpd_sess *s)
{
	zbuf_free(&s->mem);
	zbuf_init(&s->mem, MSG_MEM_MAX);
	s->inmem = 1;
	return 0;
}

/* msg_spill - the scratch file, unlinked, with what mem holds; 0 or -1 */
static int msg_spill(zmsmtpd_sess *s)
{
	char path[1100];
	int fd;

	if (snprintf(path, sizeof(path), "%s/.zmsmtpd.XXXXXX", s->d->o.tmpdir) >= (int)sizeof(path))
		return -1;
	/* close-on-exec: a program the embedder runs (smtpserver -m) gets
	 * no other session's message */
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -1;
	(void)unlink(path);
	s->msg = fdopen(fd, "w+");
	if (s->msg == NULL) {
		close(fd);
		return -1;
	}
	s->inmem = 0;
	if (s->mem.len > 0 && fwrite(s->mem.data, 1, s->mem.len, s->msg) != s->mem.len)
		return -1;
	zbuf_free(&s->mem);
	return 0;
}

/* msg_put - message bytes (size counted, limit checked) */
static void msg_put(zmsmtpd_sess *s, const char *p, size_t n)
{
	if (s->body_toobig || (s->msg == NULL && !s->inmem))
		return;
	if (s->d->o.max_size > 0 && s->msgsize + n > s->d->o.max_size) {
		s->body_toobig = 1;
		return;
	}
	s->msgsize += n;
	if (s->inmem) {
		if (s->mem.len + n <= MSG_MEM_MAX && zbuf_append(&s->mem, p, n) == Z_OK)
			return;
		if (msg_spill(s) != 0) {
			s->body_bad = 2;
			return;
		}
	}
	if (fwrite(p, 1, n, s->msg) != n)
		s->body_bad = 2;
}

/* env_fill - the envelope of the transaction for deliver and refused */
static void env_fill(zmsmtpd_sess *s, zmsmtpd_env *e)
{
	memset(e, 0, sizeof(*e));
	e->sender = s->sender;
	e->rcpts = s->rcpts;
	e->nrcpts = s->nrcpts;
	e->envid = s->envid[0] ? s->envid : NULL;
	e->ret = s->ret[0] ? s->ret : NULL;
	e->body = s->body[0] ? s->body : NULL;
	e->smtputf8 = s->smtputf8;
	e->size = s->msgsize;
	e->helo = s->helo;
	e->client_ip = s->ip;
	if (!s->esmtp)
		e->with = "SMTP";
	else if (s->ssl && s->auth_user[0])
		e->with = "ESMTPSA";
	else if (s->ssl)
		e->with = "ESMTPS";
	else if (s->auth_user[0])
		e->with = "ESMTPA";
	else
		e->with = "ESMTP";
	e->tls = s->ssl ? s->tlsinfo : NULL;
	e->auth_user = s->auth_user[0] ? s->auth_user : NULL;
	e->port = s->port;
}

/* msg_stream - s->msg readable from its start: a message still in memory
 * gets an fmemopen stream over mem (or, empty, the scratch file); 0 or -1 */
static int msg_stream(zmsmtpd_sess *s)
{
	if (s->inmem && s->msg == NULL) {
		if (s->mem.len > 0)
			s->msg = fmemopen(s->mem.data, s->mem.len, "r");
		else if (msg_spill(s) != 0)
			return -1;
	}
	if (s->msg == NULL || fflush(s->msg) != 0)
		return -1;
	return 0;
}

/* msg_refused - a message refused here at its end (too big: the part
 * that fit; bare LF or CR) to the refused callback with the reply; a
 * message still in memory is read through an fmemopen stream */
static void msg_refused(zmsmtpd_sess *s, int code, const char *enh, const char *text)
{
	zmsmtpd_env e;
	zmsmtpd_verdict v;

	if (s->d->cb.refused == NULL || s->body_bad == 2 || msg_stream(s) != 0)
		return;
	zms_verdict_init(&v);
	v.action = ZMSMTPD_REJECT;
	v.code = code;
	snprintf(v.enh, sizeof(v.enh), "%s", enh);
	snprintf(v.text, sizeof(v.text), "%s", text);
	env_fill(s, &e);
	rewind(s->msg);
	s->d->cb.refused(s->d->cb.arg, s, &e, s->msg, &v);
}

/* finish_msg - end of data: deliver and reply */
static void finish_msg(zmsmtpd_sess *s)
{
	zmsmtpd *d = s->d;
	zmsmtpd_verdict v;

	zms_verdict_init(&v);
	if (s->body_toobig) {
		zms_reply(s, 552, "5.3.4", "Message size exceeds fixed maximum message size (%lu)",
		      d->o.max_size);
		msg_refused(s, 552, "5.3.4", "Message size exceeds fixed maximum message size");
	} else if (s->body_bad == 1) {
		zms_reply(s, 550, "5.6.11", "Bare LF or bare CR in the message: refused");
		msg_refused(s, 550, "5.6.11", "Bare LF or bare CR in the message: refused");
	} else if (s->body_bad == 2 || msg_stream(s) != 0) {
		zms_reply(s, 452, "4.3.1", "Insufficient system storage");
	} else {
		zmsmtpd_env e;

		env_fill(s, &e);
		rewind(s->msg);
		s->in_deliver = 1;
		s->dv = &v;
		if (d->cb.deliver != NULL)
			d->cb.deliver(d->cb.arg, s, &e, s->msg, &v);
		s->in_deliver = 0;
		s->dv = NULL;
		/* asynchronous: the reply comes with zmsmtpd_deliver_done */
		if (!s->waiting)
			zms_verdict_reply(s, &v, 250, "2.0.0", "Message accepted for delivery");
	}
	zms_txn_reset(s);
	s->state = ST_CMD;
}

/* data_line - one DATA line p[0..n) (without its end) ending with term:
 * 0 CRLF, 1 bare LF, 2 bare CR, 3 none (partial, over-long) */
static void data_line(zmsmtpd_sess *s, const char *p, size_t n, int term)
{
	int crlf = term == 0;

	if (s->bol && n == 1 && p[0] == '.' && crlf && s->prev_crlf) {
		finish_msg(s);
		return;
	}
	if (s->bol && n > 0 && p[0] == '.') {
		p++;
		n--;
	}
	if (term == 1 || term == 2) {
		if (!s->d->o.normalise && s->body_bad == 0)
			s->body_bad = 1;
	}
	msg_put(s, p, n);
	if (term != 3) {
		msg_put(s, "\n", 1);
		s->prev_crlf = crlf;
		s->bol = 1;
	} else {
		s->bol = 0;
	}
}

/* zms_data_input - consume DATA bytes from rbuf; 1 progress, 0 need more */
int zms_data_input(zmsmtpd_sess *s)
{
	const char *b = s->rbuf.data;
	size_t len = s->rbuf.len, i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		if (b[i] == '\n') {
			data_line(s, b, i, 1);
			zbuf_consume(&s->rbuf, i + 1);
			return 1;
		}
		if (b[i] == '\r') {
			if (i + 1 >= len) {
				if (s->eof) {
					data_line(s, b, i, 2);
					zbuf_consume(&s->rbuf, i + 1);
					return 1;
				}
				break;
			}
			if (b[i + 1] == '\n') {
				data_line(s, b, i, 0);
				zbuf_consume(&s->rbuf, i + 2);
			} else {
				data_line(s, b, i, 2);
				zbuf_consume(&s->rbuf, i + 1);
			}
			return 1;
		}
	}
	/* no line end yet: an over-long line goes out in pieces */
	if (len >= 8192) {
		size_t k = len - 1;
		data_line(s, b, k, 3);
		zbuf_consume(&s->rbuf, k);
		return 1;
	}
	return 0;
}

/* zms_bdat_input - consume BDAT chunk bytes; 1 progress, 0 need more */
int zms_bdat_input(zmsmtpd_sess *s)
{
	size_t n = s->rbuf.len;

	if (s->bdat_left > 0 && n == 0)
		return 0;
	if (n > s->bdat_left)
		n = s->bdat_left;
	if (!s->bdat_skip) {
		const char *p = s->rbuf.data;
		size_t st = 0;
		for (size_t i = 0; i < n; i++) {
			if (s->pend_cr) {
				s->pend_cr = 0;
				if (p[i] != '\n')
					msg_put(s, "\r", 1);
			}
			if (p[i] == '\r') {
				msg_put(s, p + st, i - st);
				st = i + 1;
				s->pend_cr = 1;
			}
		}
		msg_put(s, p + st, n - st);
	}
	zbuf_consume(&s->rbuf, n);
	s->bdat_left -= n;
	s->bdat_wire += n;
	if (s->bdat_left > 0)
		return n > 0;
	s->state = ST_CMD;
	if (s->bdat_skip) {
		s->bdat_skip = 0;
		if (!s->have_mail)
			zms_reply(s, 503, "5.5.1", "Need MAIL before BDAT");
		else
			zms_reply(s, 554, "5.5.1", "No valid recipients");
		return 1;
	}
	if (s->bdat_last) {
		if (s->pend_cr) {
			s->pend_cr = 0;
			msg_put(s, "\r", 1);
		}
		finish_msg(s);
	} else {
		zms_reply(s, 250, "2.0.0", "%lu octets received", s->bdat_wire);
	}
	return 1;
}

void zms_do_bdat(zmsmtpd_sess *s, zspan arg)
{
	zcur c;
	zspan digits, rest;
	unsigned long n;
	int last = 0;

	/* "size" digits, then spaces and "LAST" (any case) or nothing */
	zcur_init(&c, arg.p, arg.n);
	zcur_take_span(&c, "0123456789", &digits);
	if (digits.n == 0 || digits.n >= 32) {
		zms_reply(s, 501, "5.5.4", "Syntax: BDAT size [LAST]");
		s->closing = 1;   /* the stream is out of step */
		return;
	}
	if (zspan_to_ulong(digits, 0xffffffffffUL, &n) != Z_OK) {
		zms_reply(s, 501, "5.5.4", "BDAT size out of range");
		s->closing = 1;
		return;
	}
	zcur_skip_span(&c, " ");
	zcur_take_rest(&c, &rest);
	if (zspan_caseeq(rest, "LAST"))
		last = 1;
	else if (rest.n != 0) {
		zms_reply(s, 501, "5.5.4", "Syntax: BDAT size [LAST]");
		s->closing = 1;
		return;
	}
	s->bdat_left = n;
	s->bdat_last = last;
	s->state = ST_BDAT;
	if (!s->have_mail || s->nrcpts == 0) {
		s->bdat_skip = 1;   /* read the chunk, then 503 / 554 */
		return;
	}
	if (!s->bdat_used) {
		s->bdat_used = 1;
		if (zms_msg_open(s) != 0)
			s->body_bad = 2;
	}
}

