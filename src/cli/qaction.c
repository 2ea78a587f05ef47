/*
 * qaction.c - release and delete with their audit lines (see qaction.h).
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include <json-glib/json-glib.h>

#include "qaction.h"
#include "qhold.h"
#include "qjson.h"
#include "qrelease.h"
#include "qsafe.h"
#include "qstore.h"
#include "store/quarantine.h"

char *
qaction_audit(const char *store, const char *who, const char *action,
    const char *id, const char *result, const char *const *to,
    const char *extra_key, const char *extra_val)
{
	JsonBuilder *b = json_builder_new();
	char *now = iso_time((gint64)time(NULL)), *line, *why = NULL;
	struct emf_error err;

	json_builder_begin_object(b);
	qjson_add_string_member(b, "time", now);
	qjson_add_string_member(b, "action", action);
	qjson_add_string_member(b, "id", id);
	qjson_add_string_member(b, "by", who);
	if (to != NULL)
		qjson_add_strv_member(b, "to", to);
	if (extra_key != NULL)
		qjson_add_string_member(b, extra_key, extra_val);
	qjson_add_string_member(b, "result", result);
	json_builder_end_object(b);
	line = qjson_finish(b, false);
	if (emf_quarantine_audit(store, line, &err) != EMF_OK)
		why = g_strdup_printf("audit log: %s", err.msg);
	g_free(line);
	g_free(now);
	return why;
}

/* why, with an audit failure after it when there was one; frees both. */
static char *
with_audit_note(char *why, char *afail)
{
	char *r;

	if (afail == NULL)
		return why;
	if (why == NULL)
		return afail;
	r = g_strdup_printf("%s (and %s)", why, afail);
	g_free(why);
	g_free(afail);
	return r;
}

/* A second release only when forced; a refusal is audited. */
static int
release_allowed(const char *store, const char *who, const struct qentry *e,
    bool force, char **why)
{
	if (e->released == NULL || force)
		return EX_DONE;
	*why = g_strdup_printf("%s: already released %s by %s; use --force "
	    "to send it again", e->id, jstr_or(e->released, "time", "?"),
	    jstr_or(e->released, "by", "?"));
	*why = with_audit_note(*why, qaction_audit(store, who, "release",
	    e->id, "refused: already released", NULL, NULL, NULL));
	return EX_NOTFOUND;
}

/* The recipients: to's, else the envelope's, each one we accept; on
 * success to is NULL-terminated. */
static int
release_rcpts(const struct qentry *e, GPtrArray *to, char **why)
{
	if (to->len == 0)
		qrelease_default_rcpts(e, to);
	if (to->len == 0) {
		*why = g_strdup_printf("%s: the entry has no envelope "
		    "recipients; give them with --to", e->id);
		return EX_NOTFOUND;
	}
	for (guint i = 0; i < to->len; i++)
		if (!qrelease_addr_ok(g_ptr_array_index(to, i), false)) {
			char *s = safe_dup(g_ptr_array_index(to, i));

			*why = g_strdup_printf("refusing recipient \"%s\"", s);
			g_free(s);
			return EX_NOTFOUND;
		}
	g_ptr_array_add(to, NULL);
	return EX_DONE;
}

static int
release_sender(const struct qentry *e, char **sender, char **why)
{
	char *s;

	*sender = qrelease_sender(e);
	if (qrelease_addr_ok(*sender, true))
		return EX_DONE;
	s = safe_dup(*sender);
	*why = g_strdup_printf("%s: refusing envelope sender \"%s\"", e->id,
	    s);
	g_free(s);
	return EX_NOTFOUND;
}

/* Send the message with our header; a failure is audited. */
static int
release_send(const char *store, const struct emf_cfg *cfg, const char *who,
    const struct qentry *e, const char *sender, const char *const *to,
    const char *now, const char **via, char **why)
{
	char *msg = NULL, *header, *fail, *result;
	size_t len;
	GString *out;
	int rc;

	if ((rc = qentry_read_message(store, e, &msg, &len, why)) != EX_DONE)
		return rc;
	header = qrelease_header(now, who, e->id);
	out = qrelease_message(msg, len, header);
	fail = qrelease_deliver(cfg, sender, to, out, via);
	g_free(header);
	g_string_free(out, TRUE);
	g_free(msg);
	if (fail == NULL)
		return EX_DONE;
	*why = g_strdup_printf("%s: release failed: %s", e->id, fail);
	result = g_strdup_printf("failed: %s", fail);
	*why = with_audit_note(*why, qaction_audit(store, who, "release",
	    e->id, result, to, "via", *via));
	g_free(result);
	g_free(fail);
	return EX_DELIVERY;
}

/*
 * Before anything is changed: the attempt goes to the audit log, and if
 * it cannot, nothing is done (EX_STORE).
 */
static int
audit_first(const char *store, const char *who, const char *action,
    const char *id, char **why)
{
	char *fail = qaction_audit(store, who, action, id, "started", NULL,
	    NULL, NULL);

	if (fail == NULL)
		return EX_DONE;
	*why = g_strdup_printf("%s: %s not done: %s", id, action, fail);
	g_free(fail);
	return EX_STORE;
}

/* Once sent: audit, then the .released record. An audit failure fails
 * the command (EX_STORE), though the mail is on its way. */
static int
release_record(const char *store, const char *who, const struct qentry *e,
    const char *const *to, const char *now, const char *via,
    const char *hold, char **why)
{
	char *rec = qrelease_record(now, who, to, via, e->released != NULL);
	char *result = g_strdup_printf("%s%s%s", e->released ? "ok (forced)" :
	    "ok", hold ? "; " : "", hold ? hold : "");
	struct emf_error err;
	int rc = EX_DONE;

	*why = qaction_audit(store, who, "release", e->id, result, to, "via",
	    via);
	if (*why != NULL) {
		char *w = g_strdup_printf("%s: released, but %s", e->id, *why);

		g_free(*why);
		*why = w;
		rc = EX_STORE;
	}
	if (emf_quarantine_put(store, e->id, "released", rec, strlen(rec),
	    &err) != EMF_OK) {
		/* Sent, but not recorded: say so loudly. */
		char *w = g_strdup_printf("%s: released, but the release "
		    "record could not be written: %s", e->id, err.msg);

		*why = with_audit_note(w, *why);
		rc = EX_STORE;
	}
	g_free(result);
	g_free(rec);
	return rc;
}

/* The Postfix queue ID recorded with the entry, or NULL. */
static const char *
entry_qid(const struct qentry *e)
{
	const char *q = jstr(jobj(e->root, "envelope"), "queue_id");

	return qhold_qid_ok(q) ? q : NULL;
}

/* What is left of the hold copy after a re-injection or a delete: it is
 * removed when that can be done safely, else noted for sync. A text for
 * the audit log (g_free). */
static char *
hold_remove(const char *store, const struct emf_cfg *cfg,
    const struct qentry *e, enum qhold_where w, const char *why_unknown,
    const char *after, bool *left)
{
	const char *qid = entry_qid(e);
	char *fail, *r;

	*left = false;
	switch (w) {
	case QHOLD_HELD:
		if ((fail = qhold_delete(cfg, qid)) == NULL)
			return g_strdup_printf("hold copy %s removed "
			    "(postsuper -d)", qid);
		break;
	case QHOLD_LEFT:
		return g_strdup_printf("hold copy %s had left the hold queue "
		    "already", qid);
	case QHOLD_GONE:
		return g_strdup_printf("no hold copy (%s not queued)", qid);
	case QHOLD_OTHER:
		return g_strdup_printf("queue file %s is another message: "
		    "left alone", qid);
	case QHOLD_UNKNOWN:
	default:
		fail = g_strdup(why_unknown ? why_unknown : "unknown");
		break;
	}
	*left = true;
	r = qhold_pending_add(store, e->id, qid, after);
	if (r == NULL)
		r = g_strdup_printf("hold copy %s left for sync (%s)", qid,
		    fail);
	else {
		char *t = g_strdup_printf("hold copy %s left, and %s (%s)",
		    qid, r, fail);

		g_free(r);
		r = t;
	}
	g_free(fail);
	return r;
}

int
qaction_release(const char *store, const struct emf_cfg *cfg,
    const char *who, const char *id, GPtrArray *to_in, bool force,
    guint *nto, char **why)
{
	GPtrArray *to = g_ptr_array_new_with_free_func(g_free);
	struct qentry e = { 0 };
	char *sender = NULL, *now = NULL, *hold = NULL, *hwhy = NULL;
	char *freed_via = NULL, *queue = NULL;
	const char *via = NULL, *qid;
	enum qhold_where w = QHOLD_UNKNOWN;
	bool own_rcpts = to_in != NULL && to_in->len > 0, left = false;
	int rc;

	*why = NULL;
	for (guint i = 0; to_in != NULL && i < to_in->len; i++)
		g_ptr_array_add(to, g_strdup(g_ptr_array_index(to_in, i)));
	if ((rc = qentry_load(store, id, &e, why)) != EX_DONE)
		goto out;
	if ((rc = release_allowed(store, who, &e, force, why)) != EX_DONE)
		goto out;
	if ((rc = release_rcpts(&e, to, why)) != EX_DONE)
		goto out;
	if ((rc = release_sender(&e, &sender, why)) != EX_DONE)
		goto out;
	if ((rc = audit_first(store, who, "release", e.id, why)) != EX_DONE)
		goto out;
	now = iso_time((gint64)time(NULL));
	qid = entry_qid(&e);
	if (qhold_enabled(cfg) && qid != NULL)
		w = qhold_find(cfg, qid, e.id, &queue, &hwhy);
	if (!own_rcpts && w == QHOLD_HELD && geteuid() == 0) {
		/* The held copy itself goes, with the headers it had. */
		char *fail = qhold_release(cfg, qid);

		if (fail == NULL) {
			freed_via = g_strdup_printf("postfix hold queue "
			    "(postsuper -H %s)", qid);
			hold = g_strdup_printf("hold copy %s freed", qid);
		} else {
			g_free(hwhy);
			hwhy = fail;
			w = QHOLD_UNKNOWN;
		}
	} else if (!own_rcpts && w == QHOLD_LEFT && !e.released) {
		/* Freed by hand (postsuper -H): on its way already. */
		freed_via = g_strdup_printf("postfix %s queue (%s freed from "
		    "hold before this release)", queue, qid);
		hold = g_strdup_printf("hold copy %s was freed already, not "
		    "sent again", qid);
	}
	if (freed_via != NULL) {
		via = freed_via;
		rc = EX_DONE;
	} else {
		rc = release_send(store, cfg, who, &e, sender,
		    (const char *const *)to->pdata, now, &via, why);
		if (rc == EX_DONE && qhold_enabled(cfg) && qid != NULL)
			hold = hold_remove(store, cfg, &e, w, hwhy, "release",
			    &left);
	}
	if (rc == EX_DONE) {
		*nto = to->len - 1;
		rc = release_record(store, who, &e,
		    (const char *const *)to->pdata, now, via, hold, why);
	}
	/* Said, not only audited: the hold copy is still there. */
	if (rc == EX_DONE && left && *why == NULL)
		*why = g_strdup_printf("%s: %s; run emofilter-quarantine sync "
		    "as root (the timer does) to remove it", e.id, hold);
out:
	g_ptr_array_free(to, TRUE);
	qentry_clear(&e);
	g_free(sender);
	g_free(now);
	g_free(hold);
	g_free(hwhy);
	g_free(freed_via);
	g_free(queue);
	return rc;
}

int
qaction_delete(const char *store, const struct emf_cfg *cfg,
    const char *who, const char *id, const char *action, char **why)
{
	struct emf_error err;
	struct qentry e = { 0 };
	enum qhold_where w = QHOLD_UNKNOWN;
	char *s, *hwhy = NULL, *hold = NULL, *result, *lwhy = NULL;
	const char *qid = NULL;
	bool loaded, left = false;
	enum emf_rc rc;
	int xrc;

	*why = NULL;
	if (!emf_quarantine_id_valid(id)) {
		s = safe_dup(id);
		*why = g_strdup_printf("\"%s\" is not an entry ID", s);
		g_free(s);
		return EX_NOTFOUND;
	}
	if (!emf_quarantine_exists(store, id)) {
		*why = g_strdup_printf("%s: no such entry in %s", id, store);
		return EX_NOTFOUND;
	}
	/* An unreadable report does not stop the delete; only the hold
	 * copy is then not looked for. */
	loaded = qentry_load(store, id, &e, &lwhy) == EX_DONE;
	g_free(lwhy);
	if ((xrc = audit_first(store, who, action, id, why)) != EX_DONE)
		goto done;
	if (loaded && cfg != NULL && qhold_enabled(cfg) &&
	    (qid = entry_qid(&e)) != NULL)
		w = qhold_find(cfg, qid, id, NULL, &hwhy);
	rc = emf_quarantine_remove(store, id, &err);
	if (rc == EMF_ERR_FORMAT) {
		*why = g_strdup_printf("%s: no such entry in %s", id, store);
		xrc = EX_NOTFOUND;
		goto done;
	}
	if (rc != EMF_OK) {
		*why = g_strdup_printf("%s: %s", id, err.msg);
		*why = with_audit_note(*why, qaction_audit(store, who, action,
		    id, err.msg, NULL, NULL, NULL));
		xrc = EX_STORE;
		goto done;
	}
	/* A released entry's hold copy is gone or noted already. */
	if (qid != NULL && e.released == NULL)
		hold = hold_remove(store, cfg, &e, w, hwhy, action, &left);
	result = g_strdup_printf("ok%s%s", hold ? "; " : "", hold ? hold :
	    "");
	*why = qaction_audit(store, who, action, id, result, NULL, NULL,
	    NULL);
	g_free(result);
	xrc = EX_DONE;
	if (*why != NULL) {
		s = g_strdup_printf("%s: deleted, but %s", id, *why);
		g_free(*why);
		*why = s;
		xrc = EX_STORE;
	} else if (left) {
		*why = g_strdup_printf("%s: %s; run emofilter-quarantine sync "
		    "as root (the timer does) to remove it", id, hold);
	}
done:
	if (loaded)
		qentry_clear(&e);
	g_free(hwhy);
	g_free(hold);
	return xrc;
}
