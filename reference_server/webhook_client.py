"""A small HTTP/1.1 client for one webhook URL: pipelined POSTs over one kept-alive connection.

Written on asyncio's streams, without an HTTP library: a request is a few formatted lines, and
an answer needs only its status and where its body ends (`Content-Length`, chunked, or the
connection's end). Measured under cProfile, h11 spent about 200 us per request validating the
headers of its own request objects, more than everything else a delivery costs. `http` and
`https` URLs; the answer's body is read and ignored. Requests are pipelined (RFC 9112, 9.3: a
server answers them in order), so that a batch of events costs one write instead of one each,
and the answers are parsed from one buffer, as many at a time as arrived together.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Sequence
from urllib.parse import urlsplit

#: The longest answer head read (a longer one is no answer).
MAX_HEAD_BYTES = 65_000
#: A request's body and its extra headers.
Message = tuple[bytes, list[tuple[str, str]]]
_UNSAFE = frozenset("\r\n\0")


class WebhookError(Exception):
    """The webhook's answer is not HTTP/1.x."""


def shown_url(url: str) -> str:
    """The URL without its user information and query, for logs (they may hold secrets)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def check_url(url: str) -> str:
    """The URL if it can be posted to; ValueError naming what is wrong otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"webhook {shown_url(url)!r}: an http:// or https:// URL is needed")
    if _UNSAFE & set(url) or " " in url:
        raise ValueError(
            f"webhook {shown_url(url)!r}: spaces and control characters are not allowed"
        )
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError as error:
        raise ValueError(f"webhook {shown_url(url)!r}: {error}") from None
    return url


class WebhookClient:
    """POSTs to one URL, reusing the connection while the receiver keeps it open."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(check_url(url))
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        authority = parts.netloc.rsplit("@", 1)[-1]
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        #: The start of every request: its line and the headers they all have.
        self.head = (
            f"POST {target} HTTP/1.1\r\nHost: {authority}\r\n"
            "Content-Type: application/json\r\nUser-Agent: workonflow-reference-server\r\n"
        ).encode()
        #: How long to wait for each answer (from the request's write, or the answer before).
        self.timeout = timeout
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._answers: _Answers | None = None
        #: Why the last `post_all`/`send` got no answer to some message (for the log).
        self.error = ""

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None
            self._answers = None

    def request(self, body: bytes, headers: list[tuple[str, str]]) -> bytes:
        """The bytes of one POST of `body` with `headers`."""
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
        return b"".join((self.head, f"{lines}Content-Length: {len(body)}\r\n\r\n".encode(), body))

    async def post_all(self, messages: Sequence[Message]) -> list[int | None]:
        """POST each `(body, headers)`, pipelined (see `send`)."""
        return await self.send(
            b"".join(self.request(body, headers) for body, headers in messages), len(messages)
        )

    async def send(self, requests: bytes, count: int) -> list[int | None]:
        """Send `count` requests (their bytes, one after the other) in one write, pipelined,
        and read their answers in order; answer each status, None for a request that got no
        answer (the connection failed, closed or timed out before it) and for every one after
        it."""
        statuses: list[int | None] = []
        if not count:
            return statuses
        try:
            await self._send(requests, count, statuses)
        except (
            OSError,
            EOFError,
            ValueError,
            TimeoutError,
            WebhookError,
        ) as error:
            self.close()
            self.error = str(error) or type(error).__name__
        return statuses + [None] * (count - len(statuses))

    async def _send(self, requests: bytes, count: int, statuses: list[int | None]) -> None:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.timeout) as deadline:
            if self._streams is None:
                context = ssl.create_default_context() if self.https else None
                self._streams = await asyncio.open_connection(
                    self.host, self.port, ssl=context, limit=MAX_HEAD_BYTES
                )
                sock = self._streams[1].get_extra_info("socket")
                if sock is not None:  # each batch goes out at once, not behind an ack
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._answers = _Answers(self._streams[0])
            writer, answers = self._streams[1], self._answers
            assert answers is not None
            writer.write(requests)
            await writer.drain()
            while True:
                # Each answer within the timeout of the one before (or of the write).
                deadline.reschedule(loop.time() + self.timeout)
                while True:
                    status, keep_alive = answers.parse()
                    if status is None:
                        break
                    statuses.append(status)
                    if not keep_alive:
                        self.close()
                        return
                    if len(statuses) == count:
                        return
                await answers.more()


class _Answers:
    """The answers on one connection, parsed from one buffer: as many as it holds at a time,
    with one read for all that arrived meanwhile (not several awaits per answer)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.buffer = b""
        self.eof = False

    async def more(self) -> None:
        """Read what came (at least a byte); EOFError if the connection ended."""
        if self.eof:
            raise asyncio.IncompleteReadError(self.buffer, None)
        data = await self.reader.read(65_536)
        if data:
            self.buffer += data
        else:
            self.eof = True  # an answer whose body ends with the connection can end now

    def parse(self) -> tuple[int | None, bool]:
        """The status of the next final answer and whether the connection stays open, taken
        from the buffer; (None, True) if the buffer does not hold all of it yet."""
        buffer, start = self.buffer, 0
        while True:
            end = buffer.find(b"\r\n\r\n", start)
            if end < 0:
                if len(buffer) - start > MAX_HEAD_BYTES:
                    raise WebhookError(f"an answer head longer than {MAX_HEAD_BYTES} bytes")
                if self.eof:
                    raise asyncio.IncompleteReadError(buffer[start:], None)
                return None, True
            head = buffer[start:end]
            version, _, rest = head.partition(b" ")
            if not version.startswith(b"HTTP/1.") or not rest[:3].isdigit():
                raise WebhookError(f"not an HTTP/1.x answer: {head[:40]!r}")
            status = int(rest[:3])
            start = end + 4
            if status >= 200:
                break  # 1xx answers (100 Continue) come before the final one
        fields: dict[bytes, bytes] = {}
        if b"\n" in head:  # header fields (an answer of only a status line has none)
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                fields[name.strip().lower()] = value.strip().lower()
        connection = fields.get(b"connection", b"")
        keep_alive = b"close" not in connection and (
            version == b"HTTP/1.1" or b"keep-alive" in connection
        )
        if fields.get(b"transfer-encoding", b"").endswith(b"chunked"):
            body_end = _chunked_end(buffer, start)
            if body_end is None:
                if self.eof:
                    raise asyncio.IncompleteReadError(buffer, None)
                return None, True
        elif b"content-length" in fields:
            body_end = start + int(fields[b"content-length"])
            if body_end > len(buffer):
                if self.eof:
                    raise asyncio.IncompleteReadError(buffer, None)
                return None, True
        elif status not in (204, 304):
            if not self.eof:  # the body ends with the connection
                return None, True
            body_end, keep_alive = len(buffer), False
        else:
            body_end = start
        self.buffer = buffer[body_end:]
        return status, keep_alive


def _chunked_end(buffer: bytes, start: int) -> int | None:
    """Where a chunked body starting at `start` ends (after its trailers); None if the
    buffer does not hold all of it yet."""
    while True:
        line_end = buffer.find(b"\r\n", start)
        if line_end < 0:
            return None
        size = int(buffer[start:line_end].split(b";")[0], 16)
        start = line_end + 2
        if size == 0:
            break
        start += size + 2
        if start > len(buffer):
            return None
    while True:  # trailers, up to an empty line
        line_end = buffer.find(b"\r\n", start)
        if line_end < 0:
            return None
        if line_end == start:
            return line_end + 2
        start = line_end + 2


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """The status of the next final answer on `reader`, and whether the connection stays
    open (the first answer only: what follows it in the buffer is dropped)."""
    answers = _Answers(reader)
    while True:
        status, keep_alive = answers.parse()
        if status is not None:
            return status, keep_alive
        await answers.more()
