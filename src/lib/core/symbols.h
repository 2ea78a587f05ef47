/*
 * symbols.h - the names detectors raise, with built-in default weights.
 *
 * Names are part of the interface (config keys, headers, reports): they
 * are listed here once. The weights are defaults; conf/emofilter.conf's
 * "scores" group overrides them.
 */
#ifndef EMF_SYMBOLS_H
#define EMF_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>

struct emf_symbol_def {
	const char *name;
	double score;
	const char *description;
};

/* The table, terminated by an entry with name NULL. */
const struct emf_symbol_def *emf_symbol_defs(void);
/* The definition for name, or NULL when unknown. */
const struct emf_symbol_def *emf_symbol_def(const char *name);
/* True for names that YARA rules produce ("YARA_" + rule name). */
bool emf_symbol_is_yara(const char *name);

#endif /* EMF_SYMBOLS_H */
