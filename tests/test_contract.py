"""The contract in one place: README.md's tables, the code's named constants
and the launcher agree."""

import os
import shutil
import subprocess
import sys

import pytest

import readiness_probe as rp
from fake_container import LAUNCHER, REPO, WITHOUT_CTYPES, documented_outcome, run_caller, run_probe

README = open(os.path.join(REPO, "README.md")).read()


def readme_table(heading):
    """The first column of the table under `## heading`."""
    section = README.split("\n## %s\n" % heading, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [row.split("|")[1].strip().strip("`") for row in rows[1:]]  # rows[0] is the header


def test_readme_exit_codes_are_the_table_in_the_code():
    documented = readme_table("Exit codes")
    assert documented == [shown.replace("-", "\u2013") for _, shown, _ in rp.EXIT_CODES]  # 3–63, an en dash


def test_every_exit_constant_is_a_row_of_the_table():
    constants = {name: getattr(rp, name) for name in dir(rp) if name.startswith("EXIT_") and name != "EXIT_CODES"}
    codes = [code for code, _, _ in rp.EXIT_CODES]
    assert len(set(codes)) == len(codes), codes
    assert set(constants.values()) | {rp.HOOK_CODES.start} == set(codes), constants
    assert len(set(constants.values())) == len(constants), constants  # one name for each code
    assert (rp.HOOK_CODES.start, rp.HOOK_CODES.stop - 1) == (3, 63)
    assert [shown for code, shown, _ in rp.EXIT_CODES if shown != str(code)] == ["3-63", "128+N"]


def test_launcher_exit_code_matches_the_constant():
    assert "EXIT_NO_PYTHON=%d\n" % rp.EXIT_NO_PYTHON in open(LAUNCHER).read()


def test_readme_flags_are_the_table_in_the_code():
    documented = [cell.split() for cell in readme_table("Flags")]
    assert documented == [[flag, value] if value else [flag] for flag, _, value, _ in rp.FLAGS]
    assert set(rp.VALUE_FLAGS) | set(rp.SWITCHES) == {name for row in rp.FLAGS for name in row[:2] if name}
    assert set(rp.ALIASES) == {"-c", "-h", "-s"}


def test_readme_environment_is_the_table_in_the_code():
    documented = readme_table("Environment")
    assert documented == [name for name, _ in rp.ENVIRONMENT]
    constants = {getattr(rp, name) for name in dir(rp) if name.startswith("ENV_")}
    assert constants == set(documented)
    assert "${%s:-}" % rp.ENV_PYTHON in open(LAUNCHER).read()


def test_readme_default_timeout_matches_the_constant():
    assert "`READINESS_PROBE_TIMEOUT`, else %s |" % rp.DEFAULT_TIMEOUT in README


def test_readme_default_interval_matches_the_constant():
    row = [line for line in README.splitlines() if line.startswith("| `--interval SECONDS` |")]
    assert len(row) == 1, row
    assert row[0].split("|")[3].strip() == "%g" % rp.DEFAULT_INTERVAL


def test_launcher_without_python3_is_127(tmp_path):
    result = subprocess.run(
        ["/bin/sh", LAUNCHER], env={"PATH": str(tmp_path)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == rp.EXIT_NO_PYTHON == 127
    assert result.stdout.decode() == (
        "not ready (exit 127): readiness_probe.sh found no python3 on PATH (%s)\n" % tmp_path)


def test_launcher_finds_python3_on_path(container, tmp_path):
    os.symlink(sys.executable, str(tmp_path / "python3"))
    env = {"PATH": "%s:/usr/bin:/bin" % tmp_path}
    result = run_probe(["--version"], env=env)
    assert result.text == "readiness_probe %s\n" % rp.__version__, result
    env["READINESS_PROBE_PYTHON"] = ""  # empty: fall back to PATH
    result = run_probe(["--version"], env=env)
    assert result.text == "readiness_probe %s\n" % rp.__version__, result


def test_launcher_passes_arguments_through_unchanged(container):
    container.write_hook('echo "root=$READINESS_PROBE_ROOT"; exit 9')
    shutil.rmtree(container.path("/etc/supervisor"))
    odd = container.root + "/with space"
    os.makedirs(odd + "/usr/bin")
    shutil.copy(container.path(rp.HOOK_PATH), odd + "/usr/bin/readiness_probe_hook")
    result = run_probe(["--root", odd, "--timeout=5"])
    assert result.code == 9, result
    assert "root=%s" % odd in result.text


def test_probe_file_runs_alone_by_its_shebang(container, tmp_path):
    alone = tmp_path / "readiness_probe.py"
    shutil.copy(rp.__file__, str(alone))
    bindir = os.path.dirname(sys.executable)  # `env python3` finds the interpreter under test
    env = dict(os.environ, PATH="%s:%s" % (bindir, os.environ.get("PATH", "")))
    shutil.rmtree(container.path("/etc/supervisor"))
    result = subprocess.run([str(alone), "--root", container.root], env=env, cwd="/",
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert result.returncode == 0, result.stdout
    assert result.stdout == b"ready: no supervisord; no hook\n"


def test_internal_error_is_one_line_and_70(ready):
    """A python that lacks a module the hook runner needs (a stripped image):
    the probe cannot do its job, and says so in one line."""
    ready.write_hook("exit 0")
    without_select = "import sys\nsys.modules['select'] = None\n" + WITHOUT_CTYPES.split("\n", 2)[2]
    code, output = run_caller(without_select, "--root", ready.root)
    assert code == rp.EXIT_INTERNAL == 70, output
    assert output.decode() == ("not ready (exit 70): internal error: ModuleNotFoundError: import of select halted;"
                               " None in sys.modules\n")


def test_launcher_prefers_readiness_probe_python_to_path(tmp_path):
    decoy = tmp_path / "python3"
    decoy.write_text("#!/bin/sh\necho 'the python3 on PATH ran'; exit 99\n")
    decoy.chmod(0o755)
    env = dict(os.environ, PATH="%s:%s" % (tmp_path, os.environ["PATH"]), READINESS_PROBE_PYTHON=sys.executable)
    result = run_probe(["--version"], env=env)
    assert result.text == "readiness_probe %s\n" % rp.__version__, result


def test_launcher_with_a_python_that_is_not_executable_is_127(tmp_path):
    not_python = tmp_path / "python3"
    not_python.write_text("not a program\n")
    result = run_probe(["--version"], env=dict(os.environ, READINESS_PROBE_PYTHON=str(not_python)))
    assert result.code == 127, result
    assert result.text == "not ready (exit 127): readiness_probe.sh found no python3 at READINESS_PROBE_PYTHON=%s\n" % not_python


def test_launcher_without_the_module_beside_it_is_70(tmp_path):
    shutil.copy(LAUNCHER, str(tmp_path))
    proc = subprocess.run([str(tmp_path / "readiness_probe.sh")], env=dict(os.environ, READINESS_PROBE_PYTHON=sys.executable),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.returncode == 70, proc.stdout
    assert proc.stdout.startswith(b"not ready (exit 70): cannot import readiness_probe.py from %s: " % str(tmp_path).encode())
    assert proc.stdout.count(b"\n") == 1


def test_readme_longest_seconds_matches_the_constant():
    assert "at most %d (a week)" % rp.MAX_SECONDS in README
    assert rp.MAX_SECONDS == 7 * 24 * 3600


UNUSED = min(set(range(rp.EXIT_USAGE, rp.EXIT_TIMEOUT)) - {code for code, _, _ in rp.EXIT_CODES})  # in no row


@pytest.mark.parametrize("code, output, documented", [
    (0, b"ready: start exited with status 0; no hook\n", True),
    (0, b"featured is RUNNING\n", True),  # --program
    (0, b"sh: 0: getcwd() failed: No such file or directory\nready: start exited with status 0; no hook\n", True),
    (0, b"", False),
    (0, b"error: boom\n", False),
    (0, b'{"ready": true, "code": 0, "by": "probe", "reason": "oops"}\n', False),
    (0, b'{"ready": true, "code": 2, "by": "probe", "reason": "ready: x"}\n', False),
    (2, b"ready: start exited with status 0; no hook\n", False),
    (2, b"not ready (exit 69): cannot ask supervisord at /s.sock: no such socket\n", False),
    (5, b"not ready (exit 5): hook exited 5\n", True),
    (5, b"not ready (exit 5): start is RUNNING; no hook run\n", False),  # only the hook gives 3-63
    (UNUSED, b"not ready (exit %d): --root '/x' is not a directory\n" % UNUSED, False),  # in no row
    (99, b"not ready (exit 99): hook exited 99 (the hook's own code, not the probe's)\n", True),
    (70, b'not ready (exit 70): internal error\n  File "readiness_probe.py", line 3\nValueError\n', False),
    (3, b"2026-12-02T14:08:49+0000 not ready (exit 4): hook exited 4\n"
        b"2026-12-02T14:08:50+0000 not ready (exit 3): hook exited 3\n"
        b"2026-12-02T14:08:50.123+00:00 ready: a line of the hook's own\n", True),  # --wait: the last verdict
    (0, b"2026-12-02T14:08:49+0000 not ready (exit 4): hook exited 4\n", False),
])
def test_the_outcome_check_takes_only_what_the_table_allows(code, output, documented):
    """The check every probe run of the fixtures passes through: a planted
    outcome the contract does not allow fails it."""
    try:
        documented_outcome(code, output)
    except AssertionError:
        assert not documented, output
    else:
        assert documented, output
