"""How fast the contract fuzzer works (`nox -s bench -- fuzz`). Prints figures only.

1. Test cases per second against the reference server, for the default budget of `nox -s fuzz`
   (the boundary phase and the rest of the run apart).
2. Seconds until each faulty variant of testkit/faulty/ is first caught by the check that must
   catch it (`caught_by`), counted from the start of the run as `nox -s fuzz` runs it (boundary
   phase, then the walk and schemathesis), the median over a few seeds; schemathesis stops at
   its first few failing checks (or at a cap).
3. The fuzzer's overhead: the requests of one run against the reference server, replayed one
   after another with plain httpx against a fresh reference server, side by side with the run
   that sent them (generation, checks and bookkeeping are the difference).
4. At a rate limit (`--rate-limit`, default 50 requests/s, as against a staging deployment):
   cases per second against the reference server and the seconds until each faulty variant is
   caught, beside the same without a limit; every variant must still be caught (MISSED else).

Knobs (environment): BENCH_FUZZ_BUDGET (the default budget), BENCH_FUZZ_SEEDS (3),
BENCH_FUZZ_CAP seconds per variant run (20), BENCH_FUZZ_REPLAY_BUDGET (20), BENCH_FUZZ_PARTS
(`cases,overhead,catch,rate`: which parts run), BENCH_FUZZ_VARIANTS (comma separated: only
these), BENCH_FUZZ_EVENTS_BUDGET (4: the budget of a run against a fault of the events, which
are judged at its end), BENCH_FUZZ_RATE (50 requests/s), BENCH_FUZZ_RATE_CAP seconds per
variant run at the limit (90: the boundary phase alone sends about two thousand cases).
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from contract.demo import BOT_ID, SECRET_KEY, TEAM
from contract.signing import Bot
from fuzzing import boundaries, runner
from fuzzing.cli import DEFAULT_BUDGET, resigner
from fuzzing.embedded import ReferenceServer
from fuzzing.events import CHECK as EVENTS_CHECK
from fuzzing.pace import Pace, paced_requests
from testkit.faulty.harness import fuzz_variant, serve
from testkit.faulty.variants import VARIANTS

BUDGET = int(os.environ.get("BENCH_FUZZ_BUDGET", DEFAULT_BUDGET))
SEEDS = list(range(1, int(os.environ.get("BENCH_FUZZ_SEEDS", "3")) + 1))
CAP = int(os.environ.get("BENCH_FUZZ_CAP", "20"))
REPLAY_BUDGET = int(os.environ.get("BENCH_FUZZ_REPLAY_BUDGET", "20"))
PARTS = os.environ.get("BENCH_FUZZ_PARTS", "cases,overhead,catch,rate").split(",")
RATE = float(os.environ.get("BENCH_FUZZ_RATE", "50"))
RATE_CAP = int(os.environ.get("BENCH_FUZZ_RATE_CAP", "90"))
ONLY = [name for name in os.environ.get("BENCH_FUZZ_VARIANTS", "").split(",") if name]
#: The budget of a run against a fault of the events (its walk shows them within it).
EVENTS_BUDGET = int(os.environ.get("BENCH_FUZZ_EVENTS_BUDGET", "4"))
#: schemathesis stops after this many failing checks: enough for the intended one to be among them.
MAX_FAILURES = 5
#: A variant caught later than this in a default run misses the target.
TARGET_SECONDS = 10.0


def options(url: str, budget: int, seed: int, **extra: Any) -> runner.Options:
    return runner.Options(
        url=url, team=TEAM, bot=Bot(BOT_ID, SECRET_KEY), budget=budget, seed=seed, **extra
    )


def _paced(rate: float | None) -> Any:
    """Every request of the block keeps to `rate` (None: no limit), as `--rate-limit` does."""
    return paced_requests(Pace(rate), resigner(Bot(BOT_ID, SECRET_KEY)), lambda *_: None)


def cases_per_second(rate: float | None = None) -> tuple[int, float]:
    """Print and return the cases and seconds of a default run against the reference server."""
    with ReferenceServer() as server, _paced(rate):
        opts = options(server.url, BUDGET, SEEDS[0])
        found = boundaries.run(opts)
        result = runner.run(opts)
    print(
        f"reference server, default budget {BUDGET} s (seed {SEEDS[0]}): "
        f"boundary phase {found.cases} cases in {found.elapsed:.2f} s = "
        f"{found.cases / found.elapsed:.0f} cases/s; then {result.cases} cases in "
        f"{result.elapsed:.1f} s = {result.cases / result.elapsed:.1f} cases/s; "
        f"{len(found.violations) + len(result.violations)} violation(s)"
        + (f" [--rate-limit {rate:g}]" if rate else "")
    )
    return found.cases + result.cases, found.elapsed + result.elapsed


def first_catch(
    name: str, seed: int, rate: float | None = None, cap: int = CAP
) -> tuple[float, float, str]:
    """Seconds from the start of a run to the first violation of the variant's own check and
    to the first violation of any check (inf: none), and the check of the first."""
    check = VARIANTS[name].caught_by
    if check == EVENTS_CHECK:
        return _first_catch_of_events(name, seed)
    with serve(name, lifetime=cap + 240) as url, _paced(rate):
        opts = options(url, cap, seed, max_failures=MAX_FAILURES)
        found = boundaries.run(opts)
        if any(v.check == check for v in found.violations):
            result = runner.RunResult(seed=seed, url=url, budget=CAP)  # schemathesis not needed
        else:
            result = runner.run(opts)
    boundaries.merge(found, result)
    own = [v.first_seen for v in result.violations if v.check == check]
    earliest = min(result.violations, key=lambda v: v.first_seen, default=None)
    return (
        min(own, default=math.inf),
        earliest.first_seen if earliest else math.inf,
        earliest.check if earliest else "-",
    )


def _first_catch_of_events(name: str, seed: int) -> tuple[float, float, str]:
    """As `first_catch`, for a fault of the events: a whole run of `python -m fuzzing` with
    the variant delivering to it (the events are judged at the end of the run; a violation is
    seen when the delivery that shows it came, or when the wait for a missing one ended)."""
    run = fuzz_variant(name, "--events-grace", "2", budget=EVENTS_BUDGET, seed=seed)
    violations = (run.result or {}).get("violations", [])
    earliest = min(violations, key=lambda v: float(v["first_seen"]), default=None)
    own = min(
        (float(v["first_seen"]) for v in violations if v["check"] == EVENTS_CHECK), default=None
    )
    return (
        math.inf if own is None else own,
        math.inf if earliest is None else float(earliest["first_seen"]),
        "-" if earliest is None else str(earliest["check"]),
    )


def _seconds(value: float) -> str:
    return "-" if value == math.inf else f"{value:.1f}"


def time_to_catch() -> None:
    print(
        f"\nseconds from the start of a run until each variant is caught by its check "
        f"(median of seeds {SEEDS}; cap {CAP} s per run; target {TARGET_SECONDS:.0f} s)"
    )
    print(f"{'variant':<26} {'check':<28} {'median':>6}  {'runs':<16} first violation (any)")
    worst = 0.0
    for name in ONLY or VARIANTS:
        runs = [first_catch(name, seed) for seed in SEEDS]
        median = statistics.median(own for own, _any, _check in runs)
        worst = max(worst, *(own for own, _any, _check in runs))
        first = min(runs, key=lambda run: run[1])
        print(
            f"{name:<26} {VARIANTS[name].caught_by:<28} {_seconds(median):>6}  "
            f"{' '.join(_seconds(own) for own, _a, _c in runs):<16} "
            f"{_seconds(first[1])} {first[2]}" + ("" if median <= TARGET_SECONDS else "  MISSED")
        )
    print(f"slowest catch of any variant over all seeds: {_seconds(worst)} s")


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
    for label, seconds in (
        ("fuzzer (generate, send, check)", fuzz_seconds),
        ("plain httpx replay            ", replay_seconds),
    ):
        print(f"{label}: {seconds:6.2f} s  {1000 * seconds / n:6.2f} ms/request")
    print(f"fuzzer / replay               : {fuzz_seconds / replay_seconds:6.1f}x")


def at_the_limit() -> None:
    print(f"\nat --rate-limit {RATE:g} requests/s, beside no limit (seed {SEEDS[0]})")
    unlimited = cases_per_second()
    limited = cases_per_second(RATE)
    print(
        f"cases per second: {unlimited[0] / unlimited[1]:.1f} without a limit, "
        f"{limited[0] / limited[1]:.1f} at the limit ({limited[0]} cases in {limited[1]:.1f} s)"
    )
    print(f"{'variant':<26} {'check':<28} {'no limit':>8} {'at limit':>8}")
    missed = []
    for name in ONLY or VARIANTS:
        free = first_catch(name, SEEDS[0])[0]
        paced = first_catch(name, SEEDS[0], RATE, RATE_CAP)[0]
        if paced == math.inf:
            missed.append(name)
        print(
            f"{name:<26} {VARIANTS[name].caught_by:<28} {_seconds(free):>8} {_seconds(paced):>8}"
            + ("  MISSED" if paced == math.inf else "")
        )
    total = len(ONLY or VARIANTS)
    print(
        f"caught at the limit: {total - len(missed)} of {total}"
        + (f" (missed: {missed})" if missed else "")
    )


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # figures as measured
    if "cases" in PARTS:
        cases_per_second()
    if "overhead" in PARTS:
        overhead()
    if "catch" in PARTS:
        time_to_catch()
    if "rate" in PARTS:
        at_the_limit()


if __name__ == "__main__":
    main()
