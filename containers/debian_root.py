"""Debian container roots laid out as SONiC images are, built once and cached.

A root is `debootstrap --variant=minbase` of a Debian release from the
archive this machine's apt is configured with, plus Debian's own
`supervisor` (its stock /etc/supervisor/supervisord.conf untouched),
`rsyslog` and `procps`, the `supervisord-dependent-startup` listener from
PyPI (its `toposort` from Debian), and `/etc/supervisor/conf.d/` with the
programs of a SONiC container: rsyslogd, then start once rsyslogd runs, then
a feature daemon once start exited. The probe is not in the cached root: each
container gets it fresh from the worktree (see `install_probe`), so that the
tier always tests the current probe.

Roots live in CACHE/<release>-<key>, where key hashes the recipe (the
packages, the listener's pin, the files and the build steps): a changed recipe builds a new root, an
unchanged one is reused. A build goes into a temporary directory that is
renamed into place only when complete, so an interrupted build leaves no
half root behind to be reused (only a temporary directory, which the next
build of that release removes).

`python3 containers/debian_root.py RELEASE...` builds (or finds) roots and
prints their paths.
"""

import configparser
import glob
import hashlib
import inspect
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
CACHE = os.environ.get("READINESS_PROBE_ROOT_CACHE", "/var/cache/readiness-probe/roots")
RELEASES = ("bookworm", "bullseye", "trixie")

# Debian's supervisor is 4.2.2 on bullseye, 4.2.5 on bookworm and trixie.
PACKAGES = ("supervisor", "rsyslog", "procps", "python3-toposort")


def listener_pin():
    """The listener's pin, written once: tox.ini's [pins] dependent_startup."""
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(os.path.join(TOP, "tox.ini"))
    return tox.get("pins", "dependent_startup")


LISTENER = listener_pin()

CONF_D = """\
; The container's own programs, laid out as in a SONiC container: the
; supervisord-dependent-startup event listener starts them in order.

[supervisord]
logfile_maxbytes=1MB
logfile_backups=2
nodaemon=true

[eventlistener:dependent-startup]
command=python3 -m supervisord_dependent_startup
autostart=true
autorestart=unexpected
startretries=0
exitcodes=0,3
events=PROCESS_STATE
buffer_size=1024

[program:rsyslogd]
command=/usr/sbin/rsyslogd -n -iNONE
priority=1
autostart=false
autorestart=unexpected
startsecs=0
stdout_logfile=syslog
stderr_logfile=syslog
dependent_startup=true

[program:start]
command=/usr/bin/start.sh
priority=2
autostart=false
autorestart=false
startsecs=0
stdout_logfile=syslog
stderr_logfile=syslog
dependent_startup=true
dependent_startup_wait_for=rsyslogd:running

[program:featured]
command=/usr/bin/featured.sh
priority=3
autostart=false
autorestart=false
stdout_logfile=syslog
stderr_logfile=syslog
dependent_startup=true
dependent_startup_wait_for=start:exited
"""

START_SH = """\
#!/bin/sh
# The container's initialisation, run once by supervisord as program "start".
echo "start.sh: container initialised"
exit 0
"""

FEATURED_SH = """\
#!/bin/sh
# The container's long-running service: does nothing, forever.
exec sleep 2147483647
"""


def debian_mirror():
    """The Debian archive this machine's apt uses (never a name written here)."""
    for path in ["/etc/apt/sources.list.d/debian.sources"] + sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for stanza in f.read().split("\n\n"):
                fields = {}
                for line in stanza.splitlines():
                    if ":" in line and not line.startswith((" ", "#")):
                        name, value = line.split(":", 1)
                        fields[name.strip().lower()] = value.split()
                if "deb" in fields.get("types", []):
                    for uri in fields.get("uris", []):
                        if not uri.rstrip("/").endswith("-security"):
                            return uri
    for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    words = line.split()
                    if words[:1] == ["deb"]:
                        uri = next(w for w in words[1:] if not w.startswith("["))
                        if not uri.rstrip("/").endswith("-security"):
                            return uri
    raise RuntimeError("no Debian archive in this machine's apt configuration")


def listener_wheel(directory):
    """Download supervisord-dependent-startup's wheel from PyPI into directory."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:", "-d", directory, LISTENER],
        check=True,
    )
    (wheel,) = glob.glob(os.path.join(directory, "*.whl"))
    return wheel


def recipe_key():
    """A hash of what makes a root: the packages, the listener's pin, the files, the build steps."""
    recipe = repr((PACKAGES, LISTENER, CONF_D, START_SH, FEATURED_SH, inspect.getsource(build)))
    return hashlib.sha256(recipe.encode()).hexdigest()[:12]


def root_path(release):
    return os.path.join(CACHE, "%s-%s" % (release, recipe_key()))


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def build(release, target, log):
    mirror = debian_mirror()
    subprocess.run(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=" + ",".join(PACKAGES),
            release,
            target,
            mirror,
        ],
        check=True,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # The listener, as pip would install it (it is pure Python); only the
    # package, into the image's own dist-packages.
    wheels = tempfile.mkdtemp(prefix="readiness-probe-wheel.")
    try:
        with zipfile.ZipFile(listener_wheel(wheels)) as wheel:
            wheel.extractall(os.path.join(target, "usr/lib/python3/dist-packages"))
    finally:
        shutil.rmtree(wheels)
    write(os.path.join(target, "etc/supervisor/conf.d/supervisord.conf"), CONF_D)
    write(os.path.join(target, "usr/bin/start.sh"), START_SH, 0o755)
    write(os.path.join(target, "usr/bin/featured.sh"), FEATURED_SH, 0o755)
    # debootstrap leaves the archives it downloaded: not part of an image.
    for deb in glob.glob(os.path.join(target, "var/cache/apt/archives/*.deb")):
        os.unlink(deb)


def ensure_root(release, log=None):
    """The cached root of release, built first if it is not there."""
    path = root_path(release)
    if os.path.isdir(path):
        return path
    os.makedirs(CACHE, exist_ok=True)
    for stale in glob.glob(os.path.join(CACHE, ".building-%s-*" % release)):
        shutil.rmtree(stale, ignore_errors=True)
    for old in glob.glob(os.path.join(CACHE, "%s-*" % release)):
        shutil.rmtree(old, ignore_errors=True)  # a root of an earlier recipe
    tmp = tempfile.mkdtemp(prefix=".building-%s-" % release, dir=CACHE)
    os.chmod(tmp, 0o755)
    try:
        build(release, tmp, log if log is not None else sys.stderr)
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def install_probe(root):
    """Install the worktree's probe as README.md's "Install into an image" says.

    COPY readiness_probe.sh readiness_probe.py /usr/bin/, then
    `python3 -m py_compile /usr/bin/readiness_probe.py` with the image's own
    python3 (run in the root with chroot).
    """
    for name in ("readiness_probe.sh", "readiness_probe.py"):
        shutil.copy2(os.path.join(TOP, name), os.path.join(root, "usr/bin", name))
    stale = glob.glob(os.path.join(root, "usr/bin/__pycache__/readiness_probe.*.pyc"))
    for pyc in stale:
        os.unlink(pyc)
    subprocess.run(
        ["chroot", root, "python3", "-m", "py_compile", "/usr/bin/readiness_probe.py"],
        check=True,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )


if __name__ == "__main__":
    for name in sys.argv[1:] or RELEASES:
        print(ensure_root(name))
