/*
 * pin.h - SHA-256 of model files, the pin table, the hash cache, registry
 * rules, and the checks a policy makes on a file before (or instead of)
 * scanning it.  Uses OpenSSL, so it lives in the CLI and the helper, never
 * in the preload.
 */
#ifndef MG_PIN_H
#define MG_PIN_H

#include <sys/stat.h>

#include "policy.h"

struct mg_hashcache;

/*
 * SHA-256 of the regular file @fd, read with pread only (the caller's
 * offset never moves), written as 64 lowercase hex digits + NUL into @hex.
 * MG_OK, MG_ERR_IO (errno kept) or MG_ERR_NOMEM.
 */
enum mg_err mg_pin_sha256_fd(int fd, char hex[65]) MG_WUR;

/*
 * What the policy says of the open file @fd named @path before scanning:
 * its SHA-256 (into @hex, always computed, through the default hash
 * cache), the pin table (trusted, deny-pinned, tampered, require_pin) and
 * registry rules, each rule that fires added to @rep as a finding.
 * *@skip_scan is set to 1 when a pin makes the scan unnecessary (a
 * pinned-allow hash is trusted as is).  MG_OK, MG_ERR_IO or MG_ERR_NOMEM.
 */
enum mg_err mg_policy_prescan(const struct mg_policy *p, int fd,
                              const char *path, struct mg_report *rep,
                              char hex[65], int *skip_scan) MG_WUR;

/* 1 if @p's pin rules need the SHA-256 of every file: a lockfile (allow
 * or deny lines) or require_pin. */
int mg_policy_pins_need_hash(const struct mg_policy *p);

/*
 * As mg_policy_prescan(), but the file is hashed (through @cache; NULL:
 * no cache) only when mg_policy_pins_need_hash(@p); otherwise @hex is ""
 * and only the registry rules apply.  For the helper, which hashes for
 * the audit log itself, after the scan, when the preload will log.
 */
enum mg_err mg_policy_prescan_lazy(const struct mg_policy *p, int fd,
                                   const char *path, struct mg_report *rep,
                                   char hex[65], int *skip_scan,
                                   const struct mg_hashcache *cache) MG_WUR;

/* --- the pin table (lockfiles) -------------------------------------------- */

/* One lockfile line. */
struct mg_pin {
	char hex[65];     /* lowercase */
	char *path;       /* absolute; symlinks resolved when it existed */
	int deny;         /* the line ended in "deny" */
	const char *file; /* the lockfile (owned by the table) */
	int line;
};

struct mg_pintab {
	struct mg_pin *pins;
	size_t n, cap;
	char **files;     /* lockfile names, owned */
	size_t nfiles;
};

/*
 * Add the lines of the lockfile @path to @t (zero-initialised by the
 * caller).  Lines are `sha256sum` output: "<64 hex>  <path>" or
 * "<64 hex> *<path>" (binary marker), optionally followed by " allow" or
 * " deny"; '#' comments and blank lines are skipped; a leading '\' marks
 * sha256sum's escaped names.  Relative paths resolve against the
 * lockfile's directory.  With @require_root the lockfile must be
 * root-owned and writable by root alone (locked policies).
 * MG_OK; MG_ERR_IO (cannot read), MG_ERR_PERM, MG_ERR_PARSE (@err is
 * "file:line: what"), MG_ERR_NOMEM.
 */
enum mg_err mg_pintab_load(struct mg_pintab *t, const char *path,
                           int require_root, char *err, size_t errlen) MG_WUR;

/* Free what @t owns (not @t itself). */
void mg_pintab_clear(struct mg_pintab *t);

/*
 * Apply the pin rules for a file with hash @hex at the resolved path
 * @rpath (may be NULL) to @rep: pin.denied, pin.tampered, pin.required
 * (when @require_pin), pin.trusted.  Returns 1 if the file is trusted
 * (pinned allow, and no rule made it dangerous), else 0.
 */
int mg_pin_apply(const struct mg_pintab *t, const char *hex,
                 const char *rpath, int require_pin, struct mg_report *rep);

/*
 * Load every lockfile the effective policy @p names, as prescan would, to
 * report problems up front (`modelgate policy check`).  MG_OK or as
 * mg_pintab_load(), with @err naming the file and line.
 */
enum mg_err mg_policy_check_pins(const struct mg_policy *p, char *err,
                                 size_t errlen) MG_WUR;

/* --- the hash cache ---------------------------------------------------------- */

/* The system cache: written by root, read by everyone (hashcache.c says
 * what is trusted when). */
#define MG_HASHCACHE_SYSTEM "/var/cache/modelgate/hashes"

struct mg_hashcache {
	char path[4096];       /* the cache this process writes and reads;
	                          "" = none */
	char sys_path[64];     /* the system cache, read when root-owned */
	unsigned long long min_size; /* smaller files are not cached */
	long racy_secs;        /* files changed this recently are not cached */
	size_t max_entries;    /* bound on the file's lines */
	int require_root;      /* locked: only the system cache is read */
	int memory;            /* also keep entries in this process's memory */
	int fd;                /* >= 0: append to this descriptor, opened by
	                          mg_hashcache_open() (the confined helper) */
};

/*
 * Defaults for a process whose environment has XDG_CACHE_HOME @xdg and
 * HOME @home (either may be NULL): path = @xdg/modelgate/hashes or
 * @home/.cache/modelgate/hashes; for root the system cache (unless
 * unlocked and @xdg is set); under @locked (require_root) no user cache.
 * 1 MiB minimum, 2 s racy window, 4096 entries, memory on, fd -1.
 */
void mg_hashcache_init(struct mg_hashcache *c, int locked, const char *xdg,
                       const char *home);

/* mg_hashcache_init() with this process's XDG_CACHE_HOME and HOME. */
void mg_hashcache_default(struct mg_hashcache *c, int locked);

/*
 * Open @c's file for appending into c->fd (creating it and its
 * directories, compacting it first when it is past max_entries), so that
 * a process that will lose the right to open files for writing can still
 * store.  0, or -1 (errno set) when this process may not write @c (a
 * user under a locked policy) or the file is not one to trust.  The
 * descriptor is close-on-exec and the caller's to keep.
 */
int mg_hashcache_open(struct mg_hashcache *c);

/* 1 and @hex filled if @st's identity is cached in a trusted cache (this
 * process's memory, the system cache, then, unless locked, @c's file). */
int mg_hashcache_lookup(const struct mg_hashcache *c, const struct stat *st,
                        char hex[65]);

/* Remember @hex for @st: in memory, and one line appended to @c's file
 * (through c->fd when open), which is compacted when unconfined.  Best
 * effort: errors are ignored. */
void mg_hashcache_store(const struct mg_hashcache *c, const struct stat *st,
                        const char hex[65]);

/*
 * SHA-256 of @fd through the cache @c (NULL: no cache).  *@hit (if not
 * NULL) says whether the cache answered.  As mg_pin_sha256_fd().
 */
enum mg_err mg_pin_sha256_cached(const struct mg_hashcache *c, int fd,
                                 char hex[65], int *hit) MG_WUR;

/* --- registry rules (Hugging Face cache paths) --------------------------- */

/*
 * The repository "ORG/NAME" (or "NAME") of a path inside a Hugging Face
 * cache (".../models--ORG--NAME/snapshots/REV/..."), into @repo.  1 if
 * found, 0 if the path is not in such a cache.
 */
int mg_registry_repo(const char *path, char *repo, size_t len);

/*
 * 1 if @repo is a near miss of the allowed pattern @pattern: not equal,
 * but equal after folding homoglyphs (0/o, 1/l/i, rn/m, vv/w, Cyrillic
 * look-alikes, case, _/-) or within Damerau-Levenshtein distance 1 (names
 * of 5-7 characters) or 2 (8 or more); names that differ only in digits
 * (versions: llama-2 / llama-3) are not look-alikes.  Glob parts of @pattern must match.
 */
int mg_registry_lookalike(const char *repo, const char *pattern);

#endif /* MG_PIN_H */
