/*
 * gate.h - private interfaces between the files of the interposer.
 *
 * preload.c   the exported wrappers and the constructor
 * gate.c      the candidate test, the verdict cache, applying an action
 * client.c    the helper: finding, starting, asking it (fd passing)
 * audit.c     the JSON audit line
 *
 * Nothing here is exported from libmodelgate.so (hidden visibility and a
 * version script); nothing here exits, aborts, or prints without the
 * "modelgate: " prefix: it runs inside someone else's process.
 */
#ifndef MG_GATE_H
#define MG_GATE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "../policy/policy.h"
#include "proto.h"

/* Process-wide state, filled once by the constructor (before any thread
 * of the program exists) and read-only afterwards, except the helper
 * fields in client.c, which have their own lock. */
struct mg_state {
	int active;            /* 1: this process is protected */
	int secure;            /* AT_SECURE: no environment was read */
	struct mg_policy *policy; /* NULL when it could not be loaded */
	char policy_err[256];  /* why, when policy == NULL */
	struct mg_policy *defaults; /* when policy == NULL: the embedded
	                               default, for which processes and names
	                               to watch (every model is then denied
	                               with policy_err); NULL otherwise */
	char policy_path[PATH_MAX]; /* user policy given to the helper, or "" */
	char exe[PATH_MAX];    /* /proc/self/exe at start */
	char helper[PATH_MAX]; /* the modelgate binary, or "" if not found */
	char log_env[PATH_MAX]; /* MODELGATE_LOG (tests), or "" */
	int timeout_s;         /* the helper's longest silence, seconds */
};

extern struct mg_state mg_state;

/* Thread-local re-entry flag: while set, every wrapper is a pass-through
 * (our own opens, inih's fopen, the audit log...).  initial-exec: no
 * allocation on first access. */
extern __thread int mg_busy __attribute__((tls_model("initial-exec")));

/* Where a check comes from: it changes only the audit line (and whether
 * a signal may interrupt the wait: open and fopen only). */
enum mg_gate_how { MG_GATE_OPEN, MG_GATE_FOPEN, MG_GATE_MMAP, MG_GATE_READ };

/*
 * Decide on the open file @fd (opened readable by the caller) named
 * @path (may be NULL: the name is then read from /proc/self/fd).  When
 * @defer (a read-only open that creates and truncates nothing) and the
 * name leaves the decision to the content, the content is judged at the
 * first read instead (mg_gate_read) and 0 is returned now.
 * Returns 0 to let the caller have it (after a sandbox action the process
 * is locked, and the first time for this file the "modelgate: sandboxed
 * PATH: REASON; ..." line has been printed), -1 to deny: the
 * "modelgate: denied PATH: REASON" line has then been printed (on every
 * denial) and the decision logged; the caller closes what it opened and
 * sets EACCES.  MG_GATE_INTERRUPTED (open and fopen only): a signal
 * handler ran while the helper worked (client.c); nothing was decided,
 * printed or cached: the caller closes what it opened and sets EINTR, as
 * the real call would have failed.
 * May change errno on either path: callers save and restore it.  Called
 * with mg_busy set.
 */
enum { MG_GATE_INTERRUPTED = -2 };
int mg_gate_fd(int fd, const char *path, enum mg_gate_how how, int defer);

/*
 * The open of @path as @fd, deferrable, when its name's class can wait
 * for the first read (mg_policy_name_late; most opens of a Python
 * process): marks it so and returns 1, else 0 (then mg_gate_fd decides).
 * Why apart: it changes no errno and calls nothing a wrapper sees, so an
 * open pays neither the save nor mg_busy for it.
 */
int mg_gate_open_late(int fd, const char *path);

/*
 * 1 if an open of @path (relative to @dirfd) that truncates (@truncates)
 * or creates would empty a file this process's verdict cache holds as
 * denied, or create a database beside one (@path absent, and @path.dir,
 * .dat, .pag or .db denied): the "modelgate: denied PATH: not truncated:
 * ..." or "...: not created: ..." line has then been printed; the caller
 * fails the open with EACCES before making it.  Why: a loader whose read
 * was denied may fall back to creating the file anew (dbm.dumb's open
 * with flag 'c' opens the refused .dat for writing), or, as shelve.open
 * does after whichdb swallowed the EACCES of its probe, create an empty
 * database of another kind beside the refused one and hand it over as
 * if it were the user's; a false denial must lose nothing and say so.
 * One fstatat, and for a model name being truncated or an absent one
 * being created, up to four more.  Called only after the process's first
 * denial, with mg_busy set; may change errno.
 */
int mg_gate_truncate_denied(int dirfd, const char *path, int truncates,
                            enum mg_gate_how how);

/* Set at this process's first denial: until then no open can truncate a
 * denied file, and the test above is skipped. */
extern int mg_gate_denied_any;

/* Descriptors below this get a pending mark (gate.c says why): the
 * kernel's default fs.nr_open, so every descriptor a process can have
 * unless root raised that. */
enum { MG_PENDING_FDS = 1 << 20 };
extern unsigned char mg_pending[MG_PENDING_FDS];

/* Whether @fd's content is still to be judged at its first read: the
 * read wrappers' fast test, one load. */
static inline int
mg_gate_pending(int fd)
{
	return (unsigned)fd < MG_PENDING_FDS &&
	       __atomic_load_n(&mg_pending[fd], __ATOMIC_RELAXED) != 0;
}

/*
 * The mark of a descriptor whose first read said "no candidate" while the
 * file goes on past what was read: libhdf5 finds a superblock after a
 * user block at 512, 1024, ... (scanner/candidate.h), so the later reads
 * are watched for one, at the cost of this test on their bytes: only a
 * read that starts with the HDF5 signature goes on to mg_gate_read.
 */
#define MG_MARK_LATE 0xa0

static inline int
mg_gate_late_skip(int fd, const void *buf, ssize_t got)
{
	return __atomic_load_n(&mg_pending[fd], __ATOMIC_RELAXED) ==
	       MG_MARK_LATE &&
	       (got < MG_HDF5_SIG_LEN || buf == NULL ||
	        memcmp(buf, MG_HDF5_SIG, MG_HDF5_SIG_LEN) != 0);
}

/*
 * The first read of a descriptor with a pending mark: @got bytes (or -1)
 * of the @asked the caller read into @buf, from offset @at (-1: from the
 * file position, a read or readv).  Judges those bytes (or, when a small
 * read says too little, or a data name was read elsewhere than at 0, the
 * file's first window) and decides as
 * mg_gate_fd would: 0 to hand the bytes over, -1 to deny (the line has
 * been printed; the caller wipes the bytes and fails with EACCES).
 * Never MG_GATE_INTERRUPTED: the bytes are read already, and a retried
 * read would get the next ones.  Called with mg_busy set.
 */
int mg_gate_read(int fd, const void *buf, size_t asked, ssize_t got,
                 off_t at);

/*
 * @fd is a readable regular file the process was started with (a shell's
 * "< file", exec with pass_fds): no open of this process saw it.  Taken
 * as if opened here (mg_gate_fd, @defer as for an open with its flags);
 * a denial cannot fail an open, so it becomes @fd's denied mark, and
 * every read or map of it fails.  -1 denied, else 0.  Called with
 * mg_busy set, for @fd < MG_PENDING_FDS.
 */
int mg_gate_inherited(int fd, int defer);

/* @copy is a duplicate of @old, which has a mark (mg_gate_pending): the
 * copy's first read is judged as @old's would be (a mark being judged is
 * copied as still to be judged; a denied one as denied). */
void mg_gate_copy_mark(int old, int copy);


/* Reset the locks after fork() in the child (pthread_atfork). */
void mg_gate_atfork_child(void);
void mg_gate_atfork_prepare(void);
void mg_gate_atfork_parent(void);
void mg_client_atfork_child(void);

/* pthread_atfork prepare/parent handlers: fork() waits while another
 * thread is between creating a descriptor and recording it. */
void mg_client_atfork_prepare(void);
void mg_client_atfork_parent(void);

/*
 * Ask the helper about @fd (whose fstat is @st) named @path.  On MG_OK
 * *@rep holds the final reply (which may itself be MG_PROTO_FAILED).
 * Otherwise no verdict could be had: MG_ERR_UNSUPPORTED (no helper
 * binary), MG_ERR_IO (could not start or reach it), MG_ERR_PROTO (it died
 * or answered garbage), MG_ERR_TIMEOUT (silent, with no progress, for
 * mg_state.timeout_s), MG_ERR_PERM (the peer is not our uid); @why says
 * it in words.  When @intr (the caller's call may fail with EINTR: open,
 * fopen), a signal whose handler was installed without SA_RESTART ends
 * the wait: MG_ERR_IO with *@interrupted = 1 (nothing was decided; the
 * caller fails with EINTR and caches nothing).  Starts the helper on
 * first need and again if it died.  Thread- and fork-safe: one request
 * at a time per connection, connections never shared with a fork child.
 */
enum mg_err mg_client_ask(int fd, const char *path, const struct stat *st,
                          int intr, struct mg_proto_rep *rep, char *why,
                          size_t whylen, int *interrupted);

/* One audit record (see audit.c); never fails visibly. */
struct mg_audit {
	const char *path;
	const struct stat *st;
	const char *sha256;    /* "" or NULL when unknown */
	const char *verdict;   /* verdict name, or "none" when no verdict */
	const char *action;    /* the action actually applied */
	const char *reason;
	enum mg_gate_how how;
	long scan_ms;          /* the helper's time on the file, -1 unknown */
};
void mg_audit_log(const struct mg_audit *a);

/*
 * Log one decision of the in-process guard (guard.c): the audit @event
 * ("pickle.find_class", "exec", ...), what it was about (@what: "MODULE
 * NAME", or the event), the @action applied ("deny" or "audit"), @reason
 * and @caller (the unpickle's caller, "FILE:FUNCTION").  Never fails
 * visibly, preserves errno (audit.c).
 */
void mg_audit_guard(const char *event, const char *what, const char *action,
                    const char *reason, const char *caller);

/*
 * Register the guard's audit hook when this process runs a CPython with
 * audit hooks and the frame API (3.9+) that is not initialised yet, and
 * the policy's [guard] find_class is not off.  Its C API is looked up in
 * @where: RTLD_DEFAULT, or the dlopen handle of a libpython loaded after
 * start.  1 if a hook was registered, 0 if not (nothing was changed
 * then).  Called once per process: by the constructor, or by the open
 * that first sees a libpython loaded later (preload.c; guard.c).
 */
int mg_guard_install(void *where);

/* 1 while the guard's hook is registered (mode deny or audit): then it
 * refuses find_class of names no pickle.dumps writes, which the first
 * read of a data name counts on (gate.c).  Cleared when CPython clears
 * its hooks at finalisation. */
extern int mg_guard_refusing;

/* Log the policy note @n (policy.h) where decisions go, and to syslog
 * for a refused system policy (then no log_file can be trusted); never
 * fails visibly, preserves errno (audit.c). */
void mg_audit_note(const struct mg_note *n);

/*
 * Report the notes loading the policy had (a refused system policy,
 * parse warnings, each ignored user setting) on stderr and in the log,
 * once per process; later calls do nothing.  Called when an active
 * process first reaches a decision on a model candidate, so a process
 * that never does (`ls`, every non-Python program) prints nothing.
 * Thread-safe, errno-preserving (preload.c).
 */
void mg_preload_report_notes(void);

/* Raw openat(2), bypassing every wrapper (for our own files). */
int mg_raw_openat(int dirfd, const char *path, int flags, unsigned mode);
int mg_raw_close(int fd);

#endif /* MG_GATE_H */
