/*
 * NAME
 *	pol_passwd - password file for SMTP AUTH
 * SUMMARY
 *	Loads user:hash[:extra] lines and checks passwords with crypt(3).
 * SYNOPSIS
 *	int pol_passwd_load(const char *path, unsigned flags, pol_passwd **out,
 *	                    zbuf *err)
 *	int pol_passwd_parse(const char *data, size_t len, unsigned flags,
 *	                     pol_passwd **out, zbuf *err)
 *	void pol_passwd_free(pol_passwd *pw)
 *	size_t pol_passwd_count(const pol_passwd *pw)
 *	int pol_passwd_verify(const pol_passwd *pw, const char *user,
 *	                      const char *pass, size_t passlen)
 *	int pol_passwd_plain(const pol_passwd *pw, const char *user,
 *	                     zbuf *secret)
 *	const char *pol_passwd_extra(const pol_passwd *pw, const char *user)
 * DESCRIPTION
 *	One entry per line: user ':' hash [':' extra].  Blank lines and lines
 *	starting with '#' are ignored.  user is 1..255 printable bytes
 *	without ':' or blanks, unique in the file.  hash is a crypt(3)
 *	string that libxcrypt's crypt_checksalt() calls current ($y$
 *	yescrypt, $gy$, $7$, $2b$ bcrypt, $6$ sha512crypt, $5$ sha256crypt);
 *	legacy methods (DES, $1$ MD5, ...) only with POL_PW_ALLOW_LEGACY.
 *	A hash starting with '!' or '*' is a locked account.  {plain}secret
 *	keeps a cleartext secret, needed only for CRAM-MD5; it is refused
 *	unless POL_PW_ALLOW_PLAIN.  extra is kept for the caller.
 *	pol_passwd_plain tells a user without an entry (Z_ENOENT) from one
 *	whose entry is hashed (Z_ERR), so that a CRAM-MD5 refusal can be
 *	logged with its reason.
 *	Any malformed line fails the whole load, naming the line.
 *	An unknown user is checked against the first hashed entry of the
 *	file and the result discarded, so the time taken does not tell
 *	whether the user exists (with mixed hash costs, only roughly).
 * DIAGNOSTICS
 *	Z_OK; Z_EPARSE / Z_ETOOBIG (with "line N: reason"); Z_EIO; Z_ERR for
 *	a file others may read (lib/zsecret.c opens and reads the file).
 *	pol_passwd_verify returns 1 or 0.
 * SECURITY
 *	The file holds credentials: it must be a regular file owned by the
 *	process's user or root, without any group or other permission.
 *	Passwords are compared in constant time, cleared copies are not kept.
 *	{plain} secrets are as good as cleartext passwords on disk.
 * BUGS
 *	Lookup is linear; fine for a few thousand users.
 * SEE ALSO
 *	crypt(5), mkpasswd(1), smtpserver.conf(5) auth_password_file
 */
#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pol_passwd.h"
#include "zutil.h"
#include "zsecret.h"

struct pwent {
	char *user;
	char *hash;   /* crypt string, or the {plain} secret when plain */
	char *extra;  /* NULL when absent */
	int plain;
	int locked;
};

struct pol_passwd {
	struct pwent *e;
	size_t n, cap;
	const char *dummy; /* a hash of the file for unknown users, or NULL */
};

/* ct_eq - constant-time comparison of two byte strings of given lengths */
static int ct_eq(const char *a, size_t an, const char *b, size_t bn)
{
	volatile unsigned char d = (unsigned char)(an != bn);
	size_t n = an < bn ? an : bn;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* wipe - clear a buffer the compiler may not skip */
static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n-- > 0)
		*v++ = 0;
}

/* pol_passwd_free - release every entry */
void pol_passwd_free(pol_passwd *pw)
{
	if (pw == NULL)
		return;
	for (size_t i = 0; i < pw->n; i++) {
		free(pw->e[i].user);
		if (pw->e[i].hash != NULL) {
			wipe(pw->e[i].hash, strlen(pw->e[i].hash));
			free(pw->e[i].hash);
		}
		free(pw->e[i].extra);
	}
	free(pw->e);
	free(pw);
}

/* find - entry of user or NULL */
static const struct pwent *find(const pol_passwd *pw, const char *user)
{
	for (size_t i = 0; i < pw->n; i++)
		if (strcmp(pw->e[i].user, user) == 0)
			return &pw->e[i];
	return NULL;
}

/* check_hash - is h an acceptable crypt string under flags */
static int check_hash(const char *h, unsigned flags, zbuf *why)
{
	int cs;

	if (h[0] == '\0')
		return zbuf_puts(why, "empty hash"), Z_EPARSE;
	for (const char *q = h; *q; q++)
		if (!isalnum((unsigned char)*q) && strchr("./$_=,-", *q) == NULL)
			return zbuf_puts(why, "not a crypt(3) hash (bad character)"), Z_EPARSE;
	/* without '$' only DES (13 chars) and BSDi (_ + 19) exist */
	if (h[0] != '$' && !(strlen(h) == 13 && h[0] != '_') && !(strlen(h) == 20 && h[0] == '_'))
		return zbuf_puts(why, "not a crypt(3) hash this system supports"), Z_EPARSE;
	cs = crypt_checksalt(h);
	/* libxcrypt calls sha256crypt/sha512crypt legacy; they are salted,
	 * iterated and still accepted by default */
	if (cs == CRYPT_SALT_OK ||
	    (cs == CRYPT_SALT_METHOD_LEGACY && (strncmp(h, "$5$", 3) == 0 || strncmp(h, "$6$", 3) == 0)))
		return Z_OK;
	if (cs == CRYPT_SALT_METHOD_LEGACY) {
		if (flags & POL_PW_ALLOW_LEGACY)
			return Z_OK;
		return zbuf_puts(why, "legacy hash method (DES/MD5) refused; rehash with mkpasswd -m yescrypt"), Z_EPARSE;
	}
	return zbuf_puts(why, "not a crypt(3) hash this system supports"), Z_EPARSE;
}

/* parse_line - one non-comment line into e */
static int parse_line(zspan line, unsigned flags, struct pwent *e, zbuf *why)
{
	zcur c;
	zspan u, h, x;
	int have_extra;

	zcur_init(&c, line.p, line.n);
	if (zcur_take_until(&c, ':', &u) != Z_OK)
		return zbuf_puts(why, "no ':' after the user name"), Z_EPARSE;
	if (u.n == 0 || u.n > 255)
		return zbuf_puts(why, "user name empty or longer than 255 bytes"), Z_EPARSE;
	for (size_t i = 0; i < u.n; i++) {
		unsigned char ch = (unsigned char)u.p[i];
		if (ch <= 0x20 || ch == 0x7f)
			return zbuf_puts(why, "blank or control byte in user name"), Z_EPARSE;
	}
	have_extra = zcur_take_until(&c, ':', &h) == Z_OK;
	if (!have_extra)
		zcur_take_rest(&c, &h);
	zcur_take_rest(&c, &x);
	for (size_t i = 0; i < h.n; i++) {
		unsigned char ch = (unsigned char)h.p[i];
		if (ch < 0x20 || ch == 0x7f)
			return zbuf_puts(why, "control byte in hash"), Z_EPARSE;
	}
	memset(e, 0, sizeof(*e));
	if (h.n >= 7 && memcmp(h.p, "{plain}", 7) == 0) {
		if (!(flags & POL_PW_ALLOW_PLAIN))
			return zbuf_puts(why, "{plain} entry refused (set auth_plain_secrets yes to allow CRAM-MD5 secrets)"), Z_EPARSE;
		if (h.n == 7)
			return zbuf_puts(why, "empty {plain} secret"), Z_EPARSE;
		e->plain = 1;
		h.p += 7;
		h.n -= 7;
	} else if (h.n > 0 && (h.p[0] == '!' || h.p[0] == '*')) {
		e->locked = 1;
	}
	e->user = zspan_dup(u);
	e->hash = zspan_dup(h);
	e->extra = have_extra ? zspan_dup(x) : NULL;
	if (e->user == NULL || e->hash == NULL || (have_extra && e->extra == NULL))
		return zbuf_puts(why, "out of memory"), Z_ENOMEM;
	if (!e->plain && !e->locked)
		return check_hash(e->hash, flags, why);
	return Z_OK;
}

/* pol_passwd_parse - parse a whole file's contents */
int pol_passwd_parse(const char *data, size_t len, unsigned flags, pol_passwd **out, zbuf *err)
{
	pol_passwd *pw = NULL;
	zbuf why = ZBUF_INIT(256);
	zsecret_lines lines;
	zspan line;
	size_t lineno = 0;
	int rc = Z_OK;

	*out = NULL;
	if (len > POL_PW_FILE_MAX) {
		zbuf_puts(err, "password file too large");
		return Z_ETOOBIG;
	}
	pw = calloc(1, sizeof(*pw));
	if (pw == NULL) {
		rc = Z_ENOMEM;
		goto done;
	}
	zsecret_lines_init(&lines, data, len);
	while (zsecret_next(&lines, &line)) {
		struct pwent e;

		lineno = lines.lineno;
		if (line.n > POL_PW_LINE_MAX) {
			zbuf_printf(err, "line %zu: longer than %u bytes", lineno, POL_PW_LINE_MAX);
			rc = Z_ETOOBIG;
			goto done;
		}
		if (memchr(line.p, '\0', line.n) != NULL) {
			zbuf_printf(err, "line %zu: NUL byte", lineno);
			rc = Z_EPARSE;
			goto done;
		}
		if (pw->n == pw->cap) {
			size_t nc = pw->cap ? pw->cap * 2 : 16;
			struct pwent *ne = realloc(pw->e, nc * sizeof(*ne));
			if (ne == NULL) {
				rc = Z_ENOMEM;
				goto done;
			}
			pw->e = ne;
			pw->cap = nc;
		}
		zbuf_reset(&why);
		memset(&e, 0, sizeof(e));
		rc = parse_line(line, flags, &e, &why);
		pw->e[pw->n++] = e; /* freed with pw even on error */
		if (rc == Z_OK && find(pw, e.user) != &pw->e[pw->n - 1]) {
			zbuf_puts(&why, "duplicate user");
			rc = Z_EPARSE;
		}
		if (rc != Z_OK) {
			zbuf_printf(err, "line %zu: %s", lineno, zbuf_cstr(&why));
			goto done;
		}
		if (pw->dummy == NULL && !e.plain && !e.locked)
			pw->dummy = e.hash;
	}
done:
	zbuf_free(&why);
	if (rc == Z_ENOMEM && err != NULL && err->len == 0)
		zbuf_puts(err, "out of memory");
	if (rc != Z_OK) {
		pol_passwd_free(pw);
		return rc;
	}
	*out = pw;
	return Z_OK;
}

/* pol_passwd_load - open, check ownership and mode, read, parse */
int pol_passwd_load(const char *path, unsigned flags, pol_passwd **out, zbuf *err)
{
	zbuf data = ZBUF_INIT(POL_PW_FILE_MAX + 2);
	int rc;

	*out = NULL;
	rc = zsecret_read(path, POL_PW_FILE_MAX,
			  (flags & POL_PW_NO_MODE_CHECK) ? ZSECRET_NO_MODE_CHECK : 0, &data, err);
	if (rc != Z_OK)
		goto done;
	rc = pol_passwd_parse(data.data, data.len, flags, out, err);
	if (rc != Z_OK) {
		zbuf err2 = ZBUF_INIT(1024);
		zbuf_printf(&err2, "%s: %s", path, zbuf_cstr(err));
		if (err != NULL)
			zbuf_set(err, err2.data, err2.len);
		zbuf_free(&err2);
	}
done:
	zsecret_wipe(&data);
	return rc;
}

/* pol_passwd_count - entries loaded */
size_t pol_passwd_count(const pol_passwd *pw)
{
	return pw->n;
}

/* pol_passwd_verify - check a password, spending a hash even for unknown users */
int pol_passwd_verify(const pol_passwd *pw, const char *user, const char *pass, size_t passlen)
{
	const struct pwent *e = user != NULL ? find(pw, user) : NULL;
	struct crypt_data *cd = NULL;
	char *pz = NULL, *h;
	int ok = 0;

	if (passlen > POL_PW_PASS_MAX || memchr(pass, '\0', passlen) != NULL)
		pass = "", passlen = 0, e = NULL;
	if (e != NULL && e->plain) {
		ok = ct_eq(e->hash, strlen(e->hash), pass, passlen);
		goto done;
	}
	if ((e == NULL || e->locked) && pw->dummy == NULL)
		goto done;
	cd = calloc(1, sizeof(*cd));
	pz = malloc(passlen + 1);
	if (cd == NULL || pz == NULL)
		goto done;
	memcpy(pz, pass, passlen);
	pz[passlen] = '\0';
	if (e == NULL || e->locked) {
		(void)crypt_rn(pz, pw->dummy, cd, (int)sizeof(*cd));
		goto done;
	}
	h = crypt_rn(pz, e->hash, cd, (int)sizeof(*cd));
	if (h != NULL && h[0] != '*')
		ok = ct_eq(h, strlen(h), e->hash, strlen(e->hash));
done:
	if (pz != NULL) {
		wipe(pz, passlen);
		free(pz);
	}
	if (cd != NULL) {
		wipe(cd, sizeof(*cd));
		free(cd);
	}
	return ok;
}

/* pol_passwd_plain - the {plain} secret of user */
int pol_passwd_plain(const pol_passwd *pw, const char *user, zbuf *secret)
{
	const struct pwent *e = find(pw, user);

	if (e == NULL)
		return Z_ENOENT;
	if (!e->plain)
		return Z_ERR;   /* a hashed (or locked) entry: no secret to give */
	return zbuf_set(secret, e->hash, strlen(e->hash));
}

/* pol_passwd_extra - third field of user's entry */
const char *pol_passwd_extra(const pol_passwd *pw, const char *user)
{
	const struct pwent *e = find(pw, user);

	return e != NULL ? e->extra : NULL;
}
