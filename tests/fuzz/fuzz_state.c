/*
 * fuzz_state.c - the correlation state's input (store/state.c) and the
 * password-notice parser it uses (mail/passwords.c
 * emf_passwords_notice()): what reaches the store is a mail, so the input
 * is two mails, a held one and the one that follows it, separated by a
 * line "--8<--" (no separator: the input is both), run through
 * emf_state_correlate() against a fresh SQLite store in a temporary
 * directory (the notice forms, the token header, the mentions, the
 * rescans with the candidates, holding and expiry), and one record made
 * of the input's lines and bytes stored and read back (the record
 * encoding and decoding, with hostile text in every field).
 *
 * Contracts checked: a notice gives at most the count asked for, each a
 * unique token of printable ASCII within the length asked for, on a line
 * of the text, labelled or bare; the store never fails on its own (an
 * error is a broken contract: the file is private and local); a record
 * reads back equal, field by field, with its message; it is finished
 * exactly once (a second claim is refused) and its message dropped then;
 * a held mail is resolved at most once, a resolved event carries its
 * rescan; after the window everything waiting is expired; the reports
 * stay UTF-8 (fuzz_report).
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "mail/passwords.h"
#include "store/state.h"

#define SEP "\n--8<--\n"
#define NOTICE_MAX 16
#define NOTICE_LEN 64
#define WINDOW 3600

static struct emf_engine *engine;
static char *dir, *path;

static void
cleanup(void)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };

	for (size_t i = 0; i < G_N_ELEMENTS(sfx); i++) {
		char *p = g_strconcat(path, sfx[i], NULL);

		g_unlink(p);
		g_free(p);
	}
}

static void
at_end(void)
{
	cleanup();
	g_rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	emf_library_init();
	engine = fuzz_engine(NULL);
	dir = g_dir_make_tmp("emf-fuzz-state-XXXXXX", NULL);
	FUZZ_ASSERT(dir != NULL);
	path = g_build_filename(dir, "state.db", NULL);
	atexit(at_end);
	return 0;
}

static void
notice_checked(const uint8_t *data, size_t size)
{
	char *valid = g_utf8_make_valid((const char *)data, (gssize)size);
	char *nfkc = g_utf8_normalize(valid, -1, G_NORMALIZE_NFKC);
	GPtrArray *out = g_ptr_array_new_with_free_func(emf_pwcand_free);
	size_t len, n, max = 1 + (size > 0 ? data[0] % NOTICE_MAX : 0);
	unsigned lines = 1;

	if (nfkc == NULL)
		nfkc = g_strdup(valid);
	len = strlen(nfkc);
	for (size_t i = 0; i < len; i++)
		lines += nfkc[i] == '\n';
	/* Appended after what is there: the bound is the call's. */
	g_ptr_array_add(out, g_new0(struct emf_pwcand, 1));
	((struct emf_pwcand *)out->pdata[0])->value = g_strdup("before");
	n = emf_passwords_notice(nfkc, len, NOTICE_LEN, max, out);
	FUZZ_ASSERT(n <= max && out->len == n + 1);
	for (guint i = 1; i < out->len; i++) {
		const struct emf_pwcand *c = g_ptr_array_index(out, i);
		size_t vl = strlen(c->value);

		FUZZ_ASSERT(vl >= 3 && vl <= NOTICE_LEN);
		for (size_t k = 0; k < vl; k++)
			FUZZ_ASSERT(c->value[k] > 0x20 && c->value[k] < 0x7F);
		FUZZ_ASSERT(strstr(c->value, "://") == NULL);
		FUZZ_ASSERT(c->how == EMF_PW_LABELLED ||
		    c->how == EMF_PW_BARE);
		FUZZ_ASSERT(c->pattern == -1);
		FUZZ_ASSERT(c->line >= 1 && c->line <= lines);
		FUZZ_ASSERT(strstr(nfkc, c->value) != NULL);
		for (guint k = 1; k < i; k++)
			FUZZ_ASSERT(strcmp(c->value, ((struct emf_pwcand *)
			    g_ptr_array_index(out, k))->value) != 0);
	}
	g_ptr_array_free(out, TRUE);
	g_free(nfkc);
	g_free(valid);
}

static struct emf_state *
store_open(void)
{
	struct emf_state_opts o = { 0 };
	struct emf_state *st = NULL;
	struct emf_error err;

	cleanup();
	o.backend = "sqlite";
	o.path = path;
	o.window = WINDOW;
	o.max_per_sender = 3;
	o.max_total = 8;
	o.busy_timeout_ms = 1000;
	if (emf_state_open(&o, &st, &err) != EMF_OK) {
		fprintf(stderr, "state: %s\n", err.msg);
		abort();
	}
	return st;
}

/* The i-th line of text (NUL-free, may be invalid UTF-8), or "". */
static char *
line_of(char **lines, size_t i)
{
	size_t n = g_strv_length(lines);

	return g_strdup(n == 0 ? "" : lines[i % n]);
}

static void
same(const char *a, const char *b)
{
	FUZZ_ASSERT(a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* A record of the input's lines, stored, read back and finished. */
static void
record_checked(struct emf_state *st, const uint8_t *data, size_t size)
{
	char *text = g_strndup((const char *)data, size);
	char **lines = g_strsplit(text, "\n", 32);
	struct emf_held *h = g_new0(struct emf_held, 1), *g = NULL;
	GPtrArray *ev = g_ptr_array_new_with_free_func(
	    (GDestroyNotify)emf_held_free);
	struct emf_error err;
	bool claimed = true;
	gsize a, b;

	h->report_id = line_of(lines, 0);
	h->queue_id = line_of(lines, 1);
	h->label = line_of(lines, 2);
	h->env_sender = line_of(lines, 3);
	h->from_addr = line_of(lines, 4);
	h->env_rcpts = g_strjoinv("\n", lines);
	h->rcpts = line_of(lines, 5);
	h->message_id = line_of(lines, 6);
	h->subject = line_of(lines, 7);
	h->attachments = line_of(lines, 8);
	h->hashes = line_of(lines, 9);
	h->received = (int64_t)(size * 7919) - 1000000;
	h->outcome = g_strdup("");
	h->opened_by = g_strdup("");
	h->history = g_strdup("");
	h->message = g_bytes_new(data, size);
	FUZZ_ASSERT(emf_state_hold(st, h, 5000, ev, &err) == EMF_OK);
	FUZZ_ASSERT(h->id > 0);
	FUZZ_ASSERT(emf_state_get(st, h->id, &g, &err) == EMF_OK &&
	    g != NULL);
	FUZZ_ASSERT(g->id == h->id && g->received == h->received);
	FUZZ_ASSERT(g->status == EMF_STATE_WAITING);
	same(g->report_id, h->report_id);
	same(g->queue_id, h->queue_id);
	same(g->label, h->label);
	same(g->env_sender, h->env_sender);
	same(g->from_addr, h->from_addr);
	same(g->env_rcpts, h->env_rcpts);
	same(g->rcpts, h->rcpts);
	same(g->message_id, h->message_id);
	same(g->subject, h->subject);
	same(g->attachments, h->attachments);
	same(g->hashes, h->hashes);
	same(g->outcome, "");
	FUZZ_ASSERT(g_str_has_prefix(g->history, "5000 "));
	FUZZ_ASSERT(g_bytes_get_size(g->message) == size);
	FUZZ_ASSERT(size == 0 || memcmp(g_bytes_get_data(g->message, &a),
	    data, size) == 0);
	emf_held_free(g);
	/* Finished once; the second claim changes nothing. */
	FUZZ_ASSERT(emf_state_finish(st, h->id, EMF_STATE_RESOLVED, "release",
	    h->label, h->subject, 5001, &claimed, &err) == EMF_OK && claimed);
	FUZZ_ASSERT(emf_state_finish(st, h->id, EMF_STATE_EXPIRED, "keep",
	    "", "", 5002, &claimed, &err) == EMF_OK && !claimed);
	FUZZ_ASSERT(emf_state_get(st, h->id, &g, &err) == EMF_OK && g != NULL);
	FUZZ_ASSERT(g->status == EMF_STATE_RESOLVED);
	same(g->outcome, "release");
	same(g->opened_by, h->label);
	FUZZ_ASSERT(g_bytes_get_data(g->message, &b) == NULL || b == 0);
	emf_held_free(g);
	emf_held_free(h);
	g_ptr_array_free(ev, TRUE);
	g_strfreev(lines);
	g_free(text);
}

/* One mail against the state; the rows it resolved go to resolved. */
static void
correlate_checked(struct emf_state *st, const uint8_t *msg, size_t len,
    const char *label, int64_t now, GHashTable *resolved)
{
	static const char *const rcpts[] = { "r@b.example", NULL };
	struct emf_envelope env = { .sender = "s@a.example", .rcpts = rcpts,
	    .nrcpts = 1, .queue_id = label };
	GPtrArray *events = g_ptr_array_new_with_free_func(
	    (GDestroyNotify)emf_state_event_free);
	struct emf_report *r = NULL;
	struct emf_error err;

	FUZZ_ASSERT(emf_scan_message(engine, msg, len, &env, &r) == EMF_OK);
	if (emf_state_correlate(st, engine, &r, msg, len, &env, label,
	    "release_tagged", now, events, &err) != EMF_OK) {
		fprintf(stderr, "correlate: %s\n", err.msg);
		abort();
	}
	for (guint i = 0; i < events->len; i++) {
		const struct emf_state_event *e = g_ptr_array_index(events, i);

		switch (e->kind) {
		case EMF_STATE_EV_HELD:
			FUZZ_ASSERT(e->held != NULL && e->held->id > 0);
			break;
		case EMF_STATE_EV_RESOLVED:
			FUZZ_ASSERT(e->held != NULL && e->rescan != NULL &&
			    e->outcome != NULL);
			FUZZ_ASSERT(!g_hash_table_contains(resolved,
			    GINT_TO_POINTER((gint)e->held->id)));
			g_hash_table_add(resolved,
			    GINT_TO_POINTER((gint)e->held->id));
			{
				char *j = emf_report_json(e->rescan, false);

				FUZZ_ASSERT(j != NULL &&
				    g_utf8_validate(j, -1, NULL));
				emf_free(j);
			}
			break;
		case EMF_STATE_EV_EXPIRED:
			FUZZ_ASSERT(e->held != NULL && e->reason != NULL);
			break;
		case EMF_STATE_EV_REINJECTED:
			FUZZ_ASSERT(e->held == NULL && events->len == 1 + i);
			break;
		default:
			FUZZ_ASSERT(!"event kind");
		}
	}
	g_ptr_array_free(events, TRUE);
	fuzz_report(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = size >= strlen(SEP) ? memmem(data, size, SEP,
	    strlen(SEP)) : NULL;
	const uint8_t *a = data, *b = data;
	size_t alen = size, blen = size;
	struct emf_state *st;
	GHashTable *resolved = g_hash_table_new(NULL, NULL);
	GPtrArray *rows = g_ptr_array_new_with_free_func(
	    (GDestroyNotify)emf_held_free);
	struct emf_error err;
	long waiting = -1;

	if (sep != NULL) {
		alen = (size_t)(sep - data) + 1;
		b = sep + strlen(SEP);
		blen = size - (size_t)(b - data);
	}
	notice_checked(data, size);

	st = store_open();
	record_checked(st, data, size);
	correlate_checked(st, a, alen, "first", 10000, resolved);
	correlate_checked(st, b, blen, "second", 10060, resolved);
	/* Past the window: nothing is left waiting. */
	FUZZ_ASSERT(emf_state_expire(st, 10060 + WINDOW + 1, "keep", rows,
	    &err) == EMF_OK);
	FUZZ_ASSERT(emf_state_count(st, EMF_STATE_WAITING, &waiting, &err) ==
	    EMF_OK && waiting == 0);
	for (guint i = 0; i < rows->len; i++)
		FUZZ_ASSERT(!g_hash_table_contains(resolved, GINT_TO_POINTER(
		    (gint)((struct emf_held *)g_ptr_array_index(rows,
		    i))->id)));
	emf_state_close(st);
	g_ptr_array_free(rows, TRUE);
	g_hash_table_destroy(resolved);
	return 0;
}
