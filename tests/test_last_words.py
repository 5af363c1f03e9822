"""start's own last words, when start failed: the tail of its log, each file
once, got whatever bytes the tail begins with; and where its output went to
syslog, whether anything in the container receives syslog. A real
supervisord and the real dependent-startup listener on the fake container,
whose rsyslogd stand-in listens at /dev/log as rsyslogd's imuxsock does."""

import os
import socket

import pytest

import readiness_probe as rp
from fake_supervisord import process, scripted_supervisord

FAILING_START = "echo 'start.sh: cannot render bgpd.conf: template error' >&2\necho 'start.sh: giving up'\nexit 1"
FAILED_LINE = ("not ready (exit 2): start exited with status 1, and supervisord will not restart it (autorestart=false):"
               " this will not change by itself")
NOTHING_RECEIVES = (", but nothing receives syslog in the container (no socket listening at /dev/log),"
                    " so it may be lost")


def failed_start(container, **settings):
    container.write_start(FAILING_START)
    container.edit_program("start", **settings)
    container.start_supervisord()
    return container.wait_for_state("EXITED")


# -- one file shown once -------------------------------------------------------------
def test_stdout_and_stderr_in_one_file_are_shown_once_under_both_names(container):
    info = failed_start(container, stdout_logfile="/var/log/supervisor/start.log",
                        stderr_logfile="/var/log/supervisor/start.log")
    assert info["stdout_logfile"] == info["stderr_logfile"]
    with open(info["stdout_logfile"]) as f:
        logged = f.read()
    assert "template error" in logged and "giving up" in logged
    result = container.probe()
    assert result.text == "%s\n[start's stdout and stderr, %s]\n%s" % (FAILED_LINE, info["stdout_logfile"], logged), result


def test_stdout_and_stderr_in_two_files_are_shown_under_their_own_names(container):
    info = failed_start(container, stdout_logfile="/var/log/supervisor/start.out",
                        stderr_logfile="/var/log/supervisor/start.err")
    logged = {}
    for stream in ("stdout", "stderr"):
        with open(info[stream + "_logfile"]) as f:
            logged[stream] = f.read()  # the listener may have run start.sh twice: once or twice each
    assert "giving up" in logged["stdout"] and "template error" in logged["stderr"]
    result = container.probe()
    assert result.text == ("%s\n[start's stdout, %s]\n%s[start's stderr, %s]\n%s"
                           % (FAILED_LINE, info["stdout_logfile"], logged["stdout"], info["stderr_logfile"],
                              logged["stderr"])), result


# -- a tail that would begin inside a character --------------------------------------
@pytest.mark.parametrize("character, into", [("é", 1), ("€", 1), ("€", 2), ("🚦", 1), ("🚦", 2), ("🚦", 3)],
                         ids=["2-byte+1", "3-byte+1", "3-byte+2", "4-byte+1", "4-byte+2", "4-byte+3"])
def test_a_log_tail_that_would_begin_inside_a_character_is_shown(container, character, into):
    """supervisord decodes the 10 KiB tail it read as strict UTF-8 and
    answers 500 Internal Server Error when it begins `into` bytes inside a
    multi-byte character."""
    ending = "\nstart.sh: giving up\n"
    size = len(character.encode())
    count = 10240 // size + 50
    # the file's byte at size - 10240 is the `into`-th byte of a character
    lead = (len(ending) + count * size - 10240 - into) % size
    words = "x" * lead + character * count + ending
    assert 0x80 <= words.encode()[len(words.encode()) - 10240] < 0xC0
    container.write("/usr/share/last_words", words)
    container.write_start('cat "${0%/usr/bin/start.sh}/usr/share/last_words"; exit 1')
    container.edit_program("start", stdout_logfile="/var/log/supervisor/start.log", stderr_logfile=None,
                           redirect_stderr="true")
    container.start_supervisord()
    info = container.wait_for_state("EXITED")
    result = container.probe()
    assert result.first_line == FAILED_LINE, result
    shown = result.text.split("\n", 1)[1]
    assert shown.startswith("[... earlier output cut]\n") and shown.endswith(character * 100 + ending), result
    assert len(shown.encode()) >= 10240 - 300, result  # the tail, not a few bytes of it
    assert info["stdout_logfile"].endswith("/start.log")


# -- output that went to syslog, and whether anything receives it -------------------
def stop_rsyslogd(container):
    container.rpc().supervisor.stopProcess("rsyslogd")
    container.wait_for_state("STOPPED", name="rsyslogd")


def test_syslog_with_rsyslogd_listening_is_where_the_output_went(container):
    failed_start(container)
    result = container.probe()
    assert result.text == FAILED_LINE + "; its output went to syslog\n", result


def test_syslog_with_rsyslogd_stopped_says_nothing_receives_it(container):
    """rsyslogd's socket file stays at /dev/log; connecting is refused."""
    failed_start(container)
    stop_rsyslogd(container)
    assert os.path.lexists(container.path("/dev/log"))
    result = container.probe()
    assert result.text == FAILED_LINE + "; its output went to syslog" + NOTHING_RECEIVES + "\n", result


def test_syslog_without_dev_log_says_nothing_receives_it_and_creates_nothing(container):
    failed_start(container)
    stop_rsyslogd(container)
    os.unlink(container.path("/dev/log"))
    result = container.probe()
    assert result.text == FAILED_LINE + "; its output went to syslog" + NOTHING_RECEIVES + "\n", result
    assert os.listdir(container.path("/dev")) == []


def test_syslog_to_a_stream_socket_listening_at_dev_log_is_where_the_output_went(container):
    """Some syslog daemons listen on a stream socket at /dev/log."""
    failed_start(container)
    stop_rsyslogd(container)
    os.unlink(container.path("/dev/log"))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(container.path("/dev/log"))
        listener.listen(8)
        result = container.probe()
    assert result.text == FAILED_LINE + "; its output went to syslog\n", result


def test_syslog_to_a_datagram_socket_bound_at_dev_log_is_where_the_output_went(container):
    failed_start(container)
    stop_rsyslogd(container)
    os.unlink(container.path("/dev/log"))
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        receiver.bind(container.path("/dev/log"))
        result = container.probe()
        receiver.setblocking(False)
        with pytest.raises(BlockingIOError):
            receiver.recv(100)  # the probe sent nothing
    assert result.text == FAILED_LINE + "; its output went to syslog\n", result


def test_a_stream_socket_bound_but_not_listening_receives_nothing(container):
    failed_start(container)
    stop_rsyslogd(container)
    os.unlink(container.path("/dev/log"))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as bound:
        bound.bind(container.path("/dev/log"))
        result = container.probe()
    assert result.text == FAILED_LINE + "; its output went to syslog" + NOTHING_RECEIVES + "\n", result


def test_stdout_syslog_of_supervisor_4_with_nothing_receiving_says_so(container):
    """stdout_syslog=true (supervisor 4) sends stdout to syslog as well as to
    its file: the file is shown, and the line says where the rest went."""
    info = failed_start(container, stdout_logfile="/var/log/supervisor/start.log", stdout_syslog="true",
                        stderr_logfile=None, redirect_stderr="true")
    stop_rsyslogd(container)
    with open(info["stdout_logfile"]) as f:
        logged = f.read()  # the listener may have run start.sh twice
    assert logged.endswith("start.sh: cannot render bgpd.conf: template error\nstart.sh: giving up\n")
    result = container.probe()
    assert result.text == ("%s; its stdout went to syslog%s\n[start's stdout, %s]\n%s"
                           % (FAILED_LINE, NOTHING_RECEIVES, info["stdout_logfile"], logged)), result


def test_a_log_tail_that_is_not_utf8_is_said_to_be_missing(container):
    """supervisord 4 cannot send a tail holding bytes that are not UTF-8
    (HTTP 500 at every length): the probe says so, rather than nothing."""
    container.write_start("printf 'start.sh: bad byte \\377 in bgpd.conf\\n'; exit 1")
    container.edit_program("start", stdout_logfile="/var/log/supervisor/start.log", stderr_logfile=None,
                           redirect_stderr="true")
    container.start_supervisord()
    info = container.wait_for_state("EXITED")
    result = container.probe()
    assert result.text == "%s\n[start's stdout, %s: supervisord did not send its tail]\n" % (
        FAILED_LINE, info["stdout_logfile"]), result


def start_logs_to_a_file(container, **more):
    """start's output kept by supervisord in a file, not sent to syslog."""
    container.edit_program("start", stdout_logfile="/var/log/supervisor/start.log", stderr_logfile=None,
                           redirect_stderr="true", **more)


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


def test_start_logging_to_syslog_and_a_file_shows_the_file_and_says_so(container):
    container.edit_program("start", stdout_logfile="/var/log/supervisor/start.log", stdout_syslog="true",
                           stderr_logfile=None, redirect_stderr="true")
    failed = dict(process(rp.EXITED, 1), stdout_logfile="/var/log/supervisor/start.log")
    with scripted_supervisord(container, {"start": failed, "log": "start.sh: template error\n"}):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.first_line.endswith("; its stdout went to syslog, but nothing receives syslog in the container"
                                      " (no socket listening at /dev/log), so it may be lost"), result
    assert result.text.split("\n", 1)[1] == "[start's stdout, /var/log/supervisor/start.log]\nstart.sh: template error\n"
