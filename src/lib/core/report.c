/*
 * report.c - the verdict of a finished scan: total, action, and the report
 * as JSON (json-glib) and as text for a human.
 *
 * The JSON schema is the one in docs/design.md ("Report (JSON)"):
 * {id, time, envelope{...}, headers{...}, score, action, symbols[...],
 *  objects[...], passwords[...], limits_hit[], scan_ms}.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include <json-glib/json-glib.h>

#include "engine.h"
#include "policy.h"
#include "report.h"
#include "scan.h"

struct emf_report {
	struct emf_scan *scan;	/* owned; its engine reference is dropped */
	double score;
	enum emf_action action;
	char *policy;		/* the recipient policy that decided, or NULL */
	long scan_ms;
};

static gint
by_score_desc(gconstpointer a, gconstpointer b)
{
	const struct emf_symbol *x = *(struct emf_symbol *const *)a;
	const struct emf_symbol *y = *(struct emf_symbol *const *)b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return strcmp(x->name, y->name);
}

struct emf_report *
emf_report_from_scan(struct emf_scan *scan)
{
	struct emf_report *r = g_new0(struct emf_report, 1);
	const struct emf_engine *e = scan->engine;
	const char *policy;
	double total = 0;

	r->scan = scan;
	g_ptr_array_sort(scan->symbols, by_score_desc);
	for (guint i = 0; i < scan->symbols->len; i++)
		total += ((struct emf_symbol *)
		    g_ptr_array_index(scan->symbols, i))->score;
	/* Round away float noise so that 4.1 + 0.9 meets a threshold of 5. */
	r->score = round(total * 1000) / 1000;
	r->action = emf_policy_decide(e, r->score, scan->env.rcpts, &policy);
	r->policy = g_strdup(policy);
	r->scan_ms = (long)((g_get_monotonic_time() - scan->start_us) / 1000);
	return r;
}

void
emf_report_free(struct emf_report *r)
{
	if (r == NULL)
		return;
	emf_scan_free(r->scan);
	g_free(r->policy);
	g_free(r);
}

const struct emf_scan *
emf_report_scan(const struct emf_report *r)
{
	return r->scan;
}

const char *
emf_report_id(const struct emf_report *r)
{
	return r->scan->id;
}

double
emf_report_score(const struct emf_report *r)
{
	return r->score;
}

enum emf_action
emf_report_action(const struct emf_report *r)
{
	return r->action;
}

const char *
emf_report_policy(const struct emf_report *r)
{
	return r->policy;
}

long
emf_report_scan_ms(const struct emf_report *r)
{
	return r->scan_ms;
}

bool
emf_report_limits_hit(const struct emf_report *r)
{
	return r->scan->limits_hit->len > 0;
}

size_t
emf_report_nsymbols(const struct emf_report *r)
{
	return r->scan->symbols->len;
}

static const struct emf_symbol *
sym(const struct emf_report *r, size_t i)
{
	if (i >= r->scan->symbols->len)
		return NULL;
	return g_ptr_array_index(r->scan->symbols, i);
}

const char *
emf_report_symbol_name(const struct emf_report *r, size_t i)
{
	return sym(r, i) ? sym(r, i)->name : NULL;
}

double
emf_report_symbol_score(const struct emf_report *r, size_t i)
{
	return sym(r, i) ? sym(r, i)->score : 0;
}

const char *
emf_report_symbol_detail(const struct emf_report *r, size_t i)
{
	const struct emf_symbol *s = sym(r, i);

	if (s == NULL || s->hits->len == 0)
		return NULL;
	return ((struct emf_symbol_hit *)g_ptr_array_index(s->hits, 0))->detail;
}

bool
emf_report_has_symbol(const struct emf_report *r, const char *name)
{
	return emf_scan_has_symbol(r->scan, name);
}

char *
emf_report_symbols_summary(const struct emf_report *r)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < r->scan->symbols->len; i++) {
		const struct emf_symbol *y = sym(r, i);

		g_string_append_printf(s, "%s%s(%g)", i ? " " : "", y->name,
		    y->score);
	}
	return g_string_free(s, FALSE);
}

/* ---- JSON ---------------------------------------------------------------- */

static void
add_str(JsonBuilder *b, const char *key, const char *val)
{
	json_builder_set_member_name(b, key);
	if (val == NULL)
		json_builder_add_null_value(b);
	else
		json_builder_add_string_value(b, val);
}

static void
add_strlist(JsonBuilder *b, const char *key, const GPtrArray *a)
{
	json_builder_set_member_name(b, key);
	json_builder_begin_array(b);
	for (guint i = 0; a != NULL && i < a->len; i++)
		json_builder_add_string_value(b, g_ptr_array_index(a, i));
	json_builder_end_array(b);
}

static void
add_macro(JsonBuilder *b, const struct emf_macro *m)
{
	json_builder_begin_object(b);
	add_str(b, "module", m->module);
	add_str(b, "sha256", m->sha256);
	add_strlist(b, "autoexec", m->autoexec);
	add_strlist(b, "suspicious", m->suspicious);
	add_strlist(b, "urls", m->urls);
	json_builder_end_object(b);
}

static void
add_object(JsonBuilder *b, const struct emf_object *o)
{
	json_builder_begin_object(b);
	add_str(b, "path", o->path);
	add_str(b, "name", o->name);
	add_str(b, "type", emf_filetype_name(o->type));
	add_str(b, "mime_type", o->mime_type);
	json_builder_set_member_name(b, "size");
	json_builder_add_int_value(b, (gint64)o->size);
	if (o->declared_size != 0) {
		json_builder_set_member_name(b, "declared_size");
		json_builder_add_int_value(b, (gint64)o->declared_size);
	}
	json_builder_set_member_name(b, "truncated");
	json_builder_add_boolean_value(b, o->truncated);
	add_str(b, "sha256", o->sha256[0] ? o->sha256 : NULL);
	json_builder_set_member_name(b, "encrypted");
	json_builder_add_boolean_value(b, o->encrypted);
	add_str(b, "encryption", o->encryption);
	add_str(b, "password", o->password);
	add_str(b, "password_source", o->password_source);
	add_str(b, "format", o->format);
	add_str(b, "error", o->error);
	add_str(b, "vba_sha256", o->vba_sha256);
	json_builder_set_member_name(b, "macros");
	json_builder_begin_array(b);
	for (guint i = 0; o->macros != NULL && i < o->macros->len; i++)
		add_macro(b, g_ptr_array_index(o->macros, i));
	json_builder_end_array(b);
	add_strlist(b, "xlm_sheets", o->xlm_sheets);
	add_strlist(b, "external_links", o->external_links);
	add_strlist(b, "urls", o->urls);
	add_strlist(b, "lure", o->lure);
	add_strlist(b, "yara", o->yara);
	json_builder_set_member_name(b, "children");
	json_builder_begin_array(b);
	for (guint i = 0; o->children != NULL && i < o->children->len; i++)
		add_object(b, g_ptr_array_index(o->children, i));
	json_builder_end_array(b);
	json_builder_end_object(b);
}

static void
add_envelope(JsonBuilder *b, const struct emf_envelope_copy *env)
{
	json_builder_set_member_name(b, "envelope");
	json_builder_begin_object(b);
	add_str(b, "queue_id", env->queue_id);
	add_str(b, "client_ip", env->client_ip);
	add_str(b, "client_name", env->client_name);
	add_str(b, "helo", env->helo);
	add_str(b, "from", env->sender);
	add_str(b, "auth_user", env->auth_user);
	add_strlist(b, "rcpts", env->rcpts);
	json_builder_end_object(b);
}

static void
add_headers(JsonBuilder *b, const struct emf_msginfo *m)
{
	json_builder_set_member_name(b, "headers");
	json_builder_begin_object(b);
	add_str(b, "from", m->from);
	add_str(b, "to", m->to);
	add_str(b, "subject", m->subject);
	add_str(b, "message_id", m->message_id);
	add_str(b, "date", m->date);
	add_str(b, "reply_to", m->reply_to_addr);
	add_str(b, "return_path", m->return_path);
	add_str(b, "in_reply_to", m->in_reply_to);
	json_builder_end_object(b);
}

static void
add_symbols(JsonBuilder *b, const GPtrArray *symbols)
{
	json_builder_set_member_name(b, "symbols");
	json_builder_begin_array(b);
	for (guint i = 0; i < symbols->len; i++) {
		const struct emf_symbol *s = g_ptr_array_index(symbols, i);
		const struct emf_symbol_hit *h0 = s->hits->len ?
		    g_ptr_array_index(s->hits, 0) : NULL;

		json_builder_begin_object(b);
		add_str(b, "name", s->name);
		json_builder_set_member_name(b, "score");
		json_builder_add_double_value(b, s->score);
		add_str(b, "detail", h0 ? h0->detail : NULL);
		add_str(b, "object", h0 ? h0->object : NULL);
		json_builder_set_member_name(b, "count");
		json_builder_add_int_value(b, s->nhits);
		json_builder_set_member_name(b, "hits");
		json_builder_begin_array(b);
		for (guint j = 0; j < s->hits->len; j++) {
			const struct emf_symbol_hit *h =
			    g_ptr_array_index(s->hits, j);

			json_builder_begin_object(b);
			add_str(b, "detail", h->detail);
			add_str(b, "object", h->object);
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
}

static void
add_passwords(JsonBuilder *b, const GPtrArray *pws)
{
	json_builder_set_member_name(b, "passwords");
	json_builder_begin_array(b);
	for (guint i = 0; i < pws->len; i++) {
		const struct emf_password *p = g_ptr_array_index(pws, i);

		json_builder_begin_object(b);
		add_str(b, "password", p->value);
		add_str(b, "source", p->source);
		json_builder_set_member_name(b, "used");
		json_builder_add_boolean_value(b, p->used);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
}

/*
 * JSON that every consumer accepts. json-glib's generator leaves some
 * control characters raw inside strings (0x1f, DEL), and U+2028/U+2029
 * end a line in JavaScript; an invalid UTF-8 byte (should one slip
 * through) fails a strict decoder. Walk the generated text and, inside
 * strings only, write each of those as a \u escape (an invalid byte as
 * \ufffd). Escapes json-glib already wrote are kept as they are.
 */
char *
emf_json_strict(const char *json)
{
	GString *o = g_string_sized_new(strlen(json) + 16);
	bool in_str = false;
	const char *p = json;

	while (*p != '\0') {
		unsigned char c = (unsigned char)*p;
		gunichar u;

		if (!in_str) {
			if (c == '"')
				in_str = true;
			g_string_append_c(o, (char)c);
			p++;
			continue;
		}
		if (c == '"') {
			in_str = false;
			g_string_append_c(o, '"');
			p++;
		} else if (c == '\\' && p[1] != '\0') {
			g_string_append_len(o, p, 2);
			p += 2;
		} else if (c < 0x20 || c == 0x7f) {
			g_string_append_printf(o, "\\u%04x", c);
			p++;
		} else if (c < 0x80) {
			g_string_append_c(o, (char)c);
			p++;
		} else if ((u = g_utf8_get_char_validated(p, -1)) ==
		    (gunichar)-1 || u == (gunichar)-2) {
			g_string_append(o, "\\ufffd");
			p++;
		} else {
			const char *next = g_utf8_next_char(p);

			if (u == 0x2028 || u == 0x2029)
				g_string_append_printf(o, "\\u%04x", u);
			else
				g_string_append_len(o, p, next - p);
			p = next;
		}
	}
	return g_string_free(o, FALSE);
}

static char *
iso_time(gint64 t)
{
	GDateTime *d = g_date_time_new_from_unix_utc(t);
	char *s = g_date_time_format(d, "%Y-%m-%dT%H:%M:%SZ");

	g_date_time_unref(d);
	return s;
}

char *
emf_report_json(const struct emf_report *r, bool pretty)
{
	const struct emf_scan *scan = r->scan;
	JsonBuilder *b = json_builder_new();
	JsonGenerator *g;
	JsonNode *root;
	char *out, *t;

	json_builder_begin_object(b);
	add_str(b, "id", scan->id);
	t = iso_time(scan->time);
	add_str(b, "time", t);
	g_free(t);
	add_envelope(b, &scan->env);
	add_headers(b, &scan->msg);
	json_builder_set_member_name(b, "score");
	json_builder_add_double_value(b, r->score);
	add_str(b, "action", emf_action_name(r->action));
	if (r->policy != NULL)
		add_str(b, "policy", r->policy);
	add_symbols(b, scan->symbols);
	json_builder_set_member_name(b, "objects");
	json_builder_begin_array(b);
	for (guint i = 0; i < scan->roots->len; i++)
		add_object(b, g_ptr_array_index(scan->roots, i));
	json_builder_end_array(b);
	add_passwords(b, scan->passwords);
	add_strlist(b, "limits_hit", scan->limits_hit);
	json_builder_set_member_name(b, "scan_ms");
	json_builder_add_int_value(b, r->scan_ms);
	json_builder_end_object(b);

	root = json_builder_get_root(b);
	g = json_generator_new();
	json_generator_set_pretty(g, pretty);
	json_generator_set_root(g, root);
	t = json_generator_to_data(g, NULL);
	out = emf_json_strict(t);
	g_free(t);
	json_node_unref(root);
	g_object_unref(g);
	g_object_unref(b);
	return out;
}

/* ---- text ---------------------------------------------------------------- */

/* Format characters that reorder or hide text: C1, zero-width, bidi. */
static bool
hidden_format(gunichar c)
{
	return (c >= 0x80 && c < 0xa0) || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
	    c == 0x2028 || c == 0x2029 || c == 0xfeff;
}

/*
 * Copy s for a terminal: control characters and invalid bytes shown as
 * \xHH, bidirectional, zero-width and C1 format characters as \uHHHH
 * (a right-to-left override in a file name would reverse what follows).
 */
static void
append_safe(GString *s, const char *text)
{
	const char *p = text ? text : "";

	while (*p != '\0') {
		unsigned char c = (unsigned char)*p;
		gunichar u;

		if (c < 0x20 || c == 0x7f) {
			g_string_append_printf(s, "\\x%02x", c);
			p++;
		} else if (c < 0x80) {
			g_string_append_c(s, (char)c);
			p++;
		} else if ((u = g_utf8_get_char_validated(p, -1)) ==
		    (gunichar)-1 || u == (gunichar)-2) {
			g_string_append_printf(s, "\\x%02x", c);
			p++;
		} else {
			const char *next = g_utf8_next_char(p);

			if (hidden_format(u))
				g_string_append_printf(s, "\\u%04x", u);
			else
				g_string_append_len(s, p, next - p);
			p = next;
		}
	}
}

static void
text_object(GString *s, const struct emf_object *o, int indent)
{
	g_string_append_printf(s, "%*s- ", indent, "");
	append_safe(s, o->path);
	g_string_append_printf(s, "  [%s, %zu bytes%s]", emf_filetype_name(o->type),
	    o->size, o->truncated ? ", leading part" : "");
	if (o->format) {
		g_string_append(s, " ");
		append_safe(s, o->format);
	}
	g_string_append_printf(s, "\n%*s  sha256 %s\n", indent, "",
	    o->sha256[0] ? o->sha256 : "-");
	if (o->encrypted) {
		g_string_append_printf(s, "%*s  encrypted (%s)", indent, "",
		    o->encryption ? o->encryption : "?");
		if (o->password) {
			g_string_append(s, ", opened with password \"");
			append_safe(s, o->password);
			g_string_append(s, "\" from ");
			append_safe(s, o->password_source);
		}
		g_string_append(s, "\n");
	}
	if (o->error) {
		g_string_append_printf(s, "%*s  malformed: ", indent, "");
		append_safe(s, o->error);
		g_string_append(s, "\n");
	}
	for (guint i = 0; o->macros && i < o->macros->len; i++) {
		const struct emf_macro *m = g_ptr_array_index(o->macros, i);

		g_string_append_printf(s, "%*s  macro ", indent, "");
		append_safe(s, m->module);
		for (guint j = 0; m->autoexec && j < m->autoexec->len; j++) {
			g_string_append(s, j ? ", " : "  autoexec: ");
			append_safe(s, g_ptr_array_index(m->autoexec, j));
		}
		for (guint j = 0; m->suspicious && j < m->suspicious->len; j++) {
			g_string_append(s, j ? ", " : "  suspicious: ");
			append_safe(s, g_ptr_array_index(m->suspicious, j));
		}
		g_string_append(s, "\n");
	}
	{
		const struct { const char *label; const GPtrArray *a; } lists[] = {
			{ "xlm sheet", o->xlm_sheets },
			{ "external link", o->external_links },
			{ "url", o->urls },
			{ "lure", o->lure },
			{ "yara", o->yara },
		};

		for (size_t k = 0; k < G_N_ELEMENTS(lists); k++) {
			for (guint j = 0; lists[k].a && j < lists[k].a->len; j++) {
				g_string_append_printf(s, "%*s  %s: ", indent,
				    "", lists[k].label);
				append_safe(s, g_ptr_array_index(lists[k].a, j));
				g_string_append(s, "\n");
			}
		}
	}
	for (guint i = 0; o->children && i < o->children->len; i++)
		text_object(s, g_ptr_array_index(o->children, i), indent + 2);
}

char *
emf_report_text(const struct emf_report *r)
{
	const struct emf_scan *scan = r->scan;
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "id:      %s\n", scan->id);
	g_string_append(s, "from:    ");
	append_safe(s, scan->msg.from);
	g_string_append(s, "\nsubject: ");
	append_safe(s, scan->msg.subject);
	g_string_append_printf(s, "\nscore:   %g\naction:  %s", r->score,
	    emf_action_name(r->action));
	if (r->policy != NULL)
		g_string_append_printf(s, " (policy %s)", r->policy);
	g_string_append(s, "\n");
	g_string_append(s, "symbols:\n");
	for (guint i = 0; i < scan->symbols->len; i++) {
		const struct emf_symbol *y = g_ptr_array_index(scan->symbols, i);

		g_string_append_printf(s, "  %-26s %6g", y->name, y->score);
		for (guint j = 0; j < y->hits->len; j++) {
			const struct emf_symbol_hit *h =
			    g_ptr_array_index(y->hits, j);

			g_string_append(s, j ? "\n  " : "  ");
			if (j)
				g_string_append_printf(s, "%33s", "");
			append_safe(s, h->detail);
			if (h->object) {
				g_string_append(s, " [");
				append_safe(s, h->object);
				g_string_append(s, "]");
			}
		}
		if (y->nhits > y->hits->len)
			g_string_append_printf(s, " (+%u more)",
			    y->nhits - y->hits->len);
		g_string_append(s, "\n");
	}
	if (scan->roots->len)
		g_string_append(s, "objects:\n");
	for (guint i = 0; i < scan->roots->len; i++)
		text_object(s, g_ptr_array_index(scan->roots, i), 2);
	if (scan->limits_hit->len) {
		g_string_append(s, "limits hit:");
		for (guint i = 0; i < scan->limits_hit->len; i++)
			g_string_append_printf(s, " %s",
			    (char *)g_ptr_array_index(scan->limits_hit, i));
		g_string_append(s, "\n");
	}
	g_string_append_printf(s, "scan time: %ld ms\n", r->scan_ms);
	return g_string_free(s, FALSE);
}
