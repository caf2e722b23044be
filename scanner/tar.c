/*
 * tar.c - tar archives, above all torch's oldest torch.save format (torch
 * < 0.4), which torch.load still reads first (_legacy_load's tarfile
 * branch in torch/serialization.py).
 *
 * That format has members "sys_info" (never read by the loader), "storages"
 * (a pickled count, then per storage a pickled (key, location, StorageType)
 * followed by an 8-byte element count and the raw bytes, then a pickled
 * list of views), "tensors" (a pickled count, then per tensor a pickled
 * (key, storage_id, type) followed by ndim, 4 padding bytes, sizes, strides
 * and an offset, all raw), and "pickle" (the object, one pickle).  torch
 * unpickles every one of those pickles, so we walk "storages" and
 * "tensors" exactly: each pickle goes through the analyser, each raw part
 * is stepped over.  Two sizes come from pickle values the analyser does not
 * return: the counts (small ints, decoded here from the few opcodes that
 * can encode them) and the storage type (protocol-2 GLOBAL "torch\nXxx
 * Storage\n" inside the args pickle).  What we cannot decode that way is an
 * error finding: the loader would read bytes we could not account for.
 *
 * Other members are scanned when their content is a format we read.  Tar
 * headers: ustar/v7, PAX 'x' records (path, size), GNU 'L' long names; a
 * member whose data runs past the end is a finding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "pickle.h"

#define TAR_NAME_MAX 4096

struct tarscan {
	const struct mg_scan_opts *o;
	const char *name, *parent;
	unsigned depth;
	struct mg_report *rep;
	int torch_members;      /* bit 1 storages, 2 tensors, 4 pickle */
};

/* Python's str.strip() whitespace, in ASCII. */
static int
py_space(uint8_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/*
 * @p[0..n) as Python's int(s, base) reads it (base 8 or 10): stripped, an
 * optional '+', for base 8 an optional "0o", digits with single
 * underscores between them.  Returns -1 where int() raises, and for a
 * negative number (tarfile would take it; nothing honest has one).
 */
static int
py_int(const uint8_t *p, size_t n, unsigned base, uint64_t *v)
{
	size_t i = 0, e = n;
	int digits = 0;

	*v = 0;
	while (i < e && py_space(p[i]))
		i++;
	while (e > i && py_space(p[e - 1]))
		e--;
	if (i < e && p[i] == '+')
		i++;
	if (base == 8 && e - i >= 2 && p[i] == '0' && (p[i + 1] | 0x20) == 'o')
		i += 2, digits = -1;
	for (; i < e; i++) {
		if (p[i] == '_' && digits != 0 && i + 1 < e && p[i + 1] != '_')
			continue;
		if (p[i] < '0' || p[i] >= '0' + base || *v >> 59)
			return -1;
		*v = *v * base + (uint64_t)(p[i] - '0');
		digits = 1;
	}
	return digits == 1 ? 0 : -1;
}

/*
 * A number field as tarfile's nti() reads it: GNU base-256 when the first
 * byte is 0x80 (0xff, negative, is refused here), else the text up to the
 * first NUL read by int(s, 8), empty being 0.  Why exactly: a field tarfile
 * reads as 0 while a looser reader skips the NULs and reads 0o1000 moves
 * every later header, and a member can hide in what one reader takes for
 * data.  Returns -1 where tarfile raises.
 */
static int
tar_num(const uint8_t *p, size_t n, uint64_t *v)
{
	size_t i, e;

	*v = 0;
	if (p[0] == 0x80) {
		for (i = 1; i < n; i++) {
			if (*v >> 55)
				return -1;
			*v = *v << 8 | p[i];
		}
		return 0;
	}
	e = strnlen((const char *)p, n);
	for (i = 0; i < e && py_space(p[i]); i++)
		;
	return i == e ? 0 : py_int(p, e, 8, v);
}

static char *
member_name(const struct tarscan *t, const char *n)
{
	size_t a = t->parent ? strlen(t->parent) + 1 : 0, b = strlen(n);
	char *s = malloc(a + b + 1);

	if (s == NULL)
		return NULL;
	if (t->parent) {
		memcpy(s, t->parent, a - 1);
		s[a - 1] = '!';
	}
	memcpy(s + a, n, b + 1);
	return s;
}

/* The value of a pickle holding only a small int (PROTO? int STOP). */
static int
pickle_small_int(const uint8_t *p, size_t n, uint64_t *v)
{
	size_t i = 0;

	if (n >= 2 && p[0] == 0x80)
		i = 2;
	if (i + 2 <= n && p[i] == 'K' && p[i + 2] == '.')
		return *v = p[i + 1], 0;
	if (i + 3 <= n && p[i] == 'M' && p[i + 3] == '.')
		return *v = (uint64_t)(p[i + 1] | p[i + 2] << 8), 0;
	if (i + 5 <= n && p[i] == 'J' && p[i + 5] == '.' && !(p[i + 4] & 0x80))
		return *v = (uint64_t)p[i + 1] | (uint64_t)p[i + 2] << 8 |
		            (uint64_t)p[i + 3] << 16 | (uint64_t)p[i + 4] << 24, 0;
	return -1;
}

/* Element size of the torch.XxxStorage a protocol-2 args pickle names. */
static unsigned
pickle_storage_elsize(const uint8_t *p, size_t n)
{
	static const struct { const char *g; unsigned sz; } t[] = {
		{ "ctorch\nDoubleStorage\n", 8 }, { "ctorch\nFloatStorage\n", 4 },
		{ "ctorch\nHalfStorage\n", 2 }, { "ctorch\nLongStorage\n", 8 },
		{ "ctorch\nIntStorage\n", 4 }, { "ctorch\nShortStorage\n", 2 },
		{ "ctorch\nCharStorage\n", 1 }, { "ctorch\nByteStorage\n", 1 },
		{ "ctorch\nBoolStorage\n", 1 }, { "ctorch\nBFloat16Storage\n", 2 },
		{ "ctorch\nComplexFloatStorage\n", 8 },
		{ "ctorch\nComplexDoubleStorage\n", 16 },
	};
	size_t i, l;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		l = strlen(t[i].g);
		if (n >= l && memmem(p, n, t[i].g, l) != NULL)
			return t[i].sz;
	}
	return 0;
}

/* Scan one pickle at @*off of member @m; advance past its STOP. */
static int
one_pickle(struct tarscan *t, const char *m, const uint8_t *d, size_t n,
           size_t *off, enum mg_err *err)
{
	size_t end = 0;

	*err = mg_pickle_scan_one(t->o, NULL, d + *off, n - *off, m, *off,
	                          t->rep, &end);
	if (*err != MG_OK || end == 0 || d[*off + end - 1] != '.')
		return -1;
	*off += end;
	return 0;
}

static enum mg_err
walk_fail(struct tarscan *t, const char *m, size_t off, const char *why)
{
	return mg_report_add(t->rep, MG_VERDICT_ERROR, "torch.tar", NULL, m,
	                     off, "%s; torch.load would read bytes modelgate "
	                     "cannot account for", why);
}

/* "storages" (@tensors == 0) or "tensors" (@tensors == 1). */
static enum mg_err
walk_torch_member(struct tarscan *t, const char *m, const uint8_t *d,
                  size_t n, int tensors)
{
	size_t off = 0, start;
	uint64_t count, i, k, ndim;
	unsigned es;
	enum mg_err err;

	start = off;
	if (one_pickle(t, m, d, n, &off, &err))
		return err;
	if (pickle_small_int(d + start, off - start, &count))
		return walk_fail(t, m, start, "the count is not a plain int");
	for (i = 0; i < count; i++) {
		start = off;
		if (one_pickle(t, m, d, n, &off, &err))
			return err;
		if (tensors) {
			if (n - off < 8)
				return walk_fail(t, m, off, "truncated tensor");
			ndim = (uint64_t)(d[off] | d[off + 1] << 8 |
			       d[off + 2] << 16) | (uint64_t)d[off + 3] << 24;
			k = 8 + 16 * ndim + 8;
		} else {
			es = pickle_storage_elsize(d + start, off - start);
			if (es == 0 || n - off < 8)
				return walk_fail(t, m, off, "unknown storage type "
				                 "or truncated storage");
			for (ndim = 0, k = 8; k-- > 0;)
				ndim = ndim << 8 | d[off + k];
			if (ndim > (n - off) / es)
				return walk_fail(t, m, off, "storage runs past the "
				                 "member's end");
			k = 8 + ndim * es;
		}
		if (k > n - off)
			return walk_fail(t, m, off, "raw data runs past the end");
		off += (size_t)k;
	}
	/* storages ends with the pickled list of views. */
	if (!tensors && one_pickle(t, m, d, n, &off, &err))
		return err;
	return MG_OK;
}

static enum mg_err
scan_member(struct tarscan *t, const char *n, const uint8_t *d, size_t len)
{
	enum mg_err err = MG_OK;
	char *m = member_name(t, n);

	if (m == NULL)
		return MG_ERR_NOMEM;
	if (strcmp(n, "storages") == 0) {
		t->torch_members |= 1;
		err = walk_torch_member(t, m, d, len, 0);
	} else if (strcmp(n, "tensors") == 0) {
		t->torch_members |= 2;
		err = walk_torch_member(t, m, d, len, 1);
	} else if (strcmp(n, "pickle") == 0) {
		t->torch_members |= 4;
		err = mg_scan_any(t->o, t->name, m, d, len, t->depth + 1, t->rep);
	} else if (mg_sniff(d, len) != MG_FMT_UNKNOWN) {
		err = mg_scan_any(t->o, t->name, m, d, len, t->depth + 1, t->rep);
	}
	free(m);
	return err;
}

/*
 * What the extended headers before a member say about it, as tarfile
 * applies them: 'x'/'X' records (and GNU 'L' names) to the next member,
 * 'g' records to every later one (_proc_builtin applies tarfile.pax_headers
 * to each member), the next member's own winning.  Sizes are UINT64_MAX
 * where none was given.
 */
struct tarext {
	char name[TAR_NAME_MAX], gname[TAR_NAME_MAX];
	uint64_t size, gsize;
	int after_pax;          /* the member follows an 'x'/'X' header */
	int odd;                /* GNU sparse records, or a negative size */
};

/* A PAX record set ("LEN key=value\n", LEN counting the whole record):
 * path= (its trailing '/' stripped, as _apply_pax_info does) and size=
 * (int(value), 0 where that raises) into @name and @size. */
static void
pax_records(const uint8_t *d, size_t n, char *name, uint64_t *size, int *odd)
{
	size_t i = 0, j, rl;
	const uint8_t *r, *eq;

	while (i < n) {
		for (rl = 0, j = i; j < n && d[j] >= '0' && d[j] <= '9'; j++)
			if ((rl = rl * 10 + (size_t)(d[j] - '0')) > n)
				return;
		if (j == i || j >= n || d[j] != ' ' || rl > n - i || rl < 3 ||
		    d[i + rl - 1] != '\n')
			return;
		r = d + j + 1;
		eq = memchr(r, '=', (size_t)(d + i + rl - r));
		if (eq == NULL)
			return;
		j = (size_t)(d + i + rl - 1 - (eq + 1)); /* value length */
		if (eq - r > 11 && memcmp(r, "GNU.sparse.", 11) == 0)
			*odd = 1;
		if (eq - r == 4 && memcmp(r, "path", 4) == 0 && j < TAR_NAME_MAX) {
			while (j > 0 && eq[j] == '/')
				j--;
			memcpy(name, eq + 1, j);
			name[j] = '\0';
		} else if (eq - r == 4 && memcmp(r, "size", 4) == 0) {
			if (memchr(eq + 1, '-', j) != NULL)
				*odd = 1;
			if (py_int(eq + 1, j, 10, size) != 0)
				*size = 0;
		}
		i += rl;
	}
}

/* Record an extended header ('x', 'X', 'g', 'L' or 'K') in @x. */
static void
ext_header(struct tarext *x, uint8_t type, const uint8_t *d, size_t n)
{
	if (type == 'x' || type == 'X') {
		pax_records(d, n, x->name, &x->size, &x->odd);
		x->after_pax = 1;
	} else if (type == 'g') {
		pax_records(d, n, x->gname, &x->gsize, &x->odd);
	} else if (type == 'L' && n < TAR_NAME_MAX) {
		memcpy(x->name, d, n);
		x->name[n] = '\0';
	}
	/* 'K' is a long link name: nothing we match on. */
}

/*
 * The member name of header @h as tarfile's frombuf() makes it: the name
 * field up to its NUL, an AREGTYPE whose name ends in '/' a directory
 * (*@type becomes '5'), a directory's trailing '/' stripped, and a
 * non-empty prefix field joined in front whatever the magic says.
 */
static void
header_name(const uint8_t *h, char *out, uint8_t *type)
{
	size_t pl = strnlen((const char *)h + 345, 155);
	size_t nl = strnlen((const char *)h, 100);

	memcpy(out, h, nl);
	out[nl] = '\0';
	if (*type == '\0' && nl > 0 && out[nl - 1] == '/')
		*type = '5';
	while (*type == '5' && nl > 0 && out[nl - 1] == '/')
		out[--nl] = '\0';
	if (pl > 0) {
		memmove(out + pl + 1, out, nl + 1);
		memcpy(out, h + 345, pl);
		out[pl] = '/';
	}
}

/* tarfile's SUPPORTED_TYPES; a member of any other type is read as a
 * regular file (_proc_builtin skips its data, extractfile serves it). */
static int
known_type(uint8_t type)
{
	return type == '\0' || (type >= '0' && type <= '7') || type == 'L' ||
	       type == 'K' || type == 'S';
}

static int
torch_name(const char *n)
{
	return strcmp(n, "storages") == 0 || strcmp(n, "tensors") == 0 ||
	       strcmp(n, "pickle") == 0;
}

/*
 * One member header @h (not an extended one) with header size @hsize and
 * @avail bytes after the header: scan what tarfile would serve for it and
 * set *@skip to the data tarfile steps over.  Only regular and unknown
 * types have data: tarfile reads the next header right after a link,
 * directory or device header, whatever its size field says.
 */
static enum mg_err
tar_member(struct tarscan *t, struct tarext *x, const uint8_t *h,
           uint64_t hsize, size_t avail, size_t off, uint64_t *skip)
{
	char name[TAR_NAME_MAX + 160];
	uint8_t type = h[156];
	uint64_t rsize = hsize;
	int data, set;

	header_name(h, name, &type);
	if (x->gname[0] != '\0')
		memcpy(name, x->gname, sizeof(x->gname));
	if (x->name[0] != '\0')
		memcpy(name, x->name, sizeof(x->name));
	set = x->size != UINT64_MAX || x->gsize != UINT64_MAX;
	rsize = x->size != UINT64_MAX ? x->size :
	        x->gsize != UINT64_MAX ? x->gsize : hsize;
	data = type == '0' || type == '\0' || type == '7' || !known_type(type);
	/* A pax size moves the data end only for a member after 'x'. */
	*skip = !data ? 0 : (x->after_pax && set) ? rsize : hsize;
	x->name[0] = '\0', x->size = UINT64_MAX, x->after_pax = 0;
	if ((type == '1' || type == '2') && torch_name(name))
		return mg_report_add(t->rep, MG_VERDICT_ERROR, "tar.link", NULL,
		                     t->parent, off, "tar member '%s' is a link: "
		                     "torch.load would read another member's (or "
		                     "another file's) bytes under that name", name);
	if (!data)
		return MG_OK;
	if (rsize > avail || *skip > avail)
		return mg_report_add(t->rep, MG_VERDICT_ERROR, "tar.truncated",
		                     NULL, t->parent, off, "tar member runs past "
		                     "the end of the archive");
	return scan_member(t, name, h + 512, (size_t)rsize);
}

/* What a header tarfile reads differently (GNU sparse data, a negative
 * size) or refuses gets: an error, not a guess. */
static enum mg_err
tar_odd(struct tarscan *t, size_t off, const char *why)
{
	return mg_report_add(t->rep, MG_VERDICT_ERROR, "tar.header", NULL,
	                     t->parent, off, "tar header at offset %zu: %s",
	                     off, why);
}

/*
 * Walk the headers as Python's tarfile does (torch's legacy tar branch and
 * pandas' tar reader use it): see tar_member() for which members have
 * data, tarext for what extended headers apply to.
 */
static enum mg_err
walk_tar(struct tarscan *t, const uint8_t *buf, size_t len)
{
	struct tarext x = { "", "", UINT64_MAX, UINT64_MAX, 0, 0 };
	uint64_t size, skip;
	size_t off = 0, avail;
	unsigned members = 0;
	enum mg_err err = MG_OK;
	uint8_t type;

	while (err == MG_OK && len - off >= 512) {
		const uint8_t *h = buf + off;

		/* tarfile ends at an all-zero block, not at an empty name:
		 * members after a nameless header are still read. */
		if (h[0] == '\0' && memcmp(h, h + 1, 511) == 0)
			break;
		if (++members > t->o->max_members)
			return mg_report_add(t->rep, MG_VERDICT_ERROR, "tar.limit",
			                     NULL, t->parent, off, "more members "
			                     "than the member cap");
		avail = len - off - 512;
		type = h[156];
		if (tar_num(h + 124, 12, &size) != 0)
			return tar_odd(t, off, "a size field tarfile refuses");
		if (type == 'S' || x.odd)
			return tar_odd(t, off, "a GNU sparse member or a negative "
			               "pax size (read otherwise by tarfile)");
		if (strchr("xXgLK", type) != NULL && type != '\0') {
			if (size > avail)
				return mg_report_add(t->rep, MG_VERDICT_ERROR,
				                     "tar.truncated", NULL, t->parent,
				                     off, "tar member runs past the "
				                     "end of the archive");
			ext_header(&x, type, h + 512, (size_t)size);
			skip = size;
		} else {
			err = tar_member(t, &x, h, size, avail, off, &skip);
		}
		/* skip <= avail was checked; the padding may run past a
		 * truncated end, which then simply ends the walk. */
		skip = (skip + 511) / 512 * 512;
		off = skip > avail ? len : off + 512 + (size_t)skip;
	}
	return err;
}

enum mg_err
mg_tar_scan(const struct mg_scan_opts *o, const char *name,
            const char *member, const uint8_t *buf, size_t len,
            unsigned depth, struct mg_report *rep)
{
	struct tarscan t = { o, name, member, depth, rep, 0 };
	enum mg_err err;

	err = walk_tar(&t, buf, len);
	if (depth == 0)
		rep->format = t.torch_members == 7 ? "torch-tar" : "tar";
	return err;
}
