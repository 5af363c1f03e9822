"""What kubelet records: a first line that says why (control characters as
spaces, cut at 512 characters), then the hook's output, 10 KiB at most in
all, its tail kept; --json for machines, with start's state and whose the
code is."""

import json

import pytest

import readiness_probe as rp


def test_first_line_names_exit_code_and_reason(running):
    running.wait_for_state("EXITED")
    running.write_start("exit 1")
    running.restart_start()
    running.wait_for_state("EXITED")
    assert running.process_info()["exitstatus"] == 1
    assert running.probe().text == (
        "not ready (exit 2): start exited with status 1, and supervisord will not restart it (autorestart=false): "
        "this will not change by itself; its output went to syslog\n"
    )


def test_ready_output_is_one_line(ready):
    ready.write_hook("echo chatter; exit 0")
    result = ready.probe()
    assert result.text == "ready: start exited with status 0; hook exited 0\n"


def test_output_stays_under_10_kib_and_keeps_the_tail(ready):
    ready.write_hook("i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); done; echo LAST; exit 5")
    result = ready.probe("--timeout", "10")
    assert result.code == 5, result
    assert len(result.output) <= rp.OUTPUT_LIMIT == 10 * 1024
    assert result.first_line == "not ready (exit 5): hook exited 5"
    assert result.text.split("\n")[1] == "[... earlier output cut]"
    assert result.text.endswith("line-2999\nLAST\n")


def test_invalid_utf8_and_nul_bytes_do_not_crash(ready):
    ready.write_hook(r"printf 'bad \377\376 utf8 \000 nul\n'; printf 'no newline'; exit 3")
    result = ready.probe()
    assert result.code == 3, result
    assert result.text.split("\n")[1:] == ["bad \ufffd\ufffd utf8 \ufffd nul", "no newline", ""]
    result.output.decode("utf-8")  # what the probe prints is valid UTF-8


def test_json_output(ready):
    ready.write_hook("echo 'sessions down'; exit 3")
    result = ready.probe("--json")
    record = json.loads(result.text)
    assert result.code == 3
    assert record["ready"] is False
    assert record["code"] == result.code
    assert record["reason"] == "not ready (exit 3): hook exited 3"
    assert record["output"] == "sessions down\n"


def test_json_output_when_ready(ready):
    record = json.loads(ready.probe("--json").text)
    assert record == {
        "ready": True, "code": 0, "by": "probe", "reason": "ready: start exited with status 0; no hook", "output": "",
        "start": {"state": "EXITED", "exitstatus": 0, "final": True},
    }


def test_json_output_stays_under_10_kib(ready):
    ready.write_hook(r"i=0; while [ $i -lt 4000 ]; do printf '\001\002\"\\'; i=$((i+1)); done; exit 4")
    result = ready.probe("--json", "--timeout", "10")
    assert len(result.output) <= rp.OUTPUT_LIMIT
    assert json.loads(result.text)["code"] == 4


def test_json_for_bad_input(container):
    result = container.probe("--json", "--timeout", "banana")
    assert result.code == 64
    assert json.loads(result.text)["code"] == 64


def test_json_output_keeps_as_much_as_fits_despite_escapes(ready):
    ready.write_hook(r"i=0; while [ $i -lt 3000 ]; do printf '\001\001\001\001'; i=$((i+1)); done; exit 4")
    result = ready.probe("--json", "--timeout", "10")
    record = json.loads(result.text)
    assert len(result.output) <= rp.OUTPUT_LIMIT
    assert len(result.output) > rp.OUTPUT_LIMIT - 64, len(result.output)  # \u0001 is 6 bytes: cut, not emptied
    assert record["output"].startswith("[... earlier output cut]\n\x01")


def test_json_hook_exit_one_is_not_ready(ready):
    ready.write_hook("echo 'Traceback: boom' >&2; exit 1")
    result = ready.probe("--json")
    assert result.code == rp.EXIT_HOOK_CRASHED == 1, result
    assert json.loads(result.text) == {
        "ready": False, "code": 1, "by": "hook", "reason": "not ready (exit 1): hook exited 1", "output": "Traceback: boom\n",
        "start": {"state": "EXITED", "exitstatus": 0, "final": True},
    }


def test_json_output_replaces_invalid_utf8_and_nul_too(ready):
    ready.write_hook(r"printf 'bad \377 utf8 \000 nul\n'; exit 3")
    result = ready.probe("--json")
    result.output.decode("utf-8")  # valid UTF-8, whatever the hook printed
    assert json.loads(result.text)["output"] == "bad \ufffd utf8 \ufffd nul\n", result


def test_first_line_is_cut_at_512_bytes_of_utf8_on_a_character_boundary(ready, tmp_path):
    """A path of two-byte characters: 512 characters would be 1 KiB."""
    hook = tmp_path / ("é" * 120) / ("ü" * 120) / ("ø" * 120)
    hook.parent.mkdir(parents=True)
    hook.write_text("#!/bin/sh\nexit 0\n")  # not executable: 126, and the line names the long path
    result = ready.probe("--hook", str(hook))
    assert result.code == 126, result
    line = result.output.split(b"\n", 1)[0]
    assert len(line) <= rp.REASON_LIMIT == 512, len(line)
    assert len(line) >= rp.REASON_LIMIT - 1, len(line)  # at most half a character short
    assert result.first_line == ("not ready (exit 126): hook %s cannot be executed: it is not executable (chmod +x)"
                                 % hook).encode()[:len(line) - 3].decode() + "...", result


# -- output at its limits ------------------------------------------------------------------
def test_output_of_exactly_10_kib_ending_in_a_newline_is_not_cut(ready):
    head = b"not ready (exit 3): hook exited 3\n"
    body = b"x" * (rp.OUTPUT_LIMIT - len(head) - 1) + b"\n"
    ready.write(rp.HOOK_PATH + ".out", body.decode())
    ready.write_hook('cat "$READINESS_PROBE_ROOT%s.out"; exit 3' % rp.HOOK_PATH)
    result = ready.probe()
    assert (len(result.output), result.output) == (rp.OUTPUT_LIMIT, head + body)


def test_control_characters_in_the_first_line_become_spaces(ready, tmp_path):
    hook = tmp_path / "a\x1b[31mb\x7fc\nd\te"
    hook.write_text("#!/bin/sh\nexit 0\n")  # not executable: 126, and the line names the path
    result = ready.probe("--hook", str(hook))
    assert result.text == "not ready (exit 126): hook %s cannot be executed: it is not executable (chmod +x)\n" % (
        tmp_path / "a [31mb c d e"), result


def test_first_line_is_cut_at_512_characters(ready, tmp_path):
    hook = tmp_path / ("h" * 200) / ("o" * 200) / ("k" * 200)
    hook.parent.mkdir(parents=True)
    hook.write_text("#!/bin/sh\nexit 0\n")  # not executable: 126, and the line names the long path
    result = ready.probe("--hook", str(hook))
    assert result.code == 126, result
    assert len(result.first_line) == rp.REASON_LIMIT == 512, result
    assert result.first_line == ("not ready (exit 126): hook %s cannot be executed: it is not executable (chmod +x)"
                                 % hook)[:509] + "...", result


# -- --json tells the controller start's state ---------------------------------------------
def test_json_reports_starts_state_exit_status_and_finality(container):
    container.write_start("exec sleep 1000")
    container.start_supervisord().wait_for_state("RUNNING")
    record = json.loads(container.probe("--json").text)
    assert record["start"] == {"state": "RUNNING", "exitstatus": None, "final": False}
    container.rpc().supervisor.stopProcess("start")
    container.write_start("exit 5")
    container.restart_start()
    container.wait_for_state("EXITED")
    record = json.loads(container.probe("--json").text)
    assert record["start"] == {"state": "EXITED", "exitstatus": 5, "final": True}
    assert record["code"] == 2 and record["ready"] is False


def test_json_start_is_null_without_supervisord(container):
    import shutil

    shutil.rmtree(container.path("/etc/supervisor"))
    assert json.loads(container.probe("--json").text)["start"] is None


# -- --json says whose the code is: the hook's or the probe's ------------------------------
@pytest.mark.parametrize(
    "hook,code,by",
    [
        (None, 0, "probe"),
        ("exit 0", 0, "hook"),
        ("exit 3", 3, "hook"),
        ("exit 124", 124, "hook"),
        ("kill -9 $$", 137, "hook"),
        ("sleep 30", 124, "probe"),
        ("", 126, "probe"),
    ],
    ids=["no-hook", "hook-0", "hook-3", "hook-124", "hook-killed", "hook-overran", "hook-not-executable"],
)
def test_json_says_who_gave_the_code(ready, hook, code, by):
    if hook == "":
        ready.write_hook("exit 0", mode=0o644)
    elif hook is not None:
        ready.write_hook(hook)
    record = json.loads(ready.probe("--json", "--timeout", "0.5").text)
    assert (record["code"], record["by"]) == (code, by), record


def test_json_says_the_probe_gave_a_failed_starts_code(container):
    container.write_start("exit 1")
    container.write_hook("exit 0")
    container.start_supervisord().wait_for_state("EXITED")
    record = json.loads(container.probe("--json").text)
    assert (record["code"], record["by"]) == (2, "probe"), record
