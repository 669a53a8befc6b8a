"""The reference server, through the generated client: every operation, every error status.

Every answer is also checked against the response schema that openapi.yaml gives for its
status, so that the server and the contract cannot drift apart.

Longer than ~300 lines on purpose: the tests share one server (a module-scoped fixture with
one hand-moved clock) and the `Api` checker that validates every answer against the spec;
split into several modules, each would start its own server and import the checker from a
helper module of its own.
"""

from __future__ import annotations

import importlib
import itertools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

pytest.importorskip("workonflow_call", reason="the generated client is not installed")
pytest.importorskip("workonflow_call_models", reason="the generated models are not installed")

from workonflow_call import Client
from workonflow_call.models import (
    CallAudioPlayRequest,
    CallStartRequest,
    SingleUserRequest,
    ThreadRequest,
    UserListRequest,
)

from contract import demo
from contract import signing as contract_signing
from contract.spec import Operation, load
from reference_server import auth, create_app
from reference_server.testing import serve_in_thread
from testkit.signing import DEMO_BOT, OTHER_BOT, BotAuth, signed_headers

SpecSchemas = Any  # the `schemas` fixture of conftest.py


def pointer(*parts: str) -> str:
    """A JSON pointer to the given keys (RFC 6901)."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


SPEC = load()
#: Every operation of the spec, by `{method}`.
OPERATIONS = list(SPEC.operations)
TEAM = demo.TEAM
OTHER_TEAM = demo.OTHER_TEAM
#: The bots of the module's server: the demo bot in the demo team, another in another team.
BOTS = [
    auth.Bot(DEMO_BOT.bot_id, DEMO_BOT.secret_key, frozenset({TEAM})),
    auth.Bot(OTHER_BOT.bot_id, OTHER_BOT.secret_key, frozenset({OTHER_TEAM})),
]
_THREAD_NUMBERS = itertools.count(1)
USERS = [demo.user(n) for n in range(16)]


def _users_body(body: dict[str, Any]) -> SingleUserRequest | UserListRequest:
    if "userId" in body:
        return SingleUserRequest.from_dict(body)
    return UserListRequest.from_dict(body)


#: By request schema: how the generated client's body is built from a dict, and what a valid
#: body holds besides `threadId`.
BODIES: dict[str, tuple[Callable[[dict[str, Any]], Any], dict[str, Any]]] = {
    "CallStartRequest": (CallStartRequest.from_dict, {}),
    "ThreadRequest": (ThreadRequest.from_dict, {}),
    "UsersRequest": (_users_body, {"userIds": USERS[:2]}),
    "CallAudioPlayRequest": (
        CallAudioPlayRequest.from_dict,
        {"fileUrl": "https://example.com/hold.mp3"},
    ),
}
#: Every operation but `call/start` needs an active call (docs/contract.md).
NEEDS_ACTIVE_CALL = [method for method in OPERATIONS if method != "call/start"]


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def endpoint(operation: Operation) -> Any:
    """The generated client's module of the operation: `api.<tag>.<operationId>`, snake_case."""
    tag = operation.tag.replace(".", "_")
    return importlib.import_module(
        f"workonflow_call.api.{tag}.{_snake_case(operation.operation_id)}"
    )


def _request_schema(method: str) -> str:
    schema = SPEC.operations[method].request_schema
    assert schema is not None, method
    return schema


def valid_body(method: str, thread: str) -> dict[str, Any]:
    """A body the operation accepts (given the right state)."""
    return {"threadId": thread, **BODIES[_request_schema(method)][1]}


class Clock:
    """A wall clock the tests move by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Api:
    """The server under test, seen through the generated client, with every answer checked."""

    def __init__(self, base_url: str, schemas: SpecSchemas, clock: Clock) -> None:
        self.base_url = base_url
        self.schemas = schemas
        self.clock = clock
        self.client = self.client_of(DEMO_BOT)

    def client_of(self, bot: contract_signing.Bot | None) -> Client:
        """The generated client, signing as `bot` on the server's clock (None: unsigned)."""
        args: dict[str, Any] = {} if bot is None else {"auth": self.auth(bot)}
        return Client(base_url=self.base_url, httpx_args=args)

    def auth(self, bot: contract_signing.Bot = DEMO_BOT, *, skew: int = 0) -> BotAuth:
        return BotAuth(bot, clock=self.clock, skew=skew)

    @staticmethod
    def new_thread() -> str:
        return demo.thread(next(_THREAD_NUMBERS))

    def call(
        self,
        method: str,
        body: dict[str, Any],
        *,
        team: str = TEAM,
        client: Client | None = None,
    ) -> dict[str, Any]:
        """Call the operation through the generated client; answer the checked JSON."""
        build = BODIES[_request_schema(method)][0]
        module = endpoint(SPEC.operations[method])
        response = module.sync_detailed(team, client=client or self.client, body=build(body))
        return self.check(method, response.status_code, response.headers, response.content)

    def raw(
        self,
        method: str,
        content: bytes | None = None,
        *,
        team: str = TEAM,
        headers: dict[str, str | None] | None = None,
        http_method: str = "POST",
        bot: contract_signing.Bot | None = DEMO_BOT,
    ) -> httpx.Response:
        """Send exactly these bytes, which the generated client would refuse to build.

        Signed by `bot` (None: unsigned); a header given as None is not sent.
        """
        sent: dict[str, str | None] = {"Content-Type": "application/json"}
        if bot is not None:
            sent.update(signed_headers(content or b"", bot, clock=self.clock))
        sent.update(headers or {})
        return httpx.request(
            http_method,
            f"{self.base_url}/{team}/{method}",
            content=content,
            headers={k: v for k, v in sent.items() if v is not None},
            timeout=10,
        )

    def raw_json(self, method: str, body: Any, **kwargs: Any) -> dict[str, Any]:
        response = self.raw(method, json.dumps(body).encode(), **kwargs)
        return self.check(method, response.status_code, response.headers, response.content)

    def check(self, method: str, status: int, headers: Any, content: bytes) -> dict[str, Any]:
        """The answer is the envelope of the contract, valid against the spec for its status."""
        assert headers["content-type"] == "application/json"
        answer: dict[str, Any] = json.loads(content)
        assert answer["code"] == int(status)
        spec_operation = SPEC.operations[method]
        assert int(status) in spec_operation.statuses, f"{status} is not documented"
        path, verb = spec_operation.path, spec_operation.http_method.lower()
        operation = self.schemas.spec["paths"][path][verb]
        assert str(int(status)) in operation["responses"], f"{status} is not documented"
        response = self.schemas.resolve(operation["responses"][str(int(status))])
        name = operation["responses"][str(int(status))].get("$ref", "").rsplit("/", 1)[-1]
        where = (
            pointer("components", "responses", name, "content", "application/json", "schema")
            if name
            else pointer(
                "paths",
                path,
                verb,
                "responses",
                str(int(status)),
                "content",
                "application/json",
                "schema",
            )
        )
        assert "application/json" in response["content"]
        self.schemas.validator(where).validate(answer)
        if int(status) == 200:
            assert answer["message"] == "OK"
        return answer

    def start(self, thread: str | None = None, **extra: Any) -> str:
        thread = thread or self.new_thread()
        assert self.call("call/start", {"threadId": thread, **extra})["code"] == 200
        return thread


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def server(clock: Clock) -> Iterator[str]:
    app = create_app(":memory:", BOTS, clock=clock)
    with serve_in_thread(app) as base_url:
        yield base_url
    app.close()


@pytest.fixture
def api(server: str, schemas: SpecSchemas, clock: Clock) -> Api:
    return Api(server, schemas, clock)


# -- every operation, in the life of a call ----------------------------------------------------


def test_a_call_from_start_to_end(api: Api) -> None:
    a, b, c, d = USERS[:4]
    clock = api.clock
    started = clock.now
    thread = api.new_thread()
    assert api.call("call/start", {"threadId": thread, "direction": "incoming"})["data"] == {
        "direction": "incoming"
    }

    clock.now += 10.4
    invite = api.call("call.user/invite", {"threadId": thread, "userIds": [a, b]})
    assert invite["data"] == {"invitedUsersCount": 2}
    # Already in the call: not counted again.
    assert api.call("call.user/invite", {"threadId": thread, "userId": a})["data"] == {
        "invitedUsersCount": 0
    }
    # userId wins over userIds, which is ignored.
    assert api.call("call.user/invite", {"threadId": thread, "userId": c, "userIds": [d]})[
        "data"
    ] == {"invitedUsersCount": 1}

    assert api.call("call/pause", {"threadId": thread, "userIds": [a, b, d]})["data"] == {
        "pausedUsersCount": 2
    }
    assert api.call("call/pause", {"threadId": thread, "userId": a})["data"] == {
        "pausedUsersCount": 0
    }
    assert api.call("call/unpause", {"threadId": thread, "userIds": [a, c, d]})["data"] == {
        "unpausedUsersCount": 1
    }
    assert api.call("call.user/exclude", {"threadId": thread, "userIds": [b, d]})["data"] == {
        "excludedUsersCount": 1
    }
    assert api.call("call.user/exclude", {"threadId": thread, "userId": b})["data"] == {
        "excludedUsersCount": 0
    }
    # b left while paused: invited again, b is back and not paused.
    assert api.call("call.user/invite", {"threadId": thread, "userId": b})["data"] == {
        "invitedUsersCount": 1
    }
    assert api.call("call/unpause", {"threadId": thread, "userId": b})["data"] == {
        "unpausedUsersCount": 0
    }

    play = {"threadId": thread, "fileUrl": "https://example.com/audio/hold.MP3?v=2"}
    assert api.call("call.audio/play", play) == {"code": 200, "message": "OK"}
    assert (
        api.call("call.audio/play", {**play, "fileUrl": "http://example.com:8000/a.wav"})["code"]
        == 200
    )  # a new file replaces the one playing
    assert api.call("call.audio/stop", {"threadId": thread}) == {"code": 200, "message": "OK"}
    assert api.call("call.audio/stop", {"threadId": thread})["code"] == 409

    assert api.call("call.recording/start", {"threadId": thread}) == {"code": 200, "message": "OK"}
    assert api.call("call.recording/start", {"threadId": thread})["code"] == 409
    clock.now += 3
    file_url = api.call("call.recording/stop", {"threadId": thread})["data"]["fileUrl"]
    assert re.fullmatch(re.escape(api.base_url) + r"/recordings/[0-9a-f]{32}\.wav", file_url)
    assert api.call("call.recording/stop", {"threadId": thread})["code"] == 409
    recording = httpx.get(file_url, timeout=10)
    assert recording.status_code == 200
    assert recording.headers["content-type"] == "audio/wav"
    assert recording.content[:4] == b"RIFF" and recording.content[8:12] == b"WAVE"
    assert len(recording.content) == 44 + 3 * 8000  # three seconds, 8 kHz, 8 bit

    stream_url = api.call("call.stream/start", {"threadId": thread})["data"]["streamUrl"]
    assert re.fullmatch(re.escape(api.base_url) + r"/streams/[0-9a-f]{32}\.wav", stream_url)
    assert api.call("call.stream/start", {"threadId": thread})["code"] == 409
    assert httpx.get(stream_url, timeout=10).status_code == 200
    assert api.call("call.stream/stop", {"threadId": thread}) == {"code": 200, "message": "OK"}
    assert api.call("call.stream/stop", {"threadId": thread})["code"] == 409
    assert httpx.get(stream_url, timeout=10).status_code == 404

    # Ending a call stops its audio, recording and stream.
    api.call("call.audio/play", play)
    api.call("call.recording/start", {"threadId": thread})
    stream_url = api.call("call.stream/start", {"threadId": thread})["data"]["streamUrl"]
    clock.now = started + 95.9
    end = api.call("call/end", {"threadId": thread})
    assert end["data"] == {
        "callDuration": 95,
        "dialogDuration": 85,  # from the first invitation, 10.4 s after the start
        "result": "answered",
        "direction": "incoming",
    }
    for method in ("call.audio/stop", "call.recording/stop", "call.stream/stop", "call/end"):
        assert api.call(method, {"threadId": thread})["code"] == 409, method
    assert httpx.get(stream_url, timeout=10).status_code == 404

    # The thread is free again.
    assert api.call("call/start", {"threadId": thread})["data"] == {"direction": "outgoing"}
    assert api.call("call.user/exclude", {"threadId": thread, "userId": a})["data"] == {
        "excludedUsersCount": 0
    }


def test_a_call_nobody_joined_is_unanswered(api: Api) -> None:
    thread = api.start()
    api.clock.now += 7.99
    assert api.call("call/end", {"threadId": thread})["data"] == {
        "callDuration": 7,
        "dialogDuration": 0,
        "result": "unanswered",
        "direction": "outgoing",
    }


def test_durations_never_go_negative_when_the_clock_steps_back(api: Api) -> None:
    thread = api.start()
    api.call("call.user/invite", {"threadId": thread, "userId": USERS[0]})
    api.clock.now -= 30
    data = api.call("call/end", {"threadId": thread})["data"]
    assert data["callDuration"] == 0 and data["dialogDuration"] == 0
    api.clock.now += 60


def test_one_active_call_per_thread(api: Api) -> None:
    thread = api.start()
    conflict = api.call("call/start", {"threadId": thread, "direction": "incoming"})
    assert conflict["code"] == 409
    assert thread in conflict["message"]
    # Another thread, or the same thread id in another team, is another call.
    api.start()
    other = api.client_of(OTHER_BOT)
    assert (
        api.call("call/start", {"threadId": thread}, team=OTHER_TEAM, client=other)["code"] == 200
    )
    assert api.call("call/end", {"threadId": thread}, team=OTHER_TEAM, client=other)["code"] == 200
    assert api.call("call/end", {"threadId": thread})["code"] == 200


@pytest.mark.parametrize("method", NEEDS_ACTIVE_CALL)
def test_operations_on_a_thread_without_a_call_answer_409(api: Api, method: str) -> None:
    thread = api.new_thread()
    answer = api.call(method, valid_body(method, thread))
    assert answer["code"] == 409
    assert thread in answer["message"]


# -- 400: bad bodies ------------------------------------------------------------------------

THREAD = demo.THREADS[0]
ID_MESSAGE = "must be 24 lowercase hexadecimal characters"

BAD_BODIES = [
    ("call/start", {}, "threadId", "is required"),
    ("call/start", {"threadId": "5B0525134C0319001573485E"}, "threadId", ID_MESSAGE),
    ("call/start", {"threadId": THREAD[:-1]}, "threadId", ID_MESSAGE),
    ("call/start", {"threadId": THREAD + "0"}, "threadId", ID_MESSAGE),
    ("call/start", {"threadId": 5}, "threadId", None),
    ("call/start", {"threadId": None}, "threadId", None),
    ("call/start", {"threadId": THREAD, "direction": "sideways"}, "direction", None),
    ("call/start", {"threadId": THREAD, "direction": None}, "direction", None),
    ("call/start", {"threadid": THREAD}, "threadid", "is not a field of this request"),
    (
        "call/end",
        {"threadId": THREAD, "direction": "incoming"},
        "direction",
        "is not a field of this request",
    ),
    ("call.user/invite", {"threadId": THREAD}, "userId", "userId or userIds is required"),
    (
        "call.user/invite",
        {"threadId": THREAD, "userid": USERS[0]},
        "userid",
        "is not a field of this request",
    ),
    ("call.user/invite", {"threadId": THREAD, "userIds": []}, "userIds", None),
    ("call.user/invite", {"threadId": THREAD, "userIds": USERS[0]}, "userIds", None),
    ("call.user/invite", {"threadId": THREAD, "userIds": [USERS[0], "x"]}, "userIds.1", ID_MESSAGE),
    (
        "call/pause",
        {"threadId": THREAD, "userIds": [USERS[0], USERS[1], USERS[0]]},
        "userIds.2",
        "repeats userIds.0",
    ),
    ("call/unpause", {"threadId": THREAD, "userIds": [USERS[0]] * 101}, "userIds", None),
    (
        "call.user/exclude",
        {"threadId": THREAD, "userId": "nope", "userIds": [USERS[0]]},
        "userId",
        ID_MESSAGE,
    ),
    (
        "call.user/exclude",
        {"threadId": THREAD, "userId": USERS[0], "userIds": [USERS[1]] * 2},
        "userIds.1",
        "repeats userIds.0",
    ),
    ("call.audio/play", {"threadId": THREAD}, "fileUrl", "is required"),
    (
        "call.audio/play",
        {"threadId": THREAD, "fileUrl": "https://example.com/a.ogg"},
        "fileUrl",
        None,
    ),
    (
        "call.audio/play",
        {"threadId": THREAD, "fileUrl": "ftp://example.com/a.mp3"},
        "fileUrl",
        None,
    ),
    (
        "call.audio/play",
        {"threadId": THREAD, "fileUrl": "https://x/" + "a" * 2040 + ".mp3"},
        "fileUrl",
        None,
    ),
    (
        "call.recording/stop",
        {"threadId": THREAD, "fileUrl": "https://x.io/a.mp3"},
        "fileUrl",
        "is not a field of this request",
    ),
    (
        "call.stream/start",
        {"threadId": THREAD, "streamUrl": "https://x.io/a.mp3"},
        "streamUrl",
        "is not a field of this request",
    ),
]


@pytest.mark.parametrize(("method", "body", "field", "message"), BAD_BODIES)
def test_invalid_bodies_answer_400_naming_the_field(
    api: Api, method: str, body: dict[str, Any], field: str, message: str | None
) -> None:
    answer = api.raw_json(method, body)
    assert answer["code"] == 400
    fields = {error["field"]: error["message"] for error in answer["errors"]}
    assert field in fields, answer
    if message is not None:
        assert fields[field] == message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Expecting value"),
        (b'{"threadId": "' + THREAD.encode() + b'"', "Expecting ',' delimiter"),
        (b"{'threadId': 1}", "Expecting property name enclosed in double quotes"),
        (b'{"threadId": NaN}', "NaN is not valid JSON"),
        (b"\xff\xfe{}", None),
        (b"[]", "must be a JSON object"),
        (b'{"threadId": ' + b"[" * 30_000 + b"]" * 30_000 + b"}", None),  # too deep
        (b"null", "must be a JSON object"),
        (b'"' + THREAD.encode() + b'"', "must be a JSON object"),
    ],
)
def test_malformed_json_answers_400(api: Api, content: bytes, message: str | None) -> None:
    response = api.raw("call/start", content)
    answer = api.check("call/start", response.status_code, response.headers, response.content)
    assert answer["code"] == 400
    assert answer["errors"][0]["field"] == "body"
    if message is not None:
        assert answer["errors"][0]["message"] == message


def test_an_invalid_body_changes_nothing(api: Api) -> None:
    thread = api.start()
    bad = {"threadId": thread, "userIds": [USERS[0], USERS[0]]}
    assert api.raw_json("call.user/invite", bad)["code"] == 400
    assert api.call("call.user/exclude", {"threadId": thread, "userId": USERS[0]})["data"] == {
        "excludedUsersCount": 0
    }


# -- 413, 415 ----------------------------------------------------------------------------------


def test_a_body_over_64_kib_answers_413(api: Api) -> None:
    thread = api.start()
    # An id takes 28 bytes in the list (~75 KiB in all); the client checks nothing.
    many = [f"{n:024x}" for n in range(SPEC.max_body_bytes // 24)]
    answer = api.call("call.user/invite", {"threadId": thread, "userIds": many})
    assert answer["code"] == 413
    assert str(SPEC.max_body_bytes) in answer["message"]


def test_a_streamed_body_over_64_kib_answers_413(api: Api) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
        yield b'{"threadId": "' + THREAD.encode() + b'", "pad": "'
        for _ in range(SPEC.max_body_bytes // 1024 + 6):
            yield b"x" * 1024
        yield b'"}'

    response = httpx.post(
        f"{api.base_url}/{TEAM}/call/start",
        content=chunks(),
        timeout=10,
        headers={"Content-Type": "application/json"},
        auth=api.auth(),  # signs the body it is given: the whole stream, read first
    )
    assert (
        api.check("call/start", response.status_code, response.headers, response.content)["code"]
        == 413
    )


def test_a_body_of_exactly_64_kib_is_read(api: Api) -> None:
    body = json.dumps({"threadId": THREAD, "pad": ""}).encode()
    body = body[:-2] + b" " * (SPEC.max_body_bytes - len(body)) + body[-2:]
    assert len(body) == SPEC.max_body_bytes
    answer = api.check("call/start", *_status_headers_content(api.raw("call/start", body)))
    assert answer["code"] == 400 and answer["errors"][0]["field"] == "pad"


def _status_headers_content(response: httpx.Response) -> tuple[int, Any, bytes]:
    return response.status_code, response.headers, response.content


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/jsonp",
        "multipart/form-data",
        None,
    ],
)
def test_a_body_that_is_not_json_answers_415(api: Api, content_type: str | None) -> None:
    response = api.raw(
        "call/start",
        json.dumps({"threadId": THREAD}).encode(),
        headers={"Content-Type": content_type},
    )
    assert api.check("call/start", *_status_headers_content(response))["code"] == 415


def test_json_with_a_charset_parameter_is_json(api: Api) -> None:
    thread = api.new_thread()
    response = api.raw(
        "call/start",
        json.dumps({"threadId": thread}).encode(),
        headers={"Content-Type": "Application/JSON; charset=utf-8"},
    )
    assert api.check("call/start", *_status_headers_content(response))["code"] == 200


# -- 404, 405 ----------------------------------------------------------------------------------


HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")


@pytest.mark.parametrize(
    ("method", "http_method"),
    [
        (method, http_method)
        for method, operation in SPEC.operations.items()
        for http_method in HTTP_METHODS
        if http_method != operation.http_method
    ],
)
def test_other_http_methods_answer_405_with_allow(api: Api, method: str, http_method: str) -> None:
    allowed = SPEC.operations[method].http_method
    assert allowed == "POST"
    response = api.raw(method, None, http_method=http_method, bot=None)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.headers["content-type"] == "application/json"
    if http_method != "HEAD":
        assert response.json() == {
            "code": 405,
            "message": f"Method {http_method} is not allowed: use {allowed}",
        }


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/favicon.ico",
        f"/{TEAM}",
        f"/{TEAM}/",
        f"/{TEAM}/call/stop",
        f"/{TEAM}/call/start/",
        f"/{TEAM}/call.user/invite/extra",
        f"/{TEAM}/call/start/{THREAD}",
        "/call/start",
        f"/{TEAM}/call%2Fstart",
        "/recordings/0123.wav",
        f"/streams/{TEAM}.wav",
    ],
)
@pytest.mark.parametrize("http_method", ["POST", "GET"])
def test_unknown_paths_answer_404(api: Api, path: str, http_method: str) -> None:
    response = httpx.request(
        http_method,
        api.base_url + path,
        timeout=10,
        content=b"{}",
        headers={"Content-Type": "application/json", **signed_headers(b"{}", clock=api.clock)},
    )
    assert response.status_code == 404
    answer = response.json()
    assert answer["code"] == 404 and answer["message"]


def test_unknown_recordings_answer_404_and_only_get_reads_them(api: Api) -> None:
    url = f"{api.base_url}/recordings/{'0' * 32}.wav"
    response = httpx.get(url, timeout=10)
    assert response.status_code == 404
    assert response.json()["code"] == 404
    response = httpx.post(url, timeout=10)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


# -- security: 401, 403, and the order of the checks -------------------------------------------

#: A bot the server does not know, and the demo bot with a wrong secret key.
UNKNOWN_BOT = contract_signing.Bot("5c0e5996e43fb4001acfb0ff", DEMO_BOT.secret_key)
WRONG_KEY = contract_signing.Bot(DEMO_BOT.bot_id, "not-the-secret-key")


def _not_authorized(answer: dict[str, Any]) -> bool:
    message: str = answer["message"]
    return answer["code"] == 401 and message.startswith("Not authorized")


@pytest.mark.parametrize("method", OPERATIONS)
def test_security_of_every_operation(api: Api, method: str) -> None:
    thread = api.start()
    body = valid_body(method, thread)
    anonymous = api.client_of(None)
    # The bearer token of contract 1.x is no credential any more.
    bearer = Client(base_url=api.base_url, headers={"Authorization": f"Bearer {demo.TOKEN}"})
    stale = Client(base_url=api.base_url, httpx_args={"auth": api.auth(skew=-301)})
    for client in (anonymous, bearer, api.client_of(UNKNOWN_BOT), api.client_of(WRONG_KEY), stale):
        answer = api.call(method, body, client=client)
        assert _not_authorized(answer), answer
    answer = api.call(method, body, client=api.client_of(OTHER_BOT))
    assert answer == {"code": 403, "message": f"The bot is not installed in team {TEAM}"}
    # Refused requests changed nothing: the call is still there, with nobody in it.
    assert api.call("call/start", {"threadId": thread})["code"] == 409
    assert api.call("call.user/exclude", {"threadId": thread, "userIds": USERS[:2]})["data"] == {
        "excludedUsersCount": 0
    }


#: Changes of one header of a valid signature, each of which makes it unusable.
MALFORMED: list[tuple[str, Callable[[str], str]]] = [
    ("X-Bot-Id", lambda value: ""),
    ("X-Bot-Id", str.upper),
    ("X-Bot-Id", lambda value: value + "0"),
    ("X-timestamp", lambda value: ""),
    ("X-timestamp", lambda value: value + ".0"),
    ("X-timestamp", lambda value: "-" + value),
    ("X-timestamp", lambda value: value + "000"),  # milliseconds, not seconds
    ("X-Signature", lambda value: ""),
    ("X-Signature", str.upper),  # the rule says lowercase hex
    ("X-Signature", lambda value: value[:-1]),
    ("X-Signature", lambda value: value + "0"),
    ("X-Signature", lambda value: "sha256=" + value),
]


@pytest.mark.parametrize(("header", "change"), MALFORMED)
def test_malformed_signature_headers_answer_401(
    api: Api, header: str, change: Callable[[str], str]
) -> None:
    body = json.dumps({"threadId": api.new_thread()}).encode()
    headers: dict[str, str | None] = dict(signed_headers(body, clock=api.clock))
    headers[header] = change(headers[header] or "")
    response = api.raw("call/start", body, bot=None, headers=headers)
    assert _not_authorized(api.check("call/start", *_status_headers_content(response)))


def test_the_names_of_the_signature_headers_are_case_insensitive(api: Api) -> None:
    body = json.dumps({"threadId": api.new_thread()}).encode()
    headers = signed_headers(body, clock=api.clock)
    renamed: dict[str, str | None] = {
        name.upper() if n % 2 else name.lower(): value
        for n, (name, value) in enumerate(headers.items())
    }
    response = api.raw("call/start", body, bot=None, headers=renamed)
    assert api.check("call/start", *_status_headers_content(response))["code"] == 200


@pytest.mark.parametrize(
    "team",
    [
        TEAM.upper(),
        TEAM[:6],
        TEAM + "0",
        "not-an-id",
        "%20",
        TEAM[:-1] + "g",
    ],
)
def test_an_invalid_team_id_answers_401_unsigned_then_400(api: Api, team: str) -> None:
    body = json.dumps({"threadId": THREAD}).encode()
    response = api.raw("call/start", body, team=team, bot=None)
    assert api.check("call/start", *_status_headers_content(response))["code"] == 401
    response = api.raw("call/start", body, team=team)
    answer = api.check("call/start", *_status_headers_content(response))
    assert answer["code"] == 400
    assert answer["errors"] == [{"field": "teamId", "message": ID_MESSAGE}]


def test_an_escaped_team_id_is_read_unescaped(api: Api) -> None:
    escaped = "".join(f"%{ord(ch):02x}" for ch in TEAM)
    response = api.raw(
        "call/start", json.dumps({"threadId": api.new_thread()}).encode(), team=escaped
    )
    assert api.check("call/start", *_status_headers_content(response))["code"] == 200


BODIES_TO_REFUSE = [
    (b"x" * 1000, "text/plain"),
    (b"x" * 1000, None),
    (b"{", "application/json"),
]


@pytest.mark.parametrize(("content", "content_type"), BODIES_TO_REFUSE)
def test_authentication_comes_before_the_body(
    api: Api, content: bytes, content_type: str | None
) -> None:
    """An unsigned caller learns nothing: 401 even for a body that would be 415, 413 or 400;
    nor does a forged signature, or a bot of another team, for a body within the limit."""
    headers: dict[str, str | None] = {"Content-Type": content_type}
    for body in (content, content[:1] * 70_000):  # the second is over the limit
        response = api.raw("call/start", body, bot=None, headers=headers)
        assert response.status_code == 401
    # Signed over another body: refused for the signature once the body is read.
    forged = {**signed_headers(b"{}", clock=api.clock), **headers}
    assert api.raw("call/start", content, bot=None, headers=forged).status_code == 401
    assert api.raw("call/start", content, bot=OTHER_BOT, headers=headers).status_code == 403


def test_a_body_over_the_limit_answers_413_before_its_signature_is_checked(api: Api) -> None:
    """The signature covers the body, so the body is read first; never past the limit."""
    content = b"x" * (SPEC.max_body_bytes + 1)
    forged: dict[str, str | None] = dict(signed_headers(b"{}", clock=api.clock))
    for bot, headers in ((None, forged), (OTHER_BOT, {}), (DEMO_BOT, {})):
        response = api.raw("call/start", content, bot=bot, headers=headers)
        assert api.check("call/start", *_status_headers_content(response))["code"] == 413


# -- the application factory ---------------------------------------------------------------


def test_file_urls_start_with_the_configured_base_url(schemas: SpecSchemas) -> None:
    clock = Clock()
    app = create_app(":memory:", base_url="https://calls.example.com/sandbox/", clock=clock)
    try:
        with serve_in_thread(app) as base_url:
            api = Api(base_url, schemas, clock)
            thread = api.start()
            api.call("call.recording/start", {"threadId": thread})
            file_url = api.call("call.recording/stop", {"threadId": thread})["data"]["fileUrl"]
            assert re.fullmatch(
                r"https://calls\.example\.com/sandbox/recordings/[0-9a-f]{32}\.wav", file_url
            )
    finally:
        app.close()


def _bot(bot_id: str = DEMO_BOT.bot_id, *teams: str) -> auth.Bot:
    return auth.Bot(bot_id, "a-secret-key", frozenset(teams))


@pytest.mark.parametrize(
    ("bots", "message"),
    [
        ([], "at least one bot"),
        ([_bot(DEMO_BOT.bot_id)], "installed in no team"),
        ([_bot("", TEAM)], "invalid bot id"),
        ([_bot("bøt", TEAM)], "invalid bot id"),
        ([_bot(DEMO_BOT.bot_id, "333CCC134C0319001573485E")], "invalid team id"),
        ([_bot(DEMO_BOT.bot_id, TEAM, "team")], "invalid team id"),
        ([_bot(DEMO_BOT.bot_id, TEAM), _bot(DEMO_BOT.bot_id, OTHER_TEAM)], "given twice"),
    ],
)
def test_create_app_refuses_unusable_bots(bots: list[auth.Bot], message: str) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        create_app(":memory:", bots)
    assert "a-secret-key" not in str(refused.value)


# -- the generated client's friendly API, as a bot developer uses it -----------------------


def test_a_bot_session_through_call_api(server: str, clock: Clock) -> None:
    from workonflow_call import CallApi, CallApiError

    thread = Api.new_thread()
    a, b = USERS[:2]
    # The client is still generated from contract 1.x: it takes a token (sent, and ignored by
    # the server), and signs through httpx's `auth`.
    signed = {"auth": BotAuth(clock=clock)}
    with CallApi(server, token=demo.TOKEN, team_id=TEAM, httpx_args=signed) as api:
        assert api.call.start(thread_id=thread).data.direction == "outgoing"
        assert api.call_user.invite(thread_id=thread, user_ids=[a, b]).data.invited_users_count == 2
        assert api.call.pause(thread_id=thread, user_id=a).data.paused_users_count == 1
        api.call_recording.start(thread_id=thread)
        file_url = api.call_recording.stop(thread_id=thread).data.file_url
        assert httpx.get(file_url, timeout=10).content[:4] == b"RIFF"
        ended = api.call.end(thread_id=thread)
        assert ended.data.result == "answered"
        assert 0 <= ended.data.dialog_duration <= ended.data.call_duration

        with pytest.raises(CallApiError) as conflict:
            api.call.end(thread_id=thread)
        assert (conflict.value.status, conflict.value.code) == (409, 409)
        assert thread in conflict.value.message

        with pytest.raises(CallApiError) as invalid:
            api.call.start(thread_id="not-a-thread")
        assert invalid.value.status == 400
        assert [(e.field, e.message) for e in invalid.value.errors] == [("threadId", ID_MESSAGE)]

    other = {"auth": BotAuth(OTHER_BOT, clock=clock)}
    with CallApi(server, token=demo.TOKEN, team_id=TEAM, httpx_args=other) as intruder:
        with pytest.raises(CallApiError) as forbidden:
            intruder.call.start(thread_id=Api.new_thread())
        assert forbidden.value.status == 403
