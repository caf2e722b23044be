/*
 * packs.c - allow-list packs: named, versioned lists of exact
 * (module, name) pairs compiled into the binary (the policy/packs lists,
 * turned into packs_data.c by scripts/gen-packs) and enabled by name in
 * the policy ("packs = torch, numpy").
 *
 * Lookup is a binary search over the sorted entries, comparing the
 * virtual string "module:name" byte by byte so no key is ever built (this
 * runs once per GLOBAL opcode, in the helper and the CLI).  Entries may
 * be dotted ("mod:Enum.MEMBER"): the pair is matched exactly, as the
 * pickle analyser hands it over for a protocol-4 dotted name or a
 * getattr(Enum, "MEMBER") it reads as one.  A pack has two kinds of
 * entry: allowed (MG_GLOBAL_ALLOWED) and allowed to be rebuilt but not
 * called (MG_GLOBAL_REBUILD, "module:name rebuild" in the .list).
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

/* 1 if "@module:@name" is one of the @n sorted entries @e. */
static int
sorted_has(const char *const *e, size_t n, const char *module,
           const char *name)
{
	size_t lo = 0, hi = n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = vcmp(module, name, e[mid]);
		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

enum mg_gclass
mg_pack_classify(const struct mg_pack *pk, const char *module,
                 const char *name)
{
	if (sorted_has(pk->entries, pk->nentries, module, name))
		return MG_GLOBAL_ALLOWED;
	if (sorted_has(pk->rebuild, pk->nrebuild, module, name))
		return MG_GLOBAL_REBUILD;
	return MG_GLOBAL_UNKNOWN;
}

int
mg_pack_has(const struct mg_pack *pk, const char *module, const char *name)
{
	return mg_pack_classify(pk, module, name) != MG_GLOBAL_UNKNOWN;
}
