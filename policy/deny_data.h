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

#include <stdint.h>

/* Categories of generated entries, indexes of mg_deny_category_name[]. */
enum mg_deny_cat {
	MG_DENY_K_CODE,   /* "code execution" */
	MG_DENY_K_CMD,    /* "command execution" */
	MG_DENY_K_IMPORT, /* "import or name resolution" */
	MG_DENY_K_NESTED, /* "nested deserializer" */
	MG_DENY_K_FILE,   /* "file system access" */
	MG_DENY_K_NET,    /* "network access" */
	MG_DENY_K_NATIVE, /* "native code loading" */
	MG_DENY_K_TEST,   /* "debugger, profiler or test runner" */
};

/*
 * Why offsets, not pointers: the tables hold about 15,000 entries and the
 * preload carries them into every process it is loaded into.  A table of
 * pointers in a shared object needs one relocation per pointer at every
 * program start (about 38,000, and the pages they sit on become private to
 * each process); offsets into one string need none, so the tables stay
 * clean shared pages that are read only when a lookup happens.
 */

/* Every string of both tables, each NUL-terminated, back to back. */
extern const char mg_deny_strtab[];

/* A derived entry: (module, name) -- name is "*" (module and submodules),
 * a plain name, or "Class.method" -- as offsets into mg_deny_strtab, and
 * the category of the sink it reaches. */
struct mg_deny_entry {
	uint32_t module;
	uint32_t name;
	uint8_t category;  /* enum mg_deny_cat */
};

/* A module-level binding that is another module under another name:
 * "somemodule._os" -> "os" (offsets into mg_deny_strtab). */
struct mg_deny_alias {
	uint32_t from;
	uint32_t to;
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
