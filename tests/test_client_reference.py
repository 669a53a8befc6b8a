"""The generated client against the reference server: in process (ASGI) and over HTTP.

The client signs as the demo bot of `contract.demo`, which the server accepts by default; the
server checks the signatures with its own code, so both implementations meet here.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from workonflow_call import AsyncCallApi, CallApi, CallApiError

from contract import demo
from reference_server import create_app
from reference_server.testing import serve_in_thread

TEAM = demo.TEAM
BOT_ID, SECRET_KEY = demo.BOT_ID, demo.SECRET_KEY
THREAD = demo.THREADS[0]
USERS = list(demo.USERS[:2])
BASE_URL = "http://call-api.test"


def test_async_client_against_the_reference_server_in_process() -> None:
    app = create_app(database=":memory:")

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with AsyncCallApi(
            BASE_URL,
            bot_id=BOT_ID,
            secret_key=SECRET_KEY,
            team_id=TEAM,
            httpx_args={"transport": transport},
        ) as api:
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
        async with AsyncCallApi(
            BASE_URL,
            bot_id=BOT_ID,
            secret_key="wrong-secret",
            team_id=TEAM,
            httpx_args={"transport": transport},
        ) as wrong:
            with pytest.raises(CallApiError) as failure:
                await wrong.call.start(thread_id=THREAD)
            assert (failure.value.status, failure.value.code) == (401, 401)
            assert "wrong-secret" not in str(failure.value)

    try:
        asyncio.run(scenario())
    finally:
        close = getattr(app, "close", None)
        if close is not None:
            close()


def test_sync_client_against_the_reference_server_over_http() -> None:
    app = create_app(database=":memory:")
    with (
        serve_in_thread(app) as base_url,
        CallApi(base_url, bot_id=BOT_ID, secret_key=SECRET_KEY, team_id=TEAM) as api,
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
        wrong = CallApi(base_url, bot_id=BOT_ID, secret_key="wrong-secret", team_id=TEAM)
        with pytest.raises(CallApiError) as failure:
            wrong.call.start(thread_id=THREAD)
        assert (failure.value.status, failure.value.code) == (401, 401)
        assert "wrong-secret" not in str(failure.value) + repr(wrong)
        wrong.close()
