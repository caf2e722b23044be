/*
 * candidate.h - could a loader execute this file?  The content half of
 * the preload's candidate test (preload/gate.c has the name half).
 *
 * Pure functions over the first bytes of a file: no allocation, no lock,
 * no system call, so the preload carries a hidden copy and runs it on
 * every open it does not rule out by name.  The scanner uses the same
 * tar-header test, so both read a tar the same way.
 */
#ifndef MG_CANDIDATE_H
#define MG_CANDIDATE_H

#include <stddef.h>
#include <stdint.h>

/* Why 512: a tar header is one 512-byte block (checksum at 148, "ustar"
 * at 257), and it is what the page cache copies for a pread anyway. */
#define MG_CANDIDATE_WINDOW 512
/* The second look when the first window cannot tell (MG_CAND_UNSURE):
 * one file in a hundred of random bytes, still on the caller's stack. */
#define MG_CANDIDATE_WINDOW2 4096

/* What the first bytes say. */
enum mg_cand {
	MG_CAND_NO = 0,         /* no loader can execute anything from it */
	MG_CAND_YES,            /* a pickle, a container, a database: ask */
	MG_CAND_COMPRESSED,     /* a compression a loader undoes: ask, unless
	                           the name says what is inside is data */
	MG_CAND_UNSURE,         /* the opcode walk needs bytes past @len: a
	                           candidate, unless a larger window says no */
};

/* What the modes of mg_candidate_classify() look at. */
enum mg_cand_mode {
	MG_CAND_MAGIC = 0,      /* magic numbers only (a site .pth file) */
	MG_CAND_WALK,           /* and the pickle opcode walk (inert.c) */
	MG_CAND_WALK_GUARDED,   /* the walk where the guard refuses names no
	                           attribute has (data names, in the preload) */
};

/*
 * Classify the first @len bytes @buf of a file of @size bytes (@len is at
 * most @size; the preload reads MG_CANDIDATE_WINDOW).  MG_CAND_YES for a
 * pickle PROTO, a zip (local, end or spanned marker), .npy, HDF5, a tar
 * header with a valid checksum, a Berkeley DB or GDBM database (shelve's
 * dbm), and, with MG_CAND_WALK, bytes from which the pickle loader may
 * reach a global or a call (mg_pickle_inert_window() says not inert);
 * MG_CAND_UNSURE when the window is too short to tell; MG_CAND_COMPRESSED
 * for gzip, bzip2, xz, lzma-alone, zstd, lz4 frame, zlib and joblib's
 * 'ZF'; MG_CAND_NO otherwise.
 */
enum mg_cand mg_candidate_classify(const uint8_t *buf, size_t len,
                                   uint64_t size, enum mg_cand_mode mode);

/*
 * 1 if @buf[0..@len) starts with a tar header block Python's tarfile
 * accepts: "ustar" at 257, or a pre-POSIX (v7) header whose checksum at
 * 148 holds.  0 otherwise (also for @len < 512).
 */
int mg_candidate_tar(const uint8_t *buf, size_t len);

/*
 * 1 if @buf[0..@len) starts a Berkeley DB database (hash, btree or queue:
 * the magic at offset 12 of its meta page, in either byte order) or a
 * GDBM one (magic at 0): what dbm.ndbm (Berkeley DB on Debian) and
 * dbm.gnu write for shelve.
 */
int mg_candidate_dbm(const uint8_t *buf, size_t len);

/*
 * Where libhdf5 looks for a superblock (H5FD_locate_signature): offset 0,
 * then every power of two from 512 while the 8-byte signature fits in the
 * file.  A file with a user block (h5py's userblock_size, PyTables'
 * USER_BLOCK_SIZE) starts with whatever its writer put there, so its
 * first window proves nothing.
 */
#define MG_HDF5_SIG "\x89HDF\r\n\x1a\n"
#define MG_HDF5_SIG_LEN 8
#define MG_HDF5_USER_BLOCK_MIN 512

/* The first user-block offset (512, 1024, ...) at which @buf[0..@len),
 * the first bytes of a file, has the HDF5 signature; 0 if none does. */
size_t mg_candidate_hdf5_later(const uint8_t *buf, size_t len);

#endif /* MG_CANDIDATE_H */
