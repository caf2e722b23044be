"""Shared by scripts/gen-pack-*: record what real loaders resolve, write a .list.

Not a script itself.  A generator makes real objects with the installed
library, writes them the way the library writes them (pickle.dumps,
torch.save, joblib.dump, to_pickle, Trainer checkpoints ...) and loads them
back through a pickle.Unpickler whose find_class records every
(module, name) the loader resolves.  What the loader resolves is the ground
truth of what a pack must allow (DESIGN.md, scanner principle 1).

Then every recorded pair is sorted into one of:
  - core:     already allowed by the embedded tables (policy/globals.c);
              shown as a comment, never repeated in a pack;
  - other:    owned by another pack or by another table's generator (numpy
              core and random names, torch names): a comment that names who;
  - rejected: the generator's REJECT table says why it may not be allowed
              (a callable that takes a callable, or loads/imports/evals/
              opens anything), or the embedded deny-list denies it;
  - entry:    goes into the pack, with a "why" comment where the generator's
              REVIEW table has one (every questionable entry must).
"""
import io
import os
import pickle
import re
import sys
import types

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

# Never in a pack, whatever a pickle holds (module prefixes).
NEVER = ("builtins", "__builtin__", "os", "posix", "subprocess", "sys",
         "importlib", "runpy", "pickle", "_pickle", "shutil", "socket",
         "types", "code", "operator", "functools", "io", "_io", "copyreg")


def is_dunder(s):
    return any(p.startswith("__") and p.endswith("__") and len(p) >= 4
               for p in re.split(r"[.:]", s))


def embedded_tables():
    """(allow, deny) from policy/globals.c: sets of 'module:name', and the
    denied whole modules ('module:*')."""
    src = open(os.path.join(ROOT, "policy/globals.c"), encoding="utf-8").read()
    out = []
    for tab in ("allow_tab", "deny_tab"):
        m = re.search(tab + r"\[\]\s*=\s*\{(.*?)\n\};", src, re.S)
        if m is None:
            sys.exit(f"packrec: cannot find {tab} in policy/globals.c")
        out.append({f"{a}:{b}" for a, b in
                    re.findall(r'\{\s*"([^"]+)",\s*"([^"]+)"', m.group(1))})
    return out[0], out[1]


def denied(key, deny):
    mod, name = key.split(":", 1)
    if key in deny:
        return True
    parts = mod.split(".")
    return any(".".join(parts[:i]) + ":*" in deny for i in range(1, len(parts) + 1))


class Recorder:
    """Collects {'module:name': set(of sources)} from real loads."""

    def __init__(self):
        self.seen = {}
        self.tag = "?"
        rec = self

        class Unpickler(pickle.Unpickler):
            def find_class(self, module, name):
                rec.seen.setdefault(f"{module}:{name}", set()).add(rec.tag)
                return super().find_class(module, name)

        self.Unpickler = Unpickler
        # What torch.load(pickle_module=...) needs: it subclasses
        # pickle_module.Unpickler and calls its find_class.
        self.module = types.SimpleNamespace(
            Unpickler=Unpickler, __name__="packrec",
            load=lambda f, **kw: Unpickler(f, **kw).load())

    def pickle_bytes(self, data, tag):
        self.tag = tag
        return self.Unpickler(io.BytesIO(data)).load()

    def pickle_file(self, path, tag):
        with open(path, "rb") as f:
            return self.pickle_bytes(f.read(), tag)

    def torch_file(self, path, tag):
        """torch.load as a resuming Trainer/Lightning would, recording."""
        import torch
        self.tag = tag
        return torch.load(path, map_location="cpu", weights_only=False,
                          pickle_module=self.module)

    def joblib_file(self, path, tag):
        import joblib.numpy_pickle as jnp
        orig = jnp.NumpyUnpickler.find_class
        rec = self

        def find_class(self_, module, name):
            rec.seen.setdefault(f"{module}:{name}", set()).add(tag)
            return orig(self_, module, name)

        jnp.NumpyUnpickler.find_class = find_class
        try:
            return jnp.load(path)
        finally:
            jnp.NumpyUnpickler.find_class = orig


def normalise(seen):
    """Python 2 names as the loader maps them (fix_imports, what protocol
    < 3 streams such as torch.save's get): __builtin__:long is builtins:int."""
    import _compat_pickle as cp
    out = {}
    for key, src in seen.items():
        mod, name = key.split(":", 1)
        if (mod, name) in cp.NAME_MAPPING:
            mod, name = cp.NAME_MAPPING[(mod, name)]
        elif mod in cp.IMPORT_MAPPING:
            mod = cp.IMPORT_MAPPING[mod]
        out.setdefault(f"{mod}:{name}", set()).update(src)
    return out


def classify(seen, owner=None, reject=None):
    """Sort recorded keys: returns (entries, comments) where entries is a
    sorted list and comments a list of '# ...' lines.  owner(key) returns
    the name of whoever owns a key (another pack, another table) or None;
    reject maps key -> reason."""
    allow, deny = embedded_tables()
    reject = reject or {}
    seen = normalise(seen)
    entries, core, other, rejected = [], [], [], []
    for key in sorted(seen, key=lambda s: s.encode()):
        mod = key.split(":", 1)[0]
        src = ", ".join(sorted(seen[key])[:3])
        who = owner(key) if owner else None
        if key in allow:
            core.append(f"#   {key}  ({src})")
        elif is_dunder(key):
            rejected.append(f"#   {key}: dunder name, never allowed  ({src})")
        elif key in reject:
            rejected.append(f"#   {key}: {reject[key]}  ({src})")
        elif denied(key, deny):
            rejected.append(f"#   {key}: on the embedded deny-list  ({src})")
        elif mod.split(".")[0] in NEVER:
            rejected.append(f"#   {key}: module never packed  ({src})")
        elif who:
            other.append(f"#   {key}: {who}  ({src})")
        else:
            entries.append(key)
    comments = []
    if core:
        comments += ["# Recorded, already allowed by the embedded tables "
                     "(policy/globals.c), not repeated:"] + core
    if other:
        comments += ["# Recorded, owned elsewhere (another pack or table), "
                     "not repeated:"] + other
    if rejected:
        comments += ["# Recorded and deliberately NOT allowed (a file that "
                     "needs one stays unknown or is denied):"] + rejected
    return entries, comments, seen


def emit(out, pack, version, what, header, entries, comments, review, seen):
    """Write a .list: the header gen-packs reads, the generator's notes,
    the comments from classify(), then each entry (with its review note
    and where it was seen)."""
    w = out.write
    w(f"# pack: {pack}\n# version: {version}\n# what: {what}\n")
    for line in header:
        w(f"# {line}\n" if line else "#\n")
    w("# Generated: do not edit by hand (regenerate with the script named above).\n")
    for c in comments:
        w(c + "\n")
    for key in entries:
        src = ", ".join(sorted(seen.get(key, ()))[:3]) if key in seen else ""
        if key in review:
            w(f"# REVIEWED: {review[key]}\n")
        if src:
            w(f"# seen in: {src}\n")
        w(key + "\n")


def enum_members(seen):
    """Add 'module:Class.MEMBER' for every member of each recorded Enum
    class.  Python 3.11's Enum.__reduce_ex__ writes a member as
    getattr(Class, 'MEMBER'); the dotted pair is what that getattr reads,
    the way a protocol-4 STACK_GLOBAL of 'Class.MEMBER' spells it."""
    import enum
    import importlib
    for key in list(seen):
        mod, name = key.split(":", 1)
        try:
            obj = importlib.import_module(mod)
            for part in name.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError):
            continue
        if isinstance(obj, type) and issubclass(obj, enum.Enum):
            for member in obj.__members__:
                seen.setdefault(f"{key}.{member}", set()).add(
                    f"member of {name} (Enum, pickled by name)")
