"""Fixtures and helpers shared by the test_preload_* integration tests.

Not a test itself (not executable).  Every malicious fixture carries a
harmless, observable payload: it creates a marker file in the test's work
directory.  Fixtures are made here, at test time, with the real libraries
(torch, numpy, joblib, h5py) of the stack under test (mgtest.PYTHON).
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mgtest import BUILD, LIB, MG, PYTHON, TORCH_LOAD_FULL, WORK  # noqa: E402


def marker(tag):
    return os.path.join(WORK, "MARKER-" + tag)


class Evil:
    """Unpickling this runs os.system('touch MARKER-tag')."""

    def __init__(self, tag):
        self.tag = tag

    def __reduce__(self):
        return (os.system, ("touch " + marker(self.tag),))


def preload_env(extra=None, log=None):
    env = dict(os.environ)
    env["LD_PRELOAD"] = LIB
    env.pop("MODELGATE_POLICY", None)
    if log:
        env["MODELGATE_LOG"] = log
    env.update(extra or {})
    return env


def run_py(code, env=None, timeout=300, args=()):
    """Run PYTHON -c CODE (the stack's Python) under the preload; returns
    (returncode, stdout, stderr).  A hang is a failure, not a wait."""
    try:
        p = subprocess.run([PYTHON, "-c", code, *args], capture_output=True,
                           text=True, env=env or preload_env(),
                           timeout=timeout, cwd=WORK)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        return -999, e.stdout or "", (e.stderr or "") + "\n[timed out]"


def results(stdout):
    """The child prints one JSON object per line: {name: outcome}."""
    out = {}
    for line in stdout.splitlines():
        if line.startswith("{"):
            try:
                out.update(json.loads(line))
            except ValueError:
                pass
    return out


def denied_line(stderr, path):
    """The exact contract line: 'modelgate: denied PATH: REASON'."""
    pat = re.compile(r"^modelgate: denied " + re.escape(path) + r": (.+)$",
                     re.M)
    m = pat.search(stderr)
    return m.group(1) if m else None


# Child-side snippet: run a loader, report errno or a summary of success;
# torch_load_full() is torch.load(weights_only=False) where torch has it.
CHILD_PRELUDE = TORCH_LOAD_FULL + r'''
import json, os, sys, errno
def attempt(name, fn):
    try:
        v = fn()
        print(json.dumps({name: {"ok": True, "value": repr(v)[:200]}}), flush=True)
    except OSError as e:
        print(json.dumps({name: {"ok": False, "type": type(e).__name__,
                                 "errno": e.errno, "msg": str(e)[:300]}}), flush=True)
    except Exception as e:
        print(json.dumps({name: {"ok": False, "type": type(e).__name__,
                                 "errno": None, "msg": str(e)[:300]}}), flush=True)
'''
