/*
 * host_status.c - `modelgate host status`: whether a host is set up the
 * way `host install` leaves it, one line per check, "OK" or "PROBLEM".
 *
 * Each check looks at a piece the way the processes that depend on it
 * do: the library and the helper as root's files in root's directories,
 * /etc/ld.so.preload with the parser install edits it with (host_list.c),
 * a fresh /bin/cat for whether ld.so really maps the library, the policy
 * loaded the way the preload loads it, and whether users' decisions can
 * reach a log.  Status changes nothing.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../policy/pin.h"
#include "../policy/policy.h"
#include "cli.h"
#include "host.h"
#include "mg_paths.h"

/* What `status` found so far. */
struct status {
	int problems;
};

/* "OK      what" or "PROBLEM what"; counts the problems. */
static void MG_PRINTF(3, 4)
report(struct status *s, int good, const char *fmt, ...)
{
	va_list ap;

	printf("%-8s", good ? "OK" : "PROBLEM");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!good)
		s->problems++;
}

/* A file every process trusts: present, root's alone, and so is every
 * directory above it. */
static void
status_file(struct status *s, const char *what, const char *path)
{
	char why[PATH_MAX + 300], dir[PATH_MAX];
	int st = mg_host_file_state(path, why, sizeof(why));

	mg_host_dir_of(path, dir);
	if (st <= 0) {
		report(s, 0, "%s %s: %s", what, path,
		       st == 0 ? "missing" : why);
		return;
	}
	if (mg_host_dirs_safe(dir, why, sizeof(why)) != 0) {
		report(s, 0, "%s %s: %s", what, path, why);
		return;
	}
	report(s, 1, "%s %s: present, root's alone, and so is every directory "
	       "above it", what, path);
}

/* The list names the library (and no other modelgate one). */
static void
status_list(struct status *s, const struct mg_host *h)
{
	char why[PATH_MAX + 300], stale[1024];
	int st = mg_host_file_state(MG_HOST_LIST, why, sizeof(why)), listed;

	if (st <= 0) {
		report(s, 0, "%s: %s", MG_HOST_LIST, st == 0 ? "missing: the "
		       "library is not preloaded" : why);
		return;
	}
	if (mg_host_list_lookup(h->lib, &listed, stale, sizeof(stale)) != 0) {
		report(s, 0, "%s: cannot read: %s", MG_HOST_LIST,
		       strerror(errno));
		return;
	}
	report(s, listed, "%s lists %s", MG_HOST_LIST, h->lib);
	if (stale[0] != '\0')
		report(s, 0, "%s also lists %s (`modelgate host install` drops "
		       "them)", MG_HOST_LIST, stale);
}

/* A fresh process (cat of its own maps, clean environment) has the
 * library mapped, and ld.so said nothing. */
static void
status_loaded(struct status *s, const struct mg_host *h)
{
	char *argv[] = { "/bin/cat", "/proc/self/maps", NULL };
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	char needle[PATH_MAX + 2], line[512];
	struct mg_host_run *r = malloc(sizeof(*r));

	if (r == NULL || mg_host_run_capture(argv, envp, r) != 0) {
		report(s, 0, "a fresh process: cannot run /bin/cat: %s",
		       r ? strerror(errno) : "out of memory");
		free(r);
		return;
	}
	snprintf(needle, sizeof(needle), " %s\n", h->lib);
	if (strstr(r->out, needle) != NULL)
		report(s, 1, "a fresh process (/bin/cat) has %s loaded", h->lib);
	else
		report(s, 0, "a fresh process (/bin/cat) does not have %s "
		       "loaded: programs started now are not protected", h->lib);
	if (r->nerr > 0)
		report(s, 0, "a fresh process prints on stderr: %s",
		       mg_host_first_line(r->err, line, sizeof(line)));
	free(r);
}

/* The host policy: present, root's alone, parses, locked, lockfiles
 * readable.  Returns it loaded (or NULL) for the log checks. */
static struct mg_policy *
status_policy(struct status *s)
{
	struct mg_policy *p;
	struct mg_host_notes n;
	char err[1024];

	status_file(s, "policy", MG_HOST_POLICY);
	p = mg_host_load_policy(&n, err, sizeof(err));
	if (p == NULL) {
		report(s, 0, "policy %s: cannot be loaded: %s",
		       MG_HOST_POLICY, err);
		return NULL;
	}
	if (n.refused)
		report(s, 0, "policy %s: %s", MG_HOST_POLICY, n.why);
	else if (access(MG_HOST_POLICY, F_OK) == 0)
		report(s, 1, "policy %s: valid", MG_HOST_POLICY);
	report(s, !n.refused && mg_policy_locked(p), "policy %s: %s",
	       MG_HOST_POLICY, n.refused ? "refused, so the embedded "
	       "default applies, locked" : mg_policy_locked(p) ? "locked: "
	       "users may only tighten it" : "not locked: any user can loosen "
	       "it with MODELGATE_POLICY");
	if (mg_policy_check_pins(p, err, sizeof(err)) != MG_OK)
		report(s, 0, "policy %s: %s", MG_HOST_POLICY, err);
	return p;
}

/* The helper the library will start: the way preload.c's find_helper()
 * looks (next to the library, then ../../bin, then the built-in BINDIR),
 * root's alone, answering --version like this binary. */
static void
status_helper(struct status *s, const struct mg_host *h)
{
	char cand[3][PATH_MAX + 32], real[PATH_MAX], line[512], want[64];
	const char *pick = NULL;
	int i;

	snprintf(cand[0], sizeof(cand[0]), "%s/modelgate", h->libdir);
	snprintf(cand[1], sizeof(cand[1]), "%s/../../bin/modelgate", h->libdir);
	snprintf(cand[2], sizeof(cand[2]), "%s/modelgate", MG_BINDIR);
	for (i = 0; i < 3 && pick == NULL; i++)
		if (access(cand[i], X_OK) == 0)
			pick = cand[i];
	if (pick == NULL) {
		report(s, 0, "helper: none of %s, %s, %s is executable: every "
		       "model load is denied", cand[0], cand[1], cand[2]);
		return;
	}
	if (realpath(pick, real) != NULL)
		pick = real;
	status_file(s, "helper", pick);
	snprintf(want, sizeof(want), "modelgate %s", MG_VERSION);
	if (!mg_host_helper_runs(pick, line, sizeof(line)))
		report(s, 0, "helper %s: %s", pick, line);
	else
		report(s, strcmp(line, want) == 0, "helper %s runs: %s%s%s",
		       pick, line, strcmp(line, want) ?
		       "; this modelgate is " : "",
		       strcmp(line, want) ? MG_VERSION : "");
}

/* Where users' decisions go: syslog (on, or the policy is locked) needs
 * a /dev/log every user may write; a log_file must take their lines. */
static void
status_log(struct status *s, const struct mg_policy *p)
{
	char why[PATH_MAX + 300];
	struct stat st;
	int sys = p == NULL || mg_policy_log_syslog(p) || mg_policy_locked(p);

	if (sys) {
		int ok = stat("/dev/log", &st) == 0 && S_ISSOCK(st.st_mode) &&
		         (st.st_mode & S_IWOTH);

		report(s, ok, "syslog: /dev/log %s", ok ? "is a socket every "
		       "user may write to" : access("/dev/log", F_OK) != 0 ?
		       "is missing: no syslog daemon listens, and users' "
		       "decisions are not logged" : "is not a socket every "
		       "user may write to: users' decisions are not logged");
	}
	if (p != NULL && mg_policy_log_file(p) != NULL) {
		int ok = mg_policy_log_reachable(p, why, sizeof(why));

		report(s, ok, "log_file %s: %s", mg_policy_log_file(p), ok ?
		       "users' processes can append to it" : why);
		if (!ok)
			printf("        users' decisions go to syslog instead; "
			       "to have them in the file, create it writable "
			       "by all (0622; chattr +a keeps lines from being "
			       "rewritten), or drop log_file\n");
	} else if (!sys) {
		report(s, 0, "log: the policy names no log_file and syslog is "
		       "off: decisions are not logged");
	}
}

int
mg_host_status(const struct mg_host *h)
{
	struct status s = { 0 };
	struct mg_policy *p;

	printf("modelgate host status, prefix %s:\n", h->prefix);
	status_file(&s, "library", h->lib);
	status_list(&s, h);
	status_loaded(&s, h);
	p = status_policy(&s);
	status_helper(&s, h);
	status_log(&s, p);
	mg_policy_free(p);
	printf("%s\n", s.problems ? "some checks found a PROBLEM" :
	       "every check OK");
	mg_host_print_rescue(h);
	return s.problems ? MG_EXIT_BLOCKED : MG_EXIT_OK;
}
