"""What a run reached: the documented statuses it observed and the model transitions it ran.

The share that `--min-coverage` holds a run to counts two kinds of items, equally:

- each documented status of each operation (the `responses` of openapi.yaml, read through
  `contract.spec`) that some answer of the run had, valid request or not;
- each transition of the contract model (`contract.rules.TRANSITIONS`) that ran at least once
  on an answer the model judged.

share = (statuses observed + transitions exercised) / (statuses documented + transitions known).

A documented server error (5xx: every operation documents 500 "Internal server error", as
Workonflow's bot API README lists it) is no coverage target: a correct server never answers it,
so counting it would make 100 % unreachable against a server without faults and lower every
`--min-coverage` share. When a run does meet one, schemathesis's `not_a_server_error` (and
`positive_data_acceptance` or `negative_data_rejection`) fail it as a violation; the coverage
lists it under `server_errors`, so that documenting it never hides it.

A status the target cannot produce under the run's configuration is no target either (listed
under `not_targets` with the reason, never counted as missing):

- `429` (rate limit): the run keeps to `--rate-limit` and waits out a `429`; meeting one is a
  sign of too high a rate, not of coverage;
- `404` (unknown id): without `--fixtures` the run knows no id to be unknown; with them, only
  when the target answered some unknown id with 404 (a server with fixed ids) is it a target,
  per operation. The sandbox creates threads and users on demand and never answers it.

Operations left out with `--include`/`--exclude` are listed under `left_out`: neither their
statuses nor their transitions count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from contract.rules import RATE_LIMITED, TRANSITIONS, UNKNOWN_ID
from contract.spec import load


class Reached(Protocol):
    """What a run observed (`fuzzing.results.RunResult` is one)."""

    #: `{method}` -> HTTP status -> how many answers had it.
    statuses: dict[str, dict[int, int]]
    #: Model transition -> how often it ran.
    transitions: dict[str, int]
    #: The `--fixtures` file ("": none) and the operations left out, by `{method}`.
    fixtures: str
    left_out: list[str]


@dataclass
class Coverage:
    """Per operation the documented statuses seen and never seen; the transitions run or not."""

    #: `{method}` -> documented status -> how many answers had it (0: never).
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    #: Statuses answered that the spec does not document for the operation.
    undocumented: dict[str, dict[int, int]] = field(default_factory=dict)
    #: Documented server errors (5xx) answered: failures, never coverage (see the module).
    server_errors: dict[str, dict[int, int]] = field(default_factory=dict)
    transitions: dict[str, int] = field(default_factory=dict)
    #: Each event type of the spec's `webhooks` -> how many came (empty: events not judged).
    #: Listed apart from the share: only the platform causes some (`call.dtmf`).
    events: dict[str, int] = field(default_factory=dict)
    #: Documented statuses the target cannot produce under the run's configuration, and why.
    not_targets: dict[int, str] = field(default_factory=dict)
    #: Operations the run left out (`--include`/`--exclude`), by `{method}`.
    left_out: list[str] = field(default_factory=list)

    @property
    def statuses_seen(self) -> int:
        return sum(1 for per in self.statuses.values() for n in per.values() if n)

    @property
    def statuses_documented(self) -> int:
        return sum(len(per) for per in self.statuses.values())

    @property
    def transitions_run(self) -> int:
        return sum(1 for n in self.transitions.values() if n)

    @property
    def percent(self) -> float:
        total = self.statuses_documented + len(self.transitions)
        seen = self.statuses_seen + self.transitions_run
        return 100.0 * seen / total if total else 100.0

    def never_seen(self) -> dict[str, list[int]]:
        return {
            method: [status for status, n in per.items() if not n]
            for method, per in self.statuses.items()
            if any(not n for n in per.values())
        }

    def never_run(self) -> list[str]:
        return [name for name, n in self.transitions.items() if not n]

    def as_dict(self) -> dict[str, Any]:
        return {
            "percent": round(self.percent, 1),
            "statuses_seen": self.statuses_seen,
            "statuses_documented": self.statuses_documented,
            "transitions_run": self.transitions_run,
            "transitions_known": len(self.transitions),
            "statuses": {
                m: {str(s): n for s, n in per.items()} for m, per in self.statuses.items()
            },
            "statuses_never_seen": self.never_seen(),
            "undocumented_statuses": {
                m: {str(s): n for s, n in per.items()} for m, per in self.undocumented.items()
            },
            "server_errors": {
                m: {str(s): n for s, n in per.items()} for m, per in self.server_errors.items()
            },
            "transitions": self.transitions,
            "transitions_never_run": self.never_run(),
            "event_types": self.events,
            "event_types_never_seen": [name for name, n in self.events.items() if not n],
            "not_targets": {str(s): why for s, why in self.not_targets.items()},
            "left_out": self.left_out,
        }


def is_server_error(status: int) -> bool:
    """A 5xx: documented so that clients handle it, a failure whenever a run meets it."""
    return 500 <= status < 600


def not_targets(result: Reached) -> dict[int, str]:
    """The documented statuses the run's target cannot be held to produce, and why."""
    reasons = {
        RATE_LIMITED: "the run keeps to --rate-limit and waits out a 429: never a target",
    }
    if not result.fixtures:
        reasons[UNKNOWN_ID] = "no --fixtures: the run knows no id to be unknown"
    elif not any(UNKNOWN_ID in seen for seen in result.statuses.values()):
        reasons[UNKNOWN_ID] = (
            "the target answered no unknown id with 404: it makes threads and users on demand"
        )
    return reasons


def of(result: Reached) -> Coverage:
    """The coverage of a run's result (a run computes it once: `RunResult.coverage`)."""
    coverage = Coverage(not_targets=not_targets(result), left_out=list(result.left_out))
    for operation in load():
        seen = result.statuses.get(operation.method, {})
        if operation.method in coverage.left_out:
            continue
        targets = [
            s
            for s in operation.statuses
            if not is_server_error(s) and s not in coverage.not_targets
        ]
        coverage.statuses[operation.method] = {s: seen.get(s, 0) for s in targets}
        extra = {s: n for s, n in seen.items() if s not in operation.statuses}
        if extra:
            coverage.undocumented[operation.method] = extra
        failed = {s: n for s, n in seen.items() if s in operation.statuses and is_server_error(s)}
        if failed:
            coverage.server_errors[operation.method] = failed
    coverage.transitions = {
        name: result.transitions.get(name, 0)
        for name in TRANSITIONS
        if name.split(":", 1)[0] not in coverage.left_out
    }
    facts = getattr(result, "events", {})  # the call events, where a run judged them
    if facts.get("judged"):
        came = facts.get("types", {})
        coverage.events = {name: came.get(name, 0) for name in load().events}
    return coverage
