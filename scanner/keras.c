/*
 * keras.c - what a Keras model config makes Keras import and run.
 *
 * A Keras model config is JSON (the model_config / training_config
 * attributes of a legacy .h5 file, config.json of a .keras v3 zip).  It
 * holds no pickle, but loading it runs code three ways, and this reader
 * walks the whole document looking for each:
 *
 *  1. Lambda layers.  Keras 2 stores the Python function as base64
 *     marshalled bytecode in config.function; Keras 3 stores a
 *     {"class_name": "__lambda__"} object with the code.  Either runs on
 *     load (safe_mode has been bypassed more than once, CVE-2024-3660,
 *     CVE-2025-9905): dangerous, rule keras.lambda.
 *  2. Module functions.  Keras 3 serialises a function as {"module": M,
 *     "class_name": "function", "config": F}; loading imports M and calls
 *     or binds F (CVE-2025-1550).  Outside Keras that is dangerous, and so
 *     are the published in-Keras gadgets (keras.utils.get_file,
 *     keras.config.enable_unsafe_deserialization, ...): rule keras.gadget.
 *     A dotted name in a "function"/"fn" field is treated the same way.
 *     Keras 3 writes its own functions passed as losses or metrics as
 *     {"module": "builtins", "class_name": "function", "config": NAME} and
 *     resolves NAME in keras.losses, keras.metrics, ... (serialization_lib
 *     BUILTIN_MODULES); Keras 3.0-3.8 then fell back to Python's builtins
 *     module.  So NAME is clean when it is one of those Keras functions,
 *     dangerous when the classifier denies builtins.NAME (eval, getattr,
 *     open, ...), else unknown.
 *  3. Custom objects.  A "module" or "registered_name" outside Keras makes
 *     Keras import that module (or need the user's registered class):
 *     unknown, rule keras.custom_object; dangerous if the policy's
 *     classifier denies the (module, class) pair.
 *  4. Embedded files and external code.  Keras 3's TorchModuleWrapper keeps
 *     a torch.nn.Module as base64 of its torch.save bytes in config.module
 *     and torch.loads it (weights_only=False) when safe_mode is off: those
 *     bytes are decoded the way base64.b64decode does and scanned by
 *     content, as torch.load would read them (a config "module" value that
 *     is not a dotted name is treated the same, whatever the class, and
 *     so is one that is, when it decodes to a format we read).
 *     TFSMLayer loads and runs a SavedModel from a path outside the file:
 *     dangerous, rule keras.external_code.
 *
 * Rejected: a list of every Keras class name.  A bare class_name Keras does
 * not know fails to load unless the caller passes custom_objects, which is
 * the caller's own code, so it is not flagged.
 *
 * Offsets: jansson does not keep positions, so a finding's offset is where
 * the offending string first appears in the text at or after the previous
 * finding (the walk follows document order).  Good enough to find it.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "formats.h"

/* Why 512: a real Keras config nests about five JSON levels per nested
 * model or wrapper; 512 is a hundred nested models.  jansson's own parser
 * stops at 2048 levels, so the walk never recurses deeper than that. */
#define KERAS_MAX_DEPTH 512

struct kwalk {
	const struct mg_scan_opts *o;
	const char *member;
	unsigned depth;           /* of the file holding the config */
	const uint8_t *text;
	size_t len;
	size_t cursor;            /* offset of the last finding */
	struct mg_report *rep;
	enum mg_err err;          /* first MG_ERR_NOMEM, else MG_OK */
};

/* Modules that are Keras itself (or the TensorFlow copy of it). */
static const char *const keras_modules[] = {
	"keras", "tensorflow.keras", "tensorflow.python.keras", "tf_keras",
	"keras_core", "keras_nlp", "keras_cv", "keras_hub",
};

/*
 * Functions reachable from inside Keras that do harm when a config names
 * them: they download and write files, turn safe mode off, or load other
 * models (and so other code).  Prefix match on "module.name".
 */
static const char *const keras_gadgets[] = {
	"keras.utils.get_file", "keras.src.utils.file_utils",
	"keras.utils.file_utils", "keras.src.utils.io_utils",
	"keras.config.enable_unsafe_deserialization",
	"keras.src.saving.serialization_lib.enable_unsafe_deserialization",
	"keras.src.saving", "keras.saving", "keras.models.load_model",
	"keras.src.models.model.model_from_json", "keras.src.legacy.saving",
	"keras.src.utils.python_utils", /* func_load: bytecode */
	"keras.src.backend.tensorflow.saved_model",
	"tensorflow.keras.utils.get_file", "tensorflow.keras.models.load_model",
	"tf_keras.utils.get_file", "tf_keras.models.load_model",
	/* The rest of keras 3.15's serialization_lib.NON_MODELING_APIS (it
	 * refuses them; earlier Keras 3 releases did not), and the private
	 * modules they live in: they read or write files and directories,
	 * save models, or clear the session.  test_modern_keras checks every
	 * entry of the installed Keras's list is dangerous here. */
	"keras.backend.clear_session", "keras.utils.clear_session",
	"keras.src.backend.common.global_state",
	"keras.models.model_from_json", "keras.models.save_model",
	"keras.src.models.model.model_from_json",
	"keras.preprocessing", "keras.src.legacy.preprocessing",
	"keras.utils.image_dataset_from_directory",
	"keras.utils.text_dataset_from_directory",
	"keras.utils.audio_dataset_from_directory",
	"keras.src.utils.image_dataset_utils",
	"keras.src.utils.text_dataset_utils",
	"keras.src.utils.audio_dataset_utils",
	"keras.utils.load_img", "keras.utils.save_img",
	"keras.src.utils.image_utils",
	"keras.utils.serialize_keras_object",
	"keras.utils.deserialize_keras_object",
	"keras.utils.register_keras_serializable",
};

/*
 * Keras's own functions that Keras 3 resolves from a "builtins" function
 * reference: the functions of keras.{activations, constraints,
 * initializers, losses, metrics, optimizers, regularizers} (keras 3.15,
 * serialization_lib.BUILTIN_MODULES).  Left out on purpose: get, serialize
 * and deserialize, which turn names or configs into objects rather than
 * compute anything.  test_modern_keras checks this table against the
 * installed Keras.
 */
static const char *const keras_builtin_fns[] = {
	"binary_accuracy", "binary_crossentropy", "binary_focal_crossentropy",
	"categorical_accuracy", "categorical_crossentropy",
	"categorical_focal_crossentropy",
	"categorical_generalized_cross_entropy", "categorical_hinge", "celu",
	"circle", "concordance_correlation", "cosine_similarity", "ctc",
	"dice", "elu", "exponential", "gelu", "glu", "hard_shrink",
	"hard_sigmoid", "hard_silu", "hard_tanh", "hinge", "huber",
	"kl_divergence", "leaky_relu", "linear", "log_cosh", "log_sigmoid",
	"log_softmax", "mean_absolute_error",
	"mean_absolute_percentage_error", "mean_squared_error",
	"mean_squared_logarithmic_error", "mish", "pearson_correlation",
	"poisson", "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink",
	"softmax", "softplus", "softsign", "sparse_categorical_accuracy",
	"sparse_categorical_crossentropy", "sparse_plus", "sparse_sigmoid",
	"sparse_top_k_categorical_accuracy", "sparsemax", "squared_hinge",
	"squareplus", "tanh", "tanh_shrink", "threshold",
	"top_k_categorical_accuracy", "tversky",
};

/*
 * Depth of the innermost embedded-file scan running on this thread (0:
 * none).  Why: mg_keras_config_scan() callers do not pass a depth, and a
 * file embedded in a config can hold a config embedding another file; an
 * embedded scan always starts deeper than the one around it, so the chain
 * ends at o->max_depth whatever the callers pass.
 */
static _Thread_local unsigned keras_nest;

/* TensorFlow ops a TFOpLambda layer may name that touch files or code. */
static const char *const tfop_risky[] = {
	"io.", "gfile", "py_function", "numpy_function", "py_func",
	"load_library", "load_op_library", "compat.v1.py_func", "debugging.",
	"print", "summary.", "saved_model", "write_file", "read_file",
};

/* The value of string member @key of @obj, or NULL (not a string, or it
 * holds a NUL that would make C and Python disagree on its value). */
static const char *
get_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

static int
prefix_is(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	/* "keras" matches "keras" and "keras.x", never "kerasfoo". */
	return strncmp(s, prefix, n) == 0 && (s[n] == '\0' || s[n] == '.');
}

static int
in_table(const char *s, const char *const *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (prefix_is(s, t[i]))
			return 1;
	return 0;
}

static int
is_keras_module(const char *m)
{
	return in_table(m, keras_modules,
	                sizeof(keras_modules) / sizeof(keras_modules[0]));
}

/* Offset of @needle in the text at or after the last finding, else 0. */
static uint64_t
locate(struct kwalk *k, const char *needle)
{
	const uint8_t *p;

	if (needle == NULL || *needle == '\0' || k->cursor >= k->len)
		return 0;
	p = memmem(k->text + k->cursor, k->len - k->cursor, needle,
	           strlen(needle));
	if (p == NULL)
		p = memmem(k->text, k->len, needle, strlen(needle));
	if (p == NULL)
		return 0;
	k->cursor = (size_t)(p - k->text);
	return k->cursor;
}

/* Add a finding located at @where; remembers the first NOMEM. */
static void
kfind(struct kwalk *k, enum mg_verdict v, const char *rule,
      const char *global, const char *where, const char *what)
{
	enum mg_err e;

	e = mg_report_add(k->rep, v, rule, global, k->member,
	                  locate(k, where), "%s", what);
	if (e != MG_OK && k->err == MG_OK)
		k->err = e;
}

/* "module name" for a global field, into @buf. */
static const char *
global_of(char *buf, size_t size, const char *module, const char *name)
{
	snprintf(buf, size, "%s %s", module ? module : "?", name ? name : "?");
	return buf;
}

static void
check_lambda(struct kwalk *k, const json_t *obj, const char *cls)
{
	const json_t *cfg = json_object_get(obj, "config");
	const json_t *fn = json_object_get(cfg, "function");
	const char *fcls = get_str(fn, "class_name");
	char msg[512];

	/* Keras 3 writes a named function as a {"class_name": "function"}
	 * reference, not bytecode: the walk judges it like any function
	 * reference (a __lambda__ inside it is found there too). */
	if (strcmp(cls, "Lambda") == 0 && fcls != NULL &&
	    strcmp(fcls, "__lambda__") != 0)
		return;
	if (strcmp(cls, "__lambda__") == 0 || fn != NULL) {
		snprintf(msg, sizeof(msg), "%s carries Python bytecode that "
		         "runs when the model is loaded", cls[0] == '_' ?
		         "serialised Keras lambda (__lambda__)" :
		         "Keras Lambda layer");
		kfind(k, MG_VERDICT_DANGEROUS, "keras.lambda", NULL, cls, msg);
		return;
	}
	kfind(k, MG_VERDICT_UNKNOWN, "keras.lambda", NULL, cls,
	      "Keras Lambda layer without a function: Keras cannot load it "
	      "as written; a crafted variant of this file may carry code");
}

/* TFOpLambda names a TensorFlow API function; most are plain math. */
static void
check_tfop(struct kwalk *k, const json_t *obj)
{
	const char *fn = get_str(json_object_get(obj, "config"), "function");
	char msg[512];
	size_t i;

	if (fn == NULL)
		return;
	for (i = 0; i < sizeof(tfop_risky) / sizeof(tfop_risky[0]); i++) {
		if (strstr(fn, tfop_risky[i]) == NULL)
			continue;
		snprintf(msg, sizeof(msg), "TFOpLambda layer calls tf.%.200s, "
		         "which reaches files or Python code", fn);
		kfind(k, MG_VERDICT_DANGEROUS, "keras.gadget", NULL, fn, msg);
		return;
	}
}

static int
is_keras_builtin_fn(const char *fn)
{
	size_t i;

	for (i = 0; i < sizeof(keras_builtin_fns) /
	     sizeof(keras_builtin_fns[0]); i++)
		if (strcmp(fn, keras_builtin_fns[i]) == 0)
			return 1;
	return 0;
}

/* {"module": "builtins", "class_name": "function", "config": @fn}. */
static void
check_builtins_ref(struct kwalk *k, const char *fn)
{
	const struct mg_classifier *c = k->o ? k->o->classifier : NULL;
	const char *category = NULL;
	char g[512], msg[768];

	/* Not a string: Keras raises TypeError before resolving anything. */
	if (fn == NULL || is_keras_builtin_fn(fn))
		return;
	global_of(g, sizeof(g), "builtins", fn);
	if (c == NULL || c->classify(c->ctx, "builtins", fn, &category) ==
	    MG_GLOBAL_DENIED) {
		snprintf(msg, sizeof(msg), "config names the function "
		         "builtins.%.200s (%s): Keras 3.0-3.8 resolve it from "
		         "Python's builtins module and call it", fn,
		         category ? category : "denied");
		kfind(k, MG_VERDICT_DANGEROUS, "keras.gadget", g, fn, msg);
		return;
	}
	snprintf(msg, sizeof(msg), "function %.200s named from \"builtins\" "
	         "is not a Keras built-in: Keras looks it up among the "
	         "caller's registered functions (3.0-3.8: Python's builtins)",
	         fn);
	kfind(k, MG_VERDICT_UNKNOWN, "keras.custom_object", g, fn, msg);
}

/* A {"module", "class_name": "function", "config": F} reference. */
static void
check_function_ref(struct kwalk *k, const char *module, const char *fn)
{
	char full[512], g[512], msg[768];

	if (strcmp(module, "builtins") == 0) {
		check_builtins_ref(k, fn);
		return;
	}
	snprintf(full, sizeof(full), "%s.%s", module, fn ? fn : "");
	global_of(g, sizeof(g), module, fn);
	if (!is_keras_module(module)) {
		snprintf(msg, sizeof(msg), "config imports %.200s and uses its "
		         "function %.200s at load time", module, fn ? fn : "?");
		kfind(k, MG_VERDICT_DANGEROUS, "keras.gadget", g, module, msg);
	} else if (in_table(full, keras_gadgets, sizeof(keras_gadgets) /
	                    sizeof(keras_gadgets[0]))) {
		snprintf(msg, sizeof(msg), "config calls the Keras gadget "
		         "%.300s (file download/write or safe-mode bypass)", full);
		kfind(k, MG_VERDICT_DANGEROUS, "keras.gadget", g, fn, msg);
	}
}

/* A class from @module (or a registered name): Keras imports it. */
static void
check_class_ref(struct kwalk *k, const char *module, const char *cls,
                const char *registered)
{
	const struct mg_classifier *c = k->o ? k->o->classifier : NULL;
	const char *category = NULL;
	char full[512], g[512], msg[768];

	if (module != NULL && !is_keras_module(module)) {
		global_of(g, sizeof(g), module, cls);
		if (c != NULL && cls != NULL &&
		    c->classify(c->ctx, module, cls, &category) ==
		    MG_GLOBAL_DENIED) {
			snprintf(msg, sizeof(msg), "config makes Keras import "
			         "%.200s.%.200s (%s)", module, cls,
			         category ? category : "denied");
			kfind(k, MG_VERDICT_DANGEROUS, "keras.custom_object", g,
			      module, msg);
			return;
		}
		snprintf(msg, sizeof(msg), "custom object %.200s from module "
		         "%.200s outside Keras: Keras imports that module",
		         cls ? cls : "?", module);
		kfind(k, MG_VERDICT_UNKNOWN, "keras.custom_object", g, module,
		      msg);
		return;
	}
	if (module != NULL && cls != NULL) {
		snprintf(full, sizeof(full), "%s.%s", module, cls);
		if (in_table(full, keras_gadgets, sizeof(keras_gadgets) /
		             sizeof(keras_gadgets[0]))) {
			snprintf(msg, sizeof(msg), "config names the Keras "
			         "gadget %.300s", full);
			kfind(k, MG_VERDICT_DANGEROUS, "keras.gadget",
			      global_of(g, sizeof(g), module, cls), cls, msg);
			return;
		}
	}
	/* "Package>Name" is a class registered by user code, not Keras. */
	if (registered != NULL && strchr(registered, '>') != NULL &&
	    strncmp(registered, "keras", 5) != 0) {
		snprintf(msg, sizeof(msg), "custom object registered as %.200s: "
		         "needs user code outside Keras", registered);
		kfind(k, MG_VERDICT_UNKNOWN, "keras.custom_object", NULL,
		      registered, msg);
	}
}

/* A "function" or "fn" field naming a module-level function by string. */
static void
check_named_function(struct kwalk *k, const char *key, const json_t *v)
{
	const char *s = json_string_value(v);
	char msg[512];

	if (s == NULL || strchr(s, '.') == NULL)
		return;
	snprintf(msg, sizeof(msg), "config field \"%s\" names the function "
	         "%.200s, which Keras resolves and calls", key, s);
	kfind(k, MG_VERDICT_DANGEROUS, "keras.gadget", NULL, s, msg);
}

/* Preprocessing layers read a vocabulary file named by the config. */
static void
check_vocabulary(struct kwalk *k, const json_t *cfg)
{
	const char *path = get_str(cfg, "vocabulary");
	char msg[512];

	if (path == NULL)
		return;
	snprintf(msg, sizeof(msg), "vocabulary is read from the path %.200s "
	         "when the model loads (local file read)", path);
	kfind(k, MG_VERDICT_UNKNOWN, "keras.file_reference", NULL, path, msg);
}

/* 0-63 for a base64 alphabet character, -1 for anything else. */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode @s[0..@n) as Python's base64.b64decode(s.encode("ascii")) does
 * (binascii.a2b_base64, not strict): characters outside the alphabet are
 * skipped, "=" ends the data.  Into *@out (caller frees), *@outlen.
 * 0; -1 out of memory; 1 Python would raise (not ASCII, bad padding), or
 * data after the padding, where a lenient decoder's rules are subtle
 * enough that we refuse to guess (fail closed).
 */
static int
b64_decode(const char *s, size_t n, uint8_t **out, size_t *outlen)
{
	uint8_t *b = malloc(n / 4 * 3 + 3);
	unsigned acc = 0, quad = 0, pads = 0;
	size_t i, o = 0;
	int v;

	*out = b;
	*outlen = 0;
	if (b == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return 1;       /* s.encode("ascii") raises */
		if (s[i] == '=') {
			pads++;
			continue;
		}
		if ((v = b64_value((unsigned char)s[i])) < 0)
			continue;
		if (pads > 0)
			return 1;
		acc = (acc << 6) | (unsigned)v;
		if (++quad == 4) {
			b[o++] = (uint8_t)(acc >> 16);
			b[o++] = (uint8_t)(acc >> 8);
			b[o++] = (uint8_t)acc;
			acc = 0;
			quad = 0;
		}
	}
	/* Why: binascii refuses a lone sixth of a byte, and a short last
	 * group without the "=" that completes it ("Incorrect padding"). */
	if (quad == 1 || (quad > 0 && quad + pads < 4))
		return 1;
	if (quad == 2)
		b[o++] = (uint8_t)(acc >> 4);
	else if (quad == 3) {
		b[o++] = (uint8_t)(acc >> 10);
		b[o++] = (uint8_t)(acc >> 2);
	}
	*outlen = o;
	return 0;
}

/* A "module" value that is a dotted Python name, as Keras writes them. */
static int
is_dotted_name(const char *s)
{
	const char *p;

	if (*s == '\0')
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.')
			return 0;
	return 1;
}

/*
 * The torch.save bytes of a TorchModuleWrapper (config.module, base64):
 * Keras torch.loads them with weights_only=False, so they are scanned by
 * content as member "<member>|<layer>.module", one level deeper.  Not
 * @sure (another class, and the value could be a module name such as
 * "__main__", as Keras 2 Lambda configs write): scanned only when the
 * value decodes to a format we read, since base64 of a pickle can itself
 * look like a dotted name.
 */
static void
check_embedded_module(struct kwalk *k, const json_t *cfg, const char *cls,
                      int sure)
{
	const json_t *mv = json_object_get(cfg, "module");
	const char *layer = get_str(cfg, "name");
	unsigned saved = keras_nest, nd;
	uint8_t *bytes = NULL;
	size_t n = 0;
	char *member = NULL;
	enum mg_err e;
	int rc;

	if (!json_is_string(mv))
		return;
	rc = b64_decode(json_string_value(mv), json_string_length(mv),
	                &bytes, &n);
	if (rc < 0) {
		k->err = MG_ERR_NOMEM;
		goto out;
	}
	if (!sure && (rc > 0 || mg_sniff(bytes, n) == MG_FMT_UNKNOWN))
		goto out;
	if (rc > 0) {
		kfind(k, MG_VERDICT_ERROR, "keras.embedded_module", NULL, cls,
		      "config.module of this layer is not base64 the way "
		      "Python decodes it: what torch.load would read is unknown");
		goto out;
	}
	if (asprintf(&member, "%s|%s.module", k->member ? k->member : "",
	             layer ? layer : cls) < 0) {
		member = NULL;
		k->err = MG_ERR_NOMEM;
		goto out;
	}
	nd = (k->depth > keras_nest ? k->depth : keras_nest) + 1;
	keras_nest = nd;
	e = mg_scan_any(k->o, NULL, member, bytes, n, nd, k->rep);
	keras_nest = saved;
	if (e != MG_OK && k->err == MG_OK)
		k->err = e;
out:
	free(member);
	free(bytes);
}

/* TFSMLayer loads a TensorFlow SavedModel from a path and runs its graph. */
static void
check_tfsm(struct kwalk *k, const json_t *cfg)
{
	const char *path = get_str(cfg, "filepath");
	char msg[512];

	snprintf(msg, sizeof(msg), "TFSMLayer loads and runs the SavedModel "
	         "at %.200s, code outside this file", path ? path : "?");
	kfind(k, MG_VERDICT_DANGEROUS, "keras.external_code", NULL,
	      path ? path : "TFSMLayer", msg);
}

static void walk(struct kwalk *k, const json_t *v, unsigned depth,
                 int in_tfop);

/* The checks that look at one object, before its members are walked. */
static void
check_object(struct kwalk *k, const json_t *obj, int in_tfop)
{
	const char *cls = get_str(obj, "class_name");
	const char *module = get_str(obj, "module");
	const char *reg = get_str(obj, "registered_name");
	const json_t *cfg = json_object_get(obj, "config");
	const char *key, *mod;
	const json_t *v;

	if (cls != NULL && (strcmp(cls, "Lambda") == 0 ||
	                    strcmp(cls, "__lambda__") == 0))
		check_lambda(k, obj, cls);
	else if (cls != NULL && (strcmp(cls, "TFOpLambda") == 0 ||
	                         strcmp(cls, "SlicingOpLambda") == 0))
		check_tfop(k, obj);
	if (cls != NULL && strcmp(cls, "function") == 0 && module != NULL)
		check_function_ref(k, module, json_string_value(cfg));
	else if (cls != NULL && (module != NULL || reg != NULL))
		check_class_ref(k, module, cls, reg);
	if (json_is_object(cfg)) {
		check_vocabulary(k, cfg);
		mod = get_str(cfg, "module");
		if (cls != NULL && (strcmp(cls, "TorchModuleWrapper") == 0 ||
		    (json_is_string(json_object_get(cfg, "module")) &&
		     (mod == NULL || !is_dotted_name(mod)))))
			check_embedded_module(k, cfg, cls, 1);
		else if (cls != NULL && mod != NULL)
			check_embedded_module(k, cfg, cls, 0);
		if (cls != NULL && strcmp(cls, "TFSMLayer") == 0)
			check_tfsm(k, cfg);
	}
	if (in_tfop)
		return;
	json_object_foreach((json_t *)obj, key, v) {
		if (strcmp(key, "function") == 0 || strcmp(key, "fn") == 0)
			check_named_function(k, key, v);
	}
}

static void
walk(struct kwalk *k, const json_t *v, unsigned depth, int in_tfop)
{
	const char *key, *cls;
	const json_t *item;
	size_t i;

	if (k->err != MG_OK)
		return;
	if (depth > KERAS_MAX_DEPTH) {
		kfind(k, MG_VERDICT_ERROR, "keras.depth", NULL, NULL,
		      "Keras config nests deeper than the scanner follows");
		return;
	}
	if (json_is_array(v)) {
		json_array_foreach((json_t *)v, i, item) {
			walk(k, item, depth + 1, in_tfop);
		}
		return;
	}
	if (!json_is_object(v))
		return;
	check_object(k, v, in_tfop);
	cls = get_str(v, "class_name");
	/* A TFOpLambda's own config names a TF op in "function" by design. */
	in_tfop = cls != NULL && (strcmp(cls, "TFOpLambda") == 0 ||
	                          strcmp(cls, "SlicingOpLambda") == 0);
	json_object_foreach((json_t *)v, key, item) {
		walk(k, item, depth + 1, in_tfop && strcmp(key, "config") == 0);
	}
}

/*
 * Python's json module writes float('nan') and infinities as the bare
 * words NaN, Infinity and -Infinity (and reads them back); jansson rejects
 * them.  Replace each, outside strings, by a number of the same length so
 * that offsets still point into the original text.  A new buffer, or NULL
 * when out of memory.
 */
static char *
python_json_to_json(const uint8_t *json, size_t len)
{
	static const char *const words[] = { "NaN", "Infinity" };
	char *t = malloc(len + 1);
	size_t i, w, n;
	int in_str = 0;

	if (t == NULL)
		return NULL;
	memcpy(t, json, len);
	t[len] = '\0';
	for (i = 0; i < len; i++) {
		if (in_str) {
			if (t[i] == '\\')
				i++;
			else if (t[i] == '"')
				in_str = 0;
			continue;
		}
		if (t[i] == '"') {
			in_str = 1;
			continue;
		}
		/* Only a whole token: "1NaN" stays invalid, as in Python. */
		if (i > 0 && (isalnum((unsigned char)t[i - 1]) ||
		              t[i - 1] == '.'))
			continue;
		for (w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
			n = strlen(words[w]);
			if (len - i >= n && memcmp(t + i, words[w], n) == 0) {
				memset(t + i, ' ', n);
				t[i] = '0';
				i += n - 1;
				break;
			}
		}
	}
	return t;
}

enum mg_err
mg_keras_config_scan(const struct mg_scan_opts *o, const char *member,
                     const uint8_t *json, size_t len, struct mg_report *rep)
{
	return mg_keras_config_scan_at(o, member, json, len, 0, rep);
}

enum mg_err
mg_keras_config_scan_at(const struct mg_scan_opts *o, const char *member,
                        const uint8_t *json, size_t len, unsigned depth,
                        struct mg_report *rep)
{
	struct kwalk k;
	json_error_t jerr;
	json_t *root;
	char *text;

	if (rep == NULL || (json == NULL && len != 0))
		return MG_ERR_INVAL;
	text = python_json_to_json(json, len);
	if (text == NULL)
		return MG_ERR_NOMEM;
	/* Duplicate keys are rejected: Python keeps the last, a reader that
	 * kept the first would see a different model. */
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL |
	                  JSON_DECODE_ANY, &jerr);
	free(text);
	if (root == NULL)
		return mg_report_add(rep, MG_VERDICT_ERROR, "keras.config.invalid",
		                     NULL, member, (uint64_t)jerr.position,
		                     "Keras config is not valid JSON: %s",
		                     jerr.text);
	memset(&k, 0, sizeof(k));
	k.o = o;
	k.member = member;
	k.depth = depth;
	k.text = json;
	k.len = len;
	k.rep = rep;
	walk(&k, root, 0, 0);
	json_decref(root);
	return k.err;
}
