"""How fast the contract fuzzer works (`nox -s bench -- fuzz`). Prints figures only.

1. Test cases per second against the reference server, for the default budget of `nox -s fuzz`.
2. Seconds until each faulty variant of testkit/faulty/ is first caught (any violation), the
   median over a few seeds; each run stops at its first failing check (or at a cap).
3. The fuzzer's overhead: the requests of one run against the reference server, replayed one
   after another with plain httpx against a fresh reference server, side by side with the run
   that sent them (generation, checks and bookkeeping are the difference).

Knobs (environment): BENCH_FUZZ_BUDGET (the default budget), BENCH_FUZZ_SEEDS (3),
BENCH_FUZZ_CAP seconds per variant run (30), BENCH_FUZZ_REPLAY_BUDGET (20).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
from fuzzing import runner
from fuzzing.cli import DEFAULT_BUDGET
from fuzzing.target import ReferenceServer
from testkit.faulty.harness import serve
from testkit.faulty.variants import TEAM, TOKEN, VARIANTS

BUDGET = int(os.environ.get("BENCH_FUZZ_BUDGET", DEFAULT_BUDGET))
SEEDS = list(range(1, int(os.environ.get("BENCH_FUZZ_SEEDS", "3")) + 1))
CAP = int(os.environ.get("BENCH_FUZZ_CAP", "30"))
REPLAY_BUDGET = int(os.environ.get("BENCH_FUZZ_REPLAY_BUDGET", "20"))


def options(url: str, budget: int, seed: int, **extra: Any) -> runner.Options:
    return runner.Options(url=url, team=TEAM, token=TOKEN, budget=budget, seed=seed, **extra)


def cases_per_second() -> None:
    with ReferenceServer() as server:
        result = runner.run(options(server.url, BUDGET, SEEDS[0]))
    print(
        f"reference server, default budget {BUDGET} s (seed {SEEDS[0]}): {result.cases} cases "
        f"in {result.elapsed:.1f} s = {result.cases / result.elapsed:.1f} cases/s, "
        f"{len(result.violations)} violation(s)"
    )


def time_to_catch() -> None:
    print(f"\nseconds until first caught (median of seeds {SEEDS}; cap {CAP} s per run)")
    print(f"{'variant':<25} {'median':>7}  {'runs':<24} first check")
    for name in VARIANTS:
        times: list[float] = []
        first: set[str] = set()
        for seed in SEEDS:
            with serve(name, lifetime=CAP + 120) as url:
                result = runner.run(options(url, CAP, seed, max_failures=1))
            if result.violations:
                earliest = min(result.violations, key=lambda v: v.first_seen)
                times.append(earliest.first_seen)
                first.add(earliest.check)
            else:
                times.append(float("inf"))
        shown = " ".join("-" if t == float("inf") else f"{t:.1f}" for t in times)
        median = statistics.median(times)
        median_text = "not caught" if median == float("inf") else f"{median:.1f}"
        print(f"{name:<25} {median_text:>7}  {shown:<24} {', '.join(sorted(first)) or '-'}")


def overhead() -> None:
    from schemathesis.engine import events, from_schema

    with ReferenceServer() as server:
        schema = runner.load_schema(options(server.url, REPLAY_BUDGET, SEEDS[0]))
        requests: list[tuple[str, str, dict[str, str], bytes | None]] = []
        started = time.perf_counter()
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                for interaction in event.recorder.interactions.values():
                    if interaction.response is None:
                        continue
                    request = interaction.request
                    headers = {
                        k: v[0]
                        for k, v in request.headers.items()
                        if k.lower() not in ("content-length", "host")
                    }
                    requests.append((request.method, request.uri, headers, request.body))
        fuzz_seconds = time.perf_counter() - started
    with ReferenceServer() as fresh:
        base = urlsplit(fresh.url)
        started = time.perf_counter()
        with httpx.Client(timeout=10) as client:
            for method, uri, headers, body in requests:
                target = urlsplit(uri)._replace(scheme=base.scheme, netloc=base.netloc).geturl()
                client.request(method, target, headers=headers, content=body)
        replay_seconds = time.perf_counter() - started
    n = len(requests)
    print(f"\noverhead ({REPLAY_BUDGET} s run, seed {SEEDS[0]}, {n} requests)")
    print(
        f"fuzzer (generate, send, check): {fuzz_seconds:6.2f} s  {1000 * fuzz_seconds / n:6.2f} ms/request"
    )
    print(
        f"plain httpx replay            : {replay_seconds:6.2f} s  {1000 * replay_seconds / n:6.2f} ms/request"
    )
    print(f"fuzzer / replay               : {fuzz_seconds / replay_seconds:6.1f}x")


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # figures appear as they are measured
    cases_per_second()
    overhead()
    time_to_catch()


if __name__ == "__main__":
    main()
