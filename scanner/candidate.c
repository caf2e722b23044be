/*
 * candidate.c - could a loader execute this file?
 *
 * The preload asks the helper about a file only when this says so, so a
 * wrong "no" is a load nobody scans and a wrong "yes" is one round trip.
 * The answer is derived from the loaders, not from file names:
 *   - pickle.load (and torch.load, np.load(allow_pickle), joblib, pandas,
 *     shelve values) executes only by reaching a global or a call; from
 *     the first opcodes inert.c tells whether it must fail first;
 *   - containers a loader opens by their magic: zip (torch, npz, keras,
 *     pandas), .npy, HDF5, tar (tarfile accepts v7 headers by checksum:
 *     torch's legacy tar, pandas' .tar), and the databases shelve unpickles
 *     values from (Berkeley DB as Debian's dbm.ndbm, GDBM);
 *   - compression a loader undoes (gzip.open, joblib, pandas): what is
 *     inside cannot be seen here, so it is a candidate unless the name
 *     says the inside is data (the caller decides that).
 *
 * Why a pickle walk may run inside the preload, although DESIGN.md keeps
 * parsers out of the victim's address space: this one only decides
 * whether to ask the helper, over at most MG_CANDIDATE_WINDOW bytes the
 * preload read into its own stack buffer, with fixed-size state and no
 * allocation; its only output is "ask" or "do not ask".  Its failure modes
 * are bounded the same way: a wrong answer can send more files to the
 * helper, or skip one -- the risk the walk is built against, since it says
 * "inert" only where both unpicklers must fail.  The helper runs the very
 * same walk (scanner/inert.c), so the two never disagree on a file.
 */
#include <string.h>

#include "candidate.h"
#include "pickle.h"

static int
at(const uint8_t *buf, size_t len, size_t off, const char *magic, size_t n)
{
	return len >= off + n && memcmp(buf + off, magic, n) == 0;
}

int
mg_candidate_tar(const uint8_t *buf, size_t len)
{
	unsigned long sum = 0, want = 0;
	size_t i;

	if (len < 512)
		return 0;
	if (memcmp(buf + 257, "ustar", 5) == 0)
		return 1;
	/* Why also v7: Python's tarfile (and so torch's oldest format) reads
	 * pre-POSIX headers, recognised only by their checksum. */
	if (buf[0] == 0)
		return 0;
	/* Why the field first: it is cheap, and the preload runs this on
	 * every open it cannot rule out by name; text fails it at once. */
	for (i = 148; i < 156 && buf[i] == ' '; i++)
		;
	if (i == 156 || buf[i] < '0' || buf[i] > '7')
		return 0;
	for (; i < 156 && buf[i] >= '0' && buf[i] <= '7'; i++)
		want = want * 8 + (unsigned long)(buf[i] - '0');
	for (i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : buf[i];
	return want == sum;
}

size_t
mg_candidate_hdf5_later(const uint8_t *buf, size_t len)
{
	size_t off;

	for (off = MG_HDF5_USER_BLOCK_MIN; off + MG_HDF5_SIG_LEN <= len &&
	     off <= SIZE_MAX / 2; off *= 2)
		if (memcmp(buf + off, MG_HDF5_SIG, MG_HDF5_SIG_LEN) == 0)
			return off;
	return 0;
}

static uint32_t
u32(const uint8_t *p, int big)
{
	return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	             (uint32_t)p[2] << 8 | p[3]
	           : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	             (uint32_t)p[1] << 8 | p[0];
}

int
mg_candidate_dbm(const uint8_t *buf, size_t len)
{
	static const uint32_t bdb[] = { 0x061561, 0x053162, 0x042253 };
	static const uint32_t gdbm[] = { 0x13579ace, 0x13579acd, 0x13579acf };
	size_t i;
	int big;

	for (big = 0; big <= 1; big++)
		for (i = 0; i < 3; i++)
			if ((len >= 16 && u32(buf + 12, big) == bdb[i]) ||
			    (len >= 4 && u32(buf, big) == gdbm[i]))
				return 1;
	return 0;
}

/* The compression magics scan.c's sniffer decodes (7z excepted: no
 * loader undoes it). */
static int
is_compressed(const uint8_t *b, size_t len)
{
	return at(b, len, 0, "\x1f\x8b", 2) ||
	       (at(b, len, 0, "BZh", 3) && len > 3 && b[3] >= '1' &&
	        b[3] <= '9') ||
	       at(b, len, 0, "\xfd" "7zXZ\0", 6) ||
	       (len >= 13 && b[0] == 0x5d && b[1] == 0 && b[2] == 0) ||
	       at(b, len, 0, "\x28\xb5\x2f\xfd", 4) ||
	       at(b, len, 0, "\x04\x22\x4d\x18", 4) ||
	       (len >= 2 && b[0] == 0x78 && (b[0] * 256 + b[1]) % 31 == 0 &&
	        (b[1] == 0x01 || b[1] == 0x5e || b[1] == 0x9c ||
	         b[1] == 0xda)) ||
	       (at(b, len, 0, "ZF", 2) && len > 23 &&
	        (b[21] == 0x78 || (b[21] == ' ' && b[22] == 0x78)));
}

static int
is_container(const uint8_t *b, size_t len)
{
	return at(b, len, 0, "PK\x03\x04", 4) || at(b, len, 0, "PK\x05\x06", 4) ||
	       at(b, len, 0, "PK\x07\x08PK\x03\x04", 8) ||
	       at(b, len, 0, "PK00PK\x03\x04", 8) ||
	       at(b, len, 0, "\x93NUMPY", 6) ||
	       at(b, len, 0, MG_HDF5_SIG, MG_HDF5_SIG_LEN) ||
	       mg_candidate_tar(b, len) || mg_candidate_dbm(b, len);
}

enum mg_cand
mg_candidate_classify(const uint8_t *buf, size_t len, uint64_t size,
                      enum mg_cand_mode mode)
{
	const char *why;
	size_t off;

	if (buf == NULL || len < 2)
		return MG_CAND_NO;      /* nothing a loader reads to a global */
	/* PROTO of any protocol the loader knows (0-5). */
	if (buf[0] == 0x80 && buf[1] <= 5)
		return MG_CAND_YES;
	if (is_container(buf, len))
		return MG_CAND_YES;
	if (is_compressed(buf, len))
		return MG_CAND_COMPRESSED;
	if (mode == MG_CAND_MAGIC)
		return MG_CAND_NO;
	switch (mode == MG_CAND_WALK ?
	        mg_pickle_inert_window(buf, len, size, &off, &why) :
	        mg_pickle_inert_guarded_window(buf, len, size, &off, &why)) {
	case 1: return MG_CAND_NO;
	case 0: return MG_CAND_YES;
	}
	return MG_CAND_UNSURE;
}
