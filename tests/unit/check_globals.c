/*
 * check_globals.c - the embedded allow/deny tables (policy/globals.c).
 *
 * Properties: every allow group admits what its library really writes
 * (the pairs below were recorded from real torch.save / pickle.dumps
 * output, see tests/fixtures/gen_pickles.py); every deny category catches
 * at least one entry; whole-module entries cover submodules and nothing
 * else; dunders and dotted names are never allowed; lookalikes are unknown.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../policy/policy.h"

struct pair {
	const char *module, *name;
};

static enum mg_gclass
cls(const char *module, const char *name)
{
	const char *cat = NULL;

	return mg_globals_classify(module, name, &cat);
}

/* Assert every pair of @v (NULL-terminated) classifies as @want. */
static void
expect_all(const struct pair *v, enum mg_gclass want)
{
	for (; v->module != NULL; v++)
		ck_assert_msg(cls(v->module, v->name) == want,
		    "%s %s: got %d, want %d", v->module, v->name,
		    (int)cls(v->module, v->name), (int)want);
}

/* Assert (@module, @name) is denied with category @cat. */
static void
expect_denied(const char *module, const char *name, const char *cat)
{
	const char *got = NULL;
	enum mg_gclass c = mg_globals_classify(module, name, &got);

	ck_assert_msg(c == MG_GLOBAL_DENIED, "%s %s: got %d, want denied",
	    module, name, (int)c);
	ck_assert_msg(got != NULL && strcmp(got, cat) == 0,
	    "%s %s: category '%s', want '%s'", module, name,
	    got ? got : "(null)", cat);
}

/* --- allow groups -------------------------------------------------------- */

/* Red-team: module aliases and private command helpers. */
START_TEST(test_globals_redteam_aliases_and_helpers_denied)
{
	expect_denied("six.moves.builtins", "eval", "import or name resolution");
	expect_denied("six.moves", "builtins", "import or name resolution");
	expect_denied("six", "exec_", "code execution");
	expect_denied("numpy.testing._private.utils", "runstring",
	              "code execution");
	expect_denied("uuid", "_get_command_stdout", "command execution");
	expect_denied("_osx_support", "_read_output", "command execution");
	expect_denied("torch.utils.collect_env", "run", "command execution");
	/* The rest of those modules stays unknown, not denied. */
	ck_assert_int_eq(cls("uuid", "UUID"), MG_GLOBAL_UNKNOWN);
	ck_assert_int_eq(cls("six", "b"), MG_GLOBAL_UNKNOWN);
}
END_TEST

START_TEST(test_globals_allows_torch_state_dict_globals)
{
	/* Recorded from torch.save() of state dicts of every dtype, sparse
	 * COO/CSR, meta, quantized (per-tensor, per-channel), Parameters and
	 * SGD/Adam/AdamW/RMSprop state dicts, both serialization formats. */
	static const struct pair v[] = {
		{ "collections", "OrderedDict" }, { "_codecs", "encode" },
		{ "torch", "BFloat16Storage" }, { "torch", "BoolStorage" },
		{ "torch", "ByteStorage" }, { "torch", "CharStorage" },
		{ "torch", "ComplexDoubleStorage" },
		{ "torch", "ComplexFloatStorage" }, { "torch", "DoubleStorage" },
		{ "torch", "FloatStorage" }, { "torch", "HalfStorage" },
		{ "torch", "IntStorage" }, { "torch", "LongStorage" },
		{ "torch", "QInt32Storage" }, { "torch", "QInt8Storage" },
		{ "torch", "QUInt4x2Storage" }, { "torch", "QUInt8Storage" },
		{ "torch", "ShortStorage" }, { "torch", "Size" },
		{ "torch", "bfloat16" }, { "torch", "bool" },
		{ "torch", "complex128" }, { "torch", "complex32" },
		{ "torch", "complex64" }, { "torch", "device" },
		{ "torch", "float16" }, { "torch", "float32" },
		{ "torch", "float64" }, { "torch", "int16" }, { "torch", "int32" },
		{ "torch", "int64" }, { "torch", "int8" },
		{ "torch", "per_channel_affine" }, { "torch", "per_tensor_affine" },
		{ "torch", "qint32" }, { "torch", "qint8" }, { "torch", "quint8" },
		{ "torch", "uint8" },
		{ "torch._utils", "_rebuild_meta_tensor_no_storage" },
		{ "torch._utils", "_rebuild_parameter" },
		{ "torch._utils", "_rebuild_qtensor" },
		{ "torch._utils", "_rebuild_sparse_csr_tensor" },
		{ "torch._utils", "_rebuild_sparse_tensor" },
		{ "torch._utils", "_rebuild_tensor_v2" },
		{ "torch.serialization", "_get_layout" },
		{ NULL, NULL },
	};
	expect_all(v, MG_GLOBAL_ALLOWED);
}
END_TEST

START_TEST(test_globals_allows_torch_weights_only_list)
{
	/* torch/_weights_only_unpickler.py entries not in the sample above. */
	static const struct pair v[] = {
		{ "torch", "Tensor" }, { "torch.nn.parameter", "Parameter" },
		{ "torch._utils", "_rebuild_tensor" },
		{ "torch", "FloatTensor" }, { "torch.cuda", "LongTensor" },
		{ "torch.sparse", "FloatTensor" },
		{ "torch.cuda.sparse", "ShortTensor" },
		{ "torch.cuda", "FloatStorage" },
		{ "torch.storage", "TypedStorage" },
		{ "torch.storage", "UntypedStorage" },
		{ "torch", "QUInt2x4Storage" },
		{ NULL, NULL },
	};
	expect_all(v, MG_GLOBAL_ALLOWED);
}
END_TEST

START_TEST(test_globals_allows_numpy_array_globals)
{
	/* Recorded from pickle.dumps() of arrays and scalars, protocols 0-5. */
	static const struct pair v[] = {
		{ "numpy", "ndarray" }, { "numpy", "dtype" },
		{ "numpy.core.multiarray", "_reconstruct" },
		{ "numpy.core.multiarray", "scalar" },
		{ "numpy.core.numeric", "_frombuffer" },
		{ "builtins", "bytes" }, { "_codecs", "encode" },
		{ "joblib.numpy_pickle", "NumpyArrayWrapper" },
		{ NULL, NULL },
	};
	expect_all(v, MG_GLOBAL_ALLOWED);
}
END_TEST

START_TEST(test_globals_allows_builtin_data_types)
{
	static const struct pair v[] = {
		{ "builtins", "set" }, { "builtins", "frozenset" },
		{ "builtins", "bytearray" }, { "builtins", "complex" },
		{ "builtins", "slice" }, { "builtins", "range" },
		{ "builtins", "int" }, { "builtins", "list" },
		{ "builtins", "object" }, { "copyreg", "_reconstructor" },
		{ "collections", "Counter" }, { "collections", "deque" },
		{ "collections", "defaultdict" }, { "datetime", "datetime" },
		{ "datetime", "date" }, { "datetime", "timedelta" },
		{ "decimal", "Decimal" }, { "fractions", "Fraction" },
		{ "re", "_compile" },
		{ NULL, NULL },
	};
	expect_all(v, MG_GLOBAL_ALLOWED);
}
END_TEST

/* --- what must not be allowed ------------------------------------------ */

START_TEST(test_globals_full_modules_and_user_classes_are_unknown)
{
	static const struct pair v[] = {
		{ "torch.nn.modules.linear", "Linear" },
		{ "torch.nn.modules.container", "Sequential" },
		/* (torch 2's _rebuild_from_type_v2 and _rebuild_wrapper_subclass
		 * were here: now allowed, from torch's own weights-only list,
		 * see test_globals_allows_torch2_globals_from_generated_table) */
		{ "torch.nested._internal.nested_tensor", "_rebuild_njt" },
		{ "mymod", "Thing" }, { "__main__", "Thing" },
		{ "builtins", "type" }, { "functools", "partial" },
		{ "pathlib", "PosixPath" }, { "numpy.ma.core", "_mareconstruct" },
		{ "types", "SimpleNamespace" }, { "io", "BytesIO" },
		{ "torch.distributed", "ReduceOp" },
		{ NULL, NULL },
	};
	expect_all(v, MG_GLOBAL_UNKNOWN);
}
END_TEST

START_TEST(test_globals_lookalikes_are_unknown)
{
	static const struct pair v[] = {
		/* _rebuild_tensor_v3 was a lookalike before torch 2 wrote it. */
		{ "torch._utils", "_rebuild_tensor_v4" },
		{ "collections", "OrderedDicts" },
		{ "collections", "ordereddict" },
		{ "collections.", "OrderedDict" },
		{ "collection", "OrderedDict" },
		{ "torch ", "Size" }, { "torch", "Size " },
		{ "Torch", "Size" }, { "torch.utils", "_rebuild_tensor_v2" },
		{ "numpy.core", "_reconstruct" }, { "", "" },
		{ "torch", "" }, { "", "Size" },
		{ NULL, NULL },
	};
	expect_all(v, MG_GLOBAL_UNKNOWN);
}
END_TEST

START_TEST(test_globals_dunders_are_never_allowed)
{
	static const struct pair v[] = {
		{ "collections", "__reduce__" },
		{ "builtins", "__import__" },
		{ "copyreg", "__newobj__" },
		{ "torch", "Size.__class__" },
		{ "collections", "OrderedDict.__init__" },
		{ "numpy", "ndarray.__reduce_ex__" },
		{ NULL, NULL },
	};
	expect_all(v, MG_GLOBAL_DENIED);
	/* Not dunders: a single leading underscore pair, or "____". */
	ck_assert_int_eq(cls("numpy.random._pickle", "__randomstate_ctor"),
	    MG_GLOBAL_UNKNOWN);
	ck_assert_int_eq(cls("torch._utils", "_rebuild_tensor_v2"),
	    MG_GLOBAL_ALLOWED);
}
END_TEST

START_TEST(test_globals_dotted_names_are_never_allowed)
{
	/* Each component allowed on its own, but a dotted name reaches a
	 * different object: unknown at best. */
	ck_assert_int_eq(cls("torch", "Size.count"), MG_GLOBAL_UNKNOWN);
	ck_assert_int_eq(cls("collections", "OrderedDict.fromkeys"),
	    MG_GLOBAL_UNKNOWN);
	ck_assert_int_eq(cls("torch", "nn.parameter.Parameter"),
	    MG_GLOBAL_UNKNOWN);
}
END_TEST

/* --- deny categories ----------------------------------------------------- */

START_TEST(test_globals_denies_every_category)
{
	expect_denied("builtins", "eval", "code execution");
	expect_denied("builtins", "exec", "code execution");
	expect_denied("types", "FunctionType", "code execution");
	expect_denied("torch.jit", "load", "code execution");
	expect_denied("os", "system", "command execution");
	expect_denied("posix", "system", "command execution");
	expect_denied("nt", "system", "command execution");
	expect_denied("subprocess", "Popen", "command execution");
	expect_denied("pty", "spawn", "command execution");
	expect_denied("platform", "popen", "command execution");
	expect_denied("importlib", "import_module", "import or name resolution");
	expect_denied("runpy", "_run_code", "import or name resolution");
	expect_denied("pkgutil", "resolve_name", "import or name resolution");
	expect_denied("builtins", "getattr", "attribute or call trampoline");
	expect_denied("operator", "attrgetter", "attribute or call trampoline");
	expect_denied("operator", "methodcaller", "attribute or call trampoline");
	expect_denied("functools", "reduce", "attribute or call trampoline");
	expect_denied("pickle", "loads", "nested deserializer");
	expect_denied("_pickle", "Unpickler", "nested deserializer");
	expect_denied("torch", "load", "nested deserializer");
	expect_denied("torch.storage", "_load_from_bytes", "nested deserializer");
	expect_denied("numpy", "load", "nested deserializer");
	expect_denied("dill", "loads", "nested deserializer");
	expect_denied("marshal", "loads", "nested deserializer");
	expect_denied("builtins", "open", "file system access");
	expect_denied("io", "FileIO", "file system access");
	expect_denied("_io", "open", "file system access");
	expect_denied("torch.distributed.rpc", "rpc_sync", "network access");
	expect_denied("shutil", "rmtree", "file system access");
	expect_denied("socket", "create_connection", "network access");
	expect_denied("urllib.request", "urlopen", "network access");
	expect_denied("webbrowser", "open", "network access");
	expect_denied("torch.hub", "load_state_dict_from_url", "network access");
	expect_denied("ctypes", "CDLL", "native code loading");
	expect_denied("torch.ops", "load_library", "native code loading");
	expect_denied("sys", "modules", "interpreter or process control");
	expect_denied("builtins", "breakpoint", "interpreter or process control");
	expect_denied("pdb", "run", "debugger, profiler or test runner");
	expect_denied("setuptools", "setup", "package installation");
	expect_denied("builtins", "__import__", "dunder name (interpreter internals)");
}
END_TEST

START_TEST(test_globals_category_may_be_null)
{
	ck_assert_int_eq(mg_globals_classify("os", "system", NULL),
	    MG_GLOBAL_DENIED);
	ck_assert_int_eq(mg_globals_classify(NULL, "system", NULL),
	    MG_GLOBAL_UNKNOWN);
}
END_TEST

/* --- submodule matching -------------------------------------------------- */

START_TEST(test_globals_whole_module_entries_cover_submodules)
{
	expect_denied("os.path", "join", "command execution");
	expect_denied("importlib.util", "spec_from_file_location",
	    "import or name resolution");
	expect_denied("multiprocessing.popen_fork", "Popen",
	    "interpreter or process control");
	expect_denied("http.client", "HTTPConnection", "network access");
	expect_denied("torch._C._nn", "anything", "native code loading");
	expect_denied("distutils.core", "setup", "package installation");
}
END_TEST

START_TEST(test_globals_whole_module_entries_stop_at_a_dot_boundary)
{
	/* "os" covers "os.path" but not "ossaudiodev"; "sys" not "sysconfig";
	 * exact pairs ("torch" "load") do not spread to submodules. */
	ck_assert_int_eq(cls("ossaudiodev", "open"), MG_GLOBAL_UNKNOWN);
	ck_assert_int_eq(cls("sysconfig", "get_paths"), MG_GLOBAL_UNKNOWN);
	ck_assert_int_eq(cls("posixpath", "join"), MG_GLOBAL_UNKNOWN);
	ck_assert_int_eq(cls("codecs", "decode"), MG_GLOBAL_UNKNOWN);
	ck_assert_int_eq(cls("torch.nn", "load"), MG_GLOBAL_UNKNOWN);
	ck_assert_int_eq(cls("torch", "zeros"), MG_GLOBAL_UNKNOWN);
	/* An exact deny pair does not deny its module's allowed names. */
	ck_assert_int_eq(cls("copyreg", "_reconstructor"), MG_GLOBAL_ALLOWED);
	expect_denied("copyreg", "add_extension", "import or name resolution");
	ck_assert_int_eq(cls("joblib.numpy_pickle", "NumpyArrayWrapper"),
	    MG_GLOBAL_ALLOWED);
	expect_denied("joblib.numpy_pickle", "load", "nested deserializer");
}
END_TEST

START_TEST(test_globals_dotted_name_denied_through_any_split)
{
	/* Protocol 4 resolves "os.system" on torch as torch.os.system. */
	expect_denied("torch", "os.system", "command execution");
	expect_denied("builtins", "getattr.x", "attribute or call trampoline");
	expect_denied("torch", "hub.load", "network access");
	expect_denied("numpy", "ctypeslib.load_library", "native code loading");
	expect_denied("collections", "os.path.join", "command execution");
	/* A long chain through module attributes is denied, not unknown. */
	{
		char name[3000];
		size_t i;

		for (i = 0; i + 6 < sizeof(name); i += 6)
			memcpy(name + i, "nn.mo.", 6);
		memcpy(name + i - 6, "zzzzz", 6);
		ck_assert_int_eq(cls("torch", name), MG_GLOBAL_DENIED);
	}
}
END_TEST

START_TEST(test_globals_overlong_module_still_denied_by_prefix)
{
	char mod[3000];

	memset(mod, 'a', sizeof(mod) - 1);
	mod[sizeof(mod) - 1] = '\0';
	memcpy(mod, "os.", 3);
	ck_assert_int_eq(cls(mod, "system"), MG_GLOBAL_DENIED);
	memcpy(mod, "ab.", 3);
	ck_assert_int_eq(cls(mod, "system"), MG_GLOBAL_UNKNOWN);
}
END_TEST

/* --- generated deny-list and aliases (policy/deny_data.c) ----------------- */

/* What scripts/gen-deny derives by following bodies to sinks: the
 * techniques of the peers' corpora the hand-written table missed. */
START_TEST(test_globals_generated_entries_deny_with_their_category)
{
	expect_denied("logging", "FileHandler", "file system access");
	expect_denied("lib2to3.pgen2.grammar", "Grammar.loads",
	    "nested deserializer");
	expect_denied("lib2to3.pgen2.pgen", "ParserGenerator.make_label",
	    "code execution");
	expect_denied("_bootsubprocess", "check_output", "command execution");
	expect_denied("mailcap", "findmatch", "command execution");
	/* generated whole-module entries: installed packages' test suites */
	expect_denied("numpy.testing", "assert_equal", "code execution");
	/* hand-written families */
	expect_denied("test.support.script_helper", "assert_python_ok",
	    "debugger, profiler or test runner");
	expect_denied("_interpreters", "create", "code execution");
	expect_denied("_xxsubinterpreters", "create", "code execution");
	expect_denied("torch._inductor.codecache", "compile_file",
	    "code execution");
	expect_denied("torch.utils._config_module", "ConfigModule.load_config",
	    "code execution");
	expect_denied("torch", "compile", "code execution");
	expect_denied("fickling.hook", "remove_hook",
	    "interpreter or process control");
	expect_denied("picklescan", "some_func", "interpreter or process control");
}
END_TEST

/* A dotted name through a module's alias of another module reaches that
 * module: argparse._os is os, enum.bltns is builtins. */
START_TEST(test_globals_module_aliases_resolve_to_their_module)
{
	expect_denied("argparse", "_os.system", "command execution");
	expect_denied("random", "_os.system", "command execution");
	expect_denied("enum", "bltns.exec", "code execution");
	expect_denied("enum", "bltns.eval", "code execution");
	/* a class reached through a submodule attribute, then its method */
	expect_denied("lib2to3.pgen2", "grammar.Grammar.loads",
	    "nested deserializer");
	/* an alias in the module path itself */
	expect_denied("argparse._os", "system", "command execution");
	/* not an alias: a same-named attribute of another module */
	ck_assert_int_eq(cls("argparse", "_osx.system"), MG_GLOBAL_UNKNOWN);
	ck_assert_int_eq(cls("argparse", "Namespace"), MG_GLOBAL_UNKNOWN);
}
END_TEST

/* Benign pairs real files contain stay what they were: the generator
 * leaves out allow-listed pairs and classes rebuilt by their own pickling. */
START_TEST(test_globals_generated_list_leaves_benign_pairs_alone)
{
	static const struct pair allowed[] = {
		{ "collections", "OrderedDict" }, { "torch._utils", "_rebuild_tensor_v2" },
		{ "numpy", "ndarray" }, { "numpy", "dtype" }, { "builtins", "set" },
		{ "datetime", "datetime" }, { "copyreg", "_reconstructor" },
		{ NULL, NULL },
	};
	static const struct pair unknown[] = {
		{ "argparse", "Namespace" }, { "pathlib", "PosixPath" },
		{ "omegaconf.dictconfig", "DictConfig" },
		{ "omegaconf.listconfig", "ListConfig" },
		{ "torch.nn.modules.linear", "Linear" },
		{ "torch.nn.modules.container", "Sequential" },
		{ "sklearn.linear_model._base", "LinearRegression" },
		{ "pandas.core.frame", "DataFrame" },
		{ "transformers.training_args", "TrainingArguments" },
		{ "collections", "namedtuple" },
		{ "types", "SimpleNamespace" },
		{ NULL, NULL },
	};

	expect_all(allowed, MG_GLOBAL_ALLOWED);
	expect_all(unknown, MG_GLOBAL_UNKNOWN);
}
END_TEST

START_TEST(test_globals_allows_torch2_globals_from_generated_table)
{
	/* policy/allow_torch.inc: torch 2.13's weights-only list and what
	 * its torch.save writes (uint16/32/64, float8, bits types go through
	 * _rebuild_tensor_v3 and UntypedStorage), plus the hand-written
	 * _rebuild_xla_tensor alias. */
	static const struct pair v[] = {
		{ "torch._utils", "_rebuild_tensor_v3" },
		{ "torch._utils", "_rebuild_parameter_with_state" },
		{ "torch._utils", "_rebuild_wrapper_subclass" },
		{ "torch._utils", "_rebuild_device_tensor_from_cpu_tensor" },
		{ "torch._utils", "_rebuild_nested_tensor" },
		{ "torch._utils", "_rebuild_xla_tensor" },
		{ "torch._tensor", "_rebuild_from_type_v2" },
		{ "torch", "uint16" }, { "torch", "uint32" },
		{ "torch", "uint64" }, { "torch", "float8_e4m3fn" },
		{ "torch", "float8_e5m2" }, { "torch", "float8_e8m0fnu" },
		{ "torch", "bits8" }, { "torch", "float4_e2m1fn_x2" },
		{ "torch", "int4" }, { "torch", "bfloat16" },
		{ "torch", "device" }, { "collections", "Counter" },
		{ NULL, NULL },
	};
	expect_all(v, MG_GLOBAL_ALLOWED);
}
END_TEST

START_TEST(test_globals_allows_numpy2_core_names)
{
	/* numpy 2 numpy/_core: what every ndarray and scalar pickle names. */
	static const struct pair v[] = {
		{ "numpy._core.multiarray", "_reconstruct" },
		{ "numpy._core.multiarray", "scalar" },
		{ "numpy._core.numeric", "_frombuffer" },
		{ NULL, NULL },
	};
	expect_all(v, MG_GLOBAL_ALLOWED);
}
END_TEST

START_TEST(test_globals_refused_torch_entries_are_not_allowed)
{
	/* Derived from torch but refused (scripts/gen-allow-torch DECISIONS):
	 * the jagged nested tensor classes stay unknown, the _dynamo class
	 * they carry stays denied, and torch's nested loader stays denied. */
	static const struct pair unk[] = {
		{ "torch.nested._internal.nested_tensor", "_rebuild_njt" },
		{ "torch.nested._internal.nested_tensor", "NestedTensor" },
		{ "torch.distributed._mesh_layout", "_MeshLayout" },
		{ NULL, NULL },
	};
	expect_all(unk, MG_GLOBAL_UNKNOWN);
	ck_assert_int_eq(cls("torch._dynamo.decorators", "_DimRange"),
	    MG_GLOBAL_DENIED);
	ck_assert_int_eq(cls("torch.storage", "_load_from_bytes"),
	    MG_GLOBAL_DENIED);
}
END_TEST

START_TEST(test_globals_exception_allows_only_its_exact_pair)
{
	/* torch._C Generator (a pickled torch.Generator) passes the
	 * whole-module deny of torch._C; nothing else of torch._C does:
	 * not its other names, not a dotted path through the class, not a
	 * submodule or a lookalike module of the same name. */
	static const struct pair still_denied[] = {
		{ "torch._C", "_set_worker_signal_handlers" },
		{ "torch._C", "_load_library" },
		{ "torch._C", "Generator.manual_seed" },
		{ "torch._C._nn", "Generator" },
		{ "torch._C.Generator", "set_state" },
		{ NULL, NULL },
	};
	const char *cat = "unset";

	ck_assert_int_eq(mg_globals_classify("torch._C", "Generator", &cat),
	    MG_GLOBAL_ALLOWED);
	ck_assert_str_eq(cat, "unset"); /* an allowed pair sets no category */
	expect_all(still_denied, MG_GLOBAL_DENIED);
	ck_assert_int_eq(cls("torch", "Generator"), MG_GLOBAL_UNKNOWN);
	ck_assert_int_eq(cls("torch._C", "generator"), MG_GLOBAL_DENIED);
}
END_TEST

START_TEST(test_globals_policy_deny_wins_over_the_exception)
{
	/* A site's own deny still wins over the exception: the policy's deny
	 * list is checked before the embedded tables. */
	char sys_path[] = "/tmp/check_globals_sys.XXXXXX";
	char user_path[] = "/tmp/check_globals_user.XXXXXX";
	static const char conf[] = "[globals]\ndeny = torch._C:Generator\n";
	struct mg_policy *p = NULL;
	char err[256];
	int fd;

	ck_assert_int_ge(fd = mkstemp(sys_path), 0); /* an empty system policy */
	close(fd);
	ck_assert_int_ge(fd = mkstemp(user_path), 0);
	ck_assert_int_eq(write(fd, conf, sizeof(conf) - 1), sizeof(conf) - 1);
	close(fd);
	mg_policy_set_system_path(sys_path);
	ck_assert_int_eq(mg_policy_load_effective(user_path, 0, &p, err,
	    sizeof(err)), MG_OK);
	ck_assert_int_eq(mg_policy_classify(p, "torch._C", "Generator", NULL),
	    MG_GLOBAL_DENIED);
	mg_policy_free(p);
	mg_policy_set_system_path(NULL);
	unlink(sys_path);
	unlink(user_path);
}
END_TEST

START_TEST(test_globals_default_numpy_pack_allows_numpy2_random_state)
{
	/* policy/packs/numpy.list (on by default): what numpy 2.4's
	 * pickle.dumps of default_rng(), RandomState, every bit generator and
	 * a StringDType array names, beside numpy 1.24's names. */
	static const struct pair v[] = {
		{ "numpy.random._mt19937", "MT19937" },
		{ "numpy.random._pcg64", "PCG64" },
		{ "numpy.random._pcg64", "PCG64DXSM" },
		{ "numpy.random._philox", "Philox" },
		{ "numpy.random._sfc64", "SFC64" },
		{ "numpy.random.bit_generator", "SeedSequence" },
		{ "numpy.random.bit_generator", "__pyx_unpickle_SeedSequence" },
		{ "numpy.random._pickle", "__bit_generator_ctor" },
		{ "numpy.random._pickle", "__generator_ctor" },
		{ "numpy.random._pickle", "__randomstate_ctor" },
		{ "numpy._core._internal", "_convert_to_stringdtype_kwargs" },
		{ "numpy.ma", "MaskedArray" }, { "numpy.rec", "recarray" },
		{ "numpy.ma.core", "MaskedArray" }, { "numpy", "recarray" },
		{ NULL, NULL },
	};
	struct mg_policy *p = mg_policy_new_default();
	const struct pair *e;

	ck_assert_ptr_nonnull(p);
	for (e = v; e->module != NULL; e++)
		ck_assert_msg(mg_policy_classify(p, e->module, e->name, NULL) ==
		    MG_GLOBAL_ALLOWED, "%s %s not allowed", e->module, e->name);
	/* Not a bit generator, and not numpy's: stays unknown. */
	ck_assert_int_eq(mg_policy_classify(p, "numpy.random._generator",
	    "Generator", NULL), MG_GLOBAL_UNKNOWN);
	mg_policy_free(p);
}
END_TEST

static Suite *
globals_suite(void)
{
	Suite *s = suite_create("globals");
	TCase *allow = tcase_create("allow");
	TCase *notallowed = tcase_create("not-allowed");
	TCase *deny = tcase_create("deny");
	TCase *sub = tcase_create("submodules");
	TCase *gen = tcase_create("generated");

	tcase_add_test(allow, test_globals_allows_torch_state_dict_globals);
	tcase_add_test(allow, test_globals_allows_torch_weights_only_list);
	tcase_add_test(allow, test_globals_allows_numpy_array_globals);
	tcase_add_test(allow, test_globals_allows_builtin_data_types);
	tcase_add_test(allow, test_globals_allows_torch2_globals_from_generated_table);
	tcase_add_test(allow, test_globals_allows_numpy2_core_names);
	tcase_add_test(allow, test_globals_default_numpy_pack_allows_numpy2_random_state);
	tcase_add_test(allow, test_globals_exception_allows_only_its_exact_pair);
	tcase_add_test(allow, test_globals_policy_deny_wins_over_the_exception);
	tcase_add_test(notallowed, test_globals_refused_torch_entries_are_not_allowed);
	tcase_add_test(notallowed,
	    test_globals_full_modules_and_user_classes_are_unknown);
	tcase_add_test(notallowed, test_globals_lookalikes_are_unknown);
	tcase_add_test(notallowed, test_globals_dunders_are_never_allowed);
	tcase_add_test(notallowed, test_globals_dotted_names_are_never_allowed);
	tcase_add_test(deny, test_globals_denies_every_category);
	tcase_add_test(deny, test_globals_category_may_be_null);
	tcase_add_test(sub, test_globals_whole_module_entries_cover_submodules);
	tcase_add_test(sub,
	    test_globals_whole_module_entries_stop_at_a_dot_boundary);
	tcase_add_test(sub, test_globals_dotted_name_denied_through_any_split);
	tcase_add_test(sub, test_globals_overlong_module_still_denied_by_prefix);
	tcase_add_test(sub, test_globals_redteam_aliases_and_helpers_denied);
	suite_add_tcase(s, allow);
	suite_add_tcase(s, notallowed);
	suite_add_tcase(s, deny);
	tcase_add_test(gen, test_globals_generated_entries_deny_with_their_category);
	tcase_add_test(gen, test_globals_module_aliases_resolve_to_their_module);
	tcase_add_test(gen, test_globals_generated_list_leaves_benign_pairs_alone);
	suite_add_tcase(s, sub);
	suite_add_tcase(s, gen);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(globals_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
