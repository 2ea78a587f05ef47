/*
 * cache.c - the store's entries for the list, filters and statistics of
 * emofilter-web (see web.h).
 *
 * A report is read and parsed once; what the list needs of it (ID, time,
 * score, action, policy, envelope, headers, symbol names and scores) is
 * kept, the rest dropped, so that 10,000 entries stay a few MB and a list
 * page costs one walk over the day directories (which also shows the
 * release records). An entry's report
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

/* Newest first, as emf_quarantine_list() gives them. */
static gint
cmp_desc(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

/*
 * The entry IDs of the store (their .json exists) into ids, newest first,
 * and those with a release record into released: one walk over the day
 * directories, the same names emf_quarantine_list() accepts (a valid ID
 * in the directory of its day, no symlinked directory), without a stat()
 * per entry. false with *why set if the store cannot be read.
 */
static bool
walk_store(const char *store, GPtrArray *ids, GHashTable *released,
    char **why)
{
	GError *gerr = NULL;
	GDir *top = g_dir_open(store, 0, &gerr), *day;
	const char *name, *f;

	if (top == NULL) {
		*why = g_strdup(gerr->message);
		g_error_free(gerr);
		return false;
	}
	while ((name = g_dir_read_name(top)) != NULL) {
		char *path;
		struct stat st;

		if (strlen(name) != 8 || strspn(name, "0123456789") != 8)
			continue;
		path = g_build_filename(store, name, NULL);
		if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) ||
		    (day = g_dir_open(path, 0, NULL)) == NULL) {
			g_free(path);
			continue;
		}
		g_free(path);
		while ((f = g_dir_read_name(day)) != NULL) {
			const char *dot = strrchr(f, '.');
			char *id;

			if (dot == NULL || (strcmp(dot, ".json") != 0 &&
			    strcmp(dot, ".released") != 0))
				continue;
			id = g_strndup(f, (gsize)(dot - f));
			if (!emf_quarantine_id_valid(id) ||
			    strncmp(id, name, 8) != 0) {
				g_free(id);
				continue;
			}
			if (dot[1] == 'j')
				g_ptr_array_add(ids, id);
			else
				g_hash_table_add(released, id);
		}
		g_dir_close(day);
	}
	g_dir_close(top);
	g_ptr_array_sort(ids, cmp_desc);
	return true;
}

/* The entry id, loaded into the cache (or refreshed); NULL if unreadable
 * or gone. */
static struct qentry *
cached(struct web *w, const char *id, bool rel, unsigned *skipped)
{
	struct qentry *e = g_hash_table_lookup(w->cache, id), full;
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
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free), *out;
	GHashTable *released = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	GHashTable *live;
	GHashTableIter it;
	gpointer k;

	*skipped = 0;
	if (!walk_store(w->store, ids, released, why)) {
		g_ptr_array_free(ids, TRUE);
		g_hash_table_destroy(released);
		return NULL;
	}
	out = g_ptr_array_sized_new(ids->len);
	for (guint i = 0; i < ids->len; i++) {
		const char *id = g_ptr_array_index(ids, i);
		struct qentry *e = cached(w, id,
		    g_hash_table_contains(released, id), skipped);

		if (e != NULL)
			g_ptr_array_add(out, e);
	}
	/* Entries deleted meanwhile: the cache holds more than the store. */
	if (g_hash_table_size(w->cache) != out->len) {
		live = g_hash_table_new(g_str_hash, g_str_equal);
		for (guint i = 0; i < out->len; i++)
			g_hash_table_add(live,
			    ((struct qentry *)g_ptr_array_index(out, i))->id);
		g_hash_table_iter_init(&it, w->cache);
		while (g_hash_table_iter_next(&it, &k, NULL))
			if (!g_hash_table_contains(live, k))
				g_hash_table_iter_remove(&it);
		g_hash_table_destroy(live);
	}
	g_hash_table_destroy(released);
	g_ptr_array_free(ids, TRUE);
	return out;
}
