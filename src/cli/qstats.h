/*
 * qstats.h - statistics over quarantine entries, for emofilter-quarantine
 * stats and the statistics page of emofilter-web: counts per UTC day (of
 * the entry ID) and action, totals per action, the most frequent symbols
 * and senders.
 */
#ifndef EMF_QSTATS_H
#define EMF_QSTATS_H

#include <glib.h>

struct qstat_count {
	char *key;
	guint n;
};

struct qstats {
	guint total;
	GPtrArray *days;	/* char * "YYYY-MM-DD", oldest first */
	GPtrArray *actions;	/* struct qstat_count *, most first */
	GPtrArray *symbols;	/* struct qstat_count *, most first */
	GPtrArray *senders;	/* struct qstat_count *, most first */
	GHashTable *day_action;	/* "DAY\tACTION" -> count */
};

/* The statistics of entries (struct qentry *). */
struct qstats *qstats_compute(GPtrArray *entries);
void qstats_free(struct qstats *st);

/* Entries of day with action. */
guint qstats_count(const struct qstats *st, const char *day,
    const char *action);

/* The text of stats (tables for a terminal, untrusted strings escaped),
 * at most top symbols and senders; caller frees. */
char *qstats_render_text(const struct qstats *st, guint top);
/* The same as one JSON object {total, actions, days, symbols, senders}. */
char *qstats_render_json(const struct qstats *st, guint top);

#endif /* EMF_QSTATS_H */
