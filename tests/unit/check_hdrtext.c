/*
 * check_hdrtext.c - header text the milter writes: a Japanese
 * subject_prefix before ISO-2022-JP, UTF-8 and plain subjects, encoded
 * words that decode back, lines within 76 columns, nothing that breaks
 * the header.
 */
#include "config.h"

#include <gmime/gmime.h>

#include "../../src/milter/hdrtext.h"
#include "testutil.h"

#define JP_PREFIX "\xe3\x80\x90\xe8\xa6\x81\xe6\xb3\xa8\xe6\x84\x8f\xe3\x80\x91" /* 【要注意】 */
#define JP_INVOICE "\xe8\xab\x8b\xe6\xb1\x82\xe6\x9b\xb8\xe3\x81\xae\xe3\x81\x94\xe9\x80\x81\xe4\xbb\x98" /* 請求書のご送付 */
#define JP_ORDER "\xe3\x81\x94\xe6\xb3\xa8\xe6\x96\x87\xe3\x81\xae\xe7\xa2\xba\xe8\xaa\x8d" /* ご注文の確認 */
#define ISO2022JP_INVOICE "=?ISO-2022-JP?B?GyRCQEE1YT1xJE4kNEF3SVUbKEI=?="
#define UTF8_ORDER "=?UTF-8?B?44GU5rOo5paH44Gu56K66KqN?="

/* Unfold ("\n " -> " ") and decode, as a mail reader shows the value. */
static char *
shown(const char *value)
{
	GString *s = g_string_new(NULL);
	char *d;

	for (const char *p = value; *p != '\0'; p++)
		if (*p != '\n')
			g_string_append_c(s, *p);
	/* the space after "Name:" is not part of the text */
	d = g_mime_utils_header_decode_text(NULL, s->str[0] == ' ' ?
	    s->str + 1 : s->str);
	g_string_free(s, TRUE);
	return d;
}

/* Every line of "Name:value" within 76 columns, folds only as "\n ",
 * no other control character, encoded words within 75 characters. */
static void
assert_well_formed(const char *name, const char *value)
{
	char *line = g_strconcat(name, ":", value, NULL);
	char **lines = g_strsplit(line, "\n", -1);

	ck_assert_msg(value[0] == ' ', "value '%s' lacks its leading space",
	    value);
	for (char **l = lines; *l != NULL; l++) {
		ck_assert_msg(strlen(*l) <= 76, "line of %zu columns: '%s'",
		    strlen(*l), *l);
		if (l != lines)
			ck_assert_msg((*l)[0] == ' ', "fold without white "
			    "space: '%s'", *l);
		for (const char *p = *l; *p != '\0'; p++)
			ck_assert_msg((unsigned char)*p >= 0x20,
			    "control character 0x%02x in '%s'",
			    (unsigned char)*p, *l);
		/* =?CHARSET?B?TEXT?= */
		for (char *w = strstr(*l, "=?"); w != NULL;) {
			char *cs = strchr(w + 2, '?');
			char *e = cs != NULL ? strstr(cs + 3, "?=") : NULL;

			ck_assert_msg(e != NULL && e + 2 - w <= 75,
			    "bad or long encoded word in '%s'", *l);
			w = strstr(e + 2, "=?");
		}
	}
	g_strfreev(lines);
	g_free(line);
}

static bool
is_ascii_str(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

START_TEST(ascii_prefix_keeps_subject_bytes)
{
	char *v = emf_hdr_subject("[SUSPICIOUS]", " hello there");

	ck_assert_str_eq(v, " [SUSPICIOUS] hello there");
	g_free(v);
	/* before an encoded word: the word is untouched, a space between */
	v = emf_hdr_subject("[SUSPICIOUS]", " " ISO2022JP_INVOICE);
	ck_assert_str_eq(v, " [SUSPICIOUS] " ISO2022JP_INVOICE);
	g_free(v);
}
END_TEST

START_TEST(jp_prefix_before_iso2022jp_subject)
{
	char *v = emf_hdr_subject(JP_PREFIX, " " ISO2022JP_INVOICE);
	char *d = shown(v);

	assert_well_formed("Subject", v);
	ck_assert_msg(is_ascii_str(v), "raw UTF-8 in '%s'", v);
	ck_assert_str_eq(d, JP_PREFIX " " JP_INVOICE);
	/* the original encoded word is there byte for byte */
	ck_assert(g_str_has_suffix(v, ISO2022JP_INVOICE));
	g_free(d);
	g_free(v);
}
END_TEST

START_TEST(jp_prefix_before_utf8_subject)
{
	char *v = emf_hdr_subject(JP_PREFIX, " " UTF8_ORDER);
	char *d = shown(v);

	assert_well_formed("Subject", v);
	ck_assert_str_eq(d, JP_PREFIX " " JP_ORDER);
	ck_assert(g_str_has_suffix(v, UTF8_ORDER));
	g_free(d);
	g_free(v);
}
END_TEST

START_TEST(jp_prefix_before_plain_subject)
{
	char *v = emf_hdr_subject(JP_PREFIX, " Invoice 2026-11");
	char *d = shown(v);

	assert_well_formed("Subject", v);
	ck_assert_str_eq(d, JP_PREFIX " Invoice 2026-11");
	g_free(d);
	g_free(v);
}
END_TEST

START_TEST(jp_prefix_without_subject)
{
	char *v = emf_hdr_subject(JP_PREFIX, NULL);
	char *d = shown(v);

	assert_well_formed("Subject", v);
	ck_assert_str_eq(d, JP_PREFIX);
	ck_assert_str_eq(v, " =?UTF-8?Q?=E3=80=90=E8=A6=81=E6=B3=A8=E6=84=8F=E3=80=91?=");
	g_free(d);
	g_free(v);
}
END_TEST

/* A long prefix: several words, folded, each decodes on its own. */
START_TEST(long_prefix_folds)
{
	GString *p = g_string_new(NULL);
	char *v, *d, *want;

	for (int i = 0; i < 12; i++)
		g_string_append(p, JP_PREFIX);
	v = emf_hdr_subject(p->str, " " ISO2022JP_INVOICE);
	assert_well_formed("Subject", v);
	ck_assert_ptr_nonnull(strstr(v, "\n "));
	d = shown(v);
	want = g_strconcat(p->str, " ", JP_INVOICE, NULL);
	ck_assert_str_eq(d, want);
	g_free(want);
	g_free(d);
	g_free(v);
	g_string_free(p, TRUE);
}
END_TEST

/* CR, LF and invalid UTF-8 in the configured text never reach the header. */
START_TEST(controls_and_bad_utf8_dropped)
{
	char *v = emf_hdr_subject(JP_PREFIX "\r\nBcc: x@example.org\xff", " hi");

	assert_well_formed("Subject", v);
	ck_assert_ptr_null(strstr(v, "\nBcc"));
	g_free(v);
	v = emf_hdr_value("X-Test", "a\r\nb\tc");
	ck_assert_str_eq(v, " ab c");
	g_free(v);
}
END_TEST

START_TEST(ascii_value_folds_at_spaces)
{
	GString *t = g_string_new(NULL);
	char *v, *u;

	for (int i = 0; i < 30; i++)
		g_string_append_printf(t, "%sSYMBOL_%d(1)", i ? " " : "", i);
	v = emf_hdr_value("X-Emofilter-Symbols", t->str);
	assert_well_formed("X-Emofilter-Symbols", v);
	u = g_strdup(v);
	g_strdelimit(u, "\n", ' ');
	/* unfolded: the same words, single spaces */
	{
		char **w = g_strsplit(g_strstrip(u), " ", -1);
		char *j = NULL;
		GString *k = g_string_new(NULL);

		for (char **x = w; *x != NULL; x++)
			if (**x != '\0')
				g_string_append_printf(k, "%s%s", k->len ?
				    " " : "", *x);
		j = g_string_free(k, FALSE);
		ck_assert_str_eq(j, t->str);
		g_free(j);
		g_strfreev(w);
	}
	g_free(u);
	g_free(v);
	g_string_free(t, TRUE);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hdrtext");
	TCase *tc = tcase_create("hdrtext");
	SRunner *sr;
	int nf;

	g_mime_init();
	tcase_add_test(tc, ascii_prefix_keeps_subject_bytes);
	tcase_add_test(tc, jp_prefix_before_iso2022jp_subject);
	tcase_add_test(tc, jp_prefix_before_utf8_subject);
	tcase_add_test(tc, jp_prefix_before_plain_subject);
	tcase_add_test(tc, jp_prefix_without_subject);
	tcase_add_test(tc, long_prefix_folds);
	tcase_add_test(tc, controls_and_bad_utf8_dropped);
	tcase_add_test(tc, ascii_value_folds_at_spaces);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	g_mime_shutdown();
	return nf == 0 ? 0 : 1;
}
