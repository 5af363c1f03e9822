"""./dev, the quick start's entry point: a command it does not know is a
usage error at once, before the slow first-use set-up (a venv and tox from
PyPI) begins. Its set-up and commands run in CI as the README's quick start,
verbatim, from a fresh clone."""

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
