"""What a hook author is promised: a time budget to trust, supervisord
within reach, a hook tried in one command, and templates that do all of it
right (whose a code is, --json's `by`: test_output.py)."""

import functools
import json
import os
import re
import shlex
import subprocess
import sys
import time

import pytest

from fake_container import EXAMPLE_HOOKS, REPO, run_probe
from fake_supervisord import EXITED_ZERO, MisbehavingServer, xmlrpc_answer

HOOK_GUIDE = open(os.path.join(EXAMPLE_HOOKS, "README.md"), encoding="utf-8").read()


def hook_environment(result):
    """The NAME=value lines a hook printed with `env`."""
    return dict(line.split("=", 1) for line in result.text.splitlines()[1:] if "=" in line)


# -- time -------------------------------------------------------------------------
def test_hook_gets_its_deadline_on_the_monotonic_clock(ready):
    """The probe's start plus --timeout, on the clock time.monotonic() reads
    in every process of this machine."""
    ready.write_hook('echo "$READINESS_PROBE_DEADLINE"; exit 3')
    before = time.monotonic()
    result = ready.probe("--timeout", "5")
    after = time.monotonic()
    deadline = float(result.text.splitlines()[1])
    assert before + 5 <= deadline <= after + 5, (before, deadline, after)


def test_hook_gets_the_time_left_in_whole_milliseconds(ready):
    ready.write_hook("env; exit 3")
    env = hook_environment(ready.probe("--timeout", "5"))
    milliseconds = env["READINESS_PROBE_TIME_LEFT_MS"]
    assert milliseconds.isdigit(), milliseconds
    assert 4000 < int(milliseconds) <= 5000
    assert abs(int(milliseconds) - 1000 * float(env["READINESS_PROBE_TIME_LEFT"])) <= 1


# -- supervisord within reach -----------------------------------------------------------
def test_hook_is_told_where_supervisord_is(ready):
    ready.write_hook("env; exit 3")
    env = hook_environment(ready.probe())
    assert env["READINESS_PROBE_SUPERVISOR"] == "unix://" + ready.path("/var/run/supervisor.sock")


def test_hook_is_told_the_address_the_probe_used(container):
    with MisbehavingServer(container.path("/var/run/fake.sock"), xmlrpc_answer(EXITED_ZERO)):
        container.write_hook("env; exit 3")
        env = hook_environment(container.probe("--serverurl", "unix:///var/run/fake.sock"))
    assert env["READINESS_PROBE_SUPERVISOR"] == "unix://" + container.path("/var/run/fake.sock")


def test_hook_is_never_told_supervisords_credentials(container):
    main = open(container.path("/etc/supervisor/supervisord.conf")).read()
    container.write("/etc/supervisor/supervisord.conf", main.replace(
        "[supervisorctl]\n", "[supervisorctl]\nusername=probe\npassword=s3cret-pw\n").replace(
        "[unix_http_server]\n", "[unix_http_server]\nusername=probe\npassword=s3cret-pw\n"))
    container.credentials = ("probe", "s3cret-pw")
    container.edit_program("start", autostart="true", dependent_startup="false")  # the listener has no password
    container.write_hook("env; exit 3")
    container.start_supervisord().wait_for_state("EXITED")
    result = container.probe()
    assert result.code == 3, result
    assert "s3cret-pw" not in result.text
    assert hook_environment(result)["READINESS_PROBE_SUPERVISOR"] == "unix://" + container.path("/var/run/supervisor.sock")


def test_hook_is_told_the_config_named_by_the_flag_or_the_environment(ready):
    ready.write_hook("env; exit 3")
    assert "READINESS_PROBE_CONFIG" not in hook_environment(ready.probe())
    env = hook_environment(ready.probe("-c", "etc/supervisor/../supervisor/supervisord.conf"))
    assert env["READINESS_PROBE_CONFIG"] == "/etc/supervisor/supervisord.conf"  # a container path, as the probe read it
    env = hook_environment(ready.probe(env=dict(os.environ, READINESS_PROBE_CONFIG="/etc/supervisor/supervisord.conf")))
    assert env["READINESS_PROBE_CONFIG"] == "/etc/supervisor/supervisord.conf"


def test_hook_without_supervisord_is_told_none_whatever_it_inherited(tmp_path):
    hook = tmp_path / "usr" / "bin" / "readiness_probe_hook"
    hook.parent.mkdir(parents=True)
    hook.write_text("#!/bin/sh\nenv; exit 3\n")
    hook.chmod(0o755)
    result = run_probe(["--root", str(tmp_path)], env=dict(os.environ, READINESS_PROBE_SUPERVISOR="unix:///elsewhere"))
    assert result.code == 3, result
    assert "READINESS_PROBE_SUPERVISOR" not in hook_environment(result)


# -- a hook tried in one command -------------------------------------------------------------
def test_hook_flag_runs_that_hook_instead_of_the_roots(ready, tmp_path):
    ready.write_hook("echo 'the root hook ran'; exit 3")
    mine = tmp_path / "my_hook"
    mine.write_text("#!/bin/sh\necho 'my hook ran'; exit 4\n")
    mine.chmod(0o755)
    result = ready.probe("--hook", str(mine))
    assert result.text == "not ready (exit 4): hook exited 4\nmy hook ran\n", result


TRY_HOOK = os.path.join(REPO, "fixtures", "try_hook.py")
HEADINGS = ["== 1. not ready yet", "== 2. ready", "== 3. what the hook costs (median of 11 probe runs)",
            "== 4. a tight deadline", "== 5. less time than an interpreter needs", "== 6. start failed"]
READY = "ready: start exited with status 0; hook exited 0"
START_FAILED = ("not ready (exit 2): start exited with status 1, and supervisord will not restart it"
                " (autorestart=false): this will not change by itself; its output went to syslog")


@functools.lru_cache(maxsize=None)
def try_hook(*args):
    """fixtures/try_hook.py ARGS (what `tox -e hook -- ARGS` runs), from the
    repository: its exit code, its output and the fake container's root."""
    proc = subprocess.run([sys.executable, TRY_HOOK] + list(args), cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=300)
    out = proc.stdout.decode()
    root = re.search(r"^fake container at (\S+) ", out, re.M)
    return proc.returncode, out, root and root.group(1)


def case(out, heading):
    """The lines try_hook printed under the case whose heading starts so."""
    return out.split("\n" + heading, 1)[1].split("\n\n", 1)[0].split("\n")[1:]


@pytest.mark.supervisord  # fixtures/try_hook.py starts one
def test_try_hook_runs_a_hook_through_the_cases_that_matter():
    code, out, root = try_hook(os.path.join(EXAMPLE_HOOKS, "feature_ready.sh"))
    assert code == 0, out
    headings = [line for line in out.splitlines() if line.startswith("== ")]
    assert [h.split(":")[0] for h in headings] == HEADINGS, out
    assert case(out, "== 1.")[:2] == ["not ready (exit 3): hook exited 3",
                                      "featured: no ready flag at %s/var/run/featured/ready yet" % root], out
    assert "== 2. ready: skipped, no --state FILE describes the feature's state\n" in out
    assert case(out, "== 6.") == [START_FAILED, case(out, "== 6.")[-1]], out  # the hook did not run


@pytest.mark.supervisord  # fixtures/try_hook.py starts one
@pytest.mark.parametrize(
    "template,not_ready",
    [("feature_ready.sh", "featured: no ready flag at %s/var/run/featured/ready yet"),
     ("feature_ready.py", "featured: no state file at %s/var/run/featured/sessions.json yet")],
    ids=["sh", "py"],
)
def test_try_hook_shows_each_template_ready_with_the_state_file_beside_it(template, not_ready):
    hook = os.path.join("examples", "hooks", template)
    code, out, root = try_hook(hook, "--state", hook + ".state.json")
    assert code == 0, out
    assert "\nprograms settled: dependent-startup EXITED, featured RUNNING, rsyslogd RUNNING, start EXITED\n" in out
    assert case(out, "== 1.")[:2] == ["not ready (exit 3): hook exited 3", not_ready % root], out
    assert case(out, "== 2.")[0] == READY, out
    assert case(out, "== 6.")[0] == START_FAILED, out


SOCKET_HOOK = """#!/bin/sh
# As the hook guide has it: readiness_probe.sh on PATH, the feature's socket under the root.
out=$(readiness_probe.sh --program featured) || { echo "$out"; exit 3; }
sock="$READINESS_PROBE_ROOT/var/run/featured/api.sock"
reply=$(%s -S -E -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(0.5)
s.connect(sys.argv[1])
s.sendall(b"status\\n")
print(s.makefile().read().strip())' "$sock" 2>/dev/null) || { echo "featured: no answer on $sock"; exit 4; }
[ "$reply" = ok ] || { echo "featured answered: $reply"; exit 5; }
"""


@pytest.mark.supervisord  # fixtures/try_hook.py starts one
def test_try_hook_gives_the_hook_its_socket_its_programs_and_the_launcher(tmp_path):
    (tmp_path / "hook").write_text(SOCKET_HOOK % sys.executable)
    (tmp_path / "hook").chmod(0o755)
    (tmp_path / "state.json").write_text(json.dumps({"sockets": {"/var/run/featured/api.sock": "ok\n"},
                                                     "programs": {"bgpd": "RUNNING"}}))
    code, out, root = try_hook(str(tmp_path / "hook"), "--state", str(tmp_path / "state.json"))
    assert code == 0, out
    assert ("\nprograms settled: bgpd RUNNING, dependent-startup EXITED, featured RUNNING, rsyslogd RUNNING,"
            " start EXITED\n") in out
    assert case(out, "== 1.")[:2] == ["not ready (exit 4): hook exited 4",
                                      "featured: no answer on %s/var/run/featured/api.sock" % root], out
    assert case(out, "== 2.")[0] == READY, out


@pytest.mark.parametrize(
    "state,line",
    [("{", "not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
     ('{"file": {}}', "unknown key 'file' (files, sockets, programs)"),
     ('{"files": {"var/run/x": "ok"}}', "files: 'var/run/x' is not a container path (absolute, a file)"),
     ('{"sockets": ["/var/run/x.sock"]}', "sockets must be an object of strings"),
     ('{"programs": {"featured": "running"}}', "programs: featured: 'running' is not a supervisord state"
                                               " (STOPPED, STARTING, RUNNING, BACKOFF, STOPPING, EXITED, FATAL, UNKNOWN)")],
    ids=["not-json", "unknown-key", "relative-path", "sockets-list", "state-in-lowercase"],
)
def test_try_hook_refuses_a_bad_state_file_in_one_line(tmp_path, state, line):
    (tmp_path / "state.json").write_text(state)
    code, out, _ = try_hook(os.path.join(EXAMPLE_HOOKS, "feature_ready.sh"), "--state", str(tmp_path / "state.json"))
    assert (code, out) == (2, "state file %s: %s\n" % (tmp_path / "state.json", line))


def transcript_pattern(lines):
    """A regular expression for a transcript: a line "…" stands for any lines,
    "…" in a line for any text, and a time in ms for any time."""
    pattern = ""
    for line in lines:
        if line == "…":
            pattern += r"(?:.*\n)*?"
            continue
        for token in re.split(r"(…|\d+(?:\.\d+)? ms)", line):
            pattern += ".*?" if token == "…" else r"\d+(?:\.\d+)? ms" if token.endswith(" ms") else re.escape(token)
        pattern += r"\n"
    return pattern


@pytest.mark.supervisord  # fixtures/try_hook.py starts one
def test_hook_guides_transcript_of_trying_a_hook_is_what_it_prints():
    section = HOOK_GUIDE.split("\n## Trying a hook\n", 1)[1].split("\n#", 1)[0]
    block = section.split("\n```\n$ tox -e hook -- ", 1)[1].split("\n```\n", 1)[0].split("\n")
    code, out, _ = try_hook(*shlex.split(block[0]))
    assert code == 0, out
    assert re.match(transcript_pattern(block[1:]) + r"\Z", out), out


# -- templates -----------------------------------------------------------------------------------
@pytest.fixture
def featured_files(ready):
    """The feature's state files, removed before and after the test."""
    directory = ready.path("/var/run/featured")

    def clear():
        for name in ("ready", "sessions.json"):
            if os.path.lexists(os.path.join(directory, name)):
                os.unlink(os.path.join(directory, name))

    os.makedirs(directory, exist_ok=True)
    clear()
    yield directory
    clear()


def test_sh_template_says_so_when_no_time_is_left(ready, featured_files):
    ready.install_example_hook("feature_ready.sh")
    ready.write("/var/run/featured/ready", "ok\n")
    assert ready.probe().code == 0
    ready.write_hook('READINESS_PROBE_TIME_LEFT_MS=90 exec "%s"' % os.path.join(EXAMPLE_HOOKS, "feature_ready.sh"))
    result = ready.probe()
    assert result.text == "not ready (exit 5): hook exited 5\nfeatured: no time left to check (90 ms)\n", result


def test_sh_template_refuses_a_flag_that_is_no_regular_file(ready, featured_files):
    ready.install_example_hook("feature_ready.sh")
    os.mkfifo(os.path.join(featured_files, "ready"))  # no writer: reading it would block
    result = ready.probe("--timeout", "5")
    assert result.text == "not ready (exit 4): hook exited 4\nfeatured: %s is not a regular file\n" % (
        os.path.join(featured_files, "ready")), result


@pytest.mark.parametrize("code", [124, 143])
def test_sh_template_maps_timeouts_own_codes_to_its_own(ready, featured_files, tmp_path, code):
    """timeout(1) that ran out of time (GNU's 124, busybox's 143), played by
    a stand-in first on PATH."""
    ready.install_example_hook("feature_ready.sh")
    ready.write("/var/run/featured/ready", "ok\n")
    (tmp_path / "timeout").write_text("#!/bin/sh\nexit %d\n" % code)
    (tmp_path / "timeout").chmod(0o755)
    env = dict(os.environ, PATH="%s:%s" % (tmp_path, os.environ["PATH"]), READINESS_PROBE_TIMEOUT="5")
    result = run_probe(["--root", ready.root], env=env)
    assert result.code == 5, result
    assert result.text.startswith("not ready (exit 5): hook exited 5\nfeatured: reading %s took over 4." % (
        os.path.join(featured_files, "ready"))), result


def test_sh_template_prints_the_flag_as_it_is(ready, featured_files):
    ready.install_example_hook("feature_ready.sh")
    ready.write("/var/run/featured/ready", "peer 10.0.0.2 down \\c (flapping)\n")
    result = ready.probe("--timeout", "5")
    assert result.text == "not ready (exit 4): hook exited 4\nfeatured: peer 10.0.0.2 down \\c (flapping)\n", result


def test_python_template_does_not_block_on_a_fifo(ready, featured_files):
    ready.install_example_hook("feature_ready.py")
    os.mkfifo(ready.path("/var/run/featured/sessions.json"))
    result = ready.probe("--timeout", "5")
    assert result.code == 5, result
    assert result.elapsed < 4, result
    assert result.text == "not ready (exit 5): hook exited 5\nfeatured: cannot read %s: not a regular file\n" % (
        ready.path("/var/run/featured/sessions.json")), result


@pytest.mark.parametrize("content,why", [("[1, 2]", "not a JSON object"), ("\xff", "'utf-8' codec can't decode")],
                         ids=["array", "not-utf-8"])
def test_python_template_reads_bad_data_as_bad_data_not_a_bug(ready, featured_files, content, why):
    ready.install_example_hook("feature_ready.py")
    with open(os.path.join(featured_files, "sessions.json"), "w", encoding="latin-1") as f:
        f.write(content)
    result = ready.probe("--timeout", "5")
    assert result.code == 5, result
    assert result.text.startswith("not ready (exit 5): hook exited 5\nfeatured: cannot read %s: %s" % (
        os.path.join(featured_files, "sessions.json"), why)), result


def test_python_template_measures_its_time_from_the_deadline(ready):
    ready.write_hook('READINESS_PROBE_DEADLINE=1 exec "%s"' % os.path.join(EXAMPLE_HOOKS, "feature_ready.py"))
    result = ready.probe("--timeout", "5")
    assert result.text == "not ready (exit 6): hook exited 6\nfeatured: no time left to check\n", result


def test_python_template_names_its_interpreter_by_path():
    with open(os.path.join(EXAMPLE_HOOKS, "feature_ready.py")) as f:
        assert f.readline() == "#!/usr/bin/python3\n"
