/*
 * host.c - `modelgate host install|uninstall|status`: protect every
 * process of a shared host (the library in /etc/ld.so.preload, a locked
 * /etc/modelgate/policy.conf), take it off again, and say whether a host
 * is set up right.
 *
 * A library named in /etc/ld.so.preload is mapped into every dynamically
 * linked process, setuid programs included (ld.so trusts that file), so
 * whoever can replace the library, or rename any directory above it, runs
 * code as root.  Install therefore refuses unless every directory from /
 * down to each installed file is root-owned and writable by root alone,
 * and names the first one that is not.  Sticky world-writable directories
 * (/tmp, /var/tmp) are refused too, although the sticky bit does stop
 * other users renaming or deleting root's entries in them: a path under
 * one does not stay root's.  /tmp is emptied at boot or by cleaners
 * (systemd-tmpfiles, tmpreaper), and once root's directory is gone any
 * user may create the same path with a library of their own in it, which
 * ld.so would then load into root's next process.
 *
 * Every file is replaced the same way: a temporary file in the same
 * directory, fsync, rename over the old one, fsync the directory.  A
 * library that running processes have mapped must never be rewritten in
 * place (they would crash), and /etc/ld.so.preload is read by every
 * program start: a half-written one would name a truncated path.
 *
 * Order matters.  Install proves the installed library loads (/bin/true
 * under LD_PRELOAD: exit 0, nothing on stderr) before /etc/ld.so.preload
 * names it; uninstall removes the entry before the files, and removes it
 * even when the library is already gone, because ld.so answers a missing
 * listed library with an error line in every process on the host.
 *
 * Rejected: editing /etc/ld.so.preload in place (not atomic); leaving
 * the file's other entries to the administrator (install and uninstall
 * keep every line that is not ours byte for byte); writing a full copy of
 * the embedded default as the host policy (it would pin today's defaults,
 * and an upgraded modelgate's better ones would never apply).
 *
 * This file has the options, install, uninstall and the host policy;
 * host.h lists the files that do the other parts (the file system, running
 * the checks' programs, the list, status).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../policy/pin.h"
#include "../policy/policy.h"
#include "cli.h"
#include "host.h"

/* The first line of a policy install wrote; uninstall removes the file
 * only while it is there. */
#define HEADER "# Written by `modelgate host install`"

static const char usage_text[] =
"usage: modelgate host install [--policy FILE] [--prefix P]\n"
"       modelgate host uninstall [--prefix P]\n"
"       modelgate host status [--prefix P]\n"
"\n"
"install    copy this modelgate and its library to P/bin/modelgate and\n"
"           P/lib/modelgate/libmodelgate.so (every directory above them\n"
"           must be root-owned and writable by root alone), check that the\n"
"           library loads, write " MG_HOST_POLICY " (FILE, which\n"
"           must say locked = yes; without --policy the embedded default\n"
"           with locked = yes and syslog = yes; an existing different file\n"
"           is kept, or with --policy backed up as policy.conf.bak.N), then\n"
"           add the library to " MG_HOST_LIST ", so every program\n"
"           started afterwards loads it\n"
"uninstall  take the library out of " MG_HOST_LIST " first (also\n"
"           when it is already missing), then remove the files install put\n"
"           in P and the policy it wrote (a policy without its header is\n"
"           kept)\n"
"status     check every piece and print OK or PROBLEM for each\n"
"\n"
"P defaults to /usr/local.  Root only.  install and status print how to\n"
"get a working system back if something goes wrong.\n"
"\n"
"exit status: 0 done (status: every check OK), 1 status found a PROBLEM,\n"
"2 usage error or a step failed (the message says what was done)\n";

void
mg_host_fail(const struct mg_host *h, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mg_cli_error("host %s: %s", h->cmd, msg);
}

/*
 * @p resolved into @out[PATH_MAX]: symlinks in its existing part
 * followed (the checks and ld.so.preload must name real directories),
 * the part that does not exist yet appended.
 */
static int
resolve_prefix(const struct mg_host *h, const char *p, char *out)
{
	char head[PATH_MAX], tail[PATH_MAX] = "", tmp[PATH_MAX], res[PATH_MAX];
	char *slash;

	if (p[0] != '/' || strlen(p) >= sizeof(head)) {
		mg_host_fail(h, "--prefix %s: not an absolute path", p);
		return -1;
	}
	snprintf(head, sizeof(head), "%s", p);
	while (strlen(head) > 1 && head[strlen(head) - 1] == '/')
		head[strlen(head) - 1] = '\0';
	while (realpath(head, res) == NULL) {
		slash = strrchr(head, '/');
		if (errno != ENOENT || slash == NULL ||
		    strcmp(slash, "/.") == 0 || strcmp(slash, "/..") == 0) {
			mg_host_fail(h, "--prefix %s: %s", p, errno != ENOENT ?
			             strerror(errno) : "'.' or '..' in a part "
			             "that does not exist");
			return -1;
		}
		snprintf(tmp, sizeof(tmp), "%s%s", slash, tail);
		memcpy(tail, tmp, sizeof(tail));
		if (slash == head)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	if (snprintf(out, PATH_MAX, "%s%s", strcmp(res, "/") == 0 &&
	             tail[0] ? "" : res, tail) >= PATH_MAX) {
		mg_host_fail(h, "--prefix %s: path too long", p);
		return -1;
	}
	return 0;
}

static int
set_paths(struct mg_host *h, const char *prefix)
{
	const char *base;

	if (resolve_prefix(h, prefix, h->prefix) != 0)
		return -1;
	base = strcmp(h->prefix, "/") == 0 ? "" : h->prefix;
	if (snprintf(h->bindir, PATH_MAX, "%s/bin", base) >= PATH_MAX ||
	    snprintf(h->bin, PATH_MAX, "%s/bin/modelgate", base) >= PATH_MAX ||
	    snprintf(h->libdir, PATH_MAX, "%s/lib/modelgate", base) >=
	    PATH_MAX || snprintf(h->lib, PATH_MAX, "%s/lib/modelgate/%s", base,
	                         MG_HOST_LIB_NAME) >= PATH_MAX) {
		mg_host_fail(h, "--prefix %s: path too long", prefix);
		return -1;
	}
	return 0;
}

/* Copy @src to @dst unless it already is that file. */
static int
install_copy(const struct mg_host *h, const char *src, const char *dst,
             mode_t mode)
{
	if (mg_host_same_file(src, dst)) {
		printf("  %s is already this one: not copied\n", dst);
		if (chown(dst, 0, 0) == 0 && chmod(dst, mode) == 0)
			return 0;
		mg_host_fail(h, "cannot make %s root:root %04o: %s", dst,
		             (unsigned)mode, strerror(errno));
		return -1;
	}
	if (mg_host_copy_atomic(h, src, dst, mode) != 0)
		return -1;
	printf("  installed %s (from %s)\n", dst, src);
	return 0;
}

/* --- the host policy ----------------------------------------------------- */

/* The note sink of mg_host_load_policy(): a refusal is kept, the rest
 * shown. */
static void
keep_refusal(void *ctx, const struct mg_note *n)
{
	struct mg_host_notes *c = ctx;

	if (n->kind == MG_NOTE_REFUSED) {
		c->refused = 1;
		snprintf(c->why, sizeof(c->why), "%s", n->text);
		return;
	}
	printf("        %s\n", n->text);
}

/* The policy install writes without --policy: a header, then only what
 * differs from the embedded default, so later defaults still apply. */
static int
default_policy(struct mg_host_buf *b)
{
	char when[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return mg_host_buf_str(b, HEADER " (modelgate " MG_VERSION ") on ") |
	       mg_host_buf_str(b, when) |
	       mg_host_buf_str(b, ".\n"
	       "# `modelgate host uninstall` removes this file while the line "
	       "above is\n"
	       "# here: delete that line to keep the file.\n"
	       "# The embedded default (`modelgate policy show --default`), "
	       "locked so\n"
	       "# users may only tighten it, with every decision also sent to "
	       "syslog.\n"
	       "[policy]\n"
	       "locked = yes\n"
	       "syslog = yes\n");
}

/* @s past its leading '#' lines. */
static const char *
past_header(const char *s)
{
	while (*s == '#') {
		s = strchr(s, '\n');
		if (s == NULL)
			return "";
		s++;
	}
	return s;
}

/* Read and validate --policy FILE into @b: it must parse and be locked. */
static int
read_policy_arg(const struct mg_host *h, struct mg_host_buf *b)
{
	struct mg_policy *p = NULL;
	char err[1024];
	int rc = -1;

	if (mg_host_read_text(h->policy, b) != 0) {
		mg_host_fail(h, "cannot read %s: %s", h->policy,
		             strerror(errno));
		return -1;
	}
	if (mg_policy_parse_text(h->policy, b->p, b->n, &p, err,
	                         sizeof(err)) != MG_OK) {
		mg_host_fail(h, "%s", err);
		return -1;
	}
	if (!mg_policy_locked(p)) {
		mg_host_fail(h, "%s does not say `locked = yes` in [policy]: "
		             "any user could loosen it with MODELGATE_POLICY; "
		             "refusing to install it as the host policy",
		             h->policy);
		goto done;
	}
	if (mg_policy_check_pins(p, err, sizeof(err)) != MG_OK) {
		mg_host_fail(h, "%s: %s", h->policy, err);
		goto done;
	}
	if (mg_policy_log_file(p) != NULL &&
	    !mg_policy_log_reachable(p, err, sizeof(err)))
		printf("  warning: %s: %s; users' decisions will go to syslog "
		       "only\n", h->policy, err);
	rc = 0;
done:
	mg_policy_free(p);
	return rc;
}

/* Link @MG_HOST_POLICY as policy.conf.bak.N, the first N free. */
static int
backup_policy(const struct mg_host *h)
{
	char bak[PATH_MAX];
	int i;

	for (i = 1; i < 1000; i++) {
		snprintf(bak, sizeof(bak), "%s.bak.%d", MG_HOST_POLICY, i);
		if (link(MG_HOST_POLICY, bak) == 0) {
			printf("  backed up %s as %s\n", MG_HOST_POLICY, bak);
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	mg_host_fail(h, "cannot back up %s as %s: %s", MG_HOST_POLICY, bak,
	             strerror(errno));
	return -1;
}

/* Load the installed host policy (as every process will); NULL when it
 * cannot be loaded at all.  A refusal is in @n. */
struct mg_policy *
mg_host_load_policy(struct mg_host_notes *n, char *err, size_t errlen)
{
	struct mg_policy *p = NULL;

	memset(n, 0, sizeof(*n));
	mg_policy_set_system_path(MG_HOST_POLICY);
	mg_policy_set_note_sink(keep_refusal, n);
	if (mg_policy_load_effective(NULL, 0, &p, err, errlen) != MG_OK)
		p = NULL;
	mg_policy_set_note_sink(NULL, NULL);
	return p;
}

/* After writing, or keeping, the policy: does it load, locked? */
static int
verify_policy(const struct mg_host *h, int kept)
{
	struct mg_policy *p;
	struct mg_host_notes n;
	char err[1024];
	int locked;

	p = mg_host_load_policy(&n, err, sizeof(err));
	locked = p != NULL && mg_policy_locked(p);
	mg_policy_free(p);
	if (p != NULL && !n.refused && locked)
		return 0;
	if (!kept) {
		mg_host_fail(h, "the policy written does not load: %s",
		             n.refused ? n.why : err);
		return -1;
	}
	printf("  warning: the kept %s %s; see `modelgate host status`\n",
	       MG_HOST_POLICY, n.refused ? "is refused (the embedded default "
	       "applies, locked)" : "is not locked: users can loosen it");
	return 0;
}

/* Put @want (--policy FILE's bytes, or the default host policy) in
 * place, unless an equal one is there or, without --policy, any other. */
static int
install_policy(const struct mg_host *h, const struct mg_host_buf *want)
{
	struct mg_host_buf have = { NULL, 0, 0 };
	int rc = -1, exists;

	if (mg_host_mkdirs(h, MG_HOST_POLICY_DIR) != 0)
		goto done;
	exists = mg_host_read_text(MG_HOST_POLICY, &have) == 0;
	if (!exists && errno != ENOENT) {
		mg_host_fail(h, "cannot read %s: %s", MG_HOST_POLICY,
		             strerror(errno));
		goto done;
	}
	/* Why past the header for the default: it carries the date. */
	if (exists && (h->policy ? have.n == want->n &&
	               memcmp(have.p, want->p, want->n) == 0 :
	               strncmp(have.p, HEADER, strlen(HEADER)) == 0 &&
	               !strcmp(past_header(have.p), past_header(want->p)))) {
		printf("  %s is already in place\n", MG_HOST_POLICY);
		rc = verify_policy(h, 1);
		goto done;
	}
	if (exists && h->policy == NULL) {
		printf("  kept the existing %s: it differs from the default "
		       "host policy (--policy FILE replaces it, after a "
		       "backup)\n", MG_HOST_POLICY);
		rc = verify_policy(h, 1);
		goto done;
	}
	if (exists && backup_policy(h) != 0)
		goto done;
	if (mg_host_write_atomic(h, MG_HOST_POLICY, want->p, want->n,
	                         0644) != 0)
		goto done;
	printf("  wrote %s (%s)\n", MG_HOST_POLICY, h->policy ? h->policy :
	       "the embedded default, locked, syslog on");
	rc = verify_policy(h, 0);
done:
	mg_host_buf_free(&have);
	return rc;
}

/* --- install ------------------------------------------------------------- */

void
mg_host_print_rescue(const struct mg_host *h)
{
	printf("\nIf something goes wrong (programs fail to start, or print "
	       "ld.so errors):\n"
	       "  1. modelgate host uninstall --prefix %s\n"
	       "     takes the entry out of %s first, then the files.\n"
	       "  2. Or, from any root shell, delete the line\n"
	       "       %s\n"
	       "     from %s (or delete the file if that is its only line).\n"
	       "     Programs started afterwards no longer load it; no reboot "
	       "is needed.\n"
	       "     Moving the library away works too: ld.so skips a listed "
	       "library it\n"
	       "     cannot open (with a warning from every program).\n"
	       "  3. If no shell starts at all: every dynamically linked "
	       "program loads\n"
	       "     the library, /bin/sh too, so init=/bin/sh does not help "
	       "then.  Use the\n"
	       "     initramfs shell (Debian initramfs-tools: add `break` to "
	       "the kernel\n"
	       "     command line; dracut: rd.break), a rescue or live system, "
	       "or a\n"
	       "     statically linked shell (busybox-static), mount the root "
	       "file system\n"
	       "     and delete the line from its etc/ld.so.preload.  "
	       "init=/bin/sh is\n"
	       "     enough when the shell starts but services do not: mount "
	       "-o remount,rw /\n"
	       "     and do step 2.\n", h->prefix, MG_HOST_LIST, h->lib,
	       MG_HOST_LIST);
}

/* Every directory an installed file will sit in is root's alone. */
static int
check_dirs(const struct mg_host *h)
{
	const char *dirs[] = { h->bindir, h->libdir, "/etc",
	                       MG_HOST_POLICY_DIR };
	char why[PATH_MAX + 300];
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (mg_host_dirs_safe(dirs[i], why, sizeof(why)) != 0) {
			mg_host_fail(h, "%s: every directory above a file "
			             "in %s must be root-owned and writable by "
			             "root alone; refusing", why, MG_HOST_LIST);
			return -1;
		}
	return 0;
}

/*
 * The installed library loads: /bin/true under it exits 0 and prints
 * nothing that /bin/true without it does not (nothing, on a healthy host;
 * a broken entry already in the list would make every program complain,
 * with or without ours).
 */
static int
check_loads(const struct mg_host *h)
{
	char env[PATH_MAX + 16], line[512];
	char *argv[] = { "/bin/true", NULL };
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", env, NULL };
	struct mg_host_run *r = malloc(sizeof(*r));
	struct mg_host_run *base = malloc(sizeof(*base));
	int ok = 0;

	if (r == NULL || base == NULL) {
		mg_host_fail(h, "out of memory");
		goto done;
	}
	snprintf(env, sizeof(env), "LD_PRELOAD=%s", h->lib);
	if (mg_host_run_capture(argv, envp + 1, base) != 0 ||
	    mg_host_run_capture(argv, envp, r) != 0) {
		mg_host_fail(h, "cannot run /bin/true: %s", strerror(errno));
		goto done;
	}
	ok = mg_host_exited_0(r) && r->nerr == base->nerr &&
	     memcmp(r->err, base->err, r->nerr) == 0;
	if (!ok)
		mg_host_fail(h, "/bin/true under %s %s: %s; %s not changed",
		             env, mg_host_exited_0(r) ? "printed on stderr" :
		             "failed", r->nerr ? mg_host_first_line(r->err,
		             line, sizeof(line)) : "(nothing on stderr)",
		             MG_HOST_LIST);
	else
		printf("  checked: /bin/true runs under %s (exit 0, nothing on "
		       "stderr%s)\n", env, base->nerr ? " that it does not "
		       "print without" : "");
done:
	free(r);
	free(base);
	return ok ? 0 : -1;
}

static int
cmd_install(struct mg_host *h)
{
	char self[PATH_MAX], srclib[PATH_MAX], line[512];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct mg_host_buf pol = { NULL, 0, 0 };
	int rc = MG_EXIT_USAGE;

	if (n <= 0 || mg_cli_find_lib(srclib) != 0) {
		mg_host_fail(h, "cannot find %s", n <= 0 ?
		             "this modelgate binary" :
		             "the libmodelgate.so of this modelgate");
		return MG_EXIT_USAGE;
	}
	self[n] = '\0';
	printf("modelgate host install, prefix %s:\n", h->prefix);
	/* Why first: a policy that would be refused changes nothing; and
	 * the bytes validated are the bytes installed (read once). */
	if (h->policy != NULL ? read_policy_arg(h, &pol) != 0 :
	    default_policy(&pol) != 0 && (mg_host_fail(h, "out of memory"), 1))
		goto done;
	if (check_dirs(h) != 0 || mg_host_mkdirs(h, h->bindir) != 0 ||
	    mg_host_mkdirs(h, h->libdir) != 0 || check_dirs(h) != 0 ||
	    install_copy(h, srclib, h->lib, 0644) != 0 ||
	    install_copy(h, self, h->bin, 0755) != 0 || check_loads(h) != 0)
		goto done;
	if (!mg_host_helper_runs(h->bin, line, sizeof(line))) {
		mg_host_fail(h, "%s: %s; %s not changed", h->bin, line,
		             MG_HOST_LIST);
		goto done;
	}
	printf("  checked: %s --version: %s\n", h->bin, line);
	if (install_policy(h, &pol) != 0 || mg_host_list_add(h) != 0)
		goto done;
	printf("done: every program started from now on loads %s; it acts "
	       "only in the processes the policy covers (python* by "
	       "default).  `modelgate host status` checks the set-up.\n",
	       h->lib);
	mg_host_print_rescue(h);
	rc = MG_EXIT_OK;
done:
	mg_host_buf_free(&pol);
	return rc;
}

/* --- uninstall ----------------------------------------------------------- */

/* Remove @path if it is a file install would have put there, and not
 * this very build's copy reached through another name (a hard link). */
static int
remove_file(const struct mg_host *h, const char *path, const char *mine,
            int *did)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		mg_host_fail(h, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
		printf("  kept %s: not a file\n", path);
		return 0;
	}
	if (mine[0] != '\0' && strcmp(mine, path) != 0 &&
	    mg_host_same_file(mine, path)) {
		printf("  kept %s: it is %s, this build's own copy\n", path,
		       mine);
		return 0;
	}
	if (unlink(path) != 0) {
		mg_host_fail(h, "cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	mg_host_fsync_dir(path);
	printf("  removed %s\n", path);
	*did = 1;
	return 0;
}

/* The policy, only if install wrote it (its header is still there). */
static int
remove_policy(const struct mg_host *h, int *did)
{
	struct mg_host_buf b = { NULL, 0, 0 };
	int rc = 0;

	if (mg_host_read_text(MG_HOST_POLICY, &b) != 0) {
		if (errno != ENOENT) {
			mg_host_fail(h, "cannot read %s: %s", MG_HOST_POLICY,
			             strerror(errno));
			rc = -1;
		}
	} else if (strncmp(b.p, HEADER, strlen(HEADER)) != 0) {
		printf("  kept %s: `modelgate host install` did not write it "
		       "(no header line)\n", MG_HOST_POLICY);
	} else if (unlink(MG_HOST_POLICY) != 0) {
		mg_host_fail(h, "cannot remove %s: %s", MG_HOST_POLICY,
		             strerror(errno));
		rc = -1;
	} else {
		mg_host_fsync_dir(MG_HOST_POLICY);
		printf("  removed %s\n", MG_HOST_POLICY);
		*did = 1;
		if (rmdir(MG_HOST_POLICY_DIR) == 0)
			printf("  removed the directory %s\n",
			       MG_HOST_POLICY_DIR);
	}
	mg_host_buf_free(&b);
	return rc;
}

static int
cmd_uninstall(struct mg_host *h)
{
	char self[PATH_MAX] = "", mylib[PATH_MAX] = "";
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int did = 0, rc = 0;

	self[n > 0 ? n : 0] = '\0';
	if (mg_cli_find_lib(mylib) != 0)
		mylib[0] = '\0';
	printf("modelgate host uninstall, prefix %s:\n", h->prefix);
	/* The entry first: from here on no new process loads the library,
	 * so removing it cannot leave ld.so errors behind. */
	if (mg_host_list_remove(h, &did) != 0)
		return MG_EXIT_USAGE;
	rc |= remove_file(h, h->lib, mylib, &did);
	if (rmdir(h->libdir) == 0)
		printf("  removed the directory %s\n", h->libdir);
	rc |= remove_file(h, h->bin, self, &did);
	rc |= remove_policy(h, &did);
	if (!did)
		printf("  nothing to remove: modelgate is not installed "
		       "there\n");
	return rc ? MG_EXIT_USAGE : MG_EXIT_OK;
}


/* --- the command --------------------------------------------------------- */

int
mg_cmd_host(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "prefix", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mg_host h;
	const char *prefix = "/usr/local";
	int c;

	memset(&h, 0, sizeof(h));
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		fputs(usage_text, stdout);
		return MG_EXIT_OK;
	}
	if (argc < 2) {
		fputs(usage_text, stderr);
		return MG_EXIT_USAGE;
	}
	h.cmd = argv[1];
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "+p:P:h", longopts,
	                        NULL)) != -1) {
		switch (c) {
		case 'p': h.policy = optarg; break;
		case 'P': prefix = optarg; break;
		case 'h': fputs(usage_text, stdout); return MG_EXIT_OK;
		default: fputs(usage_text, stderr); return MG_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || (h.policy && strcmp(h.cmd, "install") != 0) ||
	    (strcmp(h.cmd, "install") && strcmp(h.cmd, "uninstall") &&
	     strcmp(h.cmd, "status"))) {
		fputs(usage_text, stderr);
		return MG_EXIT_USAGE;
	}
	if (geteuid() != 0) {
		mg_host_fail(&h, "must be run as root: it %s",
		             strcmp(h.cmd, "status") ? "changes " MG_HOST_LIST
		             " and " MG_HOST_POLICY : "reads every piece the "
		             "way root's processes do");
		return MG_EXIT_USAGE;
	}
	if (set_paths(&h, prefix) != 0)
		return MG_EXIT_USAGE;
	/* Why line-buffered: the steps and the errors of a failed one must
	 * come out in order, also into a log or a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(h.cmd, "install") == 0)
		return cmd_install(&h);
	if (strcmp(h.cmd, "uninstall") == 0)
		return cmd_uninstall(&h);
	return mg_host_status(&h);
}

