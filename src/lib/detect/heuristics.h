/*
 * heuristics.h - the signs an analyst reads in the mail itself: sender
 * domains, forged replies, signatures; trusted senders; the VBA allowlist.
 *
 * Owns the symbols FROM_ENVELOPE_MISMATCH, DISPLAY_NAME_SPOOF,
 * SIGNATURE_DOMAIN_MISMATCH, REPLY_TO_MISMATCH, FAKE_ORIGINAL_MESSAGE,
 * REPLY_WITHOUT_THREAD, TRUSTED_SENDER and MACRO_ALLOWLISTED. Domains are
 * compared as registrable domains (domains.h, Public Suffix List).
 *
 * Reads scan->msg (top-level header), the envelope (scan->env; the
 * Return-Path stands in for the envelope sender offline) and the body texts
 * of the mail itself (texts whose object is a mail part with no parent);
 * texts of attached messages are not judged as the mail's own.
 *
 * Does not: verify SPF/DKIM/DMARC (the MTA does), read List-* headers,
 * or score anything alone above the tag threshold (weights in symbols.c).
 *
 * LIMITATIONS: the signature is the author's part of the body (the lines
 * before the first quoted line, separator or quoted-header block); a
 * signature below the quoted history is not read. Quoted-header blocks are
 * recognised in English, Japanese, German, Italian, Spanish, French and
 * Portuguese. IDN domains are compared as written (no punycode mapping).
 */
#ifndef EMF_HEURISTICS_H
#define EMF_HEURISTICS_H

#include <stdbool.h>

#include "emf.h"

struct emf_scan;
struct emf_heur;

/* Engine module: PSL, trusted domains and networks, VBA allowlist. */
bool emf_heuristics_init(struct emf_engine *engine, void **state,
    struct emf_error *err);
void emf_heuristics_fini(void *state);

/* Post-queue analyser: trust, sender and reply-forgery checks. */
void emf_heuristics_run(struct emf_scan *scan);

/*
 * Post-queue pass, run last: drop the macro symbols (OFFICE_MACRO,
 * MACRO_*) and YARA_* hits of every object whose VBA project hash is in
 * heuristics.vba_allowlist, and of its descendants; raise
 * MACRO_ALLOWLISTED instead.
 */
void emf_heuristics_vba_allowlist(struct emf_scan *scan);

/*
 * Helpers exposed for the unit tests. The registrable domain of an address
 * (g_free), or NULL; whether a text carries a quoted-header block; the
 * first signature address of a body whose registrable domain differs
 * from from_domain (g_free), or NULL.
 */
char *emf_heur_domain(const struct emf_heur *h, const char *addr);
bool emf_heur_quoted_header(const struct emf_heur *h, const char *utf8,
    const char **what);
char *emf_heur_signature_mismatch(const struct emf_heur *h,
    const char *utf8, const char *from_domain);
bool emf_heur_reply_subject(const struct emf_heur *h,
    const char *subject);

#endif /* EMF_HEURISTICS_H */
