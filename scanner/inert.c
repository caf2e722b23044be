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
 * (GLOBAL, INST, STACK_GLOBAL, REDUCE, BUILD, OBJ, NEWOBJ, NEWOBJ_EX),
 * and anything this walk cannot track exactly (more marks or memo keys
 * than it keeps) -- except where both loaders fail first: STOP and the
 * calls on a stack holding fewer objects than they pop, an EXT code that
 * is not positive, a GLOBAL or INST name that does not decode or whose
 * module no import can find (mg_pickle_unimportable: "omment_char %"),
 * and a FLOAT, INT, LONG, PUT, GET or STRING line that no number (or quoted
 * string) parser accepts.  Out-of-band buffers and EXT codes are followed
 * (they run nothing the file chooses: ext()).  Why these: text files
 * begin with opcode letters ("Format: ...", "Git 2.28 Release...") and
 * binary data meets EXT bytes; a walk that took their success path would
 * call one text file in ten, and one binary file in seventy, pickles.
 *
 * A window (mg_pickle_inert_window): the preload walks the first bytes of
 * a longer file.  Where the walk needs bytes past the window (an argument,
 * a line, the next opcode) it stops, not inert; where the file itself is
 * too short (a length past its size) the loader fails as before.
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
	size_t flen;                  /* the file's length (>= len) */
	int cut;                      /* stopped by the end of a window */
	size_t depth;                 /* object stack length */
	size_t marks[INERT_MARKS];
	size_t nmarks;
	uint32_t memo[INERT_MEMO];
	size_t nmemo;
	int memo_vague;               /* a PUT whose key we did not parse */
	int attr_names;               /* a name no attribute has fails */
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

/*
 * The walk reached the end of the bytes it has.  When they are the whole
 * file the loader fails there; when they are a window on a longer file
 * (mg_pickle_inert_window) nothing is known: the walk stops, not inert.
 */
static int
window_end(struct walk *w)
{
	w->cut = 1;
	return 1;
}

static int
at_end(struct walk *w, const char *why)
{
	return w->len < w->flen ? window_end(w) : fail(w, why);
}

/* Take @n argument bytes; -1 when the file ends first. */
static int
take(struct walk *w, size_t n, const uint8_t **p)
{
	if (n > w->flen - w->pos)
		return fail(w, "an opcode's argument runs past the end of "
		            "the file");
	if (n > w->len - w->pos)
		return window_end(w);
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
		return at_end(w, "a text argument is not terminated by a "
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
 * Both unpicklers decode the two name lines before find_class: GLOBAL as
 * strict UTF-8, INST as ASCII (_pickle.c: PyUnicode_DecodeUTF8/ASCII;
 * pickle.py: .decode("utf-8")/.decode("ascii")).  mg_pickle_utf8_valid
 * accepts everything Python's decoder does (and surrogates, which Python
 * rejects), so "does not decode" here is certain.  Why it matters: binary
 * data (raw floats) holds 'c' and newlines, rarely valid UTF-8 between.
 */
static int
decodes(const uint8_t *p, size_t n, uint8_t op)
{
	size_t i;

	if (op == 'c')
		return mg_pickle_utf8_valid(p, n) == 0;
	for (i = 0; i < n; i++)
		if (p[i] >= 0x80)
			return 0;
	return 1;
}

/*
 * GLOBAL/INST.  Inert when the module cannot be imported (a text line:
 * mg_pickle_unimportable), or when _pickle.c fails reading a name line
 * and the module pickle.py would import is empty or unimportable (see
 * the top of the file).  That module is the first line without its
 * newline, or, with no newline before the end of the file, the rest
 * without its last byte (readline()[:-1]).
 */
static int
global_lines(struct walk *w, uint8_t op)
{
	const uint8_t *rest = w->b + w->pos, *p, *q;
	size_t left = w->len - w->pos, n, m;
	const uint8_t *nl = memchr(rest, '\n', left);
	size_t mlen = nl != NULL ? (size_t)(nl - rest) : left ? left - 1 : 0;

	if (line(w, &p, &n) == 0 && n >= 2 && line(w, &q, &m) == 0 && m >= 2) {
		if (!decodes(p, n - 1, op) || !decodes(q, m - 1, op))
			return fail(w, "a GLOBAL or INST name does not decode "
			            "(UTF-8, ASCII for INST)");
		if (mg_pickle_unimportable(p, n - 1))
			return fail(w, "a GLOBAL or INST module name holds a "
			            "space, a control byte or punctuation (no "
			            "import finds it)");
		if (w->attr_names && !mg_pickle_attr_name(q, m - 1))
			return fail(w, "a GLOBAL or INST name is no attribute "
			            "name (the guard refuses it)");
		return 1;       /* find_class is called */
	}
	if (w->cut)
		return 1;       /* the lines run past the window */
	if (w->attr_names)
		return fail(w, "a GLOBAL or INST name line is empty or cut by "
		            "the end of the file (the guard refuses it)");
	if (mlen == 0)
		return fail(w, "a GLOBAL or INST name line is empty or cut by "
		            "the end of the file");
	if (!decodes(rest, mlen, op) || mg_pickle_unimportable(rest, mlen))
		return fail(w, "a GLOBAL or INST name line is cut by the end "
		            "of the file, and the module pickle.py would "
		            "import does not decode or holds a space, a control "
		            "byte or punctuation");
	return 1;               /* pickle.py imports the module anyway */
}

/* Counted bytes after an @n-byte little-endian length. */
static int
counted(struct walk *w, size_t n, int sign, size_t push)
{
	const uint8_t *p;
	uint64_t k;
	int r = take(w, n, &p);

	if (r != 0)
		return r;
	k = le(p, n);
	if (sign && n == 4 && (k & 0x80000000u))
		return fail(w, "a byte count is negative");
	if (k > w->flen - w->pos)
		return fail(w, "a string or bytes argument runs past the end "
		            "of the file");
	if (k > w->len - w->pos)
		return window_end(w);
	w->pos += (size_t)k;
	return stack(w, 0, push);
}

static int
get(struct walk *w, size_t n)
{
	const uint8_t *p;
	int r = take(w, n, &p);

	if (r != 0)
		return r;
	if (!w->memo_vague && !memo_has(w, (uint32_t)le(p, n)))
		return fail(w, "a memo GET names a key never stored");
	return stack(w, 0, 1);
}

static int
put(struct walk *w, size_t n)
{
	const uint8_t *p;
	int r = take(w, n, &p);

	if (r != 0)
		return r;
	if (w->depth <= fence(w))
		return fail(w, "a memo PUT with nothing on the stack");
	return memo_put(w, (uint32_t)le(p, n));
}

/*
 * Could @p[0..@n) be read as a number by either unpickler?  0 when it
 * certainly cannot: a byte that no number syntax has appears before the
 * first NUL (_pickle.c hands the line to strtol, PyOS_string_to_double or
 * PyLong_FromString, which stop at a NUL; pickle.py's int() and float()
 * reject the NUL itself).  @ok lists the bytes a number may hold: digits,
 * signs, underscores, whitespace, and for floats the letters of inf,
 * infinity and nan, for integers those of hex digits and base prefixes.
 * Why it matters: text files ("Format: ...", "Input ...") start with
 * these opcode letters; taking the success path would call them pickles.
 */
static int
numeric(const uint8_t *p, size_t n, const char *ok)
{
	size_t i;

	for (i = 0; i < n && p[i] != 0; i++)
		if (strchr(ok, p[i]) == NULL)
			return 0;
	return 1;
}

#define NUM_WS   " \t\n\r\f\v"
#define NUM_FLOAT "0123456789+-._eEinfatyINFATY" NUM_WS
#define NUM_INT  "0123456789abcdefABCDEFxXoO+-_lL" NUM_WS

/* The argument line of F, I, L, S, p, g (@n without the newline) is one
 * both unpicklers reject: -1 (the loader fails here), else 0. */
static int
bad_text(struct walk *w, uint8_t op, const uint8_t *p, size_t n)
{
	switch (op) {
	case 'F':
		if (!numeric(p, n, NUM_FLOAT))
			return fail(w, "a FLOAT argument is not a number");
		return 0;
	case 'I': case 'L': case 'p': case 'g':
		if (!numeric(p, n, NUM_INT))
			return fail(w, "an INT, LONG, PUT or GET argument is "
			            "not an integer");
		return 0;
	case 'S':
		/* Both: "the STRING opcode argument must be quoted". */
		if (n < 2 || p[0] != p[n - 1] || (p[0] != '\'' && p[0] != '"'))
			return fail(w, "a STRING argument is not quoted");
		return 0;
	}
	return 0;
}

/* Text opcodes: a line, then push one value (the success path, unless
 * the argument is one the loader rejects, bad_text). */
static int
text(struct walk *w, uint8_t op)
{
	const uint8_t *p;
	size_t n;
	int r = line(w, &p, &n);

	if (r != 0)
		return r;
	if (bad_text(w, op, p, n - 1) != 0)
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
 * STOP, the calls and STACK_GLOBAL pop their operands before they call or
 * resolve anything, in both unpicklers: with fewer objects above the MARK
 * fence than they pop (OBJ: no MARK, or nothing above it) the loader
 * fails ("unpickling stack underflow", an IndexError in pickle.py).
 * Otherwise the walk stops there, not inert (1).  Why it matters: text
 * ("Git 2.28 Release", "...") reaches STOP or REDUCE on an empty stack.
 */
static int
underflow(struct walk *w, uint8_t op)
{
	size_t need = op == '.' ? 1 : op == 0x92 ? 3 : 2, at;

	if (op == 'o') {
		if (marker(w, &at) != 0)
			return -1;
		return w->depth > at ? 1 : fail(w, "OBJ with nothing above "
		                                  "its MARK");
	}
	if (w->depth - fence(w) < need)
		return fail(w, "the opcode pops more than the stack holds");
	return 1;
}

/*
 * EXT1/2/4: a code from copyreg's extension registry.  Code 0 (and a
 * negative EXT4) fails in both unpicklers ("EXT specifies code <= 0").
 * Any other code fails too unless the program registered it
 * (copyreg.add_extension; no library on either stack does); if it did,
 * the loader pushes the global the *program* chose for that code, one it
 * registered to be unpickled, and nothing the file chooses runs until
 * that object is called -- and every call stops the walk.  So the walk
 * follows the success path: one object pushed.  Why it matters: one
 * binary file in seventy (raw floats, random bytes) meets an EXT byte
 * before an invalid one.
 */
static int
ext(struct walk *w, size_t n)
{
	const uint8_t *p;
	uint64_t code;
	int r = take(w, n, &p);

	if (r != 0)
		return r;
	code = le(p, n);
	if (code == 0 || (n == 4 && (code & 0x80000000u)))
		return fail(w, "an EXT code is not positive");
	return stack(w, 0, 1);
}

/* An opcode with an @n-byte argument that pushes one value. */
static int
fixed(struct walk *w, size_t n)
{
	const uint8_t *p;
	int r = take(w, n, &p);

	return r != 0 ? r : stack(w, 0, 1);
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
	int r;

	if (w->pos == w->len)
		return at_end(w, "the file ends before a STOP opcode");
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
	case 'K': return fixed(w, 1);
	case 'M': return fixed(w, 2);
	case 'J': return fixed(w, 4);
	case 'G': return fixed(w, 8);
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
		if ((r = take(w, 1, &p)) != 0)
			return r;
		return *p > 5 ? fail(w, "an unsupported pickle protocol") : 0;
	case 0x95:
		/* Why no length check: pickle.py's _Unframer reads a short
		 * frame and goes on parsing it; the bytes are the same. */
		return take(w, 8, &p);
	/* Why a persistent id is followed, not a failure: which loader reads
	 * the file is not known, and one with a persistent_load (torch's, a
	 * program's own Unpickler) gets an object back and goes on.  Its
	 * own code, not the file's; what follows is walked as usual. */
	case 'P': return text(w, op);
	case 'Q': return stack(w, 1, 1);
	case 'c': case 'i':
		return global_lines(w, op);
	case '.': case 'R': case 'b': case 'o': case 0x81: case 0x92:
	case 0x93:
		return underflow(w, op);
	/* Out-of-band buffers: the caller's objects (pickle.load(buffers=))
	 * or a failure without them; READONLY_BUFFER wraps the top object in
	 * a memoryview.  Neither runs anything the file chooses. */
	case 0x97: return stack(w, 0, 1);
	case 0x98: return stack(w, 1, 1);
	case 0x82: return ext(w, 1);
	case 0x83: return ext(w, 2);
	case 0x84: return ext(w, 4);
	}
	return 1; /* not reached: every opcode has its case */
}

static int
walk(const uint8_t *buf, size_t len, uint64_t flen, int memo_vague,
     int attr_names, size_t *at, const char **why)
{
	struct walk w;
	int r;

	/* Why not memset: the mark and memo arrays (1.5 KiB) are read only
	 * below nmarks and nmemo; the preload runs this on every open it
	 * cannot rule out by name. */
	w.depth = w.nmarks = w.nmemo = w.pos = 0;
	w.memo_vague = memo_vague;
	w.attr_names = attr_names;
	w.cut = 0;
	w.why = NULL;
	w.b = buf;
	w.len = len;
	/* Why the clamp: a file shorter than the bytes given (it shrank
	 * since) is judged on what is here. */
	w.flen = flen < len ? len : flen > SIZE_MAX ? SIZE_MAX : (size_t)flen;
	do {
		*at = w.pos;
		r = step(&w);
	} while (r == 0);
	*why = w.why;
	if (w.cut)
		return -1;
	return r < 0;
}

int
mg_pickle_inert(const uint8_t *buf, size_t len,
                size_t *at, const char **why)
{
	return walk(buf, len, len, 0, 0, at, why);
}

int
mg_pickle_inert_next(const uint8_t *buf, size_t len,
                     size_t *at, const char **why)
{
	return walk(buf, len, len, 1, 0, at, why);
}

int
mg_pickle_inert_window(const uint8_t *buf, size_t len, uint64_t flen,
                       size_t *at, const char **why)
{
	return walk(buf, len, flen, 0, 0, at, why);
}

int
mg_pickle_inert_guarded_window(const uint8_t *buf, size_t len, uint64_t flen,
                               size_t *at, const char **why)
{
	return walk(buf, len, flen, 0, 1, at, why);
}
