/*
 * smtp_conn.h - socket set-up for the smtp agent: forced destinations (-F),
 * local identity (-L), reserved source port (-r), SO_SNDBUF (-w),
 * non-blocking connect with a deadline, UNIX sockets.
 */
#ifndef ZMTA_SMTP_CONN_H
#define ZMTA_SMTP_CONN_H

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "zbuf.h"

enum smtp_dest_kind { SDEST_HOST = 0, SDEST_LITERAL, SDEST_UNIX };

typedef struct smtp_dest {
	enum smtp_dest_kind kind;
	char host[256];                /* SDEST_HOST: name to resolve */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* SDEST_UNIX */
	struct sockaddr_storage sa;    /* SDEST_LITERAL, port set */
	socklen_t salen;
	int port;                      /* explicit ":port", or 0 */
} smtp_dest;

/* smtp_dest_parse - the trusted -F grammar (the operator's command line):
 * "UNIX:/path", "[192.0.2.1]", "[IPv6:2001:db8::1]"
 * (also "[ipv6.…]", "[ipv6 …]"), optional ":port" after ']', or a host name
 * with optional ":port".  Z_OK or Z_EPARSE with text in err. */
int smtp_dest_parse(const char *s, int default_port, smtp_dest *out, zbuf *err);
/* smtp_dest_parse_job - a host from a job line, a control file or the
 * scheduler's argv: only the RFC 5321 host grammar (mhost_parse: a domain
 * or an address literal, no port, no UNIX:).  Z_OK or Z_EPARSE with text. */
int smtp_dest_parse_job(const char *s, int default_port, smtp_dest *out, zbuf *err);

/* smtp_poll_fn - poll(2) with the caller's state in front: the same
 * arguments after arg and the same result (the shape of the session's and
 * DNS's poll hooks, so one function serves all three) */
typedef int (*smtp_poll_fn)(void *arg, struct pollfd *fds, unsigned long nfds, int timeout_ms);

typedef struct smtp_bind {
	const char *localident;  /* -L: "iface:eth0", "[1.2.3.4]", "[IPv6:…]", host name; NULL */
	int reserved_port;       /* -r: bind a port < 1024 (root only) */
	int sndbuf;              /* -w: SO_SNDBUF bytes, 0 = default */
	smtp_poll_fn poll;       /* the wait for the connect; NULL: poll(2) */
	void *poll_arg;          /* its first argument */
} smtp_bind;

/* smtp_connect - non-blocking TCP connect to sa within timeout_ms; returns
 * a connected, non-blocking fd or <0 with "connect to [ip]:port: reason"
 * in err (Z_EAGAIN for temporary failures). */
int smtp_connect(const struct sockaddr *sa, socklen_t salen, const smtp_bind *b,
		 int timeout_ms, zbuf *err);
/* smtp_connect_unix - same for an AF_UNIX stream socket (of b only the
 * poll hook counts; b may be NULL) */
int smtp_connect_unix(const char *path, const smtp_bind *b, int timeout_ms, zbuf *err);
/* smtp_localident - resolve -L for the given family into out (port 0) */
int smtp_localident(const char *ident, int family, struct sockaddr_storage *out,
		    socklen_t *outlen, zbuf *err);
/* smtp_is_self_addr - 1 if sa is an address of one of our interfaces or in
 * selfaddrs ("a,b,c") */
int smtp_is_self_addr(const struct sockaddr *sa, const char *selfaddrs);
/* smtp_addr_loops_back - 1 if sa reaches this host whatever its interfaces:
 * 0.0.0.0/8, 127.0.0.0/8, ::, ::1 and their IPv4-mapped/-compatible forms */
int smtp_addr_loops_back(const struct sockaddr *sa);

/* keepalive (smtp(8), zmta-ta(7)): every wait of the agent goes through
 * smtp_poll() with the agent's smtp_alive, which calls hook at most every
 * ms milliseconds while it waits, so that the scheduler hears from an
 * agent that waits long for a peer.  The state is the caller's (no process
 * globals in the library).  No threads, no signals. */
typedef struct smtp_alive {
	void (*hook)(void *arg);  /* NULL: no keepalive */
	void *arg;                /* hook's argument */
	long ms;                  /* interval; <= 0: no keepalive */
	long long last;           /* monotonic ms of the last call, 0 until the first wait */
} smtp_alive;
/* smtp_alive_tick - call a->hook if a->ms passed since it last ran (a may be NULL) */
void smtp_alive_tick(smtp_alive *a);
/* smtp_poll - an smtp_poll_fn: poll(2) with the keepalive of the
 * smtp_alive alive points to (NULL: plain poll(2)) */
int smtp_poll(void *alive, struct pollfd *fds, unsigned long nfds, int timeout_ms);

#endif
