"""Property-based: whatever supervisord's socket answers, the probe ends with
ready, not started, cannot ask supervisord or the deadline (the table's
codes, by name) in one line, never a traceback; and the ready path's
config reader reads what supervisord's parser reads, over every character."""

import os
import xmlrpc.client

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import readiness_probe as rp
from fake_container import FakeContainer
from fake_supervisord import MisbehavingServer, http_answer, untyped_strings, xmlrpc_answer

ALLOWED = {rp.EXIT_READY, rp.EXIT_NOT_STARTED, rp.EXIT_SUPERVISOR, rp.EXIT_TIMEOUT}
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


# -- the ready path's config reader, against configparser over the whole character range
WHITESPACE = [chr(c) for c in range(0x110000) if chr(c).isspace()]  # \x1c-\x1f, \x85, \u2028, \u3000...
config_pieces = st.lists(
    st.sampled_from(["[", "]", "=", ":", ";", "#", "\n", "\r", "\r\n", " ", "\t", "\x00", "\x7f", "[DEFAULT]\n",
                     "[supervisorctl]\n", "[unix_http_server]\n", "[ supervisorctl]\n", "[program:start]\n",
                     "serverurl", "file = ", "port=", "\n  ", "\n\n", "%(here)s", "%%", "\nkey = ", "\nK: v",
                     "\nserverurl = unix:///s.sock", "\n\t; comment"])
    | st.sampled_from(WHITESPACE)
    | st.characters(blacklist_categories=("Cs",))  # every code point a UTF-8 file can hold
    | st.characters(max_codepoint=0x9f, blacklist_categories=("Cs",)),  # the controls, more often
    max_size=80,
).map("".join)
config_texts = st.tuples(st.sampled_from(["", "[supervisorctl]\n", "[DEFAULT]\n", "[unix_http_server]\n"]),
                         config_pieces).map("".join)  # most text without a first [section] is refused
CONFIG_EXAMPLES = 3000
CONFIG_COMPARED = {"read": 0}


def configparser_sections(text):
    """What supervisord's parser (supervisor.options.UnhosedConfigParser:
    RawConfigParser, inline comments, strict=False) reads from a file of
    this text; None when it refuses it (then supervisord does not run)."""
    import configparser
    import io

    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    try:
        parser.read_file(io.StringIO(text, newline=None))  # a file in text mode: \r\n and \r end lines too
    except configparser.Error:
        return None
    return {name: dict(parser.items(name)) for name in parser.sections()}


@settings(max_examples=CONFIG_EXAMPLES, deadline=None)
@given(text=config_texts)
@example(text="[a]\nk = x#y #z ;w\n[b]c]\nq=1\n")  # the Nth ';' and '#' looked at together before 3.13; ']' in a name
@example(text="[ supervisorctl]\nserverurl = a\u00a0; c\n[DEFAULT]\nfile = b\x1c#c\n  d\n\n  e\n")
def test_config_reader_reads_what_configparser_reads(text):
    theirs = configparser_sections(text)
    ours = rp.read_ini(text)
    if theirs is not None:
        CONFIG_COMPARED["read"] += 1
        assert ours == theirs


@settings(max_examples=CONFIG_EXAMPLES // 3, deadline=None)
@given(data=st.binary(max_size=200) | config_texts.map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_config_reader_reads_any_bytes_as_the_probe_decodes_them(tmp_path_factory, data):
    """Invalid UTF-8 too: supervisord refuses such a file; the probe reads
    it (its bytes replaced) to the same sections as the valid part, never a
    traceback."""
    path = str(tmp_path_factory.mktemp("conf") / "supervisord.conf")
    with open(path, "wb") as f:
        f.write(data)
    text = rp.read_config_file(path)
    ours = rp.read_ini(text)  # never raises, whatever the bytes
    theirs = configparser_sections(text)
    assert theirs is None or ours == theirs


expansion_values = st.lists(
    st.sampled_from(["%(here)s", "%(ENV_RP_FUZZ)s", "%%", "%(", ")s", "%(nope)s", "%(here", "here)s", "("])
    | st.characters(blacklist_categories=("Cs",)),
    max_size=30,
).map("".join)


@settings(max_examples=CONFIG_EXAMPLES, deadline=None)
@given(value=expansion_values)
def test_expand_is_supervisors_percent_formatting(value):
    """Where supervisor's `value % expansions` succeeds, and every '%' is a
    %% or a %(NAME)s, the probe's one pass gives the same."""
    import re

    os.environ["RP_FUZZ"] = "%(here)s ENV"  # what a substitution brings in is not expanded again
    if not re.fullmatch(r"(?:[^%]|%%|%\([^()]*\)s)*", value, re.S):
        return
    expansions = dict(("ENV_" + k, v) for k, v in os.environ.items())
    expansions["here"] = "/etc/supervisor"
    try:
        theirs = value % expansions
    except (KeyError, ValueError, TypeError):
        return
    assert rp.expand(value, "/etc/supervisor") == theirs


def test_config_examples_were_compared(figure):
    """Runs after the config properties above: enough texts were read by
    configparser too for the comparison to mean something."""
    assert CONFIG_COMPARED["read"] >= CONFIG_EXAMPLES // 8
    figure("config texts compared with configparser", CONFIG_COMPARED["read"])
