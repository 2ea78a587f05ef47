/*
 * qexport.h - the writer side of emofilter-quarantine export: the raw
 * message and its attachments in a zip whose every member is encrypted
 * (AES-256, password "infected", the convention for sharing samples),
 * with a manifest that ties each file to the report.
 *
 * This is the one place outside src/lib that touches libzip (to write; the
 * library's zipscan.c only reads) and GMime (to cut the attachments out of
 * the stored message again: the store keeps the raw message, not the
 * parts). Nothing here is opened or rendered.
 *
 * LIMITATIONS: attachments are the message's MIME leaf parts that carry a
 * file name or are not text, and attached messages (message/rfc822), at
 * the top level only: archive members are inside their archive, as sent.
 */
#ifndef EMF_QEXPORT_H
#define EMF_QEXPORT_H

#include <stddef.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#define QEXPORT_PASSWORD "infected"

/* One file cut out of the message. */
struct qexport_part {
	char *name;		/* safe member name "attachments/2-x.zip" */
	char *orig_name;	/* file name as given, UTF-8, or NULL */
	GBytes *data;
	char sha256[65];
};

/*
 * The attachments of msg[0..len) as struct qexport_part * (free with
 * qexport_parts_free()). Never NULL.
 */
GPtrArray *qexport_parts(const char *msg, size_t len);
void qexport_parts_free(GPtrArray *parts);

/*
 * MANIFEST.txt for the export of entry id: the message and each part with
 * SHA-256, size and member name, the part's original name (escaped for a
 * terminal) and the path of the report object with the same SHA-256
 * (objects: the report's "objects", may be NULL). Caller frees.
 */
char *qexport_manifest(const char *id, const char *msg, size_t len,
    GPtrArray *parts, JsonArray *objects);

/*
 * Write a new zip at path (which must not exist; mode 0600) holding
 * "ID.eml" = msg, every part under its name, and "MANIFEST.txt" =
 * manifest, each encrypted with AES-256 and QEXPORT_PASSWORD. Returns
 * NULL on success, else an error message (g_free()); a failed export
 * leaves no file.
 */
char *qexport_write(const char *path, const char *id, const char *msg,
    size_t len, GPtrArray *parts, const char *manifest);

#endif /* EMF_QEXPORT_H */
