/*
 * hashcache.c - file identity -> SHA-256, so a 10 GB checkpoint is hashed
 * once per host rather than at every open in every new process.
 *
 * Key: (device, inode, size, mtime, ctime), all with nanoseconds.  Any
 * write to the file changes mtime and ctime; chmod/chown/rename-over change
 * ctime; a new file at the same path has a new inode.  The ctime cannot be
 * set by an unprivileged user, so a rewrite that restores size and mtime
 * (touch -d) still misses.  Why the "racy" window: a file written in the
 * same clock tick as we hash it could change again without its timestamps
 * moving, so entries younger than racy_secs are not stored (git's "racy
 * clean" problem).
 *
 * Two files.  The system cache, /var/cache/modelgate/hashes, is written by
 * root alone (`modelgate pin`/`scan` run as root, root's helper under an
 * unlocked policy) and read by everyone when it is root-owned and
 * writable by root alone.  The user's cache ($XDG_CACHE_HOME/modelgate/
 * hashes, ~/.cache/modelgate/hashes) is read and written by that user's
 * processes, and only counts when owned by the user and writable by its
 * owner alone.  Trust: an entry is only as trustworthy as its file, and
 * anyone who can write it can make a changed file look like its pinned
 * hash; so under a locked policy only the system cache is read (not even a
 * root-owned file at a path the user's environment chose), and root's own
 * processes write the system cache.
 *
 * Writing: one line appended with a single write(2) (O_APPEND: lines from
 * concurrent writers never interleave).  The helper, confined by seccomp,
 * cannot open files for writing: it opens its cache for appending before
 * it locks itself down (mg_hashcache_open) and its filter allows write()
 * on that descriptor only.  A file past max_entries lines is compacted
 * (the newest entries rewritten to a temporary file and renamed over, so
 * readers see the old or the new file whole) by whoever stores next
 * unconfined, or by the helper before its lock.  Concurrent writers: an
 * append racing a compaction may be lost (a cache; it costs one re-hash).
 *
 * A process-local copy (the last MEM_SLOTS entries this process hashed or
 * read) answers first: without a writable cache (a locked policy, no
 * HOME) it is what keeps a 10 GB checkpoint from being hashed at every
 * open in one process tree.
 *
 * Format: a text file, one "dev ino size mtime.ns ctime.ns hex" line per
 * entry, oldest first; the last line for a key wins.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include "pin.h"
#include "policy_int.h"

/* Why 1 MiB: smaller files hash in well under a millisecond, and caching
 * 100,000 small .npy files would only churn the cache. */
#define MIN_SIZE_DEFAULT (1u << 20)
/* Why 4096 entries: ~550 KB of cache, read whole at each lookup
 * (~0.3 ms at the bound). */
#define MAX_ENTRIES_DEFAULT 4096

/* Why 64: a process loads a handful of large checkpoints, not thousands. */
#define MEM_SLOTS 64

static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { char key[160]; char hex[65]; } mem[MEM_SLOTS];
static size_t mem_next;

static int
mem_lookup(const char *key, char hex[65])
{
	size_t i;
	int hit = 0;

	pthread_mutex_lock(&mem_lock);
	for (i = 0; i < MEM_SLOTS && !hit; i++)
		if (mem[i].key[0] != '\0' && strcmp(mem[i].key, key) == 0) {
			memcpy(hex, mem[i].hex, 65);
			hit = 1;
		}
	pthread_mutex_unlock(&mem_lock);
	return hit;
}

static void
mem_store(const char *key, const char hex[65])
{
	pthread_mutex_lock(&mem_lock);
	snprintf(mem[mem_next].key, sizeof(mem[0].key), "%s", key);
	memcpy(mem[mem_next].hex, hex, 64);
	mem[mem_next].hex[64] = '\0';
	mem_next = (mem_next + 1) % MEM_SLOTS;
	pthread_mutex_unlock(&mem_lock);
}

void
mg_hashcache_init(struct mg_hashcache *c, int locked, const char *xdg,
                  const char *home)
{
	memset(c, 0, sizeof(*c));
	c->min_size = MIN_SIZE_DEFAULT;
	c->racy_secs = 2;
	c->max_entries = MAX_ENTRIES_DEFAULT;
	c->require_root = locked;
	c->memory = 1;
	c->fd = -1;
	snprintf(c->sys_path, sizeof(c->sys_path), "%s", MG_HASHCACHE_SYSTEM);
	/* Root writes the system cache, unless (unlocked) its environment
	 * names another: tests, and root users who want their own. */
	if (geteuid() == 0 && (locked || xdg == NULL || xdg[0] != '/'))
		snprintf(c->path, sizeof(c->path), "%s", c->sys_path);
	else if (locked)
		c->path[0] = '\0'; /* a user's cache is not read under lock */
	else if (xdg != NULL && xdg[0] == '/')
		snprintf(c->path, sizeof(c->path), "%s/modelgate/hashes", xdg);
	else if (home != NULL && home[0] == '/')
		snprintf(c->path, sizeof(c->path), "%s/.cache/modelgate/hashes",
		         home);
}

void
mg_hashcache_default(struct mg_hashcache *c, int locked)
{
	mg_hashcache_init(c, locked, getenv("XDG_CACHE_HOME"), getenv("HOME"));
}

static void
key_of(const struct stat *st, char *buf, size_t len)
{
	snprintf(buf, len, "%ju %ju %jd %jd.%09ld %jd.%09ld ",
	         (uintmax_t)st->st_dev, (uintmax_t)st->st_ino,
	         (intmax_t)st->st_size, (intmax_t)st->st_mtim.tv_sec,
	         st->st_mtim.tv_nsec, (intmax_t)st->st_ctim.tv_sec,
	         st->st_ctim.tv_nsec);
}

/* Why 2 MiB: twice max_entries' lines, for appends between compactions;
 * a bigger file is not ours. */
#define CACHE_FILE_MAX (2u << 20)

static int
is_system(const struct mg_hashcache *c, const char *path)
{
	return c->sys_path[0] != '\0' && strcmp(path, c->sys_path) == 0;
}

/* 1 if the open cache file @st may be trusted as @path. */
static int
trusted(const struct mg_hashcache *c, const char *path, const struct stat *st)
{
	if (!S_ISREG(st->st_mode) || (st->st_mode & (S_IWGRP | S_IWOTH)))
		return 0;
	if (is_system(c, path))
		return st->st_uid == 0;
	if (c->require_root)
		return 0;
	return st->st_uid == 0 || st->st_uid == geteuid();
}

/* The text of the cache file @path if it may be trusted; NULL otherwise.
 * read() only: the helper's seccomp filter refuses fcntl, which fdopen
 * needs. */
static char *
read_trusted(const struct mg_hashcache *c, const char *path)
{
	struct stat st;
	size_t len;
	char *text;
	int fd;

	if (path[0] == '\0')
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !trusted(c, path, &st)) {
		close(fd);
		return NULL;
	}
	text = mg_slurp_fd(fd, CACHE_FILE_MAX, &len);
	close(fd);
	return text;
}

/* 1 and @hex filled if the file @path holds a line for @key. */
static int
file_lookup(const struct mg_hashcache *c, const char *path, const char *key,
            char hex[65])
{
	char line[256], *text = read_trusted(c, path);
	const char *cur = text;
	size_t kl = strlen(key);
	int hit = 0, r;

	if (text == NULL)
		return 0;
	while ((r = mg_next_line(&cur, line, sizeof(line))) != 0)
		if (r > 0 && strncmp(line, key, kl) == 0 &&
		    strlen(line + kl) == 64 &&
		    strspn(line + kl, "0123456789abcdef") == 64) {
			memcpy(hex, line + kl, 65);
			hit = 1;
		}
	free(text);
	return hit;
}

int
mg_hashcache_lookup(const struct mg_hashcache *c, const struct stat *st,
                    char hex[65])
{
	char key[160];
	int hit;

	if ((uint64_t)st->st_size < c->min_size)
		return 0;
	key_of(st, key, sizeof(key));
	if (c->memory && mem_lookup(key, hex))
		return 1;
	hit = file_lookup(c, c->sys_path, key, hex) ||
	      (!is_system(c, c->path) && file_lookup(c, c->path, key, hex));
	if (hit && c->memory)
		mem_store(key, hex);
	return hit;
}

/* 1 if this process may write the cache @c names. */
static int
writable(const struct mg_hashcache *c)
{
	if (c->path[0] == '\0' || c->max_entries == 0)
		return 0;
	if (is_system(c, c->path))
		return geteuid() == 0;
	return !c->require_root;
}

/* mkdir -p the cache's directory: private to the user, or (the system
 * cache) readable by everyone. */
static int
make_dirs(const char *path, mode_t mode)
{
	char d[4096];
	size_t i;

	snprintf(d, sizeof(d), "%s", path);
	for (i = 1; d[i] != '\0'; i++) {
		if (d[i] != '/')
			continue;
		d[i] = '\0';
		if (mkdir(d, mode) != 0 && errno != EEXIST)
			return -1;
		d[i] = '/';
	}
	return 0;
}

/* Open the cache for appending, creating it (0600; the system cache
 * 0644, for everyone to read); -1 unless the file may be trusted. */
static int
open_append(const struct mg_hashcache *c)
{
	int sys = is_system(c, c->path), fd;
	mode_t mode = sys ? 0644 : 0600;
	struct stat st;

	if (make_dirs(c->path, sys ? 0755 : 0700) != 0)
		return -1;
	fd = open(c->path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		fd = open(c->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
		          O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd >= 0)
			(void)fchmod(fd, mode); /* whatever the umask */
	}
	if (fd >= 0 && (fstat(fd, &st) != 0 || !trusted(c, c->path, &st))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Keep the newest max_entries lines of @c's file, if it holds more:
 * rewritten to a temporary file and renamed over. */
static void
compact(const struct mg_hashcache *c)
{
	char tmp[4200], line[256], *text = read_trusted(c, c->path);
	const char *cur = text;
	size_t n = 0, i = 0;
	FILE *out = NULL;
	int r, fd = -1;

	if (text == NULL)
		return;
	while ((r = mg_next_line(&cur, line, sizeof(line))) != 0)
		n += r > 0;
	if (n <= c->max_entries)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", c->path);
	if ((fd = mkstemp(tmp)) < 0)
		goto out;
	(void)fchmod(fd, is_system(c, c->path) ? 0644 : 0600);
	if ((out = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(tmp);
		goto out;
	}
	for (cur = text; (r = mg_next_line(&cur, line, sizeof(line))) != 0;)
		if (r > 0 && i++ + c->max_entries >= n)
			fprintf(out, "%s\n", line);
	if (fclose(out) != 0 || rename(tmp, c->path) != 0)
		unlink(tmp);
out:
	free(text);
}

int
mg_hashcache_open(struct mg_hashcache *c)
{
	if (c->fd >= 0)
		return 0;
	if (!writable(c))
		return -1;
	compact(c);
	c->fd = open_append(c);
	return c->fd >= 0 ? 0 : -1;
}

void
mg_hashcache_store(const struct mg_hashcache *c, const struct stat *st,
                   const char hex[65])
{
	char line[256];
	struct timespec now;
	size_t len;
	int fd;

	if ((uint64_t)st->st_size < c->min_size)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	if (now.tv_sec - st->st_mtim.tv_sec < c->racy_secs ||
	    now.tv_sec - st->st_ctim.tv_sec < c->racy_secs)
		return;
	key_of(st, line, sizeof(line));
	if (c->memory)
		mem_store(line, hex);
	len = strlen(line);
	snprintf(line + len, sizeof(line) - len, "%.64s\n", hex);
	len = strlen(line);
	if (c->fd >= 0) {
		/* the confined helper: the descriptor opened before its lock */
		(void)!write(c->fd, line, len);
		return;
	}
	if (!writable(c) || (fd = open_append(c)) < 0)
		return;
	(void)!write(fd, line, len);
	close(fd);
	compact(c);
}
