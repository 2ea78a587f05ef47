/*
 * qstats.c - statistics over quarantine entries (see qstats.h).
 */
#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "qjson.h"
#include "qsafe.h"
#include "qstats.h"
#include "qstore.h"

static void
count_free(gpointer p)
{
	struct qstat_count *c = p;

	g_free(c->key);
	g_free(c);
}

static void
bump(GHashTable *h, const char *key)
{
	gpointer v = g_hash_table_lookup(h, key);

	g_hash_table_insert(h, g_strdup(key),
	    GUINT_TO_POINTER(GPOINTER_TO_UINT(v) + 1));
}

/* Most first, then by key, so that the order is stable. */
static gint
cmp_count(gconstpointer a, gconstpointer b)
{
	const struct qstat_count *x = *(struct qstat_count *const *)a;
	const struct qstat_count *y = *(struct qstat_count *const *)b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->key, y->key);
}

static GPtrArray *
sorted_counts(GHashTable *h)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(count_free);
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, h);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct qstat_count *c = g_new0(struct qstat_count, 1);

		c->key = g_strdup(k);
		c->n = GPOINTER_TO_UINT(v);
		g_ptr_array_add(out, c);
	}
	g_ptr_array_sort(out, cmp_count);
	return out;
}

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Each symbol once per entry. */
static void
count_symbols(GHashTable *h, const struct qentry *e)
{
	JsonArray *a = jarr(e->root, "symbols");
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		const char *n = jstr(jarr_obj(a, i), "name");

		if (n == NULL || g_hash_table_contains(seen, n))
			continue;
		g_hash_table_add(seen, (gpointer)n);
		bump(h, n);
	}
	g_hash_table_destroy(seen);
}

struct qstats *
qstats_compute(GPtrArray *entries)
{
	struct qstats *st = g_new0(struct qstats, 1);
	GHashTable *days = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	GHashTable *act = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	GHashTable *sym = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	GHashTable *snd = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	GHashTableIter it;
	gpointer k;

	st->day_action = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	for (guint i = 0; i < entries->len; i++) {
		const struct qentry *e = g_ptr_array_index(entries, i);
		const char *a = jstr_or(e->root, "action", "?");
		char day[11], *key, *from, *lfrom;

		/* "YYYYMMDD..." -> "YYYY-MM-DD" */
		g_snprintf(day, sizeof(day), "%.4s-%.2s-%.2s", e->id,
		    e->id + 4, e->id + 6);
		g_hash_table_add(days, g_strdup(day));
		key = g_strdup_printf("%s\t%s", day, a);
		bump(st->day_action, key);
		g_free(key);
		bump(act, a);
		count_symbols(sym, e);
		from = qentry_sender(e);
		lfrom = g_utf8_strdown(from ? from : "<>", -1);
		bump(snd, lfrom);
		g_free(from);
		g_free(lfrom);
		st->total++;
	}
	st->days = g_ptr_array_new_with_free_func(g_free);
	g_hash_table_iter_init(&it, days);
	while (g_hash_table_iter_next(&it, &k, NULL))
		g_ptr_array_add(st->days, g_strdup(k));
	g_ptr_array_sort(st->days, cmp_str);
	st->actions = sorted_counts(act);
	st->symbols = sorted_counts(sym);
	st->senders = sorted_counts(snd);
	g_hash_table_destroy(days);
	g_hash_table_destroy(act);
	g_hash_table_destroy(sym);
	g_hash_table_destroy(snd);
	return st;
}

void
qstats_free(struct qstats *st)
{
	if (st == NULL)
		return;
	g_ptr_array_free(st->days, TRUE);
	g_ptr_array_free(st->actions, TRUE);
	g_ptr_array_free(st->symbols, TRUE);
	g_ptr_array_free(st->senders, TRUE);
	g_hash_table_destroy(st->day_action);
	g_free(st);
}

guint
qstats_count(const struct qstats *st, const char *day, const char *action)
{
	char *key = g_strdup_printf("%s\t%s", day, action);
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(st->day_action, key));

	g_free(key);
	return n;
}

/* "  COUNT  KEY" lines, at most top. */
static void
text_counts(GString *s, const char *title, GPtrArray *a, guint top)
{
	g_string_append_printf(s, "\n%s\n", title);
	for (guint i = 0; i < a->len && i < top; i++) {
		struct qstat_count *c = g_ptr_array_index(a, i);

		g_string_append_printf(s, "  %7u  ", c->n);
		safe_append(s, c->key);
		g_string_append_c(s, '\n');
	}
}

char *
qstats_render_text(const struct qstats *st, guint top)
{
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "Entries  %u\n", st->total);
	/* Per day: a header row of the actions, then one row a day. */
	g_string_append(s, "\nPer day (UTC)\n  DAY       ");
	for (guint j = 0; j < st->actions->len; j++) {
		struct qstat_count *a = g_ptr_array_index(st->actions, j);
		char *name = safe_cut(a->key, 10);

		g_string_append_printf(s, "  %10s", name);
		g_free(name);
	}
	g_string_append(s, "       TOTAL\n");
	for (guint i = 0; i < st->days->len; i++) {
		const char *day = g_ptr_array_index(st->days, i);
		guint sum = 0;

		g_string_append_printf(s, "  %s", day);
		for (guint j = 0; j < st->actions->len; j++) {
			struct qstat_count *a = g_ptr_array_index(st->actions,
			    j);
			guint n = qstats_count(st, day, a->key);

			sum += n;
			g_string_append_printf(s, "  %10u", n);
		}
		g_string_append_printf(s, "  %10u\n", sum);
	}
	text_counts(s, "Per action", st->actions, G_MAXUINT);
	text_counts(s, "Top symbols (entries)", st->symbols, top);
	text_counts(s, "Top senders (entries)", st->senders, top);
	return g_string_free(s, FALSE);
}

static void
json_counts(JsonBuilder *b, const char *name, GPtrArray *a, guint top)
{
	json_builder_set_member_name(b, name);
	json_builder_begin_array(b);
	for (guint i = 0; i < a->len && i < top; i++) {
		struct qstat_count *c = g_ptr_array_index(a, i);

		json_builder_begin_object(b);
		qjson_add_string_member(b, "name", c->key);
		json_builder_set_member_name(b, "count");
		json_builder_add_int_value(b, c->n);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
}

char *
qstats_render_json(const struct qstats *st, guint top)
{
	JsonBuilder *b = json_builder_new();

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "total");
	json_builder_add_int_value(b, st->total);
	json_counts(b, "actions", st->actions, G_MAXUINT);
	json_builder_set_member_name(b, "days");
	json_builder_begin_array(b);
	for (guint i = 0; i < st->days->len; i++) {
		const char *day = g_ptr_array_index(st->days, i);

		json_builder_begin_object(b);
		qjson_add_string_member(b, "day", day);
		json_builder_set_member_name(b, "actions");
		json_builder_begin_object(b);
		for (guint j = 0; j < st->actions->len; j++) {
			struct qstat_count *a = g_ptr_array_index(st->actions,
			    j);

			json_builder_set_member_name(b, a->key);
			json_builder_add_int_value(b,
			    qstats_count(st, day, a->key));
		}
		json_builder_end_object(b);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_counts(b, "symbols", st->symbols, top);
	json_counts(b, "senders", st->senders, top);
	json_builder_end_object(b);
	return qjson_finish(b, false);
}
