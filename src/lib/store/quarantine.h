/*
 * quarantine.h - the quarantine store: write an entry atomically, read
 * entries back. Layout and guarantees: docs/design.md "Quarantine store".
 *
 * Layout (one tree, owned by the daemon user, group the CSIRT group):
 *   STORE/                 2750  (or 0700: a private store, no group)
 *     tmp/                 2750  temporary files (same file system)
 *     YYYYMMDD/            2750  the UTC day of the entry's ID
 *       ID.eml             0640  the raw message as received
 *       ID.json            0640  the report (emf_report_json()), written
 *                                after ID.eml: an entry exists iff its
 *                                .json exists, so readers never see half
 *       ID.released        0640  JSON {time, by, to[]} once released
 *     audit.log            0640  append-only: release, delete, purge, export
 *       ID.hold            0640  a note: its Postfix hold copy is still
 *                                to remove (emofilter-quarantine sync);
 *                                may outlive the entry
 * Directories below STORE take STORE's mode less anything beyond 02750;
 * every file and directory made by root (the review tool under sudo) is
 * given to STORE's owner and group, so the daemon, root and the CSIRT
 * group (read only) all read every entry whoever wrote it.
 * ID: "YYYYMMDDTHHMMSSZ-xxxxxxxx" (UTC time, 8 hex digits), matched
 * strictly before any path is formed from it.
 *
 * Used by the milter (write), emofilter-scan --quarantine (write) and
 * emofilter-quarantine (read, release, delete).
 *
 * LIMITATIONS: one host (temporary names use the PID); the store must be
 * on a local POSIX file system (link() and fsync() semantics); an entry
 * is removed .json first, so a crash during removal can leave an orphan
 * .eml that list ignores. Entry files are created
 * O_EXCL|O_NOFOLLOW, mode 0640, under a temporary name, fsynced, renamed,
 * and the directory fsynced; names come from the report ID only, never
 * from message content.
 */
#ifndef EMF_QUARANTINE_H
#define EMF_QUARANTINE_H

#include <stdbool.h>
#include <stddef.h>

#include "emf.h"

/* The mode of every file of the store. */
#define EMF_QUARANTINE_FILE_MODE 0640

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

/* ---- reading and maintenance (emofilter-quarantine) ------------------ */

/*
 * Whether the store at dir may be used: it exists, is a directory (not a
 * symlink), grants no write to its group and nothing to others (2750,
 * 0750 or 0700), and belongs to the effective user (or we are root); for
 * reading only (!write), a member of its group will do when the group
 * may read it. EMF_ERR_IO with err set (saying what to do) otherwise.
 * emf_quarantine_check() is emf_quarantine_check_access(dir, true, err).
 */
enum emf_rc emf_quarantine_check_access(const char *dir, bool write,
    struct emf_error *err);
enum emf_rc emf_quarantine_check(const char *dir, struct emf_error *err);

/*
 * The IDs of all entries (those whose .json exists), newest first, as a
 * NULL-terminated array in *ids (free with emf_quarantine_ids_free()); *n
 * is its length. Names that are not entry IDs are ignored.
 */
enum emf_rc emf_quarantine_list(const char *dir, char ***ids, size_t *n,
    struct emf_error *err);
void emf_quarantine_ids_free(char **ids);

/* Whether the entry id exists (its .json is there); false for bad IDs. */
bool emf_quarantine_exists(const char *dir, const char *id);

/*
 * Read file ID.ext of an entry whole (a regular file, not followed through
 * a symlink, at most max bytes). *data is NUL-terminated and owned by the
 * caller (emf_free()). A file with group write or any bit for others is
 * refused (EMF_ERR_IO). EMF_ERR_FORMAT when the file does not exist,
 * EMF_ERR_LIMIT when larger than max, EMF_ERR_IO on other failures.
 */
enum emf_rc emf_quarantine_read(const char *dir, const char *id,
    const char *ext, size_t max, char **data, size_t *len,
    struct emf_error *err);

/*
 * Write file ID.ext of an existing entry atomically, replacing any
 * previous one (used for the .released record).
 */
enum emf_rc emf_quarantine_put(const char *dir, const char *id,
    const char *ext, const void *data, size_t len, struct emf_error *err);

/*
 * A note beside entry id (ID.ext, ext not one of the entry's own files),
 * which may outlive the entry: written like emf_quarantine_put() but
 * without the entry (its day directory made if missing), listed (IDs
 * that have one, like emf_quarantine_list()) and removed (EMF_ERR_FORMAT
 * if it is not there; an emptied day directory goes too). Used for the
 * Postfix hold copies still to remove ("hold": emofilter-quarantine sync).
 */
enum emf_rc emf_quarantine_put_note(const char *dir, const char *id,
    const char *ext, const void *data, size_t len, struct emf_error *err);
enum emf_rc emf_quarantine_list_notes(const char *dir, const char *ext,
    char ***ids, size_t *n, struct emf_error *err);
enum emf_rc emf_quarantine_remove_note(const char *dir, const char *id,
    const char *ext, struct emf_error *err);

/*
 * Remove an entry: the .json first (the entry disappears at once), then
 * the .released record and the message. EMF_ERR_FORMAT if it does not
 * exist.
 */
enum emf_rc emf_quarantine_remove(const char *dir, const char *id,
    struct emf_error *err);

/*
 * Append one line (a '\n' is added) to STORE/audit.log (0640) with a
 * single write() and fsync it, so concurrent tools never interleave.
 */
enum emf_rc emf_quarantine_audit(const char *dir, const char *line,
    struct emf_error *err);

/*
 * Append one line (a '\n' is added; any control character in it becomes
 * '?') to the history of entry id, ID.history (0640, with the store's
 * owner and group like the entry's files; at most
 * EMF_QUARANTINE_HISTORY_MAX bytes, then "history full"; created with its
 * day directory if need be: a held mail's first line may come before the
 * entry is written), with a single write() of an O_APPEND file, fsynced:
 * concurrent writers never interleave. Lines are "TIME EVENT: DETAIL"
 * (held, resolved, released, kept, expired), written by the milter's
 * correlation (src/milter/correlate.c); emofilter-quarantine show prints
 * them. EMF_ERR_INTERNAL for an invalid id.
 */
#define EMF_QUARANTINE_HISTORY_MAX (1024 * 1024)
enum emf_rc emf_quarantine_history(const char *dir, const char *id,
    const char *line, struct emf_error *err);

/*
 * Remove files in STORE/tmp older than max_age seconds (left by a writer
 * that crashed); *removed counts them. Never touches entries.
 */
enum emf_rc emf_quarantine_clean_tmp(const char *dir, long max_age,
    unsigned *removed, struct emf_error *err);

#endif /* EMF_QUARANTINE_H */
