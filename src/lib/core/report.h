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

#endif /* EMF_REPORT_H */
