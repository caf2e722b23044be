/*
 * deny_data.h - the generated deny-list and alias table (policy/deny_data.c,
 * written by scripts/gen-deny from the installed Python stacks; policy/globals.c
 * searches them after its hand-written table).
 *
 * Both arrays are sorted bytewise (strcmp order) by the generator, so they are
 * searched with bsearch() as they are: no start-up sort, no allocation.
 */
#ifndef MG_DENY_DATA_H
#define MG_DENY_DATA_H

#include <stddef.h>

/* Categories of generated entries: the same strings as policy/globals.c's. */
#define MG_DENY_C_CODE   "code execution"
#define MG_DENY_C_CMD    "command execution"
#define MG_DENY_C_IMPORT "import or name resolution"
#define MG_DENY_C_NESTED "nested deserializer"
#define MG_DENY_C_FILE   "file system access"
#define MG_DENY_C_NET    "network access"
#define MG_DENY_C_NATIVE "native code loading"
#define MG_DENY_C_TEST   "debugger, profiler or test runner"

/* A derived entry: (module, name) -- name is "*" (module and submodules),
 * a plain name, or "Class.method" -- and the category of the sink it reaches. */
struct mg_deny_entry {
	const char *module;
	const char *name;
	const char *category;
};

/* A module-level binding that is another module under another name:
 * "somemodule._os" -> "os". */
struct mg_deny_alias {
	const char *from;
	const char *to;
};

/* The derived entries, sorted by (module, name). */
extern const struct mg_deny_entry mg_deny_generated[];
/* Number of entries of mg_deny_generated. */
extern const size_t mg_deny_generated_n;
/* The alias table, sorted by from. */
extern const struct mg_deny_alias mg_deny_aliases[];
/* Number of entries of mg_deny_aliases. */
extern const size_t mg_deny_aliases_n;

#endif
