/*
 * hdf5.c - Keras models saved as HDF5 (.h5, .hdf5, .keras legacy).
 *
 * What runs code when Keras loads an .h5 file is its model config: the
 * root attributes model_config (the architecture, where Lambda layers
 * carry marshalled bytecode) and training_config (loss, metrics and
 * optimizer, which can name functions).  Keras 2 and Keras 3's legacy h5
 * loader read them from the root group; save_weights files keep no config
 * at all (the root, or a model_weights group, holds layer_names and the
 * weight datasets), and loading weights only copies arrays.  We read both
 * attributes from the root and, to be safe against a crafted file, from
 * the model_weights group too, and hand each to mg_keras_config_scan().
 *
 * An HDF5 file with no Keras config is clean: h5py datasets and attributes
 * are data, read without running code.  The report says so in an info
 * finding, so a reviewer knows the file was recognised and why it passed.
 * PyTables (pandas.read_hdf, tables.open_file) is another matter: it
 * unpickles byte-string attributes and object arrays, so every object of
 * the file is walked for those too (pytables_object, below), and each is
 * judged as the pickle it is.
 *
 * How: libhdf5's core (memory) driver over the caller's buffer, with file
 * image callbacks that hand HDF5 the buffer itself instead of a copy (a
 * 2 GB weights file costs nothing but the pages HDF5 reads), read-only so
 * the mapping is never written.  No temporary files.
 *
 * Debian's libhdf5 is built without thread safety, so every HDF5 call is
 * made under one mutex, and HDF5's own error printing is switched off
 * (it would write to stderr of whatever process scans).
 *
 * Isolation: libhdf5 1.10.8 has memory-safety bugs on corrupt files (our
 * fuzzer finds a heap overflow in H5HG_read within seconds), so the
 * libhdf5 part runs in a forked child that sends back only the attribute
 * texts (length-checked records over a pipe) and is killed after
 * HDF5_TIMEOUT_MS.  A child that crashes, hangs or stops early is an
 * error finding, and the scan goes on with the next file.  Where no child
 * can be made (the helper's seccomp filter refuses its pipe with EPERM;
 * it allows fork only for dbm.c's reader, which talks over a socketpair
 * and confines itself) the
 * same code runs in-process, which the helper's confinement is for.  A
 * child subverted by a hostile file could still lie about what it read:
 * isolation buys robustness, not trust.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hdf5.h>

#include "formats.h"

/* Why 64 MiB: real model configs are tens of KiB to a few MiB; an
 * attribute larger than this is hostile or not a Keras config. */
#define HDF5_MAX_CONFIG ((size_t)64 << 20)

/* The child's reply: two configs at most, the values PyTables unpickles
 * (HDF5_MAX_VALUES, headers included), plus record headers. */
#define HDF5_MAX_REPLY (3 * HDF5_MAX_CONFIG + (1 << 16))

/* Why 30 s: libhdf5 reads two attributes of a mapped file in
 * milliseconds; a child still busy after this is looping on a corrupt
 * file.  Scans behind the preload have their own, shorter, deadline. */
#define HDF5_TIMEOUT_MS 30000

static pthread_mutex_t hdf5_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * libhdf5 is dlopen()ed on the first HDF5 file, not linked: loading it and
 * its dependencies at exec cost ~3 ms of every `modelgate scan`, HDF5 or
 * not.  The helper loads it before its seccomp filter (mg_hdf5_load), so
 * nothing is mapped executable after the lock-down.
 */
#ifndef MG_HDF5_SONAME
#define MG_HDF5_SONAME "libhdf5_serial.so.103"
#endif

/* H5F_ACC_RDONLY's value; the macro also calls H5check and H5open. */
#define ACC_RDONLY 0x0000u

/* Every libhdf5 function this file calls, resolved by name. */
#define H5_FUNCS(X) \
	X(Aclose) X(Aexists) X(Aget_space) X(Aget_type) \
	X(Aopen) X(Aread) X(Eset_auto2) X(Fclose) \
	X(Fopen) X(Lexists) X(Oclose) X(Oopen) \
	X(Pclose) X(Pcreate) X(Pset_fapl_core) X(Pset_file_image) \
	X(Pset_file_image_callbacks) X(Sclose) X(Sget_simple_extent_type) X(Tclose) \
	X(Tcopy) X(Tget_class) X(Tget_cset) X(Tget_size) \
	X(Tis_variable_str) X(Tset_cset) X(Tset_size) X(free_memory) \
	X(Ovisit2) X(Aiterate2) X(Dget_space) X(Dread) X(Dvlen_reclaim) \
	X(Sget_simple_extent_npoints) X(Tvlen_create)

#define H5_FIELD(f) __typeof__(H5##f) *f;
static struct {
	__typeof__(H5open) *open;
	hid_t *fapl_class;      /* H5P_CLS_FILE_ACCESS_ID_g (H5P_FILE_ACCESS) */
	hid_t *c_s1;            /* H5T_C_S1_g (H5T_C_S1) */
	hid_t *uchar;           /* H5T_NATIVE_UCHAR_g (H5T_NATIVE_UCHAR) */
	H5_FUNCS(H5_FIELD)
} h5;
#undef H5_FIELD

static pthread_once_t h5_once = PTHREAD_ONCE_INIT;
static char h5_error[320];      /* why the load failed; "" when it worked */

/* Resolve @sym into *@slot; 0, or -1 with h5_error set. */
static int
resolve(void *lib, void **slot, const char *sym)
{
	*slot = dlsym(lib, sym);
	if (*slot != NULL)
		return 0;
	snprintf(h5_error, sizeof(h5_error), "%s has no %s", MG_HDF5_SONAME,
	         sym);
	return -1;
}

/* pthread_once body: dlopen libhdf5 and fill h5, or set h5_error. */
static void
load_once(void)
{
	void *lib = dlopen(MG_HDF5_SONAME, RTLD_NOW | RTLD_LOCAL);
	int bad = 0;

	if (lib == NULL) {
		snprintf(h5_error, sizeof(h5_error), "%s", dlerror());
		return;
	}
	void *vars;

	bad |= resolve(lib, (void **)&h5.open, "H5open");
#define H5_RESOLVE(f) bad |= resolve(lib, (void **)&h5.f, "H5" #f);
	H5_FUNCS(H5_RESOLVE)
#undef H5_RESOLVE
	/* Why the variables may come from the global scope: a program
	 * linked with libhdf5 that names H5P_FILE_ACCESS has its own copy
	 * of the variable (a copy relocation), and the library sets that
	 * copy, not its own storage, which stays unset.  When the libhdf5
	 * of the global scope is this very one, its variables are looked
	 * up there (the program's copy first); otherwise in ours. */
	vars = !bad && dlsym(RTLD_DEFAULT, "H5open") == (void *)h5.open ?
	       RTLD_DEFAULT : lib;
	bad |= resolve(vars, (void **)&h5.fapl_class, "H5P_CLS_FILE_ACCESS_ID_g");
	bad |= resolve(vars, (void **)&h5.c_s1, "H5T_C_S1_g");
	bad |= resolve(vars, (void **)&h5.uchar, "H5T_NATIVE_UCHAR_g");
	if (bad)
		dlclose(lib);
}

const char *
mg_hdf5_load(void)
{
	pthread_once(&h5_once, load_once);
	return h5_error[0] != '\0' ? h5_error : NULL;
}

/* The buffer HDF5 is told is its file image. */
struct image {
	const uint8_t *buf;
	size_t len;
};

/*
 * File image callbacks: every "allocation" of the image is the caller's
 * buffer and every copy into it is a no-op, so HDF5 reads the bytes in
 * place.  Anything that would need a second or larger image (resizing, a
 * copy to a different buffer) fails: read-only access never needs it.
 */
static void *
image_malloc(size_t size, H5FD_file_image_op_t op, void *udata)
{
	struct image *im = udata;

	(void)op;
	return size == im->len ? (void *)im->buf : NULL;
}

static void *
image_memcpy(void *dest, const void *src, size_t size,
             H5FD_file_image_op_t op, void *udata)
{
	(void)size; (void)op; (void)udata;
	return dest == src ? dest : NULL;
}

static void *
image_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata)
{
	(void)ptr; (void)size; (void)op; (void)udata;
	return NULL;
}

static herr_t
image_free(void *ptr, H5FD_file_image_op_t op, void *udata)
{
	(void)ptr; (void)op; (void)udata;
	return 0;
}

static void *
udata_copy(void *udata)
{
	return udata;
}

static herr_t
udata_free(void *udata)
{
	(void)udata;
	return 0;
}

/* Open @im read-only through the core driver; a file id or H5I_INVALID_HID. */
static hid_t
open_image(struct image *im)
{
	H5FD_file_image_callbacks_t cb = {
		image_malloc, image_memcpy, image_realloc, image_free,
		udata_copy, udata_free, im,
	};
	hid_t fapl, fid = H5I_INVALID_HID;

	fapl = h5.Pcreate(*h5.fapl_class);
	if (fapl == H5I_INVALID_HID)
		return H5I_INVALID_HID;
	/* Callbacks first: H5Pset_file_image copies through them. */
	if (h5.Pset_fapl_core(fapl, 1 << 16, 0) >= 0 &&
	    h5.Pset_file_image_callbacks(fapl, &cb) >= 0 &&
	    h5.Pset_file_image(fapl, (void *)im->buf, im->len) >= 0)
		fid = h5.Fopen("modelgate-image.h5", ACC_RDONLY, fapl);
	h5.Pclose(fapl);
	return fid;
}

/* A fixed-length string attribute (what Keras 2 writes from bytes, and
 * PyTables from a pickle); returns as read_string_attr().  @whole: every
 * byte but the trailing NULs, as tables.hdf5extension reads it (a binary
 * pickle holds NULs); else up to the first NUL. */
static int
read_fixed(hid_t attr, hid_t ftype, char **out, size_t *outlen,
           const char **why, int whole)
{
	size_t size = h5.Tget_size(ftype);
	hid_t mtype;
	char *s;
	int rc = -1;

	if (size == 0 || size > HDF5_MAX_CONFIG) {
		*why = "has an absurd size";
		return -1;
	}
	s = calloc(1, size + 1);
	if (s == NULL)
		return -2;
	mtype = h5.Tcopy(ftype);
	if (mtype != H5I_INVALID_HID && h5.Aread(attr, mtype, s) >= 0) {
		*out = s;
		*outlen = whole ? size : strnlen(s, size);
		while (whole && *outlen > 0 && s[*outlen - 1] == '\0')
			(*outlen)--;
		s = NULL;
		rc = 0;
	} else {
		*why = "cannot be read";
	}
	if (mtype != H5I_INVALID_HID)
		h5.Tclose(mtype);
	free(s);
	return rc;
}

/* A variable-length string attribute (what h5py writes from a str);
 * returns as read_string_attr(). */
static int
read_vlen(hid_t attr, hid_t ftype, char **out, size_t *outlen,
          const char **why)
{
	hid_t mtype = h5.Tcopy(*h5.c_s1);
	char *v = NULL;
	int rc = -1;
	size_t n;

	/* The memory type must carry the file's character set: HDF5 has no
	 * conversion between ASCII and UTF-8 strings (h5py writes UTF-8). */
	if (mtype == H5I_INVALID_HID || h5.Tset_size(mtype, H5T_VARIABLE) < 0 ||
	    h5.Tset_cset(mtype, h5.Tget_cset(ftype)) < 0 ||
	    h5.Aread(attr, mtype, &v) < 0 || v == NULL) {
		*why = "cannot be read";
		goto out;
	}
	n = strnlen(v, HDF5_MAX_CONFIG + 1);
	if (n > HDF5_MAX_CONFIG) {
		*why = "has an absurd size";
		goto out;
	}
	*out = strdup(v);
	*outlen = n;
	rc = *out == NULL ? -2 : 0;
out:
	if (v != NULL)
		h5.free_memory(v);
	if (mtype != H5I_INVALID_HID)
		h5.Tclose(mtype);
	return rc;
}

/*
 * Read string attribute @name of @obj into a new NUL-terminated buffer
 * (*out, length *outlen).  0 on success, 1 when there is no such
 * attribute, -1 on a malformed attribute (*why says what), -2 when out of
 * memory.
 */
static int
read_string_attr(hid_t obj, const char *name, char **out, size_t *outlen,
                 const char **why)
{
	hid_t attr, ftype = H5I_INVALID_HID, space = H5I_INVALID_HID;
	int rc = -1;

	if (h5.Aexists(obj, name) <= 0)
		return 1;
	attr = h5.Aopen(obj, name, H5P_DEFAULT);
	if (attr == H5I_INVALID_HID) {
		*why = "cannot be opened";
		return -1;
	}
	ftype = h5.Aget_type(attr);
	space = h5.Aget_space(attr);
	/* h5py hands Keras a str/bytes only for a scalar string; anything
	 * else makes the loader fail, and we do not guess what it meant. */
	if (ftype == H5I_INVALID_HID || h5.Tget_class(ftype) != H5T_STRING)
		*why = "is not a string";
	else if (space == H5I_INVALID_HID ||
	         h5.Sget_simple_extent_type(space) != H5S_SCALAR)
		*why = "is not a scalar";
	else if (h5.Tis_variable_str(ftype) > 0)
		rc = read_vlen(attr, ftype, out, outlen, why);
	else
		rc = read_fixed(attr, ftype, out, outlen, why, 0);
	if (space != H5I_INVALID_HID)
		h5.Sclose(space);
	if (ftype != H5I_INVALID_HID)
		h5.Tclose(ftype);
	h5.Aclose(attr);
	return rc;
}

/* --- what the HDF5 side reports ---------------------------------------- */

/*
 * The libhdf5 side produces records, in order: a config text to scan, an
 * attribute that is there but unreadable, the values PyTables would
 * unpickle (or why one cannot be read), a file libhdf5 cannot open, and
 * the end.  In-process they are handled as they come; from the isolated
 * child they travel over a pipe as kind (1 byte), where-length (4),
 * data-length (8), where, data.
 */
enum rec_kind {
	REC_CONFIG = 'C',  /* where = attribute, data = its text */
	REC_BADATTR = 'A', /* where = attribute, data = why */
	REC_BADFILE = 'F', /* libhdf5 cannot open the image */
	REC_PICKLE = 'P',  /* where = attribute or row, data = what PyTables
	                      would hand pickle.loads */
	REC_BADVALUE = 'V', /* where = what, data = why it cannot be read */
	REC_END = 'E',     /* the reading side finished normally */
};

/* The scanning side: turns records into findings. */
struct handler {
	const struct mg_scan_opts *o;
	const char *member;
	unsigned depth;      /* of this file: a config's nested scans go deeper */
	struct mg_report *rep;
	int found, ended;
	enum mg_err err;
	const char *name;
	unsigned long values, inert; /* PyTables pickles scanned, inert ones */
};

/*
 * Where records go: down the pipe @fd (the child), or into @mem (in-process)
 * to be replayed once hdf5_lock is released.  Why not straight to the
 * handler: a Keras config can carry nested files (TorchModuleWrapper), whose
 * scan may reach this reader again and take hdf5_lock a second time.
 */
struct sink {
	int fd;              /* -1: in-process, into mem */
	char *mem;
	size_t mlen, mcap;
	int failed;          /* out of memory or a write failed: stop */
};

static void
handle(struct handler *h, int kind, const char *where, const char *data,
       size_t len)
{
	enum mg_err e = MG_OK;

	if (h->err != MG_OK)
		return;
	if (kind == REC_CONFIG) {
		h->found = 1;
		e = mg_keras_config_scan_at(h->o, where, (const uint8_t *)data,
		                            len, h->depth, h->rep);
	} else if (kind == REC_BADATTR) {
		h->found = 1;
		e = mg_report_add(h->rep, MG_VERDICT_ERROR, "hdf5.attr.invalid",
		                  NULL, where, 0, "HDF5 attribute %s %.*s", where,
		                  (int)len, data);
	} else if (kind == REC_PICKLE) {
		h->values++;
		e = mg_dbm_value_scan(h->o, h->name, where,
		                      (const uint8_t *)data, len, 0, h->depth,
		                      h->rep, &h->inert);
	} else if (kind == REC_BADVALUE) {
		e = mg_report_add(h->rep, MG_VERDICT_ERROR, "hdf5.value.invalid",
		                  NULL, where, 0, "HDF5 %s %.*s", where,
		                  (int)len, data);
	} else if (kind == REC_BADFILE) {
		h->found = 1;
		e = mg_report_add(h->rep, MG_VERDICT_ERROR, "hdf5.invalid", NULL,
		                  h->member, 0, "not an HDF5 file libhdf5 can "
		                  "open (truncated or corrupt)");
	} else if (kind == REC_END) {
		h->ended = 1;
		if (!h->found && h->values > 0)
			e = mg_report_add(h->rep, MG_VERDICT_CLEAN,
			    "hdf5.pytables_values", NULL, h->member, 0,
			    "HDF5 file without a Keras model or training "
			    "config; %lu values PyTables would unpickle "
			    "(byte-string attributes ending in '.', object "
			    "array rows) were judged as pickles (%lu of them "
			    "inert: the unpickler fails before any global)",
			    h->values, h->inert);
		else if (!h->found)
			e = mg_report_add(h->rep, MG_VERDICT_CLEAN,
			    "hdf5.no_keras_config", NULL, h->member, 0,
			    "HDF5 file without a Keras model or training "
			    "config: datasets and attributes are data, loaded "
			    "without running code");
	}
	h->err = e;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Append @n bytes to the in-process record buffer; -1 out of memory. */
static int
mem_put(struct sink *s, const void *p, size_t n)
{
	size_t cap = s->mcap ? s->mcap : 4096;
	char *nb;

	/* Why the check: attribute texts come from the file; never wrap. */
	if (n > SIZE_MAX / 2 - s->mlen)
		return -1;
	while (cap < s->mlen + n)
		cap *= 2;
	if (cap != s->mcap) {
		if ((nb = realloc(s->mem, cap)) == NULL)
			return -1;
		s->mem = nb;
		s->mcap = cap;
	}
	if (n > 0)
		memcpy(s->mem + s->mlen, p, n);
	s->mlen += n;
	return 0;
}

static void
emit(struct sink *s, int kind, const char *where, const char *data,
     size_t len)
{
	uint8_t hdr[13];
	uint32_t wl = where ? (uint32_t)strlen(where) : 0;
	uint64_t dl = len;

	if (s->failed)
		return;
	hdr[0] = (uint8_t)kind;
	memcpy(hdr + 1, &wl, 4);
	memcpy(hdr + 5, &dl, 8);
	if (s->fd < 0) {
		if (mem_put(s, hdr, sizeof(hdr)) != 0 ||
		    mem_put(s, where, wl) != 0 || mem_put(s, data, len) != 0)
			s->failed = 1;
		return;
	}
	if (write_all(s->fd, hdr, sizeof(hdr)) != 0 ||
	    write_all(s->fd, where, wl) != 0 || write_all(s->fd, data, len) != 0)
		s->failed = 1;
}

/* --- the libhdf5 side ----------------------------------------------------- */

/* Attribute @attr of the object at @path, reported to @s if present. */
static void
collect_attr(struct sink *s, const char *member, hid_t obj,
             const char *path, const char *attr)
{
	char where[256], *text = NULL;
	const char *why = "is malformed";
	size_t len = 0;
	int rc;

	/* "model_config", "model_weights/training_config", "x.keras!..." */
	snprintf(where, sizeof(where), "%s%s%s%s%s", member ? member : "",
	         member ? "!" : "", path + 1, path[1] ? "/" : "", attr);
	rc = read_string_attr(obj, attr, &text, &len, &why);
	if (rc == 0)
		emit(s, REC_CONFIG, where, text, len);
	else if (rc == -1)
		emit(s, REC_BADATTR, where, why, strlen(why));
	else if (rc == -2)
		s->failed = 1;
	free(text);
}

/* The two Keras attributes of the group at @path, if it exists. */
static void
collect_group(struct sink *s, const char *member, hid_t fid,
              const char *path)
{
	static const char *const attrs[] = { "model_config", "training_config" };
	hid_t g;
	size_t i;

	if (strcmp(path, "/") != 0 && h5.Lexists(fid, path, H5P_DEFAULT) <= 0)
		return;
	g = h5.Oopen(fid, path, H5P_DEFAULT);
	if (g == H5I_INVALID_HID)
		return;
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		collect_attr(s, member, g, path, attrs[i]);
	h5.Oclose(g);
}

/*
 * What PyTables unpickles.  tables.attributeset (AttributeSet.__getattr__)
 * hands pickle.loads() every scalar byte-string attribute that ends with
 * "." once its trailing NULs are stripped, but "0.": that is how it
 * stores any value HDF5 cannot hold (pandas' non_index_axes, info,
 * levels, metadata...).  It reads a fixed-length one whole (inner NULs
 * kept: a binary pickle) and a variable-length one to its NUL; a UTF-8
 * one becomes a str and is never unpickled.  And every row of an
 * ObjectAtom VLArray (a dataset with PSEUDOATOM "object", or FLAVOR
 * "Object" in a 1.x file) is a pickle (atom.ObjectAtom.fromarray): that
 * is how pandas' fixed format stores an object column.  Every object of
 * the file is walked, since which attributes a program reads is its own
 * business.  What cannot be read the way PyTables would is an error
 * finding: fail closed.
 */
#define HDF5_MAX_VALUES ((uint64_t)HDF5_MAX_CONFIG) /* record bytes in all */
#define HDF5_MAX_ROWS ((hssize_t)1 << 24)

struct walk {
	struct sink *s;
	const char *member;
	const char *path;       /* the object being walked, "." the root */
	uint64_t sent;          /* record bytes of values, to HDF5_MAX_VALUES */
	int over;               /* the limit was reported */
};

/* "member!path/leaf" (no "/leaf" for a NULL leaf; no path for the root),
 * cut to what a record's where can carry. */
static void
where_of(char *out, size_t cap, const char *member, const char *path,
         const char *leaf)
{
	if (strcmp(path, ".") == 0)
		path = "";
	snprintf(out, cap, "%s%s%s%s%s", member ? member : "",
	         member ? "!" : "", path, path[0] && leaf ? "/" : "",
	         leaf ? leaf : "");
}

static void
send_value(struct walk *w, const char *where, const void *data, size_t len)
{
	static const char too_much[] = "is past what this reader judges: "
	                               "64 MiB of values PyTables unpickles";
	uint64_t cost = 13 + strlen(where) + (uint64_t)len;

	if (w->sent + cost > HDF5_MAX_VALUES) {
		if (!w->over)
			emit(w->s, REC_BADVALUE, where, too_much,
			     sizeof(too_much) - 1);
		w->over = 1;
		return;
	}
	w->sent += cost;
	emit(w->s, REC_PICKLE, where, data, len);
}

/* H5Aiterate2 callback: one attribute of the object w->path. */
static herr_t
pytables_attr(hid_t loc, const char *name, const H5A_info_t *ainfo,
              void *data)
{
	struct walk *w = data;
	hid_t attr, ftype, space;
	char where[256], *v = NULL;
	const char *why = "is malformed";
	size_t n = 0;
	int rc = 1;

	(void)ainfo;
	attr = h5.Aopen(loc, name, H5P_DEFAULT);
	if (attr == H5I_INVALID_HID)
		return 0;       /* PyTables cannot read it either */
	ftype = h5.Aget_type(attr);
	space = h5.Aget_space(attr);
	if (ftype != H5I_INVALID_HID && space != H5I_INVALID_HID &&
	    h5.Tget_class(ftype) == H5T_STRING &&
	    h5.Sget_simple_extent_type(space) == H5S_SCALAR &&
	    h5.Tget_cset(ftype) != H5T_CSET_UTF8)
		rc = h5.Tis_variable_str(ftype) > 0 ?
		     read_vlen(attr, ftype, &v, &n, &why) :
		     read_fixed(attr, ftype, &v, &n, &why, 1);
	where_of(where, sizeof(where), w->member, w->path, name);
	if (rc == 0 && n > 0 && v[n - 1] == '.' &&
	    !(n == 2 && v[0] == '0'))
		send_value(w, where, v, n);
	else if (rc == -1)
		emit(w->s, REC_BADATTR, where, why, strlen(why));
	else if (rc == -2)
		w->s->failed = 1;
	free(v);
	if (space != H5I_INVALID_HID)
		h5.Sclose(space);
	if (ftype != H5I_INVALID_HID)
		h5.Tclose(ftype);
	h5.Aclose(attr);
	return w->s->failed ? 1 : 0;
}

/* 1 if string attribute @name of @obj reads @want. */
static int
attr_is(hid_t obj, const char *name, const char *want)
{
	char *v = NULL;
	size_t n = 0;
	const char *why;
	int is = read_string_attr(obj, name, &v, &n, &why) == 0 &&
	         n == strlen(want) && memcmp(v, want, n) == 0;

	free(v);
	return is;
}

/* The rows of ObjectAtom VLArray @obj (at w->path), each a pickle. */
static void
send_rows(struct walk *w, hid_t obj)
{
	static const char unreadable[] = "cannot be read as the rows of "
	                                 "pickles PyTables reads it as";
	hid_t mtype = h5.Tvlen_create(*h5.uchar), space = h5.Dget_space(obj);
	hssize_t n = space != H5I_INVALID_HID ?
	             h5.Sget_simple_extent_npoints(space) : -1, i;
	hvl_t *rows = NULL;
	char where[256], at[256];

	where_of(where, sizeof(where), w->member, w->path, NULL);
	if (mtype != H5I_INVALID_HID && n >= 0 && n <= HDF5_MAX_ROWS &&
	    (rows = calloc((size_t)n + 1, sizeof(*rows))) == NULL)
		w->s->failed = 1;
	else if (rows == NULL ||
	         h5.Dread(obj, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0)
		emit(w->s, REC_BADVALUE, where, unreadable,
		     sizeof(unreadable) - 1);
	else {
		for (i = 0; i < n && !w->s->failed && !w->over; i++) {
			if (rows[i].len == 0)
				continue;       /* None, never unpickled */
			snprintf(at, sizeof(at), "%.200s[row %lld]", where,
			         (long long)i);
			send_value(w, at, rows[i].p, rows[i].len);
		}
		h5.Dvlen_reclaim(mtype, space, H5P_DEFAULT, rows);
	}
	free(rows);
	if (space != H5I_INVALID_HID)
		h5.Sclose(space);
	if (mtype != H5I_INVALID_HID)
		h5.Tclose(mtype);
}

/* H5Ovisit2 callback: every object of the file once, the root first. */
static herr_t
pytables_object(hid_t root, const char *name, const H5O_info_t *info,
                void *data)
{
	struct walk *w = data;
	hid_t obj = h5.Oopen(root, name, H5P_DEFAULT);

	if (obj == H5I_INVALID_HID)
		return 0;
	w->path = name;
	h5.Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, NULL, pytables_attr, w);
	if (info->type == H5O_TYPE_DATASET && !w->s->failed &&
	    (attr_is(obj, "PSEUDOATOM", "object") ||
	     attr_is(obj, "FLAVOR", "Object")))
		send_rows(w, obj);
	h5.Oclose(obj);
	return w->s->failed ? 1 : 0;
}

/* Everything libhdf5 does for one file; the caller serialises. */
static void
collect(struct sink *s, const char *member, const uint8_t *buf, size_t len)
{
	static const char walk_failed[] = "cannot be walked object by object "
	                                  "(a damaged group or attribute)";
	struct image im = { buf, len };
	struct walk w = { s, member, ".", 0, 0 };
	hid_t fid;

	/* What the H5P_/H5T_ macros do: the globals are set by H5open. */
	h5.open();
	h5.Eset_auto2(H5E_DEFAULT, NULL, NULL);
	fid = open_image(&im);
	if (fid == H5I_INVALID_HID) {
		emit(s, REC_BADFILE, NULL, NULL, 0);
	} else {
		collect_group(s, member, fid, "/");
		collect_group(s, member, fid, "/model_weights");
		if (!s->failed &&
		    h5.Ovisit2(fid, H5_INDEX_NAME, H5_ITER_INC, pytables_object,
		               &w, H5O_INFO_BASIC) < 0 && !s->failed)
			emit(s, REC_BADVALUE, member ? member : "file",
			     walk_failed, sizeof(walk_failed) - 1);
		h5.Fclose(fid);
	}
	if (!s->failed)
		emit(s, REC_END, NULL, NULL, 0);
}

/* --- isolation -------------------------------------------------------------- */

/* Read what the child writes, up to HDF5_MAX_REPLY bytes, until EOF or
 * the deadline.  *out (caller frees) and *outlen; -1 on timeout or
 * overflow (the child is then killed by the caller). */
static int
read_reply(int fd, char **out, size_t *outlen)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap), *nb;
	ssize_t r;
	int rc = -1;

	*out = b;
	*outlen = 0;
	if (b == NULL)
		return -1;
	for (;;) {
		if (poll(&pfd, 1, HDF5_TIMEOUT_MS) <= 0)
			break;
		if (n == cap) {
			if (cap >= HDF5_MAX_REPLY ||
			    (nb = realloc(b, cap * 2)) == NULL)
				break;
			b = nb;
			cap *= 2;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r == 0 ? 0 : -1;
			break;
		}
		n += (size_t)r;
	}
	*out = b;
	*outlen = n;
	return rc;
}

/* Decode the records in @b[0..@n) into @h; stops at the first bad one. */
static void
replay(struct handler *h, const char *b, size_t n)
{
	size_t at = 0, need;
	uint32_t wl;
	uint64_t dl;
	char where[257];

	while (n - at >= 13 && h->err == MG_OK && !h->ended) {
		memcpy(&wl, b + at + 1, 4);
		memcpy(&dl, b + at + 5, 8);
		/* Why the checks: the child parsed hostile bytes; its reply
		 * is checked like any input. */
		if (wl >= sizeof(where) || dl > n || wl + dl > n - at - 13)
			return;
		need = 13 + wl + (size_t)dl;
		memcpy(where, b + at + 13, wl);
		where[wl] = '\0';
		handle(h, b[at], wl ? where : NULL, b + at + 13 + wl, (size_t)dl);
		at += need;
	}
}

/* What became of the child: "" when it exited normally, else a reason. */
static const char *
reap(pid_t pid, int timed_out, char *buf, size_t cap)
{
	int st = 0;

	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		snprintf(buf, cap, "was stopped (silent for %d s, or an "
		         "oversized reply)", HDF5_TIMEOUT_MS / 1000);
	else if (WIFSIGNALED(st))
		snprintf(buf, cap, "crashed (signal %d)", WTERMSIG(st));
	else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		snprintf(buf, cap, "failed (exit %d)", WEXITSTATUS(st));
	else
		buf[0] = '\0';
	return buf;
}

/*
 * libhdf5 in a forked child; findings are added here from its reply.
 * -1 when no child can be made (e.g. under the helper's seccomp filter):
 * the caller then reads in-process.  Called with hdf5_lock held; returns
 * with it released.
 */
static int
scan_isolated(struct handler *h, const uint8_t *buf, size_t len)
{
	struct sink s = { -1, NULL, 0, 0, 0 };
	char *reply = NULL, why[96];
	size_t n = 0;
	int p[2], rc;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		/* The child owns hdf5_lock (the forking thread held it). */
		close(p[0]);
		s.fd = p[1];
		collect(&s, h->member, buf, len);
		_exit(s.failed ? 3 : 0);
	}
	pthread_mutex_unlock(&hdf5_lock);
	close(p[1]);
	rc = read_reply(p[0], &reply, &n);
	close(p[0]);
	reap(pid, rc != 0, why, sizeof(why));
	if (reply != NULL)
		replay(h, reply, n);
	free(reply);
	if (h->err == MG_OK && (why[0] != '\0' || !h->ended))
		h->err = mg_report_add(h->rep, MG_VERDICT_ERROR, "hdf5.crashed",
		                       NULL, h->member, 0, "libhdf5 %s while "
		                       "reading this file: malformed or hostile "
		                       "HDF5", why[0] ? why : "stopped early");
	return 0;
}

enum mg_err
mg_hdf5_scan(const struct mg_scan_opts *o, const char *name,
             const char *member, const uint8_t *buf, size_t len,
             unsigned depth, struct mg_report *rep)
{
	struct handler h = { o, member, depth, rep, 0, 0, MG_OK, name, 0, 0 };
	struct sink s = { -1, NULL, 0, 0, 0 };
	const char *why;

	if (rep == NULL || (buf == NULL && len != 0))
		return MG_ERR_INVAL;
	if (len == 0)
		return mg_report_add(rep, MG_VERDICT_ERROR, "hdf5.invalid", NULL,
		                     member, 0, "empty HDF5 file");
	why = mg_hdf5_load();
	if (why != NULL)
		return mg_report_add(rep, MG_VERDICT_ERROR, "hdf5.unavailable",
		                     NULL, member, 0, "cannot read this HDF5 "
		                     "file: libhdf5 could not be loaded (%s)", why);
	pthread_mutex_lock(&hdf5_lock);
	if (scan_isolated(&h, buf, len) == 0)
		return h.err;
	collect(&s, member, buf, len);
	pthread_mutex_unlock(&hdf5_lock);
	if (s.failed && h.err == MG_OK)
		h.err = MG_ERR_NOMEM;
	if (h.err == MG_OK)
		replay(&h, s.mem, s.mlen);
	free(s.mem);
	return h.err;
}
