"""The contract model and the reference server, two independent implementations of
docs/contract.md, agree on long random sequences: every status, every determined data field,
every bound. A bug in either shows up here.

The server runs in process (`reference_server.create_app(":memory:", clock=...)` over
`httpx.ASGITransport`) with a clock the test moves forward between requests, so durations are
exact and the model's bounds are tested too.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import httpx
import pytest

from contract import demo
from contract.model import Model
from contract.rules import RULES, TRANSITIONS
from contract.signing import Bot
from reference_server import create_app

STEPS = 2000
SEEDS = (1, 2, 3, 4)
THREADS = (demo.thread(1), demo.thread(2))
USERS = (demo.user(1), demo.user(2), demo.user(3))


JSON_TYPE = "application/json"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def random_request(rng: random.Random) -> tuple[str, dict[str, Any]]:
    method = rng.choice(list(RULES))
    body: dict[str, Any] = {"threadId": rng.choice(THREADS)}
    if method == "call/start" and rng.random() < 0.6:
        body["direction"] = rng.choice(["incoming", "outgoing"])
    elif method == "call.audio/play":
        body["fileUrl"] = "https://files.example.com/a.mp3"
    elif RULES[method].users:
        if rng.random() < 0.5:
            body["userId"] = rng.choice(USERS)
        else:
            body["userIds"] = rng.sample(USERS, rng.randint(1, len(USERS)))
            if rng.random() < 0.2:
                body["userId"] = rng.choice(USERS)  # userId wins over userIds
    return method, body


async def drive(seed: int) -> tuple[Model, list[str]]:
    rng = random.Random(seed)
    clock = Clock()
    app = create_app(":memory:", clock=clock)  # the demo bot, installed in the demo team
    model = Model()
    disagreements: list[str] = []
    transport = httpx.ASGITransport(app=app)
    bot = Bot(demo.BOT_ID, demo.SECRET_KEY)
    async with httpx.AsyncClient(transport=transport, base_url="http://server") as client:
        for number in range(STEPS):
            clock.now += rng.choice([0.0, 0.0, 0.3, 0.7, 1.0, 2.5])
            method, body = random_request(rng)
            data = json.dumps(body).encode()
            headers = {**bot.headers(data, timestamp=int(clock.now)), "Content-Type": JSON_TYPE}
            answer = await client.post(f"/{demo.TEAM}/{method}", content=data, headers=headers)
            envelope = answer.json()
            expected = model.expect(demo.TEAM, method, body, clock.now, clock.now)
            verdict = model.observe(
                demo.TEAM,
                method,
                body,
                answer.status_code,
                envelope.get("data"),
                clock.now,
                clock.now,
            )
            if verdict.violations:
                disagreements.append(
                    f"seed {seed} step {number} {method} {body}: {verdict.violations} "
                    f"(expected statuses {sorted(expected.statuses)})"
                )
    app.close()
    return model, disagreements


@pytest.mark.parametrize("seed", SEEDS)
def test_model_and_reference_server_agree(seed: int) -> None:
    model, disagreements = asyncio.run(drive(seed))
    assert not disagreements, "\n".join(disagreements[:10])
    # The sequences were long enough to make the model decide, not only accept.
    ran = {name for name, n in model.exercised.items() if n}
    assert len(ran) >= len(TRANSITIONS) - 4, sorted(set(TRANSITIONS) - ran)


def test_the_comparison_can_fail() -> None:
    """A server that counts one user too many is caught by the same comparison."""
    model = Model()
    thread = THREADS[0]
    model.observe(demo.TEAM, "call/end", {"threadId": thread}, 409)
    model.observe(demo.TEAM, "call/start", {"threadId": thread}, 200, {"direction": "outgoing"})
    body = {"threadId": thread, "userId": USERS[0]}
    verdict = model.observe(demo.TEAM, "call.user/invite", body, 200, {"invitedUsersCount": 2})
    assert verdict.violations == [
        (
            f"expected invitedUsersCount 1, got 2: user {USERS[0][:8]}... "
            "has not been in this call (call/start answered 200 at step 2)"
        )
    ]
