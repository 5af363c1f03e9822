"""The probe in real Debian containers (bookworm, bullseye, trixie), probed
through `runc exec` as kubelet's exec probe is through the CRI.

Each case pins what an operator reads: the first line, its exit code, and
whether it says the state will not change by itself.
"""

import json
import re
import statistics
import subprocess
import time

import pytest

import debian_root
from conftest import skip_unless_containers

skip_unless_containers()  # one line saying why, where runc cannot run (a failure when required)

READY = "ready: start exited with status 0; no hook"

# Every first line the probe may print while a sound container boots: before
# supervisord listens, what its pidfile and /proc say of it; then start
# waiting for rsyslogd (never "waits for rsyslogd:running, and rsyslogd is
# RUNNING": a wait met is said to be met), running, ready.
BOOT_LINES = [
    r"not ready \(exit 69\): supervisord is running \(pid 1\) but not listening at /var/run/supervisor\.sock "
    r"\((no such socket|connection refused)\)",
    r"not ready \(exit 2\): start has not been started yet: it waits for rsyslogd:running, "
    r"and rsyslogd is (STOPPED|STARTING)",
    r"not ready \(exit 2\): start has not been started yet: it waits for rsyslogd:running, which rsyslogd has "
    r"reached \(RUNNING\): supervisord-dependent-startup starts it once it has seen that",
    r"not ready \(exit 2\): start is (STARTING|RUNNING): start\.sh has not finished",
    re.escape(READY),
]

START_FAILS = """\
#!/bin/sh
echo "start.sh: rendering /etc/frr/frr.conf"
echo "start.sh: cannot render /etc/frr/frr.conf: no such template" >&2
exit 1
"""

START_SLOW = """\
#!/bin/sh
echo "start.sh: waiting for the databases"
sleep 1
echo "start.sh: container initialised"
exit 0
"""

START_KILLED = """\
#!/bin/sh
echo "start.sh: about to be killed"
kill -KILL $$
"""


@pytest.fixture(scope="module", params=debian_root.RELEASES)
def release(request):
    return request.param


def first_line(out):
    return out.splitlines()[0] if out else ""


def versions(c):
    _, py = c.sh("python3 -c 'import sys; print(\"%d.%d.%d\" % sys.version_info[:3])'")
    _, sup = c.sh("supervisord --version")
    return py.strip(), sup.strip()


@pytest.fixture(scope="module")
def booted(release, shared_container_factory):
    """A sound container, probed from the moment runc started it until ready;
    shared by the cases that leave it as they found it."""
    c = shared_container_factory(release, "ready", prepare=lambda c: c.write("/usr/bin/start.sh", START_SLOW, 0o755),
                          boot=False)
    seen, order = {}, []
    c.boot()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        code, out, _ = c.probe()
        line = first_line(out)
        if line not in seen:
            seen[line] = (code, round(time.monotonic() - c.started, 3))
            order.append(line)
        if code == 0:
            break
    c.boot_lines = [(line,) + seen[line] for line in order]
    return c


# -- 1. boot phases ---------------------------------------------------------

def test_boot_phases_are_truthful_and_end_ready(booted, release, figure, verdict_table):
    for line, code, at in booted.boot_lines:
        figure("%s boot, at %.3f s" % (release, at), "(%s) %s" % (code, line))
        verdict_table(release, "boot, at %.2f s" % at, code, line)
    lines = [line for line, _, _ in booted.boot_lines]
    for line in lines:
        assert any(re.fullmatch(p, line) for p in BOOT_LINES), line
        assert "will not change" not in line, line
    assert lines[-1] == READY
    # The phases of a boot, each seen: supervisord not answering yet, start
    # waiting for rsyslogd, start running (start.sh takes 1 s here), ready.
    assert lines[0].startswith("not ready (exit 69)"), lines
    assert any("start has not been started yet" in line for line in lines), lines
    assert any("start is RUNNING" in line for line in lines), lines
    py, sup = versions(booted)
    figure("%s image" % release, "python3 %s, supervisord %s" % (py, sup))
    expected = {"bullseye": "4.2.2", "bookworm": "4.2.5", "trixie": "4.2.5"}[release]
    assert sup == expected


def test_boot_before_listening_names_supervisords_state(booted):
    early = [line for line, code, _ in booted.boot_lines if code == 69]
    assert early, "no probe ran before supervisord listened"
    for line in early:
        assert re.search(r"supervisord is running \(pid \d+\).*not listening|supervisord is not running", line), line


def test_created_container_without_supervisord_yet(release, container_factory):
    c = container_factory(release, "created", boot=False)
    c.boot(create_only=True)  # runc create: PID 1 is runc's init, supervisord not yet exec'd
    code, out, _ = c.probe()
    assert code == 69, out
    assert "supervisord is not running" in first_line(out)


# -- 5. hooks, in the booted container ----------------------------------------

HOOK = "/usr/bin/readiness_probe_hook"


@pytest.fixture
def hook(booted):
    def install(text, mode=0o755):
        booted.write(HOOK, text, mode)

    yield install
    booted.sh("rm -f %s" % HOOK)


def test_ready_no_hook(booted, release, verdict_table):
    code, out, _ = booted.probe()
    verdict_table(release, "ready, no hook", code, out)
    assert (code, out) == (0, READY + "\n")


def test_hook_exit_0(booted, hook, release, verdict_table):
    hook("#!/bin/sh\nexit 0\n")
    code, out, _ = booted.probe()
    verdict_table(release, "hook exits 0", code, out)
    assert code == 0
    assert first_line(out) == "ready: start exited with status 0; hook exited 0"


def test_hook_exit_3_with_message(booted, hook, release, verdict_table):
    hook("#!/bin/sh\necho 'bgpd: no peer established'\nexit 3\n")
    code, out, _ = booted.probe()
    verdict_table(release, "hook exits 3 with a message", code, out)
    assert code == 3
    assert first_line(out).startswith("not ready (exit 3): hook exited 3"), out
    assert "bgpd: no peer established" in out.splitlines()[1:], out


def test_hook_not_executable(booted, hook, release, verdict_table):
    hook("#!/bin/sh\nexit 0\n", mode=0o644)
    code, out, _ = booted.probe()
    verdict_table(release, "hook not executable", code, out)
    assert code == 126
    assert first_line(out).startswith("not ready (exit 126): hook /usr/bin/readiness_probe_hook cannot be executed"), out


def test_hook_hung(booted, hook, release, verdict_table):
    hook("#!/bin/sh\nsleep 100\n")
    code, out, took = booted.probe()
    verdict_table(release, "hook hung (sleep 100)", code, out)
    assert code == 124, out
    assert "did not finish within the deadline" in first_line(out), out
    assert took < 3, took
    assert no_process(booted, "sleep 100")


def test_hook_daemonizing(booted, hook, release, verdict_table):
    hook("#!/bin/sh\nsleep 100 &\nexit 0\n")
    code, out, _ = booted.probe()
    verdict_table(release, "hook backgrounds sleep 100, exits 0", code, out)
    assert no_process(booted, "sleep 100")
    assert code == 0, out
    assert first_line(out) == "ready: start exited with status 0; hook exited 0"


def test_hook_asks_program(booted, hook, release, verdict_table):
    hook("#!/bin/sh\nexec /usr/bin/readiness_probe.sh --program featured\n")
    booted.wait_state("featured", "RUNNING")
    code, out, _ = booted.probe()
    verdict_table(release, "hook runs --program featured", code, out)
    assert code == 0, out
    assert first_line(out) == "ready: start exited with status 0; hook exited 0"
    code, out, _ = booted.probe("--program", "featured")
    verdict_table(release, "--program featured", code, out)
    assert code == 0, out


def no_process(c, command):
    """Whether no process in the container runs command (read from /proc)."""
    code, out = c.sh("for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done")
    assert code == 0, out
    return not any(line.strip() == command for line in out.splitlines())


# -- figures: the deadline through runc exec, and the cost of a probe run ----------------

def burn(seconds):
    """Two CPU-burning processes on the host (the machine has 2 cores), bounded."""
    code = "import time\nend = time.monotonic() + %f\nwhile time.monotonic() < end: pass\n" % seconds
    return [subprocess.Popen(["python3", "-c", code]) for _ in range(2)]


# The probe as the examples run it: the launcher with its default deadline
# (examples/daemonset.yaml, pod-readiness.yaml), the launcher with a longer
# one, and python3 on the source with READINESS_PROBE_TIMEOUT=1.5
# (pod-readiness-no-shell.yaml). The longer deadlines on bookworm only, to
# keep the tier's time down.
FORMS = [
    ("launcher, deadline 0.8 s (default)", 0.8, ["/usr/bin/readiness_probe.sh"], (), debian_root.RELEASES),
    ("launcher, --timeout 1.5", 1.5, ["/usr/bin/readiness_probe.sh", "--timeout", "1.5"], (), ("bookworm",)),
    ("python3 readiness_probe.py, READINESS_PROBE_TIMEOUT=1.5", 1.5,
     ["python3", "/usr/bin/readiness_probe.py"], ("READINESS_PROBE_TIMEOUT=1.5",), ("bookworm",)),
]


@pytest.mark.parametrize("load", ["idle", "loaded"])
def test_hung_hook_end_to_end(booted, hook, release, load, figure):
    """A hung hook's 124 through runc exec, wall time from the exec to its
    end, idle and with both of the host's cores busy: what timeoutSeconds
    must leave room for."""
    hook("#!/bin/sh\nsleep 100\n")
    burners = burn(120) if load == "loaded" else []
    try:
        for name, deadline, argv, env, releases in FORMS:
            if release not in releases:
                continue
            walls = []
            for _ in range(15):
                code, out, took = booted.exec(*argv, env=env)
                assert code == 124, out
                walls.append(took)
            figure("%s hung hook through runc exec, %s, %s" % (release, load, name),
                   "median %.0f ms, max %.0f ms, max past the deadline %.0f ms (15 runs)" % (
                       1000 * statistics.median(walls), 1000 * max(walls), 1000 * (max(walls) - deadline)))
            assert max(walls) < deadline + 1.0
    finally:
        for p in burners:
            p.kill()
            p.wait()


def test_cost_through_runc_exec(booted, release, figure):
    commands = {
        "probe (ready path)": ["/usr/bin/readiness_probe.sh"],
        "python3 -S -E -c pass": ["python3", "-S", "-E", "-c", "pass"],
        "supervisorctl status start": ["supervisorctl", "status", "start"],
    }
    walls = {name: [] for name in commands}
    for _ in range(15):
        for name, argv in commands.items():
            code, out, took = booted.exec(*argv)
            assert code in (0, 3), out  # supervisorctl status: 3 for a program not running
            walls[name].append(took)
    for name in commands:
        figure("%s runc exec %s" % (release, name), "median %.1f ms (15 interleaved runs)" % (
            1000 * statistics.median(walls[name])))


# -- 2. and 3. start failing, killed; its logs ----------------------------------

def test_start_exits_1_logs_to_syslog(release, container_factory, verdict_table):
    c = container_factory(release, "exit1", prepare=lambda c: c.write("/usr/bin/start.sh", START_FAILS, 0o755))
    code, out = c.wait_for(lambda code, out: "start exited" in out, "start exits")
    if "will not change" not in out:  # until the listener has ended, it may start start again
        assert "but supervisord-dependent-startup may start it again (dependent-startup is RUNNING)" in out, out
        verdict_table(release, "start exits 1, the listener still running", code, out)
    code, out = c.wait_for(lambda code, out: "will not change" in out, "the listener to end")
    verdict_table(release, "start exits 1, logs to syslog", code, out)
    assert code == 2
    assert first_line(out) == (
        "not ready (exit 2): start exited with status 1, and supervisord will not restart it "
        "(autorestart=false): this will not change by itself; its output went to syslog")
    # And it did: rsyslogd runs, and has start.sh's words.
    _, syslog = c.sh("cat /var/log/syslog")
    assert "cannot render /etc/frr/frr.conf: no such template" in syslog
    # --wait on a final failure returns at once.
    code, out, took = c.probe("--wait", "30")
    verdict_table(release, "start exits 1, --wait 30 (%.2f s)" % took, code, out)
    assert code == 2
    assert took < 5, took


def test_start_killed(release, container_factory, verdict_table):
    c = container_factory(release, "killed", prepare=lambda c: c.write("/usr/bin/start.sh", START_KILLED, 0o755))
    code, out = c.wait_for(lambda code, out: "start was killed" in out and "will not change" in out, "start is killed")
    verdict_table(release, "start killed (SIGKILL)", code, out)
    assert code == 2
    assert first_line(out).startswith("not ready (exit 2): start was killed by a signal"), out


def test_start_logs_to_file(release, container_factory, verdict_table):
    def prepare(c):
        c.write("/usr/bin/start.sh", START_FAILS, 0o755)
        c.edit_conf("command=/usr/bin/start.sh\n", "command=/usr/bin/start.sh\nredirect_stderr=true\n")
        c.edit_conf("stdout_logfile=syslog\nstderr_logfile=syslog\ndependent_startup=true\n"
                    "dependent_startup_wait_for=rsyslogd:running",
                    "stdout_logfile=/var/log/start.log\ndependent_startup=true\n"
                    "dependent_startup_wait_for=rsyslogd:running")

    c = container_factory(release, "logfile", prepare=prepare)
    code, out = c.wait_for(lambda code, out: "will not change" in out, "start exits and the listener ends")
    verdict_table(release, "start exits 1, logs to /var/log/start.log", code, out)
    assert code == 2
    assert first_line(out) == (
        "not ready (exit 2): start exited with status 1, and supervisord will not restart it "
        "(autorestart=false): this will not change by itself")
    rest = out.splitlines()[1:]
    assert "start.sh: cannot render /etc/frr/frr.conf: no such template" in rest, out
    assert "syslog" not in first_line(out)


# -- 4. rsyslogd missing, crash-looping --------------------------------------------

@pytest.fixture(scope="module")
def no_rsyslogd(release, shared_container_factory):
    c = shared_container_factory(release, "norsyslogd", prepare=lambda c: c.remove("/usr/sbin/rsyslogd"))
    c.wait_state("dependent-startup", "RUNNING")
    return c


def test_rsyslogd_missing_never_ready(no_rsyslogd, release, verdict_table):
    # The listener tried to start rsyslogd and gave up; nothing else will.
    c = no_rsyslogd
    code, out, _ = c.probe()
    verdict_table(release, "rsyslogd's binary missing", code, out)
    assert code == 2, out
    assert first_line(out).startswith("not ready (exit 2): start has not been started yet"), out
    assert "rsyslogd" in first_line(out)


def test_rsyslogd_missing_is_named_and_final(no_rsyslogd):
    c = no_rsyslogd
    c.wait_for(lambda code, out: code == 2, "the listener acted")
    code, out, _ = c.probe()
    line = first_line(out)
    assert "rsyslogd cannot be started: /usr/sbin/rsyslogd does not exist" in line, line
    assert "this will not change by itself" in line, line
    code, out, _ = c.probe("--json")
    assert json.loads(out)["start"]["final"] is True, out


def test_rsyslogd_missing_wait_gives_up(no_rsyslogd):
    code, out, took = no_rsyslogd.probe("--wait", "30", timeout=5)
    assert code == 2, (code, out)
    assert took < 5, took


CRASHING_RSYSLOGD = "#!/bin/sh\necho 'rsyslogd: cannot open /etc/rsyslog.conf' >&2\nexit 1\n"


@pytest.fixture
def crashing_rsyslogd(release, container_factory):
    def prepare(c):
        c.write("/usr/sbin/rsyslogd", CRASHING_RSYSLOGD, 0o755)
        c.write("/usr/bin/start.sh", START_FAILS, 0o755)

    c = container_factory(release, "crashloop", prepare=prepare)
    c.wait_for(lambda code, out: "start exited" in out, "start exits")
    return c


def test_rsyslogd_crash_looping(crashing_rsyslogd, release, verdict_table):
    c = crashing_rsyslogd
    code, out, _ = c.probe()
    verdict_table(release, "rsyslogd crash-looping, start exits 1", code, out)
    assert code == 2, out
    # The listener starts start again on rsyslogd's next RUNNING while it has
    # not yet seen start's own RUNNING (startsecs=0): start may be running
    # once more.
    assert first_line(out).startswith(("not ready (exit 2): start exited with status 1",
                                       "not ready (exit 2): start is RUNNING")), out
    _, syslog = c.sh("cat /var/log/syslog 2>/dev/null; test -S /dev/log && echo LISTENING")
    assert "no such template" not in syslog  # start.sh's words were lost


def test_rsyslogd_crash_looping_says_nothing_receives_syslog(crashing_rsyslogd):
    code, out = crashing_rsyslogd.wait_for(lambda code, out: "start exited" in out, "start exits")
    assert "nothing receives syslog in the container (no socket listening at /dev/log)" in first_line(out), out


# -- the wait satisfied, before the listener acts --------------------------------

def test_wait_satisfied_before_the_listener_acts(release, container_factory):
    # The listener is held back; rsyslogd is started by hand, so start's
    # wait is satisfied and nothing has started start yet: the gap of a
    # boot, held open.
    def prepare(c):
        c.edit_conf("command=python3 -m supervisord_dependent_startup",
                    "command=sh -c 'sleep 30; exec python3 -m supervisord_dependent_startup'")
        c.edit_conf("autostart=true\nautorestart=unexpected\nstartretries=0",
                    "autostart=true\nautorestart=unexpected\nstartretries=0\nstartsecs=0")

    c = container_factory(release, "gap", prepare=prepare)
    c.wait_for(lambda code, out: code == 2, "supervisord answers")
    c.sh("supervisorctl start rsyslogd")
    c.wait_state("rsyslogd", "RUNNING")
    code, out, _ = c.probe()
    assert code == 2, out
    assert first_line(out) == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, which rsyslogd has "
        "reached (RUNNING): supervisord-dependent-startup starts it once it has seen that"), out


# -- 6. supervisord's socket removed ----------------------------------------------------

@pytest.fixture(scope="module")
def socket_removed(release, shared_container_factory):
    c = shared_container_factory(release, "nosocket")
    c.wait_for(lambda code, out: code == 0, "ready")
    code, out = c.sh("rm /var/run/supervisor.sock")
    assert code == 0, out
    return c


def test_socket_removed(socket_removed, release, verdict_table):
    code, out, _ = socket_removed.probe()
    verdict_table(release, "supervisor.sock removed", code, out)
    assert code == 69, out


def test_socket_removed_says_supervisord_runs(socket_removed):
    code, out, _ = socket_removed.probe()
    assert "supervisord is running (pid 1) but not listening" in first_line(out), out


