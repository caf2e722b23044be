/*
 * landlock.c - the Landlock layer of the sandbox: make readonly_paths
 * (e.g. ~/.ssh, ~/.bashrc, /etc/cron.d) read-only for the locked process.
 *
 * Landlock is an allow-list: a ruleset "handles" some access rights, and a
 * handled right is granted only beneath a path that a rule names.  Rules
 * add up from a directory to everything beneath it; there is no "allow /
 * but not ~/.ssh".  So this file grants the write rights (write, truncate,
 * make-*, remove-*, refer) on every *sibling* along the way from / down to
 * each protected path, and on nothing that is a protected path or one of
 * its ancestors:
 *
 *     /            ancestor: no rule
 *     /etc, /usr   sibling:  rule, all write rights beneath
 *     /root        ancestor: no rule (the entries inside get rules)
 *     /root/.ssh   protected: no rule -> read-only beneath
 *
 * Consequences (README-sandbox.md): the ancestors themselves (/, $HOME)
 * get no rule, so nothing can be created, removed or renamed directly in
 * them, while their existing files keep a file rule and stay writable.
 * Entries created in an ancestor after the lock have no rule either.
 * Read and execute rights are not handled at all: reading stays as it was.
 *
 * Only the calling thread and its future children are bound: the running
 * kernel's Landlock ABI (7 on the 6.18 development machine) has no TSYNC
 * flag for landlock_restrict_self.
 *
 * Everything here uses raw syscalls for opens: it runs inside the
 * interposed open, and must neither recurse into it nor be refused by it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landlock.h"

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)        /* ABI 3 */
#endif

/* Why 64: a policy names a handful of sensitive paths; the cap bounds the
 * memory (64 x PATH_MAX) allocated inside the host process. */
#define LL_MAX_PATHS 64
/* Why 64: recursion follows a protected path's components only. */
#define LL_MAX_DEPTH 64

/* Rights that a file (not a directory) rule may carry. */
#define LL_FILE_RIGHTS \
	(LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)

enum ll_class { LL_OTHER, LL_ANCESTOR, LL_PROTECTED };

struct ll_walk {
	int rs;                 /* the ruleset being filled */
	uint64_t handled;       /* write rights this ABI knows */
	char (*ro)[PATH_MAX];   /* canonical protected paths */
	size_t nro;
	char path[PATH_MAX];    /* directory being walked, edited in place */
	char *why;
	size_t whylen;
};

struct ll_dirent {              /* the kernel's linux_dirent64 */
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

int
mg_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	return v < 0 ? -errno : (int)v;
}

/* The write rights ABI @abi can handle. */
static uint64_t
ll_handled(int abi)
{
	uint64_t h = LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM;

	/* ABI 1 cannot handle REFER: every cross-directory rename or link
	 * is then refused (kernel rule); ABI >= 2 handles and grants it. */
	if (abi >= 2)
		h |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		h |= LANDLOCK_ACCESS_FS_TRUNCATE;
	return h;
}

/* The user's home directory into @out; no environment under AT_SECURE. */
static int
ll_home(char *out, size_t len)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	const char *h = NULL;

	if (!getauxval(AT_SECURE))
		h = getenv("HOME");
	if ((h == NULL || h[0] != '/') &&
	    getpwuid_r(getuid(), &pw, buf, sizeof buf, &res) == 0 &&
	    res != NULL)
		h = pw.pw_dir;
	if (h == NULL || h[0] != '/')
		return -ENOENT;
	return (size_t)snprintf(out, len, "%s", h) < len ? 0 : -ENAMETOOLONG;
}

/*
 * @in made absolute ("~/x" -> "$HOME/x") and canonical: the longest
 * existing prefix through realpath(), the missing rest appended as is
 * (so a protected path that does not exist yet cannot be created).
 */
static int
ll_canonical(const char *in, char *out, char *why, size_t whylen)
{
	char abs[PATH_MAX], real[PATH_MAX];
	size_t cut;
	int rc = 0;

	if (in[0] == '~' && in[1] == '/') {
		rc = ll_home(abs, sizeof abs);
		if (rc == 0 && strlen(abs) + strlen(in + 1) >= sizeof abs)
			rc = -ENAMETOOLONG;
		if (rc == 0)
			strncat(abs, in + 1, sizeof abs - strlen(abs) - 1);
	} else if (in[0] == '/') {
		if (strlen(in) >= sizeof abs)
			rc = -ENAMETOOLONG;
		else
			memcpy(abs, in, strlen(in) + 1);
	} else {
		rc = -EINVAL;
	}
	if (rc != 0)
		goto fail;
	for (cut = strlen(abs); cut > 0; ) {
		char save = abs[cut];

		abs[cut] = '\0';
		if (realpath(abs, real) != NULL) {
			abs[cut] = save;
			break;
		}
		abs[cut] = save;
		while (cut > 0 && abs[--cut] != '/')
			;
	}
	if (cut == 0)
		memcpy(real, "/", 2);
	/* A missing tail is kept as written: "." or ".." in it would name
	 * something else than what the kernel will resolve later. */
	if (strstr(abs + cut, "/./") || strstr(abs + cut, "/../")) {
		rc = -EINVAL;
		goto fail;
	}
	if ((size_t)snprintf(out, PATH_MAX, "%s%s",
	    strcmp(real, "/") == 0 && abs[cut] == '/' ? "" : real,
	    abs + cut) >= PATH_MAX) {
		rc = -ENAMETOOLONG;
		goto fail;
	}
	return 0;
fail:
	snprintf(why, whylen, "readonly path '%s': %s", in, rc == -EINVAL ?
	    "must be absolute or start with ~/" : strerror(-rc));
	return rc;
}

/* Is @p a protected path, an ancestor of one, or neither? */
static enum ll_class
ll_classify(const struct ll_walk *w, const char *p)
{
	enum ll_class c = LL_OTHER;
	size_t i, n = strlen(p);

	for (i = 0; i < w->nro; i++) {
		if (strcmp(w->ro[i], p) == 0)
			return LL_PROTECTED;
		if (strncmp(w->ro[i], p, n) == 0 && w->ro[i][n] == '/')
			c = LL_ANCESTOR;
	}
	return c;
}

/* Grant the write rights beneath w->path (a sibling of the protected). */
static int
ll_grant(struct ll_walk *w)
{
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int fd, rc = 0;

	fd = (int)syscall(SYS_openat, AT_FDCWD, w->path,
	    O_PATH | O_NOFOLLOW | O_CLOEXEC);
	/* Gone since it was listed, or unreachable: no rule, which is the
	 * strict side (read-only), never a hole. */
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) != 0 || S_ISLNK(st.st_mode))
		goto out;       /* a symlink's target has a rule of its own */
	pb.parent_fd = fd;
	pb.allowed_access = S_ISDIR(st.st_mode) ? w->handled :
	    w->handled & LL_FILE_RIGHTS;
	if (syscall(SYS_landlock_add_rule, w->rs, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0) != 0) {
		rc = -errno;
		snprintf(w->why, w->whylen, "Landlock rule for '%s': %s",
		    w->path, strerror(errno));
	}
out:
	close(fd);
	return rc;
}

static int ll_walk_dir(struct ll_walk *w, int depth);

/* Handle one entry @name of directory w->path. */
static int
ll_entry(struct ll_walk *w, const char *name, unsigned char type, int depth)
{
	size_t len = strlen(w->path);
	int rc = 0;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	if ((size_t)snprintf(w->path + len, sizeof w->path - len, "%s%s",
	    len == 1 ? "" : "/", name) >= sizeof w->path - len)
		goto out;       /* longer than any protected path: unrelated */
	switch (ll_classify(w, w->path)) {
	case LL_PROTECTED:
		break;
	case LL_ANCESTOR:
		/* Canonical protected paths never pass through a symlink. */
		if (type == DT_DIR || type == DT_UNKNOWN)
			rc = ll_walk_dir(w, depth + 1);
		break;
	case LL_OTHER:
		rc = ll_grant(w);
		break;
	}
out:
	w->path[len] = '\0';
	return rc;
}

/* Grant rules to every entry of w->path that is not protected. */
static int
ll_walk_dir(struct ll_walk *w, int depth)
{
	char buf[4096];
	long n, off;
	int fd, rc = 0;

	if (depth > LL_MAX_DEPTH) {
		snprintf(w->why, w->whylen, "'%s' is nested too deep", w->path);
		return -ENAMETOOLONG;
	}
	fd = (int)syscall(SYS_openat, AT_FDCWD, w->path,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(w->why, w->whylen, "cannot list '%s' to build the "
		    "Landlock rules: %s", w->path, strerror(errno));
		return rc;
	}
	while (rc == 0 &&
	    (n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
		for (off = 0; rc == 0 && off < n; ) {
			struct ll_dirent *d = (struct ll_dirent *)(buf + off);

			rc = ll_entry(w, d->d_name, d->d_type, depth);
			off += d->d_reclen;
		}
	}
	close(fd);
	return rc;
}

/* Canonicalise @paths into @w->ro. */
static int
ll_collect(struct ll_walk *w, char *const *paths)
{
	size_t n;
	int rc;

	for (n = 0; paths[n] != NULL; n++)
		;
	if (n > LL_MAX_PATHS) {
		snprintf(w->why, w->whylen, "more than %d readonly paths",
		    LL_MAX_PATHS);
		return -EINVAL;
	}
	w->ro = calloc(n, sizeof *w->ro);
	if (w->ro == NULL)
		return -ENOMEM;
	for (w->nro = 0; w->nro < n; w->nro++) {
		rc = ll_canonical(paths[w->nro], w->ro[w->nro], w->why,
		    w->whylen);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Create the ruleset of ABI @abi into w->rs. */
static int
ll_ruleset(struct ll_walk *w, int abi)
{
	struct landlock_ruleset_attr attr;

	memset(&attr, 0, sizeof attr);
	w->handled = ll_handled(abi);
	attr.handled_access_fs = w->handled;
	w->rs = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof attr, 0);
	if (w->rs < 0) {
		snprintf(w->why, w->whylen, "cannot create a Landlock "
		    "ruleset: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int
mg_landlock_prepare(char *const *paths, char *why, size_t whylen)
{
	struct ll_walk *w;
	int abi, rc;

	abi = mg_landlock_abi();
	if (abi < 0) {
		snprintf(why, whylen, "readonly_paths needs Landlock, which "
		    "this kernel %s", abi == -EOPNOTSUPP ?
		    "has disabled (lsm= boot option)" : "does not provide");
		return abi;
	}
	w = calloc(1, sizeof *w);
	if (w == NULL)
		return -ENOMEM;
	w->rs = -1;
	w->why = why;
	w->whylen = whylen;
	rc = ll_collect(w, paths);
	if (rc == 0)
		rc = ll_ruleset(w, abi);
	/* "/" is an ancestor of every other canonical path; when it is
	 * protected itself, no rule at all: everything is read-only. */
	if (rc == 0 && ll_classify(w, "/") != LL_PROTECTED) {
		memcpy(w->path, "/", 2);
		rc = ll_walk_dir(w, 0);
	}
	if (rc == 0)
		rc = w->rs;
	else if (w->rs >= 0)
		close(w->rs);
	free(w->ro);
	free(w);
	return rc;
}

int
mg_landlock_apply(int rs, char *why, size_t whylen)
{
	int rc = 0;

	if (syscall(SYS_landlock_restrict_self, rs, 0) != 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot apply the Landlock rules: %s",
		    strerror(errno));
	}
	close(rs);
	return rc;
}
