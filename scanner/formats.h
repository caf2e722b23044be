/*
 * formats.h - private to scanner/: the sniffer and one reader per format.
 *
 * Every reader has the same shape: it is handed the bytes of one file or
 * archive member, finds exactly the bytes the real loader would unpickle (or
 * evaluate), hands them to the pickle analyser or its own checks, and adds
 * findings that name the member and offset.  Readers may recurse through
 * mg_scan_any() for nested containers; @depth bounds that.
 */
#ifndef MG_FORMATS_H
#define MG_FORMATS_H

#include "scanner.h"

/* What the first bytes of a buffer say it is. */
enum mg_fmt {
	MG_FMT_UNKNOWN = 0,
	MG_FMT_PICKLE,
	MG_FMT_ZIP,
	MG_FMT_TAR,
	MG_FMT_NPY,
	MG_FMT_HDF5,
	MG_FMT_SAFETENSORS,
	MG_FMT_GGUF,
	MG_FMT_GZIP,
	MG_FMT_BZIP2,
	MG_FMT_XZ,
	MG_FMT_ZSTD,
	MG_FMT_LZ4,
	MG_FMT_ZLIB,
	MG_FMT_7Z,
	MG_FMT_DBM,      /* Berkeley DB, GDBM: shelve's databases */
};

/* Decide the format of @buf by content alone. */
enum mg_fmt mg_sniff(const uint8_t *buf, size_t len);

/* Static name of @f ("pickle", "zip", ...). */
const char *mg_fmt_name(enum mg_fmt f);

/*
 * Scan @buf as whatever its content says it is.  @name is the file path
 * (for extension checks), @member the archive member or NULL.
 */
enum mg_err mg_scan_any(const struct mg_scan_opts *o, const char *name,
                        const char *member, const uint8_t *buf, size_t len,
                        unsigned depth, struct mg_report *rep) MG_WUR;

/*
 * Drop from this process the whole pages of [@p, @p + @n) when they lie in
 * the file mapping of @o (o->map, set by mg_scan_fd); nothing otherwise.
 * The bytes stay readable: a later read faults them back in from the page
 * cache.  For readers that walk a large stream once (the pickle analyser),
 * so that their peak RSS does not include the whole file.
 */
void mg_scan_drop(const struct mg_scan_opts *o, const uint8_t *p, size_t n);

/*
 * Readers.  Same contract for all: scan @buf (the whole file or member)
 * into @rep; MG_OK whatever the verdict, MG_ERR_NOMEM otherwise.
 */
#define MG_READER(fn) \
	enum mg_err fn(const struct mg_scan_opts *o, const char *name, \
	               const char *member, const uint8_t *buf, size_t len, \
	               unsigned depth, struct mg_report *rep) MG_WUR

MG_READER(mg_zip_scan);           /* zip.c: torch zip, TorchScript, npz, .keras */
MG_READER(mg_tar_scan);           /* tar.c: torch's oldest tar format */
MG_READER(mg_npy_scan);           /* npy.c: .npy headers v1-3, object arrays */
MG_READER(mg_torch_legacy_scan);  /* torch_legacy.c: pre-zip torch.save */
MG_READER(mg_pickle_stream_scan); /* joblib.c: stacked pickles, joblib
                                     array bodies stepped over exactly */
MG_READER(mg_compressed_scan);    /* compress.c: gzip/bz2/xz/lzma/zstd/lz4/
                                     zlib wrappers, size-capped */
MG_READER(mg_hdf5_scan);        /* hdf5.c: Keras .h5 configs */
MG_READER(mg_safetensors_scan); /* safetensors.c */
MG_READER(mg_gguf_scan);        /* gguf.c: chat templates */

/*
 * keras.c: a Keras model config (JSON text: an .h5 model_config attribute,
 * or config.json of a .keras zip).  Lambda layers with code, gadget
 * functions and non-Keras modules become findings against @member.
 */
enum mg_err mg_keras_config_scan(const struct mg_scan_opts *o,
                                 const char *member, const uint8_t *json,
                                 size_t len, struct mg_report *rep) MG_WUR;

/*
 * The same, for a caller that knows @depth, the container depth of the
 * file holding the config: files the config embeds (a TorchModuleWrapper's
 * torch.save bytes) are scanned by content at @depth + 1.
 * mg_keras_config_scan() is this at depth 0; either way keras.c also
 * counts its own nesting per thread, so embedded files inside embedded
 * files end at o->max_depth.
 */
enum mg_err mg_keras_config_scan_at(const struct mg_scan_opts *o,
                                    const char *member, const uint8_t *json,
                                    size_t len, unsigned depth,
                                    struct mg_report *rep) MG_WUR;

/*
 * joblib.c: the nested torch.load of pickle's on_nested hook (pickle.h).
 * A reader that passes on_nested keeps one of these in its hook context.
 * @from: loads at stream offsets below it are not scanned (joblib's
 * pickle.load view: an earlier pass already scanned them); @prefix starts
 * the message of every finding merged from the nested stream.
 */
struct mg_nested {
	const struct mg_scan_opts *o;
	const char *name, *member;
	unsigned depth;
	struct mg_report *rep;
	uint64_t from;
	const char *prefix;
};

/*
 * Scan @data[0..@len) - the bytes _load_from_bytes hands to torch.load at
 * stream offset @pos - by content at depth + 1 as member
 * "<member>|_load_from_bytes@<pos>", and merge its findings and verdict
 * into n->rep (its globals are the nested loader's, not the file's, and are
 * not listed).  0, or -1 when out of memory.
 */
int mg_nested_scan(const struct mg_nested *n, const uint8_t *data,
                   size_t len, uint64_t pos);

/*
 * dbm.c: a Berkeley DB or GDBM database (MG_FMT_DBM): every key/value
 * pair, read by libdb/libgdbm in a confined child (o->fd, the scanned
 * file itself, at depth 0 only; otherwise an error finding), each value
 * judged as the one pickle shelve loads from it.
 */
MG_READER(mg_dbm_scan);

/*
 * dbm.c: judge @val[0..@len), a value shelve would load with
 * Unpickler(BytesIO(value)).load(): one pickle, trailing bytes ignored,
 * nothing at all when the unpickler fails first (then *@inert is
 * incremented).  @base is added to reported offsets.
 */
enum mg_err mg_dbm_value_scan(const struct mg_scan_opts *o, const char *name,
                              const char *member, const uint8_t *val,
                              size_t len, uint64_t base, unsigned depth,
                              struct mg_report *rep,
                              unsigned long *inert) MG_WUR;

/* dbm.c: "key '<key>'" into @out (bytes as they are, NUL spelt \x00,
 * cut at 200 bytes). */
void mg_dbm_member(char *out, size_t cap, const uint8_t *key, size_t klen);

/* One dbm.dumb index entry: key (into the caller's scratch), pos, siz
 * (-1: to the end, for None or a negative size). */
struct mg_dumb_entry {
	const uint8_t *key;
	size_t klen;
	int64_t pos, siz;
};

/*
 * dumb.c: parse one .dir line @line[0..@n) (without its line end) as
 * dumb.py does: ast.literal_eval(line.rstrip()) unpacked to key,
 * (pos, siz).  @scratch has room for @n bytes and receives the key.
 * 0, or -1 with *@why (static) when the line is not read the way
 * literal_eval reads it (the caller fails closed).
 */
int mg_dumb_parse_line(const uint8_t *line, size_t n, uint8_t *scratch,
                       struct mg_dumb_entry *e, const char **why);

/* dumb.c: 1 if @name is X.dat with a regular X.dir beside it (*@is_dir
 * = 0), or X.dir with a regular X.dat beside it (*@is_dir = 1). */
int mg_dumb_applies(const char *name, int *is_dir);

/* dumb.c: scan the dbm.dumb database @name belongs to (mg_dumb_applies),
 * @buf[0..@len) being @name's bytes, the sibling read from disk. */
enum mg_err mg_dumb_scan(const struct mg_scan_opts *o, const char *name,
                         int is_dir, const uint8_t *buf, size_t len,
                         struct mg_report *rep) MG_WUR;

#endif /* MG_FORMATS_H */
