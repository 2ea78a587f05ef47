/*
 * cache.c - the store's entries for the list, filters and statistics of
 * emofilter-web (see web.h).
 *
 * A report is read and parsed once; what the list needs of it (ID, time,
 * score, action, policy, envelope, headers, symbol names and scores) is
 * kept, the rest dropped, so that 10,000 entries stay a few MB and a list
 * page costs a directory walk and a stat() per entry. An entry's report
 * never changes; its release record can appear (or go), so it is looked
 * for on every call.
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <json-glib/json-glib.h>

#include "qjson.h"
#include "qstore.h"
#include "store/quarantine.h"
#include "web.h"

/* Member key of from, copied into to, if present. */
static void
copy_member(JsonObject *to, JsonObject *from, const char *key)
{
	JsonNode *n = json_object_get_member(from, key);

	if (n != NULL)
		json_object_set_member(to, key, json_node_copy(n));
}

/* The short form of a loaded entry (its release record is moved). */
static struct qentry *
shorten(struct qentry *full)
{
	struct qentry *e = g_new0(struct qentry, 1);
	JsonArray *syms = jarr(full->root, "symbols"), *out;
	static const char *const keep[] = { "id", "time", "score", "action",
		"policy", "envelope", "headers", NULL };

	e->id = g_strdup(full->id);
	e->root = json_object_new();
	for (size_t i = 0; keep[i]; i++)
		copy_member(e->root, full->root, keep[i]);
	out = json_array_new();
	for (guint i = 0; syms && i < json_array_get_length(syms); i++) {
		JsonObject *s = jarr_obj(syms, i), *o;

		if (s == NULL)
			continue;
		o = json_object_new();
		copy_member(o, s, "name");
		copy_member(o, s, "score");
		json_array_add_object_element(out, o);
	}
	json_object_set_array_member(e->root, "symbols", out);
	e->released = full->released;
	full->released = NULL;
	return e;
}

/* Whether entry id has a release record now. */
static bool
has_release_record(const char *store, const char *id)
{
	char *p = emf_quarantine_path(store, id, "released");
	struct stat st;
	bool r = p != NULL && lstat(p, &st) == 0;

	emf_free(p);
	return r;
}

/* The entry id, loaded into the cache (or refreshed); NULL if unreadable
 * or gone. */
static struct qentry *
cached(struct web *w, const char *id, unsigned *skipped)
{
	struct qentry *e = g_hash_table_lookup(w->cache, id), full;
	bool rel = has_release_record(w->store, id);
	char *why = NULL;
	int rc;

	if (e != NULL && (e->released != NULL) == rel)
		return e;
	/* New, or its release record came or went: read it (again). */
	rc = qentry_load(w->store, id, &full, &why);
	if (rc != EX_DONE) {
		if (rc == EX_STORE) {
			(*skipped)++;
			g_message("%s", why);
		}
		g_free(why);
		g_hash_table_remove(w->cache, id);
		return NULL;
	}
	e = shorten(&full);
	qentry_clear(&full);
	g_hash_table_replace(w->cache, e->id, e);
	return e;
}

GPtrArray *
cache_entries(struct web *w, unsigned *skipped, char **why)
{
	struct emf_error err;
	GHashTable *live;
	GHashTableIter it;
	gpointer k;
	char **ids;
	size_t n;
	GPtrArray *out;

	*skipped = 0;
	if (emf_quarantine_list(w->store, &ids, &n, &err) != EMF_OK) {
		*why = g_strdup(err.msg);
		return NULL;
	}
	out = g_ptr_array_sized_new((guint)n);
	live = g_hash_table_new(g_str_hash, g_str_equal);
	for (size_t i = 0; i < n; i++) {
		struct qentry *e = cached(w, ids[i], skipped);

		if (e != NULL) {
			g_ptr_array_add(out, e);
			g_hash_table_add(live, e->id);
		}
	}
	/* Entries deleted meanwhile. */
	g_hash_table_iter_init(&it, w->cache);
	while (g_hash_table_iter_next(&it, &k, NULL))
		if (!g_hash_table_contains(live, k))
			g_hash_table_iter_remove(&it);
	g_hash_table_destroy(live);
	emf_quarantine_ids_free(ids);
	return out;
}
