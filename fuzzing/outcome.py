"""How a run went with its target, in lines for a person: the rate and the waiting, the
calls left running, an interruption, and why it could test little. The summary on stdout
(`fuzzing.report`) and the HTML page (`fuzzing.page`) show the same lines."""

from __future__ import annotations

from fuzzing.results import PASSES_DONE, STOPPED_ON, RunResult

#: Above this share of the run's time spent waiting, the summary says so.
MOSTLY_WAITING = 0.5


def run_lines(result: RunResult) -> list[str]:
    """How the run went with its target: waiting, calls left running, why it tested little."""
    out = []
    waits = result.waits
    if waits:
        retried = sum(waits.get("retried", {}).values())
        rate = waits.get("rate_limit")
        out.append(
            (f"Rate: at most {rate:g} requests/s. " if rate else "Rate: no limit. ")
            + f"429/503 answers waited out and retried: {retried} "
            f"({', '.join(f'{s} x{n}' for s, n in waits.get('retried', {}).items()) or 'none'}); "
            f"still refused after every retry, not judged: {waits.get('gave_up', 0)}"
        )
        waited = waits.get("paced_seconds", 0.0) + waits.get("waited_seconds", 0.0)
        if result.elapsed and waited > MOSTLY_WAITING * result.elapsed:
            out.append(
                f"Most of the run was spent waiting: {waited:.1f} of {result.elapsed:.1f} s "
                f"({waits.get('paced_seconds', 0.0):.1f} s keeping to the rate, "
                f"{waits.get('waited_seconds', 0.0):.1f} s waiting out 429/503); a longer "
                "--budget sends more cases"
            )
    if result.interrupted:
        out.append(f"Interrupted by {result.interrupted}: the fuzzing stopped early.")
    elif result.stop_reason == STOPPED_ON:
        out.append(f"Stopped at the first violation of {result.stop_on} (--stop-on).")
    elif result.stop_reason == PASSES_DONE:
        out.append(f"Ended after {result.passes} pass(es) of fuzzing and stateful (--passes).")
    if result.cleanup:
        left = result.cleanup.get("left", [])
        if left:
            listed = "; ".join(f"thread {c['thread']} ({c['reason']})" for c in left)
            out.append(f"calls left running: {len(left)}: {listed}")
        else:
            out.append(
                f"calls left running: 0 (ended {len(result.cleanup.get('ended', []))} call(s) "
                f"the run started; {result.cleanup.get('nothing_to_end', 0)} had ended already)"
            )
    if result.cause:
        out.append(result.cause)
    return out
