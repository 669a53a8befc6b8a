"""What `python -m fuzzing` prints and writes, from hand-made run results."""

from __future__ import annotations

import io
import json
from pathlib import Path
from xml.etree import ElementTree

from fuzzing import report, runner


def result_with_violation() -> runner.RunResult:
    result = runner.RunResult(seed=42, url="http://127.0.0.1:9", budget=30, cases=120, elapsed=30.2)
    result.phase_cases = {"examples": 45, "coverage": 50, "fuzzing": 20, "stateful": 5}
    result.tally = {
        ("POST /{teamId}/call/end", "call_durations_consistent"): [7, 1],
        ("POST /{teamId}/call/end", "not_a_server_error"): [8, 0],
        ("POST /{teamId}/call/start", "not_a_server_error"): [9, 0],
    }
    result.violations = [
        runner.Violation(
            check="call_durations_consistent",
            operation="POST /{teamId}/call/end",
            reason="dialogDuration 4 is longer than callDuration 3",
            curl='curl -X POST -H "Authorization: Bearer $FUZZ_TOKEN" http://127.0.0.1:9/t/call/end',
            thread_before=["call/start 200", "call.user/invite 200"],
        )
    ]
    return result


def test_summary_lists_checks_operations_and_each_violation() -> None:
    text = report.summary(result_with_violation())
    lines = text.splitlines()
    assert "Cases per phase: examples 45, coverage 50, fuzzing 20, stateful 5" in lines
    assert any(line.split() == ["call_durations_consistent", "7", "1", "1"] for line in lines), text
    assert any(line.split() == ["not_a_server_error", "17", "0", "-"] for line in lines), text
    assert any(
        line.split() == ["POST", "/{teamId}/call/end", "15", "1", "call_durations_consistent"]
        for line in lines
    ), text
    assert (
        "1. [call_durations_consistent] POST /{teamId}/call/end: "
        "dialogDuration 4 is longer than callDuration 3"
    ) in lines
    assert "   its thread answered before: call/start 200 -> call.user/invite 200" in lines
    assert (
        '   curl -X POST -H "Authorization: Bearer $FUZZ_TOKEN" http://127.0.0.1:9/t/call/end'
        in lines
    )
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
        ("POST /{teamId}/call/end", "call_durations_consistent")
    ]
    failure = failed[0].find("failure")
    assert failure is not None
    assert failure.get("message") == "dialogDuration 4 is longer than callDuration 3"
    assert "curl -X POST" in (failure.text or "")
    loaded = json.loads(data.read_text(encoding="utf-8"))
    assert loaded["ok"] is False and loaded["seed"] == 42
    assert loaded["violations"][0]["check"] == "call_durations_consistent"


def test_errors_fail_the_run_and_appear_in_junit(tmp_path: Path) -> None:
    result = runner.RunResult(
        seed=1, url="http://x", budget=5, errors=["Server stopped responding"]
    )
    assert not result.ok
    junit, _ = report.write_reports(result, tmp_path)
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1"
    assert "- Server stopped responding" in report.summary(result).splitlines()


def test_curl_commands_never_carry_the_token() -> None:
    sanitised = "curl -X POST -H 'Authorization: [Filtered]' -d '{}' http://h/t/call/end"
    assert runner._reproduce_with_env_token(sanitised) == (
        "curl -X POST -H \"Authorization: Bearer $FUZZ_TOKEN\" -d '{}' http://h/t/call/end"
    )


def test_thread_history_starts_at_the_latest_call_start() -> None:
    history = [
        "call/end 409",
        "call/start 200",
        "call/pause 200",
        "call/end 200",
        "call/start 200",
        "call.user/invite 200",
    ]
    assert runner._since_call_start(history) == ["call/start 200", "call.user/invite 200"]
    assert runner._since_call_start(["call/end 409"] * 10, limit=4) == ["call/end 409"] * 2
    long = ["call/start 200", *[f"call/pause {n}" for n in range(10)]]
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
