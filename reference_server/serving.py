"""The uvicorn server of the reference server: it accepts connections itself, within budget.

uvicorn hands its listening socket to the event loop (`loop.create_server`), which accepts
every connection the kernel has queued, however many. Once the process has no file
descriptor left, uvloop (libuv) accepts each further connection with a spare descriptor and
closes it at once: every client then queued, honest ones too, reads a reset instead of an
answer. `Server` accepts instead, one connection at a time, and only while fewer than
`limits.open_files_budget()` are open (the open-files limit less a reserve for the process's
own files): past that, it makes room by closing a connection over `max_connections` whose
client sent nothing yet (with its 503), or else lets the next connection wait in the
kernel's queue until one closes. Silent clients thus cannot hold the queue: a client in it
is answered (or refused with 503 by the protocol), never reset by the server. Should the
process run out of descriptors anyway (its own files), the accept is tried again shortly.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
from collections.abc import Callable
from typing import Any

import uvicorn

from .limits import open_files_budget

#: How long the acceptor waits before it looks again, when at its limit or out of descriptors.
_RETRY = 0.05
#: Errors of accept() that say the process (or the system) is out of something for a while.
_EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


def _shed(connection: object) -> bool:
    shed = getattr(connection, "shed", None)
    return bool(shed()) if shed is not None else False


class _Acceptor:
    """Accepts connections on `sock` while fewer than `limit` are open (see the module).

    Stands in for the `asyncio.Server` uvicorn keeps for each socket: `close()` stops it.
    """

    def __init__(
        self,
        sock: socket.socket,
        protocol: Callable[[], asyncio.Protocol],
        connections: set[Any],
        limit: int,
    ) -> None:
        self._sock = sock
        self._protocol = protocol
        self._connections = connections
        self._limit = limit
        sock.setblocking(False)
        self._task = asyncio.get_running_loop().create_task(self._accept())

    async def _accept(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if len(self._connections) >= self._limit:
                # Room is made by closing a connection over the limit that sent nothing
                # (`LimitedProtocol.shed`): the next one in the queue may be an honest one.
                if not any(_shed(connection) for connection in list(self._connections)):
                    await asyncio.sleep(_RETRY)
                continue
            try:
                connection, _ = await loop.sock_accept(self._sock)
            except OSError as error:
                if error.errno in _EXHAUSTED:
                    await asyncio.sleep(_RETRY)
                continue  # ECONNABORTED and the like: that client is gone
            try:
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                await loop.connect_accepted_socket(self._protocol, connection)
            except OSError:
                connection.close()  # reset by the client before it was served

    def close(self) -> None:
        self._task.cancel()

    async def wait_closed(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class Server(uvicorn.Server):
    """uvicorn's server, accepting connections within the open-files budget (see the module).

    Give `run`/`serve` the listening sockets (`sockets=[...]`): without them uvicorn listens
    on the config's host and port itself, unbounded.
    """

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if not sockets:  # uvicorn binds the host and port of its config itself
            await super().startup(sockets)
            return
        await super().startup([])  # the lifespan, without a listener
        config = self.config
        limit = open_files_budget()

        def protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config,
                server_state=self.server_state,
                app_state=self.lifespan.state,
                _loop=asyncio.get_running_loop(),
            )

        self.servers = [
            _Acceptor(sock, protocol, self.server_state.connections, limit)  # type: ignore[misc]
            for sock in sockets
        ]
