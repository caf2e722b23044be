/*
 * pickle.h - the pickle opcode analyser.
 *
 * Walks a pickle stream exactly as CPython's Modules/_pickle.c would
 * (protocols 0-5), keeping a symbolic stack and memo, and reports every
 * global the loader would resolve, normalised as the loader normalises it,
 * classified by the classifier in the scan options.  Never executes input.
 *
 * Every format reader calls this; it calls nothing back up except the
 * optional hooks below (which the joblib and torch readers use to step over
 * raw array bodies and to learn storage keys).
 */
#ifndef MG_PICKLE_H
#define MG_PICKLE_H

#include "scanner.h"

/* Kinds of symbolic value on the analyser's stack and memo. */
enum mg_pkind {
	MG_PV_NONE, MG_PV_BOOL, MG_PV_INT, MG_PV_BIGINT, MG_PV_FLOAT,
	MG_PV_STR,    /* text (unicode); data/len hold UTF-8 */
	MG_PV_BYTES,  /* bytes/bytearray/protocol-0 STRING; data/len */
	MG_PV_TUPLE, MG_PV_LIST, MG_PV_DICT /* items: k0,v0,k1,v1,... */,
	MG_PV_SET, MG_PV_FROZENSET,
	MG_PV_GLOBAL, /* module/name: a resolved global (class or function) */
	MG_PV_CALL,   /* result of REDUCE/NEWOBJ/NEWOBJ_EX/OBJ/INST:
	                 items[0] = callable, items[1] = args (tuple),
	                 state = BUILD state when one was applied, or NULL */
	MG_PV_PERSID, /* result of PERSID/BINPERSID: items[0] = the pid */
	MG_PV_BUFFER, /* NEXT_BUFFER out-of-band buffer */
	MG_PV_EXT,    /* EXT1/2/4 registry object (always a finding) */
	MG_PV_OTHER,  /* anything the analyser does not model */
};

/*
 * A symbolic value.  Owned by the analyser's arena; valid only during the
 * hook call that receives it.  Values may be shared (memo, DUP).
 *
 * Bounds (pickle.c): tuples and dicts keep their first 256 items (what a
 * hook needs: joblib's state dict, torch's persistent-id tuple), so nitems
 * may be less than the real length; lists and sets keep none (nitems is
 * always 0: nothing reads them, and keeping them costs memory per value).  NEWOBJ_EX's args are (args, kwargs).
 * A protocol-0 STRING/UNICODE longer than 4 KiB once decoded is validated
 * but not materialised: data is NULL and len its decoded length.  STRING,
 * BINSTRING and SHORT_BINSTRING values are MG_PV_BYTES here although the
 * default loaders decode them to str (STACK_GLOBAL accepts them as such).
 */
struct mg_pvalue {
	enum mg_pkind kind;
	int64_t i;                  /* BOOL, INT (BIGINT: not representable) */
	double f;                   /* FLOAT */
	const uint8_t *data;        /* STR, BYTES */
	size_t len;
	const char *module, *name;  /* GLOBAL (normalised, NUL-terminated) */
	struct mg_pvalue **items;   /* TUPLE, LIST, DICT, SET, CALL, PERSID */
	size_t nitems;
	struct mg_pvalue *state;    /* CALL: state given by BUILD, or NULL */
};

/*
 * Optional callbacks for format readers.  All may be NULL.
 *
 * on_build: called after BUILD has attached @state to @obj (an MG_PV_CALL
 *   whose callable is a GLOBAL).  @pos is the stream offset just after the
 *   BUILD opcode.  The hook may ask the analyser to step over @*skip raw
 *   bytes that the loader reads from the file at this point (joblib writes
 *   array bodies there), or to scan a nested pickle there by returning 1
 *   with *skip = 0 (the analyser then scans a complete inner pickle in
 *   place, and continues after its STOP).  Return 0 to continue normally,
 *   1 for "nested pickle here", -1 to stop with an error finding that the
 *   hook has already added to the report.
 *
 *   Refinements (pickle.c): @pos is where the loader's *file* position is,
 *   which is what joblib's read_array reads from.  Outside a FRAME that is
 *   just after BUILD.  Inside a FRAME it is the end of that frame: the
 *   pure-Python unpickler joblib uses reads a whole frame before running
 *   its opcodes, so the raw bytes follow the frame; the analyser then runs
 *   the rest of the frame's opcodes and resumes at @pos + *skip (or after
 *   the nested pickle's STOP).  A 1 with *skip > 0 skips first, then scans
 *   the nested pickle.  A skip past the end of the buffer is an error
 *   finding.  The analyser calls on_build only when @obj's callable is an
 *   MG_PV_GLOBAL, and nests pickles at most 4 deep (more: pickle.limit).
 *
 * on_persid: called for each persistent id the loader would pass to
 *   persistent_load (torch uses ('storage', type, key, location, numel)).
 *
 * on_nested: called for REDUCE(torch.storage _load_from_bytes, (b,)) where
 *   b is one literal bytes value (BINBYTES, SHORT_BINBYTES or BINBYTES8):
 *   the shape pickle.dumps of a tensor or storage writes, which runs
 *   torch.load on b when loaded.  @data/@len are b (pointing into the
 *   buffer being scanned), @pos the stream offset of the REDUCE opcode
 *   (with the scan's base added).  The hook scans b as the nested
 *   torch.save stream it is and adds its findings to the report; it
 *   returns 0 when it did, -1 when out of memory (the analyser stops).
 *   Because the nested stream is scanned, that call is not a denied
 *   global: the analyser records the global as clean.  Every other use
 *   of _load_from_bytes - other arguments, bytes from protocol 0-2
 *   (_codecs.encode of a str), BUILD on it or its result, or a NULL
 *   on_nested - is judged by the classifier as usual.  Last member, so
 *   the positional initialisers { on_build, on_persid, ctx } of existing
 *   readers leave it NULL.
 */
struct mg_pickle_hooks {
	int (*on_build)(void *ctx, const struct mg_pvalue *obj,
	                const uint8_t *buf, size_t len, size_t pos,
	                size_t *skip);
	void (*on_persid)(void *ctx, const struct mg_pvalue *pid);
	void *ctx;
	int (*on_nested)(void *ctx, const uint8_t *data, size_t len,
	                 uint64_t pos);
};

/*
 * Scan one pickle starting at @buf[0] (up to and including its STOP) into
 * @rep.  @member names where it lives (NULL for the file itself) and @base
 * is added to every offset reported.  On return *@end is the offset just
 * after STOP, or the offset where parsing failed (an error finding has then
 * been added).  Returns MG_OK (whatever the verdict) or MG_ERR_NOMEM.
 */
enum mg_err mg_pickle_scan_one(const struct mg_scan_opts *o,
                               const struct mg_pickle_hooks *hooks,
                               const uint8_t *buf, size_t len,
                               const char *member, uint64_t base,
                               struct mg_report *rep, size_t *end) MG_WUR;

/*
 * Scan every pickle stacked in @buf[0..@len) until the bytes run out (at
 * most o->max_pickles; more is a finding).  Bytes after a STOP that do not
 * parse as a pickle are an error finding: unparseable is never clean.
 */
enum mg_err mg_pickle_scan_all(const struct mg_scan_opts *o,
                               const struct mg_pickle_hooks *hooks,
                               const uint8_t *buf, size_t len,
                               const char *member, uint64_t base,
                               struct mg_report *rep) MG_WUR;

/*
 * 1 if @buf plausibly starts a pickle the loader would accept: PROTO 2-5,
 * or a protocol-0/1 opcode that can begin a stream followed by a sane next
 * byte.  Used by the sniffer; cheap, reads at most 16 bytes.
 */
int mg_pickle_sniff(const uint8_t *buf, size_t len);

/*
 * inert.c: 1 if the pickle loader (CPython's _pickle and pickle.py alike)
 * must fail on @buf[0..@len) before it resolves a global, calls anything
 * or reaches extension code; *@at is then the offset of the opcode it
 * fails at and *@why (static) says how.  0 when it may get that far, or
 * succeed, or the walk cannot tell (fail-closed: not inert).  A
 * persistent id is never a failure: which loader reads a file is not
 * known, and one with a persistent_load (torch's, a program's own
 * Unpickler subclass) goes on to whatever follows, which is walked.
 */
int mg_pickle_inert(const uint8_t *buf, size_t len,
                    size_t *at, const char **why);

/*
 * inert.c: mg_pickle_inert() for the bytes after a pickle's STOP, as a
 * second load() reads them: with the same Unpickler the memo of the
 * first load is still there, so every memo GET is taken to succeed.
 */
int mg_pickle_inert_next(const uint8_t *buf, size_t len,
                         size_t *at, const char **why);

/*
 * inert.c: mg_pickle_inert() on the first @len bytes of a file of @flen
 * bytes (@flen >= @len; UINT64_MAX when the length is not known, as for a
 * decompressed stream).  The same walk; an argument or a line that runs
 * past @len but not past @flen, or the end of @len before a STOP, means
 * the window cannot tell: -1 (not inert, fail-closed; a caller may try
 * a larger window).  1 inert, 0 not inert.  Allocation-free
 * and lock-free: the preload runs it on the first bytes of a file to
 * decide whether to ask the helper (gate.c).
 */
int mg_pickle_inert_window(const uint8_t *buf, size_t len, uint64_t flen,
                           size_t *at, const char **why);

/*
 * inert.c: mg_pickle_inert_window(), and a GLOBAL or INST whose name line
 * is no attribute name (mg_pickle_attr_name), or is cut by the end of the
 * file, fails too.  The loader imports the module before it looks the
 * name up; in a process the guard watches it never gets there, for the
 * guard refuses such a name at the pickle.find_class event, before the
 * import.  So this holds only there: the preload uses it, where the
 * guard refuses, for the names that leave the decision to the content
 * (gate.c); the scanner never.
 */
int mg_pickle_inert_guarded_window(const uint8_t *buf, size_t len,
                                   uint64_t flen, size_t *at,
                                   const char **why);

#endif /* MG_PICKLE_H */
