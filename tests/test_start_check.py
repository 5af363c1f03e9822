"""Step 1: the start program must have EXITED with status 0 (exit 2 otherwise).

Each test runs a real supervisord on a fresh fake container and the probe as
kubelet runs it."""

import os

import pytest

import readiness_probe as rp
from fake_supervisord import MisbehavingServer, xmlrpc_answer


def test_ready_when_start_exited_zero(running):
    running.wait_for_state("EXITED")
    result = running.probe()
    assert result.code == rp.EXIT_READY == 0, result
    assert result.first_line == "ready: start exited with status 0; no hook"


def test_not_ready_while_start_is_running(container):
    container.write_start("exec sleep 1000")
    container.start_supervisord().wait_for_state("RUNNING")
    result = container.probe()
    assert result.code == rp.EXIT_NOT_STARTED == 2, result
    assert result.first_line == "not ready (exit 2): start is RUNNING: start.sh has not finished"


def test_not_ready_while_start_is_starting(container):
    container.edit_program("start", startsecs=1000)
    container.write_start("exec sleep 1000")
    container.start_supervisord().wait_for_state("STARTING")
    result = container.probe()
    assert result.code == 2, result
    assert result.first_line == "not ready (exit 2): start is STARTING: start.sh has not finished"


def test_not_ready_when_start_exited_non_zero(container):
    container.write_start("echo failing; exit 1")
    container.start_supervisord().wait_for_state("EXITED")
    result = container.probe()
    assert result.code == 2, result
    assert result.first_line == ("not ready (exit 2): start exited with status 1, and supervisord will not restart it"
                                 " (autorestart=false): this will not change by itself; its output went to syslog"), result


def test_not_ready_when_start_was_killed_by_a_signal(container):
    container.write_start("kill -KILL $$")
    container.start_supervisord().wait_for_state("EXITED")
    result = container.probe()
    assert result.code == 2, result
    assert result.first_line == ("not ready (exit 2): start was killed by a signal (EXITED, exit status -1), and"
                                 " supervisord will not restart it (autorestart=false): this will not change by itself;"
                                 " its output went to syslog"), result


def test_not_ready_when_start_could_not_be_spawned(container):
    container.write_start("exit 0")
    # supervisord itself spawns it (the dependent-startup listener's startProcess would be refused at once)
    container.edit_program("start", command="/usr/bin/no-such-start.sh", startretries=0, autostart="true",
                           dependent_startup="false")
    container.start_supervisord().wait_for_state("FATAL")
    container.wait_for_state("RUNNING", name="rsyslogd")  # started by the listener, maybe after start failed
    result = container.probe()
    assert result.code == 2, result
    assert result.first_line == (
        "not ready (exit 2): start is FATAL: supervisord could not start it and gave up (can't find command '%s'): this"
        " will not change by itself; its output went to syslog" % container.path("/usr/bin/no-such-start.sh")), result


def test_not_ready_when_start_was_stopped(container):
    container.write_start("exec sleep 1000")
    container.edit_program("start", autostart="true", dependent_startup="false")  # no listener to start it again
    container.start_supervisord().wait_for_state("RUNNING")
    container.rpc().supervisor.stopProcess("start")
    container.wait_for_state("STOPPED")
    result = container.probe()
    assert result.code == 2, result
    assert result.first_line == "not ready (exit 2): start is STOPPED: it was stopped before it finished"


def test_start_stopped_after_it_ran_is_not_said_to_wait_for_what_it_depends_on(container):
    container.write_start("exec sleep 1000")  # started by the listener, once rsyslogd runs
    container.start_supervisord().wait_for_state("RUNNING")
    container.rpc().supervisor.stopProcess("dependent-startup")  # so that nothing starts it again
    container.rpc().supervisor.stopProcess("start")
    container.wait_for_state("STOPPED")
    assert container.probe().first_line == "not ready (exit 2): start is STOPPED: it was stopped before it finished"


def test_start_check_follows_start_sh_through_its_life(container):
    container.write_start("exec sleep 1000")
    container.start_supervisord().wait_for_state("RUNNING")
    assert container.probe().code == 2
    container.write_start("exit 0")
    container.restart_start()
    container.wait_for_state("EXITED")
    assert container.probe().code == 0


def test_other_programs_do_not_matter(running):
    """Critical services are supervisord's exit listener's business: the
    start check looks at start alone."""
    running.wait_for_state("EXITED")
    running.wait_for_state("RUNNING", name="featured")  # once the listener saw it run, it leaves it stopped
    running.rpc().supervisor.stopProcess("featured")
    running.wait_for_state("STOPPED", name="featured")
    result = running.probe()
    assert result.code == 0, result
    assert result.first_line == "ready: start exited with status 0; no hook"


def test_no_start_program_skips_the_check(container):
    conf = container.path("/etc/supervisor/conf.d/supervisord.conf")
    text = open(conf).read()
    container.write("/etc/supervisor/conf.d/supervisord.conf", text.replace("[program:start]", "[program:init]").replace(
        "start:exited", "init:exited"))
    container.start_supervisord().wait_for_state("RUNNING", name="featured")
    result = container.probe()
    assert result.code == 0, result
    assert result.first_line == "ready: no start program; no hook"


def test_no_supervisor_in_the_container_skips_the_check(container):
    import shutil

    shutil.rmtree(container.path("/etc/supervisor"))
    result = container.probe()
    assert result.code == 0, result
    assert result.first_line == "ready: no supervisord; no hook"


def test_hook_is_not_run_when_the_start_check_fails(container):
    """The hook would leave a file behind: its output alone is not printed
    when the start check fails, so only a side effect shows it ran."""
    container.write_start("exit 1")
    ran = container.path("/tmp/hook-ran")
    container.write_hook('mkdir -p "$READINESS_PROBE_ROOT/tmp"; touch %s; echo hook ran; exit 0' % ran)
    container.start_supervisord().wait_for_state("EXITED")
    result = container.probe()
    assert result.code == 2, result
    assert result.text.startswith("not ready (exit 2): start exited with status 1, ") and result.text.count("\n") == 1
    assert not os.path.exists(ran), "the hook ran although the start check failed"


def test_hook_is_not_run_when_supervisord_cannot_be_asked(container):
    ran = container.path("/tmp/hook-ran")
    container.write_hook('mkdir -p "$READINESS_PROBE_ROOT/tmp"; touch %s; exit 0' % ran)
    result = container.probe()  # configured, never started: no socket
    assert result.code == rp.EXIT_SUPERVISOR, result
    assert not os.path.exists(ran), "the hook ran although supervisord could not be asked"


@pytest.mark.parametrize(
    "state,spawnerr,first_line",
    [
        (30, "Exited too quickly", "start is BACKOFF: it exited too quickly or could not be spawned, and supervisord "
                                   "will retry (Exited too quickly)"),
        (40, "", "start is STOPPING: it is being stopped"),
        (1000, "", "start is UNKNOWN"),
        (101, "", "start is state 101"),
    ],
    ids=["BACKOFF", "STOPPING", "UNKNOWN", "a-state-supervisord-does-not-have"],
)
def test_every_state_reads_as_its_name_and_meaning(container, state, spawnerr, first_line):
    """States a real supervisord passes through too quickly to be caught, or
    never reports: from a scripted one."""
    info = {"name": "start", "group": "start", "state": state, "statename": "", "exitstatus": 0, "spawnerr": spawnerr,
            "start": 1}
    with MisbehavingServer(container.path("/var/run/fake.sock"), xmlrpc_answer(info)):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.text == "not ready (exit 2): %s\n" % first_line, result
