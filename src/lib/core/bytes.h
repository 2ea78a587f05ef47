/*
 * bytes.h - little-endian integer reads for the binary parsers (zip, OLE2,
 * VBA, BIFF). The caller has checked that the bytes lie inside its buffer.
 */
#ifndef EMF_BYTES_H
#define EMF_BYTES_H

#include <stdint.h>

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	    ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t
rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

#endif /* EMF_BYTES_H */
