/*
 * qmetrics.c - the daemon's Prometheus counters (see qmetrics.h).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "qjson.h"
#include "qmetrics.h"
#include "qsafe.h"

#define MAX_BODY (4u << 20)
#define TIMEOUT_S 5

/* addr into host, port and path; false with *why if it is none of ours. */
static gboolean
parse_addr(const char *addr, char **host, char **port, char **path,
    char **why)
{
	const char *p = addr, *slash, *colon;
	char *hp;

	if (g_str_has_prefix(p, "http://"))
		p += 7;
	slash = strchr(p, '/');
	hp = slash ? g_strndup(p, (gsize)(slash - p)) : g_strdup(p);
	*path = g_strdup(slash && slash[1] ? slash : "/metrics");
	colon = strrchr(hp, ':');
	if (colon == NULL || colon == hp || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
		char *s = safe_dup(addr);

		*why = g_strdup_printf("\"%s\": want HOST:PORT or "
		    "http://HOST:PORT/metrics", s);
		g_free(s);
		g_free(hp);
		g_free(*path);
		return FALSE;
	}
	*host = g_strndup(hp, (gsize)(colon - hp));
	*port = g_strdup(colon + 1);
	if ((*host)[0] == '[' && (*host)[strlen(*host) - 1] == ']') {
		memmove(*host, *host + 1, strlen(*host));
		(*host)[strlen(*host) - 1] = '\0';
	}
	g_free(hp);
	for (const char *q = *path; *q; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f) {
			*why = g_strdup("bad path in the metrics address");
			g_free(*host);
			g_free(*port);
			g_free(*path);
			return FALSE;
		}
	return TRUE;
}

static int
connect_to(const char *host, const char *port, char **why)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv = { TIMEOUT_S, 0 };
	int fd = -1, gai, e = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0) {
		*why = g_strdup_printf("%s:%s: %s", host, port,
		    gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		*why = g_strdup_printf("%s:%s: connect: %s (is the daemon "
		    "running with metrics.listen set?)", host, port,
		    g_strerror(e));
	return fd;
}

char *
qmetrics_fetch(const char *addr, char **why)
{
	char *host, *port, *path, *req, buf[8192], *hdr_end, *body = NULL;
	GString *in;
	size_t off;
	int fd;

	*why = NULL;
	if (!parse_addr(addr, &host, &port, &path, why))
		return NULL;
	fd = connect_to(host, port, why);
	req = g_strdup_printf("GET %s HTTP/1.0\r\nHost: %s\r\nConnection: "
	    "close\r\n\r\n", path, host);
	in = g_string_new(NULL);
	if (fd >= 0) {
		for (off = 0; off < strlen(req);) {
			ssize_t w = write(fd, req + off, strlen(req) - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				*why = g_strdup_printf("metrics: write: %s",
				    g_strerror(errno));
				break;
			}
			off += (size_t)w;
		}
		while (*why == NULL) {
			ssize_t r = read(fd, buf, sizeof(buf));

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				*why = g_strdup_printf("metrics: read: %s",
				    g_strerror(errno));
			if (r <= 0)
				break;
			g_string_append_len(in, buf, r);
			if (in->len > MAX_BODY)
				*why = g_strdup("metrics: answer too long");
		}
		close(fd);
	}
	if (*why == NULL) {
		hdr_end = strstr(in->str, "\r\n\r\n");
		if (!g_str_has_prefix(in->str, "HTTP/1.") || in->len < 12 ||
		    strncmp(in->str + 9, "200", 3) != 0 || hdr_end == NULL) {
			char *first = g_strndup(in->str, strcspn(in->str,
			    "\r\n"));
			char *s = safe_dup(first);

			*why = g_strdup_printf("metrics %s:%s%s: answer \"%s\"",
			    host, port, path, s);
			g_free(s);
			g_free(first);
		} else {
			body = g_strdup(hdr_end + 4);
		}
	}
	g_string_free(in, TRUE);
	g_free(req);
	g_free(host);
	g_free(port);
	g_free(path);
	return body;
}

/* The value of label name in "{a="x",b="y"}" (labels), or NULL. */
static char *
label(const char *labels, const char *name)
{
	char *key = g_strdup_printf("%s=\"", name);
	const char *p = strstr(labels, key), *e;
	char *v = NULL;

	if (p != NULL && (p == labels || p[-1] == '{' || p[-1] == ',')) {
		p += strlen(key);
		if ((e = strchr(p, '"')) != NULL)
			v = g_strndup(p, (gsize)(e - p));
	}
	g_free(key);
	return v;
}

struct mrow {
	char *action, *result;
	guint64 n;
};

char *
qmetrics_render(const char *body, const char *addr, gboolean json,
    char **why)
{
	GPtrArray *rows = g_ptr_array_new();
	guint64 tempfails = 0, wr = 0, mr = 0, scans = 0;
	gint64 inflight = 0;
	gboolean any = FALSE;
	char **lines = g_strsplit(body, "\n", -1);
	GString *out = g_string_new(NULL);

	*why = NULL;
	for (size_t i = 0; lines[i] != NULL; i++) {
		char *l = lines[i], *sp, *brace, *name;
		guint64 v;

		if (*l == '#' || *l == '\0' || (sp = strrchr(l, ' ')) == NULL)
			continue;
		v = g_ascii_strtoull(sp + 1, NULL, 10);
		brace = strchr(l, '{');
		name = g_strndup(l, (gsize)((brace && brace < sp ? brace : sp) -
		    l));
		if (strcmp(name, "emofilter_messages_total") == 0 && brace) {
			struct mrow *r = g_new0(struct mrow, 1);
			char *labels = g_strndup(brace, (gsize)(sp - brace));

			r->action = label(labels, "action");
			r->result = label(labels, "result");
			r->n = v;
			g_free(labels);
			if (r->action && r->result)
				g_ptr_array_add(rows, r);
			else {
				g_free(r->action);
				g_free(r->result);
				g_free(r);
			}
			any = TRUE;
		} else if (strcmp(name, "emofilter_tempfails_total") == 0) {
			tempfails = v;
			any = TRUE;
		} else if (strcmp(name, "emofilter_worker_restarts_total") == 0)
			wr = v;
		else if (strcmp(name, "emofilter_milter_restarts_total") == 0)
			mr = v;
		else if (strcmp(name, "emofilter_messages_in_flight") == 0)
			inflight = g_ascii_strtoll(sp + 1, NULL, 10);
		else if (strcmp(name, "emofilter_scan_seconds_count") == 0)
			scans = v;
		g_free(name);
	}
	g_strfreev(lines);
	if (!any) {
		*why = g_strdup("the metrics answer has no emofilter counters");
	} else if (json) {
		JsonBuilder *b = json_builder_new();
		char *t;

		json_builder_begin_object(b);
		qjson_add_string_member(b, "url", addr);
		json_builder_set_member_name(b, "messages");
		json_builder_begin_array(b);
		for (guint i = 0; i < rows->len; i++) {
			struct mrow *r = g_ptr_array_index(rows, i);

			json_builder_begin_object(b);
			qjson_add_string_member(b, "action", r->action);
			qjson_add_string_member(b, "result", r->result);
			json_builder_set_member_name(b, "count");
			json_builder_add_int_value(b, (gint64)r->n);
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
#define INTM(k, v) do { json_builder_set_member_name(b, k); \
	json_builder_add_int_value(b, (gint64)(v)); } while (0)
		INTM("tempfails", tempfails);
		INTM("worker_restarts", wr);
		INTM("milter_restarts", mr);
		INTM("in_flight", inflight);
		INTM("scans", scans);
#undef INTM
		json_builder_end_object(b);
		t = qjson_finish(b, false);
		g_string_append(out, t);
		g_free(t);
	} else {
		char *s = safe_dup(addr);

		g_string_append_printf(out, "Daemon counters (%s, since the "
		    "daemon started):\n  %-12s %-32s %10s\n", s, "action",
		    "result", "messages");
		g_free(s);
		for (guint i = 0; i < rows->len; i++) {
			struct mrow *r = g_ptr_array_index(rows, i);
			char *a = safe_dup(r->action), *re = safe_dup(r->result);

			g_string_append_printf(out, "  %-12s %-32s %10"
			    G_GUINT64_FORMAT "\n", a, re, r->n);
			g_free(a);
			g_free(re);
		}
		g_string_append_printf(out, "  %-45s %10" G_GUINT64_FORMAT "\n"
		    "  %-45s %10" G_GUINT64_FORMAT "\n  %-45s %10"
		    G_GUINT64_FORMAT "\n  %-45s %10" G_GUINT64_FORMAT "\n"
		    "  %-45s %10" G_GINT64_FORMAT "\n", "tempfails (451)",
		    tempfails, "scans", scans, "worker restarts", wr,
		    "milter restarts", mr, "in flight", inflight);
	}
	for (guint i = 0; i < rows->len; i++) {
		struct mrow *r = g_ptr_array_index(rows, i);

		g_free(r->action);
		g_free(r->result);
		g_free(r);
	}
	g_ptr_array_free(rows, TRUE);
	if (*why != NULL) {
		g_string_free(out, TRUE);
		return NULL;
	}
	return g_string_free(out, FALSE);
}
