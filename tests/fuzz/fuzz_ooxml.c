/*
 * fuzz_ooxml.c - the tolerant XML scanner of OOXML parts: text runs
 * ("t") and formulas ("f") as ooxml.c takes them from document parts and
 * macro sheets, relationships and defined names.
 *
 * Contracts checked: the text never exceeds the cap, also when a second
 * element kind is appended to the same buffer; from valid UTF-8 in, the
 * text, every relationship type and target and every defined name are
 * valid UTF-8 (the scanner decodes entities itself, so it must not make
 * invalid sequences); callbacks never see NULL.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "office/ooxml.h"

#define CAP (1u << 16)

struct seen {
	bool utf8_in;		/* the input was valid UTF-8 */
};

static void
on_rel(void *ctx, const char *type, const char *target, bool external)
{
	struct seen *s = ctx;

	(void)external;
	FUZZ_ASSERT(type != NULL && target != NULL);
	if (s->utf8_in) {
		FUZZ_ASSERT(g_utf8_validate(type, -1, NULL));
		FUZZ_ASSERT(g_utf8_validate(target, -1, NULL));
	}
}

static void
on_name(void *ctx, const char *name)
{
	struct seen *s = ctx;

	FUZZ_ASSERT(name != NULL);
	if (s->utf8_in)
		FUZZ_ASSERT(g_utf8_validate(name, -1, NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *xml = (const char *)data;
	GString *t = g_string_new(NULL);
	struct seen s = { 0 };

	s.utf8_in = g_utf8_validate(xml, (gssize)size, NULL);
	emf_ooxml_xml_text(xml, size, "t", t, CAP);
	FUZZ_ASSERT(t->len <= CAP);
	if (s.utf8_in)
		FUZZ_ASSERT(g_utf8_validate(t->str, (gssize)t->len, NULL));
	/* Appended to the same buffer, as ooxml.c collects formulas. */
	emf_ooxml_xml_text(xml, size, "f", t, CAP);
	FUZZ_ASSERT(t->len <= CAP);
	if (s.utf8_in)
		FUZZ_ASSERT(g_utf8_validate(t->str, (gssize)t->len, NULL));
	g_string_truncate(t, 0);
	/* A cap small enough to cut inside a character. */
	emf_ooxml_xml_text(xml, size, "t", t, 7);
	FUZZ_ASSERT(t->len <= 7);
	if (s.utf8_in)
		FUZZ_ASSERT(g_utf8_validate(t->str, (gssize)t->len, NULL));
	emf_ooxml_rels(xml, size, on_rel, &s);
	emf_ooxml_defined_names(xml, size, on_name, &s);
	g_string_free(t, TRUE);
	return 0;
}
