"""readiness_probe.sh under the shells images have: dash, bash, busybox sh,
also with an empty environment; and how it starts python: without site or
PYTHON* variables, on the image's precompiled bytecode."""

import os
import shutil
import subprocess
import sys

import pytest

from fake_container import LAUNCHER, PROBE, compile_marked_twin, run_probe

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


def test_launcher_ignores_python_variables(ready):
    """-E: a PYTHONHOME meant for another program in the image (here, one
    that does not exist) would stop python from starting at all."""
    env = dict(os.environ, PYTHONHOME="/nonexistent", PYTHONPATH="/nonexistent")
    result = run_probe(["--root", ready.root], env=env)
    assert result.text == "ready: start exited with status 0; no hook\n", result


def test_launcher_skips_site_packages(ready, tmp_path):
    """-S: site and its .pth files are not run (the probe needs nothing
    from site-packages, and they cost time on every run)."""
    base_python = os.path.join(sys.base_prefix, "bin", "python3")  # not a venv: user site enabled
    user_site = tmp_path / ".local" / "lib" / ("python%d.%d" % sys.version_info[:2]) / "site-packages"
    user_site.mkdir(parents=True)
    (user_site / "probe_test.pth").write_text("import sys; sys.stdout.write('site ran\\n')\n")
    env = dict(os.environ, HOME=str(tmp_path), READINESS_PROBE_PYTHON=base_python)
    check = subprocess.run([base_python, "-E", "-c", "pass"], env=env, stdout=subprocess.PIPE)
    assert check.stdout == b"site ran\n"  # the trap works: python without -S runs the .pth
    result = run_probe(["--root", ready.root], env=env)
    assert result.text == "ready: start exited with status 0; no hook\n", result


def test_launcher_runs_the_precompiled_bytecode(tmp_path):
    """The image's `python3 -m py_compile` result is what runs: here a
    bytecode file compiled from a copy whose version differs (same size,
    same mtime as the real source, so python takes the bytecode as current)."""
    image_bin = tmp_path / "usr-bin"
    image_bin.mkdir()
    for source in (LAUNCHER, PROBE):
        shutil.copy(source, str(image_bin))
    marked = compile_marked_twin(str(image_bin / "readiness_probe.py"), tmp_path)
    result = subprocess.run([str(image_bin / "readiness_probe.sh"), "--version"], stdout=subprocess.PIPE,
                            env=dict(os.environ, READINESS_PROBE_PYTHON=sys.executable))
    assert result.stdout == ("readiness_probe %s\n" % marked).encode()
