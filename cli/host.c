/*
 * host.c - `modelgate host install|uninstall|status`: protect every
 * process of a shared host (the library in /etc/ld.so.preload, a locked
 * /etc/modelgate/policy.conf), take it off again, and say whether a host
 * is set up right.
 *
 * A library named in /etc/ld.so.preload is mapped into every dynamically
 * linked process, setuid programs included (ld.so trusts that file), so
 * whoever can replace the library, or rename any directory above it, runs
 * code as root.  Install therefore refuses unless every directory from /
 * down to each installed file is root-owned and writable by root alone,
 * and names the first one that is not.  Sticky world-writable directories
 * (/tmp, /var/tmp) are refused too, although the sticky bit does stop
 * other users renaming or deleting root's entries in them: a path under
 * one does not stay root's.  /tmp is emptied at boot or by cleaners
 * (systemd-tmpfiles, tmpreaper), and once root's directory is gone any
 * user may create the same path with a library of their own in it, which
 * ld.so would then load into root's next process.
 *
 * Every file is replaced the same way: a temporary file in the same
 * directory, fsync, rename over the old one, fsync the directory.  A
 * library that running processes have mapped must never be rewritten in
 * place (they would crash), and /etc/ld.so.preload is read by every
 * program start: a half-written one would name a truncated path.
 *
 * Order matters.  Install proves the installed library loads (/bin/true
 * under LD_PRELOAD: exit 0, nothing on stderr) before /etc/ld.so.preload
 * names it; uninstall removes the entry before the files, and removes it
 * even when the library is already gone, because ld.so answers a missing
 * listed library with an error line in every process on the host.
 *
 * Rejected: editing /etc/ld.so.preload in place (not atomic); leaving
 * the file's other entries to the administrator (install and uninstall
 * keep every line that is not ours byte for byte); writing a full copy of
 * the embedded default as the host policy (it would pin today's defaults,
 * and an upgraded modelgate's better ones would never apply).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../policy/pin.h"
#include "../policy/policy.h"
#include "cli.h"
#include "mg_paths.h"

#define PRELOAD_LIST "/etc/ld.so.preload"
#define POLICY_DIR "/etc/modelgate"
#define POLICY_FILE POLICY_DIR "/policy.conf"
#define LIB_NAME "libmodelgate.so"
/* The first line of a policy install wrote; uninstall removes the file
 * only while it is there. */
#define HEADER "# Written by `modelgate host install`"
#define MAX_TEXT (1 << 20) /* why: a policy or ld.so.preload past 1 MiB
                              is not one a person wrote */

static const char usage_text[] =
"usage: modelgate host install [--policy FILE] [--prefix P]\n"
"       modelgate host uninstall [--prefix P]\n"
"       modelgate host status [--prefix P]\n"
"\n"
"install    copy this modelgate and its library to P/bin/modelgate and\n"
"           P/lib/modelgate/libmodelgate.so (every directory above them\n"
"           must be root-owned and writable by root alone), check that the\n"
"           library loads, write " POLICY_FILE " (FILE, which\n"
"           must say locked = yes; without --policy the embedded default\n"
"           with locked = yes and syslog = yes; an existing different file\n"
"           is kept, or with --policy backed up as policy.conf.bak.N), then\n"
"           add the library to " PRELOAD_LIST ", so every program\n"
"           started afterwards loads it\n"
"uninstall  take the library out of " PRELOAD_LIST " first (also\n"
"           when it is already missing), then remove the files install put\n"
"           in P and the policy it wrote (a policy without its header is\n"
"           kept)\n"
"status     check every piece and print OK or PROBLEM for each\n"
"\n"
"P defaults to /usr/local.  Root only.  install and status print how to\n"
"get a working system back if something goes wrong.\n"
"\n"
"exit status: 0 done (status: every check OK), 1 status found a PROBLEM,\n"
"2 usage error or a step failed (the message says what was done)\n";

struct host {
	const char *cmd;       /* "install", "uninstall", "status" */
	const char *policy;    /* --policy FILE, or NULL */
	char prefix[PATH_MAX]; /* resolved, absolute */
	char bindir[PATH_MAX], bin[PATH_MAX];
	char libdir[PATH_MAX], lib[PATH_MAX];
};

/* A growable byte buffer, always NUL-terminated once non-empty. */
struct buf {
	char *p;
	size_t n, cap;
};

/* What `status` found so far. */
struct status {
	int problems;
};

static void
buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Append @n bytes of @s.  0, or -1 when out of memory. */
static int
buf_add(struct buf *b, const char *s, size_t n)
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

static int
buf_str(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

/* The whole of @path (at most MAX_TEXT bytes) into @b.  0, or -1 with
 * errno set (ENOENT for a missing file, EFBIG when too large). */
static int
read_text(const char *path, struct buf *b)
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
		    buf_add(b, chunk, (size_t)n) != 0) {
			e = n < 0 ? errno :
			    b->n + (size_t)n > MAX_TEXT ? EFBIG : ENOMEM;
			break;
		}
	}
	close(fd);
	if (e == 0 && b->p == NULL && buf_add(b, "", 0) != 0)
		e = ENOMEM;
	errno = e;
	return e ? -1 : 0;
}

static void MG_PRINTF(2, 3)
fail(const struct host *h, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mg_cli_error("host %s: %s", h->cmd, msg);
}

/* "OK      what" or "PROBLEM what"; counts the problems. */
static void MG_PRINTF(3, 4)
report(struct status *s, int good, const char *fmt, ...)
{
	va_list ap;

	printf("%-8s", good ? "OK" : "PROBLEM");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!good)
		s->problems++;
}

/* The directory part of @path into @dir[PATH_MAX]: "/" for "/x". */
static void
dir_of(const char *path, char *dir)
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
static int
dirs_safe(const char *dir, char *why, size_t len)
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
static int
file_state(const char *path, char *why, size_t len)
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
static int
mkdirs(const struct host *h, const char *dir)
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
			fail(h, "cannot create the directory %s: %s", cur,
			     strerror(errno));
			return -1;
		}
		/* Why both: the umask may have narrowed the mode, and a
		 * set-group-ID parent would have given its group. */
		if (chown(cur, 0, 0) != 0 || chmod(cur, 0755) != 0) {
			fail(h, "cannot make %s root:root 0755: %s", cur,
			     strerror(errno));
			return -1;
		}
		printf("  created the directory %s\n", cur);
	}
	return 0;
}

/*
 * @p resolved into @out[PATH_MAX]: symlinks in its existing part
 * followed (the checks and ld.so.preload must name real directories),
 * the part that does not exist yet appended.
 */
static int
resolve_prefix(const struct host *h, const char *p, char *out)
{
	char head[PATH_MAX], tail[PATH_MAX] = "", tmp[PATH_MAX], res[PATH_MAX];
	char *slash;

	if (p[0] != '/' || strlen(p) >= sizeof(head)) {
		fail(h, "--prefix %s: not an absolute path", p);
		return -1;
	}
	snprintf(head, sizeof(head), "%s", p);
	while (strlen(head) > 1 && head[strlen(head) - 1] == '/')
		head[strlen(head) - 1] = '\0';
	while (realpath(head, res) == NULL) {
		slash = strrchr(head, '/');
		if (errno != ENOENT || slash == NULL ||
		    strcmp(slash, "/.") == 0 || strcmp(slash, "/..") == 0) {
			fail(h, "--prefix %s: %s", p, errno != ENOENT ?
			     strerror(errno) : "'.' or '..' in a part that "
			     "does not exist");
			return -1;
		}
		snprintf(tmp, sizeof(tmp), "%s%s", slash, tail);
		memcpy(tail, tmp, sizeof(tail));
		if (slash == head)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	if (snprintf(out, PATH_MAX, "%s%s", strcmp(res, "/") == 0 &&
	             tail[0] ? "" : res, tail) >= PATH_MAX) {
		fail(h, "--prefix %s: path too long", p);
		return -1;
	}
	return 0;
}

static int
set_paths(struct host *h, const char *prefix)
{
	const char *base;

	if (resolve_prefix(h, prefix, h->prefix) != 0)
		return -1;
	base = strcmp(h->prefix, "/") == 0 ? "" : h->prefix;
	if (snprintf(h->bindir, PATH_MAX, "%s/bin", base) >= PATH_MAX ||
	    snprintf(h->bin, PATH_MAX, "%s/bin/modelgate", base) >= PATH_MAX ||
	    snprintf(h->libdir, PATH_MAX, "%s/lib/modelgate", base) >=
	    PATH_MAX || snprintf(h->lib, PATH_MAX, "%s/lib/modelgate/%s", base,
	                         LIB_NAME) >= PATH_MAX) {
		fail(h, "--prefix %s: path too long", prefix);
		return -1;
	}
	return 0;
}

/* --- replacing files atomically ------------------------------------------ */

/* The temporary file that will replace @dst ("DIR/.NAME.XXXXXX" into
 * @tmp[PATH_MAX]), root:root @mode.  Its descriptor, or -1. */
static int
tmp_create(const struct host *h, const char *dst, mode_t mode, char *tmp)
{
	const char *slash = strrchr(dst, '/');
	int fd;

	if (slash == NULL || snprintf(tmp, PATH_MAX, "%.*s/.%s.XXXXXX",
	                              (int)(slash - dst), dst, slash + 1) >=
	    PATH_MAX) {
		fail(h, "%s: path too long", dst);
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		fail(h, "cannot create a file next to %s: %s", dst,
		     strerror(errno));
		return -1;
	}
	if (fchown(fd, 0, 0) != 0 || fchmod(fd, mode) != 0) {
		fail(h, "cannot make %s root:root %04o: %s", tmp,
		     (unsigned)mode, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	return fd;
}

static void
fsync_dir(const char *path)
{
	char dir[PATH_MAX];
	int fd;

	dir_of(path, dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* fsync and close @fd, rename @tmp over @dst, fsync the directory.  0, or
 * -1 with @tmp removed and @dst untouched. */
static int
tmp_commit(const struct host *h, int fd, const char *tmp, const char *dst)
{
	if (fsync(fd) != 0 || close(fd) != 0) {
		fail(h, "cannot write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, dst) != 0) {
		fail(h, "cannot rename %s to %s: %s", tmp, dst,
		     strerror(errno));
		goto fail;
	}
	fsync_dir(dst);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Replace @dst by @n bytes of @data, root:root @mode, atomically. */
static int
write_atomic(const struct host *h, const char *dst, const char *data,
             size_t n, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd = tmp_create(h, dst, mode, tmp);

	if (fd < 0)
		return -1;
	if (write_all(fd, data, n) != 0) {
		fail(h, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	return tmp_commit(h, fd, tmp, dst);
}

/* Replace @dst by a copy of @src, root:root @mode, atomically. */
static int
copy_atomic(const struct host *h, const char *src, const char *dst,
            mode_t mode)
{
	char tmp[PATH_MAX], chunk[65536];
	int in, out = -1;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		fail(h, "cannot read %s: %s", src, strerror(errno));
		return -1;
	}
	out = tmp_create(h, dst, mode, tmp);
	if (out < 0)
		goto fail;
	while ((n = read(in, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write_all(out, chunk, (size_t)n) != 0) {
			fail(h, "cannot copy %s to %s: %s", src, tmp,
			     strerror(errno));
			close(out);
			unlink(tmp);
			goto fail;
		}
	}
	close(in);
	return tmp_commit(h, out, tmp, dst);
fail:
	close(in);
	return -1;
}

/* 1 if @a and @b name the same file. */
static int
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Copy @src to @dst unless it already is that file. */
static int
install_copy(const struct host *h, const char *src, const char *dst,
             mode_t mode)
{
	if (same_file(src, dst)) {
		printf("  %s is already this one: not copied\n", dst);
		if (chown(dst, 0, 0) == 0 && chmod(dst, mode) == 0)
			return 0;
		fail(h, "cannot make %s root:root %04o: %s", dst,
		     (unsigned)mode, strerror(errno));
		return -1;
	}
	if (copy_atomic(h, src, dst, mode) != 0)
		return -1;
	printf("  installed %s (from %s)\n", dst, src);
	return 0;
}

/* --- running a program --------------------------------------------------- */

/* What a program printed and how it ended. */
struct run {
	int status;            /* waitpid() status */
	char out[65536], err[4096];
	size_t nout, nerr;
};

/* Read @fo (stdout) and @fe (stderr) until both end, keeping what fits. */
static void
drain(int fo, int fe, struct run *r)
{
	struct pollfd p[2] = { { fo, POLLIN, 0 }, { fe, POLLIN, 0 } };
	char chunk[4096];
	int left = 2, i;
	ssize_t n;

	while (left > 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (i = 0; i < 2; i++) {
			char *dst = i == 0 ? r->out : r->err;
			size_t cap = i == 0 ? sizeof(r->out) : sizeof(r->err);
			size_t *len = i == 0 ? &r->nout : &r->nerr;

			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			n = read(p[i].fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				p[i].fd = -1;
				left--;
				continue;
			}
			if ((size_t)n > cap - 1 - *len)
				n = (ssize_t)(cap - 1 - *len);
			memcpy(dst + *len, chunk, (size_t)n);
			*len += (size_t)n;
			dst[*len] = '\0';
		}
	}
}

/* Run @argv with the environment @envp, stdin /dev/null, capturing its
 * output into @r.  0, or -1 (errno set) when it could not be started. */
static int
run_capture(char *const argv[], char *const envp[], struct run *r)
{
	posix_spawn_file_actions_t fa;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, rc;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
		rc = errno;
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	if (rc == 0) {
		drain(po[0], pe[0], r);
		while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
			;
	}
out:
	if (po[0] >= 0)
		close(po[0]);
	if (pe[0] >= 0)
		close(pe[0]);
	if (po[1] >= 0)
		close(po[1]);
	errno = rc;
	return rc ? -1 : 0;
}

/* 1 if @r ended with exit status 0. */
static int
exited_0(const struct run *r)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
}

/* The first line of @s, for a message (at most 300 bytes). */
static const char *
first_line(const char *s, char *out, size_t cap)
{
	size_t n = strcspn(s, "\n");

	snprintf(out, cap, "%.*s", (int)(n < 300 ? n : 300), s);
	return out;
}

/* Run `@bin --version` the way the preload would start it (a clean
 * environment).  1 if it answered "modelgate VERSION", with the line in
 * @line; 0 otherwise, @line saying why. */
static int
helper_runs(const char *bin, char *line, size_t cap)
{
	char *argv[] = { (char *)bin, "--version", NULL };
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	struct run *r = malloc(sizeof(*r));
	char said[320];
	int ok = 0;

	if (r == NULL) {
		snprintf(line, cap, "out of memory");
		return 0;
	}
	if (run_capture(argv, envp, r) != 0)
		snprintf(line, cap, "cannot run it: %s", strerror(errno));
	else if (!exited_0(r) || strncmp(r->out, "modelgate ", 10) != 0)
		snprintf(line, cap, "`%s --version` failed (status %d): %s",
		         bin, r->status, first_line(r->nerr ? r->err : r->out,
		                                    said, sizeof(said)));
	else
		ok = first_line(r->out, line, cap) != NULL;
	free(r);
	return ok;
}

/* --- /etc/ld.so.preload -------------------------------------------------- */

/* Is the word @w (@n bytes) a modelgate library (".../libmodelgate.so")? */
static int
is_mg_word(const char *w, size_t n)
{
	size_t k = strlen(LIB_NAME);

	return n >= k && memcmp(w + n - k, LIB_NAME, k) == 0 &&
	       (n == k || w[n - k - 1] == '/');
}

/* How the list is rewritten. */
struct edit {
	const char *keep;   /* our entry: kept once, or NULL to drop all */
	const char *verb;   /* "dropped the stale entry", "removed"; NULL:
	                       say nothing, list them in @stale (status) */
	int kept;           /* @keep was seen (and kept) */
	int dropped;        /* entries dropped */
	char stale[1024];   /* with @verb NULL: the dropped ones */
};

/* Is the word @w (@n bytes) one @e drops?  Says so when it is. */
static int
drops(struct edit *e, const char *w, size_t n)
{
	int ours = e->keep != NULL && strlen(e->keep) == n &&
	           memcmp(w, e->keep, n) == 0;

	if (!is_mg_word(w, n))
		return 0;
	if (ours && !e->kept) {
		e->kept = 1;
		return 0;
	}
	if (e->verb != NULL)
		printf("  %s %.*s from %s\n", ours ?
		       "dropped a second copy of" : e->verb, (int)n, w,
		       PRELOAD_LIST);
	else
		snprintf(e->stale + strlen(e->stale), sizeof(e->stale) -
		         strlen(e->stale), "%s%.*s", e->stale[0] ? ", " : "",
		         (int)n, w);
	e->dropped++;
	return 1;
}

/*
 * Rewrite the line @l (@n bytes, no newline) into @out; 1 if something
 * was written, 0 if the line is dropped, -1 when out of memory.  ld.so
 * splits the file on blanks, tabs, newlines and ':'; a word starting
 * with '#' starts a comment.  A line with no modelgate word is kept byte
 * for byte; one with some is rebuilt from its other words (and its
 * comment), or dropped when nothing else was on it.
 */
static int
edit_line(struct edit *e, const char *l, size_t n, struct buf *out)
{
	struct buf rest = { NULL, 0, 0 };
	size_t i = 0, j;
	int touched = 0, rc = 0;

	while (i < n) {
		for (; i < n && strchr(" \t:", l[i]); i++)
			;
		if (i >= n || l[i] == '#')
			break;
		for (j = i; j < n && !strchr(" \t:", l[j]); j++)
			;
		if (drops(e, l + i, j - i))
			touched = 1;
		else if ((rest.n > 0 && buf_str(&rest, " ") != 0) ||
		         buf_add(&rest, l + i, j - i) != 0)
			rc = -1;
		i = j;
	}
	/* Here l[i..n) is the comment, if any. */
	if (!touched) {
		rc |= buf_add(out, l, n);
		rc = rc ? -1 : 1;
	} else if (rest.n == 0 && i >= n) {
		rc = rc ? -1 : 0;
	} else {
		if (rest.n > 0 && buf_add(out, rest.p, rest.n) != 0)
			rc = -1;
		if (i < n && ((rest.n > 0 && buf_str(out, " ") != 0) ||
		              buf_add(out, l + i, n - i) != 0))
			rc = -1;
		rc = rc ? -1 : 1;
	}
	buf_free(&rest);
	return rc;
}

/* @old (the list's text, @n bytes) edited by @e into @out; our entry is
 * appended as a line of its own when @e->keep is set and was not there.
 * Every line keeps its newline, and only the last may lack one, as in
 * @old.  0, or -1 when out of memory. */
static int
edit_list(struct edit *e, const char *old, size_t n, struct buf *out)
{
	size_t i = 0, j;
	int w;

	if (buf_add(out, "", 0) != 0)
		return -1;
	while (i < n) {
		for (j = i; j < n && old[j] != '\n'; j++)
			;
		w = edit_line(e, old + i, j - i, out);
		if (w < 0 || (w > 0 && j < n && buf_str(out, "\n") != 0))
			return -1;
		i = j + 1;
	}
	if (e->keep == NULL || e->kept)
		return 0;
	if (out->n > 0 && out->p[out->n - 1] != '\n' && buf_str(out, "\n") != 0)
		return -1;
	return buf_str(out, e->keep) != 0 || buf_str(out, "\n") != 0 ? -1 : 0;
}

/* 1 if @s (@n bytes) holds nothing but blanks. */
static int
blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strchr(" \t\r\n:", s[i]))
			return 0;
	return 1;
}

/*
 * Read the list into @old.  0 (a missing file reads as empty), or -1.
 * With @strict (install), a list that is not root's alone is refused:
 * whoever else can write it already decides what every process loads.
 */
static int
read_list(const struct host *h, struct buf *old, int strict)
{
	char why[PATH_MAX + 200];
	int st = file_state(PRELOAD_LIST, why, sizeof(why));

	if (st < 0 && strict) {
		fail(h, "%s; fix that first", why);
		return -1;
	}
	if (st < 0)
		printf("  warning: %s\n", why);
	if (read_text(PRELOAD_LIST, old) != 0) {
		if (errno == ENOENT)
			return buf_add(old, "", 0);
		fail(h, "cannot read %s: %s", PRELOAD_LIST, strerror(errno));
		return -1;
	}
	return 0;
}

/* Add @h->lib to the list (dropping stale modelgate entries). */
static int
list_add(const struct host *h)
{
	struct edit e = { h->lib, "dropped the stale entry", 0, 0, "" };
	struct buf old = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	int rc = -1;

	if (read_list(h, &old, 1) != 0)
		goto done;
	if (edit_list(&e, old.p, old.n, &out) != 0) {
		fail(h, "out of memory");
		goto done;
	}
	if (out.n == old.n && memcmp(out.p, old.p, old.n) == 0) {
		printf("  %s already lists %s\n", PRELOAD_LIST, h->lib);
		rc = 0;
		goto done;
	}
	if (write_atomic(h, PRELOAD_LIST, out.p, out.n, 0644) != 0)
		goto done;
	if (!e.kept)
		printf("  added %s to %s\n", h->lib, PRELOAD_LIST);
	rc = 0;
done:
	buf_free(&old);
	buf_free(&out);
	return rc;
}

/* Take every modelgate entry out of the list; a list left blank is
 * removed.  *@did is set when something changed. */
static int
list_remove(const struct host *h, int *did)
{
	struct edit e = { NULL, "removed", 0, 0, "" };
	struct buf old = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	int rc = -1;

	if (read_list(h, &old, 0) != 0)
		goto done;
	if (edit_list(&e, old.p, old.n, &out) != 0) {
		fail(h, "out of memory");
		goto done;
	}
	rc = 0;
	if (e.dropped == 0)
		goto done;
	*did = 1;
	if (blank(out.p, out.n)) {
		if (unlink(PRELOAD_LIST) != 0 && errno != ENOENT) {
			fail(h, "cannot remove %s: %s", PRELOAD_LIST,
			     strerror(errno));
			rc = -1;
			goto done;
		}
		fsync_dir(PRELOAD_LIST);
		printf("  removed %s (nothing else was listed)\n",
		       PRELOAD_LIST);
	} else {
		rc = write_atomic(h, PRELOAD_LIST, out.p, out.n, 0644);
	}
done:
	buf_free(&old);
	buf_free(&out);
	return rc;
}

/* --- the host policy ----------------------------------------------------- */

/* Notes while loading a policy here: a refusal is kept, the rest shown. */
struct notes {
	int refused;
	char why[1024];
};

static void
keep_refusal(void *ctx, const struct mg_note *n)
{
	struct notes *c = ctx;

	if (n->kind == MG_NOTE_REFUSED) {
		c->refused = 1;
		snprintf(c->why, sizeof(c->why), "%s", n->text);
		return;
	}
	printf("        %s\n", n->text);
}

/* The policy install writes without --policy: a header, then only what
 * differs from the embedded default, so later defaults still apply. */
static int
default_policy(struct buf *b)
{
	char when[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf_str(b, HEADER " (modelgate " MG_VERSION ") on ") |
	       buf_str(b, when) |
	       buf_str(b, ".\n"
	       "# `modelgate host uninstall` removes this file while the line "
	       "above is\n"
	       "# here: delete that line to keep the file.\n"
	       "# The embedded default (`modelgate policy show --default`), "
	       "locked so\n"
	       "# users may only tighten it, with every decision also sent to "
	       "syslog.\n"
	       "[policy]\n"
	       "locked = yes\n"
	       "syslog = yes\n");
}

/* @s past its leading '#' lines. */
static const char *
past_header(const char *s)
{
	while (*s == '#') {
		s = strchr(s, '\n');
		if (s == NULL)
			return "";
		s++;
	}
	return s;
}

/* Read and validate --policy FILE into @b: it must parse and be locked. */
static int
read_policy_arg(const struct host *h, struct buf *b)
{
	struct mg_policy *p = NULL;
	char err[1024];
	int rc = -1;

	if (read_text(h->policy, b) != 0) {
		fail(h, "cannot read %s: %s", h->policy, strerror(errno));
		return -1;
	}
	if (mg_policy_parse_text(h->policy, b->p, b->n, &p, err,
	                         sizeof(err)) != MG_OK) {
		fail(h, "%s", err);
		return -1;
	}
	if (!mg_policy_locked(p)) {
		fail(h, "%s does not say `locked = yes` in [policy]: any "
		     "user could loosen it with MODELGATE_POLICY; refusing to "
		     "install it as the host policy", h->policy);
		goto done;
	}
	if (mg_policy_check_pins(p, err, sizeof(err)) != MG_OK) {
		fail(h, "%s: %s", h->policy, err);
		goto done;
	}
	if (mg_policy_log_file(p) != NULL &&
	    !mg_policy_log_reachable(p, err, sizeof(err)))
		printf("  warning: %s: %s; users' decisions will go to syslog "
		       "only\n", h->policy, err);
	rc = 0;
done:
	mg_policy_free(p);
	return rc;
}

/* Link @POLICY_FILE as policy.conf.bak.N, the first N free. */
static int
backup_policy(const struct host *h)
{
	char bak[PATH_MAX];
	int i;

	for (i = 1; i < 1000; i++) {
		snprintf(bak, sizeof(bak), "%s.bak.%d", POLICY_FILE, i);
		if (link(POLICY_FILE, bak) == 0) {
			printf("  backed up %s as %s\n", POLICY_FILE, bak);
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	fail(h, "cannot back up %s as %s: %s", POLICY_FILE, bak,
	     strerror(errno));
	return -1;
}

/* Load the installed host policy (as every process will); NULL when it
 * cannot be loaded at all.  A refusal is in @n. */
static struct mg_policy *
load_host_policy(struct notes *n, char *err, size_t errlen)
{
	struct mg_policy *p = NULL;

	memset(n, 0, sizeof(*n));
	mg_policy_set_system_path(POLICY_FILE);
	mg_policy_set_note_sink(keep_refusal, n);
	if (mg_policy_load_effective(NULL, 0, &p, err, errlen) != MG_OK)
		p = NULL;
	mg_policy_set_note_sink(NULL, NULL);
	return p;
}

/* After writing, or keeping, the policy: does it load, locked? */
static int
verify_policy(const struct host *h, int kept)
{
	struct mg_policy *p;
	struct notes n;
	char err[1024];
	int locked;

	p = load_host_policy(&n, err, sizeof(err));
	locked = p != NULL && mg_policy_locked(p);
	mg_policy_free(p);
	if (p != NULL && !n.refused && locked)
		return 0;
	if (!kept) {
		fail(h, "the policy written does not load: %s", n.refused ?
		     n.why : err);
		return -1;
	}
	printf("  warning: the kept %s %s; see `modelgate host status`\n",
	       POLICY_FILE, n.refused ? "is refused (the embedded default "
	       "applies, locked)" : "is not locked: users can loosen it");
	return 0;
}

/* Put @want (--policy FILE's bytes, or the default host policy) in
 * place, unless an equal one is there or, without --policy, any other. */
static int
install_policy(const struct host *h, const struct buf *want)
{
	struct buf have = { NULL, 0, 0 };
	int rc = -1, exists;

	if (mkdirs(h, POLICY_DIR) != 0)
		goto done;
	exists = read_text(POLICY_FILE, &have) == 0;
	if (!exists && errno != ENOENT) {
		fail(h, "cannot read %s: %s", POLICY_FILE, strerror(errno));
		goto done;
	}
	/* Why past the header for the default: it carries the date. */
	if (exists && (h->policy ? have.n == want->n &&
	               memcmp(have.p, want->p, want->n) == 0 :
	               strncmp(have.p, HEADER, strlen(HEADER)) == 0 &&
	               !strcmp(past_header(have.p), past_header(want->p)))) {
		printf("  %s is already in place\n", POLICY_FILE);
		rc = verify_policy(h, 1);
		goto done;
	}
	if (exists && h->policy == NULL) {
		printf("  kept the existing %s: it differs from the default "
		       "host policy (--policy FILE replaces it, after a "
		       "backup)\n", POLICY_FILE);
		rc = verify_policy(h, 1);
		goto done;
	}
	if (exists && backup_policy(h) != 0)
		goto done;
	if (write_atomic(h, POLICY_FILE, want->p, want->n, 0644) != 0)
		goto done;
	printf("  wrote %s (%s)\n", POLICY_FILE, h->policy ? h->policy :
	       "the embedded default, locked, syslog on");
	rc = verify_policy(h, 0);
done:
	buf_free(&have);
	return rc;
}

/* --- install ------------------------------------------------------------- */

static void
print_rescue(const struct host *h)
{
	printf("\nIf something goes wrong (programs fail to start, or print "
	       "ld.so errors):\n"
	       "  1. modelgate host uninstall --prefix %s\n"
	       "     takes the entry out of %s first, then the files.\n"
	       "  2. Or, from any root shell, delete the line\n"
	       "       %s\n"
	       "     from %s (or delete the file if that is its only line).\n"
	       "     Programs started afterwards no longer load it; no reboot "
	       "is needed.\n"
	       "     Moving the library away works too: ld.so skips a listed "
	       "library it\n"
	       "     cannot open (with a warning from every program).\n"
	       "  3. If no shell starts at all: every dynamically linked "
	       "program loads\n"
	       "     the library, /bin/sh too, so init=/bin/sh does not help "
	       "then.  Use the\n"
	       "     initramfs shell (Debian initramfs-tools: add `break` to "
	       "the kernel\n"
	       "     command line; dracut: rd.break), a rescue or live system, "
	       "or a\n"
	       "     statically linked shell (busybox-static), mount the root "
	       "file system\n"
	       "     and delete the line from its etc/ld.so.preload.  "
	       "init=/bin/sh is\n"
	       "     enough when the shell starts but services do not: mount "
	       "-o remount,rw /\n"
	       "     and do step 2.\n", h->prefix, PRELOAD_LIST, h->lib,
	       PRELOAD_LIST);
}

/* Every directory an installed file will sit in is root's alone. */
static int
check_dirs(const struct host *h)
{
	const char *dirs[] = { h->bindir, h->libdir, "/etc", POLICY_DIR };
	char why[PATH_MAX + 300];
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (dirs_safe(dirs[i], why, sizeof(why)) != 0) {
			fail(h, "%s: every directory above a file in %s must "
			     "be root-owned and writable by root alone; "
			     "refusing", why, PRELOAD_LIST);
			return -1;
		}
	return 0;
}

/*
 * The installed library loads: /bin/true under it exits 0 and prints
 * nothing that /bin/true without it does not (nothing, on a healthy host;
 * a broken entry already in the list would make every program complain,
 * with or without ours).
 */
static int
check_loads(const struct host *h)
{
	char env[PATH_MAX + 16], line[512];
	char *argv[] = { "/bin/true", NULL };
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", env, NULL };
	struct run *r = malloc(sizeof(*r)), *base = malloc(sizeof(*base));
	int ok = 0;

	if (r == NULL || base == NULL) {
		fail(h, "out of memory");
		goto done;
	}
	snprintf(env, sizeof(env), "LD_PRELOAD=%s", h->lib);
	if (run_capture(argv, envp + 1, base) != 0 ||
	    run_capture(argv, envp, r) != 0) {
		fail(h, "cannot run /bin/true: %s", strerror(errno));
		goto done;
	}
	ok = exited_0(r) && r->nerr == base->nerr &&
	     memcmp(r->err, base->err, r->nerr) == 0;
	if (!ok)
		fail(h, "/bin/true under %s %s: %s; %s not changed", env,
		     exited_0(r) ? "printed on stderr" : "failed",
		     r->nerr ? first_line(r->err, line, sizeof(line)) :
		     "(nothing on stderr)", PRELOAD_LIST);
	else
		printf("  checked: /bin/true runs under %s (exit 0, nothing on "
		       "stderr%s)\n", env, base->nerr ? " that it does not "
		       "print without" : "");
done:
	free(r);
	free(base);
	return ok ? 0 : -1;
}

static int
cmd_install(struct host *h)
{
	char self[PATH_MAX], srclib[PATH_MAX], line[512];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct buf pol = { NULL, 0, 0 };
	int rc = MG_EXIT_USAGE;

	if (n <= 0 || mg_cli_find_lib(srclib) != 0) {
		fail(h, "cannot find %s", n <= 0 ? "this modelgate binary" :
		     "the libmodelgate.so of this modelgate");
		return MG_EXIT_USAGE;
	}
	self[n] = '\0';
	printf("modelgate host install, prefix %s:\n", h->prefix);
	/* Why first: a policy that would be refused changes nothing; and
	 * the bytes validated are the bytes installed (read once). */
	if (h->policy != NULL ? read_policy_arg(h, &pol) != 0 :
	    default_policy(&pol) != 0 && (fail(h, "out of memory"), 1))
		goto done;
	if (check_dirs(h) != 0 || mkdirs(h, h->bindir) != 0 ||
	    mkdirs(h, h->libdir) != 0 || check_dirs(h) != 0 ||
	    install_copy(h, srclib, h->lib, 0644) != 0 ||
	    install_copy(h, self, h->bin, 0755) != 0 || check_loads(h) != 0)
		goto done;
	if (!helper_runs(h->bin, line, sizeof(line))) {
		fail(h, "%s: %s; %s not changed", h->bin, line, PRELOAD_LIST);
		goto done;
	}
	printf("  checked: %s --version: %s\n", h->bin, line);
	if (install_policy(h, &pol) != 0 || list_add(h) != 0)
		goto done;
	printf("done: every program started from now on loads %s; it acts "
	       "only in the processes the policy covers (python* by "
	       "default).  `modelgate host status` checks the set-up.\n",
	       h->lib);
	print_rescue(h);
	rc = MG_EXIT_OK;
done:
	buf_free(&pol);
	return rc;
}

/* --- uninstall ----------------------------------------------------------- */

/* Remove @path if it is a file install would have put there, and not
 * this very build's copy reached through another name (a hard link). */
static int
remove_file(const struct host *h, const char *path, const char *mine,
            int *did)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		fail(h, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
		printf("  kept %s: not a file\n", path);
		return 0;
	}
	if (mine[0] != '\0' && strcmp(mine, path) != 0 &&
	    same_file(mine, path)) {
		printf("  kept %s: it is %s, this build's own copy\n", path,
		       mine);
		return 0;
	}
	if (unlink(path) != 0) {
		fail(h, "cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	fsync_dir(path);
	printf("  removed %s\n", path);
	*did = 1;
	return 0;
}

/* The policy, only if install wrote it (its header is still there). */
static int
remove_policy(const struct host *h, int *did)
{
	struct buf b = { NULL, 0, 0 };
	int rc = 0;

	if (read_text(POLICY_FILE, &b) != 0) {
		if (errno != ENOENT) {
			fail(h, "cannot read %s: %s", POLICY_FILE,
			     strerror(errno));
			rc = -1;
		}
	} else if (strncmp(b.p, HEADER, strlen(HEADER)) != 0) {
		printf("  kept %s: `modelgate host install` did not write it "
		       "(no header line)\n", POLICY_FILE);
	} else if (unlink(POLICY_FILE) != 0) {
		fail(h, "cannot remove %s: %s", POLICY_FILE, strerror(errno));
		rc = -1;
	} else {
		fsync_dir(POLICY_FILE);
		printf("  removed %s\n", POLICY_FILE);
		*did = 1;
		if (rmdir(POLICY_DIR) == 0)
			printf("  removed the directory %s\n", POLICY_DIR);
	}
	buf_free(&b);
	return rc;
}

static int
cmd_uninstall(struct host *h)
{
	char self[PATH_MAX] = "", mylib[PATH_MAX] = "";
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int did = 0, rc = 0;

	self[n > 0 ? n : 0] = '\0';
	if (mg_cli_find_lib(mylib) != 0)
		mylib[0] = '\0';
	printf("modelgate host uninstall, prefix %s:\n", h->prefix);
	/* The entry first: from here on no new process loads the library,
	 * so removing it cannot leave ld.so errors behind. */
	if (list_remove(h, &did) != 0)
		return MG_EXIT_USAGE;
	rc |= remove_file(h, h->lib, mylib, &did);
	if (rmdir(h->libdir) == 0)
		printf("  removed the directory %s\n", h->libdir);
	rc |= remove_file(h, h->bin, self, &did);
	rc |= remove_policy(h, &did);
	if (!did)
		printf("  nothing to remove: modelgate is not installed "
		       "there\n");
	return rc ? MG_EXIT_USAGE : MG_EXIT_OK;
}

/* --- status -------------------------------------------------------------- */

/* A file every process trusts: present, root's alone, and so is every
 * directory above it. */
static void
status_file(struct status *s, const char *what, const char *path)
{
	char why[PATH_MAX + 300], dir[PATH_MAX];
	int st = file_state(path, why, sizeof(why));

	dir_of(path, dir);
	if (st <= 0) {
		report(s, 0, "%s %s: %s", what, path,
		       st == 0 ? "missing" : why);
		return;
	}
	if (dirs_safe(dir, why, sizeof(why)) != 0) {
		report(s, 0, "%s %s: %s", what, path, why);
		return;
	}
	report(s, 1, "%s %s: present, root's alone, and so is every directory "
	       "above it", what, path);
}

/* The list names the library (and no other modelgate one). */
static void
status_list(struct status *s, const struct host *h)
{
	struct edit e = { h->lib, NULL, 0, 0, "" };
	struct buf b = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	char why[PATH_MAX + 300];
	int st = file_state(PRELOAD_LIST, why, sizeof(why));

	if (st <= 0) {
		report(s, 0, "%s: %s", PRELOAD_LIST, st == 0 ? "missing: the "
		       "library is not preloaded" : why);
		return;
	}
	if (read_text(PRELOAD_LIST, &b) != 0 ||
	    edit_list(&e, b.p, b.n, &out) != 0) {
		report(s, 0, "%s: cannot read: %s", PRELOAD_LIST,
		       strerror(errno));
		goto done;
	}
	report(s, e.kept, "%s lists %s", PRELOAD_LIST, h->lib);
	if (e.stale[0] != '\0')
		report(s, 0, "%s also lists %s (`modelgate host install` drops "
		       "them)", PRELOAD_LIST, e.stale);
done:
	buf_free(&b);
	buf_free(&out);
}

/* A fresh process (cat of its own maps, clean environment) has the
 * library mapped, and ld.so said nothing. */
static void
status_loaded(struct status *s, const struct host *h)
{
	char *argv[] = { "/bin/cat", "/proc/self/maps", NULL };
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	char needle[PATH_MAX + 2], line[512];
	struct run *r = malloc(sizeof(*r));

	if (r == NULL || run_capture(argv, envp, r) != 0) {
		report(s, 0, "a fresh process: cannot run /bin/cat: %s",
		       r ? strerror(errno) : "out of memory");
		free(r);
		return;
	}
	snprintf(needle, sizeof(needle), " %s\n", h->lib);
	report(s, strstr(r->out, needle) != NULL, "a fresh process (/bin/cat) "
	       "has %s loaded", h->lib);
	if (r->nerr > 0)
		report(s, 0, "a fresh process prints on stderr: %s",
		       first_line(r->err, line, sizeof(line)));
	free(r);
}

/* The host policy: present, root's alone, parses, locked, lockfiles
 * readable.  Returns it loaded (or NULL) for the log checks. */
static struct mg_policy *
status_policy(struct status *s)
{
	struct mg_policy *p;
	struct notes n;
	char err[1024];

	status_file(s, "policy", POLICY_FILE);
	p = load_host_policy(&n, err, sizeof(err));
	if (p == NULL) {
		report(s, 0, "policy %s: cannot be loaded: %s", POLICY_FILE,
		       err);
		return NULL;
	}
	if (n.refused)
		report(s, 0, "policy %s: %s", POLICY_FILE, n.why);
	else if (access(POLICY_FILE, F_OK) == 0)
		report(s, 1, "policy %s: valid", POLICY_FILE);
	report(s, !n.refused && mg_policy_locked(p), "policy %s: %s",
	       POLICY_FILE, n.refused ? "refused, so the embedded default "
	       "applies, locked" : mg_policy_locked(p) ? "locked: users may "
	       "only tighten it" : "not locked: any user can loosen it with "
	       "MODELGATE_POLICY");
	if (mg_policy_check_pins(p, err, sizeof(err)) != MG_OK)
		report(s, 0, "policy %s: %s", POLICY_FILE, err);
	return p;
}

/* The helper the library will start: the way preload.c's find_helper()
 * looks (next to the library, then ../../bin, then the built-in BINDIR),
 * root's alone, answering --version like this binary. */
static void
status_helper(struct status *s, const struct host *h)
{
	char cand[3][PATH_MAX + 32], real[PATH_MAX], line[512], want[64];
	const char *pick = NULL;
	int i;

	snprintf(cand[0], sizeof(cand[0]), "%s/modelgate", h->libdir);
	snprintf(cand[1], sizeof(cand[1]), "%s/../../bin/modelgate", h->libdir);
	snprintf(cand[2], sizeof(cand[2]), "%s/modelgate", MG_BINDIR);
	for (i = 0; i < 3 && pick == NULL; i++)
		if (access(cand[i], X_OK) == 0)
			pick = cand[i];
	if (pick == NULL) {
		report(s, 0, "helper: none of %s, %s, %s is executable: every "
		       "model load is denied", cand[0], cand[1], cand[2]);
		return;
	}
	if (realpath(pick, real) != NULL)
		pick = real;
	status_file(s, "helper", pick);
	snprintf(want, sizeof(want), "modelgate %s", MG_VERSION);
	if (!helper_runs(pick, line, sizeof(line)))
		report(s, 0, "helper %s: %s", pick, line);
	else
		report(s, strcmp(line, want) == 0, "helper %s runs: %s%s%s",
		       pick, line, strcmp(line, want) ?
		       "; this modelgate is " : "",
		       strcmp(line, want) ? MG_VERSION : "");
}

/* Where users' decisions go: syslog (on, or the policy is locked) needs
 * a /dev/log every user may write; a log_file must take their lines. */
static void
status_log(struct status *s, const struct mg_policy *p)
{
	char why[PATH_MAX + 300];
	struct stat st;
	int sys = p == NULL || mg_policy_log_syslog(p) || mg_policy_locked(p);

	if (sys) {
		int ok = stat("/dev/log", &st) == 0 && S_ISSOCK(st.st_mode) &&
		         (st.st_mode & S_IWOTH);

		report(s, ok, "syslog: /dev/log %s", ok ? "is a socket every "
		       "user may write to" : access("/dev/log", F_OK) != 0 ?
		       "is missing: no syslog daemon listens, and users' "
		       "decisions are not logged" : "is not a socket every "
		       "user may write to: users' decisions are not logged");
	}
	if (p != NULL && mg_policy_log_file(p) != NULL) {
		int ok = mg_policy_log_reachable(p, why, sizeof(why));

		report(s, ok, "log_file %s: %s", mg_policy_log_file(p), ok ?
		       "users' processes can append to it" : why);
		if (!ok)
			printf("        users' decisions go to syslog instead; "
			       "to have them in the file, create it writable "
			       "by all (0622; chattr +a keeps lines from being "
			       "rewritten), or drop log_file\n");
	} else if (!sys) {
		report(s, 0, "log: the policy names no log_file and syslog is "
		       "off: decisions are not logged");
	}
}

static int
cmd_status(struct host *h)
{
	struct status s = { 0 };
	struct mg_policy *p;

	printf("modelgate host status, prefix %s:\n", h->prefix);
	status_file(&s, "library", h->lib);
	status_list(&s, h);
	status_loaded(&s, h);
	p = status_policy(&s);
	status_helper(&s, h);
	status_log(&s, p);
	mg_policy_free(p);
	printf("%s\n", s.problems ? "some checks found a PROBLEM" :
	       "every check OK");
	print_rescue(h);
	return s.problems ? MG_EXIT_BLOCKED : MG_EXIT_OK;
}

/* --- the command --------------------------------------------------------- */

int
mg_cmd_host(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "prefix", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct host h;
	const char *prefix = "/usr/local";
	int c;

	memset(&h, 0, sizeof(h));
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		fputs(usage_text, stdout);
		return MG_EXIT_OK;
	}
	if (argc < 2) {
		fputs(usage_text, stderr);
		return MG_EXIT_USAGE;
	}
	h.cmd = argv[1];
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "+p:P:h", longopts,
	                        NULL)) != -1) {
		switch (c) {
		case 'p': h.policy = optarg; break;
		case 'P': prefix = optarg; break;
		case 'h': fputs(usage_text, stdout); return MG_EXIT_OK;
		default: fputs(usage_text, stderr); return MG_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || (h.policy && strcmp(h.cmd, "install") != 0) ||
	    (strcmp(h.cmd, "install") && strcmp(h.cmd, "uninstall") &&
	     strcmp(h.cmd, "status"))) {
		fputs(usage_text, stderr);
		return MG_EXIT_USAGE;
	}
	if (geteuid() != 0) {
		fail(&h, "must be run as root: it %s",
		     strcmp(h.cmd, "status") ? "changes " PRELOAD_LIST " and "
		     POLICY_FILE : "reads every piece the way root's processes "
		     "do");
		return MG_EXIT_USAGE;
	}
	if (set_paths(&h, prefix) != 0)
		return MG_EXIT_USAGE;
	/* Why line-buffered: the steps and the errors of a failed one must
	 * come out in order, also into a log or a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(h.cmd, "install") == 0)
		return cmd_install(&h);
	if (strcmp(h.cmd, "uninstall") == 0)
		return cmd_uninstall(&h);
	return cmd_status(&h);
}
