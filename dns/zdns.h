/*
 * zdns.h - the DNS layer of zmta (libzdns.a): lookups through c-ares.
 *
 * Layer: may include lib/ and mail/ only; knows nothing of SMTP.  Programs
 * put their own policy (which MX to try first, what counts as "us") on top.
 *
 * One zdns handle owns one c-ares channel.  Every lookup is synchronous for
 * the caller: the channel's sockets (ares_getsock) are waited on through the
 * opts.poll hook (poll(2) when NULL), so a program can keep its own
 * keepalive or event work going while DNS waits.
 *
 * Status codes (enum zdns_status) say what happened to a query; zdns_temp
 * says whether it is worth retrying later, zdns_status_text gives the short
 * text used in diagnostics ("DNS timeout", "DNS server failure", ...).
 *
 * zdns_mx() applies the DNS rules of mail routing that are not policy: CNAMEs
 * followed (an answer holding only a CNAME starts a fresh query for its
 * target, at most ZDNS_CNAME_HOPS times), the end of the chain reported as
 * the canonical name, null MX (RFC 7505) recognised.  zdns_addrs() asks A and
 * AAAA together.  zdns_query() is the generic entry point (raw answer, rcode,
 * AD bit) for record types that have no parser here yet (TLSA, TXT).
 *
 * The zdns_msg_* and zdns_parse_* functions work on a reply held in memory
 * and make no query: the unit tests and tests/fuzz/fuzz_dns.c feed them
 * stored packets.
 */
#ifndef ZMTA_ZDNS_H
#define ZMTA_ZDNS_H

#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include "zbuf.h"

#define ZDNS_T_A 1
#define ZDNS_T_CNAME 5
#define ZDNS_T_WKS 11
#define ZDNS_T_MX 15
#define ZDNS_T_TXT 16
#define ZDNS_T_AAAA 28
#define ZDNS_T_TLSA 52

#define ZDNS_NAME_MAX 256     /* a presentation-form name with its NUL */
#define ZDNS_MX_MAX 128       /* MX records kept from one answer */
#define ZDNS_ADDR_MAX 128     /* addresses kept for one host */
#define ZDNS_CHAIN_MAX 9      /* names in one CNAME chain, the query name included */
#define ZDNS_CNAME_HOPS 8     /* fresh queries after CNAME-only answers */
#define ZDNS_RR_MAX 256       /* answer records zdns_msg_answers looks at */

enum zdns_status {
	ZDNS_OK = 0,
	ZDNS_NXDOMAIN,   /* the name does not exist (or is not a valid name) */
	ZDNS_NODATA,     /* the name exists, no record of the type */
	ZDNS_SERVFAIL,   /* temporary from here on */
	ZDNS_REFUSED,
	ZDNS_TIMEOUT,
	ZDNS_NOSERVER,   /* no server could be reached */
	ZDNS_BADRESP,    /* malformed answer */
	ZDNS_NOMEM,
	ZDNS_FAIL        /* any other trouble */
};

typedef struct zdns_opts {
	const char *servers;  /* "ip:port,ip:port" (DNS_SERVERS) or NULL: system
				 configuration; "" is an error */
	int timeout_ms;       /* first per-try timeout (c-ares doubles it); <=0: 5000 */
	int tries;            /* <=0: 2, at most 10 */
	/* every wait of a lookup: poll(2)'s arguments after poll_arg; NULL: poll(2) */
	int (*poll)(void *poll_arg, struct pollfd *fds, unsigned long nfds, int timeout_ms);
	void *poll_arg;
} zdns_opts;

typedef struct zdns zdns;

/* one record of the answer section, pointing into the reply */
typedef struct zdns_rr {
	char owner[ZDNS_NAME_MAX];
	int type;
	unsigned long ttl;
	const unsigned char *rd;
	int rdlen;
} zdns_rr;

/* header fields of a reply */
typedef struct zdns_hdr {
	int id, qr, opcode, aa, tc, rd, ra, ad, cd, rcode;
	int qdcount, ancount, nscount, arcount;
} zdns_hdr;

/* a raw answer (zdns_query) */
typedef struct zdns_answer {
	int status;           /* enum zdns_status */
	unsigned char *buf;   /* the reply as received, or NULL */
	int len;
	int rcode;            /* from the header, -1 without a reply */
	int ad;               /* AD bit (only meaningful from a validating resolver we trust) */
} zdns_answer;

typedef struct zdns_mxrec {
	char host[ZDNS_NAME_MAX];
	int pref;
} zdns_mxrec;

typedef struct zdns_mxset {
	zdns_mxrec mx[ZDNS_MX_MAX];   /* real MX records, in answer order */
	int n;
	int nullmx;                /* only null MX records ("MX 0 .") were found */
	char canon[ZDNS_NAME_MAX]; /* end of the CNAME chain (the name itself without one) */
} zdns_mxset;

typedef struct zdns_addrset {
	struct sockaddr_storage sa[ZDNS_ADDR_MAX]; /* A first, then AAAA; port 0 */
	int n;
	char canon[ZDNS_NAME_MAX]; /* end of the CNAME chain, "" when there was none */
	int status4, status6;      /* enum zdns_status of the A and AAAA queries */
} zdns_addrset;

/* zdns_init - one channel; *d NULL on error with err set */
int zdns_init(zdns **d, const zdns_opts *o, zbuf *err);
/* zdns_free - destroy the channel (NULL is fine) */
void zdns_free(zdns *d);

/* zdns_query - one query of any type; the answer is the caller's to free */
int zdns_query(zdns *d, const char *name, int type, zdns_answer *a);
/* zdns_answer_free - release an answer */
void zdns_answer_free(zdns_answer *a);

/* zdns_mx - MX records of domain with the CNAME and null-MX rules; returns
 * ZDNS_OK (out->n > 0 or out->nullmx), ZDNS_NODATA (no MX: out->canon is
 * the name for an implicit MX), ZDNS_NXDOMAIN or a temporary status */
int zdns_mx(zdns *d, const char *domain, zdns_mxset *out);
/* zdns_addrs - A and AAAA of host, both queries in flight together; returns
 * ZDNS_OK when out->n > 0, else NXDOMAIN when both said so, a temporary
 * status when either failed so, else NODATA */
int zdns_addrs(zdns *d, const char *host, zdns_addrset *out);
/* zdns_wks - 1 if host has a WKS record for protocol proto with port set in
 * its bitmap, 0 if not (or no such name), <0 (-enum zdns_status) on trouble */
int zdns_wks(zdns *d, const char *host, int proto, int port);

/* zdns_temp - 1 for a status worth retrying later */
int zdns_temp(int status);
/* zdns_status_text - short English text for a status */
const char *zdns_status_text(int status);
/* zdns_name_eq - names equal ignoring case and one trailing dot */
int zdns_name_eq(const char *a, const char *b);

/* ---- replies in memory (no I/O; hand-written parts kept small) ---- */
/* zdns_msg_header - decode the 12-byte header */
int zdns_msg_header(const unsigned char *buf, int len, zdns_hdr *h);
/* zdns_msg_answers - class-IN records of the answer section into rr[max] */
int zdns_msg_answers(const unsigned char *buf, int len, zdns_rr *rr, int max, int *nrr);
/* zdns_msg_chain - follow CNAMEs from qname through rr[]; names[0] = qname;
 * returns how many names the chain has (0 on a name too long) */
int zdns_msg_chain(const unsigned char *buf, int len, const zdns_rr *rr, int nrr,
		   const char *qname, char names[][ZDNS_NAME_MAX]);
/* zdns_wks_rdata_has - does WKS RDATA list proto/port */
int zdns_wks_rdata_has(const unsigned char *rd, int rdlen, int proto, int port);
/* zdns_parse_mx - MX records of a reply owned by qname or its CNAME chain */
int zdns_parse_mx(const unsigned char *buf, int len, const char *qname, zdns_mxset *out,
		  int *cname_only);
/* zdns_parse_addrs - append the A or AAAA records of a reply to out */
int zdns_parse_addrs(const unsigned char *buf, int len, int type, const char *qname,
		     zdns_addrset *out);

#endif
