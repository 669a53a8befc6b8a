"""A thirteenth operation added to a copy of the spec reaches the fuzzer with no edit of it.

The reference server's side (routed, answered 501 until a handler exists) is in
`tests/test_server_routes.py`; the test lists derive from the spec (`test_facts_not_repeated`).
Here: the boundary phase derives its near misses for the new operation, and the contract
model, which has no rule for it, does not judge it and forgets the thread it may have changed.
"""

from __future__ import annotations

import time
from pathlib import Path

from contract import demo
from fuzzing import boundaries, signing
from fuzzing.judge import Judge
from testkit.spec import NEW_OPERATION, add_operation, spec_with

THREAD = demo.THREADS[0]
JSON = "application/json"


def test_the_boundary_phase_derives_cases_for_a_new_operation(tmp_path: Path) -> None:
    spec = spec_with(tmp_path, add_operation())
    cases = boundaries.derive(spec)
    new = [case for case in cases if case.method == NEW_OPERATION]
    model = [case for case in cases if case.method == "call.audio/stop"]
    assert new, "no boundary case for the new operation"
    # Every constraint of its request is probed, as for the operation it copies.
    assert {case.constraint for case in new} == {case.constraint for case in model}


def test_the_model_does_not_judge_a_new_operation_and_forgets_its_thread(tmp_path: Path) -> None:
    bot = signing.Bot(demo.BOT_ID, demo.SECRET_KEY)
    judge = Judge(demo.TEAM, bot, spec=spec_with(tmp_path, add_operation()))

    def send(method: str, status: int, data: object = None) -> object:
        now = time.time()
        answer = {"code": status, "message": "OK", **({"data": data} if data else {})}
        body = {"threadId": THREAD}
        return judge.judge(
            method,
            demo.TEAM,
            signed=True,
            content_type=JSON,
            body=body,
            status=status,
            answer=answer,
            sent=now,
            received=now,
        )

    assert send("call/start", 200, {"direction": "outgoing"}) is None
    assert send(NEW_OPERATION, 200) is None
    # Without the new operation the model knows the call is active: a second start is a
    # violation. After it, the thread's state is unknown, so the model does not guess.
    assert send("call/start", 200, {"direction": "outgoing"}) is None
    assert send("call/start", 200, {"direction": "outgoing"}) is not None
