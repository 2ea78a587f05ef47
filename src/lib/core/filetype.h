/*
 * filetype.h - what a byte string is, told from its content.
 *
 * Magic bytes first, never the name or the declared type: those are what
 * an attacker chooses. The name is used only to tell whether it disagrees
 * with the content (FILE_TYPE_MISMATCH) and to spot executable names.
 */
#ifndef EMF_FILETYPE_H
#define EMF_FILETYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum emf_ftype {
	EMF_FT_UNKNOWN = 0,	/* binary data of no known kind */
	EMF_FT_EMPTY,
	EMF_FT_TEXT,
	EMF_FT_HTML,
	EMF_FT_XML,
	EMF_FT_ZIP,
	EMF_FT_OOXML,		/* set by the zip dispatcher */
	EMF_FT_OLE2,
	EMF_FT_RTF,
	EMF_FT_PDF,
	EMF_FT_PE,
	EMF_FT_ELF,
	EMF_FT_MACHO,
	EMF_FT_LNK,
	EMF_FT_ISO,
	EMF_FT_ONENOTE,
	EMF_FT_RAR,
	EMF_FT_7Z,
	EMF_FT_GZIP,
	EMF_FT_BZIP2,
	EMF_FT_XZ,
	EMF_FT_CAB,
	EMF_FT_SYLK,
	EMF_FT_IMAGE,
	EMF_FT_MESSAGE,		/* an RFC 822 message */
	EMF_FT_VBA_SOURCE,	/* macro source text dug out of a document */
	EMF_FT_MAX
};

/* Sniff the type of data[0..len). */
enum emf_ftype emf_filetype_sniff(const uint8_t *data, size_t len);

/* "zip", "ole2", "pe", ... (stable: used in reports and rules). */
const char *emf_filetype_name(enum emf_ftype type);

/* True for names whose extension runs code on a double-click on Windows. */
bool emf_filename_is_executable(const char *name);

/*
 * True when name's extension is one that cannot hold content of the given
 * type (an OLE2 workbook named .xlsm, a PE named .pdf). Names without an
 * extension, and extensions we know nothing about, never mismatch.
 */
bool emf_filename_mismatch(const char *name, enum emf_ftype type);

#endif /* EMF_FILETYPE_H */
