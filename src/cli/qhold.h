/*
 * qhold.h - the Postfix hold copy of a quarantined mail, kept in step with
 * the store: the milter holds the mail (smfi_quarantine) and stores it,
 * and the report records Postfix's queue ID (envelope.queue_id). Release
 * frees the hold copy (postsuper -H, then postqueue -i) when it is still
 * there, delete and purge remove it (postsuper -d).
 *
 * A queue file is taken as the entry's only when its queue ID is the one
 * recorded and its header carries the entry's "X-Emofilter-ID: ID" (the
 * milter removes any such header that came with the mail, then adds its
 * own), read with postcat -h -q: a reused queue ID never makes us touch
 * another message. Reading queue files and postsuper need root; the
 * queue listing (postqueue -j) does not. Without root nothing is changed
 * in Postfix: the caller re-injects and leaves a note beside the entry
 * (DAY/ID.hold, quarantine.h) for "emofilter-quarantine sync", run by
 * root from a timer.
 *
 * Settings: quarantine.postfix_hold (off: none of this), .postfix_bin
 * (where postsuper, postcat and postqueue are), .postfix_config (their
 * -c DIR, "" for Postfix's default). Nothing here prints.
 */
#ifndef EMF_QHOLD_H
#define EMF_QHOLD_H

#include <stdbool.h>

#include <glib.h>

#include "emf.h"

enum qhold_where {
	QHOLD_HELD,		/* in the hold queue, and the entry's */
	QHOLD_LEFT,		/* the entry's, but in another queue (freed by
				 * hand, on its way out) */
	QHOLD_GONE,		/* no queue file with that ID */
	QHOLD_OTHER,		/* a queue file with that ID, not the entry's */
	QHOLD_UNKNOWN		/* cannot tell (not root, Postfix down, ...) */
};

/* Whether s looks like a Postfix queue ID (short or long form). */
bool qhold_qid_ok(const char *s);

/* Whether the settings ask for the hold copy to be kept in step. */
bool qhold_enabled(const struct emf_cfg *cfg);

/*
 * Where queue file qid is, and whether it is entry id's. *queue (may be
 * NULL) gets its queue name when known (g_free()); *why why UNKNOWN.
 */
enum qhold_where qhold_find(const struct emf_cfg *cfg, const char *qid,
    const char *id, char **queue, char **why);

/* postsuper -H qid, then postqueue -i qid. NULL once done, else why. */
char *qhold_release(const struct emf_cfg *cfg, const char *qid);

/* postsuper -d qid. NULL once done, else why. */
char *qhold_delete(const struct emf_cfg *cfg, const char *qid);

/*
 * The hold queue: queue IDs (char *, g_free) of the messages in it, from
 * postqueue -j. NULL with *why set when it cannot be listed.
 */
GPtrArray *qhold_list(const struct emf_cfg *cfg, char **why);

/*
 * The X-Emofilter-ID of queue file qid (root), or NULL: none, not
 * readable (*why set when it could not be read).
 */
char *qhold_entry_id(const struct emf_cfg *cfg, const char *qid,
    char **why);

/* ---- ID.hold notes: hold copies left for sync ---- */

/*
 * Note that entry id's hold copy qid should go (after a release by
 * re-injection or a delete done without root). NULL or why not.
 */
char *qhold_pending_add(const char *store, const char *id, const char *qid,
    const char *action);

/* The pending notes: entry IDs (g_free); NULL and *why on error. */
GPtrArray *qhold_pending_list(const char *store, char **why);

/* The queue ID in entry id's note (g_free), or NULL. */
char *qhold_pending_qid(const char *store, const char *id);

/* Remove entry id's note; NULL or why not. */
char *qhold_pending_remove(const char *store, const char *id);

#endif /* EMF_QHOLD_H */
