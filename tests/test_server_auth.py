"""Bot signatures on the reference server: every operation of the spec, every way to fail.

The requests are signed with `testkit.signing` (the tools' signer, `contract.signing`), and
checked by the server's own code (`reference_server.auth`): two implementations of one rule.
One test checks the server against a signature computed here by hand, for the example body of
Workonflow's documentation. The server's clock is fixed, so that stale and future timestamps
are exact.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from contract import demo
from contract.signing import Bot
from contract.spec import load
from reference_server import auth, create_app
from reference_server.testing import serve_in_thread
from testkit.signing import DEMO_BOT, OTHER_BOT, signed_headers

SpecSchemas = Any  # the `schemas` fixture of conftest.py (testkit.spec.SpecSchemas)

SPEC = load()
OPERATIONS = list(SPEC.operations)
TEAM = demo.TEAM
OTHER_TEAM = demo.OTHER_TEAM
#: The fixed time of the server's clock (whole seconds).
NOW = 1_800_000_000
#: A bot installed in two teams.
TWO_TEAMS = Bot("5c0e5996e43fb4001acfb0c3", "two-teams-secret")
#: A bot the server does not know, with the demo bot's secret key.
UNKNOWN = Bot("5c0e5996e43fb4001acfb0ff", DEMO_BOT.secret_key)
#: By request schema: what a valid body holds besides `threadId`.
EXTRA_FIELDS: dict[str, dict[str, Any]] = {
    "CallStartRequest": {},
    "ThreadRequest": {},
    "UsersRequest": {"userIds": list(demo.USERS[:2])},
    "CallAudioPlayRequest": {"fileUrl": "https://example.com/hold.mp3"},
}
_THREADS = itertools.count(1_000)


def test_every_request_schema_has_a_valid_body_here() -> None:
    assert {operation.request_schema for operation in SPEC} <= set(EXTRA_FIELDS)


def pointer(*parts: str) -> str:
    """A JSON pointer to the given keys (RFC 6901)."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def body_of(method: str) -> bytes:
    """A valid body of the operation, on a thread of its own, as compact JSON."""
    schema = SPEC.operations[method].request_schema
    assert schema is not None, method
    body = {"threadId": demo.thread(next(_THREADS)), **EXTRA_FIELDS[schema]}
    return json.dumps(body, separators=(",", ":")).encode()


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    bots = [
        auth.Bot(DEMO_BOT.bot_id, DEMO_BOT.secret_key, frozenset({TEAM})),
        auth.Bot(OTHER_BOT.bot_id, OTHER_BOT.secret_key, frozenset({OTHER_TEAM})),
        auth.Bot(TWO_TEAMS.bot_id, TWO_TEAMS.secret_key, frozenset({TEAM, OTHER_TEAM})),
    ]
    app = create_app(":memory:", bots, clock=lambda: float(NOW))
    try:
        with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url, timeout=10) as c:
            yield c
    finally:
        app.close()


def send(
    client: httpx.Client, method: str, body: bytes, headers: dict[str, str], *, team: str = TEAM
) -> httpx.Response:
    """POST exactly `body` with exactly these signature headers (and JSON's content type)."""
    return client.post(
        f"/{team}/{method}",
        content=body,
        headers={"Content-Type": "application/json", **headers},
    )


def answer_of(schemas: SpecSchemas, method: str, response: httpx.Response) -> dict[str, Any]:
    """The answer, which is the envelope the spec documents for its status."""
    assert response.headers["content-type"] == "application/json"
    answer: dict[str, Any] = response.json()
    assert answer["code"] == response.status_code
    operation = SPEC.operations[method]
    assert response.status_code in operation.statuses
    verb, status = operation.http_method.lower(), str(response.status_code)
    documented = schemas.spec["paths"][operation.path][verb]["responses"][status]
    if "$ref" in documented:
        where = ["components", "responses", documented["$ref"].rsplit("/", 1)[-1]]
    else:
        where = ["paths", operation.path, verb, "responses", status]
    schemas.validator(pointer(*where, "content", "application/json", "schema")).validate(answer)
    return answer


def assert_not_authorized(schemas: SpecSchemas, method: str, response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    message: str = answer_of(schemas, method, response)["message"]
    assert message.startswith("Not authorized")
    assert DEMO_BOT.secret_key not in message


def assert_accepted(
    schemas: SpecSchemas, method: str, body: bytes, response: httpx.Response
) -> None:
    """Past the signature and the body's checks: a new thread's call starts, or has none."""
    answer = answer_of(schemas, method, response)
    if method == "call/start":
        assert answer["code"] == 200, answer
    else:
        assert answer["code"] == 409, answer
        assert json.loads(body)["threadId"] in answer["message"]


# -- 401 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["X-Bot-Id", "X-timestamp", "X-Signature"])
@pytest.mark.parametrize("method", OPERATIONS)
def test_a_missing_header_answers_401(
    client: httpx.Client, schemas: SpecSchemas, method: str, missing: str
) -> None:
    body = body_of(method)
    headers = signed_headers(body, timestamp=NOW)
    del headers[missing]
    response = send(client, method, body, headers)
    assert_not_authorized(schemas, method, response)
    assert missing in response.json()["message"]


@pytest.mark.parametrize("method", OPERATIONS)
def test_an_unknown_bot_answers_401(
    client: httpx.Client, schemas: SpecSchemas, method: str
) -> None:
    body = body_of(method)
    response = send(client, method, body, signed_headers(body, UNKNOWN, timestamp=NOW))
    assert_not_authorized(schemas, method, response)


@pytest.mark.parametrize("method", OPERATIONS)
def test_a_wrong_signature_answers_401(
    client: httpx.Client, schemas: SpecSchemas, method: str
) -> None:
    body = body_of(method)
    wrong_key = Bot(DEMO_BOT.bot_id, OTHER_BOT.secret_key)
    response = send(client, method, body, signed_headers(body, wrong_key, timestamp=NOW))
    assert_not_authorized(schemas, method, response)


@pytest.mark.parametrize("method", OPERATIONS)
def test_a_signature_over_another_body_answers_401(
    client: httpx.Client, schemas: SpecSchemas, method: str
) -> None:
    body = body_of(method)
    other = body.replace(b'{"threadId"', b'{ "threadId"')  # the same JSON, other bytes
    assert json.loads(other) == json.loads(body)
    response = send(client, method, other, signed_headers(body, timestamp=NOW))
    assert_not_authorized(schemas, method, response)


@pytest.mark.parametrize("method", OPERATIONS)
def test_an_upper_case_signature_answers_401(
    client: httpx.Client, schemas: SpecSchemas, method: str
) -> None:
    body = body_of(method)
    headers = signed_headers(body, timestamp=NOW)
    headers["X-Signature"] = headers["X-Signature"].upper()
    assert_not_authorized(schemas, method, send(client, method, body, headers))


@pytest.mark.parametrize("skew", [-301, 301, -86_400, 86_400])
@pytest.mark.parametrize("method", OPERATIONS)
def test_a_timestamp_more_than_300_s_away_answers_401(
    client: httpx.Client, schemas: SpecSchemas, method: str, skew: int
) -> None:
    body = body_of(method)
    response = send(client, method, body, signed_headers(body, timestamp=NOW + skew))
    assert_not_authorized(schemas, method, response)
    assert "300 s" in response.json()["message"]


# -- accepted, 403 ----------------------------------------------------------------------------


@pytest.mark.parametrize("skew", [-299, -300, 0, 299, 300])
@pytest.mark.parametrize("method", OPERATIONS)
def test_a_timestamp_within_300_s_is_accepted(
    client: httpx.Client, schemas: SpecSchemas, method: str, skew: int
) -> None:
    body = body_of(method)
    response = send(client, method, body, signed_headers(body, timestamp=NOW + skew))
    assert_accepted(schemas, method, body, response)


@pytest.mark.parametrize("method", OPERATIONS)
def test_a_bot_on_a_team_it_is_not_installed_in_answers_403(
    client: httpx.Client, schemas: SpecSchemas, method: str
) -> None:
    body = body_of(method)
    for bot, team in ((DEMO_BOT, OTHER_TEAM), (OTHER_BOT, TEAM)):
        response = send(client, method, body, signed_headers(body, bot, timestamp=NOW), team=team)
        assert answer_of(schemas, method, response) == {
            "code": 403,
            "message": f"The bot is not installed in team {team}",
        }


@pytest.mark.parametrize("method", OPERATIONS)
def test_a_bot_installed_in_two_teams_works_on_both(
    client: httpx.Client, schemas: SpecSchemas, method: str
) -> None:
    body = body_of(method)
    for team in (TEAM, OTHER_TEAM):
        headers = signed_headers(body, TWO_TEAMS, timestamp=NOW)
        assert_accepted(schemas, method, body, send(client, method, body, headers, team=team))


# -- the rule itself --------------------------------------------------------------------------


def test_the_server_accepts_a_signature_computed_by_hand(
    client: httpx.Client, schemas: SpecSchemas
) -> None:
    """Workonflow's example body, signed as its documentation says, with nothing but hashlib."""
    body = b'{"threadId":"5c0e5996e43fb4001acfc596"}'
    timestamp = str(NOW)
    text = demo.BOT_ID + demo.SECRET_KEY + timestamp + body.decode()
    signature = hashlib.sha256(text.encode()).hexdigest()
    assert signature == "2e87caaac0281d8d22d1ff76923611ed5dad15f1db28cba22937614daf476d21"
    # The signer of the tools and tests agrees.
    assert signed_headers(body, timestamp=NOW)["X-Signature"] == signature
    headers = {"X-Bot-Id": demo.BOT_ID, "X-timestamp": timestamp, "X-Signature": signature}
    response = send(client, "call/start", body, headers)
    assert answer_of(schemas, "call/start", response)["code"] == 200
    one_off = {**headers, "X-Signature": signature[:-1] + ("0" if signature[-1] != "0" else "1")}
    assert_not_authorized(schemas, "call/end", send(client, "call/end", body, one_off))


def test_the_signature_covers_an_empty_body(client: httpx.Client, schemas: SpecSchemas) -> None:
    """A body the signature covers is read whatever it is: an empty one is then a bad body."""
    response = send(client, "call/start", b"", signed_headers(b"", timestamp=NOW))
    answer = answer_of(schemas, "call/start", response)
    assert answer["code"] == 400 and answer["errors"][0]["field"] == "body"
    response = send(client, "call/start", b"", signed_headers(b"{}", timestamp=NOW))
    assert_not_authorized(schemas, "call/start", response)


def test_a_header_given_twice_answers_401(client: httpx.Client, schemas: SpecSchemas) -> None:
    body = body_of("call/start")
    headers = signed_headers(body, timestamp=NOW)
    response = client.post(
        f"/{TEAM}/call/start",
        content=body,
        headers=[
            ("Content-Type", "application/json"),
            *headers.items(),
            ("X-Bot-Id", OTHER_BOT.bot_id),
        ],
    )
    assert_not_authorized(schemas, "call/start", response)
    assert "given twice" in response.json()["message"]


def test_repr_never_shows_a_secret_key() -> None:
    bot = auth.parse_bot(f"{demo.BOT_ID}=a-secret-of-mine:{TEAM}")
    bots = auth.Bots([bot])
    app = create_app(":memory:", bots)
    try:
        for shown in (repr(bot), str(bot), bot.describe(), repr(bots), repr(app), repr(app.bots)):
            assert "a-secret-of-mine" not in shown
        assert "a-secret-of-mine" not in repr(Bot(demo.BOT_ID, "a-secret-of-mine"))
    finally:
        app.close()
