/*
 * passwords.h - archive password candidates harvested from the mail.
 *
 * Owns: the compiled extraction patterns (engine slot EMF_MOD_PASSWORDS,
 * built from the "passwords.patterns" key) and the pre-queue analyser
 * emf_passwords_harvest() (declared in modules.h), which fills
 * scan->passwords from the subject and the decoded text parts before any
 * archive is opened. archive.c tries the candidates; this module never
 * opens an archive.
 *
 * Candidates come in three passes, in the order they are tried:
 *   1. labelled forms matched by the patterns ("パスワード: X",
 *      "【パスワード】X", "Password: X", "password is \"X\""...), over the
 *      subject, the plain bodies and the HTML bodies reduced to text;
 *   2. the token after an attachment's name on the same line
 *      ("請求書.zip : X7kd9a");
 *   3. password-like bare tokens of short bodies (at most
 *      passwords.bare_token_body_bytes bytes), at most BARE_MAX of them.
 * Every text is NFKC-normalised first, so full-width letters, digits and
 * colons ("ＰＷ：Ｌ５１") match as ASCII. A candidate is cleaned of the
 * quotes, brackets and trailing punctuation around it ("「X」。" -> X).
 *
 * LIMITATIONS: the default patterns take ASCII passwords only (what PPAP
 * tools and malspam use); texts found later in the queue (a forwarded
 * .eml, a document) are not harvested; a candidate is at least 3
 * characters; GRegex has no match-time budget, so an admin's pattern with
 * nested quantifiers can be slow (the defaults are linear).
 */
#ifndef EMF_PASSWORDS_H
#define EMF_PASSWORDS_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "emf.h"

struct emf_pwrules;

/* Where a candidate came from, inside one text. */
enum emf_pwhow {
	EMF_PW_LABELLED,	/* a pattern matched */
	EMF_PW_LABELLED_DIGITS,	/* digits only after a label (built in) */
	EMF_PW_NEIGHBOUR,	/* after an attachment name */
	EMF_PW_BARE		/* a bare token of a short body */
};

struct emf_pwcand {
	char *value;		/* cleaned, NFKC-normalised */
	unsigned line;		/* 1-based line of the text */
	enum emf_pwhow how;
	int pattern;		/* index of the pattern, -1 if none */
};

/*
 * Compile patterns (NULL-terminated GRegex sources, each with at least one
 * capture group: group 1 is the password). Returns NULL with err naming
 * the key and the pattern when one does not compile. bare_body_bytes: see
 * passwords.bare_token_body_bytes. Free with emf_pwrules_free().
 */
struct emf_pwrules *emf_pwrules_new(const char *const *patterns,
    size_t bare_body_bytes, struct emf_error *err);
void emf_pwrules_free(struct emf_pwrules *rules);

/*
 * Append to out (struct emf_pwcand *, free with emf_pwcand_free) the
 * candidates of one text of len bytes (valid UTF-8), at most max of them,
 * each at most maxlen bytes long. names (NULL-terminated, may be NULL)
 * are the attachment names for the neighbour pass; bare says whether the
 * bare-token pass may run (the caller knows the text's kind). Returns the
 * number appended.
 */
size_t emf_passwords_extract(const struct emf_pwrules *rules,
    const char *utf8, size_t len, const char *const *names, bool bare,
    size_t maxlen, size_t max, GPtrArray *out);

/* The same for text already in NFKC (a scan's cached emf_text_nfkc()). */
size_t emf_passwords_extract_nfkc(const struct emf_pwrules *rules,
    const char *nfkc, size_t len, const char *const *names, bool bare,
    size_t maxlen, size_t max, GPtrArray *out);

void emf_pwcand_free(gpointer cand);

/*
 * The short forms of a password notice (a PPAP gateway's or a person's
 * second mail), for a mail that may resolve a held one (store/state.c):
 * a heading or label ending its line with the password alone on the next
 * one (「パスワード通知」, "Password for the attached file:"), the token
 * after a label taken whole (trailing "!" or "#" kept), a password-like
 * token alone on its line. nfkc is NFKC text of len bytes. Appends at most
 * max candidates of at most maxlen bytes to out; returns how many.
 */
size_t emf_passwords_notice(const char *nfkc, size_t len, size_t maxlen,
    size_t max, GPtrArray *out);

/*
 * Strip what surrounds a password in prose: blanks, quotes, brackets
 * (「」『』【】“”()<>[]), trailing punctuation (. , ; : ! ? 。 、).
 * Returns a new string (g_free), or NULL when too little is left or the
 * token is a URL or a word that follows "password" in prose ("below").
 */
char *emf_password_clean(const char *raw, size_t len);

/* Whether a bare token looks like a password (letters and digits...). */
bool emf_password_like(const char *token);

#endif /* EMF_PASSWORDS_H */
