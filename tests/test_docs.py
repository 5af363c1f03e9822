"""The docs cannot rot: every probe line they quote is one the probe prints.

Every doc file (README.md, CONTRIBUTING.md, docs/*.md, bench/README.md,
examples/hooks/README.md) is read, and every quote of a probe line in it
collected:

- in a code block, every line that starts with `ready:` or `not ready (exit`
  (after a `--wait` timestamp or `docker inspect`'s `CODE: `, when there is
  one): a whole first line;
- in prose, every backticked span that starts so, or starts as one of the
  probe's reasons does (QUOTE_START): a first line, or a part of one.

The scenarios below run the probe, against a real supervisord and the real
supervisord-dependent-startup listener where the line needs them, in the
states the docs describe, and collect every line it prints. Each quote must
match one: a whole line the whole of a line, a part a part of one. In a
quote, PATH, N, PID, NAME, STATE, CODE and WHY are placeholders, and `…`
stands for any text (PLACEHOLDERS): they match by pattern. A quote no
scenario produces fails the suite, wherever it is planted.

Figures: every ms, KB and seconds figure is produced by a command its doc
names or dated with the machine it was measured on (test_figures_*)."""

import glob
import os
import re
import shutil
import signal
import sys

import pytest

from fake_container import LAUNCHER, REPO, run_probe, wait_for

DOC_FILES = sorted(
    [os.path.join(REPO, name) for name in ("README.md", "CONTRIBUTING.md", "bench/README.md", "examples/hooks/README.md")]
    + glob.glob(os.path.join(REPO, "docs", "*.md")))

# How the probe's reasons begin (readiness_probe.py's Verdicts): a backticked
# span that begins so is a quote of a probe line.
QUOTE_START = re.compile(
    r"(ready: |not ready \(exit |…[,;:] |; |, (and |but |which )|: (it waits|this will)"
    r"|start (is|exited|has|was) |start's \d|start's N |NAME(:start)? is |NAME cannot |\[start's |\[\.\.\. "
    r"|hook (exited|was|did|PATH|/)|supervisord (is|at|has|answered|did) |supervisord's answer"
    r"|cannot (ask|read|start the hook|import)|no supervisord|reading \S+ did|looking up"
    r"|the deadline passed|the probe received|internal error|readiness_probe\.sh found)")
PLACEHOLDERS = [
    ("…", r".*?"),
    ("PATH", r"\S+?"),
    ("PID", r"\d+"),
    ("CODE", r"\d+"),
    ("NAME", r"[\w.:-]+"),
    ("STATE", r"[A-Za-z]+"),
    ("WHY", r".+"),
    ("N", r"-?\d+"),
]
TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} |\d+: )")


def doc_quotes(path):
    """(line number, quote, whole) for each probe line quoted in a doc."""
    quotes = []
    in_block = False
    prose = []  # (line number, text) outside code blocks
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.lstrip().startswith("```"):
                in_block = not in_block
                continue
            if in_block:
                text = TIMESTAMP.sub("", line)
                if text.startswith(("ready:", "not ready (exit")):
                    quotes.append((number, text, True))
            else:
                prose.append((number, line))
    # prose: a backticked span may wrap across lines
    joined, starts = "", []
    for number, text in prose:
        starts.append((len(joined), number))
        joined += text + " "
    for m in re.finditer(r"`([^`]+)`", joined):
        span = re.sub(r"\s+", " ", m.group(1)).strip()
        if QUOTE_START.match(span):
            number = max(n for offset, n in starts if offset <= m.start())
            quotes.append((number, span, False))  # a quote in prose may end before the line does
    return quotes


def pattern(quote):
    """A quote as a regular expression: its placeholders by pattern, the rest literally."""
    tokens = re.split(r"(…|\b(?:PATH|PID|CODE|NAME|STATE|WHY|N)\b)", quote)
    return "".join(dict(PLACEHOLDERS).get(token, None) or re.escape(token) for token in tokens)


QUOTES = [(os.path.relpath(path, REPO), number, quote, whole)
          for path in DOC_FILES for number, quote, whole in doc_quotes(path)]


def test_the_docs_quote_probe_lines():
    files = {path for path, _, _, _ in QUOTES}
    assert {"README.md", "docs/operators.md", "examples/hooks/README.md", "docs/design.md"} <= files, files
    assert len(QUOTES) > 40, QUOTES


def test_a_planted_stale_line_is_a_quote(tmp_path):
    """What the collector takes for a quote: in a code block and in prose."""
    doc = tmp_path / "doc.md"
    doc.write_text("text\n```\nnot ready (exit 2): start is DONE\n```\nprose `start is\nDONE: gone` and `--timeout`\n")
    assert doc_quotes(str(doc)) == [(3, "not ready (exit 2): start is DONE", True), (5, "start is DONE: gone", False)]


# -- the scenarios ----------------------------------------------------------------------------
FAILING_START = "echo 'start.sh: giving up'; exit 1"
SCENARIOS = []


def scenario(function):
    SCENARIOS.append(function)
    return function


def fresh_container():
    from fake_container import FakeContainer
    return FakeContainer()


class Printed(object):
    """The lines the probe printed in the scenarios, the fake container's
    root taken out of them (so that they read as container paths)."""

    def __init__(self):
        self.lines = set()
        self.unavailable = []
        self.errors = []

    def add(self, result, root=None):
        text = result.text if hasattr(result, "text") else result
        for line in text.splitlines():
            self.lines.add(line.replace(root, "") if root else line)
        return result


@scenario
def without_supervisord(printed, tmp):
    printed.add(run_probe(["--root", tmp]))
    os.makedirs(tmp + "/usr/bin")
    with open(tmp + "/usr/bin/readiness_probe_hook", "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(tmp + "/usr/bin/readiness_probe_hook", 0o755)
    printed.add(run_probe(["--root", tmp]))
    printed.add(run_probe(["--root", tmp, "-c", "/etc/x.conf"]), tmp)
    os.chmod(tmp + "/usr/bin/readiness_probe_hook", 0o644)
    printed.add(run_probe(["--root", tmp]), tmp)
    with open(tmp + "/usr/bin/supervisord", "w") as f:
        f.write("")
    printed.add(run_probe(["--root", tmp]), tmp)
    os.makedirs(tmp + "/etc")
    with open(tmp + "/etc/supervisord.conf", "w") as f:
        f.write("[unix_http_server]\nfile=/var/run/supervisor.sock\n")
    printed.add(run_probe(["--root", tmp]), tmp)


@scenario
def usage_errors(printed, tmp):
    for args in (["--bogus"], ["--timeout", "0"], ["--hook", "/nonexistent"]):
        printed.add(run_probe(args))


@scenario
def launcher_and_internal_errors(printed, tmp):
    import subprocess

    from fake_container import WITHOUT_CTYPES, run_caller
    result = subprocess.run(["/bin/sh", LAUNCHER], env={"PATH": tmp}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    printed.add(result.stdout.decode())
    shutil.copy(LAUNCHER, tmp)
    result = subprocess.run([os.path.join(tmp, "readiness_probe.sh")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=dict(os.environ, READINESS_PROBE_PYTHON=sys.executable))
    printed.add(result.stdout.decode())
    os.makedirs(tmp + "/root/usr/bin")
    with open(tmp + "/root/usr/bin/readiness_probe_hook", "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(tmp + "/root/usr/bin/readiness_probe_hook", 0o755)
    without_select = "import sys\nsys.modules['select'] = None\n" + WITHOUT_CTYPES.split("\n", 2)[2]
    printed.add(run_caller(without_select, "--root", tmp + "/root")[1].decode())


@scenario
def no_free_process_slot(printed, tmp):
    """As user nobody with RLIMIT_NPROC 1: the hook's fork fails (root alone
    can make this so)."""
    import pwd
    import resource
    import subprocess
    if os.geteuid() != 0 or not os.access("/usr/bin/python3", os.X_OK):
        printed.unavailable.append("no_free_process_slot (needs root, to become nobody, and /usr/bin/python3)")
        return
    import tempfile
    nobody = pwd.getpwnam("nobody")
    tmp = tempfile.mkdtemp(prefix="rp-nproc-", dir="/tmp")  # where nobody can read
    try:
        fork_refused(printed, tmp, nobody, resource, subprocess)
    finally:
        shutil.rmtree(tmp)


def fork_refused(printed, tmp, nobody, resource, subprocess):
    os.makedirs(tmp + "/usr/bin")
    with open(tmp + "/usr/bin/readiness_probe_hook", "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(tmp + "/usr/bin/readiness_probe_hook", 0o755)
    os.chmod(tmp, 0o755)

    def limited():
        os.setgid(nobody.pw_gid)
        os.setgroups([])
        os.setuid(nobody.pw_uid)
        resource.setrlimit(resource.RLIMIT_NPROC, (1, 1))
    shutil.copy(os.path.join(REPO, "readiness_probe.py"), tmp)
    result = subprocess.run(["/usr/bin/python3", "-S", "-E", "-B", os.path.join(tmp, "readiness_probe.py"), "--root", tmp],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=limited, cwd="/")
    printed.add(result.stdout.decode())


@scenario
def ready_and_hooks(printed, tmp):
    """start exited 0; the hook in each way the docs name; --program."""
    container = fresh_container()
    try:
        container.start_supervisord().wait_for_state("EXITED")
        printed.add(container.probe(), container.root)
        for body in ("exit 0", "exit 3", "exit 124", "exit 127", "kill -9 $$", "sleep 5",
                     "head -c 12000 /dev/zero | tr '\\0' x; exit 3"):
            container.write_hook(body)
            printed.add(container.probe(), container.root)
        container.write_hook("touch %s/started; exec sleep 30" % tmp)
        for args in ((), ("--wait", "30")):
            probe = container.start_probe(*args)
            wait_for(lambda: os.path.exists(tmp + "/started"), what="the hook to start")
            probe.send_signal(signal.SIGTERM)
            printed.add(probe.communicate(timeout=30)[0].decode(), container.root)
            os.unlink(tmp + "/started")
        container.write_hook("exit 3")  # not ready: --wait pauses between runs
        probe = container.start_probe("--wait", "30", "--interval", "10")
        first = probe.stdout.readline()
        probe.send_signal(signal.SIGTERM)
        printed.add((first + probe.communicate(timeout=30)[0]).decode(), container.root)
        container.remove_hook()
        for name in ("featured", "start", "nosuchd"):
            printed.add(container.probe("--program", name), container.root)
        container.rpc().supervisor.stopProcess("featured")
        printed.add(container.probe("--program", "featured"), container.root)
    finally:
        container.destroy()


@scenario
def start_running_starting_stopped(printed, tmp):
    container = fresh_container()
    try:
        container.edit_program("start", startsecs=1000)
        container.write_start("exec sleep 1000")
        container.start_supervisord().wait_for_state("STARTING")
        printed.add(container.probe(), container.root)
    finally:
        container.destroy()
    container = fresh_container()
    try:
        container.edit_program("start", startsecs=0)
        container.write_start("exec sleep 1000")
        container.start_supervisord().wait_for_state("RUNNING")
        printed.add(container.probe(), container.root)
    finally:
        container.destroy()
    container = fresh_container()
    try:  # started by supervisord itself, so that no listener starts it again once stopped
        container.edit_program("start", startsecs=0, autostart="true", dependent_startup="false")
        container.write_start("exec sleep 1000")
        container.start_supervisord().wait_for_state("RUNNING")
        container.rpc().supervisor.stopProcess("start")
        container.wait_for_state("STOPPED")
        printed.add(container.probe(), container.root)
    finally:
        container.destroy()


@scenario
def start_waits_for_rsyslogd(printed, tmp):
    """rsyslogd stays STARTING; then the listener is stopped: nothing will start start."""
    container = fresh_container()
    try:
        container.edit_program("rsyslogd", startsecs=1000)
        container.start_supervisord().wait_for_state("STARTING", name="rsyslogd")
        printed.add(container.probe(), container.root)
        container.rpc().supervisor.stopProcess("dependent-startup")
        container.wait_for_state("STOPPED", name="dependent-startup")
        printed.add(container.probe(), container.root)
    finally:
        container.destroy()


@scenario
def rsyslogd_does_not_exist(printed, tmp):
    container = fresh_container()
    try:
        os.unlink(container.path("/usr/sbin/rsyslogd"))
        container.start_supervisord()

        def refused():
            log = container.rpc().supervisor.tailProcessStderrLog("dependent-startup", 0, 100000)[0]
            return "Error when starting service 'rsyslogd'" in log
        wait_for(refused, what="the listener to be refused rsyslogd")
        printed.add(container.probe(), container.root)
    finally:
        container.destroy()


@scenario
def start_failed(printed, tmp):
    """start exits 1 (its output to syslog, heard and not), is killed, its log in a file."""
    container = fresh_container()
    try:
        container.write_start(FAILING_START)
        container.start_supervisord().wait_for_state("EXITED")
        container.wait_for_listener_to_end()
        printed.add(container.probe(), container.root)
        container.rpc().supervisor.stopProcess("rsyslogd")
        container.wait_for_state("STOPPED", name="rsyslogd")
        printed.add(container.probe(), container.root)
    finally:
        container.destroy()
    log = "/var/log/supervisor/start.log"
    one_file = {"stdout_logfile": log, "stderr_logfile": None, "redirect_stderr": "true"}
    for body, logs in ((FAILING_START, {"stdout_logfile": log, "stderr_logfile": log}),
                       ("printf 'start.sh: bad byte \\377\\n'; exit 1", one_file),
                       ("echo 'start.sh: killed'; kill -9 $$", one_file)):
        container = fresh_container()
        try:
            container.write_start(body)
            container.edit_program("start", **logs)
            container.start_supervisord().wait_for_state("EXITED")
            printed.add(container.probe(), container.root)
        finally:
            container.destroy()


@scenario
def start_could_not_be_spawned(printed, tmp):
    container = fresh_container()
    try:
        container.edit_program("start", command="/usr/bin/no-such-start.sh", startretries=0, autostart="true",
                               dependent_startup="false")
        container.start_supervisord().wait_for_state("FATAL")
        printed.add(container.probe(), container.root)
    finally:
        container.destroy()


@scenario
def start_may_be_started_again(printed, tmp):
    """A listener that never ends (it waits to start laterd for ever): a failed start is not final."""
    container = fresh_container()
    try:
        container.edit_program("laterd", command="sleep 1000", autostart="false", dependent_startup="true",
                               dependent_startup_wait_for="featured:exited")
        container.write_start("exit 1")
        container.start_supervisord()
        wait_for(lambda: container.process_info("featured")["statename"] == "RUNNING", what="featured to run")
        wait_for(lambda: container.process_info()["statename"] == "EXITED", what="start to exit")
        container.wait_for_syslog()
        printed.add(container.probe(), container.root)
    finally:
        container.destroy()


@scenario
def start_removed_by_an_update(printed, tmp):
    container = fresh_container()
    try:
        container.start_supervisord().wait_for_state("EXITED")
        container.rpc().supervisor.removeProcessGroup("start")
        printed.add(container.probe(), container.root)
    finally:
        container.destroy()


@scenario
def start_with_two_processes(printed, tmp):
    container = fresh_container()
    try:
        container.edit_program("start", numprocs=2, process_name="%(program_name)s_%(process_num)02d",
                               autostart="true", dependent_startup="false", startsecs=0)
        container.start_supervisord()
        wait_for(lambda: all(p["statename"] == "EXITED" for p in container.rpc().supervisor.getAllProcessInfo()
                             if p["group"] == "start"), what="start's processes to exit")
        printed.add(container.probe(), container.root)
    finally:
        container.destroy()


@scenario
def supervisord_not_listening(printed, tmp):
    """Its socket removed while it runs; then stopped (no pidfile); then a stale pidfile."""
    container = fresh_container()
    try:
        container.start_supervisord().wait_for_state("EXITED")
        socket = container.rpc  # noqa: F841 (the socket's path is in the config)
        for name in os.listdir(container.path("/var/run")):
            if name.endswith(".sock"):
                os.unlink(os.path.join(container.path("/var/run"), name))
        printed.add(container.probe(), container.root)
        container.stop_supervisord()
        pidfile = container.path("/var/run/supervisord.pid")
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        printed.add(container.probe(), container.root)
        with open(pidfile, "w") as f:
            f.write("%d\n" % (2 ** 22 + 1))  # above any pid_max: no such process
        printed.add(container.probe(), container.root)
    finally:
        container.destroy()


@scenario
def supervisord_misbehaves(printed, tmp):
    """A socket that never answers, one that refuses the password: played by
    a scripted server (a real supervisord cannot be made to do either on cue)."""
    from fake_supervisord import MisbehavingServer, http_answer
    os.makedirs(tmp + "/etc")
    with open(tmp + "/etc/supervisord.conf", "w") as f:
        f.write("[unix_http_server]\nfile=/s.sock\n")
    with MisbehavingServer(tmp + "/s.sock", None):
        printed.add(run_probe(["--root", tmp, "--timeout", "0.3"]), tmp)
    with MisbehavingServer(tmp + "/s.sock", http_answer(b"", status="401 Unauthorized")):
        printed.add(run_probe(["--root", tmp]), tmp)


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    lines = Printed()
    for function in SCENARIOS:
        try:
            function(lines, str(tmp_path_factory.mktemp(function.__name__)))
        except Exception as e:  # reported by test_every_scenario_runs; the others still count
            lines.errors.append("%s: %s: %s" % (function.__name__, type(e).__name__, e))
    return lines


def test_every_scenario_runs(printed):
    assert not printed.errors, printed.errors


@pytest.mark.parametrize("path, number, quote, whole", QUOTES, ids=["%s:%d" % (q[0], q[1]) for q in QUOTES])
def test_every_quoted_line_is_one_the_probe_prints(printed, path, number, quote, whole):
    regex = re.compile(pattern(quote) + (r"\Z" if whole else ""))
    anchored = quote.startswith(("ready:", "not ready (exit"))  # a line's beginning, whole or not
    if any((regex.match if anchored else regex.search)(line) for line in printed.lines):
        return
    if printed.unavailable:
        pytest.skip("%s:%d not seen; scenarios unavailable here: %s" % (path, number, ", ".join(printed.unavailable)))
    pytest.fail("%s:%d quotes a line the probe does not print in any scenario: %r" % (path, number, quote))


# -- figures ----------------------------------------------------------------------------------
# A measured figure: a time in ms or minutes, a size in KB or MiB, seconds to
# two decimals. Limits and settings (`at most 1 MiB`, `≤ 10 ms`, `keep 100 ms`)
# are not measured, nor is what a backticked example shows (`Up 2 minutes`).
FIGURE = re.compile(r"(?<![≤≥<>] )(?<!t most )(?<!keep )\b\d+(?:\.\d+)? ?(?:ms|MiB|KB|minutes)\b|\b\d+\.\d\d s\b")
DATED = re.compile(r"\b20\d\d-\d\d-\d\d\b[\s\S]*\b(?:x86_64|aarch64|cores|machine)\b")
COMMAND = re.compile(r"\btox(?: -e [\w-]+)?\b|\./dev \w+")


def blocks(path):
    """The doc as (heading, text) blocks: paragraphs, tables and code blocks."""
    heading, out, current, in_code = "", [], [], False
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines() + [""]:
            if line.startswith("```"):
                in_code = not in_code
            if not in_code and (not line.strip() or line.startswith("#")):
                if current:
                    out.append((heading, "\n".join(current)))
                    current = []
                if line.startswith("#"):
                    heading = line
                continue
            current.append(line)
    return out


def undated_figures(path):
    """Each block with a figure that neither it nor an earlier block of its
    section dates (a date and the machine) or ties to a command."""
    found, vouched, section = [], False, None
    for heading, text in blocks(path):
        if heading != section:
            section, vouched = heading, False
        vouched = vouched or bool(DATED.search(text) or COMMAND.search(text))
        claims = text if text.startswith("```") else re.sub(r"`[^`]*`", "", text)
        if FIGURE.search(claims) and not vouched:
            found.append((FIGURE.search(claims).group(0), text[:80]))
    return found


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda path: os.path.relpath(path, REPO))
def test_every_figure_is_dated_or_produced_by_a_command(path):
    assert undated_figures(path) == []


def test_an_undated_figure_is_found(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("# A\n\nIt takes 12 ms.\n\n## B\n\nMeasured on 2026-12-02, x86_64, 2 cores: 3.5 ms.\n\nAnd 4 MiB.\n\n"
                   "## C\n\nAt most 1 MiB, keep 100 ms, ≤ 10 ms.\n")
    assert undated_figures(str(doc)) == [("12 ms", "It takes 12 ms.")]


# -- links ------------------------------------------------------------------------------------
def anchors(path):
    """The anchors of a doc's headings, as GitHub makes them."""
    with open(path, encoding="utf-8") as f:
        headings = [line.lstrip("#").strip() for line in f if line.startswith("#")]
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


LINKS = [(os.path.relpath(path, REPO), target) for path in DOC_FILES
         for target in re.findall(r"\]\(([^)\s]+)\)", open(path, encoding="utf-8").read())
         if not target.startswith(("http://", "https://"))]


@pytest.mark.parametrize("path, target", LINKS, ids=["%s->%s" % link for link in LINKS])
def test_every_link_between_the_docs_leads_somewhere(path, target):
    name, _, anchor = target.partition("#")
    linked = os.path.normpath(os.path.join(REPO, os.path.dirname(path), name)) if name else os.path.join(REPO, path)
    assert os.path.exists(linked), target
    if anchor:
        assert anchor in anchors(linked), (target, sorted(anchors(linked)))
