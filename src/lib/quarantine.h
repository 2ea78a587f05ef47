/*
 * quarantine.h - the quarantine store: write an entry atomically, read
 * entries back. Layout and guarantees: docs/design.md "Quarantine store".
 *
 * Layout (one tree, owned by the daemon user):
 *   STORE/                 0700
 *     tmp/                 0700  temporary files (same file system)
 *     YYYYMMDD/            0700  the UTC day of the entry's ID
 *       ID.eml             0600  the raw message as received
 *       ID.json            0600  the report (emf_report_json()), written
 *                                after ID.eml: an entry exists iff its
 *                                .json exists, so readers never see half
 *       ID.released        0600  JSON {time, by, to[]} once released
 *     audit.log            0600  append-only: release, delete, purge, export
 * ID: "YYYYMMDDTHHMMSSZ-xxxxxxxx" (UTC time, 8 hex digits), matched
 * strictly before any path is formed from it.
 *
 * Used by the milter (write), emofilter-scan --quarantine (write) and
 * emofilter-quarantine (read, release, delete). Entry files are created
 * O_EXCL|O_NOFOLLOW, mode 0600, under a temporary name, fsynced, renamed,
 * and the directory fsynced; names come from the report ID only, never
 * from message content.
 */
#ifndef EMF_QUARANTINE_H
#define EMF_QUARANTINE_H

#include <stdbool.h>
#include <stddef.h>

#include "emf.h"

/*
 * Store msg[0..len) and its report (JSON text, from emf_report_json()) in
 * the store at dir under id. Creates dir, tmp/ and the day directory
 * (0700) if missing. Safe for concurrent writers in several processes.
 * Returns EMF_OK, or EMF_ERR_IO with err set (disk full, permissions, an
 * entry with that ID exists, a symlink where a directory should be), or
 * EMF_ERR_INTERNAL for an invalid id: the caller must then tempfail the
 * message, never drop it. On failure no part of the entry is left. All
 * arguments are borrowed; err may be NULL.
 */
enum emf_rc emf_quarantine_store(const char *dir, const char *id,
    const void *msg, size_t len, const char *report_json,
    struct emf_error *err);

/*
 * Whether id has exactly the entry ID shape "YYYYMMDDTHHMMSSZ-xxxxxxxx"
 * (digits, lower-case hex). Every path is formed only after this check.
 */
bool emf_quarantine_id_valid(const char *id);

/*
 * "dir/YYYYMMDD/ID.ext" for a valid id, else NULL (ext must not hold a
 * '/'). Caller frees (emf_free()).
 */
char *emf_quarantine_path(const char *dir, const char *id, const char *ext);

#endif /* EMF_QUARANTINE_H */
