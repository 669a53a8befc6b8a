"""What the store's operations answer: small values, free of HTTP and of the wire's names.

The application turns them into the `data` of the answer, with the field names that
openapi.yaml gives the operation (see `reference_server.app`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CallStarted:
    direction: str


@dataclass(frozen=True, slots=True)
class CallEnded:
    call_duration: int
    dialog_duration: int
    result: str
    direction: str


@dataclass(frozen=True, slots=True)
class UsersChanged:
    """How many of the named users the operation changed (invited, excluded, paused...)."""

    count: int


@dataclass(frozen=True, slots=True)
class RecordingStopped:
    recording_id: str


@dataclass(frozen=True, slots=True)
class StreamStarted:
    stream_id: str


@dataclass(frozen=True, slots=True)
class Media:
    """A recording or a stream, as the server serves it back over GET."""

    id: str
    started_at: float
    stopped_at: float | None
