#!/usr/bin/env python3
"""Kubernetes exec readiness probe for supervisord-managed containers.

kubelet runs this file (through readiness_probe.sh) every periodSeconds and
reads one thing: the exit code, 0 meaning ready. The combined output, up to
10 KiB, lands in the pod's events, so its first line says why.

Two steps, in order:
  1. the start check: if supervisord has a program named "start" (start.sh,
     the container's initialisation), it must have EXITED with status 0;
  2. the hook: if <root>/usr/bin/readiness_probe_hook exists, it runs and its
     exit code becomes the probe's.

Standard library only; runs unchanged on CPython 3.6 to 3.13. The exit
codes, flags and environment variables are tables below (EXIT_CODES, FLAGS,
ENVIRONMENT); README.md and docs/ say the rest. Only what the ready path needs, or what is built
into the interpreter, is imported at the top: every import here is paid on
every probe run.
"""

import _signal as signal  # built in; signal.py would import enum too: ~5 ms a run
import os
import sys
import time

__version__ = "1.0.0"

# ---------------------------------------------------------------------------
# Exit codes: the contract with kubelet, the upgrade controller and hook authors.
# Each line is a row of EXIT_CODES, in order: --help's list, the README's
# table and the tests all read that table.
EXIT_CODES = []  # (code, shown, meaning): shown is how --help and the README name it


def exit_code(code, meaning, shown=None):
    """A row of EXIT_CODES; returns the code (a range of codes: the range)."""
    if isinstance(code, range):
        EXIT_CODES.append((code.start, "%d-%d" % (code.start, code.stop - 1), meaning))
    else:
        EXIT_CODES.append((code, shown or str(code), meaning))
    return code


EXIT_READY = exit_code(0, "ready")
EXIT_HOOK_CRASHED = exit_code(1, "the hook exited 1 (an uncaught Python exception's code)")
EXIT_NOT_STARTED = exit_code(2, "the start program has not exited with status 0 (--program: NAME is not RUNNING)")
HOOK_CODES = exit_code(range(3, 64), "the hook's own codes, passed through")
EXIT_USAGE = exit_code(64, "bad command line or environment value")
EXIT_SUPERVISOR = exit_code(69, "supervisord is configured but cannot be asked")
EXIT_INTERNAL = exit_code(70, "internal error of the probe")
EXIT_NO_RESOURCES = exit_code(71, "the system refused the hook a process or a pipe (no free PIDs or fds)")
EXIT_TIMEOUT = exit_code(124, "the deadline passed")
EXIT_HOOK_NOT_EXECUTABLE = exit_code(126, "the hook exists but cannot be executed")
EXIT_NO_PYTHON = exit_code(127, "readiness_probe.sh found no python3")  # the launcher's, as EXIT_NO_PYTHON there
EXIT_SIGNAL_BASE = exit_code(128, "the hook was killed by signal N (or the probe, told to stop by signal N while"
                             " the hook ran or at any time of --wait: 143 for SIGTERM, 130 for SIGINT, 129 for"
                             " SIGHUP)", shown="128+N")

# Where things live inside the container; all are read under --root.
START_PROGRAM = "start"
HOOK_PATH = "/usr/bin/readiness_probe_hook"
CONFIG_PATHS = ("/etc/supervisord.conf", "/etc/supervisor/supervisord.conf")  # supervisorctl's order
DEFAULT_SOCKET = "/var/run/supervisor.sock"
SYSLOG_SOCKET = "/dev/log"  # where syslog(3) sends, and a syslog daemon listens
# Where Debian's package, pip and distributions put the supervisord program: a
# container with one of these has supervisord, even before its socket is there.
SUPERVISORD_PROGRAMS = ("/usr/bin/supervisord", "/usr/local/bin/supervisord", "/usr/sbin/supervisord",
                        "/usr/local/sbin/supervisord", "/bin/supervisord", "/sbin/supervisord")
# And where pip, virtualenvs and distributions put it, or its package: a '*'
# stands for part of one name, as in a shell's glob.
SUPERVISOR_INSTALLS = ("/opt/*/bin/supervisord", "/root/.local/bin/supervisord",
                       "/usr/lib/python*/*-packages/supervisor", "/usr/local/lib/python*/*-packages/supervisor")

# Environment: what the probe reads, and what it adds for the hook. Each
# line is a row of ENVIRONMENT: --help's list, the README's table and the
# tests read it.
ENVIRONMENT = []  # (name, meaning)


def env_var(name, meaning):
    ENVIRONMENT.append((name, meaning))
    return name


ENV_ROOT = env_var("READINESS_PROBE_ROOT", "the root, when --root is not given (set for the hook)")
ENV_CONFIG = env_var("READINESS_PROBE_CONFIG", "supervisord's config, when -c is not given (passed on to the hook)")
ENV_TIMEOUT = env_var("READINESS_PROBE_TIMEOUT", "the deadline in seconds, when --timeout is not given")
ENV_PYTHON = env_var("READINESS_PROBE_PYTHON", "read by readiness_probe.sh: the python3 to run")
ENV_TIME_LEFT = env_var("READINESS_PROBE_TIME_LEFT", "for the hook: seconds left when it was started (0.764)")
ENV_TIME_LEFT_MS = env_var("READINESS_PROBE_TIME_LEFT_MS", "for the hook: the same in whole milliseconds (764)")
ENV_DEADLINE = env_var("READINESS_PROBE_DEADLINE", "for the hook: the deadline on CLOCK_MONOTONIC (time.monotonic());"
                       " read by --program")
ENV_SUPERVISOR = env_var("READINESS_PROBE_SUPERVISOR", "for the hook: supervisord's address, as a serverurl; read by"
                         " --program")

DEFAULT_TIMEOUT = 0.8  # seconds; kubelet's default timeoutSeconds is 1
DEFAULT_INTERVAL = 1.0  # seconds between runs with --wait
OUTPUT_LIMIT = 10 * 1024  # kubelet keeps this much of an exec probe's output
REASON_LIMIT = 512  # bytes of UTF-8: the first line never crowds out the hook's output
LATER_LINES = 2048  # bytes of 10 KiB that --wait --json keeps for the records of later changes
NOT_SHOWN = "%s [... later changes of verdict not shown: the output stays within 10 KiB; the last one follows]\n"
ANSWER_LIMIT = 1024 * 1024  # a getProcessInfo answer is < 1 KiB, a log tail 10 KiB; more is not supervisord
CONFIG_LIMIT = 1024 * 1024  # supervisord.conf is a few KiB; the probe reads no more than this
PARSER_KEY_LIMIT = 1024  # characters before a line's '=' on the failure path: see read_into
INCLUDE_LIMIT = 256  # files an [include] may add; a config with more is not read
SPAWNERR_LIMIT = 120  # characters of a dependency's spawn error in the first line
MAX_SECONDS = 7 * 24 * 3600  # longer is a mistake (and overflows poll's timeout)
READ_CHUNK = 64 * 1024
CUT_MARK = b"[... earlier output cut]\n"
DRAIN_LIMIT = 1024 * 1024  # read at most this much more once the hook has exited
PR_SET_CHILD_SUBREAPER = 36  # prctl option (linux/prctl.h): orphaned descendants are re-parented to the probe
REAP_GRACE = 0.2  # seconds past the deadline the probe may spend killing and reaping what the hook left
REAP_PAUSE_MAX = 0.05  # seconds: the longest wait for a SIGCHLD between two rounds of killing
LEFT_BEHIND = "; a process of the hook, killed, did not end by the deadline (stuck in the kernel?) and is left behind"

# supervisord's own booleans (supervisor.datatypes), as its config spells them.
TRUTHY = ("true", "1", "on", "yes")
FALSY = ("false", "0", "off", "no")

# supervisord-dependent-startup's states a program can wait for (its
# ServiceOptions.valid_wait_on_states; it drops any other).
WAITABLE = ("STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL")
# How an [eventlistener:] runs that listener: python3 -m supervisord_dependent_startup,
# or the command pip installs.
LISTENER_COMMANDS = ("supervisord_dependent_startup", "supervisord-dependent-startup")
SUPERVISORD_DEFAULT_PATH = ["/bin", "/usr/bin", "/usr/local/bin"]  # supervisord's get_path without a PATH
PATH_LIMIT = 256  # directories on a PATH the probe searches for a dependency's command; more: no claim
ENVIRON_LIMIT = 256 * 1024  # bytes of supervisord's /proc/PID/environ read for its PATH

# supervisord's own numbers (supervisor.xmlrpc.Faults, supervisor.states.ProcessStates).
FAULT_BAD_NAME = 10
STOPPED = 0
RUNNING = 20
EXITED = 100
FATAL = 200
STATE_NAMES = {
    0: "STOPPED",
    10: "STARTING",
    20: "RUNNING",
    30: "BACKOFF",
    40: "STOPPING",
    100: "EXITED",
    200: "FATAL",
    1000: "UNKNOWN",
}
STATE_NUMBERS = dict((name, number) for number, name in STATE_NAMES.items())
STATE_MEANINGS = {
    "STOPPED": "it was stopped before it finished",
    "STARTING": "start.sh has not finished",
    "RUNNING": "start.sh has not finished",
    "STOPPING": "it is being stopped",
    "BACKOFF": "it exited too quickly or could not be spawned, and supervisord will retry",
    "FATAL": "supervisord could not start it and gave up",
}

USAGE = """\
usage: readiness_probe.sh [--root DIR] [-c FILE] [--serverurl URL | --socket PATH]
                          [--timeout SECONDS] [--wait SECONDS [--interval SECONDS]]
                          [--hook PATH] [--json] [--help] [--version]
       readiness_probe.sh --program NAME [--root DIR] [-c FILE] [--serverurl URL | --socket PATH]
                          [--timeout SECONDS] [--json]

Kubernetes readiness probe for supervisord-managed containers: ready when
supervisord's "start" program has exited with status 0 and the optional hook
<root>%(hook)s exits 0.

flags:
%(flags)s

environment:
%(environment)s

exit codes:
%(exit_codes)s

The hook runs with the probe's privileges (root in most containers). --root
chooses where files are read; it is not a sandbox: never point it at a tree
you do not trust (a container's root seen from the host: its hook would run
on the host).
"""


class Verdict(Exception):
    """The outcome of a run: exit code, a one-line reason, and the output that
    follows it (the hook's, or start's own log).

    Raised by the step that decides, returned when everything passed. `final`
    is true when it cannot change without someone acting; `start` is what
    supervisord said of the start program, when it was asked."""

    final = False
    by = "probe"  # who gave the exit code: "probe", or "hook" for the hook's own exit status

    def __init__(self, code, reason, output=b""):
        Exception.__init__(self, reason)
        self.code = code
        self.reason = reason
        self.output = output
        self.start = None

    @property
    def ready(self):
        return self.code == EXIT_READY


class Interrupted(Verdict):
    """The probe was told to stop (SIGTERM, SIGINT, SIGHUP...: see
    stop_signals) while the hook ran, or at any time of --wait."""

    def __init__(self, sig, output=b"", then="the hook was killed"):
        Verdict.__init__(self, EXIT_SIGNAL_BASE + sig, "the probe received %s; %s" % (signal_name(sig), then), output)


class Options(object):
    def __init__(self):
        self.root = "/"
        self.server = None  # --serverurl or --socket: a Unix socket path, or (host, port)
        self.config = None  # --configuration or READINESS_PROBE_CONFIG: its path under the root
        self.config_name = None  # and who named it, for the line that says it is not there
        self.config_in_container = None  # and its path in the container, for the hook (READINESS_PROBE_CONFIG)
        self.timeout = DEFAULT_TIMEOUT
        self.wait = None
        self.interval = DEFAULT_INTERVAL
        self.json = False
        self.show = None  # "help" or "version"
        self.hook = None  # --hook: a path on this machine, instead of <root>/usr/bin/readiness_probe_hook
        self.program = None  # --program: ask this program's state instead of the whole check
        self.deadline = None  # with --program inside a hook: the hook's own deadline (READINESS_PROBE_DEADLINE)
        self.whole_process = False  # main(as_program=True): no embedder's children to spare (see become_subreaper)


# ---------------------------------------------------------------------------
# Options: every flag and environment value is checked before anything runs.
# Each row: the flag, its short alias, its value's name (None for a switch)
# and --help's line for it; the README's table and the tests read FLAGS too.
FLAGS = (
    ("--root", None, "DIR", "container root every path is read under (env %(ENV_ROOT)s, default /)"),
    ("--configuration", "-c", "FILE", "supervisord's config, a container path (env %(ENV_CONFIG)s; default: the"
                                      " first of %(configs)s)"),
    ("--serverurl", "-s", "URL", "supervisord's address: unix:///PATH (under the root) or http://HOST:PORT"
                                 " (default: from supervisord.conf, as supervisorctl finds it)"),
    ("--socket", None, "PATH", "supervisord's Unix socket, under the root (same as --serverurl unix://PATH)"),
    ("--timeout", None, "SECONDS", "deadline for supervisord and the hook together (env %(ENV_TIMEOUT)s, default"
                                   " %(timeout)s)"),
    ("--wait", None, "SECONDS", "re-check until ready or SECONDS have passed, or until start has failed for good;"
                                " one line per change of verdict"),
    ("--interval", None, "SECONDS", "pause between runs with --wait (default %(interval)s)"),
    ("--hook", None, "PATH", "run this hook (a path on this machine) instead of <root>%(hook)s"),
    ("--program", None, "NAME", "only ask supervisord for program NAME's state (from a hook: where the probe found"
                                " supervisord, within the hook's deadline); exit 0 when RUNNING, 2 when not (or no"
                                " such program)"),
    ("--json", None, None, "print one JSON object (ready, code, by, reason, output, start) instead of text"),
    ("--help", "-h", None, "print this help, exit 0"),
    ("--version", None, None, "print the version, exit 0"),
)
VALUE_FLAGS = tuple(name for flag, alias, value, _ in FLAGS if value for name in (flag, alias) if name)
SWITCHES = tuple(name for flag, alias, value, _ in FLAGS if not value for name in (flag, alias) if name)
ALIASES = dict((alias, flag) for flag, alias, _, _ in FLAGS if alias)


def usage_error(message):
    return Verdict(EXIT_USAGE, message)


def parse_seconds(text, name):
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= MAX_SECONDS:  # also rejects nan and inf
        raise usage_error("%s must be a positive number of seconds up to %d, got %r" % (name, MAX_SECONDS, text))
    return seconds


def parse_options(argv, environ):
    """Flags beat the environment; an empty environment value counts as unset."""
    opts = Options()
    given = {}
    error = None  # the first one; raised unless --help or --version is given
    args = list(argv)
    while args:
        arg = args.pop(0)
        name, has_value, value = arg.partition("=")
        if name in VALUE_FLAGS:
            if not has_value:
                if not args:
                    error = error or usage_error("%s needs a value" % name)
                    break
                value = args.pop(0)
            given[ALIASES.get(name, name)] = value
        elif arg in SWITCHES:
            if arg == "--json":
                opts.json = True
            else:
                opts.show = opts.show or ("version" if arg == "--version" else "help")
        else:
            kind = "flag" if arg.startswith("-") else "argument"
            error = error or usage_error("unknown %s %r (see --help)" % (kind, arg))
    if opts.show:
        return opts  # --help and --version: exit 0 whatever else is given
    if error:
        raise error
    if "--interval" in given and "--wait" not in given:
        raise usage_error("--interval goes with --wait")
    if "--serverurl" in given and "--socket" in given:
        raise usage_error("--serverurl and --socket both name supervisord: give one")
    if "--program" in given and ("--wait" in given or "--hook" in given):
        raise usage_error("--program asks one program's state: it goes with neither --wait nor --hook")
    if "--program" in given and not given["--program"]:
        raise usage_error("--program must not be empty")
    opts.program = given.get("--program")

    if "--timeout" in given:
        opts.timeout = parse_seconds(given["--timeout"], "--timeout")
    elif environ.get(ENV_TIMEOUT):
        opts.timeout = parse_seconds(environ[ENV_TIMEOUT], ENV_TIMEOUT)
    if "--wait" in given:
        opts.wait = parse_seconds(given["--wait"], "--wait")
    if "--interval" in given:
        opts.interval = parse_seconds(given["--interval"], "--interval")

    if "--root" in given:
        opts.root, root_name = given["--root"], "--root"
    elif environ.get(ENV_ROOT):
        opts.root, root_name = environ[ENV_ROOT], ENV_ROOT
    else:
        root_name = "root"
    if not os.path.isdir(opts.root):
        raise usage_error("%s %r is not a directory" % (root_name, opts.root))
    opts.root = os.path.abspath(opts.root)

    if "--configuration" in given:
        if not given["--configuration"]:
            raise usage_error("--configuration must not be empty")
        opts.config_in_container, opts.config_name = given["--configuration"], "--configuration"
    elif environ.get(ENV_CONFIG):
        opts.config_in_container, opts.config_name = environ[ENV_CONFIG], ENV_CONFIG
    if opts.config_in_container:
        opts.config_in_container = "/" + os.path.normpath("/" + opts.config_in_container).lstrip("/")
        opts.config = under_root(opts.root, opts.config_in_container)
    if "--socket" in given:
        if not given["--socket"]:
            raise usage_error("--socket must not be empty")
        opts.server = under_root(opts.root, given["--socket"])
    if "--serverurl" in given:
        opts.server = server_address(given["--serverurl"], opts.root)
        if opts.server is None:
            raise usage_error("--serverurl must be unix:///PATH or http://HOST:PORT, got %r" % given["--serverurl"])
    if "--hook" in given:
        if not os.path.lexists(given["--hook"]):
            raise usage_error("--hook %r does not exist" % given["--hook"])
        opts.hook = os.path.abspath(given["--hook"])
    if opts.program:
        in_a_hook(opts, environ)
    return opts


def in_a_hook(opts, environ):
    """--program, run by a hook: the probe that runs the hook has told it
    where supervisord is (already under the root) and its deadline."""
    if opts.server is None and environ.get(ENV_SUPERVISOR):
        opts.server = server_address(environ[ENV_SUPERVISOR], "/")
        if opts.server is None:
            raise usage_error("%s must be unix:///PATH or http://HOST:PORT, got %r" % (ENV_SUPERVISOR, environ[ENV_SUPERVISOR]))
    if environ.get(ENV_DEADLINE):
        try:
            opts.deadline = float(environ[ENV_DEADLINE])
        except ValueError:
            opts.deadline = float("nan")
        if not opts.deadline > 0 or opts.deadline == float("inf"):
            raise usage_error("%s must be a time on the monotonic clock, got %r" % (ENV_DEADLINE, environ[ENV_DEADLINE]))


def under_root(root, path):
    """A container path as seen from the probe: <root>/<path>."""
    return os.path.join(root, os.path.normpath("/" + path).lstrip("/"))


def server_address(url, root):
    """supervisorctl's serverurl as an address: the socket's path under the
    root for unix://PATH, (host, port) for http://HOST[:PORT] (port 80 when
    none is given); None for anything else. Taken as it is: a config's value
    is expanded first."""
    if url.startswith("unix://") and len(url) > len("unix://"):
        return under_root(root, url[len("unix://"):])
    if url.startswith("http://"):
        host = url[len("http://"):].split("/", 1)[0]
        has_port = ":" in (host.rpartition("]")[2] if host.startswith("[") else host)
        return inet_address(host if has_port else host + ":80")
    return None


def inet_address(text):
    """HOST:PORT, [V6]:PORT, *:PORT, :PORT or PORT alone, as (host, port);
    None for anything else (no port, or one out of 1..65535), as
    [inet_http_server] port= takes them. No host, or *, means this
    machine."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if not rest.startswith(":"):
            return None
        port = rest[1:]
    elif ":" in text:
        host, _, port = text.rpartition(":")
    else:
        host, port = "", text
    if not port or port.strip("0123456789") or len(port) > 5 or not 0 < int(port) < 65536:  # int() refuses 4,301 digits
        return None
    return ("localhost" if host in ("", "*") else host, int(port))


# ---------------------------------------------------------------------------
# Step 1, finding supervisord: as supervisorctl would, from supervisord.conf.
class Supervisor(object):
    """Where supervisord listens (a socket path, or (host, port)), the
    credentials to send, the config it was found in (None without one) and
    the root that config's paths are read under."""

    def __init__(self, address, credentials=None, config=None, root="/"):
        self.address = address
        self.credentials = credentials
        self.config = config
        self.root = root
        self.parsed = None  # (deadline, parser): its config, once read (see config_read)

    def __str__(self):
        return self.url() if isinstance(self.address, tuple) else self.address

    def url(self):
        """The address as supervisorctl's serverurl: unix:///PATH or http://HOST:PORT."""
        if isinstance(self.address, tuple):
            host, port = self.address
            return "http://%s:%d" % ("[%s]" % host if ":" in host else host, port)
        return "unix://" + self.address

    def config_read(self, deadline):
        """Its config as supervisord reads it (read_config_as_supervisord),
        read once by a run's deadline: start's settings, its dependencies'
        commands, the listener and the pidfile come from one read. Only the
        failure path and --json ask for it."""
        if self.parsed is None or self.parsed[0] != deadline:
            self.parsed = (deadline, read_config_as_supervisord(self.config, self.root, deadline))
        return self.parsed[1]


def find_supervisor(opts, deadline=None):
    """Return the Supervisor to ask, or None when the container has no
    supervisor at all (no config, no socket, no supervisord program).
    --serverurl and --socket override the config's address, not its
    credentials."""
    for path in [opts.config] if opts.config else [under_root(opts.root, config) for config in CONFIG_PATHS]:
        if os.path.isfile(path):
            found = supervisor_from_config(path, opts.root, deadline)
            found.address = opts.server or found.address
            return found
    if opts.config:  # during boot or a reload it may come: not ready, but not a usage error either
        raise Verdict(EXIT_SUPERVISOR, "%s %s (named by %s)" % (
            "not a file:" if os.path.lexists(opts.config) else "no supervisord config at", opts.config, opts.config_name))
    if opts.server:
        return Supervisor(opts.server, root=opts.root)
    socket_path = under_root(opts.root, DEFAULT_SOCKET)
    if os.path.exists(socket_path):
        return Supervisor(socket_path, root=opts.root)
    refuse_unfound_supervisord(opts.root)
    return None


def own_view(root):
    """The root is /: the probe sees the container as kubelet runs it, its
    /proc and its processes included. Under --root, /proc is the machine's."""
    return os.path.realpath(root) == "/"


def refuse_unfound_supervisord(root):
    """An image that has supervisord but no config at a standard path and no
    socket (supervisord -c elsewhere, still booting or restarting) is not
    one without supervisord: say so, and what to pass. In the container's
    own view (root /, as kubelet runs the probe) /proc shows a supervisord
    that runs wherever it is installed."""
    configs = "no config was found at %s: name it with -c FILE or %s" % (" or ".join(CONFIG_PATHS), ENV_CONFIG)
    pid = supervisord_process() if own_view(root) else None
    if pid is not None:
        raise Verdict(EXIT_SUPERVISOR, "supervisord is running (pid %d) but %s" % (pid, configs))
    for pattern in SUPERVISORD_PROGRAMS + SUPERVISOR_INSTALLS:
        for path in installed_at(root, pattern):
            raise Verdict(EXIT_SUPERVISOR, "supervisord is installed (%s) but %s" % (path, configs))


def installed_at(root, pattern):
    """The container paths that match pattern under the root, first of all
    (a few listdir and lstat calls: glob and re are not imported for an
    image without supervisord)."""
    paths = [root]
    for part in pattern.strip("/").split("/"):
        if "*" not in part:
            paths = [os.path.join(path, part) for path in paths]
            continue
        head, _, tail = part.partition("*")
        found = []
        for path in paths:
            try:
                names = sorted(os.listdir(path))
            except OSError:
                continue
            found += [os.path.join(path, name) for name in names
                      if name.startswith(head) and name.endswith(tail) and len(name) >= len(part) - 1]
        paths = found
    return ["/" + os.path.relpath(path, root) for path in paths if os.path.lexists(path)]


def supervisor_from_config(path, root, deadline=None):
    """In order: [supervisorctl] serverurl (unix:// or http://), then
    [unix_http_server] file, then [inet_http_server] port, then the default
    socket."""
    sections = read_ini(read_config_file(path), ("supervisorctl", "unix_http_server", "inet_http_server"), deadline,
                        path)
    ctl = sections.get("supervisorctl", {})
    here = container_dir(path, root)
    address = server_address(expand(ctl.get("serverurl", ""), here), root)
    if address is None and sections.get("unix_http_server", {}).get("file"):
        address = under_root(root, expand(sections["unix_http_server"]["file"], here))
    if address is None and sections.get("inet_http_server", {}).get("port"):
        address = inet_address(expand(sections["inet_http_server"]["port"], here))
    if address is None:
        address = under_root(root, DEFAULT_SOCKET)
    credentials = None
    if ctl.get("username"):
        credentials = (expand(ctl["username"], here), expand(ctl.get("password", ""), here))
    return Supervisor(address, credentials, path, root)


def read_config_file(path):
    try:
        with open(path, "rb") as f:
            data = f.read(CONFIG_LIMIT + 1)
    except OSError as e:
        raise Verdict(EXIT_SUPERVISOR, "cannot read %s: %s" % (path, e.strerror)) from None
    if len(data) > CONFIG_LIMIT:
        raise Verdict(EXIT_SUPERVISOR, "%s is larger than %d bytes" % (path, CONFIG_LIMIT))
    return data.decode("utf-8", "replace")


def container_dir(path, root):
    """The directory of a file under the root, as the container sees it: what
    supervisor's %(here)s means there."""
    relative = os.path.relpath(os.path.dirname(path), root)
    return "/" if relative == "." else "/" + relative


def read_ini(text, wanted=None, deadline=None, path="the config"):
    """The key = value pairs of the wanted sections (all if None), the way
    supervisor's parser (Python's configparser, with inline comments) reads
    them: lines split as a file in text mode splits them, ';' or '#' at the
    start or after whitespace starts a comment, keys in lower case, a line
    indented deeper than its key's continues the value, [DEFAULT]'s keys in
    every section. A small reader instead of configparser, which costs every
    run several ms; linear in the text, and bounded by the deadline (a 1 MiB
    config of short lines takes longer than 0.1 s). What configparser
    refuses (and so supervisord) it reads somehow: the probe then finds
    nothing to ask."""
    sections = {}
    current = key = None  # current: the open section's dict (a scratch one for an unwanted section)
    key_indent = 0
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        if number % 4096 == 0 and too_late(deadline):
            raise Verdict(EXIT_TIMEOUT, "reading %s did not finish within the deadline" % path)
        whole = line.strip()
        value = "" if whole[:1] in ("#", ";") else uncomment(line).strip()
        if not value:
            if not whole and current is not None and key:
                current[key].append("")  # a blank line inside a value is kept, as configparser does
            continue
        indent = len(line) - len(line.lstrip())
        if current is not None and key and indent > key_indent:  # a continuation line
            current[key].append(value)
            continue
        key, key_indent = None, indent
        name = section_header(value)
        if name is not None:
            current = sections.setdefault(name, {}) if wanted is None or name in wanted or name == "DEFAULT" else {}
            continue
        if current is None:
            continue
        cut = min(i for i in (value.find("="), value.find(":"), len(value)) if i >= 0)
        if cut < len(value):
            key = value[:cut].rstrip().lower()
            current[key] = [value[cut + 1:].strip()]
    defaults = sections.pop("DEFAULT", {})
    joined = {}
    for name, keys in sections.items():
        joined[name] = dict((k, "\n".join(v).rstrip()) for k, v in defaults.items())
        joined[name].update((k, "\n".join(v).rstrip()) for k, v in keys.items())
    return joined


def section_header(value):
    """[NAME] as configparser reads it: NAME kept as it is (spaces and all),
    up to the last ']' (Python 3.10 on) or the first (before)."""
    if not value.startswith("["):
        return None
    end = value.rfind("]") if sys.version_info >= (3, 10) else value.find("]")
    return value[1:end] if end > 1 else None


def uncomment(line):
    """The line up to its inline comment, as configparser finds it: ';' or
    '#' at the start or after any whitespace (str.isspace). Before Python
    3.13, configparser looks at the Nth ';' and the Nth '#' together, round
    by round, and takes the first round that has one: so a '#' comment
    after an earlier ';' that is not one may be missed. Linear: each find
    goes on from the last."""
    if ";" not in line and "#" not in line:
        return line
    found = {";": -1, "#": -1}
    starts = []
    while found:
        for prefix, index in list(found.items()):
            index = line.find(prefix, index + 1)
            if index < 0:
                del found[prefix]
                continue
            found[prefix] = index
            if index == 0 or line[index - 1].isspace():
                starts.append(index)
                if sys.version_info >= (3, 13):
                    del found[prefix]  # the earliest of each prefix
        if starts and sys.version_info < (3, 13):
            break
    return line[:min(starts)] if starts else line


def expand(value, here):
    """supervisor's %(here)s, %(ENV_NAME)s and %%, in one pass as Python's
    % formatting does: what a substitution brings in is not expanded again.
    Linear: where no ")s" is left, no name is either."""
    if "%" not in value:
        return value
    parts = []
    i = 0
    close = value.find(")s")
    while i < len(value):
        if 0 <= close < i + 2:
            close = value.find(")s", i + 2)
        name = value[i + 2:close] if value.startswith("%(", i) and close > i else None
        if value.startswith("%%", i):
            parts.append("%")
            i += 2
        elif name == "here":
            parts.append(here)
            i = close + 2
        elif name and name.startswith("ENV_") and name[4:] in os.environ:
            parts.append(os.environ[name[4:]])
            i = close + 2
        else:
            parts.append(value[i])
            i += 1
    return "".join(parts)


# ---------------------------------------------------------------------------
# Step 1, asking: one XML-RPC call over supervisord's socket, bounded by the deadline.
def ask_supervisord(server, method, params, deadline, lenient=False):
    """Call method(*params) (strings and ints); return its value, or
    ("fault", code, text). `lenient`: for answers that carry a log, whose
    control characters supervisord passes on, though XML forbids them."""
    import _socket  # socket.py would import enum too: several ms on every run

    body = (
        "<?xml version='1.0'?>\n<methodCall><methodName>%s</methodName><params>%s</params></methodCall>\n"
        % (method, "".join("<param><value>%s</value></param>" % xmlrpc_scalar(p) for p in params))
    ).encode("utf-8")
    host = b"localhost" if isinstance(server.address, str) else host_header(server)
    head = b"POST /RPC2 HTTP/1.0\r\nHost: %s\r\nContent-Type: text/xml\r\n" % host
    if server.credentials:
        head += b"Authorization: Basic %s\r\n" % basic_auth(server.credentials).encode("ascii")
    request = head + b"Content-Length: %d\r\n\r\n" % len(body) + body

    answer = bytearray()
    sock = None
    try:
        sock = connect(_socket, server.address, deadline)
        sock.sendall(request)
        while len(answer) <= ANSWER_LIMIT:
            sock.settimeout(time_left(deadline))
            data = sock.recv(READ_CHUNK)
            if not data:
                break
            answer += data
    except _socket.timeout:
        raise Verdict(EXIT_TIMEOUT, "supervisord at %s did not answer within the deadline" % server) from None
    except OSError as e:
        raise cannot_ask(server, e, deadline) from None
    finally:
        if sock is not None:
            sock.close()
    if len(answer) > ANSWER_LIMIT:
        raise Verdict(EXIT_SUPERVISOR, "supervisord at %s answered more than %d bytes" % (server, ANSWER_LIMIT))
    return decode_http_answer(bytes(answer), server, lenient)


def host_header(server):
    """HOST:PORT for the Host header, as http.client sends it: ASCII, else
    IDNA (a name in Cyrillic, say); 69 for a host that is neither (bytes
    that were not UTF-8, a label over 63 characters)."""
    host, port = server.address
    try:
        try:
            name = host.encode("ascii")
        except UnicodeError:
            name = host.encode("idna")
    except UnicodeError:
        raise Verdict(EXIT_SUPERVISOR, "cannot ask supervisord at %s: %r is not a host name" % (server, host)) from None
    return b"%s:%d" % (b"[%s]" % name if b":" in name else name, port)


def xmlrpc_scalar(value):
    if is_int(value):
        return "<int>%d</int>" % value
    return "<string>%s</string>" % value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def connect(_socket, address, deadline):
    """A connected socket: AF_UNIX for a path; for (host, port), each of the
    host's addresses in turn, as supervisorctl's http client does."""
    if isinstance(address, tuple):
        targets = [(family, proto, where) for family, _, proto, _, where in resolve(_socket, address, deadline)]
    else:
        targets = [(_socket.AF_UNIX, 0, address)]
    for number, (family, proto, where) in enumerate(targets, 1):
        sock = _socket.socket(family, _socket.SOCK_STREAM, proto)
        try:
            sock.settimeout(time_left(deadline))
            connect_when_accepted(sock, where, deadline)
            return sock
        except OSError:
            sock.close()
            if number == len(targets):
                raise
        except BaseException:
            sock.close()
            raise


def connect_when_accepted(sock, where, deadline):
    """connect(), tried again while supervisord's listen queue is full (a
    Unix socket answers EAGAIN then, at once): a busy supervisord is a slow
    one, not one that cannot be asked."""
    while True:
        try:
            return sock.connect(where)
        except BlockingIOError:
            if deadline - time.monotonic() <= 0.01:
                address = where if isinstance(where, str) else "http://%s:%d" % where[:2]
                raise Verdict(EXIT_TIMEOUT, "supervisord at %s did not accept the connection within the deadline"
                                            " (its listen queue is full)" % address) from None
            time.sleep(0.01)


def resolve(_socket, address, deadline):
    """getaddrinfo for (host, port), bounded by the deadline. An IP address
    needs no lookup; a name's lookup has no timeout of its own, so it runs
    in a thread that the probe does not wait for past the deadline."""
    host, port = address
    try:
        return _socket.getaddrinfo(host, port, 0, _socket.SOCK_STREAM, 0, _socket.AI_NUMERICHOST)
    except (OSError, UnicodeError):
        pass
    import threading

    found = []

    def look_up():
        try:
            found.append(_socket.getaddrinfo(host, port, 0, _socket.SOCK_STREAM))
        except UnicodeError:  # a name that is not one (too long, say)
            found.append(OSError("%r is not a host name" % host))
        except OSError as e:
            found.append(e)

    lookup = threading.Thread(target=look_up)
    lookup.daemon = True  # a lookup still running at the deadline ends with the probe
    lookup.start()
    lookup.join(time_left(deadline))
    if not found:
        raise Verdict(EXIT_TIMEOUT, "looking up %s did not finish within the deadline" % host)
    if isinstance(found[0], OSError):
        raise found[0]
    return found[0]


def time_left(deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        raise Verdict(EXIT_TIMEOUT, "the deadline passed before supervisord answered")
    return left


def basic_auth(credentials):
    import binascii

    pair = ("%s:%s" % credentials).encode("utf-8")
    return binascii.b2a_base64(pair).decode("ascii").strip()


def decode_http_answer(answer, server, lenient=False):
    def garbage(what):
        return Verdict(EXIT_SUPERVISOR, "supervisord at %s answered %s" % (server, what))

    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        raise garbage("no complete HTTP answer (%d bytes)" % len(answer))
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(None, 2)
    if len(status) < 2 or not status[0].startswith("HTTP/"):
        raise garbage("something that is not HTTP")
    if status[1] == "401":
        raise garbage("HTTP 401: authentication refused (check [supervisorctl] username/password)")
    if status[1] != "200":
        raise garbage("HTTP %s" % " ".join(status[1:]))
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = value.strip()
            if not length or length.strip("0123456789"):  # ASCII digits only: int() takes others
                raise garbage("a Content-Length that is not a number (%r)" % length[:20])
            length = length.lstrip("0") or "0"
            if len(length) > len(str(ANSWER_LIMIT)):  # more than supervisord sends; int() refuses 4,301 digits
                raise garbage("a Content-Length of %d digits" % len(length))
            if len(body) < int(length):
                raise garbage("a truncated answer (%d of %s bytes)" % (len(body), length))
            body = body[: int(length)]
    if lenient:
        body = body.translate(bytes(c if c in b"\t\n\r" or c >= 32 else ord("?") for c in range(256)))
    try:
        return parse_xmlrpc_response(body)
    except ValueError as e:
        raise garbage("something that is not XML-RPC (%s)" % e) from None


def parse_xmlrpc_response(body):
    """A methodResponse's value, or ("fault", code, text). Raises ValueError.

    A small unmarshaller on expat, in the way of xmlrpc.client's, which
    costs every run tens of ms of imports."""
    import pyexpat  # the C parser behind xml.parsers.expat

    stack = []  # values, and the names of struct members
    marks = []  # where the open arrays and structs begin in stack
    state = {"text": [], "typed": False}
    scalars = {
        "int": int,
        "i4": int,
        "i8": int,
        "double": float,
        "string": str,
        "boolean": parse_boolean,
        "nil": lambda text: None,
        "dateTime.iso8601": str,
        "base64": str,
    }

    def start(tag, attrs):
        state["text"] = []
        if tag in ("array", "struct"):
            marks.append(len(stack))
        if tag == "value":
            state["typed"] = False

    def end(tag):
        text = "".join(state["text"])
        if tag in scalars:
            stack.append(scalars[tag](text))
            state["typed"] = True
        elif tag == "value" and not state["typed"]:
            stack.append(text)  # a <value> without a type is a string
        elif tag == "name":
            stack.append(text)
        elif tag == "array":
            mark = marks.pop()
            stack[mark:] = [stack[mark:]]
            state["typed"] = True
        elif tag == "struct":
            mark = marks.pop()
            items = stack[mark:]
            if len(items) % 2:
                raise ValueError("a struct member without a value")
            stack[mark:] = [dict(zip(items[::2], items[1::2]))]
            state["typed"] = True

    def reject_doctype(*args):
        raise ValueError("a document type declaration")

    parser = pyexpat.ParserCreate("utf-8")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = lambda data: state["text"].append(data)
    parser.StartDoctypeDeclHandler = reject_doctype
    parser.buffer_text = True
    try:
        parser.Parse(body, True)
    except (pyexpat.ExpatError, TypeError) as e:  # TypeError: a struct member named by a struct
        raise ValueError(str(e)) from None
    if marks or len(stack) != 1:
        raise ValueError("not exactly one value")
    if b"<fault>" in body:
        fault = stack[0]
        if not isinstance(fault, dict) or not is_int(fault.get("faultCode")):
            raise ValueError("a fault without a faultCode")
        return ("fault", fault["faultCode"], as_text(fault.get("faultString", "")))
    if b"<methodResponse>" not in body:
        raise ValueError("no methodResponse")
    return stack[0]


def as_text(value):
    """A value of an answer, to print where text is expected: a string as it
    is, anything else by its type (a hostile one may nest 2,000 deep)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) or value is None:
        return str(value)
    return "(%s)" % ("an array" if isinstance(value, list) else "a struct")


def fault_verdict(fault):
    _, code, text = fault
    return Verdict(EXIT_SUPERVISOR, "supervisord answered fault %d%s" % (code, ": " + text if text else ""))


def parse_boolean(text):
    if text.strip() not in ("0", "1"):
        raise ValueError("boolean %r" % text)
    return text.strip() == "1"


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------------------
# Step 1, why supervisord cannot be asked: a Unix socket that is not there, or
# refuses, tells nothing of supervisord itself; its pidfile and /proc tell
# whether it runs (booting, or its socket removed, or gone).
def cannot_ask(server, error, deadline):
    import errno

    unix = isinstance(server.address, str)
    if unix and error.errno in (errno.ENOENT, errno.ECONNREFUSED) and not not_a_socket(server.address):
        why = "no such socket" if error.errno == errno.ENOENT else "connection refused"
        running = supervisord_state(server, deadline)
        if running is not None:
            return Verdict(EXIT_SUPERVISOR, running % ("at %s (%s)" % (server, why)))
    return Verdict(EXIT_SUPERVISOR, "cannot ask supervisord at %s: %s" % (server, describe_socket_error(error, server)))


def not_a_socket(path):
    """False for a socket or no file at all; True for a file or directory
    there, which a connect() refuses too."""
    import stat

    try:
        return not stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


def describe_socket_error(error, server):
    import errno

    if error.errno == errno.ECONNREFUSED:
        return "connection refused" if isinstance(server.address, tuple) else "connection refused (stale socket, or not a socket)"
    if error.errno == errno.ENOENT:
        return "no such socket"
    if error.strerror:
        return error.strerror
    return str(error)


def supervisord_state(server, deadline):
    """Whether supervisord runs, from its [supervisord] pidfile= (under the
    root) and /proc, as a line with a %s for where it does not listen; None
    when that cannot be told: no config, or a relative pidfile (supervisord's
    default, supervisord.pid, is in its working directory, unknown here)."""
    parser = server.config_read(deadline)
    if parser is None or not parser.has_option("supervisord", "pidfile"):
        return None
    pidfile = expand(parser.get("supervisord", "pidfile"), "")
    if not pidfile.startswith("/"):
        return None
    path = under_root(server.root, pidfile)
    try:
        with open(path, "rb") as f:
            text = f.read(64).decode("ascii", "replace").strip()
    except FileNotFoundError:
        return not_running(server, "no pidfile %s" % path, pidless=True)
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return None
    if not text.isdigit() or not 0 < int(text) < 2 ** 31:
        return not_running(server, "its pidfile %s holds no pid" % path)
    pid = int(text)
    command = process_command(pid)
    if command is None:
        return not_running(server, "its pidfile %s is stale: no process %d" % (path, pid))
    if not is_supervisord(command):  # a pid reused by another process
        return not_running(server, "its pidfile %s is stale: process %d is not supervisord" % (path, pid))
    return "supervisord is running (pid %d) but not listening %%s" % pid


def not_running(server, why, pidless=False):
    """The line for a supervisord its pidfile does not show running. In the
    container's own view (root /, as kubelet runs the probe) /proc shows
    every process of the container: a supervisord there is one that has not
    written its pidfile yet (it opens its socket first, then writes it).
    Elsewhere /proc is not the container's: without a pidfile, supervisord
    may be reading its config."""
    seen = own_view(server.root)
    pid = supervisord_process() if seen else None
    if pid is not None:
        return "supervisord is running (pid %d) but not listening %%s" % pid
    if seen:
        why += ", and no supervisord process"
    elif pidless:
        return "supervisord is not running, or has not yet written its pidfile (%s): nothing listens %%s" % why
    return "supervisord is not running (%s): nothing listens %%s" % why


def supervisord_process():
    """The pid of a process that runs supervisord, from /proc; None."""
    for entry in os.listdir("/proc"):
        command = process_command(int(entry)) if entry.isdigit() else None
        if command and is_supervisord(command):
            return int(entry)
    return None


def is_supervisord(command):
    """A /proc/PID/cmdline that runs supervisord: its program (or the script
    its python runs) is named supervisord, or python -m supervisor.supervisord;
    not a command that only names it (tail -f supervisord.log, the listener)."""
    args = command.split(b"\0")
    return b"supervisord" in [os.path.basename(arg) for arg in args[:2]] or b"supervisor.supervisord" in args[1:3]


def process_command(pid):
    """/proc/PID/cmdline, or None when there is no such process (a zombie's
    is empty)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read(4096)
    except OSError:
        return None


# ---------------------------------------------------------------------------
# Step 1, the start check.
def check_start(supervisor, root, deadline):
    """Return a phrase for the ready line and what supervisord said of start
    (None when it was not asked), or raise the not-ready Verdict."""
    if supervisor is None:
        return "no supervisord", None
    info = ask_supervisord(supervisor, "supervisor.getProcessInfo", [START_PROGRAM], deadline)
    count = 1
    if isinstance(info, tuple) and info[1] == FAULT_BAD_NAME:
        found = start_in_a_group(supervisor, deadline)  # a second question only where there is no plain start
        if found is None:
            refuse_start_only_in_config(supervisor, deadline)
            return "no %s program" % START_PROGRAM, None
        info, count = found
    if isinstance(info, tuple):
        raise fault_verdict(info)
    try:
        return judge_start(info, count), StartRecord(info, supervisor, root, deadline=deadline)
    except StartNotReady as not_ready:
        raise explain_start(not_ready, supervisor, root, deadline) from None


def start_in_a_group(supervisor, deadline):
    """The processes of program start, however supervisord names them (from
    all of its processes): a program's processes form a group named after it
    (start:start_00, ... with numprocs or a process_name of its own), unless
    it is in a [group:NAME] (NAME:start). Every one must have exited 0: the
    first that has not, else the first; and how many there are. None when
    there is none."""
    processes = ask_supervisord(supervisor, "supervisor.getAllProcessInfo", [], deadline)
    if isinstance(processes, tuple):
        raise fault_verdict(processes)
    if not isinstance(processes, list):
        raise Verdict(EXIT_SUPERVISOR, "supervisord's answer for its processes is not a list")
    starts = [p for p in processes if isinstance(p, dict) and START_PROGRAM in (p.get("group"), p.get("name"))]
    failing = [p for p in starts if not (p.get("state") == EXITED and p.get("exitstatus") == 0)]
    return ((failing + starts)[0], len(starts)) if starts else None


def refuse_start_only_in_config(supervisor, deadline):
    """A start in supervisord's config that supervisord does not have: an
    update in progress (`supervisorctl update` removes the changed program,
    then adds it again) or a config changed since supervisord read it. Not
    an image without start: not ready, and not final. A config not read
    by the deadline may have it: not ready either."""
    parser = supervisor.config_read(deadline)
    if parser is None and supervisor.config is not None and too_late(deadline):
        raise Verdict(EXIT_TIMEOUT, "supervisord has no %s program, and the deadline passed before its config (%s) was"
                                    " read to tell whether it should" % (START_PROGRAM, supervisor.config))
    if parser is not None and parser.has_section("program:" + START_PROGRAM):
        raise Verdict(EXIT_NOT_STARTED, "%s is in supervisord's config (%s) but supervisord has no such program: an"
                                        " update in progress, or the config changed since supervisord read it"
                                        % (START_PROGRAM, supervisor.config))


def judge_start(info, count=1):
    """The phrase for a start that exited 0 (each of its `count` processes);
    StartNotReady for any other."""
    if not isinstance(info, dict) or not is_int(info.get("state")) or not is_int(info.get("exitstatus")):
        raise Verdict(EXIT_SUPERVISOR, "supervisord's answer for %s has no integer state and exitstatus" % START_PROGRAM)
    if info["state"] == EXITED and info["exitstatus"] == 0:
        if count > 1:
            return "%s's %d processes exited with status 0" % (START_PROGRAM, count)
        return "%s exited with status 0" % process_name(info)
    raise StartNotReady(info)


def process_name(info, default=START_PROGRAM):
    """A process as supervisorctl names it: NAME when its group is named
    after it, else GROUP:NAME (a [group:GROUP], or numprocs: start:start_01)."""
    name, group = info.get("name"), info.get("group")
    if not isinstance(name, str) or not name:
        name = default
    if isinstance(group, str) and group and group != name:
        return "%s:%s" % (group, name)
    return name


class StartNotReady(Verdict):
    """Exit 2, with what supervisord's answer alone tells (explain_start
    adds what its config and its other programs tell)."""

    def __init__(self, info):
        state, status, program = info["state"], info["exitstatus"], process_name(info)
        name = STATE_NAMES.get(state, "state %d" % state)
        if state == EXITED and status == -1:
            reason = "%s was killed by a signal (EXITED, exit status -1)" % program
        elif state == EXITED:
            reason = "%s exited with status %d" % (program, status)
        elif state == STOPPED and info.get("start") == 0:
            reason = "%s has not been started yet" % program
        else:
            reason = "%s is %s" % (program, name)
            if name in STATE_MEANINGS:
                reason += ": " + STATE_MEANINGS[name]
            if info.get("spawnerr"):
                reason += " (%s)" % as_text(info["spawnerr"])
        Verdict.__init__(self, EXIT_NOT_STARTED, reason)
        self.info = info


class StartRecord(object):
    """What --json reports of start: its state, its exit status where the
    state has one, and whether it is final. Reading the config to tell
    finality is left to when it is printed, and bounded by the run's
    deadline: the ready path reads only the main config, and only --json
    reads more. What cannot be read in time is not final."""

    def __init__(self, info, supervisor, root, final=None, deadline=None):
        self.info = info
        self.supervisor = supervisor
        self.root = root
        self.final = final
        self.deadline = deadline

    def as_json(self):
        if self.final is None:
            settings = program_settings(self.supervisor.config_read(self.deadline), START_PROGRAM)
            final = bool(will_not_change(self.info, settings, None)[0])
            self.final = final and not listener_may_start(settings, self.supervisor, self.root, self.deadline)
        state = self.info["state"]
        return {
            "state": STATE_NAMES.get(state, str(state)),
            "exitstatus": self.info["exitstatus"] if state == EXITED else None,
            "final": self.final,
        }


# ---------------------------------------------------------------------------
# Step 1, why start is not ready: what start's config and supervisord's other
# answers add to its state. Only a failing start check comes here; nothing
# in this section may change the exit code (2), only the words.
def explain_start(not_ready, supervisor, root, deadline):
    info = not_ready.info
    settings = program_settings(supervisor.config_read(deadline), START_PROGRAM)
    final, why = will_not_change(info, settings, lambda: ask_or_none(supervisor, "supervisor.getSupervisorVersion", [], deadline))
    reason = not_ready.reason
    if info["state"] == STOPPED and info.get("start") == 0:
        waits, blocked = dependencies(settings, supervisor, root, deadline)
        reason += waits
        final = final or blocked
        ended = listener_ended(settings, supervisor, root, deadline) if not final else None
        if ended:
            reason = reason.replace(": %s starts it once it has seen that" % LISTENER, "")
            reason += "; %s has ended (%s): nothing will start it" % (LISTENER, ended)
            final = True
    elif why:
        reason += (", and supervisord will not restart it (%s)" if final else "; supervisord will restart it (%s)") % why
        again = listener_may_start(settings, supervisor, root, deadline) if final else None
        if again:
            reason += ", but %s may start it again (%s)" % (LISTENER, again)
            final = False
    if final:
        reason += ": this will not change by itself"
    output = b""
    if info["state"] == FATAL or (info["state"] == EXITED and info["exitstatus"] != 0):
        output, elsewhere = start_log(info, settings, supervisor, root, deadline)
        reason += elsewhere
    verdict = Verdict(EXIT_NOT_STARTED, reason, output)
    verdict.final = bool(final)
    verdict.start = StartRecord(info, supervisor, root, verdict.final)
    return verdict


def will_not_change(info, settings, supervisor_version):
    """(True, why) when start's state is final: FATAL, or EXITED where
    supervisord will not restart it; (False, why) when it will change;
    (None, None) when that cannot be told (no readable config)."""
    state, status = info["state"], info["exitstatus"]
    if state == FATAL:
        return True, None
    if state != EXITED:
        return False, None
    if settings is None:
        return None, None
    autorestart = settings.get("autorestart", "unexpected").lower()
    if autorestart in FALSY:
        return True, "autorestart=false"
    if autorestart in TRUTHY:
        return False, "autorestart=true"
    if autorestart != "unexpected":
        return None, None
    if "exitcodes" in settings:
        codes, source = settings["exitcodes"], "exitcodes=%s" % settings["exitcodes"]
    else:
        codes = default_exitcodes(supervisor_version)
        if codes is None and status == 2:  # 0 or 0,2: only for status 2 do they differ
            return None, None
        source = "exitcodes=%s, supervisord's default" % codes if codes else "supervisord's default exitcodes"
        codes = codes or "0"
    try:
        expected = [int(code) for code in codes.split(",")]
    except (AttributeError, ValueError):  # not a list of numbers
        return None, None
    if status in expected:
        return True, "exit status %d is in %s" % (status, source)
    return False, "exit status %d is not in %s" % (status, source)


def default_exitcodes(supervisor_version):
    """supervisord's default exitcodes, "0" since 4.0, "0,2" before, for the
    version of the supervisord asked (a failing start asks it: the words
    name the default whatever the status); None if it is not known."""
    version = supervisor_version() if supervisor_version else None
    major = version.split(".")[0] if isinstance(version, str) else ""
    if not major or major.strip("0123456789"):
        return None
    return "0" if int(major) >= 4 else "0,2"


def dependencies(settings, supervisor, root, deadline):
    """What start waits for, when supervisord-dependent-startup starts it
    (dependent_startup=true, dependent_startup_wait_for=NAME[:STATE,...] ...,
    RUNNING when no state is named), and the state of each, as a phrase; and
    whether start can never be started, by the listener's own rules.

    The listener starts start once every program it waits for has reached
    one of the states named, at any time since the listener started (its
    has_reached_states), not only now: a FATAL program may have been RUNNING
    before, so FATAL is never final. Final only where no such state can ever
    be reached: no state the listener knows is named (it drops the others),
    or the program was never started and its command cannot be (the
    listener's startProcess fails with NO_FILE or NOT_EXECUTABLE and the
    program stays STOPPED: no state is ever reached)."""
    settings = settings or {}
    wanted = waits_of(settings)
    if not wanted or settings.get("dependent_startup", "").lower() not in TRUTHY:
        return "", False
    states, reached, final = [], [], False
    asked = {}  # supervisord's answers, by name: see dependency_processes
    for item in wanted:
        if too_late(deadline):  # thousands of waits: what is left is not judged, and nothing is claimed
            return ": it waits for %s, and the deadline passed before all were asked about" % " and ".join(wanted), False
        name, waited = waited_for(item)
        processes = dependency_processes(name, supervisor, deadline, asked)
        if processes is None:
            states.append("%s's state is unknown" % name)
        elif not processes:  # the listener drops a wait for a program it does not have
            states.append("%s is not a supervisord program" % name)
        elif not waited:
            states.append("%s names no state supervisord-dependent-startup waits for (%s)" % (item, ", ".join(WAITABLE)))
            final = True
        elif all(info["state"] in [STATE_NUMBERS[state] for state in waited] for info in processes):
            who = process_name(processes[0], name) if len(processes) == 1 else name
            reached.append((who, ", ".join(STATE_NAMES[info["state"]] for info in processes)))
            states.append("%s has reached it (%s)" % reached[-1])
        else:
            for info in processes:
                why, certain = cannot_be_started(info, waited, name, supervisor, root, deadline, asked)
                final = final or certain
                states.append(why or process_phrase(info, name))
    if len(reached) == len(wanted):
        return (": it waits for %s, which %s: supervisord-dependent-startup starts it once it has seen that"
                % (" and ".join(wanted), " and ".join("%s has reached (%s)" % pair for pair in reached))), False
    return ": it waits for %s, and %s" % (" and ".join(wanted), ", ".join(states)), final


def waits_of(settings):
    """dependent_startup_wait_for's items as the listener keeps them: split
    on single spaces, and one per program, the last given (a dict by name),
    where the first stood."""
    waits = {}
    for item in settings.get("dependent_startup_wait_for", "").split(" "):
        if item:
            waits[waited_for(item)[0]] = item
    return list(waits.values())


def waited_for(item):
    """NAME and the states of NAME[:STATE,...] as the listener reads them
    (its ServiceOptions._parse_wait_for): RUNNING unless exactly one ':'
    names states; those it does not know dropped."""
    parts = item.split(":")
    named = [state.upper() for state in parts[1].split(",")] if len(parts) == 2 else ["RUNNING"]
    return parts[0], [state for state in named if state in WAITABLE]


def dependency_processes(name, supervisor, deadline, asked):
    """The processes of program NAME, as the listener names programs in
    dependent_startup_wait_for (by [program:NAME]): NAME itself, else (on
    BAD_NAME) from all of supervisord's processes, those of group NAME
    (numprocs) or named NAME in a [group:]; [] when there are none; None when
    supervisord's answers make no sense. `asked` keeps this run's answers
    by name, and all processes under ALL_PROCESSES: within one judgement of
    start, supervisord is asked about each once, so its parts agree."""
    if name not in asked:
        asked[name] = processes_named(name, supervisor, deadline, asked)
    return asked[name]


ALL_PROCESSES = None  # asked's key for getAllProcessInfo's answer: no program is named None


def processes_named(name, supervisor, deadline, asked):
    """Ask supervisord for NAME's processes: getProcessInfo, else (NAME is a
    group, or a name in a [group:]) from getAllProcessInfo, asked once."""
    info = ask_or_none(supervisor, "supervisor.getProcessInfo", [name], deadline)
    if isinstance(info, dict):
        processes = [info]
    elif isinstance(info, tuple) and info[1] == FAULT_BAD_NAME:
        if ALL_PROCESSES not in asked:
            asked[ALL_PROCESSES] = ask_or_none(supervisor, "supervisor.getAllProcessInfo", [], deadline)
        if not isinstance(asked[ALL_PROCESSES], list):
            return None
        processes = [p for p in asked[ALL_PROCESSES] if isinstance(p, dict) and name in (p.get("group"), p.get("name"))]
    else:
        return None
    if not all(isinstance(p, dict) and is_int(p.get("state")) for p in processes):
        return None
    return processes


def process_phrase(info, name):
    state = STATE_NAMES.get(info["state"], "in state %d" % info["state"])
    spawnerr = as_text(info.get("spawnerr") or "")[:SPAWNERR_LIMIT]
    return "%s is %s%s" % (process_name(info, name), state, " (%s)" % spawnerr if spawnerr else "")


def cannot_be_started(info, waited, name, supervisor, root, deadline, asked):
    """('NAME cannot be started: PATH does not exist' (is not executable,
    ...), certain) for a program that was never started and whose command
    supervisord cannot run; (None, False) when it could be, or that cannot
    be told. A spawn that fails on its own (autostart) passes through
    STARTING, BACKOFF and FATAL: then those states may yet be reached, and
    nothing is claimed. Certain (final) only once the listener has tried to
    start it: when what it waits for itself is reached. Before, the file may
    yet come (a program it waits for may install it)."""
    if info["state"] != STOPPED or info.get("start") != 0 or set(waited) & set(("STARTING", "BACKOFF", "FATAL")):
        return None, False
    settings = program_settings(supervisor.config_read(deadline), name) or {}
    why = command_problem(settings.get("command", ""), settings, supervisor, root, deadline)
    if not why:
        return None, False
    return "%s cannot be started: %s" % (process_name(info, name), why), own_waits_met(settings, supervisor, deadline,
                                                                                        asked)


def own_waits_met(settings, supervisor, deadline, asked):
    """Whether every program a program waits for is now in a state it waits
    for (the listener has tried to start it then), or it waits for none."""
    for item in waits_of(settings):
        name, waited = waited_for(item)
        processes = dependency_processes(name, supervisor, deadline, asked)
        if not processes or not all(info["state"] in [STATE_NUMBERS[state] for state in waited] for info in processes):
            return False
    return True


def command_problem(command, settings, supervisor, root, deadline):
    """Why supervisord cannot run a command (its get_execv_args): the first
    word is a path when it holds a '/', else it is searched on the PATH
    supervisord gives the program (see supervisord_path). None when it can
    run, or that cannot be told (a relative path, an expansion left, a PATH
    not known, ...)."""
    import shlex

    lexer = shlex.shlex(command, posix=True)
    lexer.whitespace_split = True
    try:
        program = lexer.get_token()  # the first word alone: the rest may be long
    except ValueError:
        return None
    if not program or "%(" in program:
        return None
    if "/" in program:
        return path_problem(program, root) if program.startswith("/") else None
    path = supervisord_path(settings, supervisor, root, deadline)
    if path is None or len(path) > PATH_LIMIT or not all(directory.startswith("/") for directory in path):
        return None  # not known, or a directory relative to supervisord's cwd
    problems = [path_problem(os.path.join(directory, program), root) for directory in path]
    if not all(problems):
        return None
    found = [problem for problem in problems if not problem.endswith(" does not exist")]
    if found:  # supervisord takes the first that exists
        return found[0]
    return "%s is not on PATH (%s)" % (program, ":".join(unique(path)))


def supervisord_path(settings, supervisor, root, deadline):
    """The PATH supervisord searches for a program's command (its
    ProcessConfig.get_path): PATH in the program's environment=, else in
    [supervisord] environment=, else supervisord's own, else its default
    /bin:/usr/bin:/usr/local/bin. supervisord's own is known only in the
    container's own view, from /proc/PID/environ; None when not known."""
    parser = supervisor.config_read(deadline)
    for environment in (settings.get("environment"),
                        parser.get("supervisord", "environment", fallback=None) if parser else None):
        if environment:
            try:
                pairs = key_value_pairs(expand(environment, ""))
            except ValueError:
                return None  # supervisord would refuse the config
            if "PATH" in pairs:
                return pairs["PATH"].split(os.pathsep)
    if not own_view(root):
        return None
    pid = ask_or_none(supervisor, "supervisor.getPID", [], deadline)
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            environ = f.read(ENVIRON_LIMIT).split(b"\0")
    except (OSError, TypeError, ValueError):
        return None
    for entry in environ:
        if entry.startswith(b"PATH="):
            path = entry[len(b"PATH="):].decode("utf-8", "surrogateescape")
            return path.split(os.pathsep) if path else list(SUPERVISORD_DEFAULT_PATH)
    return list(SUPERVISORD_DEFAULT_PATH)


def key_value_pairs(text):
    """supervisor's datatypes.dict_of_key_value_pairs: KEY=val,KEY2="v,al"."""
    import shlex

    lexer = shlex.shlex(text)
    lexer.wordchars += "/.+-():"
    tokens = list(lexer)
    pairs = {}
    for i in range(0, len(tokens), 4):
        key_eq_value = tokens[i:i + 3]
        if len(key_eq_value) != 3 or key_eq_value[1] != "=":
            raise ValueError("not KEY=value pairs")
        pairs[key_eq_value[0]] = key_eq_value[2].strip("'\"")
    return pairs


def path_problem(path, root):
    """'PATH does not exist' / 'is a directory' / 'is not executable' (no x
    bit: supervisord's own check), None when it can be run or that cannot be
    told."""
    import errno
    import stat

    try:
        mode = stat_in_root(path, root).st_mode
    except OSError as error:
        return "%s does not exist" % path if error.errno in (errno.ENOENT, errno.ENOTDIR) else None
    except ValueError:  # a NUL in the path: supervisord could not run it either, but say nothing
        return None
    if stat.S_ISDIR(mode):
        return "%s is a directory" % path
    if not stat.S_IMODE(mode) & 0o111:
        return "%s is not executable" % path
    return None


def stat_in_root(path, root, links=40):
    """os.stat of a container path, its symbolic links followed inside the
    root (an absolute link names a container path), at most `links` of them."""
    if own_view(root):
        return os.stat(path)
    import errno

    parts, done = path.split("/"), ""
    while parts:
        part = parts.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            done = os.path.dirname(done)
            continue
        host = under_root(root, done + "/" + part)
        if not os.path.islink(host):
            done += "/" + part
            continue
        links -= 1
        if links < 0:
            raise OSError(errno.ELOOP, "too many symbolic links")
        target = os.readlink(host)
        done = "" if target.startswith("/") else done
        parts = target.split("/") + parts
    return os.stat(under_root(root, done or "/"))


def unique(items):
    """The items in their order, each once."""
    seen, once = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            once.append(item)
    return once


# The listener may start start again. It starts a program again on any event
# while it has not yet seen it reach RUNNING or FATAL (its is_service_done):
# a start.sh that exits at once can be started again, after it exited, while
# the listener works through the events queued before start's RUNNING. It
# stops once every program it starts is done, and exits. So an exited start
# is final only once the listener has ended; and a start never started is
# final when the listener has ended without starting it.
LISTENER = "supervisord-dependent-startup"


def listener_may_start(settings, supervisor, root, deadline):
    """For a start that the listener starts, while the listener may still
    start it again: the listener's state ("dependent-startup is RUNNING");
    None when it has ended, or start is not the listener's, or no listener
    is configured."""
    state = listener_state(settings, supervisor, root, deadline)
    return state[0] if state and not state[1] else None


def listener_ended(settings, supervisor, root, deadline):
    """The listener's state when it has ended for good (FATAL, STOPPED, or
    EXITED where supervisord will not restart it); None otherwise."""
    state = listener_state(settings, supervisor, root, deadline)
    return state[0] if state and state[1] else None


def listener_state(settings, supervisor, root, deadline):
    """(phrase, ended) of the [eventlistener:] that runs the listener, when
    start is the listener's (dependent_startup=true); ended is False while
    it runs, may run again, or its state cannot be had. None when start is
    not the listener's, or no listener is configured."""
    if (settings or {}).get("dependent_startup", "").lower() not in TRUTHY:
        return None
    parser = supervisor.config_read(deadline)
    if parser is None:
        return "its state is unknown", False
    listeners = [section for section in parser.sections() if section.startswith("eventlistener:")]
    sections = ([section for section in listeners
                 if any(word in parser.get(section, "command", fallback="") for word in LISTENER_COMMANDS)]
                or [section for section in listeners  # started by a wrapper of its own: any that hears state changes
                    if "PROCESS_STATE" in parser.get(section, "events", fallback="").upper()])
    if not sections:
        return None  # nothing hears start's state change: nothing starts it again
    name = sections[0].split(":", 1)[1]
    processes = dependency_processes(name, supervisor, deadline, {})  # by its name, or its group's
    if processes == []:
        return None  # supervisord runs no such listener: the config read is not all it runs
    if not processes or not is_int(processes[0].get("exitstatus")):
        return "%s's state is unknown" % name, False
    info = processes[0]
    phrase = "%s is %s" % (name, STATE_NAMES.get(info["state"], "in state %d" % info["state"]))
    listener_settings = dict((key, expand(value, "")) for key, value in parser.items(sections[0]))
    if info["state"] == STOPPED and info.get("start") == 0:  # at boot, before supervisord spawns it
        return phrase, listener_settings.get("autostart", "true").lower() in FALSY
    if info["state"] in (FATAL, STOPPED):
        return phrase, True
    if info["state"] == EXITED:
        return phrase, bool(will_not_change(info, listener_settings, None)[0])
    return phrase, False


def start_log(info, settings, supervisor, root, deadline):
    """The tail of what start printed, as supervisord keeps it in its log
    files (read over XML-RPC: the probe may not see supervisord's files),
    each file once; and a phrase naming the streams that went to syslog."""
    output, to_syslog, files = b"", [], []
    settings = settings or {}
    for stream in ("stdout", "stderr"):
        if to_syslog_setting(settings, stream):
            to_syslog.append(stream)
        logfile = info.get(stream + "_logfile")  # none for stderr under redirect_stderr=true: it is in stdout's
        if logfile and logfile != "syslog":  # supervisord 3 reports its magic name as a file
            files.append((stream, logfile))
    for stream, logfile in files:
        if stream == "stderr" and ("stdout", logfile) in files:
            continue  # the same file as stdout's: shown once, under both names
        both = stream == "stdout" and ("stderr", logfile) in files
        tail = log_tail(supervisor, "supervisor.tailProcess%sLog" % stream.capitalize(), process_name(info), deadline)
        head = "[%s's %s, %s" % (process_name(info), "stdout and stderr" if both else stream, logfile)
        if tail is None:  # not the words lost in silence
            output += (head + ": supervisord did not send its tail]\n").encode("utf-8", "replace")
        elif tail:
            output += (head + "]\n" + tail + ("" if tail.endswith("\n") else "\n")).encode("utf-8", "replace")
    if not to_syslog:
        return output, ""
    streams = "output" if len(to_syslog) == 2 else to_syslog[0]
    if syslog_listens(root) is False:
        return output, ("; its %s went to syslog, but nothing receives syslog in the container (no socket listening"
                        " at %s), so it may be lost" % (streams, SYSLOG_SOCKET))
    return output, "; its %s went to syslog" % streams


def log_tail(supervisor, method, name, deadline):
    """The last OUTPUT_LIMIT bytes of a log ("" when there is none, or the
    answer is not a tail), or None when supervisord did not send it.
    supervisord decodes the tail it read as strict UTF-8
    (supervisor.options.tailFile, then as_string) and answers HTTP 500 when
    it begins inside a character: a tail 1 to 3 bytes shorter begins after
    that character's continuation bytes. Bytes that are not UTF-8 within
    the tail get a 500 at every length."""
    for length in range(OUTPUT_LIMIT, OUTPUT_LIMIT - 4, -1):
        tail = ask_or_none(supervisor, method, [name, 0, length], deadline, lenient=True)
        if tail is not None:
            break
    else:
        return None
    if isinstance(tail, list) and tail and isinstance(tail[0], str):
        return tail[0]
    return ""


def syslog_listens(root):
    """Whether something receives syslog at /dev/log under the root: True,
    False (no such file, or nobody listening: ENOENT, ECONNREFUSED), or None
    when it cannot be told. rsyslogd's imuxsock listens on a datagram socket,
    others on a stream one; connect() sends nothing and writes nothing."""
    import _socket
    import errno

    path, nobody = under_root(root, SYSLOG_SOCKET), False
    for kind in (_socket.SOCK_DGRAM, _socket.SOCK_STREAM):
        sock = _socket.socket(_socket.AF_UNIX, kind)
        try:
            sock.setblocking(False)  # a full backlog is an answer too, not a wait
            sock.connect(path)
            return True
        except OSError as e:
            if e.errno not in (errno.ENOENT, errno.ECONNREFUSED, errno.EPROTOTYPE):
                return None  # EAGAIN (a full backlog), EACCES...: something may be there
            nobody = nobody or e.errno != errno.EPROTOTYPE
        finally:
            sock.close()
    return False if nobody else None


def to_syslog_setting(settings, stream):
    """stdout_logfile=syslog (supervisor 3 and SONiC's), or stdout_syslog=true (4)."""
    return (settings.get(stream + "_logfile", "").lower() == "syslog"
            or settings.get(stream + "_syslog", "").lower() in TRUTHY)


def ask_or_none(supervisor, method, params, deadline, lenient=False):
    """A further question for a diagnosis: its answer (or fault), or None when
    it could not be had. It never turns the verdict into 69 or 124."""
    try:
        return ask_supervisord(supervisor, method, params, deadline, lenient)
    except Verdict:
        return None


def program_settings(parser, name):
    """[program:NAME]'s settings in a config read as supervisord reads it
    (Supervisor.config_read), %(ENV_X)s expanded. None when there is no
    config, it could not be read in time, or it has no such program (then
    it is not the config supervisord runs)."""
    section = "program:" + name
    if parser is None or not parser.has_section(section):
        return None
    return dict((key, expand(value, "")) for key, value in parser.items(section))


def read_config_as_supervisord(config, root, deadline=None):
    """The main config and every file its [include] files= names
    (whitespace-separated globs, relative to the main config's directory,
    each sorted), read into one parser as supervisord does: supervisor's
    UnhosedConfigParser is a RawConfigParser with inline_comment_prefixes
    (';', '#') and strict=False (later values override earlier ones), and
    %(here)s is replaced by each file's own directory once it is read. All
    under the root, each file at most CONFIG_LIMIT bytes, at most
    INCLUDE_LIMIT files. None when there is no config, or it cannot be read
    by the deadline (None: no bound), or supervisord's parser refuses it.
    Only the failure path and --json come here: configparser is imported
    here alone."""
    if config is None:
        return None
    import configparser

    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    try:
        read_into(parser, config, deadline)
        here = container_dir(config, root)
        expand_here(parser, here, deadline)
        paths = []
        files = parser.get("include", "files") if parser.has_option("include", "files") else ""
        for pattern in expand(files, here).split():
            matches = glob_in_time(under_root(root, os.path.join(here, pattern)), deadline)
            if len(paths) + len(matches) > INCLUDE_LIMIT:
                return None
            paths += sorted(matches)
        for path in paths:
            if os.path.isfile(path):  # what supervisord's parser cannot open, it skips
                read_into(parser, path, deadline)
                expand_here(parser, container_dir(path, root), deadline)
    except (Verdict, OSError, ValueError, configparser.Error):
        return None
    return parser


def glob_in_time(pattern, deadline):
    """glob.glob(pattern) for an absolute pattern, directory by directory,
    checking the deadline at each: glob.iglob may walk a large tree for long
    before it yields a match. Names starting with '.' match only a part that
    starts with '.', a literal part must exist (a directory, but for the
    last), as in glob; '**' is '*' (supervisord does not glob recursively).
    Raises Verdict (124) past the deadline."""
    import fnmatch
    import glob

    parts = [part for part in pattern.split("/") if part]
    found = ["/"]
    for number, part in enumerate(parts, 1):
        last = number == len(parts) and not pattern.endswith("/")  # PATTERN/ matches directories only
        matches = []
        for base in found:
            if too_late(deadline):
                raise Verdict(EXIT_TIMEOUT, "the deadline passed while looking for the files %s names" % pattern)
            if glob.has_magic(part):
                try:
                    names = os.listdir(base)
                except OSError:
                    continue
                if not part.startswith("."):
                    names = [name for name in names if not name.startswith(".")]
                candidates = [os.path.join(base, name) for name in fnmatch.filter(names, part)]
            else:
                candidates = [os.path.join(base, part)]
            matches += [path for path in candidates if (os.path.lexists(path) if last else os.path.isdir(path))]
        found = matches
    return found


def read_into(parser, path, deadline):
    """One file into the parser, as a file in text mode gives it lines,
    checking the deadline as it goes. A line with more than
    PARSER_KEY_LIMIT characters before its '=' or ':' is refused:
    configparser's option pattern is quadratic in such a run of spaces."""
    import io

    lines = io.StringIO(read_config_file(path), newline=None)

    def in_time():
        for number, line in enumerate(lines):
            if number % 256 == 0 and too_late(deadline):
                raise Verdict(EXIT_TIMEOUT, "the deadline passed while reading %s" % path)
            if len(line) > PARSER_KEY_LIMIT and key_length(line) > PARSER_KEY_LIMIT:
                raise Verdict(EXIT_SUPERVISOR, "%s has a line too long to read" % path)
            yield line

    parser.read_file(in_time(), path)


def too_late(deadline):
    return deadline is not None and time.monotonic() > deadline


def key_length(line):
    ends = [i for i in (line.find("="), line.find(":")) if i >= 0]
    return min(ends) if ends else len(line)


def expand_here(parser, here, deadline):
    """supervisor's UnhosedConfigParser.expand_here: %(here)s, in every value
    that still has one, becomes the directory of the file just read. It
    visits every section after every file: bounded by the deadline too."""
    for section in parser.sections():
        if too_late(deadline):
            raise Verdict(EXIT_TIMEOUT, "the deadline passed while reading supervisord's config")
        for key, value in parser.items(section):
            if "%(here)s" in value:
                parser.set(section, key, value.replace("%(here)s", here))


# ---------------------------------------------------------------------------
# Step 2, the hook: its own process group, reaped, bounded by the deadline.
def check_hook(opts, deadline, start_phrase, supervisor):
    hook = opts.hook or under_root(opts.root, HOOK_PATH)
    if not os.path.lexists(hook):
        return Verdict(EXIT_READY, "ready: %s; no hook" % start_phrase)
    refuse_unrunnable(hook)
    code, output, how = run_hook(hook, hook_environment(opts, deadline, supervisor), deadline, opts.whole_process)
    if code == EXIT_READY:
        verdict = Verdict(EXIT_READY, "ready: %s; hook exited 0" % start_phrase)
    else:
        verdict = Verdict(code, "hook %s%s" % (how, whose_code(code) if how.startswith("exited") else ""), output)
    if how.startswith(("exited", "was killed")):
        verdict.by = "hook"  # its own exit status, not the probe's verdict on it (124)
    if not verdict.ready:
        raise verdict
    return verdict


def refuse_unrunnable(hook):
    def cannot(why):
        return Verdict(EXIT_HOOK_NOT_EXECUTABLE, "hook %s cannot be executed: %s" % (hook, why))

    if not os.path.exists(hook):
        raise cannot("it is a dangling symlink to %s" % os.readlink(hook))
    if os.path.isdir(hook):
        raise cannot("it is a directory")
    if not os.access(hook, os.X_OK):
        raise cannot("it is not executable (chmod +x)")


def hook_environment(opts, deadline, supervisor):
    """The probe's environment, and what the hook needs to know: the root,
    its deadline (as a time on the monotonic clock, and as what is left
    now), supervisord's address (never its credentials) and the config
    named by -c or READINESS_PROBE_CONFIG, where its --program reads them."""
    env = dict(os.environ)
    env[ENV_ROOT] = opts.root
    if opts.config_in_container:
        env[ENV_CONFIG] = opts.config_in_container
    left = max(0.0, deadline - time.monotonic())
    env[ENV_TIME_LEFT] = "%.3f" % left
    env[ENV_TIME_LEFT_MS] = "%d" % (left * 1000)
    env[ENV_DEADLINE] = "%.6f" % deadline
    if supervisor is None:
        env.pop(ENV_SUPERVISOR, None)
    else:
        env[ENV_SUPERVISOR] = supervisor.url()
    return env


def run_hook(hook, env, deadline, whole_process=False):
    """Run the hook; return (exit code, tail of its output, what happened).

    The hook gets /dev/null as stdin and one pipe as stdout and stderr. It
    leads its own process group: when it exits, or the deadline passes, or
    the probe is told to stop, the whole group is killed and the hook reaped.
    When the probe is the whole process and can be a child subreaper,
    everything else the hook started, daemonized or not, is killed and
    reaped too. Reaping ends by the deadline plus REAP_GRACE: what is still
    there then (stuck in the kernel) is left, and the line says so.
    A signal that would end the probe (SIGTERM, SIGINT, SIGHUP, ...: see
    stop_signals) at any moment of this raises Interrupted."""
    stdin, out_r, out_w, exec_r, exec_w, wake_r, wake_w = hook_fds()  # exec_*: carries exec's errno, or EOF
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    received = []
    stops = stop_signals()
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGCHLD,) + stops}
    saved_wakeup = signal.set_wakeup_fd(wake_w)  # SIGCHLD wakes poll(): no busy waiting
    signal.signal(signal.SIGCHLD, lambda sig, frame: None)
    for sig in stops:
        signal.signal(sig, lambda sig, frame: received.append(sig))
    mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGCHLD,))  # inherited blocked, no SIGCHLD would wake poll
    pid = None
    outcome = (EXIT_INTERNAL, b"", "")
    subreaper = whole_process and become_subreaper()
    try:
        pid = start_hook_process()
        if pid == 0:
            exec_hook(hook, env, stdin, out_w, exec_w, mask)  # never returns
        for fd in (stdin, out_w, exec_w):
            os.close(fd)
        stdin = out_w = exec_w = None
        try:
            os.setpgid(pid, pid)  # also in the child: whoever runs first makes the group
        except OSError:
            pass
        exec_error = os.read(exec_r, 64)
        if exec_error:
            raise exec_failure(hook, int(exec_error))
        outcome = watch_hook(pid, out_r, wake_r, received, deadline)
    finally:
        if pid:
            kill_group(pid)
            if subreaper:
                all_gone = kill_and_reap_all(wake_r, deadline + REAP_GRACE)
            else:
                all_gone = reap_hook(pid, wake_r, deadline + REAP_GRACE)
            if not all_gone:
                outcome = outcome[:2] + (outcome[2] + LEFT_BEHIND,)
        if subreaper:
            set_subreaper(0)
        signal.set_wakeup_fd(saved_wakeup)
        for fd in (stdin, out_r, out_w, exec_r, exec_w, wake_r, wake_w):
            if fd is not None:
                os.close(fd)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for sig, handler in saved.items():  # last: --wait's handler raises (see stop_waiting)
            signal.signal(sig, handler)
        if received:  # checked last, so that a signal during the clean-up is not lost
            raise Interrupted(received[0], outcome[1])
    return outcome


def stop_signals():
    """The signals that would end the probe, caught while the hook runs and
    awaited in the pause between --wait runs, so that the hook's processes
    die first and the verdict is printed. Not those the probe was started
    with ignored (nohup's SIGHUP, a background job's SIGINT): they stay so."""
    names = ("SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGTERM", "SIGVTALRM", "SIGPROF",
             "SIGIO", "SIGPWR", "SIGXCPU", "SIGSTKFLT")
    candidates = [getattr(signal, name) for name in names if hasattr(signal, name)]
    if hasattr(signal, "SIGRTMIN"):  # the real-time signals end a process too
        candidates += range(signal.SIGRTMIN, signal.SIGRTMAX + 1)
    stopping = (signal.SIG_DFL, signal.default_int_handler, stop_waiting)
    return tuple(sig for sig in candidates if signal.getsignal(sig) in stopping)


def hook_fds():
    """/dev/null for the hook's stdin, its output pipe, exec's error pipe and
    the wakeup pipe: all opened before the fork, so that running out of fds
    is the probe's to say (71), not the child's."""
    fds = []
    try:
        fds.append(os.open(os.devnull, os.O_RDONLY))
        for _ in range(3):
            fds.extend(os.pipe())
    except OSError as e:
        for fd in fds:
            os.close(fd)
        raise cannot_start_hook("pipe" if fds else "open /dev/null", e) from None
    return fds


def start_hook_process():
    """fork(), or one line saying why not (a full process table, say)."""
    try:
        return os.fork()
    except OSError as e:
        raise cannot_start_hook("fork", e) from None


def exec_hook(hook, env, stdin, out_w, exec_w, mask):
    """In the forked child: become a group leader, wire up the fds, exec
    with the signal mask the probe was given."""
    try:
        os.setpgid(0, 0)
        os.dup2(stdin, 0)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        for name in ("SIGPIPE", "SIGXFSZ"):  # Python ignores these; the hook should not
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.execve(hook, [hook], env)
    except OSError as e:
        os.write(exec_w, str(e.errno or 0).encode("ascii"))
    finally:
        os._exit(EXIT_HOOK_NOT_EXECUTABLE)


def watch_hook(pid, out_r, wake_r, received, deadline):
    """Read the hook's output until it exits, the deadline passes or the
    probe is told to stop. Returns (code, output tail, what happened)."""
    import select

    tail = OutputTail()
    poller = select.poll()
    poller.register(out_r, select.POLLIN)
    poller.register(wake_r, select.POLLIN)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return EXIT_TIMEOUT, tail.value(), "did not finish within the deadline; its process group was killed"
        for fd, _ in poller.poll(left * 1000):
            if fd == wake_r:
                drain(wake_r)
            elif not tail.read_from(fd):
                poller.unregister(out_r)
        if received:
            return EXIT_INTERNAL, tail.value(), "interrupted"  # run_hook raises Interrupted
        exit_info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)  # leaves a zombie
        if exit_info is not None and exit_info.si_pid == pid:
            kill_group(pid)  # what the hook left behind may still hold the pipe
            tail.drain_available(out_r)
            if exit_info.si_code == os.CLD_EXITED:
                return exit_info.si_status, tail.value(), "exited %d" % exit_info.si_status
            sig = exit_info.si_status
            return EXIT_SIGNAL_BASE + sig, tail.value(), "was killed by %s" % signal_name(sig)


def kill_group(pid):
    """SIGKILL the hook's process group, and the hook itself in case it left
    the group. Safe while the hook is unreaped: a zombie keeps its pid and
    its group id from being reused."""
    for kill, target in ((os.killpg, pid), (os.kill, pid)):
        try:
            kill(target, signal.SIGKILL)
        except OSError:
            pass  # already gone


def reap_hook(pid, wake_r, bound):
    """Reap the killed hook, waiting for it until `bound` at most: a process
    in uninterruptible sleep, or held by a tracer, dies only when the kernel
    lets it. True when it is reaped."""
    import select

    poller = select.poll()
    poller.register(wake_r, select.POLLIN)
    while True:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return True
        except ChildProcessError:
            return True  # reaped already (by an embedder's own waitpid(-1), say)
        left = bound - time.monotonic()
        if left <= 0:
            return False
        poller.poll(min(REAP_PAUSE_MAX, left) * 1000)  # a SIGCHLD ends the pause
        drain(wake_r)


# The subreaper: on Linux, orphans the hook leaves (setsid, a double fork,
# a helper that backgrounds itself) are re-parented to the probe rather than
# to the container's init, so the probe can find them all and kill them.
# Only when the probe is the whole process (readiness_probe.sh, or the file
# run as a script): then every child it has is the hook or what the hook
# left, and killing and reaping its children touches nothing else. A program
# that imports the module and calls main() may start children of its own at
# any time, from any thread: those are never signalled or reaped.
def become_subreaper():
    """Make the probe a child subreaper for the hook's run, when it is
    Linux, ctypes is there, and the probe, told by main() that it is the
    whole process, is indeed alone. False when not: then only the hook's
    process group is killed, as everywhere else."""
    if not sys.platform.startswith("linux"):
        return False
    return alone() and set_subreaper(1)


def alone():
    """No other thread (one could start a child while the hook runs) and no
    child yet: every child the probe has from now on is the hook's."""
    try:
        if len(os.listdir("/proc/self/task")) != 1:
            return False
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return False  # a child already: not the probe's to reap
    except ChildProcessError:
        return True
    except OSError:
        return False  # no /proc: the probe could not find what to kill


def set_subreaper(flag):
    try:
        import ctypes  # only here: ~2 ms, paid by runs with a hook

        arguments = [ctypes.c_ulong(value) for value in (flag, 0, 0, 0)]
        return ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, *arguments) == 0
    except (ImportError, OSError, AttributeError):  # no ctypes, no libc to load, no prctl in it
        return False


def kill_and_reap_all(wake_r, bound):
    """Kill and reap every child until the probe has no child left (True),
    or until `bound` (False: a process in uninterruptible sleep cannot be
    killed). The children of a killed process become the probe's, killed by
    the next round: so a fork loop ends too, its forks cannot outrun the
    rounds for long. Costs one waitpid when the hook left nothing behind."""
    import select

    poller = select.poll()
    poller.register(wake_r, select.POLLIN)
    pause = 0.001
    while True:
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return True  # no child left: nothing the hook started is alive
        left = bound - time.monotonic()
        if left <= 0:
            return False
        kill_children()
        poller.poll(min(pause, left) * 1000)  # a SIGCHLD ends the pause
        drain(wake_r)
        pause = min(pause * 2, REAP_PAUSE_MAX)


def kill_children():
    """SIGKILL every child of the probe, as /proc shows them. Children only,
    not all descendants: a child's pid cannot be reused until the probe
    reaps it, and it reaps none between reading /proc and killing, so the
    process killed is the one read. A grandchild could be reaped by its
    parent meanwhile and its pid given to a stranger; it becomes the probe's
    child when its parent dies, and the next round kills it."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fd = os.open("/proc/%s/stat" % entry, os.O_RDONLY)
            try:
                stat = os.read(fd, 1024)
            finally:
                os.close(fd)
            ppid = int(stat.rsplit(b")", 1)[1].split()[1])  # the name before ")" may hold anything
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if ppid == me:
            try:
                os.kill(int(entry), signal.SIGKILL)
            except OSError:
                pass  # gone already


def drain(fd):
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def signal_name(number):
    import signal as signals  # the enum of names: only when a name is printed

    try:
        return signals.Signals(number).name
    except ValueError:
        return "signal %d" % number


class OutputTail(object):
    """The last bytes of the hook's output: read everything, keep the tail,
    so memory stays flat whatever the hook prints."""

    def __init__(self, keep=OUTPUT_LIMIT):
        self.keep = keep
        self.data = bytearray()
        self.total = 0

    def read_from(self, fd):
        data = os.read(fd, READ_CHUNK)
        self.total += len(data)
        self.data += data
        if len(self.data) > self.keep:
            del self.data[: len(self.data) - self.keep]
        return bool(data)

    def drain_available(self, fd):
        """After the hook exited: what is already in the pipe, never waiting
        for a process that escaped the group and still holds it."""
        import select

        poller = select.poll()
        poller.register(fd, select.POLLIN)
        for _ in range(DRAIN_LIMIT // READ_CHUNK):
            if not poller.poll(0) or not self.read_from(fd):
                break

    def value(self):
        if self.total > len(self.data):
            return CUT_MARK + bytes(self.data[len(CUT_MARK):])
        return bytes(self.data)


# ---------------------------------------------------------------------------
# Step 2, why the hook did not run, or what its code is.
def cannot_start_hook(call, error):
    """70, or 71 when the system refused (EAGAIN: no free PIDs, ulimit -u;
    EMFILE, ENFILE: no free fds; ENOMEM): that passes, so --wait tries again."""
    import errno

    limits = {errno.EAGAIN: "process slot" if call == "fork" else "resources", errno.ENOMEM: "memory",
              errno.EMFILE: "file descriptor", errno.ENFILE: "file descriptor"}
    verdict = Verdict(EXIT_INTERNAL, "cannot start the hook: %s failed: %s" % (call, error.strerror))
    if error.errno in limits:
        verdict.code = EXIT_NO_RESOURCES
        verdict.reason += " (a limit of the system: no free %s)" % limits[error.errno]
    return verdict


def exec_failure(hook, number):
    """126 with why the hook cannot be executed; 71 when the system lacked
    the memory or fds for the exec."""
    import errno

    if number in (errno.EAGAIN, errno.ENOMEM, errno.EMFILE, errno.ENFILE):
        return cannot_start_hook("exec", OSError(number, os.strerror(number)))
    return Verdict(EXIT_HOOK_NOT_EXECUTABLE, "hook %s cannot be executed: %s" % (hook, explain_exec_error(hook, number)))


def explain_exec_error(hook, number):
    import errno
    import stat

    head = b""
    try:
        fd = os.open(hook, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not hold the probe
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                head = os.read(fd, 256)
        finally:
            os.close(fd)
    except OSError:
        pass
    if number == errno.ENOEXEC and head.startswith(b"\x7fELF"):
        return "a binary for another machine (%s)" % elf_machine(head)
    if number == errno.ENOEXEC:
        return "not a binary and no #! line (an empty file?)"
    line = head.split(b"\n", 1)[0]
    if number == errno.ENOENT and line.startswith(b"#!") and line.endswith(b"\r"):
        return ("its #! line ends in a carriage return (DOS line endings: dos2unix it), so the interpreter"
                " looked for is %r" % line[2:].strip(b" ").decode("utf-8", "replace").split(" ")[0])
    if number == errno.ENOENT and line.startswith(b"#!"):
        return "its interpreter does not exist (%s)" % line.strip().decode("utf-8", "replace")
    if number == errno.ENOENT:
        return "a program it needs does not exist (a binary's loader or library?)"
    return os.strerror(number)


def elf_machine(head):
    """"ELF for AArch64; this machine is x86_64", from the ELF header."""
    machines = {2: "SPARC", 3: "x86", 8: "MIPS", 20: "PowerPC", 21: "PowerPC64", 22: "s390", 40: "ARM",
                43: "SPARC V9", 62: "x86-64", 183: "AArch64", 243: "RISC-V", 258: "LoongArch"}
    number = int.from_bytes(head[18:20], "big" if head[5:6] == b"\x02" else "little")
    return "ELF for %s; this machine is %s" % (machines.get(number, "machine %d" % number), os.uname().machine)


def whose_code(code):
    """For a hook's exit code that the probe also gives: that it is the
    hook's own, and where such a code usually comes from."""
    origins = {
        EXIT_TIMEOUT: "timeout(1)'s when it stopped a command",
        EXIT_HOOK_NOT_EXECUTABLE: "a shell's for a command it cannot execute",
        EXIT_NO_PYTHON: "a shell's for a command not found",
    }
    if code in HOOK_CODES or code == EXIT_HOOK_CRASHED:
        return ""
    if code in origins:
        return " (the hook's own code, not the probe's: %s)" % origins[code]
    if EXIT_SIGNAL_BASE < code < EXIT_SIGNAL_BASE + signal.NSIG:
        return " (the hook's own code, not the probe's: a shell's when a command it ran was killed by %s)" % (
            signal_name(code - EXIT_SIGNAL_BASE))
    return " (the hook's own code, not the probe's)"


# ---------------------------------------------------------------------------
# The verdict and its output.
def probe(opts):
    """One run of the whole check, bounded by --timeout."""
    deadline = time.monotonic() + opts.timeout
    start = None
    try:
        supervisor = find_supervisor(opts, deadline)
        start_phrase, start = check_start(supervisor, opts.root, deadline)
        verdict = check_hook(opts, deadline, start_phrase, supervisor)
    except Verdict as failure:
        verdict = failure
    verdict.start = verdict.start or start
    return verdict


def first_line(verdict):
    if verdict.ready:
        return one_line(verdict.reason)
    return one_line("not ready (exit %d): %s" % (verdict.code, verdict.reason))


def one_line(text):
    """Control characters, newlines and undecodable bytes (of a path, say)
    out, length capped."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    text = "".join(c if c >= " " and c != "\x7f" else " " for c in text)
    data = text.encode("utf-8")
    if len(data) > REASON_LIMIT:
        text = data[: REASON_LIMIT - 3].decode("utf-8", "ignore") + "..."  # "ignore": a character cut in two
    return text


def printable(output, budget):
    """The hook's output as text: invalid UTF-8 and NULs replaced, and when
    it is over `budget` bytes, only its tail, from a character boundary."""
    data = output.decode("utf-8", "replace").replace("\x00", "\ufffd").encode("utf-8")
    if len(data) > budget:
        data = data[len(data) - budget + len(CUT_MARK):]
        while data and 0x80 <= data[0] < 0xC0:
            data = data[1:]
        data = CUT_MARK + data
    return data.decode("utf-8")


def output_text(verdict, budget):
    """What follows the first line, only on failure: the hook's output, or
    start's own last words."""
    if verdict.ready or not verdict.output or budget <= len(CUT_MARK):
        return ""
    body = printable(verdict.output, budget)
    if body.endswith("\n"):
        return body
    return printable(verdict.output, budget - 1) + "\n"  # room for the newline it lacks


def render_text(verdict):
    head = first_line(verdict) + "\n"
    return (head + output_text(verdict, OUTPUT_LIMIT - len(head.encode("utf-8")))).encode("utf-8")


def render_json(verdict, extra=None, limit=OUTPUT_LIMIT):
    """One JSON object and a newline. Its output is cut so that the whole
    stays within `limit` bytes (with --wait, what the lines before took of
    10 KiB is not there any more); the other fields are always written."""
    import json

    record = {"ready": verdict.ready, "code": verdict.code, "by": verdict.by, "reason": first_line(verdict)}
    record["start"] = verdict.start.as_json() if verdict.start else None
    record.update(extra or {})

    def encoded(budget):
        record["output"] = output_text(verdict, budget)
        return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")

    whole = encoded(limit)
    if len(whole) <= limit:
        return whole
    # Escapes make the output longer in JSON than in text, by how much
    # depends on the bytes: find the largest tail that fits, by bisection.
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if len(encoded(middle)) <= limit:
            low = middle
        else:
            high = middle - 1
    return encoded(low)


def write(data):
    """Write to stdout, unbuffered; returns the number of bytes."""
    size = len(data)
    try:
        while data:
            data = data[os.write(1, data):]
    except OSError:
        pass  # nobody reads: the exit code still speaks
    return size


# ---------------------------------------------------------------------------
# --wait: the upgrade controller's "re-check until timeout".
def wait_until_ready(opts):
    """Stop signals (see stop_signals) end the wait with a line whenever they
    come: while supervisord is asked they raise Stopped (as SIGINT raises
    KeyboardInterrupt), while the hook runs run_hook catches them, and
    elsewhere they are blocked: the pause's sigtimedwait or the next run
    takes them, never halfway through a line."""
    stops = stop_signals()
    saved = {sig: signal.getsignal(sig) for sig in stops}
    for sig in stops:
        signal.signal(sig, stop_waiting)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    try:
        return wait_runs(opts, stops)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        while stops and signal.sigtimedwait(stops, 0):
            pass  # after the last verdict: it changes nothing
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def wait_runs(opts, stops):
    end = time.monotonic() + opts.wait
    last = None
    lines = ChangeLines(opts.json)
    stopped_by = None
    while True:
        output = last.output if last else b""
        verdict = Interrupted(stopped_by, output, "it stopped waiting") if stopped_by else run_unless_stopped(opts, stops, output)
        if last is None or (verdict.code, verdict.reason) != (last.code, last.reason):
            lines.change(verdict)
        last = verdict
        stop = verdict.ready or verdict.final or isinstance(verdict, Interrupted) or time.monotonic() + opts.interval > end
        if stop:
            break
        stopped_by = pause(opts.interval)
    lines.finish(last)
    return last


class ChangeLines(object):
    """--wait's output: a line (or a JSON object) per change of verdict,
    within OUTPUT_LIMIT in all however many changes there are. Room for the
    last verdict is kept; when a change would eat into it, that change and
    all later ones are not shown (text says so once, the last JSON object
    counts them in "not_shown"), and the last verdict is printed at the end.
    In text the last failure's output follows, in what is left."""

    def __init__(self, as_json):
        self.as_json = as_json
        self.written = 0
        self.hidden = 0  # changes not shown
        self.stamp = None  # when the last change was seen, if it was not shown

    def change(self, verdict):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        room = OUTPUT_LIMIT - self.written - self.reserve(stamp)
        data = self.render(verdict, stamp, min(room, OUTPUT_LIMIT - LATER_LINES - self.written))
        if not self.hidden and len(data) <= room:
            self.written += write(data)
            return
        if not self.hidden and not self.as_json:
            self.written += write((NOT_SHOWN % stamp).encode("utf-8"))
        self.hidden += 1
        self.stamp = stamp

    def finish(self, last):
        if self.hidden:
            extra = {"not_shown": self.hidden - 1} if self.hidden > 1 else {}
            self.written += write(self.render(last, self.stamp, OUTPUT_LIMIT - self.written, extra))
        if not self.as_json:
            write(output_text(last, OUTPUT_LIMIT - self.written).encode("utf-8"))

    def render(self, verdict, stamp, limit, extra=None):
        if not self.as_json:
            return ("%s %s\n" % (stamp, first_line(verdict))).encode("utf-8")
        fields = {"time": stamp}
        fields.update(extra or {})
        return render_json(verdict, fields, limit)

    def reserve(self, stamp):
        """Bytes kept for the last verdict, whatever it is: the notice and
        its line (the reason at most REASON_LIMIT bytes), or its JSON object
        without output (the reason's quotes and backslashes escaped, two
        bytes each; the other fields take less than 256)."""
        if self.as_json:
            return 2 * REASON_LIMIT + 256
        return len((NOT_SHOWN % stamp).encode("utf-8")) + len(stamp) + 1 + REASON_LIMIT + 1


class Stopped(KeyboardInterrupt):
    """A stop signal while --wait asks supervisord: the ask ends at once."""

    def __init__(self, sig):
        KeyboardInterrupt.__init__(self, sig)
        self.signal = sig


def stop_waiting(sig, frame):
    raise Stopped(sig)


def run_unless_stopped(opts, stops, output):
    """One run, the only time in --wait when the stop signals are not
    blocked; the last run's output goes with a stop."""
    try:
        try:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
            return probe(opts)
        finally:
            signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    except KeyboardInterrupt as stop:  # Stopped, or a SIGINT that was not given stop_waiting
        return Interrupted(getattr(stop, "signal", signal.SIGINT), output, "it stopped waiting")


def pause(seconds):
    """Sleep between --wait runs. A signal that would end the probe ends the
    pause: return its number (None when the time is up). They are blocked
    and waited for with sigtimedwait rather than caught: a handler could
    fire anywhere once the pause is over."""
    stops = stop_signals()
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    try:
        received = signal.sigtimedwait(stops, seconds)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    return received.si_signo if received else None


# ---------------------------------------------------------------------------
# --program: a hook's question, "is this program RUNNING?", answered with the
# probe's own client, under the probe's root and within the hook's deadline.
def program_state(opts):
    deadline = time.monotonic() + opts.timeout
    if opts.deadline is not None:
        deadline = min(deadline, opts.deadline)
    try:
        supervisor = find_supervisor(opts, deadline)
        if supervisor is None:
            raise Verdict(EXIT_SUPERVISOR, "no supervisord to ask about %s (no config and no socket)" % opts.program)
        info = ask_supervisord(supervisor, "supervisor.getProcessInfo", [opts.program], deadline)
        if isinstance(info, tuple) and info[1] == FAULT_BAD_NAME:
            raise Verdict(EXIT_NOT_STARTED, "%s is not a supervisord program" % opts.program)
        if isinstance(info, tuple):
            raise fault_verdict(info)
        if not isinstance(info, dict) or not is_int(info.get("state")):
            raise Verdict(EXIT_SUPERVISOR, "supervisord's answer for %s has no integer state" % opts.program)
    except Verdict as failure:
        return failure
    state = info["state"]
    if state == RUNNING:
        return Verdict(EXIT_READY, "%s is RUNNING" % opts.program)
    reason = "%s is %s" % (opts.program, STATE_NAMES.get(state, "in state %d" % state))
    if state == EXITED and is_int(info.get("exitstatus")):
        reason += " (exit status %d)" % info["exitstatus"]
    elif info.get("spawnerr"):
        reason += " (%s)" % as_text(info["spawnerr"])[:SPAWNERR_LIMIT]
    return Verdict(EXIT_NOT_STARTED, reason)


def help_text():
    """--help: the synopsis, then FLAGS, ENVIRONMENT and EXIT_CODES."""
    import textwrap
    values = {"hook": HOOK_PATH, "configs": " and ".join(CONFIG_PATHS), "timeout": DEFAULT_TIMEOUT,
              "interval": DEFAULT_INTERVAL, "ENV_ROOT": ENV_ROOT, "ENV_CONFIG": ENV_CONFIG, "ENV_TIMEOUT": ENV_TIMEOUT}
    def spelled(flag, alias, value):  # "--configuration FILE, -c FILE", "--help, -h"
        return ", ".join(name + (" " + value if value else "") for name in (flag, alias) if name)

    flags = [spelled(flag, alias, value) for flag, alias, value, _ in FLAGS]

    def listing(rows, width):
        lines = []
        for name, meaning in rows:
            text = textwrap.wrap(meaning, 100 - width - 3)
            if len(name) > width:
                lines.append("  " + name)
            else:
                lines.append("  %-*s %s" % (width, name, text.pop(0)))
            lines.extend(" " * (width + 3) + line for line in text)
        return "\n".join(lines)

    return USAGE % dict(values, flags=listing([(name, row[3] % values) for name, row in zip(flags, FLAGS)], 19),
                        environment=listing(ENVIRONMENT, 29),
                        exit_codes=listing([(shown, meaning) for _, shown, meaning in EXIT_CODES], 6))


def main(argv=None, as_program=False):
    """Run the probe; returns the exit code. as_program: the caller is
    readiness_probe.sh or `python3 readiness_probe.py`, so the probe is the
    whole process and may kill and reap every child it has (see
    become_subreaper). A program that imports the module calls main()
    without it: its own children are never signalled or reaped."""
    argv = sys.argv[1:] if argv is None else argv
    as_json = "--json" in argv
    try:
        opts = parse_options(argv, os.environ)
        opts.whole_process = as_program
        if opts.show == "help":
            write(help_text().encode("utf-8"))
            return EXIT_READY
        if opts.show == "version":
            write(("readiness_probe %s\n" % __version__).encode("utf-8"))
            return EXIT_READY
        if opts.wait is not None:
            return wait_until_ready(opts).code
        verdict = program_state(opts) if opts.program else probe(opts)
    except Verdict as failure:
        verdict = failure
    except KeyboardInterrupt as stop:
        sig = getattr(stop, "signal", signal.SIGINT)  # Stopped: a second stop signal as --wait ends
        verdict = Verdict(EXIT_SIGNAL_BASE + sig, "the probe received %s" % signal_name(sig))
    except Exception as e:  # one line, never a traceback
        verdict = Verdict(EXIT_INTERNAL, "internal error: %s: %s" % (type(e).__name__, e))
    write(render_json(verdict) if as_json else render_text(verdict))
    return verdict.code


def run():
    """The installed readiness-probe command: the probe is the whole process."""
    return main(as_program=True)


if __name__ == "__main__":
    sys.exit(main(as_program=True))
