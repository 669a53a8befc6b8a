"""Throughput and latency of the reference server beside Prism's mock, and the client overhead.

1. A fixed mixed scenario (start, invite, pause, unpause, exclude, end: six requests on a new
   thread each time) from a load generator on loopback, against the reference server (SQLite
   file, WAL, a commit per request; once with the default synchronous=NORMAL, durable against
   a killed process, once with FULL, an fsync per commit, durable against a power loss) and
   against `prism mock openapi.yaml` (stateless, answers from the examples), in alternating
   rounds. The generator is plain asyncio speaking
   HTTP/1.1 keep-alive, so that a client library's cost does not cap what it measures.
2. The generated client (`workonflow_call.CallApi`) against raw httpx, one call at a time on
   the same reference server, the same scenario: the generated layer's per-call overhead,
   with retries enabled as by default (`max_retries=2`, none happening: every answer is a
   200) and with them off (`max_retries=0`), side by side: wall clock, and the CPU time of
   the client process (the server runs in another), which other load on the machine barely
   moves.

Prints figures only. Knobs (environment): BENCH_SECONDS per round (5), BENCH_ROUNDS (3),
BENCH_CONNECTIONS (16), BENCH_CLIENT_SCENARIOS per client block (200), BENCH_SLOW_CLIENTS (200).

3. The honest clients' latency beside BENCH_SLOW_CLIENTS clients that each send a request head
   a byte every 0.5 s (within the server's head timeout), against their latency alone.

Longer than 300 lines on purpose: a self-contained benchmark (its own load generator, so that
a client library's cost does not cap what it measures).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Generator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from contract.demo import BOT_ID, SECRET_KEY, TEAM, USERS
from contract.signing import Bot
from contract.spec import SPEC_PATH
from reference_server.testing import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
CLIENT_SCENARIOS = int(os.environ.get("BENCH_CLIENT_SCENARIOS", "200"))
SLOW_CLIENTS = int(os.environ.get("BENCH_SLOW_CLIENTS", "200"))
PRISM = ROOT / "npm" / "node_modules" / ".bin" / "prism"


def scenario(thread: str) -> list[tuple[str, dict[str, object]]]:
    """The fixed mixed scenario: six operations on one thread."""
    a, b = USERS[:2]
    return [
        ("call/start", {"threadId": thread}),
        ("call.user/invite", {"threadId": thread, "userIds": [a, b]}),
        ("call/pause", {"threadId": thread, "userId": a}),
        ("call/unpause", {"threadId": thread, "userId": a}),
        ("call.user/exclude", {"threadId": thread, "userId": b}),
        ("call/end", {"threadId": thread}),
    ]


BOT = Bot(BOT_ID, SECRET_KEY)


def request_bytes(host: str, method: str, body: dict[str, object]) -> bytes:
    """One signed request (the demo bot, signed now: the load generator signs each request)."""
    payload = json.dumps(body, separators=(",", ":")).encode()
    signature = "".join(f"{name}: {value}\r\n" for name, value in BOT.headers(payload).items())
    return (
        f"POST /{TEAM}/{method} HTTP/1.1\r\nHost: {host}\r\n{signature}"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload


# -- the load generator --------------------------------------------------------------------


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0
    #: Slow clients (beside the load) that the server still held open at its end.
    slow_held: int = 0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _worker(number: int, host: str, port: int, deadline: float, load: Load) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    iteration = 0
    try:
        while time.perf_counter() < deadline:
            iteration += 1
            thread = f"{os.getpid() & 0xFFFF:04x}{number:06x}{time.time_ns() & 0xFFFF:04x}"
            thread = f"{thread}{iteration:010x}"[-24:]
            for method, body in scenario(thread):
                message = request_bytes(host, method, body)
                started = time.perf_counter()
                writer.write(message)
                status = await _read_response(reader)
                load.latencies.append(time.perf_counter() - started)
                load.statuses[status] = load.statuses.get(status, 0) + 1
    finally:
        writer.close()


async def _load(host: str, port: int, seconds: float, connections: int) -> Load:
    load = Load()
    started = time.perf_counter()
    await asyncio.gather(
        *(_worker(n, host, port, started + seconds, load) for n in range(connections))
    )
    load.elapsed = time.perf_counter() - started
    return load


async def _slow_client(host: str, port: int, stop: asyncio.Event) -> bool:
    """A client that sends a request head a byte at a time, slower than anyone would.

    True when the server still held the connection open, unanswered, when told to stop.
    """
    reader, writer = await asyncio.open_connection(host, port)
    head = request_bytes(host, "call/start", {"threadId": "0" * 24})
    try:
        for byte in head:
            writer.write(bytes([byte]))
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
                break
            except TimeoutError:
                pass
        try:
            await asyncio.wait_for(reader.read(1), 0.01)  # an answer, or the server closed it
            return False
        except TimeoutError:
            return True
    finally:
        writer.close()


async def _load_beside_slow(host: str, port: int, seconds: float, slow: int) -> Load:
    stop = asyncio.Event()
    trickling = [asyncio.create_task(_slow_client(host, port, stop)) for _ in range(slow)]
    await asyncio.sleep(0.5)  # all of them connected and trickling
    try:
        load = await _load(host, port, seconds, CONNECTIONS)
    finally:
        stop.set()
        held = await asyncio.gather(*trickling, return_exceptions=True)
    load.slow_held = sum(1 for result in held if result is True)
    return load


def run_load(
    base_url: str, seconds: float, connections: int = CONNECTIONS, *, slow: int = 0
) -> Load:
    """`connections` honest clients for `seconds`; beside `slow` clients trickling a head."""
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    work = (
        _load_beside_slow(host, int(port), seconds, slow)
        if slow
        else _load(host, int(port), seconds, connections)
    )
    try:
        import uvloop

        return uvloop.run(work)
    except ImportError:
        return asyncio.run(work)


# -- Prism ----------------------------------------------------------------------------------


def prism() -> ServerProcess:
    """`prism mock openapi.yaml` on a free loopback port (stateless: answers from the examples).

    Prism takes `--host` and `--port` and prints `Prism is listening on http://...`, so the
    launcher of the reference server starts it too.
    """
    return ServerProcess([str(SPEC_PATH)], command=[str(PRISM), "mock"], timeout=60)


# -- the generated client against raw httpx --------------------------------------------------


class _BotAuth(httpx.Auth):
    """Raw httpx, signing as a caller would without the generated client."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(BOT.headers(request.content))
        yield request


#: Seconds per call: wall clock, and the CPU time of this process (the client's own work; the
#: server is another process, so other load on the machine barely moves it).
PerCall = tuple[float, float]


class _Timer:
    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def per_call(self, calls: int) -> PerCall:
        return (
            (time.perf_counter() - self.wall) / calls,
            (time.process_time() - self.cpu) / calls,
        )


def _raw_httpx_block(base_url: str, count: int, offset: int) -> PerCall:
    with httpx.Client(base_url=base_url, auth=_BotAuth(), timeout=10) as client:
        timer = _Timer()
        for n in range(count):
            for method, body in scenario(f"{offset + n:024x}"):
                response = client.post(f"/{TEAM}/{method}", json=body)
                if response.status_code != 200 or response.json()["code"] != 200:
                    raise RuntimeError(f"{method}: {response.status_code} {response.text}")
        return timer.per_call(count * 6)


def _generated_client_block(
    base_url: str, count: int, offset: int, *, max_retries: int = 2
) -> PerCall:
    from workonflow_call import CallApi

    a, b = USERS[:2]
    with CallApi(
        base_url, bot_id=BOT_ID, secret_key=SECRET_KEY, team_id=TEAM, max_retries=max_retries
    ) as api:
        timer = _Timer()
        for n in range(count):
            thread = f"{offset + n:024x}"
            api.call.start(thread_id=thread)
            api.call_user.invite(thread_id=thread, user_ids=[a, b])
            api.call.pause(thread_id=thread, user_id=a)
            api.call.unpause(thread_id=thread, user_id=a)
            api.call_user.exclude(thread_id=thread, user_id=b)
            api.call.end(thread_id=thread)
        return timer.per_call(count * 6)


def _without_retries(base_url: str, count: int, offset: int) -> PerCall:
    return _generated_client_block(base_url, count, offset, max_retries=0)


def client_overhead(base_url: str) -> dict[str, PerCall]:
    """Median seconds per call (wall, CPU) of raw httpx, the generated client with retries
    enabled (none happening) and without them, in alternating blocks."""
    blocks: dict[str, Callable[[str, int, int], PerCall]] = {
        "raw httpx": _raw_httpx_block,
        "generated client (retries enabled, none happening)": _generated_client_block,
        "generated client (retries off)": _without_retries,
    }
    results: dict[str, list[PerCall]] = {name: [] for name in blocks}
    offset = 1 << 80
    for block in blocks.values():  # warm up every path and the server
        block(base_url, 20, offset)
        offset += 20
    for _ in range(5):
        for name, block in blocks.items():
            results[name].append(block(base_url, CLIENT_SCENARIOS, offset))
            offset += CLIENT_SCENARIOS
    return {
        name: (
            statistics.median(wall for wall, _ in runs),
            statistics.median(cpu for _, cpu in runs),
        )
        for name, runs in results.items()
    }


# -- main -----------------------------------------------------------------------------------


def _summary(name: str, loads: list[Load]) -> tuple[float, str]:
    latencies = Load(latencies=[x for load in loads for x in load.latencies])
    statuses: dict[int, int] = {}
    for load in loads:
        for status, count in load.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    throughput = statistics.median(load.throughput for load in loads)
    errors = sum(count for status, count in statuses.items() if status != 200)
    line = (
        f"{name:<22} {throughput:9.0f} req/s   p50 {latencies.percentile(0.5) * 1e3:6.2f} ms"
        f"   p99 {latencies.percentile(0.99) * 1e3:6.2f} ms   "
        f"non-200 {errors} of {len(latencies.latencies)}"
    )
    return throughput, line


def main() -> int:
    print(
        f"scenario: start, invite, pause, unpause, exclude, end; {CONNECTIONS} connections, "
        f"{ROUNDS} rounds of {SECONDS:g} s each, alternating; loopback, {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory() as folder:
        database = str(Path(folder) / "bench.sqlite3")
        full = str(Path(folder) / "bench-full.sqlite3")
        with (
            ServerProcess(["--database", database]) as server,
            ServerProcess(["--database", full, "--synchronous", "FULL"]) as server_full,
        ):
            targets = [("reference server", server.base_url)]
            targets.append(("  synchronous=FULL", server_full.base_url))
            loads: dict[str, list[Load]] = {}
            # Prism runs for the load rounds only: the client block below measures alone.
            with prism() if PRISM.exists() else nullcontext() as mock:
                if mock is not None:
                    targets.append(("prism mock 5.14.2", mock.base_url))
                loads = {name: [] for name, _ in targets}
                for _, url in targets:
                    run_load(url, 1.0)  # warm-up
                for _ in range(ROUNDS):
                    for name, url in targets:
                        loads[name].append(run_load(url, SECONDS))
            rps = {}
            for name, _ in targets:
                rps[name], line = _summary(name, loads[name])
                print(line)
            prism_rps = rps.get("prism mock 5.14.2")
            if prism_rps:
                print(
                    "throughput ratio (reference / prism): "
                    f"{rps['reference server'] / prism_rps:.2f}x "
                    f"(synchronous=FULL: {rps['  synchronous=FULL'] / prism_rps:.2f}x)"
                )
            else:
                print(f"prism mock: not installed ({PRISM}); run `nox -s bench` to install it")

            # Honest clients beside slow ones (a byte of a request head every 0.5 s each).
            calm, crowded = [], []
            for _ in range(ROUNDS):
                calm.append(run_load(server.base_url, SECONDS))
                crowded.append(run_load(server.base_url, SECONDS, slow=SLOW_CLIENTS))
            _, calm_line = _summary("honest clients alone", calm)
            _, crowded_line = _summary(f"  beside {SLOW_CLIENTS} slow", crowded)
            print(calm_line)
            print(crowded_line)
            p99 = [
                Load(latencies=[x for load in loads for x in load.latencies])
                for loads in (calm, crowded)
            ]
            held = min(load.slow_held for load in crowded)
            print(
                f"p99 beside {SLOW_CLIENTS} slow clients / alone: "
                f"{p99[1].percentile(0.99) / p99[0].percentile(0.99):.2f}x "
                f"(at least {held} of them held open through each round)"
            )

            figures = client_overhead(server.base_url)
            raw_wall, raw_cpu = figures["raw httpx"]
            print("per call, sequential (median of 5 alternating blocks): wall, client CPU")
            for name, (wall, cpu) in figures.items():
                print(
                    f"  {name:<52} {wall * 1e6:6.0f} us {wall / raw_wall:5.2f}x   "
                    f"CPU {cpu * 1e6:5.0f} us {cpu / raw_cpu:5.2f}x"
                )
            print("  (ratios against raw httpx; target for the generated client: within 1.10x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
