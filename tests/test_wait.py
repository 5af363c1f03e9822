"""--wait: the upgrade controller's "re-check until ready or timeout", one
timestamped line per change of verdict, exit code of the last run; it stops
at once on a start that will not change by itself and keeps waiting on one
supervisord will restart; its output stays under 10 KiB; a signal stops it
with a line of its own."""

import json
import os
import re
import signal
import sys
import time

import pytest

import readiness_probe as rp
from fake_container import live_processes_with, unique_sleep, wait_for
from fake_supervisord import MisbehavingServer, process, scripted_supervisord

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}"
FAILING_START = "echo 'start.sh: cannot render bgpd.conf: template error' >&2\necho 'start.sh: giving up'\nexit 1"


def fresh_file(container, name):
    """A path under the container's /tmp for a hook to record its runs in,
    not left over from another test on the same container."""
    path = container.path("/tmp/" + name)
    if os.path.exists(path):
        os.unlink(path)
    return path


def test_wait_returns_as_soon_as_ready(container):
    container.write_start('while [ ! -e "${0%/usr/bin/start.sh}/var/run/go" ]; do sleep 0.05; done')
    container.start_supervisord().wait_for_state("RUNNING")
    proc = container.start_probe("--wait", "60", "--interval", "0.1")
    first = proc.stdout.readline().decode()
    assert re.match(STAMP + r" not ready \(exit 2\): start is RUNNING", first), first
    container.write("/var/run/go", "")
    rest = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 0
    assert re.match(STAMP + r" ready: start exited with status 0; no hook\n\Z", rest), rest


def test_wait_gives_up_with_the_last_verdict(ready):
    ready.write_hook("echo 'sessions down'; exit 3")
    result = ready.probe("--wait", "0.5", "--interval", "0.1")
    assert result.code == 3, result
    lines = result.text.splitlines()
    assert re.match(STAMP + r" not ready \(exit 3\): hook exited 3\Z", lines[0]), lines
    assert lines[1:] == ["sessions down"]  # one line per change: the verdict never changed


def test_wait_prints_one_line_per_change_of_verdict(ready):
    counter = ready.path("/tmp/runs")
    ready.write_hook(
        'mkdir -p "$READINESS_PROBE_ROOT/tmp"; echo x >> %s\n'
        'runs=$(wc -l < %s)\n'
        '[ "$runs" -le 2 ] && exit 3\n'
        '[ "$runs" -le 4 ] && exit 4\n'
        'exit 0' % (counter, counter)
    )
    result = ready.probe("--wait", "30", "--interval", "0.05")
    assert result.code == 0, result
    verdicts = [re.sub("^" + STAMP + " ", "", line) for line in result.text.splitlines()]
    assert verdicts == [
        "not ready (exit 3): hook exited 3",
        "not ready (exit 4): hook exited 4",
        "ready: start exited with status 0; hook exited 0",
    ]
    assert open(counter).read().count("x") == 5


def test_wait_leaves_nothing_running_between_runs(ready):
    marker = unique_sleep()
    ready.write_hook("sleep %s & exit 3" % marker)
    result = ready.probe("--wait", "0.6", "--interval", "0.2")
    assert result.code == 3
    wait_for(lambda: not live_processes_with(marker), 5, "the hook's children to die")


def test_wait_with_json_prints_one_object_per_change(ready):
    ready.write_hook("exit 5")
    result = ready.probe("--wait", "0.3", "--interval", "0.1", "--json")
    records = [json.loads(line) for line in result.text.splitlines()]
    assert len(records) == 1
    assert records[0]["code"] == result.code == 5
    assert re.match(STAMP + r"\Z", records[0]["time"])


def test_wait_stops_when_the_probe_is_told_to_stop(ready):
    marker = unique_sleep()
    ready.write_hook("sleep %s; exit 3" % marker)
    proc = ready.start_probe("--wait", "60", "--timeout", "30")
    wait_for(lambda: live_processes_with(marker), 10, "the hook to run")
    proc.terminate()
    output = proc.communicate(timeout=10)[0].decode()
    assert proc.returncode == 143, output
    assert re.match(STAMP + r" not ready \(exit 143\): the probe received SIGTERM; the hook was killed\n\Z", output)


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_wait_stops_with_its_line_when_told_to_stop_while_supervisord_is_asked(container, name):
    """A supervisord that never answers: the signal lands during the ask."""
    sig = getattr(signal, name)
    with MisbehavingServer(container.path("/var/run/silent.sock"), None) as server:
        proc = container.start_probe("--socket", "/var/run/silent.sock", "--wait", "60", "--timeout", "30")
        wait_for(lambda: server.requests, 10, "the probe to ask supervisord")
        proc.send_signal(sig)
        output = proc.communicate(timeout=10)[0].decode()
    assert proc.returncode == 128 + sig, output
    assert re.match(STAMP + r" not ready \(exit %d\): the probe received %s; it stopped waiting\n\Z" % (128 + sig, name),
                    output), output


def test_wait_output_stays_under_10_kib(ready):
    ready.write_hook("head -c 20000 /dev/zero | tr '\\000' x; exit 3")
    result = ready.probe("--wait", "0.2", "--interval", "0.1", "--timeout", "5")
    assert result.code == 3
    assert 9 * 1024 < len(result.output) <= 10 * 1024, len(result.output)


@pytest.mark.parametrize("as_json, runs", [(False, 250), (True, 80)])
def test_wait_output_of_a_flapping_hook_stays_under_10_kib_and_ends_with_the_last_verdict(ready, as_json, runs):
    """A different verdict on every run, then ready: more lines (or objects)
    than 10 KiB holds; later changes are not shown, the last verdict is."""
    counter = fresh_file(ready, "flapping-runs")
    ready.write_hook('mkdir -p "$READINESS_PROBE_ROOT/tmp"; echo x >> %s; runs=$(wc -l < %s)\n'
                     '[ "$runs" -gt %d ] && exit 0\nexit $((3 + runs %% 2))' % (counter, counter, runs))
    result = ready.probe("--wait", "120", "--interval", "0.001", "--timeout", "10", *(["--json"] if as_json else []))
    assert result.code == 0, result
    assert len(result.output) <= rp.OUTPUT_LIMIT, len(result.output)
    lines = result.text.splitlines()
    if as_json:
        records = [json.loads(line) for line in lines]
        assert [r["code"] for r in records[:3]] == [4, 3, 4], records[:3]
        assert records[-1]["ready"] is True and records[-1]["reason"] == "ready: start exited with status 0; hook exited 0"
        assert len(records) + records[-1]["not_shown"] == runs + 1, records[-1]
    else:
        assert re.match(STAMP + r" not ready \(exit 4\): hook exited 4\Z", lines[0]), lines[0]
        notices = [line for line in lines if "not shown" in line]
        assert len(notices) == 1 and re.match(
            STAMP + r" \[\.\.\. later changes of verdict not shown: the output stays within 10 KiB; the last one follows\]\Z",
            notices[0]), notices
        assert re.match(STAMP + r" ready: start exited with status 0; hook exited 0\Z", lines[-1]), lines[-3:]
        assert lines.index(notices[0]) == len(lines) - 2


def test_wait_ends_within_the_wait_plus_one_deadline_not_another_interval(ready):
    """Never ready: the probe gives up within --wait plus one run's
    deadline; it does not pause another --interval past the wait."""
    ready.write_hook("exit 3")
    wait, interval, timeout = 1.0, 20.0, 0.8
    result = ready.probe("--wait", str(wait), "--interval", str(interval), "--timeout", str(timeout))
    assert result.code == 3, result
    assert result.elapsed < wait + timeout + 5, result  # 5 s for interpreter start on a loaded machine; 20 s pause


def test_wait_runs_keep_their_own_deadline(ready):
    """A hung hook is killed at each run's --timeout, not at the end of the
    wait: the wait holds several runs, and ends at most --timeout after it."""
    runs = fresh_file(ready, "deadline-runs")
    ready.write_hook('mkdir -p "$READINESS_PROBE_ROOT/tmp"; echo x >> %s; exec sleep 60' % runs)
    result = ready.probe("--wait", "2", "--interval", "0.1", "--timeout", "0.3")
    assert result.code == 124, result
    assert re.match(STAMP + r" not ready \(exit 124\): hook did not finish within the deadline; its process group was "
                    r"killed\n\Z", result.text), result
    assert open(runs).read().count("x") >= 2, "one run took the whole wait"
    assert result.elapsed < 2 + 0.3 + 5, result


def process_state(pid):
    """The one-letter state of /proc/<pid>/stat: R running, S sleeping..."""
    with open("/proc/%d/stat" % pid, "rb") as f:
        return f.read().rsplit(b")", 1)[1].split()[0].decode()


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129),
                                      (signal.SIGUSR1, 138)])
def test_wait_stops_when_told_to_stop_during_the_pause(ready, sig, code):
    ready.write_hook("echo 'sessions down'; exit 3")
    proc = ready.start_probe("--wait", "600", "--interval", "300")
    first = proc.stdout.readline().decode()
    assert re.match(STAMP + r" not ready \(exit 3\): hook exited 3\n\Z", first), first
    # The verdict is out; asleep from now on means in the pause (the hook has exited).
    wait_for(lambda: process_state(proc.pid) == "S", 10, "the probe to pause")
    told = time.monotonic()
    proc.send_signal(sig)
    rest = proc.communicate(timeout=10)[0].decode()
    assert proc.returncode == code, (proc.returncode, rest)
    assert time.monotonic() - told < 5, "not promptly"
    assert re.match(STAMP + r" not ready \(exit %d\): the probe received %s; it stopped waiting\n"
                    r"sessions down\n\Z" % (code, sig.name), rest), rest


def test_hooks_after_a_pause_start_with_no_signal_blocked(ready):
    """The pause blocks SIGTERM, SIGINT, SIGHUP... to wait for them; the next
    run's hook must not inherit that (it could not be told to stop)."""
    from fake_container import signal_set

    runs = fresh_file(ready, "pause-runs")
    ready.write_hook(  # not sh: dash clears its signal mask when it starts
        "import os, sys\nos.makedirs(os.path.dirname(%r), exist_ok=True)\nopen(%r, 'a').write('x')\n"
        "sys.stdout.write(open('/proc/self/status').read())\nsys.exit(3)" % (runs, runs),
        interpreter=sys.executable,
    )
    result = ready.probe("--wait", "1", "--interval", "0.2", "--timeout", "10")
    assert result.code == 3, result
    assert open(runs).read().count("x") >= 2  # the output is the last run's, after a pause
    assert not signal_set(result.text, "SigBlk") & {signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1}, result


def test_wait_pauses_one_second_by_default(ready):
    import readiness_probe as rp

    assert rp.parse_options(["--wait", "1"], {}).interval == rp.DEFAULT_INTERVAL == 1.0
    starts = fresh_file(ready, "starts")
    ready.write_hook('mkdir -p "$READINESS_PROBE_ROOT/tmp"; date +%%s.%%N >> %s; exit 3' % starts)
    result = ready.probe("--wait", "2.5")
    assert result.code == 3, result
    times = [float(line) for line in open(starts).read().split()]
    assert len(times) >= 2, times
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert all(1.0 <= gap < 1.9 for gap in gaps), gaps  # the pause, plus one quick run


def test_wait_with_json_prints_every_change_and_nothing_else(ready):
    counter = fresh_file(ready, "json-runs")
    ready.write_hook(
        'mkdir -p "$READINESS_PROBE_ROOT/tmp"; echo x >> %s\n'
        'runs=$(wc -l < %s)\n'
        'echo "run $runs"\n'
        '[ "$runs" -le 2 ] && exit 3\n'
        'exit 4' % (counter, counter)
    )
    result = ready.probe("--wait", "1", "--interval", "0.05", "--json")
    assert result.code == 4, result
    records = [json.loads(line) for line in result.text.splitlines()]  # the hook's output only inside them
    assert [(record["code"], record["reason"], record["output"]) for record in records] == [
        (3, "not ready (exit 3): hook exited 3", "run 1\n"),
        (4, "not ready (exit 4): hook exited 4", "run 3\n"),
    ]
    assert all(re.match(STAMP + r"\Z", record["time"]) for record in records), records


# -- a signal while supervisord is asked; --json's output at its limit ---------------------
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_sigint_while_supervisord_is_asked_under_wait_prints_a_timestamped_verdict(container, as_json):
    with MisbehavingServer(container.path("/var/run/fake.sock"), None) as server:  # never answers
        proc = container.start_probe("--socket", "/var/run/fake.sock", "--timeout", "30", "--wait", "60",
                                     *(["--json"] if as_json else []))
        wait_for(lambda: server.requests, 10, "the probe to ask")
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=10)[0].decode()
    assert proc.returncode == 130, output
    reason = "not ready (exit 130): the probe received SIGINT; it stopped waiting"
    if as_json:
        record = json.loads(output)
        assert (record["reason"], output.count("\n")) == (reason, 1), output
        assert re.match(STAMP + r"\Z", record["time"]), record
    else:
        assert re.match(STAMP + " " + re.escape(reason) + r"\n\Z", output), output


def test_wait_json_output_stays_under_10_kib_across_its_lines(ready, tmp_path):
    counter = tmp_path / "runs"
    ready.write_hook(  # 20 KB of output and a different code on each of four runs, then ready
        'echo x >> %s; runs=$(wc -l < %s)\n[ "$runs" -gt 4 ] && exit 0\n'
        'head -c 20000 /dev/zero | tr "\\0" y; exit $((2 + runs))' % (counter, counter))
    result = ready.probe("--wait", "60", "--interval", "0.1", "--json", "--timeout", "5")
    records = [json.loads(line) for line in result.text.splitlines()]
    assert [r["code"] for r in records] == [3, 4, 5, 6, 0], result
    assert len(result.output) <= rp.OUTPUT_LIMIT, len(result.output)
    assert records[0]["output"].endswith("yyy\n"), records[0]


def test_wait_json_keeps_2_kib_for_the_records_of_later_changes(ready):
    ready.write_hook('head -c 20000 /dev/zero | tr "\\0" y; exit 3')
    result = ready.probe("--wait", "0.1", "--interval", "1", "--json", "--timeout", "5")  # one run, one record
    assert result.code == 3, result
    assert len(result.output) == rp.OUTPUT_LIMIT - rp.LATER_LINES == 8192, result
    assert json.loads(result.text)["output"].endswith("yyy\n")


# -- a start that will not change by itself ends the wait at once; one supervisord restarts does not ---
def test_wait_stops_at_once_when_start_failed_for_good(container, figure):
    container.write_start(FAILING_START)
    container.start_supervisord().wait_for_state("EXITED")
    result = container.probe("--wait", "120", "--interval", "2")
    assert result.code == 2, result
    assert result.elapsed < 60, result  # far below the 120 s it would otherwise wait
    assert result.text.count("\n") == 1
    assert result.first_line.endswith("this will not change by itself; its output went to syslog"), result
    figure("--wait 120 on a start that exited 1 under autorestart=false: gave up after (s)", "%.3f" % result.elapsed)


def test_wait_keeps_waiting_while_supervisord_will_restart_start(container):
    # fails once, then succeeds: autorestart=unexpected restarts it after the exit 1
    container.write_start('[ -e "${0%/usr/bin/start.sh}/var/run/tried" ] && exit 0\n'
                          ': > "${0%/usr/bin/start.sh}/var/run/tried"; sleep 1; exit 1')
    container.edit_program("start", autorestart="unexpected", exitcodes="0")
    container.start_supervisord()
    result = container.probe("--wait", "60", "--interval", "0.1")
    assert result.code == 0, result
    assert os.path.exists(container.path("/var/run/tried"))


def test_wait_keeps_waiting_when_starts_config_cannot_be_read(container):
    container.write_start("exit 1")
    container.start_supervisord().wait_for_state("EXITED")
    container.write("/etc/supervisor/conf.d/huge.conf", ";" * (rp.CONFIG_LIMIT + 1))
    result = container.probe("--wait", "1.5", "--interval", "0.2")
    assert result.code == 2, result
    assert result.elapsed >= 1.5 - 0.2, result
    assert result.first_line.endswith("start exited with status 1"), result


@pytest.mark.parametrize("settings,why", [
    ({"autorestart": "unexpected", "exitcodes": "0"}, "exit status 1 is not in exitcodes=0"),
    ({"autorestart": "true"}, "autorestart=true"),
])
def test_wait_keeps_waiting_on_an_exit_supervisord_will_restart(container, settings, why):
    container.edit_program("start", **settings)
    with scripted_supervisord(container, {"start": process(rp.EXITED, 1)}):
        result = container.probe("--socket", "/var/run/fake.sock", "--wait", "1", "--interval", "0.1")
    assert result.code == 2, result
    assert result.elapsed >= 1 - 0.1, result
    assert result.first_line.endswith(
        "start exited with status 1; supervisord will restart it (%s); "
        "its output went to syslog, but nothing receives syslog in the container (no socket listening at /dev/log),"
        " so it may be lost" % why), result


def test_wait_stops_at_once_on_a_fatal_start(container):
    with scripted_supervisord(container, {"start": process(rp.FATAL, spawnerr="can't find command")}):
        result = container.probe("--socket", "/var/run/fake.sock", "--wait", "60", "--interval", "1")
    assert result.code == 2, result
    assert result.elapsed < 30, result
    assert "gave up (can't find command): this will not change by itself" in result.first_line
