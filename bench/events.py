"""The call events under load (`nox -s bench -- events`). Prints figures only.

1. The reference server's throughput with a webhook attached against without one, side by
   side: the mixed scenario of `bench/server.py` (start, invite two, pause, unpause, exclude,
   end on a new thread each time; seven events per scenario) from its load generator, in
   alternating rounds, each server on a SQLite file of its own. The target is at least 0.8x.
2. Event delivery latency under that load: for each `call.created` that the receiver took,
   the time from the change (its `createdAt`, the server's clock, which is this machine's) to
   its arrival; p50 and p99 over the rounds, and how long the outbox took to drain after the
   load stopped.

Both for the fuzzer's receiver (`fuzzing.event_receiver`, checking every signature and schema)
and for a bare one that only takes the events (what the sandbox's delivery costs by itself),
each in a process of its own, each beside a server of its own.

Knobs (environment): BENCH_SECONDS per round (5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (16),
BENCH_EVENTS_DRAIN seconds to wait at most for the events still due after a round (120).
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from server import CONNECTIONS, ROUNDS, SECONDS, Load, run_load

from contract.demo import BOT_ID, SECRET_KEY
from contract.signing import Bot
from fuzzing.event_receiver import Receiver
from reference_server.testing import ServerProcess

DRAIN = float(os.environ.get("BENCH_EVENTS_DRAIN", "120"))
#: Events the scenario of `bench/server.py` causes: created, 2 invited, held, unheld, kicked, ended.
EVENTS_PER_SCENARIO = 7
REQUESTS_PER_SCENARIO = 6
#: No new event for this long after the load: the outbox is drained (or stuck).
SETTLED_SECONDS = 2.0


def _serve_bare(address: tuple[str, int], arrivals: list[tuple[float, bytes]]) -> Any:
    """A receiver that only takes: reads each POST's body, notes when it came, answers 204."""
    import asyncio

    async def take(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                arrivals.append((time.time(), await reader.readexactly(length)))
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError, StopIteration):
            writer.close()

    return asyncio.start_server(take, *address)


def _receive(pipe: Connection, bare: bool) -> None:
    """In a child process: a receiver (the fuzzer's, or a bare one); answers "count" with
    how many came, "arrivals" with (received, eventType, createdAt, fault) of each."""
    if bare:
        _receive_bare(pipe)
        return
    with Receiver(Bot(BOT_ID, SECRET_KEY)) as receiver:
        pipe.send(receiver.url)
        while (command := pipe.recv()) != "stop":
            arrivals = receiver.arrivals()
            pipe.send(
                len(arrivals)
                if command == "count"
                else [
                    (a.received, a.event_type, a.event.get("createdAt"), a.unsigned or a.malformed)
                    for a in arrivals
                ]
            )


def _receive_bare(pipe: Connection) -> None:
    import asyncio
    import json
    import threading

    arrivals: list[tuple[float, bytes]] = []
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(_serve_bare(("127.0.0.1", 0), arrivals))
    threading.Thread(target=loop.run_forever, daemon=True).start()
    port = server.sockets[0].getsockname()[1]
    pipe.send(f"http://127.0.0.1:{port}/events")
    while (command := pipe.recv()) != "stop":
        taken = list(arrivals)
        if command == "count":
            pipe.send(len(taken))
            continue
        events = [(at, json.loads(body)) for at, body in taken]
        pipe.send([(at, e.get("eventType"), e.get("createdAt"), "") for at, e in events])


class ReceiverProcess:
    """A receiver in a child process, so that it does not share the load generator's
    interpreter: the fuzzer's (`bare=False`) or one that only takes the events."""

    def __init__(self, bare: bool = False) -> None:
        self.bare = bare

    def __enter__(self) -> ReceiverProcess:
        self.pipe, child = multiprocessing.Pipe()
        context = multiprocessing.get_context("spawn")
        self.process = context.Process(target=_receive, args=(child, self.bare))
        self.process.start()
        self.url: str = self.pipe.recv()
        return self

    def ask(self, command: str) -> Any:
        self.pipe.send(command)
        return self.pipe.recv()

    def count(self) -> int:
        return int(self.ask("count"))

    def __exit__(self, *exc: object) -> None:
        self.pipe.send("stop")
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


def drain(receiver: ReceiverProcess, due: int) -> tuple[int, float]:
    """Wait until `due` events came, or none came for a while (at most DRAIN seconds);
    how many came, and after how many seconds."""
    started = time.monotonic()
    came, last_change, last = 0, started, -1
    while time.monotonic() - started < DRAIN:
        came = receiver.count()
        now = time.monotonic()
        if came != last:
            last, last_change = came, now
        if came >= due or now - last_change > SETTLED_SECONDS:
            break
        time.sleep(0.1)
    return came, time.monotonic() - started


def _due(load: Load) -> int:
    return load.statuses.get(200, 0) // REQUESTS_PER_SCENARIO * EVENTS_PER_SCENARIO


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


@dataclass
class Attached:
    """A server with a webhook at a receiver, and what its rounds measured."""

    name: str
    receiver: ReceiverProcess
    server: ServerProcess
    loads: list[Load] = field(default_factory=list)
    drains: list[float] = field(default_factory=list)
    missing: int = 0
    taken: int = 0

    def round(self) -> None:
        before = self.receiver.count()
        load = run_load(self.server.base_url, SECONDS)
        self.loads.append(load)
        due = before + _due(load)
        came, waited = drain(self.receiver, due)
        self.drains.append(waited)
        self.missing += max(0, due - came)


def _median(loads: list[Load]) -> float:
    return statistics.median(load.throughput for load in loads)


def _report(attached: Attached, plain: list[Load]) -> int:
    """Print one receiver's figures; how many events came with a fault or not at all."""
    arrivals = attached.receiver.ask("arrivals")
    latencies = [
        received - created / 1000
        for received, kind, created, _ in arrivals
        if kind == "call.created" and isinstance(created, int)
    ]
    faulty = sum(1 for *_, fault in arrivals if fault)
    ratio = _median(attached.loads) / _median(plain)
    print(
        f"with a webhook at {attached.name}: "
        + ", ".join(f"{load.throughput:.0f}" for load in attached.loads)
        + f" requests/s (median {_median(attached.loads):.0f}): {ratio:.2f}x of without "
        "(target at least 0.8x)"
    )
    if latencies:
        print(
            f"  delivery latency of call.created under that load, change to receiver: "
            f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms ({len(latencies)} events)"
        )
    print(
        f"  {len(arrivals)} events taken ({faulty} with a fault of signature or schema, "
        f"{attached.missing} due but not come); the outbox drained in "
        f"{', '.join(f'{d:.1f}' for d in attached.drains)} s after each round's load"
    )
    return faulty + attached.missing


def main() -> int:
    plain: list[Load] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-events-") as folder,
        ReceiverProcess() as checked,
        ReceiverProcess(bare=True) as bare,
        ServerProcess(_args(folder, "plain")) as alone,
        ServerProcess(_args(folder, "checked", checked.url)) as to_checked,
        ServerProcess(_args(folder, "bare", bare.url)) as to_bare,
    ):
        attached = [
            Attached("the fuzzer's receiver", checked, to_checked),
            Attached("a receiver that only takes", bare, to_bare),
        ]
        for server in (alone, to_checked, to_bare):
            run_load(server.base_url, 1.0)  # warm-up
        for each in attached:
            drain(each.receiver, 10**9)
        for _ in range(ROUNDS):
            plain.append(run_load(alone.base_url, SECONDS))
            for each in attached:
                each.round()
        print(
            f"{ROUNDS} rounds of {SECONDS:g} s, {CONNECTIONS} connections, the scenario of "
            f"bench/server.py ({REQUESTS_PER_SCENARIO} requests, {EVENTS_PER_SCENARIO} events "
            "each), in turn against three reference servers"
        )
        print(
            "without a webhook: "
            + ", ".join(f"{load.throughput:.0f}" for load in plain)
            + f" requests/s (median {_median(plain):.0f})"
        )
        problems = sum(_report(each, plain) for each in attached)
    return 1 if problems else 0


def _args(folder: str, name: str, webhook: str | None = None) -> list[str]:
    args = ["--database", str(Path(folder) / f"{name}.db"), "--quiet"]
    return args + (["--webhook", webhook] if webhook else [])


if __name__ == "__main__":
    sys.exit(main())
