/*
 * hashcache.c - a per-user cache of file identity -> SHA-256, so a 10 GB
 * checkpoint is hashed once rather than at every open.
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
 * Trust: an entry is only as trustworthy as the cache file.  The file must
 * be owned by the user (or root) and writable by its owner alone; when the
 * policy is locked only a root-owned cache counts, since a user who can
 * write the cache could otherwise make a tampered file look pinned.
 *
 * A process-local copy (the last MEM_SLOTS entries this process hashed or
 * read) answers first: the helper runs under seccomp without the right
 * to create files, so in it the disk cache is read-only and the memory
 * copy is what keeps a 10 GB checkpoint from being hashed at every open.
 *
 * Format: a text file, one "dev ino size mtime.ns ctime.ns hex" line per
 * entry, oldest first, at most max_entries lines; rewritten whole to a
 * temporary file and renamed over (atomic for readers).  Concurrent
 * writers: the last rename wins and a few entries may be lost (a cache).
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
/* Why 4096 entries: ~500 KB of cache, read whole at each lookup. */
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
mg_hashcache_default(struct mg_hashcache *c, int locked)
{
	const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");

	memset(c, 0, sizeof(*c));
	c->min_size = MIN_SIZE_DEFAULT;
	c->racy_secs = 2;
	c->max_entries = MAX_ENTRIES_DEFAULT;
	c->require_root = locked;
	c->memory = 1;
	if (x != NULL && x[0] == '/')
		snprintf(c->path, sizeof(c->path), "%s/modelgate/hashes", x);
	else if (h != NULL && h[0] == '/')
		snprintf(c->path, sizeof(c->path), "%s/.cache/modelgate/hashes",
		         h);
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

/* Why 1 MiB: 4096 lines of ~130 bytes, with room; a bigger file is not
 * ours. */
#define CACHE_FILE_MAX (1u << 20)

/* The cache's text if it may be trusted; NULL otherwise.  read() only:
 * the helper's seccomp filter refuses fcntl, which fdopen needs. */
static char *
read_trusted(const struct mg_hashcache *c)
{
	struct stat st;
	size_t len;
	char *text;
	int fd;

	if (c->path[0] == '\0')
		return NULL;
	fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) ||
	    (st.st_uid != 0 && (c->require_root || st.st_uid != geteuid()))) {
		close(fd);
		return NULL;
	}
	text = mg_slurp_fd(fd, CACHE_FILE_MAX, &len);
	close(fd);
	return text;
}

int
mg_hashcache_lookup(const struct mg_hashcache *c, const struct stat *st,
                    char hex[65])
{
	char key[160], line[256], *text;
	const char *cur;
	size_t kl;
	int hit = 0, r;

	if ((uint64_t)st->st_size < c->min_size)
		return 0;
	key_of(st, key, sizeof(key));
	if (c->memory && mem_lookup(key, hex))
		return 1;
	if ((text = read_trusted(c)) == NULL)
		return 0;
	kl = strlen(key);
	cur = text;
	while ((r = mg_next_line(&cur, line, sizeof(line))) != 0) {
		if (r > 0 && strncmp(line, key, kl) == 0 &&
		    strlen(line + kl) >= 64) {
			memcpy(hex, line + kl, 64);
			hex[64] = '\0';
			hit = strspn(hex, "0123456789abcdef") == 64;
		}
	}
	free(text);
	if (hit && c->memory)
		mem_store(key, hex);
	return hit;
}

/* mkdir -p the cache's directory, private to the user. */
static int
make_dirs(const char *path)
{
	char d[4096];
	size_t i;

	snprintf(d, sizeof(d), "%s", path);
	for (i = 1; d[i] != '\0'; i++) {
		if (d[i] != '/')
			continue;
		d[i] = '\0';
		if (mkdir(d, 0700) != 0 && errno != EEXIST)
			return -1;
		d[i] = '/';
	}
	return 0;
}

/* Copy the old entries except @skip_ino's, keeping the newest @keep. */
static void
copy_old(const struct mg_hashcache *c, FILE *out, const char *skip,
         size_t keep)
{
	char line[256], *text = read_trusted(c);
	const char *cur = text;
	size_t n = 0, i = 0;
	int r;

	if (text == NULL)
		return;
	while ((r = mg_next_line(&cur, line, sizeof(line))) != 0)
		n += r > 0;
	cur = text;
	while ((r = mg_next_line(&cur, line, sizeof(line))) != 0) {
		if (r < 0 || i++ + keep < n ||
		    strncmp(line, skip, strlen(skip)) == 0)
			continue;
		fprintf(out, "%s\n", line);
	}
	free(text);
}

void
mg_hashcache_store(const struct mg_hashcache *c, const struct stat *st,
                   const char hex[65])
{
	char key[160], tmp[4200], ino[64];
	struct timespec now;
	FILE *out;
	int fd;

	if ((uint64_t)st->st_size < c->min_size)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	if (now.tv_sec - st->st_mtim.tv_sec < c->racy_secs ||
	    now.tv_sec - st->st_ctim.tv_sec < c->racy_secs)
		return;
	key_of(st, key, sizeof(key));
	if (c->memory)
		mem_store(key, hex);
	if (c->path[0] == '\0' || (c->require_root && geteuid() != 0) ||
	    c->max_entries == 0)
		return;
	if (make_dirs(c->path) != 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", c->path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return;
	out = fdopen(fd, "w");
	if (out == NULL) {
		close(fd);
		unlink(tmp);
		return;
	}
	/* An entry for the same (dev, ino) is replaced, not duplicated. */
	snprintf(ino, sizeof(ino), "%ju %ju ", (uintmax_t)st->st_dev,
	         (uintmax_t)st->st_ino);
	copy_old(c, out, ino, c->max_entries - 1);
	fprintf(out, "%s%s\n", key, hex);
	if (fclose(out) != 0 || rename(tmp, c->path) != 0)
		unlink(tmp);
}
