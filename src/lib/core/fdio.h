/*
 * fdio.h - whole writes to a descriptor, and a memfd holding a buffer:
 * the two steps every writer of spools, packets and quarantine files
 * needs, in one place.
 */
#ifndef EMF_CORE_FDIO_H
#define EMF_CORE_FDIO_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Write all len bytes of p to fd, retrying after a signal and after a
 * short write. False on failure, with errno set (EIO for a write that
 * wrote nothing without an error).
 */
bool emf_write_all(int fd, const void *p, size_t len);

/*
 * A new close-on-exec memfd named name holding the len bytes of p, its
 * offset at the end; the caller closes it. -1 with errno set on failure.
 */
int emf_memfd_of(const char *name, const void *p, size_t len);

#endif
