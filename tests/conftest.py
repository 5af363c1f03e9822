import os
import shutil
import sys
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [REPO, os.path.join(REPO, "fixtures")]  # readiness_probe, fake_container

from fake_container import PROBE, FakeContainer  # noqa: E402

# The fixtures that make a fake container, whose supervisord is a real one
# (FAKE_SUPERVISORD_PYTHON's, an older one, in the supervisord425 and
# supervisord34 environments): a test using one is marked `supervisord`.
# `printed` is tests/test_docs.py's: its scenarios make fake containers of
# their own. A test that starts supervisord otherwise (fixtures/try_hook.py
# in a subprocess) carries the mark itself.
SUPERVISORD_FIXTURES = {"container", "running", "ready", "ready_container", "failed_start", "printed"}


def pytest_configure(config):
    config.addinivalue_line("markers", "supervisord: talks to the fake container's real supervisord (added by "
                                       "tests/conftest.py to every test using a fake container's fixture)")


def pytest_collection_modifyitems(items):
    for item in items:
        if SUPERVISORD_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.supervisord)


@pytest.fixture
def container():
    """A fresh fake container; the test starts supervisord when it has set
    start.sh up (container.start_supervisord())."""
    fake = FakeContainer()
    yield fake
    fake.destroy()


@pytest.fixture
def running(container):
    """A fake container whose supervisord runs the default start.sh."""
    return container.start_supervisord()


@pytest.fixture(scope="module")
def ready_container():
    """One container per module whose start.sh has exited 0; tests swap the
    hook in and out (the probe reads it afresh on every run)."""
    fake = FakeContainer().start_supervisord()
    fake.wait_for_state("EXITED")
    yield fake
    fake.destroy()


@pytest.fixture
def ready(ready_container):
    yield ready_container
    ready_container.remove_hook()


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


FIGURES = []


@pytest.fixture
def figure():
    """Record a measured figure; the run's summary prints them all."""

    def record(name, value):
        FIGURES.append("%s: %s" % (name, value))

    return record


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
