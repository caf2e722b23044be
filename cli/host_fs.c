/*
 * host_fs.c - the files of `modelgate host`: which directories only root
 * controls, and replacing a file atomically (host.c says why both).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "host.h"

#define MAX_TEXT (1 << 20) /* why: a policy or ld.so.preload past 1 MiB
                              is not one a person wrote */

void
mg_host_buf_free(struct mg_host_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Append @n bytes of @s.  0, or -1 when out of memory. */
int
mg_host_buf_add(struct mg_host_buf *b, const char *s, size_t n)
{
	char *np;
	size_t cap;

	if (b->n + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->n + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (np == NULL)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

int
mg_host_buf_str(struct mg_host_buf *b, const char *s)
{
	return mg_host_buf_add(b, s, strlen(s));
}

/* The whole of @path (at most MAX_TEXT bytes) into @b.  0, or -1 with
 * errno set (ENOENT for a missing file, EFBIG when too large). */
int
mg_host_read_text(const char *path, struct mg_host_buf *b)
{
	char chunk[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), e = 0;

	if (fd < 0)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b->n + (size_t)n > MAX_TEXT ||
		    mg_host_buf_add(b, chunk, (size_t)n) != 0) {
			e = n < 0 ? errno :
			    b->n + (size_t)n > MAX_TEXT ? EFBIG : ENOMEM;
			break;
		}
	}
	close(fd);
	if (e == 0 && b->p == NULL && mg_host_buf_add(b, "", 0) != 0)
		e = ENOMEM;
	errno = e;
	return e ? -1 : 0;
}

/* The directory part of @path into @dir[PATH_MAX]: "/" for "/x". */
void
mg_host_dir_of(const char *path, char *dir)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash != NULL && slash != path ? (size_t)(slash - path) : 1;

	if (n >= PATH_MAX)
		n = PATH_MAX - 1;
	memcpy(dir, path, n);
	dir[n] = '\0';
}

/* --- paths that only root controls --------------------------------------- */

/* 1 a safe directory, 0 missing, -1 unsafe or unreadable (@why says). */
static int
dir_state(const char *d, char *why, size_t len)
{
	struct stat st;

	if (lstat(d, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, len, "%s: %s", d, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s is not a directory%s", d,
		         S_ISLNK(st.st_mode) ? " (a symlink)" : "");
		return -1;
	}
	if (st.st_uid != 0) {
		snprintf(why, len, "%s is owned by uid %u, not root", d,
		         (unsigned)st.st_uid);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, len, "%s is writable by %s (mode %04o)%s", d,
		         st.st_mode & S_IWOTH ? "every user" : "its group",
		         (unsigned)(st.st_mode & 07777),
		         st.st_mode & S_ISVTX ? ": sticky, but a path under "
		         "it can vanish (reboot, tmp cleaning) and be created "
		         "again by any user, whose library ld.so would then "
		         "load into every process" : "");
		return -1;
	}
	return 1;
}

/*
 * Every existing directory from / down to @dir (absolute, resolved):
 * root-owned and writable by root alone.  The walk stops at the first
 * missing one (install creates the rest).  0, or -1 with @why naming the
 * offending directory.
 */
int
mg_host_dirs_safe(const char *dir, char *why, size_t len)
{
	char cur[PATH_MAX];
	size_t i, n = strlen(dir);
	int r = dir_state("/", why, len);

	/* i ends each longer prefix: "/usr", then "/usr/local", ... */
	for (i = 2; r > 0 && i <= n && i < sizeof(cur); i++) {
		if (dir[i] != '/' && dir[i] != '\0')
			continue;
		memcpy(cur, dir, i);
		cur[i] = '\0';
		r = dir_state(cur, why, len);
	}
	return r < 0 ? -1 : 0;
}

/* 1 a regular root-owned file writable by root alone, 0 missing, -1 not
 * (@why says). */
int
mg_host_file_state(const char *path, char *why, size_t len)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? 0 : -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, len, "%s is not a regular file%s", path,
		         S_ISLNK(st.st_mode) ? " (a symlink)" : "");
		return -1;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(why, len, "%s is owned by uid %u, mode %04o: not "
		         "root's alone", path, (unsigned)st.st_uid,
		         (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 1;
}

/* Create the missing directories of @dir (absolute), root:root 0755. */
int
mg_host_mkdirs(const struct mg_host *h, const char *dir)
{
	char cur[PATH_MAX];
	size_t i, n = strlen(dir);

	for (i = 2; i <= n && i < sizeof(cur); i++) {
		if (dir[i] != '/' && dir[i] != '\0')
			continue;
		memcpy(cur, dir, i);
		cur[i] = '\0';
		if (mkdir(cur, 0755) != 0) {
			if (errno == EEXIST)
				continue;
			mg_host_fail(h, "cannot create the directory %s: %s",
			             cur, strerror(errno));
			return -1;
		}
		/* Why both: the umask may have narrowed the mode, and a
		 * set-group-ID parent would have given its group. */
		if (chown(cur, 0, 0) != 0 || chmod(cur, 0755) != 0) {
			mg_host_fail(h, "cannot make %s root:root 0755: %s",
			             cur, strerror(errno));
			return -1;
		}
		printf("  created the directory %s\n", cur);
	}
	return 0;
}

/* --- replacing files atomically ------------------------------------------ */

/* The temporary file that will replace @dst ("DIR/.NAME.XXXXXX" into
 * @tmp[PATH_MAX]), root:root @mode.  Its descriptor, or -1. */
static int
tmp_create(const struct mg_host *h, const char *dst, mode_t mode, char *tmp)
{
	const char *slash = strrchr(dst, '/');
	int fd;

	if (slash == NULL || snprintf(tmp, PATH_MAX, "%.*s/.%s.XXXXXX",
	                              (int)(slash - dst), dst, slash + 1) >=
	    PATH_MAX) {
		mg_host_fail(h, "%s: path too long", dst);
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		mg_host_fail(h, "cannot create a file next to %s: %s", dst,
		             strerror(errno));
		return -1;
	}
	if (fchown(fd, 0, 0) != 0 || fchmod(fd, mode) != 0) {
		mg_host_fail(h, "cannot make %s root:root %04o: %s", tmp,
		             (unsigned)mode, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	return fd;
}

void
mg_host_fsync_dir(const char *path)
{
	char dir[PATH_MAX];
	int fd;

	mg_host_dir_of(path, dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* fsync and close @fd, rename @tmp over @dst, fsync the directory.  0, or
 * -1 with @tmp removed and @dst untouched. */
static int
tmp_commit(const struct mg_host *h, int fd, const char *tmp, const char *dst)
{
	if (fsync(fd) != 0 || close(fd) != 0) {
		mg_host_fail(h, "cannot write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, dst) != 0) {
		mg_host_fail(h, "cannot rename %s to %s: %s", tmp, dst,
		             strerror(errno));
		goto fail;
	}
	mg_host_fsync_dir(dst);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

/* Replace @dst by @n bytes of @data, root:root @mode, atomically. */
int
mg_host_write_atomic(const struct mg_host *h, const char *dst,
                     const char *data, size_t n, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd = tmp_create(h, dst, mode, tmp);

	if (fd < 0)
		return -1;
	if (mg_cli_write_all(fd, data, n) != 0) {
		mg_host_fail(h, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	return tmp_commit(h, fd, tmp, dst);
}

/* Replace @dst by a copy of @src, root:root @mode, atomically. */
int
mg_host_copy_atomic(const struct mg_host *h, const char *src, const char *dst,
                    mode_t mode)
{
	char tmp[PATH_MAX];
	int in, out = -1;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		mg_host_fail(h, "cannot read %s: %s", src, strerror(errno));
		return -1;
	}
	out = tmp_create(h, dst, mode, tmp);
	if (out < 0)
		goto fail;
	if (mg_cli_copy_fd(out, in) != 0) {
		mg_host_fail(h, "cannot copy %s to %s: %s", src, tmp,
		             strerror(errno));
		close(out);
		unlink(tmp);
		goto fail;
	}
	close(in);
	return tmp_commit(h, out, tmp, dst);
fail:
	close(in);
	return -1;
}

/* 1 if @a and @b name the same file. */
int
mg_host_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

