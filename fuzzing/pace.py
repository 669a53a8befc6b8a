"""Bounded load: one rate for every request of a run, and answers that say "not now" waited out.

A real deployment limits the rate of its clients (`429` with `Retry-After`, contract 2.4.0) and
may be briefly unavailable (`503` with `Retry-After`). A run keeps to `--rate-limit` requests
per second across all its phases and threads (`Pace.slot`), and an answer `429`, or `503` with
`Retry-After`, is waited out and the request sent again, signed afresh (`Pace.send`): it is
never judged, never a violation, and counted for the summary.

Every phase sends through here: the boundary phase and the cleanup call `Pace.send` with their
own transport; everything sent with `requests` (the walk, schemathesis's cases and its probes,
the other-team probe) goes through `paced_requests`, which wraps `requests`' HTTP adapter for
the length of the run.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from contract.rules import RATE_LIMITED

#: Answers that ask the client to come back later (503 only with `Retry-After`).
UNAVAILABLE = 503
#: A request is sent at most this many times in all.
MAX_ATTEMPTS = 8
#: A `Retry-After` longer than this is waited for this long (then the request is sent again).
MAX_WAIT_SECONDS = 30.0
#: A 429 without `Retry-After` (the contract requires one) waits this long.
DEFAULT_WAIT_SECONDS = 1.0

_R = TypeVar("_R")


def retry_after(status: int, header: str | None) -> float | None:
    """Seconds to wait before sending again, or None when the answer is to be kept."""
    if status not in (RATE_LIMITED, UNAVAILABLE):
        return None
    seconds: float | None = None
    if header:
        text = header.strip()
        if text.isdigit():
            seconds = float(text)
        else:
            try:
                when = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                seconds = max(0.0, when.timestamp() - time.time())
    if seconds is None:
        if status == UNAVAILABLE:
            return None  # a 503 without Retry-After is an answer like any other
        seconds = DEFAULT_WAIT_SECONDS
    return min(seconds, MAX_WAIT_SECONDS)


@dataclass
class Pace:
    """The run's rate (None: as fast as the target answers) and what waiting cost it."""

    rate: float | None = None
    #: Set when the run is being stopped: no more waiting, no more retries.
    stop: threading.Event = field(default_factory=threading.Event)
    paced_seconds: float = 0.0  # spent keeping to the rate
    waited_seconds: float = 0.0  # spent waiting out 429 and 503
    retried: Counter[int] = field(default_factory=Counter)  # answers waited out, by status
    gave_up: int = 0  # requests still refused after MAX_ATTEMPTS: left unjudged
    _next: float = 0.0
    # Re-entrant: SIGINT raises KeyboardInterrupt in the main thread wherever it is, even between
    # taking this lock and the `with` block that releases it; the cleanup after it takes the
    # lock again in the same thread, which a plain lock would deadlock on.
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def slot(self) -> None:
        """Wait for the next free slot of the rate (at once without a rate)."""
        if not self.rate:
            return
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next)
            self._next = at + 1.0 / self.rate
            if at > now:
                self.paced_seconds += at - now
        if at > now:
            self.stop.wait(at - now)

    def send(
        self,
        attempt: Callable[[], _R],
        answer_of: Callable[[_R], tuple[int, str | None]],
        *,
        discard: Callable[[_R], None] | None = None,
    ) -> _R:
        """`attempt()` in a slot of the rate; again while its answer says to wait.

        `answer_of(response)` gives its status and `Retry-After`; `discard(response)` releases
        one that is sent again. The last answer is returned, whatever it is.
        """
        for number in range(1, MAX_ATTEMPTS + 1):
            self.slot()
            response = attempt()
            status, header = answer_of(response)
            wait = retry_after(status, header)
            if wait is None:
                return response
            if number == MAX_ATTEMPTS or self.stop.is_set():
                with self._lock:
                    self.gave_up += 1
                return response
            with self._lock:
                self.retried[status] += 1
                self.waited_seconds += wait
            if discard is not None:
                discard(response)
            self.stop.wait(wait)
        raise AssertionError("unreachable")

    def figures(self) -> dict[str, Any]:
        return {
            "rate_limit": self.rate,
            "paced_seconds": round(self.paced_seconds, 3),
            "waited_seconds": round(self.waited_seconds, 3),
            "retried": {str(status): n for status, n in sorted(self.retried.items())},
            "gave_up": self.gave_up,
        }


_ACTIVE: list[Pace] = []


def active() -> Pace:
    """The pace of the run under way (a pace without a rate outside a run)."""
    return _ACTIVE[0] if _ACTIVE else Pace()


@contextmanager
def paced_requests(
    pace: Pace,
    resign: Callable[[Any], None],
    observe: Callable[[Any, Any], None],
) -> Iterator[Pace]:
    """Every request sent with `requests` meanwhile keeps to `pace` and waits out 429/503.

    `resign(prepared_request)` signs a request again before it is re-sent (its timestamp would
    age); `observe(prepared_request, response)` sees every final answer, None for none (the
    cleanup's ledger).
    """
    from requests.adapters import HTTPAdapter

    original = HTTPAdapter.send

    def send(adapter: HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
        sent = [0]

        def attempt() -> Any:
            if sent[0]:
                resign(request)
            sent[0] += 1
            return original(adapter, request, *args, **kwargs)

        try:
            response = pace.send(
                attempt,
                lambda r: (int(r.status_code), r.headers.get("Retry-After")),
                discard=lambda r: r.close(),
            )
        except Exception:
            observe(request, None)  # no answer: it may have acted
            raise
        observe(request, response)
        return response

    _ACTIVE[:] = [pace]
    HTTPAdapter.send = send  # type: ignore[method-assign,assignment]
    try:
        yield pace
    finally:
        HTTPAdapter.send = original  # type: ignore[method-assign]
        _ACTIVE.clear()
