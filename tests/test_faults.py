"""Faults and hostile input: the probe stays bounded, leaks nothing, writes
nothing and never prints a traceback, whatever the hook or its own
environment do (what supervisord does wrong: test_asking_supervisord.py)."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

import readiness_probe as rp
from fake_container import (
    LAUNCHER, PROBE, WITHOUT_CTYPES, live_processes_with, peak_rss_kib, probe_command, run_caller, unique_sleep, wait_for,
)
from nobody import as_nobody, needs_a_launcher_nobody_can_run

SURVIVOR_WAIT = 5.0  # seconds: a bound on killed processes disappearing
DEADLINE_SLACK = 0.5  # seconds: the bar for returning after the deadline


# -- the hook misbehaves ------------------------------------------------------
def test_hung_hook_and_grandchild_leave_no_survivor_over_30_runs(ready, figure):
    marker = unique_sleep()
    ready.write_hook("sh -c 'sleep %s' & sleep %s" % (marker, marker))
    worst_over = 0.0
    for _ in range(30):
        result = ready.probe("--timeout", "0.3")
        assert result.code == 124, result
        assert result.elapsed <= 0.3 + DEADLINE_SLACK, result
        worst_over = max(worst_over, result.elapsed - 0.3)
    survivors = live_processes_with(marker)
    wait_for(lambda: not live_processes_with(marker), SURVIVOR_WAIT, "hook processes to die")
    figure("hung hook, 30 runs at --timeout 0.3: survivors right after the loop", len(survivors))
    figure("hung hook, 30 runs: worst time past the deadline (s, process start to exit)", "%.3f" % worst_over)


def test_hook_backgrounding_children_that_hold_stdout_returns_at_its_exit(ready, figure):
    marker = unique_sleep()
    stamp = ready.path("/tmp/hook-exited-at")
    ready.write_hook(
        "mkdir -p $READINESS_PROBE_ROOT/tmp\n"
        "sleep %s & sleep %s &\n"
        "date +%%s.%%N > %s\n"
        "exit 0" % (marker, marker, stamp)
    )
    result = ready.probe("--timeout", "20")
    returned = time.time()
    assert result.code == 0, result
    lag = returned - float(open(stamp).read())
    assert lag < 0.3, lag
    wait_for(lambda: not live_processes_with(marker), SURVIVOR_WAIT, "the hook's children to die")
    figure("hook with children holding stdout: probe returned after the hook's exit (s)", "%.3f" % lag)


def test_flooding_hook_keeps_probe_memory_flat(ready, figure):
    env = dict(os.environ, READINESS_PROBE_PYTHON=sys.executable)
    ready.write_hook("echo quiet; exit 5")
    _, quiet_kib = peak_rss_kib(probe_command(["--root", ready.root, "--timeout", "30"]), env)
    ready.write_hook("head -c 20000000 /dev/zero | tr '\\000' x; exit 5")
    code, flood_kib = peak_rss_kib(probe_command(["--root", ready.root, "--timeout", "30"]), env)
    assert code == 5
    assert flood_kib < quiet_kib + 4096, (quiet_kib, flood_kib)  # 20 MB kept would be +19500 KiB
    result = ready.probe("--timeout", "30")
    assert result.code == 5, result
    assert len(result.output) <= rp.OUTPUT_LIMIT
    figure("20 MB flood: probe peak RSS (KiB) flood / quiet hook", "%d / %d" % (flood_kib, quiet_kib))


def test_hostile_bytes_and_a_1_mb_line_keep_the_exit_code(ready):
    ready.write_hook(
        "printf '\\377\\000\\300\\n'; head -c 1048576 /dev/zero | tr '\\000' y; printf 'tail-no-newline'; exit 9"
    )
    result = ready.probe("--timeout", "10")
    assert result.code == 9, result
    assert len(result.output) <= rp.OUTPUT_LIMIT
    assert result.text.endswith("yyyytail-no-newline\n")
    assert "Traceback" not in result.text


def test_hook_that_closes_its_stdin_is_fine(ready):
    ready.write_hook("exec 0<&-; echo closed; exit 3")
    result = ready.probe()
    assert result.code == 3, result
    assert "closed" in result.text


# -- the probe's own environment ----------------------------------------------
def test_empty_environment_without_tty_and_stdin_closed(ready):
    ready.write_hook('echo "home=${HOME:-none} lang=${LANG:-none}"; exit 3')
    proc = subprocess.Popen(
        [LAUNCHER, "--root", ready.root], env={}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        preexec_fn=lambda: os.close(0), start_new_session=True,
    )
    output = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 3, output
    assert output == "not ready (exit 3): hook exited 3\nhome=none lang=none\n"


def test_runs_from_a_deleted_working_directory(ready, tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()

    def enter_then_delete():
        os.chdir(str(gone))
        os.rmdir(str(gone))

    result = ready.probe(preexec_fn=enter_then_delete)
    assert result.code == 0, result
    assert result.text.endswith("\nready: start exited with status 0; no hook\n") or (
        result.text == "ready: start exited with status 0; no hook\n"), result  # after the shell's getcwd warning


@needs_a_launcher_nobody_can_run
def test_runs_as_nobody_from_an_unreadable_directory(container, tmp_path):
    shutil.rmtree(container.path("/etc/supervisor"))  # no supervisord: nobody could not use its socket
    os.chmod(container.root, 0o755)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o000)
    os.chmod(str(tmp_path), 0o755)

    def enter_as_nobody():
        os.chdir(str(locked))
        as_nobody()

    try:
        result = container.probe(env=dict(os.environ, READINESS_PROBE_PYTHON="/usr/bin/python3"), preexec_fn=enter_as_nobody)
    finally:
        os.chmod(str(locked), 0o755)
    assert result.code == 0, result
    assert result.first_line == "ready: no supervisord; no hook"


def test_24_probes_at_once_all_answer_right(ready):
    ready.write_hook('echo "sessions down"; exit 4')
    procs = [ready.start_probe("--timeout", "20") for _ in range(24)]
    outputs = [(p.communicate(timeout=60)[0], p.returncode) for p in procs]
    assert outputs == [(b"not ready (exit 4): hook exited 4\nsessions down\n", 4)] * 24


def snapshot(top):
    """Every path under top with its type, size and mtime."""
    found = {}
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            found[path] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return found


def test_probe_writes_nothing(ready, tmp_path):
    image_bin = tmp_path / "usr-bin"  # installed as in an image: launcher and module, no bytecode
    image_bin.mkdir()
    for source in (LAUNCHER, PROBE):
        shutil.copy(source, str(image_bin))
    probe_tmp = tmp_path / "tmp"
    probe_tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(probe_tmp), READINESS_PROBE_PYTHON=sys.executable)
    launcher = str(image_bin / "readiness_probe.sh")
    before = [snapshot(ready.root), snapshot(str(image_bin)), snapshot(str(probe_tmp))]
    for hook in (None, "echo failing; exit 3", "sleep 10"):
        if hook:
            ready.write_hook(hook)
            before[0] = snapshot(ready.root)
        for _ in range(5):
            subprocess.run([launcher, "--root", ready.root, "--timeout", "0.3"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert [snapshot(ready.root), snapshot(str(image_bin)), snapshot(str(probe_tmp))] == before


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_probe_told_to_stop_mid_hook_kills_the_hook(ready, sig, code):
    marker = unique_sleep()
    ready.write_hook("sleep %s & sleep %s" % (marker, marker))
    proc = ready.start_probe("--timeout", "30")
    wait_for(lambda: len(live_processes_with(marker)) == 2, 10, "the hook to start its sleeps")
    proc.send_signal(sig)
    output = proc.communicate(timeout=10)[0].decode()
    assert proc.returncode == code, output
    assert output.startswith("not ready (exit %d): the probe received %s; the hook was killed\n" % (code, sig.name))
    wait_for(lambda: not live_processes_with(marker), SURVIVOR_WAIT, "the hook's processes to die")


def test_hook_that_leaves_its_process_group_is_still_killed_at_the_deadline(ready):
    ready.write_hook(
        "import os, time\nos.setpgid(0, os.getpgid(os.getppid()))\ntime.sleep(60)", interpreter=sys.executable
    )
    result = ready.probe("--timeout", "1")
    assert result.code == 124, result
    assert result.elapsed < 1 + 5, result  # not the hook's 60 s


def test_probe_returns_at_the_hook_exit_even_if_an_escaped_child_holds_the_pipe(ready):
    """Where the probe cannot be a subreaper (here: a python without ctypes),
    a child that left the group with setsid is out of reach and keeps the
    output pipe open; the probe still returns when the hook exits, not at
    the deadline."""
    marker = unique_sleep()
    escaped = ready.path("/tmp/escaped")
    ready.write_hook(
        'mkdir -p "$READINESS_PROBE_ROOT/tmp"; rm -f %s\n'
        'setsid sh -c "touch %s; exec sleep %s" &\n'
        'while [ ! -e %s ]; do sleep 0.01; done  # out of the group before the hook exits\n'
        'echo escaping; exit 3' % (escaped, escaped, marker, escaped)
    )
    try:
        started = time.monotonic()
        code, output = run_caller(WITHOUT_CTYPES, "--root", ready.root, "--timeout", "30")
        assert code == 3, output
        assert output == b"not ready (exit 3): hook exited 3\nescaping\n"
        assert time.monotonic() - started < 10  # not the 30 s deadline
        assert live_processes_with(marker), "the child did not escape: the test proves nothing"
    finally:
        for pid in live_processes_with(marker):
            os.kill(pid, signal.SIGKILL)


def test_undecodable_root_path_is_printed_without_crashing(ready, tmp_path):
    odd_root = os.path.join(str(tmp_path).encode(), b"root-\xff")
    os.makedirs(os.path.join(odd_root, b"usr/bin"))
    with open(os.path.join(odd_root, b"usr/bin/readiness_probe_hook"), "w") as f:
        f.write("#!/bin/sh\nexit 0\n")  # not executable: 126, and the message names the path
    env = dict(os.environ, READINESS_PROBE_PYTHON=sys.executable)
    for extra in ([], ["--json"]):
        proc = subprocess.run([LAUNCHER.encode(), b"--root", odd_root] + [x.encode() for x in extra], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.returncode == 126, proc.stdout
        assert b"root-\xef\xbf\xbd/usr/bin/readiness_probe_hook" in proc.stdout  # U+FFFD
        assert b"Traceback" not in proc.stdout
