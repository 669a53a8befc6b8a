"""The ASGI application: routing, authentication, body handling and the error envelope.

See the package docstring for the order in which a request is checked. The routes, the body
limit and the pattern of ids come from the spec (`contract.spec`); the operations themselves
are the named handlers of `reference_server.handlers`, acting on `reference_server.store`.

Longer than 300 lines on purpose: the ASGI entry point keeps the whole order of checks of
one request in one place, so that it can be read top to bottom against the package docstring.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import re
import sqlite3
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

from contract import demo
from contract.fixtures import Fixtures
from contract.spec import Spec, load

from . import validation
from .auth import Bot, Bots, Unauthorized
from .control import CONTROLS, PREFIX
from .delivery import DEFAULT_RETRY_BASE, Delivery
from .events import DEFAULT_MAX_PENDING, OutboxFull, recorder_for
from .handlers import RECORDINGS, STREAMS, Request, media_file
from .limits import RateLimit
from .relay import RelayConfig, RelayProcess
from .routes import Router
from .store import DEFAULT_BUSY_TIMEOUT, Conflict, Store, is_busy

#: The demo bot of the sandbox, installed in the demo team (its secret is public on purpose).
DEMO_BOT = Bot(demo.BOT_ID, demo.SECRET_KEY, frozenset({demo.TEAM}))

_MEDIA_PATH = re.compile(rb"/(%s|%s)/([0-9a-f]{32})\.wav" % (RECORDINGS.encode(), STREAMS.encode()))

# The ASGI 3 types, as the ASGI servers and test transports declare them.
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_JSON = (b"content-type", b"application/json")
#: The request headers the app reads (ASGI gives header names in lower case).
_READ_HEADERS = frozenset(
    {b"x-bot-id", b"x-timestamp", b"x-signature", b"content-type", b"content-length"}
)
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


class _Busy(_Refusal):
    """The database stayed locked (by another connection) for the store's busy timeout: 503."""

    def __init__(
        self, busy_timeout: float, message: str = "The database is busy: try again shortly"
    ) -> None:
        super().__init__(503, message)
        self.retry_after = str(max(1, math.ceil(busy_timeout)))


class _Limited(_Refusal):
    """Over the rate limit (`--rate-limit`): 429 with the whole seconds until a token is back."""

    def __init__(self, wait: float) -> None:
        self.retry_after = str(max(1, math.ceil(wait)))
        super().__init__(429, f"Too many requests: try again in {self.retry_after} s")


_T = TypeVar("_T")

#: Content codings a body may declare: only none at all (the server decodes nothing).
_IDENTITY = frozenset({b"", b"identity"})


def _check_encoding(headers: list[tuple[bytes, bytes]]) -> None:
    """A body in a `Content-Encoding` the server does not decode (gzip, ...) answers 415."""
    for name, value in headers:
        if name == b"content-encoding" and value.strip().lower() not in _IDENTITY:
            coding = value.decode("latin-1").strip()
            raise _Refusal(
                415, f"Content-Encoding {coding!r} is not supported: send the body unencoded"
            )


def _closing(headers: list[tuple[bytes, bytes]], status: int) -> list[tuple[bytes, bytes]]:
    """`Connection: close` on a refusal of a request whose client waits for `100 Continue`.

    Such a client has not sent its body and waits for either a 100 or a final answer; once
    refused, the connection is closed rather than left waiting for a body that may never come.
    """
    if status >= 400 and (b"expect", b"100-continue") in (
        (name, value.lower()) for name, value in headers
    ):
        return [(b"connection", b"close")]
    return []


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


def _read_headers(scope: Scope) -> dict[bytes, bytes]:
    """The request headers the app reads."""
    return {name: value for name, value in scope["headers"] if name in _READ_HEADERS}


def _json_body(scope: Scope, headers: dict[bytes, bytes], body: bytes) -> dict[str, Any]:
    """The body as a JSON object: 415 for another media type or an encoding, 400 for no JSON
    object."""
    content_type = headers.get(b"content-type")
    if content_type is None or not _is_json(content_type):
        raise _Refusal(415, "The request body must be application/json")
    _check_encoding(scope["headers"])
    try:
        return validation.parse_json(body)
    except validation.InvalidBody as invalid:
        raise _Refusal(400, invalid.message, invalid.errors) from None


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
        webhooks: Iterable[str] = (),
        retry_base: float = DEFAULT_RETRY_BASE,
        known: Fixtures | None = None,
        rate_limit: RateLimit | None = None,
        relay: bool | None = None,
    ) -> None:
        self.store = store
        self.known = known
        self.rate_limit = rate_limit
        self.router = router or Router(load())
        self.max_body_bytes = self.router.spec.max_body_bytes
        self._id = re.compile(self.router.spec.id_pattern)
        self.bots = bots
        self.base_url = base_url.rstrip("/") if base_url else None
        self.access_log = access_log
        self.error_log = logging.getLogger("reference_server.error")
        # A store call that may wait (for another connection's lock, or for the disk) runs on
        # this one thread, never on the event loop, so that requests needing no database are
        # answered meanwhile. One thread: the store serialises its operations anyway.
        self._db_thread = ThreadPoolExecutor(1, thread_name_prefix="reference-server-db")
        #: The last call given to the database thread: while it runs, the thread has the store.
        self._on_thread: Future[Any] | None = None
        # Every other call runs on the event loop, told not to wait for a lock at all: a
        # thread hop per request (waking the thread, handing the GIL over twice) costs more
        # than the operation itself. With synchronous=FULL each commit waits for the disk,
        # so every call goes to the thread.
        self._on_loop = not store.syncs_each_commit
        if self._on_loop:
            # ... and the fsyncs of checkpoints happen on the thread.
            store.defer_checkpoints()
        #: Delivers the call events to the webhooks (None without webhooks); started by the
        #: first request or the lifespan's startup: from a process of its own beside a
        #: database file (`relay`, default), else on this loop.
        self.delivery: Delivery | RelayProcess | None = None
        if store.recorder is not None:
            if store.database != ":memory:" and relay is not False and os.name == "posix":
                spec = store.recorder.spec
                self.delivery = RelayProcess(
                    RelayConfig(
                        store.database,
                        list(webhooks),
                        list(bots),
                        retry_base,
                        str(spec.path) if spec is not None else None,
                    )
                )
                if store.outbox is not None:
                    store.outbox.elsewhere()
            else:
                self.delivery = Delivery(
                    store,
                    {bot.bot_id: bot for bot in bots},
                    list(webhooks),
                    self._in_store,
                    clock=bots.clock,
                    retry_base=retry_base,
                )

    def close(self) -> None:
        if isinstance(self.delivery, RelayProcess):
            self.delivery.close()
        self._db_thread.shutdown(wait=True)
        self.store.close()

    async def _in_store(self, function: Callable[..., _T], *args: Any) -> _T:
        """`function(*args)`; 503 (`_Busy`) when the database stays locked.

        On the event loop, unless the store needs an fsync per commit: SQLite is told not to
        wait for a lock held by another connection, and a locked database sends the call to
        the database thread, which waits for the lock up to the busy timeout. While the
        thread has the store (a checkpoint, calls waiting for the lock), the call waits for
        it to be done, then runs on the loop. A call that waited longer than the busy timeout
        for its turn on the thread (behind calls that each waited for the lock) answers 503
        at once instead of waiting once more.
        """
        queued = time.monotonic()
        if self._on_loop:
            # Never beside the thread: the loop would wait for the store's lock. Nor behind
            # it for good: new calls queued there would keep it busy under a steady load.
            while self._on_thread is not None and not self._on_thread.done():
                waiter = asyncio.wrap_future(self._on_thread)
                await asyncio.wait([waiter])
                if not waiter.cancelled():
                    waiter.exception()  # that call's own request answers its outcome
            store = self.store
            store.wait_for_lock(0)
            try:
                return function(*args)
            except sqlite3.OperationalError as error:
                if not is_busy(error):
                    raise
            finally:
                if store.checkpoint_due:
                    # Store calls wait for it to be done (above), then go on here.
                    self._on_thread = self._db_thread.submit(store.checkpoint)
        return await self._on_db_thread(function, args, queued)

    async def _on_db_thread(
        self, function: Callable[..., _T], args: tuple[Any, ...], queued: float
    ) -> _T:
        store = self.store
        busy_timeout = store.busy_timeout

        def call() -> _T:
            if time.monotonic() - queued > busy_timeout:
                raise _Busy(busy_timeout)
            store.wait_for_lock(busy_timeout)
            return function(*args)

        future = self._on_thread = self._db_thread.submit(call)
        try:
            # Shielded: a cancelled request leaves the call to finish, so that `_on_thread`
            # says truly whether the thread still has the store.
            return await asyncio.shield(asyncio.wrap_future(future))
        except Exception as error:
            if is_busy(error):
                raise _Busy(busy_timeout) from None
            raise

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if self.delivery is not None:
            self.delivery.start()
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
                if self.delivery is not None:
                    await self.delivery.stop()
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> int:
        try:
            wait = self.rate_limit.take() if self.rate_limit is not None else 0.0
            if wait:
                raise _Limited(wait)
            status, body, extra = await self._handle(scope, receive)
        except (_Busy, _Limited) as busy:
            status, body = busy.status, envelope(busy.status, busy.message)
            extra = ((b"retry-after", busy.retry_after.encode()),)
        except _Refusal as refusal:
            status = refusal.status
            body = envelope(status, refusal.message, refusal.errors)
            extra = ((b"allow", refusal.allow.encode()),) if refusal.allow else ()
        except Exception:  # a bug must still answer with the envelope
            self.error_log.error(
                "%s %s failed:\n%s", scope["method"], scope["path"], traceback.format_exc()
            )
            status, body, extra = 500, envelope(500, "Internal server error"), ()
        content_type = extra[0] if extra and extra[0][0] == b"content-type" else _JSON
        headers = [content_type, (b"content-length", str(len(body)).encode())]
        headers.extend(header for header in extra if header[0] != b"content-type")
        headers.extend(_closing(scope["headers"], status))
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
        verb = scope["method"]  # the HTTP method; an operation's `method` is its path
        if route is None:
            if raw_path.startswith(PREFIX):
                return await self._control(scope, receive, raw_path)
            return await self._other_path(raw_path, verb)
        operation = route.operation
        if verb != operation.http_method:
            allowed = operation.http_method
            raise _Refusal(405, f"Method {verb} is not allowed: use {allowed}", allow=allowed)

        headers = _read_headers(scope)
        bot, body = await self._authenticate(headers, receive)
        team_id = self._team(bot, raw_path[1:slash])
        # An operation of the spec that the server does not implement: 501, whatever the body.
        if route.handler is None or route.validator is None:
            raise _Refusal(501, f"{operation.method} is not implemented by the reference server")
        # 7. The body: JSON (415), parseable and valid (400).
        data = _json_body(scope, headers, body)
        try:
            valid = route.validator(data)
        except validation.InvalidBody as invalid:
            raise _Refusal(400, invalid.message, invalid.errors) from None
        # 8. Ids the server does not know (with `known`, a fixed set): 404 naming each field.
        if self.known is not None:
            unknown = self.known.unknown(data)
            if unknown:
                raise _Refusal(
                    404,
                    f"Unknown {unknown[0][0]} {unknown[0][1]}",
                    [{"field": name, "message": f"no such id: {value}"} for name, value in unknown],
                )
        # 9. The state of the thread: 409 when it does not allow the operation.
        request = Request(self.store, team_id, valid, self._base(scope))
        result = await self._change(route.handler, request)
        return 200, _ok(route.data(result)), ()

    def _team(self, bot: Bot, raw_team: bytes) -> str:
        """The path's team (steps 5 and 6)."""
        # 5. The teamId of the path must be an id at all: 400 naming teamId.
        team_id = unquote(raw_team.decode("latin-1"), errors="replace")
        if not self._id.fullmatch(team_id):
            raise _Refusal(
                400,
                "Invalid teamId in the path",
                [{"field": "teamId", "message": validation.OBJECT_ID_MESSAGE}],
            )
        # 6. ... and a team the bot is installed in: 403 otherwise.
        if team_id not in bot.teams:
            raise _Refusal(403, f"The bot is not installed in team {team_id}")
        return team_id

    async def _change(self, function: Callable[..., _T], *args: Any) -> _T:
        """A change of the state: 409 when the thread does not allow it, 503 when its events
        would overflow the outbox; its events are delivered once it is committed."""
        try:
            result = await self._in_store(function, *args)
        except Conflict as conflict:
            raise _Refusal(409, str(conflict)) from None
        except OutboxFull as full:
            raise _Busy(self.store.busy_timeout, str(full)) from None
        if self.delivery is not None:
            self.delivery.wake()
        return result

    async def _control(
        self, scope: Scope, receive: Receive, raw_path: bytes
    ) -> tuple[int, bytes, tuple[tuple[bytes, bytes], ...]]:
        """A sandbox control request (`reference_server.control`), checked as an operation."""
        raw_team, _, name = raw_path[len(PREFIX) :].partition(b"/")
        control = CONTROLS.get(name.decode("latin-1"))
        if control is None:
            path = unquote(raw_path.decode("latin-1"), errors="replace")
            raise _Refusal(404, f"No such control request: {path}")
        if scope["method"] != "POST":
            raise _Refusal(405, f"Method {scope['method']} is not allowed: use POST", allow="POST")
        headers = _read_headers(scope)
        bot, body = await self._authenticate(headers, receive)
        team_id = self._team(bot, raw_team)
        data = _json_body(scope, headers, body)
        try:
            result = await self._change(control.act, self.store, team_id, data)
        except validation.InvalidBody as invalid:
            raise _Refusal(400, invalid.message, invalid.errors) from None
        return 200, _ok(result), ()

    async def _authenticate(
        self, headers: dict[bytes, bytes], receive: Receive
    ) -> tuple[Bot, bytes]:
        """The bot that signed the request, and the body it signed (steps 2 to 4)."""
        # 2. Who is asking, from the headers alone: all three signature headers, a known bot,
        #    a timestamp close to the server's clock; 401 otherwise, before the body is read.
        try:
            signed = self.bots.identify(headers)
        except Unauthorized as refusal:
            raise _Refusal(401, str(refusal)) from None
        # 3. The signature covers the body: it is read first, at most the spec's limit (413).
        content_length = headers.get(b"content-length")
        if content_length is not None:
            try:
                declared = int(content_length)
            except ValueError:
                raise _Refusal(400, "Invalid Content-Length header") from None
            if declared > self.max_body_bytes:
                raise self._too_large()
        body = await self._read_body(receive)
        # 4. The signature, over the body exactly as received (constant-time comparison): 401.
        try:
            bot = self.bots.verify(signed, body)
        except Unauthorized as refusal:
            raise _Refusal(401, str(refusal)) from None
        return bot, body

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

    async def _other_path(
        self, raw_path: bytes, verb: str
    ) -> tuple[int, bytes, tuple[tuple[bytes, bytes], ...]]:
        media = _MEDIA_PATH.fullmatch(raw_path)
        if media is None:
            path = unquote(raw_path.decode("latin-1"), errors="replace")
            raise _Refusal(404, f"No such operation: {path}")
        if verb not in ("GET", "HEAD"):
            raise _Refusal(405, f"Method {verb} is not allowed: use GET", allow="GET, HEAD")
        folder, media_id = media.group(1).decode(), media.group(2).decode()
        wav = await self._in_store(media_file, self.store, folder, media_id)
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
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    webhooks: Iterable[str] = (),
    max_pending: int = DEFAULT_MAX_PENDING,
    retry_base: float = DEFAULT_RETRY_BASE,
    known: Fixtures | None = None,
    rate_limit: float | None = None,
    relay: bool | None = None,
) -> App:
    """The reference server as an ASGI application.

    `database` is the SQLite file that holds the state (`":memory:"`: a throwaway store);
    `bots` are the bots whose signed requests it accepts, each in its teams (default: the
    demo bot of `contract.demo` in the demo team). `base_url` is the address that `fileUrl`
    and `streamUrl` start with (default: the address the request came in on). `access_log`,
    when given, is called with one line per request (e.g. `print`). `clock` gives the time
    that durations and signature timestamps are measured against. `spec` is the contract
    the routes, the body limit and the ids' pattern come from (default: this repository's
    openapi.yaml, `contract.spec.load()`). Call `app.close()` (or let the ASGI server run the
    lifespan shutdown) to close the database. `busy_timeout` is how long an operation waits
    for a write lock held by another connection to the file before it answers 503.

    `webhooks` are the URLs the call events are delivered to (`reference_server.delivery`),
    each event once per bot installed in its team, signed as that bot; the outbox holds at
    most `max_pending` undelivered ones (past it, a change answers 503), and an event not
    taken is sent again after `retry_base` seconds, then twice as long each time. They are
    delivered from a process of its own beside a database file (`reference_server.relay`;
    `relay=False`: on the server's loop, as with a database in memory).

    Like a staging deployment: with `known` only those threads and users exist and any other
    well-formed id answers 404 (naming its field); with `rate_limit` (requests per second)
    requests over it answer 429 with `Retry-After`. Without them (the default) threads and
    users are created on demand and no rate is enforced.
    """
    spec = load() if spec is None else spec
    signers = Bots([DEMO_BOT] if bots is None else bots, clock=clock)
    webhooks = list(webhooks)
    teams = {bot.bot_id: bot.teams for bot in signers}
    recorder = recorder_for(webhooks, teams, max_pending, spec)
    store = Store(
        database, synchronous=synchronous, clock=clock, busy_timeout=busy_timeout, recorder=recorder
    )
    return App(
        store,
        signers,
        router=Router(spec),
        base_url=base_url,
        access_log=access_log,
        webhooks=webhooks,
        retry_base=retry_base,
        known=known,
        rate_limit=RateLimit(rate_limit, clock) if rate_limit else None,
        relay=relay,
    )
