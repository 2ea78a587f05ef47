/*
 * mproto.h - our own server side of the milter protocol (version 2-6, as
 * Postfix and Sendmail speak it), in place of libmilter's smfi_main().
 *
 * Why not libmilter: it polls before every read, reads each packet in two
 * read() calls and writes every header change as a packet of its own; a
 * small clean message costs some forty system calls and as many thread
 * wake-ups in the milter process, more than its scan (milter-bench: the
 * milter process took 0.9 ms of CPU a message, a libmilter milter that
 * does nothing 0.5 ms). Here a connection is read into a buffer, every
 * whole packet in it is handled before the next read, and the changes of
 * the end of message go out with its reply in one write.
 *
 * The callback table and constants stay libmilter's (struct smfiDesc,
 * SMFIS_*, SMFIF_*, SMFIP_* from <libmilter/mfapi.h>, which the callbacks
 * keep using); the calls a callback makes are the mp_* below, with the
 * semantics of the smfi_* functions they replace.
 *
 * Owns: the listening socket (opened before privileges are dropped), one
 * thread per MTA connection with its buffers, macros and queued changes.
 * Does not: scan, decide, or keep anything across connections.
 *
 * LIMITATIONS: a packet is at most MP_MAX_PACKET bytes (Postfix sends body
 * chunks of 64 KiB and headers up to header_size_limit, 100 KiB by
 * default); a larger one ends the connection (the MTA applies
 * milter_default_action). No SMFIR_PROGRESS, no body replacement, no
 * recipient changes: emofilter makes none. At most MP_MAX_CONNS MTA
 * connections at once; one more is closed at once and logged.
 */
#ifndef EMF_MPROTO_H
#define EMF_MPROTO_H

#include <stdbool.h>
#include <stddef.h>

#include <libmilter/mfapi.h>

#define MP_MAX_PACKET (1024 * 1024 + 64)
#define MP_MAX_CONNS 4096

/*
 * Listen on sock ("inet:PORT@HOST", "inet:PORT", "inet6:PORT@HOST",
 * "unix:PATH", "local:PATH" or "/PATH", as libmilter), with the callbacks
 * of desc (copied). A stale unix socket file is replaced. False with
 * why filled on failure.
 */
bool mp_listen(const struct smfiDesc *desc, const char *sock, char *why,
    size_t whylen);

/*
 * Serve until SIGTERM, SIGINT or SIGHUP (which must be blocked in every
 * thread: a thread of ours sigwaits them). Connections in progress keep
 * their threads; the caller drains. 0, or -1 if the listener failed.
 */
int mp_main(void);

/*
 * Serve one MTA connection on fd until it ends, in this thread, with the
 * callbacks of desc; fd is closed. For the unit tests (a socketpair).
 */
void mp_serve(const struct smfiDesc *desc, int fd);

/* Per connection, as smfi_getpriv/smfi_setpriv. */
void *mp_getpriv(SMFICTX *ctx);
void mp_setpriv(SMFICTX *ctx, void *priv);

/*
 * A macro's value, or NULL: "i" and "{i}" are the same name. The string
 * lives until the MTA sends that stage's macros again or the message
 * ends.
 */
const char *mp_getsymval(SMFICTX *ctx, const char *name);

/* In the negotiate callback only: the macros wanted at a stage (SMFIM_*). */
int mp_setsymlist(SMFICTX *ctx, int stage, const char *names);

/*
 * In the end-of-message callback only, each queued for the reply:
 * add a header, change (value NULL: delete) the idx-th of a name,
 * quarantine (Postfix: hold). MI_FAILURE when not agreed at negotiation,
 * outside end of message, or when the MTA has already closed.
 */
int mp_addheader(SMFICTX *ctx, const char *name, const char *value);
int mp_chgheader(SMFICTX *ctx, const char *name, int idx, const char *value);
int mp_quarantine(SMFICTX *ctx, const char *reason);

/*
 * The SMTP reply sent with the next REJECT (rcode 5xx) or TEMPFAIL
 * (4xx) status. xcode may be NULL; text has no CR or LF.
 */
int mp_setreply(SMFICTX *ctx, const char *rcode, const char *xcode,
    const char *text);

#endif /* EMF_MPROTO_H */
