"""The generated client against the reference server: in process (ASGI) and over HTTP."""

from __future__ import annotations

import asyncio

import httpx
import pytest

pytest.importorskip("workonflow_call", reason="the generated client is not installed")
reference_server = pytest.importorskip("reference_server")
testing = pytest.importorskip("reference_server.testing")

from workonflow_call import AsyncCallApi, CallApi, CallApiError

from contract import demo
from contract.signing import Bot
from testkit.signing import BotAuth

TEAM = demo.TEAM
TOKEN = demo.TOKEN
THREAD = demo.THREADS[0]
USERS = list(demo.USERS[:2])
BASE_URL = "http://call-api.test"


def test_async_client_against_the_reference_server_in_process() -> None:
    app = reference_server.create_app(database=":memory:")  # the demo bot, in TEAM

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        # Signed through httpx's `auth`: the client, generated from contract 1.x, sends its
        # token too, which the server ignores.
        args = {"transport": transport, "auth": BotAuth()}
        async with AsyncCallApi(BASE_URL, TOKEN, TEAM, httpx_args=args) as api:
            assert (await api.call.start(thread_id=THREAD)).data.direction == "outgoing"
            invited = await api.call_user.invite(thread_id=THREAD, user_ids=USERS)
            assert invited.data.invited_users_count == 2
            paused = await api.call.pause(thread_id=THREAD, user_id=USERS[0])
            assert paused.data.paused_users_count == 1
            with pytest.raises(CallApiError) as failure:
                await api.call.start(thread_id=THREAD)
            assert (failure.value.status, failure.value.code) == (409, 409)
            assert THREAD in failure.value.message
            ended = await api.call.end(thread_id=THREAD)
            assert 0 <= ended.data.dialog_duration <= ended.data.call_duration

    try:
        asyncio.run(scenario())
    finally:
        close = getattr(app, "close", None)
        if close is not None:
            close()


def test_sync_client_against_the_reference_server_over_http() -> None:
    app = reference_server.create_app(database=":memory:")
    signed = {"auth": BotAuth()}
    with (
        testing.serve_in_thread(app) as base_url,
        CallApi(base_url, TOKEN, TEAM, httpx_args=signed) as api,
    ):
        with pytest.raises(CallApiError) as failure:
            api.call.end(thread_id=THREAD)
        assert (failure.value.status, failure.value.code) == (409, 409)
        assert THREAD in failure.value.message
        with pytest.raises(CallApiError) as failure:
            api.call.start(thread_id=THREAD.upper())  # upper case: not an id
        assert failure.value.status == 400
        assert [detail.field for detail in failure.value.errors] == ["threadId"]
        api.call.start(thread_id=THREAD)
        recording = api.call_recording.start(thread_id=THREAD)
        assert recording.message == "OK"
        assert api.call_recording.stop(thread_id=THREAD).data.file_url.startswith("http")
        assert api.call.end(thread_id=THREAD).data.result
        wrong_key = {"auth": BotAuth(Bot(demo.BOT_ID, "not-the-secret-key"))}
        wrong = CallApi(base_url, TOKEN, TEAM, httpx_args=wrong_key)
        with pytest.raises(CallApiError) as failure:
            wrong.call.start(thread_id=THREAD)
        assert failure.value.status == 401
        wrong.close()
