"""`python -m fuzzing` judges the call events end to end: each faulty variant of the events is
caught by the check `events` under its own fault class, the reference server's events keep the
contract (embedded, and at `--url` with `--events-listen`), and a server that was not told of
the receiver is fuzzed all the same, its events not judged.

The runs are slow, so they all run once per module, two at a time, with a fixed seed: the
reference servers' for a small budget, the variants' until their first violation of the events
(`--stop-on events`); the tests then read their results.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from xml.etree import ElementTree

import pytest

from contract.spec import load
from fuzzing import event_match
from fuzzing.embedded import ReferenceServer
from fuzzing.event_receiver import PATH
from testkit.faulty.harness import FuzzRun, free_port, fuzz, fuzz_variant
from testkit.faulty.variants import VARIANTS

SEED = 20261127
BUDGET = "3"
#: A variant's run ends at its first violation of the events: its budget is only a cap.
CAP = 120
GRACE = ("--events-grace", "2")
#: Each faulty variant of the events, and the class of fault it must be reported under.
CLASSES = {
    "event_missing": event_match.MISSING,
    "event_extra": event_match.EXTRA,
    "event_duplicated": event_match.DUPLICATED,
    "events_out_of_order": event_match.OUT_OF_ORDER,
    "event_wrong_field": event_match.WRONG_FIELD,
    "events_badly_signed": event_match.UNSIGNED,
    "event_for_refusal": event_match.REFUSED,
}


def _listening_reference() -> FuzzRun:
    """The reference server told of a receiver at a port of the run's, fuzzed at `--url`."""
    address = f"127.0.0.1:{free_port()}"
    with ReferenceServer(webhooks=[f"http://{address}{PATH}"]) as server:
        return fuzz(
            "--url", server.url, "--budget", BUDGET, "--seed", str(SEED),
            "--events-listen", address, *GRACE,
        )  # fmt: skip


def _untold_reference() -> FuzzRun:
    with ReferenceServer() as server:
        # Any run will do: nothing of its events is judged.
        return fuzz("--url", server.url, "--budget", "1", "--seed", str(SEED))


def _job(name: str) -> FuzzRun:
    if name == "embedded":
        return fuzz("--budget", BUDGET, "--seed", str(SEED), *GRACE)
    if name == "listening":
        return _listening_reference()
    if name == "untold":
        return _untold_reference()
    return fuzz_variant(name, *GRACE, "--stop-on", "events", budget=CAP, seed=SEED)


@pytest.fixture(scope="module")
def runs() -> dict[str, FuzzRun]:
    # The longest first (the reference runs wait for late events): both threads end together.
    names = ["embedded", "listening", *CLASSES, "untold"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(names, pool.map(_job, names), strict=True))


def _events_violations(run: FuzzRun) -> list[dict[str, Any]]:
    return [v for v in (run.result or {}).get("violations", []) if v["check"] == "events"]


def describe(run: FuzzRun) -> str:
    lines = [f"exit {run.returncode}"] + [
        f"{v['check']} {v['operation']}: {v['reason']}"
        for v in (run.result or {}).get("violations", [])
    ]
    return "\n".join(lines) + "\n" + run.stderr[-1500:]


def test_every_fault_class_has_a_faulty_variant() -> None:
    assert set(CLASSES.values()) == set(event_match.KINDS)
    assert {name for name, v in VARIANTS.items() if v.caught_by == "events"} == set(CLASSES)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_each_fault_of_the_events_is_caught_under_its_class(
    runs: dict[str, FuzzRun], name: str
) -> None:
    run = runs[name]
    assert run.returncode == 1, describe(run)
    kinds = {v["expected"]["kind"] for v in _events_violations(run)}
    assert CLASSES[name] in kinds, describe(run)
    violation = next(v for v in _events_violations(run) if v["expected"]["kind"] == CLASSES[name])
    assert str(violation["reason"]).startswith(f"{CLASSES[name]}: ")
    expected = violation["expected"]
    assert isinstance(expected, dict) and expected["expected"] and expected["came"]


def test_a_violation_of_the_events_names_the_request_that_caused_it_in_its_replay_file(
    runs: dict[str, FuzzRun],
) -> None:
    run = runs["event_missing"]
    violation = next(v for v in _events_violations(run) if v["operation"].endswith("/call/end"))
    replay = json.loads(run.files[str(violation["replay"]).rsplit("/", 1)[-1]])
    assert replay["check"] == "events" and replay["reason"].startswith("missing: call/end")
    assert replay["steps"][-1]["method"] == "call/end" and replay["steps"][-1]["status"] == 200
    assert replay["steps"][0]["method"] == "call/start"
    assert "missing: call/end answered 200" in run.stdout
    suite = ElementTree.fromstring(run.junit or "").find("testsuite")
    assert suite is not None
    failing = {
        (case.get("classname"), case.get("name"))
        for case in suite.iter("testcase")
        if case.find("failure") is not None
    }
    assert ("POST /{teamId}/call/end", "events") in failing
    assert "missing: call/end answered 200" in run.files["fuzz-report.html"]


@pytest.mark.parametrize("name", ["embedded", "listening"])
def test_the_reference_servers_events_keep_the_contract(
    runs: dict[str, FuzzRun], name: str
) -> None:
    run = runs[name]
    assert run.returncode == 0, describe(run)
    assert run.result is not None and run.result["ok"]
    facts = run.result["events"]
    assert facts["judged"] and facts["complete"], facts
    # The walk ends with a key pressed and users hanging up (the sandbox's control requests):
    # every event type came, those only the platform causes too.
    event_types = run.result["coverage"]["event_types"]
    assert set(event_types) == set(load().events) == set(facts["types"])
    assert run.result["coverage"]["event_types_never_seen"] == []
    assert "Event types: " in run.stdout
    assert any(row["check"] == "events" and row["passed"] for row in run.result["tally"])


def test_a_server_not_told_of_the_receiver_is_fuzzed_without_judging_events(
    runs: dict[str, FuzzRun],
) -> None:
    run = runs["untold"]
    assert run.returncode == 0, describe(run)
    assert run.result is not None and run.result["events"]["judged"] is False
    assert "Events: not judged (no --events-listen" in run.stdout
    assert run.result["coverage"]["event_types"] == {}
