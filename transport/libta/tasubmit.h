/*
 * tasubmit.h - helpers for agents that hand a message back to the router
 * (errormail, hold): stream the queued body, copy a recipient's header
 * block, and ZMailer's envelope rules for DSN data (zmta-spool(5)).
 */
#ifndef ZMTA_TASUBMIT_H
#define ZMTA_TASUBMIT_H

#include <stddef.h>
#include "ta.h"
#include "submit.h"
#include "zbuf.h"

/* ta_body_each - call put(arg, p, n) for the body of m in chunks (from
 * the 'o' offset to the end of the queue file); stops at the first put
 * that does not return Z_OK and returns its code; Z_EIO on read errors */
int ta_body_each(const ta_msg *m, int (*put)(void *arg, const void *p, size_t n), void *arg);
/* ta_rcpt_headers - r's header block (including the final empty line) as
 * a span into the control file; empty when r has none */
zspan ta_rcpt_headers(const ta_msg *m, const ta_rcpt *r);
/* ta_sender_addr - the envelope sender of r (the 's' user, unquoted) into
 * out; Z_ENOENT for the null sender (channel error) */
int ta_sender_addr(const ta_msg *m, const ta_rcpt *r, zbuf *out);
/* ta_submit_todsn - "todsn NOTIFY=.. ORCPT=.. INRCPT=.. INFROM=.. BY=.."
 * from r's 'N' data (nothing when there is none) */
int ta_submit_todsn(submit *s, const ta_rcpt *r);
/* ta_submit_put - put callback writing into a submit (for ta_body_each) */
int ta_submit_put(void *arg, const void *p, size_t n);

#endif
