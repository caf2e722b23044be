/*
 * packs.c - allow-list packs: named, versioned lists of exact
 * (module, name) pairs compiled into the binary (the policy/packs lists,
 * turned into packs_data.c by scripts/gen-packs) and enabled by name in
 * the policy ("packs = torch, numpy").
 *
 * Lookup is a binary search over the sorted entries, comparing the
 * virtual string "module:name" byte by byte so no key is ever built (this
 * runs once per GLOBAL opcode, in the helper and the CLI).
 */
#include <string.h>

#include "policy_int.h"

const struct mg_pack *
mg_pack_find(const char *name)
{
	size_t i;

	for (i = 0; mg_packs_builtin[i] != NULL; i++)
		if (strcmp(mg_packs_builtin[i]->name, name) == 0)
			return mg_packs_builtin[i];
	return NULL;
}

/* strcmp("@m:@n", @e) without building the left-hand string. */
static int
vcmp(const char *m, const char *n, const char *e)
{
	const char *parts[3] = { m, ":", n };
	const char *s;
	int i;

	for (i = 0; i < 3; i++)
		for (s = parts[i]; *s != '\0'; s++, e++)
			if (*s != *e)
				return (unsigned char)*s - (unsigned char)*e;
	return -(int)(unsigned char)*e;
}

int
mg_pack_has(const struct mg_pack *pk, const char *module, const char *name)
{
	size_t lo = 0, hi = pk->nentries, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = vcmp(module, name, pk->entries[mid]);
		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}
