/*
 * check_containers.c - the sniffer/dispatcher (scan.c) and the zip, npy,
 * tar and legacy-torch readers.
 *
 * Inputs are built here byte by byte: zip archives from local headers,
 * central directory and end record (stored or deflated members, broken on
 * purpose where a test needs it), npy headers as numpy writes them and as
 * it merely accepts them, tar headers.  Fixtures made by the real torch and
 * numpy are in tests/integration/test_scan_torch.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "../../scanner/formats.h"
#include "../../scanner/containers.h"

/* --- helpers --------------------------------------------------------------- */

static enum mg_gclass
classify(void *ctx, const char *module, const char *name,
         const char **category)
{
	(void)ctx;
	if ((strcmp(module, "posix") == 0 || strcmp(module, "os") == 0) &&
	    strcmp(name, "system") == 0) {
		*category = "code execution";
		return MG_GLOBAL_DENIED;
	}
	return MG_GLOBAL_UNKNOWN;
}

static const struct mg_classifier classifier = { classify, NULL };

static struct mg_scan_opts
opts(void)
{
	struct mg_scan_opts o;

	mg_scan_opts_default(&o);
	o.classifier = &classifier;
	return o;
}

/* A protocol-2 pickle calling posix.system('ls'). */
static const uint8_t evil_pickle[] =
	"\x80\x02" "cposix\nsystem\n" "X\x02\x00\x00\x00ls" "\x85" "R" ".";
#define EVIL_LEN (sizeof(evil_pickle) - 1)

static struct mg_report *
scan(const char *name, const uint8_t *buf, size_t len)
{
	struct mg_scan_opts o = opts();
	struct mg_report *r = mg_report_new();

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(mg_scan_buffer(&o, name, buf, len, r), MG_OK);
	return r;
}

/* The finding with rule @rule (and member @member unless NULL), or NULL. */
static const struct mg_finding *
find(const struct mg_report *r, const char *rule, const char *member)
{
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		if (strcmp(r->findings[i].rule, rule) == 0 && (member == NULL ||
		    (r->findings[i].member != NULL &&
		     strcmp(r->findings[i].member, member) == 0)))
			return &r->findings[i];
	return NULL;
}

static int
names_member(const struct mg_report *r, const char *member)
{
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		if (r->findings[i].member != NULL &&
		    strcmp(r->findings[i].member, member) == 0)
			return 1;
	return 0;
}

/* --- a tiny zip writer ----------------------------------------------------- */

struct zb {
	uint8_t *buf;
	size_t len, cap;
	uint8_t cd[16384];
	size_t cdlen;
	unsigned n;
};

static void
put(struct zb *z, const void *p, size_t n)
{
	if (z->len + n > z->cap) {
		z->cap = (z->len + n) * 2 + 4096;
		z->buf = realloc(z->buf, z->cap);
		ck_assert_ptr_nonnull(z->buf);
	}
	memcpy(z->buf + z->len, p, n);
	z->len += n;
}

static void
le(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

struct zopt {
	int deflate;        /* compress the member */
	uint16_t flags;     /* general purpose flags (both headers) */
	int bad_crc;        /* record a wrong CRC */
	int crc_zero;       /* record CRC 0 (torch.save, CRC checks off) */
	unsigned usize_delta; /* record this many bytes more uncompressed */
	const char *local_name; /* a different name in the local header */
};

static void
zb_add(struct zb *z, const char *name, const void *data, size_t dlen,
       const struct zopt *zo)
{
	static const struct zopt none;
	uint8_t h[30], c[46], *cdata = NULL;
	const char *lname;
	uLongf clen = 0;
	uint32_t crc = (uint32_t)crc32(0, data, (uInt)dlen);
	size_t off = z->len;
	z_stream s;

	zo = zo ? zo : &none;
	lname = zo->local_name ? zo->local_name : name;
	if (zo->deflate) {
		clen = compressBound(dlen) + 64;
		cdata = malloc(clen);
		memset(&s, 0, sizeof(s));
		ck_assert_int_eq(deflateInit2(&s, 9, Z_DEFLATED, -15, 8,
		                              Z_DEFAULT_STRATEGY), Z_OK);
		s.next_in = (Bytef *)data, s.avail_in = (uInt)dlen;
		s.next_out = cdata, s.avail_out = (uInt)clen;
		ck_assert_int_eq(deflate(&s, Z_FINISH), Z_STREAM_END);
		clen = s.total_out;
		deflateEnd(&s);
	}
	if (zo->bad_crc)
		crc ^= 0x12345678u;
	if (zo->crc_zero)
		crc = 0;
	memset(h, 0, sizeof(h));
	le(h, 0x04034b50, 4), le(h + 4, 20, 2), le(h + 6, zo->flags, 2);
	le(h + 8, zo->deflate ? 8 : 0, 2), le(h + 14, crc, 4);
	le(h + 18, zo->deflate ? clen : dlen, 4);
	le(h + 22, dlen + zo->usize_delta, 4);
	le(h + 26, strlen(lname), 2);
	put(z, h, 30);
	put(z, lname, strlen(lname));
	put(z, zo->deflate ? cdata : data, zo->deflate ? clen : dlen);
	memset(c, 0, sizeof(c));
	le(c, 0x02014b50, 4), le(c + 4, 20, 2), le(c + 6, 20, 2);
	memcpy(c + 8, h + 6, 22);               /* flags .. name length */
	le(c + 28, strlen(name), 2);
	le(c + 42, off, 4);
	ck_assert_uint_lt(z->cdlen + 46 + strlen(name), sizeof(z->cd));
	memcpy(z->cd + z->cdlen, c, 46);
	memcpy(z->cd + z->cdlen + 46, name, strlen(name));
	z->cdlen += 46 + strlen(name);
	z->n++;
	free(cdata);
}

static void
zb_finish(struct zb *z)
{
	uint8_t e[22];
	size_t cdoff = z->len;

	put(z, z->cd, z->cdlen);
	memset(e, 0, sizeof(e));
	le(e, 0x06054b50, 4), le(e + 8, z->n, 2), le(e + 10, z->n, 2);
	le(e + 12, z->cdlen, 4), le(e + 16, cdoff, 4);
	put(z, e, 22);
}

/* An npy v1 file: magic, header literal padded to 64, then @data. */
static size_t
npy_v1(uint8_t *out, size_t cap, const char *hdr, const void *data,
       size_t dlen)
{
	size_t hl = strlen(hdr), pad = (64 - (10 + hl + 1) % 64) % 64;
	size_t total = 10 + hl + pad + 1 + dlen;

	ck_assert_uint_le(total, cap);
	memcpy(out, "\x93NUMPY\x01\x00", 8);
	le(out + 8, hl + pad + 1, 2);
	memcpy(out + 10, hdr, hl);
	memset(out + 10 + hl, ' ', pad);
	out[10 + hl + pad] = '\n';
	memcpy(out + 10 + hl + pad + 1, data, dlen);
	return total;
}

/* --- sniffer --------------------------------------------------------------- */

START_TEST(test_sniff_recognises_every_magic)
{
	static const struct { const char *b; size_t n; enum mg_fmt f; } t[] = {
		{ "PK\x03\x04....", 8, MG_FMT_ZIP },
		{ "PK\x05\x06\0\0\0\0", 8, MG_FMT_ZIP },
		{ "\x93NUMPY\x01\x00", 8, MG_FMT_NPY },
		{ "\x89HDF\r\n\x1a\n", 8, MG_FMT_HDF5 },
		{ "GGUF\x03\0\0\0", 8, MG_FMT_GGUF },
		{ "\x1f\x8b\x08\0", 4, MG_FMT_GZIP },
		{ "BZh91AY&SY", 10, MG_FMT_BZIP2 },
		{ "\xfd" "7zXZ\0\0\x04", 8, MG_FMT_XZ },
		{ "\x5d\0\0\x80\0\xff\xff\xff\xff\xff\xff\xff\xff\0", 14,
		  MG_FMT_XZ },
		{ "\x28\xb5\x2f\xfd\x24", 5, MG_FMT_ZSTD },
		{ "\x04\x22\x4d\x18\x64", 5, MG_FMT_LZ4 },
		{ "x\x9c\x03\0", 4, MG_FMT_ZLIB },
		{ "x\xda\x03\0", 4, MG_FMT_ZLIB },
		{ "7z\xbc\xaf\x27\x1c\0\x04", 8, MG_FMT_7Z },
		{ "ZF0x10               x\x9c\x03\0", 25, MG_FMT_ZLIB },
		{ "\x0a\0\0\0\0\0\0\0{\"a\":1}  ", 18, MG_FMT_SAFETENSORS },
		{ "\x80\x02}q\0.", 6, MG_FMT_PICKLE },
		{ "hello world, just text", 22, MG_FMT_UNKNOWN },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(mg_sniff((const uint8_t *)t[i].b, t[i].n) == t[i].f,
		              "case %zu sniffed as %s", i,
		              mg_fmt_name(mg_sniff((const uint8_t *)t[i].b,
		                                   t[i].n)));
}
END_TEST

START_TEST(test_sniff_finds_tar_and_hdf5_user_block)
{
	uint8_t b[2048];

	memset(b, 0, sizeof(b));
	memcpy(b, "storages", 8);
	memcpy(b + 257, "ustar\0" "00", 8);
	ck_assert_int_eq(mg_sniff(b, sizeof(b)), MG_FMT_TAR);
	memset(b, 0, sizeof(b));
	memcpy(b + 1024, "\x89HDF\r\n\x1a\n", 8);
	ck_assert_int_eq(mg_sniff(b, sizeof(b)), MG_FMT_HDF5);
}
END_TEST

START_TEST(test_safetensors_length_must_fit)
{
	/* A header length beyond the file is not safetensors. */
	ck_assert_int_eq(mg_sniff((const uint8_t *)"\xff\0\0\0\0\0\0\0{}", 10),
	                 MG_FMT_UNKNOWN);
}
END_TEST

START_TEST(test_unknown_bytes_named_pt_are_error)
{
	/* NEWTRUE NEWTRUE STACK_GLOBAL: no format, and the loader reaches
	 * find_class before it fails: undecided, never clean. */
	struct mg_report *r = scan("model.pt",
	                           (const uint8_t *)"\x88\x88\x93hello", 8);

	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	ck_assert_ptr_nonnull(find(r, "format.unknown", NULL));
	mg_report_free(r);
}
END_TEST

START_TEST(test_bytes_the_loader_rejects_first_are_inert)
{
	/* "hello": BINGET of key 'e' on an empty memo fails before
	 * anything is resolved: inert, allowed, with the finding. */
	struct mg_report *r = scan("model.pt", (const uint8_t *)"hello", 5);
	const struct mg_finding *f;

	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	f = find(r, "format.inert", NULL);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->offset, 0);
	mg_report_free(r);
}
END_TEST

START_TEST(test_unknown_bytes_that_load_as_plain_data_are_clean)
{
	/* "Git 1.7.12.2 Release Notes": BINFLOAT, DUP, STOP -- pickle.load
	 * returns a float, and a second load fails at once (' ': no
	 * opcode).  No format, yet no loader runs anything: clean. */
	static const char notes[] = "Git 1.7.12.2 Release Notes\n=====\n";
	struct mg_report *r = scan("notes", (const uint8_t *)notes,
	                           sizeof(notes) - 1);
	const struct mg_finding *f;

	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	f = find(r, "format.inert", NULL);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->offset, 11);
	ck_assert_ptr_null(find(r, "format.unknown", NULL));
	mg_report_free(r);
	/* the same start, then a second pickle that imports a module the
	 * file names: undecided, as before */
	r = scan("notes", (const uint8_t *)"G12345678.ctest_build\n-----\n",
	         28);
	ck_assert_int_ne(r->verdict, MG_VERDICT_CLEAN);
	mg_report_free(r);
}
END_TEST

START_TEST(test_7z_is_error_never_clean)
{
	struct mg_report *r = scan("model.bin",
	    (const uint8_t *)"7z\xbc\xaf\x27\x1c\0\x04\0\0\0\0", 12);

	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	ck_assert_str_eq(r->format, "7z");
	mg_report_free(r);
}
END_TEST

START_TEST(test_pickle_named_safetensors_is_dangerous_mismatch)
{
	static const uint8_t p[] = "\x80\x02}q\0.";
	struct mg_report *r = scan("w.safetensors", p, sizeof(p) - 1);
	const struct mg_finding *f = find(r, "format.mismatch", NULL);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->verdict, MG_VERDICT_DANGEROUS);
	ck_assert_str_eq(r->format, "pickle");
	mg_report_free(r);
}
END_TEST

START_TEST(test_zip_named_npy_is_unknown_mismatch)
{
	struct zb z = { 0 };
	struct mg_report *r;
	const struct mg_finding *f;

	zb_add(&z, "a.txt", "hi", 2, NULL);
	zb_finish(&z);
	r = scan("x.npy", z.buf, z.len);
	f = find(r, "format.mismatch", NULL);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->verdict, MG_VERDICT_UNKNOWN);
	mg_report_free(r);
	free(z.buf);
}
END_TEST

START_TEST(test_zip_after_prepended_bytes_is_found_and_scanned)
{
	struct zb z = { 0 };
	struct mg_zipdir zd;
	struct mg_report *r;
	uint8_t *b;

	put(&z, "#!/bin/sh\nexit 0\n", 17);
	zb_add(&z, "m/x.pkl", "not a pickle", 12, NULL);
	zb_finish(&z);
	/* the writer recorded offsets from the file start; shift them to
	 * the archive start as a real self-extractor's are. */
	b = z.buf;
	ck_assert_int_eq(mg_zipdir_find(b, z.len, &zd), 0);
	le(b + z.len - 6, zd.cd_offset - 17, 4);
	le(b + z.len - 22 - z.cdlen + 42, 0, 4);
	ck_assert_int_eq(mg_zipdir_find(b, z.len, &zd), 0);
	ck_assert_uint_eq(zd.start, 17);
	r = scan("bundle.zip", b, z.len);
	ck_assert_str_eq(r->format, "zip");
	ck_assert_ptr_nonnull(find(r, "zip.prepended", NULL));
	/* the .pkl member was read (and is not a pickle: error) */
	ck_assert(names_member(r, "m/x.pkl"));
	ck_assert_int_ge(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
	free(z.buf);
}
END_TEST

START_TEST(test_tar_that_is_also_a_pickle_is_dangerous)
{
	/* a tar whose first member name is a protocol-0 pickle: torch.load
	 * unpickles it when tarfile rejects the checksum */
	static const char p0[] = "cposix\nsystem\n(S'ls'\ntR.";
	uint8_t b[1024];
	struct mg_report *r;

	memset(b, 0, sizeof(b));
	memcpy(b, p0, sizeof(p0) - 1);
	memcpy(b + 257, "ustar\0" "00", 8);
	r = scan("m.pt", b, sizeof(b));
	ck_assert_str_eq(r->format, "tar");
	ck_assert_ptr_nonnull(find(r, "format.polyglot", NULL));
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
}
END_TEST

START_TEST(test_data_pkl_is_scanned_as_pickle_whatever_it_sniffs_as)
{
	struct zb z = { 0 };
	struct mg_report *r;

	/* npy magic in data.pkl: torch would still unpickle it */
	zb_add(&z, "archive/data.pkl", "\x93NUMPY\x01\x00\x00\x00", 10, NULL);
	zb_finish(&z);
	r = scan("m.pt", z.buf, z.len);
	ck_assert(!find(r, "npy.header", NULL));
	ck_assert(names_member(r, "archive/data.pkl"));
	ck_assert_int_ge(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
	free(z.buf);
}
END_TEST

/* --- zip ------------------------------------------------------------------- */

START_TEST(test_zip_duplicate_names_are_dangerous_and_both_scanned)
{
	struct zb z = { 0 };
	struct mg_report *r;
	size_t i, n = 0;

	zb_add(&z, "archive/data.pkl", "junk-one", 8, NULL);
	zb_add(&z, "archive/data.pkl", "junk-two", 8, NULL);
	zb_finish(&z);
	r = scan("m.pt", z.buf, z.len);
	ck_assert_ptr_nonnull(find(r, "zip.duplicate", "archive/data.pkl"));
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	/* both copies were read as the pickles torch would unpickle (and
	 * are not pickles: one error finding each, besides the duplicate) */
	for (i = 0; i < r->nfindings; i++)
		n += r->findings[i].verdict == MG_VERDICT_ERROR &&
		     strcmp(r->findings[i].member, "archive/data.pkl") == 0;
	ck_assert_uint_ge(n, 2);
	mg_report_free(r);
	free(z.buf);
}
END_TEST

/* torch never checks a CRC (miniz built with
 * MINIZ_DISABLE_ZIP_READER_CRC32_CHECKS): a mismatch is an info finding,
 * and the member is scanned as stored -- a payload is still found. */
START_TEST(test_zip_crc_mismatch_is_info_and_member_still_scanned)
{
	struct zb z = { 0 };
	struct zopt bad = { .bad_crc = 1 };
	struct mg_report *r;
	const struct mg_finding *f;

	zb_add(&z, "archive/data.pkl", evil_pickle, EVIL_LEN, &bad);
	zb_finish(&z);
	r = scan("m.pt", z.buf, z.len);
	f = find(r, "zip.crc", "archive/data.pkl");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->verdict, MG_VERDICT_CLEAN);
	/* the analyser saw the bytes torch would unpickle */
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
	free(z.buf);
}
END_TEST

START_TEST(test_zip_crc_mismatch_in_deflated_member)
{
	struct zb z = { 0 };
	struct zopt bad = { .deflate = 1, .bad_crc = 1 };
	struct mg_report *r;

	zb_add(&z, "archive/data.pkl", evil_pickle, EVIL_LEN, &bad);
	zb_finish(&z);
	r = scan("m.pt", z.buf, z.len);
	ck_assert_ptr_nonnull(find(r, "zip.crc", "archive/data.pkl"));
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
	free(z.buf);
}
END_TEST

/* A clean pickle: a protocol-2 dict {"a": 1}. */
static const uint8_t plain_pickle[] =
	"\x80\x02" "}q\x00" "X\x01\x00\x00\x00" "a" "K\x01" "s.";
#define PLAIN_LEN (sizeof(plain_pickle) - 1)

/* A torch-like archive named @prefix holding data.pkl = @pkl and one
 * storage, every CRC as @zo says (zero: set_crc32_options(False)). */
static void
torch_archive(struct zb *z, const char *prefix, const uint8_t *pkl,
              size_t plen, const struct zopt *zo)
{
	char n[64];

	snprintf(n, sizeof(n), "%s/data.pkl", prefix);
	zb_add(z, n, pkl, plen, zo);
	snprintf(n, sizeof(n), "%s/data/0", prefix);
	zb_add(z, n, "\0\0\x80?", 4, zo);
	snprintf(n, sizeof(n), "%s/version", prefix);
	zb_add(z, n, "3\n", 2, zo);
	zb_finish(z);
}

/* torch.save with CRC checks off writes CRC 0 into every header; the
 * file is clean, so nothing but an info finding may come of it. */
START_TEST(test_zip_crc_zero_from_torch_save_is_clean)
{
	struct zb z = { 0 };
	struct zopt zero = { .crc_zero = 1 };
	struct mg_report *r;
	const struct mg_finding *f;

	torch_archive(&z, "archive", plain_pickle, PLAIN_LEN, &zero);
	r = scan("m.pt", z.buf, z.len);
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	ck_assert_str_eq(r->format, "torch-zip");
	f = find(r, "zip.crc", NULL);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->verdict, MG_VERDICT_CLEAN);
	ck_assert_ptr_nonnull(strstr(f->message, "2 members"));
	mg_report_free(r);
	free(z.buf);
}
END_TEST

/* What stays fail-closed: a deflated member that inflates to another size
 * than the directory says (miniz refuses it, zipfile stops short). */
START_TEST(test_zip_deflated_size_disagreeing_is_error)
{
	struct zb z = { 0 };
	struct zopt d = { .deflate = 1, .usize_delta = 3 };
	struct mg_report *r;

	zb_add(&z, "archive/data.pkl", plain_pickle, PLAIN_LEN, &d);
	zb_finish(&z);
	r = scan("m.pt", z.buf, z.len);
	ck_assert_ptr_nonnull(find(r, "zip.size", "archive/data.pkl"));
	ck_assert_int_ge(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
	free(z.buf);
}
END_TEST

/* --- several archives in one file (torch.distributed.checkpoint) -------- */

/* A .distcp: @n torch.save archives back to back, the one at @evil (or
 * none if @evil >= n) carrying the payload. */
static struct zb
distcp(unsigned n, unsigned evil)
{
	struct zb all = { 0 };
	unsigned i;

	for (i = 0; i < n; i++) {
		struct zb one = { 0 };

		torch_archive(&one, "archive", i == evil ? evil_pickle :
		              plain_pickle, i == evil ? EVIL_LEN : PLAIN_LEN,
		              NULL);
		put(&all, one.buf, one.len);
		free(one.buf);
	}
	return all;
}

static int
count_rule(const struct mg_report *r, const char *rule)
{
	size_t i;
	int n = 0;

	for (i = 0; i < r->nfindings; i++)
		n += strcmp(r->findings[i].rule, rule) == 0;
	return n;
}

START_TEST(test_distcp_every_archive_is_scanned_clean)
{
	struct zb z = distcp(4, 99);
	struct mg_report *r = scan("__0_0.distcp", z.buf, z.len);

	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	ck_assert_str_eq(r->format, "torch-dcp");
	ck_assert(!find(r, "zip.prepended", NULL));
	ck_assert_uint_eq(r->npickles, 4);
	mg_report_free(r);
	free(z.buf);
}
END_TEST

/* The payload in the first, a middle and the last archive: each found,
 * and named by the archive's offset. */
START_TEST(test_distcp_payload_found_in_any_archive)
{
	unsigned pos[3] = { 0, 2, 4 }, i;
	char want[64];

	for (i = 0; i < 3; i++) {
		struct zb z = distcp(5, pos[i]), one = { 0 };
		struct mg_report *r;
		const struct mg_finding *f;

		torch_archive(&one, "archive", plain_pickle, PLAIN_LEN, NULL);
		r = scan("__0_0.distcp", z.buf, z.len);
		ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
		ck_assert_uint_eq(r->npickles, 5);
		f = find(r, "pickle.global.denied", NULL);
		ck_assert_ptr_nonnull(f);
		snprintf(want, sizeof(want), "@%zu!archive/data.pkl",
		         (size_t)pos[i] * one.len);
		ck_assert_str_eq(f->member, want);
		mg_report_free(r);
		free(z.buf);
		free(one.buf);
	}
}
END_TEST

/* A raw pickle between two archives: torch.load of that byte range
 * would unpickle it, so it is scanned; junk there is an error. */
START_TEST(test_distcp_bytes_between_archives_are_scanned)
{
	struct zb a = distcp(1, 99), b = distcp(1, 99), z = { 0 };
	struct mg_report *r;
	const struct mg_finding *f;
	char gap[32];

	put(&z, a.buf, a.len);
	put(&z, evil_pickle, EVIL_LEN);
	put(&z, b.buf, b.len);
	r = scan("__0_0.distcp", z.buf, z.len);
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert_uint_eq(r->npickles, 3);
	f = find(r, "pickle.global.denied", NULL);
	ck_assert_ptr_nonnull(f);
	snprintf(gap, sizeof(gap), "@%zu", a.len);
	ck_assert_str_eq(f->member, gap);
	mg_report_free(r);
	z.len = 0;
	put(&z, a.buf, a.len);
	put(&z, "garbage!", 8);
	put(&z, b.buf, b.len);
	r = scan("__0_0.distcp", z.buf, z.len);
	/* GET's line runs to the end of the range: the loader fails
	 * before anything runs, so the range is inert, not an error. */
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	f = find(r, "format.inert", NULL);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->member, gap);
	mg_report_free(r);
	z.len = 0;
	put(&z, a.buf, a.len);
	put(&z, "\x88\x88\x93!", 4);
	put(&z, b.buf, b.len);
	r = scan("__0_0.distcp", z.buf, z.len);
	ck_assert_int_ge(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
	free(a.buf), free(b.buf), free(z.buf);
}
END_TEST

/* A payload after the last archive of a file of several. */
START_TEST(test_distcp_bytes_after_the_last_archive_are_scanned)
{
	struct zb z = distcp(2, 99);
	struct mg_report *r;

	put(&z, evil_pickle, EVIL_LEN);
	r = scan("__0_0.distcp", z.buf, z.len);
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
	free(z.buf);
}
END_TEST

/* A decompression budget for the file, not one per archive. */
START_TEST(test_distcp_archives_share_the_decompression_cap)
{
	struct zb all = { 0 };
	struct zopt d = { .deflate = 1 };
	struct mg_scan_opts o = opts();
	struct mg_report *r = mg_report_new();
	static uint8_t big[200000];
	unsigned i;

	for (i = 0; i < 3; i++) {
		struct zb one = { 0 };

		zb_add(&one, "archive/blob.bin", big, sizeof(big), &d);
		zb_finish(&one);
		put(&all, one.buf, one.len);
		free(one.buf);
	}
	o.max_decompressed = 500000;    /* two fit, the third does not */
	ck_assert_int_eq(mg_scan_buffer(&o, "x.distcp", all.buf, all.len, r),
	                 MG_OK);
	ck_assert_ptr_nonnull(find(r, "zip.limit", NULL));
	ck_assert_int_eq(count_rule(r, "zip.limit"), 1);
	mg_report_free(r);
	free(all.buf);
}
END_TEST

START_TEST(test_zip_local_header_name_disagreeing_is_dangerous)
{
	struct zb z = { 0 };
	struct zopt o = { .local_name = "archive/xxxx.pkl" };
	struct mg_report *r;

	zb_add(&z, "archive/data.pkl", "\x80\x02N.", 4, &o);
	zb_finish(&z);
	r = scan("m.pt", z.buf, z.len);
	ck_assert_ptr_nonnull(find(r, "zip.local_header", "archive/data.pkl"));
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
	free(z.buf);
}
END_TEST

START_TEST(test_zip_odd_flags_are_reported_and_member_read)
{
	struct zb z = { 0 };
	struct zopt o = { .flags = 0x0020 };
	struct mg_report *r;

	zb_add(&z, "archive/data.pkl", evil_pickle, EVIL_LEN, &o);
	zb_finish(&z);
	r = scan("m.pt", z.buf, z.len);
	ck_assert_ptr_nonnull(find(r, "zip.flags", "archive/data.pkl"));
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
	free(z.buf);
}
END_TEST

START_TEST(test_zip_encrypted_member_is_error)
{
	struct zb z = { 0 };
	struct zopt o = { .flags = 1 };
	struct mg_report *r;

	zb_add(&z, "archive/data.pkl", "\x80\x02N.", 4, &o);
	zb_finish(&z);
	r = scan("m.pt", z.buf, z.len);
	ck_assert_ptr_nonnull(find(r, "zip.encrypted", "archive/data.pkl"));
	ck_assert_int_ge(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
	free(z.buf);
}
END_TEST

START_TEST(test_zip_storage_members_are_not_read)
{
	struct zb z = { 0 };
	struct mg_report *r;

	/* tensor bytes that happen to look like a pickle: never unpickled
	 * by torch, so never a finding */
	zb_add(&z, "archive/data/0", "\x80\x02\x8a\xff\xff\xff", 6, NULL);
	zb_add(&z, "archive/version", "3\n", 2, NULL);
	zb_finish(&z);
	r = scan("m.pt", z.buf, z.len);
	ck_assert(!names_member(r, "archive/data/0"));
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	mg_report_free(r);
	free(z.buf);
}
END_TEST

START_TEST(test_zip_pickle_under_any_name_is_scanned)
{
	struct zb z = { 0 };
	struct mg_report *r;

	zb_add(&z, "archive/data.pkl", "\x80\x02N.", 4, NULL);
	zb_add(&z, ".hidden/x/weights.bin", evil_pickle, EVIL_LEN, NULL);
	zb_finish(&z);
	r = scan("m.pt", z.buf, z.len);
	ck_assert_str_eq(r->format, "torch-zip");
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(names_member(r, ".hidden/x/weights.bin"));
	mg_report_free(r);
	free(z.buf);
}
END_TEST

START_TEST(test_zip_truncated_is_error)
{
	struct zb z = { 0 };
	struct mg_report *r;

	zb_add(&z, "archive/data.pkl", "\x80\x02N.", 4, NULL);
	zb_finish(&z);
	r = scan("m.pt", z.buf, z.len - 30);
	ck_assert_ptr_nonnull(find(r, "zip.directory", NULL));
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
	free(z.buf);
}
END_TEST

START_TEST(test_zip_absurd_entry_count_is_bounded)
{
	struct zb z = { 0 };
	struct mg_report *r;

	zb_add(&z, "a.txt", "x", 1, NULL);
	zb_finish(&z);
	le(z.buf + z.len - 22 + 8, 0xffff, 2);
	le(z.buf + z.len - 22 + 10, 0xffff, 2);
	r = scan("m.zip", z.buf, z.len);
	ck_assert_ptr_nonnull(find(r, "zip.directory", NULL));
	ck_assert_int_ge(r->verdict, MG_VERDICT_UNKNOWN);
	mg_report_free(r);
	free(z.buf);
}
END_TEST

START_TEST(test_zip_bomb_hits_the_cap)
{
	struct zb z = { 0 };
	struct zopt d = { .deflate = 1 };
	struct mg_scan_opts o = opts();
	struct mg_report *r = mg_report_new();
	uint8_t *zeros = calloc(1, 4 << 20);

	zb_add(&z, "archive/data.pkl", zeros, 4 << 20, &d);
	zb_finish(&z);
	o.max_decompressed = 1 << 20;
	ck_assert_int_eq(mg_scan_buffer(&o, "m.pt", z.buf, z.len, r), MG_OK);
	ck_assert_ptr_nonnull(find(r, "zip.limit", "archive/data.pkl"));
	ck_assert_int_ge(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
	free(zeros);
	free(z.buf);
}
END_TEST

START_TEST(test_zip_cap_is_shared_by_all_members)
{
	struct zb z = { 0 };
	struct zopt d = { .deflate = 1 };
	struct mg_scan_opts o = opts();
	struct mg_report *r = mg_report_new();
	uint8_t *zeros = calloc(1, 3 << 19);

	/* three 1.5 MiB members under a 4 MiB cap: the third one hits it */
	zb_add(&z, "a.pkl", zeros, 3 << 19, &d);
	zb_add(&z, "b.pkl", zeros, 3 << 19, &d);
	zb_add(&z, "c.pkl", zeros, 3 << 19, &d);
	zb_finish(&z);
	o.max_decompressed = 4 << 20;
	ck_assert_int_eq(mg_scan_buffer(&o, "m.zip", z.buf, z.len, r), MG_OK);
	ck_assert_ptr_null(find(r, "zip.limit", "a.pkl"));
	ck_assert_ptr_nonnull(find(r, "zip.limit", "c.pkl"));
	mg_report_free(r);
	free(zeros);
	free(z.buf);
}
END_TEST

START_TEST(test_zip_large_deflated_pickle_is_scanned_whole)
{
	struct zb z = { 0 };
	struct zopt d = { .deflate = 1 };
	size_t big = 2u << 20, n = 0;
	uint8_t *p = calloc(1, big + 64);
	struct mg_report *r;

	/* PROTO 3, BINBYTES of 2 MiB, POP, then posix.system('ls') */
	memcpy(p, "\x80\x03" "B", 3);
	le(p + 3, big, 4);
	n = 7 + big;
	p[n++] = '0';
	memcpy(p + n, evil_pickle + 2, EVIL_LEN - 2);
	n += EVIL_LEN - 2;
	zb_add(&z, "archive/data.pkl", p, n, &d);
	zb_finish(&z);
	r = scan("m.pt", z.buf, z.len);
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
	free(p);
	free(z.buf);
}
END_TEST

START_TEST(test_zip_nesting_depth_is_capped)
{
	struct zb z[12];
	struct mg_report *r;
	int i;

	memset(z, 0, sizeof(z));
	zb_add(&z[0], "archive/data.pkl", "\x80\x02N.", 4, NULL);
	zb_finish(&z[0]);
	for (i = 1; i < 12; i++) {
		zb_add(&z[i], "inner.pt", z[i - 1].buf, z[i - 1].len, NULL);
		zb_finish(&z[i]);
	}
	r = scan("m.zip", z[11].buf, z[11].len);
	ck_assert_ptr_nonnull(find(r, "container.depth", NULL));
	ck_assert_int_ge(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
	for (i = 0; i < 12; i++)
		free(z[i].buf);
}
END_TEST

START_TEST(test_npz_members_go_through_npy)
{
	struct zb z = { 0 };
	struct zopt d = { .deflate = 1 };
	uint8_t npy[256], bad[256];
	float data[6] = { 0 };
	size_t n, nb;
	struct mg_report *r;

	n = npy_v1(npy, sizeof(npy), "{'descr': '<f4', 'fortran_order': "
	           "False, 'shape': (2, 3), }", data, sizeof(data));
	nb = npy_v1(bad, sizeof(bad), "{'descr': '<f4', 'shape': (2, 3), }",
	            data, sizeof(data));
	zb_add(&z, "a.npy", npy, n, NULL);
	zb_add(&z, "b.npy", npy, n, &d);
	zb_finish(&z);
	r = scan("x.npz", z.buf, z.len);
	ck_assert_str_eq(r->format, "npz");
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	mg_report_free(r);
	free(z.buf);
	memset(&z, 0, sizeof(z));
	zb_add(&z, "a.npy", npy, n, NULL);
	zb_add(&z, "c.npy", bad, nb, NULL);
	zb_finish(&z);
	r = scan("x.npz", z.buf, z.len);
	ck_assert_ptr_nonnull(find(r, "npy.header", "c.npy"));
	mg_report_free(r);
	free(z.buf);
}
END_TEST

START_TEST(test_npz_large_deflated_member_checked_from_its_header)
{
	struct zb z = { 0 };
	struct zopt d = { .deflate = 1 };
	size_t body = 3u << 20, n;
	uint8_t *npy = calloc(1, body + 256), *zeros = calloc(1, body);
	struct mg_report *r;

	/* 3 MiB of float64 zeros, deflated: larger than the prefix */
	n = npy_v1(npy, body + 256, "{'descr': '<f8', 'fortran_order': "
	           "False, 'shape': (393216,), }", zeros, body);
	zb_add(&z, "w.npy", npy, n, &d);
	zb_finish(&z);
	r = scan("x.npz", z.buf, z.len);
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	mg_report_free(r);
	free(z.buf);
	/* the same header claiming one element more: truncated */
	memset(&z, 0, sizeof(z));
	n = npy_v1(npy, body + 256, "{'descr': '<f8', 'fortran_order': "
	           "False, 'shape': (393217,), }", zeros, body);
	zb_add(&z, "w.npy", npy, n, &d);
	zb_finish(&z);
	r = scan("x.npz", z.buf, z.len);
	ck_assert_ptr_nonnull(find(r, "npy.truncated", "w.npy"));
	mg_report_free(r);
	free(z.buf);
	free(npy);
	free(zeros);
}
END_TEST

/* --- npy ------------------------------------------------------------------- */

static struct mg_report *
scan_npy(const char *hdr, const void *data, size_t dlen)
{
	static uint8_t b[1 << 16];
	size_t n = npy_v1(b, sizeof(b), hdr, data, dlen);

	return scan("a.npy", b, n);
}

START_TEST(test_npy_numeric_exact_length_is_clean)
{
	double d[6] = { 0 };
	struct mg_report *r = scan_npy("{'descr': '<f8', 'fortran_order': "
	                               "True, 'shape': (3, 2), }", d, sizeof(d));

	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	ck_assert_uint_eq(r->nfindings, 0);
	mg_report_free(r);
}
END_TEST

START_TEST(test_npy_truncated_data_is_error)
{
	double d[6] = { 0 };
	struct mg_report *r = scan_npy("{'descr': '<f8', 'fortran_order': "
	                               "False, 'shape': (3, 2), }", d, 40);

	ck_assert_ptr_nonnull(find(r, "npy.truncated", NULL));
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
}
END_TEST

START_TEST(test_npy_trailing_data_is_a_finding)
{
	uint8_t d[20] = { 0 };
	struct mg_report *r = scan_npy("{'descr': '|u1', 'fortran_order': "
	                               "False, 'shape': (16,), }", d, 20);

	ck_assert_ptr_nonnull(find(r, "npy.trailing", NULL));
	ck_assert_int_eq(r->verdict, MG_VERDICT_UNKNOWN);
	mg_report_free(r);
}
END_TEST

START_TEST(test_npy_header_literal_rejects)
{
	static const char *bad[] = {
		"{'descr': '<f8', 'fortran_order': False}",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}",
		"{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}",
		"{'descr': '<f8', 'fortran_order': False, 'shape': [2]}",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (-2,)}",
		"{'descr': '<q9', 'fortran_order': False, 'shape': (2,)}",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (2.0,)}",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (2,)} + 1",
		"{'descr': __import__('os'), 'fortran_order': False, 'shape': ()}",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4)}",
		"[1, 2]",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (2,)",
	};
	struct mg_report *r;
	size_t i;
	uint8_t d[16] = { 0 };

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = scan_npy(bad[i], d, 16);
		ck_assert_msg(find(r, "npy.header", NULL) != NULL,
		              "accepted: %s", bad[i]);
		ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
		mg_report_free(r);
	}
}
END_TEST

START_TEST(test_npy_header_literal_accepts_what_literal_eval_does)
{
	static const char *good[] = {
		/* double quotes, comments, no trailing comma, bool shape */
		"{\"descr\": \"<i8\", # a comment\n \"fortran_order\": False, "
		"\"shape\": (True, 2)}",
		/* Python 2 long suffix, stripped by numpy for 1.0 */
		"{'descr': '<i8', 'fortran_order': False, 'shape': (2L,)}",
		/* implicit concatenation and a parenthesised value */
		"{'descr': '<' 'i8', 'fortran_order': (False), 'shape': (2,)}",
		/* duplicate key: Python keeps the last */
		"{'descr': '|O', 'descr': '<i8', 'fortran_order': False, "
		"'shape': (2,)}",
		/* structured with padding and a subarray: 8 + 4 + 4 = 16 */
		"{'descr': [('a', '<i4'), ('', '|V4'), (('t', 'b'), '<f4', (2,))],"
		" 'fortran_order': False, 'shape': (1,)}",
	};
	struct mg_report *r;
	size_t i;
	uint8_t d[16] = { 0 };

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		r = scan_npy(good[i], d, 16);
		ck_assert_msg(r->verdict == MG_VERDICT_CLEAN,
		              "rejected: %s (%s)", good[i], r->nfindings ?
		              r->findings[0].message : "");
		mg_report_free(r);
	}
}
END_TEST

START_TEST(test_npy_object_array_pickle_is_scanned)
{
	struct mg_report *r = scan_npy("{'descr': '|O', 'fortran_order': "
	                                "False, 'shape': (1,), }", evil_pickle,
	                                EVIL_LEN);

	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
	r = scan_npy("{'descr': [('a', '<f4'), ('o', '|O')], 'fortran_order': "
	             "False, 'shape': (1,), }", evil_pickle, EVIL_LEN);
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
}
END_TEST

START_TEST(test_npy_bad_version_and_lengths)
{
	uint8_t b[64];
	struct mg_report *r;

	memcpy(b, "\x93NUMPY\x04\x00\x10\x00", 10);
	memset(b + 10, ' ', 16);
	r = scan("a.npy", b, 26);
	ck_assert_ptr_nonnull(find(r, "npy.header", NULL));
	mg_report_free(r);
	memcpy(b, "\x93NUMPY\x02\x00\xff\xff\xff\x7f", 12);
	r = scan("a.npy", b, 12);
	ck_assert_ptr_nonnull(find(r, "npy.header", NULL));
	mg_report_free(r);
	r = scan("a.npy", b, 7);
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
}
END_TEST

/* --- tar ------------------------------------------------------------------- */

static void
tar_header(uint8_t *h, const char *name, size_t size)
{
	unsigned sum = 0;
	int i;

	memset(h, 0, 512);
	memcpy(h, name, strlen(name));
	snprintf((char *)h + 100, 8, "%07o", 0644);
	snprintf((char *)h + 124, 12, "%011zo", size);
	h[156] = '0';
	memcpy(h + 257, "ustar\0" "00", 8);
	memset(h + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

START_TEST(test_tar_member_past_end_is_error)
{
	uint8_t b[1024];
	struct mg_report *r;

	tar_header(b, "pickle", 4096);
	memset(b + 512, 0, 512);
	r = scan("m.pt", b, sizeof(b));
	ck_assert_ptr_nonnull(find(r, "tar.truncated", NULL));
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
}
END_TEST

START_TEST(test_tar_pickle_member_is_scanned)
{
	uint8_t b[2048];
	struct mg_report *r;

	memset(b, 0, sizeof(b));
	tar_header(b, "pickle", EVIL_LEN);
	memcpy(b + 512, evil_pickle, EVIL_LEN);
	r = scan("m.pt", b, sizeof(b));
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(names_member(r, "pickle"));
	mg_report_free(r);
}
END_TEST

/*
 * A pickle walk through a file mapping drops the pages behind it
 * (mg_scan_drop); what it memoized there must still read right.  "posix"
 * and "system" are memoized in the first page, then 12 MiB of NONE/POP,
 * then STACK_GLOBAL of the two memo entries: the names are read back from
 * pages given back meanwhile, and the call must still be denied.
 */
START_TEST(test_scan_fd_reads_memo_behind_dropped_pages)
{
	static const uint8_t head[] = "\x80\x04" "\x8c\x05posix" "\x94"
	    "\x8c\x06system" "\x94" "00";
	static const uint8_t tail[] = "h\x00h\x01\x93" "\x8c\x02ls" "\x85" "R"
	    ".";
	size_t fill = (size_t)12 << 20, i;
	char path[] = "/tmp/mg_drop_XXXXXX";
	struct mg_scan_opts o = opts();
	struct mg_report *r;
	uint8_t *b;
	size_t n;
	int fd;

	n = sizeof(head) - 1 + fill + sizeof(tail) - 1;
	ck_assert_ptr_nonnull(b = malloc(n));
	memcpy(b, head, sizeof(head) - 1);
	for (i = 0; i < fill; i += 2)
		memcpy(b + sizeof(head) - 1 + i, "N0", 2);
	memcpy(b + n - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
	ck_assert_int_ge(fd = mkstemp(path), 0);
	ck_assert_int_eq(write(fd, b, n), (ssize_t)n);
	ck_assert_ptr_nonnull(r = mg_report_new());
	ck_assert_int_eq(mg_scan_fd(&o, fd, path, r), MG_OK);
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert_ptr_nonnull(find(r, "pickle.global.denied", NULL));
	ck_assert_str_eq(find(r, "pickle.global.denied", NULL)->global,
	                 "posix system");
	mg_report_free(r);
	/* the caller's own buffer: scanned the same, never dropped */
	r = scan(path, b, n);
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert_int_eq(memcmp(b, head, sizeof(head) - 1), 0);
	mg_report_free(r);
	close(fd);
	unlink(path);
	free(b);
}
END_TEST

START_TEST(test_tar_storages_walk_needs_known_type)
{
	/* count 1, args naming an unknown storage class: error, not skip */
	static const uint8_t st[] = "\x80\x02K\x01." "\x80\x02K\x00X\x03\0\0\0cpu"
	    "ctorch\nEvilStorage\n\x87." "\x01\0\0\0\0\0\0\0\0\0\0\0";
	uint8_t b[2048];
	struct mg_report *r;

	memset(b, 0, sizeof(b));
	tar_header(b, "storages", sizeof(st) - 1);
	memcpy(b + 512, st, sizeof(st) - 1);
	r = scan("m.pt", b, sizeof(b));
	ck_assert_int_ge(r->verdict, MG_VERDICT_UNKNOWN);
	ck_assert(names_member(r, "storages"));
	mg_report_free(r);
}
END_TEST

START_TEST(test_tar_members_after_a_nameless_header_are_read)
{
	uint8_t b[3072];
	struct mg_report *r;

	memset(b, 0, sizeof(b));
	tar_header(b, "", 1);          /* nameless, but not an end block */
	tar_header(b + 1024, "pickle", EVIL_LEN);
	memcpy(b + 1536, evil_pickle, EVIL_LEN);
	r = scan("m.pt", b, sizeof(b));
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(names_member(r, "pickle"));
	mg_report_free(r);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("containers");
	TCase *t;

	t = tcase_create("sniff");
	tcase_add_test(t, test_sniff_recognises_every_magic);
	tcase_add_test(t, test_sniff_finds_tar_and_hdf5_user_block);
	tcase_add_test(t, test_safetensors_length_must_fit);
	tcase_add_test(t, test_unknown_bytes_named_pt_are_error);
	tcase_add_test(t, test_bytes_the_loader_rejects_first_are_inert);
	tcase_add_test(t, test_unknown_bytes_that_load_as_plain_data_are_clean);
	tcase_add_test(t, test_7z_is_error_never_clean);
	tcase_add_test(t, test_pickle_named_safetensors_is_dangerous_mismatch);
	tcase_add_test(t, test_zip_named_npy_is_unknown_mismatch);
	tcase_add_test(t, test_zip_after_prepended_bytes_is_found_and_scanned);
	tcase_add_test(t, test_tar_that_is_also_a_pickle_is_dangerous);
	tcase_add_test(t, test_data_pkl_is_scanned_as_pickle_whatever_it_sniffs_as);
	suite_add_tcase(s, t);
	t = tcase_create("zip");
	tcase_set_timeout(t, 30);
	tcase_add_test(t, test_zip_duplicate_names_are_dangerous_and_both_scanned);
	tcase_add_test(t, test_zip_crc_mismatch_is_info_and_member_still_scanned);
	tcase_add_test(t, test_zip_crc_mismatch_in_deflated_member);
	tcase_add_test(t, test_zip_crc_zero_from_torch_save_is_clean);
	tcase_add_test(t, test_zip_deflated_size_disagreeing_is_error);
	tcase_add_test(t, test_zip_local_header_name_disagreeing_is_dangerous);
	tcase_add_test(t, test_zip_encrypted_member_is_error);
	tcase_add_test(t, test_zip_odd_flags_are_reported_and_member_read);
	tcase_add_test(t, test_zip_storage_members_are_not_read);
	tcase_add_test(t, test_zip_pickle_under_any_name_is_scanned);
	tcase_add_test(t, test_zip_truncated_is_error);
	tcase_add_test(t, test_zip_absurd_entry_count_is_bounded);
	tcase_add_test(t, test_zip_bomb_hits_the_cap);
	tcase_add_test(t, test_zip_nesting_depth_is_capped);
	tcase_add_test(t, test_zip_cap_is_shared_by_all_members);
	tcase_add_test(t, test_zip_large_deflated_pickle_is_scanned_whole);
	tcase_add_test(t, test_npz_members_go_through_npy);
	tcase_add_test(t, test_npz_large_deflated_member_checked_from_its_header);
	suite_add_tcase(s, t);
	t = tcase_create("distcp");
	tcase_add_test(t, test_distcp_every_archive_is_scanned_clean);
	tcase_add_test(t, test_distcp_payload_found_in_any_archive);
	tcase_add_test(t, test_distcp_bytes_between_archives_are_scanned);
	tcase_add_test(t, test_distcp_bytes_after_the_last_archive_are_scanned);
	tcase_add_test(t, test_distcp_archives_share_the_decompression_cap);
	suite_add_tcase(s, t);
	t = tcase_create("npy");
	tcase_add_test(t, test_npy_numeric_exact_length_is_clean);
	tcase_add_test(t, test_npy_truncated_data_is_error);
	tcase_add_test(t, test_npy_trailing_data_is_a_finding);
	tcase_add_test(t, test_npy_header_literal_rejects);
	tcase_add_test(t, test_npy_header_literal_accepts_what_literal_eval_does);
	tcase_add_test(t, test_npy_object_array_pickle_is_scanned);
	tcase_add_test(t, test_npy_bad_version_and_lengths);
	tcase_add_test(t, test_scan_fd_reads_memo_behind_dropped_pages);
	suite_add_tcase(s, t);
	t = tcase_create("tar");
	tcase_add_test(t, test_tar_member_past_end_is_error);
	tcase_add_test(t, test_tar_pickle_member_is_scanned);
	tcase_add_test(t, test_tar_storages_walk_needs_known_type);
	tcase_add_test(t, test_tar_members_after_a_nameless_header_are_read);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
