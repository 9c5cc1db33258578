/*
 * smtp_mx.h - the smtp agent's delivery policy over the DNS layer (dns/zdns.h).
 *
 * smtp_dns_resolve() turns a destination domain into an ordered list of
 * addresses to try: MX records sorted by preference, equal preferences
 * shuffled, each MX host expanded to its AAAA and A addresses (IPv6 first
 * when prefer_v6), implicit MX (the domain's own A/AAAA) when there is no
 * MX, CNAME followed, our own host and every MX at or after our own
 * preference dropped, null MX (RFC 7505) reported as such.
 *
 * Self detection: an MX is "us" when its name (or the canonical name of its
 * address lookup) equals myhostname, smtp_is_self_addr() accepts one of
 * its addresses, or one of its addresses loops back (0/8, 127/8, ::, ::1,
 * IPv4-mapped forms; smtp_addr_loops_back) -- unless allow_loopback is set
 * or the test address map rewrites that address.  Self detection sees
 * addresses before the test address map is applied.
 *
 * The lookups themselves (c-ares, CNAME chains, null MX) are the DNS layer's
 * (dns/zdns.h, zmta-dns(3)); this is the agent's policy on top of them.
 *
 * addrmap (SMTP_TEST_ADDRMAP, tests only): "FROM=TO[:PORT] ..." separated by
 * spaces or commas; IPv6 TO with a port is written "[addr]:port".
 */
#ifndef ZMTA_SMTP_MX_H
#define ZMTA_SMTP_MX_H

#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include "zbuf.h"

#define SMTP_MX_MAX 128

typedef struct smtp_mxaddr {
	char name[256];               /* MX host name (or the domain for implicit MX) */
	int pref;
	struct sockaddr_storage sa;   /* address with port already set */
	socklen_t salen;
	char ip[64];                  /* printable address */
	int port;
	int dns_family;               /* family as found in DNS (before SMTP_TEST_ADDRMAP) */
} smtp_mxaddr;

typedef struct smtp_mxlist {
	smtp_mxaddr a[SMTP_MX_MAX];
	size_t n;
	char canon[256];              /* canonical name of the domain (after CNAME) */
	int implicit;                 /* 1 if no MX existed */
} smtp_mxlist;

enum smtp_dns_status {
	SDNS_OK = 0,
	SDNS_TEMPFAIL,   /* DNS trouble: deferall */
	SDNS_NXDOMAIN,   /* no such domain: permanent (EX_NOHOST, 5.1.2) */
	SDNS_NULLMX,     /* RFC 7505: permanent, 5.1.10 */
	SDNS_NOADDR,     /* MX/host exists but no address at all: permanent EX_NOHOST */
	SDNS_SELF,       /* we are the best MX: permanent EX_NOHOST */
	SDNS_NOWKS       /* -W and no WKS record lists SMTP: permanent */
};

typedef struct smtp_dns_opts {
	int use_mx;               /* 0 with -x: A/AAAA of the host itself */
	int prefer_v6;            /* -6 */
	int check_wks;            /* -W */
	int port;                 /* destination port (-p, default 25) */
	const char *servers;      /* DNS_SERVERS "127.0.0.1:5353,..." or NULL (system); "" is an error */
	const char *addrmap;      /* SMTP_TEST_ADDRMAP "127.0.0.2=127.0.0.1:2601 ..." or NULL */
	const char *myhostname;   /* our name, for self detection */
	const char *selfaddrs;    /* SELFADDRESSES "a,b" */
	int allow_loopback;       /* SMTP_TEST_ALLOW_LOOPBACK or -F: addresses that
				     loop back (smtp_addr_loops_back) are not self */
	int timeout_ms;           /* per query try (c-ares doubles it per round); <=0: 5000 */
	int tries;                /* <=0: 2, capped at 10 */
	/* every DNS wait (zdns_opts.poll): poll(arg, fds, nfds, ms); NULL: poll(2).
	 * The smtp agent passes smtp_poll and its smtp_alive (keepalive). */
	int (*poll)(void *arg, struct pollfd *fds, unsigned long nfds, int timeout_ms);
	void *poll_arg;
} smtp_dns_opts;

typedef struct smtp_dns smtp_dns;

/* smtp_dns_init - one DNS channel (zdns) for the life of the agent */
int smtp_dns_init(smtp_dns **d, const smtp_dns_opts *o, zbuf *err);
void smtp_dns_free(smtp_dns *d);
/* smtp_dns_resolve - returns an smtp_dns_status; why gets a human reason
 * ("MX lookup for example.org: server failure") on anything but SDNS_OK */
int smtp_dns_resolve(smtp_dns *d, const char *domain, smtp_mxlist *out, zbuf *why);
/* smtp_dns_host_addrs - A/AAAA of one host name (no MX), for -x and -F host */
int smtp_dns_host_addrs(smtp_dns *d, const char *host, smtp_mxlist *out, zbuf *why);
/* smtp_dns_has_mx - 1 if domain has an MX record naming mxhost (for -e),
 * 0 if not, <0 on DNS trouble */
int smtp_dns_has_mx(smtp_dns *d, const char *domain, const char *mxhost);
/* smtp_mxlist_cap - keep the first max entries (max 0: no limit); returns
 * how many were dropped */
size_t smtp_mxlist_cap(smtp_mxlist *l, size_t max);
/* smtp_addrmap_apply - rewrite sa per the test address map (no-op if none);
 * 1 if an entry matched, else 0 */
int smtp_addrmap_apply(const smtp_dns_opts *o, struct sockaddr_storage *sa, socklen_t *salen, int *port);

#endif
