/*
 * hdrtext.c - header text the milter writes (see hdrtext.h).
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "hdrtext.h"

#define LINE_MAX_COLS 76	/* RFC 2047: lines with encoded words */

/* Valid UTF-8 without control characters (tab becomes a space). */
static char *
clean_text(const char *text)
{
	char *valid = g_utf8_make_valid(text != NULL ? text : "", -1);
	GString *s = g_string_sized_new(strlen(valid));

	for (const char *p = valid; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\t')
			g_string_append_c(s, ' ');
		else if (c >= 0x20 && c != 0x7f)
			g_string_append_c(s, (char)c);
	}
	g_free(valid);
	return g_string_free(s, FALSE);
}

static bool
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* Space or a fold before a token of n columns (never a fold first). */
static void
separate(GString *out, size_t *col, size_t n)
{
	if (out->len > 0 && *col + 1 + n > LINE_MAX_COLS) {
		g_string_append(out, "\n ");
		*col = 1;
	} else {
		g_string_append_c(out, ' ');
		(*col)++;
	}
}

#define WORD_FRAME 12		/* "=?UTF-8?Q?" "?=" */
#define WORD_MAX 75		/* RFC 2047: an encoded word */

/* The Q encoding of one character (RFC 2047 4.2, the safe subset). */
static void
q_char(GString *s, const char *c, const char *end)
{
	for (; c < end; c++) {
		unsigned char b = (unsigned char)*c;

		if (b == ' ')
			g_string_append_c(s, '_');
		else if (g_ascii_isalnum(b) || strchr("!*+-/", b) != NULL)
			g_string_append_c(s, (char)b);
		else
			g_string_append_printf(s, "=%02X", b);
	}
}

/*
 * text as encoded words (UTF-8, Q), each preceded by a space or a fold
 * and sized to the room left on its line, whole characters only, so each
 * word decodes on its own. Q rather than B: some decoders (GMime) join
 * adjacent B words before decoding and lose text after a padded one.
 */
static void
append_words(GString *out, size_t *col, const char *text)
{
	const char *p = text;
	GString *w = g_string_new(NULL), *c = g_string_new(NULL);

	while (*p != '\0') {
		size_t room;

		/* A fold when not even a short word fits. */
		separate(out, col, WORD_FRAME + 9);
		room = *col + WORD_FRAME < LINE_MAX_COLS ?
		    LINE_MAX_COLS - *col - WORD_FRAME : 0;
		if (room > WORD_MAX - WORD_FRAME)
			room = WORD_MAX - WORD_FRAME;
		g_string_truncate(w, 0);
		while (*p != '\0') {
			const char *n = g_utf8_next_char(p);

			g_string_truncate(c, 0);
			q_char(c, p, n);
			if (w->len > 0 && w->len + c->len > room)
				break;
			g_string_append_len(w, c->str, (gssize)c->len);
			p = n;
		}
		g_string_append_printf(out, "=?UTF-8?Q?%s?=", w->str);
		*col += WORD_FRAME + w->len;
	}
	g_string_free(c, TRUE);
	g_string_free(w, TRUE);
}

/* ASCII text: words separated by spaces or folds, as they fit. */
static void
append_ascii(GString *out, size_t *col, const char *text)
{
	char **words = g_strsplit(text, " ", -1);

	for (char **w = words; *w != NULL; w++) {
		if (**w == '\0')
			continue;
		separate(out, col, strlen(*w));
		g_string_append(out, *w);
		*col += strlen(*w);
	}
	g_strfreev(words);
}

char *
emf_hdr_value(const char *name, const char *text)
{
	char *t = clean_text(text);
	GString *out = g_string_new(NULL);
	size_t col = strlen(name) + 1;	/* "Name:" */

	if (is_ascii(t))
		append_ascii(out, &col, t);
	else
		append_words(out, &col, t);
	if (out->len == 0)
		g_string_append_c(out, ' ');
	g_free(t);
	return g_string_free(out, FALSE);
}

char *
emf_hdr_subject(const char *prefix, const char *orig)
{
	const char *rest;
	char *p, *v;
	GString *out;
	size_t col = strlen("Subject:"), first;

	if (orig == NULL)
		return emf_hdr_value("Subject", prefix);
	p = clean_text(prefix);
	rest = orig;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	out = g_string_new(NULL);
	if (is_ascii(p)) {
		append_ascii(out, &col, p);
	} else if (strncmp(rest, "=?", 2) == 0) {
		v = g_strconcat(p, " ", NULL);
		append_words(out, &col, v);
		g_free(v);
	} else {
		append_words(out, &col, p);
	}
	g_free(p);
	/* The original follows, as received; a fold before it when its
	 * first line would pass 76 columns behind the prefix. */
	first = strcspn(rest, "\r\n");
	if (*rest != '\0')
		separate(out, &col, first);
	g_string_append(out, rest);
	if (out->len == 0)
		g_string_append_c(out, ' ');
	return g_string_free(out, FALSE);
}
