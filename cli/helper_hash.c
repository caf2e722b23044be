/*
 * helper_hash.c - hash only when something needs the hash, and let the
 * confined helper keep a hash cache.
 *
 * The helper hashes a file before the scan when the pin rules need it
 * (policy/pin.c: a lockfile or require_pin), and after the scan when the
 * preload will write the decision to an audit log, whose lines carry the
 * file's sha256: the policy's log_file or syslog, a locked policy (which
 * always logs to syslog, preload/audit.c), MODELGATE_LOG, or an audit
 * action (which falls back to syslog).  Otherwise it never reads the
 * file's tensor bytes: the scan reads what it needs, and the audit line,
 * if any, says "sha256": null.
 *
 * Why read the preload's environment from /proc: the preload starts the
 * helper with an empty one and names only the policy, and MODELGATE_LOG
 * is an environment setting.  Before the helper daemonises its parent is
 * the preload's process, whose /proc/PID/environ holds the environment it
 * was exec'd with, which the preload's constructor read.  A file we
 * cannot read (another user's, a setuid program) means "assume a log":
 * hashing is the safe side.
 *
 * The cache's descriptor: the workers' seccomp filter allows write() on
 * one descriptor number only.  The cache is opened O_WRONLY|O_APPEND
 * before the lock, moved to number CACHE_FD and RLIMIT_NOFILE lowered to
 * CACHE_FD (soft and hard; the filter refuses setrlimit/prlimit of it:
 * helper.c allows prlimit64 only for the dbm reader's four limits), so no
 * other file can ever be given that number, not even after a subverted
 * worker closes it: a descriptor handed over by a client (perhaps opened
 * for writing) can never become writable through the filter.  What a
 * subverted worker can still do is append forged lines to the cache it
 * writes: that is the user's own cache, which only that user's
 * processes trust, and under a locked policy the helper writes none (and
 * root's helper writes root's per-user cache, never the system cache
 * that locked policies read).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../policy/policy.h"
#include "helper_hash.h"

/* Why 256: far above the handful of descriptors a worker holds (the
 * listener, the lifeline, one connection, one handed fd, a lockfile or
 * cache being read), far below any default limit. */
#define CACHE_FD 256

/* Why 256 KiB: environments are a few KiB; a larger one is read as
 * unknown (assume a log) rather than half-read. */
#define ENV_MAX (256u << 10)

/* Copy the value of @name from the NUL-separated @env (@n bytes) into
 * @out; 1 if set. */
static int
env_get(const char *env, size_t n, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name), i = 0;

	while (i < n) {
		const char *s = env + i;
		size_t sl = strnlen(s, n - i);

		if (sl > nl && strncmp(s, name, nl) == 0 && s[nl] == '=') {
			snprintf(out, len, "%.*s", (int)(sl - nl - 1), s + nl + 1);
			return 1;
		}
		i += sl + 1;
	}
	return 0;
}

void
mg_helper_hash_env(struct mg_helper_hash *hh, int secure)
{
	char path[64], *env = NULL, log[16];
	ssize_t r;
	size_t n = 0;
	int fd = -1;

	memset(hh, 0, sizeof(*hh));
	hh->cache.fd = -1;
	if (secure) {
		hh->env_known = 1; /* the preload read no environment */
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)getppid());
	if ((env = malloc(ENV_MAX)) == NULL ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		goto out;
	while (n < ENV_MAX && (r = read(fd, env + n, ENV_MAX - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;
		n += (size_t)r;
	}
	if (n == ENV_MAX)
		goto out;
	hh->env_known = 1;
	hh->env_log = env_get(env, n, "MODELGATE_LOG", log, sizeof(log)) &&
	              log[0] != '\0';
	(void)env_get(env, n, "XDG_CACHE_HOME", hh->xdg, sizeof(hh->xdg));
	(void)env_get(env, n, "HOME", hh->home, sizeof(hh->home));
out:
	if (fd >= 0)
		close(fd);
	free(env);
}

/* Open the cache for appending at CACHE_FD, below nothing but the limit. */
static void
open_cache(struct mg_hashcache *c)
{
	struct rlimit rl = { CACHE_FD, CACHE_FD };
	int fd;

	if (mg_hashcache_open(c) != 0)
		return;
	fd = fcntl(c->fd, F_DUPFD_CLOEXEC, CACHE_FD);
	close(c->fd);
	c->fd = -1;
	if (fd != CACHE_FD || setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		if (fd >= 0)
			close(fd);
		return; /* no writable cache: memory only */
	}
	c->fd = fd;
}

void
mg_helper_hash_setup(struct mg_helper_hash *hh, const struct mg_policy *p)
{
	int locked = p != NULL && mg_policy_locked(p);

	hh->logs = p != NULL && (!hh->env_known || hh->env_log ||
	                         mg_policy_log_file(p) != NULL ||
	                         mg_policy_log_syslog(p) || locked);
	mg_hashcache_init(&hh->cache, locked, hh->xdg[0] ? hh->xdg : NULL,
	                  hh->home[0] ? hh->home : NULL);
	if (locked)
		hh->cache.path[0] = '\0'; /* read the system cache only */
	else if (strcmp(hh->cache.path, hh->cache.sys_path) == 0 &&
	         hh->home[0] == '/')
		snprintf(hh->cache.path, sizeof(hh->cache.path),
		         "%s/.cache/modelgate/hashes", hh->home);
	else if (strcmp(hh->cache.path, hh->cache.sys_path) == 0)
		hh->cache.path[0] = '\0';
	if (hh->cache.path[0] != '\0')
		open_cache(&hh->cache);
}

enum mg_err
mg_helper_hash_for_log(const struct mg_helper_hash *hh,
                       const struct mg_policy *p, const struct mg_report *r,
                       int fd, char hex[65])
{
	if (hex[0] != '\0' || p == NULL)
		return MG_OK;
	if (!hh->logs && mg_policy_report_action(p, r) != MG_ACTION_AUDIT)
		return MG_OK;
	return mg_pin_sha256_cached(&hh->cache, fd, hex, NULL);
}
