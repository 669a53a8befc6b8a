"""The contract's custom checks (fuzzing.checks, fuzzing.rules) on hand-made requests and answers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.checks import CHECKS

from fuzzing import checks, rules
from testkit.spec import SPEC_PATH

TEAM = "333ccc134c0319001573485e"
THREAD = "5b0525134c0319001573485e"
USER_A = "5b4458eb1b2b33001bf213bf"
USER_B = "5b4458eb1b2b33001bf213bc"


@pytest.fixture(scope="module")
def schema() -> Any:
    # An explicit, empty config: the repository's schemathesis.toml needs a run's environment.
    return schemathesis.openapi.from_path(SPEC_PATH, config=schemathesis.Config())


def exchange(
    schema: Any,
    method: str,
    body: Any,
    status: int,
    answer: Any,
    *,
    base: str = "http://127.0.0.1:9",
    team: str = TEAM,
    token: str | None = "dev-token",
    content_type: str = "application/json",
) -> tuple[Any, Any]:
    """A schemathesis Case and Response for `POST /{team}/{method}`, answered `status`."""
    case = schema[f"/{{teamId}}/{method}"]["POST"].Case(path_parameters={"teamId": team}, body=body)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = requests.Request("POST", f"{base}/{team}/{method}", json=body, headers=headers)
    content = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
    response = schemathesis.Response(
        status_code=status,
        headers={"content-type": [content_type]},
        content=content,
        request=request.prepare(),
        elapsed=0.01,
        verify=True,
    )
    return case, response


def ok(data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": 200, "message": "OK", **({"data": data} if data is not None else {})}


def conflict() -> dict[str, Any]:
    return {"code": 409, "message": "There is no active call"}


def test_every_custom_check_is_registered_with_schemathesis() -> None:
    assert set(checks.CUSTOM_CHECKS) <= set(CHECKS.get_all_names())


# envelope_code_matches_status ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "content", "expected"),
    [
        (200, b'{"code": 200, "message": "OK"}', None),
        (409, b'{"code": 409, "message": "no call"}', None),
        (
            409,
            b'{"code": 400, "message": "no call"}',
            "envelope `code` 400 differs from the HTTP status 409",
        ),
        (400, b"Bad Request", "HTTP 400: the body is not JSON"),
        (200, b'{"message": "OK"}', "HTTP 200: the JSON body has no `code`"),
        (200, b"[200]", "HTTP 200: the JSON body has no `code`"),
        (
            200,
            b'{"code": "200", "message": "OK"}',
            "HTTP 200: envelope `code` is '200', not an integer",
        ),
        (
            200,
            b'{"code": true, "message": "OK"}',
            "HTTP 200: envelope `code` is True, not an integer",
        ),
    ],
)
def test_envelope_code_rule(status: int, content: bytes, expected: str | None) -> None:
    reason = rules.envelope_code(status, content)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and reason.startswith(expected)


def test_envelope_check_fails_on_a_lying_envelope(schema: Any) -> None:
    case, response = exchange(
        schema, "call/end", {"threadId": THREAD}, 409, {"code": 400, "message": "x"}
    )
    with pytest.raises(
        AssertionError, match="envelope `code` 400 differs from the HTTP status 409"
    ):
        checks.envelope_code_matches_status(None, response, case)
    case, response = exchange(schema, "call/end", {"threadId": THREAD}, 409, conflict())
    assert checks.envelope_code_matches_status(None, response, case) is None


# counts_within_named_users ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_body", "count", "expected"),
    [
        ({"threadId": THREAD, "userId": USER_A}, 1, None),
        ({"threadId": THREAD, "userId": USER_A}, 0, None),
        (
            {"threadId": THREAD, "userId": USER_A},
            2,
            "`pausedUsersCount` is 2, but the request named 1 user(s)",
        ),
        ({"threadId": THREAD, "userIds": [USER_A, USER_B]}, 2, None),
        (
            {"threadId": THREAD, "userIds": [USER_A, USER_B]},
            3,
            "`pausedUsersCount` is 3, but the request named 2",
        ),
        # userId wins over userIds, as the source document says
        ({"threadId": THREAD, "userId": USER_A, "userIds": [USER_A, USER_B]}, 2, "named 1 user(s)"),
        ({"threadId": THREAD, "userId": USER_A}, -1, "`pausedUsersCount` is -1"),
    ],
)
def test_count_rule(request_body: dict[str, Any], count: int, expected: str | None) -> None:
    reason = rules.count_within_named_users(
        "call/pause", request_body, 200, ok({"pausedUsersCount": count})
    )
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and expected in reason


def test_count_rule_judges_only_answers_with_a_count() -> None:
    body = {"threadId": THREAD, "userId": USER_A}
    assert rules.count_within_named_users("call/pause", body, 409, conflict()) is None
    assert (
        rules.count_within_named_users("call/end", body, 200, ok({"pausedUsersCount": 9})) is None
    )
    # a string count is a schema violation, reported by response_schema_conformance
    assert (
        rules.count_within_named_users("call/pause", body, 200, ok({"pausedUsersCount": "9"}))
        is None
    )


def test_counts_check_on_each_count_operation(schema: Any) -> None:
    for method, name in rules.COUNT_FIELDS.items():
        body = {"threadId": THREAD, "userIds": [USER_A]}
        case, response = exchange(schema, method, body, 200, ok({name: 2}))
        with pytest.raises(AssertionError, match=f"`{name}` is 2, but the request named 1"):
            checks.counts_within_named_users(None, response, case)
        case, response = exchange(schema, method, body, 200, ok({name: 1}))
        assert checks.counts_within_named_users(None, response, case) is None


# call_durations_consistent ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "dialog", "expected"),
    [
        (95, 80, None),
        (0, 0, None),
        (10, 10, None),
        (10, 11, "dialogDuration 11 is longer than callDuration 10"),
        (-1, 0, "negative duration"),
        (5, -2, "negative duration"),
    ],
)
def test_durations_rule(call: int, dialog: int, expected: str | None) -> None:
    body = ok(
        {
            "callDuration": call,
            "dialogDuration": dialog,
            "result": "answered",
            "direction": "outgoing",
        }
    )
    reason = rules.durations_consistent("call/end", 200, body)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and expected in reason


def test_durations_check(schema: Any) -> None:
    data = {"callDuration": 3, "dialogDuration": 4, "result": "answered", "direction": "outgoing"}
    case, response = exchange(schema, "call/end", {"threadId": THREAD}, 200, ok(data))
    with pytest.raises(AssertionError, match="dialogDuration 4 is longer than callDuration 3"):
        checks.call_durations_consistent(None, response, case)
    case, response = exchange(schema, "call/start", {"threadId": THREAD}, 200, ok(data))
    assert checks.call_durations_consistent(None, response, case) is None


# other_team_token_refused ----------------------------------------------------------------


def test_other_team_is_another_valid_id() -> None:
    assert rules.other_team(TEAM) == "333ccc134c0319001573485f"
    assert rules.other_team("f" * 24) == "0" * 24
    assert rules.other_team_refused(403) is None
    assert rules.other_team_refused(200) == "the token of another team was answered 200, not 403"


class _Answers(BaseHTTPRequestHandler):
    """Answers every POST with the status of the server's `status` attribute; records paths."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.paths.append((self.path, self.headers.get("Authorization")))  # type: ignore[attr-defined]
        status = self.server.status  # type: ignore[attr-defined]
        body = json.dumps({"code": status, "message": "x"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def answering_server() -> Iterator[Any]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    server.status = 403  # type: ignore[attr-defined]
    server.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_other_team_check_probes_once_per_operation(schema: Any, answering_server: Any) -> None:
    base = f"http://127.0.0.1:{answering_server.server_address[1]}"
    check = checks.OtherTeamTokenRefused()
    case, response = exchange(
        schema, "call/start", {"threadId": THREAD}, 200, ok({"direction": "outgoing"}), base=base
    )
    assert check.after_response(None, response, case) is None
    assert check.after_response(None, response, case) is None  # already probed: no request
    assert answering_server.paths == [(f"/{rules.other_team(TEAM)}/call/start", "Bearer dev-token")]


def test_other_team_check_fails_when_another_team_is_served(
    schema: Any, answering_server: Any
) -> None:
    answering_server.status = 200
    base = f"http://127.0.0.1:{answering_server.server_address[1]}"
    case, response = exchange(schema, "call/end", {"threadId": THREAD}, 409, conflict(), base=base)
    with pytest.raises(AssertionError, match="the token of another team was answered 200, not 403"):
        checks.OtherTeamTokenRefused().after_response(None, response, case)


@pytest.mark.parametrize("status", [400, 401, 403, 415])
def test_other_team_check_skips_refused_requests(schema: Any, status: int) -> None:
    # port 9 (discard) is never contacted: a refused request is not probed
    case, response = exchange(
        schema, "call/end", {"threadId": THREAD}, status, {"code": status, "message": "x"}
    )
    assert checks.OtherTeamTokenRefused().after_response(None, response, case) is None


def test_other_team_check_skips_requests_without_token(schema: Any) -> None:
    case, response = exchange(schema, "call/end", {"threadId": THREAD}, 409, conflict(), token=None)
    assert checks.OtherTeamTokenRefused().after_response(None, response, case) is None


# thread_state_rules ----------------------------------------------------------------------


def play(states: rules.ThreadStates, *steps: tuple[str, int]) -> list[str | None]:
    return [states.observe(TEAM, THREAD, method, status) for method, status in steps]


def test_state_invite_after_end_is_a_violation() -> None:
    reasons = play(
        rules.ThreadStates(),
        ("call/start", 200),
        ("call.user/invite", 200),
        ("call/end", 200),
        ("call.user/invite", 200),
    )
    assert reasons[:3] == [None, None, None]
    assert reasons[3] is not None
    assert reasons[3].startswith("call.user/invite answered 200 but the thread has no active call")
    assert "call/start 200 -> call.user/invite 200 -> call/end 200" in reasons[3]


def test_state_unknown_threads_are_not_judged() -> None:
    # a server may have had calls before the run: nothing is known until start or end succeed
    assert (
        play(
            rules.ThreadStates(),
            ("call.recording/stop", 200),
            ("call.stream/stop", 409),
            ("call.audio/stop", 200),
            ("call.stream/start", 409),
        )
        == [None] * 4
    )
    assert (
        play(rules.ThreadStates(), ("call.user/invite", 409), ("call.recording/stop", 409))
        == [None] * 2
    )


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([("call/start", 200), ("call/start", 200)], "the thread already has an active call"),
        (
            [("call/end", 200), ("call/start", 409)],
            "the thread has no active call, so a call can start",
        ),
        ([("call/start", 200), ("call/pause", 409)], "the thread has an active call"),
        (
            [("call/start", 200), ("call/end", 200), ("call/end", 200)],
            "the thread has no active call",
        ),
        (
            [("call/start", 200), ("call.recording/start", 200), ("call.recording/start", 200)],
            "the call is already being recorded",
        ),
        ([("call/start", 200), ("call.recording/stop", 200)], "nothing is being recorded"),
        (
            [("call/start", 200), ("call.recording/start", 200), ("call.recording/stop", 409)],
            "the call is being recorded",
        ),
        (
            [("call/start", 200), ("call.recording/start", 409)],
            "the call is active and not recorded",
        ),
        (
            [
                ("call/start", 200),
                ("call.stream/start", 200),
                ("call/end", 200),
                ("call.stream/stop", 200),
            ],
            "nothing is being streamed",
        ),
        (
            [("call/start", 200), ("call.stream/start", 200), ("call.stream/start", 200)],
            "the call is already streamed",
        ),
        ([("call/start", 200), ("call.audio/stop", 200)], "no audio is playing"),
        ([("call/end", 200), ("call.audio/play", 200)], "the thread has no active call"),
    ],
)
def test_state_violations(steps: list[tuple[str, int]], expected: str) -> None:
    reasons = play(rules.ThreadStates(), *steps)
    assert reasons[:-1] == [None] * (len(steps) - 1)
    assert reasons[-1] is not None and expected in reasons[-1]


def test_state_sequences_that_keep_the_contract() -> None:
    assert (
        play(
            rules.ThreadStates(),
            ("call/start", 200),
            ("call/start", 409),
            ("call.user/invite", 200),
            ("call/pause", 200),
            ("call.recording/start", 200),
            ("call.recording/start", 409),
            ("call.audio/play", 200),
            ("call.audio/stop", 200),
            ("call.audio/stop", 409),
            ("call.stream/start", 200),
            ("call/end", 200),
            ("call.recording/stop", 409),
            ("call.stream/stop", 409),
            ("call.user/invite", 409),
            ("call/end", 409),
            ("call/start", 200),
            ("call.recording/start", 200),
        )
        == [None] * 17
    )


def test_state_audio_may_end_by_itself() -> None:
    assert (
        play(
            rules.ThreadStates(),
            ("call/start", 200),
            ("call.audio/play", 200),
            ("call.audio/stop", 409),
        )
        == [None] * 3
    )


def test_state_any_success_status_counts_as_success() -> None:
    reasons = play(
        rules.ThreadStates(), ("call/start", 201), ("call/end", 200), ("call/pause", 200)
    )
    assert reasons[-1] is not None and "no active call" in reasons[-1]


def test_state_after_a_violation_the_thread_is_unknown_again() -> None:
    reasons = play(
        rules.ThreadStates(),
        ("call/start", 200),
        ("call/end", 200),
        ("call.user/invite", 200),
        ("call.user/exclude", 200),
        ("call.user/invite", 200),
    )
    assert [r is not None for r in reasons] == [False, False, True, False, False]


def test_state_threads_and_teams_are_apart() -> None:
    states = rules.ThreadStates()
    assert states.observe(TEAM, THREAD, "call/start", 200) is None
    assert states.observe(TEAM, "5b0525134c0319001573485f", "call/start", 200) is None
    assert states.observe("0" * 24, THREAD, "call/start", 200) is None
    assert states.observe(TEAM, THREAD, "call/start", 200) is not None


def test_state_check_on_a_sequence_of_answers(schema: Any) -> None:
    check = checks.ThreadStateRules()
    data_end = {
        "callDuration": 1,
        "dialogDuration": 0,
        "result": "unanswered",
        "direction": "outgoing",
    }
    steps = [
        ("call/start", {"threadId": THREAD}, 200, ok({"direction": "outgoing"})),
        ("call/end", {"threadId": THREAD}, 200, ok(data_end)),
        (
            "call.user/invite",
            {"threadId": THREAD, "userId": USER_A},
            200,
            ok({"invitedUsersCount": 1}),
        ),
    ]
    for method, body, status, answer in steps[:2]:
        case, response = exchange(schema, method, body, status, answer)
        assert check.after_response(None, response, case) is None
    case, response = exchange(schema, *steps[2])
    with pytest.raises(
        AssertionError, match="call.user/invite answered 200 but the thread has no active call"
    ):
        check.after_response(None, response, case)


def test_state_check_ignores_bodies_without_a_thread(schema: Any) -> None:
    case, response = exchange(
        schema, "call/start", ["not", "an", "object"], 200, ok({"direction": "outgoing"})
    )
    assert checks.ThreadStateRules().after_response(None, response, case) is None
