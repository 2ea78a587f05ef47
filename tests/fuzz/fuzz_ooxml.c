/*
 * fuzz_ooxml.c - libFuzzer harness: the tolerant XML scanner of OOXML
 * parts (text runs, formulas, relationships, defined names).
 */
#include "config.h"

#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "ooxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
on_rel(void *ctx, const char *type, const char *target, bool external)
{
	*(size_t *)ctx += strlen(type) + strlen(target) + external;
}

static void
on_name(void *ctx, const char *name)
{
	*(size_t *)ctx += strlen(name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GString *t = g_string_new(NULL);
	size_t n = 0;

	emf_ooxml_xml_text((const char *)data, size, "t", t, 1 << 16);
	if (!g_utf8_validate(t->str, (gssize)t->len, NULL) && size > 0 &&
	    g_utf8_validate((const char *)data, (gssize)size, NULL))
		__builtin_trap();	/* valid in, invalid out: a bug */
	emf_ooxml_xml_text((const char *)data, size, "f", t, 1 << 16);
	emf_ooxml_rels((const char *)data, size, on_rel, &n);
	emf_ooxml_defined_names((const char *)data, size, on_name, &n);
	g_string_free(t, TRUE);
	return 0;
}
