/*
 * zipscan.h - zip archives read from memory (libzip's only user).
 *
 * A thin, bounded reader: list entries, read one entry with a byte cap
 * that counts the bytes actually produced (header sizes are never
 * trusted) and a deadline, optionally with a password (ZipCrypto or WinZip
 * AES). The archive handler (archive.c) and the OOXML handler (ooxml.c)
 * are built on it. The zip borrows the caller's bytes: they must outlive
 * it.
 *
 * emf_zip_check() walks the central directory itself (libzip does not
 * expose local header offsets) to find what libzip tolerates but a
 * scanner must not: entries whose data overlap (Fifield's zip bomb),
 * entries running outside the data or into the central directory, a
 * count that disagrees with the end record, duplicate names, names that
 * would escape an extraction directory. [APPNOTE 4.3.6-4.3.16, 4.5.3]
 *
 * LIMITATIONS: split/spanned archives are read as far as libzip can; an
 * archive libzip refuses to open is not listed at all (its entries are not
 * recovered from the local headers); entry i of libzip and record i of
 * the central directory are assumed to be the same entry (libzip reads
 * the directory in order); a wrong ZipCrypto password that passes the
 * one-byte check is caught by inflate or the CRC only when the whole entry
 * is read, not when the read stops at the cap.
 */
#ifndef EMF_ZIPSCAN_H
#define EMF_ZIPSCAN_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emf.h"

struct emf_zip;

struct emf_zip_entry {
	const char *name;	/* UTF-8 (guessed for legacy encodings) */
	uint64_t size;		/* declared uncompressed size */
	uint64_t comp_size;	/* declared compressed size */
	uint16_t method;	/* ZIP compression method number */
	bool encrypted;
	const char *encryption;	/* "ZipCrypto", "AES-128", ... or NULL */
	bool is_dir;
	uint32_t crc;
};

enum emf_zip_read {
	EMF_ZIP_OK = 0,		/* whole entry read */
	EMF_ZIP_TRUNCATED,	/* stopped at the cap: a leading part */
	EMF_ZIP_NEED_PASSWORD,	/* encrypted and no password given */
	EMF_ZIP_BAD_PASSWORD,	/* password rejected or data did not check */
	EMF_ZIP_UNSUPPORTED,	/* compression or encryption we cannot do */
	EMF_ZIP_TIMEOUT,	/* deadline passed while reading */
	EMF_ZIP_CORRUPT,	/* the data is broken */
	EMF_ZIP_NOMEM
};

/*
 * Open data[0..len) as a zip. Returns EMF_OK, or EMF_ERR_FORMAT with a
 * detail in *why (g_free) when it is not a readable zip.
 */
enum emf_rc emf_zip_open(const uint8_t *data, size_t len,
    struct emf_zip **out, char **why);
void emf_zip_close(struct emf_zip *zip);

size_t emf_zip_count(const struct emf_zip *zip);

/* Fill *e for entry i (strings borrowed from zip). False if i is bad. */
bool emf_zip_entry(const struct emf_zip *zip, size_t i,
    struct emf_zip_entry *e);

/* Index of the entry named name (ASCII case-insensitive), or -1. */
long emf_zip_find(const struct emf_zip *zip, const char *name);

/*
 * Read entry i: at most cap bytes into *out (g_malloc, caller frees; set
 * for EMF_ZIP_OK and EMF_ZIP_TRUNCATED only), stopping at deadline_us
 * (g_get_monotonic_time() scale, 0 = none). password may be NULL.
 */
enum emf_zip_read emf_zip_read(struct emf_zip *zip, size_t i,
    const char *password, size_t cap, gint64 deadline_us, uint8_t **out,
    size_t *outlen);

const char *emf_zip_read_str(enum emf_zip_read r);

/* Structural flaws found by emf_zip_check() (bits). */
enum emf_zip_flaw {
	EMF_ZIP_FLAW_CD = 1u << 0,	/* directory unreadable or misplaced */
	EMF_ZIP_FLAW_COUNT = 1u << 1,	/* end record count != records */
	EMF_ZIP_FLAW_LOCAL = 1u << 2,	/* local header missing or cut */
	EMF_ZIP_FLAW_OUTSIDE = 1u << 3,	/* data past the end or into the CD */
	EMF_ZIP_FLAW_OVERLAP = 1u << 4,	/* data shared with another entry */
	EMF_ZIP_FLAW_DUPNAME = 1u << 5,	/* the same name twice */
	EMF_ZIP_FLAW_UNSAFE_NAME = 1u << 6 /* absolute, "..", drive, NUL */
};

/*
 * Walk the central directory of the bytes zip was opened on, reading at
 * most max_entries records, and record the flaws of the archive and of
 * each entry. Returns the union of the flaws (0: none found). *detail,
 * if not NULL, gets a sentence naming the first flaws (g_free), or NULL
 * when there are none. Runs once per zip; later calls return the same.
 * Cost: linear in the directory size, memory O(records).
 */
unsigned emf_zip_check(struct emf_zip *zip, size_t max_entries,
    char **detail);

/* The flaws of entry i found by emf_zip_check() (0 before it ran). */
unsigned emf_zip_entry_flaws(const struct emf_zip *zip, size_t i);

/* Records the directory holds beyond max_entries (0 when all were read). */
uint64_t emf_zip_unchecked(const struct emf_zip *zip);

/* True when name would leave an extraction directory (zip-slip). */
bool emf_zip_name_unsafe(const char *name, size_t len);

#endif /* EMF_ZIPSCAN_H */
