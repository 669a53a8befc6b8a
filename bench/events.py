"""Delivery of the call events by the reference server: what a webhook costs, how fast
events arrive, and the bound of the outbox.

1. Throughput of the bench's scenario (`bench/server.py`: start, invite two, pause, unpause,
   exclude, end on a new thread; seven events per scenario) against two reference servers
   side by side, one with a webhook at a receiver on loopback, one without, in alternating
   rounds; the events the receiver took per second meanwhile, how late each `call.created`
   came under that load (p50, p99, from its `createdAt` to the receiver), the outbox left at
   the end of each round, and the CPU time per request (from /proc) of the server, its
   deliveries included (in the relay process that delivers them beside a database file:
   `reference_server.relay`), and of the receiver: what a webhook costs where the server is
   the bottleneck. The ratio is of whole-machine throughput: the load generator, both
   servers, the relay and the receiver share the machine's cores. Each round's pair of loads
   runs back to back, and the ratio of each pair is printed too (with their median): the
   machine's speed moves less within a pair than across rounds. The receiver here is the
   bench's own lean one (`_Sink`: an asyncio protocol in a process of its own that answers
   `204` to each POST of a pipelined stream and counts them, without checking them, and notes
   when each `call.created` came; the tests check what is delivered), not `testkit.receiver`,
   a threaded `http.server` whose parsing of each request cost about as much CPU as the
   server's delivery of it: a receiver's cost is not the server's.
2. A backlog built while the receiver held the first delivery, then taken: events per second.
3. Latency from sending `call/start` to the receiver holding its `call.created`, one request
   at a time (p50, p99).
4. The outbox's bound: with the receiver refusing, how many events are written before a change
   is answered 503.

Prints figures only. Knobs (environment): BENCH_SECONDS per round (5), BENCH_ROUNDS (5 here:
one noisy round moves a median of three too much), BENCH_CONNECTIONS (16),
BENCH_LATENCY_SAMPLES (300).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import CONNECTIONS, SECONDS, Load, _summary, run_load
from contract.demo import TEAM, thread
from reference_server.testing import ServerProcess, child_pids, proc_stat
from testkit.receiver import Receiver
from testkit.signed_requests import BotAuth

SAMPLES = int(os.environ.get("BENCH_LATENCY_SAMPLES", "300"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
BOUND = 500
#: What marks a `call.created` in a body (the server writes compact JSON).
_CREATED = b'"eventType":"call.created"'
#: How many delays of `call.created` the receiver keeps (the rounds' fit in it).
_RING = 1 << 20


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process used so far, from /proc."""
    fields = proc_stat(pid)
    assert fields is not None, f"process {pid} is gone"
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> tuple[float, float]:
    """The CPU time of a server and of the processes it started: (all, the children's)."""
    theirs = sum(cpu_seconds(child) for child in child_pids(pid))
    return cpu_seconds(pid) + theirs, theirs


def outbox_size(database: str) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


class _Sink(asyncio.Protocol):
    """The lean receiver's side of one connection: a `204` for each whole POST (its head and
    `Content-Length` bytes of body) in what arrived, in one write, and a count of them."""

    def __init__(self, count: list[int], delays: Any) -> None:
        self.count = count
        #: Per `call.created` taken, milliseconds from its `createdAt` (a ring, shared).
        self.delays = delays
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        start = answered = 0
        while (end := buffer.find(b"\r\n\r\n", start)) >= 0:
            head = buffer[start:end].lower()
            field = head.find(b"\r\ncontent-length:")
            length = 0
            if field >= 0:
                value_end = head.find(b"\r\n", field + 2)
                length = int(head[field + 17 : value_end if value_end >= 0 else len(head)])
            if end + 4 + length > len(buffer):
                break
            self._created(buffer, end + 4, end + 4 + length)
            start = end + 4 + length
            answered += 1
        self.buffer = buffer[start:]
        if answered and self.transport is not None:
            self.count[0] += answered
            self.transport.write(b"HTTP/1.1 204 No Content\r\n\r\n" * answered)

    def _created(self, buffer: bytes, start: int, end: int) -> None:
        """A `call.created` in `buffer[start:end]`: how long after its `createdAt` (whole
        milliseconds, so up to 1 ms more than the truth) it arrived, into the ring."""
        if buffer.find(_CREATED, start, end) < 0:
            return
        at = buffer.find(b'"createdAt":', start, end)
        if at < 0:
            return
        at += len(b'"createdAt":')
        stop = at
        while stop < end and buffer[stop : stop + 1].isdigit():
            stop += 1
        ring, taken = self.delays
        with taken.get_lock():
            ring[taken.value % len(ring)] = time.time() * 1e3 - int(buffer[at:stop])
            taken.value += 1


def _receive(port: Any, taken: Any, stop: Any, delays: Any) -> None:
    """The lean receiver, in a process of its own: its port, how many events it took, and
    how late each `call.created` came (`_Sink._created`)."""

    async def serve() -> None:
        count = [0]
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Sink(count, delays), "127.0.0.1", 0)
        port.value = server.sockets[0].getsockname()[1]
        while not stop.is_set():
            await asyncio.sleep(0.05)
            taken.value = count[0]
        server.close()

    try:
        import uvloop

        uvloop.run(serve())
    except ImportError:
        asyncio.run(serve())


def _percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def throughput(folder: str) -> None:
    context = multiprocessing.get_context("spawn")
    port, taken, stop = context.Value("i", 0), context.Value("q", 0), context.Event()
    delays = (context.Array("d", _RING, lock=False), context.Value("q", 0))
    process = context.Process(target=_receive, args=(port, taken, stop, delays), daemon=True)
    process.start()
    try:
        deadline = time.monotonic() + 30
        while port.value == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.pid is not None
        _throughput(folder, f"http://127.0.0.1:{port.value}/events", taken, delays, process.pid)
    finally:
        stop.set()
        process.join(10)


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited in vain for {what}")
        time.sleep(0.05)


def _throughput(folder: str, url: str, taken: Any, delays: Any, receiver: int) -> None:
    plain_db, hooked_db = str(Path(folder) / "plain.sqlite3"), str(Path(folder) / "hooked.sqlite3")
    hooked_args = ["--database", hooked_db, "--quiet", "--webhook", url]
    with (
        ServerProcess(["--database", plain_db, "--quiet"]) as plain,
        ServerProcess(hooked_args) as hooked,
    ):
        run_load(plain.base_url, 1.0)
        run_load(hooked.base_url, 1.0)
        loads: dict[str, list[Load]] = {"without a webhook": [], "with a webhook": []}
        rates: list[float] = []
        backlog: list[int] = []
        #: Milliseconds from each `call.created`'s createdAt to the receiver, under the load.
        late: list[float] = []
        # The server's CPU per request, its deliveries included (the outbox drained): of its
        # own process and of the relay process that delivers its events; and the receiver's.
        cpu: dict[str, list[float]] = {name: [] for name in loads}
        relay_cpu: list[float] = []
        receiver_cpu: list[float] = []
        for _ in range(ROUNDS):
            assert plain.process is not None and hooked.process is not None
            used = cpu_seconds(plain.process.pid)
            load = run_load(plain.base_url, SECONDS)
            loads["without a webhook"].append(load)
            cpu["without a webhook"].append(
                (cpu_seconds(plain.process.pid) - used) / len(load.latencies)
            )
            before, received = taken.value, cpu_seconds(receiver)
            used, relayed = tree_cpu_seconds(hooked.process.pid)
            first = delays[1].value
            load = run_load(hooked.base_url, SECONDS)
            loads["with a webhook"].append(load)
            rates.append((taken.value - before) / load.elapsed)
            backlog.append(outbox_size(hooked_db))
            # Those that came while the load ran: not the backlog taken after it.
            late.extend(delays[0][n % _RING] for n in range(first, delays[1].value))
            _wait(lambda: outbox_size(hooked_db) == 0, "the outbox to drain")
            now_used, now_relayed = tree_cpu_seconds(hooked.process.pid)
            cpu["with a webhook"].append((now_used - used) / len(load.latencies))
            relay_cpu.append((now_relayed - relayed) / len(load.latencies))
            receiver_cpu.append((cpu_seconds(receiver) - received) / len(load.latencies))
        rps = {}
        for name, runs in loads.items():
            rps[name], line = _summary(name, runs)
            print(line)
        # Each round's two loads ran back to back: their ratio is the least touched by the
        # machine's speed changing from one round to the next.
        pairs = zip(loads["without a webhook"], loads["with a webhook"], strict=True)
        paired = [hooked.throughput / plain.throughput for plain, hooked in pairs]
        print(
            f"throughput with / without a webhook: "
            f"{rps['with a webhook'] / rps['without a webhook']:.2f}x (of the medians); each "
            f"round's: {', '.join(f'{ratio:.2f}x' for ratio in paired)} (median "
            f"{statistics.median(paired):.2f}x); events taken during the rounds: "
            f"{statistics.median(rates):.0f}/s (median); outbox at the end of each round: "
            f"{', '.join(map(str, backlog))} events"
        )
        late.sort()
        print(
            f"call/start -> call.created taken, under that load ({len(late)} taken while it "
            f"ran): p50 {_percentile(late, 0.5):.1f} ms, p99 {_percentile(late, 0.99):.1f} ms "
            f"(from createdAt, in whole ms: up to 1 ms more than the truth)"
        )
        plain_cpu, hooked_cpu = (statistics.median(cpu[name]) for name in loads)
        relay = statistics.median(relay_cpu)
        print(
            f"server CPU per request (median of rounds): {plain_cpu * 1e6:.0f} us without a "
            f"webhook; {hooked_cpu * 1e6:.0f} us with one, its deliveries included, of which "
            f"{relay * 1e6:.0f} us in the relay process that delivers them: "
            f"{plain_cpu / (hooked_cpu - relay):.2f}x the throughput of a server whose own "
            f"process is the bottleneck, {plain_cpu / hooked_cpu:.2f}x on a single core; "
            f"the receiver's: {statistics.median(receiver_cpu) * 1e6:.0f} us"
        )


def drain(folder: str, receiver: Receiver) -> None:
    """A backlog built while the receiver held the first delivery unanswered, then taken:
    events per second."""
    database = str(Path(folder) / "drain.sqlite3")
    receiver.hold()
    with ServerProcess(["--database", database, "--quiet", "--webhook", receiver.url]) as server:
        run_load(server.base_url, 2.0)
        backlog = outbox_size(database)
        assert server.process is not None
        used, started = tree_cpu_seconds(server.process.pid)[0], time.perf_counter()
        receiver.release()
        _wait(lambda: outbox_size(database) == 0, "the outbox to drain")
        busy = (tree_cpu_seconds(server.process.pid)[0] - used) / (time.perf_counter() - started)
        taken = receiver.taken
        span = taken[-1].arrived - taken[0].arrived
        print(
            f"a backlog of {backlog} events (one thread per 7), taken at "
            f"{len(taken) / span:.0f} events/s (first to last, no other load); the server "
            f"and its relay used {busy:.0%} of a core meanwhile (the rest: waiting for the "
            f"receiver)"
        )


def latency(receiver: Receiver) -> None:
    with ServerProcess(["--memory", "--quiet", "--webhook", receiver.url]) as server:
        client = httpx.Client(base_url=f"{server.base_url}/{TEAM}", auth=BotAuth())
        delays = []
        for n in range(SAMPLES):
            body = {"threadId": thread(900_000 + n)}
            before = len(receiver.taken)
            sent = time.perf_counter()
            assert client.post("/call/start", json=body).status_code == 200
            receiver.wait(lambda: len(receiver.taken) > before, "call.created")  # noqa: B023
            delays.append(receiver.taken[before].arrived - sent)
            client.post("/call/end", json=body)
            receiver.wait(lambda: len(receiver.taken) > before + 1, "call.ended")  # noqa: B023
        delays.sort()
        p50, p99 = _percentile(delays, 0.5), _percentile(delays, 0.99)
        print(
            f"call/start sent -> call.created taken, one at a time ({SAMPLES}): "
            f"p50 {p50 * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms"
        )


def bound(receiver: Receiver) -> None:
    receiver.refusing = 503
    args = ["--memory", "--quiet", "--webhook", receiver.url, "--max-pending-events", str(BOUND)]
    with ServerProcess([*args, "--webhook-retry", "60"]) as server:
        client = httpx.Client(base_url=f"{server.base_url}/{TEAM}", auth=BotAuth())
        answered = 0
        while True:
            response = client.post("/call/start", json={"threadId": thread(800_000 + answered)})
            if response.status_code != 200:
                break
            answered += 1
        print(
            f"outbox bound {BOUND}: {answered} changes answered, then {response.status_code} "
            f"(Retry-After {response.headers.get('retry-after')}): "
            f"{json.loads(response.content)['message']}"
        )
    receiver.refusing = None


def main() -> int:
    print(
        f"scenario: start, invite two, pause, unpause, exclude, end (7 events); {CONNECTIONS} "
        f"connections, {ROUNDS} rounds of {SECONDS:g} s, alternating; {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory() as folder:
        throughput(folder)
        with Receiver() as receiver:
            drain(folder, receiver)
    with Receiver() as receiver:
        latency(receiver)
    with Receiver() as receiver:
        bound(receiver)
    return 0


if __name__ == "__main__":
    sys.exit(main())
