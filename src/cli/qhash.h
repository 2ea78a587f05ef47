/*
 * qhash.h - MD5 and SHA-1 of the files of a quarantined message, for the
 * indicators (the report carries SHA-256 only): the message's attachments
 * (qexport.h) and the members of zip attachments, opened with the
 * passwords the report found, down to three levels.
 *
 * Bounded: a member over 64 MiB, more than 1000 members in a zip or more
 * than 256 MiB read in all are left out (their MD5 and SHA-1 are then
 * simply not given).
 */
#ifndef EMF_QHASH_H
#define EMF_QHASH_H

#include <stddef.h>

#include <glib.h>

#include "qstore.h"

struct qhash {
	char md5[33];
	char sha1[41];
};

/* SHA-256 (hex) -> struct qhash * of the files of msg[0..len) of entry e.
 * Never NULL; free with g_hash_table_destroy(). */
GHashTable *qhash_files(const char *msg, size_t len, const struct qentry *e);

/*
 * Call visit for each of those files, with its bytes and the SHA-256 of
 * the file it was in (NULL for an attachment), in the order found.
 */
typedef void (*qhash_visit)(const void *data, size_t len,
    const char *parent_sha256, void *ud);
void qhash_walk(const char *msg, size_t len, const struct qentry *e,
    qhash_visit visit, void *ud);

#endif /* EMF_QHASH_H */
