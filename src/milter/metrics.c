/*
 * metrics.c - shared counters and the Prometheus text endpoint (see
 * metrics.h).
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "core/log.h"
#include "metrics.h"

static const char *const actions[] = {
	"accept", "tag", "quarantine", "reject", "unscanned", "error"
};
static const char *const results[] = {
	"accepted", "held", "discarded", "rejected", "tempfailed"
};
#define NACT (sizeof(actions) / sizeof(actions[0]))
#define NRES (sizeof(results) / sizeof(results[0]))

/* Scan time buckets, seconds (le). */
static const double buckets[] = {
	0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120
};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

#define SYMBOL_NAME 64

struct shared {
	uint64_t messages[NACT + 1][NRES + 1];	/* last: anything else */
	uint64_t scan_bucket[NBUCKETS + 1];	/* last: +Inf */
	uint64_t scan_count, scan_ms_sum;
	uint64_t worker_restarts, milter_restarts;
	int lock;				/* symbol table insertions */
	unsigned nsymbols;
	char symbol[EMF_METRICS_SYMBOLS][SYMBOL_NAME];
	uint64_t symbol_count[EMF_METRICS_SYMBOLS];
	uint64_t symbol_other;
};

static struct shared *sh;

bool
emf_metrics_init(void)
{
	void *p = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return false;
	memset(p, 0, sizeof(struct shared));
	sh = p;
	return true;
}

static void
add(uint64_t *c, uint64_t n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

static unsigned
index_of(const char *const *names, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (name != NULL && strcmp(names[i], name) == 0)
			return i;
	return n;
}

/* The counter of symbol name (inserted once, under the shared lock). */
static uint64_t *
symbol_counter(const char *name)
{
	unsigned n = __atomic_load_n(&sh->nsymbols, __ATOMIC_ACQUIRE);
	uint64_t *c = NULL;

	for (unsigned i = 0; i < n; i++)
		if (strcmp(sh->symbol[i], name) == 0)
			return &sh->symbol_count[i];
	while (__atomic_exchange_n(&sh->lock, 1, __ATOMIC_ACQUIRE) != 0)
		sched_yield();
	n = sh->nsymbols;
	for (unsigned i = 0; i < n && c == NULL; i++)
		if (strcmp(sh->symbol[i], name) == 0)
			c = &sh->symbol_count[i];
	if (c == NULL && n < EMF_METRICS_SYMBOLS) {
		g_strlcpy(sh->symbol[n], name, SYMBOL_NAME);
		c = &sh->symbol_count[n];
		__atomic_store_n(&sh->nsymbols, n + 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&sh->lock, 0, __ATOMIC_RELEASE);
	return c != NULL ? c : &sh->symbol_other;
}

/* "NAME(score) NAME(score) ..." -> one count per name. */
static void
count_symbols(const char *summary)
{
	const char *p = summary;

	while (p != NULL && *p != '\0') {
		char name[SYMBOL_NAME];
		size_t n = 0;

		while (*p == ' ')
			p++;
		while ((g_ascii_isalnum(*p) || *p == '_') && n + 1 < sizeof(name))
			name[n++] = *p++;
		name[n] = '\0';
		if (n > 0)
			add(symbol_counter(name), 1);
		/* to the next name */
		while (*p != '\0' && *p != ' ')
			p++;
	}
}

void
emf_metrics_message(const char *action, const char *result,
    const char *summary, long scan_ms)
{
	if (sh == NULL)
		return;
	add(&sh->messages[index_of(actions, NACT, action)]
	    [index_of(results, NRES, result)], 1);
	count_symbols(summary);
	if (scan_ms >= 0) {
		unsigned b = 0;

		while (b < NBUCKETS && (double)scan_ms / 1000.0 > buckets[b])
			b++;
		add(&sh->scan_bucket[b], 1);
		add(&sh->scan_count, 1);
		add(&sh->scan_ms_sum, (uint64_t)scan_ms);
	}
}

void
emf_metrics_worker_restart(void)
{
	if (sh != NULL)
		add(&sh->worker_restarts, 1);
}

void
emf_metrics_milter_restart(void)
{
	if (sh != NULL)
		add(&sh->milter_restarts, 1);
}

/* The pairs shown even at 0, so the usual series always exist. */
static bool
usual(unsigned a, unsigned r)
{
	static const char *const pairs[][2] = {
		{ "accept", "accepted" }, { "tag", "accepted" },
		{ "quarantine", "held" }, { "reject", "rejected" },
		{ "unscanned", "accepted" }, { "unscanned", "tempfailed" },
	};

	if (a >= NACT || r >= NRES)
		return false;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (strcmp(pairs[i][0], actions[a]) == 0 &&
		    strcmp(pairs[i][1], results[r]) == 0)
			return true;
	return false;
}

static uint64_t
get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

char *
emf_metrics_text(int inflight)
{
	GString *s = g_string_new(NULL);
	uint64_t cum = 0;
	unsigned n;

	if (sh == NULL)
		return g_string_free(s, FALSE);
	g_string_append(s,
	    "# HELP emofilter_messages_total Messages by verdict action and what was done.\n"
	    "# TYPE emofilter_messages_total counter\n");
	for (unsigned a = 0; a <= NACT; a++)
		for (unsigned r = 0; r <= NRES; r++)
			if (get(&sh->messages[a][r]) > 0 || usual(a, r))
				g_string_append_printf(s,
				    "emofilter_messages_total{action=\"%s\","
				    "result=\"%s\"} %" G_GUINT64_FORMAT "\n",
				    a < NACT ? actions[a] : "other",
				    r < NRES ? results[r] : "other",
				    get(&sh->messages[a][r]));
	g_string_append(s,
	    "# HELP emofilter_tempfails_total Messages answered 451 (the sender retries).\n"
	    "# TYPE emofilter_tempfails_total counter\n");
	cum = 0;
	for (unsigned a = 0; a <= NACT; a++)
		cum += get(&sh->messages[a][index_of(results, NRES,
		    "tempfailed")]);
	g_string_append_printf(s, "emofilter_tempfails_total %" G_GUINT64_FORMAT
	    "\n", cum);
	g_string_append(s,
	    "# HELP emofilter_symbols_total Messages in which a symbol was raised.\n"
	    "# TYPE emofilter_symbols_total counter\n");
	n = __atomic_load_n(&sh->nsymbols, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(s, "emofilter_symbols_total{symbol=\"%s\"} %"
		    G_GUINT64_FORMAT "\n", sh->symbol[i],
		    get(&sh->symbol_count[i]));
	if (get(&sh->symbol_other) > 0)
		g_string_append_printf(s, "emofilter_symbols_total{symbol=\"OTHER\"} %"
		    G_GUINT64_FORMAT "\n", get(&sh->symbol_other));
	g_string_append(s,
	    "# HELP emofilter_scan_seconds Time of a scan by a worker.\n"
	    "# TYPE emofilter_scan_seconds histogram\n");
	cum = 0;
	for (unsigned b = 0; b <= NBUCKETS; b++) {
		cum += get(&sh->scan_bucket[b]);
		if (b < NBUCKETS)
			g_string_append_printf(s, "emofilter_scan_seconds_bucket"
			    "{le=\"%g\"} %" G_GUINT64_FORMAT "\n", buckets[b],
			    cum);
		else
			g_string_append_printf(s, "emofilter_scan_seconds_bucket"
			    "{le=\"+Inf\"} %" G_GUINT64_FORMAT "\n", cum);
	}
	g_string_append_printf(s, "emofilter_scan_seconds_sum %.3f\n"
	    "emofilter_scan_seconds_count %" G_GUINT64_FORMAT "\n",
	    (double)get(&sh->scan_ms_sum) / 1000.0, get(&sh->scan_count));
	g_string_append_printf(s,
	    "# HELP emofilter_worker_restarts_total Scanner workers replaced after a crash or kill.\n"
	    "# TYPE emofilter_worker_restarts_total counter\n"
	    "emofilter_worker_restarts_total %" G_GUINT64_FORMAT "\n"
	    "# HELP emofilter_milter_restarts_total Milter processes replaced after they ended.\n"
	    "# TYPE emofilter_milter_restarts_total counter\n"
	    "emofilter_milter_restarts_total %" G_GUINT64_FORMAT "\n"
	    "# HELP emofilter_messages_in_flight Messages between MAIL FROM and end of message.\n"
	    "# TYPE emofilter_messages_in_flight gauge\n"
	    "emofilter_messages_in_flight %d\n",
	    get(&sh->worker_restarts), get(&sh->milter_restarts), inflight);
	return g_string_free(s, FALSE);
}

/* ---- the endpoint -------------------------------------------------------- */

struct server {
	int fd;
	int (*inflight)(void);
};

static void
respond(int fd, int (*inflight)(void))
{
	char req[2048];
	size_t got = 0;
	ssize_t r;
	struct timeval tv = { 2, 0 };
	char *body, *head;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* The request line and headers, bounded; the end is a blank line. */
	while (got < sizeof(req) - 1 &&
	    (r = read(fd, req + got, sizeof(req) - 1 - got)) > 0) {
		got += (size_t)r;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n"))
			break;
	}
	req[got] = '\0';
	if (strncmp(req, "GET /metrics ", 13) == 0 ||
	    strncmp(req, "GET /metrics?", 13) == 0) {
		body = emf_metrics_text(inflight != NULL ? inflight() : 0);
		head = g_strdup_printf("HTTP/1.0 200 OK\r\nContent-Type: "
		    "text/plain; version=0.0.4\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n", strlen(body));
	} else {
		body = g_strdup("only GET /metrics\n");
		head = g_strdup_printf("HTTP/1.0 404 Not Found\r\nContent-Type: "
		    "text/plain\r\nContent-Length: %zu\r\nConnection: close"
		    "\r\n\r\n", strlen(body));
	}
	if (write(fd, head, strlen(head)) >= 0 &&
	    write(fd, body, strlen(body)) < 0)
		emf_log(EMF_LOG_DEBUG, "metrics: %s", strerror(errno));
	g_free(head);
	g_free(body);
}

static void *
serve(void *arg)
{
	struct server *sv = arg;

	for (;;) {
		int c = accept(sv->fd, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			emf_log(EMF_LOG_ERR, "metrics: accept: %s",
			    strerror(errno));
			sleep(1);
			continue;
		}
		respond(c, sv->inflight);
		close(c);
	}
	return NULL;
}

bool
emf_metrics_listen(const char *listen_on, int *fdp, char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	char host[256];
	const char *port, *colon;
	int fd, on = 1, rc;

	*fdp = -1;
	if (listen_on == NULL || listen_on[0] == '\0')
		return true;
	colon = strrchr(listen_on, ':');
	if (colon == NULL || colon == listen_on ||
	    (size_t)(colon - listen_on) >= sizeof(host)) {
		snprintf(err, errlen, "metrics.listen \"%s\": want host:port",
		    listen_on);
		return false;
	}
	if (listen_on[0] == '[' && colon[-1] == ']')
		snprintf(host, sizeof(host), "%.*s",
		    (int)(colon - listen_on - 2), listen_on + 1);
	else
		snprintf(host, sizeof(host), "%.*s",
		    (int)(colon - listen_on), listen_on);
	port = colon + 1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "metrics.listen \"%s\": %s", listen_on,
		    gai_strerror(rc));
		return false;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)) != 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, 16) != 0) {
		snprintf(err, errlen, "metrics.listen \"%s\": %s", listen_on,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return false;
	}
	freeaddrinfo(ai);
	*fdp = fd;
	return true;
}

bool
emf_metrics_start(int fd, int (*inflight)(void))
{
	struct server *sv;
	pthread_t tid;
	int rc;

	if (fd < 0)
		return true;
	sv = g_new0(struct server, 1);
	sv->fd = fd;
	sv->inflight = inflight;
	if ((rc = pthread_create(&tid, NULL, serve, sv)) != 0) {
		emf_log(EMF_LOG_ERR, "metrics: thread: %s", strerror(rc));
		g_free(sv);
		return false;
	}
	pthread_detach(tid);
	return true;
}
