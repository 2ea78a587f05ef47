/*
 * html.h - HTML output of emofilter-web: escaping and the page frame.
 *
 * Every string that came from a message, a report, the store or the
 * request reaches a page through html_text() or html_attr(): first made
 * safe as for a terminal (qsafe.h: control characters, ANSI escapes,
 * bidirectional overrides and invalid bytes become visible \x1b, \u202e),
 * then HTML-escaped (& < > " '), so that it is text, never markup, in
 * element content and in quoted attribute values alike.
 */
#ifndef EMF_HTML_H
#define EMF_HTML_H

#include <glib.h>

#include "web.h"

/* Append s (NULL: nothing) made safe and HTML-escaped. */
void html_text(GString *out, const char *s);
/* The same, for a quoted attribute value (the same escaping). */
#define html_attr html_text
/* Multi-line text for a <pre>: each line as html_text() (a '\r' before
 * the line end dropped), joined by newlines. */
void html_lines(GString *out, const char *s);
/* The first max characters of s, made safe, "…" when cut, escaped. */
void html_cut(GString *out, const char *s, long max);
/* s percent-encoded for a query string value (RFC 3986 unreserved kept). */
void url_encode(GString *out, const char *s);

/* <!doctype html> ... <main>, with the navigation for session s (NULL:
 * the login page). */
void page_begin(GString *out, const char *title, const struct session *s);
/* </main></body></html> */
void page_end(GString *out);
/* A hidden input with the CSRF token of s. */
void csrf_input(GString *out, const struct session *s);

/* The stylesheet served at /style.css. */
extern const char web_css[];

#endif /* EMF_HTML_H */
