/*
 * actions.c - from a verdict to what the MTA does with the message, and
 * the one log line per message.
 *
 * Order matters: forged X-Emofilter-* headers go first (a sender cannot
 * smuggle a verdict through), the quarantine copy is written and synced
 * before the MTA is told to hold, discard or reject (a failed write
 * tempfails, so the message stays with the sender), and the log line
 * comes last with what was actually done.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "core/log.h"
#include "hdrtext.h"
#include "metrics.h"
#include "milter.h"
#include "store/quarantine.h"
#include "store/state.h"

/* What was done, for the log line and the X-Emofilter-Action header. */
struct outcome {
	const char *action;	/* accept, tag, quarantine, reject, unscanned */
	const char *done;	/* accepted, held, discarded, rejected, tempfailed */
	char id[40];
	bool stored;
	enum emf_fail failure;	/* why there is no verdict (or no store) */
	bool oversize;		/* above limits.max_message_bytes: not scanned */
};

/* A report ID for a message that has no report (unscanned). */
static void
make_id(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	char stamp[20];

	gmtime_r(&t, &tm);

	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, n, "%s-%08x", stamp, g_random_int());
}

/*
 * Delete the forged X-Emofilter-* headers; false if the MTA refused one
 * (the message must then not pass with a forged verdict: tempfail).
 */
static bool
strip_forged(SMFICTX *ctx, struct emf_msg *m)
{
	/* Highest index first, so earlier indexes stay valid. */
	for (int i = m->nstrip - 1; i >= 0; i--)
		if (mp_chgheader(ctx, m->strip[i].name, m->strip[i].idx,
		    NULL) != MI_SUCCESS)
			return false;
	return true;
}

/*
 * Header values carry their own leading space (SMFIP_HDR_LEADSPC); text
 * that is not ASCII is RFC 2047-encoded, long values folded (hdrtext.c).
 * False if the MTA refused the header.
 */
static bool
add_header(SMFICTX *ctx, const char *name, const char *value)
{
	char *v = emf_hdr_value(name, value);
	int r = mp_addheader(ctx, name, v);

	g_free(v);
	return r == MI_SUCCESS;
}

static bool
add_verdict_headers(SMFICTX *ctx, const struct emf_verdict *v,
    const struct outcome *o)
{
	char score[32];
	bool ok = true;

	if (v->id != NULL) {
		snprintf(score, sizeof(score), "%.2f", v->score);
		ok &= add_header(ctx, "X-Emofilter-Score", score);
		if (v->summary != NULL && v->summary[0] != '\0')
			ok &= add_header(ctx, "X-Emofilter-Symbols",
			    v->summary);
	} else {
		ok &= add_header(ctx, "X-Emofilter-Symbols", o->oversize ?
		    "LIMIT_EXCEEDED" : "SCAN_FAILED");
	}
	ok &= add_header(ctx, "X-Emofilter-Action", o->action);
	ok &= add_header(ctx, "X-Emofilter-ID", o->id);
	return ok;
}

static bool
prefix_subject(SMFICTX *ctx, const struct emf_mconf *mc,
    const struct emf_msg *m)
{
	char *v;
	int r;

	if (mc->subject_prefix[0] == '\0')
		return true;
	/* The original value stays byte for byte after the prefix. */
	v = emf_hdr_subject(mc->subject_prefix, m->subject);
	if (m->subject == NULL)
		r = mp_addheader(ctx, "Subject", v);
	else
		r = mp_chgheader(ctx, "Subject", 1, v);
	g_free(v);
	return r == MI_SUCCESS;
}

/* "{id}" (or a lone %s) in the configured text becomes the report ID. */
static char *
reject_text(const char *tmpl, const char *id)
{
	GString *s = g_string_new(NULL);

	for (const char *p = tmpl; *p != '\0'; p++) {
		if (strncmp(p, "{id}", 4) == 0) {
			g_string_append(s, id);
			p += 3;
		} else if (strncmp(p, "%s", 2) == 0) {
			g_string_append(s, id);
			p++;
		} else if (*p == '%') {
			/* Sendmail (and libmilter) treat % in a reply specially: double it. */
			g_string_append(s, "%%");
		} else if ((unsigned char)*p >= ' ') {
			g_string_append_c(s, *p);
		}
	}
	return g_string_free(s, FALSE);
}

static sfsistat
do_reject(SMFICTX *ctx, const struct emf_mconf *mc, struct outcome *o)
{
	char *t = reject_text(mc->reject_text, o->id);

	mp_setreply(ctx, "550", "5.7.1", t);
	g_free(t);
	o->done = "rejected";
	return SMFIS_REJECT;
}

static sfsistat
do_tempfail(SMFICTX *ctx, struct outcome *o, const char *why)
{
	char *t = g_strdup_printf("%s, try again later (%s)", why, o->id);

	mp_setreply(ctx, "451", "4.7.1", t);
	g_free(t);
	o->done = "tempfailed";
	return SMFIS_TEMPFAIL;
}

/* The MTA refused a header change: a forged X-Emofilter-* header might
 * pass, or the verdict not show. Never accept like that. */
static sfsistat
headers_failed(SMFICTX *ctx, const struct emf_msg *m, struct outcome *o)
{
	emf_log(EMF_LOG_ERR, "%s: the MTA refused a header change "
	    "(change or add header): tempfailing", m->qid);
	return do_tempfail(ctx, o, "cannot change headers");
}

/* Accept without a verdict: tagged unscanned. */
static sfsistat
accept_unscanned(SMFICTX *ctx, struct emf_msg *m, const struct emf_verdict *v,
    struct outcome *o)
{
	o->action = "unscanned";
	if (!strip_forged(ctx, m) || !add_verdict_headers(ctx, v, o))
		return headers_failed(ctx, m, o);
	o->done = "accepted";
	return SMFIS_ACCEPT;
}

/*
 * No verdict, or no quarantine copy: what milter.on_failure.CASE says.
 * Tempfail (the default) keeps the message with the sender, who retries;
 * reject refuses it for good; accept passes it tagged unscanned. The
 * per-message log line names the case (failure=) and the action taken.
 */
static sfsistat
on_failure(SMFICTX *ctx, const struct emf_mconf *mc, struct emf_msg *m,
    const struct emf_verdict *v, struct outcome *o, enum emf_fail f)
{
	char *t;

	o->failure = f;
	switch (mc->on_fail[f]) {
	case EMF_FAILACT_ACCEPT:
		return accept_unscanned(ctx, m, v, o);
	case EMF_FAILACT_REJECT:
		t = g_strdup_printf("Message could not be scanned (%s, "
		    "report %s)", emf_fail_name(f), o->id);
		mp_setreply(ctx, "550", "5.7.1", t);
		g_free(t);
		o->done = "rejected";
		return SMFIS_REJECT;
	case EMF_FAILACT_TEMPFAIL:
	default:
		t = g_strdup_printf("message not scanned (%s)",
		    emf_fail_name(f));
		{
			sfsistat st = do_tempfail(ctx, o, t);

			g_free(t);
			return st;
		}
	}
}

static bool
store(const struct emf_mconf *mc, const struct emf_msg *m,
    const struct emf_verdict *v, const uint8_t *data, size_t len)
{
	struct emf_error err;

	if (emf_quarantine_store(mc->qdir, v->id, data, len, v->json,
	    &err) != EMF_OK) {
		emf_log(EMF_LOG_ERR, "%s: quarantine %s: %s", m->qid, v->id,
		    err.msg);
		return false;
	}
	return true;
}

/*
 * A mail whose archive waits for the password of a later mail (state,
 * correlate.h): stored like a quarantined one, then held (or discarded,
 * per milter.quarantine_action; never rejected: its sender did nothing
 * wrong). A worker re-injects it once the password mail has come.
 */
static sfsistat
hold_for_password(SMFICTX *ctx, const struct emf_mconf *mc, struct emf_msg *m,
    const struct emf_verdict *v, const uint8_t *data, size_t len,
    struct outcome *o)
{
	char *why;

	if (!(o->stored = store(mc, m, v, data, len)))
		return do_tempfail(ctx, o, "quarantine unavailable");
	if (strcmp(mc->qaction, "discard") == 0) {
		o->done = "discarded-waiting-for-password";
		return SMFIS_DISCARD;
	}
	strip_forged(ctx, m);
	add_verdict_headers(ctx, v, o);
	why = g_strdup_printf("emofilter %s: waiting for password", o->id);
	if (mp_quarantine(ctx, why) != MI_SUCCESS) {
		g_free(why);
		return do_tempfail(ctx, o, "cannot hold");
	}
	g_free(why);
	o->done = "held-waiting-for-password";
	return SMFIS_ACCEPT;
}

static sfsistat
apply_verdict(SMFICTX *ctx, const struct emf_mconf *mc, struct emf_msg *m,
    const struct emf_verdict *v, const uint8_t *data, size_t len,
    struct outcome *o)
{
	o->action = emf_action_name(v->action);
	/*
	 * A held mail a worker re-injected, proved by its one-time token: it
	 * carries the verdict of its opened archive, which this second scan
	 * (archive shut again) must not replace. Only the token goes.
	 */
	if (v->released && v->action < EMF_ACTION_QUARANTINE) {
		mp_chgheader(ctx, EMF_STATE_TOKEN_HEADER, 1, NULL);
		o->done = "accepted-released";
		return SMFIS_ACCEPT;
	}
	switch (v->action) {
	case EMF_ACTION_REJECT:
		if (mc->quarantine_rejected)
			o->stored = store(mc, m, v, data, len);
		return do_reject(ctx, mc, o);
	case EMF_ACTION_QUARANTINE:
		if (!(o->stored = store(mc, m, v, data, len))) {
			/* A message judged malicious is never accepted
			 * here: on_failure.store = reject rejects it, any
			 * other setting tempfails it. */
			o->failure = EMF_FAIL_STORE;
			if (mc->on_fail[EMF_FAIL_STORE] == EMF_FAILACT_REJECT)
				return do_reject(ctx, mc, o);
			return do_tempfail(ctx, o, "quarantine unavailable");
		}
		if (strcmp(mc->qaction, "reject") == 0)
			return do_reject(ctx, mc, o);
		if (strcmp(mc->qaction, "discard") == 0) {
			o->done = "discarded";
			return SMFIS_DISCARD;
		}
		if (!strip_forged(ctx, m) || !add_verdict_headers(ctx, v, o))
			return headers_failed(ctx, m, o);
		{
			char *why = g_strdup_printf("emofilter %s", o->id);

			if (mp_quarantine(ctx, why) != MI_SUCCESS) {
				g_free(why);
				return do_tempfail(ctx, o, "cannot hold");
			}
			g_free(why);
		}
		o->done = "held";
		return SMFIS_ACCEPT;
	case EMF_ACTION_TAG:
		if (v->held)
			return hold_for_password(ctx, mc, m, v, data, len, o);
		if (!strip_forged(ctx, m) || !add_verdict_headers(ctx, v, o) ||
		    !prefix_subject(ctx, mc, m))
			return headers_failed(ctx, m, o);
		o->done = "accepted";
		return SMFIS_ACCEPT;
	case EMF_ACTION_ACCEPT:
	default:
		if (v->held)
			return hold_for_password(ctx, mc, m, v, data, len, o);
		if (!strip_forged(ctx, m) || (mc->headers_on_accept &&
		    !add_verdict_headers(ctx, v, o)))
			return headers_failed(ctx, m, o);
		o->done = "accepted";
		return SMFIS_ACCEPT;
	}
}

#define LOG_RCPTS 5		/* recipients named in the log line */

/* to=<a>,<b>,... : the first LOG_RCPTS, then how many more. */
static void
log_rcpts(const struct emf_msg *m, char *buf, size_t n)
{
	GString *s = g_string_new(NULL);
	char one[256];
	guint shown = m->rcpts->len < LOG_RCPTS ? m->rcpts->len : LOG_RCPTS;

	for (guint i = 0; i < shown; i++) {
		emf_log_safe(one, sizeof(one), g_ptr_array_index(m->rcpts, i));
		g_string_append_printf(s, "%s<%s>", i ? "," : "", one);
	}
	if (m->nrcpts > shown)
		g_string_append_printf(s, "%s+%zu", shown ? "," : "",
		    m->nrcpts - shown);
	g_strlcpy(buf, s->str, n);
	g_string_free(s, TRUE);
}

/*
 * The one line per message, key=value (values without spaces, but the
 * symbol list in brackets). No body text, no passwords, no subject:
 * envelope, Message-ID and names only.
 */
static void
log_line(const struct emf_msg *m, const struct emf_verdict *v,
    const struct outcome *o, size_t len)
{
	char from[256], syms[1024], to[1536], msgid[256];
	const char *id = m->msgid != NULL ? m->msgid : "";

	while (*id == ' ' || *id == '\t' || *id == '<')
		id++;
	emf_log_safe(msgid, sizeof(msgid), id);
	msgid[strcspn(msgid, "> \t")] = '\0';
	emf_log_safe(from, sizeof(from), m->sender != NULL ? m->sender : "");
	log_rcpts(m, to, sizeof(to));
	emf_log_safe(syms, sizeof(syms), v->summary != NULL ? v->summary :
	    o->oversize ? "LIMIT_EXCEEDED" : "SCAN_FAILED");
	emf_log(o->failure != EMF_FAIL_NONE ? EMF_LOG_WARNING : EMF_LOG_INFO,
	    "%s: id=%s msgid=<%s> from=<%s> to=%s rcpts=%zu size=%zu "
	    "score=%.2f action=%s%s%s result=%s%s%s%s scan_ms=%ld limits=%s "
	    "symbols=[%s]",
	    m->qid, o->id, msgid, from, to, m->nrcpts, len, v->score,
	    o->action,
	    v->policy != NULL && v->policy[0] ? " policy=" : "",
	    v->policy != NULL ? v->policy : "", o->done,
	    o->failure != EMF_FAIL_NONE ? " failure=" : "",
	    o->failure != EMF_FAIL_NONE ? emf_fail_name(o->failure) : "",
	    o->stored ? " quarantined=yes" : "", v->scan_ms,
	    o->oversize ? "max_message_bytes" : v->limits_hit ? "hit" : "none",
	    syms);
}

sfsistat
emf_actions_apply(SMFICTX *ctx, struct emf_conn *c, enum emf_rc rc,
    struct emf_verdict *v, const uint8_t *data, size_t len)
{
	const struct emf_mconf *mc = c->mc;
	struct emf_msg *m = c->msg;
	struct outcome o;
	sfsistat st;

	memset(&o, 0, sizeof(o));
	if (rc == EMF_OK && v->id != NULL && emf_quarantine_id_valid(v->id))
		g_strlcpy(o.id, v->id, sizeof(o.id));
	else
		make_id(o.id, sizeof(o.id));
	if (m->strip_overflow) {
		o.action = "error";
		st = do_tempfail(ctx, &o, "too many X-Emofilter headers");
	} else if (rc == EMF_OK && m->spool != NULL &&
	    emf_spool_oversize(m->spool)) {
		o.action = "unscanned";
		o.oversize = true;
		if (strcmp(mc->on_oversize, "reject") == 0) {
			mp_setreply(ctx, "552", "5.3.4",
			    "Message too large to be scanned");
			o.done = "rejected";
			st = SMFIS_REJECT;
		} else if (strcmp(mc->on_oversize, "tempfail") == 0) {
			st = do_tempfail(ctx, &o, "message too large to scan");
		} else {
			/* "tag": delivered, never as clean. */
			st = accept_unscanned(ctx, m, v, &o);
		}
		len = (size_t)emf_spool_size(m->spool);
	} else if (rc == EMF_OK) {
		st = apply_verdict(ctx, mc, m, v, data, len, &o);
	} else {
		/* SCAN_FAILED: the worker was late, crashed or busy, the
		 * scan or the spool failed. Never accepted unless said so. */
		enum emf_fail f = v->fail;

		if (f <= EMF_FAIL_NONE || f >= EMF_FAIL_N)
			f = rc == EMF_ERR_TIMEOUT ? EMF_FAIL_TIMEOUT :
			    EMF_FAIL_SCAN_ERROR;
		o.action = "unscanned";
		st = on_failure(ctx, mc, m, v, &o, f);
	}
	log_line(m, v, &o, len);
	emf_metrics_message(o.action, o.done, v->summary != NULL ? v->summary :
	    o.oversize ? "LIMIT_EXCEEDED" : "SCAN_FAILED",
	    rc == EMF_OK && !o.oversize && v->id != NULL ? v->scan_ms : -1);
	return st;
}
