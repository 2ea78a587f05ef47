/*
 * qhold.c - the Postfix hold copy of an entry (see qhold.h).
 */
#include "config.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "qhold.h"
#include "qjson.h"
#include "qstore.h"
#include "store/quarantine.h"

/* Bounds on what the Postfix tools may tell us. */
#define MAX_QID 64
#define NOTE_EXT "hold"

bool
qhold_qid_ok(const char *s)
{
	size_t n;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n < 5 || n > MAX_QID)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(s[i]))
			return false;
	return true;
}

bool
qhold_enabled(const struct emf_cfg *cfg)
{
	return emf_cfg_bool(cfg, "quarantine.postfix_hold");
}

/*
 * Run Postfix tool name with args (NULL-terminated, after -c DIR when
 * configured). *out (may be NULL) gets its standard output. NULL once it
 * exited 0, else why not.
 */
static char *
run_tool(const struct emf_cfg *cfg, const char *name,
    const char *const *args, char **out)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	const char *confdir = emf_cfg_str(cfg, "quarantine.postfix_config");
	char *so = NULL, *se = NULL, *why = NULL;
	GError *gerr = NULL;
	gint status = 0;

	g_ptr_array_add(argv, g_build_filename(emf_cfg_str(cfg,
	    "quarantine.postfix_bin"), name, NULL));
	if (confdir != NULL && *confdir != '\0') {
		g_ptr_array_add(argv, g_strdup("-c"));
		g_ptr_array_add(argv, g_strdup(confdir));
	}
	for (size_t i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, g_strdup(args[i]));
	g_ptr_array_add(argv, NULL);
	if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL,
	    G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, &so, &se, &status,
	    &gerr)) {
		why = g_strdup_printf("%s: %s", name, gerr->message);
		g_error_free(gerr);
	} else if (!g_spawn_check_wait_status(status, &gerr)) {
		char *e = g_strstrip(g_strdup(se ? se : ""));
		char *nl = strchr(e, '\n');

		if (nl != NULL)
			*nl = '\0';
		why = g_strdup_printf("%s %s failed (%s)%s%s", name,
		    args[0], gerr->message, *e ? ": " : "", e);
		g_free(e);
		g_error_free(gerr);
	}
	if (why == NULL && out != NULL) {
		*out = so;
		so = NULL;
	}
	g_free(so);
	g_free(se);
	g_ptr_array_free(argv, TRUE);
	return why;
}

/*
 * The queue of queue ID qid from postqueue -j ("" when it is not in the
 * queue), or NULL with *why set. With list, every hold queue ID is added
 * to it too.
 */
static char *
queue_of(const struct emf_cfg *cfg, const char *qid, GPtrArray *list,
    char **why)
{
	static const char *const args[] = { "-j", NULL };
	char *out = NULL, *found = NULL, **lines;
	JsonParser *p;

	if ((*why = run_tool(cfg, "postqueue", args, &out)) != NULL)
		return NULL;
	p = json_parser_new();
	lines = g_strsplit(out, "\n", -1);
	for (size_t i = 0; lines[i] != NULL; i++) {
		JsonNode *root;
		const char *q, *name;

		if (*lines[i] == '\0' ||
		    !json_parser_load_from_data(p, lines[i], -1, NULL))
			continue;
		root = json_parser_get_root(p);
		if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
			continue;
		q = jstr(json_node_get_object(root), "queue_id");
		name = jstr(json_node_get_object(root), "queue_name");
		if (q == NULL || name == NULL || !qhold_qid_ok(q))
			continue;
		if (list != NULL && strcmp(name, "hold") == 0)
			g_ptr_array_add(list, g_strdup(q));
		if (qid != NULL && found == NULL && strcmp(q, qid) == 0)
			found = g_strdup(name);
	}
	g_strfreev(lines);
	g_object_unref(p);
	g_free(out);
	return found != NULL ? found : g_strdup("");
}

GPtrArray *
qhold_list(const struct emf_cfg *cfg, char **why)
{
	GPtrArray *list = g_ptr_array_new_with_free_func(g_free);
	char *r = queue_of(cfg, NULL, list, why);

	if (r == NULL) {
		g_ptr_array_free(list, TRUE);
		return NULL;
	}
	g_free(r);
	return list;
}

char *
qhold_entry_id(const struct emf_cfg *cfg, const char *qid, char **why)
{
	const char *args[] = { "-h", "-q", qid, NULL };
	static const char name[] = "X-Emofilter-ID:";
	char *out = NULL, *id = NULL, **lines;

	*why = NULL;
	if (!qhold_qid_ok(qid)) {
		*why = g_strdup("not a queue ID");
		return NULL;
	}
	if ((*why = run_tool(cfg, "postcat", args, &out)) != NULL)
		return NULL;
	lines = g_strsplit(out, "\n", -1);
	for (size_t i = 0; lines[i] != NULL && id == NULL; i++)
		if (g_ascii_strncasecmp(lines[i], name, strlen(name)) == 0) {
			char *v = g_strstrip(g_strdup(lines[i] +
			    strlen(name)));

			if (emf_quarantine_id_valid(v))
				id = v;
			else
				g_free(v);
		}
	g_strfreev(lines);
	g_free(out);
	return id;
}

enum qhold_where
qhold_find(const struct emf_cfg *cfg, const char *qid, const char *id,
    char **queue, char **why)
{
	char *q, *got, *e = NULL;
	enum qhold_where w;

	*why = NULL;
	if (queue != NULL)
		*queue = NULL;
	if (!qhold_qid_ok(qid)) {
		*why = g_strdup("no Postfix queue ID recorded");
		return QHOLD_UNKNOWN;
	}
	if ((q = queue_of(cfg, qid, NULL, why)) == NULL)
		return QHOLD_UNKNOWN;
	if (*q == '\0') {
		g_free(q);
		return QHOLD_GONE;
	}
	if (geteuid() != 0) {
		*why = g_strdup_printf("queue file %s is in the %s queue, but "
		    "only root can read it to tell whether it is this "
		    "entry's", qid, q);
		g_free(q);
		return QHOLD_UNKNOWN;
	}
	got = qhold_entry_id(cfg, qid, &e);
	if (got == NULL && e != NULL) {
		/* Gone between the listing and the reading? */
		*why = e;
		w = QHOLD_UNKNOWN;
	} else if (got == NULL || strcmp(got, id) != 0) {
		g_free(e);
		w = QHOLD_OTHER;
	} else {
		w = strcmp(q, "hold") == 0 ? QHOLD_HELD : QHOLD_LEFT;
	}
	g_free(got);
	if (queue != NULL)
		*queue = q;
	else
		g_free(q);
	return w;
}

char *
qhold_release(const struct emf_cfg *cfg, const char *qid)
{
	const char *h[] = { "-H", qid, NULL }, *i[] = { "-i", qid, NULL };
	char *why;

	if ((why = run_tool(cfg, "postsuper", h, NULL)) != NULL)
		return why;
	/* Freed mail waits in the deferred queue for the next queue run;
	 * ask for it now. Freed is freed: a failure here only delays. */
	g_free(run_tool(cfg, "postqueue", i, NULL));
	return NULL;
}

char *
qhold_delete(const struct emf_cfg *cfg, const char *qid)
{
	const char *d[] = { "-d", qid, NULL };

	return run_tool(cfg, "postsuper", d, NULL);
}

/* ---- notes ---- */

char *
qhold_pending_add(const char *store, const char *id, const char *qid,
    const char *action)
{
	JsonBuilder *b = json_builder_new();
	char *now = iso_time((gint64)time(NULL)), *text, *why = NULL;
	struct emf_error err;

	json_builder_begin_object(b);
	qjson_add_string_member(b, "time", now);
	qjson_add_string_member(b, "queue_id", qid);
	qjson_add_string_member(b, "after", action);
	json_builder_end_object(b);
	text = qjson_finish(b, false);
	if (emf_quarantine_put_note(store, id, NOTE_EXT, text, strlen(text),
	    &err) != EMF_OK)
		why = g_strdup_printf("hold note: %s", err.msg);
	g_free(text);
	g_free(now);
	return why;
}

GPtrArray *
qhold_pending_list(const char *store, char **why)
{
	GPtrArray *out;
	struct emf_error err;
	char **ids;
	size_t n;

	if (emf_quarantine_list_notes(store, NOTE_EXT, &ids, &n, &err) !=
	    EMF_OK) {
		*why = g_strdup(err.msg);
		return NULL;
	}
	out = g_ptr_array_new_with_free_func(g_free);
	for (size_t i = 0; i < n; i++)
		g_ptr_array_add(out, g_strdup(ids[i]));
	emf_quarantine_ids_free(ids);
	return out;
}

char *
qhold_pending_qid(const char *store, const char *id)
{
	JsonParser *p = json_parser_new();
	struct emf_error err;
	char *data = NULL, *qid = NULL;
	JsonNode *root;

	if (emf_quarantine_read(store, id, NOTE_EXT, 4096, &data, NULL,
	    &err) == EMF_OK && json_parser_load_from_data(p, data, -1, NULL) &&
	    (root = json_parser_get_root(p)) != NULL &&
	    JSON_NODE_HOLDS_OBJECT(root)) {
		const char *q = jstr(json_node_get_object(root), "queue_id");

		if (qhold_qid_ok(q))
			qid = g_strdup(q);
	}
	g_free(data);
	g_object_unref(p);
	return qid;
}

char *
qhold_pending_remove(const char *store, const char *id)
{
	struct emf_error err;
	enum emf_rc rc = emf_quarantine_remove_note(store, id, NOTE_EXT, &err);

	return rc == EMF_OK || rc == EMF_ERR_FORMAT ? NULL :
	    g_strdup(err.msg);
}
