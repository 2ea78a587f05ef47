/*
 * check_lure.c - "Enable Content" lures: phrases in several languages and
 * encodings, negations and security notices, body and document texts.
 */
#include "config.h"

#include "core/engine.h"
#include "detect/lure.h"
#include "core/scan.h"
#include "testutil.h"

static const struct {
	const char *text;
	const char *want;	/* phrase matched, or NULL */
	const char *why;	/* reason when a phrase was seen but not raised */
} cases[] = {
	{ "This document is protected. Please click Enable Editing and then "
	  "Enable Content.", "enable editing", NULL },
	{ "To view it, ENABLE\n   CONTENT above.", "enable content", NULL },
	{ "To view it, enable\u200b content above.", "enable content", NULL },
	{ "表示するには「コンテンツの有効化」をクリックしてください。",
	  "コンテンツの有効化", NULL },
	{ "編集を有効にするボタンを押してください", "編集を有効にする", NULL },
	{ "ｺﾝﾃﾝﾂの有効化を押してください", "コンテンツの有効化", NULL },
	{ "Klicken Sie auf \"Inhalt aktivieren\".", "inhalt aktivieren", NULL },
	{ "Fare clic su Abilita contenuto per visualizzare", "abilita contenuto",
	  NULL },
	{ "Haga clic en Habilitar contenido", "habilitar contenido", NULL },
	{ "Cliquez sur Activer le contenu", "activer le contenu", NULL },
	/* negations and warnings */
	{ "Please do not click Enable Content in mails you did not expect.",
	  NULL, "negated" },
	{ "Never enable macros in documents from outside.", NULL, "negated" },
	{ "Don't press the 'Enable Content' button.", NULL, "negated" },
	{ "「コンテンツの有効化」は絶対にクリックしないでください。", NULL,
	  "negated" },
	{ "マクロを有効にするボタンは押さないでください", NULL, "negated" },
	{ "【注意喚起】Emotetの感染拡大について。添付を開いたら、コンテンツの"
	  "有効化をクリックするよう指示されます。", NULL, "security warning" },
	{ "Security awareness: attackers ask you to enable content.", NULL,
	  "security warning" },
	/* nothing */
	{ "We enabled editing on the shared sheet for you.", NULL, NULL },
	{ "The site will enable contention handling.", NULL, NULL },
	{ "", NULL, NULL },
};

START_TEST(match_cases)
{
	struct emf_engine *e = tu_engine(NULL);
	const struct emf_lure *l = e->mod[EMF_MOD_LURE];
	const char *why = NULL;
	const char *m = emf_lure_match(l, cases[_i].text,
	    strlen(cases[_i].text), &why);

	if (cases[_i].want == NULL)
		ck_assert_msg(m == NULL, "\"%s\": got %s, want no match",
		    cases[_i].text, m);
	else
		ck_assert_msg(m != NULL && strcmp(m, cases[_i].want) == 0,
		    "\"%s\": got %s, want %s", cases[_i].text, m ? m : "(none)",
		    cases[_i].want);
	if (cases[_i].why != NULL)
		ck_assert_msg(why != NULL && strcmp(why, cases[_i].why) == 0,
		    "\"%s\": got reason %s, want %s", cases[_i].text,
		    why ? why : "(none)", cases[_i].why);
	emf_engine_unref(e);
}
END_TEST

START_TEST(configured_phrases_and_warnings)
{
	struct emf_engine *e = tu_engine("lure = { phrases = [ \"Öffnen Sie "
	    "die Vorschau\" ]; warning_words = [ \"CSIRT-Hinweis\" ]; };");
	const struct emf_lure *l = e->mod[EMF_MOD_LURE];
	const char *t1 = "Bitte öffnen sie die  VORSCHAU.";
	const char *t2 = "csirt-hinweis: man wird gebeten, öffnen sie die "
	    "vorschau";
	const char *why;

	ck_assert_str_eq(emf_lure_match(l, t1, strlen(t1), NULL),
	    "Öffnen Sie die Vorschau");
	ck_assert_ptr_null(emf_lure_match(l, t2, strlen(t2), &why));
	ck_assert_str_eq(why, "security warning");
	emf_engine_unref(e);
}
END_TEST

static const struct {
	const char *charset;
	const char *body;
	bool want;
} bodies[] = {
	{ "ISO-2022-JP", "請求書を添付します。「コンテンツの有効化」を押してください。", true },
	{ "Shift_JIS", "請求書を添付します。「編集を有効にする」を押してください。", true },
	{ "ISO-2022-JP", "「コンテンツの有効化」をクリックしないでください。", false },
	{ "Shift_JIS", "Emotetに注意：コンテンツの有効化を押させる手口です。", false },
	{ "UTF-8", "Please Enable Content to read the invoice.", true },
};

START_TEST(body_symbol)
{
	struct emf_engine *e = tu_engine(NULL);
	gsize n;
	char *body = g_convert(bodies[_i].body, -1, bodies[_i].charset, "UTF-8",
	    NULL, &n, NULL);
	char *msg = g_strdup_printf("From: a@example.jp\nSubject: x\n"
	    "MIME-Version: 1.0\nContent-Type: text/plain; charset=%s\n\n%.*s\n",
	    bodies[_i].charset, (int)n, body);
	struct emf_report *r = tu_scan(e, msg);

	ck_assert_msg(emf_report_has_symbol(r, "LURE_ENABLE_CONTENT_BODY") ==
	    bodies[_i].want, "[%s] %s: got %s", bodies[_i].charset,
	    bodies[_i].body, emf_report_symbols_summary(r));
	ck_assert(!emf_report_has_symbol(r, "LURE_ENABLE_CONTENT_DOC"));
	emf_report_free(r);
	g_free(msg);
	g_free(body);
	emf_engine_unref(e);
}
END_TEST

/* Document text (as the Office module adds it) gives the DOC symbol with
 * the document's path; an attached text file is no body. */
START_TEST(document_symbol)
{
	struct emf_engine *e = tu_engine(NULL);
	struct emf_scan *s = emf_scan_new(e, NULL);
	struct emf_object *doc = emf_object_child(s, NULL, "請求書.doc", NULL,
	    NULL, 0);
	const char *t = "このドキュメントは保護されています。編集を有効にする をクリックし、"
	    "コンテンツの有効化 をクリックしてください。";

	emf_text_add(s, EMF_TEXT_DOCUMENT, doc, t, strlen(t));
	emf_lure_run(s);
	ck_assert(emf_scan_has_symbol(s, "LURE_ENABLE_CONTENT_DOC"));
	ck_assert(!emf_scan_has_symbol(s, "LURE_ENABLE_CONTENT_BODY"));
	ck_assert_ptr_nonnull(doc->lure);
	ck_assert_str_eq(g_ptr_array_index(doc->lure, 0), "編集を有効にする");
	emf_scan_free(s);
	emf_engine_unref(e);
}
END_TEST

START_TEST(fold)
{
	char *f = emf_fold("  Ｅｎａｂｌｅ\t\n ＣＯＮＴＥＮＴ\xc2\xad ", -1);

	ck_assert_str_eq(f, "enable content");
	g_free(f);
	f = emf_fold("bad \xff utf8", -1);
	ck_assert(g_utf8_validate(f, -1, NULL));
	g_free(f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("lure");
	TCase *tc = tcase_create("lure");

	tcase_add_loop_test(tc, match_cases, 0, G_N_ELEMENTS(cases));
	tcase_add_test(tc, configured_phrases_and_warnings);
	tcase_add_loop_test(tc, body_symbol, 0, G_N_ELEMENTS(bodies));
	tcase_add_test(tc, document_symbol);
	tcase_add_test(tc, fold);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
