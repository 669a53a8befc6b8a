"""A small HTTP/1.1 client for one webhook URL: pipelined POSTs over one kept-alive connection.

Written on asyncio's streams, without an HTTP library: a request is a few formatted lines, and
an answer needs only its status and where its body ends (`Content-Length`, chunked, or the
connection's end). Measured under cProfile, h11 spent about 200 us per request validating the
headers of its own request objects, more than everything else a delivery costs. `http` and
`https` URLs; the answer's body is read and ignored. Requests are pipelined (RFC 9112, 9.3: a
server answers them in order), so that a batch of events costs one write instead of one each.
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
        self._head = (
            f"POST {target} HTTP/1.1\r\nHost: {authority}\r\n"
            "Content-Type: application/json\r\nUser-Agent: workonflow-reference-server\r\n"
        )
        self.timeout = timeout
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        #: Why the last `post_all` got no answer to some message (for the log).
        self.error = ""

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None

    def request(self, body: bytes, headers: list[tuple[str, str]]) -> bytes:
        """The bytes of one POST of `body` with `headers`."""
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
        return f"{self._head}{lines}Content-Length: {len(body)}\r\n\r\n".encode() + body

    async def post_all(self, messages: Sequence[Message]) -> list[int | None]:
        """POST each `(body, headers)`, pipelined (all sent at once, the answers read in
        order); answer each status, None for a message that got no answer (the connection
        failed, closed or timed out before it) and for every one after it."""
        statuses: list[int | None] = []
        try:
            async with asyncio.timeout(self.timeout):
                await self._post_all(messages, statuses)
        except (
            OSError,
            EOFError,
            ValueError,
            TimeoutError,
            WebhookError,
            asyncio.LimitOverrunError,
        ) as error:
            self.close()
            self.error = str(error) or type(error).__name__
        return statuses + [None] * (len(messages) - len(statuses))

    async def _post_all(self, messages: Sequence[Message], statuses: list[int | None]) -> None:
        if self._streams is None:
            context = ssl.create_default_context() if self.https else None
            self._streams = await asyncio.open_connection(
                self.host, self.port, ssl=context, limit=MAX_HEAD_BYTES
            )
            sock = self._streams[1].get_extra_info("socket")
            if sock is not None:  # each batch goes out at once, not behind an acknowledgement
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader, writer = self._streams
        writer.write(b"".join(self.request(body, headers) for body, headers in messages))
        await writer.drain()
        for _ in messages:
            status, keep_alive = await _answer(reader)
            statuses.append(status)
            if not keep_alive:
                self.close()
                return


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """The status of the next final answer, and whether the connection stays open."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        version, _, rest = head.partition(b" ")
        if not version.startswith(b"HTTP/1.") or not rest[:3].isdigit():
            raise WebhookError(f"not an HTTP/1.x answer: {head[:40]!r}")
        status = int(rest[:3])
        if status >= 200:
            break  # 1xx answers (100 Continue) come before the final one
    fields: dict[bytes, bytes] = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip().lower()
    connection = fields.get(b"connection", b"")
    keep_alive = b"close" not in connection and (
        version == b"HTTP/1.1" or b"keep-alive" in connection
    )
    if fields.get(b"transfer-encoding", b"").endswith(b"chunked"):
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        while await reader.readuntil(b"\r\n") != b"\r\n":
            pass  # trailers
    elif b"content-length" in fields:
        await reader.readexactly(int(fields[b"content-length"]))
    elif status not in (204, 304):
        await reader.read()  # the body ends with the connection
        keep_alive = False
    return status, keep_alive
