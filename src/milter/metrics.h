/*
 * metrics.h - counters of the daemon and their Prometheus text endpoint.
 *
 * The counters live in one shared anonymous mapping made by the main
 * process before it forks, so the milter process (verdicts, scan times)
 * and the main process (worker and milter process restarts) write the
 * same numbers, and they survive a restarted milter process. Off unless
 * metrics.listen is set; the socket is opened by the main process at
 * start-up (a bad or taken address stops the start), and served
 * (HTTP/1.0, GET /metrics only) by a thread of the milter process.
 *
 * LIMITATIONS: at most EMF_METRICS_SYMBOLS distinct symbol names are
 * counted (others go to the name "OTHER"); counters are 64-bit and never
 * reset (a restart of the daemon starts them at 0).
 */
#ifndef EMF_METRICS_H
#define EMF_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#define EMF_METRICS_SYMBOLS 256

/* The shared counters; false (errno set) when the mapping fails. */
bool emf_metrics_init(void);

/* One message: its action and result, symbols summary, scan time (ms,
 * < 0 when not scanned). No-op before emf_metrics_init(). */
void emf_metrics_message(const char *action, const char *result,
    const char *summary, long scan_ms);

/* The main process saw a worker or the milter process end abnormally. */
void emf_metrics_worker_restart(void);
void emf_metrics_milter_restart(void);

/* The exposition text (caller frees, g_free); inflight: messages now
 * between MAIL FROM and end of message. */
char *emf_metrics_text(int inflight);

/*
 * Open the listening socket for "host:port" (IPv4, or [IPv6]:port) in
 * the main process at start-up: *fd is -1 for "" (off). False with err
 * set when the address is bad or taken.
 */
bool emf_metrics_listen(const char *listen_on, int *fd, char *err,
    size_t errlen);

/* In the milter process: serve GET /metrics on fd in a thread. */
bool emf_metrics_start(int fd, int (*inflight)(void));

#endif /* EMF_METRICS_H */
