"""Finding supervisord and reading its config as supervisord does: where
supervisorctl looks (-c, READINESS_PROBE_CONFIG, /etc/supervisord.conf,
Debian's), --socket and --serverurl, [unix_http_server], serverurl and every
form of [inet_http_server] port=, %(here)s and %(ENV_X)s, [include]s and
start's settings in them; an image that has supervisord but no config found;
why a socket is missing or refused (the pidfile and /proc); and configs
whose reading is hostile (linear time, every run by its deadline, whitespace
and comments as configparser sees them, any text fuzzed)."""

import json
import os
import re
import shutil
import socket
import subprocess
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import readiness_probe as rp
from fake_container import CONFIG, PROGRAMS, SOCKET, run_probe
from fake_supervisord import free_port, listen_on_tcp_only
from nobody import needs_nobody, run_limited

READY = "ready: start exited with status 0; no hook\n"
NO_CONFIG_FOUND = ("not ready (exit 69): supervisord is installed (%s) but no config was found at"
                   " /etc/supervisord.conf or /etc/supervisor/supervisord.conf: name it with -c FILE or"
                   " READINESS_PROBE_CONFIG\n")


def config_elsewhere(container):
    """The layout of `supervisord -c /etc/custom/supervisord.conf`: nothing at
    the standard paths, the socket at a path of the config's own."""
    text = open(container.path(CONFIG)).read().replace("/var/run/supervisor.sock", "/var/run/custom.sock")
    os.rename(container.path(SOCKET), container.path("/var/run/custom.sock"))  # supervisord keeps listening on it
    os.unlink(container.path(CONFIG))
    container.write("/etc/custom/supervisord.conf", text)


# -- a config at a path of its own ---------------------------------------------
def test_configuration_flag_names_a_config_at_a_path_of_its_own(running):
    running.wait_for_state("EXITED")
    config_elsewhere(running)
    assert running.probe("--configuration", "/etc/custom/supervisord.conf").text == READY
    assert running.probe("-c", "/etc/custom/supervisord.conf").text == READY
    assert running.probe("-c=/etc/custom/supervisord.conf").text == READY
    env = dict(os.environ, READINESS_PROBE_CONFIG="/etc/custom/supervisord.conf")
    assert running.probe(env=env).text == READY
    env["READINESS_PROBE_CONFIG"] = "/etc/custom/missing.conf"
    assert running.probe("-c", "/etc/custom/supervisord.conf", env=env).text == READY  # the flag beats it


def test_configuration_from_the_environment_is_read_under_the_root(running):
    running.wait_for_state("EXITED")
    config_elsewhere(running)
    result = run_probe([], env=dict(os.environ, READINESS_PROBE_ROOT=running.root,
                                    READINESS_PROBE_CONFIG="/etc/custom/supervisord.conf"))
    assert result.text == READY, result


def test_configuration_that_does_not_exist_is_69_not_64(container):
    """During boot the config may not be there yet: not ready, and --wait
    keeps waiting (not final)."""
    result = container.probe("-c", "/etc/custom/supervisord.conf")
    assert result.text == "not ready (exit 69): no supervisord config at %s (named by --configuration)\n" % (
        container.path("/etc/custom/supervisord.conf")), result
    env = dict(os.environ, READINESS_PROBE_CONFIG="/etc/custom/supervisord.conf")
    result = container.probe("--json", "--wait", "0.6", "--interval", "0.2", env=env)
    record = json.loads(result.text)
    assert record["code"] == 69 and record["reason"] == (
        "not ready (exit 69): no supervisord config at %s (named by READINESS_PROBE_CONFIG)" % (
            container.path("/etc/custom/supervisord.conf"))), result
    assert result.elapsed > 0.35, result  # it ran again after 0.2 s: not final


def test_configuration_that_is_a_directory_is_69(container):
    result = container.probe("-c", "/etc/supervisor")
    assert result.text == "not ready (exit 69): not a file: %s (named by --configuration)\n" % (
        container.path("/etc/supervisor")), result


@needs_nobody
def test_config_the_probe_cannot_read_is_69_in_one_line(bare_root):
    config = os.path.join(bare_root, "root/etc/supervisord.conf")
    os.makedirs(os.path.dirname(config))
    with open(config, "w") as f:
        f.write("[unix_http_server]\nfile = /var/run/supervisor.sock\n")
    os.chmod(config, 0)
    code, output, _ = run_limited(bare_root, {}, as_nobody=True)
    assert (code, output) == (69, "not ready (exit 69): cannot read %s: Permission denied\n" % config)


@pytest.mark.parametrize("program", ["/usr/bin/supervisord", "/usr/local/bin/supervisord", "/usr/sbin/supervisord",
                                     "/usr/local/sbin/supervisord", "/bin/supervisord", "/sbin/supervisord"])
def test_image_with_supervisord_but_no_config_found_is_not_ready(container, program):
    """supervisord -c elsewhere, while its socket is not there (boot, reload,
    restart): never `ready: no supervisord`."""
    os.unlink(container.path(CONFIG))
    container.write(program, "#!/bin/sh\n", 0o755)
    result = container.probe()
    assert result.text == NO_CONFIG_FOUND % program, result


@pytest.mark.parametrize("installed,named", [
    ("/opt/venv/bin/supervisord", None),
    ("/root/.local/bin/supervisord", None),
    ("/usr/lib/python3/dist-packages/supervisor/__init__.py", "/usr/lib/python3/dist-packages/supervisor"),
    ("/usr/lib/python3.11/site-packages/supervisor/__init__.py", "/usr/lib/python3.11/site-packages/supervisor"),
    ("/usr/local/lib/python3.12/site-packages/supervisor/__init__.py",
     "/usr/local/lib/python3.12/site-packages/supervisor"),
    ("/usr/local/lib/python3.9/dist-packages/supervisor/__init__.py", "/usr/local/lib/python3.9/dist-packages/supervisor"),
    ("/usr/lib/python2.7/dist-packages/supervisor/__init__.py", "/usr/lib/python2.7/dist-packages/supervisor"),
], ids=["venv", "pip-user", "debian-package", "site-packages", "pip", "pip-debian", "python2-debian-package"])
def test_image_with_supervisord_where_pip_or_a_venv_put_it_is_not_ready(container, installed, named):
    """supervisord in a virtualenv or a Python's packages, its config at a
    path of the image's own: never `ready: no supervisord`."""
    os.unlink(container.path(CONFIG))
    container.write("/app/supervisord.conf", "[supervisord]\n")
    container.write(installed, "#!/bin/sh\n", 0o755)
    result = container.probe()
    assert result.text == NO_CONFIG_FOUND % (named or installed), result


def test_image_with_only_names_like_supervisords_is_ready_without_one(container):
    os.unlink(container.path(CONFIG))
    for path in ("/opt/venv/bin/supervisorctl", "/opt/supervisord", "/usr/local/lib/python3.11/site-packages/supervisor_x",
                 "/usr/local/lib/python3.11/packages/supervisor/__init__.py", "/usr/lib/python3/supervisor"):
        container.write(path, "")
    assert container.probe().text == "ready: no supervisord; no hook\n"


def own_view_has_no_supervisord_config():
    return not any(os.path.lexists(path) for path in rp.CONFIG_PATHS + (rp.DEFAULT_SOCKET,) + rp.SUPERVISORD_PROGRAMS)


@pytest.mark.skipif(not own_view_has_no_supervisord_config(), reason="this machine has a supervisord config or socket")
def test_supervisord_running_in_the_containers_own_view_without_a_config_found_is_not_ready(running):
    """Root /, as kubelet runs the probe: a supervisord in /proc, wherever it
    is installed and whatever config it runs, is the container's."""
    result = running.probe("--root", "/")
    found = re.match(r"not ready \(exit 69\): supervisord is running \(pid (\d+)\) but no config was found at"
                     r" /etc/supervisord.conf or /etc/supervisor/supervisord.conf: name it with -c FILE or"
                     r" READINESS_PROBE_CONFIG\n\Z", result.text)
    assert found and result.code == 69, result
    assert rp.is_supervisord(rp.process_command(int(found.group(1))) or b""), result  # this one, or another test's


def test_image_with_supervisord_found_by_its_socket_is_asked(running):
    running.wait_for_state("EXITED")
    os.unlink(running.path(CONFIG))
    running.write("/usr/bin/supervisord", "#!/bin/sh\n", 0o755)
    assert running.probe().text == READY


def test_image_without_supervisord_is_still_ready_without_one(container):
    os.unlink(container.path(CONFIG))
    assert container.probe().text == "ready: no supervisord; no hook\n"


# -- which config and which socket: supervisorctl's search, and its defaults ------------
def test_etc_supervisord_conf_beats_debians_location_as_supervisorctl_searches(running):
    running.wait_for_state("EXITED")
    running.write("/etc/supervisord.conf", "[unix_http_server]\nfile = /var/run/elsewhere.sock\n")
    result = running.probe()
    assert result.text == "not ready (exit 69): cannot ask supervisord at %s: no such socket\n" % (
        running.path("/var/run/elsewhere.sock")), result


def test_etc_supervisord_conf_is_used_alone_too(running):
    running.wait_for_state("EXITED")
    os.unlink(running.path("/etc/supervisor/supervisord.conf"))
    running.write("/etc/supervisord.conf", "[unix_http_server]\nfile = /var/run/supervisor.sock ; absolute: under the root\n")
    assert running.probe().code == 0
    running.write("/etc/supervisord.conf", "[unix_http_server]\nfile = /var/run/elsewhere.sock\n")
    result = running.probe()
    assert result.code == 69, result
    assert running.path("/var/run/elsewhere.sock") in result.first_line


def test_serverurl_beats_unix_http_server_file(running):
    running.wait_for_state("EXITED")
    running.write(
        "/etc/supervisor/supervisord.conf",
        "[unix_http_server]\nfile = /var/run/wrong.sock\n"
        "[supervisorctl]\nserverurl = unix:///var/run/supervisor.sock\n",
    )
    assert running.probe().code == 0


def test_config_without_a_socket_setting_means_the_default_socket(running):
    running.wait_for_state("EXITED")
    running.write("/etc/supervisor/supervisord.conf", "[supervisord]\nnodaemon = true\n")  # read once, at its start
    result = running.probe()
    assert result.text == "ready: start exited with status 0; no hook\n", result


def test_serverurl_neither_unix_nor_http_is_ignored(running):
    running.wait_for_state("EXITED")
    running.write(
        "/etc/supervisor/supervisord.conf",
        "[unix_http_server]\nfile = /var/run/supervisor.sock\n"
        "[supervisorctl]\nserverurl = https://127.0.0.1:9001\n",
    )
    result = running.probe()
    assert result.text == "ready: start exited with status 0; no hook\n", result


def test_default_socket_without_any_config(running):
    running.wait_for_state("EXITED")
    os.unlink(running.path("/etc/supervisor/supervisord.conf"))
    assert running.probe().code == 0  # <root>/var/run/supervisor.sock


def test_no_supervisor_and_no_config_is_skipped_even_with_a_hook(container):
    shutil.rmtree(container.path("/etc/supervisor"))
    container.write_hook("exit 7")
    assert container.probe().code == 7


# -- start in the config, not in supervisord: `supervisorctl update` -----------
def test_start_in_the_config_but_not_in_supervisord_is_not_ready_and_not_final(running):
    """`supervisorctl update` removes a changed program's group, then adds it
    again: in between, supervisord has no start, but its config has."""
    running.wait_for_state("EXITED")
    running.rpc().supervisor.removeProcessGroup("start")
    line = ("not ready (exit 2): start is in supervisord's config (%s) but supervisord has no such program: an update"
            " in progress, or the config changed since supervisord read it" % running.path(CONFIG))
    result = running.probe()
    assert (result.code, result.text) == (2, line + "\n"), result
    result = running.probe("--json", "--wait", "0.6", "--interval", "0.2")
    record = json.loads(result.text)
    assert (record["code"], record["reason"], record["start"]) == (2, line, None), result
    assert result.elapsed > 0.35, result  # it ran again after 0.2 s: not final


def test_start_not_in_supervisord_and_a_config_too_long_to_read_by_the_deadline_is_124(running):
    running.wait_for_state("EXITED")
    running.rpc().supervisor.removeProcessGroup("start")
    text = open(running.path(PROGRAMS)).read()
    running.write(PROGRAMS, text.replace("[program:start]", "[program:init]").replace("start:exited", "init:exited"))
    for number in range(8):  # about 2 s of configparser's work on this machine, whatever its speed past 0.3 s
        running.write("/etc/supervisor/conf.d/zz-long-%d.conf" % number, "[program:start]\n" + "k = v ; c\n" * 100000)
    result = running.probe("--timeout", "0.3")
    assert result.text == ("not ready (exit 124): supervisord has no start program, and the deadline passed before its"
                           " config (%s) was read to tell whether it should\n" % running.path(CONFIG)), result


def test_start_in_neither_the_config_nor_supervisord_skips_the_check(running):
    running.wait_for_state("EXITED")
    running.rpc().supervisor.removeProcessGroup("start")
    assert running.probe().code == 2  # the config still has it
    text = open(running.path(PROGRAMS)).read()
    running.write(PROGRAMS, text.replace("[program:start]", "[program:init]").replace("start:exited", "init:exited"))
    assert running.probe().text == "ready: no start program; no hook\n"


# -- why the socket is missing or refused: supervisord's pidfile and /proc ------
def socket_path(container):
    return container.path(SOCKET)


def pidfile(container):
    return container.path("/var/run/supervisord.pid")


def test_socket_removed_under_a_running_supervisord_says_it_runs(running):
    running.wait_for_state("EXITED")
    os.unlink(socket_path(running))
    result = running.probe()
    assert result.text == ("not ready (exit 69): supervisord is running (pid %d) but not listening at %s"
                           " (no such socket)\n" % (running.supervisord.pid, socket_path(running))), result


def test_refused_socket_under_a_running_supervisord_says_it_runs(running):
    running.wait_for_state("EXITED")
    os.unlink(socket_path(running))
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(socket_path(running))  # a socket file nothing listens on
    dead.close()
    result = running.probe()
    assert result.text == ("not ready (exit 69): supervisord is running (pid %d) but not listening at %s"
                           " (connection refused)\n" % (running.supervisord.pid, socket_path(running))), result


def test_stale_pidfile_after_supervisord_was_killed_says_it_is_not_running(running):
    running.wait_for_state("EXITED")
    pid = running.supervisord.pid
    running.stop_supervisord()  # SIGKILL: the pidfile and the socket file stay
    assert os.path.exists(pidfile(running))
    result = running.probe()
    assert result.text == ("not ready (exit 69): supervisord is not running (its pidfile %s is stale: no process %d):"
                           " nothing listens at %s (connection refused)\n" % (
                               pidfile(running), pid, socket_path(running))), result


def test_pidfile_naming_another_process_says_supervisord_is_not_running(container):
    other = subprocess.Popen(["sleep", "60"])
    try:
        container.write("/var/run/supervisord.pid", "%d\n" % other.pid)  # pids are reused
        result = container.probe()
    finally:
        other.kill()
        other.wait()
    assert result.text == ("not ready (exit 69): supervisord is not running (its pidfile %s is stale: process %d is not"
                           " supervisord): nothing listens at %s (no such socket)\n" % (
                               pidfile(container), other.pid, socket_path(container))), result


def test_no_pidfile_says_supervisord_is_not_running_or_has_not_written_it(container):
    """Here /proc is not the container's, and supervisord writes its pidfile
    only once its socket is open: while it reads its config it has
    neither."""
    result = container.probe()
    assert result.text == ("not ready (exit 69): supervisord is not running, or has not yet written its pidfile"
                           " (no pidfile %s): nothing listens at %s (no such socket)\n" % (
                               pidfile(container), socket_path(container))), result


def test_relative_pidfile_cannot_tell_and_says_what_it_knows(container):
    """supervisord's default pidfile, supervisord.pid, is in its working
    directory: the probe cannot know it."""
    text = open(container.path(CONFIG)).read().replace("pidfile=/var/run/supervisord.pid", "pidfile=supervisord.pid")
    container.write(CONFIG, text)
    result = container.probe()
    assert result.text == "not ready (exit 69): cannot ask supervisord at %s: no such socket\n" % socket_path(container)


# -- supervisord over TCP: every form of port= and serverurl ----------------------
def tcp_config(container, text):
    container.write(CONFIG, text)


@pytest.mark.parametrize(
    "port,address",
    [
        ("127.0.0.1:%d", "http://127.0.0.1:%d"),
        ("localhost:%d", "http://localhost:%d"),
        (":%d", "http://localhost:%d"),
        ("*:%d", "http://localhost:%d"),
        ("%d", "http://localhost:%d"),
        ("[::1]:%d", "http://[::1]:%d"),
        ("  127.0.0.1:%d  ; spaces and a comment", "http://127.0.0.1:%d"),
    ],
    ids=["host-port", "name-port", "colon-port", "star-port", "port-alone", "v6-port", "spaced"],
)
def test_inet_http_server_port_forms_name_the_address(container, port, address):
    """Nothing listens there: the refusal names the address as read."""
    number = free_port()
    tcp_config(container, "[inet_http_server]\nport = %s\n" % (port % number))
    result = container.probe()
    assert result.text == "not ready (exit 69): cannot ask supervisord at %s: connection refused\n" % (
        address % number), result


@pytest.mark.parametrize("port", ["0", "65536", "99999", "abc", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                                  "127.0.0.1:9x", "[::1]", "[::1]:", "[::1]9001", "-1", "+80", "", "localhost",
                                  "9" * 5000])
def test_inet_http_server_port_that_is_no_port_means_the_default_socket(container, port):
    """supervisord refuses such a port; the probe goes on to the default
    socket, as with no setting at all."""
    tcp_config(container, "[inet_http_server]\nport = %s\n" % port)
    result = container.probe()
    assert result.text == "not ready (exit 69): cannot ask supervisord at %s: no such socket\n" % (
        socket_path(container)), result


@pytest.mark.parametrize(
    "url,address",
    [
        ("http://127.0.0.1:%d", "http://127.0.0.1:%d"),
        ("http://127.0.0.1:%d/RPC2", "http://127.0.0.1:%d"),
        ("http://[::1]:%d", "http://[::1]:%d"),
        ("http://localhost:%d", "http://localhost:%d"),
    ],
    ids=["host-port", "with-path", "v6", "name"],
)
def test_serverurl_forms_name_the_address(container, url, address):
    number = free_port()
    tcp_config(container, "[supervisorctl]\nserverurl = %s\n" % (url % number))
    result = container.probe()
    assert result.text == "not ready (exit 69): cannot ask supervisord at %s: connection refused\n" % (
        address % number), result


def test_serverurl_without_a_port_means_port_80(container):
    tcp_config(container, "[supervisorctl]\nserverurl = http://127.0.0.1\n")
    result = container.probe()
    assert result.first_line.startswith("not ready (exit 69): cannot ask supervisord at http://127.0.0.1:80: "), result


@pytest.mark.parametrize("url", ["http://127.0.0.1:0", "http://127.0.0.1:65536", "http://127.0.0.1:x",
                                 "http://[::1]:", "https://127.0.0.1:9001"])
def test_serverurl_that_is_no_address_is_ignored(container, url):
    tcp_config(container, "[supervisorctl]\nserverurl = %s\n" % url)
    result = container.probe()
    assert result.text == "not ready (exit 69): cannot ask supervisord at %s: no such socket\n" % (
        socket_path(container)), result


def test_each_form_of_port_reaches_a_real_supervisord_on_tcp(container):
    number = free_port()
    text = open(container.path(CONFIG)).read()
    text = text.replace("[unix_http_server]\nfile=/var/run/supervisor.sock", "[inet_http_server]\nport=127.0.0.1:%d" % number)
    text = text.replace("serverurl=unix:///var/run/supervisor.sock ; use a unix:// URL  for a unix socket\n", "")
    container.write(CONFIG, text)
    container.serverurl = "http://127.0.0.1:%d" % number
    container.start_supervisord().wait_for_state("EXITED")
    for form in ("127.0.0.1:%d", ":%d", "*:%d", "%d"):
        container.write(CONFIG, text.replace("port=127.0.0.1:%d" % number, "port=" + form % number))
        assert container.probe().text == READY, form


@pytest.mark.parametrize("url", ["http://свд:9001", "http://\udcff:9001"], ids=["cyrillic", "not-utf8"])
def test_serverurl_host_that_is_not_latin1_or_not_utf8_is_69(container, url):
    """Not 70 (an internal error): the host is sent as IDNA, as http.client
    does; one that cannot be is not a host name."""
    for extra in ([], ["--wait", "0.3", "--interval", "0.1"]):
        result = container.probe("--serverurl", url, "--timeout", "5", *extra)
        assert result.code == 69, result
        assert "cannot ask supervisord at http://" in result.text, result


def test_config_serverurl_host_that_is_not_utf8_is_69(container):
    with open(container.path(CONFIG), "wb") as f:
        f.write(b"[supervisorctl]\nserverurl = http://\xff\xfe:9001\n")
    result = container.probe("--timeout", "5")
    assert result.text == "not ready (exit 69): cannot ask supervisord at http://\ufffd\ufffd:9001: %r is not a host name\n" % (
        "\ufffd\ufffd"), result


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


# -- a config read as supervisor reads it: %(here)s, its size, its bytes, its values ------
def test_here_expands_to_the_config_directory(running):
    running.wait_for_state("EXITED")
    running.write(
        "/etc/supervisor/supervisord.conf",
        "[supervisorctl]\nserverurl = unix://%(here)s/../../var/run/supervisor.sock\n",
    )
    assert running.probe().code == 0


def test_config_of_exactly_1_mib_is_read(running):
    running.wait_for_state("EXITED")
    text = "[unix_http_server]\nfile = /var/run/supervisor.sock\n"
    running.write("/etc/supervisor/supervisord.conf", text + ";" * (rp.CONFIG_LIMIT - len(text) - 1) + "\n")
    assert os.path.getsize(running.path("/etc/supervisor/supervisord.conf")) == rp.CONFIG_LIMIT
    result = running.probe()
    assert result.text == "ready: start exited with status 0; no hook\n", result


def test_config_with_bytes_that_are_not_utf8_is_still_read(running):
    running.wait_for_state("EXITED")
    path = running.path("/etc/supervisor/supervisord.conf")
    with open(path, "rb") as f:
        config = f.read()
    with open(path, "wb") as f:
        f.write(b"; caf\xe9, in Latin-1\n" + config)
    result = running.probe()
    assert result.text == "ready: start exited with status 0; no hook\n", result


@pytest.mark.parametrize(
    "value",
    [
        "unix:///var/run/supervisor.sock  # same",
        "unix:///var/run/supervisor.sock\t# after a tab",
        "unix:///var/run/supervisor.sock ; a semicolon",
        "unix:///var/run/odd#name.sock",
        "unix:///var/run/odd;name.sock",
    ],
    ids=["hash", "tab-hash", "semicolon", "hash-inside", "semicolon-inside"],
)
def test_config_values_are_read_as_supervisor_reads_them(container, value):
    """A comment after a value ('#' or ';' after blank space) is not part of
    it; the same characters inside a value are. Checked against supervisor's
    own parser; the socket path shows in the message, as none is listening."""
    from supervisor.options import UnhosedConfigParser

    text = "[supervisorctl]\nserverurl = %s\n" % value
    parser = UnhosedConfigParser()
    parser.read_string(text)
    socket_path = container.path(parser.get("supervisorctl", "serverurl")[len("unix://"):])
    container.write("/etc/supervisor/supervisord.conf", text)
    result = container.probe()
    assert result.text == "not ready (exit 69): cannot ask supervisord at %s: no such socket\n" % socket_path


# -- hostile configs: linear, and every run by its deadline --------------------------
def test_many_continuation_lines_are_read_in_linear_time(running):
    running.wait_for_state("EXITED")
    text = open(running.path(CONFIG)).read()
    running.write(CONFIG, text + "\n[supervisorctl]\nprompt = a\n" + "  b\n" * 250000)  # just under 1 MiB
    result = running.probe("--timeout", "1.5")
    assert result.text == READY, result


def test_config_too_long_to_read_by_the_deadline_is_124_saying_so(container):
    """1 MiB of short lines: linear, but longer than a short deadline."""
    container.write(CONFIG, "[supervisorctl]\n" + "k = v ; c\n" * 100000)
    result = container.probe("--timeout", "0.05")
    assert result.text == "not ready (exit 124): reading %s did not finish within the deadline\n" % (
        container.path(CONFIG)), result


def test_many_unclosed_substitutions_are_expanded_in_linear_time(running):
    running.wait_for_state("EXITED")
    running.write(CONFIG, "[supervisorctl]\nserverurl = %s\n[unix_http_server]\nfile = /var/run/supervisor.sock\n"
                  % ("%(" * 100000))
    result = running.probe("--timeout", "2")
    assert result.text == READY, result


@pytest.mark.parametrize("files,sections", [(40, 8000), (200, 400)], ids=["large-files", "many-sections"])
def test_json_on_the_ready_path_ends_by_its_deadline_whatever_the_includes(running, files, sections):
    """--json tells whether start is final from its settings, which may be in
    any include: read within the deadline, and not final when it cannot
    tell in time. Large files, or many sections (supervisord's %(here)s
    pass visits every section after every file)."""
    running.wait_for_state("EXITED")
    for n in range(files):
        block = "".join("[program:p%d_%d]\ncommand = /bin/true\nenvironment = A=\"%s\"\n" % (n, i, "x" * 60)
                        for i in range(sections))
        block = block[: rp.CONFIG_LIMIT - 100]
        running.write("/etc/supervisor/conf.d/flood-%03d.conf" % n, block[: block.rindex("\n") + 1])
    result = running.probe("--json", "--timeout", "0.8")
    record = json.loads(result.text)
    assert record["code"] == 0 and record["start"]["state"] == "EXITED", result
    assert record["start"]["final"] is False, result
    assert result.elapsed < 0.8 + 1.0, result  # the deadline, and the interpreter's start


def test_config_that_supervisords_parser_reads_in_quadratic_time_ends_by_the_deadline(container):
    """configparser's option pattern takes minutes on a long run of spaces
    before the '=': the failure path does not hand it such a line, and
    cannot tell whether start is final."""
    container.write_start("exit 1")
    container.edit_program("start", autorestart="false")
    container.start_supervisord().wait_for_state("EXITED")
    assert json.loads(container.probe("--json").text)["start"]["final"] is True
    container.write("/etc/supervisor/conf.d/wide.conf", "[program:wide]\nx" + " " * 200000 + "y = 1\n")
    result = container.probe("--json", "--timeout", "0.8")
    record = json.loads(result.text)
    assert record["code"] == 2 and record["start"]["final"] is False, result
    assert result.elapsed < 0.8 + 1.0, result


@pytest.mark.parametrize("space", ["\u00a0", "\u2003", "\u3000", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\u2028"],
                         ids=lambda c: "U+%04X" % ord(c))
def test_any_whitespace_before_an_inline_comment_starts_it(running, space):
    """As configparser (supervisord's parser) sees it: str.isspace()."""
    running.wait_for_state("EXITED")
    running.write(CONFIG, "[unix_http_server]\nfile=/var/run/supervisor.sock%s; the socket\n" % space)
    result = running.probe()
    assert result.text == READY, result


@pytest.mark.parametrize("header", ["[ supervisorctl]", "[supervisorctl ]", "[\u00a0supervisorctl]"])
def test_section_names_keep_their_spaces(running, header):
    """configparser keeps what is between the brackets: `[ supervisorctl]` is
    not supervisorctl's section, so its serverurl is not the address."""
    running.wait_for_state("EXITED")
    running.write(CONFIG, "%s\nserverurl = unix:///var/run/elsewhere.sock\n"
                          "[unix_http_server]\nfile = /var/run/supervisor.sock\n" % header)
    assert running.probe().text == READY


def test_program_section_with_a_space_in_its_name_is_not_starts(container):
    """`[ program:start]` is no program of supervisord's (configparser keeps
    the space): its settings are not start's."""
    container.write_start("exit 1")
    container.edit_program("start", autorestart="false")
    container.start_supervisord().wait_for_state("EXITED")
    container.write("/etc/supervisor/conf.d/zz.conf", "[ program:start]\nautorestart = true\n")
    record = json.loads(container.probe("--json").text)
    assert record["start"] == {"state": "EXITED", "exitstatus": 1, "final": True}, record
    assert "supervisord will not restart it (autorestart=false)" in record["reason"], record


def test_huge_config_file_is_not_read_whole(container):
    with open(container.path("/etc/supervisor/supervisord.conf"), "a") as f:
        f.write(";" + "x" * rp.CONFIG_LIMIT + "\n")
    result = container.probe()
    assert result.code == 69, result
    assert "is larger than 1048576 bytes" in result.first_line


# -- [include] files= globs, looked for within the deadline: the same files as glob.glob
GLOB_TREE = ["a/x.conf", "a/.h.conf", "a/y.txt", "b/c/z.conf", "b/.c/w.conf", ".d/q.conf", "e.conf", "f[1].conf", "g/h"]
GLOB_PARTS = ["*", "?", "a", "b", "c", ".*", "*.conf", "[ab]", "[!a]*", "..", ".", "link", "x.conf", "f[[]1].conf",
              "**", "", "nosuch", "dangling.conf", "g", "h"]


@pytest.fixture(scope="module")
def glob_tree(tmp_path_factory):
    top = tmp_path_factory.mktemp("globs")
    for path in GLOB_TREE:
        (top / path).parent.mkdir(parents=True, exist_ok=True)
        (top / path).write_text("")
    os.symlink("a", str(top / "link"))
    os.symlink("nowhere", str(top / "dangling.conf"))
    return str(top)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.sampled_from(GLOB_PARTS), min_size=1, max_size=4), slash=st.booleans())
def test_include_globs_find_what_glob_finds(glob_tree, parts, slash):
    import glob

    pattern = glob_tree + "/" + "/".join(parts) + ("/" if slash else "")
    theirs = sorted(os.path.normpath(path) for path in glob.glob(pattern))
    assert sorted(os.path.normpath(path) for path in rp.glob_in_time(pattern, None)) == theirs


def test_include_glob_that_walks_a_large_tree_ends_by_the_deadline(tmp_path):
    for i in range(300):
        for j in range(30):
            (tmp_path / ("d%d" % i) / ("e%d" % j)).mkdir(parents=True)
    deadline = time.monotonic() + 0.05
    with pytest.raises(rp.Verdict) as raised:
        rp.glob_in_time(str(tmp_path) + "/*/*/*/*.conf", deadline)
    assert raised.value.code == rp.EXIT_TIMEOUT
    assert time.monotonic() < deadline + 0.5


def serve_socket_in(container, directory):
    """supervisord's socket in DIRECTORY, a container path named only
    through %(ENV_SV_DIR)s in the config."""
    main = open(container.path("/etc/supervisor/supervisord.conf")).read()
    main = main.replace("file=/var/run/supervisor.sock", "file=%(ENV_SV_DIR)s/supervisor.sock")
    main = main.replace("serverurl=unix:///var/run/supervisor.sock", "serverurl=unix://%(ENV_SV_DIR)s/supervisor.sock")
    container.write("/etc/supervisor/supervisord.conf", main)
    os.makedirs(container.path(directory))
    container.serverurl = "unix://" + container.path(directory + "/supervisor.sock")


def test_percent_signs_a_substitution_brings_in_are_not_expanded_again(container, monkeypatch):
    directory = "/var/run/100%%"  # a name with two percent signs
    serve_socket_in(container, directory)
    monkeypatch.setenv("SV_DIR", container.path(directory))  # supervisord runs on the host's view
    container.start_supervisord().wait_for_state("EXITED")
    result = container.probe(env=dict(os.environ, SV_DIR=directory))
    assert result.text == "ready: start exited with status 0; no hook\n", result


def test_serverurl_that_becomes_unix_only_once_expanded_is_followed(running):
    running.wait_for_state("EXITED")
    running.write("/etc/supervisor/supervisord.conf", "[supervisorctl]\nserverurl = %(ENV_SV_URL)s\n")
    result = running.probe(env=dict(os.environ, SV_URL="unix:///var/run/supervisor.sock"))
    assert result.text == "ready: start exited with status 0; no hook\n", result


@pytest.mark.parametrize(
    "text",
    [
        "[unix_http_server]\n  file = /var/run/supervisor.sock\n  chmod = 0700\n",
        "[unix_http_server]  ; the local socket\nfile = /var/run/supervisor.sock\n",
    ],
    ids=["indented-keys", "header-with-comment"],
)
def test_config_layout_supervisord_accepts_is_read(running, text):
    running.wait_for_state("EXITED")
    running.write("/etc/supervisor/supervisord.conf", "[unix_http_server]\nfile = /var/run/wrong.sock\n")
    assert running.probe().code == 69  # the file is read: the test can fail
    running.write("/etc/supervisor/supervisord.conf", text)
    result = running.probe()
    assert result.text == "ready: start exited with status 0; no hook\n", result


def test_section_header_with_text_after_it_is_read_as_supervisor_reads_it(container):
    """configparser takes "[NAME]" at the start of a line and ignores what
    follows; the socket named is not the default, so reading it shows."""
    container.write("/etc/supervisor/supervisord.conf",
                    "[unix_http_server] and text after the header\nfile = /var/run/elsewhere.sock\n")
    result = container.probe()
    assert result.text == "not ready (exit 69): cannot ask supervisord at %s: no such socket\n" % (
        container.path("/var/run/elsewhere.sock")), result


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


@pytest.mark.parametrize("files, read", [(256, True), (257, False)])  # docs/design.md's figure
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


# -- the include reader, fuzzed: any config text gives a verdict, never a traceback
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
    parser = rp.read_config_as_supervisord(os.path.join(root, "etc/supervisor/supervisord.conf"), root)
    settings_ = rp.program_settings(parser, "start")
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
