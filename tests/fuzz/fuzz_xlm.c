/*
 * fuzz_xlm.c - XLM formula decoding (xlm.c): the parsed-token decoder
 * emf_xlm_formula() in its BIFF5, BIFF8 and BIFF12 token sizes, the
 * FORMULA records of a BIFF5/BIFF8 macro sheet (emf_biff_walk()), the
 * BIFF12 cells and defined names of an .xlsb (emf_xlsb_formulas(),
 * emf_xlsb_names()), the findings (emf_xlm_analyse()), and the .xlsb /
 * .xlsm macro sheet paths of the OOXML handler, through a scan of a
 * package built around the input.
 *
 * Input: a list of formulas, each a 2-byte little-endian length and that
 * many bytes of parsed tokens (rgce; the last one is cut at the end of
 * the input). The whole input is also given raw to the decoder and, as a
 * BIFF12 record stream, to the .xlsb readers.
 *
 * Contracts checked: a decoded formula is valid UTF-8 and at most
 * FORMULA_MAX bytes; a macro sheet of N FORMULA records gives N formulas
 * (BIFF5 and BIFF8), each a "CELL: =" line, in UTF-8; a BIFF12 sheet of
 * N formula cells gives N; the names of workbook.bin are capped and
 * UTF-8; every finding is an "XLM ..." text; the package scans always
 * give a report (fuzz_report: UTF-8 JSON).
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "office/xlm.h"

#define FORMULA_MAX 8192	/* one formula's text (xlm.c) */
#define NAMES_MAX 64		/* Auto_Open-style names kept (xlm.c) */
#define ALL_NAMES_MAX 4096	/* defined names kept (xlm.c) */
#define CHUNKS_MAX 100		/* formulas taken from one input: 100 of
				 * FORMULA_MAX stay below EMF_XLM_TEXT_MAX */

static struct emf_engine *engine;
static GPtrArray *names;	/* PtgName targets */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	emf_library_init();
	engine = fuzz_engine(NULL);
	names = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(names, g_strdup("Auto_Open"));
	g_ptr_array_add(names, g_strdup("名前"));
	g_ptr_array_add(names, g_strdup("x\"y"));
	return 0;
}

struct chunk {
	const uint8_t *d;
	size_t len;
};

static size_t
chunks_of(const uint8_t *data, size_t size, struct chunk *c)
{
	size_t n = 0, i = 0;

	while (i + 2 <= size && n < CHUNKS_MAX) {
		size_t len = (size_t)data[i] | (size_t)data[i + 1] << 8;

		i += 2;
		len = MIN(len, size - i);
		c[n].d = data + i;
		c[n].len = len;
		n++;
		i += len;
	}
	return n;
}

static void
le(GByteArray *b, uint32_t v, int bytes)
{
	fuzz_le(b, v, bytes);
}

static void
biff_rec(GByteArray *b, uint16_t type, const uint8_t *body, size_t n)
{
	le(b, type, 2);
	le(b, (uint32_t)n, 2);
	g_byte_array_append(b, body, (guint)n);
}

/* A BIFF5 or BIFF8 macro sheet: BOF, one FORMULA record a chunk, EOF. */
static GByteArray *
macro_sheet(unsigned biff, const struct chunk *c, size_t n)
{
	GByteArray *b = g_byte_array_new();
	uint8_t bof[16] = { 0 };

	bof[0] = 0x00;
	bof[1] = biff == 8 ? 0x06 : 0x05;	/* vers */
	bof[2] = 0x40;				/* dt: macro sheet */
	biff_rec(b, 0x0809, bof, biff == 8 ? 16 : 8);
	for (size_t i = 0; i < n; i++) {
		GByteArray *f = g_byte_array_new();
		size_t cce = MIN(c[i].len, 0xFFFFu - 22);

		le(f, (uint32_t)(i / 4), 2);	/* row */
		le(f, (uint32_t)(i % 4), 2);	/* col */
		le(f, 15, 2);			/* ixfe */
		le(f, 0, 4);			/* value */
		le(f, 0, 4);
		le(f, 0, 2);			/* grbit */
		le(f, 0, 4);			/* chn */
		le(f, (uint32_t)cce, 2);
		g_byte_array_append(f, c[i].d, (guint)cce);
		biff_rec(b, 0x0006, f->data, f->len);
		g_byte_array_free(f, TRUE);
	}
	biff_rec(b, 0x000A, NULL, 0);
	return b;
}

/* A BIFF12 record: type and size as 7-bit varints. */
static void
b12_rec(GByteArray *b, unsigned type, const GByteArray *body)
{
	uint8_t t[2];
	size_t n = body->len;

	if (type < 0x80) {
		t[0] = (uint8_t)type;
		g_byte_array_append(b, t, 1);
	} else {
		t[0] = (uint8_t)(0x80 | (type & 0x7F));
		t[1] = (uint8_t)(type >> 7);
		g_byte_array_append(b, t, 2);
	}
	do {
		uint8_t c = n & 0x7F;

		n >>= 7;
		if (n > 0)
			c |= 0x80;
		g_byte_array_append(b, &c, 1);
	} while (n > 0);
	g_byte_array_append(b, body->data, body->len);
}

/* An .xlsb macro sheet: a row header and one BrtFmla* cell a chunk. */
static GByteArray *
xlsb_sheet(const struct chunk *c, size_t n)
{
	GByteArray *b = g_byte_array_new();

	for (size_t i = 0; i < n; i++) {
		GByteArray *r = g_byte_array_new();
		unsigned type = 8 + (unsigned)(i % 4);	/* String..Error */

		if (i % 4 == 0) {
			le(r, (uint32_t)(i / 4), 4);
			b12_rec(b, 0, r);		/* BrtRowHdr */
			g_byte_array_set_size(r, 0);
		}
		le(r, (uint32_t)(i % 4), 4);		/* column */
		le(r, 0, 4);				/* iStyleRef */
		if (type == 8) {
			le(r, 2, 4);			/* "ok" */
			le(r, 'o', 2);
			le(r, 'k', 2);
		} else if (type == 9) {
			le(r, 0, 4);
			le(r, 0, 4);
		} else {
			le(r, 1, 1);
		}
		le(r, 0, 2);				/* grbitFlags */
		le(r, (uint32_t)c[i].len, 4);		/* cce */
		g_byte_array_append(r, c[i].d, (guint)c[i].len);
		le(r, 0, 4);				/* cb */
		b12_rec(b, type, r);
		g_byte_array_free(r, TRUE);
	}
	return b;
}

/* workbook.bin: a BrtName for each of a few names, one from the input. */
static GByteArray *
xlsb_workbook(const uint8_t *data, size_t size)
{
	static const char *const fixed[] = { "Auto_Open", "Auto_Open2",
		"Sheet1!R1C1" };
	GByteArray *b = g_byte_array_new();

	for (size_t k = 0; k <= G_N_ELEMENTS(fixed); k++) {
		GByteArray *r = g_byte_array_new();
		size_t cch = k < G_N_ELEMENTS(fixed) ? strlen(fixed[k]) :
		    MIN(size / 2, 255u);

		le(r, 0, 4);		/* flags */
		le(r, 0, 1);		/* chKey */
		le(r, 0xFFFFFFFFu, 4);	/* itab */
		le(r, (uint32_t)cch, 4);
		for (size_t i = 0; i < cch; i++)
			le(r, k < G_N_ELEMENTS(fixed) ? (uint8_t)fixed[k][i] :
			    (uint32_t)data[2 * i] | (uint32_t)data[2 * i + 1] << 8,
			    2);
		b12_rec(b, 39, r);
		g_byte_array_free(r, TRUE);
	}
	return b;
}

static void
formula_checked(const uint8_t *d, size_t len, unsigned biff,
    const GPtrArray *nm, GString *all)
{
	GString *f = g_string_new(NULL);

	(void)emf_xlm_formula(d, len, biff, nm, f);
	FUZZ_ASSERT(f->len <= FORMULA_MAX);
	FUZZ_ASSERT(g_utf8_validate(f->str, (gssize)f->len, NULL));
	if (all != NULL && all->len < 65536) {
		/* As an .xlsm cell: <f> character data, escaped. */
		char *esc = g_markup_escape_text(f->str, (gssize)f->len);

		g_string_append_printf(all, "<c r=\"A%u\"><f>%s</f></c>",
		    (unsigned)all->len, esc);
		g_free(esc);
	}
	g_string_free(f, TRUE);
}

static void
findings_checked(const char *s, size_t len)
{
	GPtrArray *sus = NULL;

	emf_xlm_analyse(s, len, &sus);
	if (sus == NULL)
		return;
	FUZZ_ASSERT(sus->len >= 1 && sus->len <= NAMES_MAX);
	for (guint i = 0; i < sus->len; i++)
		FUZZ_ASSERT(g_str_has_prefix(g_ptr_array_index(sus, i),
		    "XLM "));
	g_ptr_array_free(sus, TRUE);
}

static void
sheet_checked(unsigned biff, const struct chunk *c, size_t n)
{
	GByteArray *b = macro_sheet(biff, c, n);
	struct emf_biff_info bi;
	size_t lines = 0;

	FUZZ_ASSERT(emf_biff_walk(b->data, b->len, &bi));
	FUZZ_ASSERT(bi.biff == biff && !bi.malformed && !bi.encrypted);
	FUZZ_ASSERT(bi.macro_sheets != NULL);
	FUZZ_ASSERT(bi.nformulas == n);
	FUZZ_ASSERT((n == 0) == (bi.formulas == NULL));
	if (bi.formulas != NULL) {
		const char *s = bi.formulas->str;

		FUZZ_ASSERT(g_utf8_validate(s, (gssize)bi.formulas->len,
		    NULL));
		FUZZ_ASSERT(g_str_has_prefix(s, "A1: ="));
		for (size_t i = 0; i < bi.formulas->len; i++)
			lines += s[i] == '\n';
		FUZZ_ASSERT(lines >= n);
		findings_checked(s, bi.formulas->len);
	}
	emf_biff_info_clear(&bi);
	g_byte_array_free(b, TRUE);
}

static void
xlsb_checked(const uint8_t *d, size_t len, size_t want)
{
	GString *out = g_string_new(NULL);
	unsigned n = emf_xlsb_formulas(d, len, names, out);

	if (want != (size_t)-1)
		FUZZ_ASSERT(n == want);
	FUZZ_ASSERT(out->len <= EMF_XLM_TEXT_MAX + FORMULA_MAX + 32);
	FUZZ_ASSERT(g_utf8_validate(out->str, (gssize)out->len, NULL));
	findings_checked(out->str, out->len);
	g_string_free(out, TRUE);
}

static void
names_checked(const uint8_t *d, size_t len)
{
	struct emf_biff_info bi = { 0 };

	emf_xlsb_names(d, len, &bi);
	if (bi.names != NULL) {
		FUZZ_ASSERT(bi.names->len <= ALL_NAMES_MAX);
		for (guint i = 0; i < bi.names->len; i++)
			FUZZ_ASSERT(g_utf8_validate(g_ptr_array_index(
			    bi.names, i), -1, NULL));
	}
	if (bi.auto_names != NULL)
		FUZZ_ASSERT(bi.auto_names->len <= NAMES_MAX);
	emf_biff_info_clear(&bi);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chunk c[CHUNKS_MAX] = { { NULL, 0 } };
	size_t n = chunks_of(data, size, c);
	GString *cells = g_string_new(NULL);
	GByteArray *sheet, *wb;
	struct emf_report *r = NULL;

	/* The decoder alone, on the whole input and on each formula. */
	formula_checked(data, size, 5, names, NULL);
	formula_checked(data, size, 8, NULL, NULL);
	formula_checked(data, size, 12, names, NULL);
	for (size_t i = 0; i < n; i++) {
		formula_checked(c[i].d, c[i].len, 8, names, cells);
		formula_checked(c[i].d, c[i].len, 5, names, NULL);
		formula_checked(c[i].d, c[i].len, 12, names, NULL);
	}
	/* BIFF8 and BIFF5 macro sheets. */
	sheet_checked(8, c, n);
	sheet_checked(5, c, n);
	/* .xlsb: the input as records, then as cells. */
	xlsb_checked(data, size, (size_t)-1);
	names_checked(data, size);
	sheet = xlsb_sheet(c, n);
	xlsb_checked(sheet->data, sheet->len, n);
	wb = xlsb_workbook(data, size);
	names_checked(wb->data, wb->len);
	findings_checked((const char *)data, size);

	/* The OOXML handler's macro sheet paths, through a scan. */
	{
		static const char ct[] = "<?xml version=\"1.0\"?><Types "
		    "xmlns=\"http://schemas.openxmlformats.org/package/2006/"
		    "content-types\"/>";
		char *xml = g_strdup_printf("<?xml version=\"1.0\"?>"
		    "<xm:macrosheet xmlns:xm=\"http://schemas.microsoft.com/"
		    "office/excel/2006/main\"><sheetData><row>%s</row>"
		    "</sheetData></xm:macrosheet>", cells->str);
		const char *pn[] = { "[Content_Types].xml", "xl/workbook.bin",
		    "xl/macrosheets/sheet1.bin", "xl/macrosheets/sheet2.xml",
		    "xl/macrosheets/sheet3.xml" };
		const uint8_t *pd[] = { (const uint8_t *)ct, wb->data,
		    sheet->data, (const uint8_t *)xml, data };
		size_t pl[] = { strlen(ct), wb->len, sheet->len, strlen(xml),
		    size };
		size_t zlen;
		uint8_t *zip = fuzz_zip_stored(pn, pd, pl, G_N_ELEMENTS(pn),
		    &zlen);

		FUZZ_ASSERT(emf_scan_file(engine, zip, zlen, "fuzz.xlsb",
		    NULL, &r) == EMF_OK);
		/* Macro sheets were named: the XLM finding is certain. */
		FUZZ_ASSERT(fuzz_has_symbol(r, "XLM_MACRO"));
		fuzz_report(r);
		g_free(zip);
		g_free(xml);
	}
	g_byte_array_free(wb, TRUE);
	g_byte_array_free(sheet, TRUE);
	g_string_free(cells, TRUE);
	return 0;
}
