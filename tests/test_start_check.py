"""Step 1, the start check: the start program must have EXITED with status 0
(exit 2 otherwise), judged by its full name in a [group:] or under numprocs;
whether a failed start will change by itself (autorestart, exitcodes and
their defaults for the supervisord asked); no start program skips the check.

A real supervisord on a fresh fake container, or a scripted one for states
a real one passes through too fast; the probe as kubelet runs it."""

import json
import os

import pytest

import readiness_probe as rp
from fake_container import wait_for
from fake_supervisord import (
    MisbehavingServer, answers_by_method, grouped_start, no_start_in_the_config, process, scripted_supervisord, without_start,
    xmlrpc_answer, xmlrpc_fault,
)


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


def test_hook_runs_when_there_is_no_start_program(container):
    no_start_in_the_config(container)
    container.write_hook("echo 'feature down'; exit 7")
    with MisbehavingServer(container.path("/var/run/fake.sock"), without_start):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.text == "not ready (exit 7): hook exited 7\nfeature down\n", result


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


# -- start in a [group:...], and start whose processes supervisord names start:NAME --------
def start_in_group(container, group, start_sh):
    """start, started by supervisord itself, as a member of [group:GROUP]."""
    container.edit_program("start", autostart="true", dependent_startup=None, dependent_startup_wait_for=None)
    container.edit_program("featured", dependent_startup=None, dependent_startup_wait_for=None)
    with open(container.path("/etc/supervisor/conf.d/supervisord.conf"), "a") as f:
        f.write("\n[group:%s]\nprograms=start\n" % group)
    container.write_start(start_sh)
    container.start_supervisord().wait_for_state("EXITED", name="%s:start" % group)
    container.wait_for_state("RUNNING", name="rsyslogd")  # started by the listener, maybe after start exited


def test_failed_start_in_a_group_is_not_ready(container):
    start_in_group(container, "init", "echo 'init failed'; exit 1")
    result = container.probe()
    assert result.first_line == (
        "not ready (exit 2): init:start exited with status 1, and supervisord will not restart it "
        "(autorestart=false): this will not change by itself; its output went to syslog"), result
    assert result.code == 2


def test_start_in_a_group_that_exited_0_is_ready_by_its_full_name(container):
    start_in_group(container, "init", "exit 0")
    result = container.probe()
    assert result.text == "ready: init:start exited with status 0; no hook\n", result


def test_failed_start_in_a_group_shows_its_log(container):
    container.edit_program("start", stdout_logfile="/var/log/supervisor/start.log", stderr_logfile=None)
    start_in_group(container, "init", "echo 'cannot render bgpd.conf'; exit 1")
    result = container.probe()
    assert result.code == 2, result
    assert result.text.split("\n", 1)[1] == "[init:start's stdout, %s]\ncannot render bgpd.conf\n" % (
        container.path("/var/log/supervisor/start.log")), result


def start_with_processes(container, start_sh, **settings):
    """start as several processes, started by the dependent-startup listener
    (startProcessGroup), each running start.sh with its own
    SUPERVISOR_PROCESS_NAME; waits until the listener has seen them all exit,
    and has ended (until then it may start them again), and until rsyslogd's
    stand-in listens."""
    container.edit_program("start", **settings)
    container.write_start(start_sh)
    container.start_supervisord()
    wait_for(lambda: container.process_info("featured")["start"] > 0, what="the listener to see start's processes exit")
    container.wait_for_listener_to_end()
    container.wait_for_syslog()  # the first line says whether anything receives start's syslog


def test_start_with_numprocs_is_ready_only_when_every_process_exited_0(container):
    start_with_processes(container, "exit 0", numprocs=2, process_name="%(program_name)s_%(process_num)02d")
    result = container.probe()
    assert result.text == "ready: start's 2 processes exited with status 0; no hook\n", result


def test_start_with_numprocs_names_the_first_process_that_did_not_exit_0(container):
    start_with_processes(container, '[ "$SUPERVISOR_PROCESS_NAME" = start_01 ] && exit 1; exit 0',
                         numprocs=2, process_name="%(program_name)s_%(process_num)02d")
    result = container.probe()
    assert result.code == 2, result
    assert result.first_line == (
        "not ready (exit 2): start:start_01 exited with status 1, and supervisord will not restart it "
        "(autorestart=false): this will not change by itself; its output went to syslog"), result


def test_start_with_a_process_name_of_its_own_is_judged_while_it_runs(container):
    container.edit_program("start", process_name="init")
    container.write_start("sleep 1000")
    container.start_supervisord().wait_for_state("RUNNING", name="start:init")
    result = container.probe()
    assert result.first_line == "not ready (exit 2): start:init is RUNNING: start.sh has not finished", result


def test_of_several_starts_in_groups_the_one_that_did_not_exit_0_is_judged(container):
    answers = answers_by_method({
        "supervisor.getProcessInfo": xmlrpc_fault(rp.FAULT_BAD_NAME, "BAD_NAME: start"),
        "supervisor.getAllProcessInfo": xmlrpc_answer([grouped_start("a", rp.EXITED, 0), grouped_start("b", rp.EXITED, 1)]),
    })
    with MisbehavingServer(container.path("/var/run/fake.sock"), answers):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.first_line.startswith("not ready (exit 2): b:start exited with status 1"), result


# -- whether a failed start will change by itself: exitcodes, and their defaults -----------
def test_exit_code_listed_in_exitcodes_is_final_under_autorestart_unexpected(container):
    container.write_start("exit 3")
    container.edit_program("start", autorestart="unexpected", exitcodes="0,3")
    container.start_supervisord().wait_for_state("EXITED")
    result = container.probe()
    assert "will not restart it (exit status 3 is in exitcodes=0,3): this will not change by itself" in result.first_line


@pytest.mark.parametrize("settings,why", [
    ({"autorestart": "true"}, "autorestart=true"),
    ({"autorestart": "unexpected", "exitcodes": "0,3"}, "exit status 1 is not in exitcodes=0,3"),
])
def test_start_that_exited_non_zero_is_not_final_when_supervisord_will_restart_it(container, settings, why):
    container.edit_program("start", **settings)
    with scripted_supervisord(container, {"start": process(rp.EXITED, 1)}):
        result = container.probe("--socket", "/var/run/fake.sock")
        record = json.loads(container.probe("--socket", "/var/run/fake.sock", "--json").text)
    assert result.first_line.startswith(
        "not ready (exit 2): start exited with status 1; supervisord will restart it (%s); " % why), result
    assert "will not change by itself" not in result.first_line, result
    assert record["start"]["final"] is False, record


@pytest.mark.parametrize("version,final", [("3.4.0", True), ("4.2.5", False)])
def test_default_exitcodes_are_those_of_the_supervisord_asked(container, version, final):
    container.edit_program("start", autorestart="unexpected")  # exitcodes unset: 0,2 before 4.0, 0 since
    with scripted_supervisord(container, {"start": process(rp.EXITED, 2)}, version):
        record = json.loads(container.probe("--socket", "/var/run/fake.sock", "--json").text)
    assert record["start"]["final"] is final
    default = "0,2" if final else "0"
    assert "exit status 2 is %sin exitcodes=%s, supervisord's default" % ("" if final else "not ", default) in record["reason"]


@pytest.mark.parametrize("version,default", [("3.4.0", "exitcodes=0,2, supervisord's default"),
                                             ("4.2.5", "exitcodes=0, supervisord's default"),
                                             ("unknown", "supervisord's default exitcodes")])
def test_default_exitcodes_are_named_for_the_supervisord_asked_whatever_the_status(container, version, default):
    container.edit_program("start", autorestart="unexpected")
    with scripted_supervisord(container, {"start": process(rp.EXITED, 1)}, version):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.first_line == (
        "not ready (exit 2): start exited with status 1; supervisord will restart it (exit status 1 is not in %s); "
        "its output went to syslog, but nothing receives syslog in the container (no socket listening at /dev/log),"
        " so it may be lost" % default), result
