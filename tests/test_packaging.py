"""Packaging: `pip install .` gives the module and a `readiness-probe`
command at the version the module declares; `python -m readiness_probe`
works too."""

import os
import subprocess
import sys

import readiness_probe as rp
from fake_container import REPO


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


def test_version_lives_in_one_place():
    assert "version = attr: readiness_probe.__version__\n" in open(os.path.join(REPO, "setup.cfg")).read()


def test_python_dash_m_runs_the_probe(tmp_path):
    output = subprocess.check_output([sys.executable, "-m", "readiness_probe", "--root", str(tmp_path)], cwd=REPO)
    assert output == b"ready: no supervisord; no hook\n"
