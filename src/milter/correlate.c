/*
 * correlate.c - the correlation state in a scanner worker (correlate.h).
 *
 * Events of emf_state_correlate() and what the worker does with them:
 *   held      the milter is told (*held): it stores the mail in the
 *             quarantine and holds it (milter.quarantine_action);
 *   resolved  release: the copy in the state is re-injected
 *             (quarantine.sendmail or quarantine.release_smtp, as
 *             emofilter-quarantine release does) with X-Emofilter-Released,
 *             X-Emofilter-State and the rescan's verdict headers;
 *             keep: the rescan's report and the message become a new
 *             quarantine entry (the CSIRT sees what the archive held);
 *   expired   release_tagged: re-injected with X-Emofilter-Action: tag;
 *             keep: left in the quarantine.
 * A mail re-injected through sendmail passes the milter again: it carries
 * a random one-time token (EMF_STATE_TOKEN_HEADER) so that this pass does
 * not hold it again and keeps the headers put here (the milter only
 * removes the token). One sent by SMTP to quarantine.release_smtp, the
 * re-injection port without milters, carries none: nothing there would
 * take it out, the recipient would see it, and nothing scans it again
 * (qrelease_rescanned()). Any X-Emofilter-* header the original sender
 * forged is left out of it.
 * Every transition is one log line, with both messages' IDs, and one
 * line of the held mail's quarantine entry history.
 *
 * Also here: the worker's scan with the correspondence memory
 * (emf_mscan(): inbound mail asks it; outbound mail, by SMTP AUTH or
 * state.memory.outbound_networks, is recorded in emf_mcorrelate()), and
 * the timer (emf_mexpire_tick(): a short-lived process forked by the
 * daemon's supervisor every state.expire_interval seconds expires what
 * waited too long, so a quiet gateway needs no new mail for it).
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/random.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "../cli/qrelease.h"
#include "core/log.h"
#include "correlate.h"
#include "store/quarantine.h"
#include "store/state.h"

static struct emf_state *wstate;	/* this worker's connection */

static struct emf_state *
state_get(const struct emf_cfg *cfg, struct emf_error *err)
{
	struct emf_state_opts o;

	if (wstate != NULL)
		return wstate;
	emf_state_opts_from_cfg(cfg, &o);
	if (emf_state_open(&o, &wstate, err) != EMF_OK)
		wstate = NULL;
	return wstate;
}

/* 128 random bits in hex, or false. */
static bool
make_token(char out[33])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return false;
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return true;
}

static void
now_text(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * One line of the quarantine entry's history ("TIME EVENT: DETAIL"); a
 * failure is logged, never fatal (the log line has the transition too).
 */
static void G_GNUC_PRINTF(4, 5)
history(const struct emf_cfg *cfg, const char *id, const char *qid,
    const char *fmt, ...)
{
	char now[32], *detail, *line;
	struct emf_error err;
	va_list ap;

	now_text(now, sizeof(now));
	va_start(ap, fmt);
	detail = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	line = g_strdup_printf("%s %s", now, detail);
	if (emf_quarantine_history(emf_cfg_str(cfg, "quarantine.dir"), id, line,
	    &err) != EMF_OK)
		emf_log(EMF_LOG_WARNING, "%s: state: history of %s: %s", qid,
		    id, err.msg);
	g_free(line);
	g_free(detail);
}

/*
 * The header lines put before a re-injected message (no final EOL); the
 * token header only if token is not NULL.
 */
static char *
release_headers(const struct emf_held *h, const struct emf_report *rescan,
    const char *state, const char *token, bool crlf)
{
	const char *eol = crlf ? "\r\n" : "\n";
	char now[32], *released, *out;
	GString *s = g_string_new(NULL);

	now_text(now, sizeof(now));
	released = qrelease_header(now, "emofilter (state)", h->report_id);
	g_string_append_printf(s, "%s%s%s: %s", released, eol,
	    "X-Emofilter-State", state);
	if (token != NULL)
		g_string_append_printf(s, "%s" EMF_STATE_TOKEN_HEADER ": %s",
		    eol, token);
	if (rescan != NULL) {
		char *sum = emf_report_symbols_summary(rescan);

		g_string_append_printf(s, "%sX-Emofilter-Score: %.2f%s"
		    "X-Emofilter-Action: %s%sX-Emofilter-ID: %s%s"
		    "X-Emofilter-Symbols: %s", eol, emf_report_score(rescan),
		    eol, emf_action_name(emf_report_action(rescan)), eol,
		    emf_report_id(rescan), eol, sum ? sum : "");
		emf_free(sum);
	} else {
		g_string_append_printf(s, "%sX-Emofilter-Action: tag%s"
		    "X-Emofilter-ID: %s", eol, eol, h->report_id);
	}
	g_free(released);
	out = g_string_free(s, FALSE);
	/* One clean line each, whatever a label held. */
	for (char *p = out; *p; p++)
		if (((unsigned char)*p < ' ' && *p != '\r' && *p != '\n') ||
		    *p == 0x7f)
			*p = '?';
	return out;
}

/*
 * The message without any X-Emofilter-* header field (continuation lines
 * included): the copy in the state is the mail as received, with whatever
 * verdict its sender forged; only ours go back in.
 */
static GString *
without_our_headers(const char *msg, size_t len)
{
	static const char prefix[] = "X-Emofilter-";
	GString *out = g_string_sized_new(len);
	const char *p = msg, *end = msg + len;
	bool skipping = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;

		if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
			/* the end of the header: the rest as it is */
			g_string_append_len(out, p, end - p);
			break;
		}
		if (*p != ' ' && *p != '\t')
			skipping = (size_t)(next - p) >= sizeof(prefix) - 1 &&
			    g_ascii_strncasecmp(p, prefix,
			    sizeof(prefix) - 1) == 0;
		if (!skipping)
			g_string_append_len(out, p, next - p);
		p = next;
	}
	return out;
}

/* Re-inject h's message to its envelope recipients. */
static void
release(struct emf_state *st, const struct emf_cfg *cfg,
    const struct emf_held *h, const struct emf_report *rescan,
    const char *state, const char *qid)
{
	gsize len;
	const char *msg = g_bytes_get_data(h->message, &len);
	char **rcpts = g_strsplit(h->env_rcpts, "\n", 0);
	const char *via = "?";
	char token[33], *hdr, *why = NULL;
	struct emf_error err;
	GString *m;
	bool crlf, rescanned;

	if (msg == NULL || len == 0 || rcpts[0] == NULL ||
	    !qrelease_addr_ok(h->env_sender, true)) {
		emf_log(EMF_LOG_ERR, "%s: state: %s (%s) cannot be released: "
		    "no message, recipient or valid sender kept; it stays in "
		    "the quarantine", qid, h->report_id, h->queue_id);
		g_strfreev(rcpts);
		return;
	}
	for (size_t i = 0; rcpts[i] != NULL; i++)
		if (!qrelease_addr_ok(rcpts[i], false)) {
			emf_log(EMF_LOG_ERR, "%s: state: %s: recipient refused; "
			    "it stays in the quarantine", qid, h->report_id);
			g_strfreev(rcpts);
			return;
		}
	rescanned = qrelease_rescanned(cfg);
	if (rescanned && (!make_token(token) ||
	    emf_state_token_set(st, h->id, token, &err) != EMF_OK)) {
		emf_log(EMF_LOG_ERR, "%s: state: %s: no release token; it "
		    "stays in the quarantine", qid, h->report_id);
		g_strfreev(rcpts);
		return;
	}
	{
		const char *nl = memchr(msg, '\n', len);

		crlf = nl != NULL && nl > msg && nl[-1] == '\r';
	}
	hdr = release_headers(h, rescan, state, rescanned ? token : NULL, crlf);
	{
		GString *clean = without_our_headers(msg, len);

		m = qrelease_message(clean->str, clean->len, hdr);
		g_string_free(clean, TRUE);
	}
	why = qrelease_deliver(cfg, h->env_sender, (const char *const *)rcpts,
	    m, &via);
	if (why != NULL) {
		emf_log(EMF_LOG_ERR, "%s: state: release of %s (queue %s) via "
		    "%s failed: %s; it stays in the quarantine", qid,
		    h->report_id, h->queue_id, via, why);
		history(cfg, h->report_id, qid, "release failed: via %s: %s; "
		    "it stays in the quarantine", via, why);
	} else {
		emf_log(EMF_LOG_INFO, "%s: state: %s (queue %s) released via "
		    "%s to %u recipient(s): %s", qid, h->report_id, h->queue_id,
		    via, g_strv_length(rcpts), state);
		history(cfg, h->report_id, qid, "released: re-injected via %s "
		    "to %u recipient(s) (%s)", via, g_strv_length(rcpts),
		    state);
	}
	g_free(why);
	g_free(hdr);
	g_string_free(m, TRUE);
	g_strfreev(rcpts);
}

/* A kept mail: the opened report becomes its own quarantine entry. */
static void
keep(const struct emf_cfg *cfg, const struct emf_held *h,
    const struct emf_report *rescan, const char *qid)
{
	gsize len;
	const char *msg = g_bytes_get_data(h->message, &len);
	char *json = emf_report_json(rescan, false);
	struct emf_error err;

	if (emf_quarantine_store(emf_cfg_str(cfg, "quarantine.dir"),
	    emf_report_id(rescan), msg ? msg : "", len, json, &err) != EMF_OK) {
		emf_log(EMF_LOG_ERR, "%s: state: %s kept, but its opened "
		    "report %s was not stored: %s", qid, h->report_id,
		    emf_report_id(rescan), err.msg);
	} else {
		history(cfg, h->report_id, qid, "kept: the opened report is "
		    "entry %s", emf_report_id(rescan));
		history(cfg, emf_report_id(rescan), qid, "opened: the held "
		    "entry %s (queue %s), with the password of mail %s",
		    h->report_id, h->queue_id, qid);
	}
	emf_free(json);
}

/* A held mail given up (window, or the caps): log, history, action. */
static void
expired(struct emf_state *st, const struct emf_cfg *cfg,
    const struct emf_held *h, const char *reason, const char *qid)
{
	const char *expiry = emf_cfg_str(cfg, "state.expiry_action");

	emf_log(EMF_LOG_INFO, "%s: state: id=%s (queue %s) expired (%s): %s",
	    qid, h->report_id, h->queue_id, reason, expiry);
	history(cfg, h->report_id, qid, "expired (%s): %s",
	    strcmp(reason, "window") == 0 ? "no password within the window" :
	    "evicted by the state's caps", expiry);
	if (strcmp(expiry, "release_tagged") == 0)
		release(st, cfg, h, NULL, "expired", qid);
}

/* The expirer process: one pass over the state, then exit. */
static void G_GNUC_NORETURN
expirer_main(struct emf_engine *engine)
{
	const struct emf_cfg *cfg = emf_engine_cfg(engine);
	GPtrArray *rows = g_ptr_array_new_with_free_func(
	    (GDestroyNotify)emf_held_free);
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	struct emf_error err;
	struct emf_state *st;
	sigset_t none;
	int status = 0;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if ((st = state_get(cfg, &err)) == NULL) {
		emf_log(EMF_LOG_ERR, "timer: %s", err.msg);
		_exit(1);
	}
	if (emf_state_expire(st, now, emf_cfg_str(cfg, "state.expiry_action"),
	    rows, &err) != EMF_OK) {
		emf_log(EMF_LOG_ERR, "timer: %s", err.msg);
		status = 1;
	}
	for (guint i = 0; i < rows->len; i++)
		expired(st, cfg, g_ptr_array_index(rows, i), "window",
		    "timer");
	if (status == 0 && emf_cfg_bool(cfg, "state.memory.enabled") &&
	    emf_state_memory_expire(st, now, NULL, &err) != EMF_OK) {
		emf_log(EMF_LOG_ERR, "timer: state: memory: %s", err.msg);
		status = 1;
	}
	g_ptr_array_free(rows, TRUE);
	emf_state_close(wstate);
	wstate = NULL;
	_exit(status);
}

pid_t
emf_mexpire_tick(struct emf_engine *engine, pid_t running, time_t *next)
{
	const struct emf_cfg *cfg = emf_engine_cfg(engine);
	long every = (long)emf_cfg_int(cfg, "state.expire_interval");
	time_t now = time(NULL);
	pid_t pid;

	if (running > 0 || !emf_cfg_bool(cfg, "state.enabled") || every <= 0)
		return running;
	if (*next == 0)
		*next = now + every;	/* the first pass one interval in */
	if (now < *next)
		return 0;
	*next = now + every;
	pid = fork();
	if (pid == 0)
		expirer_main(engine);
	if (pid < 0) {
		emf_log(EMF_LOG_ERR, "timer: fork: %s", g_strerror(errno));
		return 0;
	}
	return pid;
}

enum emf_rc
emf_mscan(struct emf_engine *engine, const void *msg, size_t len,
    const struct emf_envelope *env, struct emf_report **r,
    bool *store_failed)
{
	const struct emf_cfg *cfg = emf_engine_cfg(engine);
	const char *qid = env->queue_id ? env->queue_id : "NOQUEUE";
	struct emf_scan_opts so = { 0 };
	struct emf_error err;
	struct emf_state *st;
	enum emf_rc rc;

	*store_failed = false;
	if (!emf_cfg_bool(cfg, "state.enabled") ||
	    !emf_cfg_bool(cfg, "state.memory.enabled") ||
	    emf_state_outbound(cfg, env))
		return emf_scan_message(engine, msg, len, env, r);
	if ((st = state_get(cfg, &err)) == NULL) {
		emf_log(EMF_LOG_ERR, "%s: %s", qid, err.msg);
		*r = NULL;
		*store_failed = true;
		return EMF_ERR_IO;
	}
	so.memory = emf_state_memory(st);
	emf_state_memory_now(st, 0);
	rc = emf_scan_message_opts(engine, msg, len, env, &so, r);
	if (emf_state_memory_failed(st, &err)) {
		emf_log(EMF_LOG_ERR, "%s: state: memory: %s", qid, err.msg);
		emf_report_free(*r);
		*r = NULL;
		emf_state_close(wstate);
		wstate = NULL;
		*store_failed = true;
		return EMF_ERR_IO;
	}
	return rc;
}

/* Whether the header block of msg has a field name (first 64 KiB). */
static bool
has_header(const char *msg, size_t len, const char *name)
{
	size_t n = strlen(name), lim = len < 65536 ? len : 65536;
	const char *p = msg, *end = msg + lim;

	while (p < end && *p != '\r' && *p != '\n') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if ((size_t)(end - p) > n && p[n] == ':' &&
		    g_ascii_strncasecmp(p, name, n) == 0)
			return true;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return false;
}

/* Outbound mail into the correspondence memory. */
static enum emf_rc
record_outbound(struct emf_state *st, const struct emf_report *r,
    const char *qid, struct emf_error *err)
{
	unsigned n = 0;

	if (emf_state_memory_record(st, r, g_get_real_time() / G_USEC_PER_SEC,
	    &n, err) != EMF_OK)
		return EMF_ERR_IO;
	emf_log(EMF_LOG_INFO, "%s: state: memory: outbound id=%s recorded "
	    "(%u recipient(s))", qid, emf_report_id(r), n);
	return EMF_OK;
}

enum emf_rc
emf_mcorrelate(struct emf_engine *engine, struct emf_report **r,
    const void *msg, size_t len, const struct emf_envelope *env, bool *held,
    bool *released)
{
	const struct emf_cfg *cfg = emf_engine_cfg(engine);
	const char *expiry = emf_cfg_str(cfg, "state.expiry_action");
	const char *qid = env->queue_id ? env->queue_id : "NOQUEUE";
	GPtrArray *events = g_ptr_array_new_with_free_func(
	    (GDestroyNotify)emf_state_event_free);
	struct emf_error err;
	struct emf_state *st;
	enum emf_rc rc;

	*held = false;
	*released = false;
	if ((st = state_get(cfg, &err)) == NULL) {
		emf_log(EMF_LOG_ERR, "%s: %s", qid, err.msg);
		g_ptr_array_free(events, TRUE);
		return EMF_ERR_IO;
	}
	rc = emf_state_correlate(st, engine, r, msg, len, env, qid, expiry,
	    g_get_real_time() / G_USEC_PER_SEC, events, &err);
	/* Outbound mail into the memory; never a mail we released (the
	 * state's re-injection or emofilter-quarantine release, which come
	 * from this host: 127.0.0.1 may be an outbound network). */
	if (rc == EMF_OK && emf_cfg_bool(cfg, "state.memory.enabled") &&
	    emf_state_outbound(cfg, env) &&
	    !(events->len > 0 && ((struct emf_state_event *)
	    g_ptr_array_index(events, events->len - 1))->kind ==
	    EMF_STATE_EV_REINJECTED) &&
	    !has_header(msg, len, "X-Emofilter-Released") &&
	    record_outbound(st, *r, qid, &err) != EMF_OK)
		rc = EMF_ERR_IO;
	for (guint i = 0; i < events->len; i++) {
		struct emf_state_event *e = g_ptr_array_index(events, i);
		const struct emf_held *h = e->held;

		switch (e->kind) {
		case EMF_STATE_EV_HELD:
			*held = true;
			emf_log(EMF_LOG_INFO, "%s: state: id=%s held, waiting "
			    "for its password (window %ld s)", qid,
			    h->report_id, emf_state_options(st)->window);
			history(cfg, h->report_id, qid, "held: waiting for "
			    "password (queue %s, window %ld s)", qid,
			    emf_state_options(st)->window);
			break;
		case EMF_STATE_EV_RESOLVED:
			emf_log(EMF_LOG_INFO, "%s: state: id=%s (queue %s) "
			    "resolved by this message: %s (rescan %s score=%.2f "
			    "action=%s)", qid, h->report_id, h->queue_id,
			    e->outcome, emf_report_id(e->rescan),
			    emf_report_score(e->rescan),
			    emf_action_name(emf_report_action(e->rescan)));
			history(cfg, h->report_id, qid, "resolved: %s, opened "
			    "by the password of mail %s (rescan %s score=%.2f "
			    "action=%s)", e->outcome, qid,
			    emf_report_id(e->rescan),
			    emf_report_score(e->rescan),
			    emf_action_name(emf_report_action(e->rescan)));
			if (strcmp(e->outcome, "release") == 0)
				release(st, cfg, h, e->rescan, "released",
				    qid);
			else
				keep(cfg, h, e->rescan, qid);
			break;
		case EMF_STATE_EV_REINJECTED:
			*released = true;
			emf_log(EMF_LOG_INFO, "%s: state: a mail we released "
			    "(its one-time token is now spent)", qid);
			break;
		case EMF_STATE_EV_EXPIRED:
			expired(st, cfg, h, e->reason, qid);
			break;
		}
	}
	g_ptr_array_free(events, TRUE);
	if (rc != EMF_OK) {
		emf_log(EMF_LOG_ERR, "%s: %s", qid, err.msg);
		emf_state_close(wstate);
		wstate = NULL;
	}
	return rc;
}
