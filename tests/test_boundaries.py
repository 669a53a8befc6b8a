"""The boundary phase (`fuzzing.boundaries`): cases derived from the spec, not from a hand list,
each with the status the contract names, and no false alarm on the reference server."""

from __future__ import annotations

import asyncio
import copy
import io
import re
from collections.abc import Callable
from typing import Any

import pytest

from contract import demo
from contract.signing import signature
from contract.spec import Spec, SpecError, load, parse
from fuzzing import boundaries, boundary_cases, request_signing
from fuzzing.boundary_requests import Boundary
from reference_server import create_app

BOT = request_signing.Bot(demo.BOT_ID, demo.SECRET_KEY)


def derive(spec: Spec | None = None) -> list[Boundary]:
    return boundary_cases.derive(spec or load(), demo.TEAM)


def find(cases: list[Boundary], method: str, field: str, label: str) -> Boundary:
    found = [c for c in cases if c.method == method and c.field == field and c.label == label]
    assert found, f"no case {method} {field} {label!r}"
    return found[0]


def rules(cases: list[Boundary]) -> set[tuple[str, str, str]]:
    return {(c.method, c.field, c.constraint) for c in cases}


def changed_spec(change: Callable[[dict[str, Any]], None]) -> Spec:
    document = copy.deepcopy(dict(load().document))
    change(document)
    return parse(document)


# -- derived from the spec -----------------------------------------------------------------


def test_every_operation_gets_cases_on_threads_of_their_own() -> None:
    cases = derive()
    assert {c.method for c in cases} == set(load().operations)
    threads = [
        c.json_body["threadId"]
        for c in cases
        if isinstance(c.json_body, dict)
        and isinstance(c.json_body.get("threadId"), str)
        and c.json_body["threadId"].startswith("7e")
    ]
    assert len(threads) == len(set(threads))  # one thread per case
    assert not set(threads) & {*demo.THREADS, *(demo.thread(n) for n in range(100))}


def test_a_constraint_added_to_the_spec_yields_new_cases() -> None:
    def limit_direction(document: dict[str, Any]) -> None:
        document["components"]["schemas"]["Direction"]["maxLength"] = 8

    def fewer_users(document: dict[str, Any]) -> None:
        document["components"]["schemas"]["UserIds"]["maxItems"] = 3

    before = rules(derive())
    after = derive(changed_spec(limit_direction))
    assert rules(after) - before == {("call/start", "direction", "maxLength 8")}
    nine = find(after, "call/start", "direction", "9 characters")
    assert nine.expected == (400,) and not nine.inside

    users = derive(changed_spec(fewer_users))
    assert ("call.user/invite", "userIds", "maxItems 3") in rules(users)
    three = find(users, "call.user/invite", "userIds", "exactly 3 items")
    four = find(users, "call.user/invite", "userIds", "4 items")
    assert three.inside and len(three.json_body["userIds"]) == 3
    assert four.expected == (400,) and len(four.json_body["userIds"]) == 4


def test_a_constraint_removed_from_the_spec_removes_its_cases() -> None:
    def allow_repeats(document: dict[str, Any]) -> None:
        del document["components"]["schemas"]["UserIds"]["uniqueItems"]

    assert not [c for c in derive(changed_spec(allow_repeats)) if c.constraint == "uniqueItems"]


def test_a_bigger_body_limit_moves_the_size_cases() -> None:
    def bigger(document: dict[str, Any]) -> None:
        document["info"]["x-max-request-body-bytes"] = 100_000

    cases = derive(changed_spec(bigger))
    over = find(cases, "call/end", "body", "one byte over, valid JSON padded with spaces")
    assert len(over.body) == 100_001 and over.expected == (413,)


# -- each case's expected status ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "field", "label", "expected"),
    [
        ("call/start", "threadId", "one letter upper case", (400,)),
        ("call/start", "threadId", "one character more", (400,)),
        ("call/start", "threadId", "one character less", (400,)),
        ("call/start", "threadId", "a trailing newline", (400,)),
        ("call/start", "threadId", "exactly 24 characters", (200, 409)),
        ("call/start", "direction", "given as", (400,)),
        ("call/start", "direction", "an allowed value in another case", (400,)),
        ("call/start", "direction", "an allowed value", (200, 409)),
        ("call.user/invite", "userIds", "exactly 100 items", (200, 409)),
        ("call.user/invite", "userIds", "101 items", (400,)),
        ("call.user/invite", "userIds", "a repeated item", (400,)),
        ("call.user/invite", "userIds", "0 items", (400,)),
        ("call.audio/play", "fileUrl", "extension in upper case (.MP3)", (200, 409, 422)),
        ("call.audio/play", "fileUrl", "another extension (.mp4)", (400,)),
        ("call.audio/play", "fileUrl", "exactly 2048 characters", (200, 409, 422)),
        ("call.audio/play", "fileUrl", "2049 characters", (400,)),
        ("call/end", "Content-Type", "with a charset", (200, 409)),
        ("call/end", "Content-Type", "another media type", (415,)),
        ("call/end", "body", "exactly the limit, valid JSON padded with spaces", (200, 409)),
        ("call/end", "body", "one byte over, valid JSON padded with spaces", (413,)),
        ("call/end", "body", "an unknown field and one byte over", (413,)),
        ("call/end", "teamId", "one letter upper case", (400,)),
        ("call/end", "teamId", "one letter upper case, sent as text/plain", (400,)),
        ("call/end", "teamId", "a valid id of a team the bot is not in", (403,)),
        (
            "call/end",
            "teamId",
            "a valid id of a team the bot is not in, sent as text/plain",
            (403,),
        ),
        ("call/end", "X-Signature", "left out", (401,)),
        ("call/end", "X-timestamp", "stale, 301 s in the past", (401,)),
    ],
)
def test_expected_status(method: str, field: str, label: str, expected: tuple[int, ...]) -> None:
    assert find(derive(), method, field, label).expected == expected


def test_an_upper_case_scheme_of_the_file_url_is_inside_its_pattern() -> None:
    case = find(derive(), "call.audio/play", "fileUrl", "one letter upper case")
    assert case.json_body["fileUrl"].startswith("Https://") and case.inside


def test_sizes_are_exact_and_padding_keeps_the_json_valid() -> None:
    cases = derive()
    limit = load().max_body_bytes
    exact = find(cases, "call/end", "body", "exactly the limit, valid JSON padded with spaces")
    over = find(
        cases, "call/end", "body", "one byte over, sent chunked, valid JSON padded with spaces"
    )
    assert len(exact.body) == limit and len(over.body) == limit + 1 and over.chunked
    assert exact.body.rstrip().endswith(b"}")


def test_reason_and_curl_name_field_constraint_value_and_never_the_secret() -> None:
    case = find(derive(), "call/start", "threadId", "one letter upper case")
    reason = case.reason(200)
    assert reason.startswith(f'threadId: pattern {load().id_pattern}, one letter upper case "7E')
    assert reason.endswith(": expected 400, got 200")
    command = boundaries.curl("http://127.0.0.1:8080", case)
    assert 'eval "$(printf %s "$body" | python -m fuzzing sign --shell)"' in command
    assert '-H "X-Signature: $FUZZ_SIGNATURE"' in command
    assert f"/{demo.TEAM}/call/start" in command and demo.SECRET_KEY not in command
    big = find(derive(), "call/end", "body", "one byte over, valid JSON padded with spaces")
    assert (
        "printf" in boundaries.curl("http://x", big) and len(boundaries.curl("http://x", big)) < 400
    )


# -- against the reference server, in process: no false alarm -----------------------------


def asgi_transport(app: Any) -> boundaries.Transport:
    """Sends a case straight into the ASGI app; returns the status it answers."""

    def send(case: Boundary) -> int:
        headers = (
            [] if case.content_type is None else [(b"content-type", case.content_type.encode())]
        )
        for name, value in case.signing.headers(BOT, case.body).items():
            headers.append((name.lower().encode(), value.encode()))
        if not case.chunked:
            headers.append((b"content-length", str(len(case.body)).encode()))
        path = f"/{case.team}/{case.method}"
        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "raw_path": path.encode(),
            "headers": headers,
            "query_string": b"",
            "server": ("127.0.0.1", 8080),
        }
        chunks = [case.body[i : i + 16384] for i in range(0, len(case.body), 16384)] or [b""]
        statuses: list[int] = []

        async def receive() -> dict[str, Any]:
            body = chunks.pop(0) if chunks else b""
            return {"type": "http.request", "body": body, "more_body": bool(chunks)}

        async def reply(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        asyncio.run(app(scope, receive, reply))
        return statuses[0]

    return send


def test_the_reference_server_answers_every_case_as_expected() -> None:
    app = create_app(":memory:")  # the demo bot, installed in the demo team
    try:
        cases = derive()
        found = boundaries.judge_statuses(cases, asgi_transport(app), "http://127.0.0.1:8080")
    finally:
        app.close()
    assert [v.reason for v in found.violations] == []
    assert found.cases == len(cases) > 500
    inside = [c for c in cases if c.inside]
    assert len(inside) > 50 and len(cases) - len(inside) > 400


def test_merge_puts_the_phase_first_in_the_run_result() -> None:
    from fuzzing.runner import RunResult, Violation

    result = RunResult(seed=1, url="http://x", budget=5, cases=10, elapsed=5.0)
    result.violations.append(Violation("contract_model", "POST /x", "r", "c", first_seen=1.0))
    found = boundaries.Found(cases=7, elapsed=2.0, tally={"POST /x": [6, 1]})
    found.violations.append(Violation(boundaries.CHECK, "POST /x", "b", "c", first_seen=0.5))
    boundaries.merge(found, result)
    assert [v.check for v in result.violations] == [boundaries.CHECK, "contract_model"]
    assert result.violations[1].first_seen == 3.0
    assert result.cases == 17 and result.phase_cases[boundaries.PHASE] == 7
    assert result.tally[("POST /x", boundaries.CHECK)] == [6, 1]


# -- forgeries: derived from the security schemes ---------------------------------------------


def forged(cases: list[Boundary], method: str = "call/end") -> list[Boundary]:
    return [c for c in cases if c.method == method and c.signing != request_signing.PROPER]


def test_every_operation_gets_every_forgery() -> None:
    cases = derive()
    labels = {(c.field, c.label, c.expected) for c in forged(cases)}
    assert {
        ("X-Bot-Id", "left out", (401,)),
        ("X-timestamp", "left out", (401,)),
        ("X-Signature", "left out", (401,)),
        ("X-Bot-Id", "in upper case, signed over the text sent", (401,)),
        ("X-Bot-Id", "in upper case, signed over the value", (401,)),
        ("X-Bot-Id", "one character less (the last one dropped), signed over the value", (401,)),
        (
            "X-Bot-Id",
            "another valid-looking id (its last character changed), signed over the text sent",
            (401,),
        ),
        ("X-timestamp", "in milliseconds, signed over the text sent", (401,)),
        ("X-timestamp", "in microseconds, signed over the value", (401,)),
        ("X-timestamp", "with a leading zero, signed over the text sent", (401,)),
        ("X-timestamp", "negative (a minus sign), signed over the text sent", (401,)),
        ("X-timestamp", "with a fraction of a second (.5), signed over the value", (401,)),
        ("X-timestamp", "stale, 301 s in the past", (401,)),
        ("X-timestamp", "301 s in the future", (401,)),
        ("X-Signature", "in upper case", (401,)),
        ("X-Signature", "one character less (the last one dropped)", (401,)),
        (
            "X-Signature",
            "HMAC-SHA256 keyed with the secret key, of botId + timestamp + body",
            (401,),
        ),
        (
            "X-Signature",
            "botId and secretkey swapped: secretkey + botId + timestamp + body",
            (401,),
        ),
        ("X-Signature", "without secretkey: botId + timestamp + body", (401,)),
        ("X-Signature", "a wrong signature (its last digit changed)", (401,)),
        ("X-Signature", "signed over another request's body", (401,)),
        ("X-Signature", "signed over the body re-serialized (compact JSON)", (401,)),
    } <= labels
    accepted = {(c.field, c.label) for c in forged(cases) if 401 not in c.expected}
    assert accepted == {
        ("X-timestamp", "299 s in the past"),
        ("X-timestamp", "299 s in the future"),
        ("X-Bot-Id", "surrounded by spaces, signed over the value"),
        ("X-timestamp", "surrounded by spaces, signed over the value"),
        ("X-Signature", "surrounded by spaces"),
    }
    # the same forgeries on every operation; a spelling that changes nothing is left out
    per_operation = {method: len(forged(cases, method)) for method in load().operations}
    assert len(set(per_operation.values())) == 1 and per_operation["call/end"] > 80
    assert ("X-timestamp", "in upper case, signed over the text sent", (401,)) not in labels
    other_team = find(cases, "call/end", "teamId", "a valid id of a team the bot is not in")
    assert other_team.expected == (403,) and other_team.signing == request_signing.PROPER


def test_the_window_is_read_from_the_spec() -> None:
    def narrow(document: dict[str, Any]) -> None:
        document["components"]["securitySchemes"]["timestamp"]["x-max-skew-seconds"] = 60

    def twice(document: dict[str, Any]) -> None:
        document["components"]["securitySchemes"]["botId"]["x-max-skew-seconds"] = 60

    assert load().max_skew_seconds == request_signing.MAX_SKEW_SECONDS
    cases = forged(derive(changed_spec(narrow)))
    window = {(c.constraint, c.label, 401 in c.expected) for c in cases if "within" in c.constraint}
    assert {
        ("security: within 60 s of the server's clock", "stale, 61 s in the past", True),
        ("security: within 60 s of the server's clock", "61 s in the future", True),
        ("security: within 60 s of the server's clock", "59 s in the past", False),
    } <= window
    with pytest.raises(SpecError, match="x-max-skew-seconds must be one positive integer"):
        changed_spec(twice)


NOW = 1_800_000_000.25
BODY = b'{"threadId":"5b0525134c0319001573485e"}'


def stripped(headers: dict[str, str]) -> dict[str, str]:
    """The headers as a server reads them: without the whitespace around each value."""
    return {name: value.strip() for name, value in headers.items()}


def test_each_forgery_is_no_valid_signature_and_each_accepted_one_is() -> None:
    for case in forged(derive()):
        if case.signing.signed_body is not None:
            continue  # signed over other bytes: the body test below
        headers = case.signing.headers(BOT, BODY, now=NOW)
        valid_now = request_signing.is_signed(BOT, stripped(headers), BODY, now=NOW)
        assert valid_now == (401 not in case.expected), case.label
        if 401 in case.expected and case.signing.omit is None:
            assert headers != BOT.headers(BODY, timestamp=int(NOW)), case.label


def test_a_reproduction_makes_the_same_forgery() -> None:
    """`python -m fuzzing sign` with a forgery's options forges the same headers."""
    for case in forged(derive()):
        if case.signing.omit or case.signing.signed_body is not None:
            continue  # curl leaves the header out; the snippet signs other bytes
        options = request_signing.sign_parser().parse_args(case.signing.sign_options())
        assert request_signing.forgery(options) == case.signing, case.label


def test_no_forgery_shows_the_secret_key() -> None:
    secret = "s3cret-not-for-print"
    bot = request_signing.Bot("c" * 24, secret)
    for case in forged(boundary_cases.derive(load(), demo.TEAM, bot_id=bot.bot_id)):
        shown = [*case.signing.headers(bot, case.body).values(), case.reason(200)]
        shown.append(boundaries.curl("http://127.0.0.1:1", case, bot.bot_id))
        assert not any(secret in text for text in shown), case.label


def test_forged_headers_and_their_reproduction() -> None:
    cases = derive()
    missing = find(cases, "call/end", "X-timestamp", "left out")
    assert request_signing.TIMESTAMP_HEADER not in missing.signing.headers(BOT, BODY)
    milliseconds = find(
        cases, "call/end", "X-timestamp", "in milliseconds, signed over the text sent"
    )
    headers = milliseconds.signing.headers(BOT, BODY, now=NOW)
    assert headers["X-timestamp"] == f"{int(NOW)}000"
    assert headers["X-Signature"] == signature(
        demo.BOT_ID, demo.SECRET_KEY, headers["X-timestamp"], BODY
    )
    snippet = boundaries.curl("http://x", milliseconds, demo.BOT_ID)
    assert f"--bot-id {demo.BOT_ID} --spell=X-timestamp=milliseconds" in snippet
    stale = find(cases, "call/end", "X-timestamp", "stale, 301 s in the past")
    assert "--offset=-301" in boundaries.curl("http://x", stale)
    empty = find(cases, "call/end", "X-Bot-Id", "empty, signed over the value")
    assert "-H 'X-Bot-Id;'" in boundaries.curl("http://x", empty)  # curl sends it empty
    other = find(cases, "call/end", "X-Signature", "signed over another request's body")
    snippet = boundaries.curl("http://x", other, demo.BOT_ID)
    assert 'printf %s \'{"threadId":' in snippet and '--data-binary "$body"' in snippet
    left_out = boundaries.curl("http://x", find(cases, "call/end", "X-Signature", "left out"))
    assert "X-Signature:" not in left_out and "X-Bot-Id:" in left_out


def test_python_m_fuzzing_sign_forges_as_told_and_names_a_wrong_option(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(BODY)))
    out = io.StringIO()
    assert request_signing.main(["--spell=X-timestamp=milliseconds"], out=out) == 0
    headers = dict(line.split(": ", 1) for line in out.getvalue().splitlines())
    assert re.fullmatch(r"[1-9][0-9]{12}", headers["X-timestamp"])
    assert headers["X-Signature"] == signature(
        demo.BOT_ID, demo.SECRET_KEY, headers["X-timestamp"], BODY
    )
    assert request_signing.main(["--spell=X-Bot-Id=bogus"], out=io.StringIO()) == 2
    assert "--spell 'X-Bot-Id=bogus': expected HEADER=SPELLING" in capsys.readouterr().err
