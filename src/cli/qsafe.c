/*
 * qsafe.c - terminal-safe escaping of untrusted text (see qsafe.h).
 */
#include "config.h"

#include <stdbool.h>

#include "qsafe.h"

/* Format characters that reorder or hide text: C1, zero-width, bidi. */
static bool
is_hidden_format(gunichar c)
{
	return (c >= 0x80 && c < 0xa0) || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
	    c == 0x2028 || c == 0x2029 || c == 0xfeff;
}

static void
append_char(GString *out, gunichar c)
{
	if (c == '\\')
		g_string_append(out, "\\\\");
	else if (c == '\n')
		g_string_append(out, "\\n");
	else if (c == '\r')
		g_string_append(out, "\\r");
	else if (c == '\t')
		g_string_append(out, "\\t");
	else if (c < 0x20 || c == 0x7f)
		g_string_append_printf(out, "\\x%02x", c);
	else if (is_hidden_format(c))
		g_string_append_printf(out, "\\u%04x", c);
	else
		g_string_append_unichar(out, c);
}

void
safe_append(GString *out, const char *s)
{
	const char *p = s;

	if (s == NULL)
		return;
	while (*p != '\0') {
		gunichar c = g_utf8_get_char_validated(p, -1);

		if (c == (gunichar)-1 || c == (gunichar)-2) {
			/* An invalid byte: show it, resynchronise after it. */
			g_string_append_printf(out, "\\x%02x",
			    (unsigned char)*p);
			p++;
			continue;
		}
		append_char(out, c);
		p = g_utf8_next_char(p);
	}
}

char *
safe_dup(const char *s)
{
	GString *g = g_string_new(NULL);

	safe_append(g, s ? s : "");
	return g_string_free(g, FALSE);
}

char *
safe_cut(const char *s, long max)
{
	char *full = safe_dup(s);

	if (g_utf8_strlen(full, -1) > max) {
		char *cut = g_utf8_substring(full, 0, max - 1);
		char *r = g_strconcat(cut, "…", NULL);

		g_free(cut);
		g_free(full);
		return r;
	}
	return full;
}
