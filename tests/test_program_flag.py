"""--program NAME, a hook's question "is this program RUNNING?", in every
state supervisord has: exit 0 and `NAME is RUNNING` for RUNNING alone, exit
2 and `not ready (exit 2): NAME is STATE ...` for every other (with the exit
status of an EXITED program, the spawn error of the others), also for a name
supervisord does not know; 69 where it cannot be asked. In a hook, it asks
where the probe found supervisord and stops at the hook's deadline. A real
supervisord for the states it reaches on demand, a scripted one for the others."""

import json
import os
import time

import pytest

import readiness_probe as rp
from fake_container import LAUNCHER, run_probe, wait_for
from fake_supervisord import EXITED_ZERO, MisbehavingServer, xmlrpc_answer, xmlrpc_fault

SCRIPTED = "/var/run/fake.sock"


def scripted_program(container, **info):
    """A fake supervisord whose getProcessInfo answers for `featured`."""
    answer = dict({"name": "featured", "group": "featured", "exitstatus": 0, "spawnerr": "", "start": 1}, **info)
    answer.setdefault("statename", rp.STATE_NAMES.get(answer["state"], "UNKNOWN"))
    return MisbehavingServer(container.path(SCRIPTED), xmlrpc_answer(answer))


def ask(container, name="featured", *more):
    return container.probe("--socket", SCRIPTED, "--program", name, *more)


# -- real supervisord ---------------------------------------------------------------
def test_running_program_is_0(ready):
    ready.wait_for_state("RUNNING", name="featured")
    result = ready.probe("--program", "featured")
    assert (result.code, result.text) == (0, "featured is RUNNING\n"), result


def test_starting_program_is_not_running(container):
    container.edit_program("featured", startsecs=1000)
    container.start_supervisord().wait_for_state("STARTING", name="featured")
    result = container.probe("--program", "featured")
    assert (result.code, result.text) == (2, "not ready (exit 2): featured is STARTING\n"), result


def test_stopped_program_is_not_running(ready):
    ready.rpc().supervisor.stopProcess("featured")
    try:
        ready.wait_for_state("STOPPED", name="featured")
        result = ready.probe("--program", "featured")
    finally:
        ready.rpc().supervisor.startProcess("featured")
        ready.wait_for_state("RUNNING", name="featured")
    assert (result.code, result.text) == (2, "not ready (exit 2): featured is STOPPED\n"), result


def test_never_started_program_is_stopped(container):
    container.edit_program("start", startsecs=0)
    container.write_start("exec sleep 1000")  # featured waits for start:exited
    container.start_supervisord().wait_for_state("RUNNING")
    result = container.probe("--program", "featured")
    assert (result.code, result.text) == (2, "not ready (exit 2): featured is STOPPED\n"), result


def test_stopping_program_is_not_running(container):
    """A program that ignores SIGTERM stays STOPPING for stopwaitsecs."""
    trapped = container.path("/var/run/featured.trapped")
    container.write("/usr/bin/featured.sh", "#!/bin/sh\ntrap '' TERM\n: > %s\nwhile :; do sleep 1; done\n" % trapped,
                    0o755)
    container.edit_program("featured", stopwaitsecs=1000, startsecs=0)
    container.start_supervisord().wait_for_state("RUNNING", name="featured")
    wait_for(lambda: os.path.exists(trapped), what="featured to ignore SIGTERM")  # RUNNING at its spawn (startsecs=0)
    container.rpc().supervisor.stopProcess("featured", False)
    container.wait_for_state("STOPPING", name="featured")
    result = container.probe("--program", "featured")
    assert (result.code, result.text) == (2, "not ready (exit 2): featured is STOPPING\n"), result


@pytest.mark.parametrize("status", [0, 1])
def test_exited_program_is_not_running_and_says_its_exit_status(container, status):
    container.write_start("exit %d" % status)
    container.start_supervisord().wait_for_state("EXITED")
    result = container.probe("--program", "start")
    assert (result.code, result.text) == (2, "not ready (exit 2): start is EXITED (exit status %d)\n" % status), result


def test_fatal_program_is_not_running_and_says_why(container):
    container.edit_program("featured", command="/usr/bin/no-such-featured", autostart="true",
                           dependent_startup="false", startretries=0)
    container.start_supervisord().wait_for_state("FATAL", name="featured")
    result = container.probe("--program", "featured")
    assert (result.code, result.text) == (
        2, "not ready (exit 2): featured is FATAL (can't find command '%s')\n"
        % container.path("/usr/bin/no-such-featured")), result


def test_program_in_a_group_is_asked_as_group_colon_name(container):
    container.edit_program("featured", autostart="true", startsecs=0, dependent_startup=None,
                           dependent_startup_wait_for=None)
    with open(container.path("/etc/supervisor/conf.d/supervisord.conf"), "a") as f:
        f.write("\n[group:bgp]\nprograms=featured\n")
    container.start_supervisord().wait_for_state("RUNNING", name="bgp:featured")
    result = container.probe("--program", "bgp:featured")
    assert (result.code, result.text) == (0, "bgp:featured is RUNNING\n"), result
    result = container.probe("--program", "featured")
    assert (result.code, result.text) == (2, "not ready (exit 2): featured is not a supervisord program\n"), result


def test_program_flag_with_json_is_one_object(ready):
    ready.wait_for_state("RUNNING", name="featured")
    record = json.loads(ready.probe("--program", "featured", "--json").text)
    assert record == {"ready": True, "code": 0, "by": "probe", "reason": "featured is RUNNING", "output": "",
                      "start": None}
    record = json.loads(ready.probe("--program", "start", "--json").text)
    assert record == {"ready": False, "code": 2, "by": "probe", "output": "", "start": None,
                      "reason": "not ready (exit 2): start is EXITED (exit status 0)"}


def test_program_flag_without_supervisord_is_69(container):
    result = container.probe("--program", "featured")  # supervisord not started: no socket
    assert result.code == 69, result
    assert result.text.startswith("not ready (exit 69): ") and result.text.count("\n") == 1, result


# -- scripted answers, for the states hard to reach on demand ----------------------
@pytest.mark.parametrize(
    "info, line",
    [
        ({"state": 0}, "featured is STOPPED"),
        ({"state": 10}, "featured is STARTING"),
        ({"state": 30, "spawnerr": "Exited too quickly (process log may have details)"},
         "featured is BACKOFF (Exited too quickly (process log may have details))"),
        ({"state": 30}, "featured is BACKOFF"),
        ({"state": 40}, "featured is STOPPING"),
        ({"state": 100, "exitstatus": 3}, "featured is EXITED (exit status 3)"),
        ({"state": 100, "exitstatus": -1}, "featured is EXITED (exit status -1)"),
        ({"state": 100, "exitstatus": 3, "spawnerr": "an old spawn error"}, "featured is EXITED (exit status 3)"),
        ({"state": 200, "spawnerr": "can't find command '/usr/bin/featured'"},
         "featured is FATAL (can't find command '/usr/bin/featured')"),
        ({"state": 200, "spawnerr": "x" * 500}, "featured is FATAL (%s)" % ("x" * rp.SPAWNERR_LIMIT)),
        ({"state": 1000}, "featured is UNKNOWN"),
        ({"state": 999, "statename": "WHATEVER"}, "featured is in state 999"),
        ({"state": -5}, "featured is in state -5"),
    ],
    ids=["STOPPED", "STARTING", "BACKOFF-spawnerr", "BACKOFF", "STOPPING", "EXITED-3", "EXITED-killed",
         "EXITED-old-spawnerr", "FATAL-spawnerr", "FATAL-long-spawnerr", "UNKNOWN", "undefined", "negative"],
)
def test_every_state_but_running_is_2_with_what_supervisord_said(container, info, line):
    with scripted_program(container, **info):
        result = ask(container)
    assert (result.code, result.text) == (2, "not ready (exit 2): %s\n" % line), result


def test_running_is_0_whatever_else_the_answer_says(container):
    """RUNNING is decided by the state number, not by statename or spawnerr."""
    with scripted_program(container, state=20, statename="FATAL", spawnerr="stale", exitstatus=1):
        result = ask(container)
    assert (result.code, result.text) == (0, "featured is RUNNING\n"), result


def test_a_state_name_saying_running_is_not_running(container):
    with scripted_program(container, state=10, statename="RUNNING"):
        result = ask(container)
    assert (result.code, result.text) == (2, "not ready (exit 2): featured is STARTING\n"), result


def test_another_fault_is_69(container):
    with MisbehavingServer(container.path(SCRIPTED), xmlrpc_fault(6, "SHUTDOWN_STATE")):
        result = ask(container)
    assert (result.code, result.text) == (69, "not ready (exit 69): supervisord answered fault 6: SHUTDOWN_STATE\n"), result


def test_bad_name_fault_is_2_no_such_program(container):
    with MisbehavingServer(container.path(SCRIPTED), xmlrpc_fault(rp.FAULT_BAD_NAME, "BAD_NAME: featured")):
        result = ask(container)
    assert (result.code, result.text) == (2, "not ready (exit 2): featured is not a supervisord program\n"), result


# -- in a hook: where the probe found supervisord, and the hook's deadline; requests and odd answers
def test_program_flag_in_a_hook_reads_the_config_the_probe_was_named(container):
    """supervisord found only through -c, with a password: the hook's
    --program reads the same config, and so sends the credentials."""
    main = open(container.path("/etc/supervisor/supervisord.conf")).read().replace(
        "[supervisorctl]\n", "[supervisorctl]\nusername=probe\npassword=s3cret-pw\n").replace(
        "[unix_http_server]\n", "[unix_http_server]\nusername=probe\npassword=s3cret-pw\n")
    container.write("/etc/supervisor/supervisord.conf", main)
    container.credentials = ("probe", "s3cret-pw")
    container.edit_program("start", autostart="true", dependent_startup="false")  # the listener has no password
    container.start_supervisord().wait_for_state("EXITED")
    os.rename(container.path("/etc/supervisor/supervisord.conf"), container.path("/etc/supervisord-custom.conf"))
    container.write_hook('"%s" --program start; exit $((3 + $?))' % LAUNCHER)
    result = container.probe("-c", "/etc/supervisord-custom.conf")
    assert result.text == "not ready (exit 5): hook exited 5\nnot ready (exit 2): start is EXITED (exit status 0)\n", result


@pytest.mark.parametrize(
    "name,code,line",
    [
        ("rsyslogd", 0, "rsyslogd is RUNNING"),
        ("start", 2, "not ready (exit 2): start is EXITED (exit status 0)"),
        ("nosuch", 2, "not ready (exit 2): nosuch is not a supervisord program"),
    ],
    ids=["running", "exited", "no-such-program"],
)
def test_program_flag_prints_one_programs_state(ready, name, code, line):
    result = ready.probe("--program", name)
    assert (result.code, result.text) == (code, line + "\n"), result


def test_program_flag_in_a_hook_asks_where_the_probe_found_supervisord(ready):
    ready.write("/etc/supervisord.conf", "[unix_http_server]\nfile = /var/run/nowhere.sock\n")  # read first
    try:
        ready.write_hook('"%s" --program rsyslogd; exit $((3 + $?))' % LAUNCHER)
        result = ready.probe("--serverurl", "unix:///var/run/supervisor.sock")
    finally:
        os.unlink(ready.path("/etc/supervisord.conf"))
    assert result.text == "not ready (exit 3): hook exited 3\nrsyslogd is RUNNING\n", result


def test_program_flag_in_a_hook_stops_at_the_hooks_deadline(container):
    def answer(request):  # start exited 0; a question about featured is never answered
        return xmlrpc_answer(EXITED_ZERO) if b"<string>start</string>" in request else None

    with MisbehavingServer(container.path("/var/run/fake.sock"), answer):
        env = dict(os.environ, READINESS_PROBE_SUPERVISOR="unix://" + container.path("/var/run/fake.sock"),
                   READINESS_PROBE_DEADLINE="%.6f" % (time.monotonic() + 0.5))
        result = run_probe(["--root", container.root, "--program", "featured", "--timeout", "30"], env=env)
    assert result.code == 124, result
    assert result.elapsed < 5, result  # the hook's deadline, not --timeout 30
    assert result.first_line.startswith("not ready (exit 124): "), result


def test_program_flag_takes_the_inherited_address_as_it_is(container):
    """No %-expansion: the probe wrote the address it used, already expanded."""
    directory = container.path("/var/run/100%%(here)s")
    os.makedirs(directory)
    running = dict(EXITED_ZERO, name="featured", group="featured", state=20, statename="RUNNING")
    with MisbehavingServer(os.path.join(directory, "s.sock"), xmlrpc_answer(running)):
        env = dict(os.environ, READINESS_PROBE_SUPERVISOR="unix://%s/s.sock" % directory)
        result = run_probe(["--root", container.root, "--program", "featured"], env=env)
    assert (result.code, result.text) == (0, "featured is RUNNING\n"), result


def test_program_names_are_escaped_in_the_request(container):
    with MisbehavingServer(container.path("/var/run/fake.sock"), xmlrpc_answer(EXITED_ZERO)) as server:
        container.probe("--socket", "/var/run/fake.sock", "--program", "a&b<c>")
    assert b"<string>a&amp;b&lt;c&gt;</string>" in server.requests[0], server.requests


def test_program_flag_on_an_answer_without_an_integer_state_is_69(container):
    with MisbehavingServer(container.path("/var/run/fake.sock"), xmlrpc_answer({"name": "featured", "state": "up"})):
        result = container.probe("--socket", "/var/run/fake.sock", "--program", "featured")
    assert result.text == "not ready (exit 69): supervisord's answer for featured has no integer state\n", result


def test_program_flag_on_a_program_that_could_not_start_says_why(container):
    fatal = {"name": "featured", "state": 200, "exitstatus": 0, "spawnerr": "can't find command '/usr/bin/featured'"}
    with MisbehavingServer(container.path("/var/run/fake.sock"), xmlrpc_answer(fatal)):
        result = container.probe("--socket", "/var/run/fake.sock", "--program", "featured")
    assert result.text == "not ready (exit 2): featured is FATAL (can't find command '/usr/bin/featured')\n", result
