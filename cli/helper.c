/*
 * helper.c - `modelgate helper`: the scanning server the preload starts.
 *
 * Started by libmodelgate.so (preload/client.c) with a listening
 * SOCK_SEQPACKET socket on fd 3 and the read end of a lifeline pipe on
 * fd 4.  It daemonises (the first process exits at once, so the program
 * that started it never has to reap or wait for it), loads the policy the
 * preload named, forks one worker per CPU (at most 4), each of which locks
 * itself under a seccomp allow-list and serves one request per connection
 * until the lifeline reads EOF (every process of the tree that started it
 * has exited or exec'd).
 *
 * Why it is safe to parse hostile files here: after setup the process
 * can only read files it is handed (or opens read-only), map memory,
 * append to the hash cache it opened before (helper_hash.c) and answer on
 * sockets it already has; it cannot create sockets, write other files,
 * exec, or signal anyone.  A syscall outside the list fails with EPERM,
 * which makes the scan an error and the open a deny (fail closed).
 *
 * Clients are served only when SO_PEERCRED says they run as our uid.
 * Protocol: preload/proto.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
	/* the per-request watchdog (serve_one) */
	SCMP_SYS(alarm),
	/* the end, and signals' plumbing */
	SCMP_SYS(clock_gettime), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(restart_syscall), SCMP_SYS(exit), SCMP_SYS(exit_group),
};

static int
lock_down(int cache_fd, char *why, size_t whylen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int rc = -1;
	size_t i;

	if (ctx == NULL)
		goto out;
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0) != 0)
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

/* Receive one request: the path into @path, the fd into *@fd. */
static int
receive(int c, char *path, int *fd)
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
	n = recvmsg(c, &msg, MSG_CMSG_CLOEXEC);
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
	if (req.magic != MG_PROTO_MAGIC ||
	    (size_t)n != sizeof(req) + req.pathlen)
		return -1;
	memcpy(path, buf + sizeof(req), req.pathlen);
	path[req.pathlen] = '\0';
	return 0;
}

/*
 * Why a watchdog: a scanner bug that loops on some hostile file would pin
 * this worker's CPU for ever (the lifeline is only checked between
 * requests).  SIGALRM's default action ends the worker; the client, which
 * gives up after 120 s and denies, has long stopped waiting by then, and
 * the other workers (or a restarted helper) serve what comes next.  The
 * limit is generous because hashing and scanning a very large checkpoint
 * legitimately takes tens of seconds.
 */
#define MG_HELPER_SCAN_LIMIT_S 300

/* --- memory: keep a long-lived worker's heap flat ------------------------ */

/* A request that took longer than this is followed by a heap trim. */
#define MG_HELPER_TRIM_NS 2000000L /* 2 ms */

/*
 * Call after each request with the time it started.  Why: glibc keeps
 * freed heap memory resident -- a free hole below a chunk still in use is
 * never returned, and after a large buffer is freed glibc raises its mmap
 * threshold, so later large buffers come from the heap and stay there.
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
static void
trim_heap_after(const struct timespec *t0)
{
	struct timespec t1;

	if (clock_gettime(CLOCK_MONOTONIC, &t1) == 0 &&
	    (t1.tv_sec - t0->tv_sec) * 1000000000L + (t1.tv_nsec - t0->tv_nsec) >=
	    MG_HELPER_TRIM_NS)
		(void)malloc_trim(0);
}

static void
serve_one(struct helper *h, int c)
{
	static char path[MG_PROTO_PATH_MAX + 1];
	struct timeval tv = { 5, 0 }; /* a client has 5 s to send its
	                                  request; it is waiting for us */
	struct timespec t0 = { 0, 0 };
	struct mg_proto_rep rep;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd = -1;

	memset(&rep, 0, sizeof(rep));
	rep.magic = MG_PROTO_MAGIC;
	rep.status = MG_PROTO_FAILED;
	rep.verdict = MG_VERDICT_ERROR;
	rep.action = MG_ACTION_DENY;
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
	    cred.uid != geteuid())
		goto out; /* not ours: no answer at all */
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (receive(c, path, &fd) != 0)
		snprintf(rep.reason, sizeof(rep.reason), "malformed request");
	else if (h->policy == NULL)
		snprintf(rep.reason, sizeof(rep.reason), "%s", h->perr);
	else {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		alarm(MG_HELPER_SCAN_LIMIT_S);
		decide(h, fd, path, &rep);
		alarm(0);
	}
	(void)!send(c, &rep, sizeof(rep), MSG_NOSIGNAL);
	if (t0.tv_sec != 0 || t0.tv_nsec != 0)
		trim_heap_after(&t0); /* after the reply: the client goes on */
out:
	if (fd >= 0)
		close(fd);
	close(c);
}

static void
serve(struct helper *h)
{
	struct pollfd pf[2] = { { h->lst, POLLIN, 0 }, { h->life, POLLIN, 0 } };
	int c;

	for (;;) {
		if (poll(pf, h->life >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (h->life >= 0 && pf[1].revents != 0)
			return; /* the process tree is gone */
		if (pf[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			return; /* no listener: nothing left to serve */
		if ((pf[0].revents & POLLIN) == 0)
			continue;
		c = accept4(h->lst, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0)
			serve_one(h, c);
	}
}

/* --- setup ---------------------------------------------------------------- */

/* Touch, before the lock, what lazily opens files on first use
 * (OpenSSL's configuration, the scanner's readers). */
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
}

/*
 * Serve with one process per CPU (at most 4), all accepting on the same
 * listener: a first scan of a multi-GB checkpoint does not hold up the
 * small files other threads or DataLoader workers open meanwhile, and a
 * worker that crashes on a hostile file leaves the others serving.  Forked
 * before the lock: each worker locks itself down.
 */
static void
start_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	long i;

	/* Why at least 2: with one worker, the first SHA-256 of a large
	 * checkpoint would hold up every other first open in the tree. */
	if (n < 2)
		n = 2;
	if (n > 4)
		n = 4;
	for (i = 1; i < n; i++)
		if (fork() == 0)
			return;
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
	start_workers();
	if (lock_down(h.hash.cache.fd, h.perr, sizeof(h.perr)) != 0) {
		mg_policy_free(h.policy);
		h.policy = NULL; /* serve, but only to say why not */
	}
	serve(&h);
	_exit(0);
}
