/*
 * qrender.h - what emofilter-quarantine list and show print: the list line
 * and list --json for each entry, and the report for a human.
 *
 * Every string taken from a report reaches the text through safe_append()
 * (qsafe.h); list --json is JSON for scripts and is not escaped beyond
 * JSON's own rules. Each function returns the whole text; the caller
 * prints it and frees it (g_free()).
 */
#ifndef EMF_QRENDER_H
#define EMF_QRENDER_H

#include <glib.h>

#include "qstore.h"

/*
 * One line of list, '\n' included: ID, time (from the ID), score, action,
 * pending/released, sender, first recipient and subject (cut to fit),
 * the three highest-scoring symbols.
 */
char *qrender_list_line(const struct qentry *e);
/* The header row over those lines, '\n' included (static). */
const char *qrender_list_header(void);

/*
 * entries (struct qentry *) as the one-line JSON array of list --json:
 * {id, time, score, action, released, envelope_from, from, rcpts,
 * subject, symbols}, without a final newline.
 */
char *qrender_list_json(GPtrArray *entries);

/*
 * The report of e for show: entry and status, envelope, headers, symbols
 * with their hits, password candidates, the object tree (with any field
 * a newer scanner adds), limits hit, scan time.
 */
char *qrender_show(const struct qentry *e);

#endif /* EMF_QRENDER_H */
