"""A container laid out as SONiC's are: Debian's supervisord.conf with an
[include] of conf.d/, where the supervisord-dependent-startup listener starts
rsyslogd, then start (dependent_startup_wait_for=rsyslogd:running), then the
feature. What the probe tells of start there, and what --wait and --json do
with it. A real supervisord on the fake container, the probe as kubelet runs it."""

import json
import os
import signal
import socket

import pytest

import readiness_probe as rp
from fake_container import PROGRAMS, wait_for
from fake_supervisord import MisbehavingServer, process, scripted_supervisord, xmlrpc_answer

FAILING_START = "echo 'start.sh: cannot render bgpd.conf: template error' >&2\necho 'start.sh: giving up'\nexit 1"


def start_logs_to_a_file(container, **more):
    """start's output kept by supervisord in a file, not sent to syslog."""
    container.edit_program("start", stdout_logfile="/var/log/supervisor/start.log", stderr_logfile=None,
                           redirect_stderr="true", **more)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


# -- start's own last words ----------------------------------------------------
def test_failed_start_logging_to_syslog_says_where_its_output_went(container):
    container.write_start(FAILING_START)
    container.start_supervisord().wait_for_state("EXITED")
    result = container.probe()
    assert result.code == 2, result
    assert result.first_line.endswith("; its output went to syslog"), result
    assert result.text.count("\n") == 1  # nothing follows: supervisord holds none of it


def test_failed_start_is_followed_by_the_tail_of_its_log(container):
    container.write_start(FAILING_START)
    start_logs_to_a_file(container)
    container.start_supervisord().wait_for_state("EXITED")
    result = container.probe()
    assert result.code == 2, result
    assert "syslog" not in result.first_line
    following = result.text.split("\n", 1)[1]
    assert following.startswith("[start's stdout, %s]\n" % container.process_info()["stdout_logfile"]), result
    assert following.endswith("start.sh: cannot render bgpd.conf: template error\nstart.sh: giving up\n"), result


def test_a_start_log_of_one_byte_is_shown(container):
    # once: the listener may start a start.sh that exits this soon twice
    container.write_start("mkdir \"$0.ran\" 2>/dev/null && printf '!'; exit 1")
    start_logs_to_a_file(container)
    container.start_supervisord().wait_for_state("EXITED")
    result = container.probe()
    assert result.text.split("\n", 1)[1].endswith("]\n!\n"), result


def test_failed_start_with_separate_logs_shows_both(container):
    container.write_start(FAILING_START)
    container.edit_program("start", stdout_logfile="/var/log/supervisor/start.out",
                           stderr_logfile="/var/log/supervisor/start.err")
    container.start_supervisord().wait_for_state("EXITED")
    text = container.probe().text
    out = text.index("[start's stdout, ")
    err = text.index("[start's stderr, ")
    assert "giving up" in text[out:err]
    assert "template error" in text[err:]


def test_start_log_with_control_characters_is_still_shown(container):
    container.write_start("printf '\\033[31mred failure\\033[0m\\001\\n'; exit 4")
    start_logs_to_a_file(container)
    container.start_supervisord().wait_for_state("EXITED")
    result = container.probe()
    assert result.code == 2, result
    assert "?[31mred failure?[0m?" in result.text


def test_long_start_log_keeps_its_tail_within_10_kib(container):
    container.write_start("i=0; while [ $i -lt 3000 ]; do echo \"line $i of start.sh\"; i=$((i+1)); done; exit 1")
    start_logs_to_a_file(container)
    container.start_supervisord().wait_for_state("EXITED")
    result = container.probe()
    assert result.code == 2, result
    assert len(result.output) <= rp.OUTPUT_LIMIT
    assert result.text.endswith("line 2999 of start.sh\n")
    assert "[... earlier output cut]" in result.text


def test_start_that_is_running_shows_no_log(container):
    container.write_start("echo still initialising; exec sleep 1000")
    start_logs_to_a_file(container)
    container.start_supervisord().wait_for_state("RUNNING")
    assert container.probe().text.count("\n") == 1


# -- start's config, read as supervisord reads it -----------------------------
def test_a_later_included_file_overrides_starts_settings(container):
    container.write_start("exit 1")
    container.start_supervisord().wait_for_state("EXITED")
    container.write("/etc/supervisor/conf.d/zz-override.conf", "[program:start]\nautorestart = true\n")
    assert "supervisord will restart it (autorestart=true)" in container.probe().first_line


@pytest.mark.parametrize("spelling, phrase", [
    ("1", "supervisord will restart it (autorestart=true)"), ("Yes", "supervisord will restart it (autorestart=true)"),
    ("on", "supervisord will restart it (autorestart=true)"),
    ("0", "will not restart it (autorestart=false)"), ("NO", "will not restart it (autorestart=false)"),
    ("off", "will not restart it (autorestart=false)"),
])
def test_starts_autorestart_is_read_in_each_of_supervisors_spellings(container, spelling, phrase):
    container.write_start("exit 1")
    container.start_supervisord().wait_for_state("EXITED")
    container.write("/etc/supervisor/conf.d/zz-override.conf", "[program:start]\nautorestart = %s\n" % spelling)
    assert phrase in container.probe().first_line


def test_relative_include_with_here_and_env_is_followed(container):
    container.write_start("exit 1")
    container.start_supervisord().wait_for_state("EXITED")
    main = open(container.path("/etc/supervisor/supervisord.conf")).read()
    os.makedirs(container.path("/etc/supervisor/programs"))
    os.rename(container.path(PROGRAMS), container.path("/etc/supervisor/programs/sonic.ini"))
    container.write("/etc/supervisor/supervisord.conf", main.replace(
        "files = /etc/supervisor/conf.d/*.conf", "files = nothing/*.conf\n    %(here)s/%(ENV_RP_PROGRAMS)s/*.ini"))
    env = dict(os.environ, RP_PROGRAMS="programs")
    assert "will not restart it (autorestart=false)" in container.probe(env=env).first_line
    env["RP_PROGRAMS"] = "elsewhere"
    result = container.probe(env=env)
    assert result.first_line == "not ready (exit 2): start exited with status 1"  # start's config not found: no claim


@pytest.mark.parametrize("files, read", [(256, True), (257, False)])  # the README's figure
def test_starts_settings_are_read_from_at_most_256_included_files(container, files, read):
    container.write_start("exit 1")
    container.start_supervisord().wait_for_state("EXITED")
    main = open(container.path("/etc/supervisor/supervisord.conf")).read()
    container.write("/etc/supervisor/supervisord.conf", main.replace(
        "files = /etc/supervisor/conf.d/*.conf", "files = /etc/supervisor/conf.d/*.conf /etc/supervisor/more/*.conf"))
    for n in range(56):  # the limit counts the files of both patterns: 1 + 56 here, the rest there
        container.write("/etc/supervisor/conf.d/extra-%03d.conf" % n, "")
    for n in range(files - 57):
        container.write("/etc/supervisor/more/%03d.conf" % n, "")
    first_line = container.probe().first_line
    assert ("will not restart it (autorestart=false)" in first_line) == read, first_line


def test_exit_code_listed_in_exitcodes_is_final_under_autorestart_unexpected(container):
    container.write_start("exit 3")
    container.edit_program("start", autorestart="unexpected", exitcodes="0,3")
    container.start_supervisord().wait_for_state("EXITED")
    result = container.probe()
    assert "will not restart it (exit status 3 is in exitcodes=0,3): this will not change by itself" in result.first_line


# -- --wait gives up at once on a start that failed for good -------------------
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


def test_wait_keeps_waiting_on_an_exit_supervisord_will_restart(container):
    container.edit_program("start", autorestart="unexpected", exitcodes="0")
    with scripted_supervisord(container, {"start": process(rp.EXITED, 1)}):
        result = container.probe("--socket", "/var/run/fake.sock", "--wait", "1", "--interval", "0.1")
    assert result.code == 2, result
    assert result.elapsed >= 1 - 0.1, result
    assert result.first_line.endswith(
        "start exited with status 1; supervisord will restart it (exit status 1 is not in exitcodes=0); "
        "its output went to syslog, but nothing receives syslog in the container (no socket listening at /dev/log),"
        " so it may be lost"), result


def test_wait_stops_at_once_on_a_fatal_start(container):
    with scripted_supervisord(container, {"start": process(rp.FATAL, spawnerr="can't find command")}):
        result = container.probe("--socket", "/var/run/fake.sock", "--wait", "60", "--interval", "1")
    assert result.code == 2, result
    assert result.elapsed < 30, result
    assert "gave up (can't find command): this will not change by itself" in result.first_line


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


def test_start_logging_to_syslog_and_a_file_shows_the_file_and_says_so(container):
    container.edit_program("start", stdout_logfile="/var/log/supervisor/start.log", stdout_syslog="true",
                           stderr_logfile=None, redirect_stderr="true")
    failed = dict(process(rp.EXITED, 1), stdout_logfile="/var/log/supervisor/start.log")
    with scripted_supervisord(container, {"start": failed, "log": "start.sh: template error\n"}):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.first_line.endswith("; its stdout went to syslog, but nothing receives syslog in the container"
                                      " (no socket listening at /dev/log), so it may be lost"), result
    assert result.text.split("\n", 1)[1] == "[start's stdout, /var/log/supervisor/start.log]\nstart.sh: template error\n"


# -- --json tells the controller start's state ---------------------------------
def test_json_reports_starts_state_exit_status_and_finality(container):
    container.write_start("exec sleep 1000")
    container.start_supervisord().wait_for_state("RUNNING")
    record = json.loads(container.probe("--json").text)
    assert record["start"] == {"state": "RUNNING", "exitstatus": None, "final": False}
    container.rpc().supervisor.stopProcess("start")
    container.write_start("exit 5")
    container.restart_start()
    container.wait_for_state("EXITED")
    record = json.loads(container.probe("--json").text)
    assert record["start"] == {"state": "EXITED", "exitstatus": 5, "final": True}
    assert record["code"] == 2 and record["ready"] is False


def test_json_start_is_null_without_supervisord(container):
    import shutil

    shutil.rmtree(container.path("/etc/supervisor"))
    assert json.loads(container.probe("--json").text)["start"] is None


# -- supervisord on TCP ----------------------------------------------------------
def listen_on_tcp_only(container, port, ctl="serverurl=http://127.0.0.1:%(port)d\n", auth=""):
    main = open(container.path("/etc/supervisor/supervisord.conf")).read()
    main = main.replace("[unix_http_server]\nfile=/var/run/supervisor.sock",
                        "[inet_http_server]\nport=127.0.0.1:%d%s" % (port, auth))
    main = main.replace("serverurl=unix:///var/run/supervisor.sock ; use a unix:// URL  for a unix socket", ctl % {"port": port})
    container.write("/etc/supervisor/supervisord.conf", main)
    container.serverurl = "http://127.0.0.1:%d" % port


def test_supervisord_on_tcp_is_asked_at_its_serverurl(container):
    listen_on_tcp_only(container, free_port())
    container.start_supervisord().wait_for_state("EXITED")
    assert not os.path.exists(container.path("/var/run/supervisor.sock"))
    result = container.probe()
    assert result.code == 0, result


def test_inet_http_server_port_is_used_when_nothing_else_names_a_server(container):
    listen_on_tcp_only(container, free_port(), ctl="")
    container.start_supervisord().wait_for_state("EXITED")
    assert container.probe().code == 0


def test_inet_http_server_port_without_a_host_means_this_machine(container):
    port = free_port()
    listen_on_tcp_only(container, port, ctl="")
    container.start_supervisord().wait_for_state("EXITED")
    text = open(container.path("/etc/supervisor/supervisord.conf")).read()
    container.write("/etc/supervisor/supervisord.conf", text.replace("port=127.0.0.1:%d" % port, "port=%d" % port))
    result = container.probe()
    assert result.text == "ready: start exited with status 0; no hook\n", result


def test_tcp_credentials_are_sent(container):
    port = free_port()
    listen_on_tcp_only(container, port, auth="\nusername=probe\npassword=s3cret",
                       ctl="serverurl=http://127.0.0.1:%(port)d\nusername=probe\npassword=s3cret\n")
    container.credentials = ("probe", "s3cret")
    container.edit_program("start", autostart="true", dependent_startup="false")  # the listener has no password
    container.start_supervisord().wait_for_state("EXITED")
    assert container.probe().code == 0
    text = open(container.path("/etc/supervisor/supervisord.conf")).read()
    container.write("/etc/supervisor/supervisord.conf", text.replace("password=s3cret\n", "password=wrong\n"))
    result = container.probe()
    assert result.code == 69 and "HTTP 401" in result.first_line, result


@pytest.mark.parametrize("flag", ["--serverurl", "-s"])
def test_serverurl_flag_names_a_tcp_server(container, flag):
    port = free_port()
    listen_on_tcp_only(container, port, ctl="")
    container.start_supervisord().wait_for_state("EXITED")
    container.write("/etc/supervisor/supervisord.conf", "[unix_http_server]\nfile=/var/run/nowhere.sock\n")
    assert container.probe().code == 69
    result = container.probe(flag, "http://127.0.0.1:%d" % port)
    assert result.code == 0, result


def test_serverurl_flag_names_a_unix_socket_under_the_root(running):
    running.wait_for_state("EXITED")
    running.write("/etc/supervisor/supervisord.conf", "[unix_http_server]\nfile=/var/run/nowhere.sock\n")
    assert running.probe("--serverurl", "unix:///var/run/supervisor.sock").code == 0


def test_serverurl_expands_environment_variables(container):
    port = free_port()
    listen_on_tcp_only(container, port, ctl="serverurl=http://127.0.0.1:%%(ENV_RP_PORT)s\n")
    container.start_supervisord().wait_for_state("EXITED")
    assert container.probe(env=dict(os.environ, RP_PORT=str(port))).code == 0
    assert container.probe(env=dict(os.environ, RP_PORT=str(free_port()))).code == 69


@pytest.mark.parametrize(
    "url,address",
    [
        ("http://127.0.0.1", "http://127.0.0.1:80"),
        ("http://[::1]:%(port)d", "http://[::1]:%(port)d"),
        ("http://[::1]", "http://[::1]:80"),
    ],
    ids=["no-port-means-80", "ipv6-with-port", "ipv6-without-port"],
)
def test_serverurl_flag_reads_hosts_and_ports_as_supervisorctl_does(container, url, address):
    """Nothing listens there: the first line names the address as read."""
    port = free_port()
    result = container.probe("--serverurl", url % {"port": port}, "--timeout", "5")
    assert result.code == 69, result
    assert result.first_line.startswith("not ready (exit 69): cannot ask supervisord at %s: " % (
        address % {"port": port})), result


def test_serverurl_with_a_host_that_is_no_host_name_is_69(container):
    result = container.probe("--serverurl", "http://%s:9001" % ("a" * 64))
    assert result.code == 69, result
    assert result.first_line == "not ready (exit 69): cannot ask supervisord at http://%s:9001: %r is not a host name" % (
        "a" * 64, "a" * 64)


def test_tcp_server_that_refuses_is_69_naming_its_url(container):
    port = free_port()
    result = container.probe("--serverurl", "http://127.0.0.1:%d" % port)
    assert result.code == 69, result
    assert result.first_line == "not ready (exit 69): cannot ask supervisord at http://127.0.0.1:%d: connection refused" % port


# -- the include reader, fuzzed: any config text gives a verdict, never a traceback
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

config_lines = st.lists(
    st.sampled_from([
        "[program:start]", "[include]", "[program:rsyslogd]", "files = conf.d/*.conf", "files = /etc/*/conf.d/*",
        "files = %(here)s/../* %(ENV_HOME)s", "files = [", "autorestart = false", "autorestart=unexpected",
        "exitcodes = 0,2", "exitcodes = x", "  continued", "dependent_startup_wait_for = a:running b",
        "stdout_logfile = syslog", "stdout_syslog = true", "redirect_stderr = true", "key", "=", "[", "]", ";c", "#c",
    ]) | st.text(max_size=30),
    max_size=12,
).map("\n".join)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(main=config_lines, included=config_lines)
def test_any_config_text_reads_to_settings_or_none(tmp_path_factory, main, included):
    root = str(tmp_path_factory.mktemp("root"))
    os.makedirs(os.path.join(root, "etc/supervisor/conf.d"))
    with open(os.path.join(root, "etc/supervisor/supervisord.conf"), "w", errors="surrogateescape") as f:
        f.write(main)
    with open(os.path.join(root, "etc/supervisor/conf.d/a.conf"), "w", errors="surrogateescape") as f:
        f.write(included)
    settings_ = rp.program_settings(os.path.join(root, "etc/supervisor/supervisord.conf"), root, "start")
    assert settings_ is None or all(isinstance(v, str) for v in settings_.values())
    if settings_ is not None:
        info = {"state": rp.EXITED, "exitstatus": 2, "start": 1}
        final, why = rp.will_not_change(info, settings_, lambda: "4.2.5")
        assert final in (True, False, None)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(included=config_lines)
def test_any_included_config_leaves_a_failed_start_at_exit_2_in_one_line(failed_start, included):
    failed_start.write("/etc/supervisor/conf.d/zz.conf", included)
    result = failed_start.probe()
    assert result.code == 2, result
    assert result.first_line.startswith("not ready (exit 2): start exited with status 1"), result
    assert "Traceback" not in result.text


@settings(max_examples=300, deadline=None)
@given(text=config_lines | st.lists(st.sampled_from([
    "[program:start] ; a comment", "[supervisorctl]   # another", "    autorestart = false", "  exitcodes=1",
    "\tfiles = a b", "key = value ; comment", "key = va;lue", "  ; indented comment", "[x]y]", "a:b=c",
]), max_size=10).map("\n".join))
def test_config_is_read_as_supervisors_own_parser_reads_it(text):
    from supervisor.options import UnhosedConfigParser

    parser = UnhosedConfigParser()  # [a]b]: its header ends at the first ] before Python 3.10, at the last since: so the probe's
    try:
        parser.read_string(text.replace("\r\n", "\n").replace("\r", "\n"))  # as supervisord reads a file
    except Exception:  # supervisord would refuse it
        return
    theirs = {name: dict(parser.items(name, raw=True)) for name in parser.sections()}
    assert rp.read_ini(text) == theirs


@pytest.fixture(scope="module")
def failed_start():
    from fake_container import FakeContainer

    container = FakeContainer()
    container.write_start("exit 1")
    container.start_supervisord().wait_for_state("EXITED")
    yield container
    container.destroy()
