"""The manifests under examples/: valid Kubernetes objects whose readiness
probe runs the probe and lets it finish within its own deadline.

kubelet does not kill an exec probe that outlives timeoutSeconds, so the probe
bounds itself (--timeout, READINESS_PROBE_TIMEOUT, default 0.8 s); that
deadline starts after the interpreter has, and must end before timeoutSeconds.
"""

import glob
import os
import sys

import pytest
import yaml

import readiness_probe as rp

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
MANIFESTS = sorted(glob.glob(os.path.join(EXAMPLES, "*.yaml")) + glob.glob(os.path.join(EXAMPLES, "*.yml")))

# The Kubernetes release whose API the examples are checked against, and the
# first kubernetes-validate release that ships its schemas.
KUBERNETES_VERSION = "1.35"
KUBERNETES_VALIDATE_MIN = "1.35.0"

PROBE_COMMANDS = (
    ["/usr/bin/readiness_probe.sh"],  # the POSIX launcher
    ["python3", "/usr/bin/readiness_probe.py"],  # images without /bin/sh
)
KUBELET_DEFAULT_TIMEOUT_SECONDS = 1
STARTUP_MS = 100  # the interpreter's start and the probe's import, before its deadline starts


@pytest.fixture(scope="module")
def kubernetes_validate():
    """tests/requirements.txt installs kubernetes-validate on Python 3.8 and
    later only: the releases that ship current schemas need jsonschema 4.23."""
    if sys.version_info < (3, 8):
        return pytest.importorskip("kubernetes_validate", minversion=KUBERNETES_VALIDATE_MIN)
    import kubernetes_validate

    return kubernetes_validate


def documents(path):
    with open(path) as f:
        return [document for document in yaml.safe_load_all(f) if document is not None]


def pod_spec(document):
    """The pod spec of a Pod, or of a workload's pod template."""
    if document.get("kind") == "Pod":
        return document.get("spec") or {}
    return ((document.get("spec") or {}).get("template") or {}).get("spec") or {}


def probed_containers(path):
    """(where, container) for every container with a readiness probe."""
    found = []
    for index, document in enumerate(documents(path)):
        for container in pod_spec(document).get("containers") or ():
            if "readinessProbe" in container:
                where = "document %d, container %r" % (index, container.get("name"))
                found.append((where, container))
    return found


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


manifests = pytest.mark.parametrize("path", MANIFESTS, ids=os.path.basename)


def test_examples_hold_manifests():
    assert MANIFESTS, "no *.yaml or *.yml under %s" % EXAMPLES


@manifests
def test_every_document_is_a_valid_kubernetes_object(path, kubernetes_validate):
    """Strict: a misspelt or unknown field fails, as does a value of the wrong type."""
    problems = []
    for index, document in enumerate(documents(path)):
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(key) for key in error.path)
            problems.append("document %d, at %s: %s" % (index, where, error.message))
        except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as error:
            problems.append("document %d: %s" % (index, error.message))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@manifests
def test_every_manifest_has_a_readiness_probe(path):
    assert probed_containers(path), "no container with a readinessProbe"


@manifests
def test_readiness_probe_runs_the_launcher_or_python3_on_the_probe(path):
    for where, container in probed_containers(path):
        command = (container["readinessProbe"].get("exec") or {}).get("command")
        assert command in PROBE_COMMANDS, "%s: exec command %r" % (where, command)


@manifests
def test_timeout_seconds_exceeds_the_probe_deadline_with_room_to_start(path):
    for where, container in probed_containers(path):
        timeout_ms = 1000 * container["readinessProbe"].get("timeoutSeconds", KUBELET_DEFAULT_TIMEOUT_SECONDS)
        deadline_ms = probe_deadline_ms(container)
        assert timeout_ms > deadline_ms + STARTUP_MS, (
            "%s: timeoutSeconds is %d ms, the probe's deadline %d ms plus %d ms to start"
            % (where, timeout_ms, deadline_ms, STARTUP_MS)
        )
