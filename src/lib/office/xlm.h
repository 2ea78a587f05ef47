/*
 * xlm.h - Excel 4.0 (XLM) macro sheets: a walk over the records of a BIFF
 * workbook stream ([MS-XLS] 2.1.4), and the SYLK form.
 *
 * Owns: the record walk over the "Workbook" (BIFF8) or "Book" (BIFF5/7)
 * stream or a lone BIFF2-4 file: sheet names and types (BoundSheet8,
 * [MS-XLS] 2.4.28), substream types (BOF, 2.4.21), Auto_Open-style defined
 * names (Lbl, 2.4.150), encryption (FilePass, 2.4.117), the formulas of
 * macro sheets (Formula, 2.4.127, decoded from their parsed tokens).
 * SYLK (.slk) macro sheets (the "O;...;E" record) and names.
 * Does not own: finding the stream (office.c), decrypting it.
 *
 * LIMITATIONS: shared and array formulas (PtgExp, PtgArray) are named,
 * not expanded; PtgExtended (BIFF8 chart tokens) ends a formula's
 * decoding; values computed at run time (SET.VALUE, FORMULA writing a
 * cell) are not emulated, only what the tokens say is shown; after a
 * FilePass record the record bodies are encrypted, so sheet names
 * and defined names are no longer read, but the clear-text BOF of every
 * substream still tells a macro sheet.
 */
#ifndef EMF_XLM_H
#define EMF_XLM_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct emf_biff_info {
	unsigned biff;		/* 8, 5 (also 7), 4, 3, 2; 0 if unknown */
	GPtrArray *macro_sheets;	/* char *: "name" or "name (hidden)" */
	GPtrArray *auto_names;	/* char *: "Auto_Open", ... */
	unsigned vba_sheets;	/* BIFF5 VBA module sheets (dt 6) */
	bool encrypted;
	const char *encryption;	/* "XOR", "RC4", "RC4 CryptoAPI" (static) */
	bool malformed;		/* a record ran off the end */
	/*
	 * The formulas of the macro sheets, decoded from their parsed
	 * tokens ([MS-XLS] 2.5.198), one cell a line: "A1: =EXEC(\"calc\")".
	 * Literal concatenations and CHAR() of a constant are folded, so
	 * "po"&"wer"&CHAR(115) reads "pows". NULL when there were none;
	 * cut at EMF_XLM_TEXT_MAX bytes (formulas_cut set).
	 */
	GString *formulas;
	unsigned nformulas;
	bool formulas_cut;
	GPtrArray *names;	/* char *: every defined name, by index - 1 */
};

#define EMF_XLM_TEXT_MAX (1024u * 1024)

/*
 * Decode one parsed formula rgce[0..len) (BIFF8 when biff == 8, BIFF12
 * when 12, else the BIFF5 token sizes) into out, as Excel shows it without the "=". names
 * (may be NULL) resolves PtgName. Returns false when a token could not
 * be read (out then holds what was decoded, tokens in order).
 */
bool emf_xlm_formula(const uint8_t *rgce, size_t len, unsigned biff,
    const GPtrArray *names, GString *out);

/*
 * The formulas of a BIFF12 macro sheet part (the xl/macrosheets/ parts of an
 * .xlsb: BrtFmlaString/Num/Bool/Error cells, [MS-XLSB] 2.4.*), one cell a
 * line as for BIFF8, appended to out until EMF_XLM_TEXT_MAX. names
 * resolves PtgName (may be NULL). Returns how many were decoded.
 */
unsigned emf_xlsb_formulas(const uint8_t *d, size_t len,
    const GPtrArray *names, GString *out);

/* The defined names (BrtName) of an xl/workbook.bin: kept in info->names,
 * Auto_Open-style ones in info->auto_names. */
void emf_xlsb_names(const uint8_t *d, size_t len, struct emf_biff_info *info);

/*
 * The DDE links of an .xlsb external-link part (a .bin part under
 * xl/externalLinks/: BrtBeginSupBook records of type DDE, [MS-XLSB]
 * 2.4.158): one field code "DDE SERVICE TOPIC" each (g_free'd strings)
 * appended to out, at most max. Returns how many.
 */
unsigned emf_xlsb_dde_links(const uint8_t *d, size_t len, GPtrArray *out,
    unsigned max);

/*
 * The XLM-specific findings of formula text (decoded BIFF, SYLK or
 * .xlsm): calls of EXEC, CALL, REGISTER, RUN, FORMULA, FORMULA.FILL...,
 * heavy CHAR() use. Appends to *suspicious (created on demand, no
 * duplicates).
 */
void emf_xlm_analyse(const char *src, size_t len, GPtrArray **suspicious);

/*
 * Walk the BIFF records of d[0..len). Fills *info (lists created on
 * demand; release with emf_biff_info_clear()). Returns false if d does not
 * start with a BOF record (not a BIFF stream).
 */
bool emf_biff_walk(const uint8_t *d, size_t len, struct emf_biff_info *info);
void emf_biff_info_clear(struct emf_biff_info *info);

/* Add name to info->auto_names if Excel would run it (Auto_Open...). */
void emf_xlm_check_name(struct emf_biff_info *info, const char *name);

/*
 * Look at a SYLK file d[0..len): true if it is a macro sheet (an "O"
 * record with the E field) or defines an Auto_Open-style name; the names
 * go to info->auto_names. formulas, if not NULL, receives the text of
 * the formula fields (the "E..." of "C" records), for the keyword
 * analysis.
 */
bool emf_sylk_macro(const uint8_t *d, size_t len, struct emf_biff_info *info,
    GString *formulas);

#endif /* EMF_XLM_H */
