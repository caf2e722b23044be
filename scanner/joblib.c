/*
 * joblib.c - stacked pickle streams, with joblib's array bodies.
 *
 * A buffer that sniffs as a pickle may hold several pickles back to back
 * (pickle.load called in a loop reads them all), and a joblib.dump file is
 * one pickle with raw bytes inside it: joblib's NumpyPickler pickles a
 * `joblib.numpy_pickle NumpyArrayWrapper` in place of each array and writes
 * the array straight into the file after the wrapper's BUILD; its
 * NumpyUnpickler reads them back from the file position right after that
 * BUILD (joblib/numpy_pickle.py: NumpyArrayWrapper.write_array/read_array,
 * NumpyUnpickler.load_build).  The body is:
 *   - object dtype (dtype.hasobject): a complete nested pickle, read by a
 *     plain pickle.load on the same file;
 *   - otherwise, if the wrapper has a non-None numpy_array_alignment_bytes
 *     (joblib >= 1.2), one byte N and N padding bytes, then
 *     prod(shape) * dtype.itemsize raw bytes.  N comes from the file, not
 *     from the state: the loader reads whatever byte is there.
 * The analyser calls on_build() with the loader's file position (the end of
 * the current frame when BUILD sits in one); this file computes the body
 * length from the wrapper's symbolic state and the dtype's reduce + BUILD
 * state, the way numpy's dtype.__setstate__ computes itemsize and
 * hasobject (flexible kinds S/U/V take the state's elsize; hasobject is the
 * state's flags & 1).  A wrapper it cannot evaluate exactly is an error
 * finding: the loader would read bytes this scanner cannot account for.
 *
 * Two loaders, one file: joblib.load skips the bodies, pickle.load does
 * not (it parses them as opcodes).  A hostile file can hide opcodes in a
 * "body" that only pickle.load executes, so when any body was stepped over
 * the stream is scanned a second time without hooks and the global
 * findings that second view adds past the first body are merged (parse
 * errors of that view are not: real joblib files are not plain pickles).
 * Where both loaders parse the same bytes - an object array's nested
 * pickle, which joblib.load reads with a fresh memo and pickle.load with
 * the outer one - the second view resolves memo strings of the outer
 * stream: every joblib >= 1.4 file with an object array (sklearn's
 * string classes_) then "names" globals such as NumpyArrayWrapper dtype,
 * whose module pickle.load fails to import.  There a denied global stays
 * dangerous, but an unknown one is an info finding, not a verdict: only
 * a pickle.load of a .joblib file would resolve it (README, Limitations).
 * In a body joblib.load steps over, every global finding counts.
 *
 * Tensors: pickle.dumps/joblib.dump of a torch tensor writes
 * torch.storage._load_from_bytes(b) with b a complete torch.save stream;
 * the analyser hands b to the on_nested hook here, which scans it by
 * content (torch-legacy or torch-zip) one level deeper (mg_nested_scan).
 *
 * Old joblib formats: NDArrayWrapper (joblib < 0.10) keeps each array in a
 * side file that the loader opens with np.load(allow_pickle=True); that
 * open is scanned on its own by the preload, so here it is a finding
 * (unknown, or dangerous when the name escapes the directory).  'ZF' files
 * (zlib, joblib < 0.10) are undone in compress.c and come back here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "pickle.h"

/* NDArrayWrapper-style state caps: a real wrapper has six attributes.  The
 * analyser keeps the first 256 items of a container; more could hide a
 * later value, so such a state is not evaluated. */
#define MG_JOBLIB_MAX_ITEMS 256

struct jctx {
	struct mg_report *rep;
	const char *member;
	size_t first_body;  /* file offset of the first body stepped over */
	unsigned nbodies;
	size_t (*skipped)[2]; /* [start, end) of each raw body stepped over,
	                         in file order (the loader reads them so) */
	size_t nskipped, capskipped;
	struct mg_nested nest;
};

enum wclass { W_NONE, W_NUMPY, W_NDARRAY };

/* 1 if @v is the global module.name (dotted forms of one path compare
 * equal: protocol 4 resolves "numpy_pickle.NumpyArrayWrapper" in joblib). */
static int
is_global(const struct mg_pvalue *v, const char *path)
{
	size_t ml;

	if (v == NULL || v->kind != MG_PV_GLOBAL || v->module == NULL ||
	    v->name == NULL)
		return 0;
	ml = strlen(v->module);
	return strncmp(path, v->module, ml) == 0 && path[ml] == '.' &&
	       strcmp(path + ml + 1, v->name) == 0;
}

static enum wclass
class_of(const struct mg_pvalue *cls)
{
	if (is_global(cls, "joblib.numpy_pickle.NumpyArrayWrapper"))
		return W_NUMPY;
	if (is_global(cls, "joblib.numpy_pickle.NDArrayWrapper") ||
	    is_global(cls, "joblib.numpy_pickle.ZNDArrayWrapper") ||
	    is_global(cls, "joblib.numpy_pickle_compat.NDArrayWrapper") ||
	    is_global(cls, "joblib.numpy_pickle_compat.ZNDArrayWrapper"))
		return W_NDARRAY;
	return W_NONE;
}

/*
 * The wrapper class an instance was made from, without running __init__:
 * the class with no arguments (NEWOBJ, OBJ, INST: cls.__new__(cls)) or
 * copyreg._reconstructor(cls, object, None) (protocols 0 and 1).  With
 * arguments, REDUCE runs __init__, which sets attributes from them that
 * this scanner does not model: -1 (an error finding).  *@w = W_NONE for
 * every other object.
 */
static int
wrapper_class(const struct mg_pvalue *obj, enum wclass *w)
{
	const struct mg_pvalue *fn = obj->items[0], *args;

	*w = W_NONE;
	if (obj->nitems < 2 || (args = obj->items[1]) == NULL ||
	    args->kind != MG_PV_TUPLE)
		return 0;
	if (is_global(fn, "copyreg._reconstructor")) {
		if (args->nitems != 3 || class_of(args->items[0]) == W_NONE)
			return 0;
		*w = class_of(args->items[0]);
		return is_global(args->items[1], "builtins.object") &&
		       args->items[2]->kind == MG_PV_NONE ? 0 : -1;
	}
	*w = class_of(fn);
	return *w != W_NONE && args->nitems != 0 ? -1 : 0;
}

static int
is_text(const struct mg_pvalue *v, const char *s)
{
	size_t n = strlen(s);

	return v != NULL && (v->kind == MG_PV_STR || v->kind == MG_PV_BYTES) &&
	       v->data != NULL && v->len == n && memcmp(v->data, s, n) == 0;
}

/*
 * Look up attribute @key in the state a BUILD gave: a dict, or a
 * (dict, slotstate) pair whose slotstate is applied last (pickle.py
 * load_build).  Only str keys set attributes; a bytes key with the same
 * spelling (protocol-0 strings are bytes here but str to the loader) makes
 * the answer uncertain: -1.  0 and *out = NULL when absent.
 */
static int
dict_get(const struct mg_pvalue *d, const char *key,
         const struct mg_pvalue **out)
{
	size_t i;

	if (d == NULL || d->kind == MG_PV_NONE)
		return 0;
	if (d->kind != MG_PV_DICT || d->nitems >= MG_JOBLIB_MAX_ITEMS)
		return -1;
	for (i = 0; i + 1 < d->nitems; i += 2) {
		if (!is_text(d->items[i], key))
			continue;
		if (d->items[i]->kind != MG_PV_STR)
			return -1;
		*out = d->items[i + 1]; /* later keys win, as in a dict */
	}
	return 0;
}

static int
state_get(const struct mg_pvalue *st, const char *key,
          const struct mg_pvalue **out)
{
	*out = NULL;
	if (st == NULL || st->kind == MG_PV_NONE)
		return 0;
	if (st->kind == MG_PV_TUPLE && st->nitems == 2)
		return dict_get(st->items[0], key, out) != 0 ||
		       dict_get(st->items[1], key, out) != 0 ? -1 : 0;
	return dict_get(st, key, out);
}

/* A joblib finding about the wrapper BUILD at @pos. */
static int
bad(struct jctx *j, size_t pos, const char *why)
{
	/* Why -1 even when the report fails: the analyser stops either way. */
	(void)mg_report_add(j->rep, MG_VERDICT_ERROR, "joblib.array", NULL,
	                    j->member, pos, "joblib array wrapper: %s; the "
	                    "loader reads bytes here that cannot be accounted "
	                    "for", why);
	return -1;
}

/* What read_array needs of a dtype. */
struct dt {
	uint64_t itemsize;
	int hasobject;
};

/* Parse a dtype type string as numpy's reduce writes it ("f4", "S3",
 * "V12", "O8", "M8", "b1"); *flex = 1 for S/U/V.  -1 if not one. */
static int
dtype_string(const uint8_t *s, size_t n, struct dt *d, int *flex)
{
	uint64_t num = 0;
	size_t i = 1;
	int kind, digits = 0;

	if (n > 0 && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '='))
		s++, n--;
	if (n == 0 || n > 24)
		return -1;
	kind = s[0];
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
		if (num > UINT32_MAX)
			return -1;
		num = num * 10 + (uint64_t)(s[i] - '0');
	}
	if (i != n)
		return -1;
	*flex = kind == 'S' || kind == 'a' || kind == 'U' || kind == 'V';
	d->hasobject = kind == 'O';
	switch (kind) {
	case 'S': case 'a': case 'V': d->itemsize = num; return 0;
	case 'U': d->itemsize = num * 4; return 0;
	case 'O': d->itemsize = 8; return !digits || num == 4 || num == 8 ? 0 : -1;
	case 'M': case 'm': d->itemsize = 8; return !digits || num == 8 ? 0 : -1;
	case 'b': d->itemsize = 1; return digits && num == 1 ? 0 : -1;
	case 'i': case 'u':
		d->itemsize = num;
		return num == 1 || num == 2 || num == 4 || num == 8 ? 0 : -1;
	case 'f':
		d->itemsize = num;
		return num == 2 || num == 4 || num == 8 || num == 16 ? 0 : -1;
	case 'c':
		d->itemsize = num;
		return num == 8 || num == 16 || num == 32 ? 0 : -1;
	}
	return -1;
}

/*
 * Evaluate a symbolic numpy.dtype(typestr, align, copy) with its optional
 * BUILD state (version, byteorder, subarray, names, fields, elsize,
 * alignment, flags[, metadata]) as numpy 1.24's arraydescr_setstate does.
 */
static const char *
dtype_eval(const struct mg_pvalue *v, struct dt *d)
{
	const struct mg_pvalue *args, *st, *ts;
	int flex;

	if (v == NULL || v->kind != MG_PV_CALL || v->nitems < 2 ||
	    !is_global(v->items[0], "numpy.dtype"))
		return "the dtype is not a numpy.dtype call";
	args = v->items[1];
	if (args == NULL || args->kind != MG_PV_TUPLE || args->nitems < 1)
		return "the dtype call has no type string";
	ts = args->items[0];
	if ((ts->kind != MG_PV_STR && ts->kind != MG_PV_BYTES) ||
	    ts->data == NULL || dtype_string(ts->data, ts->len, d, &flex) != 0)
		return "the dtype's type string is not one numpy writes";
	if ((st = v->state) == NULL)
		return NULL; /* numpy's own defaults for the type string */
	if (st->kind != MG_PV_TUPLE || st->nitems < 8 ||
	    st->items[0]->kind != MG_PV_INT ||
	    !((st->items[0]->i == 3 && st->nitems == 8) ||
	      (st->items[0]->i == 4 && st->nitems == 9)))
		return "the dtype state is not version 3 or 4";
	if (st->items[5]->kind != MG_PV_INT || st->items[7]->kind != MG_PV_INT)
		return "the dtype state's elsize or flags is not an integer";
	/* Why: hasobject is whatever the flags say (NPY_ITEM_HASOBJECT),
	 * not what the type string says - numpy trusts the pickle. */
	d->hasobject = (st->items[7]->i & 1) != 0;
	if (flex) {
		if (st->items[5]->i < 0)
			return "a flexible dtype without an element size";
		d->itemsize = (uint64_t)st->items[5]->i;
	} else if (st->items[2]->kind != MG_PV_NONE ||
	           st->items[3]->kind != MG_PV_NONE ||
	           st->items[4]->kind != MG_PV_NONE)
		return "a fixed-size dtype with fields or a subarray";
	return NULL;
}

/* prod(shape) * itemsize without overflow; NULL or why not. */
static const char *
body_size(const struct mg_pvalue *shape, uint64_t itemsize, uint64_t *out)
{
	uint64_t count = 1;
	size_t i;

	/* Why only a tuple: numpy's shape always is one, and the analyser
	 * keeps no items of lists (pickle.h), so a list's length is unknown. */
	if (shape == NULL || shape->kind != MG_PV_TUPLE)
		return "shape is not a literal tuple";
	if (shape->nitems >= MG_JOBLIB_MAX_ITEMS)
		return "shape has too many dimensions";
	for (i = 0; i < shape->nitems; i++) {
		const struct mg_pvalue *d = shape->items[i];

		if (d->kind != MG_PV_INT && d->kind != MG_PV_BOOL)
			return "a dimension is not a literal integer";
		if (d->i < 0)
			return "a negative dimension";
		if (d->i != 0 && count > UINT64_MAX / (uint64_t)d->i)
			return "the element count overflows";
		count *= (uint64_t)d->i;
	}
	if (itemsize != 0 && count > UINT64_MAX / itemsize)
		return "the body size overflows";
	*out = count * itemsize;
	return NULL;
}

/* NumpyArrayWrapper: how many bytes follow, or nested pickle (1). */
static int
numpy_body(struct jctx *j, const struct mg_pvalue *st, const uint8_t *buf,
           size_t len, size_t pos, size_t *skip)
{
	const struct mg_pvalue *shape, *dtype, *align;
	const char *why;
	struct dt d;
	uint64_t n, pad = 0;

	if (state_get(st, "shape", &shape) != 0 ||
	    state_get(st, "dtype", &dtype) != 0 ||
	    state_get(st, "numpy_array_alignment_bytes", &align) != 0)
		return bad(j, pos, "its state is not a plain attribute dict");
	if ((why = dtype_eval(dtype, &d)) != NULL)
		return bad(j, pos, why);
	if ((why = body_size(shape, d.itemsize, &n)) != NULL)
		return bad(j, pos, why);
	if (d.hasobject) {
		*skip = 0; /* a plain pickle.load() reads a nested pickle */
		return 1;
	}
	/* Why absent and None alike: safe_get_numpy_array_alignment_bytes()
	 * is getattr(self, ..., None); any other value means a padding byte,
	 * and the padding length is that byte, whatever the state says. */
	if (align != NULL && align->kind != MG_PV_NONE) {
		if (pos >= len)
			return bad(j, pos, "the padding byte is missing");
		pad = 1 + (uint64_t)buf[pos];
	}
	if (pad > len - pos || n > len - pos - pad) {
		char msg[128];

		snprintf(msg, sizeof(msg), "the array body needs %llu bytes, "
		         "%zu are left", (unsigned long long)(pad + n),
		         len - pos);
		return bad(j, pos, msg);
	}
	*skip = (size_t)(pad + n);
	return 0;
}

/* NDArrayWrapper: the array is in a side file the loader np.load()s. */
static int
side_file(struct jctx *j, const struct mg_pvalue *st, size_t pos)
{
	const struct mg_pvalue *fn;
	char name[256];
	size_t n;
	int escape;

	if (state_get(st, "filename", &fn) != 0 || fn == NULL ||
	    (fn->kind != MG_PV_STR && fn->kind != MG_PV_BYTES) ||
	    fn->data == NULL)
		return bad(j, pos, "an old-format (NDArrayWrapper) array "
		           "without a literal file name");
	n = fn->len < sizeof(name) - 1 ? fn->len : sizeof(name) - 1;
	memcpy(name, fn->data, n);
	name[n] = '\0';
	/* Why: os.path.join(dirname, filename) lets an absolute or ".."
	 * name pull any .npy on the host into np.load(allow_pickle=True). */
	escape = n != fn->len || memchr(name, '\0', n) != NULL ||
	         name[0] == '/' || strstr(name, "..") != NULL;
	if (mg_report_add(j->rep, escape ? MG_VERDICT_DANGEROUS :
	                  MG_VERDICT_UNKNOWN, escape ? "joblib.sidefile.escape" :
	                  "joblib.sidefile", NULL, j->member, pos,
	                  "old joblib format: the loader reads an array from "
	                  "side file '%s' with np.load(allow_pickle=True)%s",
	                  name, escape ? ", outside the file's directory" :
	                  "; that file is checked only when it is opened") !=
	    MG_OK)
		return -1;
	return 0;
}

/* Record the raw body [@start, @end).  0, or -1 out of memory (noted). */
static int
add_skipped(struct jctx *j, size_t start, size_t end)
{
	if (j->nskipped == j->capskipped) {
		size_t cap = j->capskipped ? 2 * j->capskipped : 16;
		void *p = realloc(j->skipped, cap * sizeof(j->skipped[0]));

		if (p == NULL) {
			(void)mg_report_add(j->rep, MG_VERDICT_ERROR, "nomem",
			                    NULL, j->member, start, "out of memory");
			return -1;
		}
		j->skipped = p;
		j->capskipped = cap;
	}
	j->skipped[j->nskipped][0] = start;
	j->skipped[j->nskipped][1] = end;
	j->nskipped++;
	return 0;
}

/* 1 if @off lies in a raw body joblib.load steps over (binary search:
 * bodies are recorded in increasing file order). */
static int
in_skipped(const struct jctx *j, uint64_t off)
{
	size_t lo = 0, hi = j->nskipped;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (off < j->skipped[mid][0])
			hi = mid;
		else if (off >= j->skipped[mid][1])
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

static int
on_build(void *ctx, const struct mg_pvalue *obj, const uint8_t *buf,
         size_t len, size_t pos, size_t *skip)
{
	struct jctx *j = ctx;
	enum wclass w;
	int r;

	*skip = 0;
	if (wrapper_class(obj, &w) != 0)
		return bad(j, pos, "the wrapper was made by calling its class "
		           "with arguments");
	if (w == W_NDARRAY)
		return side_file(j, obj->state, pos);
	if (w != W_NUMPY)
		return 0;
	r = numpy_body(j, obj->state, buf, len, pos, skip);
	if (r >= 0 && j->nbodies++ == 0)
		j->first_body = pos;
	if (r == 0 && *skip > 0 && add_skipped(j, pos, pos + *skip) != 0)
		return -1;
	return r;
}

int
mg_nested_scan(const struct mg_nested *n, const uint8_t *data, size_t len,
               uint64_t pos)
{
	struct mg_report *sub;
	char m[512];
	enum mg_err err;
	size_t i;

	if (pos < n->from)
		return 0;
	if (n->member != NULL)
		snprintf(m, sizeof(m), "%s|_load_from_bytes@%llu", n->member,
		         (unsigned long long)pos);
	else
		snprintf(m, sizeof(m), "_load_from_bytes@%llu",
		         (unsigned long long)pos);
	/* Why a report of its own: the file's globals list is what the
	 * file's own unpickler resolves (the differential test holds it to
	 * that); the nested stream speaks through its findings. */
	if ((sub = mg_report_new()) == NULL)
		return -1;
	err = mg_scan_any(n->o, n->name, m, data, len, n->depth + 1, sub);
	for (i = 0; err == MG_OK && i < sub->nfindings; i++) {
		const struct mg_finding *f = &sub->findings[i];

		err = mg_report_add(n->rep, f->verdict, f->rule, f->global,
		                    f->member, f->offset, "%s%s", n->prefix,
		                    f->message);
	}
	/* Why: findings past the cap were counted, not kept, in @sub. */
	if (sub->verdict > n->rep->verdict)
		n->rep->verdict = sub->verdict;
	n->rep->npickles += sub->npickles;
	mg_report_free(sub);
	return err == MG_OK ? 0 : -1;
}

static int
on_nested(void *ctx, const uint8_t *data, size_t len, uint64_t pos)
{
	return mg_nested_scan(&((struct jctx *)ctx)->nest, data, len, pos);
}

/* Rules of the hook-free view worth merging (see the file comment). */
static int
merge_rule(const struct mg_finding *f)
{
	if (f->verdict != MG_VERDICT_UNKNOWN &&
	    f->verdict != MG_VERDICT_UNKNOWN_CALL &&
	    f->verdict != MG_VERDICT_DANGEROUS)
		return 0;
	/* Why not frames/differentials: parsing array bytes as opcodes
	 * produces those by chance; a payload needs a global or an EXT. */
	return strncmp(f->rule, "pickle.frame", 12) != 0 &&
	       strncmp(f->rule, "pickle.differential", 19) != 0;
}

/* Scan @buf as pickle.load would (no joblib bodies) and keep what that
 * view adds at or after @from.  Nested torch.load calls at or after @from
 * are scanned straight into @rep (the joblib view saw the same calls
 * before @from: both views read the same bytes up to the first body). */
static enum mg_err
plain_view(struct jctx *j, const struct mg_scan_opts *o, const uint8_t *buf,
           size_t len, const char *member, size_t from, struct mg_report *rep)
{
	struct jctx pj = *j;
	struct mg_pickle_hooks hooks = { NULL, NULL, &pj, on_nested };
	struct mg_report *alt;
	enum mg_err err;
	size_t i;

	if ((alt = mg_report_new()) == NULL)
		return MG_ERR_NOMEM;
	pj.nest.from = from;
	pj.nest.prefix = "if read with pickle.load instead of joblib.load: ";
	err = mg_pickle_scan_all(o, &hooks, buf, len, member, 0, alt);
	for (i = 0; err == MG_OK && i < alt->nfindings; i++) {
		const struct mg_finding *f = &alt->findings[i];

		if (f->offset < from || !merge_rule(f))
			continue;
		if (f->verdict != MG_VERDICT_DANGEROUS &&
		    !in_skipped(j, f->offset)) {
			err = mg_report_add(rep, MG_VERDICT_CLEAN, f->rule,
			                    f->global, f->member, f->offset,
			                    "if read with pickle.load instead of "
			                    "joblib.load (not a verdict: bytes "
			                    "joblib.load reads as a nested pickle "
			                    "with a memo of its own): %s",
			                    f->message);
			continue;
		}
		err = mg_report_add(rep, f->verdict, f->rule, f->global,
		                    f->member, f->offset, "if read with "
		                    "pickle.load instead of joblib.load: %s",
		                    f->message);
	}
	if (err == MG_OK && alt->dropped > 0 &&
	    alt->verdict == MG_VERDICT_DANGEROUS)
		err = mg_report_add(rep, MG_VERDICT_DANGEROUS, "joblib.plain",
		                    NULL, member, from, "read with pickle.load "
		                    "instead of joblib.load, this stream has "
		                    "more dangerous findings than were kept");
	mg_report_free(alt);
	return err;
}

enum mg_err
mg_pickle_stream_scan(const struct mg_scan_opts *o, const char *name,
                      const char *member, const uint8_t *buf, size_t len,
                      unsigned depth, struct mg_report *rep)
{
	struct jctx j = { rep, member, 0, 0, NULL, 0, 0,
	                  { o, name, member, depth, rep, 0, "" } };
	struct mg_pickle_hooks hooks = { on_build, NULL, &j, on_nested };
	enum mg_err err;

	err = mg_pickle_scan_all(o, &hooks, buf, len, member, 0, rep);
	if (err == MG_OK && j.nbodies > 0)
		err = plain_view(&j, o, buf, len, member, j.first_body, rep);
	free(j.skipped);
	return err;
}
