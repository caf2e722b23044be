/*
 * torch_legacy.c - torch.save(..., _use_new_zipfile_serialization=False),
 * the format of torch < 1.6 and of every .pt/.pth written that way since.
 *
 * Layout (torch/serialization.py, _legacy_save and _legacy_load): five
 * pickles back to back -- the magic number 0x1950a86a20f9469cfc6c, the
 * protocol version, sys_info, the object itself (tensors reach their
 * storages through persistent ids ('storage', StorageType, key, location,
 * numel, view)), and the sorted list of storage keys -- then, for each key
 * in that list, an 8-byte little-endian element count and count x
 * element-size raw bytes.  torch.load unpickles all five, then copies the
 * storages; it never looks past the last one.
 *
 * We scan the five pickles with the analyser (stopping at the first that
 * does not parse: the loader would stop there too, and the analyser has
 * reported it), learn each storage's element size from the persistent ids,
 * and step over the raw storages in sorted key order -- torch writes
 * sorted(keys) and Python's string order is the byte order of UTF-8 --
 * checking the walk lands exactly at the end of the file.  Bytes left over
 * are a finding: torch ignores them, so they can only be there for someone
 * else's loader.
 *
 * Calls on persistent-load results: the analyser flags a call whose callee
 * is not a global ("pickle.call.computed", dangerous) because in general a
 * persistent_load may return anything.  torch's legacy persistent_load is
 * known: ('module', cls, file, source) returns cls -- a value of the same
 * pickle, judged where it was built -- and ('storage', ...) returns a
 * storage (not callable); any other id raises before returning.  So in the
 * object pickle, when every id has one of those shapes and every 'module'
 * id's class is a resolved global, those findings are capped at "unknown"
 * (what torch.save of a whole nn.Module writes); otherwise they stand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "formats.h"
#include "pickle.h"

/* One storage a persistent id names. */
struct lstorage {
	char *key;
	unsigned elsize;     /* 0: the storage type is not one torch has */
	int64_t numel;       /* from the persistent id, -1 unknown */
};

struct legacy {
	struct lstorage *s;
	size_t n, cap;
	int nomem;
	int odd_pid;         /* an id torch's persistent_load would not
	                        answer with a judged global or a storage */
};

/* torch.<Name>Storage element sizes (torch/_utils.py, _element_size). */
static unsigned
storage_elsize(const char *module, const char *name)
{
	static const struct { const char *n; unsigned sz; } t[] = {
		{ "DoubleStorage", 8 }, { "FloatStorage", 4 },
		{ "HalfStorage", 2 }, { "BFloat16Storage", 2 },
		{ "LongStorage", 8 }, { "IntStorage", 4 },
		{ "ShortStorage", 2 }, { "CharStorage", 1 },
		{ "ByteStorage", 1 }, { "BoolStorage", 1 },
		{ "ComplexDoubleStorage", 16 }, { "ComplexFloatStorage", 8 },
		{ "QUInt8Storage", 1 }, { "QInt8Storage", 1 },
		{ "QInt32Storage", 4 }, { "QUInt4x2Storage", 1 },
		{ "QUInt2x4Storage", 1 }, { "UntypedStorage", 1 },
	};
	size_t i;

	if (module == NULL || name == NULL || strcmp(module, "torch") != 0)
		return 0;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(name, t[i].n) == 0)
			return t[i].sz;
	return 0;
}

/* Key of a persistent id as a C string (str, bytes or int). */
static char *
pid_key(const struct mg_pvalue *v)
{
	char num[32];
	char *s;

	if (v->kind == MG_PV_INT) {
		snprintf(num, sizeof(num), "%lld", (long long)v->i);
		return strdup(num);
	}
	if ((v->kind != MG_PV_STR && v->kind != MG_PV_BYTES) ||
	    memchr(v->data, 0, v->len) != NULL)
		return NULL;
	if ((s = malloc(v->len + 1)) == NULL)
		return NULL;
	memcpy(s, v->data, v->len);
	s[v->len] = '\0';
	return s;
}

/* on_persid: remember ('storage', type, key, location, numel, ...). */
static void
on_persid(void *ctx, const struct mg_pvalue *pid)
{
	struct legacy *lg = ctx;
	const struct mg_pvalue *tag, *type;
	struct lstorage *ns;
	char *key;

	if (pid->kind != MG_PV_TUPLE || pid->nitems < 2) {
		lg->odd_pid = 1;
		return;
	}
	tag = pid->items[0], type = pid->items[1];
	if ((tag->kind == MG_PV_STR || tag->kind == MG_PV_BYTES) &&
	    tag->len == 6 && memcmp(tag->data, "module", 6) == 0) {
		if (type->kind != MG_PV_GLOBAL)
			lg->odd_pid = 1;
		return;
	}
	if ((tag->kind != MG_PV_STR && tag->kind != MG_PV_BYTES) ||
	    tag->len != 7 || memcmp(tag->data, "storage", 7) != 0 ||
	    pid->nitems < 5) {
		lg->odd_pid = 1;
		return;
	}
	if ((key = pid_key(pid->items[2])) == NULL)
		return;
	if (lg->n == lg->cap) {
		ns = realloc(lg->s, (lg->cap ? lg->cap * 2 : 64) * sizeof(*ns));
		if (ns == NULL) {
			lg->nomem = 1;
			free(key);
			return;
		}
		lg->s = ns, lg->cap = lg->cap ? lg->cap * 2 : 64;
	}
	lg->s[lg->n].key = key;
	lg->s[lg->n].elsize = type->kind == MG_PV_GLOBAL ?
	                      storage_elsize(type->module, type->name) : 0;
	lg->s[lg->n].numel = pid->items[4]->kind == MG_PV_INT ?
	                     pid->items[4]->i : -1;
	lg->n++;
}

/* Sort by key, keeping the first persistent id of each key (torch builds
 * a storage the first time it meets its key). */
static int
cmp_storage(const void *a, const void *b)
{
	const struct lstorage *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x < y ? -1 : x > y);
}

static void
unique_keys(struct legacy *lg)
{
	size_t i, j = 0;

	if (lg->n == 0)
		return;         /* lg->s is NULL: qsort must not see it */
	qsort(lg->s, lg->n, sizeof(*lg->s), cmp_storage);
	for (i = 0; i < lg->n; i++) {
		if (j > 0 && strcmp(lg->s[j - 1].key, lg->s[i].key) == 0) {
			free(lg->s[i].key);
			continue;
		}
		lg->s[j++] = lg->s[i];
	}
	lg->n = j;
}

/* Step over the raw storages from @off; report where the walk ends. */
static enum mg_err
walk_storages(const struct legacy *lg, const uint8_t *buf, size_t len,
              size_t off, const char *member, struct mg_report *rep)
{
	uint64_t numel;
	size_t i;

	for (i = 0; i < lg->n; i++) {
		if (lg->s[i].elsize == 0)
			return mg_report_add(rep, MG_VERDICT_ERROR,
			                     "torch.storage", NULL, member, off,
			                     "storage '%s' has a type torch does not "
			                     "know; its bytes cannot be accounted for",
			                     lg->s[i].key);
		if (len - off < 8)
			break;
		/* Why the id's count, not the file's: reading 8 bytes per
		 * storage costs a page fault each on a multi-GB file; torch
		 * refuses a file whose count disagrees with the id anyway,
		 * and the walk must still land exactly at the end. */
		numel = lg->s[i].numel >= 0 ? (uint64_t)lg->s[i].numel :
		        mg_le64(buf + off);
		/* Why the division: numel * elsize must not wrap. */
		if (numel > (len - off - 8) / lg->s[i].elsize) {
			off = len + 1;
			break;
		}
		off += 8 + (size_t)numel * lg->s[i].elsize;
	}
	if (off > len || i < lg->n)
		return mg_report_add(rep, MG_VERDICT_ERROR, "torch.truncated",
		                     NULL, member, len, "the file ends inside the "
		                     "raw storages (%zu of %zu read)", i, lg->n);
	if (off < len)
		return mg_report_add(rep, MG_VERDICT_UNKNOWN, "torch.trailing",
		                     NULL, member, off, "%zu bytes after the last "
		                     "storage; torch.load ignores them",
		                     len - off);
	return MG_OK;
}

/* Copy the object pickle's report into @dst (see the top comment). */
static enum mg_err
merge_object(struct mg_report *dst, const struct mg_report *src,
             const struct legacy *lg)
{
	const struct mg_finding *f;
	enum mg_verdict v;
	enum mg_err err = MG_OK;
	size_t i;
	int capped;

	for (i = 0; i < src->nfindings && err == MG_OK; i++) {
		f = &src->findings[i];
		capped = !lg->odd_pid && f->verdict == MG_VERDICT_DANGEROUS &&
		         strcmp(f->rule, "pickle.call.computed") == 0 &&
		         strstr(f->message, "persistent-load result") != NULL;
		v = capped ? MG_VERDICT_UNKNOWN : f->verdict;
		err = mg_report_add(dst, v, f->rule, f->global, f->member,
		                    f->offset, "%s%s", capped ? "torch's legacy "
		                    "persistent_load returns the class its id "
		                    "names (judged on its own): " : "", f->message);
	}
	for (i = 0; i < src->nglobals && err == MG_OK; i++)
		err = mg_report_add_global(dst, src->globals[i].module,
		                           src->globals[i].name,
		                           src->globals[i].verdict);
	/* Findings the report could not store keep their full weight. */
	if (src->dropped > 0 && src->verdict > dst->verdict)
		dst->verdict = src->verdict;
	dst->dropped += src->dropped;
	dst->npickles += src->npickles;
	return err;
}

/* Scan the object pickle (#4) with the storage hook. */
static enum mg_err
scan_object(const struct mg_scan_opts *o, struct legacy *lg,
            const uint8_t *buf, size_t len, const char *mname, size_t off,
            struct mg_report *rep, size_t *end)
{
	struct mg_pickle_hooks hooks = { NULL, on_persid, lg, NULL };
	struct mg_report *tmp = mg_report_new();
	enum mg_err err;

	if (tmp == NULL)
		return MG_ERR_NOMEM;
	err = mg_pickle_scan_one(o, &hooks, buf, len, mname, off, tmp, end);
	if (err == MG_OK)
		err = merge_object(rep, tmp, lg);
	mg_report_free(tmp);
	return err;
}

/* "pickle #N", or "<member>!pickle #N" inside an archive. */
static void
pickle_name(char *out, size_t cap, const char *member, unsigned n)
{
	if (member != NULL)
		snprintf(out, cap, "%s!pickle #%u", member, n);
	else
		snprintf(out, cap, "pickle #%u", n);
}

enum mg_err
mg_torch_legacy_scan(const struct mg_scan_opts *o, const char *name,
                     const char *member, const uint8_t *buf, size_t len,
                     unsigned depth, struct mg_report *rep)
{
	struct legacy lg = { 0 };
	char mname[512];
	size_t off = 0, end, i;
	unsigned k;
	enum mg_err err = MG_OK;

	(void)name;
	if (depth == 0)
		rep->format = "torch-legacy";
	for (k = 1; k <= 5 && err == MG_OK; k++) {
		pickle_name(mname, sizeof(mname), member, k);
		end = 0;
		if (k == 4)
			err = scan_object(o, &lg, buf + off, len - off, mname,
			                  off, rep, &end);
		else
			err = mg_pickle_scan_one(o, NULL, buf + off, len - off,
			                         mname, off, rep, &end);
		/* A pickle ends with STOP; anything else is where the
		 * analyser gave up (and reported why): the loader stops too. */
		if (err != MG_OK || end == 0 || buf[off + end - 1] != '.')
			goto out;
		off += end;
	}
	if (lg.nomem) {
		err = MG_ERR_NOMEM;
		goto out;
	}
	unique_keys(&lg);
	err = walk_storages(&lg, buf, len, off, member, rep);
out:
	for (i = 0; i < lg.n; i++)
		free(lg.s[i].key);
	free(lg.s);
	return err;
}
