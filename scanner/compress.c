/*
 * compress.c - the compression wrappers a loader undoes before unpickling.
 *
 * gzip (gzip.open, pandas, joblib 'gzip'), bzip2 (bz2.open, joblib 'bz2'),
 * xz and lzma-alone (lzma.open, joblib 'xz'/'lzma'), zlib (joblib's default
 * compressor writes one raw zlib stream), zstd, lz4 frame (joblib 'lz4'),
 * and the 'ZF' zlib files of joblib < 0.10.  Each is decompressed into
 * memory, capped at o->max_decompressed, and what comes out is scanned by
 * content through mg_scan_any(depth + 1) as member "<member>|<format>".
 *
 * Approach: one small driver, one table entry per format (init, step, end).
 * The driver owns the output buffer, the cap and what happens after a
 * stream ends, because that is where the Python loaders differ and where a
 * payload could hide:
 *   - gzip: gzip.py reads member after member, skipping zero padding;
 *     anything else after a member raises BadGzipFile (joblib's own gzip
 *     reader loops forever on it).  We decode every member; other trailing
 *     bytes are an error finding.
 *   - zlib, zstd: nothing may follow the stream(s) (joblib's zlib reader
 *     feeds trailing bytes back to a finished decompressor forever).
 *   - bz2, xz/lzma, lz4: _compression.DecompressReader starts a new
 *     decompressor on whatever follows; bz2 and lzma silently drop trailing
 *     bytes that fail at once, lz4 raises.  We start a new stream the same
 *     way: a bz2/lzma stream that fails before producing a byte is dropped
 *     as the loader drops it, every other failure is a finding.
 * Rejected: decompressing to a temporary file (the helper cannot write) and
 * scanning only a prefix (a payload may sit at any offset).
 *
 * Why in memory: pickle scanning needs random access for joblib bodies and
 * nested containers; the cap bounds memory, and the buffer grows by doubling
 * so a small stream never costs more than twice its decompressed size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bzlib.h>
#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "formats.h"
#include "pickle.h"

/* Result of one decoder step. */
enum dstat {
	D_MORE = 0, /* consumed input / produced output; call again */
	D_END,      /* the current stream ended cleanly */
	D_ERR,      /* the data is corrupt (msg set) */
	D_NOMEM,
};

struct dec;

/* One compression format. */
struct codec {
	const char *name;      /* "gzip", ...; also the member suffix */
	int multi;             /* how a following stream is treated (below) */
	int (*init)(struct dec *d);
	enum dstat (*step)(struct dec *d, const uint8_t *in, size_t inlen,
	                   size_t *used, uint8_t *out, size_t outlen,
	                   size_t *made);
	void (*end)(struct dec *d);
};

/* What follows a complete stream (see the file comment). */
#define MULTI_NONE 0    /* nothing may follow */
#define MULTI_GZIP 1    /* zero padding or another gzip member */
#define MULTI_DROP 2    /* a new stream; failing at once: dropped */
#define MULTI_STRICT 3  /* a new stream; any failure is a finding */
#define MULTI_NATIVE 4  /* the decoder handles concatenation itself */

struct dec {
	const char *msg;       /* why D_ERR */
	z_stream z;
	bz_stream bz;
	lzma_stream lz;
	ZSTD_DStream *zs;
	LZ4F_dctx *l4;
};

/* Decompressed output, grown by doubling up to @max. */
struct sink {
	uint8_t *buf;
	size_t len, cap, max;
	int capped;            /* the stream wanted to write past @max */
};

/* --- zlib and gzip ------------------------------------------------------ */

static int
z_init(struct dec *d, int wbits)
{
	memset(&d->z, 0, sizeof(d->z));
	return inflateInit2(&d->z, wbits) == Z_OK ? 0 : -1;
}

static int z_init_zlib(struct dec *d) { return z_init(d, 15); }
static int z_init_gzip(struct dec *d) { return z_init(d, 31); }

static enum dstat
z_step(struct dec *d, const uint8_t *in, size_t inlen, size_t *used,
       uint8_t *out, size_t outlen, size_t *made)
{
	int r;

	/* Why the clamp: z_stream counts in uInt; the driver loops. */
	d->z.next_in = (Bytef *)(uintptr_t)in;
	d->z.avail_in = inlen > UINT32_MAX ? UINT32_MAX : (uInt)inlen;
	d->z.next_out = out;
	d->z.avail_out = outlen > UINT32_MAX ? UINT32_MAX : (uInt)outlen;
	r = inflate(&d->z, Z_NO_FLUSH);
	*used = (size_t)(d->z.next_in - in);
	*made = (size_t)(d->z.next_out - out);
	switch (r) {
	case Z_OK:
		return D_MORE;
	case Z_STREAM_END:
		return D_END;
	case Z_BUF_ERROR: /* no progress possible: input ran out */
		return D_MORE;
	case Z_MEM_ERROR:
		return D_NOMEM;
	default:
		d->msg = d->z.msg != NULL ? d->z.msg : "corrupt deflate data";
		return D_ERR;
	}
}

static void z_end(struct dec *d) { inflateEnd(&d->z); }

/* --- bzip2 -------------------------------------------------------------- */

static int
bz_init(struct dec *d)
{
	memset(&d->bz, 0, sizeof(d->bz));
	return BZ2_bzDecompressInit(&d->bz, 0, 0) == BZ_OK ? 0 : -1;
}

static enum dstat
bz_step(struct dec *d, const uint8_t *in, size_t inlen, size_t *used,
        uint8_t *out, size_t outlen, size_t *made)
{
	int r;

	d->bz.next_in = (char *)(uintptr_t)in;
	d->bz.avail_in = inlen > UINT32_MAX ? UINT32_MAX : (unsigned)inlen;
	d->bz.next_out = (char *)out;
	d->bz.avail_out = outlen > UINT32_MAX ? UINT32_MAX : (unsigned)outlen;
	r = BZ2_bzDecompress(&d->bz);
	*used = (size_t)((const uint8_t *)d->bz.next_in - in);
	*made = (size_t)((uint8_t *)d->bz.next_out - out);
	if (r == BZ_OK)
		return D_MORE;
	if (r == BZ_STREAM_END)
		return D_END;
	if (r == BZ_MEM_ERROR)
		return D_NOMEM;
	d->msg = r == BZ_DATA_ERROR_MAGIC ? "not a bzip2 stream" :
	         "corrupt bzip2 data";
	return D_ERR;
}

static void bz_end(struct dec *d) { BZ2_bzDecompressEnd(&d->bz); }

/* --- xz and lzma-alone -------------------------------------------------- */

/* Why 1 GiB: lzma-alone headers name their dictionary size and liblzma
 * allocates it up front; xz -9 needs 65 MiB, so only a hostile header gets
 * near this, and it becomes a finding instead of an allocation. */
#define MG_LZMA_MEMLIMIT ((uint64_t)1 << 30)

static int
lz_init(struct dec *d)
{
	lzma_stream init = LZMA_STREAM_INIT;

	d->lz = init;
	/* Same decoder as Python's lzma.FORMAT_AUTO: xz or lzma-alone. */
	return lzma_auto_decoder(&d->lz, MG_LZMA_MEMLIMIT, 0) == LZMA_OK ?
	       0 : -1;
}

static enum dstat
lz_step(struct dec *d, const uint8_t *in, size_t inlen, size_t *used,
        uint8_t *out, size_t outlen, size_t *made)
{
	lzma_ret r;

	d->lz.next_in = in;
	d->lz.avail_in = inlen;
	d->lz.next_out = out;
	d->lz.avail_out = outlen;
	/* Why LZMA_FINISH: the whole input is here; the decoder then reports
	 * a truncated stream as LZMA_BUF_ERROR instead of waiting. */
	r = lzma_code(&d->lz, LZMA_FINISH);
	*used = inlen - d->lz.avail_in;
	*made = outlen - d->lz.avail_out;
	switch (r) {
	case LZMA_OK:
		return D_MORE;
	case LZMA_STREAM_END:
		return D_END;
	case LZMA_BUF_ERROR: /* no progress: the driver tells why */
		return D_MORE;
	case LZMA_MEM_ERROR:
		return D_NOMEM;
	case LZMA_MEMLIMIT_ERROR:
		d->msg = "the stream asks for more than 1 GiB of decoder memory";
		return D_ERR;
	case LZMA_FORMAT_ERROR:
		d->msg = "not an xz or lzma stream";
		return D_ERR;
	default:
		d->msg = "corrupt xz/lzma data";
		return D_ERR;
	}
}

static void lz_end(struct dec *d) { lzma_end(&d->lz); }

/* --- zstd --------------------------------------------------------------- */

static int
zs_init(struct dec *d)
{
	if ((d->zs = ZSTD_createDStream()) == NULL)
		return -1;
	if (ZSTD_isError(ZSTD_initDStream(d->zs))) {
		ZSTD_freeDStream(d->zs);
		return -1;
	}
	return 0;
}

static enum dstat
zs_step(struct dec *d, const uint8_t *in, size_t inlen, size_t *used,
        uint8_t *out, size_t outlen, size_t *made)
{
	ZSTD_inBuffer ib = { in, inlen, 0 };
	ZSTD_outBuffer ob = { out, outlen, 0 };
	size_t r;

	r = ZSTD_decompressStream(d->zs, &ob, &ib);
	*used = ib.pos;
	*made = ob.pos;
	if (ZSTD_isError(r)) {
		d->msg = ZSTD_getErrorName(r);
		return D_ERR;
	}
	/* r == 0: a frame just ended; concatenated frames continue in the
	 * same context, so only the end of input ends the stream. */
	return r == 0 && ib.pos == inlen ? D_END : D_MORE;
}

static void zs_end(struct dec *d) { ZSTD_freeDStream(d->zs); }

/* --- lz4 frame ---------------------------------------------------------- */

static int
l4_init(struct dec *d)
{
	return LZ4F_isError(LZ4F_createDecompressionContext(&d->l4,
	                    LZ4F_VERSION)) ? -1 : 0;
}

static enum dstat
l4_step(struct dec *d, const uint8_t *in, size_t inlen, size_t *used,
        uint8_t *out, size_t outlen, size_t *made)
{
	size_t src = inlen, dst = outlen, r;

	r = LZ4F_decompress(d->l4, out, &dst, in, &src, NULL);
	*used = src;
	*made = dst;
	if (LZ4F_isError(r)) {
		d->msg = LZ4F_getErrorName(r);
		return D_ERR;
	}
	return r == 0 ? D_END : D_MORE;
}

static void l4_end(struct dec *d) { LZ4F_freeDecompressionContext(d->l4); }

static const struct codec codecs[] = {
	{ "gzip", MULTI_GZIP, z_init_gzip, z_step, z_end },
	{ "zlib", MULTI_NONE, z_init_zlib, z_step, z_end },
	{ "bzip2", MULTI_DROP, bz_init, bz_step, bz_end },
	{ "xz", MULTI_DROP, lz_init, lz_step, lz_end },
	{ "zstd", MULTI_NATIVE, zs_init, zs_step, zs_end },
	{ "lz4", MULTI_STRICT, l4_init, l4_step, l4_end },
};
enum { C_GZIP, C_ZLIB, C_BZIP2, C_XZ, C_ZSTD, C_LZ4 };

/* --- the driver --------------------------------------------------------- */

/* Make room for at least one more byte; 1 when the cap stops it. */
static int
sink_grow(struct sink *s)
{
	size_t ncap;
	uint8_t *nb;

	if (s->cap >= s->max) {
		s->capped = 1;
		return 1;
	}
	ncap = s->cap > s->max / 2 ? s->max : s->cap * 2;
	if ((nb = realloc(s->buf, ncap)) == NULL)
		return -1;
	s->buf = nb;
	s->cap = ncap;
	return 0;
}

/* Outcome of decoding one stream. */
struct run {
	size_t used;     /* input bytes consumed */
	size_t made;     /* output bytes produced by this stream */
	enum dstat st;   /* D_END, D_ERR, D_NOMEM, or D_MORE = truncated */
	int capped;      /* stopped by the output cap */
	const char *msg;
};

/* Decode one stream of @c from @in into @s. */
static void
run_stream(const struct codec *c, const uint8_t *in, size_t inlen,
           struct sink *s, struct run *r)
{
	struct dec d;
	size_t used, made;
	int g;

	memset(&d, 0, sizeof(d));
	memset(r, 0, sizeof(*r));
	/* Why NOMEM: every init fails only for want of memory. */
	if (c->init(&d) != 0) {
		r->st = D_NOMEM;
		return;
	}
	for (;;) {
		if (s->len == s->cap && (g = sink_grow(s)) != 0) {
			r->st = g < 0 ? D_NOMEM : D_MORE;
			r->capped = g > 0;
			break;
		}
		used = made = 0;
		r->st = c->step(&d, in + r->used, inlen - r->used, &used,
		                s->buf + s->len, s->cap - s->len, &made);
		r->used += used;
		r->made += made;
		s->len += made;
		if (r->st != D_MORE)
			break;
		/* Why: no progress with output room left means the input
		 * ended inside the stream (truncated). */
		if (used == 0 && made == 0 && s->len < s->cap)
			break;
	}
	r->msg = d.msg;
	c->end(&d);
}

static const char *
suffix_member(const char *member, const char *fmt, char *out, size_t outlen)
{
	if (member != NULL)
		snprintf(out, outlen, "%s|%s", member, fmt);
	else
		snprintf(out, outlen, "%s", fmt);
	return out;
}

/* A finding about stream @c at input offset @off. */
static enum mg_err
finding(struct mg_report *rep, const char *member, const struct codec *c,
        const char *rule, uint64_t off, const char *what)
{
	return mg_report_add(rep, MG_VERDICT_ERROR, rule, NULL, member, off,
	                     "%s stream: %s; the loader fails here, possibly "
	                     "after running what came before", c->name, what);
}

/* Bytes left after a finished stream: does another stream start there? */
static int
next_stream(const struct codec *c, const uint8_t *buf, size_t len,
            size_t *pos)
{
	if (c->multi == MULTI_GZIP) {
		/* gzip.py's _read_eof skips zero padding between members. */
		while (*pos < len && buf[*pos] == 0)
			(*pos)++;
		if (*pos == len)
			return 0;
		return 1;
	}
	return *pos < len;
}

/* Decode every stream of @c in @buf into @s; findings into @rep. */
static enum mg_err
decode_all(const struct codec *c, const uint8_t *buf, size_t len,
           const char *member, struct sink *s, struct mg_report *rep)
{
	struct run r;
	size_t pos = 0;
	unsigned n;

	for (n = 0;; n++) {
		run_stream(c, buf + pos, len - pos, s, &r);
		if (r.st == D_NOMEM)
			return MG_ERR_NOMEM;
		if (r.capped)
			return mg_report_add(rep, MG_VERDICT_ERROR,
			                     "compress.limit", NULL, member, pos +
			                     r.used, "%s stream decompresses to more "
			                     "than %zu bytes (the cap); a "
			                     "decompression bomb or a model too big "
			                     "to check", c->name, s->max);
		/* Why: bz2/lzma readers drop a trailing stream that fails at
		 * once (nothing decoded): what they drop cannot run. */
		if (n > 0 && c->multi == MULTI_DROP && r.made == 0 &&
		    r.st == D_ERR)
			return MG_OK;
		if (r.st == D_ERR)
			return finding(rep, member, c, "compress.corrupt",
			               pos + r.used, r.msg);
		if (r.st != D_END)
			return finding(rep, member, c, "compress.truncated",
			               pos + r.used, "truncated (ends before "
			               "its end-of-stream marker)");
		pos += r.used;
		if (!next_stream(c, buf, len, &pos))
			return MG_OK;
		if (c->multi == MULTI_NONE || c->multi == MULTI_NATIVE ||
		    (c->multi == MULTI_GZIP &&
		     (len - pos < 2 || buf[pos] != 0x1f || buf[pos + 1] != 0x8b)))
			return finding(rep, member, c, "compress.trailing", pos,
			               "bytes follow the end of the stream");
	}
}

/* Which codec the magic bytes of @buf name, or -1. */
static int
codec_of(const uint8_t *buf, size_t len)
{
	if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
		return C_GZIP;
	if (len >= 3 && memcmp(buf, "BZh", 3) == 0)
		return C_BZIP2;
	if (len >= 6 && memcmp(buf, "\xfd" "7zXZ\0", 6) == 0)
		return C_XZ;
	/* lzma-alone has no magic; the sniffer routes the 0x5d properties
	 * byte every encoder writes (joblib's prefix is "\x5d\x00"). */
	if (len >= 13 && buf[0] == 0x5d)
		return C_XZ;
	if (len >= 4 && memcmp(buf, "\x28\xb5\x2f\xfd", 4) == 0)
		return C_ZSTD;
	if (len >= 4 && memcmp(buf, "\x04\x22\x4d\x18", 4) == 0)
		return C_LZ4;
	/* zlib: deflate method, 32 KiB window at most, header checksum. */
	if (len >= 2 && (buf[0] & 0x0f) == 8 && (buf[0] >> 4) <= 7 &&
	    ((unsigned)buf[0] << 8 | buf[1]) % 31 == 0)
		return C_ZLIB;
	return -1;
}

/*
 * joblib < 0.10 'ZF' files (numpy_pickle_compat.read_zfile): "ZF", the
 * decompressed length as int(x, 16) text in 19 bytes, an optional space,
 * then one zlib stream which zlib.decompress() inflates (ignoring what
 * follows it).  Sets *@off to where the zlib data starts.  0 or -1.
 */
#define ZF_HEADER 21 /* len(b"ZF") + len(hex(2**64)) */
static int
zfile_header(const uint8_t *buf, size_t len, size_t *off,
             unsigned long long *declared)
{
	size_t i = 2, end = ZF_HEADER;
	unsigned long long v = 0;
	int digits = 0, d;

	if (len < ZF_HEADER)
		return -1;
	/* int(x, 16): surrounding whitespace, optional sign and 0x. */
	while (i < end && (buf[i] == ' ' || (buf[i] >= '\t' && buf[i] <= '\r')))
		i++;
	if (i < end && buf[i] == '+')
		i++;
	if (i + 1 < end && buf[i] == '0' && (buf[i + 1] | 0x20) == 'x')
		i += 2;
	for (; i < end; i++, digits++) {
		if (buf[i] >= '0' && buf[i] <= '9')
			d = buf[i] - '0';
		else if ((buf[i] | 0x20) >= 'a' && (buf[i] | 0x20) <= 'f')
			d = (buf[i] | 0x20) - 'a' + 10;
		else
			break;
		if (v >> 60)
			return -1;
		v = v << 4 | (unsigned)d;
	}
	while (i < end && (buf[i] == ' ' || (buf[i] >= '\t' && buf[i] <= '\r')))
		i++;
	if (digits == 0 || i != end)
		return -1;
	*off = len > ZF_HEADER && buf[ZF_HEADER] == ' ' ? ZF_HEADER + 1 :
	       ZF_HEADER;
	*declared = v;
	return 0;
}

/* Scan the decompressed bytes of @s as whatever they are. */
static enum mg_err
scan_output(const struct mg_scan_opts *o, const char *name,
            const char *member, const char *fmt, const struct sink *s,
            unsigned depth, struct mg_report *rep)
{
	struct mg_scan_opts inner = *o;
	char sub[512];

	/* Why shrink the cap: this buffer stays allocated while what is
	 * inside it is scanned; a gzip of a gzip bomb must not get a fresh
	 * cap at every level, so the whole chain shares one budget. */
	inner.max_decompressed = o->max_decompressed - s->len;
	suffix_member(member, fmt, sub, sizeof(sub));
	return mg_scan_any(&inner, name, sub, s->buf != NULL ? s->buf :
	                   (const uint8_t *)"", s->len, depth + 1, rep);
}

static enum mg_err
scan_zfile(const struct mg_scan_opts *o, const char *name,
           const char *member, const uint8_t *buf, size_t len,
           unsigned depth, struct mg_report *rep, struct sink *s)
{
	unsigned long long declared;
	struct run r;
	size_t off;
	enum mg_err err;

	if (zfile_header(buf, len, &off, &declared) != 0)
		return mg_report_add(rep, MG_VERDICT_ERROR, "compress.corrupt",
		                     NULL, member, 2, "joblib 'ZF' file with a "
		                     "length field that is not hexadecimal");
	run_stream(&codecs[C_ZLIB], buf + off, len - off, s, &r);
	if (r.st == D_NOMEM)
		return MG_ERR_NOMEM;
	if (r.capped)
		err = mg_report_add(rep, MG_VERDICT_ERROR, "compress.limit",
		                    NULL, member, off + r.used, "joblib 'ZF' "
		                    "data decompresses to more than %zu bytes "
		                    "(the cap)", s->max);
	else if (r.st == D_ERR)
		err = finding(rep, member, &codecs[C_ZLIB], "compress.corrupt",
		              off + r.used, r.msg);
	else if (r.st != D_END)
		err = finding(rep, member, &codecs[C_ZLIB],
		              "compress.truncated", off + r.used, "truncated");
	else if (declared != s->len)
		/* read_zfile asserts the length (unless python -O). */
		err = mg_report_add(rep, MG_VERDICT_ERROR, "compress.corrupt",
		                    NULL, member, 2, "joblib 'ZF' header says "
		                    "%llu bytes, the data holds %zu", declared,
		                    s->len);
	else
		err = MG_OK;
	if (err != MG_OK)
		return err;
	return scan_output(o, name, member, "joblib-zfile", s, depth, rep);
}

/*
 * Why a prefix first: compressed data that is no model (a gzip'd CSV with
 * no extension reaches the helper by its magic) would be decompressed
 * whole just to learn that the pickle loader fails on its first bytes.
 * Every loader of a compressed file reads the decompressed stream from
 * its start (pickle.load under gzip.open, pandas, joblib; torch and numpy
 * check a magic there first), so when no format sniffs in the first
 * PREFIX_MAX bytes and the opcode walk fails inside them, the loader
 * fails there too, whatever follows.  Larger streams only: a stream that
 * ends inside the prefix is scanned the usual way.  1 when decided (the
 * finding added, *@err set), 0 to go on.
 */
#define PREFIX_MAX ((size_t)64 << 10)
static int
inert_prefix(const struct codec *c, const uint8_t *buf, size_t len,
             const char *member, struct mg_report *rep, enum mg_err *err)
{
	struct sink s = { NULL, 0, PREFIX_MAX, PREFIX_MAX, 0 };
	enum mg_fmt f;
	const char *why = NULL;
	char sub[512];
	struct run r;
	size_t at = 0;
	int done = 0;

	if ((s.buf = malloc(PREFIX_MAX)) == NULL)
		return 0;       /* the full scan reports the shortage */
	run_stream(c, buf, len, &s, &r);
	if (!r.capped)
		goto out;
	f = mg_sniff(s.buf, s.len);
	if ((f != MG_FMT_UNKNOWN && f != MG_FMT_PICKLE) ||
	    mg_pickle_inert_window(s.buf, s.len, UINT64_MAX, &at, &why) != 1)
		goto out;
	suffix_member(member, c->name, sub, sizeof(sub));
	*err = mg_report_add(rep, MG_VERDICT_CLEAN, "format.inert", NULL, sub,
	                     at, "inert: the first %zu decompressed bytes are "
	                     "no format modelgate reads, and the pickle loader "
	                     "fails at offset %zu (%s) before it resolves a "
	                     "global or calls anything; the rest of the stream "
	                     "is not decompressed", s.len, at, why);
	done = 1;
out:
	free(s.buf);
	return done;
}

enum mg_err
mg_compressed_scan(const struct mg_scan_opts *o, const char *name,
                   const char *member, const uint8_t *buf, size_t len,
                   unsigned depth, struct mg_report *rep)
{
	struct sink s = { NULL, 0, 0, 0, 0 };
	enum mg_err err;
	int c;

	/* Why this start: most pickles compress 2-10x; one doubling or
	 * three covers them, and a bomb is stopped by max, not by this. */
	s.max = o->max_decompressed > SIZE_MAX ? SIZE_MAX :
	        (size_t)o->max_decompressed;
	s.cap = len > s.max / 4 ? s.max : len * 4;
	if (s.cap < 4096)
		s.cap = s.max < 4096 ? s.max : 4096;
	if (s.cap == 0 || (s.buf = malloc(s.cap)) == NULL) {
		s.cap = 0;
		if (s.max != 0)
			return MG_ERR_NOMEM;
	}
	if (len >= 2 && buf[0] == 'Z' && buf[1] == 'F') {
		err = scan_zfile(o, name, member, buf, len, depth, rep, &s);
		goto out;
	}
	if ((c = codec_of(buf, len)) < 0) {
		err = mg_report_add(rep, MG_VERDICT_ERROR, "compress.corrupt",
		                    NULL, member, 0, "no compression format "
		                    "modelgate reads starts here");
		goto out;
	}
	if (inert_prefix(&codecs[c], buf, len, member, rep, &err))
		goto out;
	err = decode_all(&codecs[c], buf, len, member, &s, rep);
	/* Why scan even after a finding: what was decoded before a corrupt
	 * byte or the cap is what the loader unpickles first. */
	if (err == MG_OK && s.len > 0)
		err = scan_output(o, name, member, codecs[c].name, &s, depth,
		                  rep);
out:
	free(s.buf);
	return err;
}
