"""--program NAME, a hook's question "is this program RUNNING?", in every
state supervisord has: exit 0 and `NAME is RUNNING` for RUNNING alone, exit
2 and `not ready (exit 2): NAME is STATE ...` for every other (with the exit
status of an EXITED program, the spawn error of the others), also for a name
supervisord does not know; 69 where it cannot be asked. A real supervisord
for the states it reaches on demand, a scripted one for the others."""

import json
import os

import pytest

import readiness_probe as rp
from fake_container import wait_for
from fake_supervisord import MisbehavingServer, xmlrpc_answer, xmlrpc_fault

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


def test_program_flag_with_hook_is_64(container, tmp_path):
    hook = tmp_path / "hook"
    hook.write_text("#!/bin/sh\nexit 0\n")
    hook.chmod(0o755)
    result = container.probe("--program", "featured", "--hook", str(hook))
    assert (result.code, result.text) == (
        64, "not ready (exit 64): --program asks one program's state: it goes with neither --wait nor --hook\n"), result
