/*
 * check_cfg.c - configuration loading: defaults, the shipped file, and
 * every kind of error with its line number.
 */
#include "config.h"

#include <unistd.h>

#include <glib/gstdio.h>

#include "core/cfg.h"
#include "core/engine.h"
#include "testutil.h"

/* Load text; return the error message ("" on success). */
static char *
load_error(const char *text, enum emf_rc *rc_out)
{
	char *path = tu_tempfile(text);
	struct emf_cfg *cfg = NULL;
	struct emf_error err;
	enum emf_rc rc = emf_cfg_load(path, &cfg, &err);
	char *msg;

	if (rc_out)
		*rc_out = rc;
	/* Messages name the file; replace it so tests can compare. */
	msg = rc == EMF_OK ? g_strdup("") :
	    g_strdup(g_str_has_prefix(err.msg, path) ?
	    err.msg + strlen(path) : err.msg);
	emf_cfg_free(cfg);
	unlink(path);
	g_free(path);
	return msg;
}

START_TEST(defaults_without_file)
{
	struct emf_cfg *cfg;
	struct emf_error err;

	ck_assert_int_eq(emf_cfg_load(NULL, &cfg, &err), EMF_OK);
	ck_assert_int_eq(emf_cfg_int(cfg, "limits.mime_depth"), 32);
	ck_assert_double_eq(emf_cfg_double(cfg, "actions.reject"), 15.0);
	ck_assert_str_eq(emf_cfg_str(cfg, "quarantine.dir"),
	    "/var/lib/emofilter/quarantine");
	/* no config line: release through the no-milter port, as shipped */
	ck_assert_str_eq(emf_cfg_str(cfg, "quarantine.release_smtp"),
	    "127.0.0.1:10026");
	emf_cfg_free(cfg);
}
END_TEST

START_TEST(shipped_file_loads_and_matches_defaults)
{
	char *path = tu_srcpath("conf/emofilter.conf");
	struct emf_cfg *cfg, *def;
	struct emf_error err;
	size_t n;
	const struct emf_cfg_key *keys = emf_cfg_keys(&n);
	char *text;

	if (emf_cfg_load(path, &cfg, &err) != EMF_OK)
		ck_abort_msg("%s", err.msg);
	ck_assert_int_eq(emf_cfg_load(NULL, &def, &err), EMF_OK);
	ck_assert(g_file_get_contents(path, &text, NULL, NULL));
	/* Every key is documented in the shipped file with its default. */
	for (size_t i = 0; i < n; i++) {
		const char *leaf = strrchr(keys[i].name, '.') + 1;
		char *pat = g_strdup_printf("%s =", leaf);

		if (strstr(text, pat) == NULL)
			ck_abort_msg("key %s is not in conf/emofilter.conf",
			    keys[i].name);
		g_free(pat);
		switch (keys[i].type) {
		case EMF_CFG_INT:
			ck_assert_int_eq(emf_cfg_int(cfg, keys[i].name),
			    emf_cfg_int(def, keys[i].name));
			break;
		case EMF_CFG_DOUBLE:
			ck_assert_double_eq(emf_cfg_double(cfg, keys[i].name),
			    emf_cfg_double(def, keys[i].name));
			break;
		case EMF_CFG_STR:
			ck_assert_msg(g_strcmp0(emf_cfg_str(cfg, keys[i].name),
			    emf_cfg_str(def, keys[i].name)) == 0,
			    "%s: \"%s\" in conf/emofilter.conf, \"%s\" built in",
			    keys[i].name, emf_cfg_str(cfg, keys[i].name),
			    emf_cfg_str(def, keys[i].name));
			break;
		case EMF_CFG_BOOL:
			ck_assert_msg(emf_cfg_bool(cfg, keys[i].name) ==
			    emf_cfg_bool(def, keys[i].name),
			    "%s: conf/emofilter.conf differs from the built-in "
			    "default", keys[i].name);
			break;
		default:
			break;
		}
	}
	g_free(text);
	emf_cfg_free(cfg);
	emf_cfg_free(def);
	g_free(path);
}
END_TEST

static const struct {
	const char *label;
	const char *text;
	const char *want;	/* error message after the file name */
} bad[] = {
	{ "unknown key", "limits = {\n  mime_depth = 3;\n  mime_dpth = 4;\n};\n",
	  ":3: unknown setting limits.mime_dpth" },
	{ "unknown group", "\n\nlimitz = { a = 1; };\n",
	  ":3: unknown setting limitz" },
	{ "bad type", "limits = {\n mime_depth = \"deep\";\n};\n",
	  ":2: limits.mime_depth: wrong type (want an integer)" },
	{ "out of range", "limits:\n{\n  container_depth = 0;\n};\n",
	  ":3: limits.container_depth: value out of range [1, 64]" },
	{ "unknown symbol", "scores = {\n  OFFICE_MACRO = 2.0;\n  NO_SUCH = 1.0;\n};\n",
	  ":3: scores: unknown symbol NO_SUCH" },
	{ "score type", "scores = { OFFICE_MACRO = \"high\"; };\n",
	  ":1: scores.OFFICE_MACRO: wrong type (want a number)" },
	{ "thresholds order", "actions = { tag = 20.0; };\n",
	  ": actions: want tag <= quarantine <= reject (got 20, 10, 15)" },
	{ "invalid UTF-8 pattern", "passwords = {\n patterns = (\n \"pw:(\\xff)\"\n );\n};\n",
	  ":2: passwords.patterns: element 1 is not a UTF-8 string" },
	{ "policies not a list", "policies = { a = 1; };\n",
	  ":1: policies: must be a list ( { ... }, ... ) of at most 100" },
	{ "policy without name", "policies = (\n { recipients = [ \"a.jp\" ]; }\n);\n",
	  ":2: policies: each entry needs name = \"...\" (letters, digits, _ . -, at most 64)" },
	{ "policy name with a blank", "policies = ( { name = \"a b\"; recipients = [ \"a.jp\" ]; } );\n",
	  ":1: policies: each entry needs name = \"...\" (letters, digits, _ . -, at most 64)" },
	{ "policy names twice", "policies = (\n { name = \"p\"; recipients = [ \"a.jp\" ]; },\n"
	  " { name = \"p\"; recipients = [ \"b.jp\" ]; }\n);\n",
	  ":3: policies: two named p" },
	{ "policy without recipients", "policies = ( { name = \"p\"; tag = 1.0; } );\n",
	  ":1: policy p: no recipients" },
	{ "policy empty recipients", "policies = ( { name = \"p\";\n recipients = [ ]; } );\n",
	  ":2: policy p: recipients must be a list of 1 to 10000 strings" },
	{ "policy bad recipient", "policies = ( { name = \"p\";\n recipients = [ \"a.jp\", \"<x@a.jp>\" ]; } );\n",
	  ":2: policy p: recipient 2 is not \"user@domain\", \"domain\" or \".domain\"" },
	{ "policy recipient @ alone", "policies = ( { name = \"p\"; recipients = [ \"@\" ]; } );\n",
	  ":1: policy p: recipient 1 is not \"user@domain\", \"domain\" or \".domain\"" },
	{ "policy recipient no local part", "policies = ( { name = \"p\"; recipients = [ \"@@a.jp\" ]; } );\n",
	  ":1: policy p: recipient 1 is not \"user@domain\", \"domain\" or \".domain\"" },
	{ "policy recipient twice", "policies = (\n { name = \"p\"; recipients = [ \"A.jp\" ]; },\n"
	  " { name = \"q\";\n  recipients = [ \"@a.jp\" ]; }\n);\n",
	  ":4: policy q: recipient a.jp is already in policy p" },
	{ "policy unknown key", "policies = ( { name = \"p\"; recipients = [ \"a.jp\" ];\n rejct = 3.0; } );\n",
	  ":2: policy p: unknown setting rejct" },
	{ "policy threshold type", "policies = ( { name = \"p\"; recipients = [ \"a.jp\" ]; tag = \"low\"; } );\n",
	  ":1: policy p: tag must be a number in [-1000, 1000]" },
	{ "policy thresholds order", "policies = ( { name = \"p\"; recipients = [ \"a.jp\" ]; quarantine = 20.0; } );\n",
	  ": policy p: want tag <= quarantine <= reject (got 5, 20, 15)" },
	/* SMTP replies are ASCII (issue 16): refused, never sent raw */
	{ "reject_text not ASCII", "milter = {\n reject_text = \"\xe8\xbf\xb7\xe6\x83\x91 {id}\";\n};\n",
	  ":2: milter.reject_text: byte 1 is not ASCII (0xe8): an SMTP reply is "
	  "printable US-ASCII (RFC 5321 4.2), so non-ASCII text (e.g. Japanese) "
	  "cannot be sent in it; write it in ASCII" },
	{ "reject_text control", "milter = { reject_text = \"Rejected\\t{id}\"; };\n",
	  ":1: milter.reject_text: byte 9 is a control character (0x09): an SMTP "
	  "reply is printable US-ASCII (RFC 5321 4.2), so non-ASCII text (e.g. "
	  "Japanese) cannot be sent in it; write it in ASCII" },
	{ "syntax", "limits = {\n mime_depth = = 3;\n};\n",
	  ":2: syntax error" },
	/* libconfig's scanner calls exit(2) on a directory (fuzz_config) */
	{ "include of the include directory", "\n@include \"\"\n",
	  ":2: @include \"\": not a regular file" },
	{ "include of a directory", "limits = {};\n  @include \"/\"\n",
	  ":2: @include \"/\": not a regular file" },
	{ "include of a missing file", "@include \"no-such-file.conf\"\n",
	  ":1: @include \"no-such-file.conf\": not a regular file" },
};

START_TEST(bad_config_is_rejected_with_line)
{
	enum emf_rc rc;
	char *msg = load_error(bad[_i].text, &rc);

	ck_assert_msg(rc == EMF_ERR_CONFIG, "%s: got rc %d, want config error",
	    bad[_i].label, rc);
	ck_assert_msg(strcmp(msg, bad[_i].want) == 0, "%s: got \"%s\", want \"%s\"",
	    bad[_i].label, msg, bad[_i].want);
	g_free(msg);
}
END_TEST

START_TEST(scores_override_defaults)
{
	struct emf_engine *e = tu_engine(
	    "scores = { OFFICE_MACRO = 7.5; YARA_TEST = 1; };\n");

	ck_assert_double_eq(emf_engine_score(e, "OFFICE_MACRO"), 7.5);
	ck_assert_double_eq(emf_engine_score(e, "MACRO_URL"), 2.0);
	ck_assert_double_eq(emf_engine_score(e, "YARA_TEST"), 1.0);
	emf_engine_unref(e);
}
END_TEST

START_TEST(nul_byte_is_rejected_with_line)
{
	static const char text[] = "limits = {\n  mime_depth = 3;\n  ob\0ject_bytes = 1;\n};\n";
	char *path = tu_tempfile("");
	struct emf_cfg *cfg = NULL;
	struct emf_error err;

	ck_assert(g_file_set_contents(path, text, sizeof(text) - 1, NULL));
	ck_assert_int_eq(emf_cfg_load(path, &cfg, &err), EMF_ERR_CONFIG);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(g_str_has_suffix(err.msg, ":3: NUL byte in the configuration"),
	    "got \"%s\", want \":3: NUL byte in the configuration\"", err.msg);
	unlink(path);
	g_free(path);
}
END_TEST

/* An @include of a regular file, relative to the main file, is read;
 * one of a directory inside it is refused with the included file's line. */
START_TEST(include_of_a_file_is_read)
{
	char *dir = g_dir_make_tmp("emf-cfg-XXXXXX", NULL);
	char *main_conf = g_build_filename(dir, "main.conf", NULL);
	char *inc = g_build_filename(dir, "scores.conf", NULL);
	char *bad_conf = g_build_filename(dir, "bad.conf", NULL);
	struct emf_cfg *cfg = NULL;
	struct emf_engine *e = NULL;
	struct emf_error err;
	char *want;

	ck_assert(g_file_set_contents(inc, "scores = { OFFICE_MACRO = 7.5; };\n",
	    -1, NULL));
	ck_assert(g_file_set_contents(bad_conf, "# bad\n@include \"..\"\n", -1, NULL));
	ck_assert(g_file_set_contents(main_conf, "@include \"scores.conf\"\n",
	    -1, NULL));
	if (emf_cfg_load(main_conf, &cfg, &err) != EMF_OK)
		ck_abort_msg("%s", err.msg);
	ck_assert_int_eq(emf_engine_new(cfg, &e, &err), EMF_OK);
	ck_assert_double_eq(emf_engine_score(e, "OFFICE_MACRO"), 7.5);
	emf_engine_unref(e);

	ck_assert(g_file_set_contents(main_conf, "@include \"bad.conf\"\n",
	    -1, NULL));
	cfg = NULL;
	ck_assert_int_eq(emf_cfg_load(main_conf, &cfg, &err), EMF_ERR_CONFIG);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(g_str_has_suffix(err.msg, "bad.conf:2: @include \"..\": "
	    "not a regular file"), "got \"%s\"", err.msg);

	/* A bad setting in an included file: that file's path and line. */
	ck_assert(g_file_set_contents(inc, "\n\nscores = { NO_SUCH = 1.0; };\n",
	    -1, NULL));
	ck_assert(g_file_set_contents(main_conf, "limits = {};\n"
	    "@include \"scores.conf\"\n", -1, NULL));
	ck_assert_int_eq(emf_cfg_load(main_conf, &cfg, &err), EMF_ERR_CONFIG);
	want = g_strdup_printf("%s:3: scores: unknown symbol NO_SUCH", inc);
	ck_assert_str_eq(err.msg, want);
	g_free(want);

	unlink(inc);
	unlink(bad_conf);
	unlink(main_conf);
	g_rmdir(dir);
	g_free(inc);
	g_free(bad_conf);
	g_free(main_conf);
	g_free(dir);
}
END_TEST

/* Write text to dir/name; returns the path (g_free). */
static char *
put(const char *dir, const char *name, const char *text)
{
	char *path = g_build_filename(dir, name, NULL);

	ck_assert(g_file_set_contents(path, text, -1, NULL));
	return path;
}

/* Load path: "" on success, else the error message. */
static char *
load_path(const char *path)
{
	struct emf_cfg *cfg = NULL;
	struct emf_error err;
	char *msg;

	msg = emf_cfg_load(path, &cfg, &err) == EMF_OK ? g_strdup("") :
	    g_strdup(err.msg);
	if (cfg != NULL) {
		ck_assert_double_eq(emf_cfg_double(cfg, "actions.tag"), 2.5);
		emf_cfg_free(cfg);
	}
	return msg;
}

/*
 * Absolute names (libconfig 1.5 put its include directory in front of
 * them too, so they never opened), names relative to the including file
 * (also in a subdirectory), errors named by the included file, and a
 * bound on includes that multiply.
 */
START_TEST(includes_absolute_nested_and_bounded)
{
	char *dir = g_dir_make_tmp("emf-cfg-XXXXXX", NULL);
	char *sub = g_build_filename(dir, "conf.d", NULL);
	char *inner, *outer, *main_conf, *text, *msg, *want;
	GString *many = g_string_new(NULL);

	ck_assert_int_eq(g_mkdir(sub, 0700), 0);
	inner = put(sub, "inner.conf", "actions = { tag = 2.5; };\n");
	outer = put(sub, "outer.conf", "# relative to conf.d\n"
	    "@include \"inner.conf\"\n");
	text = g_strdup_printf("limits = {};\n@include \"%s\"\n", outer);
	main_conf = put(dir, "main.conf", text);
	g_free(text);
	msg = load_path(main_conf);
	ck_assert_str_eq(msg, "");
	g_free(msg);

	/* A syntax error two files down names that file and line. */
	g_free(put(sub, "inner.conf", "\nactions = { tag = = 2.5; };\n"));
	msg = load_path(main_conf);
	want = g_strdup_printf("%s:2: syntax error", inner);
	ck_assert_str_eq(msg, want);
	g_free(want);
	g_free(msg);

	/* 40 includes of a file of 40 includes: 1,600 > 1,000. */
	g_free(put(sub, "inner.conf", "# nothing\n"));
	for (int i = 0; i < 40; i++)
		g_string_append(many, "@include \"inner.conf\"\n");
	g_free(put(sub, "outer.conf", many->str));
	g_string_truncate(many, 0);
	for (int i = 0; i < 40; i++)
		g_string_append(many, "@include \"conf.d/outer.conf\"\n");
	g_free(put(dir, "main.conf", many->str));
	msg = load_path(main_conf);
	ck_assert_msg(strstr(msg, "outer.conf:") != NULL &&
	    strstr(msg, "more than 1000 includes") != NULL, "got \"%s\"", msg);
	g_free(msg);

	g_string_free(many, TRUE);
	unlink(inner);
	unlink(outer);
	unlink(main_conf);
	g_rmdir(sub);
	g_rmdir(dir);
	g_free(inner);
	g_free(outer);
	g_free(main_conf);
	g_free(sub);
	g_free(dir);
}
END_TEST

START_TEST(missing_file_is_io_error)
{
	struct emf_cfg *cfg;
	struct emf_error err;

	ck_assert_int_eq(emf_cfg_load("/nonexistent/emofilter.conf", &cfg,
	    &err), EMF_ERR_IO);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/emofilter.conf"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cfg");
	TCase *tc = tcase_create("load");

	tcase_add_test(tc, defaults_without_file);
	tcase_add_test(tc, shipped_file_loads_and_matches_defaults);
	tcase_add_loop_test(tc, bad_config_is_rejected_with_line, 0,
	    G_N_ELEMENTS(bad));
	tcase_add_test(tc, scores_override_defaults);
	tcase_add_test(tc, nul_byte_is_rejected_with_line);
	tcase_add_test(tc, include_of_a_file_is_read);
	tcase_add_test(tc, includes_absolute_nested_and_bounded);
	tcase_add_test(tc, missing_file_is_io_error);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
