#!/bin/sh
# Readiness hook template in sh: the feature is ready once its daemon has
# written "ok" to its ready flag. Install as /usr/bin/readiness_probe_hook.
#   exit 0  ready
#   exit 3  featured has not written its ready flag yet
#   exit 4  featured reported an error (the flag holds it), or the flag cannot be read
#   exit 5  no time left, or reading the flag took too long
#   exit 6  a tool this hook needs is missing or cannot be run
# Everything printed here lands in the pod's events when the hook fails.
flag="${READINESS_PROBE_ROOT:-/}/var/run/featured/ready"

# The time budget: what the probe left, less a margin for this script's own
# exit and the probe's verdict. In whole milliseconds: sh has no decimals.
margin_ms=100
budget_ms=$((${READINESS_PROBE_TIME_LEFT_MS:-800} - margin_ms))
if [ "$budget_ms" -le 0 ]; then
    echo "featured: no time left to check (${READINESS_PROBE_TIME_LEFT_MS:-?} ms)"
    exit 5
fi
budget="$((budget_ms / 1000)).$(printf '%03d' $((budget_ms % 1000)))"  # seconds, for timeout(1)

if [ ! -e "$flag" ]; then
    echo "featured: no ready flag at $flag yet"
    exit 3
fi
# Bound every call that could block (a FIFO with no writer, a hung file
# system). timeout(1) exits 124 (GNU) or 143 (busybox) when time is up, and
# a shell 126 or 127 when a command cannot be run: the probe's own codes.
# Map them to this hook's.
state=$(timeout "$budget" cat "$flag")
case $? in
    0) ;;
    124 | 143) echo "featured: reading $flag took over ${budget} s"; exit 5 ;;
    126 | 127) echo "featured: cannot run timeout or cat"; exit 6 ;;
    *) echo "featured: cannot read $flag"; exit 4 ;;
esac
if [ "$state" != "ok" ]; then
    echo "featured: $state"
    exit 4
fi
exit 0
