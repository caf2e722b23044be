/*
 * preload.c - the interposed symbols of libmodelgate.so and its
 * constructor.
 *
 * Approach: every wrapper calls the real function first (resolved once
 * with dlsym(RTLD_NEXT)), then, if the result is a readable descriptor,
 * asks mg_gate_fd() whether the caller may keep it.  Deciding on the open
 * file rather than on the name means symlinks, /proc/self/fd/N, relative
 * paths and a path swapped after the check all end up at the same inode
 * the helper scans.
 *
 * A call that arrives before the real functions are known, or while this
 * thread is already inside modelgate (mg_busy), goes straight to the
 * kernel (open*) or to the real function (fopen*, mmap*) with no check.
 * The mode argument is read only when glibc would read it (O_CREAT,
 * O_TMPFILE), so garbage in the unused vararg is never touched.
 *
 * fopen() is checked here and not by the open wrappers: glibc's fopen
 * opens through its internal __open, which is not interposable, so there
 * is no double scan.
 */
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gate.h"

#define MG_EXPORT __attribute__((visibility("default")))

struct mg_state mg_state;
__thread int mg_busy __attribute__((tls_model("initial-exec")));

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*open2_fn)(const char *, int);
typedef int (*openat2_fn)(int, const char *, int);
typedef FILE *(*fopen_fn)(const char *, const char *);
typedef FILE *(*freopen_fn)(const char *, const char *, FILE *);
typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);

static struct {
	open_fn open, open64;
	openat_fn openat, openat64;
	open2_fn open_2, open64_2;
	openat2_fn openat_2, openat64_2;
	fopen_fn fopen, fopen64;
	freopen_fn freopen, freopen64;
	mmap_fn mmap, mmap64;
	int resolved;
} real;

/* glibc's fortified entry points; not declared without _FORTIFY_SOURCE. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

int
mg_raw_openat(int dirfd, const char *path, int flags, unsigned mode)
{
	return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

int
mg_raw_close(int fd)
{
	return (int)syscall(SYS_close, fd);
}

/* dlsym is allocation-free for RTLD_NEXT lookups of libc symbols; pointer
 * stores are atomic on every target we build for, so a racing second
 * resolve stores the same values. */
static void
resolve(void)
{
	if (real.resolved)
		return;
	real.open = (open_fn)dlsym(RTLD_NEXT, "open");
	real.open64 = (open_fn)dlsym(RTLD_NEXT, "open64");
	real.openat = (openat_fn)dlsym(RTLD_NEXT, "openat");
	real.openat64 = (openat_fn)dlsym(RTLD_NEXT, "openat64");
	real.open_2 = (open2_fn)dlsym(RTLD_NEXT, "__open_2");
	real.open64_2 = (open2_fn)dlsym(RTLD_NEXT, "__open64_2");
	real.openat_2 = (openat2_fn)dlsym(RTLD_NEXT, "__openat_2");
	real.openat64_2 = (openat2_fn)dlsym(RTLD_NEXT, "__openat64_2");
	real.fopen = (fopen_fn)dlsym(RTLD_NEXT, "fopen");
	real.fopen64 = (fopen_fn)dlsym(RTLD_NEXT, "fopen64");
	real.freopen = (freopen_fn)dlsym(RTLD_NEXT, "freopen");
	real.freopen64 = (freopen_fn)dlsym(RTLD_NEXT, "freopen64");
	real.mmap = (mmap_fn)dlsym(RTLD_NEXT, "mmap");
	real.mmap64 = (mmap_fn)dlsym(RTLD_NEXT, "mmap64");
	real.resolved = 1;
}

/* --- constructor --------------------------------------------------------- */

static int
file_exec(const char *path)
{
	return path[0] != '\0' && access(path, X_OK) == 0;
}

/* The helper binary: next to the library (build tree), then the installed
 * layout PREFIX/lib/modelgate/libmodelgate.so -> PREFIX/bin/modelgate,
 * then the compiled-in BINDIR. */
static void
find_helper(void)
{
	char lib[PATH_MAX], *slash;
	Dl_info info;

	mg_state.helper[0] = '\0';
	if (dladdr((void *)find_helper, &info) != 0 && info.dli_fname != NULL &&
	    realpath(info.dli_fname, lib) != NULL &&
	    (slash = strrchr(lib, '/')) != NULL) {
		*slash = '\0';
		if (snprintf(mg_state.helper, sizeof(mg_state.helper),
		             "%s/modelgate", lib) < (int)sizeof(lib) &&
		    file_exec(mg_state.helper))
			return;
		if (snprintf(mg_state.helper, sizeof(mg_state.helper),
		             "%s/../../bin/modelgate", lib) < (int)sizeof(lib) &&
		    file_exec(mg_state.helper))
			return;
	}
	snprintf(mg_state.helper, sizeof(mg_state.helper), "%s/modelgate",
	         MG_BINDIR);
	if (!file_exec(mg_state.helper))
		mg_state.helper[0] = '\0';
}

/*
 * Why: with "processes = *" (or /etc/ld.so.preload and a pattern that
 * matches it) the modelgate binary itself was gated: `modelgate scan
 * evil.pt` read "unreadable, exit 2" instead of "dangerous, exit 1", and
 * the helper, gating its own mmap of the file it was handed, could only
 * deny (it may not start a helper under seccomp).  The same inode as the
 * helper binary, not the name: a renamed python stays protected.
 */
static int
is_helper_exe(void)
{
	struct stat self, helper;

	return mg_state.helper[0] != '\0' &&
	       stat(mg_state.helper, &helper) == 0 &&
	       stat("/proc/self/exe", &self) == 0 &&
	       self.st_dev == helper.st_dev && self.st_ino == helper.st_ino;
}

/* Python only: used when not even the embedded default could be built
 * (no memory at start-up). */
static int
default_acts_in(const char *exe)
{
	const char *base = strrchr(exe, '/');

	base = base ? base + 1 : exe;
	return strncmp(base, "python", 6) == 0;
}

static void
load_policy(void)
{
	const char *env = NULL;
	enum mg_err err;

	/* Why 120 s: a first scan of a multi-GB checkpoint includes its
	 * SHA-256 (a few seconds per GB); a helper silent for this long is
	 * hung, and the open is denied rather than the program blocked. */
	mg_state.timeout_s = 120;

	if (!mg_state.secure) {
		env = getenv("MODELGATE_POLICY");
		/* Absolute now: the helper starts later, maybe elsewhere. */
		if (env != NULL && env[0] != '\0' &&
		    realpath(env, mg_state.policy_path) == NULL)
			snprintf(mg_state.policy_path,
			         sizeof(mg_state.policy_path), "%s", env);
		/* Only ever makes a hung helper deny sooner: fail closed. */
		env = getenv("MODELGATE_HELPER_TIMEOUT");
		if (env != NULL && strtol(env, NULL, 10) > 0 &&
		    strtol(env, NULL, 10) <= 3600)
			mg_state.timeout_s = (int)strtol(env, NULL, 10);
		env = getenv("MODELGATE_LOG");
		if (env != NULL)
			snprintf(mg_state.log_env, sizeof(mg_state.log_env),
			         "%s", env);
	}
	err = mg_policy_load_effective(mg_state.policy_path[0] ?
	                               mg_state.policy_path : NULL,
	                               mg_state.secure, &mg_state.policy,
	                               mg_state.policy_err,
	                               sizeof(mg_state.policy_err));
	if (err != MG_OK) {
		mg_state.policy = NULL;
		mg_state.defaults = mg_policy_new_default();
		if (mg_state.policy_err[0] == '\0')
			snprintf(mg_state.policy_err,
			         sizeof(mg_state.policy_err), "%s",
			         mg_strerror(err));
	}
}

/* fork_lock before cache_lock, released in reverse. */
static void
atfork_prepare(void)
{
	mg_client_atfork_prepare();
	mg_gate_atfork_prepare();
}

static void
atfork_parent(void)
{
	mg_gate_atfork_parent();
	mg_client_atfork_parent();
}

static void
atfork_child(void)
{
	mg_gate_atfork_child();
	mg_client_atfork_child();
}

__attribute__((constructor)) static void
mg_preload_init(void)
{
	int saved = errno;
	ssize_t n;

	mg_busy = 1;
	resolve();
	mg_state.secure = getauxval(AT_SECURE) != 0;
	n = readlink("/proc/self/exe", mg_state.exe, sizeof(mg_state.exe) - 1);
	mg_state.exe[n > 0 ? n : 0] = '\0';
	load_policy();
	if (mg_state.policy != NULL || mg_state.defaults != NULL)
		mg_state.active = mg_policy_acts_in(mg_state.policy ?
		                                    mg_state.policy :
		                                    mg_state.defaults,
		                                    mg_state.exe);
	else
		mg_state.active = default_acts_in(mg_state.exe);
	if (mg_state.active) {
		find_helper();
		mg_state.active = !is_helper_exe();
	}
	if (mg_state.active) {
		pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	} else {
		mg_policy_free(mg_state.policy);
		mg_policy_free(mg_state.defaults);
		mg_state.policy = NULL;
		mg_state.defaults = NULL;
	}
	mg_busy = 0;
	errno = saved;
}

/* --- open family ---------------------------------------------------------- */

/* What glibc's __OPEN_NEEDS_MODE says: only then is the vararg there. */
static int
needs_mode(int flags)
{
	return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
}

/* Readable opens are candidates; O_PATH and write-only ones never are. */
static int
readable(int flags)
{
	return (flags & O_PATH) == 0 && (flags & O_ACCMODE) != O_WRONLY;
}

/* After the real open: keep @fd, or close it and fail with EACCES. */
static int
gate_open(int fd, const char *path, int flags)
{
	int saved = errno, deny;

	if (fd < 0 || !mg_state.active || !readable(flags))
		return fd;
	mg_busy = 1;
	deny = mg_gate_fd(fd, path, MG_GATE_OPEN) != 0;
	if (deny)
		mg_raw_close(fd);
	mg_busy = 0;
	errno = deny ? EACCES : saved;
	return deny ? -1 : fd;
}

#define VA_MODE(flags, last, mode)                                          \
	do {                                                                \
		if (needs_mode(flags)) {                                    \
			va_list ap;                                         \
			va_start(ap, last);                                 \
			mode = va_arg(ap, unsigned);                        \
			va_end(ap);                                         \
		}                                                           \
	} while (0)

static int
do_openat(openat_fn fn, int dirfd, const char *path, int flags,
          unsigned mode)
{
	if (fn == NULL || mg_busy)
		return mg_raw_openat(dirfd, path, flags, mode);
	return gate_open(fn(dirfd, path, flags, mode), path, flags);
}

static int
do_open(open_fn fn, const char *path, int flags, unsigned mode)
{
	if (fn == NULL || mg_busy)
		return mg_raw_openat(AT_FDCWD, path, flags, mode);
	return gate_open(fn(path, flags, mode), path, flags);
}

MG_EXPORT int
open(const char *path, int flags, ...)
{
	unsigned mode = 0;

	VA_MODE(flags, flags, mode);
	return do_open(real.open, path, flags, mode);
}

MG_EXPORT int
open64(const char *path, int flags, ...)
{
	unsigned mode = 0;

	VA_MODE(flags, flags, mode);
	return do_open(real.open64, path, flags, mode);
}

MG_EXPORT int
openat(int dirfd, const char *path, int flags, ...)
{
	unsigned mode = 0;

	VA_MODE(flags, flags, mode);
	return do_openat(real.openat, dirfd, path, flags, mode);
}

MG_EXPORT int
openat64(int dirfd, const char *path, int flags, ...)
{
	unsigned mode = 0;

	VA_MODE(flags, flags, mode);
	return do_openat(real.openat64, dirfd, path, flags, mode);
}

/* The fortified forms take no mode (they fail on O_CREAT themselves). */
MG_EXPORT int
__open_2(const char *path, int flags)
{
	if (real.open_2 == NULL || mg_busy)
		return mg_raw_openat(AT_FDCWD, path, flags, 0);
	return gate_open(real.open_2(path, flags), path, flags);
}

MG_EXPORT int
__open64_2(const char *path, int flags)
{
	if (real.open64_2 == NULL || mg_busy)
		return mg_raw_openat(AT_FDCWD, path, flags, 0);
	return gate_open(real.open64_2(path, flags), path, flags);
}

MG_EXPORT int
__openat_2(int dirfd, const char *path, int flags)
{
	if (real.openat_2 == NULL || mg_busy)
		return mg_raw_openat(dirfd, path, flags, 0);
	return gate_open(real.openat_2(dirfd, path, flags), path, flags);
}

MG_EXPORT int
__openat64_2(int dirfd, const char *path, int flags)
{
	if (real.openat64_2 == NULL || mg_busy)
		return mg_raw_openat(dirfd, path, flags, 0);
	return gate_open(real.openat64_2(dirfd, path, flags), path, flags);
}

/* --- stdio ---------------------------------------------------------------- */

/* "r", "rb", "r+", "w+", "a+"...: anything but plain "w"/"a" reads. */
static int
mode_reads(const char *mode)
{
	return mode != NULL && (mode[0] == 'r' || strchr(mode, '+') != NULL);
}

/*
 * After the real fopen/freopen: keep @f, or fail with EACCES.  A denied
 * fopen stream is ours to fclose.  A denied freopen stream is the
 * caller's FILE: freeing it would turn the program's later fclose() into
 * a double free, so its descriptor is replaced by /dev/null (dup2 closes
 * the model atomically) and the FILE stays valid, reading nothing.
 */
static FILE *
gate_stream(FILE *f, const char *path, const char *mode, int reopen)
{
	int saved = errno, deny, null;

	if (f == NULL || !mg_state.active || mg_busy || !mode_reads(mode))
		return f;
	mg_busy = 1;
	deny = mg_gate_fd(fileno(f), path, MG_GATE_FOPEN) != 0;
	if (deny && !reopen) {
		fclose(f);
	} else if (deny) {
		int keep = fcntl(fileno(f), F_GETFD) & FD_CLOEXEC;

		null = mg_raw_openat(AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC,
		                     0);
		if (null < 0 ||
		    dup3(null, fileno(f), keep > 0 ? O_CLOEXEC : 0) < 0)
			mg_raw_close(fileno(f)); /* never leave the model open */
		if (null >= 0)
			mg_raw_close(null);
	}
	mg_busy = 0;
	errno = deny ? EACCES : saved;
	return deny ? NULL : f;
}

MG_EXPORT FILE *
fopen(const char *path, const char *mode)
{
	resolve();
	if (real.fopen == NULL) {
		errno = ENOSYS;
		return NULL;
	}
	return gate_stream(real.fopen(path, mode), path, mode, 0);
}

MG_EXPORT FILE *
fopen64(const char *path, const char *mode)
{
	resolve();
	if (real.fopen64 == NULL) {
		errno = ENOSYS;
		return NULL;
	}
	return gate_stream(real.fopen64(path, mode), path, mode, 0);
}

MG_EXPORT FILE *
freopen(const char *path, const char *mode, FILE *stream)
{
	resolve();
	if (real.freopen == NULL) {
		errno = ENOSYS;
		return NULL;
	}
	return gate_stream(real.freopen(path, mode, stream), path, mode, 1);
}

MG_EXPORT FILE *
freopen64(const char *path, const char *mode, FILE *stream)
{
	resolve();
	if (real.freopen64 == NULL) {
		errno = ENOSYS;
		return NULL;
	}
	return gate_stream(real.freopen64(path, mode, stream), path, mode, 1);
}

/* --- mmap ----------------------------------------------------------------- */

/*
 * A file mapping is checked only when it could be a model the library
 * never saw opened (inherited, or opened by a raw syscall).  The fast
 * path is the first test: anonymous maps and fd -1 (what malloc, the
 * allocator of every library and torch's CPU tensors use) cost one branch.
 * A file the gate decided before is a cache hit there.
 */
static void *
do_mmap(mmap_fn fn, void *addr, size_t len, int prot, int flags, int fd,
        off_t off)
{
	int saved, deny;

	if ((flags & MAP_ANONYMOUS) == 0 && fd >= 0 && mg_state.active &&
	    !mg_busy) {
		saved = errno;
		mg_busy = 1;
		deny = mg_gate_fd(fd, NULL, MG_GATE_MMAP) != 0;
		mg_busy = 0;
		if (deny) {
			errno = EACCES;
			return MAP_FAILED;
		}
		errno = saved;
	}
	if (fn == NULL)
		return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd,
		                       off);
	return fn(addr, len, prot, flags, fd, off);
}

MG_EXPORT void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return do_mmap(real.mmap, addr, len, prot, flags, fd, off);
}

MG_EXPORT void *
mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return do_mmap(real.mmap64, addr, len, prot, flags, fd, off);
}
