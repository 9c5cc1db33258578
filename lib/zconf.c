/*
 * NAME
 *	zconf - the zmta.conf site configuration (NAME=value lines)
 * SUMMARY
 *	Loads zmta.conf into a small in-memory table, answers lookups with
 *	compiled-in defaults behind it, expands ${NAME} references and can
 *	export the values to the environment for child processes.
 * SYNOPSIS
 *	int zconf_load(const char *path, zbuf *err);
 *	int zconf_parse(const char *name, const char *data, size_t len, zbuf *err);
 *	const char *zconf_get(const char *name);
 *	const char *zconf_get_default(const char *name, const char *def);
 *	int zconf_set(const char *name, const char *value);
 *	int zconf_expand(const char *in, zbuf *out);
 *	void zconf_export(void);
 *	const char *zconf_path(void);
 *	void zconf_free(void);
 * DESCRIPTION
 *	Syntax: blank lines and lines whose first non-blank byte is '#' are
 *	ignored.  Other lines are NAME=value, NAME matching
 *	[A-Za-z_][A-Za-z0-9_]* (at most 64 bytes), blanks allowed around
 *	NAME and around the value.  A value wholly inside '...' or "..." has
 *	the quotes removed (no escapes inside).  A CR before the LF is
 *	dropped.  A later setting of a name replaces an earlier one.
 *	Lookup: the path given, else $ZCONFIG, else ZMTA_SYSCONFDIR/zmta.conf;
 *	only the last may be missing without error.
 * DIAGNOSTICS
 *	Z_EPARSE with "file:line: reason" in err; Z_ETOOBIG for a line longer
 *	than ZCONF_LINE_MAX; Z_ENOENT/Z_EIO when a named file cannot be read;
 *	Z_ENOMEM.
 * SECURITY
 *	The file is trusted as the administrator's, but is still parsed with
 *	bounds: line length, name length, file size (1 MiB), no NUL bytes.
 *	It must never execute a value or expand ${NAME} recursively (a
 *	value naming itself cannot loop).
 * BUGS
 *	${NAME} is expanded one level only, and only by zconf_expand().
 * SEE ALSO
 *	zmta.conf(5)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "zbuf.h"
#include "zconf.h"
#include "zutil.h"

#ifndef ZMTA_SYSCONFDIR
#define ZMTA_SYSCONFDIR "/usr/local/etc/zmta"
#endif
#ifndef ZMTA_LIBEXECDIR
#define ZMTA_LIBEXECDIR "/usr/local/libexec/zmta"
#endif
#ifndef ZMTA_LOCALSTATEDIR
#define ZMTA_LOCALSTATEDIR "/usr/local/var"
#endif

#define ZCONF_NAME_MAX 64
#define ZCONF_FILE_MAX (1024u * 1024u)
#define ZCONF_DEFAULT_PATH ZMTA_SYSCONFDIR "/zmta.conf"

struct zconf_ent {
	char *name;
	char *value;
};

static struct zconf_ent *zc_tab;
static size_t zc_n, zc_cap;
static char *zc_path;        /* file loaded (or attempted) */
static int zc_loaded_file;   /* a file was actually read */

static const struct zconf_ent zc_defaults[] = {
	{ "POSTOFFICE", ZMTA_LOCALSTATEDIR "/spool/postoffice" },
	{ "MAILBIN", ZMTA_LIBEXECDIR },
	{ "MAILSHARE", ZMTA_SYSCONFDIR },
	{ "MAILVAR", ZMTA_SYSCONFDIR },
	{ "LOGDIR", ZMTA_LOCALSTATEDIR "/log/zmta" },
};

/* zconf_name_ok - syntactically valid variable name */
static int zconf_name_ok(const char *p, size_t n)
{
	if (n == 0 || n > ZCONF_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		int alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
		if (!alpha && (i == 0 || c < '0' || c > '9'))
			return 0;
	}
	return 1;
}

/* zconf_find - index of name in the table or -1 */
static long zconf_find(const char *name, size_t n)
{
	for (size_t i = 0; i < zc_n; i++)
		if (strlen(zc_tab[i].name) == n && memcmp(zc_tab[i].name, name, n) == 0)
			return (long)i;
	return -1;
}

/* zconf_put - set name (n bytes) to value (vn bytes) */
static int zconf_put(const char *name, size_t n, const char *value, size_t vn)
{
	zspan vs = { value, vn };
	zspan ns = { name, n };
	char *v = zspan_dup(vs);
	long i;

	if (v == NULL)
		return Z_ENOMEM;
	i = zconf_find(name, n);
	if (i >= 0) {
		free(zc_tab[i].value);
		zc_tab[i].value = v;
		return Z_OK;
	}
	if (zc_n == zc_cap) {
		size_t ncap = zc_cap ? zc_cap * 2 : 16;
		size_t bytes;
		struct zconf_ent *t;
		if (zsize_mul(ncap, sizeof(*t), &bytes) != Z_OK) {
			free(v);
			return Z_ENOMEM;
		}
		t = realloc(zc_tab, bytes);
		if (t == NULL) {
			free(v);
			return Z_ENOMEM;
		}
		zc_tab = t;
		zc_cap = ncap;
	}
	zc_tab[zc_n].name = zspan_dup(ns);
	if (zc_tab[zc_n].name == NULL) {
		free(v);
		return Z_ENOMEM;
	}
	zc_tab[zc_n].value = v;
	zc_n++;
	return Z_OK;
}

/* zconf_set - set/override a value */
int zconf_set(const char *name, const char *value)
{
	size_t n = strlen(name);

	if (!zconf_name_ok(name, n))
		return Z_EPARSE;
	return zconf_put(name, n, value, strlen(value));
}

/* zconf_lineerr - "name:line: reason" into err */
static int zconf_lineerr(zbuf *err, const char *name, unsigned long lineno,
    int code, const char *reason)
{
	if (err != NULL) {
		zbuf_reset(err);
		zbuf_printf(err, "%s:%lu: %s", name, lineno, reason);
	}
	return code;
}

/* zconf_parse_line - one line without its newline */
static int zconf_parse_line(const char *name, unsigned long lineno,
    zspan line, zbuf *err)
{
	zcur c;
	zspan key, val;
	long eq;

	if (line.n > 0 && line.p[line.n - 1] == '\r')
		line.n--;
	if (memchr(line.p, '\0', line.n) != NULL)
		return zconf_lineerr(err, name, lineno, Z_EPARSE, "NUL byte in line");
	zcur_init(&c, line.p, line.n);
	zcur_skip_ws(&c);
	if (zcur_eof(&c) || zcur_peek(&c) == '#')
		return Z_OK;
	zcur_take_rest(&c, &line);
	eq = zspan_chr(line, '=');
	if (eq < 0)
		return zconf_lineerr(err, name, lineno, Z_EPARSE, "expected NAME=value");
	key.p = line.p;
	key.n = (size_t)eq;
	key = zspan_trim(key);
	if (key.n > ZCONF_NAME_MAX)
		return zconf_lineerr(err, name, lineno, Z_EPARSE, "variable name longer than 64 bytes");
	if (!zconf_name_ok(key.p, key.n))
		return zconf_lineerr(err, name, lineno, Z_EPARSE,
		    "expected NAME=value (bad variable name)");
	val.p = line.p + eq + 1;
	val.n = line.n - (size_t)eq - 1;
	val = zspan_trim(val);
	if (val.n > 0 && (val.p[0] == '"' || val.p[0] == '\'')) {
		char q = val.p[0];
		if (val.n < 2 || val.p[val.n - 1] != q)
			return zconf_lineerr(err, name, lineno, Z_EPARSE, "unterminated quote");
		val.p++;
		val.n -= 2;
		if (memchr(val.p, q, val.n) != NULL)
			return zconf_lineerr(err, name, lineno, Z_EPARSE,
			    "text after closing quote");
	}
	if (zconf_put(key.p, key.n, val.p, val.n) != Z_OK)
		return zconf_lineerr(err, name, lineno, Z_ENOMEM, "out of memory");
	return Z_OK;
}

/* zconf_parse - parse an in-memory file */
int zconf_parse(const char *name, const char *data, size_t len, zbuf *err)
{
	size_t pos = 0;
	unsigned long lineno = 0;
	int rc = Z_OK;

	if (name == NULL)
		name = "zmta.conf";
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;
		zspan line = { data + pos, n };

		lineno++;
		if (n > ZCONF_LINE_MAX) {
			rc = zconf_lineerr(err, name, lineno, Z_ETOOBIG,
			    "line longer than 4096 bytes");
			goto done;
		}
		rc = zconf_parse_line(name, lineno, line, err);
		if (rc != Z_OK)
			goto done;
		pos += n + (nl ? 1 : 0);
	}
done:
	return rc;
}

/* zconf_set_path - remember the path loaded */
static int zconf_set_path(const char *p)
{
	char *d = zspan_dup(zspan_from(p));

	if (d == NULL)
		return Z_ENOMEM;
	free(zc_path);
	zc_path = d;
	return Z_OK;
}

/* zconf_load - read path (NULL: $ZCONFIG or the default) */
int zconf_load(const char *path, zbuf *err)
{
	zbuf data = ZBUF_INIT(ZCONF_FILE_MAX);
	zbuf rerr = ZBUF_INIT(512);
	int optional = 0;
	int rc;

	if (path == NULL || *path == '\0') {
		path = getenv("ZCONFIG");
		if (path == NULL || *path == '\0') {
			path = ZCONF_DEFAULT_PATH;
			optional = 1;
		}
	}
	zconf_free();
	rc = zconf_set_path(path);
	if (rc != Z_OK)
		goto done;
	rc = zread_file(path, ZCONF_FILE_MAX, &data, &rerr);
	if (rc == Z_ENOENT && optional) {
		rc = Z_OK;
		goto done;
	}
	if (rc != Z_OK) {
		if (err != NULL) {
			zbuf_reset(err);
			zbuf_puts(err, zbuf_cstr(&rerr));
		}
		goto done;
	}
	zc_loaded_file = 1;
	rc = zconf_parse(path, data.data ? data.data : "", data.len, err);
done:
	zbuf_free(&data);
	zbuf_free(&rerr);
	return rc;
}

/* zconf_get - value or NULL, with compiled-in defaults behind */
const char *zconf_get(const char *name)
{
	long i;

	if (name == NULL)
		return NULL;
	i = zconf_find(name, strlen(name));
	if (i >= 0)
		return zc_tab[i].value;
	for (size_t k = 0; k < sizeof(zc_defaults) / sizeof(zc_defaults[0]); k++)
		if (strcmp(zc_defaults[k].name, name) == 0)
			return zc_defaults[k].value;
	return NULL;
}

/* zconf_get_default - value or def */
const char *zconf_get_default(const char *name, const char *def)
{
	const char *v = zconf_get(name);

	return v != NULL ? v : def;
}

/* zconf_expand - copy in to out replacing ${NAME} */
int zconf_expand(const char *in, zbuf *out)
{
	size_t len = strlen(in);
	size_t i = 0;
	int rc = Z_OK;

	zbuf_reset(out);
	while (i < len) {
		const char *close, *v;
		char name[ZCONF_NAME_MAX + 1];
		size_t n;

		if (in[i] != '$' || i + 1 >= len || in[i + 1] != '{') {
			if ((rc = zbuf_putc(out, in[i])) != Z_OK)
				goto done;
			i++;
			continue;
		}
		close = memchr(in + i + 2, '}', len - i - 2);
		if (close == NULL) {
			rc = Z_EPARSE;
			goto done;
		}
		n = (size_t)(close - (in + i + 2));
		if (!zconf_name_ok(in + i + 2, n)) {
			rc = Z_EPARSE;
			goto done;
		}
		memcpy(name, in + i + 2, n);
		name[n] = '\0';
		v = zconf_get(name);
		if (v == NULL)
			v = getenv(name);
		if (v != NULL && (rc = zbuf_puts(out, v)) != Z_OK)
			goto done;
		i += n + 3;
	}
done:
	return rc;
}

/* zconf_export - setenv() every loaded value */
void zconf_export(void)
{
	for (size_t i = 0; i < zc_n; i++)
		setenv(zc_tab[i].name, zc_tab[i].value, 1);
	if (zc_loaded_file && zc_path != NULL)
		setenv("ZCONFIG", zc_path, 1);
}

/* zconf_path - the file that was loaded (or would be) */
const char *zconf_path(void)
{
	const char *e;

	if (zc_path != NULL)
		return zc_path;
	e = getenv("ZCONFIG");
	if (e != NULL && *e != '\0')
		return e;
	return ZCONF_DEFAULT_PATH;
}

/* zconf_free - forget everything */
void zconf_free(void)
{
	for (size_t i = 0; i < zc_n; i++) {
		free(zc_tab[i].name);
		free(zc_tab[i].value);
	}
	free(zc_tab);
	zc_tab = NULL;
	zc_n = zc_cap = 0;
	free(zc_path);
	zc_path = NULL;
	zc_loaded_file = 0;
}
