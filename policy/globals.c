/*
 * globals.c - the embedded allow/deny tables for pickle globals.
 *
 * A pickle can only run code through the globals it makes the loader
 * resolve (GLOBAL, STACK_GLOBAL, INST and the classes they name), so the
 * verdict of a pickle is decided here, one (module, name) pair at a time.
 *
 * Approach:
 *  - The ALLOW table holds exact (module, name) pairs.  Every entry was
 *    derived from the library that writes it (torch 1.13, numpy 1.24,
 *    joblib 1.2, CPython 3.11) and checked against real output: the
 *    globals referenced by torch.save() of state dicts of every dtype
 *    (incl. quantized, sparse COO/CSR, meta, Parameters, optimizer state),
 *    by pickle.dumps() of numpy arrays and scalars of every dtype kind
 *    (incl. structured and object-of-builtins) under protocols 0-5, and by
 *    pickle.dumps() of plain builtin containers and value types.  A group
 *    comment names the source file of each group.  Nothing is allowed by
 *    prefix, and a name that is dotted or a dunder is never allowed.
 *  - The DENY table only ranks what is not allowed (DESIGN.md): it turns
 *    "unknown" into "dangerous" for globals that run code, start commands,
 *    import, load nested pickles, touch files or the network, or load
 *    native code.  Its entries are exact pairs or whole modules ("*"); a
 *    whole-module entry also covers every submodule ("os" covers
 *    "os.path"; it does not cover "ossaudiodev").  Exact pairs match only
 *    their own module.  A pair on both lists is denied (deny wins), though
 *    the tables are kept disjoint.
 *  - The EXCEPTIONS table is the one way past a whole-module deny: an
 *    exact pair whose object is data (torch._C Generator), allowed while
 *    the rest of its module stays denied.  An exact-pair deny still wins.
 *  - The torch entries of ALLOW and EXCEPTIONS are generated
 *    (policy/allow_torch.inc, by scripts/gen-allow-torch from the
 *    installed torch 1.13 and 2.x; `make check-tables` fails on drift).
 *  - Dotted names (protocol >= 4 resolves "a.b" as getattr(getattr(m,
 *    "a"), "b")) are classified by every (module path, attribute) split
 *    the attribute chain passes through, including splits that start
 *    inside the name ("torch" "os.system" reaches os.system through
 *    torch.os): any denied split denies the whole name.  Otherwise a dotted
 *    name is unknown.
 *  - Names with a dunder component ("__reduce__", "__import__") are denied:
 *    they reach interpreter internals and no legitimate writer emits them
 *    through a global (copyreg.__newobj__ becomes the NEWOBJ opcode).
 *
 * Rejected alternatives: allowing whole modules (torch.* contains
 * torch.load and torch.hub; numpy.* contains numpy.load), and matching by
 * prefix (collections.OrderedDicts must stay unknown).
 *
 * Lookup: both tables are written grouped by source for review and sorted
 * once (pthread_once) into index arrays searched with bsearch(); a lookup
 * is O(log n) string compares, no allocation, thread-safe after the first.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "deny_data.h"
#include "policy.h"

struct gpair {
	const char *module;
	const char *name;     /* "*": every name of the module (deny only) */
	const char *category; /* deny only: why it is dangerous */
};

/* ------------------------------------------------------------------------
 * ALLOW: exact pairs.
 */
static const struct gpair allow_tab[] = {
	/* torch: GENERATED from the installed torch of each stack by
	 * scripts/gen-allow-torch (its weights-only unpickler's allowed
	 * globals and what torch.save really writes), each entry with its
	 * source and each decision with its reason. */
#include "allow_torch.inc"

	/* torch, hand-written (what the generator cannot derive):
	 * torch/_utils.py keeps _rebuild_xla_tensor as an alias of
	 * _rebuild_device_tensor_from_numpy for files older torch releases
	 * wrote for XLA tensors; no installed torch writes it any more, so
	 * no recorded case can see it. */
	{ "torch._utils", "_rebuild_xla_tensor", NULL },

	/* numpy 1.24 numpy/core/multiarray.py (_reconstruct and scalar carry
	 * __module__ "numpy.core.multiarray"), numpy/core/numeric.py
	 * (_frombuffer: protocol-5 contiguous arrays): ndarray.__reduce__,
	 * __reduce_ex__ and the scalar reducers. */
	{ "numpy", "ndarray", NULL },
	{ "numpy", "dtype", NULL },
	{ "numpy.core.multiarray", "_reconstruct", NULL },
	{ "numpy.core.multiarray", "scalar", NULL },
	{ "numpy.core.numeric", "_frombuffer", NULL },
	/* numpy 2 numpy/_core/multiarray.py and numpy/_core/numeric.py: the
	 * same three, now under numpy._core (numpy 2.4's pickle.dumps of
	 * arrays and scalars, protocols 0-5, names only these; numpy.core is
	 * a deprecated alias package that old pickles still load through). */
	{ "numpy._core.multiarray", "_reconstruct", NULL },
	{ "numpy._core.multiarray", "scalar", NULL },
	{ "numpy._core.numeric", "_frombuffer", NULL },

	/* joblib 1.2 joblib/numpy_pickle.py: NumpyArrayWrapper, the record
	 * joblib.dump writes before each raw array body (its state is plain
	 * data; the container reader steps over the body). */
	{ "joblib.numpy_pickle", "NumpyArrayWrapper", NULL },

	/* CPython 3.11 reducers of builtin value types and containers
	 * (Objects/setobject.c, bytearrayobject.c, complexobject.c,
	 * sliceobject.c, rangeobject.c; Lib/pickle.py save_bytes under
	 * protocol < 3 writes _codecs.encode(str, "latin1")), and the
	 * builtin types themselves when a pickle stores a type as a value
	 * (e.g. {"dtype": float}). */
	{ "builtins", "set", NULL },
	{ "builtins", "frozenset", NULL },
	{ "builtins", "bytearray", NULL },
	{ "builtins", "bytes", NULL },
	{ "builtins", "complex", NULL },
	{ "builtins", "slice", NULL },
	{ "builtins", "range", NULL },
	{ "builtins", "object", NULL },
	{ "builtins", "bool", NULL },
	{ "builtins", "int", NULL },
	{ "builtins", "float", NULL },
	{ "builtins", "str", NULL },
	{ "builtins", "list", NULL },
	{ "builtins", "tuple", NULL },
	{ "builtins", "dict", NULL },
	{ "builtins", "Ellipsis", NULL },
	{ "builtins", "NotImplemented", NULL },
	{ "_codecs", "encode", NULL },

	/* Lib/copyreg.py: _reconstructor is what object.__reduce_ex__ writes
	 * under protocols 0-1 (its class arguments are globals classified on
	 * their own). */
	{ "copyreg", "_reconstructor", NULL },

	/* Lib/collections/__init__.py, Lib/datetime.py, Lib/decimal.py,
	 * Lib/fractions.py: value types of plain data pickles, each rebuilt
	 * from numbers or strings by its own __reduce__.  A defaultdict's
	 * factory is a global classified on its own. */
	{ "collections", "Counter", NULL },
	{ "collections", "deque", NULL },
	{ "collections", "defaultdict", NULL },
	{ "datetime", "date", NULL },
	{ "datetime", "datetime", NULL },
	{ "datetime", "time", NULL },
	{ "datetime", "timedelta", NULL },
	{ "datetime", "timezone", NULL },
	{ "decimal", "Decimal", NULL },
	{ "fractions", "Fraction", NULL },

	/* Lib/re/__init__.py: a compiled pattern pickles as
	 * re._compile(pattern, flags), which takes only a str or bytes
	 * pattern (TypeError otherwise) and compiles it: it calls nothing it
	 * is given. */
	{ "re", "_compile", NULL },

	/* --- torch.distributed.checkpoint .metadata (added by the readers
	 * work on .distcp; kept apart from the generated torch entries).
	 * FileSystemWriter.finish() pickles one Metadata with pickle.dump
	 * (torch/distributed/checkpoint/filesystem.py) and
	 * FileSystemReader.read_metadata() pickle.loads it.  Every class is
	 * a dataclass of plain fields, rebuilt by NEWOBJ + BUILD; the only
	 * __setstate__ (TensorProperties) assigns the tuple and compares an
	 * enum; MetadataIndex.__init__ builds a torch.Size; _MEM_FORMAT_ENCODING
	 * is an Enum (value lookup only).  Checked against the .metadata of a
	 * real torch 2.13 dcp.save. */
	/* torch/distributed/checkpoint/metadata.py */
	{ "torch.distributed.checkpoint.metadata", "BytesStorageMetadata", NULL },
	{ "torch.distributed.checkpoint.metadata", "ChunkStorageMetadata", NULL },
	{ "torch.distributed.checkpoint.metadata", "Metadata", NULL },
	{ "torch.distributed.checkpoint.metadata", "MetadataIndex", NULL },
	{ "torch.distributed.checkpoint.metadata", "StorageMeta", NULL },
	{ "torch.distributed.checkpoint.metadata", "TensorProperties", NULL },
	{ "torch.distributed.checkpoint.metadata", "TensorStorageMetadata", NULL },
	{ "torch.distributed.checkpoint.metadata", "_MEM_FORMAT_ENCODING", NULL },
	/* torch/distributed/checkpoint/filesystem.py */
	{ "torch.distributed.checkpoint.filesystem", "_StorageInfo", NULL },
	/* --- end of the torch.distributed.checkpoint block */
};

/* ------------------------------------------------------------------------
 * EXCEPTIONS: exact pairs allowed although a whole-module ("*") deny entry
 * covers their module, because the object is data (torch._C.Generator: a
 * pickled torch.Generator is Generator(device) plus its state).  Only the
 * exact, undotted pair: an exact-pair deny entry still wins, every other
 * name of the module stays denied, and a dotted name never matches.
 * Generated with the torch table (scripts/gen-allow-torch DECISIONS).
 */
static const struct gpair except_tab[] = {
#define MG_ALLOW_TORCH_EXCEPTIONS
#include "allow_torch.inc"
#undef MG_ALLOW_TORCH_EXCEPTIONS
};

/* Deny categories: static strings, part of the report's messages. */
#define C_CODE    "code execution"
#define C_CMD     "command execution"
#define C_IMPORT  "import or name resolution"
#define C_TRAMP   "attribute or call trampoline"
#define C_NESTED  "nested deserializer"
#define C_FILE    "file system access"
#define C_NET     "network access"
#define C_NATIVE  "native code loading"
#define C_PROC    "interpreter or process control"
#define C_DEBUG   "debugger, profiler or test runner"
#define C_PKG     "package installation"
#define C_DUNDER  "dunder name (interpreter internals)"
#define C_LONG    "attribute chain too long to classify"

/* ------------------------------------------------------------------------
 * DENY: exact pairs, or "*" for a whole module and its submodules.
 */
static const struct gpair deny_tab[] = {
	/* Code execution: compile or run source or code objects. */
	{ "builtins", "eval", C_CODE },
	{ "builtins", "exec", C_CODE },
	{ "builtins", "compile", C_CODE },
	{ "builtins", "execfile", C_CODE },
	{ "code", "*", C_CODE },
	{ "codeop", "*", C_CODE },
	/* types: the constructors of code; SimpleNamespace (plain configs)
	 * and the rest stay unknown. */
	{ "types", "FunctionType", C_CODE },
	{ "types", "LambdaType", C_CODE },
	{ "types", "CodeType", C_CODE },
	{ "types", "MethodType", C_CODE },
	{ "types", "CellType", C_CODE },
	{ "types", "new_class", C_CODE },
	{ "types", "prepare_class", C_CODE },
	{ "types", "coroutine", C_CODE },
	{ "timeit", "*", C_CODE },      /* timeit("stmt") execs its argument */
	{ "logging.config", "*", C_CODE }, /* listen() evals received config */
	{ "IPython", "*", C_CODE },
	{ "torch.jit", "*", C_CODE },   /* TorchScript compile/load */
	{ "torch._jit_internal", "*", C_CODE },
	{ "torch.fx", "*", C_CODE },    /* GraphModule pickles exec source */
	{ "torch._dynamo", "*", C_CODE },
	{ "pandas", "eval", C_CODE },
	{ "pandas.core.computation.eval", "*", C_CODE },

	/* Command execution and process creation. */
	{ "os", "*", C_CMD },           /* system, popen, exec*, spawn*, fork */
	{ "posix", "*", C_CMD },
	{ "nt", "*", C_CMD },
	{ "subprocess", "*", C_CMD },
	{ "_posixsubprocess", "*", C_CMD },
	{ "pty", "*", C_CMD },
	{ "commands", "*", C_CMD },     /* Python 2 */
	{ "popen2", "*", C_CMD },       /* Python 2 */
	{ "platform", "popen", C_CMD },
	{ "platform", "_syscmd_file", C_CMD },
	{ "platform", "_syscmd_ver", C_CMD },
	{ "_winapi", "*", C_CMD },
	{ "msvcrt", "*", C_CMD },
	{ "pexpect", "*", C_CMD },
	{ "sh", "*", C_CMD },
	{ "numpy.f2py", "*", C_CMD },   /* runs the compiler */
	/* Private helpers of allowed-looking stdlib modules that start
	 * commands: the module is harmless, this one function is not. */
	{ "uuid", "_get_command_stdout", C_CMD },
	{ "_osx_support", "*", C_CMD },  /* _read_output runs a shell */
	{ "_aix_support", "*", C_CMD },
	{ "torch.utils.collect_env", "*", C_CMD }, /* run(command) */

	/* Importers and name resolvers: turn strings into any object. */
	{ "builtins", "__import__", C_IMPORT },
	{ "builtins", "reload", C_IMPORT },
	{ "importlib", "*", C_IMPORT },
	{ "imp", "*", C_IMPORT },
	{ "pkgutil", "*", C_IMPORT },   /* resolve_name, get_importer */
	{ "runpy", "*", C_IMPORT },
	{ "zipimport", "*", C_IMPORT },
	{ "pydoc", "*", C_IMPORT },     /* locate(); pager runs commands */
	{ "copyreg", "add_extension", C_IMPORT },
	{ "copyreg", "remove_extension", C_IMPORT },
	{ "copyreg", "clear_extension_cache", C_IMPORT },
	{ "copyreg", "pickle", C_IMPORT },
	{ "copyreg", "constructor", C_IMPORT },
	{ "torch._utils", "_import_dotted_name", C_IMPORT },
	{ "torch.package", "*", C_IMPORT },
	/* Lazy aliases of other modules: six.moves.builtins IS builtins, so
	 * "six.moves.builtins eval" reached eval while "builtins eval" was
	 * denied (found by red-team testing); six.exec_ is exec. */
	{ "six.moves", "*", C_IMPORT },
	{ "six", "exec_", C_CODE },
	/* numpy's test helpers: runstring() execs its argument. */
	{ "numpy.testing", "*", C_CODE },

	/*
	 * Trampolines: a callable that fetches attributes or items, or calls
	 * its argument, turns data into calls the analyser cannot see as a
	 * REDUCE of a global.  functools.partial only binds arguments (each
	 * callee is a classified global, and calling the partial is a computed
	 * call the analyser flags), so it stays unknown; functools.reduce,
	 * map, filter and iter(callable, sentinel) call their argument while
	 * the pickle loads, so they are denied.
	 */
	{ "builtins", "getattr", C_TRAMP },
	{ "builtins", "setattr", C_TRAMP },
	{ "builtins", "delattr", C_TRAMP },
	{ "builtins", "vars", C_TRAMP },
	{ "builtins", "globals", C_TRAMP },
	{ "builtins", "locals", C_TRAMP },
	{ "builtins", "dir", C_TRAMP },
	{ "builtins", "map", C_TRAMP },
	{ "builtins", "filter", C_TRAMP },
	{ "builtins", "iter", C_TRAMP },
	{ "builtins", "next", C_TRAMP },
	{ "builtins", "apply", C_TRAMP },   /* Python 2 */
	{ "operator", "*", C_TRAMP },       /* attrgetter, itemgetter, ... */
	{ "_operator", "*", C_TRAMP },
	{ "functools", "reduce", C_TRAMP },
	{ "itertools", "starmap", C_TRAMP },
	{ "weakref", "finalize", C_TRAMP }, /* calls back at collection */

	/* Nested deserializers: load bytes the table never sees. */
	{ "pickle", "*", C_NESTED },
	{ "_pickle", "*", C_NESTED },
	{ "cPickle", "*", C_NESTED },
	{ "pickletools", "*", C_NESTED },
	{ "marshal", "*", C_NESTED },
	{ "shelve", "*", C_NESTED },
	{ "dill", "*", C_NESTED },
	{ "cloudpickle", "*", C_NESTED },
	{ "jsonpickle", "*", C_NESTED },
	{ "yaml", "*", C_NESTED },
	{ "_yaml", "*", C_NESTED },
	{ "joblib", "load", C_NESTED },
	{ "joblib.numpy_pickle", "load", C_NESTED },
	{ "joblib.numpy_pickle", "NumpyUnpickler", C_NESTED },
	{ "joblib.externals.cloudpickle", "*", C_NESTED },
	{ "torch", "load", C_NESTED },
	{ "torch.serialization", "load", C_NESTED },
	{ "torch.serialization", "_load", C_NESTED },
	{ "torch.serialization", "_legacy_load", C_NESTED },
	{ "torch.storage", "_load_from_bytes", C_NESTED },
	{ "numpy", "load", C_NESTED },
	{ "numpy.lib.npyio", "load", C_NESTED },
	{ "numpy.lib.format", "read_array", C_NESTED },
	{ "pandas", "read_pickle", C_NESTED },
	{ "pandas.io.pickle", "*", C_NESTED },

	/* File system side effects. */
	{ "builtins", "open", C_FILE },
	{ "builtins", "file", C_FILE },     /* Python 2 */
	/* io: what opens or wraps files; BytesIO/StringIO stay unknown. */
	{ "io", "open", C_FILE },
	{ "io", "open_code", C_FILE },
	{ "io", "FileIO", C_FILE },
	{ "io", "TextIOWrapper", C_FILE },
	{ "io", "BufferedReader", C_FILE },
	{ "io", "BufferedWriter", C_FILE },
	{ "io", "BufferedRandom", C_FILE },
	{ "io", "BufferedRWPair", C_FILE },
	{ "_io", "open", C_FILE },
	{ "_io", "open_code", C_FILE },
	{ "_io", "FileIO", C_FILE },
	{ "_io", "TextIOWrapper", C_FILE },
	{ "_io", "BufferedReader", C_FILE },
	{ "_io", "BufferedWriter", C_FILE },
	{ "_io", "BufferedRandom", C_FILE },
	{ "_io", "BufferedRWPair", C_FILE },
	{ "codecs", "open", C_FILE },
	{ "shutil", "*", C_FILE },
	{ "tempfile", "*", C_FILE },
	{ "glob", "*", C_FILE },
	{ "fileinput", "*", C_FILE },
	{ "linecache", "*", C_FILE },
	{ "zipfile", "*", C_FILE },
	{ "tarfile", "*", C_FILE },
	{ "gzip", "open", C_FILE },
	{ "gzip", "GzipFile", C_FILE },
	{ "bz2", "open", C_FILE },
	{ "bz2", "BZ2File", C_FILE },
	{ "lzma", "open", C_FILE },
	{ "lzma", "LZMAFile", C_FILE },
	{ "dbm", "*", C_FILE },
	{ "sqlite3", "*", C_FILE },
	{ "mmap", "*", C_FILE },
	{ "numpy", "fromfile", C_FILE },
	{ "numpy", "memmap", C_FILE },
	{ "numpy", "save", C_FILE },
	{ "numpy", "savez", C_FILE },
	{ "numpy", "savetxt", C_FILE },
	{ "numpy", "loadtxt", C_FILE },
	{ "numpy", "genfromtxt", C_FILE },
	{ "numpy.lib.format", "open_memmap", C_FILE },

	/* Network access. */
	{ "socket", "*", C_NET },
	{ "_socket", "*", C_NET },
	{ "ssl", "*", C_NET },
	{ "urllib.request", "*", C_NET },
	{ "urllib2", "*", C_NET },          /* Python 2 */
	{ "urllib", "urlopen", C_NET },     /* Python 2 */
	{ "urllib", "urlretrieve", C_NET }, /* Python 2 */
	{ "http", "*", C_NET },             /* http.client, http.server */
	{ "httplib", "*", C_NET },          /* Python 2 */
	{ "ftplib", "*", C_NET },
	{ "smtplib", "*", C_NET },
	{ "poplib", "*", C_NET },
	{ "imaplib", "*", C_NET },
	{ "nntplib", "*", C_NET },
	{ "telnetlib", "*", C_NET },
	{ "xmlrpc", "*", C_NET },
	{ "socketserver", "*", C_NET },
	{ "SocketServer", "*", C_NET },     /* Python 2 */
	{ "asyncore", "*", C_NET },
	{ "asynchat", "*", C_NET },
	{ "webbrowser", "*", C_NET },
	{ "requests", "*", C_NET },
	{ "urllib3", "*", C_NET },
	{ "httpx", "*", C_NET },
	{ "aiohttp", "*", C_NET },
	{ "paramiko", "*", C_NET },
	{ "torch.hub", "*", C_NET },        /* load, load_state_dict_from_url */
	/* torch.distributed: what connects or calls remotely (not the
	 * whole package: checkpoint data classes live there too). */
	{ "torch.distributed", "init_process_group", C_NET },
	{ "torch.distributed.distributed_c10d", "init_process_group", C_NET },
	{ "torch.distributed.rpc", "*", C_NET },
	{ "torch.distributed.rendezvous", "*", C_NET },
	{ "torch.distributed.elastic", "*", C_PROC },
	{ "torch.distributed.launch", "*", C_PROC },
	{ "torch.distributed.run", "*", C_PROC },

	/* Native code loading. */
	{ "ctypes", "*", C_NATIVE },
	{ "_ctypes", "*", C_NATIVE },
	{ "cffi", "*", C_NATIVE },
	{ "_cffi_backend", "*", C_NATIVE },
	{ "numpy.ctypeslib", "*", C_NATIVE },
	{ "torch._C", "*", C_NATIVE },
	{ "torch._ops", "*", C_NATIVE },
	{ "torch.ops", "*", C_NATIVE },     /* load_library */
	{ "torch.classes", "*", C_NATIVE }, /* load_library */
	{ "torch.utils.cpp_extension", "*", C_NATIVE },

	/* Interpreter and process control. */
	{ "sys", "*", C_PROC },
	{ "gc", "*", C_PROC },
	{ "inspect", "*", C_PROC },
	{ "signal", "*", C_PROC },
	{ "threading", "*", C_PROC },
	{ "_thread", "*", C_PROC },
	{ "thread", "*", C_PROC },          /* Python 2 */
	{ "multiprocessing", "*", C_PROC },
	{ "concurrent", "*", C_PROC },
	{ "asyncio", "*", C_PROC },         /* create_subprocess_shell */
	{ "atexit", "*", C_PROC },
	{ "faulthandler", "*", C_PROC },
	{ "resource", "*", C_PROC },
	{ "ptrace", "*", C_PROC },
	{ "torch.multiprocessing", "*", C_PROC },
	{ "joblib.externals.loky", "*", C_PROC },
	{ "builtins", "breakpoint", C_PROC },
	{ "builtins", "input", C_PROC },
	{ "builtins", "raw_input", C_PROC },/* Python 2 */
	{ "builtins", "help", C_PROC },
	{ "builtins", "exit", C_PROC },
	{ "builtins", "quit", C_PROC },
	{ "builtins", "copyright", C_PROC },
	{ "builtins", "credits", C_PROC },
	{ "builtins", "license", C_PROC },

	/* Debuggers, profilers, test runners: each runs code it is given. */
	{ "bdb", "*", C_DEBUG },
	{ "pdb", "*", C_DEBUG },
	{ "trace", "*", C_DEBUG },
	{ "cProfile", "*", C_DEBUG },
	{ "profile", "*", C_DEBUG },
	{ "doctest", "*", C_DEBUG },
	{ "idlelib", "*", C_DEBUG },
	{ "unittest", "*", C_DEBUG },

	/* Package installation and site configuration. */
	{ "distutils", "*", C_PKG },
	{ "setuptools", "*", C_PKG },
	{ "pkg_resources", "*", C_PKG },
	{ "pip", "*", C_PKG },
	{ "site", "*", C_PKG },
	{ "ensurepip", "*", C_PKG },
	{ "venv", "*", C_PKG },
	{ "numpy.distutils", "*", C_PKG },

	/*
	 * Module families no model file needs, hand-written because what
	 * makes them dangerous is what they are, not one call the generator
	 * (scripts/gen-deny) can follow.  Test suites of installed packages
	 * ("x.tests", "x.testing") are generated.
	 */
	/* The stdlib's own test suite: test.support helpers run interpreters
	 * (script_helper.assert_python_ok) and write files. */
	{ "test", "*", C_DEBUG },
	/* Interpreters and sub-interpreters: each runs source it is given
	 * (_interpreters.run_string) in this process. */
	{ "_interpreters", "*", C_CODE },
	{ "_xxsubinterpreters", "*", C_CODE },
	{ "_interpqueues", "*", C_CODE },
	{ "_interpchannels", "*", C_CODE },
	{ "_xxinterpchannels", "*", C_CODE },
	{ "_pyrepl", "*", C_CODE },        /* 3.13 REPL: pager runs commands */
	{ "rlcompleter", "*", C_CODE },    /* evals the text it completes */
	/* CPython's test extension modules: raw memory and interpreter
	 * internals by design. */
	{ "_testcapi", "*", C_NATIVE },
	{ "_testinternalcapi", "*", C_NATIVE },
	{ "_testbuffer", "*", C_NATIVE },
	{ "_testmultiphase", "*", C_NATIVE },
	{ "_testimportmultiple", "*", C_NATIVE },
	{ "_xxtestfuzz", "*", C_NATIVE },
	/* Profilers and tracers: they call what they are given. */
	{ "_lsprof", "*", C_DEBUG },
	{ "pstats", "*", C_DEBUG },        /* marshal-loads a stats file */
	{ "tracemalloc", "*", C_DEBUG },
	{ "_tracemalloc", "*", C_DEBUG },
	{ "torch.profiler", "*", C_DEBUG },
	{ "torch.autograd.profiler", "*", C_DEBUG },
	{ "torch.utils.benchmark", "*", C_CODE }, /* Timer execs stmt */
	{ "torch.utils.bottleneck", "*", C_DEBUG },
	/* Compilers and code caches: they generate, build and load code
	 * (torch._inductor.codecache.compile_file runs the C compiler). */
	{ "torch._inductor", "*", C_CODE },
	{ "torch.compiler", "*", C_CODE },
	{ "torch.compile", "*", C_CODE },  /* no such module; peers test it */
	{ "torch", "compile", C_CODE },    /* torch.compile(): Dynamo + Inductor */
	{ "torch._export", "*", C_CODE },
	{ "torch.export", "*", C_CODE },   /* load() runs a compiled package */
	{ "torch._higher_order_ops", "*", C_CODE },
	{ "torch._functorch", "*", C_CODE }, /* aot_autograd compiles */
	{ "torch.utils._config_module", "*", C_CODE }, /* load_config unpickles */
	{ "torch.utils.hipify", "*", C_FILE }, /* rewrites source trees */
	{ "numba", "*", C_CODE },
	{ "triton", "*", C_CODE },
	{ "py_compile", "*", C_CODE },
	{ "compileall", "*", C_CODE },
	/* Kernels and notebooks: they run code sent to them. */
	{ "ipykernel", "*", C_CODE },
	{ "jupyter_client", "*", C_CMD },  /* launches kernels */
	/* Package installers. */
	{ "zipapp", "*", C_PKG },
	{ "pip._internal", "*", C_PKG },
	{ "pipx", "*", C_PKG },
	{ "conda", "*", C_PKG },
	/* The other scanners' own modules: a payload imports them to switch
	 * them off (fickling.hook.remove_hook, picklescan's scanner state). */
	{ "picklescan", "*", C_PROC },
	{ "modelscan", "*", C_PROC },
	{ "fickling", "*", C_PROC },
	{ "modelaudit", "*", C_PROC },
	{ "saferpickle", "*", C_PROC },
	{ "model_unpickler", "*", C_PROC },
	{ "modelgate", "*", C_PROC },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct gpair *allow_idx[NELEM(allow_tab)];
static const struct gpair *except_idx[NELEM(except_tab)];
static const struct gpair *deny_idx[NELEM(deny_tab)];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* Order by module, then name; "*" sorts like any other name. */
static int
pair_cmp(const void *a, const void *b)
{
	const struct gpair *x = *(const struct gpair *const *)a;
	const struct gpair *y = *(const struct gpair *const *)b;
	int c = strcmp(x->module, y->module);

	return c != 0 ? c : strcmp(x->name, y->name);
}

static void
tables_sort(void)
{
	size_t i;

	for (i = 0; i < NELEM(allow_tab); i++)
		allow_idx[i] = &allow_tab[i];
	for (i = 0; i < NELEM(deny_tab); i++)
		deny_idx[i] = &deny_tab[i];
	for (i = 0; i < NELEM(except_tab); i++)
		except_idx[i] = &except_tab[i];
	qsort(allow_idx, NELEM(allow_idx), sizeof(allow_idx[0]), pair_cmp);
	qsort(except_idx, NELEM(except_idx), sizeof(except_idx[0]), pair_cmp);
	qsort(deny_idx, NELEM(deny_idx), sizeof(deny_idx[0]), pair_cmp);
}

/* The entry of @idx[0..@n) equal to (@module, @name), or NULL. */
static const struct gpair *
tab_find(const struct gpair *const *idx, size_t n, const char *module,
         const char *name)
{
	struct gpair key = { module, name, NULL };
	const struct gpair *kp = &key;
	const struct gpair *const *hit;

	hit = bsearch(&kp, idx, n, sizeof(idx[0]), pair_cmp);
	return hit != NULL ? *hit : NULL;
}

/* The strings of enum mg_deny_cat (policy/deny_data.h), which are the
 * categories of the hand table too. */
static const char *const deny_cat_name[] = {
	[MG_DENY_K_CODE] = C_CODE,
	[MG_DENY_K_CMD] = C_CMD,
	[MG_DENY_K_IMPORT] = C_IMPORT,
	[MG_DENY_K_NESTED] = C_NESTED,
	[MG_DENY_K_FILE] = C_FILE,
	[MG_DENY_K_NET] = C_NET,
	[MG_DENY_K_NATIVE] = C_NATIVE,
	[MG_DENY_K_TEST] = C_DEBUG,
};

/* Order a generated entry against a (module, name) key. */
static int
gen_cmp(const void *k, const void *e)
{
	const struct gpair *x = k;
	const struct mg_deny_entry *y = e;
	int c = strcmp(x->module, mg_deny_strtab + y->module);

	return c != 0 ? c : strcmp(x->name, mg_deny_strtab + y->name);
}

/* The category of (@module, @name) in the hand table or in the generated
 * one (policy/deny_data.c, already sorted), or NULL. */
static const char *
deny_exact(const char *module, const char *name)
{
	struct gpair key = { module, name, NULL };
	const struct gpair *h;
	const struct mg_deny_entry *g;

	if ((h = tab_find(deny_idx, NELEM(deny_idx), module, name)) != NULL)
		return h->category;
	g = bsearch(&key, mg_deny_generated, mg_deny_generated_n,
	    sizeof(mg_deny_generated[0]), gen_cmp);
	if (g == NULL || g->category >= NELEM(deny_cat_name))
		return NULL;
	return deny_cat_name[g->category];
}

/*
 * The deny category for @mlen bytes of @module (not NUL-terminated there)
 * and @name: an exact pair on exactly that module, or a whole-module entry
 * on that module or any of its parent packages; NULL if none.  @buf is
 * scratch space of at least @mlen + 1 bytes.
 */
static const char *
deny_find(const char *module, size_t mlen, const char *name, char *buf)
{
	const char *c;

	memcpy(buf, module, mlen);
	buf[mlen] = '\0';
	if ((c = deny_exact(buf, name)) != NULL)
		return c;
	/* Why every prefix at a dot: "os" "*" must cover "os.path", while
	 * "os" must not cover "ossaudiodev" (no dot at the boundary). */
	for (;;) {
		char *dot;

		if ((c = deny_exact(buf, "*")) != NULL)
			return c;
		if ((dot = strrchr(buf, '.')) == NULL)
			return NULL;
		*dot = '\0';
	}
}

/* 1 if the @len bytes at @s are a dunder ("__x__"). */
static int
is_dunder(const char *s, size_t len)
{
	return len > 4 && s[0] == '_' && s[1] == '_' &&
	    s[len - 1] == '_' && s[len - 2] == '_';
}

/* 1 if any dot-separated component of @name is a dunder. */
static int
has_dunder(const char *name)
{
	const char *p = name;

	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);

		if (is_dunder(p, len))
			return 1;
		if (dot == NULL)
			return 0;
		p = dot + 1;
	}
}

/* Longest module path + name we split.  Why a bound: the buffers live on
 * the stack (this runs inside the preload's host process too).  Why longer
 * dotted names are denied rather than unknown: attribute chains can loop
 * through modules (torch.nn.modules.module.torch.nn...), so a long chain
 * can end anywhere; nothing legitimate is that long. */
#define MAX_PATH_LEN 1024
#define MAX_COMPONENTS 64

/*
 * Deny check of a dotted attribute chain: every (path[i..j), path[j])
 * where path is @module's components followed by @name's and path[j] is a
 * component of @name.  Splits starting inside the name model the chain
 * reaching another module through an attribute ("torch" "os.system").
 */
static const char *
deny_dotted(const char *module, const char *name)
{
	char path[MAX_PATH_LEN], scratch[MAX_PATH_LEN], comp[MAX_PATH_LEN];
	size_t start[MAX_COMPONENTS], len[MAX_COMPONENTS];
	size_t ncomp = 0, nmod, i, j, mlen = strlen(module);
	size_t total = mlen + 1 + strlen(name);
	const char *e;
	char *p;

	if (total >= sizeof(path))
		return C_LONG;
	memcpy(path, module, mlen);
	path[mlen] = '.';
	memcpy(path + mlen + 1, name, strlen(name) + 1);
	for (p = path, nmod = 0;; ) {
		char *dot = strchr(p, '.');

		if (ncomp == MAX_COMPONENTS)
			return C_LONG;
		start[ncomp] = (size_t)(p - path);
		len[ncomp] = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (start[ncomp] + len[ncomp] <= mlen)
			nmod = ncomp + 1;
		ncomp++;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	for (j = nmod; j < ncomp; j++) {
		memcpy(comp, path + start[j], len[j]);
		comp[len[j]] = '\0';
		for (i = 0; i < j; i++) {
			size_t plen = start[j] - 1 - start[i];

			e = deny_find(path + start[i], plen, comp, scratch);
			if (e != NULL)
				return e;
		}
	}
	return NULL;
}

/*
 * Whole-module deny check of a module path too long for @buf (no real
 * module is): its parent packages that fit are still checked, so
 * "os.<2000 bytes>" stays denied.
 */
static const char *
deny_long_module(const char *module, char *buf, size_t buflen)
{
	size_t cut = buflen - 1;

	while (cut > 0 && module[cut] != '.')
		cut--;
	return cut > 0 ? deny_find(module, cut, "*", buf) : NULL;
}

/* The target of the alias "@len bytes at @s" (policy/deny_data.c), or NULL. */
static const char *
alias_find(const char *s, size_t len)
{
	size_t lo = 0, hi = mg_deny_aliases_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *f = mg_deny_strtab + mg_deny_aliases[mid].from;
		int c = strncmp(s, f, len);

		if (c == 0 && f[len] != '\0')
			c = -1; /* @s is a proper prefix of f: sorts before it */
		if (c == 0)
			return mg_deny_strtab + mg_deny_aliases[mid].to;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/*
 * Deny check of what the attribute chain @module.@name really reaches,
 * through module aliases: walking the chain from its first component, a
 * path that is an alias ("somemodule._os", "torch.os") is replaced by the
 * module it names ("os"), and every attribute of the name part is checked
 * on its canonical owner, alone and as "Class.method" with the next one.
 * CPython (Modules/_pickle.c find_class) imports @module itself and, under
 * protocol >= 4, getattr()s each component of @name in turn; so an alias in
 * @module only matters if sys.modules holds it, and is resolved anyway.
 */
static const char *
deny_aliased(const char *module, const char *name)
{
	char cur[MAX_PATH_LEN], key[MAX_PATH_LEN], scratch[MAX_PATH_LEN];
	const char *p = module, *c;
	size_t clen = 0;
	int in_name = 0;

	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		const char *t;

		if (clen > 0 && in_name) {
			/* The attribute alone, then "attr.next" (Class.method). */
			const char *end = dot != NULL ? strchr(dot + 1, '.') : NULL;
			size_t n2 = dot == NULL ? n :
			    (end != NULL ? (size_t)(end - p) : strlen(p));

			if (n2 >= sizeof(key))
				return NULL;
			memcpy(key, p, n);
			key[n] = '\0';
			if ((c = deny_find(cur, clen, key, scratch)) != NULL)
				return c;
			if (n2 > n) {
				memcpy(key, p, n2);
				key[n2] = '\0';
				if ((c = deny_find(cur, clen, key, scratch)) != NULL)
					return c;
			}
		}
		/* Why the bound: cur is a stack buffer; nothing real is long,
		 * and over-long names are judged by deny_dotted (C_LONG) and
		 * deny_long_module before this runs. */
		if (clen + 1 + n >= sizeof(cur))
			return NULL;
		if (clen > 0)
			cur[clen++] = '.';
		memcpy(cur + clen, p, n);
		clen += n;
		cur[clen] = '\0';
		if ((t = alias_find(cur, clen)) != NULL) {
			clen = strlen(t);
			if (clen >= sizeof(cur))
				return NULL;
			memcpy(cur, t, clen + 1);
		}
		if (dot != NULL) {
			p = dot + 1;
		} else if (!in_name) {
			p = name;
			in_name = 1;
		} else {
			return NULL;
		}
	}
}

enum mg_gclass
mg_globals_classify(const char *module, const char *name,
                    const char **category)
{
	char scratch[MAX_PATH_LEN];
	const char *e = NULL;
	size_t mlen;

	if (module == NULL || name == NULL)
		return MG_GLOBAL_UNKNOWN;
	(void)pthread_once(&tables_once, tables_sort);
	mlen = strlen(module);
	if (has_dunder(name)) {
		if (category != NULL)
			*category = C_DUNDER;
		return MG_GLOBAL_DENIED;
	}
	/* Exceptions before the deny-list: an exact, undotted pair of a
	 * module denied as a whole, unless that very pair is denied. */
	if (strchr(name, '.') == NULL &&
	    tab_find(except_idx, NELEM(except_idx), module, name) != NULL &&
	    deny_exact(module, name) == NULL)
		return MG_GLOBAL_ALLOWED;
	/* Deny first: a pair on both lists is denied. */
	if (mlen < sizeof(scratch))
		e = deny_find(module, mlen, name, scratch);
	else
		e = deny_long_module(module, scratch, sizeof(scratch));
	if (e == NULL && strchr(name, '.') != NULL)
		e = deny_dotted(module, name);
	if (e == NULL)
		e = deny_aliased(module, name);
	if (e != NULL) {
		if (category != NULL)
			*category = e;
		return MG_GLOBAL_DENIED;
	}
	/* Why no dotted names here: the allow-list is exact pairs, and a
	 * dotted name reaches a different object than its last component. */
	if (strchr(name, '.') == NULL &&
	    tab_find(allow_idx, NELEM(allow_idx), module, name) != NULL)
		return MG_GLOBAL_ALLOWED;
	return MG_GLOBAL_UNKNOWN;
}
