"""Asking supervisord, as supervisorctl would: the XML-RPC request and its
credentials, and what the answers mean: supervisord's faults (BAD_NAME: no
start program), answers that are not supervisord's or are hostile (69, one
line, never a traceback), sockets that are missing, stale, not for the
probe's user or no socket (69),
and a supervisord that is too slow (124, within the deadline)."""

import os
from xmlrpc.client import Fault, dumps

import pytest

import readiness_probe as rp
from fake_container import run_caller
from fake_supervisord import (
    UNANSWERED_LOOKUP, MisbehavingServer, answers_by_method, free_port, grouped_start, http_answer, listen_on_tcp_only,
    listen_queue_full, no_start_in_the_config, untyped_strings, without_start, xmlrpc_answer, xmlrpc_fault,
)
from nobody import as_nobody, needs_a_launcher_nobody_can_run

EXITED_ZERO = {"name": "start", "state": 100, "statename": "EXITED", "exitstatus": 0, "spawnerr": ""}


def socket_in(container):
    return container.path("/var/run/fake.sock")


def test_socket_flag_overrides_discovery_and_is_read_under_the_root(container):
    with MisbehavingServer(socket_in(container), xmlrpc_answer(EXITED_ZERO)) as server:
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.code == 0, result
    assert b"supervisor.getProcessInfo" in server.requests[0]
    assert b"<string>start</string>" in server.requests[0]


def test_request_is_the_xmlrpc_call_xmlrpc_client_would_send(container):
    with MisbehavingServer(socket_in(container), xmlrpc_answer(EXITED_ZERO)) as server:
        assert container.probe("--socket", "/var/run/fake.sock").code == 0
    body = server.requests[0].split(b"\r\n\r\n", 1)[1]
    assert body.replace(b"\n", b"") == dumps(("start",), "supervisor.getProcessInfo").encode().replace(b"\n", b"")


def test_credentials_from_supervisorctl_section_are_sent(container):
    conf = container.path("/etc/supervisor/supervisord.conf")
    text = open(conf).read()
    text = text.replace("chmod=0700", "chmod=0700\nusername = probe\npassword = s3cret")
    container.write("/etc/supervisor/supervisord.conf", text.replace(
        "[supervisorctl]\n", "[supervisorctl]\nusername = probe\npassword = s3cret\n"))
    container.credentials = ("probe", "s3cret")
    container.edit_program("start", autostart="true", dependent_startup="false")  # the listener has no password
    container.start_supervisord().wait_for_state("EXITED")
    assert container.probe().code == 0
    assert container.probe("--socket", "/var/run/supervisor.sock").code == 0  # --socket keeps the credentials
    container.write("/etc/supervisor/supervisord.conf", text.replace(
        "[supervisorctl]\n", "[supervisorctl]\nusername = probe\npassword = wrong\n"))
    result = container.probe()
    assert result.code == 69, result
    assert "HTTP 401: authentication refused" in result.first_line


def test_username_without_password_sends_an_empty_password(container):
    container.write("/etc/supervisor/supervisord.conf", "[supervisorctl]\nserverurl = unix:///var/run/fake.sock\n"
                                                         "username = probe\n")
    with MisbehavingServer(socket_in(container), xmlrpc_answer(EXITED_ZERO)) as server:
        assert container.probe().code == 0
    assert b"\r\nAuthorization: Basic cHJvYmU6\r\n" in server.requests[0]  # base64 of "probe:"


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


def answer_of_size(size):
    """An EXITED 0 answer of exactly `size` bytes, padded by a member no one reads."""
    pad = 0
    while True:
        answer = xmlrpc_answer(dict(EXITED_ZERO, pad="x" * pad))
        if len(answer) == size:
            return answer
        pad += size - len(answer)


def test_answer_of_exactly_1_mib_is_read(container):
    with MisbehavingServer(socket_in(container), answer_of_size(rp.ANSWER_LIMIT)):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.text == "ready: start exited with status 0; no hook\n", result


def test_socket_missing_while_configured_is_69(container):
    result = container.probe()  # the config is there, supervisord never started
    assert result.code == rp.EXIT_SUPERVISOR == 69, result
    assert result.text == ("not ready (exit 69): supervisord is not running, or has not yet written its pidfile"
                           " (no pidfile %s): nothing listens at %s (no such socket)\n" % (
                               container.path("/var/run/supervisord.pid"), container.path("/var/run/supervisor.sock")))


def test_stale_socket_is_69(running):
    running.wait_for_state("EXITED")
    running.kill_supervisord()
    assert os.path.exists(running.path("/var/run/supervisor.sock"))
    result = running.probe()
    assert result.code == 69, result
    assert "connection refused" in result.first_line


@needs_a_launcher_nobody_can_run
def test_socket_permission_denied_is_69(running):
    running.wait_for_state("EXITED")
    os.chmod(running.root, 0o755)  # nobody may walk the root, not use the 0700 socket
    env = dict(os.environ, READINESS_PROBE_PYTHON="/usr/bin/python3")  # readable by nobody
    result = running.probe(env=env, preexec_fn=as_nobody)
    assert result.code == 69, result
    assert "Permission denied" in result.first_line


def test_other_supervisord_fault_is_69(container):
    with MisbehavingServer(socket_in(container), xmlrpc_fault(6, "SHUTDOWN_STATE")):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.code == 69, result
    assert "fault 6: SHUTDOWN_STATE" in result.first_line


def test_bad_name_fault_skips_the_check(container):
    no_start_in_the_config(container)
    with MisbehavingServer(socket_in(container), without_start) as server:
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.code == 0, result
    assert result.first_line == "ready: no start program; no hook"
    assert len(server.requests) == 2  # getProcessInfo("start"), then all of them: start may be in a group


METHOD_RESPONSE = "<?xml version='1.0'?><methodResponse>%s</methodResponse>"
FAULT_WITHOUT_TEXT = ("<fault><value><struct><member><name>faultCode</name><value><int>6</int></value></member>"
                      "</struct></value></fault>")
FAULT_WITH_A_STRING_CODE = ("<fault><value><struct><member><name>faultCode</name><value><string>6</string></value>"
                            "</member></struct></value></fault>")
TWO_VALUES = "<params><param><value><int>1</int></value></param><param><value><int>2</int></value></param></params>"


@pytest.mark.parametrize(
    "answer,first_line",
    [
        (b"hello, I am not HTTP\r\n\r\n", "supervisord at {sock} answered something that is not HTTP"),
        (http_answer("<html>oops</html>"),
         "supervisord at {sock} answered something that is not XML-RPC (not exactly one value)"),
        (http_answer("", status="500 Internal Server Error"), "supervisord at {sock} answered HTTP 500 Internal Server Error"),
        (http_answer("", status="500 Internal  Error"), "supervisord at {sock} answered HTTP 500 Internal  Error"),
        (b"HTTP/1.0 503\r\n\r\n", "supervisord at {sock} answered HTTP 503"),
        (xmlrpc_answer(EXITED_ZERO)[:-20], "supervisord at {sock} answered a truncated answer (476 of 496 bytes)"),
        (xmlrpc_answer({"name": "start"}), "supervisord's answer for start has no integer state and exitstatus"),
        (http_answer("", status="401 Unauthorized"),
         "supervisord at {sock} answered HTTP 401: authentication refused (check [supervisorctl] username/password)"),
        (http_answer("x" * (rp.ANSWER_LIMIT + 1)), "supervisord at {sock} answered more than 1048576 bytes"),
        (xmlrpc_answer(["not", "a", "struct"]), "supervisord's answer for start has no integer state and exitstatus"),
        (xmlrpc_answer({"state": "100", "exitstatus": 0}), "supervisord's answer for start has no integer state and exitstatus"),
        (http_answer("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><methodResponse/>"),
         "supervisord at {sock} answered something that is not XML-RPC (a document type declaration)"),
        (b"", "supervisord at {sock} answered no complete HTTP answer (0 bytes)"),
        (http_answer("<x/>", extra_headers="Content-Length: \u00b2\r\n"),
         "supervisord at {sock} answered a Content-Length that is not a number ('\u00b2')"),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 999\r\n\r\n<x/>",
         "supervisord at {sock} answered a truncated answer (4 of 999 bytes)"),
        (http_answer("<x/>", extra_headers="Content-Length: 12X\r\n"),
         "supervisord at {sock} answered a Content-Length that is not a number ('12X')"),
        (http_answer("<?xml version='1.0'?><methodResponse><params><param><value><struct><member><name><struct>"
                     "</struct></name><value>x</value></member></struct></value></param></params></methodResponse>"),
         "supervisord at {sock} answered something that is not XML-RPC (a struct member without a value)"),
        (http_answer(METHOD_RESPONSE % FAULT_WITHOUT_TEXT), "supervisord answered fault 6"),
        (http_answer(METHOD_RESPONSE % FAULT_WITH_A_STRING_CODE),
         "supervisord at {sock} answered something that is not XML-RPC (a fault without a faultCode)"),
        (http_answer(METHOD_RESPONSE % TWO_VALUES),
         "supervisord at {sock} answered something that is not XML-RPC (not exactly one value)"),
        (http_answer("<?xml version='1.0'?><methodCall><params><param><value><int>1</int></value></param></params>"
                     "</methodCall>"),
         "supervisord at {sock} answered something that is not XML-RPC (no methodResponse)"),
    ],
    ids=["garbage", "html", "http-500", "http-500-spaces", "status-without-reason", "truncated", "no-state", "http-401",
         "over-1-MiB", "array", "string-state", "doctype", "empty", "content-length-superscript",
         "content-length-first", "content-length-letter", "struct-named-member", "fault-without-text", "fault-with-a-string-code",
         "two-values", "method-call"],
)
def test_answer_that_is_not_supervisord_is_69(container, answer, first_line):
    with MisbehavingServer(socket_in(container), answer):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.code == 69, result
    assert result.first_line == "not ready (exit 69): " + first_line.format(sock=socket_in(container)), result
    assert "Traceback" not in result.text


def test_answer_for_all_processes_that_is_not_a_list_is_69(container):
    answers = answers_by_method({
        "supervisor.getProcessInfo": xmlrpc_fault(rp.FAULT_BAD_NAME, "BAD_NAME: start"),
        "supervisor.getAllProcessInfo": xmlrpc_answer(grouped_start("a", rp.EXITED, 0)),
    })
    with MisbehavingServer(container.path("/var/run/fake.sock"), answers):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.text == "not ready (exit 69): supervisord's answer for its processes is not a list\n", result


@pytest.mark.parametrize("tag", ["int", "i4", "i8"])
def test_integers_of_every_xmlrpc_type_are_read(container, tag):
    body = xmlrpc_answer(EXITED_ZERO).split(b"\r\n\r\n", 1)[1].replace(b"<int>", b"<%s>" % tag.encode()).replace(
        b"</int>", b"</%s>" % tag.encode())
    with MisbehavingServer(socket_in(container), http_answer(body)):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.text == "ready: start exited with status 0; no hook\n", result


def test_supervisord_that_never_answers_is_124_within_the_deadline(container):
    with MisbehavingServer(socket_in(container), None):
        result = container.probe("--socket", "/var/run/fake.sock", "--timeout", "0.5")
    assert result.code == rp.EXIT_TIMEOUT == 124, result
    assert "did not answer within the deadline" in result.first_line
    assert result.elapsed < 0.5 + 5  # a generous bound: interpreter start on a loaded machine


def test_host_name_whose_lookup_never_ends_is_124_within_the_deadline(container):
    """The resolver is made to hang: no name server is needed to test it."""
    code, output = run_caller(UNANSWERED_LOOKUP, "--root", container.root, "--serverurl", "http://supervisor.example:9001",
                              "--timeout", "0.3")
    assert (code, output) == (124, b"not ready (exit 124): looking up supervisor.example did not finish within the"
                                   b" deadline\n")


@pytest.mark.parametrize(
    "value,first_line",
    [
        ({"name": "start", "state": 200, "statename": "FATAL", "exitstatus": 0, "spawnerr": "  can't find command"},
         "not ready (exit 2): start is FATAL: supervisord could not start it and gave up (  can't find command): "
         "this will not change by itself; its output went to syslog, but nothing receives syslog in the container"
         " (no socket listening at /dev/log), so it may be lost"),
        (Fault(6, "SHUTDOWN_STATE"), "not ready (exit 69): supervisord answered fault 6: SHUTDOWN_STATE"),
    ],
    ids=["process-info", "fault"],
)
def test_untyped_values_are_strings(container, value, first_line):
    """<value>text</value> without a type element is a string (the spec,
    and xmlrpc.client): its text, spaces and all."""
    body = untyped_strings(dumps(value if isinstance(value, Fault) else (value,), methodresponse=True))
    assert b"<string>" not in body
    with MisbehavingServer(socket_in(container), http_answer(body)):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.text == first_line + "\n", result


def test_full_listen_queue_is_a_slow_supervisord_not_a_missing_one(container):
    path = container.path("/var/run/busy.sock")
    with listen_queue_full(path):
        result = container.probe("--socket", "/var/run/busy.sock", "--timeout", "0.5")
    assert result.text == ("not ready (exit 124): supervisord at %s did not accept the connection within the deadline"
                           " (its listen queue is full)\n" % path), result
    assert result.elapsed >= 0.5, result


def nested_array(depth):
    return "<value><array><data>" * depth + "<value><string>x</string></value>" + "</data></array></value>" * depth


@pytest.mark.parametrize(
    "answer,first_line",
    [
        (http_answer("<x/>", extra_headers="Content-Length: %s\r\n" % ("9" * 5000)),
         "not ready (exit 69): supervisord at {sock} answered a Content-Length of 5000 digits"),
        (http_answer("<?xml version='1.0'?><methodResponse><params><param><value><struct>"
                     "<member><name>state</name><value><int>200</int></value></member>"
                     "<member><name>exitstatus</name><value><int>0</int></value></member>"
                     "<member><name>spawnerr</name>%s</member>"
                     "</struct></value></param></params></methodResponse>" % nested_array(2000)),
         "not ready (exit 2): start is FATAL: supervisord could not start it and gave up ((an array))"),
        (http_answer("<?xml version='1.0'?><methodResponse><fault><value><struct>"
                     "<member><name>faultCode</name><value><int>6</int></value></member>"
                     "<member><name>faultString</name>%s</member>"
                     "</struct></value></fault></methodResponse>" % nested_array(2000)),
         "not ready (exit 69): supervisord answered fault 6: (an array)"),
        (xmlrpc_answer({"state": 200, "exitstatus": 0, "spawnerr": 42}),
         "not ready (exit 2): start is FATAL: supervisord could not start it and gave up (42)"),
    ],
    ids=["content-length-5000-digits", "spawnerr-nested-2000-deep", "fault-string-nested-2000-deep", "spawnerr-a-number"],
)
def test_hostile_answer_is_read_as_garbage_not_an_internal_error(container, answer, first_line):
    sock = container.path("/var/run/fake.sock")
    with MisbehavingServer(sock, answer):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.first_line.startswith(first_line.format(sock=sock)), result
    assert "Traceback" not in result.text


def fake_socket(container):
    return container.path("/var/run/fake.sock")


@pytest.mark.parametrize("kind", ["regular-file", "directory"])
def test_socket_path_that_is_not_a_socket_is_69(container, kind):
    path = fake_socket(container)
    if kind == "directory":
        os.mkdir(path)
    else:
        open(path, "w").close()
    result = container.probe("--socket", "/var/run/fake.sock")
    assert result.code == 69, result
    assert result.first_line.startswith("not ready (exit 69): cannot ask supervisord at %s: " % path)
