/*
 * fuzz_rels.c - OOXML relationships and DDE fields (ooxml.c, office.c):
 * the .rels reader with its external targets and URI schemes (remote
 * templates, OLE links, frames, sub-documents, ms-msdt: and the other
 * dangerous schemes, a vbaProject target resolved against its folder),
 * Word field codes (instrText runs, fldSimple) with the DDE / DDEAUTO
 * reader, Excel ddeLink parts and defined names, as the OOXML handler
 * runs them: the input is every one of those parts of a package built
 * around it (each reader takes its own elements), scanned whole; then
 * the same input behind the headers of the single-file forms (Word 2003
 * XML, SpreadsheetML 2003 with its ss:Formula DDE cells), which the flat
 * handler reads the same way.
 *
 * Contracts checked: the .rels reader never hands out NULL, and UTF-8
 * from UTF-8; every external relationship it gives with a dangerous
 * scheme raises OFFICE_DANGEROUS_SCHEME in the package's scan, an
 * external attachedTemplate to a web URL OFFICE_EXTERNAL_TEMPLATE, an
 * external oleObject, frame or subDocument to a web URL
 * OFFICE_EXTERNAL_OBJECT; the scans always give a report (fuzz_report:
 * UTF-8 JSON).
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "office/office.h"
#include "office/ooxml.h"

static struct emf_engine *engine;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	emf_library_init();
	engine = fuzz_engine(NULL);
	return 0;
}

struct want {
	bool utf8_in;
	bool scheme, tmpl, object;
};

static bool
web(const char *t)
{
	while (*t == ' ')
		t++;
	return g_ascii_strncasecmp(t, "http://", 7) == 0 ||
	    g_ascii_strncasecmp(t, "https://", 8) == 0;
}

static void
on_rel(void *ctx, const char *type, const char *target, bool external)
{
	struct want *w = ctx;
	const char *slash, *kind;

	FUZZ_ASSERT(type != NULL && target != NULL);
	if (w->utf8_in) {
		FUZZ_ASSERT(g_utf8_validate(type, -1, NULL));
		FUZZ_ASSERT(g_utf8_validate(target, -1, NULL));
	}
	if (!external)
		return;
	slash = strrchr(type, '/');
	kind = slash ? slash + 1 : type;
	if (emf_office_dangerous_scheme(target) != NULL)
		w->scheme = true;
	if (!web(target))
		return;
	if (g_ascii_strcasecmp(kind, "attachedTemplate") == 0)
		w->tmpl = true;
	else if (g_ascii_strcasecmp(kind, "oleObject") == 0 ||
	    g_ascii_strcasecmp(kind, "frame") == 0 ||
	    g_ascii_strcasecmp(kind, "subDocument") == 0)
		w->object = true;
}

static struct emf_report *
scan(const uint8_t *d, size_t n, const char *name)
{
	struct emf_report *r = NULL;

	FUZZ_ASSERT(emf_scan_file(engine, d, n, name, NULL, &r) == EMF_OK);
	return r;
}

/* The input behind the head of a single-file form, then its end. */
static void
flat(const uint8_t *data, size_t size, const char *head, const char *tail)
{
	GByteArray *b = g_byte_array_new();
	struct emf_report *r;

	g_byte_array_append(b, (const guint8 *)head, (guint)strlen(head));
	g_byte_array_append(b, data, (guint)size);
	g_byte_array_append(b, (const guint8 *)tail, (guint)strlen(tail));
	r = scan(b->data, b->len, "fuzz.xml");
	fuzz_report(r);
	g_byte_array_free(b, TRUE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char ct[] = "<?xml version=\"1.0\"?><Types xmlns=\""
	    "http://schemas.openxmlformats.org/package/2006/content-types\">"
	    "<Default Extension=\"rels\" ContentType=\"application/"
	    "vnd.openxmlformats-package.relationships+xml\"/></Types>";
	const char *pn[] = { "[Content_Types].xml", "_rels/.rels",
	    "word/_rels/document.xml.rels", "word/document.xml",
	    "word/_rels/settings.xml.rels", "xl/externalLinks/externalLink1.xml",
	    "xl/workbook.xml" };
	const uint8_t *pd[G_N_ELEMENTS(pn)];
	size_t pl[G_N_ELEMENTS(pn)], zlen;
	struct want w = { 0 };
	struct emf_report *r;
	uint8_t *zip;

	w.utf8_in = g_utf8_validate((const char *)data, (gssize)size, NULL);
	emf_ooxml_rels((const char *)data, size, on_rel, &w);

	pd[0] = (const uint8_t *)ct;
	pl[0] = strlen(ct);
	for (size_t i = 1; i < G_N_ELEMENTS(pn); i++) {
		pd[i] = data;
		pl[i] = size;
	}
	zip = fuzz_zip_stored(pn, pd, pl, G_N_ELEMENTS(pn), &zlen);
	r = scan(zip, zlen, "fuzz.docx");
	if (w.scheme)
		FUZZ_ASSERT(fuzz_has_symbol(r, "OFFICE_DANGEROUS_SCHEME"));
	if (w.tmpl)
		FUZZ_ASSERT(fuzz_has_symbol(r, "OFFICE_EXTERNAL_TEMPLATE"));
	if (w.object)
		FUZZ_ASSERT(fuzz_has_symbol(r, "OFFICE_EXTERNAL_OBJECT"));
	fuzz_report(r);
	g_free(zip);

	flat(data, size, "<?xml version=\"1.0\"?>\n<w:wordDocument xmlns:w="
	    "\"http://schemas.microsoft.com/office/word/2003/wordml\">",
	    "</w:wordDocument>");
	flat(data, size, "<?xml version=\"1.0\"?>\n<Workbook xmlns=\"urn:"
	    "schemas-microsoft-com:office:spreadsheet\" xmlns:ss=\"urn:"
	    "schemas-microsoft-com:office:spreadsheet\">", "</Workbook>");
	return 0;
}
