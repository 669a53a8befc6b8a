"""A small HTTP server on 127.0.0.1 that answers from a script: the faults a client's retries
must handle (`429`/`503` with any `Retry-After`, `502`, a connection reset once the request
was read, a connection refused), one per request, in order.

    with ScriptedServer([Answer(429, {"Retry-After": "3"}), RESET, OK]) as server:
        ...  # server.base_url; server.requests: every request received, in order

Each answer closes its connection, so every attempt of a client opens a new one. Once the
script is used up, every further request is answered like its last entry. `ScriptedServer`
without `listen=True` takes a free port but does not listen until `start()`: a client gets
"connection refused" until then, a connection error before the request reached the server.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: the status, extra headers, and a JSON envelope of the status (its
    message `OK` for a 200, as the contract's success envelope has it)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    data: object = None

    def encode(self) -> bytes:
        message = "OK" if self.status == 200 else f"scripted {self.status}"
        envelope: dict[str, object] = {"code": self.status, "message": message}
        if self.data is not None:
            envelope["data"] = self.data
        body = json.dumps(envelope).encode()
        head = [f"HTTP/1.1 {self.status} Scripted", "Content-Type: application/json"]
        head += [f"Content-Length: {len(body)}", "Connection: close"]
        head += [f"{name}: {value}" for name, value in self.headers.items()]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body


#: Read the request, then reset the connection (RST) without answering.
RESET = Answer(0)
#: A `call/start` success.
OK = Answer(200, data={"direction": "outgoing"})


@dataclass(frozen=True)
class Received:
    """A request as the server read it."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


def _read_request(conn: socket.socket) -> Received | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    request_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    method, path, _ = request_line.split(" ", 2)
    return Received(method, path, headers, body)


class ScriptedServer:
    """Answers each request with the next answer of `script` (see the module's docstring)."""

    def __init__(self, script: Sequence[Answer], *, listen: bool = True) -> None:
        if not script:
            raise ValueError("the script needs at least one answer")
        self.script = list(script)
        self.requests: list[Received] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, name="scripted-server", daemon=True)
        self._stopping = threading.Event()
        if listen:
            self.start()

    def start(self) -> None:
        """Listen (and answer) from now on."""
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        try:
            received = _read_request(conn)
        except OSError:
            return
        if received is None:
            return
        answer = self.script[min(len(self.requests), len(self.script) - 1)]
        self.requests.append(received)
        if answer is RESET:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        conn.sendall(answer.encode())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stopping.set()
        self._sock.close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
