/*
 * cfg.h - the configuration's key table (internal side of emf_cfg_*).
 *
 * Every key lives once, in the table in cfg.c, with its type, default,
 * range and one line of meaning; conf/emofilter.conf documents the same
 * keys and a test keeps the two in step.
 */
#ifndef EMF_CFG_H
#define EMF_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "emf.h"

enum emf_cfg_type {
	EMF_CFG_INT,
	EMF_CFG_DOUBLE,
	EMF_CFG_BOOL,
	EMF_CFG_STR,
	EMF_CFG_STRLIST
};

struct emf_cfg_key {
	const char *name;	/* "limits.mime_depth" */
	enum emf_cfg_type type;
	const char *def;	/* default, written as in the file */
	double min, max;	/* bounds for numbers */
	const char *choices;	/* "a|b|c" for strings, or NULL */
	const char *doc;
};

/* The key table (for documentation checks). */
const struct emf_cfg_key *emf_cfg_keys(size_t *n);

/*
 * A recipient policy (the "policies" list): other action thresholds for
 * the recipients it names. Entries are lower-cased and kept in one of
 * three forms: "user@domain" (that address), "domain" (written "domain"
 * or "@domain") and ".domain" (every subdomain of domain). The loader
 * refuses an entry that two policies share, so a lookup is unambiguous.
 */
struct emf_cfg_policy {
	char *name;
	char **recipients;	/* NULL-terminated */
	double tag, quarantine, reject;	/* unset ones take actions.* */
};

/* The policies in file order; *n may be 0. Borrowed from cfg. */
const struct emf_cfg_policy *const *emf_cfg_policies(
    const struct emf_cfg *cfg, size_t *n);

/*
 * A composite rule (the "composites" list): a named expression over
 * symbols (composite.h) with its own score. consume_all: the symbols
 * the expression names positively lose their weight when it holds;
 * consume: these symbols do (NULL-terminated, or NULL).
 */
struct emf_cfg_composite {
	char *name;
	char *expression;
	struct emf_cexpr *expr;
	double score;
	bool consume_all;
	char **consume;
	char *description;	/* or NULL */
};

/* The composites in evaluation order (each after those it names). */
const struct emf_cfg_composite *const *emf_cfg_composites(
    const struct emf_cfg *cfg, size_t *n);

/* The configured weight of symbol, if the "scores" group sets one. */
bool emf_cfg_score(const struct emf_cfg *cfg, const char *symbol,
    double *out);

#endif /* EMF_CFG_H */
