"""The reference server delivers the call events to a real receiver on 127.0.0.1: the events
each change causes, in order, signed, valid against the spec, retried when not taken, after
a restart too, never for a refused request, and never holding back an answer."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("workonflow_call_models", reason="the generated models are not installed")

from contract import demo
from reference_server import DEMO_BOT, App, create_app
from reference_server.__main__ import parse_webhooks
from reference_server.auth import Bot
from reference_server.events import Recorder, new_ids, recorder_for, thread_key
from reference_server.testing import ServerProcess, serve_in_thread
from testkit.receiver import Receiver
from testkit.signed_requests import BotAuth, signed
from testkit.spec import SpecSchemas

TEAM = demo.TEAM
THREAD, OTHER_THREAD = demo.THREADS[:2]
A, B, C = demo.USERS


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


class Sandbox:
    """The reference server in a thread, its webhook at `receiver`, and a signing client."""

    def __init__(self, app: App, base_url: str) -> None:
        self.app = app
        self.client = httpx.Client(base_url=base_url, auth=BotAuth(), timeout=30)

    def post(self, method: str, **body: Any) -> httpx.Response:
        return self.client.post(f"/{TEAM}/{method}", json={"threadId": THREAD, **body})

    def control(self, name: str, **body: Any) -> httpx.Response:
        return self.client.post(f"/_sandbox/{TEAM}/{name}", json={"threadId": THREAD, **body})


@pytest.fixture
def sandbox(receiver: Receiver) -> Iterator[Sandbox]:
    app = create_app(":memory:", webhooks=[receiver.url], retry_base=0.05)
    with serve_in_thread(app) as base_url:
        yield Sandbox(app, base_url)
    app.close()


def summary(event: dict[str, Any]) -> tuple[str, ...]:
    """The event's type and the user it names, if any."""
    user = event.get("contactId") or event.get("userId") or event.get("dtmfNumber")
    return (event["eventType"], user) if user else (event["eventType"],)


def test_each_change_causes_its_events_in_order_signed_and_valid(
    sandbox: Sandbox, receiver: Receiver, schemas: SpecSchemas
) -> None:
    assert sandbox.post("call/start").status_code == 200
    invited = sandbox.post("call.user/invite", userIds=[A, B])
    assert invited.json()["data"] == {"invitedUsersCount": 2}
    # A is in the call already: one counted, one event.
    assert sandbox.post("call.user/invite", userIds=[A, C]).json()["data"] == {
        "invitedUsersCount": 1
    }
    assert sandbox.post("call/pause", userIds=[B, A]).json()["data"] == {"pausedUsersCount": 2}
    assert sandbox.post("call/unpause", userId=A).json()["data"] == {"unpausedUsersCount": 1}
    assert sandbox.post("call.recording/start").status_code == 200  # causes nothing
    assert sandbox.post("call.user/exclude", userIds=[C]).status_code == 200
    assert sandbox.post("call/end").status_code == 200

    events = receiver.wait_for(9)
    assert [summary(event) for event in events] == [
        ("call.created",),
        ("call.user.invited", A),
        ("call.user.invited", B),
        ("call.user.invited", C),
        ("call.user.held", B),
        ("call.user.held", A),
        ("call.user.unheld", A),
        ("call.user.kicked", C),
        ("call.ended",),
    ]
    for attempt, event in zip(receiver.taken, events, strict=True):
        assert schemas.event_errors(event) == [], event
        assert event["threadId"] == THREAD
        # Signed as the demo bot over the body exactly as sent (checked here on its own).
        headers = attempt.headers
        assert headers["x-bot-id"] == demo.BOT_ID
        assert headers["content-type"] == "application/json"
        material = f"{demo.BOT_ID}{demo.SECRET_KEY}{headers['x-timestamp']}".encode()
        expected = hashlib.sha256(material + attempt.body).hexdigest()
        assert hmac.compare_digest(headers["x-signature"], expected)
    assert len({event["streamId"] for event in events}) == 1
    assert len({event["eventId"] for event in events}) == len(events)
    # createdAt: Unix milliseconds.
    assert events[0]["createdAt"] > 10**12
    assert len(receiver.attempts) == 9  # nothing else was sent


def test_a_refused_request_causes_no_event(sandbox: Sandbox, receiver: Receiver) -> None:
    assert sandbox.post("call/end").status_code == 409
    assert sandbox.post("call.user/invite", userId=A).status_code == 409
    assert sandbox.post("call/start", direction="sideways").status_code == 400
    body = json.dumps({"threadId": THREAD}).encode()
    unsigned = httpx.post(
        f"{sandbox.client.base_url}/{TEAM}/call/start",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert unsigned.status_code == 401
    forged = signed(body) | {"X-Signature": "0" * 64}
    assert httpx.post(unsigned.url, content=body, headers=forged).status_code == 401
    assert sandbox.control("dtmf", dtmfNumber="5").status_code == 409  # no call
    # The one change that follows is the first event the receiver gets, and the only one.
    assert sandbox.post("call/start").status_code == 200
    assert sandbox.post("call/start").status_code == 409
    assert sandbox.post("call/pause", userId=A).json()["data"] == {"pausedUsersCount": 0}
    assert sandbox.post("call/end").status_code == 200
    assert [summary(event) for event in receiver.wait_for(2)] == [
        ("call.created",),
        ("call.ended",),
    ]
    assert len(receiver.attempts) == 2


def test_what_only_the_platform_causes_comes_from_control_requests(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    assert sandbox.post("call/start").status_code == 200
    assert sandbox.post("call.user/invite", userIds=[A, B]).status_code == 200
    hangup = sandbox.control("hangup", userIds=[B, C])  # C was never in the call
    assert hangup.json() == {"code": 200, "message": "OK", "data": {"hungUpUsersCount": 1}}
    assert sandbox.control("dtmf", dtmfNumber="*").json() == {"code": 200, "message": "OK"}
    wrong_key = sandbox.control("dtmf", dtmfNumber="12")
    assert wrong_key.status_code == 400
    assert wrong_key.json()["errors"][0]["field"] == "dtmfNumber"
    assert sandbox.client.post(f"/_sandbox/{TEAM}/ring", json={}).status_code == 404
    # The user who hung up is out of the call: excluding B counts nobody.
    assert sandbox.post("call.user/exclude", userId=B).json()["data"] == {"excludedUsersCount": 0}
    assert [summary(event) for event in receiver.wait_for(5)] == [
        ("call.created",),
        ("call.user.invited", A),
        ("call.user.invited", B),
        ("call.user.kicked", B),
        ("call.dtmf", "*"),
    ]


def test_an_event_not_taken_is_sent_again_with_the_same_id(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    receiver.refusing = 500
    assert sandbox.post("call/start").status_code == 200
    receiver.wait(lambda: len(receiver.attempts) >= 3, "three attempts")
    receiver.refusing = None
    assert sandbox.post("call/end").status_code == 200
    events = receiver.wait_for(2)
    assert [summary(event) for event in events] == [("call.created",), ("call.ended",)]
    created = [a for a in receiver.attempts if a.event["eventType"] == "call.created"]
    assert len(created) >= 4  # three refused, then taken
    assert {a.event["eventId"] for a in created} == {events[0]["eventId"]}
    # The later event of the thread waited for the first to be taken.
    first_ended = next(i for i, a in enumerate(receiver.attempts) if a.event == events[1])
    assert all(a.status == 500 for a in receiver.attempts[: first_ended - 1])


def test_the_answer_does_not_wait_for_a_slow_receiver(sandbox: Sandbox, receiver: Receiver) -> None:
    receiver.hold()
    assert sandbox.post("call/start").status_code == 200
    # The receiver has the event and keeps it waiting; the server answers meanwhile.
    receiver.wait(lambda: receiver.waiting == 1, "the delivery of call.created")
    assert sandbox.post("call.user/invite", userId=A).status_code == 200
    assert sandbox.post("call/end").status_code == 200
    assert receiver.waiting == 1 and receiver.attempts == []
    receiver.release()
    assert [summary(event) for event in receiver.wait_for(3)] == [
        ("call.created",),
        ("call.user.invited", A),
        ("call.ended",),
    ]


def test_a_full_outbox_refuses_the_change_and_keeps_the_state(receiver: Receiver) -> None:
    receiver.refusing = 503
    app = create_app(":memory:", webhooks=[receiver.url], max_pending=2, retry_base=0.05)
    with serve_in_thread(app) as base_url:
        sandbox = Sandbox(app, base_url)
        assert sandbox.post("call/start").status_code == 200
        assert sandbox.post("call.user/invite", userId=A).status_code == 200
        full = sandbox.post("call.user/invite", userId=B)
        assert full.status_code == 503
        assert "Retry-After" in full.headers
        assert app.store.participants(TEAM, THREAD) == {A: False}
        assert app.store.outbox_pending() == 2
        receiver.refusing = None
        receiver.wait_for(2)
        receiver.wait(lambda: app.store.outbox_pending() == 0, "an empty outbox")
        assert sandbox.post("call.user/invite", userId=B).status_code == 200
        assert [summary(event) for event in receiver.wait_for(3)][-1] == ("call.user.invited", B)
    app.close()


def test_events_answered_before_a_kill_are_delivered_after_the_restart(
    tmp_path: Path, receiver: Receiver
) -> None:
    database = tmp_path / "calls.sqlite3"
    args = ["--database", str(database), "--quiet", "--webhook", receiver.url]
    receiver.refusing = 503
    with ServerProcess([*args, "--webhook-retry", "0.05"]) as server:
        auth = BotAuth()
        url = f"{server.base_url}/{TEAM}"
        for method, body in [
            ("call/start", {"threadId": THREAD}),
            ("call.user/invite", {"threadId": THREAD, "userIds": [A, B]}),
            ("call/start", {"threadId": OTHER_THREAD}),
        ]:
            assert httpx.post(f"{url}/{method}", json=body, auth=auth).status_code == 200
        receiver.wait(lambda: len(receiver.attempts) >= 2, "attempts before the kill")
        server.kill()
    with sqlite3.connect(database) as db:  # a row per change: the invite's two in one
        assert db.execute("SELECT COUNT(*), sum(events) FROM outbox").fetchone() == (3, 4)
    receiver.refusing = None
    with ServerProcess(args):
        events = receiver.wait_for(4)
    in_thread = [summary(e) for e in events if e["threadId"] == THREAD]
    assert in_thread == [("call.created",), ("call.user.invited", A), ("call.user.invited", B)]
    assert [summary(e) for e in events if e["threadId"] == OTHER_THREAD] == [("call.created",)]
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM outbox").fetchone() == (0,)


def test_an_outbox_row_holds_a_changes_facts_and_makes_the_same_bodies_each_time() -> None:
    recorder = recorder_for(["http://127.0.0.1:9/events"], {demo.BOT_ID: [TEAM]})
    assert recorder is not None
    key = thread_key(TEAM, THREAD)
    for method, counted, values in [
        ("call.user/invite", [A, B], None),
        ("call/start", [], {"createdAt": 1_700_000_000_123}),
        ("dtmf", [], {"dtmfNumber": "1"}),
    ]:
        ids = new_ids(recorder.count(method, counted, values))
        facts = recorder.facts(method, counted, values, ids)
        made = recorder.expand(key, facts)
        assert made == recorder.expand(key, facts)
        assert made == recorder.bodies(TEAM, THREAD, method, counted, values, ids)
        events = [json.loads(body) for body in made]
        assert "".join(event["eventId"] for event in events) == ids
        assert all(event["threadId"] == THREAD for event in events)
        for name, value in (values or {}).items():  # the values keep their JSON types
            assert [event[name] for event in events] == [value]
        assert [event.get("contactId") for event in events if "contactId" in event] == counted


@pytest.mark.parametrize("database", [":memory:", "file"])
def test_each_event_goes_to_each_bot_of_the_team_in_order(
    database: str, tmp_path: Path, receiver: Receiver
) -> None:
    """A change's row holds its events for every bot installed in its team: each event is
    sent once per bot (signed as it), and the row leaves the outbox after the last."""
    other = Bot("0123456789abcdef0123abcd", "the other bot's key", frozenset({TEAM}))
    where = ":memory:" if database == ":memory:" else str(tmp_path / "calls.sqlite3")
    app = create_app(where, bots=[DEMO_BOT, other], webhooks=[receiver.url], retry_base=0.05)
    with serve_in_thread(app) as base_url:
        sandbox = Sandbox(app, base_url)
        assert sandbox.post("call/start").status_code == 200
        assert sandbox.post("call.user/invite", userIds=[A, B]).status_code == 200
        events = receiver.wait_for(6)
        receiver.wait(lambda: app.store.outbox_pending() == 0, "an empty outbox")
    app.close()
    sent = [
        (summary(event), attempt.headers["x-bot-id"])
        for attempt, event in zip(receiver.taken, events, strict=True)
    ]
    assert sent == [
        (("call.created",), demo.BOT_ID),
        (("call.created",), other.bot_id),
        (("call.user.invited", A), demo.BOT_ID),
        (("call.user.invited", A), other.bot_id),
        (("call.user.invited", B), demo.BOT_ID),
        (("call.user.invited", B), other.bot_id),
    ]
    # The same event, with the same id, once per bot.
    assert [event["eventId"] for event in events[::2]] == [e["eventId"] for e in events[1::2]]


def test_a_user_id_that_would_break_the_row_of_facts_is_refused() -> None:
    for user in ["a,b", "a\tb"]:
        with pytest.raises(ValueError, match="comma or a tab"):
            Recorder.facts("call.user/invite", [A, user], None, new_ids(2))


def test_an_outbox_of_an_earlier_version_is_delivered_as_it_was_written(
    tmp_path: Path, receiver: Receiver
) -> None:
    """Its rows hold an event's body each, for one bot, and it has no `events` column."""
    database = tmp_path / "calls.sqlite3"
    event = {
        "eventType": "call.created",
        "threadId": THREAD,
        "streamId": "0123456789abcdef01234567",
        "createdAt": 1_700_000_000_000,
        "eventId": "ab" * 16,
    }
    with sqlite3.connect(database) as db:
        db.execute(
            "CREATE TABLE outbox (seq INTEGER PRIMARY KEY, webhook TEXT NOT NULL,"
            " bot_id TEXT NOT NULL, thread_key TEXT NOT NULL, body BLOB NOT NULL,"
            " attempts INTEGER NOT NULL DEFAULT 0, next_at REAL)"
        )
        db.execute(
            "INSERT INTO outbox (webhook, bot_id, thread_key, body) VALUES (?, ?, ?, ?)",
            (receiver.url, demo.BOT_ID, thread_key(TEAM, THREAD), json.dumps(event).encode()),
        )
    with ServerProcess(["--database", str(database), "--quiet", "--webhook", receiver.url]):
        assert receiver.wait_for(1) == [event]
        receiver.wait(lambda: _outbox_rows(database) == 0, "an empty outbox")
    assert receiver.taken[0].headers["x-bot-id"] == demo.BOT_ID


def _outbox_rows(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


def test_webhooks_come_from_the_environment_and_the_options_each_once() -> None:
    hooks = parse_webhooks("http://127.0.0.1:9/a; https://example.test/b", ["http://127.0.0.1:9/a"])
    assert hooks == ["http://127.0.0.1:9/a", "https://example.test/b"]
    with pytest.raises(ValueError, match="'ftp://host/x': an http:// or https:// URL is needed"):
        parse_webhooks(None, ["ftp://host/x"])


def test_an_application_served_again_delivers_again(receiver: Receiver) -> None:
    app = create_app(":memory:", webhooks=[receiver.url])
    for thread in (THREAD, OTHER_THREAD):
        with serve_in_thread(app) as base_url:
            response = httpx.post(
                f"{base_url}/{TEAM}/call/start", json={"threadId": thread}, auth=BotAuth()
            )
            assert response.status_code == 200
    receiver.wait(lambda: len(receiver.taken) == 2, "a call.created of each thread")
    assert [attempt.event["threadId"] for attempt in receiver.taken] == [THREAD, OTHER_THREAD]
    app.close()


def test_two_processes_on_one_database_deliver_each_threads_events_in_order(
    tmp_path: Path, receiver: Receiver
) -> None:
    """Each process keeps the outbox in memory; the other's commits make it read the table
    again, so that an event written by one is never sent before the one before it in its
    thread, written by the other (either may send an event again: at least once)."""
    database = tmp_path / "shared.sqlite3"
    args = ["--database", str(database), "--quiet", "--webhook", receiver.url]
    args += ["--webhook-retry", "0.05"]
    steps: list[tuple[str, dict[str, Any]]] = [
        ("call/start", {}),
        ("call.user/invite", {"userIds": [A, B]}),
        ("call/pause", {"userId": A}),
        ("call/unpause", {"userId": A}),
        ("call.user/exclude", {"userId": B}),
        ("call/end", {}),
    ]
    receiver.refusing = 503  # nothing is taken until every change was made
    with ServerProcess(args) as first, ServerProcess(args) as second:
        auth = BotAuth()
        for number, (method, body) in enumerate(steps * 2):
            thread = (THREAD, OTHER_THREAD)[number // len(steps)]
            server = (first, second)[number % 2]  # each change on the other process
            url = f"{server.base_url}/{TEAM}/{method}"
            assert httpx.post(url, json={"threadId": thread, **body}, auth=auth).status_code == 200
        receiver.wait(lambda: len(receiver.attempts) >= 8, "attempts refused")
        receiver.refusing = None

        def firsts() -> list[dict[str, Any]]:
            seen: dict[str, dict[str, Any]] = {}
            for attempt in receiver.taken:
                seen.setdefault(attempt.event["eventId"], attempt.event)
            return list(seen.values())

        receiver.wait(lambda: len(firsts()) == 14, "the 14 events")

        def outbox() -> int:
            with sqlite3.connect(database) as db:
                return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

        receiver.wait(lambda: outbox() == 0, "an empty outbox")
    expected = [
        ("call.created",),
        ("call.user.invited", A),
        ("call.user.invited", B),
        ("call.user.held", A),
        ("call.user.unheld", A),
        ("call.user.kicked", B),
        ("call.ended",),
    ]
    for thread in (THREAD, OTHER_THREAD):
        assert [summary(e) for e in firsts() if e["threadId"] == thread] == expected
        # Until its first event was taken, neither process sent a later one of the thread.
        attempts = [a for a in receiver.attempts if a.event["threadId"] == thread]
        first_taken = next(n for n, a in enumerate(attempts) if a.status == 204)
        assert {a.event["eventType"] for a in attempts[: first_taken + 1]} == {"call.created"}
