/*
 * helper.c - `modelgate helper`: the scanning server the preload starts.
 *
 * Started by libmodelgate.so (preload/client.c) with a listening
 * SOCK_SEQPACKET socket on fd 3 and the read end of a lifeline pipe on
 * fd 4.  It daemonises (the first process exits at once, so the program
 * that started it never has to reap or wait for it), loads the policy the
 * preload named, and becomes a supervisor that keeps one worker per CPU
 * (at most 4) alive: a worker that ends (crashed on a hostile file, or
 * stopped because its client went away) is replaced.  Everything exits
 * when the lifeline reads EOF (every process of the tree that started it
 * has exited or exec'd).
 *
 * Serving: a worker polls the listener, the lifeline and the connections
 * it accepted; clients keep their connection across requests (proto.h),
 * so a request wakes only the worker that owns its connection (no
 * thundering herd: the listener wakes every idle worker, but only once
 * per connection, i.e. per client process or thread).  While a worker is
 * on a request, a 250 ms timer (watch_tick) checks, from its signal
 * handler, that the client, the lifeline and the work are still there,
 * sends a progress message every tick (so the client's timeout is a
 * silence, and a large clean file is never denied for taking long),
 * tells the clients queued behind it to keep waiting, and takes
 * connections no idle worker took.  A client gone or the lifeline closed:
 * the worker exits at once, wherever the scan or the hash is (nothing to
 * undo: it only reads), and the supervisor starts a fresh one.  A scan
 * that stops reading anything for MG_HELPER_STALL_S, or outlives a budget
 * that grows with the file's size, is a bug: a FAILED reply, and exit.
 *
 * Why it is safe to parse hostile files here: after setup the process
 * can only read files it is handed (or opens read-only), map memory,
 * append to the hash cache it opened before (helper_hash.c) and answer on
 * sockets it already has; it cannot create sockets (but an AF_UNIX pair),
 * write other files, exec, or signal anyone.  It may fork one child at a
 * time to read a Berkeley DB or GDBM file with its library, a child that
 * confines itself further (scanner/dbm.c, allow_dbm_reader below).  A
 * syscall outside the list fails with EPERM, which makes the scan an
 * error and the open a deny (fail closed).
 *
 * Clients are served only when SO_PEERCRED says they run as our uid.
 * Protocol: preload/proto.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../policy/pin.h"
#include "../policy/policy.h"
#include "../preload/proto.h"
#include "../scanner/scanner.h"
#include "cli.h"
#include "helper_hash.h"

struct helper {
	int lst, life;
	int nconn;
	int conn[256]; /* why 256: client processes and threads at once
	                  per worker; past that a new one is refused */
	struct mg_policy *policy; /* NULL: every request fails with perr */
	char perr[256];
	struct mg_scan_opts opts;
	struct mg_helper_hash hash; /* when to hash; the cache (helper_hash.c) */
};

/* --- seccomp -------------------------------------------------------------- */

/* The allow-list, found by tracing real scans of every format
 * (strace -f of tests/integration/test_preload_formats, which also checks
 * that helper verdicts equal `modelgate scan` verdicts).  Memory: brk/mmap/munmap/
 * mremap/madvise and mprotect without PROT_EXEC.  Files: only what is
 * handed over or opened read-only (the pin lockfile, the hash cache);
 * write() only on the hash cache opened before the lock (lock_down). */
static const int allowed[] = {
	/* serving: poll, accept, one request in, one reply out */
	SCMP_SYS(poll), SCMP_SYS(accept4), SCMP_SYS(recvmsg), SCMP_SYS(sendto),
	SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(geteuid),
	SCMP_SYS(close),
	/* reading the handed fd (scanner: mmap; SHA-256: pread+fadvise) and
	 * the read-only files the policy may open (lockfiles, hash cache) */
	SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(lseek), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(fadvise64),
	/* pin/registry rules resolve the fd's path (information only) */
	SCMP_SYS(readlink), SCMP_SYS(getcwd),
	/* memory; sysinfo: glibc's qsort sizes its buffer by physical RAM */
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(madvise), SCMP_SYS(futex), SCMP_SYS(sysinfo),
	/* the per-request watch (watch_tick): its timer, the work done */
	SCMP_SYS(setitimer), SCMP_SYS(getrusage),
	/* the end, and signals' plumbing */
	SCMP_SYS(clock_gettime), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(restart_syscall), SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/* The supervisor also forks workers, reaps them, and lets each install
 * its handler and its own (stricter, stacked) filter. */
static const int supervisor_extra[] = {
	SCMP_SYS(clone), SCMP_SYS(wait4), SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(set_robust_list), SCMP_SYS(prctl),
	SCMP_SYS(seccomp), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
};

/*
 * What scanner/dbm.c needs to read a Berkeley DB or GDBM file in a child
 * of the worker: fork (exactly glibc's fork flags: no thread, no shared
 * memory, no namespace), an AF_UNIX socketpair to hear it on, reaping it,
 * and for the child its own limits (prlimit64 on itself, four limits),
 * its own, stricter filter (seccomp: a filter can only take rights away)
 * and the close-on-exec flag libdb sets on the file it opens (fcntl
 * F_GETFD and F_SETFD only).  Nothing here writes a file, signals another
 * process or reaches a network.  What a subverted worker gains: forking
 * (a fork bomb of processes that are as confined as it is).
 */
static int
allow_dbm_reader(scmp_filter_ctx ctx, int supervisor)
{
	const scmp_datum_t fork_flags = CLONE_CHILD_CLEARTID |
	                                CLONE_CHILD_SETTID | SIGCHLD;
	static const scmp_datum_t lim[] = { RLIMIT_CPU, RLIMIT_CORE,
	                                    RLIMIT_FSIZE, RLIMIT_AS };
	size_t i;

	/* the supervisor has clone, wait4 and seccomp without conditions */
	if (!supervisor &&
	    (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	                      SCMP_A0(SCMP_CMP_EQ, fork_flags)) ||
	     seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(wait4), 0) ||
	     seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 0)))
		return -1;
	/* prlimit64 on itself and only for the reader's four limits: never
	 * RLIMIT_NOFILE, which keeps the hash cache's descriptor number
	 * unique (helper_hash.c), even for a root helper that could raise
	 * a hard limit. */
	for (i = 0; i < sizeof(lim) / sizeof(lim[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2,
		                     SCMP_A0(SCMP_CMP_EQ, 0),
		                     SCMP_A1(SCMP_CMP_EQ, lim[i])) != 0)
			return -1;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
	                        SCMP_A0(SCMP_CMP_EQ, AF_UNIX)) ||
	       seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
	                        SCMP_A1(SCMP_CMP_EQ, F_GETFD)) ||
	       seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
	                        SCMP_A1(SCMP_CMP_EQ, F_SETFD)) ? -1 : 0;
}

/* Lock this process down; @supervisor adds supervisor_extra; @cache_fd
 * (or -1) is the hash cache, the one file write() may reach.  Both the
 * supervisor's and each worker's filter allow it: the two stack. */
static int
lock_down(int supervisor, int cache_fd, char *why, size_t whylen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int rc = -1;
	size_t i;

	if (ctx == NULL)
		goto out;
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0) != 0)
			goto out;
	for (i = 0; supervisor && i < sizeof(supervisor_extra) /
	                               sizeof(supervisor_extra[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, supervisor_extra[i],
		                     0) != 0)
			goto out;
	/* mprotect: never executable memory. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	                     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0)
		goto out;
	/* openat read-only: no O_WRONLY/O_RDWR/O_CREAT/O_TRUNC/O_APPEND/
	 * O_TMPFILE, so nothing can be written or created. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	                     SCMP_A2(SCMP_CMP_MASKED_EQ,
	                             O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND |
	                             O_TMPFILE, 0)) != 0)
		goto out;
	if (allow_dbm_reader(ctx, supervisor) != 0)
		goto out;
	/* write: only the hash cache, whose number no other file can take
	 * (helper_hash.c) */
	if (cache_fd >= 0 &&
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
	                     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)cache_fd)) != 0)
		goto out;
	rc = seccomp_load(ctx);
out:
	if (rc != 0)
		snprintf(why, whylen, "the helper could not lock itself down "
		         "(seccomp): %s", strerror(rc < 0 ? -rc : ENOSYS));
	seccomp_release(ctx);
	return rc;
}

/* --- one request ---------------------------------------------------------- */

/* "VERDICT: MESSAGE (in MEMBER)" of the worst finding; the first of
 * those wins.  Why the member only when it fits whole: the reason is cut
 * at @cap, and a cut "(in arch" says nothing; the message is what the
 * user needs. */
static void
summarize(const struct mg_report *r, char *out, size_t cap)
{
	const struct mg_finding *f = NULL;
	size_t i, n;
	int k;

	for (i = 0; i < r->nfindings; i++)
		if (r->findings[i].verdict == r->verdict) {
			f = &r->findings[i];
			break;
		}
	if (f == NULL || f->message == NULL)
		snprintf(out, cap, "%s", mg_verdict_name(r->verdict));
	else
		snprintf(out, cap, "%s: %s", mg_verdict_name(r->verdict),
		         f->message);
	n = strlen(out);
	if (f != NULL && f->message != NULL && f->member != NULL) {
		k = snprintf(out + n, cap - n, " (in %s)", f->member);
		if (k < 0 || (size_t)k >= cap - n)
			out[n] = '\0';
	}
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] == '\n' || out[i] == '\r')
			out[i] = ' ';
}

static void
decide(struct helper *h, int fd, const char *path, struct mg_proto_rep *rep)
{
	struct mg_report *r = mg_report_new();
	enum mg_err err = MG_ERR_NOMEM;
	int skip = 0;

	if (r == NULL)
		goto out;
	/* hashed first only for the pin rules; for the audit log, after */
	err = mg_policy_prescan_lazy(h->policy, fd, path, r, rep->sha256, &skip,
	                             &h->hash.cache);
	if (err == MG_OK && !skip)
		err = mg_scan_fd(&h->opts, fd, path, r);
	if (err == MG_OK)
		err = mg_helper_hash_for_log(&h->hash, h->policy, r, fd,
		                             rep->sha256);
	if (err != MG_OK)
		goto out;
	rep->status = MG_PROTO_DECIDED;
	rep->verdict = (uint8_t)r->verdict;
	rep->action = (uint8_t)mg_policy_report_action(h->policy, r);
	snprintf(rep->format, sizeof(rep->format), "%s", r->format);
	summarize(r, rep->reason, sizeof(rep->reason));
out:
	if (err != MG_OK)
		snprintf(rep->reason, sizeof(rep->reason), "the helper could "
		         "not read the file: %s (%s)", mg_strerror(err),
		         strerror(errno));
	mg_report_free(r);
}

/* Receive one request: the path into @path, the fd into *@fd, its
 * number into *@seq.  0 ok, -1 malformed (or nothing there yet), -2 the
 * client hung up. */
static int
receive(int c, char *path, int *fd, uint32_t *seq)
{
	char buf[sizeof(struct mg_proto_req) + MG_PROTO_PATH_MAX];
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = { 0 };
	struct mg_proto_req req;
	struct cmsghdr *cm;
	ssize_t n;
	size_t i, nfd;
	int fds[4];

	*fd = -1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	n = recvmsg(c, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return -2; /* the client hung up */
	for (cm = CMSG_FIRSTHDR(&msg); n >= 0 && cm != NULL;
	     cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds, CMSG_DATA(cm), nfd * sizeof(int));
		for (i = 0; i < nfd; i++) {
			if (*fd < 0)
				*fd = fds[i];
			else
				close(fds[i]); /* exactly one is expected */
		}
	}
	if (n < (ssize_t)sizeof(req) || *fd < 0)
		return -1;
	memcpy(&req, buf, sizeof(req));
	*seq = req.seq;
	if (req.magic != MG_PROTO_MAGIC ||
	    (size_t)n != sizeof(req) + req.pathlen)
		return -1;
	memcpy(path, buf + sizeof(req), req.pathlen);
	path[req.pathlen] = '\0';
	return 0;
}

/* --- the watch: a timer while a request is served ------------------------ */

/*
 * Why a signal handler and not checks inside the scan: the scanner and
 * the hash are pure functions over the bytes they are given and know
 * nothing of sockets; a timer needs nothing from them.  Everything the
 * handler calls is async-signal-safe (poll, send, accept4, getrusage,
 * open/read/close, _exit), and it touches only the watch and the
 * connection table, which the main flow leaves alone while the timer is
 * armed (between watch_start and watch_stop).
 */
enum { TICK_MS = 250, TICKS_PER_WORK = 4 };
/* Why 30 s: a scan or a hash reads (pread, or page faults on its map)
 * all the time; one that reads nothing for this long loops on a bug. */
#define MG_HELPER_STALL_S 30
/* Why 60 s + 8 MB/s: a budget no legitimate scan and hash of a file of
 * that size comes near (both run at hundreds of MB/s) and that still
 * ends a runaway on a 100 GB file within hours, not never. */
#define MG_HELPER_BUDGET_S(size) (60 + (long long)((size) >> 23))

static struct {
	struct helper *h;
	int conn;           /* the client being served */
	uint32_t seq;
	long long ticks, limit_ticks, stall_ticks;
	unsigned long long work;
	int lst_waiting;    /* the listener was readable on the last tick */
} watch;

/* Bytes this worker has read so far: read(2)/pread(2) (rchar) and page
 * faults on its maps (the scanner reads through mmap). */
static unsigned long long
work_done(void)
{
	struct rusage ru;
	unsigned long long w = 0;
	char buf[512], *p;
	ssize_t n;
	int fd;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		w = ((unsigned long long)ru.ru_minflt + ru.ru_majflt) * 4096;
	fd = open("/proc/self/io", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return w;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		p = strstr(buf, "rchar: ");
		if (p != NULL)
			w += strtoull(p + 7, NULL, 10);
	}
	return w;
}

/* --- memory: keep a long-lived worker's heap flat ------------------------ */

/*
 * A request that took MG_HELPER_TRIM_MS or longer is followed by a heap
 * trim, after its reply.  Why: glibc keeps
 * freed heap memory resident -- a free hole below a chunk still in use is
 * never returned.
 * Scanning a mix of models (an .h5 with a 1.5 MB config, a .pkl.gz that
 * inflates to 8 MB, a zlib joblib) left a worker at 42 MB RSS with 0.6 MB
 * in use, for good; trimmed, 15 MB.  malloc_trim(0) gives every free
 * page back (madvise; no new system call).  Why only after a long request:
 * the trim and the page faults it causes on the next request cost tens
 * of µs, nothing next to a request of milliseconds but doubling a small
 * one, and a short request leaves little behind (it reuses what the last
 * one freed).  bench/bench_soak shows the result: a helper's RSS at the
 * start and the end of 10^6 mixed requests.
 */
#define MG_HELPER_TRIM_MS 2

static void
send_progress(int c, uint32_t seq, unsigned long long done)
{
	struct mg_proto_rep rep;

	memset(&rep, 0, sizeof(rep));
	rep.magic = MG_PROTO_MAGIC;
	rep.status = MG_PROTO_PROGRESS;
	rep.seq = seq;
	rep.done = done;
	(void)!send(c, &rep, sizeof(rep), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Clients of this worker waiting behind the current request: keep them
 * waiting (they would time out in silence otherwise). */
static void
tell_queued(struct helper *h, int *lifegone)
{
	struct pollfd pf[258];
	int i, n = 0;

	pf[n++] = (struct pollfd){ h->life, POLLIN, 0 };
	for (i = 0; i < h->nconn; i++)
		pf[n++] = (struct pollfd){ h->conn[i], POLLIN, 0 };
	if (poll(pf, (nfds_t)n, 0) <= 0)
		return;
	*lifegone = h->life >= 0 && pf[0].revents != 0;
	for (i = 1; i < n; i++)
		if (pf[i].fd != watch.conn && (pf[i].revents & POLLIN) &&
		    !(pf[i].revents & POLLHUP))
			send_progress(pf[i].fd, 0, 0);
}

/* A connection no idle worker took within a tick: all are busy, so this
 * one queues it behind its current request (and tells it so). */
static void
adopt_waiting(struct helper *h, int readable)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int c;

	if (!readable || !watch.lst_waiting || h->nconn >= 256) {
		watch.lst_waiting = readable;
		return;
	}
	watch.lst_waiting = 0;
	c = accept4(h->lst, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return;
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
	    cred.uid != geteuid()) {
		close(c);
		return;
	}
	h->conn[h->nconn++] = c;
}

static void
give_up(const char *why)
{
	struct mg_proto_rep rep;

	memset(&rep, 0, sizeof(rep));
	rep.magic = MG_PROTO_MAGIC;
	rep.status = MG_PROTO_FAILED;
	rep.verdict = MG_VERDICT_ERROR;
	rep.action = MG_ACTION_DENY;
	rep.seq = watch.seq;
	snprintf(rep.reason, sizeof(rep.reason), "%s", why);
	(void)!send(watch.conn, &rep, sizeof(rep), MSG_NOSIGNAL | MSG_DONTWAIT);
	_exit(1);
}

static void
watch_tick(int sig)
{
	struct pollfd pf[3];
	int saved = errno, lifegone = 0;
	unsigned long long w;

	(void)sig;
	pf[0] = (struct pollfd){ watch.conn, POLLIN, 0 };
	pf[1] = (struct pollfd){ watch.h->life, POLLIN, 0 };
	pf[2] = (struct pollfd){ watch.h->lst, POLLIN, 0 };
	if (poll(pf, 3, 0) > 0) {
		if (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			_exit(0); /* the client is gone: stop working for it */
		if (watch.h->life >= 0 && pf[1].revents != 0)
			_exit(0); /* the process tree is gone */
	}
	adopt_waiting(watch.h, (pf[2].revents & POLLIN) != 0);
	if (++watch.ticks % TICKS_PER_WORK == 0) {
		w = work_done();
		watch.stall_ticks = w == watch.work ? watch.stall_ticks + 1 : 0;
		watch.work = w;
		if (watch.stall_ticks * TICKS_PER_WORK * TICK_MS >=
		    MG_HELPER_STALL_S * 1000)
			give_up("the helper stopped making progress on this "
			        "file (read nothing for 30 s)");
	}
	/* Every tick: the shortest timeout a user can set is 1 s. */
	send_progress(watch.conn, watch.seq, watch.work);
	tell_queued(watch.h, &lifegone);
	if (lifegone)
		_exit(0);
	if (watch.ticks >= watch.limit_ticks)
		give_up("the helper ran out of its time budget for this file");
	errno = saved;
}

static void
watch_start(struct helper *h, int c, uint32_t seq, int fd)
{
	struct itimerval it = { { 0, TICK_MS * 1000 }, { 0, TICK_MS * 1000 } };
	struct stat st;
	off_t size = fstat(fd, &st) == 0 ? st.st_size : 0;

	watch.h = h;
	watch.conn = c;
	watch.seq = seq;
	watch.ticks = 0;
	watch.stall_ticks = 0;
	watch.work = 0;
	watch.lst_waiting = 0;
	watch.limit_ticks = MG_HELPER_BUDGET_S(size) * 1000 / TICK_MS;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void
watch_stop(void)
{
	struct itimerval off = { { 0, 0 }, { 0, 0 } };

	setitimer(ITIMER_REAL, &off, NULL);
}

/* --- serving ---------------------------------------------------------------- */

/* One request on @c; -1 when the connection is to be closed. */
static int
serve_one(struct helper *h, int c)
{
	static char path[MG_PROTO_PATH_MAX + 1];
	struct mg_proto_rep rep;
	struct timespec t0;
	uint32_t seq = 0;
	int fd = -1, rc;

	rc = receive(c, path, &fd, &seq);
	if (rc == -2) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&rep, 0, sizeof(rep));
	rep.magic = MG_PROTO_MAGIC;
	rep.status = MG_PROTO_FAILED;
	rep.verdict = MG_VERDICT_ERROR;
	rep.action = MG_ACTION_DENY;
	rep.seq = seq;
	if (rc != 0) {
		if (fd < 0 && errno == EAGAIN)
			return 0; /* woken for nothing */
		snprintf(rep.reason, sizeof(rep.reason), "malformed request");
	} else if (h->policy == NULL) {
		snprintf(rep.reason, sizeof(rep.reason), "%s", h->perr);
	} else {
		watch_start(h, c, seq, fd);
		decide(h, fd, path, &rep);
		watch_stop();
	}
	rep.elapsed_ms = (uint32_t)mg_proto_ms_since(&t0);
	(void)!send(c, &rep, sizeof(rep), MSG_NOSIGNAL);
	if (rep.elapsed_ms >= MG_HELPER_TRIM_MS)
		(void)malloc_trim(0); /* after the reply: the client goes on */
	if (fd >= 0)
		close(fd);
	return rc == 0 ? 0 : -1;
}

/* A new client on the listener (we may lose the race: EAGAIN). */
static void
accept_one(struct helper *h)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int c = accept4(h->lst, NULL, NULL, SOCK_CLOEXEC);

	if (c < 0)
		return;
	/* Not ours, or no room: no answer at all. */
	if (h->nconn >= 256 ||
	    getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
	    cred.uid != geteuid()) {
		close(c);
		return;
	}
	h->conn[h->nconn++] = c;
}

static void
drop_conn(struct helper *h, int i)
{
	close(h->conn[i]);
	h->conn[i] = h->conn[--h->nconn];
}

static void
serve(struct helper *h)
{
	struct pollfd pf[258];
	int i, n, nc;

	for (;;) {
		pf[0] = (struct pollfd){ h->lst, POLLIN, 0 };
		pf[1] = (struct pollfd){ h->life, POLLIN, 0 };
		nc = h->nconn;
		for (i = 0; i < nc; i++)
			pf[2 + i] = (struct pollfd){ h->conn[i], POLLIN, 0 };
		if (poll(pf, (nfds_t)(2 + nc), -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (h->life >= 0 && pf[1].revents != 0)
			return; /* the process tree is gone */
		if (pf[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			return; /* no listener: nothing left to serve */
		/* Backwards: drop_conn moves the last entry into slot i. */
		for (i = nc - 1; i >= 0; i--) {
			n = pf[2 + i].revents;
			if (n == 0)
				continue;
			if ((n & POLLIN) == 0 || serve_one(h, h->conn[i]) != 0)
				drop_conn(h, i);
		}
		if (pf[0].revents & POLLIN)
			accept_one(h);
	}
}

/* --- setup ---------------------------------------------------------------- */

/* Touch, before the lock, what lazily opens files on first use
 * (the scanner's readers, libhdf5: dlopen()ed
 * here so that no library is mapped after the lock; a failure is
 * reported by the first HDF5 scan). */
static void
warm_up(struct helper *h)
{
	static const uint8_t pkl[] = { 0x80, 2, ']', '.' };
	struct mg_report *r = mg_report_new();
	char hex[65];
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		(void)!mg_pin_sha256_fd(fd, hex);
		close(fd);
	}
	if (r != NULL && h->policy != NULL)
		(void)!mg_scan_buffer(&h->opts, "warm-up.pkl", pkl, sizeof(pkl),
		                      r);
	mg_report_free(r);
	(void)mg_hdf5_load();
}

/*
 * Serve with one process per CPU (at most 4), all accepting on the same
 * listener: a first scan of a multi-GB checkpoint does not hold up the
 * small files other threads or DataLoader workers open meanwhile, and a
 * worker that crashes on a hostile file leaves the others serving.
 */
static long
worker_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	/* Why at least 2: with one worker, the first SHA-256 of a large
	 * checkpoint would hold up every other first open in the tree. */
	if (n < 2)
		n = 2;
	if (n > 4)
		n = 4;
	return n;
}

static void
worker_main(struct helper *h)
{
	struct sigaction sa;

	/* Why a fixed mmap threshold: glibc raises it to the size of the
	 * last large block freed, after which every large calloc of a scan
	 * (a reader's node table of a few MB for a 200-byte .npy) is served
	 * from the heap and cleared with memset -- that was most of a
	 * small file's round trip.  A fresh mapping is zero already and
	 * only the pages used are touched. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	/* SA_RESTART: the scan's pread/read carry on under the timer. */
	sa.sa_handler = watch_tick;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	if (lock_down(0, h->hash.cache.fd, h->perr, sizeof(h->perr)) != 0) {
		mg_policy_free(h->policy);
		h->policy = NULL; /* serve, but only to say why not */
	}
	serve(h);
	_exit(0);
}

static void
wake_up(int sig)
{
	(void)sig; /* only to interrupt the supervisor's poll */
}

/*
 * The supervisor: keeps worker_count() workers, replacing each one that
 * ends, until the lifeline closes.  Locked down too (its list adds only
 * fork, wait and what a new worker needs to lock itself); it never reads
 * a request.
 */
static void
supervise(struct helper *h)
{
	struct pollfd pf = { h->life, POLLIN, 0 };
	struct timespec nap = { 0, 10000000 }; /* why 10 ms: a file that
	                                           kills every worker must
	                                           not make us fork-bomb */
	struct sigaction sa;
	long n = worker_count(), i;
	pid_t pid;
	int st;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = wake_up; /* no SA_RESTART: poll returns */
	sigaction(SIGCHLD, &sa, NULL);
	if (lock_down(1, h->hash.cache.fd, h->perr, sizeof(h->perr)) != 0) {
		mg_policy_free(h->policy);
		h->policy = NULL;
	}
	for (i = 0; i < n; i++)
		if (fork() == 0)
			worker_main(h);
	for (;;) {
		if (poll(&pf, h->life >= 0 ? 1 : 0, 1000) > 0)
			return; /* the process tree is gone: so are we */
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			nanosleep(&nap, NULL);
			if (fork() == 0)
				worker_main(h);
		}
	}
}

/* Close [lo, hi]; close_range where the kernel has it (5.9+). */
static void
close_span(unsigned lo, unsigned hi)
{
	long max = sysconf(_SC_OPEN_MAX);
	unsigned fd;

	if (lo > hi || close_range(lo, hi, 0) == 0)
		return;
	/* Why 65536: a bound for the fallback loop, far above any real
	 * inherited descriptor table on kernels without close_range. */
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = lo; fd <= hi && fd < (unsigned)max; fd++)
		(void)close((int)fd);
}

/*
 * Why: posix_spawn hands us every descriptor of the program that was not
 * close-on-exec (sockets, pipes, lock files it inherited).  Kept here for
 * the tree's lifetime, a pipe the program closes never reaches EOF, a
 * socket never closes, a flock stays held -- and a hostile file that
 * subverted the scanner could read them.  Keep 0-2, the listener and the
 * lifeline only.
 */
static void
close_inherited(int a, int b)
{
	int t;

	if (a > b) {
		t = a;
		a = b;
		b = t;
	}
	if (a < 3) /* b alone is ours (or neither, when both are < 3) */
		a = b;
	if (a < 3) {
		close_span(3, ~0U);
		return;
	}
	close_span(3, (unsigned)a - 1);
	if (b > a)
		close_span((unsigned)a + 1, (unsigned)b - 1);
	close_span((unsigned)b + 1, ~0U);
}

static int
parse_args(int argc, char **argv, struct helper *h, const char **policy,
           int *secure)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--listen-fd=", 12) == 0)
			h->lst = (int)strtol(argv[i] + 12, NULL, 10);
		else if (strncmp(argv[i], "--lifeline-fd=", 14) == 0)
			h->life = (int)strtol(argv[i] + 14, NULL, 10);
		else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc)
			*policy = argv[++i];
		else if (strcmp(argv[i], "--secure") == 0)
			*secure = 1;
		else
			return -1;
	}
	return h->lst >= 0 ? 0 : -1;
}

/*
 * The helper's note sink: drop them.  Why: the preload that started this
 * helper loaded the same policy and reports its notes itself, once per
 * process, on the user's stderr and in the audit log, when it first
 * decides on a model (preload.c, mg_preload_report_notes).  The default
 * sink would log each ignored user setting a second time to syslog and
 * the policy's log_file, under the helper's pid (its stderr is
 * /dev/null).
 */
static void
drop_note(void *ctx, const struct mg_note *n)
{
	(void)ctx;
	(void)n;
}

int
mg_cmd_helper(int argc, char **argv)
{
	struct helper h = { .lst = -1, .life = -1 };
	const char *policy = NULL;
	int secure = 0;
	pid_t pid;

	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: modelgate helper --listen-fd=N [--lifeline-fd=N] "
		       "[--policy FILE] [--secure]\n"
		       "Internal: the scanning server libmodelgate.so starts."
		       "\n");
		return MG_EXIT_OK;
	}
	if (parse_args(argc, argv, &h, &policy, &secure) != 0) {
		mg_cli_error("helper: usage: modelgate helper --listen-fd=N "
		             "[--lifeline-fd=N] [--policy FILE] [--secure]");
		return MG_EXIT_USAGE;
	}
	close_inherited(h.lst, h.life);
	mg_helper_hash_env(&h.hash, secure); /* while the preload is our parent */
	pid = fork();
	if (pid < 0)
		return MG_EXIT_USAGE;
	if (pid > 0)
		_exit(0);
	setsid();
	/* Paths arrive absolute; do not keep the client's cwd busy. */
	(void)!chdir("/");
	mg_policy_set_note_sink(drop_note, NULL);
	if (mg_policy_load_effective(policy, secure, &h.policy, h.perr,
	                             sizeof(h.perr)) != MG_OK) {
		h.policy = NULL;
		snprintf(h.perr + strlen(h.perr), sizeof(h.perr) - strlen(h.perr),
		         "%sthe policy could not be loaded",
		         h.perr[0] ? ": " : "");
	} else {
		mg_scan_opts_default(&h.opts);
		h.opts.classifier = mg_policy_classifier(h.policy);
		mg_helper_hash_setup(&h.hash, h.policy);
	}
	warm_up(&h);
	/* Non-blocking accept: every worker wakes from poll() for one
	 * connection; the losers must get EAGAIN and go back to poll()
	 * (where they also see the lifeline close), not sleep in accept. */
	if (fcntl(h.lst, F_SETFL, fcntl(h.lst, F_GETFL) | O_NONBLOCK) != 0) {
		mg_policy_free(h.policy);
		h.policy = NULL;
		snprintf(h.perr, sizeof(h.perr), "the helper could not set up "
		         "its socket: %s", strerror(errno));
	}
	supervise(&h);
	_exit(0);
}
