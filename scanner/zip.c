/*
 * zip.c - zip archives: torch.save (zip), TorchScript, .npz, .keras.
 *
 * Approach: walk the central directory ourselves, the way torch's reader
 * (miniz, via caffe2's PyTorchFileReader) and Python's zipfile both do, and
 * look at every entry in it -- duplicates included, since which of two
 * same-named entries a loader picks depends on its lookup (miniz: binary
 * search over a sorted index; zipfile: the last one).  For each entry but
 * tensor storages we check the local header against the directory (name,
 * method, encryption flag), then get the bytes: stored entries are used in
 * place (no copy: a 2 GB checkpoint's pickle is read where it lies),
 * compressed entries are inflated by libzip with a size cap.  libzip is
 * opened over the same memory with zip_source_buffer_create.
 *
 * What is scanned: every entry whose content is a pickle or whose name ends
 * in ".pkl" (torch unpickles data.pkl whatever it looks like), every entry
 * whose content is another format we read (nested torch.save files, .npy
 * in an .npz, the HDF5 weights of a .keras), and the config.json of a
 * .keras archive.  Tensor storage entries ("<prefix>/data/<digits>") are
 * skipped unread: torch copies them into tensors and never unpickles them,
 * and random weights begin with pickle-like bytes often enough (roughly one
 * tensor in tens of thousands) that scanning them would deny real
 * checkpoints -- unless another loader would read one: np.load reads any
 * member that begins with the npy magic, pandas.read_pickle the only member
 * of a one-member zip (see stored_npy).  A directory entry is skipped only
 * when it is empty: zipfile serves its bytes like any member's.
 *
 * TorchScript (torch.jit.save) archives carry Python-syntax source under
 * code/.  torch.jit.load compiles it with the TorchScript compiler (not
 * CPython: no builtins, no imports) and runs it when the module is called
 * (and its __setstate__ methods while loading); it can still call any
 * registered operator, so its presence is reported as "unknown" (sandbox
 * by default), never "clean".  The pickles of such an archive (an archive
 * with <prefix>/constants.pkl: that is torch.load's own test before it
 * hands the file to torch.jit.load) are read by TorchScript's C++
 * unpickler, which resolves a global only to a TorchScript class or a
 * fixed list of torch helpers and never imports Python: a global the
 * Python allow-list would deny cannot run there.  So those pickles are
 * still analysed, but their global findings are capped at "unknown" and
 * say why; structural findings keep their verdict.
 *
 * CRC-32: torch's reader never checks it.  PyTorch builds miniz with
 * MINIZ_DISABLE_ZIP_READER_CRC32_CHECKS (pytorch cmake/Dependencies.cmake),
 * so PyTorchStreamReader::getRecord (caffe2/serialize/inline_container.cc,
 * mz_zip_reader_extract_to_mem) hands over a record whatever its CRC, on
 * torch 1.13 and 2.x alike; and torch.save with
 * torch.serialization.set_crc32_options(False) (torch >= 2.4) writes CRC 0
 * for every record.  Python's zipfile does check, but only once a member
 * is read to its end (pickle.load stops at STOP, before that).  A mismatch
 * never changes which bytes a loader reads -- stored data is read in place,
 * deflated data is inflated the same way by every loader -- so it is an
 * info finding, never a reason to deny; what decides is the content, which
 * is scanned as stored.  What stays fail-closed is a deflated member that
 * does not inflate to exactly the size the directory records: miniz then
 * refuses it, zipfile stops at that size, and the bytes we scanned would
 * not be the bytes a loader reads.
 *
 * Several archives back to back in one file: torch.distributed.checkpoint's
 * FileSystemWriter (torch/distributed/checkpoint/filesystem.py, _write_item)
 * appends one torch.save archive per tensor and per pickled object to a
 * .distcp file and records (offset, length) of each in the .metadata
 * pickle; FileSystemReader.read_data hands torch.load exactly that byte
 * range (tensors with weights_only=True; objects through
 * DefaultLoadPlanner.load_bytes, weights_only=False).  Each archive's
 * offsets count from its own start.  So the archives are found from the
 * back: the last end record names its archive's start (zipfile's rule),
 * the bytes before that start end with the previous archive's end record,
 * and so on to offset 0; each one is scanned as its own archive, in file
 * order.  Bytes between two archives are scanned as whatever they are
 * (torch.load of a range starting there would unpickle a pickle); after the
 * last archive of such a file, likewise.  Not seen: a .metadata range that
 * starts inside an archive (say in a tensor's bytes) -- the scanner reads
 * one file and cannot know the ranges another file names.
 *
 * Rejected: libzip's own view of the archive alone.  It refuses archives
 * with prepended data (zipfile accepts them), does not show local headers,
 * and reports a CRC mismatch only after the bytes were handed over.
 * Rejected for stacked archives: searching the whole file for "PK\5\6"
 * (linear in tensor bytes, and a signature inside tensor data would
 * count); walking local headers forward (torch writes data descriptors:
 * the local header holds no sizes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>
#include <zlib.h>

#include "bytes.h"
#include "formats.h"
#include "pickle.h"
#include "containers.h"

/* One central directory entry, as the directory records it. */
struct zentry {
	const char *name;    /* NUL-terminated copy */
	uint16_t flags, method;
	uint32_t crc;
	uint64_t csize, usize, lho;
	uint64_t data;       /* offset of the data (after the local header) */
	int local_ok;        /* local header found and consistent */
};

struct zscan {
	const struct mg_scan_opts *o;
	const char *name, *parent;
	const uint8_t *ar;     /* the archive: buf + start */
	size_t arlen;
	struct mg_zipdir zd;
	struct zentry *e;
	size_t n;
	zip_t *lz;             /* libzip over the same bytes, on demand */
	unsigned depth;
	struct mg_report *rep;
	unsigned npkl, nnpy, ncode, nconfig, nconst;
	int torchscript;       /* <prefix>/constants.pkl: torch.jit.load */
	uint64_t inflated;     /* bytes inflated so far, all members of every
	                          archive of the file */
	size_t ncrc;           /* members whose CRC-32 does not match */
	const char *crc_first; /* the first of them */
};

/* Last EOCD signature in the tail zipfile searches, or -1. */
static long
find_eocd(const uint8_t *buf, size_t len)
{
	size_t lo, i;

	if (len < 22)
		return -1;
	/* Why 64 KiB + 22: the longest comment an EOCD can announce. */
	lo = len > 65535 + 22 ? len - 65535 - 22 : 0;
	for (i = len - 22 + 1; i-- > lo;)
		if (memcmp(buf + i, "PK\x05\x06", 4) == 0)
			return (long)i;
	return -1;
}

/* zip64: the end record and locator just before the EOCD. */
static int
read_zip64(const uint8_t *buf, size_t eocd, struct mg_zipdir *zd)
{
	size_t rec;

	if (eocd < 20 + 56 || memcmp(buf + eocd - 20, "PK\x06\x07", 4) != 0)
		return 0;
	rec = eocd - 20 - 56;
	if (memcmp(buf + rec, "PK\x06\x06", 4) != 0)
		return -1;
	zd->entries = mg_le64(buf + rec + 32);
	zd->cd_size = mg_le64(buf + rec + 40);
	zd->cd_offset = mg_le64(buf + rec + 48);
	zd->zip64 = 1;
	/* zipfile: the archive starts where the recorded offsets say,
	 * counted back from the zip64 end record. */
	if (zd->cd_size > rec || zd->cd_offset > rec - zd->cd_size)
		return -1;
	zd->start = rec - (size_t)zd->cd_size - (size_t)zd->cd_offset;
	return 1;
}

int
mg_zipdir_find(const uint8_t *buf, size_t len, struct mg_zipdir *zd)
{
	long at = find_eocd(buf, len);
	size_t eocd, cd;
	int z64;

	if (at < 0)
		return -1;
	eocd = (size_t)at;
	memset(zd, 0, sizeof(*zd));
	zd->eocd = eocd;
	zd->entries = mg_le16(buf + eocd + 10);
	zd->cd_size = mg_le32(buf + eocd + 12);
	zd->cd_offset = mg_le32(buf + eocd + 16);
	if ((z64 = read_zip64(buf, eocd, zd)) < 0)
		return -1;
	if (!z64) {
		if (zd->cd_size > eocd || zd->cd_offset > eocd - zd->cd_size)
			return -1;
		zd->start = eocd - (size_t)zd->cd_size - (size_t)zd->cd_offset;
	}
	cd = zd->start + (size_t)zd->cd_offset;
	if (zd->entries == 0)
		return 0;
	return len >= cd + 4 && memcmp(buf + cd, "PK\x01\x02", 4) == 0 ? 0 : -1;
}

/* "parent!name" for members of nested archives, else a copy of name. */
static char *
member_path(const char *parent, const char *name)
{
	size_t a = parent ? strlen(parent) + 1 : 0, b = strlen(name);
	char *s = malloc(a + b + 1);

	if (s == NULL)
		return NULL;
	if (parent) {
		memcpy(s, parent, a - 1);
		s[a - 1] = '!';
	}
	memcpy(s + a, name, b + 1);
	return s;
}

static enum mg_err
zfind(struct zscan *z, enum mg_verdict v, const char *rule,
      const char *member, uint64_t off, const char *msg)
{
	enum mg_err err;
	char *m = member ? member_path(z->parent, member) : NULL;

	err = mg_report_add(z->rep, v, rule, NULL, m ? m : z->parent, off,
	                    "%s", msg);
	free(m);
	return err;
}

/* Apply a zip64 extra field to the 0xffffffff fields of @e. */
static void
zip64_extra(const uint8_t *x, size_t xlen, struct zentry *e, int need_u,
            int need_c, int need_o)
{
	size_t i = 0, n, p;

	while (i + 4 <= xlen) {
		n = mg_le16(x + i + 2);
		if (i + 4 + n > xlen)
			return;
		if (mg_le16(x + i) == 0x0001) {
			p = i + 4;
			if (need_u && p + 8 <= i + 4 + n)
				e->usize = mg_le64(x + p), p += 8;
			if (need_c && p + 8 <= i + 4 + n)
				e->csize = mg_le64(x + p), p += 8;
			if (need_o && p + 8 <= i + 4 + n)
				e->lho = mg_le64(x + p);
			return;
		}
		i += 4 + n;
	}
}

/* Parse the central header at @p (@left bytes of directory remain). */
static int
parse_central(const uint8_t *p, size_t left, struct zentry *e, size_t *used)
{
	size_t nlen, xlen, clen;
	char *name;

	if (left < 46 || memcmp(p, "PK\x01\x02", 4) != 0)
		return -1;
	nlen = mg_le16(p + 28), xlen = mg_le16(p + 30), clen = mg_le16(p + 32);
	if (46 + nlen + xlen + clen > left)
		return -1;
	e->flags = mg_le16(p + 8);
	e->method = mg_le16(p + 10);
	e->crc = mg_le32(p + 16);
	e->csize = mg_le32(p + 20);
	e->usize = mg_le32(p + 24);
	e->lho = mg_le32(p + 42);
	zip64_extra(p + 46 + nlen, xlen, e, e->usize == 0xffffffffu,
	            e->csize == 0xffffffffu, e->lho == 0xffffffffu);
	if ((name = malloc(nlen + 1)) == NULL)
		return -2;
	memcpy(name, p + 46, nlen);
	name[nlen] = '\0';
	e->name = name;
	*used = 46 + nlen + xlen + clen;
	return 0;
}

/* Check the local header of @e against the directory; set e->data. */
static void
check_local(const struct zscan *z, struct zentry *e)
{
	const uint8_t *l;
	size_t nlen;

	e->local_ok = 0;
	if (e->lho > z->arlen || z->arlen - e->lho < 30)
		return;
	l = z->ar + e->lho;
	if (memcmp(l, "PK\x03\x04", 4) != 0)
		return;
	nlen = mg_le16(l + 26);
	e->data = e->lho + 30 + nlen + mg_le16(l + 28);
	if (e->data > z->arlen || nlen != strlen(e->name) ||
	    memcmp(l + 30, e->name, nlen) != 0 || mg_le16(l + 8) != e->method ||
	    ((mg_le16(l + 6) ^ e->flags) & 1))
		return;
	e->local_ok = 1;
}

static int is_storage(const char *name);

/* Read the central directory into z->e (at most o->max_members). */
static enum mg_err
read_directory(struct zscan *z)
{
	const uint8_t *p = z->ar + z->zd.cd_offset;
	size_t left = (size_t)z->zd.cd_size, used;
	size_t cap = z->o->max_members;
	int r;

	if (z->zd.cd_offset > z->arlen || z->zd.cd_size > z->arlen -
	    z->zd.cd_offset)
		return zfind(z, MG_VERDICT_ERROR, "zip.directory", NULL, 0,
		             "the central directory lies outside the file");
	/* Why entries are not trusted for the allocation: a 22-byte EOCD
	 * may announce 2^64 of them; each takes at least 46 bytes. */
	if (cap > left / 46 + 1)
		cap = left / 46 + 1;
	z->e = calloc(cap ? cap : 1, sizeof(*z->e));
	if (z->e == NULL)
		return MG_ERR_NOMEM;
	while (left > 0 && z->n < cap) {
		r = parse_central(p, left, &z->e[z->n], &used);
		if (r == -2)
			return MG_ERR_NOMEM;
		if (r < 0)
			return zfind(z, MG_VERDICT_ERROR, "zip.directory", NULL,
			             (uint64_t)(p - z->ar),
			             "malformed central directory entry");
		/* Why storages are exempt: torch copies their bytes and never
		 * interprets them, and touching one local header per tensor
		 * costs a page fault each on a multi-GB checkpoint. */
		if (is_storage(z->e[z->n].name))
			z->e[z->n].local_ok = 1;
		else
			check_local(z, &z->e[z->n]);
		z->n++, p += used, left -= used;
	}
	if (left > 0)
		return zfind(z, MG_VERDICT_ERROR, "zip.limit", NULL, 0,
		             "more archive members than the member cap; the "
		             "rest were not examined");
	if (z->n != z->zd.entries)
		return zfind(z, MG_VERDICT_UNKNOWN, "zip.directory", NULL, 0,
		             "the end record's entry count disagrees with the "
		             "central directory");
	return MG_OK;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Two entries with one name: loaders disagree on which one they read. */
static enum mg_err
check_duplicates(struct zscan *z)
{
	const char **v;
	enum mg_err err = MG_OK;
	size_t i;

	if (z->n < 2)
		return MG_OK;
	if ((v = malloc(z->n * sizeof(*v))) == NULL)
		return MG_ERR_NOMEM;
	for (i = 0; i < z->n; i++)
		v[i] = z->e[i].name;
	qsort(v, z->n, sizeof(*v), cmp_name);
	for (i = 1; i < z->n && err == MG_OK; i++) {
		if (strcmp(v[i - 1], v[i]) != 0)
			continue;
		if (i >= 2 && strcmp(v[i - 2], v[i]) == 0)
			continue;       /* reported once per name */
		err = zfind(z, MG_VERDICT_DANGEROUS, "zip.duplicate", v[i], 0,
		            "two archive members share this name; loaders "
		            "disagree on which one they read (every copy is "
		            "scanned)");
	}
	free(v);
	return err;
}

/* torch's tensor storages: "<prefix>/data/<digits>". */
static int
is_storage(const char *name)
{
	const char *b = strrchr(name, '/'), *d;

	if (b == NULL || b[1] == '\0')
		return 0;
	for (d = b + 1; *d; d++)
		if (*d < '0' || *d > '9')
			return 0;
	return (b - name == 4 && memcmp(name, "data", 4) == 0) ||
	       (b - name > 4 && memcmp(b - 5, "/data", 5) == 0);
}

static int
ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

static const char *
base_name(const char *s)
{
	const char *b = strrchr(s, '/');

	return b ? b + 1 : s;
}

/* Open libzip over the archive once; 0 or -1 (a finding was added). */
static int
open_libzip(struct zscan *z, size_t i, enum mg_err *err)
{
	zip_error_t ze;
	zip_source_t *src;
	const char *ln;

	if (z->lz == NULL) {
		zip_error_init(&ze);
		src = zip_source_buffer_create(z->ar, z->arlen, 0, &ze);
		if (src != NULL && (z->lz = zip_open_from_source(src, ZIP_RDONLY,
		    &ze)) == NULL)
			zip_source_free(src);
		zip_error_fini(&ze);
		if (z->lz == NULL) {
			*err = zfind(z, MG_VERDICT_ERROR, "zip.unreadable",
			             z->e[i].name, 0, "libzip cannot open the "
			             "archive to decompress this member");
			return -1;
		}
	}
	/* libzip lists the directory in order, as we do; make sure. */
	ln = zip_get_name(z->lz, i, ZIP_FL_ENC_RAW);
	if (ln == NULL || strcmp(ln, z->e[i].name) != 0) {
		*err = zfind(z, MG_VERDICT_ERROR, "zip.unreadable", z->e[i].name,
		             0, "libzip sees another directory than the loader");
		return -1;
	}
	return 0;
}

/* Count a CRC-32 mismatch of entry @i; crc_summary() reports them. */
static void
crc_mismatch(struct zscan *z, size_t i)
{
	if (z->ncrc++ == 0)
		z->crc_first = z->e[i].name;
}

/*
 * One info finding per archive, never a verdict: torch's reader does not
 * check CRCs (torch.save with set_crc32_options(False) writes 0), and the
 * bytes scanned are the bytes it reads.
 */
static enum mg_err
crc_summary(struct zscan *z)
{
	static const char why[] = " (torch.save with CRC checks off writes "
	                          "0): torch reads such members unchecked, "
	                          "Python's zipfile refuses them once read to "
	                          "the end; scanned as stored";
	char msg[320];

	if (z->ncrc == 0)
		return MG_OK;
	/* Why one finding per archive: with CRC checks off every record
	 * mismatches, and one line says it. */
	if (z->ncrc == 1)
		snprintf(msg, sizeof(msg), "CRC-32 does not match this "
		         "member's data%s", why);
	else
		snprintf(msg, sizeof(msg), "CRC-32 does not match the data of "
		         "%zu members, this one first%s", z->ncrc, why);
	return zfind(z, MG_VERDICT_CLEAN, "zip.crc", z->crc_first, 0, msg);
}

/*
 * Read @f into a buffer grown to at most @cap bytes.  Returns 0 at the
 * member's end, 1 when bytes remain past @cap, -1 on a read error (*@crc
 * set if it was a CRC mismatch), -2 out of memory.
 */
static int
read_capped(zip_file_t *f, uint64_t cap, uint8_t **out, size_t *have,
            int *crc)
{
	size_t room = 0;
	zip_int64_t r;
	uint8_t *nb, probe;

	/* Why grow by the data actually produced, not the declared size: a
	 * bomb may declare anything; we hold only what inflates, capped. */
	for (;;) {
		if (*have == room && room >= cap)
			return zip_fread(f, &probe, 1) != 0;
		if (*have == room) {
			room = room ? room * 2 : 65536;
			if (room > cap)
				room = (size_t)cap;
			if ((nb = realloc(*out, room)) == NULL)
				return -2;
			*out = nb;
		}
		r = zip_fread(f, *out + *have, room - *have);
		if (r == 0)
			return 0;
		if (r < 0) {
			*crc = zip_error_code_zip(zip_file_get_error(f)) ==
			       ZIP_ER_CRC;
			return -1;
		}
		*have += (size_t)r;
	}
}

/*
 * Inflate entry @i through libzip: at most @limit bytes, and never more
 * than what is left of the archive's budget (o->max_decompressed over all
 * members: overlapping entries could make one small bomb inflate once per
 * entry).  Hitting the budget is a finding; stopping at a smaller @limit
 * is not, and *@more then says bytes were left.
 */
static enum mg_err
inflate_entry(struct zscan *z, size_t i, uint64_t limit, uint8_t **out,
              size_t *outlen, int *more)
{
	uint64_t budget = z->o->max_decompressed - z->inflated;
	zip_file_t *f;
	enum mg_err err = MG_OK;
	int r, crc = 0;

	*out = NULL, *outlen = 0, *more = 0;
	if (open_libzip(z, i, &err) != 0)
		return err;
	if ((f = zip_fopen_index(z->lz, i, 0)) == NULL)
		return zfind(z, MG_VERDICT_ERROR, "zip.unreadable", z->e[i].name,
		             0, "member cannot be decompressed (method not "
		             "supported or damaged)");
	r = read_capped(f, limit < budget ? limit : budget, out, outlen, &crc);
	zip_fclose(f);
	z->inflated += *outlen;
	if (r == -2)
		return MG_ERR_NOMEM;
	if (r == 1 && limit < budget)
		*more = 1;
	else if (r == 1)
		err = zfind(z, MG_VERDICT_ERROR, "zip.limit", z->e[i].name, 0,
		            "decompressing the archive's members goes beyond the "
		            "size cap; this member was not scanned past it");
	else if ((r == 0 || crc) && *outlen != z->e[i].usize)
		err = zfind(z, MG_VERDICT_ERROR, "zip.size", z->e[i].name, 0,
		            "member inflates to another size than the directory "
		            "records; loaders stop at that size or refuse it, so "
		            "they would not read the bytes scanned");
	else if (r == -1 && crc)
		crc_mismatch(z, i);
	else if (r == -1)
		err = zfind(z, MG_VERDICT_ERROR, "zip.unreadable", z->e[i].name,
		            *outlen, "member data is corrupt; the loader may "
		            "still read it");
	return err;
}

/*
 * A compressed member: first a prefix (enough for an npy header); a
 * numeric .npy is then checked from its header and declared size without
 * inflating gigabytes of array data.  Everything else is inflated whole
 * (capped): it may be a pickle.
 */
static enum mg_err
inflate_member(struct zscan *z, size_t i, const uint8_t **data, size_t *dlen,
               uint8_t **owned)
{
	uint64_t pre = MG_NPY_PREFIX;
	enum mg_err err;
	char *m;
	int more, whole = 0;

	if (pre > z->o->max_decompressed)
		pre = z->o->max_decompressed;
	err = inflate_entry(z, i, pre, owned, dlen, &more);
	if (err != MG_OK || !more || *owned == NULL) {
		*data = *owned;
		return err;
	}
	if (mg_sniff(*owned, *dlen) == MG_FMT_NPY) {
		if ((m = member_path(z->parent, z->e[i].name)) == NULL)
			return MG_ERR_NOMEM;
		err = mg_npy_scan_prefix(z->o, m, *owned, *dlen, z->e[i].usize,
		                         z->rep, &whole);
		free(m);
	} else {
		whole = 1;
	}
	z->inflated -= *dlen;   /* the prefix is read again */
	free(*owned);
	*owned = NULL, *dlen = 0;
	if (err != MG_OK || !whole)
		return err;     /* done: *data stays NULL, nothing more to scan */
	err = inflate_entry(z, i, z->o->max_decompressed, owned, dlen, &more);
	*data = *owned;
	return err;
}

/* The bytes of entry @i: in place when stored, else inflated. */
static enum mg_err
entry_bytes(struct zscan *z, size_t i, const uint8_t **data, size_t *dlen,
            uint8_t **owned)
{
	struct zentry *e = &z->e[i];

	*owned = NULL, *data = NULL;
	if (e->flags & 1)
		return zfind(z, MG_VERDICT_ERROR, "zip.encrypted", e->name, 0,
		             "member is encrypted; its content cannot be checked");
	if (e->method != 0)
		return inflate_member(z, i, data, dlen, owned);
	if (!e->local_ok || e->csize > z->arlen - e->data)
		return zfind(z, MG_VERDICT_ERROR, "zip.unreadable", e->name,
		             e->lho, "member data lies outside the archive");
	*data = z->ar + e->data;
	*dlen = (size_t)e->csize;
	/* Why still compute it: a mismatch is how archives are made to look
	 * different to zipfile-based tools (which refuse the member) than to
	 * torch (which reads it); the reviewer should know, but the bytes
	 * scanned are the ones torch reads (see the top comment). */
	if (crc32_z(0, *data, *dlen) != e->crc)
		crc_mismatch(z, i);
	return MG_OK;
}

static enum mg_verdict
ts_cap(enum mg_verdict v)
{
	/* An unknown call too: the C++ unpickler calls no Python callable. */
	return v == MG_VERDICT_DANGEROUS || v == MG_VERDICT_UNKNOWN_CALL ?
	       MG_VERDICT_UNKNOWN : v;
}

/* Copy @src into @dst, global findings capped (see the top comment). */
static enum mg_err
merge_torchscript(struct mg_report *dst, const struct mg_report *src)
{
	const struct mg_finding *f;
	enum mg_verdict v;
	enum mg_err err = MG_OK;
	size_t i;

	for (i = 0; i < src->nfindings && err == MG_OK; i++) {
		f = &src->findings[i];
		v = f->global != NULL ? ts_cap(f->verdict) : f->verdict;
		err = mg_report_add(dst, v, f->rule, f->global, f->member,
		                    f->offset, "%s%s", v != f->verdict ?
		                    "read by TorchScript's C++ unpickler, which "
		                    "imports no Python: " : "", f->message);
	}
	for (i = 0; i < src->nglobals && err == MG_OK; i++)
		err = mg_report_add_global(dst, src->globals[i].module,
		                           src->globals[i].name,
		                           ts_cap(src->globals[i].verdict));
	/* findings the cap dropped still count, capped the same way */
	dst->dropped += src->dropped;
	if (ts_cap(src->verdict) > dst->verdict)
		dst->verdict = ts_cap(src->verdict);
	dst->npickles += src->npickles;
	return err;
}

/* A pickle member of a TorchScript archive. */
static enum mg_err
scan_torchscript_pickle(struct zscan *z, const char *m, const uint8_t *data,
                        size_t dlen)
{
	struct mg_report *tmp = mg_report_new();
	enum mg_err err;

	if (tmp == NULL)
		return MG_ERR_NOMEM;
	err = mg_scan_any(z->o, z->name, m, data, dlen, z->depth + 1, tmp);
	if (err == MG_OK)
		err = merge_torchscript(z->rep, tmp);
	mg_report_free(tmp);
	return err;
}

/*
 * Does stored storage entry @e begin with the npy magic?  torch never
 * unpickles a storage, but np.load serves every member of a zip (an .npz
 * is any zip) and reads one that begins with "\x93NUMPY" as an array, an
 * object array being a pickle.  Random weights start so with odds of
 * 2^-48, so checking costs no real checkpoint anything but one read where
 * the local header lies; a missing local header or data shorter than the
 * magic is read by no loader.
 */
static int
stored_npy(const struct zscan *z, const struct zentry *e)
{
	const uint8_t *l;
	uint64_t d;

	if (e->lho > z->arlen || z->arlen - e->lho < 30 || e->csize < 6)
		return 0;
	l = z->ar + e->lho;
	d = e->lho + 30 + mg_le16(l + 26) + mg_le16(l + 28);
	return d <= z->arlen && z->arlen - d >= 6 &&
	       memcmp(z->ar + d, "\x93NUMPY", 6) == 0;
}

/* Does @i hold something a loader interprets?  Then scan it. */
static enum mg_err
scan_entry(struct zscan *z, size_t i)
{
	struct zentry *e = &z->e[i];
	const char *b = base_name(e->name);
	const uint8_t *data = NULL;
	uint8_t *owned = NULL;
	size_t dlen = 0;
	enum mg_fmt f;
	enum mg_err err;
	char *m;
	/* Keras 3 reads config.json at the archive root of a .keras */
	int keras_cfg = strcmp(e->name, "config.json") == 0;
	/* A tensor storage is skipped unless another loader would read it
	 * (see stored_npy): the only member of a zip is read whatever its
	 * name (pandas.read_pickle), any member with the npy magic too. */
	int storage = is_storage(e->name) && z->n > 1;

	/* An empty directory entry holds nothing; one with bytes is served
	 * by zipfile like any member (np.load, pandas). */
	if (ends_with(e->name, "/") && e->csize == 0)
		return MG_OK;
	if (is_storage(e->name)) {
		if (storage && e->method == 0 && !(e->flags & 1) &&
		    !stored_npy(z, e))
			return MG_OK;
		/* read_directory() left storages' local headers unread. */
		check_local(z, e);
	}
	err = entry_bytes(z, i, &data, &dlen, &owned);
	if (err != MG_OK || data == NULL)
		goto out;
	if (storage && (dlen < 6 || memcmp(data, "\x93NUMPY", 6) != 0))
		goto out;
	f = mg_sniff(data, dlen);
	if (f == MG_FMT_UNKNOWN && !ends_with(b, ".pkl") && !keras_cfg)
		goto out;
	if ((m = member_path(z->parent, e->name)) == NULL) {
		err = MG_ERR_NOMEM;
		goto out;
	}
	if (keras_cfg && (z->nconfig || ends_with(z->name ? z->name : "",
	    ".keras")))
		err = mg_keras_config_scan(z->o, m, data, dlen, z->rep);
	else if (z->torchscript && (f == MG_FMT_PICKLE || ends_with(b, ".pkl")))
		err = scan_torchscript_pickle(z, m, data, dlen);
	else if (ends_with(b, ".pkl") && f != MG_FMT_PICKLE)
		/* torch unpickles data.pkl whatever else it looks like (a
		 * GGUF/pickle polyglot, garbage): scan it as a pickle. */
		err = mg_pickle_stream_scan(z->o, z->name, m, data, dlen,
		                            z->depth + 1, z->rep);
	else
		err = mg_scan_any(z->o, z->name, m, data, dlen, z->depth + 1,
		                  z->rep);
	free(m);
out:
	free(owned);
	return err;
}

/* Tally what the names say the archive is (for rep->format, findings). */
static void
classify(struct zscan *z)
{
	size_t i;
	const char *n;

	for (i = 0; i < z->n; i++) {
		n = z->e[i].name;
		if (strcmp(base_name(n), "data.pkl") == 0)
			z->npkl++;
		if (strcmp(base_name(n), "constants.pkl") == 0)
			z->nconst++;
		if (ends_with(n, "/constants.pkl") &&
		    strchr(n, '/') == n + strlen(n) - strlen("/constants.pkl"))
			z->torchscript = 1;
		if (ends_with(n, ".npy"))
			z->nnpy++;
		if ((strncmp(n, "code/", 5) == 0 || strstr(n, "/code/")) &&
		    ends_with(n, ".py"))
			z->ncode++;
		if (strcmp(n, "metadata.json") == 0 ||
		    strcmp(n, "model.weights.h5") == 0)
			z->nconfig = 1;
	}
}

static const char *
zip_format_name(const struct zscan *z)
{
	if (z->ncode || z->nconst)
		return "torchscript";
	if (z->npkl)
		return "torch-zip";
	if (z->nconfig)
		return "keras-zip";
	if (z->n > 0 && z->nnpy == z->n)
		return "npz";
	return "zip";
}

static enum mg_err
scan_members(struct zscan *z)
{
	enum mg_err err = MG_OK;
	size_t i;

	for (i = 0; i < z->n && err == MG_OK; i++) {
		if (!z->e[i].local_ok)
			err = zfind(z, MG_VERDICT_DANGEROUS, "zip.local_header",
			            z->e[i].name, z->e[i].lho, "the local header "
			            "is missing or disagrees with the central "
			            "directory (name, method or encryption flag)");
		/* Flags beyond deflate options (1-2), data descriptor (3) and
		 * UTF-8 names (11): patched data, strong encryption... that
		 * loaders refuse or read differently; we read as stored. */
		if (err == MG_OK && (z->e[i].flags & ~0x080fu) != 0)
			err = zfind(z, MG_VERDICT_UNKNOWN, "zip.flags",
			            z->e[i].name, z->e[i].lho, "unusual general "
			            "purpose flags; loaders disagree on such members");
		if (err == MG_OK)
			err = scan_entry(z, i);
	}
	if (err == MG_OK && z->ncode)
		err = zfind(z, MG_VERDICT_UNKNOWN, "torchscript.code", NULL, 0,
		            "TorchScript code: torch.jit.load compiles it and "
		            "it runs when the module is called");
	if (err == MG_OK)
		err = crc_summary(z);
	return err;
}

/*
 * The archive @zd of @buf, ending at @end (its end record, comment
 * included), members named under @parent.  @inflated carries the
 * decompression budget from one archive of the file to the next: a file of
 * many archives gets one budget, not one each.  *@fmt: what it is.
 */
static enum mg_err
scan_archive(const struct mg_scan_opts *o, const char *name,
             const char *parent, const uint8_t *buf,
             const struct mg_zipdir *zd, size_t end, unsigned depth,
             struct mg_report *rep, uint64_t *inflated, const char **fmt)
{
	struct zscan z;
	enum mg_err err;
	size_t i;

	memset(&z, 0, sizeof(z));
	z.o = o, z.name = name, z.parent = parent, z.depth = depth;
	z.rep = rep, z.zd = *zd, z.inflated = *inflated;
	z.ar = buf + zd->start;
	z.arlen = end - zd->start;
	err = read_directory(&z);
	if (err == MG_OK)
		err = check_duplicates(&z);
	classify(&z);
	*fmt = zip_format_name(&z);
	if (err == MG_OK)
		err = scan_members(&z);
	for (i = 0; i < z.n; i++)
		free((char *)z.e[i].name);
	free(z.e);
	if (z.lz != NULL)
		zip_discard(z.lz);
	*inflated = z.inflated;
	return err;
}

/* One archive of a file, or the bytes between two of them. */
struct span {
	struct mg_zipdir zd;
	size_t start, end;  /* [start, end) of the file */
	int gap;            /* 1: not an archive */
};

struct chain {
	struct span *v;
	size_t n, cap;
	size_t front;       /* bytes before the first archive found */
	size_t narchives;
};

static int
chain_push(struct chain *c, const struct mg_zipdir *zd, size_t start,
           size_t end, int gap)
{
	struct span *nv;

	if (start >= end)
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 8;
		if ((nv = realloc(c->v, c->cap * sizeof(*nv))) == NULL)
			return -1;
		c->v = nv;
	}
	memset(&c->v[c->n], 0, sizeof(c->v[0]));
	if (zd != NULL)
		c->v[c->n].zd = *zd;
	c->v[c->n].start = start, c->v[c->n].end = end, c->v[c->n].gap = gap;
	c->n++;
	c->narchives += !gap;
	return 0;
}

/* Where the archive of end record @zd ends: after its comment, at most
 * @lim (a comment may claim more bytes than are left). */
static size_t
archive_end(const uint8_t *buf, const struct mg_zipdir *zd, size_t lim)
{
	size_t e = zd->eocd + 22 + mg_le16(buf + zd->eocd + 20);

	return e < lim ? e : lim;
}

/*
 * Find the archives of @buf from the back (see the top comment): the last
 * one, then the one whose end record ends the bytes before it, and so on,
 * with whatever lies between two of them as a gap.  Stops at offset 0, or
 * where the bytes before an archive are not one (c->front then says how
 * many), or at the member cap (*@capped).  Spans come out last first.
 * 0, or -1 out of memory.
 */
static int
find_chain(const struct mg_scan_opts *o, const uint8_t *buf, size_t len,
           const struct mg_zipdir *last, struct chain *c, int *capped)
{
	struct mg_zipdir zd = *last;
	size_t end = len, front;

	*capped = 0;
	for (;;) {
		front = zd.start;
		/* Why trailing bytes only with two archives or more: after
		 * a lone archive they are what torch's reader ignores; in a
		 * checkpoint of many, a recorded range may start there. */
		/* Why the last archive keeps the file's end: torch's reader
		 * of a whole file reads members wherever they lie in it. */
		if (chain_push(c, NULL, archive_end(buf, &zd, end), end, 1) ||
		    chain_push(c, &zd, zd.start, end == len ? len :
		               archive_end(buf, &zd, end), 0))
			return -1;
		c->front = front;
		if (front == 0)
			return 0;
		if (c->narchives >= o->max_members) {
			*capped = 1;
			return 0;
		}
		end = front;
		/* Why these conditions: torch.load opens a range as an
		 * archive only if it starts with a local header, and an
		 * archive without entries holds nothing to find. */
		if (mg_zipdir_find(buf, end, &zd) != 0 || zd.start >= end ||
		    zd.entries == 0 || end - zd.start < 4 ||
		    memcmp(buf + zd.start, "PK\x03\x04", 4) != 0)
			return 0;
	}
}

/* "parent!@offset": the archive or gap at @off of a file of several. */
static char *
span_name(const char *parent, size_t off)
{
	char at[32];

	snprintf(at, sizeof(at), "@%zu", off);
	return member_path(parent, at);
}

/* Scan the spans of @c in file order. */
static enum mg_err
scan_chain(const struct mg_scan_opts *o, const char *name,
           const char *member, const uint8_t *buf, const struct chain *c,
           unsigned depth, struct mg_report *rep, const char **fmt)
{
	enum mg_err err = MG_OK;
	uint64_t inflated = 0;
	const struct span *sp;
	const char *f = NULL;
	char *m;
	size_t i;
	int torch_only = 1;

	*fmt = NULL;
	for (i = c->n; i-- > 0 && err == MG_OK;) {
		sp = &c->v[i];
		if (sp->gap && c->narchives < 2)
			continue;
		m = c->narchives > 1 ? span_name(member, sp->start) : NULL;
		if (c->narchives > 1 && m == NULL)
			return MG_ERR_NOMEM;
		if (sp->gap)
			err = mg_scan_any(o, name, m, buf + sp->start,
			                  sp->end - sp->start, depth + 1, rep);
		else
			err = scan_archive(o, name, m ? m : member, buf, &sp->zd,
			                   sp->end, depth, rep, &inflated, &f);
		if (!sp->gap && *fmt == NULL)
			*fmt = f;
		if (!sp->gap && (f == NULL || strcmp(f, "torch-zip") != 0))
			torch_only = 0;
		free(m);
	}
	if (c->narchives > 1 && torch_only)
		*fmt = "torch-dcp";
	return err;
}

enum mg_err
mg_zip_scan(const struct mg_scan_opts *o, const char *name,
            const char *member, const uint8_t *buf, size_t len,
            unsigned depth, struct mg_report *rep)
{
	struct mg_zipdir zd;
	struct chain c;
	const char *fmt = NULL;
	enum mg_err err = MG_OK;
	int capped;

	if (mg_zipdir_find(buf, len, &zd) != 0)
		return mg_report_add(rep, MG_VERDICT_ERROR, "zip.directory", NULL,
		                     member, 0, "zip archive without a valid "
		                     "central directory (truncated or damaged); "
		                     "its members cannot be checked");
	memset(&c, 0, sizeof(c));
	if (find_chain(o, buf, len, &zd, &c, &capped) != 0) {
		free(c.v);
		return MG_ERR_NOMEM;
	}
	if (capped)
		err = mg_report_add(rep, MG_VERDICT_ERROR, "zip.limit", NULL,
		                    member, 0, "more archives in one file than "
		                    "the member cap; those before byte %zu were "
		                    "not examined", c.front);
	/* Why not only front > 0: `zip -A` rewrites offsets to count from
	 * the file start, leaving the leading bytes in place. */
	else if (c.front > 0 || (len >= 4 && memcmp(buf, "PK\x03\x04", 4) &&
	         memcmp(buf, "PK\x05\x06", 4)))
		err = mg_report_add(rep, MG_VERDICT_UNKNOWN, "zip.prepended",
		                    NULL, member, 0, "bytes precede the zip "
		                    "archive; Python's zipfile opens it anyway");
	/* Why scan them when the file starts like an archive: no one else
	 * does (the sniffer said zip), and a range of them is what
	 * torch.load would be handed in a checkpoint of several. */
	if (err == MG_OK && !capped && c.front > 0 && c.narchives > 1 &&
	    memcmp(buf, "PK\x03\x04", 4) == 0)
		err = chain_push(&c, NULL, 0, c.front, 1) ? MG_ERR_NOMEM : MG_OK;
	if (err == MG_OK)
		err = scan_chain(o, name, member, buf, &c, depth, rep, &fmt);
	if (depth == 0 && fmt != NULL)
		rep->format = fmt;
	free(c.v);
	return err;
}
