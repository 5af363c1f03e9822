"""The manifests under examples/: valid Kubernetes objects, for the oldest and
the newest Kubernetes release that kubernetes-validate ships, whose containers
run the probe as a startupProbe and as a readinessProbe, never as a
livenessProbe, and let it finish within its own deadline.

At timeoutSeconds containerd kills the probe's own process, not its hook, so
the probe bounds itself (--timeout, READINESS_PROBE_TIMEOUT, default 0.8 s); that
deadline starts after the interpreter has, and must end before timeoutSeconds.
"""

import glob
import os
import re
import sys

import pytest
import yaml

import readiness_probe as rp
from fake_container import PROBE, compile_marked_twin, no_shell_command

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(REPO, "examples")
MANIFESTS = sorted(glob.glob(os.path.join(EXAMPLES, "*.yaml")) + glob.glob(os.path.join(EXAMPLES, "*.yml")))
DAEMONSET = os.path.join(EXAMPLES, "daemonset.yaml")
README = os.path.join(REPO, "README.md")

# The oldest kubernetes-validate the tests accept, as tests/requirements.txt.
KUBERNETES_VALIDATE_MIN = "1.35.0"

NO_SHELL = os.path.join(EXAMPLES, "pod-readiness-no-shell.yaml")
PROBE_COMMANDS = (
    ["/usr/bin/readiness_probe.sh"],  # the POSIX launcher
    no_shell_command("/usr/bin"),  # images without /bin/sh: the launcher's python lines, run by kubelet
)
PROBES = ("startupProbe", "readinessProbe")  # what runs the probe, in the order kubelet runs them
# kubelet's values for a probe's fields left out.
PROBE_DEFAULTS = {
    "initialDelaySeconds": 0,
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}
STARTUP_MS = 100  # the interpreter's start and the probe's import, before its deadline starts
SLOW_START_SECONDS = 60  # the least time a startupProbe must give start.sh before the container is restarted


@pytest.fixture(scope="module")
def kubernetes_validate():
    """tests/requirements.txt installs kubernetes-validate on Python 3.8 and
    later only: the releases that ship current schemas need jsonschema 4.23."""
    if sys.version_info < (3, 8):
        return pytest.importorskip("kubernetes_validate", minversion=KUBERNETES_VALIDATE_MIN)
    import kubernetes_validate

    return kubernetes_validate


@pytest.fixture(params=["oldest", "newest"])
def kubernetes_version(request, kubernetes_validate):
    """The oldest or the newest Kubernetes release whose schemas the installed
    kubernetes-validate ships (the releases it lists for --kubernetes-version)."""
    from kubernetes_validate.utils import all_versions

    versions = all_versions()
    return versions[0] if request.param == "oldest" else versions[-1]


def documents(path):
    with open(path) as f:
        return [document for document in yaml.safe_load_all(f) if document is not None]


def pod_spec(document):
    """The pod spec of a Pod, or of a workload's pod template."""
    if document.get("kind") == "Pod":
        return document.get("spec") or {}
    return ((document.get("spec") or {}).get("template") or {}).get("spec") or {}


def containers(path):
    """(where, container) for every container of every document."""
    found = []
    for index, document in enumerate(documents(path)):
        for container in pod_spec(document).get("containers") or ():
            found.append(("document %d, container %r" % (index, container.get("name")), container))
    return found


def probes(path, *kinds):
    """(where, probe) for every probe of these kinds (default: PROBES) there is."""
    return [("%s, %s" % (where, kind), container[kind]) for where, container in containers(path)
            for kind in kinds or PROBES if kind in container]


def field(probe, name):
    return probe.get(name, PROBE_DEFAULTS[name])


def probe_deadline_ms(container):
    """The deadline the probe runs with: READINESS_PROBE_TIMEOUT from the
    container's environment (exec probes inherit it) when set and not empty,
    else the probe's default."""
    deadline = rp.DEFAULT_TIMEOUT
    for variable in container.get("env") or ():
        if variable["name"] == rp.ENV_TIMEOUT:
            assert "value" in variable, "%s must be a literal value" % rp.ENV_TIMEOUT
            value = variable["value"]
            deadline = rp.parse_seconds(value, rp.ENV_TIMEOUT) if value else rp.DEFAULT_TIMEOUT
    return 1000 * deadline


def readme_probe_stanzas():
    """The first yaml block of the README's Kubernetes section, parsed."""
    with open(README) as f:
        text = f.read()
    section = re.search(r"^## Kubernetes\n(.*?)(?=^## )", text, re.M | re.S)
    assert section, "README.md has no Kubernetes section"
    block = re.search(r"^```yaml\n(.*?)^```$", section.group(1), re.M | re.S)
    assert block, "README.md's Kubernetes section has no yaml block"
    return yaml.safe_load(block.group(1))


manifests = pytest.mark.parametrize("path", MANIFESTS, ids=os.path.basename)


def test_examples_hold_manifests():
    assert MANIFESTS, "no *.yaml or *.yml under %s" % EXAMPLES


@manifests
def test_every_document_is_a_valid_kubernetes_object(path, kubernetes_validate, kubernetes_version):
    """As `kubernetes-validate --strict -k VERSION`: a misspelt or unknown
    field fails, as does a value of the wrong type."""
    problems = []
    for index, document in enumerate(documents(path)):
        try:
            checked = kubernetes_validate.validate(document, kubernetes_version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(key) for key in error.path)
            problems.append("document %d, at %s: %s" % (index, where, error.message))
        except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as error:
            problems.append("document %d: %s" % (index, error.message))
        else:
            assert kubernetes_version.startswith(checked + "."), "checked against %s, not %s" % (checked, kubernetes_version)
    if problems:
        pytest.fail("Kubernetes %s:\n%s" % (kubernetes_version, "\n".join(problems)), pytrace=False)


@manifests
def test_every_container_runs_the_probe_as_startup_and_readiness_probe(path):
    assert containers(path), "no container"
    for where, container in containers(path):
        for kind in PROBES:
            assert kind in container, "%s: no %s" % (where, kind)


@manifests
def test_probes_run_the_launcher_or_python3_on_the_probe(path):
    for where, probe in probes(path):
        command = (probe.get("exec") or {}).get("command")
        assert command in PROBE_COMMANDS, "%s: exec command %r" % (where, command)


@manifests
def test_no_liveness_probe_runs_the_probe(path):
    """A failing hook would restart the container, whose start.sh the probe
    then fails again: a restart loop."""
    for where, container in containers(path):
        command = ((container.get("livenessProbe") or {}).get("exec") or {}).get("command")
        assert command not in PROBE_COMMANDS, "%s: livenessProbe runs %r" % (where, command)


@manifests
def test_startup_probe_gives_a_slow_start_sh_its_budget(path):
    """kubelet restarts the container when the startupProbe has not passed
    within initialDelaySeconds + failureThreshold x periodSeconds."""
    for where, startup in probes(path, "startupProbe"):
        budget = field(startup, "initialDelaySeconds") + field(startup, "failureThreshold") * field(startup, "periodSeconds")
        assert budget >= SLOW_START_SECONDS, "%s: gives start.sh %d s" % (where, budget)


@manifests
def test_startup_probe_success_threshold_is_one(path):
    """The API server refuses any other value; the schema does not say so."""
    for where, startup in probes(path, "startupProbe"):
        assert field(startup, "successThreshold") == 1, where


@manifests
def test_timeout_seconds_exceeds_the_probe_deadline_with_room_to_start(path):
    for where, container in containers(path):
        deadline_ms = probe_deadline_ms(container)
        for kind in PROBES:
            if kind in container:
                timeout_ms = 1000 * field(container[kind], "timeoutSeconds")
                assert timeout_ms > deadline_ms + STARTUP_MS, (
                    "%s, %s: timeoutSeconds is %d ms, the probe's deadline %d ms plus %d ms to start"
                    % (where, kind, timeout_ms, deadline_ms, STARTUP_MS)
                )


def test_daemonset_min_ready_seconds_outlasts_a_readiness_failure():
    """A new pod counts as available, and the rollout moves to the next
    switch, once it has been ready for minReadySeconds: longer than the
    readinessProbe takes to report a feature that fails right after its first
    success."""
    (daemonset,) = documents(DAEMONSET)
    assert daemonset["kind"] == "DaemonSet"
    min_ready = daemonset["spec"].get("minReadySeconds", 0)
    for where, readiness in probes(DAEMONSET, "readinessProbe"):
        flip = field(readiness, "failureThreshold") * field(readiness, "periodSeconds")
        assert min_ready > flip, "%s: minReadySeconds %d, readiness fails after %d s" % (where, min_ready, flip)


def test_readme_shows_the_daemonsets_probes():
    ((_, container),) = containers(DAEMONSET)
    assert readme_probe_stanzas() == {kind: container[kind] for kind in PROBES}


# -- the no-shell form runs as the launcher does ------------------------------------
def installed_no_shell_command(directory):
    """The no-shell example's command, for the image's python3 (the one under
    test) and the probe installed in `directory` instead of /usr/bin."""
    ((_, startup), (_, readiness)) = probes(NO_SHELL)
    command = startup["exec"]["command"]
    assert readiness["exec"]["command"] == command
    assert command[0] == "python3", command
    return [sys.executable] + [re.sub("^/usr/bin(?=/|$)", str(directory), word) for word in command[1:]]


def install_probe(directory):
    import shutil

    directory.mkdir()
    shutil.copy(PROBE, str(directory))
    return str(directory / "readiness_probe.py")


def test_no_shell_example_runs_the_images_bytecode(ready, tmp_path):
    """What `python3 -m py_compile` left in __pycache__ is what runs, not the
    source: here bytecode compiled from a copy whose version differs (same
    size and mtime as the source, so python takes the bytecode as current)."""
    import subprocess

    source = install_probe(tmp_path / "usr-bin")
    marked = compile_marked_twin(source, tmp_path)
    cached = sorted(os.listdir(str(tmp_path / "usr-bin" / "__pycache__")))
    command = installed_no_shell_command(tmp_path / "usr-bin")
    version = subprocess.run(command + ["--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert version.stdout == ("readiness_probe %s\n" % marked).encode()
    probe = subprocess.run(command + ["--root", ready.root], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL)
    assert (probe.returncode, probe.stdout) == (0, b"ready: start exited with status 0; no hook\n")
    assert sorted(os.listdir(str(tmp_path / "usr-bin" / "__pycache__"))) == cached  # -B: writes no bytecode


def test_no_shell_example_without_the_module_is_70_and_one_line(tmp_path):
    import subprocess

    (tmp_path / "usr-bin").mkdir()
    command = installed_no_shell_command(tmp_path / "usr-bin")
    result = subprocess.run(command + ["--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert (result.returncode, result.stdout.decode()) == (
        70, "not ready (exit 70): cannot import readiness_probe.py from %s: No module named 'readiness_probe'\n"
        % (tmp_path / "usr-bin")), result


def test_readme_shows_the_no_shell_command():
    with open(README) as f:
        text = f.read()
    section = re.search(r"^## Install into an image\n(.*?)(?=^## )", text, re.M | re.S)
    assert section, "README.md has no Install into an image section"
    block = re.search(r"^```yaml\n(.*?)^```$", section.group(1), re.M | re.S)
    assert block, "README.md's Install into an image section has no yaml block"
    assert yaml.safe_load(block.group(1)) == {"command": no_shell_command("/usr/bin")}
