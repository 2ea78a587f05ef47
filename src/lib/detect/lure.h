/*
 * lure.h - "Enable Content" lures in the mail body and in document text.
 *
 * Owns: the phrase list (built in, extended by lure.phrases), the words
 * that mark a security warning (built in, extended by lure.warning_words),
 * text folding for comparisons, and the symbols LURE_ENABLE_CONTENT_BODY
 * (body and HTML parts) and LURE_ENABLE_CONTENT_DOC (EMF_TEXT_DOCUMENT
 * texts, with the document's object path).
 *
 * A phrase is searched in the folded text (NFKC, case-folded, white space
 * runs made one space, zero-width characters dropped), with word
 * boundaries for Latin phrases. A match is not raised when it is negated
 * ("do not enable content", 「有効化しないでください」) or when the text
 * reads as a security warning (Emotet, phishing, 不審なメール, 注意喚起...):
 * the CSIRT's own notice about Emotet must not be scored as Emotet.
 *
 * LIMITATIONS: negation is read from the words right before the phrase
 * (English, German, Italian, Spanish, French) and from the characters right
 * after it (Japanese); a negation farther away is missed and the lure
 * counts. An attacker who adds a warning word to the mail avoids the body
 * symbol (the document symbol and the YARA rules still apply).
 */
#ifndef EMF_LURE_H
#define EMF_LURE_H

#include <stdbool.h>
#include <stddef.h>

#include "emf.h"

struct emf_scan;
struct emf_lure;

/*
 * Fold text for comparisons: NFKC, case-folded, white space runs made one
 * space, zero-width characters and soft hyphens dropped. len -1: up to the
 * NUL. Returns a new string (g_free); invalid UTF-8 is repaired first.
 */
char *emf_fold(const char *s, long len);

/* The same for text already in NFKC (valid UTF-8): the dear step skipped. */
char *emf_fold_nfkc(const char *nfkc, long len);

/* Engine module: build the phrase lists from the configuration. */
bool emf_lure_init(struct emf_engine *engine, void **state,
    struct emf_error *err);
void emf_lure_fini(void *state);

/*
 * Look for a lure in text (UTF-8). Returns the matched phrase as
 * configured (borrowed from l) or NULL. When a phrase matched but was
 * negated or the text is a warning, NULL is returned and *why (if not
 * NULL) is set to a static reason.
 */
const char *emf_lure_match(const struct emf_lure *l, const char *utf8,
    size_t len, const char **why);

/* Post-queue analyser: body/HTML and document texts. */
void emf_lure_run(struct emf_scan *scan);

#endif /* EMF_LURE_H */
