/* globals.c - placeholder until the tables land: nothing allowed. */
#include "policy.h"

enum mg_gclass
mg_globals_classify(const char *module, const char *name,
                    const char **category)
{
	(void)module; (void)name; (void)category;
	return MG_GLOBAL_UNKNOWN;
}
