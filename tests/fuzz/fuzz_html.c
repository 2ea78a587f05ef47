/*
 * fuzz_html.c - HTML reduction and the <meta charset> sniffer.
 *
 * emf_html_meta_charset() sees the raw bytes (as mime.c gives it);
 * emf_html_to_text() sees them made valid UTF-8 (as mime.c gives it, after
 * charset decoding). Contract checked: the text is valid UTF-8 and every
 * URL collected is a string.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "mail/html.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GPtrArray *urls = g_ptr_array_new_with_free_func(g_free);
	char *meta, *utf8, *text;

	meta = emf_html_meta_charset((const char *)data, size);
	if (meta != NULL)
		FUZZ_ASSERT(strlen(meta) < size + 1);
	g_free(meta);
	utf8 = g_utf8_make_valid((const char *)data, (gssize)size);
	text = emf_html_to_text(utf8, strlen(utf8), urls);
	FUZZ_ASSERT(text != NULL);
	FUZZ_ASSERT(g_utf8_validate(text, -1, NULL));
	for (guint i = 0; i < urls->len; i++)
		FUZZ_ASSERT(g_ptr_array_index(urls, i) != NULL);
	g_free(text);
	g_free(utf8);
	g_ptr_array_free(urls, TRUE);
	return 0;
}
