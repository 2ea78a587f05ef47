/*
 * qrelease.c - the released message and its delivery, for
 * emofilter-quarantine release (see qrelease.h).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "core/fdio.h"
#include "qjson.h"
#include "qrelease.h"
#include "qstore.h"

#define RELEASED_HEADER "X-Emofilter-Released:"
/* A server that sends more than this without finishing a reply is not
 * one we want to talk to. */
#define MAX_SMTP_REPLY 65536
/* Socket timeout for each read and write of an SMTP delivery, seconds. */
#define SMTP_TIMEOUT 60

/* ---- what is sent ------------------------------------------------------ */

bool
qrelease_addr_ok(const char *a, bool null_ok)
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

void
qrelease_default_rcpts(const struct qentry *e, GPtrArray *to)
{
	JsonArray *a = jarr(jobj(e->root, "envelope"), "rcpts");

	for (guint i = 0; a && i < json_array_get_length(a); i++)
		if (jarr_str(a, i))
			g_ptr_array_add(to, g_strdup(jarr_str(a, i)));
}

char *
qrelease_sender(const struct qentry *e)
{
	const char *s = jstr(jobj(e->root, "envelope"), "from");
	const char *rp = jstr(jobj(e->root, "headers"), "return_path");
	char *addr;

	if (s != NULL)
		return g_strdup(s);
	if (rp != NULL && (addr = addr_of(rp)) != NULL)
		return addr;
	return g_strdup("");
}

char *
qrelease_header(const char *now, const char *who, const char *id)
{
	char *header = g_strdup_printf(RELEASED_HEADER " %s by %s; id=%s",
	    now, who, id);

	for (char *p = header; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	return header;
}

/* Whether the line at p (before end) is empty: the end of the header. */
static bool
is_blank_line(const char *p, const char *end)
{
	return *p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n');
}

/* Whether the line [p, next) starts an X-Emofilter-* header. */
static bool
is_our_header(const char *p, const char *next)
{
	static const char prefix[] = "X-Emofilter-";
	size_t n = sizeof(prefix) - 1;

	return (size_t)(next - p) >= n &&
	    g_ascii_strncasecmp(p, prefix, n) == 0;
}

GString *
qrelease_message(const char *msg, size_t len, const char *header)
{
	GString *out = g_string_sized_new(len + 256);
	const char *p = msg, *end = msg + len;
	const char *nl = memchr(msg, '\n', len);
	bool crlf = nl != NULL && nl > msg && nl[-1] == '\r';
	bool in_headers = true, skipping = false;

	g_string_append(out, header);
	g_string_append(out, crlf ? "\r\n" : "\n");
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;

		if (in_headers && is_blank_line(p, end)) {
			in_headers = false;
		} else if (in_headers) {
			/* A continuation line goes with its header. */
			if (*p != ' ' && *p != '\t')
				skipping = is_our_header(p, next);
			if (skipping) {
				p = next;
				continue;
			}
		}
		g_string_append_len(out, p, next - p);
		p = next;
	}
	return out;
}

char *
qrelease_record(const char *now, const char *who, const char *const *rcpts,
    const char *via, bool forced)
{
	JsonBuilder *b = json_builder_new();

	json_builder_begin_object(b);
	qjson_add_string_member(b, "time", now);
	qjson_add_string_member(b, "by", who);
	qjson_add_strv_member(b, "to", rcpts);
	qjson_add_string_member(b, "via", via);
	json_builder_set_member_name(b, "forced");
	json_builder_add_boolean_value(b, forced);
	json_builder_end_object(b);
	return qjson_finish(b, false);
}

/* ---- sendmail ---------------------------------------------------------- */

/* cmd -G -i -f SENDER -- RCPT... ("<>" for the null sender). */
static GPtrArray *
sendmail_argv(const char *cmd, const char *sender, const char *const *rcpts)
{
	GPtrArray *argv = g_ptr_array_new();

	g_ptr_array_add(argv, (char *)cmd);
	g_ptr_array_add(argv, "-G");
	g_ptr_array_add(argv, "-i");
	g_ptr_array_add(argv, "-f");
	g_ptr_array_add(argv, (char *)(*sender ? sender : "<>"));
	g_ptr_array_add(argv, "--");
	for (size_t i = 0; rcpts[i]; i++)
		g_ptr_array_add(argv, (char *)rcpts[i]);
	g_ptr_array_add(argv, NULL);
	return argv;
}

/*
 * Start cmd with argv and a pipe on its standard input: *pid and *fd (the
 * writing end) on success, else NULL and why not.
 */
static char *
spawn_with_stdin(const char *cmd, GPtrArray *argv, pid_t *pid, int *fd)
{
	int pfd[2];

	if (pipe(pfd) != 0)
		return g_strdup_printf("pipe: %s", g_strerror(errno));
	*pid = fork();
	if (*pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return g_strdup_printf("fork: %s", g_strerror(errno));
	}
	if (*pid == 0) {
		dup2(pfd[0], 0);
		close(pfd[0]);
		close(pfd[1]);
		execv(cmd, (char **)argv->pdata);
		fprintf(stderr, "exec %s: %s\n", cmd, g_strerror(errno));
		_exit(127);
	}
	close(pfd[0]);
	*fd = pfd[1];
	return NULL;
}

/* Wait for sendmail; why it failed, or NULL if it took the whole message
 * (wrote) and exited 0. */
static char *
sendmail_outcome(const char *cmd, pid_t pid, bool wrote)
{
	int status;

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

/* The message on sendmail's standard input. */
static char *
deliver_sendmail(const char *cmd, const char *sender,
    const char *const *rcpts, const GString *msg)
{
	GPtrArray *argv = sendmail_argv(cmd, sender, rcpts);
	pid_t pid = -1;
	int fd = -1;
	bool wrote;
	void (*oldpipe)(int);
	char *fail = spawn_with_stdin(cmd, argv, &pid, &fd);

	g_ptr_array_free(argv, TRUE);
	if (fail != NULL)
		return fail;
	/* A sendmail that exits early must not kill us: its status says
	 * what went wrong. */
	oldpipe = signal(SIGPIPE, SIG_IGN);
	wrote = emf_write_all(fd, msg->str, msg->len);
	close(fd);
	signal(SIGPIPE, oldpipe);
	return sendmail_outcome(cmd, pid, wrote);
}

/* ---- SMTP -------------------------------------------------------------- */

struct smtp {
	int fd;
	GString *in;		/* unread input */
};

/*
 * Take the first line (n bytes, '\n' included) from s->in: the reply code
 * if it ends a reply, 0 if a continuation ("250-...") follows, -1 with
 * *err set if it is malformed. A code of 400 and above sets *err to the
 * server's text.
 */
static int
smtp_take_line(struct smtp *s, size_t n, char **err)
{
	char digits[4];
	bool last;
	int code;

	if (n < 4) {
		*err = g_strdup("malformed SMTP reply");
		return -1;
	}
	memcpy(digits, s->in->str, 3);
	digits[3] = '\0';
	last = s->in->str[3] != '-';
	code = atoi(digits);
	if (last && (code < 200 || code >= 600)) {
		*err = g_strdup("malformed SMTP reply");
		return -1;
	}
	if (last && code >= 400) {
		char *text = g_strndup(s->in->str, n);

		g_strchomp(text);
		*err = g_strdup_printf("server said: %s", text);
		g_free(text);
	}
	g_string_erase(s->in, 0, (gssize)n);
	return last ? code : 0;
}

/* Read more input; false with *err set at end of file or on an error. */
static bool
smtp_fill(struct smtp *s, char **err)
{
	char buf[4096];
	ssize_t r;

	do
		r = read(s->fd, buf, sizeof(buf));
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		*err = g_strdup_printf("SMTP connection: %s",
		    r == 0 ? "closed" : g_strerror(errno));
		return false;
	}
	g_string_append_len(s->in, buf, r);
	return true;
}

/* Read one reply (multi-line aware); its code, or -1 with *err set. */
static int
smtp_reply(struct smtp *s, char **err)
{
	for (;;) {
		char *nl;

		while ((nl = memchr(s->in->str, '\n', s->in->len)) != NULL) {
			int code = smtp_take_line(s,
			    (size_t)(nl - s->in->str) + 1, err);

			if (code != 0)
				return code;
		}
		if (s->in->len > MAX_SMTP_REPLY) {
			*err = g_strdup("SMTP reply too long");
			return -1;
		}
		if (!smtp_fill(s, err))
			return -1;
	}
}

/* Send cmd (NULL: nothing, just read) and expect a reply code in [lo, hi]. */
static bool
smtp_cmd(struct smtp *s, const char *cmd, int lo, int hi, char **err)
{
	int code;

	if (cmd != NULL && !emf_write_all(s->fd, cmd, strlen(cmd))) {
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

static bool smtp_cmdf(struct smtp *s, int lo, int hi, char **err,
    const char *fmt, ...) G_GNUC_PRINTF(5, 6);

/* smtp_cmd() with the command formatted from fmt. */
static bool
smtp_cmdf(struct smtp *s, int lo, int hi, char **err, const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	bool ok;

	va_start(ap, fmt);
	cmd = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	ok = smtp_cmd(s, cmd, lo, hi, err);
	g_free(cmd);
	return ok;
}

/* Split "host:port" or "[v6addr]:port"; false with *err set if neither. */
static bool
split_hostport(const char *hostport, char **host, char **port, char **err)
{
	const char *colon = strrchr(hostport, ':');
	size_t n;

	if (colon == NULL || colon == hostport || colon[1] == '\0') {
		*err = g_strdup_printf("quarantine.release_smtp \"%s\": want "
		    "host:port", hostport);
		return false;
	}
	*host = g_strndup(hostport, (gsize)(colon - hostport));
	*port = g_strdup(colon + 1);
	n = strlen(*host);
	if ((*host)[0] == '[' && (*host)[n - 1] == ']') {
		memmove(*host, *host + 1, n);
		(*host)[n - 2] = '\0';
	}
	return true;
}

/* A connected socket (with read and write timeouts), or -1 with *err set. */
static int
smtp_connect(const char *hostport, char **err)
{
	char *host, *port;
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, gai;
	struct timeval tv = { SMTP_TIMEOUT, 0 };

	if (!split_hostport(hostport, &host, &port, err))
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	gai = getaddrinfo(host, port, &hints, &res);
	g_free(host);
	g_free(port);
	if (gai != 0) {
		*err = g_strdup_printf("%s: %s", hostport, gai_strerror(gai));
		return -1;
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
	freeaddrinfo(res);
	return fd;
}

/* EHLO, or HELO for a server that does not know EHLO. */
static bool
smtp_hello(struct smtp *s, const char *helo, char **err)
{
	if (smtp_cmdf(s, 250, 250, err, "EHLO %s\r\n", helo))
		return true;
	g_free(*err);
	*err = NULL;
	return smtp_cmdf(s, 250, 250, err, "HELO %s\r\n", helo);
}

/* MAIL and every RCPT; if one recipient is refused, RSET: nothing is sent. */
static bool
smtp_envelope(struct smtp *s, const char *sender, const char *const *rcpts,
    char **err)
{
	if (!smtp_cmdf(s, 250, 259, err, "MAIL FROM:<%s>\r\n", sender))
		return false;
	for (size_t i = 0; rcpts[i]; i++) {
		char *ignored = NULL;

		if (smtp_cmdf(s, 250, 259, err, "RCPT TO:<%s>\r\n", rcpts[i]))
			continue;
		smtp_cmd(s, "RSET\r\n", 250, 250, &ignored);
		g_free(ignored);
		return false;
	}
	return true;
}

/*
 * msg with CRLF line ends and dot-stuffing, ending in "." (RFC 5321
 * 4.5.2). Every line end (CRLF, a bare LF or a bare CR) becomes CRLF
 * before the stuffing: a bare CR passed on would let a stored
 * "x<CR>.<CR><LF>" end the DATA early at a server that takes a bare CR as
 * a line end (SMTP smuggling), and a line that starts after one would
 * escape the dot-stuffing.
 */
static GString *
smtp_data_text(const GString *msg)
{
	GString *data = g_string_sized_new(msg->len + msg->len / 32 + 8);
	const char *p = msg->str, *end = msg->str + msg->len;

	while (p < end) {
		const char *lend = p, *next;

		while (lend < end && *lend != '\r' && *lend != '\n')
			lend++;
		next = lend;
		if (next < end && *next == '\r')
			next++;
		if (next < end && *next == '\n')
			next++;
		if (*p == '.')
			g_string_append_c(data, '.');
		g_string_append_len(data, p, lend - p);
		g_string_append(data, "\r\n");
		p = next;
	}
	g_string_append(data, ".\r\n");
	return data;
}

static bool
smtp_data(struct smtp *s, const GString *msg, char **err)
{
	GString *data;
	bool wrote;

	if (!smtp_cmd(s, "DATA\r\n", 354, 354, err))
		return false;
	data = smtp_data_text(msg);
	wrote = emf_write_all(s->fd, data->str, data->len);
	if (!wrote)
		*err = g_strdup_printf("SMTP write: %s", g_strerror(errno));
	g_string_free(data, TRUE);
	return wrote && smtp_cmd(s, NULL, 250, 250, err);
}

/* The message is accepted by now: a failing QUIT changes nothing. */
static void
smtp_quit(struct smtp *s)
{
	char *ignored = NULL;

	smtp_cmd(s, "QUIT\r\n", 221, 221, &ignored);
	g_free(ignored);
}

static char *
deliver_smtp(const char *hostport, const char *helo, const char *sender,
    const char *const *rcpts, const GString *msg)
{
	struct smtp s = { -1, g_string_new(NULL) };
	char *err = NULL;
	void (*oldpipe)(int) = signal(SIGPIPE, SIG_IGN);

	s.fd = smtp_connect(hostport, &err);
	if (s.fd >= 0 && smtp_cmd(&s, NULL, 220, 220, &err) &&
	    smtp_hello(&s, helo, &err) &&
	    smtp_envelope(&s, sender, rcpts, &err) &&
	    smtp_data(&s, msg, &err))
		smtp_quit(&s);
	if (s.fd >= 0)
		close(s.fd);
	g_string_free(s.in, TRUE);
	signal(SIGPIPE, oldpipe);
	return err;
}

/* ---- either ------------------------------------------------------------ */

bool
qrelease_rescanned(const struct emf_cfg *cfg)
{
	const char *smtp = emf_cfg_str(cfg, "quarantine.release_smtp");

	return smtp == NULL || *smtp == '\0';
}

char *
qrelease_deliver(const struct emf_cfg *cfg, const char *sender,
    const char *const *rcpts, const GString *msg, const char **via)
{
	if (!qrelease_rescanned(cfg)) {
		*via = emf_cfg_str(cfg, "quarantine.release_smtp");
		return deliver_smtp(*via, emf_cfg_str(cfg, "quarantine.helo"),
		    sender, rcpts, msg);
	}
	*via = emf_cfg_str(cfg, "quarantine.sendmail");
	return deliver_sendmail(*via, sender, rcpts, msg);
}
