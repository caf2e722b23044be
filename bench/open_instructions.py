#!/usr/bin/python3
"""Instructions per non-model open, counted by callgrind: a figure that
does not move with the machine's load, beside bench_preload's times.

For each file (a text name, an extension-less name, raw floats under a
name that is no model extension, a code name), os.open+os.close is run
N and 11 N times under `valgrind --tool=callgrind` with no preload, with
this build's library (guard off, then on) and, with MG_BENCH_OLD_LIB,
another build's; the difference of the two runs over 10 N is the cost of
one open, free of start-up.  Printed: no preload's instructions per open,
then each library's, as a ratio and as instructions on top of none.

Usage: open_instructions.py BUILD_DIR   (MG_BENCH_QUICK=1: fewer opens).
Needs valgrind (scripts/install-deps installs it); without it, says so
and exits 0: a benchmark, not a test.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
LIB = os.path.join(BUILD, "libmodelgate.so")
OLD_LIB = os.environ.get("MG_BENCH_OLD_LIB") or None
PY = "/usr/bin/python3"
N = 200 if os.environ.get("MG_BENCH_QUICK") == "1" else 1000
CHILD = ("import os, sys\np = sys.argv[1]\n"
         "for _ in range(int(sys.argv[2])):\n"
         "    os.close(os.open(p, os.O_RDONLY))\n")


def collected(work, path, n, preload, policy):
    """Instructions callgrind counted for one run of CHILD."""
    e = {k: v for k, v in os.environ.items()
         if k not in ("LD_PRELOAD", "MODELGATE_POLICY")}
    e["PYTHONHASHSEED"] = "0"
    if preload:
        e["LD_PRELOAD"] = preload
        e["MODELGATE_POLICY"] = policy
    out = os.path.join(work, "callgrind.out")
    p = subprocess.run(["valgrind", "--tool=callgrind",
                        f"--callgrind-out-file={out}", PY, "-c", CHILD,
                        path, str(n)],
                       capture_output=True, text=True, env=e, cwd=work)
    m = re.search(r"Collected : (\d+)", p.stderr)
    if p.returncode != 0 or m is None:
        sys.exit(f"callgrind run failed ({preload}): {p.stderr[-800:]}")
    return int(m.group(1))


def per_open(work, path, preload=None, policy=None):
    a = collected(work, path, N, preload, policy)
    b = collected(work, path, 11 * N, preload, policy)
    return (b - a) / (10 * N)


def main():
    if shutil.which("valgrind") is None:
        print("valgrind not found: instructions per open not counted "
              "(scripts/install-deps installs it)")
        return
    if not os.path.exists(LIB):
        sys.exit(f"no library at {LIB}: run make first")
    work = tempfile.mkdtemp(prefix="mgins.", dir=os.environ.get("BENCH_DIR"))
    try:
        off = os.path.join(work, "off.conf")
        on = os.path.join(work, "on.conf")
        with open(off, "w") as f:
            f.write("[guard]\nfind_class = off\n")
        with open(on, "w") as f:
            f.write("[guard]\nfind_class = deny\n")
        files = {"notes.txt": b"some notes\n" * 50,
                 "README": b"read me\n" * 70,
                 "vectors.f32": bytes(range(256)) * 16,
                 "mod.py": b"import os\n"}
        libs = [("gate alone (find_class = off)", LIB, off),
                ("guard on", LIB, on)]
        if OLD_LIB:
            libs.append(("old library, find_class = off", OLD_LIB, off))
        print(f"instructions per os.open+os.close (callgrind, difference "
              f"of {N} and {11 * N} opens, PYTHONHASHSEED=0)", flush=True)
        for name, data in files.items():
            path = os.path.join(work, name)
            with open(path, "wb") as f:
                f.write(data)
            base = per_open(work, path)
            parts = [f"{name}: none {base:.0f}"]
            for label, lib, pol in libs:
                v = per_open(work, path, lib, pol)
                parts.append(f"{label} {v:.0f} (ratio {v / base:.3f}, "
                             f"+{v - base:.0f})")
            print("; ".join(parts), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
