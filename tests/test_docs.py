"""The docs cannot rot: every probe line they quote is one the probe prints.

Every *.md file of the repository (DOC_FILES) is read, and every quote of a
probe line in it collected (doc_quotes):

- in a code block (``` or ~~~, indented or not), every line that starts
  with `ready:` or `not ready (exit` (after a `--wait` timestamp,
  `docker inspect`'s `CODE: ` or kubelet's `Readiness probe failed: `, when
  there is one): a whole line; and every double-quoted text in a `#`
  comment that starts as a probe line does (QUOTE_START): a part of one;
- in a table whose column is headed "first line", a cell that is one
  backticked span: a whole reason (the line, or what follows its
  `not ready (exit N): `), to its end;
- in prose, every backticked span that starts as a probe line does, or that
  has a space in it and does not start as a command, a flag, a config
  section or code does (NOT_PROBE_LINES: failing closed), and every
  double-quoted text that starts as a probe line does: a part of a line.

Failing closed: every `not ready (exit` in a doc, and every `ready: ` at a
line's or a quote's start or after a stamp or a prefix, must lie in a quote
so collected (VERDICT, uncovered_verdicts): a form the collector does not
know (a `<code>` tag, bold, a probe line in the middle of prose) fails
until it does. A blockquote's `>` is blanked; in code, a JSON string's
lines (a --json record, docker inspect's Output) and a comment's probe line,
quoted or not, are quotes too; double, curly and single quotes count; a
code span is paired as CommonMark pairs it (``a `b` c``); a stamp the
probe does not print (Z, +hh:mm) stays in the quote, which then fails.

The scenarios below run the probe, against a real supervisord and the real
supervisord-dependent-startup listener where the line needs them, in the
states the docs describe, and collect every line it prints. Each quote must
match one: a whole line the whole of a line, a reason the end of a line, a
part a part of one. In a quote, PATH, N, PID, NAME, STATE, CODE and WHY are
placeholders, and `…` stands for any text (PLACEHOLDERS): they match by
pattern. A quote no scenario produces fails the suite, wherever it is
planted; only where a scenario cannot run here are the quotes that it alone
produces skipped. Every paragraph pairs its backticks (one left over would
shift every span after it).

Figures: every measured time, size, ratio or percentage (FIGURE) is
produced by a command its own block (heading, paragraph, list item, table,
code block) names (`tox -e NAME`, `./dev CMD`, bench/bench.py), or dated
there with the machine it was measured on, together (2026-12-02, x86_64); a
table may be dated by the block before it under the same heading. Settings
and limits are listed in SETTINGS, each by its whole phrase; a yaml,
dockerfile or sh block's code sets values, its comments count
(test_every_figure_is_dated_or_produced_by_a_command)."""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys

import pytest

import readiness_probe as rp
from fake_container import LAUNCHER, REPO, run_probe, wait_for
from fake_supervisord import UNANSWERED_LOOKUP, listen_queue_full, xmlrpc_answer, xmlrpc_fault


def doc_files():
    """Every Markdown file of the repository: git's, tracked or not yet,
    less what .gitignore names (.tox, .venv); without git, a walk that
    leaves out hidden directories."""
    try:
        names = subprocess.run(["git", "-C", REPO, "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout.decode().split("\n")
        return sorted({os.path.join(REPO, name) for name in names if name and os.path.isfile(os.path.join(REPO, name))})
    except (OSError, subprocess.CalledProcessError):
        found = []
        for top, dirs, files in os.walk(REPO):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("__pycache__", "node_modules")]
            found += [os.path.join(top, name) for name in files if name.endswith(".md")]
        return sorted(found)


DOC_FILES = doc_files()

# How the probe's lines and reasons begin (readiness_probe.py's Verdicts): a
# span that begins so is a quote of a probe line.
QUOTE_START = re.compile(
    r"(ready: |not ready \(exit |…[,;:] |; |, (and |but |which )|: (it waits|this will)"
    r"|start (is|exited|has|was) |start's \d|start's N |NAME(:start)? is |NAME (cannot|has) |\[start's |\[\.\.\. "
    r"|[\w.-]+ is [A-Z]{4,}\b"
    r"|hook (exited|was|did|PATH|/)|supervisord (is|at|has|answered|did|will) |supervisord's answer"
    r"|cannot (ask|read|start the hook|import)|no supervisord|reading \S+ did|looking up"
    r"|the deadline passed|the probe received|internal error|readiness_probe\.sh found|this will not)")
# A backticked span with a space in it is taken for a probe quote unless it
# starts so: each kind of text the docs show that the probe does not print.
NOT_PROBE_LINES = re.compile(
    r"(-"  # a flag and its value: --program NAME, -c FILE, -- --runs N
    r"|\[ ?[a-z_]+\]"  # a config section, [supervisorctl] serverurl=
    r"|(tox|\./dev|git|pip|python3|sudo|apt-get|debootstrap|runc|vermin|kubectl|kubernetes-validate|docker"
    r"|supervisorctl|supervisord -c|readiness_probe\.sh --|ulimit|set -e|kill)\b"  # a command line
    r"|\$ "  # a shell prompt: $ readiness_probe.sh
    r"|#!|\w+=|\w+\(|\[ -|[{\"]|(ENV|CMD) "  # code: an interpreter line, assignment, call, test, JSON, Dockerfile
    r"|[a-z]+[A-Z]\w*[: ]|bgp_enabled: "  # Kubernetes fields and labels: timeoutSeconds: 1
    r"|\d{3} [A-Z]|Health check |Up \d)")  # what others print: an HTTP status, dockerd's, docker ps's
PROBE_FAILED = re.compile(r"^(?:Startup|Readiness|Liveness) probe failed: ")
KUBECTL_EVENT = re.compile(r"^.*?\s(?:Startup|Readiness|Liveness) probe failed: ")  # kubectl's columns before it
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
TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} |\d+: )")  # the probe's --wait stamp (%z)
# Any stamp: one the probe does not print (Z, +hh:mm) is left in the quote, which then fails.
ANY_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d) ")
FENCE = re.compile(r"^\s*(```|~~~)")
BLOCKQUOTE = re.compile(r"^(?:\s*>)+")
LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
# A code span, as CommonMark pairs them: a run of backticks closed by a run as long.
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
# Quoted text in prose or a comment: "…", “…”, ‘…’ and '…' (not an apostrophe).
QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|‘([^’]+)’|(?<![\w'])'(?=\S)([^']+?)(?<=\S)'(?![\w'])")
JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
# Where a probe line begins in a doc: every `not ready (exit`, and a `ready: `
# at the start of a line, a quote or a JSON string, or after a stamp or a
# prefix (`Readiness probe failed: `, `CODE: `). Each must lie in a quote
# the collector took (test_every_verdict_in_a_doc_is_a_checked_quote).
VERDICT = re.compile(r"(not\s+ready\s+\(exit)|(?:^[ \t>*_+\-\d.)]*|[`\"'“‘(\[>*_]|\\n|: |[\dZ] )(ready:\s)", re.M)


def read_lines(path):
    """The doc's lines, a blockquote's markers blanked (so that every column
    stays where it is), and the offset in the file where each begins."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().replace("\r", " ").split("\n")
    offsets, offset = [], 0
    for line in lines:
        offsets.append(offset)
        offset += len(line) + 1
    blanked = [BLOCKQUOTE.sub(lambda m: " " * len(m.group(0)), line) for line in lines]
    return blanked, offsets


def parse(path):
    """The doc's code lines, as (line number, text), and its prose
    paragraphs, each a list of (line number, text)."""
    code, paragraphs, current, fence = [], [], [], None
    for number, line in enumerate(read_lines(path)[0] + [""], 1):
        opening = FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)
        elif fence is not None:
            if opening and opening.group(1) == fence:
                fence = None
            else:
                code.append((number, line))
            continue
        if not line.strip() or opening:
            if current:
                paragraphs.append(current)
            current = []
        else:
            current.append((number, line))
    return code, paragraphs


def is_probe_quote(span):
    return bool(QUOTE_START.match(span) or (" " in span and not NOT_PROBE_LINES.match(span)))


def without_prefix(text):
    """A line less what comes before the probe's own: the --wait stamp,
    docker inspect's `CODE: `, kubelet's `Readiness probe failed: ` and
    kubectl's columns before it."""
    return KUBECTL_EVENT.sub("", PROBE_FAILED.sub("", TIMESTAMP.sub("", text.strip())))


def starts_a_line(text):
    return text.startswith(("ready:", "not ready (exit")) or bool(
        ANY_STAMP.match(text) and without_prefix(ANY_STAMP.sub("", text)).startswith(("ready:", "not ready (exit")))


def doc_quotes(path):
    """(line number, quote, kind) for each probe line quoted in a doc; kind
    is "line" (the whole line), "reason" (a line's end) or "part"."""
    return [quote[:3] for quote in collected(path)]


def collected(path):
    """Each quote as (line number, quote, kind, (start, end)): where in the
    file its text lies."""
    quotes = []
    code, paragraphs = parse(path)
    offsets = read_lines(path)[1]
    for number, line in code:
        quotes += code_line_quotes(number, line, offsets[number - 1])
    for paragraph in paragraphs:
        quotes += paragraph_quotes(paragraph, offsets[paragraph[0][0] - 1])
    return quotes


def code_line_quotes(number, line, base):
    """A code line: the whole of it a probe line; or each JSON string that
    holds probe lines (a --json record, docker inspect's Output); and in a
    comment, each quoted text that starts as one and any probe line not
    quoted, to the comment's end."""
    text = without_prefix(line)
    if starts_a_line(text):
        return [(number, text, "line", (base, base + len(line)))]
    quotes, strings = [], [m for m in JSON_STRING.finditer(line)]
    comment = next((m.start() for m in re.finditer(r"(?:^|(?<=\s))#", line)
                    if not any(s.start() < m.start() < s.end() for s in strings)), len(line))
    for m in strings:
        if m.start() >= comment:
            break
        try:
            value = json.loads(m.group(0))
        except ValueError:
            value = m.group(1)
        for part in re.sub(r"%[-\d.]*[sdr]", "…", value).split("\n"):  # a format's fields: any text
            if starts_a_line(without_prefix(part)):
                quotes.append((number, without_prefix(part), "line", (base + m.start(), base + m.end())))
    if comment < len(line):
        quotes += prose_quotes(number, line[comment + 1:], base + comment + 1, whole_lines=False)
    return quotes


def prose_quotes(number, text, base, whole_lines=True, starts=None):
    """Quotes in prose (or a comment): code spans, quoted texts, and a probe
    line not quoted (at a line's start in prose, anywhere in a comment), to
    the line's end. `starts`: (offset, line number) of each line in text."""
    quotes = []

    def line_at(offset):
        return max(n for o, n in starts if o <= offset) if starts else number

    def blank(m):
        return " " * len(m.group(0))
    for m in CODE_SPAN.finditer(text):
        span = PROBE_FAILED.sub("", re.sub(r"\s+", " ", m.group(2)).strip())
        if is_probe_quote(span):
            quotes.append((line_at(m.start()), span, "part", (base + m.start(), base + m.end())))
    text = CODE_SPAN.sub(blank, text)
    for m in QUOTED.finditer(text):
        inner = re.sub(r"\s+", " ", next(group for group in m.groups() if group is not None)).strip()
        if QUOTE_START.match(PROBE_FAILED.sub("", inner)):
            quotes.append((line_at(m.start()), PROBE_FAILED.sub("", inner), "part", (base + m.start(), base + m.end())))
    text = QUOTED.sub(blank, text)
    if whole_lines:
        ends = [o for o, _ in starts[1:]] + [len(text) + 1]
        pieces = [(o, text[o:end - 1]) for (o, _), end in zip(starts, ends)]
    else:
        m = VERDICT.search(text)
        pieces = [(m.start(1) if m.group(1) else m.start(2), text[m.start(1) if m.group(1) else m.start(2):])] if m else []
    for offset, piece in pieces:
        line = without_prefix(LIST_MARKER.sub("", piece))
        if starts_a_line(line):
            quotes.append((line_at(offset), line, "line", (base + offset, base + offset + len(piece))))
    return quotes


def paragraph_quotes(paragraph, base=0):
    quotes, column = [], None
    if paragraph[0][1].startswith("|"):  # a table: its "first line" cells are whole reasons
        header = [cell.strip().lower() for cell in paragraph[0][1].strip("|").split("|")]
        column = header.index("first line") if "first line" in header else None
    joined, starts = "", []
    for number, text in paragraph:
        starts.append((len(joined), number))
        if column is not None and re.match(r"\s*\|[-|: ]+\|\s*$", text) is None and number != paragraph[0][0]:
            cells = re.split(r"(?<!\\)\|", text.strip().strip("|"))
            cell = cells[column].strip() if column < len(cells) else ""
            span = CODE_SPAN.match(cell)
            if span and span.end() == len(cell):
                at = len(joined) + text.index(cell)
                quotes.append((number, PROBE_FAILED.sub("", span.group(2).strip()), "reason",
                               (base + at, base + at + len(cell))))
                text = text.replace(cell, " " * len(cell), 1)
        joined += text + " "
    return quotes + prose_quotes(paragraph[0][0], joined, base, starts=starts)


def unpaired_backticks(path):
    """The first line of each paragraph with a backtick no code span pairs
    (an odd one would shift every span after it)."""
    return [paragraph[0][0] for paragraph in parse(path)[1]
            if "`" in CODE_SPAN.sub("", " ".join(text for _, text in paragraph))]


def uncovered_verdicts(path):
    """(line number, text) of each probe line's start in the doc that no
    quote the collector took covers."""
    with open(path, encoding="utf-8") as f:
        text = f.read().replace("\r", " ")
    spans = [quote[3] for quote in collected(path)]
    found = []
    for m in VERDICT.finditer(text):
        at = m.start(1) if m.group(1) else m.start(2)
        if not any(start <= at < end for start, end in spans):
            found.append((text.count("\n", 0, at) + 1, text[at:at + 60].split("\n")[0]))
    return found


def pattern(quote):
    """A quote as a regular expression: its placeholders by pattern, the rest literally."""
    tokens = re.split(r"(…|\b(?:PATH|PID|CODE|NAME|STATE|WHY|N)\b)", quote)
    return "".join(dict(PLACEHOLDERS).get(token, None) or re.escape(token) for token in tokens)


def matches(quote, kind, lines):
    """Whether a printed line is what the quote quotes: all of it (a line),
    its end (a reason, after the verdict's `not ready (exit N): `), or a part
    (from its start when the quote starts as a line does)."""
    body = pattern(quote)
    if kind == "line":
        regex = re.compile(body + r"\Z")
    elif kind == "reason":
        regex = re.compile(r"(?:(?:not ready \(exit \d+\)|ready): )?" + body + r"\Z")
    else:
        regex = re.compile(("" if quote.startswith(("ready:", "not ready (exit")) else ".*?") + body)
    return any(regex.match(line) for line in lines)


QUOTES = [(os.path.relpath(path, REPO), number, quote, kind)
          for path in DOC_FILES for number, quote, kind in doc_quotes(path)]


def test_the_docs_quote_probe_lines():
    files = {path for path, _, _, _ in QUOTES}
    assert {"README.md", "docs/operators.md", "examples/hooks/README.md", "docs/design.md", "docs/kubernetes.md"} <= files
    assert {"README.md", "CONTRIBUTING.md", "docs/operators.md", "bench/README.md"} <= {
        os.path.relpath(path, REPO) for path in DOC_FILES}
    assert not any(os.sep + "." in os.path.relpath(path, REPO) for path in DOC_FILES), DOC_FILES
    assert len(QUOTES) > 100, QUOTES


def test_a_planted_stale_line_is_a_quote(tmp_path):
    """What the collector takes for a quote: in a code block, however fenced
    and indented, in prose, in double quotes, in a table's first line."""
    doc = tmp_path / "doc.md"
    doc.write_text("text\n```\nnot ready (exit 2): start is DONE\n```\nprose `start is\nDONE: gone` and `--timeout`\n"
                   "\n- item\n\n  ```\n  not ready (exit 2): start is GONE\n  ```\n\n~~~\nready: it is\n~~~\n\n"
                   "events: `Readiness probe failed: not ready (exit 2): start is LOST`, `as it was`, `tox -e py311`\n\n"
                   "~~~sh\nreadiness_probe.sh --program x  # \"x is SOLID\", exit 0\n"
                   "Warning  Unhealthy  2s  kubelet  Readiness probe failed: not ready (exit 5): hook exited 5\n~~~\n"
                   "\nit says \"supervisord is sleeping\" then\n\n| first line | means |\n|---|---|\n"
                   "| `start is HAPPY` | `start is JOLLY` too |\n")
    assert doc_quotes(str(doc)) == [
        (3, "not ready (exit 2): start is DONE", "line"), (11, "not ready (exit 2): start is GONE", "line"),
        (15, "ready: it is", "line"), (21, "x is SOLID", "part"),
        (22, "not ready (exit 5): hook exited 5", "line"),
        (5, "start is DONE: gone", "part"),
        (18, "not ready (exit 2): start is LOST", "part"), (18, "as it was", "part"),
        (25, "supervisord is sleeping", "part"),
        (29, "start is HAPPY", "reason"), (29, "start is JOLLY", "part")]
    assert unpaired_backticks(str(doc)) == []


def test_an_unpaired_backtick_is_found(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("# A\n\nfine `x`\n\na stray ` here,\nthen `not ready (exit 2): start is DONE`\n")
    assert unpaired_backticks(str(doc)) == [5]


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda path: os.path.relpath(path, REPO))
def test_every_paragraph_pairs_its_backticks(path):
    assert unpaired_backticks(path) == []


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda path: os.path.relpath(path, REPO))
def test_every_verdict_in_a_doc_is_a_checked_quote(path):
    """Failing closed: wherever a doc writes a probe line's start, in
    whatever form, the collector took a quote there; a form it does not
    know fails here until it does (or the doc quotes the line so)."""
    assert uncovered_verdicts(path) == []


def test_a_planted_verdict_in_any_form_is_checked(tmp_path):
    """Each form a quote can take is collected; one the collector does not
    know is found uncovered."""
    doc = tmp_path / "doc.md"
    doc.write_text("> not ready (exit 2): start is BLOCKED\n\nit says \u201cstart is CURLY\u201d and \'start is SINGLE\', "
                   "start\'s own\n\n```json\n{\"ready\": false, \"reason\": \"not ready (exit 2): start is JSON\"}\n```\n\n"
                   "```\n\"Health\": {\"Log\": [{\"ExitCode\": 2, \"Output\":\"not ready (exit 2): start is INSPECTED\\n\"}]}\n"
                   "2026-12-02T14:08:49Z not ready (exit 2): start is ZULU\n2026-12-02T14:08:49+0100 ready: x is UP\n"
                   "readiness_probe.sh  # prints: not ready (exit 2): start is COMMENTED\n```\n\n"
                   "    not ready (exit 2): start is INDENTED\n\n``not ready (exit 2): start is `TICKED` ``\n\n"
                   "| First line | means |\n|---|---|\n| `start is CUT` | x |\n\n`$ readiness_probe.sh --wait`\n\n"
                   "<code>not ready (exit 2): start is TAGGED</code> and **ready: bold** and, unquoted, not ready (exit 2): x\n")
    assert doc_quotes(str(doc)) == [
        (6, "not ready (exit 2): start is JSON", "line"), (10, "not ready (exit 2): start is INSPECTED", "line"),
        (11, "2026-12-02T14:08:49Z not ready (exit 2): start is ZULU", "line"), (12, "ready: x is UP", "line"),
        (13, "not ready (exit 2): start is COMMENTED", "line"),
        (1, "not ready (exit 2): start is BLOCKED", "line"),
        (3, "start is CURLY", "part"), (3, "start is SINGLE", "part"),
        (16, "not ready (exit 2): start is INDENTED", "line"),
        (18, "not ready (exit 2): start is `TICKED`", "part"),
        (22, "start is CUT", "reason")]
    assert [number for number, _ in uncovered_verdicts(str(doc))] == [26, 26, 26]
    assert unpaired_backticks(str(doc)) == []


# -- the scenarios ----------------------------------------------------------------------------
FAILING_START = "echo 'start.sh: giving up'; exit 1"
SCENARIOS = []


def scenario(function):
    SCENARIOS.append(function)
    return function


@contextlib.contextmanager
def fresh_container():
    """A fake container for one scenario, removed after it, whatever happens."""
    from fake_container import FakeContainer

    container = FakeContainer()
    try:
        yield container
    finally:
        container.destroy()


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
    printed.add(run_probe(["--root", tmp, "--program", "featured"]))
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
def limited_process(printed, tmp):
    """The hook's fork refused (RLIMIT_NPROC 1: the user's other processes
    already exceed it), and a config the probe may not read (mode 0). A
    normal user runs the probe so itself; root, whom neither limit binds,
    runs it as nobody, on /usr/bin/python3 (root's own python may be out of
    nobody's reach)."""
    import pwd
    import resource
    import tempfile
    python, nobody = sys.executable, None
    if os.geteuid() == 0:
        if not os.access("/usr/bin/python3", os.X_OK):
            printed.unavailable.append(("limited_process (as root it needs /usr/bin/python3, to run as nobody)",
                                        ONLY_LIMITED_PROCESS))
            return
        python, nobody = "/usr/bin/python3", pwd.getpwnam("nobody")
    tmp = tempfile.mkdtemp(prefix="rp-nproc-", dir="/tmp")  # where nobody can read
    try:
        os.chmod(tmp, 0o755)
        shutil.copy(os.path.join(REPO, "readiness_probe.py"), tmp)
        os.makedirs(tmp + "/usr/bin")
        with open(tmp + "/usr/bin/readiness_probe_hook", "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(tmp + "/usr/bin/readiness_probe_hook", 0o755)

        def limited(nproc):
            def become():
                if nobody is not None:
                    os.setgid(nobody.pw_gid)
                    os.setgroups([])
                    os.setuid(nobody.pw_uid)
                if nproc:
                    resource.setrlimit(resource.RLIMIT_NPROC, (1, 1))
            return become

        def run(nproc):
            result = subprocess.run([python, "-S", "-E", "-B", os.path.join(tmp, "readiness_probe.py"), "--root", tmp],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=limited(nproc), cwd="/")
            printed.add(result.stdout.decode(), tmp)
        run(nproc=True)
        os.makedirs(tmp + "/etc")
        with open(tmp + "/etc/supervisord.conf", "w") as f:
            f.write("[unix_http_server]\nfile=/var/run/supervisor.sock\n")
        os.chmod(tmp + "/etc/supervisord.conf", 0)
        run(nproc=False)
    finally:
        shutil.rmtree(tmp)


# What limited_process alone prints: the quotes skipped where it cannot run.
ONLY_LIMITED_PROCESS = re.compile(r"\(exit 71\)|fork failed|no free process slot|cannot read PATH")


@scenario
def ready_and_hooks(printed, tmp):
    """start exited 0; the hook in each way the docs name; --program."""
    with fresh_container() as container:
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
        counter = tmp + "/runs"  # a verdict that changes on every run, then ready: more changes than 10 KiB holds
        container.write_hook('echo x >> %s; runs=$(wc -l < %s)\n[ "$runs" -gt 200 ] && exit 0\nexit $((3 + runs %% 2))'
                             % (counter, counter))
        printed.add(container.probe("--wait", "120", "--interval", "0.001", "--timeout", "10"), container.root)
        container.remove_hook()
        for name in ("featured", "start", "nosuchd"):
            printed.add(container.probe("--program", name), container.root)
        container.rpc().supervisor.stopProcess("featured")
        printed.add(container.probe("--program", "featured"), container.root)


@scenario
def start_running_starting_stopped(printed, tmp):
    with fresh_container() as container:
        container.edit_program("start", startsecs=1000)
        container.write_start("exec sleep 1000")
        container.start_supervisord().wait_for_state("STARTING")
        printed.add(container.probe(), container.root)
    with fresh_container() as container:
        container.edit_program("start", startsecs=0)
        container.write_start("exec sleep 1000")
        container.start_supervisord().wait_for_state("RUNNING")
        printed.add(container.probe(), container.root)
    with fresh_container() as container:  # started by supervisord itself, so that no listener starts it again once stopped
        container.edit_program("start", startsecs=0, autostart="true", dependent_startup="false")
        container.write_start("exec sleep 1000")
        container.start_supervisord().wait_for_state("RUNNING")
        container.rpc().supervisor.stopProcess("start")
        container.wait_for_state("STOPPED")
        printed.add(container.probe(), container.root)


@scenario
def start_waits_for_rsyslogd(printed, tmp):
    """rsyslogd stays STARTING; then the listener is stopped: nothing will start start."""
    with fresh_container() as container:
        container.edit_program("rsyslogd", startsecs=1000)
        container.start_supervisord().wait_for_state("STARTING", name="rsyslogd")
        printed.add(container.probe(), container.root)
        container.rpc().supervisor.stopProcess("dependent-startup")
        container.wait_for_state("STOPPED", name="dependent-startup")
        printed.add(container.probe(), container.root)
    with fresh_container() as container:  # one of two reached
        container.edit_program("slowd", command="sleep 1000", startsecs=1000, autostart="true")
        container.edit_program("start", dependent_startup_wait_for="rsyslogd:running slowd:running")
        container.start_supervisord().wait_for_state("RUNNING", name="rsyslogd")
        container.wait_for_state("STARTING", name="slowd")
        printed.add(container.probe(), container.root)


@scenario
def rsyslogd_cannot_be_started(printed, tmp):
    """rsyslogd's command missing, a directory, not on its PATH."""
    for how in ("missing", "directory", "not on PATH"):
        rsyslogd_cannot_start(printed, how)


def rsyslogd_cannot_start(printed, how):
    with fresh_container() as container:
        os.unlink(container.path("/usr/sbin/rsyslogd"))
        if how == "directory":
            os.mkdir(container.path("/usr/sbin/rsyslogd"))
        elif how == "not on PATH":
            container.edit_program("rsyslogd", command="rsyslogd -n", environment='PATH="/usr/sbin:/usr/bin:/bin"')
        container.start_supervisord()

        def refused():
            log = container.rpc().supervisor.tailProcessStderrLog("dependent-startup", 0, 100000)[0]
            return "Error when starting service 'rsyslogd'" in log
        wait_for(refused, what="the listener to be refused rsyslogd")
        printed.add(container.probe(), container.root)


@scenario
def start_failed(printed, tmp):
    """start exits 1 (its output to syslog, heard and not), is killed, its log in a file."""
    with fresh_container() as container:
        container.write_start(FAILING_START)
        container.start_supervisord().wait_for_state("EXITED")
        container.wait_for_listener_to_end()
        printed.add(container.probe(), container.root)
        container.write("/etc/supervisor/conf.d/zz-override.conf", "[program:start]\nautorestart = true\n")
        printed.add(container.probe(), container.root)  # as if supervisord had not read it yet
        os.unlink(container.path("/etc/supervisor/conf.d/zz-override.conf"))
        container.rpc().supervisor.stopProcess("rsyslogd")
        container.wait_for_state("STOPPED", name="rsyslogd")
        printed.add(container.probe(), container.root)
    log = "/var/log/supervisor/start.log"
    one_file = {"stdout_logfile": log, "stderr_logfile": None, "redirect_stderr": "true"}
    for body, logs in ((FAILING_START, {"stdout_logfile": log, "stderr_logfile": log}),
                       ("printf 'start.sh: bad byte \\377\\n'; exit 1", one_file),
                       ("echo 'start.sh: killed'; kill -9 $$", one_file)):
        with fresh_container() as container:
            container.write_start(body)
            container.edit_program("start", **logs)
            container.start_supervisord().wait_for_state("EXITED")
            printed.add(container.probe(), container.root)


@scenario
def start_could_not_be_spawned(printed, tmp):
    with fresh_container() as container:
        container.edit_program("start", command="/usr/bin/no-such-start.sh", startretries=0, autostart="true",
                               dependent_startup="false")
        container.start_supervisord().wait_for_state("FATAL")
        printed.add(container.probe(), container.root)


@scenario
def start_may_be_started_again(printed, tmp):
    """A listener that never ends (it waits to start laterd for ever): a failed start is not final."""
    with fresh_container() as container:
        container.edit_program("laterd", command="sleep 1000", autostart="false", dependent_startup="true",
                               dependent_startup_wait_for="featured:exited")
        container.write_start("exit 1")
        container.start_supervisord()
        wait_for(lambda: container.process_info("featured")["statename"] == "RUNNING", what="featured to run")
        wait_for(lambda: container.process_info()["statename"] == "EXITED", what="start to exit")
        container.wait_for_syslog()
        printed.add(container.probe(), container.root)


@scenario
def start_removed_by_an_update(printed, tmp):
    with fresh_container() as container:
        container.start_supervisord().wait_for_state("EXITED")
        container.rpc().supervisor.removeProcessGroup("start")
        printed.add(container.probe(), container.root)


@scenario
def start_with_two_processes(printed, tmp):
    with fresh_container() as container:
        container.edit_program("start", numprocs=2, process_name="%(program_name)s_%(process_num)02d",
                               autostart="true", dependent_startup="false", startsecs=0)
        container.start_supervisord()
        wait_for(lambda: all(p["statename"] == "EXITED" for p in container.rpc().supervisor.getAllProcessInfo()
                             if p["group"] == "start"), what="start's processes to exit")
        printed.add(container.probe(), container.root)


@scenario
def supervisord_not_listening(printed, tmp):
    """Its socket removed while it runs; then stopped (no pidfile); then a stale pidfile."""
    with fresh_container() as container:
        container.start_supervisord().wait_for_state("EXITED")
        socket = container.rpc  # noqa: F841 (the socket's path is in the config)
        sockets = [os.path.join(container.path("/var/run"), name) for name in os.listdir(container.path("/var/run"))
                   if name.endswith(".sock")]
        for path in sockets:
            os.unlink(path)
        printed.add(container.probe(), container.root)
        for path in sockets:  # a socket file that no one listens at any more
            dead_socket(path)
        printed.add(container.probe(), container.root)
        for path in sockets:
            os.unlink(path)
        container.stop_supervisord()
        pidfile = container.path("/var/run/supervisord.pid")
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        printed.add(container.probe(), container.root)
        with open(pidfile, "w") as f:
            f.write("%d\n" % (2 ** 22 + 1))  # above any pid_max: no such process
        printed.add(container.probe(), container.root)


def dead_socket(path):
    import socket
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.close()  # the file stays; a connect() to it is refused


@scenario
def supervisord_misbehaves(printed, tmp):
    """A socket that never answers, one that refuses the password: played by
    a scripted server (a real supervisord cannot be made to do either on cue)."""
    from fake_container import run_caller
    from fake_supervisord import MisbehavingServer, http_answer
    os.makedirs(tmp + "/etc")
    with open(tmp + "/etc/supervisord.conf", "w") as f:
        f.write("[unix_http_server]\nfile=/s.sock\n")
    with MisbehavingServer(tmp + "/s.sock", None):
        printed.add(run_probe(["--root", tmp, "--timeout", "0.3"]), tmp)
    with MisbehavingServer(tmp + "/s.sock", http_answer(b"", status="401 Unauthorized")):
        printed.add(run_probe(["--root", tmp]), tmp)
    with MisbehavingServer(tmp + "/s.sock", xmlrpc_fault(6, "SHUTDOWN_STATE")):
        printed.add(run_probe(["--root", tmp]), tmp)
    with MisbehavingServer(tmp + "/s.sock", xmlrpc_answer("not a process")):
        printed.add(run_probe(["--root", tmp]), tmp)
    with MisbehavingServer(tmp + "/s.sock", http_answer(b"x" * (rp.ANSWER_LIMIT + 1))):
        printed.add(run_probe(["--root", tmp]), tmp)
    for state, spawnerr in ((30, "Exited too quickly (process log may have details)"), (40, "")):  # BACKOFF, STOPPING
        info = {"name": "start", "group": "start", "state": state, "statename": "", "exitstatus": 0, "spawnerr": spawnerr,
                "start": 1}
        with MisbehavingServer(tmp + "/s.sock", xmlrpc_answer(info)):
            printed.add(run_probe(["--root", tmp]), tmp)
    dead_socket(tmp + "/s.sock")  # no pidfile in this config: whether supervisord runs cannot be told
    printed.add(run_probe(["--root", tmp]), tmp)
    os.unlink(tmp + "/s.sock")
    printed.add(run_probe(["--root", tmp, "--serverurl", "http://%s:9001" % ("a" * 64)]), tmp)
    printed.add(run_caller(UNANSWERED_LOOKUP, "--root", tmp, "--serverurl", "http://supervisor.example:9001",
                           "--timeout", "0.3")[1].decode())
    full_listen_queue(printed, tmp)


def full_listen_queue(printed, tmp):
    with listen_queue_full(tmp + "/s.sock"):
        printed.add(run_probe(["--root", tmp, "--timeout", "0.3"]), tmp)


@scenario
def configs_too_big_or_slow(printed, tmp):
    """A config over the size limit; one too long to read in a short
    deadline; start's includes too long to read in time (asked of a
    scripted supervisord that has no start)."""
    from fake_supervisord import MisbehavingServer
    config = tmp + "/etc/supervisord.conf"
    os.makedirs(tmp + "/etc/conf.d")
    with open(config, "w") as f:
        f.write(";" + "x" * (1024 * 1024) + "\n")
    printed.add(run_probe(["--root", tmp]), tmp)
    with open(config, "w") as f:
        f.write("[supervisorctl]\n" + "k = v ; c\n" * 100000)
    printed.add(run_probe(["--root", tmp, "--timeout", "0.05"]), tmp)
    with open(config, "w") as f:
        f.write("[unix_http_server]\nfile=/s.sock\n[include]\nfiles=conf.d/*.conf\n")
    for number in range(8):  # seconds of configparser's work, whatever the machine's speed past 0.3 s
        with open(tmp + "/etc/conf.d/long-%d.conf" % number, "w") as f:
            f.write("[program:start]\n" + "k = v ; c\n" * 100000)

    def no_start(request):
        return xmlrpc_answer([]) if b"getAllProcessInfo" in request else xmlrpc_fault(10, "BAD_NAME")
    with MisbehavingServer(tmp + "/s.sock", no_start):
        printed.add(run_probe(["--root", tmp, "--timeout", "0.3"]), tmp)


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


@pytest.mark.parametrize("path, number, quote, kind", QUOTES, ids=["%s:%d" % (q[0], q[1]) for q in QUOTES])
def test_every_quoted_line_is_one_the_probe_prints(printed, path, number, quote, kind):
    if matches(quote, kind, printed.lines):
        return
    for name, produces in printed.unavailable:
        if produces.search(quote):
            pytest.skip("%s:%d not seen; only %s prints it, and it cannot run here" % (path, number, name))
    pytest.fail("%s:%d quotes a line the probe does not print in any scenario: %r (%s)" % (path, number, quote, kind))


@pytest.mark.parametrize("quote, kind", [
    ("not ready (exit 2): start is DONE", "line"),
    ("not ready (exit 2): start is DONE", "part"),
    ("start is DONE", "part"),
    ("start is RUNNING: start.sh has not", "reason"),  # a reason cut short: the line goes on
    ("not ready (exit 2): start is RUNNING", "line"),
    ("hook exited 3 and more", "part"),
])
def test_a_planted_quote_matches_no_printed_line(printed, quote, kind):
    assert not matches(quote, kind, printed.lines)


def test_a_true_quote_matches_a_printed_line(printed):
    assert matches("start is RUNNING: start.sh has not", "part", printed.lines)
    assert matches("start is RUNNING: start.sh has not finished", "reason", printed.lines)
    assert matches("not ready (exit 2): start is RUNNING: start.sh has not finished", "line", printed.lines)


# -- the operator's guide covers every reason --------------------------------------------------
def reason_families():
    """Each reason readiness_probe.py can give, as the longest literal piece
    of its format string: every Verdict(CODE, "..."), every piece added to a
    start's reason, and each state's meaning."""
    with open(os.path.join(REPO, "readiness_probe.py"), encoding="utf-8") as f:
        source = f.read()
    formats = ["".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))) for m in re.finditer(
        r'(?:Verdict\(\s*\w+,|reason \+?= \(?)\s*((?:"(?:[^"\\]|\\.)*"\s*)+)', source)]
    meanings = re.search(r"^STATE_MEANINGS = \{(.*?)^\}", source, re.S | re.M).group(1)
    formats += re.findall(r'^\s*"\w+": "([^"]*)"', meanings, re.M)
    families = {max(re.split(r"%[-\d.]*[sdr]", text), key=len).strip() for text in formats}
    return sorted(family for family in families if len(family) > 3)


# Reasons operators.md need not list, each with why.
NOT_IN_THE_GUIDE = {
    "the deadline passed before supervisord answered":
        "the deadline running out between two reads of one answer: a race, no scenario reaches it on cue; "
        "the guide's 124 section names the rest of the step-by-step deadline lines together",
    "the deadline passed while looking for the files": "the same: which step of reading the includes a deadline cuts",
    "the deadline passed while reading": "the same",
    "the deadline passed while reading supervisord's config": "the same",
    "has a line too long to read": "a guard of the failure path against configparser's quadratic pattern: a config "
                                   "no supervisord would read either; the probe then makes no claim",
    "supervisord's answer for its processes is not a list": "the guide's row for an answer outside supervisord's API "
                                                            "(`supervisord's answer for …`) covers it",
}


def test_the_operators_guide_has_a_row_for_every_reason():
    with open(os.path.join(REPO, "docs", "operators.md"), encoding="utf-8") as f:
        guide = re.sub(r"\s+", " ", f.read())
    families = reason_families()
    assert len(families) > 40, families
    assert "cannot read" in families and "start.sh has not finished" in families, families
    missing = [family for family in families if family not in guide and family not in NOT_IN_THE_GUIDE]
    assert missing == []
    assert sorted(set(NOT_IN_THE_GUIDE) - set(families)) == []  # an exemption for a reason that is gone


# -- figures ----------------------------------------------------------------------------------
# A measured figure: a time, a size, a ratio or a percentage, with any
# decimals and thousands separators (1,500 bytes), however its unit is
# written (14 milliseconds, 3 sec, 2.5sec, 900us), and time's `0m0.014s`.
# A limit is not one (`at most 1 MiB`, `≤ 10 ms`, `keep 100 ms`), nor what
# the code of a yaml, dockerfile or sh block sets (their comments count: `#
# took 14 ms` is measured); every other block's figures are.
FIGURE = re.compile(r"(?<![≤≥<>] )(?<!t most )(?<!keep )(?<![\w.,])(?:"
                    r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)? ?"
                    r"(?:ms|msecs?|milliseconds?|µs|μs|us|microseconds?|ns|nanoseconds?|s|secs?|seconds?"
                    r"|min|mins|minutes?|h|hours?|KiB|KB|kB|MiB|MB|GiB|GB|bytes?|B|%|percent"
                    r"|times (?:faster|slower|as|more|less|longer|shorter|the))(?!\w)"
                    r"|\d+(?:\.\d+)?[×x](?!\w)|\d+m\d+(?:\.\d+)?s\b)")
SETTING_LANGUAGES = ("yaml", "dockerfile", "sh")  # exactly: a ```shell or ```console block is a transcript
# Settings and limits written in prose, each as its whole phrase (a measured
# value that equals one is still a figure), with why it is no measurement.
SETTINGS = [
    (r"over 10 KiB \(10,240 bytes", "the output limit, in bytes"),
    (r"\b(?:to|most|last|over|within) 10 KiB\b", "the output limit, 10 KiB"),
    (r"\b2 KiB kept for the objects", "the room --json keeps for later verdicts"),
    (r"\b0\.8 s by default|default 0\.8 s\b|default deadline, 0\.8 s\b|own 0\.8 s deadline, plus 1 s\b",
     "--timeout's default; the margin of timeoutSeconds (1 s)"),
    (r"deadline,? plus (?:0\.2|1) s\b", "the reaper's grace past the deadline (0.2 s); the margin of timeoutSeconds (1 s)"),
    (r"\bevery 5 s\b|\b3 × 5 s\b|\(default 5 s\)|\b[Tt]he 5 s period|start\.sh within 5 s\b",
     "the examples' periodSeconds; dockerd's --start-interval default"),
    (r"\(over 1 MiB\)", "the size limit of a config file (CONFIG_LIMIT)"),
    (r"up to 3 bytes", "how much shorter a log tail is asked for, to begin at a whole UTF-8 character: a rule"),
    (r"first 4096 bytes", "dockerd's own limit on what it keeps of a health check's output"),
    (r"gives start\.sh 300 s\b|\(300 s here\)|Why 300 s\b|60 x 5 s = 300 s\b",
     "the startupProbe's budget, failureThreshold × periodSeconds (60 × 5 s)"),
    (r"\b30 s outlasts", "the example's minReadySeconds"),
    (r"such as `10%`", "a maxUnavailable setting"),
    (r"`--start-period=300s`|`--timeout=2s`", "HEALTHCHECK's options in the example"),
    (r"exceeded timeout \(2s\)", "dockerd's message, quoting the --timeout set"),
    (r"`Up 2 minutes", "an example of docker ps's STATUS column"),
]


def blocks(path):
    """The doc as (heading, text) blocks: headings, paragraphs, list items,
    tables and code blocks."""
    heading, out, current, fence = "", [], [], None
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines() + [""]:
            opening = FENCE.match(line)
            if fence is not None:
                current.append(line)
                if opening and opening.group(1) == fence:
                    fence = None
                    out.append((heading, "\n".join(current)))
                    current = []
                continue
            if opening or not line.strip() or line.startswith("#") or re.match(r"\s*(?:[-*]|\d+\.) ", line):
                if current:
                    out.append((heading, "\n".join(current)))
                current = []
                if line.startswith("#"):
                    heading = line
                    out.append((heading, line))
                    continue
                if opening:
                    fence = opening.group(1)
                    current = [line.strip()]
                    continue
                if not line.strip():
                    continue
            current.append(line)
    return out


def claims(text):
    """A block's text with what is not a measured figure taken out."""
    opening = FENCE.match(text)
    if opening:
        language = (text.split("\n", 1)[0].strip()[len(opening.group(1)):].split() or [""])[0].lower()
        if language in SETTING_LANGUAGES:
            text = "\n".join(re.findall(r"(?:^|(?<=\s))#(?!!).*", text.split("\n", 1)[-1], re.M))
    text = re.sub(r"\s+", " ", text)  # a figure or a setting's phrase wrapped across lines
    for setting, _ in SETTINGS:
        text = re.sub(setting, "", text)
    return text


def undated_figures(path):
    """Each block with a figure that it neither dates (a date and the
    machine together) nor ties to a command; a table may be dated by the
    block right before it, under the same heading."""
    found, before = [], ""
    for _, text in blocks(path):
        vouched = DATED.search(text) or COMMAND.search(text) or (text.startswith("|") and DATED.search(before))
        figure = FIGURE.search(claims(text))
        if figure and not vouched:
            found.append((figure.group(0), text[:80]))
        before = "" if text.startswith("#") else text
    return found


# A date and, in the same sentence, the machine: its architecture or its cores.
DATED = re.compile(r"\b20\d\d-\d\d-\d\d\b(?:[^.]|\.\d){0,60}?\b(?:x86_64|aarch64|arm64|\d+ (?:cores?|CPUs?|vCPUs?))\b")
COMMAND = re.compile(r"\btox -e [\w-]+|\./dev [\w-]+|\bbench/bench\.py\b")


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda path: os.path.relpath(path, REPO))
def test_every_figure_is_dated_or_produced_by_a_command(path):
    assert undated_figures(path) == []


def test_an_undated_figure_is_found(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("# A\n\nIt takes 12 ms.\n\n## B\n\nMeasured on 2026-12-02, x86_64, 2 cores: 3.5 ms.\n\nAnd 4 MiB.\n\n"
                   "## C\n\nAt most 1 MiB, keep 100 ms, ≤ 10 ms, every 5 s.\n\n`tox -e bench` measures:\n\n"
                   "- 2.5 s here, 9 µs\n- 3 seconds there\n\n| a | b |\n|---|---|\n| 40 KiB | 2 MB |\n\n"
                   "```yaml\ntimeoutSeconds: 2  # the margin\ninterval: 5s\n```\n\n~~~\n0.5 min\n~~~\n")
    assert undated_figures(str(doc)) == [
        ("12 ms", "It takes 12 ms."), ("4 MiB", "And 4 MiB."), ("2.5 s", "- 2.5 s here, 9 µs"),
        ("3 seconds", "- 3 seconds there"), ("40 KiB", "| a | b |\n|---|---|\n| 40 KiB | 2 MB |"),
        ("0.5 min", "~~~\n0.5 min\n~~~")]


def test_every_setting_listed_is_in_a_doc():
    """An exemption whose text is gone from the docs is taken out."""
    text = "".join(open(path, encoding="utf-8").read() for path in DOC_FILES)
    assert [setting for setting, _ in SETTINGS if not re.search(setting, re.sub(r"\s+", " ", text))] == []


def test_each_unit_is_a_figure():
    for figure in ("1.5 s", "9 µs", "3 seconds", "40 KiB", "2 MB", "0.5 min", "12 ms", "4 minutes", "7 GB", "3 KB",
                   "5 times faster", "5×", "40 %", "40%", "1,500 bytes", "14 milliseconds", "3 sec", "2.5sec", "900us",
                   "0m0.014s"):
        assert FIGURE.search("it took %s." % figure).group(0) == figure, figure


def test_a_planted_figure_in_any_form_is_found(tmp_path):
    """A heading's figure, a ```shell block's, an sh or yaml comment's, one vouched
    for by the bare word tox, a table under another heading than its date,
    a date with only the word machine, a measured value equal to a
    setting's number."""
    doc = tmp_path / "doc.md"
    doc.write_text("# Fast: 5 times faster\n\n```shell\n$ time readiness_probe.sh\nreal 0m0.014s\n```\n\n"
                   "```sh\nreadiness_probe.sh  # took 14 ms\nsleep 5s\n```\n\nThe tox run: 3 sec.\n\n"
                   "```yaml\ntimeoutSeconds: 2  # 1.4 s measured\n```\n\n"
                   "Measured on 2026-12-02, x86_64, 2 cores:\n\n## B\n\n| a |\n|---|\n| 40 % |\n\n"
                   "On 2026-12-02, on my machine: 900us.\n\nIt used 10 KiB, and 1 MiB.\n\n"
                   "`./dev bench` gives 2.5sec; bench/bench.py 1,500 bytes; on 2026-12-02, aarch64, 14 milliseconds.\n")
    assert [figure for figure, _ in undated_figures(str(doc))] == [
        "5 times faster", "0m0.014s", "14 ms", "3 sec", "1.4 s", "40 %", "900us", "10 KiB"]


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
