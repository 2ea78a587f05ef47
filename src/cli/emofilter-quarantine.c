/*
 * emofilter-quarantine - the CSIRT's review tool over the quarantine store:
 * list, show, release, delete, purge, export, ioc. See
 * emofilter-quarantine(8).
 *
 * Reads reports as JSON (the schema emf_report_json() writes) through
 * json-glib, generically: fields that other modules add to objects are
 * shown and mined for indicators without this file knowing them. Nothing
 * from a message is rendered or executed; every untrusted string goes
 * through safe_append() before it reaches a terminal.
 *
 * Exit status: 0 done, 1 not found or refused, 2 usage or configuration
 * error, 3 store error (missing, too open, unreadable entry), 4 release
 * delivery failed.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "emf.h"
#include "qexport.h"
#include "qjson.h"
#include "qrender.h"
#include "qsafe.h"
#include "qstore.h"
#include "quarantine.h"

struct ctx {
	const char *prog;
	const char *store;
	struct emf_cfg *cfg;
	bool unreadable;	/* a corrupt entry was skipped */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: emofilter-quarantine [-c CONF] [-d STORE] COMMAND [ARGS]\n"
	    "  list [--since T] [--until T] [--min-score N] [--symbol NAME]\n"
	    "       [--from TEXT] [--rcpt TEXT] [--released | --pending] [--json]\n"
	    "  show ID\n"
	    "  release ID [--to RCPT]... [--force]\n"
	    "  delete ID...\n"
	    "  purge --older-than AGE [--dry-run]      (AGE: 30d, 12h, 2w)\n"
	    "  export ID -o FILE                        (zip, AES-256, password \"infected\")\n"
	    "  ioc ID... | --since T [--until T] [--json | --csv | --urlhaus]\n"
	    "T is 2026-11-25, 2026-11-25T05:41:00Z or an age (7d, 12h).\n"
	    "Exit status: 0 done, 1 not found or refused, 2 usage or configuration\n"
	    "error, 3 store error, 4 release delivery failed.\n");
}

/* Who runs us, for the audit log and the release header. */
static char *
whoami(void)
{
	const char *login = getlogin();
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw = getpwuid(getuid());
	const char *name = pw ? pw->pw_name : NULL;
	GString *s = g_string_new(NULL);

	if (name == NULL)
		name = login ? login : getenv("USER");
	g_string_append_printf(s, "%s (uid %lu", name ? name : "?",
	    (unsigned long)getuid());
	if (login != NULL && name != NULL && strcmp(login, name) != 0)
		g_string_append_printf(s, ", login %s", login);
	if (sudo != NULL && *sudo != '\0')
		g_string_append_printf(s, ", sudo by %s", sudo);
	g_string_append_c(s, ')');
	return g_string_free(s, FALSE);
}

/* ---- entries ----------------------------------------------------------- */

/* Load entry id, or say why not on stderr. Returns EX_DONE or the status. */
static int
load_entry(struct ctx *c, const char *id, struct qentry *e)
{
	char *why = NULL;
	int rc = qentry_load(c->store, id, e, &why);

	if (rc != EX_DONE) {
		fprintf(stderr, "%s: %s\n", c->prog, why);
		g_free(why);
	}
	return rc;
}

/* The raw message of e, or EX_STORE said on stderr. */
static int
load_message(struct ctx *c, const struct qentry *e, char **msg, size_t *len)
{
	char *why = NULL;
	int rc = qentry_read_message(c->store, e, msg, len, &why);

	if (rc != EX_DONE) {
		fprintf(stderr, "%s: %s\n", c->prog, why);
		g_free(why);
	}
	return rc;
}

/*
 * Entries matching f, newest first (struct qentry *). Unreadable entries
 * are reported on stderr and skipped (c->unreadable is set). Returns NULL
 * on a store error (reported).
 */
static GPtrArray *
select_entries(struct ctx *c, const struct qfilter *f)
{
	GPtrArray *skipped = g_ptr_array_new_with_free_func(g_free);
	char *why = NULL;
	GPtrArray *entries = qstore_select(c->store, f, skipped,
	    &c->unreadable, &why);

	for (guint i = 0; i < skipped->len; i++)
		fprintf(stderr, "%s: %s\n", c->prog,
		    (char *)g_ptr_array_index(skipped, i));
	g_ptr_array_free(skipped, TRUE);
	if (entries == NULL) {
		fprintf(stderr, "%s: %s\n", c->prog, why);
		g_free(why);
	}
	return entries;
}

/* A list/ioc filter option; false when it is not one or its value is bad
 * (said on stderr). */
static bool
filter_option(struct ctx *c, struct qfilter *f, int opt, const char *arg)
{
	switch (qfilter_option(f, opt, arg)) {
	case QFILTER_TAKEN:
		return true;
	case QFILTER_BAD_VALUE:
		fprintf(stderr, "%s: bad time or number \"%s\"\n", c->prog,
		    arg);
		return false;
	default:
		return false;
	}
}

/* ---- list -------------------------------------------------------------- */

static int
cmd_list(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		QFILTER_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct qfilter f;
	bool json = false;
	GPtrArray *entries;
	int opt;

	qfilter_init(&f);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'j')
			json = true;
		else if (!filter_option(c, &f, opt, optarg))
			return EX_USAGEERR;
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGEERR;
	}
	if ((entries = select_entries(c, &f)) == NULL)
		return EX_STORE;
	if (json) {
		char *text = qrender_list_json(entries);

		printf("%s\n", text);
		g_free(text);
	} else {
		for (guint i = 0; i < entries->len; i++) {
			char *line = qrender_list_line(
			    g_ptr_array_index(entries, i));

			fputs(line, stdout);
			g_free(line);
		}
	}
	g_ptr_array_free(entries, TRUE);
	return c->unreadable ? EX_STORE : EX_DONE;
}

/* ---- show -------------------------------------------------------------- */

static int
cmd_show(struct ctx *c, int argc, char **argv)
{
	struct qentry e;
	char *text;
	int rc;

	if (argc != 2) {
		usage(stderr);
		return EX_USAGEERR;
	}
	if ((rc = load_entry(c, argv[1], &e)) != EX_DONE)
		return rc;
	text = qrender_show(&e);
	fputs(text, stdout);
	g_free(text);
	qentry_clear(&e);
	return EX_DONE;
}

/* ---- audit ------------------------------------------------------------- */

/* One JSON line per action; failures to log are reported, not fatal. */
static bool
audit(struct ctx *c, const char *action, const char *id, const char *result,
    const char *const *to, const char *extra_key, const char *extra_val)
{
	JsonBuilder *b = json_builder_new();
	char *now = iso_time((gint64)time(NULL)), *who = whoami(), *line;
	struct emf_error err;
	bool ok;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "time");
	json_builder_add_string_value(b, now);
	json_builder_set_member_name(b, "action");
	json_builder_add_string_value(b, action);
	json_builder_set_member_name(b, "id");
	json_builder_add_string_value(b, id);
	json_builder_set_member_name(b, "by");
	json_builder_add_string_value(b, who);
	if (to != NULL) {
		json_builder_set_member_name(b, "to");
		json_builder_begin_array(b);
		for (size_t i = 0; to[i]; i++)
			json_builder_add_string_value(b, to[i]);
		json_builder_end_array(b);
	}
	if (extra_key != NULL) {
		json_builder_set_member_name(b, extra_key);
		json_builder_add_string_value(b, extra_val);
	}
	json_builder_set_member_name(b, "result");
	json_builder_add_string_value(b, result);
	json_builder_end_object(b);
	line = qjson_finish(b, false);
	ok = emf_quarantine_audit(c->store, line, &err) == EMF_OK;
	if (!ok)
		fprintf(stderr, "%s: audit log: %s\n", c->prog, err.msg);
	g_free(line);
	g_free(now);
	g_free(who);
	return ok;
}

/* ---- release ----------------------------------------------------------- */

/*
 * An address we are willing to put on a command line or in an SMTP
 * command: no controls, spaces, angle brackets, not starting with '-'.
 * "" (the null sender) only when null_ok.
 */
static bool
addr_ok(const char *a, bool null_ok)
{
	if (a == NULL)
		return false;
	if (*a == '\0')
		return null_ok;
	if (*a == '-' || strlen(a) > 320)
		return false;
	for (const unsigned char *p = (const unsigned char *)a; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>')
			return false;
	return g_utf8_validate(a, -1, NULL);
}

/*
 * The message to re-inject: our X-Emofilter-Released header, then the
 * original with any X-Emofilter-Released header it carried (a forgery: the
 * milter strips X-Emofilter-* on the way in) removed. The original's line
 * ending is kept.
 */
static GString *
released_message(const char *msg, size_t len, const char *header)
{
	GString *out = g_string_sized_new(len + 256);
	const char *p = msg, *end = msg + len;
	const char *nl = memchr(msg, '\n', len);
	bool crlf = nl != NULL && nl > msg && nl[-1] == '\r';
	bool in_headers = true, skipping = false;

	g_string_append(out, header);
	g_string_append(out, crlf ? "\r\n" : "\n");
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		const char *next = e ? e + 1 : end;

		if (in_headers) {
			if (*p == '\n' || (*p == '\r' && p + 1 < end &&
			    p[1] == '\n')) {
				in_headers = false;
				skipping = false;
			} else if (*p == ' ' || *p == '\t') {
				if (skipping) {
					p = next;
					continue;
				}
			} else {
				skipping = (size_t)(next - p) >= 21 &&
				    g_ascii_strncasecmp(p,
				    "X-Emofilter-Released:", 21) == 0;
				if (skipping) {
					p = next;
					continue;
				}
			}
		}
		g_string_append_len(out, p, next - p);
		p = next;
	}
	return out;
}

static bool
write_all_fd(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* sendmail -G -i -f SENDER -- RCPT...; the message on its stdin. */
static char *
deliver_sendmail(const char *cmd, const char *sender,
    const char *const *rcpts, const GString *msg)
{
	GPtrArray *argv = g_ptr_array_new();
	int pfd[2], status;
	pid_t pid;
	bool wrote;
	void (*oldpipe)(int);

	g_ptr_array_add(argv, (char *)cmd);
	g_ptr_array_add(argv, "-G");
	g_ptr_array_add(argv, "-i");
	g_ptr_array_add(argv, "-f");
	g_ptr_array_add(argv, (char *)(*sender ? sender : "<>"));
	g_ptr_array_add(argv, "--");
	for (size_t i = 0; rcpts[i]; i++)
		g_ptr_array_add(argv, (char *)rcpts[i]);
	g_ptr_array_add(argv, NULL);
	if (pipe(pfd) != 0) {
		g_ptr_array_free(argv, TRUE);
		return g_strdup_printf("pipe: %s", g_strerror(errno));
	}
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		g_ptr_array_free(argv, TRUE);
		return g_strdup_printf("fork: %s", g_strerror(errno));
	}
	if (pid == 0) {
		dup2(pfd[0], 0);
		close(pfd[0]);
		close(pfd[1]);
		execv(cmd, (char **)argv->pdata);
		fprintf(stderr, "exec %s: %s\n", cmd, g_strerror(errno));
		_exit(127);
	}
	close(pfd[0]);
	g_ptr_array_free(argv, TRUE);
	oldpipe = signal(SIGPIPE, SIG_IGN);
	wrote = write_all_fd(pfd[1], msg->str, msg->len);
	close(pfd[1]);
	signal(SIGPIPE, oldpipe);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return g_strdup_printf("waitpid: %s", g_strerror(errno));
	if (!WIFEXITED(status))
		return g_strdup_printf("%s was killed by signal %d", cmd,
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	if (WEXITSTATUS(status) != 0)
		return g_strdup_printf("%s exited with status %d", cmd,
		    WEXITSTATUS(status));
	if (!wrote)
		return g_strdup_printf("%s did not read the whole message",
		    cmd);
	return NULL;
}

/* ---- SMTP ---- */

struct smtp {
	int fd;
	GString *in;		/* unread input */
};

/* Read one reply (multi-line aware); its code, or -1 with *err set. */
static int
smtp_reply(struct smtp *s, char **err)
{
	for (;;) {
		char *nl;

		while ((nl = memchr(s->in->str, '\n', s->in->len)) != NULL) {
			size_t n = (size_t)(nl - s->in->str) + 1;
			char line[4];
			bool last;
			int code;

			if (n < 4) {
				*err = g_strdup("malformed SMTP reply");
				return -1;
			}
			memcpy(line, s->in->str, 3);
			line[3] = '\0';
			last = s->in->str[3] != '-';
			code = atoi(line);
			if (last && code >= 200 && code < 600) {
				char *text = g_strndup(s->in->str, n);

				g_strchomp(text);
				g_string_erase(s->in, 0, (gssize)n);
				if (code >= 400)
					*err = g_strdup_printf("server said: "
					    "%s", text);
				g_free(text);
				return code;
			}
			if (last) {
				*err = g_strdup("malformed SMTP reply");
				return -1;
			}
			g_string_erase(s->in, 0, (gssize)n);
		}
		if (s->in->len > 65536) {
			*err = g_strdup("SMTP reply too long");
			return -1;
		}
		{
			char buf[4096];
			ssize_t r = read(s->fd, buf, sizeof(buf));

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				*err = g_strdup_printf("SMTP connection: %s",
				    r == 0 ? "closed" : g_strerror(errno));
				return -1;
			}
			g_string_append_len(s->in, buf, r);
		}
	}
}

/* Send a command and expect a reply code in [lo, hi]. */
static bool
smtp_cmd(struct smtp *s, const char *cmd, int lo, int hi, char **err)
{
	int code;

	if (cmd != NULL && !write_all_fd(s->fd, cmd, strlen(cmd))) {
		*err = g_strdup_printf("SMTP write: %s", g_strerror(errno));
		return false;
	}
	code = smtp_reply(s, err);
	if (code < 0)
		return false;
	if (code < lo || code > hi) {
		if (*err == NULL)
			*err = g_strdup_printf("unexpected SMTP reply %d", code);
		return false;
	}
	return true;
}

static int
smtp_connect(const char *hostport, char **err)
{
	char *host, *port;
	const char *colon;
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, gai;
	struct timeval tv = { 60, 0 };

	colon = strrchr(hostport, ':');
	if (colon == NULL || colon == hostport || colon[1] == '\0') {
		*err = g_strdup_printf("quarantine.release_smtp \"%s\": want "
		    "host:port", hostport);
		return -1;
	}
	host = g_strndup(hostport, (gsize)(colon - hostport));
	port = g_strdup(colon + 1);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	gai = getaddrinfo(host, port, &hints, &res);
	if (gai != 0) {
		*err = g_strdup_printf("%s: %s", hostport, gai_strerror(gai));
		goto out;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		*err = g_strdup_printf("%s: connect: %s", hostport,
		    g_strerror(errno));
out:
	if (res)
		freeaddrinfo(res);
	g_free(host);
	g_free(port);
	return fd;
}

/*
 * Deliver by SMTP: every recipient must be accepted, or nothing is sent
 * (RSET), so a release is never half done.
 */
static char *
deliver_smtp(const char *hostport, const char *helo, const char *sender,
    const char *const *rcpts, const GString *msg)
{
	struct smtp s = { -1, g_string_new(NULL) };
	char *err = NULL, *cmd;
	GString *data;
	const char *p, *end;
	void (*oldpipe)(int) = signal(SIGPIPE, SIG_IGN);

	s.fd = smtp_connect(hostport, &err);
	if (s.fd < 0)
		goto out;
	if (!smtp_cmd(&s, NULL, 220, 220, &err))
		goto out;
	cmd = g_strdup_printf("EHLO %s\r\n", helo);
	if (!smtp_cmd(&s, cmd, 250, 250, &err)) {
		g_free(cmd);
		g_free(err);
		err = NULL;
		cmd = g_strdup_printf("HELO %s\r\n", helo);
		if (!smtp_cmd(&s, cmd, 250, 250, &err)) {
			g_free(cmd);
			goto out;
		}
	}
	g_free(cmd);
	cmd = g_strdup_printf("MAIL FROM:<%s>\r\n", sender);
	if (!smtp_cmd(&s, cmd, 250, 259, &err)) {
		g_free(cmd);
		goto out;
	}
	g_free(cmd);
	for (size_t i = 0; rcpts[i]; i++) {
		cmd = g_strdup_printf("RCPT TO:<%s>\r\n", rcpts[i]);
		if (!smtp_cmd(&s, cmd, 250, 259, &err)) {
			char *e2 = NULL;

			g_free(cmd);
			smtp_cmd(&s, "RSET\r\n", 250, 250, &e2);
			g_free(e2);
			goto out;
		}
		g_free(cmd);
	}
	if (!smtp_cmd(&s, "DATA\r\n", 354, 354, &err))
		goto out;
	/* CRLF line ends and dot-stuffing (RFC 5321 4.5.2). */
	data = g_string_sized_new(msg->len + msg->len / 32 + 8);
	for (p = msg->str, end = msg->str + msg->len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *lend = nl ? nl : end;
		const char *next = nl ? nl + 1 : end;

		if (lend > p && lend[-1] == '\r')
			lend--;
		if (*p == '.')
			g_string_append_c(data, '.');
		g_string_append_len(data, p, lend - p);
		g_string_append(data, "\r\n");
		p = next;
	}
	g_string_append(data, ".\r\n");
	if (!write_all_fd(s.fd, data->str, data->len)) {
		err = g_strdup_printf("SMTP write: %s", g_strerror(errno));
		g_string_free(data, TRUE);
		goto out;
	}
	g_string_free(data, TRUE);
	if (!smtp_cmd(&s, NULL, 250, 250, &err))
		goto out;
	{
		char *e2 = NULL;

		smtp_cmd(&s, "QUIT\r\n", 221, 221, &e2);
		g_free(e2);
	}
out:
	if (s.fd >= 0)
		close(s.fd);
	g_string_free(s.in, TRUE);
	signal(SIGPIPE, oldpipe);
	return err;
}

static int
cmd_release(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	GPtrArray *to = g_ptr_array_new_with_free_func(g_free);
	bool force = false;
	struct qentry e = { 0 };
	struct emf_error err;
	char *msg = NULL, *sender = NULL, *who = NULL, *now = NULL;
	char *header = NULL, *fail = NULL, *rec = NULL;
	const char *smtp, *via;
	size_t len;
	GString *out = NULL;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 't': g_ptr_array_add(to, g_strdup(optarg)); break;
		case 'f': force = true; break;
		default:
			rc = EX_USAGEERR;
			goto out;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		rc = EX_USAGEERR;
		goto out;
	}
	if ((rc = load_entry(c, argv[optind], &e)) != EX_DONE)
		goto out;
	if (e.released != NULL && !force) {
		fprintf(stderr, "%s: %s: already released %s by %s; use "
		    "--force to send it again\n", c->prog, e.id,
		    jstr(e.released, "time") ? jstr(e.released, "time") : "?",
		    jstr(e.released, "by") ? jstr(e.released, "by") : "?");
		audit(c, "release", e.id, "refused: already released", NULL,
		    NULL, NULL);
		rc = EX_NOTFOUND;
		goto out;
	}
	if (to->len == 0) {
		JsonArray *a = jarr(jobj(e.root, "envelope"), "rcpts");

		for (guint i = 0; a && i < json_array_get_length(a); i++)
			if (jarr_str(a, i))
				g_ptr_array_add(to, g_strdup(jarr_str(a, i)));
	}
	if (to->len == 0) {
		fprintf(stderr, "%s: %s: the entry has no envelope recipients; "
		    "give them with --to\n", c->prog, e.id);
		rc = EX_NOTFOUND;
		goto out;
	}
	for (guint i = 0; i < to->len; i++)
		if (!addr_ok(g_ptr_array_index(to, i), false)) {
			char *s = safe_dup(g_ptr_array_index(to, i));

			fprintf(stderr, "%s: refusing recipient \"%s\"\n",
			    c->prog, s);
			g_free(s);
			rc = EX_NOTFOUND;
			goto out;
		}
	g_ptr_array_add(to, NULL);
	{
		const char *s = jstr(jobj(e.root, "envelope"), "from");

		sender = g_strdup(s ? s : "");
		if (s == NULL) {
			const char *rp = jstr(jobj(e.root, "headers"),
			    "return_path");

			if (rp != NULL) {
				g_free(sender);
				sender = addr_of(rp);
				if (sender == NULL)
					sender = g_strdup("");
			}
		}
	}
	if (!addr_ok(sender, true)) {
		char *s = safe_dup(sender);

		fprintf(stderr, "%s: %s: refusing envelope sender \"%s\"\n",
		    c->prog, e.id, s);
		g_free(s);
		rc = EX_NOTFOUND;
		goto out;
	}
	if ((rc = load_message(c, &e, &msg, &len)) != EX_DONE)
		goto out;
	who = whoami();
	now = iso_time((gint64)time(NULL));
	header = g_strdup_printf("X-Emofilter-Released: %s by %s; id=%s", now,
	    who, e.id);
	/* The header must stay one clean line whatever the user name. */
	for (char *p = header; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	out = released_message(msg, len, header);
	smtp = emf_cfg_str(c->cfg, "quarantine.release_smtp");
	if (smtp != NULL && *smtp != '\0') {
		via = smtp;
		fail = deliver_smtp(smtp, emf_cfg_str(c->cfg, "quarantine.helo"),
		    sender, (const char *const *)to->pdata, out);
	} else {
		via = emf_cfg_str(c->cfg, "quarantine.sendmail");
		fail = deliver_sendmail(via, sender,
		    (const char *const *)to->pdata, out);
	}
	if (fail != NULL) {
		char *r = g_strdup_printf("failed: %s", fail);

		fprintf(stderr, "%s: %s: release failed: %s\n", c->prog, e.id,
		    fail);
		audit(c, "release", e.id, r, (const char *const *)to->pdata,
		    "via", via);
		g_free(r);
		rc = EX_DELIVERY;
		goto out;
	}
	{
		JsonBuilder *b = json_builder_new();

		json_builder_begin_object(b);
		json_builder_set_member_name(b, "time");
		json_builder_add_string_value(b, now);
		json_builder_set_member_name(b, "by");
		json_builder_add_string_value(b, who);
		json_builder_set_member_name(b, "to");
		json_builder_begin_array(b);
		for (guint i = 0; i + 1 < to->len; i++)
			json_builder_add_string_value(b,
			    g_ptr_array_index(to, i));
		json_builder_end_array(b);
		json_builder_set_member_name(b, "via");
		json_builder_add_string_value(b, via);
		json_builder_set_member_name(b, "forced");
		json_builder_add_boolean_value(b, e.released != NULL);
		json_builder_end_object(b);
		rec = qjson_finish(b, false);
	}
	audit(c, "release", e.id, e.released ? "ok (forced)" : "ok",
	    (const char *const *)to->pdata, "via", via);
	if (emf_quarantine_put(c->store, e.id, "released", rec, strlen(rec),
	    &err) != EMF_OK) {
		/* Sent, but not recorded: say so loudly. */
		fprintf(stderr, "%s: %s: released, but the release record "
		    "could not be written: %s\n", c->prog, e.id, err.msg);
		rc = EX_STORE;
		goto out;
	}
	printf("%s released to %u recipient%s\n", e.id, to->len - 1,
	    to->len == 2 ? "" : "s");
	rc = EX_DONE;
out:
	g_ptr_array_free(to, TRUE);
	qentry_clear(&e);
	g_free(msg);
	g_free(sender);
	g_free(who);
	g_free(now);
	g_free(header);
	g_free(fail);
	g_free(rec);
	if (out)
		g_string_free(out, TRUE);
	return rc;
}

/* ---- delete, purge ----------------------------------------------------- */

static int
remove_entry(struct ctx *c, const char *id, const char *action)
{
	struct emf_error err;
	enum emf_rc rc;
	char *s;

	if (!emf_quarantine_id_valid(id)) {
		s = safe_dup(id);
		fprintf(stderr, "%s: \"%s\" is not an entry ID\n", c->prog, s);
		g_free(s);
		return EX_NOTFOUND;
	}
	rc = emf_quarantine_remove(c->store, id, &err);
	if (rc == EMF_ERR_FORMAT) {
		fprintf(stderr, "%s: %s: no such entry in %s\n", c->prog, id,
		    c->store);
		return EX_NOTFOUND;
	}
	if (rc != EMF_OK) {
		fprintf(stderr, "%s: %s: %s\n", c->prog, id, err.msg);
		audit(c, action, id, err.msg, NULL, NULL, NULL);
		return EX_STORE;
	}
	audit(c, action, id, "ok", NULL, NULL, NULL);
	return EX_DONE;
}

static int
cmd_delete(struct ctx *c, int argc, char **argv)
{
	int worst = EX_DONE;

	if (argc < 2) {
		usage(stderr);
		return EX_USAGEERR;
	}
	for (int i = 1; i < argc; i++) {
		int rc = remove_entry(c, argv[i], "delete");

		if (rc == EX_DONE)
			printf("%s deleted\n", argv[i]);
		if (rc > worst)
			worst = rc;
	}
	return worst;
}

static int
cmd_purge(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	gint64 age = -1, cutoff;
	const char *agestr = NULL;
	bool dry = false;
	struct emf_error err;
	char **ids;
	size_t n;
	unsigned purged = 0, tmp = 0;
	int opt, worst = EX_DONE;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'o') {
			agestr = optarg;
			if ((age = parse_age(optarg)) < 0) {
				fprintf(stderr, "%s: bad age \"%s\" (want 30d, "
				    "12h, 2w)\n", c->prog, optarg);
				return EX_USAGEERR;
			}
		} else if (opt == 'n') {
			dry = true;
		} else {
			return EX_USAGEERR;
		}
	}
	if (age < 0 || optind != argc) {
		fprintf(stderr, "%s: purge needs --older-than AGE\n", c->prog);
		return EX_USAGEERR;
	}
	cutoff = (gint64)time(NULL) - age;
	if (emf_quarantine_list(c->store, &ids, &n, &err) != EMF_OK) {
		fprintf(stderr, "%s: %s\n", c->prog, err.msg);
		return EX_STORE;
	}
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (id_time(ids[i]) >= cutoff)
			continue;
		if (dry) {
			printf("would purge %s\n", ids[i]);
			purged++;
			continue;
		}
		rc = remove_entry(c, ids[i], "purge");
		if (rc == EX_DONE)
			purged++;
		else if (rc == EX_STORE)
			worst = rc;
	}
	emf_quarantine_ids_free(ids);
	/* Temporary files of writers that died (a day is far beyond any
	 * write). */
	if (!dry)
		emf_quarantine_clean_tmp(c->store, 86400, &tmp, &err);
	printf("%s %u entr%s older than %s%s\n", dry ? "would purge" :
	    "purged", purged, purged == 1 ? "y" : "ies", agestr,
	    tmp ? " (and stale temporary files)" : "");
	return worst;
}

/* ---- export ------------------------------------------------------------ */

/* The report object with this SHA-256 (depth-first), or NULL. */
static const char *
object_path_by_sha(JsonArray *objs, const char *sha, int depth)
{
	for (guint i = 0; objs && depth < 64 &&
	    i < json_array_get_length(objs); i++) {
		JsonObject *o = jarr_obj(objs, i);
		const char *p;

		if (jstr(o, "sha256") && strcmp(jstr(o, "sha256"), sha) == 0)
			return jstr(o, "path");
		if ((p = object_path_by_sha(jarr(o, "children"), sha,
		    depth + 1)) != NULL)
			return p;
	}
	return NULL;
}

static int
cmd_export(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	const char *outpath = NULL;
	struct qentry e;
	char *msg, *fail, *msha;
	size_t len;
	GPtrArray *parts;
	GString *man;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		if (opt == 'o')
			outpath = optarg;
		else
			return EX_USAGEERR;
	}
	if (outpath == NULL || optind + 1 != argc) {
		fprintf(stderr, "%s: export needs ID and -o FILE\n", c->prog);
		return EX_USAGEERR;
	}
	if ((rc = load_entry(c, argv[optind], &e)) != EX_DONE)
		return rc;
	if (load_message(c, &e, &msg, &len) != EX_DONE) {
		qentry_clear(&e);
		return EX_STORE;
	}
	parts = qexport_parts(msg, len);
	msha = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
	    (const guchar *)msg, len);
	man = g_string_new(NULL);
	g_string_append_printf(man, "emofilter quarantine export of %s\n"
	    "Samples: handle with care. Zip password: %s\n\n"
	    "sha256  size  member  (original name; report object)\n"
	    "%s  %zu  %s.eml\n", e.id, QEXPORT_PASSWORD, msha, len, e.id);
	for (guint i = 0; i < parts->len; i++) {
		struct qexport_part *q = g_ptr_array_index(parts, i);
		const char *path = object_path_by_sha(jarr(e.root, "objects"),
		    q->sha256, 0);

		g_string_append_printf(man, "%s  %zu  %s  (", q->sha256,
		    g_bytes_get_size(q->data), q->name);
		safe_append(man, q->orig_name ? q->orig_name : "no name");
		g_string_append_printf(man, "; %s)\n",
		    path ? path : "not in the report");
	}
	fail = qexport_write(outpath, e.id, msg, len, parts, man->str);
	if (fail != NULL) {
		fprintf(stderr, "%s: %s: export: %s\n", c->prog, e.id, fail);
		audit(c, "export", e.id, fail, NULL, "file", outpath);
		rc = EX_STORE;
	} else {
		audit(c, "export", e.id, "ok", NULL, "file", outpath);
		printf("%s exported to %s: the message and %u attachment%s "
		    "(AES-256, password \"%s\")\n", e.id, outpath, parts->len,
		    parts->len == 1 ? "" : "s", QEXPORT_PASSWORD);
		rc = EX_DONE;
	}
	g_free(fail);
	g_free(msha);
	g_string_free(man, TRUE);
	qexport_parts_free(parts);
	g_free(msg);
	qentry_clear(&e);
	return rc;
}

/* ---- ioc --------------------------------------------------------------- */

/*
 * One indicator, with MISP attribute type and category names so that the
 * CSV and JSON paste into MISP (freetext/CSV import, or an event's
 * "Attribute" list); url rows are what a URLhaus submission needs.
 */
struct ioc {
	char *entry, *type, *category, *value, *comment;
	bool to_ids;
};

struct iocset {
	GPtrArray *list;	/* struct ioc * */
	GHashTable *seen;	/* "entry\ttype\tvalue" */
};

static void
ioc_free(gpointer p)
{
	struct ioc *i = p;

	g_free(i->entry);
	g_free(i->type);
	g_free(i->category);
	g_free(i->value);
	g_free(i->comment);
	g_free(i);
}

static void
ioc_add(struct iocset *set, const char *entry, const char *type,
    const char *category, const char *value, bool to_ids,
    const char *comment)
{
	struct ioc *i;
	char *key;

	if (value == NULL || *value == '\0')
		return;
	key = g_strdup_printf("%s\t%s\t%s", entry, type, value);
	if (g_hash_table_contains(set->seen, key)) {
		g_free(key);
		return;
	}
	g_hash_table_add(set->seen, key);
	i = g_new0(struct ioc, 1);
	i->entry = g_strdup(entry);
	i->type = g_strdup(type);
	i->category = g_strdup(category);
	i->value = g_utf8_make_valid(value, -1);
	i->comment = g_strdup(comment ? comment : "");
	i->to_ids = to_ids;
	g_ptr_array_add(set->list, i);
}

/* A URL-ish indicator: "url" when it has a scheme, else "text". */
static void
ioc_url(struct iocset *set, const char *entry, const char *value,
    const char *comment)
{
	if (value == NULL)
		return;
	if (strstr(value, "://") != NULL)
		ioc_add(set, entry, "url", "Network activity", value, true,
		    comment);
	else
		ioc_add(set, entry, "text", "Other", value, false, comment);
}

static void
ioc_strings(struct iocset *set, const char *entry, JsonArray *a,
    const char *comment)
{
	for (guint i = 0; a && i < json_array_get_length(a); i++)
		ioc_url(set, entry, jarr_str(a, i), comment);
}

static void
ioc_object(struct iocset *set, const char *entry, JsonObject *o, int depth)
{
	const char *path = jstr(o, "path") ? jstr(o, "path") : "?";
	const char *name = jstr(o, "name"), *type = jstr(o, "type");
	JsonArray *a;
	char *where;

	if (o == NULL || depth > 64)
		return;
	/* Attachments and members: named, or inside a container. Unnamed
	 * top-level text is the mail body, not a file. */
	if (name != NULL || depth > 0 ||
	    (type != NULL && strcmp(type, "text") != 0 &&
	    strcmp(type, "html") != 0)) {
		char *c = g_strdup_printf("%s %s%s%s", depth ? "member" :
		    "attachment", path, name ? " " : "", name ? name : "");

		ioc_add(set, entry, "sha256", "Payload delivery",
		    jstr(o, "sha256"), true, c);
		if (name != NULL)
			ioc_add(set, entry, "filename", "Payload delivery",
			    name, false, c);
		g_free(c);
	}
	if (jstr(o, "password")) {
		where = g_strdup_printf("archive password opening %s (found in "
		    "%s)", path, jstr(o, "password_source") ?
		    jstr(o, "password_source") : "?");
		ioc_add(set, entry, "text", "Other", jstr(o, "password"), false,
		    where);
		g_free(where);
	}
	a = jarr(o, "macros");
	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonObject *m = jarr_obj(a, i);

		where = g_strdup_printf("URL in macro %s of %s",
		    jstr(m, "module") ? jstr(m, "module") : "?", path);
		ioc_strings(set, entry, jarr(m, "urls"), where);
		g_free(where);
	}
	where = g_strdup_printf("external link in %s", path);
	ioc_strings(set, entry, jarr(o, "external_links"), where);
	g_free(where);
	where = g_strdup_printf("URL in %s", path);
	ioc_strings(set, entry, jarr(o, "urls"), where);
	g_free(where);
	a = jarr(o, "children");
	for (guint i = 0; a && i < json_array_get_length(a); i++)
		ioc_object(set, entry, jarr_obj(a, i), depth + 1);
}

static void
ioc_entry(struct iocset *set, struct qentry *e)
{
	JsonObject *env = jobj(e->root, "envelope");
	JsonObject *hdr = jobj(e->root, "headers");
	JsonArray *a;
	char *addr, *dom, *edom;
	const char *id = e->id;

	/* Header sender, then the envelope. */
	addr = addr_of(jstr(hdr, "from"));
	dom = domain_of(addr);
	ioc_add(set, id, "email-src", "Payload delivery", addr, false,
	    "header From address");
	ioc_add(set, id, "domain", "Payload delivery", dom, false,
	    "header From domain");
	if (jstr(hdr, "from") != NULL && strchr(jstr(hdr, "from"), '<')) {
		char *name = g_strndup(jstr(hdr, "from"),
		    (gsize)(strrchr(jstr(hdr, "from"), '<') -
		    jstr(hdr, "from")));

		g_strstrip(name);
		if (name[0] == '"' && strlen(name) > 1 &&
		    name[strlen(name) - 1] == '"') {
			name[strlen(name) - 1] = '\0';
			memmove(name, name + 1, strlen(name));
		}
		ioc_add(set, id, "email-src-display-name", "Payload delivery",
		    name, false, "header From display name");
		g_free(name);
	}
	ioc_add(set, id, "email-src", "Payload delivery", jstr(env, "from"),
	    false, "envelope sender (MAIL FROM)");
	edom = domain_of(jstr(env, "from"));
	ioc_add(set, id, "domain", "Payload delivery", edom, false,
	    "envelope sender domain");
	ioc_add(set, id, "ip-src", "Network activity", jstr(env, "client_ip"),
	    false, "SMTP client address");
	ioc_add(set, id, "hostname", "Network activity", jstr(env, "helo"),
	    false, "SMTP HELO/EHLO name");
	ioc_add(set, id, "hostname", "Network activity",
	    jstr(env, "client_name"), false, "SMTP client reverse DNS name");
	ioc_add(set, id, "email-subject", "Payload delivery",
	    jstr(hdr, "subject"), false, "Subject");
	ioc_add(set, id, "email-message-id", "Payload delivery",
	    jstr(hdr, "message_id"), false, "Message-ID");
	ioc_add(set, id, "email-reply-to", "Payload delivery",
	    jstr(hdr, "reply_to"), false, "Reply-To");
	g_free(addr);
	g_free(dom);
	g_free(edom);
	a = jarr(e->root, "objects");
	for (guint i = 0; a && i < json_array_get_length(a); i++)
		ioc_object(set, id, jarr_obj(a, i), 0);
	/* Passwords that opened something (also named per object above). */
	a = jarr(e->root, "passwords");
	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonObject *p = jarr_obj(a, i);
		char *where;

		if (!jbool(p, "used"))
			continue;
		where = g_strdup_printf("archive password (found in %s)",
		    jstr(p, "source") ? jstr(p, "source") : "?");
		ioc_add(set, id, "text", "Other", jstr(p, "password"), false,
		    where);
		g_free(where);
	}
}

static void
csv_field(GString *s, const char *v)
{
	g_string_append_c(s, '"');
	for (const char *p = v; *p; p++) {
		if (*p == '"')
			g_string_append_c(s, '"');
		g_string_append_c(s, *p);
	}
	g_string_append_c(s, '"');
}

static int
cmd_ioc(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		QFILTER_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'c' },
		{ "urlhaus", no_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	enum { FMT_JSON, FMT_CSV, FMT_URLHAUS } fmt = FMT_JSON;
	struct iocset set;
	struct qfilter f;
	bool filtered = false;
	GPtrArray *entries;
	int opt, rc = EX_DONE;

	qfilter_init(&f);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'j')
			fmt = FMT_JSON;
		else if (opt == 'c')
			fmt = FMT_CSV;
		else if (opt == 'u')
			fmt = FMT_URLHAUS;
		else if (filter_option(c, &f, opt, optarg))
			filtered = true;
		else
			return EX_USAGEERR;
	}
	if ((optind == argc) == !filtered) {
		fprintf(stderr, "%s: ioc needs entry IDs or filters (--since "
		    "...), not both\n", c->prog);
		return EX_USAGEERR;
	}
	if (filtered) {
		if ((entries = select_entries(c, &f)) == NULL)
			return EX_STORE;
		if (c->unreadable)
			rc = EX_STORE;
	} else {
		entries = g_ptr_array_new_with_free_func(qentry_free);
		for (int i = optind; i < argc; i++) {
			struct qentry *e = g_new0(struct qentry, 1);
			int r = load_entry(c, argv[i], e);

			if (r != EX_DONE) {
				g_free(e);
				g_ptr_array_free(entries, TRUE);
				return r;
			}
			g_ptr_array_add(entries, e);
		}
	}
	set.list = g_ptr_array_new_with_free_func(ioc_free);
	set.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	for (guint i = 0; i < entries->len; i++)
		ioc_entry(&set, g_ptr_array_index(entries, i));
	if (fmt == FMT_CSV) {
		GString *s = g_string_new("entry_id,type,category,value,to_ids,"
		    "comment\r\n");

		for (guint i = 0; i < set.list->len; i++) {
			struct ioc *x = g_ptr_array_index(set.list, i);

			csv_field(s, x->entry);
			g_string_append_c(s, ',');
			csv_field(s, x->type);
			g_string_append_c(s, ',');
			csv_field(s, x->category);
			g_string_append_c(s, ',');
			csv_field(s, x->value);
			g_string_append(s, x->to_ids ? ",1," : ",0,");
			csv_field(s, x->comment);
			g_string_append(s, "\r\n");
		}
		fwrite(s->str, 1, s->len, stdout);
		g_string_free(s, TRUE);
	} else {
		JsonBuilder *b = json_builder_new();
		char *text;

		json_builder_begin_object(b);
		json_builder_set_member_name(b, fmt == FMT_URLHAUS ?
		    "submission" : "Attribute");
		json_builder_begin_array(b);
		for (guint i = 0; i < set.list->len; i++) {
			struct ioc *x = g_ptr_array_index(set.list, i);

			if (fmt == FMT_URLHAUS) {
				if (strcmp(x->type, "url") != 0)
					continue;
				json_builder_begin_object(b);
				json_builder_set_member_name(b, "url");
				json_builder_add_string_value(b, x->value);
				json_builder_set_member_name(b, "threat");
				json_builder_add_string_value(b,
				    "malware_download");
				json_builder_set_member_name(b, "tags");
				json_builder_begin_array(b);
				json_builder_add_string_value(b, "emofilter");
				json_builder_end_array(b);
				json_builder_end_object(b);
				continue;
			}
			json_builder_begin_object(b);
			json_builder_set_member_name(b, "type");
			json_builder_add_string_value(b, x->type);
			json_builder_set_member_name(b, "category");
			json_builder_add_string_value(b, x->category);
			json_builder_set_member_name(b, "value");
			json_builder_add_string_value(b, x->value);
			json_builder_set_member_name(b, "to_ids");
			json_builder_add_boolean_value(b, x->to_ids);
			json_builder_set_member_name(b, "comment");
			json_builder_add_string_value(b, x->comment);
			json_builder_set_member_name(b, "entry_id");
			json_builder_add_string_value(b, x->entry);
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
		json_builder_end_object(b);
		text = qjson_finish(b, true);
		printf("%s\n", text);
		g_free(text);
	}
	for (guint i = 0; i < entries->len; i++)
		audit(c, "ioc", ((struct qentry *)
		    g_ptr_array_index(entries, i))->id, "ok", NULL, "format",
		    fmt == FMT_CSV ? "csv" : fmt == FMT_URLHAUS ? "urlhaus" :
		    "json");
	g_ptr_array_free(set.list, TRUE);
	g_hash_table_destroy(set.seen);
	g_ptr_array_free(entries, TRUE);
	return rc;
}

/* ---- main -------------------------------------------------------------- */

static const char *
default_conf(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/emofilter.conf", EMF_SYSCONFDIR);
	return access(path, R_OK) == 0 ? path : NULL;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct ctx *, int, char **);
	} cmds[] = {
		{ "list", cmd_list }, { "show", cmd_show },
		{ "release", cmd_release }, { "delete", cmd_delete },
		{ "purge", cmd_purge }, { "export", cmd_export },
		{ "ioc", cmd_ioc },
	};
	struct ctx c = { "emofilter-quarantine", NULL, NULL, false };
	const char *conf = NULL, *store = NULL;
	struct emf_error err;
	int opt, rc = -1;

	while ((opt = getopt(argc, argv, "+c:d:h")) != -1) {
		switch (opt) {
		case 'c': conf = optarg; break;
		case 'd': store = optarg; break;
		case 'h': usage(stdout); return EX_DONE;
		default: usage(stderr); return EX_USAGEERR;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGEERR;
	}
	if (emf_library_init() != EMF_OK) {
		fprintf(stderr, "%s: library initialisation failed\n", c.prog);
		return EX_STORE;
	}
	if (emf_cfg_load(conf ? conf : default_conf(), &c.cfg, &err) !=
	    EMF_OK) {
		fprintf(stderr, "%s: %s\n", c.prog, err.msg);
		emf_library_shutdown();
		return EX_USAGEERR;
	}
	c.store = store ? store : emf_cfg_str(c.cfg, "quarantine.dir");
	for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++)
		if (strcmp(argv[optind], cmds[i].name) == 0) {
			if (emf_quarantine_check(c.store, &err) != EMF_OK) {
				fprintf(stderr, "%s: %s\n", c.prog, err.msg);
				rc = EX_STORE;
			} else {
				rc = cmds[i].fn(&c, argc - optind,
				    argv + optind);
			}
			break;
		}
	if (rc < 0) {
		char *s = safe_dup(argv[optind]);

		fprintf(stderr, "%s: unknown command \"%s\"\n", c.prog, s);
		g_free(s);
		usage(stderr);
		rc = EX_USAGEERR;
	}
	emf_cfg_free(c.cfg);
	emf_library_shutdown();
	return rc;
}
