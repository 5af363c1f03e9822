"""A system out of what the probe needs: no free process slot or file
descriptor (the process's limit or the whole system's) is exit 71 in one
line naming the limit, also under --wait, which keeps trying. Run as user
nobody, with resource limits (a config the probe may not read:
test_finding_supervisord.py)."""

import os
import re
import resource

import pytest

import readiness_probe as rp
from fake_container import run_caller
from nobody import SYSTEM_PYTHON, needs_nobody, run_limited

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}"


needs_system_python = pytest.mark.skipif(not os.access(SYSTEM_PYTHON, os.X_OK), reason="needs %s" % SYSTEM_PYTHON)


NO_PROCESS_SLOT = ("not ready (exit 71): cannot start the hook: fork failed: Resource temporarily unavailable"
                   " (a limit of the system: no free process slot)")


@needs_nobody
def test_no_free_process_slot_is_71_in_one_line(bare_root):
    assert run_limited(bare_root, {})[:2] == (0, "ready: no supervisord; hook exited 0\n")
    code, output, _ = run_limited(bare_root, {resource.RLIMIT_NPROC: 1}, as_nobody=True)  # nobody's only process
    assert (code, output) == (rp.EXIT_NO_RESOURCES, NO_PROCESS_SLOT + "\n")


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
