/*
 * qioc.c - collecting and writing indicators for emofilter-quarantine ioc
 * (see qioc.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <json-glib/json-glib.h>

#include "qhash.h"
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
	GPtrArray *own;		/* char *: our domains, lower-case */
	GHashTable *hashes;	/* during qioc_collect_files(), or NULL */
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
	set->own = g_ptr_array_new_with_free_func(g_free);
	return set;
}

void
qioc_set_own_domain(struct qioc_set *set, const char *domain)
{
	const char *d = domain;

	while (*d == '.' || *d == '@')
		d++;
	if (*d != '\0')
		g_ptr_array_add(set->own, g_ascii_strdown(d, -1));
}

/* ---- what is not worth sharing ----------------------------------------- */

static bool
v4_local(const unsigned char *a)
{
	return a[0] == 127 || a[0] == 10 || a[0] == 0 ||
	    (a[0] == 172 && (a[1] & 0xf0) == 16) ||
	    (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254) ||
	    (a[0] == 192 && a[1] == 0 && a[2] == 2) ||
	    (a[0] == 198 && a[1] == 51 && a[2] == 100) ||
	    (a[0] == 203 && a[1] == 0 && a[2] == 113);
}

/* Whether s is an IP address we do not share; *is_ip whether an IP. */
static bool
ip_local(const char *s, bool *is_ip)
{
	unsigned char a[16];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0xff, 0xff };
	char buf[64];
	size_t n = strlen(s);

	*is_ip = false;
	/* "[2001:db8::1]" in URLs and address literals. */
	if (n >= 2 && n < sizeof(buf) && s[0] == '[' && s[n - 1] == ']') {
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		s = buf;
	}
	if (inet_pton(AF_INET, s, a) == 1) {
		*is_ip = true;
		return v4_local(a);
	}
	if (inet_pton(AF_INET6, s, a) != 1)
		return false;
	*is_ip = true;
	if (memcmp(a, mapped, 12) == 0)
		return v4_local(a + 12);
	for (n = 0; n < 15 && a[n] == 0; n++)
		;
	if (n == 15 && a[15] <= 1)	/* :: and ::1 */
		return true;
	return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) ==
	    0x80) || (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d &&
	    a[3] == 0xb8);
}

/* Whether host is d or below it. */
static bool
host_under(const char *host, const char *d)
{
	size_t h = strlen(host), n = strlen(d);

	return h >= n && strcmp(host + h - n, d) == 0 &&
	    (h == n || host[h - n - 1] == '.');
}

static bool
host_local(const struct qioc_set *set, const char *host_in)
{
	static const char *const reserved[] = { "localhost", "example.com",
		"example.net", "example.org", NULL };
	char *host = g_ascii_strdown(host_in, -1);
	size_t n = strlen(host);
	bool is_ip, r = false;

	while (n > 0 && host[n - 1] == '.')
		host[--n] = '\0';
	r = ip_local(host, &is_ip);
	if (is_ip) {
		g_free(host);
		return r;
	}
	for (size_t i = 0; reserved[i] && !r; i++)
		r = host_under(host, reserved[i]);
	for (guint i = 0; set->own && i < set->own->len && !r; i++)
		r = host_under(host, g_ptr_array_index(set->own, i));
	g_free(host);
	return r;
}

/* The host of a URL ("scheme://user@host:port/path"), or NULL. */
static char *
url_host(const char *url)
{
	const char *p = strstr(url, "://"), *end, *at;
	char *h, *c;

	if (p == NULL)
		return NULL;
	p += 3;
	end = p + strcspn(p, "/?#\\");
	for (at = p; at < end; at++)
		if (*at == '@')
			p = at + 1;
	h = g_strndup(p, (gsize)(end - p));
	if (h[0] == '[') {
		if ((c = strchr(h, ']')) != NULL)
			c[1] = '\0';
	} else if ((c = strrchr(h, ':')) != NULL) {
		*c = '\0';
	}
	return h;
}

bool
qioc_is_local(const struct qioc_set *set, const char *type,
    const char *value)
{
	const char *at;
	char *host;
	bool r, is_ip;

	if (strcmp(type, "ip-src") == 0 || strcmp(type, "ip-dst") == 0)
		return ip_local(value, &is_ip);
	if (strcmp(type, "domain") == 0 || strcmp(type, "hostname") == 0)
		return host_local(set, value);
	if (strcmp(type, "email-src") == 0 ||
	    strcmp(type, "email-reply-to") == 0) {
		at = strrchr(value, '@');
		return at != NULL && host_local(set, at + 1);
	}
	if (strcmp(type, "url") == 0) {
		if ((host = url_host(value)) == NULL)
			return false;
		r = *host != '\0' && host_local(set, host);
		g_free(host);
		return r;
	}
	return false;
}

void
qioc_set_free(struct qioc_set *set)
{
	if (set == NULL)
		return;
	g_ptr_array_free(set->list, TRUE);
	g_hash_table_destroy(set->seen);
	g_ptr_array_free(set->own, TRUE);
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

	if (value == NULL || *value == '\0' ||
	    qioc_is_local(set, type, value))
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
	const struct qhash *h;
	char *where;

	if (name == NULL && depth == 0 && (type == NULL ||
	    strcmp(type, "text") == 0 || strcmp(type, "html") == 0))
		return;
	where = g_strdup_printf("%s %s%s%s", depth ? "member" : "attachment",
	    path, name ? " " : "", name ? name : "");
	ioc_add(set, entry, "sha256", "Payload delivery", jstr(o, "sha256"),
	    true, where);
	if (set->hashes != NULL && jstr(o, "sha256") != NULL &&
	    (h = g_hash_table_lookup(set->hashes, jstr(o, "sha256")))) {
		ioc_add(set, entry, "md5", "Payload delivery", h->md5, true,
		    where);
		ioc_add(set, entry, "sha1", "Payload delivery", h->sha1, true,
		    where);
	}
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

void
qioc_collect_files(struct qioc_set *set, const struct qentry *e,
    GHashTable *hashes)
{
	set->hashes = hashes;
	qioc_collect(set, e);
	set->hashes = NULL;
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

/* ---- STIX 2.1 ----------------------------------------------------------- */

/* The STIX pattern of an indicator, or NULL for a type STIX gets none. */
static char *
stix_pattern(const struct ioc *x)
{
	static const struct {
		const char *type, *path;
	} map[] = {
		{ "sha256", "file:hashes.'SHA-256'" },
		{ "sha1", "file:hashes.'SHA-1'" },
		{ "md5", "file:hashes.MD5" },
		{ "filename", "file:name" },
		{ "url", "url:value" },
		{ "email-src", "email-addr:value" },
		{ "domain", "domain-name:value" },
		{ "hostname", "domain-name:value" },
		{ "email-subject", "email-message:subject" },
	};
	const char *path = NULL;
	GString *s;
	bool is_ip;

	for (size_t i = 0; i < G_N_ELEMENTS(map) && !path; i++)
		if (strcmp(x->type, map[i].type) == 0)
			path = map[i].path;
	if (strcmp(x->type, "ip-src") == 0 && ip_local(x->value, &is_ip) ==
	    false && is_ip)
		path = strchr(x->value, ':') ? "ipv6-addr:value" :
		    "ipv4-addr:value";
	if (path == NULL)
		return NULL;
	/* A string literal in a pattern escapes \ and ' with \. */
	s = g_string_new(NULL);
	g_string_append_printf(s, "[%s = '", path);
	for (const char *p = x->value; *p; p++) {
		if (*p == '\\' || *p == '\'')
			g_string_append_c(s, '\\');
		g_string_append_c(s, *p);
	}
	g_string_append(s, "']");
	return g_string_free(s, FALSE);
}

static char *
stix_id(const char *type)
{
	char *u = g_uuid_string_random(), *id = g_strconcat(type, "--", u,
	    NULL);

	g_free(u);
	return id;
}

/* "2026-12-03T11:00:00.000Z" */
static char *
stix_now(void)
{
	GDateTime *d = g_date_time_new_now_utc();
	char *s = g_date_time_format(d, "%Y-%m-%dT%H:%M:%S.000Z");

	g_date_time_unref(d);
	return s;
}

static void
stix_identity(JsonBuilder *b, const char *id, const char *now)
{
	json_builder_begin_object(b);
	qjson_add_string_member(b, "type", "identity");
	qjson_add_string_member(b, "spec_version", "2.1");
	qjson_add_string_member(b, "id", id);
	qjson_add_string_member(b, "created", now);
	qjson_add_string_member(b, "modified", now);
	qjson_add_string_member(b, "name", "emofilter");
	qjson_add_string_member(b, "identity_class", "system");
	json_builder_end_object(b);
}

static void
stix_indicator(JsonBuilder *b, const struct ioc *x, const char *pattern,
    const char *creator, const char *now)
{
	char *id = stix_id("indicator"), *name;

	name = g_strdup_printf("%s %s", x->type, x->value);
	json_builder_begin_object(b);
	qjson_add_string_member(b, "type", "indicator");
	qjson_add_string_member(b, "spec_version", "2.1");
	qjson_add_string_member(b, "id", id);
	qjson_add_string_member(b, "created_by_ref", creator);
	qjson_add_string_member(b, "created", now);
	qjson_add_string_member(b, "modified", now);
	qjson_add_string_member(b, "name", name);
	qjson_add_string_member(b, "description", x->comment);
	json_builder_set_member_name(b, "indicator_types");
	json_builder_begin_array(b);
	json_builder_add_string_value(b, "malicious-activity");
	json_builder_end_array(b);
	qjson_add_string_member(b, "pattern", pattern);
	qjson_add_string_member(b, "pattern_type", "stix");
	qjson_add_string_member(b, "pattern_version", "2.1");
	qjson_add_string_member(b, "valid_from", now);
	json_builder_set_member_name(b, "labels");
	json_builder_begin_array(b);
	json_builder_add_string_value(b, "emofilter");
	json_builder_end_array(b);
	json_builder_set_member_name(b, "x_emofilter_entry_id");
	json_builder_add_string_value(b, x->entry);
	json_builder_end_object(b);
	g_free(id);
	g_free(name);
}

/* One indicator per pattern (the first entry that gave it). */
static char *
render_stix(const struct qioc_set *set)
{
	JsonBuilder *b = json_builder_new();
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	char *now = stix_now(), *bid = stix_id("bundle");
	char *creator = stix_id("identity"), *text, *out;

	json_builder_begin_object(b);
	qjson_add_string_member(b, "type", "bundle");
	qjson_add_string_member(b, "id", bid);
	json_builder_set_member_name(b, "objects");
	json_builder_begin_array(b);
	stix_identity(b, creator, now);
	for (guint i = 0; i < set->list->len; i++) {
		struct ioc *x = g_ptr_array_index(set->list, i);
		char *pat = stix_pattern(x);

		if (pat == NULL)
			continue;
		if (g_hash_table_contains(seen, pat)) {
			g_free(pat);
			continue;
		}
		stix_indicator(b, x, pat, creator, now);
		g_hash_table_add(seen, pat);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	text = qjson_finish(b, true);
	out = g_strconcat(text, "\n", NULL);
	g_free(text);
	g_free(now);
	g_free(bid);
	g_free(creator);
	g_hash_table_destroy(seen);
	return out;
}

/* ---- MISP event ---------------------------------------------------------- */

static void
misp_attribute(JsonBuilder *b, const struct ioc *x)
{
	char *u = g_uuid_string_random();
	char *comment = g_strdup_printf("%s (entry %s)", x->comment,
	    x->entry);

	json_builder_begin_object(b);
	qjson_add_string_member(b, "uuid", u);
	qjson_add_string_member(b, "type", x->type);
	qjson_add_string_member(b, "category", x->category);
	qjson_add_string_member(b, "value", x->value);
	json_builder_set_member_name(b, "to_ids");
	json_builder_add_boolean_value(b, x->to_ids);
	qjson_add_string_member(b, "distribution", "5");
	qjson_add_string_member(b, "comment", comment);
	json_builder_end_object(b);
	g_free(u);
	g_free(comment);
}

/* One event; an attribute once per type and value. */
static char *
render_misp(const struct qioc_set *set)
{
	JsonBuilder *b = json_builder_new();
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	GDateTime *d = g_date_time_new_now_utc();
	char *date = g_date_time_format(d, "%Y-%m-%d"), *u, *text, *out;
	char *ts = g_strdup_printf("%ld", (long)time(NULL));

	u = g_uuid_string_random();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "Event");
	json_builder_begin_object(b);
	qjson_add_string_member(b, "uuid", u);
	qjson_add_string_member(b, "info", "emofilter quarantine: Emotet-"
	    "style malspam indicators");
	qjson_add_string_member(b, "date", date);
	qjson_add_string_member(b, "timestamp", ts);
	qjson_add_string_member(b, "threat_level_id", "2");
	qjson_add_string_member(b, "analysis", "2");
	qjson_add_string_member(b, "distribution", "0");
	json_builder_set_member_name(b, "published");
	json_builder_add_boolean_value(b, false);
	json_builder_set_member_name(b, "Tag");
	json_builder_begin_array(b);
	json_builder_begin_object(b);
	qjson_add_string_member(b, "name", "emofilter");
	json_builder_end_object(b);
	json_builder_end_array(b);
	json_builder_set_member_name(b, "Attribute");
	json_builder_begin_array(b);
	for (guint i = 0; i < set->list->len; i++) {
		struct ioc *x = g_ptr_array_index(set->list, i);
		char *key = g_strdup_printf("%s\t%s", x->type, x->value);

		if (g_hash_table_contains(seen, key)) {
			g_free(key);
			continue;
		}
		g_hash_table_add(seen, key);
		misp_attribute(b, x);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	json_builder_end_object(b);
	text = qjson_finish(b, true);
	out = g_strconcat(text, "\n", NULL);
	g_free(text);
	g_free(date);
	g_free(ts);
	g_free(u);
	g_date_time_unref(d);
	g_hash_table_destroy(seen);
	return out;
}

char *
qioc_render(const struct qioc_set *set, enum qioc_format fmt)
{
	switch (fmt) {
	case QIOC_CSV: return render_csv(set);
	case QIOC_STIX: return render_stix(set);
	case QIOC_MISP: return render_misp(set);
	case QIOC_URLHAUS: return render_json(set, true);
	default: return render_json(set, false);
	}
}

static const char *const format_names[] = { "json", "csv", "urlhaus",
	"stix", "misp" };

const char *
qioc_format_name(enum qioc_format fmt)
{
	return (size_t)fmt < G_N_ELEMENTS(format_names) ?
	    format_names[fmt] : "json";
}

bool
qioc_format_parse(const char *name, enum qioc_format *fmt)
{
	for (size_t i = 0; name && i < G_N_ELEMENTS(format_names); i++)
		if (strcmp(name, format_names[i]) == 0) {
			*fmt = (enum qioc_format)i;
			return true;
		}
	return false;
}
