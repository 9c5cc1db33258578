/*
 * zmsmtp.h - libzmsmtp, zmta's SMTP client library (libzmsmtp(3)).
 *
 * One call sends one message (zmsmtp_sendmessage, the shape of Tcllib's
 * smtp::sendmessage) and returns the recipients the server refused.  A
 * session API (zmsmtp_open / zmsmtp_send / zmsmtp_close) sends many
 * messages over one connection; a small builder makes a MIME message.
 * Self-contained: needs only the C library headers.  Build with
 * pkg-config --cflags --libs libzmsmtp.
 */
#ifndef ZMSMTP_H
#define ZMSMTP_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* what zmsmtp_tlspolicy_fn returns */
enum { ZMSMTP_TLS_SECURE = 0, ZMSMTP_TLS_INSECURE = 1 };
/* tlspolicy(arg, code, text): TLS cannot be had (STARTTLS not offered:
 * code 0; refused: the reply code; handshake or certificate failure:
 * code 0 and the reason).  ZMSMTP_TLS_INSECURE goes on without (or with
 * the unverified) TLS, ZMSMTP_TLS_SECURE gives up on this server. */
typedef int (*zmsmtp_tlspolicy_fn)(void *arg, int code, const char *text);

/* mechanisms (zmsmtp_opts.mechs) */
enum { ZMSMTP_AUTH_PLAIN = 1u << 0, ZMSMTP_AUTH_LOGIN = 1u << 1, ZMSMTP_AUTH_CRAMMD5 = 1u << 2 };

typedef struct zmsmtp_opts {
	const char *const *servers;   /* host names or addresses, tried in order */
	size_t nservers;
	const int *ports;             /* ports[i] for servers[i] (last one repeats); NULL: 25 */
	size_t nports;
	const char *domain;           /* no servers: MX lookup of this domain */
	const char *gateway;          /* no servers and no MX/address found: this host */
	int gateway_port;             /* its port; 0: as for the MX hosts */
	const char *const *skip_mx;   /* MX host names not to use (broken MX) */
	size_t nskip_mx;
	const char *client;           /* EHLO/HELO name; NULL: gethostname() */
	int queue;                    /* accepted, sends nothing (XQUE is no standard: the man page) */
	int atleastone;               /* 0: any refusal = RSET, no DATA; 1: DATA if one accepted */
	const char *originator;       /* envelope sender; NULL: from the headers */
	const char *const *recipients;/* envelope recipients; NULL: from the headers */
	size_t nrecipients;
	const char *const *headers;   /* extra header fields: name, value, name, value ... */
	size_t nheaders;              /* number of pairs */
	const char *qualify;          /* domain for unqualified addresses ("" / NULL: none) */
	int usetls;                   /* STARTTLS when offered (default 1) */
	zmsmtp_tlspolicy_fn tlspolicy;/* NULL: insecure when usetls is on but TLS fails */
	void *tlspolicy_arg;
	int verify;                   /* verify the certificate and name (default 1) */
	const char *cafile;           /* CA bundle; NULL: system default */
	const char *username, *password; /* AUTH when both set */
	unsigned mechs;               /* ZMSMTP_AUTH_* allowed (0: all) */
	int auth_cleartext;           /* PLAIN/LOGIN also without TLS */
	int silent_server;            /* no greeting: send NOOP, take its reply as greeting */
	int ping;                     /* EHLO, MAIL, RCPT, then QUIT: check recipients only */
	int no_addheaders;            /* do not add Date/Message-ID/From */
	long tmo_conn, tmo_cmd, tmo_data, tmo_dot;   /* seconds; 0: RFC 5321 defaults */
	long tmo_total;               /* seconds for the whole call; 0: none */
	const char *dns_servers;      /* "ip[:port],..." for MX lookups; NULL: system */
	int allow_loopback;           /* tests: MX addresses on loopback are not "us" */
	const char *test_addrmap;     /* tests: "FROM=TO[:PORT] ..." (smtp(8) SMTP_TEST_ADDRMAP) */
	FILE *debug;                  /* transcript of the conversation, or NULL */
} zmsmtp_opts;

typedef struct zmsmtp_refused {
	char *address;
	int code;                     /* reply code, 0 if never sent (unusable address) */
	char enh[16];                 /* enhanced status "5.1.1" or "" */
	char *text;                   /* reply text (lines joined by '\n') */
} zmsmtp_refused;

/* status of a call */
enum { ZMSMTP_SENT = 0, ZMSMTP_TEMPFAIL = 1, ZMSMTP_PERMFAIL = 2 };

typedef struct zmsmtp_result {
	int status;                   /* ZMSMTP_* */
	int exitcode;                 /* the matching sysexits(3) code */
	int code;                     /* last deciding reply code (0: none) */
	char enh[16];
	char text[1024];              /* why, for anything but ZMSMTP_SENT */
	char server[300];             /* host [address]:port that answered */
	size_t naccepted;
	zmsmtp_refused *refused;      /* malloc'd, free with zmsmtp_result_free */
	size_t nrefused;
} zmsmtp_result;

/* zmsmtp_opts_init - defaults: usetls 1, verify 1, everything else off */
void zmsmtp_opts_init(zmsmtp_opts *o);
void zmsmtp_result_free(zmsmtp_result *r);

/* zmsmtp_sendmessage - send msg (header and body, LF or CRLF line ends)
 * to the first server that takes it; ZMSMTP_SENT when the message was
 * accepted for at least one recipient (atleastone) or all of them.
 * The refused recipients are in r either way. */
int zmsmtp_sendmessage(const zmsmtp_opts *o, const char *msg, size_t len, zmsmtp_result *r);

/* sessions: many messages over one connection */
typedef struct zmsmtp_session zmsmtp_session;
/* zmsmtp_open - connect, greet, EHLO, STARTTLS, AUTH; NULL on failure (why in r) */
zmsmtp_session *zmsmtp_open(const zmsmtp_opts *o, zmsmtp_result *r);
/* zmsmtp_send - one message on s (one transaction; a second one for the
 * Bcc digest when Bcc recipients come from the headers, see
 * libzmsmtp(3)); recipients and originator as in
 * zmsmtp_sendmessage (o may differ from the one given to zmsmtp_open in
 * originator, recipients, headers, atleastone only; NULL: the open's) */
int zmsmtp_send(zmsmtp_session *s, const zmsmtp_opts *o, const char *msg, size_t len,
		zmsmtp_result *r);
/* zmsmtp_close - QUIT and free */
void zmsmtp_close(zmsmtp_session *s);

/* zmsmtp_prepare - the message as it would be sent (Bcc removed, Date,
 * Message-ID, From added, extra headers, addresses qualified) into a
 * malloc'd buffer; also the envelope it would use.  0 or -1 (why in err) */
int zmsmtp_prepare(const zmsmtp_opts *o, const char *msg, size_t len, char **out,
		   size_t *outlen, char *err, size_t errsz);

/* the builder: a text body, headers, attachments */
typedef struct zmsmtp_mime zmsmtp_mime;
zmsmtp_mime *zmsmtp_mime_new(const char *text, const char *charset);
int zmsmtp_mime_header(zmsmtp_mime *m, const char *name, const char *value);
/* zmsmtp_mime_attach - a part: base64 unless the data is short-lined
 * 7-bit text (then 7bit) or mostly text (quoted-printable) */
int zmsmtp_mime_attach(zmsmtp_mime *m, const char *filename, const char *type,
		       const void *data, size_t len);
/* zmsmtp_mime_render - the whole message, malloc'd, CRLF line ends */
int zmsmtp_mime_render(zmsmtp_mime *m, char **out, size_t *outlen);
void zmsmtp_mime_free(zmsmtp_mime *m);

#ifdef __cplusplus
}
#endif
#endif
