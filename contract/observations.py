"""What the contract model says and hears: exchanges, expectations, verdicts, and the
arithmetic of counts and durations they need. Plain data, no state (see `contract.model`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from contract.rules import DURATION_SLACK_SECONDS

Window = tuple[float, float]  # (sent, received) of the answer that proved something


@dataclass
class Exchange:
    """One request on a thread and its answer: a step of a sequence."""

    step: int
    method: str
    body: dict[str, Any]
    status: int
    data: Any = None
    sent: float = 0.0
    received: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "method": self.method,
            "body": self.body,
            "status": self.status,
            "data": self.data,
        }


@dataclass
class Expectation:
    """What the next answer must be: `statuses`, and for a 200 the `data` the model knows."""

    statuses: frozenset[int]
    #: Exact values of `data` fields.
    data: dict[str, Any] = field(default_factory=dict)
    #: Inclusive bounds of integer `data` fields (counts, durations) where not exact.
    bounds: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    #: Fields that must be present (non-empty strings).
    present: tuple[str, ...] = ()
    #: No `data` at all on success.
    no_data: bool = False
    #: Why, per status or field: the facts behind the expectation.
    why: dict[str, str] = field(default_factory=dict)
    #: The body names an id not known to exist: 404 (`contract.rules.UNKNOWN_ID`) is allowed
    #: beside the statuses above (a server with fixed ids; the sandbox answers as for any id).
    unknown_ids: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "statuses": sorted(self.statuses),
            "data": self.data,
            "bounds": {k: list(v) for k, v in self.bounds.items()},
            "present": list(self.present),
            "no_data": self.no_data,
            "why": self.why,
            "unknown_ids": self.unknown_ids,
        }


#: What a breach is about when it is not a field of `data`: the status, or `data` as a whole.
STATUS = "status"
DATA = "data"


class Breach(NamedTuple):
    """One way an answer broke the contract: what it is about, and why, in the contract's words."""

    #: `STATUS`, `DATA`, or the name of the `data` field.
    subject: str
    text: str


@dataclass
class Verdict:
    """The model's judgement of one answer."""

    step: int
    expected: Expectation
    breaches: list[Breach]
    transitions: list[str]
    #: The exchanges of the thread that led here (only when there are violations).
    sequence: list[Exchange] = field(default_factory=list)

    @property
    def violations(self) -> list[str]:
        """Each breach in the contract's words."""
        return [breach.text for breach in self.breaches]


@dataclass(frozen=True)
class Fact:
    """Where a piece of knowledge came from."""

    step: int
    method: str
    status: int

    def __str__(self) -> str:
        return f"{self.method} answered {self.status} at step {self.step}"


def named_users(body: Mapping[str, Any]) -> list[str]:
    """The users a request names: `userId` wins over `userIds` (the source document says so)."""
    if isinstance(body.get("userId"), str):
        return [body["userId"]]
    ids = body.get("userIds")
    return (
        list(dict.fromkeys(u for u in ids if isinstance(u, str))) if isinstance(ids, list) else []
    )


def _floor(value: float) -> int:
    return math.floor(value)


def duration_bounds(
    begin: Window, end: Window, slack: int = DURATION_SLACK_SECONDS
) -> tuple[int, int]:
    """Whole seconds between an event in `begin` and one in `end` (each `(sent, received)`)."""
    low = max(0, _floor(end[0] - begin[1]) - slack)
    high = max(0, _floor(end[1] - begin[0]) + slack)
    return low, high
