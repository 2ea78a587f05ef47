/*
 * modules.h - the entry points the scan driver calls, one block per module.
 *
 * Each module adds its functions here and one line to the tables in
 * engine.c (compiled state) and scan.c (handlers, analysers). Nothing else
 * calls across modules: parsers reach each other only through
 * emf_object_child() and the dispatcher.
 */
#ifndef EMF_MODULES_H
#define EMF_MODULES_H

#include "scan.h"
#include "archive/zipscan.h"

/*
 * mime.c: walk a message, keep its texts and queue its leaf parts as
 * children of parent. parent NULL is the mail itself: its header also
 * fills scan->msg.
 */
void emf_mime_init(void);
void emf_mime_shutdown(void);
void emf_mime_walk(struct emf_scan *scan, struct emf_object *parent,
    const uint8_t *msg, size_t len);

/* archive.c: a zip that is not an Office document. */
void emf_archive_handle(struct emf_scan *scan, struct emf_object *obj,
    struct emf_zip *zip);

/* attach.c: checks on every object whatever its type (names, types). */
void emf_attach_check(struct emf_scan *scan, struct emf_object *obj);

/* ---- passwords ---- */

/* passwords.c: compiled patterns (engine slot EMF_MOD_PASSWORDS). */
bool emf_passwords_init(struct emf_engine *engine, void **state,
    struct emf_error *err);
void emf_passwords_fini(void *state);
/* passwords.c: pre-queue analyser filling scan->passwords. */
void emf_passwords_harvest(struct emf_scan *scan);

/* ---- office ---- */

/* office.c: an OLE2 compound file (.doc .xls .ppt, vbaProject.bin...). */
void emf_office_ole_handle(struct emf_scan *scan, struct emf_object *obj);

/* office.c: a SYLK file (Excel 4.0 macro sheets in text form). */
void emf_office_sylk_handle(struct emf_scan *scan, struct emf_object *obj);

/* office.c: a text file Excel opens as a workbook (.csv by name or
 * declared type): DDE links in its formula cells (=cmd|'/c calc'!A0). */
void emf_office_text_handle(struct emf_scan *scan, struct emf_object *obj);

/* ooxml.c: a zip holding [Content_Types].xml (.docx .xlsm .pptm ...). */
void emf_ooxml_handle(struct emf_scan *scan, struct emf_object *obj,
    struct emf_zip *zip);

/* ooxml.c: an XML file; Word 2003 XML, SpreadsheetML 2003 and flat OPC
 * packages are read (links, DDE, embedded binaries, text). */
void emf_ooxml_flat_handle(struct emf_scan *scan, struct emf_object *obj);

/* rtf.c: an RTF document (OLE objects, packages, DDE fields, text). */
void emf_rtf_handle(struct emf_scan *scan, struct emf_object *obj);

/* onenote.c: a OneNote section (its embedded files). */
void emf_onenote_handle(struct emf_scan *scan, struct emf_object *obj);

/* ---- heuristics, lure, yara ---- */
#include "detect/heuristics.h"
#include "detect/lure.h"
#include "detect/yarascan.h"

/* ---- passwords for the correlation state (store/state.c) ----
 * The PPAP follow-up harvests a later mail's candidates with the same
 * passes (emf_passwords_extract_nfkc, emf_passwords_notice). */
#include "mail/passwords.h"

#endif /* EMF_MODULES_H */
