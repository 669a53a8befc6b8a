"""What a client may make the server hold: sizes, times and connections (see `protocol`), and
the rate of requests of a staging-like server (`RateLimit`, `--rate-limit`).

Kept apart from the protocol so that the command line reads the defaults without importing
uvicorn.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass

#: Connections kept free below the process's file descriptor limit (the database, logs...).
_RESERVED_DESCRIPTORS = 64


def open_files_budget() -> int:
    """Connections the process can hold open at once: its open-files limit (`ulimit -n`)
    less a reserve for its own files. Past it the server accepts no more connections
    until one closes (`reference_server.serving`): they wait in the kernel's queue."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1 << 30
    return max(2, soft - _RESERVED_DESCRIPTORS)


def default_max_connections() -> int:
    """1000, or fewer when the process may open fewer files (`ulimit -n`): half its budget.

    A connection over the limit is still accepted and answered 503 (within `Limits.linger`
    when it sends nothing): that needs a descriptor too, so the limit leaves room for them.
    """
    return max(1, min(1000, open_files_budget() // 2))


@dataclass(frozen=True, slots=True)
class Limits:
    """What one client may make the server hold: sizes in bytes, times in seconds."""

    max_head_bytes: int = 16384
    max_headers: int = 100
    max_target_bytes: int = 8192
    head_timeout: float = 10.0
    body_timeout: float = 10.0
    keep_alive: int = 5
    max_connections: int = 0  # 0: `default_max_connections()`
    #: How long a refused connection is kept open for the client to finish sending, at most.
    linger: float = 1.0

    def connections(self) -> int:
        return self.max_connections or default_max_connections()


class RateLimit:
    """At most `rate` requests per second, as a token bucket holding one second of requests.

    `take()` spends one token and returns 0, or, when none is left, the seconds until the next
    one (the request is refused and spends nothing). Every request counts, refused or not, as
    a deployment's front does.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError(f"a rate limit must be above 0 requests per second, not {rate}")
        self.rate = rate
        self.clock = clock
        self.tokens = float(max(1.0, rate))
        self.capacity = self.tokens
        self.updated = clock()

    def take(self) -> float:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate
