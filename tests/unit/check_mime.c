/*
 * check_mime.c - the MIME walk: header facts, encoded names (RFC 2047 and
 * RFC 2231), transfer encodings, nesting, HTML reduction, texts.
 */
#include "config.h"

#include "core/report.h"
#include "core/scan.h"
#include "testutil.h"

static struct emf_engine *engine;

static void
setup(void)
{
	engine = tu_engine(NULL);
}

static void
teardown(void)
{
	emf_engine_unref(engine);
}

/* Find an object by path anywhere in the tree. */
static const struct emf_object *
find_in(const GPtrArray *a, const char *path)
{
	for (guint i = 0; a != NULL && i < a->len; i++) {
		const struct emf_object *o = g_ptr_array_index(a, i);
		const struct emf_object *c;

		if (strcmp(o->path, path) == 0)
			return o;
		if ((c = find_in(o->children, path)) != NULL)
			return c;
	}
	return NULL;
}

static const struct emf_object *
find(const struct emf_report *r, const char *path)
{
	const struct emf_object *o = find_in(emf_report_scan(r)->roots, path);

	if (o == NULL)
		ck_abort_msg("no object %s", path);
	return o;
}

/* All texts of a kind joined with newlines (g_free). */
static char *
texts(const struct emf_report *r, enum emf_text_kind kind)
{
	const struct emf_scan *s = emf_report_scan(r);
	GString *g = g_string_new(NULL);

	for (guint i = 0; i < s->texts->len; i++) {
		const struct emf_text *t = g_ptr_array_index(s->texts, i);

		if (t->kind == kind)
			g_string_append_printf(g, "%s\n", t->utf8);
	}
	return g_string_free(g, FALSE);
}

#define HDR "From: \"=?Shift_JIS?B?k2OShiCRvphZ?=\" <tanaka@example.co.jp>\r\n" \
	"To: you@example.org\r\nMessage-ID: <1@example.co.jp>\r\n" \
	"Date: Mon, 25 Nov 2024 10:00:00 +0900\r\nMIME-Version: 1.0\r\n"

START_TEST(headers_decoded)
{
	struct emf_report *r = tu_scan(engine, HDR
	    "Subject: =?ISO-2022-JP?B?GyRCIVo7ajVeIVtAQTVhPXEkTjdvGyhC?=\r\n"
	    "Reply-To: other@example.net\r\nReturn-Path: <bounce@lists.example.com>\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\nhello\r\n");
	const struct emf_msginfo *m = &emf_report_scan(r)->msg;

	ck_assert_str_eq(m->subject, "【至急】請求書の件");
	ck_assert_str_eq(m->from_addr, "tanaka@example.co.jp");
	ck_assert_str_eq(m->from_name, "田中 太郎");
	ck_assert_str_eq(m->reply_to_addr, "other@example.net");
	ck_assert_str_eq(m->return_path, "bounce@lists.example.com");
	ck_assert(!m->has_thread_headers);
	emf_report_free(r);
}
END_TEST

START_TEST(thread_headers_seen)
{
	struct emf_report *r = tu_scan(engine, HDR "Subject: Re: x\r\n"
	    "In-Reply-To: <0@example.org>\r\n\r\nbody\r\n");

	ck_assert(emf_report_scan(r)->msg.has_thread_headers);
	emf_report_free(r);
}
END_TEST

START_TEST(rfc2047_iso2022jp_filename)
{
	struct emf_report *r = tu_scan(engine, HDR "Subject: x\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	    "--b\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n"
	    "\x1b$B%Q%9%o!<%I\x1b(B: L51ylaH\r\n"
	    "--b\r\nContent-Type: application/zip;\r\n"
	    " name=\"=?ISO-2022-JP?B?GyRCQEE1YT1xGyhCLnppcA==?=\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment;\r\n"
	    " filename=\"=?ISO-2022-JP?B?GyRCQEE1YT1xGyhCLnppcA==?=\"\r\n\r\n"
	    "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\r\n--b--\r\n");
	const struct emf_object *o = find(r, "2/請求書.zip");
	char *body = texts(r, EMF_TEXT_BODY);

	ck_assert_str_eq(o->name, "請求書.zip");
	ck_assert_int_eq(o->type, EMF_FT_ZIP);
	ck_assert_int_eq(o->size, 22);
	ck_assert_ptr_nonnull(strstr(body, "パスワード: L51ylaH"));
	g_free(body);
	emf_report_free(r);
}
END_TEST

START_TEST(rfc2231_continuation_with_charset)
{
	struct emf_report *r = tu_scan(engine, HDR "Subject: x\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
	    "--b\r\nContent-Type: application/msword\r\n"
	    "Content-Disposition: attachment;\r\n"
	    " filename*0*=UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8_2024;\r\n"
	    " filename*1*=%E5%B9%B411%E6%9C%88%E5%88%86.doc\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n"
	    "0M8R4KGxGuEAAAAA\r\n--b--\r\n");
	const struct emf_object *o = find(r, "2/請求書_2024年11月分.doc");

	ck_assert_int_eq(o->type, EMF_FT_OLE2);
	emf_report_free(r);
}
END_TEST

START_TEST(transfer_encodings)
{
	struct emf_report *r = tu_scan(engine, HDR "Subject: x\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	    "--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "caf=C3=A9 soft=\r\nbreak\r\n"
	    "--b\r\nContent-Type: application/octet-stream; name=a.exe\r\n"
	    "Content-Transfer-Encoding: x-uuencode\r\n\r\n"
	    "begin 644 a.exe\r\n-35J0 \"!F86ME(&5X90  \r\n`\r\nend\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\n"
	    "old style:\r\nbegin 644 b.exe\r\n-35J0 \"!F86ME(&5X90  \r\n`\r\nend\r\n"
	    "--b--\r\n");
	char *body = texts(r, EMF_TEXT_BODY);
	const struct emf_object *a = find(r, "2/a.exe");
	const struct emf_object *b = find(r, "3/b.exe");

	ck_assert_ptr_nonnull(strstr(body, "café softbreak"));
	ck_assert_int_eq(a->size, 13);
	ck_assert_str_eq(a->sha256, "d7a446b4c2bfa243a6efad23895881d7b714d2092650b85c443aa7b7cccc6a9f");
	ck_assert_int_eq(b->size, 13);
	ck_assert_str_eq(b->sha256, a->sha256);
	ck_assert(emf_report_has_symbol(r, "EXECUTABLE_ATTACHMENT"));
	g_free(body);
	emf_report_free(r);
}
END_TEST

START_TEST(nested_message_rfc822)
{
	struct emf_report *r = tu_scan(engine, HDR "Subject: fwd\r\n"
	    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
	    "--outer\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
	    "--outer\r\nContent-Type: message/rfc822\r\n\r\n"
	    "From: a@b.example\r\nSubject: inner\r\n"
	    "Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n"
	    "--inner\r\nContent-Type: text/plain\r\n\r\ninner text\r\n"
	    "--inner\r\nContent-Type: text/html\r\n\r\n"
	    "<html><head><title>t</title><style>p{}</style></head><body>"
	    "<p>Click <b>Enable</b>&nbsp;<i>Content</i> &amp; more&#x21;</p>"
	    "<script>var x = 'hidden';</script><a href=\"http://evil.example/x\">here</a>"
	    "</body></html>\r\n--inner--\r\n--outer--\r\n");
	char *body = texts(r, EMF_TEXT_BODY);
	char *html = texts(r, EMF_TEXT_HTML);
	const struct emf_object *h = find(r, "3");

	ck_assert_ptr_nonnull(strstr(body, "see below"));
	ck_assert_ptr_nonnull(strstr(body, "inner text"));
	ck_assert_ptr_nonnull(strstr(html, "Click Enable Content & more!"));
	ck_assert_ptr_null(strstr(html, "hidden"));
	ck_assert_ptr_nonnull(h->urls);
	ck_assert_str_eq(g_ptr_array_index(h->urls, 0), "http://evil.example/x");
	/* The inner subject does not replace the outer one. */
	ck_assert_str_eq(emf_report_scan(r)->msg.subject, "fwd");
	g_free(body);
	g_free(html);
	emf_report_free(r);
}
END_TEST

/*
 * limits.header_field_bytes cuts a field of a message's own header (the
 * mail's, an attached .eml's), folded lines and all, and nothing else:
 * not a part's header inside a multipart, not a body line shaped like a
 * field.
 */
START_TEST(long_header_fields_cut)
{
	struct emf_engine *e = tu_engine("limits = { header_field_bytes = 1024; };\n");
	GString *m = g_string_new("X-Long: start");
	GString *line = g_string_new("note:");
	struct emf_report *r;
	const GPtrArray *lim;
	char *body, *json, *inner, *b64;
	bool hit = false;

	for (int i = 0; i < 30; i++)
		g_string_append(m, "\r\n aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	for (int i = 0; i < 300; i++)
		g_string_append(line, "bbbbbbbbbb");
	inner = g_strdup_printf("From: b@example.org\r\nSubject: inner\r\n"
	    "Date: Mon, 25 Nov 2024 10:00:00 +0900\r\n"
	    "X-Inner: %s\r\n\r\ninner text\r\n", line->str + 5);
	b64 = g_base64_encode((const guchar *)inner, strlen(inner));
	g_string_append_printf(m, "\r\nSubject: hello\r\nFrom: a@example.org\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\nX-Part: %s\r\n\r\n"
	    "part text\r\n%s\r\n"
	    "--b\r\nContent-Type: application/octet-stream; name=\"fwd.eml\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n",
	    line->str + 5, line->str, b64);
	r = tu_scan(e, m->str);
	ck_assert_str_eq(emf_report_scan(r)->msg.subject, "hello");
	lim = emf_report_scan(r)->limits_hit;
	for (guint i = 0; i < lim->len; i++)
		hit |= strcmp(g_ptr_array_index(lim, i), "header_field_bytes") == 0;
	ck_assert(hit);
	ck_assert_ptr_nonnull(strstr(emf_report_symbol_detail(r, 0),
	    "(first: X-Long) cut to 1024 bytes"));
	/* The attached message's field too, the part's X-Part not. */
	json = emf_report_json(r, false);
	ck_assert_msg(strstr(json, "(first: X-Inner)") != NULL, "%s", json);
	ck_assert_ptr_null(strstr(json, "X-Part)"));
	emf_free(json);
	body = texts(r, EMF_TEXT_BODY);
	ck_assert_ptr_nonnull(strstr(body, "part text"));
	ck_assert_ptr_nonnull(strstr(body, line->str));	/* whole */
	ck_assert_ptr_nonnull(strstr(body, "inner text"));
	g_free(body);
	emf_report_free(r);
	g_free(inner);
	g_free(b64);
	g_string_free(m, TRUE);
	g_string_free(line, TRUE);
	emf_engine_unref(e);
}
END_TEST

/* An unclosed <head> or <style> must not hide the text after it. */
START_TEST(html_unclosed_head_keeps_body)
{
	struct emf_report *r = tu_scan(engine, HDR "Subject: x\r\n"
	    "Content-Type: text/html\r\n\r\n"
	    "<html><head><style>p{}<body><p>Please enable macros</p>\r\n");
	char *html = texts(r, EMF_TEXT_HTML);

	ck_assert_ptr_nonnull(strstr(html, "Please enable macros"));
	g_free(html);
	emf_report_free(r);
}
END_TEST

/*
 * A CRLF mail with one LF-only line before the boundary: the attachment
 * must keep its last bytes (GMime alone lost 2 of them).
 */
START_TEST(mixed_line_ends_keep_attachment_tail)
{
	struct emf_report *r = tu_scan(engine, HDR "Subject: x\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	    "--b\r\nContent-Type: application/octet-stream; name=x.bin\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n"
	    "AAECAwQFBgcICQoLDA0ODxA=\n--b--\r\n");
	const struct emf_object *o = find(r, "1/x.bin");

	ck_assert_uint_eq(o->size, 17);
	ck_assert_str_eq(o->sha256,
	    "3e5718fea51a8f3f5baca61c77afab473c1810f8b9db330273b4011ce92c787e");
	emf_report_free(r);
}
END_TEST

/* A body that quotes a forwarded mail is text, not a message to re-parse. */
START_TEST(forwarded_text_is_not_a_message)
{
	struct emf_report *r = tu_scan(engine, HDR "Subject: fw\r\n\r\n"
	    "--- begin forwarded text\r\n\r\nFrom: a@example.org\r\n"
	    "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nSubject: hi\r\n"
	    "Message-ID: <x@example.org>\r\n\r\nhello\r\n");
	const struct emf_object *o = find(r, "1");

	ck_assert_int_eq(o->type, EMF_FT_TEXT);
	ck_assert(!emf_report_has_symbol(r, "MIME_MALFORMED"));
	emf_report_free(r);
}
END_TEST

START_TEST(unlabelled_iso2022jp_body)
{
	struct emf_report *r = tu_scan(engine, HDR "Subject: x\r\n\r\n"
	    "\x1b$B$*;YJ'$$$r$*4j$$$7$^$9\x1b(B\r\n");
	char *body = texts(r, EMF_TEXT_BODY);

	ck_assert_ptr_nonnull(strstr(body, "お支払いをお願いします"));
	g_free(body);
	emf_report_free(r);
}
END_TEST

START_TEST(not_a_message_at_all)
{
	static const char junk[] = "\x00\x01\x02 not mail \xff\xfe";
	struct emf_report *r = NULL;

	ck_assert_int_eq(emf_scan_message(engine, junk, sizeof(junk) - 1, NULL,
	    &r), EMF_OK);
	ck_assert_ptr_nonnull(r);
	emf_report_free(r);
}
END_TEST

START_TEST(corpus_japanese_attachment_names)
{
	char *p = tu_corpus("ruby-mail-fixtures/emails/multi_charset/"
	    "japanese_attachment_long_name.eml");
	char *data;
	gsize len;
	struct emf_report *r;

	if (p == NULL)
		return;
	ck_assert(g_file_get_contents(p, &data, &len, NULL));
	ck_assert_int_eq(emf_scan_message(engine, data, len, NULL, &r), EMF_OK);
	find(r, "1/かきくけこかきくけこかきくけこかきくけこかきくけこ.txt");
	emf_report_free(r);
	g_free(data);
	g_free(p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("walk");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, headers_decoded);
	tcase_add_test(tc, thread_headers_seen);
	tcase_add_test(tc, rfc2047_iso2022jp_filename);
	tcase_add_test(tc, rfc2231_continuation_with_charset);
	tcase_add_test(tc, transfer_encodings);
	tcase_add_test(tc, nested_message_rfc822);
	tcase_add_test(tc, long_header_fields_cut);
	tcase_add_test(tc, unlabelled_iso2022jp_body);
	tcase_add_test(tc, html_unclosed_head_keeps_body);
	tcase_add_test(tc, mixed_line_ends_keep_attachment_tail);
	tcase_add_test(tc, forwarded_text_is_not_a_message);
	tcase_add_test(tc, not_a_message_at_all);
	tcase_add_test(tc, corpus_japanese_attachment_names);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
