#!/usr/bin/python3
"""bench/soak.py - does a long-lived helper's memory stay flat?

One Python process under LD_PRELOAD opens model files in many formats
SOAK_REQUESTS times (default 100,000; `SOAK_REQUESTS=1000000 make bench`
for the full soak).  Before every open the file's mtime is set to a new
value (os.utime, which also moves its ctime), so the preload's verdict
cache, keyed on (dev, ino, size, mtime, ctime), never hits: every open is
one scan by the same helper.  Nothing here speaks the helper's protocol;
the helper's processes are found in /proc (the `modelgate helper`
processes of our uid that were not there before the first open), so the
soak keeps working whatever the round trip becomes.

The pool: pickle (clean, and an os.system one that must be denied), torch
zip and legacy, npy, npz, joblib plain and zlib, Keras .h5 and .keras,
safetensors, GGUF, .pkl.gz/.bz2/.xz/.lz4, a tar-wrapped pickle.  Every
97th request is one of the "large" files instead (a 1.5 MB Keras config in
an .h5, a .pkl.gz that inflates to 8 MB, a zlib joblib of a 4 MB array),
whose buffers come and go in the helper's heap between the small ones.

Figures: the helper workers' VmRSS (the sum over workers, and the largest
one) after the first request, after the first pass over the pool
("start") and at the end, with the growth as a ratio end/start, and the
sum at every eighth of the run; requests per second and wall time.  Each
file's decision (allowed, or the errno of the denial) must stay what it
was at its first open: a change is a failure (exit 1), as is a clean file
denied or the malicious one allowed.

Usage: bench/soak.py [BUILD_DIR]   (env SOAK_REQUESTS, BENCH_DIR).
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1
                        else os.path.join(ROOT, "build"))
LIB = os.path.join(BUILD, "libmodelgate.so")
BIN = os.path.join(BUILD, "modelgate")
PY = "/usr/bin/python3"
REQUESTS = int(os.environ.get("SOAK_REQUESTS", "100000"))

# Written without the preload, by the Debian stack (torch, numpy, h5py,
# joblib, lz4 are all there); the fixture generators give the bytes of the
# formats no Debian package writes.
MAKE_POOL = r"""
import bz2, gzip, io, json, lzma, os, pickle, sys, tarfile
import h5py, joblib, lz4.frame, numpy as np, torch
sys.path.insert(0, os.path.join(sys.argv[2], "tests", "fixtures"))
import gen_keras as gk, gen_tensorfiles as gt
out = sys.argv[1]
def put(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
class Shell:
    def __reduce__(self):
        return (os.system, ("true",))
obj = {"w": list(range(1000)), "name": "soak", "f": [1.5] * 100}
pkl = pickle.dumps(obj, protocol=4)
put("model.pkl", pkl)
put("evil.pkl", pickle.dumps({"x": Shell()}, protocol=2))
sd = {"w": torch.arange(256.0), "b": torch.zeros(4, dtype=torch.int64)}
torch.save(sd, os.path.join(out, "model.pt"))
torch.save(sd, os.path.join(out, "legacy.pt"),
           _use_new_zipfile_serialization=False)
np.save(os.path.join(out, "array.npy"), np.arange(64.0).reshape(8, 8))
np.savez_compressed(os.path.join(out, "arrays.npz"), a=np.arange(100),
                    b=np.ones(10))
joblib.dump({"a": np.arange(1000), "n": "x"}, os.path.join(out, "est.joblib"))
joblib.dump({"a": np.arange(1000), "n": "x"}, os.path.join(out, "estz.joblib"),
            compress=3)
gk.write_h5(os.path.join(out, "keras.h5"),
            gk.sequential([gk.dense("dense", 2)]))
gk.write_keras_zip(os.path.join(out, "model.keras"),
                   gk.sequential([gk.dense("dense", 2)]))
put("model.safetensors", gt.st_valid()[0])
put("model.gguf", gt.gguf_bytes(
    [kv for kv in gt.gguf_kvs() if kv[0] != "tokenizer.ggml.tokens"]))
put("model.pkl.gz", gzip.compress(pkl))
put("model.pkl.bz2", bz2.compress(pkl))
put("model.pkl.xz", lzma.compress(pkl))
put("model.pkl.lz4", lz4.frame.compress(pkl))
with tarfile.open(os.path.join(out, "ckpt.pth.tar"), "w") as t:
    info = tarfile.TarInfo("model.pkl")
    info.size = len(pkl)
    t.addfile(info, io.BytesIO(pkl))
gk.write_h5(os.path.join(out, "large.h5"),
            gk.sequential([gk.dense("d%d" % i, 2) for i in range(5000)]))
put("large.pkl.gz", gzip.compress(pickle.dumps(b"\0" * (8 << 20), protocol=4)))
joblib.dump({"a": np.zeros(1 << 20, np.float32)},
            os.path.join(out, "large.joblib"), compress=3)
"""

# Runs under the preload.  argv: pool dir, requests, helper binary.
SOAK = r"""
import errno, json, os, sys, time
pool, n, helper_bin = sys.argv[1], int(sys.argv[2]), os.path.realpath(sys.argv[3])
names = sorted(os.listdir(pool))
large = [x for x in names if x.startswith("large.")]
small = [x for x in names if not x.startswith("large.")]

def helpers():
    found = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            if os.stat("/proc/" + p).st_uid != os.getuid():
                continue
            if os.path.realpath("/proc/%s/exe" % p) != helper_bin:
                continue
            with open("/proc/%s/cmdline" % p, "rb") as f:
                argv = f.read().split(b"\0")
            if len(argv) < 2 or argv[1] != b"helper":
                continue
            with open("/proc/%s/status" % p) as f:
                st = dict(l.split(":", 1) for l in f if ":" in l)
            found[int(p)] = int(st["VmRSS"].split()[0])
        except (OSError, KeyError, ValueError):
            continue
    return found

before = set(helpers())
decided = {}
stamp = time.time_ns()

def one(k, name):
    path = os.path.join(pool, name)
    t = stamp + k * 1000
    os.utime(path, ns=(t, t))
    try:
        os.close(os.open(path, os.O_RDONLY))
        got = 0
    except OSError as e:
        got = e.errno
    if decided.setdefault(name, got) != got:
        sys.exit("soak: %s: decision changed at request %d: %s, first %s"
                 % (path, k, os.strerror(got) if got else "allowed",
                    os.strerror(decided[name]) if decided[name] else "allowed"))

def rss():
    now = {p: r for p, r in helpers().items() if p not in before}
    return sum(now.values()), max(now.values(), default=0), len(now)

one(0, small[0])
up = rss()                          # the helper has just come up
k = 1
for name in small + large:          # one pass: every reader has run once
    one(k, name)
    k += 1
start = rss()
t0 = time.perf_counter()
marks = []
i = 0
while k < n:
    if k % 97 == 0:
        one(k, large[(k // 97) % len(large)])
    else:
        one(k, small[i % len(small)])
        i += 1
    k += 1
    if k % max(1, n // 8) == 0:
        marks.append((k, rss()[0]))
wall = time.perf_counter() - t0
end = rss()
print(json.dumps({"up": up, "start": start, "end": end, "marks": marks,
                  "requests": k, "timed": k - 1 - len(names), "wall": wall,
                  "decided": decided}))
"""


def main():
    work = os.environ.get("BENCH_DIR") or tempfile.mkdtemp()
    pool = os.path.join(work, "soak-pool")
    os.makedirs(pool, exist_ok=True)
    subprocess.run([PY, "-c", MAKE_POOL, pool, ROOT], check=True,
                   env={k: v for k, v in os.environ.items()
                        if k != "LD_PRELOAD"})
    env = dict(os.environ)
    env.pop("MODELGATE_POLICY", None)
    env["LD_PRELOAD"] = LIB
    p = subprocess.run([PY, "-c", SOAK, pool, str(REQUESTS), BIN], env=env,
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("soak failed: " + (p.stderr or p.stdout)[-800:])
    r = json.loads(p.stdout.splitlines()[-1])
    bad = [n for n, e in r["decided"].items()
           if (e != 0) != (n == "evil.pkl")]
    if bad:
        sys.exit("soak: unexpected decisions: " + ", ".join(
            "%s %s" % (n, os.strerror(r["decided"][n]) if r["decided"][n]
                       else "allowed") for n in sorted(bad)))
    (s_sum, s_max, s_n), (e_sum, e_max, e_n) = r["start"], r["end"]
    u_sum, u_max, u_n = r["up"]
    print(f"soak: {r['requests']} requests ({len(r['decided'])} files, "
          f"every open a scan), {r['timed'] / r['wall']:.0f} requests/s, "
          f"wall {r['wall']:.1f} s", flush=True)
    print(f"soak helper RSS after its first request: {u_n} workers, sum "
          f"{u_sum / 1024:.1f} MB, largest {u_max / 1024:.1f} MB", flush=True)
    print(f"soak helper RSS, {s_n} workers at start (after one pass over "
          f"the pool), {e_n} at end: "
          f"sum start {s_sum / 1024:.1f} MB, end {e_sum / 1024:.1f} MB, "
          f"ratio {e_sum / s_sum if s_sum else float('inf'):.2f}; "
          f"largest worker start {s_max / 1024:.1f} MB, end "
          f"{e_max / 1024:.1f} MB, ratio "
          f"{e_max / s_max if s_max else float('inf'):.2f}", flush=True)
    print("soak helper RSS sum along the way (requests: MB): " + ", ".join(
        f"{k}: {v / 1024:.1f}" for k, v in r["marks"]), flush=True)


if __name__ == "__main__":
    main()
