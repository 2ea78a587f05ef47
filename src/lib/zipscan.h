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
 * LIMITATIONS: split/spanned archives are read as far as libzip can.
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

#endif /* EMF_ZIPSCAN_H */
