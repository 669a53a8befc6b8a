"""Delivery of the call events by the reference server: what a webhook costs, how fast
events arrive, and the bound of the outbox.

1. Throughput of the bench's scenario (`bench/server.py`: start, invite two, pause, unpause,
   exclude, end on a new thread; seven events per scenario) against two reference servers
   side by side, one with a webhook at a receiver on loopback (`testkit.receiver`, a threaded
   `http.server`, in a process of its own so that the load generator does not hold its
   GIL), one without, in alternating rounds; the events the receiver took per second
   meanwhile, and the outbox left at the end of each round.
2. Latency from sending `call/start` to the receiver holding its `call.created`, one request
   at a time (p50, p99).
3. The outbox's bound: with the receiver refusing, how many events are written before a change
   is answered 503.

Prints figures only. Knobs (environment): BENCH_SECONDS per round (5), BENCH_ROUNDS (3),
BENCH_CONNECTIONS (16), BENCH_LATENCY_SAMPLES (300).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import CONNECTIONS, ROUNDS, SECONDS, Load, _summary, run_load
from contract.demo import TEAM, thread
from reference_server.testing import ServerProcess
from testkit.receiver import Receiver
from testkit.signing import BotAuth

SAMPLES = int(os.environ.get("BENCH_LATENCY_SAMPLES", "300"))
BOUND = 500


def outbox_size(database: str) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT pending FROM outbox_size").fetchone()[0])


def _receive(port: Any, taken: Any, stop: Any) -> None:
    """A receiver in a process of its own: its port, and how many events it took so far."""
    with Receiver() as receiver:
        port.value = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
        while not stop.wait(0.05):
            taken.value = len(receiver.taken)


def throughput(folder: str) -> None:
    context = multiprocessing.get_context("spawn")
    port, taken, stop = context.Value("i", 0), context.Value("q", 0), context.Event()
    process = context.Process(target=_receive, args=(port, taken, stop), daemon=True)
    process.start()
    try:
        deadline = time.monotonic() + 30
        while port.value == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        _throughput(folder, f"http://127.0.0.1:{port.value}/events", taken)
    finally:
        stop.set()
        process.join(10)


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited in vain for {what}")
        time.sleep(0.05)


def _throughput(folder: str, url: str, taken: Any) -> None:
    plain_db, hooked_db = str(Path(folder) / "plain.sqlite3"), str(Path(folder) / "hooked.sqlite3")
    hooked_args = ["--database", hooked_db, "--quiet", "--webhook", url]
    with (
        ServerProcess(["--database", plain_db, "--quiet"]) as plain,
        ServerProcess(hooked_args) as hooked,
    ):
        run_load(plain.base_url, 1.0)
        run_load(hooked.base_url, 1.0)
        loads: dict[str, list[Load]] = {"without a webhook": [], "with a webhook": []}
        rates, backlog, drain = [], [], []
        for _ in range(ROUNDS):
            loads["without a webhook"].append(run_load(plain.base_url, SECONDS))
            before = taken.value
            load = run_load(hooked.base_url, SECONDS)
            loads["with a webhook"].append(load)
            rates.append((taken.value - before) / load.elapsed)
            backlog.append(outbox_size(hooked_db))
            drained = time.perf_counter()
            _wait(lambda: outbox_size(hooked_db) == 0, "the outbox to drain")
            drain.append(backlog[-1] / max(time.perf_counter() - drained, 1e-6))
        rps = {}
        for name, runs in loads.items():
            rps[name], line = _summary(name, runs)
            print(line)
        print(
            f"throughput with / without a webhook: "
            f"{rps['with a webhook'] / rps['without a webhook']:.2f}x; events taken during the "
            f"rounds: {statistics.median(rates):.0f}/s (median); outbox at the end of each "
            f"round: {', '.join(map(str, backlog))} events, then drained at "
            f"{statistics.median(drain):.0f} events/s with no load (median)"
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
        p50, p99 = delays[len(delays) // 2], delays[min(len(delays) - 1, int(len(delays) * 0.99))]
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
        latency(receiver)
    with Receiver() as receiver:
        bound(receiver)
    return 0


if __name__ == "__main__":
    sys.exit(main())
