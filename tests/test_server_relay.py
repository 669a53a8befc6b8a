"""A server on a database file delivers its call events from a process of its own (the relay,
`reference_server.relay`): it starts and ends with the server, even one killed or stopped by
Ctrl-C, is started again when it dies, never shows a secret key to other users of the
machine, and reads every row the server writes, keys reused included; and a delivery's stop
ends it even as it is woken."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("workonflow_call_models", reason="the generated models are not installed")

from contract import demo
from reference_server.auth import Bot
from reference_server.delivery import Delivery
from reference_server.events import recorder_for
from reference_server.relay import RESTART_AFTER
from reference_server.store import Store
from reference_server.testing import ServerProcess, child_pids, running
from testkit.receiver import Receiver
from testkit.signed_requests import BotAuth

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")

TEAM = demo.TEAM
THREADS = demo.THREADS
WEBHOOK = "http://127.0.0.1:9/events"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def server(tmp_path: Path, receiver: Receiver) -> Iterator[ServerProcess]:
    """A server on a database file, its webhook at `receiver`."""
    database = str(tmp_path / "calls.sqlite3")
    with ServerProcess(["--database", database, "--quiet", "--webhook", receiver.url]) as server:
        yield server


def start_call(server: ServerProcess, thread: str) -> None:
    response = httpx.post(
        f"{server.base_url}/{TEAM}/call/start", json={"threadId": thread}, auth=BotAuth()
    )
    assert response.status_code == 200


def relay_of(server: ServerProcess, receiver: Receiver) -> int:
    assert server.process is not None
    parent = server.process.pid
    receiver.wait(lambda: len(child_pids(parent)) == 1, "the relay process")
    [pid] = child_pids(parent)
    return pid


def firsts(receiver: Receiver) -> list[dict[str, Any]]:
    """Each event taken, once (by its id), in the order of first arrival."""
    seen: dict[str, dict[str, Any]] = {}
    for attempt in receiver.taken:
        seen.setdefault(attempt.event["eventId"], attempt.event)
    return list(seen.values())


def test_the_events_come_from_a_relay_that_ends_with_the_server(
    server: ServerProcess, receiver: Receiver
) -> None:
    start_call(server, THREADS[0])
    assert receiver.wait_for(1)[0]["eventType"] == "call.created"
    relay = relay_of(server, receiver)
    # Its configuration came on its standard input: other users can read the rest.
    shown = (
        Path(f"/proc/{relay}/cmdline").read_bytes() + Path(f"/proc/{relay}/environ").read_bytes()
    )
    assert demo.SECRET_KEY.encode() not in shown
    assert server.stop() == 0
    assert not running(relay)


def test_a_relay_ends_when_its_server_is_killed(server: ServerProcess, receiver: Receiver) -> None:
    start_call(server, THREADS[0])
    relay = relay_of(server, receiver)
    server.kill()
    receiver.wait(lambda: not running(relay), "the relay to end with its server")


def test_ctrl_c_stops_the_server_and_then_its_relay_without_a_traceback(
    tmp_path: Path, receiver: Receiver
) -> None:
    """A terminal's Ctrl-C reaches every process of the group, the relay too."""
    database = tmp_path / "calls.sqlite3"
    command = [sys.executable, "-m", "reference_server", "--database", str(database)]
    command += ["--port", "0", "--quiet", "--webhook", receiver.url]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().decode()
        base_url = first.rsplit(" on ", 1)[1].strip()
        response = httpx.post(
            f"{base_url}/{TEAM}/call/start", json={"threadId": THREADS[0]}, auth=BotAuth()
        )
        assert response.status_code == 200
        receiver.wait_for(1)
        receiver.wait(lambda: len(child_pids(process.pid)) == 1, "the relay process")
        [relay] = child_pids(process.pid)
        os.killpg(process.pid, signal.SIGINT)
        output = first + process.communicate(timeout=60)[0].decode()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 0
    assert "Traceback" not in output
    assert output.rstrip().endswith("stopped (SIGINT)")
    assert not running(relay)


def test_a_relay_that_died_is_started_again_and_delivers_what_waited(
    server: ServerProcess, receiver: Receiver
) -> None:
    start_call(server, THREADS[0])
    receiver.wait_for(1)
    first = relay_of(server, receiver)
    os.kill(first, signal.SIGKILL)
    receiver.wait(lambda: not running(first), "the relay to die")
    time.sleep(RESTART_AFTER)  # a relay is started at most once a second
    start_call(server, THREADS[1])
    # The first event may come again (taken, not yet deleted when the relay died).
    receiver.wait(lambda: len(firsts(receiver)) == 2, "the events of both threads")
    assert [event["threadId"] for event in firsts(receiver)] == list(THREADS[:2])
    assert relay_of(server, receiver) != first
    assert "the delivery of call events ended; it starts again" in server.output()


def test_a_relay_reads_the_rows_written_under_keys_it_saw_deleted(tmp_path: Path) -> None:
    """A new row's key is the largest left plus one: once the relay deleted the rows of the
    largest keys, the server writes under them again, and the relay must not skip them."""
    database = tmp_path / "calls.sqlite3"
    recorder = recorder_for([WEBHOOK], {demo.BOT_ID: [TEAM]})
    server = Store(database, recorder=recorder)
    relay = Store(database, recorder=recorder, follows_table=True)
    outbox = relay.outbox
    assert server.outbox is not None and outbox is not None
    server.outbox.elsewhere()
    try:
        relay.outbox_load(WEBHOOK)
        server.call_start(TEAM, THREADS[0], "in")
        server.call_start(TEAM, THREADS[1], "in")
        relay.outbox_refresh(WEBHOOK)
        taken = outbox.take(WEBHOOK, time.time(), 10)
        assert [row.seq for row in taken or []] == [1, 2]
        outbox.settled(WEBHOOK, taken or [], [])
        relay.outbox_flush(WEBHOOK)  # the table is empty: the next key is 1 again
        server.call_start(TEAM, THREADS[2], "in")
        relay.outbox_refresh(WEBHOOK)
        again = outbox.take(WEBHOOK, time.time(), 10) or []
        assert [(row.seq, row.thread_key) for row in again] == [(1, f"{TEAM}/{THREADS[2]}")]
    finally:
        server.close()
        relay.close()


def test_stopping_the_delivery_ends_it_even_as_it_is_woken(receiver: Receiver) -> None:
    """A wake that comes with the cancellation of the task must not make the task outlive
    `stop` (`asyncio.wait_for` of Python 3.11 loses such a cancellation)."""
    receiver.refusing = 503
    store = Store(":memory:", recorder=recorder_for([receiver.url], {demo.BOT_ID: [TEAM]}))
    store.call_start(TEAM, THREADS[0], "in")
    bot = Bot(demo.BOT_ID, demo.SECRET_KEY, frozenset([TEAM]))

    async def direct(function: object, *args: object) -> object:
        assert callable(function)
        return function(*args)

    async def start_and_stop() -> None:
        delivery = Delivery(store, {demo.BOT_ID: bot}, [receiver.url], direct, retry_base=30)
        delivery.start()
        while not delivery.failed:  # refused: the task sleeps until woken, or for 30 s
            await asyncio.sleep(0.01)
        delivery.wake()
        await delivery.stop()

    # On a thread: a delivery that outlives its stop would hang the test, not fail it.
    runner = threading.Thread(target=lambda: asyncio.run(start_and_stop()), daemon=True)
    try:
        runner.start()
        runner.join(20)
        assert not runner.is_alive(), "the delivery outlived its stop"
    finally:
        store.close()
