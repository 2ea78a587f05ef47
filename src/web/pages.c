/*
 * pages.c - the pages and actions of emofilter-web (see pages.h).
 *
 * Pages are read-only GETs; every change (login, logout, release,
 * delete) is a POST that main.c has checked for a session and its CSRF
 * token, and release and delete also for the releaser role. IDs from a
 * request are checked with emf_quarantine_id_valid() before any use.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include <json-glib/json-glib.h>

#include "html.h"
#include "pages.h"
#include "qaction.h"
#include "qhash.h"
#include "qioc.h"
#include "qjson.h"
#include "qmacro.h"
#include "qrender.h"
#include "qstats.h"
#include "qstore.h"
#include "store/quarantine.h"
#include "web.h"

#define MAX_BULK 1000
#define MAX_OBJECT_DEPTH 64

const char *
get_arg(const struct req *r, const char *name)
{
	const char *v = MHD_lookup_connection_value(r->conn,
	    MHD_GET_ARGUMENT_KIND, name);

	return v != NULL && *v != '\0' ? v : NULL;
}

const char *
post_arg(const struct req *r, const char *name)
{
	GPtrArray *a = r->post ? g_hash_table_lookup(r->post, name) : NULL;

	return a != NULL && a->len > 0 ? g_ptr_array_index(a, 0) : NULL;
}

static void
resp_html(struct resp *p, unsigned status)
{
	p->status = status;
	if (p->body == NULL)
		p->body = g_string_new(NULL);
}

void
page_error(struct resp *p, unsigned status, const char *text,
    const struct session *s)
{
	resp_html(p, status);
	g_string_truncate(p->body, 0);
	page_begin(p->body, status == 403 ? "Forbidden" : status == 404 ?
	    "Not found" : status == 400 ? "Bad request" : "Error", s);
	g_string_append(p->body, "<p class=\"msg err\">");
	html_text(p->body, text);
	g_string_append(p->body, "</p>");
	page_end(p->body);
}

/* Who acts, for the audit log and the release header. */
static char *
web_who(const struct session *s)
{
	return g_strdup_printf("%s (emofilter-web, role %s)", s->user,
	    role_name(s->role));
}

/* ---- login ------------------------------------------------------------- */

void
page_login(struct req *r, struct resp *p, const char *error)
{
	struct session *s = r->s;

	/* A login form carries a token of its own anonymous session. */
	if (s == NULL || s->user != NULL) {
		s = session_new(r->w, NULL, ROLE_NONE);
		p->cookie = g_strdup_printf("emf_session=%s; Path=/; HttpOnly; "
		    "SameSite=Strict", s->token);
	}
	resp_html(p, error ? 403 : 200);
	page_begin(p->body, "Log in", NULL);
	if (error != NULL) {
		g_string_append(p->body, "<p class=\"msg err\">");
		html_text(p->body, error);
		g_string_append(p->body, "</p>");
	}
	g_string_append(p->body, "<form class=\"login\" method=\"post\" "
	    "action=\"/login\"><label>User <input name=\"user\" "
	    "autocomplete=\"username\" required autofocus></label>"
	    "<label>Password <input name=\"password\" type=\"password\" "
	    "autocomplete=\"current-password\" required></label>");
	csrf_input(p->body, s);
	g_string_append(p->body, "<button id=\"login\">Log in</button></form>");
	page_end(p->body);
}

void
action_login(struct req *r, struct resp *p)
{
	const char *user = post_arg(r, "user");
	const char *pw = post_arg(r, "password");
	struct session *s;
	enum web_role role;
	char *why = NULL;

	if (user == NULL || pw == NULL || !user_name_ok(user)) {
		page_login(r, p, "Wrong user name or password.");
		return;
	}
	if (!login_allowed(r->w, user)) {
		g_message("login %s: refused, too many failures", user);
		page_login(r, p, "Too many failed logins: try again later.");
		return;
	}
	role = users_check(r->w->users_path, user, pw, &why);
	if (role == ROLE_NONE) {
		g_message("login %s: %s", user, why ? why : "refused");
		g_free(why);
		login_failed(r->w, user);
		page_login(r, p, "Wrong user name or password.");
		return;
	}
	login_succeeded(r->w, user);
	g_message("login %s (%s)", user, role_name(role));
	/* A new session, never the one of the form (no fixation). */
	if (r->s != NULL)
		session_drop(r->w, r->s);
	s = session_new(r->w, user, role);
	r->s = s;
	p->status = 303;
	p->location = g_strdup("/");
	p->cookie = g_strdup_printf("emf_session=%s; Path=/; HttpOnly; "
	    "SameSite=Strict", s->token);
}

void
action_logout(struct req *r, struct resp *p)
{
	if (r->s != NULL)
		session_drop(r->w, r->s);
	r->s = NULL;
	p->status = 303;
	p->location = g_strdup("/login");
	p->cookie = g_strdup("emf_session=; Path=/; HttpOnly; "
	    "SameSite=Strict; Max-Age=0");
}

/* ---- filters from the query string ------------------------------------ */

static const char *const filter_args[] = { "id", "from", "rcpt", "action",
	"symbol", "since", "until", "queue", "msgid", "status", NULL };

/* The filter of the request; false with *bad set for a time that does
 * not parse. */
static bool
request_filter(const struct req *r, struct qfilter *f, const char **bad)
{
	const char *v;

	qfilter_init(f);
	f->id = get_arg(r, "id");
	f->from = get_arg(r, "from");
	f->rcpt = get_arg(r, "rcpt");
	f->action = get_arg(r, "action");
	f->symbol = get_arg(r, "symbol");
	f->queue_id = get_arg(r, "queue");
	f->message_id = get_arg(r, "msgid");
	if ((v = get_arg(r, "status")) != NULL)
		f->released = strcmp(v, "released") == 0 ? 1 :
		    strcmp(v, "pending") == 0 ? 0 : -1;
	if ((v = get_arg(r, "since")) != NULL &&
	    qfilter_option(f, 'S', v) != QFILTER_TAKEN) {
		*bad = v;
		return false;
	}
	if ((v = get_arg(r, "until")) != NULL &&
	    qfilter_option(f, 'U', v) != QFILTER_TAKEN) {
		*bad = v;
		return false;
	}
	return true;
}

/* The filter arguments again, "&k=v" each, for paging and links. */
static void
filter_query(GString *out, const struct req *r)
{
	for (size_t i = 0; filter_args[i]; i++) {
		const char *v = get_arg(r, filter_args[i]);

		if (v == NULL)
			continue;
		g_string_append_printf(out, "&%s=", filter_args[i]);
		url_encode(out, v);
	}
}

/* The matching entries (borrowed from the cache), newest first. */
static GPtrArray *
matching(struct req *r, const struct qfilter *f, unsigned *skipped,
    char **why)
{
	GPtrArray *all = cache_entries(r->w, skipped, why), *out;

	if (all == NULL)
		return NULL;
	out = g_ptr_array_new();
	for (guint i = 0; i < all->len; i++) {
		struct qentry *e = g_ptr_array_index(all, i);

		if (qfilter_match_id(f, e->id) && qfilter_match(f, e))
			g_ptr_array_add(out, e);
	}
	g_ptr_array_free(all, TRUE);
	return out;
}

static void
text_input(GString *b, const struct req *r, const char *name,
    const char *label, const char *placeholder)
{
	g_string_append_printf(b, "<label>%s<input name=\"%s\" "
	    "placeholder=\"%s\" value=\"", label, name, placeholder);
	html_attr(b, get_arg(r, name));
	g_string_append(b, "\"></label>");
}

static void
filter_form(GString *b, const struct req *r, const char *action)
{
	const char *st = get_arg(r, "status");

	g_string_append_printf(b, "<form class=\"filters\" method=\"get\" "
	    "action=\"%s\">", action);
	text_input(b, r, "from", "Sender", "address or text");
	text_input(b, r, "rcpt", "Recipient", "address or text");
	text_input(b, r, "action", "Action", "reject, quarantine");
	text_input(b, r, "symbol", "Symbol", "MACRO_AUTOEXEC");
	text_input(b, r, "since", "Since", "2026-11-25 or 7d");
	text_input(b, r, "until", "Until", "2026-11-30");
	text_input(b, r, "queue", "Queue ID", "4AbCd123");
	text_input(b, r, "msgid", "Message-ID", "&lt;x@y&gt;");
	text_input(b, r, "id", "Entry ID", "20261203T...");
	g_string_append_printf(b, "<label>Status<select name=\"status\">"
	    "<option value=\"\">any</option><option%s>pending</option>"
	    "<option%s>released</option></select></label>",
	    st && strcmp(st, "pending") == 0 ? " selected" : "",
	    st && strcmp(st, "released") == 0 ? " selected" : "");
	g_string_append(b, "<label>&nbsp;<button id=\"filter\">Filter"
	    "</button></label></form>\n");
}

/* ---- list -------------------------------------------------------------- */

static void
action_cell(GString *b, const char *action)
{
	g_string_append(b, "<td class=\"act-");
	/* The class name only when it is a plain word. */
	for (const char *p = action ? action : ""; *p; p++)
		if (g_ascii_isalpha(*p))
			g_string_append_c(b, *p);
	g_string_append(b, "\">");
	html_text(b, action ? action : "?");
	g_string_append(b, "</td>");
}

static void
list_row(GString *b, const struct qentry *e, bool releaser)
{
	JsonArray *syms = jarr(e->root, "symbols");
	char *from = qentry_sender(e), *t = iso_time(id_time(e->id));

	g_string_append(b, "<tr>");
	if (releaser)
		g_string_append_printf(b, "<td><input type=\"checkbox\" "
		    "name=\"id\" value=\"%s\"></td>", e->id);
	g_string_append_printf(b, "<td class=\"mono\">%s</td><td class=\"mono\">"
	    "<a href=\"/entry?id=%s\">%s</a></td><td class=\"num\">%.2f</td>",
	    t, e->id, e->id, jnum(e->root, "score"));
	action_cell(b, jstr(e->root, "action"));
	g_string_append_printf(b, "<td class=\"%s\">%s</td><td>",
	    e->released ? "released" : "pending",
	    e->released ? "released" : "pending");
	html_cut(b, from ? from : "<>", 40);
	g_string_append(b, "</td><td>");
	html_cut(b, qentry_first_rcpt(e), 40);
	g_string_append(b, "</td><td class=\"subject\">");
	html_cut(b, jstr(jobj(e->root, "headers"), "subject"), 80);
	g_string_append(b, "</td><td class=\"mono\">");
	for (guint i = 0; syms && i < json_array_get_length(syms) && i < 3;
	    i++) {
		if (i)
			g_string_append_c(b, ' ');
		html_text(b, jstr(jarr_obj(syms, i), "name"));
	}
	if (syms && json_array_get_length(syms) > 3)
		g_string_append_printf(b, " +%u",
		    json_array_get_length(syms) - 3);
	g_string_append(b, "</td></tr>\n");
	g_free(from);
	g_free(t);
}

static void
pager(GString *b, const struct req *r, guint page, guint pages, guint n)
{
	g_string_append_printf(b, "<p class=\"pager\">%u matching entr%s, "
	    "page %u of %u. ", n, n == 1 ? "y" : "ies", page, pages);
	if (page > 1) {
		g_string_append_printf(b, "<a id=\"prev\" href=\"/?page=%u",
		    page - 1);
		filter_query(b, r);
		g_string_append(b, "\">&larr; newer</a>");
	}
	if (page < pages) {
		g_string_append_printf(b, "<a id=\"next\" href=\"/?page=%u",
		    page + 1);
		filter_query(b, r);
		g_string_append(b, "\">older &rarr;</a>");
	}
	g_string_append(b, "</p>\n");
}

void
page_list(struct req *r, struct resp *p)
{
	struct qfilter f;
	const char *bad = NULL, *pg = get_arg(r, "page");
	unsigned skipped = 0;
	char *why = NULL;
	GPtrArray *m;
	guint page, pages, size = r->w->page_size;
	bool rel = r->s->role == ROLE_RELEASER;
	GString *b;

	if (!request_filter(r, &f, &bad)) {
		char *t = g_strdup_printf("bad time \"%s\" (want 2026-11-25, "
		    "an ISO 8601 time or an age such as 7d)", bad);

		page_error(p, 400, t, r->s);
		g_free(t);
		return;
	}
	if ((m = matching(r, &f, &skipped, &why)) == NULL) {
		page_error(p, 500, why, r->s);
		g_free(why);
		return;
	}
	page = pg ? (guint)g_ascii_strtoull(pg, NULL, 10) : 1;
	pages = m->len ? (m->len + size - 1) / size : 1;
	page = page < 1 ? 1 : page > pages ? pages : page;
	resp_html(p, 200);
	b = p->body;
	page_begin(b, "Quarantine", r->s);
	filter_form(b, r, "/");
	if (skipped)
		g_string_append_printf(b, "<p class=\"msg err\">%u unreadable "
		    "entr%s skipped (see the server log).</p>", skipped,
		    skipped == 1 ? "y" : "ies");
	pager(b, r, page, pages, m->len);
	if (rel) {
		g_string_append(b, "<form method=\"post\" action=\"/bulk\">");
		csrf_input(b, r->s);
	}
	g_string_append_printf(b, "<table id=\"entries\"><tr>%s<th>Time (UTC)"
	    "</th><th>Entry</th><th>Score</th><th>Action</th><th>Status</th>"
	    "<th>Sender</th><th>Recipient</th><th>Subject</th><th>Symbols</th>"
	    "</tr>\n", rel ? "<th></th>" : "");
	for (guint i = (page - 1) * size; i < m->len && i < page * size; i++)
		list_row(b, g_ptr_array_index(m, i), rel);
	g_string_append(b, "</table>\n");
	if (rel)
		g_string_append(b, "<div class=\"actions\"><label><input "
		    "type=\"checkbox\" name=\"dry_run\" value=\"1\"> dry run"
		    "</label><button name=\"op\" value=\"release\" id=\"bulk-"
		    "release\">Release selected</button><button name=\"op\" "
		    "value=\"delete\" id=\"bulk-delete\">Delete selected"
		    "</button></div></form>\n");
	pager(b, r, page, pages, m->len);
	page_end(b);
	g_ptr_array_free(m, TRUE);
}

/* ---- entry ------------------------------------------------------------- */

static void
kv_row(GString *b, const char *k, const char *v)
{
	if (v == NULL)
		return;
	g_string_append_printf(b, "<tr><th>%s</th><td>", k);
	html_text(b, v);
	g_string_append(b, "</td></tr>\n");
}

static void
kv_list(GString *b, const char *k, JsonArray *a)
{
	guint n = a ? json_array_get_length(a) : 0;

	if (n == 0)
		return;
	g_string_append_printf(b, "<tr><th>%s</th><td>", k);
	for (guint i = 0; i < n; i++) {
		if (i)
			g_string_append(b, "<br>");
		html_text(b, jarr_str(a, i) ? jarr_str(a, i) : "?");
	}
	g_string_append(b, "</td></tr>\n");
}

static void
entry_summary(GString *b, const struct qentry *e)
{
	char *v = g_strdup_printf("%.2f", jnum(e->root, "score"));

	g_string_append(b, "<table class=\"kv\" id=\"summary\">");
	kv_row(b, "Entry", e->id);
	kv_row(b, "Time", jstr(e->root, "time"));
	kv_row(b, "Score", v);
	kv_row(b, "Action", jstr(e->root, "action"));
	kv_row(b, "Policy", jstr(e->root, "policy"));
	g_free(v);
	if (e->released == NULL) {
		kv_row(b, "Status", "pending");
	} else {
		JsonArray *to = jarr(e->released, "to");
		GString *s = g_string_new(NULL);

		g_string_append_printf(s, "released %s by %s to ",
		    jstr_or(e->released, "time", "?"),
		    jstr_or(e->released, "by", "?"));
		for (guint i = 0; to && i < json_array_get_length(to); i++)
			g_string_append_printf(s, "%s%s", i ? ", " : "",
			    jarr_str(to, i) ? jarr_str(to, i) : "?");
		kv_row(b, "Status", s->str);
		g_string_free(s, TRUE);
	}
	g_string_append(b, "</table>\n");
}

static void
entry_actions(GString *b, const struct req *r, const struct qentry *e)
{
	if (r->s->role != ROLE_RELEASER)
		return;
	g_string_append(b, "<div class=\"actions\"><form method=\"post\" "
	    "action=\"/release\">");
	csrf_input(b, r->s);
	g_string_append_printf(b, "<input type=\"hidden\" name=\"id\" "
	    "value=\"%s\">", e->id);
	if (e->released != NULL)
		g_string_append(b, "<label><input type=\"checkbox\" "
		    "name=\"force\" value=\"1\"> send again</label> ");
	g_string_append(b, "<button id=\"release\">Release</button></form>"
	    "<form method=\"post\" action=\"/delete\">");
	csrf_input(b, r->s);
	g_string_append_printf(b, "<input type=\"hidden\" name=\"id\" "
	    "value=\"%s\"><button id=\"delete\">Delete</button></form>"
	    "<a href=\"/ioc?format=csv&amp;id=%s&amp;released=1\">IOC (CSV)</a>"
	    "</div>\n", e->id, e->id);
}

static void
entry_envelope(GString *b, JsonObject *env, JsonObject *hdr)
{
	const char *from = jstr(env, "from");

	g_string_append(b, "<h2>Envelope</h2><table class=\"kv\">");
	kv_row(b, "Queue ID", jstr(env, "queue_id"));
	kv_row(b, "Client IP", jstr(env, "client_ip"));
	kv_row(b, "Client name", jstr(env, "client_name"));
	kv_row(b, "HELO", jstr(env, "helo"));
	kv_row(b, "Auth user", jstr(env, "auth_user"));
	kv_row(b, "Sender", from && *from == '\0' ? "<>" : from);
	kv_list(b, "Recipients", jarr(env, "rcpts"));
	g_string_append(b, "</table>\n<h2>Headers (decoded)</h2>"
	    "<table class=\"kv\" id=\"headers\">");
	kv_row(b, "From", jstr(hdr, "from"));
	kv_row(b, "To", jstr(hdr, "to"));
	kv_row(b, "Subject", jstr(hdr, "subject"));
	kv_row(b, "Date", jstr(hdr, "date"));
	kv_row(b, "Message-ID", jstr(hdr, "message_id"));
	kv_row(b, "Reply-To", jstr(hdr, "reply_to"));
	kv_row(b, "Return-Path", jstr(hdr, "return_path"));
	kv_row(b, "In-Reply-To", jstr(hdr, "in_reply_to"));
	g_string_append(b, "</table>\n");
}

static void
entry_symbols(GString *b, JsonArray *a)
{
	g_string_append(b, "<h2>Symbols</h2><table id=\"symbols\"><tr>"
	    "<th>Symbol</th><th>Score</th><th>Hits: detail [object]</th></tr>");
	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonObject *o = jarr_obj(a, i);
		JsonArray *hits = jarr(o, "hits");

		g_string_append(b, "<tr><td class=\"mono\">");
		html_text(b, jstr(o, "name"));
		g_string_append_printf(b, "</td><td class=\"num\">%.2f</td><td>",
		    jnum(o, "score"));
		if (hits == NULL || json_array_get_length(hits) == 0) {
			html_text(b, jstr(o, "detail"));
			if (jstr(o, "object")) {
				g_string_append(b, " [");
				html_text(b, jstr(o, "object"));
				g_string_append(b, "]");
			}
		}
		for (guint j = 0; hits && j < json_array_get_length(hits);
		    j++) {
			JsonObject *h = jarr_obj(hits, j);

			if (j)
				g_string_append(b, "<br>");
			html_text(b, jstr_or(h, "detail", ""));
			if (jstr(h, "object")) {
				g_string_append(b, " [");
				html_text(b, jstr(h, "object"));
				g_string_append(b, "]");
			}
		}
		g_string_append(b, "</td></tr>\n");
	}
	g_string_append(b, "</table>\n");
}

/* Objects a password opened, by path, into where. */
static void
objects_opened_by(GString *where, JsonArray *a, const char *pw, int depth)
{
	for (guint i = 0; a && i < json_array_get_length(a) &&
	    depth < MAX_OBJECT_DEPTH; i++) {
		JsonObject *o = jarr_obj(a, i);

		if (g_strcmp0(jstr(o, "password"), pw) == 0) {
			if (where->len)
				g_string_append(where, ", ");
			g_string_append(where, jstr_or(o, "path", "?"));
		}
		objects_opened_by(where, jarr(o, "children"), pw, depth + 1);
	}
}

static void
entry_passwords(GString *b, const struct qentry *e)
{
	JsonArray *a = jarr(e->root, "passwords");

	if (a == NULL || json_array_get_length(a) == 0)
		return;
	g_string_append(b, "<h2>Passwords found</h2><table id=\"passwords\">"
	    "<tr><th>Password</th><th>Found in</th><th>Used</th>"
	    "<th>Opened</th></tr>");
	for (guint i = 0; i < json_array_get_length(a); i++) {
		JsonObject *pw = jarr_obj(a, i);
		GString *where = g_string_new(NULL);

		objects_opened_by(where, jarr(e->root, "objects"),
		    jstr(pw, "password"), 0);
		g_string_append(b, "<tr><td class=\"mono\">");
		html_text(b, jstr(pw, "password"));
		g_string_append(b, "</td><td>");
		html_text(b, jstr(pw, "source"));
		g_string_append_printf(b, "</td><td>%s</td><td>",
		    jbool(pw, "used") ? "yes" : "no");
		html_text(b, where->str);
		g_string_append(b, "</td></tr>\n");
		g_string_free(where, TRUE);
	}
	g_string_append(b, "</table>\n");
}

static void
object_macros(GString *b, JsonArray *a)
{
	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonObject *m = jarr_obj(a, i);

		g_string_append(b, "<table class=\"kv macro\">");
		kv_row(b, "Macro module", jstr_or(m, "module", "?"));
		kv_row(b, "Source SHA-256", jstr(m, "sha256"));
		kv_list(b, "Auto-run", jarr(m, "autoexec"));
		kv_list(b, "Suspicious", jarr(m, "suspicious"));
		kv_list(b, "URLs", jarr(m, "urls"));
		g_string_append(b, "</table>\n");
	}
}

static void
object_facts(GString *b, JsonObject *o)
{
	char *v;

	g_string_append(b, "<table class=\"kv\">");
	kv_row(b, "SHA-256", jstr(o, "sha256"));
	kv_row(b, "MIME type", jstr(o, "mime_type"));
	kv_row(b, "Format", jstr(o, "format"));
	if (jbool(o, "encrypted"))
		kv_row(b, "Encrypted", jstr_or(o, "encryption", "yes"));
	if (jstr(o, "password")) {
		v = g_strdup_printf("%s (found in %s)", jstr(o, "password"),
		    jstr_or(o, "password_source", "?"));
		kv_row(b, "Password", v);
		g_free(v);
	}
	kv_row(b, "Error", jstr(o, "error"));
	kv_row(b, "VBA SHA-256", jstr(o, "vba_sha256"));
	kv_list(b, "XLM sheets", jarr(o, "xlm_sheets"));
	kv_list(b, "External links", jarr(o, "external_links"));
	kv_list(b, "URLs", jarr(o, "urls"));
	kv_list(b, "Lure", jarr(o, "lure"));
	kv_list(b, "YARA", jarr(o, "yara"));
	g_string_append(b, "</table>\n");
}

static void
object_tree(GString *b, JsonArray *a, int depth)
{
	if (a == NULL || json_array_get_length(a) == 0 ||
	    depth > MAX_OBJECT_DEPTH)
		return;
	g_string_append(b, "<ul class=\"tree\">");
	for (guint i = 0; i < json_array_get_length(a); i++) {
		JsonObject *o = jarr_obj(a, i);

		if (o == NULL)
			continue;
		g_string_append(b, "<li><b class=\"mono\">");
		html_text(b, jstr_or(o, "path", "?"));
		g_string_append(b, "</b> <span class=\"name\">");
		html_text(b, jstr_or(o, "name", "(no name)"));
		g_string_append(b, "</span> ");
		html_text(b, jstr_or(o, "type", "?"));
		g_string_append_printf(b, ", %.0f bytes%s", jnum(o, "size"),
		    jbool(o, "truncated") ? " (truncated)" : "");
		object_facts(b, o);
		object_macros(b, jarr(o, "macros"));
		object_tree(b, jarr(o, "children"), depth + 1);
		g_string_append(b, "</li>\n");
	}
	g_string_append(b, "</ul>\n");
}

/* The macro source of the entry's documents, from the stored message. */
static void
entry_macros(GString *b, const char *store, const struct qentry *e)
{
	GPtrArray *macros;
	char *msg, *why = NULL;
	size_t len;

	if (qentry_read_message(store, e, &msg, &len, &why) != EX_DONE) {
		g_string_append(b, "<p class=\"msg err\">");
		html_text(b, why);
		g_string_append(b, "</p>");
		g_free(why);
		return;
	}
	macros = qmacro_sources(msg, len, e);
	g_free(msg);
	if (macros->len > 0)
		g_string_append(b, "<h2>Macro source</h2>");
	for (guint i = 0; i < macros->len; i++) {
		struct qmacro *m = g_ptr_array_index(macros, i);

		g_string_append(b, "<h3 class=\"mono\">");
		html_text(b, m->module);
		g_string_append(b, " <small>in ");
		html_text(b, m->where);
		g_string_append_printf(b, "%s</small></h3><pre class=\"macro\">",
		    m->cut ? " (cut at 1 MiB)" : "");
		html_lines(b, m->source);
		g_string_append(b, "</pre>\n");
	}
	g_ptr_array_free(macros, TRUE);
}

void
page_entry(struct req *r, struct resp *p)
{
	const char *id = get_arg(r, "id");
	struct qentry e;
	char *why = NULL, *text, *title;
	int rc;

	if (id == NULL || !emf_quarantine_id_valid(id)) {
		page_error(p, 400, "not an entry ID (want YYYYMMDDTHHMMSSZ-"
		    "xxxxxxxx)", r->s);
		return;
	}
	if ((rc = qentry_load(r->w->store, id, &e, &why)) != EX_DONE) {
		page_error(p, rc == EX_NOTFOUND ? 404 : 500, why, r->s);
		g_free(why);
		return;
	}
	resp_html(p, 200);
	title = g_strdup_printf("Entry %s", e.id);
	page_begin(p->body, title, r->s);
	g_free(title);
	entry_summary(p->body, &e);
	entry_actions(p->body, r, &e);
	entry_envelope(p->body, jobj(e.root, "envelope"),
	    jobj(e.root, "headers"));
	entry_symbols(p->body, jarr(e.root, "symbols"));
	entry_passwords(p->body, &e);
	g_string_append(p->body, "<h2>Objects</h2>");
	object_tree(p->body, jarr(e.root, "objects"), 0);
	kv_list(p->body, "Limits hit", jarr(e.root, "limits_hit"));
	entry_macros(p->body, r->w->store, &e);
	/* The same report as emofilter-quarantine show prints it. */
	text = qrender_show(&e);
	g_string_append(p->body, "<h2>Report as text</h2><pre id=\"report\">");
	html_lines(p->body, text);
	g_string_append(p->body, "</pre>");
	g_free(text);
	page_end(p->body);
	qentry_clear(&e);
}

/* ---- statistics -------------------------------------------------------- */

static void
count_table(GString *b, const char *id, const char *what, GPtrArray *a,
    guint top)
{
	g_string_append_printf(b, "<table id=\"%s\"><tr><th>%s</th>"
	    "<th>Entries</th></tr>", id, what);
	for (guint i = 0; i < a->len && i < top; i++) {
		struct qstat_count *c = g_ptr_array_index(a, i);

		g_string_append(b, "<tr><td>");
		html_text(b, c->key);
		g_string_append_printf(b, "</td><td class=\"num\">%u</td></tr>",
		    c->n);
	}
	g_string_append(b, "</table>\n");
}

void
page_stats(struct req *r, struct resp *p)
{
	struct qfilter f;
	const char *bad = NULL;
	unsigned skipped = 0;
	char *why = NULL;
	GPtrArray *m;
	struct qstats *st;
	GString *b;

	if (!request_filter(r, &f, &bad)) {
		page_error(p, 400, "bad time", r->s);
		return;
	}
	if ((m = matching(r, &f, &skipped, &why)) == NULL) {
		page_error(p, 500, why, r->s);
		g_free(why);
		return;
	}
	st = qstats_compute(m);
	resp_html(p, 200);
	b = p->body;
	page_begin(b, "Statistics", r->s);
	filter_form(b, r, "/stats");
	g_string_append_printf(b, "<p>%u entries.</p>", st->total);
	g_string_append(b, "<h2>Entries per day and action (UTC)</h2>");
	svg_per_day(b, st, 60);
	g_string_append(b, "<h2>Top symbols</h2>");
	svg_top(b, st->symbols, 15);
	g_string_append(b, "<h2>Per action</h2>");
	count_table(b, "actions", "Action", st->actions, G_MAXUINT);
	g_string_append(b, "<h2>Top senders</h2>");
	count_table(b, "senders", "Sender", st->senders, 15);
	page_end(b);
	qstats_free(st);
	g_ptr_array_free(m, TRUE);
}

/* ---- indicators -------------------------------------------------------- */

static void
ioc_form(struct req *r, struct resp *p)
{
	GString *b;

	resp_html(p, 200);
	b = p->body;
	page_begin(b, "Indicators", r->s);
	g_string_append(b, "<p>Indicators of the entries that match the "
	    "filters, released entries left out unless asked for.</p>");
	g_string_append(b, "<form class=\"filters\" method=\"get\" "
	    "action=\"/ioc\">");
	text_input(b, r, "since", "Since", "2026-11-25 or 7d");
	text_input(b, r, "until", "Until", "2026-11-30");
	text_input(b, r, "from", "Sender", "address or text");
	text_input(b, r, "symbol", "Symbol", "MACRO_AUTOEXEC");
	text_input(b, r, "id", "Entry ID", "20261203T...");
	g_string_append(b, "<label>Format<select name=\"format\">"
	    "<option>csv</option><option>json</option><option>stix</option>"
	    "<option>misp</option><option>urlhaus</option></select></label>"
	    "<label><span><input type=\"checkbox\" name=\"released\" "
	    "value=\"1\"> include released</span></label>"
	    "<label>&nbsp;<button id=\"download\">Download</button></label>"
	    "</form>");
	page_end(b);
}

void
page_ioc(struct req *r, struct resp *p)
{
	const char *fmtname = get_arg(r, "format"), *bad = NULL;
	enum qioc_format fmt;
	struct qfilter f;
	struct qioc_set *set;
	unsigned skipped = 0;
	char *why = NULL, *who;
	GPtrArray *m;

	if (fmtname == NULL) {
		ioc_form(r, p);
		return;
	}
	if (!qioc_format_parse(fmtname, &fmt)) {
		page_error(p, 400, "unknown format", r->s);
		return;
	}
	if (!request_filter(r, &f, &bad)) {
		page_error(p, 400, "bad time", r->s);
		return;
	}
	if (get_arg(r, "released") == NULL)
		f.released = 0;
	if ((m = matching(r, &f, &skipped, &why)) == NULL) {
		page_error(p, 500, why, r->s);
		g_free(why);
		return;
	}
	set = qioc_set_new();
	for (guint i = 0; r->w->own && i < r->w->own->len; i++)
		qioc_set_own_domain(set, g_ptr_array_index(r->w->own, i));
	who = web_who(r->s);
	for (guint i = 0; i < m->len; i++) {
		struct qentry *e = g_ptr_array_index(m, i), full;
		GHashTable *hashes = NULL;
		char *msg;
		size_t len;

		/* The cache keeps no objects: the whole report. */
		if (qentry_load(r->w->store, e->id, &full, &why) != EX_DONE) {
			g_free(why);
			why = NULL;
			continue;
		}
		if (qentry_read_message(r->w->store, &full, &msg, &len,
		    &why) == EX_DONE) {
			hashes = qhash_files(msg, len, &full);
			g_free(msg);
		} else {
			g_free(why);
			why = NULL;
		}
		qioc_collect_files(set, &full, hashes);
		if (hashes)
			g_hash_table_destroy(hashes);
		qentry_clear(&full);
		g_free(qaction_audit(r->w->store, who, "ioc", e->id, "ok",
		    NULL, "format", qioc_format_name(fmt)));
	}
	p->status = 200;
	why = qioc_render(set, fmt);
	p->body = g_string_new(why);
	g_free(why);
	p->ctype = fmt == QIOC_CSV ? "text/csv; charset=utf-8" :
	    "application/json";
	p->disposition = g_strdup_printf("attachment; filename=\"emofilter-"
	    "ioc.%s\"", fmt == QIOC_CSV ? "csv" : "json");
	g_free(who);
	qioc_set_free(set);
	g_ptr_array_free(m, TRUE);
}

/* ---- release, delete --------------------------------------------------- */

/* The result page of actions: one line per entry. */
static void
result_page(struct req *r, struct resp *p, const char *title, GString *lines,
    bool all_ok)
{
	resp_html(p, all_ok ? 200 : 409);
	page_begin(p->body, title, r->s);
	g_string_append(p->body, lines->str);
	g_string_append(p->body, "<p><a href=\"/\">Back to the quarantine</a>"
	    "</p>");
	page_end(p->body);
}

static void
result_line(GString *lines, bool ok, const char *id, const char *text)
{
	g_string_append_printf(lines, "<p class=\"msg %s\">", ok ? "ok" : "err");
	if (id != NULL && emf_quarantine_id_valid(id))
		g_string_append_printf(lines, "<a href=\"/entry?id=%s\">%s</a>: ",
		    id, id);
	html_text(lines, text);
	g_string_append(lines, "</p>\n");
}

/* Do op ("release", "delete") on id; a line for it in lines. */
static bool
do_one(struct req *r, const char *op, const char *id, bool force,
    bool dry, GString *lines)
{
	char *who = web_who(r->s), *why = NULL, *t;
	guint nto = 0;
	int rc;

	if (!emf_quarantine_id_valid(id)) {
		result_line(lines, false, NULL, "not an entry ID (refused)");
		g_free(who);
		return false;
	}
	if (dry) {
		rc = emf_quarantine_exists(r->w->store, id) ? EX_DONE :
		    EX_NOTFOUND;
		result_line(lines, rc == EX_DONE, id, rc == EX_DONE ?
		    (strcmp(op, "release") == 0 ? "would be released" :
		    "would be deleted") : "no such entry");
		g_free(who);
		return rc == EX_DONE;
	}
	if (strcmp(op, "release") == 0)
		rc = qaction_release(r->w->store, r->w->cfg, who, id, NULL,
		    force, &nto, &why);
	else
		rc = qaction_delete(r->w->store, r->w->cfg, who, id,
		    "delete", &why);
	if (rc == EX_DONE) {
		t = strcmp(op, "release") == 0 ? g_strdup_printf("released "
		    "to %u recipient%s%s%s", nto, nto == 1 ? "" : "s",
		    why ? "; " : "", why ? why : "") : g_strdup_printf(
		    "deleted%s%s", why ? "; " : "", why ? why : "");
		result_line(lines, true, id, t);
		g_free(t);
	} else {
		result_line(lines, false, id, why ? why : "failed");
	}
	g_message("%s %s by %s: %s", op, id, r->s->user, rc == EX_DONE ?
	    "ok" : why ? why : "failed");
	g_free(why);
	g_free(who);
	return rc == EX_DONE;
}

void
action_release(struct req *r, struct resp *p)
{
	GString *lines = g_string_new(NULL);
	const char *id = post_arg(r, "id");
	bool ok;

	ok = do_one(r, "release", id ? id : "", post_arg(r, "force") != NULL,
	    false, lines);
	result_page(r, p, "Release", lines, ok);
	g_string_free(lines, TRUE);
}

void
action_delete(struct req *r, struct resp *p)
{
	GString *lines = g_string_new(NULL);
	const char *id = post_arg(r, "id");
	bool ok;

	ok = do_one(r, "delete", id ? id : "", false, false, lines);
	result_page(r, p, "Delete", lines, ok);
	g_string_free(lines, TRUE);
}

void
action_bulk(struct req *r, struct resp *p)
{
	GPtrArray *ids = r->post ? g_hash_table_lookup(r->post, "id") : NULL;
	const char *op = post_arg(r, "op");
	bool dry = post_arg(r, "dry_run") != NULL, ok = true;
	GString *lines;

	if (op == NULL || (strcmp(op, "release") != 0 &&
	    strcmp(op, "delete") != 0)) {
		page_error(p, 400, "unknown bulk action", r->s);
		return;
	}
	if (ids == NULL || ids->len == 0 || ids->len > MAX_BULK) {
		page_error(p, 400, "select 1 to 1000 entries", r->s);
		return;
	}
	lines = g_string_new(NULL);
	for (guint i = 0; i < ids->len; i++)
		ok &= do_one(r, op, g_ptr_array_index(ids, i), false, dry,
		    lines);
	result_page(r, p, dry ? "Bulk action (dry run)" : "Bulk action",
	    lines, ok);
	g_string_free(lines, TRUE);
}
