"""Concurrent clients never lose an update: on one thread, on many, and across processes."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("workonflow_call_models", reason="the generated models are not installed")

from contract import demo
from contract.spec import load
from reference_server import create_app
from reference_server.store import CHECKPOINT_COMMITS
from reference_server.testing import ServerProcess, serve_in_thread
from testkit.signed_requests import BotAuth

TEAM = demo.TEAM
USERS = [demo.user(n) for n in range(64)]
_THREADS = itertools.count(1)
#: The operations that change the users of a call, in an order where each counts every user
#: once: invite them all, pause, unpause, then exclude them all.
USER_OPERATIONS = ("call.user/invite", "call/pause", "call/unpause", "call.user/exclude")


def new_thread() -> str:
    return demo.thread(next(_THREADS))


def test_the_scenario_covers_every_operation_on_users() -> None:
    """Every operation of the spec whose body names users is in the concurrent scenario."""
    spec = load()
    takes_users = {op.method for op in spec if op.request_schema == "UsersRequest"}
    assert set(USER_OPERATIONS) == takes_users


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # A separate process: a server thread would share the GIL with the clients and measure
    # its switching rather than the server.
    database = tmp_path_factory.mktemp("concurrency") / "calls.sqlite3"
    with ServerProcess(["--database", str(database), "--quiet"]) as server:
        yield server.base_url


def test_the_wal_is_checkpointed_while_the_server_answers(tmp_path: Path) -> None:
    """Operations run on the event loop with SQLite's own checkpoints off; the server's, on
    its database thread, keep the WAL from growing with every commit."""
    database = tmp_path / "calls.sqlite3"
    wal = Path(f"{database}-wal")
    app = create_app(database)
    sizes = []
    try:
        with (
            serve_in_thread(app) as url,
            httpx.Client(base_url=url, auth=BotAuth(), timeout=10) as client,
        ):
            for _ in range(4):
                for _ in range(CHECKPOINT_COMMITS):
                    answer = client.post(f"/{TEAM}/call/start", json={"threadId": new_thread()})
                    assert answer.status_code == 200, answer.text
                sizes.append(wal.stat().st_size)
    finally:
        app.close()
    # Unchecked, four rounds of commits would make a WAL four times that of the first.
    assert sizes[-1] <= 2 * sizes[0], sizes


def test_concurrent_requests_in_process(tmp_path: Path) -> None:
    """The ASGI app itself, served in this process, under concurrent load."""
    app = create_app(tmp_path / "calls.sqlite3")
    try:
        with serve_in_thread(app) as url:
            asyncio.run(_with_clients([url], _one_thread_scenario, seed=3))
    finally:
        app.close()


async def _post(client: httpx.AsyncClient, method: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/{TEAM}/{method}", json=body)


def _clients(*base_urls: str, connections: int = 32) -> list[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return [
        httpx.AsyncClient(base_url=url, auth=BotAuth(), timeout=30, limits=limits)
        for url in base_urls
    ]


async def _with_clients(
    base_urls: list[str],
    scenario: Callable[[list[httpx.AsyncClient], int], Awaitable[None]],
    *,
    seed: int,
    connections: int = 32,
) -> None:
    """Run the scenario with a client per base URL; close the clients whatever happens."""
    clients = _clients(*base_urls, connections=connections)
    try:
        await scenario(clients, seed)
    finally:
        for client in clients:
            await client.aclose()


async def _counts_of(
    clients: list[httpx.AsyncClient], method: str, thread: str, batches: list[list[str]]
) -> list[int]:
    """Send every batch at once, spread over the clients; answer the counts."""
    responses = await asyncio.gather(
        *(
            _post(clients[n % len(clients)], method, {"threadId": thread, "userIds": batch})
            for n, batch in enumerate(batches)
        )
    )
    assert {response.status_code for response in responses} == {200}
    return [next(iter(response.json()["data"].values())) for response in responses]


def _overlapping_batches(seed: int) -> list[list[str]]:
    """Every user named in two different batches of four, in random order."""
    rng = random.Random(seed)
    names = USERS * 2
    rng.shuffle(names)
    batches: list[list[str]] = []
    for name in names:
        batch = next((b for b in batches if len(b) < 4 and name not in b), None)
        if batch is None:
            batch = []
            batches.append(batch)
        batch.append(name)
    return batches


async def _one_thread_scenario(clients: list[httpx.AsyncClient], seed: int) -> None:
    thread = new_thread()
    assert (await _post(clients[0], "call/start", {"threadId": thread})).status_code == 200
    # Each user is named twice, concurrently: counted exactly once by each operation.
    for method in USER_OPERATIONS:
        counts = await _counts_of(clients, method, thread, _overlapping_batches(seed))
        assert sum(counts) == len(USERS), method
    end = await _post(clients[0], "call/end", {"threadId": thread})
    assert end.json()["data"]["result"] == "answered"


def test_concurrent_updates_of_one_thread(base_url: str) -> None:
    asyncio.run(_with_clients([base_url], _one_thread_scenario, seed=1))


def test_concurrent_starts_and_ends_of_one_thread(base_url: str) -> None:
    async def scenario() -> None:
        (client,) = _clients(base_url)
        async with client:
            thread = new_thread()
            starts = await asyncio.gather(
                *(_post(client, "call/start", {"threadId": thread}) for _ in range(40))
            )
            assert sorted(r.status_code for r in starts) == [200] + [409] * 39
            ends = await asyncio.gather(
                *(_post(client, "call/end", {"threadId": thread}) for _ in range(40))
            )
            assert sorted(r.status_code for r in ends) == [200] + [409] * 39

    asyncio.run(scenario())


def test_many_threads_at_once(base_url: str) -> None:
    async def one_call(client: httpx.AsyncClient) -> None:
        thread = new_thread()
        users = random.Random(thread).sample(USERS, 5)
        steps = [
            ("call/start", {}, None),
            ("call.user/invite", {"userIds": users}, {"invitedUsersCount": 5}),
            ("call/pause", {"userIds": users[:3]}, {"pausedUsersCount": 3}),
            ("call/unpause", {"userIds": users}, {"unpausedUsersCount": 3}),
            ("call.user/exclude", {"userIds": users[1:]}, {"excludedUsersCount": 4}),
            ("call.recording/start", {}, None),
            ("call.user/invite", {"userIds": users}, {"invitedUsersCount": 4}),
        ]
        for method, extra, data in steps:
            response = await _post(client, method, {"threadId": thread, **extra})
            assert response.status_code == 200, (method, response.text)
            if data is not None:
                assert response.json()["data"] == data, method
        end = (await _post(client, "call/end", {"threadId": thread})).json()["data"]
        assert end["result"] == "answered"
        stop = await _post(client, "call.recording/stop", {"threadId": thread})
        assert stop.status_code == 409

    async def scenario() -> None:
        (client,) = _clients(base_url, connections=20)
        async with client:
            await asyncio.gather(*(one_call(client) for _ in range(20)))

    asyncio.run(scenario())


def test_two_processes_on_one_database_never_lose_an_update(tmp_path: Path) -> None:
    database = str(tmp_path / "shared.sqlite3")
    with (
        ServerProcess(["--database", database, "--quiet"]) as first,
        ServerProcess(["--database", database, "--quiet"]) as second,
    ):

        async def scenario(clients: list[httpx.AsyncClient], seed: int) -> None:
            await _one_thread_scenario(clients, seed)
            thread = new_thread()
            starts = await asyncio.gather(
                *(_post(clients[n % 2], "call/start", {"threadId": thread}) for n in range(20))
            )
            assert sorted(r.status_code for r in starts) == [200] + [409] * 19

        urls = [first.base_url, second.base_url]
        asyncio.run(_with_clients(urls, scenario, seed=2, connections=16))
