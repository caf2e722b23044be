/*
 * dbm.c - Berkeley DB and GDBM databases: what shelve.open() unpickles.
 *
 * shelve keeps each value as one pickle and loads it with
 * Unpickler(BytesIO(value)).load(): one pickle, trailing bytes ignored.
 * Its databases are dbm.ndbm (on Debian, Berkeley DB 5.3's ndbm layer: a
 * hash database in "x.db") and dbm.gnu (GDBM).  So every value of the
 * file is judged as that one pickle, named after its key.
 *
 * Why the libraries themselves and not a reader of our own: the question
 * is which bytes the loader's library hands to the unpickler.  Page
 * layouts (overflow pages, big-endian files, hash vs btree, GDBM's
 * buckets and avail lists) are the libraries' business; a reader of our
 * own would be a second opinion on a format whose only judge is them.
 *
 * Why in a forked child: neither library is hardened against hostile
 * files (a crafted page can make them read wild pointers, loop, or
 * allocate without bound).  The child gets CPU-time, address-space and
 * core limits, installs a seccomp filter of its own (read the file, map
 * memory, write to its socket, exit), opens the very file being scanned
 * through /proc/self/fd (a fresh open file description: the caller's
 * offset is never moved) and sends key/value records back over a socket.
 * The parent scans each value as it arrives and waits at most a wall-clock
 * budget.  Anything but a complete, orderly answer - a crash, a limit, a
 * timeout, a library error, more bytes than the file holds - is an error
 * finding that names the file: fail closed.
 *
 * Why a socketpair and not a pipe: the helper's seccomp filter lets its
 * workers send() on any socket they hold (they answer their clients that
 * way) but write() only on the hash cache; a socketpair needs one more
 * system call allowed (socketpair, AF_UNIX only: cli/helper.c), a pipe
 * would need write() opened up.
 *
 * Only a database that is the scanned file itself is read (mg_scan_fd
 * hands its fd down): shelve opens databases from files, never from a
 * member of an archive, so a database found inside a container (or in a
 * buffer with no file behind it) stays an error, as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <db.h>
#include <gdbm.h>

#include "formats.h"
#include "pickle.h"

/* --- judging one value ---------------------------------------------------- */

static int
on_nested(void *ctx, const uint8_t *data, size_t len, uint64_t pos)
{
	return mg_nested_scan(ctx, data, len, pos);
}

void
mg_dbm_member(char *out, size_t cap, const uint8_t *key, size_t klen)
{
	size_t o, i;

	/* Why bytes as they are: member names keep the file's bytes and
	 * the output layer escapes them (scan --format json, the audit
	 * log); only NUL, which a C string cannot hold, is spelled out.
	 * Why 200: a name a reviewer reads, not the key of a hostile file
	 * of megabytes. */
	o = (size_t)snprintf(out, cap, "key '");
	for (i = 0; i < klen && i < 200 && o + 8 < cap; i++) {
		if (key[i] == '\0') {
			memcpy(out + o, "\\x00", 4);
			o += 4;
		} else {
			out[o++] = (char)key[i];
		}
	}
	snprintf(out + o, cap - o, "%s'", i < klen ? "..." : "");
}

enum mg_err
mg_dbm_value_scan(const struct mg_scan_opts *o, const char *name,
                  const char *member, const uint8_t *val, size_t len,
                  uint64_t base, unsigned depth, struct mg_report *rep,
                  unsigned long *inert)
{
	struct mg_nested n = { o, name, member, depth, rep, 0, "" };
	struct mg_pickle_hooks hooks = { NULL, NULL, &n, on_nested };
	const char *why;
	size_t at, end = 0;

	/* The unpickler fails before it resolves or calls anything (an
	 * empty value, bytes that are no pickle): nothing runs. */
	if (mg_pickle_inert(val, len, &at, &why)) {
		(*inert)++;
		return MG_OK;
	}
	return mg_pickle_scan_one(o, &hooks, val, len, member, base, rep,
	                          &end);
}

/* --- the child ------------------------------------------------------------ */

enum { REC_KV = 'R', REC_ERR = 'E', REC_TYPE = 'T', REC_DONE = 'D',
       REC_NOTE = 'N' /* too large to verify */ };

/* Why 256 MiB: verification holds memory about as large as the file
 * (bdb_verify); past this, that is not worth a host's while. */
#define DBM_VERIFY_MAX ((uint64_t)256 << 20)

/* A record header: type, then two lengths (little-endian u32 on the host:
 * both ends are this process image). */
struct rec {
	uint8_t type;
	uint32_t a, b;
} __attribute__((packed));

static int
send_all(int s, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t k;

	while (n > 0) {
		k = send(s, b, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

static int
send_rec(int s, uint8_t type, const void *a, size_t alen, const void *b,
         size_t blen)
{
	struct rec r = { type, (uint32_t)alen, (uint32_t)blen };

	if (alen > UINT32_MAX || blen > UINT32_MAX)
		return -1;
	return send_all(s, &r, sizeof(r)) || send_all(s, a, alen) ||
	       send_all(s, b, blen) ? -1 : 0;
}

static __attribute__((noreturn)) void
child_fail(int s, const char *fmt, ...) MG_PRINTF(2, 3);

static void
child_fail(int s, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)send_rec(s, REC_ERR, msg, strlen(msg), "", 0);
	_exit(1);
}

/* Address space in use now (bytes), from /proc/self/statm. */
static uint64_t
vm_size(void)
{
	char buf[64];
	ssize_t n;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoull(buf, NULL, 10) * (uint64_t)sysconf(_SC_PAGESIZE);
}

/*
 * Limits: CPU time @cpu_s (then SIGXCPU, a second later SIGKILL), no core
 * file, no file written, and an address space of what the process maps
 * now plus what reading a database of @flen bytes may fairly need (the
 * library's map of the file, a copy of its largest value and what
 * verification holds, each about the file; 288 MiB for caches and the
 * allocator).
 */
static int
child_limits(unsigned cpu_s, uint64_t flen)
{
	struct rlimit cpu = { cpu_s, cpu_s + 1 }, zero = { 0, 0 }, as;
	uint64_t want = vm_size() + 3 * flen + ((uint64_t)288 << 20);

	as.rlim_cur = as.rlim_max = (rlim_t)want;
	return setrlimit(RLIMIT_CPU, &cpu) || setrlimit(RLIMIT_CORE, &zero) ||
	       setrlimit(RLIMIT_FSIZE, &zero) || setrlimit(RLIMIT_AS, &as);
}

/* The child's own filter, stacked on whatever the process had (the
 * helper's): read files read-only, map memory, send on @s, exit. */
static int
child_confine(int s)
{
	static const int ok[] = {
		SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(lseek),
		SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(close),
		SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap),
		SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(fcntl),
		SCMP_SYS(getpid), SCMP_SYS(clock_gettime),
		SCMP_SYS(rt_sigreturn), SCMP_SYS(exit), SCMP_SYS(exit_group),
		/* AddressSanitizer builds (make check-asan) query their
		 * signal stack; harmless for anyone */
		SCMP_SYS(sigaltstack),
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int rc = -1;
	size_t i;

	if (ctx == NULL)
		return -1;
	/* Why not libseccomp's own no_new_privs: its prctl is outside the
	 * helper's filter, which set the bit already; elsewhere (the CLI)
	 * this call sets it. */
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) != 0)
		goto out;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, ok[i], 0) != 0)
			goto out;
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	                     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	                     SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT |
	                             O_TRUNC | O_APPEND | O_TMPFILE, 0)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 1,
	                     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)s)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
	                     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)s)) != 0)
		goto out;
	rc = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return rc;
}

static const char *
bdb_type(DBTYPE t)
{
	switch (t) {
	case DB_BTREE: return "btree";
	case DB_HASH: return "hash";
	case DB_RECNO: return "recno";
	case DB_QUEUE: return "queue";
	case DB_HEAP: return "heap";
	default: return "unknown";
	}
}

static char bdb_msg[200];

static void
bdb_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	(void)env;
	(void)pfx;
	snprintf(bdb_msg, sizeof(bdb_msg), "%s", msg);
}

/*
 * Why verify first: a page whose item offsets point outside it makes
 * libdb read past its page buffer, here and in the loader, whose memory
 * then decides what the value is (Python's dbm.ndbm segfaults on one such
 * file, test_preload_shelve); DB->verify checks every page's layout
 * without following it.  Why an environment of our own with a cache as
 * large as the file: verify keeps its page records in temporary databases
 * whose pages, once the cache is full, go to a file in /var/tmp that this
 * child may not create; without it a 20 MB shelve fails (ENOMEM, after
 * seconds; check_dbm), and a smaller fixed cache failed at 100 MB.  Hence
 * the cap: that cache is memory the child really uses (230 MB for a
 * 200 MB shelve), so a bigger database is read unverified, and says so
 * (DBM_VERIFY_MAX).
 */
static void
bdb_verify(int s, const char *path, uint64_t flen)
{
	uint64_t cache = flen + ((uint64_t)32 << 20);
	DB_ENV *env = NULL;
	DB *db = NULL;
	int rc;

	if ((rc = db_env_create(&env, 0)) != 0 ||
	    (rc = env->set_cachesize(env, (u_int32_t)(cache >> 30),
	                             (u_int32_t)(cache & ((1u << 30) - 1)),
	                             1)) != 0 ||
	    (rc = env->open(env, NULL, DB_CREATE | DB_PRIVATE | DB_INIT_MPOOL,
	                    0)) != 0 ||
	    (rc = db_create(&db, env, 0)) != 0)
		child_fail(s, "Berkeley DB: cannot set up its verification: %s",
		           db_strerror(rc));
	db->set_errcall(db, bdb_errcall);
	/* DB->verify consumes its handle, whatever it returns */
	if ((rc = db->verify(db, path, NULL, NULL, 0)) != 0)
		child_fail(s, "Berkeley DB's own verification fails: %s%s%s",
		           db_strerror(rc), bdb_msg[0] ? ": " : "", bdb_msg);
	env->close(env, 0);
}

/* Every record of the Berkeley DB at @path, as dbm.ndbm's library reads
 * it (DB_UNKNOWN: whatever access method the file says). */
static void
child_bdb(int s, const char *path, uint64_t flen)
{
	DB *db = NULL;
	DBC *c = NULL;
	DBT k, v;
	DBTYPE t;
	unsigned long n = 0;
	int rc;

	if (flen <= DBM_VERIFY_MAX)
		bdb_verify(s, path, flen);
	else if (send_rec(s, REC_NOTE, "", 0, "", 0))
		_exit(1);
	if ((rc = db_create(&db, NULL, 0)) != 0)
		child_fail(s, "Berkeley DB: db_create: %s", db_strerror(rc));
	db->set_errcall(db, bdb_errcall);
	if ((rc = db->open(db, NULL, path, NULL, DB_UNKNOWN, DB_RDONLY, 0)) != 0)
		child_fail(s, "Berkeley DB cannot open it: %s%s%s",
		           db_strerror(rc), bdb_msg[0] ? ": " : "", bdb_msg);
	if (db->get_type(db, &t) == 0 &&
	    send_rec(s, REC_TYPE, bdb_type(t), strlen(bdb_type(t)), "", 0))
		_exit(1);
	if ((rc = db->cursor(db, NULL, &c, 0)) != 0)
		child_fail(s, "Berkeley DB: cursor: %s", db_strerror(rc));
	for (;;) {
		memset(&k, 0, sizeof(k));
		memset(&v, 0, sizeof(v));
		rc = c->get(c, &k, &v, DB_NEXT);
		if (rc == DB_NOTFOUND)
			break;
		if (rc != 0)
			child_fail(s, "Berkeley DB cannot read record %lu: "
			           "%s%s%s", n, db_strerror(rc),
			           bdb_msg[0] ? ": " : "", bdb_msg);
		if (send_rec(s, REC_KV, k.data, k.size, v.data, v.size))
			_exit(1);
		n++;
	}
	(void)send_rec(s, REC_DONE, "", 0, "", 0);
	_exit(0);
}

/* Every record of the GDBM database open at @fd: firstkey/nextkey/fetch,
 * the calls dbm.gnu makes. */
static void
child_gdbm(int s, int fd, const char *path)
{
	GDBM_FILE g = gdbm_fd_open(fd, path, 0, GDBM_READER | GDBM_NOLOCK,
	                           NULL);
	datum k, v, next;
	unsigned long n = 0;

	if (g == NULL)
		child_fail(s, "GDBM cannot open it: %s",
		           gdbm_strerror(gdbm_errno));
	(void)send_rec(s, REC_TYPE, "gdbm", 4, "", 0);
	k = gdbm_firstkey(g);
	while (k.dptr != NULL) {
		v = gdbm_fetch(g, k);
		if (v.dptr == NULL)
			child_fail(s, "GDBM cannot read record %lu: %s", n,
			           gdbm_db_strerror(g));
		if (send_rec(s, REC_KV, k.dptr, (size_t)k.dsize, v.dptr,
		             (size_t)v.dsize))
			_exit(1);
		free(v.dptr);
		next = gdbm_nextkey(g, k);
		free(k.dptr);
		k = next;
		n++;
	}
	if (gdbm_last_errno(g) != GDBM_ITEM_NOT_FOUND &&
	    gdbm_last_errno(g) != GDBM_NO_ERROR)
		child_fail(s, "GDBM cannot read past record %lu: %s", n,
		           gdbm_db_strerror(g));
	(void)send_rec(s, REC_DONE, "", 0, "", 0);
	_exit(0);
}

static __attribute__((noreturn)) void
child_main(int s, int fd, int gdbm, unsigned cpu_s, uint64_t flen)
{
	char path[64];
	int f;

	if (child_limits(cpu_s, flen) != 0)
		child_fail(s, "cannot set the reader's limits: %s",
		           strerror(errno));
	if (child_confine(s) != 0)
		child_fail(s, "cannot confine the reader (seccomp)");
	/* Why reopen: a fresh open file description, so no library call
	 * moves the offset the caller (who owns @fd) reads at. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((f = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		child_fail(s, "cannot reopen the file: %s", strerror(errno));
	if (gdbm)
		child_gdbm(s, f, path);
	close(f);
	child_bdb(s, path, flen);
	_exit(1);
}

/* --- the parent ----------------------------------------------------------- */

struct reader {
	int s;
	struct timespec deadline;
	uint64_t budget;          /* bytes the child may still send */
};

static long long
ms_left(const struct timespec *d)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(d->tv_sec - now.tv_sec) * 1000 +
	       (d->tv_nsec - now.tv_nsec) / 1000000;
}

/* Read @n bytes; 0, -1 on EOF or error, -2 on timeout. */
static int
recv_all(struct reader *r, void *p, size_t n)
{
	struct pollfd pf = { r->s, POLLIN, 0 };
	uint8_t *b = p;
	long long left;
	ssize_t k;

	while (n > 0) {
		if ((left = ms_left(&r->deadline)) <= 0)
			return -2;
		if (poll(&pf, 1, left > 1000 ? 1000 : (int)left) <= 0)
			continue;   /* EINTR (the helper's tick) or a slice */
		k = read(r->s, b, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

/* A message from the child is text for a reviewer's terminal: whatever
 * a subverted child sends, no control byte gets there. */
static void
printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

/*
 * Judge every record the child sends.  0 when the child said it was done,
 * -1 (with *@why filled) when it did not, -2 on a timeout, or the
 * enum mg_err of a failure here (as a negative of itself minus 10).
 */
static int
read_records(const struct mg_scan_opts *o, const char *name,
             struct reader *r, struct mg_report *rep, char *why,
             size_t whylen, unsigned long *nrec, unsigned long *inert,
             char *type, size_t typelen)
{
	struct rec h;
	uint8_t *b;
	char member[256];
	enum mg_err err;
	int rc;

	for (;;) {
		if ((rc = recv_all(r, &h, sizeof(h))) != 0)
			return rc;
		if ((uint64_t)h.a + h.b > r->budget) {
			snprintf(why, whylen, "the database yields more bytes "
			         "than the file holds");
			return -1;
		}
		r->budget -= (uint64_t)h.a + h.b;
		if ((b = malloc((size_t)h.a + h.b + 1)) == NULL)
			return -10 - MG_ERR_NOMEM;
		if ((rc = recv_all(r, b, (size_t)h.a + h.b)) != 0) {
			free(b);
			return rc;
		}
		b[h.a + h.b] = '\0';
		if (h.type != REC_KV)
			printable((char *)b);
		switch (h.type) {
		case REC_DONE:
			free(b);
			return 0;
		case REC_ERR:
			snprintf(why, whylen, "%s", (char *)b);
			free(b);
			return -1;
		case REC_TYPE:
			snprintf(type, typelen, "%s", (char *)b);
			free(b);
			continue;
		case REC_NOTE:
			free(b);
			err = mg_report_add(rep, MG_VERDICT_CLEAN, "format.dbm",
			                    NULL, NULL, 0, "a Berkeley DB file "
			                    "larger than %llu MiB is read without "
			                    "libdb's own verification: a page that "
			                    "points outside itself would be read "
			                    "as libdb reads it", (unsigned long long)
			                    (DBM_VERIFY_MAX >> 20));
			if (err != MG_OK)
				return -10 - (int)err;
			continue;
		case REC_KV:
			break;
		default:
			free(b);
			snprintf(why, whylen, "the reader sent garbage");
			return -1;
		}
		if (++*nrec > o->max_members) {
			free(b);
			snprintf(why, whylen, "more than %u records",
			         o->max_members);
			return -1;
		}
		mg_dbm_member(member, sizeof(member), b, h.a);
		err = mg_dbm_value_scan(o, name, member, b + h.a, h.b, 0, 0,
		                        rep, inert);
		free(b);
		if (err != MG_OK)
			return -10 - (int)err;
	}
}

/* How the child ended, for a message: "" when it exited 0. */
static void
child_status(pid_t pid, int timed_out, char *out, size_t cap)
{
	int st = 0;

	/* Why kill may fail harmlessly: under the helper's filter the
	 * process may not signal anyone; the child's own CPU limit and the
	 * closed socket end it instead (it can only compute or send). */
	if (timed_out)
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	out[0] = '\0';
	if (WIFSIGNALED(st))
		snprintf(out, cap, "%s (signal %d%s)", WTERMSIG(st) == SIGXCPU ||
		         WTERMSIG(st) == SIGKILL ? "it was stopped by its "
		         "limits" : "it crashed", WTERMSIG(st),
		         WTERMSIG(st) == SIGSYS ? ", a system call outside its "
		         "filter" : "");
	else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		snprintf(out, cap, "exit status %d", WEXITSTATUS(st));
}

/* Why these budgets: a benign database of @flen bytes is read at tens of
 * MB/s at worst (each value copied twice); 10 s plus 1 s per 16 MiB is
 * far above that, and still ends a looping reader. */
#define DBM_WALL_S(flen) (10 + (unsigned)((flen) >> 24))

/* What the file is, for messages: "GDBM", "Berkeley DB" (+ " hash"...). */
struct dbm_job {
	const char *name;
	int gdbm;
	char what[40];
};

static int
is_gdbm(const uint8_t *buf, size_t len)
{
	static const uint32_t magic[] = { 0x13579ace, 0x13579acd, 0x13579acf };
	uint32_t m = 0;
	size_t i;
	int r = 0;

	for (i = 0; len >= 4 && i < 4; i++)
		m |= (uint32_t)buf[i] << (8 * i);
	for (i = 0; len >= 4 && i < 3; i++)
		r |= m == magic[i] || __builtin_bswap32(m) == magic[i];
	return r;
}

/* Fork the reader of @o->fd; its socket, or -1 with *@why set. */
static int
start_reader(const struct mg_scan_opts *o, const struct dbm_job *j,
             size_t len, pid_t *pid, char *why, size_t whylen)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(why, whylen, "socketpair: %s", strerror(errno));
		return -1;
	}
	if ((*pid = fork()) < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (*pid == 0) {
		close(sv[0]);
		child_main(sv[1], o->fd, j->gdbm, DBM_WALL_S(len), len);
	}
	close(sv[1]);
	return sv[0];
}

static enum mg_err
read_db(const struct mg_scan_opts *o, const char *name, const char *member,
        const uint8_t *buf, size_t len, struct mg_report *rep)
{
	struct dbm_job j = { name != NULL ? name : "", is_gdbm(buf, len), "" };
	struct reader r = { -1, { 0, 0 }, 2 * (uint64_t)len + (1u << 20) };
	char why[320] = "", how[96] = "", type[16] = "";
	unsigned long nrec = 0, inert = 0;
	pid_t pid;
	int rc = -1;

	if ((r.s = start_reader(o, &j, len, &pid, why, sizeof(why))) >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &r.deadline);
		r.deadline.tv_sec += DBM_WALL_S(len);
		rc = read_records(o, name, &r, rep, why, sizeof(why), &nrec,
		                  &inert, type, sizeof(type));
		close(r.s);
		child_status(pid, rc == -2, how, sizeof(how));
		if (rc <= -10)
			return (enum mg_err)(-rc - 10);
	}
	snprintf(j.what, sizeof(j.what), "%s%s%s", j.gdbm ? "GDBM" :
	         "Berkeley DB", type[0] && !j.gdbm ? " " : "",
	         j.gdbm ? "" : type);
	if (rc == 0 && how[0] == '\0')
		return inert == 0 ? MG_OK :
		       mg_report_add(rep, MG_VERDICT_CLEAN, "format.inert", NULL,
		                     member, 0, "%lu of the %lu values of this %s "
		                     "database are no pickle shelve could load: "
		                     "it fails on them before it runs anything",
		                     inert, nrec, j.what);
	if (rc == -2)
		snprintf(why, sizeof(why), "no answer within %u s",
		         DBM_WALL_S(len));
	else if (why[0] == '\0')
		snprintf(why, sizeof(why), "it stopped before the end");
	if (nrec == 0)
		return mg_report_add(rep, MG_VERDICT_ERROR, "format.dbm", NULL,
		                     member, 0, "%s database %s: not read (%s%s%s):"
		                     " shelve unpickles every value, so what it "
		                     "holds is not known", j.what, j.name, why,
		                     how[0] ? "; " : "", how);
	return mg_report_add(rep, MG_VERDICT_ERROR, "format.dbm", NULL, member,
	                     0, "%s database %s: not read to the end (%s%s%s): "
	                     "shelve unpickles every value, so what it holds "
	                     "past record %lu is not known", j.what, j.name, why,
	                     how[0] ? "; " : "", how, nrec);
}

enum mg_err
mg_dbm_scan(const struct mg_scan_opts *o, const char *name,
            const char *member, const uint8_t *buf, size_t len,
            unsigned depth, struct mg_report *rep)
{
	/* Why only the scanned file itself: see the top of the file. */
	if (depth == 0 && o->fd >= 0)
		return read_db(o, name, member, buf, len, rep);
	return mg_report_add(rep, MG_VERDICT_ERROR, "format.dbm", NULL,
	                     member, 0, "a Berkeley DB or GDBM database inside "
	                     "a container or buffer: shelve opens databases "
	                     "only from files, and modelgate reads one only "
	                     "as the file it scans");
}
