"""readiness_probe.sh under the shells images have: dash, bash, busybox sh,
also with an empty environment."""

import os
import shutil
import subprocess

import pytest

from fake_container import LAUNCHER

SHELLS = {"dash": ["dash"], "bash": ["bash", "--posix"], "busybox": ["busybox", "sh"]}


def shell_command(name):
    command = SHELLS[name]
    if shutil.which(command[0]) is None:
        if os.environ.get("CI"):
            pytest.fail("%s is not installed (.ci/run installs it)" % command[0])
        pytest.skip("%s is not installed" % command[0])
    return [shutil.which(command[0])] + command[1:]


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_launcher_runs_under_the_shell(ready, shell):
    ready.write_hook("exit 3")
    env = dict(os.environ, READINESS_PROBE_PYTHON="/usr/bin/python3")
    proc = subprocess.run(shell_command(shell) + [LAUNCHER, "--root", ready.root, "--timeout=5"], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    assert proc.returncode == 3, proc.stdout
    assert proc.stdout.decode().startswith("not ready (exit 3): hook exited 3\n")


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_launcher_finds_python3_with_an_empty_environment(ready, shell):
    """env -i: no PATH at all; the shell's default PATH has /usr/bin/python3."""
    proc = subprocess.run(shell_command(shell) + [LAUNCHER, "--root", ready.root], env={},
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout == b"ready: start exited with status 0; no hook\n"


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_launcher_without_python3_is_127_under_the_shell(tmp_path, shell):
    proc = subprocess.run(shell_command(shell) + [LAUNCHER], env={"PATH": str(tmp_path)},
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    assert proc.returncode == 127, proc.stdout
    assert proc.stdout.startswith(b"not ready (exit 127): readiness_probe.sh found no python3")
