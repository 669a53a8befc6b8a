"""Deliberately faulty Call API servers: the reference server behind one fault each.

Each variant is an ASGI wrapper around `reference_server.create_app(":memory:", ...)` that
breaks exactly one rule of the contract, so that a fuzzing run against it must fail, and must
fail on the check that guards that rule (`VARIANTS[name].caught_by`). Every class of fault
that users report becomes one more variant here.

The wrapper reads the whole request, may rewrite it before the reference server sees it, then
may rewrite the answer (status, headers, body) before it is sent.

Longer than 300 lines on purpose: a catalogue of small, independent wrapper classes, one per
fault, that the harness, the tests and the bench look up by name in one table.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from contract.demo import BOT_ID, SECRET_KEY, TEAM, user
from contract.signing import (
    BOT_ID_HEADER,
    MAX_SKEW_SECONDS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Bot,
    signature,
)
from contract.spec import load
from reference_server import auth, create_app
from reference_server.__main__ import WEBHOOKS_VARIABLE, parse_webhooks
from reference_server.delivery import Delivery
from reference_server.events import Recorder

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


@dataclass
class Intercepted:
    """One request and its answer, as the wrapper sees them (both may be rewritten)."""

    method: str  # the operation's `{method}`, e.g. `call.user/invite` ("" for other paths)
    headers: dict[str, str]
    body: bytes
    status: int = 0
    response_headers: list[tuple[bytes, bytes]] | None = None
    response: bytes = b""
    team: str = ""  # the `teamId` of the path
    #: What `before` noted for `after` (e.g. the users of the call before the request).
    notes: dict[str, Any] = field(default_factory=dict)

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
        # The bot of $WORKONFLOW_BOT_ID / $WORKONFLOW_SECRET_KEY (the fuzzer's variables), else
        # the demo bot, installed in the demo team; the call events go to $WORKONFLOW_WEBHOOK.
        self.app = create_app(
            ":memory:",
            [auth.Bot(SERVED.bot_id, SERVED.secret_key, frozenset({TEAM}))],
            webhooks=WEBHOOKS,
        )

    def before(self, exchange: Intercepted) -> None:
        """Rewrite the request (headers, body) before the reference server sees it."""

    def after(self, exchange: Intercepted) -> None:
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
        exchange = Intercepted(
            method=parts[2] if len(parts) == 3 else "",
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
            body=b"".join(chunks),
            team=parts[1] if len(parts) == 3 else "",
        )
        received, signed = exchange.body, signed_by_demo_bot(exchange)
        self.before(exchange)
        if signed and exchange.body != received:
            resign(exchange)  # a rewritten body keeps the signature its sender gave it
        if exchange.status:  # answered by the wrapper itself: the reference server never sees it
            await self._send(exchange, send)
            return
        inner = dict(scope)
        if len(parts) == 3 and exchange.team != parts[1]:  # `before` changed the team
            path = f"/{exchange.team}/{parts[2]}"
            inner.update(path=path, raw_path=path.encode("latin-1"))
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

        async def capture(message: MutableMapping[str, Any]) -> None:
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
    async def _send(exchange: Intercepted, send: Any) -> None:
        headers = [
            (k, v) for k, v in exchange.response_headers or [] if k.lower() != b"content-length"
        ]
        headers.append((b"content-length", str(len(exchange.response)).encode()))
        await send({"type": "http.response.start", "status": exchange.status, "headers": headers})
        await send({"type": "http.response.body", "body": exchange.response})


def _rewrite_data(exchange: Intercepted, change: Callable[[dict[str, Any]], None]) -> None:
    answer = exchange.answer_json()
    if isinstance(answer, dict) and isinstance(answer.get("data"), dict):
        change(answer["data"])
        exchange.answer(exchange.status, answer)


def _incoming_call_start(exchange: Intercepted) -> bool:
    """A `call/start` with the documented `direction: incoming`, signed by the demo bot."""
    body = exchange.request_json()
    return (
        exchange.method == "call/start"
        and isinstance(body, dict)
        and body.get("direction") == "incoming"
        and signed_by_demo_bot(exchange)
    )


#: The bot the faulty servers accept (never shown: its `repr` hides the secret key).
SERVED = Bot(
    os.environ.get("WORKONFLOW_BOT_ID") or BOT_ID,
    os.environ.get("WORKONFLOW_SECRET_KEY") or SECRET_KEY,
)
#: Where the faulty servers deliver the call events (the reference server's variable).
WEBHOOKS = parse_webhooks(os.environ.get(WEBHOOKS_VARIABLE), ())


def _header(exchange: Intercepted, name: str) -> str:
    return exchange.headers.get(name.lower(), "").strip()


def _signature_of(exchange: Intercepted, stamp: str, body: bytes) -> str:
    """The served bot's signature of `body` at `stamp`, when the request names that bot."""
    if _header(exchange, BOT_ID_HEADER) != SERVED.bot_id:
        return ""
    return signature(SERVED.bot_id, SERVED.secret_key, stamp, body)


def signed_by_demo_bot(exchange: Intercepted) -> bool:
    """The request carries the served bot's (`SERVED`) valid, current signature of its body."""
    stamp = _header(exchange, TIMESTAMP_HEADER)
    if not stamp.isdigit() or abs(int(stamp) - time.time()) > MAX_SKEW_SECONDS:
        return False
    given = _header(exchange, SIGNATURE_HEADER)
    return bool(given) and _signature_of(exchange, stamp, exchange.body) == given


def resign(exchange: Intercepted) -> None:
    """Replace the request's signature headers with the demo bot's, valid now: the reference
    server behind the wrapper then accepts what the faulty server let through."""
    for name, value in SERVED.headers(exchange.body).items():
        exchange.headers[name.lower()] = value


class MissingField(Wrapper):
    """`call/end` answers without `result`."""

    def after(self, exchange: Intercepted) -> None:
        if exchange.method == "call/end" and exchange.status == 200:
            _rewrite_data(exchange, lambda data: data.pop("result", None))


class WrongType(Wrapper):
    """`call/end` answers `callDuration` as a string, as the source document's table types it."""

    def after(self, exchange: Intercepted) -> None:
        if exchange.method == "call/end" and exchange.status == 200:
            _rewrite_data(
                exchange, lambda data: data.update(callDuration=str(data["callDuration"]))
            )


class WrongStatus(Wrapper):
    """`call/start` answers 201 Created (envelope included) instead of 200."""

    def after(self, exchange: Intercepted) -> None:
        answer = exchange.answer_json()
        if exchange.method == "call/start" and exchange.status == 200:
            answer["code"] = 201
            exchange.answer(201, answer)


class NotJson(Wrapper):
    """A refused body (400) is answered in plain text."""

    def after(self, exchange: Intercepted) -> None:
        if exchange.status == 400:
            exchange.answer(400, b"Bad Request", content_type=b"text/plain; charset=utf-8")


class ServerErrorOnValid(Wrapper):
    """An incoming call (`direction: incoming`, a valid value) crashes with a 500."""

    def before(self, exchange: Intercepted) -> None:
        if _incoming_call_start(exchange):
            exchange.answer(500, {"code": 500, "message": "Internal server error"})


class AuthIgnored(Wrapper):
    """Unsigned requests are accepted: any request, signed or not, is taken for the demo bot's."""

    def before(self, exchange: Intercepted) -> None:
        resign(exchange)


class TimestampIgnored(Wrapper):
    """Stale (or future) timestamps are accepted: a signature is checked, its age is not."""

    def before(self, exchange: Intercepted) -> None:
        stamp = _header(exchange, TIMESTAMP_HEADER)
        if stamp.isdigit() and _signature_of(exchange, stamp, exchange.body) == _header(
            exchange, SIGNATURE_HEADER
        ):
            resign(exchange)


class SignatureOverOtherBody(Wrapper):
    """The signature is also taken when it covers another body than the bytes received: the
    body parsed and re-serialized as compact JSON (as `JSON.stringify(req.body)` does), or no
    body at all (the signature checked before the body was read)."""

    def before(self, exchange: Intercepted) -> None:
        stamp = _header(exchange, TIMESTAMP_HEADER)
        given = _header(exchange, SIGNATURE_HEADER)
        if not stamp.isdigit() or abs(int(stamp) - time.time()) > MAX_SKEW_SECONDS:
            return
        others = [b""]
        parsed = exchange.request_json()
        if parsed is not None:
            others.append(json.dumps(parsed, separators=(",", ":")).encode())
        if any(_signature_of(exchange, stamp, other) == given for other in others):
            resign(exchange)


class UnknownBotAccepted(Wrapper):
    """A bot the server does not know is taken for the demo bot when its signature is right
    for the demo bot's secret key (the secret looked up without the bot id)."""

    def before(self, exchange: Intercepted) -> None:
        bot_id = _header(exchange, BOT_ID_HEADER)
        stamp = _header(exchange, TIMESTAMP_HEADER)
        if bot_id and bot_id != SERVED.bot_id and stamp.isdigit():
            expected = signature(bot_id, SERVED.secret_key, stamp, exchange.body)
            if expected == _header(exchange, SIGNATURE_HEADER):
                resign(exchange)


class InvalidBodyAccepted(Wrapper):
    """Unknown body fields are dropped instead of refused (a typo like `userid` passes)."""

    def before(self, exchange: Intercepted) -> None:
        body = exchange.request_json()
        known = {"threadId", "direction", "userId", "userIds", "fileUrl"}
        if isinstance(body, dict) and exchange.method and set(body) - known:
            exchange.body = json.dumps({k: v for k, v in body.items() if k in known}).encode()


class ValidBodyRefused(Wrapper):
    """`call/start` with the documented `direction: incoming` is refused as invalid."""

    def before(self, exchange: Intercepted) -> None:
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

    def after(self, exchange: Intercepted) -> None:
        body = exchange.request_json()
        thread = body.get("threadId") if isinstance(body, dict) else None
        if not isinstance(thread, str):
            return
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

    def after(self, exchange: Intercepted) -> None:
        answer = exchange.answer_json()
        if exchange.status == 409 and isinstance(answer, dict):
            answer["code"] = 400
            exchange.answer(409, answer)


class CountTooHigh(Wrapper):
    """`call.user/invite` counts the calling agent too: one more than the users it invited."""

    def after(self, exchange: Intercepted) -> None:
        if exchange.method == "call.user/invite" and exchange.status == 200:
            _rewrite_data(
                exchange, lambda data: data.update(invitedUsersCount=data["invitedUsersCount"] + 1)
            )


class DialogLongerThanCall(Wrapper):
    """`call/end` answers a dialog one second longer than the call."""

    def after(self, exchange: Intercepted) -> None:
        if exchange.method == "call/end" and exchange.status == 200:
            _rewrite_data(
                exchange, lambda data: data.update(dialogDuration=data["callDuration"] + 1)
            )


class AnyTeam(Wrapper):
    """A bot's signed request is accepted on every team's path (the team check is missing)."""

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            parts = scope["path"].split("/", 2)
            if len(parts) == 3 and len(parts[1]) == 24 and parts[1] != TEAM:
                scope = dict(
                    scope, path=f"/{TEAM}/{parts[2]}", raw_path=f"/{TEAM}/{parts[2]}".encode()
                )
        await super().__call__(scope, receive, send)


# -- faults the contract model catches: counts, effects, echoes --------------------------------


def _named_users(exchange: Intercepted) -> list[str]:
    """The distinct users a users request names (`userId` wins over `userIds`)."""
    body = exchange.request_json()
    if not isinstance(body, dict):
        return []
    if isinstance(body.get("userId"), str):
        return [body["userId"]]
    users = body.get("userIds")
    return (
        list(dict.fromkeys(u for u in users if isinstance(u, str)))
        if isinstance(users, list)
        else []
    )


class _UsersBefore(Wrapper):
    """Notes the users of the thread's call (user -> paused) before `method` runs."""

    method = ""

    def before(self, exchange: Intercepted) -> None:
        body = exchange.request_json()
        if exchange.method == self.method and isinstance(body, dict):
            thread = body.get("threadId")
            if isinstance(thread, str):
                exchange.notes["users"] = self.app.store.participants(exchange.team, thread) or {}


class InviteCountsMembers(Wrapper):
    """`call.user/invite` counts every user it names, those already in the call too."""

    def after(self, exchange: Intercepted) -> None:
        if exchange.method == "call.user/invite" and exchange.status == 200:
            named = len(_named_users(exchange))
            _rewrite_data(exchange, lambda data: data.update(invitedUsersCount=named))


class UnpauseCountsUnpaused(_UsersBefore):
    """`call/unpause` also counts users of the call who were never paused."""

    method = "call/unpause"

    def after(self, exchange: Intercepted) -> None:
        users = exchange.notes.get("users")
        if exchange.method == self.method and exchange.status == 200 and users is not None:
            count = sum(1 for user in _named_users(exchange) if user in users)
            _rewrite_data(exchange, lambda data: data.update(unpausedUsersCount=count))


class PauseCountsAbsent(_UsersBefore):
    """`call/pause` also counts the named users who are not in the call."""

    method = "call/pause"

    def after(self, exchange: Intercepted) -> None:
        users = exchange.notes.get("users")
        if exchange.method == self.method and exchange.status == 200 and users is not None:
            absent = sum(1 for user in _named_users(exchange) if user not in users)
            _rewrite_data(
                exchange,
                lambda data: data.update(pausedUsersCount=data["pausedUsersCount"] + absent),
            )


class ExcludeWithoutEffect(_UsersBefore):
    """`call.user/exclude` answers the right count, but the users stay in the call."""

    method = "call.user/exclude"

    def after(self, exchange: Intercepted) -> None:
        users = exchange.notes.get("users")
        body = exchange.request_json()
        if exchange.method == self.method and exchange.status == 200 and users:
            stay = [user for user in _named_users(exchange) if user in users]
            if stay and isinstance(body, dict):
                self.app.store.call_user_invite(exchange.team, body["threadId"], stay)


class DirectionIgnored(Wrapper):
    """`call/start` answers `direction: outgoing`, whatever direction was asked for."""

    def after(self, exchange: Intercepted) -> None:
        if exchange.method == "call/start" and exchange.status == 200:
            _rewrite_data(exchange, lambda data: data.update(direction="outgoing"))


# -- faults of the request's constraints: the spec's boundaries catch them ---------------------

SPEC = load()
_MAX_BODY = SPEC.max_body_bytes
_MAX_USERS = int(SPEC.schema("UserIds")["maxItems"])
_FILE_URL = re.compile(SPEC.schema("CallAudioPlayRequest")["properties"]["fileUrl"]["pattern"])
_ID_FIELDS = ("threadId", "userId")


class _BodyRewrite(Wrapper):
    """Rewrites the JSON body of an operation before the reference server judges it."""

    def rewrite(self, body: dict[str, Any]) -> None:
        """Change `body` in place."""

    def before(self, exchange: Intercepted) -> None:
        body = exchange.request_json()
        if exchange.method and isinstance(body, dict):
            before = json.dumps(body)
            self.rewrite(body)
            if json.dumps(body) != before:  # unchanged bodies keep their bytes (and size)
                exchange.body = json.dumps(body).encode()


class IdCaseInsensitive(_BodyRewrite):
    """Ids with upper-case hexadecimal letters are taken as their lower-case form."""

    def rewrite(self, body: dict[str, Any]) -> None:
        for name in _ID_FIELDS:
            if isinstance(body.get(name), str):
                body[name] = body[name].lower()
        if isinstance(body.get("userIds"), list):
            body["userIds"] = [u.lower() if isinstance(u, str) else u for u in body["userIds"]]

    def before(self, exchange: Intercepted) -> None:
        super().before(exchange)
        exchange.team = exchange.team.lower()


class TrailingNewlineAccepted(_BodyRewrite):
    """An id followed by a newline is accepted: the pattern's `$` matched before it."""

    def rewrite(self, body: dict[str, Any]) -> None:
        for name in _ID_FIELDS:
            if isinstance(body.get(name), str):
                body[name] = body[name].removesuffix("\n")


class MediaTypeIgnored(Wrapper):
    """A JSON body sent as `text/plain` is accepted."""

    def before(self, exchange: Intercepted) -> None:
        if exchange.headers.get("content-type", "").split(";")[0].strip() == "text/plain":
            exchange.headers["content-type"] = "application/json"


class BodyLimitOffByOne(Wrapper):
    """A body of one byte over the limit is accepted (the check is `>` limit + 1)."""

    def before(self, exchange: Intercepted) -> None:
        if len(exchange.body) == _MAX_BODY + 1:
            exchange.body = exchange.body.rstrip() or exchange.body[:-1]


class ChunkedBodyUnlimited(Wrapper):
    """The size limit is checked on the Content-Length header only: a chunked body of any
    size is accepted."""

    def before(self, exchange: Intercepted) -> None:
        if "content-length" not in exchange.headers and len(exchange.body) > _MAX_BODY:
            exchange.body = exchange.body.strip()


class UserListTooLong(_BodyRewrite):
    """`userIds` of `maxItems + 1` users is accepted (the last one is ignored)."""

    def rewrite(self, body: dict[str, Any]) -> None:
        users = body.get("userIds")
        if isinstance(users, list) and len(users) == _MAX_USERS + 1:
            body["userIds"] = users[:_MAX_USERS]


class DuplicateUsersAccepted(_BodyRewrite):
    """A user named twice in `userIds` is accepted (counted once)."""

    def rewrite(self, body: dict[str, Any]) -> None:
        users = body.get("userIds")
        if isinstance(users, list) and all(isinstance(u, str) for u in users):
            body["userIds"] = list(dict.fromkeys(users))


class NullAccepted(_BodyRewrite):
    """A field given as `null` is taken as left out (`direction: null` starts an outgoing call)."""

    def rewrite(self, body: dict[str, Any]) -> None:
        for name in [name for name, value in body.items() if value is None]:
            del body[name]


class EnumCaseInsensitive(_BodyRewrite):
    """`direction` is accepted in any case (`Incoming`)."""

    def rewrite(self, body: dict[str, Any]) -> None:
        if isinstance(body.get("direction"), str):
            body["direction"] = body["direction"].lower()


class FileExtensionIgnored(_BodyRewrite):
    """`fileUrl` need not end in `.mp3` or `.wav`: any file is accepted."""

    def rewrite(self, body: dict[str, Any]) -> None:
        url = body.get("fileUrl")
        if not isinstance(url, str) or _FILE_URL.search(url):
            return
        path, _, query = url.partition("?")
        head = re.sub(r"\.[A-Za-z0-9]*$", "", path.rsplit("/", 1)[-1])
        candidate = f"{path.rsplit('/', 1)[0]}/{head or 'file'}.mp3" + (
            f"?{query}" if query else ""
        )
        if _FILE_URL.search(candidate):
            body["fileUrl"] = candidate


class TeamCheckedFirst(Wrapper):
    """A malformed `teamId` is answered 403 (not the bot's team) instead of 400."""

    def before(self, exchange: Intercepted) -> None:
        if exchange.method and signed_by_demo_bot(exchange) and not SPEC.id_matches(exchange.team):
            exchange.answer(403, {"code": 403, "message": "Forbidden"})


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
    # Signatures (contract 2.0.0).
    "auth_ignored": Variant(AuthIgnored, "ignored_auth", "unsigned requests are accepted"),
    "timestamp_ignored": Variant(
        TimestampIgnored, "spec_boundaries", "a timestamp 301 s off is accepted"
    ),
    "signature_over_other_body": Variant(
        SignatureOverOtherBody,
        "spec_boundaries",
        "a signature over the body re-serialized, or over no body, is accepted",
    ),
    "unknown_bot_accepted": Variant(
        UnknownBotAccepted, "spec_boundaries", "an unknown bot signing with a known secret"
    ),
    "invalid_body_accepted": Variant(
        InvalidBodyAccepted, "negative_data_rejection", "unknown body fields are ignored"
    ),
    "valid_body_refused": Variant(
        ValidBodyRefused, "positive_data_acceptance", "direction incoming is refused with 400"
    ),
    "invite_after_end": Variant(
        InviteAfterEnd, "contract_model", "invite after call/end answers 200"
    ),
    "lying_envelope": Variant(
        LyingEnvelope, "envelope_code_matches_status", "HTTP 409 with envelope code 400"
    ),
    "count_too_high": Variant(
        CountTooHigh, "contract_model", "invitedUsersCount one above the users invited"
    ),
    "dialog_longer_than_call": Variant(
        DialogLongerThanCall, "contract_model", "dialogDuration > callDuration"
    ),
    "any_team": Variant(AnyTeam, "other_team_refused", "a bot is accepted on another team's path"),
    # The contract model: counts, effects, echoes.
    "invite_counts_members": Variant(
        InviteCountsMembers, "contract_model", "invite counts users already in the call"
    ),
    "unpause_counts_unpaused": Variant(
        UnpauseCountsUnpaused, "contract_model", "unpause counts users never paused"
    ),
    "pause_counts_absent": Variant(
        PauseCountsAbsent, "contract_model", "pause counts users not in the call"
    ),
    "exclude_without_effect": Variant(
        ExcludeWithoutEffect, "contract_model", "excluded users stay in the call"
    ),
    "direction_ignored": Variant(
        DirectionIgnored, "contract_model", "call/start answers direction outgoing always"
    ),
    # The request's constraints: the spec's boundaries.
    "id_case_insensitive": Variant(
        IdCaseInsensitive, "spec_boundaries", "ids with upper-case hex are accepted"
    ),
    "trailing_newline_accepted": Variant(
        TrailingNewlineAccepted, "spec_boundaries", "an id followed by a newline is accepted"
    ),
    "media_type_ignored": Variant(
        MediaTypeIgnored, "spec_boundaries", "a JSON body sent as text/plain is accepted"
    ),
    "body_limit_off_by_one": Variant(
        BodyLimitOffByOne, "spec_boundaries", "a body one byte over the limit is accepted"
    ),
    "chunked_body_unlimited": Variant(
        ChunkedBodyUnlimited, "spec_boundaries", "a chunked body over the limit is accepted"
    ),
    "user_list_too_long": Variant(
        UserListTooLong, "spec_boundaries", "userIds of maxItems + 1 is accepted"
    ),
    "duplicate_users_accepted": Variant(
        DuplicateUsersAccepted, "spec_boundaries", "a repeated userIds item is accepted"
    ),
    "null_accepted": Variant(NullAccepted, "spec_boundaries", "direction: null is accepted"),
    "enum_case_insensitive": Variant(
        EnumCaseInsensitive, "spec_boundaries", "direction Incoming is accepted"
    ),
    "file_extension_ignored": Variant(
        FileExtensionIgnored, "spec_boundaries", "a fileUrl not ending in .mp3/.wav is accepted"
    ),
    "team_checked_first": Variant(
        TeamCheckedFirst, "spec_boundaries", "a malformed teamId is answered 403, not 400"
    ),
}


# -- Forged signatures: each variant takes one forgery of an input that the contract refuses.


def _current(stamp: str) -> bool:
    """`stamp` is whole seconds within the window of the server's clock."""
    return stamp.isdigit() and abs(int(stamp) - time.time()) <= MAX_SKEW_SECONDS


def _given(exchange: Intercepted) -> str:
    return _header(exchange, SIGNATURE_HEADER)


def _signs(exchange: Intercepted, stamp: str) -> bool:
    """The signature given is the served bot's over `stamp` and the body received."""
    return _signature_of(exchange, stamp, exchange.body) == _given(exchange)


class MillisecondTimestamps(Wrapper):
    """An `X-timestamp` in milliseconds is taken too (JavaScript's `Date.now()`): a time of
    more than ten digits is divided by 1000 before the window is checked, and the signature
    checked over the text received."""

    def before(self, exchange: Intercepted) -> None:
        stamp = _header(exchange, TIMESTAMP_HEADER)
        seconds = str(int(stamp) // 1000) if stamp.isdigit() else ""
        if len(stamp) > 10 and _current(seconds) and _signs(exchange, stamp):
            resign(exchange)


class SignatureCaseInsensitive(Wrapper):
    """The signature is compared without regard to case: upper-case hex is taken."""

    def before(self, exchange: Intercepted) -> None:
        stamp, given = _header(exchange, TIMESTAMP_HEADER), _given(exchange)
        expected = _signature_of(exchange, stamp, exchange.body)
        if _current(stamp) and given != given.lower() and expected == given.lower():
            resign(exchange)


class SignaturePrefixAccepted(Wrapper):
    """A signature is compared over the length given (`expected.startswith(given)`): a
    truncated signature is taken."""

    def before(self, exchange: Intercepted) -> None:
        stamp, given = _header(exchange, TIMESTAMP_HEADER), _given(exchange)
        expected = _signature_of(exchange, stamp, exchange.body)
        if _current(stamp) and given and expected != given and expected.startswith(given):
            resign(exchange)


class InputsInAnotherOrder(Wrapper):
    """The signature over `secretkey + botId + timestamp + body` (the key first, as other bot
    APIs order it) is taken too."""

    def before(self, exchange: Intercepted) -> None:
        stamp, bot_id = _header(exchange, TIMESTAMP_HEADER), _header(exchange, BOT_ID_HEADER)
        # the key first: the secret key in the place of the bot's id, and the id in its place
        swapped = signature(SERVED.secret_key, bot_id, stamp, exchange.body)
        if _current(stamp) and bot_id == SERVED.bot_id and swapped == _given(exchange):
            resign(exchange)


class FutureTimestampAccepted(Wrapper):
    """The window is checked on one side only (`now - timestamp > 300`, no `abs`): a time in
    the future, however far, is taken."""

    def before(self, exchange: Intercepted) -> None:
        stamp = _header(exchange, TIMESTAMP_HEADER)
        if stamp.isdigit() and int(stamp) > time.time() and _signs(exchange, stamp):
            resign(exchange)


class BotIdCaseInsensitive(Wrapper):
    """The bot is looked up by its id in lower case, and the signature checked with the id as
    the server stores it: `X-Bot-Id` in another case is taken."""

    def before(self, exchange: Intercepted) -> None:
        stamp, bot_id = _header(exchange, TIMESTAMP_HEADER), _header(exchange, BOT_ID_HEADER)
        expected = signature(SERVED.bot_id, SERVED.secret_key, stamp, exchange.body)
        other_case = bot_id != SERVED.bot_id and bot_id.lower() == SERVED.bot_id.lower()
        if other_case and _current(stamp) and expected == _given(exchange):
            resign(exchange)


class TimestampParsedLoosely(Wrapper):
    """The time is read as Python's `int()` reads it (a sign, leading zeros, `_` allowed) and
    the signature checked over the number written back (`str(int(stamp))`)."""

    def before(self, exchange: Intercepted) -> None:
        stamp = _header(exchange, TIMESTAMP_HEADER)
        try:
            number = str(int(stamp))
        except ValueError:
            return
        if number != stamp and _current(number) and _signs(exchange, number):
            resign(exchange)


class TimestampLeadingZeros(Wrapper):
    """A time with leading zeros is taken (digits only are checked, then the number): the
    signature checked over the text received."""

    def before(self, exchange: Intercepted) -> None:
        stamp = _header(exchange, TIMESTAMP_HEADER)
        if stamp.startswith("0") and _current(stamp) and _signs(exchange, stamp):
            resign(exchange)


VARIANTS.update(
    {
        "millisecond_timestamps": Variant(
            MillisecondTimestamps, "spec_boundaries", "an X-timestamp in milliseconds is accepted"
        ),
        "signature_case_insensitive": Variant(
            SignatureCaseInsensitive, "spec_boundaries", "an upper-case hex signature is accepted"
        ),
        "signature_prefix_accepted": Variant(
            SignaturePrefixAccepted, "spec_boundaries", "a truncated signature is accepted"
        ),
        "inputs_in_another_order": Variant(
            InputsInAnotherOrder,
            "spec_boundaries",
            "a signature of secretkey + botId + timestamp + body is accepted",
        ),
        "future_timestamp_accepted": Variant(
            FutureTimestampAccepted,
            "spec_boundaries",
            "the window is checked on one side: any future time is accepted",
        ),
        "bot_id_case_insensitive": Variant(
            BotIdCaseInsensitive, "spec_boundaries", "X-Bot-Id in upper case is accepted"
        ),
        "timestamp_parsed_loosely": Variant(
            TimestampParsedLoosely,
            "spec_boundaries",
            "a time with a sign or leading zeros, signed over the number, is accepted",
        ),
        "timestamp_leading_zeros": Variant(
            TimestampLeadingZeros, "spec_boundaries", "a time with a leading zero is accepted"
        ),
    }
)


# -- faults of the call events: the fuzzer's receiver catches them -------------------------------

#: The fuzzer's check of the events: a variant caught by it delivers its events to the run.
EVENTS_CHECK = "events"


@dataclass(frozen=True)
class _EventsRewritten(Recorder):
    """The reference server's recorder of events, with the bodies of each change rewritten
    by `rewrite(method, bodies)` as they are made from the outbox's row."""

    rewrite: Callable[[str, list[bytes]], list[bytes]] = field(default=lambda _, bodies: bodies)

    def bodies(
        self,
        team_id: str,
        thread_id: str,
        method: str,
        counted: Sequence[str] = (),
        values: Mapping[str, object] | None = None,
        ids: str | None = None,
    ) -> list[bytes]:
        made = super().bodies(team_id, thread_id, method, counted, values, ids)
        return self.rewrite(method, made)


def _event(body: bytes) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(body)
    return event


def _body(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


class _EventFault(Wrapper):
    """Rewrites the events of each change (`rewrite`) on their way to the webhook."""

    def __init__(self) -> None:
        super().__init__()
        recorder = self.app.store.recorder
        if recorder is not None:
            self.app.store.recorder = _EventsRewritten(
                recorder.webhooks,
                recorder.bots_of_team,
                recorder.max_pending,
                recorder.spec,
                rewrite=self.rewrite,
            )

    def rewrite(self, method: str, bodies: list[bytes]) -> list[bytes]:
        return bodies


class EndedNeverSent(_EventFault):
    """`call/end` answers 200, but its `call.ended` never comes."""

    def rewrite(self, method: str, bodies: list[bytes]) -> list[bytes]:
        return [] if method == "call/end" else bodies


class InvitedOnStart(_EventFault):
    """`call/start` also tells of a user invited whom no request named."""

    def rewrite(self, method: str, bodies: list[bytes]) -> list[bytes]:
        if method != "call/start" or not bodies:
            return bodies
        created = _event(bodies[0])
        invited = {
            "eventType": "call.user.invited",
            "threadId": created["threadId"],
            "streamId": created["streamId"],
            "contactId": user(777),
            "phoneNumber": "89990000777",
            "eventId": secrets.token_hex(16),
        }
        return [*bodies, _body(invited)]


class InvitedTwice(_EventFault):
    """Each `call.user.invited` comes twice, the second time with an `eventId` of its own."""

    def rewrite(self, method: str, bodies: list[bytes]) -> list[bytes]:
        if method != "call.user/invite":
            return bodies
        twice = []
        for body in bodies:
            twice += [body, _body({**_event(body), "eventId": secrets.token_hex(16)})]
        return twice


class InvitedReversed(_EventFault):
    """The `call.user.invited` events of one invite come in the reverse order of the users."""

    def rewrite(self, method: str, bodies: list[bytes]) -> list[bytes]:
        return bodies[::-1] if method == "call.user/invite" else bodies


class InvitedWrongContact(_EventFault):
    """`call.user.invited` names another user as `contactId` than the one invited."""

    def rewrite(self, method: str, bodies: list[bytes]) -> list[bytes]:
        if method != "call.user/invite":
            return bodies
        return [_body({**_event(body), "contactId": user(778)}) for body in bodies]


class EventsBadlySigned(Wrapper):
    """The events are signed with another secret key than the bot's."""

    def __init__(self) -> None:
        super().__init__()
        delivery = self.app.delivery  # a database in memory: delivered on the server's loop
        if isinstance(delivery, Delivery):
            delivery.bots = {
                bot_id: replace(bot, secret_key=bot.secret_key + "-not")
                for bot_id, bot in delivery.bots.items()
            }


class EndedOnRefusal(Wrapper):
    """A `call/end` refused with 409 (no call) still tells of a call ended."""

    def after(self, exchange: Intercepted) -> None:
        body = exchange.request_json()
        store = self.app.store
        if (
            exchange.method == "call/end"
            and exchange.status == 409
            and isinstance(body, dict)
            and store.recorder is not None
            and store.outbox is not None
            and self.app.delivery is not None
        ):
            with store._transaction():  # as a change would, without changing anything
                store.recorder.record(store.outbox, exchange.team, body["threadId"], "call/end")
            self.app.delivery.wake()


VARIANTS.update(
    {
        "event_missing": Variant(EndedNeverSent, EVENTS_CHECK, "call.ended never comes"),
        "event_extra": Variant(
            InvitedOnStart, EVENTS_CHECK, "call/start also tells of a user invited"
        ),
        "event_duplicated": Variant(
            InvitedTwice, EVENTS_CHECK, "call.user.invited comes twice with two eventIds"
        ),
        "events_out_of_order": Variant(
            InvitedReversed, EVENTS_CHECK, "the invited events of one invite come reversed"
        ),
        "event_wrong_field": Variant(
            InvitedWrongContact, EVENTS_CHECK, "call.user.invited names another contactId"
        ),
        "events_badly_signed": Variant(
            EventsBadlySigned, EVENTS_CHECK, "the events are signed with another secret key"
        ),
        "event_for_refusal": Variant(
            EndedOnRefusal, EVENTS_CHECK, "a call/end refused with 409 still causes call.ended"
        ),
    }
)


# Ids that exist (contract 2.4.0): a 404 is for an unknown id only.


class UserListNotFound(Wrapper):
    """call.user/invite naming users by `userIds` is answered 404 (as if a user did not
    exist), where the reference server answered 200 or 409: a lookup that fails for lists."""

    def after(self, exchange: Intercepted) -> None:
        body = exchange.request_json()
        if (
            exchange.method == "call.user/invite"
            and exchange.status in (200, 409)
            and isinstance(body, dict)
            and "userIds" in body
            and "userId" not in body
        ):
            exchange.answer(
                404,
                {
                    "code": 404,
                    "message": "Unknown userIds",
                    "errors": [{"field": "userIds", "message": "no such user"}],
                },
            )


VARIANTS["user_list_not_found"] = Variant(
    UserListNotFound, "spec_boundaries", "invite by userIds answers 404 for users that exist"
)
