/*
 * policy.h - what is allowed and what each verdict does.
 *
 * A policy is the embedded default, optionally layered with the system
 * policy (/etc/modelgate/policy.conf) and a user's file.  It owns the
 * global allow/deny tables the scanner classifies with, the action taken for
 * each verdict, and the settings the preload and helper need.
 *
 * This module links no OpenSSL (the pin table is pin.h): the preload
 * carries a hidden static copy of it.
 */
#ifndef MG_POLICY_H
#define MG_POLICY_H

#include <stdio.h>

#include "../scanner/candidate.h"
#include "../scanner/scanner.h"

struct mg_policy;

/* What happens to a load.  Ordered from most to least permissive. */
enum mg_action {
	MG_ACTION_ALLOW = 0,   /* let the open through */
	MG_ACTION_AUDIT = 1,   /* let it through and log it */
	MG_ACTION_SANDBOX = 2, /* lock the process out of the network first */
	MG_ACTION_DENY = 3,    /* fail the open with EACCES */
};

/* "allow", "audit", "sandbox", "deny"; never NULL. */
const char *mg_action_name(enum mg_action a);

/* The embedded default policy, or NULL when out of memory. */
struct mg_policy *mg_policy_new_default(void) MG_WUR;

/* Free @p; NULL does nothing. */
void mg_policy_free(struct mg_policy *p);

/* The action @p takes for verdict @v (MG_ACTION_DENY for a bad @v or a
 * NULL @p). */
enum mg_action mg_policy_action(const struct mg_policy *p, enum mg_verdict v);

/*
 * The action @p takes for the file @r reports: the strictest of the
 * actions for its verdict and for every other class of finding it has
 * (r->seen), so a worse class with a milder action can never shield a
 * milder class with a stricter one.  MG_ACTION_DENY for a NULL argument.
 */
enum mg_action mg_policy_report_action(const struct mg_policy *p,
                                       const struct mg_report *r);

/*
 * Classify the global (@module, @name) under @p: the policy's own extra
 * lists first, then the embedded tables.  On MG_GLOBAL_DENIED *@category
 * (if not NULL) is set to a static description.  MG_GLOBAL_REBUILD for a
 * pair an enabled pack lists as rebuild-only and nothing allows outright.
 * Thread-safe.
 */
enum mg_gclass mg_policy_classify(const struct mg_policy *p,
                                  const char *module, const char *name,
                                  const char **category);

/* A classifier bound to @p, valid as long as @p lives. */
const struct mg_classifier *mg_policy_classifier(const struct mg_policy *p);

/*
 * The embedded tables alone (policy/globals.c): exact (module, name) pairs
 * allowed, and deny entries (exact pairs, or every name of a module).
 */
enum mg_gclass mg_globals_classify(const char *module, const char *name,
                                   const char **category);


/*
 * Settings the preload and helper read.  Each has an embedded default;
 * the policy file (issue "Policy and pins") can change them.
 */

/* Sandbox options (the [sandbox] section). */
struct mg_sandbox_conf {
	int deny_exec;          /* also forbid execve/execveat (default 0) */
	int dry_run;            /* log what would be blocked, block nothing */
	char **readonly_paths;  /* Landlock read-only paths (NULL-terminated),
	                           or NULL for none */
};

/*
 * Build the effective policy: embedded default < system policy
 * (/etc/modelgate/policy.conf, if present) < @user_path (may be NULL).
 * @secure (AT_SECURE) means: the caller must not have read the environment.
 * On MG_ERR_PARSE/MG_ERR_PERM/MG_ERR_IO, @err names the file and line.
 */
enum mg_err mg_policy_load_effective(const char *user_path, int secure,
                                     struct mg_policy **out, char *err,
                                     size_t errlen) MG_WUR;

/* 1 if the preload acts in a process whose executable is @exe (a path). */
int mg_policy_acts_in(const struct mg_policy *p, const char *exe);

/* 1 if @path ends in one of the policy's model extensions. */
int mg_policy_model_ext(const struct mg_policy *p, const char *path);
/* The same for @path[0..@n), which need not be NUL-terminated. */
int mg_policy_model_ext_n(const struct mg_policy *p, const char *path,
                          size_t n);
/* The same, given @key, the mg_ext key of @path[0..@n)'s extension. */
int mg_policy_model_ext_key(const struct mg_policy *p, const char *path,
                            size_t n, uint64_t key);

/*
 * The extension of the last component of @path[0..@n), after its last
 * '.': @s and @len (@s NULL when there is none), and @key, 0 for none
 * or an empty one, else a function of its ASCII-lower-cased bytes: those
 * bytes packed little-endian when @len is 1 to 8 (MG_EXT_KEY of the
 * lower-case literal), a hash of them when longer.  Equal extensions
 * have equal keys, so a key that differs rules a name out; an equal key
 * is confirmed by comparing the strings.  Why keys: policy/candidate.c.
 */
struct mg_ext {
	const char *s;
	size_t len;
	uint64_t key;
};
void mg_ext_of(const char *path, size_t n, struct mg_ext *e);

/*
 * A set of name endings (suffixes compared case-blind, as the policy's
 * extensions are), kept as bits of hashes of their last one, two or three
 * bytes: mg_tail_set_maybe() says 0 only for a name that ends with none
 * of them, and 1 for a name that may (the caller then tests in full).
 * Why: policy/candidate.c, mg_policy_name_late.  Why | 0x20 and not
 * tolower: the test needs only that a byte and its lower case hash alike.
 */
struct mg_tail_set {
	uint64_t b1[4], b2[64], b3[64];
	int has1, has2, all;    /* entries of 1 or 2 bytes; an empty one */
	int built;
};
void mg_tail_set_add(struct mg_tail_set *t, const char *s, size_t len);

/* The last @k (1 to 3) bytes before @e, folded to a bit of 4,096. */
static inline unsigned
mg_tail_hash(const unsigned char *e, unsigned k)
{
	uint32_t x = (uint32_t)(e[-1] | 0x20u);

	if (k > 1)
		x |= (uint32_t)(e[-2] | 0x20u) << 8;
	if (k > 2)
		x |= (uint32_t)(e[-3] | 0x20u) << 16;
	return (x * 0x9e3779b1u) >> 20;
}

#define MG_TAIL_HAS(b, h) (((b)[(h) >> 6] >> ((h) & 63)) & 1u)

/* Why three sets: a name ends with an entry only if its last
 * min(3, entry's length) bytes are the entry's, so each entry is tested
 * on exactly the bytes it has. */
static inline int
mg_tail_set_maybe(const struct mg_tail_set *t, const char *path, size_t n)
{
	const unsigned char *e = (const unsigned char *)path + n;

	return t->all ||
	       (n >= 3 && MG_TAIL_HAS(t->b3, mg_tail_hash(e, 3))) ||
	       (t->has2 && n >= 2 && MG_TAIL_HAS(t->b2, mg_tail_hash(e, 2))) ||
	       (t->has1 && n >= 1 &&
	        MG_TAIL_HAS(t->b1, (unsigned)(e[-1] | 0x20u)));
}

/* Adds to @t the endings that make a name's class more than its last
 * extension says (mg_policy_name_late). */
void mg_policy_add_open_tails(struct mg_tail_set *t);

/* Byte @i of literal @s in its place; past the end, its NUL (so 0). */
#define MG_EXT_KEY1(s, i)                                                   \
	((uint64_t)(unsigned char)(s)[(i) < sizeof(s) - 1 ? (i) :            \
	                              sizeof(s) - 1] << (8 * (i)))
/* The key of the lower-case string literal @s (1 to 8 bytes). */
#define MG_EXT_KEY(s)                                                       \
	(MG_EXT_KEY1(s, 0) | MG_EXT_KEY1(s, 1) | MG_EXT_KEY1(s, 2) |         \
	 MG_EXT_KEY1(s, 3) | MG_EXT_KEY1(s, 4) | MG_EXT_KEY1(s, 5) |         \
	 MG_EXT_KEY1(s, 6) | MG_EXT_KEY1(s, 7))

/*
 * The candidate test (policy/candidate.c): 1 if a loader could execute
 * the open file @fd (@path may be NULL, @st its fstat): a model name of
 * @p (may be NULL: content only), or, when @sniff, content
 * scanner/candidate.c calls a pickle, container, database or compressed
 * file.  Never allocates, never moves @fd's offset.
 */
struct stat;
int mg_policy_candidate(const struct mg_policy *p, int sniff, int fd,
                        const char *path, const struct stat *st);

/* 1 if @path[0..@n) is a model name of @p: its extension, or a
 * compressed, tar- or zip-wrapped one (x.pkl.gz); @p may be NULL. */
int mg_policy_model_name(const struct mg_policy *p, const char *path,
                         size_t n);

/*
 * What the name of @path[0..@n) says, before any system call:
 * MG_NAME_SKIP  code or package metadata (.py, .so, *.dist-info/, .git/,
 *               an HF cache's refs/): the import system reads it, no
 *               loader; never a candidate;
 * MG_NAME_MODEL a model name of @p (may be NULL): its extension, a
 *               compressed, tar- or zip-wrapped one, any .zip;
 * MG_NAME_DATA  text and image data (.txt, .json, .png...): the content
 *               decides, on magic numbers only (MG_CONTENT_MAGIC; the
 *               preload may take MG_CONTENT_GUARDED | MG_CONTENT_HEAD
 *               instead);
 * MG_NAME_OTHER anything else: the content decides.
 * *@flags gets the MG_CONTENT_ flags the content test takes for it.
 */
enum mg_name_class {
	MG_NAME_SKIP, MG_NAME_MODEL, MG_NAME_DATA, MG_NAME_OTHER
};
#define MG_CONTENT_MAGIC       1u /* magic numbers only, no opcode walk */
#define MG_CONTENT_HEAD        2u /* a data name's: judged on the file's
                                     head, metadata directories let
                                     through (preload/gate.c) */
#define MG_CONTENT_AT_OPEN     4u /* judged at the open, never deferred */
#define MG_CONTENT_GUARDED     8u /* the walk, names checked as the guard
                                     does (MG_CAND_WALK_GUARDED): where it
                                     refuses, for the names that leave it
                                     to the content */
#define MG_CONTENT_WINDOW_ONLY 16u /* the windows at offset 0 only: no look
                                     for an HDF5 superblock past them (the
                                     preload watches the later reads) */
enum mg_name_class mg_policy_name_class(const struct mg_policy *p,
                                        const char *path, size_t n,
                                        unsigned *flags);

/* mg_policy_name_class() without the directory walk: a metadata path
 * (below) is MG_NAME_OTHER here.  The preload's, on every open: it asks
 * mg_policy_metadata_path() only of the few files whose content is a
 * candidate (gate.c). */
enum mg_name_class mg_policy_name_class_lazy(const struct mg_policy *p,
                                             const char *path, size_t n,
                                             unsigned *flags);

/*
 * 1 if the class of @path[0..@n) can wait for the file's first read: the
 * name ends with nothing that makes it a model name of @p or a name
 * judged at the open (a wrapper's, a database's, a dbm.dumb index's, a
 * site .pth).  Its class then depends only on its last extension, which
 * its last MG_TAIL_LEN bytes hold if it has one a list names:
 * mg_policy_tail_class() of those bytes is mg_policy_name_class_lazy()
 * of the name.  0 when unsure (@p NULL, or its extensions not indexed),
 * and when @p does not sniff (such a name is then never judged).
 */
enum { MG_TAIL_LEN = 16 };
int mg_policy_name_late(const struct mg_policy *p, const char *path,
                        size_t n);
/* The class of a late name (above) from @tail, its last @len bytes
 * (@len at most MG_TAIL_LEN, the whole name when shorter): MG_NAME_SKIP,
 * MG_NAME_DATA or MG_NAME_OTHER, *@flags as mg_policy_name_class_lazy
 * sets them. */
enum mg_name_class mg_policy_tail_class(const char *tail, size_t len,
                                        unsigned *flags);

/* 1 if a directory of @path is package metadata (*.dist-info, *.egg-info,
 * .git, an HF cache's refs/): MG_NAME_SKIP for names other than data
 * names (mg_policy_name_class). */
int mg_policy_metadata_path(const char *path);

/*
 * The content test on bytes in hand: the first @len bytes a reader got
 * of a file of @size bytes (UINT64_MAX when unknown), judged as @flags
 * say.  MG_CAND_YES, MG_CAND_NO, or MG_CAND_UNSURE when @len is too short
 * to tell; compressed content is MG_CAND_YES.
 */
enum mg_cand mg_policy_bytes_candidate(const uint8_t *b, size_t len,
                                       uint64_t size, unsigned flags);

/* 1 if @fd, a file of @size bytes, has the HDF5 signature where libhdf5
 * looks for a superblock after a user block: 512, 1024, ... while it
 * fits (scanner/candidate.h). */
int mg_policy_hdf5_past_window(int fd, off_t size);

/* The content test on the open file @fd (@st its fstat): one pread at
 * offset 0, a second, larger one if that cannot tell; when they say no,
 * an 8-byte pread at each offset libhdf5 looks for a superblock after a
 * user block (512, 1024, ... within the file), unless @flags has
 * MG_CONTENT_WINDOW_ONLY.  1 if a candidate. */
int mg_policy_content_candidate(int fd, const struct stat *st,
                                unsigned flags);

/* 1 if files are also recognised by content (model magic), default 1. */
int mg_policy_sniff(const struct mg_policy *p);

/* Audit log file path, or NULL for none; and whether to use syslog. */
const char *mg_policy_log_file(const struct mg_policy *p);
int mg_policy_log_syslog(const struct mg_policy *p);

/*
 * The in-process guard on pickle.find_class (the [guard] section,
 * preload/guard.c): what it does with a global the deny rules name when a
 * pickle is loaded from memory or from a file the preload did not stop.
 * Ordered from least to most strict (a locked policy only moves it up).
 */
enum mg_guard_mode {
	MG_GUARD_OFF = 0,   /* no hook is registered */
	MG_GUARD_AUDIT = 1, /* the global resolves; the refusal it would have
	                       been is logged */
	MG_GUARD_DENY = 2,  /* find_class raises PermissionError (default) */
};

/* The guard mode of @p: MG_GUARD_DENY for a NULL @p. */
enum mg_guard_mode mg_policy_guard(const struct mg_policy *p);

/* "off", "audit", "deny"; never NULL. */
const char *mg_guard_mode_name(enum mg_guard_mode m);

/* The sandbox options; never NULL for a valid @p. */
const struct mg_sandbox_conf *mg_policy_sandbox(const struct mg_policy *p);

/*
 * Write @p as a policy file that parses back to the same settings
 * (`modelgate policy show`).  Lockfile paths are absolute.
 */
void mg_policy_write(const struct mg_policy *p, FILE *f);

/*
 * Use @path as the system policy instead of /etc/modelgate/policy.conf
 * (NULL restores it).  For tests and the CLI's hidden --system-policy:
 * deliberately not an environment variable, so no user can point a
 * preloaded process at a policy of their own choosing.  The file must
 * still be root-owned and writable by root alone.  Not thread-safe: call
 * before loading.
 */
void mg_policy_set_system_path(const char *path);

/* The system policy path in use; never NULL. */
const char *mg_policy_system_path(void);

/* 1 if the effective policy is locked (by the system policy, or because
 * a system policy was refused). */
int mg_policy_locked(const struct mg_policy *p);

/*
 * 1 if a process of any unprivileged user can append to @p's log_file
 * (judged by mode bits alone, ACLs aside): it exists, is a regular file,
 * not a symlink (the log is opened O_NOFOLLOW), writable by others, and
 * every directory above it is searchable by others.  0 otherwise, with
 * @why saying what stops them; 0 with @why "" when @p names no log_file.
 * Why it matters: under a locked host policy users' processes log their
 * decisions; a file they cannot append to loses them (the preload then
 * falls back to syslog, and `policy check` / `host status` say so).
 */
int mg_policy_log_reachable(const struct mg_policy *p, char *why,
                            size_t whylen);

/*
 * Parse @text (@len bytes, need not be NUL-terminated) as if it were the
 * system policy, named @name in messages: the embedded default with it
 * layered on, its `locked` setting kept.  No ownership or mode test: the
 * caller vouches for where the bytes came from (`modelgate host install`
 * validates exactly the bytes it installs).  Relative lockfile paths
 * resolve against @name's directory.  MG_OK, MG_ERR_PARSE (@err is
 * "name:line: what"), MG_ERR_NOMEM.  Warnings go to the note sink.
 */
enum mg_err mg_policy_parse_text(const char *name, const char *text,
                                 size_t len, struct mg_policy **out,
                                 char *err, size_t errlen) MG_WUR;

/* --- notes -------------------------------------------------------------- */

/*
 * What loading a policy has to say besides its result.  By default each
 * note is printed on stderr as it happens (and an ignored setting is also
 * logged): right for the CLI.  The preload cannot do that - it loads the
 * policy in every process on the host, `ls` included - so it installs a
 * sink that keeps the notes and reports them once, when the process first
 * decides on a model.
 */
enum mg_note_kind {
	MG_NOTE_REFUSED = 0, /* the system policy was refused (unsafe owner
	                        or mode, unreadable, does not parse); the
	                        embedded default applies, locked */
	MG_NOTE_WARNING = 1, /* a file parsed, with a warning about a line */
	MG_NOTE_IGNORED = 2, /* a user setting ignored under the lock */
};

/* One note; every pointer is valid only during the sink's call. */
struct mg_note {
	enum mg_note_kind kind;
	const char *text;     /* the whole message, "modelgate: ...", no
	                         newline; never NULL */
	const char *file;     /* the policy file it is about; never NULL */
	int line;             /* its line in @file, 0 for none */
	const char *key;      /* MG_NOTE_IGNORED: the key; NULL otherwise */
	const char *log_file; /* MG_NOTE_IGNORED: the system's log_file at
	                         the time, or NULL */
};

/* A sink: called once per note, during mg_policy_load_effective() or
 * mg_policy_parse_text(), from the loading thread. */
typedef void (*mg_note_fn)(void *ctx, const struct mg_note *n);

/*
 * Send notes to @fn (with @ctx) instead of the default; NULL restores
 * the default: print the text on stderr and, for MG_NOTE_IGNORED, log a
 * "policy.locked" JSON line to syslog (LOG_AUTHPRIV) and to @log_file
 * (saying so on stderr when the file cannot be appended to).  Process-
 * wide and not thread-safe: set it before loading.
 */
void mg_policy_set_note_sink(mg_note_fn fn, void *ctx);

/*
 * The JSON line (newline included) that records @n in an audit log:
 * {"time","pid","uid","event":"policy.refused"|"policy.warning"|
 * "policy.locked","file","line","key","message"} into @buf.  Its length,
 * or 0 when it does not fit in @cap (nothing usable is written then).
 */
size_t mg_policy_note_json(const struct mg_note *n, char *buf, size_t cap);

#endif /* MG_POLICY_H */
