"""A thirteenth operation added to a copy of the spec reaches the fuzzer with no edit of it.

The reference server's side (routed, answered 501 until a handler exists) is in
`tests/test_server_routes.py`; the test lists derive from the spec (`test_facts_not_repeated`).
Here: the boundary phase derives its near misses for the new operation, and the contract
model, which has no rule for it, does not judge it and forgets the thread it may have changed.
A rule for it in `contract.rules` is all the model and the walk need to judge and send it; a
`data` field renamed in the spec needs its new name in `contract.rules` and nothing else; a
request field renamed or added reaches the walk as its schema says, and the direction a call
gets when none is asked is the spec's default.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest

from contract import demo, rules
from contract.model import Model
from contract.rules import CALL, CALL_DURATION, DATA_KINDS, DIRECTION_FIELD, RULES, Rule
from contract.spec import load
from fuzzing import boundary_cases, request_signing, walk
from fuzzing.oracle import Judge, ModelViolation
from fuzzing.schema_values import valid
from testkit.spec import NEW_OPERATION, add_operation, spec_with

THREAD = demo.THREADS[0]
JSON = "application/json"
BOT = request_signing.Bot(demo.BOT_ID, demo.SECRET_KEY)
Send = Any  # (method, status, data=None) -> the violation or None


def sender(judge: Judge) -> Send:
    """Judge `method` on `THREAD` answered `status` (and `data`), as the walk sends it."""

    def send(method: str, status: int, data: object = None) -> ModelViolation | None:
        now = time.time()
        answer = {"code": status, "message": "OK", **({"data": data} if data else {})}
        return judge.observe(
            method,
            demo.TEAM,
            signed=True,
            content_type=JSON,
            body={"threadId": THREAD},
            status=status,
            answer=answer,
            sent=now,
            received=now,
        )

    return send


def test_the_boundary_phase_derives_cases_for_a_new_operation(tmp_path: Path) -> None:
    spec = spec_with(tmp_path, add_operation())
    cases = boundary_cases.derive(spec)
    new = [case for case in cases if case.method == NEW_OPERATION]
    model = [case for case in cases if case.method == "call.audio/stop"]
    assert new, "no boundary case for the new operation"
    # Every constraint of its request is probed, as for the operation it copies.
    assert {case.constraint for case in new} == {case.constraint for case in model}


def test_the_model_does_not_judge_a_new_operation_and_forgets_its_thread(tmp_path: Path) -> None:
    judge = Judge(demo.TEAM, BOT, spec=spec_with(tmp_path, add_operation()))
    send = sender(judge)
    assert send("call/start", 200, {"direction": "outgoing"}) is None
    assert send(NEW_OPERATION, 200) is None
    # Without the new operation the model knows the call is active: a second start is a
    # violation. After it, the thread's state is unknown, so the model does not guess.
    assert send("call/start", 200, {"direction": "outgoing"}) is None
    assert send("call/start", 200, {"direction": "outgoing"}) is not None


def test_a_rule_is_all_that_a_new_operation_needs_to_be_judged_and_walked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = spec_with(tmp_path, add_operation())
    hold = Rule(NEW_OPERATION, (CALL,), effect="holds the call")
    # What adding it to `contract.rules.RULES` does when the module is read.
    monkeypatch.setitem(RULES, NEW_OPERATION, hold)
    monkeypatch.setattr(rules, "TRANSITIONS", (*rules.TRANSITIONS, *hold.transitions()))
    judge = Judge(demo.TEAM, BOT, spec=spec)
    send = sender(judge)

    assert send("call/end", 409) is None  # no call in the thread
    violation = send(NEW_OPERATION, 200)
    assert violation is not None
    assert violation.reason.startswith(f"expected 409, got 200: {NEW_OPERATION} needs an active")
    assert send("call/start", 200, {"direction": "outgoing"}) is None
    assert send(NEW_OPERATION, 200) is None
    assert judge.model.exercised[hold.ok_transition()] == 1
    assert hold.ok_transition() not in judge.model.never_exercised()
    # The walk sends it as it sends the operation it copies.
    shapes = walk.request_shapes(spec)
    offered = walk.candidates(shapes, THREAD, random.Random(1))
    assert (NEW_OPERATION, {"threadId": THREAD}) in offered


def test_a_renamed_data_field_needs_only_its_new_name_in_the_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = next(name for name, kind in DATA_KINDS.items() if kind == CALL_DURATION)
    new = "callSeconds"

    def rename(document: dict[str, Any]) -> None:
        for schema in document["components"]["schemas"].values():
            properties = schema.get("properties", {})
            if old in properties:
                schema["properties"] = {
                    (new if name == old else name): value for name, value in properties.items()
                }
                schema["required"] = [new if name == old else name for name in schema["required"]]

    spec = spec_with(tmp_path, rename)
    monkeypatch.delitem(DATA_KINDS, old)
    monkeypatch.setitem(DATA_KINDS, new, CALL_DURATION)
    ends = next(method for method, rule in RULES.items() if rule.ends_call)
    assert new in spec.operations[ends].data_fields
    model = Model(spec)
    body = {"threadId": THREAD}
    model.observe(demo.TEAM, ends, body, 409, None, 100.0, 100.0)
    model.observe(demo.TEAM, "call/start", body, 200, {"direction": "outgoing"}, 100.0, 100.0)
    expected = model.expect(demo.TEAM, ends, body, 130.0, 130.0)
    assert expected.bounds[new] == (29, 31)
    assert old not in expected.bounds
    answer = {new: 90, "dialogDuration": 0, "result": "unanswered", "direction": "outgoing"}
    verdict = model.observe(demo.TEAM, ends, body, 200, answer, 130.0, 130.0)
    assert verdict.violations == [
        f"expected {new} between 29 and 31, got 90: the call started at step 2, "
        "30.0 to 30.0 s before"
    ]


def test_the_direction_a_call_gets_when_none_is_asked_is_the_spec_default(
    tmp_path: Path,
) -> None:
    starts = next(method for method, rule in RULES.items() if rule.starts_call)
    schema = str(load().operation(starts).request_schema)

    def other_default(document: dict[str, Any]) -> None:
        document["components"]["schemas"][schema]["properties"][DIRECTION_FIELD]["default"] = (
            "incoming"
        )

    model = Model(spec_with(tmp_path, other_default))
    body = {"threadId": THREAD}
    model.observe(demo.TEAM, "call/end", body, 409, None, 100.0, 100.0)
    expected = model.expect(demo.TEAM, starts, body, 101.0, 101.0)
    assert expected.data[DIRECTION_FIELD] == "incoming"
    assert "defaults to incoming" in expected.why[DIRECTION_FIELD]


def test_the_walk_sends_a_new_or_renamed_request_field_as_its_schema_says(tmp_path: Path) -> None:
    spec = load()
    play = next(
        op for op in spec if "fileUrl" in spec.schema(op.request_schema or "").get("properties", {})
    )
    schema = str(play.request_schema)

    def rename_and_add(document: dict[str, Any]) -> None:
        node = document["components"]["schemas"][schema]
        node["properties"] = {
            ("audioUrl" if name == "fileUrl" else name): value
            for name, value in node["properties"].items()
        }
        node["properties"]["volume"] = {"type": "integer", "minimum": 1, "maximum": 10}
        node["required"] = [
            *("audioUrl" if name == "fileUrl" else name for name in node["required"]),
            "volume",
        ]

    spec = spec_with(tmp_path, rename_and_add)
    offered = walk.candidates(walk.request_shapes(spec), THREAD, random.Random(1))
    bodies = [body for method, body in offered if method == play.method]
    assert bodies and all("audioUrl" in body and "fileUrl" not in body for body in bodies)
    assert all(valid(spec.schema(schema), body) for body in bodies), bodies
