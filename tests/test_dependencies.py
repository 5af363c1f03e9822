"""start's dependencies, as the supervisord-dependent-startup listener runs
them: in a container laid out as SONiC's (Debian's supervisord.conf with an
[include] of conf.d/; the listener starts rsyslogd, then start, with
dependent_startup_wait_for=rsyslogd:running, then the feature), what the
probe tells of a start that waits: what it waits for and in which state that
is, a dependency that cannot be started (its command missing, on no path,
not executable), dependencies in groups, and when a wait is final (the
listener's own state). A real supervisord and the real listener on the fake
container, or a scripted supervisord; the probe as kubelet runs it."""

import json
import os
import signal

import pytest

import readiness_probe as rp
from fake_container import PROGRAMS, wait_for
from fake_supervisord import MisbehavingServer, process, scripted_supervisord, xmlrpc_answer


# -- what the first line tells of start --------------------------------------
def test_start_that_was_never_started_says_so_and_names_what_it_waits_for(container):
    container.edit_program("rsyslogd", startsecs=1000)  # rsyslogd stays STARTING: start waits
    container.start_supervisord().wait_for_state("STARTING", name="rsyslogd")
    result = container.probe()
    assert result.code == 2, result
    assert result.first_line == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and rsyslogd is STARTING"
    )


def test_start_waiting_for_a_fatal_dependency_is_not_final_it_may_have_reached_the_state_before(container):
    """The listener counts every state a program has reached since it
    started: a FATAL program may have been RUNNING before."""
    os.unlink(container.path("/usr/sbin/rsyslogd"))
    container.edit_program("rsyslogd", autostart="true", dependent_startup="false", startretries=0)
    container.start_supervisord().wait_for_state("FATAL", name="rsyslogd")
    result = container.probe("--json")
    record = json.loads(result.text)
    assert record["reason"] == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and rsyslogd is FATAL "
        "(can't find command '%s')" % container.path("/usr/sbin/rsyslogd")), result
    assert record["start"]["final"] is False


def test_wait_goes_on_past_a_dependency_that_ran_then_became_fatal_and_ends_ready(container):
    """start waits for rsyslogd:running and slowd:running; rsyslogd ran, then
    failed fast and is FATAL; slowd is still STARTING. The listener starts
    start once slowd runs: --wait must not give up."""
    marker = container.path("/run-no-more")
    container.write("/usr/bin/flaky.sh", "#!/bin/sh\n[ -e %s ] && exit 1\nexec sleep 1000\n" % marker, 0o755)
    container.edit_program("rsyslogd", command="/usr/bin/flaky.sh", startsecs=1, startretries=0)
    container.edit_program("slowd", command="sleep 1000", autostart="true", startsecs=6)
    container.edit_program("start", dependent_startup_wait_for="rsyslogd:running slowd:running")
    pid = container.start_supervisord().wait_for_state("RUNNING", name="rsyslogd")["pid"]
    open(marker, "w").close()
    os.kill(pid, signal.SIGTERM)  # an unexpected exit: restarted, and it fails at once
    container.wait_for_state("FATAL", name="rsyslogd")
    assert container.process_info("slowd")["statename"] == "STARTING"
    result = container.probe()
    assert result.first_line == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running and slowd:running, "
        "and rsyslogd is FATAL (Exited too quickly (process log may have details)), slowd is STARTING"), result
    result = container.probe("--wait", "30", "--interval", "0.2")
    assert result.code == 0, result
    assert result.text.splitlines()[-1].endswith("ready: start exited with status 0; no hook"), result


def test_a_dependencys_long_spawn_error_is_cut_to_its_first_120_characters(container):
    command = "/usr/sbin/" + "r" * 150  # no such file: a spawn error longer than the limit
    container.edit_program("rsyslogd", command=command, autostart="true", dependent_startup="false", startretries=0)
    container.start_supervisord().wait_for_state("FATAL", name="rsyslogd")
    spawnerr = container.process_info("rsyslogd")["spawnerr"]
    assert len(spawnerr) > rp.SPAWNERR_LIMIT == 120
    result = container.probe()
    assert result.first_line == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and rsyslogd is FATAL "
        "(%s)" % spawnerr[:120]), result


def test_start_waiting_for_a_program_supervisord_does_not_have_says_so(container):
    container.edit_program("start", dependent_startup_wait_for="rsyslogd:running nosuchd:running")
    container.edit_program("rsyslogd", startsecs=1000)
    container.start_supervisord().wait_for_state("STARTING", name="rsyslogd")
    result = container.probe()
    assert result.first_line == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running and nosuchd:running, "
        "and rsyslogd is STARTING, nosuchd is not a supervisord program"
    )


def test_start_not_started_by_the_listener_names_nothing_it_would_wait_for(container):
    container.edit_program("start", dependent_startup="false")  # nothing will start it
    container.start_supervisord().wait_for_state("RUNNING", name="rsyslogd")
    result = container.probe()
    assert result.first_line == "not ready (exit 2): start has not been started yet", result


def test_a_listener_run_by_a_wrapper_of_its_own_is_found_by_the_events_it_hears(container):
    config = open(container.path(PROGRAMS)).read()
    container.write(PROGRAMS, config.replace("command=python3 -m supervisord_dependent_startup", "command=/usr/bin/dsu"))
    programs = {"start": process(rp.EXITED, 1), "dependent-startup": process(rp.RUNNING)}
    with scripted_supervisord(container, programs):
        record = json.loads(container.probe("--socket", "/var/run/fake.sock", "--json").text)
    assert record["start"]["final"] is False, record
    assert "supervisord-dependent-startup may start it again (dependent-startup is RUNNING)" in record["reason"]


def test_a_listener_in_a_group_of_its_own_is_found(container):
    programs = {"start": process(rp.EXITED, 1), "listeners:dependent-startup": process(rp.RUNNING)}
    with scripted_supervisord(container, programs, groups={"listeners:dependent-startup": "listeners"}):
        record = json.loads(container.probe("--socket", "/var/run/fake.sock", "--json").text)
    assert record["start"]["final"] is False, record


def test_a_wait_named_twice_is_the_last_one_as_the_listener_keeps_it(container):
    container.edit_program("start", dependent_startup_wait_for="rsyslogd:stopped rsyslogd:running")
    programs = {"start": process(rp.STOPPED, start=0), "rsyslogd": process(10), "dependent-startup": process(rp.RUNNING)}
    with scripted_supervisord(container, programs):
        record = json.loads(container.probe("--socket", "/var/run/fake.sock", "--json").text)
    assert record["reason"] == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and rsyslogd is STARTING")
    assert record["start"]["final"] is False


def test_a_wait_met_when_the_listener_has_ended_says_nothing_will_start_it(container):
    programs = {"start": process(rp.STOPPED, start=0), "rsyslogd": process(rp.RUNNING),
                "dependent-startup": process(rp.STOPPED)}
    with scripted_supervisord(container, programs):
        record = json.loads(container.probe("--socket", "/var/run/fake.sock", "--json").text)
    assert record["reason"] == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, which rsyslogd has reached"
        " (RUNNING); supervisord-dependent-startup has ended (dependent-startup is STOPPED): nothing will start it:"
        " this will not change by itself"), record
    assert record["start"]["final"] is True


def test_thousands_of_waits_end_by_the_deadline(container):
    container.edit_program("start", dependent_startup_wait_for=" ".join("d%d:running" % i for i in range(60000)))
    programs = {"start": process(rp.STOPPED, start=0), "dependent-startup": process(rp.RUNNING)}
    with scripted_supervisord(container, programs):
        result = container.probe("--socket", "/var/run/fake.sock", "--timeout", "0.3")
    assert result.code in (2, 124), result
    assert result.elapsed < 0.3 + 0.7, result  # the deadline, and the interpreter's start and exit
    assert "this will not change" not in result.first_line


def test_a_nul_in_a_dependencys_command_is_no_internal_error(container):
    container.edit_program("rsyslogd", command="/usr/sbin/rsys\0logd -n")
    programs = {"start": process(rp.STOPPED, start=0), "rsyslogd": process(rp.STOPPED, start=0),
                "dependent-startup": process(rp.RUNNING)}
    with scripted_supervisord(container, programs):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.first_line == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and rsyslogd is STOPPED"
    ), result


# -- a dependency supervisord cannot start: the listener's startProcess fails
# (NO_FILE, NOT_EXECUTABLE) and it stays STOPPED, never started, for good
def listener_cannot_start_rsyslogd(container, name="rsyslogd"):
    """SONiC's layout (rsyslogd autostart=false, started by the listener):
    waits until the listener has tried and supervisord refused (its log)."""
    container.start_supervisord()

    def refused():
        log = container.rpc().supervisor.tailProcessStderrLog("dependent-startup", 0, 100000)[0]
        return "Error when starting service 'rsyslogd'" in log
    wait_for(refused, what="the listener to be refused rsyslogd")
    assert container.process_info(name)["statename"] == "STOPPED"
    assert container.process_info(name)["start"] == 0


def test_dependency_whose_command_does_not_exist_is_named_and_final(container):
    os.unlink(container.path("/usr/sbin/rsyslogd"))
    listener_cannot_start_rsyslogd(container)
    result = container.probe()
    assert result.first_line == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and rsyslogd cannot be "
        "started: /usr/sbin/rsyslogd does not exist: this will not change by itself"), result
    result = container.probe("--wait", "30", "--json")
    assert result.elapsed < 5, result
    assert json.loads(result.text)["start"] == {"state": "STOPPED", "exitstatus": None, "final": True}


@pytest.mark.parametrize("make,why", [
    (lambda path: os.chmod(path, 0o644), "/usr/sbin/rsyslogd is not executable"),
    (lambda path: (os.unlink(path), os.mkdir(path)), "/usr/sbin/rsyslogd is a directory"),
])
def test_dependency_whose_command_cannot_be_executed_is_named_and_final(container, make, why):
    make(container.path("/usr/sbin/rsyslogd"))
    listener_cannot_start_rsyslogd(container)
    result = container.probe()
    assert result.first_line == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and rsyslogd cannot be "
        "started: %s: this will not change by itself" % why), result


def test_dependency_whose_command_is_on_no_path_is_named_and_final(container):
    """The PATH supervisord searches is the program's environment= one."""
    container.edit_program("rsyslogd", command="no-such-rsyslogd -n", environment='PATH="/usr/bin:/bin:/opt/bin"')
    listener_cannot_start_rsyslogd(container)
    result = container.probe()
    assert result.first_line == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and rsyslogd cannot be "
        "started: no-such-rsyslogd is not on PATH (/usr/bin:/bin:/opt/bin): this will not change by itself"), result


def test_dependency_whose_command_is_on_the_path_of_its_environment_is_not_called_missing(container):
    """[supervisord] environment= gives its PATH to every program; here the
    command is in a directory of that PATH alone, and rsyslogd waits for a
    program that is still STARTING, so it is not started yet."""
    os.makedirs(container.path("/usr/lib/mybin"))
    container.write("/usr/lib/mybin/mydaemon", "#!/bin/sh\nexec sleep 1000\n", 0o755)
    container.edit_program("gate", command="sleep 1000", autostart="true", startsecs=60)
    container.edit_program("rsyslogd", command="mydaemon", dependent_startup_wait_for="gate:running")
    container.write("/etc/supervisor/conf.d/environment.conf", '[supervisord]\nenvironment=PATH="/usr/lib/mybin:/bin"\n')
    container.start_supervisord().wait_for_state("STARTING", name="gate")
    result = container.probe("--json")
    record = json.loads(result.text)
    assert record["reason"] == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and rsyslogd is STOPPED")
    assert record["start"]["final"] is False


def test_dependency_whose_path_is_not_known_is_not_called_missing(container):
    """Without environment=, supervisord's PATH is its own environment's,
    which the probe sees only in the container's own view (root /)."""
    container.edit_program("rsyslogd", command="no-such-rsyslogd -n")
    listener_cannot_start_rsyslogd(container)
    record = json.loads(container.probe("--json").text)
    assert record["reason"] == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and rsyslogd is STOPPED")
    assert record["start"]["final"] is False


def test_dependency_whose_command_does_not_exist_yet_is_named_but_not_final(container):
    """The listener tries to start rsyslogd only once what rsyslogd waits for
    is reached: until then the file may yet come (a program it waits for may
    install it)."""
    os.unlink(container.path("/usr/sbin/rsyslogd"))
    container.edit_program("gate", command="sleep 1000", autostart="true", startsecs=60)
    container.edit_program("rsyslogd", dependent_startup_wait_for="gate:running")
    container.start_supervisord().wait_for_state("STARTING", name="gate")
    record = json.loads(container.probe("--json").text)
    assert record["reason"] == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and rsyslogd cannot be "
        "started: /usr/sbin/rsyslogd does not exist"), record
    assert record["start"]["final"] is False


def test_dependency_whose_command_may_be_found_relative_to_supervisords_directory_is_not_final(container):
    """A relative PATH entry is searched from supervisord's working directory,
    which the probe does not know."""
    container.edit_program("rsyslogd", command="no-such-rsyslogd -n", environment='PATH="/usr/bin:/bin:bin"')
    listener_cannot_start_rsyslogd(container)
    record = json.loads(container.probe("--json").text)
    assert record["reason"] == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and rsyslogd is STOPPED")
    assert record["start"]["final"] is False


@pytest.mark.parametrize("at,link,command", [
    ("/usr/sbin/rsyslogd", "/usr/lib/rsyslog/rsyslogd", "/usr/sbin/rsyslogd"),  # a container path, not the probe's
    ("/usr/sbin/rsyslogd", "../lib/./rsyslog/rsyslogd", "/usr/sbin/rsyslogd"),
    ("/usr/sbin/rsyslog", "/usr/sbin/../lib/rsyslog", "/usr/sbin/rsyslog/rsyslogd"),  # a directory's link
])
def test_dependency_whose_command_is_a_link_inside_the_container_is_not_called_missing(container, at, link, command):
    """Links are followed inside the container. rsyslogd is started by no one
    here: the probe judges its command as it stands."""
    target = container.path("/usr/lib/rsyslog/rsyslogd")
    os.makedirs(os.path.dirname(target))
    os.rename(container.path("/usr/sbin/rsyslogd"), target)
    os.symlink(link, container.path(at))
    container.edit_program("rsyslogd", command=command + " -n", dependent_startup="false")
    container.start_supervisord()
    ended = container.wait_for_listener_to_end()["statename"]  # nothing to start: it ends at once
    result = container.probe("--json")
    record = json.loads(result.text)
    assert record["reason"] == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and rsyslogd is STOPPED;"
        " supervisord-dependent-startup has ended (dependent-startup is %s): nothing will start it:"
        " this will not change by itself" % ended)  # final for the listener's end, not for a command called missing
    assert record["start"]["final"] is True


def test_dependency_whose_command_is_a_loop_of_links_makes_no_claim(container):
    os.unlink(container.path("/usr/sbin/rsyslogd"))
    os.symlink("/usr/sbin/rsyslogd", container.path("/usr/sbin/rsyslogd"))
    listener_cannot_start_rsyslogd(container)
    result = container.probe()
    assert result.first_line == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and rsyslogd is STOPPED"), result


def test_missing_command_of_a_dependency_is_not_final_where_start_waits_for_fatal_too(container):
    """The probe does not tell who would spawn rsyslogd: spawned by
    supervisord itself (autostart), a missing command passes through
    STARTING, BACKOFF and FATAL, and a wait for FATAL may yet be met."""
    os.unlink(container.path("/usr/sbin/rsyslogd"))
    container.edit_program("start", dependent_startup_wait_for="rsyslogd:running,fatal")
    listener_cannot_start_rsyslogd(container)
    record = json.loads(container.probe("--json").text)
    assert record["reason"] == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running,fatal, and rsyslogd is STOPPED")
    assert record["start"]["final"] is False


def test_a_wait_for_no_state_the_listener_knows_is_final(container):
    """The listener drops states it does not know (STOPPED among them): it
    waits for nothing it could ever see, and never starts start."""
    container.edit_program("start", dependent_startup_wait_for="rsyslogd:stopped")
    container.start_supervisord().wait_for_state("RUNNING", name="rsyslogd")
    result = container.probe()
    assert result.first_line == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:stopped, and rsyslogd:stopped "
        "names no state supervisord-dependent-startup waits for (STARTING, RUNNING, BACKOFF, STOPPING, EXITED, "
        "FATAL): this will not change by itself"), result


# -- a dependency in a [group:]: asked as supervisorctl and the listener name it
def rsyslogd_in_group_base(container):
    with open(container.path(PROGRAMS), "a") as f:
        f.write("\n[group:base]\nprograms=rsyslogd\n")


def test_dependency_in_a_group_is_found_by_its_full_name(container):
    rsyslogd_in_group_base(container)
    container.edit_program("rsyslogd", startsecs=1000)
    container.start_supervisord().wait_for_state("STARTING", name="base:rsyslogd")
    result = container.probe()
    assert result.first_line == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and base:rsyslogd is STARTING"
    ), result


def test_fatal_dependency_in_a_group_is_seen(container):
    rsyslogd_in_group_base(container)
    os.unlink(container.path("/usr/sbin/rsyslogd"))
    container.edit_program("rsyslogd", autostart="true", dependent_startup="false", startretries=0)
    container.start_supervisord().wait_for_state("FATAL", name="base:rsyslogd")
    result = container.probe()
    assert result.first_line == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and base:rsyslogd is FATAL "
        "(can't find command '%s')" % container.path("/usr/sbin/rsyslogd")), result


def test_dependency_in_a_group_whose_command_does_not_exist_is_named_and_final(container):
    rsyslogd_in_group_base(container)
    os.unlink(container.path("/usr/sbin/rsyslogd"))
    listener_cannot_start_rsyslogd(container, "base:rsyslogd")
    result = container.probe()
    assert result.first_line == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and base:rsyslogd cannot "
        "be started: /usr/sbin/rsyslogd does not exist: this will not change by itself"), result


# -- the listener may start start again: it starts a program again on any
# event until it has seen it reach RUNNING or FATAL, and ends once all it
# starts are done. An exited start is final only once the listener has ended.
def keep_the_listener_running(container):
    """A program the listener waits to start for ever (featured never exits):
    the listener is never done, and stays RUNNING."""
    container.edit_program("laterd", command="sleep 1000", autostart="false", dependent_startup="true",
                           dependent_startup_wait_for="featured:exited")


def test_an_exited_start_is_not_final_while_the_listener_may_start_it_again(container):
    keep_the_listener_running(container)
    container.write_start("exit 1")
    container.start_supervisord()
    wait_for(lambda: container.process_info("featured")["statename"] == "RUNNING", what="featured to run")
    container.wait_for_syslog()
    assert container.process_info("dependent-startup")["statename"] == "RUNNING"
    assert container.process_info()["exitstatus"] == 1
    result = container.probe()
    assert result.first_line == (
        "not ready (exit 2): start exited with status 1, and supervisord will not restart it (autorestart=false), but"
        " supervisord-dependent-startup may start it again (dependent-startup is RUNNING); its output went to syslog"
    ), result
    record = json.loads(container.probe("--json").text)
    assert record["start"]["final"] is False
    result = container.probe("--wait", "1.5", "--interval", "0.2")
    assert result.code == 2 and result.elapsed >= 1.4, result  # waited to the end: it did not give up


def test_an_exited_start_is_final_once_the_listener_has_ended(container):
    container.write_start("exit 1")
    container.start_supervisord().wait_for_state("EXITED")
    assert container.process_info("dependent-startup")["statename"] == "EXITED"
    result = container.probe("--json")
    record = json.loads(result.text)
    assert record["reason"] == (
        "not ready (exit 2): start exited with status 1, and supervisord will not restart it (autorestart=false):"
        " this will not change by itself; its output went to syslog"), result
    assert record["start"]["final"] is True


@pytest.mark.parametrize("listener,final", [
    (process(rp.STOPPED, start=0), False),  # at boot: supervisord has not spawned it yet (autostart=true)
    (process(10), False),
    (process(rp.RUNNING), False),
    (process(30), False),
    (process(40), False),
    (process(rp.EXITED, 0), True),  # its work done (exitcodes=0,3: supervisord will not restart it)
    (process(rp.EXITED, 1), False),  # an unexpected exit: supervisord restarts it
    (process(rp.FATAL), True),
    (process(rp.STOPPED), True),  # stopped after it ran: by someone
    (process(1000), False),
])
def test_a_start_never_started_is_final_once_the_listener_has_ended(container, listener, final):
    programs = {"start": process(rp.STOPPED, start=0), "rsyslogd": process(rp.STOPPED, start=0),
                "dependent-startup": listener}
    with scripted_supervisord(container, programs):
        record = json.loads(container.probe("--socket", "/var/run/fake.sock", "--json").text)
    assert record["start"]["final"] is final, record
    ended = "; supervisord-dependent-startup has ended (dependent-startup is %s): nothing will start it" % (
        rp.STATE_NAMES[listener["state"]])
    assert record["reason"] == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and rsyslogd is STOPPED"
        + (ended + ": this will not change by itself" if final else "")), record


@pytest.mark.parametrize("listener,final", [
    (process(rp.RUNNING), False), (process(rp.EXITED, 0), True), (process(rp.FATAL), True), (None, True)])
def test_an_exited_start_is_final_by_the_listeners_state(container, listener, final):
    programs = {"start": process(rp.EXITED, 1)}
    if listener:
        programs["dependent-startup"] = listener  # else no such process: supervisord runs no listener
    with scripted_supervisord(container, programs):
        record = json.loads(container.probe("--socket", "/var/run/fake.sock", "--json").text)
    assert record["start"]["final"] is final, record
    assert ("supervisord-dependent-startup may start it again" in record["reason"]) is not final, record


def test_an_exited_start_that_is_not_the_listeners_ignores_the_listener(container):
    container.edit_program("start", dependent_startup="false", autostart="false")
    programs = {"start": process(rp.EXITED, 1), "dependent-startup": process(rp.RUNNING)}
    with scripted_supervisord(container, programs):
        record = json.loads(container.probe("--socket", "/var/run/fake.sock", "--json").text)
    assert record["start"]["final"] is True, record


def test_a_dependency_whose_state_cannot_be_had_is_said_to_be_unknown(container):
    """supervisord answers for start, but not sense for what it waits for."""
    def answer(request):
        if b"<string>start</string>" in request:
            return xmlrpc_answer(dict(process(rp.STOPPED, start=0), name="start"))
        return b"HTTP/1.0 500 Broken\r\n\r\n"

    with MisbehavingServer(container.path("/var/run/fake.sock"), answer):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.text == ("not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and"
                           " rsyslogd's state is unknown\n"), result


def test_wait_goes_on_while_start_waits_for_a_fatal_program(container):
    programs = {"start": process(rp.STOPPED, start=0), "rsyslogd": process(rp.FATAL, spawnerr="can't find command")}
    with scripted_supervisord(container, programs):
        result = container.probe("--socket", "/var/run/fake.sock", "--wait", "1", "--interval", "0.2", "--json")
    record = json.loads(result.text)
    assert result.elapsed >= 1 - 0.2, result
    assert record["start"] == {"state": "STOPPED", "exitstatus": None, "final": False}
    assert record["reason"].endswith("it waits for rsyslogd:running, and rsyslogd is FATAL (can't find command)")


def test_a_dependency_in_the_state_waited_for_is_said_to_have_reached_it(container):
    """The gap before the listener acts on rsyslogd's RUNNING: start is
    started next, not waiting for a state rsyslogd is in."""
    programs = {"start": process(rp.STOPPED, start=0), "rsyslogd": process(rp.RUNNING)}
    with scripted_supervisord(container, programs):
        result = container.probe("--socket", "/var/run/fake.sock", "--json")
    record = json.loads(result.text)
    assert record["reason"] == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, which rsyslogd has "
        "reached (RUNNING): supervisord-dependent-startup starts it once it has seen that"), result
    assert record["start"]["final"] is False


def test_of_two_dependencies_the_one_in_its_state_is_said_to_have_reached_it(container):
    container.edit_program("start", dependent_startup_wait_for="rsyslogd:running featured:exited")
    programs = {"start": process(rp.STOPPED, start=0), "rsyslogd": process(rp.RUNNING), "featured": process(10)}
    with scripted_supervisord(container, programs):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.first_line == (
        "not ready (exit 2): start has not been started yet: it waits for rsyslogd:running and featured:exited, and "
        "rsyslogd has reached it (RUNNING), featured is STARTING"), result


@pytest.mark.parametrize("wait_for,phrase", [
    ("rsyslogd:running:x", "rsyslogd is STARTING"),  # not one ':': the listener waits for RUNNING
    ("nosuchd:stopped", "nosuchd is not a supervisord program"),  # the listener drops the wait
])
def test_waits_the_listener_reads_otherwise_or_drops_are_not_final(container, wait_for, phrase):
    container.edit_program("start", dependent_startup_wait_for=wait_for)
    programs = {"start": process(rp.STOPPED, start=0), "rsyslogd": process(10)}
    with scripted_supervisord(container, programs):
        record = json.loads(container.probe("--socket", "/var/run/fake.sock", "--json").text)
    assert record["reason"] == "not ready (exit 2): start has not been started yet: it waits for %s, and %s" % (
        wait_for, phrase)
    assert record["start"]["final"] is False


def test_a_dependency_in_a_state_supervisor_does_not_define_is_named_by_its_number(container):
    programs = {"start": process(rp.STOPPED, start=0), "rsyslogd": process(999)}
    with scripted_supervisord(container, programs):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.first_line == ("not ready (exit 2): start has not been started yet: it waits for rsyslogd:running, and"
                                 " rsyslogd is in state 999"), result


def test_a_fatal_program_that_start_may_wait_for_in_that_state_is_not_final(container):
    container.edit_program("start", dependent_startup_wait_for="rsyslogd:running,fatal")
    programs = {"start": process(rp.STOPPED, start=0), "rsyslogd": process(rp.FATAL, spawnerr="can't find command")}
    with scripted_supervisord(container, programs):
        record = json.loads(container.probe("--socket", "/var/run/fake.sock", "--json").text)
    assert record["start"] == {"state": "STOPPED", "exitstatus": None, "final": False}
    assert "this will not change" not in record["reason"]
