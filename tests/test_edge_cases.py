"""What a hostile user tries: configs supervisord accepts but few write,
answers a broken server may send, a system out of processes or files,
signals an operator's terminal sends, output at its limit, and hooks that
fail in ways that look like something else. Each is read truthfully."""

import json
import os
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import pytest

import readiness_probe as rp
from fake_container import LAUNCHER, PROBE, live_processes_with, run_caller, unique_sleep, wait_for
from fake_supervisord import MisbehavingServer, answers_by_method, http_answer, xmlrpc_answer, xmlrpc_fault

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}"
SURVIVOR_WAIT = 5.0  # seconds: a bound on killed processes disappearing
NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"  # one that user nobody can run (pyenv's live under /root)


# -- start in a [group:...] ------------------------------------------------------
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


# -- start whose processes supervisord names start:NAME (numprocs, process_name)
def start_with_processes(container, start_sh, **settings):
    """start as several processes, started by the dependent-startup listener
    (startProcessGroup), each running start.sh with its own
    SUPERVISOR_PROCESS_NAME; waits until the listener has seen them all exit,
    and has ended (until then it may start them again)."""
    container.edit_program("start", **settings)
    container.write_start(start_sh)
    container.start_supervisord()
    wait_for(lambda: container.process_info("featured")["start"] > 0, what="the listener to see start's processes exit")
    container.wait_for_listener_to_end()


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


def grouped_start(group, state, exitstatus):
    return {"name": "start", "group": group, "state": state, "statename": rp.STATE_NAMES[state],
            "exitstatus": exitstatus, "spawnerr": "", "stdout_logfile": "", "stderr_logfile": ""}


def test_of_several_starts_in_groups_the_one_that_did_not_exit_0_is_judged(container):
    answers = answers_by_method({
        "supervisor.getProcessInfo": xmlrpc_fault(rp.FAULT_BAD_NAME, "BAD_NAME: start"),
        "supervisor.getAllProcessInfo": xmlrpc_answer([grouped_start("a", rp.EXITED, 0), grouped_start("b", rp.EXITED, 1)]),
    })
    with MisbehavingServer(container.path("/var/run/fake.sock"), answers):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.first_line.startswith("not ready (exit 2): b:start exited with status 1"), result


def test_answer_for_all_processes_that_is_not_a_list_is_69(container):
    answers = answers_by_method({
        "supervisor.getProcessInfo": xmlrpc_fault(rp.FAULT_BAD_NAME, "BAD_NAME: start"),
        "supervisor.getAllProcessInfo": xmlrpc_answer(grouped_start("a", rp.EXITED, 0)),
    })
    with MisbehavingServer(container.path("/var/run/fake.sock"), answers):
        result = container.probe("--socket", "/var/run/fake.sock")
    assert result.text == "not ready (exit 69): supervisord's answer for its processes is not a list\n", result


# -- config syntax supervisord accepts ---------------------------------------------
def test_etc_supervisord_conf_beats_debians_location_as_supervisorctl_searches(running):
    running.wait_for_state("EXITED")
    running.write("/etc/supervisord.conf", "[unix_http_server]\nfile = /var/run/elsewhere.sock\n")
    result = running.probe()
    assert result.text == "not ready (exit 69): cannot ask supervisord at %s: no such socket\n" % (
        running.path("/var/run/elsewhere.sock")), result


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


# -- a system out of processes or file descriptors ---------------------------------
@pytest.fixture
def bare_root():
    """A root that user nobody can read (pytest's tmp_path is root's only),
    with a hook and the probe beside it, and no supervisord: the probe goes
    straight to the hook."""
    top = tempfile.mkdtemp(prefix="rp-bare-", dir="/tmp")
    os.makedirs(os.path.join(top, "root/usr/bin"))
    with open(os.path.join(top, "root/usr/bin/readiness_probe_hook"), "w") as f:
        f.write("#!/bin/sh\necho fine\nexit 0\n")
    shutil.copy(PROBE, os.path.join(top, "readiness_probe.py"))
    for path, _, names in os.walk(top):
        os.chmod(path, 0o755)
        for name in names:
            os.chmod(os.path.join(path, name), 0o755)
    yield top
    shutil.rmtree(top)


def run_limited(bare_root, limits, *args, as_nobody=False):
    """The probe copy in bare_root, run with resource limits {RLIMIT_X: n}."""
    def limit():
        for which, value in limits.items():
            resource.setrlimit(which, (value, value))
        if as_nobody:
            os.setgid(NOBODY)
            os.setuid(NOBODY)

    started = time.monotonic()
    proc = subprocess.run([SYSTEM_PYTHON, os.path.join(bare_root, "readiness_probe.py"), "--root",
                           os.path.join(bare_root, "root")] + list(args),
                          preexec_fn=limit, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return proc.returncode, proc.stdout.decode(), time.monotonic() - started


def processes_of(uid):
    count = 0
    for entry in os.listdir("/proc"):
        try:
            with open("/proc/%s/status" % entry) as f:
                count += any(line.split()[:2] == ["Uid:", str(uid)] for line in f)
        except (OSError, ValueError):
            continue
    return count


needs_system_python = pytest.mark.skipif(not os.access(SYSTEM_PYTHON, os.X_OK), reason="needs %s" % SYSTEM_PYTHON)
needs_nobody = pytest.mark.skipif(os.geteuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK) or processes_of(NOBODY),
                                  reason="needs root (to become nobody), no process of nobody's, and %s" % SYSTEM_PYTHON)
NO_PROCESS_SLOT = ("not ready (exit 71): cannot start the hook: fork failed: Resource temporarily unavailable"
                   " (a limit of the system: no free process slot)")


@needs_nobody
def test_no_free_process_slot_is_71_in_one_line(bare_root):
    assert run_limited(bare_root, {})[:2] == (0, "ready: no supervisord; hook exited 0\n")
    code, output, _ = run_limited(bare_root, {resource.RLIMIT_NPROC: 1}, as_nobody=True)  # nobody's only process
    assert (code, output) == (rp.EXIT_NO_RESOURCES, NO_PROCESS_SLOT + "\n")


@needs_nobody
def test_config_the_probe_cannot_read_is_69_in_one_line(bare_root):
    config = os.path.join(bare_root, "root/etc/supervisord.conf")
    os.makedirs(os.path.dirname(config))
    with open(config, "w") as f:
        f.write("[unix_http_server]\nfile = /var/run/supervisor.sock\n")
    os.chmod(config, 0)
    code, output, _ = run_limited(bare_root, {}, as_nobody=True)
    assert (code, output) == (69, "not ready (exit 69): cannot read %s: Permission denied\n" % config)


@needs_nobody
def test_wait_keeps_trying_while_no_process_slot_is_free(bare_root):
    code, output, elapsed = run_limited(bare_root, {resource.RLIMIT_NPROC: 1}, "--wait", "2", "--interval", "0.2",
                                        as_nobody=True)
    assert code == 71, output
    assert re.match(STAMP + " " + re.escape(NO_PROCESS_SLOT) + r"\n\Z", output), output
    assert elapsed >= 2 - 0.2, "it gave up after %.2f s of 2" % elapsed


@needs_system_python
@pytest.mark.parametrize("limit", [6, 9])
def test_no_free_file_descriptor_is_71_in_one_line(bare_root, limit):
    code, output, _ = run_limited(bare_root, {resource.RLIMIT_NOFILE: limit})
    assert (code, output) == (71, "not ready (exit 71): cannot start the hook: pipe failed: Too many open files"
                                  " (a limit of the system: no free file descriptor)\n")


FULL_FILE_TABLE = """
import errno, os, sys
sys.path[0] = sys.argv.pop(1)
import readiness_probe
def pipe():  # what the kernel answers when the whole system's file table is full
    raise OSError(errno.ENFILE, os.strerror(errno.ENFILE))
os.pipe = pipe
sys.exit(readiness_probe.main())
"""


def test_a_full_file_table_of_the_system_is_71_and_named(bare_root):
    """ENFILE (the system's limit, not the process's) cannot be reached
    safely on a shared machine: the pipe call is made to answer it."""
    code, output = run_caller(FULL_FILE_TABLE, "--root", os.path.join(bare_root, "root"))
    assert (code, output) == (71, b"not ready (exit 71): cannot start the hook: pipe failed: Too many open files in"
                                  b" system (a limit of the system: no free file descriptor)\n")


# -- supervisord's listen queue full -------------------------------------------------
def test_full_listen_queue_is_a_slow_supervisord_not_a_missing_one(container):
    path = container.path("/var/run/busy.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(0)  # and never accepts
    waiting = []
    try:
        while True:  # fill the queue until connect() is refused for want of room
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.setblocking(False)
            waiting.append(client)
            try:
                client.connect(path)
            except BlockingIOError:
                break
        result = container.probe("--socket", "/var/run/busy.sock", "--timeout", "0.5")
    finally:
        for sock in waiting + [server]:
            sock.close()
    assert result.text == ("not ready (exit 124): supervisord at %s did not accept the connection within the deadline"
                           " (its listen queue is full)\n" % path), result
    assert result.elapsed >= 0.5, result


# -- signals -----------------------------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM, signal.SIGQUIT,
                                 signal.SIGPWR],
                         ids=lambda sig: sig.name)
def test_any_signal_that_ends_the_probe_kills_the_hook_first(ready, sig):
    marker = unique_sleep()
    ready.write_hook("sleep %s & sleep %s" % (marker, marker))
    proc = ready.start_probe("--timeout", "30")
    wait_for(lambda: len(live_processes_with(marker)) == 2, 10, "the hook to start its sleeps")
    proc.send_signal(sig)
    output = proc.communicate(timeout=10)[0].decode()
    assert (proc.returncode, output) == (128 + sig, "not ready (exit %d): the probe received %s; the hook was killed\n"
                                         % (128 + sig, sig.name))
    wait_for(lambda: not live_processes_with(marker), SURVIVOR_WAIT, "the hook's processes to die")


def test_sigint_ignored_when_the_probe_started_stays_ignored_while_the_hook_runs(ready):
    go = ready.path("/tmp/go")
    started = ready.path("/tmp/hook-started")
    ready.write_hook('mkdir -p "$READINESS_PROBE_ROOT/tmp"; touch %s\n'
                     'while [ ! -e %s ]; do sleep 0.01; done\necho done; exit 3' % (started, go))
    proc = subprocess.Popen(  # started as `cmd &` starts it from a script: SIGINT ignored
        ["/bin/sh", "-c", 'trap "" INT; exec "$0" "$@"', LAUNCHER, "--root", ready.root, "--timeout", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ, READINESS_PROBE_PYTHON=sys.executable))
    try:
        wait_for(lambda: os.path.exists(started), 10, "the hook to start")
        proc.send_signal(signal.SIGINT)  # caught, it would kill the hook before the probe could end
        open(go, "w").close()
        output = proc.communicate(timeout=10)[0].decode()
    finally:
        for path in (go, started):
            if os.path.exists(path):
                os.unlink(path)
    assert (proc.returncode, output) == (3, "not ready (exit 3): hook exited 3\ndone\n")


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_sigint_while_supervisord_is_asked_under_wait_prints_a_timestamped_verdict(container, as_json):
    with MisbehavingServer(container.path("/var/run/fake.sock"), None) as server:  # never answers
        proc = container.start_probe("--socket", "/var/run/fake.sock", "--timeout", "30", "--wait", "60",
                                     *(["--json"] if as_json else []))
        wait_for(lambda: server.requests, 10, "the probe to ask")
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=10)[0].decode()
    assert proc.returncode == 130, output
    reason = "not ready (exit 130): the probe received SIGINT; it stopped waiting"
    if as_json:
        record = json.loads(output)
        assert (record["reason"], output.count("\n")) == (reason, 1), output
        assert re.match(STAMP + r"\Z", record["time"]), record
    else:
        assert re.match(STAMP + " " + re.escape(reason) + r"\n\Z", output), output


# -- hostile answers -------------------------------------------------------------------
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


# -- output limits -----------------------------------------------------------------------
def test_output_of_exactly_10_kib_ending_in_a_newline_is_not_cut(ready):
    head = b"not ready (exit 3): hook exited 3\n"
    body = b"x" * (rp.OUTPUT_LIMIT - len(head) - 1) + b"\n"
    ready.write(rp.HOOK_PATH + ".out", body.decode())
    ready.write_hook('cat "$READINESS_PROBE_ROOT%s.out"; exit 3' % rp.HOOK_PATH)
    result = ready.probe()
    assert (len(result.output), result.output) == (rp.OUTPUT_LIMIT, head + body)


def test_wait_json_output_stays_under_10_kib_across_its_lines(ready, tmp_path):
    counter = tmp_path / "runs"
    ready.write_hook(  # 20 KB of output and a different code on each of four runs, then ready
        'echo x >> %s; runs=$(wc -l < %s)\n[ "$runs" -gt 4 ] && exit 0\n'
        'head -c 20000 /dev/zero | tr "\\0" y; exit $((2 + runs))' % (counter, counter))
    result = ready.probe("--wait", "60", "--interval", "0.1", "--json", "--timeout", "5")
    records = [json.loads(line) for line in result.text.splitlines()]
    assert [r["code"] for r in records] == [3, 4, 5, 6, 0], result
    assert len(result.output) <= rp.OUTPUT_LIMIT, len(result.output)
    assert records[0]["output"].endswith("yyy\n"), records[0]


def test_wait_json_keeps_2_kib_for_the_records_of_later_changes(ready):
    ready.write_hook('head -c 20000 /dev/zero | tr "\\0" y; exit 3')
    result = ready.probe("--wait", "0.1", "--interval", "1", "--json", "--timeout", "5")  # one run, one record
    assert result.code == 3, result
    assert len(result.output) == rp.OUTPUT_LIMIT - rp.LATER_LINES == 8192, result
    assert json.loads(result.text)["output"].endswith("yyy\n")


# -- hooks that fail as something else would ------------------------------------------------
def test_hook_with_dos_line_endings_says_so(ready):
    ready.write(rp.HOOK_PATH, "#!/bin/sh\r\nexit 0\r\n", 0o755)
    result = ready.probe()
    assert result.text == (
        "not ready (exit 126): hook %s cannot be executed: its #! line ends in a carriage return "
        "(DOS line endings: dos2unix it), so the interpreter looked for is '/bin/sh\\r'\n" % ready.path(rp.HOOK_PATH))


@pytest.mark.skipif(any(name.startswith("qemu-") for name in (os.listdir("/proc/sys/fs/binfmt_misc")
                                                             if os.path.isdir("/proc/sys/fs/binfmt_misc") else [])),
                    reason="an emulator registered with binfmt_misc runs binaries for other machines")
def test_hook_that_is_a_fifo_is_126_at_once(ready):
    os.mkfifo(ready.path(rp.HOOK_PATH))
    os.chmod(ready.path(rp.HOOK_PATH), 0o755)
    result = ready.probe("--timeout", "0.5")
    assert result.text == "not ready (exit 126): hook %s cannot be executed: Permission denied\n" % (
        ready.path(rp.HOOK_PATH)), result


def test_hook_binary_for_another_machine_says_so(ready):
    here = os.uname().machine
    machine, name = (183, "AArch64") if here != "aarch64" else (62, "x86-64")
    header = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack("<HHI", 2, machine, 1) + b"\0" * 40
    with open(ready.path(rp.HOOK_PATH), "wb") as f:
        f.write(header)
    os.chmod(ready.path(rp.HOOK_PATH), 0o755)
    result = ready.probe()
    assert result.text == ("not ready (exit 126): hook %s cannot be executed: a binary for another machine "
                           "(ELF for %s; this machine is %s)\n" % (ready.path(rp.HOOK_PATH), name, here)), result


# e_machine numbers from the ELF specification (and the Linux ABI for the newer ones)
ELF_MACHINES = [(2, "SPARC"), (3, "x86"), (8, "MIPS"), (20, "PowerPC"), (21, "PowerPC64"), (22, "s390"), (40, "ARM"),
                (43, "SPARC V9"), (62, "x86-64"), (183, "AArch64"), (243, "RISC-V"), (258, "LoongArch"),
                (4242, "machine 4242")]
HOST_ELF = {"x86_64": 62, "aarch64": 183, "i686": 3, "riscv64": 243, "s390x": 22, "ppc64le": 21}


@pytest.mark.parametrize("order", ["<", ">"])  # the header's byte order: as its EI_DATA byte says
@pytest.mark.parametrize("machine, name", ELF_MACHINES)
def test_each_elf_machine_is_named_as_the_elf_specification_numbers_it(ready, machine, name, order):
    here = os.uname().machine
    if HOST_ELF.get(here) == machine:
        pytest.skip("this machine's own")
    header = (b"\x7fELF\x02" + (b"\x01" if order == "<" else b"\x02") + b"\x01" + b"\0" * 9
              + struct.pack(order + "HHI", 2, machine, 1) + b"\0" * 40)
    with open(ready.path(rp.HOOK_PATH), "wb") as f:
        f.write(header)
    os.chmod(ready.path(rp.HOOK_PATH), 0o755)
    result = ready.probe()
    assert result.first_line.endswith("a binary for another machine (ELF for %s; this machine is %s)" % (name, here)), \
        result


@pytest.mark.parametrize(
    "body,code,first_line",
    [
        ("/nonexistent/tool", 127, "hook exited 127 (the hook's own code, not the probe's: a shell's for a command"
                                   " not found)"),
        ("exit 124", 124, "hook exited 124 (the hook's own code, not the probe's: timeout(1)'s when it stopped a"
                          " command)"),
        ("exit 126", 126, "hook exited 126 (the hook's own code, not the probe's: a shell's for a command it cannot"
                          " execute)"),
        ("exit 143", 143, "hook exited 143 (the hook's own code, not the probe's: a shell's when a command it ran"
                          " was killed by SIGTERM)"),
        ("exit 69", 69, "hook exited 69 (the hook's own code, not the probe's)"),
        ("exit 255", 255, "hook exited 255 (the hook's own code, not the probe's)"),
        ("exit 2", 2, "hook exited 2 (the hook's own code, not the probe's)"),
    ],
    ids=["127-command-not-found", "124", "126", "143", "69", "255", "2"],
)
def test_hook_code_that_the_probe_also_gives_is_passed_on_and_said_to_be_the_hooks(ready, body, code, first_line):
    ready.write_hook(body)
    result = ready.probe()
    assert (result.code, result.first_line) == (code, "not ready (exit %d): %s" % (code, first_line)), result


def test_control_characters_in_the_first_line_become_spaces(ready, tmp_path):
    hook = tmp_path / "a\x1b[31mb\x7fc\nd\te"
    hook.write_text("#!/bin/sh\nexit 0\n")  # not executable: 126, and the line names the path
    result = ready.probe("--hook", str(hook))
    assert result.text == "not ready (exit 126): hook %s cannot be executed: it is not executable (chmod +x)\n" % (
        tmp_path / "a [31mb c d e"), result


def test_first_line_is_cut_at_512_characters(ready, tmp_path):
    hook = tmp_path / ("h" * 200) / ("o" * 200) / ("k" * 200)
    hook.parent.mkdir(parents=True)
    hook.write_text("#!/bin/sh\nexit 0\n")  # not executable: 126, and the line names the long path
    result = ready.probe("--hook", str(hook))
    assert result.code == 126, result
    assert len(result.first_line) == rp.REASON_LIMIT == 512, result
    assert result.first_line == ("not ready (exit 126): hook %s cannot be executed: it is not executable (chmod +x)"
                                 % hook)[:509] + "...", result
