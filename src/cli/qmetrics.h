/*
 * qmetrics.h - the daemon's own counters for emofilter-quarantine stats
 * --metrics: its Prometheus endpoint (metrics.listen, src/milter/metrics.c)
 * read over HTTP, and the counters the store cannot know (messages per
 * action and result, tempfails, restarts, in flight) picked out of it.
 * Nothing here prints.
 */
#ifndef EMF_QMETRICS_H
#define EMF_QMETRICS_H

#include <glib.h>

/*
 * GET addr ("HOST:PORT", "[V6]:PORT" or "http://HOST:PORT[/PATH]"; the
 * path defaults to /metrics) with a 5 s timeout, at most 4 MiB. The body
 * (g_free) once the answer is 200, else NULL and *why.
 */
char *qmetrics_fetch(const char *addr, char **why);

/*
 * The counters of body as text (a table) or as one JSON object
 * {url, messages: [{action, result, count}], tempfails, worker_restarts,
 * milter_restarts, in_flight, scans}. NULL and *why if body has none of
 * ours. Caller frees.
 */
char *qmetrics_render(const char *body, const char *addr, gboolean json,
    char **why);

#endif /* EMF_QMETRICS_H */
