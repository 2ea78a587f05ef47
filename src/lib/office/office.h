/*
 * office.h - legacy Office documents (OLE2 compound files) and SYLK: what
 * the scanner reports about them, and the text they show the reader.
 *
 * Owns: the OLE2 and SYLK handlers (declared in modules.h): format,
 * encryption detection (EncryptedPackage, Excel FilePass, Word fEncrypted,
 * PowerPoint encrypted Current User), the VBA projects of every "VBA"
 * storage (modules, source, triggers, keywords, URLs, SHA-256, stomping,
 * the text of UserForm controls), Excel 4.0 macro sheets and their
 * decoded formulas (xlm.c), the VBA storages PowerPoint keeps
 * zlib-compressed inside its "PowerPoint Document" stream, embedded OLE
 * objects (Ole10Native packages, Package streams: handed back to the
 * dispatcher as child objects; Equation Editor objects), Word field codes
 * (DDE), and the readable text of the main streams.
 * Does not own: OOXML (ooxml.c), the container format (ole.c), MS-OVBA
 * (vba.c), the lure phrases (lure.c matches EMF_TEXT_DOCUMENT texts).
 *
 * LIMITATIONS: encrypted documents are detected, not decrypted (the VBA
 * storage of an encrypted .xls is stored in clear and is still read);
 * document text is taken as UTF-16LE and 8-bit runs of the main streams,
 * not through the Word piece table or the Excel SST, so it may hold some
 * noise and strings split across records; it is cut at limits.text_bytes.
 */
#ifndef EMF_OFFICE_H
#define EMF_OFFICE_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "core/scan.h"
#include "xlm.h"

/*
 * Append the readable runs of d[0..len) to out, one run a line: UTF-16LE
 * runs of at least 4 letters (Latin, Greek, Cyrillic, CJK, kana, Hangul,
 * full-width forms) at both byte alignments, and 8-bit runs of at least 5
 * printable bytes read as windows-1252. Stops when out reaches cap bytes.
 */
void emf_office_text_runs(const uint8_t *d, size_t len, GString *out,
    size_t cap);

/*
 * The zlib-compressed embedded OLE storages (ExOleObjStg, [MS-PPT]
 * 2.10.34) of a "PowerPoint Document" stream: calls fn for each one that
 * inflates to a compound file, with a new buffer (g_malloc) fn must take
 * or free. At most cap bytes per object and max objects. Returns how many
 * were found.
 */
unsigned emf_office_ppt_storages(const uint8_t *d, size_t len, size_t cap,
    unsigned max, void (*fn)(void *ctx, uint8_t *data, size_t len),
    void *ctx);

/*
 * Record one macro (a VBA module, or the formulas of an XLM sheet) on
 * obj: its SHA-256, triggers, keywords and URLs (struct emf_macro), the
 * MACRO_AUTOEXEC / MACRO_SUSPICIOUS / MACRO_URL symbols, and the source as
 * an EMF_TEXT_MACRO text for YARA and the heuristics. src is UTF-8,
 * borrowed.
 */
void emf_office_macro_report(struct emf_scan *scan, struct emf_object *obj,
    const char *module, const char *src, size_t len, bool is_xlm);

/* Record macro sheets (XLM_MACRO) and Auto_Open-style names of bi. */
void emf_office_xlm_report(struct emf_scan *scan, struct emf_object *obj,
    const struct emf_biff_info *bi);

/*
 * One Word field code (the instruction of a field: "DDEAUTO c:\\cmd.exe
 * \"/c calc\""), from a .doc, .docx or RTF. A DDE or DDEAUTO field is
 * recorded as an external link; one whose server is not an Office
 * application (it launches a program) raises OFFICE_DDE, and its text
 * goes to YARA as macro text. Returns true for a DDE field.
 */
bool emf_office_field_code(struct emf_scan *scan, struct emf_object *obj,
    const char *code, size_t len);

/*
 * The field codes of a binary Word stream: each run from a field-begin
 * mark (0x13) to its separator (0x14) or end (0x15), 8-bit or UTF-16LE,
 * handed to emf_office_field_code(). At most max fields.
 */
void emf_office_doc_fields(struct emf_scan *scan, struct emf_object *obj,
    const uint8_t *d, size_t len, unsigned max);

/*
 * A URI scheme that makes Office or Windows run something (ms-msdt:,
 * search-ms:, mhtml:, ms-officecmd: ...): its name (static), else NULL.
 */
const char *emf_office_dangerous_scheme(const char *uri);

#endif /* EMF_OFFICE_H */
