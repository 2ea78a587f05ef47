/*
 * yarascan.h - YARA over every object and every decoded text (libyara's
 * only user).
 *
 * Owns: the compiled rules (built once per engine from yara.rules_dir and
 * yara.extra_dirs, shared read-only by all scans), the scans themselves
 * (a scanner per call, with the scan's remaining time as its timeout) and
 * the YARA_<RULE> symbols: the rule name upper-cased, scored by the rule's
 * meta "score" (integer, or a string such as "2.5"; else
 * yara.default_score; a "scores" entry in the configuration wins), with
 * the rule's meta "description" and the object path in the detail.
 *
 * A rule that does not compile makes the engine fail with "file:line:
 * message", so a broken rule set is a start-up error and, at reload, the
 * caller keeps its old engine and its old rules.
 *
 * LIMITATIONS: no external variables and no modules beyond what libyara
 * is built with; fast-mode scanning (each string is matched once), so
 * rules that count occurrences above one (#s > 1) see at most one match
 * per string. Per-call timeouts are whole seconds (libyara's unit),
 * rounded up from what is left of the scan's deadline.
 */
#ifndef EMF_YARASCAN_H
#define EMF_YARASCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emf.h"

struct emf_scan;
struct emf_object;
struct emf_yara;

/* yr_initialize()/yr_finalize(), from emf_library_init()/_shutdown(). */
enum emf_rc emf_yara_library_init(void);
void emf_yara_library_shutdown(void);

/*
 * Engine module: compile every *.yar and *.yara file of the configured
 * directories (sorted by name). On a compile error returns false with
 * "file:line: message" in err. An unset rules_dir whose installed default
 * does not exist gives an empty rule set; a configured directory that
 * cannot be read is an error.
 */
bool emf_yara_init(struct emf_engine *engine, void **state,
    struct emf_error *err);
void emf_yara_fini(void *state);

/* Number of rules compiled (for --check-rules and the tests). */
unsigned emf_yara_rule_count(const struct emf_yara *y);

/* Object analyser: the object's raw bytes, before its handler runs. */
/*
 * The timeout in seconds to give libyara with remaining_ms left before
 * the scan's deadline: 0 means do not scan (libyara takes 0 as no
 * timeout), else at least 1 and never rounded up past the deadline.
 */
int emf_yara_timeout_s(long remaining_ms);

void emf_yara_object(struct emf_scan *scan, struct emf_object *obj);

/* Post-queue analyser: every decoded text (body, HTML, document, macro). */
void emf_yara_texts(struct emf_scan *scan);

#endif /* EMF_YARASCAN_H */
