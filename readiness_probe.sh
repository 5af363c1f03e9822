#!/bin/sh
# Kubernetes exec readiness probe for supervisord-managed containers:
# runs readiness_probe.py, which sits beside this file, on the image's python3.
# -S -E: the probe needs neither site-packages nor PYTHON* variables, and
# skipping them saves time on every run.
# Exit 127 when there is no python3 (the probe's own codes are in README.md).
EXIT_NO_PYTHON=127

case $0 in
    */*) here=${0%/*} ;;
    *) here=. ;;
esac

python=${READINESS_PROBE_PYTHON:-}
if [ -z "$python" ]; then
    python=$(command -v python3) || python=
    where="on PATH (${PATH:-unset})"
else
    where="at READINESS_PROBE_PYTHON=$python"
fi
if [ -z "$python" ] || [ ! -x "$python" ] || [ -d "$python" ]; then
    echo "not ready (exit $EXIT_NO_PYTHON): readiness_probe.sh found no python3 $where"
    exit "$EXIT_NO_PYTHON"
fi
# Import the module rather than run the file: python then uses the bytecode
# that `python3 -m py_compile readiness_probe.py` left in __pycache__ when the
# image was built, instead of compiling the source on every run. -B: a probe
# run never writes bytecode itself. examples/pod-readiness-no-shell.yaml runs
# these same lines without a shell (a test checks they are the same).
exec "$python" -S -E -B -c '
import sys
sys.path[0] = sys.argv.pop(1)
try:
    import readiness_probe
except Exception as e:
    print("not ready (exit 70): cannot import readiness_probe.py from %s: %s" % (sys.path[0], e))
    sys.exit(70)
del sys.path[0]
sys.exit(readiness_probe.main(as_program=True))
' "$here" "$@"
