"""A small HTTP/1.1 client for one webhook URL: POSTs over one kept-alive connection.

Built on h11 (uvicorn's own HTTP parser, already installed with it) and asyncio's streams,
so that delivering events needs no HTTP client library beside the server. `http` and `https`
URLs; the answer's body is read and ignored.
"""

from __future__ import annotations

import asyncio
import ssl
from urllib.parse import urlsplit

import h11

_READ_SIZE = 16384


class WebhookError(Exception):
    """The webhook gave no answer (refused, closed, malformed, or too slow)."""


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
        self.authority = parts.netloc.rsplit("@", 1)[-1]
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.timeout = timeout
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._http = h11.Connection(h11.CLIENT)

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None

    async def post(self, body: bytes, headers: list[tuple[str, str]]) -> int:
        """POST `body` with `headers`; answer the status. WebhookError when there is none."""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._post(body, headers)
        except (OSError, EOFError, h11.ProtocolError, TimeoutError, ssl.SSLError) as error:
            self.close()
            raise WebhookError(str(error) or type(error).__name__) from None

    async def _post(self, body: bytes, headers: list[tuple[str, str]]) -> int:
        if self._streams is None:
            context = ssl.create_default_context() if self.https else None
            self._streams = await asyncio.open_connection(self.host, self.port, ssl=context)
            self._http = h11.Connection(h11.CLIENT)
        reader, writer = self._streams
        http = self._http
        request = h11.Request(
            method="POST",
            target=self.target,
            headers=[
                ("Host", self.authority),
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("User-Agent", "workonflow-reference-server"),
                *headers,
            ],
        )
        writer.write(
            http.send(request) + http.send(h11.Data(data=body)) + http.send(h11.EndOfMessage())
        )
        await writer.drain()
        status = 0
        while True:
            event = http.next_event()
            if event is h11.NEED_DATA:
                http.receive_data(await reader.read(_READ_SIZE))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise EOFError("the webhook closed the connection without an answer")
        if http.our_state is h11.DONE and http.their_state is h11.DONE:
            http.start_next_cycle()
        else:
            self.close()
        return status
