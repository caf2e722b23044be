"""Shared by test_sandbox_lock and test_sandbox_preload (not a test itself:
not executable, so tests/integration/run skips it).

The payloads are harmless and observable: a class outside every allow and
deny list, in a module the test writes (mymod.py), whose __setstate__
connects to a loopback listener the test owns (and records the errno), or
runs `touch MARKER` with os.system (and records the exit status).

PROBE is the Python program a locked child runs: it starts a thread and
makes sockets *before* the lock, then takes the lock (LOCK, supplied by
the caller: a ctypes call into the sandbox, or nothing when the preload
locks inside pickle.load's open), loads the model, and reports what the
process can still do as one JSON line.
"""
import json
import os
import select
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mgtest import BUILD, PYTHON, WORK  # noqa: E402

SHIM = os.path.join(BUILD, "tests", "libmgsandbox_test.so")

MYMOD = '''
import os, socket

class Thing:
    """Unknown to every list; connects out while being unpickled."""
    def __init__(self, port):
        self.port = port
        self.err = None

    def __setstate__(self, state):
        self.__dict__.update(state)
        s = None
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=3)
            s.sendall(b"leaked")
            self.err = 0
        except OSError as e:
            self.err = e.errno
        finally:
            if s is not None:
                s.close()

class WriteThing:
    """Unknown to every list; appends to a file while being unpickled."""
    def __init__(self, path):
        self.path = path
        self.err = None

    def __setstate__(self, state):
        self.__dict__.update(state)
        try:
            with open(self.path, "a") as f:
                f.write("ssh-ed25519 AAAA attacker\\n")
            self.err = 0
        except OSError as e:
            self.err = e.errno

class ExecThing:
    """Unknown to every list; runs a shell command while being unpickled."""
    def __init__(self, marker):
        self.marker = marker
        self.status = None

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.status = os.system("touch " + self.marker)
'''

PROBE = r'''
import ctypes, errno, json, os, pickle, socket, subprocess, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
out = {}

def raw_socket(fam):
    """socket(fam, SOCK_STREAM, 0) with all 64 bits of fam: errno or 0."""
    fd = libc.syscall(ctypes.c_long(41), ctypes.c_long(fam),
                      ctypes.c_long(1), ctypes.c_long(0))
    if fd >= 0:
        os.close(fd)
        return 0
    return ctypes.get_errno()

def uring():
    params = ctypes.create_string_buffer(120)
    fd = libc.syscall(ctypes.c_long(425), ctypes.c_long(4), params)
    if fd >= 0:
        os.close(fd)
        return 0
    return ctypes.get_errno()

out["high_bits_before"] = raw_socket((1 << 32) | socket.AF_INET)
go, ready, res = threading.Event(), threading.Event(), {}
def early():
    ready.set()
    go.wait()
    try:
        socket.socket(socket.AF_INET).close()
        res["thread"] = 0
    except OSError as e:
        res["thread"] = e.errno
t = threading.Thread(target=early, daemon=True)
t.start()
ready.wait()
pair = socket.socketpair()
out["lock"] = 0
LOCK
try:
    with open(sys.argv[1], "rb") as f:
        obj = pickle.load(f)
    out["loaded"] = type(obj).__name__
except OSError as e:
    obj, out["loaded"] = None, "error:%d" % e.errno
out["obj_err"] = getattr(obj, "err", None)
out["obj_status"] = getattr(obj, "status", None)
go.set()
t.join(10)
out["thread"] = res.get("thread")
pair[0].sendall(b"u")
out["unix_pair"] = pair[1].recv(1) == b"u"
try:
    socket.socket(socket.AF_UNIX).close()
    out["unix_new"] = 0
except OSError as e:
    out["unix_new"] = e.errno
try:
    socket.socket(socket.AF_INET6).close()
    out["inet6"] = 0
except OSError as e:
    out["inet6"] = e.errno
try:
    c = subprocess.run([sys.executable, "-c",
        "import socket\ntry:\n socket.socket(socket.AF_INET)\nexcept OSError as e:\n"
        " print(e.errno)\nelse:\n print(0)"], capture_output=True, text=True)
    out["child"] = int(c.stdout.strip() or -1)
except OSError as e:        # deny_exec: the child cannot even start
    out["child"] = "exec:%d" % e.errno
out["high_bits_after"] = raw_socket((1 << 32) | socket.AF_INET)
out["uring"] = uring()
out["pid"] = os.getpid()
print("RESULT " + json.dumps(out), flush=True)
'''


MYNET = '''
import socket, torch

class Net(torch.nn.Module):
    """A whole nn.Module of a user class; connects out when unpickled."""
    def __init__(self, port):
        super().__init__()
        self.lin = torch.nn.Linear(2, 2)
        self.port = port
        self.err = None

    def __setstate__(self, state):
        super().__setstate__(state)
        s = None
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=3)
            s.sendall(b"leaked")
            self.err = 0
        except OSError as e:
            self.err = e.errno
        finally:
            if s is not None:
                s.close()
'''


def write_mymod(where=WORK):
    """mymod.py (no torch: cheap to import) and mynet.py (torch)."""
    with open(os.path.join(where, "mymod.py"), "w") as f:
        f.write(MYMOD)
    with open(os.path.join(where, "mynet.py"), "w") as f:
        f.write(MYNET)


def make_pickle(path, expr, where=WORK):
    """Pickle mymod.<expr> (e.g. 'Thing(1234)') with the real pickle."""
    code = ("import pickle, sys, mymod\n"
            f"with open({path!r}, 'wb') as f:\n"
            f"    pickle.dump(mymod.{expr}, f, protocol=4)\n")
    subprocess.run([PYTHON, "-c", code], check=True, cwd=where,
                   env=dict(os.environ, PYTHONPATH=where))


class Listener:
    """A loopback TCP listener owned by the test."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]

    def received(self, wait=0.3):
        """Bytes of every connection accepted so far (b"" if none)."""
        data = b""
        while select.select([self.sock], [], [], wait)[0]:
            c, _ = self.sock.accept()
            c.settimeout(2)
            try:
                data += c.recv(64) or b"<connected>"
            except OSError:
                data += b"<connected>"
            c.close()
        return data

    def close(self):
        self.sock.close()


def run_probe(model, lock_code="", env=None, timeout=60):
    """Run PROBE on @model; returns (result dict or None, stdout, stderr)."""
    prog = PROBE.replace("LOCK", lock_code)
    e = dict(os.environ, PYTHONPATH=WORK)
    e.update(env or {})
    try:
        p = subprocess.run([PYTHON, "-c", prog, model], capture_output=True,
                           text=True, cwd=WORK, env=e, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", f"probe timed out after {timeout} s"
    res = None
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            res = json.loads(line[7:])
    return res, p.stdout, p.stderr


def kernel_log_has(pid, syscall_nr, code, seconds=3.0):
    """True if /dev/kmsg holds an audit SECCOMP record for @pid, @syscall_nr
    and action @code ("0x50000" errno, "0x7ffc0000" log).  Raises OSError
    when the kernel log cannot be read."""
    keys = (b"type=1326", b" pid=%d " % pid, b" syscall=%d " % syscall_nr,
            b" code=" + code.encode())
    deadline = time.time() + seconds
    while True:
        fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        try:
            while True:
                try:
                    rec = os.read(fd, 4096)
                except BlockingIOError:
                    break
                except BrokenPipeError:
                    continue        # a record was overwritten
                if all(k in rec for k in keys):
                    return True
        finally:
            os.close(fd)
        if time.time() > deadline:
            return False
        time.sleep(0.1)
