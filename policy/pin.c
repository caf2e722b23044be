/*
 * pin.c - SHA-256 of model files, lockfiles (the pin table) and the
 * pre-scan checks: pins, then registry rules.
 *
 * Hashing streams the file with large preads (the caller's offset never
 * moves) and tells the kernel we read sequentially; mmap was rejected
 * because a file truncated under us would SIGBUS the helper.
 *
 * Pins are by content: a hash pinned "allow" is trusted wherever it lives
 * (the scan is skipped); a hash pinned "deny" is dangerous wherever it
 * lives; a path pinned to one hash that now holds another is dangerous
 * (tampered); with require_pin every file whose hash is not pinned allow
 * is dangerous.  Lockfile paths and the scanned file are compared after
 * resolving symlinks (the Hugging Face cache is made of them), the
 * scanned file through /proc/self/fd so the path we compare is the file
 * we hashed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Why the SHA256_* functions, deprecated in OpenSSL 3: they hash with the
 * same code as the EVP digest, but without the library initialisation
 * the EVP route starts with (configuration file, provider and name
 * tables), which was ~6 M instructions, more than half of a `modelgate
 * scan` of one small file.  No lookup per file either. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "pin.h"
#include "policy_int.h"

/* Why 4 MiB: large enough that syscall cost vanishes next to hashing,
 * small enough to stay in L2/L3 between the read and the digest. */
#define CHUNK (4u << 20)

static const char digits[] = "0123456789abcdef";
enum mg_err
mg_pin_sha256_fd(int fd, char hex[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned int i;
	SHA256_CTX ctx;
	unsigned char *buf = NULL;
	enum mg_err err = MG_ERR_NOMEM;
	off_t off = 0;
	ssize_t n;
	struct stat st;
	size_t chunk = CHUNK;

	/* Why size the buffer to the file: the helper hashes every small
	 * .npy of a dataset; a 4 MiB allocation (an mmap and munmap each
	 * time) would dominate those round trips. */
	if (fstat(fd, &st) == 0 && st.st_size >= 0 && (uint64_t)st.st_size < CHUNK)
		chunk = st.st_size < 4096 ? 4096 : (size_t)st.st_size + 1;
	buf = malloc(chunk);
	if (buf == NULL || SHA256_Init(&ctx) != 1)
		goto out;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		n = pread(fd, buf, chunk, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = MG_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		if (SHA256_Update(&ctx, buf, (size_t)n) != 1)
			goto out;
		off += n;
	}
	if (SHA256_Final(md, &ctx) != 1)
		goto out;
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	err = MG_OK;
out:
	free(buf);
	return err;
}

enum mg_err
mg_pin_sha256_cached(const struct mg_hashcache *c, int fd, char hex[65],
                     int *hit)
{
	struct stat st;
	enum mg_err e;

	if (hit != NULL)
		*hit = 0;
	if (c == NULL || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return mg_pin_sha256_fd(fd, hex);
	if (mg_hashcache_lookup(c, &st, hex)) {
		if (hit != NULL)
			*hit = 1;
		return MG_OK;
	}
	e = mg_pin_sha256_fd(fd, hex);
	if (e == MG_OK)
		mg_hashcache_store(c, &st, hex);
	return e;
}

char *
mg_slurp_fd(int fd, size_t max, size_t *len)
{
	size_t n = 0, cap = 4096;
	char *buf = malloc(cap + 1), *nb;
	ssize_t r;

	while (buf != NULL) {
		if (n == cap) {
			if (cap >= max) {
				errno = EFBIG;
				break;
			}
			cap = cap * 2 > max ? max : cap * 2;
			nb = realloc(buf, cap + 1);
			if (nb == NULL)
				break;
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0) {
			buf[n] = '\0';
			*len = n;
			return buf;
		}
		n += (size_t)r;
	}
	free(buf);
	return NULL;
}

/* --- lockfiles --------------------------------------------------------------- */

void
mg_pintab_clear(struct mg_pintab *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->pins[i].path);
	for (i = 0; i < t->nfiles; i++)
		free(t->files[i]);
	free(t->pins);
	free(t->files);
	memset(t, 0, sizeof(*t));
}

/* sha256sum's escaping of names holding '\\' or newlines. */
static void
unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1] == 'n') {
			*o++ = '\n';
			s++;
		} else if (*s == '\\' && s[1] == '\\') {
			*o++ = '\\';
			s++;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* Absolute, symlink-resolved when it exists, of @p relative to @dir. */
static char *
resolve(const char *dir, const char *p)
{
	char buf[PATH_MAX * 2], *r;

	if (p[0] == '/')
		snprintf(buf, sizeof(buf), "%s", p);
	else
		snprintf(buf, sizeof(buf), "%s/%s", dir, p);
	r = realpath(buf, NULL);
	return r ? r : strdup(buf);
}

/* Parse one line (NUL-terminated, no newline) into @pin.  0 or -1. */
static int
parse_line(char *s, const char *dir, struct mg_pin *pin)
{
	size_t n, i;
	int esc = 0;

	if (s[0] == '\\') {
		esc = 1;
		s++;
	}
	for (i = 0; i < 64; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f')))
			return -1;
		pin->hex[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] | 0x20 : s[i]);
	}
	pin->hex[64] = '\0';
	if (s[64] != ' ' || (s[65] != ' ' && s[65] != '*') || s[66] == '\0')
		return -1;
	s += 66;
	n = strlen(s);
	pin->deny = 0;
	if (n > 5 && strcmp(s + n - 5, " deny") == 0) {
		pin->deny = 1;
		s[n - 5] = '\0';
	} else if (n > 6 && strcmp(s + n - 6, " allow") == 0) {
		s[n - 6] = '\0';
	}
	if (esc)
		unescape(s);
	pin->path = resolve(dir, s);
	return pin->path ? 0 : -1;
}

static int
add_pin(struct mg_pintab *t, const struct mg_pin *pin)
{
	struct mg_pin *np;
	size_t ncap;

	if (t->n == t->cap) {
		ncap = t->cap ? t->cap * 2 : 64;
		np = realloc(t->pins, ncap * sizeof(*np));
		if (np == NULL)
			return -1;
		t->pins = np;
		t->cap = ncap;
	}
	t->pins[t->n++] = *pin;
	return 0;
}

/* Why 64 MiB: a lockfile line is ~100 bytes; 600,000 pinned files is
 * more than any model store, and a bound keeps a hostile file cheap. */
#define LOCKFILE_MAX (64u << 20)

/* Read @path whole, refusing an unsafe file when @require_root. */
static char *
read_lockfile(const char *path, int require_root, enum mg_err *e, char *err,
              size_t errlen)
{
	struct stat st;
	size_t len;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path,
		         strerror(errno));
		*e = MG_ERR_IO;
		return NULL;
	}
	if (require_root && (fstat(fd, &st) != 0 || st.st_uid != 0 ||
	                     (st.st_mode & (S_IWGRP | S_IWOTH)))) {
		snprintf(err, errlen, "%s: a locked policy's lockfile must be "
		         "root-owned and writable by root alone", path);
		close(fd);
		*e = MG_ERR_PERM;
		return NULL;
	}
	buf = mg_slurp_fd(fd, LOCKFILE_MAX, &len);
	if (buf == NULL) {
		snprintf(err, errlen, "%s: cannot read: %s", path,
		         strerror(errno));
		*e = errno == ENOMEM ? MG_ERR_NOMEM : MG_ERR_IO;
	}
	close(fd);
	return buf;
}

/* policy_int.h */
int
mg_next_line(const char **cur, char *line, size_t cap)
{
	const char *s = *cur, *nl;
	size_t n;

	if (*s == '\0')
		return 0;
	nl = strchr(s, '\n');
	n = nl ? (size_t)(nl - s) : strlen(s);
	*cur = nl ? nl + 1 : s + n;
	if (n >= cap)
		return -1;
	memcpy(line, s, n);
	line[n] = '\0';
	return 1;
}

/* Strip the line end; 1 if the line is a comment or blank. */
static int
skip_line(char *line)
{
	size_t n = strlen(line);

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return n == 0 || line[0] == '#';
}

enum mg_err
mg_pintab_load(struct mg_pintab *t, const char *path, int require_root,
               char *err, size_t errlen)
{
	char dir[PATH_MAX], line[PATH_MAX + 128], **nf, *text;
	struct mg_pin pin;
	enum mg_err e = MG_OK;
	const char *slash = strrchr(path, '/'), *cur;
	int lineno = 0, got;

	text = read_lockfile(path, require_root, &e, err, errlen);
	if (text == NULL)
		return e;
	cur = text;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1,
	         slash ? path : ".");
	if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	nf = realloc(t->files, (t->nfiles + 1) * sizeof(*nf));
	if (nf == NULL || (nf[t->nfiles] = strdup(path)) == NULL) {
		if (nf != NULL)
			t->files = nf;
		e = MG_ERR_NOMEM;
		goto out;
	}
	t->files = nf;
	t->nfiles++;
	while ((got = mg_next_line(&cur, line, sizeof(line))) != 0) {
		lineno++;
		if (got > 0 && skip_line(line))
			continue;
		memset(&pin, 0, sizeof(pin));
		if (got < 0 || parse_line(line, dir, &pin) != 0) {
			snprintf(err, errlen, "%s:%d: expected '<sha256>  <path>' "
			         "(sha256sum output), optionally followed by "
			         "'allow' or 'deny'", path, lineno);
			e = MG_ERR_PARSE;
			goto out;
		}
		pin.file = t->files[t->nfiles - 1];
		pin.line = lineno;
		if (add_pin(t, &pin) != 0) {
			free(pin.path);
			e = MG_ERR_NOMEM;
			goto out;
		}
	}
out:
	free(text);
	return e;
}

int
mg_pin_apply(const struct mg_pintab *t, const char *hex, const char *rpath,
             int require_pin, struct mg_report *rep)
{
	const struct mg_pin *trusted = NULL, *q;
	int bad = 0;
	size_t i;

	for (i = 0; i < t->n; i++) {
		q = &t->pins[i];
		if (q->deny && strcmp(q->hex, hex) == 0) {
			bad = 1;
			(void)mg_report_add(rep, MG_VERDICT_DANGEROUS, "pin.denied",
			    NULL, NULL, 0, "SHA-256 %s is pinned as denied "
			    "(%s:%d)", hex, q->file, q->line);
		} else if (!q->deny && strcmp(q->hex, hex) == 0) {
			trusted = q;
		} else if (!q->deny && rpath && strcmp(q->path, rpath) == 0) {
			bad = 1;
			(void)mg_report_add(rep, MG_VERDICT_DANGEROUS,
			    "pin.tampered", NULL, NULL, 0, "%s:%d pins this "
			    "file to %.16s..., but it holds %.16s... "
			    "(modified or replaced)", q->file, q->line, q->hex,
			    hex);
		}
	}
	if (require_pin && trusted == NULL) {
		bad = 1;
		(void)mg_report_add(rep, MG_VERDICT_DANGEROUS, "pin.required",
		    NULL, NULL, 0, "the policy requires a pin (require_pin) "
		    "and SHA-256 %s is pinned in no lockfile", hex);
	}
	if (trusted == NULL || bad)
		return 0;
	(void)mg_report_add(rep, MG_VERDICT_CLEAN, "pin.trusted", NULL, NULL, 0,
	    "SHA-256 pinned as trusted (%s:%d); not scanned", trusted->file,
	    trusted->line);
	return 1;
}

/* --- prescan ---------------------------------------------------------------- */

/*
 * The pin table of a policy, loaded once and kept for the policy object
 * (by serial number: a freed policy's address may be reused).  The
 * helper is long-lived and scans many files under one policy.
 */
static pthread_mutex_t tab_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mg_pintab tab_cache;
static unsigned long tab_serial;
static char tab_err[1024];

static void
load_tab(const struct mg_policy *p)
{
	size_t i;

	mg_pintab_clear(&tab_cache);
	tab_err[0] = '\0';
	for (i = 0; i < p->lockfiles.n && tab_err[0] == '\0'; i++)
		if (mg_pintab_load(&tab_cache, p->lockfiles.v[i], p->locked,
		                   tab_err, sizeof(tab_err)) != MG_OK &&
		    tab_err[0] == '\0')
			snprintf(tab_err, sizeof(tab_err), "%s: out of memory",
			         p->lockfiles.v[i]);
	tab_serial = p->serial;
}

/* The path of the open file itself, else @path resolved, into @out. */
static void
fd_path(int fd, const char *path, char *out, size_t len)
{
	char link[64], *r;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, out, len - 1);
	if (n > 0 && out[0] == '/') {
		out[n] = '\0';
		return;
	}
	r = path ? realpath(path, NULL) : NULL;
	snprintf(out, len, "%s", r ? r : (path ? path : ""));
	free(r);
}

static void
apply_pins(const struct mg_policy *p, const char *hex, const char *rpath,
           struct mg_report *rep, int *skip_scan)
{
	pthread_mutex_lock(&tab_lock);
	if (tab_serial != p->serial)
		load_tab(p);
	if (tab_err[0] != '\0') {
		/* A lockfile we cannot read trusts nothing: fail closed. */
		(void)mg_report_add(rep, MG_VERDICT_ERROR, "pin.lockfile", NULL,
		                    NULL, 0, "%s", tab_err);
		if (p->require_pin)
			(void)mg_report_add(rep, MG_VERDICT_DANGEROUS,
			    "pin.required", NULL, NULL, 0, "the policy requires "
			    "a pin and its lockfile cannot be used");
	} else {
		*skip_scan = mg_pin_apply(&tab_cache, hex, rpath,
		                          p->require_pin, rep);
	}
	pthread_mutex_unlock(&tab_lock);
}

int
mg_policy_pins_need_hash(const struct mg_policy *p)
{
	return p != NULL && (p->lockfiles.n > 0 || p->require_pin);
}

/* The pin rules (for the file hashed to @hex) and the registry rules. */
static enum mg_err
prescan_rules(const struct mg_policy *p, int fd, const char *path,
              struct mg_report *rep, const char *hex, int *skip_scan)
{
	char rpath[PATH_MAX];
	enum mg_err e;

	/* Why only then: the real path is for pin and registry rules alone,
	 * and its readlink of /proc/self/fd was a twentieth of a small
	 * file's scan. */
	if (!mg_policy_pins_need_hash(p) && p->allow_repos.n == 0 &&
	    p->deny_repos.n == 0)
		return MG_OK;
	fd_path(fd, path, rpath, sizeof(rpath));
	if (mg_policy_pins_need_hash(p))
		apply_pins(p, hex, rpath, rep, skip_scan);
	e = mg_registry_check(p, path, rpath, rep);
	if (rep->verdict != MG_VERDICT_CLEAN)
		*skip_scan = 0;
	return e;
}

enum mg_err
mg_policy_prescan_lazy(const struct mg_policy *p, int fd, const char *path,
                       struct mg_report *rep, char hex[65], int *skip_scan,
                       const struct mg_hashcache *cache)
{
	enum mg_err e;

	*skip_scan = 0;
	hex[0] = '\0';
	if (p == NULL || rep == NULL)
		return MG_ERR_INVAL;
	if (mg_policy_pins_need_hash(p) &&
	    (e = mg_pin_sha256_cached(cache, fd, hex, NULL)) != MG_OK)
		return e;
	return prescan_rules(p, fd, path, rep, hex, skip_scan);
}

enum mg_err
mg_policy_prescan(const struct mg_policy *p, int fd, const char *path,
                  struct mg_report *rep, char hex[65], int *skip_scan)
{
	struct mg_hashcache cache;
	enum mg_err e;

	*skip_scan = 0;
	hex[0] = '\0';
	if (p == NULL || rep == NULL)
		return MG_ERR_INVAL;
	mg_hashcache_default(&cache, p->locked);
	e = mg_pin_sha256_cached(&cache, fd, hex, NULL);
	if (e != MG_OK)
		return e;
	return prescan_rules(p, fd, path, rep, hex, skip_scan);
}

enum mg_err
mg_policy_check_pins(const struct mg_policy *p, char *err, size_t errlen)
{
	struct mg_pintab t;
	enum mg_err e = MG_OK;
	size_t i;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < p->lockfiles.n && e == MG_OK; i++)
		e = mg_pintab_load(&t, p->lockfiles.v[i], p->locked, err, errlen);
	mg_pintab_clear(&t);
	return e;
}
