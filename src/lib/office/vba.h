/*
 * vba.h - VBA projects ([MS-OVBA]): the compression, the "dir" stream and
 * what a module's source says.
 *
 * Owns: MS-OVBA decompression with an output cap; the dir stream's module
 * records (names, stream names, source offsets, code page); the analysis of
 * module source for auto-run triggers (fixed names, and ActiveX/form
 * control events by pattern: Control_Painted, _MouseMove, _Change...),
 * suspicious keywords, obfuscation and URLs. Does not own: finding the VBA storage in a compound file (office.c)
 * or reading streams (ole.c).
 *
 * LIMITATIONS: the p-code (performance cache) is not decompiled: VBA
 * stomping is seen only when the p-code holds keywords or URLs as text
 * that the decoy source lacks (office.c); the keyword analysis is lexical (it does not parse VBA); module names in
 * exotic code pages fall back to Latin-1.
 */
#ifndef EMF_VBA_H
#define EMF_VBA_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emf.h"

/*
 * Decompress a CompressedContainer ([MS-OVBA] 2.4.1) in[0..len) into
 * *out (g_malloc, NUL-terminated for convenience, caller frees), at most
 * cap bytes. *capped is set when the cap stopped the output. Returns
 * EMF_OK (a chunk that breaks off at the end of the input keeps what was
 * decoded so far), EMF_ERR_FORMAT (no signature byte, a bad chunk
 * signature or a copy token reaching before the chunk start: *out holds
 * what was decoded before the fault, *outlen its length).
 */
enum emf_rc emf_vba_decompress(const uint8_t *in, size_t len, size_t cap,
    uint8_t **out, size_t *outlen, bool *capped);

struct emf_vba_module {
	char *name;		/* UTF-8 */
	char *stream;		/* stream name in the VBA storage, UTF-8 */
	uint32_t offset;	/* source starts here in the stream */
	bool is_class;		/* document or class module */
};

struct emf_vba_project {
	unsigned codepage;	/* PROJECTCODEPAGE, 1252 if absent */
	GPtrArray *modules;	/* struct emf_vba_module * */
};

/*
 * Parse a decompressed dir stream ([MS-OVBA] 2.3.4.2). At most
 * max_modules modules are kept (*capped set if more). Returns EMF_OK with
 * *out (free with emf_vba_project_free()), or EMF_ERR_FORMAT with a detail
 * in *why (g_free) if no module record could be read.
 */
enum emf_rc emf_vba_dir_parse(const uint8_t *dir, size_t len,
    unsigned max_modules, struct emf_vba_project **out, bool *capped,
    char **why);
void emf_vba_project_free(struct emf_vba_project *p);

/* Bytes in code page cp to UTF-8 (g_free); never fails. */
char *emf_vba_to_utf8(const uint8_t *s, size_t len, unsigned cp);

/* What a module's source says. Lists are of char *, owned. */
struct emf_vba_findings {
	GPtrArray *autoexec;
	GPtrArray *suspicious;
	GPtrArray *urls;
};

/*
 * Analyse VBA (or XLM formula) source in UTF-8: auto-run trigger names,
 * suspicious keywords and obfuscation, URLs. Appends to the lists in *f
 * (created on demand, without duplicates, capped).
 */
void emf_vba_analyse(const char *src, size_t len, struct emf_vba_findings *f);
void emf_vba_findings_clear(struct emf_vba_findings *f);

#endif /* EMF_VBA_H */
