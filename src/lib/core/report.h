/*
 * report.h - turning a finished scan into a report (internal side).
 */
#ifndef EMF_REPORT_H
#define EMF_REPORT_H

#include "emf.h"

struct emf_scan;

/* Score the scan and wrap it; the report takes ownership of scan. */
struct emf_report *emf_report_from_scan(struct emf_scan *scan);

/* The finished scan behind a report (borrowed), for tests and tools
 * inside the project that need the object tree or the texts. */
const struct emf_scan *emf_report_scan(const struct emf_report *report);

/*
 * JSON text from json-glib's generator made strict: inside strings every
 * control character (U+0000-U+001F, U+007F), U+2028/U+2029 and invalid
 * UTF-8 byte becomes a \u escape. Every JSON the project writes goes
 * through this. A new string; the caller frees it (g_free()).
 */
char *emf_json_strict(const char *json);

#endif /* EMF_REPORT_H */
