"""A system out of what the probe needs: no free process slot or file
descriptor (the process's limit or the whole system's) is exit 71 in one
line naming the limit, also under --wait, which keeps trying; a config the
probe may not read is 69. Run as user nobody, with resource limits."""

import os
import re
import resource
import shutil
import subprocess
import tempfile
import time

import pytest

import readiness_probe as rp
from fake_container import PROBE, run_caller

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}"
NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"  # one that user nobody can run (pyenv's live under /root)


@pytest.fixture
def bare_root():
    """A root that user nobody can read (pytest's tmp_path is root's only),
    with a hook and the probe beside it, and no supervisord: the probe goes
    straight to the hook."""
    top = tempfile.mkdtemp(prefix="rp-bare-", dir="/tmp")
    os.makedirs(os.path.join(top, "root/usr/bin"))
    with open(os.path.join(top, "root/usr/bin/readiness_probe_hook"), "w") as f:
        f.write("#!/bin/sh\necho fine\nexit 0\n")
    shutil.copy(PROBE, os.path.join(top, "readiness_probe.py"))
    for path, _, names in os.walk(top):
        os.chmod(path, 0o755)
        for name in names:
            os.chmod(os.path.join(path, name), 0o755)
    yield top
    shutil.rmtree(top)


def run_limited(bare_root, limits, *args, as_nobody=False):
    """The probe copy in bare_root, run with resource limits {RLIMIT_X: n}."""
    def limit():
        for which, value in limits.items():
            resource.setrlimit(which, (value, value))
        if as_nobody:
            os.setgid(NOBODY)
            os.setuid(NOBODY)

    started = time.monotonic()
    proc = subprocess.run([SYSTEM_PYTHON, os.path.join(bare_root, "readiness_probe.py"), "--root",
                           os.path.join(bare_root, "root")] + list(args),
                          preexec_fn=limit, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return proc.returncode, proc.stdout.decode(), time.monotonic() - started


def processes_of(uid):
    count = 0
    for entry in os.listdir("/proc"):
        try:
            with open("/proc/%s/status" % entry) as f:
                count += any(line.split()[:2] == ["Uid:", str(uid)] for line in f)
        except (OSError, ValueError):
            continue
    return count


needs_system_python = pytest.mark.skipif(not os.access(SYSTEM_PYTHON, os.X_OK), reason="needs %s" % SYSTEM_PYTHON)


needs_nobody = pytest.mark.skipif(os.geteuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK) or processes_of(NOBODY),
                                  reason="needs root (to become nobody), no process of nobody's, and %s" % SYSTEM_PYTHON)


NO_PROCESS_SLOT = ("not ready (exit 71): cannot start the hook: fork failed: Resource temporarily unavailable"
                   " (a limit of the system: no free process slot)")


@needs_nobody
def test_no_free_process_slot_is_71_in_one_line(bare_root):
    assert run_limited(bare_root, {})[:2] == (0, "ready: no supervisord; hook exited 0\n")
    code, output, _ = run_limited(bare_root, {resource.RLIMIT_NPROC: 1}, as_nobody=True)  # nobody's only process
    assert (code, output) == (rp.EXIT_NO_RESOURCES, NO_PROCESS_SLOT + "\n")


@needs_nobody
def test_config_the_probe_cannot_read_is_69_in_one_line(bare_root):
    config = os.path.join(bare_root, "root/etc/supervisord.conf")
    os.makedirs(os.path.dirname(config))
    with open(config, "w") as f:
        f.write("[unix_http_server]\nfile = /var/run/supervisor.sock\n")
    os.chmod(config, 0)
    code, output, _ = run_limited(bare_root, {}, as_nobody=True)
    assert (code, output) == (69, "not ready (exit 69): cannot read %s: Permission denied\n" % config)


@needs_nobody
def test_wait_keeps_trying_while_no_process_slot_is_free(bare_root):
    code, output, elapsed = run_limited(bare_root, {resource.RLIMIT_NPROC: 1}, "--wait", "2", "--interval", "0.2",
                                        as_nobody=True)
    assert code == 71, output
    assert re.match(STAMP + " " + re.escape(NO_PROCESS_SLOT) + r"\n\Z", output), output
    assert elapsed >= 2 - 0.2, "it gave up after %.2f s of 2" % elapsed


@needs_system_python
@pytest.mark.parametrize("limit", [6, 9])
def test_no_free_file_descriptor_is_71_in_one_line(bare_root, limit):
    code, output, _ = run_limited(bare_root, {resource.RLIMIT_NOFILE: limit})
    assert (code, output) == (71, "not ready (exit 71): cannot start the hook: pipe failed: Too many open files"
                                  " (a limit of the system: no free file descriptor)\n")


FULL_FILE_TABLE = """
import errno, os, sys
sys.path[0] = sys.argv.pop(1)
import readiness_probe
def pipe():  # what the kernel answers when the whole system's file table is full
    raise OSError(errno.ENFILE, os.strerror(errno.ENFILE))
os.pipe = pipe
sys.exit(readiness_probe.main())
"""


def test_a_full_file_table_of_the_system_is_71_and_named(bare_root):
    """ENFILE (the system's limit, not the process's) cannot be reached
    safely on a shared machine: the pipe call is made to answer it."""
    code, output = run_caller(FULL_FILE_TABLE, "--root", os.path.join(bare_root, "root"))
    assert (code, output) == (71, b"not ready (exit 71): cannot start the hook: pipe failed: Too many open files in"
                                  b" system (a limit of the system: no free file descriptor)\n")
