/*
 * emofilter-web - the CSIRT's review console over the quarantine store,
 * in a browser. See emofilter-web(8) and web.h for the parts.
 *
 *   emofilter-web [-c CONF] [-d STORE] [-u USERS] [--listen ADDR:PORT]
 *   emofilter-web [-u USERS] --add-user NAME [--role analyst|releaser]
 *
 * This file: options, --add-user, the HTTP server (libmicrohttpd, one
 * internal polling thread), the request body, the security checks every
 * request passes (Host, session, CSRF token, Origin, role) and routing.
 *
 * Exit status: 0 done, 2 usage or configuration error, 3 store error,
 * 4 the server could not start.
 */
#include "config.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "html.h"
#include "pages.h"
#include "qsafe.h"
#include "qstore.h"
#include "store/quarantine.h"
#include "web.h"

#define PROG "emofilter-web"
#define MAX_BODY (64 * 1024)
#define MAX_FIELDS 2100
#define DEFAULT_LISTEN "127.0.0.1:8897"

/* What we keep of a connection between the calls for one request. */
struct conn {
	struct MHD_PostProcessor *pp;
	GHashTable *post;	/* name -> GPtrArray of char * */
	size_t total;
	unsigned fields;
	bool too_big, bad_body;
};

struct server {
	struct web w;
	bool loopback;		/* listening on loopback: check Host */
	unsigned port;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [-c CONF] [-d STORE] [-u USERS] [--listen ADDR:PORT]\n"
	    "           [--own-domain DOMAIN]... [--page-size N]\n"
	    "       " PROG " [-u USERS] --add-user NAME [--role analyst|releaser]\n"
	    "           (the password is read from stdin)\n"
	    "Listens on " DEFAULT_LISTEN " by default; USERS defaults to "
	    EMF_SYSCONFDIR "/web-users.\n");
}

/* ---- the request body ---------------------------------------------------- */

static void
ptr_array_free(gpointer p)
{
	g_ptr_array_free(p, TRUE);
}

static enum MHD_Result
post_field(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *filename, const char *content_type,
    const char *transfer_encoding, const char *data, uint64_t off,
    size_t size)
{
	struct conn *c = cls;
	GPtrArray *a;

	(void)kind;
	(void)filename;
	(void)content_type;
	(void)transfer_encoding;
	if ((a = g_hash_table_lookup(c->post, key)) == NULL) {
		a = g_ptr_array_new_with_free_func(g_free);
		g_hash_table_insert(c->post, g_strdup(key), a);
	}
	if (off == 0 || a->len == 0) {
		if (++c->fields > MAX_FIELDS) {
			c->too_big = true;
			return MHD_NO;
		}
		g_ptr_array_add(a, g_strndup(data, size));
	} else {
		/* A value given in pieces. */
		char **last = (char **)&a->pdata[a->len - 1];
		GString *s = g_string_new(*last);

		g_string_append_len(s, data, (gssize)size);
		g_free(*last);
		*last = g_string_free(s, FALSE);
	}
	return MHD_YES;
}

static void
conn_done(void *cls, struct MHD_Connection *mc, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn *c = *con_cls;

	(void)cls;
	(void)mc;
	(void)toe;
	if (c == NULL)
		return;
	if (c->pp)
		MHD_destroy_post_processor(c->pp);
	if (c->post)
		g_hash_table_destroy(c->post);
	g_free(c);
	*con_cls = NULL;
}

/* ---- answering ----------------------------------------------------------- */

static enum MHD_Result
send_resp(struct MHD_Connection *mc, struct resp *p)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	GString *body = p->body ? p->body : g_string_new(NULL);
	gsize len = body->len;
	char *data = g_string_free(body, FALSE);

	p->body = NULL;
	r = MHD_create_response_from_buffer_with_free_callback(len, data,
	    g_free);
	MHD_add_response_header(r, "Content-Type", p->ctype ? p->ctype :
	    "text/html; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "same-origin");
	MHD_add_response_header(r, "Content-Security-Policy",
	    "default-src 'none'; style-src 'self'; img-src 'self'; "
	    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
	if (p->location)
		MHD_add_response_header(r, "Location", p->location);
	if (p->cookie)
		MHD_add_response_header(r, "Set-Cookie", p->cookie);
	if (p->disposition)
		MHD_add_response_header(r, "Content-Disposition",
		    p->disposition);
	ret = MHD_queue_response(mc, p->status ? p->status : 200, r);
	MHD_destroy_response(r);
	g_free(p->location);
	g_free(p->cookie);
	g_free(p->disposition);
	return ret;
}

static void
redirect(struct resp *p, const char *to)
{
	p->status = 303;
	p->location = g_strdup(to);
}

/* ---- checks -------------------------------------------------------------- */

/* On loopback, Host must name loopback (no DNS rebinding). */
static bool
host_ok(struct server *sv, struct MHD_Connection *mc)
{
	const char *h = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
	    "Host");
	static const char *const names[] = { "127.0.0.1", "localhost",
		"[::1]", NULL };
	char withport[64];

	if (!sv->loopback)
		return true;
	if (h == NULL)
		return false;
	for (size_t i = 0; names[i]; i++) {
		g_snprintf(withport, sizeof(withport), "%s:%u", names[i],
		    sv->port);
		if (strcmp(h, names[i]) == 0 || strcmp(h, withport) == 0)
			return true;
	}
	return false;
}

/* A POST from another site's page carries its Origin: refuse it. */
static bool
origin_ok(struct MHD_Connection *mc)
{
	const char *o = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
	    "Origin");
	const char *h = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
	    "Host");

	if (o == NULL)
		return true;
	if (h == NULL || (strncmp(o, "http://", 7) != 0 && strncmp(o,
	    "https://", 8) != 0))
		return false;
	return strcmp(strstr(o, "://") + 3, h) == 0;
}

/* ---- routing ------------------------------------------------------------- */

static bool
is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* A POST of a logged-in user, its CSRF token checked by the caller. */
static void
route_post(struct req *r, struct resp *p)
{
	bool act = is(r->url, "/release") || is(r->url, "/delete") ||
	    is(r->url, "/bulk");

	if (is(r->url, "/logout")) {
		action_logout(r, p);
	} else if (act && r->s->role != ROLE_RELEASER) {
		page_error(p, 403, "releasing and deleting need the releaser "
		    "role", r->s);
	} else if (is(r->url, "/release")) {
		action_release(r, p);
	} else if (is(r->url, "/delete")) {
		action_delete(r, p);
	} else if (is(r->url, "/bulk")) {
		action_bulk(r, p);
	} else {
		page_error(p, 404, "no such page", r->s);
	}
}

static void
route_get(struct req *r, struct resp *p)
{
	if (is(r->url, "/"))
		page_list(r, p);
	else if (is(r->url, "/entry"))
		page_entry(r, p);
	else if (is(r->url, "/stats"))
		page_stats(r, p);
	else if (is(r->url, "/ioc"))
		page_ioc(r, p);
	else if (is(r->url, "/release") || is(r->url, "/delete") ||
	    is(r->url, "/bulk") || is(r->url, "/logout"))
		page_error(p, 405, "this is done by the form's button (POST), "
		    "never by a link", r->s);
	else
		page_error(p, 404, "no such page", r->s);
}

static void
route(struct server *sv, struct req *r, struct resp *p, struct conn *c)
{
	bool post = is(r->method, "POST");

	if (!host_ok(sv, r->conn)) {
		page_error(p, 421, "wrong Host header for this server", NULL);
		return;
	}
	if (is(r->url, "/style.css") && !post) {
		p->status = 200;
		p->body = g_string_new(web_css);
		p->ctype = "text/css; charset=utf-8";
		return;
	}
	if (is(r->url, "/favicon.ico")) {
		/* None; and no redirect to a login form that would replace
		 * the form token of the page that asked. */
		p->status = 404;
		p->ctype = "text/plain; charset=utf-8";
		return;
	}
	if (post && (c->too_big || c->bad_body)) {
		page_error(p, c->too_big ? 413 : 400, c->too_big ?
		    "request too large" : "unreadable form", NULL);
		return;
	}
	if (is(r->url, "/login") && !post) {
		page_login(r, p, NULL);
		return;
	}
	if (post && (!origin_ok(r->conn) || r->s == NULL ||
	    !csrf_ok(r->s, post_arg(r, "csrf")))) {
		/* Without a session a POST goes to the login page; with
		 * one, a missing or wrong token is refused. */
		if (r->s == NULL && !is(r->url, "/login"))
			redirect(p, "/login");
		else
			page_error(p, 403, "missing or wrong form token "
			    "(CSRF): reload the page and try again",
			    r->s && r->s->user ? r->s : NULL);
		return;
	}
	if (post && is(r->url, "/login")) {
		action_login(r, p);
		return;
	}
	if (r->s == NULL || r->s->user == NULL) {
		redirect(p, "/login");
		return;
	}
	if (post)
		route_post(r, p);
	else
		route_get(r, p);
}

static void
log_request(const struct req *r, const struct resp *p)
{
	char *url = safe_cut(r->url, 200);

	fprintf(stderr, PROG ": %s %s %u %s\n", r->method, url, p->status,
	    r->s && r->s->user ? r->s->user : "-");
	g_free(url);
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct server *sv = cls;
	struct conn *c = *con_cls;
	struct req r = { &sv->w, mc, method, url, NULL, NULL };
	struct resp p = { 0 };
	enum MHD_Result ret;

	(void)version;
	if (c == NULL) {
		c = g_new0(struct conn, 1);
		*con_cls = c;
		if (is(method, "POST")) {
			c->post = g_hash_table_new_full(g_str_hash,
			    g_str_equal, g_free, ptr_array_free);
			c->pp = MHD_create_post_processor(mc, 16384,
			    post_field, c);
			c->bad_body = c->pp == NULL;
		}
		return MHD_YES;
	}
	if (*upload_size > 0) {
		c->total += *upload_size;
		if (c->total > MAX_BODY)
			c->too_big = true;
		else if (c->pp && !c->too_big && MHD_post_process(c->pp,
		    upload, *upload_size) != MHD_YES)
			c->bad_body = true;
		*upload_size = 0;
		return MHD_YES;
	}
	if (!is(method, "GET") && !is(method, "HEAD") && !is(method, "POST")) {
		page_error(&p, 405, "method not allowed", NULL);
		return send_resp(mc, &p);
	}
	r.post = c->post;
	r.s = session_get(&sv->w, MHD_lookup_connection_value(mc,
	    MHD_COOKIE_KIND, "emf_session"));
	route(sv, &r, &p, c);
	log_request(&r, &p);
	ret = send_resp(mc, &p);
	return ret;
}

/* ---- starting ------------------------------------------------------------ */

/* "127.0.0.1:8897" or "[::1]:8897" into sa; false if malformed. */
static bool
parse_listen(const char *s, struct sockaddr_storage *sa, socklen_t *len,
    bool *v6, bool *loopback, unsigned *port)
{
	const char *colon = strrchr(s, ':');
	char host[64];
	char *end;
	unsigned long p;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return false;
	p = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || p > 65535)
		return false;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	*port = (unsigned)p;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;

		host[strlen(host) - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return false;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)p);
		*len = sizeof(*a);
		*v6 = true;
		*loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
		return true;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)sa;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return false;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)p);
		*len = sizeof(*a);
		*v6 = false;
		*loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
		return true;
	}
}

/* The password from stdin: its first line, without the line end. */
static char *
read_password(void)
{
	char buf[1100];
	size_t n;

	if (fgets(buf, sizeof(buf), stdin) == NULL)
		return NULL;
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return g_strdup(buf);
}

static int
add_user(const char *users, const char *name, const char *role)
{
	enum web_role r = role_parse(role ? role : "analyst");
	char *pw, *why;

	if (r == ROLE_NONE) {
		fprintf(stderr, PROG ": role must be analyst or releaser\n");
		return EX_USAGEERR;
	}
	if ((pw = read_password()) == NULL) {
		fprintf(stderr, PROG ": no password on stdin\n");
		return EX_USAGEERR;
	}
	why = users_add(users, name, r, pw);
	explicit_bzero(pw, strlen(pw));
	g_free(pw);
	if (why != NULL) {
		fprintf(stderr, PROG ": %s\n", why);
		g_free(why);
		return EX_USAGEERR;
	}
	printf("user %s (%s) written to %s\n", name, role_name(r), users);
	return EX_DONE;
}

struct opts {
	const char *conf, *store, *users, *listen, *add, *role;
	GPtrArray *own;
	unsigned page_size;
};

static int
parse_options(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "add-user", required_argument, NULL, 'a' },
		{ "role", required_argument, NULL, 'r' },
		{ "own-domain", required_argument, NULL, 'o' },
		{ "page-size", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "c:d:u:h", longopts,
	    NULL)) != -1) {
		switch (opt) {
		case 'c': o->conf = optarg; break;
		case 'd': o->store = optarg; break;
		case 'u': o->users = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'a': o->add = optarg; break;
		case 'r': o->role = optarg; break;
		case 'o': g_ptr_array_add(o->own, g_strdup(optarg)); break;
		case 'p':
			o->page_size = (unsigned)strtoul(optarg, NULL, 10);
			if (o->page_size < 1 || o->page_size > 1000)
				return EX_USAGEERR;
			break;
		case 'h': usage(stdout); return EX_DONE;
		default: usage(stderr); return EX_USAGEERR;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGEERR;
	}
	return -1;
}

static struct MHD_Daemon *
start(struct server *sv, const char *listen)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	bool v6;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;

	if (!parse_listen(listen, &sa, &salen, &v6, &sv->loopback,
	    &sv->port)) {
		fprintf(stderr, PROG ": bad --listen \"%s\" (want "
		    "127.0.0.1:8897 or [::1]:8897)\n", listen);
		return NULL;
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0), (uint16_t)sv->port,
	    NULL, NULL, handle, sv,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, conn_done, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
	    MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, PROG ": cannot listen on %s\n", listen);
		return NULL;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (info != NULL && info->port != 0)
		sv->port = info->port;
	return d;
}

static const char *
default_conf(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/emofilter.conf", EMF_SYSCONFDIR);
	return access(path, R_OK) == 0 ? path : NULL;
}

/* Read the store once before serving, so that the first list page does
 * not wait for every report to be parsed. */
static void
preload(struct web *w)
{
	gint64 t0 = g_get_monotonic_time();
	unsigned skipped = 0;
	char *why = NULL;
	GPtrArray *all = cache_entries(w, &skipped, &why);

	if (all == NULL) {
		fprintf(stderr, PROG ": %s\n", why);
		g_free(why);
		return;
	}
	fprintf(stderr, PROG ": %u entries read in %ld ms%s\n", all->len,
	    (long)((g_get_monotonic_time() - t0) / 1000), skipped ?
	    " (some unreadable: see above)" : "");
	g_ptr_array_free(all, TRUE);
}

/* Serve until SIGINT or SIGTERM. */
static int
serve(struct server *sv, const char *listen)
{
	struct MHD_Daemon *d;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	/* Blocked here, so that MHD's thread inherits the mask. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((d = start(sv, listen)) == NULL)
		return 4;
	fprintf(stderr, PROG ": listening on http://%s:%u/ (store %s)\n",
	    strncmp(listen, "[", 1) == 0 ? "[::1]" : "127.0.0.1", sv->port,
	    sv->w.store);
	if (!sv->loopback)
		fprintf(stderr, PROG ": warning: not on loopback; this is "
		    "plain HTTP, put a TLS proxy in front\n");
	sigwait(&set, &sig);
	fprintf(stderr, PROG ": signal %d, stopping\n", sig);
	MHD_stop_daemon(d);
	return EX_DONE;
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct server sv = { 0 };
	struct emf_error err;
	const char *const *trusted;
	int rc;

	o.own = g_ptr_array_new_with_free_func(g_free);
	o.users = EMF_SYSCONFDIR "/web-users";
	o.listen = DEFAULT_LISTEN;
	o.page_size = 50;
	if ((rc = parse_options(argc, argv, &o)) >= 0 || o.add != NULL) {
		if (rc < 0)
			rc = add_user(o.users, o.add, o.role);
		g_ptr_array_free(o.own, TRUE);
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	if (emf_library_init() != EMF_OK) {
		fprintf(stderr, PROG ": library initialisation failed\n");
		return EX_STORE;
	}
	if (emf_cfg_load(o.conf ? o.conf : default_conf(), &sv.w.cfg,
	    &err) != EMF_OK) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		g_ptr_array_free(o.own, TRUE);
		emf_library_shutdown();
		return EX_USAGEERR;
	}
	sv.w.store = o.store ? o.store : emf_cfg_str(sv.w.cfg,
	    "quarantine.dir");
	if (emf_quarantine_check(sv.w.store, &err) != EMF_OK) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		g_ptr_array_free(o.own, TRUE);
		emf_cfg_free(sv.w.cfg);
		emf_library_shutdown();
		return EX_STORE;
	}
	/* Trusted sender domains are ours too: not shared as indicators. */
	trusted = emf_cfg_strlist(sv.w.cfg, "heuristics.trusted_domains");
	for (size_t i = 0; trusted && trusted[i]; i++)
		g_ptr_array_add(o.own, g_strdup(trusted[i]));
	sv.w.own = o.own;
	sv.w.users_path = o.users;
	sv.w.page_size = o.page_size;
	sv.w.sessions = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
	    session_free);
	sv.w.cache = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
	    qentry_free);
	sv.w.failures = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, g_free);
	preload(&sv.w);
	rc = serve(&sv, o.listen);
	g_hash_table_destroy(sv.w.sessions);
	g_hash_table_destroy(sv.w.cache);
	g_hash_table_destroy(sv.w.failures);
	g_ptr_array_free(o.own, TRUE);
	emf_cfg_free(sv.w.cfg);
	emf_library_shutdown();
	return rc;
}
