"""Property-based: whatever supervisord's socket answers, the probe ends with
one of 0, 2, 69, 124 and one line, never a traceback."""

import xmlrpc.client

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import readiness_probe as rp
from fake_container import FakeContainer
from misbehaving_server import MisbehavingServer, http_answer, untyped_strings, xmlrpc_answer

ALLOWED = {0, 2, 69, 124}
PROCESS_EXAMPLES = 60  # each runs the probe as a process
DECODE_EXAMPLES = 600  # each runs the decoding in this process
EXAMPLES_RUN = {"process": 0, "decode": 0}

xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\t\n"), max_size=20)
int32 = st.integers(min_value=-(2 ** 31), max_value=2 ** 31 - 1)
scalars = st.one_of(int32, st.booleans(), xml_text, st.floats(allow_nan=False, allow_infinity=False), st.none())
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(xml_text, inner, max_size=3), max_leaves=8
)
process_structs = st.builds(
    lambda known, extra: dict(extra, **known),
    st.fixed_dictionaries(
        {},
        optional={
            "state": st.sampled_from(sorted(rp.STATE_NAMES)) | int32 | values,
            "exitstatus": st.sampled_from([0, 1, -1, 2]) | int32 | values,
            "statename": xml_text,
            "spawnerr": xml_text,
            "name": xml_text,
        },
    ),
    st.dictionaries(xml_text, values, max_size=3),
)


def nested(depth, leaf):
    """A value nested `depth` arrays deep, written by hand: xmlrpc.client's
    own writer would recurse too deep."""
    return "<value><array><data>" * depth + leaf + "</data></array></value>" * depth


def deeply_nested_answer(depth, where):
    """A getProcessInfo answer, or a fault, with one member nested deep."""
    member = "<member><name>%s</name>%s</member>" % (where, nested(depth, "<value>x</value>"))
    numbers = ("<member><name>state</name><value><int>200</int></value></member>"
               "<member><name>exitstatus</name><value><int>0</int></value></member>")
    if where == "faultString":
        return http_answer("<?xml version='1.0'?><methodResponse><fault><value><struct><member><name>faultCode</name>"
                           "<value><int>6</int></value></member>%s</struct></value></fault></methodResponse>" % member)
    return http_answer("<?xml version='1.0'?><methodResponse><params><param><value><struct>%s%s</struct></value>"
                       "</param></params></methodResponse>" % (numbers, member))


answers = st.one_of(
    st.binary(max_size=2048),
    st.binary(max_size=1024).map(lambda body: http_answer(body)),
    values.map(xmlrpc_answer),
    process_structs.map(xmlrpc_answer),
    st.builds(lambda digits, body: http_answer(body, extra_headers="Content-Length: %s\r\n" % digits),
              st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n), st.binary(max_size=64)),
    st.builds(deeply_nested_answer, st.integers(min_value=1, max_value=3000),
              st.sampled_from(["spawnerr", "faultString", "statename", "name", "group"])),
)


@pytest.fixture(scope="module")
def fake_supervisord():
    container = FakeContainer()
    server = MisbehavingServer(container.path("/var/run/fake.sock"), b"")
    with server:
        yield container, server
    container.destroy()


@settings(max_examples=PROCESS_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(answer=answers)
def test_any_answer_ends_in_a_documented_code_without_traceback(fake_supervisord, answer):
    container, server = fake_supervisord
    server.answer = answer
    result = container.probe("--socket", "/var/run/fake.sock", "--timeout", "5")
    EXAMPLES_RUN["process"] += 1
    assert result.code in ALLOWED, result
    assert result.text.count("\n") == 1, result
    assert "Traceback" not in result.text


@settings(max_examples=DECODE_EXAMPLES, deadline=None)
@given(answer=answers)
def test_any_answer_decodes_to_a_verdict_or_a_start_phrase(answer):
    EXAMPLES_RUN["decode"] += 1
    try:
        info = rp.decode_http_answer(answer, "/fake.sock")
        if isinstance(info, tuple):
            assert info[0] == "fault" and isinstance(info[1], int)
        else:
            assert rp.judge_start(info).endswith(" exited with status 0")  # start, or its name as supervisord says
    except rp.Verdict as verdict:
        assert verdict.code in ALLOWED
        assert "\n" not in rp.first_line(verdict)


@settings(max_examples=DECODE_EXAMPLES, deadline=None)
@given(value=values)
def test_decoding_matches_xmlrpc_client(value):
    """The probe's small unmarshaller reads what xmlrpc.client writes."""
    body = xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True).encode("utf-8")
    assert rp.parse_xmlrpc_response(body) == xmlrpc.client.loads(body)[0][0]


@settings(max_examples=DECODE_EXAMPLES, deadline=None)
@given(value=values)
def test_untyped_strings_decode_like_xmlrpc_client(value):
    """<value>text</value>, a string by the spec, as xmlrpc.client reads it."""
    body = untyped_strings(xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True).encode("utf-8"))
    assert rp.parse_xmlrpc_response(body) == xmlrpc.client.loads(body)[0][0]


def test_examples_were_run(figure):
    """Runs after the properties above (same module, file order)."""
    assert EXAMPLES_RUN["process"] >= PROCESS_EXAMPLES // 2
    assert EXAMPLES_RUN["decode"] >= DECODE_EXAMPLES // 2
    figure("hypothesis examples run: probe processes / in-process decodes",
           "%d / %d" % (EXAMPLES_RUN["process"], EXAMPLES_RUN["decode"]))
