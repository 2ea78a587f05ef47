/*
 * reportutil.h - helpers for suites that look inside a report's JSON and
 * build mails with attachments (header-only; used by check_passwords and
 * check_archive).
 */
#ifndef EMF_REPORTUTIL_H
#define EMF_REPORTUTIL_H

#include <json-glib/json-glib.h>

#include "testutil.h"

/* The report as a parsed JSON tree (json_node_unref). */
static inline JsonNode *
ru_json(const struct emf_report *r)
{
	char *s = emf_report_json(r, false);
	JsonParser *p = json_parser_new();
	JsonNode *n;

	ck_assert_msg(json_parser_load_from_data(p, s, -1, NULL),
	    "report is not JSON: %s", s);
	n = json_node_copy(json_parser_get_root(p));
	g_object_unref(p);
	emf_free(s);
	return n;
}

static inline JsonObject *
ru_find_in(JsonArray *objs, const char *suffix)
{
	for (guint i = 0; objs != NULL && i < json_array_get_length(objs); i++) {
		JsonObject *o = json_array_get_object_element(objs, i);
		const char *path = json_object_get_string_member(o, "path");
		JsonObject *c;

		if (path != NULL && g_str_has_suffix(path, suffix))
			return o;
		if (json_object_has_member(o, "children") &&
		    (c = ru_find_in(json_object_get_array_member(o,
		    "children"), suffix)) != NULL)
			return c;
	}
	return NULL;
}

/* The object whose path ends with suffix, or NULL (borrowed from root). */
static inline JsonObject *
ru_object(JsonNode *root, const char *suffix)
{
	return ru_find_in(json_object_get_array_member(
	    json_node_get_object(root), "objects"), suffix);
}

/* A string member, or "" when absent or null. */
static inline const char *
ru_str(JsonObject *o, const char *member)
{
	JsonNode *n;

	if (o == NULL || !json_object_has_member(o, member))
		return "";
	n = json_object_get_member(o, member);
	if (JSON_NODE_HOLDS_NULL(n))
		return "";
	return json_node_get_string(n);
}

static inline gint64
ru_int(JsonObject *o, const char *member)
{
	return o != NULL && json_object_has_member(o, member) ?
	    json_object_get_int_member(o, member) : -1;
}

static inline bool
ru_bool(JsonObject *o, const char *member)
{
	return o != NULL && json_object_has_member(o, member) &&
	    json_object_get_boolean_member(o, member);
}

static inline guint
ru_nchildren(JsonObject *o)
{
	return o != NULL && json_object_has_member(o, "children") ?
	    json_array_get_length(json_object_get_array_member(o,
	    "children")) : 0;
}

/* Whether limits_hit holds name. */
static inline bool
ru_limit(JsonNode *root, const char *name)
{
	JsonArray *a = json_object_get_array_member(
	    json_node_get_object(root), "limits_hit");

	for (guint i = 0; a != NULL && i < json_array_get_length(a); i++)
		if (strcmp(json_array_get_string_element(a, i), name) == 0)
			return true;
	return false;
}

/* All detail lines of a symbol joined by " | " (g_free), "" if absent. */
static inline char *
ru_details(JsonNode *root, const char *symbol)
{
	JsonArray *a = json_object_get_array_member(
	    json_node_get_object(root), "symbols");
	GString *s = g_string_new(NULL);

	for (guint i = 0; a != NULL && i < json_array_get_length(a); i++) {
		JsonObject *o = json_array_get_object_element(a, i);
		JsonArray *h;

		if (strcmp(json_object_get_string_member(o, "name"),
		    symbol) != 0)
			continue;
		h = json_object_get_array_member(o, "hits");
		for (guint j = 0; h != NULL && j < json_array_get_length(h);
		    j++) {
			JsonObject *x = json_array_get_object_element(h, j);

			g_string_append_printf(s, "%s%s", s->len ? " | " : "",
			    ru_str(x, "detail"));
		}
	}
	return g_string_free(s, FALSE);
}

/*
 * A mail with a UTF-8 text body and, if data is not NULL, one base64
 * attachment (g_free).
 */
static inline char *
ru_mail(const char *subject, const char *body, const char *name,
    const void *data, size_t len)
{
	GString *m = g_string_new(NULL);

	g_string_append_printf(m,
	    "From: Sender <sender@example.co.jp>\r\n"
	    "To: rcpt@example.com\r\n"
	    "Subject: %s\r\n"
	    "Message-ID: <t@example.co.jp>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
	    "--BB\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n",
	    subject, body);
	if (data != NULL) {
		char *b64 = g_base64_encode(data, len);
		size_t n = strlen(b64);

		g_string_append_printf(m, "--BB\r\n"
		    "Content-Type: application/zip; name=\"%s\"\r\n"
		    "Content-Disposition: attachment; filename=\"%s\"\r\n"
		    "Content-Transfer-Encoding: base64\r\n\r\n", name, name);
		for (size_t i = 0; i < n; i += 76) {
			g_string_append_len(m, b64 + i, MIN(76, n - i));
			g_string_append(m, "\r\n");
		}
		g_free(b64);
	}
	g_string_append(m, "--BB--\r\n");
	return g_string_free(m, FALSE);
}

/* Scan a mail made by ru_mail(); returns the parsed report. */
static inline JsonNode *
ru_scan_mail(struct emf_engine *e, const char *subject, const char *body,
    const char *name, const void *data, size_t len, struct emf_report **rp)
{
	char *m = ru_mail(subject, body, name, data, len);
	struct emf_report *r = tu_scan(e, m);
	JsonNode *n = ru_json(r);

	g_free(m);
	if (rp != NULL)
		*rp = r;
	else
		emf_report_free(r);
	return n;
}

#endif /* EMF_REPORTUTIL_H */
