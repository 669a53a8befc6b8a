"""The judge of call events without a server: which events an answer causes
(`contract.expected_events`), what the receiver finds wrong with a delivery
(`fuzzing.event_receiver`), and how deliveries are paired with what was caused
(`fuzzing.event_match`), one fault class at a time."""

from __future__ import annotations

import http.client
import json
import secrets
import time
import urllib.request
from typing import Any

import pytest

from contract.demo import BOT_ID, SECRET_KEY, TEAM, thread, user
from contract.expected_events import Caused, Expected, expected
from contract.rules import RULES
from contract.signing import Bot
from fuzzing import event_match
from fuzzing.event_match import Cause, match
from fuzzing.event_receiver import PATH, Arrival, EventSchemas, Receiver, signature_fault
from reference_server.events import stream_id

BOT = Bot(BOT_ID, SECRET_KEY)
T = thread(1)
A, B, C = user(1), user(2), user(3)
BOTH = frozenset({True, False})


# -- which events an answer causes ----------------------------------------------------------


def test_an_invite_that_counted_two_users_causes_one_invited_each_in_the_order_named() -> None:
    before = {A: frozenset({True}), B: frozenset({True})}
    caused = expected("call.user/invite", {"threadId": T, "userIds": [A, B]}, 200, None, before)
    assert caused.events == (
        Expected("call.user.invited", {"contactId": A}),
        Expected("call.user.invited", {"contactId": B}),
    )
    assert caused.exactly == 0 and caused.judged


@pytest.mark.parametrize("status", [400, 401, 403, 409, 413, 415])
def test_a_refused_request_causes_nothing(status: int) -> None:
    caused = expected("call/start", {"threadId": T}, status, None, {})
    assert caused.refused and not caused.events


def test_users_the_model_was_unsure_of_may_come_as_many_as_the_count_says() -> None:
    before = {A: frozenset({True}), B: BOTH, C: BOTH}
    body = {"threadId": T, "userIds": [A, B, C]}
    caused = expected("call.user/invite", body, 200, {"invitedUsersCount": 2}, before)
    assert [(e.fields["contactId"], e.certain) for e in caused.events] == [
        (A, True),
        (B, False),
        (C, False),
    ]
    assert caused.exactly == 1
    # A count that settles them: all of them, or none of the unsure ones.
    every = expected("call.user/invite", body, 200, {"invitedUsersCount": 3}, before)
    assert all(e.certain for e in every.events) and len(every.events) == 3
    sure = expected("call.user/invite", body, 200, {"invitedUsersCount": 1}, before)
    assert [e.fields["contactId"] for e in sure.events] == [A]


def test_a_server_error_or_an_answer_not_judged_holds_the_events_to_nothing() -> None:
    body = {"threadId": T, "userId": A}
    for caused in (
        expected("call/pause", body, 500, None, {A: frozenset({True})}),
        expected("call/pause", body, 200, {"pausedUsersCount": 1}, None),
    ):
        assert caused.loose == ("call.user.held",) and not caused.judged


def test_an_operation_without_events_causes_none() -> None:
    caused = expected("call.recording/start", {"threadId": T}, 200, None, {})
    assert caused == Caused() and caused.describe() == "no event"


# -- the receiver ---------------------------------------------------------------------------


def _event(kind: str, **fields: Any) -> dict[str, Any]:
    event = {"eventType": kind, "threadId": T, "streamId": stream_id(TEAM), **fields}
    event["eventId"] = secrets.token_hex(16)
    if "contactId" in fields:
        event["phoneNumber"] = "80000000001"
    if kind == "call.created":
        event.setdefault("createdAt", int(time.time() * 1000))
    return event


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", **headers}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(answer.status)


def test_the_receiver_takes_every_delivery_and_says_what_is_wrong_with_it() -> None:
    good = json.dumps(_event("call.ended")).encode()
    unknown = json.dumps(_event("call.user.hold", userId=A)).encode()
    with Receiver(BOT) as receiver:
        assert _post(receiver.url, good, BOT.headers(good)) == 204
        assert _post(receiver.url, good, Bot(BOT_ID, "another key").headers(good)) == 204
        assert _post(receiver.url, unknown, BOT.headers(unknown)) == 204
        first, forged, held = receiver.arrivals()
    assert not first.unsigned and not first.malformed and first.event_type == "call.ended"
    assert "X-Signature is not the bot's signature" in forged.unsigned
    assert "'call.user.hold' is none of the contract's" in held.malformed


def test_the_receiver_takes_only_posts_of_a_known_length_and_keeps_the_connection() -> None:
    body = json.dumps(_event("call.ended")).encode()
    with Receiver(BOT) as receiver:
        address = receiver.url.removeprefix("http://").split("/")[0]
        host, port = address.rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        for _ in range(2):  # one connection, kept alive
            connection.request("POST", PATH, body=body, headers=BOT.headers(body))
            answer = connection.getresponse()
            assert (answer.status, answer.read()) == (204, b"")
        connection.request("GET", PATH)
        assert connection.getresponse().status == 405
        connection.close()
        chunked = http.client.HTTPConnection(host, int(port), timeout=10)
        chunked.putrequest("POST", PATH)  # the head alone: it is answered before any body
        chunked.putheader("Transfer-Encoding", "chunked")
        chunked.endheaders()
        assert chunked.getresponse().status == 411
        chunked.close()
        assert len(receiver.arrivals()) == 2


def test_a_delivery_signature_is_checked_like_a_request_signature() -> None:
    body = b'{"eventType":"call.ended"}'
    now = time.time()
    assert signature_fault(BOT, BOT.headers(body), body, now) == ""
    assert "no X-Signature" in signature_fault(
        BOT, {"X-Bot-Id": BOT_ID, "X-timestamp": "1"}, body, now
    )
    zero = {**BOT.headers(body), "X-timestamp": "0" + str(int(now))}
    assert "not the digits of whole Unix seconds" in signature_fault(BOT, zero, body, now)
    stale = BOT.headers(body, timestamp=int(now) - 301)
    assert "301 s off" in signature_fault(BOT, stale, body, now)
    other = Bot("c" * 24, SECRET_KEY).headers(body)
    assert "is not the bot" in signature_fault(BOT, other, body, now)
    assert "not the bot's signature" in signature_fault(BOT, BOT.headers(body), body + b" ", now)


def test_an_event_is_checked_against_its_schema() -> None:
    schemas = EventSchemas()
    assert schemas.fault(_event("call.user.held", userId=A)) == ""
    assert "userId" in schemas.fault({**_event("call.user.held"), "contactId": A})


# -- pairing deliveries with what was caused --------------------------------------------------

_STEP = [0]


def _cause(method: str, body: dict[str, Any], status: int, data: Any = None, **known: Any) -> Cause:
    rule = RULES[method]
    users = [body["userId"]] if "userId" in body else body.get("userIds", [])
    before = {u: frozenset({True}) for u in users} if rule.users else {}
    _STEP[0] += 1
    now = time.time() - 5 + _STEP[0] * 0.001
    return Cause(
        body["threadId"],
        _STEP[0],
        method,
        body,
        status,
        now,
        now,
        expected(method, body, status, data, known.get("before", before)),
    )


def _arrival(number: int, event: dict[str, Any], **faults: str) -> Arrival:
    body = json.dumps(event).encode()
    return Arrival(number, body, time.time(), event, **faults)


def _came(*events: dict[str, Any]) -> list[Arrival]:
    return [_arrival(n, e) for n, e in enumerate(events, 1)]


def _kinds(causes: list[Cause], arrivals: list[Arrival]) -> list[str]:
    return [f.kind for f in match(causes, arrivals).findings]


def _call() -> list[Cause]:
    """A call started, two users invited, then the call ended."""
    return [
        _cause("call/start", {"threadId": T}, 200),
        _cause("call.user/invite", {"threadId": T, "userIds": [A, B]}, 200),
        _cause("call/end", {"threadId": T}, 200),
    ]


def _call_events() -> list[dict[str, Any]]:
    return [
        _event("call.created"),
        _event("call.user.invited", contactId=A),
        _event("call.user.invited", contactId=B),
        _event("call.ended"),
    ]


def test_the_events_of_a_call_as_caused_keep_the_contract() -> None:
    events = _call_events()
    outcome = match(_call(), _came(*events, events[1]))  # a repeat: same eventId, same body
    assert outcome.findings == [] and outcome.complete
    assert outcome.repeats == 1 and outcome.distinct == 4


def test_an_event_that_never_came_is_missing_and_the_run_waits_for_it() -> None:
    events = _call_events()
    outcome = match(_call(), _came(events[0], events[1], events[3]))
    assert [f.kind for f in outcome.findings] == [event_match.MISSING]
    finding = outcome.findings[0]
    assert finding.expected == f"call.user.invited (contactId {B})" and finding.came == "nothing"
    assert finding.cause is not None and finding.cause.method == "call.user/invite"
    assert not outcome.complete


def test_an_event_no_answer_caused_is_extra() -> None:
    stray = _event("call.user.held", userId=C)
    assert _kinds(_call(), _came(*_call_events(), stray)) == [event_match.EXTRA]


def test_a_second_event_with_another_id_for_one_change_is_duplicated() -> None:
    events = _call_events()
    again = {**events[1], "eventId": secrets.token_hex(16)}
    findings = match(_call(), _came(events[0], events[1], again, *events[2:])).findings
    assert [f.kind for f in findings] == [event_match.DUPLICATED]
    assert findings[0].cause is not None and findings[0].cause.method == "call.user/invite"


def test_one_event_id_for_two_bodies_is_duplicated() -> None:
    events = _call_events()
    reused = {**events[2], "eventId": events[1]["eventId"]}
    kinds = _kinds(_call(), _came(events[0], events[1], reused, events[3]))
    assert event_match.DUPLICATED in kinds


def test_events_that_came_in_another_order_than_caused_are_out_of_order() -> None:
    created, first, second, ended = _call_events()
    findings = match(_call(), _came(created, second, first, ended)).findings
    assert [f.kind for f in findings] == [event_match.OUT_OF_ORDER]
    assert findings[0].expected == (
        f"call.user.invited (contactId {A}) before call.user.invited (contactId {B})"
    )


def test_an_event_with_another_user_than_caused_has_a_wrong_field() -> None:
    created, first, second, ended = _call_events()
    wrong = {**second, "contactId": C}
    findings = match(_call(), _came(created, first, wrong, ended)).findings
    assert [f.kind for f in findings] == [event_match.WRONG_FIELD]
    assert findings[0].expected == f'contactId "{B}"' and findings[0].came == f'contactId "{C}"'


def test_an_event_with_another_stream_or_a_time_in_seconds_has_a_wrong_field() -> None:
    created, first, second, ended = _call_events()
    seconds = {**created, "createdAt": int(time.time())}
    elsewhere = {**ended, "streamId": "f" * 24}
    kinds = _kinds(_call(), _came(seconds, first, second, elsewhere))
    assert kinds == [event_match.WRONG_FIELD, event_match.WRONG_FIELD]


def test_a_badly_signed_delivery_is_reported_and_still_paired() -> None:
    events = _call_events()
    arrivals = _came(*events)
    arrivals[0].unsigned = "X-Signature is not the bot's signature of the body as sent"
    assert _kinds(_call(), arrivals) == [event_match.UNSIGNED]


def test_an_event_for_a_refused_request_is_reported_as_such() -> None:
    causes = [_cause("call/end", {"threadId": T}, 409)]
    findings = match(causes, _came(_event("call.ended"))).findings
    assert [f.kind for f in findings] == [event_match.REFUSED]
    assert findings[0].cause is causes[0]


def test_an_answer_the_model_could_not_judge_lets_its_events_come_or_not() -> None:
    unjudged = _cause("call.user/invite", {"threadId": T, "userId": A}, 200, before=None)
    assert match([unjudged], []).complete
    assert _kinds([unjudged], _came(_event("call.user.invited", contactId=A))) == []


def test_of_users_the_model_was_unsure_of_the_count_says_how_many_must_come() -> None:
    body = {"threadId": T, "userIds": [A, B]}
    unsure = {A: BOTH, B: BOTH}
    causes = [_cause("call.user/invite", body, 200, {"invitedUsersCount": 1}, before=unsure)]
    assert _kinds(causes, _came(_event("call.user.invited", contactId=B))) == []
    assert _kinds(causes, []) == [event_match.MISSING]
    both = _came(_event("call.user.invited", contactId=A), _event("call.user.invited", contactId=B))
    assert _kinds(causes, both) == [event_match.EXTRA]


def test_an_event_is_not_taken_for_one_that_may_come_once_the_count_is_met() -> None:
    """Of A and B the invite counted one (A came); B invited next must be the second
    invite's, not the first's."""
    unsure = {A: BOTH, B: BOTH}
    body = {"threadId": T, "userIds": [A, B]}
    causes = [
        _cause("call.user/invite", body, 200, {"invitedUsersCount": 1}, before=unsure),
        _cause("call.user/invite", {"threadId": T, "userId": B}, 200),
    ]
    both = _came(_event("call.user.invited", contactId=A), _event("call.user.invited", contactId=B))
    assert _kinds(causes, both) == []


def test_an_event_of_a_later_change_is_not_taken_for_a_repeat_of_the_last_one() -> None:
    """call.ended never came; the next call's call.created is that call's, not a second one
    of the call before (its request went out after the first call.created came)."""
    first, end, second = (
        _cause("call/start", {"threadId": T}, 200),
        _cause("call/end", {"threadId": T}, 200),
        _cause("call/start", {"threadId": T}, 200),
    )
    end.sent = end.answered = first.answered + 0.5
    second.sent = second.answered = first.answered + 1.0
    arrivals = _came(_event("call.created"), _event("call.created"))
    arrivals[0].received = first.answered
    arrivals[1].received = second.answered
    assert _kinds([first, end, second], arrivals) == [event_match.MISSING]


def test_a_repeat_with_another_id_is_told_from_the_same_event_of_a_later_change() -> None:
    causes = [
        _cause("call.user/invite", {"threadId": T, "userIds": [A, B]}, 200),
        _cause("call.user/exclude", {"threadId": T, "userId": A}, 200),
        _cause("call.user/invite", {"threadId": T, "userId": A}, 200),
    ]
    first = _event("call.user.invited", contactId=A)
    arrivals = _came(
        first,
        {**first, "eventId": secrets.token_hex(16)},
        _event("call.user.invited", contactId=B),
        _event("call.user.kicked", contactId=A),
        _event("call.user.invited", contactId=A),
    )
    assert _kinds(causes, arrivals) == [event_match.DUPLICATED]
