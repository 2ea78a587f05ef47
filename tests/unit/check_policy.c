/*
 * check_policy.c - recipient policies: which entry a recipient takes, and
 * which action a message for several recipients gets.
 */
#include "config.h"

#include <json-glib/json-glib.h>

#include "core/engine.h"
#include "core/policy.h"
#include "testutil.h"

/* Two .exe attachments: EXECUTABLE_ATTACHMENT once, weight 8 below. */
static const char msg_exe[] =
    "From: a@example.org\r\nTo: b@example.org\r\nSubject: t\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
    "--b\r\nContent-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename=\"f.exe\"\r\n\r\nx\r\n"
    "--b--\r\n";

static const char conf[] =
    "scores = { EXECUTABLE_ATTACHMENT = 8.0; };\n"
    "actions = { tag = 5.0; quarantine = 10.0; reject = 15.0; };\n"
    "policies = (\n"
    "  { name = \"finance\"; recipients = [ \"Keiri@Example.co.jp\" ];\n"
    "    quarantine = 7.0; reject = 8.0; },\n"
    "  { name = \"jp-domain\"; recipients = [ \"example.co.jp\" ];\n"
    "    quarantine = 6.0; },\n"
    "  { name = \"subdomains\"; recipients = [ \".example.co.jp\", \"@other.jp\" ];\n"
    "    tag = 1.0; },\n"
    "  { name = \"lenient\"; recipients = [ \"abuse@example.org\" ];\n"
    "    tag = 1000.0; quarantine = 1000.0; reject = 1000.0; }\n"
    ");\n";

static const struct {
	const char *rcpt;
	const char *want;	/* NULL: "actions" */
} lookups[] = {
	{ "keiri@example.co.jp", "finance" },	/* address beats domain */
	{ "KEIRI@EXAMPLE.CO.JP", "finance" },	/* case does not matter */
	{ "soumu@example.co.jp", "jp-domain" },
	{ "soumu@tokyo.example.co.jp", "subdomains" },
	{ "x@a.b.example.co.jp", "subdomains" },
	{ "x@other.jp", "subdomains" },	/* "@domain" is the domain */
	{ "x@sub.other.jp", NULL },	/* ... not its subdomains */
	{ "x@example.jp", NULL },
	{ "x@notexample.co.jp", NULL },	/* a suffix is not a parent */
	{ "keiri", NULL },
	{ "keiri@", NULL },
	{ "", NULL },
	{ "abuse@example.org", "lenient" },
};

START_TEST(recipient_takes_its_most_specific_entry)
{
	struct emf_engine *e = tu_engine(conf);
	const char *got = emf_policy_for(e, lookups[_i].rcpt);

	ck_assert_msg(g_strcmp0(got, lookups[_i].want) == 0,
	    "%s: got %s, want %s", lookups[_i].rcpt, got ? got : "(actions)",
	    lookups[_i].want ? lookups[_i].want : "(actions)");
	emf_engine_unref(e);
}
END_TEST

static const struct {
	const char *rcpts[3];
	enum emf_action want;
	const char *policy;
} decisions[] = {
	/* score 8: actions say tag */
	{ { NULL }, EMF_ACTION_TAG, NULL },
	{ { "b@example.org" }, EMF_ACTION_TAG, NULL },
	{ { "keiri@example.co.jp" }, EMF_ACTION_REJECT, "finance" },
	{ { "soumu@example.co.jp" }, EMF_ACTION_QUARANTINE, "jp-domain" },
	/* same action as "actions": no policy named */
	{ { "x@tokyo.example.co.jp" }, EMF_ACTION_TAG, NULL },
	{ { "abuse@example.org" }, EMF_ACTION_ACCEPT, "lenient" },
	/* several recipients: the most severe action wins */
	{ { "abuse@example.org", "b@example.org" }, EMF_ACTION_TAG, NULL },
	{ { "b@example.org", "soumu@example.co.jp", "keiri@example.co.jp" },
	  EMF_ACTION_REJECT, "finance" },
	{ { "abuse@example.org", "soumu@example.co.jp" },
	  EMF_ACTION_QUARANTINE, "jp-domain" },
};

START_TEST(message_gets_the_most_severe_action)
{
	struct emf_engine *e = tu_engine(conf);
	struct emf_envelope env = { 0 };
	struct emf_report *r = NULL;
	size_t n = 0;
	char *json;

	while (n < 3 && decisions[_i].rcpts[n] != NULL)
		n++;
	env.rcpts = decisions[_i].rcpts;
	env.nrcpts = n;
	ck_assert_int_eq(emf_scan_message(e, msg_exe, strlen(msg_exe), &env,
	    &r), EMF_OK);
	ck_assert_double_eq(emf_report_score(r), 8.0);
	ck_assert_msg(emf_report_action(r) == decisions[_i].want,
	    "case %d: got %s", _i, emf_action_name(emf_report_action(r)));
	ck_assert_msg(g_strcmp0(emf_report_policy(r), decisions[_i].policy) == 0,
	    "case %d: got policy %s", _i, emf_report_policy(r));
	/* The JSON report says "policy" exactly when one decided. */
	json = emf_report_json(r, false);
	if (decisions[_i].policy != NULL) {
		char *want = g_strdup_printf("\"policy\":\"%s\"",
		    decisions[_i].policy);

		ck_assert_ptr_nonnull(strstr(json, want));
		g_free(want);
	} else {
		ck_assert_ptr_null(strstr(json, "\"policy\""));
	}
	emf_free(json);
	emf_report_free(r);
	emf_engine_unref(e);
}
END_TEST

/* Without policies nothing changes and no table is built. */
START_TEST(no_policies_no_table)
{
	struct emf_engine *e = tu_engine("actions = { tag = 1.0; };\n");

	ck_assert_ptr_null(e->mod[EMF_MOD_POLICY]);
	ck_assert_ptr_null(emf_policy_for(e, "keiri@example.co.jp"));
	emf_engine_unref(e);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("policy");

	tcase_add_loop_test(tc, recipient_takes_its_most_specific_entry, 0,
	    G_N_ELEMENTS(lookups));
	tcase_add_loop_test(tc, message_gets_the_most_severe_action, 0,
	    G_N_ELEMENTS(decisions));
	tcase_add_test(tc, no_policies_no_table);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
