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
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../scanner/candidate.h"
#include "policy.h"

/*
 * Names that prove the file is code or package metadata: the import
 * system, not a loader, reads them (.py, .pyc, extension modules, wheel
 * and egg archives, stubs).  They stop before any system call: Python
 * opens hundreds of them at start-up.
 */
static const char *const code_exts[] = {
	"py", "pyc", "pyo", "pyi", "pyx", "pxd", "pxi", "so", "whl", "egg",
	NULL
};

/*
 * Names of text and image data: data no loader executes (nobody hands a
 * .json or a .csv to pickle.load), and, like code, they stop before any
 * system call.  Why not by content as well: (1) cost -- a program that
 * reads 100,000 small .json or .txt files would pay an fstat and a pread
 * for each, which measured beyond the 5% goal for these opens
 * (README, Benchmarks); (2) text begins with letters that are pickle
 * opcodes, and about one real text file in a hundred (measured on
 * /usr/share/doc, /etc and site-packages) walks to a GLOBAL or a STOP the
 * loader would reach, which the helper would deny.  Also the inside of
 * "x.csv.gz": compressed data under a data name is not a candidate.
 */
static const char *const data_exts[] = {
	"txt", "md", "rst", "csv", "tsv", "json", "jsonl", "ndjson", "yaml",
	"yml", "toml", "ini", "cfg", "conf", "xml", "html", "htm", "css", "js",
	"svg", "log", "pem", "crt", "png", "jpg", "jpeg", "gif", "typed",
	"lock", "mo", "c", "h", "a", "o", NULL
};

/* Wrappers a loader undoes (or, for .tar, torch's legacy tar format;
 * .zip, pandas' single-member zip): "x.pkl.gz", "checkpoint.pth.tar",
 * "x.pkl.zip" are models by name. */
static const char *const wrap_exts[] = {
	"gz", "bz2", "xz", "zst", "lz4", "z", "lzma", "tar", "zip", NULL
};

static int
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t e = strlen(suffix);

	return n > e && strncasecmp(s + n - e, suffix, e) == 0;
}

/* The extension of the last component of @path[0..n), without the dot,
 * or NULL. */
static const char *
ext_of(const char *path, size_t n, size_t *elen)
{
	size_t i;

	for (i = n; i > 0; i--) {
		if (path[i - 1] == '/')
			return NULL;
		if (path[i - 1] == '.') {
			*elen = n - i;
			return path + i;
		}
	}
	return NULL;
}

/* @path[0..n)'s extension is one of @exts. */
static int
ext_in(const char *path, size_t n, const char *const *exts)
{
	size_t elen = 0, i;
	const char *e = ext_of(path, n, &elen);

	if (e == NULL)
		return 0;
	for (i = 0; exts[i] != NULL; i++)
		if (strlen(exts[i]) == elen &&
		    strncasecmp(e, exts[i], elen) == 0)
			return 1;
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
is_metadata_path(const char *path)
{
	const char *info = strstr(path, "-info/");
	const char *git = strstr(path, ".git/");

	/* Why three searches, not seven: this runs on every open the
	 * extension does not decide; the rarer tests follow a hit. */
	if (info != NULL && ((info - path >= 5 && memcmp(info - 5, ".dist",
	                                                 5) == 0) ||
	                     (info - path >= 4 && memcmp(info - 4, ".egg",
	                                                 4) == 0)))
		return 1;
	if (git != NULL && (git == path || git[-1] == '/'))
		return 1;
	return strstr(path, "/refs/") != NULL &&
	       (strstr(path, "models--") != NULL ||
	        strstr(path, "datasets--") != NULL ||
	        strstr(path, "spaces--") != NULL);
}

/* Code, metadata (is_metadata_path) or text and image data. */
int
mg_policy_code_name(const char *path, size_t n)
{
	return ext_in(path, n, code_exts) || ext_in(path, n, data_exts) ||
	       is_metadata_path(path);
}

/* Model extension of @path[0..n): the policy's list, or the embedded
 * default's when the policy could not be loaded (so models are still
 * recognised, and denied with the policy error).  Works on a length so
 * "x.pkl.gz" can be tested as "x.pkl". */
static int
model_ext_n(const struct mg_policy *p, const char *path, size_t n)
{
	char tmp[256];

	if (p == NULL)
		return 0; /* no memory at start-up: content sniffing remains */
	/* Why a copy of at most 255 bytes: only the tail matters for an
	 * extension test; the policy function wants a string. */
	if (n >= sizeof(tmp)) {
		path += n - (sizeof(tmp) - 1);
		n = sizeof(tmp) - 1;
	}
	memcpy(tmp, path, n);
	tmp[n] = '\0';
	return mg_policy_model_ext(p, tmp);
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
	size_t elen = 0;

	if (!ext_in(path, n, wrap_exts))
		return 0;
	(void)ext_of(path, n, &elen);
	return elen + 1;
}

static int
wrapped_model_name(const struct mg_policy *p, const char *path, size_t n)
{
	size_t e = wrap_len(path, n);

	return e != 0 && model_ext_n(p, path, n - e);
}

/* "x.csv.gz": compressed, and the name says the inside is data. */
static int
wrapped_data_name(const char *path, size_t n)
{
	size_t e = path != NULL ? wrap_len(path, n) : 0;

	return e != 0 && ext_in(path, n - e, data_exts);
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
second_look(int fd, const struct stat *st, enum mg_cand_mode mode)
{
	unsigned char b[MG_CANDIDATE_WINDOW2];
	ssize_t got = head(fd, b, sizeof(b));

	if (got < 2)
		return 1;       /* it was readable a moment ago: ask */
	return mg_candidate_classify(b, (size_t)got, (uint64_t)st->st_size,
	                             mode) != MG_CAND_NO;
}

/*
 * The candidate test: could a loader execute this file?  Allocation-free,
 * lock-free, vfork-safe; one pread of MG_CANDIDATE_WINDOW bytes at offset
 * 0 (never the caller's offset) for files the name does not decide.
 */
int
mg_policy_candidate(const struct mg_policy *p, int sniff, int fd,
                    const char *path, const struct stat *st)
{
	unsigned char b[MG_CANDIDATE_WINDOW];
	size_t n = path ? strlen(path) : 0;
	enum mg_cand_mode mode = MG_CAND_WALK;
	enum mg_cand c;
	ssize_t got;

	if (!S_ISREG(st->st_mode) || st->st_size < 2)
		return 0;
	if (path != NULL && ((model_ext_n(p, path, n) && !is_site_pth(path, n)) ||
	                     wrapped_model_name(p, path, n) ||
	                     ends_with(path, n, ".zip")))
		return 1;       /* why any .zip: see the top of the file */
	if (path != NULL && mg_policy_code_name(path, n))
		return 0;
	if (!sniff)
		return 0;
	/* Why magic only for a site .pth: site.py reads its lines, and an
	 * "import ..." line walks like a GLOBAL. */
	if (path != NULL && is_site_pth(path, n))
		mode = MG_CAND_MAGIC;
	if ((got = head(fd, b, sizeof(b))) < 2)
		return 0;
	c = mg_candidate_classify(b, (size_t)got, (uint64_t)st->st_size, mode);
	if (c == MG_CAND_COMPRESSED)
		return !wrapped_data_name(path, n);
	if (c == MG_CAND_UNSURE)
		return second_look(fd, st, mode);
	return c == MG_CAND_YES;
}

int
mg_policy_model_name(const struct mg_policy *p, const char *path, size_t n)
{
	return model_ext_n(p, path, n) || wrapped_model_name(p, path, n);
}

