/*
 * bytes.h - private to scanner/: little-endian loads from byte buffers,
 * and the value of a hex digit.  The caller has checked that the bytes
 * are there; these never read past p[n-1] for an n-byte value and never
 * depend on alignment.
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

/* The value of hex digit @c (either case), or -1. */
static inline int
mg_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif /* MG_BYTES_H */
