/*
 * qsync.h - emofilter-quarantine sync: the store and Postfix's hold queue
 * brought back in step (qhold.h), meant for root from a timer
 * (contrib/systemd/emofilter-quarantine-sync.timer).
 *
 *   - a note left by a release or delete done without root (ID.hold):
 *     the hold copy, if still held and verified to be the entry's, is
 *     removed (postsuper -d), then the note;
 *   - a hold copy of a released entry (verified: its queue ID is the
 *     one recorded and its X-Emofilter-ID is the entry's): removed;
 *   - a hold copy whose X-Emofilter-ID names no entry of the store, and a
 *     pending entry with no hold copy: only reported, never changed.
 * Every removal is audited ("sync"); the run is audited first, and if the
 * audit log cannot be written nothing is done. With dry, nothing is
 * changed and what would be done is said.
 */
#ifndef EMF_QSYNC_H
#define EMF_QSYNC_H

#include <stdbool.h>

#include <glib.h>

#include "emf.h"

/*
 * Run sync; each line of what was done or found is appended to out.
 * Returns an exit status (qstore.h): EX_DONE, EX_STORE (store or audit
 * log), EX_DELIVERY (a Postfix tool failed), EX_USAGEERR (not root, or
 * quarantine.postfix_hold off); *why says why when not EX_DONE.
 */
int qsync_run(const char *store, const struct emf_cfg *cfg, const char *who,
    bool dry, GString *out, char **why);

#endif /* EMF_QSYNC_H */
