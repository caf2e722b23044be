"""What hashing costs a user, end to end (run by bench/hash.sh): the first
open() and torch.load of a 1 GB checkpoint in a fresh process with nothing
that needs its hash, and with a log that does (MODELGATE_LOG); and a 10 GB
(sparse) pinned checkpoint opened by a first and then a second process:
hashed once, then a hash-cache hit; a 100 GB (sparse) pinned file, whose
hash outlasts any fixed timeout, opened to the end; and how long a SIGINT
takes to interrupt that open (against SIGINT to a time.sleep).  Each figure against the same step
without the preload, in the same run.  Files in /var/tmp (a disk, not
tmpfs), removed at the end.

usage: hash_open.py BUILD_DIR [CHECKPOINT_MB] [SPARSE_GB] [HUGE_GB]
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1])
MB = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
SPARSE_GB = int(sys.argv[3]) if len(sys.argv) > 3 else 10
HUGE_GB = int(sys.argv[4]) if len(sys.argv) > 4 else 100
LIB = os.path.join(BUILD, "libmodelgate.so")
PY = "/usr/bin/python3"

# Opens a tiny pickle first (it starts the helper), then times the first
# open() of argv[1], or (argv[2] == "load") torch.load of it, whose first
# open it is: the scan, and the hash if one is made, are in that time.
CHILD = r"""
import pickle, sys, time
if sys.argv[2] == 'load':
    import torch
pickle.load(open(sys.argv[3], 'rb'))
t = time.perf_counter()
if sys.argv[2] == 'load':
    torch.load(sys.argv[1])
else:
    open(sys.argv[1], 'rb').close()
print(time.perf_counter() - t)
"""


def child(work, path, load, preload, extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "MODELGATE_POLICY", "MODELGATE_LOG")}
    env["XDG_CACHE_HOME"] = os.path.join(work, "cache")
    if preload:
        env["LD_PRELOAD"] = LIB
        env.update(extra or {})
    p = subprocess.run([PY, "-c", CHILD, path, "load" if load else "open",
                        os.path.join(work, "small.pkl")],
                       capture_output=True, text=True, env=env, cwd=work)
    if p.returncode != 0:
        sys.exit(f"bench child failed: {p.stderr[-800:]}")
    return [float(x) for x in p.stdout.split()]


def best(runs):
    return [min(r[i] for r in runs) for i in range(len(runs[0]))]


def say(name, base, pre, unit):
    k = 1e3 if unit == "ms" else 1.0
    print(f"{name}: without {base * k:.3f} {unit}, with modelgate "
          f"{pre * k:.3f} {unit}, ratio {pre / base if base else 0:.2f}",
          flush=True)


def checkpoint(work):
    path = os.path.join(work, "ckpt.pt")
    subprocess.run([PY, "-c", f"""
import torch
n = int({MB} * (1 << 20) / 4 / 64)
torch.save({{'layer%d' % i: torch.ones(n) for i in range(64)}}, {path!r})
"""], check=True)
    time.sleep(2.1)  # past the hash cache's racy window
    child(work, path, False, False)  # page cache warm
    log = {"MODELGATE_LOG": os.path.join(work, "audit.log")}
    runs = {k: [] for k in ("bo", "po", "lo", "bl", "pl")}
    for _ in range(2):  # interleaved, best of 2: neighbours' load hits all
        runs["bo"].append(child(work, path, False, False))
        runs["po"].append(child(work, path, False, True))
        runs["lo"].append(child(work, path, False, True, log))
        shutil.rmtree(os.path.join(work, "cache"), ignore_errors=True)
        runs["bl"].append(child(work, path, True, False))
        runs["pl"].append(child(work, path, True, True))
    r = {k: best(v)[0] for k, v in runs.items()}
    gb = os.path.getsize(path) / (1 << 30)
    say(f"first open() of a {gb:.2f} GB checkpoint, no pins or log (scan only)",
        r["bo"], r["po"], "ms")
    say("first open() of it with MODELGATE_LOG (scan + SHA-256, cache cold)",
        r["bo"], r["lo"], "ms")
    say("torch.load of it in a fresh process, no pins or log", r["bl"],
        r["pl"], "s")
    os.unlink(path)


def pinned(work, name, path, hexd):
    """A policy NAME.conf pinning @path to @hexd through NAME.lock; the
    environment that selects it.  Waits past the hash cache's racy window."""
    with open(os.path.join(work, name + ".lock"), "w") as f:
        f.write(f"{hexd}  {path}\n")
    with open(os.path.join(work, name + ".conf"), "w") as f:
        f.write(f"[pins]\nlockfile = {os.path.join(work, name + '.lock')}\n")
    time.sleep(2.1)
    return {"MODELGATE_POLICY": os.path.join(work, name + ".conf")}


def sparse_pinned(work):
    path = os.path.join(work, "sparse.pt")
    with open(path, "wb") as f:
        f.truncate(SPARSE_GB << 30)
    hexd = subprocess.run(["openssl", "dgst", "-sha256", "-r", path],
                          capture_output=True, text=True, check=True).stdout.split()[0]
    pol = pinned(work, "pins", path, hexd)
    shutil.rmtree(os.path.join(work, "cache"), ignore_errors=True)
    base = best([child(work, path, False, False) for _ in range(3)])[0]
    first = child(work, path, False, True, pol)[0]
    second = best([child(work, path, False, True, pol) for _ in range(3)])[0]
    say(f"first process's open() of a {SPARSE_GB} GB pinned (sparse) file "
        "(SHA-256)", base, first, "ms")
    say("second process's open() of it (hash cache hit)", base, second, "ms")
    os.unlink(path)


# Waits for "ready" (helper up), then either opens argv[1] to the end
# (argv[2] == "open") or, for the SIGINT figure, opens it or sleeps
# (argv[2] == "sleep") until the parent's SIGINT.
INTERRUPTED = r"""
import json, pickle, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
pickle.load(open(sys.argv[3], 'rb'))
print('ready', flush=True)
t = time.monotonic()
r = {}
try:
    if sys.argv[2] == 'sleep':
        time.sleep(600)
    else:
        open(sys.argv[1], 'rb').close()
        r['opened'] = True
except KeyboardInterrupt:
    r['kbint'] = time.monotonic()
except OSError as e:
    r['errno'] = e.errno
r['took'] = time.monotonic() - t
print(json.dumps(r), flush=True)
"""


def interrupted(work, path, how, pol, after):
    """Run INTERRUPTED; SIGINT it AFTER seconds past "ready" (None: never).
    Returns (its result, seconds from our kill() to its KeyboardInterrupt
    as both see CLOCK_MONOTONIC)."""
    import json
    import signal
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "MODELGATE_POLICY", "MODELGATE_LOG")}
    env["XDG_CACHE_HOME"] = os.path.join(work, "cache")
    if pol is not None:
        env["LD_PRELOAD"] = LIB
        env.update(pol)
    p = subprocess.Popen([PY, "-c", INTERRUPTED, path, how,
                          os.path.join(work, "small.pkl")], env=env, cwd=work,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdout.readline()
    sent = None
    if after is not None:
        time.sleep(after)
        sent = time.monotonic()
        p.send_signal(signal.SIGINT)
    out, err = p.communicate()
    r = json.loads(out.strip().splitlines()[-1]) if out.strip() else {"err": err[-300:]}
    lat = r["kbint"] - sent if sent is not None and "kbint" in r else None
    return r, lat, err


def huge_pinned(work):
    path = os.path.join(work, "huge.pt")
    with open(path, "wb") as f:
        f.truncate(HUGE_GB << 30)
    import hashlib
    h, buf = hashlib.sha256(), bytearray(8 << 20)
    t = time.perf_counter()
    with open(path, "rb", buffering=0) as f:  # Python's own hash of it:
        while (n := f.readinto(buf)):            # the side-by-side baseline
            h.update(memoryview(buf)[:n])
    t_py = time.perf_counter() - t
    hexd = h.hexdigest()
    pol = pinned(work, "huge", path, hexd)
    lats, bases = [], []
    for _ in range(3):  # SIGINT 1 s into the hash; nothing is cached
        r, lat, err = interrupted(work, path, "open", pol, 1.0)
        if lat is None:
            sys.exit(f"SIGINT did not interrupt the open: {r} {err[-300:]}")
        lats.append(lat)
        bases.append(interrupted(work, path, "sleep", None, 1.0)[1])
    say("SIGINT to KeyboardInterrupt during that first open (vs during a "
        "time.sleep without the preload)", min(bases), min(lats), "ms")
    r, _, err = interrupted(work, path, "open", pol, None)
    print(f"first open() of a {HUGE_GB} GB pinned (sparse) file to the end: "
          f"{'allowed' if r.get('opened') else 'NOT allowed ' + repr(r) + err[-300:]} "
          f"after {r.get('took', 0):.1f} s; Python's hashlib.sha256 of it "
          f"{t_py:.1f} s, ratio {r.get('took', 0) / t_py:.2f} (no fixed "
          "timeout: the helper reports progress)", flush=True)
    os.unlink(path)


def main():
    work = tempfile.mkdtemp(prefix="mghash-open.", dir="/var/tmp")
    try:
        import pickle
        with open(os.path.join(work, "small.pkl"), "wb") as f:
            pickle.dump([1, 2, 3], f)
        checkpoint(work)
        sparse_pinned(work)
        if HUGE_GB > 0:
            huge_pinned(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
