#!/usr/bin/python3
"""bench/guard.py - what the in-process guard (preload/guard.c) costs on
pickle-heavy work, as ratios against the same work in the same run:

  base       no preload
  guard off  the preload with [guard] find_class = off (no hook)
  guard on   the preload with the default policy (find_class = deny)

Workloads:
  1. pickle.loads of a pickle naming 20-odd distinct globals (each
     find_class raises the audit event; the count is measured and
     printed), in a loop;
  2. pickle.loads of a list of small dicts (few globals: the hook's cost
     on the other events is what remains);
  3. multiprocessing Pool.map (fork) over many small tasks returning
     objects (each task and result is an unpickle in a trusted channel);
  4. `import` of 30 stdlib modules in a fresh interpreter (every exec,
     compile and marshal.loads event reaches the hook).

Each configuration runs in its own child, interleaved over N rounds; the
median is reported.  Usage: bench/guard.py [BUILD_DIR] (MG_BENCH_QUICK=1:
fewer rounds).  Prints "name: base X s, guard off Y s (ratio), guard on
Z s (ratio)" and the load average before and after.
"""
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                        os.path.join(ROOT, "build"))
LIB = os.path.join(BUILD, "libmodelgate.so")
PY = "/usr/bin/python3"
QUICK = os.environ.get("MG_BENCH_QUICK") == "1"
ROUNDS = 3 if QUICK else 7

MANY_GLOBALS = r'''
import pickle, time, collections, datetime, decimal, fractions, uuid, enum
import ipaddress, pathlib
objs = [collections.OrderedDict(a=1), collections.Counter("ab"),
        collections.deque([1]), datetime.date(2020, 1, 2),
        datetime.timedelta(3), decimal.Decimal("1.5"),
        fractions.Fraction(1, 3), uuid.UUID(int=5),
        ipaddress.IPv4Address("10.0.0.1"), pathlib.PurePosixPath("/a"),
        range(3), complex(1, 2), frozenset([1]), bytearray(b"x")]
data = pickle.dumps(objs, protocol=4)
n = 5000 if QUICK else 20000
t = time.perf_counter()
for _ in range(n):
    pickle.loads(data)
el = time.perf_counter() - t
import sys
seen = []
sys.addaudithook(lambda e, a: seen.append(e) if e == "pickle.find_class" else None)
pickle.loads(data)
print(len(seen), el)
'''

PLAIN = r'''
import pickle, time
data = pickle.dumps([{"k": i, "v": [i, str(i), (i, 2.5)]} for i in range(2000)])
n = 100 if QUICK else 400
t = time.perf_counter()
for _ in range(n):
    pickle.loads(data)
print((time.perf_counter() - t))
'''

POOL = r'''
import multiprocessing as mp, time, collections
def task(i):
    return collections.OrderedDict(i=i, sq=[i * i], s=str(i))
if __name__ == "__main__":
    n = 4000 if QUICK else 20000
    with mp.get_context("fork").Pool(2) as p:
        p.map(task, range(100))
        t = time.perf_counter()
        r = p.map(task, range(n), chunksize=1)
        el = time.perf_counter() - t
    assert r[7]["sq"] == [49]
    print(el)
'''

IMPORTS = r'''
import time
t = time.perf_counter()
import argparse, ast, asyncio, calendar, csv, dataclasses, decimal, difflib
import email.message, fractions, ftplib, gettext, html.parser, http.client
import inspect, ipaddress, json, logging, mailbox, optparse, pathlib
import pprint, shlex, statistics, string, tarfile, textwrap, typing, uuid
import xml.dom.minidom, zipfile
print(time.perf_counter() - t)
'''


def env(config, conf_off):
    e = dict(os.environ)
    e.pop("LD_PRELOAD", None)
    e.pop("MODELGATE_POLICY", None)
    e["PYTHONDONTWRITEBYTECODE"] = "1"
    if config != "base":
        e["LD_PRELOAD"] = LIB
    if config == "off":
        e["MODELGATE_POLICY"] = conf_off
    return e


def child(code, config, conf_off, work):
    path = os.path.join(work, "bench_guard_child.py")
    with open(path, "w") as f:
        f.write("QUICK = %r\n" % QUICK + code)
    p = subprocess.run([PY, path], capture_output=True, text=True,
                       env=env(config, conf_off), cwd=work)
    if p.returncode != 0:
        sys.exit(f"bench child failed ({config}): {p.stderr[-800:]}")
    return float(p.stdout.split()[-1]), p.stdout.split()[0]


def main():
    work = tempfile.mkdtemp(prefix="mgbench-guard.",
                            dir=os.environ.get("BENCH_DIR"))
    conf_off = os.path.join(work, "off.conf")
    with open(conf_off, "w") as f:
        f.write("[guard]\nfind_class = off\n")
    print("load average before: %.2f %.2f %.2f" % os.getloadavg(),
          flush=True)
    for name, code in (("pickle.loads of a pickle with %s globals x%d" %
                        ("{n}", 5000 if QUICK else 20000), MANY_GLOBALS),
                       ("pickle.loads, 2000 small dicts x%d" %
                        (100 if QUICK else 400), PLAIN),
                       ("Pool.map fork, %d tasks" % (4000 if QUICK else 20000),
                        POOL),
                       ("import 30 stdlib modules", IMPORTS)):
        ts = {"base": [], "off": [], "on": []}
        for _ in range(ROUNDS):
            for config in ("base", "off", "on"):
                t, first = child(code, config, conf_off, work)
                ts[config].append(t)
        name = name.replace("{n}", first)
        b, o, g = (statistics.median(ts[c]) for c in ("base", "off", "on"))
        print(f"{name}: base {b:.4f} s, guard off {o:.4f} s "
              f"(ratio {o / b:.3f}), guard on {g:.4f} s (ratio {g / b:.3f}, "
              f"on/off {g / o:.3f})", flush=True)
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
