"""The call events as the fuzzer receives them under load (`nox -s bench -- fuzz_events`).

The fuzzer's receiver (`fuzzing.event_receiver`: it checks every delivery's signature and
schema), in a process of its own, is the webhook of a reference server that takes the bench's
load (`bench/server.py`: start, invite two, pause, unpause, exclude, end on a new thread each
time; six requests, seven events), side by side with a server without a webhook, in alternating
rounds, each on a SQLite file of its own:

1. the throughput with the receiver attached against without (target: at least 0.8x), and the
   server's CPU time per request (deliveries included, in its relay process: see
   `reference_server.relay`) with and without;
2. the delivery latency under that load: for each `call.created` taken, the time from the
   change (its `createdAt`, the server's clock, which is this machine's) to its arrival, p50
   and p99 over the rounds; how long the outbox took to drain after each round's load, and
   whether every event came, each with a valid signature and body.

Prints figures only. Knobs (environment): BENCH_SECONDS per round (5), BENCH_ROUNDS (3),
BENCH_CONNECTIONS (16), BENCH_EVENTS_DRAIN seconds to wait at most for the events still due
after a round (120).
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.events import tree_cpu_seconds
from bench.server import CONNECTIONS, ROUNDS, SECONDS, Load, run_load
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


def _receive(pipe: Connection) -> None:
    """In a child process: the fuzzer's receiver; answers "count" with how many events came,
    "arrivals" with (received, eventType, createdAt, fault) of each."""
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


class ReceiverProcess:
    """The fuzzer's receiver in a child process, so that it does not share the load
    generator's interpreter."""

    def __enter__(self) -> ReceiverProcess:
        self.pipe, child = multiprocessing.Pipe()
        context = multiprocessing.get_context("spawn")
        self.process = context.Process(target=_receive, args=(child,))
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
    #: The server's CPU seconds per request of each round, its deliveries included.
    cpu: list[float] = field(default_factory=list)
    missing: int = 0

    def round(self) -> None:
        before = self.receiver.count()
        used = server_cpu(self.server)
        load = run_load(self.server.base_url, SECONDS)
        self.loads.append(load)
        due = before + _due(load)
        came, waited = drain(self.receiver, due)
        self.cpu.append((server_cpu(self.server) - used) / len(load.latencies))
        self.drains.append(waited)
        self.missing += max(0, due - came)


def server_cpu(server: ServerProcess) -> float:
    """The CPU time of the server and of its relay, the process that delivers its events."""
    assert server.process is not None
    return tree_cpu_seconds(server.process.pid)[0]


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
        tempfile.TemporaryDirectory(prefix="bench-fuzz-events-") as folder,
        ReceiverProcess() as receiver,
        ServerProcess(_args(folder, "plain")) as alone,
        ServerProcess(_args(folder, "attached", receiver.url)) as to_receiver,
    ):
        attached = Attached("the fuzzer's receiver", receiver, to_receiver)
        for server in (alone, to_receiver):
            run_load(server.base_url, 1.0)  # warm-up
        drain(receiver, 10**9)
        plain_cpu: list[float] = []
        for _ in range(ROUNDS):
            used = server_cpu(alone)
            plain.append(run_load(alone.base_url, SECONDS))
            plain_cpu.append((server_cpu(alone) - used) / len(plain[-1].latencies))
            attached.round()
        print(
            f"{ROUNDS} rounds of {SECONDS:g} s, {CONNECTIONS} connections, the scenario of "
            f"bench/server.py ({REQUESTS_PER_SCENARIO} requests, {EVENTS_PER_SCENARIO} events "
            "each), in turn against two reference servers"
        )
        print(
            "without a webhook: "
            + ", ".join(f"{load.throughput:.0f}" for load in plain)
            + f" requests/s (median {_median(plain):.0f})"
        )
        problems = _report(attached, plain)
        with_cpu, without_cpu = statistics.median(attached.cpu), statistics.median(plain_cpu)
        print(
            f"the server's CPU per request (from /proc, a loaded machine moves it less than the "
            f"throughput): without a webhook {without_cpu * 1e3:.2f} ms, with one "
            f"{with_cpu * 1e3:.2f} ms, its deliveries included: {without_cpu / with_cpu:.2f}x "
            "the requests per CPU second"
        )
    return 1 if problems else 0


def _args(folder: str, name: str, webhook: str | None = None) -> list[str]:
    args = ["--database", str(Path(folder) / f"{name}.db"), "--quiet"]
    return args + (["--webhook", webhook] if webhook else [])


if __name__ == "__main__":
    sys.exit(main())
