/*
 * qioc.c - collecting and writing indicators for emofilter-quarantine ioc
 * (see qioc.h).
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "qioc.h"
#include "qjson.h"
#include "qstore.h"

/* Deeper object trees are not mined (the scanner's own cap is lower). */
#define MAX_OBJECT_DEPTH 64

/* One indicator. */
struct ioc {
	char *entry, *type, *category, *value, *comment;
	bool to_ids;		/* MISP: worth an IDS signature */
};

struct qioc_set {
	GPtrArray *list;	/* struct ioc *, in the order found */
	GHashTable *seen;	/* "entry\ttype\tvalue" */
};

static void
ioc_free(gpointer p)
{
	struct ioc *i = p;

	g_free(i->entry);
	g_free(i->type);
	g_free(i->category);
	g_free(i->value);
	g_free(i->comment);
	g_free(i);
}

struct qioc_set *
qioc_set_new(void)
{
	struct qioc_set *set = g_new0(struct qioc_set, 1);

	set->list = g_ptr_array_new_with_free_func(ioc_free);
	set->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	return set;
}

void
qioc_set_free(struct qioc_set *set)
{
	if (set == NULL)
		return;
	g_ptr_array_free(set->list, TRUE);
	g_hash_table_destroy(set->seen);
	g_free(set);
}

/* ---- collecting -------------------------------------------------------- */

/* Add one indicator unless value is empty or already there for entry. */
static void
ioc_add(struct qioc_set *set, const char *entry, const char *type,
    const char *category, const char *value, bool to_ids,
    const char *comment)
{
	struct ioc *i;
	char *key;

	if (value == NULL || *value == '\0')
		return;
	key = g_strdup_printf("%s\t%s\t%s", entry, type, value);
	if (g_hash_table_contains(set->seen, key)) {
		g_free(key);
		return;
	}
	g_hash_table_add(set->seen, key);
	i = g_new0(struct ioc, 1);
	i->entry = g_strdup(entry);
	i->type = g_strdup(type);
	i->category = g_strdup(category);
	i->value = g_utf8_make_valid(value, -1);
	i->comment = g_strdup(comment ? comment : "");
	i->to_ids = to_ids;
	g_ptr_array_add(set->list, i);
}

/* A URL-ish indicator: "url" when it has a scheme, else "text". */
static void
ioc_url(struct qioc_set *set, const char *entry, const char *value,
    const char *comment)
{
	if (value == NULL)
		return;
	if (strstr(value, "://") != NULL)
		ioc_add(set, entry, "url", "Network activity", value, true,
		    comment);
	else
		ioc_add(set, entry, "text", "Other", value, false, comment);
}

static void
ioc_urls(struct qioc_set *set, const char *entry, JsonArray *a,
    const char *comment)
{
	for (guint i = 0; a && i < json_array_get_length(a); i++)
		ioc_url(set, entry, jarr_str(a, i), comment);
}

/*
 * Hash and name of an object that is a file: named, or inside a
 * container, or not text. Unnamed top-level text is the mail body.
 */
static void
ioc_file(struct qioc_set *set, const char *entry, JsonObject *o, int depth)
{
	const char *path = jstr_or(o, "path", "?");
	const char *name = jstr(o, "name"), *type = jstr(o, "type");
	char *where;

	if (name == NULL && depth == 0 && (type == NULL ||
	    strcmp(type, "text") == 0 || strcmp(type, "html") == 0))
		return;
	where = g_strdup_printf("%s %s%s%s", depth ? "member" : "attachment",
	    path, name ? " " : "", name ? name : "");
	ioc_add(set, entry, "sha256", "Payload delivery", jstr(o, "sha256"),
	    true, where);
	if (name != NULL)
		ioc_add(set, entry, "filename", "Payload delivery", name, false,
		    where);
	g_free(where);
}

/* The password that opened o, and the URLs in its macros, links and text. */
static void
ioc_object_strings(struct qioc_set *set, const char *entry, JsonObject *o)
{
	const char *path = jstr_or(o, "path", "?");
	JsonArray *a = jarr(o, "macros");
	char *where;

	if (jstr(o, "password")) {
		where = g_strdup_printf("archive password opening %s (found in "
		    "%s)", path, jstr_or(o, "password_source", "?"));
		ioc_add(set, entry, "text", "Other", jstr(o, "password"), false,
		    where);
		g_free(where);
	}
	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonObject *m = jarr_obj(a, i);

		where = g_strdup_printf("URL in macro %s of %s",
		    jstr_or(m, "module", "?"), path);
		ioc_urls(set, entry, jarr(m, "urls"), where);
		g_free(where);
	}
	where = g_strdup_printf("external link in %s", path);
	ioc_urls(set, entry, jarr(o, "external_links"), where);
	g_free(where);
	where = g_strdup_printf("URL in %s", path);
	ioc_urls(set, entry, jarr(o, "urls"), where);
	g_free(where);
}

/* An object, then its children. */
static void
ioc_object(struct qioc_set *set, const char *entry, JsonObject *o, int depth)
{
	JsonArray *a;

	if (o == NULL || depth > MAX_OBJECT_DEPTH)
		return;
	ioc_file(set, entry, o, depth);
	ioc_object_strings(set, entry, o);
	a = jarr(o, "children");
	for (guint i = 0; a && i < json_array_get_length(a); i++)
		ioc_object(set, entry, jarr_obj(a, i), depth + 1);
}

/* The display name of "Name <addr>" ("" if none, unquoted); NULL when
 * from has no '<'. Caller frees. */
static char *
display_name_of(const char *from)
{
	const char *lt = from ? strrchr(from, '<') : NULL;
	char *name;
	size_t n;

	if (lt == NULL)
		return NULL;
	name = g_strstrip(g_strndup(from, (gsize)(lt - from)));
	n = strlen(name);
	if (name[0] == '"' && n > 1 && name[n - 1] == '"') {
		name[n - 1] = '\0';
		memmove(name, name + 1, n - 1);
	}
	return name;
}

/* The header sender, then the envelope sender. */
static void
ioc_senders(struct qioc_set *set, const char *id, JsonObject *hdr,
    JsonObject *env)
{
	char *addr = addr_of(jstr(hdr, "from"));
	char *dom = domain_of(addr);
	char *name = display_name_of(jstr(hdr, "from"));
	char *edom = domain_of(jstr(env, "from"));

	ioc_add(set, id, "email-src", "Payload delivery", addr, false,
	    "header From address");
	ioc_add(set, id, "domain", "Payload delivery", dom, false,
	    "header From domain");
	if (name != NULL)
		ioc_add(set, id, "email-src-display-name", "Payload delivery",
		    name, false, "header From display name");
	ioc_add(set, id, "email-src", "Payload delivery", jstr(env, "from"),
	    false, "envelope sender (MAIL FROM)");
	ioc_add(set, id, "domain", "Payload delivery", edom, false,
	    "envelope sender domain");
	g_free(addr);
	g_free(dom);
	g_free(name);
	g_free(edom);
}

/* The SMTP client, then the headers that identify the message. */
static void
ioc_origin(struct qioc_set *set, const char *id, JsonObject *hdr,
    JsonObject *env)
{
	ioc_add(set, id, "ip-src", "Network activity", jstr(env, "client_ip"),
	    false, "SMTP client address");
	ioc_add(set, id, "hostname", "Network activity", jstr(env, "helo"),
	    false, "SMTP HELO/EHLO name");
	ioc_add(set, id, "hostname", "Network activity",
	    jstr(env, "client_name"), false, "SMTP client reverse DNS name");
	ioc_add(set, id, "email-subject", "Payload delivery",
	    jstr(hdr, "subject"), false, "Subject");
	ioc_add(set, id, "email-message-id", "Payload delivery",
	    jstr(hdr, "message_id"), false, "Message-ID");
	ioc_add(set, id, "email-reply-to", "Payload delivery",
	    jstr(hdr, "reply_to"), false, "Reply-To");
}

/* Passwords that opened something (also named per object). */
static void
ioc_passwords(struct qioc_set *set, const char *id, JsonArray *a)
{
	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonObject *p = jarr_obj(a, i);
		char *where;

		if (!jbool(p, "used"))
			continue;
		where = g_strdup_printf("archive password (found in %s)",
		    jstr_or(p, "source", "?"));
		ioc_add(set, id, "text", "Other", jstr(p, "password"), false,
		    where);
		g_free(where);
	}
}

void
qioc_collect(struct qioc_set *set, const struct qentry *e)
{
	JsonObject *env = jobj(e->root, "envelope");
	JsonObject *hdr = jobj(e->root, "headers");
	JsonArray *a = jarr(e->root, "objects");

	ioc_senders(set, e->id, hdr, env);
	ioc_origin(set, e->id, hdr, env);
	for (guint i = 0; a && i < json_array_get_length(a); i++)
		ioc_object(set, e->id, jarr_obj(a, i), 0);
	ioc_passwords(set, e->id, jarr(e->root, "passwords"));
}

/* ---- writing ----------------------------------------------------------- */

/* v in double quotes, inner quotes doubled (RFC 4180). */
static void
csv_field(GString *s, const char *v)
{
	g_string_append_c(s, '"');
	for (const char *p = v; *p; p++) {
		if (*p == '"')
			g_string_append_c(s, '"');
		g_string_append_c(s, *p);
	}
	g_string_append_c(s, '"');
}

static char *
render_csv(const struct qioc_set *set)
{
	GString *s = g_string_new("entry_id,type,category,value,to_ids,"
	    "comment\r\n");

	for (guint i = 0; i < set->list->len; i++) {
		struct ioc *x = g_ptr_array_index(set->list, i);

		csv_field(s, x->entry);
		g_string_append_c(s, ',');
		csv_field(s, x->type);
		g_string_append_c(s, ',');
		csv_field(s, x->category);
		g_string_append_c(s, ',');
		csv_field(s, x->value);
		g_string_append(s, x->to_ids ? ",1," : ",0,");
		csv_field(s, x->comment);
		g_string_append(s, "\r\n");
	}
	return g_string_free(s, FALSE);
}

/* A MISP attribute. */
static void
add_attribute(JsonBuilder *b, const struct ioc *x)
{
	json_builder_begin_object(b);
	qjson_add_string_member(b, "type", x->type);
	qjson_add_string_member(b, "category", x->category);
	qjson_add_string_member(b, "value", x->value);
	json_builder_set_member_name(b, "to_ids");
	json_builder_add_boolean_value(b, x->to_ids);
	qjson_add_string_member(b, "comment", x->comment);
	qjson_add_string_member(b, "entry_id", x->entry);
	json_builder_end_object(b);
}

/* A URLhaus submission entry. */
static void
add_urlhaus(JsonBuilder *b, const struct ioc *x)
{
	json_builder_begin_object(b);
	qjson_add_string_member(b, "url", x->value);
	qjson_add_string_member(b, "threat", "malware_download");
	json_builder_set_member_name(b, "tags");
	json_builder_begin_array(b);
	json_builder_add_string_value(b, "emofilter");
	json_builder_end_array(b);
	json_builder_end_object(b);
}

static char *
render_json(const struct qioc_set *set, bool urlhaus)
{
	JsonBuilder *b = json_builder_new();
	char *text, *out;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, urlhaus ? "submission" : "Attribute");
	json_builder_begin_array(b);
	for (guint i = 0; i < set->list->len; i++) {
		struct ioc *x = g_ptr_array_index(set->list, i);

		if (!urlhaus)
			add_attribute(b, x);
		else if (strcmp(x->type, "url") == 0)
			add_urlhaus(b, x);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	text = qjson_finish(b, true);
	out = g_strconcat(text, "\n", NULL);
	g_free(text);
	return out;
}

char *
qioc_render(const struct qioc_set *set, enum qioc_format fmt)
{
	return fmt == QIOC_CSV ? render_csv(set) :
	    render_json(set, fmt == QIOC_URLHAUS);
}

const char *
qioc_format_name(enum qioc_format fmt)
{
	return fmt == QIOC_CSV ? "csv" : fmt == QIOC_URLHAUS ? "urlhaus" :
	    "json";
}
