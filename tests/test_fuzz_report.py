"""What `python -m fuzzing` prints and writes, from hand-made run results."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from fuzzing import replay, report, request_signing, runner
from testkit import chromium
from testkit.spec import ROOT


def result_with_violation() -> runner.RunResult:
    result = runner.RunResult(seed=42, url="http://127.0.0.1:9", budget=30, cases=120, elapsed=30.2)
    result.phase_cases = {"examples": 45, "coverage": 50, "fuzzing": 20, "stateful": 5}
    result.tally = {
        ("POST /{teamId}/call/end", "contract_model"): [7, 1],
        ("POST /{teamId}/call/end", "not_a_server_error"): [8, 0],
        ("POST /{teamId}/call/start", "not_a_server_error"): [9, 0],
    }
    result.violations = [
        runner.Violation(
            check="contract_model",
            operation="POST /{teamId}/call/end",
            reason="dialogDuration 4 is longer than callDuration 3",
            curl=runner.curl_command("http://127.0.0.1:9", "t", "call/end", {}),
            thread_before=["call/start 200", "call.user/invite 200"],
        )
    ]
    return result


def test_summary_lists_checks_operations_and_each_violation() -> None:
    text = report.summary(result_with_violation())
    lines = text.splitlines()
    assert "Cases per phase: examples 45, coverage 50, fuzzing 20, stateful 5" in lines
    assert any(line.split() == ["contract_model", "7", "1", "1"] for line in lines), text
    assert any(line.split() == ["not_a_server_error", "17", "0", "-"] for line in lines), text
    assert any(
        line.split() == ["POST", "/{teamId}/call/end", "15", "1", "contract_model"]
        for line in lines
    ), text
    assert (
        "1. [contract_model] POST /{teamId}/call/end: "
        "dialogDuration 4 is longer than callDuration 3"
    ) in lines
    assert "   its thread answered before: call/start 200 -> call.user/invite 200" in lines
    assert "   body='{}'" in lines
    assert '   eval "$(printf %s "$body" | python -m fuzzing sign --shell)"' in lines
    assert (
        '   curl -X POST -H "X-Bot-Id: $FUZZ_BOT_ID" -H "X-timestamp: $FUZZ_TIMESTAMP" '
        "-H \"X-Signature: $FUZZ_SIGNATURE\" -H 'Content-Type: application/json' "
        '--data-binary "$body" http://127.0.0.1:9/t/call/end'
    ) in lines
    assert "120 cases in 30.2 s against http://127.0.0.1:9: 1 violation(s), 0 error(s)." in lines
    assert "Seed 42: rerun with --seed 42 --budget 30." in lines


def test_summary_of_a_clean_run() -> None:
    result = runner.RunResult(seed=7, url="http://x", budget=5, cases=3, elapsed=5.0)
    assert "3 cases in 5.0 s against http://x: no violation." in report.summary(result)
    assert result.ok


def test_reports_junit_and_json(tmp_path: Path) -> None:
    junit, data = report.write_reports(result_with_violation(), tmp_path / "reports")
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "0")
    failed = [case for case in suite.iter("testcase") if case.find("failure") is not None]
    assert [(c.get("classname"), c.get("name")) for c in failed] == [
        ("POST /{teamId}/call/end", "contract_model")
    ]
    failure = failed[0].find("failure")
    assert failure is not None
    assert failure.get("message") == "dialogDuration 4 is longer than callDuration 3"
    assert "curl -X POST" in (failure.text or "")
    loaded = json.loads(data.read_text(encoding="utf-8"))
    assert loaded["ok"] is False and loaded["seed"] == 42
    assert loaded["violations"][0]["check"] == "contract_model"


def test_errors_fail_the_run_and_appear_in_junit(tmp_path: Path) -> None:
    result = runner.RunResult(
        seed=1, url="http://x", budget=5, errors=["Server stopped responding"]
    )
    assert not result.ok
    junit, _ = report.write_reports(result, tmp_path)
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1"
    assert "- Server stopped responding" in report.summary(result).splitlines()


def test_schemathesis_curl_becomes_a_snippet_that_signs_again() -> None:
    sent = (
        "curl -X POST -H 'X-Bot-Id: 5c0e5996e43fb4001acfb07d' -H 'X-timestamp: 1700000000' "
        "-H 'X-Signature: 00ff' -H 'Content-Type: application/json' "
        "-H 'X-Schemathesis-TestCaseId: abc' -d '{\"threadId\": \"x\"}' http://h/t/call/end"
    )
    snippet = runner._signed_reproduction(sent)
    assert snippet.splitlines() == [
        """body='{"threadId": "x"}'""",
        'eval "$(printf %s "$body" | python -m fuzzing sign --shell)"',
        'curl -X POST -H "X-Bot-Id: $FUZZ_BOT_ID" -H "X-timestamp: $FUZZ_TIMESTAMP" '
        "-H \"X-Signature: $FUZZ_SIGNATURE\" -H 'Content-Type: application/json' "
        '--data-binary "$body" http://h/t/call/end',
    ]
    # an `ignored_auth` probe went unsigned: it is shown as sent
    unsigned = "curl -X POST -H 'Content-Type: application/json' -d '{}' http://h/t/call/end"
    assert runner._signed_reproduction(unsigned) == unsigned


def test_the_sign_command_prints_a_valid_signature(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from contract.signing import signature

    monkeypatch.setenv(request_signing.SECRET_VARIABLE, "a-custom-secret")
    body = tmp_path / "body"
    body.write_bytes(b'{"threadId": "x"} ')
    out = io.StringIO()
    assert request_signing.main(["--body-file", str(body), "--bot-id", "b" * 24], out=out) == 0
    headers = dict(line.split(": ", 1) for line in out.getvalue().splitlines())
    assert list(headers) == list(request_signing.HEADERS)
    stamp = headers[request_signing.TIMESTAMP_HEADER]
    assert headers[request_signing.SIGNATURE_HEADER] == signature(
        "b" * 24, "a-custom-secret", stamp, b'{"threadId": "x"} '
    )
    assert "a-custom-secret" not in out.getvalue()


def test_thread_history_starts_at_the_latest_call_start() -> None:
    def answers(*texts: str) -> list[runner.Answered]:
        return [runner.Answered(text.split()[0], int(text.split()[1])) for text in texts]

    history = answers(
        "call/end 409",
        "call/start 200",
        "call/pause 200",
        "call/end 200",
        "call/start 200",
        "call.user/invite 200",
    )
    assert runner._since_call_start(history) == ["call/start 200", "call.user/invite 200"]
    # A refused start starts nothing.
    assert runner._since_call_start(answers("call/start 200", "call/start 409")) == [
        "call/start 200",
        "call/start 409",
    ]
    assert runner._since_call_start(answers("call/end 409") * 10, limit=4) == ["call/end 409"] * 2
    long = answers("call/start 200", *[f"call/pause {n}" for n in range(10)])
    assert runner._since_call_start(long, limit=5) == [
        "call/start 200",
        "...",
        "call/pause 7",
        "call/pause 8",
        "call/pause 9",
    ]


def test_progress_line_on_a_log_is_periodic() -> None:
    stream = io.StringIO()
    progress = report.Progress(stream, interval=3600)
    result = runner.RunResult(seed=1, url="http://x", budget=10, cases=5, elapsed=1.0)
    progress(result, "examples")
    progress(result, "coverage")  # within the interval: not printed
    progress.close()
    assert stream.getvalue().splitlines() == [
        "fuzz   1.0/10 s  examples         5 cases    0 violations"
    ]


# Model violations: sequence, replay file, coverage, HTML page -----------------------------

SEQUENCE = [
    {"step": 3, "method": "call/end", "body": {"threadId": "t" * 24}, "status": 200, "data": {}},
    {
        "step": 4,
        "method": "call.user/invite",
        "body": {"threadId": "t" * 24, "userId": "u" * 24},
        "status": 200,
        "data": {"invitedUsersCount": 0},
    },
]
MODEL_REASON = (
    "expected 409, got 200: call.user/invite needs an active call: no active call "
    "(call/end answered 200 at step 3) (thread tttttttttttttttttttttttt, step 4)"
)


def result_with_model_violation() -> runner.RunResult:
    result = runner.RunResult(seed=7, url="http://127.0.0.1:9", budget=15, cases=50, elapsed=15.0)
    result.team = "333ccc134c0319001573485e"
    result.statuses = {"call/start": {200: 3, 409: 1}, "call.user/invite": {200: 2, 599: 1}}
    result.transitions = {"call/start: no active call in the thread -> 200": 3}
    result.walk = runner.WalkFigures(steps=40, seconds=0.5)
    result.violations = [
        runner.Violation(
            check="contract_model",
            operation="POST /{teamId}/call.user/invite",
            reason=MODEL_REASON,
            curl="",
            phase="walk",
            sequence=SEQUENCE,
            thread="t" * 24,
            expected={"statuses": [409]},
        )
    ]
    return result


def test_model_violation_has_its_sequence_and_a_replay_file(tmp_path: Path) -> None:
    result = result_with_model_violation()
    report.write_reports(result, tmp_path)
    replay_file = tmp_path / "replay-1.json"
    document = replay.load(replay_file)
    assert [s["method"] for s in document["steps"]] == ["call/end", "call.user/invite"]
    assert all("python -m fuzzing sign" in text for text in document["curl"])
    assert all("dev-secret" not in text for text in document["curl"])
    lines = report.summary(result).splitlines()
    assert f"1. [contract_model] POST /{{teamId}}/call.user/invite: {MODEL_REASON}" in lines
    assert (
        '   step 4: call.user/invite {"threadId": "tttttttttttttttttttttttt", "userId": '
        '"uuuuuuuuuuuuuuuuuuuuuuuu"} -> 200 {"invitedUsersCount": 0}'
    ) in lines
    assert f"   replay: python -m fuzzing replay {replay_file}" in lines
    loaded = json.loads((tmp_path / report.JSON_NAME).read_text(encoding="utf-8"))
    assert loaded["violations"][0]["sequence"] == SEQUENCE
    assert loaded["violations"][0]["replay"] == str(replay_file)


def test_coverage_in_summary_and_json(tmp_path: Path) -> None:
    result = result_with_model_violation()
    text = report.summary(result)
    assert re.search(r"call/start\s+200 409\s+400 401 403 413 415", text), text
    assert "Model transitions: 1 of " in text
    assert "  never: call/start: again after end" in text
    _, data = report.write_reports(result, tmp_path)
    cover = json.loads(data.read_text(encoding="utf-8"))["coverage"]
    assert cover["statuses"]["call/start"]["409"] == 1
    assert cover["statuses_never_seen"]["call/start"] == [400, 401, 403, 413, 415]
    assert cover["undocumented_statuses"] == {"call.user/invite": {"599": 1}}
    assert cover["transitions_run"] == 1
    assert 0 < cover["percent"] < 10


def test_min_coverage_fails_the_run() -> None:
    from fuzzing import cli

    result = result_with_model_violation()
    assert cli._coverage_met(result, None)
    assert cli._coverage_met(result, 1.0)
    assert not cli._coverage_met(result, 90.0)
    assert "--min-coverage PERCENT" in cli.build_parser().format_help()


def test_a_documented_500_is_no_coverage_target_and_shows_when_answered() -> None:
    """Every operation documents 500, which a correct server never answers: a run that saw
    every other documented status and ran every transition is at 100 %, and a 500 it met is
    listed as a server error (not_a_server_error fails the run for it)."""
    from contract.rules import TRANSITIONS
    from contract.spec import load
    from fuzzing import cli, coverage

    result = runner.RunResult(seed=1, url="http://127.0.0.1:9", budget=1, cases=1, elapsed=1.0)
    assert all(500 in op.statuses for op in load())
    result.statuses = {op.method: {s: 1 for s in op.statuses if s < 500} for op in load()}
    result.transitions = dict.fromkeys(TRANSITIONS, 1)
    cover = coverage.of(result)
    assert cover.percent == 100.0 and cli._coverage_met(result, 100.0)
    assert not cover.never_seen() and not cover.server_errors
    # A run's coverage is computed once, when it is over: another run answered a 500 too.
    statuses = {**result.statuses, "call/start": {**result.statuses["call/start"], 500: 2}}
    result = dataclasses.replace(result, statuses=statuses)
    assert result.coverage == coverage.of(result)
    cover = result.coverage
    assert cover.percent == 100.0 and not cover.undocumented
    assert cover.as_dict()["server_errors"] == {"call/start": {"500": 2}}
    lines = report.coverage_lines(result)
    assert "Server errors (failures, not coverage): call/start 500 x2" in lines


def test_html_report_renders_in_chromium(tmp_path: Path) -> None:
    chromium.executable()
    report.write_reports(result_with_model_violation(), tmp_path)
    page = tmp_path / report.HTML_NAME
    html = page.read_text(encoding="utf-8")
    assert "http://" not in html.replace("http://127.0.0.1:9", "")  # no external assets
    text = chromium.render(page.as_uri(), ROOT / "reports" / "fuzz-report-chromium.png")
    assert MODEL_REASON in text
    assert "step 4: call.user/invite" in text
    assert "call/start: again after end: never" in text


def test_statuses_the_target_cannot_produce_are_no_coverage_target() -> None:
    """429 never counts (the run keeps below the rate limit); 404 counts only with fixtures
    and a target that answered some unknown id 404; left-out operations do not count."""
    from contract.rules import RATE_LIMITED, TRANSITIONS, UNKNOWN_ID
    from contract.spec import load
    from fuzzing import coverage

    result = runner.RunResult(seed=1, url="http://127.0.0.1:9", budget=1, cases=1, elapsed=1.0)
    result.statuses = {op.method: {200: 1} for op in load()}
    cover = coverage.of(result)
    assert set(cover.not_targets) == {UNKNOWN_ID, RATE_LIMITED}
    assert all(UNKNOWN_ID not in per and RATE_LIMITED not in per for per in cover.statuses.values())
    result.fixtures = "fixtures.toml"
    assert UNKNOWN_ID in coverage.of(result).not_targets  # the sandbox: no 404 for any id
    result.statuses["call/start"][UNKNOWN_ID] = 1
    cover = coverage.of(result)
    assert set(cover.not_targets) == {RATE_LIMITED}
    assert cover.statuses["call/start"][UNKNOWN_ID] == 1
    assert cover.statuses["call/end"][UNKNOWN_ID] == 0  # a fixed-id server: missing there
    result.left_out = ["call.audio/play"]
    cover = coverage.of(result)
    assert "call.audio/play" not in cover.statuses
    assert not any(name.startswith("call.audio/play:") for name in cover.transitions)
    assert len(cover.transitions) < len(TRANSITIONS)
    assert "Left out (--include/--exclude, not counted): call.audio/play" in (
        report.coverage_lines(result)
    )
