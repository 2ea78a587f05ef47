/*
 * auth.c - users, sessions and CSRF tokens of emofilter-web (see web.h).
 *
 * Users file: one line per user, "NAME:ROLE:HASH", HASH from crypt(3)
 * (yescrypt "$y$", or any other method libcrypt verifies, e.g. "$6$");
 * '#' lines and blank lines are ignored. The file is read at each login,
 * so users added with --add-user take effect without a restart.
 */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web.h"

#define MAX_USERS_FILE ((gsize)1 << 20)
#define MAX_PASSWORD 1024
/* A session lives 8 hours, and 30 minutes without a request; a login
 * form 10 minutes. At most this many sessions are kept. */
#define SESSION_MAX_AGE (8 * 3600)
#define SESSION_IDLE (30 * 60)
#define ANON_MAX_AGE (10 * 60)
#define MAX_SESSIONS 4096
/* Five wrong passwords within 10 minutes lock a name for 5 minutes. */
#define FAIL_MAX 5
#define FAIL_WINDOW (10 * 60)
#define FAIL_LOCK (5 * 60)

struct login_failures {
	unsigned n;
	gint64 first, locked_until;
};

const char *
role_name(enum web_role r)
{
	return r == ROLE_RELEASER ? "releaser" : r == ROLE_ANALYST ?
	    "analyst" : "none";
}

enum web_role
role_parse(const char *s)
{
	if (s == NULL)
		return ROLE_NONE;
	if (strcmp(s, "analyst") == 0)
		return ROLE_ANALYST;
	if (strcmp(s, "releaser") == 0)
		return ROLE_RELEASER;
	return ROLE_NONE;
}

bool
user_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(name[i]) && name[i] != '.' &&
		    name[i] != '_' && name[i] != '-')
			return false;
	return true;
}

void
random_hex(char *out, size_t count)
{
	unsigned char buf[64];
	size_t got = 0;

	g_assert(count <= sizeof(buf));
	while (got < count) {
		ssize_t r = getrandom(buf + got, count - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		/* No randomness, no sessions: never hand out a guessable
		 * token. */
		if (r <= 0)
			g_error("getrandom: %s", g_strerror(errno));
		got += (size_t)r;
	}
	for (size_t i = 0; i < count; i++)
		g_snprintf(out + 2 * i, 3, "%02x", buf[i]);
}

/* ---- the users file ---------------------------------------------------- */

/* The lines of the users file (empty when it does not exist). */
static char **
users_lines(const char *path, char **why)
{
	char *data = NULL;
	gsize len;
	GError *gerr = NULL;
	char **lines;

	if (!g_file_get_contents(path, &data, &len, &gerr)) {
		if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			g_error_free(gerr);
			return g_new0(char *, 1);
		}
		*why = g_strdup(gerr->message);
		g_error_free(gerr);
		return NULL;
	}
	if (len > MAX_USERS_FILE) {
		*why = g_strdup_printf("%s: larger than 1 MiB", path);
		g_free(data);
		return NULL;
	}
	lines = g_strsplit(data, "\n", -1);
	g_free(data);
	return lines;
}

/* Split "NAME:ROLE:HASH" (in place); false for comments and junk. */
static bool
split_user(char *line, char **name, char **role, char **hash)
{
	char *a, *b;

	if (line[0] == '#' || (a = strchr(line, ':')) == NULL ||
	    (b = strchr(a + 1, ':')) == NULL)
		return false;
	*a = *b = '\0';
	*name = line;
	*role = a + 1;
	*hash = b + 1;
	return true;
}

char *
users_add(const char *path, const char *name, enum web_role role,
    const char *password)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	char **lines, *why = NULL, *tmp;
	GString *out;
	int fd;

	if (!user_name_ok(name))
		return g_strdup("bad user name (want 1 to 64 of A-Z a-z 0-9 "
		    ". _ -)");
	if (strlen(password) < 8 || strlen(password) > MAX_PASSWORD)
		return g_strdup("the password must have 8 to 1024 bytes");
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL)
		return g_strdup_printf("crypt_gensalt: %s", g_strerror(errno));
	cd = g_new0(struct crypt_data, 1);
	if (crypt_r(password, salt, cd) == NULL || cd->output[0] == '*') {
		g_free(cd);
		return g_strdup("crypt: yescrypt failed");
	}
	if ((lines = users_lines(path, &why)) == NULL) {
		g_free(cd);
		return why;
	}
	out = g_string_new(NULL);
	for (char **l = lines; *l; l++) {
		char *copy = g_strdup(*l), *n, *r, *h;

		if (**l == '\0' || (split_user(copy, &n, &r, &h) &&
		    strcmp(n, name) == 0)) {
			g_free(copy);
			continue;
		}
		g_string_append_printf(out, "%s\n", *l);
		g_free(copy);
	}
	g_string_append_printf(out, "%s:%s:%s\n", name, role_name(role),
	    cd->output);
	explicit_bzero(cd, sizeof(*cd));
	g_free(cd);
	g_strfreev(lines);
	tmp = g_strdup_printf("%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, out->str, out->len) != (ssize_t)out->len ||
	    fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		why = g_strdup_printf("%s: %s", path, g_strerror(errno));
		if (fd >= 0)
			unlink(tmp);
	}
	g_free(tmp);
	g_string_free(out, TRUE);
	return why;
}

/* Compare a and b in time that depends only on their lengths. */
static bool
const_eq(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	unsigned char d = n != m;

	for (size_t i = 0; i < n && i < m; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

enum web_role
users_check(const char *path, const char *name, const char *password,
    char **why)
{
	/* A valid hash to spend the same time on for an unknown name. */
	static const char dummy[] = "$y$j9T$TpGD1t0y4gxCdQ7rwCmNt/$"
	    "Mi4QnhQvbBE.G0c4j48LDfVUpE5/M5GftBa0eqWZgHD";
	struct crypt_data *cd = g_new0(struct crypt_data, 1);
	enum web_role role = ROLE_NONE;
	const char *hash = dummy;
	char **lines, *n, *r, *h, *rolestr = NULL;
	bool found = false;

	*why = NULL;
	if ((lines = users_lines(path, why)) == NULL) {
		g_free(cd);
		return ROLE_NONE;
	}
	for (char **l = lines; *l && !found; l++)
		if (split_user(*l, &n, &r, &h) && strcmp(n, name) == 0) {
			found = true;
			hash = h;
			rolestr = r;
		}
	if (strlen(password) <= MAX_PASSWORD &&
	    crypt_r(password, hash, cd) != NULL && cd->output[0] != '*' &&
	    const_eq(cd->output, hash) && found)
		role = role_parse(rolestr);
	if (role == ROLE_NONE && *why == NULL)
		*why = g_strdup(found ? "wrong password" : "unknown user");
	explicit_bzero(cd, sizeof(*cd));
	g_free(cd);
	g_strfreev(lines);
	return role;
}

/* ---- sessions ---------------------------------------------------------- */

static bool
expired(const struct session *s, gint64 now)
{
	if (s->user == NULL)
		return now - s->created > ANON_MAX_AGE;
	return now - s->created > SESSION_MAX_AGE ||
	    now - s->last > SESSION_IDLE;
}

/* Drop expired sessions; when still full, the anonymous ones. */
static void
sessions_prune(struct web *w)
{
	gint64 now = g_get_monotonic_time() / G_USEC_PER_SEC;
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, w->sessions);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (expired(v, now))
			g_hash_table_iter_remove(&it);
	if (g_hash_table_size(w->sessions) < MAX_SESSIONS)
		return;
	g_hash_table_iter_init(&it, w->sessions);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (((struct session *)v)->user == NULL)
			g_hash_table_iter_remove(&it);
}

struct session *
session_new(struct web *w, const char *user, enum web_role role)
{
	struct session *s = g_new0(struct session, 1);

	sessions_prune(w);
	random_hex(s->token, 32);
	random_hex(s->csrf, 32);
	s->user = g_strdup(user);
	s->role = role;
	s->created = s->last = g_get_monotonic_time() / G_USEC_PER_SEC;
	g_hash_table_insert(w->sessions, s->token, s);
	return s;
}

struct session *
session_get(struct web *w, const char *token)
{
	gint64 now = g_get_monotonic_time() / G_USEC_PER_SEC;
	struct session *s;

	if (token == NULL || strlen(token) != 64)
		return NULL;
	if ((s = g_hash_table_lookup(w->sessions, token)) == NULL)
		return NULL;
	if (expired(s, now)) {
		g_hash_table_remove(w->sessions, token);
		return NULL;
	}
	s->last = now;
	return s;
}

void
session_free(gpointer p)
{
	struct session *s = p;

	g_free(s->user);
	explicit_bzero(s, sizeof(*s));
	g_free(s);
}

void
session_drop(struct web *w, struct session *s)
{
	g_hash_table_remove(w->sessions, s->token);
}

bool
csrf_ok(const struct session *s, const char *token)
{
	return token != NULL && const_eq(token, s->csrf);
}

/* ---- login throttling -------------------------------------------------- */

bool
login_allowed(struct web *w, const char *name)
{
	gint64 now = g_get_monotonic_time() / G_USEC_PER_SEC;
	struct login_failures *f = g_hash_table_lookup(w->failures, name);

	return f == NULL || f->locked_until <= now;
}

void
login_failed(struct web *w, const char *name)
{
	gint64 now = g_get_monotonic_time() / G_USEC_PER_SEC;
	struct login_failures *f = g_hash_table_lookup(w->failures, name);

	if (f == NULL) {
		/* Bounded: names are checked before this, and the table is
		 * emptied when it grows large. */
		if (g_hash_table_size(w->failures) > 10000)
			g_hash_table_remove_all(w->failures);
		f = g_new0(struct login_failures, 1);
		g_hash_table_insert(w->failures, g_strdup(name), f);
	}
	if (now - f->first > FAIL_WINDOW) {
		f->first = now;
		f->n = 0;
	}
	if (++f->n >= FAIL_MAX) {
		f->locked_until = now + FAIL_LOCK;
		f->n = 0;
		f->first = now;
	}
}

void
login_succeeded(struct web *w, const char *name)
{
	g_hash_table_remove(w->failures, name);
}
