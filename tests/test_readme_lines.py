"""The probe's lines README.md quotes are lines the probe prints: each is
read from the README and compared with a real run in the state it names (a
real supervisord and the real dependent-startup listener)."""

import os
import re

from fake_container import REPO

with open(os.path.join(REPO, "README.md")) as f:
    README = f.read()
PROSE = re.sub(r"\s+", " ", README)  # a quote in prose may wrap across lines

FAILING_START = "echo 'start.sh: giving up'; exit 1"


def quoted_at(phrase, length):
    """What the README says, `length` characters and the one after, at each
    occurrence of `phrase` (in code blocks and prose alike)."""
    return [PROSE[m.start():m.start() + length + 1] for m in re.finditer(re.escape(phrase), PROSE)]


def test_readme_quotes_the_running_line_the_probe_prints(container):
    container.edit_program("start", startsecs=0)
    container.write_start("exec sleep 1000")
    container.start_supervisord().wait_for_state("RUNNING")
    line = container.probe().first_line
    assert line == "not ready (exit 2): start is RUNNING: start.sh has not finished", line
    whole = quoted_at("not ready (exit 2): start is RUNNING", len(line))
    assert len(whole) >= 3, whole  # the Output section, the Kubernetes events, Docker's log
    assert set(whole) <= {line + " ", line + "`"}, whole
    state = line.split(": ", 1)[1]  # and where the state table quotes it alone
    assert set(quoted_at("start is RUNNING", len(state))) <= {state + " ", state + "`"}


def test_readme_quotes_the_syslog_lines_the_probe_prints(container):
    container.write_start(FAILING_START)
    container.start_supervisord().wait_for_state("EXITED")
    listened = container.probe().first_line
    assert ("\n%s\n" % listened) in README, listened  # the Output section's example, whole
    container.rpc().supervisor.stopProcess("rsyslogd")
    container.wait_for_state("STOPPED", name="rsyslogd")
    unheard = container.probe().first_line
    ending = unheard[len(listened):]
    assert unheard.startswith(listened) and ending, unheard
    assert "`; its output went to syslog`" in PROSE
    assert "`%s`" % ("; its output went to syslog" + ending) in PROSE, ending


def test_readme_quotes_the_header_of_one_file_for_both_streams(container):
    container.write_start(FAILING_START)
    container.edit_program("start", stdout_logfile="/var/log/supervisor/start.log",
                           stderr_logfile="/var/log/supervisor/start.log")
    container.start_supervisord()
    info = container.wait_for_state("EXITED")
    header = container.probe().text.split("\n")[1]
    assert header == "[start's stdout and stderr, %s]" % info["stdout_logfile"]
    assert "`[start's stdout and stderr, PATH]`" in PROSE
    assert "`[start's stdout, PATH]`" in PROSE


def test_readme_quotes_the_header_of_a_tail_supervisord_did_not_send(container):
    container.write_start("printf 'start.sh: bad byte \\377\\n'; exit 1")
    container.edit_program("start", stdout_logfile="/var/log/supervisor/start.log", stderr_logfile=None,
                           redirect_stderr="true")
    container.start_supervisord()
    info = container.wait_for_state("EXITED")
    header = container.probe().text.split("\n")[1]
    assert "`%s`" % header.replace(info["stdout_logfile"], "PATH") in PROSE, header


def test_readme_quotes_the_starting_line_the_probe_prints(container):
    container.edit_program("start", startsecs=1000)
    container.write_start("exec sleep 1000")
    container.start_supervisord().wait_for_state("STARTING")
    state = container.probe().first_line.split(": ", 1)[1]
    assert state == "start is STARTING: start.sh has not finished", state
    assert "`%s`" % state in PROSE
    assert set(quoted_at("start is STARTING", len(state))) <= {state + " ", state + "`"}
