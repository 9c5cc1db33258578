/*
 * NAME
 *	auth_file - the smtpserver's password file for SMTP AUTH
 * SUMMARY
 *	"user:hash" lines, hashes in crypt(3) formats, checked with crypt_r.
 * SYNOPSIS
 *	int authfile_load(const char *path, authfile **out, zbuf *err);
 *	int authfile_verify(const authfile *a, const char *user, const char *pw);
 *	void authfile_free(authfile *a);
 * DESCRIPTION
 *	One entry a line: a user name (no ':' or blanks), ':', a salted hash
 *	that crypt(3) understands ($y$, $6$, $5$, $2b$ ...); text after a
 *	further ':' is ignored; empty lines and '#' lines are skipped.
 *	authfile_verify hashes the password with the entry's salt and
 *	compares in constant time.
 * DIAGNOSTICS
 *	Z_OK, or Z_EIO (cannot read) / Z_EPARSE / Z_ETOOBIG with
 *	"file:line: reason" in err.
 * SECURITY
 *	The file holds hashes only, never clear text; a hash that crypt
 *	cannot use ("*", "!") never matches.  The file is read before the
 *	privileges are dropped, so it may be readable by root only.
 * BUGS
 *	CRAM-MD5 needs clear-text secrets, which this file never holds: the
 *	smtpserver offers only PLAIN and LOGIN with it.
 * SEE ALSO
 *	smtpserver.conf(5), crypt(5)
 */
#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "zbuf.h"
#include "zerr.h"
#include "zutil.h"
#include "smtpserver.h"

#define AF_FILE_MAX (4u * 1024u * 1024u)

struct authfile {
	char **user, **hash;
	size_t n;
};

/* authfile_free - release a */
void authfile_free(authfile *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->user[i]);
		free(a->hash[i]);
	}
	free(a->user);
	free(a->hash);
	free(a);
}

/* authfile_load - parse the file */
int authfile_load(const char *path, authfile **out, zbuf *err)
{
	zbuf data = ZBUF_INIT(AF_FILE_MAX);
	authfile *a = calloc(1, sizeof(*a));
	int rc = Z_OK, lineno = 0;
	size_t off = 0;

	*out = NULL;
	if (a == NULL) {
		zbuf_puts(err, "out of memory");
		rc = Z_ENOMEM;
		goto done;
	}
	if (zread_file(path, AF_FILE_MAX, &data, err) != Z_OK) {
		rc = Z_EIO;
		goto done;
	}
	while (off < data.len) {
		const char *p = data.data + off, *nl = memchr(p, '\n', data.len - off);
		size_t n = nl ? (size_t)(nl - p) : data.len - off;
		const char *c1, *c2;
		char **nu, **nh;

		off += n + (nl != NULL);
		lineno++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0 || p[0] == '#')
			continue;
		c1 = memchr(p, ':', n);
		if (c1 == NULL || c1 == p || memchr(p, ' ', (size_t)(c1 - p)) != NULL) {
			zbuf_printf(err, "%s:%d: expected user:hash", path, lineno);
			rc = Z_EPARSE;
			goto done;
		}
		c2 = memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - p));
		if (c2 == NULL)
			c2 = p + n;
		nu = realloc(a->user, (a->n + 1) * sizeof(*nu));
		if (nu != NULL)
			a->user = nu;
		nh = nu ? realloc(a->hash, (a->n + 1) * sizeof(*nh)) : NULL;
		if (nh != NULL)
			a->hash = nh;
		if (nu == NULL || nh == NULL) {
			zbuf_puts(err, "out of memory");
			rc = Z_ENOMEM;
			goto done;
		}
		a->user[a->n] = strndup(p, (size_t)(c1 - p));
		a->hash[a->n] = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
		if (a->user[a->n] == NULL || a->hash[a->n] == NULL) {
			free(a->user[a->n]);
			free(a->hash[a->n]);
			zbuf_puts(err, "out of memory");
			rc = Z_ENOMEM;
			goto done;
		}
		a->n++;
	}
	*out = a;
	a = NULL;
done:
	authfile_free(a);
	zbuf_free(&data);
	return rc;
}

/* authfile_verify - hash and compare */
int authfile_verify(const authfile *a, const char *user, const char *password)
{
	struct crypt_data *cd;
	const char *h;
	int ok = -1;

	if (a == NULL)
		return -1;
	for (size_t i = 0; i < a->n; i++) {
		if (strcmp(a->user[i], user) != 0)
			continue;
		if (a->hash[i][0] == '\0' || a->hash[i][0] == '*' || a->hash[i][0] == '!')
			return -1;
		cd = calloc(1, sizeof(*cd));
		if (cd == NULL)
			return -1;
		h = crypt_r(password, a->hash[i], cd);
		if (h != NULL && h[0] != '*' && strlen(h) == strlen(a->hash[i])) {
			unsigned char diff = 0;
			for (size_t k = 0; h[k] != '\0'; k++)
				diff |= (unsigned char)(h[k] ^ a->hash[i][k]);
			ok = diff == 0 ? 0 : -1;
		}
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
		return ok;
	}
	return -1;
}
