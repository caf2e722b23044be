/*
 * check_formats.c - the Keras config, HDF5, safetensors and GGUF readers.
 *
 * Inputs are built here: JSON text for Keras configs, HDF5 images made by
 * libhdf5's core driver in memory, safetensors and GGUF bytes assembled
 * field by field.  Each test states one property of one reader.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

#include <hdf5.h>

#include "../../scanner/formats.h"

/* --- helpers --------------------------------------------------------------- */

static enum mg_gclass
classify(void *ctx, const char *module, const char *name,
         const char **category)
{
	(void)ctx; (void)name;
	if (strcmp(module, "os") == 0 || strcmp(module, "builtins") == 0) {
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

	memset(&o, 0, sizeof(o));
	o.classifier = &classifier;
	o.max_depth = 8;
	return o;
}

/* 1 if @r has a finding with rule @rule (and verdict @v, unless -1). */
static int
has_rule(const struct mg_report *r, const char *rule, int v)
{
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		if (strcmp(r->findings[i].rule, rule) == 0 &&
		    (v < 0 || (int)r->findings[i].verdict == v))
			return 1;
	return 0;
}

static const char lambda_k2[] =
	"{\"class_name\": \"Sequential\", \"config\": {\"layers\": ["
	"{\"class_name\": \"Lambda\", \"config\": {\"name\": \"l\", "
	"\"function\": [\"4wEAAAAAAAAA\", null, null], "
	"\"function_type\": \"lambda\", \"module\": \"__main__\"}}]}}";

static struct mg_report *
keras(const char *json)
{
	struct mg_scan_opts o = opts();
	struct mg_report *r = mg_report_new();

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(mg_keras_config_scan(&o, "config.json",
	                 (const uint8_t *)json, strlen(json), r), MG_OK);
	return r;
}

#define KERAS_VERDICT(json, v) do { \
	struct mg_report *r_ = keras(json); \
	ck_assert_msg(r_->verdict == (v), "verdict %s for %s", \
	              mg_verdict_name(r_->verdict), json); \
	mg_report_free(r_); \
} while (0)

/* --- Keras configs --------------------------------------------------------- */

static const char benign_seq[] =
	"{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", "
	"\"layers\": [{\"class_name\": \"Dense\", \"config\": {\"units\": 2, "
	"\"activation\": \"relu\", \"kernel_initializer\": {\"class_name\": "
	"\"GlorotUniform\", \"config\": {\"seed\": null}}}}]}}";

START_TEST(test_keras_benign_sequential_is_clean)
{
	struct mg_report *r = keras(benign_seq);

	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	ck_assert_uint_eq(r->nfindings, 0);
	mg_report_free(r);
}
END_TEST

START_TEST(test_keras_lambda_with_bytecode_is_dangerous)
{
	struct mg_report *r = keras(lambda_k2);

	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "keras.lambda", MG_VERDICT_DANGEROUS));
	ck_assert_str_eq(r->findings[0].member, "config.json");
	/* The offset points at the "Lambda" class name in the text. */
	ck_assert_uint_eq(r->findings[0].offset,
	                  strstr(lambda_k2, "Lambda") - lambda_k2);
	mg_report_free(r);
}
END_TEST

START_TEST(test_keras3_lambda_object_is_dangerous)
{
	KERAS_VERDICT("{\"module\": \"keras.layers\", \"class_name\": \"Lambda\","
	    " \"config\": {\"function\": {\"class_name\": \"__lambda__\", "
	    "\"config\": {\"code\": \"4wEA\"}}}}", MG_VERDICT_DANGEROUS);
}
END_TEST

START_TEST(test_keras_lambda_in_wrappers_and_nested_models_is_found)
{
	/* Functional > Sequential > Bidirectional > TimeDistributed > Lambda */
	KERAS_VERDICT("{\"class_name\": \"Functional\", \"config\": {\"layers\":"
	    " [{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{"
	    "\"class_name\": \"Bidirectional\", \"config\": {\"layer\": {"
	    "\"class_name\": \"TimeDistributed\", \"config\": {\"layer\": {"
	    "\"class_name\": \"Lambda\", \"config\": {\"function\": \"x\"}}}}}"
	    "}]}}]}}", MG_VERDICT_DANGEROUS);
}
END_TEST

START_TEST(test_keras_custom_module_is_unknown)
{
	struct mg_report *r = keras(
	    "{\"module\": \"my_pkg.layers\", \"class_name\": \"Fancy\", "
	    "\"registered_name\": \"Fancy\", \"config\": {}}");

	ck_assert_int_eq(r->verdict, MG_VERDICT_UNKNOWN);
	ck_assert(has_rule(r, "keras.custom_object", MG_VERDICT_UNKNOWN));
	ck_assert_str_eq(r->findings[0].global, "my_pkg.layers Fancy");
	mg_report_free(r);
}
END_TEST

START_TEST(test_keras_registered_custom_name_is_unknown)
{
	KERAS_VERDICT("{\"class_name\": \"Fancy\", \"registered_name\": "
	    "\"MyPackage>Fancy\", \"config\": {}}", MG_VERDICT_UNKNOWN);
}
END_TEST

START_TEST(test_keras_builtin_modules_are_clean)
{
	KERAS_VERDICT("{\"module\": \"keras.layers\", \"class_name\": \"Dense\","
	    " \"registered_name\": null, \"config\": {\"activation\": {"
	    "\"module\": \"keras.activations\", \"class_name\": \"function\", "
	    "\"config\": \"relu\", \"registered_name\": \"function\"}}}",
	    MG_VERDICT_CLEAN);
	KERAS_VERDICT("{\"module\": \"tensorflow.keras.layers\", \"class_name\":"
	    " \"Dense\", \"config\": {}}", MG_VERDICT_CLEAN);
}
END_TEST

START_TEST(test_keras_module_prefix_must_end_at_a_dot)
{
	/* "kerasx" is not Keras. */
	KERAS_VERDICT("{\"module\": \"kerasx.layers\", \"class_name\": \"D\", "
	    "\"config\": {}}", MG_VERDICT_UNKNOWN);
}
END_TEST

START_TEST(test_keras_function_from_foreign_module_is_dangerous)
{
	struct mg_report *r = keras(
	    "{\"loss\": {\"module\": \"os\", \"class_name\": \"function\", "
	    "\"config\": \"system\", \"registered_name\": \"function\"}}");

	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "keras.gadget", MG_VERDICT_DANGEROUS));
	ck_assert_str_eq(r->findings[0].global, "os system");
	mg_report_free(r);
}
END_TEST

START_TEST(test_keras_published_gadgets_are_dangerous)
{
	KERAS_VERDICT("{\"module\": \"keras.utils\", \"class_name\": "
	    "\"function\", \"config\": \"get_file\"}", MG_VERDICT_DANGEROUS);
	KERAS_VERDICT("{\"module\": \"keras.config\", \"class_name\": "
	    "\"function\", \"config\": \"enable_unsafe_deserialization\"}",
	    MG_VERDICT_DANGEROUS);
	KERAS_VERDICT("{\"module\": \"keras.src.utils.file_utils\", "
	    "\"class_name\": \"function\", \"config\": \"extract_archive\"}",
	    MG_VERDICT_DANGEROUS);
}
END_TEST

START_TEST(test_keras_denied_class_module_is_dangerous)
{
	/* The classifier denies builtins: a "class" from there is code. */
	KERAS_VERDICT("{\"module\": \"builtins\", \"class_name\": \"exec\", "
	    "\"config\": {}}", MG_VERDICT_DANGEROUS);
}
END_TEST

START_TEST(test_keras_dotted_fn_field_is_dangerous)
{
	KERAS_VERDICT("{\"class_name\": \"X\", \"config\": {\"fn\": "
	    "\"subprocess.check_call\"}}", MG_VERDICT_DANGEROUS);
}
END_TEST

START_TEST(test_keras_tfoplambda_math_is_clean_io_is_dangerous)
{
	KERAS_VERDICT("{\"class_name\": \"TFOpLambda\", \"config\": {"
	    "\"function\": \"math.add\"}}", MG_VERDICT_CLEAN);
	KERAS_VERDICT("{\"class_name\": \"TFOpLambda\", \"config\": {"
	    "\"function\": \"io.write_file\"}}", MG_VERDICT_DANGEROUS);
}
END_TEST

START_TEST(test_keras_vocabulary_path_is_unknown)
{
	KERAS_VERDICT("{\"class_name\": \"StringLookup\", \"config\": {"
	    "\"vocabulary\": \"/etc/passwd\"}}", MG_VERDICT_UNKNOWN);
}
END_TEST

START_TEST(test_keras_invalid_json_is_error)
{
	struct mg_report *r = keras("{\"class_name\": \"Seq");

	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	ck_assert(has_rule(r, "keras.config.invalid", MG_VERDICT_ERROR));
	mg_report_free(r);
}
END_TEST

START_TEST(test_keras_python_nan_and_infinity_are_accepted)
{
	/* json.dumps(float('inf')) writes bare words Python reads back. */
	KERAS_VERDICT("{\"class_name\": \"ReLU\", \"config\": {\"max_value\":"
	    " Infinity, \"threshold\": -Infinity, \"x\": NaN, \"name\": "
	    "\"NaN Infinity\"}}", MG_VERDICT_CLEAN);
	/* ...and they hide nothing: a Lambda after them is still found. */
	KERAS_VERDICT("[NaN, {\"class_name\": \"Lambda\", \"config\": {"
	    "\"function\": \"x\"}}]", MG_VERDICT_DANGEROUS);
	KERAS_VERDICT("{\"a\": NaNx}", MG_VERDICT_ERROR);
	KERAS_VERDICT("{\"a\": 1NaN}", MG_VERDICT_ERROR);
}
END_TEST

START_TEST(test_keras_duplicate_keys_are_error)
{
	/* Python keeps the last class_name; never guess which one counts. */
	KERAS_VERDICT("{\"class_name\": \"Dense\", \"class_name\": \"Lambda\"}",
	              MG_VERDICT_ERROR);
}
END_TEST

START_TEST(test_keras_deep_nesting_is_bounded)
{
	size_t depth = 600, i, n = 0;
	char *s = malloc(depth * 2 + 1);
	struct mg_report *r;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < depth; i++)
		s[n++] = '[';
	for (i = 0; i < depth; i++)
		s[n++] = ']';
	s[n] = '\0';
	r = keras(s);
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	ck_assert(has_rule(r, "keras.depth", MG_VERDICT_ERROR));
	mg_report_free(r);
	free(s);
}
END_TEST

START_TEST(test_keras_embedded_nul_does_not_hide_a_lambda)
{
	/* "Lambda\u0000" is not "Lambda" to Python; no crash, no false
	 * equality in C either. */
	KERAS_VERDICT("{\"class_name\": \"Lam\\u0000bda\", \"config\": {}}",
	              MG_VERDICT_CLEAN);
}
END_TEST

/* --- Keras 3 output and loader (keras 3.15 serialization_lib) -------------- */

/* How keras 3 writes compile(loss=keras.losses.categorical_crossentropy). */
#define K3_BUILTIN_LOSS \
	"{\"module\": \"keras\", \"class_name\": \"Sequential\", \"config\": {}, " \
	"\"compile_config\": {\"loss\": {\"module\": \"builtins\", " \
	"\"class_name\": \"function\", \"config\": \"%s\", " \
	"\"registered_name\": \"function\"}}}"

static char fmt_buf[1024];

/* keras() of the literal format @fmt with its one %s replaced by @arg. */
#define keras_fmt(fmt, arg) \
	((void)snprintf(fmt_buf, sizeof(fmt_buf), fmt, arg), keras(fmt_buf))

START_TEST(test_keras3_builtins_ref_to_a_keras_function_is_clean)
{
	struct mg_report *r = keras_fmt(K3_BUILTIN_LOSS,
	                                "categorical_crossentropy");

	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	ck_assert_uint_eq(r->nfindings, 0);
	mg_report_free(r);
}
END_TEST

START_TEST(test_keras3_builtins_ref_to_a_denied_python_builtin_is_dangerous)
{
	/* Keras 3.0-3.8 fall back to vars(builtins)["eval"]. */
	struct mg_report *r = keras_fmt(K3_BUILTIN_LOSS, "eval");

	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "keras.gadget", MG_VERDICT_DANGEROUS));
	mg_report_free(r);
}
END_TEST

static enum mg_gclass
classify_eval_only(void *ctx, const char *module, const char *name,
                   const char **category)
{
	(void)ctx;
	if (strcmp(module, "builtins") == 0 && strcmp(name, "eval") == 0) {
		*category = "code execution";
		return MG_GLOBAL_DENIED;
	}
	return MG_GLOBAL_UNKNOWN;
}

START_TEST(test_keras3_builtins_ref_to_another_name_is_unknown)
{
	static const struct mg_classifier c = { classify_eval_only, NULL };
	struct mg_scan_opts o = opts();
	struct mg_report *r = mg_report_new();
	char buf[1024];

	o.classifier = &c;
	snprintf(buf, sizeof(buf), K3_BUILTIN_LOSS, "my_loss");
	ck_assert_int_eq(mg_keras_config_scan(&o, "config.json",
	                 (const uint8_t *)buf, strlen(buf), r), MG_OK);
	ck_assert_int_eq(r->verdict, MG_VERDICT_UNKNOWN);
	ck_assert(has_rule(r, "keras.custom_object", MG_VERDICT_UNKNOWN));
	mg_report_free(r);
}
END_TEST

START_TEST(test_keras3_lambda_of_a_named_function_is_judged_as_a_reference)
{
	/* Lambda(keras.activations.relu): no bytecode, a Keras function. */
	KERAS_VERDICT("{\"module\": \"keras.layers\", \"class_name\": \"Lambda\","
	    " \"config\": {\"function\": {\"module\": \"keras.activations\", "
	    "\"class_name\": \"function\", \"config\": \"relu\", "
	    "\"registered_name\": \"relu\"}}}", MG_VERDICT_CLEAN);
	/* Lambda(os.system): the reference itself is the finding. */
	KERAS_VERDICT("{\"module\": \"keras.layers\", \"class_name\": \"Lambda\","
	    " \"config\": {\"function\": {\"module\": \"os\", "
	    "\"class_name\": \"function\", \"config\": \"system\", "
	    "\"registered_name\": null}}}", MG_VERDICT_DANGEROUS);
	/* A __lambda__ is bytecode wherever it sits. */
	KERAS_VERDICT("{\"module\": \"keras.layers\", \"class_name\": \"Lambda\","
	    " \"config\": {\"function\": {\"module\": \"keras.activations\", "
	    "\"class_name\": \"function\", \"config\": \"relu\"}, "
	    "\"output_shape\": {\"class_name\": \"__lambda__\", \"config\": "
	    "{\"code\": \"4wEA\"}}}}", MG_VERDICT_DANGEROUS);
}
END_TEST

START_TEST(test_keras3_non_modeling_apis_are_dangerous)
{
	static const char *const fns[][2] = {
		{ "keras.utils", "save_img" }, { "keras.models", "save_model" },
		{ "keras.backend", "clear_session" },
		{ "keras.preprocessing.image", "load_img" },
		{ "keras.utils", "image_dataset_from_directory" },
	};
	char buf[512];
	size_t i;

	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"module\": \"%s\", \"class_name\": "
		         "\"function\", \"config\": \"%s\"}", fns[i][0],
		         fns[i][1]);
		KERAS_VERDICT(buf, MG_VERDICT_DANGEROUS);
	}
}
END_TEST

/* TorchModuleWrapper config with config.module = @b64. */
#define K3_TMW \
	"{\"module\": \"keras.layers\", \"class_name\": \"TorchModuleWrapper\", " \
	"\"config\": {\"name\": \"w\", \"module\": \"%s\"}}"

START_TEST(test_keras3_torch_module_wrapper_bytes_are_scanned)
{
	/* base64 of the protocol-2 pickle os.system("true") */
	struct mg_report *r = keras_fmt(K3_TMW,
	    "gAJjb3MKc3lzdGVtCnEAWAQAAAB0cnVlcQGFcQJScQMu");
	size_t i;
	int named = 0;

	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "pickle.global.denied", MG_VERDICT_DANGEROUS));
	for (i = 0; i < r->nfindings; i++)
		if (r->findings[i].member != NULL &&
		    strcmp(r->findings[i].member, "config.json|w.module") == 0)
			named = 1;
	ck_assert_msg(named, "no finding names config.json|w.module");
	mg_report_free(r);
}
END_TEST

START_TEST(test_keras3_torch_module_wrapper_base64_is_decoded_like_python)
{
	/* builtins.list(): clean.  A "\n" inside is skipped, as b64decode
	 * does (non-strict). */
	struct mg_report *r = keras_fmt(K3_TMW,
	    "gAJjYnVpbHRp\\nbnMKbGlzdApxAClScQEu");

	ck_assert_int_ne(r->verdict, MG_VERDICT_ERROR);
	ck_assert(!has_rule(r, "keras.embedded_module", -1));
	mg_report_free(r);
	/* Padding cut short: binascii raises; data after "=": refused. */
	r = keras_fmt(K3_TMW, "gAJjYnVpbHRpbnMKbGlzdApxAClScQE");
	ck_assert(has_rule(r, "keras.embedded_module", MG_VERDICT_ERROR));
	mg_report_free(r);
	r = keras_fmt(K3_TMW, "gAJj=YnVpbHRpbnMKbGlzdApxAClScQEu");
	ck_assert(has_rule(r, "keras.embedded_module", MG_VERDICT_ERROR));
	mg_report_free(r);
}
END_TEST

START_TEST(test_keras3_module_value_that_is_no_name_is_scanned_as_bytes)
{
	/* Whatever the class: a config.module that is not a dotted name. */
	KERAS_VERDICT("{\"module\": \"evil\", \"class_name\": \"MyWrapper\", "
	    "\"registered_name\": \"x>MyWrapper\", \"config\": {\"module\": "
	    "\"gAJjb3MKc3lzdGVtCnEAWAQAAAB0cnVlcQGFcQJScQMu\"}}",
	    MG_VERDICT_DANGEROUS);
	/* Keras 2 Lambda configs carry "module": "__main__": a name. */
	KERAS_VERDICT("{\"class_name\": \"Dense\", \"config\": {\"module\": "
	    "\"__main__\"}}", MG_VERDICT_CLEAN);
}
END_TEST

START_TEST(test_keras3_tfsm_layer_is_dangerous)
{
	struct mg_report *r = keras("{\"module\": \"keras.layers\", "
	    "\"class_name\": \"TFSMLayer\", \"config\": {\"filepath\": "
	    "\"/tmp/sm\", \"call_endpoint\": \"serve\"}}");

	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "keras.external_code", MG_VERDICT_DANGEROUS));
	mg_report_free(r);
}
END_TEST

/* --- HDF5 ------------------------------------------------------------------ */

struct h5img {
	uint8_t *buf;
	size_t len;
};

/* @vlen: 0 fixed-length ASCII (Keras 2 bytes), 1 variable-length ASCII,
 * 2 variable-length UTF-8 (what h5py writes for a str). */
static void
h5_string_attr(hid_t obj, const char *name, const char *value, int vlen)
{
	hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), a;

	ck_assert_int_ge(H5Tset_size(t, vlen ? H5T_VARIABLE : strlen(value)), 0);
	if (vlen == 2)
		ck_assert_int_ge(H5Tset_cset(t, H5T_CSET_UTF8), 0);
	a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
	ck_assert_int_ge(a, 0);
	ck_assert_int_ge(H5Awrite(a, t, vlen ? (const void *)&value :
	                          (const void *)value), 0);
	H5Aclose(a);
	H5Sclose(sp);
	H5Tclose(t);
}

/* An HDF5 file in memory; @build adds to it; the image is copied out. */
static struct h5img
h5_build(void (*build)(hid_t fid))
{
	struct h5img im;
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fid;
	ssize_t n;

	ck_assert_int_ge(H5Pset_fapl_core(fapl, 4096, 0), 0);
	fid = H5Fcreate("unit.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
	ck_assert_int_ge(fid, 0);
	build(fid);
	ck_assert_int_ge(H5Fflush(fid, H5F_SCOPE_GLOBAL), 0);
	n = H5Fget_file_image(fid, NULL, 0);
	ck_assert_int_gt(n, 0);
	im.len = (size_t)n;
	im.buf = malloc(im.len);
	ck_assert_ptr_nonnull(im.buf);
	ck_assert_int_eq(H5Fget_file_image(fid, im.buf, im.len), n);
	H5Fclose(fid);
	H5Pclose(fapl);
	return im;
}

/* The same behind a user block of @ub zero bytes, as h5py's
 * userblock_size writes it: libhdf5 takes the superblock's offset as the
 * base of every address, so the image is the same bytes moved. */
static struct h5img
h5_build_ub(void (*build)(hid_t fid), size_t ub)
{
	struct h5img im = h5_build(build);
	uint8_t *b = calloc(1, ub + im.len);

	ck_assert_ptr_nonnull(b);
	memcpy(b + ub, im.buf, im.len);
	free(im.buf);
	im.buf = b;
	im.len += ub;
	return im;
}

static struct mg_report *
h5_scan(const struct h5img *im)
{
	struct mg_scan_opts o = opts();
	struct mg_report *r = mg_report_new();

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(mg_hdf5_scan(&o, "m.h5", NULL, im->buf, im->len, 0,
	                              r), MG_OK);
	return r;
}

static const char lambda_cfg[] =
	"{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{"
	"\"class_name\": \"Lambda\", \"config\": {\"function\": [\"4wE=\", "
	"null, null]}}]}}";

static void build_benign_fixed(hid_t f) { h5_string_attr(f, "model_config", benign_seq, 0); }
static void build_lambda_fixed(hid_t f) { h5_string_attr(f, "model_config", lambda_cfg, 0); }
static void build_lambda_vlen(hid_t f) { h5_string_attr(f, "model_config", lambda_cfg, 1); }
static void build_lambda_utf8(hid_t f) { h5_string_attr(f, "model_config", lambda_cfg, 2); }
static void build_training_gadget(hid_t f)
{
	h5_string_attr(f, "model_config", benign_seq, 0);
	h5_string_attr(f, "training_config", "{\"loss\": {\"module\": \"os\", "
	               "\"class_name\": \"function\", \"config\": \"system\"}}", 1);
}

static void
build_weights_only(hid_t f)
{
	hsize_t dims[1] = { 4 };
	hid_t sp = H5Screate_simple(1, dims, NULL);
	hid_t d = H5Dcreate2(f, "kernel", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT,
	                     H5P_DEFAULT, H5P_DEFAULT);

	ck_assert_int_ge(d, 0);
	H5Dclose(d);
	H5Sclose(sp);
	h5_string_attr(f, "backend", "tensorflow", 0);
}

static void
build_weights_group_lambda(hid_t f)
{
	hid_t g = H5Gcreate2(f, "model_weights", H5P_DEFAULT, H5P_DEFAULT,
	                     H5P_DEFAULT);

	ck_assert_int_ge(g, 0);
	h5_string_attr(g, "model_config", lambda_cfg, 0);
	H5Gclose(g);
}

static void
build_int_config(hid_t f)
{
	hid_t sp = H5Screate(H5S_SCALAR), a;
	int v = 7;

	a = H5Acreate2(f, "model_config", H5T_NATIVE_INT, sp, H5P_DEFAULT,
	               H5P_DEFAULT);
	ck_assert_int_ge(H5Awrite(a, H5T_NATIVE_INT, &v), 0);
	H5Aclose(a);
	H5Sclose(sp);
}

#define H5_VERDICT(builder, v, rule) do { \
	struct h5img im_ = h5_build(builder); \
	struct mg_report *r_ = h5_scan(&im_); \
	ck_assert_msg(r_->verdict == (v), "verdict %s", \
	              mg_verdict_name(r_->verdict)); \
	ck_assert_msg(has_rule(r_, rule, -1), "no finding %s", rule); \
	mg_report_free(r_); \
	free(im_.buf); \
} while (0)

START_TEST(test_hdf5_benign_config_is_clean)
{
	struct h5img im = h5_build(build_benign_fixed);
	struct mg_report *r = h5_scan(&im);

	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	ck_assert_uint_eq(r->nfindings, 0);
	mg_report_free(r);
	free(im.buf);
}
END_TEST

START_TEST(test_hdf5_lambda_fixed_string_is_dangerous)
{
	H5_VERDICT(build_lambda_fixed, MG_VERDICT_DANGEROUS, "keras.lambda");
}
END_TEST

START_TEST(test_hdf5_lambda_vlen_string_is_dangerous)
{
	struct h5img im = h5_build(build_lambda_vlen);
	struct mg_report *r = h5_scan(&im);

	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert_str_eq(r->findings[0].member, "model_config");
	mg_report_free(r);
	free(im.buf);
}
END_TEST

START_TEST(test_hdf5_lambda_utf8_vlen_string_is_dangerous)
{
	H5_VERDICT(build_lambda_utf8, MG_VERDICT_DANGEROUS, "keras.lambda");
}
END_TEST

START_TEST(test_hdf5_training_config_is_scanned)
{
	H5_VERDICT(build_training_gadget, MG_VERDICT_DANGEROUS, "keras.gadget");
}
END_TEST

START_TEST(test_hdf5_model_weights_group_config_is_scanned)
{
	H5_VERDICT(build_weights_group_lambda, MG_VERDICT_DANGEROUS,
	           "keras.lambda");
}
END_TEST

START_TEST(test_hdf5_weights_only_is_clean_with_info)
{
	H5_VERDICT(build_weights_only, MG_VERDICT_CLEAN, "hdf5.no_keras_config");
}
END_TEST

START_TEST(test_hdf5_non_string_config_is_error)
{
	H5_VERDICT(build_int_config, MG_VERDICT_ERROR, "hdf5.attr.invalid");
}
END_TEST

START_TEST(test_hdf5_truncated_is_error)
{
	struct h5img im = h5_build(build_lambda_fixed);
	struct mg_report *r;

	im.len = 700;
	r = h5_scan(&im);
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
	free(im.buf);
}
END_TEST

/* A whole-file scan (mg_scan_buffer: the sniffer decides) of @im. */
static struct mg_report *
h5_scan_any(const struct h5img *im, const char *name)
{
	struct mg_scan_opts o = opts();
	struct mg_report *r = mg_report_new();

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(mg_scan_buffer(&o, name, im->buf, im->len, r), MG_OK);
	return r;
}

START_TEST(test_hdf5_after_a_large_user_block_is_read)
{
	/* libhdf5 looks at every power of two up to the file's size: a
	 * 4 MiB user block (past the 1 MiB the sniffer once stopped at)
	 * still opens, Lambda and all, under any name. */
	struct h5img im = h5_build_ub(build_lambda_fixed, (size_t)4 << 20);
	struct mg_report *r;

	ck_assert_uint_gt(im.len, (size_t)4 << 20);
	ck_assert_ptr_eq(memmem(im.buf, 64, "\x89HDF", 4), NULL);
	r = h5_scan_any(&im, "store");
	ck_assert_str_eq(r->format, "hdf5");
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "keras.lambda", -1));
	mg_report_free(r);
	free(im.buf);
}
END_TEST

/* @build's file behind a @ub-byte user block that is a clean pickle
 * (None): pickle.load returns None, h5py and PyTables open the HDF5 file
 * behind it.  Scanned whole as store.pkl. */
static struct mg_report *
scan_behind_pickle(void (*build)(hid_t fid), size_t ub)
{
	struct h5img im = h5_build_ub(build, ub);
	struct mg_report *r;

	memcpy(im.buf, "\x80\x02N.", 4);
	r = h5_scan_any(&im, "store.pkl");
	free(im.buf);
	ck_assert_str_eq(r->format, "pickle");
	ck_assert(has_rule(r, "hdf5.user_block", MG_VERDICT_CLEAN));
	return r;
}

START_TEST(test_hdf5_behind_a_pickle_user_block_is_read_both_ways)
{
	struct mg_report *r = scan_behind_pickle(build_lambda_fixed, 1024);

	ck_assert(has_rule(r, "keras.lambda", -1));
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	mg_report_free(r);
}
END_TEST

START_TEST(test_hdf5_user_block_benign_is_clean_both_ways)
{
	struct mg_report *r = scan_behind_pickle(build_benign_fixed, 512);

	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	mg_report_free(r);
}
END_TEST

START_TEST(test_hdf5_garbage_is_error)
{
	static const uint8_t junk[64] = "\x89HDF\r\n\x1a\n garbage";
	struct mg_scan_opts o = opts();
	struct mg_report *r = mg_report_new();

	ck_assert_int_eq(mg_hdf5_scan(&o, "x.h5", NULL, junk, sizeof(junk), 0,
	                              r), MG_OK);
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	ck_assert(has_rule(r, "hdf5.invalid", MG_VERDICT_ERROR));
	mg_report_free(r);
}
END_TEST

START_TEST(test_hdf5_libhdf5_crash_is_an_error_finding)
{
	/* A global heap object claiming 2^40 bytes makes libhdf5 1.10.8's
	 * H5HG_read memcpy far past its buffer (found by fuzz_formats).  The
	 * reader runs libhdf5 in a child: the scan survives and says error. */
	struct h5img im = h5_build(build_lambda_vlen);
	uint8_t *gcol = memmem(im.buf, im.len, "GCOL", 4);
	uint64_t huge = (uint64_t)1 << 40;
	struct mg_report *r;

	ck_assert_ptr_nonnull(gcol);
	ck_assert_uint_le((size_t)(gcol - im.buf) + 32, im.len);
	memcpy(gcol + 24, &huge, 8); /* object 1's size (little-endian host) */
	r = h5_scan(&im);
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	ck_assert(has_rule(r, "hdf5.crashed", MG_VERDICT_ERROR));
	mg_report_free(r);
	free(im.buf);
}
END_TEST

/* base64 of @p[0..@n), NUL-terminated; the caller frees. */
static char *
b64_encode(const uint8_t *p, size_t n)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                         "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
	size_t i;
	uint32_t v;

	ck_assert_ptr_nonnull(out);
	for (i = 0; i < n; i += 3) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*o++ = al[v >> 18 & 63];
		*o++ = al[v >> 12 & 63];
		*o++ = i + 1 < n ? al[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? al[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static char *nested_cfg;
static void build_nested(hid_t f) { h5_string_attr(f, "model_config", nested_cfg, 1); }

/* In a child that cannot fork (the helper's filter refuses it too), so
 * libhdf5 runs in-process: scan @im, exit 0 if a keras.lambda finding
 * names @member.  A deadlock ends in SIGALRM. */
static void
scan_without_fork(const struct h5img *im, const char *member)
{
	struct mg_scan_opts o = opts();
	struct mg_report *r;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	size_t i;

	alarm(3);
	if (ctx == NULL ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 0) ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fork), 0) ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(vfork), 0))
		_exit(2);
	/* clone3 may be unknown to an old libseccomp; ENOSYS makes glibc
	 * fall back to clone, which is refused above. */
	(void)seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (seccomp_load(ctx) != 0)
		_exit(2);
	if ((r = mg_report_new()) == NULL ||
	    mg_hdf5_scan(&o, "m.h5", NULL, im->buf, im->len, 0, r) != MG_OK)
		_exit(3);
	for (i = 0; i < r->nfindings; i++)
		if (strcmp(r->findings[i].rule, "keras.lambda") == 0 &&
		    r->findings[i].member != NULL &&
		    strcmp(r->findings[i].member, member) == 0)
			_exit(0);
	_exit(4);
}

START_TEST(test_hdf5_config_embedding_hdf5_scans_in_process_without_deadlock)
{
	/* A legacy .h5 whose model_config holds a TorchModuleWrapper whose
	 * module is another HDF5 file with a Lambda: the embedded file
	 * reaches mg_hdf5_scan again from inside the first one. */
	struct h5img inner = h5_build(build_lambda_fixed), outer;
	char *enc = b64_encode(inner.buf, inner.len);
	int st = 0;
	pid_t pid;

	ck_assert_int_gt(asprintf(&nested_cfg, K3_TMW, enc), 0);
	outer = h5_build(build_nested);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		scan_without_fork(&outer, "model_config|w.module!model_config");
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "child: %s %d", WIFEXITED(st) ? "exit" : "signal",
	              WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	free(nested_cfg);
	free(enc);
	free(inner.buf);
	free(outer.buf);
}
END_TEST

#ifndef __SANITIZE_ADDRESS__ /* see the suite below */
static struct h5img thread_img;
static char thread_why[256];   /* what the first bad scan said */
static int thread_why_taken;

static void *
scan_thread(void *arg)
{
	int i, *bad = arg;

	for (i = 0; i < 40; i++) {
		struct mg_scan_opts o = opts();
		struct mg_report *r = mg_report_new();

		if (r == NULL || mg_hdf5_scan(&o, "t.h5", NULL, thread_img.buf,
		                              thread_img.len, 0, r) != MG_OK ||
		    r->verdict != MG_VERDICT_DANGEROUS) {
			if (r != NULL && r->nfindings > 0 &&
			    !__atomic_exchange_n(&thread_why_taken, 1,
			                         __ATOMIC_SEQ_CST))
				snprintf(thread_why, sizeof(thread_why), "%s: %s",
				         r->findings[0].rule,
				         r->findings[0].message);
			(*bad)++;
		}
		mg_report_free(r);
	}
	return NULL;
}

START_TEST(test_hdf5_concurrent_scans_are_serialised)
{
	pthread_t th[4];
	int bad[4] = { 0 }, i;

	thread_img = h5_build(build_lambda_vlen);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, scan_thread,
		                                &bad[i]), 0);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 4; i++)
		ck_assert_msg(bad[i] == 0, "thread %d: %d bad scans, first: %s",
		              i, bad[i], thread_why);
	free(thread_img.buf);
}
END_TEST
#endif

/* --- safetensors ----------------------------------------------------------- */

/* Header @json (padded to 8), then @datalen bytes of data. */
static struct mg_report *
st_scan(const char *json, size_t datalen)
{
	struct mg_scan_opts o = opts();
	struct mg_report *r = mg_report_new();
	size_t n = strlen(json), pad = (8 - n % 8) % 8, len = 8 + n + pad + datalen;
	uint8_t *b = calloc(1, len);
	size_t i;

	ck_assert_ptr_nonnull(b);
	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)((n + pad) >> (8 * i));
	memcpy(b + 8, json, n);
	memset(b + 8 + n, ' ', pad);
	ck_assert_int_eq(mg_safetensors_scan(&o, "m.safetensors", NULL, b,
	                                     len, 0, r), MG_OK);
	free(b);
	return r;
}

#define ST_VERDICT(json, datalen, v) do { \
	struct mg_report *r_ = st_scan(json, datalen); \
	ck_assert_msg(r_->verdict == (v), "verdict %s for %s: %s", \
	              mg_verdict_name(r_->verdict), json, \
	              r_->nfindings ? r_->findings[0].message : ""); \
	mg_report_free(r_); \
} while (0)

START_TEST(test_st_valid_several_dtypes_is_clean)
{
	ST_VERDICT("{\"__metadata__\": {\"format\": \"pt\"}, "
	    "\"b\": {\"dtype\": \"BF16\", \"shape\": [2, 2], \"data_offsets\": [24, 32]},"
	    "\"a\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 24]},"
	    "\"c\": {\"dtype\": \"I64\", \"shape\": [], \"data_offsets\": [32, 40]},"
	    "\"e\": {\"dtype\": \"U8\", \"shape\": [0, 5], \"data_offsets\": [40, 40]},"
	    "\"f\": {\"dtype\": \"F4\", \"shape\": [4], \"data_offsets\": [40, 42]}}",
	    42, MG_VERDICT_CLEAN);
}
END_TEST

START_TEST(test_st_empty_header_is_clean)
{
	ST_VERDICT("{}", 0, MG_VERDICT_CLEAN);
}
END_TEST

START_TEST(test_st_rejects_bad_headers)
{
	ST_VERDICT("[]", 0, MG_VERDICT_ERROR);
	ST_VERDICT(" {}", 0, MG_VERDICT_ERROR);
	ST_VERDICT("{\"a\": ", 0, MG_VERDICT_ERROR);
	ST_VERDICT("{\"a\": {}, \"a\": {}}", 0, MG_VERDICT_ERROR);
	ST_VERDICT("{\"__metadata__\": {\"k\": 1}}", 0, MG_VERDICT_ERROR);
	ST_VERDICT("{\"__metadata__\": [\"k\"]}", 0, MG_VERDICT_ERROR);
}
END_TEST

START_TEST(test_st_rejects_bad_tensor_entries)
{
	ST_VERDICT("{\"a\": {\"dtype\": \"F128\", \"shape\": [1], \"data_offsets\": [0, 16]}}", 16, MG_VERDICT_ERROR);
	ST_VERDICT("{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4, MG_VERDICT_ERROR);
	ST_VERDICT("{\"a\": {\"dtype\": \"F32\", \"shape\": [1.0], \"data_offsets\": [0, 4]}}", 4, MG_VERDICT_ERROR);
	ST_VERDICT("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", 4, MG_VERDICT_ERROR);
	ST_VERDICT("{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4, MG_VERDICT_ERROR);
	ST_VERDICT("{\"a\": 5}", 0, MG_VERDICT_ERROR);
	/* 3 F6 values are 18 bits: not a whole number of bytes. */
	ST_VERDICT("{\"a\": {\"dtype\": \"F6_E2M3\", \"shape\": [3], \"data_offsets\": [0, 3]}}", 3, MG_VERDICT_ERROR);
}
END_TEST

START_TEST(test_st_rejects_bad_layouts)
{
	/* size mismatch, overlap, gap, reversed, past EOF, trailing bytes */
	ST_VERDICT("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8, MG_VERDICT_ERROR);
	ST_VERDICT("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
	           "\"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12, MG_VERDICT_ERROR);
	ST_VERDICT("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8, MG_VERDICT_ERROR);
	ST_VERDICT("{\"a\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 0]}}", 8, MG_VERDICT_ERROR);
	ST_VERDICT("{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 8, MG_VERDICT_ERROR);
	ST_VERDICT("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 9, MG_VERDICT_ERROR);
	ST_VERDICT("{\"a\": {\"dtype\": \"F64\", \"shape\": [4294967296, 4294967296], \"data_offsets\": [0, 8]}}", 8, MG_VERDICT_ERROR);
}
END_TEST

START_TEST(test_st_overlap_finding_names_tensor_and_offset)
{
	struct mg_report *r = st_scan(
	    "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
	    "\"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}",
	    12);

	ck_assert_uint_eq(r->nfindings, 1);
	ck_assert_str_eq(r->findings[0].rule, "safetensors.invalid");
	ck_assert_ptr_nonnull(strstr(r->findings[0].message, "overlap"));
	ck_assert_ptr_nonnull(strstr(r->findings[0].message, "\"b\""));
	/* 8 + 128 header bytes (padded), then b's begin (4) */
	ck_assert_uint_eq(r->findings[0].offset, 8 + 128 + 4);
	mg_report_free(r);
}
END_TEST

START_TEST(test_st_length_checks)
{
	static const uint8_t shortb[5] = { 1, 0, 0, 0, 0 };
	static const uint8_t huge[16] = { 0x01, 0xe1, 0xf5, 0x05, 0, 0, 0, 0, '{', '}' };
	static const uint8_t past[16] = { 0x00, 0x10, 0, 0, 0, 0, 0, 0, '{', '}' };
	static const uint8_t maxlen[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{' };
	const uint8_t *cases[] = { shortb, huge, past, maxlen };
	size_t lens[] = { sizeof(shortb), 16, 16, 16 }, i;
	struct mg_scan_opts o = opts();

	/* huge: 100,000,001; past: 4096 > file; maxlen: 2^64-1 */
	for (i = 0; i < 4; i++) {
		struct mg_report *r = mg_report_new();

		ck_assert_int_eq(mg_safetensors_scan(&o, "x", "m", cases[i],
		                 lens[i], 0, r), MG_OK);
		ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
		ck_assert_str_eq(r->findings[0].member, "m");
		mg_report_free(r);
	}
}
END_TEST

/* --- GGUF ------------------------------------------------------------------ */

struct gbuf {
	uint8_t b[8192];
	size_t n;
};

static void
g_le(struct gbuf *g, uint64_t v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		g->b[g->n++] = (uint8_t)(v >> (8 * i));
}

static void
g_str(struct gbuf *g, const char *s)
{
	g_le(g, strlen(s), 8);
	memcpy(g->b + g->n, s, strlen(s));
	g->n += strlen(s);
}

/* A v3 GGUF: a few metadata of several types, the template under @key,
 * one tensor info. */
static void
g_build(struct gbuf *g, const char *key, const char *tpl)
{
	g->n = 0;
	memcpy(g->b, "GGUF", 4);
	g->n = 4;
	g_le(g, 3, 4);
	g_le(g, 1, 8);          /* tensors */
	g_le(g, 5, 8);          /* key/values */
	g_str(g, "general.architecture"); g_le(g, 8, 4); g_str(g, "llama");
	g_str(g, "llama.context_length"); g_le(g, 4, 4); g_le(g, 4096, 4);
	g_str(g, "tokenizer.ggml.tokens"); g_le(g, 9, 4); g_le(g, 8, 4);
	g_le(g, 2, 8); g_str(g, "<s>"); g_str(g, "</s>");
	g_str(g, "fixture.nested"); g_le(g, 9, 4); g_le(g, 9, 4); g_le(g, 1, 8);
	g_le(g, 12, 4); g_le(g, 2, 8); g_le(g, 0, 8); g_le(g, 0, 8);
	g_str(g, key); g_le(g, 8, 4); g_str(g, tpl);
	g_str(g, "w"); g_le(g, 2, 4); g_le(g, 4, 8); g_le(g, 2, 8);
	g_le(g, 0, 4); g_le(g, 0, 8);
}

static struct mg_report *
g_scan(const uint8_t *b, size_t n)
{
	struct mg_scan_opts o = opts();
	struct mg_report *r = mg_report_new();

	ck_assert_int_eq(mg_gguf_scan(&o, "m.gguf", NULL, b, n, 0, r), MG_OK);
	return r;
}

static int
template_verdict(const char *tpl)
{
	struct gbuf g;
	struct mg_report *r;
	int v;

	g_build(&g, "tokenizer.chat_template", tpl);
	r = g_scan(g.b, g.n);
	v = r->verdict;
	mg_report_free(r);
	return v;
}

#define TPL(tpl, v) ck_assert_msg(template_verdict(tpl) == (v), \
	"template verdict %s: %s", mg_verdict_name(template_verdict(tpl)), tpl)

START_TEST(test_gguf_plain_templates_are_clean)
{
	TPL("{% for message in messages %}{{ '<|im_start|>' + message['role']"
	    " + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}"
	    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
	    "{% endif %}", MG_VERDICT_CLEAN);
	TPL("{% set ns = namespace(sys='') %}{% for m in messages %}"
	    "{% if m.role == 'system' %}{% set ns.sys = m.content %}{% endif %}"
	    "{% endfor %}{{ bos_token }}[INST] Important: {{ ns.sys }} "
	    "This system prompt describes attributes. [/INST]",
	    MG_VERDICT_CLEAN);
}
END_TEST

START_TEST(test_gguf_cve_template_is_dangerous)
{
	TPL("{% for x in ().__class__.__base__.__subclasses__() %}{% if "
	    "\"warning\" in x.__name__ %}{{x()._module.__builtins__['__import__']"
	    "('os').popen(\"touch m\")}}{%endif%}{% endfor %}",
	    MG_VERDICT_DANGEROUS);
}
END_TEST

START_TEST(test_gguf_obfuscated_templates_are_dangerous)
{
	/* split so that no literal holds "__" */
	TPL("{{ ()['_' ~ '_cla' ~ 'ss_' ~ '_'] }}", MG_VERDICT_DANGEROUS);
	/* list join */
	TPL("{{ ()[['_','_class_','_']|join] }}", MG_VERDICT_DANGEROUS);
	/* escapes */
	TPL("{{ ()['\\x5f\\x5fclass\\x5f\\x5f'] }}", MG_VERDICT_DANGEROUS);
	TPL("{{ ()['\\u005f\\u005fclass\\u005f\\u005f'] }}", MG_VERDICT_DANGEROUS);
	TPL("{{ ()['\\137\\137class\\137\\137'] }}", MG_VERDICT_DANGEROUS);
	/* attr filter, char codes, reversal, case */
	TPL("{{ ()|attr(x) }}", MG_VERDICT_DANGEROUS);
	TPL("{{ ()[('%c%c'|format(95,95)) ~ 'class'] }}", MG_VERDICT_DANGEROUS);
	TPL("{{ x[('nepop')|reverse]('id') }}", MG_VERDICT_DANGEROUS);
	TPL("{{ x['SNITLIUB'|lower|reverse] }}", MG_VERDICT_DANGEROUS);
	TPL("{{ lipsum.x }}", MG_VERDICT_DANGEROUS);
	TPL("{{ ()[('%sclass%s'|format('_' * 2, '_' * 2))] }}",
	    MG_VERDICT_DANGEROUS);
	TPL("{{ ()['xxclassxx'|replace('x', '_')] }}", MG_VERDICT_DANGEROUS);
	TPL("{{ ()[(raise_exception|string)[14]] }}", MG_VERDICT_DANGEROUS);
	TPL("{{ self._TemplateReference_x }}", MG_VERDICT_DANGEROUS);
	TPL("{{ x.OS.POPEN('id') }}", MG_VERDICT_DANGEROUS);
}
END_TEST

START_TEST(test_gguf_named_template_is_checked)
{
	struct gbuf g;
	struct mg_report *r;

	g_build(&g, "tokenizer.chat_template.tool_use", "{{ ().__class__ }}");
	r = g_scan(g.b, g.n);
	ck_assert_int_eq(r->verdict, MG_VERDICT_DANGEROUS);
	ck_assert(has_rule(r, "gguf.chat_template", MG_VERDICT_DANGEROUS));
	/* The offset is where "__" sits in the file. */
	ck_assert_int_eq(memcmp(g.b + r->findings[0].offset, "__class__", 9), 0);
	mg_report_free(r);
	/* Another key that merely starts alike is not a template. */
	g_build(&g, "tokenizer.chat_templates", "{{ ().__class__ }}");
	r = g_scan(g.b, g.n);
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	mg_report_free(r);
}
END_TEST

START_TEST(test_gguf_every_truncation_is_error)
{
	struct gbuf g;
	struct mg_report *r;
	size_t cut;

	g_build(&g, "tokenizer.chat_template", "{{ x }}");
	/* Every prefix up to the last byte fails cleanly as an error. */
	for (cut = 0; cut < g.n; cut++) {
		r = g_scan(g.b, cut);
		ck_assert_msg(r->verdict == MG_VERDICT_ERROR, "cut %zu", cut);
		mg_report_free(r);
	}
	r = g_scan(g.b, g.n);
	ck_assert_int_eq(r->verdict, MG_VERDICT_CLEAN);
	mg_report_free(r);
}
END_TEST

START_TEST(test_gguf_absurd_counts_are_error)
{
	struct gbuf g;
	struct mg_report *r;

	memcpy(g.b, "GGUF", 4);
	g.n = 4;
	g_le(&g, 3, 4);
	g_le(&g, 0, 8);
	g_le(&g, UINT64_MAX, 8);
	r = g_scan(g.b, g.n);
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
	/* one array of 2^62 strings */
	g.n = 4;
	g_le(&g, 3, 4); g_le(&g, 0, 8); g_le(&g, 1, 8);
	g_str(&g, "k"); g_le(&g, 9, 4); g_le(&g, 8, 4); g_le(&g, 1ull << 62, 8);
	r = g_scan(g.b, g.n);
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
}
END_TEST

START_TEST(test_gguf_deeply_nested_arrays_are_error)
{
	struct gbuf g;
	struct mg_report *r;
	int i;

	memcpy(g.b, "GGUF", 4);
	g.n = 4;
	g_le(&g, 3, 4); g_le(&g, 0, 8); g_le(&g, 1, 8);
	g_str(&g, "k"); g_le(&g, 9, 4);
	for (i = 0; i < 50; i++) {
		g_le(&g, 9, 4);
		g_le(&g, 1, 8);
	}
	g_le(&g, 0, 4); g_le(&g, 0, 8);
	r = g_scan(g.b, g.n);
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
}
END_TEST

START_TEST(test_gguf_bad_magic_version_and_types_are_error)
{
	static const uint8_t v1[] = "GGUF\x01\0\0\0\0\0\0\0\0\0\0\0";
	static const uint8_t be[] = "GGUF\0\0\0\x03\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
	struct gbuf g;
	struct mg_report *r;

	r = g_scan(v1, sizeof(v1) - 1);
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	ck_assert_ptr_nonnull(strstr(r->findings[0].message, "version 1"));
	mg_report_free(r);
	r = g_scan(be, sizeof(be) - 1);
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
	r = g_scan((const uint8_t *)"GGUX", 4);
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
	memcpy(g.b, "GGUF", 4);
	g.n = 4;
	g_le(&g, 3, 4); g_le(&g, 0, 8); g_le(&g, 1, 8);
	g_str(&g, "k"); g_le(&g, 13, 4); g_le(&g, 0, 8);
	r = g_scan(g.b, g.n);
	ck_assert_int_eq(r->verdict, MG_VERDICT_ERROR);
	mg_report_free(r);
}
END_TEST

/* --- suite ----------------------------------------------------------------- */

static Suite *
formats_suite(void)
{
	Suite *s = suite_create("formats");
	TCase *k = tcase_create("keras"), *h = tcase_create("hdf5");
	TCase *st = tcase_create("safetensors"), *gg = tcase_create("gguf");

	tcase_add_test(k, test_keras_benign_sequential_is_clean);
	tcase_add_test(k, test_keras_lambda_with_bytecode_is_dangerous);
	tcase_add_test(k, test_keras3_lambda_object_is_dangerous);
	tcase_add_test(k, test_keras_lambda_in_wrappers_and_nested_models_is_found);
	tcase_add_test(k, test_keras_custom_module_is_unknown);
	tcase_add_test(k, test_keras_registered_custom_name_is_unknown);
	tcase_add_test(k, test_keras_builtin_modules_are_clean);
	tcase_add_test(k, test_keras_module_prefix_must_end_at_a_dot);
	tcase_add_test(k, test_keras_function_from_foreign_module_is_dangerous);
	tcase_add_test(k, test_keras_published_gadgets_are_dangerous);
	tcase_add_test(k, test_keras_denied_class_module_is_dangerous);
	tcase_add_test(k, test_keras_dotted_fn_field_is_dangerous);
	tcase_add_test(k, test_keras_tfoplambda_math_is_clean_io_is_dangerous);
	tcase_add_test(k, test_keras_vocabulary_path_is_unknown);
	tcase_add_test(k, test_keras_invalid_json_is_error);
	tcase_add_test(k, test_keras_python_nan_and_infinity_are_accepted);
	tcase_add_test(k, test_keras_duplicate_keys_are_error);
	tcase_add_test(k, test_keras_deep_nesting_is_bounded);
	tcase_add_test(k, test_keras_embedded_nul_does_not_hide_a_lambda);
	tcase_add_test(k, test_keras3_builtins_ref_to_a_keras_function_is_clean);
	tcase_add_test(k, test_keras3_builtins_ref_to_a_denied_python_builtin_is_dangerous);
	tcase_add_test(k, test_keras3_builtins_ref_to_another_name_is_unknown);
	tcase_add_test(k, test_keras3_lambda_of_a_named_function_is_judged_as_a_reference);
	tcase_add_test(k, test_keras3_non_modeling_apis_are_dangerous);
	tcase_add_test(k, test_keras3_torch_module_wrapper_bytes_are_scanned);
	tcase_add_test(k, test_keras3_torch_module_wrapper_base64_is_decoded_like_python);
	tcase_add_test(k, test_keras3_module_value_that_is_no_name_is_scanned_as_bytes);
	tcase_add_test(k, test_keras3_tfsm_layer_is_dangerous);
	suite_add_tcase(s, k);

	tcase_add_test(h, test_hdf5_benign_config_is_clean);
	tcase_add_test(h, test_hdf5_lambda_fixed_string_is_dangerous);
	tcase_add_test(h, test_hdf5_lambda_vlen_string_is_dangerous);
	tcase_add_test(h, test_hdf5_lambda_utf8_vlen_string_is_dangerous);
	tcase_add_test(h, test_hdf5_training_config_is_scanned);
	tcase_add_test(h, test_hdf5_model_weights_group_config_is_scanned);
	tcase_add_test(h, test_hdf5_weights_only_is_clean_with_info);
	tcase_add_test(h, test_hdf5_non_string_config_is_error);
	tcase_add_test(h, test_hdf5_truncated_is_error);
	tcase_add_test(h, test_hdf5_garbage_is_error);
	tcase_add_test(h, test_hdf5_after_a_large_user_block_is_read);
	tcase_add_test(h, test_hdf5_behind_a_pickle_user_block_is_read_both_ways);
	tcase_add_test(h, test_hdf5_user_block_benign_is_clean_both_ways);
	tcase_add_test(h, test_hdf5_libhdf5_crash_is_an_error_finding);
	tcase_add_test(h, test_hdf5_config_embedding_hdf5_scans_in_process_without_deadlock);
#ifndef __SANITIZE_ADDRESS__
	/* Not in the ASan build: each scan forks a child for libhdf5, and
	 * GCC 12's ASan runtime takes no allocator lock around fork(), so a
	 * child forked while another thread is inside malloc can deadlock
	 * until the 30 s watchdog kills it (seen ~1 run in 4 under load).
	 * That is the sanitizer's limitation, not the reader's: the plain
	 * build runs this test, and modelgate itself never forks from
	 * several threads (the CLI scans on one thread; the helper's
	 * single-threaded workers fork only dbm.c's reader). */
	tcase_add_test(h, test_hdf5_concurrent_scans_are_serialised);
#endif
	tcase_set_timeout(h, 60);
	suite_add_tcase(s, h);

	tcase_add_test(st, test_st_valid_several_dtypes_is_clean);
	tcase_add_test(st, test_st_empty_header_is_clean);
	tcase_add_test(st, test_st_rejects_bad_headers);
	tcase_add_test(st, test_st_rejects_bad_tensor_entries);
	tcase_add_test(st, test_st_rejects_bad_layouts);
	tcase_add_test(st, test_st_overlap_finding_names_tensor_and_offset);
	tcase_add_test(st, test_st_length_checks);
	suite_add_tcase(s, st);

	tcase_add_test(gg, test_gguf_plain_templates_are_clean);
	tcase_add_test(gg, test_gguf_cve_template_is_dangerous);
	tcase_add_test(gg, test_gguf_obfuscated_templates_are_dangerous);
	tcase_add_test(gg, test_gguf_named_template_is_checked);
	tcase_add_test(gg, test_gguf_every_truncation_is_error);
	tcase_add_test(gg, test_gguf_absurd_counts_are_error);
	tcase_add_test(gg, test_gguf_deeply_nested_arrays_are_error);
	tcase_add_test(gg, test_gguf_bad_magic_version_and_types_are_error);
	suite_add_tcase(s, gg);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(formats_suite());
	int failed;

	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
