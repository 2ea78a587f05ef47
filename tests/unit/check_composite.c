/*
 * check_composite.c - composite rules: the expression parser (precedence,
 * !, nesting, errors, bounds), the configuration (unknown symbols, cycles,
 * evaluation order, file:line), the evaluation in a scan (score, detail,
 * consumption) and the shipped composites on what an encrypted archive
 * hides and on unsolicited macros.
 */
#include "config.h"

#include "core/cfg.h"
#include "core/composite.h"
#include "core/engine.h"
#include "core/report.h"
#include "core/scan.h"
#include "reportutil.h"

/* ---- the parser ----------------------------------------------------------- */

/* Whether name is in the comma-separated list present. */
static bool
in_set(const char *name, void *arg)
{
	char **v = g_strsplit(arg, ",", -1);
	bool found = false;

	for (char **p = v; *p != NULL; p++)
		found = found || strcmp(*p, name) == 0;
	g_strfreev(v);
	return found;
}

static const struct {
	const char *expr;
	const char *present;
	bool want;
} evals[] = {
	/* & binds tighter than | */
	{ "A | B & C", "A", true },
	{ "A | B & C", "B", false },
	{ "A | B & C", "B,C", true },
	{ "A & B | C", "C", true },
	{ "A & B | C", "A", false },
	/* ! binds tighter than & and | */
	{ "!A & B", "B", true },
	{ "!A & B", "A,B", false },
	{ "!A | B", "A", false },
	{ "!A | B", "", true },
	{ "!!A", "A", true },
	{ "!!!A", "A", false },
	/* parentheses */
	{ "(A | B) & C", "A", false },
	{ "(A | B) & C", "A,C", true },
	{ "!(A & B)", "A", true },
	{ "!(A & B)", "A,B", false },
	{ "!(A | B) & C", "C", true },
	{ "!(A | B) & C", "B,C", false },
	{ "((((A))))", "A", true },
	{ "(A & (B | (C & !D)))", "A,C", true },
	{ "(A & (B | (C & !D)))", "A,C,D", false },
	/* blanks, line breaks, long chains */
	{ "  A\n&\tB  ", "A,B", true },
	{ "A|B|C|D|E|F|G", "G", true },
	{ "A&B&C&D&E&F&G", "A,B,C,D,E,F", false },
	{ "OFFICE_MACRO & !TRUSTED_SENDER", "OFFICE_MACRO", true },
};

START_TEST(evaluates_with_precedence)
{
	char why[200];
	struct emf_cexpr *e = emf_cexpr_parse(evals[_i].expr, why,
	    sizeof(why));

	ck_assert_msg(e != NULL, "\"%s\": %s", evals[_i].expr, why);
	ck_assert_msg(emf_cexpr_eval(e, in_set, (void *)evals[_i].present) ==
	    evals[_i].want, "\"%s\" with {%s}: got %d", evals[_i].expr,
	    evals[_i].present, !evals[_i].want);
	emf_cexpr_free(e);
}
END_TEST

static const struct {
	const char *label;
	const char *expr;
	const char *want;	/* the reason, whole */
} bad_exprs[] = {
	{ "empty", "", "empty expression" },
	{ "blanks only", "  \n ", "empty expression" },
	{ "dangling &", "A &",
	  "expression ends where a symbol name, '!' or '(' was expected" },
	{ "unclosed (", "(A | B", "expression ends where ')' was expected" },
	{ "stray )", "A)", "')' at column 2 where '&', '|' or the end was expected" },
	{ "two names", "A B", "'B' at column 3 where '&', '|' or the end was expected" },
	{ "&&", "A && B",
	  "'&' at column 4 where a symbol name, '!' or '(' was expected" },
	{ "empty parentheses", "()",
	  "')' at column 2 where a symbol name, '!' or '(' was expected" },
	{ "trailing !", "A & !",
	  "expression ends where a symbol name, '!' or '(' was expected" },
	{ "other punctuation", "A - B",
	  "'-' at column 3 where '&', '|' or the end was expected" },
	{ "non-ASCII", "A | \xc3\xa9",
	  "byte 0xc3 at column 5 where a symbol name, '!' or '(' was expected" },
};

START_TEST(refuses_bad_expressions)
{
	char why[200];
	struct emf_cexpr *e = emf_cexpr_parse(bad_exprs[_i].expr, why,
	    sizeof(why));

	ck_assert_msg(e == NULL, "%s: parsed", bad_exprs[_i].label);
	ck_assert_msg(strcmp(why, bad_exprs[_i].want) == 0,
	    "%s: got \"%s\", want \"%s\"", bad_exprs[_i].label, why,
	    bad_exprs[_i].want);
}
END_TEST

/* n opening parentheses (or !), a name, n closing ones. */
static char *
nested(unsigned n, bool bang)
{
	GString *s = g_string_new(NULL);

	for (unsigned i = 0; i < n; i++)
		g_string_append_c(s, bang ? '!' : '(');
	g_string_append(s, "A");
	for (unsigned i = 0; !bang && i < n; i++)
		g_string_append_c(s, ')');
	return g_string_free(s, FALSE);
}

START_TEST(nesting_is_bounded)
{
	char why[200];
	char *ok = nested(EMF_CEXPR_MAX_DEPTH, false);
	char *deep = nested(EMF_CEXPR_MAX_DEPTH + 1, false);
	char *bangs = nested(EMF_CEXPR_MAX_DEPTH + 1, true);
	struct emf_cexpr *e = emf_cexpr_parse(ok, why, sizeof(why));

	ck_assert_msg(e != NULL, "depth %d: %s", EMF_CEXPR_MAX_DEPTH, why);
	ck_assert(emf_cexpr_eval(e, in_set, "A"));
	emf_cexpr_free(e);
	ck_assert_ptr_null(emf_cexpr_parse(deep, why, sizeof(why)));
	ck_assert_str_eq(why, "nested deeper than 32 at column 33");
	ck_assert_ptr_null(emf_cexpr_parse(bangs, why, sizeof(why)));
	ck_assert_str_eq(why, "nested deeper than 32 at column 33");
	g_free(ok);
	g_free(deep);
	g_free(bangs);
}
END_TEST

/* n terms "A | A | ...", or distinct short names when distinct. */
static char *
terms(unsigned n, const char *name, bool distinct)
{
	GString *s = g_string_new(NULL);

	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			g_string_append(s, " | ");
		if (distinct)
			g_string_append_printf(s, "S%u", i);
		else
			g_string_append(s, name);
	}
	return g_string_free(s, FALSE);
}

START_TEST(terms_and_length_are_bounded)
{
	char why[200];
	char *max = terms(EMF_CEXPR_MAX_TERMS, "A", false);
	char *over = terms(EMF_CEXPR_MAX_TERMS + 1, "A", false);
	char *huge = terms(10000, "OFFICE_MACRO", false);
	char *huge_short = terms(10000, "A", false);
	char *distinct = terms(EMF_CEXPR_MAX_TERMS, NULL, true);
	char longname[EMF_CEXPR_MAX_NAME + 2];
	struct emf_cexpr *e;

	e = emf_cexpr_parse(max, why, sizeof(why));
	ck_assert_msg(e != NULL, "%s", why);
	ck_assert_uint_eq(emf_cexpr_nnames(e), 1);	/* names are shared */
	emf_cexpr_free(e);
	e = emf_cexpr_parse(distinct, why, sizeof(why));
	ck_assert_msg(e != NULL, "%s", why);
	ck_assert_uint_eq(emf_cexpr_nnames(e), EMF_CEXPR_MAX_TERMS);
	ck_assert(emf_cexpr_eval(e, in_set, "S255"));
	emf_cexpr_free(e);
	ck_assert_ptr_null(emf_cexpr_parse(over, why, sizeof(why)));
	ck_assert_str_eq(why, "more than 256 symbol names");
	/* 10,000 terms: refused before any parsing, in either spelling. */
	ck_assert_ptr_null(emf_cexpr_parse(huge, why, sizeof(why)));
	ck_assert_str_eq(why, "expression longer than 4096 bytes");
	ck_assert_ptr_null(emf_cexpr_parse(huge_short, why, sizeof(why)));
	ck_assert_str_eq(why, "expression longer than 4096 bytes");
	memset(longname, 'N', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_ptr_null(emf_cexpr_parse(longname, why, sizeof(why)));
	ck_assert_str_eq(why, "name at column 1 longer than 64 bytes");
	g_free(max);
	g_free(over);
	g_free(huge);
	g_free(huge_short);
	g_free(distinct);
}
END_TEST

START_TEST(names_and_positions)
{
	struct emf_cexpr *e = emf_cexpr_parse("A & !B | (C & !!D) | A", NULL,
	    0);

	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(emf_cexpr_nnames(e), 4);
	ck_assert_str_eq(emf_cexpr_name(e, 0), "A");
	ck_assert_str_eq(emf_cexpr_name(e, 3), "D");
	ck_assert_ptr_null(emf_cexpr_name(e, 4));
	ck_assert(emf_cexpr_positive(e, "A"));
	ck_assert(!emf_cexpr_positive(e, "B"));
	ck_assert(emf_cexpr_positive(e, "C"));
	ck_assert(emf_cexpr_positive(e, "D"));
	ck_assert(!emf_cexpr_positive(e, "E"));
	emf_cexpr_free(e);
}
END_TEST

/* ---- the configuration -------------------------------------------------- */

/* The error of loading text, after the file name (g_free). */
static char *
load_error(const char *text, enum emf_rc *rc)
{
	char *path = tu_tempfile(text);
	struct emf_cfg *cfg = NULL;
	struct emf_error err;
	char *msg;

	*rc = emf_cfg_load(path, &cfg, &err);
	emf_cfg_free(cfg);
	msg = g_str_has_prefix(err.msg, path) ?
	    g_strdup(err.msg + strlen(path)) : g_strdup(err.msg);
	unlink(path);
	g_free(path);
	return msg;
}

static const struct {
	const char *label;
	const char *text;
	const char *want;
} bad_cfg[] = {
	{ "unknown symbol",
	  "composites = (\n"
	  "  { name = \"X\"; expression = \"OFFICE_MACRO\"; score = 1.0; },\n"
	  "  { name = \"Y\";\n    expression = \"X & NO_SUCH\"; score = 1.0; }\n);\n",
	  ":3: composite Y: unknown symbol NO_SUCH" },
	{ "cycle of two",
	  "composites = (\n"
	  "  { name = \"A\"; expression = \"B | OFFICE_MACRO\"; score = 1.0; },\n"
	  "  { name = \"B\"; expression = \"A & XLM_MACRO\"; score = 1.0; }\n);\n",
	  ":2: composites: cycle A -> B -> A" },
	{ "cycle of three, reached from outside",
	  "composites = (\n"
	  "  { name = \"S\"; expression = \"T\"; score = 1.0; },\n"
	  "  { name = \"T\"; expression = \"U\"; score = 1.0; },\n"
	  "  { name = \"U\"; expression = \"OFFICE_MACRO & !V\"; score = 1.0; },\n"
	  "  { name = \"V\"; expression = \"T\"; score = 1.0; }\n);\n",
	  ":2: composites: cycle S -> T -> U -> V -> T" },
	{ "refers to itself",
	  "composites = (\n\n  { name = \"SELF\"; expression = \"!SELF\"; score = 1.0; }\n);\n",
	  ":3: composites: cycle SELF -> SELF" },
	{ "syntax error in the expression",
	  "composites = ( { name = \"X\";\n  expression = \"A &\"; score = 1.0; } );\n",
	  ":2: composite X: expression ends where a symbol name, '!' or '(' was expected" },
	{ "10,000 terms",
	  "composites = ( { name = \"X\";\n  expression = \"@TERMS@\"; score = 1.0; } );\n",
	  ":2: composite X: expression longer than 4096 bytes" },
	{ "a symbol's name",
	  "composites = ( { name = \"OFFICE_MACRO\"; expression = \"XLM_MACRO\"; score = 1.0; } );\n",
	  ":1: composite OFFICE_MACRO: the name is a symbol's" },
	{ "lower-case name",
	  "composites = ( { name = \"x\"; expression = \"XLM_MACRO\"; score = 1.0; } );\n",
	  ":1: composites: each entry needs name = \"...\" (A-Z, 0-9, _, starting with a letter, at most 64)" },
	{ "two of a name",
	  "composites = (\n { name = \"X\"; expression = \"XLM_MACRO\"; score = 1.0; },\n"
	  " { name = \"X\"; expression = \"OFFICE_MACRO\"; score = 1.0; }\n);\n",
	  ":3: composites: two named X" },
	{ "no score",
	  "composites = ( { name = \"X\"; expression = \"XLM_MACRO\"; } );\n",
	  ":1: composite X: needs expression = \"...\" and score = N" },
	{ "score out of range",
	  "composites = ( { name = \"X\"; expression = \"XLM_MACRO\"; score = 1e9; } );\n",
	  ":1: composite X: score must be a number in [-1000, 1000]" },
	{ "unknown setting",
	  "composites = ( { name = \"X\"; expression = \"XLM_MACRO\"; score = 1.0;\n  consumes = true; } );\n",
	  ":2: composite X: unknown setting consumes" },
	{ "consume of an unknown symbol",
	  "composites = ( { name = \"X\"; expression = \"XLM_MACRO\"; score = 1.0;\n"
	  "  consume = [ \"XLM_MACRO\", \"NOPE\" ]; } );\n",
	  ":1: composite X: consume names unknown symbol NOPE" },
	{ "consume of another type",
	  "composites = ( { name = \"X\"; expression = \"XLM_MACRO\"; score = 1.0;\n  consume = 1; } );\n",
	  ":2: composite X: consume must be true, false or a list of at most 256 symbol names" },
	{ "not a list", "composites = { X = 1; };\n",
	  ":1: composites: must be a list ( { ... }, ... ) of at most 200" },
	{ "active content: unknown symbol",
	  "active_content = { symbols = [ \"OFFICE_MACRO\", \"MACRO\" ]; };\n",
	  ": active_content.symbols: unknown symbol MACRO" },
};

START_TEST(config_refuses_with_line)
{
	enum emf_rc rc;
	char *t = terms(10000, "OFFICE_MACRO", false);
	GString *text = g_string_new(bad_cfg[_i].text);
	char *msg;

	g_string_replace(text, "@TERMS@", t, 1);
	msg = load_error(text->str, &rc);
	ck_assert_msg(rc == EMF_ERR_CONFIG, "%s: rc %d", bad_cfg[_i].label,
	    rc);
	ck_assert_msg(strcmp(msg, bad_cfg[_i].want) == 0,
	    "%s: got \"%s\", want \"%s\"", bad_cfg[_i].label, msg,
	    bad_cfg[_i].want);
	g_free(msg);
	g_free(t);
	g_string_free(text, TRUE);
}
END_TEST

START_TEST(config_orders_and_replaces)
{
	struct emf_engine *e = tu_engine(
	    "composites = (\n"
	    "  { name = \"OUTER\"; expression = \"INNER & !YARA_X\"; score = 1.0;\n"
	    "    consume = [ \"INNER\", \"YARA_X\" ]; description = \"d\"; },\n"
	    "  { name = \"INNER\"; expression = \"OFFICE_MACRO\"; score = 2.0;\n"
	    "    consume = true; }\n);\n");
	size_t n;
	const struct emf_cfg_composite *const *cs =
	    emf_cfg_composites(e->cfg, &n);

	/* The file's list replaces the built-in one, in dependency order. */
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(cs[0]->name, "INNER");
	ck_assert(cs[0]->consume_all);
	ck_assert_str_eq(cs[1]->name, "OUTER");
	ck_assert(!cs[1]->consume_all);
	ck_assert_str_eq(cs[1]->consume[1], "YARA_X");
	ck_assert_str_eq(cs[1]->description, "d");
	emf_engine_unref(e);
	e = tu_engine("composites = ();\n");
	emf_cfg_composites(e->cfg, &n);
	ck_assert_uint_eq(n, 0);
	emf_engine_unref(e);
}
END_TEST

/* The shipped file lists the built-in composites, the same. */
START_TEST(shipped_composites_are_the_defaults)
{
	char *path = tu_srcpath("conf/emofilter.conf");
	struct emf_cfg *file, *def;
	struct emf_error err;
	const struct emf_cfg_composite *const *a, *const *b;
	size_t na, nb;

	if (emf_cfg_load(path, &file, &err) != EMF_OK)
		ck_abort_msg("%s", err.msg);
	ck_assert_int_eq(emf_cfg_load(NULL, &def, &err), EMF_OK);
	a = emf_cfg_composites(file, &na);
	b = emf_cfg_composites(def, &nb);
	ck_assert_uint_ge(na, 5);
	ck_assert_uint_eq(na, nb);
	for (size_t i = 0; i < na; i++) {
		ck_assert_str_eq(a[i]->name, b[i]->name);
		ck_assert_str_eq(a[i]->expression, b[i]->expression);
		ck_assert_double_eq(a[i]->score, b[i]->score);
		ck_assert_int_eq(a[i]->consume_all, b[i]->consume_all);
		ck_assert_int_eq(a[i]->consume == NULL, b[i]->consume == NULL);
		for (size_t k = 0; a[i]->consume && a[i]->consume[k]; k++)
			ck_assert_str_eq(a[i]->consume[k], b[i]->consume[k]);
	}
	emf_cfg_free(file);
	emf_cfg_free(def);
	g_free(path);
}
END_TEST

/* ---- evaluation in a scan ------------------------------------------------- */

/* The score of symbol in the report, or -1000 when absent. */
static double
score_of(const struct emf_report *r, const char *name)
{
	for (size_t i = 0; i < emf_report_nsymbols(r); i++)
		if (strcmp(emf_report_symbol_name(r, i), name) == 0)
			return emf_report_symbol_score(r, i);
	return -1000;
}

static const char *
detail_of(const struct emf_report *r, const char *name)
{
	for (size_t i = 0; i < emf_report_nsymbols(r); i++)
		if (strcmp(emf_report_symbol_name(r, i), name) == 0)
			return emf_report_symbol_detail(r, i);
	return NULL;
}

static const char TEST_COMPOSITES[] =
    "composites = (\n"
    "  { name = \"MACRO_AND_SPOOF\";\n"
    "    expression = \"OFFICE_MACRO & (DISPLAY_NAME_SPOOF | REPLY_TO_MISMATCH)\";\n"
    "    score = 4.0; consume = true; },\n"
    "  { name = \"SPOOF_NOT_TRUSTED\";\n"
    "    expression = \"DISPLAY_NAME_SPOOF & !TRUSTED_SENDER\";\n"
    "    score = 1.5; },\n"
    "  { name = \"BOTH\"; expression = \"MACRO_AND_SPOOF & SPOOF_NOT_TRUSTED\";\n"
    "    score = 0.5; consume = [ \"SPOOF_NOT_TRUSTED\" ]; }\n"
    ");\n";

START_TEST(fires_consumes_and_nests)
{
	struct emf_engine *e = tu_engine(TEST_COMPOSITES);
	struct emf_scan *s = emf_scan_new(e, NULL);
	struct emf_report *r;
	char *json, *text;

	emf_symbol(s, "OFFICE_MACRO", NULL, "VBA project");
	emf_symbol(s, "DISPLAY_NAME_SPOOF", NULL, "display name");
	emf_symbol(s, "FROM_ENVELOPE_MISMATCH", NULL, "envelope");
	emf_composites_run(s);
	r = emf_report_from_scan(s);
	/* 4 + 1.5 (consumed by BOTH) + 0.5 + 0.3; OFFICE_MACRO and
	 * DISPLAY_NAME_SPOOF consumed by MACRO_AND_SPOOF. */
	ck_assert_double_eq_tol(emf_report_score(r), 4.8, 1e-9);
	ck_assert_double_eq(score_of(r, "MACRO_AND_SPOOF"), 4.0);
	ck_assert_double_eq(score_of(r, "OFFICE_MACRO"), 0);
	ck_assert_double_eq(score_of(r, "DISPLAY_NAME_SPOOF"), 0);
	ck_assert_double_eq(score_of(r, "SPOOF_NOT_TRUSTED"), 0);
	ck_assert_double_eq(score_of(r, "BOTH"), 0.5);
	ck_assert_double_eq(score_of(r, "FROM_ENVELOPE_MISMATCH"), 0.3);
	ck_assert_str_eq(detail_of(r, "MACRO_AND_SPOOF"),
	    "OFFICE_MACRO & (DISPLAY_NAME_SPOOF | REPLY_TO_MISMATCH); "
	    "matched OFFICE_MACRO, DISPLAY_NAME_SPOOF; consumed "
	    "OFFICE_MACRO(3), DISPLAY_NAME_SPOOF(2)");
	ck_assert_str_eq(detail_of(r, "SPOOF_NOT_TRUSTED"),
	    "DISPLAY_NAME_SPOOF & !TRUSTED_SENDER; matched "
	    "DISPLAY_NAME_SPOOF; weights kept");
	ck_assert_str_eq(detail_of(r, "BOTH"),
	    "MACRO_AND_SPOOF & SPOOF_NOT_TRUSTED; matched MACRO_AND_SPOOF, "
	    "SPOOF_NOT_TRUSTED; consumed SPOOF_NOT_TRUSTED(1.5)");
	/* The report, the text and the summary name the composite. */
	json = emf_report_json(r, false);
	ck_assert_ptr_nonnull(strstr(json, "\"name\":\"MACRO_AND_SPOOF\""));
	text = emf_report_text(r);
	ck_assert_ptr_nonnull(strstr(text, "MACRO_AND_SPOOF"));
	ck_assert_ptr_nonnull(strstr(text, "consumed OFFICE_MACRO(3)"));
	emf_free(json);
	emf_free(text);
	text = emf_report_symbols_summary(r);
	ck_assert_ptr_nonnull(strstr(text, "MACRO_AND_SPOOF(4)"));
	ck_assert_ptr_nonnull(strstr(text, "OFFICE_MACRO(0)"));
	g_free(text);
	emf_report_free(r);
	emf_engine_unref(e);
}
END_TEST

START_TEST(negation_holds_and_nothing_fires_alone)
{
	struct emf_engine *e = tu_engine(TEST_COMPOSITES);
	struct emf_scan *s = emf_scan_new(e, NULL);
	struct emf_report *r;

	/* A trusted sender: SPOOF_NOT_TRUSTED does not hold. */
	emf_symbol(s, "DISPLAY_NAME_SPOOF", NULL, "display name");
	emf_symbol(s, "TRUSTED_SENDER", NULL, "network");
	emf_composites_run(s);
	r = emf_report_from_scan(s);
	ck_assert_double_eq(score_of(r, "SPOOF_NOT_TRUSTED"), -1000);
	ck_assert_double_eq(score_of(r, "MACRO_AND_SPOOF"), -1000);
	ck_assert_double_eq(emf_report_score(r), 2.0);
	emf_report_free(r);
	emf_engine_unref(e);
}
END_TEST

/* ---- the shipped composites ------------------------------------------------ */

/* A mail with one zip holding one member named name. */
struct tree {
	struct emf_scan *s;
	struct emf_object *zip, *member;
};

static void
tree_new(struct tree *t, struct emf_engine *e, const char *name,
    bool encrypted, bool opened)
{
	t->s = emf_scan_new(e, NULL);
	t->zip = emf_object_child(t->s, NULL, "a.zip", "application/zip",
	    NULL, 0);
	t->zip->type = EMF_FT_ZIP;
	t->member = emf_object_child(t->s, t->zip, name, NULL, NULL, 0);
	if (encrypted) {
		t->member->encrypted = true;
		emf_symbol(t->s, "ARCHIVE_ENCRYPTED", t->member, "ZipCrypto");
	}
	if (encrypted && opened) {
		t->member->password = g_strdup("pw1234");
		emf_symbol(t->s, "ARCHIVE_PASSWORD_IN_BODY", t->member, "body");
	} else if (encrypted) {
		emf_symbol(t->s, "ARCHIVE_PASSWORD_UNKNOWN", t->member,
		    "not opened");
	}
}

static struct emf_report *
tree_score(struct tree *t)
{
	emf_composites_run(t->s);
	return emf_report_from_scan(t->s);
}

START_TEST(ppap_with_inert_files_is_not_tagged)
{
	struct emf_engine *e = tu_engine(NULL);
	struct tree t;
	struct emf_report *r;

	tree_new(&t, e, "見積書.xlsx", true, true);
	emf_symbol_scored(t.s, "YARA_EMF_PASSWORD_ZIP_TEXT", 1.0, NULL,
	    "text");
	r = tree_score(&t);
	ck_assert_double_eq(score_of(r, "PPAP_INERT"), 0);
	ck_assert_double_eq(score_of(r, "ARCHIVE_ENCRYPTED_INERT"), 0);
	ck_assert_double_eq(emf_report_score(r), 0);
	ck_assert_int_eq(emf_report_action(r), EMF_ACTION_ACCEPT);
	emf_report_free(r);
	/* Anything scored inside (here a malformed document) is not inert. */
	tree_new(&t, e, "見積書.xlsx", true, true);
	emf_symbol(t.s, "OFFICE_MALFORMED", t.member, "broken");
	r = tree_score(&t);
	ck_assert_double_eq(score_of(r, "ARCHIVE_ENCRYPTED_INERT"), -1000);
	ck_assert_int_eq(emf_report_action(r), EMF_ACTION_TAG);
	emf_report_free(r);
	emf_engine_unref(e);
}
END_TEST

START_TEST(encrypted_active_content_quarantined_then_rejected)
{
	struct emf_engine *e = tu_engine(NULL);
	struct tree t;
	struct emf_report *r;

	tree_new(&t, e, "請求書.doc", true, true);
	emf_symbol(t.s, "OFFICE_MACRO", t.member, "VBA");
	r = tree_score(&t);
	ck_assert_double_eq(score_of(r, "ENCRYPTED_ACTIVE_CONTENT"), 9.0);
	ck_assert_double_eq(score_of(r, "ARCHIVE_ENCRYPTED"), 0);
	ck_assert_int_eq(emf_report_action(r), EMF_ACTION_QUARANTINE);
	emf_report_free(r);
	/* One more sign: reject. */
	tree_new(&t, e, "請求書.doc", true, true);
	emf_symbol(t.s, "OFFICE_MACRO", t.member, "VBA");
	emf_symbol(t.s, "SIGNATURE_DOMAIN_MISMATCH", NULL, "signature");
	r = tree_score(&t);
	ck_assert_double_eq(score_of(r, "ENCRYPTED_ACTIVE_WITH_SIGN"), 3.0);
	ck_assert_int_eq(emf_report_action(r), EMF_ACTION_REJECT);
	emf_report_free(r);
	/* A macro beside the zip, not in it, is not encrypted content. */
	tree_new(&t, e, "見積書.pdf", true, true);
	{
		struct emf_object *doc = emf_object_child(t.s, NULL, "x.doc",
		    NULL, NULL, 0);

		emf_symbol(t.s, "OFFICE_MACRO", doc, "VBA");
	}
	r = tree_score(&t);
	ck_assert_double_eq(score_of(r, "ARCHIVE_ENCRYPTED_ACTIVE"), -1000);
	ck_assert_double_eq(score_of(r, "ENCRYPTED_ACTIVE_CONTENT"), -1000);
	emf_report_free(r);
	emf_engine_unref(e);
}
END_TEST

START_TEST(unopened_archive_judged_by_member_names)
{
	struct emf_engine *e = tu_engine(NULL);
	struct tree t;
	struct emf_report *r;

	tree_new(&t, e, "議事録.PDF", true, false);
	r = tree_score(&t);
	ck_assert_double_eq(score_of(r, "PPAP_UNOPENED_DOCUMENTS"), 1.0);
	ck_assert_int_eq(emf_report_action(r), EMF_ACTION_ACCEPT);
	emf_report_free(r);
	/* A type that carries macros: tagged, as before. */
	tree_new(&t, e, "議事録.xls", true, false);
	r = tree_score(&t);
	ck_assert_double_eq(score_of(r, "PPAP_UNOPENED_DOCUMENTS"), -1000);
	ck_assert_int_eq(emf_report_action(r), EMF_ACTION_TAG);
	emf_report_free(r);
	emf_engine_unref(e);
}
END_TEST

START_TEST(unsolicited_macro_tag_quarantine_trusted)
{
	struct emf_engine *e = tu_engine(NULL);
	struct emf_scan *s;
	struct emf_report *r;

	/* Alone: tagged. */
	s = emf_scan_new(e, NULL);
	emf_symbol(s, "OFFICE_MACRO", NULL, "VBA");
	emf_composites_run(s);
	r = emf_report_from_scan(s);
	ck_assert_int_eq(emf_report_action(r), EMF_ACTION_TAG);
	emf_report_free(r);
	/* With a forgery sign, even the weakest: quarantined. */
	s = emf_scan_new(e, NULL);
	emf_symbol(s, "OFFICE_MACRO", NULL, "VBA");
	emf_symbol(s, "FROM_ENVELOPE_MISMATCH", NULL, "envelope");
	emf_composites_run(s);
	r = emf_report_from_scan(s);
	ck_assert_double_eq(score_of(r, "UNSOLICITED_MACRO_FORGED"), 5.0);
	ck_assert_int_eq(emf_report_action(r), EMF_ACTION_QUARANTINE);
	emf_report_free(r);
	/* Packed in a plain zip: quarantined. */
	{
		struct tree t;

		tree_new(&t, e, "請求書.xls", false, false);
		emf_symbol(t.s, "OFFICE_MACRO", t.member, "VBA");
		r = tree_score(&t);
		ck_assert_double_eq(score_of(r, "ARCHIVED_MACRO"), 5.0);
		ck_assert_int_eq(emf_report_action(r), EMF_ACTION_QUARANTINE);
		emf_report_free(r);
	}
	/* From a trusted sender: not scored. */
	s = emf_scan_new(e, NULL);
	emf_symbol(s, "OFFICE_MACRO", NULL, "VBA");
	emf_symbol(s, "MACRO_AUTOEXEC", NULL, "Workbook_Open");
	emf_symbol(s, "TRUSTED_SENDER", NULL, "network");
	emf_composites_run(s);
	r = emf_report_from_scan(s);
	ck_assert_double_eq(score_of(r, "UNSOLICITED_MACRO"), -1000);
	ck_assert_double_eq(emf_report_score(r), 0);
	emf_report_free(r);
	emf_engine_unref(e);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("composite");
	TCase *tp = tcase_create("parser");
	TCase *tc = tcase_create("config");
	TCase *te = tcase_create("eval");

	tcase_add_loop_test(tp, evaluates_with_precedence, 0,
	    G_N_ELEMENTS(evals));
	tcase_add_loop_test(tp, refuses_bad_expressions, 0,
	    G_N_ELEMENTS(bad_exprs));
	tcase_add_test(tp, nesting_is_bounded);
	tcase_add_test(tp, terms_and_length_are_bounded);
	tcase_add_test(tp, names_and_positions);
	suite_add_tcase(s, tp);
	tcase_add_loop_test(tc, config_refuses_with_line, 0,
	    G_N_ELEMENTS(bad_cfg));
	tcase_add_test(tc, config_orders_and_replaces);
	tcase_add_test(tc, shipped_composites_are_the_defaults);
	suite_add_tcase(s, tc);
	tcase_add_test(te, fires_consumes_and_nests);
	tcase_add_test(te, negation_holds_and_nothing_fires_alone);
	tcase_add_test(te, ppap_with_inert_files_is_not_tagged);
	tcase_add_test(te, encrypted_active_content_quarantined_then_rejected);
	tcase_add_test(te, unopened_archive_judged_by_member_names);
	tcase_add_test(te, unsolicited_macro_tag_quarantine_trusted);
	suite_add_tcase(s, te);
	return s;
}

int
main(void)
{
	return tu_run(suite());
}
