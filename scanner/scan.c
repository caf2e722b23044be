/*
 * scan.c - entry points: map a file, sniff it, hand it to its reader.
 *
 * Files are mapped read-only (MAP_PRIVATE) rather than read: a 10 GB
 * checkpoint costs address space, not memory, and readers touch only the
 * pages that matter (pickle streams, archive directories).  Files of at
 * most 64 KiB are read with pread instead (cheaper than a mapping).  The
 * caller's file offset is never moved.
 *
 * The format is decided by content alone (mg_sniff); the name is used only
 * to notice a disguise: content whose extension names another format.  Why
 * not trust extensions: every loader we guard decides by content too
 * (torch.load looks for "PK\3\4", np.load for "\x93NUMPY" or "PK", and
 * falls back to pickle.load for anything else), so a pickle called
 * model.safetensors or weights.npy runs under the right loader call.
 *
 * A zip is also recognised when its end-of-central-directory record is
 * valid but the archive does not start at offset 0: Python's zipfile (and
 * so every zipfile-based loader, .keras included) accepts data prepended to
 * an archive.  torch's own reader does not (torch.load and torch.jit.load
 * both refuse it; torch.load then unpickles the leading bytes instead).
 * Such a zip is scanned in addition to whatever the first bytes say, so a
 * pickle-and-zip polyglot is read both ways.  Likewise a file whose first
 * bytes also parse as a pickle that imports something (a tar header, a
 * GGUF prefix) is read as the pickle torch.load falls back to.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "candidate.h"
#include "formats.h"
#include "pickle.h"
#include "containers.h"
#include "candidate.h"

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
	o->fd = -1;
}

static int
has(const uint8_t *buf, size_t len, size_t off, const char *magic, size_t n)
{
	return len >= off + n && memcmp(buf + off, magic, n) == 0;
}

/* safetensors: an 8-byte little-endian header length, then '{'. */
static int
sniff_safetensors(const uint8_t *buf, size_t len)
{
	uint64_t n = 0;
	int i;

	if (len < 10 || buf[8] != '{')
		return 0;
	for (i = 7; i >= 0; i--)
		n = n << 8 | buf[i];
	/* Why the bound: the header must fit in the file; anything else is
	 * not a safetensors file whatever its ninth byte is. */
	return n >= 2 && n <= len - 8;
}

/* HDF5 superblock where libhdf5 looks for it: at 0 or at any
 * power-of-two user-block offset from 512 that fits in the file (no cap:
 * libhdf5 has none, and a user block is the writer's to size). */
static int
sniff_hdf5(const uint8_t *buf, size_t len)
{
	return has(buf, len, 0, MG_HDF5_SIG, MG_HDF5_SIG_LEN) ||
	       mg_candidate_hdf5_later(buf, len) != 0;
}

static int
sniff_compressed(const uint8_t *buf, size_t len, enum mg_fmt *f)
{
	if (has(buf, len, 0, "\x1f\x8b", 2))
		*f = MG_FMT_GZIP;
	else if (has(buf, len, 0, "BZh", 3) && len > 3 && buf[3] >= '1' &&
	         buf[3] <= '9')
		*f = MG_FMT_BZIP2;
	else if (has(buf, len, 0, "\xfd" "7zXZ\0", 6))
		*f = MG_FMT_XZ;
	/* lzma-alone (joblib's 'lzma'): properties byte 0x5d and a
	 * dictionary size; decoded by the same reader as xz. */
	else if (len >= 13 && buf[0] == 0x5d && buf[1] == 0 && buf[2] == 0)
		*f = MG_FMT_XZ;
	else if (has(buf, len, 0, "\x28\xb5\x2f\xfd", 4))
		*f = MG_FMT_ZSTD;
	else if (has(buf, len, 0, "\x04\x22\x4d\x18", 4))
		*f = MG_FMT_LZ4;
	else if (len >= 2 && buf[0] == 0x78 && (buf[0] * 256 + buf[1]) % 31 == 0
	         && (buf[1] == 0x01 || buf[1] == 0x5e || buf[1] == 0x9c ||
	             buf[1] == 0xda))
		*f = MG_FMT_ZLIB;
	/* joblib < 0.10 'ZF' files: "ZF", a 19-byte hex length, a zlib
	 * stream (compress.c reads them). */
	else if (has(buf, len, 0, "ZF", 2) && len > 23 && (buf[21] == 0x78 ||
	         (buf[21] == ' ' && buf[22] == 0x78)))
		*f = MG_FMT_ZLIB;
	else if (has(buf, len, 0, "7z\xbc\xaf\x27\x1c", 6))
		*f = MG_FMT_7Z;
	else
		return 0;
	return 1;
}

enum mg_fmt
mg_sniff(const uint8_t *buf, size_t len)
{
	enum mg_fmt f;

	if (has(buf, len, 0, "PK\x03\x04", 4) || has(buf, len, 0, "PK\x05\x06", 4)
	    || has(buf, len, 0, "PK\x07\x08PK\x03\x04", 8)
	    || has(buf, len, 0, "PK00PK\x03\x04", 8))
		return MG_FMT_ZIP;
	if (has(buf, len, 0, "\x93NUMPY", 6))
		return MG_FMT_NPY;
	if (has(buf, len, 0, "GGUF", 4))
		return MG_FMT_GGUF;
	if (has(buf, len, 0, "\x89HDF\r\n\x1a\n", 8))
		return MG_FMT_HDF5;
	if (sniff_compressed(buf, len, &f))
		return f;
	if (sniff_safetensors(buf, len))
		return MG_FMT_SAFETENSORS;
	if (mg_candidate_tar(buf, len))
		return MG_FMT_TAR;
	if (mg_pickle_sniff(buf, len))
		return MG_FMT_PICKLE;
	if (mg_candidate_dbm(buf, len))
		return MG_FMT_DBM;
	if (sniff_hdf5(buf, len))
		return MG_FMT_HDF5;
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
	case MG_FMT_DBM: return "dbm";
	case MG_FMT_UNKNOWN: break;
	}
	return "unknown";
}

/*
 * The formats an extension promises.  Only extensions that name one family
 * of formats are listed (".bin" is used by torch, GGML and others alike).
 * @data_only: the promised format cannot carry code, so finding an
 * executable format under this name is a disguise, not a mistake.
 */
struct ext_rule {
	const char *ext;
	int data_only;
	enum mg_fmt ok[4];
};

static const struct ext_rule ext_rules[] = {
	{ ".safetensors", 1, { MG_FMT_SAFETENSORS } },
	{ ".gguf", 1, { MG_FMT_GGUF } },
	{ ".npy", 0, { MG_FMT_NPY } },
	{ ".npz", 0, { MG_FMT_ZIP } },
	{ ".keras", 0, { MG_FMT_ZIP } },
	{ ".h5", 0, { MG_FMT_HDF5 } },
	{ ".hdf5", 0, { MG_FMT_HDF5 } },
	{ ".pt", 0, { MG_FMT_ZIP, MG_FMT_PICKLE, MG_FMT_TAR } },
	{ ".pth", 0, { MG_FMT_ZIP, MG_FMT_PICKLE, MG_FMT_TAR } },
	{ ".ckpt", 0, { MG_FMT_ZIP, MG_FMT_PICKLE, MG_FMT_TAR } },
};

/* Formats able to carry something a loader executes. */
static int
fmt_executable(enum mg_fmt f)
{
	return f == MG_FMT_PICKLE || f == MG_FMT_ZIP || f == MG_FMT_TAR ||
	       f == MG_FMT_NPY || f == MG_FMT_HDF5 ||
	       (f >= MG_FMT_GZIP && f <= MG_FMT_7Z) || f == MG_FMT_DBM;
}

/* The rule for @name's extension, or NULL. */
static const struct ext_rule *
ext_rule_of(const char *name)
{
	size_t n, e, i;

	if (name == NULL)
		return NULL;
	n = strlen(name);
	for (i = 0; i < sizeof(ext_rules) / sizeof(ext_rules[0]); i++) {
		e = strlen(ext_rules[i].ext);
		if (n > e && strcasecmp(name + n - e, ext_rules[i].ext) == 0)
			return &ext_rules[i];
	}
	return NULL;
}

/*
 * A name whose extension promises another format.  Unknown at least (the
 * content is scanned as what it is, but a reviewer should know); dangerous
 * when an executable format hides under a data-only name (a pickle called
 * .safetensors exists to get past people and tools that trust the name).
 */
static enum mg_err
check_extension(const char *name, const char *member, enum mg_fmt f,
                struct mg_report *rep)
{
	const struct ext_rule *r = ext_rule_of(name);
	size_t i;

	if (r == NULL || f == MG_FMT_UNKNOWN)
		return MG_OK;
	for (i = 0; i < 4 && r->ok[i] != MG_FMT_UNKNOWN; i++)
		if (r->ok[i] == f)
			return MG_OK;
	return mg_report_add(rep, r->data_only && fmt_executable(f) ?
	                     MG_VERDICT_DANGEROUS : MG_VERDICT_UNKNOWN,
	                     "format.mismatch", NULL, member, 0,
	                     "content is %s but the name promises %s%s",
	                     mg_fmt_name(f), r->ext,
	                     r->data_only && fmt_executable(f) ?
	                     " (an executable format disguised as a data-only "
	                     "one)" : "");
}

/*
 * torch's legacy torch.save starts with a pickle of the magic number
 * 0x1950a86a20f9469cfc6c: LONG1 after PROTO (and FRAME, protocol >= 4), or
 * the protocol-0/1 text form.
 */
static int
is_torch_legacy(const uint8_t *buf, size_t len)
{
	static const uint8_t magic[12] = { 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
	                                   0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19 };
	static const char text[] = "L119547037146038801333356L\n";
	size_t off = 0;

	if (len >= 2 && buf[0] == 0x80) {
		off = 2;
		if (len > 2 && buf[2] == 0x95)
			off = 11;
	}
	return has(buf, len, off, (const char *)magic, sizeof(magic)) ||
	       has(buf, len, off, text, sizeof(text) - 1);
}

/* Copy every finding and global of @src into @dst. */
static enum mg_err
merge_report(struct mg_report *dst, const struct mg_report *src)
{
	const struct mg_finding *f;
	enum mg_err err = MG_OK;
	size_t i;

	for (i = 0; i < src->nfindings && err == MG_OK; i++) {
		f = &src->findings[i];
		err = mg_report_add(dst, f->verdict, f->rule, f->global,
		                    f->member, f->offset, "%s", f->message);
	}
	for (i = 0; i < src->nglobals && err == MG_OK; i++)
		err = mg_report_add_global(dst, src->globals[i].module,
		                           src->globals[i].name,
		                           src->globals[i].verdict);
	if (src->verdict > dst->verdict)
		dst->verdict = src->verdict;
	dst->dropped += src->dropped;
	dst->npickles += src->npickles;
	return err;
}

/*
 * torch.load falls back to pickle.load for whatever is neither a zip nor a
 * tar tarfile accepts (a tar with a bad checksum included), and so does
 * np.load(allow_pickle=True) for what is neither npy nor zip.  A file that
 * is both, say, GGUF or tar and a pickle therefore runs its pickle under
 * those loaders whatever its GGUF or tar reading says.  So the first pickle
 * is analysed too (it stops at the first byte that is no opcode: cheap) and
 * counts only if it resolved a global or did something dangerous -- bytes
 * that merely fail to parse run nothing.
 */
static enum mg_err
check_pickle_polyglot(const struct mg_scan_opts *o, const char *member,
                      const uint8_t *buf, size_t len, enum mg_fmt f,
                      struct mg_report *rep)
{
	struct mg_report *tmp = mg_report_new();
	enum mg_err err;
	size_t end = 0;

	if (tmp == NULL)
		return MG_ERR_NOMEM;
	err = mg_pickle_scan_one(o, NULL, buf, len, member, 0, tmp, &end);
	if (err == MG_OK && (tmp->nglobals > 0 ||
	    tmp->verdict == MG_VERDICT_DANGEROUS)) {
		err = mg_report_add(rep, MG_VERDICT_DANGEROUS, "format.polyglot",
		                    NULL, member, 0, "content is %s and also a "
		                    "pickle that imports globals (torch.load and "
		                    "np.load fall back to pickle.load)",
		                    mg_fmt_name(f));
		if (err == MG_OK)
			err = merge_report(rep, tmp);
	}
	mg_report_free(tmp);
	return err;
}

/*
 * What is a pickle, or no format at all, reaches only pickle.load (torch.load
 * and np.load fall back to it).  When that loader must fail before any
 * global, call or extension code (inert.c), the file runs nothing: say so
 * as a clean finding.  Why only at depth 0 without a member does a
 * persistent id fail: torch unpickles zip members with persistent_load.
 * Why not under a data-only name (.safetensors, .gguf): its own loader
 * reads it, and a broken one stays an error its reader explains.
 * 1 when inert (the finding added, or *err set), 0 otherwise.
 */
static int
check_inert(const char *name, const char *member, const uint8_t *buf,
            size_t len, unsigned depth, enum mg_fmt f,
            struct mg_report *rep, enum mg_err *err)
{
	const struct ext_rule *r = depth == 0 ? ext_rule_of(name) : NULL;
	const char *why = NULL;
	size_t at = 0;

	if (r != NULL && r->data_only)
		return 0;
	if (!mg_pickle_inert(buf, len, &at,
	                     &why))
		return 0;
	*err = mg_report_add(rep, MG_VERDICT_CLEAN, "format.inert", NULL,
	                     member, at, "inert: %s, and the pickle loader "
	                     "fails at offset %zu (%s) before it resolves a "
	                     "global or calls anything", f == MG_FMT_PICKLE ?
	                     "content starts like a pickle" : "content is not "
	                     "a format modelgate reads", at, why);
	return 1;
}

/*
 * Content no reader of modelgate's knows, and not inert: what pickle.load
 * makes of it decides.  When each pickle in it is plain data (no global,
 * clean) and what follows the last is inert, the loader returns a value
 * and runs nothing ("Git 1.7.12.2 Release": BINFLOAT, DUP, STOP): clean,
 * its findings say why.  Otherwise an error: a loader may still execute
 * it.
 */
static enum mg_err
unknown_scan(const struct mg_scan_opts *o, const char *member,
             const uint8_t *buf, size_t len, struct mg_report *rep)
{
	struct mg_report *tmp = mg_report_new();
	enum mg_err err;

	if (tmp == NULL)
		return MG_ERR_NOMEM;
	err = mg_pickle_scan_all(o, NULL, buf, len, member, 0, tmp);
	if (err == MG_OK && tmp->verdict == MG_VERDICT_CLEAN &&
	    tmp->nglobals == 0)
		err = merge_report(rep, tmp);
	else if (err == MG_OK)
		err = mg_report_add(rep, MG_VERDICT_ERROR, "format.unknown",
		                    NULL, member, 0, "content is not a format "
		                    "modelgate can read; a loader may still "
		                    "execute it");
	mg_report_free(tmp);
	return err;
}

static enum mg_err
dispatch(const struct mg_scan_opts *o, const char *name, const char *member,
         const uint8_t *buf, size_t len, unsigned depth, enum mg_fmt f,
         struct mg_report *rep)
{
	enum mg_err err = MG_OK;
	int is_dir;

	/* dbm.dumb: the index beside says what shelve unpickles (dumb.c);
	 * a torch legacy file stays that (torch.load reads its stream). */
	if (depth == 0 && mg_dumb_applies(name, &is_dir) &&
	    (is_dir || !is_torch_legacy(buf, len)))
		return mg_dumb_scan(o, name, is_dir, buf, len, rep);
	if ((f == MG_FMT_PICKLE || f == MG_FMT_UNKNOWN) &&
	    check_inert(name, member, buf, len, depth, f, rep, &err))
		return err;
	switch (f) {
	case MG_FMT_PICKLE:
		if (is_torch_legacy(buf, len))
			return mg_torch_legacy_scan(o, name, member, buf, len,
			                            depth, rep);
		return mg_pickle_stream_scan(o, name, member, buf, len, depth,
		                             rep);
	case MG_FMT_ZIP:
		return mg_zip_scan(o, name, member, buf, len, depth, rep);
	case MG_FMT_TAR:
		return mg_tar_scan(o, name, member, buf, len, depth, rep);
	case MG_FMT_NPY:
		return mg_npy_scan(o, name, member, buf, len, depth, rep);
	case MG_FMT_HDF5:
		return mg_hdf5_scan(o, name, member, buf, len, depth, rep);
	case MG_FMT_SAFETENSORS:
		return mg_safetensors_scan(o, name, member, buf, len, depth, rep);
	case MG_FMT_GGUF:
		return mg_gguf_scan(o, name, member, buf, len, depth, rep);
	case MG_FMT_GZIP: case MG_FMT_BZIP2: case MG_FMT_XZ:
	case MG_FMT_ZSTD: case MG_FMT_LZ4: case MG_FMT_ZLIB:
		return mg_compressed_scan(o, name, member, buf, len, depth, rep);
	case MG_FMT_7Z:
		return mg_report_add(rep, MG_VERDICT_ERROR, "format.unsupported",
		                     NULL, member, 0, "7z archives are not read; "
		                     "what they carry cannot be checked");
	case MG_FMT_DBM:
		/* Why not inert: the bytes at 0 are no pickle, but
		 * shelve.open() unpickles every value the database holds. */
		return mg_dbm_scan(o, name, member, buf, len, depth, rep);
	case MG_FMT_UNKNOWN:
		break;
	}
	return unknown_scan(o, member, buf, len, rep);
}

enum mg_err
mg_scan_any(const struct mg_scan_opts *o, const char *name,
            const char *member, const uint8_t *buf, size_t len,
            unsigned depth, struct mg_report *rep)
{
	struct mg_zipdir zd;
	const char *fmt;
	enum mg_fmt f;
	enum mg_err err;
	size_t ub;

	if (depth > o->max_depth)
		return mg_report_add(rep, MG_VERDICT_ERROR, "container.depth",
		                     NULL, member, 0,
		                     "containers nest deeper than %u levels",
		                     o->max_depth);
	f = mg_sniff(buf, len);
	if (depth == 0)
		rep->format = mg_fmt_name(f);
	if (depth == 0 && (err = check_extension(name, member, f, rep)) != MG_OK)
		return err;
	if (f != MG_FMT_PICKLE && f != MG_FMT_ZIP && len > 0 &&
	    (err = check_pickle_polyglot(o, member, buf, len, f, rep)) != MG_OK)
		return err;
	/* A zip after leading bytes (offsets relative to the archive, or
	 * made absolute by `zip -A`): zipfile-based loaders open it. */
	if (f != MG_FMT_ZIP && mg_zipdir_find(buf, len, &zd) == 0) {
		if (f == MG_FMT_UNKNOWN) {
			if (depth == 0)
				rep->format = "zip";
			return mg_zip_scan(o, name, member, buf, len, depth, rep);
		}
		err = mg_report_add(rep, MG_VERDICT_UNKNOWN, "format.polyglot",
		                    NULL, member, zd.start,
		                    "content is %s and also a zip archive "
		                    "(Python's zipfile opens it)",
		                    mg_fmt_name(f));
		fmt = rep->format;      /* the first bytes name the format */
		if (err == MG_OK)
			err = mg_zip_scan(o, name, member, buf, len, depth, rep);
		rep->format = fmt;
		if (err != MG_OK)
			return err;
	}
	/* HDF5 after a user block of any other format (a tar whose first
	 * member is an .h5 is one): libhdf5 finds the superblock whatever
	 * comes before it, and PyTables unpickles what it reads there. */
	if (f != MG_FMT_HDF5 && (ub = mg_candidate_hdf5_later(buf, len)) != 0) {
		err = mg_report_add(rep, MG_VERDICT_CLEAN, "hdf5.user_block",
		                    NULL, member, ub, "content is %s and also "
		                    "an HDF5 file after a %zu-byte user block "
		                    "(libhdf5 opens it): read both ways",
		                    mg_fmt_name(f), ub);
		fmt = rep->format;
		if (err == MG_OK)
			err = mg_hdf5_scan(o, name, member, buf, len, depth, rep);
		rep->format = fmt;
		if (err != MG_OK)
			return err;
	}
	return dispatch(o, name, member, buf, len, depth, f, rep);
}

enum mg_err
mg_scan_buffer(const struct mg_scan_opts *o, const char *name,
               const uint8_t *buf, size_t len, struct mg_report *rep)
{
	struct mg_scan_opts bo;

	if (o == NULL || o->classifier == NULL || rep == NULL ||
	    (buf == NULL && len != 0))
		return MG_ERR_INVAL;
	/* Why a copy: a caller's buffer is never a mapping to drop. */
	bo = *o;
	bo.map = NULL;
	bo.map_len = 0;
	bo.fd = -1;
	return mg_scan_any(&bo, name, NULL, buf, len, 0, rep);
}

/* mg_scan_buffer() of @fd's bytes: the readers also get @fd (o->fd). */
static enum mg_err
scan_fd_buffer(const struct mg_scan_opts *o, int fd, const char *name,
               const uint8_t *buf, size_t len, struct mg_report *rep)
{
	struct mg_scan_opts bo;

	if (o == NULL || o->classifier == NULL || rep == NULL)
		return MG_ERR_INVAL;
	bo = *o;
	bo.map = NULL;
	bo.map_len = 0;
	bo.fd = fd;
	return mg_scan_any(&bo, name, NULL, buf, len, 0, rep);
}

/* Files up to this size are read into memory rather than mapped. */
#define SCAN_READ_MAX ((size_t)64 << 10)

/*
 * Scan the @size bytes of @fd read with pread.  Why for small files: a
 * mapping costs mmap, madvise, a page fault and munmap, several times the
 * copy of a few KiB the page cache already holds.  A file that shrank
 * meanwhile is scanned as far as it now goes (a mapping would fault).
 */
static enum mg_err
scan_read(const struct mg_scan_opts *o, int fd, const char *name,
          size_t size, struct mg_report *rep)
{
	uint8_t *buf = malloc(size);
	size_t got = 0;
	ssize_t n;
	enum mg_err err;

	if (buf == NULL)
		return MG_ERR_NOMEM;
	while (got < size) {
		n = pread(fd, buf + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = MG_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	err = scan_fd_buffer(o, fd, name, buf, got, rep);
out:
	free(buf);
	return err;
}

void
mg_scan_drop(const struct mg_scan_opts *o, const uint8_t *p, size_t n)
{
	uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)4095;
	uintptr_t m = (uintptr_t)o->map;

	/* Why only inside the mapping: MADV_DONTNEED on anonymous memory
	 * (a decompressed member, a caller's buffer) would zero it, while a
	 * read-only private file mapping is only unmapped: the page cache
	 * still holds the bytes, and the next read maps them again. */
	if (o->map == NULL || a < m || e > m + o->map_len || e <= a)
		return;
	(void)madvise((void *)a, e - a, MADV_DONTNEED);
}

enum mg_err
mg_scan_fd(const struct mg_scan_opts *o, int fd, const char *name,
           struct mg_report *rep)
{
	struct mg_scan_opts mo;
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
		return scan_fd_buffer(o, fd, name, (const uint8_t *)"", 0, rep);
	if ((uint64_t)st.st_size <= SCAN_READ_MAX)
		return scan_read(o, fd, name, (size_t)st.st_size, rep);
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return MG_ERR_IO;
	/* Why: readers touch a page here and there (a local header per
	 * tensor, the pickles); the kernel's readahead around each fault
	 * would otherwise read most of a multi-GB checkpoint. */
	(void)madvise(map, (size_t)st.st_size, MADV_RANDOM);
	if (o == NULL || o->classifier == NULL || rep == NULL) {
		err = MG_ERR_INVAL;
	} else {
		mo = *o;
		mo.map = map;
		mo.map_len = (size_t)st.st_size;
		mo.fd = fd;
		err = mg_scan_any(&mo, name, NULL, map, mo.map_len, 0, rep);
	}
	munmap(map, (size_t)st.st_size);
	return err;
}
