/*
 * qioc.h - indicators of compromise from quarantine entries, for
 * emofilter-quarantine ioc: collected from the report (sender addresses
 * and domains, the SMTP client, subject and message IDs, file hashes and
 * names, URLs in macros, links and text, archive passwords that worked)
 * and written for sharing.
 *
 * Each indicator carries a MISP attribute type and category, so that the
 * CSV and the JSON paste into MISP (freetext/CSV import, or an event's
 * "Attribute" list); the url ones are also what a URLhaus submission
 * needs. Values are made valid UTF-8; nothing is escaped for a terminal
 * (this output is for tools).
 */
#ifndef EMF_QIOC_H
#define EMF_QIOC_H

#include "qstore.h"

enum qioc_format {
	QIOC_JSON,		/* {"Attribute": [MISP attributes]} */
	QIOC_CSV,		/* entry_id,type,category,value,to_ids,
				 * comment */
	QIOC_URLHAUS		/* {"submission": [{url, threat, tags}]} */
};

struct qioc_set;

struct qioc_set *qioc_set_new(void);
void qioc_set_free(struct qioc_set *set);

/* Add the indicators of e, in report order; an indicator already taken
 * from the same entry (same type and value) is not added again. */
void qioc_collect(struct qioc_set *set, const struct qentry *e);

/* The set as text in fmt, ending in a newline (CRLF for CSV); caller
 * frees. */
char *qioc_render(const struct qioc_set *set, enum qioc_format fmt);

/* "json", "csv" or "urlhaus" (for the audit log). */
const char *qioc_format_name(enum qioc_format fmt);

#endif /* EMF_QIOC_H */
