"""Step 2, the hook: its exit code becomes the probe's (and codes the probe
also gives are said to be the hook's), a signal that kills it is 128+N; it
runs in its own process group under the deadline, with the probe's
environment, the root and its time left, default signal dispositions and
stdin from /dev/null, and leaves nothing behind, also when the probe is
signalled; a hook that cannot be executed (a FIFO, DOS line endings, a
binary for another machine) is 126 and says why."""

import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time

import pytest

import readiness_probe as rp
from fake_container import LAUNCHER, live_processes_with, signal_set, unique_sleep, wait_for
from fake_supervisord import MisbehavingServer, xmlrpc_answer

SURVIVOR_WAIT = 5.0  # seconds: a bound on killed processes disappearing


def test_hook_exit_zero_is_ready(ready):
    ready.write_hook("exit 0")
    result = ready.probe()
    assert result.code == rp.EXIT_READY, result
    assert result.first_line == "ready: start exited with status 0; hook exited 0"


def test_hook_exit_one_is_passed_through(ready):
    ready.write_hook("raise SystemExit('boom')", interpreter="/usr/bin/env python3")
    result = ready.probe("--timeout", "10")
    assert result.code == rp.EXIT_HOOK_CRASHED == 1, result
    assert result.first_line == "not ready (exit 1): hook exited 1"
    assert "boom" in result.text


@pytest.mark.parametrize("code", [3, 42, 63])
def test_hook_own_codes_are_passed_through(ready, code):
    ready.write_hook("echo 'bgp: 2 of 4 sessions down'; exit %d" % code)
    result = ready.probe()
    assert code in rp.HOOK_CODES
    assert result.code == code, result
    assert result.first_line == "not ready (exit %d): hook exited %d" % (code, code)
    assert result.text.split("\n")[1] == "bgp: 2 of 4 sessions down"


def test_hook_codes_outside_its_range_pass_through_unchanged(ready):
    ready.write_hook("exit 100")
    assert ready.probe().code == 100


@pytest.mark.parametrize("signal_name,code", [("KILL", 137), ("SEGV", 139), ("TERM", 143)])
def test_hook_killed_by_a_signal_is_128_plus_n(ready, signal_name, code):
    ready.write_hook("kill -%s $$" % signal_name)
    result = ready.probe()
    assert result.code == code == rp.EXIT_SIGNAL_BASE + (code - 128), result
    assert result.first_line == "not ready (exit %d): hook was killed by SIG%s" % (code, signal_name)


def test_hook_gets_the_root_in_its_environment(ready):
    ready.write_hook('echo "root=$READINESS_PROBE_ROOT"; exit 3')
    result = ready.probe()
    assert result.code == 3
    assert "root=%s" % ready.root in result.text


def test_hook_gets_the_time_it_has_left(ready):
    ready.write_hook('echo "left=$READINESS_PROBE_TIME_LEFT"; exit 3')
    result = ready.probe("--timeout", "5", env=dict(os.environ, READINESS_PROBE_TIME_LEFT="999"))
    left = result.text.split("left=")[1].split("\n")[0]
    assert re.match(r"\d+\.\d{3}\Z", left), left  # a decimal such as 0.764
    assert 4.0 < float(left) <= 5.0, result


def test_timeout_is_one_deadline_for_supervisord_and_the_hook(container):
    """supervisord took 1 s of the 3 s: the hook has at most 2 s left."""
    container.write_hook('echo "left=$READINESS_PROBE_TIME_LEFT"; exit 3')
    exited_zero = xmlrpc_answer({"name": "start", "state": 100, "statename": "EXITED", "exitstatus": 0, "spawnerr": ""})
    with MisbehavingServer(container.path("/var/run/fake.sock"), exited_zero, delay=1.0):
        result = container.probe("--socket", "/var/run/fake.sock", "--timeout", "3")
    assert result.code == 3, result
    assert 0 < float(result.text.split("left=")[1].split()[0]) <= 2.0, result


def test_hook_gets_the_probes_own_environment(ready):
    ready.write_hook('echo "feature=$FEATURE_SETTING"; exit 3')
    result = ready.probe(env=dict(os.environ, FEATURE_SETTING="from the pod spec"))
    assert result.text.split("\n")[1] == "feature=from the pod spec", result


def test_hook_gets_the_root_in_effect_not_the_inherited_one(ready, tmp_path):
    ready.write_hook('echo "root=$READINESS_PROBE_ROOT"; exit 3')
    result = ready.probe(env=dict(os.environ, READINESS_PROBE_ROOT=str(tmp_path)))  # --root wins
    assert result.text.split("\n")[1] == "root=%s" % ready.root, result


def test_hook_leads_its_own_process_group(ready):
    ready.write_hook('set -- $(cat /proc/$$/stat); echo "pid=$1 group=$5"; exit 3')
    result = ready.probe()
    pid, group = [field.split("=")[1] for field in result.text.split("\n")[1].split()]
    assert pid == group, result


def test_hook_can_be_a_binary(ready):
    shutil.copy("/bin/false", ready.path(rp.HOOK_PATH))
    result = ready.probe()
    assert result.code == 1, result
    assert result.text == "not ready (exit 1): hook exited 1\n"


def test_hook_that_hangs_is_killed_at_the_deadline(ready):
    marker = unique_sleep()
    ready.write_hook("sleep %s & sleep %s; exit 0" % (marker, marker))
    result = ready.probe("--timeout", "0.5")
    assert result.code == rp.EXIT_TIMEOUT == 124, result
    assert result.text == "not ready (exit 124): hook did not finish within the deadline; its process group was killed\n"
    wait_for(lambda: not live_processes_with(marker), SURVIVOR_WAIT, "the hook's processes to die")


def test_hook_exit_does_not_wait_for_children_holding_its_output(ready):
    marker = unique_sleep()
    ready.write_hook("sleep %s & echo started; exit 0" % marker)
    result = ready.probe("--timeout", "30")
    assert result.code == 0, result  # waiting for the pipe would have hit the 30 s deadline
    assert result.elapsed < 10, result
    wait_for(lambda: not live_processes_with(marker), SURVIVOR_WAIT, "the hook's child to die")


def test_hook_output_is_kept_when_it_fails(ready):
    ready.write_hook("echo to-stdout; echo to-stderr >&2; exit 3")
    result = ready.probe()
    assert result.text.split("\n")[1:3] == ["to-stdout", "to-stderr"]


def test_hook_stdin_is_dev_null(ready):
    ready.write_hook("cat; echo read-done; exit 3")
    stdin_r, stdin_w = os.pipe()  # the probe's own stdin stays open: a hook reading it would hang
    try:
        result = ready.probe("--timeout", "5", stdin=stdin_r)
    finally:
        os.close(stdin_r)
        os.close(stdin_w)
    assert result.code == 3, result
    assert "read-done" in result.text


@pytest.mark.parametrize(
    "setup,why",
    [
        (lambda c: c.write_hook("exit 0", mode=0o644), "it is not executable"),
        (lambda c: os.makedirs(c.path(rp.HOOK_PATH)), "it is a directory"),
        (lambda c: os.symlink("/nonexistent/hook", c.path(rp.HOOK_PATH)), "it is a dangling symlink"),
        (lambda c: c.write_hook("exit 0", interpreter="/nonexistent"), "its interpreter does not exist (#!/nonexistent)"),
        (lambda c: c.write(rp.HOOK_PATH, "", 0o755), "not a binary and no #! line"),
    ],
    ids=["not-executable", "directory", "dangling-symlink", "bad-interpreter", "empty-file"],
)
def test_hook_that_cannot_be_executed_is_126(ready, setup, why):
    setup(ready)
    result = ready.probe()
    assert result.code == rp.EXIT_HOOK_NOT_EXECUTABLE == 126, result
    assert result.first_line.startswith("not ready (exit 126): hook %s cannot be executed: " % ready.path(rp.HOOK_PATH))
    assert why in result.first_line


def test_example_sh_hook_through_the_probe(ready):
    ready.install_example_hook("feature_ready.sh")
    result = ready.probe()
    assert result.code == 3, result
    assert "featured: no ready flag" in result.text
    ready.write("/var/run/featured/ready", "bgp sessions flapping\n")
    assert ready.probe().code == 4
    ready.write("/var/run/featured/ready", "ok\n")
    assert ready.probe().code == 0


def test_example_python_hook_through_the_probe(ready):
    ready.install_example_hook("feature_ready.py")
    result = ready.probe("--timeout", "10")
    assert result.code == 3, result
    ready.write("/var/run/featured/sessions.json", '{"10.0.0.1": "established", "10.0.0.2": "active"}')
    result = ready.probe("--timeout", "10")
    assert result.code == 4, result
    assert "1 of 2 sessions not established: 10.0.0.2" in result.text
    ready.write("/var/run/featured/sessions.json", "{not json")
    assert ready.probe("--timeout", "10").code == 5
    ready.write("/var/run/featured/sessions.json", '{"10.0.0.1": "established"}')
    assert ready.probe("--timeout", "10").code == 0


SIGCHLD_BLOCKED = """
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGCHLD])  # kept across exec
os.execv(sys.argv[1], sys.argv[1:])
"""


def test_hook_exit_is_seen_with_sigchld_blocked_in_the_inherited_mask(ready):
    """What started the probe blocked SIGCHLD: the probe still sees the hook
    exit while a child of the hook holds its output, and the hook runs with
    the mask the probe was given."""
    marker = unique_sleep()
    ready.write_hook("import subprocess, sys\nsubprocess.Popen(['sleep', %r])\n"  # sh would reset its mask
                     "print(open('/proc/self/status').read(), flush=True)\nsys.exit(3)" % marker,
                     interpreter=sys.executable)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", SIGCHLD_BLOCKED, LAUNCHER, "--root", ready.root, "--timeout", "8"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=60,
                          env=dict(os.environ, READINESS_PROBE_PYTHON=sys.executable))
    elapsed = time.monotonic() - started
    text = proc.stdout.decode()
    assert proc.returncode == 3, text
    assert elapsed < 6, elapsed  # the hook's exit seen, not the 8 s deadline
    assert text.split("\n")[0] == "not ready (exit 3): hook exited 3"
    assert signal.SIGCHLD in signal_set(text, "SigBlk"), text
    wait_for(lambda: not live_processes_with(marker), SURVIVOR_WAIT, "the hook's child to die")


def test_hook_starts_with_default_signal_dispositions(ready):
    """Python ignores SIGPIPE and SIGXFSZ; a hook that inherited that would
    see `yes | head -n1` print "Broken pipe" (yes gets EPIPE, not killed)."""
    ready.write_hook("yes | head -n1; cat /proc/$$/status; exit 3")
    result = ready.probe("--timeout", "10")
    assert result.code == 3, result
    assert result.text.split("\n")[1] == "y", result
    assert "Broken pipe" not in result.text
    assert not signal_set(result.text, "SigIgn") & {signal.SIGPIPE, signal.SIGXFSZ}, result


# -- signals that end the probe while the hook runs ----------------------------------------
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


# -- hooks that fail as something else would -----------------------------------------------
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
