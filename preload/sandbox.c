/*
 * sandbox.c - the "sandbox" action: a one-way seccomp no-network lock.
 *
 * Approach.  One seccomp filter, built with a static, hidden copy of
 * libseccomp and loaded with SECCOMP_FILTER_FLAG_TSYNC (every thread, at
 * once, or not at all) and SECCOMP_FILTER_FLAG_LOG (the kernel audit log
 * records each blocked attempt), after PR_SET_NO_NEW_PRIVS.  Default
 * action: allow.  What it fails with EACCES is listed in sandbox.h.
 *
 * Why a deny-list on top of "allow": the lock lands in the middle of
 * somebody's running training script; an allow-list of syscalls would break
 * whatever the script does next.  The goal is narrow and checkable: no new
 * network endpoint from this process tree.
 *
 * Arch: libseccomp emits "arch != x86_64 -> bad-arch action" and, for
 * x86_64, "nr >= X32_SYSCALL_BIT -> bad-arch action" (checked in
 * tests/unit/check_sandbox.c by running them).  The bad-arch action is the
 * same EACCES (or LOG in a dry run): an i386 socketcall() through int 0x80
 * never reaches the kernel's socket code.  EACCES rather than a kill,
 * because nothing in preload/ may end the host process.
 *
 * Visibility, and what was rejected: RET_TRAP + a SIGSYS handler would put
 * a signal handler in someone else's process (and die if they replace it);
 * RET_USER_NOTIF needs a live supervisor on every syscall that matches and
 * fails (ENOSYS) when it goes away; RET_LOG cannot also fail the call.
 * FLAG_LOG + RET_ERRNO makes the kernel write one audit record (type=1326,
 * with pid, exe, syscall number) per blocked call, to auditd when it runs
 * and to the kernel log (dmesg) when it does not, provided "errno" is in
 * /proc/sys/kernel/seccomp/actions_logged (the kernel default).
 *
 * Locking: a tiny owner-pid spin lock rather than a pthread mutex, because
 * a mutex held by a thread when another thread forks stays held forever in
 * the child; an owner pid different from ours means exactly that, and the
 * child takes it over.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <sched.h>
#include <seccomp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "landlock.h"
#include "sandbox.h"

static _Atomic int sandbox_locked;    /* 1 once every layer is in place */
static _Atomic int seccomp_loaded;    /* 1 once the filter is loaded: never
                                         stack a second one on a retry */
static _Atomic pid_t sandbox_owner;   /* pid inside mg_sandbox_lock, or 0 */

/* Syscalls failed outright (no argument test). */
static const int blocked_always[] = {
	/* io_uring can create sockets (IORING_OP_SOCKET) and connect them
	 * without passing through this filter's socket() test. */
	SCMP_SYS(io_uring_setup), SCMP_SYS(io_uring_enter),
	SCMP_SYS(io_uring_register),
	/* Borrowing the network of a neighbouring process of the same user:
	 * injecting syscalls into it, writing its memory, stealing its socket
	 * fds.  Writes to /proc/PID/mem are not covered (README says so). */
	SCMP_SYS(ptrace), SCMP_SYS(process_vm_writev), SCMP_SYS(pidfd_getfd),
};

static void
owner_acquire(void)
{
	const struct timespec ms = { 0, 1000000 };
	pid_t me = getpid(), cur;

	for (;;) {
		cur = 0;
		if (atomic_compare_exchange_strong(&sandbox_owner, &cur, me))
			return;
		/* Held by a parent that forked us mid-install: its thread
		 * does not exist here, take the lock over. */
		if (cur != me &&
		    atomic_compare_exchange_strong(&sandbox_owner, &cur, me))
			return;
		nanosleep(&ms, NULL);
	}
}

static void
owner_release(void)
{
	atomic_store(&sandbox_owner, 0);
}

/* Add the rules of @conf to @ctx, each failing with @act. */
static int
seccomp_rules(scmp_filter_ctx ctx, const struct mg_sandbox_conf *conf,
    uint32_t act)
{
	size_t i;
	int rc;

	/* Low 32 bits only: the kernel reads the family as an int, so a rule
	 * on the full 64-bit register would be bypassed by high bits; and
	 * "!= AF_UNIX" (not "== AF_INET") so no family is forgotten. */
	rc = seccomp_rule_add(ctx, act, SCMP_SYS(socket), 1,
	    SCMP_A0_32(SCMP_CMP_NE, AF_UNIX));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, act, SCMP_SYS(socketpair), 1,
		    SCMP_A0_32(SCMP_CMP_NE, AF_UNIX));
	for (i = 0; rc == 0 && i < sizeof blocked_always /
	    sizeof blocked_always[0]; i++)
		rc = seccomp_rule_add(ctx, act, blocked_always[i], 0);
	if (rc == 0 && conf->deny_exec)
		rc = seccomp_rule_add(ctx, act, SCMP_SYS(execve), 0);
	if (rc == 0 && conf->deny_exec)
		rc = seccomp_rule_add(ctx, act, SCMP_SYS(execveat), 0);
	return rc;
}

/* Build and load the filter on every thread.  0 or a negative errno. */
static int
seccomp_install(const struct mg_sandbox_conf *conf, char *why, size_t whylen)
{
	uint32_t act = conf->dry_run ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(EACCES);
	scmp_filter_ctx ctx;
	int rc;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL) {
		snprintf(why, whylen, "cannot build the seccomp filter "
		    "(out of memory or no seccomp support)");
		return -ENOMEM;
	}
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, act);
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
	if (rc == 0)
		rc = seccomp_rules(ctx, conf, act);
	if (rc != 0) {
		snprintf(why, whylen, "cannot build the seccomp filter: %s",
		    strerror(-rc));
		goto out;
	}
	rc = seccomp_load(ctx);
	if (rc == -ESRCH)
		snprintf(why, whylen, "cannot lock every thread: one runs "
		    "its own seccomp filter");
	else if (rc != 0)
		snprintf(why, whylen, "cannot load the seccomp filter: %s",
		    strerror(-rc));
out:
	seccomp_release(ctx);
	return rc;
}

/* The steps of mg_sandbox_lock, under the owner lock. */
static int
sandbox_install(const struct mg_sandbox_conf *conf, char *why, size_t whylen)
{
	int rs = -1, rc = 0;

	/* Landlock first: building the ruleset can fail without leaving
	 * anything applied.  Landlock has no "log only" mode, and a dry run
	 * must never deny, so a dry run leaves Landlock out entirely. */
	if (!conf->dry_run && conf->readonly_paths != NULL &&
	    conf->readonly_paths[0] != NULL) {
		rs = mg_landlock_prepare(conf->readonly_paths, why, whylen);
		if (rs < 0)
			return rs;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot set no_new_privs: %s",
		    strerror(errno));
		goto out;
	}
	if (!atomic_load(&seccomp_loaded)) {
		rc = seccomp_install(conf, why, whylen);
		if (rc != 0)
			goto out;
		atomic_store(&seccomp_loaded, 1);
	}
	if (rs >= 0) {
		rc = mg_landlock_apply(rs, why, whylen);
		rs = -1;        /* mg_landlock_apply closed it */
		if (rc != 0)
			goto out;
	}
	atomic_store(&sandbox_locked, 1);
out:
	if (rs >= 0)
		close(rs);
	return rc;
}

int
mg_sandbox_lock(const struct mg_sandbox_conf *conf, char *why, size_t whylen)
{
	static const struct mg_sandbox_conf none = { 0, 0, NULL };
	int rc = 0;

	if (whylen > 0)
		why[0] = '\0';
	if (conf == NULL)
		conf = &none;
	owner_acquire();
	if (!atomic_load(&sandbox_locked))
		rc = sandbox_install(conf, why, whylen);
	owner_release();
	return rc;
}

int
mg_sandbox_active(void)
{
	return atomic_load(&sandbox_locked);
}

/*
 * 1 if the kernel will log RET_ERRNO (or RET_LOG in a dry run) actions of
 * a filter loaded with FLAG_LOG, 0 if an administrator removed it from
 * actions_logged, -1 if that cannot be read (pre-4.14 kernel: no logging).
 * Raw syscalls: this runs inside the interposed open.
 */
static int
kernel_logs(int dry_run)
{
	char buf[256];
	const char *want = dry_run ? "log" : "errno", *p;
	ssize_t n;
	int fd;

	fd = (int)syscall(SYS_openat, AT_FDCWD,
	    "/proc/sys/kernel/seccomp/actions_logged", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (p = strstr(buf, want); p != NULL; p = strstr(p + 1, want)) {
		size_t l = strlen(want);
		/* A whole word: "log" must not match inside "errno log". */
		if ((p == buf || p[-1] == ' ') &&
		    (p[l] == ' ' || p[l] == '\n' || p[l] == '\0'))
			return 1;
	}
	return 0;
}

int
mg_sandbox_describe(const struct mg_sandbox_conf *conf, char *buf, size_t len)
{
	static const struct mg_sandbox_conf none = { 0, 0, NULL };
	int logs, ro;

	if (conf == NULL)
		conf = &none;
	logs = kernel_logs(conf->dry_run);
	ro = conf->readonly_paths != NULL && conf->readonly_paths[0] != NULL;
	return snprintf(buf, len, "%sno-network lock: non-AF_UNIX sockets, "
	    "io_uring, ptrace%s %s EACCES%s; blocked attempts %s",
	    conf->dry_run ? "dry run of the " : "",
	    conf->deny_exec ? ", exec" : "",
	    conf->dry_run ? "would fail with" : "fail with",
	    ro && !conf->dry_run ? "; Landlock read-only paths" : "",
	    logs > 0 ? "go to the kernel audit log (type=1326 SECCOMP)" :
	    logs == 0 ? "are NOT logged (kernel.seccomp.actions_logged "
	    "lacks them)" : "cannot be logged by this kernel");
}
