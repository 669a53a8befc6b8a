"""The server's HTTP/1.1 protocol: uvicorn's httptools protocol, bounded against hostile clients.

uvicorn 0.54 with httptools parses fast but bounds nothing a client controls: no limit on the
request head (a 100 MiB header is parsed, slowly, and answered), no timeout for a request
that never completes, no limit on connections but the kernel's. `LimitedProtocol` adds, per
`Limits`:

- the request head (request line and headers) at most `max_head_bytes` (431), at most
  `max_headers` header fields (431), a request target at most `max_target_bytes` (414);
- the head received within `head_timeout` of its first byte (or of the connection), the
  body within `body_timeout` of the head (408, then the connection is closed);
- idle keep-alive connections closed after `keep_alive` seconds (uvicorn's own timer);
- at most `max_connections` open connections: a request on one more answers 503 and that
  connection is closed (the kernel never refuses: see `default_max_connections`);
- malformed HTTP answers 400; every answer of the protocol itself is the error envelope,
  sent with `Connection: close`, then the connection is closed once the client is done
  sending (a lingering close, so that the client reads the answer rather than a reset);
- `Upgrade` (e.g. `Upgrade: h2c` from `curl --http2`) is not supported and so ignored: the
  request is answered as HTTP/1.1 with its body, and requests pipelined behind it too.

It also writes each response at once, head and body together (`_OneWrite`): uvicorn writes
them apart, which costs a second send and wakes the client twice per request.

The head limit is checked on the bytes received, before the parser sees more than the
limit; a head that ends in the same read as the previous request's body may be parsed up to
one read (at most 256 KiB) past the limit before it is refused.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .app import envelope
from .limits import Limits


class _ProtocolRefusal(Exception):
    """A request the protocol answers itself (raised from the parser's callbacks)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def answer(status: int, message: str) -> bytes:
    """A complete HTTP/1.1 response carrying the error envelope, closing the connection."""
    body = envelope(status, message)
    phrase = {
        400: b"Bad Request",
        408: b"Request Timeout",
        414: b"URI Too Long",
        431: b"Request Header Fields Too Large",
        503: b"Service Unavailable",
    }.get(status, b"Error")
    return b"".join(
        [
            b"HTTP/1.1 %d %s\r\n" % (status, phrase),
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        ]
    )


_log = logging.getLogger("reference_server.protocol")

_TOO_MANY = "Too many open connections: try again shortly"


def _unread(transport: asyncio.BaseTransport) -> bool:
    """Whether bytes from the client wait in the kernel, not read yet (True when unknown)."""
    sock = transport.get_extra_info("socket")
    try:
        import fcntl
        import termios

        waiting = fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0")
    except (ImportError, AttributeError, OSError):
        return True
    return waiting != b"\0\0\0\0"


class _OneWrite:
    """The transport as one response's cycle sees it: the response head is held back and
    written with the first write of the body, in one send.

    The first write is the response head, unless it is an interim response (`100 Continue`,
    which goes out at once); a HEAD request's response has no body, so its head is not held.
    Closing writes what is held first.
    """

    __slots__ = ("_before_head", "_head", "_transport")

    def __init__(self, transport: asyncio.Transport, *, bodiless: bool) -> None:
        self._transport = transport
        self._before_head = not bodiless
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._head is not None:
            data, self._head = self._head + data, None
        elif self._before_head and not data.startswith(b"HTTP/1.1 1"):
            self._before_head = False
            self._head = data
            return
        self._transport.write(data)

    def close(self) -> None:
        if self._head is not None:
            self._transport.write(self._head)
            self._head = None
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()


class LimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the bounds of `limits` (see the module docstring).

    `protocol_class(limits)` makes the subclass a `uvicorn.Config(http=...)` takes.
    """

    limits: ClassVar[Limits] = Limits()
    max_connections: ClassVar[int] = 1000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # between requests, or reading a request's head
        self._head_bytes = 0
        self._header_count = 0
        self._over_limit = False
        self._received = False  # a byte of this connection was read
        self._discarding = False  # refused: what the client still sends is dropped
        self._body_pending = False  # an Upgrade request whose body the next parser reads
        self._muted = False  # the next parser's synthetic head: no callbacks
        self._timer: asyncio.TimerHandle | None = None

    # -- the connection --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._over_limit = len(self.connections) > self.max_connections
        limit = self.limits.head_timeout
        # A connection over the limit gets a short wait for its request, then its 503.
        self._arm(min(limit, self.limits.linger) if self._over_limit else limit, self._no_head)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, delay: float, callback: Any) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_later(delay, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _no_head(self) -> None:
        self._timer = None
        if self._over_limit:
            self._refuse(503, _TOO_MANY)
        else:
            self._refuse(408, f"The request head took longer than {self.limits.head_timeout:g} s")

    def _no_body(self) -> None:
        self._timer = None
        if self.cycle is not None and self.cycle.response_complete:
            self.transport.close()  # answered already (e.g. 413): only the rest was slow
        else:
            self._refuse(408, f"The request body took longer than {self.limits.body_timeout:g} s")

    def _refuse(self, status: int, message: str) -> None:
        """Answer with the envelope unless another answer is under way; then close."""
        if self.transport.is_closing() or self._discarding:
            return
        self._discarding = True
        self._disarm()
        cycle = self.cycle
        free = (
            cycle is None
            or cycle.response_complete
            or (not cycle.response_started and not self.pipeline)
        )
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the application's answer, if any, is dropped
            cycle.message_event.set()
        if not free:
            self.transport.close()
            return
        _log.info("%s: %d %s", self.client, status, message)
        self.transport.write(answer(status, message))
        # Close once the client stops sending (or after `linger`): closing with unread data
        # would reset the connection and could lose the answer on the client's side.
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.flow.resume_reading()
        self.loop.call_later(self.limits.linger, self.transport.close)

    def shed(self) -> bool:
        """Answer 503 and close at once, if this connection is over the limit and its client
        has sent nothing yet (neither read nor waiting to be): True when it did.

        For `reference_server.serving`, to make room when the open connections use up the
        process's open-files budget, rather than let the connections queued behind wait a
        `linger` each. Nothing was sent, so closing at once loses the client nothing.
        """
        if not self._over_limit or self._received or self._discarding:
            return False
        if self.transport.is_closing() or _unread(self.transport):
            return False
        self._discarding = True
        self._disarm()
        self.transport.write(answer(503, _TOO_MANY))
        self.transport.close()
        return True

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, "The request is not valid HTTP/1.1")

    def eof_received(self) -> None:
        if self._discarding:
            self.transport.close()

    # -- reading ---------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self._received = True
        self._unset_keepalive_if_required()
        if self._discarding:
            return
        try:
            self._feed(data)
        except _ProtocolRefusal as refused:
            self._refuse(refused.status, refused.message)
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, _ProtocolRefusal):
                self._refuse(error.__context__.status, error.__context__.message)
            else:
                self._refuse(400, "The request is not valid HTTP/1.1")
        except httptools.HttpParserError:
            self._refuse(400, "The request is not valid HTTP/1.1")

    def _feed(self, data: bytes) -> None:
        limit = self.limits.max_head_bytes
        while data and not self._discarding:
            if self._in_head:
                room = limit - self._head_bytes
                if room <= 0:
                    raise _ProtocolRefusal(431, f"The request head is larger than {limit} bytes")
                piece, data = (data, b"") if len(data) <= room else (data[:room], data[room:])
                self._head_bytes += len(piece)
            else:
                piece, data = data, b""
            try:
                self.parser.feed_data(piece)
            except httptools.HttpParserUpgrade as upgrade:
                # No protocol is upgraded to: the rest is this request's body and the
                # requests after it, read by a fresh parser.
                data = piece[upgrade.args[0] :] + data
                self._new_parser()

    def _new_parser(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        if self._body_pending:
            self._body_pending = False
            length = next((v for n, v in self.headers if n == b"content-length"), None)
            framing = (
                b"transfer-encoding: chunked" if length is None else b"content-length: " + length
            )
            self._muted = True
            self.parser.feed_data(b"POST / HTTP/1.1\r\n" + framing + b"\r\n\r\n")
            self._muted = False

    # -- the parser's callbacks ------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._muted:
            return
        self._header_count = 0
        if self._timer is None:
            self._arm(self.limits.head_timeout, self._no_head)
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        if self._muted:
            return
        if len(self.url) + len(url) > self.limits.max_target_bytes:
            raise _ProtocolRefusal(
                414, f"The request target is longer than {self.limits.max_target_bytes} bytes"
            )
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._muted:
            return
        self._header_count += 1
        if self._header_count > self.limits.max_headers:
            raise _ProtocolRefusal(431, f"More than {self.limits.max_headers} header fields")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._muted:
            return
        self._in_head = False
        if self._over_limit:
            self._disarm()
            raise _ProtocolRefusal(503, _TOO_MANY)
        self._arm(self.limits.body_timeout, self._no_body)
        cycle = self.cycle
        super().on_headers_complete()
        if self.cycle is not None and self.cycle is not cycle:
            bodiless = self.scope["method"] == "HEAD"
            self.cycle.transport = _OneWrite(self.transport, bodiless=bodiless)  # type: ignore[assignment]

    def on_body(self, body: bytes) -> None:
        if not self._discarding:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._discarding:
            return
        if self.parser.should_upgrade() and self._has_body():
            self._body_pending = True  # the body follows, for the next parser
            return
        self._in_head = True
        self._head_bytes = 0
        self._disarm()
        super().on_message_complete()

    def _has_body(self) -> bool:
        for name, value in self.headers:
            if name == b"transfer-encoding":
                return True
            if name == b"content-length":
                return value.strip() not in (b"", b"0")
        return False


def protocol_class(limits: Limits) -> type[LimitedProtocol]:
    """The protocol class for `uvicorn.Config(http=...)`, bound to `limits`."""
    return type(
        "LimitedProtocol",
        (LimitedProtocol,),
        {"limits": limits, "max_connections": limits.connections()},
    )
