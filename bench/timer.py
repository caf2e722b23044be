"""Build bench/scan_timer.c (mg_scan_fd alone) against a build's
libmgcore.a, with the libraries the Makefile links the CLI with
(`make print-libs`), so the list cannot fall behind the core's."""
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


def build_timer(mg, out):
    """Compile the timer against the libmgcore.a next to the binary @mg."""
    lib = os.path.join(os.path.dirname(os.path.abspath(mg)), "libmgcore.a")
    libs = subprocess.run(["make", "-s", "-C", os.path.dirname(HERE), "print-libs"],
                          capture_output=True, text=True, check=True).stdout.split()
    subprocess.run(["cc", "-O2", "-D_GNU_SOURCE", "-std=c11", "-o", out,
                    os.path.join(HERE, "scan_timer.c"), lib] + libs, check=True)
    return out
