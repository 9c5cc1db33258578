/*
 * pol_passwd.h - the SMTP AUTH password file: user:hash[:extra] lines with
 * crypt(3) hashes (libxcrypt), and an explicitly weak {plain} scheme for
 * CRAM-MD5.
 */
#ifndef ZMTA_POL_PASSWD_H
#define ZMTA_POL_PASSWD_H

#include <stddef.h>
#include "zbuf.h"

#define POL_PW_LINE_MAX 1024u            /* bytes per line, without LF */
#define POL_PW_FILE_MAX (16u << 20)       /* bytes per file */
#define POL_PW_PASS_MAX 1024u            /* bytes of a password tried */

/* flags */
#define POL_PW_ALLOW_LEGACY 0x1u /* accept DES, MD5 and other legacy crypt hashes */
#define POL_PW_ALLOW_PLAIN  0x2u /* accept {plain}secret entries (CRAM-MD5) */
#define POL_PW_NO_MODE_CHECK 0x4u /* tests only: skip the owner/mode check */

typedef struct pol_passwd pol_passwd;

/* pol_passwd_load - read and check path (regular file, owned by us or
 * root, no group/other permission bits) */
int pol_passwd_load(const char *path, unsigned flags, pol_passwd **out, zbuf *err);
/* pol_passwd_parse - parse file contents (no mode check) */
int pol_passwd_parse(const char *data, size_t len, unsigned flags, pol_passwd **out, zbuf *err);
void pol_passwd_free(pol_passwd *pw);
/* pol_passwd_count - number of entries */
size_t pol_passwd_count(const pol_passwd *pw);
/* pol_passwd_verify - 1 when pass[passlen] is user's password, 0 when
 * not (unknown user, locked entry, wrong password); an unknown user costs
 * one hash like a known one */
int pol_passwd_verify(const pol_passwd *pw, const char *user, const char *pass, size_t passlen);
/* pol_passwd_plain - the cleartext secret of a {plain} entry (CRAM-MD5):
 * Z_OK, Z_ENOENT (no such user) or Z_ERR (a hashed or locked entry:
 * CRAM-MD5 cannot work for this user) */
int pol_passwd_plain(const pol_passwd *pw, const char *user, zbuf *secret);
/* pol_passwd_extra - the third field of user's line, or NULL */
const char *pol_passwd_extra(const pol_passwd *pw, const char *user);

#endif
