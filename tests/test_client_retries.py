"""CallApi and AsyncCallApi under real conditions: retries, errors by kind, per-call options,
logging.

The faults come from a scripted server on 127.0.0.1 (`testkit.scripted`): `429`/`503` with a
`Retry-After` that is honest or lies (huge, negative, a date in the past), `502`, a connection
reset after the request was read, a port that refuses connections. The sandbox (the reference
server) answers `503` with `Retry-After` while another process holds its database's lock.
Waits are observed through an injected sleep function (nothing sleeps), signatures through an
injected clock that ticks once per request, so that each attempt has its own timestamp.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("workonflow_call", reason="the generated client is not installed")
pytest.importorskip("workonflow_call_models", reason="the generated models are not installed")

from workonflow_call import (
    AsyncCallApi,
    CallApi,
    CallApiError,
    Conflict,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    Unauthorized,
    UnsupportedMediaType,
)

from contract import demo
from contract.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from contract.spec import load
from reference_server import create_app
from reference_server.testing import serve_in_thread
from testkit.scripted import OK, RESET, Answer, ScriptedServer

TEAM, BOT_ID, SECRET_KEY = demo.TEAM, demo.BOT_ID, demo.SECRET_KEY
THREAD = demo.THREADS[0]


class Waits:
    """The injected sleep: records each wait, and may run something during one."""

    def __init__(self, during: Any = None) -> None:
        self.seconds: list[float] = []
        self.during = during

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        if self.during is not None:
            self.during()

    async def asleep(self, seconds: float) -> None:
        self(seconds)


def ticking_clock() -> Any:
    """A clock one second later at each reading, starting now: a new timestamp per attempt."""
    start = int(time.time())
    ticks = itertools.count()
    return lambda: float(start + next(ticks))


def bot_api(base_url: str, waits: Waits, **options: Any) -> CallApi:
    return CallApi(
        base_url,
        bot_id=BOT_ID,
        secret_key=SECRET_KEY,
        team_id=TEAM,
        sleep=waits,
        clock=options.pop("clock", ticking_clock()),
        **options,
    )


def async_start(base_url: str, waits: Waits, **options: Any) -> Any:
    async def run() -> Any:
        async with AsyncCallApi(
            base_url,
            bot_id=BOT_ID,
            secret_key=SECRET_KEY,
            team_id=TEAM,
            sleep=waits.asleep,
            clock=ticking_clock(),
            **options,
        ) as api:
            return await api.call.start(thread_id=THREAD)

    return asyncio.run(run())


def start_sync(base_url: str, waits: Waits, **options: Any) -> Any:
    with bot_api(base_url, waits, **options) as api:
        return api.call.start(thread_id=THREAD)


START = {"sync": start_sync, "async": async_start}


@pytest.fixture(params=sorted(START))
def start(request: pytest.FixtureRequest) -> Any:
    return START[request.param]


def assert_signed_afresh(server: ScriptedServer) -> None:
    stamps = [received.headers[TIMESTAMP_HEADER.lower()] for received in server.requests]
    assert len(set(stamps)) == len(stamps), stamps
    for received in server.requests:
        stamp = received.headers[TIMESTAMP_HEADER.lower()]
        expected = signature(BOT_ID, SECRET_KEY, stamp, received.body)
        assert received.headers[SIGNATURE_HEADER.lower()] == expected


# -- the call succeeds when it should --------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "wait"),
    [
        (Answer(429, {"Retry-After": "3"}), 3.0),
        (Answer(503, {"Retry-After": "1"}), 1.0),
        # A lying server: a huge wait is capped (max_retry_wait, 60 s by default) ...
        (Answer(429, {"Retry-After": "9999999"}), 60.0),
        (Answer(503, {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}), 60.0),
    ],
    ids=["429", "503", "huge", "far-date"],
)
def test_a_refusal_with_retry_after_is_waited_out_then_sent_again_signed_afresh(
    start: Any, first: Answer, wait: float
) -> None:
    waits = Waits()
    with ScriptedServer([first, OK]) as server:
        assert start(server.base_url, waits).data.direction == "outgoing"
    assert waits.seconds == [wait]
    assert len(server.requests) == 2
    assert server.requests[0].body == server.requests[1].body
    assert_signed_afresh(server)


@pytest.mark.parametrize(
    "retry_after", ["-1", "Thu, 01 Jan 1970 00:00:00 GMT", "soon", None], ids=str
)
def test_a_wait_that_cannot_be_used_falls_back_to_the_backoff(
    start: Any, retry_after: str | None
) -> None:
    waits = Waits()
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    with ScriptedServer([Answer(503, headers), Answer(429, headers), OK]) as server:
        start(server.base_url, waits)
    # Exponential from 0.5 s, with up to half taken off at random: never zero, never hammering.
    first, second = waits.seconds
    assert 0.25 <= first <= 0.5 and 0.5 <= second <= 1.0, waits.seconds
    assert len(server.requests) == 3


def test_a_connection_refused_before_sending_is_retried(start: Any) -> None:
    server = ScriptedServer([OK], listen=False)
    waits = Waits(during=server.start)  # the server listens during the first wait
    with server:
        assert start(server.base_url, waits).data.direction == "outgoing"
    assert len(waits.seconds) == 1
    assert len(server.requests) == 1


def test_the_sandbox_busy_with_a_locked_database_is_waited_out(tmp_path: Path) -> None:
    database = tmp_path / "calls.sqlite3"
    app = create_app(database, busy_timeout=0.2)
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        with serve_in_thread(app) as base_url:
            holder.execute("BEGIN IMMEDIATE")  # another process's write lock
            waits = Waits(during=lambda: holder.execute("ROLLBACK"))
            with bot_api(base_url, waits) as api:
                started = api.call.start(thread_id=THREAD)
                assert started.code == 200
                # The 503 changed nothing: exactly one call was started, and it can end.
                assert api.call.end(thread_id=THREAD).code == 200
    finally:
        holder.close()
        app.close()
    assert waits.seconds == [1.0]  # the sandbox's Retry-After: its busy timeout, rounded up


# -- the call gives up when it should --------------------------------------------------------


def test_out_of_retries_the_last_error_is_raised_by_kind(start: Any) -> None:
    waits = Waits()
    script = [Answer(429, {"Retry-After": "2"})]
    with ScriptedServer(script) as server, pytest.raises(RateLimited) as raised:
        start(server.base_url, waits)
    assert raised.value.retry_after == 2.0
    assert isinstance(raised.value, CallApiError) and raised.value.status == 429
    assert waits.seconds == [2.0, 2.0]  # max_retries 2: three requests in all
    assert len(server.requests) == 3
    assert_signed_afresh(server)


def test_max_retries_0_turns_retries_off(start: Any) -> None:
    waits = Waits()
    script = [Answer(503, {"Retry-After": "1"}), OK]
    with ScriptedServer(script) as server, pytest.raises(ServerError) as raised:
        start(server.base_url, waits, max_retries=0)
    assert raised.value.status == 503 and raised.value.response is not None
    assert waits.seconds == [] and len(server.requests) == 1


def test_a_port_that_never_answers_gives_up_with_the_connection_error(start: Any) -> None:
    waits = Waits()
    with ScriptedServer([OK], listen=False) as server, pytest.raises(httpx.ConnectError):
        start(server.base_url, waits)
    assert len(waits.seconds) == 2


# -- never a request the server may have carried out -----------------------------------------


@pytest.mark.parametrize(
    "lost",
    [RESET, Answer(502), Answer(504, {"Retry-After": "1"})],
    ids=["reset", "502", "504"],
)
def test_a_lost_answer_is_not_retried_unless_the_caller_says_the_call_may_repeat(
    start: Any, lost: Answer
) -> None:
    waits = Waits()
    with ScriptedServer([lost, lost, OK]) as server:
        with pytest.raises((httpx.TransportError, ServerError)):
            start(server.base_url, waits)
        # The server may have started the call: a repeat would meet 409 (docs/contract.md).
        assert len(server.requests) == 1 and waits.seconds == []
        with bot_api(server.base_url, waits) as api:
            repeatable = api.with_options(retry_lost_answers=True)
            assert repeatable.call.start(thread_id=THREAD).data.direction == "outgoing"
    assert len(server.requests) == 3 and len(waits.seconds) == 1


# -- errors by kind, against the sandbox -----------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    app = create_app(":memory:")
    try:
        with serve_in_thread(app) as base_url:
            yield base_url
    finally:
        app.close()


def test_each_error_of_the_sandbox_is_its_own_kind_and_still_a_call_api_error(
    sandbox: str,
) -> None:
    thread, idle = demo.thread(40), demo.thread(41)
    too_many = [demo.user(n) for n in range(load().max_body_bytes // 20)]
    with bot_api(sandbox, Waits()) as api:
        api.call.start(thread_id=thread)
        with pytest.raises(Conflict) as conflict:
            api.call.start(thread_id=thread)
        with pytest.raises(PayloadTooLarge):
            api.call_user.invite(thread_id=thread, user_ids=too_many)
        plain = api.with_options(headers={"Content-Type": "text/plain"})
        with pytest.raises(UnsupportedMediaType):
            plain.call.start(thread_id=idle)
        with pytest.raises(CallApiError) as invalid:
            api.call_user.invite(thread_id=thread, user_ids=[demo.user(1), demo.user(1)])
    with pytest.raises(Unauthorized), bot_api(sandbox, Waits(), clock=lambda: 0.0) as stale:
        stale.call.start(thread_id=idle)
    assert conflict.value.status == 409 and conflict.value.response is not None
    assert conflict.value.response.status_code == 409
    assert invalid.value.status == 400 and invalid.value.errors  # the envelope's errors[]
    assert type(invalid.value) is CallApiError


# -- per-call options and logging ------------------------------------------------------------


def test_with_options_shares_the_pool_and_changes_only_the_derived_calls(sandbox: str) -> None:
    sent: list[httpx.Request] = []
    with bot_api(sandbox, Waits(), httpx_args={"event_hooks": {"request": [sent.append]}}) as api:
        derived = api.with_options(timeout=2.5, headers={"X-Trace": "abc"}, max_retries=0)
        assert derived.client is api.client and derived.call is not api.call
        derived.call.start(thread_id=demo.thread(50))
        api.call.end(thread_id=demo.thread(50))
    special, plain = sent
    assert special.headers["X-Trace"] == "abc" and "X-Trace" not in plain.headers
    assert special.extensions["timeout"]["read"] == 2.5
    assert plain.extensions["timeout"]["read"] == 10.0


def test_each_attempt_is_logged_at_debug_without_the_signature_or_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="workonflow_call")
    with ScriptedServer([Answer(503, {"Retry-After": "1"}), OK]) as server:
        start_sync(server.base_url, Waits())
    lines = [record.getMessage() for record in caplog.records if record.name == "workonflow_call"]
    path = f"/{TEAM}/call/start"
    assert lines[0].startswith(f"POST {path} -> 503 (attempt 1, ")
    assert lines[0].endswith(", retrying in 1.00 s)")
    assert lines[1].startswith(f"POST {path} -> 200 (attempt 2, ")
    signatures = [received.headers[SIGNATURE_HEADER.lower()] for received in server.requests]
    for line in caplog.text.splitlines():
        assert SECRET_KEY not in line and not any(s in line for s in signatures)
