/*
 * scan.c - entry points: map a file, sniff it, hand it to its reader.
 *
 * Files are mapped read-only (MAP_PRIVATE) rather than read: a 10 GB
 * checkpoint costs address space, not memory, and readers touch only the
 * pages that matter (pickle streams, archive directories).  The caller's
 * file offset is never moved.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "formats.h"
#include "pickle.h"

void
mg_scan_opts_default(struct mg_scan_opts *o)
{
	memset(o, 0, sizeof(*o));
	/* Why these numbers: real torch/numpy/sklearn pickles stay far below
	 * (a 20,000-tensor state_dict needs a stack of a few dozen and a memo
	 * of ~100,000); a hostile file hits the cap long before it can
	 * exhaust memory (each entry is a few dozen bytes). */
	o->max_stack = 1u << 20;
	o->max_memo = 1u << 22;
	o->max_pickles = 4096;
	o->max_depth = 8;
	o->max_decompressed = (uint64_t)4 << 30;
	o->max_members = 1u << 20;
	o->sniff = 1;
}

enum mg_fmt
mg_sniff(const uint8_t *buf, size_t len)
{
	if (mg_pickle_sniff(buf, len))
		return MG_FMT_PICKLE;
	return MG_FMT_UNKNOWN;
}

const char *
mg_fmt_name(enum mg_fmt f)
{
	switch (f) {
	case MG_FMT_PICKLE: return "pickle";
	case MG_FMT_ZIP: return "zip";
	case MG_FMT_TAR: return "tar";
	case MG_FMT_NPY: return "npy";
	case MG_FMT_HDF5: return "hdf5";
	case MG_FMT_SAFETENSORS: return "safetensors";
	case MG_FMT_GGUF: return "gguf";
	case MG_FMT_GZIP: return "gzip";
	case MG_FMT_BZIP2: return "bzip2";
	case MG_FMT_XZ: return "xz";
	case MG_FMT_ZSTD: return "zstd";
	case MG_FMT_LZ4: return "lz4";
	case MG_FMT_ZLIB: return "zlib";
	case MG_FMT_7Z: return "7z";
	case MG_FMT_UNKNOWN: break;
	}
	return "unknown";
}

enum mg_err
mg_scan_any(const struct mg_scan_opts *o, const char *name,
            const char *member, const uint8_t *buf, size_t len,
            unsigned depth, struct mg_report *rep)
{
	enum mg_fmt f;

	(void)name;
	if (depth > o->max_depth)
		return mg_report_add(rep, MG_VERDICT_ERROR, "container.depth",
		                     NULL, member, 0,
		                     "containers nest deeper than %u levels",
		                     o->max_depth);
	f = mg_sniff(buf, len);
	if (depth == 0)
		rep->format = mg_fmt_name(f);
	switch (f) {
	case MG_FMT_PICKLE:
		return mg_pickle_scan_all(o, NULL, buf, len, member, 0, rep);
	default:
		return mg_report_add(rep, MG_VERDICT_ERROR, "format.unknown",
		                     NULL, member, 0,
		                     "content is not a format modelgate can read "
		                     "(%s); a loader may still execute it",
		                     mg_fmt_name(f));
	}
}

enum mg_err
mg_scan_buffer(const struct mg_scan_opts *o, const char *name,
               const uint8_t *buf, size_t len, struct mg_report *rep)
{
	if (o == NULL || o->classifier == NULL || rep == NULL ||
	    (buf == NULL && len != 0))
		return MG_ERR_INVAL;
	return mg_scan_any(o, name, NULL, buf, len, 0, rep);
}

enum mg_err
mg_scan_fd(const struct mg_scan_opts *o, int fd, const char *name,
           struct mg_report *rep)
{
	struct stat st;
	void *map;
	enum mg_err err;

	if (fstat(fd, &st) != 0)
		return MG_ERR_IO;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return MG_ERR_IO;
	}
	if (st.st_size == 0)
		return mg_scan_buffer(o, name, (const uint8_t *)"", 0, rep);
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return MG_ERR_IO;
	err = mg_scan_buffer(o, name, map, (size_t)st.st_size, rep);
	munmap(map, (size_t)st.st_size);
	return err;
}
