"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 that records what it is sent.

    with Receiver() as receiver:            # receiver.url: http://127.0.0.1:<free port>/events
        ...                                 # point a server's webhook at it
        events = receiver.wait_for(3)       # the first three events it took, parsed

Each attempt is recorded with its headers and body (`attempts`); `refusing` (an HTTP
status) makes it answer that instead of 204, and `hold()` keeps every request waiting
until `release()`. It stops by itself at the end of the block.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

#: How long `wait_for` waits before it gives up (a hang, not a measure of speed).
PATIENCE = 30.0


@dataclass(frozen=True)
class Attempt:
    """One POST the receiver got: its headers (names in lower case), its body, its answer."""

    headers: dict[str, str]
    body: bytes
    status: int
    #: When it arrived (`time.perf_counter()`).
    arrived: float

    @property
    def event(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


class Receiver:
    """See the module docstring."""

    def __init__(self, port: int = 0) -> None:
        self.attempts: list[Attempt] = []
        #: Answer this status instead of 204 (None: take the events).
        self.refusing: int | None = None
        #: How many requests are waiting in `hold()` right now.
        self.waiting = 0
        self._changed = threading.Condition()
        self._open = threading.Event()
        self._open.set()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/events"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def hold(self) -> None:
        """Keep every request waiting (unanswered) until `release`."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    @property
    def taken(self) -> list[Attempt]:
        with self._changed:
            return [attempt for attempt in self.attempts if 200 <= attempt.status < 300]

    def wait(self, condition: Callable[[], bool], what: str) -> None:
        """Wait until `condition()` holds (looked at on each request and every 50 ms: it may
        depend on more than the receiver); AssertionError naming `what` after PATIENCE s."""
        deadline = time.monotonic() + PATIENCE
        with self._changed:
            while not condition():
                if time.monotonic() > deadline:
                    raise AssertionError(f"waited in vain for {what}: {self.attempts}")
                self._changed.wait(0.05)

    def wait_for(self, count: int) -> list[dict[str, Any]]:
        """The first `count` events taken, once that many were."""
        self.wait(lambda: len(self.taken) >= count, f"{count} events")
        return [attempt.event for attempt in self.taken[:count]]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Answers go out at once, as web servers send them, not held back by Nagle's
            # algorithm behind the previous answer's acknowledgement.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                arrived = time.perf_counter()
                with receiver._changed:
                    receiver.waiting += 1
                    receiver._changed.notify_all()
                receiver._open.wait()
                status = receiver.refusing or 204
                with receiver._changed:
                    receiver.waiting -= 1
                    headers = {name.lower(): value for name, value in self.headers.items()}
                    receiver.attempts.append(Attempt(headers, body, status, arrived))
                    receiver._changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
