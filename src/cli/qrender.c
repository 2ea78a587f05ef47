/*
 * qrender.c - the list and show output of emofilter-quarantine (see
 * qrender.h).
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "qjson.h"
#include "qrender.h"
#include "qsafe.h"
#include "qstore.h"

/* Deeper object trees are not shown (the scanner's own cap is lower). */
#define MAX_SHOW_DEPTH 64

/* ---- list -------------------------------------------------------------- */

/* "NAME(score) NAME(score) NAME(score) +k": the first n (the report lists
 * symbols highest score first). */
static char *
top_symbols(const struct qentry *e, guint n)
{
	JsonArray *a = jarr(e->root, "symbols");
	GString *s = g_string_new(NULL);

	for (guint i = 0; a && i < json_array_get_length(a) && i < n; i++) {
		JsonObject *o = jarr_obj(a, i);

		if (s->len)
			g_string_append_c(s, ' ');
		safe_append(s, jstr(o, "name"));
		g_string_append_printf(s, "(%g)", jnum(o, "score"));
	}
	if (a && json_array_get_length(a) > n)
		g_string_append_printf(s, " +%u",
		    json_array_get_length(a) - n);
	return g_string_free(s, FALSE);
}

char *
qrender_list_line(const struct qentry *e)
{
	char *from = qentry_sender(e);
	char *sfrom = safe_cut(from ? from : "<>", 40);
	char *srcpt = safe_cut(qentry_first_rcpt(e), 40);
	char *subj = safe_cut(jstr(jobj(e->root, "headers"), "subject"), 60);
	char *syms = top_symbols(e, 3);
	char *t = iso_time(id_time(e->id));
	char *act = safe_dup(jstr(e->root, "action"));
	char *line;

	line = g_strdup_printf("%s  %s  %6.2f  %-10s  %-8s  %s  %s  %s  %s\n",
	    e->id, t, jnum(e->root, "score"), act,
	    e->released ? "released" : "pending", sfrom, srcpt, subj, syms);
	g_free(from);
	g_free(sfrom);
	g_free(srcpt);
	g_free(subj);
	g_free(syms);
	g_free(t);
	g_free(act);
	return line;
}

const char *
qrender_list_header(void)
{
	/* Aligned over the fixed-width fields of qrender_list_line(). */
	return "ID                         TIME (UTC)             SCORE  "
	    "ACTION      STATUS    SENDER  RECIPIENT  SUBJECT  SYMBOLS\n";
}

/* Member name: the strings of a (other elements left out). */
static void
add_strings_member(JsonBuilder *b, const char *name, JsonArray *a)
{
	json_builder_set_member_name(b, name);
	json_builder_begin_array(b);
	for (guint j = 0; a && j < json_array_get_length(a); j++)
		if (jarr_str(a, j))
			json_builder_add_string_value(b, jarr_str(a, j));
	json_builder_end_array(b);
}

/* Member name: the "name" of each object of a that has one. */
static void
add_names_member(JsonBuilder *b, const char *name, JsonArray *a)
{
	json_builder_set_member_name(b, name);
	json_builder_begin_array(b);
	for (guint j = 0; a && j < json_array_get_length(a); j++)
		if (jstr(jarr_obj(a, j), "name"))
			json_builder_add_string_value(b,
			    jstr(jarr_obj(a, j), "name"));
	json_builder_end_array(b);
}

static void
list_json_entry(JsonBuilder *b, const struct qentry *e)
{
	JsonObject *env = jobj(e->root, "envelope");
	JsonObject *hdr = jobj(e->root, "headers");

	json_builder_begin_object(b);
	qjson_add_string_member(b, "id", e->id);
	qjson_add_string_member(b, "time", jstr(e->root, "time"));
	json_builder_set_member_name(b, "score");
	json_builder_add_double_value(b, jnum(e->root, "score"));
	qjson_add_string_member(b, "action", jstr(e->root, "action"));
	qjson_add_string_member(b, "policy", jstr(e->root, "policy"));
	json_builder_set_member_name(b, "released");
	json_builder_add_boolean_value(b, e->released != NULL);
	qjson_add_string_member(b, "envelope_from", jstr(env, "from"));
	qjson_add_string_member(b, "from", jstr(hdr, "from"));
	add_strings_member(b, "rcpts", jarr(env, "rcpts"));
	qjson_add_string_member(b, "subject", jstr(hdr, "subject"));
	add_names_member(b, "symbols", jarr(e->root, "symbols"));
	json_builder_end_object(b);
}

char *
qrender_list_json(GPtrArray *entries)
{
	JsonBuilder *b = json_builder_new();

	json_builder_begin_array(b);
	for (guint i = 0; i < entries->len; i++)
		list_json_entry(b, g_ptr_array_index(entries, i));
	json_builder_end_array(b);
	return qjson_finish(b, false);
}

/* ---- show: fields ------------------------------------------------------ */

/* "label          value" at indent; nothing when val is NULL. */
static void
show_field(GString *s, int indent, const char *label, const char *val)
{
	if (val == NULL)
		return;
	g_string_append_printf(s, "%*s%-14s ", indent, "", label);
	safe_append(s, val);
	g_string_append_c(s, '\n');
}

/* "label          a, b, c"; nothing for an empty array. */
static void
show_strarray(GString *s, int indent, const char *label, JsonArray *a)
{
	guint n = a ? json_array_get_length(a) : 0;

	if (n == 0)
		return;
	g_string_append_printf(s, "%*s%-14s ", indent, "", label);
	for (guint i = 0; i < n; i++) {
		if (i)
			g_string_append(s, ", ");
		safe_append(s, jarr_str(a, i) ? jarr_str(a, i) : "?");
	}
	g_string_append_c(s, '\n');
}

/* ---- show: objects ----------------------------------------------------- */

/* Keys show_object() prints itself; any other key is printed generically. */
static bool
known_object_key(const char *k)
{
	static const char *const known[] = { "path", "name", "type",
		"mime_type", "size", "declared_size", "truncated", "sha256",
		"encrypted", "encryption", "password", "password_source",
		"format", "error", "vba_sha256", "macros", "xlm_sheets",
		"external_links", "urls", "lure", "yara", "children", NULL };

	for (size_t i = 0; known[i]; i++)
		if (strcmp(k, known[i]) == 0)
			return true;
	return false;
}

/* A member this tool does not know: strings, numbers, true, arrays. */
static void
show_generic(GString *s, int indent, JsonObject *o, const char *key)
{
	JsonNode *n = json_object_get_member(o, key);

	if (n == NULL || JSON_NODE_HOLDS_NULL(n))
		return;
	if (JSON_NODE_HOLDS_ARRAY(n)) {
		show_strarray(s, indent, key, json_node_get_array(n));
	} else if (JSON_NODE_HOLDS_VALUE(n)) {
		GType t = json_node_get_value_type(n);

		if (t == G_TYPE_STRING) {
			show_field(s, indent, key, json_node_get_string(n));
		} else if (t == G_TYPE_BOOLEAN) {
			if (json_node_get_boolean(n))
				show_field(s, indent, key, "yes");
		} else {
			char *v = g_strdup_printf("%g", jnum(o, key));

			show_field(s, indent, key, v);
			g_free(v);
		}
	}
}

/* Fields added by modules this tool does not know yet, by name. */
static void
show_unknown_fields(GString *s, int indent, JsonObject *o)
{
	GList *members = json_object_get_members(o);

	members = g_list_sort(members, (GCompareFunc)strcmp);
	for (GList *l = members; l; l = l->next)
		if (!known_object_key(l->data))
			show_generic(s, indent, o, l->data);
	g_list_free(members);
}

/* "path  name  type  N bytes (truncated)" */
static void
show_object_title(GString *s, int indent, JsonObject *o)
{
	g_string_append_printf(s, "%*s", indent, "");
	safe_append(s, jstr_or(o, "path", "?"));
	g_string_append(s, "  ");
	safe_append(s, jstr_or(o, "name", "(no name)"));
	g_string_append(s, "  ");
	safe_append(s, jstr_or(o, "type", "?"));
	g_string_append_printf(s, "  %.0f bytes", jnum(o, "size"));
	if (jbool(o, "truncated"))
		g_string_append(s, " (truncated)");
	g_string_append_c(s, '\n');
}

/* Hash, type, size, encryption, password, errors. */
static void
show_object_facts(GString *s, int indent, JsonObject *o)
{
	char *v;

	show_field(s, indent, "sha256", jstr(o, "sha256"));
	show_field(s, indent, "mime type", jstr(o, "mime_type"));
	if (jnum(o, "declared_size") > 0) {
		v = g_strdup_printf("%.0f bytes", jnum(o, "declared_size"));
		show_field(s, indent, "declared size", v);
		g_free(v);
	}
	show_field(s, indent, "format", jstr(o, "format"));
	if (jbool(o, "encrypted"))
		show_field(s, indent, "encrypted",
		    jstr_or(o, "encryption", "yes"));
	if (jstr(o, "password")) {
		v = g_strdup_printf("%s (from %s)", jstr(o, "password"),
		    jstr_or(o, "password_source", "?"));
		show_field(s, indent, "password", v);
		g_free(v);
	}
	show_field(s, indent, "error", jstr(o, "error"));
	show_field(s, indent, "vba sha256", jstr(o, "vba_sha256"));
}

static void
show_macros(GString *s, int indent, JsonArray *a)
{
	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonObject *m = jarr_obj(a, i);

		show_field(s, indent, "macro", jstr_or(m, "module", "?"));
		show_field(s, indent + 2, "sha256", jstr(m, "sha256"));
		show_strarray(s, indent + 2, "autoexec", jarr(m, "autoexec"));
		show_strarray(s, indent + 2, "suspicious",
		    jarr(m, "suspicious"));
		show_strarray(s, indent + 2, "urls", jarr(m, "urls"));
	}
}

/* An object and, indented below it, its children. */
static void
show_object(GString *s, JsonObject *o, int indent, int depth)
{
	JsonArray *a;

	if (o == NULL || depth > MAX_SHOW_DEPTH)
		return;
	show_object_title(s, indent, o);
	indent += 4;
	show_object_facts(s, indent, o);
	show_macros(s, indent, jarr(o, "macros"));
	show_strarray(s, indent, "xlm sheets", jarr(o, "xlm_sheets"));
	show_strarray(s, indent, "ext. links", jarr(o, "external_links"));
	show_strarray(s, indent, "urls", jarr(o, "urls"));
	show_strarray(s, indent, "lure", jarr(o, "lure"));
	show_strarray(s, indent, "yara", jarr(o, "yara"));
	show_unknown_fields(s, indent, o);
	a = jarr(o, "children");
	for (guint i = 0; a && i < json_array_get_length(a); i++)
		show_object(s, jarr_obj(a, i), indent, depth + 1);
}

/* ---- show: the report -------------------------------------------------- */

/* "released TIME by WHO to A, B", or "pending". */
static void
show_status(GString *s, const struct qentry *e)
{
	GString *r;
	JsonArray *to;

	if (e->released == NULL) {
		show_field(s, 0, "Status", "pending");
		return;
	}
	r = g_string_new(NULL);
	to = jarr(e->released, "to");
	g_string_append_printf(r, "released %s by %s to ",
	    jstr_or(e->released, "time", "?"), jstr_or(e->released, "by", "?"));
	for (guint i = 0; to && i < json_array_get_length(to); i++)
		g_string_append_printf(r, "%s%s", i ? ", " : "",
		    jarr_str(to, i) ? jarr_str(to, i) : "?");
	show_field(s, 0, "Status", r->str);
	g_string_free(r, TRUE);
}

static void
show_summary(GString *s, const struct qentry *e)
{
	char *v;

	g_string_append_printf(s, "Entry          %s\n", e->id);
	show_field(s, 0, "Time", jstr(e->root, "time"));
	v = g_strdup_printf("%.2f (%s)", jnum(e->root, "score"),
	    jstr_or(e->root, "action", "?"));
	show_field(s, 0, "Score", v);
	g_free(v);
	show_field(s, 0, "Policy", jstr(e->root, "policy"));
	show_status(s, e);
}

static void
show_envelope(GString *s, JsonObject *env)
{
	const char *from = jstr(env, "from");

	g_string_append(s, "\nEnvelope\n");
	show_field(s, 2, "queue id", jstr(env, "queue_id"));
	show_field(s, 2, "client ip", jstr(env, "client_ip"));
	show_field(s, 2, "client name", jstr(env, "client_name"));
	show_field(s, 2, "helo", jstr(env, "helo"));
	show_field(s, 2, "auth user", jstr(env, "auth_user"));
	show_field(s, 2, "sender", from && *from == '\0' ? "<>" : from);
	show_strarray(s, 2, "recipients", jarr(env, "rcpts"));
}

static void
show_headers(GString *s, JsonObject *hdr)
{
	g_string_append(s, "\nHeaders\n");
	show_field(s, 2, "From", jstr(hdr, "from"));
	show_field(s, 2, "To", jstr(hdr, "to"));
	show_field(s, 2, "Subject", jstr(hdr, "subject"));
	show_field(s, 2, "Date", jstr(hdr, "date"));
	show_field(s, 2, "Message-ID", jstr(hdr, "message_id"));
	show_field(s, 2, "Reply-To", jstr(hdr, "reply_to"));
	show_field(s, 2, "Return-Path", jstr(hdr, "return_path"));
	show_field(s, 2, "In-Reply-To", jstr(hdr, "in_reply_to"));
}

/* One symbol: name, score, count, then each hit (or its one detail). */
static void
show_symbol(GString *s, JsonObject *o)
{
	JsonArray *hits = jarr(o, "hits");

	g_string_append(s, "  ");
	safe_append(s, jstr(o, "name"));
	g_string_append_printf(s, "  %.2f", jnum(o, "score"));
	if (jnum(o, "count") > 1)
		g_string_append_printf(s, "  (%.0f hits)", jnum(o, "count"));
	g_string_append_c(s, '\n');
	if (hits == NULL || json_array_get_length(hits) == 0) {
		show_field(s, 6, "detail", jstr(o, "detail"));
		show_field(s, 6, "object", jstr(o, "object"));
	}
	for (guint j = 0; hits && j < json_array_get_length(hits); j++) {
		JsonObject *h = jarr_obj(hits, j);

		g_string_append(s, "      - ");
		safe_append(s, jstr_or(h, "detail", ""));
		if (jstr(h, "object")) {
			g_string_append(s, "  [");
			safe_append(s, jstr(h, "object"));
			g_string_append_c(s, ']');
		}
		g_string_append_c(s, '\n');
	}
}

static void
show_passwords(GString *s, JsonArray *a)
{
	if (a == NULL || json_array_get_length(a) == 0)
		return;
	g_string_append(s, "\nPassword candidates\n");
	for (guint i = 0; i < json_array_get_length(a); i++) {
		JsonObject *p = jarr_obj(a, i);

		g_string_append(s, "  ");
		safe_append(s, jstr(p, "password"));
		g_string_append(s, "  (");
		safe_append(s, jstr(p, "source"));
		g_string_append_printf(s, ")%s\n", jbool(p, "used") ?
		    "  used" : "");
	}
}

/* The held mail's transitions (ID.history), one line each. */
static void
show_history(GString *s, const char *history)
{
	char **lines;

	if (history == NULL || *history == '\0')
		return;
	g_string_append(s, "\nHistory\n");
	lines = g_strsplit(history, "\n", 0);
	for (size_t i = 0; lines[i] != NULL; i++) {
		if (*lines[i] == '\0')
			continue;
		g_string_append(s, "  ");
		safe_append(s, lines[i]);
		g_string_append_c(s, '\n');
	}
	g_strfreev(lines);
}

char *
qrender_show(const struct qentry *e)
{
	GString *s = g_string_new(NULL);
	JsonArray *a;

	show_summary(s, e);
	show_envelope(s, jobj(e->root, "envelope"));
	show_headers(s, jobj(e->root, "headers"));
	g_string_append(s, "\nSymbols\n");
	a = jarr(e->root, "symbols");
	for (guint i = 0; a && i < json_array_get_length(a); i++)
		show_symbol(s, jarr_obj(a, i));
	show_passwords(s, jarr(e->root, "passwords"));
	g_string_append(s, "\nObjects\n");
	a = jarr(e->root, "objects");
	for (guint i = 0; a && i < json_array_get_length(a); i++)
		show_object(s, jarr_obj(a, i), 2, 0);
	/* The label carries the blank line before it (padding counts it). */
	show_strarray(s, 0, "\nLimits hit", jarr(e->root, "limits_hit"));
	g_string_append_printf(s, "\nScan time      %.0f ms\n",
	    jnum(e->root, "scan_ms"));
	show_history(s, e->history);
	return g_string_free(s, FALSE);
}
