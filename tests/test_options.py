"""The command line and the environment: flags beat the environment, and
bad input is one line and exit 64, never a traceback."""

import os
import shutil

import pytest

import readiness_probe as rp
from fake_container import run_probe


def seconds_error(name, value):
    return "%s must be a positive number of seconds up to %d, got %r" % (name, rp.MAX_SECONDS, value)


@pytest.mark.parametrize(
    "args,culprit",
    [
        (["--timeout", "banana"], seconds_error("--timeout", "banana")),
        (["--timeout", "-1"], seconds_error("--timeout", "-1")),
        (["--timeout", "0"], seconds_error("--timeout", "0")),
        (["--timeout", "nan"], seconds_error("--timeout", "nan")),
        (["--timeout", "inf"], seconds_error("--timeout", "inf")),
        (["--timeout=1e999"], seconds_error("--timeout", "1e999")),
        (["--frobnicate"], "unknown flag '--frobnicate'"),
        (["extra"], "unknown argument 'extra'"),
        (["--timeout"], "--timeout needs a value"),
        (["--root", "/nonexistent/root"], "--root '/nonexistent/root' is not a directory"),
        (["--socket="], "--socket must not be empty"),
        (["--wait", "soon"], seconds_error("--wait", "soon")),
        (["--wait", "1", "--interval", "0"], seconds_error("--interval", "0")),
        (["--timeout", "1e10"], seconds_error("--timeout", "1e10")),
        (["--interval", "1"], "--interval goes with --wait"),
        (["--serverurl", "https://127.0.0.1:9001"],
         "--serverurl must be unix:///PATH or http://HOST:PORT, got 'https://127.0.0.1:9001'"),
        (["-s", "http://127.0.0.1:99999"], "--serverurl must be unix:///PATH or http://HOST:PORT, got 'http://127.0.0.1:99999'"),
        (["-s", "http://127.0.0.1:65536"], "--serverurl must be unix:///PATH or http://HOST:PORT, got 'http://127.0.0.1:65536'"),
        (["-s", "http://127.0.0.1:0"], "--serverurl must be unix:///PATH or http://HOST:PORT, got 'http://127.0.0.1:0'"),
        (["-s", "unix://"], "--serverurl must be unix:///PATH or http://HOST:PORT, got 'unix://'"),
        (["--serverurl", "unix:///a.sock", "--socket", "/b.sock"], "--serverurl and --socket both name supervisord: give one"),
    ],
    ids=lambda value: value if isinstance(value, str) else " ".join(value),
)
def test_bad_flag_is_64_and_one_line_naming_it(container, args, culprit):
    result = container.probe(*args)
    assert result.code == rp.EXIT_USAGE == 64, result
    assert result.text == "not ready (exit 64): %s%s\n" % (
        culprit, " (see --help)" if culprit.startswith("unknown") else "")


@pytest.mark.parametrize(
    "name,value,culprit",
    [
        ("READINESS_PROBE_TIMEOUT", "banana", seconds_error("READINESS_PROBE_TIMEOUT", "banana")),
        ("READINESS_PROBE_TIMEOUT", "-1", seconds_error("READINESS_PROBE_TIMEOUT", "-1")),
        ("READINESS_PROBE_TIMEOUT", "0", seconds_error("READINESS_PROBE_TIMEOUT", "0")),
        ("READINESS_PROBE_TIMEOUT", "nan", seconds_error("READINESS_PROBE_TIMEOUT", "nan")),
        ("READINESS_PROBE_TIMEOUT", "inf", seconds_error("READINESS_PROBE_TIMEOUT", "inf")),
        ("READINESS_PROBE_ROOT", "/nonexistent/root", "READINESS_PROBE_ROOT '/nonexistent/root' is not a directory"),
    ],
)
def test_bad_environment_value_is_64_and_one_line_naming_it(name, value, culprit):
    from fake_container import run_probe

    result = run_probe([], env=dict(os.environ, **{name: value}))
    assert result.code == 64, result
    assert result.text == "not ready (exit 64): %s\n" % culprit


def test_root_not_a_directory_is_64(container):
    result = container.probe("--root", container.path("/usr/bin/start.sh"))
    assert result.code == 64, result
    assert "is not a directory" in result.first_line


def test_root_from_the_environment(container):
    from fake_container import run_probe

    container.write_hook("exit 5")
    import shutil

    shutil.rmtree(container.path("/etc/supervisor"))
    result = run_probe([], env=dict(os.environ, READINESS_PROBE_ROOT=container.root))
    assert result.code == 5, result


def test_root_flag_beats_the_environment(container, tmp_path):
    from fake_container import run_probe

    container.write_hook("exit 5")
    import shutil

    shutil.rmtree(container.path("/etc/supervisor"))
    result = run_probe(["--root", container.root], env=dict(os.environ, READINESS_PROBE_ROOT=str(tmp_path)))
    assert result.code == 5, result


def test_timeout_from_the_environment_bounds_the_hook(ready):
    from fake_container import run_probe

    ready.write_hook("sleep 30")
    env = dict(os.environ, READINESS_PROBE_TIMEOUT="0.3", READINESS_PROBE_ROOT=ready.root)
    result = run_probe([], env=env)
    assert result.code == 124, result


def test_timeout_flag_beats_the_environment(ready):
    ready.write_hook('echo "left=$READINESS_PROBE_TIME_LEFT"; exit 3')
    result = ready.probe("--timeout", "7", env=dict(os.environ, READINESS_PROBE_TIMEOUT="0.5"))
    assert float(result.text.split("left=")[1].split()[0]) > 6.0, result


def test_default_timeout_is_the_documented_one(ready):
    ready.write_hook('echo "left=$READINESS_PROBE_TIME_LEFT"; exit 3')
    env = dict(os.environ)
    env.pop("READINESS_PROBE_TIMEOUT", None)
    result = ready.probe(env=env)
    left = float(result.text.split("left=")[1].split()[0])
    assert rp.DEFAULT_TIMEOUT == 0.8
    assert 0 < left <= rp.DEFAULT_TIMEOUT, result


def test_help_shows_flags_and_exit_codes(container):
    result = container.probe("--help")
    assert result.code == 0
    flags = result.text.split("\nflags:\n", 1)[1].split("\n\n", 1)[0]
    environment = result.text.split("\nenvironment:\n", 1)[1].split("\n\n", 1)[0]
    codes = result.text.split("\nexit codes:\n", 1)[1].split("\n\n", 1)[0]
    assert [line.split()[0].rstrip(",") for line in flags.splitlines() if line.startswith("  --")] == [
        row[0] for row in rp.FLAGS]
    for flag, alias, value, _ in rp.FLAGS:
        assert "\n  %s%s%s" % (flag, " " + value if value else "", ", " + alias if alias else "") in "\n" + flags
    assert [line.split()[0] for line in environment.splitlines() if not line.startswith("    ")] == [
        name for name, _ in rp.ENVIRONMENT]
    assert [line.split()[0] for line in codes.splitlines() if not line.startswith("    ")] == [
        shown for _, shown, _ in rp.EXIT_CODES]
    for _, _, meaning in rp.EXIT_CODES:  # each meaning whole, however it is wrapped
        assert " ".join(meaning.split()) in " ".join(codes.split())


def test_help_and_version_need_no_valid_values(container):
    env = dict(os.environ, READINESS_PROBE_TIMEOUT="banana")
    assert container.probe("--version", env=env).code == 0
    assert container.probe("--help", "--timeout", "nan", env=env).code == 0


def test_version_prints_the_version(container):
    result = container.probe("--version")
    assert result.code == 0
    assert result.text == "readiness_probe %s\n" % rp.__version__


def test_dash_h_is_help(container):
    result = container.probe("-h")
    assert result.code == 0, result
    assert result.output == container.probe("--help").output
    assert result.text.startswith("usage: ")


@pytest.mark.parametrize(
    "args,first_line",
    [
        (["--help", "--frobnicate"], "usage: "),
        (["extra", "-h"], "usage: "),
        (["--help", "--timeout"], "usage: "),
        (["--help", "--root"], "usage: "),
        (["--version", "extra"], "readiness_probe "),
        (["--frobnicate", "--version"], "readiness_probe "),
        (["--version", "--root", "/nonexistent/root", "extra"], "readiness_probe "),
    ],
    ids=["help-unknown-flag", "argument-h", "help-missing-value", "help-root-without-value", "version-argument",
         "unknown-flag-version", "version-bad-root-argument"],
)
def test_help_and_version_exit_zero_whatever_else_is_given(container, args, first_line):
    result = container.probe(*args)
    assert result.code == 0, result
    assert result.first_line.startswith(first_line), result


def unused_socket():
    """A socket path, absolute on the machine, that nothing listens on."""
    import random

    return "/var/run/rp-test-%06d.sock" % random.randrange(1000000)


def test_root_defaults_to_slash(tmp_path):
    """Neither --root nor READINESS_PROBE_ROOT: container paths are read
    under /, whatever the working directory (the socket shows it)."""
    from fake_container import run_probe

    socket_path = unused_socket()
    env = dict(os.environ)
    env.pop("READINESS_PROBE_ROOT", None)
    result = run_probe(["--socket", socket_path], env=env, cwd=str(tmp_path))
    assert result.text == "not ready (exit 69): cannot ask supervisord at %s: no such socket\n" % socket_path


def test_empty_root_in_the_environment_counts_as_unset(tmp_path):
    from fake_container import run_probe

    socket_path = unused_socket()
    result = run_probe(["--socket", socket_path], env=dict(os.environ, READINESS_PROBE_ROOT=""), cwd=str(tmp_path))
    assert result.text == "not ready (exit 69): cannot ask supervisord at %s: no such socket\n" % socket_path


def test_empty_timeout_in_the_environment_counts_as_unset(ready):
    ready.write_hook('echo "left=$READINESS_PROBE_TIME_LEFT"; exit 3')
    result = ready.probe(env=dict(os.environ, READINESS_PROBE_TIMEOUT=""))
    assert result.code == 3, result
    assert 0 < float(result.text.split("left=")[1].split()[0]) <= rp.DEFAULT_TIMEOUT, result


@pytest.mark.parametrize("flag", ["--timeout", "--wait", "--interval"])
def test_a_week_is_the_longest_accepted(container, flag):
    shutil.rmtree(container.path("/etc/supervisor"))  # no supervisord: ready at once
    before = ["--wait", "1"] if flag == "--interval" else []
    result = container.probe(*before + [flag, str(rp.MAX_SECONDS)])
    assert result.code == 0, result
    assert result.text.endswith("ready: no supervisord; no hook\n"), result
    too_long = "%d.5" % rp.MAX_SECONDS
    result = container.probe(*before + [flag, too_long])
    assert result.text == "not ready (exit 64): %s\n" % seconds_error(flag, too_long), result


@pytest.mark.parametrize(
    "args,line",
    [
        (["--program", "x", "--wait", "5"], "--program asks one program's state: it goes with neither --wait nor --hook"),
        (["--program", ""], "--program must not be empty"),
        (["--hook", "/nonexistent/hook"], "--hook '/nonexistent/hook' does not exist"),
    ],
    ids=["program-with-wait", "empty-program", "missing-hook"],
)
def test_bad_hook_author_flags_are_64_and_one_line(container, args, line):
    result = container.probe(*args)
    assert (result.code, result.text) == (64, "not ready (exit 64): %s\n" % line), result


def test_bad_inherited_deadline_is_64_with_program(container):
    result = run_probe(["--root", container.root, "--program", "x"], env=dict(os.environ, READINESS_PROBE_DEADLINE="soon"))
    assert (result.code, result.text) == (64, "not ready (exit 64): READINESS_PROBE_DEADLINE must be a time on the"
                                              " monotonic clock, got 'soon'\n"), result


def test_program_flag_with_hook_is_64(container, tmp_path):
    hook = tmp_path / "hook"
    hook.write_text("#!/bin/sh\nexit 0\n")
    hook.chmod(0o755)
    result = container.probe("--program", "featured", "--hook", str(hook))
    assert (result.code, result.text) == (
        64, "not ready (exit 64): --program asks one program's state: it goes with neither --wait nor --hook\n"), result


def test_empty_configuration_flag_is_64_and_empty_environment_counts_as_unset(container):
    result = container.probe("--configuration=")
    assert result.text == "not ready (exit 64): --configuration must not be empty\n", result
    result = container.probe(env=dict(os.environ, READINESS_PROBE_CONFIG=""))
    assert result.first_line.startswith("not ready (exit 69): supervisord is not running"), result  # the standard config
