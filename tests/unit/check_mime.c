/*
 * NAME
 *	check_mime - unit tests for transport/libta/mime*.c (the MIME converter)
 * SUMMARY
 *	Tables for the QP encoder/decoder, wire form, RFC 2047 header
 *	encoding, and the mime_analyse/mime_send decision table using
 *	temporary files as the body.
 * SYNOPSIS
 *	check_mime (run by make check)
 * DESCRIPTION
 *	Each table row is one case; the QP round trip also runs through
 *	python3's quopri when /usr/bin/python3 exists.
 * DIAGNOSTICS
 *	libcheck's report; exit status 0 only when every case passes.
 * SECURITY
 *	Creates temporary files under $TMPDIR (or /tmp) and removes them.
 * BUGS
 *	None known.
 * SEE ALSO
 *	transport/libta/mime.c, tests/fuzz/fuzz_mime.c
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mime.h"
#include "zbuf.h"

/* ---------- helpers ---------- */

/* tmp_template - "$TMPDIR/<stem>XXXXXX" (or /tmp) for mkstemp */
static void tmp_template(char *buf, size_t bufsz, const char *stem)
{
	const char *t = getenv("TMPDIR");
	int n = snprintf(buf, bufsz, "%s/%sXXXXXX", t && *t ? t : "/tmp", stem);

	ck_assert(n > 0 && (size_t)n < bufsz);
}

/* tmp_body - temp file with 7 junk bytes, then body; returns fd */
static int tmp_body(const char *body, size_t n)
{
	char path[512];
	int fd;

	tmp_template(path, sizeof(path), "check_mime");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(write(fd, "JUNK12\n", 7), 7);
	if (n)
		ck_assert_int_eq(write(fd, body, n), (ssize_t)n);
	ck_assert_int_eq(write(fd, "TRAILER", 7), 7);
	return fd;
}

/* sink - mime_out_fn appending to a zbuf */
static int sink(void *arg, const char *p, size_t n)
{
	return zbuf_append(arg, p, n) == Z_OK ? 0 : -1;
}

struct run {
	mime_result res;
	zbuf out;
};

/* run_msg - analyse and (unless refused) send a message */
static void run_msg(const char *hdrs, const char *body, const mime_opts *o, struct run *r)
{
	size_t bl = strlen(body);
	int fd = tmp_body(body, bl);
	zbuf_init(&r->out, 1u << 24);
	ck_assert_int_eq(mime_analyse(hdrs, strlen(hdrs), fd, 7, (off_t)bl, o, &r->res), Z_OK);
	if (r->res.cvt != MIME_REFUSE) {
		ck_assert_int_eq(mime_send(hdrs, strlen(hdrs), fd, 7, (off_t)bl, o, &r->res, sink,
					   &r->out), Z_OK);
		ck_assert_uint_eq(r->res.bytes_out, r->out.len);
	}
	close(fd);
}

/* has - does the output contain s */
static int has(const zbuf *b, const char *s)
{
	return b->len && memmem(b->data, b->len, s, strlen(s)) != NULL;
}

/* body_of - output after the first empty line */
static const char *body_of(const zbuf *b)
{
	const char *s = strstr(zbuf_cstr(b), "\r\n\r\n");
	ck_assert_ptr_nonnull(s);
	return s + 4;
}

static const mime_opts o7 = { 0, 0, 0, 1, "UTF-8" };
static const mime_opts o8 = { 1, 0, 0, 1, "UTF-8" };
static const mime_opts o8d = { 1, 1, 0, 1, "UTF-8" };

/* ---------- QP encoder ---------- */

static const struct {
	const char *in, *out;
} qpe_tab[] = {
	{ "hello\n", "hello\n" },
	{ "", "" },
	{ "a=b\n", "a=3Db\n" },
	{ "trail \n", "trail=20\n" },
	{ "tab\t\n", "tab=09\n" },
	{ "two  \nx", "two =20\nx" },
	{ "end ", "end=20" },
	{ "x\ty z\n", "x\ty z\n" },
	{ "caf\xc3\xa9 cr\xc3\xa8me\n", "caf=C3=A9 cr=C3=A8me\n" },
	{ "From me\n", "=46rom me\n" },
	{ "a\nFrom b\n", "a\n=46rom b\n" },
	{ ".\n", "=2E\n" },
	{ "a.b\n", "a.b\n" },
	{ "\x01\x7f\xff\r\n", "=01=7F=FF=0D\n" },
	{ "~!\n", "~!\n" },
};

START_TEST(test_qp_encode_table)
{
	zbuf b = ZBUF_INIT(4096);
	ck_assert_int_eq(mime_qp_encode(qpe_tab[_i].in, strlen(qpe_tab[_i].in), &b), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), qpe_tab[_i].out);
	zbuf_free(&b);
}
END_TEST

/* qp_shape_bad - why a QP text is malformed, or NULL: lines <= 76, no
 * trailing white space, only printable ASCII, escapes valid */
static const char *qp_shape_bad(const zbuf *b)
{
	size_t col = 0;
	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];
		if (c == '\n') {
			if (i > 0 && (b->data[i - 1] == ' ' || b->data[i - 1] == '\t'))
				return "trailing white space";
			col = 0;
			continue;
		}
		if ((c < 32 && c != '\t') || c >= 127)
			return "unencoded byte";
		if (++col > 76)
			return "line longer than 76";
		if (c == '=' && (i + 1 >= b->len || b->data[i + 1] != '\n')) {
			if (i + 2 >= b->len || !strchr("0123456789ABCDEF", b->data[i + 1]) ||
			    !strchr("0123456789ABCDEF", b->data[i + 2]))
				return "bad escape";
		}
	}
	return NULL;
}

/* check_qp_shape - assert the QP text is well-formed */
static void check_qp_shape(const zbuf *b)
{
	const char *why = qp_shape_bad(b);
	ck_assert_msg(why == NULL, "QP output: %s", why ? why : "");
}

/* a malformed QP text is caught (the checker can fail) */
START_TEST(test_qp_shape_checker)
{
	zbuf b = ZBUF_INIT(256);
	zbuf_puts(&b, "x \n");
	ck_assert_ptr_nonnull(qp_shape_bad(&b));
	zbuf_set(&b, "=4g\n", 4);
	ck_assert_ptr_nonnull(qp_shape_bad(&b));
	zbuf_set(&b, "=\n", 2);
	ck_assert_ptr_null(qp_shape_bad(&b));
	zbuf_free(&b);
}
END_TEST

START_TEST(test_qp_encode_long)
{
	char in[302];
	zbuf b = ZBUF_INIT(4096);
	memset(in, 'a', 300);
	in[300] = '\n';
	ck_assert_int_eq(mime_qp_encode(in, 301, &b), Z_OK);
	check_qp_shape(&b);
	/* 75 + 75 + 75 + 75 = 300 */
	ck_assert_uint_eq(b.len, 300 + 3 * 2 + 1);
	ck_assert_int_eq(memcmp(b.data + 75, "=\n", 2), 0);
	/* encoded bytes are never split */
	zbuf_reset(&b);
	memset(in, '\xe9', 300);
	ck_assert_int_eq(mime_qp_encode(in, 301, &b), Z_OK);
	check_qp_shape(&b);
	ck_assert_int_eq(memcmp(b.data, "=E9", 3), 0);
	ck_assert_int_eq(memcmp(b.data + 75, "=\n", 2), 0);
	/* '.' or 'F' landing at column 0 after a soft break is encoded */
	zbuf_reset(&b);
	memset(in, 'x', 75);
	in[75] = '.';
	in[76] = '\n';
	ck_assert_int_eq(mime_qp_encode(in, 77, &b), Z_OK);
	ck_assert_int_eq(memcmp(b.data + 75, "=\n=2E\n", 6), 0);
	zbuf_free(&b);
}
END_TEST

START_TEST(test_qp_roundtrip_random)
{
	zbuf e = ZBUF_INIT(1u << 20), d = ZBUF_INIT(1u << 20);
	char in[2000];
	srand(4711);
	for (int iter = 0; iter < 300; iter++) {
		size_t n = (size_t)(rand() % (int)sizeof(in));
		for (size_t i = 0; i < n; i++) {
			int k = rand() % 10;
			in[i] = k == 0 ? '\n' : k == 1 ? ' ' : k == 2 ? '=' : (char)(rand() & 0xff);
		}
		zbuf_reset(&e);
		zbuf_reset(&d);
		if (mime_qp_encode(in, n, &e) != Z_OK ||
		    mime_qp_decode(e.data ? e.data : "", e.len, &d) != Z_OK)
			ck_abort_msg("encode/decode failed");
		if (qp_shape_bad(&e) != NULL)
			ck_abort_msg("iteration %d: %s", iter, qp_shape_bad(&e));
		if (d.len != n || (n && memcmp(d.data, in, n) != 0))
			ck_abort_msg("round trip differs at iteration %d", iter);
	}
	zbuf_free(&e);
	zbuf_free(&d);
}
END_TEST

/* python3 quopri decodes our output to the input (skipped without python) */
START_TEST(test_qp_python)
{
	const char *py = "/usr/bin/python3";
	if (access(py, X_OK) != 0)
		return;
	char in[600];
	size_t n = 0;
	srand(99);
	for (int l = 0; l < 8; l++) {
		int len = rand() % 70;
		for (int i = 0; i < len; i++)
			in[n++] = (char)(rand() % 3 == 0 ? 0x80 + rand() % 128 : 32 + rand() % 95);
		in[n++] = '\n';
	}
	zbuf e = ZBUF_INIT(1u << 16);
	ck_assert_int_eq(mime_qp_encode(in, n, &e), Z_OK);
	char ef[512];
	tmp_template(ef, sizeof(ef), "check_mime_py");
	int fd = mkstemp(ef);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, e.data, e.len), (ssize_t)e.len);
	close(fd);
	char cmd[1024];
	ck_assert_int_lt(snprintf(cmd, sizeof(cmd),
		"%s -c 'import quopri,sys; sys.stdout.buffer.write(quopri.decodestring(open(\"%s\",\"rb\").read()))'",
		py, ef), (int)sizeof(cmd));
	FILE *f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	char got[1200];
	size_t gl = fread(got, 1, sizeof(got), f);
	pclose(f);
	unlink(ef);
	ck_assert_uint_eq(gl, n);
	ck_assert_int_eq(memcmp(got, in, n), 0);
	zbuf_free(&e);
}
END_TEST

/* ---------- QP decoder ---------- */

static const struct {
	const char *in, *out;
} qpd_tab[] = {
	{ "a=3Db", "a=b" },
	{ "caf=c3=A9", "caf\xc3\xa9" },
	{ "soft=\nbreak\n", "softbreak\n" },
	{ "soft=\r\nbreak", "softbreak" },
	{ "pad=  \t\nx", "padx" },
	{ "bad=ZZ", "bad=ZZ" },
	{ "bad=4", "bad=4" },
	{ "x=4G", "x=4G" },
	{ "==41", "=A" },
	{ "end=", "end=" },
	{ "a= b", "a= b" },
	{ "=\r", "=\r" },
	{ "plain text\n", "plain text\n" },
};

START_TEST(test_qp_decode_table)
{
	zbuf b = ZBUF_INIT(4096);
	ck_assert_int_eq(mime_qp_decode(qpd_tab[_i].in, strlen(qpd_tab[_i].in), &b), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), qpd_tab[_i].out);
	zbuf_free(&b);
}
END_TEST

/* ---------- wire ---------- */

static const struct {
	const char *in;
	int dot;
	const char *out;
	int bol_after;
} wire_tab[] = {
	{ "a\nb\n", 1, "a\r\nb\r\n", 1 },
	{ ".x\n.\n", 1, "..x\r\n..\r\n", 1 },
	{ ".x\n", 0, ".x\r\n", 1 },
	{ "a.b\n", 1, "a.b\r\n", 1 },
	{ "a\r\nb", 1, "a\r\nb", 0 },
	{ "a\rb", 1, "a\r\nb", 0 },
	{ "a\r\r\n", 1, "a\r\n\r\n", 1 },
	{ "\n.", 1, "\r\n..", 0 },
	{ "abc", 1, "abc", 0 },
};

START_TEST(test_wire_table)
{
	zbuf b = ZBUF_INIT(4096);
	int bol = 1;
	ck_assert_int_eq(mime_wire(wire_tab[_i].in, strlen(wire_tab[_i].in), wire_tab[_i].dot, &bol,
				   &b), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), wire_tab[_i].out);
	ck_assert_int_eq(bol != 0, wire_tab[_i].bol_after);
	zbuf_free(&b);
}
END_TEST

START_TEST(test_wire_split)
{
	zbuf b = ZBUF_INIT(4096);
	int bol = 1;
	/* CR and LF in different calls stay one CRLF; dot state carries */
	ck_assert_int_eq(mime_wire("a\r", 2, 1, &bol, &b), Z_OK);
	ck_assert_int_eq(mime_wire("\n.b\n", 4, 1, &bol, &b), Z_OK);
	ck_assert_int_eq(mime_wire("x\n", 2, 1, &bol, &b), Z_OK);
	ck_assert_int_eq(mime_wire(".", 1, 1, &bol, &b), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "a\r\n..b\r\nx\r\n..");
	zbuf_free(&b);
}
END_TEST

/* ref_wire - the byte-at-a-time rule mime_wire implements (for the
 * word-at-a-time scan: long inputs, CR/LF at every position) */
static void ref_wire(const char *p, size_t n, int dot, int *bol, zbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '\n') {
			if (*bol != 2)
				zbuf_append(out, "\r\n", 2);
			*bol = 1;
		} else if (c == '\r') {
			zbuf_append(out, "\r\n", 2);
			*bol = 2;
		} else {
			if (*bol && dot && c == '.')
				zbuf_putc(out, '.');
			*bol = 0;
			zbuf_putc(out, c);
		}
	}
}

START_TEST(test_wire_long)
{
	static const char alpha[] = "ab.\r\n\x80\x0a\x0d\x8d\x8a";
	unsigned seed = 12345;
	for (int t = 0; t < 3000; t++) {
		char in[80];
		size_t n = (size_t)(t % 80);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			/* mostly plain bytes, so that runs cross 8-byte words */
			in[i] = (seed >> 16) % 4 ? 'x' : alpha[(seed >> 8) % (sizeof(alpha) - 1)];
		}
		zbuf a = ZBUF_INIT(4096), b = ZBUF_INIT(4096);
		int bol_a = t % 3, bol_b = t % 3;
		ck_assert_int_eq(mime_wire(in, n, t & 1, &bol_a, &a), Z_OK);
		ref_wire(in, n, t & 1, &bol_b, &b);
		ck_assert_uint_eq(a.len, b.len);
		ck_assert(a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
		ck_assert_int_eq(bol_a, bol_b);
		zbuf_free(&a);
		zbuf_free(&b);
	}
}
END_TEST

/* mime_has8 sees a high byte at every position of a long buffer */
START_TEST(test_has8_positions)
{
	char buf[41];
	memset(buf, 'a', sizeof(buf));
	ck_assert_int_eq(mime_has8(buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] = (char)0x80;
		ck_assert_int_eq(mime_has8(buf, sizeof(buf)), 1);
		ck_assert_int_eq(mime_has8(buf, i), 0);
		buf[i] = (char)0xff;
		ck_assert_int_eq(mime_has8(buf + i, sizeof(buf) - i), 1);
		buf[i] = 'a';
	}
}
END_TEST

START_TEST(test_send_final_newline)
{
	struct run r;
	run_msg("Subject: x\n\n", "abc", &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_NONE);
	ck_assert_str_eq(zbuf_cstr(&r.out), "Subject: x\r\n\r\nabc\r\n");
	zbuf_free(&r.out);
	run_msg("Subject: x\n\n", ".dot\nend\n", &o7, &r);
	ck_assert_str_eq(zbuf_cstr(&r.out), "Subject: x\r\n\r\n..dot\r\nend\r\n");
	zbuf_free(&r.out);
	mime_opts bdat = o7;
	bdat.dotstuff = 0;
	run_msg("Subject: x\n\n", ".dot\r\nend\r\n", &bdat, &r);
	ck_assert_str_eq(zbuf_cstr(&r.out), "Subject: x\r\n\r\n.dot\r\nend\r\n");
	zbuf_free(&r.out);
	run_msg("Subject: x\n\n", "", &o7, &r);
	ck_assert_str_eq(zbuf_cstr(&r.out), "Subject: x\r\n\r\n");
	zbuf_free(&r.out);
}
END_TEST

/* ---------- decision table ---------- */

#define MV "MIME-Version: 1.0\n"
#define TP8 MV "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n"
#define CAFE "caf\xc3\xa9 cr\xc3\xa8me\n"

START_TEST(test_plain_ascii)
{
	struct run r;
	run_msg("From: a@b\nSubject: hi\n\n", "hello\n", &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_NONE);
	ck_assert_int_eq(r.res.body_8bit, 0);
	ck_assert_int_eq(r.res.hdrs_8bit, 0);
	ck_assert_int_eq(r.res.send_8bitmime, 0);
	ck_assert_str_eq(zbuf_cstr(&r.out), "From: a@b\r\nSubject: hi\r\n\r\nhello\r\n");
	zbuf_free(&r.out);
}
END_TEST

START_TEST(test_8bit_text_to_7bit)
{
	struct run r;
	run_msg("From: a@b\n" TP8 "\n", CAFE, &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_QP);
	ck_assert_int_eq(r.res.body_8bit, 1);
	ck_assert_int_eq(r.res.send_8bitmime, 0);
	ck_assert_str_eq(body_of(&r.out), "caf=C3=A9 cr=C3=A8me\r\n");
	ck_assert(has(&r.out, "Content-Transfer-Encoding: quoted-printable\r\n"));
	ck_assert(!has(&r.out, "8bit"));
	ck_assert(has(&r.out, "Content-Type: text/plain; charset=utf-8\r\n"));
	zbuf_free(&r.out);
	/* folded, quoted, mixed-case Content-Type with no C-T-E */
	run_msg(MV "content-type: TEXT/Plain;\n\tcharset=\"UTF-8\"\n\n", CAFE, &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_QP);
	ck_assert_str_eq(body_of(&r.out), "caf=C3=A9 cr=C3=A8me\r\n");
	ck_assert(has(&r.out, "Content-Transfer-Encoding: quoted-printable\r\n"));
	zbuf_free(&r.out);
}
END_TEST

START_TEST(test_8bit_text_to_8bit_peer)
{
	struct run r;
	run_msg("From: a@b\n" TP8 "\n", CAFE, &o8, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_NONE);
	ck_assert_int_eq(r.res.send_8bitmime, 1);
	ck_assert_str_eq(body_of(&r.out), "caf\xc3\xa9 cr\xc3\xa8me\r\n");
	zbuf_free(&r.out);
}
END_TEST

#define MPHDR MV "Content-Type: multipart/alternative; boundary=\"=-b1\"\n"
#define MPBODY \
	"preamble\n" \
	"--=-b1\n" \
	"Content-Type: text/plain; charset=us-ascii\n" \
	"\n" \
	"plain ascii\n" \
	"--=-b1\n" \
	"Content-Type: text/html; charset=utf-8\n" \
	"Content-Transfer-Encoding: 8bit\n" \
	"\n" \
	"<p>" CAFE \
	"--=-b1--\n" \
	"epilogue\n"

START_TEST(test_multipart_mpqp)
{
	struct run r;
	run_msg("From: a@b\n" MPHDR "\n", MPBODY, &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_MPQP);
	ck_assert_str_eq(body_of(&r.out),
			 "preamble\r\n"
			 "--=-b1\r\n"
			 "Content-Type: text/plain; charset=us-ascii\r\n"
			 "\r\n"
			 "plain ascii\r\n"
			 "--=-b1\r\n"
			 "Content-Type: text/html; charset=utf-8\r\n"
			 "Content-Transfer-Encoding: quoted-printable\r\n"
			 "\r\n"
			 "<p>caf=C3=A9 cr=C3=A8me\r\n"
			 "--=-b1--\r\n"
			 "epilogue\r\n");
	ck_assert(has(&r.out, "boundary=\"=-b1\"\r\n"));
	zbuf_free(&r.out);
	/* to an 8-bit peer: untouched */
	run_msg("From: a@b\n" MPHDR "\n", MPBODY, &o8, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_NONE);
	ck_assert_int_eq(r.res.send_8bitmime, 1);
	zbuf_free(&r.out);
}
END_TEST

START_TEST(test_multipart_nested)
{
	struct run r;
	const char *body =
		"--outer\n"
		"Content-Type: multipart/alternative; boundary=inner\n"
		"\n"
		"--inner\n"
		"Content-Type: text/plain\n"
		"\n"
		"na\xc3\xafve\n"
		"--inner--\n"
		"--outer\n"
		"Content-Type: application/pdf\n"
		"Content-Transfer-Encoding: base64\n"
		"\n"
		"QUJD\n"
		"--outer--\n";
	run_msg(MV "Content-Type: multipart/mixed; boundary=outer\n\n", body, &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_MPQP);
	ck_assert(has(&r.out, "\r\nna=C3=AFve\r\n--inner--\r\n"));
	ck_assert(has(&r.out, "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"));
	ck_assert(has(&r.out, "base64\r\n\r\nQUJD\r\n--outer--\r\n"));
	zbuf_free(&r.out);
}
END_TEST

START_TEST(test_dkim_refuse)
{
	struct run r;
	run_msg("DKIM-Signature: v=1; a=rsa-sha256; d=x; b=abc\n" TP8 "\n", CAFE, &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_REFUSE);
	ck_assert_str_eq(r.res.why,
			 "message carries DKIM-Signature; converting 8bit to 7bit would break it");
	zbuf_free(&r.out);
	run_msg("Content-Conversion: Prohibited\n" TP8 "\n", CAFE, &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_REFUSE);
	zbuf_free(&r.out);
	/* same to an 8-bit peer: sent untouched, 8-bit headers too */
	run_msg("DKIM-Signature: v=1\nSubject: caf\xc3\xa9\n" TP8 "\n", CAFE, &o8, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_NONE);
	ck_assert(has(&r.out, "Subject: caf\xc3\xa9\r\n"));
	zbuf_free(&r.out);
	/* 8-bit headers, 7-bit body, 7-bit peer, signed: refused */
	run_msg("DKIM-Signature: v=1\nSubject: caf\xc3\xa9\n\n", "ascii\n", &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_REFUSE);
	zbuf_free(&r.out);
	/* signed ascii message to a 7-bit peer: fine */
	run_msg("DKIM-Signature: v=1\nSubject: x\n\n", "ascii\n", &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_NONE);
	zbuf_free(&r.out);
}
END_TEST

START_TEST(test_unknown)
{
	struct run r;
	run_msg("From: a@b\nSubject: x\n\n", CAFE, &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_UNKNOWN);
	ck_assert_str_eq(zbuf_cstr(&r.out),
			 "From: a@b\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
			 "Content-Type: text/plain; charset=UTF-8\r\n"
			 "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
			 "caf=C3=A9 cr=C3=A8me\r\n");
	zbuf_free(&r.out);
	mime_opts o = o7;
	o.defcharset = "ISO-8859-1";
	run_msg("From: a@b\nContent-Type: text/plain\n\n", "caf\xe9\n", &o, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_UNKNOWN);
	ck_assert(has(&r.out, "charset=ISO-8859-1\r\n"));
	ck_assert(!has(&r.out, "Content-Type: text/plain\r\n"));
	ck_assert_str_eq(body_of(&r.out), "caf=E9\r\n");
	zbuf_free(&r.out);
}
END_TEST

START_TEST(test_qp_to_8bit)
{
	struct run r;
	const char *h = MV "Content-Type: text/plain; charset=utf-8\n"
			"Content-Transfer-Encoding: Quoted-Printable\n\n";
	run_msg(h, "caf=C3=A9 cr=C3=A8me, long line =\nwrapped\n", &o8d, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_8BIT);
	ck_assert_int_eq(r.res.send_8bitmime, 1);
	ck_assert(has(&r.out, "Content-Transfer-Encoding: 8bit\r\n"));
	ck_assert_str_eq(body_of(&r.out), "caf\xc3\xa9 cr\xc3\xa8me, long line wrapped\r\n");
	zbuf_free(&r.out);
	/* without -8: untouched */
	run_msg(h, "caf=C3=A9\n", &o8, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_NONE);
	ck_assert_int_eq(r.res.send_8bitmime, 0);
	zbuf_free(&r.out);
	/* -8 inside a multipart */
	run_msg(MV "Content-Type: multipart/mixed; boundary=b\n\n",
		"--b\nContent-Transfer-Encoding: quoted-printable\n\nsoft=\n--b--\n", &o8d, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_8BIT);
	ck_assert_str_eq(body_of(&r.out),
			 "--b\r\nContent-Transfer-Encoding: 8bit\r\n\r\nsoft\r\n--b--\r\n");
	zbuf_free(&r.out);
}
END_TEST

START_TEST(test_binary_refuse)
{
	struct run r;
	run_msg(MV "Content-Type: application/octet-stream\nContent-Transfer-Encoding: 8bit\n\n",
		"\x89PNG\n", &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_REFUSE);
	ck_assert(strstr(r.res.why, "application/octet-stream") != NULL);
	zbuf_free(&r.out);
	/* in a multipart */
	run_msg(MV "Content-Type: multipart/mixed; boundary=b\n\n",
		"--b\nContent-Type: image/png\n\n\x89PNG\n--b--\n", &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_REFUSE);
	zbuf_free(&r.out);
	/* message/rfc822 with 8-bit content */
	run_msg(MV "Content-Type: multipart/mixed; boundary=b\n\n",
		"--b\nContent-Type: message/rfc822\n\nSubject: x\n\ncaf\xc3\xa9\n--b--\n", &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_REFUSE);
	zbuf_free(&r.out);
	/* to an 8-bit peer it goes */
	run_msg(MV "Content-Type: application/octet-stream\n\n", "\x89PNG\n", &o8, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_NONE);
	ck_assert_int_eq(r.res.send_8bitmime, 1);
	zbuf_free(&r.out);
}
END_TEST

/* ---------- RFC 2047 ---------- */

/* q_decode_words - decode a header value made of =?UTF-8?Q?..?= and plain words */
static void q_decode_value(const char *v, zbuf *out)
{
	int prev_enc = 0;
	while (*v) {
		const char *s = v;
		while (*v == ' ' || *v == '\t' || *v == '\n')
			v++;
		size_t wsl = (size_t)(v - s);
		if (*v == '\0')
			break;
		if (strncmp(v, "=?UTF-8?Q?", 10) == 0) {
			const char *e = strstr(v + 10, "?=");
			ck_assert_ptr_nonnull(e);
			for (const char *p = v + 10; p < e; p++) {
				if (*p == '_')
					zbuf_putc(out, ' ');
				else if (*p == '=') {
					unsigned x;
					ck_assert_int_eq(sscanf(p + 1, "%2X", &x), 1);
					zbuf_putc(out, (int)x);
					p += 2;
				} else
					zbuf_putc(out, *p);
			}
			ck_assert_int_le((int)(e + 2 - v), 75);
			v = e + 2;
			prev_enc = 1;
		} else {
			if (wsl && (out->len || prev_enc))
				zbuf_putc(out, ' ');
			while (*v && *v != ' ' && *v != '\t' && *v != '\n')
				zbuf_putc(out, *v++);
			prev_enc = 0;
		}
		if (prev_enc && (*v == ' ' || *v == '\n')) {
			/* white space between two encoded words is dropped */
			const char *t = v;
			while (*t == ' ' || *t == '\t' || *t == '\n')
				t++;
			if (strncmp(t, "=?", 2) == 0)
				v = t;
		}
	}
}

START_TEST(test_hdr_encode)
{
	zbuf b = ZBUF_INIT(8192), d = ZBUF_INIT(8192);
	const char *l = "Subject: caf\xc3\xa9 cr\xc3\xa8me\n";
	ck_assert_int_eq(mime_hdr_encode(l, strlen(l), "UTF-8", &b), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "Subject: =?UTF-8?Q?caf=C3=A9_cr=C3=A8me?=\n");
	zbuf_reset(&b);
	l = "Subject: Re: caf\xc3\xa9 ok\n";
	ck_assert_int_eq(mime_hdr_encode(l, strlen(l), NULL, &b), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "Subject: Re: =?UTF-8?Q?caf=C3=A9?= ok\n");
	zbuf_reset(&b);
	l = "From: \"J\xc3\xb6rg, M\" <j@x.example>\n";
	ck_assert_int_eq(mime_hdr_encode(l, strlen(l), NULL, &b), Z_OK);
	ck_assert_str_eq(zbuf_cstr(&b), "From: =?UTF-8?Q?J=C3=B6rg=2C_M?= <j@x.example>\n");
	/* long value: folded, words <= 75, lines <= 78, decodes back */
	zbuf_reset(&b);
	char lng[600] = "Subject: ";
	size_t n = strlen(lng);
	for (int i = 0; i < 40; i++) {
		memcpy(lng + n, "\xc3\xa9t\xc3\xa9 ", 6);
		n += 6;
	}
	lng[n - 1] = '\n';
	ck_assert_int_eq(mime_hdr_encode(lng, n, "UTF-8", &b), Z_OK);
	const char *s = zbuf_cstr(&b);
	for (const char *ln = s; *ln;) {
		const char *e = strchr(ln, '\n');
		ck_assert_ptr_nonnull(e);
		ck_assert_int_le((int)(e - ln), 78);
		ln = e + 1;
		if (*ln)
			ck_assert(*ln == ' ');
	}
	for (size_t i = 0; i < b.len; i++)
		ck_assert((unsigned char)s[i] < 128);
	q_decode_value(s + 9, &d);
	ck_assert_uint_eq(d.len, n - 10);
	ck_assert_int_eq(memcmp(d.data, lng + 9, n - 10), 0);
	zbuf_free(&b);
	zbuf_free(&d);
}
END_TEST

START_TEST(test_send_8bit_subject)
{
	struct run r;
	run_msg("Subject: caf\xc3\xa9\n" MV "\n", "ascii\n", &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_NONE);
	ck_assert_int_eq(r.res.hdrs_8bit, 1);
	ck_assert(has(&r.out, "Subject: =?UTF-8?Q?caf=C3=A9?=\r\n"));
	zbuf_free(&r.out);
	/* regardless of peer */
	run_msg("Subject: caf\xc3\xa9\n" MV "\n", "ascii\n", &o8, &r);
	ck_assert(has(&r.out, "Subject: =?UTF-8?Q?caf=C3=A9?=\r\n"));
	zbuf_free(&r.out);
	/* -H keeps them */
	mime_opts o = o7;
	o.keep_8bit_headers = 1;
	run_msg("Subject: caf\xc3\xa9\n" MV "\n", "ascii\n", &o, &r);
	ck_assert(has(&r.out, "Subject: caf\xc3\xa9\r\n"));
	zbuf_free(&r.out);
}
END_TEST

START_TEST(test_big_body_stream)
{
	/* a body over several read chunks, with a > 64 KiB line */
	size_t n = 300000;
	char *body = malloc(n + 1);
	ck_assert_ptr_nonnull(body);
	for (size_t i = 0; i < n; i++)
		body[i] = (i % 100000 == 99999) ? '\n' : (i % 1000 == 0 ? '\xe9' : 'a');
	body[n] = '\0';
	struct run r;
	mime_opts o = o7;
	o.defcharset = "ISO-8859-1";
	run_msg(MV "Content-Type: text/plain\n\n", body, &o, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_QP);
	const char *b = body_of(&r.out);
	zbuf dec = ZBUF_INIT(1u << 20);
	/* undo wire form: CRLF -> LF */
	zbuf lf = ZBUF_INIT(1u << 22);
	for (const char *p = b; *p; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			zbuf_putc(&lf, *p);
	ck_assert_int_eq(mime_qp_decode(lf.data, lf.len, &dec), Z_OK);
	ck_assert_uint_eq(dec.len, n);
	ck_assert_int_eq(memcmp(dec.data, body, n), 0);
	zbuf_free(&dec);
	zbuf_free(&lf);
	zbuf_free(&r.out);
	free(body);
}
END_TEST

START_TEST(test_refuse_more)
{
	struct run r;
	/* 8-bit in a multipart preamble */
	run_msg(MV "Content-Type: multipart/mixed; boundary=b\n\n",
		"pr\xc3\xa9" "amble\n--b\n\nx\n--b--\n", &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_REFUSE);
	zbuf_free(&r.out);
	/* raw 8-bit in a part that says quoted-printable */
	run_msg(MV "Content-Transfer-Encoding: quoted-printable\n\n", CAFE, &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_REFUSE);
	zbuf_free(&r.out);
	/* signed QP text with -8: not decoded */
	run_msg("DKIM-Signature: v=1\n" MV "Content-Transfer-Encoding: quoted-printable\n\n",
		"caf=C3=A9\n", &o8d, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_NONE);
	ck_assert_str_eq(body_of(&r.out), "caf=C3=A9\r\n");
	zbuf_free(&r.out);
}
END_TEST

START_TEST(test_part_header_8bit)
{
	struct run r;
	const char *h = MV "Content-Type: multipart/mixed; boundary=b\n\n";
	const char *b = "--b\nContent-Type: text/plain\nContent-Description: r\xc3\xa9sum\xc3\xa9\n\nascii\n--b--\n";
	run_msg(h, b, &o7, &r);
	ck_assert_int_eq(r.res.cvt, MIME_CVT_MPQP);
	ck_assert(has(&r.out, "Content-Description: =?UTF-8?Q?r=C3=A9sum=C3=A9?=\r\n\r\nascii\r\n--b--\r\n"));
	/* the ascii leaf keeps its (absent) C-T-E */
	ck_assert(!has(&r.out, "quoted-printable"));
	zbuf_free(&r.out);
}
END_TEST

START_TEST(test_errors)
{
	mime_result res;
	zbuf out = ZBUF_INIT(1 << 16);
	int fd = tmp_body("short\n", 6);
	/* body longer than the file */
	ck_assert_int_eq(mime_analyse("A: b\n\n", 6, fd, 7, 100000, &o7, &res), Z_EIO);
	ck_assert_int_eq(mime_analyse("A: b\n\n", 6, fd, 7, 6, &o7, &res), Z_OK);
	ck_assert_int_eq(mime_send("A: b\n\n", 6, fd, 7, 100000, &o7, &res, sink, &out), Z_EIO);
	/* sink aborts */
	zbuf tiny = ZBUF_INIT(3);
	ck_assert_int_eq(mime_send("A: b\n\n", 6, fd, 7, 6, &o7, &res, sink, &tiny), Z_ERR);
	/* refused messages are not sent */
	res.cvt = MIME_REFUSE;
	ck_assert_int_eq(mime_send("A: b\n\n", 6, fd, 7, 6, &o7, &res, sink, &out), Z_ERR);
	close(fd);
	zbuf_free(&out);
	zbuf_free(&tiny);
}
END_TEST

/* mime_suite - all mime tests */
/* the one-read body cache never sends another message's body: analyse A,
 * analyse B (same length, same offset), then send A, then B; and a body
 * changed on disk after analyse is still the analysed one only if cached
 * for this very result */
START_TEST(test_body_cache_identity)
{
	const char *h = "Subject: x\n\n";
	const char *ba = "alpha body line\n", *bb = "bravo body line\n";
	size_t n = strlen(ba);
	int fa = tmp_body(ba, n), fb = tmp_body(bb, n);
	mime_result ra, rb;
	zbuf oa = ZBUF_INIT(1 << 16), ob = ZBUF_INIT(1 << 16);

	ck_assert_int_eq(mime_analyse(h, strlen(h), fa, 7, (off_t)n, &o8, &ra), Z_OK);
	ck_assert_int_eq(mime_analyse(h, strlen(h), fb, 7, (off_t)n, &o8, &rb), Z_OK);
	ck_assert_uint_ne(ra.body_gen, rb.body_gen);
	ck_assert_int_eq(mime_send(h, strlen(h), fa, 7, (off_t)n, &o8, &ra, sink, &oa), Z_OK);
	ck_assert_int_eq(mime_send(h, strlen(h), fb, 7, (off_t)n, &o8, &rb, sink, &ob), Z_OK);
	ck_assert_str_eq(body_of(&oa), "alpha body line\r\n");
	ck_assert_str_eq(body_of(&ob), "bravo body line\r\n");
	/* a result without a cache generation reads the file */
	rb.body_gen = 0;
	zbuf_reset(&ob);
	ck_assert_int_eq(mime_send(h, strlen(h), fb, 7, (off_t)n, &o8, &rb, sink, &ob), Z_OK);
	ck_assert_str_eq(body_of(&ob), "bravo body line\r\n");
	zbuf_free(&oa);
	zbuf_free(&ob);
	close(fa);
	close(fb);
}
END_TEST

static Suite *mime_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("qp");
	tcase_add_loop_test(tc, test_qp_encode_table, 0, (int)(sizeof(qpe_tab) / sizeof(qpe_tab[0])));
	tcase_add_test(tc, test_qp_shape_checker);
	tcase_add_test(tc, test_qp_encode_long);
	tcase_add_test(tc, test_qp_roundtrip_random);
	tcase_add_test(tc, test_qp_python);
	tcase_add_loop_test(tc, test_qp_decode_table, 0, (int)(sizeof(qpd_tab) / sizeof(qpd_tab[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("wire");
	tcase_add_loop_test(tc, test_wire_table, 0, (int)(sizeof(wire_tab) / sizeof(wire_tab[0])));
	tcase_add_test(tc, test_wire_split);
	tcase_add_test(tc, test_send_final_newline);
	suite_add_tcase(s, tc);
	tc = tcase_create("decide");
	tcase_add_test(tc, test_plain_ascii);
	tcase_add_test(tc, test_8bit_text_to_7bit);
	tcase_add_test(tc, test_8bit_text_to_8bit_peer);
	tcase_add_test(tc, test_multipart_mpqp);
	tcase_add_test(tc, test_multipart_nested);
	tcase_add_test(tc, test_dkim_refuse);
	tcase_add_test(tc, test_unknown);
	tcase_add_test(tc, test_qp_to_8bit);
	tcase_add_test(tc, test_binary_refuse);
	tcase_add_test(tc, test_big_body_stream);
	tcase_add_test(tc, test_refuse_more);
	tcase_add_test(tc, test_part_header_8bit);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_body_cache_identity);
	tcase_add_test(tc, test_wire_long);
	tcase_add_test(tc, test_has8_positions);
	suite_add_tcase(s, tc);
	tc = tcase_create("rfc2047");
	tcase_add_test(tc, test_hdr_encode);
	tcase_add_test(tc, test_send_8bit_subject);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite */
int main(void)
{
	SRunner *sr = srunner_create(mime_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
