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
from contract.signing import Bot as Signer
from contract.spec import Operation, load
from reference_server import DEMO_BOT, Bot, create_app
from reference_server.testing import serve_in_thread
from testkit.signed_requests import BotAuth, signed

SpecSchemas = Any  # the `schemas` fixture of conftest.py


def pointer(*parts: str) -> str:
    """A JSON pointer to the given keys (RFC 6901)."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


SPEC = load()
#: Every operation of the spec, by `{method}`.
OPERATIONS = list(SPEC.operations)
TEAM = demo.TEAM
OTHER_TEAM = demo.OTHER_TEAM
#: The demo bot (in the demo team) signs the requests; another bot is in another team only.
SIGNER = Signer(demo.BOT_ID, demo.SECRET_KEY)
OTHER_SIGNER = Signer(demo.user(900), "other-secret")
BOTS = [DEMO_BOT, Bot(OTHER_SIGNER.bot_id, OTHER_SIGNER.secret_key, frozenset({OTHER_TEAM}))]
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
        self.client = self.signed_client(SIGNER)

    def signed_client(self, signer: Signer) -> Client:
        """The generated client, its requests signed by `signer` at the test clock's time."""
        return Client(base_url=self.base_url, httpx_args={"auth": BotAuth(signer, self.clock)})

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
        signer: Signer | None = SIGNER,
    ) -> httpx.Response:
        """Send exactly these bytes, which the generated client would refuse to build, signed
        by `signer` (None: unsigned) at the test clock's time.

        A header given as None is not sent.
        """
        sent: dict[str, str | None] = {"Content-Type": "application/json"}
        if signer is not None:
            sent.update(signed(content or b"", signer, timestamp=int(self.clock())))
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
    other = api.signed_client(OTHER_SIGNER)
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
        # Signed over nothing: the size is checked before the signature, which covers the body.
        headers=signed(b"", SIGNER, timestamp=int(api.clock())),
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
    response = api.raw(method, None, http_method=http_method, signer=None)
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
        headers=signed(b"{}", SIGNER, timestamp=int(api.clock())),
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


@pytest.mark.parametrize("method", OPERATIONS)
def test_security_of_every_operation(api: Api, method: str) -> None:
    thread = api.start()
    body = valid_body(method, thread)
    anonymous = Client(base_url=api.base_url)
    unknown = api.signed_client(Signer(demo.user(901), demo.SECRET_KEY))
    wrong_secret = api.signed_client(Signer(demo.BOT_ID, "not-the-secret"))
    other_team = api.signed_client(OTHER_SIGNER)
    for client in (anonymous, unknown, wrong_secret):
        answer = api.call(method, body, client=client)
        assert answer["code"] == 401 and answer["message"].startswith("Not authorized")
    answer = api.call(method, body, client=other_team)
    assert answer == {"code": 403, "message": f"The bot is not installed in team {TEAM}"}
    # Refused requests changed nothing: the call is still there, with nobody in it.
    assert api.call("call/start", {"threadId": thread})["code"] == 409
    assert api.call("call.user/exclude", {"threadId": thread, "userIds": USERS[:2]})["data"] == {
        "excludedUsersCount": 0
    }


def test_signature_header_names_are_case_insensitive(api: Api) -> None:
    content = json.dumps({"threadId": api.new_thread()}).encode()
    headers = {k.lower(): v for k, v in signed(content, SIGNER, timestamp=int(api.clock())).items()}
    response = api.raw("call/start", content, signer=None, headers=dict(headers))
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
    response = api.raw("call/start", body, team=team, signer=None)
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


def test_authentication_comes_before_the_body(api: Api) -> None:
    """An unsigned caller learns nothing: 401 even for a body that would be 415, 413 or 400.

    A signed caller of another team: 413 for a body over the limit (the signature covers the
    body, so its size is checked first), 403 for any other.
    """
    for content, content_type, signed_status in (
        (b"x" * 70_000, "text/plain", 413),
        (b"x" * 70_000, None, 413),
        (b"x" * 100, "text/plain", 403),
        (b"{", "application/json", 403),
    ):
        response = api.raw(
            "call/start", content, signer=None, headers={"Content-Type": content_type}
        )
        assert response.status_code == 401
        response = api.raw(
            "call/start", content, signer=OTHER_SIGNER, headers={"Content-Type": content_type}
        )
        assert response.status_code == signed_status


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


# -- the generated client's friendly API, as a bot developer uses it -----------------------


def test_a_bot_session_through_call_api() -> None:
    """A bot signs in with its id and secret key; the client signs every request itself."""
    from workonflow_call import CallApi, CallApiError

    app = create_app(":memory:", BOTS)  # the wall clock: CallApi signs with the time of sending
    thread = Api.new_thread()
    a, b = USERS[:2]
    with serve_in_thread(app) as server:
        with CallApi(server, bot_id=demo.BOT_ID, secret_key=demo.SECRET_KEY, team_id=TEAM) as api:
            assert api.call.start(thread_id=thread).data.direction == "outgoing"
            invited = api.call_user.invite(thread_id=thread, user_ids=[a, b])
            assert invited.data.invited_users_count == 2
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
            assert [(e.field, e.message) for e in invalid.value.errors] == [
                ("threadId", ID_MESSAGE)
            ]

        other = OTHER_SIGNER
        with CallApi(server, bot_id=other.bot_id, secret_key=other.secret_key, team_id=TEAM) as bot:
            with pytest.raises(CallApiError) as forbidden:
                bot.call.start(thread_id=Api.new_thread())
            assert forbidden.value.status == 403
        with CallApi(server, bot_id=demo.BOT_ID, secret_key="wrong", team_id=TEAM) as forger:
            with pytest.raises(CallApiError) as refused:
                forger.call.start(thread_id=Api.new_thread())
            assert refused.value.status == 401
    app.close()
