#!/usr/bin/python3
"""Benchmark: `modelgate scan` time on large torch.save checkpoints.

Claim under test (DESIGN.md, scanner principle 5): scan time does not depend
on tensor bytes and grows linearly with tensor count.  Two series, each file
written by the real torch.save (state_dict of float32 zero tensors), scanned
with `modelgate scan --format json`, best of --repeat runs, then deleted:

  A. fixed total size, 2,000 / 5,000 / 20,000 tensors
  B. fixed count (20,000 tensors), 0.2 / 1 / 2 GB

plus the legacy (non-zip) format.  Two times per file: "engine" is
mg_scan_fd alone (bench/scan_timer.c, compiled here against the build's
libmgcore.a), "cli" is the whole `modelgate scan --format json`, which also
hashes the file (SHA-256, for pins; the policy layer may cache the hash), so
its first run grows with bytes.  The engine's time is given twice: wall
(what a user waits) and CPU time (what it costs; unlike wall time, not
inflated by waiting for a core on a shared machine).  Prints
one line per file and the ratios that matter, on engine time:
time(20k)/time(2k) near 10 (linear in count) and time(2 GB)/time(0.2 GB)
near 1 (independent of bytes).

usage: bench/torch_scan.py [--mg PATH] [--dir DIR] [--scale F] [--repeat N]
  --scale 0.1 divides every size by ten (a quick run); the file system needs
  about 2.1 GB free at --scale 1 (one file exists at a time).
Exit status 1 if a scan fails or a checkpoint is not clean.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timer import build_timer  # noqa: E402

import torch

GB = 1 << 30


def write_checkpoint(path, count, total_bytes, legacy=False):
    numel = max(1, total_bytes // (4 * count))
    sd = {f"layer{i}.weight": torch.zeros(numel) for i in range(count)}
    torch.save(sd, path, _use_new_zipfile_serialization=not legacy)
    del sd


def engine_time(timer, path, repeat):
    """Best wall and best CPU time (s) of mg_scan_fd over @repeat runs."""
    best, cpu, verdict = None, None, None
    for _ in range(repeat):
        p = subprocess.run([timer, path], capture_output=True, text=True)
        f = p.stdout.split()
        if p.returncode != 0 or len(f) < 3:
            return float("nan"), float("nan"), "timer-failed: " + p.stderr[-200:]
        ms, cms, verdict = float(f[0]) / 1000, float(f[1]) / 1000, f[2]
        best = ms if best is None else min(best, ms)
        cpu = cms if cpu is None else min(cpu, cms)
    return best, cpu, verdict


def scan_time(mg, path, repeat):
    best, verdict = None, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = subprocess.run([mg, "scan", "--format", "json", path],
                           capture_output=True, text=True)
        dt = time.perf_counter() - t0
        try:
            verdict = json.loads(p.stdout)["files"][0]["verdict"]
        except (ValueError, KeyError, IndexError):
            verdict = "no-json(exit %d): %s" % (p.returncode, p.stderr[-200:])
        best = dt if best is None else min(best, dt)
    return best, verdict


def run_point(args, count, size, legacy=False):
    fd, path = tempfile.mkstemp(suffix=".pt", dir=args.dir)
    os.close(fd)
    try:
        t0 = time.perf_counter()
        write_checkpoint(path, count, size, legacy)
        wt = time.perf_counter() - t0
        fsize = os.path.getsize(path)
        et, ec, verdict = engine_time(args.timer, path, args.repeat)
        ct, cverdict = scan_time(args.mg, path, args.repeat)
    finally:
        os.unlink(path)
    print(f"{'legacy' if legacy else 'zip':6} tensors={count:6d} "
          f"file={fsize / GB:6.3f} GB  save={wt:6.2f} s  "
          f"engine={et * 1000:8.1f} ms ({et * 1e6 / count:5.2f} us/tensor, "
          f"cpu {ec * 1e6 / count:5.2f} us/tensor)  "
          f"cli={ct * 1000:8.1f} ms  verdict={verdict}/{cverdict}", flush=True)
    return et, ec, verdict if verdict == cverdict else f"{verdict}/{cverdict}"


def main():
    ap = argparse.ArgumentParser()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--mg", default=os.environ.get(
        "MG_BIN", os.path.join(root, "build", "modelgate")))
    ap.add_argument("--dir", default=tempfile.gettempdir())
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mgbench-") as tmp:
        args.timer = os.path.join(tmp, "scan_timer")
        build_timer(args.mg, args.timer)
        sys.exit(0 if run_all(args) else 1)


def run_all(args):
    s = args.scale
    ok = True
    res = {}
    print(f"# modelgate: {args.mg}; sizes x{s}; best of {args.repeat}")
    for count in (2000, 5000, 20000):
        res[("A", count)] = run_point(args, count, int(1 * GB * s))
    for size in (0.2, 1.0, 2.0):
        key = ("B", size)
        if size == 1.0:
            res[key] = res[("A", 20000)]
        else:
            res[key] = run_point(args, 20000, int(size * GB * s))
    res["legacy"] = run_point(args, 20000, int(1 * GB * s), legacy=True)
    for k, (_, _, v) in res.items():
        if v != "clean":
            print(f"FAIL {k}: verdict {v}")
            ok = False
    for i, what in ((0, "wall"), (1, "cpu")):
        a = res[("A", 20000)][i] / res[("A", 2000)][i]
        b = res[("B", 2.0)][i] / res[("B", 0.2)][i]
        print(f"engine ratio ({what}) time(20,000 tensors)/time(2,000 "
              f"tensors), fixed size: {a:.2f} (linear in count: ~10)")
        print(f"engine ratio ({what}) time(2 GB)/time(0.2 GB), 20,000 "
              f"tensors: {b:.2f} (independent of bytes: ~1)")
    return ok


if __name__ == "__main__":
    main()
