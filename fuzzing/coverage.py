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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from contract.rules import TRANSITIONS
from contract.spec import load


class Reached(Protocol):
    """What a run observed (`fuzzing.results.RunResult` is one)."""

    #: `{method}` -> HTTP status -> how many answers had it.
    statuses: dict[str, dict[int, int]]
    #: Model transition -> how often it ran.
    transitions: dict[str, int]


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
        }


def is_server_error(status: int) -> bool:
    """A 5xx: documented so that clients handle it, a failure whenever a run meets it."""
    return 500 <= status < 600


def of(result: Reached) -> Coverage:
    """The coverage of a run's result (a run computes it once: `RunResult.coverage`)."""
    coverage = Coverage()
    for operation in load():
        seen = result.statuses.get(operation.method, {})
        targets = [s for s in operation.statuses if not is_server_error(s)]
        coverage.statuses[operation.method] = {s: seen.get(s, 0) for s in targets}
        extra = {s: n for s, n in seen.items() if s not in operation.statuses}
        if extra:
            coverage.undocumented[operation.method] = extra
        failed = {s: n for s, n in seen.items() if s in operation.statuses and is_server_error(s)}
        if failed:
            coverage.server_errors[operation.method] = failed
    coverage.transitions = {name: result.transitions.get(name, 0) for name in TRANSITIONS}
    facts = getattr(result, "events", {})  # the call events, where a run judged them
    if facts.get("judged"):
        came = facts.get("types", {})
        coverage.events = {name: came.get(name, 0) for name in load().events}
    return coverage
