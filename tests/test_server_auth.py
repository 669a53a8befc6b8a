"""Bot signatures on the reference server (contract 2.0.0), for every operation of the spec.

Each forgery of a signed request is refused with 401 and the envelope, and changes nothing;
a bot on a team it is not installed in gets 403. The signatures are made with the tools'
signer (`contract.signing`), never with the server's own code, and one known vector is
computed here by hand from the rule as Workonflow states it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator

import httpx
import pytest

from contract import demo
from contract.signing import Bot as Signer
from contract.signing import signature
from contract.spec import load
from reference_server import DEMO_BOT, App, Bot, create_app
from testkit.signed_requests import signed

SPEC = load()
OPERATIONS = list(SPEC.operations)
NOW = 1_800_000_000
#: A bot installed in two teams, and one in another team only.
TWO_TEAMS = Signer(demo.user(910), "two-teams-secret")
ELSEWHERE = Signer(demo.user(911), "elsewhere-secret")
#: The body of Workonflow's own example.
EXAMPLE_BODY = b'{"threadId":"5c0e5996e43fb4001acfc596"}'


@pytest.fixture
def app() -> Iterator[App]:
    bots = [
        DEMO_BOT,
        Bot(TWO_TEAMS.bot_id, TWO_TEAMS.secret_key, frozenset({demo.TEAM, demo.OTHER_TEAM})),
        Bot(ELSEWHERE.bot_id, ELSEWHERE.secret_key, frozenset({demo.OTHER_TEAM})),
    ]
    application = create_app(":memory:", bots, clock=lambda: NOW)
    yield application
    application.close()


def post(
    app: App, method: str, body: bytes, headers: dict[str, str], team: str = demo.TEAM
) -> httpx.Response:
    async def exchange() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://server.test") as client:
            return await client.post(f"/{team}/{method}", content=body, headers=headers)

    return asyncio.run(exchange())


def body_for(method: str) -> bytes:
    """A body that passes validation for the operation (the thread has no call)."""
    fields: dict[str, object] = {"threadId": demo.THREADS[1]}
    schema = SPEC.operations[method].request_schema
    if schema == "UsersRequest":
        fields["userId"] = demo.USERS[0]
    elif schema == "CallAudioPlayRequest":
        fields["fileUrl"] = "https://example.com/hold.mp3"
    return json.dumps(fields).encode()


def demo_headers(body: bytes, timestamp: int = NOW) -> dict[str, str]:
    return signed(body, timestamp=timestamp)


def forgeries(body: bytes) -> Iterator[tuple[str, bytes, dict[str, str]]]:
    """(what, body sent, headers) for each way of getting the signature wrong."""
    good = demo_headers(body)
    for header in ("X-Bot-Id", "X-timestamp", "X-Signature"):
        yield f"no {header}", body, {k: v for k, v in good.items() if k != header}
    unknown = Signer(demo.user(999), demo.SECRET_KEY)
    yield "an unknown bot", body, signed(body, unknown, timestamp=NOW)
    yield "a wrong secret key", body, signed(body, Signer(demo.BOT_ID, "guess"), timestamp=NOW)
    yield "a signature over another body", body + b" ", good
    yield "a stale timestamp", body, demo_headers(body, NOW - 301)
    yield "a future timestamp", body, demo_headers(body, NOW + 301)
    yield "a timestamp that is no number", body, {**good, "X-timestamp": "soon"}
    for what, stamp in (("a leading zero", f"0{NOW}"), ("a plus sign", f"+{NOW}")):
        forged = signature(demo.BOT_ID, demo.SECRET_KEY, stamp, body)  # over the text sent
        yield (
            f"a timestamp with {what}",
            body,
            {**good, "X-timestamp": stamp, "X-Signature": forged},
        )
    upper = good["X-Signature"].upper()
    yield "the signature in upper-case hex", body, {**good, "X-Signature": upper}


@pytest.mark.parametrize("method", OPERATIONS)
def test_every_forgery_is_refused_with_401_and_changes_nothing(app: App, method: str) -> None:
    body = body_for(method)
    for what, sent, headers in forgeries(body):
        response = post(app, method, sent, headers)
        answer = response.json()
        assert (response.status_code, answer["code"]) == (401, 401), what
        assert answer["message"].startswith("Not authorized"), what
        assert demo.SECRET_KEY not in response.text
    # Nothing happened: the thread still has no call.
    start = body_for("call/start")
    assert post(app, "call/start", start, demo_headers(start)).status_code == 200


@pytest.mark.parametrize("method", OPERATIONS)
def test_another_team_is_403_and_a_bot_in_two_teams_works_in_both(app: App, method: str) -> None:
    body = body_for(method)
    refused = post(app, method, body, signed(body, ELSEWHERE, timestamp=NOW))
    assert refused.status_code == 403
    assert refused.json() == {
        "code": 403,
        "message": f"The bot is not installed in team {demo.TEAM}",
    }
    for team in (demo.TEAM, demo.OTHER_TEAM):
        answer = post(app, method, body, signed(body, TWO_TEAMS, timestamp=NOW), team=team)
        assert answer.status_code in (200, 409), answer.text  # past authentication


@pytest.mark.parametrize("skew", [-299, 0, 299])
def test_a_timestamp_inside_the_window_is_accepted(app: App, skew: int) -> None:
    body = json.dumps({"threadId": demo.thread(700 + skew)}).encode()
    assert post(app, "call/start", body, demo_headers(body, NOW + skew)).status_code == 200


def test_the_signature_is_the_rule_as_workonflow_states_it(app: App) -> None:
    """sha256 hex of botId + secretkey + timestamp + body, over their example body."""
    text = demo.BOT_ID + demo.SECRET_KEY + str(NOW) + EXAMPLE_BODY.decode()
    by_hand = hashlib.sha256(text.encode()).hexdigest()
    headers = {
        "X-Bot-Id": demo.BOT_ID,
        "X-timestamp": str(NOW),
        "X-Signature": by_hand,
        "Content-Type": "application/json",
    }
    assert post(app, "call/start", EXAMPLE_BODY, headers).status_code == 200
    assert signed(EXAMPLE_BODY, timestamp=NOW)["X-Signature"] == by_hand
