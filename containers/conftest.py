"""The real-container tier: Debian roots run with runc, probed with `runc exec`.

Each container is an overlay of a cached Debian root (debian_root.py) with
the worktree's probe installed in it, run by runc with supervisord as PID 1
(`supervisord -n -c /etc/supervisor/supervisord.conf`), and probed only with
`runc exec ID /usr/bin/readiness_probe.sh ARGS` (stdout and stderr as one
stream, and the exit code), the path kubelet's exec probe takes through
containerd's ExecSync.

Everything the tier makes lives under RUN (overlays, bundles) and in its
own runc state directory RUNC_ROOT: every container is deleted and every
mount unmounted when its fixture ends, pass or fail, and a session starts by
removing what an interrupted earlier run left there.

Where runc cannot run containers here (not root, no runc or debootstrap, no
namespaces, no archive to build a root from), the test module skips with one
line saying why; with READINESS_PROBE_REAL_CONTAINERS=required (as .ci/run
sets it) that is a failure instead.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import debian_root  # noqa: E402

# runc, debootstrap, chroot and mount are in the sbin directories, which a
# user's PATH may leave out.
os.environ["PATH"] = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])

RUN = os.environ.get("READINESS_PROBE_RUN_DIR", "/var/cache/readiness-probe/run")
RUNC_ROOT = "/run/readiness-probe-runc"
PREFIX = "rp-"
REQUIRED = os.environ.get("READINESS_PROBE_REAL_CONTAINERS") == "required"

# containerd's default capabilities (what a pod's container gets without a
# securityContext): rsyslogd needs CAP_CHOWN for its log files.
CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]

FIGURES = []
VERDICTS = {}  # release -> [(case, code, first line)]


@pytest.fixture
def figure():
    """Record a measured figure; the run's summary prints them all."""

    def record(name, value):
        FIGURES.append("%s: %s" % (name, value))

    return record


@pytest.fixture
def verdict_table():
    """Record (release, case, code, first line) for the summary's table."""

    def record(release, case, code, output):
        first = output.splitlines()[0] if output else ""
        VERDICTS.setdefault(release, []).append((case, code, first))

    return record


def pytest_terminal_summary(terminalreporter):
    if VERDICTS:
        terminalreporter.section("verdicts: case -> exit code -> first line")
        for release in sorted(VERDICTS):
            terminalreporter.write_line("%s:" % release)
            terminalreporter.write_line("| case | code | first line |")
            terminalreporter.write_line("|---|---|---|")
            for case, code, first in VERDICTS[release]:
                terminalreporter.write_line("| %s | %s | `%s` |" % (case, code, first))
    if FIGURES:
        terminalreporter.section("figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


def runc(*args, **kwargs):
    return subprocess.run(["runc", "--root", RUNC_ROOT] + list(args), **kwargs)


def mounted_under(directory):
    """Mount points under directory, deepest first."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].replace("\\040", " ")
            if point == directory or point.startswith(directory.rstrip("/") + "/"):
                found.append(point)
    return sorted(found, key=len, reverse=True)


def remove_leftovers():
    """Delete the containers and mounts an interrupted earlier run of the tier left."""
    if os.path.isdir(RUNC_ROOT):
        listed = runc("list", "-q", stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True)
        for name in listed.stdout.split():
            if name.startswith(PREFIX):
                runc("delete", "--force", name, stderr=subprocess.DEVNULL)
    if os.path.isdir(RUN):
        for point in mounted_under(RUN):
            subprocess.run(["umount", "-l", point], stderr=subprocess.DEVNULL)
        shutil.rmtree(RUN, ignore_errors=True)


def why_no_containers():
    """None when runc can run containers here, else one line saying why not."""
    if os.geteuid() != 0:
        return "not root: runc needs root to run the Debian containers"
    for tool in ("runc", "debootstrap", "chroot", "mount"):
        if shutil.which(tool) is None:
            return "no %s on PATH (apt-get install runc debootstrap)" % tool
    try:
        subprocess.run(["unshare", "--mount", "--pid", "--fork", "--net", "--uts", "--ipc", "true"],
                       check=True, stderr=subprocess.PIPE)
    except (OSError, subprocess.CalledProcessError) as error:
        return "no namespaces for containers: %s" % (getattr(error, "stderr", b"") or error)
    return None


_roots = {}


def prepare_session():
    """None when the tier can run: runc can run containers here, the
    leftovers of an interrupted earlier run are gone and the roots of every
    release are built (or found in the cache); else one line saying why not."""
    why = why_no_containers()
    if why is not None:
        return why
    remove_leftovers()
    for release in debian_root.RELEASES:
        log = tempfile.TemporaryFile(mode="w+")
        started = time.monotonic()
        cached = os.path.isdir(debian_root.root_path(release))
        try:
            _roots[release] = debian_root.ensure_root(release, log)
        except (OSError, subprocess.CalledProcessError, RuntimeError) as error:
            log.seek(0)
            lines = [line for line in log.read().splitlines() if line.strip()]
            return "cannot build the %s root (%s)%s" % (release, error, ": " + lines[-1] if lines else "")
        finally:
            log.close()
        FIGURES.append("%s root: %s" % (release, "cached, %s" % _roots[release] if cached else
                                         "built in %.0f s, %s" % (time.monotonic() - started, _roots[release])))
    return None


def skip_unless_containers():
    """Skip the calling test module with one line (fail it, when required) where the tier cannot run."""
    why = prepare_session()
    if why is None:
        return
    if REQUIRED:
        pytest.fail("real containers required (READINESS_PROBE_REAL_CONTAINERS=required), but: " + why,
                    pytrace=False)
    pytest.skip(why, allow_module_level=True)


def cached_root(release):
    return _roots[release]


class Container:
    """One runc container on an overlay of a cached root, supervisord as PID 1."""

    def __init__(self, release, case):
        self.release = release
        self.name = "%s%s-%s-%d" % (PREFIX, release, case, os.getpid())
        self.lower = cached_root(release)
        self.dir = os.path.join(RUN, self.name)
        self.rootfs = os.path.join(self.dir, "rootfs")
        self.started = None

    # -- before boot: the image -------------------------------------------
    def mount(self):
        for sub in ("upper", "work", "rootfs"):
            os.makedirs(os.path.join(self.dir, sub))
        subprocess.run(
            ["mount", "-t", "overlay", "overlay", "-o",
             "lowerdir=%s,upperdir=%s/upper,workdir=%s/work" % (self.lower, self.dir, self.dir), self.rootfs],
            check=True,
        )
        debian_root.install_probe(self.rootfs)

    def path(self, inside):
        return os.path.join(self.rootfs, inside.lstrip("/"))

    def write(self, inside, text, mode=0o644):
        with open(self.path(inside), "w") as f:
            f.write(text)
        os.chmod(self.path(inside), mode)

    def remove(self, inside):
        os.unlink(self.path(inside))

    def edit_conf(self, old, new):
        conf = "/etc/supervisor/conf.d/supervisord.conf"
        with open(self.path(conf)) as f:
            text = f.read()
        assert old in text, old
        self.write(conf, text.replace(old, new, 1))

    # -- the container --------------------------------------------------------
    def spec(self):
        subprocess.run(["runc", "spec", "--bundle", self.dir], check=True)
        with open(os.path.join(self.dir, "config.json")) as f:
            config = json.load(f)
        config["process"]["terminal"] = False
        config["process"]["args"] = ["supervisord", "-n", "-c", "/etc/supervisor/supervisord.conf"]
        for kind in ("bounding", "effective", "permitted", "inheritable"):
            config["process"]["capabilities"][kind] = list(CAPS)
        config["process"]["capabilities"].pop("ambient", None)
        config["root"] = {"path": "rootfs", "readonly": False}
        config["hostname"] = self.release
        with open(os.path.join(self.dir, "config.json"), "w") as f:
            json.dump(config, f, indent=1)

    def boot(self, create_only=False):
        self.spec()
        with open(os.path.join(self.dir, "console.log"), "w") as log:
            if create_only:
                runc("create", "--bundle", self.dir, self.name, stdin=subprocess.DEVNULL, stdout=log,
                     stderr=subprocess.STDOUT, check=True)
            else:
                runc("run", "-d", "--bundle", self.dir, self.name, stdin=subprocess.DEVNULL, stdout=log,
                     stderr=subprocess.STDOUT, check=True)
        self.started = time.monotonic()

    def start(self):
        runc("start", self.name, check=True)
        self.started = time.monotonic()

    def destroy(self):
        runc("delete", "--force", self.name, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for point in mounted_under(self.dir):
            subprocess.run(["umount", point], check=False)
        if not mounted_under(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)

    def console(self):
        with open(os.path.join(self.dir, "console.log")) as f:
            return f.read()

    # -- inside it -------------------------------------------------------------
    def exec(self, *argv, timeout=60, env=()):
        """`runc exec` argv in the container: (exit code, stdout+stderr, wall seconds).

        On timeout runc exec gets SIGTERM, which it forwards to the process,
        and the result's code is None.
        """
        began = time.monotonic()
        options = [word for variable in env for word in ("--env", variable)]
        proc = subprocess.Popen(["runc", "--root", RUNC_ROOT, "exec"] + options + [self.name] + list(argv),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            out, _ = proc.communicate(timeout=timeout)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate()
            code = None
        return code, out.decode("utf-8", "replace"), time.monotonic() - began

    def probe(self, *args, **kwargs):
        return self.exec("/usr/bin/readiness_probe.sh", *args, **kwargs)

    def sh(self, script):
        code, out, _ = self.exec("/bin/sh", "-c", script)
        return code, out

    def wait_for(self, predicate, what, timeout=30.0):
        """Probe until predicate(code, output) holds; the (code, output) that did."""
        deadline = time.monotonic() + timeout
        while True:
            code, out, _ = self.probe()
            if predicate(code, out):
                return code, out
            if time.monotonic() > deadline:
                raise AssertionError("%s: not within %s s; last (%s) %s\n%s" % (
                    what, timeout, code, out, self.console()))
            time.sleep(0.05)

    def wait_state(self, program, state, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            code, out = self.sh("supervisorctl status %s" % program)
            if state in out.split():
                return out
            if time.monotonic() > deadline:
                raise AssertionError("%s not %s within %s s: %s" % (program, state, timeout, out))
            time.sleep(0.1)


def factory(made):
    def make(release, case, prepare=None, boot=True):
        """A container of release on a fresh overlay; prepare(container) edits
        its root before boot."""
        container = Container(release, case)
        made.append(container)
        container.mount()
        if prepare is not None:
            prepare(container)
        if boot:
            container.boot()
        return container

    return make


@pytest.fixture
def container_factory():
    """make(release, case, prepare=None, boot=True): containers destroyed when the test ends."""
    made = []
    yield factory(made)
    for container in made:
        container.destroy()


@pytest.fixture(scope="module")
def shared_container_factory(release):
    """The same, for containers shared by the tests of one release (destroyed after them)."""
    made = []
    yield factory(made)
    for container in made:
        container.destroy()


def pytest_sessionfinish(session):
    # Containers of fixtures that never finished (an interrupted run) too.
    if _roots:
        remove_leftovers()
