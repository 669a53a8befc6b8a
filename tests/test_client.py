"""The generated client, driven end to end: CallApi / AsyncCallApi and the endpoint functions.

First against a fake server that answers as the contract says (an httpx MockTransport that
validates bodies with the generated pydantic models), then against the reference server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, ClassVar

import httpx
import pytest

pytest.importorskip("workonflow_call", reason="the generated client is not installed")
pytest.importorskip("workonflow_call_models", reason="the generated models are not installed")

import pydantic
import workonflow_call_models as m
from workonflow_call import AsyncCallApi, AuthenticatedClient, CallApi, CallApiError, ErrorDetail
from workonflow_call.api.call import call_start
from workonflow_call.models import CallStartRequest, ErrorResponse

TEAM = "333ccc134c0319001573485e"
TOKEN = "dev-token"
THREAD = "5b0525134c0319001573485e"
USERS = ["5b4458eb1b2b33001bf213bf", "5b4458eb1b2b33001bf213bc"]
BASE_URL = "http://call-api.test"


class FakeCallServer:
    """Answers the twelve operations as the contract says, with in-memory state per thread."""

    REQUESTS: ClassVar[dict[str, type[pydantic.BaseModel]]] = {
        "call/start": m.CallStartRequest,
        "call/end": m.ThreadRequest,
        "call.user/invite": m.UsersRequest,
        "call.user/exclude": m.UsersRequest,
        "call/pause": m.UsersRequest,
        "call/unpause": m.UsersRequest,
        "call.audio/play": m.CallAudioPlayRequest,
        "call.audio/stop": m.ThreadRequest,
        "call.recording/start": m.ThreadRequest,
        "call.recording/stop": m.ThreadRequest,
        "call.stream/start": m.ThreadRequest,
        "call.stream/stop": m.ThreadRequest,
    }

    def __init__(self) -> None:
        self.calls: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []

    @staticmethod
    def answer(status: int, message: str, **extra: Any) -> httpx.Response:
        return httpx.Response(status, json={"code": status, "message": message, **extra})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        team, _, method = request.url.path.lstrip("/").partition("/")
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return self.answer(401, "Missing or unknown bearer token")
        if team != TEAM:
            return self.answer(403, f"The token is not valid for team {team}")
        model = self.REQUESTS.get(method)
        if model is None:
            return self.answer(404, "No such operation")
        try:
            parsed = model.model_validate_json(request.content)
        except pydantic.ValidationError as error:
            errors = [
                {"field": ".".join(str(part) for part in item["loc"][-1:]), "message": item["msg"]}
                for item in error.errors()
            ]
            return self.answer(400, "Invalid request body", errors=errors)
        body = parsed.model_dump(mode="json", exclude_unset=True)
        body = body.get("root", body)
        return self.operate(method, body)

    def operate(self, method: str, body: dict[str, Any]) -> httpx.Response:
        thread = body["threadId"]
        call = self.calls.get(thread)
        if method == "call/start":
            if call is not None:
                return self.answer(409, f"A call is already active in thread {thread}")
            direction = body.get("direction", "outgoing")
            self.calls[thread] = {"users": set(), "paused": set(), "direction": direction}
            return self.answer(200, "OK", data={"direction": direction})
        if call is None:
            return self.answer(409, f"There is no active call in thread {thread}")
        users = {body["userId"]} if "userId" in body else set(body.get("userIds", []))
        if method == "call/end":
            del self.calls[thread]
            data = {"callDuration": 95, "dialogDuration": 80, "result": "answered"}
            return self.answer(200, "OK", data={**data, "direction": call["direction"]})
        if method == "call.user/invite":
            added = users - call["users"]
            call["users"] |= added
            return self.answer(200, "OK", data={"invitedUsersCount": len(added)})
        if method == "call.user/exclude":
            gone = users & call["users"]
            call["users"] -= gone
            return self.answer(200, "OK", data={"excludedUsersCount": len(gone)})
        if method == "call/pause":
            paused = (users & call["users"]) - call["paused"]
            call["paused"] |= paused
            return self.answer(200, "OK", data={"pausedUsersCount": len(paused)})
        if method == "call/unpause":
            unpaused = users & call["paused"]
            call["paused"] -= unpaused
            return self.answer(200, "OK", data={"unpausedUsersCount": len(unpaused)})
        if method == "call.recording/stop":
            return self.answer(200, "OK", data={"fileUrl": f"{BASE_URL}/recordings/{thread}.wav"})
        if method == "call.stream/start":
            return self.answer(200, "OK", data={"streamUrl": f"{BASE_URL}/streams/{thread}"})
        return self.answer(200, "OK")


@pytest.fixture
def server() -> FakeCallServer:
    return FakeCallServer()


@pytest.fixture
def api(server: FakeCallServer) -> CallApi:
    return CallApi(BASE_URL, TOKEN, TEAM, httpx_args={"transport": httpx.MockTransport(server)})


def fixed(response: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: response


def api_answering(response: httpx.Response) -> CallApi:
    return CallApi(
        BASE_URL, TOKEN, TEAM, httpx_args={"transport": httpx.MockTransport(fixed(response))}
    )


def sent(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


def test_every_operation_returns_its_success_model(api: CallApi) -> None:
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
        assert api.call_recording.stop(thread_id=THREAD).data.file_url.endswith(f"{THREAD}.wav")
        assert api.call_stream.start(thread_id=THREAD).data.stream_url.endswith(THREAD)
        assert api.call_stream.stop(thread_id=THREAD).code == 200
        ended = api.call.end(thread_id=THREAD)
        assert (ended.data.call_duration, ended.data.dialog_duration) == (95, 80)
        assert (ended.data.result, ended.data.direction) == ("answered", "outgoing")


def test_requests_carry_the_team_the_token_and_camel_case_bodies(
    api: CallApi, server: FakeCallServer
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


def test_an_optional_field_left_out_is_not_sent(api: CallApi, server: FakeCallServer) -> None:
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


def test_a_wrong_token_raises_401(server: FakeCallServer) -> None:
    api = CallApi(BASE_URL, "wrong", TEAM, httpx_args={"transport": httpx.MockTransport(server)})
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


def test_users_operations_need_user_id_or_user_ids(api: CallApi, server: FakeCallServer) -> None:
    with pytest.raises(TypeError, match=r"invite\(\) needs one of: user_id, user_ids"):
        api.call_user.invite(thread_id=THREAD)
    assert server.requests == []


def test_the_detailed_functions_keep_the_raw_response(server: FakeCallServer) -> None:
    client = AuthenticatedClient(
        base_url=BASE_URL, token=TOKEN, httpx_args={"transport": httpx.MockTransport(server)}
    )
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


def test_the_async_client(server: FakeCallServer) -> None:
    async def scenario() -> None:
        transport = httpx.MockTransport(server)
        async with AsyncCallApi(BASE_URL, TOKEN, TEAM, httpx_args={"transport": transport}) as api:
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
