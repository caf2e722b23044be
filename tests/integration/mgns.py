"""A host of its own for tests that must write /etc (the system policy,
/etc/ld.so.preload): the test runs a second time inside a private mount
namespace (`unshare --mount --propagation private`) in which a copy of
/etc is bound over /etc, so the host's real /etc is never touched and a
system policy already installed on it neither gets in the way nor makes
the test skip.  The namespace and its mounts end with that process; the
copy (in the test's WORK directory) is removed by the first one whatever
happens.

    if __name__ == "__main__":
        if mgns.inside():
            inner()                  # mgns.private_etc(...) first
        sys.exit(mgns.run_inside(__file__, "name", "why it needs root"))
"""
import os
import shutil
import subprocess

from mgtest import PYTHON, WORK, check, finish, skip

INNER = "MG_NS_INNER"
ETC_COPY = os.path.join(WORK, "etc")


def inside():
    """True in the run inside the namespace."""
    return os.environ.get(INNER) == "1"


def run_inside(script, name, why, tools=()):
    """Run @script again (with PYTHON) inside a private mount namespace and
    return its exit status.  When that cannot be done here - not root, or
    `unshare`, `mount` or one of @tools missing or refused - print
    "SKIP @name: ..." (@why says what root is needed for) and return 0."""
    if os.geteuid() != 0:
        skip(name, f"needs root ({why})")
        return 0
    for tool in ("unshare", "mount", *tools):
        if shutil.which(tool) is None:
            skip(name, f"{tool} is not installed")
            return 0
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private",
                            "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        skip(name, "unshare --mount failed: " + probe.stderr.strip())
        return 0
    try:
        env = dict(os.environ, **{INNER: "1"})
        return subprocess.run(["unshare", "--mount", "--propagation",
                               "private", PYTHON, os.path.abspath(script)],
                              env=env).returncode
    finally:
        shutil.rmtree(ETC_COPY, ignore_errors=True)


def sh(*cmd):
    """Run a set-up command; one that fails ends the test with its error."""
    subprocess.run(cmd, check=True)


def private_etc(tag):
    """Inside: /etc becomes a copy of itself, without /etc/ld.so.preload
    or a system policy.  A sentinel file proves the bind took (the check
    "@tag_setup_etc_is_a_private_copy"); without it the test ends there,
    before anything is written."""
    sh("cp", "-a", "/etc", ETC_COPY)
    with open(os.path.join(ETC_COPY, ".mg-ns-test"), "w") as f:
        f.write("copy\n")
    sh("mount", "--bind", ETC_COPY, "/etc")
    if not check(f"{tag}_setup_etc_is_a_private_copy",
                 os.path.exists("/etc/.mg-ns-test"), "the bind failed"):
        finish()
    for f in ("/etc/ld.so.preload", "/etc/modelgate/policy.conf"):
        if os.path.exists(f):
            os.unlink(f)
