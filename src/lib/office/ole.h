/*
 * ole.h - a bounded reader of Compound File Binary files ([MS-CFB]), the
 * OLE2 container of legacy Office documents (.doc .xls .ppt .dot .xlt),
 * of vbaProject.bin and of encrypted OOXML packages.
 *
 * Owns: the header, the FAT / mini FAT / DIFAT, the directory and the
 * storage tree; reading one stream into a new buffer with a byte cap.
 * Does not own: what the streams mean (vba.c, xlm.c, office.c).
 *
 * Why not libgsf: measured on libgsf 1.14.50 (Debian 12), its OLE2
 * reader refuses inconsistent FAT counts cleanly, but gsf_vba_inflate()
 * has no output cap: a 1.5 MB MS-OVBA container of repeated 6-byte
 * chunks came out as 342 MB (8.5 s, 345 MB RSS), with one g_warning()
 * per chunk on stderr (250,000 lines). Neither reader takes a
 * per-stream byte cap or a directory-entry cap, and problems go to
 * stderr instead of being returned. Hostile input is our normal input,
 * so we read the format ourselves (it is small) with every bound explicit:
 *   - the file is in memory; every sector offset is checked against it;
 *   - the FAT holds at most one entry per sector present in the file;
 *   - every chain walk marks visited sectors, so a loop ends the chain;
 *   - the directory is cut at max_entries; the storage tree is walked
 *     iteratively with a visited map, so cycles and depth cannot hurt;
 *   - a stream read stops at the caller's cap.
 *
 * LIMITATIONS: sectors past the end of the file end a chain (a truncated
 * file yields what is present, flagged short); the transaction signature,
 * CLSIDs, timestamps and the red-black colours are ignored; names are
 * compared ASCII case-insensitively, not with the spec's upper-casing
 * table.
 */
#ifndef EMF_OLE_H
#define EMF_OLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emf.h"

#define EMF_OLE_MAGIC "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"

enum emf_ole_type {
	EMF_OLE_EMPTY = 0,
	EMF_OLE_STORAGE = 1,
	EMF_OLE_STREAM = 2,
	EMF_OLE_ROOT = 5
};

struct emf_ole_entry {
	char *name;		/* UTF-8, owned by the reader */
	uint8_t type;		/* enum emf_ole_type */
	uint32_t left, right, child;
	uint32_t start;		/* first sector */
	uint64_t size;		/* stream size in bytes */
	long parent;		/* index of the storage, -1 if unreachable */
};

/* What emf_ole_read() got. */
enum emf_ole_read {
	EMF_OLE_READ_OK = 0,	/* the whole stream */
	EMF_OLE_READ_CAPPED,	/* stopped at the cap: a leading part */
	EMF_OLE_READ_SHORT	/* the chain ended or broke early */
};

struct emf_ole;

/*
 * Open data[0..len) (borrowed: must outlive the reader). At most
 * max_entries directory entries are read (*dir_capped is set if more
 * existed; may be NULL). Returns EMF_OK, EMF_ERR_FORMAT with a detail in
 * *why (g_free) when it is not a usable compound file, EMF_ERR_NOMEM.
 * Problems that still leave a usable file (a broken FAT chain, a
 * directory loop) are noted in emf_ole_warning().
 */
enum emf_rc emf_ole_open(const uint8_t *data, size_t len,
    unsigned max_entries, struct emf_ole **out, bool *dir_capped,
    char **why);
void emf_ole_free(struct emf_ole *ole);

/* The first structural problem met so far, or NULL (borrowed). */
const char *emf_ole_warning(const struct emf_ole *ole);

size_t emf_ole_count(const struct emf_ole *ole);

/* Entry i (borrowed), or NULL if i is out of range. */
const struct emf_ole_entry *emf_ole_entry(const struct emf_ole *ole,
    size_t i);

/*
 * Index of the child of storage parent (0 = root) named name, ASCII
 * case-insensitive, or -1.
 */
long emf_ole_child(const struct emf_ole *ole, long parent, const char *name);

/* Follow a "/"-separated path from the root ("Macros/VBA/dir"), or -1. */
long emf_ole_path(const struct emf_ole *ole, const char *path);

/*
 * Read stream i: at most cap bytes into *out (g_malloc, caller frees;
 * never NULL on EMF_OK, also for an empty stream; set to NULL and *outlen
 * to 0 on error). Returns EMF_OK with *how telling
 * whether all of it was read, EMF_ERR_FORMAT if i is not a stream,
 * EMF_ERR_NOMEM.
 */
enum emf_rc emf_ole_read(struct emf_ole *ole, size_t i, size_t cap,
    uint8_t **out, size_t *outlen, enum emf_ole_read *how);

#endif /* EMF_OLE_H */
