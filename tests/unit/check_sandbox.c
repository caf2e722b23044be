/*
 * check_sandbox.c - the no-network lock (preload/sandbox.c) really holds.
 *
 * The lock is one-way and covers the whole process, so every test forks a
 * child, locks the child, probes it and reports through its exit status
 * (CHILD_CHECK prints the failed condition and the line).  The test
 * process itself is never locked, whether Check forks (CK_FORK=yes) or not
 * (the ASan build).  Where a probe could pass for a wrong reason, the same
 * probe is first run unlocked to show that it succeeds there.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "../../preload/sandbox.h"

#define CHILD_CHECK(c) do { if (!(c)) { fprintf(stderr, \
	"check_sandbox:%d: %s failed (errno %d)\n", __LINE__, #c, errno); \
	_exit(1); } } while (0)

static struct mg_sandbox_conf conf;

/* Every test starts with all options off. */
static void
reset(void)
{
	memset(&conf, 0, sizeof conf);
}

/* Run @fn in a child; it returns normally on success. */
static void
in_child(void (*fn)(void))
{
	int st = -1;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "child failed (status 0x%x); see its message above", st);
}

static void
lock(void)
{
	char why[256];
	int rc = mg_sandbox_lock(&conf, why, sizeof why);

	if (rc != 0)
		fprintf(stderr, "mg_sandbox_lock: %d %s\n", rc, why);
	CHILD_CHECK(rc == 0);
	CHILD_CHECK(mg_sandbox_active() == 1);
}

/* errno of socket(@family) (0 if it succeeded). */
static int
socket_errno(long family)
{
	long fd = syscall(SYS_socket, family, SOCK_STREAM, 0);

	if (fd >= 0) {
		close((int)fd);
		return 0;
	}
	return errno;
}

/* A /proc/self/status field, or -1. */
static int
status_field(const char *name)
{
	char line[256];
	int v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, name, strlen(name)) == 0 &&
		    line[strlen(name)] == ':')
			v = atoi(line + strlen(name) + 1);
	fclose(f);
	return v;
}

/* ---- network ------------------------------------------------------------ */

static void
child_inet_refused(void)
{
	lock();
	CHILD_CHECK(socket_errno(AF_INET) == EACCES);
	CHILD_CHECK(socket_errno(AF_INET6) == EACCES);
	CHILD_CHECK(socket_errno(AF_NETLINK) == EACCES);
	CHILD_CHECK(socket_errno(AF_PACKET) == EACCES);
	CHILD_CHECK(socket_errno(AF_VSOCK) == EACCES);
}

START_TEST(test_sandbox_refuses_every_family_but_unix)
{
	ck_assert_int_eq(socket_errno(AF_INET), 0);
	in_child(child_inet_refused);
}
END_TEST

static void
child_unix_kept(void)
{
	int sv[2];
	char c = 0;

	lock();
	CHILD_CHECK(socket_errno(AF_UNIX) == 0);
	CHILD_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHILD_CHECK(write(sv[0], "x", 1) == 1 && read(sv[1], &c, 1) == 1);
	CHILD_CHECK(c == 'x');
	CHILD_CHECK(socketpair(AF_INET, SOCK_STREAM, 0, sv) == -1 &&
	    errno == EACCES);
}

START_TEST(test_sandbox_keeps_unix_sockets)
{
	in_child(child_unix_kept);
}
END_TEST

static void
child_high_bits(void)
{
	long fam = (1L << 32) | AF_INET;

	/* Unlocked, the kernel truncates the family to int: it works. */
	CHILD_CHECK(socket_errno(fam) == 0);
	lock();
	CHILD_CHECK(socket_errno(fam) == EACCES);
	CHILD_CHECK(socket_errno((1L << 32) | AF_INET6) == EACCES);
}

START_TEST(test_sandbox_compares_family_on_low_32_bits)
{
	in_child(child_high_bits);
}
END_TEST

static int listen_fd = -1, conn_fd = -1, idle_fd = -1;
static struct sockaddr_in listen_addr;

/* A loopback listener, a connected socket, and an unconnected one. */
static void
make_inet_sockets(void)
{
	socklen_t l = sizeof listen_addr;

	memset(&listen_addr, 0, sizeof listen_addr);
	listen_addr.sin_family = AF_INET;
	listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	CHILD_CHECK(listen_fd >= 0);
	CHILD_CHECK(bind(listen_fd, (struct sockaddr *)&listen_addr, l) == 0);
	CHILD_CHECK(getsockname(listen_fd, (struct sockaddr *)&listen_addr,
	    &l) == 0);
	CHILD_CHECK(listen(listen_fd, 4) == 0);
	conn_fd = socket(AF_INET, SOCK_STREAM, 0);
	idle_fd = socket(AF_INET, SOCK_STREAM, 0);
	CHILD_CHECK(conn_fd >= 0 && idle_fd >= 0);
	CHILD_CHECK(connect(conn_fd, (struct sockaddr *)&listen_addr,
	    sizeof listen_addr) == 0);
}

static void
child_existing_sockets(void)
{
	char c = 0;
	int a;

	make_inet_sockets();
	lock();
	/* Documented: what exists keeps working, including connect(). */
	a = accept(listen_fd, NULL, NULL);
	CHILD_CHECK(a >= 0);
	CHILD_CHECK(write(conn_fd, "y", 1) == 1 && read(a, &c, 1) == 1);
	CHILD_CHECK(c == 'y');
	CHILD_CHECK(connect(idle_fd, (struct sockaddr *)&listen_addr,
	    sizeof listen_addr) == 0);
	CHILD_CHECK(socket_errno(AF_INET) == EACCES);
}

START_TEST(test_sandbox_keeps_existing_sockets)
{
	in_child(child_existing_sockets);
}
END_TEST

static long
uring_setup(void)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof p);
	return syscall(__NR_io_uring_setup, 4, &p);
}

static void
child_io_uring(void)
{
	long fd = uring_setup();

	/* Unlocked it works here (kernel.io_uring_disabled = 0). */
	CHILD_CHECK(fd >= 0);
	lock();
	CHILD_CHECK(syscall(__NR_io_uring_enter, (int)fd, 0, 0, 0, NULL, 0)
	    == -1 && errno == EACCES);
	CHILD_CHECK(syscall(__NR_io_uring_register, (int)fd, 0, NULL, 0)
	    == -1 && errno == EACCES);
	CHILD_CHECK(uring_setup() == -1 && errno == EACCES);
}

START_TEST(test_sandbox_refuses_io_uring)
{
	in_child(child_io_uring);
}
END_TEST

/* ---- foreign ABIs -------------------------------------------------------- */

/* An i386 syscall through int 0x80 (args are 32-bit ints). */
static long
int80(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile ("int $0x80" : "=a"(ret)
	    : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

#define I386_SOCKET 359
#define I386_CLOSE 6
#define I386_GETPID 20

/*
 * 1 if this kernel runs i386 system calls at all (IA32 emulation).  Where it
 * does not (CONFIG_IA32_EMULATION off, or ia32_emulation=0 at boot) int $0x80
 * raises SIGSEGV before any filter could see it, so the live test cannot
 * run and the filter's arch rule is checked on its own instead.
 */
static int
kernel_runs_i386(void)
{
	int st = -1;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(int80(I386_GETPID, 0, 0, 0) == (long)getpid() ? 0 : 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void
child_i386(void)
{
	long fd = int80(I386_SOCKET, AF_INET, SOCK_STREAM, 0);

	/* Unlocked, this kernel runs i386 syscalls (IA32 emulation). */
	CHILD_CHECK(fd >= 0);
	int80(I386_CLOSE, fd, 0, 0);
	lock();
	CHILD_CHECK(int80(I386_SOCKET, AF_INET, SOCK_STREAM, 0) == -EACCES);
	/* Every foreign-arch call fails, not only the network ones. */
	CHILD_CHECK(int80(I386_GETPID, 0, 0, 0) == -EACCES);
}

/*
 * What the classic-BPF program @f[0..@n) returns for @d, the way the
 * kernel's seccomp runs it.  Only the instructions libseccomp emits are
 * modelled; any other fails the test (never a guess).
 */
static uint32_t
bpf_run(const struct sock_filter *f, size_t n, const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
	size_t pc = 0;

	while (pc < n) {
		const struct sock_filter *i = &f[pc++];

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			ck_assert_msg(i->k + 4 <= sizeof *d && i->k % 4 == 0,
			    "bpf: load at %u", i->k);
			memcpy(&a, (const char *)d + i->k, 4);
			break;
		case BPF_LD | BPF_MEM: a = mem[i->k % BPF_MEMWORDS]; break;
		case BPF_LDX | BPF_MEM: x = mem[i->k % BPF_MEMWORDS]; break;
		case BPF_ST: mem[i->k % BPF_MEMWORDS] = a; break;
		case BPF_STX: mem[i->k % BPF_MEMWORDS] = x; break;
		case BPF_ALU | BPF_AND | BPF_K: a &= i->k; break;
		case BPF_ALU | BPF_OR | BPF_K: a |= i->k; break;
		case BPF_MISC | BPF_TAX: x = a; break;
		case BPF_MISC | BPF_TXA: a = x; break;
		case BPF_JMP | BPF_JA: pc += i->k; break;
		case BPF_JMP | BPF_JEQ | BPF_K: pc += a == i->k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGT | BPF_K: pc += a > i->k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGE | BPF_K: pc += a >= i->k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JSET | BPF_K: pc += (a & i->k) ? i->jt : i->jf; break;
		case BPF_RET | BPF_K: return i->k;
		default:
			ck_abort_msg("bpf: instruction 0x%x not modelled", i->code);
		}
	}
	ck_abort_msg("bpf: program ran off its end");
	return 0;
}

/*
 * The arch rule of the filter a locked child really carries, read back
 * with PTRACE_SECCOMP_GET_FILTER and run on i386 and x86_64 inputs.  The
 * x86_64 inputs show the reading is right (socket(AF_INET) refused,
 * getpid allowed) before the i386 one is believed.  1 if checked, 0 if
 * this kernel or this process cannot read filters back (said on stderr).
 */
static int
check_arch_rule_by_reading_the_filter(void)
{
	struct sock_filter prog[4096];
	struct seccomp_data d;
	int st = -1;
	long n;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		CHILD_CHECK(ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0);
		lock();
		raise(SIGSTOP);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFSTOPPED(st), "child did not stop (status 0x%x)", st);
	n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)0, NULL);
	if (n > 0 && (size_t)n <= sizeof prog / sizeof prog[0])
		n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)0, prog);
	if (n <= 0)
		fprintf(stderr, "check_sandbox: NOT TESTED: i386 arch rule: "
		    "PTRACE_SECCOMP_GET_FILTER failed (%s); needs "
		    "CAP_SYS_ADMIN and CONFIG_CHECKPOINT_RESTORE\n",
		    strerror(errno));
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	if (n <= 0)
		return 0;
	memset(&d, 0, sizeof d);
	d.arch = AUDIT_ARCH_X86_64;
	d.nr = __NR_getpid;
	ck_assert_uint_eq(bpf_run(prog, (size_t)n, &d), SECCOMP_RET_ALLOW);
	d.nr = __NR_socket;
	d.args[0] = AF_INET;
	ck_assert_uint_eq(bpf_run(prog, (size_t)n, &d), SECCOMP_RET_ERRNO | EACCES);
	d.arch = AUDIT_ARCH_I386;
	d.nr = I386_GETPID;
	d.args[0] = 0;
	ck_assert_uint_eq(bpf_run(prog, (size_t)n, &d), SECCOMP_RET_ERRNO | EACCES);
	return 1;
}

START_TEST(test_sandbox_refuses_i386_syscalls)
{
	if (kernel_runs_i386()) {
		in_child(child_i386);
		return;
	}
	/* Said, not passed silently: the live property needs IA32 emulation. */
	fprintf(stderr, "check_sandbox: NOT TESTED: live i386 syscalls (this "
	    "kernel has no IA32 emulation: int $0x80 faults before any filter); "
	    "checking the filter's arch rule instead\n");
	(void)check_arch_rule_by_reading_the_filter();
}
END_TEST

/* The same arch rule, read back from the kernel, on every kernel. */
START_TEST(test_sandbox_filter_sends_foreign_arch_to_eacces)
{
	(void)check_arch_rule_by_reading_the_filter();
}
END_TEST

static void
child_x32(void)
{
	lock();
	/* EACCES, not ENOSYS: the filter saw it, whatever the kernel's x32
	 * support. */
	CHILD_CHECK(syscall(0x40000000L | __NR_socket, AF_INET, SOCK_STREAM,
	    0) == -1 && errno == EACCES);
}

START_TEST(test_sandbox_refuses_x32_syscalls)
{
	in_child(child_x32);
}
END_TEST

/* ---- scope: threads, children, idempotence -------------------------------- */

static pthread_barrier_t barrier;
static int thread_errno = -1;

static void *
early_thread(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&barrier);         /* started before the lock */
	pthread_barrier_wait(&barrier);         /* runs after it */
	thread_errno = socket_errno(AF_INET);
	return NULL;
}

static void
child_threads(void)
{
	pthread_t t;

	CHILD_CHECK(pthread_barrier_init(&barrier, NULL, 2) == 0);
	CHILD_CHECK(pthread_create(&t, NULL, early_thread, NULL) == 0);
	pthread_barrier_wait(&barrier);
	lock();
	pthread_barrier_wait(&barrier);
	CHILD_CHECK(pthread_join(t, NULL) == 0);
	CHILD_CHECK(thread_errno == EACCES);
}

START_TEST(test_sandbox_covers_threads_started_before)
{
	in_child(child_threads);
}
END_TEST

static void
child_children(void)
{
	int st = -1;
	pid_t pid;

	lock();
	pid = fork();
	CHILD_CHECK(pid >= 0);
	if (pid == 0)
		_exit(socket_errno(AF_INET) == EACCES && mg_sandbox_active()
		    ? 0 : 1);
	CHILD_CHECK(waitpid(pid, &st, 0) == pid);
	CHILD_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Across exec too: a fresh program that tries to connect out. */
	pid = fork();
	CHILD_CHECK(pid >= 0);
	if (pid == 0) {
		execl("/usr/bin/python3", "python3", "-c",
		    "import socket,sys\n"
		    "try:\n socket.socket(socket.AF_INET)\nexcept "
		    "PermissionError: sys.exit(0)\nsys.exit(3)\n", (char *)NULL);
		_exit(2);
	}
	CHILD_CHECK(waitpid(pid, &st, 0) == pid);
	CHILD_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

START_TEST(test_sandbox_is_inherited_by_children)
{
	in_child(child_children);
}
END_TEST

static void
child_idempotent(void)
{
	CHILD_CHECK(mg_sandbox_active() == 0);
	lock();
	lock();
	CHILD_CHECK(status_field("Seccomp") == 2);
	CHILD_CHECK(status_field("Seccomp_filters") == 1);
	CHILD_CHECK(status_field("NoNewPrivs") == 1);
}

START_TEST(test_sandbox_locks_once_with_no_new_privs)
{
	in_child(child_idempotent);
}
END_TEST

/* ---- options --------------------------------------------------------------- */

static int
run_true(void)
{
	int st = -1;
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(errno == EACCES ? 13 : 2);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
child_exec_default(void)
{
	lock();
	CHILD_CHECK(run_true() == 0);
}

static void
child_exec_denied(void)
{
	conf.deny_exec = 1;
	lock();
	CHILD_CHECK(run_true() == 13);
}

START_TEST(test_sandbox_denies_exec_only_when_asked)
{
	in_child(child_exec_default);
	in_child(child_exec_denied);
}
END_TEST

static void
child_dry_run(void)
{
	conf.dry_run = 1;
	conf.deny_exec = 1;
	lock();
	CHILD_CHECK(status_field("Seccomp") == 2);
	CHILD_CHECK(socket_errno(AF_INET) == 0);
	CHILD_CHECK(uring_setup() >= 0);
	CHILD_CHECK(run_true() == 0);
}

START_TEST(test_sandbox_dry_run_blocks_nothing)
{
	in_child(child_dry_run);
}
END_TEST

/*
 * 1 if the kernel log holds an audit SECCOMP record for @pid, syscall
 * @nr, action @code (polled: kauditd prints asynchronously).
 */
static int
kmsg_has_record(pid_t pid, int nr, const char *code)
{
	char rec[2048], pidk[32], nrk[32];
	int fd, tries;
	ssize_t n;

	snprintf(pidk, sizeof pidk, " pid=%d ", (int)pid);
	snprintf(nrk, sizeof nrk, " syscall=%d ", nr);
	for (tries = 0; tries < 20; tries++) {
		fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
		ck_assert_msg(fd >= 0, "cannot read /dev/kmsg: %s",
		    strerror(errno));
		while ((n = read(fd, rec, sizeof rec - 1)) > 0 || (n < 0 &&
		    errno == EPIPE)) {
			if (n <= 0)
				continue;       /* overwritten record */
			rec[n] = '\0';
			if (strstr(rec, "type=1326") && strstr(rec, pidk) &&
			    strstr(rec, nrk) && strstr(rec, code)) {
				close(fd);
				return 1;
			}
		}
		close(fd);
		usleep(50000);
	}
	return 0;
}

static pid_t
child_pid(void (*fn)(void))
{
	int st = -1;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed");
	return pid;
}

static void
child_one_attempt(void)
{
	lock();
	CHILD_CHECK(socket_errno(AF_INET6) == EACCES);
}

/*
 * Without auditd the kernel prints audit records through printk_ratelimit()
 * (10 per 5 s by default, README-sandbox.md says so), and other processes'
 * seccomp records may use up that budget: wait for a fresh window, and try
 * one more window before calling it a failure.
 */
START_TEST(test_sandbox_blocked_attempts_reach_kernel_log)
{
	pid_t blocked, dry;
	int try, ok = 0;

	for (try = 0; try < 2 && !ok; try++) {
		sleep(6);
		reset();
		blocked = child_pid(child_one_attempt);
		conf.dry_run = 1;
		dry = child_pid(child_dry_run);
		ok = kmsg_has_record(blocked, __NR_socket, "code=0x50000") &&
		    kmsg_has_record(dry, __NR_socket, "code=0x7ffc0000");
	}
	ck_assert_msg(ok, "no audit SECCOMP record for pid %d (errno) "
	    "or pid %d (dry-run log) socket()", (int)blocked, (int)dry);
}
END_TEST

START_TEST(test_sandbox_describe_names_the_lock)
{
	char buf[512];

	mg_sandbox_describe(NULL, buf, sizeof buf);
	ck_assert_ptr_nonnull(strstr(buf, "no-network lock"));
	ck_assert_ptr_null(strstr(buf, "exec"));
	ck_assert_ptr_nonnull(strstr(buf, "kernel audit log"));
	conf.deny_exec = 1;
	mg_sandbox_describe(&conf, buf, sizeof buf);
	ck_assert_ptr_nonnull(strstr(buf, "exec"));
	conf.dry_run = 1;
	mg_sandbox_describe(&conf, buf, sizeof buf);
	ck_assert_ptr_nonnull(strstr(buf, "dry run"));
	ck_assert_int_eq(mg_sandbox_describe(&conf, buf, 8) > 8, 1);
	ck_assert_int_eq(strlen(buf), 7);
}
END_TEST

/* ---- Landlock ----------------------------------------------------------- */

static char tmpdir[256], path_a[512], path_b[512];
static char *ro_list[3];

static void
mkfile(const char *dir, const char *name)
{
	char p[600];
	int fd;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "secret\n", 7), 7);
	close(fd);
}

/* tmpdir/{ro/key, rw/, top} with ro and missing/sub protected. */
static void
landlock_tree(void)
{
	char p[600];

	snprintf(tmpdir, sizeof tmpdir, "/tmp/check_sandbox.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(p, sizeof p, "%s/ro", tmpdir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	mkfile(p, "key");
	snprintf(p, sizeof p, "%s/rw", tmpdir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	mkfile(tmpdir, "top");
	snprintf(path_a, sizeof path_a, "%s/ro", tmpdir);
	snprintf(path_b, sizeof path_b, "%s/missing/sub", tmpdir);
	ro_list[0] = path_a;
	ro_list[1] = path_b;
	ro_list[2] = NULL;
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)f;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

/* Remove what landlock_tree() and the child made. */
static void
landlock_tree_rm(void)
{
	ck_assert_int_eq(nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static int
open_errno(const char *dir, const char *name, int flags)
{
	char p[1200];
	int fd;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	fd = open(p, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static void
child_landlock(void)
{
	char p[600], q[600], buf[8];
	int fd;

	conf.readonly_paths = ro_list;
	lock();
	CHILD_CHECK(open_errno(path_a, "key", O_WRONLY) == EACCES);
	CHILD_CHECK(open_errno(path_a, "key", O_RDONLY | O_TRUNC) == EACCES);
	CHILD_CHECK(open_errno(path_a, "new", O_WRONLY | O_CREAT) == EACCES);
	snprintf(p, sizeof p, "%s/key", path_a);
	CHILD_CHECK(unlink(p) == -1 && errno == EACCES);
	snprintf(q, sizeof q, "%s/rw/key", tmpdir);
	CHILD_CHECK(rename(p, q) == -1 && (errno == EACCES || errno == EXDEV));
	fd = open(p, O_RDONLY);
	CHILD_CHECK(fd >= 0 && read(fd, buf, 6) == 6);
	close(fd);
	CHILD_CHECK(memcmp(buf, "secret", 6) == 0);
	/* A protected path that does not exist yet cannot be made. */
	snprintf(p, sizeof p, "%s/missing", tmpdir);
	CHILD_CHECK(mkdir(p, 0755) == -1 && errno == EACCES);
	/* Elsewhere: writable; in the ancestor, existing files too. */
	snprintf(p, sizeof p, "%s/rw", tmpdir);
	CHILD_CHECK(open_errno(p, "new", O_WRONLY | O_CREAT) == 0);
	CHILD_CHECK(open_errno(tmpdir, "top", O_WRONLY | O_TRUNC) == 0);
	CHILD_CHECK(open_errno("/dev", "null", O_WRONLY) == 0);
	/* The documented price: no new entry directly in an ancestor. */
	CHILD_CHECK(open_errno(tmpdir, "new", O_WRONLY | O_CREAT) == EACCES);
	/* And still no network. */
	CHILD_CHECK(socket_errno(AF_INET) == EACCES);
}

START_TEST(test_sandbox_landlock_makes_paths_read_only)
{
	landlock_tree();
	in_child(child_landlock);
	landlock_tree_rm();
}
END_TEST

static void
child_landlock_home(void)
{
	static char *home_list[] = { "~/ro", NULL };

	CHILD_CHECK(setenv("HOME", tmpdir, 1) == 0);
	conf.readonly_paths = home_list;
	lock();
	CHILD_CHECK(open_errno(path_a, "key", O_WRONLY) == EACCES);
	CHILD_CHECK(open_errno(tmpdir, "top", O_WRONLY) == 0);
}

START_TEST(test_sandbox_landlock_expands_home)
{
	landlock_tree();
	in_child(child_landlock_home);
	landlock_tree_rm();
}
END_TEST

static void
child_landlock_dry_run(void)
{
	conf.readonly_paths = ro_list;
	conf.dry_run = 1;
	lock();
	/* A dry run never denies: Landlock has no log-only mode, so it is
	 * left out. */
	CHILD_CHECK(open_errno(path_a, "key", O_WRONLY) == 0);
	CHILD_CHECK(open_errno(tmpdir, "new", O_WRONLY | O_CREAT) == 0);
}

START_TEST(test_sandbox_dry_run_leaves_paths_writable)
{
	landlock_tree();
	in_child(child_landlock_dry_run);
	landlock_tree_rm();
}
END_TEST

static void
child_landlock_relative(void)
{
	static char *bad[] = { "relative/path", NULL };
	char why[256] = "";

	conf.readonly_paths = bad;
	CHILD_CHECK(mg_sandbox_lock(&conf, why, sizeof why) == -EINVAL);
	CHILD_CHECK(strstr(why, "relative/path") != NULL);
	/* Failed before anything was applied: nothing half-locked. */
	CHILD_CHECK(mg_sandbox_active() == 0);
	CHILD_CHECK(status_field("Seccomp") == 0);
}

START_TEST(test_sandbox_refuses_relative_readonly_path)
{
	in_child(child_landlock_relative);
}
END_TEST

static Suite *
sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *net = tcase_create("network");
	TCase *abi = tcase_create("foreign_abi");
	TCase *scope = tcase_create("scope");
	TCase *opt = tcase_create("options");
	TCase *ll = tcase_create("landlock");
	TCase *all[] = { net, abi, scope, opt, ll };
	size_t i;

	tcase_add_test(net, test_sandbox_refuses_every_family_but_unix);
	tcase_add_test(net, test_sandbox_keeps_unix_sockets);
	tcase_add_test(net, test_sandbox_compares_family_on_low_32_bits);
	tcase_add_test(net, test_sandbox_keeps_existing_sockets);
	tcase_add_test(net, test_sandbox_refuses_io_uring);
	tcase_add_test(abi, test_sandbox_refuses_i386_syscalls);
	tcase_add_test(abi, test_sandbox_filter_sends_foreign_arch_to_eacces);
	tcase_add_test(abi, test_sandbox_refuses_x32_syscalls);
	tcase_add_test(scope, test_sandbox_covers_threads_started_before);
	tcase_add_test(scope, test_sandbox_is_inherited_by_children);
	tcase_add_test(scope, test_sandbox_locks_once_with_no_new_privs);
	tcase_add_test(opt, test_sandbox_denies_exec_only_when_asked);
	tcase_add_test(opt, test_sandbox_dry_run_blocks_nothing);
	tcase_add_test(opt, test_sandbox_blocked_attempts_reach_kernel_log);
	tcase_add_test(opt, test_sandbox_describe_names_the_lock);
	tcase_add_test(ll, test_sandbox_landlock_makes_paths_read_only);
	tcase_add_test(ll, test_sandbox_landlock_expands_home);
	tcase_add_test(ll, test_sandbox_refuses_relative_readonly_path);
	tcase_add_test(ll, test_sandbox_dry_run_leaves_paths_writable);
	for (i = 0; i < sizeof all / sizeof all[0]; i++) {
		tcase_add_checked_fixture(all[i], reset, NULL);
		tcase_set_timeout(all[i], 30);
		suite_add_tcase(s, all[i]);
	}
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sandbox_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
