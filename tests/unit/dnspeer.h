/*
 * NAME
 *	dnspeer.h - the test DNS servers of the unit tests (nsd, dns-faulty.py)
 * SUMMARY
 *	setup_servers() starts nsd serving tests/peers/mta.test.zone
 *	and dns-faulty.py (python3-dnslib: SERVFAIL, REFUSED, timeouts, TC)
 *	on free 127.0.0.1 ports; nsd_servers and faulty_servers then hold
 *	"127.0.0.1:PORT" for a DNS_SERVERS-style list (faulty_servers is
 *	empty when python3-dnslib is missing).  teardown_servers() stops
 *	both by PID and removes the scratch directory.
 * DESCRIPTION
 *	Shared by check_dns.c (the DNS layer) and check_smtp_mx.c (the
 *	agent's MX policy).  The including file sets dnspeer_name (used in
 *	the scratch directory name) before setup_servers() runs.
 * DIAGNOSTICS
 *	setup_servers aborts the test case when nsd does not start.
 * SECURITY
 *	Starts only its own servers on 127.0.0.1 and stops them by PID; the
 *	children die with the test (PR_SET_PDEATHSIG).
 * BUGS
 *	nsd is expected at /usr/sbin/nsd.
 * SEE ALSO
 *	start_nsd in tests/integration/testlib.sh, nsd(8)
 */
#ifndef ZMTA_TESTS_DNSPEER_H
#define ZMTA_TESTS_DNSPEER_H

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *dnspeer_name = "check_dns";
#ifndef DNS_TESTDIR
#define DNS_TESTDIR "tests/peers"
#endif

static const char *NSD = "/usr/sbin/nsd";
static char tmpdir[128];
static pid_t nsd_pid = -1, faulty_pid = -1;
static char nsd_servers[64], faulty_servers[64];

/* free_port - a port free for both UDP and TCP on 127.0.0.1 right now */
static int free_port(void)
{
	int tries;

	for (tries = 0; tries < 50; tries++) {
		struct sockaddr_in sin;
		socklen_t sl = sizeof sin;
		int u = socket(AF_INET, SOCK_DGRAM, 0), t, port, ok;

		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (u < 0 || bind(u, (struct sockaddr *)&sin, sizeof sin) != 0 ||
		    getsockname(u, (struct sockaddr *)&sin, &sl) != 0) {
			if (u >= 0)
				close(u);
			continue;
		}
		port = ntohs(sin.sin_port);
		t = socket(AF_INET, SOCK_STREAM, 0);
		ok = t >= 0 && bind(t, (struct sockaddr *)&sin, sizeof sin) == 0;
		close(u);
		if (t >= 0)
			close(t);
		if (ok)
			return port;
	}
	return -1;
}

/* spawn - fork/exec argv with stdout to outfile; child dies with us */
static pid_t spawn(char *const argv[], const char *outfile)
{
	pid_t parent = getpid();
	pid_t p = fork();

	if (p == 0) {
		int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return p;
}

/* file_has - does the file contain text */
static int file_has(const char *path, const char *text)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

/* stop - terminate one child we started and reap it */
static void stop(pid_t *pid)
{
	int i;

	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (i = 0; i < 100; i++) {
		if (waitpid(*pid, NULL, WNOHANG) == *pid)
			break;
		usleep(20000);
	}
	if (i == 100) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

/* sleep_ms - short pause */
static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* start_nsd - nsd -d on a free port with our zone; 0 on success */
static int start_nsd(void)
{
	char conf[256], log[256], zone[256], cmd[512], out[256];
	int attempt;

	snprintf(zone, sizeof zone, "%s/mta.test.zone", tmpdir);
	snprintf(cmd, sizeof cmd, "cp '%s/mta.test.zone' '%s'", DNS_TESTDIR, zone);
	if (system(cmd) != 0)
		return -1;
	snprintf(conf, sizeof conf, "%s/nsd.conf", tmpdir);
	snprintf(log, sizeof log, "%s/nsd.log", tmpdir);
	snprintf(out, sizeof out, "%s/nsd.out", tmpdir);
	for (attempt = 0; attempt < 5; attempt++) {
		int port = free_port(), i;
		FILE *f = fopen(conf, "w");
		char *argv[] = { (char *)NSD, (char *)"-d", (char *)"-c", conf, NULL };

		if (f == NULL || port < 0)
			return -1;
		fprintf(f, "server:\n  ip-address: 127.0.0.1@%d\n  do-ip6: no\n"
			"  username: \"\"\n  chroot: \"\"\n  zonesdir: \"%s\"\n  database: \"\"\n"
			"  zonelistfile: \"%s/zone.list\"\n  xfrdfile: \"%s/xfrd.state\"\n"
			"  xfrdir: \"%s\"\n  pidfile: \"%s/nsd.pid\"\n  logfile: \"%s\"\n"
			"  server-count: 1\n  verbosity: 1\n  hide-version: yes\n"
			"remote-control:\n  control-enable: no\n"
			"zone:\n  name: \"mta.test\"\n  zonefile: \"mta.test.zone\"\n",
			port, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, log);
		fclose(f);
		unlink(log);
		nsd_pid = spawn(argv, out);
		for (i = 0; i < 200; i++) {
			if (waitpid(nsd_pid, NULL, WNOHANG) == nsd_pid) {
				nsd_pid = -1;
				break;
			}
			if (file_has(log, "nsd started")) {
				snprintf(nsd_servers, sizeof nsd_servers, "127.0.0.1:%d", port);
				return 0;
			}
			sleep_ms(25);
		}
		stop(&nsd_pid);
	}
	return -1;
}

/* start_faulty - dns-faulty.py on a free port; 0 on success */
static int start_faulty(void)
{
	char out[256], script[256];
	const char *py = getenv("SYS_PYTHON3");
	int i;

	if (py == NULL || *py == '\0')
		py = "/usr/bin/python3";
	snprintf(script, sizeof script, "%s/dns-faulty.py", DNS_TESTDIR);
	snprintf(out, sizeof out, "%s/faulty.out", tmpdir);
	{
		char *argv[] = { (char *)py, script, (char *)"--port", (char *)"0",
				 (char *)"--delay", (char *)"3", NULL };
		faulty_pid = spawn(argv, out);
	}
	for (i = 0; i < 400; i++) {
		char buf[256];
		int fd, port;
		ssize_t n;
		const char *p;

		if (waitpid(faulty_pid, NULL, WNOHANG) == faulty_pid) {
			faulty_pid = -1;
			return -1;
		}
		fd = open(out, O_RDONLY);
		if (fd >= 0) {
			n = read(fd, buf, sizeof buf - 1);
			close(fd);
			if (n > 0) {
				buf[n] = '\0';
				p = strstr(buf, " port ");
				if (p != NULL && sscanf(p, " port %d", &port) == 1 && strchr(p, '\n')) {
					snprintf(faulty_servers, sizeof faulty_servers, "127.0.0.1:%d", port);
					return 0;
				}
			}
		}
		sleep_ms(25);
	}
	stop(&faulty_pid);
	return -1;
}

static void setup_servers(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/%s.XXXXXX", dnspeer_name);
	if (mkdtemp(tmpdir) == NULL)
		ck_abort_msg("mkdtemp: %s", strerror(errno));
	if (start_nsd() != 0)
		ck_abort_msg("could not start nsd (see %s)", tmpdir);
	if (start_faulty() != 0)
		faulty_servers[0] = '\0'; /* those tests skip themselves */
}

static void teardown_servers(void)
{
	char cmd[256];

	stop(&nsd_pid);
	stop(&faulty_pid);
	if (tmpdir[0] != '\0') {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
		tmpdir[0] = '\0';
	}
}

#endif
