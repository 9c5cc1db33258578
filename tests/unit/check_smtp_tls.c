/*
 * NAME
 *	check_smtp_tls - unit tests of the smtp/ layer's TLS, both sides
 * SUMMARY
 *	A self-signed certificate is made in the scratch directory; a
 *	server context is built from it, and smtp_tls_accept() (server) and
 *	smtp_tls_start() (client, mode may and mode verify) shake hands over
 *	a socketpair, the client in a child process.  Bad files are refused.
 * SECURITY
 *	Test code; the key is made for the run and removed with the scratch
 *	directory.
 * SEE ALSO
 *	smtp/smtp_tls.c
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include "smtp_tls.h"
#include "zerr.h"
#include "scratch.h"

static char certpath[512], keypath[512];

/* make_cert - a self-signed certificate for CN=mx.example into the scratch dir */
static void make_cert(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *nm;
	FILE *f;

	ck_assert_ptr_nonnull(k);
	ck_assert_ptr_nonnull(x);
	snprintf(certpath, sizeof(certpath), "%s/cert.pem", scratch_dir);
	snprintf(keypath, sizeof(keypath), "%s/key.pem", scratch_dir);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"mx.example",
				   -1, -1, 0);
	X509_set_issuer_name(x, nm);
	ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
	f = fopen(certpath, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_X509(f, x), 1);
	fclose(f);
	f = fopen(keypath, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* client - the child: STARTTLS client side with the given smtp-tls.conf
 * text; exit 0 when the handshake gave the expected result (expect_ok)
 * and verification state */
static int client(int fd, const char *conf, int expect_ok, int expect_tls)
{
	smtp_tls_conf tc;
	smtp_session ss;
	zbuf info = ZBUF_INIT(512), err = ZBUF_INIT(512);
	int rc;

	memset(&tc, 0, sizeof(tc));
	if (smtp_tls_parse("t.conf", conf, strlen(conf), &tc, &err) != Z_OK)
		return 2;
	{
		/* build the context as smtp_tls_load does, from the text */
		char path[600];
		FILE *f;
		snprintf(path, sizeof(path), "%s/tls-%d.conf", scratch_dir, (int)getpid());
		f = fopen(path, "w");
		if (f == NULL)
			return 3;
		fputs(conf, f);
		fclose(f);
		memset(&tc, 0, sizeof(tc));
		if (smtp_tls_load(path, &tc, &err) != Z_OK)
			return 4;
	}
	smtp_session_init(&ss, NULL);
	smtp_session_attach(&ss, fd);
	rc = smtp_tls_start(&tc, &ss, "mx.example", "example", 5000, &info, &err);
	if ((rc == Z_OK) != expect_ok)
		return 5;
	if (rc == Z_OK && ss.tls != expect_tls)
		return 6;
	smtp_session_free(&ss);
	smtp_tls_free(&tc);
	return 0;
}

/* run - handshake with a forked client; its exit status */
static int run(void *sctx, const char *conf, int expect_ok, int expect_tls, int *server_rc)
{
	int sv[2], st = -1;
	pid_t pid;
	smtp_session ss;
	zbuf info = ZBUF_INIT(512), err = ZBUF_INIT(512);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		fcntl(sv[1], F_SETFL, O_NONBLOCK);
		_exit(client(sv[1], conf, expect_ok, expect_tls));
	}
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	smtp_session_init(&ss, NULL);
	smtp_session_attach(&ss, sv[0]);
	*server_rc = smtp_tls_accept(sctx, &ss, 5000, &info, &err);
	if (*server_rc == Z_OK) {
		ck_assert_int_eq(ss.tls, STLS_UNVERIFIED);
		ck_assert_ptr_nonnull(strstr(zbuf_cstr(&info), "TLS"));
	}
	smtp_session_free(&ss);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	zbuf_free(&info);
	zbuf_free(&err);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

START_TEST(test_handshake)
{
	void *sctx = NULL;
	zbuf err = ZBUF_INIT(512);
	char conf[1200];
	int src;

	make_cert();
	ck_assert_int_eq(smtp_tls_server_ctx(certpath, keypath, &sctx, &err), Z_OK);
	/* may: handshake, certificate not verified (self-signed) */
	ck_assert_int_eq(run(sctx, "tls-verify may\n", 1, STLS_UNVERIFIED, &src), 0);
	ck_assert_int_eq(src, Z_OK);
	/* verify with the certificate as CA and the right name: verified */
	snprintf(conf, sizeof(conf), "tls-verify verify\ntls-CAfile %s\n", certpath);
	ck_assert_int_eq(run(sctx, conf, 1, STLS_VERIFIED, &src), 0);
	/* secure: the next hop "example" or a name below it matches */
	snprintf(conf, sizeof(conf), "tls-verify secure\ntls-CAfile %s\n", certpath);
	ck_assert_int_eq(run(sctx, conf, 1, STLS_VERIFIED, &src), 0);
	/* secure with another required name: refused */
	snprintf(conf, sizeof(conf), "tls-verify secure\ntls-CAfile %s\n"
		 "tls-secure-match other.example\n", certpath);
	ck_assert_int_eq(run(sctx, conf, 0, 0, &src), 0);
	smtp_tls_ctx_free(sctx);
	zbuf_free(&err);
}
END_TEST

START_TEST(test_server_ctx_errors)
{
	void *sctx = NULL;
	zbuf err = ZBUF_INIT(512);
	char missing[600];

	snprintf(missing, sizeof(missing), "%s/none.pem", scratch_dir);
	ck_assert_int_eq(smtp_tls_server_ctx(missing, missing, &sctx, &err), Z_ERR);
	ck_assert_ptr_null(sctx);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "none.pem"));
	zbuf_free(&err);
}
END_TEST

/* data pipelined behind STARTTLS is refused before any handshake */
START_TEST(test_accept_injection)
{
	smtp_session ss;
	zbuf info = ZBUF_INIT(64), err = ZBUF_INIT(256);

	smtp_session_init(&ss, NULL);
	ck_assert_int_eq(zbuf_puts(&ss.rbuf, "MAIL FROM:<x>\r\n"), Z_OK);
	ck_assert_int_eq(smtp_tls_accept(NULL, &ss, 1000, &info, &err), Z_ERR);
	ck_assert_ptr_nonnull(strstr(zbuf_cstr(&err), "injection"));
	smtp_session_free(&ss);
	zbuf_free(&info);
	zbuf_free(&err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("smtp_tls");
	TCase *tc = tcase_create("core");

	signal(SIGPIPE, SIG_IGN);     /* a client that gives up closes: EPIPE, as in the agent */
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_handshake);
	tcase_add_test(tc, test_server_ctx_errors);
	tcase_add_test(tc, test_accept_injection);
	suite_add_tcase(s, tc);
	return scratch_run(s, "check_smtp_tls");
}
