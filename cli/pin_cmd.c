/*
 * pin_cmd.c - `modelgate pin`: print sha256sum-compatible lockfile lines
 * for model files, or check a lockfile for drift.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../policy/pin.h"
#include "cli.h"

static const char usage_text[] =
"usage: modelgate pin [--no-cache] FILE|DIR...\n"
"       modelgate pin [--no-cache] --check LOCKFILE\n"
"\n"
"Print one lockfile line per file ('<sha256>  <path>', as sha256sum does;\n"
"directories recurse), e.g.  modelgate pin models/ > models.lock\n"
"Append ' deny' to a line to deny that content wherever it appears.\n"
"--check verifies every allow line of LOCKFILE: 'PATH: OK', 'PATH: FAILED'\n"
"(content drifted) or 'PATH: MISSING'.\n"
"--no-cache hashes every file instead of using the hash cache\n"
"(~/.cache/modelgate/hashes; as root /var/cache/modelgate/hashes).\n"
"\n"
"exit status: 0 all good, 1 drift or missing files, 2 usage or read error\n";

struct pin_run {
	struct mg_hashcache cache;
	int use_cache;
	char **paths;
	size_t n, cap;
	int oom;
};

static struct pin_run *the_run; /* nftw has no context pointer */

static int
hash_path(struct pin_run *r, const char *path, char hex[65])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	enum mg_err e;

	if (fd < 0)
		return -1;
	e = mg_pin_sha256_cached(r->use_cache ? &r->cache : NULL, fd, hex,
	                         NULL);
	close(fd);
	return e == MG_OK ? 0 : -1;
}

/* sha256sum's line: a name with '\\' or a newline is escaped, and the
 * line then starts with '\\'. */
static void
print_line(const char *hex, const char *path)
{
	const char *s;

	if (strpbrk(path, "\\\n") == NULL) {
		printf("%s  %s\n", hex, path);
		return;
	}
	printf("\\%s  ", hex);
	for (s = path; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", stdout);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s);
	}
	putchar('\n');
}

static int
collect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct pin_run *r = the_run;
	char **np;

	(void)ftw;
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		np = realloc(r->paths, r->cap * sizeof(*np));
		if (np == NULL) {
			r->oom = 1;
			return 1;
		}
		r->paths = np;
	}
	r->paths[r->n] = strdup(path);
	if (r->paths[r->n] == NULL) {
		r->oom = 1;
		return 1;
	}
	r->n++;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Hash and print one argument (a file, or every file under a dir). */
static int
pin_arg(struct pin_run *r, const char *arg)
{
	char hex[65];
	size_t i, first = r->n;
	int status = MG_EXIT_OK;

	the_run = r;
	if (nftw(arg, collect, 32, FTW_PHYS) != 0 || r->oom) {
		mg_cli_error("%s: %s", arg, r->oom ? "out of memory" :
		             strerror(errno));
		return MG_EXIT_USAGE;
	}
	qsort(r->paths + first, r->n - first, sizeof(char *), cmp_str);
	for (i = first; i < r->n; i++) {
		if (hash_path(r, r->paths[i], hex) != 0) {
			mg_cli_error("%s: %s", r->paths[i], strerror(errno));
			status = MG_EXIT_USAGE;
			continue;
		}
		print_line(hex, r->paths[i]);
	}
	return status;
}

static int
check_lock(struct pin_run *r, const char *lockfile)
{
	struct mg_pintab t;
	char err[1024], hex[65];
	size_t i, bad = 0, n = 0;
	int status = MG_EXIT_OK;

	memset(&t, 0, sizeof(t));
	if (mg_pintab_load(&t, lockfile, 0, err, sizeof(err)) != MG_OK) {
		mg_cli_error("%s", err);
		mg_pintab_clear(&t);
		return MG_EXIT_USAGE;
	}
	for (i = 0; i < t.n; i++) {
		if (t.pins[i].deny)
			continue; /* a deny pin names content, not a file */
		n++;
		if (access(t.pins[i].path, F_OK) != 0) {
			printf("%s: MISSING\n", t.pins[i].path);
			bad++;
		} else if (hash_path(r, t.pins[i].path, hex) != 0) {
			printf("%s: FAILED open or read\n", t.pins[i].path);
			bad++;
		} else if (strcmp(hex, t.pins[i].hex) != 0) {
			printf("%s: FAILED (pinned %.16s..., now %.16s...)\n",
			       t.pins[i].path, t.pins[i].hex, hex);
			bad++;
		} else {
			printf("%s: OK\n", t.pins[i].path);
		}
	}
	if (bad) {
		mg_cli_error("%zu of %zu pinned files drifted or are missing",
		             bad, n);
		status = MG_EXIT_BLOCKED;
	}
	mg_pintab_clear(&t);
	return status;
}

int
mg_cmd_pin(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check", required_argument, NULL, 'c' },
		{ "no-cache", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pin_run r;
	const char *lock = NULL;
	int c, i, status = MG_EXIT_OK, s;

	memset(&r, 0, sizeof(r));
	r.use_cache = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:nh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': lock = optarg; break;
		case 'n': r.use_cache = 0; break;
		case 'h': fputs(usage_text, stdout); return MG_EXIT_OK;
		default: fputs(usage_text, stderr); return MG_EXIT_USAGE;
		}
	}
	if ((lock == NULL) == (optind >= argc)) {
		fputs(usage_text, stderr);
		return MG_EXIT_USAGE;
	}
	mg_hashcache_default(&r.cache, 0);
	if (lock != NULL)
		return check_lock(&r, lock);
	for (i = optind; i < argc; i++) {
		s = pin_arg(&r, argv[i]);
		if (s > status)
			status = s;
	}
	for (i = 0; (size_t)i < r.n; i++)
		free(r.paths[i]);
	free(r.paths);
	return status;
}
