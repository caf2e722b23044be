/* sandbox.c - placeholder until the lock lands: always fails, so a
 * "sandbox" action denies (fail closed). */
#include <errno.h>
#include <stdio.h>

#include "sandbox.h"

int
mg_sandbox_lock(const struct mg_sandbox_conf *conf, char *why, size_t whylen)
{
	(void)conf;
	snprintf(why, whylen, "the network sandbox is not built yet");
	return -ENOSYS;
}

int
mg_sandbox_active(void)
{
	return 0;
}
