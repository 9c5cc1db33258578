/*
 * pol_knobs.h - the Plan 9 smtpd knobs of smtpserver that are not in the
 * engine: -k drop-networks, -f tag-outside-local, -r sender-must-resolve,
 * -m deliver-program, -s quarantine-dir, -d transcript-dir; and the
 * network lists (trusted-networks, drop-networks).  See pol_knobs.c.
 */
#ifndef ZMTA_POL_KNOBS_H
#define ZMTA_POL_KNOBS_H

#include <stdio.h>
#include "zbuf.h"
#include "zmsmtpd.h"

#define POL_NETS_MAX 64

/* one network: address and prefix length */
typedef struct pol_net {
	int family;
	unsigned char addr[16];
	int bits;
} pol_net;

typedef struct pol_knobs {
	pol_net drop[POL_NETS_MAX];  /* -k: closed at accept, silently */
	int ndrop;
	int tag_outside_local;       /* -f */
	int sender_resolve;          /* -r */
	char program[1024];          /* -m: "" = the router */
	char quarantine[1024];       /* -s: "" = no copies */
	char transcripts[1024];      /* -d: "" = none */
	const char *dns_servers;     /* DNS_SERVERS (zmta.conf), NULL = system */
	long program_timeout_ms;     /* bound of one -m run */
	long dns_timeout_ms;         /* -r: first try's timeout */
} pol_knobs;

/* a connection's transcript file (-d) */
typedef struct pol_trans pol_trans;

/* pol_net_parse - "10.0.0.0/8", "::1", "127.0.0.1" into n; 0 or -1 */
int pol_net_parse(const char *s, pol_net *n);
/* pol_net_match - ip (text) inside one of nets[0..n); "" or junk: 0 */
int pol_net_match(const pol_net *nets, int n, const char *ip);
/* pol_net_list - blank or ',' separated networks appended to nets
 * (*n of max); Z_OK or Z_EPARSE with the bad word in err */
int pol_net_list(const char *list, pol_net *nets, int *n, int max, zbuf *err);

/* pol_knobs_defaults - everything off */
void pol_knobs_defaults(pol_knobs *k);
/* pol_knobs_conf - one smtpserver.conf line: 1 it was a knob's key, 0 it
 * is not one of ours, -1 bad value (reason in err) */
int pol_knobs_conf(pol_knobs *k, const char *key, const char *val, zbuf *err);
/* pol_knobs_drop - -k: is ip one of the networks to drop */
int pol_knobs_drop(const pol_knobs *k, const char *ip);
/* pol_knobs_sender - -r: does the domain of addr resolve (MX, or A/AAAA);
 * 1 with a reject/defer in v when not, else 0 */
int pol_knobs_sender(const pol_knobs *k, const char *addr, zmsmtpd_verdict *v);
/* pol_knobs_tag - -f: the warning header line (LF-terminated) for a
 * sender claiming one of our domains from outside, appended to hdr */
int pol_knobs_tag(const pol_knobs *k, const char *sender, const char *ip, zbuf *hdr);
/* pol_knobs_program - -m: run the program with the sender and the
 * recipients as arguments, a Received field (of engine d), the header
 * lines in added (then emptied; may be NULL) and msg on its stdin; v is
 * 250 on exit 0, 4xx on a temporary failure, else 5xx (quarantined) */
void pol_knobs_program(const pol_knobs *k, zmsmtpd *d, const zmsmtpd_env *e, zbuf *added,
		       FILE *msg, zmsmtpd_verdict *v);
/* pol_knobs_flag - the smtpserver.conf key of Plan 9 flag opt, its value
 * (arg, or "yes" for a flag without one) in *val; NULL if not a knob */
const char *pol_knobs_flag(int opt, const char *arg, const char **val);
/* pol_knobs_quarantine - -s: keep a copy of a refused message (the
 * refusal why, the envelope, the message) in the quarantine folder */
void pol_knobs_quarantine(const pol_knobs *k, const zmsmtpd_env *e, FILE *msg,
			  const zmsmtpd_verdict *why);
/* pol_trans_open - -d: a transcript file for one connection, or NULL */
pol_trans *pol_trans_open(const pol_knobs *k, const char *ip, int port);
/* pol_trans_write - bytes in (out 0) or out (out 1); AUTH data masked */
void pol_trans_write(pol_trans *t, int out, const char *p, size_t n);
/* pol_trans_close - close and free (NULL is fine) */
void pol_trans_close(pol_trans *t);

#endif
