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

#include <stdbool.h>

#include <glib.h>

#include "qstore.h"

enum qioc_format {
	QIOC_JSON,		/* {"Attribute": [MISP attributes]} */
	QIOC_CSV,		/* entry_id,type,category,value,to_ids,
				 * comment */
	QIOC_URLHAUS,		/* {"submission": [{url, threat, tags}]} */
	QIOC_STIX,		/* a STIX 2.1 bundle of indicators */
	QIOC_MISP		/* a MISP event {"Event": {..., Attribute}} */
};

struct qioc_set;

struct qioc_set *qioc_set_new(void);
void qioc_set_free(struct qioc_set *set);

/*
 * Our own domain (and its subdomains): addresses, hosts and URLs on it
 * are left out, like those on loopback, private and documentation
 * addresses (127/8, 10/8, 172.16/12, 192.168/16, 169.254/16, 192.0.2/24,
 * 198.51.100/24, 203.0.113/24, ::1, fc00::/7, fe80::/10, 2001:db8::/32),
 * localhost and example.com, example.net, example.org, which always are.
 */
void qioc_set_own_domain(struct qioc_set *set, const char *domain);

/* Add the indicators of e, in report order; an indicator already taken
 * from the same entry (same type and value) is not added again. */
void qioc_collect(struct qioc_set *set, const struct qentry *e);
/* The same, with the MD5 and SHA-1 of the files whose SHA-256 is in
 * hashes (qhash_files(); NULL: none). */
void qioc_collect_files(struct qioc_set *set, const struct qentry *e,
    GHashTable *hashes);

/* Whether value would be left out as local (the rules above). */
bool qioc_is_local(const struct qioc_set *set, const char *type,
    const char *value);

/* The set as text in fmt, ending in a newline (CRLF for CSV); caller
 * frees. */
char *qioc_render(const struct qioc_set *set, enum qioc_format fmt);

/* "json", "csv", "urlhaus", "stix" or "misp" (for the audit log). */
const char *qioc_format_name(enum qioc_format fmt);
/* The format of that name; false for an unknown one. */
bool qioc_format_parse(const char *name, enum qioc_format *fmt);

#endif /* EMF_QIOC_H */
