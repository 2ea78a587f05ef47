/*
 * yarascan.c - compile the rule directories once, scan objects and texts.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <yara.h>

#include "core/cfg.h"
#include "core/engine.h"
#include "core/scan.h"
#include "yarascan.h"

struct emf_yara {
	YR_RULES *rules;
	unsigned nrules;
};

enum emf_rc
emf_yara_library_init(void)
{
	return yr_initialize() == ERROR_SUCCESS ? EMF_OK : EMF_ERR_INTERNAL;
}

void
emf_yara_library_shutdown(void)
{
	yr_finalize();
}

void
emf_yara_fini(void *state)
{
	struct emf_yara *y = state;

	if (y == NULL)
		return;
	if (y->rules != NULL)
		yr_rules_destroy(y->rules);
	g_free(y);
}

unsigned
emf_yara_rule_count(const struct emf_yara *y)
{
	return y ? y->nrules : 0;
}

struct compile_ctx {
	struct emf_error *err;
	unsigned errors;
};

static void
on_compile(int level, const char *file, int line, const YR_RULE *rule,
    const char *message, void *arg)
{
	struct compile_ctx *c = arg;

	(void)rule;
	/* Warnings (slow rules) do not stop the start; the first error is
	 * the one the admin needs. */
	if (level != YARA_ERROR_LEVEL_ERROR || c->errors++ > 0)
		return;
	g_snprintf(c->err->msg, sizeof(c->err->msg), "%s:%d: %s",
	    file ? file : "(rules)", line, message);
}

/* The directory for a configured name ("" = installed rules). */
static char *
resolve_dir(const struct emf_cfg *cfg, const char *dir, bool *is_default)
{
	const char *conf = emf_cfg_path(cfg);
	char *base, *p;

	*is_default = dir == NULL || *dir == '\0';
	if (*is_default)
		return g_strdup(EMF_RULESDIR);
	if (g_path_is_absolute(dir) || conf == NULL)
		return g_strdup(dir);
	/* Relative to the configuration file, so a test config in the
	 * source tree can say "../rules". */
	base = g_path_get_dirname(conf);
	p = g_build_filename(base, dir, NULL);
	g_free(base);
	return p;
}

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add the rule files of one directory; false on error (err set). */
static bool
add_dir(YR_COMPILER *comp, struct compile_ctx *cc, const char *dir,
    bool optional)
{
	GError *ge = NULL;
	GDir *d = g_dir_open(dir, 0, &ge);
	GPtrArray *files;
	const char *name;
	bool ok = true;

	if (d == NULL) {
		g_error_free(ge);
		if (optional && !g_file_test(dir, G_FILE_TEST_EXISTS))
			return true;
		g_snprintf(cc->err->msg, sizeof(cc->err->msg),
		    "yara: cannot read rule directory %s", dir);
		return false;
	}
	files = g_ptr_array_new_with_free_func(g_free);
	while ((name = g_dir_read_name(d)) != NULL)
		if (g_str_has_suffix(name, ".yar") ||
		    g_str_has_suffix(name, ".yara"))
			g_ptr_array_add(files, g_build_filename(dir, name,
			    NULL));
	g_dir_close(d);
	g_ptr_array_sort(files, cmp_str);
	for (guint i = 0; i < files->len && ok; i++) {
		const char *path = g_ptr_array_index(files, i);
		FILE *f = fopen(path, "r");

		if (f == NULL) {
			g_snprintf(cc->err->msg, sizeof(cc->err->msg),
			    "%s: %s", path, g_strerror(errno));
			ok = false;
			break;
		}
		if (yr_compiler_add_file(comp, f, NULL, path) != 0 ||
		    cc->errors > 0)
			ok = false;
		fclose(f);
	}
	g_ptr_array_free(files, TRUE);
	return ok;
}

bool
emf_yara_init(struct emf_engine *engine, void **state,
    struct emf_error *err)
{
	const struct emf_cfg *cfg = engine->cfg;
	struct emf_yara *y;
	YR_COMPILER *comp = NULL;
	struct compile_ctx cc = { err, 0 };
	const char *const *extra;
	YR_RULE *rule;
	bool ok = false, is_default;
	char *dir;

	engine->score_default_yara = emf_cfg_double(cfg, "yara.default_score");
	if (!emf_cfg_bool(cfg, "yara.enabled")) {
		*state = NULL;
		return true;
	}
	if (yr_compiler_create(&comp) != ERROR_SUCCESS) {
		g_strlcpy(err->msg, "yara: out of memory", sizeof(err->msg));
		return false;
	}
	yr_compiler_set_callback(comp, on_compile, &cc);
	dir = resolve_dir(cfg, emf_cfg_str(cfg, "yara.rules_dir"), &is_default);
	ok = add_dir(comp, &cc, dir, is_default);
	g_free(dir);
	for (extra = emf_cfg_strlist(cfg, "yara.extra_dirs"); ok && *extra;
	    extra++) {
		dir = resolve_dir(cfg, *extra, &is_default);
		ok = is_default || add_dir(comp, &cc, dir, false);
		g_free(dir);
	}
	if (!ok)
		goto out;
	y = g_new0(struct emf_yara, 1);
	if (yr_compiler_get_rules(comp, &y->rules) != ERROR_SUCCESS) {
		g_strlcpy(err->msg, "yara: cannot build the rule set",
		    sizeof(err->msg));
		g_free(y);
		ok = false;
		goto out;
	}
	yr_rules_foreach(y->rules, rule)
		y->nrules++;
	*state = y;
out:
	yr_compiler_destroy(comp);
	return ok;
}

/* ---- scanning ----------------------------------------------------------- */

struct match_ctx {
	struct emf_scan *scan;
	struct emf_object *obj;
	const char *where;
};

static int
on_match(YR_SCAN_CONTEXT *ctx, int message, void *data, void *arg)
{
	struct match_ctx *m = arg;
	const YR_RULE *rule = data;
	const YR_META *meta;
	const char *desc = NULL;
	double score = m->scan->engine->score_default_yara;
	char *name;

	(void)ctx;
	if (message != CALLBACK_MSG_RULE_MATCHING)
		return CALLBACK_CONTINUE;
	yr_rule_metas_foreach(rule, meta) {
		if (strcmp(meta->identifier, "score") == 0) {
			if (meta->type == META_TYPE_INTEGER) {
				score = (double)meta->integer;
			} else if (meta->type == META_TYPE_STRING) {
				char *end;
				double v = g_ascii_strtod(meta->string, &end);

				if (end != meta->string && *end == '\0')
					score = v;
			}
		} else if (strcmp(meta->identifier, "description") == 0 &&
		    meta->type == META_TYPE_STRING) {
			desc = meta->string;
		}
	}
	name = g_ascii_strup(rule->identifier, -1);
	{
		char *sym = g_strconcat("YARA_", name, NULL);

		emf_symbol_scored(m->scan, sym, score, m->obj, "%s%s%s",
		    desc ? desc : rule->identifier, m->where ? " in " : "",
		    m->where ? m->where : "");
		g_free(sym);
	}
	if (m->obj != NULL)
		emf_strlist_add(&m->obj->yara, rule->identifier);
	g_free(name);
	return CALLBACK_CONTINUE;
}

int
emf_yara_timeout_s(long remaining_ms)
{
	if (remaining_ms <= 0)
		return 0;
	/* Rounded down: rounding up would let YARA run up to a second past
	 * the deadline. Under a second left still gets the smallest
	 * timeout libyara has, since 0 would mean none at all. */
	return remaining_ms < 1000 ? 1 :
	    (int)MIN(remaining_ms / 1000, (long)G_MAXINT);
}

static void
scan_buffer(struct emf_scan *scan, const struct emf_yara *y,
    struct emf_object *obj, const char *where, const uint8_t *data,
    size_t len)
{
	struct match_ctx m = { scan, obj, where };
	YR_SCANNER *s;
	int secs, rc;

	if (len == 0 || y->nrules == 0 || emf_scan_expired(scan))
		return;
	secs = emf_yara_timeout_s(emf_scan_remaining_ms(scan));
	if (secs == 0) {
		/* Under a millisecond left: a timeout of 0 would be none. */
		emf_limit_hit(scan, "time", obj,
		    "YARA not run: the deadline is reached");
		return;
	}
	if (yr_scanner_create(y->rules, &s) != ERROR_SUCCESS) {
		scan->error = EMF_ERR_NOMEM;
		return;
	}
	yr_scanner_set_callback(s, on_match, &m);
	/*
	 * No YARA try/catch: it installs and restores SIGBUS/SIGSEGV
	 * handlers and saves the signal mask around every scan, some 75
	 * system calls a small message. It exists for a mapped file that
	 * shrinks under YARA; our buffers are heap copies, a packet, or a
	 * private map of the milter's own spool file or a sealed memfd,
	 * and a fault there would fault the MIME parser first: the worker
	 * ends and the message gets the crash case, as for any crash.
	 */
	yr_scanner_set_flags(s, SCAN_FLAGS_FAST_MODE | SCAN_FLAGS_NO_TRYCATCH);
	yr_scanner_set_timeout(s, secs);
	rc = yr_scanner_scan_mem(s, data, len);
	if (rc == ERROR_SCAN_TIMEOUT)
		emf_limit_hit(scan, "time", obj, "YARA stopped by the deadline");
	else if (rc == ERROR_TOO_MANY_MATCHES)
		emf_limit_hit(scan, "yara_matches", obj,
		    "a YARA string matched too often; rules partly evaluated");
	else if (rc == ERROR_INSUFFICIENT_MEMORY)
		scan->error = EMF_ERR_NOMEM;
	yr_scanner_destroy(s);
}

void
emf_yara_object(struct emf_scan *scan, struct emf_object *obj)
{
	const struct emf_yara *y = scan->engine->mod[EMF_MOD_YARA];

	if (y == NULL || obj->data == NULL)
		return;
	scan_buffer(scan, y, obj, NULL, obj->data, obj->len);
}

static const char *
text_where(enum emf_text_kind k)
{
	switch (k) {
	case EMF_TEXT_SUBJECT: return "the subject";
	case EMF_TEXT_BODY: return "the body text";
	case EMF_TEXT_HTML: return "the HTML text";
	case EMF_TEXT_DOCUMENT: return "the document text";
	case EMF_TEXT_MACRO: return "the macro source";
	}
	return "a text";
}

void
emf_yara_texts(struct emf_scan *scan)
{
	const struct emf_yara *y = scan->engine->mod[EMF_MOD_YARA];

	if (y == NULL)
		return;
	for (guint i = 0; i < scan->texts->len; i++) {
		struct emf_text *t = g_ptr_array_index(scan->texts, i);

		scan_buffer(scan, y, t->obj, text_where(t->kind),
		    (const uint8_t *)t->utf8, t->len);
	}
}
