/*
 * pickle.c - the pickle opcode analyser.
 *
 * Approach: a single forward walk over the opcodes, doing what CPython's
 * Modules/_pickle.c load() does to its stack, mark stack and memo, but with
 * symbolic values (struct pval) instead of objects.  Whenever the loader
 * would resolve a global (GLOBAL, STACK_GLOBAL, INST) the analyser applies
 * the loader's own normalisation (_compat_pickle under protocol < 3, dotted
 * attribute paths under protocol >= 4) and asks the classifier.  Calls
 * (REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST) are modelled as MG_PV_CALL values
 * so structural tricks - calling the result of a call, BUILD on a class,
 * mutating a module-level object - are visible.
 *
 * Two loaders are ground truth: the C unpickler (torch.load, np.load,
 * pickle.load) and the pure-Python pickle._Unpickler (joblib).  They differ
 * in a few corners (frames: the C loader ignores their boundaries, the
 * Python one enforces them).  Where they would disagree, the stream is a
 * parser-differential trick and is reported dangerous ("pickle.frame"):
 * a benign pickler never writes such bytes.  Where the analyser cannot
 * tell what a loader would do, it reports an error finding and stops:
 * unparseable is never clean, and findings made before the error are kept.
 *
 * Memory: values are reference counted and recycled through free lists in
 * a per-stream arena, so memory follows the live set (stack + memo + the
 * first MG_KEEP items of each container), not the opcode count.  Byte and
 * text values point into the input unless they had to be decoded; decoded
 * protocol-0 strings are materialised only up to MG_DECODE_MAX bytes (the
 * rest are validated and counted).  Rejected: building a full object graph
 * (unbounded memory), and scanning for GLOBAL bytes without a stack model
 * (misses STACK_GLOBAL operands that come through the memo).
 *
 * Layout: this file is the walk (state, values, the opcode switch and its
 * handlers, global resolution); the stateless byte-level pieces - the
 * loader's string decoders, the dunder test, the sniffer - live in
 * pickle_text.c.  The walk stays in one file on purpose: every handler
 * shares the stream state and the reference-count discipline, and
 * splitting them would export internals without making any of it simpler.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "compat.h"
#include "formats.h"
#include "pickle.h"
#include "pickle_text.h"

/* Under ASan, recycled values are poisoned so a reference-count slip shows
   up as a use-after-free instead of silently reading a reused value. */
#if defined(__SANITIZE_ADDRESS__)
#define MG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MG_ASAN 1
#endif
#endif
#ifdef MG_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Why 4 KiB: no real module or attribute path comes close; longer is a
   finding, not an allocation. */
#define MG_NAME_MAX 4096
/* Protocol-0 STRING/UNICODE values longer than this are validated but not
   decoded (data = NULL): tensor bytes in old pickles can be huge and only
   short strings can ever matter as names. */
#define MG_DECODE_MAX 4096
/* Items kept per container; hooks need small dicts/tuples, never more. */
#define MG_KEEP 256
#define MG_KEEP_LOG2 8
/* Items kept per list or set.  Why none: no rule and no hook reads them
   (pickle has no opcode that takes an item back out of a container; what
   a later opcode reuses comes through the memo, which holds its own
   reference), and an opcode-dense pickle of many small lists would
   otherwise keep every int alive: ~100 bytes per value, a 76 MB pickle
   peaking at 1.6 GB.  A list stays a list (kind and flags), just empty
   and marked truncated; joblib refuses a list where numpy writes a tuple. */
#define MG_KEEP_SEQ 0
/* add_items and ment_set rely on it. */
_Static_assert(MG_KEEP_SEQ == 0, "lists and sets keep no items");
/* Dotted attribute paths longer than this are not split exhaustively. */
#define MG_DOTTED_MAX 16
/* Distinct globals per stream.  Why: real pickles name at most a few
   hundred; each new one costs classifier calls (up to 136 for a dotted
   path) and a hash insert, so an unbounded count is a CPU sink. */
#define MG_GLOBALS_MAX 16384
/* Small ints shared per stream (mk_small). */
#define MG_SMALL_INTS 256
/* Nested pickles requested by on_build (joblib object arrays). */
#define MG_NEST_MAX 4
#define MG_CHUNK (256 * 1024)
/* Once a stream's arena passes MG_HUGE_AFTER bytes, it grows by
   MG_HUGE_CHUNK chunks backed by huge pages (huge()). */
#define MG_HUGE_AFTER ((size_t)4 << 20)
#define MG_HUGE_CHUNK ((size_t)4 << 20)
/* A walk through a file mapping gives back what it has read every
   MG_DROP_STEP bytes, keeping the last MG_DROP_KEEP (drop()). */
#define MG_DROP_STEP ((size_t)4 << 20)
#define MG_DROP_KEEP ((size_t)1 << 20)

/* Value flags (private; the public part is struct mg_pvalue). */
#define PF_PY2STR 0x1 /* STRING/BINSTRING: str under the default encoding */
#define PF_TRUNC 0x2  /* container kept only its first MG_KEEP items */
#define PF_RAW 0x4    /* decoded text too long: data NULL, len decoded */
#define PF_BUILT 0x8  /* CALL: a BUILD has already been applied to it */
#define PF_DEFER 0x10 /* GLOBAL: torch.storage _load_from_bytes or
                         builtins getattr, judgment deferred until its use
                         is known (nested_load, getattr_member) */
#define PF_NESTOK 0x20 /* GLOBAL: a deferred global recorded clean after
                          an accepted use (a nested scan, an enum member) */
#define PF_BINBYTES 0x40 /* BYTES: a literal BINBYTES/SHORT_BINBYTES/
                            BINBYTES8 (not bytearray, not a py2 string) */
#define PF_NESTCALL 0x80 /* CALL: an accepted _load_from_bytes(b) */
#define PF_UNKNOWN 0x100 /* GLOBAL: judged unknown (on neither list); a
                            call of it is pickle.call.unknown (push_call) */
#define PF_GETATTR 0x200 /* GLOBAL: builtins getattr (see getattr_member) */
#define PF_REBUILD 0x400 /* GLOBAL: MG_GLOBAL_REBUILD, allowed to be rebuilt
                            but not called: a call of it is
                            pickle.call.unknown, as for PF_UNKNOWN */
#define PF_THROUGH 0x800 /* GLOBAL: in call_through[] (through_arg); set
                           once when the global is resolved, so a call
                           costs no name comparisons */
#define PF_TYPE 0x1000 /* GLOBAL: the class of a NEWOBJ/NEWOBJ_EX, which
                          the loader accepts only when it is a type */
#define PF_BARE 0x2000 /* CALL: NEWOBJ/NEWOBJ_EX without arguments of a
                          global that is not unknown (cls.__new__(cls)) */
#define PF_SWAPPED 0x4000 /* CALL: a joblib array wrapper the loader puts
                             what it reads in place of (build_hook) */
#define PF_ARRAY 0x8000 /* CALL, with PF_SWAPPED: what it reads is never a
                           dict (a raw body's ndarray, or a nested pickle
                           that returns one) */
/* A global a call of which is an unknown call (unknown_callee). */
#define PF_NOCALL (PF_UNKNOWN | PF_REBUILD)

struct pval {
	struct mg_pvalue v;     /* first member: struct mg_pvalue * casts back */
	struct pval *next;      /* free list / release worklist */
	uint32_t refs;          /* stack slots, memo slots, containers, cache */
	uint16_t flags;
	int8_t icls;            /* size class of v.items, -1 for none */
};

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t mem[];
};

/* One resolved global, cached per stream so repeats cost a hash lookup. */
struct gent {
	uint64_t hash;
	const char *mod, *name; /* raw, as in the stream (NUL-terminated) */
	size_t modlen, namelen;
	int low;                /* GK_*: how the pair was resolved */
	struct pval *val;
};

/*
 * One memo slot, 16 bytes.  Why not a pval pointer for everything: an
 * opcode-dense pickle memoises every list and string (pickle.dump does),
 * and a 96-byte value per slot made memory 4.5x the file.  Values whose
 * identity nothing can observe - scalars, strings and bytes (immutable),
 * and lists and sets (which keep no items: MG_KEEP_SEQ) - are stored as
 * their contents and rebuilt by GET; everything else (tuples, dicts,
 * globals, calls, ...) is a counted reference.  @meta: 0 for an empty
 * slot, else bits 0-4 the tag (ME_REF, or kind + 1), bits 5-20 the
 * flags, bits 21-63 the length of a string.
 */
struct ment {
	union {
		struct pval *ref;
		int64_t i;
		double f;
		const uint8_t *data;
	} u;
	uint64_t meta;
};

#define ME_REF 31
#define ME_LEN_MAX (((uint64_t)1 << 43) - 1)

/* Keys of the per-stream global cache: the same raw pair resolves
 * differently under protocol < 3 (Python 2 names mapped), and an enum
 * member read through getattr (GK_MEMBER) is judged but not recorded. */
enum { GK_HIGH = 0, GK_LOW = 1, GK_MEMBER = 2 };

/* The state of one stream being walked. */
struct ps {
	const struct mg_scan_opts *o;
	const struct mg_pickle_hooks *hooks;
	struct mg_report *rep;
	const uint8_t *buf;
	size_t len;
	const char *member;
	uint64_t base;
	unsigned num, depth;
	size_t p, op;            /* read position; offset of current opcode */
	int in_frame;
	size_t frame_end;        /* end of the current frame's bytes */
	size_t frame_filepos;    /* where the loader's file is meanwhile */
	int proto;               /* last PROTO seen; 0 before any */
	int nomem;
	int stop_not_dict;       /* what STOP returned is never a dict */
	size_t dropped;          /* buf[start..dropped) given back (drop()) */
	size_t drop_at;          /* read position of the next drop() */
	struct chunk *chunks;
	size_t arena;            /* bytes in chunks */
	struct pval *free_vals;
	void *free_items[MG_KEEP_LOG2 + 1];
	struct pval **stack;
	size_t nstack, capstack, max_stack;
	size_t *marks;
	size_t nmarks, capmarks;
	struct ment *memo;
	size_t capmemo, nmemo, max_memo;
	size_t memo_init;        /* memo[0..memo_init) initialised */
	struct gent *gtab;
	size_t gcap, gcount;
	/* Shared immutable values (mk_small): ints 0-255, then None,
	   False, True; made on first use. */
	struct pval *small[MG_SMALL_INTS + 3];
};

enum { ST_OK = 0, ST_STOP = -1 };

static int scan_stream(const struct mg_scan_opts *o,
                       const struct mg_pickle_hooks *hooks, const uint8_t *buf,
                       size_t len, size_t start, const char *member,
                       uint64_t base, unsigned depth, struct mg_report *rep,
                       size_t *end, int *not_dict);

/* ---- names of opcodes, for messages ----------------------------------- */

static const char *const opnames[256] = {
	['('] = "MARK", ['.'] = "STOP", ['0'] = "POP", ['1'] = "POP_MARK",
	['2'] = "DUP", ['F'] = "FLOAT", ['I'] = "INT", ['J'] = "BININT",
	['K'] = "BININT1", ['L'] = "LONG", ['M'] = "BININT2", ['N'] = "NONE",
	['P'] = "PERSID", ['Q'] = "BINPERSID", ['R'] = "REDUCE",
	['S'] = "STRING", ['T'] = "BINSTRING", ['U'] = "SHORT_BINSTRING",
	['V'] = "UNICODE", ['X'] = "BINUNICODE", ['a'] = "APPEND",
	['b'] = "BUILD", ['c'] = "GLOBAL", ['d'] = "DICT", ['}'] = "EMPTY_DICT",
	['e'] = "APPENDS", ['g'] = "GET", ['h'] = "BINGET", ['i'] = "INST",
	['j'] = "LONG_BINGET", ['l'] = "LIST", [']'] = "EMPTY_LIST",
	['o'] = "OBJ", ['p'] = "PUT", ['q'] = "BINPUT", ['r'] = "LONG_BINPUT",
	['s'] = "SETITEM", ['t'] = "TUPLE", [')'] = "EMPTY_TUPLE",
	['u'] = "SETITEMS", ['G'] = "BINFLOAT", ['B'] = "BINBYTES",
	['C'] = "SHORT_BINBYTES",
	[0x80] = "PROTO", [0x81] = "NEWOBJ", [0x82] = "EXT1", [0x83] = "EXT2",
	[0x84] = "EXT4", [0x85] = "TUPLE1", [0x86] = "TUPLE2",
	[0x87] = "TUPLE3", [0x88] = "NEWTRUE", [0x89] = "NEWFALSE",
	[0x8a] = "LONG1", [0x8b] = "LONG4", [0x8c] = "SHORT_BINUNICODE",
	[0x8d] = "BINUNICODE8", [0x8e] = "BINBYTES8", [0x8f] = "EMPTY_SET",
	[0x90] = "ADDITEMS", [0x91] = "FROZENSET", [0x92] = "NEWOBJ_EX",
	[0x93] = "STACK_GLOBAL", [0x94] = "MEMOIZE", [0x95] = "FRAME",
	[0x96] = "BYTEARRAY8", [0x97] = "NEXT_BUFFER",
	[0x98] = "READONLY_BUFFER",
};

static const char *
opname(const struct ps *s)
{
	const char *n = s->op < s->len ? opnames[s->buf[s->op]] : NULL;

	return n != NULL ? n : "opcode";
}

/* ---- findings --------------------------------------------------------- */

/* Add a finding about this stream; -1 only when out of memory. */
static int MG_PRINTF(6, 7)
note(struct ps *s, enum mg_verdict v, const char *rule, const char *global,
     size_t off, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	enum mg_err e;

	if (!mg_report_would_store(s->rep, v)) {
		/* Why: skip the formatting once the report only counts. */
		e = mg_report_add(s->rep, v, rule, NULL, NULL, 0, "%s", "");
	} else {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		e = mg_report_add(s->rep, v, rule, global, s->member,
		                  s->base + off, "pickle #%u, offset %llu: %s",
		                  s->num, (unsigned long long)(s->base + off),
		                  msg);
	}
	if (e != MG_OK) {
		s->nomem = 1;
		return -1;
	}
	return 0;
}

/* Report why the stream cannot be followed and stop: always ST_STOP. */
#define FAIL(s, rule, ...) \
	(note((s), MG_VERDICT_ERROR, (rule), NULL, (s)->op, __VA_ARGS__), ST_STOP)
#define MALFORMED(s, ...) FAIL((s), "pickle.malformed", __VA_ARGS__)

static int
nomem(struct ps *s)
{
	s->nomem = 1;
	return ST_STOP;
}

/* ---- arena, values, reference counts ---------------------------------- */

/*
 * Ask for transparent huge pages on [@p, @p + @n) (the page-aligned part).
 * Why: a stream whose live values take tens of megabytes (a 20,000-tensor
 * checkpoint's, all kept by the memo) otherwise takes a page fault per
 * 4 KiB, a third of its CPU time.  Not for the memo array: realloc moves
 * it, and rounding it up to huge pages cost an opcode-dense pickle 20 MB
 * for no gain.  Only a hint: no error.
 */
static void
huge(void *p, size_t n)
{
	uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)4095;

	if (e > a)
		(void)madvise((void *)a, e - a, MADV_HUGEPAGE);
}

static void *
ar_alloc(struct ps *s, size_t n)
{
	struct chunk *c = s->chunks;
	size_t cap;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (c == NULL || c->cap - c->used < n) {
		if (s->arena >= MG_HUGE_AFTER && n <= MG_HUGE_CHUNK / 2) {
			cap = MG_HUGE_CHUNK - sizeof(*c);
			c = aligned_alloc(MG_HUGE_CHUNK, MG_HUGE_CHUNK);
			if (c != NULL)
				huge(c, MG_HUGE_CHUNK);
		} else {
			cap = n > MG_CHUNK / 2 ? n : MG_CHUNK;
			c = malloc(sizeof(*c) + cap);
		}
		if (c == NULL)
			return NULL;
		s->arena += cap;
		c->used = 0;
		c->cap = cap;
		c->next = s->chunks;
		s->chunks = c;
	}
	p = (unsigned char *)c->mem + c->used;
	c->used += n;
	return p;
}

static inline struct pval *
pv_new(struct ps *s, enum mg_pkind k)
{
	struct pval *v = s->free_vals;

	if (v != NULL) {
		s->free_vals = v->next;
		UNPOISON(&v->v, sizeof(v->v));
	} else if ((v = ar_alloc(s, sizeof(*v))) == NULL)
		return NULL;
	/* Why field by field: memset compiled to rep stos, the single
	   most expensive instruction of an opcode-dense walk. */
	v->v.kind = k;
	v->v.i = 0;
	v->v.f = 0;
	v->v.data = NULL;
	v->v.len = 0;
	v->v.module = v->v.name = NULL;
	v->v.items = NULL;
	v->v.nitems = 0;
	v->v.state = NULL;
	v->next = NULL;
	v->refs = 0;
	v->flags = 0;
	v->icls = -1;
	return v;
}

static struct pval *
PV(struct mg_pvalue *v)
{
	return (struct pval *)v; /* every mg_pvalue here is a pval's first member */
}

/* Put the items array @a of size class @k on its free list. */
static void
items_free(struct ps *s, struct mg_pvalue **a, int k)
{
	*(void **)a = s->free_items[k];
	s->free_items[k] = a;
	if (k > 0)
		POISON(a + 1, ((sizeof(*a) << k) - sizeof(*a)));
}

static void
items_release(struct ps *s, struct pval *v)
{
	if (v->icls >= 0)
		items_free(s, v->v.items, v->icls);
	v->v.items = NULL;
	v->icls = -1;
	v->v.nitems = 0;
}

/*
 * Recycle @v, whose last reference is gone (pv_unref).  Children are
 * released through an explicit worklist: a hostile pickle can nest lists a
 * million deep, and recursion would overflow the C stack.
 */
static void
pv_release(struct ps *s, struct pval *v)
{
	struct pval *work, *c;
	size_t i;

	v->next = NULL;
	work = v;
	while ((v = work) != NULL) {
		work = v->next;
		for (i = 0; i < v->v.nitems; i++) {
			c = PV(v->v.items[i]);
			if (--c->refs == 0) {
				c->next = work;
				work = c;
			}
		}
		if (v->v.state != NULL && --PV(v->v.state)->refs == 0) {
			c = PV(v->v.state);
			c->next = work;
			work = c;
		}
		items_release(s, v);
		v->next = s->free_vals;
		s->free_vals = v;
		POISON(&v->v, sizeof(v->v));
	}
}

/* Drop one reference.  Why inline, with a leaf case: most values are
   scalars dropped right after use (an int appended to a list); the
   worklist is for the few that hold others. */
static inline void
pv_unref(struct ps *s, struct pval *v)
{
	if (v == NULL || --v->refs > 0)
		return;
	if (v->icls < 0 && v->v.state == NULL) {
		v->v.nitems = 0;
		v->next = s->free_vals;
		s->free_vals = v;
		POISON(&v->v, sizeof(v->v));
		return;
	}
	pv_release(s, v);
}

/* Make room for @want items (at most MG_KEEP) in @v.  0 or -1. */
static int
items_reserve(struct ps *s, struct pval *v, size_t want)
{
	struct mg_pvalue **n;
	int k = 0;

	while (((size_t)1 << k) < want)
		k++;
	if (v->icls >= k)
		return 0;
	if (s->free_items[k] != NULL) {
		n = s->free_items[k];
		s->free_items[k] = *(void **)n;
		UNPOISON(n, sizeof(*n) << k);
	} else if ((n = ar_alloc(s, sizeof(*n) << k)) == NULL) {
		return -1;
	}
	if (v->v.nitems > 0)
		memcpy(n, v->v.items, v->v.nitems * sizeof(*n));
	if (v->icls >= 0)
		items_free(s, v->v.items, v->icls);
	v->v.items = n;
	v->icls = (int8_t)k;
	return 0;
}

static int settle(struct ps *s, struct pval *v);

/* pv_add() without the deferred-global check (nested_load's own call). */
static int
pv_add_raw(struct ps *s, struct pval *v, struct pval *item)
{
	size_t keep = (v->v.kind == MG_PV_LIST || v->v.kind == MG_PV_SET ||
	               v->v.kind == MG_PV_FROZENSET) ? MG_KEEP_SEQ : MG_KEEP;

	if (v->v.nitems >= keep) {
		/* Why: memory must follow the live set, not the item count. */
		v->flags |= PF_TRUNC;
		return 0;
	}
	/* Why the test first: collect() reserved the room already. */
	if ((v->icls < 0 || v->v.nitems >= ((size_t)1 << v->icls)) &&
	    items_reserve(s, v, v->v.nitems + 1) != 0)
		return -1;
	v->v.items[v->v.nitems++] = &item->v;
	item->refs++;
	return 0;
}

/*
 * Append @item to container @v, taking a new reference; -1 on no memory.
 * Why settle here: a deferred _load_from_bytes that goes into a container,
 * an argument tuple or a call's callable slot is used in a way the nested
 * scan does not cover, so it is judged now, as any global would be.
 */
static int
pv_add(struct ps *s, struct pval *v, struct pval *item)
{
	if (settle(s, item) != ST_OK)
		return -1;
	return pv_add_raw(s, v, item);
}

/* ---- stack and marks -------------------------------------------------- */

static size_t
fence(const struct ps *s)
{
	return s->nmarks > 0 ? s->marks[s->nmarks - 1] : 0;
}

/* Push @v (which gains a reference).  NULL @v means the caller ran out of
   memory building it. */
static inline int
push(struct ps *s, struct pval *v)
{
	struct pval **n;
	size_t cap;

	if (v != NULL && s->nstack < s->capstack) {
		v->refs++; /* the common case first: room on the stack */
		s->stack[s->nstack++] = v;
		return ST_OK;
	}
	if (v == NULL)
		return nomem(s);
	if (s->nstack >= s->capstack) {
		if (s->nstack >= s->max_stack) {
			pv_unref(s, (v->refs++, v));
			return FAIL(s, "pickle.limit",
			            "stack deeper than the limit of %zu",
			            s->max_stack);
		}
		cap = s->capstack ? s->capstack * 2 : 64;
		if (cap > s->max_stack)
			cap = s->max_stack;
		if ((n = realloc(s->stack, cap * sizeof(*n))) == NULL)
			return nomem(s);
		s->stack = n;
		s->capstack = cap;
	}
	v->refs++;
	s->stack[s->nstack++] = v;
	return ST_OK;
}

/* Require @n values above the innermost MARK, as the loader's pops do. */
static int
need(struct ps *s, size_t n)
{
	if (s->nstack - fence(s) < n)
		return MALFORMED(s, "%s: stack underflow", opname(s));
	return ST_OK;
}

/* Pop the top value; the caller owns the reference.  need() first. */
static struct pval *
pop(struct ps *s)
{
	return s->stack[--s->nstack];
}

static struct pval *
top(struct ps *s)
{
	return s->stack[s->nstack - 1];
}

/* Unref and drop every value above stack index @from. */
static void
drop_to(struct ps *s, size_t from)
{
	while (s->nstack > from)
		pv_unref(s, pop(s));
}

/* The loader's marker(): pop the innermost MARK, or fail. */
static int
pop_mark(struct ps *s, size_t *mark)
{
	if (s->nmarks == 0)
		return MALFORMED(s, "%s: no MARK to pop", opname(s));
	*mark = s->marks[--s->nmarks];
	return ST_OK;
}

static int
push_mark(struct ps *s)
{
	size_t *n, cap;

	if (s->nmarks >= s->max_stack)
		return FAIL(s, "pickle.limit",
		            "more open MARKs than the limit of %zu",
		            s->max_stack);
	if (s->nmarks >= s->capmarks) {
		cap = s->capmarks ? s->capmarks * 2 : 32;
		if ((n = realloc(s->marks, cap * sizeof(*n))) == NULL)
			return nomem(s);
		s->marks = n;
		s->capmarks = cap;
	}
	s->marks[s->nmarks++] = s->nstack;
	return ST_OK;
}

/* A container of kind @k holding stack[@from..] (which are popped). */
static struct pval *
collect(struct ps *s, enum mg_pkind k, size_t from)
{
	struct pval *v = pv_new(s, k);
	size_t i, n = s->nstack - from;

	if (v == NULL)
		return NULL;
	/* Why reserve first: growing 1, 2, 4, 8 copied and recycled three
	   arrays for each 5-item tuple (torch.save writes one per tensor). */
	if (k != MG_PV_LIST && k != MG_PV_FROZENSET && n > 1 &&
	    items_reserve(s, v, n < MG_KEEP ? n : MG_KEEP) != 0)
		return NULL;
	for (i = from; i < s->nstack; i++)
		if (pv_add(s, v, s->stack[i]) != 0)
			return NULL;
	drop_to(s, from);
	return v;
}

/* ---- reading arguments ------------------------------------------------ */

/*
 * An opcode read past the end of its FRAME.  The C loader reads on from the
 * file; pickle.py stops with "pickle exhausted before end of frame".  Only a
 * crafted stream does this, so it is dangerous; when a hook moved the file
 * position the two readings diverge and the walk must stop.
 */
static int
frame_overrun(struct ps *s)
{
	if (note(s, MG_VERDICT_DANGEROUS, "pickle.frame", NULL, s->op,
	         "%s straddles the end of its FRAME (at %llu): no pickler "
	         "writes this, and the C and Python loaders can read "
	         "different bytes", opname(s),
	         (unsigned long long)(s->base + s->frame_end)) != 0)
		return ST_STOP;
	if (s->frame_filepos != s->frame_end)
		return ST_STOP;
	s->in_frame = 0;
	return ST_OK;
}

/* Take @n argument bytes.  Why the order: length against bytes left comes
   before anything else, so a 2^63 length never reaches an allocation. */
static int
rd(struct ps *s, uint64_t n, const uint8_t **out)
{
	if (n > s->len - s->p)
		return MALFORMED(s, "%s: argument truncated (needs %llu bytes, "
		                 "%zu left)", opname(s), (unsigned long long)n,
		                 s->len - s->p);
	if (s->in_frame && n > s->frame_end - s->p && frame_overrun(s) != 0)
		return ST_STOP;
	*out = s->buf + s->p;
	s->p += n;
	return ST_OK;
}

/* Read a newline-terminated line; *@n excludes the newline. */
static int
rd_line(struct ps *s, const uint8_t **out, size_t *n)
{
	const uint8_t *nl = memchr(s->buf + s->p, '\n', s->len - s->p);
	size_t end;

	if (nl == NULL)
		return MALFORMED(s, "%s: line argument has no newline",
		                 opname(s));
	end = (size_t)(nl - s->buf) + 1;
	if (s->in_frame && end > s->frame_end && frame_overrun(s) != 0)
		return ST_STOP;
	*out = s->buf + s->p;
	*n = end - 1 - s->p;
	s->p = end;
	return ST_OK;
}

static uint64_t
le(const uint8_t *b, unsigned n)
{
	uint64_t x = 0;

	while (n-- > 0)
		x = (x << 8) | b[n];
	return x;
}

static int
rd_uint(struct ps *s, unsigned n, uint64_t *x)
{
	const uint8_t *b;

	if (rd(s, n, &b) != 0)
		return ST_STOP;
	*x = le(b, n);
	return ST_OK;
}

/* ---- scalar opcodes --------------------------------------------------- */

/*
 * An INT (or, with @k, NONE or BOOL) value.  Why shared: these are
 * immutable (BUILD sets state on calls only) and nothing can tell two of
 * them apart, yet torch.save writes five small ints, a bool and the like
 * per tensor, all kept alive by the memo.  Values 0-255 and the three
 * constants are made once per stream, held by s->small (one reference
 * each, so they are never recycled), and shared.
 */
static struct pval *
mk_small(struct ps *s, enum mg_pkind k, int64_t x)
{
	struct pval **slot, *v;

	if (k != MG_PV_INT)
		slot = &s->small[MG_SMALL_INTS + (k == MG_PV_BOOL) + (x != 0)];
	else if (x >= 0 && x < MG_SMALL_INTS)
		slot = &s->small[x];
	else
		slot = NULL;
	if (slot != NULL && *slot != NULL)
		return *slot;
	if ((v = pv_new(s, k)) == NULL)
		return NULL;
	v->v.i = x;
	if (slot != NULL) {
		v->refs = 1;
		*slot = v;
	}
	return v;
}

static struct pval *
mk_int(struct ps *s, int64_t x)
{
	return mk_small(s, MG_PV_INT, x);
}

/*
 * Parse a protocol-0 INT/LONG line the way strtol(base 0) does in the C
 * loader, falling back (as it does) to a Python int literal.  The value only
 * informs hooks, so the fallback accepts any plausible literal as BIGINT;
 * a line with no digit at all is an error, as it is for the loader.
 */
static struct pval *
parse_int_line(struct ps *s, const uint8_t *l, size_t n, int is_int,
               int *bad)
{
	char tmp[32];
	char *end;
	long long x;
	size_t i;
	int digit = 0;
	struct pval *v;

	*bad = 0;
	for (i = 0; i < n; i++) {
		if (l[i] >= '0' && l[i] <= '9')
			digit = 1;
		else if (!strchr("+-_xXoObBaAcCdDeEfF \t\r\v\fL", l[i]) ||
		         l[i] == '\0')
			break;
	}
	if (!digit || (i < n && l[i] != '\0')) {
		*bad = 1;
		return NULL;
	}
	if (n < sizeof(tmp)) {
		memcpy(tmp, l, n);
		tmp[n] = '\0';
		if (!is_int && n > 0 && tmp[n - 1] == 'L')
			tmp[n - 1] = '\0';
		errno = 0;
		x = strtoll(tmp, &end, 0);
		if (errno == 0 && end != tmp && *end == '\0') {
			if (is_int && n == 2 && (x == 0 || x == 1)) {
				v = pv_new(s, MG_PV_BOOL); /* I00 / I01 */
				if (v != NULL)
					v->v.i = x;
				return v;
			}
			return mk_int(s, x);
		}
	}
	return pv_new(s, MG_PV_BIGINT);
}

static int
op_int_line(struct ps *s, int is_int)
{
	const uint8_t *l;
	size_t n;
	int bad;
	struct pval *v;

	if (rd_line(s, &l, &n) != 0)
		return ST_STOP;
	if (n < 1)
		return MALFORMED(s, "%s: empty line", opname(s));
	v = parse_int_line(s, l, n, is_int, &bad);
	if (bad)
		return MALFORMED(s, "%s: not an integer literal", opname(s));
	return push(s, v);
}

static int
op_float_line(struct ps *s)
{
	char tmp[64];
	const uint8_t *l;
	size_t n, i;
	struct pval *v;

	if (rd_line(s, &l, &n) != 0)
		return ST_STOP;
	if (n < 1)
		return MALFORMED(s, "FLOAT: empty line");
	for (i = 0; i < n; i++)
		if (!strchr("0123456789+-.eEinfatyINFATY_", l[i]) || !l[i])
			return MALFORMED(s, "FLOAT: not a float literal");
	if ((v = pv_new(s, MG_PV_FLOAT)) == NULL)
		return nomem(s);
	if (n < sizeof(tmp)) {
		memcpy(tmp, l, n);
		tmp[n] = '\0';
		v->v.f = strtod(tmp, NULL);
	}
	return push(s, v);
}

/* LONG1/LONG4: little-endian two's complement of @n bytes. */
static int
op_long_bin(struct ps *s, unsigned lenbytes)
{
	const uint8_t *b;
	uint64_t n, x;

	if (rd_uint(s, lenbytes, &n) != 0)
		return ST_STOP;
	if (lenbytes == 4 && (n & 0x80000000u))
		return MALFORMED(s, "LONG4: negative byte count");
	if (rd(s, n, &b) != 0)
		return ST_STOP;
	if (n > 8)
		return push(s, pv_new(s, MG_PV_BIGINT));
	x = le(b, (unsigned)n);
	if (n > 0 && n < 8 && (b[n - 1] & 0x80))
		x |= ~(uint64_t)0 << (8 * n); /* sign-extend */
	return push(s, mk_int(s, (int64_t)x));
}

/* A text or bytes value of @n bytes at @data (pointing into the input). */
static struct pval *
mk_span(struct ps *s, enum mg_pkind k, const uint8_t *data, size_t n)
{
	struct pval *v = pv_new(s, k);

	if (v != NULL) {
		v->v.data = data;
		v->v.len = n;
	}
	return v;
}

/* A decoded protocol-0 string: validate all of it, materialise it only
   when short (see MG_DECODE_MAX). */
static int
op_text_line(struct ps *s, int unicode)
{
	const uint8_t *l;
	size_t n, bad = 0;
	long long dn;
	uint8_t *out;
	struct pval *v;

	if (rd_line(s, &l, &n) != 0)
		return ST_STOP;
	if (!unicode) {
		/* Why: the loader insists on matching outer quotes. */
		if (n < 2 || l[0] != l[n - 1] || (l[0] != '\'' && l[0] != '"'))
			return MALFORMED(s, "STRING: argument not quoted");
		l++;
		n -= 2;
		dn = mg_pickle_unescape_string(l, n, NULL, &bad);
	} else {
		dn = mg_pickle_unescape_unicode(l, n, NULL, &bad);
	}
	if (dn < 0)
		return MALFORMED(s, "%s: bad escape at offset %llu", opname(s),
		                 (unsigned long long)(s->base + (l - s->buf) +
		                                      bad));
	v = pv_new(s, unicode ? MG_PV_STR : MG_PV_BYTES);
	if (v == NULL)
		return nomem(s);
	v->flags = unicode ? 0 : PF_PY2STR;
	v->v.len = (size_t)dn;
	if (dn > MG_DECODE_MAX) {
		v->flags |= PF_RAW;
		return push(s, v);
	}
	if ((out = ar_alloc(s, (size_t)dn + 1)) == NULL)
		return nomem(s);
	if (unicode)
		mg_pickle_unescape_unicode(l, n, out, &bad);
	else
		mg_pickle_unescape_string(l, n, out, &bad);
	out[dn] = '\0';
	v->v.data = out;
	return push(s, v);
}

/* Counted bytes/str: @lenbytes little-endian length, then the bytes. */
static int
op_counted(struct ps *s, unsigned lenbytes, enum mg_pkind k, int sgn,
           unsigned flags)
{
	const uint8_t *b;
	uint64_t n;
	struct pval *v;

	if (rd_uint(s, lenbytes, &n) != 0)
		return ST_STOP;
	if (sgn && (n & 0x80000000u))
		return MALFORMED(s, "%s: negative byte count", opname(s));
	if (rd(s, n, &b) != 0)
		return ST_STOP;
	if (k == MG_PV_STR && mg_pickle_utf8_valid(b, n) != 0)
		return MALFORMED(s, "%s: invalid UTF-8", opname(s));
	if ((v = mk_span(s, k, b, n)) == NULL)
		return nomem(s);
	v->flags = (uint16_t)flags;
	return push(s, v);
}

/* ---- globals ---------------------------------------------------------- */

static enum mg_gclass
classify(struct ps *s, const char *mod, const char *name, const char **cat)
{
	const struct mg_classifier *c = s->o->classifier;

	*cat = NULL;
	if (c == NULL || c->classify == NULL)
		return MG_GLOBAL_UNKNOWN; /* no policy: nothing is allowed */
	return c->classify(c->ctx, mod, name, cat);
}

/*
 * A dotted name is resolved by the loader one getattr at a time (protocol
 * >= 4; below, getattr(module, "a.b") fails, but we are conservative and
 * apply the same rules).  Each component c[b] of the name is an attribute
 * fetched from whatever c[..b) is: the module itself plus the components
 * before (module "m" + "c0.c1"), or a module some earlier component named
 * ("torch" "os.system" reaches os.system through torch.os).  So every
 * (m.c0...c[b-1], c[b]) and every (c[a]...c[b-1], c[b]) with a < b is a
 * pair the loader touches or an alias of one: if any is denied, so is the
 * whole.  Sets *@cat and the offending pair in @why; returns 1 if denied,
 * 0 if not, -1 if too many components.
 *
 * Why single-component attributes only: the classifier splits dotted
 * names itself, so asking it about (m, "c1.c2.c3") as well cost
 * O(components^2) calls each doing O(components^3) work - 30 ms per
 * global, minutes per megabyte of hostile input.  These are at most
 * 16 * 17 undotted calls, each a few binary searches.
 */
static int
dotted_denied(struct ps *s, const char *mod, const char *name,
              const char **cat, char *why, size_t whylen)
{
	const char *comp[MG_DOTTED_MAX + 1];
	char m[2 * MG_NAME_MAX + 2], nm[MG_NAME_MAX + 1];
	size_t k = 0, a, b, ml, nl, off;
	const char *c = name;

	comp[k++] = c;
	while ((c = strchr(c, '.')) != NULL) {
		if (k == MG_DOTTED_MAX)
			return -1;
		comp[k++] = ++c;
	}
	comp[k] = name + strlen(name) + 1;
	for (b = 0; b < k; b++) {
		nl = (size_t)(comp[b + 1] - 1 - comp[b]);
		memcpy(nm, comp[b], nl);
		nm[nl] = '\0';
		/* a == k stands for "from the module itself". */
		for (a = k; ; a = a == k ? 0 : a + 1) {
			if (a != k && a >= b)
				break;
			if (a == k && b == k - 1 && k == 1)
				continue; /* the exact pair, classified apart */
			if (a == k) {
				ml = strlen(mod);
				memcpy(m, mod, ml);
				if (b > 0) {
					off = (size_t)(comp[b] - 1 - name);
					m[ml] = '.';
					memcpy(m + ml + 1, name, off);
					ml += 1 + off;
				}
			} else {
				ml = (size_t)(comp[b] - 1 - comp[a]);
				memcpy(m, comp[a], ml);
			}
			m[ml] = '\0';
			if (classify(s, m, nm, cat) == MG_GLOBAL_DENIED) {
				snprintf(why, whylen, "%s %s", m, nm);
				return 1;
			}
		}
	}
	return 0;
}

/* A class the saving script defined: "__main__ Net" (or "__mp_main__",
 * its name in a multiprocessing child), the name itself no dunder. */
static int
is_script_class(const char *mod, const char *name)
{
	return (strcmp(mod, "__main__") == 0 ||
	        strcmp(mod, "__mp_main__") == 0) &&
	       !mg_pickle_has_dunder(name);
}

/* Why a room of 244: the preload prints the helper's reason, at most
 * MG_PROTO_REASON_MAX - 1 = 255 bytes, as "dangerous: " (11) followed by
 * this finding's "pickle #N, offset M: MESSAGE"; whatever passes 244 is
 * cut.  The advice is what the user needs from that line, so it must
 * end inside the room. */
#define SCRIPT_CLASS_ROOM 244

/*
 * The dunder finding for a script's own class, with what to do about it
 * (the rule and the verdict are the dunder rule's: __main__ may hold
 * anything the script imported, so it is never allowed).  The longest
 * wording whose advice fits SCRIPT_CLASS_ROOM after the "pickle #N,
 * offset M: " prefix note() adds: the reason in brackets goes first, then
 * the name in the example; an absurdly long name is cut in the message
 * (the finding's global keeps it whole).  -1 only when out of memory.
 */
static int
note_script_class(struct ps *s, const char *g, const char *mod,
                  const char *name, size_t off)
{
	static const char why[] = " (it could be anything that script "
	                          "imported)";
	char pre[64];
	size_t room, fixed, n = strlen(name);
	int p;

	p = snprintf(pre, sizeof(pre), "pickle #%u, offset %llu: ", s->num,
	             (unsigned long long)(s->base + off));
	room = SCRIPT_CLASS_ROOM - (size_t)p;
	fixed = strlen("global  is a class of the script that saved the "
	               "file: move it into a module and allow it ([globals] "
	               "allow = module:), or pin the file's SHA-256") +
	        strlen(mod);
	if (fixed + sizeof(why) - 1 + 2 * n <= room || fixed + 2 * n <= room)
		return note(s, MG_VERDICT_DANGEROUS, "pickle.global.dunder", g,
		            off, "global %s %s is a class of the script that "
		            "saved the file%s: move it into a module and allow "
		            "it ([globals] allow = module:%s), or pin the "
		            "file's SHA-256", mod, name,
		            fixed + sizeof(why) - 1 + 2 * n <= room ? why : "",
		            name);
	fixed = strlen("global  ... is a class of the script that saved the "
	               "file: move it into a module, allow it in [globals], "
	               "or pin the file's SHA-256") + strlen(mod);
	return note(s, MG_VERDICT_DANGEROUS, "pickle.global.dunder", g, off,
	            "global %s %.*s%s is a class of the script that saved "
	            "the file: move it into a module, allow it in [globals], "
	            "or pin the file's SHA-256", mod,
	            (int)(fixed + n <= room ? n : room - fixed), name,
	            fixed + n <= room ? "" : "...");
}

/* 1 for (__future__, NAME): that module holds only data (a _Feature record
 * per feature, the CO_* compiler flags, all_feature_names) and the
 * _Feature class, whose __init__ stores its arguments.  The dunder test
 * would call the module name dangerous; its names are data. */
static int
future_name(const char *mod, const char *name)
{
	return strcmp(mod, "__future__") == 0 && name[0] != '\0' &&
	       strchr(name, '.') == NULL && !mg_pickle_has_dunder(name);
}

/* Classify normalised (@mod, @name) and report it; @gv, the value that
 * stands for it (may be NULL), is marked PF_UNKNOWN when it is unknown
 * and PF_REBUILD when it may be rebuilt only.  @record 0: findings only,
 * the pair is not added to the report's globals (an enum member read
 * through getattr: find_class never resolves that pair, and the globals
 * list is what the loader resolves, test_diff_globals). */
static int
judge_global(struct ps *s, struct pval *gv, const char *mod,
             const char *name, size_t off, int record)
{
	char g[2 * MG_NAME_MAX + 2], why[3 * MG_NAME_MAX + 8];
	const char *cat = NULL;
	enum mg_gclass exact;
	enum mg_verdict v;
	int r = 0, d;

	snprintf(g, sizeof(g), "%s %s", mod, name);
	if (future_name(mod, name)) {
		v = MG_VERDICT_CLEAN;
		goto record;
	}
	if (mg_pickle_has_dunder(mod) || mg_pickle_has_dunder(name)) {
		/* Why: dunders reach interpreter internals (__builtins__,
		   __globals__, __class__...); never allowed. */
		v = MG_VERDICT_DANGEROUS;
		r = is_script_class(mod, name) ?
		    note_script_class(s, g, mod, name, off) :
		    note(s, v, "pickle.global.dunder", g, off,
		         "global %s names a dunder attribute or module", g);
		goto record;
	}
	exact = classify(s, mod, name, &cat);
	if (exact == MG_GLOBAL_DENIED) {
		v = MG_VERDICT_DANGEROUS;
		r = note(s, v, "pickle.global.denied", g, off,
		         "global %s is denied (%s)", g,
		         cat != NULL ? cat : "denied");
		goto record;
	}
	if (strchr(name, '.') != NULL) {
		d = dotted_denied(s, mod, name, &cat, why, sizeof(why));
		if (d != 0) {
			v = MG_VERDICT_DANGEROUS;
			r = d > 0 ? note(s, v, "pickle.global.denied", g, off,
			                 "global %s reaches %s, which is denied "
			                 "(%s)", g, why,
			                 cat != NULL ? cat : "denied")
			          : note(s, v, "pickle.global.denied", g, off,
			                 "global %s: attribute path deeper than "
			                 "%d", g, MG_DOTTED_MAX);
			goto record;
		}
	}
	if (exact == MG_GLOBAL_ALLOWED || exact == MG_GLOBAL_REBUILD) {
		/* Why clean for rebuild-only: pushed or rebuilt, the class
		 * runs only its own __new__ and __setstate__, which the pack
		 * entry was reviewed for; a call is judged where it happens
		 * (note_unknown_call). */
		if (exact == MG_GLOBAL_REBUILD && gv != NULL)
			gv->flags |= PF_REBUILD;
		v = MG_VERDICT_CLEAN;
		goto record;
	}
	v = MG_VERDICT_UNKNOWN;
	r = note(s, v, "pickle.global.unknown", g, off,
	         "global %s is on neither list", g);
	if (gv != NULL)
		gv->flags |= PF_UNKNOWN;
record:
	if (r != 0)
		return ST_STOP;
	if (!record || s->rep->nglobals >= MG_REPORT_MAX_GLOBALS) {
		/* Why: add_global would scan the full list for nothing. */
		if (v > s->rep->verdict)
			s->rep->verdict = v;
		return ST_OK;
	}
	if (mg_report_add_global(s->rep, mod, name, v) != MG_OK)
		return nomem(s);
	return ST_OK;
}

/*
 * 1 if (@mod, @name) is torch's nested loader and a hook can scan what it
 * loads.  Only the exact normalised pair: a dotted spelling (torch,
 * storage._load_from_bytes) is judged at once, as today.
 */
static int
is_nested_loader(const struct ps *s, const char *mod, const char *name)
{
	return s->hooks != NULL && s->hooks->on_nested != NULL &&
	       strcmp(mod, "torch.storage") == 0 &&
	       strcmp(name, "_load_from_bytes") == 0;
}

/*
 * Judge a deferred global now (a use nested_load does not cover).  No-op
 * for any other value.  ST_OK, or ST_STOP when out of memory.
 */
static int
settle(struct ps *s, struct pval *v)
{
	if (v == NULL || !(v->flags & PF_DEFER))
		return ST_OK;
	v->flags &= (uint16_t)~PF_DEFER;
	return judge_global(s, v, v->v.module, v->v.name, s->op, 1);
}

/* End of stream: a deferred global no accepted call used (it was only
 * memoised, popped or left on the stack) is judged as the loader found it. */
static int
settle_unused(struct ps *s)
{
	struct pval *v;
	size_t i;

	for (i = 0; i < s->gcap; i++) {
		v = s->gtab[i].val;
		if (v == NULL || !(v->flags & PF_DEFER) ||
		    (v->flags & PF_NESTOK))
			continue;
		v->flags &= (uint16_t)~PF_DEFER;
		if (judge_global(s, v, v->v.module, v->v.name,
		                 (size_t)v->v.i, 1) != 0)
			return ST_STOP;
	}
	return ST_OK;
}

static uint64_t
ghash(const char *m, size_t ml, const char *n, size_t nl, int low)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)low;
	size_t i;

	for (i = 0; i < ml; i++)
		h = (h ^ (uint8_t)m[i]) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (i = 0; i < nl; i++)
		h = (h ^ (uint8_t)n[i]) * 1099511628211ull;
	return h;
}

static struct gent *
gfind(struct ps *s, uint64_t h, const char *m, size_t ml, const char *n,
      size_t nl, int low)
{
	struct gent *e;
	size_t i;

	if (s->gcap == 0)
		return NULL;
	for (i = h & (s->gcap - 1);; i = (i + 1) & (s->gcap - 1)) {
		e = &s->gtab[i];
		if (e->val == NULL)
			return e;
		if (e->hash == h && e->low == low && e->modlen == ml &&
		    e->namelen == nl && memcmp(e->mod, m, ml) == 0 &&
		    memcmp(e->name, n, nl) == 0)
			return e;
	}
}

static int
ggrow(struct ps *s)
{
	struct gent *old = s->gtab, *e;
	size_t oldcap = s->gcap, i;

	s->gcap = oldcap ? oldcap * 2 : 64;
	if ((s->gtab = calloc(s->gcap, sizeof(*s->gtab))) == NULL) {
		s->gtab = old;
		s->gcap = oldcap;
		return -1;
	}
	for (i = 0; i < oldcap; i++) {
		if (old[i].val == NULL)
			continue;
		e = gfind(s, old[i].hash, old[i].mod, old[i].modlen,
		          old[i].name, old[i].namelen, old[i].low);
		*e = old[i];
	}
	free(old);
	return 0;
}

static char *
ar_strdup(struct ps *s, const char *p, size_t n)
{
	char *d = ar_alloc(s, n + 1);

	if (d != NULL) {
		memcpy(d, p, n);
		d[n] = '\0';
	}
	return d;
}

/* Check one raw name part as the loader would before importing it. */
static int
check_name_part(struct ps *s, const char *what, const char *p, size_t n)
{
	if (n == 0)
		return MALFORMED(s, "%s: empty %s name", opname(s), what);
	if (n > MG_NAME_MAX)
		return FAIL(s, "pickle.limit", "%s: %s name longer than %d "
		            "bytes", opname(s), what, MG_NAME_MAX);
	if (memchr(p, '\0', n) != NULL)
		return MALFORMED(s, "%s: NUL byte in %s name", opname(s),
		                 what);
	return ST_OK;
}

/* 1 if normalised (@mod, @name) is builtins.getattr (deferred: see
 * getattr_member). */
static int
is_getattr(const char *mod, const char *name)
{
	return strcmp(mod, "builtins") == 0 && strcmp(name, "getattr") == 0;
}

/*
 * Resolve the global (@m, @n) - once per distinct raw pair and key class
 * @low (GK_*) per stream - and push it: as find_class would (GK_HIGH,
 * GK_LOW: Python 2 names mapped), or as the attribute an enum member's
 * getattr reads (GK_MEMBER: @m, @n already normalised, not recorded).
 */
static int in_call_through(const char *mod, const char *name);

static int
push_resolved(struct ps *s, const char *m, size_t ml, const char *n,
              size_t nl, int low)
{
	uint64_t h;
	struct gent *e;
	struct pval *v;
	const char *nm, *nn;
	char *rm, *rn;

	if (check_name_part(s, "module", m, ml) != 0 ||
	    check_name_part(s, "attribute", n, nl) != 0)
		return ST_STOP;
	h = ghash(m, ml, n, nl, low);
	e = gfind(s, h, m, ml, n, nl, low);
	if (e != NULL && e->val != NULL)
		return push(s, e->val);
	if (s->gcount >= MG_GLOBALS_MAX)
		return FAIL(s, "pickle.limit", "more than %d distinct globals",
		            MG_GLOBALS_MAX);
	if (2 * (s->gcount + 1) > s->gcap && ggrow(s) != 0)
		return nomem(s);
	rm = ar_strdup(s, m, ml);
	rn = ar_strdup(s, n, nl);
	if (rm == NULL || rn == NULL || (v = pv_new(s, MG_PV_GLOBAL)) == NULL)
		return nomem(s);
	nm = rm;
	nn = rn;
	/* Why only below 3: the loader maps Python 2 names only then
	   (fix_imports), so "__builtin__" stays a dunder module at >= 3. */
	if (low == GK_LOW)
		mg_compat_map(rm, rn, &nm, &nn);
	v->v.module = nm;
	v->v.name = nn;
	if (in_call_through(nm, nn))
		v->flags |= PF_THROUGH;
	e = gfind(s, h, m, ml, n, nl, low);
	*e = (struct gent){ h, rm, rn, ml, nl, low, v };
	v->refs++; /* the cache's reference */
	s->gcount++;
	if (low != GK_MEMBER &&
	    (is_nested_loader(s, nm, nn) || is_getattr(nm, nn))) {
		v->flags |= PF_DEFER | (is_getattr(nm, nn) ? PF_GETATTR : 0);
		v->v.i = (int64_t)s->op; /* where to report it if judged late */
	} else if (judge_global(s, v, nm, nn, s->op, low != GK_MEMBER) != 0) {
		return ST_STOP;
	}
	return push(s, v);
}

/* Resolve and push the global (@m, @n) as find_class would. */
static int
push_global(struct ps *s, const char *m, size_t ml, const char *n,
            size_t nl)
{
	return push_resolved(s, m, ml, n, nl, s->proto < 3 ? GK_LOW : GK_HIGH);
}

/* GLOBAL and INST operands: two lines; GLOBAL decodes UTF-8, INST ASCII. */
static int
read_global_lines(struct ps *s, int ascii, const uint8_t **m, size_t *ml,
                  const uint8_t **n, size_t *nl)
{
	size_t i;

	if (rd_line(s, m, ml) != 0 || rd_line(s, n, nl) != 0)
		return ST_STOP;
	if (ascii) {
		for (i = 0; i < *ml; i++)
			if ((*m)[i] & 0x80)
				return MALFORMED(s, "INST: non-ASCII name");
		for (i = 0; i < *nl; i++)
			if ((*n)[i] & 0x80)
				return MALFORMED(s, "INST: non-ASCII name");
	} else if (mg_pickle_utf8_valid(*m, *ml) != 0 ||
	           mg_pickle_utf8_valid(*n, *nl) != 0) {
		return MALFORMED(s, "GLOBAL: name is not UTF-8");
	}
	return ST_OK;
}

static int
op_global(struct ps *s)
{
	const uint8_t *m, *n;
	size_t ml, nl;

	if (read_global_lines(s, 0, &m, &ml, &n, &nl) != 0)
		return ST_STOP;
	return push_global(s, (const char *)m, ml, (const char *)n, nl);
}

static const char *
kind_desc(const struct pval *v)
{
	switch (v->v.kind) {
	case MG_PV_CALL: return "the result of an earlier call";
	case MG_PV_PERSID: return "a persistent-load result";
	case MG_PV_GLOBAL: return "a global";
	case MG_PV_EXT: return "an extension-registry object";
	case MG_PV_STR: case MG_PV_BYTES: return "a string";
	case MG_PV_TUPLE: case MG_PV_LIST: case MG_PV_DICT:
	case MG_PV_SET: case MG_PV_FROZENSET: return "a container";
	default: return "a computed value";
	}
}

static const char *never_name(const struct pval *v);

/* A STACK_GLOBAL operand must be a str to the loader. */
static int
str_operand(struct ps *s, struct pval *v, const char *what)
{
	const char *desc;
	size_t i;

	if (v->v.kind == MG_PV_STR && !(v->flags & PF_RAW))
		return ST_OK;
	if (v->v.kind == MG_PV_BYTES && (v->flags & PF_PY2STR) &&
	    !(v->flags & PF_RAW)) {
		/* Why: STRING/BINSTRING decode to str under the default
		   encodings (ASCII, torch's UTF-8), so the loader accepts
		   them.  Non-ASCII depends on the caller's encoding: refuse. */
		for (i = 0; i < v->v.len; i++)
			if (v->v.data[i] & 0x80)
				return MALFORMED(s, "STACK_GLOBAL: non-ASCII "
				                 "Python 2 string as %s", what);
		return ST_OK;
	}
	if (v->flags & PF_RAW)
		return FAIL(s, "pickle.limit", "STACK_GLOBAL: %s name longer "
		            "than %d bytes", what, MG_NAME_MAX);
	if (settle(s, v) != ST_OK)
		return ST_STOP;
	if ((desc = never_name(v)) != NULL)
		return MALFORMED(s, "STACK_GLOBAL: %s is %s, never a name the "
		                 "loader imports", what, desc);
	if (v->v.kind == MG_PV_CALL || v->v.kind == MG_PV_PERSID ||
	    v->v.kind == MG_PV_EXT || v->v.kind == MG_PV_OTHER ||
	    v->v.kind == MG_PV_GLOBAL) {
		/* Why dangerous: a call can return a str at load time (e.g.
		   str.join of pieces), and a global can be one (os.sep), so
		   the loader would resolve a name no classifier can see in
		   the bytes. */
		note(s, MG_VERDICT_DANGEROUS, "pickle.global.computed", NULL,
		     s->op, "STACK_GLOBAL %s name is computed at load time "
		     "(%s)", what, kind_desc(v));
		return ST_STOP;
	}
	return MALFORMED(s, "STACK_GLOBAL: %s is not a str (the loader "
	                 "rejects it)", what);
}

static int
op_stack_global(struct ps *s)
{
	struct pval *n, *m;
	int r;

	if (need(s, 2) != 0)
		return ST_STOP;
	n = pop(s);
	m = pop(s);
	r = str_operand(s, m, "module");
	if (r == 0)
		r = str_operand(s, n, "name");
	if (r == 0)
		r = push_global(s, (const char *)m->v.data, m->v.len,
		                (const char *)n->v.data, n->v.len);
	pv_unref(s, n);
	pv_unref(s, m);
	return r;
}

/* ---- calls and structural rules --------------------------------------- */

/*
 * Which opcodes run which code (CPython 3.11-3.14 Modules/_pickle.c, and
 * pickle.py's _Unpickler, which does the same):
 *
 *   REDUCE      load_reduce: callable(*args), any callable, any args - also
 *               an empty tuple: f() is a call, and cls() runs cls.__new__
 *               and cls.__init__.
 *   OBJ, INST   load_obj / load_inst -> instantiate(): with no arguments and
 *               a class without __getinitargs__, cls.__new__(cls); with
 *               arguments, or when the global is not a class (a function),
 *               callable(*args).  Whether a global is a class is decided at
 *               load time, so OBJ/INST of an unknown global is a call even
 *               with no arguments (no Python 3 pickler writes OBJ or INST).
 *   NEWOBJ(_EX) load_newobj: the class must be a type (else the loader
 *               raises before calling anything); then cls.__new__(cls,
 *               *args, **kwargs).  That runs code of the class only where
 *               __new__ is overridden (C types too: mmap, FunctionType,
 *               CodeType build things from their arguments), which
 *               modelgate cannot know; so non-empty args or kwargs, or args
 *               that are not a literal empty tuple/dict, make it a call.
 *               Empty args is how every pickler rebuilds an object
 *               (object.__reduce_ex__(2+) -> copyreg.__newobj__ -> NEWOBJ).
 *   BUILD       load_build: inst.__setstate__(state) when the object has
 *               one, else a __dict__ update and setattr() of slot state.
 *               Part of rebuilding an object: code of its own class.
 *   APPEND(S), SETITEM(S), ADDITEMS on an object: its own append/extend/
 *               __setitem__/add.  Also part of rebuilding (list, dict and
 *               set subclasses are written that way).
 *   copyreg._reconstructor(cls, base, state) (what protocols 0 and 1
 *               write for objects): object.__new__(cls) when base is
 *               object; else base.__new__(cls, state) and base.__init__(obj,
 *               state), i.e. a call of base.
 *
 * So: a global on neither list that is only pushed (a class used as a
 * value, a dtype), rebuilt with NEWOBJ(_EX) and empty arguments, or passed
 * as cls to copyreg._reconstructor, is "unknown" (pickle.global.unknown):
 * the code that can run is that class's own __new__ without arguments,
 * __setstate__ and container methods.  Called any other way it runs
 * whatever the file chooses with arguments the file chooses:
 * pickle.call.unknown, verdict MG_VERDICT_UNKNOWN_CALL (denied by the
 * default policy).  Calls of allowed globals are not findings; calls of
 * denied ones are already dangerous where the global was resolved.
 */

/* 1 if @v is a literal empty value of kind @k (a tuple or a dict). */
static int
is_empty(const struct pval *v, enum mg_pkind k)
{
	return v->v.kind == k && v->v.nitems == 0 && !(v->flags & PF_TRUNC);
}

/* How a call opcode calls (push_call's @how). */
enum { CALL_ALWAYS = 0, CALL_NEWOBJ = 1, CALL_NEWOBJ_EX = 2 };

/*
 * Globals that call one of their own arguments, a call no opcode shows:
 * torch._tensor._rebuild_from_type_v2(func, new_type, args, state) runs
 * func(*args) (torch/_tensor.py); numpy 1.24 pickles a RandomState or
 * Generator as __randomstate_ctor/__generator_ctor(name, ctor), and those
 * call ctor(name) (numpy/random/_pickle.py); numpy 2's
 * __bit_generator_ctor(x) calls x() when x is a class, any class (numpy
 * 1.24 and 2 also take a name, looked up in numpy's own table: @str_ok).
 * The argument at @arg is a callee as if the opcode had called it: a
 * global there with a flag of @nocall (PF_UNKNOWN, PF_REBUILD) is an
 * unknown call, a value that is not a global a computed call
 * (call_through_computed).  __bit_generator_ctor(cls) runs cls(), which
 * is what REDUCE of cls with an empty tuple does: a call (cls.__new__
 * and cls.__init__ run), not the no-argument rebuild NEWOBJ does, so an
 * unknown or rebuild-only class there is an unknown call like any
 * other; numpy itself only ever passes its five bit generators.
 * Allowing these pairs is safe only with this rule; the policy's
 * allow-list relies on it (policy/allow_torch.inc).
 */
static const struct {
	const char *module, *name;
	size_t arg;
	int str_ok;
	uint16_t nocall;
} call_through[] = {
	{ "torch._tensor", "_rebuild_from_type_v2", 0, 0, PF_NOCALL },
	{ "numpy.random._pickle", "__generator_ctor", 1, 0, PF_NOCALL },
	{ "numpy.random._pickle", "__randomstate_ctor", 1, 0, PF_NOCALL },
	{ "numpy.random._pickle", "__bit_generator_ctor", 0, 1, PF_NOCALL },
};

/* 1 if (@mod, @name), as normalised, is in call_through[]. */
static int
in_call_through(const char *mod, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(call_through) / sizeof(call_through[0]); i++)
		if (strcmp(mod, call_through[i].module) == 0 &&
		    strcmp(name, call_through[i].name) == 0)
			return 1;
	return 0;
}

/* The argument of @args that global @fn calls itself, or NULL (also
 * for a literal str where the helper takes a name); *@nocall (may be
 * NULL) gets the entry's nocall flags. */
static const struct pval *
through_arg(const struct pval *fn, const struct pval *args,
            uint16_t *nocall)
{
	const struct pval *a;
	size_t i;

	if (fn->v.kind != MG_PV_GLOBAL || !(fn->flags & PF_THROUGH) ||
	    args->v.kind != MG_PV_TUPLE)
		return NULL;
	for (i = 0; i < sizeof(call_through) / sizeof(call_through[0]); i++) {
		if (strcmp(fn->v.module, call_through[i].module) != 0 ||
		    strcmp(fn->v.name, call_through[i].name) != 0)
			continue;
		if (call_through[i].arg >= args->v.nitems)
			return NULL;
		a = PV(args->v.items[call_through[i].arg]);
		if (nocall != NULL)
			*nocall = call_through[i].nocall;
		return call_through[i].str_ok && a->v.kind == MG_PV_STR ?
		    NULL : a;
	}
	return NULL;
}

/* pickle.call.computed when @fn calls an argument that is no global. */
static int
call_through_computed(struct ps *s, const struct pval *fn,
                      const struct pval *args)
{
	const struct pval *a = through_arg(fn, args, NULL);

	if (a != NULL && a->v.kind == MG_PV_GLOBAL &&
	    (a->flags & (PF_DEFER | PF_NESTOK)) && !(a->flags & PF_GETATTR))
		/* Why: torch's nested loader called this way gets bytes the
		 * nested scan never saw (nested_load takes only REDUCE). */
		return note(s, MG_VERDICT_DANGEROUS, "pickle.global.denied",
		            NULL, s->op, "%s %s calls %s %s, a nested loader, "
		            "on bytes that are not scanned", fn->v.module,
		            fn->v.name, a->v.module, a->v.name);
	if (a == NULL || a->v.kind == MG_PV_GLOBAL)
		return 0;
	return note(s, MG_VERDICT_DANGEROUS, "pickle.call.computed", NULL,
	            s->op, "%s %s calls its argument, which is %s, not a "
	            "global", fn->v.module, fn->v.name, kind_desc(a));
}

/*
 * The unknown global @fn calls when called by the current opcode with
 * @args, or NULL: @fn itself, the base that copyreg._reconstructor
 * calls, or the argument a call_through global calls.  *@base is 1 for
 * the base, 2 for such an argument.
 */
static const struct pval *
unknown_callee(const struct pval *fn, const struct pval *args, int how,
               int *base)
{
	const struct pval *b;
	uint16_t nocall = 0;

	*base = 0;
	if (fn->v.kind != MG_PV_GLOBAL)
		return NULL;
	if (fn->flags & PF_NOCALL) {
		if (how == CALL_NEWOBJ && is_empty(args, MG_PV_TUPLE))
			return NULL;
		if (how == CALL_NEWOBJ_EX && args->v.kind == MG_PV_TUPLE &&
		    args->v.nitems == 2 &&
		    is_empty(PV(args->v.items[0]), MG_PV_TUPLE) &&
		    is_empty(PV(args->v.items[1]), MG_PV_DICT))
			return NULL;
		return fn;
	}
	b = through_arg(fn, args, &nocall);
	if (b != NULL && b->v.kind == MG_PV_GLOBAL && (b->flags & nocall)) {
		*base = 2;
		return b;
	}
	if (how != CALL_ALWAYS || strcmp(fn->v.module, "copyreg") != 0 ||
	    strcmp(fn->v.name, "_reconstructor") != 0 ||
	    args->v.kind != MG_PV_TUPLE || args->v.nitems < 2)
		return NULL;
	b = PV(args->v.items[1]);
	if (b->v.kind != MG_PV_GLOBAL || !(b->flags & PF_NOCALL))
		return NULL;
	*base = 1;
	return b;
}

/* pickle.call.unknown for the call the current opcode makes; 0 or -1. */
static int
note_unknown_call(struct ps *s, const struct pval *fn,
                  const struct pval *args, int how)
{
	char g[2 * MG_NAME_MAX + 2];
	const struct pval *callee;
	int base;

	if ((callee = unknown_callee(fn, args, how, &base)) == NULL)
		return 0;
	snprintf(g, sizeof(g), "%s %s", callee->v.module, callee->v.name);
	/* Why this wording: the preload's one-line reason keeps ~250
	 * bytes, so the callable and the way to allow it come first. */
	return note(s, MG_VERDICT_UNKNOWN_CALL, "pickle.call.unknown", g,
	            s->op, "%s calls %s (%s)%s: code the file chooses; if "
	            "trusted, allow it ([globals] allow = %s:%s)%s, or pin the "
	            "file", opname(s), g, (callee->flags & PF_REBUILD) ?
	            "a pack says it may be rebuilt but not called" :
	            "on neither list",
	            base == 2 ? " through an allowed helper that calls its "
	            "argument" : base ? " as copyreg._reconstructor's base, "
	            "with the file's state" : is_empty(args, MG_PV_TUPLE) ? "" :
	            " with arguments from the file", callee->v.module,
	            callee->v.name, (callee->flags & PF_REBUILD) ? "" :
	            ", enable a pack that lists it");
}

/* Push CALL(@fn, @args) for opcode at the current offset, which calls as
   @how says (CALL_*).  Takes over the caller's references to @fn and
   @args. */
static int
push_call(struct ps *s, struct pval *fn, struct pval *args, int how)
{
	struct pval *c = pv_new(s, MG_PV_CALL);
	int r = ST_OK;

	if (fn->v.kind != MG_PV_GLOBAL && fn->v.kind != MG_PV_EXT)
		/* Why: only a GLOBAL was classified.  Calling anything else
		   (getattr(...)'s result, a persistent object) runs code the
		   allow-list never saw. */
		r = note(s, MG_VERDICT_DANGEROUS, "pickle.call.computed", NULL,
		         s->op, "%s calls %s, not a global", opname(s),
		         kind_desc(fn));
	/* Why settle first: a deferred global is judged (and flagged) only
	 * once its use is known, and this is its use. */
	else if (settle(s, fn) != ST_OK)
		r = -1;
	else if ((r = call_through_computed(s, fn, args)) == 0)
		r = note_unknown_call(s, fn, args, how);
	if (c == NULL || r != 0 || pv_add(s, c, fn) != 0 ||
	    pv_add(s, c, args) != 0)
		r = nomem(s);
	pv_unref(s, fn);
	pv_unref(s, args);
	return r != 0 ? r : push(s, c);
}

/*
 * REDUCE(torch.storage _load_from_bytes, (b,)) with b literal bytes: what
 * pickle.dumps(tensor) writes for every storage (TypedStorage.__reduce__),
 * and what _load_from_bytes hands to torch.load.  Why not simply deny it
 * (the classifier does, as a nested loader): that makes every pickled
 * tensor, state_dict or joblib dump of tensors dangerous.  Why not allow
 * it: torch.load on b runs whatever b holds.  So the hook scans b as the
 * torch.save stream it is, with the reader's depth cap, and the call is
 * recorded as clean; its findings are the nested stream's.  Only this
 * exact shape: one literal bytes argument whose whole value is in the
 * input.  Protocol 0-2 bytes (_codecs.encode(str, 'latin1'), a call),
 * bytearray, and anything computed are settled by push_call as denied.
 * 1 if taken over (@fn and @args consumed), 0 if not this shape.
 */
static int
nested_load(struct ps *s, struct pval *fn, struct pval *args, int *r)
{
	const struct pval *b;
	struct pval *c;

	if (!(fn->flags & PF_DEFER) || (fn->flags & PF_GETATTR) ||
	    args->v.kind != MG_PV_TUPLE || args->v.nitems != 1 ||
	    (args->flags & PF_TRUNC))
		return 0;
	b = PV(args->v.items[0]);
	if (b->v.kind != MG_PV_BYTES || !(b->flags & PF_BINBYTES) ||
	    (b->flags & (PF_RAW | PF_PY2STR)) || b->v.data == NULL)
		return 0;
	*r = ST_OK;
	if (s->hooks->on_nested(s->hooks->ctx, b->v.data, b->v.len,
	                        s->base + s->op) != 0)
		*r = nomem(s);
	if (*r == ST_OK && !(fn->flags & PF_NESTOK)) {
		fn->flags |= PF_NESTOK;
		if (mg_report_add_global(s->rep, fn->v.module, fn->v.name,
		                         MG_VERDICT_CLEAN) != MG_OK)
			*r = nomem(s);
	}
	c = *r == ST_OK ? pv_new(s, MG_PV_CALL) : NULL;
	if (*r == ST_OK && (c == NULL || pv_add_raw(s, c, fn) != 0 ||
	                    pv_add_raw(s, c, args) != 0))
		*r = nomem(s);
	pv_unref(s, fn);
	pv_unref(s, args);
	if (*r == ST_OK) {
		c->flags |= PF_NESTCALL;
		*r = push(s, c);
	}
	return 1;
}

/* 1 if @a is a literal str the loader passes to getattr as a plain
 * attribute name: an ASCII identifier, no dots, not a dunder. */
static int
attr_name_literal(const struct pval *a)
{
	size_t i;
	uint8_t c;

	if (a->v.kind != MG_PV_STR || (a->flags & PF_RAW) ||
	    a->v.data == NULL || a->v.len == 0 || a->v.len > MG_NAME_MAX)
		return 0;
	for (i = 0; i < a->v.len; i++) {
		c = a->v.data[i];
		if (!(c == '_' || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')))
			return 0;
	}
	/* Why starts-and-ends, not the dunder test's length: "__" and "___"
	 * are refused with the dunders too (no enum member is named so). */
	return !(a->v.len >= 2 && a->v.data[0] == '_' && a->v.data[1] == '_' &&
	         a->v.data[a->v.len - 1] == '_' &&
	         a->v.data[a->v.len - 2] == '_');
}

/*
 * Enum members.  Python 3.11+ pickles every enum member as
 * getattr(Class, "NAME"): Lib/enum.py's Enum.__reduce_ex__ returns
 * (getattr, (self.__class__, self._name_)); protocols 0-2 spell the
 * callable __builtin__ getattr, which the loader maps to builtins.  Its
 * load_reduce (Modules/_pickle.c) pops the args tuple and the callable
 * and calls getattr(G, "NAME"), G being the object find_class returned:
 * the same attribute lookup find_class itself does for each component of
 * a protocol-4 dotted name (_getattribute walks getattr), so the value
 * is the global (G's module, "G's name.NAME").  That exact shape is read
 * as that dotted global and judged as one (classifier and packs, which
 * list members as Class.MEMBER; dotted_denied; the dunder test), and its
 * value is a global: calling it later is a call of the dotted global,
 * BUILD or SETITEM on it acts on a global.
 *
 * The shape and nothing else: REDUCE (OBJ, INST and NEWOBJ are other
 * calls), args a literal tuple of exactly two items (getattr with a
 * default is no enum), the first a GLOBAL value (getattr on a call
 * result, a persistent object or an extension object reaches attributes
 * of things no classifier judged; on getattr or the nested loader, of a
 * deferred global), the second a literal str that is a plain attribute
 * name (attr_name_literal: a dotted or dunder name - __class__,
 * __globals__, __dict__ - reaches interpreter internals).  Every other
 * use of builtins.getattr - another call shape or argument, passing it
 * as a value, returning it, BUILD on it, memoising it and using it once
 * this way and once otherwise, or leaving it unused - settles it, and it
 * is denied as before (the getattr trampoline).  The getattr global is
 * recorded clean once an exact use took it, as find_class resolved it;
 * the member is judged without being added to the report's globals
 * (find_class never resolves it).  1 if taken over (@fn and @args
 * consumed, *@r set), 0 if not this shape.
 */
static int
getattr_member(struct ps *s, struct pval *fn, struct pval *args, int *r)
{
	const struct pval *g, *a;
	char name[MG_NAME_MAX + 1];
	size_t gl;

	if (!(fn->flags & PF_GETATTR) || !(fn->flags & PF_DEFER) ||
	    args->v.kind != MG_PV_TUPLE || args->v.nitems != 2 ||
	    (args->flags & PF_TRUNC))
		return 0;
	g = PV(args->v.items[0]);
	a = PV(args->v.items[1]);
	if (g->v.kind != MG_PV_GLOBAL ||
	    (g->flags & (PF_DEFER | PF_GETATTR | PF_NESTOK)) ||
	    !attr_name_literal(a))
		return 0;
	gl = strlen(g->v.name);
	/* Why the bound: the member is judged as one name, which
	 * check_name_part caps at MG_NAME_MAX; longer stays denied. */
	if (gl + 1 + a->v.len > MG_NAME_MAX)
		return 0;
	memcpy(name, g->v.name, gl);
	name[gl] = '.';
	memcpy(name + gl + 1, a->v.data, a->v.len);
	name[gl + 1 + a->v.len] = '\0';
	*r = push_resolved(s, g->v.module, strlen(g->v.module), name,
	                   gl + 1 + a->v.len, GK_MEMBER);
	if (*r == ST_OK && !(fn->flags & PF_NESTOK)) {
		fn->flags |= PF_NESTOK;
		if (mg_report_add_global(s->rep, fn->v.module, fn->v.name,
		                         MG_VERDICT_CLEAN) != MG_OK)
			*r = nomem(s);
	}
	pv_unref(s, fn);
	pv_unref(s, args);
	return 1;
}

static int
op_reduce(struct ps *s)
{
	struct pval *args, *fn;
	int r;

	if (need(s, 2) != 0)
		return ST_STOP;
	args = pop(s);
	fn = pop(s);
	if (getattr_member(s, fn, args, &r) || nested_load(s, fn, args, &r))
		return r;
	return push_call(s, fn, args, CALL_ALWAYS);
}

static int
op_newobj(struct ps *s, int ex)
{
	struct pval *kw = NULL, *args, *cls, *c;
	int r, bare;

	if (need(s, ex ? 3 : 2) != 0)
		return ST_STOP;
	if (ex)
		kw = pop(s);
	args = pop(s);
	cls = pop(s);
	if (kw != NULL) {
		/* Keep kwargs visible to hooks: args becomes (args, kwargs). */
		struct pval *t = pv_new(s, MG_PV_TUPLE);

		if (t == NULL || pv_add(s, t, args) != 0 ||
		    pv_add(s, t, kw) != 0)
			return nomem(s);
		pv_unref(s, args);
		pv_unref(s, kw);
		args = t;
		args->refs++;
	}
	bare = ex ? is_empty(PV(args->v.items[0]), MG_PV_TUPLE) &&
	            is_empty(PV(args->v.items[1]), MG_PV_DICT) :
	            is_empty(args, MG_PV_TUPLE);
	r = push_call(s, cls, args, ex ? CALL_NEWOBJ_EX : CALL_NEWOBJ);
	if (r != ST_OK)
		return r;
	/* Why after the call: push_call settles the class.  load_newobj
	 * refuses a class that is not a type, so from here on the value is
	 * one (never_name). */
	c = top(s);
	cls = PV(c->v.items[0]);
	if (cls->v.kind == MG_PV_GLOBAL) {
		cls->flags |= PF_TYPE;
		if (bare && !(cls->flags & (PF_UNKNOWN | PF_DEFER | PF_GETATTR)))
			c->flags |= PF_BARE;
	}
	return ST_OK;
}

/* OBJ: MARK cls args... ; INST: MARK args... with the class in lines. */
static int
op_obj(struct ps *s)
{
	size_t mark;
	struct pval *cls, *args;

	if (pop_mark(s, &mark) != 0)
		return ST_STOP;
	if (s->nstack - mark < 1)
		return MALFORMED(s, "OBJ: stack underflow");
	if ((args = collect(s, MG_PV_TUPLE, mark + 1)) == NULL)
		return nomem(s);
	args->refs++;
	cls = pop(s);
	return push_call(s, cls, args, CALL_ALWAYS);
}

static int
op_inst(struct ps *s)
{
	const uint8_t *m, *n;
	size_t ml, nl, mark;
	struct pval *cls, *args;

	if (pop_mark(s, &mark) != 0 ||
	    read_global_lines(s, 1, &m, &ml, &n, &nl) != 0)
		return ST_STOP;
	if ((args = collect(s, MG_PV_TUPLE, mark)) == NULL)
		return nomem(s);
	args->refs++;
	if (push_global(s, (const char *)m, ml, (const char *)n, nl) != 0) {
		pv_unref(s, args);
		return ST_STOP;
	}
	cls = pop(s);
	return push_call(s, cls, args, CALL_ALWAYS);
}

/* 1 if @g is the global joblib.numpy_pickle NumpyArrayWrapper, the record
 * joblib.dump writes in place of each array. */
static int
is_wrapper(const struct pval *g)
{
	return g->v.kind == MG_PV_GLOBAL &&
	       strcmp(g->v.module, "joblib.numpy_pickle") == 0 &&
	       strcmp(g->v.name, "NumpyArrayWrapper") == 0;
}

/* After BUILD: let a format reader step over raw bytes (see pickle.h). */
static int
build_hook(struct ps *s, struct pval *obj)
{
	size_t pos = s->in_frame ? s->frame_filepos : s->p, skip = 0, end;
	struct mg_pickle_hooks nh = { NULL, NULL, s->hooks->ctx,
	                              s->hooks->on_nested };
	int r, not_dict = 0;

	r = s->hooks->on_build(s->hooks->ctx, &obj->v, s->buf, s->len, pos,
	                       &skip);
	if (r < 0) {
		if (s->rep->verdict < MG_VERDICT_ERROR)
			note(s, MG_VERDICT_ERROR, "pickle.malformed", NULL,
			     s->op, "BUILD: the format reader rejected this "
			     "object");
		return ST_STOP;
	}
	if (skip > s->len - pos)
		return MALFORMED(s, "BUILD: %zu raw bytes follow but only %zu "
		                 "are left", skip, s->len - pos);
	pos += skip;
	if (r == 1) {
		if (s->depth >= MG_NEST_MAX)
			return FAIL(s, "pickle.limit", "nested pickles deeper "
			            "than %d", MG_NEST_MAX);
		/* Why no hooks: the nested pickle is read by a plain
		 * pickle.load() (joblib's read_array for object arrays), not
		 * by the hooking loader, so nothing inside it skips bytes: a
		 * wrapper BUILD in there is just an object, and the bytes
		 * after it are opcodes the C loader runs.  Only on_nested
		 * stays: that pickle.load runs _load_from_bytes all the
		 * same. */
		r = scan_stream(s->o, nh.on_nested != NULL ? &nh : NULL,
		                s->buf, s->len, pos, s->member,
		                s->base, s->depth + 1, s->rep, &end,
		                &not_dict);
		if (r == -2)
			return nomem(s);
		if (r != 0)
			return ST_STOP;
		pos = end;
	} else {
		not_dict = 1; /* a raw body: np.empty/frombuffer's ndarray */
	}
	/* Why: joblib.load puts in the wrapper's place the array it reads
	 * (NumpyUnpickler.load_build): for an object array, whatever the
	 * nested pickle returns; an ndarray subclass at most otherwise
	 * (NumpyArrayWrapper.read's _reconstruct).  never_dict() asks. */
	if (is_wrapper(PV(obj->v.items[0]))) {
		obj->flags |= PF_SWAPPED;
		if (not_dict)
			obj->flags |= PF_ARRAY;
	}
	if (s->in_frame)
		s->frame_filepos = pos;
	else
		s->p = pos;
	return ST_OK;
}

/* A dangerous finding about an opcode applied to a global value @g. */
static int
on_global(struct ps *s, struct pval *g, const char *rule,
          const char *what)
{
	char gl[2 * MG_NAME_MAX + 2];

	if (settle(s, g) != ST_OK)
		return ST_STOP;
	if (g->v.kind != MG_PV_GLOBAL)
		return note(s, MG_VERDICT_DANGEROUS, rule, NULL, s->op,
		            "%s %s an extension-registry object", opname(s),
		            what) != 0 ? ST_STOP : ST_OK;
	snprintf(gl, sizeof(gl), "%s %s", g->v.module, g->v.name);
	return note(s, MG_VERDICT_DANGEROUS, rule, gl, s->op,
	            "%s %s the global %s itself", opname(s), what, gl) != 0 ?
	       ST_STOP : ST_OK;
}

/*
 * 1 if @k is a key the loader would use as an attribute name we can read:
 * a literal str, or a protocol-0/1 string (str under the default encoding).
 */
static int
literal_key(const struct pval *k)
{
	return (k->v.kind == MG_PV_STR ||
	        (k->v.kind == MG_PV_BYTES && (k->flags & PF_PY2STR))) &&
	       !(k->flags & PF_RAW) && k->v.data != NULL;
}

static int
key_is_dunder(const struct pval *k)
{
	char tmp[MG_NAME_MAX + 1];

	if (k->v.len > MG_NAME_MAX)
		return 0; /* a dunder is short; a long key cannot be one */
	memcpy(tmp, k->v.data, k->v.len);
	tmp[k->v.len] = '\0';
	return mg_pickle_has_dunder(tmp) ||
	       (k->v.len >= 4 && memcmp(tmp, "__", 2) == 0 &&
	        memcmp(tmp + k->v.len - 2, "__", 2) == 0);
}

/*
 * The slot state of BUILD ((dict, slotstate) for an object without
 * __setstate__) goes through setattr(), which, unlike the __dict__ update,
 * runs descriptors: setattr(obj, "__class__", C) turns an instance of an
 * allowed class into any class C - joblib's loader then treats a
 * TypedStorage as a NumpyArrayWrapper (isinstance) and reads raw bytes the
 * analyser parses as opcodes.  So a slot state must be a literal dict of
 * literal, non-dunder names; anything else is dangerous.  (Objects with
 * __setstate__ get the tuple as data; real slot states never hold dunders:
 * copyreg._slotnames drops __dict__ and __weakref__.)
 */
static int never_dict(const struct pval *v);

static int
check_build_state(struct ps *s, const struct pval *state)
{
	const struct pval *slot, *k;
	size_t i;

	if (state->v.kind != MG_PV_TUPLE || state->v.nitems != 2)
		return ST_OK;
	slot = PV(state->v.items[1]);
	if (slot->v.kind == MG_PV_NONE || never_dict(slot))
		return ST_OK;
	if (slot->v.kind != MG_PV_DICT)
		return note(s, MG_VERDICT_DANGEROUS, "pickle.build.setattr",
		            NULL, s->op, "BUILD slot state is %s, so the "
		            "attributes it sets are unknown", kind_desc(slot))
		       != 0 ? ST_STOP : ST_OK;
	if (slot->flags & PF_TRUNC)
		return note(s, MG_VERDICT_DANGEROUS, "pickle.build.setattr",
		            NULL, s->op, "BUILD slot state has more than %d "
		            "items", MG_KEEP / 2) != 0 ? ST_STOP : ST_OK;
	for (i = 0; i + 1 < slot->v.nitems; i += 2) {
		k = PV(slot->v.items[i]);
		if (!literal_key(k))
			return note(s, MG_VERDICT_DANGEROUS,
			            "pickle.build.setattr", NULL, s->op,
			            "BUILD sets an attribute named by %s",
			            kind_desc(k)) != 0 ? ST_STOP : ST_OK;
		if (key_is_dunder(k))
			return note(s, MG_VERDICT_DANGEROUS,
			            "pickle.build.setattr", NULL, s->op,
			            "BUILD sets the dunder attribute %.*s (e.g. "
			            "__class__ rewires the object)",
			            (int)(k->v.len > 64 ? 64 : k->v.len),
			            (const char *)k->v.data) != 0 ?
			       ST_STOP : ST_OK;
	}
	return ST_OK;
}

/*
 * What some BUILD states are, told from the call that made a value.  Two
 * questions share these helpers: is a slot state one the loader can never
 * use for setattr (never_dict), and is the object one whose __setstate__
 * takes the 2-tuple as data (is_bit_generator).  Both look at a call of
 * an exact global that may be called (classified allowed or denied: not
 * unknown, not rebuild-only, not deferred) and its arguments.
 */
typedef const char *const gpair[2];

/* 1 if @g is a GLOBAL value naming one of the @n pairs of @tab. */
static int
pair_in(const struct pval *g, const gpair *tab, size_t n)
{
	size_t i;

	if (g->v.kind != MG_PV_GLOBAL)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(g->v.module, tab[i][0]) == 0 &&
		    strcmp(g->v.name, tab[i][1]) == 0)
			return 1;
	return 0;
}

/* pair_in(), and @g may be called (what it returns is the callee's). */
static int
global_in(const struct pval *g, const gpair *tab, size_t n)
{
	return pair_in(g, tab, n) &&
	       !(g->flags & (PF_NOCALL | PF_DEFER | PF_GETATTR));
}

/* The args tuple of call value @v if its callable is one of the @n pairs
 * of @tab (global_in), else NULL. */
static const struct pval *
call_of(const struct pval *v, const gpair *tab, size_t n)
{
	const struct pval *args;

	if (v->v.kind != MG_PV_CALL || v->v.nitems != 2 ||
	    !global_in(PV(v->v.items[0]), tab, n))
		return NULL;
	args = PV(v->v.items[1]);
	return args->v.kind == MG_PV_TUPLE ? args : NULL;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * 1 if @v is the result of a call that can never return a dict nor a dict
 * subclass, so as BUILD's slot state it sets no attribute: _pickle.c's
 * load_build raises "slot state is not a dictionary" before any
 * setattr() (pickle.py's load_build calls slotstate.items(), which an
 * ndarray has not); and an object with __setstate__ gets the tuple as
 * data.  What pandas writes for every extension array (NDArrayBacked's
 * (dtype, ndarray) state).  The table, numpy's array constructors, and
 * why each never returns a dict: _reconstruct(subtype, shape, dtype)
 * refuses a subtype that is not an ndarray subclass ("First argument
 * must be a sub-type of ndarray"), and no class derives from both
 * ndarray and dict (instance lay-out conflict); _frombuffer(buf, dtype,
 * shape, order) is frombuffer(...).reshape(...), an ndarray.  BUILD and
 * SETITEM on the result keep its type (ndarray.__setstate__,
 * __setitem__).  Deliberately absent: numpy's scalar(dtype, obj), which
 * for an object dtype returns obj itself (numpy 2.4; 1.24 raises) - a
 * dict the file chose.
 */
static int
never_dict(const struct pval *v)
{
	static const gpair arrays[] = {
		{ "numpy._core.multiarray", "_reconstruct" },
		{ "numpy.core.multiarray", "_reconstruct" },
		{ "numpy._core.numeric", "_frombuffer" },
		{ "numpy.core.numeric", "_frombuffer" },
	};

	/* Why the wrapper: a plain class (no dict base), so a call of it
	 * makes an instance that is no dict, which is what pickle.load
	 * keeps; joblib.load puts the array it reads in its place
	 * (PF_SWAPPED), which is no dict when PF_ARRAY says so: a raw
	 * body's ndarray, or a nested pickle that returns one - not any
	 * object a nested pickle may return.  pandas 3 writes a wrapper as
	 * the ndarray of every extension array's state when joblib dumps a
	 * frame. */
	return call_of(v, arrays, NELEM(arrays)) != NULL ||
	       (v->v.kind == MG_PV_CALL && v->v.nitems == 2 &&
	        is_wrapper(PV(v->v.items[0])) &&
	        !(PV(v->v.items[0])->flags & PF_UNKNOWN) &&
	        (!(v->flags & PF_SWAPPED) || (v->flags & PF_ARRAY)));
}

/*
 * What @v is, when it can never be a name the loader imports as a
 * STACK_GLOBAL operand, else NULL.  load_stack_global takes only an
 * exact str (PyUnicode_CheckExact), and find_class refuses "" (an empty
 * module name, an empty attribute).  So: a class (PF_TYPE: NEWOBJ
 * accepted it, so it is a type, and a type is no str); what NEWOBJ made
 * without arguments of a global that is not unknown (PF_BARE:
 * cls.__new__(cls), an instance of cls, which is "" when cls is str);
 * and what a call of one of the types below returns, an instance of it
 * (none of them is str or returns one).  Where this matters: a joblib
 * file read with pickle.load resolves its nested pickles' memo strings
 * from the outer stream (joblib.c), and the outer stream's memo 3 is
 * what the first object it pickles was made with: the instance of an
 * estimator or a frame (NEWOBJ), the wrapper class, an OrderedDict.
 */
static const char *
never_name(const struct pval *v)
{
	static const gpair types[] = {
		{ "builtins", "bool" }, { "builtins", "bytearray" },
		{ "builtins", "bytes" }, { "builtins", "complex" },
		{ "builtins", "dict" }, { "builtins", "float" },
		{ "builtins", "frozenset" }, { "builtins", "int" },
		{ "builtins", "list" }, { "builtins", "object" },
		{ "builtins", "range" }, { "builtins", "set" },
		{ "builtins", "slice" }, { "builtins", "tuple" },
		{ "collections", "Counter" }, { "collections", "OrderedDict" },
		{ "collections", "defaultdict" }, { "collections", "deque" },
		{ "numpy", "dtype" },
	};

	if (v->v.kind == MG_PV_GLOBAL &&
	    ((v->flags & PF_TYPE) || pair_in(v, types, NELEM(types)) ||
	     is_wrapper(v)))
		return "a class";
	/* Why first: in the stack's place joblib.load puts what it reads,
	 * which a nested pickle may make a str. */
	if (v->flags & PF_SWAPPED)
		return (v->flags & PF_ARRAY) ? "the array joblib.load reads "
		       "in a wrapper's place" : NULL;
	if (v->v.kind == MG_PV_CALL && (v->flags & PF_BARE))
		return "an object NEWOBJ made without arguments";
	if (never_dict(v) || call_of(v, types, NELEM(types)) != NULL)
		return "an instance of a type that is no str";
	return NULL;
}

/*
 * 1 if @inst is numpy.random._pickle.__bit_generator_ctor(x) with x one of
 * numpy's bit generator names (numpy 1.24 writes the str) or classes
 * (numpy 2 writes the class): the object is then a BitGenerator, whose
 * __setstate__ takes numpy 2's (state, seed_sequence) tuple as data, so
 * the tuple is no slot state (numpy/random/bit_generator.pyx).  Only
 * these five classes: __bit_generator_ctor calls any class it is given.
 */
static int
is_bit_generator(const struct pval *inst)
{
	static const gpair ctor[] = {
		{ "numpy.random._pickle", "__bit_generator_ctor" },
	};
	static const gpair cls[] = {
		{ "numpy.random._mt19937", "MT19937" },
		{ "numpy.random._pcg64", "PCG64" },
		{ "numpy.random._pcg64", "PCG64DXSM" },
		{ "numpy.random._philox", "Philox" },
		{ "numpy.random._sfc64", "SFC64" },
	};
	const struct pval *args = call_of(inst, ctor, NELEM(ctor)), *a;

	if (args == NULL || args->v.nitems != 1)
		return 0;
	a = PV(args->v.items[0]);
	/* Why pair_in: the class is judged where it was resolved; what
	 * matters here is only which object the helper returns. */
	return a->v.kind == MG_PV_STR || pair_in(a, cls, NELEM(cls));
}

static int
op_build(struct ps *s)
{
	struct pval *state, *inst;

	if (need(s, 2) != 0)
		return ST_STOP;
	state = pop(s);
	inst = top(s);
	/* Why settle: state on an object, or BUILD on what a nested load
	 * returned, is not the shape nested_load accepts. */
	if (settle(s, state) != ST_OK ||
	    ((inst->flags & PF_NESTCALL) &&
	     settle(s, PV(inst->v.items[0])) != ST_OK)) {
		pv_unref(s, state);
		return ST_STOP;
	}
	if (inst->v.kind == MG_PV_GLOBAL || inst->v.kind == MG_PV_EXT) {
		pv_unref(s, state);
		/* Why: __setstate__/setattr on a class or module rewrites
		   code other objects will run. */
		return on_global(s, inst, "pickle.build.global",
		                 "BUILD sets state on");
	}
	/* Why before the kind test: a persistent-load result (torch's
	 * storages) takes setattr() from a slot state just as an instance
	 * does. */
	if (!is_bit_generator(inst) && check_build_state(s, state) != ST_OK) {
		pv_unref(s, state);
		return ST_STOP;
	}
	if (inst->v.kind != MG_PV_CALL) {
		pv_unref(s, state); /* builtins: no __setstate__ to run */
		return ST_OK;
	}
	if ((inst->flags & PF_BUILT) && s->hooks != NULL &&
	    s->hooks->on_build != NULL) {
		/* Why: the loader keeps every attribute an earlier BUILD set
		 * (pickle.py only adds to __dict__), but a hook sees only the
		 * latest state.  joblib reads numpy_array_alignment_bytes
		 * from the instance, so a second BUILD without it made the
		 * reader skip fewer bytes than joblib and resume inside a
		 * payload.  No pickler builds one object twice. */
		pv_unref(s, state);
		note(s, MG_VERDICT_DANGEROUS, "pickle.build.twice", NULL, s->op,
		     "BUILD applied twice to one object: the loader merges "
		     "both states, which the format reader cannot follow");
		return ST_STOP;
	}
	if (inst->v.state != NULL)
		pv_unref(s, PV(inst->v.state));
	inst->v.state = &state->v; /* the popped reference moves here */
	inst->flags |= PF_BUILT;
	if (s->hooks != NULL && s->hooks->on_build != NULL &&
	    PV(inst->v.items[0])->v.kind == MG_PV_GLOBAL)
		return build_hook(s, inst);
	return ST_OK;
}

/*
 * APPEND(S)/SETITEM(S)/ADDITEMS on a non-builtin target call its append,
 * extend, __setitem__ or add.  On a global (a module-level object or a
 * class) that mutates shared state, e.g. os.environ[...] = ...
 */
static int
check_mutate(struct ps *s, struct pval *target)
{
	if (target->v.kind != MG_PV_GLOBAL && target->v.kind != MG_PV_EXT)
		return ST_OK;
	return on_global(s, target, "pickle.mutate.global", "mutates");
}

/*
 * The target of APPEND/SETITEM(S)/APPENDS must lie above the enclosing
 * MARK: the C loader raises "unexpected MARK found", pickle.py an
 * IndexError.  Checked separately from plain underflow for the message.
 */
static int
below_mark(struct ps *s)
{
	return MALFORMED(s, "%s: its target lies below a MARK (the loader "
	                 "rejects it)", opname(s));
}

/* Move stack[@from..] into container @t (kept up to MG_KEEP) and pop. */
static int
add_items(struct ps *s, struct pval *t, size_t from)
{
	size_t i;
	int r;

	switch (t->v.kind) {
	case MG_PV_LIST: case MG_PV_SET: case MG_PV_FROZENSET:
		/* Why not pv_add: these keep no items (MG_KEEP_SEQ), so
		   adding is settling each item and marking the container
		   truncated; a call per item was a fifth of the time on
		   opcode-dense pickles. */
		if (s->nstack > from)
			t->flags |= PF_TRUNC;
		r = ST_OK;
		for (i = from; i < s->nstack; i++) {
			if (r == ST_OK && settle(s, s->stack[i]) != ST_OK)
				r = nomem(s);
			pv_unref(s, s->stack[i]);
		}
		s->nstack = from;
		return r;
	case MG_PV_DICT:
		for (i = from; i < s->nstack; i++)
			if (pv_add(s, t, s->stack[i]) != 0)
				return nomem(s);
		break;
	default:
		/* An instance's own method: the class was classified, but
		 * what it is handed is a use of a deferred global too. */
		for (i = from; i < s->nstack; i++)
			if (settle(s, s->stack[i]) != ST_OK)
				return ST_STOP;
		break;
	}
	drop_to(s, from);
	return ST_OK;
}

/* APPEND (@n = 1) and SETITEM (@n = 2): items on top, target below. */
static int
op_add_top(struct ps *s, size_t n)
{
	struct pval *t;
	size_t from;

	if (s->nstack < n + 1)
		return MALFORMED(s, "%s: stack underflow", opname(s));
	if (s->nstack - fence(s) < n + 1)
		return below_mark(s);
	from = s->nstack - n;
	t = s->stack[from - 1];
	if (check_mutate(s, t) != 0)
		return ST_STOP;
	return add_items(s, t, from);
}

/* APPENDS, SETITEMS, ADDITEMS: MARK items..., target below the MARK. */
static int
op_add_marked(struct ps *s, int pairs)
{
	size_t mark;
	struct pval *t;

	if (pop_mark(s, &mark) != 0)
		return ST_STOP;
	if (mark == 0)
		return MALFORMED(s, "%s: stack underflow", opname(s));
	if (mark - 1 < fence(s))
		return below_mark(s);
	if (pairs && (s->nstack - mark) % 2 != 0)
		return MALFORMED(s, "%s: odd number of items", opname(s));
	t = s->stack[mark - 1];
	if (check_mutate(s, t) != 0)
		return ST_STOP;
	return add_items(s, t, mark);
}

/* ---- memo ------------------------------------------------------------- */

/* Make memo[@idx] addressable, and every slot below it initialised (the
   caller fills @idx itself when it is s->memo_init or above).  Why the
   watermark: the loader's memo is dense (MEMOIZE appends), and zeroing
   each doubling ahead of use would touch memory no entry needs. */
static int
memo_slot(struct ps *s, uint64_t idx)
{
	struct ment *n;
	size_t cap;

	if (idx >= s->max_memo)
		return FAIL(s, "pickle.limit", "%s: memo index %llu beyond the "
		            "limit of %zu", opname(s), (unsigned long long)idx,
		            s->max_memo);
	if (idx >= s->capmemo) {
		cap = s->capmemo ? s->capmemo : 64;
		while (cap <= idx)
			cap *= 2;
		if (cap > s->max_memo)
			cap = s->max_memo;
		if ((n = realloc(s->memo, cap * sizeof(*n))) == NULL)
			return nomem(s);
		s->memo = n;
		s->capmemo = cap;
	}
	if (idx > s->memo_init)
		memset(s->memo + s->memo_init, 0,
		       (idx - s->memo_init) * sizeof(*s->memo));
	return ST_OK;
}

/* Store @v in @e: by contents when nothing can tell a copy from it. */
static void
ment_set(struct ment *e, struct pval *v)
{
	uint64_t tag = (uint64_t)v->v.kind + 1;

	switch (v->v.kind) {
	case MG_PV_NONE: case MG_PV_BOOL: case MG_PV_INT:
		e->u.i = v->v.i;
		break;
	case MG_PV_FLOAT:
		e->u.f = v->v.f;
		break;
	case MG_PV_STR: case MG_PV_BYTES:
		if (v->v.len > ME_LEN_MAX)
			goto ref;
		e->u.data = v->v.data;
		tag |= (uint64_t)v->v.len << 21;
		break;
	case MG_PV_LIST: case MG_PV_SET:
		if (v->v.nitems != 0)
			goto ref;
		e->u.i = 0;
		break;
	default:
		goto ref;
	}
	e->meta = tag | (uint64_t)v->flags << 5;
	return;
ref:
	e->u.ref = v;
	e->meta = ME_REF;
	v->refs++;
}

/* The value memo slot @e stands for, with no reference taken yet. */
static struct pval *
ment_get(struct ps *s, const struct ment *e)
{
	unsigned tag = (unsigned)(e->meta & 31);
	struct pval *v;

	if (tag == ME_REF)
		return e->u.ref;
	if ((v = pv_new(s, (enum mg_pkind)(tag - 1))) == NULL)
		return NULL;
	v->flags = (uint16_t)(e->meta >> 5);
	switch (v->v.kind) {
	case MG_PV_FLOAT:
		v->v.f = e->u.f;
		break;
	case MG_PV_STR: case MG_PV_BYTES:
		v->v.data = e->u.data;
		v->v.len = (size_t)(e->meta >> 21);
		break;
	default:
		v->v.i = e->u.i;
		break;
	}
	return v;
}

static int
memo_put(struct ps *s, uint64_t idx)
{
	struct ment *e;

	if (need(s, 1) != 0)
		return ST_STOP; /* Why: the loader memoizes stack[-1] only */
	if (memo_slot(s, idx) != ST_OK)
		return ST_STOP;
	/* Why replace: the loader overwrites an existing memo entry, and a
	   later GET must see the new value, not the first. */
	e = &s->memo[idx];
	if (idx >= s->memo_init) {
		/* Why not read it first: a fresh slot is new memory, and a
		   load of it is a cache miss that a store does not wait on. */
		s->memo_init = idx + 1;
		s->nmemo++;
	} else if (e->meta == ME_REF) {
		pv_unref(s, e->u.ref);
	} else if (e->meta == 0) {
		s->nmemo++;
	}
	ment_set(e, top(s));
	return ST_OK;
}

/* Why a slot becomes a reference on its first GET: a value read back is
   usually read back again (torch.save's 'storage' and 'cpu' once per
   tensor), and one shared value costs less than a copy per GET. */
static int
memo_get(struct ps *s, uint64_t idx)
{
	struct ment *e;
	struct pval *v;

	if (idx >= s->memo_init || s->memo[idx].meta == 0)
		return MALFORMED(s, "%s: memo has no entry %llu", opname(s),
		                 (unsigned long long)idx);
	e = &s->memo[idx];
	if (e->meta != ME_REF) {
		if ((v = ment_get(s, e)) == NULL)
			return nomem(s);
		e->u.ref = v;
		e->meta = ME_REF;
		v->refs++;
	}
	return push(s, e->u.ref);
}

static int
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Protocol-0 PUT/GET ids, parsed as the loaders parse them (int() and
 * PyLong_FromString base 10): surrounding whitespace (so CRLF files
 * work), an optional sign, digits with single underscores between them.
 * Negative ids are refused, as PUT refuses them and GET never finds them.
 */
static int
rd_decimal(struct ps *s, uint64_t *x)
{
	const uint8_t *l;
	size_t n, i = 0, nd = 0;
	int neg = 0;

	if (rd_line(s, &l, &n) != 0)
		return ST_STOP;
	while (n > 0 && is_space(l[n - 1]))
		n--;
	while (i < n && is_space(l[i]))
		i++;
	if (i < n && (l[i] == '+' || l[i] == '-'))
		neg = l[i++] == '-';
	*x = 0;
	for (; i < n; i++) {
		if (l[i] == '_' && nd > 0 && i + 1 < n && l[i + 1] != '_')
			continue;
		/* Why 18 digits: a bigger id is past any memo cap anyway, and
		   this keeps the arithmetic exact. */
		if (l[i] < '0' || l[i] > '9' || nd == 18)
			return MALFORMED(s, "%s: memo id is not a decimal "
			                 "integer", opname(s));
		*x = *x * 10 + (uint64_t)(l[i] - '0');
		nd++;
	}
	if (nd == 0)
		return MALFORMED(s, "%s: memo id is not a decimal integer",
		                 opname(s));
	if (neg && *x != 0)
		return MALFORMED(s, "%s: negative memo id", opname(s));
	return ST_OK;
}

/* ---- persistent ids, extensions, frames ------------------------------- */

/* Wrap @pid (reference taken over) as a PERSID value and tell the hook. */
static int
push_persid(struct ps *s, struct pval *pid)
{
	struct pval *v = pv_new(s, MG_PV_PERSID);

	if (v == NULL || pv_add(s, v, pid) != 0)
		return nomem(s);
	pv_unref(s, pid);
	if (s->hooks != NULL && s->hooks->on_persid != NULL)
		s->hooks->on_persid(s->hooks->ctx, &pid->v);
	return push(s, v);
}

static int
op_persid(struct ps *s)
{
	const uint8_t *l;
	size_t n, i;
	struct pval *pid;

	if (rd_line(s, &l, &n) != 0)
		return ST_STOP;
	for (i = 0; i < n; i++)
		if (l[i] & 0x80)
			return MALFORMED(s, "PERSID: non-ASCII id");
	if ((pid = mk_span(s, MG_PV_STR, l, n)) == NULL)
		return nomem(s);
	pid->refs++;
	return push_persid(s, pid);
}

static int
op_ext(struct ps *s, unsigned nbytes)
{
	uint64_t code;

	if (rd_uint(s, nbytes, &code) != 0)
		return ST_STOP;
	if (nbytes == 4 && (code & 0x80000000u))
		return MALFORMED(s, "EXT4: code <= 0");
	if (code == 0)
		return MALFORMED(s, "%s: code <= 0", opname(s));
	/* Why dangerous: the copyreg registry maps the code to whatever
	   global the loading process registered; we cannot see which. */
	if (note(s, MG_VERDICT_DANGEROUS, "pickle.ext", NULL, s->op,
	         "%s loads extension code %llu from the copyreg registry",
	         opname(s), (unsigned long long)code) != 0)
		return ST_STOP;
	return push(s, pv_new(s, MG_PV_EXT));
}

static int
op_frame(struct ps *s)
{
	uint64_t n;

	if (rd_uint(s, 8, &n) != 0)
		return ST_STOP;
	if (s->in_frame && s->p < s->frame_end) {
		/* Why: pickle.py refuses a FRAME while bytes of the current
		   one are unread; the C loader does not.  Only a crafted
		   stream does this. */
		if (note(s, MG_VERDICT_DANGEROUS, "pickle.frame", NULL, s->op,
		         "FRAME opened inside the previous frame (which ends "
		         "at %llu)",
		         (unsigned long long)(s->base + s->frame_end)) != 0 ||
		    s->frame_filepos != s->frame_end)
			return ST_STOP;
	}
	if (n > s->len - s->p) {
		note(s, MG_VERDICT_DANGEROUS, "pickle.frame", NULL, s->op,
		     "FRAME of %llu bytes runs past the end (%zu left)",
		     (unsigned long long)n, s->len - s->p);
		return ST_STOP;
	}
	s->in_frame = 1;
	s->frame_end = s->p + n;
	s->frame_filepos = s->frame_end;
	return ST_OK;
}

/* ---- the opcode loop -------------------------------------------------- */

/* Containers built from the innermost MARK: TUPLE, LIST, DICT, FROZENSET. */
static int
op_from_mark(struct ps *s, enum mg_pkind k)
{
	size_t mark;

	if (pop_mark(s, &mark) != 0)
		return ST_STOP;
	if (k == MG_PV_DICT && (s->nstack - mark) % 2 != 0)
		return MALFORMED(s, "DICT: odd number of items");
	return push(s, collect(s, k, mark));
}

static int
op_tuple_n(struct ps *s, size_t n)
{
	if (need(s, n) != 0)
		return ST_STOP;
	return push(s, collect(s, MG_PV_TUPLE, s->nstack - n));
}

static int
op_pop(struct ps *s)
{
	/* The loader pops a MARK when it is on top, else a value. */
	if (s->nmarks > 0 && s->marks[s->nmarks - 1] == s->nstack) {
		s->nmarks--;
		return ST_OK;
	}
	if (need(s, 1) != 0)
		return ST_STOP;
	pv_unref(s, pop(s));
	return ST_OK;
}

static int
op_proto(struct ps *s)
{
	const uint8_t *b;

	if (rd(s, 1, &b) != 0)
		return ST_STOP;
	if (b[0] > 5)
		return MALFORMED(s, "PROTO %u: unsupported protocol (the "
		                 "loader rejects it)", b[0]);
	s->proto = b[0]; /* Why mid-stream too: the loader does the same */
	return ST_OK;
}

static int
op_binfloat(struct ps *s)
{
	const uint8_t *b;
	uint64_t x = 0;
	struct pval *v;
	int i;

	if (rd(s, 8, &b) != 0)
		return ST_STOP;
	for (i = 0; i < 8; i++)
		x = (x << 8) | b[i]; /* big-endian */
	if ((v = pv_new(s, MG_PV_FLOAT)) == NULL)
		return nomem(s);
	memcpy(&v->v.f, &x, sizeof(x));
	return push(s, v);
}

/* BININT* whose argument is cut short by the buffer or its frame. */
static int
op_binint_slow(struct ps *s, unsigned n)
{
	uint64_t x;

	if (rd_uint(s, n, &x) != 0)
		return ST_STOP;
	return push(s, mk_int(s, n == 4 ? (int64_t)(int32_t)(uint32_t)x
	                                : (int64_t)x));
}

static int
op_binint(struct ps *s, unsigned n)
{
	size_t lim = s->in_frame ? s->frame_end : s->len;
	const uint8_t *b = s->buf + s->p;
	uint64_t x;

	/* Why two paths: BININT* are most of an opcode-dense pickle; the
	   common case reads in place, rd_uint reports the rest. */
	if (n > lim - s->p)
		return op_binint_slow(s, n);
	x = b[0];
	if (n >= 2)
		x |= (uint64_t)b[1] << 8;
	if (n == 4)
		x |= (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24;
	s->p += n;
	return push(s, mk_int(s, n == 4 ? (int64_t)(int32_t)(uint32_t)x
	                                : (int64_t)x));
}

static int
op_simple(struct ps *s, enum mg_pkind k, int64_t i)
{
	return push(s, mk_small(s, k, i));
}

static int
op_next_buffer(struct ps *s)
{
	/* Why an error: torch.load, np.load and joblib pass no buffers=, so
	   the loader stops here.  We keep walking to report what follows. */
	if (note(s, MG_VERDICT_ERROR, "pickle.buffer", NULL, s->op,
	         "NEXT_BUFFER needs out-of-band buffers the loader does not "
	         "have") != 0)
		return ST_STOP;
	return push(s, pv_new(s, MG_PV_BUFFER));
}

static int
op_memo(struct ps *s, int c)
{
	uint64_t idx;

	switch (c) {
	case 'p': case 'g':
		if (rd_decimal(s, &idx) != 0)
			return ST_STOP;
		break;
	case 'q': case 'h':
		if (rd_uint(s, 1, &idx) != 0)
			return ST_STOP;
		break;
	case 'r': case 'j':
		if (rd_uint(s, 4, &idx) != 0)
			return ST_STOP;
		break;
	default: /* MEMOIZE: the next index is the number of entries */
		idx = s->nmemo;
		break;
	}
	return c == 'g' || c == 'h' || c == 'j' ? memo_get(s, idx)
	                                        : memo_put(s, idx);
}

/*
 * One opcode.  The flat switch mirrors the loader's dispatch table; each
 * case either does the stack work inline (when it is one line) or calls
 * the op_* function that does.  Returns ST_OK, ST_STOP, or 1 after STOP.
 */
static int
step(struct ps *s)
{
	size_t mark;
	int c;

	c = s->buf[s->p++];
	switch (c) {
	case '(': return push_mark(s);
	case '.':
		if (need(s, 1) != 0 || settle(s, top(s)) != ST_OK)
			return ST_STOP;
		s->stop_not_dict = never_dict(top(s));
		pv_unref(s, pop(s));
		return 1;
	case '0': return op_pop(s);
	case '1':
		if (pop_mark(s, &mark) != 0)
			return ST_STOP;
		drop_to(s, mark);
		return ST_OK;
	case '2':
		if (need(s, 1) != 0)
			return ST_STOP;
		return push(s, top(s));
	case 'F': return op_float_line(s);
	case 'I': return op_int_line(s, 1);
	case 'L': return op_int_line(s, 0);
	case 'J': return op_binint(s, 4);
	case 'K': return op_binint(s, 1);
	case 'M': return op_binint(s, 2);
	case 0x8a: return op_long_bin(s, 1);
	case 0x8b: return op_long_bin(s, 4);
	case 'G': return op_binfloat(s);
	case 'N': return op_simple(s, MG_PV_NONE, 0);
	case 0x88: return op_simple(s, MG_PV_BOOL, 1);
	case 0x89: return op_simple(s, MG_PV_BOOL, 0);
	case 'S': return op_text_line(s, 0);
	case 'V': return op_text_line(s, 1);
	case 'T': return op_counted(s, 4, MG_PV_BYTES, 1, PF_PY2STR);
	case 'U': return op_counted(s, 1, MG_PV_BYTES, 0, PF_PY2STR);
	case 'X': return op_counted(s, 4, MG_PV_STR, 0, 0);
	case 0x8c: return op_counted(s, 1, MG_PV_STR, 0, 0);
	case 0x8d: return op_counted(s, 8, MG_PV_STR, 0, 0);
	case 'B': return op_counted(s, 4, MG_PV_BYTES, 0, PF_BINBYTES);
	case 'C': return op_counted(s, 1, MG_PV_BYTES, 0, PF_BINBYTES);
	case 0x8e: return op_counted(s, 8, MG_PV_BYTES, 0, PF_BINBYTES);
	case 0x96: return op_counted(s, 8, MG_PV_BYTES, 0, 0);
	case 0x97: return op_next_buffer(s);
	case 0x98: return need(s, 1); /* a view of the top value, in place */
	case ')': return push(s, pv_new(s, MG_PV_TUPLE));
	case 't': return op_from_mark(s, MG_PV_TUPLE);
	case 0x85: return op_tuple_n(s, 1);
	case 0x86: return op_tuple_n(s, 2);
	case 0x87: return op_tuple_n(s, 3);
	case ']': return push(s, pv_new(s, MG_PV_LIST));
	case 'l': return op_from_mark(s, MG_PV_LIST);
	case 'a': return op_add_top(s, 1);
	case 'e': return op_add_marked(s, 0);
	case '}': return push(s, pv_new(s, MG_PV_DICT));
	case 'd': return op_from_mark(s, MG_PV_DICT);
	case 's': return op_add_top(s, 2);
	case 'u': return op_add_marked(s, 1);
	case 0x8f: return push(s, pv_new(s, MG_PV_SET));
	case 0x90: return op_add_marked(s, 0);
	case 0x91: return op_from_mark(s, MG_PV_FROZENSET);
	case 'c': return op_global(s);
	case 0x93: return op_stack_global(s);
	case 'i': return op_inst(s);
	case 'o': return op_obj(s);
	case 'R': return op_reduce(s);
	case 0x81: return op_newobj(s, 0);
	case 0x92: return op_newobj(s, 1);
	case 'b': return op_build(s);
	case 0x82: return op_ext(s, 1);
	case 0x83: return op_ext(s, 2);
	case 0x84: return op_ext(s, 4);
	case 'P': return op_persid(s);
	case 'Q':
		if (need(s, 1) != 0)
			return ST_STOP;
		return push_persid(s, pop(s));
	case 'p': case 'q': case 'r': case 0x94:
	case 'g': case 'h': case 'j':
		return op_memo(s, c);
	case 0x80: return op_proto(s);
	case 0x95: return op_frame(s);
	default:
		return MALFORMED(s, "unknown opcode 0x%02x (the loader rejects "
		                 "it)", c);
	}
}

/* Where the loader's file stands after STOP; flag a STOP inside a frame. */
static int
finish_stream(struct ps *s, size_t *end)
{
	*end = s->p;
	if (!s->in_frame)
		return ST_OK;
	if (s->p != s->frame_end) {
		/* Why: pickle.py drops the rest of the frame, the C loader
		   stops right after STOP; the next stacked pickle differs. */
		note(s, MG_VERDICT_DANGEROUS, "pickle.frame", NULL, s->op,
		     "STOP with %zu bytes of its FRAME unread",
		     s->frame_end - s->p);
		return ST_STOP;
	}
	*end = s->frame_filepos;
	return ST_OK;
}

static void
ps_free(struct ps *s)
{
	struct chunk *c, *n;

	for (c = s->chunks; c != NULL; c = n) {
		n = c->next;
		free(c);
	}
	free(s->stack);
	free(s->marks);
	free(s->memo);
	free(s->gtab);
}

/*
 * Give the pages of the file mapping already read back to the kernel
 * (mg_scan_drop), all but the last MG_DROP_KEEP bytes, and come back
 * MG_DROP_STEP bytes later.  Why: the loader reads a pickle once, front to
 * back, and so does the walk; without this an opcode-dense pickle's every
 * page stays in this process until the end, on top of the memo (its peak
 * RSS was 1.6x the file).  Why keep some: a frame, a BUILD hook, a memo
 * string may look back a little; further back still reads right, at the
 * cost of a minor fault from the page cache.
 */
static void
drop(struct ps *s)
{
	size_t to = s->p - MG_DROP_KEEP;

	if (to > s->dropped) {
		mg_scan_drop(s->o, s->buf + s->dropped, to - s->dropped);
		s->dropped = to;
	}
	s->drop_at = s->p + MG_DROP_STEP;
}


/*
 * Bytes after a STOP are what a second load() of the same file reads.
 * When it must fail before it resolves a global or calls anything (the
 * memo of the first load still there: mg_pickle_inert_next), they are
 * inert: a finding says so and the scan ends.  Why not an error: the
 * loader returns the first pickle and never runs the rest, and a text
 * line reads as a tiny pickle ("Git v2.31.7 Release": BINFLOAT, STOP).
 * 1 when inert (*@rc: 0, or -1 when the finding could not be added).
 */
static int
trailing_inert(const uint8_t *buf, size_t len, size_t off, unsigned n,
               const char *member, uint64_t base, struct mg_report *rep,
               int *rc)
{
	const char *why = NULL;
	size_t at = 0;

	if (!mg_pickle_inert_next(buf + off, len - off, &at, &why))
		return 0;
	*rc = mg_report_add(rep, MG_VERDICT_CLEAN, "format.inert", NULL,
	                    member, base + off + at, "inert: the %zu bytes "
	                    "after pickle #%u (from offset %llu): a further "
	                    "load fails at offset %llu (%s) before it resolves "
	                    "a global or calls anything", len - off, n,
	                    (unsigned long long)(base + off),
	                    (unsigned long long)(base + off + at), why) ==
	      MG_OK ? 0 : -1;
	return 1;
}

/*
 * Walk one pickle from @start.  0 after a clean STOP (*@end just past it,
 * or where the loader's file position is), -1 after an error finding
 * (*@end where it happened), -2 when out of memory.
 */
static int
scan_stream(const struct mg_scan_opts *o, const struct mg_pickle_hooks *hooks,
            const uint8_t *buf, size_t len, size_t start, const char *member,
            uint64_t base, unsigned depth, struct mg_report *rep, size_t *end,
            int *not_dict)
{
	struct ps s;
	size_t lim;
	int r = ST_OK;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.hooks = hooks;
	s.rep = rep;
	s.buf = buf;
	s.len = len;
	s.member = member;
	s.base = base;
	s.depth = depth;
	s.p = s.op = start;
	/* Why defaults for 0: an unset cap must not mean "no cap". */
	s.max_stack = o->max_stack ? o->max_stack : (size_t)1 << 20;
	s.max_memo = o->max_memo ? o->max_memo : (size_t)1 << 22;
	s.num = ++rep->npickles;
	s.dropped = start;
	s.drop_at = o->map != NULL && buf >= o->map &&
	            buf < o->map + o->map_len && len - start > MG_DROP_STEP ?
	            start + MG_DROP_KEEP + MG_DROP_STEP : SIZE_MAX;
	/* Why one bound for both: a second compare per opcode cost 3% */
	lim = s.drop_at < len ? s.drop_at : len;
	for (;;) {
		if (s.in_frame && s.p == s.frame_end) {
			s.in_frame = 0;
			s.p = s.frame_filepos;
		}
		s.op = s.p;
		if (s.p >= lim && s.p >= len) {
			r = MALFORMED(&s, "pickle ends without STOP");
			break;
		}
		if (s.p >= lim) {
			drop(&s);
			lim = s.drop_at < len ? s.drop_at : len;
		}
		if ((r = step(&s)) != ST_OK)
			break;
	}
	if (r == 1)
		r = finish_stream(&s, end);
	else
		*end = s.op;
	if (not_dict != NULL)
		*not_dict = r == 0 && s.stop_not_dict;
	if (!s.nomem && settle_unused(&s) != ST_OK)
		s.nomem = 1;
	ps_free(&s);
	return s.nomem ? -2 : r;
}

enum mg_err
mg_pickle_scan_one(const struct mg_scan_opts *o,
                   const struct mg_pickle_hooks *hooks, const uint8_t *buf,
                   size_t len, const char *member, uint64_t base,
                   struct mg_report *rep, size_t *end)
{
	size_t e = 0;
	int r;

	if (o == NULL || rep == NULL || (buf == NULL && len > 0)) {
		if (end != NULL)
			*end = 0;
		return MG_ERR_INVAL;
	}
	r = scan_stream(o, hooks, buf, len, 0, member, base, 0, rep, &e, NULL);
	if (end != NULL)
		*end = e;
	return r == -2 ? MG_ERR_NOMEM : MG_OK;
}

enum mg_err
mg_pickle_scan_all(const struct mg_scan_opts *o,
                   const struct mg_pickle_hooks *hooks, const uint8_t *buf,
                   size_t len, const char *member, uint64_t base,
                   struct mg_report *rep)
{
	unsigned n = 0, max;
	size_t off = 0, e;
	int r;

	if (o == NULL || rep == NULL || (buf == NULL && len > 0))
		return MG_ERR_INVAL;
	max = o->max_pickles ? o->max_pickles : 4096;
	if (len == 0)
		return mg_report_add(rep, MG_VERDICT_ERROR, "pickle.malformed",
		                     NULL, member, base, "empty pickle stream "
		                     "(the loader raises EOFError)");
	while (off < len) {
		if (n > 0 && trailing_inert(buf, len, off, n, member, base, rep,
		                            &r))
			return r == 0 ? MG_OK : MG_ERR_NOMEM;
		if (n++ == max)
			return mg_report_add(rep, MG_VERDICT_ERROR,
			                     "pickle.limit", NULL, member,
			                     base + off, "more than %u stacked "
			                     "pickles; offset %llu not scanned",
			                     max, (unsigned long long)(base + off));
		r = scan_stream(o, hooks, buf, len, off, member, base, 0, rep,
		                &e, NULL);
		if (r == -2)
			return MG_ERR_NOMEM;
		if (r != 0)
			break;
		off = e;
	}
	return MG_OK;
}
