/*
 * zconf.h - the site configuration file zmta.conf (ZMailer's zmailer.conf).
 *
 * Lines are NAME=value; '#' lines and blank lines are ignored; a value may be
 * wrapped in single or double quotes, which are removed; ${NAME} in a value
 * is expanded from earlier settings (or the environment) when asked with
 * zconf_expand().  Anything else on a line is an error naming file and line.
 * Lines are limited to ZCONF_LINE_MAX bytes, names to 64.
 *
 * The file is found via $ZCONFIG, else the compiled-in default
 * (sysconfdir/zmta/zmta.conf).  A missing default file is not an error: the
 * compiled-in defaults for POSTOFFICE, MAILBIN, MAILSHARE, MAILVAR, LOGDIR
 * apply.  Values read are also exported to the environment when asked
 * (zconf_export), so that child processes see them like ZMailer's ZENV.
 */
#ifndef ZMTA_ZCONF_H
#define ZMTA_ZCONF_H

#include <stddef.h>
#include "zbuf.h"

#define ZCONF_LINE_MAX 4096

/* zconf_load - read path (NULL: $ZCONFIG or the default); errors into err.
 * Forgets every earlier setting first (so it also serves to reload); a
 * missing file named by path or $ZCONFIG is Z_ENOENT, a missing default is
 * Z_OK.  Parse errors are Z_EPARSE/Z_ETOOBIG with "file:line: reason". */
int zconf_load(const char *path, zbuf *err);
/* zconf_parse - parse an in-memory file; name is used in messages; adds to
 * (does not clear) the current settings */
int zconf_parse(const char *name, const char *data, size_t len, zbuf *err);
/* zconf_get - value or NULL; falls back to compiled-in defaults */
const char *zconf_get(const char *name);
/* zconf_get_default - value or def */
const char *zconf_get_default(const char *name, const char *def);
/* zconf_set - set/override a value (tests, command-line -P) */
int zconf_set(const char *name, const char *value);
/* zconf_expand - copy in to out with ${NAME} replaced; unknown -> "" */
int zconf_expand(const char *in, zbuf *out);
/* zconf_export - setenv() every loaded value (for child processes) */
void zconf_export(void);
/* zconf_path - the file that was loaded (or would be) */
const char *zconf_path(void);
/* zconf_free - forget everything */
void zconf_free(void);

#endif
