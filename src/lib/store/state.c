/*
 * state.c - the correlation state over either backend (state.h), and the
 * correlation itself: which held mail a later mail may resolve, and the
 * password candidates it offers.
 *
 * All SQL is here, written once for both backends (state_impl.h).
 * The correlation reads the finished scan behind a report (its envelope,
 * header, objects, texts and password candidates), so it is part of the
 * library; the milter and emofilter-scan only drive it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "core/report.h"
#include "core/scan.h"
#include "core/modules.h"
#include "state_impl.h"

/* Rows expired per call, and rows read as candidates. */
#define EXPIRE_BATCH 1000
/* Held mails one message may try to open (each is a rescan): a sender
 * with many held mails cannot make one message cost many scans. */
#define TRIES_PER_MESSAGE 8
/* The notice pass looks at texts up to this size (a notice is short). */
#define NOTICE_TEXT_MAX 65536

const char *
emf_state_status_name(enum emf_state_status s)
{
	switch (s) {
	case EMF_STATE_WAITING: return "waiting";
	case EMF_STATE_RESOLVED: return "resolved";
	case EMF_STATE_EXPIRED: return "expired";
	}
	return "waiting";
}

static enum emf_state_status
status_parse(const char *s)
{
	if (strcmp(s, "resolved") == 0)
		return EMF_STATE_RESOLVED;
	if (strcmp(s, "expired") == 0)
		return EMF_STATE_EXPIRED;
	return EMF_STATE_WAITING;
}

void
emf_held_free(struct emf_held *h)
{
	if (h == NULL)
		return;
	g_free(h->report_id);
	g_free(h->queue_id);
	g_free(h->label);
	g_free(h->env_sender);
	g_free(h->from_addr);
	g_free(h->env_rcpts);
	g_free(h->rcpts);
	g_free(h->message_id);
	g_free(h->subject);
	g_free(h->attachments);
	g_free(h->hashes);
	g_free(h->outcome);
	g_free(h->opened_by);
	g_free(h->history);
	if (h->message != NULL)
		g_bytes_unref(h->message);
	g_free(h);
}

/* ---- open and close --------------------------------------------------- */

void
emf_state_opts_from_cfg(const struct emf_cfg *cfg, struct emf_state_opts *o)
{
	o->backend = emf_cfg_str(cfg, "state.backend");
	o->path = emf_cfg_str(cfg, "state.path");
	o->conninfo = emf_cfg_str(cfg, "state.conninfo");
	o->window = (long)emf_cfg_int(cfg, "state.window");
	o->max_per_sender = (long)emf_cfg_int(cfg, "state.max_per_sender");
	o->max_total = (long)emf_cfg_int(cfg, "state.max_total");
	o->busy_timeout_ms = (long)emf_cfg_int(cfg, "state.busy_timeout_ms");
	o->memory = emf_cfg_bool(cfg, "state.memory.enabled");
	o->memory_max_entries = (long)emf_cfg_int(cfg,
	    "state.memory.max_entries");
	o->memory_max_per_sender = (long)emf_cfg_int(cfg,
	    "state.memory.max_per_sender");
	o->memory_max_age = (long)emf_cfg_int(cfg,
	    "state.memory.max_age_days") * 86400;
}

static bool memory_lookup(void *ctx, const struct emf_memory_query *q,
    struct emf_memory_answer *a);

enum emf_rc
emf_state_open(const struct emf_state_opts *opts, struct emf_state **out,
    struct emf_error *err)
{
	struct emf_state *st = g_new0(struct emf_state, 1);
	enum emf_rc rc;

	*out = NULL;
	st->opts = *opts;
	st->opts.backend = g_strdup(opts->backend ? opts->backend : "sqlite");
	st->opts.path = g_strdup(opts->path ? opts->path : "");
	st->opts.conninfo = g_strdup(opts->conninfo ? opts->conninfo : "");
	if (st->opts.window <= 0)
		st->opts.window = 1800;
	if (st->opts.max_per_sender <= 0)
		st->opts.max_per_sender = 20;
	if (st->opts.max_total <= 0)
		st->opts.max_total = 10000;
	if (st->opts.memory_max_entries <= 0)
		st->opts.memory_max_entries = 200000;
	if (st->opts.memory_max_per_sender <= 0)
		st->opts.memory_max_per_sender = 5000;
	if (st->opts.memory_max_age <= 0)
		st->opts.memory_max_age = 90 * 86400;
	st->memory.lookup = memory_lookup;
	st->memory.ctx = st;
	if (strcmp(st->opts.backend, "sqlite") == 0) {
		st->be = &emf_state_sqlite;
	} else if (strcmp(st->opts.backend, "postgresql") == 0) {
		st->be = &emf_state_pg;
	} else {
		if (err != NULL)
			g_snprintf(err->msg, sizeof(err->msg),
			    "state: unknown backend \"%s\"", st->opts.backend);
		emf_state_close(st);
		return EMF_ERR_CONFIG;
	}
	rc = st->be->open(st, err);
	if (rc != EMF_OK) {
		st->be = NULL;
		emf_state_close(st);
		return rc;
	}
	*out = st;
	return EMF_OK;
}

void
emf_state_close(struct emf_state *st)
{
	if (st == NULL)
		return;
	if (st->be != NULL && st->db != NULL)
		st->be->close(st);
	g_free((char *)st->opts.backend);
	g_free((char *)st->opts.path);
	g_free((char *)st->opts.conninfo);
	g_free(st);
}

const struct emf_state_opts *
emf_state_options(const struct emf_state *st)
{
	return &st->opts;
}

/* ---- rows ---------------------------------------------------------------- */

#define COLS "id, report_id, queue_id, label, env_sender, from_addr, " \
	"env_rcpts, rcpts, message_id, subject, attachments, hashes, " \
	"received, status, outcome, opened_by, history"

struct rows_ctx {
	const struct state_backend *be;
	GPtrArray *out;
	bool with_message;	/* column 17 is the message */
};

static bool
row_to_held(void *p, struct state_row *row)
{
	struct rows_ctx *c = p;
	const struct state_backend *be = c->be;
	struct emf_held *h = g_new0(struct emf_held, 1);

	h->id = g_ascii_strtoll(be->col_text(row, 0), NULL, 10);
	h->report_id = g_strdup(be->col_text(row, 1));
	h->queue_id = g_strdup(be->col_text(row, 2));
	h->label = g_strdup(be->col_text(row, 3));
	h->env_sender = g_strdup(be->col_text(row, 4));
	h->from_addr = g_strdup(be->col_text(row, 5));
	h->env_rcpts = g_strdup(be->col_text(row, 6));
	h->rcpts = g_strdup(be->col_text(row, 7));
	h->message_id = g_strdup(be->col_text(row, 8));
	h->subject = g_strdup(be->col_text(row, 9));
	h->attachments = g_strdup(be->col_text(row, 10));
	h->hashes = g_strdup(be->col_text(row, 11));
	h->received = g_ascii_strtoll(be->col_text(row, 12), NULL, 10);
	h->status = status_parse(be->col_text(row, 13));
	h->outcome = g_strdup(be->col_text(row, 14));
	h->opened_by = g_strdup(be->col_text(row, 15));
	h->history = g_strdup(be->col_text(row, 16));
	h->message = c->with_message ? be->col_bytes(row, 17) :
	    g_bytes_new(NULL, 0);
	g_ptr_array_add(c->out, h);
	return true;
}

struct long_ctx {
	const struct state_backend *be;
	long v[2];
};

static bool
row_longs(void *p, struct state_row *row)
{
	struct long_ctx *c = p;

	c->v[0] = strtol(c->be->col_text(row, 0), NULL, 10);
	c->v[1] = strtol(c->be->col_text(row, 1), NULL, 10);
	return false;
}

static struct state_param
ptext(const char *s)
{
	struct state_param p = { s ? s : "", NULL, 0, false };

	return p;
}

/* The key the per-sender cap counts by: the envelope sender, else From. */
static const char *
sender_key(const char *env_sender, const char *from_addr)
{
	if (env_sender != NULL && *env_sender != '\0')
		return env_sender;
	return from_addr ? from_addr : "";
}

static char *
history_line(int64_t now, const char *detail)
{
	return g_strdup_printf("%lld %s\n", (long long)now, detail);
}

/* ---- operations ------------------------------------------------------- */

static enum emf_rc
counts(struct emf_state *st, const char *key, long *per_sender,
    long *total, struct emf_error *err)
{
	struct long_ctx c = { st->be, { 0, 0 } };
	struct state_param p[] = { ptext(key) };
	enum emf_rc rc;

	rc = st->be->exec(st,
	    "SELECT (SELECT count(*) FROM emf_held WHERE status = 'waiting' "
	    "AND sender_key = ?1), (SELECT count(*) FROM emf_held WHERE "
	    "status = 'waiting')", p, 1, row_longs, &c, NULL, err);
	*per_sender = c.v[0];
	*total = c.v[1];
	return rc;
}

enum emf_rc
emf_state_full(struct emf_state *st, const char *env_sender,
    const char *from_addr, const char **limit, struct emf_error *err)
{
	long per, total;
	enum emf_rc rc;

	*limit = NULL;
	rc = counts(st, sender_key(env_sender, from_addr), &per, &total, err);
	if (rc != EMF_OK)
		return rc;
	if (per >= st->opts.max_per_sender)
		*limit = "state.max_per_sender";
	else if (total >= st->opts.max_total)
		*limit = "state.max_total";
	return EMF_OK;
}

/* Claim one row (inside or outside a transaction). */
static enum emf_rc
finish_row(struct emf_state *st, int64_t id, enum emf_state_status to,
    const char *outcome, const char *opened_by, const char *detail,
    int64_t now, bool *claimed, struct emf_error *err)
{
	char ids[24], nows[24];
	char *line = history_line(now, detail);
	struct state_param p[] = { ptext(ids), ptext(emf_state_status_name(to)),
		ptext(outcome), ptext(opened_by), ptext(nows), ptext(line),
		{ NULL, "", 0, true } };
	long changes = 0;
	enum emf_rc rc;

	g_snprintf(ids, sizeof(ids), "%lld", (long long)id);
	g_snprintf(nows, sizeof(nows), "%lld", (long long)now);
	rc = st->be->exec(st,
	    "UPDATE emf_held SET status = ?2, outcome = ?3, opened_by = ?4, "
	    "finished = ?5, history = history || ?6, message = ?7 "
	    "WHERE id = ?1 AND status = 'waiting'", p, 7, NULL, NULL,
	    &changes, err);
	g_free(line);
	*claimed = rc == EMF_OK && changes == 1;
	return rc;
}

enum emf_rc
emf_state_finish(struct emf_state *st, int64_t id, enum emf_state_status to,
    const char *outcome, const char *opened_by, const char *detail,
    int64_t now, bool *claimed, struct emf_error *err)
{
	return finish_row(st, id, to, outcome, opened_by, detail, now, claimed,
	    err);
}

enum emf_rc
emf_state_note(struct emf_state *st, int64_t id, const char *detail,
    int64_t now, struct emf_error *err)
{
	char ids[24];
	char *line = history_line(now, detail);
	struct state_param p[] = { ptext(ids), ptext(line) };
	enum emf_rc rc;

	g_snprintf(ids, sizeof(ids), "%lld", (long long)id);
	rc = st->be->exec(st, "UPDATE emf_held SET history = history || ?2 "
	    "WHERE id = ?1", p, 2, NULL, NULL, NULL, err);
	g_free(line);
	return rc;
}

/* Expire the oldest waiting rows (where: "" or " AND sender_key = ?2"). */
static enum emf_rc
evict(struct emf_state *st, const char *key, long n, int64_t now,
    const char *why, GPtrArray *evicted, struct emf_error *err)
{
	char ns[24];
	struct state_param p[] = { ptext(ns), ptext(key) };
	GPtrArray *rows = g_ptr_array_new();
	struct rows_ctx c = { st->be, rows, true };
	enum emf_rc rc;

	g_snprintf(ns, sizeof(ns), "%ld", n);
	rc = st->be->exec(st, key != NULL ?
	    "SELECT " COLS ", message FROM emf_held WHERE status = 'waiting' "
	    "AND sender_key = ?2 ORDER BY received, id LIMIT ?1" :
	    "SELECT " COLS ", message FROM emf_held WHERE status = 'waiting' "
	    "ORDER BY received, id LIMIT ?1", p, key != NULL ? 2 : 1,
	    row_to_held, &c, NULL, err);
	for (guint i = 0; rc == EMF_OK && i < rows->len; i++) {
		struct emf_held *h = g_ptr_array_index(rows, i);
		bool claimed;

		rc = finish_row(st, h->id, EMF_STATE_EXPIRED, "evicted", "",
		    why, now, &claimed, err);
		if (rc == EMF_OK && claimed) {
			h->status = EMF_STATE_EXPIRED;
			g_free(h->outcome);
			h->outcome = g_strdup("evicted");
			g_ptr_array_add(evicted, h);
			g_ptr_array_index(rows, i) = NULL;
		}
	}
	for (guint i = 0; i < rows->len; i++)
		emf_held_free(g_ptr_array_index(rows, i));
	g_ptr_array_free(rows, TRUE);
	return rc;
}

struct id_ctx {
	const struct state_backend *be;
	int64_t id;
};

static bool
row_id(void *p, struct state_row *row)
{
	struct id_ctx *c = p;

	c->id = g_ascii_strtoll(c->be->col_text(row, 0), NULL, 10);
	return false;
}

enum emf_rc
emf_state_hold(struct emf_state *st, struct emf_held *h, int64_t now,
    GPtrArray *evicted, struct emf_error *err)
{
	const char *key = sender_key(h->env_sender, h->from_addr);
	char recv[24];
	char *line;
	long per, total;
	struct id_ctx ic = { st->be, 0 };
	enum emf_rc rc;

	rc = st->be->begin(st, err);
	if (rc != EMF_OK)
		return rc;
	rc = counts(st, key, &per, &total, err);
	if (rc == EMF_OK && per >= st->opts.max_per_sender)
		rc = evict(st, key, per - st->opts.max_per_sender + 1, now,
		    "expired early: state.max_per_sender reached", evicted,
		    err);
	if (rc == EMF_OK)
		rc = counts(st, key, &per, &total, err);
	if (rc == EMF_OK && total >= st->opts.max_total)
		rc = evict(st, NULL, total - st->opts.max_total + 1, now,
		    "expired early: state.max_total reached", evicted, err);
	if (rc != EMF_OK) {
		st->be->rollback(st);
		return rc;
	}
	g_snprintf(recv, sizeof(recv), "%lld", (long long)h->received);
	line = history_line(now, "held: waiting for password");
	{
		gsize mlen = 0;
		const void *m = h->message ? g_bytes_get_data(h->message,
		    &mlen) : NULL;
		struct state_param p[] = { ptext(h->report_id),
			ptext(h->queue_id), ptext(h->label), ptext(key),
			ptext(h->env_sender), ptext(h->from_addr),
			ptext(h->env_rcpts), ptext(h->rcpts),
			ptext(h->message_id), ptext(h->subject),
			ptext(h->attachments), ptext(h->hashes), ptext(recv),
			ptext(line), { NULL, m ? m : "", mlen, true } };

		rc = st->be->exec(st,
		    "INSERT INTO emf_held (report_id, queue_id, label, "
		    "sender_key, env_sender, from_addr, env_rcpts, rcpts, "
		    "message_id, subject, attachments, hashes, received, "
		    "status, history, message) VALUES (?1, ?2, ?3, ?4, ?5, "
		    "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 'waiting', ?14, ?15) "
		    "RETURNING id", p, 15, row_id, &ic, NULL, err);
	}
	g_free(line);
	if (rc == EMF_OK)
		rc = st->be->commit(st, err);
	if (rc != EMF_OK) {
		st->be->rollback(st);
		return rc;
	}
	h->id = ic.id;
	h->status = EMF_STATE_WAITING;
	return EMF_OK;
}

enum emf_rc
emf_state_waiting_from(struct emf_state *st, const char *const *senders,
    int64_t since, unsigned max, GPtrArray *out, struct emf_error *err)
{
	char sinces[24], maxs[24];
	struct rows_ctx c = { st->be, out, true };
	enum emf_rc rc = EMF_OK;
	GHashTable *seen = g_hash_table_new(g_int64_hash, g_int64_equal);

	g_snprintf(sinces, sizeof(sinces), "%lld", (long long)since);
	g_snprintf(maxs, sizeof(maxs), "%u", max);
	for (size_t i = 0; senders != NULL && senders[i] != NULL &&
	    rc == EMF_OK; i++) {
		struct state_param p[] = { ptext(senders[i]), ptext(sinces),
			ptext(maxs) };
		guint before = out->len;

		if (*senders[i] == '\0')
			continue;
		rc = st->be->exec(st,
		    "SELECT " COLS ", message FROM emf_held WHERE "
		    "status = 'waiting' AND received >= ?2 AND "
		    "(env_sender = ?1 OR from_addr = ?1) "
		    "ORDER BY received, id LIMIT ?3", p, 3, row_to_held, &c,
		    NULL, err);
		/* The same row through both senders: keep it once. */
		for (guint k = before; k < out->len; ) {
			struct emf_held *h = g_ptr_array_index(out, k);

			if (g_hash_table_contains(seen, &h->id)) {
				emf_held_free(g_ptr_array_steal_index(out, k));
				continue;
			}
			g_hash_table_add(seen, &h->id);
			k++;
		}
	}
	g_hash_table_destroy(seen);
	return rc;
}

enum emf_rc
emf_state_expire(struct emf_state *st, int64_t now, const char *action,
    GPtrArray *out, struct emf_error *err)
{
	char before[24], old[24], n[24];
	GPtrArray *rows;
	struct rows_ctx c;
	struct state_param p[] = { ptext(before), ptext(n) };
	struct state_param q[] = { ptext(old) };
	char *detail;
	enum emf_rc rc;

	/* Once a second is enough: a held mail expires at most a second
	 * late, and a busy gateway does not run these per message. */
	if (now == st->last_expire)
		return EMF_OK;
	st->last_expire = now;
	rows = g_ptr_array_new();
	c = (struct rows_ctx){ st->be, rows, true };
	g_snprintf(before, sizeof(before), "%lld",
	    (long long)(now - st->opts.window));
	g_snprintf(old, sizeof(old), "%lld",
	    (long long)(now - STATE_KEEP_FINISHED));
	g_snprintf(n, sizeof(n), "%d", EXPIRE_BATCH);
	rc = st->be->exec(st, "SELECT " COLS ", message FROM emf_held WHERE "
	    "status = 'waiting' AND received < ?1 ORDER BY received, id "
	    "LIMIT ?2", p, 2, row_to_held, &c, NULL, err);
	detail = g_strdup_printf("expired: no password within %ld s: %s",
	    st->opts.window, action);
	for (guint i = 0; rc == EMF_OK && i < rows->len; i++) {
		struct emf_held *h = g_ptr_array_index(rows, i);
		bool claimed;

		rc = finish_row(st, h->id, EMF_STATE_EXPIRED, action, "",
		    detail, now, &claimed, err);
		if (rc == EMF_OK && claimed) {
			h->status = EMF_STATE_EXPIRED;
			g_free(h->outcome);
			h->outcome = g_strdup(action);
			g_ptr_array_add(out, h);
			g_ptr_array_index(rows, i) = NULL;
		}
	}
	g_free(detail);
	for (guint i = 0; i < rows->len; i++)
		emf_held_free(g_ptr_array_index(rows, i));
	g_ptr_array_free(rows, TRUE);
	if (rc == EMF_OK)
		rc = st->be->exec(st, "DELETE FROM emf_held WHERE status IN "
		    "('resolved', 'expired') AND finished < ?1", q, 1, NULL,
		    NULL, NULL, err);
	return rc;
}

enum emf_rc
emf_state_get(struct emf_state *st, int64_t id, struct emf_held **out,
    struct emf_error *err)
{
	char ids[24];
	struct state_param p[] = { ptext(ids) };
	GPtrArray *rows = g_ptr_array_new();
	struct rows_ctx c = { st->be, rows, true };
	enum emf_rc rc;

	g_snprintf(ids, sizeof(ids), "%lld", (long long)id);
	rc = st->be->exec(st, "SELECT " COLS ", message FROM emf_held WHERE "
	    "id = ?1", p, 1, row_to_held, &c, NULL, err);
	*out = rows->len > 0 ? g_ptr_array_index(rows, 0) : NULL;
	for (guint i = 1; i < rows->len; i++)
		emf_held_free(g_ptr_array_index(rows, i));
	g_ptr_array_free(rows, TRUE);
	return rc;
}

enum emf_rc
emf_state_count(struct emf_state *st, int status, long *n,
    struct emf_error *err)
{
	struct long_ctx c = { st->be, { 0, 0 } };
	struct state_param p[] = { ptext(status >= 0 ?
	    emf_state_status_name((enum emf_state_status)status) : "") };
	enum emf_rc rc;

	rc = st->be->exec(st, "SELECT count(*), 0 FROM emf_held WHERE "
	    "?1 = '' OR status = ?1", p, 1, row_longs, &c, NULL, err);
	*n = c.v[0];
	return rc;
}

enum emf_rc
emf_state_token_set(struct emf_state *st, int64_t id, const char *token,
    struct emf_error *err)
{
	char ids[24];
	struct state_param p[] = { ptext(ids), ptext(token) };

	g_snprintf(ids, sizeof(ids), "%lld", (long long)id);
	return st->be->exec(st, "UPDATE emf_held SET release_token = ?2 "
	    "WHERE id = ?1", p, 2, NULL, NULL, NULL, err);
}

enum emf_rc
emf_state_token_consume(struct emf_state *st, const char *token,
    bool *found, struct emf_error *err)
{
	struct state_param p[] = { ptext(token) };
	long changes = 0;
	enum emf_rc rc;

	*found = false;
	if (token == NULL || strlen(token) < 16)
		return EMF_OK;
	rc = st->be->exec(st, "UPDATE emf_held SET release_token = '' WHERE "
	    "release_token = ?1", p, 1, NULL, NULL, &changes, err);
	*found = rc == EMF_OK && changes > 0;
	return rc;
}

/* The value of header name in the header block of msg (a copy), or NULL.
 * Only the first 64 KiB are looked at; folded values are not joined. */
static char *
header_value(const char *msg, size_t len, const char *name)
{
	size_t n = strlen(name), lim = len < 65536 ? len : 65536;
	const char *p = msg, *end = msg + lim;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;

		if (*p == '\r' || *p == '\n')
			break;		/* the end of the header */
		if ((size_t)(next - p) > n + 1 &&
		    g_ascii_strncasecmp(p, name, n) == 0 && p[n] == ':') {
			char *v = g_strndup(p + n + 1,
			    (gsize)((nl ? nl : end) - (p + n + 1)));

			return g_strstrip(v);
		}
		p = next;
	}
	return NULL;
}

/* ---- correlation ------------------------------------------------------- */

/* The address inside "Name <a@b>", or a bare "a@b"; lower case. */
static char *
addr_of(const char *s)
{
	const char *lt, *gt;
	char *a;

	if (s == NULL)
		return NULL;
	lt = strrchr(s, '<');
	gt = lt ? strchr(lt, '>') : NULL;
	a = lt && gt ? g_strndup(lt + 1, (gsize)(gt - lt - 1)) : g_strdup(s);
	g_strstrip(a);
	if (strchr(a, '@') == NULL || strchr(a, ' ') != NULL) {
		g_free(a);
		return NULL;
	}
	{
		char *l = g_ascii_strdown(a, -1);

		g_free(a);
		return l;
	}
}

/* Addresses of a header list ("A <a@x>, b@y"); a comma inside a display
 * name only makes a piece without an address, which is skipped. */
static void
addrs_of_list(const char *list, GPtrArray *out)
{
	char **parts;

	if (list == NULL)
		return;
	parts = g_strsplit(list, ",", 256);
	for (size_t i = 0; parts[i] != NULL; i++) {
		char *a = addr_of(parts[i]);

		if (a != NULL)
			g_ptr_array_add(out, a);
	}
	g_strfreev(parts);
}

static char *
join_lines(GPtrArray *a)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < a->len; i++) {
		const char *v = g_ptr_array_index(a, i);

		if (v == NULL || *v == '\0')
			continue;
		if (s->len > 0)
			g_string_append_c(s, '\n');
		/* A value never breaks the list. */
		for (const char *p = v; *p; p++)
			g_string_append_c(s, *p == '\n' || *p == '\r' ? ' ' :
			    *p);
	}
	return g_string_free(s, FALSE);
}

/* Recipients to match: the envelope's, else To. Lower case. */
static GPtrArray *
rcpts_of(const struct emf_scan *scan)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < scan->env.rcpts->len; i++) {
		char *r = addr_of(g_ptr_array_index(scan->env.rcpts, i));

		if (r != NULL)
			g_ptr_array_add(a, r);
	}
	if (a->len == 0)
		addrs_of_list(scan->msg.to, a);
	return a;
}

static char *
env_sender_of(const struct emf_scan *scan)
{
	char *a = addr_of(scan->env.sender);

	if (a == NULL && scan->msg.return_path != NULL)
		a = addr_of(scan->msg.return_path);
	return a ? a : g_strdup("");
}

static char *
from_of(const struct emf_scan *scan)
{
	char *a = addr_of(scan->msg.from_addr);

	return a ? a : g_strdup("");
}

/* Encrypted members left closed, their archives' hashes and names. */
static void
walk_encrypted(const struct emf_object *o, GPtrArray *hashes)
{
	if (o->encrypted && o->password == NULL && o->parent != NULL)
		emf_strlist_add(&hashes, o->parent->sha256);
	for (guint i = 0; o->children != NULL && i < o->children->len; i++)
		walk_encrypted(g_ptr_array_index(o->children, i), hashes);
}

struct emf_held *
emf_held_from_report(const struct emf_report *r, const void *msg,
    size_t len, const char *label, int64_t now)
{
	const struct emf_scan *scan = emf_report_scan(r);
	struct emf_held *h;
	GPtrArray *a;

	/* Judged already (quarantine, reject): nothing to wait for. */
	if (!emf_report_has_symbol(r, "ARCHIVE_PASSWORD_UNKNOWN") ||
	    emf_report_action(r) >= EMF_ACTION_QUARANTINE)
		return NULL;
	h = g_new0(struct emf_held, 1);
	h->report_id = g_strdup(emf_report_id(r));
	h->queue_id = g_strdup(scan->env.queue_id ? scan->env.queue_id : "");
	h->label = g_strdup(label ? label : h->queue_id);
	h->env_sender = env_sender_of(scan);
	h->from_addr = from_of(scan);
	h->env_rcpts = join_lines(scan->env.rcpts);
	a = rcpts_of(scan);
	h->rcpts = join_lines(a);
	g_ptr_array_free(a, TRUE);
	h->message_id = g_strdup(scan->msg.message_id ? scan->msg.message_id :
	    "");
	h->subject = g_strdup(scan->msg.subject ? scan->msg.subject : "");
	a = g_ptr_array_new();
	for (guint i = 0; i < scan->roots->len; i++) {
		const struct emf_object *o = g_ptr_array_index(scan->roots, i);

		if (o->name != NULL)
			g_ptr_array_add(a, o->name);
	}
	h->attachments = join_lines(a);
	g_ptr_array_free(a, TRUE);
	a = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < scan->roots->len; i++)
		walk_encrypted(g_ptr_array_index(scan->roots, i), a);
	h->hashes = join_lines(a);
	g_ptr_array_free(a, TRUE);
	h->received = now;
	h->status = EMF_STATE_WAITING;
	h->outcome = g_strdup("");
	h->opened_by = g_strdup("");
	h->history = g_strdup("");
	h->message = g_bytes_new(msg, len);
	return h;
}

char **
emf_state_senders(const struct emf_report *r)
{
	const struct emf_scan *scan = emf_report_scan(r);
	char **s = g_new0(char *, 3);

	s[0] = env_sender_of(scan);
	s[1] = from_of(scan);
	return s;
}

/* Whether the '\n'-joined list has v (exact). */
static bool
list_has(const char *list, const char *v)
{
	size_t n = strlen(v);
	const char *p = list;

	if (n == 0)
		return false;
	while ((p = strstr(p, v)) != NULL) {
		if ((p == list || p[-1] == '\n') &&
		    (p[n] == '\0' || p[n] == '\n'))
			return true;
		p += n;
	}
	return false;
}

bool
emf_state_may_resolve(const struct emf_held *h, const struct emf_report *r)
{
	const struct emf_scan *scan = emf_report_scan(r);
	char *env = env_sender_of(scan), *from = from_of(scan);
	bool sender, rcpt = false;
	GPtrArray *rc;

	/* The same sender: envelope or From, either way round; the null
	 * sender is nobody. */
	sender = (*env != '\0' && (strcmp(env, h->env_sender) == 0 ||
	    strcmp(env, h->from_addr) == 0)) ||
	    (*from != '\0' && (strcmp(from, h->from_addr) == 0 ||
	    strcmp(from, h->env_sender) == 0));
	g_free(env);
	g_free(from);
	if (!sender || strcmp(h->report_id, emf_report_id(r)) == 0)
		return false;
	rc = rcpts_of(scan);
	for (guint i = 0; i < rc->len && !rcpt; i++)
		rcpt = list_has(h->rcpts, g_ptr_array_index(rc, i));
	g_ptr_array_free(rc, TRUE);
	return rcpt;
}

/* Whether NFKC text t holds needle (also NFKC'd), at least 4 bytes. */
static bool
text_has(const char *t, size_t tlen, const char *needle)
{
	char *n;
	bool hit;

	if (needle == NULL || strlen(needle) < 4)
		return false;
	n = g_utf8_normalize(needle, -1, G_NORMALIZE_NFKC);
	hit = n != NULL && strlen(n) >= 4 && g_strstr_len(t, (gssize)tlen, n);
	g_free(n);
	return hit;
}

unsigned
emf_state_mentions(const struct emf_held *h, const struct emf_report *r)
{
	const struct emf_scan *scan = emf_report_scan(r);
	unsigned m = 0;
	char **names = g_strsplit(h->attachments, "\n", 64);

	if (*h->message_id != '\0' &&
	    ((scan->msg.in_reply_to && strstr(scan->msg.in_reply_to,
	    h->message_id)) || (scan->msg.references &&
	    strstr(scan->msg.references, h->message_id))))
		m |= EMF_MENTION_MESSAGE_ID;
	for (guint i = 0; i < scan->texts->len; i++) {
		struct emf_text *t = g_ptr_array_index(scan->texts, i);
		const char *s;
		size_t n;

		if (t->kind != EMF_TEXT_SUBJECT && t->kind != EMF_TEXT_BODY &&
		    t->kind != EMF_TEXT_HTML)
			continue;
		s = emf_text_nfkc(t, &n);
		if (text_has(s, n, h->subject))
			m |= EMF_MENTION_SUBJECT;
		if (text_has(s, n, h->message_id))
			m |= EMF_MENTION_MESSAGE_ID;
		for (size_t k = 0; names[k] != NULL; k++)
			if (text_has(s, n, names[k]))
				m |= EMF_MENTION_ATTACHMENT;
	}
	g_strfreev(names);
	return m;
}

static void
cand_add(GPtrArray *out, const char *v, size_t max)
{
	if (v == NULL || *v == '\0' || out->len >= max)
		return;
	for (guint i = 0; i < out->len; i++)
		if (strcmp(g_ptr_array_index(out, i), v) == 0)
			return;
	g_ptr_array_add(out, g_strdup(v));
}

char **
emf_state_candidates(const struct emf_held *h, const struct emf_report *r)
{
	const struct emf_scan *scan = emf_report_scan(r);
	const struct emf_pwrules *rules =
	    scan->engine->mod[EMF_MOD_PASSWORDS];
	const struct emf_limits *l = scan->limits;
	size_t max = l->password_candidates;
	GPtrArray *out = g_ptr_array_new();
	char **names = g_strsplit(h->attachments, "\n", 64);

	/* The names as the neighbour pass wants them: NFKC. */
	for (size_t k = 0; names[k] != NULL; k++) {
		char *n = g_utf8_normalize(names[k], -1, G_NORMALIZE_NFKC);

		if (n != NULL) {
			g_free(names[k]);
			names[k] = n;
		}
	}
	/* 1. what its own scan harvested (labelled first) */
	for (guint i = 0; i < scan->passwords->len; i++) {
		const struct emf_password *pw =
		    g_ptr_array_index(scan->passwords, i);

		cand_add(out, pw->value, max);
	}
	/* 2. the notice forms, 3. next to the held mail's attachment names */
	for (guint i = 0; i < scan->texts->len && out->len < max; i++) {
		struct emf_text *t = g_ptr_array_index(scan->texts, i);
		GPtrArray *c = g_ptr_array_new_with_free_func(emf_pwcand_free);
		const char *s;
		size_t n;

		if (t->kind != EMF_TEXT_SUBJECT && t->kind != EMF_TEXT_BODY &&
		    t->kind != EMF_TEXT_HTML) {
			g_ptr_array_free(c, TRUE);
			continue;
		}
		s = emf_text_nfkc(t, &n);
		if (n <= NOTICE_TEXT_MAX)
			emf_passwords_notice(s, n, l->password_length, max, c);
		if (rules != NULL && names[0] != NULL)
			emf_passwords_extract_nfkc(rules, s, n,
			    (const char *const *)names, false,
			    l->password_length, max, c);
		for (guint k = 0; k < c->len; k++)
			cand_add(out, ((struct emf_pwcand *)
			    g_ptr_array_index(c, k))->value, max);
		g_ptr_array_free(c, TRUE);
	}
	g_strfreev(names);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

/* ---- the driver: one message against the state ------------------------ */

void
emf_state_event_free(struct emf_state_event *e)
{
	if (e == NULL)
		return;
	emf_held_free(e->held);
	emf_report_free(e->rescan);
	g_free(e);
}

static struct emf_state_event *
event_new(enum emf_state_event_kind kind, struct emf_held *h,
    const char *outcome, const char *reason)
{
	struct emf_state_event *e = g_new0(struct emf_state_event, 1);

	e->kind = kind;
	e->held = h;
	e->outcome = outcome;
	e->reason = reason;
	return e;
}

/* Mentioned mail first, then oldest first (the order it came in). */
struct waiting {
	struct emf_held *h;
	unsigned mentions;
};

static gint
by_mention(gconstpointer a, gconstpointer b)
{
	const struct waiting *x = a, *y = b;

	if ((x->mentions != 0) != (y->mentions != 0))
		return x->mentions != 0 ? -1 : 1;
	return x->h->received < y->h->received ? -1 :
	    x->h->received > y->h->received;
}

/* Rescan held mail h with the candidates of the mail behind r. */
static enum emf_rc
try_held(struct emf_state *st, struct emf_engine *engine,
    struct emf_held *h, const struct emf_report *r, const char *label,
    unsigned mentions, int64_t now, GPtrArray *events,
    struct emf_error *err)
{
	char **cands = emf_state_candidates(h, r);
	char **rcpts = g_strsplit(h->env_rcpts, "\n", 0);
	struct emf_envelope env = { 0 };
	struct emf_scan_opts so = { 0 };
	struct emf_report *re = NULL;
	char *src = NULL, *detail;
	gsize mlen;
	const void *m = g_bytes_get_data(h->message, &mlen);
	enum emf_rc rc = EMF_OK;

	if (cands[0] == NULL || mlen == 0)
		goto out;
	env.sender = *h->env_sender ? h->env_sender : NULL;
	env.queue_id = *h->queue_id ? h->queue_id : NULL;
	env.rcpts = (const char *const *)rcpts;
	env.nrcpts = *h->env_rcpts ? g_strv_length(rcpts) : 0;
	src = g_strdup_printf("password mail %s", label);
	so.passwords = (const char *const *)cands;
	so.password_source = src;
	so.memory = emf_state_memory(st);
	rc = emf_scan_message_opts(engine, m, mlen, &env, &so, &re);
	if (rc != EMF_OK) {
		g_snprintf(err->msg, sizeof(err->msg), "state: rescan of %s: %s",
		    h->label, emf_rc_str(rc));
		goto out;
	}
	if (!emf_report_has_symbol(re, "ARCHIVE_PASSWORD_UNKNOWN")) {
		enum emf_action a = emf_report_action(re);
		const char *outcome = a >= EMF_ACTION_QUARANTINE ? "keep" :
		    "release";
		bool claimed = false;

		detail = g_strdup_printf("resolved by %s: %s (rescan %s, "
		    "score %.2f, %s)", label, outcome, emf_report_id(re),
		    emf_report_score(re), emf_action_name(a));
		rc = emf_state_finish(st, h->id, EMF_STATE_RESOLVED, outcome,
		    label, detail, now, &claimed, err);
		g_free(detail);
		if (rc == EMF_OK && claimed) {
			struct emf_state_event *e = event_new(
			    EMF_STATE_EV_RESOLVED, h, outcome, NULL);

			h->status = EMF_STATE_RESOLVED;
			g_free(h->outcome);
			h->outcome = g_strdup(outcome);
			g_free(h->opened_by);
			h->opened_by = g_strdup(label);
			e->rescan = re;
			e->mentions = mentions;
			re = NULL;
			g_ptr_array_add(events, e);
			h = NULL;	/* the event owns it */
		}
	} else {
		detail = g_strdup_printf("%s offered %u candidates: still "
		    "closed", label, g_strv_length(cands));
		rc = emf_state_note(st, h->id, detail, now, err);
		g_free(detail);
	}
out:
	emf_report_free(re);
	g_free(src);
	g_strfreev(cands);
	g_strfreev(rcpts);
	return h == NULL ? EMF_OK : rc;
}

enum emf_rc
emf_state_correlate(struct emf_state *st, struct emf_engine *engine,
    struct emf_report **r, const void *msg, size_t len,
    const struct emf_envelope *env, const char *label,
    const char *expiry_action, int64_t now, GPtrArray *events,
    struct emf_error *err)
{
	GPtrArray *rows = g_ptr_array_new_with_free_func(
	    (GDestroyNotify)emf_held_free);
	GArray *w = g_array_new(FALSE, FALSE, sizeof(struct waiting));
	char **senders = emf_state_senders(*r);
	struct emf_held *h;
	enum emf_rc rc;

	/* 1. what waited too long */
	rc = emf_state_expire(st, now, expiry_action, rows, err);
	while (rows->len > 0)
		g_ptr_array_add(events, event_new(EMF_STATE_EV_EXPIRED,
		    g_ptr_array_steal_index(rows, 0), "expired", "window"));
	/* 2. a full store: the report of a mail to hold says so */
	if (rc == EMF_OK &&
	    emf_report_has_symbol(*r, "ARCHIVE_PASSWORD_UNKNOWN")) {
		const char *limit = NULL;

		rc = emf_state_full(st, senders[0], senders[1], &limit, err);
		if (rc == EMF_OK && limit != NULL) {
			struct emf_scan_opts so = { 0 };
			struct emf_report *again;

			so.state_full = limit;
			so.memory = emf_state_memory(st);
			if (emf_scan_message_opts(engine, msg, len, env, &so,
			    &again) == EMF_OK) {
				emf_report_free(*r);
				*r = again;
			}
		}
	}
	/* 3. what this mail may resolve */
	if (rc == EMF_OK)
		rc = emf_state_waiting_from(st, (const char *const *)senders,
		    now - st->opts.window, 64, rows, err);
	g_strfreev(senders);
	for (guint i = 0; rc == EMF_OK && i < rows->len; i++) {
		struct waiting x = { g_ptr_array_index(rows, i), 0 };

		if (!emf_state_may_resolve(x.h, *r))
			continue;
		x.mentions = emf_state_mentions(x.h, *r);
		g_array_append_val(w, x);
	}
	g_array_sort(w, by_mention);
	for (guint i = 0; rc == EMF_OK && i < w->len && i < TRIES_PER_MESSAGE;
	    i++) {
		struct waiting *x = &g_array_index(w, struct waiting, i);
		guint before = events->len, k;

		rc = try_held(st, engine, x->h, *r, label, x->mentions, now,
		    events, err);
		if (events->len > before &&	/* the event took the row */
		    g_ptr_array_find(rows, x->h, &k))
			g_ptr_array_steal_index(rows, k);
	}
	g_array_free(w, TRUE);
	g_ptr_array_free(rows, TRUE);
	/* 4. hold this one, unless we released it ourselves */
	if (rc == EMF_OK) {
		char *token = header_value(msg, len, EMF_STATE_TOKEN_HEADER);
		bool ours = false;

		if (token != NULL)
			rc = emf_state_token_consume(st, token, &ours, err);
		g_free(token);
		if (ours) {
			g_ptr_array_add(events, event_new(
			    EMF_STATE_EV_REINJECTED, NULL, NULL, NULL));
			return rc;
		}
	}
	if (rc == EMF_OK && (h = emf_held_from_report(*r, msg, len, label,
	    now)) != NULL) {
		GPtrArray *evicted = g_ptr_array_new();

		rc = emf_state_hold(st, h, now, evicted, err);
		/* On failure the transaction, evictions included, is undone. */
		for (guint i = 0; i < evicted->len; i++)
			if (rc == EMF_OK)
				g_ptr_array_add(events, event_new(
				    EMF_STATE_EV_EXPIRED,
				    g_ptr_array_index(evicted, i), "expired",
				    "evicted"));
			else
				emf_held_free(g_ptr_array_index(evicted, i));
		g_ptr_array_free(evicted, TRUE);
		if (rc == EMF_OK)
			g_ptr_array_add(events, event_new(EMF_STATE_EV_HELD, h,
			    NULL, NULL));
		else
			emf_held_free(h);
	}
	return rc;
}

/* ---- the correspondence memory ----------------------------------------- */

bool
emf_state_outbound(const struct emf_cfg *cfg, const struct emf_envelope *env)
{
	const char *const *nets;
	GInetAddress *ip;
	bool out = false;

	if (env == NULL)
		return false;
	if (env->auth_user != NULL && *env->auth_user != '\0' &&
	    emf_cfg_bool(cfg, "state.memory.outbound_authenticated"))
		return true;
	if (env->client_ip == NULL ||
	    (ip = g_inet_address_new_from_string(env->client_ip)) == NULL)
		return false;
	nets = emf_cfg_strlist(cfg, "state.memory.outbound_networks");
	for (size_t i = 0; !out && nets[i] != NULL; i++) {
		GInetAddressMask *m = g_inet_address_mask_new_from_string(
		    nets[i], NULL);

		if (m != NULL) {
			out = g_inet_address_get_family(ip) ==
			    g_inet_address_mask_get_family(m) &&
			    g_inet_address_mask_matches(m, ip);
			g_object_unref(m);
		}
	}
	g_object_unref(ip);
	return out;
}

char *
emf_state_subject_key(const char *subject)
{
	static const char *const prefixes[] = { "re", "fw", "fwd", "aw", "wg",
		"sv", "vs", "tr", "rv", "antw", "返信", "転送", "答复", "回复",
		"転送", NULL };
	char *n, *f, *p;
	GString *out;
	bool again = true;

	if (subject == NULL)
		return g_strdup("");
	n = g_utf8_make_valid(subject, -1);
	f = g_utf8_normalize(n, -1, G_NORMALIZE_NFKC);
	g_free(n);
	n = g_utf8_casefold(f ? f : "", -1);
	g_free(f);
	p = n;
	/* "Re: Re[2]: Fwd:" off the front, and "[tag]" list prefixes. */
	while (again) {
		again = false;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '[') {
			char *e = strchr(p, ']');

			if (e != NULL && e - p < 40) {
				p = e + 1;
				again = true;
				continue;
			}
		}
		for (size_t i = 0; prefixes[i] != NULL; i++) {
			size_t l = strlen(prefixes[i]);
			char *q = p + l;

			if (strncmp(p, prefixes[i], l) != 0)
				continue;
			if (*q == '[') {	/* Re[2]: */
				while (g_ascii_isdigit(*++q))
					;
				if (*q != ']')
					continue;
				q++;
			}
			while (*q == ' ')
				q++;
			if (*q == ':') {
				p = q + 1;
				again = true;
				break;
			}
		}
	}
	out = g_string_new(NULL);
	for (; *p != '\0' && out->len < 512; p++) {
		bool sp = *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n';

		if (sp && (out->len == 0 || out->str[out->len - 1] == ' '))
			continue;
		g_string_append_c(out, sp ? ' ' : *p);
	}
	if (out->len > 0 && out->str[out->len - 1] == ' ')
		g_string_truncate(out, out->len - 1);
	g_free(n);
	/* Cut at 512 bytes may split a character: keep it valid. */
	n = g_utf8_make_valid(out->str, (gssize)out->len);
	g_string_free(out, TRUE);
	return n;
}

static bool
row_one_long(void *p, struct state_row *row)
{
	struct long_ctx *c = p;

	c->v[0] = strtol(c->be->col_text(row, 0), NULL, 10);
	return false;
}

static enum emf_rc
memory_count_where(struct emf_state *st, const char *sender, long *n,
    struct emf_error *err)
{
	struct long_ctx c = { st->be, { 0, 0 } };
	struct state_param p[] = { ptext(sender) };
	enum emf_rc rc;

	rc = st->be->exec(st, sender != NULL ?
	    "SELECT count(*) FROM emf_sent WHERE sender = ?1" :
	    "SELECT count(*) FROM emf_sent", p, sender != NULL ? 1 : 0,
	    row_one_long, &c, NULL, err);
	*n = c.v[0];
	return rc;
}

enum emf_rc
emf_state_memory_count(struct emf_state *st, const char *sender, long *n,
    struct emf_error *err)
{
	return memory_count_where(st, sender, n, err);
}

/* Delete the n oldest rows (of sender, or of all). */
static enum emf_rc
memory_drop_oldest(struct emf_state *st, const char *sender, long n,
    long *removed, struct emf_error *err)
{
	char ns[24];
	struct state_param p[] = { ptext(ns), ptext(sender) };
	long changes = 0;
	enum emf_rc rc;

	g_snprintf(ns, sizeof(ns), "%ld", n);
	rc = st->be->exec(st, sender != NULL ?
	    "DELETE FROM emf_sent WHERE id IN (SELECT id FROM emf_sent "
	    "WHERE sender = ?2 ORDER BY sent, id LIMIT ?1)" :
	    "DELETE FROM emf_sent WHERE id IN (SELECT id FROM emf_sent "
	    "ORDER BY sent, id LIMIT ?1)", p, sender != NULL ? 2 : 1, NULL,
	    NULL, &changes, err);
	if (removed != NULL)
		*removed += changes;
	return rc;
}

/* Age and total cap, inside the caller's transaction. */
static enum emf_rc
memory_house(struct emf_state *st, int64_t now, long *removed,
    struct emf_error *err)
{
	char old[24];
	struct state_param p[] = { ptext(old) };
	long changes = 0, total = 0;
	enum emf_rc rc;

	st->last_memory_house = now;
	g_snprintf(old, sizeof(old), "%lld",
	    (long long)(now - st->opts.memory_max_age));
	rc = st->be->exec(st, "DELETE FROM emf_sent WHERE sent < ?1", p, 1,
	    NULL, NULL, &changes, err);
	if (removed != NULL)
		*removed += changes;
	if (rc == EMF_OK)
		rc = memory_count_where(st, NULL, &total, err);
	if (rc == EMF_OK && total > st->opts.memory_max_entries)
		rc = memory_drop_oldest(st, NULL,
		    total - st->opts.memory_max_entries, removed, err);
	return rc;
}

enum emf_rc
emf_state_memory_expire(struct emf_state *st, int64_t now, long *removed,
    struct emf_error *err)
{
	enum emf_rc rc;

	if (removed != NULL)
		*removed = 0;
	rc = st->be->begin(st, err);
	if (rc != EMF_OK)
		return rc;
	rc = memory_house(st, now, removed, err);
	if (rc == EMF_OK)
		rc = st->be->commit(st, err);
	if (rc != EMF_OK)
		st->be->rollback(st);
	return rc;
}

enum emf_rc
emf_state_memory_record(struct emf_state *st, const struct emf_report *r,
    int64_t now, unsigned *n, struct emf_error *err)
{
	const struct emf_scan *scan = emf_report_scan(r);
	char *from = from_of(scan), *env = env_sender_of(scan);
	const char *sender = *from != '\0' ? from : env;
	const char *mid = scan->msg.message_id ? scan->msg.message_id : "";
	char *subject = emf_state_subject_key(scan->msg.subject);
	GPtrArray *rc_list = rcpts_of(scan);
	char nows[24];
	long have = 0;
	unsigned want;
	enum emf_rc rc;

	*n = 0;
	/* The same address twice (To and Cc, or repeated) is one row. */
	for (guint i = 0; i < rc_list->len; i++)
		for (guint k = rc_list->len; k-- > i + 1; )
			if (strcmp(g_ptr_array_index(rc_list, i),
			    g_ptr_array_index(rc_list, k)) == 0)
				g_ptr_array_remove_index(rc_list, k);
	want = rc_list->len < MEMORY_RCPTS ? rc_list->len : MEMORY_RCPTS;
	if ((long)want > st->opts.memory_max_per_sender)
		want = (unsigned)st->opts.memory_max_per_sender;
	if (*sender == '\0' || want == 0) {
		rc = EMF_OK;
		goto out;
	}
	g_snprintf(nows, sizeof(nows), "%lld", (long long)now);
	rc = st->be->begin(st, err);
	if (rc != EMF_OK)
		goto out;
	if (*mid != '\0') {
		struct state_param p[] = { ptext(mid), ptext(sender) };

		rc = st->be->exec(st, "DELETE FROM emf_sent WHERE "
		    "message_id = ?1 AND sender = ?2", p, 2, NULL, NULL, NULL,
		    err);
	}
	if (rc == EMF_OK)
		rc = memory_count_where(st, sender, &have, err);
	if (rc == EMF_OK && have + (long)want > st->opts.memory_max_per_sender)
		rc = memory_drop_oldest(st, sender, have + (long)want -
		    st->opts.memory_max_per_sender, NULL, err);
	for (unsigned i = 0; rc == EMF_OK && i < want; i++) {
		struct state_param p[] = { ptext(mid), ptext(sender),
			ptext(g_ptr_array_index(rc_list, i)), ptext(subject),
			ptext(nows) };

		rc = st->be->exec(st, "INSERT INTO emf_sent (message_id, "
		    "sender, rcpt, subject, sent) VALUES (?1, ?2, ?3, ?4, ?5)",
		    p, 5, NULL, NULL, NULL, err);
	}
	if (rc == EMF_OK && (now - st->last_memory_house >=
	    MEMORY_HOUSEKEEPING || now < st->last_memory_house))
		rc = memory_house(st, now, NULL, err);
	if (rc == EMF_OK)
		rc = st->be->commit(st, err);
	if (rc != EMF_OK)
		st->be->rollback(st);
	else
		*n = want;
out:
	g_ptr_array_free(rc_list, TRUE);
	g_free(subject);
	g_free(from);
	g_free(env);
	return rc;
}

const char *
emf_state_message_id(const struct emf_report *r)
{
	return emf_report_scan(r)->msg.message_id;
}

const struct emf_memory *
emf_state_memory(struct emf_state *st)
{
	return st != NULL && st->opts.memory ? &st->memory : NULL;
}

void
emf_state_memory_now(struct emf_state *st, int64_t now)
{
	st->memory_now = now;
}

bool
emf_state_memory_failed(struct emf_state *st, struct emf_error *err)
{
	bool f = st->memory_failed;

	if (f && err != NULL)
		g_strlcpy(err->msg, st->memory_err, sizeof(err->msg));
	st->memory_failed = false;
	return f;
}

struct sent_ctx {
	const struct state_backend *be;
	const char *party;
	const char *const *ours;
	bool any, to_party, ours_match;
	int64_t sent;		/* newest matching row */
};

static bool
is_ours(const char *const *ours, const char *a)
{
	if (ours == NULL || ours[0] == NULL)
		return true;	/* no envelope: anyone of ours */
	for (size_t i = 0; ours[i] != NULL; i++)
		if (g_ascii_strcasecmp(ours[i], a) == 0)
			return true;
	return false;
}

/* Rows: rcpt, sender, sent. */
static bool
row_sent(void *p, struct state_row *row)
{
	struct sent_ctx *c = p;
	const char *rcpt = c->be->col_text(row, 0);
	const char *sender = c->be->col_text(row, 1);
	int64_t t = g_ascii_strtoll(c->be->col_text(row, 2), NULL, 10);

	c->any = true;
	if (c->party != NULL && strcmp(rcpt, c->party) == 0 &&
	    is_ours(c->ours, sender)) {
		c->to_party = true;
		if (t > c->sent)
			c->sent = t;
	}
	return true;
}

static bool
memory_fail(struct emf_state *st, const struct emf_error *e)
{
	st->memory_failed = true;
	g_strlcpy(st->memory_err, e->msg, sizeof(st->memory_err));
	return false;
}

/* The Message-IDs of a References/In-Reply-To text, at most 16, the last
 * ones (the nearest in the thread) first. */
static GPtrArray *
refs_of(const char *refs)
{
	GPtrArray *all = g_ptr_array_new_with_free_func(g_free);
	const char *p = refs;

	while (p != NULL && (p = strchr(p, '<')) != NULL) {
		const char *e = strchr(p, '>');

		if (e == NULL)
			break;
		if (e - p > 1 && e - p < 250)
			g_ptr_array_add(all, g_strndup(p + 1,
			    (gsize)(e - p - 1)));
		p = e + 1;
	}
	while (all->len > 16)
		g_ptr_array_remove_index(all, 1); /* keep In-Reply-To */
	return all;
}

static bool
memory_lookup(void *ctx, const struct emf_memory_query *q,
    struct emf_memory_answer *a)
{
	struct emf_state *st = ctx;
	int64_t now = st->memory_now ? st->memory_now :
	    g_get_real_time() / G_USEC_PER_SEC;
	char since[24];
	struct emf_error e;
	GPtrArray *refs = refs_of(q->refs);
	enum emf_rc rc = EMF_OK;

	memset(a, 0, sizeof(*a));
	e.msg[0] = '\0';
	/* Older rows are gone at the next housekeeping; never count them. */
	g_snprintf(since, sizeof(since), "%lld",
	    (long long)(now - st->opts.memory_max_age));
	for (guint i = 0; rc == EMF_OK && i < refs->len &&
	    !a->thread_to_party; i++) {
		struct sent_ctx c = { st->be, q->party, q->ours, false, false,
			false, 0 };
		struct state_param p[] = { ptext(g_ptr_array_index(refs, i)),
			ptext(since) };

		rc = st->be->exec(st, "SELECT rcpt, sender, sent FROM emf_sent "
		    "WHERE message_id = ?1 AND sent >= ?2 LIMIT 200", p, 2,
		    row_sent, &c, NULL, &e);
		if (c.any && !a->thread_ours) {
			a->thread_ours = true;
			g_strlcpy(a->mid, g_ptr_array_index(refs, i),
			    sizeof(a->mid));
		}
		if (c.to_party) {
			a->thread_to_party = true;
			g_strlcpy(a->mid, g_ptr_array_index(refs, i),
			    sizeof(a->mid));
			a->age_days = (long)((now - c.sent) / 86400);
		}
	}
	g_ptr_array_free(refs, TRUE);
	if (rc == EMF_OK && q->party != NULL && *q->party != '\0') {
		struct long_ctx c = { st->be, { 0, 0 } };
		struct state_param p[] = { ptext(q->party), ptext(since) };

		rc = st->be->exec(st, "SELECT count(*) FROM (SELECT 1 FROM "
		    "emf_sent WHERE rcpt = ?1 AND sent >= ?2 LIMIT 1) AS x", p,
		    2, row_one_long, &c, NULL, &e);
		a->known_party = c.v[0] > 0;
	}
	if (rc == EMF_OK && a->known_party && q->subject != NULL &&
	    !a->thread_to_party) {
		char *key = emf_state_subject_key(q->subject);
		struct sent_ctx c = { st->be, q->party, q->ours, false, false,
			false, 0 };
		struct state_param p[] = { ptext(q->party), ptext(key),
			ptext(since) };

		if (*key != '\0')
			rc = st->be->exec(st, "SELECT rcpt, sender, sent FROM "
			    "emf_sent WHERE rcpt = ?1 AND subject = ?2 AND "
			    "sent >= ?3 LIMIT 200", p, 3, row_sent, &c, NULL,
			    &e);
		if (c.to_party) {
			a->subject_to_party = true;
			a->age_days = (long)((now - c.sent) / 86400);
		}
		g_free(key);
	}
	if (rc != EMF_OK) {
		memset(a, 0, sizeof(*a));
		return memory_fail(st, &e);
	}
	return true;
}
