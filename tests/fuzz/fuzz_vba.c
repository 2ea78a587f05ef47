/*
 * fuzz_vba.c - MS-OVBA: the input decompressed as a CompressedContainer,
 * the dir stream parser over the decompressed output and over the raw
 * input, and the source analysis of the output read in the project's
 * code page (as office.c reads a module: decompress, to UTF-8, analyse).
 *
 * Contracts checked: the output is NUL-terminated, within the cap, and
 * exactly the cap when *capped says so; a parsed project holds 1 to
 * max_modules modules whose names and stream names are UTF-8; a refused
 * dir stream comes with a reason; the code page conversion gives UTF-8;
 * the findings are UTF-8 and capped (LIST_MAX in vba.c).
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "office/vba.h"

#define CAP (1u << 20)
#define MAX_MODULES 100
#define LIST_MAX 64

/* Parse d[0..len) as a dir stream; the project's code page, or 0. */
static unsigned
dir_checked(const uint8_t *d, size_t len)
{
	struct emf_vba_project *p = NULL;
	bool capped = false;
	char *why = NULL;
	unsigned cp;

	if (emf_vba_dir_parse(d, len, MAX_MODULES, &p, &capped, &why) !=
	    EMF_OK) {
		FUZZ_ASSERT(p == NULL);
		FUZZ_ASSERT(why != NULL);
		g_free(why);
		return 0;
	}
	FUZZ_ASSERT(p != NULL && p->modules != NULL);
	FUZZ_ASSERT(p->modules->len >= 1 && p->modules->len <= MAX_MODULES);
	for (guint i = 0; i < p->modules->len; i++) {
		const struct emf_vba_module *m = g_ptr_array_index(p->modules,
		    i);

		FUZZ_ASSERT(m->name != NULL && m->stream != NULL);
		FUZZ_ASSERT(g_utf8_validate(m->name, -1, NULL));
		FUZZ_ASSERT(g_utf8_validate(m->stream, -1, NULL));
	}
	cp = p->codepage;
	emf_vba_project_free(p);
	return cp;
}

static void
list_checked(const GPtrArray *a)
{
	if (a == NULL)
		return;
	FUZZ_ASSERT(a->len <= LIST_MAX);
	for (guint i = 0; i < a->len; i++)
		FUZZ_ASSERT(g_utf8_validate(g_ptr_array_index(a, i), -1,
		    NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emf_vba_findings f = { 0 };
	uint8_t *out = NULL;
	size_t outlen = 0;
	bool capped = false;
	unsigned cp, cp_raw;
	char *src;

	if (emf_vba_decompress(data, size, CAP, &out, &outlen, &capped) ==
	    EMF_OK)
		FUZZ_ASSERT(size > 0 && data[0] == 0x01);
	FUZZ_ASSERT(out != NULL && out[outlen] == '\0');
	FUZZ_ASSERT(outlen <= CAP && (!capped || outlen == CAP));
	cp = dir_checked(out, outlen);
	cp_raw = dir_checked(data, size);
	/* The code page of whichever dir stream parsed: a module's source. */
	src = emf_vba_to_utf8(out, outlen, cp ? cp : cp_raw ? cp_raw : 1252);
	FUZZ_ASSERT(src != NULL && g_utf8_validate(src, -1, NULL));
	emf_vba_analyse(src, strlen(src), &f);
	list_checked(f.autoexec);
	list_checked(f.suspicious);
	list_checked(f.urls);
	emf_vba_findings_clear(&f);
	FUZZ_ASSERT(f.autoexec == NULL && f.suspicious == NULL &&
	    f.urls == NULL);
	g_free(src);
	g_free(out);
	return 0;
}
