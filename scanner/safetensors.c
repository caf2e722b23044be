/*
 * safetensors.c - validate a .safetensors header as the reference does.
 *
 * safetensors holds no code: an 8-byte little-endian header length N, N
 * bytes of JSON naming each tensor's dtype, shape and [begin, end) data
 * offsets, then the raw tensor bytes.  The risk is not execution but a
 * file that is not what it claims (a pickle named .safetensors, a header
 * that smuggles offsets pointing outside the data, a parser-confusing
 * header).  So this reader accepts exactly what the reference Rust crate
 * (SafeTensors::read_metadata + Metadata::validate) accepts, and anything
 * else is an error finding with the reason:
 *
 *  - N <= 100,000,000 and 8 + N <= file size;
 *  - the header is UTF-8 JSON, an object, starting with '{' (0.4+);
 *  - "__metadata__" (optional, may be null) maps strings to strings;
 *  - every other key is a tensor: "dtype" one of the reference's dtypes,
 *    "shape" an array of non-negative integers, "data_offsets" exactly two
 *    non-negative integers; other keys in an entry are ignored (serde does);
 *  - sorted by offsets, the tensors tile the data area: each begins where
 *    the previous one ended, begin <= end, end - begin == product(shape) x
 *    dtype size (bits for the sub-byte float types, whole bytes required),
 *    no overflow, and the last end is exactly the end of the file.
 *
 * Stricter than the reference in one way, on purpose: duplicate keys are
 * an error (serde keeps the last; a reader keeping the first would see
 * another tensor table).  Work is O(n log n) in the number of tensors and
 * never touches tensor bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bytes.h"
#include "formats.h"

/* The reference's MAX_HEADER_SIZE. */
#define ST_MAX_HEADER 100000000ull

struct st_dtype {
	const char *name;
	unsigned bits;
};

/* The reference crate's dtypes (0.5/0.6), with their sizes in bits. */
static const struct st_dtype st_dtypes[] = {
	{ "BOOL", 8 }, { "F4", 4 }, { "F6_E2M3", 6 }, { "F6_E3M2", 6 },
	{ "U8", 8 }, { "I8", 8 }, { "F8_E5M2", 8 }, { "F8_E4M3", 8 },
	{ "F8_E8M0", 8 }, { "I16", 16 }, { "U16", 16 }, { "F16", 16 },
	{ "BF16", 16 }, { "I32", 32 }, { "U32", 32 }, { "F32", 32 },
	{ "C64", 64 }, { "F64", 64 }, { "I64", 64 }, { "U64", 64 },
};

struct st_tensor {
	const char *name;
	uint64_t begin, end;
	uint64_t nbytes;  /* product(shape) x dtype size */
};

struct st_ctx {
	const char *member;
	struct mg_report *rep;
	uint64_t hdr_end;  /* 8 + N: where the data area begins in the file */
};

/* An error finding; MG_OK or MG_ERR_NOMEM (a finding is not a failure). */
static enum mg_err
st_bad(struct st_ctx *c, uint64_t off, const char *what, const char *name)
{
	return mg_report_add(c->rep, MG_VERDICT_ERROR, "safetensors.invalid",
	                     NULL, c->member, off, "invalid safetensors: %s%s%.200s%s",
	                     what, name ? " (tensor \"" : "", name ? name : "",
	                     name ? "\")" : "");
}

static unsigned
dtype_bits(const json_t *v)
{
	size_t i;

	if (!json_is_string(v))
		return 0;
	for (i = 0; i < sizeof(st_dtypes) / sizeof(st_dtypes[0]); i++)
		if (strcmp(json_string_value(v), st_dtypes[i].name) == 0 &&
		    strlen(st_dtypes[i].name) == json_string_length(v))
			return st_dtypes[i].bits;
	return 0;
}

/* A JSON integer that fits a u64 and is not negative. */
static int
get_u64(const json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* Number of bits of the tensor: product(shape) x bits; -1 on overflow or
 * a bad shape (*why set). */
static int
shape_bits(const json_t *shape, unsigned bits, uint64_t *out,
           const char **why)
{
	uint64_t n = bits, d;
	const json_t *v;
	size_t i;

	if (!json_is_array(shape)) {
		*why = "shape is not an array";
		return -1;
	}
	json_array_foreach((json_t *)shape, i, v) {
		if (get_u64(v, &d) != 0) {
			*why = "shape holds something other than a "
			       "non-negative integer";
			return -1;
		}
		/* Why a check: the reference fails with ValidationOverflow. */
		if (d != 0 && n > UINT64_MAX / d) {
			*why = "shape x dtype size overflows";
			return -1;
		}
		n *= d;
	}
	*out = n;
	return 0;
}

/* Fill @t from tensor entry @v named @name; -1 with *why on a bad entry. */
static int
parse_tensor(const char *name, const json_t *v, struct st_tensor *t,
             const char **why)
{
	const json_t *offs = json_object_get(v, "data_offsets");
	uint64_t nbits;
	unsigned bits;

	t->name = name;
	if (!json_is_object(v)) {
		*why = "tensor entry is not an object";
		return -1;
	}
	bits = dtype_bits(json_object_get(v, "dtype"));
	if (bits == 0) {
		*why = "dtype missing or not one the reference knows";
		return -1;
	}
	if (shape_bits(json_object_get(v, "shape"), bits, &nbits, why) != 0)
		return -1;
	if (nbits % 8 != 0) {
		*why = "sub-byte tensor does not end on a byte boundary";
		return -1;
	}
	t->nbytes = nbits / 8;
	if (!json_is_array(offs) || json_array_size(offs) != 2 ||
	    get_u64(json_array_get(offs, 0), &t->begin) != 0 ||
	    get_u64(json_array_get(offs, 1), &t->end) != 0) {
		*why = "data_offsets is not two non-negative integers";
		return -1;
	}
	return 0;
}

static int
cmp_tensor(const void *a, const void *b)
{
	const struct st_tensor *x = a, *y = b;

	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

/* NULL when "__metadata__" is null or a string -> string map, else why. */
static const char *
check_metadata(const json_t *meta)
{
	const char *key;
	const json_t *v;

	if (json_is_null(meta))
		return NULL;
	if (!json_is_object(meta))
		return "__metadata__ is not an object";
	json_object_foreach((json_t *)meta, key, v) {
		if (!json_is_string(v))
			return "__metadata__ has a value that is not a string";
	}
	return NULL;
}

/* Sorted by offsets, the tensors must tile [0, datalen) exactly. */
static enum mg_err
check_layout(struct st_ctx *c, struct st_tensor *t, size_t n,
             uint64_t datalen)
{
	uint64_t at = 0;
	size_t i;

	qsort(t, n, sizeof(*t), cmp_tensor);
	for (i = 0; i < n; i++) {
		if (t[i].begin != at || t[i].end < t[i].begin)
			return st_bad(c, c->hdr_end + t[i].begin,
			              t[i].begin < at ? "tensors overlap" :
			              t[i].end < t[i].begin ?
			              "data_offsets end before they begin" :
			              "gap before the tensor's data", t[i].name);
		if (t[i].end - t[i].begin != t[i].nbytes)
			return st_bad(c, c->hdr_end + t[i].begin, "data_offsets "
			              "length is not shape x dtype size",
			              t[i].name);
		at = t[i].end;
	}
	if (at != datalen)
		return st_bad(c, c->hdr_end + at, at > datalen ?
		              "tensor data runs past the end of the file" :
		              "bytes after the last tensor (data area not "
		              "fully covered)", NULL);
	return MG_OK;
}

/* Every entry of the header object @root. */
static enum mg_err
check_entries(struct st_ctx *c, const json_t *root, uint64_t datalen)
{
	struct st_tensor *t;
	const char *key, *why = NULL;
	const json_t *v;
	size_t n = 0;
	enum mg_err err = MG_OK;

	t = calloc(json_object_size(root) + 1, sizeof(*t));
	if (t == NULL)
		return MG_ERR_NOMEM;
	json_object_foreach((json_t *)root, key, v) {
		if (strcmp(key, "__metadata__") == 0) {
			why = check_metadata(v);
			if (why == NULL)
				continue;
			err = st_bad(c, 8, why, NULL);
			goto out;
		}
		if (parse_tensor(key, v, &t[n], &why) != 0) {
			err = st_bad(c, 8, why, key);
			goto out;
		}
		n++;
	}
	err = check_layout(c, t, n, datalen);
out:
	free(t);
	return err;
}

enum mg_err
mg_safetensors_scan(const struct mg_scan_opts *o, const char *name,
                    const char *member, const uint8_t *buf, size_t len,
                    unsigned depth, struct mg_report *rep)
{
	struct st_ctx c = { member, rep, 0 };
	json_error_t jerr;
	json_t *root;
	uint64_t n;
	enum mg_err err;

	(void)o; (void)name; (void)depth;
	if (rep == NULL || (buf == NULL && len != 0))
		return MG_ERR_INVAL;
	if (len < 8)
		return st_bad(&c, 0, "file shorter than the 8-byte header "
		              "length", NULL);
	n = mg_le64(buf);
	if (n > ST_MAX_HEADER)
		return st_bad(&c, 0, "header length over 100,000,000 bytes",
		              NULL);
	if (n > len - 8)
		return st_bad(&c, 0, "header length runs past the end of the "
		              "file", NULL);
	c.hdr_end = 8 + n;
	if (n == 0 || buf[8] != '{')
		return st_bad(&c, 8, "header does not start with '{'", NULL);
	root = json_loadb((const char *)buf + 8, (size_t)n,
	                  JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (root == NULL)
		return mg_report_add(rep, MG_VERDICT_ERROR, "safetensors.invalid",
		                     NULL, member, 8 + (uint64_t)jerr.position,
		                     "invalid safetensors: header is not valid "
		                     "JSON: %s", jerr.text);
	err = check_entries(&c, root, len - c.hdr_end);
	json_decref(root);
	return err;
}
