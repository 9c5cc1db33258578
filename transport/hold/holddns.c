/*
 * NAME
 *	holddns - one blocking c-ares query for the hold agent's NS: class
 *
 * SUMMARY
 *	Asks the configured DNS servers for name/type and says whether the
 *	answer was definite (records, NXDOMAIN, NODATA) or a temporary
 *	failure.  hold re-routes only after a definite answer.
 *
 * SYNOPSIS
 *	#include "holddns.h"
 *
 *	int hold_dns_check(const char *servers, const char *name, int rrtype,
 *		int timeout_ms, zbuf *why);
 *
 * DESCRIPTION
 *	A c-ares channel is made per call (hold asks rarely): with servers
 *	set, resolv.conf servers and search domains are never used
 *	(DNS_SERVERS of zmta.conf, which tests point at their own server).
 *	ares_query() sends the name as is (no search list); the loop waits
 *	with poll(2) on the channel's sockets until the query completes.
 *	The smtp agent's resolver (transport/smtp/smtp_dns.c) answers MX
 *	questions only; this small query is kept here until a shared dns/
 *	layer exists.
 *
 * DIAGNOSTICS
 *	HDNS_* values; Z_EPARSE for a bad DNS_SERVERS value, Z_ERR when
 *	c-ares cannot be set up; a reason in why.
 *
 * SECURITY
 *	The answer's records are not parsed: only c-ares' status is used.
 *	The name was checked against the host grammar by holdcond.
 *
 * BUGS
 *	A truncated UDP answer is retried over TCP by c-ares itself.
 *
 * SEE ALSO
 *	hold(8), ares_query(3)
 */
#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include "holddns.h"

struct qstate {
	int done;
	int status;
};

/* qcb - remember c-ares' verdict */
static void qcb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct qstate *q = arg;
	(void)timeouts; (void)abuf; (void)alen;
	q->status = status;
	q->done = 1;
}

/* wait_done - drive the channel until the query completes */
static void wait_done(ares_channel ch, struct qstate *q)
{
	while (!q->done) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		struct timeval tv, *tvp;
		int bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM), n = 0, ms;

		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;
			/* c-ares' ARES_GETSOCK_WRITABLE shifts a signed 1 by up
			 * to 31: test the bits unsigned instead */
			if (((unsigned)bits >> i) & 1u)
				ev |= POLLIN;
			if (((unsigned)bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u)
				ev |= POLLOUT;
			if (ev) {
				pfd[n].fd = socks[i];
				pfd[n].events = ev;
				pfd[n].revents = 0;
				n++;
			}
		}
		tvp = ares_timeout(ch, NULL, &tv);
		ms = tvp ? (int)(tvp->tv_sec * 1000 + tvp->tv_usec / 1000) + 1 : 1000;
		if (n == 0 && tvp == NULL)
			break;   /* nothing pending: cannot happen before the callback */
		(void)poll(pfd, (nfds_t)n, ms);
		if (n == 0) {
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (int i = 0; i < n; i++)
			ares_process_fd(ch, (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) ? pfd[i].fd : ARES_SOCKET_BAD,
					(pfd[i].revents & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD);
		/* timeouts are handled by a call without ready sockets */
		ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	}
}

/* hold_dns_check - see holddns.h */
int hold_dns_check(const char *servers, const char *name, int rrtype, int timeout_ms, zbuf *why)
{
	static int lib_inited;
	struct ares_options ao;
	struct in_addr placeholder;
	ares_channel ch = NULL;
	struct qstate q = { 0, 0 };
	int mask, rc;

	if (!lib_inited) {
		if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
			zbuf_puts(why, "c-ares library init failed");
			return Z_ERR;
		}
		lib_inited = 1;
	}
	if (servers != NULL && *servers == '\0') {
		zbuf_puts(why, "DNS_SERVERS is empty (leave it unset to use the system resolver configuration)");
		return Z_EPARSE;
	}
	memset(&ao, 0, sizeof(ao));
	ao.timeout = timeout_ms > 0 ? timeout_ms : 5000;
	ao.tries = 2;
	mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
	if (servers != NULL) {
		placeholder.s_addr = htonl(INADDR_LOOPBACK);
		ao.servers = &placeholder;
		ao.nservers = 1;
		ao.ndomains = 0;
		ao.domains = NULL;
		mask |= ARES_OPT_SERVERS | ARES_OPT_DOMAINS;
	}
	rc = ares_init_options(&ch, &ao, mask);
	if (rc != ARES_SUCCESS) {
		zbuf_printf(why, "c-ares channel: %s", ares_strerror(rc));
		return Z_ERR;
	}
	if (servers != NULL) {
		rc = ares_set_servers_ports_csv(ch, servers);
		if (rc != ARES_SUCCESS) {
			zbuf_printf(why, "DNS_SERVERS \"%.100s\": %s", servers, ares_strerror(rc));
			ares_destroy(ch);
			return Z_EPARSE;
		}
	}
	ares_query(ch, name, 1 /* C_IN */, rrtype, qcb, &q);
	wait_done(ch, &q);
	ares_destroy(ch);
	if (!q.done) {
		zbuf_puts(why, "DNS query did not complete");
		return HDNS_TEMPFAIL;
	}
	switch (q.status) {
	case ARES_SUCCESS:
		return HDNS_ANSWER;
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
		zbuf_printf(why, "%s", ares_strerror(q.status));
		return HDNS_NEGATIVE;
	default:
		zbuf_printf(why, "%s", ares_strerror(q.status));
		return HDNS_TEMPFAIL;
	}
}
