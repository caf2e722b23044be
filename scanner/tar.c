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

/* Octal (or GNU base-256) number field. */
static int
tar_num(const uint8_t *p, size_t n, uint64_t *v)
{
	size_t i = 0;

	*v = 0;
	if (p[0] & 0x80) {
		for (i = 1; i < n; i++) {
			if (*v >> 55)
				return -1;
			*v = *v << 8 | p[i];
		}
		return (p[0] & 0x7f) ? -1 : 0;
	}
	while (i < n && (p[i] == ' ' || p[i] == '\0'))
		i++;
	for (; i < n && p[i] >= '0' && p[i] <= '7'; i++)
		*v = *v << 3 | (uint64_t)(p[i] - '0');
	return 0;
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

/* A PAX record set ("LEN key=value\n", LEN counting the whole record):
 * take path= and size= for the next member. */
static void
pax_records(const uint8_t *d, size_t n, char *name, uint64_t *size)
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
		if (eq - r == 4 && memcmp(r, "path", 4) == 0 && j < TAR_NAME_MAX) {
			memcpy(name, eq + 1, j);
			name[j] = '\0';
		} else if (eq - r == 4 && memcmp(r, "size", 4) == 0) {
			*size = strtoull((const char *)eq + 1, NULL, 10);
		}
		i += rl;
	}
}

/* The member name of header @h: ustar prefix + name. */
static void
header_name(const uint8_t *h, char *out)
{
	size_t pl = strnlen((const char *)h + 345, 155);
	size_t nl = strnlen((const char *)h, 100);

	if (memcmp(h + 257, "ustar", 5) == 0 && pl > 0) {
		memcpy(out, h + 345, pl);
		out[pl] = '/';
		memcpy(out + pl + 1, h, nl);
		out[pl + 1 + nl] = '\0';
	} else {
		memcpy(out, h, nl);
		out[nl] = '\0';
	}
}

static enum mg_err
walk_tar(struct tarscan *t, const uint8_t *buf, size_t len)
{
	char name[TAR_NAME_MAX], next[TAR_NAME_MAX];
	uint64_t size, padded, nsize = UINT64_MAX;
	size_t off = 0;
	unsigned members = 0;
	enum mg_err err = MG_OK;
	uint8_t type;

	next[0] = '\0';
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
		if (tar_num(h + 124, 12, &size) != 0 || size > len - off - 512)
			return mg_report_add(t->rep, MG_VERDICT_ERROR,
			                     "tar.truncated", NULL, t->parent, off,
			                     "tar member runs past the end of the "
			                     "archive");
		type = h[156];
		header_name(h, name);
		if (type == 'x' || type == 'L') {
			if (type == 'x')
				pax_records(h + 512, (size_t)size, next, &nsize);
			else if (size < TAR_NAME_MAX) {
				memcpy(next, h + 512, (size_t)size);
				next[size] = '\0';
			}
		} else {
			if (next[0] != '\0')
				memcpy(name, next, sizeof(name));
			if (nsize != UINT64_MAX && nsize <= len - off - 512)
				size = nsize;
			if (type == '0' || type == '\0' || type == '7')
				err = scan_member(t, name, h + 512, (size_t)size);
			next[0] = '\0', nsize = UINT64_MAX;
		}
		/* size <= len - off - 512 was checked; the padding may run
		 * past a truncated end, which then simply ends the walk. */
		padded = (size + 511) / 512 * 512;
		off = padded > len - off - 512 ? len : off + 512 + (size_t)padded;
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
