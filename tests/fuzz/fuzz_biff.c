/*
 * fuzz_biff.c - the BIFF record walk (xlm.c), SYLK, the text run
 * extractor and the PowerPoint embedded-storage finder (office.c): the
 * stream-level parsers office.c runs on the streams of a compound file.
 *
 * Contracts checked: a walk that refuses the input leaves *info empty; an
 * accepted one names a BIFF version, says how it is encrypted when it is,
 * and keeps at most NAMES_MAX (xlm.c) sheet and Auto_Open names, in
 * UTF-8; SYLK reports a macro exactly when it returns true, in UTF-8 when
 * the input was; text runs are UTF-8 within the cap (also a cap that
 * cuts a character); every storage handed out is a compound file within
 * the cap, and the count returned is the count handed out.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "office/office.h"
#include "office/ole.h"
#include "office/xlm.h"

#define NAMES_MAX 64
#define TEXT_CAP (1u << 16)
#define PPT_CAP (1u << 20)
#define PPT_MAX 8

/* A list of names: never empty once created, capped, UTF-8 if utf8. */
static void
names_checked(const GPtrArray *a, bool utf8)
{
	if (a == NULL)
		return;
	FUZZ_ASSERT(a->len >= 1 && a->len <= NAMES_MAX);
	for (guint i = 0; utf8 && i < a->len; i++)
		FUZZ_ASSERT(g_utf8_validate(g_ptr_array_index(a, i), -1,
		    NULL));
}

static void
take(void *ctx, uint8_t *d, size_t len)
{
	FUZZ_ASSERT(d != NULL && len >= 512 && len <= PPT_CAP);
	FUZZ_ASSERT(memcmp(d, EMF_OLE_MAGIC, 8) == 0);
	(*(unsigned *)ctx)++;
	g_free(d);
}

static void
runs_checked(const uint8_t *data, size_t size, size_t cap)
{
	GString *t = g_string_new(NULL);

	emf_office_text_runs(data, size, t, cap);
	FUZZ_ASSERT(t->len <= cap);
	FUZZ_ASSERT(g_utf8_validate(t->str, (gssize)t->len, NULL));
	g_string_free(t, TRUE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emf_biff_info bi;
	GString *f = g_string_new(NULL);
	unsigned got = 0, n;
	bool sylk, utf8_in;

	if (emf_biff_walk(data, size, &bi)) {
		FUZZ_ASSERT(bi.biff == 2 || bi.biff == 3 || bi.biff == 4 ||
		    bi.biff == 5 || bi.biff == 8);
		FUZZ_ASSERT(bi.encrypted == (bi.encryption != NULL));
		/* BIFF strings are decoded to code points: always UTF-8. */
		names_checked(bi.macro_sheets, true);
		names_checked(bi.auto_names, true);
	} else {
		FUZZ_ASSERT(bi.biff == 0 && bi.macro_sheets == NULL &&
		    bi.auto_names == NULL && !bi.encrypted);
	}
	emf_biff_info_clear(&bi);

	utf8_in = g_utf8_validate((const char *)data, (gssize)size, NULL);
	sylk = emf_sylk_macro(data, size, &bi, f);
	FUZZ_ASSERT(sylk == (bi.macro_sheets != NULL ||
	    bi.auto_names != NULL));
	/* SYLK names and formulas are the file's own bytes. */
	names_checked(bi.macro_sheets, true);
	names_checked(bi.auto_names, utf8_in);
	if (utf8_in)
		FUZZ_ASSERT(g_utf8_validate(f->str, (gssize)f->len, NULL));
	emf_biff_info_clear(&bi);
	g_string_free(f, TRUE);

	runs_checked(data, size, TEXT_CAP);
	runs_checked(data, size, 9);

	n = emf_office_ppt_storages(data, size, PPT_CAP, PPT_MAX, take, &got);
	FUZZ_ASSERT(n == got && n <= PPT_MAX);
	return 0;
}
