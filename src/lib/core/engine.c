/*
 * engine.c - build, share and release the read-only scanning state.
 */
#include "config.h"

#include <string.h>

#include "cfg.h"
#include "engine.h"
#include "modules.h"
#include "policy.h"
#include "symbols.h"

/*
 * Modules with compiled state, built in this order and freed in reverse.
 * A module's init returns false with err set when its configuration is
 * unusable (a bad pattern, a rule that does not compile).
 */
static const struct {
	enum emf_module slot;
	bool (*init)(struct emf_engine *engine, void **state,
	    struct emf_error *err);
	void (*fini)(void *state);
} modules[] = {
	/* passwords */
	{ EMF_MOD_PASSWORDS, emf_passwords_init, emf_passwords_fini },
	/* office */
	/* heuristics, lure, yara */
	{ EMF_MOD_HEURISTICS, emf_heuristics_init, emf_heuristics_fini },
	{ EMF_MOD_LURE, emf_lure_init, emf_lure_fini },
	{ EMF_MOD_YARA, emf_yara_init, emf_yara_fini },
	/* recipient policies */
	{ EMF_MOD_POLICY, emf_policy_init, emf_policy_fini },
	{ EMF_MOD_MAX, NULL, NULL }	/* end */
};

static void
take_limits(struct emf_limits *l, const struct emf_cfg *c)
{
	l->max_message_bytes = (size_t)emf_cfg_int(c, "limits.max_message_bytes");
	l->mime_depth = (unsigned)emf_cfg_int(c, "limits.mime_depth");
	l->mime_parts = (unsigned)emf_cfg_int(c, "limits.mime_parts");
	l->header_field_bytes =
	    (size_t)emf_cfg_int(c, "limits.header_field_bytes");
	l->container_depth = (unsigned)emf_cfg_int(c, "limits.container_depth");
	l->max_objects = (unsigned)emf_cfg_int(c, "limits.max_objects");
	l->object_bytes = (size_t)emf_cfg_int(c, "limits.object_bytes");
	l->total_bytes = (size_t)emf_cfg_int(c, "limits.total_bytes");
	l->text_bytes = (size_t)emf_cfg_int(c, "limits.text_bytes");
	l->archive_entries = (unsigned)emf_cfg_int(c, "limits.archive_entries");
	l->archive_ratio = (unsigned)emf_cfg_int(c, "limits.archive_ratio");
	l->ole_dir_entries = (unsigned)emf_cfg_int(c, "limits.ole_dir_entries");
	l->vba_modules = (unsigned)emf_cfg_int(c, "limits.vba_modules");
	l->vba_module_bytes = (size_t)emf_cfg_int(c, "limits.vba_module_bytes");
	l->password_candidates =
	    (unsigned)emf_cfg_int(c, "limits.password_candidates");
	l->password_length = (unsigned)emf_cfg_int(c, "limits.password_length");
	l->password_tries = (unsigned)emf_cfg_int(c, "limits.password_tries");
	l->scan_timeout_ms = (long)emf_cfg_int(c, "limits.scan_timeout_ms");
}

static void
engine_free(struct emf_engine *e)
{
	size_t n = 0;

	while (modules[n].init != NULL)
		n++;
	while (n-- > 0)
		if (e->mod[modules[n].slot] != NULL && modules[n].fini != NULL)
			modules[n].fini(e->mod[modules[n].slot]);
	if (e->scores != NULL)
		g_hash_table_destroy(e->scores);
	emf_cfg_free(e->cfg);
	g_free(e);
}

enum emf_rc
emf_engine_new(struct emf_cfg *cfg, struct emf_engine **out,
    struct emf_error *err)
{
	struct emf_engine *e = g_new0(struct emf_engine, 1);

	*out = NULL;
	e->refs = 1;
	e->cfg = cfg;
	take_limits(&e->limits, cfg);
	e->thr_tag = emf_cfg_double(cfg, "actions.tag");
	e->thr_quarantine = emf_cfg_double(cfg, "actions.quarantine");
	e->thr_reject = emf_cfg_double(cfg, "actions.reject");
	e->scores = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
	    g_free);
	for (const struct emf_symbol_def *d = emf_symbol_defs();
	    d->name != NULL; d++) {
		double *w = g_new(double, 1);

		if (!emf_cfg_score(cfg, d->name, w))
			*w = d->score;
		g_hash_table_insert(e->scores, (gpointer)d->name, w);
	}
	for (size_t i = 0; modules[i].init != NULL; i++) {
		if (!modules[i].init(e, &e->mod[modules[i].slot], err)) {
			engine_free(e);
			return EMF_ERR_CONFIG;
		}
	}
	*out = e;
	return EMF_OK;
}

struct emf_engine *
emf_engine_ref(struct emf_engine *engine)
{
	g_atomic_int_inc(&engine->refs);
	return engine;
}

void
emf_engine_unref(struct emf_engine *engine)
{
	if (engine != NULL && g_atomic_int_dec_and_test(&engine->refs))
		engine_free(engine);
}

const struct emf_cfg *
emf_engine_cfg(const struct emf_engine *engine)
{
	return engine->cfg;
}

double
emf_engine_score(const struct emf_engine *engine, const char *name)
{
	double *w = g_hash_table_lookup(engine->scores, name);
	double v;

	if (w != NULL)
		return *w;
	/* YARA symbols: a configured override, else the caller's score. */
	if (emf_cfg_score(engine->cfg, name, &v))
		return v;
	return engine->score_default_yara;
}
