/*
 * check_scan.c - scoring, thresholds and every limit of the scan driver.
 * Each limit test builds input just over the limit and checks both the
 * LIMIT_EXCEEDED symbol with the limit's name and that the scan finished.
 */
#include "config.h"

#include "core/report.h"
#include "core/scan.h"
#include <json-glib/json-glib.h>

#include "testutil.h"

#define HDR "From: a@example.org\r\nTo: b@example.org\r\nSubject: t\r\n" \
	"MIME-Version: 1.0\r\n"

/* A multipart/mixed message with n attachments named f<i>.<ext>. */
static char *
with_attachments(unsigned n, const char *ext, const char *body)
{
	GString *m = g_string_new(HDR
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n");

	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(m, "--b\r\nContent-Type: application/"
		    "octet-stream\r\nContent-Disposition: attachment; "
		    "filename=\"f%u.%s\"\r\n\r\n%s\r\n", i, ext, body);
	g_string_append(m, "--b--\r\n");
	return g_string_free(m, FALSE);
}

static bool
limit_hit(const struct emf_report *r, const char *name)
{
	const GPtrArray *l = emf_report_scan(r)->limits_hit;

	for (guint i = 0; i < l->len; i++)
		if (strcmp(g_ptr_array_index(l, i), name) == 0)
			return true;
	return false;
}

static const struct {
	const char *thresholds;
	enum emf_action want;
} thr[] = {
	{ "actions = { tag = 5.0; quarantine = 10.0; reject = 15.0; };", EMF_ACTION_ACCEPT },
	{ "actions = { tag = 4.0; quarantine = 10.0; reject = 15.0; };", EMF_ACTION_TAG },
	{ "actions = { tag = 1.0; quarantine = 4.0; reject = 15.0; };", EMF_ACTION_QUARANTINE },
	{ "actions = { tag = 1.0; quarantine = 2.0; reject = 4.0; };", EMF_ACTION_REJECT },
};

/* Two .exe attachments: EXECUTABLE_ATTACHMENT counts once, weight 4. */
START_TEST(thresholds_pick_the_action)
{
	char *conf = g_strdup_printf("scores = { EXECUTABLE_ATTACHMENT = 4.0; };\n%s",
	    thr[_i].thresholds);
	struct emf_engine *e = tu_engine(conf);
	char *msg = with_attachments(2, "exe", "not really");
	struct emf_report *r = tu_scan(e, msg);

	ck_assert_double_eq(emf_report_score(r), 4.0);
	ck_assert_msg(emf_report_action(r) == thr[_i].want,
	    "%s: got %s, want %s", thr[_i].thresholds,
	    emf_action_name(emf_report_action(r)),
	    emf_action_name(thr[_i].want));
	ck_assert_int_eq(emf_report_nsymbols(r), 1);
	ck_assert_str_eq(emf_report_symbol_name(r, 0), "EXECUTABLE_ATTACHMENT");
	emf_report_free(r);
	g_free(msg);
	emf_engine_unref(e);
	g_free(conf);
}
END_TEST

START_TEST(scores_sum_and_sort)
{
	struct emf_engine *e = tu_engine("scores = { EXECUTABLE_ATTACHMENT = 1.5;"
	    " FILE_TYPE_MISMATCH = 2.25; };");
	/* A PE named .pdf: executable content and a lying name. */
	char *msg = with_attachments(1, "pdf", "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAA"
	    "QAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAA==");
	struct emf_report *r;
	char *summary;

	/* The attachment is not base64-labelled: make it so. */
	{
		char *p = strstr(msg, "Content-Disposition");
		GString *g = g_string_new_len(msg, p - msg);

		g_string_append(g, "Content-Transfer-Encoding: base64\r\n");
		g_string_append(g, p);
		g_free(msg);
		msg = g_string_free(g, FALSE);
	}
	r = tu_scan(e, msg);
	ck_assert_double_eq(emf_report_score(r), 3.75);
	summary = emf_report_symbols_summary(r);
	ck_assert_str_eq(summary,
	    "FILE_TYPE_MISMATCH(2.25) EXECUTABLE_ATTACHMENT(1.5)");
	emf_free(summary);
	emf_report_free(r);
	g_free(msg);
	emf_engine_unref(e);
}
END_TEST

START_TEST(clean_mail_scores_zero)
{
	struct emf_engine *e = tu_engine(NULL);
	struct emf_report *r = tu_scan(e, HDR "\r\nHello, lunch at noon?\r\n");

	ck_assert_double_eq(emf_report_score(r), 0);
	ck_assert_int_eq(emf_report_action(r), EMF_ACTION_ACCEPT);
	ck_assert(!emf_report_limits_hit(r));
	emf_report_free(r);
	emf_engine_unref(e);
}
END_TEST

START_TEST(limit_max_message_bytes)
{
	struct emf_engine *e = tu_engine("limits = { max_message_bytes = 1024; };");
	char *msg = with_attachments(1, "txt", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	struct emf_report *r = tu_scan(e, msg);

	ck_assert(limit_hit(r, "max_message_bytes"));
	ck_assert(emf_report_has_symbol(r, "LIMIT_EXCEEDED"));
	ck_assert_int_eq(emf_report_scan(r)->roots->len, 0);
	emf_report_free(r);
	g_free(msg);
	emf_engine_unref(e);
}
END_TEST

START_TEST(limit_mime_parts)
{
	struct emf_engine *e = tu_engine("limits = { mime_parts = 10; };");
	char *msg = with_attachments(50, "txt", "x");
	struct emf_report *r = tu_scan(e, msg);

	ck_assert(limit_hit(r, "mime_parts"));
	ck_assert_uint_le(emf_report_scan(r)->roots->len, 10);
	emf_report_free(r);
	g_free(msg);
	emf_engine_unref(e);
}
END_TEST

START_TEST(limit_max_objects)
{
	struct emf_engine *e = tu_engine("limits = { max_objects = 3; };");
	char *msg = with_attachments(8, "txt", "x");
	struct emf_report *r = tu_scan(e, msg);

	ck_assert(limit_hit(r, "max_objects"));
	ck_assert_uint_eq(emf_report_scan(r)->roots->len, 3);
	emf_report_free(r);
	g_free(msg);
	emf_engine_unref(e);
}
END_TEST

/* n nested multiparts, each with a text part. */
static char *
nested_multiparts(unsigned n)
{
	GString *m = g_string_new(HDR);

	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(m, "Content-Type: multipart/mixed; "
		    "boundary=\"b%u\"\r\n\r\n--b%u\r\n", i, i);
	g_string_append(m, "Content-Type: text/plain\r\n\r\ndeep\r\n");
	for (unsigned i = n; i-- > 0;)
		g_string_append_printf(m, "--b%u--\r\n", i);
	return g_string_free(m, FALSE);
}

START_TEST(limit_mime_depth)
{
	struct emf_engine *e = tu_engine("limits = { mime_depth = 20; };");
	char *ok = nested_multiparts(15), *deep = nested_multiparts(40);
	struct emf_report *r = tu_scan(e, ok);

	ck_assert(!limit_hit(r, "mime_depth"));
	ck_assert_uint_eq(emf_report_scan(r)->roots->len, 1);
	emf_report_free(r);
	r = tu_scan(e, deep);
	ck_assert(limit_hit(r, "mime_depth"));
	ck_assert_uint_eq(emf_report_scan(r)->roots->len, 0);
	emf_report_free(r);
	g_free(ok);
	g_free(deep);
	emf_engine_unref(e);
}
END_TEST

/* message/rfc822 inside message/rfc822, n deep: the same depth gate. */
START_TEST(limit_rfc822_depth)
{
	struct emf_engine *e = tu_engine("limits = { mime_depth = 10; };");
	GString *m = g_string_new(HDR);
	struct emf_report *r;

	for (unsigned i = 0; i < 30; i++)
		g_string_append(m, "Content-Type: message/rfc822\r\n\r\n"
		    "From: x@example.org\r\nSubject: fw\r\n");
	g_string_append(m, "\r\nbottom\r\n");
	r = tu_scan(e, m->str);
	ck_assert(limit_hit(r, "mime_depth"));
	emf_report_free(r);
	g_string_free(m, TRUE);
	emf_engine_unref(e);
}
END_TEST

START_TEST(limit_object_and_text_bytes)
{
	struct emf_engine *e = tu_engine("limits = { object_bytes = 1024;"
	    " text_bytes = 1024; };");
	GString *body = g_string_new(HDR "Content-Type: multipart/mixed;"
	    " boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n");
	struct emf_report *r;
	const struct emf_object *o;

	for (int i = 0; i < 100; i++)
		g_string_append(body, "0123456789012345678901234567890123456789\r\n");
	g_string_append(body, "--b--\r\n");
	r = tu_scan(e, body->str);
	o = g_ptr_array_index(emf_report_scan(r)->roots, 0);
	ck_assert(limit_hit(r, "object_bytes"));
	ck_assert(o->truncated);
	ck_assert_uint_eq(o->size, 1024);
	emf_report_free(r);
	g_string_free(body, TRUE);
	emf_engine_unref(e);
}
END_TEST

START_TEST(report_json_is_valid_and_complete)
{
	struct emf_engine *e = tu_engine(NULL);
	char *msg = with_attachments(1, "exe", "x");
	struct emf_report *r = tu_scan(e, msg);
	char *json = emf_report_json(r, false);
	GError *err = NULL;
	static const char *const keys[] = { "id", "time", "envelope", "headers",
		"score", "action", "symbols", "objects", "limits_hit", "scan_ms",
		"passwords" };
	JsonParser *p = json_parser_new();
	JsonObject *root;

	ck_assert_msg(json_parser_load_from_data(p, json, -1, &err), "%s",
	    err ? err->message : "");
	root = json_node_get_object(json_parser_get_root(p));
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		ck_assert_msg(json_object_has_member(root, keys[i]),
		    "report lacks %s", keys[i]);
	ck_assert_str_eq(json_object_get_string_member(root, "action"),
	    emf_action_name(emf_report_action(r)));
	ck_assert_str_eq(json_object_get_string_member(root, "id"),
	    emf_report_id(r));
	g_object_unref(p);
	emf_free(json);
	emf_report_free(r);
	g_free(msg);
	emf_engine_unref(e);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("scan");
	TCase *tc = tcase_create("scoring");
	TCase *tl = tcase_create("limits");

	tcase_add_loop_test(tc, thresholds_pick_the_action, 0, G_N_ELEMENTS(thr));
	tcase_add_test(tc, scores_sum_and_sort);
	tcase_add_test(tc, clean_mail_scores_zero);
	tcase_add_test(tc, report_json_is_valid_and_complete);
	tcase_add_test(tl, limit_max_message_bytes);
	tcase_add_test(tl, limit_mime_parts);
	tcase_add_test(tl, limit_max_objects);
	tcase_add_test(tl, limit_mime_depth);
	tcase_add_test(tl, limit_rfc822_depth);
	tcase_add_test(tl, limit_object_and_text_bytes);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tl);
	return tu_run(s);
}
