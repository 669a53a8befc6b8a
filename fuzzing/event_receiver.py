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
its own, and stops at the end of the block.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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

#: Bodies larger than this are refused (413) unread: no event comes near it.
MAX_BODY_BYTES = 1 << 20
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
    if not stamp.isdigit():
        return f"{TIMESTAMP_HEADER} {stamp!r} is not Unix seconds"
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
    """See the module docstring."""

    def __init__(
        self, bot: Bot, address: tuple[str, int] = ("127.0.0.1", 0), spec: Spec | None = None
    ) -> None:
        self.bot = bot
        self.schemas = EventSchemas(spec)
        self._arrivals: list[Arrival] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(address, self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="event-receiver",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        shown = host.decode() if isinstance(host, bytes) else host
        return f"http://{shown}:{port}{PATH}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def arrivals(self) -> list[Arrival]:
        """Every delivery so far, in the order they came."""
        with self._lock:
            return list(self._arrivals)

    def last_arrival(self) -> float:
        with self._lock:
            return self._arrivals[-1].received if self._arrivals else 0.0

    def take(self, headers: Mapping[str, str], body: bytes) -> None:
        """Record one delivery (what the HTTP handler calls)."""
        now = time.time()
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        with self._lock:
            self._arrivals.append(
                Arrival(
                    number=len(self._arrivals) + 1,
                    body=body,
                    received=now,
                    event=event if isinstance(event, dict) else {},
                    unsigned=signature_fault(self.bot, headers, body, now),
                    malformed=self.schemas.fault(event),
                )
            )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                try:
                    length = int(self.headers.get("Content-Length", "0"))
                except ValueError:
                    length = -1
                if not 0 <= length <= MAX_BODY_BYTES:
                    self._answer(413 if length > 0 else 411)
                    self.close_connection = True
                    return
                body = self.rfile.read(length)
                receiver.take({k: v for k, v in self.headers.items()}, body)
                self._answer(204)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # a line per event would drown the fuzzer's own output

        return Handler
