/*
 * run.c - `modelgate run [--policy FILE] -- CMD ARGS...`: run a command
 * with the preload protecting it.
 *
 * Sets LD_PRELOAD to the absolute path of libmodelgate.so (prepended to
 * any existing value, so the user's own preloads still load) and, with
 * --policy, MODELGATE_POLICY to the file's absolute path; then execs CMD
 * (searched in PATH).  The library is found by mg_cli_find_lib (paths.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

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
	if (mg_cli_find_lib(lib) != 0) {
		mg_cli_error("run: libmodelgate.so not found next to this "
		             "binary or in %s", mg_cli_libdir());
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
