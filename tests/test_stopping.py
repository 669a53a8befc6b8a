"""How a run ends early (`fuzzing.stopping`): the phases `--stop-on` leaves out, and the turns
`--passes` counts."""

from __future__ import annotations

import pytest

from fuzzing import boundaries, events, oracle, stopping


@pytest.mark.parametrize(
    ("stop_on", "left_out"),
    [
        (None, []),
        (events.CHECK, []),  # the events of every phase's answers are judged
        (boundaries.CHECK, [stopping.WALK, stopping.SCHEMATHESIS]),
        (oracle.CHECK, [boundaries.PHASE]),  # the walk and schemathesis both report it
        ("content_type_conformance", [boundaries.PHASE, stopping.WALK]),
    ],
)
def test_stop_on_leaves_out_the_phases_that_never_report_its_check(
    stop_on: str | None, left_out: list[str]
) -> None:
    assert stopping.left_out(stop_on) == left_out
    assert [p for p in stopping.PHASES if stopping.runs(p, stop_on)] == [
        p for p in stopping.PHASES if p not in left_out
    ]


class _Found:
    def __init__(self, *checks: str) -> None:
        self.checks = set(checks)

    def checks_failed(self) -> set[str]:
        return self.checks


def test_caught_only_by_the_check_stopped_on() -> None:
    assert stopping.caught(boundaries.CHECK, _Found(boundaries.CHECK))
    assert not stopping.caught(oracle.CHECK, _Found(boundaries.CHECK))
    assert not stopping.caught(None, _Found(boundaries.CHECK))


def test_passes_end_before_the_turn_beyond_the_limit() -> None:
    passes = stopping.Passes(2)
    assert not passes.over("examples") and not passes.over("fuzzing")
    passes.finished("examples")
    for _ in range(2):
        assert not passes.over("fuzzing")
        passes.finished("fuzzing")
        assert not passes.over("stateful")
        passes.finished("stateful")
    assert not passes.done
    assert passes.over("fuzzing") and passes.done  # a third turn would begin: the run ends


def test_without_a_limit_the_turns_go_on() -> None:
    passes = stopping.Passes(None)
    for _ in range(50):
        passes.finished("fuzzing")
    assert not passes.over("fuzzing") and not passes.done
