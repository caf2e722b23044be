/*
 * inert.c - bytes the pickle loader must reject before anything runs.
 *
 * A file whose content is no format modelgate reads (a sentencepiece
 * protobuf, a raw float dump, a PNG, a git ref) reaches only one executing
 * loader: pickle.load, which torch.load and np.load(allow_pickle=True)
 * fall back to.  Such a file is inert when that loader must fail before it
 * resolves a global, calls anything, or reaches extension code.
 *
 * Approach: walk the opcodes the way CPython's Modules/_pickle.c load()
 * does, with an exact object stack length, mark stack and memo key set.
 * Every opcode either fails for certain (an invalid load key, an argument
 * cut by the end of the file, a stack underflow, an empty MARK stack, a
 * memo key never stored, a protocol above 5) or is
 * followed along the path on which it succeeds.  Why that is fail-closed:
 * the success path is the loader's own whenever the loader got that far,
 * and if the loader failed earlier than we say, it still ran nothing.
 *
 * Stops that are never inert (return 0): STOP (the loader succeeded: the
 * normal analyser decides), every opcode that resolves a global or calls
 * (GLOBAL, INST, STACK_GLOBAL, REDUCE, BUILD, OBJ, NEWOBJ, NEWOBJ_EX,
 * EXT1/2/4), out-of-band buffers, and anything this walk cannot track
 * exactly (more marks or memo keys than it keeps).
 *
 * GLOBAL and INST with a name line cut by the end of the file fail in
 * _pickle.c before find_class, but Python's own pickle._Unpickler (which
 * joblib.load and pandas use) takes readline()[:-1] of the unterminated
 * line and calls find_class anyway -- "cos\nsystemX" resolves os.system
 * there.  So such a line is inert only when both unpicklers fail before
 * importing: _pickle.c fails and the module pickle.py would import is the
 * empty name (__import__('') raises before any finder runs).
 */
#include <string.h>

#include "pickle.h"
#include "pickle_text.h"

#define INERT_MARKS 64   /* why: real streams nest a few deep */
#define INERT_MEMO 256   /* memo keys tracked before giving up */

struct walk {
	const uint8_t *b;
	size_t len, pos;
	size_t depth;                 /* object stack length */
	size_t marks[INERT_MARKS];
	size_t nmarks;
	uint32_t memo[INERT_MEMO];
	size_t nmemo;
	int memo_vague;               /* a PUT whose key we did not parse */
	const char *why;              /* how the loader fails */
};

static size_t
fence(const struct walk *w)
{
	return w->nmarks ? w->marks[w->nmarks - 1] : 0;
}

/* -1: the loader fails here (w->why set); 0: fine. */
static int
fail(struct walk *w, const char *why)
{
	w->why = why;
	return -1;
}

/* Take @n argument bytes; -1 when the file ends first. */
static int
take(struct walk *w, size_t n, const uint8_t **p)
{
	if (n > w->len - w->pos)
		return fail(w, "an opcode's argument runs past the end of "
		            "the file");
	*p = w->b + w->pos;
	w->pos += n;
	return 0;
}

/* A line up to '\n'; its length with the newline in *n. */
static int
line(struct walk *w, const uint8_t **p, size_t *n)
{
	const uint8_t *nl = memchr(w->b + w->pos, '\n', w->len - w->pos);

	if (nl == NULL)
		return fail(w, "a text argument is not terminated by a "
		            "newline before the end of the file");
	*p = w->b + w->pos;
	*n = (size_t)(nl - *p) + 1;
	w->pos += *n;
	return 0;
}

static uint64_t
le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

/* Pop @n objects above the fence (underflow fails), push @push. */
static int
stack(struct walk *w, size_t n, size_t push)
{
	if (w->depth - fence(w) < n)
		return fail(w, "the opcode pops more than the stack holds");
	w->depth = w->depth - n + push;
	return 0;
}

/* marker(): pop the top MARK, its position in *at. */
static int
marker(struct walk *w, size_t *at)
{
	if (w->nmarks == 0)
		return fail(w, "the opcode needs a MARK and there is none");
	*at = w->marks[--w->nmarks];
	return 0;
}

static int
memo_has(const struct walk *w, uint32_t k)
{
	size_t i;

	for (i = 0; i < w->nmemo; i++)
		if (w->memo[i] == k)
			return 1;
	return 0;
}

/* 0 stored, 1 cannot track (stop, not inert). */
static int
memo_put(struct walk *w, uint32_t k)
{
	if (memo_has(w, k))
		return 0;
	if (w->nmemo == INERT_MEMO)
		return 1;
	w->memo[w->nmemo++] = k;
	return 0;
}

/*
 * GLOBAL/INST: inert only when _pickle.c fails reading a name line and
 * the module pickle.py would import is empty (see the top of the file).
 */
static int
global_lines(struct walk *w)
{
	const uint8_t *rest = w->b + w->pos, *p;
	size_t left = w->len - w->pos, n;
	const uint8_t *nl = memchr(rest, '\n', left);
	int empty_module = nl != NULL ? nl == rest : left <= 1;

	if (line(w, &p, &n) == 0 && n >= 2 && line(w, &p, &n) == 0 && n >= 2)
		return 1;       /* find_class is called */
	if (!empty_module)
		return 1;       /* pickle.py imports the module anyway */
	return fail(w, "a GLOBAL or INST name line is empty or cut by the "
	            "end of the file");
}

/* Counted bytes after an @n-byte little-endian length. */
static int
counted(struct walk *w, size_t n, int sign, size_t push)
{
	const uint8_t *p;
	uint64_t k;

	if (take(w, n, &p) != 0)
		return -1;
	k = le(p, n);
	if (sign && n == 4 && (k & 0x80000000u))
		return fail(w, "a byte count is negative");
	if (k > w->len - w->pos)
		return fail(w, "a string or bytes argument runs past the end "
		            "of the file");
	w->pos += (size_t)k;
	return stack(w, 0, push);
}

static int
get(struct walk *w, size_t n)
{
	const uint8_t *p;

	if (take(w, n, &p) != 0)
		return -1;
	if (!w->memo_vague && !memo_has(w, (uint32_t)le(p, n)))
		return fail(w, "a memo GET names a key never stored");
	return stack(w, 0, 1);
}

static int
put(struct walk *w, size_t n)
{
	const uint8_t *p;

	if (take(w, n, &p) != 0)
		return -1;
	if (w->depth <= fence(w))
		return fail(w, "a memo PUT with nothing on the stack");
	return memo_put(w, (uint32_t)le(p, n));
}

/* Text opcodes: a line, then push one value (the success path). */
static int
text(struct walk *w, uint8_t op)
{
	const uint8_t *p;
	size_t n;

	if (line(w, &p, &n) != 0)
		return -1;
	if (op == 'p') {
		if (w->depth <= fence(w))
			return fail(w, "a memo PUT with nothing on the stack");
		w->memo_vague = 1;
		return 0;
	}
	if (op == 'g' && !w->memo_vague && w->nmemo == 0)
		return fail(w, "a memo GET before anything was stored");
	return stack(w, 0, 1);
}

/* APPENDS, SETITEMS, ADDITEMS: pop to the MARK, keep what is below. */
static int
to_mark(struct walk *w, int pairs)
{
	size_t at;

	if (marker(w, &at) != 0)
		return -1;
	if (at > w->depth || at <= fence(w))
		return fail(w, "the opcode has no object below its MARK");
	if (pairs && (w->depth - at) % 2 != 0)
		return fail(w, "an odd number of items for SETITEMS");
	w->depth = at;
	return 0;
}

/* LIST, TUPLE, DICT, FROZENSET, POP_MARK: items since MARK into one. */
static int
collect(struct walk *w, uint8_t op)
{
	size_t at;

	if (marker(w, &at) != 0)
		return -1;
	if (op == 'd' && (w->depth - at) % 2 != 0)
		return fail(w, "an odd number of items for DICT");
	w->depth = at + (op != '1');
	return 0;
}

static int
pop(struct walk *w)
{
	if (w->nmarks > 0 && w->marks[w->nmarks - 1] == w->depth) {
		w->nmarks--;
		return 0;
	}
	return stack(w, 1, 0);
}

/*
 * One opcode: -1 the loader fails here, 0 go on, 1 stop (not inert).
 * Opcodes that cannot run code and whose failure we do not model take the
 * success path (see the top of the file).
 */
static int
step(struct walk *w)
{
	const uint8_t *p;
	uint8_t op;

	if (w->pos == w->len)
		return fail(w, "the file ends before a STOP opcode");
	op = w->b[w->pos++];
	if (!mg_pickle_is_opcode(op))
		return fail(w, "a byte is not a pickle opcode (invalid load "
		            "key)");
	switch (op) {
	case '(':
		if (w->nmarks == INERT_MARKS)
			return 1;
		w->marks[w->nmarks++] = w->depth;
		return 0;
	case '0': return pop(w);
	case '1': case 'l': case 't': case 'd': case 0x91:
		return collect(w, op);
	case '2': return stack(w, 1, 2);
	case 'F': case 'I': case 'L': case 'S': case 'V': case 'p': case 'g':
		return text(w, op);
	case 'N': case ')': case ']': case '}': case 0x8f: case 0x88:
	case 0x89:
		return stack(w, 0, 1);
	case 'K': return take(w, 1, &p) != 0 ? -1 : stack(w, 0, 1);
	case 'M': return take(w, 2, &p) != 0 ? -1 : stack(w, 0, 1);
	case 'J': return take(w, 4, &p) != 0 ? -1 : stack(w, 0, 1);
	case 'G': return take(w, 8, &p) != 0 ? -1 : stack(w, 0, 1);
	case 0x8a: case 'U': case 'C': case 0x8c: return counted(w, 1, 0, 1);
	case 0x8b: case 'T': return counted(w, 4, 1, 1);
	case 'B': case 'X': return counted(w, 4, 0, 1);
	case 0x8d: case 0x8e: case 0x96: return counted(w, 8, 0, 1);
	case 0x85: return stack(w, 1, 1);
	case 0x86: return stack(w, 2, 1);
	case 0x87: return stack(w, 3, 1);
	case 'a':
		if (w->depth - fence(w) < 2)
			return fail(w, "APPEND with no list below its item");
		return stack(w, 1, 0);
	case 's':
		if (w->depth - fence(w) < 3)
			return fail(w, "SETITEM with no dict below its pair");
		return stack(w, 2, 0);
	case 'e': case 0x90: return to_mark(w, 0);
	case 'u': return to_mark(w, 1);
	case 'h': return get(w, 1);
	case 'j': return get(w, 4);
	case 'q': return put(w, 1);
	case 'r': return put(w, 4);
	case 0x94:
		if (w->depth <= fence(w))
			return fail(w, "MEMOIZE with nothing on the stack");
		return memo_put(w, (uint32_t)w->nmemo);
	case 0x80:
		if (take(w, 1, &p) != 0)
			return -1;
		return *p > 5 ? fail(w, "an unsupported pickle protocol") : 0;
	case 0x95:
		/* Why no length check: pickle.py's _Unframer reads a short
		 * frame and goes on parsing it; the bytes are the same. */
		return take(w, 8, &p) != 0 ? -1 : 0;
	/* Why a persistent id is followed, not a failure: which loader reads
	 * the file is not known, and one with a persistent_load (torch's, a
	 * program's own Unpickler) gets an object back and goes on.  Its
	 * own code, not the file's; what follows is walked as usual. */
	case 'P': return text(w, op);
	case 'Q': return stack(w, 1, 1);
	case 'c': case 'i':
		return global_lines(w);
	}
	return 1; /* STOP, a global, a call, extension codes, buffers */
}

int
mg_pickle_inert(const uint8_t *buf, size_t len,
                size_t *at, const char **why)
{
	struct walk w;
	int r;

	memset(&w, 0, sizeof(w));
	w.b = buf;
	w.len = len;
	do {
		*at = w.pos;
		r = step(&w);
	} while (r == 0);
	*why = w.why;
	return r < 0;
}
