/*
 * qrelease.h - what emofilter-quarantine release sends and how: the
 * envelope it keeps, the addresses it accepts, the message with its
 * X-Emofilter-Released header, delivery through the local sendmail or by
 * SMTP, and the .released record.
 *
 * The command itself (refusing a second release, the audit log, writing
 * the record to the store) is the caller's; nothing here prints. A
 * delivery either reaches every recipient or reports failure: sendmail
 * must exit 0 after reading the whole message, an SMTP server must accept
 * every RCPT (else RSET, nothing sent) and the data.
 */
#ifndef EMF_QRELEASE_H
#define EMF_QRELEASE_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

#include "emf.h"
#include "qstore.h"

/*
 * Whether a is an address we are willing to put on a command line or in
 * an SMTP command: valid UTF-8, at most 320 bytes, no controls, spaces or
 * angle brackets, not starting with '-' (it would be an option to
 * sendmail). "" (the null sender) only when null_ok.
 */
bool qrelease_addr_ok(const char *a, bool null_ok);

/* Append the entry's envelope recipients to to (copies, g_free()). */
void qrelease_default_rcpts(const struct qentry *e, GPtrArray *to);

/*
 * The envelope sender to release with: the entry's envelope sender (which
 * may be "", the null sender), else the Return-Path address, else "".
 * Caller frees.
 */
char *qrelease_sender(const struct qentry *e);

/*
 * "X-Emofilter-Released: NOW by WHO; id=ID" (no line end), with any
 * control character replaced by '?' so that it stays one clean line
 * whatever the user name. Caller frees.
 */
char *qrelease_header(const char *now, const char *who, const char *id);

/*
 * The message to re-inject: header first, then msg[0..len) without any
 * X-Emofilter-* header it carried (the stored copy is the mail as
 * received, so these are the sender's forgeries, which the milter strips
 * on the way in; the re-injection port has no milter). The message's line
 * ending (LF or CRLF) is kept, and used for the added header.
 */
GString *qrelease_message(const char *msg, size_t len, const char *header);

/*
 * Deliver msg from sender to rcpts (NULL-terminated) the way cfg says: by
 * SMTP to quarantine.release_smtp (host:port) when set, with
 * quarantine.helo, else through "quarantine.sendmail -G -i -f SENDER --
 * RCPT...". *via is what was used (borrowed from cfg). Returns NULL once
 * delivered, else why not (g_free()).
 */
char *qrelease_deliver(const struct emf_cfg *cfg, const char *sender,
    const char *const *rcpts, const GString *msg, const char **via);

/*
 * Whether mail qrelease_deliver() sends passes the milter again: true
 * through sendmail (Postfix's non_smtpd_milters scan it), false by SMTP
 * to quarantine.release_smtp, the re-injection port without milters
 * (contrib/postfix/master.cf).
 */
bool qrelease_rescanned(const struct emf_cfg *cfg);

/*
 * The .released record as one line of JSON: {time, by, to, via, forced}.
 * Caller frees.
 */
char *qrelease_record(const char *now, const char *who,
    const char *const *rcpts, const char *via, bool forced);

#endif /* EMF_QRELEASE_H */
