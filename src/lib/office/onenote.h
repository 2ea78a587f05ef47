/*
 * onenote.h - OneNote sections (.one, [MS-ONESTORE]): the files they
 * embed.
 *
 * Owns: the OneNote handler (declared in modules.h): every
 * FileDataStoreObject ([MS-ONESTORE] 2.6.13: header GUID
 * {BDE316E7-2665-4511-A4C4-8D4D0B7A9EAC}, cbLength, the file data) is
 * handed to the dispatcher as a child object; embedded file names
 * (the UTF-16 EmbeddedFileName strings) that name an executable or a
 * script raise OFFICE_PACKAGE_EXECUTABLE (the 2023 wave: .hta, .cmd,
 * .wsf behind a fake "double click to view" button).
 * Does not own: what the embedded files are (the dispatcher sniffs
 * them), the section's text.
 *
 * Bounds: at most ONENOTE_FILES_MAX files; a length past the end of the
 * section is cut to what is present (the child is marked truncated); a
 * child holds at most emf_budget_child_cap() bytes; the search is linear
 * and checks the deadline every 64 KiB.
 *
 * LIMITATIONS: the revision store is not walked: objects are found by
 * their GUID, so a file data object that a later revision deleted is
 * still extracted; names are not tied to their files (children are
 * numbered), they are only checked as a set.
 */
#ifndef EMF_ONENOTE_H
#define EMF_ONENOTE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ONENOTE_FILES_MAX 64

/*
 * Call fn for each FileDataStoreObject of d[0..len) with its data (a
 * part of d) and whether its cbLength ran past the end. At most max.
 * Returns how many were found.
 */
unsigned emf_onenote_files(const uint8_t *d, size_t len, unsigned max,
    void (*fn)(void *ctx, const uint8_t *data, size_t n, bool cut),
    void *ctx);

#endif /* EMF_ONENOTE_H */
