/*
 * qmacro.h - the VBA macro source of a quarantined message's documents,
 * for emofilter-quarantine show and emofilter-web's entry page (the
 * report keeps what the macros do, not their text).
 *
 * The files are those of qhash_walk() (attachments and members of zip
 * attachments opened with the report's passwords); in each OLE2 file
 * (a .doc or .xls, or the vbaProject.bin of a .docm or .xlsm) every
 * storage named VBA with a dir stream gives its modules, decompressed
 * ([MS-OVBA]) and made UTF-8 from the project's code page. Bounded: 4096
 * directory entries, 1000 modules, 1 MiB of source per module, 8 MiB in
 * all. The Excel 4.0 macro sheets of a workbook come as one "module",
 * their formulas one cell a line, as the library's BIFF walk decodes
 * them for the scan (office/xlm.h).
 */
#ifndef EMF_QMACRO_H
#define EMF_QMACRO_H

#include <stddef.h>

#include <glib.h>

#include "qstore.h"

struct qmacro {
	char *where;	/* the report object path of the document, or "?" */
	char *module;	/* module name, UTF-8 */
	char *source;	/* UTF-8 */
	bool cut;	/* the source was longer than the cap */
};

/* The macros of the files of msg[0..len) of entry e (struct qmacro *);
 * never NULL. */
GPtrArray *qmacro_sources(const char *msg, size_t len, const struct qentry *e);

/* For show: "Macro source" and each module, its lines escaped for a
 * terminal (qsafe.h) and indented; "" when there is none. Caller frees. */
char *qmacro_render_text(GPtrArray *macros);

#endif /* EMF_QMACRO_H */
