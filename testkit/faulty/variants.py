"""Deliberately faulty Call API servers: the reference server behind one fault each.

Each variant is an ASGI wrapper around `reference_server.create_app(":memory:", ...)` that
breaks exactly one rule of the contract, so that a fuzzing run against it must fail, and must
fail on the check that guards that rule (`VARIANTS[name].caught_by`). Every class of fault
that users report becomes one more variant here.

The wrapper reads the whole request, may rewrite it before the reference server sees it, then
may rewrite the answer (status, headers, body) before it is sent.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from contract.demo import TEAM, TOKEN
from reference_server import create_app

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


@dataclass
class Exchange:
    """One request and its answer, as the wrapper sees them (both may be rewritten)."""

    method: str  # the operation's `{method}`, e.g. `call.user/invite` ("" for other paths)
    headers: dict[str, str]
    body: bytes
    status: int = 0
    response_headers: list[tuple[bytes, bytes]] | None = None
    response: bytes = b""

    def request_json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def answer_json(self) -> Any:
        try:
            return json.loads(self.response)
        except ValueError:
            return None

    def answer(self, status: int, payload: Any, content_type: bytes = b"application/json") -> None:
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.status = status
        self.response = raw
        self.response_headers = [(b"content-type", content_type)]


class Wrapper:
    """An ASGI app around the reference server with hooks before and after each request."""

    def __init__(self) -> None:
        self.app = create_app(":memory:", {TOKEN: TEAM})

    def before(self, exchange: Exchange) -> None:
        """Rewrite the request (headers, body) before the reference server sees it."""

    def after(self, exchange: Exchange) -> None:
        """Rewrite the answer (status, headers, body) before it is sent."""

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        parts = scope["path"].split("/", 2)
        exchange = Exchange(
            method=parts[2] if len(parts) == 3 else "",
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
            body=b"".join(chunks),
        )
        self.before(exchange)
        if exchange.status:  # answered by the wrapper itself: the reference server never sees it
            await self._send(exchange, send)
            return
        inner = dict(scope)
        inner["headers"] = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in exchange.headers.items()
            if k != "content-length"
        ] + [(b"content-length", str(len(exchange.body)).encode())]
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": exchange.body, "more_body": False}

        captured: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                exchange.response_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                captured.append(message.get("body", b""))

        await self.app(inner, replay, capture)
        exchange.response = b"".join(captured)
        self.after(exchange)
        await self._send(exchange, send)

    @staticmethod
    async def _send(exchange: Exchange, send: Any) -> None:
        headers = [
            (k, v) for k, v in exchange.response_headers or [] if k.lower() != b"content-length"
        ]
        headers.append((b"content-length", str(len(exchange.response)).encode()))
        await send({"type": "http.response.start", "status": exchange.status, "headers": headers})
        await send({"type": "http.response.body", "body": exchange.response})


def _rewrite_data(exchange: Exchange, change: Callable[[dict[str, Any]], None]) -> None:
    answer = exchange.answer_json()
    if isinstance(answer, dict) and isinstance(answer.get("data"), dict):
        change(answer["data"])
        exchange.answer(exchange.status, answer)


def _incoming_call_start(exchange: Exchange) -> bool:
    """A `call/start` with the documented `direction: incoming`, sent with the demo token."""
    body = exchange.request_json()
    return (
        exchange.method == "call/start"
        and isinstance(body, dict)
        and body.get("direction") == "incoming"
        and exchange.headers.get("authorization") == f"Bearer {TOKEN}"
    )


class MissingField(Wrapper):
    """`call/end` answers without `result`."""

    def after(self, exchange: Exchange) -> None:
        if exchange.method == "call/end" and exchange.status == 200:
            _rewrite_data(exchange, lambda data: data.pop("result", None))


class WrongType(Wrapper):
    """`call/end` answers `callDuration` as a string, as the source document's table types it."""

    def after(self, exchange: Exchange) -> None:
        if exchange.method == "call/end" and exchange.status == 200:
            _rewrite_data(
                exchange, lambda data: data.update(callDuration=str(data["callDuration"]))
            )


class WrongStatus(Wrapper):
    """`call/start` answers 201 Created (envelope included) instead of 200."""

    def after(self, exchange: Exchange) -> None:
        answer = exchange.answer_json()
        if exchange.method == "call/start" and exchange.status == 200:
            answer["code"] = 201
            exchange.answer(201, answer)


class NotJson(Wrapper):
    """A refused body (400) is answered in plain text."""

    def after(self, exchange: Exchange) -> None:
        if exchange.status == 400:
            exchange.answer(400, b"Bad Request", content_type=b"text/plain; charset=utf-8")


class ServerErrorOnValid(Wrapper):
    """An incoming call (`direction: incoming`, a valid value) crashes with a 500."""

    def before(self, exchange: Exchange) -> None:
        if _incoming_call_start(exchange):
            exchange.answer(500, {"code": 500, "message": "Internal server error"})


class AuthIgnored(Wrapper):
    """Any token, or none, is taken for the demo token."""

    def before(self, exchange: Exchange) -> None:
        exchange.headers["authorization"] = f"Bearer {TOKEN}"


class InvalidBodyAccepted(Wrapper):
    """Unknown body fields are dropped instead of refused (a typo like `userid` passes)."""

    def before(self, exchange: Exchange) -> None:
        body = exchange.request_json()
        if isinstance(body, dict) and exchange.method:
            known = {"threadId", "direction", "userId", "userIds", "fileUrl"}
            exchange.body = json.dumps({k: v for k, v in body.items() if k in known}).encode()


class ValidBodyRefused(Wrapper):
    """`call/start` with the documented `direction: incoming` is refused as invalid."""

    def before(self, exchange: Exchange) -> None:
        if _incoming_call_start(exchange):
            exchange.answer(
                400,
                {
                    "code": 400,
                    "message": "Invalid request body",
                    "errors": [{"field": "direction", "message": "must be outgoing"}],
                },
            )


class InviteAfterEnd(Wrapper):
    """Once a thread's call ended, inviting into it answers 200 instead of 409.

    A fresh thread still answers 409: the fault shows only after start -> end -> invite.
    """

    def __init__(self) -> None:
        super().__init__()
        self.ended: set[str] = set()

    def after(self, exchange: Exchange) -> None:
        body = exchange.request_json()
        thread = body.get("threadId") if isinstance(body, dict) else None
        if exchange.method == "call/end" and exchange.status == 200:
            self.ended.add(thread)
        elif exchange.method == "call/start" and exchange.status == 200:
            self.ended.discard(thread)
        elif (
            exchange.method == "call.user/invite"
            and exchange.status == 409
            and thread in self.ended
        ):
            exchange.answer(200, {"code": 200, "message": "OK", "data": {"invitedUsersCount": 0}})


class LyingEnvelope(Wrapper):
    """A state conflict answers HTTP 409 with an envelope that says `code: 400`."""

    def after(self, exchange: Exchange) -> None:
        answer = exchange.answer_json()
        if exchange.status == 409 and isinstance(answer, dict):
            answer["code"] = 400
            exchange.answer(409, answer)


class CountTooHigh(Wrapper):
    """`call.user/invite` counts the calling agent too: one more than the users it invited."""

    def after(self, exchange: Exchange) -> None:
        if exchange.method == "call.user/invite" and exchange.status == 200:
            _rewrite_data(
                exchange, lambda data: data.update(invitedUsersCount=data["invitedUsersCount"] + 1)
            )


class DialogLongerThanCall(Wrapper):
    """`call/end` answers a dialog one second longer than the call."""

    def after(self, exchange: Exchange) -> None:
        if exchange.method == "call/end" and exchange.status == 200:
            _rewrite_data(
                exchange, lambda data: data.update(dialogDuration=data["callDuration"] + 1)
            )


class AnyTeam(Wrapper):
    """A valid token is accepted on every team's path (the team check is missing)."""

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            parts = scope["path"].split("/", 2)
            if len(parts) == 3 and len(parts[1]) == 24 and parts[1] != TEAM:
                scope = dict(
                    scope, path=f"/{TEAM}/{parts[2]}", raw_path=f"/{TEAM}/{parts[2]}".encode()
                )
        await super().__call__(scope, receive, send)


@dataclass(frozen=True)
class Variant:
    """A faulty server and the check that must catch it."""

    factory: Callable[[], ASGIApp]
    caught_by: str
    fault: str


VARIANTS: dict[str, Variant] = {
    "missing_field": Variant(
        MissingField, "response_schema_conformance", "call/end answers without data.result"
    ),
    "wrong_type": Variant(WrongType, "response_schema_conformance", "callDuration is a string"),
    "wrong_status": Variant(WrongStatus, "status_code_conformance", "call/start answers 201"),
    "not_json": Variant(NotJson, "content_type_conformance", "400 answered as text/plain"),
    "server_error": Variant(
        ServerErrorOnValid, "not_a_server_error", "500 on call/start with direction incoming"
    ),
    "auth_ignored": Variant(AuthIgnored, "ignored_auth", "no or a wrong token is accepted"),
    "invalid_body_accepted": Variant(
        InvalidBodyAccepted, "negative_data_rejection", "unknown body fields are ignored"
    ),
    "valid_body_refused": Variant(
        ValidBodyRefused, "positive_data_acceptance", "direction incoming is refused with 400"
    ),
    "invite_after_end": Variant(
        InviteAfterEnd, "thread_state_rules", "invite after call/end answers 200"
    ),
    "lying_envelope": Variant(
        LyingEnvelope, "envelope_code_matches_status", "HTTP 409 with envelope code 400"
    ),
    "count_too_high": Variant(
        CountTooHigh, "counts_within_named_users", "invitedUsersCount one above the users invited"
    ),
    "dialog_longer_than_call": Variant(
        DialogLongerThanCall, "call_durations_consistent", "dialogDuration > callDuration"
    ),
    "any_team": Variant(
        AnyTeam, "other_team_token_refused", "a token is accepted on another team's path"
    ),
}
