/*
 * paths.c - where this modelgate's own files are: the preload library
 * that belongs with this binary.
 *
 * Found the way the preload finds the helper from the library, in
 * reverse: next to this binary (the build tree), then the installed
 * layout (PREFIX/bin/modelgate -> PREFIX/lib/modelgate/libmodelgate.so),
 * then the compiled-in MG_LIBDIR.  Why this binary's location first: a
 * `modelgate` from a build tree must hand out its own library, not an
 * older installed one.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef MG_LIBDIR
#define MG_LIBDIR "/usr/local/lib/modelgate"
#endif

static int
try_lib(char *out, size_t cap, const char *dir, const char *rel)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s/%s", dir, rel) >= (int)sizeof(buf))
		return 0;
	return realpath(buf, out) != NULL && access(out, R_OK) == 0 &&
	       strlen(out) < cap;
}

int
mg_cli_find_lib(char *out)
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

const char *
mg_cli_libdir(void)
{
	return MG_LIBDIR;
}
