/*
 * qstore.c - entries, times, filters and selection for
 * emofilter-quarantine (see qstore.h).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "emf.h"
#include "qjson.h"
#include "qsafe.h"
#include "qstore.h"
#include "store/quarantine.h"

/* Caps on what we read from the store. A release record is a few hundred
 * bytes. */
#define MAX_REPORT ((size_t)64 << 20)
#define MAX_MESSAGE ((size_t)1 << 30)
#define MAX_RELEASE_RECORD ((size_t)1 << 20)

/* ---- entries ----------------------------------------------------------- */

void
qentry_clear(struct qentry *e)
{
	g_free(e->id);
	if (e->root)
		json_object_unref(e->root);
	if (e->released)
		json_object_unref(e->released);
	g_free(e->history);
	memset(e, 0, sizeof(*e));
}

void
qentry_free(gpointer e)
{
	qentry_clear(e);
	g_free(e);
}

/* The top-level object of JSON text, a reference for the caller; NULL
 * with *gerr set (unless it parsed but is no object) on failure. */
static JsonObject *
parse_object(const char *data, size_t len, GError **gerr)
{
	JsonParser *parser = json_parser_new();
	JsonNode *root;
	JsonObject *o = NULL;

	if (json_parser_load_from_data(parser, data, (gssize)len, gerr)) {
		root = json_parser_get_root(parser);
		if (root != NULL && JSON_NODE_HOLDS_OBJECT(root))
			o = json_object_ref(json_node_get_object(root));
	}
	g_object_unref(parser);
	return o;
}

/* The report text of entry id. */
static int
read_report(const char *store, const char *id, char **data, size_t *len,
    char **why)
{
	struct emf_error err;
	enum emf_rc rc;

	rc = emf_quarantine_read(store, id, "json", MAX_REPORT, data,
	    len, &err);
	if (rc == EMF_ERR_FORMAT) {
		*why = g_strdup_printf("%s: no such entry in %s", id, store);
		return EX_NOTFOUND;
	}
	if (rc != EMF_OK) {
		*why = g_strdup_printf("%s: unreadable entry: %s", id, err.msg);
		return EX_STORE;
	}
	return EX_DONE;
}

/* Parse the report into e->root; it must name the entry it is stored as. */
static int
parse_report(struct qentry *e, const char *data, size_t len, char **why)
{
	GError *gerr = NULL;
	const char *rid;

	e->root = parse_object(data, len, &gerr);
	if (gerr != NULL) {
		*why = g_strdup_printf("%s: unreadable entry: report: %s",
		    e->id, gerr->message);
		g_error_free(gerr);
		return EX_STORE;
	}
	if (e->root == NULL || (rid = jstr(e->root, "id")) == NULL ||
	    strcmp(rid, e->id) != 0) {
		*why = g_strdup_printf("%s: unreadable entry: report is not "
		    "this entry's", e->id);
		return EX_STORE;
	}
	return EX_DONE;
}

/* e->released from the .released file, if there is one. */
static void
load_release_record(const char *store, struct qentry *e)
{
	struct emf_error err;
	char *data;
	size_t len;

	if (emf_quarantine_read(store, e->id, "released", MAX_RELEASE_RECORD,
	    &data, &len, &err) != EMF_OK)
		return;
	e->released = parse_object(data, len, NULL);
	if (e->released == NULL) {
		/* A release record we cannot read still means "released":
		 * refuse to send twice by accident. */
		e->released = json_object_new();
		json_object_set_string_member(e->released, "time", "?");
		json_object_set_string_member(e->released, "by", "?");
	}
	g_free(data);
}

/* e->history from the .history file (the state's transitions), if any. */
static void
load_history(const char *store, struct qentry *e)
{
	struct emf_error err;
	char *data;
	size_t len;

	if (emf_quarantine_read(store, e->id, "history",
	    EMF_QUARANTINE_HISTORY_MAX, &data, &len, &err) != EMF_OK)
		return;
	e->history = g_strndup(data, len);
	emf_free(data);
}

int
qentry_load(const char *store, const char *id, struct qentry *e,
    char **why)
{
	char *data = NULL;
	size_t len;
	int rc;

	memset(e, 0, sizeof(*e));
	if (!emf_quarantine_id_valid(id)) {
		char *s = safe_dup(id);

		*why = g_strdup_printf("\"%s\" is not an entry ID (want "
		    "YYYYMMDDTHHMMSSZ-xxxxxxxx)", s);
		g_free(s);
		return EX_NOTFOUND;
	}
	if ((rc = read_report(store, id, &data, &len, why)) != EX_DONE)
		return rc;
	e->id = g_strdup(id);
	rc = parse_report(e, data, len, why);
	g_free(data);
	if (rc != EX_DONE) {
		qentry_clear(e);
		return rc;
	}
	load_release_record(store, e);
	load_history(store, e);
	return EX_DONE;
}

int
qentry_read_message(const char *store, const struct qentry *e, char **msg,
    size_t *len, char **why)
{
	struct emf_error err;

	if (emf_quarantine_read(store, e->id, "eml", MAX_MESSAGE, msg,
	    len, &err) != EMF_OK) {
		*why = g_strdup_printf("%s: unreadable entry: %s", e->id,
		    err.msg);
		return EX_STORE;
	}
	return EX_DONE;
}

char *
qentry_sender(const struct qentry *e)
{
	const char *s = jstr(jobj(e->root, "envelope"), "from");

	if (s != NULL && *s != '\0')
		return g_strdup(s);
	return addr_of(jstr(jobj(e->root, "headers"), "from"));
}

const char *
qentry_first_rcpt(const struct qentry *e)
{
	JsonArray *a = jarr(jobj(e->root, "envelope"), "rcpts");

	return a && json_array_get_length(a) > 0 ? jarr_str(a, 0) : NULL;
}

/* ---- addresses --------------------------------------------------------- */

char *
addr_of(const char *from)
{
	const char *lt, *gt;

	if (from == NULL)
		return NULL;
	lt = strrchr(from, '<');
	gt = lt ? strchr(lt, '>') : NULL;
	if (lt && gt && gt > lt + 1)
		return g_strndup(lt + 1, (gsize)(gt - lt - 1));
	if (strchr(from, '@') != NULL)
		return g_strstrip(g_strdup(from));
	return NULL;
}

char *
domain_of(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at && at[1] ? g_ascii_strdown(at + 1, -1) : NULL;
}

/* ---- times ------------------------------------------------------------- */

/* Seconds since the epoch of an ISO 8601 time in UTC; -1 if malformed. */
static gint64
iso_seconds(const char *iso)
{
	GTimeZone *utc = g_time_zone_new_utc();
	GDateTime *dt = g_date_time_new_from_iso8601(iso, utc);
	gint64 t = -1;

	g_time_zone_unref(utc);
	if (dt != NULL) {
		t = g_date_time_to_unix(dt);
		g_date_time_unref(dt);
	}
	return t;
}

gint64
id_time(const char *id)
{
	char buf[32];

	if (!emf_quarantine_id_valid(id))
		return -1;
	/* "YYYYMMDDTHHMMSSZ" -> "YYYY-MM-DDTHH:MM:SSZ" */
	g_snprintf(buf, sizeof(buf), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", id,
	    id + 4, id + 6, id + 9, id + 11, id + 13);
	return iso_seconds(buf);
}

char *
iso_time(gint64 t)
{
	GDateTime *dt = g_date_time_new_from_unix_utc(t);
	char *s = dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") :
	    g_strdup("?");

	if (dt)
		g_date_time_unref(dt);
	return s;
}

gint64
parse_age(const char *s)
{
	char *end;
	gint64 n;

	if (s == NULL || !g_ascii_isdigit(*s))
		return -1;
	errno = 0;
	n = g_ascii_strtoll(s, &end, 10);
	if (errno != 0 || end == s || n > 100000000)
		return -1;
	if (strcmp(end, "s") == 0)
		return n;
	if (strcmp(end, "m") == 0)
		return n * 60;
	if (strcmp(end, "h") == 0)
		return n * 3600;
	if (strcmp(end, "d") == 0)
		return n * 86400;
	if (strcmp(end, "w") == 0)
		return n * 7 * 86400;
	return -1;
}

gint64
parse_when(const char *s)
{
	gint64 age = parse_age(s), t;

	if (age >= 0)
		return (gint64)time(NULL) - age;
	if (strlen(s) == 10) {
		/* A bare date: its midnight, UTC. */
		char *full = g_strconcat(s, "T00:00:00Z", NULL);

		t = iso_seconds(full);
		g_free(full);
		return t;
	}
	return iso_seconds(s);
}

/* ---- filters ----------------------------------------------------------- */

void
qfilter_init(struct qfilter *f)
{
	memset(f, 0, sizeof(*f));
	f->since = G_MININT64;
	f->until = -1;
	f->released = -1;
}

enum qfilter_opt
qfilter_option(struct qfilter *f, int opt, const char *arg)
{
	char *end;

	switch (opt) {
	case 'S':
		f->since = parse_when(arg);
		return f->since < 0 ? QFILTER_BAD_VALUE : QFILTER_TAKEN;
	case 'U':
		if ((f->until = parse_when(arg)) < 0)
			return QFILTER_BAD_VALUE;
		/* A bare date means "until the end of that day". */
		if (strlen(arg) == 10)
			f->until += 86399;
		return QFILTER_TAKEN;
	case 'M':
		f->min_score = g_ascii_strtod(arg, &end);
		if (end == arg || *end != '\0')
			return QFILTER_BAD_VALUE;
		f->has_min = true;
		return QFILTER_TAKEN;
	case 'Y': f->symbol = arg; return QFILTER_TAKEN;
	case 'F': f->from = arg; return QFILTER_TAKEN;
	case 'R': f->rcpt = arg; return QFILTER_TAKEN;
	case 'r': f->released = 1; return QFILTER_TAKEN;
	case 'p': f->released = 0; return QFILTER_TAKEN;
	case QFILTER_ACTION: f->action = arg; return QFILTER_TAKEN;
	case QFILTER_QUEUE_ID: f->queue_id = arg; return QFILTER_TAKEN;
	case QFILTER_MESSAGE_ID: f->message_id = arg; return QFILTER_TAKEN;
	case QFILTER_ID: f->id = arg; return QFILTER_TAKEN;
	default:
		return QFILTER_NOT_MINE;
	}
}

/* Whether needle is in hay, ignoring case (Unicode case folding). */
static bool
icontains(const char *hay, const char *needle)
{
	char *h, *n;
	bool r;

	if (hay == NULL)
		return false;
	h = g_utf8_casefold(hay, -1);
	n = g_utf8_casefold(needle, -1);
	r = strstr(h, n) != NULL;
	g_free(h);
	g_free(n);
	return r;
}

/* Time and ID filters work on the ID alone: no need to read the entry. */
bool
qfilter_match_id(const struct qfilter *f, const char *id)
{
	gint64 t;

	if (f->id != NULL && *f->id != '\0' &&
	    strncmp(id, f->id, strlen(f->id)) != 0)
		return false;
	if (f->since == G_MININT64 && f->until < 0)
		return true;	/* no time filter: no need to parse the ID */
	t = id_time(id);
	return !(t < f->since || (f->until >= 0 && t > f->until));
}

/* "<a@b>" and "a@b" name the same Message-ID. */
static bool
same_message_id(const char *have, const char *want)
{
	size_t hn, wn;

	if (have == NULL)
		return false;
	if (*have == '<')
		have++;
	if (*want == '<')
		want++;
	hn = strlen(have);
	wn = strlen(want);
	if (hn > 0 && have[hn - 1] == '>')
		hn--;
	if (wn > 0 && want[wn - 1] == '>')
		wn--;
	return hn == wn && wn > 0 && strncmp(have, want, wn) == 0;
}

static bool
has_symbol(const struct qentry *e, const char *name)
{
	JsonArray *a = jarr(e->root, "symbols");

	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		const char *n = jstr(jarr_obj(a, i), "name");

		if (n && g_ascii_strcasecmp(n, name) == 0)
			return true;
	}
	return false;
}

static bool
has_rcpt_like(const struct qentry *e, const char *text)
{
	JsonArray *a = jarr(jobj(e->root, "envelope"), "rcpts");

	for (guint i = 0; a && i < json_array_get_length(a); i++)
		if (icontains(jarr_str(a, i), text))
			return true;
	return false;
}

bool
qfilter_match(const struct qfilter *f, const struct qentry *e)
{
	JsonObject *env = jobj(e->root, "envelope");

	if (f->has_min && jnum(e->root, "score") < f->min_score)
		return false;
	if (f->released == 1 && e->released == NULL)
		return false;
	if (f->released == 0 && e->released != NULL)
		return false;
	if (f->symbol != NULL && !has_symbol(e, f->symbol))
		return false;
	if (f->from != NULL && !icontains(jstr(env, "from"), f->from) &&
	    !icontains(jstr(jobj(e->root, "headers"), "from"), f->from))
		return false;
	if (f->rcpt != NULL && !has_rcpt_like(e, f->rcpt))
		return false;
	if (f->action != NULL && g_ascii_strcasecmp(jstr_or(e->root,
	    "action", ""), f->action) != 0)
		return false;
	if (f->queue_id != NULL && g_strcmp0(jstr(env, "queue_id"),
	    f->queue_id) != 0)
		return false;
	if (f->message_id != NULL && !same_message_id(jstr(jobj(e->root,
	    "headers"), "message_id"), f->message_id))
		return false;
	return true;
}

/* ---- selection --------------------------------------------------------- */

GPtrArray *
qstore_select(const char *store, const struct qfilter *f, GPtrArray *skipped,
    bool *unreadable, char **why)
{
	struct emf_error err;
	char **ids;
	size_t n;
	GPtrArray *out;

	if (emf_quarantine_list(store, &ids, &n, &err) != EMF_OK) {
		*why = g_strdup(err.msg);
		return NULL;
	}
	out = g_ptr_array_new_with_free_func(qentry_free);
	for (size_t i = 0; i < n; i++) {
		struct qentry *e;
		char *reason = NULL;
		int rc;

		if (!qfilter_match_id(f, ids[i]))
			continue;
		e = g_new0(struct qentry, 1);
		rc = qentry_load(store, ids[i], e, &reason);
		if (rc != EX_DONE) {
			/* Removed meanwhile (NOTFOUND) is not an error. */
			if (rc == EX_STORE)
				*unreadable = true;
			g_ptr_array_add(skipped, reason);
			g_free(e);
			continue;
		}
		if (qfilter_match(f, e))
			g_ptr_array_add(out, e);
		else
			qentry_free(e);
	}
	emf_quarantine_ids_free(ids);
	return out;
}
