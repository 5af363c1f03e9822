"""What README's "Install into an image" says of `python3 -m py_compile`
beyond that its bytecode runs (tests/test_launcher.py): bytecode a python3
of another version wrote, or a source copied after it, leaves the probe
compiling its source on every run, and working the same."""

import importlib.util
import os
import py_compile
import shutil
import subprocess
import sys

import pytest

import readiness_probe as rp
from fake_container import LAUNCHER, PROBE

MARKED = "b" * len(rp.__version__)


def install_with_marked_bytecode(tmp_path, python=None):
    """readiness_probe.sh and .py in tmp_path/usr-bin, and beside the source
    bytecode compiled (by `python`, default this one) from a copy whose
    version reads MARKED, same size and mtime as the source, so that the
    version printed tells which ran. Returns the source's path."""
    image_bin = tmp_path / "usr-bin"
    image_bin.mkdir()
    for source in (LAUNCHER, PROBE):
        shutil.copy(source, str(image_bin))
    source = str(image_bin / "readiness_probe.py")
    twin = tmp_path / "twin" / "readiness_probe.py"
    twin.parent.mkdir()
    twin.write_text(open(source).read().replace('__version__ = "%s"' % rp.__version__, '__version__ = "%s"' % MARKED, 1))
    stat = os.stat(source)
    assert os.path.getsize(str(twin)) == stat.st_size
    os.utime(str(twin), ns=(stat.st_atime_ns, stat.st_mtime_ns))
    if python is None:
        options = {"invalidation_mode": py_compile.PycInvalidationMode.TIMESTAMP} if sys.version_info >= (3, 7) else {}
        py_compile.compile(str(twin), cfile=importlib.util.cache_from_source(source), doraise=True, **options)
    else:  # where that python3 writes it, named for itself
        compile_there = ("import importlib.util, py_compile, sys;"
                         " py_compile.compile(sys.argv[1], cfile=importlib.util.cache_from_source(sys.argv[2]), doraise=True)")
        subprocess.check_call([python, "-c", compile_there, str(twin), source])
    return source


def launcher_version(source):
    result = subprocess.run([os.path.join(os.path.dirname(source), "readiness_probe.sh"), "--version"],
                            stdout=subprocess.PIPE, env=dict(os.environ, READINESS_PROBE_PYTHON=sys.executable))
    return result.stdout.decode()


def other_python():
    """A python3 of another version than this one, on PATH."""
    for minor in range(6, 14):
        if minor != sys.version_info[1]:
            found = shutil.which("python3.%d" % minor)
            if found:
                return found
    pytest.skip("no python3 of another version on PATH")  # the quick start's PATH has the system's alone


def test_bytecode_of_another_python3_is_not_looked_at(tmp_path):
    source = install_with_marked_bytecode(tmp_path, python=other_python())
    cached = os.listdir(os.path.join(os.path.dirname(source), "__pycache__"))
    assert cached and importlib.util.cache_from_source(source).rsplit("/", 1)[1] not in cached, cached
    assert launcher_version(source) == "readiness_probe %s\n" % rp.__version__  # the source, compiled


def test_a_source_copied_after_the_bytecode_makes_it_stale(tmp_path):
    source = install_with_marked_bytecode(tmp_path)
    stat = os.stat(source)
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2 * 10**9))  # as a later COPY would leave it
    assert launcher_version(source) == "readiness_probe %s\n" % rp.__version__
