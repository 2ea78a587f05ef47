/*
 * qsync.c - the store and the Postfix hold queue in step (see qsync.h).
 */
#include "config.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "qaction.h"
#include "qhold.h"
#include "qjson.h"
#include "qstore.h"
#include "qsync.h"
#include "store/quarantine.h"

struct sync {
	const char *store;
	const struct emf_cfg *cfg;
	const char *who;
	bool dry;
	GString *out;
	GHashTable *held;	/* entry ID -> queue ID, hold copies of ours */
	GHashTable *done;	/* entry IDs dealt with */
	unsigned removed, notes, reported, failed, audit_failed;
};

static void say(struct sync *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
say(struct sync *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_string_append_vprintf(s->out, fmt, ap);
	va_end(ap);
	g_string_append_c(s->out, '\n');
}

static void
audit(struct sync *s, const char *id, const char *result)
{
	char *fail = qaction_audit(s->store, s->who, "sync", id, result, NULL,
	    NULL, NULL);

	if (fail != NULL) {
		say(s, "%s", fail);
		s->audit_failed++;
		g_free(fail);
	}
}

/* Remove hold copy qid of entry id (verified by the caller); why: why. */
static bool
remove_copy(struct sync *s, const char *id, const char *qid,
    const char *reason)
{
	char *fail, *r;

	if (s->dry) {
		say(s, "would remove hold copy %s of %s (%s)", qid, id, reason);
		s->removed++;
		return true;
	}
	if ((fail = qhold_delete(s->cfg, qid)) != NULL) {
		say(s, "%s: hold copy %s: %s", id, qid, fail);
		r = g_strdup_printf("failed: hold copy %s: %s", qid, fail);
		audit(s, id, r);
		g_free(r);
		g_free(fail);
		s->failed++;
		return false;
	}
	say(s, "removed hold copy %s of %s (%s)", qid, id, reason);
	r = g_strdup_printf("ok: hold copy %s removed (%s)", qid, reason);
	audit(s, id, r);
	g_free(r);
	s->removed++;
	return true;
}

/* The hold queue: which copies are ours (by X-Emofilter-ID). */
static int
read_hold(struct sync *s, char **why)
{
	GPtrArray *qids = qhold_list(s->cfg, why);
	unsigned others = 0;

	if (qids == NULL)
		return EX_DELIVERY;
	for (guint i = 0; i < qids->len; i++) {
		const char *qid = g_ptr_array_index(qids, i);
		char *e = NULL, *id = qhold_entry_id(s->cfg, qid, &e);

		if (id != NULL)
			g_hash_table_insert(s->held, id, g_strdup(qid));
		else
			others++;
		g_free(e);
	}
	say(s, "hold queue: %u message%s, %u with an X-Emofilter-ID",
	    qids->len, qids->len == 1 ? "" : "s",
	    g_hash_table_size(s->held));
	(void)others;
	g_ptr_array_free(qids, TRUE);
	return EX_DONE;
}

/* The notes left by releases and deletes done without root. */
static void
do_notes(struct sync *s)
{
	char *why = NULL;
	GPtrArray *ids = qhold_pending_list(s->store, &why);

	if (ids == NULL) {
		say(s, "hold notes: %s", why);
		g_free(why);
		s->failed++;
		return;
	}
	for (guint i = 0; i < ids->len; i++) {
		const char *id = g_ptr_array_index(ids, i);
		char *qid = qhold_pending_qid(s->store, id), *fail;
		const char *held = g_hash_table_lookup(s->held, id);
		bool ok = true;

		g_hash_table_add(s->done, g_strdup(id));
		if (qid != NULL && held != NULL && strcmp(held, qid) == 0)
			ok = remove_copy(s, id, qid, "noted after a release "
			    "or delete without root");
		else if (!s->dry) {
			char *r = g_strdup_printf("ok: note dropped, hold "
			    "copy %s already gone", qid ? qid : "?");

			say(s, "%s: hold copy %s already gone", id,
			    qid ? qid : "?");
			audit(s, id, r);
			g_free(r);
		}
		if (ok && !s->dry) {
			if ((fail = qhold_pending_remove(s->store, id)) !=
			    NULL) {
				say(s, "%s: %s", id, fail);
				g_free(fail);
				s->failed++;
			} else {
				s->notes++;
			}
		}
		g_free(qid);
	}
	g_ptr_array_free(ids, TRUE);
}

/* Each hold copy of ours against its entry. */
static void
do_held(struct sync *s)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, s->held);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const char *id = k, *qid = v, *rq;
		struct qentry e = { 0 };
		char *why = NULL;

		if (g_hash_table_contains(s->done, id))
			continue;
		if (qentry_load(s->store, id, &e, &why) != EX_DONE) {
			say(s, "hold copy %s carries X-Emofilter-ID %s, which "
			    "is not in the store (%s): left alone; "
			    "postsuper -d %s removes it", qid, id, why, qid);
			g_free(why);
			s->reported++;
			continue;
		}
		rq = jstr(jobj(e.root, "envelope"), "queue_id");
		if (e.released != NULL && rq != NULL && strcmp(rq, qid) == 0)
			remove_copy(s, id, qid, "the entry was released");
		else if (e.released != NULL) {
			say(s, "hold copy %s of released %s: the entry records "
			    "queue ID %s: left alone", qid, id, rq ? rq : "none");
			s->reported++;
		}
		g_hash_table_add(s->done, g_strdup(id));
		qentry_clear(&e);
	}
}

/* Pending entries whose recorded hold copy is not held: report only. */
static void
do_pending(struct sync *s)
{
	GHashTable *qheld = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter it;
	struct emf_error err;
	gpointer k, v;
	char **ids;
	size_t n;
	unsigned missing = 0;

	g_hash_table_iter_init(&it, s->held);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_hash_table_add(qheld, v);
	if (emf_quarantine_list(s->store, &ids, &n, &err) != EMF_OK) {
		say(s, "%s", err.msg);
		s->failed++;
		g_hash_table_destroy(qheld);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct qentry e = { 0 };
		char *why = NULL;
		const char *rq, *act;

		if (qentry_load(s->store, ids[i], &e, &why) != EX_DONE) {
			g_free(why);
			continue;
		}
		rq = jstr(jobj(e.root, "envelope"), "queue_id");
		act = jstr(e.root, "action");
		if (e.released == NULL && rq != NULL && qhold_qid_ok(rq) &&
		    act != NULL && strcmp(act, "quarantine") == 0 &&
		    !g_hash_table_contains(qheld, rq)) {
			if (missing < 20)
				say(s, "%s: pending, but its hold copy %s is "
				    "not in the hold queue (freed or removed "
				    "in Postfix by hand?)", ids[i], rq);
			missing++;
		}
		qentry_clear(&e);
	}
	if (missing > 20)
		say(s, "... and %u more pending entries without a hold copy",
		    missing - 20);
	s->reported += missing;
	emf_quarantine_ids_free(ids);
	g_hash_table_destroy(qheld);
}

int
qsync_run(const char *store, const struct emf_cfg *cfg, const char *who,
    bool dry, GString *out, char **why)
{
	struct sync s = { store, cfg, who, dry, out, NULL, NULL, 0, 0, 0, 0,
	    0 };
	char *fail;
	int rc;

	*why = NULL;
	if (!qhold_enabled(cfg)) {
		*why = g_strdup("quarantine.postfix_hold is off: nothing to "
		    "keep in step");
		return EX_USAGEERR;
	}
	if (geteuid() != 0) {
		*why = g_strdup("sync reads and removes Postfix queue files "
		    "(postcat, postsuper): run it as root (the shipped timer "
		    "does)");
		return EX_USAGEERR;
	}
	if (!dry && (fail = qaction_audit(store, who, "sync", "*", "started",
	    NULL, NULL, NULL)) != NULL) {
		*why = g_strdup_printf("sync not done: %s", fail);
		g_free(fail);
		return EX_STORE;
	}
	s.held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    g_free);
	s.done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if ((rc = read_hold(&s, why)) == EX_DONE) {
		do_notes(&s);
		do_held(&s);
		do_pending(&s);
		say(&s, "sync: %s %u hold cop%s, %u note%s done, %u reported, "
		    "%u failed", dry ? "would remove" : "removed", s.removed,
		    s.removed == 1 ? "y" : "ies", s.notes,
		    s.notes == 1 ? "" : "s", s.reported, s.failed);
		if (s.audit_failed > 0) {
			*why = g_strdup_printf("%u audit line%s not written",
			    s.audit_failed, s.audit_failed == 1 ? "" : "s");
			rc = EX_STORE;
		} else if (s.failed > 0) {
			*why = g_strdup_printf("%u failure%s", s.failed,
			    s.failed == 1 ? "" : "s");
			rc = EX_DELIVERY;
		}
	}
	g_hash_table_destroy(s.held);
	g_hash_table_destroy(s.done);
	return rc;
}
