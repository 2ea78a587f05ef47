/*
 * qsafe.h - untrusted text made safe for a terminal, for
 * emofilter-quarantine.
 *
 * Everything the tool prints that came from a message or a report
 * (subjects, names, addresses, macro text, even an ID the user typed)
 * goes through these first, so that no escape sequence, bidirectional
 * override or invalid byte reaches the analyst's terminal as itself:
 * valid printable UTF-8 is kept; control characters (C0, DEL, C1),
 * bidirectional and zero-width format characters and invalid bytes
 * become visible escapes (\x1b, \u202e); a backslash is doubled, so an
 * escape in the output is never ambiguous.
 */
#ifndef EMF_QSAFE_H
#define EMF_QSAFE_H

#include <glib.h>

/* Append s (NULL: nothing) to out, escaped. */
void safe_append(GString *out, const char *s);
/* s escaped (NULL: ""), caller frees (g_free()). */
char *safe_dup(const char *s);
/* The first max characters of s escaped, "…" when cut; caller frees. */
char *safe_cut(const char *s, long max);

#endif /* EMF_QSAFE_H */
