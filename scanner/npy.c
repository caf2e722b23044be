/*
 * npy.c - NumPy .npy files (format versions 1.0, 2.0, 3.0), alone or as
 * members of an .npz.
 *
 * numpy.lib.format reads: the magic "\x93NUMPY", a major and minor byte, a
 * header length (2 bytes LE for 1.0, 4 bytes for 2.0/3.0), then a header of
 * that length (latin1, utf-8 for 3.0) holding a Python dict literal that
 * ast.literal_eval must turn into exactly {'descr', 'fortran_order',
 * 'shape'}.  If the dtype built from 'descr' has objects anywhere
 * (dtype.hasobject: '|O', or a structured or subarray dtype containing
 * one), np.load(allow_pickle=True) calls pickle.load() right after the
 * header; otherwise it copies count * itemsize bytes.
 *
 * So we parse the literal ourselves, strictly: a small recursive-descent
 * parser for the subset of Python literals numpy writes and literal_eval
 * accepts (strings, ints, True/False/None, tuples, lists, dicts, comments,
 * implicit string concatenation, the 'L' suffix numpy strips from 1.0/2.0
 * headers).  Anything outside the subset is an error finding, never a
 * guess: unparseable is never clean.  A descr we cannot size is an error
 * too; if it mentions an object type, the bytes after the header are also
 * scanned as the pickle np.load would run.
 */
#include <stdlib.h>
#include <string.h>

#include "containers.h"
#include "formats.h"
#include "pickle.h"

/* Why these caps: numpy writes headers of ~100 bytes (structured dtypes
 * reach a few KiB); a header may legally be larger, but past 1 MiB or
 * 65,536 literal values we report instead of parsing. */
#define NPY_MAX_HEADER (1u << 20)
#define NPY_MAX_NODES 65536
#define NPY_MAX_NEST 64

enum lkind { L_STR, L_INT, L_BOOL, L_NONE, L_TUPLE, L_LIST, L_DICT };

/* One literal value; children are a linked list of node indices. */
struct lnode {
	enum lkind kind;
	int64_t i;              /* INT, BOOL */
	char *s;                /* STR: decoded, NUL-terminated (no NULs) */
	int first, next;        /* child list; -1 ends it */
	size_t n;               /* number of children */
};

struct lparser {
	const char *p, *end;
	struct lnode *nodes;
	int n, cap;             /* nodes used, allocated */
	int nomem;              /* growing the nodes failed */
	int old_long;           /* 1.0/2.0: numpy strips 'L' after integers */
	const char *err;
};

static void
skip_ws(struct lparser *lp)
{
	while (lp->p < lp->end) {
		if (*lp->p == '#') {
			while (lp->p < lp->end && *lp->p != '\n')
				lp->p++;
		} else if (*lp->p == ' ' || *lp->p == '\t' || *lp->p == '\n' ||
		           *lp->p == '\r' || *lp->p == '\f') {
			lp->p++;
		} else {
			break;
		}
	}
}

/* Why grown on demand: a typical header is a dozen values; allocating
 * (and zeroing) room for NPY_MAX_NODES on every file cost more than the
 * rest of the scan of a small .npy. */
static int
new_node(struct lparser *lp, enum lkind k)
{
	struct lnode *v;
	int cap;

	if (lp->n >= NPY_MAX_NODES) {
		lp->err = "header holds too many values";
		return -1;
	}
	if (lp->n == lp->cap) {
		cap = lp->cap ? 2 * lp->cap : 32;
		if (cap > NPY_MAX_NODES)
			cap = NPY_MAX_NODES;
		v = realloc(lp->nodes, (size_t)cap * sizeof(*v));
		if (v == NULL) {
			lp->err = "out of memory";
			lp->nomem = 1;
			return -1;
		}
		lp->nodes = v, lp->cap = cap;
	}
	memset(&lp->nodes[lp->n], 0, sizeof(lp->nodes[0]));
	lp->nodes[lp->n].kind = k;
	lp->nodes[lp->n].first = lp->nodes[lp->n].next = -1;
	return lp->n++;
}

static int parse_value(struct lparser *lp, int depth);

/* Append the body of one quoted string at lp->p to @out (cap @cap). */
static int
parse_quoted(struct lparser *lp, char *out, size_t cap, size_t *olen)
{
	char q = *lp->p++, c;

	while (lp->p < lp->end && *lp->p != q) {
		c = *lp->p++;
		if (c == '\n')
			return -1;
		if (c == '\\') {
			if (lp->p >= lp->end)
				return -1;
			c = *lp->p++;
			/* Only the escapes a dtype string could need; any
			 * other is outside the subset (fail closed). */
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (c != '\\' && c != '\'' && c != '"')
				return -1;
		}
		if (c == '\0' || *olen + 1 >= cap)
			return -1;
		out[(*olen)++] = c;
	}
	if (lp->p >= lp->end)
		return -1;
	lp->p++;
	return 0;
}

/* 'a' "b" 'c': Python concatenates adjacent string literals. */
static int
parse_string(struct lparser *lp)
{
	size_t cap = (size_t)(lp->end - lp->p) + 1, len = 0;
	char *s = malloc(cap);
	int id;

	if (s == NULL) {
		lp->err = "out of memory";
		return -1;
	}
	do {
		if ((*lp->p == 'u' || *lp->p == 'U') && lp->p + 1 < lp->end)
			lp->p++;
		if (parse_quoted(lp, s, cap, &len) != 0) {
			free(s);
			lp->err = "string literal outside the supported subset";
			return -1;
		}
		skip_ws(lp);
	} while (lp->p < lp->end && (*lp->p == '\'' || *lp->p == '"'));
	s[len] = '\0';
	if ((id = new_node(lp, L_STR)) < 0) {
		free(s);
		return -1;
	}
	lp->nodes[id].s = s;
	return id;
}

static int
parse_int(struct lparser *lp)
{
	int neg = 0, id, digits = 0;
	int64_t v = 0;

	if (*lp->p == '-' || *lp->p == '+') {
		neg = *lp->p++ == '-';
		skip_ws(lp);
	}
	while (lp->p < lp->end && *lp->p >= '0' && *lp->p <= '9') {
		/* Why the bound: shapes beyond 2^62 cannot describe a
		 * file; refuse rather than wrap. */
		if (v > (INT64_MAX - 9) / 10) {
			lp->err = "integer too large";
			return -1;
		}
		v = v * 10 + (*lp->p++ - '0');
		digits++;
	}
	if (!digits || (v != 0 && lp->p[-digits] == '0')) {
		lp->err = "number outside the supported subset";
		return -1;
	}
	if (lp->old_long && lp->p < lp->end && (*lp->p == 'L' || *lp->p == 'l'))
		lp->p++;
	if (lp->p < lp->end && (*lp->p == '.' || *lp->p == 'e' ||
	    *lp->p == 'E' || *lp->p == 'j' || *lp->p == 'x' || *lp->p == '_' ||
	    (*lp->p >= 'a' && *lp->p <= 'z') || (*lp->p >= 'A' && *lp->p <= 'Z'))) {
		lp->err = "number outside the supported subset";
		return -1;
	}
	if ((id = new_node(lp, L_INT)) >= 0)
		lp->nodes[id].i = neg ? -v : v;
	return id;
}

static int
parse_word(struct lparser *lp)
{
	static const struct { const char *w; enum lkind k; int v; } words[] = {
		{ "True", L_BOOL, 1 }, { "False", L_BOOL, 0 }, { "None", L_NONE, 0 },
	};
	size_t i, n;
	int id;

	for (i = 0; i < 3; i++) {
		n = strlen(words[i].w);
		if ((size_t)(lp->end - lp->p) >= n &&
		    memcmp(lp->p, words[i].w, n) == 0 &&
		    (lp->p + n == lp->end || !((lp->p[n] >= 'a' && lp->p[n] <= 'z') ||
		     (lp->p[n] >= 'A' && lp->p[n] <= 'Z') || lp->p[n] == '_' ||
		     (lp->p[n] >= '0' && lp->p[n] <= '9')))) {
			lp->p += n;
			if ((id = new_node(lp, words[i].k)) >= 0)
				lp->nodes[id].i = words[i].v;
			return id;
		}
	}
	lp->err = "name or syntax outside the supported literal subset";
	return -1;
}

/* Items up to @close; for '(' a single item without a comma is just a
 * parenthesised value (Python), not a tuple. */
static int
parse_seq(struct lparser *lp, char close, enum lkind k, int depth)
{
	int id, last = -1, v, comma = 0;
	struct lnode *nd;

	if ((id = new_node(lp, k)) < 0)
		return -1;
	lp->p++;
	for (;;) {
		skip_ws(lp);
		if (lp->p < lp->end && *lp->p == close)
			break;
		if ((v = parse_value(lp, depth + 1)) < 0)
			return -1;
		nd = &lp->nodes[id];
		if (last < 0)
			nd->first = v;
		else
			lp->nodes[last].next = v;
		last = v, nd->n++;
		if (k == L_DICT) {
			skip_ws(lp);
			if (lp->p >= lp->end || *lp->p != ':') {
				lp->err = "dict entry without ':'";
				return -1;
			}
			lp->p++;
			if ((v = parse_value(lp, depth + 1)) < 0)
				return -1;
			lp->nodes[last].next = v;
			last = v;
		}
		skip_ws(lp);
		if (lp->p < lp->end && *lp->p == ',') {
			lp->p++, comma = 1;
			continue;
		}
		if (lp->p >= lp->end || *lp->p != close) {
			lp->err = "missing separator or closing bracket";
			return -1;
		}
		break;
	}
	lp->p++;
	if (k == L_TUPLE && lp->nodes[id].n == 1 && !comma)
		return lp->nodes[id].first;
	return id;
}

static int
parse_value(struct lparser *lp, int depth)
{
	skip_ws(lp);
	if (depth > NPY_MAX_NEST) {
		lp->err = "header literal nests too deeply";
		return -1;
	}
	if (lp->p >= lp->end) {
		lp->err = "header ends inside a value";
		return -1;
	}
	switch (*lp->p) {
	case '\'': case '"': case 'u': case 'U':
		if (*lp->p == '\'' || *lp->p == '"' || (lp->p + 1 < lp->end &&
		    (lp->p[1] == '\'' || lp->p[1] == '"')))
			return parse_string(lp);
		break;
	case '(': return parse_seq(lp, ')', L_TUPLE, depth);
	case '[': return parse_seq(lp, ']', L_LIST, depth);
	case '{': return parse_seq(lp, '}', L_DICT, depth);
	case '-': case '+': return parse_int(lp);
	default:
		if (*lp->p >= '0' && *lp->p <= '9')
			return parse_int(lp);
	}
	return parse_word(lp);
}

static int
child(const struct lparser *lp, int id, size_t k)
{
	int c = lp->nodes[id].first;

	while (c >= 0 && k-- > 0)
		c = lp->nodes[c].next;
	return c;
}

/* The value of the last entry with key @key (Python keeps the last). */
static int
dict_get(const struct lparser *lp, int d, const char *key, int *nkeys_ok)
{
	int k, found = -1;

	*nkeys_ok = 1;
	for (k = lp->nodes[d].first; k >= 0; k = lp->nodes[lp->nodes[k].next].next) {
		if (lp->nodes[k].kind != L_STR || (strcmp(lp->nodes[k].s, "descr")
		    && strcmp(lp->nodes[k].s, "shape") &&
		    strcmp(lp->nodes[k].s, "fortran_order")))
			*nkeys_ok = 0;
		else if (strcmp(lp->nodes[k].s, key) == 0)
			found = lp->nodes[k].next;
	}
	return found;
}

/* Product of a shape (a tuple of non-negative ints, or one int). */
static int
shape_count(const struct lparser *lp, int s, uint64_t *count)
{
	int c;

	*count = 1;
	if (lp->nodes[s].kind == L_INT || lp->nodes[s].kind == L_BOOL) {
		if (lp->nodes[s].i < 0)
			return -1;
		*count = (uint64_t)lp->nodes[s].i;
		return 0;
	}
	if (lp->nodes[s].kind != L_TUPLE)
		return -1;
	for (c = lp->nodes[s].first; c >= 0; c = lp->nodes[c].next) {
		if ((lp->nodes[c].kind != L_INT && lp->nodes[c].kind != L_BOOL)
		    || lp->nodes[c].i < 0)
			return -1;
		if (lp->nodes[c].i != 0 &&
		    *count > UINT64_MAX / (uint64_t)lp->nodes[c].i)
			return -1;
		*count *= (uint64_t)lp->nodes[c].i;
	}
	return 0;
}

/* Item size of a one-character type code (numpy's char codes). */
static int
char_code_size(char c, uint64_t *size, int *obj)
{
	static const char codes[] = "bBhHiIlLqQpPefdgFDG?O";
	static const uint8_t sizes[] = { 1, 1, 2, 2, 4, 4, 8, 8, 8, 8, 8, 8,
	                                 2, 4, 8, 16, 8, 16, 32, 1, 8 };
	const char *at = strchr(codes, c);

	if (c == '\0' || at == NULL)
		return -1;
	*size = sizes[at - codes];
	*obj = c == 'O';
	return 0;
}

/* Size of a typestr: [<>|=]kind[digits][[unit]], or a char code. */
static int
typestr_size(const char *s, uint64_t *size, int *obj)
{
	uint64_t n = 0;
	const char *d;
	char kind;

	*obj = 0;
	if (*s == '<' || *s == '>' || *s == '|' || *s == '=')
		s++;
	kind = *s;
	if (kind == '\0')
		return -1;
	if (s[1] == '\0')
		return kind == 'c' ? (*size = 1, 0) : char_code_size(kind, size, obj);
	for (d = s + 1; *d >= '0' && *d <= '9'; d++) {
		if (n > 1u << 30)
			return -1;
		n = n * 10 + (uint64_t)(*d - '0');
	}
	if (d == s + 1)
		return -1;
	if ((kind == 'M' || kind == 'm') && n == 8 && (*d == '\0' ||
	    (*d == '[' && strchr(d, ']') && strchr(d, ']')[1] == '\0')))
		return *size = 8, 0;
	if (*d != '\0')
		return -1;
	switch (kind) {
	case 'b': if (n != 1) return -1; break;
	case 'i': case 'u': if (n != 1 && n != 2 && n != 4 && n != 8) return -1;
		break;
	case 'f': if (n != 2 && n != 4 && n != 8 && n != 16) return -1; break;
	case 'c': if (n != 8 && n != 16 && n != 32) return -1; break;
	case 'O': if (n != 8) return -1; *obj = 1; break;
	case 'S': case 'a': case 'V': break;
	case 'U': n *= 4; break;
	default: return -1;
	}
	*size = n;
	return 0;
}

/* dtype from a descr: str, (descr, shape) or [(name, descr[, shape])...]. */
static int
descr_size(const struct lparser *lp, int d, int depth, uint64_t *size,
           int *obj)
{
	uint64_t sub, cnt, tot = 0;
	int f, sd, so;

	if (depth > NPY_MAX_NEST)
		return -1;
	if (lp->nodes[d].kind == L_STR)
		return typestr_size(lp->nodes[d].s, size, obj);
	if (lp->nodes[d].kind == L_TUPLE && lp->nodes[d].n == 2) {
		if (descr_size(lp, child(lp, d, 0), depth + 1, &sub, obj) ||
		    shape_count(lp, child(lp, d, 1), &cnt) ||
		    (cnt && sub > UINT64_MAX / cnt))
			return -1;
		return *size = sub * cnt, 0;
	}
	if (lp->nodes[d].kind != L_LIST)
		return -1;
	*obj = 0;
	for (f = lp->nodes[d].first; f >= 0; f = lp->nodes[f].next) {
		if (lp->nodes[f].kind != L_TUPLE || lp->nodes[f].n < 2 ||
		    lp->nodes[f].n > 3)
			return -1;
		sd = child(lp, f, 1);
		if (descr_size(lp, sd, depth + 1, &sub, &so))
			return -1;
		if (lp->nodes[f].n == 3 && (shape_count(lp, child(lp, f, 2), &cnt)
		    || (cnt && sub > UINT64_MAX / cnt) || !(sub *= cnt, 1)))
			return -1;
		if (tot > UINT64_MAX - sub)
			return -1;
		tot += sub;
		*obj |= so;
	}
	return *size = tot, 0;
}

/* Any string in the descr that names an object type (for unsizeable ones). */
static int
mentions_object(const struct lparser *lp, int d)
{
	int c;

	if (lp->nodes[d].kind == L_STR)
		return strchr(lp->nodes[d].s, 'O') != NULL ||
		       strstr(lp->nodes[d].s, "object") != NULL;
	for (c = lp->nodes[d].first; c >= 0; c = lp->nodes[c].next)
		if (mentions_object(lp, c))
			return 1;
	return 0;
}

struct npyhdr {
	size_t data;        /* offset of the data after the header */
	int parsed;         /* header is valid for numpy */
	int obj;            /* dtype has objects: a pickle follows */
	uint64_t nbytes;    /* count * itemsize when !obj */
};

static enum mg_err
bad(struct mg_report *rep, const char *member, uint64_t off, const char *why)
{
	return mg_report_add(rep, MG_VERDICT_ERROR, "npy.header", NULL, member,
	                     off, "npy header not readable as numpy reads it: "
	                     "%s", why);
}

/* Validate the parsed dict the way _read_array_header does. */
static enum mg_err
check_dict(struct lparser *lp, int top, const char *member,
           struct mg_report *rep, struct npyhdr *h)
{
	int ok, descr, shape, fo, obj = 0;
	uint64_t count, size;

	if (lp->nodes[top].kind != L_DICT)
		return bad(rep, member, 8, "header is not a dict");
	descr = dict_get(lp, top, "descr", &ok);
	shape = dict_get(lp, top, "shape", &ok);
	fo = dict_get(lp, top, "fortran_order", &ok);
	if (!ok || descr < 0 || shape < 0 || fo < 0)
		return bad(rep, member, 8, "keys are not exactly descr, "
		           "fortran_order, shape");
	h->obj = mentions_object(lp, descr);
	if (lp->nodes[shape].kind != L_TUPLE || shape_count(lp, shape, &count))
		return bad(rep, member, 8, "shape is not a tuple of "
		           "non-negative ints");
	if (lp->nodes[fo].kind != L_BOOL)
		return bad(rep, member, 8, "fortran_order is not a bool");
	if (descr_size(lp, descr, 0, &size, &obj))
		return bad(rep, member, 8, "descr is not a dtype modelgate can "
		           "size");
	h->obj |= obj;
	if (count && size > UINT64_MAX / count)
		return bad(rep, member, 8, "shape x itemsize overflows");
	h->nbytes = count * size;
	h->parsed = 1;
	return MG_OK;
}

static void
free_nodes(struct lparser *lp)
{
	int i;

	for (i = 0; i < lp->n; i++)
		free(lp->nodes[i].s);
	free(lp->nodes);
}

/* Magic, version, header length, then the literal. */
static enum mg_err
read_header(const uint8_t *buf, size_t len, const char *member,
            struct mg_report *rep, struct npyhdr *h)
{
	struct lparser lp;
	size_t hl, at;
	int top;
	enum mg_err err;

	memset(h, 0, sizeof(*h));
	if (len < 10)
		return bad(rep, member, 0, "truncated before the header");
	if (buf[6] < 1 || buf[6] > 3 || buf[7] != 0)
		return bad(rep, member, 6, "format version is not 1.0, 2.0 or 3.0");
	at = buf[6] == 1 ? 10 : 12;
	if (len < at)
		return bad(rep, member, 8, "truncated header length");
	hl = buf[6] == 1 ? (size_t)(buf[8] | buf[9] << 8) :
	     (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
	     (size_t)buf[11] << 24;
	if (hl > len - at)
		return bad(rep, member, 8, "header length runs past the end");
	if (hl > NPY_MAX_HEADER)
		return bad(rep, member, 8, "header longer than 1 MiB");
	h->data = at + hl;
	memset(&lp, 0, sizeof(lp));
	lp.p = (const char *)buf + at, lp.end = lp.p + hl;
	lp.old_long = buf[6] < 3;
	top = parse_value(&lp, 0);
	if (top >= 0) {
		skip_ws(&lp);
		if (lp.p != lp.end)
			top = -1, lp.err = "bytes after the header literal";
	}
	if (lp.nomem)
		err = MG_ERR_NOMEM;
	else if (top < 0)
		err = bad(rep, member, at, lp.err ? lp.err : "syntax error");
	else
		err = check_dict(&lp, top, member, rep, h);
	free_nodes(&lp);
	return err;
}

static int
on_nested(void *ctx, const uint8_t *data, size_t len, uint64_t pos)
{
	return mg_nested_scan(ctx, data, len, pos);
}

/* The pickle np.load(allow_pickle=True) runs right after the header.
 * Why on_nested: an object array of torch tensors pickles each one as
 * torch.storage._load_from_bytes(b); b is scanned instead of denied. */
static enum mg_err
scan_objects(const struct mg_scan_opts *o, const char *name,
             const char *member, const uint8_t *buf, size_t len,
             const struct npyhdr *h, unsigned depth, struct mg_report *rep)
{
	struct mg_nested n = { o, name, member, depth, rep, 0, "" };
	struct mg_pickle_hooks hooks = { NULL, NULL, &n, on_nested };
	size_t end = 0;
	enum mg_err err;

	err = mg_pickle_scan_one(o, &hooks, buf + h->data, len - h->data,
	                         member, h->data, rep, &end);
	if (err == MG_OK && h->data + end < len)
		err = mg_report_add(rep, MG_VERDICT_UNKNOWN, "npy.trailing", NULL,
		                    member, h->data + end, "%zu bytes after the "
		                    "object array's pickle (np.load ignores them)",
		                    len - h->data - end);
	return err;
}

/* numpy copies exactly shape x itemsize bytes after the header. */
static enum mg_err
check_length(const char *member, const struct npyhdr *h, uint64_t total,
             struct mg_report *rep)
{
	uint64_t have = total - h->data;
	
	if (have < h->nbytes)
		return mg_report_add(rep, MG_VERDICT_ERROR, "npy.truncated", NULL,
		                     member, h->data, "array data is %llu bytes, "
		                     "shape x itemsize needs %llu",
		                     (unsigned long long)have,
		                     (unsigned long long)h->nbytes);
	if (have > h->nbytes)
		return mg_report_add(rep, MG_VERDICT_UNKNOWN, "npy.trailing", NULL,
		                     member, h->data + h->nbytes, "%llu bytes "
		                     "after the array data (np.load ignores them)",
		                     (unsigned long long)(have - h->nbytes));
	return MG_OK;
}

enum mg_err
mg_npy_scan(const struct mg_scan_opts *o, const char *name,
            const char *member, const uint8_t *buf, size_t len,
            unsigned depth, struct mg_report *rep)
{
	struct npyhdr h;
	enum mg_err err;

	if ((err = read_header(buf, len, member, rep, &h)) != MG_OK)
		return err;
	if (h.obj && h.data > 0)
		return scan_objects(o, name, member, buf, len, &h, depth, rep);
	if (!h.parsed)
		return MG_OK;
	return check_length(member, &h, len, rep);
}

enum mg_err
mg_npy_scan_prefix(const struct mg_scan_opts *o, const char *member,
                   const uint8_t *buf, size_t plen, uint64_t total,
                   struct mg_report *rep, int *whole)
{
	struct mg_report *tmp;
	struct npyhdr h;
	enum mg_err err;

	(void)o;
	*whole = 0;
	/* The header is judged into a scratch report first: if it turns out
	 * to hold objects, the caller rescans the whole member and every
	 * finding would otherwise be reported twice. */
	if ((tmp = mg_report_new()) == NULL)
		return MG_ERR_NOMEM;
	err = read_header(buf, plen, member, tmp, &h);
	if (err == MG_OK && h.obj)
		*whole = 1;
	else if (err == MG_OK && tmp->nfindings == 0 && h.parsed)
		err = check_length(member, &h, total, rep);
	else
		*whole = 1;     /* a bad header: let mg_npy_scan say so */
	mg_report_free(tmp);
	return err;
}
