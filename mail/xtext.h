/*
 * xtext.h - RFC 3461 xtext: the "+XX" encoding of ENVID, ORCPT and AUTH=.
 *
 * The one implementation for the tree (no I/O).  Encoding and lenient
 * decoding are what the DSN renderer and the smtp agent use;
 * xtext_check is the strict syntax check a server applies to what a
 * client sent.
 */
#ifndef ZMTA_XTEXT_H
#define ZMTA_XTEXT_H

#include "zbuf.h"

/* flags for xtext_check */
#define XTEXT_LOWER_HEX 0x1u   /* accept a-f after '+' (RFC 3461 says A-F only) */

/* xtext_encode - append in as xtext: bytes outside 33..126, '+' and '='
   become +XX (upper-case hex).  Z_OK, or Z_ETOOBIG/Z_ENOMEM with out
   unchanged.  out NULL discards (returns Z_OK) */
int xtext_encode(zbuf *out, zspan in);
/* xtext_decode - append the decoded form of in.  Lenient: hex digits of
   either case, other bytes copied as they are.  Z_EPARSE (out unchanged)
   when a '+' is not followed by two hex digits; out NULL only checks */
int xtext_decode(zbuf *out, zspan in);
/* xtext_check - strict syntax: xchar (33..126 except '+' and '=') or
   "+" two upper-case hex digits (lower-case too with XTEXT_LOWER_HEX).
   Z_OK or Z_EPARSE with a reason in err (may be NULL) */
int xtext_check(zspan in, unsigned flags, zbuf *err);
/* xtext_valid - 1 when in passes xtext_check(in, 0, NULL), else 0 */
int xtext_valid(zspan in);
/* xtext_put - append in as it is when it is valid xtext, else encoded
   (for values that may arrive either raw or already encoded) */
int xtext_put(zbuf *out, zspan in);
/* xtext_decoded_len - length in decodes to, or (size_t)-1 if malformed */
size_t xtext_decoded_len(zspan in);

#endif
