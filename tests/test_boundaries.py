"""The boundary phase (`fuzzing.boundaries`): cases derived from the spec, not from a hand list,
each with the status the contract names, and no false alarm on the reference server."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from typing import Any

import pytest

from contract import demo
from contract.spec import Spec, load, parse
from fuzzing import boundaries, signing
from fuzzing.boundaries import Boundary
from reference_server import create_app

BOT = signing.Bot(demo.BOT_ID, demo.SECRET_KEY)


def derive(spec: Spec | None = None) -> list[Boundary]:
    return boundaries.derive(spec or load(), demo.TEAM)


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
        found = boundaries.judge(cases, asgi_transport(app), "http://127.0.0.1:8080")
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


def test_every_operation_gets_every_forgery() -> None:
    cases = derive()
    forged = [c for c in cases if c.signing != signing.PROPER]
    methods = {c.method for c in cases}
    labels = {(c.field, c.label, c.expected) for c in forged if c.method == "call/end"}
    assert {
        ("X-Bot-Id", "left out", (401,)),
        ("X-timestamp", "left out", (401,)),
        ("X-Signature", "left out", (401,)),
        ("X-Bot-Id", "an unknown bot (signed with the run's secret key)", (401,)),
        ("X-Signature", "a wrong signature (its last digit changed)", (401,)),
        ("X-Signature", "signed over another request's body", (401,)),
        ("X-Signature", "signed over the body re-serialized (compact JSON)", (401,)),
        ("X-Signature", "signed over an empty body", (401,)),
        ("X-timestamp", "stale, 301 s in the past", (401,)),
        ("X-timestamp", "301 s in the future", (401,)),
    } <= labels
    accepted = {c.label for c in forged if c.method == "call/end" and 401 not in c.expected}
    assert accepted == {"299 s in the past", "299 s in the future"}
    assert {c.method for c in forged} == methods
    other_team = find(cases, "call/end", "teamId", "a valid id of a team the bot is not in")
    assert other_team.expected == (403,) and other_team.signing == signing.PROPER


def test_forged_headers_and_their_reproduction() -> None:
    cases = derive()
    body = b'{"threadId":"5b0525134c0319001573485e"}'
    missing = find(cases, "call/end", "X-timestamp", "left out")
    assert signing.TIMESTAMP_HEADER not in missing.signing.headers(BOT, body)
    unknown = find(
        cases, "call/end", "X-Bot-Id", "an unknown bot (signed with the run's secret key)"
    )
    assert not signing.is_signed(BOT, unknown.signing.headers(BOT, body), body)
    stale = find(cases, "call/end", "X-timestamp", "stale, 301 s in the past")
    assert not signing.is_signed(BOT, stale.signing.headers(BOT, body), body)
    within = find(cases, "call/end", "X-timestamp", "299 s in the past")
    assert signing.is_signed(BOT, within.signing.headers(BOT, body), body)
    assert "--offset=-301" in boundaries.curl("http://x", stale)
    other = find(cases, "call/end", "X-Signature", "signed over another request's body")
    snippet = boundaries.curl("http://x", other, demo.BOT_ID)
    assert 'printf %s \'{"threadId":' in snippet and '--data-binary "$body"' in snippet
    left_out = boundaries.curl("http://x", find(cases, "call/end", "X-Signature", "left out"))
    assert "X-Signature:" not in left_out and "X-Bot-Id:" in left_out
