/*
 * spool.h - one message as the milter receives it, rebuilt byte for byte.
 *
 * Owns: the raw message of one SMTP transaction: header lines
 * ("Name:" + value as received, which with SMFIP_HDR_LEADSPC keeps its
 * leading space), the empty line, then the body chunks. Bytes stay in
 * memory up to a cap, then spill to a private temp file (0600, unlinked at
 * once, so nothing is left behind by a crash). At the end of the message
 * the spool hands out the whole message as bytes (and, when asked, as a
 * file descriptor), for the scanner worker and the quarantine store.
 *
 * Does not: parse anything, or know about libmilter (so it is unit-tested
 * on its own, tests/unit/check_spool.c).
 *
 * LIMITATIONS: a message larger than max_bytes is not kept: appends after
 * the cap are counted but dropped, and emf_spool_oversize() says so; the
 * caller then applies its oversize policy. Line ends are written as the
 * MTA gives them: CRLF for the milter body; header lines get CRLF, and
 * bare LFs inside folded header values become CRLF.
 */
#ifndef EMF_SPOOL_H
#define EMF_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emf.h"

struct emf_spool;

/*
 * A new empty spool: up to mem_cap bytes in memory, then a temp file in
 * tmpdir; at most max_bytes kept. Returns NULL on allocation failure.
 * Owned by the caller (emf_spool_free()).
 */
struct emf_spool *emf_spool_new(size_t mem_cap, size_t max_bytes,
    const char *tmpdir);
void emf_spool_free(struct emf_spool *sp);

/* Append raw bytes. EMF_ERR_IO when spilling fails (errno set). */
enum emf_rc emf_spool_append(struct emf_spool *sp, const void *p,
    size_t len);
/* Append "name:value\r\n" (value taken as is, LFs made CRLF). */
enum emf_rc emf_spool_header(struct emf_spool *sp, const char *name,
    const char *value);

/* Total bytes offered (kept or not). */
uint64_t emf_spool_size(const struct emf_spool *sp);
/* True when more than max_bytes were offered. */
bool emf_spool_oversize(const struct emf_spool *sp);
/* True once the spool went to a temp file. */
bool emf_spool_on_disk(const struct emf_spool *sp);

/*
 * Finish and expose the message: *data points at len bytes valid until
 * emf_spool_free() (the memory buffer, or a read-only mapping of the
 * temp file). *fd (if fd != NULL) is a descriptor of the whole message
 * (the temp file, or a memfd made on the first call that asks), owned by
 * the spool. EMF_ERR_IO / EMF_ERR_NOMEM on failure.
 */
enum emf_rc emf_spool_finish(struct emf_spool *sp, const uint8_t **data,
    size_t *len, int *fd);

#endif /* EMF_SPOOL_H */
