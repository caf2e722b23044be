/*
 * bytes.h - private to scanner/: little-endian loads from byte buffers.
 * The caller has checked that the bytes are there; these never read past
 * p[n-1] for an n-byte value and never depend on alignment.
 */
#ifndef MG_BYTES_H
#define MG_BYTES_H

#include <stdint.h>

static inline uint16_t
mg_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
mg_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t
mg_le64(const uint8_t *p)
{
	return (uint64_t)mg_le32(p) | (uint64_t)mg_le32(p + 4) << 32;
}

#endif /* MG_BYTES_H */
