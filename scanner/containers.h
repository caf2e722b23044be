/*
 * containers.h - private to scanner/scan.c, zip.c and npy.c: what the
 * sniffer and the zip reader need from each other beyond formats.h.
 *
 * mg_zipdir_find (zip.c) locates a zip archive's central directory the way
 * Python's zipfile does: the sniffer uses it to recognise archives with
 * data prepended.  mg_npy_scan_prefix (npy.c) lets the zip reader check a
 * compressed .npz member from its first bytes, without inflating the array.
 */
#ifndef MG_CONTAINERS_H
#define MG_CONTAINERS_H

#include <stddef.h>
#include <stdint.h>

#include "scanner.h"

/* Where an archive lives inside a buffer. */
struct mg_zipdir {
	size_t start;       /* offset of the archive's first byte: every offset
	                       the archive records is relative to it (bytes
	                       before it were prepended) */
	size_t eocd;        /* offset of the end-of-central-directory record */
	uint64_t cd_offset; /* central directory, relative to start */
	uint64_t cd_size;
	uint64_t entries;   /* entries the end record announces */
	int zip64;          /* a zip64 end record was used */
};

/*
 * Find the end-of-central-directory record of @buf[0..@len) (searching the
 * last 64 KiB + 22 bytes, as zipfile does), follow a zip64 locator, and
 * check that the central directory it names lies inside the buffer and
 * starts with a central header.  0 and *@zd filled, or -1: no archive.
 */
int mg_zipdir_find(const uint8_t *buf, size_t len, struct mg_zipdir *zd);

/* Bytes of a member enough for any npy header modelgate parses: the
 * 1 MiB header cap plus magic, version and length. */
#define MG_NPY_PREFIX ((1u << 20) + 16)

/*
 * Check the npy header in @buf[0..@plen), the first bytes of a member of
 * @total bytes named @member.  A numeric array is checked completely (the
 * header, and @total against shape x itemsize) and *@whole is 0.  If the
 * dtype holds objects, *@whole is 1 and nothing was reported: the caller
 * must scan the whole member with mg_npy_scan (a pickle follows).
 * MG_OK or MG_ERR_NOMEM.
 */
enum mg_err mg_npy_scan_prefix(const struct mg_scan_opts *o,
                               const char *member, const uint8_t *buf,
                               size_t plen, uint64_t total,
                               struct mg_report *rep, int *whole) MG_WUR;

#endif /* MG_CONTAINERS_H */
