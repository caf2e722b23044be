/*
 * audit.c - one JSON line per decision, to a file and/or syslog.
 *
 * Appended with O_APPEND and a single write(2), so lines from many
 * processes sharing one log never interleave (for lines under PIPE_BUF on
 * pipes; regular files append each write atomically on local
 * filesystems).  Destinations: the policy's log_file and syslog settings,
 * and MODELGATE_LOG=FILE from the environment (read in the constructor,
 * never under AT_SECURE) until every policy can say it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"

/* A line being built in a fixed buffer; overflow marks it bad. */
struct line {
	char buf[6144]; /* why: two escaped paths and a reason fit; a longer
	                   record is dropped rather than split in two writes */
	size_t n;
	int bad;
};

static void
put(struct line *l, const char *fmt, ...) MG_PRINTF(2, 3);

static void
put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (l->bad)
		return;
	va_start(ap, fmt);
	k = vsnprintf(l->buf + l->n, sizeof(l->buf) - l->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= sizeof(l->buf) - l->n)
		l->bad = 1;
	else
		l->n += (size_t)k;
}

/* @s as a JSON string, quotes included; NULL as null. */
static void
put_str(struct line *l, const char *s)
{
	unsigned char c;

	if (s == NULL) {
		put(l, "null");
		return;
	}
	put(l, "\"");
	for (; *s != '\0' && !l->bad; s++) {
		c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			put(l, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			put(l, "\\u%04x", c);
		else
			put(l, "%c", c);
	}
	put(l, "\"");
}

static const char *
how_name(enum mg_gate_how how)
{
	switch (how) {
	case MG_GATE_OPEN: return "open";
	case MG_GATE_FOPEN: return "fopen";
	case MG_GATE_MMAP: return "mmap";
	}
	return "open";
}

static void
append_file(const char *path, const char *line, size_t n)
{
	int fd = mg_raw_openat(AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT |
	                       O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return;
	(void)!write(fd, line, n);
	mg_raw_close(fd);
}

void
mg_audit_log(const struct mg_audit *a)
{
	static const struct line empty;
	const char *file = mg_state.policy ?
	                   mg_policy_log_file(mg_state.policy) : NULL;
	int sys = mg_state.policy ? mg_policy_log_syslog(mg_state.policy) : 0;
	int saved = errno;
	struct timespec ts;
	struct line l;
	struct tm tm;

	/* "audit" means allow *and log*: with no destination configured,
	 * syslog is the one every host has. */
	if (file == NULL && !sys && mg_state.log_env[0] == '\0' &&
	    strcmp(a->action, "audit") == 0)
		sys = 1;
	if (file == NULL && !sys && mg_state.log_env[0] == '\0')
		return;
	l = empty;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	put(&l, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"pid\":%d,"
	    "\"uid\":%u,\"exe\":", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000L, (int)getpid(), (unsigned)getuid());
	put_str(&l, mg_state.exe);
	put(&l, ",\"event\":\"%s\",\"path\":", how_name(a->how));
	put_str(&l, a->path);
	put(&l, ",\"dev\":%llu,\"ino\":%llu,\"size\":%lld,\"sha256\":",
	    (unsigned long long)a->st->st_dev,
	    (unsigned long long)a->st->st_ino, (long long)a->st->st_size);
	put_str(&l, a->sha256 && a->sha256[0] ? a->sha256 : NULL);
	put(&l, ",\"verdict\":\"%s\",\"action\":\"%s\",\"reason\":",
	    a->verdict, a->action);
	put_str(&l, a->reason);
	put(&l, "}\n");
	if (l.bad)
		goto out;
	if (file != NULL)
		append_file(file, l.buf, l.n);
	if (mg_state.log_env[0] != '\0')
		append_file(mg_state.log_env, l.buf, l.n);
	if (sys)
		syslog(LOG_AUTHPRIV | LOG_NOTICE, "%.*s", (int)l.n - 1, l.buf);
out:
	errno = saved;
}
