"""A run without `--fixtures` against a server whose threads and users exist beforehand.

Such a server answers the fuzzer's random ids with 404 (contract 2.4.0): nearly every valid
request is refused, and each refusal would be reported as a violation, hundreds of them, all
noise. When most answers to requests that passed validation were 404 and the run had no
fixtures, those violations are folded into one line that names the cause instead
("most answers were 404 for unknown ids: pass --fixtures"), and the run is reported as one that
could not test its target. Violations with another status stay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contract.rules import UNKNOWN_ID

if TYPE_CHECKING:
    from fuzzing.runner import RunResult

#: Answers that mean the request passed validation: success, the state (409), the audio (422).
_PASSED = frozenset({409, 422})
#: Above this share of 404s among them, the run names the cause instead of its violations.
SHARE = 0.5
CAUSE = "most answers were 404 for unknown ids: pass --fixtures"


def unknown_id_share(result: RunResult) -> tuple[int, int]:
    """(404 answers, answers to requests that passed validation) over the whole run."""
    refused = passed = 0
    for counts in result.statuses.values():
        for status, count in counts.items():
            if status == UNKNOWN_ID:
                refused += count
            if status == UNKNOWN_ID or 200 <= status < 300 or status in _PASSED:
                passed += count
    return refused, passed


def fold(result: RunResult) -> str:
    """Fold the 404 violations of a fixture-less run into one line naming the cause; return
    that line ("" when the run had fixtures or 404 was not most answers)."""
    if result.fixtures:
        return ""
    refused, passed = unknown_id_share(result)
    if not passed or refused / passed <= SHARE:
        return ""
    kept = [v for v in result.violations if v.status != UNKNOWN_ID]
    folded = len(result.violations) - len(kept)
    result.violations = kept
    result.unjudged[str(UNKNOWN_ID)] = folded
    result.cause = (
        f"{CAUSE} ({refused} of {passed} answers to valid requests were 404; "
        f"{folded} violation(s) on 404 answers not listed)"
    )
    return result.cause
