/*
 * candidate.c - the candidate test: could a loader execute this file?
 * Shared by the preload (preload/gate.c, on every open of a protected
 * process) and the watch daemon (cli/watch_scope.c, on every fanotify
 * open event), so both send the same files to the helper.
 *
 * Ordered by cost, allocation-free, lock-free, vfork-safe: the name first
 * (code, metadata and text names stop before any system call the caller
 * makes; model names are candidates), then, if the policy sniffs, one
 * pread of MG_CANDIDATE_WINDOW bytes at offset 0 (never the caller's
 * offset) judged by scanner/candidate.c.  The steps and the reasons for
 * each list are in preload/gate.c's header and the README.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../scanner/candidate.h"
#include "policy.h"
#include "policy_int.h"

/*
 * Names that prove the file is code or package metadata: the import
 * system, not a loader, reads them (.py, .pyc, extension modules, wheel
 * and egg archives, stubs).  They stop before any system call: Python
 * opens hundreds of them at start-up.
 */
static const uint64_t code_exts[] = {
	MG_EXT_KEY("py"), MG_EXT_KEY("pyc"), MG_EXT_KEY("pyo"),
	MG_EXT_KEY("pyi"), MG_EXT_KEY("pyx"), MG_EXT_KEY("pxd"),
	MG_EXT_KEY("pxi"), MG_EXT_KEY("so"), MG_EXT_KEY("whl"),
	MG_EXT_KEY("egg"), 0
};

/*
 * Names of text and image data: nobody hands a .json or a .csv to
 * pickle.load on purpose, so their content is judged by magic numbers
 * (a binary pickle, a container, compression), at the first read
 * (preload/gate.c), not by the opcode walk.  Why not the walk: text
 * begins with letters that are pickle opcodes, and 74 of 25,681 real text
 * files (/usr/share, /etc, both stacks' site-packages) walk to a GLOBAL
 * of a module with an identifier's name ("ctest_build\n-----"), which the
 * loader imports before it fails: the helper would deny them.  Where the
 * guard refuses (mg_guard_refusing), a data name's first read takes the
 * walk after all, with the guard's name test (MG_CONTENT_GUARDED): a
 * name like "-----" never reaches the import there, and 1 file of the
 * 25,681 stays a candidate that is denied (an INST line "isympy").
 * Compressed content is a candidate under every name, "x.csv.gz" and a
 * gzip'd "notes.txt" too: pandas.read_pickle("x.csv.gz") infers gzip
 * from the name and unpickles what it inflates, and the helper decides a
 * compressed non-pickle on its first 64 KiB (the verdict is cached).
 */
static const uint64_t data_exts[] = {
	MG_EXT_KEY("txt"), MG_EXT_KEY("md"), MG_EXT_KEY("rst"),
	MG_EXT_KEY("csv"), MG_EXT_KEY("tsv"), MG_EXT_KEY("json"),
	MG_EXT_KEY("jsonl"), MG_EXT_KEY("ndjson"), MG_EXT_KEY("yaml"),
	MG_EXT_KEY("yml"), MG_EXT_KEY("toml"), MG_EXT_KEY("ini"),
	MG_EXT_KEY("cfg"), MG_EXT_KEY("conf"), MG_EXT_KEY("xml"),
	MG_EXT_KEY("html"), MG_EXT_KEY("htm"), MG_EXT_KEY("css"),
	MG_EXT_KEY("js"), MG_EXT_KEY("svg"), MG_EXT_KEY("log"),
	MG_EXT_KEY("pem"), MG_EXT_KEY("crt"), MG_EXT_KEY("png"),
	MG_EXT_KEY("jpg"), MG_EXT_KEY("jpeg"), MG_EXT_KEY("gif"),
	MG_EXT_KEY("typed"), MG_EXT_KEY("lock"), MG_EXT_KEY("mo"),
	MG_EXT_KEY("c"), MG_EXT_KEY("h"), MG_EXT_KEY("a"), MG_EXT_KEY("o"), 0
};

/*
 * Databases a C library reads (Berkeley DB's "x.db" behind dbm.ndbm,
 * GDBM): judged at the open, not at the first read.  Why: a read denied
 * under libdb is reported by dbm as "db file doesn't exist", while a
 * denied open is the PermissionError every other load gets.
 */
static const uint64_t db_exts[] = {
	MG_EXT_KEY("db"), MG_EXT_KEY("gdbm"), MG_EXT_KEY("dbm"),
	MG_EXT_KEY("ndbm"), 0
};

/* Wrappers a loader undoes (or, for .tar, torch's legacy tar format;
 * .zip, pandas' single-member zip): "x.pkl.gz", "checkpoint.pth.tar",
 * "x.pkl.zip" are models by name. */
static const uint64_t wrap_exts[] = {
	MG_EXT_KEY("gz"), MG_EXT_KEY("bz2"), MG_EXT_KEY("xz"),
	MG_EXT_KEY("zst"), MG_EXT_KEY("lz4"), MG_EXT_KEY("z"),
	MG_EXT_KEY("lzma"), MG_EXT_KEY("tar"), MG_EXT_KEY("zip"), 0
};

static int
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t e = strlen(suffix);

	return n > e && strncasecmp(s + n - e, suffix, e) == 0;
}

/*
 * Why keys, not strcasecmp over each list: this runs on every open of a
 * protected process, and comparing the 53 names one by one measured
 * about 3,400 instructions per open of a .txt (callgrind), most of the
 * preload's cost there; one pass over the name and integer compares
 * are a few dozen.
 */
void
mg_ext_of(const char *path, size_t n, struct mg_ext *e)
{
	size_t i, k;

	e->s = NULL;
	e->len = 0;
	e->key = 0;
	for (i = n; i > 0 && path[i - 1] != '/'; i--)
		if (path[i - 1] == '.')
			break;
	if (i == 0 || path[i - 1] != '.')
		return;
	e->s = path + i;
	e->len = n - i;
	for (k = 0; k < e->len; k++) {
		unsigned char c = (unsigned char)e->s[k];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (e->len <= 8)
			e->key |= (uint64_t)c << (8 * k);
		else    /* FNV-1a: ".safetensors" gets a key too */
			e->key = ((k ? e->key : 0xcbf29ce484222325ull) ^ c) *
			         0x100000001b3ull;
	}
	if (e->len > 8 && e->key == 0)
		e->key = 1;
}

/* @key (an mg_ext key, 0 for none) is in the 0-ended list @keys. */
static int
key_in(uint64_t key, const uint64_t *keys)
{
	size_t i;

	if (key == 0)
		return 0;
	for (i = 0; keys[i] != 0; i++)
		if (keys[i] == key)
			return 1;
	return 0;
}

/*
 * The lists above as one open-addressed table, key -> what the lists say
 * of it (0 = empty slot): mg_policy_name_class, on every open, probes it
 * once instead of comparing the key with up to 57 entries.  Built by a
 * constructor that runs before the library's others (the preload's asks
 * for names at start-up); until it has, the lists are searched.
 */
enum { KIND_CODE = 1, KIND_DATA = 2, KIND_WRAP = 4, KIND_DB = 8 };
enum { KIND_SLOTS = 128 };      /* a power of two, over twice the keys */
static uint64_t kind_key[KIND_SLOTS];
static unsigned char kind_bits[KIND_SLOTS];
static int kinds_built;

static size_t
kind_slot(uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 57) % KIND_SLOTS;
}

static void
kind_add(const uint64_t *keys, unsigned bit)
{
	size_t s;

	for (; *keys != 0; keys++) {
		for (s = kind_slot(*keys); kind_key[s] != 0 &&
		     kind_key[s] != *keys; s = (s + 1) % KIND_SLOTS)
			;
		kind_key[s] = *keys;
		kind_bits[s] |= (unsigned char)bit;
	}
}

/* --- names that can wait ------------------------------------------------- */

void
mg_tail_set_add(struct mg_tail_set *t, const char *s, size_t len)
{
	const unsigned char *e = (const unsigned char *)s + len;
	unsigned h;

	if (len == 0) {
		t->all = 1;
	} else if (len == 1) {
		t->has1 = 1;
		h = e[-1] | 0x20u;
		t->b1[h >> 6] |= 1ull << (h & 63);
	} else if (len == 2) {
		t->has2 = 1;
		h = mg_tail_hash(e, 2);
		t->b2[h >> 6] |= 1ull << (h & 63);
	} else {
		h = mg_tail_hash(e, 3);
		t->b3[h >> 6] |= 1ull << (h & 63);
	}
}

static void
tails_add(struct mg_tail_set *t, const uint64_t *keys)
{
	char dotted[10];
	size_t k;

	for (; *keys != 0; keys++) {
		dotted[0] = '.';
		for (k = 0; k < 8 && ((*keys >> (8 * k)) & 0xff) != 0; k++)
			dotted[1 + k] = (char)((*keys >> (8 * k)) & 0xff);
		mg_tail_set_add(t, dotted, 1 + k);
	}
}

/*
 * The endings that make classify() decide more than SKIP, DATA or OTHER
 * by the last extension alone: ".zip", ".dir" (a dbm.dumb index), ".pth"
 * (a site .pth: magic numbers only), a wrapper's (x.pkl.gz), a database's
 * (judged at the open).  With the policy's extensions (a model name, even
 * one a code or data list names), they are all the tests classify() makes
 * of more than the last extension's key.
 */
void
mg_policy_add_open_tails(struct mg_tail_set *t)
{
	static const uint64_t own[] = {
		MG_EXT_KEY("zip"), MG_EXT_KEY("dir"), MG_EXT_KEY("pth"), 0
	};

	tails_add(t, wrap_exts);
	tails_add(t, db_exts);
	tails_add(t, own);
}

__attribute__((constructor(101))) static void
kinds_index(void)
{
	kind_add(code_exts, KIND_CODE);
	kind_add(data_exts, KIND_DATA);
	kind_add(wrap_exts, KIND_WRAP);
	kind_add(db_exts, KIND_DB);
	kinds_built = 1;
}

/* What the lists say of extension key @key: KIND_ bits, 0 for none. */
static unsigned
kind_of(uint64_t key)
{
	size_t s;

	if (key == 0)
		return 0;
	if (!kinds_built)
		return (key_in(key, code_exts) ? KIND_CODE : 0) |
		       (key_in(key, data_exts) ? KIND_DATA : 0) |
		       (key_in(key, wrap_exts) ? KIND_WRAP : 0) |
		       (key_in(key, db_exts) ? KIND_DB : 0);
	for (s = kind_slot(key); kind_key[s] != 0; s = (s + 1) % KIND_SLOTS)
		if (kind_key[s] == key)
			return kind_bits[s];
	return 0;
}

/*
 * Metadata no loader reads: a package's (RECORD, METADATA, LICENSE under
 * *.dist-info/: importlib.metadata reads them), git's, and the refs of
 * a Hugging Face cache (hub/models--o--m/refs/main: a commit hash that
 * huggingface_hub reads on every from_pretrained).  Why by name: a hash
 * starting with 'c' is a GLOBAL whose module pickle.py would import.
 */
static int
seg_is(const char *seg, size_t len, const char *name)
{
	size_t e = strlen(name);

	return len == e && memcmp(seg, name, e) == 0;
}

static int
seg_ends(const char *seg, size_t len, const char *suffix)
{
	size_t e = strlen(suffix);

	return len >= e && memcmp(seg + len - e, suffix, e) == 0;
}

/* Why one walk over the directories, not a strstr per marker: this runs
 * on every open the extension does not decide. */
static int
is_metadata_path(const char *path, size_t n)
{
	const char *seg = path, *end = path + n, *slash;
	size_t len;

	while ((slash = memchr(seg, '/', (size_t)(end - seg))) != NULL) {
		len = (size_t)(slash - seg);
		if (seg_ends(seg, len, ".dist-info") ||
		    seg_ends(seg, len, ".egg-info") || seg_is(seg, len, ".git"))
			return 1;
		if (seg_is(seg, len, "refs") &&
		    (strstr(path, "models--") != NULL ||
		     strstr(path, "datasets--") != NULL ||
		     strstr(path, "spaces--") != NULL))
			return 1;
		seg = slash + 1;
	}
	return 0;
}

/* Model extension of @path[0..n): the policy's list, or the embedded
 * default's when the policy could not be loaded (so models are still
 * recognised, and denied with the policy error).  Works on a length so
 * "x.pkl.gz" can be tested as "x.pkl". */
static int
model_ext_n(const struct mg_policy *p, const char *path, size_t n)
{
	if (p == NULL)
		return 0; /* no memory at start-up: content sniffing remains */
	return mg_policy_model_ext_n(p, path, n);
}

/* A ".pth" directly inside site-packages/dist-packages: site.py's path
 * file, sent to the helper only if its bytes say model. */
static int
is_site_pth(const char *path, size_t n)
{
	return ends_with(path, n, ".pth") &&
	       (strstr(path, "/site-packages/") != NULL ||
	        strstr(path, "/dist-packages/") != NULL) &&
	       strchr(strstr(path, "-packages/") + 10, '/') == NULL;
}

/* The length of the wrapper extension @path[0..n) ends with, with its
 * dot, or 0. */
static size_t
wrap_len(const char *path, size_t n)
{
	struct mg_ext e;

	mg_ext_of(path, n, &e);
	return key_in(e.key, wrap_exts) ? e.len + 1 : 0;
}

static int
wrapped_model_name(const struct mg_policy *p, const char *path, size_t n)
{
	size_t e = wrap_len(path, n);

	return e != 0 && model_ext_n(p, path, n - e);
}

/*
 * "X.dir" with a regular "X.dat" beside it: a dbm.dumb index, text that
 * no content test would send, which dumb.py reads at shelve.open before
 * any value (scanner/dumb.c judges the database from it).  Why on the
 * name: its cost is one key compare unless the extension is "dir", then
 * one fstatat.  A relative name whose .dat is not found from the working
 * directory may have been opened under a directory descriptor: unsure,
 * so a candidate (the helper resolves the open file's real path).
 */
static int
is_dumb_index(const char *path, size_t n)
{
	char sib[PATH_MAX];
	struct stat st;

	if (n < 5 || memcmp(path + n - 4, ".dir", 4) != 0 ||
	    path[n - 5] == '/')
		return 0;
	if (n >= sizeof(sib))
		return 1;
	memcpy(sib, path, n - 4);
	memcpy(sib + n - 4, ".dat", 5);
	if (fstatat(AT_FDCWD, sib, &st, 0) == 0)
		return S_ISREG(st.st_mode);
	return path[0] != '/';
}

/* pread @cap bytes at 0 into @b, retrying EINTR. */
static ssize_t
head(int fd, unsigned char *b, size_t cap)
{
	ssize_t got;

	do
		got = pread(fd, b, cap, 0);
	while (got < 0 && errno == EINTR);
	return got;
}

/* The first window could not tell (a string or a line runs past it):
 * one larger look; still unsure is a candidate.  Why a function of its
 * own: its 4 KiB buffer is on the stack only for these files. */
static __attribute__((noinline)) int
second_look(int fd, const struct stat *st, unsigned flags)
{
	unsigned char b[MG_CANDIDATE_WINDOW2];
	ssize_t got = head(fd, b, sizeof(b));

	if (got < 2)
		return 1;       /* it was readable a moment ago: ask */
	return mg_policy_bytes_candidate(b, (size_t)got,
	                                 (uint64_t)st->st_size,
	                                 flags) != MG_CAND_NO;
}

static enum mg_name_class
classify(const struct mg_policy *p, const char *path, size_t n,
         unsigned *flags, int metadata)
{
	struct mg_ext e;
	unsigned kind;
	int wrap, pth;

	*flags = 0;
	mg_ext_of(path, n, &e);
	kind = kind_of(e.key);
	if (kind & (KIND_CODE | KIND_DATA)) {
		/* A code or data extension is no wrapper, so the only model
		 * name it can be is one of the policy's own extensions (a
		 * policy may list .txt). */
		if (p != NULL && mg_policy_model_ext_key(p, path, n, e.key))
			return MG_NAME_MODEL;
		*flags = MG_CONTENT_MAGIC;
		return (kind & KIND_CODE) ? MG_NAME_SKIP : MG_NAME_DATA;
	}
	/* Why the extension's key decides which tests run: this is on
	 * every open (see mg_ext_of). */
	wrap = (kind & KIND_WRAP) != 0;
	pth = e.key == MG_EXT_KEY("pth") && is_site_pth(path, n);
	/* Why any .zip: see the top of the file. */
	if ((p != NULL && mg_policy_model_ext_key(p, path, n, e.key) && !pth) ||
	    (wrap && model_ext_n(p, path, n - e.len - 1)) ||
	    e.key == MG_EXT_KEY("zip"))
		return MG_NAME_MODEL;
	if (e.key == MG_EXT_KEY("dir") && is_dumb_index(path, n))
		return MG_NAME_MODEL;
	if (metadata && is_metadata_path(path, n))
		return MG_NAME_SKIP;
	/* Why magic only for a site .pth: site.py reads its lines, and an
	 * "import ..." line walks like a GLOBAL. */
	if (pth)
		*flags = MG_CONTENT_MAGIC;
	if (kind & KIND_DB)
		*flags |= MG_CONTENT_AT_OPEN;
	return MG_NAME_OTHER;
}

enum mg_name_class
mg_policy_name_class(const struct mg_policy *p, const char *path, size_t n,
                     unsigned *flags)
{
	return classify(p, path, n, flags, 1);
}

enum mg_name_class
mg_policy_name_class_lazy(const struct mg_policy *p, const char *path,
                          size_t n, unsigned *flags)
{
	return classify(p, path, n, flags, 0);
}

/*
 * Why this exists: on the open of a name with no deciding extension
 * (notes.txt, README), the test of its class was most of the preload's
 * cost (callgrind: ~220 of ~490 instructions per os.open+os.close), and
 * nothing needs that class before the file's first read, except a model
 * name's (judged at the open).  Three bit tests rule a model name out;
 * the preload keeps the name's last bytes and classifies them at the
 * first read (preload/gate.c).  The policy's set holds its extensions
 * and the endings mg_policy_add_open_tails adds (mg_policy_finalize).
 */
int
mg_policy_name_late(const struct mg_policy *p, const char *path, size_t n)
{
	return p != NULL && p->sniff && p->ext_tails.built && kinds_built &&
	       !mg_tail_set_maybe(&p->ext_tails, path, n);
}

/* What classify() returns for a late name: its code and data branch
 * (no policy extension matched, mg_policy_name_late), or OTHER with no
 * flags (none of the endings it tests further). */
enum mg_name_class
mg_policy_tail_class(const char *tail, size_t len, unsigned *flags)
{
	struct mg_ext e;
	unsigned kind;

	mg_ext_of(tail, len, &e);
	kind = kind_of(e.key);
	*flags = 0;
	if (!(kind & (KIND_CODE | KIND_DATA)))
		return MG_NAME_OTHER;
	*flags = MG_CONTENT_MAGIC;
	return (kind & KIND_CODE) ? MG_NAME_SKIP : MG_NAME_DATA;
}

enum mg_cand
mg_policy_bytes_candidate(const uint8_t *b, size_t len, uint64_t size,
                          unsigned flags)
{
	enum mg_cand c = mg_candidate_classify(b, len, size,
	                                       (flags & MG_CONTENT_GUARDED) ?
	                                       MG_CAND_WALK_GUARDED :
	                                       (flags & MG_CONTENT_MAGIC) ?
	                                       MG_CAND_MAGIC : MG_CAND_WALK);

	return c == MG_CAND_COMPRESSED ? MG_CAND_YES : c;
}

/* Why one 8-byte pread per offset: about log2(size) - 8 of them, asked
 * only of files the window said no to. */
int
mg_policy_hdf5_past_window(int fd, off_t size)
{
	unsigned char sig[MG_HDF5_SIG_LEN];
	off_t off;
	ssize_t got;

	for (off = MG_HDF5_USER_BLOCK_MIN;
	     off <= size - MG_HDF5_SIG_LEN && off <= INT64_MAX / 2; off *= 2) {
		do
			got = pread(fd, sig, sizeof(sig), off);
		while (got < 0 && errno == EINTR);
		if (got == (ssize_t)sizeof(sig) &&
		    memcmp(sig, MG_HDF5_SIG, sizeof(sig)) == 0)
			return 1;
	}
	return 0;
}

int
mg_policy_content_candidate(int fd, const struct stat *st, unsigned flags)
{
	unsigned char b[MG_CANDIDATE_WINDOW];
	enum mg_cand c;
	ssize_t got;

	if ((got = head(fd, b, sizeof(b))) < 2)
		return 0;
	c = mg_policy_bytes_candidate(b, (size_t)got, (uint64_t)st->st_size,
	                              flags);
	if (c == MG_CAND_UNSURE)
		return second_look(fd, st, flags);
	/* Why every name: tables.open_file and pandas.read_hdf open any. */
	if (c == MG_CAND_NO && !(flags & MG_CONTENT_WINDOW_ONLY) &&
	    st->st_size >= MG_HDF5_USER_BLOCK_MIN + MG_HDF5_SIG_LEN)
		return mg_policy_hdf5_past_window(fd, st->st_size);
	return c == MG_CAND_YES;
}

/*
 * The candidate test: could a loader execute this file?  Allocation-free,
 * lock-free, vfork-safe; one pread of MG_CANDIDATE_WINDOW bytes at offset
 * 0 (never the caller's offset) for files the name does not decide, data
 * names included (magic numbers only: see data_exts).  The preload judges
 * most of those at their first read instead (preload/gate.c).
 */
int
mg_policy_candidate(const struct mg_policy *p, int sniff, int fd,
                    const char *path, const struct stat *st)
{
	unsigned flags = 0;

	if (!S_ISREG(st->st_mode) || st->st_size < 2)
		return 0;
	if (path != NULL) {
		switch (mg_policy_name_class(p, path, strlen(path), &flags)) {
		case MG_NAME_MODEL: return 1;
		case MG_NAME_SKIP: return 0;
		case MG_NAME_DATA: case MG_NAME_OTHER: break;
		}
	}
	return sniff && mg_policy_content_candidate(fd, st, flags);
}

int
mg_policy_metadata_path(const char *path)
{
	return is_metadata_path(path, strlen(path));
}

int
mg_policy_model_name(const struct mg_policy *p, const char *path, size_t n)
{
	return model_ext_n(p, path, n) || wrapped_model_name(p, path, n);
}

