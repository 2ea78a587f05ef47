/*
 * check_charset.c - text decoding: declared, mislabelled and unlabelled
 * Japanese and Western text, broken ISO-2022-JP, and the corpus samples.
 */
#include "config.h"

#include "core/charset.h"
#include "testutil.h"

static const struct {
	const char *label;
	const char *bytes;	/* input */
	const char *declared;
	const char *want;	/* UTF-8 */
	const char *want_cs;
} cases[] = {
	{ "iso-2022-jp", "\x1b$B$3$s$K$A$O\x1b(B", "iso-2022-jp",
	  "こんにちは", "ISO-2022-JP" },
	{ "iso-2022-jp NEC circled digit (CP50221)", "\x1b$B-!\x1b(B1",
	  "ISO-2022-JP", "①1", "ISO-2022-JP" },
	{ "iso-2022-jp labelled us-ascii", "\x1b$B@A5a=q\x1b(B", "us-ascii",
	  "請求書", "ISO-2022-JP" },
	{ "iso-2022-jp unlabelled", "pw \x1b$B%Q%9%o!<%I\x1b(B: x", NULL,
	  "pw パスワード: x", "ISO-2022-JP" },
	{ "iso-2022-jp broken escape dropped", "a\x1b$Zb\x1b$B$\"\x1b(Bc",
	  "iso-2022-jp", "ab" "あ" "c", "ISO-2022-JP" },
	{ "iso-2022-jp missing return to ASCII at line end",
	  "\x1b$B$\"\nabc", "iso-2022-jp", "あ\nabc", "ISO-2022-JP" },
	{ "iso-2022-jp half-width katakana", "\x1b(I11\x1b(B", "iso-2022-jp",
	  "ｱｱ", "ISO-2022-JP" },
	{ "shift_jis", "\x90\xbf\x8b\x81\x8f\x91", "Shift_JIS", "請求書",
	  "CP932" },
	{ "shift_jis NEC extension", "\x87\x40", "shift_jis", "①", "CP932" },
	{ "shift_jis mislabelled utf-8",
	  "\x83\x70\x83\x58\x83\x8f\x81\x5b\x83\x68", "utf-8", "パスワード",
	  "CP932" },
	{ "shift_jis unlabelled", "\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd",
	  NULL, "こんにちは", "CP932" },
	{ "euc-jp", "\xa4\xb3\xa4\xf3\xa4\xcb\xa4\xc1\xa4\xcf", "euc-jp",
	  "こんにちは", "EUC-JP-MS" },
	{ "euc-jp unlabelled", "\xc0\xc1\xb5\xe1\xbd\xf1\xa4\xf2\xa4\xb4"
	  "\xb3\xce\xc7\xa7\xa4\xaf\xa4\xc0\xa4\xb5\xa4\xa4", NULL,
	  "請求書をご確認ください", "EUC-JP-MS" },
	{ "utf-8 labelled iso-8859-1", "caf\xc3\xa9", "iso-8859-1", "café",
	  "UTF-8" },
	{ "latin1", "caf\xe9", "iso-8859-1", "café", "WINDOWS-1252" },
	{ "cp1252 quotes labelled ascii", "\x93hi\x94", "us-ascii",
	  "\xe2\x80\x9chi\xe2\x80\x9d", "WINDOWS-1252" },
	{ "unknown label falls back", "caf\xe9", "x-no-such-charset", "café",
	  "WINDOWS-1252" },
	{ "koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4", "koi8-r", "Привет", "koi8-r" },
	{ "ascii", "plain text", "utf-8", "plain text", "US-ASCII" },
};

START_TEST(decode_table)
{
	const char *used = NULL;
	char *got = emf_charset_to_utf8((const uint8_t *)cases[_i].bytes,
	    strlen(cases[_i].bytes), cases[_i].declared, &used);

	ck_assert_msg(strcmp(got, cases[_i].want) == 0,
	    "%s: got \"%s\", want \"%s\"", cases[_i].label, got, cases[_i].want);
	ck_assert_msg(g_ascii_strcasecmp(used, cases[_i].want_cs) == 0,
	    "%s: decoded as %s, want %s", cases[_i].label, used,
	    cases[_i].want_cs);
	ck_assert(g_utf8_validate(got, -1, NULL));
	g_free(got);
}
END_TEST

START_TEST(garbage_never_fails)
{
	uint8_t junk[4096];
	const char *labels[] = { NULL, "utf-8", "iso-2022-jp", "shift_jis",
		"euc-jp", "utf-7", "bogus" };

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7919u >> 3);
	junk[10] = 0x1b;
	for (size_t k = 0; k < G_N_ELEMENTS(labels); k++) {
		const char *used;
		char *s = emf_charset_to_utf8(junk, sizeof(junk), labels[k],
		    &used);

		ck_assert_msg(g_utf8_validate(s, -1, NULL),
		    "label %s: output is not UTF-8", labels[k]);
		g_free(s);
	}
}
END_TEST

/* GMime's Japanese samples decode to the same text as its UTF-8 copy. */
START_TEST(corpus_japanese_samples)
{
	static const char *const files[][2] = {
		{ "gmime-testdata/filters/japanese.iso-2022-jp.txt", "iso-2022-jp" },
		{ "gmime-testdata/filters/japanese.shift-jis.txt", "shift_jis" },
		{ "gmime-testdata/filters/japanese.shift-jis.txt", NULL },
	};
	char *ref = tu_corpus("gmime-testdata/filters/japanese.utf-8.txt");
	char *want;

	if (ref == NULL)
		return;		/* corpus absent: nothing to compare */
	ck_assert(g_file_get_contents(ref, &want, NULL, NULL));
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		char *p = tu_corpus(files[i][0]), *data, *got;
		gsize len;
		const char *used;

		ck_assert_ptr_nonnull(p);
		ck_assert(g_file_get_contents(p, &data, &len, NULL));
		got = emf_charset_to_utf8((uint8_t *)data, len, files[i][1],
		    &used);
		ck_assert_msg(strcmp(got, want) == 0,
		    "%s (%s): decoded text differs from japanese.utf-8.txt",
		    files[i][0], files[i][1] ? files[i][1] : "unlabelled");
		g_free(got);
		g_free(data);
		g_free(p);
	}
	g_free(want);
	g_free(ref);
}
END_TEST

/*
 * emf_utf8_nfkc() normalises in pieces cut after blanks (and copies ASCII
 * pieces as they are): over a long text with blanks the result must be
 * the same as one g_utf8_normalize() call. Half-width katakana with a
 * voiced mark (NFKC composes the pair), full-width Latin and digits, and
 * long ASCII runs, so that cuts fall everywhere.
 */
START_TEST(nfkc_in_pieces_equals_whole)
{
	static const char *words[] = { "ｶﾞｲﾄﾞ", "ＰＡＳＳ１２３", "ascii-only-word",
		"ﾊﾟｽﾜｰﾄﾞ", "請求書", "①②", "e\xcc\x81t\xc3\xa9", "Ａｂｃ" };
	GString *text = g_string_new(NULL);
	char *want, *got;

	for (unsigned i = 0; text->len < 100000; i++) {
		g_string_append(text, words[(i * 7 + i / 3) % G_N_ELEMENTS(words)]);
		/* ASCII runs longer than a piece, and blanks of several kinds */
		if (i % 97 == 0)
			for (int k = 0; k < 600; k++)
				g_string_append(text, "plain ascii ");
		g_string_append(text, i % 5 == 0 ? "\n" : " ");
	}
	want = g_utf8_normalize(text->str, -1, G_NORMALIZE_NFKC);
	got = emf_utf8_nfkc(text->str, text->len);
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strcmp(got, want) == 0, "pieces differ from one call "
	    "(got %zu bytes, want %zu)", strlen(got), strlen(want));
	g_free(want);
	g_free(got);
	g_string_free(text, TRUE);
}
END_TEST

/*
 * emf_utf8_nfkc() cuts long texts into pieces: wherever it cuts, the
 * result must be g_utf8_normalize()'s over the whole text. The texts have
 * no blanks, so only the boundary before ASCII keeps a base letter with
 * its combining mark ("e" U+0301, decomposed kana) in one piece.
 */
static const char *const nfkc_units[] = {
	"e\xcc\x81",					/* e + acute: é */
	"\xe3\x83\x8f\xe3\x82\x9a\xef\xbc\xa1" "b1",	/* ハ゜Ａb1 */
	"\xef\xbe\x8a\xef\xbe\x9f\xef\xbd\xbd" "x",	/* ﾊﾟｽx */
	"A\xcc\x8a\xe2\x84\xab",			/* A ring, Ångström */
};

START_TEST(nfkc_pieces)
{
	const char *unit = nfkc_units[_i % G_N_ELEMENTS(nfkc_units)];
	GString *t = g_string_new(NULL);
	char *got, *want;

	/* Shift the units against the pieces by 0-2 two-byte letters (é). */
	for (int k = 0; k < _i / (int)G_N_ELEMENTS(nfkc_units); k++)
		g_string_append(t, "\xc3\xa9");
	/* Well past NFKC_CHUNK (2048 bytes). */
	while (t->len < 40000)
		g_string_append(t, unit);
	got = emf_utf8_nfkc(t->str, t->len);
	want = g_utf8_normalize(t->str, (gssize)t->len, G_NORMALIZE_NFKC);
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strcmp(got, want) == 0, "unit %d shift %d: NFKC differs "
	    "when cut", _i % (int)G_N_ELEMENTS(nfkc_units),
	    _i / (int)G_N_ELEMENTS(nfkc_units));
	g_free(got);
	g_free(want);
	g_string_free(t, TRUE);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("charset");
	TCase *tc = tcase_create("decode");

	tcase_add_loop_test(tc, decode_table, 0, G_N_ELEMENTS(cases));
	tcase_add_test(tc, garbage_never_fails);
	tcase_add_test(tc, nfkc_in_pieces_equals_whole);
	tcase_add_test(tc, corpus_japanese_samples);
	tcase_add_loop_test(tc, nfkc_pieces, 0,
	    3 * (int)G_N_ELEMENTS(nfkc_units));
	suite_add_tcase(s, tc);
	return tu_run(s);
}
