"""`python -m fuzzing` catches each faulty variant of testkit/faulty/ with the check that guards
the broken rule.

Each variant is served on a thread of the test's process and fuzzed by a test of its own
(a fixed seed), which stops the run at the first violation of that check (`--stop-on`, which
also leaves out the phases that never report it). The budget is only a cap that a slow or
loaded machine does not reach: the catch usually comes within seconds, and how fast it comes
is a figure of `nox -s bench -- fuzz`, not a condition of the test. The tests are independent,
so a parallel run spreads them over its workers. The variants of the call events are proven,
each under its own class of fault, by tests/test_fuzz_events.py, and are not fuzzed a second
time here.
"""

from __future__ import annotations

import pytest

from fuzzing import boundaries, events, stopping
from testkit.faulty.harness import SEED, fuzz_variant
from testkit.faulty.variants import VARIANTS

#: Seconds a run may take before the test fails: several times the slowest catch on a busy machine.
CAP = 60


@pytest.mark.parametrize(
    "name", sorted(name for name, v in VARIANTS.items() if v.caught_by != events.CHECK)
)
def test_each_faulty_variant_is_caught_by_its_check(name: str) -> None:
    check = VARIANTS[name].caught_by
    run = fuzz_variant(name, "--stop-on", check, budget=CAP, seed=SEED, in_thread=True)
    assert run.result is not None, run.describe()
    assert run.returncode == 1, run.describe()
    assert check in run.checks_failed(), (
        f"{name} ({VARIANTS[name].fault}) was not caught by {check}:\n" + run.describe()
    )
    assert run.result["stop_reason"] == "stop_on", run.describe()
    # the phases that never report the check were left out, and said so
    assert run.result["left_out_phases"] == stopping.left_out(check)
    assert not set(stopping.left_out(check)) & set(run.result["phase_cases"])
    if check == boundaries.CHECK:  # caught before the walk and schemathesis: neither ran
        assert set(run.result["phase_cases"]) == {boundaries.PHASE}, run.result["phase_cases"]
