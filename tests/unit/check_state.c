/*
 * check_state.c - the correlation state: the gateway-notice password
 * forms (passwords.c emf_passwords_notice()), and the store's own rules
 * on SQLite (caps evict the oldest, a transition is claimed once, release
 * tokens work once, expiry, an unreachable store is an error), and the
 * correspondence memory (subject keys, caps, age, migration of a version
 * 1 store, outbound classification, a failed lookup). The
 * correlation end to end, on both backends, is tests/state.sh.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "mail/passwords.h"
#include "store/state.h"
#include "testutil.h"

/* ---- notice forms -------------------------------------------------------- */

static const struct {
	const char *text;
	const char *want;	/* first candidate, or NULL for none */
} notices[] = {
	{ "パスワード通知\n\nKx7pQ2mz\n", "Kx7pQ2mz" },
	{ "【パスワード通知】\n\n添付ファイル: a.zip\n\n  Kx7pQ2mz  \n", "Kx7pQ2mz" },
	{ "Password for the attached file:\n\nTr4!nGate#\n", "Tr4!nGate#" },
	{ "パスワード: Sunrise4456!\n", "Sunrise4456!" },
	{ "■PW:sUlUrhFFMu\n", "sUlUrhFFMu" },
	{ "解凍パスワード:「20220310」\n", "20220310" },
	{ "Hello,\n\nab12cd34\n\nBest\n", "ab12cd34" },
	/* prose, names and addresses are not passwords */
	{ "先ほどお送りしたメールのパスワードをお知らせします。\n", NULL },
	{ "Best regards\nE-mail:abe@example.co.jp\nTEL 03-1234-5678\n", NULL },
	{ "upward: nothing\n", NULL },
	{ "パスワード: 別途\n", NULL },
	{ "", NULL },
};

START_TEST(notice_forms)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(emf_pwcand_free);
	char *nfkc = g_utf8_normalize(notices[_i].text, -1, G_NORMALIZE_NFKC);

	emf_passwords_notice(nfkc, strlen(nfkc), 64, 8, out);
	if (notices[_i].want == NULL) {
		ck_assert_msg(out->len == 0, "case %d: got \"%s\"", _i,
		    out->len ? ((struct emf_pwcand *)
		    g_ptr_array_index(out, 0))->value : "");
	} else {
		ck_assert_msg(out->len >= 1, "case %d: nothing", _i);
		ck_assert_str_eq(((struct emf_pwcand *)
		    g_ptr_array_index(out, 0))->value, notices[_i].want);
	}
	g_free(nfkc);
	g_ptr_array_free(out, TRUE);
}
END_TEST

START_TEST(notice_bounded)
{
	GString *s = g_string_new(NULL);
	GPtrArray *out = g_ptr_array_new_with_free_func(emf_pwcand_free);

	for (int i = 0; i < 5000; i++)
		g_string_append_printf(s, "pw: tok%05dx\nlone%05dy\n", i, i);
	emf_passwords_notice(s->str, s->len, 64, 8, out);
	ck_assert_uint_le(out->len, 8);
	g_ptr_array_set_size(out, 0);
	/* a password longer than maxlen is not one */
	emf_passwords_notice("pw: abcdefghij1234567890\n", 24, 10, 8, out);
	ck_assert_uint_eq(out->len, 0);
	g_ptr_array_free(out, TRUE);
	g_string_free(s, TRUE);
}
END_TEST

/* ---- the store (SQLite) ---------------------------------------------------- */

static char *dir;

static void
setup(void)
{
	dir = g_dir_make_tmp("emf-state-XXXXXX", NULL);
	ck_assert_ptr_nonnull(dir);
}

static void
teardown(void)
{
	char *p = g_build_filename(dir, "state.sqlite", NULL);
	char *w = g_strconcat(p, "-wal", NULL), *m = g_strconcat(p, "-shm",
	    NULL);

	g_unlink(p);
	g_unlink(w);
	g_unlink(m);
	g_rmdir(dir);
	g_free(p);
	g_free(w);
	g_free(m);
	g_free(dir);
}

static struct emf_state *
open_store(long per_sender, long total, long window)
{
	struct emf_state_opts o = { 0 };
	struct emf_state *st;
	struct emf_error err;
	char *p = g_build_filename(dir, "state.sqlite", NULL);

	o.backend = "sqlite";
	o.path = p;
	o.window = window;
	o.max_per_sender = per_sender;
	o.max_total = total;
	o.busy_timeout_ms = 1000;
	ck_assert_msg(emf_state_open(&o, &st, &err) == EMF_OK, "%s", err.msg);
	g_free(p);
	return st;
}

static struct emf_held *
held(const char *sender, const char *label, int64_t t)
{
	struct emf_held *h = g_new0(struct emf_held, 1);

	h->report_id = g_strdup_printf("R-%s", label);
	h->queue_id = g_strdup("");
	h->label = g_strdup(label);
	h->env_sender = g_strdup(sender);
	h->from_addr = g_strdup(sender);
	h->env_rcpts = g_strdup("to@corp.example");
	h->rcpts = g_strdup("to@corp.example");
	h->message_id = g_strdup("");
	h->subject = g_strdup("s");
	h->attachments = g_strdup("a.zip");
	h->hashes = g_strdup("");
	h->received = t;
	h->message = g_bytes_new("raw\r\n", 5);
	return h;
}

static GPtrArray *
events(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)emf_held_free);
}

START_TEST(caps_evict_oldest)
{
	struct emf_state *st = open_store(2, 3, 1800);
	struct emf_error err;
	GPtrArray *ev = events();
	const char *limit;
	long n;

	for (int i = 0; i < 3; i++) {
		char l[8];
		struct emf_held *h;

		g_snprintf(l, sizeof(l), "a%d", i);
		h = held("a@x.example", l, 1000 + i);
		ck_assert(emf_state_hold(st, h, 1000 + i, ev, &err) == EMF_OK);
		emf_held_free(h);
	}
	/* the third of one sender pushed the first out */
	ck_assert_uint_eq(ev->len, 1);
	ck_assert_str_eq(((struct emf_held *)g_ptr_array_index(ev, 0))->label,
	    "a0");
	ck_assert(emf_state_full(st, "a@x.example", "", &limit, &err) ==
	    EMF_OK);
	ck_assert_str_eq(limit, "state.max_per_sender");
	ck_assert(emf_state_full(st, "b@x.example", "", &limit, &err) ==
	    EMF_OK);
	ck_assert_ptr_null(limit);
	/* two more senders: the total cap takes the oldest of anyone */
	g_ptr_array_set_size(ev, 0);
	for (int i = 0; i < 2; i++) {
		struct emf_held *h = held(i ? "c@x.example" : "b@x.example",
		    i ? "c" : "b", 2000 + i);

		ck_assert(emf_state_hold(st, h, 2000 + i, ev, &err) == EMF_OK);
		emf_held_free(h);
	}
	ck_assert_uint_eq(ev->len, 1);
	ck_assert_str_eq(((struct emf_held *)g_ptr_array_index(ev, 0))->label,
	    "a1");
	ck_assert(emf_state_count(st, EMF_STATE_WAITING, &n, &err) == EMF_OK);
	ck_assert_int_eq(n, 3);
	g_ptr_array_free(ev, TRUE);
	emf_state_close(st);
}
END_TEST

START_TEST(claimed_once_and_tokens)
{
	struct emf_state *st = open_store(10, 10, 1800);
	struct emf_state *other = open_store(10, 10, 1800);
	struct emf_error err;
	struct emf_held *h = held("a@x.example", "m", 1000), *g = NULL;
	GPtrArray *ev = events();
	const char *senders[] = { "a@x.example", NULL };
	bool claimed, found;

	ck_assert(emf_state_hold(st, h, 1000, ev, &err) == EMF_OK);
	ck_assert(emf_state_waiting_from(other, senders, 900, 10, ev, &err) ==
	    EMF_OK);
	ck_assert_uint_eq(ev->len, 1);
	ck_assert_uint_eq(g_bytes_get_size(((struct emf_held *)
	    g_ptr_array_index(ev, 0))->message), 5);
	/* two handles race: one wins */
	ck_assert(emf_state_finish(other, h->id, EMF_STATE_RESOLVED, "release",
	    "pw", "resolved", 1001, &claimed, &err) == EMF_OK);
	ck_assert(claimed);
	ck_assert(emf_state_finish(st, h->id, EMF_STATE_RESOLVED, "keep",
	    "pw2", "resolved", 1002, &claimed, &err) == EMF_OK);
	ck_assert(!claimed);
	ck_assert(emf_state_get(st, h->id, &g, &err) == EMF_OK);
	ck_assert_ptr_nonnull(g);
	ck_assert_str_eq(g->outcome, "release");
	ck_assert_uint_eq(g_bytes_get_size(g->message), 0);
	ck_assert_ptr_nonnull(strstr(g->history, "held"));
	/* a release token works once, and a short one never */
	ck_assert(emf_state_token_set(st, h->id,
	    "0123456789abcdef0123456789abcdef", &err) == EMF_OK);
	ck_assert(emf_state_token_consume(other,
	    "0123456789abcdef0123456789abcdef", &found, &err) == EMF_OK);
	ck_assert(found);
	ck_assert(emf_state_token_consume(st,
	    "0123456789abcdef0123456789abcdef", &found, &err) == EMF_OK);
	ck_assert(!found);
	ck_assert(emf_state_token_consume(st, "", &found, &err) == EMF_OK);
	ck_assert(!found);
	emf_held_free(g);
	emf_held_free(h);
	g_ptr_array_free(ev, TRUE);
	emf_state_close(other);
	emf_state_close(st);
}
END_TEST

START_TEST(expiry)
{
	struct emf_state *st = open_store(10, 10, 60);
	struct emf_error err;
	struct emf_held *h = held("a@x.example", "old", 1000);
	struct emf_held *k = held("b@x.example", "new", 1050);
	GPtrArray *ev = events();
	long n;

	ck_assert(emf_state_hold(st, h, 1000, ev, &err) == EMF_OK);
	ck_assert(emf_state_hold(st, k, 1050, ev, &err) == EMF_OK);
	ck_assert(emf_state_expire(st, 1070, "keep", ev, &err) == EMF_OK);
	ck_assert_uint_eq(ev->len, 1);
	ck_assert_str_eq(((struct emf_held *)g_ptr_array_index(ev, 0))->label,
	    "old");
	ck_assert_str_eq(((struct emf_held *)g_ptr_array_index(ev, 0))->outcome,
	    "keep");
	/* expired once only */
	ck_assert(emf_state_expire(st, 1071, "keep", ev, &err) == EMF_OK);
	ck_assert_uint_eq(ev->len, 1);
	ck_assert(emf_state_count(st, EMF_STATE_WAITING, &n, &err) == EMF_OK);
	ck_assert_int_eq(n, 1);
	/* finished rows go after STATE_KEEP_FINISHED */
	ck_assert(emf_state_expire(st, 1071 + STATE_KEEP_FINISHED, "keep", ev,
	    &err) == EMF_OK);
	ck_assert(emf_state_count(st, -1, &n, &err) == EMF_OK);
	ck_assert_int_eq(n, 1);	/* "new" (expired just now) is kept */
	emf_held_free(h);
	emf_held_free(k);
	g_ptr_array_free(ev, TRUE);
	emf_state_close(st);
}
END_TEST

START_TEST(unreachable)
{
	struct emf_state_opts o = { 0 };
	struct emf_state *st = NULL;
	struct emf_error err;

	o.backend = "sqlite";
	o.path = "/nonexistent/dir/state.sqlite";
	ck_assert(emf_state_open(&o, &st, &err) == EMF_ERR_IO);
	ck_assert_ptr_null(st);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot open"));
	o.backend = "postgresql";
	o.conninfo = "host=/nonexistent port=1 dbname=x connect_timeout=2";
	ck_assert(emf_state_open(&o, &st, &err) == EMF_ERR_IO);
	ck_assert_ptr_nonnull(strstr(err.msg, "postgresql"));
	o.backend = "redis";
	ck_assert(emf_state_open(&o, &st, &err) == EMF_ERR_CONFIG);
}
END_TEST

/* ---- the correspondence memory -------------------------------------------- */

static const struct {
	const char *subject, *key;
} subject_keys[] = {
	{ "RE: Re[2]: Fwd: 見積書の件", "見積書の件" },
	{ "[ml:12] Re:  Hello   World ", "hello world" },
	{ "AW: WG: Termin", "termin" },
	{ "返信: 転送: ご相談", "ご相談" },
	{ "Ｒｅ： 全角", "全角" },
	{ "Reply needed", "reply needed" },
	{ "", "" },
};

START_TEST(memory_subject_key)
{
	char *k = emf_state_subject_key(subject_keys[_i].subject);

	ck_assert_str_eq(k, subject_keys[_i].key);
	g_free(k);
}
END_TEST

static struct emf_state *
open_memory(long max_entries, long per_sender, long max_age)
{
	struct emf_state_opts o = { 0 };
	struct emf_state *st;
	struct emf_error err;
	char *p = g_build_filename(dir, "state.sqlite", NULL);

	o.backend = "sqlite";
	o.path = p;
	o.busy_timeout_ms = 1000;
	o.memory = true;
	o.memory_max_entries = max_entries;
	o.memory_max_per_sender = per_sender;
	o.memory_max_age = max_age;
	ck_assert_msg(emf_state_open(&o, &st, &err) == EMF_OK, "%s", err.msg);
	g_free(p);
	return st;
}

/* Record a mail from -> to (Message-ID mid) at time t. */
static void
record(struct emf_state *st, struct emf_engine *e, const char *from,
    const char *to, const char *mid, int64_t t, unsigned want)
{
	char *m = g_strdup_printf("From: %s\r\nTo: %s\r\nSubject: s\r\n"
	    "Message-ID: <%s>\r\n\r\nhello\r\n", from, to, mid);
	struct emf_report *r = tu_scan(e, m);
	struct emf_error err;
	unsigned n = 99;

	ck_assert_msg(emf_state_memory_record(st, r, t, &n, &err) == EMF_OK,
	    "%s", err.msg);
	ck_assert_uint_eq(n, want);
	emf_report_free(r);
	g_free(m);
}

static bool
knows(struct emf_state *st, const char *party, const char *refs)
{
	const struct emf_memory *mem = emf_state_memory(st);
	struct emf_memory_query q = { party, refs, NULL, NULL };
	struct emf_memory_answer a;

	ck_assert_ptr_nonnull(mem);
	ck_assert(mem->lookup(mem->ctx, &q, &a));
	return refs != NULL ? a.thread_to_party : a.known_party;
}

START_TEST(memory_caps_and_age)
{
	struct emf_engine *e = tu_engine(NULL);
	struct emf_state *st = open_memory(4, 2, 1000);
	struct emf_error err;
	long n, gone;

	emf_state_memory_now(st, 1000);
	/* per sender: the third row pushes out the first */
	record(st, e, "us@corp.example", "p1@x.example", "m1@corp", 100, 1);
	record(st, e, "us@corp.example", "p2@x.example", "m2@corp", 101, 1);
	record(st, e, "us@corp.example", "p3@x.example", "m3@corp", 102, 1);
	ck_assert(emf_state_memory_count(st, "us@corp.example", &n, &err) ==
	    EMF_OK);
	ck_assert_int_eq(n, 2);
	ck_assert(!knows(st, "p1@x.example", NULL));
	ck_assert(knows(st, "p3@x.example", NULL));
	ck_assert(knows(st, "p3@x.example", "<a@b> <m3@corp>"));
	ck_assert(!knows(st, "p2@x.example", "<m3@corp>"));
	/* two recipients, the same one twice: two rows; more than the cap:
	 * the first ones */
	record(st, e, "two@corp.example", "a@y.example, b@y.example, "
	    "A@Y.example", "m4@corp", 103, 2);
	record(st, e, "big@corp.example", "c@y.example, d@y.example, "
	    "e@y.example", "m5@corp", 104, 2);
	/* in all: 6 rows, over max_entries 4: the housekeeping takes the
	 * oldest two */
	ck_assert(emf_state_memory_expire(st, 200, &gone, &err) == EMF_OK);
	ck_assert_int_eq(gone, 2);
	ck_assert(emf_state_memory_count(st, NULL, &n, &err) == EMF_OK);
	ck_assert_int_eq(n, 4);
	ck_assert(!knows(st, "p2@x.example", NULL));
	ck_assert(knows(st, "a@y.example", NULL));
	/* age: rows older than max_age go; a lookup never counts them */
	emf_state_memory_now(st, 1104);
	ck_assert(!knows(st, "a@y.example", NULL));
	ck_assert(knows(st, "c@y.example", NULL));
	ck_assert(emf_state_memory_expire(st, 1200, &gone, &err) == EMF_OK);
	ck_assert_int_eq(gone, 4);
	ck_assert(emf_state_memory_count(st, NULL, &n, &err) == EMF_OK);
	ck_assert_int_eq(n, 0);
	emf_state_close(st);
	emf_engine_unref(e);
}
END_TEST

static void
sql(const char *path, const char *text, char *one, size_t n)
{
	sqlite3 *db;
	sqlite3_stmt *q;

	ck_assert(sqlite3_open(path, &db) == SQLITE_OK);
	if (one == NULL) {
		ck_assert_msg(sqlite3_exec(db, text, NULL, NULL, NULL) ==
		    SQLITE_OK, "%s", sqlite3_errmsg(db));
	} else {
		ck_assert(sqlite3_prepare_v2(db, text, -1, &q, NULL) ==
		    SQLITE_OK);
		ck_assert(sqlite3_step(q) == SQLITE_ROW);
		g_strlcpy(one, (const char *)sqlite3_column_text(q, 0), n);
		sqlite3_finalize(q);
	}
	sqlite3_close(db);
}

/* A version 1 store (before the memory) with a waiting mail. */
START_TEST(memory_migrates_v1)
{
	char *p = g_build_filename(dir, "state.sqlite", NULL);
	struct emf_engine *e = tu_engine(NULL);
	struct emf_state *st;
	struct emf_error err;
	char v[16];
	long n;

	sql(p, "CREATE TABLE emf_state_meta (key TEXT PRIMARY KEY, "
	    "value TEXT NOT NULL);"
	    "INSERT INTO emf_state_meta VALUES ('schema', '1');"
	    "CREATE TABLE emf_held (id INTEGER PRIMARY KEY AUTOINCREMENT,"
	    " report_id TEXT NOT NULL, queue_id TEXT NOT NULL DEFAULT '',"
	    " label TEXT NOT NULL DEFAULT '', sender_key TEXT NOT NULL,"
	    " env_sender TEXT NOT NULL DEFAULT '',"
	    " from_addr TEXT NOT NULL DEFAULT '',"
	    " env_rcpts TEXT NOT NULL DEFAULT '', rcpts TEXT NOT NULL DEFAULT '',"
	    " message_id TEXT NOT NULL DEFAULT '',"
	    " subject TEXT NOT NULL DEFAULT '',"
	    " attachments TEXT NOT NULL DEFAULT '',"
	    " hashes TEXT NOT NULL DEFAULT '', received INTEGER NOT NULL,"
	    " status TEXT NOT NULL, outcome TEXT NOT NULL DEFAULT '',"
	    " opened_by TEXT NOT NULL DEFAULT '',"
	    " finished INTEGER NOT NULL DEFAULT 0,"
	    " history TEXT NOT NULL DEFAULT '',"
	    " release_token TEXT NOT NULL DEFAULT '', message BLOB NOT NULL);"
	    "INSERT INTO emf_held (report_id, sender_key, received, status, "
	    "message) VALUES ('R-1', 'a@x.example', 1000, 'waiting', x'00');",
	    NULL, 0);
	st = open_memory(10, 10, 1000);
	sql(p, "SELECT value FROM emf_state_meta WHERE key = 'schema'", v,
	    sizeof(v));
	ck_assert_str_eq(v, "2");
	ck_assert(emf_state_count(st, EMF_STATE_WAITING, &n, &err) == EMF_OK);
	ck_assert_int_eq(n, 1);
	emf_state_memory_now(st, 1000);
	record(st, e, "us@corp.example", "p@x.example", "m@corp", 1000, 1);
	ck_assert(knows(st, "p@x.example", "<m@corp>"));
	/* opened again: nothing changes */
	emf_state_close(st);
	st = open_memory(10, 10, 1000);
	emf_state_memory_now(st, 1000);
	ck_assert(knows(st, "p@x.example", "<m@corp>"));
	/* the table gone under it: the lookup fails, and says so once */
	sql(p, "DROP TABLE emf_sent;", NULL, 0);
	{
		const struct emf_memory *mem = emf_state_memory(st);
		struct emf_memory_query q = { "p@x.example", "<m@corp>", NULL,
			NULL };
		struct emf_memory_answer a;

		ck_assert(!mem->lookup(mem->ctx, &q, &a));
		ck_assert(!a.thread_to_party);
		ck_assert(emf_state_memory_failed(st, &err));
		ck_assert_ptr_nonnull(strstr(err.msg, "emf_sent"));
		ck_assert(!emf_state_memory_failed(st, &err));
	}
	emf_state_close(st);
	emf_engine_unref(e);
	g_free(p);
}
END_TEST

START_TEST(memory_outbound)
{
	struct emf_engine *e = tu_engine("state = { memory = { "
	    "outbound_networks = [ \"10.0.0.0/8\", \"2001:db8::/32\" ]; }; };");
	const struct emf_cfg *cfg = emf_engine_cfg(e);
	struct emf_envelope env = { 0 };

	ck_assert(!emf_state_outbound(cfg, &env));
	env.auth_user = "tanaka";
	ck_assert(emf_state_outbound(cfg, &env));
	env.auth_user = "";
	env.client_ip = "10.20.30.40";
	ck_assert(emf_state_outbound(cfg, &env));
	env.client_ip = "192.0.2.1";
	ck_assert(!emf_state_outbound(cfg, &env));
	env.client_ip = "2001:db8::25";
	ck_assert(emf_state_outbound(cfg, &env));
	env.client_ip = "not an address";
	ck_assert(!emf_state_outbound(cfg, &env));
	emf_engine_unref(e);
	e = tu_engine("state = { memory = { outbound_authenticated = false; "
	    "}; };");
	env.auth_user = "tanaka";
	env.client_ip = NULL;
	ck_assert(!emf_state_outbound(emf_engine_cfg(e), &env));
	emf_engine_unref(e);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("state");
	TCase *tn = tcase_create("notice");
	TCase *ts = tcase_create("store");

	tcase_add_loop_test(tn, notice_forms, 0, G_N_ELEMENTS(notices));
	tcase_add_test(tn, notice_bounded);
	suite_add_tcase(s, tn);
	tcase_add_checked_fixture(ts, setup, teardown);
	tcase_add_test(ts, caps_evict_oldest);
	tcase_add_test(ts, claimed_once_and_tokens);
	tcase_add_test(ts, expiry);
	tcase_add_test(ts, unreachable);
	tcase_add_loop_test(ts, memory_subject_key, 0,
	    G_N_ELEMENTS(subject_keys));
	tcase_add_test(ts, memory_caps_and_age);
	tcase_add_test(ts, memory_migrates_v1);
	tcase_add_test(ts, memory_outbound);
	suite_add_tcase(s, ts);
	return tu_run(s);
}
