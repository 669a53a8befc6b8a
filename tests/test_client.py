"""The generated client, driven end to end: CallApi / AsyncCallApi and the endpoint functions.

The server is the reference server, in process: served over HTTP from a thread for the
blocking client, and through httpx.ASGITransport for the asyncio one. Answers no server of the
contract would give (an undocumented status, a broken envelope) come from a fixed
MockTransport answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

pytest.importorskip("workonflow_call", reason="the generated client is not installed")
pytest.importorskip("workonflow_call_models", reason="the generated models are not installed")

from workonflow_call import AsyncCallApi, AuthenticatedClient, CallApi, CallApiError, ErrorDetail
from workonflow_call.api.call import call_start
from workonflow_call.models import CallStartRequest, ErrorResponse

from contract import demo
from contract.spec import load
from reference_server import create_app
from reference_server.testing import serve_in_thread

TEAM, TOKEN = demo.TEAM, demo.TOKEN
THREAD = demo.THREADS[0]
USERS = list(demo.USERS[:2])
BASE_URL = "http://call-api.test"


class Server:
    """The reference server in process, and every request the client sent it."""

    def __init__(self, base_url: str, app: Any) -> None:
        self.base_url = base_url
        self.app = app
        self.requests: list[httpx.Request] = []

    def hooks(self) -> dict[str, Any]:
        """httpx arguments that record each request."""
        return {"event_hooks": {"request": [self.requests.append]}}


@pytest.fixture
def server() -> Iterator[Server]:
    app = create_app(":memory:")
    try:
        with serve_in_thread(app) as base_url:
            yield Server(base_url, app)
    finally:
        app.close()


@pytest.fixture
def api(server: Server) -> CallApi:
    return CallApi(server.base_url, TOKEN, TEAM, httpx_args=server.hooks())


def fixed(response: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: response


def api_answering(response: httpx.Response) -> CallApi:
    return CallApi(
        BASE_URL, TOKEN, TEAM, httpx_args={"transport": httpx.MockTransport(fixed(response))}
    )


def sent(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


def test_every_operation_returns_its_success_model(api: CallApi, server: Server) -> None:
    with api:
        assert api.call.start(thread_id=THREAD).data.direction == "outgoing"
        assert api.call_user.invite(thread_id=THREAD, user_ids=USERS).data.invited_users_count == 2
        assert (
            api.call_user.invite(thread_id=THREAD, user_id=USERS[0]).data.invited_users_count == 0
        )
        assert api.call.pause(thread_id=THREAD, user_id=USERS[1]).data.paused_users_count == 1
        assert api.call.unpause(thread_id=THREAD, user_ids=USERS).data.unpaused_users_count == 1
        assert (
            api.call_user.exclude(thread_id=THREAD, user_id=USERS[0]).data.excluded_users_count == 1
        )
        played = api.call_audio.play(thread_id=THREAD, file_url="https://url.to.your/audio.mp3")
        assert (played.code, played.message) == (200, "OK")
        assert api.call_audio.stop(thread_id=THREAD).message == "OK"
        assert api.call_recording.start(thread_id=THREAD).code == 200
        file_url = api.call_recording.stop(thread_id=THREAD).data.file_url
        assert "/recordings/" in file_url and file_url.endswith(".wav")
        assert "/streams/" in api.call_stream.start(thread_id=THREAD).data.stream_url
        assert api.call_stream.stop(thread_id=THREAD).code == 200
        ended = api.call.end(thread_id=THREAD)
        assert 0 <= ended.data.dialog_duration <= ended.data.call_duration
        assert (ended.data.result, ended.data.direction) == ("answered", "outgoing")
    called = {request.url.path for request in server.requests}
    assert called == {f"/{TEAM}/{operation.method}" for operation in load()}


def test_requests_carry_the_team_the_token_and_camel_case_bodies(
    api: CallApi, server: Server
) -> None:
    api.call.start(thread_id=THREAD, direction="incoming")
    api.call_user.invite(thread_id=THREAD, user_ids=USERS)
    api.call_user.exclude(thread_id=THREAD, user_id=USERS[0])
    start, invite, exclude = server.requests
    assert (start.method, start.url.path) == ("POST", f"/{TEAM}/call/start")
    assert start.headers["authorization"] == f"Bearer {TOKEN}"
    assert start.headers["content-type"] == "application/json"
    assert sent(start) == {"threadId": THREAD, "direction": "incoming"}
    assert invite.url.path == f"/{TEAM}/call.user/invite"
    assert sent(invite) == {"threadId": THREAD, "userIds": USERS}
    assert sent(exclude) == {"threadId": THREAD, "userId": USERS[0]}


def test_an_optional_field_left_out_is_not_sent(api: CallApi, server: Server) -> None:
    api.call.start(thread_id=THREAD)
    assert sent(server.requests[0]) == {"threadId": THREAD}


def test_a_conflict_raises_the_typed_error_with_the_server_message(api: CallApi) -> None:
    with pytest.raises(CallApiError) as failure:
        api.call.end(thread_id=THREAD)
    error = failure.value
    assert (error.status, error.code) == (409, 409)
    assert error.message == f"There is no active call in thread {THREAD}"
    assert error.errors == []
    assert str(error) == f"409 There is no active call in thread {THREAD}"


def test_field_errors_arrive_as_error_details(api: CallApi) -> None:
    with pytest.raises(CallApiError) as failure:
        api.call.start(thread_id="not-an-id")
    error = failure.value
    assert (error.status, error.code, error.message) == (400, 400, "Invalid request body")
    assert [detail.field for detail in error.errors] == ["threadId"]
    assert isinstance(error.errors[0], ErrorDetail) and error.errors[0].message


def test_a_wrong_token_raises_401(server: Server) -> None:
    api = CallApi(server.base_url, "wrong", TEAM)
    with pytest.raises(CallApiError) as failure:
        api.call.start(thread_id=THREAD)
    assert (failure.value.status, failure.value.message) == (401, "Missing or unknown bearer token")


def test_an_undocumented_status_raises_the_typed_error() -> None:
    api = api_answering(httpx.Response(502, text="<html>upstream down</html>"))
    with pytest.raises(CallApiError) as failure:
        api.call.start(thread_id=THREAD)
    error = failure.value
    assert (error.status, error.code, error.errors) == (502, None, [])
    assert error.message == "Unexpected answer (Bad Gateway): <html>upstream down</html>"
    assert error.content == b"<html>upstream down</html>"


def test_an_error_status_without_an_envelope_raises_the_typed_error() -> None:
    api = api_answering(httpx.Response(409, text="not json"))
    with pytest.raises(CallApiError) as failure:
        api.call.end(thread_id=THREAD)
    assert (failure.value.status, failure.value.code) == (409, None)
    assert "not json" in failure.value.message


def test_a_success_status_with_a_body_that_breaks_the_contract_raises() -> None:
    api = api_answering(httpx.Response(200, json={"code": 200, "message": "OK"}))
    with pytest.raises(CallApiError) as failure:
        api.call.start(thread_id=THREAD)
    assert failure.value.status == 200
    assert failure.value.message.startswith("The answer does not match the API description")


def test_unknown_response_fields_are_kept() -> None:
    answer = {"code": 200, "message": "OK", "data": {"direction": "incoming", "line": 7}, "id": 1}
    started = api_answering(httpx.Response(200, json=answer)).call.start(thread_id=THREAD)
    assert started.additional_properties == {"id": 1}
    assert started.data.additional_properties == {"line": 7}


def test_users_operations_need_user_id_or_user_ids(api: CallApi, server: Server) -> None:
    with pytest.raises(TypeError, match=r"invite\(\) needs one of: user_id, user_ids"):
        api.call_user.invite(thread_id=THREAD)
    assert server.requests == []


def test_the_detailed_functions_keep_the_raw_response(server: Server) -> None:
    client = AuthenticatedClient(base_url=server.base_url, token=TOKEN)
    body = CallStartRequest(thread_id=THREAD)
    started = call_start.sync(TEAM, client=client, body=body)
    assert started.data.direction == "outgoing"
    response = call_start.sync_detailed(TEAM, client=client, body=body)
    assert response.status_code == 409
    assert isinstance(response.parsed, ErrorResponse)
    assert response.parsed.message == f"A call is already active in thread {THREAD}"
    assert json.loads(response.content)["code"] == 409
    with pytest.raises(CallApiError, match="already active"):
        call_start.sync(TEAM, client=client, body=body)


def test_the_async_client(server: Server) -> None:
    async def record(request: httpx.Request) -> None:
        server.requests.append(request)

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=server.app)
        hooks: dict[str, list[Any]] = {"request": [record]}
        arguments = {"transport": transport, "event_hooks": hooks}
        async with AsyncCallApi(BASE_URL, TOKEN, TEAM, httpx_args=arguments) as api:
            started = await api.call.start(thread_id=THREAD, direction="incoming")
            assert started.data.direction == "incoming"
            invited = await api.call_user.invite(thread_id=THREAD, user_ids=USERS)
            assert invited.data.invited_users_count == 2
            with pytest.raises(CallApiError) as failure:
                await api.call.start(thread_id=THREAD)
            assert failure.value.status == 409
            assert failure.value.message == f"A call is already active in thread {THREAD}"
            ended = await api.call.end(thread_id=THREAD)
            assert ended.data.direction == "incoming"

    asyncio.run(scenario())
    assert [r.url.path.split("/", 2)[2] for r in server.requests] == [
        "call/start",
        "call.user/invite",
        "call/start",
        "call/end",
    ]
