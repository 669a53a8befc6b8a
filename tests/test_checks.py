"""The custom checks and the signing (fuzzing.checks, check_rules, signing) on hand-made
exchanges.

Longer than 300 lines on purpose: the checks share one in-process schemathesis schema and a
small answering server, which each module split from this one would build again.
"""

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

from contract import demo
from contract.signing import signature
from contract.spec import SPEC_PATH
from fuzzing import check_rules, checks, oracle, request_signing

#: The checks under test read nothing from schemathesis's check context.
NO_CONTEXT: Any = None

TEAM = "333ccc134c0319001573485e"
THREAD = "5b0525134c0319001573485e"
USER_A = "5b4458eb1b2b33001bf213bf"
USER_B = "5b4458eb1b2b33001bf213bc"
BOT = request_signing.Bot(demo.BOT_ID, demo.SECRET_KEY)


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
    bot: request_signing.Bot | None = BOT,
    content_type: str = "application/json",
) -> tuple[Any, Any]:
    """A schemathesis Case and Response for `POST /{team}/{method}`, answered `status`; the
    request signed by `bot` (None: unsigned)."""
    case = schema[f"/{{teamId}}/{method}"]["POST"].Case(path_parameters={"teamId": team}, body=body)
    headers = (
        {request_signing.BOT_ID_HEADER: bot.bot_id, **request_signing.PLACEHOLDERS} if bot else {}
    )
    auth = request_signing.SignedAuth(bot) if bot else None
    request = requests.Request(
        "POST", f"{base}/{team}/{method}", json=body, headers=headers, auth=auth
    )
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
    reason = check_rules.envelope_code(status, content)
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
        checks.envelope_code_matches_status(NO_CONTEXT, response, case)
    case, response = exchange(schema, "call/end", {"threadId": THREAD}, 409, conflict())
    assert checks.envelope_code_matches_status(NO_CONTEXT, response, case) is None


# other_team_refused ----------------------------------------------------------------------


def test_other_team_is_another_valid_id() -> None:
    assert check_rules.other_team(TEAM) == "333ccc134c0319001573485f"
    assert check_rules.other_team("f" * 24) == "0" * 24
    assert check_rules.other_team_refused(403) is None
    assert check_rules.other_team_refused(200) == (
        "a bot's signed request on another team's path was answered 200, not 403"
    )


class _Answers(BaseHTTPRequestHandler):
    """Answers every POST with the status of the server's `status` attribute; records paths
    and whether the demo bot's signature of the body was valid."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        stamp = self.headers.get(request_signing.TIMESTAMP_HEADER, "")
        valid = self.headers.get(request_signing.SIGNATURE_HEADER) == signature(
            demo.BOT_ID, demo.SECRET_KEY, stamp, body
        )
        self.server.paths.append((self.path, valid))  # type: ignore[attr-defined]
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
    check = checks.OtherTeamRefused()
    case, response = exchange(
        schema, "call/start", {"threadId": THREAD}, 200, ok({"direction": "outgoing"}), base=base
    )
    assert check.after_response(NO_CONTEXT, response, case) is None
    assert check.after_response(NO_CONTEXT, response, case) is None  # already probed: no request
    # signed again by the same bot: the signature is valid, only the team differs
    assert answering_server.paths == [(f"/{check_rules.other_team(TEAM)}/call/start", True)]


def test_other_team_check_fails_when_another_team_is_served(
    schema: Any, answering_server: Any
) -> None:
    answering_server.status = 200
    base = f"http://127.0.0.1:{answering_server.server_address[1]}"
    case, response = exchange(schema, "call/end", {"threadId": THREAD}, 409, conflict(), base=base)
    with pytest.raises(AssertionError, match="on another team's path was answered 200, not 403"):
        checks.OtherTeamRefused().after_response(NO_CONTEXT, response, case)


@pytest.mark.parametrize("status", [400, 401, 403, 415])
def test_other_team_check_skips_refused_requests(schema: Any, status: int) -> None:
    # port 9 (discard) is never contacted: a refused request is not probed
    case, response = exchange(
        schema, "call/end", {"threadId": THREAD}, status, {"code": status, "message": "x"}
    )
    assert checks.OtherTeamRefused().after_response(NO_CONTEXT, response, case) is None


def test_other_team_check_skips_unsigned_requests(schema: Any) -> None:
    case, response = exchange(schema, "call/end", {"threadId": THREAD}, 409, conflict(), bot=None)
    assert checks.OtherTeamRefused().after_response(NO_CONTEXT, response, case) is None


# contract_model --------------------------------------------------------------------------


@pytest.fixture
def model_check() -> Iterator[Any]:
    oracle.activate(oracle.Judge(TEAM, BOT))
    try:
        yield checks.ContractModel()
    finally:
        oracle.activate(None)


def play(schema: Any, check: Any, *steps: tuple[str, dict[str, Any], int, Any]) -> list[str]:
    """Feed answers to the check; return the failure message of each (empty: passed)."""
    reasons = []
    for method, body, status, answer in steps:
        case, response = exchange(schema, method, body, status, answer)
        try:
            check.after_response(NO_CONTEXT, response, case)
            reasons.append("")
        except AssertionError as error:
            reasons.append(str(error))
    return reasons


END = {"callDuration": 0, "dialogDuration": 0, "result": "unanswered", "direction": "outgoing"}


def test_model_check_invite_after_end(schema: Any, model_check: Any) -> None:
    reasons = play(
        schema,
        model_check,
        ("call/start", {"threadId": THREAD}, 200, ok({"direction": "outgoing"})),
        ("call/end", {"threadId": THREAD}, 200, ok(END)),
        (
            "call.user/invite",
            {"threadId": THREAD, "userId": USER_A},
            200,
            ok({"invitedUsersCount": 1}),
        ),
    )
    assert reasons[:2] == ["", ""]
    assert reasons[2] == (
        f"call.user/invite (thread {THREAD}, step 3): expected 409, got 200: call.user/invite "
        "needs an active call: no active call (call/end answered 200 at step 2)"
    )
    (violation,) = model_check.judge.violations
    assert [s["method"] for s in violation.sequence] == ["call/end", "call.user/invite"]


def test_model_check_counts_users_already_in_the_call(schema: Any, model_check: Any) -> None:
    body = {"threadId": THREAD, "userIds": [USER_A, USER_B]}
    reasons = play(
        schema,
        model_check,
        ("call/end", {"threadId": THREAD}, 409, conflict()),
        ("call/start", {"threadId": THREAD}, 200, ok({"direction": "outgoing"})),
        ("call.user/invite", body, 200, ok({"invitedUsersCount": 2})),
        ("call.user/invite", body, 200, ok({"invitedUsersCount": 1})),
    )
    assert reasons[:3] == ["", "", ""]
    assert "expected invitedUsersCount 0, got 1: user 5b4458eb... is in this call" in reasons[3]


def test_model_check_direction_is_echoed(schema: Any, model_check: Any) -> None:
    reasons = play(
        schema,
        model_check,
        ("call/end", {"threadId": THREAD}, 409, conflict()),
        (
            "call/start",
            {"threadId": THREAD, "direction": "incoming"},
            200,
            ok({"direction": "outgoing"}),
        ),
    )
    assert (
        "expected direction incoming, got 'outgoing': the request asked for incoming" in reasons[1]
    )


def test_model_check_durations(schema: Any, model_check: Any) -> None:
    data = {"callDuration": 3, "dialogDuration": 4, "result": "answered", "direction": "outgoing"}
    (reason,) = play(schema, model_check, ("call/end", {"threadId": THREAD}, 200, ok(data)))
    assert "expected dialogDuration <= callDuration, got 4 > 3" in reason


def test_model_check_judges_only_valid_signed_requests(schema: Any, model_check: Any) -> None:
    play(schema, model_check, ("call/end", {"threadId": THREAD}, 409, conflict()))
    # invalid body (unknown field): not judged, and its success makes the thread unknown
    assert play(
        schema,
        model_check,
        ("call/start", {"threadId": THREAD, "x": 1}, 200, ok({"direction": "outgoing"})),
    ) == [""]
    assert play(schema, model_check, ("call/start", {"threadId": THREAD}, 409, conflict())) == [""]
    # another secret key, or no signature: not judged
    forger = request_signing.Bot(demo.BOT_ID, "not-the-secret")
    for bot in (forger, None):
        case, response = exchange(schema, "call/end", {"threadId": THREAD}, 200, ok(END), bot=bot)
        assert model_check.after_response(NO_CONTEXT, response, case) is None
    assert model_check.judge.judged == 2


def test_model_check_unknown_threads_are_learnt(schema: Any, model_check: Any) -> None:
    assert (
        play(
            schema,
            model_check,
            ("call.recording/stop", {"threadId": THREAD}, 200, ok({"fileUrl": "http://x/f.wav"})),
            (
                "call.user/invite",
                {"threadId": THREAD, "userId": USER_A},
                200,
                ok({"invitedUsersCount": 1}),
            ),
            ("call/start", {"threadId": THREAD}, 409, conflict()),
            ("call.audio/stop", {"threadId": THREAD}, 409, conflict()),
        )
        == [""] * 4
    )


def test_model_check_is_registered_and_old_checks_are_gone() -> None:
    names = set(CHECKS.get_all_names())
    assert "contract_model" in names
    assert not {
        "thread_state_rules",
        "counts_within_named_users",
        "call_durations_consistent",
    } & set(checks.CUSTOM_CHECKS)


# signing ----------------------------------------------------------------------------------


def test_before_call_signs_the_exact_bytes_sent(schema: Any) -> None:
    """The hook's auth signs the prepared body, whatever separators the serializer chose."""
    kwargs: dict[str, Any] = {}
    checks.before_call(NO_CONTEXT, NO_CONTEXT, kwargs)
    body = b'{"threadId": "5b0525134c0319001573485e"}'
    request = requests.Request(
        "POST",
        f"http://h/{TEAM}/call/end",
        data=body,
        headers={request_signing.BOT_ID_HEADER: demo.BOT_ID, **request_signing.PLACEHOLDERS},
        auth=kwargs["auth"],
    ).prepare()
    assert request.headers[request_signing.BOT_ID_HEADER] == demo.BOT_ID
    stamp = str(request.headers[request_signing.TIMESTAMP_HEADER])
    assert request.headers[request_signing.SIGNATURE_HEADER] == signature(
        demo.BOT_ID, demo.SECRET_KEY, stamp, body
    )
    assert request_signing.is_signed(BOT, request.headers, body)


def test_requests_without_a_bot_stay_unsigned() -> None:
    """`ignored_auth` strips the declared headers: its probes must reach the server unsigned."""
    request = requests.Request(
        "POST", f"http://h/{TEAM}/call/end", data=b"{}", auth=request_signing.SignedAuth(BOT)
    ).prepare()
    assert not any(name in request.headers for name in request_signing.HEADERS)


@pytest.mark.parametrize("left_out", sorted(request_signing.PLACEHOLDERS))
def test_a_header_left_out_or_changed_on_purpose_stays_so(left_out: str) -> None:
    """A negative case without one signature header, or with a generated value in it, is sent
    as schemathesis made it: signing it would turn it into a valid request."""
    for value in (None, "generated"):
        headers = {request_signing.BOT_ID_HEADER: demo.BOT_ID, **request_signing.PLACEHOLDERS}
        if value is None:
            del headers[left_out]
        else:
            headers[left_out] = value
        request = requests.Request(
            "POST",
            f"http://h/{TEAM}/call/end",
            data=b"{}",
            headers=headers,
            auth=request_signing.SignedAuth(BOT),
        ).prepare()
        assert dict(request.headers).items() >= headers.items()
        assert not request_signing.is_signed(BOT, request.headers, b"{}")


def test_a_signature_is_judged_on_bot_secret_time_and_bytes() -> None:
    headers = BOT.headers(b"{}", timestamp=1_000)
    assert request_signing.is_signed(BOT, headers, b"{}", now=1_300)
    assert not request_signing.is_signed(BOT, headers, b"{}", now=1_301)  # stale
    assert not request_signing.is_signed(BOT, headers, b"{ }", now=1_000)  # other bytes
    other = request_signing.Bot("0" * 24, demo.SECRET_KEY)
    assert not request_signing.is_signed(other, headers, b"{}", now=1_000)


def test_forged_timestamps_stay_on_their_side_of_the_limit() -> None:
    for now in (1_000.0, 1_000.01, 1_000.99):
        assert now - request_signing.stamp(-299, now) <= 299
        assert request_signing.stamp(299, now) - now <= 299
        assert now - request_signing.stamp(-301, now) >= 301
        assert request_signing.stamp(301, now) - now >= 301
