/*
 * check_passwords.c - password harvesting: every labelled form seen in
 * Emotet mail and in legitimate PPAP mail, the cleaning around them, the
 * neighbour and bare-token passes, the bounds, the admin's own patterns
 * and bad patterns.
 */
#include "config.h"

#include <unistd.h>

#include "core/cfg.h"
#include "core/engine.h"
#include "mail/passwords.h"
#include "reportutil.h"

static struct emf_engine *engine;
static const struct emf_pwrules *rules;

static void
setup(void)
{
	engine = tu_engine(NULL);
	rules = engine->mod[EMF_MOD_PASSWORDS];
	ck_assert_ptr_nonnull(rules);
}

static void
teardown(void)
{
	emf_engine_unref(engine);
}

/* The labelled candidates of text, joined by "|". */
static char *
labelled(const char *text)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(emf_pwcand_free);
	GString *s = g_string_new(NULL);

	emf_passwords_extract(rules, text, strlen(text), NULL, false, 64, 32,
	    out);
	for (guint i = 0; i < out->len; i++) {
		const struct emf_pwcand *c = g_ptr_array_index(out, i);

		ck_assert(c->how == EMF_PW_LABELLED ||
		    c->how == EMF_PW_LABELLED_DIGITS);
		g_string_append_printf(s, "%s%s", i ? "|" : "", c->value);
	}
	g_ptr_array_free(out, TRUE);
	return g_string_free(s, FALSE);
}

static const struct {
	const char *text;
	const char *want;	/* candidates joined by "|" */
} forms[] = {
	/* Japanese labels */
	{ "添付ファイルのパスワード: L51ylaH", "L51ylaH" },
	{ "パスワード：L51ylaH", "L51ylaH" },			/* full-width colon */
	{ "パスワードは L51ylaH です。", "L51ylaH" },
	{ "パスワードはL51ylaHです", "L51ylaH" },
	{ "【パスワード】L51ylaH", "L51ylaH" },
	{ "【パスワード】\r\nL51ylaH\r\n", "L51ylaH" },
	{ "解凍パスワード L51ylaH", "L51ylaH" },
	{ "パスワード：「L51ylaH」", "L51ylaH" },
	{ "パスワードは『L51ylaH』です。", "L51ylaH" },
	{ "パスワード（半角英数）：L51ylaH", "L51ylaH" },
	{ "ﾊﾟｽﾜｰﾄﾞ: L51ylaH", "L51ylaH" },			/* half-width kana */
	{ "ＰＷ：Ｌ５１ｙｌａＨ", "L51ylaH" },			/* full-width all */
	{ "パスワード：ｐａｓｓ１２３４。", "pass1234" },
	{ "暗証番号 4821", "4821" },
	/* English labels */
	{ "PW: L51ylaH", "L51ylaH" },
	{ "Password: L51ylaH", "L51ylaH" },
	{ "password:L51ylaH.", "L51ylaH" },
	{ "The password is \"test\".", "test" },
	{ "password is 'x7Q!pz'", "x7Q!pz" },
	{ "pass: L51ylaH", "L51ylaH" },
	{ "pwd = L51ylaH;", "L51ylaH" },
	{ "Password (case sensitive): L51ylaH", "L51ylaH" },
	{ "The password for the attached file is L51ylaH.", "L51ylaH" },
	{ "password to open the zip: Kx93!a", "Kx93!a" },
	{ "【PW】L51ylaH", "L51ylaH" },
	{ "[Password] L51ylaH", "L51ylaH" },
	{ "Password: (L51ylaH)", "L51ylaH" },
	{ "Password: ab(c)d", "ab(c)d" },
	{ "Password: <L51ylaH>,", "L51ylaH" },
	{ "パスワード: “L51ylaH”", "L51ylaH" },
	/* two in one text, in order */
	{ "PW: first1\nパスワード: second2", "first1|second2" },
	/* labelled digit-only passwords (issue 12 item 5) */
	{ "The password for the file is: 345", "345" },
	{ "The password for the file is:  7788", "7788" },
	{ "ZIP password - 1234", "1234" },
	{ "password 2022", "2022" },
	{ "Password:0235", "0235" },
	{ "パスワードは\n0235\n", "0235" },		/* a table cell */
	{ "パスワードは | 0235 |", "0235" },
	{ "【パスワード】 ０２３５", "0235" },		/* full-width digits */
	{ "解凍キー → 98765", "98765" },
	/* labelled, but a date, a phone or an order number: not digits */
	{ "password: 2022/03/10", "2022/03/10" },	/* the patterns' pick */
	{ "password 03-5211-4830", "" },
	{ "password 2022/03/10", "" },
	{ "password 12.5", "" },
	{ "password 12", "" },
	{ "password policy 2022", "" },
	{ "Dkim= Pass [0000000000000.JPNP255.PROD.OUTLOOK.COM]", "" },
	{ "password 12345-A", "" },
	{ "The password is 4821.", "4821" },
	/* prose, not passwords */
	{ "パスワードは別途お送りします。", "" },
	{ "パスワード付きのファイルを送ります", "" },
	{ "Your password will be sent separately.", "" },
	{ "The password is below:", "" },
	{ "passport: AB123456", "" },
	{ "bypass: yes1", "" },
	{ "Password: https://example.com/reset", "" },
	{ "password is a", "" },
};

START_TEST(labelled_forms)
{
	char *got = labelled(forms[_i].text);

	ck_assert_msg(strcmp(got, forms[_i].want) == 0,
	    "\"%s\": got \"%s\", want \"%s\"", forms[_i].text, got,
	    forms[_i].want);
	g_free(got);
}
END_TEST

static const struct {
	const char *raw;
	const char *want;	/* NULL: rejected */
} cleans[] = {
	{ "「abc123」", "abc123" },
	{ "\"test\".", "test" },
	{ "(abc)", "abc" },
	{ "abc)", "abc" },
	{ "a(b)c)", "a(b)c" },
	{ "  L51ylaH。", "L51ylaH" },
	{ "【x9y8】、", "x9y8" },
	{ "ab", NULL },
	{ "\"\"", NULL },
	{ "below", NULL },
	{ "http://x.example/", NULL },
};

/* Digits nobody labelled are never candidates, in any pass. */
static const char *const unlabelled_digits[] = {
	"ご注文番号 12345678 の件です。",
	"TEL 03-5211-4830 / FAX 03-5211-4831",
	"2022年3月10日 (2022/03/10) に発送します",
	"Order 20220310-0042 shipped, invoice 4567.",
	"〒373-3464 東京都千代田区",
	"Meeting at 1530 in room 402.",
};

START_TEST(unlabelled_digits_are_not_candidates)
{
	const char *text = unlabelled_digits[_i];
	GPtrArray *out = g_ptr_array_new_with_free_func(emf_pwcand_free);

	/* Short body: the bare pass runs too. */
	emf_passwords_extract(rules, text, strlen(text), NULL, true, 64, 32,
	    out);
	for (guint i = 0; i < out->len; i++) {
		const struct emf_pwcand *c = g_ptr_array_index(out, i);

		ck_assert_msg(strspn(c->value, "0123456789-/") !=
		    strlen(c->value), "\"%s\": took \"%s\"", text, c->value);
	}
	g_ptr_array_free(out, TRUE);
}
END_TEST

START_TEST(cleaning)
{
	char *got = emf_password_clean(cleans[_i].raw, strlen(cleans[_i].raw));

	if (cleans[_i].want == NULL)
		ck_assert_msg(got == NULL, "\"%s\": got \"%s\", want none",
		    cleans[_i].raw, got);
	else
		ck_assert_msg(got != NULL && strcmp(got, cleans[_i].want) == 0,
		    "\"%s\": got \"%s\", want \"%s\"", cleans[_i].raw,
		    got ? got : "(none)", cleans[_i].want);
	g_free(got);
}
END_TEST

static const struct {
	const char *token;
	bool want;
} likes[] = {
	{ "L51ylaH", true }, { "pass2024", true }, { "Ab#xyz", true },
	{ "482193", false }, { "Hello", false }, { "2020/09/01", false },
	{ "info@example.com", false }, { "abc", false }, { "x9", false },
};

START_TEST(password_like)
{
	ck_assert_msg(emf_password_like(likes[_i].token) == likes[_i].want,
	    "%s: got %d, want %d", likes[_i].token, !likes[_i].want,
	    likes[_i].want);
}
END_TEST

/* Every candidate of a text with all passes, "value/how" joined by "|". */
static char *
all_passes(const char *text, const char *const *names)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(emf_pwcand_free);
	GString *s = g_string_new(NULL);
	static const char *how[] = { "labelled", "digits", "neighbour", "bare" };

	emf_passwords_extract(rules, text, strlen(text), names, true, 64, 32,
	    out);
	for (guint i = 0; i < out->len; i++) {
		const struct emf_pwcand *c = g_ptr_array_index(out, i);

		g_string_append_printf(s, "%s%s/%s@%u", i ? "|" : "",
		    c->value, how[c->how], c->line);
	}
	g_ptr_array_free(out, TRUE);
	return g_string_free(s, FALSE);
}

START_TEST(neighbour_and_bare)
{
	static const char *const names[] = { "請求書.zip", NULL };
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ "請求書を送ります。\n請求書.zip : Xk39dla\nよろしく",
		  "Xk39dla/neighbour@2" },
		{ "Invoice attached.\n\nL51ylaH\n", "L51ylaH/bare@3" },
		{ "PW: a1b2c3d4\nRef 2020/09/01 Kx93pq", "a1b2c3d4/labelled@1|"
		  "Kx93pq/bare@2" },
		{ "Meeting on 2020/09/01 at Hello Tower", "" },
		/* A label glued to its value is no second, bare candidate. */
		{ "PW:L51ylaH\n", "L51ylaH/labelled@1" },
		{ "see zip\npass=Qz81xkT", "Qz81xkT/labelled@2" },
		/* ... and an unknown glued label leaves the value bare. */
		{ "Code:Kx93pq7", "Kx93pq7/bare@1" },
	};
	char *got;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		got = all_passes(cases[i].text, names);
		ck_assert_msg(strcmp(got, cases[i].want) == 0,
		    "case %zu: got \"%s\", want \"%s\"", i, got, cases[i].want);
		g_free(got);
	}
}
END_TEST

START_TEST(bare_only_in_short_bodies)
{
	GString *body = g_string_new("L51ylaH\n");
	char *got;

	while (body->len <= 600)
		g_string_append(body, "これは長い本文です。");
	got = all_passes(body->str, NULL);
	ck_assert_msg(strcmp(got, "") == 0, "got \"%s\", want none", got);
	g_free(got);
	g_string_free(body, TRUE);
}
END_TEST

START_TEST(harvest_records_sources_and_order)
{
	JsonNode *root = ru_scan_mail(engine, "=?UTF-8?B?44OR44K544Ov44O844OJOiBzdWJqMTIz?=",
	    "ご確認ください。\r\nパスワード: L51ylaH\r\n", NULL, NULL, 0,
	    NULL);
	JsonArray *pw = json_object_get_array_member(
	    json_node_get_object(root), "passwords");
	const char *want[][2] = {
		{ "subj123", "subject (labelled, pattern 3)" },
		{ "L51ylaH", "body 1 line 2 (labelled, pattern 3)" },
	};

	ck_assert_int_eq(json_array_get_length(pw), G_N_ELEMENTS(want));
	for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
		JsonObject *o = json_array_get_object_element(pw, i);

		ck_assert_msg(strcmp(ru_str(o, "password"), want[i][0]) == 0,
		    "candidate %u: got %s, want %s", i, ru_str(o, "password"),
		    want[i][0]);
		ck_assert_msg(strcmp(ru_str(o, "source"), want[i][1]) == 0,
		    "source %u: got \"%s\", want \"%s\"", i,
		    ru_str(o, "source"), want[i][1]);
		ck_assert(!ru_bool(o, "used"));
	}
	json_node_unref(root);
}
END_TEST

START_TEST(candidates_are_bounded)
{
	struct emf_engine *e = tu_engine(
	    "limits = { password_candidates = 5; password_length = 10; };\n");
	GString *body = g_string_new("PW: waytoolongpassword1\n");
	JsonNode *root;
	JsonArray *pw;

	for (int i = 0; i < 40; i++)
		g_string_append_printf(body, "PW: cand%02d\n", i);
	root = ru_scan_mail(e, "bounds", body->str, NULL, NULL, 0, NULL);
	pw = json_object_get_array_member(json_node_get_object(root),
	    "passwords");
	ck_assert_int_eq(json_array_get_length(pw), 5);
	ck_assert_str_eq(ru_str(json_array_get_object_element(pw, 0),
	    "password"), "cand00");
	ck_assert(ru_limit(root, "password_candidates"));
	json_node_unref(root);
	g_string_free(body, TRUE);
	emf_engine_unref(e);
}
END_TEST

START_TEST(admin_pattern_without_rebuild)
{
	struct emf_engine *e = tu_engine(
	    "passwords = { patterns = ( \"合言葉[[:space:]]*([!-~]+)\" );\n"
	    "  bare_token_body_bytes = 0; };\n");
	JsonNode *root = ru_scan_mail(e, "x", "合言葉 yama-kawa7\nPW: notme9\n",
	    NULL, NULL, 0, NULL);
	JsonArray *pw = json_object_get_array_member(
	    json_node_get_object(root), "passwords");

	/* Only the admin's pattern: the defaults are replaced. */
	ck_assert_int_ge(json_array_get_length(pw), 1);
	ck_assert_str_eq(ru_str(json_array_get_object_element(pw, 0),
	    "password"), "yama-kawa7");
	for (guint i = 0; i < json_array_get_length(pw); i++)
		ck_assert_str_ne(ru_str(json_array_get_object_element(pw, i),
		    "password"), "notme9");
	json_node_unref(root);
	emf_engine_unref(e);
}
END_TEST

static const struct {
	const char *conf;
	const char *want;	/* in the engine error */
} badpat[] = {
	{ "passwords = { patterns = ( \"PW: ([!-~]+\" ); };\n",
	  "passwords.patterns: pattern 1 does not compile" },
	{ "passwords = { patterns = ( \"a(b)\", \"PW: [!-~]+\" ); };\n",
	  "passwords.patterns: pattern 2 has no capture group" },
};

START_TEST(bad_pattern_fails_engine_build)
{
	char *path = tu_tempfile(badpat[_i].conf);
	struct emf_cfg *cfg;
	struct emf_engine *e = NULL;
	struct emf_error err;

	if (emf_cfg_load(path, &cfg, &err) != EMF_OK)
		ck_abort_msg("config: %s", err.msg);
	ck_assert_int_eq(emf_engine_new(cfg, &e, &err), EMF_ERR_CONFIG);
	ck_assert_ptr_null(e);
	ck_assert_msg(strstr(err.msg, badpat[_i].want) != NULL,
	    "got \"%s\", want \"%s\"", err.msg, badpat[_i].want);
	unlink(path);
	g_free(path);
}
END_TEST

START_TEST(shipped_patterns_are_the_defaults)
{
	char *path = tu_srcpath("conf/emofilter.conf");
	struct emf_cfg *cfg, *def;
	struct emf_error err;
	const char *const *a, *const *b;
	size_t n = 0;

	if (emf_cfg_load(path, &cfg, &err) != EMF_OK)
		ck_abort_msg("%s", err.msg);
	ck_assert_int_eq(emf_cfg_load(NULL, &def, &err), EMF_OK);
	a = emf_cfg_strlist(cfg, "passwords.patterns");
	b = emf_cfg_strlist(def, "passwords.patterns");
	for (; a[n] != NULL && b[n] != NULL; n++)
		ck_assert_msg(strcmp(a[n], b[n]) == 0,
		    "pattern %zu: file \"%s\", built-in \"%s\"", n + 1, a[n],
		    b[n]);
	ck_assert_msg(a[n] == NULL && b[n] == NULL,
	    "file and built-in defaults differ in length");
	ck_assert_int_ge(n, 3);
	emf_cfg_free(cfg);
	emf_cfg_free(def);
	g_free(path);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("passwords");
	TCase *tc = tcase_create("extract");
	TCase *ts = tcase_create("scan");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, labelled_forms, 0, G_N_ELEMENTS(forms));
	tcase_add_loop_test(tc, unlabelled_digits_are_not_candidates, 0,
	    G_N_ELEMENTS(unlabelled_digits));
	tcase_add_loop_test(tc, cleaning, 0, G_N_ELEMENTS(cleans));
	tcase_add_loop_test(tc, password_like, 0, G_N_ELEMENTS(likes));
	tcase_add_test(tc, neighbour_and_bare);
	tcase_add_test(tc, bare_only_in_short_bodies);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(ts, setup, teardown);
	tcase_add_test(ts, harvest_records_sources_and_order);
	tcase_add_test(ts, candidates_are_bounded);
	tcase_add_test(ts, admin_pattern_without_rebuild);
	tcase_add_loop_test(ts, bad_pattern_fails_engine_build, 0,
	    G_N_ELEMENTS(badpat));
	tcase_add_test(ts, shipped_patterns_are_the_defaults);
	suite_add_tcase(s, ts);
	return tu_run(s);
}
