/*
 * check_heuristics.c - sender, reply-forgery and signature symbols, trust
 * and the VBA allowlist, on synthetic mails in UTF-8, ISO-2022-JP and
 * Shift_JIS (built here with g_convert, so no fixture files).
 */
#include "config.h"

#include "core/engine.h"
#include "detect/heuristics.h"
#include "core/scan.h"
#include "testutil.h"

static const char *const mail_symbols[] = {
	"FROM_ENVELOPE_MISMATCH", "DISPLAY_NAME_SPOOF",
	"SIGNATURE_DOMAIN_MISMATCH", "REPLY_TO_MISMATCH",
	"FAKE_ORIGINAL_MESSAGE", "REPLY_WITHOUT_THREAD", NULL
};

/*
 * A mail with the given header lines (UTF-8; the subject is encoded in
 * charset as RFC 2047) and body (converted to charset). Caller frees.
 */
static char *
make_mail(const char *charset, const char *headers, const char *subject,
    const char *body)
{
	GString *m = g_string_new(headers);
	gsize n;
	char *b, *s;

	if (subject != NULL) {
		s = g_convert(subject, -1, charset, "UTF-8", NULL, &n, NULL);
		ck_assert_msg(s != NULL, "subject not convertible to %s", charset);
		b = g_base64_encode((const guchar *)s, n);
		g_string_append_printf(m, "Subject: =?%s?B?%s?=\n", charset, b);
		g_free(s);
		g_free(b);
	}
	b = g_convert(body, -1, charset, "UTF-8", NULL, &n, NULL);
	ck_assert_msg(b != NULL, "body not convertible to %s", charset);
	g_string_append_printf(m, "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=%s\n"
	    "Content-Transfer-Encoding: %s\n\n", charset,
	    g_ascii_strcasecmp(charset, "ISO-2022-JP") == 0 ? "7bit" : "8bit");
	g_string_append_len(m, b, (gssize)n);
	g_free(b);
	return g_string_free(m, FALSE);
}

static const char *const charsets[] = { "UTF-8", "ISO-2022-JP", "Shift_JIS" };

struct hcase {
	const char *label;
	const char *headers;
	const char *subject;
	const char *body;
	const char *sender;	/* envelope MAIL FROM, or NULL */
	const char *want;	/* symbol that must be raised, or NULL */
	const char *not;	/* symbol that must not be raised, or NULL */
};

#define FROM_SPOOF "From: \"dkk@xxx.yyy.ne.jp\" <tasmika@mail.kontraktor-id.com>\n"
#define FROM_OK "From: 田中 太郎 <tanaka@abc.co.jp>\n"
#define THREAD "In-Reply-To: <a1@abc.co.jp>\nReferences: <a1@abc.co.jp>\n"

static const struct hcase cases[] = {
	/* sender */
	{ "envelope from another domain", FROM_OK, "見積書", "本文です。\n",
	  "bounce@sender.example.net", "FROM_ENVELOPE_MISMATCH", NULL },
	{ "envelope from a sub-domain (PSL)", FROM_OK, "見積書", "本文です。\n",
	  "bounces@mail.abc.co.jp", NULL, "FROM_ENVELOPE_MISMATCH" },
	{ "Return-Path stands in for the envelope",
	  "Return-Path: <x@spam.example.org>\n" FROM_OK, "見積書", "本文。\n",
	  NULL, "FROM_ENVELOPE_MISMATCH", NULL },
	{ "address in the display name", FROM_SPOOF, "請求書", "本文。\n",
	  NULL, "DISPLAY_NAME_SPOOF", NULL },
	{ "domain in the display name",
	  "From: \"abc.co.jp 営業部\" <eigyo@host.example>\n", "請求書",
	  "本文。\n", NULL, "DISPLAY_NAME_SPOOF", NULL },
	{ "own address in the display name",
	  "From: \"tanaka@mail.abc.co.jp\" <tanaka@abc.co.jp>\n", "請求書",
	  "本文。\n", NULL, NULL, "DISPLAY_NAME_SPOOF" },
	{ "plain display name", FROM_OK, "請求書", "本文。\n", NULL, NULL,
	  "DISPLAY_NAME_SPOOF" },
	{ "name with initials is not a domain",
	  "From: Craig R.Hughes <craig@deersoft.com>\n", "spam", "hi\n",
	  NULL, NULL, "DISPLAY_NAME_SPOOF" },
	{ "Reply-To elsewhere", FROM_OK "Reply-To: <x@evil.example.net>\n",
	  "ご確認", "本文。\n", NULL, "REPLY_TO_MISMATCH", NULL },
	{ "Reply-To in a sub-domain",
	  FROM_OK "Reply-To: <support@help.abc.co.jp>\n", "ご確認", "本文。\n",
	  NULL, NULL, "REPLY_TO_MISMATCH" },
	/* signature */
	{ "seed sample: Mail: in the signature", FROM_SPOOF, "請求書",
	  "お世話になっております。\n添付をご確認ください。\n\n"
	  "株式会社XYZ 経理部\nMail: dkk@xxx.yyy.ne.jp\n",
	  NULL, "SIGNATURE_DOMAIN_MISMATCH", NULL },
	{ "メール： with a full-width colon",
	  "From: 佐藤 <sato@host.example.com>\n", "請求書",
	  "よろしくお願いします。\n--\n佐藤 花子\nメール：hanako@abc.co.jp\n",
	  NULL, "SIGNATURE_DOMAIN_MISMATCH", NULL },
	{ "bare address at the end",
	  "From: 佐藤 <sato@host.example.com>\n", "資料",
	  "資料を送ります。\n\n佐藤\nhanako@abc.co.jp\n", NULL,
	  "SIGNATURE_DOMAIN_MISMATCH", NULL },
	{ "signature of the sender's own domain", FROM_OK, "資料",
	  "資料を送ります。\n\n田中\nE-Mail: tanaka@sales.abc.co.jp\n", NULL,
	  NULL, "SIGNATURE_DOMAIN_MISMATCH" },
	{ "foreign signature only in the quoted history", FROM_OK THREAD,
	  "Re: 資料", "了解です。\n\n田中\n\n> 送ってください。\n> Mail: x@other.example.jp\n",
	  NULL, NULL, "SIGNATURE_DOMAIN_MISMATCH" },
	{ "list footer address is not a signature", FROM_OK, "news",
	  "text\n\nMail: users-unsubscribe@lists.example.org\n", NULL, NULL,
	  "SIGNATURE_DOMAIN_MISMATCH" },
	/* reply forgery */
	{ "Original Message block without thread headers", FROM_OK,
	  "RE: お見積り", "ご確認ください。\n\n-----Original Message-----\n"
	  "From: Sato <sato@example.jp>\nSent: Monday, August 31, 2020\n"
	  "To: tanaka@abc.co.jp\nSubject: お見積り\n\n前回の件\n", NULL,
	  "FAKE_ORIGINAL_MESSAGE", NULL },
	{ "Japanese quoted header lines with >", FROM_OK, "Re: 会議",
	  "承知しました。\n\n> 差出人: 佐藤 <sato@example.jp>\n"
	  "> 送信日時: 2020年9月1日 10:00\n> 宛先: 田中\n> 件名: 会議\n>\n> 本文\n",
	  NULL, "FAKE_ORIGINAL_MESSAGE", NULL },
	{ "genuine reply with thread headers", FROM_OK THREAD, "RE: お見積り",
	  "ご確認ください。\n\n-----Original Message-----\n"
	  "From: Sato <sato@example.jp>\nSent: Monday\nTo: tanaka\n"
	  "Subject: お見積り\n", NULL, NULL, "FAKE_ORIGINAL_MESSAGE" },
	{ "Outlook reply with Thread-Index only",
	  FROM_OK "Thread-Index: AdZ/abc=\n", "RE: お見積り",
	  "ok\n\n-----Original Message-----\nFrom: a <a@example.jp>\n"
	  "Sent: Monday\nTo: b\nSubject: x\n", NULL, NULL,
	  "FAKE_ORIGINAL_MESSAGE" },
	/* A 22-byte Thread-Index is a conversation's first message; a
	 * reply appends 5-byte child blocks. */
	{ "RE: whose Thread-Index starts a conversation",
	  FROM_OK "Thread-Index: K9c/Vtytoo1nd3EDZKAVW7sLpuObFQ==\n",
	  "RE: お見積り",
	  "ok\n\n-----Original Message-----\nFrom: a <a@example.jp>\n"
	  "Sent: Monday\nTo: b\nSubject: x\n", NULL, "FAKE_ORIGINAL_MESSAGE",
	  NULL },
	{ "Outlook reply with a child block in its Thread-Index",
	  FROM_OK "Thread-Index: K9c/Vtytoo1nd3EDZKAVW7sLpuObFQEKIjNE\n", "RE: お見積り",
	  "ok\n\n-----Original Message-----\nFrom: a <a@example.jp>\n"
	  "Sent: Monday\nTo: b\nSubject: x\n", NULL, NULL,
	  "FAKE_ORIGINAL_MESSAGE" },
	{ "a forward is not a forged reply", FROM_OK, "Fwd: 案内",
	  "転送します。\n\n-------- 転送メッセージ --------\n件名: 案内\n"
	  "日付: 2020/09/01\n差出人: a@example.jp\n宛先: b@example.jp\n",
	  NULL, NULL, "FAKE_ORIGINAL_MESSAGE" },
	{ "delivery report quoting headers",
	  "From: Mail Delivery Subsystem <mailer-daemon@abc.co.jp>\n",
	  "Undelivered Mail Returned to Sender",
	  "could not deliver\n\nFrom: a@abc.co.jp\nTo: b@x.example\n"
	  "Subject: hi\nDate: Mon\n\nb@x.example\n", NULL, NULL,
	  "SIGNATURE_DOMAIN_MISMATCH" },
	{ "RE： (full-width) without thread", FROM_OK, "RE：請求書の件",
	  "本文。\n", NULL, "REPLY_WITHOUT_THREAD", NULL },
	{ "返信: without thread", FROM_OK, "返信: 請求書", "本文。\n", NULL,
	  "REPLY_WITHOUT_THREAD", NULL },
	{ "AW: behind a list tag", FROM_OK, "[list] AW: Rechnung", "text\n",
	  NULL, "REPLY_WITHOUT_THREAD", NULL },
	{ "Re: with References", FROM_OK THREAD, "Re: 請求書", "本文。\n", NULL,
	  NULL, "REPLY_WITHOUT_THREAD" },
	{ "Report: is not a reply", FROM_OK, "Report: 月次", "本文。\n", NULL,
	  NULL, "REPLY_WITHOUT_THREAD" },
};

START_TEST(symbol_cases)
{
	const struct hcase *c = &cases[_i / G_N_ELEMENTS(charsets)];
	const char *cs = charsets[_i % G_N_ELEMENTS(charsets)];
	struct emf_engine *e = tu_engine(NULL);
	char *msg = make_mail(cs, c->headers, c->subject, c->body);
	struct emf_envelope env = { 0 };
	struct emf_report *r;

	env.sender = c->sender;
	ck_assert_int_eq(emf_scan_message(e, msg, strlen(msg), &env, &r),
	    EMF_OK);
	if (c->want != NULL)
		ck_assert_msg(emf_report_has_symbol(r, c->want),
		    "%s [%s]: got no %s, want it", c->label, cs, c->want);
	if (c->not != NULL)
		ck_assert_msg(!emf_report_has_symbol(r, c->not),
		    "%s [%s]: got %s (%s), want none", c->label, cs, c->not,
		    emf_report_symbols_summary(r));
	emf_report_free(r);
	g_free(msg);
	emf_engine_unref(e);
}
END_TEST

/* The seed sample, in every encoding, reaches tag on mail signs alone. */
START_TEST(seed_sample_combines)
{
	const char *cs = charsets[_i];
	struct emf_engine *e = tu_engine(NULL);
	char *msg = make_mail(cs, FROM_SPOOF "To: sato@example.co.jp\n",
	    "RE: 請求書の件", "お世話になっております。\n\nMail: dkk@xxx.yyy.ne.jp\n\n"
	    "-----Original Message-----\nFrom: 佐藤 <sato@example.co.jp>\n"
	    "Sent: Monday, August 31, 2020 5:00 PM\nTo: dkk@xxx.yyy.ne.jp\n"
	    "Subject: 請求書の件\n\nよろしくお願いします。\n");
	struct emf_report *r = tu_scan(e, msg);

	for (size_t i = 1; i < 6; i++)
		ck_assert_msg(emf_report_has_symbol(r, mail_symbols[i]) ||
		    i == 3, "[%s] got %s, want %s", cs,
		    emf_report_symbols_summary(r), mail_symbols[i]);
	ck_assert_msg(emf_report_action(r) >= EMF_ACTION_TAG,
	    "[%s] got %s at %g, want tag or more", cs,
	    emf_action_name(emf_report_action(r)), emf_report_score(r));
	emf_report_free(r);
	g_free(msg);
	emf_engine_unref(e);
}
END_TEST

static const struct {
	const char *label;
	const char *conf;
	struct emf_envelope env;
} trust[] = {
	{ "trusted domain",
	  "heuristics = { trusted_domains = [ \"kontraktor-id.com\" ]; };",
	  { 0 } },
	{ "trusted network",
	  "heuristics = { trusted_networks = [ \"192.0.2.0/24\" ]; };",
	  { .client_ip = "192.0.2.77" } },
	{ "trusted IPv6 network",
	  "heuristics = { trusted_networks = [ \"2001:db8::/32\" ]; };",
	  { .client_ip = "2001:db8:1::5" } },
	{ "authenticated sender", NULL, { .auth_user = "tasmika" } },
};

START_TEST(trusted_sender_skips_mail_heuristics)
{
	struct emf_engine *e = tu_engine(trust[_i].conf);
	char *msg = make_mail("UTF-8", FROM_SPOOF, "RE: x",
	    "text\n\nMail: dkk@xxx.yyy.ne.jp\n");
	struct emf_report *r;

	ck_assert_int_eq(emf_scan_message(e, msg, strlen(msg), &trust[_i].env,
	    &r), EMF_OK);
	ck_assert_msg(emf_report_has_symbol(r, "TRUSTED_SENDER"),
	    "%s: got %s, want TRUSTED_SENDER", trust[_i].label,
	    emf_report_symbols_summary(r));
	for (size_t i = 0; mail_symbols[i] != NULL; i++)
		ck_assert_msg(!emf_report_has_symbol(r, mail_symbols[i]),
		    "%s: got %s", trust[_i].label, mail_symbols[i]);
	emf_report_free(r);
	g_free(msg);
	emf_engine_unref(e);
}
END_TEST

START_TEST(untrusted_network_is_judged)
{
	struct emf_engine *e = tu_engine(
	    "heuristics = { trusted_networks = [ \"192.0.2.0/25\" ]; "
	    "trust_authenticated = false; };");
	char *msg = make_mail("UTF-8", FROM_SPOOF, "RE: x", "text\n");
	struct emf_envelope env = { .client_ip = "192.0.2.200",
		.auth_user = "someone" };
	struct emf_report *r;

	ck_assert_int_eq(emf_scan_message(e, msg, strlen(msg), &env, &r),
	    EMF_OK);
	ck_assert(!emf_report_has_symbol(r, "TRUSTED_SENDER"));
	ck_assert(emf_report_has_symbol(r, "DISPLAY_NAME_SPOOF"));
	emf_report_free(r);
	g_free(msg);
	emf_engine_unref(e);
}
END_TEST

static const struct {
	const char *conf;
	const char *want;
} bad[] = {
	{ "heuristics = { trusted_networks = [ \"10.0.0.0/33\" ]; };",
	  "heuristics.trusted_networks: \"10.0.0.0/33\"" },
	{ "heuristics = { trusted_networks = [ \"intranet\" ]; };",
	  "heuristics.trusted_networks: \"intranet\"" },
	{ "heuristics = { vba_allowlist = [ \"abc\" ]; };",
	  "heuristics.vba_allowlist: \"abc\" is not a SHA-256" },
	{ "heuristics = { trusted_domains = [ \"localhost\" ]; };",
	  "heuristics.trusted_domains: \"localhost\" is not a domain name" },
};

START_TEST(bad_settings_are_rejected)
{
	char *path = tu_tempfile(bad[_i].conf);
	struct emf_cfg *cfg;
	struct emf_engine *e = NULL;
	struct emf_error err;

	ck_assert_int_eq(emf_cfg_load(path, &cfg, &err), EMF_OK);
	ck_assert_int_eq(emf_engine_new(cfg, &e, &err), EMF_ERR_CONFIG);
	ck_assert_msg(strstr(err.msg, bad[_i].want) != NULL,
	    "got \"%s\", want \"%s\"", err.msg, bad[_i].want);
	ck_assert_msg(g_str_has_prefix(err.msg, path), "got \"%s\", want the "
	    "file name first", err.msg);
	unlink(path);
	g_free(path);
}
END_TEST

#define SHA_OK "5d41402abc4b2a76b9719d911017c592aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_OTHER "00000000000000000000000000000000000000000000000000000000000000ff"

START_TEST(vba_allowlist_drops_macro_findings)
{
	struct emf_engine *e = tu_engine("heuristics = { vba_allowlist = "
	    "[ \"" SHA_OK "\" ]; };");
	struct emf_scan *s = emf_scan_new(e, NULL);
	struct emf_object *book, *mod, *other;

	book = emf_object_child(s, NULL, "book.xlsm", NULL, NULL, 0);
	mod = emf_object_child(s, book, "Module1", NULL, NULL, 0);
	other = emf_object_child(s, NULL, "evil.xlsm", NULL, NULL, 0);
	book->vba_sha256 = g_ascii_strup(SHA_OK, -1);	/* case-insensitive */
	other->vba_sha256 = g_strdup(SHA_OTHER);
	emf_symbol(s, "OFFICE_MACRO", book, "VBA project");
	emf_symbol(s, "MACRO_AUTOEXEC", mod, "Workbook_Open");
	emf_symbol_scored(s, "YARA_EMF_VBA_AUTOEXEC_EXEC", 3, mod, "rule");
	emf_symbol(s, "MACRO_SUSPICIOUS", other, "Shell");
	emf_symbol(s, "OFFICE_MACRO", other, "VBA project");
	emf_symbol(s, "LURE_ENABLE_CONTENT_DOC", book, "enable content");
	emf_heuristics_vba_allowlist(s);
	ck_assert(!emf_scan_has_symbol(s, "MACRO_AUTOEXEC"));
	ck_assert(!emf_scan_has_symbol(s, "YARA_EMF_VBA_AUTOEXEC_EXEC"));
	/* OFFICE_MACRO stays for the other book, with its hit only. */
	ck_assert(emf_scan_has_symbol(s, "OFFICE_MACRO"));
	ck_assert(emf_scan_has_symbol(s, "MACRO_SUSPICIOUS"));
	ck_assert(emf_scan_has_symbol(s, "LURE_ENABLE_CONTENT_DOC"));
	ck_assert(emf_scan_has_symbol(s, "MACRO_ALLOWLISTED"));
	for (guint i = 0; i < s->symbols->len; i++) {
		struct emf_symbol *sym = g_ptr_array_index(s->symbols, i);

		if (strcmp(sym->name, "OFFICE_MACRO") != 0)
			continue;
		ck_assert_uint_eq(sym->nhits, 1);
		ck_assert_str_eq(((struct emf_symbol_hit *)
		    g_ptr_array_index(sym->hits, 0))->object, "2/evil.xlsm");
	}
	emf_scan_free(s);
	emf_engine_unref(e);
}
END_TEST

START_TEST(helpers)
{
	struct emf_engine *e = tu_engine(NULL);
	const struct emf_heur *h = e->mod[EMF_MOD_HEURISTICS];
	char *d;

	d = emf_heur_domain(h, "x@mail.example.co.jp");
	ck_assert_str_eq(d, "example.co.jp");
	g_free(d);
	d = emf_heur_domain(h, "X@Sub.Example.COM.");
	ck_assert_str_eq(d, "example.com");
	g_free(d);
	ck_assert_ptr_null(emf_heur_domain(h, "no-at-sign"));
	ck_assert(emf_heur_reply_subject(h, "Ｒｅ：件名"));
	ck_assert(emf_heur_reply_subject(h, "Fw[2]: x"));
	ck_assert(!emf_heur_reply_subject(h, "Regarding: x"));
	ck_assert(emf_heur_quoted_header(h,
	    ">> From: a\n>> Date: b\n>> To: c\n", NULL));
	ck_assert(!emf_heur_quoted_header(h, "From: a\n\nsome text\n", NULL));
	/* Full-width quote marks, as some Japanese mailers write them. */
	ck_assert(emf_heur_quoted_header(h,
	    "＞ 差出人： a\n＞ 日時： b\n＞ 件名： c\n", NULL));
	emf_engine_unref(e);
}
END_TEST

/*
 * The default weights: every single sign stays below tag, the combinations
 * typical of Emotet mail reach quarantine (contrib/doc/scores.md).
 */
static const struct {
	const char *label;
	const char *symbols[8];
	enum emf_action want;
} combos[] = {
	{ "password zip + body password + macro with auto-start",
	  { "ARCHIVE_ENCRYPTED", "ARCHIVE_PASSWORD_IN_BODY", "OFFICE_MACRO",
	    "MACRO_AUTOEXEC", NULL }, EMF_ACTION_QUARANTINE },
	{ "same with suspicious macro code",
	  { "ARCHIVE_ENCRYPTED", "ARCHIVE_PASSWORD_IN_BODY", "OFFICE_MACRO",
	    "MACRO_AUTOEXEC", "MACRO_SUSPICIOUS", NULL }, EMF_ACTION_REJECT },
	{ "fake reply + macro with auto-start",
	  { "FAKE_ORIGINAL_MESSAGE", "REPLY_WITHOUT_THREAD", "OFFICE_MACRO",
	    "MACRO_AUTOEXEC", NULL }, EMF_ACTION_QUARANTINE },
	{ "signature mismatch + lure + macro with auto-start",
	  { "SIGNATURE_DOMAIN_MISMATCH", "LURE_ENABLE_CONTENT_BODY",
	    "OFFICE_MACRO", "MACRO_AUTOEXEC", NULL }, EMF_ACTION_QUARANTINE },
	{ "Excel 4.0 macro + document lure",
	  { "XLM_MACRO", "LURE_ENABLE_CONTENT_DOC", NULL },
	  EMF_ACTION_TAG },
	/* real mail seen in the corpus */
	{ "Outlook-2002 reply via a list",
	  { "FAKE_ORIGINAL_MESSAGE", "REPLY_WITHOUT_THREAD",
	    "FROM_ENVELOPE_MISMATCH", NULL }, EMF_ACTION_ACCEPT },
	{ "newsletter with a brand name",
	  { "DISPLAY_NAME_SPOOF", "SIGNATURE_DOMAIN_MISMATCH", NULL },
	  EMF_ACTION_ACCEPT },
	{ "list mail", { "FROM_ENVELOPE_MISMATCH", "REPLY_TO_MISMATCH",
	    "REPLY_WITHOUT_THREAD", NULL }, EMF_ACTION_ACCEPT },
};

START_TEST(default_weights_reach_actions)
{
	struct emf_engine *e = tu_engine(NULL);
	double total = 0;
	enum emf_action got;

	for (size_t i = 0; combos[_i].symbols[i] != NULL; i++)
		total += emf_engine_score(e, combos[_i].symbols[i]);
	got = total >= e->thr_reject ? EMF_ACTION_REJECT :
	    total >= e->thr_quarantine ? EMF_ACTION_QUARANTINE :
	    total >= e->thr_tag ? EMF_ACTION_TAG : EMF_ACTION_ACCEPT;
	ck_assert_msg(combos[_i].want == EMF_ACTION_ACCEPT ?
	    got == EMF_ACTION_ACCEPT : got >= combos[_i].want,
	    "%s: total %g gives %s, want %s%s", combos[_i].label, total,
	    emf_action_name(got), emf_action_name(combos[_i].want),
	    combos[_i].want == EMF_ACTION_ACCEPT ? "" : " or more");
	emf_engine_unref(e);
}
END_TEST

START_TEST(one_sign_alone_stays_below_tag)
{
	struct emf_engine *e = tu_engine(NULL);

	for (size_t i = 0; mail_symbols[i] != NULL; i++)
		ck_assert_msg(emf_engine_score(e, mail_symbols[i]) < e->thr_tag,
		    "%s weighs %g, want < tag %g", mail_symbols[i],
		    emf_engine_score(e, mail_symbols[i]), e->thr_tag);
	ck_assert(emf_engine_score(e, "LURE_ENABLE_CONTENT_BODY") < e->thr_tag);
	/*
	 * Deliberate exceptions: an executable attachment or a padded member
	 * is enough on its own to tag (never to quarantine).
	 */
	ck_assert(emf_engine_score(e, "EXECUTABLE_ATTACHMENT") >= e->thr_tag);
	ck_assert(emf_engine_score(e, "EXECUTABLE_ATTACHMENT") <
	    e->thr_quarantine);
	ck_assert(emf_engine_score(e, "INFLATED_FILE") < e->thr_quarantine);
	emf_engine_unref(e);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("heuristics");
	TCase *tc = tcase_create("symbols");

	tcase_add_loop_test(tc, symbol_cases, 0,
	    G_N_ELEMENTS(cases) * G_N_ELEMENTS(charsets));
	tcase_add_loop_test(tc, seed_sample_combines, 0, G_N_ELEMENTS(charsets));
	tcase_add_loop_test(tc, trusted_sender_skips_mail_heuristics, 0,
	    G_N_ELEMENTS(trust));
	tcase_add_test(tc, untrusted_network_is_judged);
	tcase_add_loop_test(tc, bad_settings_are_rejected, 0, G_N_ELEMENTS(bad));
	tcase_add_test(tc, vba_allowlist_drops_macro_findings);
	tcase_add_test(tc, helpers);
	tcase_add_loop_test(tc, default_weights_reach_actions, 0,
	    G_N_ELEMENTS(combos));
	tcase_add_test(tc, one_sign_alone_stays_below_tag);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
