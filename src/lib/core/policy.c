/*
 * policy.c - recipient policies: per-recipient action thresholds.
 */
#include "config.h"

#include <string.h>

#include "cfg.h"
#include "engine.h"
#include "policy.h"

/* Engine state: lower-cased entry -> its policy (borrowed from cfg). */
struct policy_table {
	GHashTable *entries;
};

bool
emf_policy_init(struct emf_engine *engine, void **state,
    struct emf_error *err)
{
	struct policy_table *t;
	const struct emf_cfg_policy *const *p;
	size_t n;

	(void)err;	/* the loader has refused every bad entry already */
	p = emf_cfg_policies(engine->cfg, &n);
	*state = NULL;
	if (n == 0)
		return true;
	t = g_new0(struct policy_table, 1);
	t->entries = g_hash_table_new(g_str_hash, g_str_equal);
	for (size_t i = 0; i < n; i++)
		for (char **e = p[i]->recipients; *e != NULL; e++)
			g_hash_table_insert(t->entries, *e, (gpointer)p[i]);
	*state = t;
	return true;
}

void
emf_policy_fini(void *state)
{
	struct policy_table *t = state;

	if (t == NULL)
		return;
	g_hash_table_destroy(t->entries);
	g_free(t);
}

static const struct emf_cfg_policy *
lookup(const struct policy_table *t, const char *rcpt)
{
	const struct emf_cfg_policy *p;
	char *key = g_utf8_strdown(rcpt, -1);
	char *domain = strrchr(key, '@');

	p = g_hash_table_lookup(t->entries, key);
	if (p == NULL && domain != NULL && domain[1] != '\0') {
		domain++;
		p = g_hash_table_lookup(t->entries, domain);
		for (const char *d = strchr(domain, '.'); p == NULL && d != NULL;
		    d = strchr(d + 1, '.'))
			p = g_hash_table_lookup(t->entries, d);
	}
	g_free(key);
	return p;
}

const char *
emf_policy_for(const struct emf_engine *engine, const char *rcpt)
{
	const struct policy_table *t = engine->mod[EMF_MOD_POLICY];
	const struct emf_cfg_policy *p;

	if (t == NULL || rcpt == NULL)
		return NULL;
	p = lookup(t, rcpt);
	return p != NULL ? p->name : NULL;
}

static enum emf_action
by_thresholds(double score, double tag, double quarantine, double reject)
{
	if (score >= reject)
		return EMF_ACTION_REJECT;
	if (score >= quarantine)
		return EMF_ACTION_QUARANTINE;
	if (score >= tag)
		return EMF_ACTION_TAG;
	return EMF_ACTION_ACCEPT;
}

enum emf_action
emf_policy_decide(const struct emf_engine *engine, double score,
    const GPtrArray *rcpts, const char **policy)
{
	const struct policy_table *t = engine->mod[EMF_MOD_POLICY];
	enum emf_action plain, best = EMF_ACTION_ACCEPT;

	*policy = NULL;
	plain = by_thresholds(score, engine->thr_tag, engine->thr_quarantine,
	    engine->thr_reject);
	if (t == NULL || rcpts == NULL || rcpts->len == 0)
		return plain;
	/*
	 * The most severe action wins. A policy is named only when it made a
	 * difference: when "actions" would have given the same, none is.
	 */
	for (guint i = 0; i < rcpts->len; i++) {
		const struct emf_cfg_policy *p =
		    lookup(t, g_ptr_array_index(rcpts, i));
		enum emf_action a = p == NULL ? plain : by_thresholds(score,
		    p->tag, p->quarantine, p->reject);

		if (i == 0 || a > best) {
			best = a;
			*policy = p != NULL ? p->name : NULL;
		}
	}
	if (best == plain)
		*policy = NULL;
	return best;
}
