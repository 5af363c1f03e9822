"""Packaging: `pip install .` gives the module and a `readiness-probe`
command at the version the module declares, which is the whole process as
readiness_probe.sh's probe is (nothing its hook starts outlives it);
`python -m readiness_probe` works too."""

import os
import subprocess
import sys

import readiness_probe as rp
from fake_container import REPO, kill_processes_with, live_processes_with, marked_processes_command, unique_sleep


def test_pip_install_gives_the_module_and_the_console_script(tmp_path):
    prefix = str(tmp_path / "prefix")
    subprocess.check_call(
        [sys.executable, "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps",
         "--no-index", "--prefix", prefix, REPO],
        cwd=str(tmp_path),
    )
    site = [os.path.join(folder, name) for folder, dirs, _ in os.walk(prefix) for name in dirs
            if name == "site-packages"][0]
    assert os.path.isfile(os.path.join(site, "readiness_probe.py"))
    env = dict(os.environ, PYTHONPATH=site)
    version = subprocess.check_output([os.path.join(prefix, "bin", "readiness-probe"), "--version"], env=env)
    assert version.decode() == "readiness_probe %s\n" % rp.__version__
    assert "readiness_probe-%s.dist-info" % rp.__version__ in os.listdir(site)
    entry_points = open(os.path.join(site, "readiness_probe-%s.dist-info" % rp.__version__, "entry_points.txt")).read()
    assert "readiness-probe = readiness_probe:run\n" in entry_points

    mark = unique_sleep()  # a daemonized child of the hook: the installed command is a subreaper, and kills it
    hook = tmp_path / "hook"
    hook.write_text("#!/bin/sh\nsetsid sleep %s &\n%s\nexit 3\n" % (mark, marked_processes_command(mark, escaped=1)))
    hook.chmod(0o755)
    try:
        result = subprocess.run([os.path.join(prefix, "bin", "readiness-probe"), "--root", str(tmp_path), "--hook",
                                 str(hook), "--timeout", "30"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert (result.returncode, result.stdout) == (3, b"not ready (exit 3): hook exited 3\n"), result
        assert live_processes_with(mark) == []
    finally:
        kill_processes_with(mark)


def test_version_lives_in_one_place():
    assert "version = attr: readiness_probe.__version__\n" in open(os.path.join(REPO, "setup.cfg")).read()


def test_python_dash_m_runs_the_probe(tmp_path):
    output = subprocess.check_output([sys.executable, "-m", "readiness_probe", "--root", str(tmp_path)], cwd=REPO)
    assert output == b"ready: no supervisord; no hook\n"
