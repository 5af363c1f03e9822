"""Nothing the hook starts outlives the probe: on Linux the probe is a child
subreaper, so what the hook leaves behind, daemonized or not, is re-parented
to it, killed and reaped before the probe exits. Counted from outside: the
live processes carrying a marker right after the probe has returned."""

import os
import shlex
import sys
import time

import pytest

import readiness_probe as rp
from fake_container import (
    WITHOUT_CTYPES, kill_processes_with, live_processes_with, marked_processes_command, run_caller, unique_sleep,
    wait_for,
)

SURVIVOR_WAIT = 5.0  # seconds: a bound on killed processes disappearing
LONG_DEADLINE = "30"  # seconds: a probe that waited for it would not be prompt
PROMPT = 20.0  # seconds: well under LONG_DEADLINE, however loaded the machine (a fork loop once took 13.8 s)
HANG_DEADLINE = 1.0  # seconds, for the hook that hangs
HANG_SLACK = 5.0  # seconds past its deadline: interpreter start on a loaded machine, the grace

DAEMONIZE = (
    "import os, sys\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    if os.fork() == 0:\n"
    "        os.execvp('sleep', ['sleep', sys.argv[1]])\n"
    "    os._exit(0)\n"
    "os.wait()\n"
)

# What the hook does, {m} standing for the marker and {wait} for waiting
# until that many of the marked processes have left its session (else the
# probe might kill them before they did); then it exits 3, but for the one
# that hangs until the deadline.
SCENARIOS = {
    "setsid-child": ("setsid sleep {m} &\n{wait}", 1),
    "double-fork-daemon": ("%s -c %s {m}\n{wait}" % (shlex.quote(sys.executable), shlex.quote(DAEMONIZE)), 1),
    "setsid-child-with-children": ("setsid sh -c 'sleep {m} & sleep {m} & sleep {m}' &\n{wait}", 3),
    "hang-with-setsid-child": ("setsid sleep {m} &\n{wait}\nsleep {m}", 1),
    "fork-loop": ("setsid sh -c 'while :; do setsid sleep {m} & done' &\n{wait}", 2),
}
HANGS = "hang-with-setsid-child"


@pytest.fixture
def marker():
    """A marker for the hook's processes; whatever carries it is killed
    after the test, so that a failing run leaves nothing either."""
    mark = unique_sleep()
    yield mark
    kill_processes_with(mark)


def write_scenario(container, name, mark, first="", last=""):
    """The hook: `first`, the scenario, `last`, exit 3. Returns the exit
    code the probe should give, and the deadline to give it."""
    action, escaping = SCENARIOS[name]
    action = action.format(m=mark, wait=marked_processes_command(mark, escaped=escaping))
    container.write_hook("%s%s\n%sexit 3" % (first, action, last))
    return (rp.EXIT_TIMEOUT, HANG_DEADLINE) if name == HANGS else (3, float(LONG_DEADLINE))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_nothing_the_hook_starts_outlives_the_probe(ready, marker, name, figure):
    stamp = ready.path("/tmp/hook-exited-at")
    if os.path.exists(stamp):
        os.unlink(stamp)
    elif not os.path.isdir(os.path.dirname(stamp)):
        os.makedirs(os.path.dirname(stamp))
    code, timeout = write_scenario(ready, name, marker, last="date +%%s.%%N > %s\n" % stamp)  # its last act
    result = ready.probe("--timeout", str(timeout))
    returned = time.time()
    survivors = live_processes_with(marker)
    assert result.code == code, result
    assert survivors == [], result
    if code == rp.EXIT_TIMEOUT:
        assert result.first_line.startswith("not ready (exit 124): hook did not finish within the deadline")
        assert result.elapsed < timeout + HANG_SLACK, result
        figure("%s: survivors; probe exit after its deadline (s)" % name,
               "%d; %.3f" % (len(survivors), result.elapsed - timeout))
    else:
        assert result.first_line == "not ready (exit 3): hook exited 3"
        lag = returned - float(open(stamp).read())  # the hook's own run (a fork loop's, say) is not the probe's
        assert lag < PROMPT, result
        figure("%s: survivors; probe exit after the hook's (s)" % name, "%d; %.3f" % (len(survivors), lag))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_nothing_the_hook_starts_outlives_a_wait_run(ready, marker, name):
    """Every run of --wait cleans up before the next: each run's hook first
    counts the marked processes still alive, and the last run's count is in
    the output."""
    code, timeout = write_scenario(ready, name, marker, first='echo "alive at start: $(%s)"\n' % marked_processes_command(marker))
    wait = 2.5 * timeout if code == rp.EXIT_TIMEOUT else 1.0
    result = ready.probe("--wait", str(wait), "--interval", "0.1", "--timeout", str(timeout))
    survivors = live_processes_with(marker)
    assert result.code == code, result
    assert survivors == [], result
    assert "\nalive at start: 0\n" in result.text, result
    assert result.elapsed < wait + timeout + HANG_SLACK, result


# -- run inside another program, or where the probe cannot be a subreaper --
def test_without_ctypes_the_probe_falls_back_to_the_group_kill_silently(ready, marker):
    escaped = unique_sleep()
    ready.write_hook("sleep %s &\nsetsid sleep %s &\n%s\nexit 0" % (
        marker, escaped, marked_processes_command(escaped, escaped=1)))
    try:
        code, output = run_caller(WITHOUT_CTYPES, "--root", ready.root, "--timeout", LONG_DEADLINE)
        assert code == 0, output
        assert output == b"ready: start exited with status 0; hook exited 0\n"
        wait_for(lambda: not live_processes_with(marker), SURVIVOR_WAIT, "the hook's group to die")
        assert live_processes_with(escaped), "no subreaper: what left the group lives on, as documented"
    finally:
        kill_processes_with(escaped)


CALLER_WITH_A_CHILD = """
import os, subprocess, sys
sys.path[0] = sys.argv.pop(1)
import readiness_probe
child = subprocess.Popen(["sleep", sys.argv.pop(1)])
code = readiness_probe.main()
alive = os.waitpid(child.pid, os.WNOHANG) == (0, 0)
child.kill()
child.wait()
print("caller's child %s" % ("untouched" if alive else "taken"))
sys.exit(code)
"""


def test_probe_called_by_a_program_with_children_leaves_them_alone(ready, marker):
    ready.write_hook("exit 0")
    code, output = run_caller(CALLER_WITH_A_CHILD, marker, "--root", ready.root, "--timeout", LONG_DEADLINE)
    assert code == 0, output
    assert output.endswith(b"caller's child untouched\n"), output


CALLER_STARTING_CHILDREN = """
import os, subprocess, sys, threading, time
sys.path[0] = sys.argv.pop(1)
import readiness_probe
started, go, marker = sys.argv.pop(1), sys.argv.pop(1), sys.argv.pop(1)
children = {}
def start_children():  # another thread of the program, while the hook runs
    end = time.monotonic() + 20
    while not os.path.exists(started) and time.monotonic() < end:
        time.sleep(0.01)
    children["sleep"] = subprocess.Popen(["sleep", marker])
    children["exit 7"] = subprocess.Popen(["sh", "-c", "exit 7"])
    time.sleep(0.2)  # "exit 7" has exited: its status waits for this program
    open(go, "w").close()
thread = threading.Thread(target=start_children)
thread.start()
code = readiness_probe.main()
thread.join()
alive = children["sleep"].poll() is None
try:
    status = "exited %d" % os.waitstatus_to_exitcode(os.waitpid(children["exit 7"].pid, 0)[1]) \
        if hasattr(os, "waitstatus_to_exitcode") else "exited %d" % (os.waitpid(children["exit 7"].pid, 0)[1] >> 8)
except ChildProcessError:
    status = "reaped by someone else"
children["sleep"].kill()
children["sleep"].wait()
print("sleep %s; exit 7 %s" % ("untouched" if alive else "killed", status))
sys.exit(code)
"""


def test_children_a_program_starts_while_the_hook_runs_are_neither_killed_nor_reaped(ready, marker, tmp_path):
    """An embedder's thread starts children while main() runs the hook: the
    probe neither kills them nor takes their exit status."""
    started, go = str(tmp_path / "started"), str(tmp_path / "go")
    ready.write_hook("touch %s\nn=0\nwhile [ ! -e %s ] && [ $n -lt 2000 ]; do sleep 0.01; n=$((n+1)); done\nexit 0"
                     % (started, go))
    code, output = run_caller(CALLER_STARTING_CHILDREN, started, go, marker, "--root", ready.root, "--timeout",
                              LONG_DEADLINE)
    assert code == 0, output
    assert output == b"ready: start exited with status 0; hook exited 0\nsleep untouched; exit 7 exited 7\n"


CALLER_WITH_A_THREAD = """
import sys, threading
sys.path[0] = sys.argv.pop(1)
import readiness_probe
done = threading.Event()
thread = threading.Thread(target=done.wait)
thread.start()
code = readiness_probe.main(as_program=True)
done.set()
thread.join()
sys.exit(code)
"""


def test_probe_with_another_thread_is_no_subreaper_even_as_a_program(ready, marker):
    """A thread could start a child while the hook runs: the probe kills the
    hook's group only, and what left it lives on, as documented."""
    write_scenario(ready, "setsid-child", marker)
    code, output = run_caller(CALLER_WITH_A_THREAD, "--root", ready.root, "--timeout", LONG_DEADLINE)
    assert (code, output) == (3, b"not ready (exit 3): hook exited 3\n")
    assert live_processes_with(marker), "a subreaper killed what left the group"


# A tracer that holds the hook in its exit: SIGKILLed, the hook stops at
# PTRACE_EVENT_EXIT and cannot be reaped until the tracer lets it go, as a
# process in uninterruptible sleep cannot. The tracer leaves the hook's
# session first, so that the group kill misses it.
TRACER = """
import ctypes, os, sys, time
os.setsid()
hook, ready, marker = int(sys.argv[1]), sys.argv[2], sys.argv[3]
PTRACE_SEIZE, PTRACE_O_TRACEEXIT = 0x4206, 0x40
if ctypes.CDLL(None).ptrace(PTRACE_SEIZE, hook, 0, PTRACE_O_TRACEEXIT) == 0:
    open(ready, "w").close()
time.sleep(60)
"""


def test_without_a_subreaper_a_hook_that_cannot_die_is_left_at_the_deadline(ready, marker, tmp_path):
    traced = str(tmp_path / "traced")
    ready.write_hook("%s -S -E -c %s $$ %s %s &\nwhile :; do sleep 0.01; done" % (
        shlex.quote(sys.executable), shlex.quote(TRACER), traced, marker))
    deadline = 3.0  # seconds: time for the tracer to start and seize the hook, on a loaded machine too
    started = time.monotonic()
    code, output = run_caller(WITHOUT_CTYPES, "--root", ready.root, "--timeout", str(deadline))
    elapsed = time.monotonic() - started
    if not os.path.exists(traced):
        pytest.skip("ptrace is not permitted here (or the tracer was too slow): the hook was not held")
    assert code == rp.EXIT_TIMEOUT, output
    assert output == (b"not ready (exit 124): hook did not finish within the deadline; its process group was killed;"
                      b" a process of the hook, killed, did not end by the deadline (stuck in the kernel?) and is left"
                      b" behind\n")
    assert elapsed < deadline + HANG_SLACK, elapsed  # not the tracer's 60 s


CALLER_ASKING_PRCTL = """
import ctypes, sys
sys.path[0] = sys.argv.pop(1)
import readiness_probe
code = readiness_probe.main(as_program=True)
flag = ctypes.c_int(-1)
ctypes.CDLL(None).prctl(37, ctypes.byref(flag), 0, 0, 0)  # PR_GET_CHILD_SUBREAPER
print("subreaper after the run: %d" % flag.value)
sys.exit(code)
"""


def test_probe_run_as_a_program_is_a_subreaper_only_while_the_hook_runs(ready, marker):
    write_scenario(ready, "setsid-child", marker)
    code, output = run_caller(CALLER_ASKING_PRCTL, "--root", ready.root, "--timeout", LONG_DEADLINE)
    assert code == 3, output
    assert live_processes_with(marker) == [], output  # it was one
    assert output.endswith(b"subreaper after the run: 0\n"), output
