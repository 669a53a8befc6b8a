# Generated from openapi.yaml version 2.4.0. Do not edit.
"""When CallApi and AsyncCallApi send a request again, and how long they wait first.

Not a template: `toolchain.generate` copies this file into the client package as it is. The
rules follow docs/contract.md ("Retries"): `429` and `503` say the request was not carried
out, and so does a connection that failed before the request was sent; those are retried for
every operation. `502`, `504` and a connection lost after the request was sent leave it
unknown whether the server carried the request out; no operation of the contract gives the
same answer twice (a repeat meets `409` or counts 0), so those are retried only when the
caller says the call may be repeated (`retry_lost_answers=True`).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx

#: Answers that say the request was not carried out: always safe to send again.
NOT_CARRIED_OUT = frozenset({429, 503})
#: Answers of a gateway that leave it unknown whether the request was carried out.
ANSWER_LOST = frozenset({502, 504})
#: Transport errors raised before the request reached the server.
NOT_SENT: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)

#: Transport errors that may come after the server received the request.
ANSWER_LOST_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.NetworkError,
    httpx.TimeoutException,
    httpx.RemoteProtocolError,
)


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """The wait a `Retry-After` header asks for, in seconds, or None when it asks for none
    that can be used: absent, not a number nor an HTTP date, negative, or a date not in the
    future (`now`: the time in Unix seconds, `time.time()` when not given)."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:  # `-0000`: UTC, as HTTP dates are
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    return seconds


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before sending a request again.

    Attributes:
        max_retries: the most times a request is sent again (0: never).
        max_wait: the longest wait in seconds, whatever `Retry-After` asks for.
        base_delay: the wait before the first retry when the server names none; it doubles
            with every retry, up to `max_delay`, and a random part (jitter) of up to half of
            it is taken off so that many clients do not come back at once.
        retry_lost_answers: also retry when the answer was lost (502, 504, a connection
            lost after sending): only for a call the caller knows may be repeated.
        jitter: a random number in [0, 1) (`random.random`).
        clock: the time in Unix seconds, for `Retry-After` dates (`time.time`).
    """

    max_retries: int = 2
    max_wait: float = 60.0
    base_delay: float = 0.5
    max_delay: float = 8.0
    retry_lost_answers: bool = False
    jitter: Callable[[], float] = random.random
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, not {self.max_retries}")
        if self.max_wait < 0:
            raise ValueError(f"max_wait must be 0 or more seconds, not {self.max_wait}")

    def backoff(self, retry: int) -> float:
        """The wait before retry number `retry` (1, 2, ...) when the server names none."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return min(self.max_wait, ceiling * (1 - self.jitter() / 2))

    def wait_after_answer(self, status: int, retry_after: str | None, retry: int) -> float | None:
        """Seconds to wait before retry number `retry` after an answer, or None: do not retry."""
        if retry > self.max_retries:
            return None
        if status not in NOT_CARRIED_OUT and not (
            self.retry_lost_answers and status in ANSWER_LOST
        ):
            return None
        asked = retry_after_seconds(retry_after, now=self.clock())
        return self.backoff(retry) if asked is None else min(asked, self.max_wait)

    def wait_after_error(self, error: httpx.TransportError, retry: int) -> float | None:
        """Seconds to wait before retry number `retry` after a transport error, or None."""
        if retry > self.max_retries:
            return None
        if isinstance(error, NOT_SENT) or (
            self.retry_lost_answers and isinstance(error, ANSWER_LOST_ERRORS)
        ):
            return self.backoff(retry)
        return None
