/*
 * html.h - HTML reduced to the text a reader sees, for the heuristics.
 *
 * Not a renderer: tags are dropped, block elements become line breaks,
 * entities are decoded, script/style/head content is skipped. Link
 * targets are collected. Linear in the input, no recursion.
 */
#ifndef EMF_HTML_H
#define EMF_HTML_H

#include <glib.h>
#include <stddef.h>

/* Reduce UTF-8 HTML to text (g_free). urls, if not NULL, gets href/src
 * values appended (char *, g_free). */
char *emf_html_to_text(const char *html, size_t len, GPtrArray *urls);

/* The charset a <meta> tag declares in the first 4 KiB, or NULL (g_free). */
char *emf_html_meta_charset(const char *html, size_t len);

#endif /* EMF_HTML_H */
