"""The ASGI application: routing, signatures, body handling and the error envelope.

See the package docstring for the order in which a request is checked. The routes, the body
limit and the pattern of ids come from the spec (`contract.spec`); the operations themselves
are the named handlers of `reference_server.handlers`, acting on `reference_server.store`.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from contract import demo
from contract.spec import Spec, load

from . import validation
from .auth import Bot, Bots, Signed, Unauthorized
from .handlers import RECORDINGS, STREAMS, Request, media_file
from .routes import Router
from .store import Conflict, Store

#: The demo bot of the sandbox, installed in its team (its secret key is a public one).
DEMO_BOT = Bot(demo.BOT_ID, demo.SECRET_KEY, frozenset({demo.TEAM}))
#: The headers a request is signed with: as ASGI names them, and as the contract spells them.
_SIGNATURE_HEADERS = {
    b"x-bot-id": "X-Bot-Id",
    b"x-timestamp": "X-timestamp",
    b"x-signature": "X-Signature",
}

_MEDIA_PATH = re.compile(rb"/(%s|%s)/([0-9a-f]{32})\.wav" % (RECORDINGS.encode(), STREAMS.encode()))

# The ASGI 3 types, as the ASGI servers and test transports declare them.
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_JSON = (b"content-type", b"application/json")
_OK_BODY = b'{"code":200,"message":"OK"}'


class _Refusal(Exception):
    """A request refused with the error envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: list[dict[str, str]] | None = None,
        *,
        allow: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.allow = allow  # the `Allow` header of a 405


def envelope(status: int, message: str, errors: list[dict[str, str]] | None = None) -> bytes:
    body: dict[str, Any] = {"code": status, "message": message}
    if errors:
        body["errors"] = errors
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _ok(data: dict[str, Any] | None) -> bytes:
    if data is None:
        return _OK_BODY
    return (
        b'{"code":200,"message":"OK","data":'
        + json.dumps(data, separators=(",", ":")).encode()
        + b"}"
    )


def _is_json(content_type: bytes) -> bool:
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json"


class App:
    """The reference server as an ASGI 3 application (see `create_app`)."""

    def __init__(
        self,
        store: Store,
        bots: Bots,
        *,
        router: Router | None = None,
        base_url: str | None = None,
        access_log: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.router = router or Router(load())
        self.max_body_bytes = self.router.spec.max_body_bytes
        self._id = re.compile(self.router.spec.id_pattern)
        self.bots = bots
        self.base_url = base_url.rstrip("/") if base_url else None
        self.access_log = access_log
        self.error_log = logging.getLogger("reference_server.error")

    def close(self) -> None:
        self.store.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if self.access_log is None:
                await self._http(scope, receive, send)
                return
            started = time.perf_counter()
            status = await self._http(scope, receive, send)
            client = scope.get("client")
            peer = f"{client[0]}:{client[1]}" if client else "-"
            elapsed = (time.perf_counter() - started) * 1000
            # The path as sent (still percent-encoded): a decoded %0A could forge a log line.
            path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
            self.access_log(f'{peer} "{scope["method"]} {path}" {status} {elapsed:.2f}ms')
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:  # websocket: not part of this API
            raise RuntimeError(f"unsupported ASGI scope type {kind!r}")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> int:
        try:
            status, body, extra = await self._handle(scope, receive)
        except _Refusal as refusal:
            status = refusal.status
            body = envelope(status, refusal.message, refusal.errors)
            extra = ((b"allow", refusal.allow.encode()),) if refusal.allow else ()
        except Exception:  # noqa: BLE001 - a bug must still answer with the envelope
            self.error_log.error(
                "%s %s failed:\n%s", scope["method"], scope["path"], traceback.format_exc()
            )
            status, body, extra = 500, envelope(500, "Internal server error"), ()
        content_type = extra[0] if extra and extra[0][0] == b"content-type" else _JSON
        headers = [content_type, (b"content-length", str(len(body)).encode())]
        headers.extend(header for header in extra if header[0] != b"content-type")
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return status

    async def _handle(
        self, scope: Scope, receive: Receive
    ) -> tuple[int, bytes, tuple[tuple[bytes, bytes], ...]]:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        raw_path = raw_path.split(b"?", 1)[0]
        slash = raw_path.find(b"/", 1)
        route = self.router.route(raw_path[slash + 1 :]) if slash > 0 else None
        method = scope["method"]
        if route is None:
            return self._other_path(raw_path, method)
        operation = route.operation
        if method != operation.http_method:
            allowed = operation.http_method
            raise _Refusal(405, f"Method {method} is not allowed: use {allowed}", allow=allowed)

        content_type = content_length = None
        signature_headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in _SIGNATURE_HEADERS:
                if name in signature_headers:
                    shown = _SIGNATURE_HEADERS[name]
                    raise _Refusal(401, f"Not authorized: the {shown} header is given twice")
                signature_headers[name] = value
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                content_length = value

        # 1. Who is asking, from the headers alone (the body is not read yet): 401.
        try:
            signed: Signed = self.bots.identify(signature_headers)
        except Unauthorized as refused:
            raise _Refusal(401, str(refused)) from None
        # 2. The body, at most the spec's limit (413): the signature covers it.
        if content_length is not None:
            try:
                declared = int(content_length)
            except ValueError:
                raise _Refusal(400, "Invalid Content-Length header") from None
            if declared > self.max_body_bytes:
                raise self._too_large()
        body = await self._read_body(receive)
        # 3. The signature over that body, compared in constant time: 401.
        try:
            bot = self.bots.verify(signed, body)
        except Unauthorized as refused:
            raise _Refusal(401, str(refused)) from None
        # 4. The teamId of the path must be an id at all: 400 naming teamId.
        team_id = unquote(raw_path[1:slash].decode("latin-1"), errors="replace")
        if not self._id.fullmatch(team_id):
            raise _Refusal(
                400,
                "Invalid teamId in the path",
                [{"field": "teamId", "message": validation.OBJECT_ID_MESSAGE}],
            )
        # 5. ... and one the bot is installed in: 403 otherwise.
        if team_id not in bot.teams:
            raise _Refusal(403, f"The bot is not installed in team {team_id}")
        # An operation of the spec that the server does not implement: 501, whatever the body.
        if route.handler is None or route.validator is None:
            raise _Refusal(501, f"{operation.method} is not implemented by the reference server")
        # 6. The body: JSON (415), parseable and valid (400).
        if content_type is None or not _is_json(content_type):
            raise _Refusal(415, "The request body must be application/json")
        try:
            data = validation.parse_json(body)
            valid = route.validator(data)
        except validation.InvalidBody as invalid:
            raise _Refusal(400, invalid.message, invalid.errors) from None
        # 7. The state of the thread: 409 when it does not allow the operation.
        request = Request(self.store, team_id, valid, self._base(scope))
        try:
            result = route.handler(request)
        except Conflict as conflict:
            raise _Refusal(409, str(conflict)) from None
        return 200, _ok(route.data(result)), ()

    def _too_large(self) -> _Refusal:
        return _Refusal(413, f"The request body is larger than {self.max_body_bytes} bytes")

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Refusal(400, "The client closed the connection before the body ended")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _base(self, scope: Scope) -> str:
        if self.base_url:
            return self.base_url
        server = scope.get("server")
        if not server or server[1] is None:
            return "http://127.0.0.1"
        host, port = server
        if ":" in host:
            host = f"[{host}]"
        return f"{scope.get('scheme', 'http')}://{host}:{port}"

    def _other_path(
        self, raw_path: bytes, method: str
    ) -> tuple[int, bytes, tuple[tuple[bytes, bytes], ...]]:
        media = _MEDIA_PATH.fullmatch(raw_path)
        if media is None:
            path = unquote(raw_path.decode("latin-1"), errors="replace")
            raise _Refusal(404, f"No such operation: {path}")
        if method not in ("GET", "HEAD"):
            raise _Refusal(405, f"Method {method} is not allowed: use GET", allow="GET, HEAD")
        folder, media_id = media.group(1).decode(), media.group(2).decode()
        wav = media_file(self.store, folder, media_id)
        if wav is None:
            raise _Refusal(404, f"No such {folder[:-1]}: {media_id}")
        return 200, wav, ((b"content-type", b"audio/wav"),)


def create_app(
    database: str | Path = ":memory:",
    bots: Iterable[Bot] | None = None,
    *,
    base_url: str | None = None,
    synchronous: str = "NORMAL",
    access_log: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.time,
    spec: Spec | None = None,
) -> App:
    """The reference server as an ASGI application.

    `database` is the SQLite file that holds the state (`":memory:"`: a throwaway store);
    `bots` are the bots whose signed requests it accepts, each in the teams it is installed in
    (a `reference_server.auth.Bots`, or any iterable of `auth.Bot`; default: the demo bot of
    `contract.demo`, in the demo team). `clock` is the server's wall clock, for the durations
    of calls and for the timestamps of signatures alike (a `Bots` given keeps its `max_skew`,
    not its clock). `base_url` is the address that `fileUrl` and `streamUrl` start with
    (default: the address the request came in on). `access_log`, when given, is called with
    one line per request (e.g. `print`). `spec` is the contract the routes, the body limit and
    the ids' pattern come from (default: this repository's openapi.yaml,
    `contract.spec.load()`). Call `app.close()` (or let the ASGI server run the lifespan
    shutdown) to close the database.
    """
    spec = load() if spec is None else spec
    checked = check_bots((DEMO_BOT,) if bots is None else bots, spec, clock=clock)
    store = Store(database, synchronous=synchronous, clock=clock)
    return App(store, checked, router=Router(spec), base_url=base_url, access_log=access_log)


def check_bots(
    bots: Iterable[Bot],
    spec: Spec | None = None,
    *,
    clock: Callable[[], float] = time.time,
) -> Bots:
    """The bots on `clock`; refuses a bot in no team, or in a team that is not a valid id.

    The messages name the bot by its id, never by its secret key.
    """
    spec = load() if spec is None else spec
    max_skew = bots.max_skew if isinstance(bots, Bots) else None
    listed = list(bots)
    for bot in listed:
        if not isinstance(bot, Bot):
            raise TypeError(
                f"a bot is a reference_server.auth.Bot, not {type(bot).__name__} (the bearer "
                "tokens of contract 1.x are gone: see reference_server.auth.parse_bot)"
            )
        if not bot.bot_id.isascii() or not bot.bot_id.isprintable() or not bot.bot_id.strip():
            raise ValueError(f"invalid bot id {bot.bot_id!r}: it must be printable ASCII")
        if not bot.teams:
            raise ValueError(f"bot {bot.bot_id} is installed in no team")
        for team in sorted(bot.teams):
            if not spec.id_matches(team):
                raise ValueError(
                    f"invalid team id {team!r} for bot {bot.bot_id}: "
                    f"it {validation.OBJECT_ID_MESSAGE} ({spec.id_pattern})"
                )
    if max_skew is None:
        return Bots(listed, clock=clock)
    return Bots(listed, clock=clock, max_skew=max_skew)
