"""Running the probe as user nobody: the preexec_fn that becomes nobody,
the probe copy in a bare root (conftest.py's bare_root) run as nobody with
resource limits, and the skips where nobody cannot run it."""

import os
import resource
import subprocess
import time

import pytest

from fake_container import LAUNCHER

NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"  # one that user nobody can run (pyenv's live under /root)


def as_nobody():
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def nobody_can_run_the_launcher():
    """Every directory above the launcher lets others through (a clone under
    /root, or in a 0700 temporary directory, does not)."""
    directory = os.path.dirname(LAUNCHER)
    while directory != os.path.dirname(directory):
        if not os.stat(directory).st_mode & 0o001:
            return False
        directory = os.path.dirname(directory)
    return True


needs_a_launcher_nobody_can_run = pytest.mark.skipif(
    not nobody_can_run_the_launcher(), reason="the repository is not reachable by user nobody here")


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


needs_nobody = pytest.mark.skipif(os.geteuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK) or processes_of(NOBODY),
                                  reason="needs root (to become nobody), no process of nobody's, and %s" % SYSTEM_PYTHON)
