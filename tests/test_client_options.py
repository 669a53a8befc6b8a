"""CallApi and AsyncCallApi take httpx's own client arguments, as a user of httpx expects.

The generated `Client` has fields of its own for `headers`, `cookies`, `timeout`, `verify`
and `follow_redirects` and passes them to httpx itself, so the same names in `httpx_args`
used to reach httpx twice ("got multiple values for keyword argument"). Each option is checked
by what it does to a request the reference server (in process) or a MockTransport receives.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httpx
import pytest

pytest.importorskip("workonflow_call", reason="the generated client is not installed")
pytest.importorskip("workonflow_call_models", reason="the generated models are not installed")

from workonflow_call import AsyncCallApi, CallApi

from contract import demo
from contract.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from reference_server import create_app
from reference_server.testing import serve_in_thread

TEAM, BOT_ID, SECRET_KEY = demo.TEAM, demo.BOT_ID, demo.SECRET_KEY
THREAD = demo.THREADS[0]
BASE_URL = "http://call-api.test"
OK = {"code": 200, "message": "OK", "data": {"direction": "incoming"}}


def bot_api(base_url: str = BASE_URL, **options: Any) -> CallApi:
    return CallApi(base_url, bot_id=BOT_ID, secret_key=SECRET_KEY, team_id=TEAM, **options)


def async_bot_api(base_url: str = BASE_URL, **options: Any) -> AsyncCallApi:
    return AsyncCallApi(base_url, bot_id=BOT_ID, secret_key=SECRET_KEY, team_id=TEAM, **options)


def recording(answer: httpx.Response) -> tuple[list[httpx.Request], httpx.MockTransport]:
    """A transport that answers `answer` and keeps every request it received."""
    received: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return answer

    return received, httpx.MockTransport(handle)


def test_headers_and_cookies_in_httpx_args_reach_the_reference_server_signed() -> None:
    app = create_app(":memory:")
    sent: list[httpx.Request] = []
    options = {
        "headers": {"User-Agent": "my-bot/1.0", SIGNATURE_HEADER: "forged"},
        "cookies": {"session": "abc"},
        "event_hooks": {"request": [sent.append]},
    }
    try:
        with serve_in_thread(app) as base_url, bot_api(base_url, httpx_args=options) as api:
            started = api.call.start(thread_id=THREAD)
            assert started.code == 200  # the server verified the bot's signature
    finally:
        app.close()
    (request,) = sent
    assert request.headers["User-Agent"] == "my-bot/1.0"
    assert request.headers["Cookie"] == "session=abc"
    expected = signature(BOT_ID, SECRET_KEY, request.headers[TIMESTAMP_HEADER], request.content)
    assert request.headers[SIGNATURE_HEADER] == expected  # a header never replaces the signature


def test_follow_redirects_and_transport_in_httpx_args() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/old/"):
            return httpx.Response(307, headers={"Location": f"{BASE_URL}/new{request.url.path}"})
        return httpx.Response(200, json=OK)

    options = {"follow_redirects": True, "transport": httpx.MockTransport(handle)}
    with bot_api(f"{BASE_URL}/old", httpx_args=options) as api:
        assert api.call.start(thread_id=THREAD).data.direction == "incoming"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, httpx.Timeout(10.0)),
        ({"timeout": 2.5}, httpx.Timeout(2.5)),
        ({"timeout": httpx.Timeout(1.0, connect=3.0)}, httpx.Timeout(1.0, connect=3.0)),
        ({"httpx_args": {"timeout": 4.0}}, httpx.Timeout(4.0)),
        ({"httpx_args": {"timeout": None}}, httpx.Timeout(None)),
    ],
    ids=["default", "seconds", "httpx.Timeout", "in-httpx_args", "none-in-httpx_args"],
)
def test_the_timeout_comes_from_either_place(
    options: dict[str, Any], expected: httpx.Timeout
) -> None:
    with bot_api(**options) as api:
        assert api.client.get_httpx_client().timeout == expected


def test_a_timeout_given_twice_is_refused() -> None:
    with pytest.raises(TypeError, match="timeout is given twice"):
        bot_api(timeout=1.0, httpx_args={"timeout": 2.0})


@pytest.mark.parametrize("reserved", ["auth", "base_url"])
def test_the_api_own_arguments_are_refused_in_httpx_args(reserved: str) -> None:
    value = httpx.BasicAuth("user", "password") if reserved == "auth" else "http://elsewhere"
    with pytest.raises(TypeError, match=f"CallApi: httpx_args cannot set {reserved}"):
        bot_api(httpx_args={reserved: value})
    with pytest.raises(TypeError, match=f"AsyncCallApi: httpx_args cannot set {reserved}"):
        async_bot_api(httpx_args={reserved: value})


def test_verify_in_httpx_args_is_the_context_httpx_uses() -> None:
    context = ssl.create_default_context()
    with bot_api(httpx_args={"verify": context}) as api:
        pool = api.client.get_httpx_client()._transport._pool  # type: ignore[attr-defined]
        assert pool._ssl_context is context
    with bot_api(httpx_args={"verify": False}) as api:
        pool = api.client.get_httpx_client()._transport._pool  # type: ignore[attr-defined]
        assert pool._ssl_context.verify_mode == ssl.CERT_NONE


def test_the_async_api_takes_the_same_arguments() -> None:
    received, transport = recording(httpx.Response(200, json=OK))

    async def scenario() -> None:
        options = {"headers": {"X-Trace": "t-1"}, "timeout": 3.0, "transport": transport}
        async with async_bot_api(httpx_args=options) as api:
            assert api.client.get_async_httpx_client().timeout == httpx.Timeout(3.0)
            await api.call.start(thread_id=THREAD)

    asyncio.run(scenario())
    (request,) = received
    assert request.headers["X-Trace"] == "t-1"
    assert request.headers[SIGNATURE_HEADER] == signature(
        BOT_ID, SECRET_KEY, request.headers[TIMESTAMP_HEADER], request.content
    )
