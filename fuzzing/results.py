"""What a fuzzing run is given and what it gives back: plain records, no behaviour.

`fuzzing.runner` fills a `RunResult` (with the walk's `WalkFigures` from `fuzzing.walk`), and
`fuzzing.report`, `fuzzing.page` and `fuzzing.cli` read it. A leaf of the package: it imports
nothing of `fuzzing` but the records it holds (`request_signing.Bot`, `coverage.Coverage`, the
judge's `ModelViolation`), so that no module that uses these types imports the runner.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.fixtures import Fixtures
from contract.spec import SPEC_PATH
from fuzzing import request_signing
from fuzzing.coverage import Coverage
from fuzzing.coverage import of as coverage_of
from fuzzing.oracle import ModelViolation

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "schemathesis.toml"


@dataclass
class WalkFigures:
    """What the model-guided walk did: its requests, its time, the violations it found."""

    steps: int = 0
    seconds: float = 0.0
    #: Each violation the walk found, with when (seconds after the run started).
    found: list[tuple[ModelViolation, float]] = field(default_factory=list)

    def first_seen(self, violation: ModelViolation) -> float:
        return next((seconds for seen, seconds in self.found if seen is violation), 0.0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "seconds": round(self.seconds, 3),
            "first_seen": {violation.message: seconds for violation, seconds in self.found},
        }


class ConfigurationError(Exception):
    """`schemathesis.toml`, the spec or an option cannot be used; the message says why."""


#: A run's `stop_reason` when it ended on `--stop-on`, or after `--passes` (`fuzzing.stopping`).
STOPPED_ON = "stop_on"
PASSES_DONE = "passes"


@dataclass(frozen=True)
class Options:
    """What one fuzzing run targets and how long it may take."""

    url: str
    team: str
    bot: request_signing.Bot  # its `repr` never shows the secret key
    budget: int
    seed: int
    spec: Path = SPEC_PATH
    config: Path = DEFAULT_CONFIG
    max_failures: int | None = None  # stop after this many failing checks (default: never)
    walk_steps: int = 400  # requests of the model-guided walk before schemathesis (0: none)
    stop_on: str | None = None  # end the run at the first violation of this check
    passes: int | None = None  # end after this many turns of fuzzing and stateful
    fixtures: Fixtures | None = None  # ids that exist on the target (`--fixtures`)
    rate_limit: float | None = None  # requests per second, all phases together
    left_out: tuple[str, ...] = ()  # operations not fuzzed, by `{method}`


@dataclass
class Violation:
    """One distinct failure: which check, on which operation, why, and how to reproduce it."""

    check: str
    operation: str
    reason: str
    curl: str
    steps: list[str] = field(default_factory=list)
    phase: str = ""
    first_seen: float = 0.0  # seconds after the run started
    status: int | None = None  # of the answer that failed the check
    body: Any = None  # the JSON request body that failed the check
    thread_before: list[str] = field(default_factory=list)  # earlier answers on its thread
    expected: dict[str, Any] | None = None  # what the contract model expected, and why
    sequence: list[dict[str, Any]] = field(default_factory=list)  # the thread's steps to it
    team: str = ""
    thread: str = ""
    replay: str = ""  # the replay file written for it

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "operation": self.operation,
            "reason": self.reason,
            "curl": self.curl,
            "steps": self.steps,
            "phase": self.phase,
            "first_seen": round(self.first_seen, 3),
            "status": self.status,
            "body": self.body,
            "thread_before": self.thread_before,
            "expected": self.expected,
            "sequence": self.sequence,
            "thread": self.thread,
            "replay": self.replay,
        }


@dataclass
class RunResult:
    """Everything a run found, ready to be rendered."""

    seed: int
    url: str
    budget: int
    cases: int = 0
    elapsed: float = 0.0
    phases: dict[str, str] = field(default_factory=dict)  # phase -> status of its last turn
    phase_cases: dict[str, int] = field(default_factory=dict)  # phase -> cases it sent
    # (operation, check) -> [passed, failed]
    tally: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop_reason: str = ""
    stop_on: str | None = None  # `--stop-on`: the check the run was looking for
    left_out_phases: list[str] = field(default_factory=list)  # by `--stop-on`
    passes: int | None = None  # `--passes`: the turns of fuzzing and stateful asked for
    stalled: bool = False  # stopped by the outer time limit, not by its budget
    team: str = ""
    bot_id: str = ""  # the bot that signed the requests (never its secret key)
    # Coverage: observed statuses per `{method}`, how often each model transition ran.
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    transitions: dict[str, int] = field(default_factory=dict)
    walk: WalkFigures | None = None  # None: no walk ran
    events: dict[str, Any] = field(default_factory=dict)  # the call events (`fuzzing.events`)
    fixtures: str = ""  # the `--fixtures` file the ids came from ("": none)
    left_out: list[str] = field(default_factory=list)  # operations not fuzzed, by `{method}`
    waits: dict[str, Any] = field(default_factory=dict)  # `fuzzing.pace.Pace.figures()`
    cleanup: dict[str, Any] = field(default_factory=dict)  # `fuzzing.cleanup.Cleanup.as_dict()`
    #: Answers left unjudged: still 429/503 after every retry, or the 404s of a run without
    #: fixtures against a server with fixed ids (see `fuzzing.noise`).
    unjudged: dict[str, int] = field(default_factory=dict)
    interrupted: str = ""  # the signal that stopped the run early ("": none)
    cause: str = ""  # why the run could not test its target (`fuzzing.noise`)

    @property
    def ok(self) -> bool:
        return not self.violations and not self.errors and not self.cause

    def checks_failed(self) -> set[str]:
        return {v.check for v in self.violations}

    @functools.cached_property
    def coverage(self) -> Coverage:
        """What the run reached, computed once (read it when the run is over)."""
        return coverage_of(self)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seed": self.seed,
            "url": self.url,
            "budget": self.budget,
            "cases": self.cases,
            "elapsed": round(self.elapsed, 3),
            "stop_reason": self.stop_reason,
            "stop_on": self.stop_on,
            "left_out_phases": self.left_out_phases,
            "passes": self.passes,
            "phases": self.phases,
            "phase_cases": self.phase_cases,
            "tally": [
                {"operation": op, "check": check, "passed": passed, "failed": failed}
                for (op, check), (passed, failed) in sorted(self.tally.items())
            ],
            "violations": [v.as_dict() for v in self.violations],
            "errors": self.errors,
            "walk": self.walk.as_dict() if self.walk is not None else {},
            "events": self.events,
            "fixtures": self.fixtures,
            "left_out": self.left_out,
            "waits": self.waits,
            "unjudged": self.unjudged,
            "interrupted": self.interrupted,
            "cause": self.cause,
            "cleanup": self.cleanup,
            "coverage": self.coverage.as_dict(),
        }
