/*
 * gate.c - is this open file a model, what was decided about it, and
 * applying the decision.
 *
 * The candidate test asks "could a loader execute this file?" of every
 * readable open in a protected process, so it is ordered by cost and
 * never allocates or locks:
 *   0. a name that proves the file is code or package metadata (.py,
 *      .pyc, .so, .whl, anything under *.dist-info/, .git/ or an HF
 *      cache's refs/: the import system opens them, no loader executes
 *      them) stops here, before any system call; text and image names
 *      (.txt, .json, .csv, .png...) are judged at the first read, below;
 *   1. fstat: only regular files of 2 bytes or more (not directories,
 *      devices, FIFOs, /proc files, which report size 0); a FIFO or
 *      device under a model's name is denied (it cannot be scanned
 *      unread);
 *   2. the name: a model extension (policy), a compressed, tar- or
 *      zip-wrapped model name (x.pkl.gz, x.pth.tar, x.pkl.zip), any
 *      .zip (pandas opens its single member, and zipfile finds an archive
 *      after leading bytes, past the window below), or a dbm.dumb index
 *      (X.dir with X.dat beside it) is a candidate;
 *   3. otherwise, if the policy sniffs, the content decides: one pread of
 *      MG_CANDIDATE_WINDOW (512) bytes at offset 0 (never the caller's
 *      offset) and scanner/candidate.c: a pickle PROTO, a zip, .npy,
 *      HDF5, a tar header whose checksum holds, a Berkeley DB or GDBM
 *      database, a compression magic (x.csv.gz too: pandas
 *      unpickles what it inflates), or bytes from which the pickle loader may reach a
 *      global (inert.c's walk; a window too short to tell gets a
 *      second, 4 KiB look, then counts as "may").  A site-packages
 *      ".pth" path file gets the magic tests but not the walk.  When all
 *      that says no, an HDF5 superblock after a user block (at 512,
 *      1024, ... within the file: libhdf5 opens any name so) makes it a
 *      candidate: one 8-byte pread per offset at an open judged at once;
 *      at a first read, the later reads are watched instead (LATE).
 *
 * Most opens whose name leaves it to the content are judged at their
 * first read instead ("deferred content tests" below); a text or image
 * name there by magic numbers, or by the walk with the guard's name test
 * where the guard refuses (policy/candidate.c, data_exts), as are the
 * other names there.
 *
 * The verdict cache maps (dev, ino, size, mtime, ctime) to the decision,
 * so reopening a model costs a lookup.  A verdict may depend on a file
 * beside the one opened: a dbm.dumb X.dat or X.dir is judged with the
 * other (scanner/dumb.c).  Both are gated and dumb.py opens the .dir at
 * every shelve.open, so a .dir rewritten after the .dat was judged is a
 * new identity, scanned against the .dat of that moment (and a rewritten
 * .dat against the .dir of its moment): the cached verdict of the file
 * left alone is never what decides.  It is a fixed direct-mapped table
 * under one mutex, never held across the helper round trip; a fork child
 * inherits it (decisions stay valid) and re-initialises the mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"
#include "sandbox.h"

/* The policy whose model extensions name candidates: the loaded one, or
 * the embedded default's when it could not be loaded (models are still
 * recognised, and denied with the policy error); NULL only when start-up
 * had no memory (content sniffing remains). */
static const struct mg_policy *
names(void)
{
	return mg_state.policy ? mg_state.policy : mg_state.defaults;
}


/* --- the verdict cache ---------------------------------------------------- */

enum { CACHE_SLOTS = 512 }; /* why 512: a training job opens a handful of
                               checkpoints; a dataset of small files
                               cycles through, and a miss is one round
                               trip, not a failure */

struct centry {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
	int used;
	int decided;            /* 0: no verdict could be had */
	int told;               /* the sandboxed line was printed */
	unsigned char verdict, action;
	char reason[MG_PROTO_REASON_MAX];
	long scan_ms;           /* the helper's time on it, -1 unknown */
	char sha256[65];
};

static struct centry cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* Why prepare/parent too: a fork() in the middle of another thread's
 * cache_put() would hand the child a half-copied entry (one file's key
 * with another's decision); holding the lock across fork() prevents it.
 * cache_lock is never held across another lock or a blocking call. */
void
mg_gate_atfork_prepare(void)
{
	pthread_mutex_lock(&cache_lock);
}

void
mg_gate_atfork_parent(void)
{
	pthread_mutex_unlock(&cache_lock);
}

static void marks_after_fork(void);

void
mg_gate_atfork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	cache_lock = fresh;
	marks_after_fork();
}

static unsigned
slot_of(const struct stat *st)
{
	uint64_t h = (uint64_t)st->st_ino * 0x9e3779b97f4a7c15ull ^
	             (uint64_t)st->st_dev;

	return (unsigned)(h >> 32) % CACHE_SLOTS;
}

static int
same_file(const struct centry *e, const struct stat *st)
{
	return e->used && e->dev == st->st_dev && e->ino == st->st_ino &&
	       e->size == st->st_size &&
	       e->mtim.tv_sec == st->st_mtim.tv_sec &&
	       e->mtim.tv_nsec == st->st_mtim.tv_nsec &&
	       e->ctim.tv_sec == st->st_ctim.tv_sec &&
	       e->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

static int
cache_get(const struct stat *st, struct centry *out)
{
	int hit;

	pthread_mutex_lock(&cache_lock);
	hit = same_file(&cache[slot_of(st)], st);
	if (hit)
		*out = cache[slot_of(st)];
	pthread_mutex_unlock(&cache_lock);
	return hit;
}

static void
cache_put(const struct stat *st, const struct centry *e)
{
	struct centry *slot = &cache[slot_of(st)];

	pthread_mutex_lock(&cache_lock);
	*slot = *e;
	slot->dev = st->st_dev;
	slot->ino = st->st_ino;
	slot->size = st->st_size;
	slot->mtim = st->st_mtim;
	slot->ctim = st->st_ctim;
	slot->used = 1;
	pthread_mutex_unlock(&cache_lock);
}

/* 1 the first time it is called for this cached file (so the sandboxed
 * line is printed once per file and process), 0 afterwards; 1 for a file
 * not cached. */
static int
first_told(const struct stat *st)
{
	struct centry *slot = &cache[slot_of(st)];
	int first = 1;

	pthread_mutex_lock(&cache_lock);
	if (same_file(slot, st)) {
		first = !slot->told;
		slot->told = 1;
	}
	pthread_mutex_unlock(&cache_lock);
	return first;
}

/* --- deciding and applying ------------------------------------------------ */

/* The path /proc/self/fd/@fd points at, into @out; @path itself when it
 * is already absolute.  1 if @out was filled. */
static int
real_path(int fd, const char *path, char *out, size_t cap)
{
	char link[32];
	ssize_t n;

	if (path != NULL && path[0] == '/' && strncmp(path, "/proc/", 6) != 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, out, cap - 1);
	if (n <= 0 || out[0] != '/')
		return 0;
	out[n] = '\0';
	return 1;
}

/* The helper's answer for @fd, or a deny that says why there is none;
 * 1 if a signal interrupted the wait (then *@e means nothing). */
static int
ask(int fd, const char *path, const struct stat *st, enum mg_gate_how how,
    struct centry *e)
{
	int intr = 0;

	struct mg_proto_rep rep;
	char why[MG_PROTO_REASON_MAX], rpath[PATH_MAX];

	memset(e, 0, sizeof(*e));
	memset(&rep, 0, sizeof(rep));
	e->verdict = MG_VERDICT_ERROR;
	e->action = MG_ACTION_DENY;
	if (mg_state.policy == NULL) {
		snprintf(e->reason, sizeof(e->reason),
		         "no verdict: the policy could not be loaded: %.180s",
		         mg_state.policy_err);
		return 0;
	}
	/* The helper gets the file's real absolute path (pins and registry
	 * rules match on it; its cwd is not ours); messages keep @path. */
	if (real_path(fd, path, rpath, sizeof(rpath)) != 0)
		path = rpath;
	/* Why not mmap: mmap(2) has no EINTR to fail with; nor a first read,
	 * whose bytes are consumed already. */
	if (mg_client_ask(fd, path, st, how == MG_GATE_OPEN ||
	                  how == MG_GATE_FOPEN, &rep, why,
	                  sizeof(why), &intr) != MG_OK) {
		snprintf(e->reason, sizeof(e->reason), "no verdict: %.200s", why);
		return intr;
	}
	if (rep.status != MG_PROTO_DECIDED) {
		snprintf(e->reason, sizeof(e->reason), "no verdict: %.200s",
		         rep.reason);
		return 0;
	}
	e->decided = 1;
	e->scan_ms = (long)rep.elapsed_ms;
	e->verdict = rep.verdict <= MG_VERDICT_DANGEROUS ? rep.verdict :
	             MG_VERDICT_ERROR;
	/* The preload's own policy has the last word; the helper's action
	 * only counts when it is stricter (both load the same files). */
	e->action = (unsigned char)mg_policy_action(mg_state.policy,
	                                            e->verdict);
	if (rep.action <= MG_ACTION_DENY && rep.action > e->action)
		e->action = rep.action;
	memcpy(e->reason, rep.reason, sizeof(e->reason));
	e->reason[sizeof(e->reason) - 1] = '\0';
	memcpy(e->sha256, rep.sha256, sizeof(e->sha256));
	e->sha256[sizeof(e->sha256) - 1] = '\0';
	return 0;
}

static void
log_decision(const char *path, const struct stat *st, const struct centry *e,
             enum mg_action applied, const char *reason, enum mg_gate_how how)
{
	struct mg_audit a = {
		.path = path, .st = st, .sha256 = e->sha256,
		.verdict = e->decided ? mg_verdict_name(e->verdict) : "none",
		.action = mg_action_name(applied), .reason = reason, .how = how,
		.scan_ms = e->decided ? e->scan_ms : -1,
	};

	mg_audit_log(&a);
}

/* Write @line[0..@n) to stderr in one write(2): lines from several
 * threads never interleave.  @n is snprintf's answer for a buffer of
 * @cap bytes: a longer line is cut, still ending in a newline. */
static void
print_line(char *line, int n, size_t cap)
{
	if (n <= 0)
		return;
	if ((size_t)n >= cap) {
		n = (int)cap - 1;
		line[n - 1] = '\n';
	}
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

/* Printed on every denied open, not once per file: a notebook that
 * re-runs a cell gets the same PermissionError, and its reason with it. */
static void
print_denied(const char *path, const char *reason)
{
	char line[PATH_MAX + MG_PROTO_REASON_MAX + 64];

	print_line(line, snprintf(line, sizeof(line),
	                          "modelgate: denied %s: %s\n", path, reason),
	           sizeof(line));
}

/* The first time a file puts the process in the sandbox: says why the
 * script's next socket() fails with EACCES, in the words of the options
 * in force. */
static void
print_sandboxed(const char *path, const char *reason,
                const struct mg_sandbox_conf *sb)
{
	char line[PATH_MAX + MG_PROTO_REASON_MAX + 128];
	const char *then;

	if (sb != NULL && sb->dry_run)
		then = "dry run: nothing is refused, the kernel logs the "
		       "network use a sandbox would refuse";
	else if (sb != NULL && sb->deny_exec)
		then = "new network connections and running programs are "
		       "refused from now on";
	else
		then = "new network connections are refused from now on";
	print_line(line, snprintf(line, sizeof(line),
	                          "modelgate: sandboxed %s: %s; %s\n", path,
	                          reason, then),
	           sizeof(line));
}

int mg_gate_denied_any;

/* Apply @e; 0 allow, -1 deny.  @fresh: first decision for this file in
 * this process (logged even when allowed). */
static int
apply(const char *path, const struct stat *st, const struct centry *e,
      int fresh, enum mg_gate_how how)
{
	char why[MG_PROTO_REASON_MAX + 64];
	const struct mg_sandbox_conf *conf = mg_policy_sandbox(mg_state.policy);
	enum mg_action act = e->action;
	const char *reason = e->reason;

	if (act == MG_ACTION_SANDBOX) {
		char sb[200];

		sb[0] = '\0';
		if (mg_sandbox_lock(conf, sb, sizeof(sb)) != 0) {
			snprintf(why, sizeof(why),
			         "%s; sandbox required but unavailable: %s",
			         e->reason, sb[0] ? sb : "unknown error");
			reason = why;
			act = MG_ACTION_DENY;
		}
	}
	if (fresh || act == MG_ACTION_DENY)
		log_decision(path, st, e, act, reason, how);
	if (act == MG_ACTION_SANDBOX && first_told(st))
		print_sandboxed(path, reason, conf);
	if (act != MG_ACTION_DENY)
		return 0;
	__atomic_store_n(&mg_gate_denied_any, 1, __ATOMIC_RELAXED);
	print_denied(path, reason);
	return -1;
}

/*
 * Why: a FIFO, socket or device under a model's name (an attacker's
 * mkfifo feeding a pickle) cannot be scanned without consuming what the
 * loader is about to read, and was let through unseen by the regular-file
 * test.  Directories (checkpoint directories named x.ckpt) stay allowed.
 */
static int
unscannable_model(const char *path, const struct stat *st)
{
	size_t n = strlen(path);

	if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode))
		return 0;
	return mg_policy_model_name(names(), path, n);
}

static int
deny_unscannable(const char *path, const struct stat *st,
                 enum mg_gate_how how)
{
	struct centry e;

	/* Why here too: this deny is decided before the candidate test, so
	 * a process whose only decision it is would otherwise never say
	 * what loading the policy noted (a refused system policy). */
	mg_preload_report_notes();
	memset(&e, 0, sizeof(e));
	e.verdict = MG_VERDICT_ERROR;
	e.action = MG_ACTION_DENY;
	snprintf(e.reason, sizeof(e.reason), "no verdict: not a regular file "
	         "(a pipe, socket or device cannot be scanned before it is "
	         "read)");
	return apply(path, st, &e, 1, how);
}

/* A denied cache entry for @st, its reason prefixed with @what. */
static int
denied_entry(const struct stat *st, struct centry *e, const char *what)
{
	char why[MG_PROTO_REASON_MAX];

	if (!S_ISREG(st->st_mode) || !cache_get(st, e) || !e->decided ||
	    e->action != MG_ACTION_DENY)
		return 0;
	snprintf(why, sizeof(why), "%s (%.*s)", what,
	         (int)(sizeof(why) - strlen(what) - 4), e->reason);
	memcpy(e->reason, why, sizeof(e->reason));
	return 1;
}

int
mg_gate_truncate_denied(int dirfd, const char *path, int truncates,
                        enum mg_gate_how how)
{
	static const char *const beside[] = { ".dir", ".dat", ".pag", ".db" };
	struct centry e;
	struct stat st;
	unsigned flags, i;
	char sib[PATH_MAX], what[PATH_MAX + 80];
	size_t n;

	if (path == NULL)
		return 0;
	n = strlen(path);
	if (fstatat(dirfd, path, &st, 0) == 0)
		return truncates &&
		       mg_policy_name_class_lazy(names(), path, n, &flags) ==
		       MG_NAME_MODEL &&
		       denied_entry(&st, &e, "not truncated: this process was "
		                    "denied it") &&
		       apply(path, &st, &e, 0, how) != 0;
	if (errno != ENOENT || n + 5 > sizeof(sib))
		return 0;
	for (i = 0; i < sizeof(beside) / sizeof(beside[0]); i++) {
		snprintf(sib, sizeof(sib), "%s%s", path, beside[i]);
		snprintf(what, sizeof(what), "not created: this process was "
		         "denied the database beside it, %s", sib);
		if (fstatat(dirfd, sib, &st, 0) == 0 &&
		    denied_entry(&st, &e, what))
			return apply(path, &st, &e, 0, how) != 0;
	}
	return 0;
}

/* --- deferred content tests ---------------------------------------------- */

/*
 * Why the first read, not the open: a name that does not decide leaves
 * the decision to the content, and judging it at the open took an fstat
 * and a pread of 512 bytes, about half a microsecond on every open of a
 * README or a data file.  At the first read the bytes are in the caller's buffer anyway:
 * judging them costs no system call, and they are the bytes the loader
 * is about to parse.  For the same reason data names (.txt, .json, .png)
 * are now looked at too (policy/candidate.c, data_exts, says how).
 *
 * mg_pending[fd] holds the MG_CONTENT_ flags of a read-only open whose
 * content is still to be judged, plus PENDING; 0 for every other
 * descriptor.  One byte per descriptor below MG_PENDING_FDS (1 MiB of
 * zero pages, touched only where descriptors are: a process with 300
 * open files has one page of it); above, the open is judged at once.  Set by the open, taken
 * by the first read, pread, readv or mmap, and reset by every open and
 * fopen of that number.  Taking it is a compare-and-swap to JUDGING: one
 * thread judges, and a second thread's read of the same descriptor
 * meanwhile waits for that verdict (its bytes are in its buffer already).
 * A denial leaves DENIED: every later read or map of the descriptor is
 * judged again (a cache hit: denied, and its line), so a program that
 * catches the PermissionError and reads on gets nothing either.  Why not by
 * close: a vfork child (posix_spawn, subprocess) closes descriptors
 * through close() in its parent's memory, and would wipe the parent's
 * marks.  So a mark outlives its file until the number is opened again;
 * meanwhile a socket, pipe or device given the number is let through at
 * its first read (not a regular file), and a regular file given it by a
 * raw syscall is judged at its first read: a look, or a scan, too many.
 * A fork child inherits the marks with the descriptors.  A name whose
 * class can wait (most names that do not decide) is marked UNNAMED at the
 * open and classified when the mark is taken: a code name's mark then
 * goes without a judgement, as if the open had not marked it.
 */
unsigned char mg_pending[MG_PENDING_FDS];

/* One past the highest descriptor ever marked: how far a fork child
 * looks (marks_after_fork). */
static unsigned pending_end;

static void
set_mark(int fd, unsigned char v)
{
	unsigned end = __atomic_load_n(&pending_end, __ATOMIC_RELAXED);

	while ((unsigned)fd >= end &&
	       !__atomic_compare_exchange_n(&pending_end, &end,
	                                    (unsigned)fd + 1, 1,
	                                    __ATOMIC_RELAXED,
	                                    __ATOMIC_RELAXED))
		;
	__atomic_store_n(&mg_pending[fd], v, __ATOMIC_RELEASE);
}

enum { PENDING = 0x80, JUDGING = 0x40, DENIED = 0x20, FLAGS = 0x1f,
       LATE = MG_MARK_LATE };
/* A mark whose name is yet to be classified (mg_gate_fd's late names):
 * no mark carries MG_CONTENT_AT_OPEN (those names are judged at the
 * open), so among the flags that bit says it. */
enum { UNNAMED = MG_CONTENT_AT_OPEN };
_Static_assert(MG_MARK_LATE == (PENDING | DENIED),
               "the late mark is a combination no other mark has");

/* What a judged mark becomes besides 0 (allowed: gone) and -1 (denied):
 * KEEP puts it back as it was, WATCH makes it LATE. */
enum { KEEP = 1, WATCH = 2 };

static int
decide(int fd, const char *path, const struct stat *st, enum mg_gate_how how)
{
	struct centry e;

	mg_preload_report_notes();
	if (cache_get(st, &e))
		return apply(path, st, &e, 0, how);
	if (ask(fd, path, st, how, &e))
		return MG_GATE_INTERRUPTED;
	/* A failure to get any verdict is not cached: the next open retries
	 * (the helper may be back). */
	if (e.decided)
		cache_put(st, &e);
	return apply(path, st, &e, 1, how);
}

/*
 * The names deferred opens were made with, so the line a denied read
 * prints names the file as the program did ("innocent_link",
 * "/proc/self/fd/5"), like a denied open; and, for a late name
 * (mg_policy_name_late), what its class is decided from at the first
 * read.  A slot per descriptor below NAME_FDS, each a sequence lock (odd
 * while written; a reader that sees it odd or changed falls back to
 * /proc/self/fd).  Why per descriptor: the kernel gives concurrent opens
 * different numbers, so a slot has one writer at a time and its lock
 * needs no atomic read-modify-write; and a class must not be lost to a
 * slot another descriptor shares.  Why not the /proc name for the class:
 * it resolves links, which the name the program opened does not.  A name
 * longer than a slot keeps only its last MG_TAIL_LEN bytes (TAIL_ONLY:
 * the line names the /proc path); descriptors from NAME_FDS on keep none
 * (their names are classified at the open, their lines name the /proc
 * path).  1 MiB of zero pages, touched only where descriptors are.
 */
enum { NAME_FDS = 4096, NAME_MAX_KEPT = 250, TAIL_ONLY = 0x8000 };

static struct kept_name {
	unsigned seq;
	unsigned short len;     /* of path; 0: none; TAIL_ONLY | its length */
	char path[NAME_MAX_KEPT];
} kept[NAME_FDS];

/* The slot of @fd opened for writing (its sequence made odd), *@seq what
 * it was; NULL past NAME_FDS.  slot_done() makes it even again. */
static struct kept_name *
slot_begin(int fd, unsigned *seq)
{
	struct kept_name *k;

	if ((unsigned)fd >= NAME_FDS)
		return NULL;
	k = &kept[fd];
	*seq = __atomic_load_n(&k->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&k->seq, *seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return k;
}

static void
slot_done(struct kept_name *k, unsigned seq)
{
	__atomic_store_n(&k->seq, seq + 2, __ATOMIC_RELEASE);
}

static void
keep_name_n(int fd, const char *path, size_t n)
{
	unsigned seq;
	struct kept_name *k = slot_begin(fd, &seq);

	if (k == NULL)
		return;
	if (n < sizeof(k->path)) {
		memcpy(k->path, path, n + 1);
		k->len = (unsigned short)n;
	} else {
		memcpy(k->path, path + n - MG_TAIL_LEN, MG_TAIL_LEN);
		k->len = TAIL_ONLY | MG_TAIL_LEN;
	}
	slot_done(k, seq);
}

static void
keep_name(int fd, const char *path)
{
	keep_name_n(fd, path, strlen(path));
}

/* No kept name for @fd. */
static void
forget_name(int fd)
{
	unsigned seq;
	struct kept_name *k = slot_begin(fd, &seq);

	if (k == NULL)
		return;
	k->len = 0;
	slot_done(k, seq);
}

/* The flags the content test takes for a file of name class @cls whose
 * name said @flags: a data name's walk and head where the guard refuses
 * (mg_pickle_inert_guarded_window, pickle.h), another's guarded walk. */
static unsigned
content_flags(enum mg_name_class cls, unsigned flags)
{
	if (cls == MG_NAME_DATA && mg_guard_refusing)
		return (flags & ~MG_CONTENT_MAGIC) | MG_CONTENT_GUARDED |
		       MG_CONTENT_HEAD;
	if (cls == MG_NAME_OTHER && mg_guard_refusing &&
	    !(flags & MG_CONTENT_MAGIC))
		return flags | MG_CONTENT_GUARDED;
	return flags;
}

/* The mark an UNNAMED mark @v of @fd stands for, its name classified
 * from its slot's last bytes: PENDING and the content flags, or 0 (a
 * code name: never judged).  Read after the mark (acquire), which the
 * open wrote after the slot. */
static unsigned char
named_mark(int fd, unsigned char v)
{
	char tail[MG_TAIL_LEN];
	struct kept_name *k;
	size_t len, l;
	unsigned flags;
	enum mg_name_class cls;

	if ((unsigned)fd >= NAME_FDS)   /* never marked UNNAMED */
		return (unsigned char)(v & ~UNNAMED);
	k = &kept[fd];
	len = k->len & ~TAIL_ONLY;
	if (len > sizeof(k->path) - 1)
		len = sizeof(k->path) - 1;
	l = len < MG_TAIL_LEN ? len : MG_TAIL_LEN;
	memcpy(tail, k->path + len - l, l);
	cls = mg_policy_tail_class(tail, l, &flags);
	if (cls == MG_NAME_SKIP)
		return 0;
	return (unsigned char)((v & ~FLAGS) | content_flags(cls, flags));
}

/* The name @fd was opened with into @out (PATH_MAX bytes), if kept. */
static int
kept_name(int fd, char *out)
{
	struct kept_name *k;
	unsigned seq;

	if ((unsigned)fd >= NAME_FDS)
		return 0;
	k = &kept[fd];
	seq = __atomic_load_n(&k->seq, __ATOMIC_ACQUIRE);
	if ((seq & 1) || k->len == 0 || (k->len & TAIL_ONLY))
		return 0;
	memcpy(out, k->path, sizeof(k->path));
	out[sizeof(k->path) - 1] = '\0';
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&k->seq, __ATOMIC_RELAXED) == seq;
}

/* @fd's name from /proc/self/fd into @name (PATH_MAX bytes). */
static const char *
fd_name(int fd, char *name)
{
	char link[32];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, name, PATH_MAX - 1);
	name[n > 0 ? n : 0] = '\0';
	return name;
}

/* decide() on the file @fd is, named as the program opened it (the kept
 * name, else its /proc/self/fd name): a judgement made after the open. */
static int
decide_by_fd(int fd, const struct stat *st, enum mg_gate_how how)
{
	char name[PATH_MAX];

	return decide(fd, kept_name(fd, name) ? name : fd_name(fd, name), st,
	              how);
}

/* 1 if the file @fd was opened as (@path, may be NULL: the kept name) is
 * package metadata (mg_policy_metadata_path).  Why the /proc name for a
 * relative one: a program whose working directory is a .dist-info opens
 * "RECORD"; an absolute name needs no system call. */
static int
metadata_file(int fd, const char *path)
{
	char name[PATH_MAX];

	if (path == NULL && kept_name(fd, name))
		path = name;
	if (path == NULL || path[0] != '/')
		path = fd_name(fd, name);
	return mg_policy_metadata_path(path);
}

/*
 * Whether a content candidate goes without a decision: this process's
 * verdict cache let its identity through already (allow or audit; the
 * line and the log entry were its first decision's), or it is package
 * metadata (metadata_file).  Why the cache first: a file a program opens
 * again and again (a gzip'd table read each epoch) then costs a lookup,
 * not the /proc readlink a relative name's metadata walk takes.
 */
static int
let_through(int fd, const char *path, const struct stat *st)
{
	struct centry e;

	if (cache_get(st, &e) && e.decided &&
	    (e.action == MG_ACTION_ALLOW || e.action == MG_ACTION_AUDIT))
		return 1;
	return metadata_file(fd, path);
}

/*
 * Take @fd's mark to judge it: its MG_CONTENT_ flags | PENDING, DENIED,
 * or 0 (nothing to judge).  A taken mark reads JUDGING | flags until
 * settle_mark().  A mark another thread is judging is waited for, its
 * verdict then taken as this read's.  Why the wait has an end (a minute):
 * a judging thread cancelled inside the helper's round trip would leave
 * JUDGING for ever; after that the waiter judges its own bytes.
 */
static unsigned
take_pending(int fd)
{
	unsigned char v, to, named;
	unsigned spins = 0;
	struct timespec nap = { 0, 1000000 };

	if ((unsigned)fd >= MG_PENDING_FDS)
		return 0;
	v = __atomic_load_n(&mg_pending[fd], __ATOMIC_ACQUIRE);
	for (;;) {
		if (v == 0)
			return 0;
		if ((v & JUDGING) && spins < 60000) {
			if (++spins < 64)
				sched_yield();
			else
				nanosleep(&nap, NULL);
			v = __atomic_load_n(&mg_pending[fd], __ATOMIC_ACQUIRE);
			continue;
		}
		/* Why the class here: every judgement starts with the take,
		 * and a code name's mark goes without one. */
		named = (v & (PENDING | JUDGING | DENIED | UNNAMED)) ==
		        (PENDING | UNNAMED) ? named_mark(fd, v) : v;
		to = named == 0 ? 0 :
		     (unsigned char)(JUDGING | (named & FLAGS));
		if (__atomic_compare_exchange_n(&mg_pending[fd], &v, to, 0,
		                                __ATOMIC_ACQ_REL,
		                                __ATOMIC_ACQUIRE))
			return v & JUDGING ?
			       (unsigned)PENDING | (v & FLAGS) : named;
	}
}

/* The verdict on a mark take_pending() returned as @taken: @rc 0 allowed
 * (the mark goes), -1 denied (DENIED), WATCH (LATE), anything else not
 * settled (the mark is put back).  Unless the number was opened again
 * meanwhile. */
static void
settle_mark(int fd, unsigned taken, int rc)
{
	unsigned char want = (unsigned char)(JUDGING | (taken & FLAGS));
	unsigned char to = rc == 0 ? 0 : rc == -1 ? DENIED :
	                   rc == WATCH ? LATE : (unsigned char)taken;

	(void)__atomic_compare_exchange_n(&mg_pending[fd], &want, to, 0,
	                                  __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/* A descriptor whose last judged read was denied: judged again as the
 * file it is now (a socket or pipe given the number since: let through;
 * the same file: the cached denial).  0 allow, -1 deny. */
static int
judge_denied(int fd, enum mg_gate_how how)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	return decide_by_fd(fd, &st, how) == 0 ? 0 : -1;
}

int
mg_gate_inherited(int fd, int defer)
{
	char name[PATH_MAX];
	int rc;

	/* Why the /proc name: the program that opened it kept its own. */
	rc = mg_gate_fd(fd, fd_name(fd, name), MG_GATE_OPEN, defer);
	if (rc == 0)
		return 0;
	keep_name(fd, name);
	set_mark(fd, DENIED);
	return -1;
}

void
mg_gate_copy_mark(int old, int copy)
{
	char name[PATH_MAX];
	unsigned char v = __atomic_load_n(&mg_pending[old], __ATOMIC_ACQUIRE);

	if ((unsigned)copy >= MG_PENDING_FDS || v == 0)
		return;
	if (v & JUDGING)
		v = (unsigned char)(PENDING | (v & FLAGS));
	/* Why the class now: the copy's slot holds what kept_name()
	 * gives, and a long name's last bytes are not that. */
	if ((v & (PENDING | DENIED | UNNAMED)) == (PENDING | UNNAMED) &&
	    (v = named_mark(old, v)) == 0)
		return;
	/* The copy's line names the file as the original was opened; a
	 * name the slot cannot give is taken from /proc at the read. */
	if (kept_name(old, name))
		keep_name(copy, name);
	else
		forget_name(copy);
	set_mark(copy, v);
}

static void
marks_after_fork(void)
{
	unsigned i;

	/* The threads judging in the parent are not in the child. */
	for (i = 0; i < pending_end; i++)
		if (mg_pending[i] & JUDGING)
			mg_pending[i] = (unsigned char)(PENDING |
			                                (mg_pending[i] & FLAGS));
}

/* A marked descriptor met by a map (or another call without bytes): its
 * file's first window decides, as the name said at the open. */
static int
judge_marked(int fd, unsigned flags, enum mg_gate_how how)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 2 ||
	    !mg_policy_content_candidate(fd, &st, flags) ||
	    let_through(fd, NULL, &st))
		return 0;
	return decide_by_fd(fd, &st, how);
}

/*
 * A LATE descriptor (its first read said no) met by a map: the offsets
 * where libhdf5 looks for a superblock decide, read from the file.  0
 * allowed or no candidate (the mark goes), -1 denied.
 */
static int
judge_late_map(int fd, enum mg_gate_how how)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    !mg_policy_hdf5_past_window(fd, st.st_size) ||
	    let_through(fd, NULL, &st))
		return 0;
	return decide_by_fd(fd, &st, how);
}

/* A late name's open (mg_gate_open_late), @n strlen(@path). */
static int
mark_late(int fd, const char *path, size_t n)
{
	if ((unsigned)fd >= NAME_FDS || !mg_policy_name_late(names(), path, n))
		return 0;
	keep_name_n(fd, path, n);
	set_mark(fd, PENDING | UNNAMED);
	return 1;
}

int
mg_gate_open_late(int fd, const char *path)
{
	return mark_late(fd, path, strlen(path));
}

int
mg_gate_fd(int fd, const char *path, enum mg_gate_how how, int defer)
{
	char name[PATH_MAX];
	unsigned flags = 0, pending;
	int rc;
	size_t n;
	enum mg_name_class cls = MG_NAME_OTHER;
	int sniff = mg_state.policy == NULL || mg_policy_sniff(mg_state.policy);
	struct stat st;

	/* Why the name first: code names (.py, .pyc, .so...) stop here,
	 * before any system call, and Python opens hundreds of them at
	 * start-up. */
	if (path != NULL) {
		n = strlen(path);
		if (how == MG_GATE_OPEN && defer && mark_late(fd, path, n))
			return 0;
		if (mg_gate_pending(fd))        /* a mark of the fd's last file */
			__atomic_store_n(&mg_pending[fd], 0, __ATOMIC_RELAXED);
		cls = mg_policy_name_class_lazy(names(), path, n, &flags);
		if (cls == MG_NAME_SKIP || (cls != MG_NAME_MODEL && !sniff))
			return 0;
		/* stdio reads go through glibc's internal read, which no
		 * wrapper sees: a data name opened with fopen is not
		 * judged (README). */
		if (cls == MG_NAME_DATA && how == MG_GATE_FOPEN)
			return 0;
		flags = content_flags(cls, flags);
		if (cls != MG_NAME_MODEL && defer &&
		    !(flags & MG_CONTENT_AT_OPEN) &&
		    (unsigned)fd < MG_PENDING_FDS) {
			keep_name_n(fd, path, n);
			set_mark(fd, (unsigned char)(flags | PENDING));
			return 0;
		}
	} else if ((pending = take_pending(fd)) != 0) {
		rc = pending == DENIED ? judge_denied(fd, how) :
		     pending == LATE ? judge_late_map(fd, how) :
		     judge_marked(fd, pending & FLAGS, how);
		settle_mark(fd, pending, rc);
		return rc;
	}
	if (fstat(fd, &st) != 0)
		return 0;
	if (path != NULL && cls == MG_NAME_MODEL && unscannable_model(path, &st))
		return deny_unscannable(path, &st, how);
	if (!S_ISREG(st.st_mode) || st.st_size < 2)
		return 0;
	/* A name that leaves it to the content, judged now: the flags its
	 * mark would have had (a data name read-write, say). */
	if (path != NULL && cls != MG_NAME_MODEL) {
		if (!mg_policy_content_candidate(fd, &st, flags) ||
		    let_through(fd, path, &st))
			return 0;
		return decide(fd, path, &st, how);
	}
	if (path == NULL)
		path = fd_name(fd, name);
	if (!mg_policy_candidate(names(), sniff, fd, path, &st))
		return 0;
	return decide(fd, path, &st, how);
}

/*
 * 1 if the first read of @fd (@got bytes from @at, -1: from the file
 * position) started somewhere other than offset 0.  A data name is judged
 * on its head: text read in the middle (a PEM bundle's base64 lines read
 * as INST) says nothing of what a loader reading the file would parse.
 * Asked only of a data name whose bytes were a candidate: one lseek.
 */
static int
read_past_head(int fd, ssize_t got, off_t at)
{
	off_t pos;

	if (at >= 0)
		return at != 0;
	pos = lseek(fd, 0, SEEK_CUR);
	return pos > 0 && pos - (off_t)got != 0;
}

/* The bytes of a first read (see mg_gate_read); @flags the mark's.
 * WATCH when they say no but the file goes on past them. */
static int
judge_read(int fd, const void *buf, size_t asked, ssize_t got, off_t at,
           unsigned flags)
{
	enum mg_cand c;
	struct stat st;
	unsigned look = flags | MG_CONTENT_WINDOW_ONLY;

	/* A read short of what was asked ended at the end of the file: the
	 * bytes are all the loader will get from here.  A small read that
	 * was not short says too little: the file's first window decides. */
	if ((size_t)got < asked || (size_t)got >= MG_CANDIDATE_WINDOW) {
		c = mg_policy_bytes_candidate(buf, (size_t)got,
		                              (size_t)got < asked ? (uint64_t)got :
		                              UINT64_MAX, flags);
		/* Why WATCH: an HDF5 superblock may follow a user block
		 * past these bytes (libhdf5's default driver reads 8 bytes
		 * at 0, then at 512, 1024...: those later reads are looked
		 * at, see MG_MARK_LATE).  One inside them (its core driver
		 * reads the whole file at once) sends the file to the full
		 * test, user-block offsets included. */
		if (c == MG_CAND_NO) {
			if (!mg_candidate_hdf5_later(buf, (size_t)got))
				return (size_t)got < asked ? 0 : WATCH;
			c = MG_CAND_UNSURE;
			look = flags;
		} else if ((flags & MG_CONTENT_HEAD) &&
		           read_past_head(fd, got, at)) {
			c = MG_CAND_UNSURE;     /* the first window decides */
		}
	} else {
		c = MG_CAND_UNSURE;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 2)
		return 0;
	if (c == MG_CAND_UNSURE && !mg_policy_content_candidate(fd, &st, look))
		return (look & MG_CONTENT_WINDOW_ONLY) &&
		       st.st_size >= MG_HDF5_USER_BLOCK_MIN + MG_HDF5_SIG_LEN ?
		       WATCH : 0;
	/* Why only now: the directory walk would cost every open; it is
	 * asked here of the few the content test kept. */
	if (let_through(fd, NULL, &st))
		return 0;
	return decide_by_fd(fd, &st, MG_GATE_READ);
}

/*
 * A read of a LATE descriptor whose bytes start with the HDF5 signature
 * (mg_gate_late_skip let the others through): a superblock if they were
 * read from a user-block offset, and then the file is judged.  KEEP
 * otherwise (the later reads stay watched).
 */
static int
judge_late(int fd, const void *buf, ssize_t got, off_t at)
{
	struct stat st;
	off_t from = at;

	if (got < MG_HDF5_SIG_LEN ||
	    memcmp(buf, MG_HDF5_SIG, MG_HDF5_SIG_LEN) != 0)
		return KEEP;
	if (from < 0 && (from = lseek(fd, 0, SEEK_CUR)) >= 0)
		from -= got;
	if (from < MG_HDF5_USER_BLOCK_MIN || (from & (from - 1)) != 0)
		return KEEP;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    let_through(fd, NULL, &st))
		return 0;
	return decide_by_fd(fd, &st, MG_GATE_READ);
}

int
mg_gate_read(int fd, const void *buf, size_t asked, ssize_t got, off_t at)
{
	unsigned taken = take_pending(fd);
	int rc;

	if (taken == 0)
		return 0;
	if (got < 0) {          /* nothing read: the next read is the first */
		settle_mark(fd, taken, 1);
		return 0;
	}
	rc = taken == DENIED ? judge_denied(fd, MG_GATE_READ) :
	     taken == LATE ? judge_late(fd, buf, got, at) :
	     judge_read(fd, buf, asked, got, at, taken & FLAGS);
	settle_mark(fd, taken, rc);
	return rc < 0 ? -1 : 0;
}
