"""The generated client, driven end to end: CallApi / AsyncCallApi and the endpoint functions.

The server is the reference server, in process: served over HTTP from a thread for the
blocking client, and through httpx.ASGITransport for the asyncio one. Answers no server of the
contract would give (an undocumented status, a broken envelope) come from a fixed
MockTransport answer. The client signs every request as the demo bot (contract 2.0.0); its
signatures are checked here by `contract.signing`, an implementation independent of the
client's and the server's.

Longer than 300 lines on purpose: the sync and async clients are tested side by side on the
same server fixtures.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

pytest.importorskip("workonflow_call", reason="the generated client is not installed")
pytest.importorskip("workonflow_call_models", reason="the generated models are not installed")

from workonflow_call import (
    AsyncCallApi,
    BotSignature,
    CallApi,
    CallApiError,
    Client,
    ErrorDetail,
)
from workonflow_call.api.call import call_start
from workonflow_call.api.call_audio import call_audio_stop
from workonflow_call.models import CallStartRequest, ErrorResponse, ThreadRequest

from contract import demo
from contract.signing import BOT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from contract.spec import load
from reference_server import create_app
from reference_server.testing import serve_in_thread

TEAM, BOT_ID, SECRET_KEY = demo.TEAM, demo.BOT_ID, demo.SECRET_KEY
#: A secret key that is not the demo bot's, and that no message may show.
WRONG_SECRET = "not-the-secret-key-4f1c"
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
    return signed(server.base_url, httpx_args=server.hooks())


def signed(base_url: str, secret_key: str = SECRET_KEY, **options: Any) -> CallApi:
    """CallApi as the demo bot (with `secret_key` instead of its own, when given)."""
    return CallApi(base_url, bot_id=BOT_ID, secret_key=secret_key, team_id=TEAM, **options)


def fixed(response: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: response


def api_answering(response: httpx.Response) -> CallApi:
    return signed(BASE_URL, httpx_args={"transport": httpx.MockTransport(fixed(response))})


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


def test_requests_carry_the_team_the_bot_signature_and_camel_case_bodies(
    api: CallApi, server: Server
) -> None:
    api.call.start(thread_id=THREAD, direction="incoming")
    api.call_user.invite(thread_id=THREAD, user_ids=USERS)
    api.call_user.exclude(thread_id=THREAD, user_id=USERS[0])
    start, invite, exclude = server.requests
    assert (start.method, start.url.path) == ("POST", f"/{TEAM}/call/start")
    for request in server.requests:
        assert request.headers[BOT_ID_HEADER] == BOT_ID
        assert request.headers[SIGNATURE_HEADER] == signature(
            BOT_ID, SECRET_KEY, request.headers[TIMESTAMP_HEADER], request.content
        )
        assert "authorization" not in request.headers
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


def assert_secret_absent(*texts: str | bytes) -> None:
    for text in texts:
        shown = text.decode(errors="replace") if isinstance(text, bytes) else text
        assert SECRET_KEY not in shown and WRONG_SECRET not in shown, shown


def test_a_wrong_secret_key_raises_401_without_showing_it(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = signed(server.base_url, WRONG_SECRET, httpx_args=server.hooks())
    with api, pytest.raises(CallApiError) as failure:
        api.call.start(thread_id=THREAD)
    error = failure.value
    assert (error.status, error.code) == (401, 401)
    assert error.message  # the server's reason, whatever its words
    (request,) = server.requests
    assert request.headers[BOT_ID_HEADER] == BOT_ID
    assert_secret_absent(
        str(error),
        repr(error),
        error.message,
        error.content,
        str(failure.getrepr()),
        repr(api),
        repr(api.client),
        caplog.text,
        *request.headers.values(),
        request.content,
    )


def test_the_secret_key_is_in_no_repr() -> None:
    api = signed(BASE_URL, WRONG_SECRET)
    auth = BotSignature(BOT_ID, WRONG_SECRET)
    assert repr(api) == f"CallApi(base_url={BASE_URL!r}, bot_id={BOT_ID!r}, team_id={TEAM!r})"
    assert repr(auth) == f"BotSignature(bot_id={BOT_ID!r})"
    assert_secret_absent(repr(api), repr(api.client), repr(auth), repr(vars(auth)), str(vars(api)))
    with pytest.raises(ValueError, match=f"secret key of bot {BOT_ID}") as empty:
        BotSignature(BOT_ID, "")
    assert_secret_absent(str(empty.value))


def test_the_signature_covers_the_exact_bytes_sent() -> None:
    seen: list[httpx.Request] = []

    def check(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        stamp = request.headers[TIMESTAMP_HEADER]
        if request.headers[SIGNATURE_HEADER] != signature(
            BOT_ID, SECRET_KEY, stamp, request.content
        ):
            return httpx.Response(401, json={"code": 401, "message": "bad signature"})
        return httpx.Response(200, json={"code": 200, "message": "OK"})

    # A non-ASCII URL: httpx sends it as UTF-8 and compact JSON, which the signature must cover
    # as sent; a signer that re-serialized the body its own way would not match.
    url = "https://url.to.your/zvonok-привет.mp3"
    before = int(time.time())
    with signed(BASE_URL, httpx_args={"transport": httpx.MockTransport(check)}) as api:
        api.call_audio.play(thread_id=THREAD, file_url=url)
    after = int(time.time())
    (request,) = seen
    assert before <= int(request.headers[TIMESTAMP_HEADER]) <= after
    assert json.loads(request.content) == {"threadId": THREAD, "fileUrl": url}
    assert "привет".encode() in request.content
    stamp = request.headers[TIMESTAMP_HEADER]
    for other in (json.dumps(json.loads(request.content)).encode(), request.content + b" "):
        assert request.headers[SIGNATURE_HEADER] != signature(BOT_ID, SECRET_KEY, stamp, other)
    assert SECRET_KEY.encode() not in request.content


def test_the_timestamp_is_read_when_each_request_is_sent() -> None:
    clock = iter([1_700_000_000.9, 1_700_000_300.2])
    stamps: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        stamps.append(request.headers[TIMESTAMP_HEADER])
        assert request.headers[SIGNATURE_HEADER] == signature(
            BOT_ID, SECRET_KEY, stamps[-1], request.content
        )
        return httpx.Response(200, json={"code": 200, "message": "OK"})

    auth = BotSignature(BOT_ID, SECRET_KEY, clock=lambda: next(clock))
    client = Client(
        base_url=BASE_URL, httpx_args={"auth": auth, "transport": httpx.MockTransport(record)}
    )
    assert stamps == []  # nothing is signed before a request is sent
    for _ in range(2):
        call_audio_stop.sync(TEAM, client=client, body=ThreadRequest(thread_id=THREAD))
    assert stamps == ["1700000000", "1700000300"]


def test_call_api_refuses_an_auth_of_its_own() -> None:
    with pytest.raises(TypeError, match="cannot set auth"):
        signed(BASE_URL, httpx_args={"auth": httpx.BasicAuth("user", "password")})


def test_an_undocumented_status_raises_the_typed_error() -> None:
    api = api_answering(httpx.Response(502, text="<html>upstream down</html>"))
    with pytest.raises(CallApiError) as failure:
        api.call.start(thread_id=THREAD)
    error = failure.value
    assert (error.status, error.code, error.errors) == (502, None, [])
    assert error.message == "Unexpected answer (Bad Gateway): <html>upstream down</html>"
    assert error.content == b"<html>upstream down</html>"


def test_the_documented_500_raises_the_typed_error_with_its_envelope() -> None:
    answer = {"code": 500, "message": "Internal server error"}
    api = api_answering(httpx.Response(500, json=answer))
    with pytest.raises(CallApiError) as failure:
        api.call_user.invite(thread_id=THREAD, user_id=THREAD)
    error = failure.value
    assert (error.status, error.code, error.message) == (500, 500, "Internal server error")


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
    client = Client(base_url=server.base_url, httpx_args={"auth": BotSignature(BOT_ID, SECRET_KEY)})
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
        async with AsyncCallApi(
            BASE_URL, bot_id=BOT_ID, secret_key=SECRET_KEY, team_id=TEAM, httpx_args=arguments
        ) as api:
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


def test_the_async_client_signs_and_refuses_a_wrong_secret_key(server: Server) -> None:
    async def check(request: httpx.Request) -> httpx.Response:
        assert request.headers[SIGNATURE_HEADER] == signature(
            BOT_ID, SECRET_KEY, request.headers[TIMESTAMP_HEADER], await request.aread()
        )
        return httpx.Response(200, json={"code": 200, "message": "OK"})

    async def scenario() -> CallApiError:
        mock = {"transport": httpx.MockTransport(check)}
        async with AsyncCallApi(
            BASE_URL, bot_id=BOT_ID, secret_key=SECRET_KEY, team_id=TEAM, httpx_args=mock
        ) as api:
            assert (await api.call_audio.stop(thread_id=THREAD)).message == "OK"
        asgi = {"transport": httpx.ASGITransport(app=server.app)}
        async with AsyncCallApi(
            BASE_URL, bot_id=BOT_ID, secret_key=WRONG_SECRET, team_id=TEAM, httpx_args=asgi
        ) as wrong:
            assert_secret_absent(repr(wrong), repr(wrong.client))
            with pytest.raises(CallApiError) as failure:
                await wrong.call.start(thread_id=THREAD)
            return failure.value

    error = asyncio.run(scenario())
    assert (error.status, error.code) == (401, 401)
    assert_secret_absent(str(error), repr(error), error.content)
