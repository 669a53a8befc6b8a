"""`python -m fuzzing` catches each faulty variant of testkit/faulty/ with the check that guards
the broken rule.

Each variant is fuzzed by a test of its own (a small budget, a fixed seed), which stops the run
at the first violation of that check (`--stop-on`): the budget is the most a catch may take.
The tests are independent, so a parallel run spreads them over its workers.
"""

from __future__ import annotations

import pytest

from fuzzing import boundaries
from testkit.faulty.harness import SEED, budget_of, fuzz_variant
from testkit.faulty.variants import VARIANTS


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_each_faulty_variant_is_caught_by_its_check(name: str) -> None:
    check = VARIANTS[name].caught_by
    run = fuzz_variant(name, "--stop-on", check, budget=budget_of(name), seed=SEED)
    assert run.result is not None, run.describe()
    assert run.returncode == 1, run.describe()
    assert check in run.checks_failed(), (
        f"{name} ({VARIANTS[name].fault}) was not caught by {check}:\n" + run.describe()
    )
    if check == boundaries.CHECK:  # caught before the walk and schemathesis: neither ran
        assert set(run.result["phase_cases"]) == {boundaries.PHASE}, run.result["phase_cases"]
