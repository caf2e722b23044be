/*
 * check_joblib.c - joblib array bodies in pickle streams (scanner/joblib.c)
 * and the compression wrappers (scanner/compress.c).
 *
 * Streams are built in C with a small builder (protocol 2, or 4 with a
 * FRAME, the way joblib's NumpyPickler writes them): a NumpyArrayWrapper
 * made by NEWOBJ, its state dict with a symbolic numpy.dtype call + BUILD
 * state, then the raw body the loader reads from the file.  Compressed
 * inputs are made with the same libraries the scanner decodes with.  A tiny
 * classifier stands in for the real tables.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bzlib.h>
#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "../../scanner/formats.h"
#include "../../scanner/pickle.h"

/* --- classifier --------------------------------------------------------- */

static enum mg_gclass
classify(void *ctx, const char *module, const char *name, const char **cat)
{
	static const char *allowed[][2] = {
		{ "joblib.numpy_pickle", "NumpyArrayWrapper" },
		{ "numpy", "ndarray" }, { "numpy", "dtype" },
		{ "builtins", "object" }, { "copyreg", "_reconstructor" },
		{ "numpy.core.multiarray", "_reconstruct" },
	};
	size_t i;

	(void)ctx;
	if ((strcmp(module, "posix") == 0 && strcmp(name, "system") == 0) ||
	    (strcmp(module, "builtins") == 0 && strcmp(name, "exec") == 0) ||
	    (strcmp(module, "torch.storage") == 0 &&
	     strcmp(name, "_load_from_bytes") == 0)) {
		*cat = "code execution";
		return MG_GLOBAL_DENIED;
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strcmp(module, allowed[i][0]) == 0 &&
		    strcmp(name, allowed[i][1]) == 0)
			return MG_GLOBAL_ALLOWED;
	return MG_GLOBAL_UNKNOWN;
}

static const struct mg_classifier test_classifier = { classify, NULL };

static struct mg_scan_opts
opts(void)
{
	struct mg_scan_opts o;

	mg_scan_opts_default(&o);
	o.classifier = &test_classifier;
	return o;
}

/* --- stream builder ----------------------------------------------------- */

struct sb {
	uint8_t b[1 << 16];
	size_t n;
};

static void
put(struct sb *s, const void *p, size_t n)
{
	ck_assert_uint_le(s->n + n, sizeof(s->b));
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

static void op(struct sb *s, uint8_t c) { put(s, &c, 1); }

static void
ustr(struct sb *s, const char *str)
{
	uint32_t n = (uint32_t)strlen(str);
	uint8_t le[4] = { n & 0xff, n >> 8 & 0xff, n >> 16 & 0xff, n >> 24 };

	op(s, 'X');
	put(s, le, 4);
	put(s, str, n);
}

static void
bint(struct sb *s, int32_t v)
{
	uint32_t u = (uint32_t)v;
	uint8_t le[4] = { u & 0xff, u >> 8 & 0xff, u >> 16 & 0xff, u >> 24 };

	op(s, 'J');
	put(s, le, 4);
}

static void
global(struct sb *s, const char *mod, const char *name)
{
	op(s, 'c');
	put(s, mod, strlen(mod));
	op(s, '\n');
	put(s, name, strlen(name));
	op(s, '\n');
}

/* numpy.dtype(typestr, False, True) + BUILD (3, '<', None, None, None,
 * elsize, -1, flags), as numpy's reduce writes it; elsize < -1: no BUILD. */
static void
dtype(struct sb *s, const char *typestr, int elsize, int flags)
{
	global(s, "numpy", "dtype");
	ustr(s, typestr);
	op(s, 0x89); op(s, 0x88); op(s, 0x87); op(s, 'R');
	if (elsize < -1)
		return;
	op(s, '(');
	bint(s, 3); ustr(s, "<"); op(s, 'N'); op(s, 'N'); op(s, 'N');
	bint(s, elsize); bint(s, -1); bint(s, flags);
	op(s, 't'); op(s, 'b');
}

/* Alignment attribute: absent, None, or 16. */
enum align { AL_ABSENT, AL_NONE, AL_16 };

/* A NumpyArrayWrapper with BUILD; the body is not written. */
static void
wrapper(struct sb *s, const int *shape, int ndim, const char *typestr,
        int elsize, int flags, const char *order, enum align al)
{
	int i;

	global(s, "joblib.numpy_pickle", "NumpyArrayWrapper");
	op(s, ')'); op(s, 0x81);
	op(s, '}'); op(s, '(');
	ustr(s, "subclass"); global(s, "numpy", "ndarray");
	ustr(s, "shape"); op(s, '(');
	for (i = 0; i < ndim; i++)
		bint(s, shape[i]);
	op(s, 't');
	ustr(s, "order"); ustr(s, order);
	ustr(s, "dtype"); dtype(s, typestr, elsize, flags);
	ustr(s, "allow_mmap"); op(s, 0x88);
	if (al != AL_ABSENT) {
		ustr(s, "numpy_array_alignment_bytes");
		if (al == AL_NONE)
			op(s, 'N');
		else
			bint(s, 16);
	}
	op(s, 'u'); op(s, 'b');
}

/* The body: padding byte + padding (when @pad >= 0), then @n bytes. */
static void
body(struct sb *s, int pad, size_t n, uint8_t fill)
{
	uint8_t buf[4096];
	size_t k;

	memset(buf, 0xff, sizeof(buf));
	if (pad >= 0) {
		op(s, (uint8_t)pad);
		put(s, buf, (size_t)pad);
	}
	memset(buf, fill, sizeof(buf));
	for (; n > 0; n -= k) {
		k = n < sizeof(buf) ? n : sizeof(buf);
		put(s, buf, k);
	}
}

/* os.system("touch x"), appended to the open list. */
static void
payload(struct sb *s)
{
	global(s, "posix", "system");
	ustr(s, "touch x");
	op(s, 0x85); op(s, 'R');
}

static void begin(struct sb *s) { s->n = 0; op(s, 0x80); op(s, 2); op(s, ']'); op(s, '('); }
static void end(struct sb *s) { op(s, 'e'); op(s, '.'); }

/* --- helpers ------------------------------------------------------------ */

static struct mg_report *
scan_stream(const uint8_t *buf, size_t len)
{
	struct mg_scan_opts o = opts();
	struct mg_report *r = mg_report_new();

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(mg_pickle_stream_scan(&o, "t.joblib", NULL, buf, len,
	                                       0, r), MG_OK);
	return r;
}

static int
has_rule(const struct mg_report *r, const char *rule)
{
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		if (strcmp(r->findings[i].rule, rule) == 0)
			return 1;
	return 0;
}

static const struct mg_finding *
rule_finding(const struct mg_report *r, const char *rule)
{
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		if (strcmp(r->findings[i].rule, rule) == 0)
			return &r->findings[i];
	return NULL;
}

#define expect(r, v) do { \
	if ((r)->verdict != (v)) { \
		size_t i_; \
		for (i_ = 0; i_ < (r)->nfindings; i_++) \
			fprintf(stderr, "  finding %s: %s\n", \
			        (r)->findings[i_].rule, (r)->findings[i_].message); \
	} \
	ck_assert_str_eq(mg_verdict_name((r)->verdict), mg_verdict_name(v)); \
} while (0)

/* The stream in @sp scans to @v with a @rule finding. */
#define expect_rule(sp, v, rule) do { \
	struct mg_report *r_ = scan_stream((sp)->b, (sp)->n); \
	expect(r_, v); \
	ck_assert_msg(has_rule(r_, rule), "no %s finding", rule); \
	mg_report_free(r_); \
} while (0)

/* --- array bodies ------------------------------------------------------- */

START_TEST(test_joblib_steps_over_padded_body_then_sees_payload)
{
	static struct sb s;
	int shape[] = { 3, 4 };
	struct mg_report *r;

	begin(&s);
	wrapper(&s, shape, 2, "f8", -1, 0, "C", AL_16);
	body(&s, 9, 3 * 4 * 8, 0x63 /* 'c': GLOBAL if misparsed */);
	payload(&s);
	end(&s);
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "pickle.global.denied"));
	ck_assert(!has_rule(r, "pickle.malformed"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_joblib_clean_bodies_are_clean)
{
	static struct sb s;
	int shape[] = { 2, 3 }, zero[] = { 0, 3 };
	struct mg_report *r;

	begin(&s);
	wrapper(&s, shape, 2, "f4", -1, 0, "C", AL_16);
	body(&s, 16, 24, 0x2e /* '.': STOP if misparsed */);
	wrapper(&s, shape, 2, "i2", -1, 0, "F", AL_16);  /* Fortran order */
	body(&s, 3, 12, 0x00);
	wrapper(&s, zero, 2, "f8", -1, 0, "C", AL_16);   /* empty array */
	body(&s, 1, 0, 0);
	wrapper(&s, NULL, 0, "c16", -1, 0, "C", AL_16);  /* 0-d: one item */
	body(&s, 7, 16, 0x80);
	wrapper(&s, shape, 2, "u1", -1, 0, "C", AL_ABSENT); /* joblib < 1.2 */
	body(&s, -1, 6, 0x01);
	wrapper(&s, shape, 2, "u1", -1, 0, "C", AL_NONE); /* None: no pad */
	body(&s, -1, 6, 0x01);
	end(&s);
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_CLEAN);
	ck_assert_uint_eq(r->nfindings, 0);
	mg_report_free(r);
}
END_TEST

START_TEST(test_joblib_padding_length_is_read_from_the_file)
{
	static struct sb s;
	int shape[] = { 4 };
	struct mg_report *r;

	/* 200 padding bytes: not what the state's 16 implies, but what
	 * read_array skips; the payload after them must be seen. */
	begin(&s);
	wrapper(&s, shape, 1, "i4", -1, 0, "C", AL_16);
	body(&s, 200, 16, 0);
	payload(&s);
	end(&s);
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_DANGEROUS);
	ck_assert(!has_rule(r, "pickle.malformed"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_joblib_flexible_dtype_takes_state_elsize)
{
	static struct sb s;
	int shape[] = { 5 };
	struct mg_report *r;

	/* numpy: dtype('S3') with BUILD elsize 7 has itemsize 7. */
	begin(&s);
	wrapper(&s, shape, 1, "S3", 7, 0, "C", AL_16);
	body(&s, 2, 35, 'a');
	wrapper(&s, shape, 1, "U2", 8, 0, "C", AL_16);
	body(&s, 2, 40, 0);
	wrapper(&s, shape, 1, "V11", 11, 0, "C", AL_16);
	body(&s, 2, 55, 0);
	payload(&s);
	end(&s);
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_DANGEROUS);
	ck_assert(!has_rule(r, "pickle.malformed"));
	ck_assert(!has_rule(r, "joblib.array"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_joblib_dtype_without_build_uses_type_string)
{
	static struct sb s;
	int shape[] = { 3 };
	struct mg_report *r;

	begin(&s);
	wrapper(&s, shape, 1, "U2", -2, 0, "C", AL_16); /* 3 * 8 bytes */
	body(&s, 0, 24, 0);
	end(&s);
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_CLEAN);
	mg_report_free(r);
}
END_TEST

START_TEST(test_joblib_truncated_body_is_error)
{
	static struct sb s;
	int shape[] = { 1000 };

	begin(&s);
	wrapper(&s, shape, 1, "f8", -1, 0, "C", AL_16);
	body(&s, 4, 100, 0);
	expect_rule(&s, MG_VERDICT_ERROR, "joblib.array");
}
END_TEST

START_TEST(test_joblib_missing_padding_byte_is_error)
{
	static struct sb s;
	int shape[] = { 0 };

	begin(&s);
	wrapper(&s, shape, 1, "f8", -1, 0, "C", AL_16);
	expect_rule(&s, MG_VERDICT_ERROR, "joblib.array");
}
END_TEST

START_TEST(test_joblib_unevaluable_wrappers_are_errors)
{
	static const char *bad_types[] = { "f3", "i16", "float32", "x4", "" };
	static struct sb s;
	int shape[] = { 2 };
	struct mg_report *r;
	size_t i;

	for (i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
		begin(&s);
		wrapper(&s, shape, 1, bad_types[i], -1, 0, "C", AL_16);
		body(&s, 0, 64, 0);
		end(&s);
		r = scan_stream(s.b, s.n);
		expect(r, MG_VERDICT_ERROR);
		ck_assert(has_rule(r, "joblib.array"));
		mg_report_free(r);
	}
	/* A flexible dtype with elsize -1 has no size. */
	begin(&s);
	wrapper(&s, shape, 1, "S3", -1, 0, "C", AL_16);
	body(&s, 0, 6, 0);
	end(&s);
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_ERROR);
	mg_report_free(r);
	/* A negative dimension. */
	shape[0] = -1;
	begin(&s);
	wrapper(&s, shape, 1, "f4", -1, 0, "C", AL_16);
	body(&s, 0, 6, 0);
	end(&s);
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_ERROR);
	mg_report_free(r);
}
END_TEST

START_TEST(test_joblib_nonliteral_shape_is_error)
{
	static struct sb s;

	begin(&s);
	global(&s, "joblib.numpy_pickle", "NumpyArrayWrapper");
	op(&s, ')'); op(&s, 0x81); op(&s, '}'); op(&s, '(');
	ustr(&s, "shape"); global(&s, "numpy", "ndarray");
	ustr(&s, "dtype"); dtype(&s, "f4", -1, 0);
	op(&s, 'u'); op(&s, 'b');
	body(&s, -1, 16, 0);
	end(&s);
	expect_rule(&s, MG_VERDICT_ERROR, "joblib.array");
}
END_TEST

/* A list shape: joblib would accept it, but the analyser keeps no list
 * items, so its length is unknown and the body cannot be stepped over. */
START_TEST(test_joblib_list_shape_is_error)
{
	static struct sb s;

	begin(&s);
	global(&s, "joblib.numpy_pickle", "NumpyArrayWrapper");
	op(&s, ')'); op(&s, 0x81); op(&s, '}'); op(&s, '(');
	ustr(&s, "shape"); op(&s, ']'); op(&s, 'K'); op(&s, 4); op(&s, 'a');
	ustr(&s, "dtype"); dtype(&s, "f4", -1, 0);
	op(&s, 'u'); op(&s, 'b');
	body(&s, -1, 16, 0);
	end(&s);
	expect_rule(&s, MG_VERDICT_ERROR, "joblib.array");
}
END_TEST

START_TEST(test_joblib_wrapper_called_with_args_is_error)
{
	static struct sb s;

	/* REDUCE with arguments runs __init__: attributes not modelled. */
	begin(&s);
	global(&s, "joblib.numpy_pickle", "NumpyArrayWrapper");
	bint(&s, 1); op(&s, 0x85); op(&s, 'R');
	op(&s, '}'); op(&s, 'b');
	end(&s);
	expect_rule(&s, MG_VERDICT_ERROR, "joblib.array");
}
END_TEST

START_TEST(test_joblib_reconstructor_wrapper_protocol1)
{
	static struct sb s;
	struct mg_report *r;

	/* copyreg._reconstructor(cls, object, None), as protocols 0/1 do. */
	begin(&s);
	global(&s, "copy_reg", "_reconstructor");
	op(&s, '(');
	global(&s, "joblib.numpy_pickle", "NumpyArrayWrapper");
	global(&s, "__builtin__", "object");
	op(&s, 'N'); op(&s, 't'); op(&s, 'R');
	op(&s, '}'); op(&s, '(');
	ustr(&s, "shape"); op(&s, '('); bint(&s, 3); op(&s, 't');
	ustr(&s, "dtype"); dtype(&s, "i8", -1, 0);
	ustr(&s, "numpy_array_alignment_bytes"); bint(&s, 16);
	op(&s, 'u'); op(&s, 'b');
	body(&s, 5, 24, 'c');
	payload(&s);
	end(&s);
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_DANGEROUS);
	ck_assert(!has_rule(r, "pickle.malformed"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_joblib_body_after_frame_end)
{
	static struct sb s;
	int shape[] = { 8 };
	size_t flen_at, start;
	uint64_t flen;
	struct mg_report *r;
	int i;

	/* Protocol 4: the wrapper sits in a FRAME; joblib commits the frame
	 * before writing the body, so the body follows the frame. */
	s.n = 0;
	op(&s, 0x80); op(&s, 4);
	op(&s, 0x95); flen_at = s.n; put(&s, "\0\0\0\0\0\0\0\0", 8);
	start = s.n;
	op(&s, ']'); op(&s, '(');
	wrapper(&s, shape, 1, "f4", -1, 0, "C", AL_16);
	flen = s.n - start;
	for (i = 0; i < 8; i++)
		s.b[flen_at + i] = (uint8_t)(flen >> (8 * i));
	body(&s, 11, 32, 0x95 /* FRAME if misparsed */);
	payload(&s);
	end(&s);
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_DANGEROUS);
	ck_assert(!has_rule(r, "pickle.malformed"));
	mg_report_free(r);
}
END_TEST

/* --- object arrays: nested pickles -------------------------------------- */

START_TEST(test_joblib_object_array_nested_payload_is_dangerous)
{
	static struct sb s;
	int shape[] = { 2 };
	struct mg_report *r;

	begin(&s);
	wrapper(&s, shape, 1, "O8", -1, 63, "C", AL_16);
	/* the nested protocol-2 pickle: no padding byte before it */
	op(&s, 0x80); op(&s, 2); op(&s, ']'); op(&s, '(');
	payload(&s);
	op(&s, 'e'); op(&s, '.');
	end(&s);
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
}
END_TEST

START_TEST(test_joblib_hasobject_comes_from_dtype_flags)
{
	static struct sb s;
	int shape[] = { 2 };
	struct mg_report *r;

	/* 'f4' with flags 63 is an object dtype to numpy: a nested pickle
	 * follows, then the outer stream continues with a payload. */
	begin(&s);
	wrapper(&s, shape, 1, "f4", -1, 63, "C", AL_16);
	op(&s, 0x80); op(&s, 2); op(&s, ']'); op(&s, '.');
	payload(&s);
	end(&s);
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_DANGEROUS);
	ck_assert(!has_rule(r, "pickle.malformed"));
	mg_report_free(r);
	/* ... and 'O8' with flags 0 is raw bytes (8 per item). */
	begin(&s);
	wrapper(&s, shape, 1, "O8", -1, 0, "C", AL_16);
	body(&s, 0, 16, 0);
	end(&s);
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_CLEAN);
	mg_report_free(r);
}
END_TEST

START_TEST(test_joblib_wrapper_inside_nested_pickle_hides_nothing)
{
	static struct sb s, pl;
	int outer[] = { 1 }, inner[1];
	struct mg_report *r;

	/* The nested pickle is read by a plain pickle.load: a wrapper in it
	 * has no body, so the "body" bytes after its BUILD are opcodes. */
	pl.n = 0;
	payload(&pl);
	op(&pl, '0');
	inner[0] = (int)pl.n;
	begin(&s);
	wrapper(&s, outer, 1, "O8", -1, 63, "C", AL_16);
	op(&s, 0x80); op(&s, 2); op(&s, ']'); op(&s, '(');
	wrapper(&s, inner, 1, "u1", -1, 0, "C", AL_ABSENT);
	put(&s, pl.b, pl.n);
	op(&s, 'e'); op(&s, '.');
	end(&s);
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
}
END_TEST

/* Red-team: a first body that is not an opcode (0x00) stops the hook-free
 * pickle.load view at once, so only the hooked view can see the payload. */
START_TEST(test_joblib_nested_wrapper_body_is_parsed_not_skipped)
{
	static struct sb s, pl;
	int one[] = { 1 }, inner[1];

	pl.n = 0;
	payload(&pl);
	op(&pl, '0');
	inner[0] = (int)pl.n;
	begin(&s);
	wrapper(&s, one, 1, "u1", -1, 0, "C", AL_ABSENT);
	op(&s, 0x00);
	wrapper(&s, one, 1, "O8", -1, 63, "C", AL_ABSENT);
	op(&s, 0x80); op(&s, 2); op(&s, ']'); op(&s, '(');
	wrapper(&s, inner, 1, "u1", -1, 0, "C", AL_ABSENT);
	put(&s, pl.b, pl.n);
	op(&s, 'e'); op(&s, '.');
	end(&s);
	expect_rule(&s, MG_VERDICT_DANGEROUS, "pickle.global.denied");
}
END_TEST

/* Red-team: the second BUILD of one wrapper drops the alignment attribute
 * from its state, but joblib keeps it from the first BUILD. */
START_TEST(test_joblib_wrapper_built_twice_is_dangerous)
{
	static struct sb s;

	begin(&s);
	global(&s, "joblib.numpy_pickle", "NumpyArrayWrapper");
	op(&s, ')'); op(&s, 0x81); op(&s, 'q'); op(&s, 1);
	op(&s, '}'); op(&s, '(');
	ustr(&s, "shape"); op(&s, '('); bint(&s, 0); op(&s, 't');
	ustr(&s, "dtype"); dtype(&s, "u1", -2, 0);
	ustr(&s, "numpy_array_alignment_bytes"); bint(&s, 16);
	op(&s, 'u'); op(&s, 'b');
	op(&s, 0x00);                /* padding byte 0, empty body */
	op(&s, 'h'); op(&s, 1);
	op(&s, '}'); op(&s, '(');
	ustr(&s, "shape"); op(&s, '('); bint(&s, 5); op(&s, 't');
	ustr(&s, "dtype"); dtype(&s, "u1", -2, 0);
	op(&s, 'u'); op(&s, 'b');
	body(&s, -1, 5, 'N');
	end(&s);
	expect_rule(&s, MG_VERDICT_DANGEROUS, "pickle.build.twice");
}
END_TEST

/* Red-team: setattr(obj, "__class__", NumpyArrayWrapper) from a slot state
 * makes joblib read a body after an object the reader never saw as one. */
START_TEST(test_joblib_class_swap_by_slot_state_is_dangerous)
{
	static struct sb s;

	begin(&s);
	global(&s, "builtins", "object");
	op(&s, ')'); op(&s, 'R');
	op(&s, 'N');
	op(&s, '}'); ustr(&s, "__class__");
	global(&s, "joblib.numpy_pickle", "NumpyArrayWrapper");
	op(&s, 's'); op(&s, 0x86); op(&s, 'b');
	end(&s);
	expect_rule(&s, MG_VERDICT_DANGEROUS, "pickle.build.setattr");
}
END_TEST

/*
 * What joblib.load puts in an object array wrapper's place is what its
 * nested pickle returns.  pandas 3 states hold (dtype, wrapper): as BUILD
 * slot state that is data when the nested pickle returns an ndarray, and
 * a setattr of whatever the file chose when it returns a dict; and put on
 * the stack as a STACK_GLOBAL module it is a name when it returns a str.
 */
static void
object_wrapper(struct sb *s, char returns)
{
	int shape[] = { 1 };

	wrapper(s, shape, 1, "O8", -1, 63, "C", AL_16);
	op(s, 0x80); op(s, 2);
	if (returns == 'a') {           /* _reconstruct(ndarray, (0,), b'b') */
		global(s, "numpy.core.multiarray", "_reconstruct");
		global(s, "numpy", "ndarray");
		bint(s, 0); op(s, 0x85); ustr(s, "b"); op(s, 0x87); op(s, 'R');
	} else if (returns == 'd') {    /* {"__class__": NumpyArrayWrapper} */
		op(s, '}'); ustr(s, "__class__");
		global(s, "joblib.numpy_pickle", "NumpyArrayWrapper");
		op(s, 's');
	} else {                        /* "posix" */
		ustr(s, "posix");
	}
	op(s, '.');
}

/* object(), None, the wrapper: BUILD with (None, wrapper) as state. */
static struct mg_report *
slot_state_of_wrapper(char returns)
{
	static struct sb s;

	begin(&s);
	global(&s, "builtins", "object");
	op(&s, ')'); op(&s, 'R');
	op(&s, 'N');
	object_wrapper(&s, returns);
	op(&s, 0x86); op(&s, 'b');
	end(&s);
	return scan_stream(s.b, s.n);
}

START_TEST(test_joblib_object_wrapper_as_slot_state_is_what_it_reads)
{
	struct mg_report *r = slot_state_of_wrapper('a');

	ck_assert(!has_rule(r, "pickle.build.setattr"));
	mg_report_free(r);
	r = slot_state_of_wrapper('d');
	expect(r, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "pickle.build.setattr"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_joblib_object_wrapper_as_module_name_is_computed)
{
	static struct sb s;

	begin(&s);
	object_wrapper(&s, 's');
	ustr(&s, "system"); op(&s, 0x93);
	end(&s);
	expect_rule(&s, MG_VERDICT_DANGEROUS, "pickle.global.computed");
}
END_TEST

/* --- the pickle.load view ----------------------------------------------- */

START_TEST(test_joblib_payload_hidden_in_body_for_pickle_load)
{
	static struct sb s, pl;
	int shape[1];

	pl.n = 0;
	payload(&pl);
	op(&pl, '0');
	shape[0] = (int)pl.n;
	begin(&s);
	wrapper(&s, shape, 1, "u1", -1, 0, "C", AL_ABSENT);
	put(&s, pl.b, pl.n);
	end(&s);
	expect_rule(&s, MG_VERDICT_DANGEROUS, "pickle.global.denied");
}
END_TEST

/*
 * An object array's nested pickle, read by joblib.load with a fresh memo
 * and by pickle.load with the outer one: outer memo[0] is @outer_str; the
 * nested pickle MEMOIZEs "numpy" (its own index 0, the outer stream's
 * index 1) and then names BINGET 0 + "dtype", called with no arguments
 * when @call.  joblib.load resolves numpy.dtype; pickle.load resolves
 * @outer_str.dtype (what joblib >= 1.4 files do by accident).
 */
static void
memo_confused(struct sb *s, const char *outer_str, const char *name, int call)
{
	int shape[] = { 1 };

	begin(s);
	ustr(s, outer_str); op(s, 'q'); op(s, 0); op(s, '0');
	wrapper(s, shape, 1, "O8", -1, 63, "C", AL_16);
	op(s, 0x80); op(s, 4);
	ustr(s, "numpy"); op(s, 0x94); op(s, '0');
	op(s, 'h'); op(s, 0); ustr(s, name); op(s, 0x93);
	if (call) {
		op(s, ')'); op(s, 'R');
	}
	op(s, '.');
	end(s);
}

START_TEST(test_joblib_memo_confusion_in_nested_pickle_is_info_only)
{
	static struct sb s;
	const struct mg_finding *f;
	struct mg_report *r;

	memo_confused(&s, "NumpyArrayWrapper", "dtype", 1);
	r = scan_stream(s.b, s.n);
	/* joblib.load sees numpy.dtype(); pickle.load would fail to import
	 * a module named NumpyArrayWrapper: said, not a verdict. */
	expect(r, MG_VERDICT_CLEAN);
	f = rule_finding(r, "pickle.call.unknown");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->verdict, MG_VERDICT_CLEAN);
	ck_assert_ptr_nonnull(strstr(f->message, "pickle.load instead of joblib.load"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_joblib_memo_confusion_to_a_denied_global_is_dangerous)
{
	static struct sb s;

	memo_confused(&s, "posix", "system", 0);
	expect_rule(&s, MG_VERDICT_DANGEROUS, "pickle.global.denied");
}
END_TEST

START_TEST(test_joblib_unknown_call_hidden_in_body_keeps_its_verdict)
{
	static struct sb s, pl;
	int shape[1];
	struct mg_report *r;

	/* Only pickle.load parses a raw body: an unknown call there counts. */
	pl.n = 0;
	global(&pl, "logging", "FileHandler");
	ustr(&pl, "x"); op(&pl, 0x85); op(&pl, 'R'); op(&pl, '0');
	shape[0] = (int)pl.n;
	begin(&s);
	wrapper(&s, shape, 1, "u1", -1, 0, "C", AL_ABSENT);
	put(&s, pl.b, pl.n);
	end(&s);
	r = scan_stream(s.b, s.n);
	ck_assert_int_eq(r->verdict, MG_VERDICT_UNKNOWN_CALL);
	ck_assert(has_rule(r, "pickle.call.unknown"));
	mg_report_free(r);
}
END_TEST

/* --- torch.storage._load_from_bytes(b): b is scanned, not denied -------- */

/* _load_from_bytes(<inner>) as pickle.dumps(tensor) writes it. */
static void
nested_load(struct sb *s, const void *inner, size_t n)
{
	uint8_t len[4] = { (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16),
	                   (uint8_t)(n >> 24) };

	global(s, "torch.storage", "_load_from_bytes");
	op(s, 'B');
	put(s, len, 4);
	put(s, inner, n);
	op(s, 0x85);
	op(s, 'R');
}

static int
has_global(const struct mg_report *r, const char *m, const char *n)
{
	size_t i;

	for (i = 0; i < r->nglobals; i++)
		if (strcmp(r->globals[i].module, m) == 0 &&
		    strcmp(r->globals[i].name, n) == 0)
			return 1;
	return 0;
}

START_TEST(test_joblib_nested_torch_load_is_scanned)
{
	static const char inner[] = "\x80\x02" "cnumpy\ndtype\n.";
	static struct sb s;
	struct mg_report *r;

	begin(&s);
	nested_load(&s, inner, sizeof(inner) - 1);
	end(&s);
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_CLEAN);
	ck_assert_uint_eq(r->npickles, 2);
	/* The file's globals are its own loader's; the nested stream's
	 * (numpy dtype) speak through findings only. */
	ck_assert(has_global(r, "torch.storage", "_load_from_bytes"));
	ck_assert(!has_global(r, "numpy", "dtype"));
	ck_assert_int_eq(r->globals[0].verdict, MG_VERDICT_CLEAN);
	mg_report_free(r);
}
END_TEST

START_TEST(test_joblib_nested_torch_load_payload_is_dangerous)
{
	static const char inner[] = "\x80\x02" "cposix\nsystem\n.";
	static struct sb s;
	const struct mg_finding *f;
	struct mg_report *r;
	char member[64];
	size_t at;

	begin(&s);
	at = s.n + strlen("ctorch.storage\n_load_from_bytes\n") + 5 +
	     sizeof(inner) - 1 + 1;
	nested_load(&s, inner, sizeof(inner) - 1);
	end(&s);
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_DANGEROUS);
	f = rule_finding(r, "pickle.global.denied");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->global, "posix system");
	snprintf(member, sizeof(member), "_load_from_bytes@%zu", at);
	ck_assert_str_eq(f->member, member);
	mg_report_free(r);
}
END_TEST

START_TEST(test_joblib_nested_torch_load_after_body_is_clean)
{
	/* A tensor after a numpy array: the pickle.load view of the stream
	 * (run because a body was stepped over) must not deny the call. */
	static const char inner[] = "\x80\x02N.";
	static const char evil[] = "\x80\x02" "cposix\nsystem\n.";
	static struct sb s;
	int shape[] = { 4 };
	struct mg_report *r;

	begin(&s);
	wrapper(&s, shape, 1, "u1", -1, 0, "C", AL_ABSENT);
	body(&s, -1, 4, 0x01);
	nested_load(&s, inner, sizeof(inner) - 1);
	end(&s);
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_CLEAN);
	mg_report_free(r);
	/* And a payload there is found once per view that runs it. */
	begin(&s);
	wrapper(&s, shape, 1, "u1", -1, 0, "C", AL_ABSENT);
	body(&s, -1, 4, 0x01);
	nested_load(&s, evil, sizeof(evil) - 1);
	end(&s);
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_DANGEROUS);
	ck_assert(rule_finding(r, "pickle.global.denied") != NULL);
	mg_report_free(r);
}
END_TEST

START_TEST(test_joblib_nested_torch_load_nests_to_the_cap)
{
	/* _load_from_bytes(_load_from_bytes(...(N.))): each level is one
	 * container level deeper; past max_depth it is an error finding. */
	static struct sb a, b;
	struct sb *in = &a, *out = &b, *t;
	struct mg_report *r;
	unsigned i;

	in->n = 0;
	put(in, "\x80\x02N.", 4);
	for (i = 0; i < 12; i++) {
		out->n = 0;
		op(out, 0x80); op(out, 2);
		nested_load(out, in->b, in->n);
		op(out, '.');
		t = in; in = out; out = t;
	}
	r = scan_stream(in->b, in->n);
	expect(r, MG_VERDICT_ERROR);
	ck_assert(rule_finding(r, "container.depth") != NULL);
	mg_report_free(r);
}
END_TEST

/* --- old formats -------------------------------------------------------- */

static void
ndwrapper(struct sb *s, const char *filename)
{
	begin(s);
	global(s, "joblib.numpy_pickle", "NDArrayWrapper");
	op(s, ')'); op(s, 0x81); op(s, '}'); op(s, '(');
	ustr(s, "filename"); ustr(s, filename);
	ustr(s, "subclass"); global(s, "numpy", "ndarray");
	op(s, 'u'); op(s, 'b');
	end(s);
}

START_TEST(test_joblib_ndarraywrapper_side_files)
{
	static struct sb s;
	struct mg_report *r;

	ndwrapper(&s, "model.pkl_01.npy");
	expect_rule(&s, MG_VERDICT_UNKNOWN, "joblib.sidefile");
	ndwrapper(&s, "../../home/u/evil.npy");
	expect_rule(&s, MG_VERDICT_DANGEROUS, "joblib.sidefile.escape");
	ndwrapper(&s, "/tmp/evil.npy");
	r = scan_stream(s.b, s.n);
	expect(r, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
}
END_TEST

/* --- compression -------------------------------------------------------- */

static struct sb evil_pickle, good_pickle;

static void
make_pickles(void)
{
	begin(&evil_pickle);
	payload(&evil_pickle);
	end(&evil_pickle);
	begin(&good_pickle);
	bint(&good_pickle, 42);
	ustr(&good_pickle, "hello");
	end(&good_pickle);
}

static size_t
gz(const uint8_t *in, size_t n, uint8_t *out, size_t cap, int wbits)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, wbits, 8,
	                              Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	n = cap - z.avail_out;
	deflateEnd(&z);
	return n;
}

static size_t
bz(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	unsigned int olen = (unsigned int)cap;

	ck_assert_int_eq(BZ2_bzBuffToBuffCompress((char *)out, &olen,
	                 (char *)(uintptr_t)in, (unsigned int)n, 9, 0, 0),
	                 BZ_OK);
	return olen;
}

static size_t
xz(const uint8_t *in, size_t n, uint8_t *out, size_t cap, int alone)
{
	lzma_stream st = LZMA_STREAM_INIT;
	lzma_options_lzma opt;

	if (!alone) {
		size_t pos = 0;

		ck_assert_int_eq(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64,
		                 NULL, in, n, out, &pos, cap), LZMA_OK);
		return pos;
	}
	lzma_lzma_preset(&opt, 6);
	ck_assert_int_eq(lzma_alone_encoder(&st, &opt), LZMA_OK);
	st.next_in = in;
	st.avail_in = n;
	st.next_out = out;
	st.avail_out = cap;
	ck_assert_int_eq(lzma_code(&st, LZMA_FINISH), LZMA_STREAM_END);
	n = cap - st.avail_out;
	lzma_end(&st);
	return n;
}

static struct mg_report *
scan_comp(const uint8_t *buf, size_t len, uint64_t cap)
{
	struct mg_scan_opts o = opts();
	struct mg_report *r = mg_report_new();

	if (cap != 0)
		o.max_decompressed = cap;
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(mg_compressed_scan(&o, "t.pkl.gz", NULL, buf, len, 0,
	                                    r), MG_OK);
	return r;
}

/* Compress @p with codec @k into @out. */
static size_t
compress_with(int k, const struct sb *p, uint8_t *out, size_t cap)
{
	switch (k) {
	case 0: return gz(p->b, p->n, out, cap, 31);
	case 1: return gz(p->b, p->n, out, cap, 15);
	case 2: return bz(p->b, p->n, out, cap);
	case 3: return xz(p->b, p->n, out, cap, 0);
	case 4: return xz(p->b, p->n, out, cap, 1);
	case 5: return ZSTD_compress(out, cap, p->b, p->n, 3);
	default: return LZ4F_compressFrame(out, cap, p->b, p->n, NULL);
	}
}

static const char *codec_member[] = {
	"gzip", "zlib", "bzip2", "xz", "xz", "zstd", "lz4",
};

START_TEST(test_compress_every_wrapper_exposes_payload)
{
	static uint8_t out[1 << 16];
	const struct mg_finding *f;
	struct mg_report *r;
	size_t n;

	make_pickles();
	n = compress_with(_i, &evil_pickle, out, sizeof(out));
	r = scan_comp(out, n, 0);
	expect(r, MG_VERDICT_DANGEROUS);
	f = rule_finding(r, "pickle.global.denied");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->member, codec_member[_i]);
	mg_report_free(r);
	n = compress_with(_i, &good_pickle, out, sizeof(out));
	r = scan_comp(out, n, 0);
	expect(r, MG_VERDICT_CLEAN);
	mg_report_free(r);
}
END_TEST

START_TEST(test_compress_gzip_members_are_concatenated)
{
	static uint8_t out[1 << 16];
	struct mg_report *r;
	size_t n, cut;

	/* The payload's GLOBAL is split across two members. */
	make_pickles();
	cut = 6;
	n = gz(evil_pickle.b, cut, out, sizeof(out), 31);
	n += gz(evil_pickle.b + cut, evil_pickle.n - cut, out + n,
	        sizeof(out) - n, 31);
	memset(out + n, 0, 7); /* zero padding: gzip.py skips it */
	r = scan_comp(out, n + 7, 0);
	expect(r, MG_VERDICT_DANGEROUS);
	ck_assert(!has_rule(r, "compress.trailing"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_compress_trailing_bytes_follow_the_loaders)
{
	static uint8_t out[1 << 16];
	struct mg_report *r;
	size_t n;

	make_pickles();
	/* gzip: garbage after a member raises in gzip.py: error. */
	n = gz(good_pickle.b, good_pickle.n, out, sizeof(out), 31);
	memcpy(out + n, "garbage", 7);
	r = scan_comp(out, n + 7, 0);
	expect(r, MG_VERDICT_ERROR);
	ck_assert(has_rule(r, "compress.trailing"));
	mg_report_free(r);
	/* zlib: joblib's reader cannot end: error. */
	n = gz(good_pickle.b, good_pickle.n, out, sizeof(out), 15);
	memcpy(out + n, "garbage", 7);
	r = scan_comp(out, n + 7, 0);
	expect(r, MG_VERDICT_ERROR);
	mg_report_free(r);
	/* bz2: BZ2File drops a trailing stream that fails at once. */
	n = bz(good_pickle.b, good_pickle.n, out, sizeof(out));
	memcpy(out + n, "garbage", 7);
	r = scan_comp(out, n + 7, 0);
	expect(r, MG_VERDICT_CLEAN);
	mg_report_free(r);
	/* bz2: ... but decodes a second stream, payload included. */
	n = bz(good_pickle.b, good_pickle.n, out, sizeof(out));
	n += bz(evil_pickle.b, evil_pickle.n, out + n, sizeof(out) - n);
	r = scan_comp(out, n, 0);
	expect(r, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
	/* xz followed by an lzma-alone stream: lzma.open reads both. */
	n = xz(good_pickle.b, good_pickle.n, out, sizeof(out), 0);
	n += xz(evil_pickle.b, evil_pickle.n, out + n, sizeof(out) - n, 1);
	r = scan_comp(out, n, 0);
	expect(r, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
}
END_TEST

START_TEST(test_compress_truncated_and_corrupt_are_errors)
{
	static uint8_t out[1 << 16];
	struct mg_report *r;
	size_t n;

	make_pickles();
	n = gz(evil_pickle.b, evil_pickle.n, out, sizeof(out), 31);
	r = scan_comp(out, n - 9, 0); /* the CRC/size trailer is cut */
	ck_assert(has_rule(r, "compress.truncated"));
	/* what decoded before the cut is still scanned */
	expect(r, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
	n = gz(good_pickle.b, good_pickle.n, out, sizeof(out), 31);
	out[n - 6] ^= 0xff; /* CRC mismatch */
	r = scan_comp(out, n, 0);
	expect(r, MG_VERDICT_ERROR);
	ck_assert(has_rule(r, "compress.corrupt"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_compress_bomb_hits_the_cap)
{
	static uint8_t out[1 << 20];
	uint8_t *zeros;
	struct mg_report *r;
	size_t n, big = 64u << 20;
	const struct mg_finding *f;

	/* Why NONEs, not zeros: a 0x00 after the prefix is an invalid load
	 * key, and the scanner stops at the first 64 KiB the loader cannot
	 * get past (inert_prefix); NONE opcodes keep the stream a pickle. */
	zeros = malloc(big);
	ck_assert_ptr_nonnull(zeros);
	memset(zeros, 'N', big);
	memcpy(zeros, "\x80\x02]q\x00(", 6);
	n = gz(zeros, big, out, sizeof(out), 15);
	free(zeros);
	r = scan_comp(out, n, 1u << 20);
	expect(r, MG_VERDICT_ERROR);
	f = rule_finding(r, "compress.limit");
	ck_assert_ptr_nonnull(f);
	mg_report_free(r);
}
END_TEST

START_TEST(test_compress_non_pickle_is_decided_on_a_prefix)
{
	static uint8_t out[1 << 20];
	uint8_t *csv;
	struct mg_report *r;
	size_t n, i, big = 64u << 20;

	/* A gzip'd CSV (no extension: the preload sends it by its magic)
	 * larger than the cap: the loader fails on "a,b" (APPEND on an
	 * empty stack), so the scanner must say so from the first 64 KiB,
	 * not decompress it all (nor call it a bomb). */
	csv = malloc(big);
	ck_assert_ptr_nonnull(csv);
	for (i = 0; i < big; i++)
		csv[i] = "a,b,c\n1,2,3\n"[i % 12];
	n = gz(csv, big, out, sizeof(out), 31);
	free(csv);
	r = scan_comp(out, n, 1u << 20);
	expect(r, MG_VERDICT_CLEAN);
	ck_assert(has_rule(r, "format.inert"));
	ck_assert(!has_rule(r, "compress.limit"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_compress_nested_wrappers_share_one_cap)
{
	static uint8_t inner[1 << 20], outer[1 << 16];
	uint8_t *plain;
	size_t n, m, big = 600u << 10;
	struct mg_report *r;

	/* inner: gzip of a 600 KiB pickle prefix, then 600 KiB of zero
	 * padding (gzip.py skips it); outer: gzip of all that.  Each level
	 * stays under a 1 MiB cap, the chain does not. */
	plain = malloc(big);
	ck_assert_ptr_nonnull(plain);
	memset(plain, 'N', big);    /* a pickle all along (see above) */
	memcpy(plain, "\x80\x02]q\x00(", 6);
	n = gz(plain, big, inner, sizeof(inner), 31);
	free(plain);
	memset(inner + n, 0, big);
	m = gz(inner, n + big, outer, sizeof(outer), 31);
	r = scan_comp(outer, m, 1u << 20);
	expect(r, MG_VERDICT_ERROR);
	ck_assert(has_rule(r, "compress.limit"));
	mg_report_free(r);
	r = scan_comp(outer, m, 2u << 20);
	ck_assert(!has_rule(r, "compress.limit"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_compress_joblib_zfile)
{
	static uint8_t out[1 << 16];
	struct mg_report *r;
	char hdr[32];
	size_t n;

	make_pickles();
	/* "ZF" + hex length left-justified in 19 bytes + zlib data. */
	snprintf(hdr, sizeof(hdr), "ZF%-19s", "0x0");
	snprintf(hdr + 2, sizeof(hdr) - 2, "%-19s", "");
	{
		char num[24];
		int k = snprintf(num, sizeof(num), "%#zx", evil_pickle.n);
		memcpy(hdr + 2, num, (size_t)k);
	}
	memcpy(out, hdr, 21);
	n = 21 + gz(evil_pickle.b, evil_pickle.n, out + 21, sizeof(out) - 21,
	            15);
	r = scan_comp(out, n, 0);
	expect(r, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
	/* A wrong length is what read_zfile's assert rejects. */
	out[4] = out[4] == '9' ? '8' : '9';
	r = scan_comp(out, n, 0);
	ck_assert(has_rule(r, "compress.corrupt"));
	mg_report_free(r);
	out[3] = 'q'; /* not hexadecimal */
	r = scan_comp(out, n, 0);
	expect(r, MG_VERDICT_ERROR);
	mg_report_free(r);
}
END_TEST

static Suite *
joblib_suite(void)
{
	Suite *s = suite_create("joblib");
	TCase *tc;

	tc = tcase_create("bodies");
	tcase_add_test(tc, test_joblib_steps_over_padded_body_then_sees_payload);
	tcase_add_test(tc, test_joblib_clean_bodies_are_clean);
	tcase_add_test(tc, test_joblib_padding_length_is_read_from_the_file);
	tcase_add_test(tc, test_joblib_flexible_dtype_takes_state_elsize);
	tcase_add_test(tc, test_joblib_dtype_without_build_uses_type_string);
	tcase_add_test(tc, test_joblib_truncated_body_is_error);
	tcase_add_test(tc, test_joblib_missing_padding_byte_is_error);
	tcase_add_test(tc, test_joblib_unevaluable_wrappers_are_errors);
	tcase_add_test(tc, test_joblib_nonliteral_shape_is_error);
	tcase_add_test(tc, test_joblib_list_shape_is_error);
	tcase_add_test(tc, test_joblib_wrapper_called_with_args_is_error);
	tcase_add_test(tc, test_joblib_reconstructor_wrapper_protocol1);
	tcase_add_test(tc, test_joblib_body_after_frame_end);
	suite_add_tcase(s, tc);

	tc = tcase_create("object_arrays");
	tcase_add_test(tc, test_joblib_object_array_nested_payload_is_dangerous);
	tcase_add_test(tc, test_joblib_hasobject_comes_from_dtype_flags);
	tcase_add_test(tc, test_joblib_wrapper_inside_nested_pickle_hides_nothing);
	tcase_add_test(tc, test_joblib_nested_wrapper_body_is_parsed_not_skipped);
	tcase_add_test(tc, test_joblib_wrapper_built_twice_is_dangerous);
	tcase_add_test(tc, test_joblib_class_swap_by_slot_state_is_dangerous);
	tcase_add_test(tc, test_joblib_object_wrapper_as_slot_state_is_what_it_reads);
	tcase_add_test(tc, test_joblib_object_wrapper_as_module_name_is_computed);
	suite_add_tcase(s, tc);

	tc = tcase_create("two_loaders");
	tcase_add_test(tc, test_joblib_payload_hidden_in_body_for_pickle_load);
	tcase_add_test(tc, test_joblib_memo_confusion_in_nested_pickle_is_info_only);
	tcase_add_test(tc, test_joblib_memo_confusion_to_a_denied_global_is_dangerous);
	tcase_add_test(tc, test_joblib_unknown_call_hidden_in_body_keeps_its_verdict);
	tcase_add_test(tc, test_joblib_nested_torch_load_is_scanned);
	tcase_add_test(tc, test_joblib_nested_torch_load_payload_is_dangerous);
	tcase_add_test(tc, test_joblib_nested_torch_load_after_body_is_clean);
	tcase_add_test(tc, test_joblib_nested_torch_load_nests_to_the_cap);
	tcase_add_test(tc, test_joblib_ndarraywrapper_side_files);
	suite_add_tcase(s, tc);

	tc = tcase_create("compress");
	tcase_add_loop_test(tc, test_compress_every_wrapper_exposes_payload, 0, 7);
	tcase_add_test(tc, test_compress_gzip_members_are_concatenated);
	tcase_add_test(tc, test_compress_trailing_bytes_follow_the_loaders);
	tcase_add_test(tc, test_compress_truncated_and_corrupt_are_errors);
	tcase_add_test(tc, test_compress_bomb_hits_the_cap);
	tcase_add_test(tc, test_compress_non_pickle_is_decided_on_a_prefix);
	tcase_add_test(tc, test_compress_nested_wrappers_share_one_cap);
	tcase_add_test(tc, test_compress_joblib_zfile);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(joblib_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
