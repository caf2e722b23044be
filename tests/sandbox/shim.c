/*
 * shim.c - test only: lets a Python test lock its own interpreter with
 * mg_sandbox_lock(), through ctypes, exactly as the preload would inside
 * the intercepted open.  Built as build/tests/libmgsandbox_test.so (see
 * the Makefile); never installed.
 */
#include <stddef.h>
#include <string.h>

#include "../../preload/sandbox.h"

/* Why 16: the tests name a few paths; more is a test bug. */
#define SHIM_MAX_PATHS 16

int mgt_lock(int deny_exec, int dry_run, const char *ro, char *why,
             size_t whylen);
int mgt_describe(int deny_exec, int dry_run, char *buf, size_t len);

/*
 * Lock with the given options; @ro is a ':'-separated list of read-only
 * paths or NULL.  Returns mg_sandbox_lock()'s result.
 */
int
mgt_lock(int deny_exec, int dry_run, const char *ro, char *why,
         size_t whylen)
{
	char copy[4096], *paths[SHIM_MAX_PATHS + 1], *p, *save = NULL;
	struct mg_sandbox_conf conf = { deny_exec, dry_run, NULL };
	size_t n = 0;

	if (ro != NULL && ro[0] != '\0') {
		if (strlen(ro) >= sizeof copy)
			return -36;     /* -ENAMETOOLONG */
		memcpy(copy, ro, strlen(ro) + 1);
		for (p = strtok_r(copy, ":", &save); p != NULL &&
		     n < SHIM_MAX_PATHS; p = strtok_r(NULL, ":", &save))
			paths[n++] = p;
		paths[n] = NULL;
		conf.readonly_paths = paths;
	}
	return mg_sandbox_lock(&conf, why, whylen);
}

/* mg_sandbox_describe() for the given options. */
int
mgt_describe(int deny_exec, int dry_run, char *buf, size_t len)
{
	struct mg_sandbox_conf conf = { deny_exec, dry_run, NULL };

	return mg_sandbox_describe(&conf, buf, len);
}
