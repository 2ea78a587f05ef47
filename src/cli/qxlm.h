/*
 * qxlm.h - Excel 4.0 (XLM) macro formulas of a BIFF8 workbook as text,
 * for emofilter-quarantine show and emofilter-web's entry page (the
 * report names the macro sheets; this shows what their cells say).
 *
 * The Workbook stream is walked record by record: BOUNDSHEET gives the
 * macro sheets (type 1), LBL the defined names (Auto_Open...), and each
 * FORMULA record of a macro sheet is turned back from its parsed tokens
 * (RPN) into "R1C1: =FUNC(args)". Functions whose number is not in our
 * short table are shown as FN123(...) or CMD123(...) (commands); a
 * formula with a token we do not decode is shown as such, never guessed.
 * Bounded: 16 MiB stream, 100,000 formulas, 64 stack entries, 4 KiB per
 * formula's text. Encrypted (FILEPASS) and pre-BIFF8 workbooks give
 * nothing.
 */
#ifndef EMF_QXLM_H
#define EMF_QXLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/* One macro sheet: its name and its formulas, one per line. */
struct qxlm_sheet {
	char *name;
	GString *text;
};

/* The macro sheets of the BIFF8 stream wb[0..len) (struct qxlm_sheet *,
 * free with qxlm_sheets_free()); never NULL. */
GPtrArray *qxlm_sheets(const uint8_t *wb, size_t len);
void qxlm_sheets_free(GPtrArray *sheets);

#endif /* EMF_QXLM_H */
