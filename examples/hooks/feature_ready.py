#!/usr/bin/python3
"""Readiness hook template in Python: the feature is ready once its daemon
reports every session established in its state file. Install as
/usr/bin/readiness_probe_hook.

  exit 0  ready
  exit 3  the state file is not there yet
  exit 4  some sessions are not established (named in the output)
  exit 5  the state file cannot be read or parsed
  exit 6  no time left to check
  exit 1  an uncaught exception (Python's own code): a bug in this hook

Everything printed here lands in the pod's events when the hook fails.

The interpreter line names python3 by its path: `#!/usr/bin/env python3`
searches PATH on every probe run, and a wrapper found first (a version
manager's shim) can cost more than the check.
"""
import json
import os
import stat
import sys
import time

ROOT = os.environ.get("READINESS_PROBE_ROOT", "/")
STATE = os.path.join(ROOT, "var/run/featured/sessions.json")
MARGIN = 0.1  # seconds kept for this hook's exit and the probe's verdict


def time_left():
    """Seconds left to work, measured now: the probe's deadline is a time on
    the monotonic clock, which time.monotonic() reads in this process too."""
    try:
        deadline = float(os.environ["READINESS_PROBE_DEADLINE"])
    except (KeyError, ValueError):  # run by hand
        return 0.8 - MARGIN
    return deadline - time.monotonic() - MARGIN


def read_state():
    """The sessions, {name: state}; ValueError for anything else. O_NONBLOCK:
    a FIFO in the file's place must not block the open()."""
    fd = os.open(STATE, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        sessions = json.loads(f.read().decode("utf-8"))
    if not isinstance(sessions, dict):
        raise ValueError("not a JSON object")
    return sessions


def main():
    if time_left() <= 0:
        print("featured: no time left to check")
        return 6
    try:
        sessions = read_state()
    except FileNotFoundError:
        print("featured: no state file at %s yet" % STATE)
        return 3
    except (OSError, ValueError) as e:
        print("featured: cannot read %s: %s" % (STATE, e))
        return 5
    down = sorted(name for name, state in sessions.items() if state != "established")
    if down:
        print("featured: %d of %d sessions not established: %s" % (len(down), len(sessions), ", ".join(down)))
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
