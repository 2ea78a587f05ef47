/*
 * qaction.h - the actions on an entry that change something (release,
 * delete) and the audit log line each one writes, shared by
 * emofilter-quarantine and emofilter-web so that both refuse, deliver,
 * record and log the same way.
 *
 * Nothing here prints: each call returns an exit status (qstore.h) and,
 * in *why, what went wrong (or, for a release that worked, a note such
 * as an audit-log failure), for the caller to show and g_free().
 */
#ifndef EMF_QACTION_H
#define EMF_QACTION_H

#include <stdbool.h>

#include <glib.h>

#include "emf.h"

/*
 * Append one JSON line {time, action, id, by, [to], [extra_key], result}
 * to the store's audit log. NULL once written, else why not (g_free()).
 */
char *qaction_audit(const char *store, const char *who, const char *action,
    const char *id, const char *result, const char *const *to,
    const char *extra_key, const char *extra_val);

/*
 * Release entry id: to its envelope recipients, or to those of to (char *,
 * may be NULL or empty); a second release only when force. The attempt
 * is audited first ("started"; if the audit log cannot be written,
 * nothing is done: EX_STORE). Then the Postfix hold copy (qhold.h): still
 * held and we are root, it is freed (postsuper -H) and nothing is
 * re-injected; freed by hand already, it is recorded and not sent again;
 * else the stored copy is delivered the way cfg says (qrelease.h) and the
 * hold copy removed (postsuper -d, root) or noted for sync. The outcome
 * is audited (a failure there: EX_STORE) and the .released record
 * written. On EX_DONE *nto is the number of recipients. who names the
 * user (audit log, X-Emofilter-Released header).
 */
int qaction_release(const char *store, const struct emf_cfg *cfg,
    const char *who, const char *id, GPtrArray *to, bool force,
    guint *nto, char **why);

/*
 * Remove entry id (action: "delete" or "purge", for the audit log), and
 * its Postfix hold copy when cfg (may be NULL: store only) says so: by
 * postsuper -d when it is verified to be the entry's and we are root,
 * else noted for sync. Audited first and after, as release is.
 * EX_DONE, EX_NOTFOUND (bad ID, no such entry) or EX_STORE.
 */
int qaction_delete(const char *store, const struct emf_cfg *cfg,
    const char *who, const char *id, const char *action, char **why);

#endif /* EMF_QACTION_H */
