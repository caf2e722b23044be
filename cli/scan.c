/*
 * scan.c - `modelgate scan [-f text|json|sarif] [-p FILE] [-q|-v]
 * [--progress|--no-progress] PATH...`
 *
 * Two passes.  First every path is collected: command-line arguments in
 * the order given ('-' is standard input), and for a directory argument
 * every model file below it, sorted bytewise by full path, so the output
 * does not depend on readdir order.  Then each is scanned: the policy's
 * pre-scan checks (SHA-256, pins, registry rules), the scanner, and the
 * policy's verdict -> action.  Output (scan_out.c, sarif.c) follows the
 * collected order.
 *
 * Each file once: a path naming a file (st_dev, st_ino) already scanned -
 * a hard link, or the Hugging Face cache's snapshots/REV/NAME symlinks to
 * ../../blobs/HASH - is reported as the same file, with its result.  Why
 * its pre-scan still runs: pins and registry rules look at the path, so
 * the reuse is exact only when they say the same for both paths (the
 * hash, which the pre-scan needs, comes from the hash cache for big
 * files); when they differ the path is scanned as a file of its own.
 *
 * Exit status: 1 when some file that was read would be sandboxed or
 * denied, whatever else happened; else 2 when a path could not be read or
 * a scan could not finish ("could not decide" is not "decided: reject");
 * else 0.  Usage errors are 2 before anything is read.
 *
 * Why directories only pick model files: a model directory holds READMEs,
 * tokenizer JSON and licences; scanning those as models would report them
 * as unreadable models.  A file named on the command line is always
 * scanned; a file met while recursing is scanned when its extension is a
 * model extension of the policy or its content sniffs as a model format.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <search.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../policy/pin.h"
#include "cli.h"
#include "scan.h"

static const char usage_text[] =
	"usage: modelgate scan [-f text|json|sarif] [-p FILE] [-q|-v]\n"
	"                      [--progress|--no-progress] PATH...\n"
	"\n"
	"Scan model files for code that would run when Python loads them.\n"
	"Files named on the command line are always scanned, in the order\n"
	"given; '-' reads one model from standard input.  Directories are\n"
	"searched recursively for model files (by extension or by content),\n"
	"scanned in sorted order.  A file reached by several paths (hard\n"
	"links, the Hugging Face cache's symlinks) is scanned once; its\n"
	"other paths are reported as the same file.\n"
	"\n"
	"  -f, --format FMT   text (default), json (the document the README\n"
	"                     and modelgate(1) describe), sarif (SARIF 2.1.0,\n"
	"                     for GitHub code scanning)\n"
	"  -p, --policy FILE  layer FILE over the system and default policies\n"
	"                     (default: $MODELGATE_POLICY, if set)\n"
	"  -q, --quiet        text: print only files that would not be\n"
	"                     allowed, and no summary line\n"
	"  -v, --verbose      text: also print info findings and every\n"
	"                     global with its classification\n"
	"      --progress     a progress line on stderr, even when stderr is\n"
	"                     not a terminal (default: when it is, unless -q)\n"
	"      --no-progress  no progress line\n"
	"  -h, --help         this text\n"
	"\n"
	"exit status: 0 every file was read and would be allowed or audited;\n"
	"1 some file would be sandboxed or denied (even when another path\n"
	"could not be read); 2 a usage error, or, when nothing would be\n"
	"blocked, a path that could not be read or a scan that failed.\n"
	"See modelgate(1) and the README.\n";

/* --- progress -------------------------------------------------------------- */

/* One line on stderr, rewritten in place at most every PROGRESS_NS. */
#define PROGRESS_NS 200000000LL

struct progress {
	int on;
	int shown;        /* the line is on stderr now */
	int out_tty;      /* stdout is a terminal too: clear before writing */
	long long start, last; /* CLOCK_MONOTONIC ns; last 0 = never drawn */
	size_t done, total, found;
	uint64_t bytes;
};

static struct progress prog;

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* @b bytes as "12.3 MB" (decimal units, as MB/s is), into @out[@len]. */
static void
human_bytes(double b, char *out, size_t len)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
	unsigned u = 0;

	while (b >= 1000.0 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		b /= 1000.0;
		u++;
	}
	snprintf(out, len, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

static void
progress_draw(int collecting)
{
	long long t = now_ns();
	double secs = (double)(t - prog.start) / 1e9;
	char done[32], rate[32];

	if (!prog.on || (prog.last != 0 && t - prog.last < PROGRESS_NS))
		return;
	prog.last = t;
	prog.shown = 1;
	if (collecting) {
		fprintf(stderr, "\rmodelgate: looking for model files: %zu found"
		        "\033[K", prog.found);
		return;
	}
	human_bytes((double)prog.bytes, done, sizeof(done));
	if (secs >= 0.001)
		human_bytes((double)prog.bytes / secs, rate, sizeof(rate));
	else
		snprintf(rate, sizeof(rate), "-");
	fprintf(stderr, "\rmodelgate: %zu/%zu files, %s, %s/s, %lld:%02lld"
	        "\033[K", prog.done, prog.total, done, rate,
	        (long long)secs / 60, (long long)secs % 60);
}

/* Erase the line, so the next thing on the terminal starts clean. */
static void
progress_clear(void)
{
	if (prog.shown) {
		fputs("\r\033[K", stderr);
		prog.shown = 0;
	}
}

/* An error message on stderr, the progress line erased first. */
static void MG_PRINTF(1, 2)
scan_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	progress_clear();
	mg_cli_error("%s", msg);
}

/* --- collecting paths --------------------------------------------------------- */

static struct mg_scan_run *the_run; /* nftw has no user pointer */

/* Append an entry for @path (copied); -1 when out of memory. */
static int
add_entry(struct mg_scan_run *run, const char *path, int err, int is_stdin)
{
	struct mg_scan_entry *e;
	size_t cap;

	if (run->n == run->cap) {
		cap = run->cap ? 2 * run->cap : 64;
		e = realloc(run->v, cap * sizeof(*e));
		if (e == NULL)
			return -1;
		run->v = e, run->cap = cap;
	}
	e = &run->v[run->n];
	memset(e, 0, sizeof(*e));
	e->path = strdup(path);
	if (e->path == NULL)
		return -1;
	e->err = err, e->is_stdin = is_stdin, e->same_as = -1;
	run->n++;
	prog.found++;
	progress_draw(1);
	return 0;
}

/* 1 if the first bytes of @path are a format modelgate reads. */
static int
content_is_model(const char *path)
{
	unsigned char head[1024];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	n = pread(fd, head, sizeof(head), 0);
	close(fd);
	return n > 0 && mg_scan_sniff(head, (size_t)n) != NULL;
}

static int
walk_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct mg_scan_run *run = the_run;
	struct stat target;

	(void)ftw;
	if (type == FTW_DNR)
		return add_entry(run, path, EACCES, 0) ? -1 : 0;
	/* A file we may not even stat: report it if its name says model. */
	if (type == FTW_NS)
		return mg_policy_model_ext(run->policy, path) &&
		       add_entry(run, path, EACCES, 0) ? -1 : 0;
	/* Symlinked files are followed (the Hugging Face cache is made of
	 * them); symlinked directories are not (FTW_PHYS), so no loops. */
	if (type == FTW_SL) {
		if (stat(path, &target) != 0 || !S_ISREG(target.st_mode))
			return 0;
	} else if (type != FTW_F || !S_ISREG(st->st_mode)) {
		return 0;
	}
	if (mg_policy_model_ext(run->policy, path) ||
	    (type == FTW_F && content_is_model(path)))
		return add_entry(run, path, 0, 0) ? -1 : 0;
	return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mg_scan_entry *)a)->path,
	              ((const struct mg_scan_entry *)b)->path);
}

/* The entries of one command-line argument; -1 when out of memory. */
static int
collect_arg(struct mg_scan_run *run, const char *path)
{
	struct stat st;
	size_t first = run->n;
	int rc;

	if (strcmp(path, "-") == 0)
		return add_entry(run, path, 0, 1);
	if (stat(path, &st) != 0)
		return add_entry(run, path, errno ? errno : ENOENT, 0);
	if (!S_ISDIR(st.st_mode))
		return add_entry(run, path, 0, 0);
	the_run = run;
	errno = 0;
	rc = nftw(path, walk_cb, 32, FTW_PHYS);
	if (rc != 0 && errno == ENOMEM)
		return -1;
	/* The walk stopped (the directory went away, too deep...): what it
	 * found is kept, and the directory itself is reported unreadable. */
	if (rc != 0 && add_entry(run, path, errno ? errno : EIO, 0) != 0)
		return -1;
	/* Why bytewise on the full path: the same tree gives the same
	 * output on every machine and file system, whatever readdir does. */
	qsort(run->v + first, run->n - first, sizeof(run->v[0]), entry_cmp);
	return 0;
}

/* --- reading one file ------------------------------------------------------------ */

/* Copy all @in yields into a new memfd: the fd, or -1 with errno set. */
static int
copy_to_memfd(int in)
{
	int fd = memfd_create("modelgate-stdin", MFD_CLOEXEC), saved;

	if (fd < 0 || mg_cli_copy_fd(fd, in) == 0)
		return fd;
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Open what entry @e names, as a regular file or a memfd holding what a
 * pipe carries (standard input, a FIFO such as <(cmd)), and fstat it into
 * @st.  The fd, or -1 with errno set (and *@why, when errno alone would
 * not say it).
 */
static int
open_entry(const struct mg_scan_entry *e, struct stat *st, const char **why)
{
	int fd, pipe_fd;

	*why = NULL;
	if (e->is_stdin && isatty(STDIN_FILENO)) {
		*why = "standard input is a terminal (pipe a model into it)";
		errno = EINVAL;
		return -1;
	}
	fd = e->is_stdin ? dup(STDIN_FILENO) : open(e->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, st) != 0)
		goto fail;
	if (S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode) ||
	    (e->is_stdin && S_ISCHR(st->st_mode))) {
		pipe_fd = fd;
		fd = copy_to_memfd(pipe_fd);
		close(pipe_fd);
		if (fd < 0 || fstat(fd, st) != 0)
			goto fail;
	}
	if (S_ISREG(st->st_mode))
		return fd;
	*why = "not a regular file";
	errno = EINVAL;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* --- one entry's result --------------------------------------------------------- */

static void
emit_entry(struct mg_scan_run *run, struct mg_scan_entry *e,
           const struct mg_report *r, const char *sha)
{
	run->nverdict[mg_verdict_public(e->verdict)]++;
	if (e->state != MG_ENTRY_UNREADABLE)
		run->naction[e->action]++;
	if (run->format == MG_OUT_TEXT) {
		if (prog.out_tty)
			progress_clear();
		mg_scanout_text_entry(run, e, r);
		return;
	}
	if (run->format == MG_OUT_JSON) {
		if (e->json == NULL &&
		    (r == NULL || mg_scanout_file_text(e, r, sha) != 0))
			run->failed = 1;
		return;
	}
	if (e->obj == NULL && r != NULL)
		e->obj = mg_scanout_file_json(e->path, r, e->action, sha);
	if (e->obj == NULL)
		run->failed = 1;
}

/* Entry @e was read (or not: MG_ENTRY_UNREADABLE) into @r; @err is what
 * the scan returned. */
static void
record(struct mg_scan_run *run, struct mg_scan_entry *e,
       struct mg_report *r, const char *sha, enum mg_err err)
{
	enum mg_action a = mg_policy_report_action(run->policy, r);

	/* What was decided before a failure stands: a file already found
	 * dangerous is blocked even if the rest could not be scanned. */
	e->blocked = e->state != MG_ENTRY_UNREADABLE && a >= MG_ACTION_SANDBOX;
	if (err != MG_OK) {
		e->state = MG_ENTRY_FAILED;
		run->failed = 1;
		scan_error("cannot scan %s: %s", e->path, mg_strerror(err));
		(void)mg_report_add(r, MG_VERDICT_ERROR, "scan.failed", NULL,
		                    NULL, 0, "scan failed: %s", mg_strerror(err));
		a = mg_policy_report_action(run->policy, r);
	}
	if (e->state != MG_ENTRY_UNREADABLE)
		run->nunique++;
	e->verdict = r->verdict;
	e->action = a;
	emit_entry(run, e, r, sha);
}

/* A path that could not be opened or read: reported, exit status 2. */
static void
unreadable(struct mg_scan_run *run, struct mg_scan_entry *e, int err,
           const char *why)
{
	struct mg_report *r = mg_report_new();

	if (why == NULL)
		why = strerror(err);
	scan_error("cannot read %s: %s", e->path, why);
	e->state = MG_ENTRY_UNREADABLE;
	run->nunreadable++;
	if (r == NULL) {
		run->failed = 1;
		e->verdict = MG_VERDICT_ERROR;
		e->action = MG_ACTION_DENY;
		emit_entry(run, e, NULL, NULL);
		return;
	}
	r->format = "unreadable";
	(void)mg_report_add(r, MG_VERDICT_ERROR, "io.unreadable", NULL, NULL,
	                    0, "cannot read the file: %s", why);
	record(run, e, r, NULL, MG_OK);
	mg_report_free(r);
}

/* --- each file once ---------------------------------------------------------------- */

struct inode_key {
	dev_t dev;
	ino_t ino;
	size_t idx;  /* the entry that scanned it */
};

static int
inode_cmp(const void *a, const void *b)
{
	const struct inode_key *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

/* What the pre-scan made of a path: its findings and the skip flag.  A
 * new string, or NULL when out of memory. */
static char *
prescan_said(const struct mg_report *r, int skip)
{
	size_t i, n = 4, at;
	char *s;

	for (i = 0; i < r->nfindings; i++)
		n += strlen(r->findings[i].rule) +
		     strlen(r->findings[i].message) + 2;
	s = malloc(n);
	if (s == NULL)
		return NULL;
	at = (size_t)snprintf(s, n, "%d\n", skip != 0);
	for (i = 0; i < r->nfindings && at < n; i++)
		at += (size_t)snprintf(s + at, n - at, "%s\t%s\n",
		                       r->findings[i].rule,
		                       r->findings[i].message);
	return s;
}

/* The entry that scanned the file @st, or -1. */
static long
scanned_before(const struct mg_scan_run *run, const struct stat *st)
{
	struct inode_key k = { st->st_dev, st->st_ino, 0 };
	struct inode_key **hit = tfind(&k, &run->inodes, inode_cmp);

	return hit != NULL ? (long)(*hit)->idx : -1;
}

/* Remember that entry @idx scanned the file @st. */
static void
remember(struct mg_scan_run *run, size_t idx, const struct stat *st)
{
	struct inode_key *k = malloc(sizeof(*k));
	void *node;

	if (k == NULL)
		return; /* a repeat is then scanned again: slower, not wrong */
	k->dev = st->st_dev, k->ino = st->st_ino, k->idx = idx;
	node = tsearch(k, &run->inodes, inode_cmp);
	if (node == NULL || *(struct inode_key **)node != k)
		free(k);
}

/* Entry @e names the file entry @first scanned: its result, said so. */
static void
repeat(struct mg_scan_run *run, struct mg_scan_entry *e, size_t first)
{
	const struct mg_scan_entry *f = &run->v[first];

	e->same_as = (long)first;
	e->state = f->state;
	e->verdict = f->verdict;
	e->action = f->action;
	e->blocked = f->blocked;
	e->size = f->size;
	if (run->format == MG_OUT_JSON && f->json != NULL &&
	    mg_scanout_repeat_text(e, f) != 0)
		e->json = NULL;
	if (run->format == MG_OUT_SARIF && f->obj != NULL) {
		e->obj = json_deep_copy(f->obj);
		if (e->obj == NULL ||
		    json_object_set_new(e->obj, "path",
		                        mg_scanout_string(e->path)) ||
		    json_object_set_new(e->obj, "same_as",
		                        mg_scanout_string(f->path))) {
			json_decref(e->obj);
			e->obj = NULL;
		}
	}
	emit_entry(run, e, NULL, NULL);
}

/* Scan entry @idx (see the top comment for repeats). */
static void
scan_one(struct mg_scan_run *run, size_t idx)
{
	struct mg_scan_entry *e = &run->v[idx];
	struct mg_report *r = NULL;
	const char *why;
	struct stat st;
	char sha[65] = "", *said = NULL;
	int fd, skip = 0;
	long first;
	enum mg_err err;

	if (e->err != 0) {
		unreadable(run, e, e->err, NULL);
		return;
	}
	fd = open_entry(e, &st, &why);
	if (fd < 0) {
		unreadable(run, e, errno, why);
		return;
	}
	e->size = (uint64_t)st.st_size;
	r = mg_report_new();
	err = r == NULL ? MG_ERR_NOMEM :
	      mg_policy_prescan(run->policy, fd, e->path, r, sha, &skip);
	if (err == MG_OK && (said = prescan_said(r, skip)) == NULL)
		err = MG_ERR_NOMEM;
	first = err == MG_OK ? scanned_before(run, &st) : -1;
	if (first >= 0 && strcmp(said, run->v[first].prescan) == 0) {
		repeat(run, e, (size_t)first);
		goto out;
	}
	if (err == MG_OK && !skip)
		err = mg_scan_fd(&run->opts, fd, e->path, r);
	if (err == MG_ERR_IO) {
		unreadable(run, e, errno ? errno : EIO, NULL);
		goto out;
	}
	if (r == NULL) {
		e->state = MG_ENTRY_FAILED;
		run->failed = 1;
		scan_error("cannot scan %s: %s", e->path, mg_strerror(err));
		e->verdict = MG_VERDICT_ERROR, e->action = MG_ACTION_DENY;
		emit_entry(run, e, NULL, NULL);
		goto out;
	}
	record(run, e, r, sha, err);
	prog.bytes += e->size;
	if (first < 0 && said != NULL) {
		remember(run, idx, &st);
		e->prescan = said;
		said = NULL;
	}
out:
	free(said);
	mg_report_free(r);
	close(fd);
}

/* --- the command ---------------------------------------------------------------- */

static int
parse_format(const char *s, enum mg_scan_format *out)
{
	static const struct { const char *name; enum mg_scan_format f; } t[] = {
		{ "text", MG_OUT_TEXT }, { "json", MG_OUT_JSON },
		{ "sarif", MG_OUT_SARIF },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(s, t[i].name) == 0) {
			*out = t[i].f;
			return 0;
		}
	}
	return -1;
}

static int
exit_status(const struct mg_scan_run *run)
{
	size_t i;

	for (i = 0; i < run->n; i++)
		if (run->v[i].blocked)
			return MG_EXIT_BLOCKED;
	if (run->nunreadable || run->failed)
		return MG_EXIT_USAGE;
	return MG_EXIT_OK;
}

enum { OPT_PROGRESS = 256, OPT_NO_PROGRESS };

/* The options into @run and *@progress (1 on, -1 off, 0 automatic).
 * 0, or -1 after a usage message. */
static int
parse_options(int argc, char **argv, struct mg_scan_run *run,
              const char **policy, int *progress, int *help)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "policy", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, quiet = 0, verbose = 0, i, dash = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:p:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (parse_format(optarg, &run->format) != 0) {
				mg_cli_error("unknown format '%s' (text, json, "
				             "sarif)", optarg);
				return -1;
			}
			break;
		case 'p': *policy = optarg; break;
		case 'q': quiet = 1; break;
		case 'v': verbose = 1; break;
		case OPT_PROGRESS: *progress = 1; break;
		case OPT_NO_PROGRESS: *progress = -1; break;
		case 'h': *help = 1; return 0;
		default: goto usage;
		}
	}
	if (quiet && verbose) {
		mg_cli_error("scan: -q and -v cannot be used together");
		return -1;
	}
	run->verbosity = quiet ? -1 : verbose;
	for (i = optind; i < argc; i++)
		dash += strcmp(argv[i], "-") == 0;
	if (dash > 1) {
		mg_cli_error("scan: '-' (standard input) can be given only once");
		return -1;
	}
	if (optind < argc)
		return 0;
usage:
	fputs(usage_text, stderr);
	return -1;
}

static void
free_run(struct mg_scan_run *run)
{
	size_t i;

	for (i = 0; i < run->n; i++) {
		free(run->v[i].path);
		free(run->v[i].prescan);
		free(run->v[i].json);
		json_decref(run->v[i].obj);
	}
	free(run->v);
	tdestroy(run->inodes, free);
}

/* Collect, scan, print; the exit status. */
static int
scan_all(struct mg_scan_run *run, int argc, char **argv)
{
	int i, status;
	size_t k;

	for (i = optind; i < argc; i++) {
		if (collect_arg(run, argv[i]) != 0) {
			scan_error("out of memory collecting %s", argv[i]);
			return MG_EXIT_USAGE;
		}
	}
	prog.total = run->n;
	prog.last = 0;
	for (k = 0; k < run->n; k++) {
		scan_one(run, k);
		prog.done++;
		progress_draw(0);
	}
	progress_clear();
	status = exit_status(run);
	if (run->format == MG_OUT_TEXT)
		mg_scanout_text_summary(run);
	else if ((run->format == MG_OUT_JSON ? mg_scanout_json(run) :
	          mg_sarif_print(run, status)) != 0)
		run->failed = 1;
	if (fflush(stdout) != 0 || ferror(stdout))
		run->failed = 1;
	if (run->failed)
		mg_cli_error("scan: the report is incomplete (out of memory or "
		             "cannot write)");
	return exit_status(run);
}

int
mg_cmd_scan(int argc, char **argv)
{
	struct mg_scan_run run;
	struct mg_policy *policy = NULL;
	const char *policy_path = NULL;
	char err[512];
	int progress = 0, help = 0, status;

	memset(&run, 0, sizeof(run));
	if (parse_options(argc, argv, &run, &policy_path, &progress, &help))
		return MG_EXIT_USAGE;
	if (help) {
		fputs(usage_text, stdout);
		return MG_EXIT_OK;
	}
	/* The same layering as the preload: --policy, else MODELGATE_POLICY,
	 * over the system policy (which may lock), over the default. */
	if (policy_path == NULL)
		policy_path = getenv("MODELGATE_POLICY");
	if (policy_path != NULL && policy_path[0] == '\0')
		policy_path = NULL;
	if (mg_policy_load_effective(policy_path, 0, &policy, err,
	                             sizeof(err)) != MG_OK) {
		mg_cli_error("%s", err[0] ? err : "cannot load the policy");
		return MG_EXIT_USAGE;
	}
	run.policy = policy;
	mg_scan_opts_default(&run.opts);
	run.opts.classifier = mg_policy_classifier(policy);
	memset(&prog, 0, sizeof(prog));
	prog.on = progress > 0 ||
	          (progress == 0 && run.verbosity >= 0 && isatty(STDERR_FILENO));
	prog.out_tty = isatty(STDOUT_FILENO);
	prog.start = now_ns();
	status = scan_all(&run, argc, argv);
	free_run(&run);
	mg_policy_free(policy);
	return status;
}
