/*
 * fuzz_biff.c - libFuzzer harness: the BIFF record walk, SYLK, the text
 * run extractor and the PowerPoint embedded-storage finder.
 */
#include "config.h"

#include <glib.h>

#include "office.h"
#include "xlm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
take(void *ctx, uint8_t *d, size_t len)
{
	*(size_t *)ctx += len;
	g_free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emf_biff_info bi;
	GString *t = g_string_new(NULL);
	size_t n = 0;

	if (emf_biff_walk(data, size, &bi))
		emf_biff_info_clear(&bi);
	emf_sylk_macro(data, size, &bi, t);
	emf_biff_info_clear(&bi);
	g_string_truncate(t, 0);
	emf_office_text_runs(data, size, t, 1 << 16);
	if (!g_utf8_validate(t->str, (gssize)t->len, NULL))
		__builtin_trap();
	emf_office_ppt_storages(data, size, 1 << 20, 8, take, &n);
	g_string_free(t, TRUE);
	return 0;
}
