"""Mutation testing of readiness_probe.py with mutmut 2 (`tox -e mutants`).

mutmut 2 writes each mutant over readiness_probe.py itself, runs the test
command, and puts the file back. That is what the tests need: they run the
probe as a separate process, through readiness_probe.sh, which imports the
file from the repository. (mutmut 3 runs a copy whose functions dispatch to
their mutants through its own code, which `python3 -S -E` cannot import.)

This file is mutmut's hook module (found on PYTHONPATH) and the test command
it runs for every mutant: `python tests/mutmut_config.py [FUNCTION]`.

- Every mutant runs the whole suite, stopping at the first failure; the test
  files about the mutated function go first, so most mutants die within
  seconds. The order decides the run time only, never a result.
- Each test gets at most TEST_TIMEOUT seconds: a mutant that hangs the probe
  fails a test instead of stalling the run.
- pytest runs in a session of its own, and what a mutant left running (a
  hung probe, its hook) is killed before the next mutant: the runner adopts
  every orphan of its tests.
- The mutants listed in EQUIVALENT cannot change behaviour; they are skipped.
- MUTANTS_SAMPLE=K/N tests only the mutants whose number falls in the
  K-th of N classes (a stable hash of their line and index): a run in 1/N
  of the time, whose score estimates the whole's. Unset: every mutant.
  MUTANTS_LINES=A-B tests only the mutants on lines A to B-1 (counted from
  0, as mutmut does): two runs in two clones share the work on two cores.
- `python tests/mutmut_config.py --fresh`, before a run: puts back the probe
  if an interrupted run left a mutant in its place, removes its bytecode and
  mutmut's cache (whose results would outlive changes to the probe).
- `python tests/mutmut_config.py --summary`, after: prints the score and the
  mutants that survived, from mutmut's cache; fails under MIN_SCORE.
"""

import ast
import os
import shutil
import signal
import sqlite3
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TESTS)
PROBE = os.path.join(REPO, "readiness_probe.py")
EQUIVALENT = os.path.join(TESTS, "mutants-equivalent.txt")
CACHE = os.path.join(REPO, ".mutmut-cache")
MIN_SCORE = 90.0  # per cent of the mutants that can change behaviour
TEST_TIMEOUT = 30  # seconds for one test; the slowest takes about 10

# The suite's files, fastest to fail first; a file not named here runs
# between the two lists.
EARLY = ["test_contract.py", "test_options.py", "test_output.py", "test_hook.py", "test_start_check.py",
         "test_asking_supervisord.py", "test_wait.py"]
LATE = ["test_launcher.py", "test_kubernetes_examples.py", "test_packaging.py", "test_properties.py",
        "test_faults.py"]

# The files that test a top-level function or class of the probe: they run
# first for its mutants.
SUPERVISOR = ["test_asking_supervisord.py", "test_properties.py"]
FINDING = ["test_finding_supervisord.py"]
HOOK = ["test_hook.py", "test_faults.py"]
START = ["test_start_check.py"]
DEPENDENCIES = ["test_dependencies.py"]
OUTPUT = ["test_output.py"]
FIRST = {
    "parse_seconds": ["test_options.py"],
    "parse_options": ["test_options.py"],
    "find_supervisor": FINDING,
    "supervisor_from_config": FINDING + SUPERVISOR,
    "read_ini": ["test_properties.py", "test_finding_supervisord.py", "test_asking_supervisord.py"],
    "section_header": ["test_properties.py", "test_finding_supervisord.py"],
    "uncomment": ["test_properties.py", "test_finding_supervisord.py"],
    "expand": ["test_properties.py", "test_finding_supervisord.py", "test_asking_supervisord.py"],
    "refuse_unfound_supervisord": ["test_finding_supervisord.py"],
    "server_address": FINDING,
    "inet_address": FINDING,
    "host_header": FINDING,
    "cannot_ask": ["test_finding_supervisord.py"],
    "supervisord_state": ["test_finding_supervisord.py"],
    "process_command": ["test_finding_supervisord.py"],
    "Supervisor": FINDING + DEPENDENCIES,
    "read_into": FINDING + DEPENDENCIES,
    "expand_here": FINDING,
    "ask_supervisord": SUPERVISOR,
    "time_left": SUPERVISOR,
    "basic_auth": SUPERVISOR,
    "describe_socket_error": SUPERVISOR,
    "decode_http_answer": SUPERVISOR,
    "parse_xmlrpc_response": ["test_properties.py", "test_asking_supervisord.py"],
    "parse_boolean": ["test_properties.py", "test_asking_supervisord.py"],
    "is_int": ["test_properties.py", "test_asking_supervisord.py"],
    "check_start": START + SUPERVISOR,
    "start_in_a_group": START,
    "process_name": START,
    "as_text": SUPERVISOR,
    "connect_when_accepted": SUPERVISOR,
    "stop_signals": HOOK + ["test_wait.py"],
    "hook_fds": HOOK + ["test_system_limits.py"],
    "exec_failure": HOOK,
    "cannot_start_hook": ["test_system_limits.py"] + HOOK,
    "elf_machine": HOOK,
    "whose_code": HOOK,
    "judge_start": START + SUPERVISOR,
    "start_log": ["test_last_words.py"],
    "log_tail": ["test_last_words.py"],
    "syslog_listens": ["test_last_words.py"],
    "program_state": ["test_program_flag.py"],
    "will_not_change": START + DEPENDENCIES,
    "default_exitcodes": START,
    "dependencies": DEPENDENCIES,
    "waited_for": DEPENDENCIES,
    "dependency_processes": DEPENDENCIES,
    "processes_named": DEPENDENCIES,
    "process_phrase": DEPENDENCIES,
    "cannot_be_started": DEPENDENCIES,
    "command_problem": DEPENDENCIES,
    "path_problem": DEPENDENCIES,
    "stat_in_root": DEPENDENCIES,
    "unique": DEPENDENCIES,
    "check_hook": HOOK,
    "refuse_unrunnable": HOOK,
    "hook_environment": HOOK,
    "run_hook": HOOK,
    "exec_hook": HOOK,
    "explain_exec_error": HOOK,
    "watch_hook": HOOK,
    "kill_group": HOOK,
    "drain": HOOK,
    "signal_name": HOOK,
    "Interrupted": ["test_faults.py", "test_wait.py"],
    "OutputTail": OUTPUT + ["test_faults.py"],
    "first_line": OUTPUT,
    "one_line": OUTPUT,
    "printable": OUTPUT,
    "hook_output_text": OUTPUT,
    "render_text": OUTPUT,
    "render_json": OUTPUT,
    "write": OUTPUT,
    "wait_until_ready": ["test_wait.py"],
    "wait_runs": ["test_wait.py"],
    "run_unless_stopped": ["test_wait.py"],
    "stop_waiting": ["test_wait.py"],
    "Stopped": ["test_wait.py"],
    "ChangeLines": ["test_wait.py"],
    "become_subreaper": ["test_subreaper.py"],
    "alone": ["test_subreaper.py"],
    "kill_and_reap_all": ["test_subreaper.py"],
    "kill_children": ["test_subreaper.py"],
    "reap_hook": ["test_subreaper.py"],
    "help_text": ["test_options.py"],
    "main": ["test_options.py", "test_contract.py"],
}


# -- mutmut's hook ------------------------------------------------------------
def pre_mutation(context):
    """Called by mutmut before it writes a mutant: skip it, or choose the command."""
    if not in_sample(context.mutation_id.line_number, context.mutation_id.index):
        context.skip = True
        return
    function = function_at(context.source, context.current_line_index + 1)
    if (function, mutated_line(context)) in equivalent_mutants():
        context.skip = True
        return
    context.config.test_command = "python %s %s" % (os.path.relpath(__file__, REPO), function)


def function_at(source, line):
    """The dotted name of the innermost function or class around `line`, or
    "<module>"."""
    name = "<module>"
    nodes = [(ast.parse(source), "")]
    while nodes:
        node, prefix = nodes.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.ClassDef)) and child.lineno <= line <= child.end_lineno:
                name = prefix + child.name
                nodes.append((child, name + "."))
            elif not isinstance(child, (ast.FunctionDef, ast.ClassDef)):
                nodes.append((child, prefix))
    return name


def sample():
    """(K, N) from MUTANTS_SAMPLE=K/N, or None."""
    text = os.environ.get("MUTANTS_SAMPLE")
    if not text:
        return None
    k, _, n = text.partition("/")
    return int(k), int(n)


def in_sample(line_number, index):
    import zlib

    chosen = sample()
    lines = os.environ.get("MUTANTS_LINES")
    if lines:
        first, _, end = lines.partition("-")
        if not int(first) <= line_number < int(end):
            return False
    return chosen is None or zlib.crc32(b"%d:%d" % (line_number, index)) % chosen[1] == chosen[0]


def mutated_line(context):
    """The mutant's line, stripped, without its comment."""
    from mutmut import Context, mutate

    fresh = Context(source=context.source, mutation_id=context.mutation_id, filename=context.filename,
                    dict_synonyms=context.dict_synonyms, config=context.config)
    line = mutate(fresh)[0].split("\n")[context.mutation_id.line_number]
    return line.split("  #", 1)[0].strip()


def equivalent_mutants():
    """{(function, mutated line): reason} from mutants-equivalent.txt: a line
    `function: mutated line`, then the reason on an indented line."""
    found = {}
    key = None
    with open(EQUIVALENT) as f:
        for number, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            if line[0] in " \t" and key and key not in found:
                found[key] = line.strip()
            elif line[0] not in " \t" and ": " in line:
                function, _, code = line.partition(": ")
                key = (function, code.strip())
            else:
                raise SystemExit("%s:%d: expected `function: mutated line`, then one indented reason" % (EQUIVALENT, number))
    return found


# -- the test command ---------------------------------------------------------
def test_files(function):
    present = sorted(name for name in os.listdir(TESTS) if name.startswith("test_") and name.endswith(".py"))
    order = [n for n in EARLY if n in present] + [n for n in present if n not in EARLY + LATE] + [n for n in LATE if n in present]
    first = [n for n in FIRST.get(function.split(".")[0], []) if n in present]
    return [os.path.join("tests", n) for n in first + [n for n in order if n not in first]]


def run_tests(function):
    """Run pytest in a session of its own: a mutant that signals its own
    process group (a pid of 0) ends that run, not mutmut's."""
    import subprocess

    become_subreaper()
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--hypothesis-seed=0",
               "--timeout=%d" % TEST_TIMEOUT] + test_files(function)
    try:
        code = subprocess.Popen(command, start_new_session=True, preexec_fn=die_with_parent).wait()
    finally:
        kill_leftovers()
    # mutmut counts exit status 1 alone as killed; a mutant that breaks the
    # import of a test module gives 2 ("errors during collection"), and one
    # that kills pytest a signal.
    return 1 if code == 2 or code < 0 else code


def die_with_parent():
    """In pytest's process: SIGKILL when the runner dies (mutmut's timeout)."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def become_subreaper():
    """Orphans of the tests (a hung probe, its hook) become this process's
    children instead of init's, for kill_leftovers()."""
    import ctypes

    PR_SET_CHILD_SUBREAPER = 36
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def kill_leftovers():
    me = os.getpid()
    while True:
        children = [pid for pid, parent in processes() if parent == me]
        if not children:
            return
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def processes():
    """(pid, parent pid) of every process."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry, "rb") as f:
                    yield int(entry), int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue


# -- before and after a run ---------------------------------------------------
def fresh():
    backup = PROBE + ".bak"  # mutmut's copy of the original while a mutant is in place
    if os.path.exists(backup):
        os.replace(backup, PROBE)
        os.chmod(PROBE, 0o755)
        print("put back readiness_probe.py from the interrupted run's backup")
    shutil.rmtree(os.path.join(REPO, "__pycache__"), ignore_errors=True)
    if os.path.exists(CACHE):
        os.remove(CACHE)


def summary():
    """Score and survivors from mutmut's cache, and equivalent mutants listed
    that no longer exist; exit 1 under MIN_SCORE or with such a stale entry."""
    from mutmut import Context, RelativeMutationID

    with open(PROBE) as f:
        source = f.read()
    db = sqlite3.connect(CACHE)
    rows = db.execute("SELECT m.id, m.status, m.\"index\", l.line, l.line_number FROM Mutant m JOIN Line l ON m.line = l.id"
                      " JOIN SourceFile s ON l.sourcefile = s.id WHERE s.filename = 'readiness_probe.py'"
                      " ORDER BY l.line_number, m.\"index\"").fetchall()
    counts = {}
    survivors = []
    used = set()
    outside = 0
    for pk, status, index, line, number in rows:
        if not in_sample(number, index):
            outside += 1
            continue
        counts[status] = counts.get(status, 0) + 1
        if status in ("bad_survived", "bad_timeout", "skipped"):
            context = Context(source=source, filename="readiness_probe.py", dict_synonyms=[],
                              mutation_id=RelativeMutationID(line, index, number))
            context.current_line_index = number
            key = (function_at(source, number + 1), mutated_line(context))
            if status == "skipped":
                used.add(key)
            else:
                survivors.append("  %d (line %d, %s): %s -> %s" % (pk, number + 1, status[4:], key[0], key[1]))
    killed = counts.get("ok_killed", 0) + counts.get("ok_suspicious", 0)
    judged = killed + len(survivors)
    score = 100.0 * killed / judged if judged else 0.0
    stale = sorted(set(equivalent_mutants()) - used) if not sample() else []  # a sample skips most of them
    if sample():
        print("sample %d/%d: %d of the %d mutants" % (sample() + (len(rows) - outside, len(rows))))
    print("mutants: %d; equivalent, skipped: %d; killed: %d of %d; untested: %d" % (
        len(rows) - outside, counts.get("skipped", 0), killed, judged, counts.get("untested", 0)))
    print("mutation score: %.1f %% (at least %.0f %% wanted)" % (score, MIN_SCORE))
    if survivors:
        print("survived (`mutmut show ID` shows the diff):\n" + "\n".join(survivors))
    if stale:
        print("listed in %s, but no such mutant was skipped:\n%s" % (
            os.path.relpath(EQUIVALENT), "\n".join("  %s: %s" % key for key in stale)))
    return 0 if score >= MIN_SCORE and not stale and not counts.get("untested") else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--fresh"]:
        sys.exit(fresh())
    if sys.argv[1:] == ["--summary"]:
        sys.exit(summary())
    sys.exit(run_tests(sys.argv[1] if len(sys.argv) > 1 else "<module>"))
