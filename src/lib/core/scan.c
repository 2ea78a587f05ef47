/*
 * scan.c - the scan driver: context, budget, symbols, objects, the work
 * queue and the dispatcher, scoring.
 *
 * Every nested object enters through emf_object_child(), which checks the
 * object count and the container depth, and is processed by
 * scan_one_object(), which checks the deadline: one gate for every route
 * (rspamd's message/rfc822 recursion bug is what a second route costs).
 * The queue is processed iteratively, so hostile nesting never grows the C
 * stack.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "charset.h"
#include "composite.h"
#include "engine.h"
#include "log.h"
#include "modules.h"
#include "report.h"
#include "scan.h"
#include "symbols.h"

/* Detail lines kept per symbol, and entries kept per object list. */
#define SYMBOL_HITS_MAX 20
#define STRLIST_MAX 200
#define DETAIL_MAX 512

/* ---- library init ------------------------------------------------------- */

enum emf_rc
emf_library_init(void)
{
	emf_mime_init();
	return emf_yara_library_init();
}

void
emf_library_shutdown(void)
{
	emf_yara_library_shutdown();
	emf_mime_shutdown();
}

const char *
emf_rc_str(enum emf_rc rc)
{
	switch (rc) {
	case EMF_OK: return "ok";
	case EMF_ERR_NOMEM: return "out of memory";
	case EMF_ERR_LIMIT: return "limit exceeded";
	case EMF_ERR_FORMAT: return "malformed input";
	case EMF_ERR_TIMEOUT: return "timed out";
	case EMF_ERR_IO: return "I/O error";
	case EMF_ERR_CONFIG: return "configuration error";
	case EMF_ERR_INTERNAL: return "internal error";
	}
	return "unknown error";
}

const char *
emf_action_name(enum emf_action action)
{
	switch (action) {
	case EMF_ACTION_ACCEPT: return "accept";
	case EMF_ACTION_TAG: return "tag";
	case EMF_ACTION_QUARANTINE: return "quarantine";
	case EMF_ACTION_REJECT: return "reject";
	}
	return "accept";
}

void
emf_free(void *p)
{
	g_free(p);
}

/* ---- symbols ------------------------------------------------------------ */

static void
symbol_free(gpointer p)
{
	struct emf_symbol *s = p;

	for (guint i = 0; i < s->hits->len; i++) {
		struct emf_symbol_hit *h = g_ptr_array_index(s->hits, i);

		g_free(h->detail);
		g_free(h->object);
		g_free(h);
	}
	g_ptr_array_free(s->hits, TRUE);
	g_free(s->name);
	g_free(s);
}

static void
symbol_addv(struct emf_scan *scan, const char *name, double score,
    const struct emf_object *obj, const char *fmt, va_list ap)
    G_GNUC_PRINTF(5, 0);

static void
symbol_addv(struct emf_scan *scan, const char *name, double score,
    const struct emf_object *obj, const char *fmt, va_list ap)
{
	struct emf_symbol *s = g_hash_table_lookup(scan->symbol_index, name);
	char detail[DETAIL_MAX];

	if (s == NULL) {
		s = g_new0(struct emf_symbol, 1);
		s->name = g_strdup(name);
		s->score = score;
		s->hits = g_ptr_array_new();
		g_ptr_array_add(scan->symbols, s);
		g_hash_table_insert(scan->symbol_index, s->name, s);
	}
	s->nhits++;
	if (s->hits->len >= SYMBOL_HITS_MAX)
		return;
	g_vsnprintf(detail, sizeof(detail), fmt, ap);
	{
		struct emf_symbol_hit *h = g_new0(struct emf_symbol_hit, 1);

		h->detail = g_utf8_make_valid(detail, -1);
		h->object = obj ? g_strdup(obj->path) : NULL;
		g_ptr_array_add(s->hits, h);
	}
}

void
emf_symbol(struct emf_scan *scan, const char *name,
    const struct emf_object *obj, const char *fmt, ...)
{
	va_list ap;

	if (emf_symbol_def(name) == NULL)
		g_error("emf_symbol: unknown symbol %s", name);
	va_start(ap, fmt);
	symbol_addv(scan, name, emf_engine_score(scan->engine, name), obj,
	    fmt, ap);
	va_end(ap);
}

void
emf_symbol_scored(struct emf_scan *scan, const char *name, double score,
    const struct emf_object *obj, const char *fmt, ...)
{
	va_list ap;
	double w;

	/* The configuration has the last word over a rule's own score. */
	if (emf_cfg_score(scan->cfg, name, &w))
		score = w;
	va_start(ap, fmt);
	symbol_addv(scan, name, score, obj, fmt, ap);
	va_end(ap);
}

bool
emf_scan_has_symbol(const struct emf_scan *scan, const char *name)
{
	return g_hash_table_contains(scan->symbol_index, name);
}

/* Whether object path p is path or lies under it. */
static bool
path_under(const char *p, const char *path)
{
	size_t n = strlen(path);

	return p != NULL && strncmp(p, path, n) == 0 &&
	    (p[n] == '\0' || p[n] == '/');
}

unsigned
emf_symbol_drop(struct emf_scan *scan, const char *name, const char *path)
{
	struct emf_symbol *s = g_hash_table_lookup(scan->symbol_index, name);
	unsigned dropped = 0;

	if (s == NULL)
		return 0;
	for (guint i = s->hits->len; i > 0; i--) {
		struct emf_symbol_hit *h = g_ptr_array_index(s->hits, i - 1);

		if (!path_under(h->object, path))
			continue;
		g_ptr_array_remove_index(s->hits, i - 1);
		g_free(h->detail);
		g_free(h->object);
		g_free(h);
		dropped++;
	}
	s->nhits -= dropped;
	/* Hits past the cap were not kept: while some may remain, so does
	 * the symbol. */
	if (s->nhits == 0) {
		g_hash_table_remove(scan->symbol_index, name);
		g_ptr_array_remove(scan->symbols, s);
	}
	return dropped;
}

/* ---- limits and budget ------------------------------------------------- */

void
emf_limit_hit(struct emf_scan *scan, const char *limit,
    const struct emf_object *obj, const char *fmt, ...)
{
	char detail[DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	g_vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	for (guint i = 0; i < scan->limits_hit->len; i++)
		if (strcmp(g_ptr_array_index(scan->limits_hit, i), limit) == 0)
			goto raise;
	g_ptr_array_add(scan->limits_hit, g_strdup(limit));
raise:
	emf_symbol(scan, "LIMIT_EXCEEDED", obj, "%s: %s", limit, detail);
}

bool
emf_scan_expired(struct emf_scan *scan)
{
	if (scan->expired)
		return true;
	if (g_get_monotonic_time() < scan->deadline_us)
		return false;
	scan->expired = true;
	emf_limit_hit(scan, "time", NULL,
	    "scan stopped after %ld ms; what was left is not scanned",
	    scan->limits->scan_timeout_ms);
	return true;
}

long
emf_scan_remaining_ms(const struct emf_scan *scan)
{
	gint64 left = scan->deadline_us - g_get_monotonic_time();

	return left > 0 ? (long)(left / 1000) : 0;
}

bool
emf_budget_bytes(struct emf_scan *scan, size_t n)
{
	if (n > scan->limits->total_bytes ||
	    scan->bytes_extracted > scan->limits->total_bytes - n) {
		emf_limit_hit(scan, "total_bytes", NULL,
		    "more than %zu bytes extracted from the message",
		    scan->limits->total_bytes);
		return false;
	}
	scan->bytes_extracted += n;
	return true;
}

size_t
emf_budget_child_cap(const struct emf_scan *scan)
{
	size_t left = scan->limits->total_bytes - scan->bytes_extracted;

	return left < scan->limits->object_bytes ? left :
	    scan->limits->object_bytes;
}

/* ---- objects ------------------------------------------------------------ */

void
emf_strlist_add(GPtrArray **arr, const char *s)
{
	if (s == NULL)
		return;
	if (*arr == NULL)
		*arr = g_ptr_array_new_with_free_func(g_free);
	if ((*arr)->len >= STRLIST_MAX)
		return;
	for (guint i = 0; i < (*arr)->len; i++)
		if (strcmp(g_ptr_array_index(*arr, i), s) == 0)
			return;
	g_ptr_array_add(*arr, g_utf8_make_valid(s, -1));
}

struct emf_macro *
emf_macro_new(const char *module)
{
	struct emf_macro *m = g_new0(struct emf_macro, 1);

	m->module = g_utf8_make_valid(module ? module : "", -1);
	return m;
}

void
emf_macro_free(struct emf_macro *m)
{
	if (m == NULL)
		return;
	g_free(m->module);
	g_free(m->sha256);
	if (m->autoexec)
		g_ptr_array_free(m->autoexec, TRUE);
	if (m->suspicious)
		g_ptr_array_free(m->suspicious, TRUE);
	if (m->urls)
		g_ptr_array_free(m->urls, TRUE);
	g_free(m);
}

static void
object_free(gpointer p)
{
	struct emf_object *o = p;
	GPtrArray **lists[] = { &o->xlm_sheets, &o->external_links, &o->urls,
		&o->lure, &o->yara };

	if (o == NULL)
		return;
	g_free(o->path);
	g_free(o->name);
	g_free(o->mime_type);
	g_free(o->data);
	g_free(o->encryption);
	g_free(o->password);
	g_free(o->password_source);
	g_free(o->format);
	g_free(o->error);
	g_free(o->vba_sha256);
	if (o->macros != NULL) {
		for (guint i = 0; i < o->macros->len; i++)
			emf_macro_free(g_ptr_array_index(o->macros, i));
		g_ptr_array_free(o->macros, TRUE);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(lists); i++)
		if (*lists[i] != NULL)
			g_ptr_array_free(*lists[i], TRUE);
	if (o->children != NULL)
		g_ptr_array_free(o->children, TRUE);
	g_free(o);
}

/* A path component: the name with '/' made harmless, or a number. */
static char *
path_component(const char *name, guint index)
{
	char *c;

	if (name == NULL || *name == '\0')
		return g_strdup_printf("%u", index);
	c = g_utf8_make_valid(name, -1);
	g_strdelimit(c, "/\\", '_');
	return c;
}

struct emf_object *
emf_object_child(struct emf_scan *scan, struct emf_object *parent,
    const char *name, const char *mime_type, uint8_t *data, size_t len)
{
	const struct emf_limits *l = scan->limits;
	GPtrArray *siblings;
	struct emf_object *o;
	char *comp;

	if (scan->nobjects >= l->max_objects) {
		emf_limit_hit(scan, "max_objects", parent,
		    "more than %u objects in the message", l->max_objects);
		g_free(data);
		return NULL;
	}
	if (parent != NULL && parent->depth + 1 > l->container_depth) {
		emf_limit_hit(scan, "container_depth", parent,
		    "nested deeper than %u containers", l->container_depth);
		g_free(data);
		return NULL;
	}
	o = g_new0(struct emf_object, 1);
	o->id = ++scan->nobjects;
	o->parent = parent;
	o->depth = parent ? parent->depth + 1 : 0;
	o->name = name ? g_utf8_make_valid(name, -1) : NULL;
	o->mime_type = mime_type ? g_strdup(mime_type) : NULL;
	o->data = data;
	o->len = len;
	o->size = len;
	if (parent != NULL) {
		if (parent->children == NULL)
			parent->children = g_ptr_array_new_with_free_func(
			    object_free);
		siblings = parent->children;
	} else {
		siblings = scan->roots;
	}
	comp = path_component(name, siblings->len + 1);
	o->path = parent ? g_strdup_printf("%s/%s", parent->path, comp) :
	    g_strdup_printf("%u/%s", siblings->len + 1, comp);
	if (parent == NULL && name == NULL)
		o->path[strlen(o->path) - strlen(comp) - 1] = '\0';
	g_free(comp);
	g_ptr_array_add(siblings, o);
	g_queue_push_tail(&scan->queue, o);
	return o;
}

/* ---- texts and passwords ------------------------------------------------ */

static void
text_free(gpointer p)
{
	struct emf_text *t = p;

	g_free(t->utf8);
	g_free(t->nfkc);
	g_free(t);
}

const char *
emf_text_nfkc(struct emf_text *t, size_t *len)
{
	if (t->nfkc == NULL) {
		t->nfkc = emf_utf8_nfkc(t->utf8, t->len);
		if (t->nfkc == NULL)	/* cannot happen: utf8 is valid */
			t->nfkc = g_strdup("");
		t->nfkc_len = strlen(t->nfkc);
	}
	*len = t->nfkc_len;
	return t->nfkc;
}

void
emf_text_add(struct emf_scan *scan, enum emf_text_kind kind,
    struct emf_object *obj, const char *utf8, size_t len)
{
	struct emf_text *t;
	size_t cap = scan->limits->text_bytes;

	if (utf8 == NULL || len == 0)
		return;
	if (len > cap) {
		emf_limit_hit(scan, "text_bytes", obj,
		    "text cut to %zu bytes for the heuristics", cap);
		len = cap;
	}
	t = g_new0(struct emf_text, 1);
	t->kind = kind;
	t->obj = obj;
	t->utf8 = g_utf8_make_valid(utf8, (gssize)len);
	t->len = strlen(t->utf8);
	g_ptr_array_add(scan->texts, t);
}

static void
password_free(gpointer p)
{
	struct emf_password *pw = p;

	g_free(pw->value);
	g_free(pw->source);
	g_free(pw);
}

void
emf_password_add(struct emf_scan *scan, const char *value,
    const char *source)
{
	struct emf_password *pw;

	if (value == NULL || *value == '\0' ||
	    strlen(value) > scan->limits->password_length)
		return;
	for (guint i = 0; i < scan->passwords->len; i++) {
		pw = g_ptr_array_index(scan->passwords, i);
		if (strcmp(pw->value, value) == 0)
			return;
	}
	if (scan->passwords->len >= scan->limits->password_candidates) {
		emf_limit_hit(scan, "password_candidates", NULL,
		    "more than %u password candidates",
		    scan->limits->password_candidates);
		return;
	}
	pw = g_new0(struct emf_password, 1);
	pw->value = g_utf8_make_valid(value, -1);
	pw->source = g_strdup(source ? source : "");
	g_ptr_array_add(scan->passwords, pw);
}

/* ---- the dispatcher ------------------------------------------------------ */

/* Handlers by sniffed type. A zip is told apart from OOXML by its members. */
static void
handle_zip(struct emf_scan *scan, struct emf_object *obj)
{
	struct emf_zip *zip;
	char *why = NULL;

	if (emf_zip_open(obj->data, obj->len, &zip, &why) != EMF_OK) {
		g_free(obj->error);
		obj->error = g_strdup_printf("zip: %s", why ? why : "unreadable");
		emf_symbol(scan, "ARCHIVE_MALFORMED", obj, "%s", obj->error);
		g_free(why);
		return;
	}
	if (emf_zip_find(zip, "[Content_Types].xml") >= 0) {
		obj->type = EMF_FT_OOXML;
		emf_ooxml_handle(scan, obj, zip);
	} else {
		emf_archive_handle(scan, obj, zip);
	}
	emf_zip_close(zip);
}

/* A whole mail as an attachment (a .eml, a forwarded message). */
static void
handle_message(struct emf_scan *scan, struct emf_object *obj)
{
	emf_mime_walk(scan, obj, obj->data, obj->len);
}

static const struct {
	enum emf_ftype type;
	void (*fn)(struct emf_scan *scan, struct emf_object *obj);
} handlers[] = {
	{ EMF_FT_ZIP, handle_zip },
	{ EMF_FT_MESSAGE, handle_message },
	/* office */
	{ EMF_FT_OLE2, emf_office_ole_handle },
	{ EMF_FT_SYLK, emf_office_sylk_handle },
	{ EMF_FT_TEXT, emf_office_text_handle },
	{ EMF_FT_RTF, emf_rtf_handle },
	{ EMF_FT_ONENOTE, emf_onenote_handle },
	{ EMF_FT_XML, emf_ooxml_flat_handle },
	{ EMF_FT_MAX, NULL }
};

/* Shown every object, before its handler (YARA over the raw bytes). */
static void (*const object_analysers[])(struct emf_scan *,
    struct emf_object *) = {
	/* yara */
	emf_yara_object,
	NULL
};

/* Shown every object after its handler, when its type is settled. */
static void (*const object_checks[])(struct emf_scan *,
    struct emf_object *) = {
	emf_attach_check,
	NULL
};

/* Run once the mail is walked, before any archive is opened. */
static void (*const pre_queue_analysers[])(struct emf_scan *) = {
	/* passwords */
	emf_passwords_harvest,
	NULL
};

/* Run once every object is scanned (mail heuristics, YARA on texts). */
static void (*const post_queue_analysers[])(struct emf_scan *) = {
	/* heuristics, lure, yara */
	emf_heuristics_run,
	emf_lure_run,
	emf_yara_texts,
	emf_heuristics_vba_allowlist,	/* last: drops what it allows */
	NULL
};

static void
run_analysers(struct emf_scan *scan, void (*const *fns)(struct emf_scan *))
{
	for (size_t i = 0; fns[i] != NULL && !emf_scan_expired(scan); i++)
		fns[i](scan);
}

static void
sha256_hex(const uint8_t *data, size_t len, char out[65])
{
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);

	g_checksum_update(c, data ? data : (const uint8_t *)"", (gssize)len);
	g_strlcpy(out, g_checksum_get_string(c), 65);
	g_checksum_free(c);
}

static void
scan_one_object(struct emf_scan *scan, struct emf_object *obj)
{
	/* An encrypted member we could not open: nothing to look at. */
	if (obj->encrypted && obj->password == NULL && obj->data == NULL)
		return;
	if (obj->type == EMF_FT_UNKNOWN)
		obj->type = emf_filetype_sniff(obj->data, obj->len);
	sha256_hex(obj->data, obj->len, obj->sha256);
	for (size_t i = 0; object_analysers[i] != NULL; i++)
		object_analysers[i](scan, obj);
	for (size_t i = 0; handlers[i].fn != NULL; i++) {
		if (handlers[i].type == obj->type) {
			handlers[i].fn(scan, obj);
			break;
		}
	}
	for (size_t i = 0; object_checks[i] != NULL; i++)
		object_checks[i](scan, obj);
}

void
emf_scan_run_queue(struct emf_scan *scan)
{
	struct emf_object *obj;

	while ((obj = g_queue_pop_head(&scan->queue)) != NULL) {
		if (emf_scan_expired(scan)) {
			/* Drop what is left; the time limit says so. */
			do {
				g_free(obj->data);
				obj->data = NULL;
			} while ((obj = g_queue_pop_head(&scan->queue)) != NULL);
			break;
		}
		scan_one_object(scan, obj);
		/* The children hold what they need: free the parent's bytes. */
		g_free(obj->data);
		obj->data = NULL;
		obj->len = 0;
	}
}

/* ---- the scan ----------------------------------------------------------- */

static void
make_id(char *id, size_t n, gint64 now)
{
	time_t t = (time_t)now;
	struct tm tm;
	char stamp[20];

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	g_snprintf(id, n, "%s-%08x", stamp, g_random_int());
}

static char *
dup_or_null(const char *s)
{
	return s ? g_utf8_make_valid(s, -1) : NULL;
}

static struct emf_scan *
scan_new(struct emf_engine *engine, const struct emf_envelope *env)
{
	struct emf_scan *scan = g_new0(struct emf_scan, 1);

	scan->engine = emf_engine_ref(engine);
	scan->cfg = engine->cfg;
	scan->limits = &engine->limits;
	scan->time = g_get_real_time() / G_USEC_PER_SEC;
	scan->start_us = g_get_monotonic_time();
	scan->deadline_us = scan->start_us +
	    (gint64)scan->limits->scan_timeout_ms * 1000;
	make_id(scan->id, sizeof(scan->id), scan->time);
	scan->roots = g_ptr_array_new_with_free_func(object_free);
	g_queue_init(&scan->queue);
	scan->texts = g_ptr_array_new_with_free_func(text_free);
	scan->passwords = g_ptr_array_new_with_free_func(password_free);
	scan->symbols = g_ptr_array_new_with_free_func(symbol_free);
	scan->symbol_index = g_hash_table_new(g_str_hash, g_str_equal);
	scan->limits_hit = g_ptr_array_new_with_free_func(g_free);
	scan->env.rcpts = g_ptr_array_new_with_free_func(g_free);
	if (env != NULL) {
		scan->env.queue_id = dup_or_null(env->queue_id);
		scan->env.client_ip = dup_or_null(env->client_ip);
		scan->env.client_name = dup_or_null(env->client_name);
		scan->env.helo = dup_or_null(env->helo);
		scan->env.sender = dup_or_null(env->sender);
		scan->env.auth_user = dup_or_null(env->auth_user);
		for (size_t i = 0; i < env->nrcpts; i++)
			if (env->rcpts[i] != NULL)
				g_ptr_array_add(scan->env.rcpts,
				    g_utf8_make_valid(env->rcpts[i], -1));
	}
	return scan;
}

struct emf_scan *
emf_scan_new(struct emf_engine *engine, const struct emf_envelope *env)
{
	return scan_new(engine, env);
}

void
emf_scan_free(struct emf_scan *scan)
{
	struct emf_msginfo *m;

	if (scan == NULL)
		return;
	m = &scan->msg;
	g_queue_clear(&scan->queue);
	g_ptr_array_free(scan->roots, TRUE);
	g_ptr_array_free(scan->texts, TRUE);
	g_ptr_array_free(scan->passwords, TRUE);
	g_hash_table_destroy(scan->symbol_index);
	g_ptr_array_free(scan->symbols, TRUE);
	g_ptr_array_free(scan->limits_hit, TRUE);
	g_ptr_array_free(scan->env.rcpts, TRUE);
	g_free(scan->env.queue_id);
	g_free(scan->env.client_ip);
	g_free(scan->env.client_name);
	g_free(scan->env.helo);
	g_free(scan->env.sender);
	g_free(scan->env.auth_user);
	g_free(m->from);
	g_free(m->from_name);
	g_free(m->from_addr);
	g_free(m->to);
	g_free(m->reply_to_addr);
	g_free(m->return_path);
	g_free(m->subject);
	g_free(m->message_id);
	g_free(m->date);
	g_free(m->in_reply_to);
	g_free(m->references);
	emf_engine_unref(scan->engine);
	g_free(scan);
}

/* emf_scan_opts: the candidates go first, the state note last. */
static void
scan_opts_begin(struct emf_scan *scan, const struct emf_scan_opts *opts)
{
	if (opts == NULL)
		return;
	scan->state_full = opts->state_full;
	scan->memory = opts->memory;
	if (opts->passwords == NULL)
		return;
	scan->extra_source = opts->password_source ? opts->password_source :
	    "given to the scan";
	for (size_t i = 0; opts->passwords[i] != NULL; i++)
		emf_password_add(scan, opts->passwords[i], scan->extra_source);
}

/*
 * A member opened with a password from a later mail of the sender (PPAP)
 * is scored as if the password had been in its own mail
 * (ARCHIVE_PASSWORD_IN_BODY stays: the verdict of a separate-password
 * pair is the verdict of the same mail with its password, whatever the
 * weights); ARCHIVE_PASSWORD_SEPARATE (informational) says what happened.
 */
static void
opened_separately(struct emf_scan *scan, const struct emf_object *o)
{
	if (o->password_source != NULL &&
	    strcmp(o->password_source, scan->extra_source) == 0)
		emf_symbol(scan, "ARCHIVE_PASSWORD_SEPARATE", o,
		    "opened with a password from %s", scan->extra_source);
	for (guint i = 0; o->children != NULL && i < o->children->len; i++)
		opened_separately(scan, g_ptr_array_index(o->children, i));
}

static void
scan_opts_end(struct emf_scan *scan)
{
	if (scan->extra_source != NULL)
		for (guint i = 0; i < scan->roots->len; i++)
			opened_separately(scan,
			    g_ptr_array_index(scan->roots, i));
	scan->extra_source = NULL;	/* borrowed for the scan only */
	if (scan->state_full != NULL &&
	    emf_scan_has_symbol(scan, "ARCHIVE_PASSWORD_UNKNOWN"))
		emf_limit_hit(scan, scan->state_full, NULL,
		    "correlation state full: the oldest held mail expires "
		    "early to hold this one");
	scan->state_full = NULL;	/* borrowed for the scan only */
	scan->memory = NULL;
}

/* Everything after the objects are queued: the same for mail and file. */
static enum emf_rc
scan_finish(struct emf_scan *scan, struct emf_report **out)
{
	run_analysers(scan, pre_queue_analysers);
	emf_scan_run_queue(scan);
	run_analysers(scan, post_queue_analysers);
	/* The extra candidates' bookkeeping first; then scoring: every
	 * symbol is in, the composites see them all. */
	scan_opts_end(scan);
	emf_composites_run(scan);
	*out = emf_report_from_scan(scan);
	return EMF_OK;
}

enum emf_rc
emf_scan_message(struct emf_engine *engine, const void *msg, size_t len,
    const struct emf_envelope *env, struct emf_report **out)
{
	return emf_scan_message_opts(engine, msg, len, env, NULL, out);
}

enum emf_rc
emf_scan_message_opts(struct emf_engine *engine, const void *msg,
    size_t len, const struct emf_envelope *env,
    const struct emf_scan_opts *opts, struct emf_report **out)
{
	struct emf_scan *scan = scan_new(engine, env);

	if (len > scan->limits->max_message_bytes) {
		emf_limit_hit(scan, "max_message_bytes", NULL,
		    "message of %zu bytes not scanned (limit %zu)", len,
		    scan->limits->max_message_bytes);
		*out = emf_report_from_scan(scan);
		return EMF_OK;
	}
	scan_opts_begin(scan, opts);
	emf_mime_walk(scan, NULL, msg, len);
	return scan_finish(scan, out);
}

enum emf_rc
emf_scan_file(struct emf_engine *engine, const void *data, size_t len,
    const char *name, const struct emf_envelope *env,
    struct emf_report **out)
{
	struct emf_scan *scan = scan_new(engine, env);
	size_t cap = scan->limits->object_bytes;
	uint8_t *copy;
	struct emf_object *o;

	if (len > cap) {
		emf_limit_hit(scan, "object_bytes", NULL,
		    "file of %zu bytes cut to %zu", len, cap);
		len = cap;
	}
	copy = g_memdup2(data, len);
	o = emf_object_child(scan, NULL, name ? name : "file", NULL, copy,
	    len);
	(void)o;
	return scan_finish(scan, out);
}
