"""The real loaders, recording: what each one resolves in a file.

Every loader here is the library's own entry point, made to use diffrec's
recording unpicklers (nothing the file names is imported or called):

  torch.load         pickle_module= a module whose Unpickler is a recording
                     C unpickler (torch subclasses it as UnpicklerWrapper and
                     calls super().find_class after its own storage-name and
                     module mapping) and whose load is one (torch's legacy
                     format calls pickle_module.load for its metadata
                     pickles); weights_only=False, so the full unpickler runs.
                     torch 1.13 ignores pickle_module when weights_only is
                     False (it sets pickle_module = pickle, its module
                     global): torch.serialization.pickle is that module too,
                     for the call.
                     Persistent ids are recorded and answered with stubs:
                     torch's persistent_load never runs.  A TorchScript
                     archive (constants.pkl) would go to torch.jit.load,
                     which is not recorded: refused.
  torch.load-mmap    the same with mmap=True (torch >= 2.1).
  np.load            allow_pickle=True; numpy's format.read_array and
                     npyio.load call pickle.load (module attribute, at call
                     time), patched for the call.  An npz is read member by
                     member, every name NpzFile.files lists.
  joblib.load        joblib's NumpyUnpickler subclasses pickle._Unpickler
                     (bound at import) and does not override find_class, so
                     pickle._Unpickler.find_class is patched for the call;
                     joblib < 1.5 reads an object array's nested pickle with
                     pickle.load, >= 1.5 with a pickle._Unpickler routed to
                     the same find_class: both patched.
  pandas.read_pickle compression inferred from the name; pickle.load first,
                     then pandas' compat Unpickler (a pickle._Unpickler whose
                     find_class calls super()): both patched.
  pickle-gzip/-bz2/-lzma  pickle.load(gzip.open(path)) etc.
  pickle             pickle.load(open(path, "rb")).

run(loader, path) returns a Result; never raises for the file's sake.
"""
import bz2
import contextlib
import gzip
import inspect
import io
import lzma
import pickle
import sys
import types
import warnings

from diffrec import ORIG_PY_FIND_CLASS, Recording, c_recorder, py2_map

_ORIG_PY_LOAD = pickle._Unpickler.load


class Result:
    """pairs resolved, persistent ids, loads started/failed, the exception
    the loader ended with (None: it returned)."""

    def __init__(self, rec, error):
        self.pairs = set(rec.pairs)
        self.pids = list(rec.pids)
        self.loads = rec.loads
        self.failed_loads = rec.failed_loads
        self.error = error

    @property
    def whole(self):
        """Every unpickler load the loader started ran to its STOP."""
        return self.failed_loads == 0 and self.loads > 0


def numpy_passthrough():
    """numpy/joblib data types a loader needs back to walk its container."""
    pairs = {("numpy", "dtype"), ("numpy", "ndarray"),
             ("joblib.numpy_pickle", "NumpyArrayWrapper")}
    return pairs


def torch_passthrough():
    """torch's storage classes: the legacy tar format reads storage_type.dtype
    from its 'storages' pickles before it reaches the main pickle."""
    torch = sys.modules.get("torch")
    if torch is None:
        return set()
    return {("torch", n) for n in dir(torch) if n.endswith("Storage")}


@contextlib.contextmanager
def patched_pickle(rec):
    """pickle.load / loads / Unpickler and pickle._Unpickler's find_class
    and load, recording into rec, for the duration."""
    C = c_recorder(rec)

    def load(file, **kw):
        return C(file, **kw).load()

    def loads(data, **kw):
        return C(io.BytesIO(data), **kw).load()

    def find_class(self, module, name):
        return rec.resolve(py2_map(self.proto, self.fix_imports, module, name))

    def py_load(self):
        return rec.load(lambda: _ORIG_PY_LOAD(self))

    saved = (pickle.load, pickle.loads, pickle.Unpickler)
    pickle.load, pickle.loads, pickle.Unpickler = load, loads, C
    pickle._Unpickler.find_class = find_class
    pickle._Unpickler.load = py_load
    try:
        yield
    finally:
        pickle.load, pickle.loads, pickle.Unpickler = saved
        pickle._Unpickler.find_class = ORIG_PY_FIND_CLASS
        pickle._Unpickler.load = _ORIG_PY_LOAD


def torch_module(rec):
    """The pickle_module torch.load gets."""
    mod = types.ModuleType("mg_recording_pickle")
    plain = c_recorder(rec)
    mod.Unpickler = c_recorder(rec, persistent=True)
    mod.load = lambda f, **kw: plain(f, **kw).load()
    mod.loads = lambda b, **kw: plain(io.BytesIO(b), **kw).load()
    # Anything else torch.serialization asks its pickle for (constants,
    # exception classes) is the real module's.
    mod.__getattr__ = lambda name: getattr(pickle, name)
    return mod


def _torch(path, rec, **extra):
    import torch
    with open(path, "rb") as f:
        if b"constants.pkl" in f.read():
            raise RuntimeError("TorchScript archive: torch.jit.load, not recorded")
    mod = torch_module(rec)
    kw = dict(map_location="cpu", pickle_module=mod)
    if "weights_only" in inspect.signature(torch.load).parameters:
        kw["weights_only"] = False
    kw.update(extra)
    ser = sys.modules["torch.serialization"]
    saved = ser.pickle
    ser.pickle = mod
    try:
        with patched_pickle(rec):
            torch.load(path, **kw)
    finally:
        ser.pickle = saved


def _torch_mmap(path, rec):
    _torch(path, rec, mmap=True)


def _np(path, rec):
    import numpy as np
    with patched_pickle(rec):
        got = np.load(path, allow_pickle=True)
        if hasattr(got, "files"):
            with got:
                for k in got.files:
                    got[k]


def _joblib(path, rec):
    import joblib
    with patched_pickle(rec):
        joblib.load(path)


def _pandas(path, rec):
    import pandas
    with patched_pickle(rec):
        pandas.read_pickle(path)


def _opener(fn):
    def run(path, rec):
        with patched_pickle(rec), fn(path, "rb") as f:
            pickle.load(f)
    return run


LOADERS = {
    "torch.load": (_torch, torch_passthrough),
    "torch.load-mmap": (_torch_mmap, torch_passthrough),
    "np.load": (_np, numpy_passthrough),
    "joblib.load": (_joblib, numpy_passthrough),
    "pandas.read_pickle": (_pandas, numpy_passthrough),
    "pickle-gzip": (_opener(gzip.open), set),
    "pickle-bz2": (_opener(bz2.open), set),
    "pickle-lzma": (_opener(lzma.open), set),
    "pickle": (_opener(open), set),
}


def available(loader):
    """None if this stack has the loader, else why not."""
    need = {"torch.load": "torch", "torch.load-mmap": "torch",
            "np.load": "numpy", "joblib.load": "joblib",
            "pandas.read_pickle": "pandas"}.get(loader)
    if need is None:
        return None
    try:
        mod = __import__(need)
    except ImportError:
        return "%s is not installed in this stack" % need
    if loader == "torch.load-mmap" and \
            "mmap" not in inspect.signature(mod.load).parameters:
        return "torch %s has no mmap=" % mod.__version__
    return None


def run(loader, path):
    """Load path with the recording loader; a Result."""
    fn, passthrough = LOADERS[loader]
    rec = Recording(passthrough())
    error = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn(path, rec)
        except Exception as e:  # noqa: BLE001 - the file may be anything
            error = "%s: %s" % (type(e).__name__, str(e)[:200])
    return Result(rec, error)
