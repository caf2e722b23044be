/*
 * gguf.c - GGUF files: bounds of the header, and the chat templates.
 *
 * GGUF (llama.cpp) is data: a header, typed metadata key/values, tensor
 * infos, tensor bytes.  What runs is the Jinja chat template stored under
 * tokenizer.chat_template (and tokenizer.chat_template.<name>): loaders
 * such as llama-cpp-python render it with Jinja, and a template that
 * climbs from a Jinja object to Python internals (__class__, __globals__,
 * __builtins__, __import__('os').popen(...)) runs code when the model is
 * loaded and used (CVE-2024-34359, fixed by sandboxing; other loaders
 * repeat the mistake).  Such a template is dangerous; a plain one clean.
 *
 * Template check, rejected alternatives first: parsing Jinja and tracking
 * values would miss what a different Jinja version accepts; matching only
 * the literal "__class__" misses '__cla' ~ 'ss__', ['__cla','ss__']|join,
 * '\x5f\x5fclass\x5f\x5f', '__CLASS__'|lower and '__ssalc__'|reverse.  So
 * the template is looked at three ways: as written; "squashed" (escapes
 * decoded, lowercased, quotes, blanks and the joining operators ~ + , ( )
 * [ ] removed) where split names join up again; and reversed.  A
 * double underscore in any view, a dunder or process name (popen, eval,
 * exec, subprocess, os.) as a word, the attr filter (attribute access by
 * computed name), underscores made by %c, '_' * 2, |replace or by slicing
 * a stringified object, or the Jinja globals lipsum/cycler/joiner (the
 * classic route to function globals) make it dangerous.  No chat template
 * we know of needs any of these.  It is a heuristic: a construction it
 * does not know stays possible, which is why templates are also a reason
 * to render them sandboxed (ImmutableSandboxedEnvironment) downstream.
 *
 * Header parsing is bounded by the bytes left: every count is checked
 * against the smallest encoding of that many items before any loop, nested
 * arrays stop at GGUF_MAX_NEST, and tensor infos are walked only to prove
 * they fit.  Work is linear in the header size, never in tensor bytes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "formats.h"

#define GGUF_MAX_NEST 4 /* llama.cpp reads no nested arrays at all */
#define GGUF_MAX_DIMS 8 /* GGML_MAX_DIMS is 4; leave headroom */

enum gguf_type {
	GT_U8, GT_I8, GT_U16, GT_I16, GT_U32, GT_I32, GT_F32, GT_BOOL,
	GT_STRING, GT_ARRAY, GT_U64, GT_I64, GT_F64, GT_COUNT,
};

/* Encoded size of each fixed-size type; 0 for string and array. */
static const uint8_t gguf_size[GT_COUNT] = {
	1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8,
};

struct gg {
	const uint8_t *buf;
	size_t len, pos;
	const char *member;
	struct mg_report *rep;
	enum mg_err err;
	int failed;          /* a bounds or format error was reported */
};

/* Report a structural error once; later reads all fail. */
static void
gg_fail(struct gg *g, uint64_t off, const char *what)
{
	enum mg_err e;

	if (g->failed)
		return;
	g->failed = 1;
	e = mg_report_add(g->rep, MG_VERDICT_ERROR, "gguf.invalid", NULL,
	                  g->member, off, "invalid GGUF: %s", what);
	if (e != MG_OK)
		g->err = e;
}

static size_t
left(const struct gg *g)
{
	return g->len - g->pos;
}

/* Read @n bytes little-endian into *v; 0 or -1 (finding added). */
static int
rd(struct gg *g, unsigned n, uint64_t *v, const char *what)
{
	unsigned i;

	if (g->failed || left(g) < n) {
		gg_fail(g, g->pos, what);
		return -1;
	}
	*v = 0;
	for (i = n; i > 0; i--)
		*v = *v << 8 | g->buf[g->pos + i - 1];
	g->pos += n;
	return 0;
}

/* A gguf_string: u64 length then bytes.  Points into the buffer. */
static int
rd_str(struct gg *g, const uint8_t **s, uint64_t *n, const char *what)
{
	if (rd(g, 8, n, what) != 0)
		return -1;
	if (*n > left(g)) {
		gg_fail(g, g->pos - 8, what);
		return -1;
	}
	*s = g->buf + g->pos;
	g->pos += (size_t)*n;
	return 0;
}

static int skip_value(struct gg *g, uint64_t type, unsigned nest);

static int
skip_array(struct gg *g, unsigned nest)
{
	uint64_t type, count, i;

	if (rd(g, 4, &type, "array truncated") != 0 ||
	    rd(g, 8, &count, "array truncated") != 0)
		return -1;
	if (type >= GT_COUNT) {
		gg_fail(g, g->pos - 12, "array of an unknown type");
		return -1;
	}
	if (type == GT_ARRAY && nest >= GGUF_MAX_NEST) {
		gg_fail(g, g->pos - 12, "arrays nested too deep");
		return -1;
	}
	if (gguf_size[type] != 0) {
		/* Fixed-size elements: one bounds check, no loop. */
		if (count > left(g) / gguf_size[type]) {
			gg_fail(g, g->pos - 8, "array runs past the end of the file");
			return -1;
		}
		g->pos += (size_t)(count * gguf_size[type]);
		return 0;
	}
	/* Why 8 (strings) and 12 (arrays): their smallest encodings, so a
	 * hostile count fails here instead of looping 2^64 times. */
	if (count > left(g) / (type == GT_STRING ? 8 : 12)) {
		gg_fail(g, g->pos - 8, "array count larger than the file");
		return -1;
	}
	for (i = 0; i < count; i++)
		if (skip_value(g, type, nest + 1) != 0)
			return -1;
	return 0;
}

static int
skip_value(struct gg *g, uint64_t type, unsigned nest)
{
	const uint8_t *s;
	uint64_t n;

	if (type >= GT_COUNT) {
		gg_fail(g, g->pos, "metadata value of an unknown type");
		return -1;
	}
	if (type == GT_STRING)
		return rd_str(g, &s, &n, "string runs past the end of the file");
	if (type == GT_ARRAY)
		return skip_array(g, nest);
	if (left(g) < gguf_size[type]) {
		gg_fail(g, g->pos, "value truncated");
		return -1;
	}
	g->pos += gguf_size[type];
	return 0;
}

/* --- chat templates ------------------------------------------------------ */

/* Fragments only a template escaping to Python needs; matched in every
 * view, so split, escaped, upper-cased and reversed spellings count. */
static const char *const tpl_needles[] = {
	"__", "_templatereference", "%c", "lipsum", "cycler", "joiner",
	"popen", "subprocess", "getattr", "globals", "builtins", "subclasses",
	".mro",
	"_*", "*_",      /* '_' * 2 */
	"string)[",      /* characters cut out of a stringified object */
};

/* Words (identifier-bounded, in the lowercase view only: prose such as
 * "important" or "attribute" must not match). */
static const char *const tpl_words[] = {
	"attr", "eval", "exec", "import", "mro",
};

/* Decode the escape at s[*i] ('\\' seen) into a byte, or -1 if none. */
static int
unescape(const uint8_t *s, size_t n, size_t *i)
{
	size_t j = *i + 1, k, digits;
	int v = 0, base, d;

	if (j >= n)
		return -1;
	if (s[j] == 'x' || s[j] == 'u' || s[j] == 'U') {
		digits = s[j] == 'x' ? 2 : s[j] == 'u' ? 4 : 8;
		base = 16;
		j++;
	} else if (s[j] >= '0' && s[j] <= '7') {
		digits = 3;
		base = 8;
	} else {
		return -1;
	}
	for (k = 0; k < digits; k++) {
		d = j + k < n ? mg_hexval(s[j + k]) : -1;
		if (d < 0 || d >= base)
			return -1;
		/* Why the cap: only ASCII can spell a Python name here. */
		if (v > 0x7f)
			return -1;
		v = v * base + d;
	}
	*i = j + digits - 1;
	return v > 0 && v < 0x80 ? v : -1;
}

/*
 * Two views of the template: @low (escapes decoded, lowercased) and @sq
 * (@low without quotes, blanks and joining operators).  Both NUL-ended,
 * both at most @n bytes.
 */
static void
views(const uint8_t *s, size_t n, char *low, char *sq)
{
	size_t i, a = 0, b = 0;
	int c;

	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '\\') {
			int d = unescape(s, n, &i);
			if (d >= 0)
				c = d;
		}
		c = tolower(c);
		low[a++] = (char)(c ? c : ' ');
		if (c == 0 || strchr("'\" \t\r\n~+,()[]", c) != NULL)
			continue;
		sq[b++] = (char)c;
	}
	low[a] = sq[b] = '\0';
}

static int
is_ident(int c)
{
	return isalnum(c) || c == '_';
}

/* Offset of @w as a whole word in @s, or -1. */
static long
find_word(const char *s, const char *w)
{
	const char *p = s;
	size_t n = strlen(w);

	while ((p = strstr(p, w)) != NULL) {
		if ((p == s || !is_ident((unsigned char)p[-1])) &&
		    !is_ident((unsigned char)p[n]))
			return p - s;
		p++;
	}
	return -1;
}

static void
reverse(char *s)
{
	size_t i, n = strlen(s);
	char t;

	for (i = 0; i < n / 2; i++) {
		t = s[i];
		s[i] = s[n - 1 - i];
		s[n - 1 - i] = t;
	}
}

/* 1 if a |replace filter in @sq puts an underscore into a string:
 * 'xxclassxx'|replace('x', '_'). */
static int
replace_makes_underscore(const char *sq)
{
	const char *p = sq;

	while ((p = strstr(p, "|replace")) != NULL) {
		for (p += 8; *p != '\0' && strchr("|}%", *p) == NULL; p++)
			if (*p == '_')
				return 1;
	}
	return 0;
}

/* Offset of "os." followed by a name (os.popen, os.system), or -1. */
static long
find_os(const char *s)
{
	long at = 0, w;

	while ((w = find_word(s + at, "os")) >= 0) {
		at += w;
		if (s[at + 2] == '.' && isalpha((unsigned char)s[at + 3]))
			return at;
		at += 2;
	}
	return -1;
}

/* The first needle the template matches, or NULL; *at: offset in @low
 * when the match is in the template as written, else -1. */
static const char *
template_hit(char *low, char *sq, long *at)
{
	const char *p;
	size_t i;

	for (i = 0; i < sizeof(tpl_words) / sizeof(tpl_words[0]); i++)
		if ((*at = find_word(low, tpl_words[i])) >= 0)
			return tpl_words[i];
	if ((*at = find_os(low)) >= 0)
		return "os.";
	for (i = 0; i < sizeof(tpl_needles) / sizeof(tpl_needles[0]); i++) {
		if ((p = strstr(low, tpl_needles[i])) != NULL) {
			*at = p - low;
			return tpl_needles[i];
		}
		if (strstr(sq, tpl_needles[i]) != NULL)
			return tpl_needles[i];
	}
	if (replace_makes_underscore(sq))
		return "|replace";
	/* '__ssalc__'|reverse: the reversed squashed view. */
	reverse(sq);
	for (i = 0; i < sizeof(tpl_needles) / sizeof(tpl_needles[0]); i++)
		if (strstr(sq, tpl_needles[i]) != NULL)
			return tpl_needles[i];
	return NULL;
}

static void
check_template(struct gg *g, const uint8_t *key, size_t keylen,
               const uint8_t *s, size_t n, size_t off)
{
	char *low = malloc(n + 1), *sq = malloc(n + 1);
	const char *hit;
	long at;
	enum mg_err e = MG_OK;

	if (low == NULL || sq == NULL) {
		g->err = MG_ERR_NOMEM;
		goto out;
	}
	views(s, n, low, sq);
	hit = template_hit(low, sq, &at);
	if (hit != NULL)
		e = mg_report_add(g->rep, MG_VERDICT_DANGEROUS,
		                  "gguf.chat_template", NULL, g->member,
		                  off + (at >= 0 ? (uint64_t)at : 0),
		                  "chat template %.*s uses \"%s\": a Jinja route "
		                  "to Python internals (CVE-2024-34359 class)",
		                  (int)(keylen > 200 ? 200 : keylen), key, hit);
	if (e != MG_OK)
		g->err = e;
out:
	free(low);
	free(sq);
}

static int
is_template_key(const uint8_t *k, uint64_t n)
{
	static const char base[] = "tokenizer.chat_template";
	size_t b = sizeof(base) - 1;

	return n >= b && memcmp(k, base, b) == 0 && (n == b || k[b] == '.');
}

/* One key/value pair. */
static int
read_kv(struct gg *g)
{
	const uint8_t *key, *s;
	uint64_t keylen, type, n;
	size_t at = g->pos;

	if (rd_str(g, &key, &keylen, "metadata key truncated") != 0 ||
	    rd(g, 4, &type, "metadata type truncated") != 0)
		return -1;
	if (!is_template_key(key, keylen))
		return skip_value(g, type, 0);
	if (type != GT_STRING) {
		gg_fail(g, at, "chat template is not a string");
		return -1;
	}
	if (rd_str(g, &s, &n, "chat template runs past the end of the "
	           "file") != 0)
		return -1;
	check_template(g, key, (size_t)keylen, s, (size_t)n,
	               (size_t)(s - g->buf));
	return 0;
}

static int
read_tensor_info(struct gg *g)
{
	const uint8_t *name;
	uint64_t n, ndims, v, i;

	if (rd_str(g, &name, &n, "tensor info truncated") != 0 ||
	    rd(g, 4, &ndims, "tensor info truncated") != 0)
		return -1;
	if (ndims > GGUF_MAX_DIMS) {
		gg_fail(g, g->pos - 4, "tensor with too many dimensions");
		return -1;
	}
	for (i = 0; i < ndims; i++)
		if (rd(g, 8, &v, "tensor info truncated") != 0)
			return -1;
	if (rd(g, 4, &v, "tensor info truncated") != 0 ||
	    rd(g, 8, &v, "tensor info truncated") != 0)
		return -1;
	return 0;
}

/* Magic, version and the two counts, bounded by what is left. */
static int
read_header(struct gg *g, uint64_t *ntensors, uint64_t *nkv)
{
	uint64_t version;

	if (g->len < 4 || memcmp(g->buf, "GGUF", 4) != 0) {
		gg_fail(g, 0, "no GGUF magic");
		return -1;
	}
	g->pos = 4;
	if (rd(g, 4, &version, "header truncated") != 0)
		return -1;
	if (version != 2 && version != 3) {
		gg_fail(g, 4, version == 1 ? "GGUF version 1 is not supported" :
		        "unknown GGUF version (or a big-endian file)");
		return -1;
	}
	if (rd(g, 8, ntensors, "header truncated") != 0 ||
	    rd(g, 8, nkv, "header truncated") != 0)
		return -1;
	/* Why 13 and 24: the smallest key/value (8-byte empty key, type,
	 * one byte) and tensor info (empty name, 0 dims, type, offset). */
	if (*nkv > left(g) / 13 || *ntensors > left(g) / 24) {
		gg_fail(g, 8, "tensor or key/value count larger than the file");
		return -1;
	}
	return 0;
}

enum mg_err
mg_gguf_scan(const struct mg_scan_opts *o, const char *name,
             const char *member, const uint8_t *buf, size_t len,
             unsigned depth, struct mg_report *rep)
{
	struct gg g;
	uint64_t ntensors, nkv, i;

	(void)o; (void)name; (void)depth;
	if (rep == NULL || (buf == NULL && len != 0))
		return MG_ERR_INVAL;
	memset(&g, 0, sizeof(g));
	g.buf = buf;
	g.len = len;
	g.member = member;
	g.rep = rep;
	if (read_header(&g, &ntensors, &nkv) != 0)
		return g.err;
	for (i = 0; i < nkv && g.err == MG_OK; i++)
		if (read_kv(&g) != 0)
			return g.err;
	for (i = 0; i < ntensors && g.err == MG_OK; i++)
		if (read_tensor_info(&g) != 0)
			return g.err;
	return g.err;
}
