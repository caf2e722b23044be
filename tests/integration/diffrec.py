"""Recording unpicklers for modelgate's differential tests.

Shared by test_diff_globals (raw pickles), test_diff_loaders (every real
loader) and fuzz_diff_loaders.py (mutants of their containers).  A recorder
notes every global an unpickler resolves and returns a harmless stub instead
of importing or calling anything:

  PyRecorder  the pure-Python pickle._Unpickler's find_class, replaced: it
              applies exactly what pickle.py's find_class applies before
              importing (protocol < 3 with fix_imports: _compat_pickle
              NAME_MAPPING on the pair, else IMPORT_MAPPING on the module),
              records the pair and returns Stub;
  CRecorder   a subclass of the C _pickle.Unpickler.  It cannot see the
              protocol, so it lets the C find_class itself do the mapping
              and the import, with every candidate module name (raw and
              mapped) temporarily replaced in sys.modules by a recording
              stub module: the stub that is asked for an attribute names the
              module the C code really imported, and the attribute chain it
              walks names the global.  Nothing real is imported or called.

Recorder state lives in a Recording (pairs, persistent ids, loads started
and failed), so a real loader that builds its own unpickler subclasses (torch)
or calls pickle.load several times (torch legacy, np.load of an npz) records
into one place.  `passthrough` names loader-internal data types a loader
needs back for real to keep walking its own container (joblib's
NumpyArrayWrapper and numpy.dtype, torch's storage classes): they are still
recorded, and returned only if their module is already imported (never
imported here); no payload global is ever in it.
"""
import _compat_pickle
import importlib.util
import io
import json
import pickle
import subprocess
import sys
import types

# The real classes, kept before any harness patches the pickle module.
ORIG_C_UNPICKLER = pickle.Unpickler
ORIG_PY_FIND_CLASS = pickle._Unpickler.find_class
ORIG_LOAD = pickle.load
ORIG_LOADS = pickle.loads


class Stub:
    """Accepts any arguments, any state, any attribute; does nothing."""

    def __init__(self, *a, **k):
        pass

    def __call__(self, *a, **k):
        return Stub()

    def __setstate__(*a):
        pass

    def __getattr__(self, name):
        return Stub()

    def __setitem__(self, k, v):
        pass

    def append(*a):
        pass

    def extend(*a):
        pass

    def add(*a):
        pass


def py2_map(proto, fix_imports, module, name):
    """What pickle.py's find_class does to the pair before importing."""
    if proto < 3 and fix_imports:
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
    return module, name


class Chain:
    """The value of an attribute of a stub module: records further fetches
    (a dotted name under protocol >= 4 is walked attribute by attribute)."""

    def __init__(self, path):
        self._path = path

    def __getattr__(self, attr):
        self._path.append(attr)
        return self


class StubModule(types.ModuleType):
    """A module whose every attribute fetch is recorded."""

    def __init__(self, name, got):
        super().__init__(name)
        self._got = got

    def __getattr__(self, attr):
        if attr == "__path__":
            # The import system asking whether this is a package.
            raise AttributeError(attr)
        path = [attr]
        self._got.append((self.__name__, path))
        return Chain(path)


# What scanner/pickle_text.c's mg_pickle_unimportable refuses in the part
# of a module name before its first dot.
_NO_IMPORT = set(map(chr, range(0x21))) | set("\x7f!\"#$%&'()*+,/:;<=>?@[\\]^`{|}~")


def no_module(module):
    """True when importing module fails before any code runs, as the
    engine assumes: the first part holds a byte no module name on either
    stack has, and the import system finds nothing by that name here."""
    first = module.split(".", 1)[0]
    if not first or not (set(first) & _NO_IMPORT) or first in sys.modules:
        return False
    try:
        return importlib.util.find_spec(first) is None
    except (ImportError, ValueError):
        return True


def parents(module):
    """'a.b.c' -> ['a', 'a.b']: packages the import system would load."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


class Recording:
    """What one loader call resolved: pairs in order, persistent ids, and
    how many unpickler loads started and how many of them raised."""

    def __init__(self, passthrough=()):
        self.pairs = []
        self.pids = []
        self.loads = 0
        self.failed_loads = 0
        self.passthrough = set(passthrough)

    def resolve(self, pair):
        """Record pair; return what the unpickler gets for it.  A module
        whose import must fail (no_module) raises what the import raises,
        unrecorded: the real loader stops there, resolving nothing."""
        if no_module(pair[0]):
            raise ModuleNotFoundError(f"No module named {pair[0]!r}")
        self.pairs.append(pair)
        if pair in self.passthrough and pair[0] in sys.modules:
            obj = sys.modules[pair[0]]
            for part in pair[1].split("."):
                obj = getattr(obj, part, None)
            if obj is not None:
                return obj
        return Stub

    def load(self, run):
        """Run one unpickler's load (the callable run), counting it and its
        failure."""
        self.loads += 1
        try:
            return run()
        except BaseException:
            self.failed_loads += 1
            raise


def c_resolve(unpickler, module, name):
    """The pair the C find_class of `unpickler` resolves for (module, name),
    found by letting it import recording stub modules."""
    cands = {module}
    if (module, name) in _compat_pickle.NAME_MAPPING:
        cands.add(_compat_pickle.NAME_MAPPING[(module, name)][0])
    if module in _compat_pickle.IMPORT_MAPPING:
        cands.add(_compat_pickle.IMPORT_MAPPING[module])
    pkgs = {p for m in cands for p in parents(m)} - cands
    saved = {m: sys.modules.get(m) for m in cands | pkgs}
    got = []
    try:
        # Parent packages are stubbed too, or importing "a.b" would run
        # a/__init__.py for real.
        for m in pkgs:
            sys.modules[m] = types.ModuleType(m)
            sys.modules[m].__path__ = []
        for m in cands:
            sys.modules[m] = StubModule(m, got)
        ORIG_C_UNPICKLER.find_class(unpickler, module, name)
    finally:
        for m, old in saved.items():
            if old is None:
                sys.modules.pop(m, None)
            else:
                sys.modules[m] = old
    # The stub asked first is the module the C code imported after its own
    # mapping; the chain it walked is the (mapped) name.
    if got:
        return (got[0][0], ".".join(got[0][1]))
    return None


def c_recorder(rec, persistent=False):
    """A C Unpickler subclass recording into rec.  With persistent, every
    persistent id is recorded and answered with a stub, and a loader's own
    persistent_load assigned later (torch) is ignored: it is never run."""

    class CRecorder(ORIG_C_UNPICKLER):
        def find_class(self, module, name):
            pair = c_resolve(self, module, name)
            if pair is None:
                return Stub
            return rec.resolve(pair)

        def load(self):
            return rec.load(super().load)

    def __init_subclass__(cls, **kw):
        # A loader's own subclass (torch's UnpicklerWrapper) may answer some
        # names itself (torch: storage classes, by name) without calling
        # ours: those are resolved too, recorded as the pickle names them.
        super(CRecorder, cls).__init_subclass__(**kw)
        theirs = cls.__dict__.get("find_class")
        if theirs is None:
            return

        def find_class(self, module, name):
            before = len(rec.pairs)
            got = theirs(self, module, name)
            if len(rec.pairs) == before:
                rec.pairs.append((module, name))
            return got
        cls.find_class = find_class

    CRecorder.__init_subclass__ = classmethod(__init_subclass__)

    if persistent:
        def record_pid(pid):
            rec.pids.append(pid_text(pid))
            return Stub()

        # The C unpickler looks persistent_load up once, in __init__; the
        # property hands it the recorder and swallows later assignments.
        CRecorder.persistent_load = property(lambda self: record_pid,
                                             lambda self, value: None)
    return CRecorder


def pid_text(pid):
    """A persistent id, printable (stubs inside it shown as '?')."""
    if isinstance(pid, tuple):
        return "(%s)" % ", ".join(pid_text(p) for p in pid)
    if isinstance(pid, (str, bytes, int, float)) or pid is None:
        return repr(pid)
    return "?"


def py_recorder(rec):
    """A pickle._Unpickler subclass recording into rec (the pure-Python
    unpickler: no persistent_load, as pickle._Unpickler has none)."""

    class PyRecorder(pickle._Unpickler):
        def find_class(self, module, name):
            return rec.resolve(py2_map(self.proto, self.fix_imports, module, name))

        def load(self):
            return rec.load(super().load)

    return PyRecorder


def load_all(cls, data, seen_rec):
    """Load stacked pickles from bytes until EOF with recorder class cls;
    return (pairs, completed, error)."""
    f = io.BytesIO(data)
    while f.tell() < len(data):
        try:
            cls(f).load()
        except Exception as e:  # noqa: BLE001 - any failure ends the prefix
            return set(seen_rec.pairs), False, "%s: %s" % (type(e).__name__, e)
    return set(seen_rec.pairs), True, None


def record_py(data):
    """Globals the pure-Python unpickler resolves in stacked pickles."""
    rec = Recording()
    return load_all(py_recorder(rec), data, rec)


def record_c(data):
    """Globals the C unpickler resolves in stacked pickles (persistent ids
    answered with stubs, as a loader that defines persistent_load would)."""
    rec = Recording()
    return load_all(c_recorder(rec, persistent=True), data, rec)


def scan_many(mg, paths, timeout=600, preexec_fn=None):
    """`modelgate scan --format json` on paths: {path: file object}, or None
    (with stderr) when the output is no JSON document."""
    p = subprocess.run([mg, "scan", "--format", "json"] + list(paths),
                       capture_output=True, text=True, timeout=timeout,
                       preexec_fn=preexec_fn)
    try:
        files = json.loads(p.stdout)["files"]
        return {f["path"]: f for f in files}, None
    except (ValueError, KeyError, TypeError):
        return None, p.stderr[-300:]


def engine_pairs(fobj):
    """The (module, name) set of one scanned file's "globals"."""
    return {(g["module"], g["name"]) for g in fobj.get("globals", [])}
