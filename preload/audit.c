/*
 * audit.c - one JSON line per decision, to a file and/or syslog.
 *
 * Appended with O_APPEND and a single write(2), so lines from many
 * processes sharing one log never interleave (for lines under PIPE_BUF on
 * pipes; regular files append each write atomically on local
 * filesystems).  Destinations: the policy's log_file and syslog settings,
 * and MODELGATE_LOG=FILE from the environment (read in the constructor,
 * never under AT_SECURE) until every policy can say it.
 *
 * Under a locked policy (a shared host) every line also goes to syslog,
 * whatever the policy says: the log_file there is typically created by
 * root, mode 0600, and the users whose processes decide cannot append to
 * it.  A log_file that cannot be appended to is said once per process
 * ("modelgate: cannot write the audit log ...") and that line, and each
 * later one that fails, goes to syslog instead.
 *
 * Why LOG_AUTHPRIV: the records are security decisions that name users'
 * files.  It is the private security facility: syslog daemons keep it out
 * of the general log and in one that only root and the adm group read
 * (Debian's rsyslog: auth.log, 0640, and "authpriv.none" on the general
 * file), and the receiving daemon stamps each line with the sender's
 * credentials (journald: _UID, _PID, _EXE), so a user can add lines but
 * cannot rewrite or remove anyone's, nor pass one off as another user's.
 * LOG_AUTH is the same without the "private" routing; LOG_USER mixes with
 * every program's chatter.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "../policy/logline.h"
#include "gate.h"

static const char *
how_name(enum mg_gate_how how)
{
	switch (how) {
	case MG_GATE_OPEN: return "open";
	case MG_GATE_FOPEN: return "fopen";
	case MG_GATE_MMAP: return "mmap";
	case MG_GATE_READ: return "read";
	}
	return "open";
}

/* 0, or -1 with errno set.  Why 0600: a log this process creates is its
 * user's alone; one that every user appends to is for the administrator
 * to create (`modelgate host status` says whether users can). */
static int
append_file(const char *path, const char *line, size_t n)
{
	int fd = mg_raw_openat(AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT |
	                       O_CLOEXEC | O_NOFOLLOW, 0600);
	ssize_t w;
	int e;

	if (fd < 0)
		return -1;
	w = write(fd, line, n);
	e = w < 0 ? errno : EIO;
	mg_raw_close(fd);
	if (w == (ssize_t)n)
		return 0;
	errno = e;
	return -1;
}

/* Once per process: the log_file named @path cannot be written. */
static void
say_unwritable(const char *path, int err)
{
	static int said;
	char msg[PATH_MAX + 200];
	int n;

	if (__atomic_exchange_n(&said, 1, __ATOMIC_ACQ_REL))
		return;
	n = snprintf(msg, sizeof(msg), "modelgate: cannot write the audit log "
	             "%s: %s; decisions go to syslog\n", path, strerror(err));
	if (n > 0)
		(void)!write(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ?
		             (size_t)n : sizeof(msg) - 1);
}

/* Send the finished line @line (@n bytes, newline included) where the
 * policy says, plus syslog when @sys. */
static void
emit(const char *line, size_t n, int sys)
{
	const char *file = mg_state.policy ?
	                   mg_policy_log_file(mg_state.policy) : NULL;

	if (file != NULL && append_file(file, line, n) != 0) {
		say_unwritable(file, errno);
		sys = 1;
	}
	if (mg_state.log_env[0] != '\0')
		(void)append_file(mg_state.log_env, line, n);
	if (sys)
		syslog(LOG_AUTHPRIV | LOG_NOTICE, "%.*s", (int)n - 1, line);
}

/* Syslog wanted for every line: the policy says so, or it is locked. */
static int
want_syslog(void)
{
	return mg_state.policy != NULL &&
	       (mg_policy_log_syslog(mg_state.policy) ||
	        mg_policy_locked(mg_state.policy));
}

void
mg_audit_note(const struct mg_note *n)
{
	char line[4096];
	int saved = errno;
	size_t len = mg_policy_note_json(n, line, sizeof(line));

	if (len > 0)
		emit(line, len, want_syslog() || n->kind == MG_NOTE_REFUSED);
	errno = saved;
}

/* The record's common head: time, pid, uid, exe. */
static void
put_head(struct mg_logline *l)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	mg_logline_put(l, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"pid\":%d,"
	    "\"uid\":%u,\"exe\":", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000L, (int)getpid(), (unsigned)getuid());
	mg_logline_str(l, mg_state.exe);
}

void
mg_audit_guard(const char *event, const char *what, const char *action,
               const char *reason, const char *caller)
{
	const char *file = mg_state.policy ?
	                   mg_policy_log_file(mg_state.policy) : NULL;
	int sys = want_syslog(), saved = errno;
	char buf[6144]; /* why: two escaped paths and a reason fit; a longer
	                   record is dropped rather than split in two writes */
	struct mg_logline l = { buf, sizeof(buf), 0, 0 };

	/* As for files: "audit" with no destination goes to syslog. */
	if (file == NULL && !sys && mg_state.log_env[0] == '\0' &&
	    strcmp(action, "audit") == 0)
		sys = 1;
	if (file == NULL && !sys && mg_state.log_env[0] == '\0')
		return;
	put_head(&l);
	mg_logline_put(&l, ",\"event\":\"guard\",\"audit_event\":");
	mg_logline_str(&l, event);
	mg_logline_put(&l, ",\"global\":");
	mg_logline_str(&l, what);
	mg_logline_put(&l, ",\"caller\":");
	mg_logline_str(&l, caller);
	mg_logline_put(&l, ",\"action\":");
	mg_logline_str(&l, action);
	mg_logline_put(&l, ",\"reason\":");
	mg_logline_str(&l, reason);
	mg_logline_put(&l, "}\n");
	if (!l.bad)
		emit(l.buf, l.n, sys);
	errno = saved;
}

void
mg_audit_log(const struct mg_audit *a)
{
	const char *file = mg_state.policy ?
	                   mg_policy_log_file(mg_state.policy) : NULL;
	int sys = want_syslog();
	int saved = errno;
	char buf[6144]; /* why: two escaped paths and a reason fit; a longer
	                   record is dropped rather than split in two writes */
	struct mg_logline l = { buf, sizeof(buf), 0, 0 };

	/* "audit" means allow *and log*: with no destination configured,
	 * syslog is the one every host has. */
	if (file == NULL && !sys && mg_state.log_env[0] == '\0' &&
	    strcmp(a->action, "audit") == 0)
		sys = 1;
	if (file == NULL && !sys && mg_state.log_env[0] == '\0')
		return;
	put_head(&l);
	mg_logline_put(&l, ",\"event\":\"%s\",\"path\":", how_name(a->how));
	mg_logline_str(&l, a->path);
	mg_logline_put(&l, ",\"dev\":%llu,\"ino\":%llu,\"size\":%lld,\"sha256\":",
	    (unsigned long long)a->st->st_dev,
	    (unsigned long long)a->st->st_ino, (long long)a->st->st_size);
	mg_logline_str(&l, a->sha256 && a->sha256[0] ? a->sha256 : NULL);
	mg_logline_put(&l, ",\"verdict\":\"%s\",\"action\":\"%s\",\"reason\":",
	    a->verdict, a->action);
	mg_logline_str(&l, a->reason);
	if (a->scan_ms >= 0)
		mg_logline_put(&l, ",\"scan_ms\":%ld", a->scan_ms);
	mg_logline_put(&l, "}\n");
	if (l.bad)
		goto out;
	emit(l.buf, l.n, sys);
out:
	errno = saved;
}
