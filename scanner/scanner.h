/*
 * scanner.h - the modelgate scanning engine, front header.
 *
 * The scanner answers one question: what would the real loader (CPython's
 * _pickle, torch.load, np.load, joblib.load, keras) execute from these bytes?
 * It is a set of pure functions over bytes it is given.  It never executes
 * input, never decides policy beyond asking a classifier it is handed what a
 * (module, name) global is, and never writes anywhere but into a report.
 *
 * Layout: scanner.h (this file: errors, verdicts, reports, options, entry
 * points), pickle.h (the opcode analyser, used by every format reader),
 * formats.h (private: one reader per container format, the sniffer).
 *
 * A malicious input is not an error.  Scanning a pickle that calls os.system
 * returns MG_OK with a report whose verdict is MG_VERDICT_DANGEROUS.  An
 * enum mg_err is returned only when the scanner itself could not do its work
 * (no memory, the file could not be read, a bad argument).
 */
#ifndef MG_SCANNER_H
#define MG_SCANNER_H

#include <stddef.h>
#include <stdint.h>

#define MG_VERSION "0.1.0"

#if defined(__GNUC__)
#define MG_WUR __attribute__((warn_unused_result))
#define MG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MG_WUR
#define MG_PRINTF(f, a)
#endif

/* Error codes of every modelgate module.  Part of the API: never renumber. */
enum mg_err {
	MG_OK = 0,          /* success */
	MG_ERR_NOMEM = 1,   /* an allocation failed */
	MG_ERR_IO = 2,      /* open/stat/read/mmap failed; errno was kept */
	MG_ERR_INVAL = 3,   /* a caller passed an invalid argument */
	MG_ERR_PARSE = 4,   /* a configuration file (policy, lockfile) is malformed */
	MG_ERR_PROTO = 5,   /* the helper protocol broke (short read, bad reply) */
	MG_ERR_PERM = 6,    /* refused: unsafe ownership/permissions of a file */
	MG_ERR_TIMEOUT = 7, /* the helper did not answer in time */
	MG_ERR_UNSUPPORTED = 8, /* the kernel or build lacks a feature */
};

/* A static, human-readable description of @err; never NULL. */
const char *mg_strerror(enum mg_err err);

/*
 * Verdicts, ordered so that the verdict of a file is the maximum of the
 * verdicts of its findings: a parse error after a denied global keeps the
 * file dangerous, and an error is never better than unknown.
 *
 * MG_VERDICT_UNKNOWN_CALL is internal: the JSON contract (DESIGN.md) has
 * four verdicts, and an unknown call is one kind of "unknown" there
 * (mg_verdict_name() says "unknown"; its rule, pickle.call.unknown, and
 * its action tell it apart).  Why a verdict level and not a flag on the
 * report: every container reader already carries findings and verdicts
 * from nested reports into the file's (zip members, joblib's nested
 * loads, TorchScript, torch's legacy format), and the helper sends the
 * preload a verdict.  A level of its own travels all those paths without
 * one more thing for each of them to forget.  Why between unknown and
 * error: it is worse than rebuilding an object (the file chooses what
 * runs), and an error still hides what the analyser could not follow.
 * The action a policy takes does not depend on that order alone: see
 * mg_policy_report_action() (every class a file has counts).
 *
 * Values are not part of any file format; the helper protocol carries
 * them (preload/proto.h names its version).
 */
enum mg_verdict {
	MG_VERDICT_CLEAN = 0,     /* every global allowed; nothing can run code */
	MG_VERDICT_UNKNOWN = 1,   /* some global on neither list, at most
	                             rebuilt as an object (cls.__new__(cls),
	                             then its state) or used as a value */
	MG_VERDICT_UNKNOWN_CALL = 2, /* a global on neither list is called
	                             with arguments from the file (REDUCE,
	                             OBJ, INST, NEWOBJ/NEWOBJ_EX with args) */
	MG_VERDICT_ERROR = 3,     /* not parseable the way the loader parses it */
	MG_VERDICT_DANGEROUS = 4, /* denied global, structural trick, code */
};
#define MG_VERDICT_COUNT 5

/* "clean", "unknown", "error", "dangerous" (MG_VERDICT_UNKNOWN_CALL is
 * "unknown"); never NULL. */
const char *mg_verdict_name(enum mg_verdict v);

/* The contract's verdict of @v: MG_VERDICT_UNKNOWN_CALL is
 * MG_VERDICT_UNKNOWN, every other value is itself. */
enum mg_verdict mg_verdict_public(enum mg_verdict v);

/* Severity shown to a reviewer; derived from the finding's verdict. */
const char *mg_severity_name(enum mg_verdict v);

/* One thing a reviewer should know about a file. */
struct mg_finding {
	enum mg_verdict verdict; /* what this finding alone makes of the file */
	const char *rule;        /* stable rule id, static storage, e.g.
	                            "pickle.global.denied" */
	char *global;            /* "module name" as the loader resolves it, or NULL */
	char *member;            /* archive member (or "pickle #N"), or NULL */
	uint64_t offset;         /* byte offset inside the member (or file) */
	char *message;           /* one sentence a security reviewer acts on */
};

/* A global the loader would resolve, recorded once per distinct pair. */
struct mg_global {
	char *module;
	char *name;
	enum mg_verdict verdict; /* clean = allowed, unknown, dangerous = denied */
};

/*
 * The result of scanning one file.  Owned by the caller; free with
 * mg_report_free().  Findings beyond MG_REPORT_MAX_FINDINGS are counted in
 * @dropped but not stored (the verdict still accounts for them).
 */
#define MG_REPORT_MAX_FINDINGS 256
#define MG_REPORT_MAX_GLOBALS 4096
struct mg_report {
	enum mg_verdict verdict;
	unsigned seen;             /* bit (1u << v) for every verdict v a
	                              finding or global brought in, stored or
	                              dropped: which classes the file has */
	unsigned kept;             /* bit (1u << v) for every verdict v of a
	                              stored finding */
	const char *format;        /* static name of the outer format, e.g.
	                              "pickle", "torch-zip"; "unknown" if none */
	struct mg_finding *findings;
	size_t nfindings, capfindings;
	size_t dropped;            /* findings not stored (cap reached) */
	struct mg_global *globals; /* distinct globals seen, in first-seen order */
	size_t nglobals, capglobals;
	unsigned npickles;         /* pickle streams scanned */
};

/* A new, empty (clean) report, or NULL when out of memory. */
struct mg_report *mg_report_new(void) MG_WUR;

/* Free @r and everything it owns; NULL does nothing. */
void mg_report_free(struct mg_report *r);

/*
 * Add a finding.  @global and @member may be NULL.  The report's verdict is
 * raised to @v.  Strings are copied.  Returns MG_OK or MG_ERR_NOMEM (in which
 * case the verdict has still been raised, so nothing is lost to fail-open).
 * Past MG_REPORT_MAX_FINDINGS a finding is stored anyway when none of its
 * verdict is stored yet (at most one per verdict): readers that merge a
 * nested report copy its stored findings, so every class survives.
 */
enum mg_err mg_report_add(struct mg_report *r, enum mg_verdict v,
                          const char *rule, const char *global,
                          const char *member, uint64_t offset,
                          const char *fmt, ...) MG_PRINTF(7, 8);

/* 1 if a finding of verdict @v would be stored (not only counted). */
int mg_report_would_store(const struct mg_report *r, enum mg_verdict v);

/* Record a resolved global (deduplicated).  MG_OK or MG_ERR_NOMEM. */
enum mg_err mg_report_add_global(struct mg_report *r, const char *module,
                                 const char *name, enum mg_verdict v);

/* What a classifier says of one (module, name) global. */
enum mg_gclass {
	MG_GLOBAL_UNKNOWN = 0, /* on neither list */
	MG_GLOBAL_ALLOWED = 1, /* exact pair on the allow-list */
	MG_GLOBAL_DENIED = 2,  /* on the deny-list; *category says why */
	MG_GLOBAL_REBUILD = 3, /* exact pair a pack allows to be rebuilt
	                          (pushed, NEWOBJ with no arguments, a
	                          copyreg._reconstructor cls, then its state),
	                          never called: a call runs the class's
	                          constructor on what the file chooses (the
	                          analyser makes it pickle.call.unknown) */
};

/*
 * The scanner asks, never decides: the policy layer hands it a classifier.
 * @classify must be pure and thread-safe.  On MG_GLOBAL_DENIED it sets
 * *category to a static string ("code execution", ...).
 */
struct mg_classifier {
	enum mg_gclass (*classify)(void *ctx, const char *module,
	                           const char *name, const char **category);
	void *ctx;
};

/* Bounds on work and memory.  Hitting any of them is a finding (error). */
struct mg_scan_opts {
	const struct mg_classifier *classifier; /* required */
	size_t max_stack;        /* symbolic stack depth */
	size_t max_memo;         /* memo entries */
	unsigned max_pickles;    /* stacked pickles per stream */
	unsigned max_depth;      /* container nesting depth */
	uint64_t max_decompressed; /* bytes produced by one decompression */
	unsigned max_members;    /* archive members examined */
	int sniff;               /* 1: decide format by content (default) */
	/* Set by mg_scan_fd() alone (NULL otherwise): the read-only file
	   mapping the bytes lie in, whose pages readers may drop from
	   this process once read past (mg_scan_drop in formats.h). */
	const uint8_t *map;
	size_t map_len;
	/* Set by mg_scan_fd() alone (-1 otherwise): the file scanned, for
	   the one reader that must hand a file to a library (dbm.c reads
	   Berkeley DB and GDBM files with libdb and libgdbm). */
	int fd;
};

/* Fill @o with the defaults (documented in scanner.c), classifier NULL. */
void mg_scan_opts_default(struct mg_scan_opts *o);

/*
 * Scan the bytes @buf[0..@len) named @name (a path, used for extension
 * checks and messages only) into @rep.  MG_OK even when the verdict is
 * dangerous or error; MG_ERR_NOMEM or MG_ERR_INVAL otherwise.
 */
enum mg_err mg_scan_buffer(const struct mg_scan_opts *o, const char *name,
                           const uint8_t *buf, size_t len,
                           struct mg_report *rep) MG_WUR;

/*
 * Scan the open file @fd (a regular file) named @name.  Reads by mmap or
 * pread only: the file offset of @fd is never moved, so the caller's load
 * can proceed from where it was.  MG_ERR_IO when the file cannot be read
 * (errno kept), else as mg_scan_buffer().
 */
enum mg_err mg_scan_fd(const struct mg_scan_opts *o, int fd, const char *name,
                       struct mg_report *rep) MG_WUR;


/*
 * Static name of the format the first bytes of @buf show ("pickle", "zip",
 * "npy", ...), or NULL when they match no format modelgate reads or knows.
 * Cheap: looks at no more than the first 1 KiB.
 */
const char *mg_scan_sniff(const uint8_t *buf, size_t len);

/*
 * Load libhdf5 now; the HDF5 reader otherwise dlopen()s it on its first
 * file.  For a process about to confine itself (the helper, before its
 * seccomp filter).  Idempotent and thread-safe.  NULL when loaded, else
 * why not (a static string).
 */
const char *mg_hdf5_load(void);

#endif /* MG_SCANNER_H */
