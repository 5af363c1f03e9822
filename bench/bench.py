#!/usr/bin/env python3
"""Benchmark of the readiness probe against a real supervisord.

A fresh copy of fixtures/fake_container_root/ is served by a real
supervisord, its start.sh exited 0, and these commands are timed, all on the
same python3 (--python, default /usr/bin/python3) and the same supervisord:

  A      readiness_probe.sh --root <root>: the ready path, no hook. Installed
         as image builders do: readiness_probe.sh and readiness_probe.py in
         <root>/usr/bin/, then `python3 -m py_compile` there.
  A-src  the same probe from a directory without __pycache__ (informative:
         what precompiling buys; the launcher's -B keeps it that way).
  N      the no-shell form (examples/pod-readiness-no-shell.yaml): python3
         -S -E -B -c with the launcher's own lines, on A's install.
  B      python3 -m supervisor.supervisorctl -c <conf> status start, what
         the probe replaces.
  L      python3 -S -E -c pass: the floor of any Python probe.
  H      the probe with a trivial hook (#!/bin/sh, exit 0).
  D      that hook run directly.

After two warm-up rounds, the commands run interleaved, --runs rounds, the
order rotated each round so no command always follows the same one. The
hook is installed before the H and D runs of a round and removed after, so
A, A-src, N and B always see a container without one.

How each number is measured, and why that way:
  wall   time.perf_counter() around spawn and wait.
  CPU    user + sys from the rusage os.wait4() returns (microseconds; it
         includes the command's own children, e.g. the hook under H).
  RSS    ru_maxrss from a separate run under GNU time (/usr/bin/time -f %M,
         Debian package `time`). A child forked from the harness starts with
         the harness's memory, and its ru_maxrss keeps that peak across exec
         (posix_spawn and vfork share the harness's memory until exec: same
         result). GNU time is a small C program, so the peak it reports is
         the command's own. Its extra process would add to wall and CPU,
         hence the separate run for those.
Commands are started with os.posix_spawn (glibc spawns without copying the
harness's page tables); on Python < 3.8, which lacks it, with fork + exec.

Goals (PASS/FAIL lines; exit status 1 on a FAIL only with --check):
  wall(A) <= 2.0 x wall(L); wall(N)/wall(L) <= wall(A)/wall(L) + 0.1 (the
  no-shell form costs what the launcher costs); wall(B)/wall(A) >= 6 and
  CPU(B)/CPU(A) >= 6;
  RSS(A) <= 1.3 x RSS(L); hook overhead, median wall H - A - D <= 10 ms
  (what running a hook adds beyond the probe's ready path and the hook).

Usage: bench.py [--runs N] [--python PATH] [--json] [--check]
Runs on Python 3.6+, standard library plus supervisor.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "fixtures"))

from fake_container import CONFIG, HOOK, LAUNCHER, PROBE, FakeContainer, no_shell_command  # noqa: E402

DEFAULT_RUNS = 21
DEFAULT_PYTHON = "/usr/bin/python3"
WARMUP_ROUNDS = 2
GNU_TIME = "/usr/bin/time"
TRIVIAL_HOOK = "exit 0"

ROWS = (
    ("A", "probe, ready, no hook (launcher, bytecode)"),
    ("A-src", "probe, ready, no hook, no bytecode (informative)"),
    ("N", "probe, ready, no hook (no shell: python3 -c, bytecode)"),
    ("B", "supervisorctl status start"),
    ("L", "python3 -S -E -c pass"),
    ("H", "probe, ready, trivial hook"),
    ("D", "the trivial hook alone"),
)
HOOK_ROWS = ("H", "D")  # run while the hook is installed


class Command(object):
    def __init__(self, argv, env, must_succeed=True):
        self.argv = argv
        self.env = env
        self.must_succeed = must_succeed  # supervisorctl's status is 3 for EXITED: not checked


class Sample(object):
    def __init__(self, wall_ms, cpu_ms):
        self.wall_ms = wall_ms
        self.cpu_ms = cpu_ms


# ---------------------------------------------------------------------------
# Command line.
def parse_args(argv):
    parser = argparse.ArgumentParser(description="Benchmark readiness_probe against a real supervisord.")
    parser.add_argument("--runs", type=positive_int, default=DEFAULT_RUNS,
                        help="measured rounds (default %d; 3 is a quick smoke run)" % DEFAULT_RUNS)
    parser.add_argument("--python", default=DEFAULT_PYTHON,
                        help="the python3 the probe, supervisord and supervisorctl run on (default %s)" % DEFAULT_PYTHON)
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of Markdown")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal fails")
    args = parser.parse_args(argv)
    interpreter = real_interpreter(args.python)
    if not interpreter:
        parser.error("--python %r: not found, or not a working python" % args.python)
    args.python = interpreter
    return args


def real_interpreter(python):
    """The interpreter behind a name, a venv link or a wrapper (a pyenv shim
    is a bash script: timing it would time bash). An absolute path, as
    posix_spawn does not search PATH."""
    found = shutil.which(python)
    if not found:
        return None
    try:
        executable = subprocess.check_output([found, "-S", "-E", "-c", "import sys; print(sys.executable)"])
    except (OSError, subprocess.CalledProcessError):
        return None
    executable = executable.decode().strip()
    if os.path.realpath(executable) == os.path.realpath(found):
        return os.path.abspath(found)  # keep the name given, e.g. a venv's bin/python
    return executable


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


# ---------------------------------------------------------------------------
# Setting up: supervisor for the chosen python, the container, the probe.
def supervisor_environment(python, workdir):
    """Environment additions that let `python` import supervisor: none when it
    already can. Otherwise a private copy of the harness's supervisor package
    (pure Python, no dependencies on 3.8+), byte-compiled by `python` as an
    installed package would be, put on PYTHONPATH. No download and no venv
    (Debian's python3 may lack ensurepip), and nothing is written outside the
    temporary directory."""
    if imports_supervisor(python, os.environ):
        return {}
    import supervisor

    site = os.path.join(workdir, "supervisor-site")
    shutil.copytree(os.path.dirname(supervisor.__file__), os.path.join(site, "supervisor"),
                    ignore=shutil.ignore_patterns("__pycache__", "tests"))
    subprocess.check_call([python, "-m", "compileall", "-q", site], stdout=subprocess.DEVNULL)
    additions = {"PYTHONPATH": site}
    if not imports_supervisor(python, environment_with(additions)):
        raise SystemExit("%s cannot import supervisor, not even from a copy of %s"
                         % (python, os.path.dirname(supervisor.__file__)))
    return additions


def imports_supervisor(python, env):
    check = [python, "-c", "import supervisor.supervisorctl"]
    return subprocess.call(check, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0


def environment_with(additions):
    env = dict(os.environ)
    env.update(additions)
    return env


@contextmanager
def process_environment(additions):
    """FakeContainer starts supervisord with the harness's environment."""
    saved = {name: os.environ.get(name) for name in additions}
    os.environ.update(additions)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def start_container(container, env_additions):
    with process_environment(env_additions):
        container.start_supervisord()
    info = container.wait_for_state("EXITED")
    if info["exitstatus"] != 0:
        raise SystemExit("start.sh exited %d, expected 0" % info["exitstatus"])


def install_probe(directory, python, precompile):
    """readiness_probe.sh and .py side by side, as an image ships them."""
    if not os.path.isdir(directory):
        os.makedirs(directory)
    for source in (LAUNCHER, PROBE):
        shutil.copy2(source, directory)
    module = os.path.join(directory, "readiness_probe.py")
    if precompile:
        subprocess.check_call([python, "-m", "py_compile", module])
    return os.path.join(directory, "readiness_probe.sh")


def build_commands(container, python, workdir, supervisor_additions):
    env = environment_with({"READINESS_PROBE_PYTHON": python})
    installed = install_probe(container.path("/usr/bin"), python, precompile=True)
    uncompiled = install_probe(os.path.join(workdir, "probe-src"), python, precompile=False)
    probe_args = ["--root", container.root]
    return {
        "A": Command([installed] + probe_args, env),
        "A-src": Command([uncompiled] + probe_args, env),
        "N": Command(no_shell_command(os.path.dirname(installed), python) + probe_args, env),
        "B": Command([python, "-m", "supervisor.supervisorctl", "-c", container.path(CONFIG), "status", "start"],
                     environment_with(supervisor_additions), must_succeed=False),
        "L": Command([python, "-S", "-E", "-c", "pass"], env),
        "H": Command([installed] + probe_args, env),
        "D": Command([container.path(HOOK)], env),
    }


def check_probe_answers(commands, container):
    """Before timing anything: the probe must take the path this benchmark is about."""
    expected = {"A": "no hook", "A-src": "no hook", "N": "no hook", "H": "hook exited 0"}
    for name, ending in sorted(expected.items()):
        set_hook(container, name in HOOK_ROWS)
        command = commands[name]
        result = subprocess.run(command.argv, env=command.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        line = result.stdout.decode("utf-8", "replace").split("\n", 1)[0]
        if result.returncode != 0 or not (line.startswith("ready:") and line.endswith(ending)):
            raise SystemExit("%s: expected a ready line ending in %r, got exit %d: %r"
                             % (name, ending, result.returncode, line))
    set_hook(container, False)


def set_hook(container, installed):
    if installed:
        container.write_hook(TRIVIAL_HOOK)
    else:
        container.remove_hook()


# ---------------------------------------------------------------------------
# Running one command.
def spawn(argv, env):
    """Start argv with stdin, stdout and stderr on /dev/null; return its pid."""
    if hasattr(os, "posix_spawn"):
        quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
        return os.posix_spawn(argv[0], argv, env, file_actions=quiet)
    pid = os.fork()
    if pid == 0:
        try:
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    return pid


def run_to_end(argv, env):
    """Spawn, wait; return (wall seconds, rusage, exit status). On Ctrl-C the
    child is ended and reaped before the interrupt goes on."""
    started = time.perf_counter()
    pid = spawn(argv, env)
    try:
        _, status, usage = os.wait4(pid, 0)
    except BaseException:
        end_child(pid)
        raise
    return time.perf_counter() - started, usage, exit_status(status)


def end_child(pid, grace=2.0):
    """Let an interrupted command finish by itself (each takes well under a
    second), so it leaves no grandchild behind; kill it if it does not."""
    end = time.monotonic() + grace
    while time.monotonic() < end:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def exit_status(status):
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def timed_run(name, command):
    wall, usage, status = run_to_end(command.argv, command.env)
    if command.must_succeed and status != 0:
        raise SystemExit("%s exited %d: %s" % (name, status, " ".join(command.argv)))
    return Sample(wall * 1000.0, (usage.ru_utime + usage.ru_stime) * 1000.0)


def peak_rss_mib(command, report_path):
    """The command's own peak RSS, as GNU time reports it (KiB)."""
    run_to_end([GNU_TIME, "-f", "%M", "-o", report_path] + command.argv, command.env)
    with open(report_path) as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    return int(lines[-1]) / 1024.0  # a first line may say "Command exited with non-zero status"


def has_gnu_time():
    try:
        output = subprocess.run([GNU_TIME, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout
    except OSError:
        return False
    return b"GNU" in output


# ---------------------------------------------------------------------------
# The interleaved rounds.
def rotated(names, by):
    by %= len(names)
    return names[by:] + names[:by]


def measure(commands, container, runs, report_path, with_rss):
    """Return {row: {"samples": [Sample], "rss": [MiB]}} over `runs` rounds."""
    results = {name: {"samples": [], "rss": []} for name, _ in ROWS}
    plain = [name for name, _ in ROWS if name not in HOOK_ROWS]
    hooked = list(HOOK_ROWS)
    for round_number in range(WARMUP_ROUNDS + runs):
        counted = round_number >= WARMUP_ROUNDS
        for names, hook in ((plain, False), (hooked, True)):
            set_hook(container, hook)
            for name in rotated(names, round_number):
                sample = timed_run(name, commands[name])
                rss = peak_rss_mib(commands[name], report_path) if with_rss else None
                if counted:
                    results[name]["samples"].append(sample)
                    results[name]["rss"].append(rss)
    set_hook(container, False)
    return results


# ---------------------------------------------------------------------------
# Summaries, ratios and goals.
def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarize(results):
    rows = {}
    for name, description in ROWS:
        samples = results[name]["samples"]
        rows[name] = {
            "description": description,
            "wall_ms": spread([s.wall_ms for s in samples]),
            "cpu_ms": spread([s.cpu_ms for s in samples]),
            "rss_mib": spread(results[name]["rss"]),
        }
    return rows


def median_of(rows, name, metric):
    return rows[name][metric]["median"] if rows[name][metric] else None


def derived_numbers(rows):
    wall = {name: median_of(rows, name, "wall_ms") for name, _ in ROWS}
    cpu = {name: median_of(rows, name, "cpu_ms") for name, _ in ROWS}
    rss = {name: median_of(rows, name, "rss_mib") for name, _ in ROWS}
    return {
        "B/A wall": wall["B"] / wall["A"],
        "B/A cpu": cpu["B"] / cpu["A"],
        "A/L wall": wall["A"] / wall["L"],
        "N/L wall": wall["N"] / wall["L"],
        "N/L - A/L wall": (wall["N"] - wall["A"]) / wall["L"],
        "RSS A/L": rss["A"] / rss["L"] if rss["A"] and rss["L"] else None,
        # What running a hook adds: H less the probe's own ready path (A)
        # and less the hook itself (D). H - D alone would include the
        # interpreter's start, already over 10 ms on its own.
        "H-overhead ms": wall["H"] - wall["A"] - wall["D"],
        # informative
        "A-src - A wall ms": wall["A-src"] - wall["A"],
        "A - L wall ms": wall["A"] - wall["L"],
        "H - D wall ms": wall["H"] - wall["D"],
    }


GOALS = (
    # (name, derived number, comparison, limit)
    ("wall(A) <= 2.0 x wall(L)", "A/L wall", "<=", 2.0),
    ("no shell as the launcher: wall(N)/wall(L) <= wall(A)/wall(L) + 0.1", "N/L - A/L wall", "<=", 0.1),
    ("wall(B) / wall(A) >= 6", "B/A wall", ">=", 6.0),
    ("CPU(B) / CPU(A) >= 6", "B/A cpu", ">=", 6.0),
    ("RSS(A) <= 1.3 x RSS(L)", "RSS A/L", "<=", 1.3),
    ("hook overhead: median(H) - median(A) - median(D) <= 10 ms", "H-overhead ms", "<=", 10.0),
)


def evaluate_goals(derived):
    goals = []
    for name, key, comparison, limit in GOALS:
        value = derived[key]
        if value is None:
            result = "SKIP"  # no GNU time: no RSS
        elif comparison == "<=":
            result = "PASS" if value <= limit else "FAIL"
        else:
            result = "PASS" if value >= limit else "FAIL"
        goals.append({"goal": name, "measure": key, "value": value, "limit": limit, "result": result})
    return goals


# ---------------------------------------------------------------------------
# Where it ran.
def machine_info(python, supervisor_additions):
    ask = "import sys, supervisor.options; print(sys.version.split()[0], supervisor.options.VERSION)"
    versions = subprocess.check_output([python, "-c", ask], env=environment_with(supervisor_additions))
    python_version, supervisor_version = versions.decode().split()
    return {
        "arch": os.uname().machine,
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu_model(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": python,
        "python_version": python_version,
        "harness_python_version": sys.version.split()[0],
        "supervisor_version": supervisor_version,
    }


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return "unknown"
    for key in ("model name", "Hardware", "Processor", "cpu model"):
        for line in lines:
            name, _, value = line.partition(":")
            if name.strip() == key and value.strip():
                return value.strip()
    return "unknown"


# ---------------------------------------------------------------------------
# Output.
def cell(stats, digits=1):
    if stats is None:
        return "n/a"
    pattern = "%.{0}f (%.{0}f-%.{0}f)".format(digits)
    return pattern % (stats["median"], stats["min"], stats["max"])


def number(value, unit=""):
    return "n/a" if value is None else "%.2f%s" % (value, unit)


def render_markdown(report):
    m = report["machine"]
    out = [
        "## readiness_probe benchmark",
        "",
        "- machine: %s, nproc %s, %s" % (m["arch"], m["nproc"], m["cpu"]),
        "- date: %s" % m["date"],
        "- python: %s (%s); supervisor %s; harness on Python %s"
        % (m["python"], m["python_version"], m["supervisor_version"], m["harness_python_version"]),
        "- %d measured rounds after %d warm-up rounds; median (min-max)" % (report["runs"], WARMUP_ROUNDS),
        "",
        "| row | command | wall ms | CPU ms (user+sys) | peak RSS MiB |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, _ in ROWS:
        row = report["rows"][name]
        out.append("| %s | %s | %s | %s | %s |" % (
            name, row["description"], cell(row["wall_ms"]), cell(row["cpu_ms"]), cell(row["rss_mib"])))
    d = report["derived"]
    out += [
        "",
        "| measure | median-based value |",
        "| --- | --- |",
        "| B/A wall | %s |" % number(d["B/A wall"]),
        "| B/A CPU | %s |" % number(d["B/A cpu"]),
        "| A/L wall | %s |" % number(d["A/L wall"]),
        "| N/L wall (no shell) | %s |" % number(d["N/L wall"]),
        "| RSS(A)/RSS(L) | %s |" % number(d["RSS A/L"]),
        "| hook overhead: H - A - D | %s |" % number(d["H-overhead ms"], " ms"),
        "| A-src - A: what precompiling saves | %s |" % number(d["A-src - A wall ms"], " ms"),
        "| A - L: the probe's work after startup | %s |" % number(d["A - L wall ms"], " ms"),
        "| H - D: the whole probe with a hook, beyond the hook | %s |" % number(d["H - D wall ms"], " ms"),
        "",
    ]
    for goal in report["goals"]:
        unit = " ms" if goal["measure"].endswith("ms") else ""
        out.append("%s  %s (measured %s)" % (goal["result"], goal["goal"], number(goal["value"], unit)))
    if not report["rss_measured"]:
        out.append("note: %s (GNU time) not found: no RSS; `apt-get install time`" % GNU_TIME)
    return "\n".join(out) + "\n"


def as_json(report):
    return json.dumps(dict(report, warmup_rounds=WARMUP_ROUNDS), indent=2, sort_keys=True) + "\n"


# ---------------------------------------------------------------------------
def run_benchmark(args):
    workdir = tempfile.mkdtemp(prefix="rp-bench-")
    container = None
    try:
        supervisor_additions = supervisor_environment(args.python, workdir)
        container = FakeContainer(python=args.python)
        start_container(container, supervisor_additions)
        commands = build_commands(container, args.python, workdir, supervisor_additions)
        check_probe_answers(commands, container)
        with_rss = has_gnu_time()
        results = measure(commands, container, args.runs, os.path.join(workdir, "rss"), with_rss)
        if os.path.exists(os.path.join(workdir, "probe-src", "__pycache__")):
            raise SystemExit("A-src wrote bytecode: the launcher no longer runs python with -B")
        rows = summarize(results)
        derived = derived_numbers(rows)
        return {
            "machine": machine_info(args.python, supervisor_additions),
            "runs": args.runs,
            "rss_measured": with_rss,
            "rows": rows,
            "derived": derived,
            "goals": evaluate_goals(derived),
        }
    finally:
        if container is not None:
            container.destroy()
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        report = run_benchmark(args)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; everything started was stopped\n")
        return 130
    sys.stdout.write(as_json(report) if args.json else render_markdown(report))
    failed = [g for g in report["goals"] if g["result"] == "FAIL"]
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
