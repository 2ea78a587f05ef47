/*
 * composite.h - composite rules: named boolean expressions over symbols
 * (rspamd's "composites", SpamAssassin's meta rules).
 *
 * An expression is symbol names joined by & (and), | (or), ! (not) and
 * parentheses; ! binds tightest, then &, then |. Parsing is bounded
 * (length, terms, nesting) and refuses what it cannot read with a reason;
 * the configuration loader (cfg.c) checks names and cycles and keeps the
 * composites in an order where each comes after those it names.
 *
 * In a scan, once every detector has run, emf_composites_run() evaluates
 * them in that order over the symbols raised; a composite that holds is
 * raised as a symbol of its own, its detail naming what matched and what
 * it consumed (those weigh 0 from then on).
 */
#ifndef EMF_COMPOSITE_H
#define EMF_COMPOSITE_H

#include <stdbool.h>
#include <stddef.h>

/* Bounds of one expression. */
#define EMF_CEXPR_MAX_LEN 4096		/* bytes of text */
#define EMF_CEXPR_MAX_TERMS 256		/* symbol names */
#define EMF_CEXPR_MAX_DEPTH 32		/* nesting of ( and ! */
#define EMF_CEXPR_MAX_NAME 64		/* bytes of one name */

struct emf_cexpr;

/*
 * Parse text. NULL on error, with a one-line reason in why (at most
 * whylen bytes, NUL-terminated).
 */
struct emf_cexpr *emf_cexpr_parse(const char *text, char *why,
    size_t whylen);
void emf_cexpr_free(struct emf_cexpr *e);

/* The distinct names the expression uses, in first-use order. */
size_t emf_cexpr_nnames(const struct emf_cexpr *e);
const char *emf_cexpr_name(const struct emf_cexpr *e, size_t i);

/* Evaluate with has(name) telling which symbols are present. */
bool emf_cexpr_eval(const struct emf_cexpr *e,
    bool (*has)(const char *name, void *arg), void *arg);

/*
 * Whether name occurs in a positive position (under an even number of
 * !): those are what a consuming composite consumes when present.
 */
bool emf_cexpr_positive(const struct emf_cexpr *e, const char *name);

struct emf_scan;

/*
 * Raise the symbols derived from the object tree (what an encrypted
 * archive hides), then evaluate the configured composites. Run once,
 * after every detector and before the report is made.
 */
void emf_composites_run(struct emf_scan *scan);

#endif /* EMF_COMPOSITE_H */
