/*
 * html.c - HTML to plain text: what a mail reader would show.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "html.h"

static const struct { const char *name; const char *utf8; } entities[] = {
	{ "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" },
	{ "apos", "'" }, { "nbsp", " " }, { "copy", "\xc2\xa9" },
	{ "reg", "\xc2\xae" }, { "yen", "\xc2\xa5" }, { "middot", "\xc2\xb7" },
	{ "hellip", "\xe2\x80\xa6" }, { "ndash", "\xe2\x80\x93" },
	{ "mdash", "\xe2\x80\x94" }, { "lsquo", "\xe2\x80\x98" },
	{ "rsquo", "\xe2\x80\x99" }, { "ldquo", "\xe2\x80\x9c" },
	{ "rdquo", "\xe2\x80\x9d" }, { "bull", "\xe2\x80\xa2" },
	{ "euro", "\xe2\x82\xac" }, { "zwnj", "" }, { "zwj", "" },
	{ "shy", "" }, { "ensp", " " }, { "emsp", " " }, { "thinsp", " " },
};

/* Decode the entity at p (after '&'); returns bytes consumed or 0. */
static size_t
entity(const char *p, const char *end, GString *out)
{
	size_t n = 0;

	while (p + n < end && n < 12 && (g_ascii_isalnum(p[n]) || p[n] == '#'))
		n++;
	if (n == 0)
		return 0;
	if (p[0] == '#') {
		gunichar c;
		char *e;
		char num[16];

		memcpy(num, p + 1, n - 1);
		num[n - 1] = '\0';
		if (num[0] == 'x' || num[0] == 'X')
			c = (gunichar)g_ascii_strtoull(num + 1, &e, 16);
		else
			c = (gunichar)g_ascii_strtoull(num, &e, 10);
		if (*e != '\0' || c == 0)
			return 0;
		if (!g_unichar_validate(c))
			c = 0xfffd;
		g_string_append_unichar(out, c);
	} else {
		size_t k;

		for (k = 0; k < G_N_ELEMENTS(entities); k++)
			if (strlen(entities[k].name) == n &&
			    strncmp(entities[k].name, p, n) == 0)
				break;
		if (k == G_N_ELEMENTS(entities))
			return 0;
		g_string_append(out, entities[k].utf8);
	}
	if (p + n < end && p[n] == ';')
		n++;
	return n;
}

static bool
tag_is(const char *tag, size_t tl, const char *name)
{
	size_t n = strlen(name);

	return tl >= n && g_ascii_strncasecmp(tag, name, n) == 0 &&
	    (tl == n || !g_ascii_isalnum(tag[n]));
}

/* The value of attribute attr inside a tag, or NULL (g_free). */
static char *
attr_value(const char *tag, size_t tl, const char *attr)
{
	size_t an = strlen(attr);

	for (size_t i = 0; i + an < tl; i++) {
		if ((i == 0 || g_ascii_isspace(tag[i - 1])) &&
		    g_ascii_strncasecmp(tag + i, attr, an) == 0) {
			size_t j = i + an, s, e;

			while (j < tl && g_ascii_isspace(tag[j]))
				j++;
			if (j >= tl || tag[j] != '=')
				continue;
			j++;
			while (j < tl && g_ascii_isspace(tag[j]))
				j++;
			if (j < tl && (tag[j] == '"' || tag[j] == '\'')) {
				char q = tag[j++];

				s = j;
				while (j < tl && tag[j] != q)
					j++;
				e = j;
			} else {
				s = j;
				while (j < tl && !g_ascii_isspace(tag[j]) &&
				    tag[j] != '>')
					j++;
				e = j;
			}
			return g_strndup(tag + s, e - s);
		}
	}
	return NULL;
}

static void
newline(GString *out)
{
	if (out->len > 0 && out->str[out->len - 1] != '\n')
		g_string_append_c(out, '\n');
}

char *
emf_html_to_text(const char *html, size_t len, GPtrArray *urls)
{
	static const char *const blocks[] = { "br", "p", "/p", "div", "/div",
		"tr", "/tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "/h1",
		"/h2", "/h3", "/h4", "/h5", "/h6", "table", "/table", "hr",
		"blockquote", "/blockquote", "pre", "/pre", "ul", "/ul", "ol",
		"/ol", "dt", "dd", NULL };
	static const char *const skips[] = { "script", "style", "head",
		"title", NULL };
	const char *p = html, *end = html + len;
	GString *out = g_string_sized_new(len / 2 + 16);
	bool space = false;

	while (p < end) {
		if (*p == '<') {
			const char *t = p + 1, *q;
			size_t tl;

			if (end - p >= 4 && strncmp(p, "<!--", 4) == 0) {
				q = g_strstr_len(p + 4, end - p - 4, "-->");
				p = q ? q + 3 : end;
				continue;
			}
			q = memchr(t, '>', (size_t)(end - t));
			if (q == NULL)
				break;
			tl = (size_t)(q - t);
			for (size_t k = 0; skips[k] != NULL; k++) {
				if (tag_is(t, tl, skips[k])) {
					/* Skip to the closing tag. */
					char *close = g_strdup_printf("</%s",
					    skips[k]);
					const char *c = NULL;

					for (const char *s = q; s + strlen(close) <= end; s++) {
						if (*s == '<' &&
						    g_ascii_strncasecmp(s, close,
						    strlen(close)) == 0) {
							c = s;
							break;
						}
					}
					g_free(close);
					/*
					 * Unclosed: skip nothing. Browsers show
					 * what follows an unclosed <head>, and
					 * swallowing the rest would hide a lure.
					 */
					if (c != NULL) {
						const char *gt = memchr(c, '>',
						    (size_t)(end - c));

						q = gt ? gt : end - 1;
					}
					break;
				}
			}
			for (size_t k = 0; blocks[k] != NULL; k++)
				if (tag_is(t, tl, blocks[k])) {
					newline(out);
					break;
				}
			if (tag_is(t, tl, "td") || tag_is(t, tl, "th"))
				g_string_append_c(out, ' ');
			if (urls != NULL && (tag_is(t, tl, "a") ||
			    tag_is(t, tl, "area") || tag_is(t, tl, "form"))) {
				char *v = attr_value(t, tl, tag_is(t, tl, "form") ?
				    "action" : "href");

				if (v != NULL && urls->len < 500)
					g_ptr_array_add(urls, v);
				else
					g_free(v);
			}
			p = q + 1;
			space = false;
			continue;
		}
		if (*p == '&') {
			size_t n = entity(p + 1, end, out);

			if (n > 0) {
				p += n + 1;
				space = false;
				continue;
			}
		}
		if (*p == '\r' || *p == '\n' || *p == '\t' || *p == ' ') {
			if (!space && out->len > 0 &&
			    out->str[out->len - 1] != '\n')
				g_string_append_c(out, ' ');
			space = true;
			p++;
			continue;
		}
		space = false;
		g_string_append_c(out, *p++);
	}
	return g_string_free(out, FALSE);
}

char *
emf_html_meta_charset(const char *html, size_t len)
{
	size_t n = len < 4096 ? len : 4096;
	const char *p, *end;

	/* An empty part comes as (NULL, 0). */
	if (html == NULL || n == 0)
		return NULL;
	p = html;
	end = html + n;

	while (p < end) {
		const char *m = g_strstr_len(p, end - p, "charset");
		size_t i;

		if (m == NULL) {
			/* Case variants are rare; try upper case once. */
			m = g_strstr_len(p, end - p, "CHARSET");
			if (m == NULL)
				return NULL;
		}
		i = (size_t)(m - html) + 7;
		while (i < n && (html[i] == ' ' || html[i] == '='))
			i++;
		while (i < n && (html[i] == '"' || html[i] == '\''))
			i++;
		{
			size_t s = i;

			while (i < n && (g_ascii_isalnum(html[i]) ||
			    html[i] == '-' || html[i] == '_'))
				i++;
			if (i > s)
				return g_strndup(html + s, i - s);
		}
		p = m + 7;
	}
	return NULL;
}
