"""The reference server as a staging deployment: ids known beforehand (`--known-ids`, other
well-formed ids 404 naming the field, after 400 and before 409) and a rate limit
(`--rate-limit`, 429 with Retry-After). Without these options nothing changes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest

from contract import demo
from contract.fixtures import Fixtures
from reference_server import App, create_app
from reference_server.limits import RateLimit
from testkit.signed_requests import signed
from testkit.spec import ROOT

NOW = 1_800_000_000
THREAD, OTHER_THREAD = demo.THREADS[0], demo.THREADS[1]
USER, OTHER_USER = demo.USERS[0], demo.USERS[1]
KNOWN = Fixtures((THREAD,), (USER,))


def post(app: App, method: str, body: Mapping[str, object] | bytes) -> httpx.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()

    async def exchange() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://server.test") as client:
            return await client.post(
                f"/{demo.TEAM}/{method}", content=data, headers=signed(data, timestamp=NOW)
            )

    return asyncio.run(exchange())


@pytest.fixture
def staging() -> Iterator[App]:
    app = create_app(":memory:", clock=lambda: NOW, known=KNOWN)
    yield app
    app.close()


def fields(answer: httpx.Response) -> list[str]:
    return [error["field"] for error in answer.json().get("errors", [])]


def test_an_unknown_thread_or_user_is_404_naming_the_field(staging: App) -> None:
    answer = post(staging, "call/start", {"threadId": OTHER_THREAD})
    assert (answer.status_code, answer.json()["code"], fields(answer)) == (404, 404, ["threadId"])
    assert post(staging, "call/start", {"threadId": THREAD}).status_code == 200
    answer = post(staging, "call.user/invite", {"threadId": THREAD, "userId": OTHER_USER})
    assert (answer.status_code, fields(answer)) == (404, ["userId"])
    answer = post(staging, "call.user/invite", {"threadId": THREAD, "userIds": [USER, OTHER_USER]})
    assert (answer.status_code, fields(answer)) == (404, ["userIds"])
    # `userIds` beside `userId` is ignored, so it is not looked up either
    answer = post(
        staging, "call.user/invite", {"threadId": THREAD, "userId": USER, "userIds": [OTHER_USER]}
    )
    assert answer.json() == {"code": 200, "message": "OK", "data": {"invitedUsersCount": 1}}


def test_404_comes_after_the_body_and_before_the_state(staging: App) -> None:
    invalid = {"threadId": OTHER_THREAD, "direction": "sideways"}
    assert post(staging, "call/start", invalid).status_code == 400
    # no call in either thread: 409 for the known one, 404 for the unknown one
    assert post(staging, "call/end", {"threadId": THREAD}).status_code == 409
    assert post(staging, "call/end", {"threadId": OTHER_THREAD}).status_code == 404


def test_by_default_every_well_formed_id_exists() -> None:
    app = create_app(":memory:", clock=lambda: NOW)
    try:
        assert post(app, "call/start", {"threadId": demo.thread(77)}).status_code == 200
    finally:
        app.close()


def test_over_the_rate_limit_answers_429_with_retry_after() -> None:
    """A frozen clock: the bucket holds two requests and never refills."""
    app = create_app(":memory:", clock=lambda: NOW, rate_limit=2)
    try:
        statuses = [post(app, "call/end", {"threadId": THREAD}).status_code for _ in range(2)]
        assert statuses == [409, 409]
        answer = post(app, "call/start", {"threadId": THREAD})
        assert answer.status_code == 429 and answer.json()["code"] == 429
        assert int(answer.headers["Retry-After"]) >= 1
        assert post(app, "call/start", b"not json").status_code == 429  # counted before all
    finally:
        app.close()


def test_the_rate_limit_refills_with_time() -> None:
    now = [0.0]
    limit = RateLimit(4, clock=lambda: now[0])
    assert [limit.take() for _ in range(4)] == [0.0] * 4
    assert limit.take() == pytest.approx(0.25)
    now[0] += 0.25
    assert limit.take() == 0.0
    now[0] += 10
    assert sum(1 for _ in range(6) if limit.take() == 0.0) == 4  # at most one second's burst


def test_a_bad_known_ids_file_stops_the_server_naming_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "known.toml"
    bad.write_text(f'threads = ["{THREAD}"]\nusers = [\n  "{USER}",\n  "5B4458EB"\n]\n')
    result = subprocess.run(
        [sys.executable, "-m", "reference_server", "--memory", "--known-ids", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"{bad}:4: users[1] '5B4458EB' is not an id of the spec" in result.stderr
