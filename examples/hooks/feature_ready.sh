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
    printf 'featured: no time left to check (%s ms)\n' "${READINESS_PROBE_TIME_LEFT_MS:-?}"
    exit 5
fi
budget="$((budget_ms / 1000)).$(printf '%03d' $((budget_ms % 1000)))"  # seconds, for timeout(1)

if [ ! -e "$flag" ]; then
    printf 'featured: no ready flag at %s yet\n' "$flag"
    exit 3
fi
if [ ! -f "$flag" ]; then  # a FIFO would block the read below until a writer came
    printf 'featured: %s is not a regular file\n' "$flag"
    exit 4
fi
# Bound every call that could block (a hung file system, a slow tool).
# timeout(1) exits 124 (GNU) or 143 (busybox) when time is up, and a shell
# 126 or 127 when a command cannot be run: the probe's own codes. Map them
# to this hook's. (busybox's timeout checks once a second.)
state=$(timeout "$budget" cat "$flag")
case $? in
    0) ;;
    124 | 143) printf 'featured: reading %s took over %s s\n' "$flag" "$budget"; exit 5 ;;
    126 | 127) printf 'featured: cannot run timeout or cat\n'; exit 6 ;;
    *) printf 'featured: cannot read %s\n' "$flag"; exit 4 ;;
esac
if [ "$state" != "ok" ]; then
    printf 'featured: %s\n' "$state"
    exit 4
fi
exit 0
