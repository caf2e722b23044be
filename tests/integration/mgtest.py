"""Helpers for modelgate's Python integration tests.

A test calls check(name, condition, why) once per property it proves; the
runner (tests/integration/run) counts the PASS/FAIL lines.  finish() exits
non-zero if anything failed.
"""
import json
import os
import subprocess
import sys

ROOT = os.environ.get("MG_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
BUILD = os.environ.get("MG_BUILD", os.path.join(ROOT, "build"))
MG = os.environ.get("MG_BIN", os.path.join(BUILD, "modelgate"))
LIB = os.environ.get("MG_LIB", os.path.join(BUILD, "libmodelgate.so"))
# The interpreter of the stack under test (tests/integration/run sets it:
# Debian's /usr/bin/python3, or .venv/bin/python for the modern stack).
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
STACK = os.environ.get("MG_STACK", "debian")
WORK = os.environ.get("MG_WORK", os.getcwd())

# Child-side source for tests that run `PYTHON -c CODE`: torch.load the
# way users load a whole checkpoint (an nn.Module, a legacy .tar, any object
# beyond tensors), i.e. with the full unpickler, weights_only=False.
# torch >= 2.6 defaults weights_only to True, whose own restricted unpickler
# refuses such files (and their payloads) by itself, so a test about what
# the full unpickler would run must ask for it; torch 1.13 has the argument
# too (default False).  Passed only where this torch's torch.load takes it.
TORCH_LOAD_FULL = r'''
def torch_load_full(f, **kw):
    import inspect, torch
    if "weights_only" in inspect.signature(torch.load).parameters:
        kw.setdefault("weights_only", False)
    return torch.load(f, **kw)
'''

_failed = 0


def check(name, ok, why=""):
    """Record one property: PASS name, or FAIL name: why."""
    global _failed
    if ok:
        print(f"PASS {name}", flush=True)
    else:
        _failed += 1
        print(f"FAIL {name}: {why}", flush=True)
    return ok


def skip(name, why):
    """Say that a property was not tested here, and why (never a pass)."""
    print(f"SKIP {name}: {why}", flush=True)


def scan_json(*paths, policy=None):
    """Run `modelgate scan --format json` and return (exit code, document)."""
    cmd = [MG, "scan", "--format", "json"]
    if policy:
        cmd += ["--policy", policy]
    cmd += list(paths)
    p = subprocess.run(cmd, capture_output=True, text=True)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        doc = None
    return p.returncode, doc, p.stderr


def finish():
    sys.exit(1 if _failed else 0)
