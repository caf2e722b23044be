/*
 * run.c - `modelgate run [--policy FILE] -- CMD ARGS...`: run a command
 * with the preload protecting it.
 *
 * Sets LD_PRELOAD to the absolute path of libmodelgate.so (prepended to
 * any existing value, so the user's own preloads still load) and, with
 * --policy, MODELGATE_POLICY to the file's absolute path; then execs CMD
 * (searched in PATH).  The library is found like the helper is found from
 * the library: next to this binary (build tree), then the installed
 * layout (PREFIX/bin/modelgate -> PREFIX/lib/modelgate/libmodelgate.so),
 * then the compiled-in MG_LIBDIR.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef MG_LIBDIR
#define MG_LIBDIR "/usr/local/lib/modelgate"
#endif

static void
usage(FILE *f)
{
	fprintf(f, "usage: modelgate run [--policy FILE] -- CMD [ARGS...]\n"
	        "Run CMD with libmodelgate.so preloaded: model files it opens "
	        "are scanned\nfirst, and denied (EACCES) or sandboxed as the "
	        "policy says.\n"
	        "  --policy FILE  use FILE as the user policy "
	        "(sets MODELGATE_POLICY)\n"
	        "exit status: that of CMD; 2 on a usage error; 126/127 when "
	        "CMD cannot be run\n");
}

static int
try_lib(char *out, size_t cap, const char *dir, const char *rel)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s/%s", dir, rel) >= (int)sizeof(buf))
		return 0;
	return realpath(buf, out) != NULL && access(out, R_OK) == 0 &&
	       strlen(out) < cap;
}

/* The absolute path of libmodelgate.so into @out[PATH_MAX], or -1. */
static int
find_lib(char *out)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			if (try_lib(out, PATH_MAX, self, "libmodelgate.so") ||
			    try_lib(out, PATH_MAX, self,
			            "../lib/modelgate/libmodelgate.so"))
				return 0;
		}
	}
	return try_lib(out, PATH_MAX, MG_LIBDIR, "libmodelgate.so") ? 0 : -1;
}

/* LD_PRELOAD = LIB[:old]; a path with a space or colon cannot be listed
 * there (ld.so splits on both), so it is refused rather than mangled. */
static int
set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	char *val;
	size_t n;
	int rc;

	if (strpbrk(lib, " :") != NULL) {
		mg_cli_error("run: the library path '%s' contains a space or "
		             "colon, which LD_PRELOAD cannot carry", lib);
		return -1;
	}
	n = strlen(lib) + (old ? strlen(old) : 0) + 2;
	val = malloc(n);
	if (val == NULL)
		return -1;
	if (old != NULL && old[0] != '\0')
		snprintf(val, n, "%s:%s", lib, old);
	else
		snprintf(val, n, "%s", lib);
	rc = setenv("LD_PRELOAD", val, 1);
	free(val);
	return rc;
}

int
mg_cmd_run(int argc, char **argv)
{
	char lib[PATH_MAX], pol[PATH_MAX];
	const char *policy = NULL;
	int i, err;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return MG_EXIT_OK;
		} else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
			policy = argv[++i];
		} else if (strncmp(argv[i], "--policy=", 9) == 0) {
			policy = argv[i] + 9;
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (argv[i][0] == '-') {
			mg_cli_error("run: unknown option '%s'", argv[i]);
			usage(stderr);
			return MG_EXIT_USAGE;
		} else {
			break; /* CMD without "--" */
		}
	}
	if (i >= argc) {
		usage(stderr);
		return MG_EXIT_USAGE;
	}
	if (find_lib(lib) != 0) {
		mg_cli_error("run: libmodelgate.so not found next to this "
		             "binary or in %s", MG_LIBDIR);
		return MG_EXIT_USAGE;
	}
	if (policy != NULL) {
		if (realpath(policy, pol) == NULL) {
			mg_cli_error("run: policy %s: %s", policy,
			             strerror(errno));
			return MG_EXIT_USAGE;
		}
		if (setenv("MODELGATE_POLICY", pol, 1) != 0)
			return MG_EXIT_USAGE;
	}
	if (set_preload(lib) != 0)
		return MG_EXIT_USAGE;
	execvp(argv[i], argv + i);
	/* Why saved: writing the message may fail (stderr closed) and change
	 * errno, turning "not found" (127) into 126. */
	err = errno;
	mg_cli_error("run: cannot run %s: %s", argv[i], strerror(err));
	return err == ENOENT ? 127 : 126;
}
