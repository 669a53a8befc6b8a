"""The fuzzer's webhook: an HTTP server that takes the call events a server delivers.

    with Receiver(bot, ("127.0.0.1", 0)) as receiver:   # receiver.url: where to deliver
        ...
        receiver.arrivals()                            # what came, in order, checked

Every POST is taken (`204`) and recorded as an `Arrival` with what is wrong with it as a
delivery of the contract (docs/contract.md, "Events"): its signature (`X-Bot-Id` of the run's
bot, `X-timestamp` within the window, `X-Signature` over the exact body with the bot's secret
key, compared in constant time) and its body (JSON, an `eventType` of the spec's `webhooks`,
valid against that event's schema). Taking even a faulty delivery keeps a server's queue
moving: the faults are the judge's to report (`fuzzing.events`), not a reason to make the
server retry. Listens on the address given (a free loopback port by default) in a thread of
its own, and stops at the end of the block. Bodies come with a `Content-Length` (411 without).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from contract.signing import (
    BOT_ID_HEADER,
    MAX_SKEW_SECONDS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Bot,
    signature,
)
from contract.spec import Spec, load

#: Bodies larger than this are refused (413) unread: no event comes near it; a request head
#: larger than the other closes the connection.
MAX_BODY_BYTES = 1 << 20
MAX_HEAD_BYTES = 1 << 16
PATH = "/events"


@dataclass
class Arrival:
    """One delivery: its body as sent, when it came (wall clock), what is wrong with it."""

    number: int
    body: bytes
    received: float
    event: dict[str, Any] = field(default_factory=dict)
    #: Signature faults (`unsigned or badly signed`), then body faults (`wrong field`).
    unsigned: str = ""
    malformed: str = ""

    @property
    def event_type(self) -> str:
        value = self.event.get("eventType")
        return value if isinstance(value, str) else "?"

    @property
    def thread(self) -> str:
        value = self.event.get("threadId")
        return value if isinstance(value, str) else "?"

    @property
    def event_id(self) -> str | None:
        value = self.event.get("eventId")
        return value if isinstance(value, str) else None

    def describe(self) -> str:
        """The event as it came, without its ids of delivery."""
        shown = {k: v for k, v in self.event.items() if k not in ("eventType", "eventId")}
        return f"{self.event_type} {json.dumps(shown, sort_keys=True)}"


def signature_fault(bot: Bot, headers: Mapping[str, str], body: bytes, now: float) -> str:
    """What is wrong with a delivery's signature as the run's bot's ("" when nothing)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    missing = [
        h for h in (BOT_ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER) if h.lower() not in lowered
    ]
    if missing:
        return f"no {', '.join(missing)}"
    bot_id = lowered[BOT_ID_HEADER.lower()]
    if bot_id != bot.bot_id:
        return f"{BOT_ID_HEADER} {bot_id!r} is not the bot {bot.bot_id}"
    stamp = lowered[TIMESTAMP_HEADER.lower()]
    if not stamp.isdigit() or stamp.startswith("0"):
        return f"{TIMESTAMP_HEADER} {stamp!r} is not the digits of whole Unix seconds"
    if abs(int(stamp) - now) > MAX_SKEW_SECONDS:
        return f"{TIMESTAMP_HEADER} is {int(now) - int(stamp)} s off (at most {MAX_SKEW_SECONDS})"
    wanted = signature(bot.bot_id, bot.secret_key, stamp, body)
    if not hmac.compare_digest(wanted, lowered[SIGNATURE_HEADER.lower()]):
        return f"{SIGNATURE_HEADER} is not the bot's signature of the body as sent"
    return ""


class EventSchemas:
    """The spec's schema of each event, by `eventType`."""

    def __init__(self, spec: Spec | None = None) -> None:
        import jsonschema_rs

        spec = spec or load()
        self.validators = {
            name: jsonschema_rs.validator_for(spec.schema(event.schema))
            for name, event in spec.events.items()
        }

    def fault(self, event: Any) -> str:
        """What is wrong with an event's body ("" when nothing)."""
        if not isinstance(event, dict):
            return "the body is not a JSON object"
        kind = event.get("eventType")
        validator = self.validators.get(kind) if isinstance(kind, str) else None
        if validator is None:
            return f"eventType {kind!r} is none of the contract's ({', '.join(self.validators)})"
        if validator.is_valid(event):
            return ""
        errors = [
            f"{'/'.join(map(str, e.instance_path)) or 'body'}: {e.message}"
            for e in validator.iter_errors(event)
        ]
        return "; ".join(errors[:3])


class Receiver:
    """See the module docstring. An HTTP/1.1 server on asyncio, in a thread of its own: each
    connection's requests (kept alive, pipelined or not) are taken in the order sent."""

    def __init__(
        self, bot: Bot, address: tuple[str, int] = ("127.0.0.1", 0), spec: Spec | None = None
    ) -> None:
        self.bot = bot
        self.schemas = EventSchemas(spec)
        self._arrivals: list[Arrival] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        try:  # binds now: an address in use is an OSError here
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._serve, *address, limit=MAX_HEAD_BYTES)
            )
        except BaseException:
            self._loop.close()
            raise
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="event-receiver", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.sockets[0].getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}{PATH}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _close(self) -> None:
        """Stop listening and close every connection (each one's reader then ends)."""
        self._server.close()
        for writer in self._connections.values():
            writer.close()
        await asyncio.gather(*self._connections, return_exceptions=True)

    def arrivals(self) -> list[Arrival]:
        """Every delivery so far, in the order they came."""
        with self._lock:
            return list(self._arrivals)

    def last_arrival(self) -> float:
        with self._lock:
            return self._arrivals[-1].received if self._arrivals else 0.0

    def take(self, headers: Mapping[str, str], body: bytes) -> None:
        """Record one delivery (what the HTTP server calls)."""
        now = time.time()
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        unsigned = signature_fault(self.bot, headers, body, now)
        malformed = self.schemas.fault(event)
        with self._lock:
            self._arrivals.append(
                Arrival(
                    number=len(self._arrivals) + 1,
                    body=body,
                    received=now,
                    event=event if isinstance(event, dict) else {},
                    unsigned=unsigned,
                    malformed=malformed,
                )
            )

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        try:
            while await self._one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass  # the sender closed the connection, or sent a head too large
        finally:
            self._connections.pop(task, None)
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Take one request; whether the connection stays open."""
        lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        method = lines[0].split(" ", 1)[0]
        headers = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        length = headers.get("content-length", "")
        status = 204
        if method != "POST":
            status = 405
        elif "transfer-encoding" in headers or not length.isdigit():
            status = 411
        elif int(length) > MAX_BODY_BYTES:
            status = 413
        if status != 204:
            writer.write(f"HTTP/1.1 {status} {_REASONS[status]}\r\n{_CLOSE}".encode())
            await writer.drain()
            return False
        self.take(headers, await reader.readexactly(int(length)))
        writer.write(_TAKEN)
        await writer.drain()
        return headers.get("connection", "").lower() != "close"


_REASONS = {405: "Method Not Allowed", 411: "Length Required", 413: "Content Too Large"}
_CLOSE = "Content-Length: 0\r\nConnection: close\r\n\r\n"
_TAKEN = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
