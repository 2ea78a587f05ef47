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
#include "milter.h"
#include "store/quarantine.h"
#include "store/state.h"

/* What was done, for the log line and the X-Emofilter-Action header. */
struct outcome {
	const char *action;	/* accept, tag, quarantine, reject, unscanned */
	const char *done;	/* accepted, held, discarded, rejected, tempfailed */
	char id[40];
	bool stored;
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

static void
strip_forged(SMFICTX *ctx, struct emf_msg *m)
{
	/* Highest index first, so earlier indexes stay valid. */
	for (int i = m->nstrip - 1; i >= 0; i--)
		smfi_chgheader(ctx, m->strip[i].name, m->strip[i].idx, NULL);
}

/* Header values carry their own leading space (SMFIP_HDR_LEADSPC). */
static void
add_header(SMFICTX *ctx, const char *name, const char *value)
{
	char *v = g_strdup_printf(" %s", value);

	smfi_addheader(ctx, (char *)name, v);
	g_free(v);
}

static void
add_verdict_headers(SMFICTX *ctx, const struct emf_verdict *v,
    const struct outcome *o)
{
	char score[32];

	if (v->id != NULL) {
		snprintf(score, sizeof(score), "%.2f", v->score);
		add_header(ctx, "X-Emofilter-Score", score);
		if (v->summary != NULL && v->summary[0] != '\0')
			add_header(ctx, "X-Emofilter-Symbols", v->summary);
	} else {
		add_header(ctx, "X-Emofilter-Symbols", "SCAN_FAILED");
	}
	add_header(ctx, "X-Emofilter-Action", o->action);
	add_header(ctx, "X-Emofilter-ID", o->id);
}

static void
prefix_subject(SMFICTX *ctx, const struct emf_mconf *mc,
    const struct emf_msg *m)
{
	char *v;

	if (mc->subject_prefix[0] == '\0')
		return;
	if (m->subject == NULL) {
		add_header(ctx, "Subject", mc->subject_prefix);
		return;
	}
	/* Keep the original value byte for byte after the prefix. */
	v = g_strdup_printf(" %s%s%s", mc->subject_prefix,
	    m->subject[0] == ' ' ? "" : " ", m->subject);
	smfi_chgheader(ctx, "Subject", 1, v);
	g_free(v);
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
			/* smfi_setreply treats % specially: double it. */
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

	smfi_setreply(ctx, "550", "5.7.1", t);
	g_free(t);
	o->done = "rejected";
	return SMFIS_REJECT;
}

static sfsistat
do_tempfail(SMFICTX *ctx, struct outcome *o, const char *why)
{
	char *t = g_strdup_printf("%s, try again later (%s)", why, o->id);

	smfi_setreply(ctx, "451", "4.7.1", t);
	g_free(t);
	o->done = "tempfailed";
	return SMFIS_TEMPFAIL;
}

/* Accept without a verdict: tagged unscanned. */
static sfsistat
accept_unscanned(SMFICTX *ctx, struct emf_msg *m, const struct emf_verdict *v,
    struct outcome *o)
{
	o->action = "unscanned";
	strip_forged(ctx, m);
	add_verdict_headers(ctx, v, o);
	o->done = "accepted";
	return SMFIS_ACCEPT;
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
	if (smfi_quarantine(ctx, why) != MI_SUCCESS) {
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
		smfi_chgheader(ctx, EMF_STATE_TOKEN_HEADER, 1, NULL);
		o->done = "accepted-released";
		return SMFIS_ACCEPT;
	}
	switch (v->action) {
	case EMF_ACTION_REJECT:
		if (mc->quarantine_rejected)
			o->stored = store(mc, m, v, data, len);
		return do_reject(ctx, mc, o);
	case EMF_ACTION_QUARANTINE:
		if (!(o->stored = store(mc, m, v, data, len)))
			return do_tempfail(ctx, o, "quarantine unavailable");
		if (strcmp(mc->qaction, "reject") == 0)
			return do_reject(ctx, mc, o);
		if (strcmp(mc->qaction, "discard") == 0) {
			o->done = "discarded";
			return SMFIS_DISCARD;
		}
		strip_forged(ctx, m);
		add_verdict_headers(ctx, v, o);
		{
			char *why = g_strdup_printf("emofilter %s", o->id);

			if (smfi_quarantine(ctx, why) != MI_SUCCESS) {
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
		strip_forged(ctx, m);
		add_verdict_headers(ctx, v, o);
		prefix_subject(ctx, mc, m);
		o->done = "accepted";
		return SMFIS_ACCEPT;
	case EMF_ACTION_ACCEPT:
	default:
		if (v->held)
			return hold_for_password(ctx, mc, m, v, data, len, o);
		strip_forged(ctx, m);
		if (mc->headers_on_accept)
			add_verdict_headers(ctx, v, o);
		o->done = "accepted";
		return SMFIS_ACCEPT;
	}
}

/* The one line per message. No body text, no passwords: names only. */
static void
log_line(const struct emf_msg *m, const struct emf_verdict *v,
    const struct outcome *o, size_t len)
{
	char from[256], syms[1024];

	emf_log_safe(from, sizeof(from), m->sender != NULL ? m->sender : "");
	emf_log_safe(syms, sizeof(syms),
	    v->summary != NULL ? v->summary : "SCAN_FAILED");
	emf_log(EMF_LOG_INFO,
	    "%s: id=%s from=<%s> rcpts=%zu size=%zu score=%.2f action=%s%s%s "
	    "result=%s%s scan_ms=%ld limits=%s symbols=[%s]",
	    m->qid, o->id, from, m->nrcpts, len, v->score, o->action,
	    v->policy != NULL && v->policy[0] ? " policy=" : "",
	    v->policy != NULL ? v->policy : "", o->done,
	    o->stored ? " quarantined=yes" : "", v->scan_ms,
	    v->limits_hit ? "hit" : "none", syms);
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
		if (strcmp(mc->on_oversize, "reject") == 0) {
			smfi_setreply(ctx, "552", "5.3.4",
			    "Message too large to be scanned");
			o.done = "rejected";
			st = SMFIS_REJECT;
		} else if (strcmp(mc->on_oversize, "tempfail") == 0) {
			st = do_tempfail(ctx, &o, "message too large to scan");
		} else {
			st = accept_unscanned(ctx, m, v, &o);
		}
		len = (size_t)emf_spool_size(m->spool);
	} else if (rc == EMF_OK) {
		st = apply_verdict(ctx, mc, m, v, data, len, &o);
	} else if (rc == EMF_ERR_TIMEOUT) {
		/* SCAN_FAILED: the worker crashed, was killed or was late. */
		o.action = "unscanned";
		st = mc->fail_accept ? accept_unscanned(ctx, m, v, &o) :
		    do_tempfail(ctx, &o, "scan failed");
	} else {
		o.action = "unscanned";
		st = mc->error_accept ? accept_unscanned(ctx, m, v, &o) :
		    do_tempfail(ctx, &o, "internal error");
	}
	log_line(m, v, &o, len);
	return st;
}
