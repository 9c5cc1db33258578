/*
 * zsecret.h - files that hold secrets (passwords, AUTH secrets): opened
 * safely, read whole within a bound, walked line by line, wiped after use.
 */
#ifndef ZMTA_ZSECRET_H
#define ZMTA_ZSECRET_H

#include <stddef.h>
#include <sys/types.h>
#include "zbuf.h"

/* zsecret_read flags */
#define ZSECRET_NO_MODE_CHECK 0x1u /* skip the owner and mode test (tests only) */

/* zsecret_check_mode - Z_OK when a file of this mode and owner may hold
 * secrets for uid me: owned by me or root, no bit for group or others */
int zsecret_check_mode(mode_t mode, uid_t owner, uid_t me, zbuf *err);
/* zsecret_read - open path (never through a symlink), check it is a
 * regular file that passes zsecret_check_mode for geteuid(), read it whole
 * (at most max bytes) into out, NUL-terminated, with no copy left behind */
int zsecret_read(const char *path, size_t max, unsigned flags, zbuf *out, zbuf *err);
/* zsecret_wipe - clear the bytes of b (explicit_bzero) and free it */
void zsecret_wipe(zbuf *b);

/* the lines of a secrets file held in memory */
typedef struct zsecret_lines {
	zcur c;
	size_t lineno; /* number of the line zsecret_next returned last */
} zsecret_lines;

/* zsecret_lines_init - walk data[len] from its first line */
void zsecret_lines_init(zsecret_lines *l, const char *data, size_t len);
/* zsecret_next - the next line that is neither blank nor a '#' comment,
 * without its newline and a CR before it; 1 when there is one, 0 at the end */
int zsecret_next(zsecret_lines *l, zspan *line);

#endif
