/*
 * report.h - turning a finished scan into a report (internal side).
 */
#ifndef EMF_REPORT_H
#define EMF_REPORT_H

#include "emf.h"

struct emf_scan;

/* Score the scan and wrap it; the report takes ownership of scan. */
struct emf_report *emf_report_from_scan(struct emf_scan *scan);

#endif /* EMF_REPORT_H */
