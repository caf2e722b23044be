#!/usr/bin/python3
"""Structure-aware differential fuzzer: modelgate vs. the real loaders.

Usage:
  fuzz_diff_loaders.py [--seconds N] [--max N] [--seed S] [--work DIR]
                       [--keep FILE] [--mg BIN]
  fuzz_diff_loaders.py --replay [--work DIR] [--mg BIN]

Bases are the fixtures of tests/fixtures/gen_diff_loaders.py, written by the
running interpreter's stack.  Each mutant is a base rewritten by 1-3
structure-aware mutations chosen by a seeded random generator:
  zip   member names (renames, a name in the local header only or the
        central directory only, duplicates, injected payload members), order,
        dropped members, local vs central sizes, CRCs and offsets, a junk
        prefix, zip64 end record and locator, the data-descriptor and other
        flag bits, the method field, extra fields, the archive comment (with
        a fake end record in it);
  tar   names, order, duplicates, injected members, type flags, pax and GNU
        long names, hard and symbolic links to a member, checksums, sizes,
        missing end blocks, trailing bytes;
  npy   version, header length, descr (object and structured-with-object),
        shape, fortran_order, extra keys, payload body;
  gzip/bz2/xz/zstd/zlib/lz4 framing: the inner bytes mutated and recompressed,
        concatenated streams, truncation, gzip header fields, trailing bytes;
  any   byte flips, truncation, an appended payload pickle.
Each batch of mutants is scanned by one `modelgate scan --format json` run;
every loader the base's manifest entry names then loads each mutant in this
process through diffload's recording unpicklers (nothing is executed).  A
disagreement is a global the loader resolved that the engine did not report
on a mutant the default policy lets load (verdict clean or unknown; worst when
the engine called it inert, finding format.inert); the same on a mutant it
denies (dangerous, error) is counted and listed as a denied-miss.

A mutant is reproducible from (stack, base, seed): --keep FILE writes the
disagreements and the mutants that showed a loader behaviour not seen
before, as such records.  --replay regenerates every record of
tests/fixtures/diff_mutants.json made on this stack, checks that the same
mutations come out, and that engine and loaders agree on each (exit 1 on
any disagreement).  The last line is a summary: executions, seconds,
disagreements.
"""
import argparse
import bz2
import gzip
import io
import json
import lzma
import os
import pickle
import random
import resource
import struct
import subprocess
import sys
import tarfile
import time
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../.."))
sys.path.insert(0, HERE)
import diffload  # noqa: E402
from diffrec import engine_pairs, scan_many  # noqa: E402

REGRESSIONS = os.path.join(ROOT, "tests/fixtures/diff_mutants.json")
# Verdicts the default policy denies: a global such a file's loader would
# resolve and the engine did not list is reported (denied-miss), not failed:
# the file is never loaded.
DENIED = ("dangerous", "error")


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch fuzz_marker",))


PAYLOAD = pickle.dumps({"w": _Evil()}, protocol=2)


def stack_name():
    return os.environ.get("MG_STACK") or (
        "modern" if sys.prefix != sys.base_prefix else "debian")


# --- zip ------------------------------------------------------------------

def zip_parse(data):
    z = {"prefix": b"", "entries": [], "comment": b"", "zip64": None,
         "cd_delta": 0, "eocd_n": None, "clen_delta": 0}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for i in zf.infolist():
            off = i.header_offset
            n, m = struct.unpack("<HH", data[off + 26:off + 30])
            start = off + 30 + n + m
            z["entries"].append({
                "name": data[off + 30:off + 30 + n], "method": i.compress_type,
                "crc": i.CRC, "csize": i.compress_size, "usize": i.file_size,
                "flags": i.flag_bits & ~0x8, "data": data[start:start + i.compress_size],
                "lextra": b"", "cextra": b"", "off_delta": 0, "desc": False})
    return z


def zip_write(z):
    out = bytearray(z["prefix"])
    offs = []
    for e in z["entries"]:
        offs.append(len(out) - (len(z["prefix"]) if z.get("fix_prefix") else 0))
        g = lambda k: e.get("l" + k, e[k])  # noqa: E731
        flags = g("flags") | (0x8 if e["desc"] else 0)
        crc, cs, us = (0, 0, 0) if e.get("zero_local") else (g("crc"), g("csize"), g("usize"))
        name, lx = e.get("lname", e["name"]), e["lextra"]
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, g("method"), 0,
                           0x21, crc, cs & 0xFFFFFFFF, us & 0xFFFFFFFF, len(name), len(lx))
        out += name + lx + e["data"]
        if e["desc"]:
            out += struct.pack("<IIII", 0x08074B50, e["crc"], e["csize"] & 0xFFFFFFFF,
                               e["usize"] & 0xFFFFFFFF)
    cd = len(out)
    for e, off in zip(z["entries"], offs):
        g = lambda k: e.get("c" + k, e[k])  # noqa: E731
        # A central entry pointing at another member's local header.
        to = [j for j, x in enumerate(z["entries"]) if x is e.get("off_to")]
        if to:
            off = offs[to[0]]
        flags = g("flags") | (0x8 if e["desc"] else 0)
        name, cx = e.get("cname", e["name"]), e["cextra"]
        out += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags,
                           g("method"), 0, 0x21, g("crc"), g("csize") & 0xFFFFFFFF,
                           g("usize") & 0xFFFFFFFF, len(name), len(cx), 0, 0, 0, 0,
                           (off + e["off_delta"]) & 0xFFFFFFFF)
        out += name + cx
    size = len(out) - cd
    n = len(z["entries"]) if z["eocd_n"] is None else z["eocd_n"]
    cdoff = cd - (len(z["prefix"]) if z.get("fix_prefix") else 0) + z["cd_delta"]
    if z["zip64"] is not None:
        rec = len(out)
        v = z["zip64"]
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0,
                           v.get("n", n), v.get("n", n), v.get("size", size),
                           v.get("off", cdoff))
        out += struct.pack("<IIQI", 0x07064B50, 0, v.get("loc", rec), 1)
        if v.get("ff"):
            n, size, cdoff = 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n & 0xFFFF, n & 0xFFFF,
                       size & 0xFFFFFFFF, cdoff & 0xFFFFFFFF,
                       (len(z["comment"]) + z["clen_delta"]) & 0xFFFF)
    out += z["comment"]
    return bytes(out)


def name_variants(rng, names):
    n = rng.choice(names) if names else b"data.pkl"
    base = n.rsplit(b"/", 1)[-1]
    pre = n[:-len(base)]
    return rng.choice([
        n, base, pre + b"data.pkl", b"x/" + n, n + b"/", n.upper(), b"/" + n,
        pre + b"./" + base, pre + b"../" + base, n + b"\x00junk", n.replace(b"/", b"\\"),
        n[:-4] if n.endswith(b".npy") else n + b".npy", b"archive/data.pkl",
        pre + b"data/0", rng.choice(names) if names else n])


def payload_entry(name):
    return {"name": name, "method": 0, "crc": zlib.crc32(PAYLOAD), "csize": len(PAYLOAD),
            "usize": len(PAYLOAD), "flags": 0, "data": PAYLOAD, "lextra": b"",
            "cextra": b"", "off_delta": 0, "desc": False}


def mutate_zip(data, rng, ops):
    z = zip_parse(data)
    es = z["entries"]
    names = [e["name"] for e in es]
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(["rename", "rename-local", "rename-cd", "dup", "inject",
                         "order", "drop", "size", "offset", "desc", "flags",
                         "method", "extra", "zip64", "comment", "prefix", "crc",
                         "payload", "count"])
        i = rng.randrange(len(es)) if es else 0
        if not es and op not in ("inject", "comment", "zip64", "prefix"):
            op = "inject"
        if op == "rename":
            es[i]["name"] = name_variants(rng, names)
        elif op in ("rename-local", "rename-cd"):
            es[i][op[7] + "name"] = name_variants(rng, names)
        elif op == "dup":
            es.insert(rng.randrange(len(es) + 1), dict(es[i]))
        elif op == "inject":
            es.insert(rng.randrange(len(es) + 1), payload_entry(name_variants(rng, names)))
        elif op == "order":
            rng.shuffle(es)
        elif op == "drop":
            del es[i]
        elif op == "size":
            k = rng.choice(["lcsize", "ccsize", "lusize", "cusize"])
            es[i][k] = rng.choice([0, 1, es[i]["csize"] + 1, max(0, es[i]["csize"] - 1),
                                   0xFFFFFFFF, len(es[i]["data"]) * 2])
        elif op == "offset":
            if rng.random() < .5:
                es[i]["off_delta"] = rng.choice([1, -1, 30, -30, 4096])
            else:
                es[i]["off_to"] = es[rng.randrange(len(es))]
        elif op == "desc":
            es[i]["desc"] = True
            es[i]["zero_local"] = rng.random() < .7
        elif op == "flags":
            es[i]["flags"] ^= rng.choice([1, 0x800, 0x40, 0x2000])
        elif op == "method":
            k = rng.choice(["method", "lmethod", "cmethod"])
            es[i][k] = rng.choice([0, 8, 12, 14, 93, 99])
        elif op == "extra":
            if rng.random() < .5:
                x = struct.pack("<HHQQ", 1, 16, es[i]["usize"], es[i]["csize"])
            else:
                x = struct.pack("<HH", rng.choice([0x5455, 0x7875, 0xCAFE, 0xFFFF]), 4) + \
                    b"\x00" * rng.choice([4, 2, 9])
            es[i][rng.choice(["lextra", "cextra"])] = x
        elif op == "zip64":
            z["zip64"] = rng.choice([{}, {"ff": True}, {"off": 0}, {"n": 0},
                                     {"loc": 0, "ff": True}, {"size": 1, "ff": True}])
        elif op == "comment":
            fake = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0, 0, 0, 0, 0)
            z["comment"] = rng.choice([b"hello", fake, b"x" * 300, fake + b"tail"])
            z["clen_delta"] = rng.choice([0, 0, 1, -1])
        elif op == "prefix":
            z["prefix"] = rng.choice([b"MZ" + b"\x00" * 62, PAYLOAD, b"\x00"])
            z["fix_prefix"] = rng.random() < .5
        elif op == "crc":
            es[i][rng.choice(["lcrc", "ccrc", "crc"])] = rng.getrandbits(32)
        elif op == "payload":
            e = payload_entry(es[i]["name"])
            es[i] = e
        elif op == "count":
            z["eocd_n"] = rng.choice([0, 1, len(es) + 1])
        ops.append("zip:%s@%d" % (op, i))
    return zip_write(z)


# --- tar ------------------------------------------------------------------

def tar_parse(data):
    out = []
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for m in t.getmembers():
            f = t.extractfile(m) if m.isfile() else None
            out.append({"name": m.name.encode(), "data": f.read() if f else b"",
                        "type": m.type, "link": m.linkname.encode()})
    return out


def tar_header(name, size, typ, link=b"", bad_sum=False, size_field=None):
    h = bytearray(512)
    h[0:100] = name[:100].ljust(100, b"\x00")
    h[100:108] = b"0000644\x00"
    h[108:116] = b"0000000\x00"
    h[116:124] = b"0000000\x00"
    h[124:136] = size_field if size_field is not None else b"%011o\x00" % size
    h[136:148] = b"00000000000\x00"
    h[156:157] = typ
    h[157:257] = link[:100].ljust(100, b"\x00")
    h[257:265] = b"ustar\x0000"
    h[148:156] = b" " * 8
    s = sum(h) + (7 if bad_sum else 0)
    h[148:156] = b"%06o\x00 " % s
    return bytes(h)


def tar_block(name, data, typ=b"0", link=b"", **kw):
    pad = b"\x00" * (-len(data) % 512)
    return tar_header(name, len(data), typ, link, **kw) + data + pad


def tar_write(ms, end=True, tail=b""):
    out = b""
    for m in ms:
        kind = m.get("long")
        if kind == "pax":
            rec = b"path=" + m["name"] + b"\n"
            rec = b"%d %s" % (len(rec) + 3 + len(str(len(rec) + 3)) - 1, rec)
            out += tar_block(b"././@PaxHeader", rec, b"x")
            hdr_name = m.get("shown", b"placeholder")
        elif kind == "gnu":
            out += tar_block(b"././@LongLink", m["name"] + b"\x00", b"L")
            hdr_name = m.get("shown", m["name"][:100])
        else:
            hdr_name = m["name"]
        out += tar_block(hdr_name, m["data"], m.get("typ", b"0"), m.get("link", b""),
                         bad_sum=m.get("bad_sum", False), size_field=m.get("size_field"))
    if end:
        out += b"\x00" * 1024
    return out + tail


def mutate_tar(data, rng, ops):
    ms = [{"name": m["name"], "data": m["data"]} for m in tar_parse(data) if m["type"] in
          (tarfile.REGTYPE, tarfile.AREGTYPE)]
    names = [m["name"] for m in ms]
    end, tail = True, b""
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(["rename", "dup", "inject", "order", "drop", "type", "pax", "gnu",
                         "link", "symlink", "checksum", "size", "noend", "tail", "payload"])
        i = rng.randrange(len(ms)) if ms else 0
        if not ms:
            op = "inject"
        if op == "rename":
            ms[i]["name"] = name_variants(rng, names)
        elif op == "dup":
            ms.insert(rng.randrange(len(ms) + 1), dict(ms[i]))
        elif op == "inject":
            ms.insert(rng.randrange(len(ms) + 1),
                      {"name": name_variants(rng, names), "data": PAYLOAD})
        elif op == "order":
            rng.shuffle(ms)
        elif op == "drop":
            del ms[i]
        elif op == "type":
            ms[i]["typ"] = rng.choice([b"\x00", b"7", b"5", b"S", b"V", b"A", b"Z", b"g", b"K"])
        elif op in ("pax", "gnu"):
            ms[i]["long"] = op
            ms[i]["shown"] = rng.choice([b"placeholder", name_variants(rng, names)])
        elif op in ("link", "symlink"):
            ms.insert(rng.randrange(len(ms) + 1),
                      {"name": name_variants(rng, names), "data": b"",
                       "typ": b"1" if op == "link" else b"2", "link": rng.choice(names or [b"x"])})
        elif op == "checksum":
            ms[i]["bad_sum"] = True
        elif op == "size":
            ms[i]["size_field"] = rng.choice([b"\x80" + b"\x00" * 7 + struct.pack(">I", len(ms[i]["data"])),
                                              b"%011o " % len(ms[i]["data"]), b" " * 12,
                                              b"%011o\x00" % (len(ms[i]["data"]) + 1)])
        elif op == "noend":
            end = False
        elif op == "tail":
            tail = rng.choice([PAYLOAD, b"\x00" * 512 + tar_block(b"pickle", PAYLOAD)])
        elif op == "payload":
            ms[i]["data"] = PAYLOAD
        ops.append("tar:%s@%d" % (op, i))
    return tar_write(ms, end, tail)


# --- npy ------------------------------------------------------------------

def mutate_npy(data, rng, ops):
    major = data[6]
    hl = 2 if major == 1 else 4
    n = struct.unpack("<H" if hl == 2 else "<I", data[8:8 + hl])[0]
    header = data[8 + hl:8 + hl + n]
    body = data[8 + hl + n:]
    ver = bytes(data[6:8])
    delta = 0
    for _ in range(rng.randint(1, 2)):
        op = rng.choice(["version", "hlen", "descr", "shape", "fortran", "key", "body",
                         "space"])
        if op == "version":
            ver = rng.choice([b"\x01\x00", b"\x02\x00", b"\x03\x00", b"\x04\x00"])
        elif op == "hlen":
            delta = rng.choice([1, -1, 16, -16])
        elif op == "descr":
            d = rng.choice([b"'|O'", b"'O'", b"'<f4'", b"\"[('a', 'O')]\"",
                            b"[('a', '|O'), ('b', '<i4')]", b"'|V8'", b"'|O8'"])
            header = re_field(header, b"descr", d)
        elif op == "shape":
            header = re_field(header, b"shape", rng.choice([b"()", b"(1,)", b"(0,)", b"(3, 2)"]))
        elif op == "fortran":
            header = re_field(header, b"fortran_order", rng.choice([b"True", b"False"]))
        elif op == "key":
            header = header.replace(b"{", b"{'x': 1, ", 1)
        elif op == "body":
            body = PAYLOAD
        elif op == "space":
            header = header.rstrip(b" \n") + b" " * rng.choice([0, 1, 64]) + b"\n"
        ops.append("npy:" + op)
    hl = 2 if ver[0] == 1 else 4
    size = struct.pack("<H" if hl == 2 else "<I", (len(header) + delta) & (0xFFFF if hl == 2 else 0xFFFFFFFF))
    return data[:6] + ver + size + header + body


def re_field(header, key, value):
    k = b"'" + key + b"': "
    i = header.find(k)
    if i < 0:
        return header
    j = i + len(k)
    depth, end = 0, j
    while end < len(header):
        c = header[end:end + 1]
        if c in b"([":
            depth += 1
        elif c in b")]":
            depth -= 1
        elif c == b"," and depth == 0:
            break
        elif c == b"}" and depth <= 0:
            break
        end += 1
    return header[:j] + value + header[end:]


# --- compression ----------------------------------------------------------

def lz4_mod():
    try:
        import lz4.frame
        return lz4.frame
    except ImportError:
        return None


def zstd_mod():
    try:
        import zstandard
        return zstandard
    except ImportError:
        return None


def codec(data):
    """(name, decompress, compress) of an outer compression, or None."""
    if data[:2] == b"\x1f\x8b":
        return "gz", lambda d: gzip.decompress(d), lambda d: gzip.compress(d, mtime=0)
    if data[:3] == b"BZh":
        return "bz2", bz2.decompress, bz2.compress
    if data[:6] == b"\xfd7zXZ\x00":
        return "xz", lzma.decompress, lzma.compress
    if data[:4] == b"\x28\xb5\x2f\xfd" and zstd_mod():
        z = zstd_mod()
        return ("zst", lambda d: z.ZstdDecompressor().decompressobj().decompress(d),
                lambda d: z.ZstdCompressor().compress(d))
    if data[:4] == b"\x04\x22\x4d\x18" and lz4_mod():
        return "lz4", lz4_mod().decompress, lz4_mod().compress
    if data[:1] == b"\x78" and data[1] in (0x01, 0x5E, 0x9C, 0xDA):
        return "zlib", zlib.decompress, zlib.compress
    if data[:3] == b"]\x00\x00":
        return ("lzma", lambda d: lzma.decompress(d, format=lzma.FORMAT_ALONE),
                lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE))
    return None


def mutate_compressed(data, c, rng, ops):
    name, dec, com = c
    op = rng.choice(["inner", "inner", "inner", "concat", "truncate", "tail", "gzhdr"])
    if op == "gzhdr" and name != "gz":
        op = "concat"
    ops.append("%s:%s" % (name, op))
    try:
        inner = dec(data)
    except Exception:  # noqa: BLE001 - a base the codec cannot read whole
        inner = None
    if op == "inner" and inner is not None:
        return com(mutate_bytes(inner, rng, ops))
    if op == "concat":
        return data + com(rng.choice([PAYLOAD, b"", inner or b"", data[:0]]))
    if op == "truncate":
        return data[:rng.randrange(1, len(data))]
    if op == "tail":
        return data + rng.choice([b"\x00" * 8, b"garbage", PAYLOAD])
    if op == "gzhdr" and inner is not None:
        flg = rng.choice([0x04, 0x08, 0x10, 0x02, 0x1C])
        h = b"\x1f\x8b\x08" + bytes([flg]) + b"\x00\x00\x00\x00\x00\xff"
        if flg & 0x04:
            h += b"\x04\x00abcd"
        if flg & 0x08:
            h += b"name.pkl\x00"
        if flg & 0x10:
            h += b"comment\x00"
        if flg & 0x02:
            h += struct.pack("<H", zlib.crc32(h) & 0xFFFF)
        co = zlib.compressobj(6, zlib.DEFLATED, -15)
        return h + co.compress(inner) + co.flush() + struct.pack("<II", zlib.crc32(inner),
                                                                  len(inner) & 0xFFFFFFFF)
    return data[:-1]


# --- dispatch -------------------------------------------------------------

def kind(data):
    if data[:4] == b"PK\x03\x04" or b"PK\x05\x06" in data[-65600:]:
        return "zip"
    if data[:6] == b"\x93NUMPY":
        return "npy"
    if len(data) >= 512 and data[257:262] == b"ustar":
        return "tar"
    if codec(data):
        return "compressed"
    return "raw"


def mutate_bytes(data, rng, ops):
    """One structure-aware rewrite of data (recursing into compression)."""
    k = kind(data)
    try:
        if k == "zip" and rng.random() < .9:
            return mutate_zip(data, rng, ops)
        if k == "tar" and rng.random() < .9:
            return mutate_tar(data, rng, ops)
        if k == "npy" and rng.random() < .9:
            return mutate_npy(data, rng, ops)
        if k == "compressed" and rng.random() < .9:
            return mutate_compressed(data, codec(data), rng, ops)
    except (zipfile.BadZipFile, tarfile.TarError, struct.error, ValueError, IndexError,
            KeyError, EOFError, OSError, lzma.LZMAError, zlib.error):
        ops.append("%s:unparsed" % k)
    op = rng.choice(["flip", "truncate", "append", "append-payload"])
    ops.append("bytes:" + op)
    if op == "flip" and data:
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.getrandbits(8)
        return bytes(b)
    if op == "truncate" and len(data) > 1:
        return data[:rng.randrange(1, len(data))]
    if op == "append":
        return data + bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))
    return data + PAYLOAD


def make_mutant(base_data, seed):
    rng = random.Random(seed)
    ops = []
    return mutate_bytes(base_data, rng, ops), ops


# --- harness --------------------------------------------------------------

class Fuzzer:
    def __init__(self, mg, work, fx):
        self.mg, self.work, self.fx = mg, work, fx
        os.makedirs(os.path.join(work, "m"), exist_ok=True)
        with open(os.path.join(fx, "manifest.json")) as f:
            self.bases = [e for e in json.load(f)
                          if any(not diffload.available(ld) for ld in e["loaders"])]
        self.data = {}
        for e in self.bases:
            with open(os.path.join(fx, e["file"]), "rb") as f:
                self.data[e["file"]] = f.read()
        self.execs = 0
        self.disagreements = []
        self.denied_misses = []
        self.seen = set()
        self.kept = []

    def run_batch(self, jobs):
        """jobs: [(base entry, seed)]; returns the disagreements found."""
        paths, muts = [], []
        for idx, (e, seed) in enumerate(jobs):
            data, ops = make_mutant(self.data[e["file"]], seed)
            p = os.path.join(self.work, "m", "%d-%s" % (idx, e["file"]))
            with open(p, "wb") as f:
                f.write(data)
            paths.append(p)
            muts.append((e, seed, ops, p))
        files, err = scan_many(self.mg, paths, preexec_fn=uncap_memory)
        found = []
        for e, seed, ops, p in muts:
            if files is None or p not in files:
                # One scan per file finds which mutant the scanner fails on.
                one, err = scan_many(self.mg, [p], preexec_fn=uncap_memory)
                if one is None:
                    d = {"stack": stack_name(), "base": e["file"], "seed": seed, "ops": ops,
                         "loader": "modelgate scan", "missed": [], "verdict": "no JSON",
                         "inert": False, "loader_error": err}
                    found.append(d)
                    self.kept.append({k: d[k] for k in ("stack", "base", "seed", "ops")})
                    os.unlink(p)
                    continue
                files = dict(files or {}, **one)
            fobj = files[p]
            eng = engine_pairs(fobj)
            inert = any(f.get("id") == "format.inert" for f in fobj.get("findings", []))
            for loader in e["loaders"]:
                if diffload.available(loader):
                    continue
                t = time.time()
                res = diffload.run(loader, p)
                self.execs += 1
                if time.time() - t > 5:
                    print("slow: %s %.1f s on %s seed %d %s (%s)" % (
                        loader, time.time() - t, e["file"], seed, ops, res.error), flush=True)
                missed = sorted(res.pairs - eng)
                rec = {"stack": stack_name(), "base": e["file"], "seed": seed, "ops": ops}
                sig = (e["file"], loader, (res.error or "ok").split(":")[0],
                       res.whole, bool(res.pairs), fobj["verdict"])
                if missed:
                    d = dict(rec, loader=loader, missed=missed, verdict=fobj["verdict"],
                             inert=inert, loader_error=res.error)
                    if fobj["verdict"] in DENIED:
                        self.denied_misses.append(d)
                    else:
                        found.append(d)
                        self.kept.append(rec)
                elif sig not in self.seen:
                    self.kept.append(dict(rec, why="new: %s" % (sig,)))
                self.seen.add(sig)
            os.unlink(p)
        self.disagreements += found
        return found


def gen_fixtures(work):
    fx = os.path.join(work, "fx")
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tests/fixtures/gen_diff_loaders.py"),
                        fx], capture_output=True, text=True)
    if p.returncode:
        raise SystemExit("gen_diff_loaders.py failed: %s" % p.stderr[-800:])
    return fx


def report(d):
    print("DISAGREE %s %s seed=%d ops=%s: %s resolved %s, engine missed them "
          "(verdict %s%s; loader ended %s)" % (
              d["stack"], d["base"], d["seed"], d["ops"], d["loader"], d["missed"],
              d["verdict"], ", inert" if d["inert"] else "", d["loader_error"]), flush=True)


def replay(fz):
    with open(REGRESSIONS) as f:
        recs = [r for r in json.load(f) if r["stack"] == stack_name()]
    bad = 0
    for r in recs:
        base = next((e for e in fz.bases if e["file"] == r["base"]), None)
        if base is None:
            print("FAIL replay-%s-%d: base fixture missing" % (r["base"], r["seed"]))
            bad += 1
            continue
        ops = make_mutant(fz.data[r["base"]], r["seed"])[1]
        if ops != r["ops"]:
            print("FAIL replay-%s-%d: mutations %s, recorded %s"
                  % (r["base"], r["seed"], ops, r["ops"]))
            bad += 1
            continue
        found = fz.run_batch([(base, r["seed"])])
        for d in found:
            report(d)
        bad += bool(found)
    print("replayed %d kept mutants on %s, %d disagreeing" % (len(recs), stack_name(), bad))
    return bad


def cap_memory(extra=1 << 30):
    """A mutant may tell a loader to allocate gigabytes (a size field of
    0xFFFFFFFF, a decompression bomb): address space is capped at what the
    imported libraries use plus extra, so it is a MemoryError, not the
    machine's OOM killer."""
    with open("/proc/self/status") as f:
        vm = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize"))
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    resource.setrlimit(resource.RLIMIT_AS, (vm + extra, hard))


def uncap_memory():
    """In the scanner child: its own caps (a 4 GiB decompression budget)
    are what is under test, not ours."""
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float,
                    help="stop after N seconds (default 60, none with --max)")
    ap.add_argument("--max", type=int, default=0, help="stop after N mutants")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=40)
    ap.add_argument("--work", default=os.path.join(os.getcwd(), "fuzz-diff-work"))
    ap.add_argument("--keep", help="write kept mutant records (JSON) here")
    ap.add_argument("--mg", default=os.environ.get("MG_BIN", os.path.join(ROOT, "build/modelgate")))
    ap.add_argument("--replay", action="store_true")
    ap.add_argument("--dump", nargs=3, metavar=("BASE", "SEED", "OUT"),
                    help="write the mutant of BASE with SEED to OUT, print its mutations")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    os.chdir(a.work)
    fz = Fuzzer(a.mg, a.work, gen_fixtures(a.work))
    for loader in diffload.LOADERS:
        diffload.available(loader)  # imports the libraries before the cap
    import sklearn.linear_model  # noqa: F401 - what the joblib bases name
    cap_memory()
    if a.replay:
        sys.exit(1 if replay(fz) else 0)
    if a.dump:
        data, ops = make_mutant(fz.data[a.dump[0]], int(a.dump[1]))
        with open(os.path.join(os.path.dirname(os.path.abspath(os.environ.get("PWD", "."))), a.dump[2])
                  if False else a.dump[2], "wb") as f:
            f.write(data)
        print(ops)
        return
    if a.seconds is None:
        a.seconds = float("inf") if a.max else 60
    rng = random.Random(a.seed)
    t0 = time.time()
    mutants = 0
    while time.time() - t0 < a.seconds and (not a.max or mutants < a.max):
        n = a.batch if not a.max else min(a.batch, a.max - mutants)
        jobs = [(rng.choice(fz.bases), rng.getrandbits(32)) for _ in range(n)]
        for d in fz.run_batch(jobs):
            report(d)
        mutants += n
    secs = time.time() - t0
    if a.keep:
        with open(a.keep, "w") as f:
            json.dump(fz.kept, f, indent=1)
    ran = [m for m in os.listdir(a.work) if m.endswith("_marker")]
    for d in fz.denied_misses[:20]:
        print("denied-miss %s %s seed=%d ops=%s: %s resolved %s (verdict %s)" % (
            d["stack"], d["base"], d["seed"], d["ops"], d["loader"], d["missed"],
            d["verdict"]))
    print("fuzz-diff %s: %d mutants, %d loader executions, %.0f s, %d behaviours, "
          "%d disagreements, %d denied-misses%s" % (
              stack_name(), mutants, fz.execs, secs, len(fz.seen), len(fz.disagreements),
              len(fz.denied_misses), "; PAYLOAD RAN: %s" % ran if ran else ""))
    sys.exit(1 if fz.disagreements or ran else 0)


if __name__ == "__main__":
    main()
