/*
 * dumb.c - dbm.dumb databases: the values shelve.open() unpickles, found
 * through the ".dir" index exactly as Lib/dbm/dumb.py finds them.
 *
 * A dumb database is two files: X.dir, text lines "%r, %r\n" % (key,
 * (pos, siz)), and X.dat, the values at those offsets (NUL padding
 * between 512-byte blocks).  dumb.py reads every line at open time:
 *     for line in open(X.dir, 'r', encoding='Latin-1'):   # \n \r \r\n
 *         key, pos_and_siz_pair = ast.literal_eval(line.rstrip())
 *         index[key.encode('Latin-1')] = pos_and_siz_pair
 * and a value is f.seek(pos); f.read(siz) of X.dat, which shelve hands to
 * Unpickler(BytesIO(value)).load().  So the index, not the .dat's bytes
 * from offset 0, says what runs: a crafted line can place a value inside
 * another value's bytes (a bytes value whose content is a pickle).
 *
 * What is judged: every (pos, siz) the index names, each as one pickle
 * (mg_dbm_value_scan), with seek/read semantics: a negative pos raises
 * (nothing runs), a pos at or past the end reads b'' (the unpickler
 * raises), a negative siz or None reads to the end.  Every line is
 * judged, also an earlier one the loader overrides with a later line for
 * the same key: more than the loader runs, never less.  A line this
 * parser cannot read as literal_eval would is an error (fail closed),
 * never skipped: the subset read is what dumb.py writes and its close
 * variants (quotes and prefixes, escapes, implicit concatenation, lists
 * for tuples, signs, 0x/0o/0b, underscores, True/False/None, comments);
 * floats, complex numbers, dicts, sets and the rest are errors.
 *
 * Which file is scanned: X.dat when X.dir exists beside it (the values),
 * and X.dir when X.dat exists beside it (the index: dumb.py reads it at
 * shelve.open, before any value) - both give the verdict of the whole
 * database.  Why both: the preload caches a verdict per file identity.  A
 * .dir rewritten after the .dat was judged is a new identity: its open at
 * the next shelve.open is scanned with the .dat of that moment; a .dat
 * rewritten is likewise scanned again with the .dir of its moment.  What
 * this does not close: a process that read an index, then finds the .dat
 * replaced under it, is judged against the .dir on disk, not the one it
 * holds (a concurrent writer, which the README names).
 *
 * Either file is also judged as the file it is (file_view): whatever
 * pickle.load(open(X.dat)) or pickle.load(open(X.dir)) would run counts,
 * and so does a .dir that is both an index and a pickle (a key string can
 * hold binary opcodes).  A .dat that is torch's legacy format is read as
 * that alone (scan.c: torch.load reads several pickles).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "formats.h"
#include "pickle.h"

/* --- one index line, as ast.literal_eval reads it ------------------------- */

enum nkind { N_STR, N_INT, N_BOOL, N_NONE, N_SEQ };

struct node {
	enum nkind kind;
	int64_t i;          /* INT, BOOL */
	size_t off, len;    /* STR: in the scratch */
	int nkids, kid[2];  /* SEQ: the count, the first two */
};

/* Why 16 nodes and depth 8: a line dumb.py writes has 4 nodes at depth 2;
 * a bigger one is no index entry (the unpacking would fail). */
#define MAXN 16
#define MAXDEPTH 8

struct lparse {
	const uint8_t *p, *end;
	uint8_t *scratch;
	size_t sl;
	struct node n[MAXN];
	int nn;
	const char *why;
};

static int
fail(struct lparse *s, const char *why)
{
	if (s->why == NULL)
		s->why = why;
	return -1;
}

/* Between tokens: the tokenizer's blanks (space, tab, form feed), and a
 * comment to the end of the line. */
static void
skip_blank(struct lparse *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	                         *s->p == '\f'))
		s->p++;
	if (s->p < s->end && *s->p == '#')
		s->p = s->end;
}

/* A byte that continues a name or a number: Latin-1 letters above 0x7f
 * are identifier characters too. */
static int
word_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

static int
new_node(struct lparse *s, enum nkind k)
{
	if (s->nn >= MAXN)
		return fail(s, "more values than an index entry has");
	memset(&s->n[s->nn], 0, sizeof(s->n[0]));
	s->n[s->nn].kind = k;
	return s->nn++;
}

/* Append code point @cp to the scratch; the key must encode as Latin-1
 * (key.encode('Latin-1') raises otherwise). */
static int
put(struct lparse *s, unsigned long cp)
{
	if (cp > 0xff)
		return fail(s, "a key character outside Latin-1");
	s->scratch[s->sl++] = (uint8_t)cp;
	return 0;
}

/* \xhh (2), \uhhhh (4), \Uhhhhhhhh (8): exactly @n hex digits. */
static int
hex_escape(struct lparse *s, int n)
{
	unsigned long cp = 0;
	int i, h;

	for (i = 0; i < n; i++) {
		if (s->p >= s->end || (h = mg_hexval(*s->p)) < 0)
			return fail(s, "a truncated \\x, \\u or \\U escape");
		cp = cp * 16 + (unsigned long)h;
		s->p++;
	}
	return put(s, cp);
}

/* After a backslash in a str literal that is not raw. */
static int
escape(struct lparse *s)
{
	static const char simple[] = "\\\\''\"\"a\ab\bf\fn\nr\rt\tv\v";
	unsigned long cp;
	uint8_t c;
	size_t i;
	int k;

	if (s->p >= s->end)
		return fail(s, "a string ends in a backslash");
	c = *s->p++;
	for (i = 0; simple[i] != '\0'; i += 2)
		if ((uint8_t)simple[i] == c)
			return put(s, (uint8_t)simple[i + 1]);
	if (c >= '0' && c <= '7') {
		cp = c - '0';
		for (k = 1; k < 3 && s->p < s->end && *s->p >= '0' &&
		     *s->p <= '7'; k++)
			cp = cp * 8 + (unsigned long)(*s->p++ - '0');
		return put(s, cp);
	}
	if (c == 'x')
		return hex_escape(s, 2);
	if (c == 'u')
		return hex_escape(s, 4);
	if (c == 'U')
		return hex_escape(s, 8);
	if (c == 'N')
		return fail(s, "a \\N{...} escape (not read)");
	/* An unknown escape keeps its backslash (a DeprecationWarning). */
	if (put(s, '\\') != 0)
		return -1;
	return put(s, c);
}

/* One string literal at s->p (its prefix already consumed), appended to
 * the scratch. */
static int
string_lit(struct lparse *s, int raw)
{
	uint8_t q = *s->p;
	int triple = s->end - s->p >= 3 && s->p[1] == q && s->p[2] == q;
	uint8_t c;

	s->p += triple ? 3 : 1;
	for (;;) {
		if (s->p >= s->end)
			return fail(s, "an unterminated string");
		c = *s->p;
		if (c == q && (!triple || (s->end - s->p >= 3 &&
		                           s->p[1] == q && s->p[2] == q))) {
			s->p += triple ? 3 : 1;
			return 0;
		}
		s->p++;
		if (c != '\\') {
			if (put(s, c) != 0)
				return -1;
		} else if (!raw) {
			if (escape(s) != 0)
				return -1;
		} else {
			/* raw: the backslash stays, and so does the byte it
			 * protects (a quote does not end the string) */
			if (s->p >= s->end)
				return fail(s, "an unterminated string");
			if (put(s, '\\') != 0 || put(s, *s->p++) != 0)
				return -1;
		}
	}
}

/* Adjacent string literals, concatenated; at s->p is a quote or a
 * prefix letter.  Only str: a bytes key has no .encode, an f-string is
 * no literal. */
static int
strings(struct lparse *s)
{
	int id = new_node(s, N_STR), raw, first = 1;
	const uint8_t *w;
	size_t n;

	if (id < 0)
		return -1;
	s->n[id].off = s->sl;
	for (;; first = 0) {
		w = s->p;
		while (s->p < s->end && word_byte(*s->p))
			s->p++;
		n = (size_t)(s->p - w);
		if (s->p >= s->end || (*s->p != '\'' && *s->p != '"')) {
			if (first)
				return fail(s, "a name (not a literal)");
			s->p = w;   /* not a prefix: the caller sees it */
			return id;
		}
		raw = n == 1 && (*w == 'r' || *w == 'R');
		if (n > 1 || (n == 1 && !raw && *w != 'u' && *w != 'U'))
			return fail(s, "a bytes or f-string literal");
		if (string_lit(s, raw) != 0)
			return -1;
		s->n[id].len = s->sl - s->n[id].off;
		skip_blank(s);
		if (s->p >= s->end || (*s->p != '\'' && *s->p != '"' &&
		                       !word_byte(*s->p)))
			return id;
	}
}

/* An integer literal (decimal, 0x, 0o, 0b, with single underscores
 * between digits) at s->p, negated when @neg. */
static int
number(struct lparse *s, int neg)
{
	int base = 10, d, id, digits = 0, zero_lead;
	uint64_t v = 0, lim = (uint64_t)INT64_MAX + (neg ? 1 : 0);

	if (s->end - s->p >= 2 && s->p[0] == '0' &&
	    strchr("xXoObB", s->p[1]) != NULL && s->p[1] != '\0') {
		base = (s->p[1] | 0x20) == 'x' ? 16 : (s->p[1] | 0x20) == 'o' ?
		       8 : 2;
		s->p += 2;
		if (s->p < s->end && *s->p == '_')
			s->p++;   /* 0x_1f is valid */
	}
	zero_lead = base == 10 && *s->p == '0';
	for (;;) {
		if (s->p >= s->end || (d = mg_hexval(*s->p)) < 0 || d >= base)
			break;
		if (zero_lead && d != 0)
			return fail(s, "leading zeros in a decimal integer");
		if (v > (lim - (uint64_t)d) / (uint64_t)base)
			return fail(s, "an integer beyond 64 bits");
		v = v * (uint64_t)base + (uint64_t)d;
		digits++;
		s->p++;
		if (s->p < s->end && *s->p == '_') {
			s->p++;
			if (s->p >= s->end || (d = mg_hexval(*s->p)) < 0 ||
			    d >= base)
				return fail(s, "a misplaced underscore");
		}
	}
	if (digits == 0)
		return fail(s, "a number without digits");
	if (s->p < s->end && (word_byte(*s->p) || *s->p == '.'))
		return fail(s, "a float, complex or malformed number");
	if ((id = new_node(s, N_INT)) < 0)
		return -1;
	s->n[id].i = neg ? (int64_t)(0 - v) : (int64_t)v;
	return id;
}

static int value(struct lparse *s, int depth);

/* At the end of a sequence: @close, or the end of the line for 0. */
static int
at_close(const struct lparse *s, uint8_t close)
{
	return close == 0 ? s->p >= s->end :
	       s->p < s->end && *s->p == close;
}

/* Items after an opening bracket up to @close (0: the whole line, a
 * tuple when it has a top-level comma); @paren: one item without a comma
 * is that item, not a tuple. */
static int
items(struct lparse *s, uint8_t close, int paren, int depth)
{
	int id = -1, v, comma = 0, count = 0, kid[2] = { -1, -1 };

	for (;;) {
		skip_blank(s);
		if (at_close(s, close))
			break;
		if ((v = value(s, depth + 1)) < 0)
			return -1;
		if (count < 2)
			kid[count] = v;
		count++;
		skip_blank(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			comma = 1;
			continue;
		}
		if (!at_close(s, close))
			return fail(s, close == 0 ? "text after the value" :
			            "a sequence that does not close");
		break;
	}
	if (close != 0)
		s->p++;
	if (paren && count == 1 && !comma)
		return kid[0];
	if ((id = new_node(s, N_SEQ)) < 0)
		return -1;
	s->n[id].nkids = count;
	s->n[id].kid[0] = kid[0];
	s->n[id].kid[1] = kid[1];
	return id;
}

static int
word(struct lparse *s)
{
	static const struct { const char *w; enum nkind k; int v; } kw[] = {
		{ "True", N_BOOL, 1 }, { "False", N_BOOL, 0 },
		{ "None", N_NONE, 0 },
	};
	const uint8_t *w = s->p;
	size_t n, i;
	int id;

	while (s->p < s->end && word_byte(*s->p))
		s->p++;
	n = (size_t)(s->p - w);
	if (s->p < s->end && (*s->p == '\'' || *s->p == '"')) {
		s->p = w;
		return strings(s);
	}
	for (i = 0; i < 3; i++)
		if (strlen(kw[i].w) == n && memcmp(w, kw[i].w, n) == 0) {
			if ((id = new_node(s, kw[i].k)) < 0)
				return -1;
			s->n[id].i = kw[i].v;
			return id;
		}
	return fail(s, "a name (not a literal)");
}

static int
value(struct lparse *s, int depth)
{
	uint8_t c;
	int neg;

	if (depth > MAXDEPTH)
		return fail(s, "values nested deeper than an index entry");
	skip_blank(s);
	if (s->p >= s->end)
		return fail(s, "a value was expected");
	c = *s->p;
	if (c == '(' || c == '[') {
		s->p++;
		return items(s, c == '(' ? ')' : ']', c == '(', depth);
	}
	if (c == '\'' || c == '"')
		return strings(s);
	if (c == '+' || c == '-') {
		/* one sign on a number literal (literal_eval's UnaryOp) */
		neg = c == '-';
		s->p++;
		skip_blank(s);
		if (s->p >= s->end || *s->p < '0' || *s->p > '9')
			return fail(s, "a sign not on a number literal");
		return number(s, neg);
	}
	if (c >= '0' && c <= '9')
		return number(s, 0);
	if (word_byte(c))
		return word(s);
	return fail(s, "a character no literal has here");
}

/* Whitespace str.rstrip() removes, for a Latin-1 character. */
static int
py_space(uint8_t c)
{
	return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) ||
	       c == 0x85 || c == 0xa0;
}

/* An int the loader's seek/read accept: int or bool. */
static int
as_int(const struct node *n, int64_t *v)
{
	if (n->kind != N_INT && n->kind != N_BOOL)
		return -1;
	*v = n->i;
	return 0;
}

int
mg_dumb_parse_line(const uint8_t *line, size_t n, uint8_t *scratch,
                   struct mg_dumb_entry *e, const char **why)
{
	struct lparse s;
	const struct node *top, *pair, *key;
	int t;

	memset(&s, 0, sizeof(s));
	memset(e, 0, sizeof(*e));
	while (n > 0 && py_space(line[n - 1]))
		n--;
	if (memchr(line, '\0', n) != NULL) {
		*why = "a NUL byte (compile() refuses it)";
		return -1;
	}
	s.p = line;
	s.end = line + n;
	s.scratch = scratch;
	/* literal_eval strips leading spaces and tabs; the rest of a line
	 * is one expression: a tuple when it has a top-level comma. */
	while (s.p < s.end && (*s.p == ' ' || *s.p == '\t'))
		s.p++;
	if ((t = items(&s, 0, 1, 0)) < 0) {
		*why = s.why;
		return -1;
	}
	top = &s.n[t];
	if (top->kind != N_SEQ || top->nkids != 2) {
		*why = "not a (key, (pos, siz)) pair";
		return -1;
	}
	key = &s.n[top->kid[0]];
	pair = &s.n[top->kid[1]];
	if (key->kind != N_STR) {
		*why = "the key is not a str";
		return -1;
	}
	if (pair->kind != N_SEQ || pair->nkids != 2 ||
	    as_int(&s.n[pair->kid[0]], &e->pos) != 0) {
		*why = "the position is not an (int, int) pair";
		return -1;
	}
	if (s.n[pair->kid[1]].kind == N_NONE)
		e->siz = -1;
	else if (as_int(&s.n[pair->kid[1]], &e->siz) != 0) {
		*why = "the size is neither an int nor None";
		return -1;
	}
	e->key = scratch + key->off;
	e->klen = key->len;
	return 0;
}

/* --- the database --------------------------------------------------------- */

/* Why 64 MiB: an index line is ~30 bytes, so two million keys; a bigger
 * .dir is refused (an error) rather than read into memory. */
#define DUMB_DIR_MAX ((size_t)64 << 20)

/* @name ends with @ext (".dir", ".dat": dumb.py's names, case and all)
 * after at least one character. */
static int
has_ext(const char *name, const char *ext)
{
	size_t n = name != NULL ? strlen(name) : 0;

	return n > 4 && strcmp(name + n - 4, ext) == 0 && name[n - 5] != '/';
}

/* @name with its last four bytes replaced by @ext; NULL when out of
 * memory. */
static char *
sibling(const char *name, const char *ext)
{
	size_t n = strlen(name);
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, name, n - 4);
		memcpy(s + n - 4, ext, 5);
	}
	return s;
}

static int
regular_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int
mg_dumb_applies(const char *name, int *is_dir)
{
	const char *ext;
	char *sib;
	int r;

	if (has_ext(name, ".dat"))
		ext = ".dir", *is_dir = 0;
	else if (has_ext(name, ".dir"))
		ext = ".dat", *is_dir = 1;
	else
		return 0;
	if ((sib = sibling(name, ext)) == NULL)
		return 1;   /* out of memory: mg_dumb_scan says so */
	r = regular_file(sib);
	free(sib);
	return r;
}

/* The bytes of the file @path (at most @cap), mapped or read; *@len its
 * length.  NULL with errno set on failure, EFBIG past @cap. */
static uint8_t *
load_file(const char *path, size_t cap, size_t *len, int *mapped)
{
	struct stat st;
	uint8_t *b = NULL;
	size_t got = 0;
	ssize_t k;
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;

	*mapped = 0;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0)
		goto out;
	if ((uint64_t)st.st_size > cap) {
		errno = EFBIG;
		goto out;
	}
	*len = (size_t)st.st_size;
	if (*len > ((size_t)64 << 10)) {
		b = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (b == MAP_FAILED)
			b = NULL;
		*mapped = b != NULL;
		goto out;
	}
	if ((b = malloc(*len + 1)) == NULL)
		goto out;
	while (got < *len && (k = pread(fd, b + got, *len - got,
	                                (off_t)got)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			free(b);
			b = NULL;
			goto out;
		}
		got += (size_t)k;
	}
	*len = got;   /* a file that shrank is read as far as it goes */
out:
	e = errno;
	close(fd);
	errno = e;
	return b;
}

static void
unload(uint8_t *b, size_t len, int mapped)
{
	if (mapped)
		munmap(b, len);
	else
		free(b);
}

struct dumb {
	const struct mg_scan_opts *o;
	const char *name;
	struct mg_report *rep;
	unsigned long entries, inert, skipped;
	uint64_t work, work_max;
	uint64_t zero_end;        /* where the entries at offset 0 end */
};

/* One index entry against the .dat @dat[0..@dlen). */
static enum mg_err
judge_entry(struct dumb *d, const struct mg_dumb_entry *e,
            const uint8_t *dat, size_t dlen)
{
	char member[256];
	uint64_t n;

	if (e->pos < 0 || (uint64_t)e->pos >= dlen) {
		/* seek raises, or read gives b'' and the unpickler raises */
		d->skipped++;
		return MG_OK;
	}
	n = dlen - (uint64_t)e->pos;
	if (e->siz >= 0 && (uint64_t)e->siz < n)
		n = (uint64_t)e->siz;
	if (e->pos == 0 && n > d->zero_end)
		d->zero_end = n;
	/* Why a cap on the sum: entries may overlap (that is the trick this
	 * reader exists for); a benign index names each byte once. */
	if ((d->work += n) > d->work_max)
		return mg_report_add(d->rep, MG_VERDICT_ERROR, "format.dbm",
		                     NULL, NULL, (uint64_t)e->pos, "the dbm.dumb "
		                     "index names overlapping values of more "
		                     "than %llu bytes in all; the rest is not "
		                     "judged", (unsigned long long)d->work_max);
	mg_dbm_member(member, sizeof(member), e->key, e->klen);
	return mg_dbm_value_scan(d->o, d->name, member, dat + e->pos, (size_t)n,
	                         (uint64_t)e->pos, 0, d->rep, &d->inert);
}

/* Every line of the index @idx[0..@ilen) (universal newlines, as text
 * mode splits them), each judged against the .dat. */
static enum mg_err
judge_index(struct dumb *d, const char *dirname, const uint8_t *idx,
            size_t ilen, const uint8_t *dat, size_t dlen)
{
	struct mg_dumb_entry e;
	uint8_t *scratch = malloc(ilen + 1);
	const char *why = NULL;
	size_t at = 0, end, line = 0;
	enum mg_err err = MG_OK;

	if (scratch == NULL)
		return MG_ERR_NOMEM;
	while (at < ilen && err == MG_OK) {
		for (end = at; end < ilen && idx[end] != '\n' &&
		     idx[end] != '\r'; end++)
			;
		line++;
		if (mg_dumb_parse_line(idx + at, end - at, scratch, &e,
		                       &why) != 0) {
			err = mg_report_add(d->rep, MG_VERDICT_ERROR,
			                    "format.dbm", NULL, NULL, at,
			                    "dbm.dumb index %s, line %zu: %s; "
			                    "dumb.py's literal_eval would read "
			                    "it otherwise or raise, and what that "
			                    "line names is not judged", dirname,
			                    line, why);
			break;
		}
		if (++d->entries > d->o->max_members) {
			err = mg_report_add(d->rep, MG_VERDICT_ERROR,
			                    "format.dbm", NULL, NULL, at,
			                    "dbm.dumb index %s has more than %u "
			                    "entries; the rest is not judged",
			                    dirname, d->o->max_members);
			break;
		}
		err = judge_entry(d, &e, dat, dlen);
		if (end + 1 < ilen && idx[end] == '\r' && idx[end + 1] == '\n')
			end++;
		at = end + 1;
	}
	free(scratch);
	return err;
}

/* @rep already has @f's finding (the entry at offset 0 said it): the
 * same rule, global, offset and message, whatever the member. */
static int
said(const struct mg_report *rep, const struct mg_finding *f)
{
	const struct mg_finding *g;
	size_t i;

	for (i = 0; i < rep->nfindings; i++) {
		g = &rep->findings[i];
		if (g->offset == f->offset && strcmp(g->rule, f->rule) == 0 &&
		    strcmp(g->message, f->message) == 0 &&
		    (g->global == NULL) == (f->global == NULL) &&
		    (g->global == NULL || strcmp(g->global, f->global) == 0))
			return 1;
	}
	return 0;
}

/*
 * @buf read the way every other loader reads a file (today's reading of a
 * pickle file: pickle.load or torch.load of X.dat, or of X.dir, itself).
 * Its errors count only inside the first pickle (for a .dat, also inside
 * the value at offset 0): past it lie NUL padding and further values,
 * which those loaders never reach and the index entries judge.  Its
 * globals and every other finding count wherever, but its clean ones (a
 * .dir's text is inert) say nothing about the database.
 */
static enum mg_err
file_view(struct dumb *d, const uint8_t *dat, size_t dlen)
{
	struct mg_report *t = mg_report_new();
	const struct mg_finding *f;
	uint64_t end0 = d->zero_end;
	size_t i, e = 0;
	enum mg_err err;

	if (t == NULL)
		return MG_ERR_NOMEM;
	/* the first pickle's end, as the plain unpickler reads it */
	err = mg_pickle_scan_one(d->o, NULL, dat, dlen, NULL, 0, t, &e);
	if (e > end0)
		end0 = e;
	mg_report_free(t);
	if (err != MG_OK || (t = mg_report_new()) == NULL)
		return err != MG_OK ? err : MG_ERR_NOMEM;
	/* Why no name: with it, this would come back here. */
	err = mg_scan_any(d->o, NULL, NULL, dat, dlen, 0, t);
	for (i = 0; err == MG_OK && i < t->nfindings; i++) {
		f = &t->findings[i];
		if ((f->verdict == MG_VERDICT_ERROR && f->offset >= end0) ||
		    f->verdict == MG_VERDICT_CLEAN || said(d->rep, f))
			continue;
		err = mg_report_add(d->rep, f->verdict, f->rule, f->global,
		                    f->member, f->offset, "%s", f->message);
	}
	for (i = 0; err == MG_OK && i < t->nglobals; i++)
		err = mg_report_add_global(d->rep, t->globals[i].module,
		                           t->globals[i].name,
		                           t->globals[i].verdict);
	if (err == MG_OK && t->dropped > 0 && (t->seen & ~t->kept &
	    ~(1u << MG_VERDICT_ERROR)) != 0)
		err = mg_report_add(d->rep, MG_VERDICT_DANGEROUS, "format.dbm",
		                    NULL, NULL, 0, "read as a pickle file, the "
		                    ".dat has more findings than were kept");
	d->rep->npickles += t->npickles;
	mg_report_free(t);
	return err;
}

enum mg_err
mg_dumb_scan(const struct mg_scan_opts *o, const char *name, int is_dir,
             const uint8_t *buf, size_t len, struct mg_report *rep)
{
	struct dumb d = { o, name, rep, 0, 0, 0, 0, 0, 0 };
	char *sib = sibling(name, is_dir ? ".dat" : ".dir");
	const uint8_t *idx = buf, *dat = buf;
	size_t ilen = len, dlen = len, slen = 0;
	uint8_t *other = NULL;
	enum mg_err err;
	int mapped = 0;

	if (sib == NULL)
		return MG_ERR_NOMEM;
	rep->format = "dbm.dumb";
	other = load_file(sib, is_dir ? SIZE_MAX : DUMB_DIR_MAX, &slen,
	                  &mapped);
	if (other == NULL) {
		err = mg_report_add(rep, MG_VERDICT_ERROR, "format.dbm", NULL,
		                    NULL, 0, "dbm.dumb database: its %s %s "
		                    "cannot be read (%s); shelve reads it",
		                    is_dir ? "data file" : "index", sib,
		                    strerror(errno));
		goto out;
	}
	if (is_dir)
		dat = other != NULL ? other : (const uint8_t *)"", dlen = slen;
	else
		idx = other != NULL ? other : (const uint8_t *)"", ilen = slen;
	/* Why 16x the .dat plus 64 MiB: overlapping entries are judged
	 * each, but not without bound. */
	d.work_max = 16 * (uint64_t)dlen + ((uint64_t)64 << 20);
	err = judge_index(&d, is_dir ? name : sib, idx, ilen, dat, dlen);
	if (err == MG_OK && is_dir)
		d.zero_end = 0;     /* entries name offsets of the .dat */
	if (err == MG_OK)
		err = file_view(&d, buf, len);
	if (err == MG_OK && d.inert + d.skipped > 0)
		err = mg_report_add(rep, MG_VERDICT_CLEAN, "format.inert", NULL,
		                    NULL, 0, "%lu of the %lu entries of this "
		                    "dbm.dumb index name no pickle shelve could "
		                    "load (empty, outside the .dat, or no "
		                    "pickle): it fails on them before it runs "
		                    "anything", d.inert + d.skipped, d.entries);
out:
	if (other != NULL)
		unload(other, slen, mapped);
	free(sib);
	return err;
}
