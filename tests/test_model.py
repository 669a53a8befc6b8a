"""The contract model (contract.model, contract.rules) on hand-made sequences of answers.

Longer than 300 lines on purpose: one test per rule of the model, all driven by the same
small `run` helper.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from contract import demo
from contract.model import Model
from contract.observations import duration_bounds
from contract.rules import (
    DATA_KINDS,
    PLATFORM,
    RULES,
    TRANSITIONS,
    event_table,
    operation_table,
    repeat_table,
    repeated,
)
from contract.spec import load
from testkit.spec import ROOT

TEAM = demo.TEAM
THREAD = demo.THREADS[0]
A, B, C = demo.USERS
END_DATA = {"callDuration": 0, "dialogDuration": 0, "result": "unanswered"}


class Run:
    """A model and one thread: `run(method, status, data, **body)` returns the violations."""

    def __init__(self) -> None:
        self.model = Model()
        self.clock = 1000.0

    def __call__(
        self, method: str, status: int, data: Any = None, *, wait: float = 0.0, **body: Any
    ) -> list[str]:
        self.clock += wait
        verdict = self.model.observe(
            TEAM, method, {"threadId": THREAD, **body}, status, data, self.clock, self.clock
        )
        self.last = verdict
        return verdict.violations

    def fresh_call(self, direction: str = "outgoing") -> None:
        assert self("call/end", 409) == []
        assert self("call/start", 200, {"direction": direction}, direction=direction) == []


@pytest.fixture
def run() -> Run:
    return Run()


# The table of docs/contract.md and the spec -------------------------------------------------


def test_the_operation_table_of_docs_is_the_models() -> None:
    text = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    assert operation_table() in text


def test_the_repeat_table_of_docs_is_the_models() -> None:
    text = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    assert repeat_table() in text


def test_no_operation_is_safe_to_repeat_after_a_lost_answer() -> None:
    # The generated client relies on it: it never retries an answer that may follow a request
    # the server carried out (docs/contract.md, "Retries"). An operation that becomes safe to
    # repeat needs the client to learn which.
    assert [method for method, rule in RULES.items() if repeated(rule).safe] == []
    assert repeated(RULES["call/start"]).missing is not None  # a repeated start meets 409
    assert repeated(RULES["call.user/invite"]).zero_count == "invitedUsersCount"


def test_the_event_table_of_docs_is_the_models() -> None:
    text = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    assert event_table() in text


def test_a_200_causes_one_event_per_counted_user_in_the_order_named() -> None:
    assert RULES["call.user/invite"].events_of([B, A]) == [
        ("call.user.invited", {"contactId": B}),
        ("call.user.invited", {"contactId": A}),
    ]
    assert RULES["call/pause"].events_of([]) == []
    assert RULES["call/start"].events_of() == [("call.created", {})]
    assert RULES["call.audio/play"].events_of() == []
    assert PLATFORM["hangup"].events_of([C]) == [("call.user.kicked", {"contactId": C})]


def test_the_model_knows_every_operation_and_data_field_of_the_spec() -> None:
    spec = load()
    assert set(RULES) == set(spec.operations)
    for method, rule in RULES.items():
        assert 409 in spec.operations[method].statuses
        assert rule.refusals <= set(spec.operations[method].statuses)
        if rule.users:  # a user operation answers its count, in its one field
            assert len(spec.operations[method].data_fields) == 1, method
    # Every field the rules give a kind is a field of some answer: a renamed one goes stale.
    answered = {name for operation in spec for name in operation.data_fields}
    assert set(DATA_KINDS) <= answered
    assert sum(1 for rule in RULES.values() if rule.starts_call) == 1
    assert sum(1 for rule in RULES.values() if rule.ends_call) == 1


def test_transition_names_are_distinct_and_name_their_operation() -> None:
    assert len(TRANSITIONS) == len(set(TRANSITIONS))
    for name in TRANSITIONS:
        assert name.split(":", 1)[0] in RULES, name
    assert "call.user/invite: user already in call, not counted" in TRANSITIONS
    assert "call/unpause: user never paused, not counted" in TRANSITIONS
    assert "call/start: again after end" in TRANSITIONS
    assert "call.recording/stop: nothing recorded -> 409" in TRANSITIONS


# Counts ------------------------------------------------------------------------------------


def test_invite_counts_only_users_not_yet_in_the_call(run: Run) -> None:
    run.fresh_call()
    assert run("call.user/invite", 200, {"invitedUsersCount": 1}, userId=A) == []
    assert run("call.user/invite", 200, {"invitedUsersCount": 1}, userIds=[A, B]) == []
    assert run("call.user/invite", 200, {"invitedUsersCount": 1}, userIds=[A, B]) == [
        (
            f"expected invitedUsersCount 0, got 1: user {A[:8]}... is in this call, not paused "
            f"(call.user/invite answered 200 at step 4); user {B[:8]}... is in this call, not "
            "paused (call.user/invite answered 200 at step 4)"
        )
    ]


def test_unpause_counts_only_paused_users(run: Run) -> None:
    run.fresh_call()
    assert run("call.user/invite", 200, {"invitedUsersCount": 2}, userIds=[A, B]) == []
    assert run("call/pause", 200, {"pausedUsersCount": 1}, userId=A) == []
    assert run("call/pause", 200, {"pausedUsersCount": 1}, userIds=[A, B]) == []
    assert run("call/unpause", 200, {"unpausedUsersCount": 2}, userIds=[A, B, C]) == []
    violations = run("call/unpause", 200, {"unpausedUsersCount": 1}, userId=A)
    assert violations and violations[0].startswith("expected unpausedUsersCount 0, got 1")
    assert "call/unpause: user never paused, not counted" not in run.last.transitions


def test_exclusion_takes_effect(run: Run) -> None:
    run.fresh_call()
    assert run("call.user/invite", 200, {"invitedUsersCount": 1}, userId=A) == []
    assert run("call.user/exclude", 200, {"excludedUsersCount": 1}, userId=A) == []
    # the user is out: excluding again counts nobody, inviting counts the user
    assert run("call.user/exclude", 200, {"excludedUsersCount": 1}, userId=A) != []


def test_userid_wins_over_userids(run: Run) -> None:
    run.fresh_call()
    assert run("call.user/invite", 200, {"invitedUsersCount": 1}, userId=A, userIds=[B, C]) == []
    assert run("call.user/invite", 200, {"invitedUsersCount": 2}, userIds=[A, B, C]) == []


def test_exclude_then_invite_counts_again(run: Run) -> None:
    run.fresh_call()
    run("call.user/invite", 200, {"invitedUsersCount": 1}, userId=A)
    run("call/pause", 200, {"pausedUsersCount": 1}, userId=A)
    run("call.user/exclude", 200, {"excludedUsersCount": 1}, userId=A)
    assert run("call.user/invite", 200, {"invitedUsersCount": 1}, userId=A) == []
    assert "call.user/invite: user excluded earlier, counted" in run.last.transitions
    # a re-invited user is not paused any more
    assert run("call/unpause", 200, {"unpausedUsersCount": 0}, userId=A) == []


# Statuses ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([("call/start", 200)], "expected 409, got 200: call/start needs no active call"),
        ([("call/end", 200), ("call/end", 200)], "expected 409, got 200: call/end needs an"),
        ([("call.recording/stop", 200)], "call.recording/stop needs recording: nothing recorded"),
        ([("call.stream/stop", 200)], "call.stream/stop needs streaming: nothing streamed"),
        ([("call.audio/stop", 200)], "call.audio/stop needs audio playing: no audio playing"),
        ([("call/pause", 409)], "expected 200, got 409: call/pause needs an active call"),
        ([("call.recording/start", 200), ("call.recording/start", 200)], "already recording"),
        ([("call.stream/start", 200), ("call.stream/start", 200)], "already streaming"),
        ([("call.recording/start", 409)], "expected 200, got 409: call.recording/start needs"),
    ],
)
def test_status_violations(run: Run, steps: list[tuple[str, int]], expected: str) -> None:
    run.fresh_call()
    data = {"fileUrl": "http://x/f.wav", "streamUrl": "http://x/s", **END_DATA}
    results = []
    for method, status in steps:
        fields = {k: v for k, v in data.items() if k in load().operations[method].data_fields}
        if method == "call/end":
            fields["direction"] = "outgoing"
        results.append(run(method, status, fields or None))
    assert results[:-1] == [[]] * (len(steps) - 1)
    assert results[-1] and expected in results[-1][0], results[-1]


def test_the_reason_names_the_step_that_established_the_fact(run: Run) -> None:
    run.fresh_call()
    run("call/end", 200, {**END_DATA, "direction": "outgoing"})
    (reason,) = run("call.user/invite", 200, {"invitedUsersCount": 0}, userId=A)
    assert reason == (
        "expected 409, got 200: call.user/invite needs an active call: no active call "
        "(call/end answered 200 at step 3)"
    )
    assert [e.step for e in run.last.sequence] == [3, 4]


def test_ending_a_call_stops_audio_recording_and_stream(run: Run) -> None:
    run.fresh_call()
    run("call.recording/start", 200)
    run("call.stream/start", 200, {"streamUrl": "http://x/s"})
    run("call.audio/play", 200, fileUrl="http://x/a.mp3")
    assert run("call/end", 200, {**END_DATA, "direction": "outgoing"}) == []
    assert {
        "call/end: while recording (stops it)",
        "call/end: while streaming (stops it)",
        "call/end: while audio may play (stops it)",
    } <= set(run.last.transitions)
    run("call/start", 200, {"direction": "outgoing"})
    assert "call/start: again after end" in run.last.transitions
    for method in ("call.recording/stop", "call.stream/stop", "call.audio/stop"):
        assert run(method, 409) == []


def test_audio_may_end_on_its_own(run: Run) -> None:
    run.fresh_call()
    run("call.audio/play", 200, fileUrl="http://x/a.mp3")
    assert run.model.expect(TEAM, "call.audio/stop", {"threadId": THREAD}).statuses == {200, 409}
    assert run("call.audio/stop", 409) == []
    assert run("call.audio/stop", 200) != []  # it ended: nothing plays now


def test_audio_play_may_be_refused_with_422(run: Run) -> None:
    run.fresh_call()
    assert run("call.audio/play", 422, fileUrl="http://x/huge.mp3") == []
    assert run("call.audio/stop", 200) != []


# Data --------------------------------------------------------------------------------------


def test_direction_is_echoed_as_asked_or_defaulted(run: Run) -> None:
    run("call/end", 409)
    assert run("call/start", 200, {"direction": "outgoing"}, direction="incoming") == [
        "expected direction incoming, got 'outgoing': the request asked for incoming"
    ]
    run("call/end", 200, {**END_DATA, "direction": "incoming"})
    assert run("call/start", 200, {"direction": "incoming"}) == [
        (
            "expected direction outgoing, got 'incoming': the request named no direction, "
            "which defaults to outgoing"
        )
    ]


def test_call_end_repeats_the_direction_of_the_call(run: Run) -> None:
    run.fresh_call("incoming")
    (reason,) = run("call/end", 200, {**END_DATA, "direction": "outgoing"})
    assert reason.startswith("expected direction incoming, got 'outgoing': the call started")


def test_url_fields_and_no_data(run: Run) -> None:
    run.fresh_call()
    assert run("call.recording/start", 200, {"x": 1}) == [
        "expected no data on call.recording/start, got {'x': 1}"
    ]
    run.fresh_call()
    run("call.recording/start", 200)
    assert run("call.recording/stop", 200, {"fileUrl": ""}) == [
        "expected fileUrl to be a URL, got ''"
    ]


def test_durations_follow_the_clock(run: Run) -> None:
    run.fresh_call()
    run("call.user/invite", 200, {"invitedUsersCount": 1}, wait=3, userId=A)
    ok = {"callDuration": 10, "dialogDuration": 7, "result": "answered", "direction": "outgoing"}
    assert run("call/end", 200, ok, wait=7) == []
    run.fresh_call()
    bad = {**ok, "callDuration": 30, "dialogDuration": 0}
    (reason, *rest) = run("call/end", 200, bad, wait=10)
    assert reason.startswith("expected callDuration between 9 and 11, got 30")
    assert rest == []  # dialogDuration 0 is right: nobody joined this call


def test_nobody_joined_means_no_dialog(run: Run) -> None:
    run.fresh_call()
    data = {"callDuration": 5, "dialogDuration": 2, "result": "x", "direction": "outgoing"}
    assert run("call/end", 200, data, wait=5) == [
        "expected dialogDuration 0, got 2: nobody joined this call"
    ]


def test_dialog_never_longer_than_call() -> None:
    model = Model()
    body = {"threadId": THREAD}
    data = {"callDuration": 3, "dialogDuration": 4, "result": "x", "direction": "outgoing"}
    (reason,) = model.observe(TEAM, "call/end", body, 200, data).violations
    assert reason == "expected dialogDuration <= callDuration, got 4 > 3"


def test_duration_bounds_allow_one_second_for_flooring() -> None:
    assert duration_bounds((0.0, 0.5), (10.0, 10.2)) == (8, 11)
    assert duration_bounds((5.0, 5.0), (5.0, 5.0)) == (0, 1)


# Unknown threads: learnt, never guessed ------------------------------------------------------


def test_unknown_threads_give_no_false_alarm() -> None:
    model = Model()
    body = {"threadId": THREAD, "userIds": [A, B]}
    for method, status, data in [
        ("call.recording/stop", 200, {"fileUrl": "http://x/f.wav"}),
        ("call.user/invite", 200, {"invitedUsersCount": 1}),
        ("call/unpause", 200, {"unpausedUsersCount": 1}),
        ("call/start", 409, None),
        ("call.stream/start", 409, None),
        ("call.audio/stop", 200, None),
    ]:
        assert model.observe(TEAM, method, body, status, data).violations == [], method


def test_answers_teach_the_model() -> None:
    model = Model()
    body = {"threadId": THREAD, "userIds": [A, B]}
    # a 200 on invite proves the call is active and both users are in it
    assert (
        model.observe(TEAM, "call.user/invite", body, 200, {"invitedUsersCount": 1}).violations
        == []
    )
    assert model.expect(TEAM, "call/start", body).statuses == {409}
    assert model.expect(TEAM, "call.user/invite", body).data == {"invitedUsersCount": 0}
    # their pause state is unknown: pausing both counts 0 to 2
    assert model.expect(TEAM, "call/pause", body).bounds == {"pausedUsersCount": (0, 2)}
    # a count at a bound settles it: 2 means neither was paused
    model.observe(TEAM, "call/pause", body, 200, {"pausedUsersCount": 2})
    assert model.expect(TEAM, "call/unpause", body).data == {"unpausedUsersCount": 2}


def test_a_409_on_start_proves_a_call_with_unknown_members() -> None:
    model = Model()
    body = {"threadId": THREAD, "userId": A}
    model.observe(TEAM, "call/start", {"threadId": THREAD}, 409)
    expected = model.expect(TEAM, "call.user/invite", body)
    assert expected.statuses == {200} and expected.bounds == {"invitedUsersCount": (0, 1)}


def test_forget_after_an_unjudged_change() -> None:
    model = Model()
    model.observe(TEAM, "call/end", {"threadId": THREAD}, 409)
    assert model.expect(TEAM, "call/start", {"threadId": THREAD}).statuses == {200}
    model.forget(TEAM, THREAD)
    assert model.expect(TEAM, "call/start", {"threadId": THREAD}).statuses == {200, 409}


def test_after_a_violation_one_fault_is_reported_once(run: Run) -> None:
    run.fresh_call()
    run("call/end", 200, {**END_DATA, "direction": "outgoing"})
    assert run("call.user/invite", 200, {"invitedUsersCount": 0}, userId=A) != []
    # the server may really have no call: its next 409 is no second violation
    assert run("call/pause", 409, userId=A) == []


def test_transitions_are_recorded() -> None:
    run = Run()
    run.fresh_call()
    run("call.recording/stop", 409)
    assert run.model.exercised["call.recording/stop: nothing recorded -> 409"] == 1
    assert "call.recording/stop: nothing recorded -> 409" not in run.model.never_exercised()
    assert all(re.match(r"[a-z./]+: ", name) for name in run.model.never_exercised())


def test_an_unknown_id_may_be_answered_404_a_known_one_never() -> None:
    """Outside the ids known to exist a 404 is allowed (a server with fixed ids) and changes
    nothing; inside them it is a violation; without known ids every id may be unknown."""
    from contract.fixtures import Fixtures

    known, other = "5b0525134c0319001573485e", "5b0525134c0319001573485f"
    user = "5b4458eb1b2b33001bf213bf"
    model = Model(known=Fixtures((known,), (user,)))
    assert not model.observe(TEAM, "call/start", {"threadId": other}, 404).violations
    assert not model.observe(TEAM, "call/start", {"threadId": other}, 200).violations
    body = {"threadId": known, "userId": "5b4458eb1b2b33001bf213bc"}
    assert not model.observe(TEAM, "call.user/invite", body, 404).violations
    verdict = model.observe(TEAM, "call/start", {"threadId": known}, 404)
    assert verdict.violations and "known to exist" in verdict.violations[0]
    assert not Model().observe(TEAM, "call/start", {"threadId": known}, 404).violations
