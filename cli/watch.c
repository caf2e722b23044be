/*
 * watch.c - `modelgate watch`: system-wide enforcement with fanotify.
 *
 * The preload sees the opens that go through libc's exported functions.
 * A static binary, a raw syscall(SYS_openat), openat2 or io_uring does
 * not.  The kernel does: with a fanotify permission mark (FAN_OPEN_PERM)
 * on a filesystem, every open of a file on it waits until a listener
 * answers FAN_ALLOW or FAN_DENY (the opener then gets EPERM).  This
 * daemon is that listener, for the filesystems (or mounts) it is given.
 *
 * For each open: the daemon's own are allowed at once (it never opens a
 * watched file itself after set-up: that open would wait for its own
 * answer); a file that is not a model candidate (the preload's test,
 * watch_scope.c) is allowed at once; so is a process out of scope (not
 * Python, by the policy's `processes` and the CPython runtime in it,
 * watch_scope.c) and the daemon's own helper.  A candidate opened in
 * scope is looked up in the verdict cache (dev, ino, size, mtime, ctime),
 * else handed, as the event's own fd, to the confined helper
 * (watch_scan.c), which decides with the policy exactly as for the
 * preload.  allow and audit: FAN_ALLOW; deny: FAN_DENY; sandbox:
 * FAN_DENY too (the daemon cannot confine another process; fail closed,
 * README).  No answer within --timeout, or no helper: FAN_DENY.
 *
 * The loop never waits on a scan: scans are pending entries polled with
 * the fanotify fd, so a non-model open is answered while a large model is
 * being scanned.  Every event's fd is closed once answered.
 *
 * Rejected: FAN_OPEN_EXEC_PERM (a model file is read, not executed; an
 * exec open also raises FAN_OPEN_PERM, which is the one we judge);
 * FAN_ACCESS_PERM (every read() of every file would wait on us, and a
 * scan at open time already saw the same bytes: the fd is the one the
 * opener reads).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "../policy/logline.h"
#include "cli.h"
#include "watch.h"

enum { MAX_PEND = 64,   /* why 64: scans at once; past 32 the kernel
                           queues events (openers wait), see run */
       READ_BATCH = 32,
       MAX_PATHS = 64,
       CACHE_SLOTS = 512 };

struct pend {
	int used;
	int evfd, conn;
	uint32_t seq;
	pid_t pid;
	long long t0, deadline; /* ms, CLOCK_MONOTONIC */
	struct stat st;
	char path[PATH_MAX];
	char exe[PATH_MAX];
};

struct centry {
	int used;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
	unsigned char verdict, action;
	char reason[MG_PROTO_REASON_MAX];
};

struct watch {
	const char *policy_path, *log_path;
	const char *paths[MAX_PATHS];
	int npaths, mount_marks, stop;
	long long timeout_ms;
	struct mg_policy *policy;
	int fan, sig, logfd, syslog;
	pid_t self;
	char exe[PATH_MAX];
	char policy_abs[PATH_MAX];
	uint32_t seq;
	struct mg_watch_helper helper;
	struct pend pend[MAX_PEND];
	int npend;
	struct centry cache[CACHE_SLOTS];
};

static struct watch W; /* big (pending paths, cache): not on the stack */

static long long
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* --- the log ---------------------------------------------------------------- */

/* @s as the audit log writes it; NULL or "" as null. */
static void
put_str(struct mg_logline *l, const char *s)
{
	mg_logline_str(l, s != NULL && *s != '\0' ? s : NULL);
}

/* One JSON line per decision on a candidate, the preload's fields
 * (audit.c) with "event":"fanotify" and the opener's pid, exe and uid
 * (the owner of /proc/PID: its effective uid, or root's for a process
 * that is not dumpable; the event carries no credentials).  With no
 * destination set up, denials and audits go to syslog. */
static void
log_decision(const struct pend *p, const char *verdict, const char *action,
             const char *reason, long scan_ms, const char *sha)
{
	static char buf[12288]; /* why: two escaped PATH_MAX paths and a
	                           reason; 12 KB: not on the stack */
	struct mg_logline l = { buf, sizeof(buf), 0, 0 };
	struct timespec ts;
	struct stat pst;
	char proc[32];
	struct tm tm;

	if (W.logfd < 0 && !W.syslog && strcmp(action, "deny") != 0 &&
	    strcmp(action, "audit") != 0)
		return;
	snprintf(proc, sizeof(proc), "/proc/%d", (int)p->pid);
	if (stat(proc, &pst) != 0)
		pst.st_uid = (uid_t)-1;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	mg_logline_put(&l, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"pid\":%d,"
	    "\"uid\":%u,\"exe\":", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000L, (int)p->pid, (unsigned)pst.st_uid);
	put_str(&l, p->exe);
	mg_logline_put(&l, ",\"event\":\"fanotify\",\"path\":");
	put_str(&l, p->path);
	mg_logline_put(&l, ",\"dev\":%llu,\"ino\":%llu,\"size\":%lld,\"sha256\":",
	    (unsigned long long)p->st.st_dev,
	    (unsigned long long)p->st.st_ino, (long long)p->st.st_size);
	put_str(&l, sha);
	mg_logline_put(&l, ",\"verdict\":\"%s\",\"action\":\"%s\",\"reason\":", verdict,
	    action);
	put_str(&l, reason);
	mg_logline_put(&l, ",\"scan_ms\":%ld}\n", scan_ms);
	if (l.bad)
		return;
	if (W.logfd >= 0)
		(void)!write(W.logfd, l.buf, l.n);
	if (W.syslog || W.logfd < 0)
		syslog(LOG_AUTHPRIV | LOG_NOTICE, "%.*s", (int)l.n - 1, l.buf);
}

/* --- answering ------------------------------------------------------------- */

/*
 * Why close before answering: the kernel finds the event by the number
 * it gave the fd (nothing reads events in between to reuse it), and the
 * opener, once answered, may unmount the filesystem at once; our copy of
 * the file must be gone by then, not a scheduling slice later.
 */
static void
respond(int evfd, int allow)
{
	struct fanotify_response r = { evfd, allow ? FAN_ALLOW : FAN_DENY };

	close(evfd);
	while (write(W.fan, &r, sizeof(r)) < 0 && errno == EINTR)
		;
}

/* Answer the candidate @p with the helper's (or the cache's) decision,
 * log it, and print the deny line.  Sandbox: denied (see the top). */
static void
finish(struct pend *p, int verdict, int action, const char *reason,
       long scan_ms, const char *sha)
{
	const char *vname = verdict < 0 ? "none" :
	                    mg_verdict_name((enum mg_verdict)verdict);
	char why[MG_PROTO_REASON_MAX + 128];
	int allow = action == MG_ACTION_ALLOW || action == MG_ACTION_AUDIT;

	if (action == MG_ACTION_SANDBOX)
		snprintf(why, sizeof(why), "%s; sandbox required, and the watch "
		         "daemon cannot sandbox another process", reason);
	else
		snprintf(why, sizeof(why), "%s", reason);
	respond(p->evfd, allow);
	log_decision(p, vname, allow ? mg_action_name(action) : "deny", why,
	             scan_ms, sha);
	if (!allow)
		fprintf(stderr, "modelgate: denied %s: %s (pid %d, %s)\n",
		        p->path, why, (int)p->pid, p->exe);
}

static struct centry *
cache_slot(const struct stat *st)
{
	return &W.cache[(st->st_ino * 31 + st->st_dev) % CACHE_SLOTS];
}

static int
cache_hit(const struct centry *c, const struct stat *st)
{
	return c->used && c->dev == st->st_dev && c->ino == st->st_ino &&
	       c->size == st->st_size &&
	       c->mtim.tv_sec == st->st_mtim.tv_sec &&
	       c->mtim.tv_nsec == st->st_mtim.tv_nsec &&
	       c->ctim.tv_sec == st->st_ctim.tv_sec &&
	       c->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

static void
cache_put(const struct stat *st, const struct mg_proto_rep *rep)
{
	struct centry *c = cache_slot(st);

	c->used = 1;
	c->dev = st->st_dev;
	c->ino = st->st_ino;
	c->size = st->st_size;
	c->mtim = st->st_mtim;
	c->ctim = st->st_ctim;
	c->verdict = rep->verdict;
	c->action = rep->action;
	snprintf(c->reason, sizeof(c->reason), "%s", rep->reason);
}

static void
drop_pend(struct pend *p)
{
	p->used = 0;
	W.npend--;
}

/* The helper's final reply for @p. */
static void
decided(struct pend *p, const struct mg_proto_rep *rep)
{
	long ms = (long)(now_ms() - p->t0);
	struct mg_proto_rep r = *rep;
	enum mg_action a;

	if (r.status == MG_PROTO_DECIDED) {
		/* As the preload does: our policy's action for the verdict,
		 * or the helper's when stricter (both load the same files). */
		if (r.verdict > MG_VERDICT_DANGEROUS)
			r.verdict = MG_VERDICT_ERROR;
		a = mg_policy_action(W.policy, (enum mg_verdict)r.verdict);
		if (r.action <= MG_ACTION_DENY && r.action > a)
			a = (enum mg_action)r.action;
		r.action = (uint8_t)a;
		cache_put(&p->st, &r);
		finish(p, r.verdict, r.action, r.reason, ms, r.sha256);
	} else {
		finish(p, -1, MG_ACTION_DENY, r.reason, ms, "");
	}
	mg_watch_helper_release(&W.helper, p->conn);
	drop_pend(p);
}

/* No answer: deny (fail closed), and drop the connection (the helper
 * worker sees it close and stops). */
static void
abandon(struct pend *p, const char *why)
{
	finish(p, -1, MG_ACTION_DENY, why, (long)(now_ms() - p->t0), "");
	if (p->conn >= 0)
		close(p->conn);
	drop_pend(p);
}

/* --- one event ------------------------------------------------------------- */

static struct pend *
free_pend(void)
{
	int i;

	for (i = 0; i < MAX_PEND; i++)
		if (!W.pend[i].used)
			return &W.pend[i];
	return NULL;
}

static void
fd_path(int fd, char *out, size_t cap)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, out, cap - 1);
	if (n < 0)
		n = snprintf(out, cap, "?");
	out[n] = '\0';
}

/*
 * The helper cannot be reached (every process of it gone: killed, or
 * crashed past its supervisor): start a new one.  Why at most once a
 * second: a helper that cannot start at all must cost each candidate a
 * deny, not a fork and exec.  Requests still pending on the old one see
 * their connections close, and are denied.
 */
static int
restart_helper(char *why, size_t whylen)
{
	static long long last;
	long long now = now_ms();

	if (last != 0 && now - last < 1000)
		return -1;
	last = now;
	mg_watch_helper_stop(&W.helper);
	if (mg_watch_helper_start(&W.helper, W.exe, W.policy_path, why,
	                          whylen) != 0)
		return -1;
	fprintf(stderr, "modelgate: watch: the helper was gone: started a "
	        "new one\n");
	return 0;
}

/* A candidate in scope: the cache, or the helper. */
static void
judge(struct pend *p)
{
	const struct centry *c = cache_slot(&p->st);
	char why[MG_PROTO_REASON_MAX];

	p->t0 = now_ms();
	if (cache_hit(c, &p->st)) {
		finish(p, c->verdict, c->action, c->reason, 0, "");
		return;
	}
	if (W.stop) {
		finish(p, -1, MG_ACTION_DENY, "the watch daemon is stopping "
		       "(fail closed)", 0, "");
		return;
	}
	p->seq = ++W.seq ? W.seq : ++W.seq; /* never 0 */
	p->conn = mg_watch_helper_send(&W.helper, p->evfd, p->path, p->seq,
	                               why, sizeof(why));
	if (p->conn < 0 && restart_helper(why, sizeof(why)) == 0)
		p->conn = mg_watch_helper_send(&W.helper, p->evfd, p->path,
		                               p->seq, why, sizeof(why));
	if (p->conn < 0) {
		finish(p, -1, MG_ACTION_DENY, why, 0, "");
		return;
	}
	p->deadline = p->t0 + W.timeout_ms;
	p->used = 1;
	W.npend++;
}

/*
 * A file the cache says is allowed (or audited) is let through before the
 * scope test: whoever opens it, the answer is the same, and the scope
 * test (the opener's maps) is the dear part of a re-open.  Like the
 * preload, a re-open the cache allows is not logged again.
 */
static int
cached_allow(const struct stat *st)
{
	const struct centry *c = cache_slot(st);

	return cache_hit(c, st) && (c->action == MG_ACTION_ALLOW ||
	                            c->action == MG_ACTION_AUDIT);
}

static void
on_event(const struct fanotify_event_metadata *md)
{
	static struct pend tmp; /* classified here, kept if judged */
	struct pend *p;
	int fd = md->fd;

	if (fd < 0)
		return; /* FAN_Q_OVERFLOW: no fd, nothing to answer */
	if (!(md->mask & FAN_OPEN_PERM)) {
		close(fd);
		return;
	}
	/* Ours, unreadable (nothing to judge), or not a candidate: at once. */
	if (md->pid == W.self || fstat(fd, &tmp.st) != 0) {
		respond(fd, 1);
		return;
	}
	fd_path(fd, tmp.path, sizeof(tmp.path));
	if (!mg_watch_candidate(W.policy, fd, tmp.path, &tmp.st) ||
	    cached_allow(&tmp.st) || mg_watch_is_ours(md->pid) ||
	    !mg_watch_in_scope(W.policy, md->pid, tmp.exe, sizeof(tmp.exe))) {
		respond(fd, 1);
		return;
	}
	tmp.evfd = fd;
	tmp.conn = -1;
	tmp.pid = md->pid;
	p = free_pend();
	if (p == NULL) { /* read_events keeps room: should not happen */
		finish(&tmp, -1, MG_ACTION_DENY, "too many scans at once "
		       "(fail closed)", 0, "");
		return;
	}
	*p = tmp;
	judge(p);
}

/* Read and answer what the kernel has queued; 0, or -1 on a read error
 * that ends the daemon. */
static int
read_events(void)
{
	/* Why 32 events: the loop reads only while that many pending
	 * entries are free (run), so every candidate read finds one. */
	char buf[READ_BATCH * sizeof(struct fanotify_event_metadata)]
	    __attribute__((aligned(8)));
	const struct fanotify_event_metadata *md;
	ssize_t n;

	n = read(W.fan, buf, sizeof(buf));
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	for (md = (const void *)buf; FAN_EVENT_OK(md, n);
	     md = FAN_EVENT_NEXT(md, n)) {
		if (md->vers != FANOTIFY_METADATA_VERSION) {
			mg_cli_error("watch: fanotify metadata version %u, "
			             "expected %u", md->vers,
			             FANOTIFY_METADATA_VERSION);
			return -1;
		}
		on_event(md);
	}
	return 0;
}

/* --- the loop ---------------------------------------------------------------- */

/* The helper's messages on @p's connection. */
static void
on_reply(struct pend *p)
{
	struct mg_proto_rep rep;
	int rc;

	while ((rc = mg_watch_helper_read(p->conn, p->seq, &rep)) == 0)
		; /* progress: the helper is at work */
	if (rc == -2)
		return; /* nothing more for now */
	if (rc > 0)
		decided(p, &rep);
	else
		abandon(p, "the helper died or answered garbage (fail closed)");
}

static void
expire(void)
{
	long long now = now_ms();
	char why[128];
	int i;

	for (i = 0; i < MAX_PEND; i++)
		if (W.pend[i].used && W.pend[i].deadline <= now) {
			snprintf(why, sizeof(why), "the scan did not finish "
			         "within %lld ms (fail closed)", W.timeout_ms);
			abandon(&W.pend[i], why);
		}
}

static int
next_timeout(void)
{
	long long soon = -1, now = now_ms();
	int i;

	for (i = 0; i < MAX_PEND; i++)
		if (W.pend[i].used &&
		    (soon < 0 || W.pend[i].deadline < soon))
			soon = W.pend[i].deadline;
	if (soon < 0)
		return -1;
	return soon <= now ? 0 : (int)(soon - now);
}

static void
on_signal(void)
{
	struct signalfd_siginfo si;

	while (read(W.sig, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			while (waitpid(-1, NULL, WNOHANG) > 0)
				; /* the helper's starter, or a helper gone */
		else
			W.stop = 1;
	}
}

static int
run(void)
{
	struct pollfd pf[2 + MAX_PEND];
	int idx[MAX_PEND], i, n, k;

	while (!W.stop) {
		pf[0] = (struct pollfd){ W.sig, POLLIN, 0 };
		/* fd -1: poll skips it; the kernel keeps the events */
		pf[1] = (struct pollfd){ MAX_PEND - W.npend >= READ_BATCH ?
		                         W.fan : -1, POLLIN, 0 };
		for (n = 0, i = 0; i < MAX_PEND; i++)
			if (W.pend[i].used) {
				idx[n] = i;
				pf[2 + n++] = (struct pollfd){ W.pend[i].conn,
				                               POLLIN, 0 };
			}
		k = poll(pf, (nfds_t)(2 + n), next_timeout());
		if (k < 0 && errno != EINTR)
			return -1;
		if (k > 0 && pf[0].revents)
			on_signal();
		for (i = 0; k > 0 && i < n; i++)
			if (pf[2 + i].revents && W.pend[idx[i]].used)
				on_reply(&W.pend[idx[i]]);
		if (k > 0 && pf[1].revents && read_events() != 0)
			return -1;
		expire();
	}
	return 0;
}

/* SIGTERM/SIGINT: every pending scan is denied (fail closed), every
 * queued event answered by the same rules (candidates in scope denied:
 * no scan is started any more), then the group is closed (the kernel
 * allows whatever arrives after that). */
static void
shut_down(void)
{
	int i;

	for (i = 0; i < MAX_PEND; i++)
		if (W.pend[i].used)
			abandon(&W.pend[i], "the watch daemon stopped before "
			        "the scan finished (fail closed)");
	while (read_events() == 0) {
		struct pollfd pf = { W.fan, POLLIN, 0 };

		if (poll(&pf, 1, 0) <= 0)
			break;
	}
	close(W.fan);
	mg_watch_helper_stop(&W.helper);
	fprintf(stderr, "modelgate: watch: stopped\n");
}

/* --- set-up ---------------------------------------------------------------- */

static int
mark_all(void)
{
	unsigned kind = W.mount_marks ? FAN_MARK_MOUNT : FAN_MARK_FILESYSTEM;
	int i;

	for (i = 0; i < W.npaths; i++)
		if (fanotify_mark(W.fan, FAN_MARK_ADD | kind, FAN_OPEN_PERM,
		                  AT_FDCWD, W.paths[i]) != 0) {
			mg_cli_error("watch: cannot watch %s: %s%s", W.paths[i],
			             strerror(errno), errno == EINVAL ?
			             " (a kernel without "
			             "CONFIG_FANOTIFY_ACCESS_PERMISSIONS, or a "
			             "filesystem that does not support this mark)"
			             : "");
			return -1;
		}
	return 0;
}

/*
 * syslog() stamps its lines in local time, and glibc reads the time
 * zone (/etc/localtime) on the first such call.  After the marks, that
 * open could be on a watched filesystem, and would wait for this very
 * process's answer for ever (test_watch puts the file there).  So the
 * zone is read now; glibc keeps it (TZ is not changed later).
 */
static void
warm_time_zone(void)
{
	time_t t = time(NULL);
	struct tm tm;

	tzset();
	(void)localtime_r(&t, &tm);
}

/* Before any mark: every file the daemon itself needs is opened now. */
static int
set_up(void)
{
	char err[512] = "";
	sigset_t set;
	const char *lf;
	ssize_t n;

	/* absolute: the helper loads it after chdir("/") */
	if (W.policy_path != NULL &&
	    realpath(W.policy_path, W.policy_abs) != NULL)
		W.policy_path = W.policy_abs;
	if (mg_policy_load_effective(W.policy_path, 0, &W.policy, err,
	                             sizeof(err)) != MG_OK) {
		mg_cli_error("watch: %s", err[0] ? err : "cannot load the policy");
		return -1;
	}
	lf = W.log_path ? W.log_path : mg_policy_log_file(W.policy);
	W.logfd = lf == NULL ? -1 : open(lf, O_WRONLY | O_APPEND | O_CREAT |
	                                 O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lf != NULL && W.logfd < 0) {
		mg_cli_error("watch: cannot open the log %s: %s", lf,
		             strerror(errno));
		return -1;
	}
	W.syslog = mg_policy_log_syslog(W.policy) || mg_policy_locked(W.policy);
	openlog("modelgate-watch", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
	warm_time_zone();
	n = readlink("/proc/self/exe", W.exe, sizeof(W.exe) - 1);
	if (n < 0) {
		mg_cli_error("watch: cannot find its own binary: %s",
		             strerror(errno));
		return -1;
	}
	W.exe[n] = '\0';
	W.self = getpid();
	/* the helper daemonises: keep it our child (mg_watch_is_ours) */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	W.sig = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (W.sig < 0 || mg_watch_helper_start(&W.helper, W.exe, W.policy_path,
	                                       err, sizeof(err)) != 0) {
		mg_cli_error("watch: %s", W.sig < 0 ? strerror(errno) : err);
		return -1;
	}
	return 0;
}

static int
open_group(void)
{
	W.fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK,
	                      O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (W.fan >= 0)
		return 0;
	mg_cli_error("watch: fanotify is not available: %s%s", strerror(errno),
	             errno == EPERM ? " (needs root: CAP_SYS_ADMIN)" :
	             errno == ENOSYS ? " (a kernel without CONFIG_FANOTIFY)" :
	             errno == EINVAL ? " (a kernel without "
	             "CONFIG_FANOTIFY_ACCESS_PERMISSIONS)" : "");
	return -1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: modelgate watch [--policy FILE] [--timeout MS] [--log FILE]\n"
	    "                       [--mount] PATH...\n"
	    "Root daemon: every open of a model file on the filesystems holding\n"
	    "PATH... by a Python process (its name matches the policy's\n"
	    "'processes', or the CPython runtime is in it; 'processes = *': every\n"
	    "process) waits for a scan; denied files fail to open with EPERM.\n"
	    "Covers what the preload cannot see: raw system calls, static\n"
	    "binaries, io_uring.  Runs in the foreground until SIGTERM/SIGINT.\n"
	    "  --policy FILE  layered on the system policy, as for the preload\n"
	    "  --timeout MS   longest scan of one file; past it the open is\n"
	    "                 denied (default 60000)\n"
	    "  --log FILE     JSON decision log (default: the policy's log_file,\n"
	    "                 else denials and audits go to syslog)\n"
	    "  --mount        mark only the mount at each PATH, not its whole\n"
	    "                 filesystem (other mounts of it, bind mounts\n"
	    "                 included, are then not watched)\n"
	    "A sandbox verdict is denied (another process cannot be sandboxed).\n"
	    "exit status: 0 stopped by a signal, 2 usage or set-up error\n");
}

static int
parse(int argc, char **argv)
{
	char *end;
	int i;

	W.timeout_ms = 60000;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc)
			W.policy_path = argv[++i];
		else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc)
			W.log_path = argv[++i];
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			W.timeout_ms = strtoll(argv[++i], &end, 10);
			if (*end != '\0' || W.timeout_ms < 1 ||
			    W.timeout_ms > 3600000) {
				mg_cli_error("watch: --timeout: '%s' is not a "
				             "number of milliseconds from 1 to "
				             "3600000", argv[i]);
				return -1;
			}
		} else if (strcmp(argv[i], "--mount") == 0)
			W.mount_marks = 1;
		else if (argv[i][0] == '-') {
			mg_cli_error("watch: unknown option '%s' (try "
			             "'modelgate watch --help')", argv[i]);
			return -1;
		} else if (W.npaths < MAX_PATHS)
			W.paths[W.npaths++] = argv[i];
	}
	if (W.npaths == 0) {
		mg_cli_error("watch: no PATH to watch (try 'modelgate watch "
		             "--help')");
		return -1;
	}
	return 0;
}

int
mg_cmd_watch(int argc, char **argv)
{
	int i;

	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return MG_EXIT_OK;
	}
	W.fan = W.sig = W.logfd = -1;
	if (parse(argc, argv) != 0)
		return MG_EXIT_USAGE;
	if (geteuid() != 0) {
		mg_cli_error("watch: must run as root (fanotify permission "
		             "events need CAP_SYS_ADMIN)");
		return MG_EXIT_USAGE;
	}
	if (open_group() != 0 || set_up() != 0 || mark_all() != 0)
		return MG_EXIT_USAGE;
	fprintf(stderr, "modelgate: watch: watching");
	for (i = 0; i < W.npaths; i++)
		fprintf(stderr, " %s", W.paths[i]);
	fprintf(stderr, " (%s)\n", W.mount_marks ? "mounts" : "filesystems");
	if (run() != 0)
		mg_cli_error("watch: reading events: %s", strerror(errno));
	shut_down();
	mg_policy_free(W.policy);
	return MG_EXIT_OK;
}
