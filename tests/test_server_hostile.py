"""The reference server under hostile and unlucky clients: bounded, responsive, always an envelope.

The hostile side speaks raw HTTP/1.1 over loopback sockets; every server here listens on
127.0.0.1 and stops by itself. Limits and timeouts are set small so that the file stays fast;
no test asserts how fast an answer is, only what it is and that an honest client keeps
being answered meanwhile (e.g. "answered while the lock is still held").

Longer than 300 lines on purpose: the raw-socket client the hostile tests share lives here,
beside the only tests that need it.
"""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("workonflow_call_models", reason="the generated models are not installed")
pytest.importorskip("httptools", reason="the server's HTTP stack is not installed")

from contract import demo
from contract.signing import HEADERS as SIGNATURE_HEADERS
from reference_server import create_app
from reference_server.limits import Limits
from reference_server.testing import ServerProcess, serve_in_thread
from testkit.signed_requests import signed

TEAM = demo.TEAM
THREAD = demo.thread(10 + 7)
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
    headers: Mapping[str, str | None] | None = None,
    path: str | None = None,
) -> bytes:
    """One request's bytes: by default a JSON POST of the demo team, signed by the demo bot."""
    payload = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
    fields: dict[str, str | None] = {
        "Host": "127.0.0.1",
        **signed(payload),
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
    """An honest client's request that needs no database: the demo bot on an unknown path."""
    return exchange(base_url, request("call/start", {}, path=f"/{TEAM}/no/such/operation"))


# -- servers ---------------------------------------------------------------------------------


@contextmanager
def served(
    database: str | Path = ":memory:", limits: Limits | None = None, **options: Any
) -> Iterator[str]:
    app = create_app(database, **options)
    try:
        with serve_in_thread(app, limits=limits) as base_url:
            yield base_url
    finally:
        app.close()


# -- the database locked by someone else -----------------------------------------------------


def test_a_database_locked_elsewhere_answers_503_and_delays_nothing_else(tmp_path: Path) -> None:
    database = tmp_path / "calls.sqlite3"
    thread = demo.thread(10)
    with served(database, busy_timeout=0.5) as base_url:
        started = exchange(base_url, request("call/start", {"threadId": thread}))
        assert started is not None and started.status == 200, started
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process's write lock, held until released
        try:
            # Answered while the lock is held: a refusal that needs no database...
            anonymous: dict[str, str | None] = dict.fromkeys(SIGNATURE_HEADERS)
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


# -- the HTTP layer's limits -----------------------------------------------------------------

#: Small limits, so that the hostile side is quick to write and the timeouts quick to fire.
LIMITS = Limits(
    max_head_bytes=8192,
    max_headers=20,
    max_target_bytes=1024,
    head_timeout=1.0,
    body_timeout=1.0,
    keep_alive=5,
    max_connections=8,
    linger=0.5,
)


@pytest.fixture(scope="module")
def limited() -> Iterator[str]:
    with served(limits=LIMITS) as base_url:
        yield base_url


@contextmanager
def served_limited(**changes: Any) -> Iterator[str]:
    with served(limits=replace(LIMITS, **changes)) as base_url:
        yield base_url


def start(thread: str) -> bytes:
    return request("call/start", {"threadId": thread})


@pytest.mark.parametrize(
    ("headers", "path", "status"),
    [
        ({"X-Big": "a" * (1 << 20)}, None, 431),  # one 1 MiB header
        ({f"X-Many-{n}": "a" * 400 for n in range(40)}, None, 431),  # 16 KiB in many
        ({f"X-{n}": "1" for n in range(30)}, None, 431),  # too many fields
        ({}, f"/{TEAM}/call/start?" + "q" * 2000, 414),  # too long a target
    ],
    ids=["1MiB-header", "large-head", "many-headers", "long-target"],
)
def test_an_oversized_head_is_refused_with_the_envelope_never_answered(
    limited: str, headers: Mapping[str, str | None], path: str | None, status: int
) -> None:
    message = request("call/start", {"threadId": demo.thread(10)}, headers=headers, path=path)
    with closing(connect(limited)) as sock:
        sock.sendall(message)
        answer = read_answer(sock)
        if answer is not None:  # closing without an answer is allowed; a 200 never is
            assert_envelope(answer, status)
            assert answer.headers["connection"] == "close"
        assert closed_by_server(sock)
    assert_envelope(honest(limited), 404)


def test_malformed_http_is_answered_400_with_the_envelope(limited: str) -> None:
    for message in (b"NOT HTTP AT ALL\r\n\r\n", b"POST / HTTP/1.1\r\nBad Header\r\n\r\n"):
        assert_envelope(exchange(limited, message), 400)


@pytest.mark.parametrize("part", ["head", "body"])
def test_a_slow_request_is_answered_408_and_closed_while_others_are_answered(
    limited: str, part: str
) -> None:
    whole = start(demo.thread(10 + 1))
    partial = whole.split(b"\r\n\r\n")[0][:40] if part == "head" else whole[:-5]
    with closing(connect(limited)) as slow:
        slow.sendall(partial)
        # Still waiting for the rest, the server answers everyone else.
        assert_envelope(honest(limited), 404)
        assert_envelope(read_answer(slow), 408)
        assert closed_by_server(slow)


def test_connections_over_the_limit_answer_503_and_open_ones_keep_working() -> None:
    with served_limited(head_timeout=30.0) as base_url:
        keeper = connect(base_url)
        idle: list[socket.socket] = []
        try:
            keeper.sendall(start(demo.thread(10 + 2)))
            answer = read_answer(keeper)
            assert answer is not None and answer.status == 200, answer
            idle = [connect(base_url) for _ in range(LIMITS.max_connections + 4)]
            # More silent connections than the limit: a new request answers 503 (the
            # envelope), never a refusal by the kernel ...
            refused = exchange(base_url, start(demo.thread(10 + 3)))
            assert_envelope(refused, 503)
            # ... and a silent one over the limit gets its 503 without asking.
            assert_envelope(read_answer(idle[-1]), 503)
            # The honest client's open connection keeps being answered meanwhile.
            keeper.sendall(request("call/end", {"threadId": demo.thread(10 + 2)}))
            answer = read_answer(keeper)
            assert answer is not None and answer.status == 200, answer
        finally:
            keeper.close()
            for sock in idle:
                sock.close()


#: A low soft limit of open files for a server process, and more silent clients than it allows.
OPEN_FILES = 96
SILENT_CLIENTS = 2 * OPEN_FILES


def test_more_silent_connections_than_open_files_still_answer_an_honest_client() -> None:
    options = ["--memory", "--quiet", "--head-timeout", "30"]
    with ServerProcess(options, open_files=OPEN_FILES) as server:
        silent: list[socket.socket] = []
        try:
            # The kernel completes every connection (the listen queue is longer): past the
            # open-files limit they wait there, unaccepted, holding nothing of the server.
            silent = [connect(server.base_url) for _ in range(SILENT_CLIENTS)]
            # An honest client behind them all: answered, or refused with the envelope,
            # never reset, refused by the kernel, or left waiting.
            answer = exchange(server.base_url, start(demo.thread(10 + 8)))
            if answer is None or answer.status != 200:
                assert_envelope(answer, 503)
        finally:
            for sock in silent:
                sock.close()
        # Once they leave, a request goes through (503s are allowed while the server notices).
        deadline = time.monotonic() + PATIENCE
        while True:
            answer = exchange(server.base_url, request("call/end", {"threadId": THREAD}))
            if (answer is not None and answer.status != 503) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert_envelope(answer, 409)  # no call in that thread: the database was reached
        assert "Traceback" not in server.output(), server.output()


# -- headers the server does not act on ------------------------------------------------------


def test_a_post_with_upgrade_h2c_keeps_its_body_and_what_is_pipelined_behind(
    limited: str,
) -> None:
    thread = demo.thread(10 + 4)
    upgrade = {
        "Connection": "Upgrade, HTTP2-Settings",
        "Upgrade": "h2c",
        "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA",
    }
    body = {"threadId": thread, "direction": "incoming"}
    with closing(connect(limited)) as sock:
        sock.sendall(request("call/start", body, headers=upgrade) + start(thread))
        buffer = bytearray()
        first = read_answer(sock, buffer)
        assert first is not None and first.status == 200, first
        assert first.json()["data"] == {"direction": "incoming"}  # the body was read
        assert_envelope(read_answer(sock, buffer), 409)  # the pipelined request: answered


def read_head(sock: socket.socket) -> bytes:
    """The bytes up to the end of one response head, read a byte at a time (nothing after)."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        assert byte, f"closed after {head!r}"
        head += byte
    return head


def test_100_continue_comes_alone_and_a_head_request_gets_no_body(limited: str) -> None:
    # Each response is written in one piece; a 100 Continue before it, and a HEAD's head, are
    # not held back for a body.
    thread = demo.thread(10 + 9)
    message = start(thread)
    head, _, body = message.partition(b"\r\n\r\n")
    with closing(connect(limited)) as sock:
        sock.sendall(head + b"\r\nExpect: 100-continue\r\n\r\n")
        assert read_head(sock) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        answer = read_answer(sock)
        assert answer is not None and answer.status == 200, answer
        for method in ("call.recording/start", "call.recording/stop"):
            sock.sendall(request(method, {"threadId": thread}))
            answer = read_answer(sock)
            assert answer is not None and answer.status == 200, answer
        path = answer.json()["data"]["fileUrl"].removeprefix(limited)
        sock.sendall(f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        head_only = read_head(sock)
        assert head_only.startswith(b"HTTP/1.1 200 ") and b"audio/wav" in head_only
        # No body followed the head: the next answer on the connection starts right here.
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        answer = read_answer(sock)
        assert answer is not None and answer.status == 200 and answer.body[:4] == b"RIFF"


def test_pipelined_requests_are_answered_in_order(limited: str) -> None:
    thread = demo.thread(10 + 5)
    with closing(connect(limited)) as sock:
        sock.sendall(start(thread) + start(thread) + request("call/end", {"threadId": thread}))
        buffer = bytearray()
        statuses = [getattr(read_answer(sock, buffer), "status", None) for _ in range(3)]
    assert statuses == [200, 409, 200]


def test_expect_100_continue_with_a_body_over_the_limit_answers_413_and_closes(
    limited: str,
) -> None:
    head = request("call/start", b"x" * 100_000, headers={"Expect": "100-continue"})
    with closing(connect(limited)) as sock:
        sock.sendall(head[:-100_000])  # the head only: the client waits for 100 Continue
        answer = assert_envelope(read_answer(sock), 413)
        assert answer["code"] == 413
        assert closed_by_server(sock)


@pytest.mark.parametrize("coding", ["gzip", "br", "deflate, gzip"])
def test_a_body_in_a_content_encoding_answers_415(limited: str, coding: str) -> None:
    message = request("call/start", {"threadId": THREAD}, headers={"Content-Encoding": coding})
    document = assert_envelope(exchange(limited, message), 415)
    assert "Content-Encoding" in document["message"]


def test_content_encoding_identity_is_accepted(limited: str) -> None:
    message = request("call/start", {"threadId": THREAD}, headers={"Content-Encoding": "identity"})
    answer = exchange(limited, message)
    assert answer is not None and answer.status in (200, 409), answer


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"threadId": "\xff"}', "is not valid UTF-8"),
        (b'{"threadId": ' + b"[" * 30_000 + b"]" * 30_000 + b"}", "is nested too deeply"),
    ],
    ids=["codec", "recursion"],
)
def test_body_errors_say_what_is_wrong_without_python_internals(
    limited: str, content: bytes, reason: str
) -> None:
    document = assert_envelope(exchange(limited, request("call/start", content)), 400)
    message = document["errors"][0]["message"]
    assert message.startswith(reason), message
    for internal in ("codec", "utf-8", "recursion", "Python", "object"):
        assert internal not in message


# -- stopping ----------------------------------------------------------------------------------


@pytest.mark.parametrize("second_signal", [False, True])
def test_sigterm_stops_despite_a_client_trickling_a_body(second_signal: bool) -> None:
    grace = "60" if second_signal else "1"
    options = ["--memory", "--quiet", "--grace", grace, "--body-timeout", "60"]
    with ServerProcess(options) as server, closing(connect(server.base_url)) as slow:
        slow.sendall(start(demo.thread(10 + 6))[:-10])
        for _ in range(3):  # a byte now and then: never done, never idle
            slow.sendall(b" ")
            time.sleep(0.1)
        process = server.process
        assert process is not None
        process.send_signal(signal.SIGTERM)
        if second_signal:
            time.sleep(0.3)
            assert process.poll() is None  # within its (long) grace period, still waiting
            process.send_signal(signal.SIGTERM)
        assert process.wait(PATIENCE) == 0, server.output()
        assert closed_by_server(slow)
