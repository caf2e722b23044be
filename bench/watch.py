"""bench_watch: per-open cost under `modelgate watch`, as ratios.

In a private mount namespace (bench_watch), a tmpfs holds a text file and
a small benign pickle.  A Python loop opens and closes one of them N times
(os.open: one openat each); the figure is ns per open.  Each round runs the
baseline (no daemon) and the daemon (`modelgate watch` on the tmpfs,
default policy) back to back; three rounds, the median of each.  The model
is scanned once (its first open, before the timed loop) and then a cache
hit; the text file is never a candidate.
"""
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("MG_BIN", "build/modelgate")
N = int(os.environ.get("BENCH_WATCH_OPENS", "20000"))
LOOP = """
import os, sys, time
p, n = sys.argv[1], int(sys.argv[2])
fd = os.open(p, os.O_RDONLY); os.close(fd)  # the first open: a scan
t = time.perf_counter_ns()
for _ in range(n):
    os.close(os.open(p, os.O_RDONLY))
print((time.perf_counter_ns() - t) / n)
"""


def per_open(path):
    out = subprocess.run([sys.executable, "-c", LOOP, path, str(N)],
                         capture_output=True, text=True, check=True).stdout
    return float(out)


def main():
    top = tempfile.mkdtemp(prefix="mgwatch.", dir=os.environ.get("BENCH_DIR"))
    subprocess.run(["mount", "-t", "tmpfs", "mgbench", top], check=True)
    text, model = os.path.join(top, "notes.txt"), os.path.join(top, "w.pkl")
    with open(text, "w") as f:
        f.write("text\n" * 100)
    with open(model, "wb") as f:
        pickle.dump({"w": list(range(100))}, f, protocol=4)
    res = {"text": ([], []), "model": ([], [])}
    for _ in range(3):
        for k, p in (("text", text), ("model", model)):
            res[k][0].append(per_open(p))
        d = subprocess.Popen([BIN, "watch", top], stderr=subprocess.PIPE,
                             text=True)
        d.stderr.readline()  # "modelgate: watch: watching ..."
        for k, p in (("text", text), ("model", model)):
            res[k][1].append(per_open(p))
        d.terminate()
        d.wait()
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; "
          f"{N} opens per run, median of 3 rounds")
    for k, what in (("text", "non-model file"), ("model", "cached benign model")):
        base, watch = statistics.median(res[k][0]), statistics.median(res[k][1])
        print(f"  open+close of a {what:20s} baseline {base:8.0f} ns   "
              f"under watch {watch:8.0f} ns   ratio {watch / base:5.2f}")
    subprocess.run(["umount", top])
    os.rmdir(top)


if __name__ == "__main__":
    main()
