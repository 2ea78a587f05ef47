/*
 * web.h - emofilter-web, the CSIRT's review console over the quarantine
 * store: what its parts share. See emofilter-web(8).
 *
 *   main.c    options, --add-user, the HTTP server (libmicrohttpd), routing
 *   auth.c    the users file (crypt(3) hashes), sessions, CSRF tokens
 *   cache.c   the entries of the store, kept in a short form for the list
 *   pages.c   the pages: list, entry, statistics, IOC download, actions
 *   html.c    escaping and the page frame; svg.c the charts
 *
 * The server runs one thread (MHD's internal polling thread), so nothing
 * here locks: every request is handled to its end before the next.
 */
#ifndef EMF_WEB_H
#define EMF_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

#include "emf.h"

enum web_role { ROLE_NONE = 0, ROLE_ANALYST, ROLE_RELEASER };

struct session {
	char token[65];		/* cookie value, 32 random bytes in hex */
	char csrf[65];		/* the form token of this session */
	char *user;		/* NULL: not logged in (login form only) */
	enum web_role role;
	gint64 created, last;	/* monotonic seconds */
};

struct web {
	const char *store;
	const char *users_path;
	struct emf_cfg *cfg;
	GHashTable *sessions;	/* token -> struct session * */
	GHashTable *cache;	/* entry ID -> struct qentry * (short form) */
	GHashTable *failures;	/* user name -> struct login_failures * */
	GPtrArray *own;		/* char *: our domains, left out of IOCs */
	unsigned page_size;
};

/* ---- auth.c ---- */

const char *role_name(enum web_role r);
enum web_role role_parse(const char *s);
/* Whether name may be a user name: [A-Za-z0-9._-], 1 to 64. */
bool user_name_ok(const char *name);
/*
 * Add or replace user name with role and password (hashed with yescrypt,
 * salted) in the users file at path, written anew (0600, atomically).
 * NULL on success, else why not (g_free()).
 */
char *users_add(const char *path, const char *name, enum web_role role,
    const char *password);
/*
 * The role of name when password is right, else ROLE_NONE (unknown user,
 * wrong password, unreadable file: *why then says which, for the log).
 */
enum web_role users_check(const char *path, const char *name,
    const char *password, char **why);

/* count random bytes as 2*count hex digits into out (2*count+1 bytes). */
void random_hex(char *out, size_t count);
/* A new session (anonymous when user is NULL), owned by w->sessions. */
struct session *session_new(struct web *w, const char *user,
    enum web_role role);
/* The live session with this token, or NULL (expired ones are dropped). */
struct session *session_get(struct web *w, const char *token);
void session_drop(struct web *w, struct session *s);
/* Free a session (the GDestroyNotify of w->sessions). */
void session_free(gpointer s);
/* Whether token is s's CSRF token (constant time). */
bool csrf_ok(const struct session *s, const char *token);
/* Login throttling: whether name may try now; record a failure; clear. */
bool login_allowed(struct web *w, const char *name);
void login_failed(struct web *w, const char *name);
void login_succeeded(struct web *w, const char *name);

/* ---- cache.c ---- */

/*
 * The entries of the store, newest first, as short entries (struct qentry
 * * borrowed from w->cache: report fields the list, filters and
 * statistics use, and the release record). New entries are loaded,
 * removed ones dropped, release records looked at again on every call.
 * NULL with *why set when the store cannot be listed; *skipped counts
 * unreadable entries.
 */
GPtrArray *cache_entries(struct web *w, unsigned *skipped, char **why);

#endif /* EMF_WEB_H */
