"""The ready path is paid on every probe run: it imports only what
docs/design.md lists (os, sys, time, _socket, pyexpat); the rest waits for the
failure, --json, --wait or the hook that needs it."""

import subprocess
import sys

from fake_container import REPO

IMPORTS = """
import sys
before = set(sys.modules)
sys.path.insert(0, sys.argv[1])
%s
sys.stderr.write(" ".join(sorted(set(sys.modules) - before)))
"""


def new_modules(statements, *args):
    """Modules a fresh `python3 -S -E -B` (as the launcher starts it) has
    after running `statements`; stdout comes back too."""
    proc = subprocess.run([sys.executable, "-S", "-E", "-B", "-c", IMPORTS % statements, REPO] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    return set(proc.stderr.decode().split()), proc.stdout.decode()


def test_ready_path_imports_only_what_the_readme_lists(ready):
    documented, _ = new_modules("import os, sys, time, _socket, pyexpat")  # with what os itself needs
    imported, output = new_modules(
        "import readiness_probe\nreadiness_probe.main(['--root', sys.argv[2]])", ready.root)
    assert output == "ready: start exited with status 0; no hook\n"
    assert imported - {"readiness_probe"} <= documented, sorted(imported - documented)
