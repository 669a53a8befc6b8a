"""The reference server under hostile and unlucky clients: bounded, responsive, always an envelope.

The hostile side speaks raw HTTP/1.1 over loopback sockets; every server here listens on
127.0.0.1 and stops by itself. Limits and timeouts are set small so that the file stays fast;
no test asserts how fast an answer is, only what it is and that an honest client keeps
being answered meanwhile (e.g. "answered while the lock is still held").
"""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("workonflow_call_models", reason="the generated models are not installed")
pytest.importorskip("httptools", reason="the server's HTTP stack is not installed")

from contract import demo
from reference_server import create_app
from reference_server.testing import serve_in_thread

TEAM = demo.TEAM
TOKEN = demo.TOKEN
#: Seconds a socket read waits before the test gives up on an answer (never reached when the
#: server behaves; a bound so that a misbehaving server fails the test instead of hanging it).
PATIENCE = 15.0


# -- raw HTTP --------------------------------------------------------------------------------


def address(base_url: str) -> tuple[str, int]:
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def connect(base_url: str) -> socket.socket:
    sock = socket.create_connection(address(base_url), timeout=PATIENCE)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def request(
    method: str,
    body: bytes | dict[str, Any] | None = None,
    *,
    headers: dict[str, str | None] | None = None,
    path: str | None = None,
) -> bytes:
    """One request's bytes: by default an authenticated JSON POST of the demo team."""
    payload = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
    fields = {
        "Host": "127.0.0.1",
        "Authorization": f"Bearer {TOKEN}",
        "Content-Type": "application/json",
        "Content-Length": str(len(payload)),
        **(headers or {}),
    }
    head = f"POST {path or f'/{TEAM}/{method}'} HTTP/1.1\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in fields.items() if value is not None
    )
    return (head + "\r\n").encode() + payload


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"Answer({self.status}, {self.headers}, {self.body[:200]!r})"


def read_answer(sock: socket.socket, buffer: bytearray | None = None) -> Answer | None:
    """The next response on the socket (None: the server closed it without one).

    `buffer` keeps bytes read past this response (pipelining) for the next call.
    """
    data = buffer if buffer is not None else bytearray()
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return None
        data += chunk
    head, _, rest = bytes(data).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = bytearray(rest)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    data[:] = body[length:]
    return Answer(status, headers, bytes(body[:length]))


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closed the connection (reading gives EOF or a reset)."""
    try:
        while sock.recv(65536):
            pass
    except (ConnectionResetError, BrokenPipeError):
        pass
    return True


def exchange(base_url: str, message: bytes) -> Answer | None:
    with closing(connect(base_url)) as sock:
        sock.sendall(message)
        return read_answer(sock)


def assert_envelope(answer: Answer | None, status: int) -> dict[str, Any]:
    assert answer is not None, "the server closed the connection without answering"
    assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/json", answer
    document: dict[str, Any] = answer.json()
    assert document["code"] == status
    assert isinstance(document["message"], str) and document["message"]
    return document


def honest(base_url: str) -> Answer | None:
    """An honest client's request that needs no database: the demo token on an unknown path."""
    return exchange(base_url, request("call/start", {}, path=f"/{TEAM}/no/such/operation"))


# -- servers ---------------------------------------------------------------------------------


@contextmanager
def served(database: str | Path = ":memory:", **options: Any) -> Iterator[str]:
    app = create_app(database, **options)
    try:
        with serve_in_thread(app) as base_url:
            yield base_url
    finally:
        app.close()


# -- the database locked by someone else -----------------------------------------------------


def test_a_database_locked_elsewhere_answers_503_and_delays_nothing_else(tmp_path: Path) -> None:
    database = tmp_path / "calls.sqlite3"
    thread = demo.THREADS[0]
    with served(database, busy_timeout=0.5) as base_url:
        assert exchange(base_url, request("call/start", {"threadId": thread})).status == 200
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process's write lock, held until released
        try:
            # Answered while the lock is held: a refusal that needs no database...
            anonymous = {"Authorization": None}
            unauthenticated = request("call/end", {"threadId": thread}, headers=anonymous)
            assert_envelope(exchange(base_url, unauthenticated), 401)
            assert_envelope(honest(base_url), 404)
            # ... and a write, which cannot have the database: 503, and when to try again.
            busy = exchange(base_url, request("call/end", {"threadId": thread}))
            assert_envelope(busy, 503)
            assert busy is not None and int(busy.headers["retry-after"]) >= 1
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        # Once the lock is released the same write goes through: the 503 changed nothing.
        ended = exchange(base_url, request("call/end", {"threadId": thread}))
        assert ended is not None and ended.status == 200, ended
