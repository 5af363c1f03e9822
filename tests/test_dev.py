"""./dev, the quick start's entry point: a command it does not know is a
usage error at once, before the slow first-use set-up (a venv and tox from
PyPI) begins. Its set-up and commands run in CI as the README's quick start,
verbatim, from a fresh clone."""

import glob
import os
import re
import shutil
import subprocess

from fake_container import REPO

EXIT_USAGE = 64


def run_dev(tmp_path, *args):
    """./dev copied alone into tmp_path, so whatever it sets up lands there."""
    dev = str(tmp_path / "dev")
    shutil.copy(os.path.join(REPO, "dev"), dev)
    return subprocess.run(
        [dev] + list(args), cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True
    )


def test_unknown_command_is_a_usage_error_before_any_set_up(tmp_path):
    result = run_dev(tmp_path, "tset")
    assert result.returncode == EXIT_USAGE
    assert result.stderr.splitlines()[0] == "dev: unknown command 'tset'; usage:"
    assert "./dev test" in result.stderr
    assert result.stdout == ""
    assert sorted(os.listdir(str(tmp_path))) == ["dev"]


def test_no_command_is_a_usage_error_before_any_set_up(tmp_path):
    result = run_dev(tmp_path)
    assert result.returncode == EXIT_USAGE
    assert result.stderr.splitlines()[0] == "dev: no command given; usage:"
    assert sorted(os.listdir(str(tmp_path))) == ["dev"]


def test_help_prints_the_commands_and_exits_0(tmp_path):
    result = run_dev(tmp_path, "--help")
    assert result.returncode == 0
    assert [line.split()[1] for line in result.stdout.splitlines() if line.startswith("./dev ")] == ["demo", "test", "tox"]
    assert sorted(os.listdir(str(tmp_path))) == ["dev"]


def test_tox_and_virtualenv_versions_are_written_in_tox_ini_alone():
    """./dev and .ci/run install plain tox; tox provisions the versions
    tox.ini's `requires` names (virtualenv's pin is written once there)."""
    pin = re.compile(r"\b(tox|virtualenv)\s*(==|>=|<=|~=|<|>)")
    for name in ("dev", os.path.join(".ci", "run")):
        with open(os.path.join(REPO, name)) as f:
            assert not pin.findall(f.read()), name
    with open(os.path.join(REPO, "tox.ini")) as f:
        pins = pin.findall(f.read())
    assert sorted(pins) == [("tox", ">="), ("virtualenv", "<")], pins


# Where the project pins a package's version, and how a pin is written there
# (a requirement in a string, an ini value or a line: no spaces around the
# operator, as pip writes them).
PINNED_IN = ["tox.ini", "tests/requirements.txt", ".ci/run", "dev", "pyproject.toml", "setup.cfg"]
PIN = re.compile(r"(?<![\w.-])([A-Za-z][A-Za-z0-9._-]*)(==|>=|<=|~=|<|>)(\d[\w.]*)")


def test_every_pin_is_written_in_one_place():
    """A package's pins all live in one file, and no pin is written twice:
    the one place to change a version. supervisor's two are two
    environments' (4.2.5, 3.4.0), both in tox.ini."""
    files = PINNED_IN + sorted(os.path.relpath(path, REPO) for path in glob.glob(os.path.join(REPO, "containers", "*.py")))
    where = {}
    for name in files:
        with open(os.path.join(REPO, name)) as f:
            for package, operator, version in PIN.findall(f.read()):
                where.setdefault(package.lower(), []).append((name, operator + version))
    assert "supervisord-dependent-startup" in where and "setuptools" in where, where  # the pattern finds pins
    for package, pins in sorted(where.items()):
        assert len({name for name, _ in pins}) == 1, (package, pins)
        assert len(set(pins)) == len(pins), (package, pins)
