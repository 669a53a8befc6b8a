"""How a run ends before its budget is spent: `--stop-on CHECK` and `--passes N`.

`--stop-on CHECK` looks for one fault: the run ends at the first violation of CHECK, and the
phases that can never report CHECK are left out (and listed as left out). The boundary phase
reports `spec_boundaries` alone, the walk `contract_model` alone, schemathesis's phases every
check but `spec_boundaries`; `events` judges the answers of every phase, so it leaves none out.

`--passes N` sizes a run by its work instead of by the clock: it ends once schemathesis's
fuzzing and stateful phases have each had N turns (the phases before them run once, as always),
whatever is left of the budget, which stays a cap. With a seed, such a run sends the same
cases on a fast machine and a slow one.
"""

from __future__ import annotations

from collections import Counter
from typing import Final, Protocol

from fuzzing import boundary_requests as boundaries
from fuzzing import events, oracle


class HasChecks(Protocol):
    def checks_failed(self) -> set[str]: ...


#: The phases of a run, in their order; schemathesis's are one step here.
WALK: Final = "walk"
SCHEMATHESIS: Final = "schemathesis"
PHASES: Final = (boundaries.PHASE, WALK, SCHEMATHESIS)
#: The checks a phase can report, where it is not every check (schemathesis: all but one).
_ONLY: Final = {boundaries.PHASE: {boundaries.CHECK}, WALK: {oracle.CHECK}}
#: schemathesis's phases that take turns until the budget is spent (the others run once).
TURNING: Final = frozenset({"fuzzing", "stateful"})


def runs(phase: str, stop_on: str | None) -> bool:
    """Whether `phase` runs when the run stops on `stop_on` (None: every phase runs)."""
    if stop_on is None or stop_on == events.CHECK:
        return True
    if phase in _ONLY:
        return stop_on in _ONLY[phase]
    return stop_on != boundaries.CHECK


def caught(stop_on: str | None, found: HasChecks) -> bool:
    """Whether the run stopping on `stop_on` has its violation: among those `found` so far,
    or among the call events (which the active events ledger judges as they come)."""
    return stop_on is not None and (stop_on in found.checks_failed() or events.shown(stop_on))


def left_out(stop_on: str | None) -> list[str]:
    """The phases a run stopping on `stop_on` leaves out, in their order."""
    return [phase for phase in PHASES if not runs(phase, stop_on)]


class Passes:
    """Counts the turns of schemathesis's phases; `over` once `limit` passes are done."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.turns: Counter[str] = Counter()
        #: The passes are done: the turn that was starting is not one of the run's.
        self.done = False

    def finished(self, phase: str) -> None:
        self.turns[phase] += 1

    def over(self, starting: str) -> bool:
        """Whether the phase `starting` now would begin a pass beyond the limit."""
        if self.limit is not None and starting in TURNING and self.turns[starting] >= self.limit:
            self.done = True
        return self.done
